//! Progress bars on stderr with rate and ETA, drawn only on a terminal
//! (and not with `--no-progress`): pipes and logs get none.

use crate::output::Out;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// A bar, or nothing when progress is not shown.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(out: &Out, hidden: bool, total: Option<u64>, template: &str, label: &str) -> Progress {
        if hidden || !out.progress {
            return Progress { bar: None };
        }
        let bar = match total {
            Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// Bytes of a transfer: done/total, rate, ETA.
    pub fn bytes(out: &Out, hidden: bool, total: u64, label: &str) -> Progress {
        Progress::new(
            out,
            hidden,
            Some(total),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            label,
        )
    }

    /// A count of items (objects imported, runs' steps) with a rate.
    pub fn items(out: &Out, hidden: bool, total: Option<u64>, label: &str) -> Progress {
        let template = if total.is_some() {
            "{msg} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}"
        } else {
            "{spinner} {msg} {pos} {per_sec} {elapsed}"
        };
        Progress::new(out, hidden, total, template, label)
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn set_position(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(n);
        }
    }

    pub fn set_length(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(n);
        }
    }

    pub fn set_message(&self, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
