//! Workbooks read as tables (filled worklists, HR reports from Workday, BambooHR or
//! SuccessFactors), with calamine: a worksheet becomes CSV text with one line per worksheet
//! row (cell line breaks become spaces; Excel serial dates become ISO dates), so the CSV
//! readers and their diagnostics work unchanged and `file.xlsx:N` names worksheet row N.
//! Before calamine sees it, the workbook's parts are inflated once with a bound
//! ([`MAX_INFLATED_BYTES`]), so a small file that inflates to gigabytes is refused at once.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use crate::diag::{Code, Problem};
use crate::source::Source;

/// Most bytes the parts of a workbook may inflate to, all together (256 MiB: an HR report
/// of about 100,000 people and 40 columns). Past it the workbook is DT112.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;

/// A worksheet of the workbook at `path` (`sheet` by name, else the first) as located CSV
/// text; `flag` names the option that gave the path, for the advice when it cannot be read.
pub fn read(path: &Path, flag: &str, sheet: Option<&str>) -> Result<Arc<Source>, Problem> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| crate::text::io_problem(&name, &e, flag))?;
    from_bytes(&name, bytes, sheet)
}

/// A worksheet (`sheet` by name, else the first) of the workbook `bytes`, read from the
/// file `name`, as located CSV text.
pub fn from_bytes(name: &str, bytes: Vec<u8>, sheet: Option<&str>) -> Result<Arc<Source>, Problem> {
    let bad = |what: String| {
        Problem::error(Code::Syntax, Some(Source::new(name, "").whole()), what)
            .with_label("not a readable workbook")
            .with_help("save it as an Excel workbook (.xlsx), or as CSV UTF-8")
    };
    inflated_within_bound(name, &bytes)?;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| bad(format!("cannot read `{name}` as an XLSX workbook: {}", lower(&e))))?;
    let range = match sheet {
        None => book
            .worksheet_range_at(0)
            .ok_or_else(|| bad(format!("workbook `{name}` has no worksheet")))?,
        Some(wanted) => {
            let names = book.sheet_names();
            let Some(found) = names.iter().find(|n| n.eq_ignore_ascii_case(wanted)).cloned() else {
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                return Err(bad(format!("workbook `{name}` has no worksheet `{wanted}`"))
                    .with_help(crate::diag::suggest(wanted, &known)));
            };
            book.worksheet_range(&found)
        }
    }
    .map_err(|e| bad(format!("cannot read a worksheet of `{name}`: {}", lower(&e))))?;
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

/// Inflates every part of the workbook, counting: past [`MAX_INFLATED_BYTES`] in all (a
/// "zip bomb"), or past what a part says it holds, the workbook is refused before anything
/// is parsed. A file that is not a zip archive is left to calamine, which says so.
fn inflated_within_bound(name: &str, bytes: &[u8]) -> Result<(), Problem> {
    use std::io::Read as _;
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let too_large = |part: &str| {
        Problem::error(
            Code::Limit,
            Some(Source::new(name, "").whole()),
            format!(
                "workbook `{name}` inflates past {} MiB (at its part `{part}`)",
                MAX_INFLATED_BYTES >> 20
            ),
        )
        .with_label("too large once inflated")
        .with_help("an export this large is not an HR report or a worklist; check the file, or export it as CSV")
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(mut part) = zip.by_index(i) else {
            continue;
        };
        let part_name = part.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("#{i}"));
        if part.size() > MAX_INFLATED_BYTES.saturating_sub(total) {
            return Err(too_large(&part_name));
        }
        let left = MAX_INFLATED_BYTES - total;
        let n = std::io::copy(&mut (&mut part).take(left + 1), &mut std::io::sink()).unwrap_or(0);
        total += n;
        if total > MAX_INFLATED_BYTES {
            return Err(too_large(&part_name));
        }
    }
    Ok(())
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
