//! An HR feed as an XLSX workbook: the zip, its parts' inflated size bound, calamine, then the CSV reader. Written as `export.xlsx` beside a sources file
//! naming it; what `check` and `lint` do with that sources file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_source("hr-csv", "xlsx", "    date_format: '%m/%d/%Y'\n", data);
});
