//! The streamed check (entitlements indexed, read back identity by identity, findings
//! written as they come) gives the same bytes as loading everything and rendering the
//! report, and the same diagnostics for broken records — for JSON files and for a
//! directory with CSV entitlements.

use std::path::Path;

use chrono::{TimeZone, Utc};
use dualtrack_engine::eval;
use dualtrack_engine::{open, policy, render, Model, Options, Pack, Problems, Track};

fn setup() -> (Model, Pack, Options) {
    let model = Model::load().unwrap();
    let pack = policy::load(policy::builtin_files(), &model).unwrap();
    let opts = Options {
        as_of: Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
        tracks: Track::ALL.to_vec(),
    };
    (model, pack, opts)
}

/// `check --format json` as the CLI runs it; reading the records back from disk instead of
/// from the copy kept in memory gives the same document or the same problems.
fn streamed(path: &Path, (model, pack, opts): &(Model, Pack, Options)) -> Result<String, Problems> {
    let run = |hold| open::index_holding(path, hold).and_then(|idx| render::json_report(&idx, pack, model, opts));
    let (kept, from_disk) = (run(u64::MAX), run(0));
    match (&kept, &from_disk) {
        (Ok(a), Ok(b)) => assert!(a == b, "kept and read from disk differ for {}", path.display()),
        (Err(a), Err(b)) => assert_eq!(messages(a), messages(b), "{}", path.display()),
        _ => panic!(
            "kept and read from disk disagree on {}: {kept:?} / {from_disk:?}",
            path.display()
        ),
    }
    kept
}

/// Everything loaded, evaluated, then rendered.
fn held(path: &Path, (model, pack, opts): &(Model, Pack, Options)) -> Result<String, Problems> {
    let (inv, _) = open::load(path)?;
    let mut problems = eval::crosscheck(&inv, pack);
    if problems.has_errors() {
        problems.sort();
        return Err(problems);
    }
    Ok(render::json(&eval::evaluate(&inv, pack, model, opts)?))
}

fn messages(p: &Problems) -> Vec<String> {
    let mut v: Vec<String> =
        p.0.iter()
            .map(|p| format!("{} {} {}", p.code.as_str(), p.at(), p.message))
            .collect();
    v.sort();
    v
}

fn as_csv_dir(json: &Path, dir: &Path) {
    dualtrack_bench::to_csv::convert(json, dir).unwrap();
}

#[test]
fn streamed_json_matches_the_held_report_byte_for_byte() {
    let ctx = setup();
    let dir = tempfile::tempdir().unwrap();
    // The minified findings-heavy file puts every record on one line, each read back
    // from the middle of it, and nearly every entitlement in a finding.
    use dualtrack_bench::generate::{Layout, Profile};
    for (seed, n, profile, layout) in [
        (3u64, 5_000usize, Profile::Default, Layout::Pretty),
        (11, 2_000, Profile::Default, Layout::Pretty),
        (5, 3_000, Profile::FindingsHeavy, Layout::Minified),
    ] {
        let path = dir.path().join(format!("inv-{seed}.json"));
        dualtrack_bench::generate::write_with(&path, n, seed, profile, layout).unwrap();
        let a = streamed(&path, &ctx).unwrap();
        let b = held(&path, &ctx).unwrap();
        assert!(a.contains("\"rule\": \"SOX-SOD"), "the sample has SoD findings");
        assert_eq!(a, b, "seed {seed}");

        let csv_dir = dir.path().join(format!("dir-{seed}"));
        as_csv_dir(&path, &csv_dir);
        let a = streamed(&csv_dir, &ctx).unwrap();
        let b = held(&csv_dir, &ctx).unwrap();
        assert!(a.contains("entitlements.csv"), "locations point at the CSV rows");
        assert_eq!(a, b, "seed {seed}, CSV");
    }
}

#[test]
fn broken_records_give_the_same_diagnostics_both_ways() {
    let ctx = setup();
    let dir = tempfile::tempdir().unwrap();
    let json = r#"{
"systems": [{"id": "erp", "sox_in_scope": true}],
"identities": [
  {"id": "alice", "kind": "human"},
  {"id": "bob", "kind": "human"}
],
"entitlements": [
  {"id": "e1", "identity": "alice", "system": "erp", "permission": "A"},
  {"id": "e1", "identity": "bob", "system": "erp", "permission": "B"},
  {"identity": "carol", "system": "erp", "permission": "C"},
  {"identity": "bob", "system": "crm", "permission": "D"},
  {"identity": "bob", "system": "erp", "permision": "E"},
  {"identity": 7, "system": "erp", "permission": "F"},
  {"identity": "alice", "system": "erp", "permission": "G", "functions": ["payment-aprove"]},
  {"identity": "alice", "system": "erp", "permission": "H", "granted_at": "yesterday"}
]
}"#;
    let path = dir.path().join("broken.json");
    std::fs::write(&path, json).unwrap();
    let mut a = messages(&streamed(&path, &ctx).unwrap_err());
    let b = messages(&held(&path, &ctx).unwrap_err());
    // Loading everything stops before the function check when records are broken; the
    // streamed run checks each record as it reads it, so it reports that one too.
    let function = a
        .iter()
        .position(|m| m.starts_with("DT205"))
        .expect("unknown function reported");
    assert!(a[function].contains("broken.json:14"), "{}", a[function]);
    let function = a.remove(function);
    assert_eq!(a, b);
    a.push(function);
    let codes: Vec<&str> = a.iter().map(|m| &m[..5]).collect();
    assert_eq!(
        codes,
        ["DT103", "DT104", "DT105", "DT106", "DT106", "DT106", "DT107", "DT205"]
    );
    assert!(
        a.iter()
            .any(|m| m.contains("broken.json:9 duplicate entitlement id `e1`")),
        "{a:#?}"
    );
    assert!(
        a.iter()
            .any(|m| m.contains("broken.json:10 `identity` names unknown identity `carol`")),
        "{a:#?}"
    );

    let csv_dir = dir.path().join("csv");
    as_csv_dir(&path, &csv_dir);
    let a = messages(&streamed(&csv_dir, &ctx).unwrap_err());
    let b = messages(&held(&csv_dir, &ctx).unwrap_err());
    assert_eq!(
        a.iter().filter(|m| !m.starts_with("DT205")).collect::<Vec<_>>(),
        b.iter().collect::<Vec<_>>()
    );
    assert!(
        a.iter()
            .any(|m| m.contains("entitlements.csv:3 duplicate entitlement id `e1`")),
        "{a:#?}"
    );
}
