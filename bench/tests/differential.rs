//! The fast evaluation path (prefiltered, parallel, lazily built entities) gives exactly
//! the findings of the plain path (every request through the whole policy set with
//! `Authorizer::is_authorized`, schema-checked entities) on generated inventories.

use chrono::{TimeZone, Utc};
use dualtrack_engine::eval::{self, plain};
use dualtrack_engine::{open, policy, Model, Options, Track};

#[test]
fn fast_path_matches_plain_authorizer_on_generated_data() {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (seed, n) in [(1u64, 6_000usize), (7, 4_000), (42, 3_000)] {
        let path = dir.path().join(format!("inv-{seed}.json"));
        dualtrack_bench::generate::write(&path, n, seed).unwrap();
        let (inv, _) = open::load(&path).unwrap_or_else(|_| panic!("generated inventory {seed} loads"));
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

/// Rules beside the built-in pack that the memo must leave to Cedar (an entity literal, the
/// principal compared as a whole) or may remember only through a system it reaches.
const EXTRA: &str = r#"
@id("T-LITERAL") @track("soc") @category("excessive") @severity("low") @controls("CC6.3")
@title("literal") @remediation("none")
forbid (principal, action == Dualtrack::Action::"entitlement", resource)
when { resource.system == Dualtrack::System::"sys003" && resource.privileged };

@id("T-SELF") @track("sox") @category("excessive") @severity("low") @controls("CC6.3")
@title("self") @remediation("none")
forbid (principal, action == Dualtrack::Action::"identity", resource)
when { principal == resource && principal.entitlement_count > 3 };

@id("T-THROUGH-SYSTEM") @track("sox") @category("stale") @severity("low") @controls("CC6.3")
@title("through the system") @remediation("none")
forbid (principal, action == Dualtrack::Action::"entitlement", resource)
when { resource has days_idle && resource.days_idle > 60 && resource.system.sox_in_scope };
"#;

fn pack_with(extra: &str, model: &Model) -> policy::Pack {
    let mut files = policy::builtin_files();
    files.push(dualtrack_engine::source::Source::new("extra.cedar", extra));
    policy::load(files, model).unwrap()
}

fn as_of() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

#[test]
fn remembered_answers_match_plain_authorizer_on_findings_heavy_data_and_unmemorable_rules() {
    use dualtrack_bench::generate::{Layout, Profile};
    let model = Model::load().unwrap();
    let pack = pack_with(EXTRA, &model);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heavy.json");
    dualtrack_bench::generate::write_with(&path, 5_000, 3, Profile::FindingsHeavy, Layout::Minified).unwrap();
    let (inv, _) = open::load(&path).unwrap();
    let opts = Options {
        as_of: as_of(),
        tracks: Track::ALL.to_vec(),
    };
    let fast = eval::evaluate(&inv, &pack, &model, &opts).unwrap();
    let slow = plain::evaluate(&inv, &pack, &model, &opts).unwrap();
    for id in ["T-LITERAL", "T-SELF", "T-THROUGH-SYSTEM"] {
        assert!(slow.findings.iter().any(|f| &*f.rule == id), "{id} fires somewhere");
    }
    assert_eq!(fast.findings.len(), slow.findings.len());
    for (a, b) in fast.findings.iter().zip(&slow.findings) {
        assert_eq!(a, b);
    }
}

/// A rule that overflows on every entitlement idle for a day or more: an answer with an
/// error is never remembered, so each such entitlement (many share an idle count) gets its
/// own error at its own line, as on the plain path.
#[test]
fn evaluation_errors_are_never_remembered() {
    let model = Model::load().unwrap();
    let pack = pack_with(
        r#"@id("T-NO-HAS") @track("soc") @category("stale") @severity("low") @controls("CC6.3")
@title("no has") @remediation("none")
forbid (principal, action == Dualtrack::Action::"entitlement", resource)
when { resource has days_idle && resource.days_idle + 9223372036854775807 < 0 };
"#,
        &model,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.json");
    dualtrack_bench::generate::write(&path, 3_000, 11).unwrap();
    let (inv, _) = open::load(&path).unwrap();
    let opts = Options {
        as_of: as_of(),
        tracks: Track::ALL.to_vec(),
    };
    let at = |p: dualtrack_engine::Problems| -> Vec<(String, u32, usize)> {
        let mut v: Vec<_> =
            p.0.iter()
                .filter(|p| p.code == dualtrack_engine::Code::EvaluationError)
                .map(|p| {
                    let l = p.loc.as_ref().unwrap();
                    (l.file().to_owned(), l.line, l.offset)
                })
                .collect();
        v.sort();
        v
    };
    let fast = at(eval::evaluate(&inv, &pack, &model, &opts).unwrap_err());
    let slow = at(plain::evaluate(&inv, &pack, &model, &opts).unwrap_err());
    assert!(slow.len() > 1, "several entitlements overflow: {}", slow.len());
    assert_eq!(fast, slow);
}
