//! An inventory directory in CSV. Input cut on 0x1e into `systems.csv`, `identities.csv`
//! and `entitlements.csv`; without two separators the input is `entitlements.csv` beside
//! the valid systems and identities of `tests/fixtures/good/csv-dir`.
#![no_main]

use dualtrack_fuzz::{check_inventory, dir, split3, write};

const SYSTEMS: &[u8] = include_bytes!("../../tests/fixtures/good/csv-dir/systems.csv");
const IDENTITIES: &[u8] = include_bytes!("../../tests/fixtures/good/csv-dir/identities.csv");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let d = dir("inventory-csv");
    let [systems, identities, entitlements] = split3(data).unwrap_or([SYSTEMS, IDENTITIES, data]);
    write(&d, "systems.csv", systems);
    write(&d, "identities.csv", identities);
    write(&d, "entitlements.csv", entitlements);
    check_inventory(&d);
});
