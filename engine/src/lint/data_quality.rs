//! Inventory data quality before a campaign: non-human identities without an `owner`,
//! non-human identities with no `last_seen` and no `last_used` on any entitlement, and
//! entitlements without `justification`. A large inventory can have thousands of each, so
//! every check lists the first [`CAP`] records in file order and then one summary
//! diagnostic (same code) counting the rest, placed at the first record not listed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Problem, Problems};
use crate::inventory::Inventory;
use crate::source::{Loc, Source};

/// How many records each data-quality check lists before summarising the rest.
pub const CAP: usize = 20;

/// Runs the three checks.
pub fn check(inv: &Inventory, sink: &mut Problems) {
    let used: BTreeSet<&str> = inv
        .entitlements
        .iter()
        .filter(|e| e.last_used.is_some())
        .map(|e| &*e.identity.value)
        .collect();
    let mut no_owner = Vec::new();
    let mut no_usage = Vec::new();
    for i in inv.identities.iter().filter(|i| i.kind.is_nhi()) {
        // An AI agent answers to its sponsors: with an active one, no owner is needed.
        let sponsored = i.is_agent()
            && i.sponsors.iter().any(|s| {
                inv.identity(&s.value)
                    .is_some_and(|p| !p.kind.is_nhi() && p.status == crate::inventory::Status::Active)
            });
        if i.owner.is_none() && !sponsored {
            no_owner.push(
                Problem::warning(
                    Code::NhiWithoutOwner,
                    Some(i.loc.clone()),
                    format!("non-human identity `{}` ({}) has no `owner`", i.id, i.kind.as_str()),
                )
                .with_label("no `owner`")
                .with_help("name the accountable person in `owner`; reviewers need someone to ask, and findings on it are reported as orphaned"),
            );
        }
        if i.last_seen.is_none() && !used.contains(i.id.as_str()) {
            no_usage.push(
                Problem::warning(
                    Code::NhiWithoutUsage,
                    Some(i.loc.clone()),
                    format!(
                        "non-human identity `{}` has no `last_seen` and none of its entitlements has `last_used`",
                        i.id
                    ),
                )
                .with_label("no usage data")
                .with_help("export `last_seen` (last authentication) or `last_used` from the systems' logs; without either nobody can show it is in use"),
            );
        }
    }
    let no_justification: Vec<Problem> = inv
        .entitlements
        .iter()
        .filter(|e| e.justification.is_none())
        .map(|e| {
            Problem::warning(
                Code::MissingJustification,
                Some(e.loc.clone()),
                format!("entitlement `{}` has no `justification`", e.id),
            )
            .with_label("no `justification`")
            .with_help("record the business need in `justification`; reviewers cannot judge access without it")
        })
        .collect();
    let mut out = Vec::new();
    out.extend(capped(no_owner, "non-human identities without `owner`"));
    out.extend(capped(no_usage, "non-human identities without usage data"));
    out.extend(capped(no_justification, "entitlements without `justification`"));
    restore_text(&mut out);
    sink.0.extend(out);
}

/// The first [`CAP`] problems in file order, then one counting the rest.
fn capped(mut problems: Vec<Problem>, what: &str) -> Vec<Problem> {
    problems.sort_by(|a, b| {
        let key = |p: &Problem| p.loc.as_ref().map(|l| (l.file().to_owned(), l.offset));
        key(a).cmp(&key(b))
    });
    if problems.len() <= CAP {
        return problems;
    }
    let rest = problems.split_off(CAP);
    if let Some(first) = rest.first() {
        problems.push(
            Problem::warning(
                first.code,
                first.loc.clone(),
                format!("{} more {what}, from this record on", rest.len()),
            )
            .with_label("first record not listed")
            .with_help(format!(
                "lint lists the first {CAP} records of each data-quality check; `dualtrack check` reports every record as a finding"
            )),
        );
    }
    problems
}

/// Inventory records keep only file and line once loaded (their text is released); to
/// show the record under each diagnostic, the few files named are read once more. If a
/// file cannot be read the diagnostic keeps its file and line without the snippet.
pub(crate) fn restore_text(problems: &mut [Problem]) {
    let mut texts: BTreeMap<String, Option<Arc<Source>>> = BTreeMap::new();
    for p in problems.iter_mut() {
        let Some(loc) = p.loc.as_mut().filter(|l| l.src.is_released()) else {
            continue;
        };
        let name = loc.file().to_owned();
        let src = texts
            .entry(name.clone())
            .or_insert_with(|| crate::text::read(Path::new(&name), "--inventory").ok());
        if let Some(src) = src {
            if loc.offset + loc.len <= src.text().len() {
                *loc = Loc {
                    src: Arc::clone(src),
                    ..loc.clone()
                };
            }
        }
    }
}
