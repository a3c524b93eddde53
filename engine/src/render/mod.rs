//! Renderers: the report as JSON (the findings contract) or as text for people. They return
//! strings; the CLI decides where they go.

mod human;

pub use human::{human, HumanStyle};

/// The report as pretty-printed findings-contract JSON, with a trailing newline.
pub fn json(report: &crate::Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
