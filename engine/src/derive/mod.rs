//! Facts derived once in Rust, relative to `--as-of`, for one identity and its access: idle
//! days, credential age, owner status, the SoD functions it holds across systems. Policies
//! then compare plain numbers, strings and sets. An absent fact means missing data.

mod agents;

pub use agents::Delegation;

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

/// The name of a derived attribute. Facts are looked up many times per entitlement (by the
/// guards, the memo, the evidence), so they are keyed by this small enum rather than by
/// text; the variants are in the order of their names, so facts iterate as by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Attr {
    ActiveSponsorCount,
    Acts,
    Broad,
    CredentialAgeDays,
    CredentialExpiresInDays,
    DaysIdle,
    DaysSinceCreated,
    DaysSinceGranted,
    DaysSinceSeen,
    DaysSinceTerminated,
    DaysUntilExpiry,
    DelegationConflictCount,
    DelegationConflicts,
    DelegatorHolds,
    Department,
    EntitlementCount,
    Environment,
    Functions,
    HasJustification,
    HasManager,
    HasOwner,
    HasTicket,
    HasUsageData,
    InteractiveLogin,
    IsAgent,
    IsNhi,
    IsShared,
    Kind,
    OwnerIsHuman,
    OwnerStatus,
    Permission,
    Privileged,
    PrivilegedCount,
    Source,
    SoxEntitlementCount,
    SoxFunctions,
    SoxInScope,
    SoxSameSystemPairs,
    SponsorCount,
    SponsorStatuses,
    Status,
    System,
    Uncorrelated,
}

impl Attr {
    /// Every attribute, in the order of their names.
    pub const ALL: [Attr; 43] = [
        Attr::ActiveSponsorCount,
        Attr::Acts,
        Attr::Broad,
        Attr::CredentialAgeDays,
        Attr::CredentialExpiresInDays,
        Attr::DaysIdle,
        Attr::DaysSinceCreated,
        Attr::DaysSinceGranted,
        Attr::DaysSinceSeen,
        Attr::DaysSinceTerminated,
        Attr::DaysUntilExpiry,
        Attr::DelegationConflictCount,
        Attr::DelegationConflicts,
        Attr::DelegatorHolds,
        Attr::Department,
        Attr::EntitlementCount,
        Attr::Environment,
        Attr::Functions,
        Attr::HasJustification,
        Attr::HasManager,
        Attr::HasOwner,
        Attr::HasTicket,
        Attr::HasUsageData,
        Attr::InteractiveLogin,
        Attr::IsAgent,
        Attr::IsNhi,
        Attr::IsShared,
        Attr::Kind,
        Attr::OwnerIsHuman,
        Attr::OwnerStatus,
        Attr::Permission,
        Attr::Privileged,
        Attr::PrivilegedCount,
        Attr::Source,
        Attr::SoxEntitlementCount,
        Attr::SoxFunctions,
        Attr::SoxInScope,
        Attr::SoxSameSystemPairs,
        Attr::SponsorCount,
        Attr::SponsorStatuses,
        Attr::Status,
        Attr::System,
        Attr::Uncorrelated,
    ];

    /// The attribute's name, as policies write it.
    pub fn name(self) -> &'static str {
        match self {
            Attr::ActiveSponsorCount => "active_sponsor_count",
            Attr::Acts => "acts",
            Attr::Broad => "broad",
            Attr::CredentialAgeDays => "credential_age_days",
            Attr::CredentialExpiresInDays => "credential_expires_in_days",
            Attr::DaysIdle => "days_idle",
            Attr::DaysSinceCreated => "days_since_created",
            Attr::DaysSinceGranted => "days_since_granted",
            Attr::DaysSinceSeen => "days_since_seen",
            Attr::DaysSinceTerminated => "days_since_terminated",
            Attr::DaysUntilExpiry => "days_until_expiry",
            Attr::DelegationConflictCount => "delegation_conflict_count",
            Attr::DelegationConflicts => "delegation_conflicts",
            Attr::DelegatorHolds => "delegator_holds",
            Attr::Department => "department",
            Attr::EntitlementCount => "entitlement_count",
            Attr::Environment => "environment",
            Attr::Functions => "functions",
            Attr::HasJustification => "has_justification",
            Attr::HasManager => "has_manager",
            Attr::HasOwner => "has_owner",
            Attr::HasTicket => "has_ticket",
            Attr::HasUsageData => "has_usage_data",
            Attr::InteractiveLogin => "interactive_login",
            Attr::IsAgent => "is_agent",
            Attr::IsNhi => "is_nhi",
            Attr::IsShared => "is_shared",
            Attr::Kind => "kind",
            Attr::OwnerIsHuman => "owner_is_human",
            Attr::OwnerStatus => "owner_status",
            Attr::Permission => "permission",
            Attr::Privileged => "privileged",
            Attr::PrivilegedCount => "privileged_count",
            Attr::Source => "source",
            Attr::SoxEntitlementCount => "sox_entitlement_count",
            Attr::SoxFunctions => "sox_functions",
            Attr::SoxInScope => "sox_in_scope",
            Attr::SoxSameSystemPairs => "sox_same_system_pairs",
            Attr::SponsorCount => "sponsor_count",
            Attr::SponsorStatuses => "sponsor_statuses",
            Attr::Status => "status",
            Attr::System => "system",
            Attr::Uncorrelated => "uncorrelated",
        }
    }

    /// The attribute named `name`; `None` for a name that is not a derived fact.
    pub fn of(name: &str) -> Option<Attr> {
        Some(match name {
            "active_sponsor_count" => Attr::ActiveSponsorCount,
            "acts" => Attr::Acts,
            "broad" => Attr::Broad,
            "credential_age_days" => Attr::CredentialAgeDays,
            "credential_expires_in_days" => Attr::CredentialExpiresInDays,
            "days_idle" => Attr::DaysIdle,
            "days_since_created" => Attr::DaysSinceCreated,
            "days_since_granted" => Attr::DaysSinceGranted,
            "days_since_seen" => Attr::DaysSinceSeen,
            "days_since_terminated" => Attr::DaysSinceTerminated,
            "days_until_expiry" => Attr::DaysUntilExpiry,
            "delegation_conflict_count" => Attr::DelegationConflictCount,
            "delegation_conflicts" => Attr::DelegationConflicts,
            "delegator_holds" => Attr::DelegatorHolds,
            "department" => Attr::Department,
            "entitlement_count" => Attr::EntitlementCount,
            "environment" => Attr::Environment,
            "functions" => Attr::Functions,
            "has_justification" => Attr::HasJustification,
            "has_manager" => Attr::HasManager,
            "has_owner" => Attr::HasOwner,
            "has_ticket" => Attr::HasTicket,
            "has_usage_data" => Attr::HasUsageData,
            "interactive_login" => Attr::InteractiveLogin,
            "is_agent" => Attr::IsAgent,
            "is_nhi" => Attr::IsNhi,
            "is_shared" => Attr::IsShared,
            "kind" => Attr::Kind,
            "owner_is_human" => Attr::OwnerIsHuman,
            "owner_status" => Attr::OwnerStatus,
            "permission" => Attr::Permission,
            "privileged" => Attr::Privileged,
            "privileged_count" => Attr::PrivilegedCount,
            "source" => Attr::Source,
            "sox_entitlement_count" => Attr::SoxEntitlementCount,
            "sox_functions" => Attr::SoxFunctions,
            "sox_in_scope" => Attr::SoxInScope,
            "sox_same_system_pairs" => Attr::SoxSameSystemPairs,
            "sponsor_count" => Attr::SponsorCount,
            "sponsor_statuses" => Attr::SponsorStatuses,
            "status" => Attr::Status,
            "system" => Attr::System,
            "uncorrelated" => Attr::Uncorrelated,
            _ => return None,
        })
    }
}

/// Attribute → value; absent optional attributes are simply not present. A vector sorted by
/// attribute: an identity has about twenty facts, an entitlement about ten.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(Vec<(Attr, Fact)>);

impl Facts {
    /// No facts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `attr` (replacing an earlier value).
    pub fn insert(&mut self, attr: Attr, value: Fact) {
        match self.0.binary_search_by(|(a, _)| a.cmp(&attr)) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => self.0.insert(i, (attr, value)),
        }
    }

    /// The value of `attr`.
    pub fn attr(&self, attr: Attr) -> Option<&Fact> {
        self.0.iter().find(|(a, _)| *a == attr).map(|(_, v)| v)
    }

    /// The value of the attribute named `name` (`None` too for a name that is no fact).
    pub fn get(&self, name: &str) -> Option<&Fact> {
        Attr::of(name).and_then(|a| self.attr(a))
    }

    /// Name and value of every fact, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Fact)> {
        self.0.iter().map(|(a, v)| (a.name(), v))
    }
}

impl<const N: usize> From<[(Attr, Fact); N]> for Facts {
    fn from(entries: [(Attr, Fact); N]) -> Self {
        let mut f = Self::new();
        for (a, v) in entries {
            f.insert(a, v);
        }
        f
    }
}

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

fn insert_opt(f: &mut Facts, key: Attr, v: Option<Fact>) {
    if let Some(v) = v {
        f.insert(key, v);
    }
}

/// Facts of a system (they depend on the system and its owner only).
pub fn system_facts(inv: &Inventory, system: &System) -> Facts {
    let mut f = Facts::new();
    f.insert(Attr::SoxInScope, Fact::Bool(system.sox_in_scope));
    insert_opt(&mut f, Attr::Environment, system.environment.clone().map(Fact::Str));
    let (status, _) = owner_status(inv, system.owner.as_ref().map(|o| o.value.as_str()));
    f.insert(Attr::HasOwner, Fact::Bool(system.owner.is_some()));
    f.insert(Attr::OwnerStatus, Fact::Str(status.to_owned()));
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

/// Derives the facts of `identity` and `entitlements` (all of its entitlements);
/// `delegation` holds what the people tied to agents hold.
pub fn view<'a>(
    inv: &'a Inventory,
    system_table: &'a [Facts],
    catalog: &FunctionCatalog,
    delegation: &Delegation,
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
        f.insert(Attr::System, Fact::System(system.id.clone()));
        f.insert(Attr::Permission, Fact::Str(e.permission.to_string()));
        f.insert(Attr::Privileged, Fact::Bool(e.privileged));
        f.insert(Attr::Broad, Fact::Bool(catalog.is_broad(&e.permission)));
        f.insert(Attr::Functions, Fact::Set(funcs));
        f.insert(Attr::HasJustification, Fact::Bool(e.justification.is_some()));
        f.insert(Attr::HasTicket, Fact::Bool(e.ticket.is_some()));
        insert_opt(&mut f, Attr::DaysSinceGranted, days(as_of, e.granted_at));
        insert_opt(&mut f, Attr::DaysIdle, days(as_of, e.last_used));
        insert_opt(
            &mut f,
            Attr::DaysUntilExpiry,
            e.expires_at.map(|x| Fact::Long((x - as_of).num_days())),
        );
        insert_opt(
            &mut f,
            Attr::Source,
            e.source.as_deref().map(|s| Fact::Str(s.to_owned())),
        );
        if agents::on_behalf_of(identity) {
            let held = delegation.any_holds(&identity.delegators, &e.system.value, &e.permission);
            f.insert(Attr::DelegatorHolds, Fact::Bool(held));
        }
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
    f.insert(Attr::Kind, Fact::Str(i.kind.as_str().to_owned()));
    f.insert(Attr::IsNhi, Fact::Bool(i.kind.is_nhi()));
    f.insert(Attr::IsAgent, Fact::Bool(i.is_agent()));
    let (listed, active, statuses) = agents::sponsors(inv, i);
    f.insert(Attr::SponsorCount, Fact::Long(listed));
    f.insert(Attr::ActiveSponsorCount, Fact::Long(active));
    f.insert(Attr::SponsorStatuses, Fact::Set(statuses));
    if i.is_agent() {
        insert_opt(&mut f, Attr::Acts, i.acts.map(|a| Fact::Str(a.as_str().to_owned())));
    }
    let conflicts = if i.is_agent() {
        delegation.conflicts(i, &sox_functions)
    } else {
        Vec::new()
    };
    f.insert(
        Attr::DelegationConflictCount,
        Fact::Long(i64::try_from(conflicts.len()).unwrap_or(i64::MAX)),
    );
    f.insert(Attr::DelegationConflicts, Fact::Set(conflicts));
    f.insert(Attr::Status, Fact::Str(i.status.as_str().to_owned()));
    f.insert(Attr::HasOwner, Fact::Bool(i.owner.is_some()));
    f.insert(Attr::OwnerStatus, Fact::Str(status.to_owned()));
    f.insert(Attr::OwnerIsHuman, Fact::Bool(owner_human));
    f.insert(Attr::HasManager, Fact::Bool(i.manager.is_some()));
    insert_opt(&mut f, Attr::Department, i.department.clone().map(Fact::Str));
    f.insert(Attr::InteractiveLogin, Fact::Bool(i.interactive_login));
    f.insert(Attr::Uncorrelated, Fact::Bool(i.uncorrelated));
    f.insert(Attr::IsShared, Fact::Bool(truthy("shared") || truthy("generic")));
    insert_opt(&mut f, Attr::DaysSinceSeen, days(as_of, i.last_seen));
    insert_opt(&mut f, Attr::DaysSinceCreated, days(as_of, i.created_at));
    insert_opt(&mut f, Attr::DaysSinceTerminated, days(as_of, i.terminated_at));
    insert_opt(&mut f, Attr::CredentialAgeDays, days(as_of, i.credential_rotated_at));
    insert_opt(
        &mut f,
        Attr::CredentialExpiresInDays,
        i.credential_expires_at.map(|x| Fact::Long((x - as_of).num_days())),
    );
    f.insert(Attr::HasUsageData, Fact::Bool(i.last_seen.is_some() || any_used));
    f.insert(
        Attr::EntitlementCount,
        Fact::Long(i64::try_from(ents.len()).unwrap_or(i64::MAX)),
    );
    f.insert(Attr::PrivilegedCount, Fact::Long(privileged));
    f.insert(Attr::SoxEntitlementCount, Fact::Long(sox_count));
    f.insert(Attr::Functions, Fact::Set(functions.into_iter().collect()));
    f.insert(Attr::SoxFunctions, Fact::Set(sox_functions.into_iter().collect()));
    f.insert(Attr::SoxSameSystemPairs, Fact::Set(pairs.into_iter().collect()));
    View {
        identity,
        entitlements: ents,
        facts: f,
        systems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_named_once_and_ordered_by_name() {
        for a in Attr::ALL {
            assert_eq!(Attr::of(a.name()), Some(a), "{a:?}");
        }
        // Facts iterate in attribute order; that is the order of the names, as a map by
        // name would give.
        assert!(Attr::ALL.windows(2).all(|w| w[0] < w[1] && w[0].name() < w[1].name()));
        assert_eq!(Attr::of("owner"), None);
    }

    #[test]
    fn facts_replace_look_up_and_iterate_by_name() {
        let mut f = Facts::from([
            (Attr::Status, Fact::Str("active".to_owned())),
            (Attr::IsNhi, Fact::Bool(true)),
        ]);
        f.insert(Attr::DaysIdle, Fact::Long(3));
        f.insert(Attr::IsNhi, Fact::Bool(false));
        assert_eq!(f.get("is_nhi"), Some(&Fact::Bool(false)));
        assert_eq!(f.attr(Attr::DaysIdle), Some(&Fact::Long(3)));
        assert_eq!(f.get("days_since_seen"), None);
        assert_eq!(f.get("no_such_fact"), None);
        let names: Vec<&str> = f.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["days_idle", "is_nhi", "status"]);
    }
}
