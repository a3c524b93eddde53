//! Facts about AI agents that need other identities: the status of an agent's sponsors,
//! whether its delegators hold what it holds, and the SoD conflicts an agent completes
//! together with one of its people. What those people hold is gathered once per run
//! ([`Delegation`]), however the inventory is read, so an agent's facts never depend on
//! the order in which identities are evaluated.

use std::collections::{BTreeMap, BTreeSet};

use crate::inventory::{Acts, Entitlement, Identity, Inventory};
use crate::policy::FunctionCatalog;

use super::functions_of;

/// What one sponsor or delegator holds.
#[derive(Debug, Default)]
struct Held {
    /// `(system, permission)` of every entitlement.
    grants: BTreeSet<(String, String)>,
    /// SoD functions held on in-scope systems.
    sox_functions: BTreeSet<String>,
}

/// The access of every sponsor and delegator of the inventory's agents, and the SoD
/// matrix's conflicts, for the agent facts of [`super::view`].
#[derive(Debug, Default)]
pub struct Delegation {
    /// By identity id; only people some agent names and the inventory holds.
    people: BTreeMap<String, Held>,
    /// The conflicting pairs of the SoD matrix.
    conflicts: Vec<(String, String)>,
}

impl Delegation {
    /// An empty table for the people the agents of `inv` name, to be filled with
    /// [`Delegation::add`]; `conflicts` are the SoD matrix's pairs.
    pub fn new(inv: &Inventory, conflicts: Vec<(String, String)>) -> Self {
        let people = inv
            .identities
            .iter()
            .filter(|i| i.is_agent())
            .flat_map(|i| i.sponsors.iter().chain(&i.delegators))
            .filter(|p| inv.identity(&p.value).is_some())
            .map(|p| (p.value.clone(), Held::default()))
            .collect();
        Self { people, conflicts }
    }

    /// The table for a held inventory (every entitlement in memory).
    pub fn of(inv: &Inventory, catalog: &FunctionCatalog, conflicts: Vec<(String, String)>) -> Self {
        let mut d = Self::new(inv, conflicts);
        if !d.people.is_empty() {
            for e in &inv.entitlements {
                d.add(inv, catalog, e);
            }
        }
        d
    }

    /// The identity ids whose entitlements the table wants.
    pub fn people(&self) -> impl Iterator<Item = &str> {
        self.people.keys().map(String::as_str)
    }

    /// Records `e` if its holder is a sponsor or delegator of some agent.
    pub fn add(&mut self, inv: &Inventory, catalog: &FunctionCatalog, e: &Entitlement) {
        let Some(held) = self.people.get_mut(&*e.identity.value) else {
            return;
        };
        held.grants
            .insert((e.system.value.to_string(), e.permission.to_string()));
        if inv.system(&e.system.value).is_some_and(|s| s.sox_in_scope) {
            held.sox_functions.extend(functions_of(e, catalog));
        }
    }

    /// True when one of `delegators` holds `permission` on `system`. A delegator who is
    /// not in the inventory holds nothing.
    pub fn any_holds(&self, delegators: &[crate::node::Spanned<String>], system: &str, permission: &str) -> bool {
        delegators.iter().any(|d| {
            self.people
                .get(&d.value)
                .is_some_and(|h| h.grants.iter().any(|(s, p)| s == system && p == permission))
        })
    }

    /// The SoD conflicts `agent`, holding `sox_functions` on in-scope systems, completes
    /// with one of its sponsors or delegators while neither holds both functions alone;
    /// each as `person (function) + agent (function)`.
    pub fn conflicts(&self, agent: &Identity, sox_functions: &BTreeSet<String>) -> Vec<String> {
        let mut people: Vec<&str> = agent
            .sponsors
            .iter()
            .chain(&agent.delegators)
            .map(|p| p.value.as_str())
            .collect();
        people.sort_unstable();
        people.dedup();
        let mut out = BTreeSet::new();
        for person in people {
            let Some(held) = self.people.get(person) else {
                continue;
            };
            for (a, b) in &self.conflicts {
                let agent_has = |f: &String| sox_functions.contains(f);
                let person_has = |f: &String| held.sox_functions.contains(f);
                if (agent_has(a) && agent_has(b)) || (person_has(a) && person_has(b)) {
                    continue;
                }
                for (theirs, its) in [(a, b), (b, a)] {
                    if person_has(theirs) && agent_has(its) {
                        out.insert(format!("{person} ({theirs}) + {} ({its})", agent.id));
                    }
                }
            }
        }
        out.into_iter().collect()
    }
}

/// Sponsor facts of an identity: how many sponsors it names, how many of them are active
/// people, and their statuses (`unknown` for an id not in the inventory, `not_a_person`
/// for a non-human one). Only an agent's sponsors count; other kinds have none.
pub fn sponsors(inv: &Inventory, identity: &Identity) -> (i64, i64, Vec<String>) {
    if !identity.is_agent() {
        return (0, 0, Vec::new());
    }
    let ids: BTreeSet<&str> = identity.sponsors.iter().map(|s| s.value.as_str()).collect();
    let mut statuses = BTreeSet::new();
    let mut active = 0i64;
    for id in &ids {
        let status = match inv.identity(id) {
            None => "unknown",
            Some(p) if p.kind.is_nhi() => "not_a_person",
            Some(p) => p.status.as_str(),
        };
        active += i64::from(status == "active");
        statuses.insert(status.to_owned());
    }
    let listed = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    (listed, active, statuses.into_iter().collect())
}

/// True when `identity` is an agent acting on behalf of its delegators.
pub fn on_behalf_of(identity: &Identity) -> bool {
    identity.is_agent() && identity.acts == Some(Acts::OnBehalfOf)
}
