//! A decisions CSV read with the Acme campaign's SLAs, then checked against the Acme
//! entitlements (what `check --campaign --decisions` does).
#![no_main]

use dualtrack_engine::decisions;
use dualtrack_fuzz::{ctx, dir, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let path = write(&dir("decisions"), "decisions.csv", data);
    if let Ok(d) = decisions::load(&path, Some(&c.acme_campaign)) {
        let ents: Vec<_> = c.acme.entitlements.iter().collect();
        let _ = d.findings(c.opts.as_of, &c.opts.tracks, &ents);
    }
});
