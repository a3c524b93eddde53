//! What changed between two snapshots of the estate (`dualtrack drift`): access added,
//! removed and changed, identities and systems added, departed and changed (from
//! [`crate::baseline::change::drift`]), and the findings that are new or resolved. Each
//! side is a verified evidence pack, whose findings are the ones it recorded, or an
//! inventory, evaluated here and reduced to its [`State`] and findings as it streams, so
//! that a large inventory is never held whole. The report renders as JSON, text, Markdown
//! and CSV ([`json`], [`human`], [`markdown`], [`csv()`]).

mod render;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::baseline::change::{drift, entitlement_delta, escalates, holder_drift, Delta, Drift, EntitlementDelta};
use crate::baseline::state::Ent;
use crate::baseline::{BaseFinding, Baseline, State};
use crate::diag::Problems;
use crate::eval::stream::{evaluate_streamed_with, Overlay};
use crate::eval::Options;
use crate::finding::Finding;
use crate::inventory::{Entitlement, Indexed, Inventory};
use crate::model::Model;
use crate::policy::Pack;

pub use render::{csv, human, json, markdown, CSV_HEADER};

/// What one side of a comparison was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An inventory, a directory or a sources file, evaluated by this run.
    Inventory,
    /// An evidence pack, verified; its findings are those it recorded.
    Pack,
}

crate::names!(Kind {
    Inventory = "inventory",
    Pack = "pack",
});

/// One side of a comparison, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The path as given.
    pub path: String,
    /// Inventory or pack.
    pub kind: Kind,
    /// The review date its findings are of: the pack's, or the one it was evaluated at.
    pub as_of: DateTime<Utc>,
    /// A pack's campaign id, when it was built with one.
    pub campaign: Option<String>,
}

/// One side reduced to what a comparison needs.
#[derive(Debug)]
pub struct Snapshot {
    /// Where it came from.
    pub side: Side,
    /// Its records, digested.
    pub state: State,
    /// Its findings, open and excepted.
    pub findings: Vec<BaseFinding>,
}

impl Snapshot {
    /// The snapshot a verified pack recorded.
    pub fn of_pack(b: Baseline) -> Self {
        Snapshot {
            side: Side {
                path: b.pack,
                kind: Kind::Pack,
                as_of: b.as_of,
                campaign: b.campaign,
            },
            state: b.state,
            findings: b.findings,
        }
    }

    /// Evaluates the inventory `idx` (read from `path`) with `pack` and keeps its state and
    /// findings; the entitlements are digested identity by identity as evaluation reads
    /// them back. `Ok` carries the warnings; `Err` as for
    /// [`evaluate_streamed_with`].
    pub fn evaluate(
        path: &str,
        idx: &Indexed,
        pack: &Pack,
        model: &Model,
        opts: &Options,
    ) -> Result<(Self, Problems), Problems> {
        let digest = Digest::default();
        let mut findings = Vec::new();
        let (_, warnings) = evaluate_streamed_with(
            idx,
            pack,
            model,
            opts,
            &digest,
            |found| Ok(found.iter().map(BaseFinding::from).collect::<Vec<_>>()),
            |kept| {
                findings.extend(kept);
                Ok(())
            },
        )?;
        let rows = digest.kept.into_inner().unwrap_or_else(PoisonError::into_inner);
        let state = State::with_rows(&idx.inventory, rows);
        let side = Side {
            path: path.to_owned(),
            kind: Kind::Inventory,
            as_of: opts.as_of,
            campaign: None,
        };
        Ok((Snapshot { side, state, findings }, warnings))
    }
}

/// The overlay that digests each identity's entitlements while evaluation has them, and
/// changes no finding. Evaluation merges the digests; `finish` keeps them for the caller.
#[derive(Default)]
struct Digest {
    kept: Mutex<Vec<(Box<str>, Ent)>>,
}

impl Overlay for Digest {
    type Seen = Vec<(Box<str>, Ent)>;

    fn identity(&self, _: &Inventory, _: &Options, ents: &[&Entitlement], _: &mut Vec<Finding>) -> Self::Seen {
        State::rows_of(ents.iter().copied())
    }

    fn merge(into: &mut Self::Seen, other: Self::Seen) {
        into.extend(other);
    }

    fn finish(&self, _: &Inventory, _: &Options, seen: Self::Seen) -> (Vec<Vec<Finding>>, Problems) {
        *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = seen;
        (Vec::new(), Problems::default())
    }
}

/// Findings that one side has and the other does not, matched by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Only the head has them.
    pub new: Vec<BaseFinding>,
    /// Only the base has them.
    pub resolved: Vec<BaseFinding>,
}

/// Everything `drift` reports.
#[derive(Debug)]
pub struct Report {
    /// The earlier snapshot.
    pub base: Side,
    /// The later snapshot.
    pub head: Side,
    /// Entitlements, identities and systems that differ, each sorted by id.
    pub changes: Drift,
    /// Findings new and resolved, sorted by identity, track, rule and entitlements.
    pub findings: Findings,
}

/// A head finding as it streams: matched with the base's by id, or new.
enum Met {
    Known(String),
    New(BaseFinding),
}

/// What the head's identities left: entitlements added or changed (with the head's view
/// of each) and the positions of the base's entitlements met.
#[derive(Default)]
struct Against {
    deltas: Vec<(String, Ent, Delta, Vec<&'static str>)>,
    met: Vec<u32>,
}

/// Classifies each of the head's entitlements against the base as evaluation hands them
/// over: only what differs is kept, never a copy of the head.
struct Classify<'a> {
    base: &'a State,
    kept: Mutex<Against>,
}

impl Overlay for Classify<'_> {
    type Seen = Against;

    fn identity(&self, _: &Inventory, _: &Options, ents: &[&Entitlement], _: &mut Vec<Finding>) -> Against {
        let mut out = Against::default();
        for e in ents {
            match self.base.entitlements.index_of(&e.id) {
                None => out.deltas.push((e.id.clone(), Ent::of(e), Delta::Added, Vec::new())),
                Some(i) => {
                    out.met.push(u32::try_from(i).unwrap_or(u32::MAX));
                    let fields = self
                        .base
                        .entitlements
                        .at(i)
                        .map(|(_, then)| then.differs_from(&Ent::digest_of(e)))
                        .unwrap_or_default();
                    if !fields.is_empty() {
                        out.deltas.push((e.id.clone(), Ent::of(e), Delta::Changed, fields));
                    }
                }
            }
        }
        out
    }

    fn merge(into: &mut Against, other: Against) {
        into.deltas.extend(other.deltas);
        into.met.extend(other.met);
    }

    fn finish(&self, _: &Inventory, _: &Options, seen: Against) -> (Vec<Vec<Finding>>, Problems) {
        *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = seen;
        (Vec::new(), Problems::default())
    }
}

/// Compares `base` with the inventory `idx` (at `path`), evaluated with `pack` as it
/// streams: each entitlement is classified against the base as it comes and each finding
/// matched with the base's, so memory holds the base, the evaluation and what differs —
/// not a second state. Gives what [`compare`] gives for the same two snapshots (tests).
pub fn compare_streamed(
    base: Snapshot,
    path: &str,
    idx: &Indexed,
    pack: &Pack,
    model: &Model,
    opts: &Options,
) -> Result<(Report, Problems), Problems> {
    let known: std::collections::HashSet<&str> = base
        .findings
        .iter()
        .filter(|f| crate::pseudo::get(&f.rule).is_none())
        .map(|f| f.id.as_str())
        .collect();
    let classify = Classify {
        base: &base.state,
        kept: Mutex::new(Against::default()),
    };
    let mut met_findings: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut new = Vec::new();
    let (_, warnings) = evaluate_streamed_with(
        idx,
        pack,
        model,
        opts,
        &classify,
        |found| {
            Ok(found
                .iter()
                .filter(|f| crate::pseudo::get(&f.rule).is_none())
                .map(|f| {
                    if known.contains(f.id.as_str()) {
                        Met::Known(f.id.clone())
                    } else {
                        Met::New(BaseFinding::from(f))
                    }
                })
                .collect::<Vec<_>>())
        },
        |batch| {
            for m in batch {
                match m {
                    Met::Known(id) => {
                        met_findings.insert(id);
                    }
                    Met::New(f) => new.push(f),
                }
            }
            Ok(())
        },
    )?;
    let against = classify.kept.into_inner().unwrap_or_else(PoisonError::into_inner);
    let held_before = base.state.functions_by_identity();
    let mut entitlements: Vec<EntitlementDelta> = against
        .deltas
        .iter()
        .map(|(id, now, delta, fields)| {
            let then = base.state.entitlements.get(id);
            let escalated = escalates(now, then, &held_before);
            entitlement_delta(id, now, *delta, fields.clone(), escalated)
        })
        .collect();
    let mut met = vec![false; base.state.entitlements.len()];
    for i in against.met {
        if let Some(m) = met.get_mut(i as usize) {
            *m = true;
        }
    }
    for (i, seen) in met.iter().enumerate() {
        if !seen {
            if let Some((id, then)) = base.state.entitlements.at(i) {
                entitlements.push(entitlement_delta(id, then, Delta::Removed, Vec::new(), false));
            }
        }
    }
    entitlements.sort_by(|a, b| a.id.cmp(&b.id));
    let head_holders = State::of_holders(&idx.inventory);
    let (identities, systems) = holder_drift(&base.state, &head_holders);
    let mut resolved: Vec<BaseFinding> = base
        .findings
        .iter()
        .filter(|f| crate::pseudo::get(&f.rule).is_none() && !met_findings.contains(&f.id))
        .cloned()
        .collect();
    sort_findings(&mut new);
    sort_findings(&mut resolved);
    let head = Side {
        path: path.to_owned(),
        kind: Kind::Inventory,
        as_of: opts.as_of,
        campaign: None,
    };
    Ok((
        Report {
            base: base.side,
            head,
            changes: Drift {
                entitlements,
                identities,
                systems,
            },
            findings: Findings { new, resolved },
        },
        warnings,
    ))
}

/// Findings in report order: by identity, track, rule, entitlements, id.
fn sort_findings(list: &mut [BaseFinding]) {
    list.sort_by(|a, b| {
        (&a.identity, a.track, &a.rule, &a.entitlements, &a.id).cmp(&(
            &b.identity,
            b.track,
            &b.rule,
            &b.entitlements,
            &b.id,
        ))
    });
}

/// Compares two snapshots. Only the findings of policy rules are compared: the review's
/// own (`EXC-*`, `DEC-*`), which a pack may hold, are about that campaign's files, not
/// about the estate.
pub fn compare(base: Snapshot, head: Snapshot) -> Report {
    let changes = drift(&base.state, &head.state);
    let rule_findings = |fs: Vec<BaseFinding>| {
        fs.into_iter()
            .filter(|f| crate::pseudo::get(&f.rule).is_none())
            .map(|f| (f.id.clone(), f))
            .collect::<BTreeMap<_, _>>()
    };
    let mut before = rule_findings(base.findings);
    let mut new = Vec::new();
    for (id, f) in rule_findings(head.findings) {
        if before.remove(&id).is_none() {
            new.push(f);
        }
    }
    let mut resolved: Vec<BaseFinding> = before.into_values().collect();
    sort_findings(&mut new);
    sort_findings(&mut resolved);
    Report {
        base: base.side,
        head: head.side,
        changes,
        findings: Findings { new, resolved },
    }
}

/// How many records of each kind of change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Added.
    pub added: usize,
    /// Removed.
    pub removed: usize,
    /// Changed.
    pub changed: usize,
}

impl Counts {
    fn of(deltas: impl Iterator<Item = Delta>) -> Self {
        let mut c = Counts::default();
        for d in deltas {
            match d {
                Delta::Added => c.added += 1,
                Delta::Removed => c.removed += 1,
                Delta::Changed => c.changed += 1,
            }
        }
        c
    }
}

impl Report {
    /// Entitlements added, removed and changed.
    pub fn entitlement_counts(&self) -> Counts {
        Counts::of(self.changes.entitlements.iter().map(|e| e.delta))
    }

    /// Identities added, removed and changed.
    pub fn identity_counts(&self) -> Counts {
        Counts::of(self.changes.identities.iter().map(|r| r.delta))
    }

    /// Systems added, removed and changed.
    pub fn system_counts(&self) -> Counts {
        Counts::of(self.changes.systems.iter().map(|r| r.delta))
    }

    /// Entitlements marked escalated.
    pub fn escalated(&self) -> usize {
        self.changes.entitlements.iter().filter(|e| e.escalated).count()
    }

    /// True when no record changed (findings may still differ, when the review date or
    /// the policies did).
    pub fn no_change(&self) -> bool {
        self.changes.entitlements.is_empty() && self.changes.identities.is_empty() && self.changes.systems.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Track;

    fn inventory(text: &str) -> Inventory {
        crate::inventory::load::from_yaml(text)
    }

    const ESTATE: &str = "
systems:
  - {id: erp, owner: olga, sox_in_scope: true}
identities:
  - {id: olga, kind: human}
  - {id: ann, kind: human, manager: olga, status: terminated, terminated_at: 2026-06-01}
  - {id: bob, kind: human, manager: olga}
entitlements:
  - {id: e1, identity: ann, system: erp, permission: pay}
  - {id: e2, identity: bob, system: erp, permission: read}
  - {id: e3, identity: bob, system: erp, permission: write, privileged: true}
";

    fn evaluated(text: &str) -> Snapshot {
        let model = Model::load().expect("the model loads");
        let pack = crate::policy::load(crate::policy::builtin_files(), &model).expect("the pack loads");
        let idx = Indexed::from_loaded(inventory(text));
        let opts = Options {
            as_of: crate::node::parse_date("2026-10-01").expect("a date"),
            tracks: Track::ALL.to_vec(),
        };
        Snapshot::evaluate("estate.yaml", &idx, &pack, &model, &opts)
            .expect("evaluates")
            .0
    }

    fn finding(id: &str, rule: &str) -> BaseFinding {
        BaseFinding {
            id: id.to_owned(),
            track: Track::Soc,
            rule: rule.to_owned(),
            severity: "high".to_owned(),
            status: "open".to_owned(),
            identity: "ann".to_owned(),
            entitlements: vec!["e1".to_owned()],
        }
    }

    #[test]
    fn a_streamed_snapshot_has_the_state_of_the_whole_inventory_and_its_findings() {
        let s = evaluated(ESTATE);
        let whole = State::of(&inventory(ESTATE));
        assert_eq!(drift(&whole, &s.state), Drift::default());
        assert_eq!(s.state.entitlements.len(), 3);
        assert_eq!(s.state.identities.len(), 3);
        // The terminated holder's access is a finding of each track.
        assert!(s.findings.iter().any(|f| f.identity == "ann" && f.track == Track::Soc));
        assert!(s.findings.iter().any(|f| f.identity == "ann" && f.track == Track::Sox));
    }

    #[test]
    fn the_streamed_comparison_gives_what_comparing_two_states_gives() {
        // The estate a period later: ann's access removed (she left), bob's read became
        // privileged, a new grant for bob, olga now manages nobody and owns erp's finance.
        let later = ESTATE
            .replace("  - {id: e1, identity: ann, system: erp, permission: pay}\n", "")
            .replace("permission: read}", "permission: read, privileged: true}")
            .replace(
                "  - {id: e3,",
                "  - {id: e4, identity: bob, system: erp, permission: pay, privileged: true}\n  - {id: e3,",
            )
            .replace("{id: bob, kind: human, manager: olga}", "{id: bob, kind: human}");
        let model = Model::load().expect("the model loads");
        let pack = crate::policy::load(crate::policy::builtin_files(), &model).expect("the pack loads");
        let opts = Options {
            as_of: crate::node::parse_date("2026-10-01").expect("a date"),
            tracks: Track::ALL.to_vec(),
        };
        let held = compare(evaluated(ESTATE), evaluated(&later));
        let idx = Indexed::from_loaded(inventory(&later));
        let (streamed, _) =
            compare_streamed(evaluated(ESTATE), "estate.yaml", &idx, &pack, &model, &opts).expect("compares");
        assert_eq!(streamed.changes, held.changes);
        assert_eq!(streamed.findings, held.findings);
        assert_eq!(streamed.head, held.head);
        // And it saw something: e1 removed, e2 changed and escalated, e4 added, bob changed.
        let ents: Vec<(&str, Delta, bool)> = streamed
            .changes
            .entitlements
            .iter()
            .map(|e| (e.id.as_str(), e.delta, e.escalated))
            .collect();
        assert_eq!(
            ents,
            [
                ("e1", Delta::Removed, false),
                ("e2", Delta::Changed, true),
                ("e4", Delta::Added, true)
            ]
        );
        assert_eq!(streamed.changes.identities.len(), 1);
        assert!(!streamed.findings.resolved.is_empty(), "ann's findings are resolved");
    }

    #[test]
    fn findings_are_matched_by_id_and_review_findings_are_left_out() {
        let side = |findings| Snapshot {
            side: Side {
                path: "x".to_owned(),
                kind: Kind::Pack,
                as_of: DateTime::<Utc>::default(),
                campaign: None,
            },
            state: State::default(),
            findings,
        };
        let base = side(vec![
            finding("a", "SOC-ORPH-003"),
            finding("b", "SOC-STALE-001"),
            finding("c", "DEC-NOT-REVIEWED"),
        ]);
        let head = side(vec![finding("a", "SOC-ORPH-003"), finding("d", "SOC-PRIV-001")]);
        let r = compare(base, head);
        let ids = |l: &[BaseFinding]| l.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&r.findings.new), ["d"]);
        assert_eq!(ids(&r.findings.resolved), ["b"]);
        assert!(r.no_change());
        assert_eq!(r.escalated(), 0);
    }
}
