//! SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: every rule of the
//! evaluated tracks as a `reportingDescriptor`, every finding as a `result` pointing at the
//! inventory record it is about.

use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};

use crate::finding::{Finding, FindingStatus, Report, Tally};
use crate::policy::ruleset::Risk;
use crate::policy::{text, Category, ControlCatalog, Pack, Rule, Severity};

/// The published SARIF 2.1.0 JSON schema.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `partialFingerprints` key holding a finding's id. Versioned, so a change in how ids
/// are computed can take a new key instead of silently re-matching old alerts.
pub const FINGERPRINT_KEY: &str = "dualtrackFindingId/v1";

/// The base every relative artifact URI is resolved against: the directory `check` ran in,
/// normally the root of the review repository.
pub const SRCROOT: &str = "%SRCROOT%";

/// SARIF `level`: critical and high findings are errors, medium warnings, low notes.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` score, a number in a string. GitHub reads > 9.0 as
/// critical, 7.0–8.9 high, 4.0–6.9 medium and 0.1–3.9 low; each value sits inside its band.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// GitHub's `precision`. Rules compare recorded facts, so a finding is wrong only when the
/// data is; usage data (stale findings) is the most often incomplete, hence one step lower.
fn precision(c: Category) -> &'static str {
    match c {
        Category::Stale => "high",
        _ => "very-high",
    }
}

/// `API key or token without an expiry` → `ApiKeyOrTokenWithoutExpiry`: the Pascal-case
/// friendly name SARIF viewers show beside the id. Each word is capitalised and lower-cased
/// after its first letter, and the article `a` is left out, so no two capitals meet
/// (SARIF tooling reads `APIKey` or `ABusiness` as not Pascal case).
fn friendly_name(title: &str) -> String {
    let mut out = String::new();
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        if word.eq_ignore_ascii_case("a") {
            continue;
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars.flat_map(char::to_lowercase));
        }
    }
    out
}

/// Percent-encodes a path for a URI: unreserved characters and `/` stay, everything else
/// (spaces, `%`, `#`, `:`, non-ASCII …) is encoded byte by byte.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The `artifactLocation` of a record's file: a relative path (forward slashes) against
/// `%SRCROOT%`, or an absolute `file://` URI when the inventory was given by absolute path.
pub fn artifact_location(file: &str) -> Json {
    let slashed = file.replace('\\', "/");
    let is_windows_abs = slashed.as_bytes().get(1) == Some(&b':') && slashed.as_bytes().get(2) == Some(&b'/');
    if slashed.starts_with('/') {
        json!({ "uri": format!("file://{}", encode_path(&slashed)) })
    } else if is_windows_abs {
        json!({ "uri": format!("file:///{}", encode_path(&slashed)) })
    } else {
        let mut rel = slashed.as_str();
        while let Some(rest) = rel.strip_prefix("./") {
            rel = rest;
        }
        json!({ "uri": encode_path(rel), "uriBaseId": SRCROOT })
    }
}

/// The rule's documentation as Markdown (GitHub shows it in the alert's help panel).
fn help_markdown(rule: &Rule, controls: &ControlCatalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**{}** — {}\n", rule.id, rule.title);
    let _ = writeln!(
        out,
        "Track `{}`, category `{}`, severity `{}`, evaluated once per {}.\n",
        rule.track.as_str(),
        rule.category.as_str(),
        rule.severity.as_str(),
        rule.subject.action()
    );
    if !rule.description.is_empty() {
        let _ = writeln!(out, "{}\n", rule.description);
    }
    let _ = writeln!(out, "**Remediation:** {}\n", rule.remediation);
    let _ = writeln!(out, "**Controls**\n");
    let cite = |out: &mut String, id: &str, suffix: &str| {
        let text = controls.get(id).map_or_else(String::new, |c| {
            let status = if c.status == "current" {
                String::new()
            } else {
                format!(" ({})", c.status)
            };
            format!(" — {}: {}{status}", c.framework, c.title)
        });
        let _ = writeln!(out, "- `{id}`{suffix}{text}");
    };
    for c in &rule.controls {
        cite(&mut out, c, "");
    }
    for c in &rule.nhi_controls {
        cite(&mut out, c, " (non-human identities)");
    }
    let _ = writeln!(out, "\n**Cedar**\n\n```cedar\n{}```", text::cedar(rule));
    out
}

/// Tags GitHub can filter on: `security` (so it reads `security-severity`), the track, the
/// category and every control id the rule may cite.
fn tags(rule: &Rule) -> Vec<String> {
    let mut tags = vec![
        "security".to_owned(),
        "access-review".to_owned(),
        format!("track:{}", rule.track.as_str()),
        format!("category:{}", rule.category.as_str()),
    ];
    for c in rule.controls.iter().chain(&rule.nhi_controls) {
        if !tags.contains(c) {
            tags.push(c.clone());
        }
    }
    tags
}

fn descriptor(rule: &Rule, controls: &ControlCatalog) -> Json {
    let full = if rule.description.is_empty() {
        &rule.title
    } else {
        &rule.description
    };
    json!({
        "id": rule.id,
        "name": friendly_name(&rule.title),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full },
        "help": {
            "text": text::explain(rule, controls),
            "markdown": help_markdown(rule, controls),
        },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": tags(rule),
            "security-severity": security_severity(rule.severity),
            "precision": precision(rule.category),
            "track": rule.track.as_str(),
            "category": rule.category.as_str(),
            "severity": rule.severity.as_str(),
        },
    })
}

/// The descriptor of ruleset risk `risk` reported as rule `id`.
fn risk_descriptor(id: &str, risk: &Risk) -> Json {
    let controls: Vec<&str> = risk.controls.iter().map(|c| c.value.as_str()).collect();
    let functions: Vec<&str> = risk.functions.iter().map(|f| f.value.as_str()).collect();
    let track = if id.starts_with("SOX-") { "sox" } else { "soc" };
    json!({
        "id": id,
        "name": friendly_name(id),
        "shortDescription": { "text": risk.description },
        "fullDescription": { "text": risk.description },
        "help": {
            "text": format!(
                "SAP ruleset risk `{}` ({}, {}): one user holding {}. {} Controls: {}.",
                risk.id.value,
                risk.kind.as_str(),
                risk.process,
                functions.join(" and "),
                risk.description,
                controls.join(", ")
            ),
        },
        "defaultConfiguration": { "level": level(risk.severity) },
        "properties": {
            "tags": [track, risk.category().as_str(), risk.process.as_str()],
            "security-severity": security_severity(risk.severity),
            "precision": precision(risk.category()),
            "track": track,
            "category": risk.category().as_str(),
            "severity": risk.severity.as_str(),
        },
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Json {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), artifact_location(&f.file));
    if f.line >= 1 {
        physical.insert("region".into(), json!({ "startLine": f.line }));
    }
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(&*f.rule));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("level".into(), json!(level(f.severity)));
    r.insert("message".into(), json!({ "text": f.message }));
    r.insert("locations".into(), json!([{ "physicalLocation": physical }]));
    r.insert("partialFingerprints".into(), json!({ FINGERPRINT_KEY: f.id }));
    if f.status == FindingStatus::Excepted {
        let suppression = json!({
            "kind": "external",
            "status": "accepted",
            "justification": format!("covered by a live {} exception", f.track.as_str()),
        });
        r.insert("suppressions".into(), json!([suppression]));
    }
    let properties = json!({
        "findingId": f.id,
        "track": f.track.as_str(),
        "category": f.category.as_str(),
        "severity": f.severity.as_str(),
        "status": f.status.as_str(),
        "identity": f.identity,
        "entitlements": f.entitlements,
        "controls": f.controls,
        "remediation": &*f.remediation,
        "evidence": f.evidence,
    });
    r.insert("properties".into(), properties);
    Json::Object(r)
}

/// Most results GitHub code scanning accepts in one run.
pub const SARIF_MAX_RESULTS: usize = 25_000;

/// Largest gzip-compressed upload GitHub code scanning accepts (10 MB), less a margin.
pub const SARIF_MAX_GZIP: usize = 9_500_000;

/// The report as a SARIF 2.1.0 log (one run). Rules are every rule of the evaluated tracks,
/// sorted by id; results follow the report's order. At most [`SARIF_MAX_RESULTS`] findings
/// become results, chosen by severity, then rule; the run's `properties.left_out` and a
/// tool notification say how many were left out (JSON output has them all).
pub fn sarif_json(report: &Report, pack: &Pack) -> Json {
    let mut chosen = SarifFindings::default();
    chosen.push(report.findings.iter().cloned());
    chosen.to_json(&report.tally(), pack)
}

/// Writes the SARIF log, pretty-printed with a trailing newline, to `out`, within GitHub's
/// limits: [`SARIF_MAX_RESULTS`] results and [`SARIF_MAX_GZIP`] bytes compressed.
pub fn write_sarif(report: &Report, pack: &Pack, out: impl std::io::Write) -> std::io::Result<()> {
    let mut chosen = SarifFindings::default();
    chosen.push(report.findings.iter().cloned());
    chosen.finish(&report.tally(), pack, out)
}

/// The SARIF log as a string (pretty-printed, trailing newline).
pub fn sarif(report: &Report, pack: &Pack) -> String {
    let mut out = Vec::new();
    match write_sarif(report, pack, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => String::new(),
    }
}

/// The findings a SARIF log will hold, chosen as they come: the [`SARIF_MAX_RESULTS`] most
/// severe (then by rule id, then in report order), so memory holds at most that many
/// findings however many the run has.
pub struct SarifFindings {
    /// The worst-ranked kept finding on top, to be dropped first.
    kept: BinaryHeap<Ranked>,
    seen: usize,
    max_results: usize,
    max_gzip: usize,
}

impl Default for SarifFindings {
    fn default() -> Self {
        Self::with_limits(SARIF_MAX_RESULTS, SARIF_MAX_GZIP)
    }
}

/// A finding with its place in the report; ordered best first.
struct Ranked(usize, Finding);

impl Ranked {
    fn key(&self) -> (std::cmp::Reverse<Severity>, &str, usize) {
        (std::cmp::Reverse(self.1.severity), &*self.1.rule, self.0)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl SarifFindings {
    /// Keeps at most `max_results` results and `max_gzip` compressed bytes (GitHub's
    /// limits by default; other limits are for tests and other consumers).
    pub fn with_limits(max_results: usize, max_gzip: usize) -> Self {
        Self {
            kept: BinaryHeap::new(),
            seen: 0,
            max_results,
            max_gzip,
        }
    }

    /// Takes findings in report order.
    pub fn push(&mut self, findings: impl IntoIterator<Item = Finding>) {
        for f in findings {
            let ranked = Ranked(self.seen, f);
            self.seen += 1;
            if self.kept.len() < self.max_results {
                self.kept.push(ranked);
            } else if self.kept.peek().is_some_and(|worst| ranked < *worst) {
                self.kept.pop();
                self.kept.push(ranked);
            }
        }
    }

    /// The log with the best `limit` findings kept, in report order; `tally` counts all.
    fn log(&self, tally: &Tally, pack: &Pack, limit: usize) -> Json {
        let mut best: Vec<&Ranked> = self.kept.iter().collect();
        best.sort();
        best.truncate(limit);
        best.sort_by_key(|r| r.0);
        let findings: Vec<&Finding> = best.iter().map(|r| &r.1).collect();
        log_of(tally, pack, &findings, self.seen, self.max_results)
    }

    /// The log as JSON (within the result limit; the size limit applies when writing).
    pub fn to_json(&self, tally: &Tally, pack: &Pack) -> Json {
        self.log(tally, pack, self.max_results)
    }

    /// Writes the log (pretty-printed, trailing newline) to `out`, leaving out the least
    /// severe results until it compresses to at most the size limit.
    pub fn finish(self, tally: &Tally, pack: &Pack, mut out: impl std::io::Write) -> std::io::Result<()> {
        let mut limit = self.kept.len();
        loop {
            let mut text = serde_json::to_vec_pretty(&self.log(tally, pack, limit))?;
            text.push(b'\n');
            let size = gzipped_size(&text)?;
            if size <= self.max_gzip || limit == 0 {
                return out.write_all(&text);
            }
            // Shrink in proportion, with a tenth to spare, so one or two passes do.
            let fit = (limit as u128 * self.max_gzip as u128 * 9 / (size as u128 * 10)) as usize;
            limit = fit.min(limit - 1);
        }
    }
}

/// The size of `bytes` compressed with gzip at its fastest level (a little larger than the
/// default level gives, so the limit holds for an uploader's compression too).
fn gzipped_size(bytes: &[u8]) -> std::io::Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Counter(0), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes)?;
    Ok(gz.finish()?.0)
}

/// A writer that only counts.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of `findings` (in report order) out of `total` findings counted by `tally`.
fn log_of(tally: &Tally, pack: &Pack, findings: &[&Finding], total: usize, max_results: usize) -> Json {
    let mut rules: Vec<&Rule> = pack.rules.iter().filter(|r| tally.tracks.contains(&r.track)).collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let mut index: BTreeMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let mut descriptors: Vec<Json> = rules.iter().map(|r| descriptor(r, &pack.controls)).collect();
    // Ruleset risks are no Cedar rules; those with results in this log are described
    // after the rules, in id order.
    let mut risks: Vec<&str> = findings
        .iter()
        .map(|f| &*f.rule)
        .filter(|id| !index.contains_key(id))
        .collect();
    risks.sort_unstable();
    risks.dedup();
    for id in risks {
        if let Some(risk) = pack.risk_of(id) {
            index.insert(id, descriptors.len());
            descriptors.push(risk_descriptor(id, risk));
        }
    }
    let results: Vec<Json> = findings
        .iter()
        .map(|f| result(f, index.get(&*f.rule).copied()))
        .collect();
    let tracks: Vec<&str> = tally.tracks.iter().map(|t| t.as_str()).collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "dualtrack",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": descriptors,
            }
        },
        "results": results,
        "properties": {
            "as_of": tally.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tracks": tracks,
            "summary": tally.summary_json(),
        },
    });
    let left_out = total.saturating_sub(findings.len());
    if left_out > 0 {
        let text = format!(
            "{left_out} of {total} findings are left out of this log to stay within GitHub code scanning's limits \
             ({max_results} results a run, 10 MB compressed); it keeps the {} most severe (then by rule). \
             `dualtrack check --format json` lists every finding.",
            findings.len()
        );
        if let Some(props) = run.get_mut("properties").and_then(Json::as_object_mut) {
            props.insert("left_out".into(), json!(left_out));
        }
        if let Some(run) = run.as_object_mut() {
            run.insert(
                "invocations".into(),
                json!([{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": [{
                        "level": "warning",
                        "message": { "text": text },
                    }],
                }]),
            );
        }
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(
            artifact_location("./examples/acme/ids.yaml"),
            json!({"uri": "examples/acme/ids.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("inv\\my file#1.yaml"),
            json!({"uri": "inv/my%20file%231.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/srv/rev/i.yaml"),
            json!({"uri": "file:///srv/rev/i.yaml"})
        );
        assert_eq!(
            artifact_location("C:\\rev\\i.yaml"),
            json!({"uri": "file:///C%3A/rev/i.yaml"})
        );
    }

    #[test]
    fn friendly_names_are_pascal_case() {
        assert_eq!(
            friendly_name("Entitlement unused for more than 90 days"),
            "EntitlementUnusedForMoreThan90Days"
        );
        assert_eq!(
            friendly_name("API key used by a person (`interactive_login`)"),
            "ApiKeyUsedByPersonInteractiveLogin"
        );
    }
}
