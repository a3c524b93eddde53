//! The fast evaluation path (prefiltered, parallel, lazily built entities) gives exactly
//! the findings of the plain path (every request through the whole policy set with
//! `Authorizer::is_authorized`, schema-checked entities) on generated inventories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code")]

use chrono::{TimeZone, Utc};
use dualtrack_engine::eval::{self, plain};
use dualtrack_engine::{inventory, policy, Model, Options, Track};

#[test]
fn fast_path_matches_plain_authorizer_on_generated_data() {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (seed, n) in [(1u64, 6_000usize), (7, 4_000), (42, 3_000)] {
        let path = dir.path().join(format!("inv-{seed}.json"));
        dualtrack_bench::generate::write(&path, n, seed).unwrap();
        let (inv, _) = inventory::load(&path).unwrap_or_else(|_| panic!("generated inventory {seed} loads"));
        for tracks in [Track::ALL.to_vec(), vec![Track::Sox]] {
            let opts = Options {
                as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
                tracks,
            };
            let fast = eval::evaluate(&inv, &pack, &model, &opts).unwrap();
            let slow = plain::evaluate(&inv, &pack, &model, &opts).unwrap();
            assert!(!slow.findings.is_empty());
            assert_eq!(fast.evaluated, slow.evaluated);
            assert_eq!(fast.findings.len(), slow.findings.len(), "seed {seed}");
            for (a, b) in fast.findings.iter().zip(&slow.findings) {
                assert_eq!(a, b, "seed {seed}");
            }
        }
    }
}
