//! A campaign file: loading, the campaign checks against `examples/acme`, and reading the
//! Acme decisions with its SLAs.
#![no_main]

use dualtrack_engine::{campaign, decisions, Problems};
use dualtrack_fuzz::{ctx, dir, root, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let path = write(&dir("campaign"), "campaign.yaml", data);
    if let Ok(plan) = campaign::load(&path) {
        let mut sink = Problems::default();
        campaign::lint::check(&plan, &c.acme, &mut sink);
        let _ = decisions::load(&root().join("tests/fixtures/decisions/acme.csv"), Some(&plan));
    }
});
