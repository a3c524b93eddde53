//! CSV for spreadsheets and ticket imports: a header row, then one row per finding in the
//! report's order. List cells are `;`-joined, as in inventory CSV files.
//!
//! Formula guard: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some
//! treat a leading tab or carriage return the same way) as a formula, and inventory values
//! flow into identity, entitlement and message cells. Such a cell is written with a leading
//! `'`, which spreadsheets show as text; the rest of the cell is unchanged. Every text
//! cell is also quoted, so a spreadsheet that splits on `;` (some locales do) cannot cut a
//! `;`-joined list into cells that start with a formula character.

use super::spool::Spool;
use crate::escape::guard_formula;
use crate::finding::{Finding, Report};

/// The header row.
pub const CSV_HEADER: [&str; 13] = [
    "id",
    "rule",
    "track",
    "category",
    "severity",
    "status",
    "identity",
    "entitlements",
    "controls",
    "message",
    "remediation",
    "file",
    "line",
];

fn row(f: &Finding) -> [String; 13] {
    let text = |s: &str| guard_formula(s).into_owned();
    [
        text(&f.id),
        text(&f.rule),
        f.track.as_str().to_owned(),
        f.category.as_str().to_owned(),
        f.severity.as_str().to_owned(),
        f.status.as_str().to_owned(),
        text(&f.identity),
        text(&f.entitlements.join(";")),
        text(&f.controls.join(";")),
        text(&f.message),
        text(&f.remediation),
        text(&f.file),
        f.line.to_string(),
    ]
}

fn writer<W: std::io::Write>(out: W) -> ::csv::Writer<W> {
    ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(out)
}

/// Writes the report as CSV (`\n` line ends, text cells quoted) to `out`.
pub fn write_csv(report: &Report, out: impl std::io::Write) -> std::io::Result<()> {
    let mut rows = CsvFindings::default();
    rows.push_encoded(CsvFindings::encode(&report.findings)?)?;
    rows.finish(out)
}

/// CSV rows written as a run goes (spooled, like [`super::JsonFindings`], and copied out
/// after the header once the run has succeeded), so a large run's findings are never all
/// in memory.
#[derive(Default)]
pub struct CsvFindings {
    rows: Spool,
}

impl CsvFindings {
    /// The rows of `findings`; safe to call from many threads at once.
    pub fn encode(findings: &[Finding]) -> std::io::Result<Vec<u8>> {
        let mut w = writer(Vec::with_capacity(findings.len() * 400));
        for f in findings {
            w.write_record(row(f)).map_err(io_error)?;
        }
        w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Appends rows made by [`CsvFindings::encode`] (in report order).
    pub fn push_encoded(&mut self, rows: Vec<u8>) -> std::io::Result<()> {
        self.rows.write(&rows)
    }

    /// Writes the header and every row to `out`.
    pub fn finish(self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let mut w = writer(&mut out);
        w.write_record(CSV_HEADER).map_err(io_error)?;
        w.flush()?;
        drop(w);
        self.rows.copy_to(&mut out)?;
        out.flush()
    }
}

/// The underlying I/O error (so the CLI can tell a closed pipe), or the CSV error wrapped.
fn io_error(e: ::csv::Error) -> std::io::Error {
    let text = e.to_string();
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        _ => std::io::Error::other(text),
    }
}

/// The report as CSV text.
pub fn csv(report: &Report) -> String {
    let mut buf = Vec::new();
    // Writing to a `Vec` cannot fail.
    let _ = write_csv(report, &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
