//! Filled worklists in XLSX, read with calamine: the first worksheet becomes CSV text with
//! one line per worksheet row (cell line breaks become spaces), so the decisions reader and
//! its diagnostics work unchanged and `file.xlsx:N` names worksheet row N.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use crate::diag::{Code, Problem};
use crate::source::Source;

/// The first worksheet of the workbook at `path` as located CSV text.
pub fn read(path: &Path) -> Result<Arc<Source>, Problem> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| crate::text::io_problem(&name, &e, "--decisions"))?;
    from_bytes(&name, bytes)
}

/// The first worksheet of the workbook `bytes`, read from the file `name`, as located CSV
/// text.
pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Arc<Source>, Problem> {
    let bad = |what: String| {
        Problem::error(Code::Syntax, Some(Source::new(name, "").whole()), what)
            .with_label("not a readable workbook")
            .with_help("save the worklist as an Excel workbook (.xlsx), or as CSV UTF-8")
    };
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| bad(format!("cannot read `{name}` as an XLSX workbook: {}", lower(&e))))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad(format!("workbook `{name}` has no worksheet")))?
        .map_err(|e| bad(format!("cannot read the first worksheet of `{name}`: {}", lower(&e))))?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    for row in range.rows() {
        let mut cells: Vec<String> = (0..first_col).map(|_| String::new()).collect();
        cells.extend(row.iter().map(cell_text));
        // Writing to a `Vec` cannot fail.
        let _ = w.write_record(&cells);
    }
    let text = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    Ok(Source::window(&Arc::from(name), text, first_row.saturating_add(1)))
}

fn lower(e: &impl std::fmt::Display) -> String {
    e.to_string().to_lowercase()
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
    // Finite, whole and within ±1e12 just above, so the cast is exact.
    let secs = secs as i64;
    let t = base + chrono::Duration::seconds(secs);
    if t.time() == chrono::NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::serial_date;

    #[test]
    fn excel_serial_dates_read_as_days_or_timestamps() {
        assert_eq!(serial_date(46_300.0), "2026-10-05");
        assert_eq!(serial_date(46_300.375), "2026-10-05T09:00:00Z");
    }
}
