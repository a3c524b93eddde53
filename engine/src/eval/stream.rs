//! Evaluation of an [`Indexed`] inventory, identity by identity: a batch of identities at
//! a time is read back, decoded, checked and evaluated in parallel, and each batch's
//! findings go to the caller in output order while the next batch is evaluated. Memory
//! holds two batches, not the inventory; the answers are those of [`super::evaluate`] (tests).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::decisions::verify::{self, Seen};
use crate::decisions::Decisions;
use crate::diag::{Code, Level, Problem, Problems};
use crate::exceptions::{Exceptions, Usage};
use crate::finding::{Counts, Finding, Tally};
use crate::inventory::{self, Entitlement, Indexed};
use crate::model::Model;
use crate::policy::{Pack, Track};
use crate::source::Loc;

use super::{check_functions, one_identity, Options, Plan};

/// Identities per batch: enough work for every core, little memory.
const BATCH: usize = 4096;

/// Errors kept in full; past this only their number is reported.
const MAX_ERRORS: usize = 1000;

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
    evaluate_streamed_with(idx, pack, model, opts, Review::default(), prepare, on_findings)
}

/// The findings document `check --format json` prints for `idx` (no exceptions or
/// decisions), as one string: [`evaluate_streamed`] written through
/// [`crate::render::JsonFindings`]. For tests, fuzzing and tools that compare runs.
pub fn json_report(idx: &Indexed, pack: &Pack, model: &Model, opts: &Options) -> Result<String, Problems> {
    use crate::render::JsonFindings;
    let mut json = JsonFindings::default();
    let (tally, _) = evaluate_streamed(
        idx,
        pack,
        model,
        opts,
        |f| JsonFindings::encode(&f),
        |e| json.push_encoded(&e),
    )?;
    let mut out = Vec::new();
    let written = json
        .finish(&tally, &mut out)
        .map(|()| String::from_utf8_lossy(&out).into_owned());
    written.map_err(|e| {
        Problems(vec![Problem::error(
            Code::Io,
            None,
            format!("cannot write the findings: {}", e.to_string().to_lowercase()),
        )])
    })
}

/// The campaign inputs a run takes besides the inventory and the pack.
#[derive(Debug, Clone, Copy, Default)]
pub struct Review<'a> {
    /// Exceptions to apply.
    pub exceptions: Option<&'a Exceptions>,
    /// Decisions of an earlier campaign, checked against this inventory.
    pub decisions: Option<&'a Decisions>,
}

/// [`evaluate_streamed`] with the `review` inputs: each identity's `DEC-NOT-REMOVED`
/// findings join its rule findings, then exceptions are applied to all of them before
/// `prepare` sees them; the findings about the exceptions themselves (expired, unused,
/// self-approved) are handed out last, as one more batch.
pub fn evaluate_streamed_with<T: Send>(
    idx: &Indexed,
    pack: &Pack,
    _model: &Model,
    opts: &Options,
    review: Review<'_>,
    prepare: impl Fn(Vec<Finding>) -> std::io::Result<T> + Sync,
    mut on_findings: impl FnMut(T) -> std::io::Result<()>,
) -> Result<(Tally, Problems), Problems> {
    let inv = &idx.inventory;
    let plan = Plan::new(inv, pack, opts)?;
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
    let mut usage = Usage::default();
    let mut seen = Seen::default();
    let ids: Vec<usize> = (0..inv.identities.len()).collect();
    let run_batch = |batch: &[usize]| -> Vec<Done<T>> {
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
                let mut seen = Seen::default();
                if let Some(d) = review.decisions {
                    out.findings.extend(d.findings(opts.as_of, &opts.tracks, &ents));
                    let flagged = verify::flagged(&out.findings, review.exceptions, opts.as_of);
                    let (found, s) = d.verify(inv, opts.as_of, &opts.tracks, &ents, &flagged);
                    out.findings.extend(found);
                    seen = s;
                }
                let usage = review
                    .exceptions
                    .map(|x| x.apply(opts.as_of, &mut out.findings))
                    .unwrap_or_default();
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
                    usage,
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
                usage: used,
                seen: s,
            } in outcomes
            {
                usage.merge(used);
                seen.merge(s);
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
    if let Some(d) = review.decisions {
        let (mut stamps, problems) = d.finish(&opts.tracks, &seen, &[]);
        errors.extend(problems.0);
        if errors.count == 0 && !stamps.is_empty() {
            if let Some(x) = review.exceptions {
                usage.merge(x.apply(opts.as_of, &mut stamps));
            }
            stamps.sort_by(|a, b| a.key().cmp(&b.key()));
            tally.add_counts(&Counts::of(&stamps));
            prepare(stamps).and_then(&mut on_findings).map_err(write_error)?;
        }
    }
    if errors.count > 0 {
        return Err(errors.into_problems());
    }
    if let Some(x) = review.exceptions {
        let owner_of = |id: &str| inv.identity(id).and_then(|i| i.owner.as_ref()).map(|o| o.value.clone());
        let reports = x.reports(opts.as_of, &opts.tracks, &usage, owner_of);
        tally.add_counts(&Counts::of(&reports));
        prepare(reports).and_then(&mut on_findings).map_err(write_error)?;
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
struct Done<T> {
    prepared: Option<std::io::Result<T>>,
    counts: Counts,
    problems: Vec<Problem>,
    id_hashes: Vec<u64>,
    evaluated: BTreeMap<Track, usize>,
    usage: Usage,
    seen: Seen,
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
