//! An HR feed as CSV (any dialect: the delimiter is detected), with local date formats. Written as `export.csv` beside a sources file
//! naming it; what `check` and `lint` do with that sources file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_source("hr-csv", "csv", "    date_format: ['%m/%d/%Y', '%d.%m.%Y']\n    columns: {id: id, manager: manager, status: status}\n", data);
});
