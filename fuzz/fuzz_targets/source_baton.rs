//! The JSON the baton CLI prints. Written as `export.json` beside a sources file
//! naming it; what `check` and `lint` do with that sources file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_source("baton", "json", "", data);
});
