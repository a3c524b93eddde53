//! Second pass over a decoded inventory: unique ids and references that resolve, every
//! problem reported. Leaves the records sorted by id so output never depends on input order.

use crate::diag::{did_you_mean, Code, Problem, Problems};
use crate::source::Loc;

use super::Inventory;

fn dedupe<T>(records: &mut Vec<T>, what: &str, id: impl Fn(&T) -> &str, loc: impl Fn(&T) -> &Loc, sink: &mut Problems) {
    // Records compare equal only when they are one record read twice (a YAML alias), so
    // the unstable sort gives the stable sort's order without a scratch copy of them all.
    records.sort_unstable_by(|a, b| {
        id(a)
            .cmp(id(b))
            .then_with(|| loc(a).file().cmp(loc(b).file()))
            .then(loc(a).offset.cmp(&loc(b).offset))
    });
    // One pass: each later record with the id just kept is reported against the first.
    records.dedup_by(|cur, first| {
        if id(cur) != id(first) {
            return false;
        }
        sink.push(
            Problem::error(
                Code::DuplicateId,
                Some(loc(cur).clone()),
                format!("duplicate {what} id `{}`", id(cur)),
            )
            .with_label("second record with this id")
            .with_help(format!("the first is at {}; ids must be unique", loc(first))),
        );
        true
    });
}

pub(crate) fn dangling(what: &str, field: &str, given: &str, loc: &Loc, known: &[&str], sink: &mut Problems) {
    let help = match did_you_mean(given, known.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!(
            "add {} {what} with id `{given}`, or fix `{field}`",
            if what.starts_with('i') { "an" } else { "a" }
        ),
    };
    let message = format!("`{field}` names unknown {what} `{given}`");
    // Exports and inventories always name people outside the extract (docs/inventory.md,
    // "Ids and references"). An owner who is not in the inventory is an "unknown" owner:
    // the record stays usable and the orphaned-NHI rules report it (owner status
    // `unknown`). A manager who is not is dropped: the person has no manager, which
    // `lint --campaign` reports when managers review. Both are warnings; an entitlement's
    // identity and system must resolve.
    let problem = if field == "owner" {
        Problem::warning(Code::DanglingReference, Some(loc.clone()), message).with_help(format!(
            "if the owner left, the identity is reported as orphaned (owner unknown); otherwise {help}"
        ))
    } else if matches!(field, "sponsors" | "delegators") {
        // An agent's sponsor or delegator outside the extract counts for nothing: a sponsor
        // of unknown status is no active sponsor, and a delegator nobody knows holds no
        // access the agent could act with (fail closed, docs/inventory.md).
        Problem::warning(Code::DanglingReference, Some(loc.clone()), message).with_help(format!(
            "an unknown {} counts as none: the agent may be reported as unsponsored or wider than its delegators; {help}",
            if field == "sponsors" { "sponsor" } else { "delegator" }
        ))
    } else if field == "parent" {
        Problem::warning(Code::DanglingReference, Some(loc.clone()), message)
            .with_help(format!("the agent's parent is not in the review; {help}"))
    } else if field == "manager" {
        Problem::warning(Code::DanglingReference, Some(loc.clone()), message).with_help(format!(
            "the manager is left out: this person has no manager for the review; {help}"
        ))
    } else {
        Problem::error(Code::DanglingReference, Some(loc.clone()), message).with_help(help)
    };
    sink.push(problem.with_label(format!("no {what} has this id")));
}

/// Sorts, removes duplicates (reporting them) and checks every reference.
pub fn check(inv: &mut Inventory, sink: &mut Problems) {
    dedupe(&mut inv.systems, "system", |s| &s.id, |s| &s.loc, sink);
    dedupe(&mut inv.identities, "identity", |s| &s.id, |s| &s.loc, sink);
    dedupe(&mut inv.entitlements, "entitlement", |s| &s.id, |s| &s.loc, sink);
    // Records are sorted by id now, so lookups are binary searches.
    let identities: Vec<&str> = inv.identities.iter().map(|i| i.id.as_str()).collect();
    let systems: Vec<&str> = inv.systems.iter().map(|s| s.id.as_str()).collect();
    let has = |ids: &[&str], id: &str| ids.binary_search(&id).is_ok();
    for s in &inv.systems {
        if let Some(o) = &s.owner {
            if !has(&identities, o.value.as_str()) {
                dangling("identity", "owner", &o.value, &o.loc, &identities, sink);
            }
        }
    }
    // A manager outside the extract is usually the manager of many: reported once per id,
    // with how many people name it.
    let mut unknown_managers: Vec<usize> = Vec::new();
    let mut managers_reported: std::collections::BTreeMap<&str, (usize, usize)> = std::collections::BTreeMap::new();
    for (n, i) in inv.identities.iter().enumerate() {
        if let Some(o) = &i.owner {
            if !has(&identities, o.value.as_str()) {
                dangling("identity", "owner", &o.value, &o.loc, &identities, sink);
            }
        }
        for (field, r) in i
            .sponsors
            .iter()
            .map(|r| ("sponsors", r))
            .chain(i.delegators.iter().map(|r| ("delegators", r)))
            .chain(i.parent.iter().map(|r| ("parent", r)))
        {
            if !has(&identities, r.value.as_str()) {
                dangling("identity", field, &r.value, &r.loc, &identities, sink);
            }
        }
        if let Some(m) = &i.manager {
            if !has(&identities, m.value.as_str()) {
                unknown_managers.push(n);
                let at = sink.0.len();
                let seen = managers_reported.entry(m.value.as_str()).or_insert((at, 0));
                if seen.1 == 0 {
                    dangling("identity", "manager", &m.value, &m.loc, &identities, sink);
                }
                seen.1 += 1;
            }
        }
    }
    for (name, (at, count)) in managers_reported {
        if count > 1 {
            if let Some(p) = sink.0.get_mut(at) {
                let help = p.help.take().unwrap_or_default();
                p.help = Some(format!("{count} identities name `{name}` as their manager; {help}"));
            }
        }
    }
    for e in &inv.entitlements {
        if !has(&identities, &e.identity.value) {
            dangling(
                "identity",
                "identity",
                &e.identity.value,
                &e.identity.loc,
                &identities,
                sink,
            );
        }
        if !has(&systems, &e.system.value) {
            dangling("system", "system", &e.system.value, &e.system.loc, &systems, sink);
        }
    }
    for n in unknown_managers {
        if let Some(i) = inv.identities.get_mut(n) {
            i.manager = None;
        }
    }
}
