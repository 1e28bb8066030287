//! The progress bar `poll` and `reextract` draw on a terminal, and the one
//! way to write to stderr while it is drawn: above it.
//!
//! A log line written straight to stderr lands in the middle of the bar's
//! line (the bar has no line break), and the bar's next draw overwrites it.
//! So while a bar is shown, every log line goes through indicatif's
//! `suspend`, which clears the bar, writes the line and draws the bar again
//! below it.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use indicatif::ProgressBar;

/// The bar on screen, if any: log lines are written above it.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A progress bar of `len` things (`what`: "feeds", "pages") on a
/// terminal; `None` when stderr is not one. Log lines go above it until
/// [`done`].
pub(super) fn progress_bar(len: usize, what: &str) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what}  {{wide_msg}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    if let Ok(mut shown) = SHOWN.lock() {
        *shown = Some(bar.clone());
    }
    Some(bar)
}

/// Clears `bar` from the screen; log lines go straight to stderr again.
pub(super) fn done(bar: Option<ProgressBar>) {
    if let Ok(mut shown) = SHOWN.lock() {
        *shown = None;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// stderr for the log: above the progress bar while one is shown.
pub(super) struct AboveBar;

impl Write for AboveBar {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// The log writes each event whole, in one call: one suspension per line.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let bar = SHOWN.lock().ok().and_then(|shown| shown.clone());
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().write_all(buf)),
            None => io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
