//! Renderers: the report as JSON (the findings contract), text for people, SARIF, JUnit
//! XML, CSV or Markdown. They return strings or write to a writer; the CLI decides where
//! the output goes.

mod csv;
mod html;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;
mod spool;

pub use self::csv::{csv, write_csv, CsvFindings, CSV_HEADER};
pub use html::{html, CoverageRow, ExceptionRow, HtmlExtras, PopulationRow};
pub use human::{human, HumanStyle};
pub use json::{Encoded, JsonFindings};
pub use junit::junit;
pub use markdown::{fit as fit_markdown, markdown, MarkdownSummary, MARKDOWN_EXAMPLES, MARKDOWN_MAX_CHARS};
pub use sarif::{
    sarif, sarif_json, write_sarif, SarifFindings, FINGERPRINT_KEY, SARIF_MAX_GZIP, SARIF_MAX_RESULTS, SARIF_SCHEMA,
    SRCROOT,
};

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

/// The findings document `check --format json` prints for `idx` (no exceptions or
/// decisions), as one string: streamed evaluation written through [`JsonFindings`]. For
/// tests, fuzzing and tools that compare runs.
pub fn json_report(
    idx: &crate::inventory::Indexed,
    pack: &crate::Pack,
    model: &crate::Model,
    opts: &crate::Options,
) -> Result<String, crate::Problems> {
    let mut json = JsonFindings::default();
    let (tally, _) = crate::eval::stream::evaluate_streamed(
        idx,
        pack,
        model,
        opts,
        |f| JsonFindings::encode(&f),
        |e| json.push_encoded(&e),
    )?;
    let mut out = Vec::new();
    let written = json
        .finish(&tally, &mut out)
        .map(|()| String::from_utf8_lossy(&out).into_owned());
    written.map_err(|e| {
        crate::Problems(vec![crate::Problem::error(
            crate::Code::Io,
            None,
            format!("cannot write the findings: {}", e.to_string().to_lowercase()),
        )])
    })
}
