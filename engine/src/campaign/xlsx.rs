//! A worklist as an XLSX workbook: the same columns and rows as the CSV, a frozen header,
//! a drop-down on `decision` (approve / revoke / modify), and a protected sheet in which
//! only the three input columns (`decision`, `decided_at`, `rationale`) are unlocked.
//! The document's creation time is the review date, so reruns give the same bytes.

use rust_xlsxwriter::{
    DataValidation, DocProperties, ExcelDateTime, Format, FormatBorder, ProtectionOptions, Workbook, XlsxError,
};

use crate::decisions::{Verdict, WORKLIST_FIELDS};

use super::plan::{cells, Row};

/// Rows of the sheet that carry a drop-down and unlocked input cells (beyond the data, so a
/// reviewer may add a row they were not given).
const INPUT_ROWS_EXTRA: u32 = 50;

/// The worklist `rows` of `reviewer` as XLSX bytes, dated `as_of`. An XLSX that cannot be
/// built (never expected: every value is in range) gives an empty file.
pub fn worklist(reviewer: &str, rows: &[Row<'_>], as_of: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    build(reviewer, rows, as_of).unwrap_or_default()
}

fn build(reviewer: &str, rows: &[Row<'_>], as_of: chrono::DateTime<chrono::Utc>) -> Result<Vec<u8>, XlsxError> {
    use chrono::Datelike;
    let mut book = Workbook::new();
    let day = ExcelDateTime::from_ymd(
        u16::try_from(as_of.year()).unwrap_or(2000),
        u8::try_from(as_of.month()).unwrap_or(1),
        u8::try_from(as_of.day()).unwrap_or(1),
    )?;
    book.set_properties(
        &DocProperties::new()
            .set_title(format!("dualtrack worklist: {reviewer}"))
            .set_author("dualtrack")
            .set_creation_datetime(&day),
    );
    let header = Format::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin)
        .set_locked();
    let input = Format::new().set_unlocked().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name("worklist")?;
    let input_cols: Vec<u16> = ["decision", "decided_at", "rationale"]
        .iter()
        .filter_map(|c| WORKLIST_FIELDS.iter().position(|f| f == c))
        .filter_map(|i| u16::try_from(i).ok())
        .collect();
    for (c, name) in WORKLIST_FIELDS.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(0);
        sheet.write_string_with_format(0, c, *name, &header)?;
        let width = match *name {
            "findings" => 60.0,
            "rationale" => 40.0,
            "entitlement" | "permission" => 32.0,
            _ => 14.0,
        };
        if input_cols.contains(&c) {
            sheet.set_column_format(c, &input)?;
        }
        sheet.set_column_width(c, width)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, value) in cells(row).iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(0);
            if input_cols.contains(&c) {
                sheet.write_string_with_format(r, c, value, &input)?;
            } else if !value.is_empty() {
                sheet.write_string(r, c, value)?;
            }
        }
    }
    let last = u32::try_from(rows.len())
        .unwrap_or(u32::MAX)
        .saturating_add(INPUT_ROWS_EXTRA);
    if let Some(&decision) = input_cols.first() {
        let choices: Vec<&str> = Verdict::CHOICES.iter().map(|(n, _)| *n).collect();
        let dv = DataValidation::new()
            .allow_list_strings(&choices)?
            .set_error_title("decision")?
            .set_error_message("choose approve, revoke or modify")?;
        sheet.add_data_validation(1, decision, last, decision, &dv)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.protect_with_options(&ProtectionOptions {
        format_columns: true,
        format_rows: true,
        use_autofilter: true,
        ..ProtectionOptions::default()
    });
    book.save_to_buffer()
}
