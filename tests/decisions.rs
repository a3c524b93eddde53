//! Decisions of an earlier campaign against a later inventory: a revoked entitlement still
//! present after its track's SLA is a `DEC-NOT-REMOVED` finding; bad files are coded.

use serde_json::Value as Json;

use crate::common::{dualtrack, parts};

fn check(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--inventory", "examples/acme", "--as-of", "2026-10-01"];
    args.extend(extra);
    parts(&dualtrack(&args))
}

const WITH_DECISIONS: &[&str] = &[
    "--campaign",
    "tests/fixtures/campaign/acme.yaml",
    "--decisions",
    "tests/fixtures/decisions/acme.csv",
    "--format",
    "json",
];

fn not_removed(stdout: &str) -> Vec<Json> {
    let report: Json = serde_json::from_str(stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DEC-NOT-REMOVED")
        .cloned()
        .collect()
}

#[test]
fn revoked_access_still_present_past_the_sla_is_a_finding() {
    let (code, stdout, stderr) = check(WITH_DECISIONS);
    assert_eq!(code, 1, "stderr: {stderr}");
    let found = not_removed(&stdout);
    let who: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|f| {
            (
                f["track"].as_str().unwrap(),
                f["entitlements"][0].as_str().unwrap(),
                f["evidence"]["decision.due"].as_str().unwrap(),
            )
        })
        .collect();
    // kevin.walsh's revoke is within the 30-day SOC SLA, helen.zhou's was later approved,
    // and olga.berg's entitlement is gone.
    assert_eq!(
        who,
        [
            ("sox", "brian.foster:sap-fi:FI_GL_ACCOUNT_DISPLAY", "2026-08-30"),
            ("sox", "carlos.mendez:netsuite:Vendor Record Edit", "2026-09-11"),
        ]
    );
    let brian = &found[0];
    assert_eq!(brian["severity"], "high");
    assert_eq!(brian["evidence"]["decision.reviewer"], "maria.lopez");
    assert_eq!(brian["evidence"]["decision.days_late"], 32);
    assert_eq!(brian["evidence"]["decision.at"], "tests/fixtures/decisions/acme.csv:2");
    assert_eq!(brian["location"]["file"], "examples/acme/entitlements.yaml");
}

#[test]
fn a_later_review_date_reports_the_soc_revoke_too() {
    let (_, stdout, _) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-26",
        "--campaign",
        "tests/fixtures/campaign/acme.yaml",
        "--decisions",
        "tests/fixtures/decisions/acme.csv",
        "--format",
        "json",
        "--track",
        "soc",
    ]));
    let found = not_removed(&stdout);
    assert_eq!(found.len(), 1, "the SOX ones are not evaluated with --track soc");
    assert_eq!(found[0]["entitlements"][0], "kevin.walsh:github:repo:write");
    assert_eq!(found[0]["evidence"]["decision.days_late"], 1);
}

#[test]
fn decisions_need_a_campaign_with_an_sla_per_track() {
    let (code, _, stderr) = check(&["--decisions", "tests/fixtures/decisions/acme.csv"]);
    assert_eq!(code, 2, "clap requires --campaign: {stderr}");

    let tmp = tempfile::tempdir().unwrap();
    let campaign = tmp.path().join("campaign.yaml");
    std::fs::write(
        &campaign,
        "id: C\ntracks:\n  soc:\n    reviewer: manager\n    sla_days: 30\n",
    )
    .unwrap();
    let (code, _, stderr) = check(&[
        "--campaign",
        campaign.to_str().unwrap(),
        "--decisions",
        "tests/fixtures/decisions/acme.csv",
    ]);
    assert_eq!(code, 3);
    assert_eq!(stderr.matches("DT801").count(), 3, "three SOX revokes: {stderr}");
}

#[test]
fn bad_decision_rows_are_coded_with_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("decisions.csv");
    std::fs::write(
        &csv,
        "track,entitlement,reviewer,decision,decided_at,reason\nsox,a:b:c,maria.lopez,remove,2026-09-01,x\nsoc,a:b:c,,approve,2026-13-01,x\n",
    )
    .unwrap();
    let (code, _, stderr) = check(&[
        "--campaign",
        "tests/fixtures/campaign/acme.yaml",
        "--decisions",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 3);
    let csv = csv.display().to_string();
    for (code, line) in [("DT103", 1), ("DT108", 2), ("DT104", 3), ("DT107", 3)] {
        assert!(stderr.contains(code), "{code} missing: {stderr}");
        assert!(
            stderr.contains(&format!("{csv}:{line}")),
            "line {line} missing: {stderr}"
        );
    }
}
