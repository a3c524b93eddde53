//! Counterexamples: a concrete request and entities from the solver, replayed through
//! cedar-policy's `Authorizer` and rendered as the derived facts a person can read.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cedar_policy::{Authorizer, Entities, Policy, PolicySet, Request};
use serde::Serialize;
use serde_json::Value as Json;

/// One entity of a counterexample, with the attributes dualtrack derives for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExampleEntity {
    /// `identity`, `entitlement` or `system`.
    pub kind: String,
    /// Its id (the solver's choice).
    pub id: String,
    /// Derived attributes, as Cedar sees them.
    pub attrs: BTreeMap<String, Json>,
    /// Tags, when any.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, Json>,
}

/// A concrete input on which base and head disagree, confirmed by the `Authorizer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// The Cedar action: `entitlement` (one entitlement) or `identity` (one identity).
    pub action: String,
    /// The identity evaluated (the request's principal).
    pub principal: String,
    /// The entitlement (or identity) evaluated (the request's resource).
    pub resource: String,
    /// `entitlement` or `identity`: the kind of entity the resource is.
    pub resource_kind: String,
    /// Does the base rule fire on it (replayed)?
    pub base_fires: bool,
    /// Does the head rule fire on it (replayed)?
    pub head_fires: bool,
    /// Every entity of the example.
    pub entities: Vec<ExampleEntity>,
}

/// Whether `policy` fires (is satisfied) on `request` over `entities`, by the `Authorizer`.
/// An evaluation error is not firing: Cedar skips an erroring `forbid`.
pub(crate) fn fires(policy: &Policy, request: &Request, entities: &Entities) -> Result<bool, String> {
    let set = PolicySet::from_policies([policy.clone()]).map_err(|e| e.to_string())?;
    let response = Authorizer::new().is_authorized(request, &set, entities);
    let fired = response.diagnostics().reason().any(|id| id == policy.id());
    Ok(fired)
}

/// Whether `policy` errors on `request` over `entities`, by the `Authorizer`.
pub(crate) fn errors(policy: &Policy, request: &Request, entities: &Entities) -> Result<bool, String> {
    let set = PolicySet::from_policies([policy.clone()]).map_err(|e| e.to_string())?;
    let response = Authorizer::new().is_authorized(request, &set, entities);
    let errored = response.diagnostics().errors().next().is_some();
    Ok(errored)
}

/// `identity`, `entitlement` or `system` for a Cedar entity type name; empty for others.
fn kind_of(type_name: &str) -> &'static str {
    match type_name.rsplit("::").next().unwrap_or(type_name) {
        "Identity" => "identity",
        "Entitlement" => "entitlement",
        "System" => "system",
        _ => "",
    }
}

impl Example {
    /// Reads the request and entities of a solver model into an example.
    pub(crate) fn new(request: &Request, entities: &Entities, base_fires: bool, head_fires: bool) -> Self {
        let uid = |u: Option<cedar_policy::EntityUid>| u.map(|u| u.id().unescaped().to_owned()).unwrap_or_default();
        let action = request
            .action()
            .map(|a| a.id().unescaped().to_owned())
            .unwrap_or_default();
        let mut list = Vec::new();
        if let Ok(Json::Array(all)) = entities.to_json_value() {
            for e in all {
                let ty = e.pointer("/uid/type").and_then(Json::as_str).unwrap_or_default();
                let kind = match kind_of(ty) {
                    "" => continue,
                    k => k,
                };
                let map = |key: &str| -> BTreeMap<String, Json> {
                    e.get(key)
                        .and_then(Json::as_object)
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
                        .unwrap_or_default()
                };
                list.push(ExampleEntity {
                    kind: kind.to_owned(),
                    id: e
                        .pointer("/uid/id")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    attrs: map("attrs"),
                    tags: map("tags"),
                });
            }
        }
        list.sort_by(|a, b| (rank(&a.kind), &a.id).cmp(&(rank(&b.kind), &b.id)));
        Self {
            action,
            principal: uid(request.principal().cloned()),
            resource: uid(request.resource().cloned()),
            resource_kind: request
                .resource()
                .map(|u| kind_of(&u.type_name().to_string()))
                .unwrap_or_default()
                .to_owned(),
            base_fires,
            head_fires,
            entities: list,
        }
    }

    /// The example as an inventory snippet a person can read: the identity, entitlement and
    /// system evaluated, each fact the rule reads (`reads`, e.g. `entitlement.days_idle`;
    /// every fact when empty) written as the inventory field it comes from where there is
    /// one (`last_used: 91 days before the review date`), else as the derived fact.
    pub fn snippet(&self, reads: &[String], indent: &str) -> String {
        let mut out = String::new();
        for (section, kind) in [
            ("identities", "identity"),
            ("systems", "system"),
            ("entitlements", "entitlement"),
        ] {
            let of_kind: Vec<&ExampleEntity> = self.entities.iter().filter(|e| e.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{indent}{section}:");
            for e in of_kind {
                let role = if kind == self.resource_kind && e.id == self.resource {
                    format!("   # the {kind} evaluated")
                } else if kind == "identity" && e.id == self.principal {
                    "   # the identity evaluated".to_owned()
                } else {
                    String::new()
                };
                let _ = writeln!(out, "{indent}  - id: {}{role}", shown_id(kind, &e.id));
                if kind == "entitlement" {
                    // The request pairs the entitlement with its identity; its system is
                    // an attribute. Both are shown, read or not, to tie the records.
                    let _ = writeln!(out, "{indent}    identity: {}", shown_id("identity", &self.principal));
                    if let Some(Json::String(system)) = e.attrs.get("system") {
                        let _ = writeln!(out, "{indent}    system: {}", shown_id("system", system));
                    }
                }
                for (k, v) in &e.attrs {
                    let path = format!("{kind}.{k}");
                    if k != "system" && (reads.is_empty() || reads.contains(&path)) {
                        let _ = writeln!(out, "{indent}    {}", field(kind, k, v));
                    }
                }
                for (k, v) in &e.tags {
                    let path = format!("{kind}.tags.{k}");
                    if reads.is_empty() || reads.contains(&path) {
                        let _ = writeln!(out, "{indent}    tags.{k}: {}", show(v));
                    }
                }
            }
        }
        out
    }
}

/// How a derived day count maps back to the inventory field it is computed from: the
/// field, and whether the count runs from the field to the review date (`days_idle`) or
/// from the review date to the field (`days_until_expiry`). `derive` computes these; its
/// tests check each pair against this table.
pub const DAY_FACTS: &[(&str, &str, &str, bool)] = &[
    ("entitlement", "days_idle", "last_used", true),
    ("entitlement", "days_since_granted", "granted_at", true),
    ("entitlement", "days_until_expiry", "expires_at", false),
    ("identity", "days_since_seen", "last_seen", true),
    ("identity", "days_since_created", "created_at", true),
    ("identity", "days_since_terminated", "terminated_at", true),
    ("identity", "credential_age_days", "credential_rotated_at", true),
    ("identity", "credential_expires_in_days", "credential_expires_at", false),
];

/// One fact as a line of the snippet.
fn field(kind: &str, fact: &str, v: &Json) -> String {
    let day = DAY_FACTS.iter().find(|(k, f, _, _)| *k == kind && *f == fact);
    match (day, v.as_i64()) {
        (Some((_, _, name, before)), Some(n)) => {
            let when = match (*before, n) {
                (_, 0) => "the review date".to_owned(),
                (true, n) if n > 0 => format!("{n} days before the review date"),
                (true, n) => format!("{} days after the review date", n.unsigned_abs()),
                (false, n) if n > 0 => format!("{n} days after the review date"),
                (false, n) => format!("{} days before the review date", n.unsigned_abs()),
            };
            format!("{name}: {when}   # {fact} = {n}")
        }
        _ => format!("{fact}: {}   # derived", show(v)),
    }
}

/// The solver's id, or a neutral name when it chose the empty string.
fn shown_id(kind: &str, id: &str) -> String {
    if id.is_empty() {
        format!("example-{kind}")
    } else {
        show(&Json::String(id.to_owned()))
    }
}

fn rank(kind: &str) -> u8 {
    match kind {
        "identity" => 0,
        "entitlement" => 1,
        _ => 2,
    }
}

/// Entity references become their id; everything else stays as Cedar wrote it.
fn plain(v: &Json) -> Json {
    if let Some(id) = v.pointer("/__entity/id") {
        return id.clone();
    }
    match v {
        Json::Array(items) => Json::Array(items.iter().map(plain).collect()),
        other => other.clone(),
    }
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}
