//! The SARIF, JUnit, CSV and Markdown outputs of `dualtrack check`: snapshots of the acme
//! example, the structure GitHub code scanning and JUnit readers rely on, and escaping of
//! hostile inventory values in a report built by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::TimeZone;
use dualtrack_engine::finding::Evidence;
use dualtrack_engine::{policy, render, Category, Finding, FindingStatus, Model, Pack, Report, Severity, Track};
use serde_json::{json, Value as Json};

use crate::common::{dualtrack, parts, root};

/// Runs `check` on the acme example in `format`; returns stdout after checking exit 1.
fn acme(format: &str) -> String {
    let (code, stdout, stderr) = parts(&dualtrack(&[
        "check",
        "--inventory",
        "examples/acme",
        "--as-of",
        "2026-10-01",
        "--format",
        format,
    ]));
    assert_eq!(code, 1, "acme has open findings; stderr: {stderr}");
    stdout
}

fn acme_findings() -> Vec<Json> {
    let report: Json = serde_json::from_str(&acme("json")).unwrap();
    report["findings"].as_array().unwrap().clone()
}

#[test]
fn acme_sarif_is_consistent_with_the_findings() {
    let stdout = acme("sarif");
    let log: Json = serde_json::from_str(&stdout).unwrap();
    let findings = acme_findings();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-schema-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "dualtrack");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));

    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "rules sorted by id, each once");
    assert_eq!(rules.len(), 58, "every rule of both tracks, not only those that fired");
    for r in rules {
        let id = r["id"].as_str().unwrap();
        for field in ["shortDescription", "fullDescription"] {
            assert!(!r[field]["text"].as_str().unwrap().is_empty(), "{id} {field}");
        }
        assert!(r["help"]["text"].as_str().unwrap().contains(id), "{id} help text");
        assert!(r["help"]["markdown"].as_str().unwrap().contains("```cedar"), "{id}");
        let score: f64 = r["properties"]["security-severity"].as_str().unwrap().parse().unwrap();
        assert!((0.1..=10.0).contains(&score), "{id} security-severity {score}");
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"security"),
            "GitHub reads security-severity only with this tag"
        );
        assert!(tags.iter().any(|t| t.starts_with("track:")), "{id} {tags:?}");
        let precision = r["properties"]["precision"].as_str().unwrap();
        assert!(["very-high", "high", "medium", "low"].contains(&precision));
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level));
    }

    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len(), "one result per finding");
    let mut fingerprints = BTreeSet::new();
    for (res, f) in results.iter().zip(&findings) {
        let rule = &rules[res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], res["ruleId"], "ruleIndex points at the result's rule");
        assert_eq!(res["ruleId"], f["rule"]);
        assert_eq!(res["message"]["text"], f["message"]);
        assert_eq!(res["level"], rule["defaultConfiguration"]["level"], "{}", f["rule"]);
        let fp = res["partialFingerprints"][render::FINGERPRINT_KEY].as_str().unwrap();
        assert_eq!(fp, f["id"]);
        assert!(fingerprints.insert(fp.to_owned()), "fingerprint {fp} repeated");
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(
            !uri.starts_with('/') && !uri.contains('\\'),
            "relative, forward slashes: {uri}"
        );
        assert_eq!(uri, f["location"]["file"]);
        assert!(root().join(uri).is_file(), "{uri} is a file of the repository");
        let line = loc["region"]["startLine"].as_u64().unwrap();
        assert!(line >= 1);
        assert_eq!(line, f["location"]["line"].as_u64().unwrap());
        assert_eq!(res["properties"]["identity"], f["identity"]);
        assert_eq!(res["properties"]["status"], "open");
        assert!(res.get("suppressions").is_none(), "open findings are not suppressed");
    }
    insta::assert_json_snapshot!("acme_sarif", sarif_view(&log));
}

/// What the SARIF snapshot pins: the log's header and driver, a line per rule with what
/// code scanning reads from it (id, level, security-severity, precision, tags), one rule in
/// full for the layout of its help, a line per result with its rule, location and
/// fingerprint (code scanning matches alerts across uploads by it), the first result of
/// each track in full, and the run's properties (the summary counts). The 58 rules in full
/// were nearly all of a 280 KB file, rewritten by any change to the pack (each rule's help
/// carries its Cedar policy twice); the assertions above check every rule's fields.
fn sarif_view(log: &Json) -> Json {
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    let rules = driver["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let keys = |v: &Json| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let rule_lines: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{} {} security-severity {} precision {}: {}",
                r["id"].as_str().unwrap(),
                r["defaultConfiguration"]["level"].as_str().unwrap(),
                r["properties"]["security-severity"].as_str().unwrap(),
                r["properties"]["precision"].as_str().unwrap(),
                r["properties"]["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let result_lines: Vec<String> = results
        .iter()
        .map(|res| {
            let loc = &res["locations"][0]["physicalLocation"];
            format!(
                "{} {}:{} {}",
                res["ruleId"].as_str().unwrap(),
                loc["artifactLocation"]["uri"].as_str().unwrap(),
                loc["region"]["startLine"],
                res["partialFingerprints"][render::FINGERPRINT_KEY].as_str().unwrap()
            )
        })
        .collect();
    let mut first_per_track: BTreeMap<&str, &Json> = BTreeMap::new();
    for res in results {
        first_per_track
            .entry(res["properties"]["track"].as_str().unwrap())
            .or_insert(res);
    }
    let driver_fields: serde_json::Map<String, Json> = driver
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "rules")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "$schema": log["$schema"],
        "version": log["version"],
        "log keys": keys(log),
        "runs": log["runs"].as_array().unwrap().len(),
        "run keys": keys(run),
        "driver without rules": driver_fields,
        "rules": rule_lines,
        "first rule": rules[0],
        "results": result_lines,
        "first result per track": first_per_track,
        "run properties": run["properties"],
    })
}

#[test]
fn acme_junit_has_a_testcase_per_rule_and_track() {
    let stdout = acme("junit");
    let findings = acme_findings();
    let failing: BTreeSet<(&str, &str)> = findings
        .iter()
        .map(|f| (f["track"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    assert!(stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(stdout.matches("<testsuite ").count(), 2, "one suite per track");
    assert_eq!(stdout.matches("<testcase ").count(), 58, "one testcase per rule");
    assert_eq!(stdout.matches("<failure ").count(), failing.len());
    assert!(stdout.contains(&format!(
        "<testsuites name=\"dualtrack\" tests=\"58\" failures=\"{}\"",
        failing.len()
    )));
    for (track, rule) in &failing {
        let case = format!("<testcase classname=\"dualtrack.{track}\" name=\"{rule}\">\n      <failure");
        assert!(stdout.contains(&case), "{case}");
    }
    let ids: BTreeSet<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    for id in ids {
        assert!(
            stdout.contains(&format!("  id: {id}\n")),
            "finding {id} listed in its failure"
        );
    }
    insta::assert_snapshot!("acme_junit", stdout);
}

#[test]
fn acme_csv_has_a_row_per_finding() {
    let stdout = acme("csv");
    let findings = acme_findings();
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(reader.headers().unwrap(), render::CSV_HEADER.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    for (row, f) in rows.iter().zip(&findings) {
        assert_eq!(&row[0], f["id"]);
        assert_eq!(&row[1], f["rule"]);
        assert_eq!(&row[6], f["identity"]);
        let ents: Vec<&str> = f["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(&row[7], ents.join(";"));
        assert_eq!(&row[12], f["location"]["line"].to_string());
    }
    insta::assert_snapshot!("acme_csv", stdout);
}

#[test]
fn acme_markdown_summarises_counts_and_examples() {
    let stdout = acme("markdown");
    let findings = acme_findings();
    assert!(stdout.contains(&format!("**{} findings**", findings.len())));
    let soc = findings.iter().filter(|f| f["track"] == "soc").count();
    assert!(
        stdout.contains(&format!("### SOC findings ({soc} of {soc})")),
        "{stdout}"
    );
    for f in &findings {
        assert!(stdout.contains(&format!("`{}`", f["identity"].as_str().unwrap())));
    }
    insta::assert_snapshot!("acme_markdown", stdout);
}

fn pack() -> Pack {
    let model = Model::load().unwrap();
    policy::load(policy::builtin_files(), &model).unwrap()
}

/// A finding with the given rule, identity, message and status; the rest plausible.
fn finding(rule: &str, track: Track, identity: &str, message: &str, status: FindingStatus) -> Finding {
    let entitlements = vec![format!("{identity}:erp:-X"), format!("{identity}:erp:=Y")];
    let mut evidence = Evidence::default();
    evidence.insert(Arc::from("identity.is_nhi"), json!(false));
    Finding {
        id: dualtrack_engine::finding::fingerprint(rule, track, identity, &entitlements),
        rule: Arc::from(rule),
        track,
        category: Category::Excessive,
        severity: Severity::High,
        controls: Arc::from(vec!["CC6.3".to_owned(), "PR.AA-05".to_owned()]),
        identity: identity.to_owned(),
        entitlements,
        message: message.to_owned(),
        evidence,
        remediation: Arc::from("+ revoke it"),
        status,
        file: Arc::from("inv/my inventory.yaml"),
        line: 7,
        change: None,
    }
}

/// A report with hostile strings: a formula identity, markup and a control character in
/// messages, a pipe and a line break, and one excepted finding.
fn hostile_report() -> Report {
    let findings = vec![
        finding(
            "SOC-EXC-001",
            Track::Soc,
            "=HYPERLINK(\"http://x\")",
            "a <b> & \"c\" | d\ne\u{1}f",
            FindingStatus::Open,
        ),
        finding(
            "SOC-EXC-002",
            Track::Soc,
            "@bob",
            "only excepted",
            FindingStatus::Excepted,
        ),
        finding("SOX-PRIV-001", Track::Sox, "carol", "in scope", FindingStatus::Open),
    ];
    Report {
        as_of: chrono::Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
        tracks: Track::ALL.to_vec(),
        identities: 3,
        entitlements: 6,
        evaluated: BTreeMap::from([(Track::Soc, 6), (Track::Sox, 6)]),
        rules: BTreeMap::from([(Track::Soc, 25), (Track::Sox, 24)]),
        findings,
    }
}

#[test]
fn excepted_findings_are_suppressed_in_sarif() {
    let log = render::sarif_json(&hostile_report(), &pack());
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results[0].get("suppressions").is_none());
    let suppression = &results[1]["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    assert_eq!(results[1]["properties"]["status"], "excepted");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "inv/my%20inventory.yaml",
        "the space is percent-encoded"
    );
    assert_eq!(
        results[0]["message"]["text"], "a <b> & \"c\" | d\ne\u{1}f",
        "JSON escapes it"
    );
}

#[test]
fn junit_escapes_markup_and_does_not_fail_excepted_findings() {
    let xml = render::junit(&hostile_report(), &pack());
    assert!(
        xml.contains("tests=\"58\" failures=\"2\""),
        "excepted-only rule passes:\n{xml}"
    );
    assert!(xml.contains("[high] =HYPERLINK(&quot;http://x&quot;): a &lt;b&gt; &amp; &quot;c&quot; | d\ne\u{FFFD}f"));
    assert!(!xml.contains('\u{1}'), "XML 1.0 cannot hold U+0001");
    let excepted = xml
        .split("name=\"SOC-EXC-002\">")
        .nth(1)
        .unwrap()
        .split("</testcase>")
        .next()
        .unwrap();
    assert!(!excepted.contains("<failure"), "{excepted}");
    assert!(excepted.contains("1 excepted finding (not failures)"), "{excepted}");
    assert!(excepted.contains("@bob"), "{excepted}");
}

#[test]
fn csv_guards_formula_cells_and_keeps_line_breaks() {
    let text = render::csv(&hostile_report());
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][6], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[1][6], "'@bob");
    assert_eq!(&rows[2][6], "carol", "plain cells are untouched");
    assert_eq!(
        &rows[0][7],
        "'=HYPERLINK(\"http://x\"):erp:-X;=HYPERLINK(\"http://x\"):erp:=Y"
    );
    assert_eq!(
        &rows[2][7], "carol:erp:-X;carol:erp:=Y",
        "only a cell's first character counts"
    );
    assert_eq!(&rows[0][9], "a <b> & \"c\" | d\ne\u{1}f", "the message round-trips");
    assert_eq!(&rows[0][10], "'+ revoke it");
    assert_eq!(&rows[1][5], "excepted");
    assert!(text.lines().nth(1).unwrap().starts_with('"'), "text cells are quoted");
}

#[test]
fn markdown_escapes_table_cells_and_counts_excepted() {
    let md = render::markdown(&hostile_report(), &pack(), 20);
    assert!(md.contains("**3 findings** (2 open, 1 excepted)"), "{md}");
    let row = md
        .lines()
        .find(|l| l.contains("HYPERLINK") && l.starts_with("| high"))
        .unwrap();
    assert!(row.contains("a <b> & \"c\" \\| d<br>e"), "{row}");
    let unescaped = row.replace("\\|", "");
    assert_eq!(unescaped.matches('|').count(), 6, "five cells: {row}");
    assert!(md.contains("| `SOC-EXC-002` | soc | high |"), "{md}");
    let short = render::markdown(&hostile_report(), &pack(), 1);
    assert!(short.contains("### SOC findings (1 of 2)"), "{short}");
    assert!(short.contains("…and 1 more"), "{short}");
}

/// A report of `n` findings over four identities, severities cycling low to critical.
fn many_findings(n: usize, message: impl Fn(usize) -> String) -> Report {
    let severities = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
    let mut report = hostile_report();
    report.findings = (0..n)
        .map(|i| {
            let mut f = finding(
                if i % 2 == 0 { "SOC-EXC-001" } else { "SOC-EXC-002" },
                Track::Soc,
                &format!("user{i:05}"),
                &message(i),
                FindingStatus::Open,
            );
            f.severity = severities[i % 4];
            f
        })
        .collect();
    report
}

#[test]
fn sarif_keeps_the_most_severe_results_within_the_limits_and_says_what_it_left_out() {
    let report = many_findings(10, |_| "m".to_owned());
    let mut chosen = render::SarifFindings::with_limits(3, render::SARIF_MAX_GZIP);
    chosen.push(report.findings.iter().cloned());
    let mut out = Vec::new();
    chosen.finish(&report.tally(), &pack(), &mut out).unwrap();
    let log: Json = serde_json::from_slice(&out).unwrap();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    // Critical findings are 3 and 7 (and only two), then high ones by rule: 2 and 6 are
    // SOC-EXC-001, which sorts first; results keep the report's order.
    let identities: Vec<&str> = results
        .iter()
        .map(|r| r["properties"]["identity"].as_str().unwrap())
        .collect();
    assert_eq!(identities, ["user00002", "user00003", "user00007"]);
    assert_eq!(run["properties"]["left_out"], 7);
    assert_eq!(
        run["properties"]["summary"]["findings"], 10,
        "the summary counts every finding"
    );
    let note = &run["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "warning");
    assert!(note["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("7 of 10 findings are left out"));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    // Nothing left out: no notification, no count (the log is as it always was).
    let log = render::sarif_json(&report, &pack());
    assert!(log["runs"][0].get("invocations").is_none());
    assert!(log["runs"][0]["properties"].get("left_out").is_none());
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 10);
}

#[test]
fn sarif_drops_results_until_it_fits_the_compressed_size() {
    // Messages that hardly compress (a different one per finding): about 2 KB gzipped a
    // result.
    let noise = |seed: usize| -> String {
        let mut x = seed as u64 * 2 + 1;
        (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    };
    let report = many_findings(40, noise);
    let gzipped = |max_results: usize, max_gzip: usize| {
        let mut chosen = render::SarifFindings::with_limits(max_results, max_gzip);
        chosen.push(report.findings.iter().cloned());
        let mut out = Vec::new();
        chosen.finish(&report.tally(), &pack(), &mut out).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &out).unwrap();
        (out, gz.finish().unwrap().len())
    };
    // The rules alone, then room for about half the results.
    let (_, rules_only) = gzipped(0, usize::MAX);
    let budget = rules_only + 40_000;
    let (out, size) = gzipped(1000, budget);
    assert!(size <= budget, "{size} bytes over {budget}");
    let log: Json = serde_json::from_slice(&out).unwrap();
    let kept = log["runs"][0]["results"].as_array().unwrap().len();
    assert!(kept > 0 && kept < 40, "{kept} results kept");
    assert_eq!(log["runs"][0]["properties"]["left_out"], 40 - kept);
    let levels: BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(!levels.contains("note"), "low findings go first: {levels:?}");
}

#[test]
fn markdown_fits_a_github_comment() {
    let report = many_findings(200, |_| "x".repeat(5000));
    let md = render::markdown(&report, &pack(), 20);
    assert!(
        md.chars().count() <= render::MARKDOWN_MAX_CHARS,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("**200 findings**"), "the counts stay complete");
    assert!(md.contains("| `SOC-EXC-001` | soc |"), "the rule table stays");
    assert!(md.contains("…and"), "fewer findings are listed, and it says so");
}
