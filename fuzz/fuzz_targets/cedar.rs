//! A `.cedar` file with annotations in a pack beside the built-in catalogs: Cedar parsing,
//! annotations, Strict validation, `compile`/`explain` text, and `lint`'s checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_pack(&dualtrack_fuzz::pack_with("custom.cedar", data));
});
