//! Turning a satisfied `forbid` into a finding: the entitlements involved, the evidence
//! values the rule read, the controls, the rendered message and the record's location.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::derive::{Attr, Fact, Facts, View};
use crate::finding::{fingerprint, Evidence, Finding, FindingStatus};
use crate::inventory::Entitlement;
use crate::policy::{Involves, Rule};

/// Strings every finding of one rule shares, allocated once per run rather than per
/// finding (a large review has hundreds of thousands of findings).
pub struct Shared {
    rule: Arc<str>,
    remediation: Arc<str>,
    controls: Arc<[String]>,
    controls_nhi: Arc<[String]>,
    reads: Vec<Arc<str>>,
    /// The message template of findings about an entitlement, and about an identity.
    templates: [String; 2],
}

impl Shared {
    fn of(rule: &Rule) -> Self {
        let mut nhi = rule.controls.clone();
        for c in &rule.nhi_controls {
            if !nhi.contains(c) {
                nhi.push(c.clone());
            }
        }
        Self {
            rule: Arc::from(rule.id.as_str()),
            remediation: Arc::from(rule.remediation.as_str()),
            controls: Arc::from(rule.controls.clone()),
            controls_nhi: Arc::from(nhi),
            reads: rule.reads.iter().map(|r| Arc::from(r.as_str())).collect(),
            templates: [
                rule.message
                    .clone()
                    .unwrap_or_else(|| format!("{}: `{{permission}}` on `{{system}}`", rule.title)),
                rule.message
                    .clone()
                    .unwrap_or_else(|| format!("{}: `{{identity}}`", rule.title)),
            ],
        }
    }
}

/// The shared strings of every rule of a pack, by rule id.
pub struct SharedRules(hashbrown::HashMap<String, Shared>);

impl SharedRules {
    /// Builds them for `rules`.
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Self {
        Self(rules.into_iter().map(|r| (r.id.clone(), Shared::of(r))).collect())
    }
}

fn evidence_value(path: &str, view: &View<'_>, ent: Option<(&Entitlement, &Facts)>) -> Json {
    let (root, attr) = path.split_once('.').unwrap_or((path, ""));
    let tag = |tags: &[(String, String)], name: &str| {
        tags.iter()
            .find(|(k, _)| k == name)
            .map_or(Json::Null, |(_, v)| Json::String(v.clone()))
    };
    let system = ent.and_then(|(e, _)| view.systems.get(&*e.system.value));
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

/// The finding `rule` makes for `view` (and `ent` for entitlement rules).
pub fn finding(rule: &Rule, shared: &SharedRules, view: &View<'_>, ent: Option<(&Entitlement, &Facts)>) -> Finding {
    let own;
    let shared = match shared.0.get(&rule.id) {
        Some(s) => s,
        None => {
            own = Shared::of(rule);
            &own
        }
    };
    let identity = view.identity;
    let involved: Vec<&(&Entitlement, Facts)> = match ent {
        Some((e, _)) => view.entitlements.iter().filter(|(x, _)| x.id == e.id).collect(),
        None => view
            .entitlements
            .iter()
            .filter(|(e, facts)| {
                let in_scope = view.systems.get(&*e.system.value).is_some_and(|(s, _)| s.sox_in_scope);
                let scope_ok = rule.involves == Involves::All || in_scope;
                let funcs_ok = rule.functions.is_empty()
                    || matches!(facts.attr(Attr::Functions), Some(Fact::Set(fs)) if fs.iter().any(|f| rule.functions.contains(f)));
                scope_ok && funcs_ok
            })
            .collect(),
    };
    let entitlements: Vec<String> = involved.iter().map(|(e, _)| e.id.clone()).collect();
    let mut evidence = Evidence::default();
    for p in &shared.reads {
        evidence.insert(Arc::clone(p), evidence_value(p, view, ent));
    }
    if ent.is_none() && !rule.functions.is_empty() {
        evidence.insert(Arc::from("conflict"), Json::from(rule.functions.clone()));
        let mut systems: Vec<&str> = involved.iter().map(|(e, _)| &*e.system.value).collect();
        systems.dedup();
        evidence.insert(Arc::from("systems"), Json::from(systems));
    }
    // A count says that something holds; the evidence also says what: the conflicts an
    // agent completes, the statuses of its sponsors.
    for (read, shown) in [
        ("identity.delegation_conflict_count", "identity.delegation_conflicts"),
        ("identity.active_sponsor_count", "identity.sponsor_statuses"),
    ] {
        if identity.is_agent() && rule.reads.iter().any(|p| p == read) {
            evidence.insert(Arc::from(shown), evidence_value(shown, view, ent));
        }
    }
    if let Some(owner) = &identity.owner {
        if rule.reads.iter().any(|p| p.starts_with("identity.owner")) {
            evidence.insert(Arc::from("identity.owner"), Json::String(owner.value.clone()));
        }
    }
    let controls = Arc::clone(if identity.kind.is_nhi() {
        &shared.controls_nhi
    } else {
        &shared.controls
    });
    let template = if ent.is_some() {
        &shared.templates[0]
    } else {
        &shared.templates[1]
    };
    let message = render_message(template, view, ent, &evidence);
    let (file, line) = match ent {
        Some((e, _)) => (e.loc.src.name_shared(), e.loc.line),
        None => (identity.loc.src.name_shared(), identity.loc.line),
    };
    Finding {
        id: fingerprint(&rule.id, rule.track, &identity.id, &entitlements),
        rule: Arc::clone(&shared.rule),
        track: rule.track,
        category: rule.category,
        severity: rule.severity,
        controls,
        identity: identity.id.clone(),
        entitlements,
        message,
        evidence,
        remediation: Arc::clone(&shared.remediation),
        status: FindingStatus::Open,
        file,
        line,
        change: None,
    }
}

/// `template` with each `{placeholder}` replaced by its value (`unknown` when it has none).
fn render_message(template: &str, view: &View<'_>, ent: Option<(&Entitlement, &Facts)>, evidence: &Evidence) -> String {
    use std::fmt::Write as _;
    const UNKNOWN: &str = "unknown";
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 1..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            out.push_str(rest.get(start..).unwrap_or_default());
            rest = "";
            break;
        };
        let key = after.get(..end).unwrap_or_default();
        match key {
            "identity" => out.push_str(&view.identity.id),
            "owner" => out.push_str(view.identity.owner.as_ref().map_or(UNKNOWN, |o| o.value.as_str())),
            "entitlement" => out.push_str(ent.map_or(UNKNOWN, |(e, _)| e.id.as_str())),
            "system" => out.push_str(ent.map_or(UNKNOWN, |(e, _)| &*e.system.value)),
            "permission" => out.push_str(ent.map_or(UNKNOWN, |(e, _)| &*e.permission)),
            path => {
                let computed;
                let value = match evidence.get(path) {
                    Some(v) => v,
                    None => {
                        computed = evidence_value(path, view, ent);
                        &computed
                    }
                };
                match value {
                    Json::String(s) => out.push_str(s),
                    Json::Null => out.push_str(UNKNOWN),
                    // A set of names reads as a list in a sentence.
                    Json::Array(items) if items.is_empty() => out.push_str("none"),
                    Json::Array(items) if items.iter().all(Json::is_string) => {
                        let names: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
                        out.push_str(&names.join(", "));
                    }
                    other => {
                        let _ = write!(out, "{other}");
                    }
                }
            }
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}
