//! Renderers: the report as JSON (the findings contract) or as text for people. They return
//! strings; the CLI decides where they go.

mod human;
mod json;

pub use human::{human, HumanStyle};
pub use json::{Encoded, JsonFindings};

/// Writes the report as pretty-printed findings-contract JSON, with a trailing newline,
/// straight to `out` (no copy of the whole document in memory).
pub fn write_json(report: &crate::Report, out: impl std::io::Write) -> std::io::Result<()> {
    let mut findings = JsonFindings::default();
    findings.push(&report.findings)?;
    findings.finish(&report.tally(), out)
}

/// The report as pretty-printed findings-contract JSON, with a trailing newline.
pub fn json(report: &crate::Report) -> String {
    let mut out = Vec::new();
    match write_json(report, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}
