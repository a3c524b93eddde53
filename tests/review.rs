//! The review loop: `campaign plan` writes worklists that match the campaign's own reviewer
//! assignment; filled back in, they are verified for completeness, authority,
//! timeliness and quality, each planted problem reported on its track and nothing on
//! correct decisions; the evidence pack holds the sign-off memo and the HTML report.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{dualtrack, parts};
use dualtrack_engine::campaign::assign::{assign, Assignment};
use serde_json::Value as Json;

const CAMPAIGN: &str = "tests/fixtures/campaign/acme.yaml";

/// One worklist row as a header-keyed map.
type Row = BTreeMap<String, String>;

/// Worklists by (track, file stem): header and rows.
type Lists = BTreeMap<(String, String), (Vec<String>, Vec<Row>)>;

fn plan(out: &Path) -> (i32, String) {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "campaign",
        "plan",
        "--campaign",
        CAMPAIGN,
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "stderr: {stderr}");
    (code, stdout)
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header.iter().cloned().zip(rec.iter().map(str::to_owned)).collect()
        })
        .collect();
    (header, rows)
}

/// Every worklist CSV of the plan: (track, file stem) → rows.
fn worklists(dir: &Path) -> Lists {
    let mut out = BTreeMap::new();
    for track in ["soc", "sox"] {
        for entry in std::fs::read_dir(dir.join(track)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "csv") {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                out.insert((track.to_owned(), stem), read_csv(&p));
            }
        }
    }
    out
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn plan_writes_every_reviewers_worklist_as_the_campaign_assigns_and_reruns_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(&out);
    let first = all_files(&out);
    for f in ["soc/instructions.md", "sox/instructions.md", "manifest.json"] {
        assert!(first.contains_key(f), "{f} missing: {:?}", first.keys());
    }
    let sox = String::from_utf8(first["sox/instructions.md"].clone()).unwrap();
    assert!(
        sox.contains("Segregation of duties") && sox.contains("**10 days**"),
        "{sox}"
    );
    let soc = String::from_utf8(first["soc/instructions.md"].clone()).unwrap();
    assert!(soc.contains("Business need") && soc.contains("Credential age") && soc.contains("**30 days**"));

    // The rows are exactly the campaign's own assignment, computed here with the engine.
    let inv = dualtrack_engine::inventory::load(&common::root().join("examples/acme"))
        .unwrap()
        .0;
    let campaign = dualtrack_engine::campaign::load(&common::root().join(CAMPAIGN)).unwrap();
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    for p in &campaign.tracks {
        for e in &inv.entitlements {
            match assign(p, e, &inv) {
                Assignment::OutOfScope => {}
                Assignment::Reviewer(r) => {
                    expected.insert((p.track.as_str().to_owned(), r.to_owned(), e.id.clone()));
                }
                Assignment::Unassigned { .. } => {
                    expected.insert((p.track.as_str().to_owned(), String::new(), e.id.clone()));
                }
            }
        }
    }
    let mut got = BTreeSet::new();
    for ((track, stem), (header, rows)) in worklists(&out) {
        assert_eq!(header, dualtrack_engine::decisions::WORKLIST_FIELDS);
        let sev: Vec<i32> = rows
            .iter()
            .map(|r| match r["severity"].as_str() {
                "critical" => 4,
                "high" => 3,
                "medium" => 2,
                "low" => 1,
                _ => 0,
            })
            .collect();
        assert!(
            sev.windows(2).all(|w| w[0] >= w[1]),
            "{stem}: flagged first, by severity: {sev:?}"
        );
        for r in rows {
            assert_eq!(r["track"], track);
            assert!(r["decision"].is_empty() && r["decided_at"].is_empty() && r["rationale"].is_empty());
            if stem != "_unassigned" {
                assert_eq!(r["reviewer"], stem);
            }
            assert!(got.insert((track.clone(), r["reviewer"].clone(), r["entitlement"].clone())));
        }
    }
    assert_eq!(got, expected);
    assert!(got.iter().any(|(t, _, _)| t == "sox") && got.iter().any(|(t, _, _)| t == "soc"));

    plan(&out);
    assert_eq!(all_files(&out), first, "a rerun rewrites the same bytes");
    let manifest: Json = serde_json::from_slice(&first["manifest.json"]).unwrap();
    let listed: BTreeSet<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "output")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let written: BTreeSet<&str> = first
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "manifest.json")
        .collect();
    assert_eq!(listed, written);
    assert!(manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["role"] == "input" && f["path"] == CAMPAIGN));
}

/// Writes the filled worklists to `dir/<track>/<stem>.csv`.
fn write_filled(dir: &Path, lists: &Lists) {
    for ((track, stem), (header, rows)) in lists {
        std::fs::create_dir_all(dir.join(track)).unwrap();
        let mut w = csv::Writer::from_path(dir.join(track).join(format!("{stem}.csv"))).unwrap();
        w.write_record(header).unwrap();
        for r in rows {
            w.write_record(header.iter().map(|h| r[h].as_str())).unwrap();
        }
        w.flush().unwrap();
    }
}

/// The filled worklists of a careful review: every assigned row decided in the period,
/// every flagged row revoked, every row with a rationale; unassigned rows left alone.
fn correct(lists: &mut Lists) {
    for ((_, stem), (_, rows)) in lists.iter_mut() {
        if stem == "_unassigned" {
            continue;
        }
        for r in rows.iter_mut() {
            let flagged = !r["findings"].is_empty();
            r.insert("decision".into(), if flagged { "revoke" } else { "approve" }.into());
            r.insert("decided_at".into(), "2026-10-05".into());
            r.insert("rationale".into(), "checked with the holder's manager".into());
        }
    }
}

fn dec_findings(as_of: &str, decisions: &Path) -> (i32, Vec<(String, String, String)>, String) {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        as_of,
        "--campaign",
        CAMPAIGN,
        "--decisions",
        decisions.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    let report: Json = serde_json::from_str(&stdout).unwrap_or(Json::Null);
    let found = report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["rule"].as_str().unwrap().starts_with("DEC-") && f["rule"] != "DEC-NOT-REMOVED")
                .map(|f| {
                    let who = if f["rule"] == "DEC-RUBBER-STAMP" {
                        f["identity"].as_str().unwrap().to_owned()
                    } else {
                        f["entitlements"][0].as_str().unwrap().to_owned()
                    };
                    (
                        f["rule"].as_str().unwrap().to_owned(),
                        f["track"].as_str().unwrap().to_owned(),
                        who,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (code, found, stderr)
}

#[test]
fn filled_worklists_report_each_planted_case_on_its_track_and_nothing_when_correct() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(&out);
    let mut lists = worklists(&out);
    correct(&mut lists);
    let good = tmp.path().join("good");
    write_filled(&good, &lists);
    let (code, found, stderr) = dec_findings("2026-10-15", &good);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found, [], "correct decisions report nothing");

    // Plant one case per problem, each on a chosen track.
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    let pick = |lists: &mut Lists, track: &str, skip: &BTreeSet<String>, want_flagged: Option<bool>| {
        let (key, idx) = lists
            .iter()
            .filter(|((t, s), _)| t == track && s != "_unassigned")
            .flat_map(|(k, (_, rows))| rows.iter().enumerate().map(move |(i, r)| (k.clone(), i, r)))
            .find(|(_, _, r)| {
                !skip.contains(&r["entitlement"]) && want_flagged.is_none_or(|w| w != r["findings"].is_empty())
            })
            .map(|(k, i, _)| (k, i))
            .expect("a row to plant on");
        (key, idx)
    };
    let mut used = BTreeSet::new();
    // SOC: a missing decision.
    let (k, i) = pick(&mut lists, "soc", &used, None);
    let row = &mut lists.get_mut(&k).unwrap().1[i];
    used.insert(row["entitlement"].clone());
    for c in ["decision", "decided_at", "rationale"] {
        row.insert(c.into(), String::new());
    }
    expected.insert(("DEC-NOT-REVIEWED".into(), "soc".into(), row["entitlement"].clone()));
    // SOC: a self-review (the holder decides).
    let (k, i) = pick(&mut lists, "soc", &used, None);
    let row = &mut lists.get_mut(&k).unwrap().1[i];
    used.insert(row["entitlement"].clone());
    let holder = if row["kind"] == "human" {
        row["identity"].clone()
    } else {
        row["owner"].clone()
    };
    row.insert("reviewer".into(), holder);
    expected.insert(("DEC-SELF-REVIEW".into(), "soc".into(), row["entitlement"].clone()));
    // SOC: a flagged row approved without a rationale.
    let (k, i) = pick(&mut lists, "soc", &used, Some(true));
    let row = &mut lists.get_mut(&k).unwrap().1[i];
    used.insert(row["entitlement"].clone());
    row.insert("decision".into(), "approve".into());
    row.insert("rationale".into(), String::new());
    expected.insert(("DEC-NO-RATIONALE".into(), "soc".into(), row["entitlement"].clone()));
    // SOX: a wrong reviewer (the other financial control owner).
    let (k, i) = pick(&mut lists, "sox", &used, None);
    let row = &mut lists.get_mut(&k).unwrap().1[i];
    used.insert(row["entitlement"].clone());
    let other = if row["reviewer"] == "maria.lopez" {
        "david.okafor"
    } else {
        "maria.lopez"
    };
    row.insert("reviewer".into(), other.into());
    expected.insert(("DEC-WRONG-REVIEWER".into(), "sox".into(), row["entitlement"].clone()));
    // SOX: a late decision.
    let (k, i) = pick(&mut lists, "sox", &used, None);
    let row = &mut lists.get_mut(&k).unwrap().1[i];
    used.insert(row["entitlement"].clone());
    row.insert("decided_at".into(), "2026-11-03".into());
    expected.insert(("DEC-LATE".into(), "sox".into(), row["entitlement"].clone()));
    // SOX: a reviewer who approves every flagged row (at least five).
    let (stamp_key, _) = lists
        .iter()
        .filter(|((t, s), (_, rows))| {
            t == "sox" && s != "_unassigned" && rows.iter().filter(|r| !r["findings"].is_empty()).count() >= 5
        })
        .map(|(k, v)| (k.clone(), v.1.len()))
        .next()
        .expect("a SOX reviewer with five flagged rows");
    for r in &mut lists.get_mut(&stamp_key).unwrap().1 {
        if !r["findings"].is_empty() && !used.contains(&r["entitlement"]) {
            r.insert("decision".into(), "approve".into());
        }
    }
    expected.insert(("DEC-RUBBER-STAMP".into(), "sox".into(), stamp_key.1.clone()));
    // Rows nobody may review stay undecided: not reviewed once the period is over.
    for ((t, s), (_, rows)) in &lists {
        if s == "_unassigned" {
            for r in rows {
                expected.insert(("DEC-NOT-REVIEWED".into(), t.clone(), r["entitlement"].clone()));
            }
        }
    }
    let planted = tmp.path().join("planted");
    write_filled(&planted, &lists);
    let (code, found, stderr) = dec_findings("2026-11-15", &planted);
    assert_eq!(code, 0, "{stderr}");
    let found: BTreeSet<_> = found.into_iter().collect();
    assert_eq!(found, expected);
}

#[test]
fn bulk_approvals_in_one_second_are_a_rubber_stamp_and_unknown_entitlements_are_coded() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(&out);
    // 60 approvals by one reviewer at the same second, on entitlements that need not exist
    // in the inventory for the signal; unknown ones are reported with their line.
    let csv = tmp.path().join("decisions.csv");
    let mut text = String::from("track,entitlement,reviewer,decision,decided_at,rationale\n");
    for i in 0..60 {
        text.push_str(&format!(
            "soc,ghost-{i}:github:read,tom.becker,approve,2026-10-05T09:00:00Z,ok\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (code, _, stderr) = dec_findings("2026-10-15", &csv);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stderr.matches("DT802").count(), 60, "{stderr}");
    assert!(stderr.contains(&format!("{}:2", csv.display())), "{stderr}");
}

/// The chromium binary, if installed.
fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .filter_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
        .next()
}

#[test]
fn evidence_report_html_renders_in_headless_chromium_without_network() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(&out);
    let mut lists = worklists(&out);
    correct(&mut lists);
    let filled = tmp.path().join("filled");
    write_filled(&filled, &lists);
    let pack = tmp.path().join("pack");
    let (code, _, stderr) = parts(&dualtrack(&[
        "evidence",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-15",
        "--exceptions",
        "tests/fixtures/exceptions/acme.yaml",
        "--campaign",
        CAMPAIGN,
        "--decisions",
        filled.to_str().unwrap(),
        "--out",
        pack.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    for track in ["soc", "sox"] {
        let signoff = std::fs::read_to_string(pack.join(track).join("signoff.md")).unwrap();
        assert!(signoff.contains("Review period: 2026-10-01 to 2026-10-31"), "{signoff}");
        assert!(signoff.contains("| Signature | |"), "{signoff}");
        assert!(pack.join(track).join("instructions.md").is_file());
        let coverage = std::fs::read_to_string(pack.join(track).join("coverage.md")).unwrap();
        assert!(coverage.contains("| reviewer | assigned | approve | revoke | modify | late | missing |"));
    }
    let html_path = pack.join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<svg role=\"img\"") && html.contains("<table>") && !html.contains("<script"));
    let external = regex::Regex::new(r#"(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//"#).unwrap();
    assert!(!external.is_match(&html), "no external resource");

    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install chromium)"
        );
        eprintln!("SKIPPED: chromium is not installed and CI is unset; install Debian's `chromium` to run this test");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shot = tmp.path().join("shot.png");
    let url = format!("file://{}", html_path.display());
    let run = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1600",
            &url,
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "chromium failed: {log}");
    assert!(!log.contains("CONSOLE"), "console messages: {log}");
    assert!(!log.contains("Refused to"), "blocked requests: {log}");
    // A blank 1200x1600 page compresses to a few kilobytes; text, tables and charts do not.
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 40_000, "the screenshot looks blank: {} bytes", png.len());
    let dom = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &url,
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("SOX track") && dom.contains("Decision coverage"), "{dom}");
    assert!(!external.is_match(&dom), "no external resource in the rendered DOM");
}

#[test]
fn explain_knows_every_decision_pseudo_rule_with_its_controls() {
    for id in [
        "DEC-NOT-REVIEWED",
        "DEC-WRONG-REVIEWER",
        "DEC-SELF-REVIEW",
        "DEC-LATE",
        "DEC-NO-RATIONALE",
        "DEC-RUBBER-STAMP",
        "DEC-NOT-REMOVED",
        "EXC-EXPIRED",
    ] {
        let (code, stdout, stderr) = parts(&dualtrack(&["explain", id]));
        assert_eq!(code, 0, "{id}: {stderr}");
        assert!(
            stdout.starts_with(id) && stdout.contains("controls: soc CC6."),
            "{stdout}"
        );
    }
    let (_, stdout, _) = parts(&dualtrack(&["explain", "DEC-RUBBER-STAMP"]));
    assert!(
        stdout.contains("at least 50") && stdout.contains("at least 5 flagged"),
        "{stdout}"
    );
}
