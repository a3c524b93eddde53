//! A filled worklist as an XLSX workbook, read as decisions with the Acme campaign's SLAs
//! (the inflated-size bound, calamine, then the decisions reader).
#![no_main]

use dualtrack_engine::decisions;
use dualtrack_fuzz::{ctx, dir, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let path = write(&dir("decisions-xlsx"), "worklist.xlsx", data);
    if let Ok(d) = decisions::load(&path, Some(&c.acme_campaign)) {
        let ents: Vec<_> = c.acme.entitlements.iter().collect();
        let _ = d.findings(c.opts.as_of, &c.opts.tracks, &ents);
    }
});
