//! A worklist as an XLSX workbook: the same columns and rows as the CSV, a frozen header,
//! a drop-down on `decision` (approve / revoke / modify), and a protected sheet in which
//! every column is locked but the three input columns (`decision`, `decided_at`,
//! `rationale`). The document's creation time is the review date, so reruns give the
//! same bytes.

use chrono::{DateTime, Datelike, Utc};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DocProperties, ExcelDateTime, Format, FormatBorder, ProtectionOptions,
    Workbook, XlsxError,
};

use crate::worklist::{Row, Verdict, INPUT_COLUMNS};

/// The name of the worksheet.
pub const SHEET: &str = "worklist";

/// Rows below the data that keep the drop-down and unlocked input cells, so a reviewer may
/// add a row they were not given (it is checked like any other decision).
const INPUT_ROWS_EXTRA: u32 = 50;

/// The worklist `rows` of `reviewer` as XLSX bytes with `columns` (those of
/// [`crate::worklist`]), dated `as_of`.
pub fn worklist(reviewer: &str, columns: &[&str], rows: &[Row], as_of: DateTime<Utc>) -> Result<Vec<u8>, XlsxError> {
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
    let header = Format::new().set_bold().set_border_bottom(FormatBorder::Thin);
    let input = Format::new().set_unlocked().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    let is_input = |name: &str| INPUT_COLUMNS.contains(&name);
    for (c, name) in (0u16..).zip(columns.iter()) {
        sheet.write_string_with_format(0, c, *name, &header)?;
        let width = match *name {
            "findings" => 60.0,
            "rationale" => 40.0,
            "entitlement" | "permission" => 32.0,
            _ => 14.0,
        };
        sheet.set_column_width(c, width)?;
        if is_input(name) {
            sheet.set_column_format(c, &input)?;
        }
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, name) in (0u16..).zip(columns.iter()) {
            let value = row.cell(name);
            if is_input(name) {
                sheet.write_string_with_format(r, c, value, &input)?;
            } else if !value.is_empty() {
                sheet.write_string(r, c, value)?;
            }
        }
    }
    let last = u32::try_from(rows.len())
        .unwrap_or(u32::MAX)
        .saturating_add(INPUT_ROWS_EXTRA);
    if let Some(decision) = (0u16..).zip(columns.iter()).find(|(_, f)| **f == "decision") {
        let choices: Vec<&str> = Verdict::CHOICES.iter().map(|(n, _)| *n).collect();
        let dv = DataValidation::new()
            .allow_list_strings(&choices)?
            .set_error_style(DataValidationErrorStyle::Stop)
            .set_error_title("decision")?
            .set_error_message("choose approve, revoke or modify")?;
        sheet.add_data_validation(1, decision.0, last, decision.0, &dv)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_col = u16::try_from(columns.len().saturating_sub(1)).unwrap_or(0);
    if !rows.is_empty() {
        sheet.autofilter(0, 0, u32::try_from(rows.len()).unwrap_or(u32::MAX), last_col)?;
    }
    sheet.protect_with_options(&ProtectionOptions {
        format_columns: true,
        format_rows: true,
        use_autofilter: true,
        ..ProtectionOptions::default()
    });
    book.save_to_buffer()
}
