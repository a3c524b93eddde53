//! Facts derived once in Rust, relative to `--as-of`, for one identity and its access: idle
//! days, credential age, owner status, the SoD functions it holds across systems. Policies
//! then compare plain numbers, strings and sets. An absent fact means missing data.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::inventory::{Entitlement, Identity, Inventory, System};
use crate::policy::FunctionCatalog;

/// One derived attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fact {
    /// `Bool`.
    Bool(bool),
    /// `Long`.
    Long(i64),
    /// `String`.
    Str(String),
    /// `Set<String>`, sorted.
    Set(Vec<String>),
    /// A reference to the system with this id.
    System(String),
}

impl Fact {
    /// The value as evidence JSON.
    pub fn to_json(&self) -> Json {
        match self {
            Fact::Bool(b) => Json::Bool(*b),
            Fact::Long(n) => Json::from(*n),
            Fact::Str(s) | Fact::System(s) => Json::String(s.clone()),
            Fact::Set(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
        }
    }
}

/// Attribute name → value; absent optional attributes are simply not present.
pub type Facts = BTreeMap<&'static str, Fact>;

/// An identity with its entitlements and everything derived about them.
#[derive(Debug)]
pub struct View<'a> {
    /// The identity record.
    pub identity: &'a Identity,
    /// Its entitlements, sorted by id, with their facts.
    pub entitlements: Vec<(&'a Entitlement, Facts)>,
    /// Facts of the identity.
    pub facts: Facts,
    /// Facts of every system it has access on, by id.
    pub systems: BTreeMap<&'a str, (&'a System, &'a Facts)>,
}

fn days(as_of: DateTime<Utc>, then: Option<DateTime<Utc>>) -> Option<Fact> {
    then.map(|t| Fact::Long((as_of - t).num_days()))
}

fn owner_status(inv: &Inventory, owner: Option<&str>) -> (&'static str, bool) {
    match owner.and_then(|o| inv.identity(o)) {
        None if owner.is_none() => ("none", false),
        // An owner id not in the inventory (a warning at load): nobody accountable.
        None => ("unknown", false),
        Some(o) => (o.status.as_str(), !o.kind.is_nhi()),
    }
}

fn insert_opt(f: &mut Facts, key: &'static str, v: Option<Fact>) {
    if let Some(v) = v {
        f.insert(key, v);
    }
}

/// Facts of a system (they depend on the system and its owner only).
pub fn system_facts(inv: &Inventory, system: &System) -> Facts {
    let mut f = Facts::new();
    f.insert("sox_in_scope", Fact::Bool(system.sox_in_scope));
    insert_opt(&mut f, "environment", system.environment.clone().map(Fact::Str));
    let (status, _) = owner_status(inv, system.owner.as_ref().map(|o| o.value.as_str()));
    f.insert("has_owner", Fact::Bool(system.owner.is_some()));
    f.insert("owner_status", Fact::Str(status.to_owned()));
    f
}

/// Facts of every system, in the inventory's order: computed once per run, since they
/// depend on the system and its owner only.
pub fn system_table(inv: &Inventory) -> Vec<Facts> {
    inv.systems.iter().map(|s| system_facts(inv, s)).collect()
}

/// The SoD functions of one entitlement: those written on it and those the catalog maps.
pub fn functions_of(e: &Entitlement, catalog: &FunctionCatalog) -> Vec<String> {
    let mut set: BTreeSet<String> = e.functions.iter().map(|f| f.value.clone()).collect();
    set.extend(catalog.mapped(&e.system.value, &e.permission).map(str::to_owned));
    set.into_iter().collect()
}

/// Derives the facts of `identity` and `entitlements` (all of its entitlements).
pub fn view<'a>(
    inv: &'a Inventory,
    system_table: &'a [Facts],
    catalog: &FunctionCatalog,
    as_of: DateTime<Utc>,
    identity: &'a Identity,
    entitlements: &[&'a Entitlement],
) -> View<'a> {
    let mut systems: BTreeMap<&'a str, (&'a System, &'a Facts)> = BTreeMap::new();
    let mut ents = Vec::with_capacity(entitlements.len());
    let mut functions = BTreeSet::new();
    let mut sox_functions = BTreeSet::new();
    let mut per_system: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let (mut privileged, mut sox_count, mut any_used) = (0i64, 0i64, false);
    for e in entitlements {
        let Some(at) = inv
            .systems
            .binary_search_by(|s| s.id.as_str().cmp(&e.system.value))
            .ok()
        else {
            continue;
        };
        let (Some(system), Some(system_facts)) = (inv.systems.get(at), system_table.get(at)) else {
            continue;
        };
        systems.entry(system.id.as_str()).or_insert((system, system_facts));
        let funcs = functions_of(e, catalog);
        functions.extend(funcs.iter().cloned());
        if system.sox_in_scope {
            sox_count += 1;
            sox_functions.extend(funcs.iter().cloned());
            per_system
                .entry(system.id.as_str())
                .or_default()
                .extend(funcs.iter().cloned());
        }
        privileged += i64::from(e.privileged);
        any_used |= e.last_used.is_some();
        let mut f = Facts::new();
        f.insert("system", Fact::System(system.id.clone()));
        f.insert("permission", Fact::Str(e.permission.to_string()));
        f.insert("privileged", Fact::Bool(e.privileged));
        f.insert("broad", Fact::Bool(catalog.is_broad(&e.permission)));
        f.insert("functions", Fact::Set(funcs));
        f.insert("has_justification", Fact::Bool(e.justification.is_some()));
        f.insert("has_ticket", Fact::Bool(e.ticket.is_some()));
        insert_opt(&mut f, "days_since_granted", days(as_of, e.granted_at));
        insert_opt(&mut f, "days_idle", days(as_of, e.last_used));
        insert_opt(
            &mut f,
            "days_until_expiry",
            e.expires_at.map(|x| Fact::Long((x - as_of).num_days())),
        );
        insert_opt(&mut f, "source", e.source.as_deref().map(|s| Fact::Str(s.to_owned())));
        ents.push((*e, f));
    }
    let mut pairs = BTreeSet::new();
    for funcs in per_system.values() {
        for a in funcs {
            for b in funcs.range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)) {
                pairs.insert(crate::policy::sod_pair_key(a, b));
            }
        }
    }
    let i = identity;
    let (status, owner_human) = owner_status(inv, i.owner.as_ref().map(|o| o.value.as_str()));
    let truthy = |k: &str| i.tags.iter().any(|(key, v)| key == k && v.eq_ignore_ascii_case("true"));
    let mut f = Facts::new();
    f.insert("kind", Fact::Str(i.kind.as_str().to_owned()));
    f.insert("is_nhi", Fact::Bool(i.kind.is_nhi()));
    f.insert("status", Fact::Str(i.status.as_str().to_owned()));
    f.insert("has_owner", Fact::Bool(i.owner.is_some()));
    f.insert("owner_status", Fact::Str(status.to_owned()));
    f.insert("owner_is_human", Fact::Bool(owner_human));
    f.insert("has_manager", Fact::Bool(i.manager.is_some()));
    insert_opt(&mut f, "department", i.department.clone().map(Fact::Str));
    f.insert("interactive_login", Fact::Bool(i.interactive_login));
    f.insert("uncorrelated", Fact::Bool(i.uncorrelated));
    f.insert("is_shared", Fact::Bool(truthy("shared") || truthy("generic")));
    insert_opt(&mut f, "days_since_seen", days(as_of, i.last_seen));
    insert_opt(&mut f, "days_since_created", days(as_of, i.created_at));
    insert_opt(&mut f, "days_since_terminated", days(as_of, i.terminated_at));
    insert_opt(&mut f, "credential_age_days", days(as_of, i.credential_rotated_at));
    insert_opt(
        &mut f,
        "credential_expires_in_days",
        i.credential_expires_at.map(|x| Fact::Long((x - as_of).num_days())),
    );
    f.insert("has_usage_data", Fact::Bool(i.last_seen.is_some() || any_used));
    f.insert(
        "entitlement_count",
        Fact::Long(i64::try_from(ents.len()).unwrap_or(i64::MAX)),
    );
    f.insert("privileged_count", Fact::Long(privileged));
    f.insert("sox_entitlement_count", Fact::Long(sox_count));
    f.insert("functions", Fact::Set(functions.into_iter().collect()));
    f.insert("sox_functions", Fact::Set(sox_functions.into_iter().collect()));
    f.insert("sox_same_system_pairs", Fact::Set(pairs.into_iter().collect()));
    View {
        identity,
        entitlements: ents,
        facts: f,
        systems,
    }
}
