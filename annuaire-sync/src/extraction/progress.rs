//! Import progress: a bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tracing::info;

/// How an import shows its progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when standard error is a terminal, plain lines otherwise.
    #[default]
    Auto,
    Bar,
    /// An `info` log line every few seconds.
    Lines,
    Off,
}

/// Seconds between two plain progress lines.
const LINE_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) enum Progress {
    Bar(ProgressBar),
    Lines { total: u64, last: Instant },
    Off,
}

impl Progress {
    pub fn start(mode: ProgressMode, total_bytes: u64) -> Progress {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Lines,
            other => other,
        };
        match mode {
            ProgressMode::Bar => {
                let bar = ProgressBar::new(total_bytes);
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} annuaire import [{bar:40}] {bytes}/{total_bytes} {msg} ({eta})",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                Progress::Bar(bar)
            }
            ProgressMode::Lines => Progress::Lines {
                total: total_bytes,
                last: Instant::now(),
            },
            ProgressMode::Auto | ProgressMode::Off => Progress::Off,
        }
    }

    /// `bytes` read so far, `lines` seen so far.
    pub fn update(&mut self, bytes: u64, lines: u64) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(bytes);
                bar.set_message(format!("{lines} lines"));
            }
            Progress::Lines { total, last } => {
                if last.elapsed() >= LINE_INTERVAL {
                    *last = Instant::now();
                    let percent = bytes.saturating_mul(100).checked_div(*total).unwrap_or(100);
                    info!(percent, lines, "annuaire import in progress");
                }
            }
            Progress::Off => {}
        }
    }

    pub fn finish(&self, lines: u64) {
        if let Progress::Bar(bar) = self {
            bar.finish_with_message(format!("{lines} lines read"));
        }
    }
}
