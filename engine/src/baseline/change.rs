//! Change classes, computed once per entitlement and identity against a baseline
//! [`State`]: what a delta review re-certifies (`new`, `changed`) and what it may carry
//! forward (`unchanged`), and what [`drift`] lists between any two snapshots.

use std::collections::{BTreeMap, BTreeSet};

use super::state::{Ent, EntDigest, Ident, State, Sys};

pub use crate::finding::Change;

/// An entitlement of the current snapshot compared with the baseline: its class and the
/// fields that changed — its own by name, its holder's as `holder.<field>`, its system's
/// as `system.<field>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The class.
    pub change: Change,
    /// What changed, sorted: own fields first, then the holder's, then the system's.
    pub fields: Vec<String>,
}

impl Classified {
    fn of(fields: Vec<String>) -> Self {
        Classified {
            change: if fields.is_empty() {
                Change::Unchanged
            } else {
                Change::Changed
            },
            fields,
        }
    }

    /// A new record.
    pub fn new_record() -> Self {
        Classified {
            change: Change::New,
            fields: Vec::new(),
        }
    }
}

impl State {
    /// Classifies the current entitlement `id` (as `ent`), held by `holder` on `system`
    /// (each as the current snapshot has them; `None` when it has no such record).
    pub fn classify(&self, id: &str, ent: &EntDigest, holder: Option<&Ident>, system: Option<&Sys>) -> Classified {
        let Some(before) = self.entitlements.get(id) else {
            return Classified::new_record();
        };
        let mut fields: Vec<String> = before.differs_from(ent).into_iter().map(str::to_owned).collect();
        let then_holder = self.identities.get(&*before.identity);
        match (then_holder, holder) {
            (Some(a), Some(b)) => fields.extend(b.changed_from(a).into_iter().map(|f| format!("holder.{f}"))),
            (None, None) => {}
            _ => fields.push("holder".to_owned()),
        }
        let then_system = self.systems.get(&*before.system);
        match (then_system, system) {
            (Some(a), Some(b)) => fields.extend(b.changed_from(a).into_iter().map(|f| format!("system.{f}"))),
            (None, None) => {}
            _ => fields.push("system".to_owned()),
        }
        Classified::of(fields)
    }

    /// Classifies the current identity `id` (as `now`).
    pub fn classify_identity(&self, id: &str, now: &Ident) -> Classified {
        match self.identities.get(id) {
            None => Classified::new_record(),
            Some(then) => Classified::of(now.changed_from(then).into_iter().map(str::to_owned).collect()),
        }
    }
}

/// How a record differs between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Delta {
    /// Only in the head.
    Added,
    /// Only in the base.
    Removed,
    /// In both, with fields that differ.
    Changed,
}

crate::names!(Delta {
    Added = "added",
    Removed = "removed",
    Changed = "changed",
});

/// One entitlement that differs between base and head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementDelta {
    /// Entitlement id.
    pub id: String,
    /// Holder (in the head; in the base when removed).
    pub identity: String,
    /// System.
    pub system: String,
    /// Permission.
    pub permission: String,
    /// Added, removed or changed.
    pub delta: Delta,
    /// The entitlement's own fields that changed (empty unless changed).
    pub fields: Vec<&'static str>,
    /// It became privileged, or gave its holder an SoD function the holder did not hold.
    pub escalated: bool,
}

/// One identity or system that differs between base and head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDelta {
    /// Id.
    pub id: String,
    /// Added, removed or changed.
    pub delta: Delta,
    /// The fields that changed (empty unless changed).
    pub fields: Vec<&'static str>,
}

/// Everything that differs between two snapshots, each list sorted by id. Changes of a
/// holder or a system are listed once, under their own record, not under each
/// entitlement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Entitlements added, removed or changed.
    pub entitlements: Vec<EntitlementDelta>,
    /// Identities added, removed (departed from the inventory) or changed.
    pub identities: Vec<RecordDelta>,
    /// Systems added, removed or changed.
    pub systems: Vec<RecordDelta>,
}

/// The identities and systems that differ from `base` to `head`.
pub fn holder_drift(base: &State, head: &State) -> (Vec<RecordDelta>, Vec<RecordDelta>) {
    (
        records(&base.identities, &head.identities, Ident::changed_from),
        records(&base.systems, &head.systems, Sys::changed_from),
    )
}

/// Whether an entitlement `now` (added, or changed from `then`) escalates its holder's
/// access: it is (or became) privileged, or gives a function the holder held nowhere in
/// the base (`held_before`, of [`State::functions_by_identity`]).
pub fn escalates(now: &Ent, then: Option<&Ent>, held_before: &BTreeMap<&str, BTreeSet<&str>>) -> bool {
    let became_privileged = now.privileged && then.is_none_or(|t| !t.privileged);
    let before = held_before.get(&*now.identity);
    became_privileged || now.functions.iter().any(|f| before.is_none_or(|b| !b.contains(&**f)))
}

/// What differs from `base` to `head`.
pub fn drift(base: &State, head: &State) -> Drift {
    let held_before = base.functions_by_identity();
    let new_function = |e: &Ent| {
        let before = held_before.get(&*e.identity);
        e.functions.iter().any(|f| before.is_none_or(|b| !b.contains(&**f)))
    };
    let mut entitlements = Vec::new();
    for (id, now) in head.entitlements.iter() {
        let (delta, fields, escalated) = match base.entitlements.get(id) {
            None => (Delta::Added, Vec::new(), now.privileged || new_function(now)),
            Some(then) => {
                let fields = now.changed_from(then);
                if fields.is_empty() {
                    continue;
                }
                (
                    Delta::Changed,
                    fields,
                    (now.privileged && !then.privileged) || new_function(now),
                )
            }
        };
        entitlements.push(entitlement_delta(id, now, delta, fields, escalated));
    }
    for (id, then) in base.entitlements.iter() {
        if !head.entitlements.contains_key(id) {
            entitlements.push(entitlement_delta(id, then, Delta::Removed, Vec::new(), false));
        }
    }
    entitlements.sort_by(|a, b| a.id.cmp(&b.id));
    Drift {
        entitlements,
        identities: records(&base.identities, &head.identities, Ident::changed_from),
        systems: records(&base.systems, &head.systems, Sys::changed_from),
    }
}

/// One entitlement's delta, described by `e` (the head's, or the base's when removed).
pub fn entitlement_delta(
    id: &str,
    e: &Ent,
    delta: Delta,
    fields: Vec<&'static str>,
    escalated: bool,
) -> EntitlementDelta {
    EntitlementDelta {
        id: id.to_owned(),
        identity: e.identity.to_string(),
        system: e.system.to_string(),
        permission: e.permission.to_string(),
        delta,
        fields,
        escalated,
    }
}

fn records<T>(
    base: &hashbrown::HashMap<Box<str>, T>,
    head: &hashbrown::HashMap<Box<str>, T>,
    changed: impl Fn(&T, &T) -> Vec<&'static str>,
) -> Vec<RecordDelta> {
    let ids: BTreeSet<&str> = base.keys().chain(head.keys()).map(|k| &**k).collect();
    ids.into_iter()
        .filter_map(|id| {
            let (delta, fields) = match (base.get(id), head.get(id)) {
                (None, Some(_)) => (Delta::Added, Vec::new()),
                (Some(_), None) => (Delta::Removed, Vec::new()),
                (Some(then), Some(now)) => {
                    let f = changed(now, then);
                    if f.is_empty() {
                        return None;
                    }
                    (Delta::Changed, f)
                }
                (None, None) => return None,
            };
            Some(RecordDelta {
                id: id.to_owned(),
                delta,
                fields,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;

    /// An inventory from YAML with `systems`, `identities` and `entitlements` keys.
    fn inventory(text: &str) -> Inventory {
        crate::inventory::load::from_yaml(text)
    }

    const BASE: &str = "
systems:
  - {id: erp, owner: olga, sox_in_scope: true}
  - {id: git, owner: olga}
identities:
  - {id: olga, kind: human}
  - {id: ann, kind: human, manager: olga}
  - {id: bot, kind: service_account, owner: ann}
entitlements:
  - {id: e1, identity: ann, system: erp, permission: pay, functions: [payment-approve], last_used: 2026-06-01}
  - {id: e2, identity: ann, system: git, permission: read}
  - {id: e3, identity: bot, system: git, permission: write}
  - {id: e4, identity: ann, system: git, permission: triage}
";

    /// The base a quarter later: usage moved everywhere; e2 became privileged, e4 is gone,
    /// e5 is new and gives ann a new SoD function; bot has a new owner; erp left SOX scope.
    const HEAD: &str = "
systems:
  - {id: erp, owner: olga}
  - {id: git, owner: olga}
identities:
  - {id: olga, kind: human, last_seen: 2026-09-30}
  - {id: ann, kind: human, manager: olga, last_seen: 2026-09-30}
  - {id: bot, kind: service_account, owner: olga, credential_rotated_at: 2026-09-01}
entitlements:
  - {id: e1, identity: ann, system: erp, permission: pay, functions: [payment-approve], last_used: 2026-09-29}
  - {id: e2, identity: ann, system: git, permission: read, privileged: true}
  - {id: e3, identity: bot, system: git, permission: write, last_used: 2026-09-01}
  - {id: e5, identity: ann, system: erp, permission: vendors, functions: [vendor-master-maintain]}
";

    fn classify(base: &State, head: &Inventory, id: &str) -> Classified {
        let e = head.entitlements.iter().find(|e| e.id == id).expect("entitlement");
        let holder = head.identity(&e.identity.value).map(Ident::of);
        let system = head.system(&e.system.value).map(Sys::of);
        base.classify(id, &Ent::digest_of(e), holder.as_ref(), system.as_ref())
    }

    #[test]
    fn entitlements_are_new_changed_or_unchanged_and_observations_never_count() {
        let base = State::of(&inventory(BASE));
        let head = inventory(HEAD);
        let c = |id| classify(&base, &head, id);
        // e1 only moved `last_used`, but its system left SOX scope.
        assert_eq!(c("e1").change, Change::Changed);
        assert_eq!(c("e1").fields, ["system.sox_in_scope"]);
        assert_eq!(c("e2").fields, ["privileged"]);
        // e3's own fields and its holder's observations moved; its holder's owner changed.
        assert_eq!(c("e3").fields, ["holder.owner"]);
        assert_eq!(c("e5"), Classified::new_record());
        // The same inventory twice: nothing changed.
        let same = inventory(BASE);
        for e in &same.entitlements {
            assert_eq!(classify(&base, &same, &e.id).change, Change::Unchanged, "{}", e.id);
        }
    }

    #[test]
    fn a_state_read_back_from_json_lines_classifies_like_the_inventory_it_was_written_from() {
        let inv = inventory(BASE);
        let mut lines = Vec::new();
        crate::inventory::write::json_lines(&inv, &mut lines).expect("written");
        let read = State::from_json_lines(lines.as_slice()).expect("read back");
        let head = inventory(HEAD);
        let direct = State::of(&inv);
        for e in &head.entitlements {
            assert_eq!(
                classify(&read, &head, &e.id),
                classify(&direct, &head, &e.id),
                "{}",
                e.id
            );
        }
        assert_eq!(drift(&read, &State::of(&head)), drift(&direct, &State::of(&head)));
        assert!(State::from_json_lines(&b"{\"table\": {}}\n"[..]).is_err());
        // A line that never ends is refused once it is longer than a record may be.
        use std::io::Read;
        let endless = std::io::BufReader::new(std::io::repeat(b' ').take(17 << 20));
        let refused = State::from_json_lines(endless).expect_err("an endless line");
        assert!(refused.contains("longer than 16 MiB"), "{refused}");
    }

    #[test]
    fn drift_lists_each_change_once_and_marks_escalations() {
        let d = drift(&State::of(&inventory(BASE)), &State::of(&inventory(HEAD)));
        let ents: Vec<(&str, Delta, Vec<&str>, bool)> = d
            .entitlements
            .iter()
            .map(|e| (e.id.as_str(), e.delta, e.fields.clone(), e.escalated))
            .collect();
        assert_eq!(
            ents,
            [
                ("e2", Delta::Changed, vec!["privileged"], true),
                ("e4", Delta::Removed, vec![], false),
                ("e5", Delta::Added, vec![], true),
            ]
        );
        let ids: Vec<(&str, Delta, Vec<&str>)> = d
            .identities
            .iter()
            .map(|r| (r.id.as_str(), r.delta, r.fields.clone()))
            .collect();
        assert_eq!(ids, [("bot", Delta::Changed, vec!["owner"])]);
        let systems: Vec<(&str, Vec<&str>)> = d.systems.iter().map(|r| (r.id.as_str(), r.fields.clone())).collect();
        assert_eq!(systems, [("erp", vec!["sox_in_scope"])]);
        // An added grant of a function the holder already had is not an escalation.
        let again = inventory(&BASE.replace(
            "  - {id: e4, identity: ann, system: git, permission: triage}",
            "  - {id: e4, identity: ann, system: git, permission: triage}\n  - {id: e6, identity: ann, system: erp, permission: pay2, functions: [payment-approve]}",
        ));
        let d = drift(&State::of(&inventory(BASE)), &State::of(&again));
        assert_eq!(d.entitlements.len(), 1);
        assert!(!d.entitlements.iter().any(|e| e.escalated));
    }
}
