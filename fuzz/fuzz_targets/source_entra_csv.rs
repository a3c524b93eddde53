//! Entra users as CSV: Download users, or Export-Csv with its #TYPE line. Written as `export.csv` beside a sources file
//! naming it; what `check` and `lint` do with that sources file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_source("entra", "csv", "    date_format: '%m/%d/%Y %I:%M:%S %p'\n", data);
});
