//! Filled worklists in XLSX, read with calamine: the first worksheet becomes CSV text with
//! one line per worksheet row (cell line breaks become spaces), so the decisions reader and
//! its diagnostics work unchanged and `file.xlsx:N` names worksheet row N.

use std::path::Path;
use std::sync::Arc;

use calamine::{open_workbook, Data, Reader, Xlsx};

use crate::diag::{Code, Problem};
use crate::source::Source;

/// The first worksheet of the workbook at `path` as located CSV text.
pub fn read(path: &Path) -> Result<Arc<Source>, Problem> {
    let name = path.display().to_string();
    let bad = |what: String| {
        Problem::error(Code::Syntax, Some(Source::new(name.clone(), "").whole()), what)
            .with_help("save the worklist as an Excel workbook (.xlsx), or as CSV")
    };
    let mut book: Xlsx<_> = open_workbook(path).map_err(|e| bad(format!("cannot read `{name}` as a workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad(format!("workbook `{name}` has no worksheet")))?
        .map_err(|e| bad(format!("cannot read the first worksheet of `{name}`: {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r);
    let first_col = range.start().map_or(0, |(_, c)| c);
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    for row in range.rows() {
        let mut cells: Vec<String> = (0..first_col).map(|_| String::new()).collect();
        cells.extend(row.iter().map(cell_text));
        // Writing to a `Vec` cannot fail.
        let _ = w.write_record(&cells);
    }
    let text = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    Ok(Source::window(
        &Arc::from(name.as_str()),
        text,
        first_row.saturating_add(1),
    ))
}

/// A cell as text: dates as `YYYY-MM-DD` (or RFC 3339 with a time of day), numbers as
/// written, line breaks as spaces.
fn cell_text(d: &Data) -> String {
    let s = match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => serial_date(dt.as_f64()),
        Data::Error(e) => format!("#{e:?}"),
    };
    s.replace(['\r', '\n'], " ")
}

/// An Excel serial date (days since 1899-12-30, time as the fraction) as text.
fn serial_date(serial: f64) -> String {
    let Some(base) = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return serial.to_string();
    };
    let secs = (serial * 86_400.0).round();
    if !secs.is_finite() || secs.abs() > 1e12 {
        return serial.to_string();
    }
    // Finite and bounded just above, so the cast cannot saturate.
    let t = base + chrono::Duration::seconds(secs as i64);
    if t.time() == chrono::NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}
