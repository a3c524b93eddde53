//! A policy test file (`*.test.yaml`) against the built-in pack: loading and running its
//! cases (what `dualtrack test` does).
#![no_main]

use dualtrack_engine::{policy, policytest};
use dualtrack_fuzz::{ctx, dir, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let d = dir("policytest");
    write(&d, "case.test.yaml", data);
    let Ok(files) = policy::dir_test_files(&d) else { return };
    if let Ok(suite) = policytest::load(files, &c.pack) {
        if let Ok(outcome) = policytest::run(&suite, &c.pack, &c.model, None) {
            let _ = outcome.to_json();
        }
        let _ = policytest::untested_rules(&suite, &c.pack);
    }
});
