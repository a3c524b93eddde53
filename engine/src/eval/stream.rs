//! Evaluation of an [`Indexed`] inventory, identity by identity: a batch of identities at
//! a time is read back, decoded, checked and evaluated in parallel, and each batch's
//! findings go to the caller in output order while the next batch is evaluated. Memory
//! holds two batches, not the inventory; the answers are those of [`super::evaluate`] (tests).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::diag::{Code, Level, Problem, Problems};
use crate::finding::{Counts, Finding, Tally};
use crate::inventory::{self, Entitlement, Indexed, Inventory};
use crate::model::Model;
use crate::policy::{Pack, Track};
use crate::source::Loc;

use super::{check_functions, one_identity, Options, Plan};

/// Identities per batch: enough work for every core, little memory.
const BATCH: usize = 4096;

/// Errors kept in full; past this only their number is reported.
const MAX_ERRORS: usize = 1000;

/// What the sponsors and delegators of the agents of `idx` hold, read back once before
/// evaluation (each such person's records are read again when their turn comes; problems
/// in them are reported then).
fn delegation(idx: &Indexed, pack: &Pack) -> crate::derive::Delegation {
    let inv = &idx.inventory;
    let mut d = crate::derive::Delegation::new(inv, pack.sod_conflicts());
    let wanted: Vec<usize> = d
        .people()
        .filter_map(|id| inv.identities.binary_search_by(|i| i.id.as_str().cmp(id)).ok())
        .collect();
    for i in wanted {
        let fetched = idx.fetch(i);
        for e in fetched.entitlements.iter().chain(idx.held(i)) {
            d.add(inv, &pack.functions, e);
        }
    }
    d
}

/// Evaluates `idx`, handing each identity's findings (sorted, as in a report) to `prepare`
/// on the worker that made them, in parallel (to serialise them, say), then what `prepare`
/// made of them to `on_findings`, in output order on the calling thread; returns the counts
/// for the summary and any warnings. The findings are counted and, unless `prepare` keeps
/// them, dropped where they were made. `Err` when the inventory has
/// errors (found while reading records back), a Cedar evaluation failed, or a callback
/// failed: the run fails closed and what was handed out must be discarded.
pub fn evaluate_streamed<T: Send>(
    idx: &Indexed,
    pack: &Pack,
    model: &Model,
    opts: &Options,
    prepare: impl Fn(Vec<Finding>) -> std::io::Result<T> + Sync,
    on_findings: impl FnMut(T) -> std::io::Result<()>,
) -> Result<(Tally, Problems), Problems> {
    evaluate_streamed_with(idx, pack, model, opts, &(), prepare, on_findings)
}

/// What the review layer adds while an inventory is evaluated identity by identity:
/// findings of its own about each identity's entitlements, statuses on the rule findings,
/// and closing findings once every identity is seen. Evaluation is handed one; it does
/// not know which review files there are.
pub trait Overlay: Sync {
    /// What one identity's pass leaves for the closing step, merged across identities.
    type Seen: Default + Send;

    /// Adds to and marks `findings`, the rule findings of one identity that holds `ents`
    /// (sorted by id).
    fn identity(
        &self,
        inv: &Inventory,
        opts: &Options,
        ents: &[&Entitlement],
        findings: &mut Vec<Finding>,
    ) -> Self::Seen;

    /// Folds `other` into `into`.
    fn merge(into: &mut Self::Seen, other: Self::Seen);

    /// Once every identity is seen: the batches of findings to hand out last, in order,
    /// and the problems found (an error fails the run, and then no batch is handed out).
    fn finish(&self, inv: &Inventory, opts: &Options, seen: Self::Seen) -> (Vec<Vec<Finding>>, Problems);
}

/// No review inputs: the rule findings as they are.
impl Overlay for () {
    type Seen = ();

    fn identity(&self, _: &Inventory, _: &Options, _: &[&Entitlement], _: &mut Vec<Finding>) {}

    fn merge(_: &mut (), (): ()) {}

    fn finish(&self, _: &Inventory, _: &Options, (): ()) -> (Vec<Vec<Finding>>, Problems) {
        (Vec::new(), Problems::default())
    }
}

/// [`evaluate_streamed`] with the `review` overlay: it sees each identity's rule findings
/// before `prepare` does, and its closing batches are handed out last.
pub fn evaluate_streamed_with<T: Send, R: Overlay>(
    idx: &Indexed,
    pack: &Pack,
    _model: &Model,
    opts: &Options,
    review: &R,
    prepare: impl Fn(Vec<Finding>) -> std::io::Result<T> + Sync,
    mut on_findings: impl FnMut(T) -> std::io::Result<()>,
) -> Result<(Tally, Problems), Problems> {
    let inv = &idx.inventory;
    let plan = Plan::new(inv, pack, opts, delegation(idx, pack))?;
    let mut tally = Tally {
        as_of: opts.as_of,
        tracks: opts.tracks.clone(),
        identities: inv.identities.len(),
        entitlements: idx.entitlement_count(),
        evaluated: opts.tracks.iter().map(|t| (*t, 0)).collect(),
        rules: opts
            .tracks
            .iter()
            .map(|t| (*t, pack.rules.iter().filter(|r| r.track == *t).count()))
            .collect(),
        ..Tally::default()
    };
    let mut errors = Errors::default();
    errors.extend(idx.unattributed().0);
    let mut hashes = idx.held_id_hashes();
    let mut seen = R::Seen::default();
    let ids: Vec<usize> = (0..inv.identities.len()).collect();
    let run_batch = |batch: &[usize]| -> Vec<Done<T, R::Seen>> {
        batch
            .par_iter()
            .filter_map(|&i| inv.identities.get(i).map(|identity| (i, identity)))
            .map(|(i, identity)| {
                let fetched = idx.fetch(i);
                let mut problems = fetched.problems;
                let mut ents: Vec<&Entitlement> = fetched.entitlements.iter().collect();
                ents.extend(idx.held(i));
                ents.sort_by(|a, b| a.id.cmp(&b.id));
                for e in &ents {
                    check_functions(e, pack, &mut problems);
                }
                let mut out = one_identity(inv, pack, &plan, opts, identity, &ents);
                problems.append(&mut out.problems);
                let seen = review.identity(inv, opts, &ents, &mut out.findings);
                out.findings.sort_by(|a, b| a.key().cmp(&b.key()));
                let counts = Counts::of(&out.findings);
                let prepared = if problems.iter().any(|p| p.level == Level::Error) {
                    None
                } else {
                    Some(prepare(out.findings))
                };
                Done {
                    prepared,
                    counts,
                    problems,
                    id_hashes: fetched.id_hashes,
                    evaluated: out.evaluated,
                    seen,
                }
            })
            .collect()
    };
    // While the findings of one batch are handed to `on_findings` (in order, on this
    // thread), the next batch is evaluated on the worker threads: the handing over is
    // serial, and would otherwise leave the other cores idle.
    let mut batches = ids.chunks(BATCH);
    let mut ready = batches.next().map(run_batch);
    while let Some(outcomes) = ready.take() {
        let next = batches.next();
        let drained = std::thread::scope(|scope| {
            let evaluating = next.map(|batch| scope.spawn(|| run_batch(batch)));
            let mut drained = Ok(());
            for Done {
                prepared,
                counts,
                problems,
                id_hashes,
                evaluated,
                seen: s,
            } in outcomes
            {
                R::merge(&mut seen, s);
                for (t, n) in evaluated {
                    *tally.evaluated.entry(t).or_default() += n;
                }
                errors.extend(problems);
                hashes.extend(id_hashes);
                if let (0, Some(prepared), Ok(())) = (errors.count, prepared, &drained) {
                    tally.add_counts(&counts);
                    drained = prepared.and_then(&mut on_findings);
                }
            }
            if let Some(handle) = evaluating {
                // A panic while evaluating is a bug: it goes on as it would have on this thread.
                ready = Some(handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            drained
        });
        drained.map_err(write_error)?;
    }
    let repeated = inventory::repeated(hashes);
    if !repeated.is_empty() {
        errors.extend(idx.duplicates(&repeated).0);
    }
    let (closing, problems) = review.finish(inv, opts, seen);
    errors.extend(problems.0);
    if errors.count > 0 {
        return Err(errors.into_problems());
    }
    for batch in closing {
        tally.add_counts(&Counts::of(&batch));
        prepare(batch).and_then(&mut on_findings).map_err(write_error)?;
    }
    Ok((tally, errors.into_problems()))
}

fn write_error(e: std::io::Error) -> Problems {
    Problems(vec![Problem::error(
        Code::Io,
        None,
        format!("cannot write the report: {}", e.to_string().to_lowercase()),
    )])
}

/// What one identity gave.
struct Done<T, S> {
    prepared: Option<std::io::Result<T>>,
    counts: Counts,
    problems: Vec<Problem>,
    id_hashes: Vec<u64>,
    evaluated: BTreeMap<Track, usize>,
    seen: S,
}

/// Problems found while reading back and evaluating; only the first [`MAX_ERRORS`] errors
/// are kept in full (an inventory broken on every line would otherwise fill memory).
#[derive(Default)]
struct Errors {
    kept: Problems,
    count: usize,
    /// The earliest location (file, line) among the errors not kept, where the count of
    /// the others is reported.
    first_hidden: Option<Loc>,
}

impl Errors {
    fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for p in problems {
            if p.level == Level::Error {
                self.count += 1;
                if self.count > MAX_ERRORS {
                    if let Some(loc) = p.loc {
                        let key = |l: &Loc| (l.file().to_owned(), l.line, l.offset);
                        if self.first_hidden.as_ref().is_none_or(|f| key(&loc) < key(f)) {
                            self.first_hidden = Some(loc);
                        }
                    }
                    continue;
                }
            }
            self.kept.push(p);
        }
    }

    fn into_problems(mut self) -> Problems {
        self.kept.sort();
        if self.count > MAX_ERRORS {
            let mut p = Problem::error(
                Code::TooManyErrors,
                self.first_hidden,
                format!("{} more errors in the inventory are not shown", self.count - MAX_ERRORS),
            )
            .with_help("fix the errors above and run again");
            if p.loc.is_some() {
                p = p.with_label("the first error not shown");
            }
            self.kept.push(p);
        }
        self.kept
    }
}
