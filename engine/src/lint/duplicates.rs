//! Duplicate rules: two rules of one track whose compiled Cedar conditions are the same
//! (ids, titles and other annotations aside) report every finding twice. Conditions are
//! compared in Cedar's structured form with the parts of each `&&` chain sorted, so the
//! order in which a YAML `when:` list is written does not hide a duplicate.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diag::{Code, Problem, Problems};
use crate::policy::{Pack, Rule, Track};

/// Reports the later of every pair of rules with the same condition on one track.
pub fn check(pack: &Pack, sink: &mut Problems) {
    let mut rules: Vec<&Rule> = pack.rules.iter().collect();
    rules.sort_by(|a, b| (a.loc.file(), a.loc.offset, &a.id).cmp(&(b.loc.file(), b.loc.offset, &b.id)));
    let mut seen: BTreeMap<(Track, String), &Rule> = BTreeMap::new();
    for rule in rules {
        let Some(key) = condition_key(rule) else {
            continue;
        };
        match seen.entry((rule.track, key)) {
            Entry::Vacant(slot) => {
                slot.insert(rule);
            }
            Entry::Occupied(first) => {
                let first = first.get();
                sink.push(
                    Problem::warning(
                        Code::DuplicateRule,
                        Some(rule.loc.clone()),
                        format!(
                            "rule `{}` has the same condition as rule `{}` on the {} track",
                            rule.id,
                            first.id,
                            rule.track.as_str()
                        ),
                    )
                    .with_label(format!("same condition as `{}`", first.id))
                    .with_help(format!(
                        "every finding would be reported twice; delete one rule or merge their controls (`{}` is at {})",
                        first.id, first.loc
                    )),
                );
            }
        }
    }
}

/// The policy without its annotations, with each condition's `&&` parts sorted.
fn condition_key(rule: &Rule) -> Option<String> {
    let mut json = rule.policy.to_json().ok()?;
    let obj = json.as_object_mut()?;
    obj.remove("annotations");
    if let Some(conditions) = obj.get_mut("conditions").and_then(Json::as_array_mut) {
        for c in conditions {
            if let Some(body) = c.get_mut("body") {
                let mut parts = Vec::new();
                conjuncts(body, &mut parts);
                parts.sort();
                parts.dedup();
                *body = Json::from(parts);
            }
        }
    }
    Some(json.to_string())
}

fn conjuncts(e: &Json, out: &mut Vec<String>) {
    match e.get("&&") {
        Some(and) => {
            for side in ["left", "right"] {
                if let Some(part) = and.get(side) {
                    conjuncts(part, out);
                }
            }
        }
        None => out.push(e.to_string()),
    }
}
