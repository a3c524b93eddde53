//! The plain evaluation path: for every identity, every request goes through the whole
//! track's policy set with cedar-policy's `Authorizer`, entities and requests validated
//! against the schema. Slow and simple; the differential test holds the fast path to it.

use std::collections::{BTreeMap, HashMap};

use cedar_policy::{Authorizer, Context, EntityUid, PolicySet, Request, RestrictedExpression};

use crate::derive;
use crate::diag::{Code, Problem, Problems};
use crate::finding::Report;
use crate::inventory::{Entitlement, Inventory};
use crate::model::Model;
use crate::policy::{Pack, Rule, Subject, Track};

use super::build::{entities, uid};
use super::emit::{finding, SharedRules};
use super::Options;

/// Evaluates the inventory the plain way. Same contract as [`super::evaluate`].
pub fn evaluate(inv: &Inventory, pack: &Pack, model: &Model, opts: &Options) -> Result<Report, Problems> {
    let mut sink = Problems::default();
    let mut sets: BTreeMap<(Track, Subject), PolicySet> = BTreeMap::new();
    for rule in pack.rules.iter().filter(|r| opts.tracks.contains(&r.track)) {
        if let Err(e) = sets
            .entry((rule.track, rule.subject))
            .or_default()
            .add(rule.policy.clone())
        {
            sink.push(Problem::error(
                Code::CedarValidation,
                Some(rule.loc.clone()),
                format!("rule `{}`: {e}", rule.id),
            ));
        }
    }
    let rules: HashMap<&str, &Rule> = pack.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let system_table = derive::system_table(inv);
    let delegation = derive::Delegation::of(inv, &pack.functions, pack.sod_conflicts());
    let mut by_identity: BTreeMap<&str, Vec<&Entitlement>> = BTreeMap::new();
    for e in &inv.entitlements {
        by_identity.entry(&*e.identity.value).or_default().push(e);
    }
    let authorizer = Authorizer::new();
    let shared = SharedRules::new(&pack.rules);
    let mut report = Report::empty(inv, pack, opts);
    for identity in &inv.identities {
        let ents = by_identity
            .get(identity.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        report.findings.extend(super::ruleset::findings(
            inv,
            &pack.rulesets,
            &pack.controls,
            &opts.tracks,
            identity,
            ents,
        ));
        let view = derive::view(
            inv,
            &system_table,
            &pack.functions,
            &delegation,
            opts.as_of,
            identity,
            ents,
        );
        let store = match entities(&view, Some(&model.schema), None, None) {
            Ok(e) => e,
            Err(p) => {
                sink.push(Problem {
                    loc: Some(identity.loc.clone()),
                    ..p
                });
                continue;
            }
        };
        let Ok(principal) = uid("Identity", &identity.id) else {
            continue;
        };
        for track in &opts.tracks {
            let Ok(context) = Context::from_pairs([(
                "track".to_owned(),
                RestrictedExpression::new_string(track.as_str().to_owned()),
            )]) else {
                continue;
            };
            let mut requests: Vec<(Subject, EntityUid, Option<usize>)> = Vec::new();
            if let Ok(r) = uid("Identity", &identity.id) {
                requests.push((Subject::Identity, r, None));
            }
            for (i, (e, _)) in view.entitlements.iter().enumerate() {
                match uid("Entitlement", &e.id) {
                    Ok(r) => requests.push((Subject::Entitlement, r, Some(i))),
                    Err(p) => sink.push(p),
                }
            }
            for (subject, resource, index) in requests {
                let ent = index.and_then(|i| view.entitlements.get(i)).map(|(e, f)| (*e, f));
                if index.is_some() {
                    *report.evaluated.entry(*track).or_default() += 1;
                }
                let Some(set) = sets.get(&(*track, subject)) else {
                    continue;
                };
                let Ok(action) = uid("Action", subject.action()) else {
                    continue;
                };
                let request = match Request::new(
                    principal.clone(),
                    action,
                    resource,
                    context.clone(),
                    Some(&model.schema),
                ) {
                    Ok(r) => r,
                    Err(e) => {
                        sink.push(Problem::error(
                            Code::EntityError,
                            Some(identity.loc.clone()),
                            format!("invalid request: {e}"),
                        ));
                        continue;
                    }
                };
                let response = authorizer.is_authorized(&request, set, &store);
                for err in response.diagnostics().errors() {
                    let loc = ent.map_or_else(|| identity.loc.clone(), |(e, _)| e.loc.clone());
                    sink.push(Problem::error(
                        Code::EvaluationError,
                        Some(loc),
                        format!("cedar could not evaluate a policy: {err}"),
                    ));
                }
                for pid in response.diagnostics().reason() {
                    if let Some(rule) = rules.get(pid.to_string().as_str()) {
                        report.findings.push(finding(rule, &shared, &view, ent));
                    }
                }
            }
        }
    }
    if sink.has_errors() {
        sink.sort();
        return Err(sink);
    }
    report.sort();
    Ok(report)
}
