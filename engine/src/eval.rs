//! Evaluation: identity by identity, every entitlement against each track's Cedar policy
//! set with cedar-policy's `Authorizer`. A satisfied `forbid` is a finding; a Cedar error
//! is a diagnostic that fails the run, never a silent pass.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityUid, PolicySet, Request, RestrictedExpression,
};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::derive::{self, Fact, Facts, View};
use crate::diag::{did_you_mean, Code, Problem, Problems};
use crate::finding::{fingerprint, Finding, FindingStatus, Report};
use crate::inventory::{Entitlement, Inventory};
use crate::model::{type_name, Model};
use crate::policy::{Involves, Pack, Rule, Subject, Track};

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The review date all ages are computed against.
    pub as_of: DateTime<Utc>,
    /// Tracks to evaluate.
    pub tracks: Vec<Track>,
}

/// Checks that tie the inventory to the pack: every business function written on an
/// entitlement is in the function catalog (a typo must not hide a conflict).
pub fn crosscheck(inv: &Inventory, pack: &Pack) -> Problems {
    let mut sink = Problems::default();
    let known: Vec<&str> = pack.functions.functions.iter().map(|f| f.id.as_str()).collect();
    for e in &inv.entitlements {
        for f in &e.functions {
            if !pack.functions.knows(&f.value) {
                let help = did_you_mean(&f.value, known.iter().copied()).map_or_else(
                    || "use a business function id from the function catalog (`policies/functions.yaml`)".to_owned(),
                    |c| format!("did you mean `{c}`?"),
                );
                sink.push(
                    Problem::error(
                        Code::UnknownFunction,
                        Some(f.loc.clone()),
                        format!("entitlement `{}` names unknown business function `{}`", e.id, f.value),
                    )
                    .with_label("not in the function catalog")
                    .with_help(help),
                );
            }
        }
    }
    sink
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, Problem> {
    Ok(EntityUid::from_type_name_and_id(
        type_name(ty)?,
        EntityId::from_str(id).unwrap_or_else(|e| match e {}),
    ))
}

fn expr(f: &Fact) -> Result<RestrictedExpression, Problem> {
    Ok(match f {
        Fact::Bool(b) => RestrictedExpression::new_bool(*b),
        Fact::Long(n) => RestrictedExpression::new_long(*n),
        Fact::Str(s) => RestrictedExpression::new_string(s.clone()),
        Fact::Set(items) => RestrictedExpression::new_set(items.iter().cloned().map(RestrictedExpression::new_string)),
        Fact::System(id) => RestrictedExpression::new_entity_uid(uid("System", id)?),
    })
}

fn entity(uid: EntityUid, facts: &Facts, tags: &[(String, String)]) -> Result<Entity, Problem> {
    let attrs = facts
        .iter()
        .map(|(k, v)| Ok(((*k).to_owned(), expr(v)?)))
        .collect::<Result<Vec<_>, Problem>>()?;
    let tags = tags
        .iter()
        .map(|(k, v)| (k.clone(), RestrictedExpression::new_string(v.clone())));
    Entity::new_with_tags(uid, attrs, [], tags)
        .map_err(|e| Problem::error(Code::EntityError, None, format!("cannot build entity: {e}")))
}

/// Per-track, per-subject policy sets, built once.
struct Sets {
    sets: BTreeMap<(Track, Subject), PolicySet>,
}

impl Sets {
    fn new(pack: &Pack, tracks: &[Track]) -> Result<Self, Problem> {
        let mut sets = BTreeMap::new();
        for rule in &pack.rules {
            if !tracks.contains(&rule.track) {
                continue;
            }
            let set: &mut PolicySet = sets.entry((rule.track, rule.subject)).or_default();
            set.add(rule.policy.clone()).map_err(|e| {
                Problem::error(
                    Code::CedarValidation,
                    Some(rule.loc.clone()),
                    format!("rule `{}`: {e}", rule.id),
                )
            })?;
        }
        Ok(Self { sets })
    }
}

/// Evaluates the inventory. `Err` when any Cedar evaluation failed: the run fails closed.
pub fn evaluate(inv: &Inventory, pack: &Pack, model: &Model, opts: &Options) -> Result<Report, Problems> {
    let mut sink = Problems::default();
    let sets = match Sets::new(pack, &opts.tracks) {
        Ok(s) => s,
        Err(p) => {
            sink.push(p);
            return Err(sink);
        }
    };
    let rules: HashMap<&str, &Rule> = pack.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut by_identity: BTreeMap<&str, Vec<&Entitlement>> = BTreeMap::new();
    for e in &inv.entitlements {
        by_identity.entry(e.identity.value.as_str()).or_default().push(e);
    }
    let authorizer = Authorizer::new();
    let mut report = Report {
        as_of: opts.as_of,
        tracks: opts.tracks.clone(),
        identities: inv.identities.len(),
        entitlements: inv.entitlements.len(),
        evaluated: opts.tracks.iter().map(|t| (*t, 0)).collect(),
        rules: opts
            .tracks
            .iter()
            .map(|t| (*t, pack.rules.iter().filter(|r| r.track == *t).count()))
            .collect(),
        findings: Vec::new(),
    };
    let contexts: BTreeMap<Track, Context> = opts
        .tracks
        .iter()
        .filter_map(|t| {
            Context::from_pairs([(
                "track".to_owned(),
                RestrictedExpression::new_string(t.as_str().to_owned()),
            )])
            .ok()
            .map(|c| (*t, c))
        })
        .collect();
    for identity in &inv.identities {
        let ents = by_identity
            .get(identity.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let view = derive::view(inv, &pack.functions, opts.as_of, identity, ents);
        let entities = match build_entities(&view, model) {
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
            let Some(context) = contexts.get(track) else { continue };
            let mut ask = |subject: Subject,
                           resource: EntityUid,
                           ent: Option<(&Entitlement, &Facts)>,
                           sink: &mut Problems| {
                let Some(set) = sets.sets.get(&(*track, subject)) else {
                    return;
                };
                let action = match uid("Action", subject.action()) {
                    Ok(a) => a,
                    Err(p) => return sink.push(p),
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
                        return sink.push(Problem::error(
                            Code::EntityError,
                            Some(identity.loc.clone()),
                            format!("invalid request for `{}`: {e}", identity.id),
                        ))
                    }
                };
                let response = authorizer.is_authorized(&request, set, &entities);
                for err in response.diagnostics().errors() {
                    let loc = ent.map_or_else(|| identity.loc.clone(), |(e, _)| e.loc.clone());
                    sink.push(
                        Problem::error(
                            Code::EvaluationError,
                            Some(loc),
                            format!(
                                "cedar could not evaluate a {} policy for `{}`: {err}",
                                track.as_str(),
                                ent.map_or(identity.id.as_str(), |(e, _)| e.id.as_str())
                            ),
                        )
                        .with_help("the run fails closed: fix the policy or the data so every rule can be evaluated"),
                    );
                }
                let mut fired: Vec<&Rule> = response
                    .diagnostics()
                    .reason()
                    .filter_map(|pid| rules.get(pid.to_string().as_str()).copied())
                    .collect();
                fired.sort_by(|a, b| a.id.cmp(&b.id));
                for rule in fired {
                    report.findings.push(finding(rule, &view, ent));
                }
            };
            if let Ok(resource) = uid("Identity", &identity.id) {
                ask(Subject::Identity, resource, None, &mut sink);
            }
            for (e, facts) in &view.entitlements {
                match uid("Entitlement", &e.id) {
                    Ok(resource) => ask(Subject::Entitlement, resource, Some((e, facts)), &mut sink),
                    Err(p) => sink.push(p),
                }
                if let Some(n) = report.evaluated.get_mut(track) {
                    *n += 1;
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

fn build_entities(view: &View<'_>, model: &Model) -> Result<Entities, Problem> {
    let mut list = Vec::with_capacity(view.entitlements.len() + view.systems.len() + 1);
    list.push(entity(
        uid("Identity", &view.identity.id)?,
        &view.facts,
        &view.identity.tags,
    )?);
    for (id, (system, facts)) in &view.systems {
        list.push(entity(uid("System", id)?, facts, &system.tags)?);
    }
    for (e, facts) in &view.entitlements {
        list.push(entity(uid("Entitlement", &e.id)?, facts, &[])?);
    }
    Entities::from_entities(list, Some(&model.schema)).map_err(|e| {
        Problem::error(
            Code::EntityError,
            None,
            format!("cannot build entities for `{}`: {e}", view.identity.id),
        )
    })
}

fn evidence_value(path: &str, view: &View<'_>, ent: Option<(&Entitlement, &Facts)>) -> Json {
    let (root, attr) = path.split_once('.').unwrap_or((path, ""));
    let tag = |tags: &[(String, String)], name: &str| {
        tags.iter()
            .find(|(k, _)| k == name)
            .map_or(Json::Null, |(_, v)| Json::String(v.clone()))
    };
    let system = ent.and_then(|(e, _)| view.systems.get(e.system.value.as_str()));
    let fact = |facts: &Facts, a: &str| facts.get(a).map_or(Json::Null, Fact::to_json);
    match (root, attr.strip_prefix("tags.")) {
        ("identity", Some(t)) => tag(&view.identity.tags, t),
        ("system", Some(t)) => system.map_or(Json::Null, |(s, _)| tag(&s.tags, t)),
        ("identity", None) => fact(&view.facts, attr),
        ("entitlement", None) => ent.map_or(Json::Null, |(_, f)| fact(f, attr)),
        ("system", None) => system.map_or(Json::Null, |(_, f)| fact(f, attr)),
        _ => Json::Null,
    }
}

fn finding(rule: &Rule, view: &View<'_>, ent: Option<(&Entitlement, &Facts)>) -> Finding {
    let identity = view.identity;
    let involved: Vec<&(&Entitlement, Facts)> = match ent {
        Some((e, _)) => view.entitlements.iter().filter(|(x, _)| x.id == e.id).collect(),
        None => view
            .entitlements
            .iter()
            .filter(|(e, facts)| {
                let in_scope = view.systems.get(e.system.value.as_str()).is_some_and(|(s, _)| s.sox_in_scope);
                let scope_ok = rule.involves == Involves::All || in_scope;
                let funcs_ok = rule.functions.is_empty()
                    || matches!(facts.get("functions"), Some(Fact::Set(fs)) if fs.iter().any(|f| rule.functions.contains(f)));
                scope_ok && funcs_ok
            })
            .collect(),
    };
    let entitlements: Vec<String> = involved.iter().map(|(e, _)| e.id.clone()).collect();
    let mut evidence: BTreeMap<String, Json> = rule
        .reads
        .iter()
        .map(|p| (p.clone(), evidence_value(p, view, ent)))
        .collect();
    if ent.is_none() && !rule.functions.is_empty() {
        evidence.insert("conflict".to_owned(), Json::from(rule.functions.clone()));
        let mut systems: Vec<&str> = involved.iter().map(|(e, _)| e.system.value.as_str()).collect();
        systems.dedup();
        evidence.insert("systems".to_owned(), Json::from(systems));
    }
    if let Some(owner) = &identity.owner {
        if rule.reads.iter().any(|p| p.starts_with("identity.owner")) {
            evidence.insert("identity.owner".to_owned(), Json::String(owner.value.clone()));
        }
    }
    let mut controls = rule.controls.clone();
    if identity.kind.is_nhi() {
        for c in &rule.nhi_controls {
            if !controls.contains(c) {
                controls.push(c.clone());
            }
        }
    }
    let message = render_message(rule, view, ent, &evidence);
    let (file, line) = match ent {
        Some((e, _)) => (e.loc.file().to_owned(), e.loc.line),
        None => (identity.loc.file().to_owned(), identity.loc.line),
    };
    Finding {
        id: fingerprint(&rule.id, rule.track, &identity.id, &entitlements),
        rule: rule.id.clone(),
        track: rule.track,
        category: rule.category,
        severity: rule.severity,
        controls,
        identity: identity.id.clone(),
        entitlements,
        message,
        evidence,
        remediation: rule.remediation.clone(),
        status: FindingStatus::Open,
        file,
        line,
    }
}

fn render_message(
    rule: &Rule,
    view: &View<'_>,
    ent: Option<(&Entitlement, &Facts)>,
    evidence: &BTreeMap<String, Json>,
) -> String {
    let default = match ent {
        Some(_) => format!("{}: `{{permission}}` on `{{system}}`", rule.title),
        None => format!("{}: `{{identity}}`", rule.title),
    };
    let template = rule.message.clone().unwrap_or(default);
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 1..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            out.push_str(rest.get(start..).unwrap_or_default());
            rest = "";
            break;
        };
        let key = after.get(..end).unwrap_or_default();
        let value = match key {
            "identity" => Some(view.identity.id.clone()),
            "owner" => view.identity.owner.as_ref().map(|o| o.value.clone()),
            "entitlement" => ent.map(|(e, _)| e.id.clone()),
            "system" => ent.map(|(e, _)| e.system.value.clone()),
            "permission" => ent.map(|(e, _)| e.permission.clone()),
            path => evidence
                .get(path)
                .cloned()
                .or_else(|| Some(evidence_value(path, view, ent)))
                .map(|v| match v {
                    Json::String(s) => s,
                    Json::Null => "unknown".to_owned(),
                    other => other.to_string(),
                }),
        };
        out.push_str(&value.unwrap_or_else(|| "unknown".to_owned()));
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}
