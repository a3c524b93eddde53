//! Renderers: the report as JSON (the findings contract) or as text for people. They return
//! strings; the CLI decides where they go.

mod human;

pub use human::{human, HumanStyle};

/// Writes the report as pretty-printed findings-contract JSON, with a trailing newline,
/// straight to `out` (no copy of the whole document in memory).
pub fn write_json(report: &crate::Report, mut out: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")
}

/// The report as pretty-printed findings-contract JSON, with a trailing newline.
pub fn json(report: &crate::Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
