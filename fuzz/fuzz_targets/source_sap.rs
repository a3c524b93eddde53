//! An SAP extract: USR02, AGR_USERS, AGR_1251 and AGR_AGRS cut at 0x1e, as CSV or SE16N
//! text, in a directory a `sap` source names; what `check` does with it, and the SAP
//! ruleset evaluation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    dualtrack_fuzz::check_sap(data);
});
