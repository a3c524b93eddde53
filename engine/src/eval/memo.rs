//! Outcomes of single rules, remembered by the attribute values they read. Most requests of
//! a large inventory repeat ones already answered: a stale-access rule reads `days_idle`,
//! `has_usage_data` and little else, and a million entitlements hold a few thousand
//! combinations of those. When every rule a request carries has been answered by Cedar for
//! the same values, the request needs neither entities nor Cedar.
//!
//! A rule is remembered only when its answer is a function of values the key holds:
//! [`Reads::of`] accepts a policy whose scope constrains at most the action and the entity
//! types, and whose conditions use `principal` and `resource` only to read an attribute or
//! test one with `has`, with no entity literal and no tag. Everything else such a policy
//! can reach is the same for every request of the run: the action of its group, the
//! context (the track), and the systems' entities, reached through a `system` attribute the
//! key holds. Only answers without any evaluation error are remembered (an error message
//! names the entity, so it is always produced afresh), and a full table stops taking new
//! answers rather than growing: memory stays bounded, and answers never change (the
//! differential test runs the path without memory).

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use hashbrown::HashTable;
use serde_json::Value as Json;

use crate::derive::{Attr, Fact, Facts};

/// The attributes a rule reads, by entity; the rule's answer depends on nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    principal: Vec<String>,
    resource: Vec<String>,
    /// The same names as facts (`None` for a name that is no fact), in the same order.
    attrs: [Vec<Option<Attr>>; 2],
}

impl Reads {
    /// What `policy` (Cedar's JSON form) reads, or `None` when its answer may depend on
    /// anything but attribute values of the principal and the resource.
    pub fn of(policy: &Json) -> Option<Self> {
        for var in ["principal", "resource"] {
            let op = policy.get(var)?.get("op")?.as_str()?;
            // `is` names a type, which every request of a group shares; `==` and `in` name
            // an entity.
            if op != "All" && !(op == "is" && policy.get(var)?.get("in").is_none()) {
                return None;
            }
        }
        let mut reads = Self::default();
        for cond in policy.get("conditions")?.as_array()? {
            reads.walk(cond.get("body")?)?;
        }
        for list in [&mut reads.principal, &mut reads.resource] {
            list.sort_unstable();
            list.dedup();
        }
        reads.attrs = [&reads.principal, &reads.resource].map(|names| names.iter().map(|n| Attr::of(n)).collect());
        Some(reads)
    }

    /// Records the attribute reads under `e`; `None` on anything the key cannot hold.
    fn walk(&mut self, e: &Json) -> Option<()> {
        match e {
            Json::Array(items) => items.iter().try_for_each(|i| self.walk(i)),
            Json::Object(map) => {
                for (k, v) in map {
                    match k.as_str() {
                        "." | "has" => {
                            let left = v.get("left")?;
                            let attr = v.get("attr")?.as_str()?.to_owned();
                            match left.get("Var").and_then(Json::as_str) {
                                Some("principal") => self.principal.push(attr),
                                Some("resource") => self.resource.push(attr),
                                _ => self.walk(left)?,
                            }
                        }
                        // The principal or the resource itself: its uid may decide.
                        "Var" => match v.as_str() {
                            Some("principal" | "resource") => return None,
                            Some(_) => {}
                            None => self.walk(v)?,
                        },
                        // A literal made of an object: an entity (or an extension value);
                        // plain literals are strings, numbers and booleans.
                        "Value" if v.is_object() || v.is_array() => return None,
                        "Value" => {}
                        // Tags are not facts, and their keys may be computed.
                        "getTag" | "hasTag" => return None,
                        _ => self.walk(v)?,
                    }
                }
                Some(())
            }
            _ => Some(()),
        }
    }

    /// The values this rule reads from `principal` and `resource`, in key order.
    fn values<'f>(&'f self, principal: &'f Facts, resource: &'f Facts) -> impl Iterator<Item = Option<&'f Fact>> {
        let [p, r] = &self.attrs;
        let p = p.iter().map(|a| a.and_then(|a| principal.attr(a)));
        let r = r.iter().map(|a| a.and_then(|a| resource.attr(a)));
        p.chain(r)
    }
}

/// One remembered answer.
struct Entry {
    hash: u64,
    rule: u32,
    values: Box<[Option<Fact>]>,
    fires: bool,
}

/// Tables per shard (requests from different threads rarely wait on one another).
const SHARDS: usize = 16;

/// Answers kept per shard. Each holds a rule's few values: together a few MB at most.
const PER_SHARD: usize = 8192;

/// Remembered answers of every memorable rule of a run.
pub struct Memo {
    shards: Vec<Mutex<HashTable<Entry>>>,
    /// One hasher state for the run (foldhash: each new state has its own seed).
    hasher: hashbrown::DefaultHashBuilder,
}

impl Default for Memo {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashTable::new())).collect(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }
}

impl Memo {
    fn hash_of<'f>(&self, rule: u32, values: impl Iterator<Item = Option<&'f Fact>>) -> u64 {
        let mut h = self.hasher.build_hasher();
        rule.hash(&mut h);
        for v in values {
            v.hash(&mut h);
        }
        h.finish()
    }

    fn shard(&self, hash: u64) -> Option<&Mutex<HashTable<Entry>>> {
        // The top bits pick the shard; the table uses the low ones.
        let i = usize::try_from(hash >> 60).unwrap_or(0) % SHARDS;
        self.shards.get(i)
    }

    /// Whether rule `rule` (reading `reads`) fires for these facts, when Cedar has already
    /// answered that for the same values.
    pub fn recall(&self, rule: u32, reads: &Reads, principal: &Facts, resource: &Facts) -> Option<bool> {
        let hash = self.hash_of(rule, reads.values(principal, resource));
        let table = self.shard(hash)?.lock().unwrap_or_else(PoisonError::into_inner);
        table
            .find(hash, |e| {
                e.rule == rule
                    && e.values.len() == reads.principal.len() + reads.resource.len()
                    && e.values
                        .iter()
                        .map(Option::as_ref)
                        .eq(reads.values(principal, resource))
            })
            .map(|e| e.fires)
    }

    /// Remembers Cedar's error-free answer for rule `rule` on these facts.
    pub fn learn(&self, rule: u32, reads: &Reads, principal: &Facts, resource: &Facts, fires: bool) {
        let hash = self.hash_of(rule, reads.values(principal, resource));
        let Some(shard) = self.shard(hash) else { return };
        let mut table = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if table.len() >= PER_SHARD {
            return;
        }
        let values: Box<[Option<Fact>]> = reads.values(principal, resource).map(|v| v.cloned()).collect();
        let same = |e: &Entry| e.rule == rule && e.values == values;
        if table.find(hash, same).is_none() {
            table.insert_unique(
                hash,
                Entry {
                    hash,
                    rule,
                    values,
                    fires,
                },
                |e| e.hash,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cedar_policy::Policy;

    use super::*;

    fn reads(text: &str) -> Option<Reads> {
        let policy = Policy::from_str(text).expect("the test policy parses");
        Reads::of(&policy.to_json().expect("the test policy has a JSON form"))
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn attribute_reads_are_collected_by_entity() {
        let r = reads(
            r#"forbid(principal, action == Dualtrack::Action::"entitlement", resource)
               when { principal.is_nhi && resource has days_idle && resource.days_idle > 90
                      && resource.system.sox_in_scope && context.track == "soc" };"#,
        )
        .expect("memorable");
        assert_eq!(r.principal, names(&["is_nhi"]));
        assert_eq!(r.resource, names(&["days_idle", "system"]));
    }

    #[test]
    fn uids_entity_literals_and_tags_are_not_memorable() {
        for text in [
            "forbid(principal, action, resource) when { principal == resource };",
            r#"forbid(principal, action, resource) when { principal in Dualtrack::Identity::"root" };"#,
            r#"forbid(principal, action, resource) when { resource.system == Dualtrack::System::"erp" };"#,
            r#"forbid(principal, action, resource) when { resource.hasTag("tier") };"#,
            r#"forbid(principal, action, resource) when { resource.system.getTag("tier") == "1" };"#,
            r#"forbid(principal == Dualtrack::Identity::"a", action, resource);"#,
            r#"forbid(principal, action, resource in Dualtrack::System::"erp");"#,
            "forbid(principal, action, resource) when { principal is Dualtrack::Identity };",
        ] {
            assert_eq!(reads(text), None, "{text}");
        }
        assert!(
            reads("forbid(principal is Dualtrack::Identity, action, resource) unless { resource.broad };").is_some()
        );
    }

    #[test]
    fn answers_are_recalled_only_for_equal_values_and_presence() {
        let r =
            reads("forbid(principal, action, resource) when { resource has days_idle && resource.days_idle > 90 };")
                .expect("memorable");
        let memo = Memo::default();
        let none = Facts::new();
        let idle = |n| Facts::from([(Attr::DaysIdle, Fact::Long(n))]);
        assert_eq!(memo.recall(0, &r, &none, &idle(100)), None);
        memo.learn(0, &r, &none, &idle(100), true);
        memo.learn(0, &r, &none, &none, false);
        assert_eq!(memo.recall(0, &r, &none, &idle(100)), Some(true));
        assert_eq!(memo.recall(0, &r, &none, &none), Some(false));
        assert_eq!(memo.recall(0, &r, &none, &idle(10)), None);
        assert_eq!(memo.recall(1, &r, &none, &idle(100)), None, "another rule");
        let other = Facts::from([(Attr::DaysIdle, Fact::Str("100".to_owned()))]);
        assert_eq!(memo.recall(0, &r, &none, &other), None, "same text, another type");
    }

    #[test]
    fn a_full_table_stops_learning_and_keeps_what_it_has() {
        let r = reads("forbid(principal, action, resource) when { resource.days_idle > 90 };").expect("memorable");
        let memo = Memo::default();
        let none = Facts::new();
        let idle = |n| Facts::from([(Attr::DaysIdle, Fact::Long(n))]);
        let total = i64::try_from(SHARDS * PER_SHARD * 2).expect("small");
        for n in 0..total {
            memo.learn(0, &r, &none, &idle(n), n > 90);
        }
        let kept: usize = memo
            .shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum();
        assert!(kept <= SHARDS * PER_SHARD, "{kept} answers kept");
        assert_eq!(memo.recall(0, &r, &none, &idle(0)), Some(false));
        assert_eq!(memo.recall(0, &r, &none, &idle(91)), Some(true));
    }
}
