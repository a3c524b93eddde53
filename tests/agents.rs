//! AI agents as identities (issue 23): the agent rules fire exactly on the agents of
//! `tests/fixtures/agents/`, sponsored agents without an owner are not orphaned, agents go
//! to their sponsors in a campaign (never, on SOX, to a sponsor they act for), and each
//! track's evidence narrative has its AI agents section.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{dualtrack, parts};

const INVENTORY: &str = "tests/fixtures/agents/inventory.yaml";
const CAMPAIGN: &str = "tests/fixtures/agents/campaign.yaml";

fn findings() -> Vec<Value> {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        INVENTORY,
        "--as-of",
        "2026-10-01",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

fn pairs(findings: &[Value], keep: impl Fn(&str) -> bool) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| keep(f["rule"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["identity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn agent_rules_fire_exactly_on_the_planted_agents() {
    let all = findings();
    let got = pairs(&all, |r| r.contains("-AGENT-"));
    let want: BTreeSet<(String, String)> = [
        ("SOC-AGENT-001", "agent-unsponsored"),
        ("SOC-AGENT-001", "agent-orphaned"),
        ("SOX-AGENT-003", "agent-orphaned"),
        ("SOC-AGENT-002", "agent-standing"),
        ("SOC-AGENT-003", "agent-wide"),
        // The agent approves what its delegator creates: wider than her, and SoD through
        // delegation.
        ("SOC-AGENT-003", "agent-sod"),
        ("SOX-AGENT-001", "agent-sod"),
        ("SOX-AGENT-002", "agent-auto-fin"),
        ("SOC-AGENT-004", "agent-idle"),
    ]
    .into_iter()
    .map(|(r, i)| (r.to_owned(), i.to_owned()))
    .collect();
    assert_eq!(got, want);
    // The clean agents have no finding at all.
    for clean in ["agent-clean", "agent-ledger-helper"] {
        assert!(
            !all.iter().any(|f| f["identity"] == clean),
            "{clean} has findings: {all:#?}"
        );
    }
    // SOX-AGENT-001 names the person, the agent and the two functions.
    let sod = all.iter().find(|f| f["rule"] == "SOX-AGENT-001").unwrap();
    let message = sod["message"].as_str().unwrap();
    assert!(
        message.contains("cleo (journal-entry-create) + agent-sod (journal-entry-approve)"),
        "{message}"
    );
    assert_eq!(
        sod["evidence"]["identity.delegation_conflicts"],
        serde_json::json!(["cleo (journal-entry-create) + agent-sod (journal-entry-approve)"])
    );
}

#[test]
fn sponsored_agents_without_owner_are_not_orphaned() {
    let all = findings();
    let owner_rules = pairs(&all, |r| r.starts_with("SOC-ORPH-") || r.starts_with("SOX-ORPH-"));
    let sponsored = [
        "agent-standing",
        "agent-wide",
        "agent-sod",
        "agent-auto-fin",
        "agent-idle",
        "agent-clean",
        "agent-ledger-helper",
    ];
    for (rule, identity) in &owner_rules {
        assert!(
            !sponsored.contains(&identity.as_str()),
            "{rule} on sponsored agent {identity}"
        );
    }
    // Without an active sponsor, an agent with no owner is orphaned like any NHI.
    assert!(owner_rules.contains(&("SOC-ORPH-001".to_owned(), "agent-orphaned".to_owned())));
    assert!(owner_rules.contains(&("SOX-ORPH-002".to_owned(), "agent-orphaned".to_owned())));
}

/// `(track, entitlement) -> reviewer` from the plan's worklists.
fn plan(campaign: &str) -> BTreeSet<(String, String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let out_arg = out.display().to_string();
    let (code, _, stderr) = parts(&dualtrack(&[
        "campaign",
        "plan",
        "--campaign",
        campaign,
        "--inventory",
        INVENTORY,
        "--as-of",
        "2026-10-01",
        "--out",
        &out_arg,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let mut rows = BTreeSet::new();
    for track in ["soc", "sox"] {
        for entry in std::fs::read_dir(out.join(track)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let headers = reader.headers().unwrap().clone();
            let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
            let (ent, reviewer) = (col("entitlement"), col("reviewer"));
            for row in reader.records() {
                let row = row.unwrap();
                rows.insert((track.to_owned(), row[ent].to_owned(), row[reviewer].to_owned()));
            }
        }
    }
    rows
}

#[test]
fn campaign_sends_agents_to_their_first_active_sponsor() {
    let rows = plan(CAMPAIGN);
    let reviewer = |track: &str, ent: &str| {
        rows.iter()
            .find(|(t, e, _)| t == track && e == ent)
            .map(|(_, _, r)| r.clone())
            .unwrap_or_else(|| panic!("{track} {ent} not in the plan: {rows:#?}"))
    };
    assert_eq!(reviewer("soc", "agent-standing:crm:admin-console"), "ana");
    assert_eq!(reviewer("soc", "agent-wide:crm:export"), "ana");
    assert_eq!(reviewer("sox", "agent-auto-fin:ledger:LEDGER_ADMIN"), "ana");
    // The first sponsor who is active: ben left, ana reviews.
    assert_eq!(reviewer("soc", "agent-clean:crm:read"), "ana");
    // People have no sponsor: the fallback (their manager) reviews them.
    assert_eq!(reviewer("soc", "cleo:crm:read"), "ceo");
    // No active sponsor: the fallback (on SOX the system owner).
    assert_eq!(reviewer("sox", "agent-orphaned:ledger:REPORT"), "fin-owner");
    // cleo sponsors the agent that acts for her: she reviews it on SOC, but on SOX she
    // may not certify its in-scope access, so the fallback does.
    assert_eq!(reviewer("soc", "agent-ledger-helper:ledger:JE_CREATE"), "cleo");
    assert_eq!(reviewer("sox", "agent-ledger-helper:ledger:JE_CREATE"), "fin-owner");
}

#[test]
fn a_sponsor_who_is_a_delegator_is_self_review_on_sox() {
    let tmp = tempfile::tempdir().unwrap();
    let campaign = tmp.path().join("campaign.yaml");
    std::fs::write(
        &campaign,
        "id: UAR-AGENTS\nperiod: { start: 2026-10-01, end: 2026-10-31 }\ntracks:\n  sox: { scope: sox_in_scope, reviewer: sponsor, sla_days: 10 }\n",
    )
    .unwrap();
    let campaign_arg = campaign.display().to_string();
    let (_, stdout, stderr) = parts(&dualtrack(&[
        "lint",
        "--campaign",
        &campaign_arg,
        "--inventory",
        INVENTORY,
        "--format",
        "json",
    ]));
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let problems = report["diagnostics"].as_array().cloned().unwrap_or_default();
    let self_review: Vec<&Value> = problems.iter().filter(|p| p["code"] == "DT702").collect();
    assert_eq!(self_review.len(), 1, "{problems:#?}");
    let message = self_review[0]["message"].as_str().unwrap();
    assert!(message.contains("agent-ledger-helper:ledger:JE_CREATE"), "{message}");
    assert!(
        message.contains("`cleo` is a delegator of AI agent `agent-ledger-helper`"),
        "{message}"
    );
}

#[test]
fn each_narrative_has_an_ai_agents_section() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let out_arg = out.display().to_string();
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        INVENTORY,
        "--as-of",
        "2026-10-01",
        "--out",
        &out_arg,
    ]));
    assert!(code == 0 || code == 1, "{stderr}");
    let soc = std::fs::read_to_string(out.join("soc/narrative.md")).unwrap();
    let sox = std::fs::read_to_string(out.join("sox/narrative.md")).unwrap();
    for (text, agents, sponsored, autonomous, on_behalf) in [(&soc, 9, 7, 4, 5), (&sox, 4, 3, 2, 2)] {
        assert!(text.contains("\n## AI agents\n"), "{text}");
        assert!(text.contains(&format!("| AI agents in scope | {agents} |")), "{text}");
        assert!(
            text.contains(&format!("| with an active sponsor | {sponsored} |")),
            "{text}"
        );
        assert!(
            text.contains(&format!("| acting autonomously | {autonomous} |")),
            "{text}"
        );
        assert!(
            text.contains(&format!("| acting on behalf of people | {on_behalf} |")),
            "{text}"
        );
        assert!(
            text.contains("Control objective tested for them on this track:"),
            "{text}"
        );
    }
    assert!(soc.contains("SOC-AGENT-001 to SOC-AGENT-004"));
    assert!(sox.contains("SOX-AGENT-001 to SOX-AGENT-003"));
}
