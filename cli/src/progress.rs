//! Progress of a long run on stderr: a bar on a terminal once the run has taken more than
//! a second, nothing in pipes or CI logs unless `--progress` asks for it (then a line
//! every few seconds where there is no terminal).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before a terminal shows its progress.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Between two lines of progress where stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Identities evaluated out of a total.
pub struct Progress {
    total: u64,
    done: u64,
    start: Instant,
    mode: Mode,
}

enum Mode {
    Off,
    /// A bar, drawn once the run is slow enough (or at once when asked for).
    Terminal {
        bar: Option<ProgressBar>,
        at_once: bool,
    },
    /// Lines, when asked for without a terminal.
    Lines {
        last: Instant,
    },
}

impl Progress {
    /// Progress over `total` identities; `asked` is `--progress`.
    pub fn new(total: usize, asked: bool) -> Self {
        let mode = if std::io::stderr().is_terminal() {
            Mode::Terminal {
                bar: None,
                at_once: asked,
            }
        } else if asked {
            Mode::Lines { last: Instant::now() }
        } else {
            Mode::Off
        };
        Self {
            total: total as u64,
            done: 0,
            start: Instant::now(),
            mode,
        }
    }

    /// Counts `n` more identities evaluated.
    pub fn add(&mut self, n: usize) {
        self.done = (self.done + n as u64).min(self.total);
        let (done, total, elapsed) = (self.done, self.total, self.start.elapsed());
        match &mut self.mode {
            Mode::Off => {}
            Mode::Terminal { bar, at_once } => match bar {
                Some(bar) => bar.set_position(done),
                None if *at_once || elapsed >= QUIET_FOR => {
                    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                    b.set_style(
                        ProgressStyle::with_template(
                            "{wide_bar} {human_pos}/{human_len} identities evaluated ({per_sec}, ETA {eta})",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    b.set_position(done);
                    *bar = Some(b);
                }
                None => {}
            },
            Mode::Lines { last } => {
                if last.elapsed() >= LINE_EVERY || done == total {
                    *last = Instant::now();
                    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
                    eprintln!("dualtrack: {done} of {total} identities evaluated ({rate:.0}/s)");
                }
            }
        }
    }

    /// Removes the bar (before the report or diagnostics are printed).
    pub fn finish(&mut self) {
        if let Mode::Terminal { bar: Some(bar), .. } = &self.mode {
            bar.finish_and_clear();
        }
    }
}
