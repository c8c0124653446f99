//! The progress bar on standard error for long runs: bytes read of the inputs' total, messages,
//! occurrences found and the rate. Drawn from a thread that reads the analysis's counters, so the
//! analysis itself never waits for the terminal.

use phonehome::Progress;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A running progress display; [`ProgressBar::stop`] clears it.
pub struct ProgressBar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ProgressBar {
    /// Starts drawing `progress` against `total_bytes` (the inputs' sizes on disk).
    pub fn start(progress: Arc<Progress>, total_bytes: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("progress".to_owned())
            .spawn(move || draw(&progress, total_bytes, &stopping))
            .ok();
        Self { stop, thread }
    }

    /// Stops and clears the bar.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn draw(progress: &Progress, total_bytes: u64, stop: &AtomicBool) {
    let bar = indicatif::ProgressBar::new(total_bytes);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    while !stop.load(Ordering::Relaxed) {
        bar.set_position(progress.bytes.load(Ordering::Relaxed).min(total_bytes));
        bar.set_message(format!(
            "{} messages, {} found",
            progress.messages.load(Ordering::Relaxed),
            progress.occurrences.load(Ordering::Relaxed)
        ));
        std::thread::sleep(Duration::from_millis(120));
    }
    bar.finish_and_clear();
}
