//! The HAR path: entries → messages.

use crate::Analyzer;
use phonehome_ingest::{read_har_from, HarEvent};
use phonehome_report::Report;
use std::io::Read;
use std::sync::Arc;

/// Streams a HAR file's entries into the analyzer; returns the number of entries, or the reason the
/// file could not be read at all.
pub(crate) fn analyze_har(
    an: &mut Analyzer,
    reader: &mut dyn Read,
    name: Arc<str>,
    report: &mut dyn Report,
) -> Result<u64, String> {
    let max_body = an.limits().max_body;
    let stats = read_har_from(reader, name.clone(), &mut |event| match event {
        HarEvent::Entry(entry) => {
            for msg in phonehome_message::from_har_entry(name.clone(), entry, max_body) {
                an.message(&msg, report);
            }
        }
        HarEvent::Warning(w) => an.warn(&w, report),
    })
    .map_err(|e| e.to_string())?;
    Ok(stats.entries)
}
