//! A progress bar by bytes read, for long runs on a terminal only.
//!
//! The bar appears once a run has taken more than about a second (short runs stay silent), and
//! never when standard error is not a terminal (pipes, files, CI logs), so output captured from
//! a command is the same however long it took.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

/// How long a run goes before its bar is shown.
const DELAY: Duration = Duration::from_secs(1);

/// A reader that counts the bytes read through it and shows them as a bar on standard error.
pub struct ProgressReader<R> {
    inner: R,
    read: u64,
    started: Instant,
    /// Drawn once the run is long enough; `None` when standard error is not a terminal.
    bar: Option<ProgressBar>,
    shown: bool,
}

impl<R: Read> ProgressReader<R> {
    /// Wraps `inner`; `total` is its length in bytes when known; `label` names the work.
    pub fn new(inner: R, total: Option<u64>, label: impl Into<String>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            // Hidden at first but kept up to date, so its rate and time left are right when
            // it appears.
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
            let template = if total.is_some() {
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}"
            } else {
                "{msg} {spinner} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.into());
            bar
        });
        Self {
            inner,
            read: 0,
            started: Instant::now(),
            bar,
            shown: false,
        }
    }

    /// Never shows a bar (for tests and library use).
    pub fn quiet(mut self) -> Self {
        self.bar = None;
        self
    }

    /// Removes the bar, if shown, so that messages written next start on a clean line.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(bar) = &self.bar {
            bar.set_position(self.read);
            if !self.shown && self.started.elapsed() >= DELAY {
                self.shown = true;
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
        Ok(n)
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A progress bar over a count of items (quote lines), with the same rules: only on a terminal,
/// only once the run has taken about a second.
pub struct Counter {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: bool,
}

impl Counter {
    /// A counter of `total` items; `label` names the work. Quiet unless `enabled` and standard
    /// error is a terminal.
    pub fn new(total: u64, label: impl Into<String>, enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            if let Ok(style) =
                ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} {per_sec} {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.into());
            bar
        });
        Counter {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Counts one more item done.
    pub fn inc(&mut self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if !self.shown && self.started.elapsed() >= DELAY {
                self.shown = true;
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }
}

impl crate::engine::pricing::Progress for Counter {
    fn advance(&mut self) {
        self.inc();
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
