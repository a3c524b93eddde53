//! A YAML rule file (or SoD matrix) in a pack beside the built-in catalogs: loading and
//! compiling to Cedar, Strict validation, `compile`/`explain` text, and `lint`'s checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_pack(&dualtrack_fuzz::pack_with("rules.yaml", data));
});
