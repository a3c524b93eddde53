//! An inventory in YAML: one file, or (input cut on 0x1e) a directory of three YAML files,
//! through `inventory::load` + held evaluation and `inventory::index` + the streamed check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_inventory(&dualtrack_fuzz::inventory_path(data, "yaml"));
});
