//! One input file: sniffing, hashing, and dispatch to the capture or HAR path.

use crate::{capture, har, Analyzer};
use phonehome_ingest::{sniff_file, Format};
use phonehome_model::{InputSummary, Warning, WarningCode};
use phonehome_report::Report;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// A reader that hashes (SHA-256) and counts every byte read through it, so an input's digest
/// costs no second pass over the file.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    progress: Option<Arc<crate::Progress>>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            progress: None,
        }
    }

    /// The same, adding every byte read to `progress`.
    pub(crate) fn with_progress(mut self, progress: Option<Arc<crate::Progress>>) -> Self {
        self.progress = progress;
        self
    }

    /// Reads whatever the parser left unread (so the digest covers the whole file) and returns the
    /// digest in lower-case hex and the byte count.
    pub(crate) fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((hex::encode(self.hasher.finalize()), self.bytes))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(data) = buf.get(..n) {
            self.hasher.update(data);
        }
        self.bytes += n as u64;
        if let Some(p) = &self.progress {
            p.bytes
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Analyses one file; see [`Analyzer::analyze_file`].
pub(crate) fn analyze_input(
    an: &mut Analyzer,
    path: &Path,
    name: Arc<str>,
    report: &mut dyn Report,
) -> InputSummary {
    let mut summary = InputSummary {
        file: name.to_string(),
        ..InputSummary::default()
    };
    let fail =
        |an: &mut Analyzer, report: &mut dyn Report, mut summary: InputSummary, reason: String| {
            let mut w = Warning::new(WarningCode::Malformed, name.clone(), reason.clone());
            w.offset = None;
            an.warn(&w, report);
            summary.error = Some(reason);
            summary
        };
    let sniffed = match sniff_file(path) {
        Ok(s) => s,
        Err(e) => return fail(an, report, summary, e.to_string()),
    };
    summary.gzip = sniffed.gzip;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(an, report, summary, format!("cannot open: {e}")),
    };
    let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, file))
        .with_progress(an.options.progress.clone());
    let result = match sniffed.format {
        Format::Har => {
            summary.format = Some("har".to_owned());
            har::analyze_har(an, &mut reader, name.clone(), report).map(|n| summary.records = n)
        }
        Format::Pcap | Format::Pcapng => {
            summary.format = Some(
                if sniffed.format == Format::Pcap {
                    "pcap"
                } else {
                    "pcapng"
                }
                .to_owned(),
            );
            capture::analyze_capture(an, &mut reader, name.clone(), report)
                .map(|n| summary.records = n)
        }
    };
    match reader.finish() {
        Ok((digest, bytes)) => {
            summary.sha256 = Some(digest);
            summary.bytes = bytes;
        }
        Err(e) => {
            let w = Warning::new(
                WarningCode::Truncated,
                name.clone(),
                format!("read error: {e}"),
            );
            an.warn(&w, report);
        }
    }
    if let Err(reason) = result {
        return fail(an, report, summary, reason);
    }
    summary
}
