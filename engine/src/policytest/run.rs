//! Running cases: evaluate each case's records with the pack, match the findings against
//! the expectations, and list the rules no expectation names.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use crate::diag::Problems;
use crate::eval::{evaluate, Options};
use crate::finding::Finding;
use crate::model::Model;
use crate::policy::Pack;

use super::{Case, CaseResult, Expected, Outcome, Suite};

/// Runs the cases whose name or file contains `filter` (every case when `None`). `Err`
/// holds the evaluation errors of every case when any failed: a case that cannot be
/// evaluated fails closed, it never reads as passing.
pub fn run(suite: &Suite, pack: &Pack, model: &Model, filter: Option<&str>) -> Result<Outcome, Problems> {
    let selected = |c: &Case| filter.is_none_or(|f| c.name.contains(f) || c.loc.file().contains(f));
    let mut results = Vec::new();
    let mut problems = Problems::default();
    let mut filtered_out = 0;
    for case in &suite.cases {
        if !selected(case) {
            filtered_out += 1;
            continue;
        }
        match run_case(case, pack, model) {
            Ok(r) => results.push(r),
            Err(mut p) => problems.0.append(&mut p.0),
        }
    }
    if problems.has_errors() {
        problems.sort();
        return Err(problems);
    }
    Ok(Outcome {
        results,
        filtered_out,
        untested: untested_rules(suite, pack),
    })
}

fn run_case(case: &Case, pack: &Pack, model: &Model) -> Result<CaseResult, Problems> {
    let opts = Options {
        as_of: case.as_of,
        tracks: case.tracks.clone(),
    };
    let report = evaluate(&case.inventory, pack, model, &opts)?;
    let mut actual: Vec<Option<Finding>> = report
        .findings
        .into_iter()
        .filter(|f| case.compares(&f.rule))
        .map(Some)
        .collect();
    // Expectations naming entitlements are the most specific; matching them first leaves
    // the looser ones (any finding of the rule and identity) the findings nobody else needs.
    let mut order: Vec<&Expected> = case.expect.iter().collect();
    order.sort_by_key(|e| e.entitlements.is_none());
    let mut missing = Vec::new();
    for e in order {
        match actual
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|f| e.matches(f)))
        {
            Some(slot) => *slot = None,
            None => missing.push(e.clone()),
        }
    }
    missing.sort_by(|a, b| (&a.identity, &a.rule, &a.entitlements).cmp(&(&b.identity, &b.rule, &b.entitlements)));
    Ok(CaseResult {
        name: case.name.clone(),
        loc: case.loc.clone(),
        missing,
        unexpected: actual.into_iter().flatten().collect(),
    })
}

/// Rules of the pack that no expectation of the suite names, sorted by id.
pub fn untested_rules(suite: &Suite, pack: &Pack) -> Vec<String> {
    let named: BTreeSet<&str> = suite
        .cases
        .iter()
        .flat_map(|c| c.expect.iter().map(|e| e.rule.as_str()))
        .collect();
    let mut out: Vec<String> = pack
        .rules
        .iter()
        .map(|r| r.id.clone())
        .filter(|id| !named.contains(id.as_str()))
        .collect();
    out.sort();
    out
}

fn expected_json(e: &Expected) -> Json {
    let mut m = serde_json::Map::new();
    m.insert("rule".into(), json!(e.rule));
    m.insert("identity".into(), json!(e.identity));
    if let Some(ents) = &e.entitlements {
        m.insert("entitlements".into(), json!(ents));
    }
    if let Some(t) = e.track {
        m.insert("track".into(), json!(t.as_str()));
    }
    m.insert("line".into(), json!(e.loc.line));
    Json::Object(m)
}

fn unexpected_json(f: &Finding) -> Json {
    json!({
        "rule": &*f.rule,
        "track": f.track.as_str(),
        "identity": f.identity,
        "entitlements": f.entitlements,
        "message": f.message,
    })
}

impl Outcome {
    /// The outcome as JSON: every case run with its status and differences, the counts,
    /// and the rules without tests.
    pub fn to_json(&self) -> Json {
        let cases: Vec<Json> = self
            .results
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "file": r.loc.file(),
                    "line": r.loc.line,
                    "status": if r.passed() { "pass" } else { "fail" },
                    "missing": r.missing.iter().map(expected_json).collect::<Vec<_>>(),
                    "unexpected": r.unexpected.iter().map(unexpected_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "cases": cases,
            "summary": {
                "cases": self.results.len(),
                "passed": self.passed(),
                "failed": self.failed(),
                "filtered_out": self.filtered_out,
            },
            "rules_without_tests": self.untested,
        })
    }
}
