//! Argument types and parsers that several subcommands share (`--as-of`, `--track`,
//! `--fail-on`), so that no command borrows them from another.

use chrono::{DateTime, Utc};
use clap::ValueEnum;
use dualtrack_engine::{Severity, Track};

/// Parses `--as-of`.
pub fn parse_as_of(s: &str) -> Result<DateTime<Utc>, String> {
    dualtrack_engine::node::parse_date(s)
        .ok_or_else(|| format!("`{s}` is not a date: write YYYY-MM-DD or an RFC 3339 timestamp"))
}

/// Which tracks to evaluate.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TrackArg {
    /// SOC 2 only.
    Soc,
    /// SOX only.
    Sox,
    /// Both.
    Both,
}

/// Lowest severity that fails the run.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Any open finding.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
    /// Never fail on findings (invalid input still exits 3).
    Never,
}

impl TrackArg {
    /// The tracks chosen.
    pub fn tracks(self) -> Vec<Track> {
        match self {
            TrackArg::Soc => vec![Track::Soc],
            TrackArg::Sox => vec![Track::Sox],
            TrackArg::Both => Track::ALL.to_vec(),
        }
    }
}

impl FailOn {
    /// The lowest failing severity; `None` for `never`.
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}
