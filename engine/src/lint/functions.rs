//! SoD functions nothing yields: a function the conflict matrix uses that no permission
//! mapping of the function catalog names can only come from entitlements that list it in
//! `functions`. Without an inventory that is a note; with one, lint says which source is
//! missing: no mapping and no entitlement (a warning: the conflicts citing it are blind),
//! or a mapping that no entitlement's permission matches (a note).

use std::collections::{BTreeMap, BTreeSet};

use crate::derive::functions_of;
use crate::diag::{Code, Problem, Problems};
use crate::inventory::Inventory;
use crate::node::Value;
use crate::policy::{Origin, Pack};
use crate::source::Loc;

use super::locate::{entry, PackTree};

/// Where a matrix function is first used and by which conflicts.
struct Use {
    loc: Loc,
    conflicts: BTreeSet<String>,
}

/// Reports the matrix's functions that nothing yields.
pub fn check(pack: &Pack, tree: &PackTree, inventory: Option<&Inventory>, sink: &mut Problems) {
    let mut used: BTreeMap<&str, Use> = BTreeMap::new();
    for rule in pack.rules.iter().filter(|r| r.origin == Origin::SodMatrix) {
        let conflict = tree.item(&rule.loc, "conflicts");
        let id = tree.conflict_id(rule).unwrap_or_else(|| rule.id.clone());
        for f in &rule.functions {
            let loc = conflict
                .and_then(|c| entry(c, "functions"))
                .and_then(|list| match &list.value {
                    Value::Seq(items) => items.iter().find(|i| i.scalar_text().as_deref() == Some(f)),
                    _ => None,
                })
                .map_or_else(|| rule.loc.clone(), |n| n.loc.clone());
            let u = used.entry(f.as_str()).or_insert_with(|| Use {
                loc: loc.clone(),
                conflicts: BTreeSet::new(),
            });
            if (loc.file(), loc.offset) < (u.loc.file(), u.loc.offset) {
                u.loc = loc;
            }
            u.conflicts.insert(id.clone());
        }
    }
    let held: Option<BTreeSet<String>> = inventory.map(|inv| {
        inv.entitlements
            .iter()
            .flat_map(|e| functions_of(e, &pack.functions))
            .collect()
    });
    for (f, u) in used {
        let mapped = pack
            .functions
            .mappings
            .iter()
            .any(|m| m.functions.iter().any(|x| x == f));
        let noun = if u.conflicts.len() == 1 {
            "conflict"
        } else {
            "conflicts"
        };
        let ids = u
            .conflicts
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let conflicts = format!("{noun} {ids}");
        let add_mapping =
            format!("map the permissions that grant it in the function catalog: `- {{ permission: <pattern>, functions: [{f}] }}`");
        let problem = match (&held, mapped) {
            (None, false) => Problem::note(
                Code::UnmappedFunction,
                Some(u.loc),
                format!(
                    "no permission mapping yields SoD function `{f}`; {conflicts} can see it only on entitlements that list it in `functions`"
                ),
            )
            .with_help(add_mapping),
            (Some(held), false) if !held.contains(f) => Problem::warning(
                Code::UnmappedFunction,
                Some(u.loc),
                format!(
                    "SoD function `{f}` comes from no permission mapping and no entitlement of the inventory lists it, so {conflicts} can never fire"
                ),
            )
            .with_help(format!("{add_mapping}, or list `{f}` in the `functions` of the entitlements that grant it")),
            (Some(held), true) if !held.contains(f) => Problem::note(
                Code::UnmappedFunction,
                Some(u.loc),
                format!(
                    "no entitlement of the inventory holds SoD function `{f}`: its mappings match no permission, so {conflicts} cannot fire on this inventory"
                ),
            )
            .with_help("if nobody should hold it this is fine; otherwise check the mappings' permission patterns against the inventory"),
            _ => continue,
        };
        sink.push(problem.with_label("SoD function"));
    }
}
