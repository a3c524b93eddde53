//! An exceptions file: loading, the checks against the built-in pack and `examples/acme`,
//! and applying it to the Acme findings (what `check --exceptions` and `evidence` do).
#![no_main]

use dualtrack_engine::exceptions;
use dualtrack_fuzz::{ctx, dir, write};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let c = ctx();
    let path = write(&dir("exceptions"), "exceptions.yaml", data);
    if let Ok(x) = exceptions::load(&path) {
        let _ = x.check(&c.pack, |id| c.acme.identity(id).is_some());
        let _ = x.approval_problems(&c.acme);
        let mut report = c.acme_report.clone();
        x.apply_report(&mut report, &c.acme);
        let _ = dualtrack_engine::render::json(&report);
    }
});
