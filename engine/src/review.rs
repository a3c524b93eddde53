//! The review overlay of a streamed run: an earlier campaign's decisions (revoked access
//! still present, decisions verified) and the exceptions, applied to each identity's
//! findings as evaluation hands them over. It sits above `eval`, which is handed it as an
//! [`Overlay`] and never imports the review files.

use crate::baseline::state::{Ent, Ident, Sys};
use crate::baseline::{Baseline, Change};
use crate::campaign::carry::Since;
use crate::decisions::verify::{self, Seen};
use crate::decisions::Decisions;
use crate::diag::Problems;
use crate::eval::stream::Overlay;
use crate::eval::Options;
use crate::exceptions::{Exceptions, Usage};
use crate::finding::Finding;
use crate::inventory::{Entitlement, Inventory};
use crate::worklist::Verdict;

/// The review inputs a run takes besides the inventory and the pack.
#[derive(Debug, Clone, Copy, Default)]
pub struct Review<'a> {
    /// Exceptions to apply.
    pub exceptions: Option<&'a Exceptions>,
    /// Decisions of an earlier campaign, checked against this inventory.
    pub decisions: Option<&'a Decisions>,
    /// The previous campaign's pack: every finding says what happened to its access since.
    pub baseline: Option<&'a Baseline>,
}

/// What the identities seen so far left for the closing step.
#[derive(Debug, Default)]
pub struct Passed {
    /// Which decisions met their entitlement.
    seen: Seen,
    /// Which exceptions matched a finding.
    usage: Usage,
}

/// Each identity's `DEC-*` findings join its rule findings, then the exceptions are applied
/// to all of them; the decisions' closing findings (stamps) and the findings about the
/// exceptions themselves (expired, unused, self-approved) are handed out last.
impl Overlay for Review<'_> {
    type Seen = Passed;

    fn identity(&self, inv: &Inventory, opts: &Options, ents: &[&Entitlement], findings: &mut Vec<Finding>) -> Passed {
        let mut seen = Seen::default();
        if let Some(d) = self.decisions {
            findings.extend(d.findings(opts.as_of, &opts.tracks, ents));
            let flagged = verify::flagged(findings, self.exceptions, opts.as_of);
            let since = self.baseline.map(|b| b as &dyn Since);
            let (found, s) = d.verify(inv, opts.as_of, &opts.tracks, ents, &flagged, since);
            findings.extend(found);
            seen = s;
        }
        if let (Some(b), None) = (self.baseline, self.decisions) {
            findings.extend(baseline_revokes(b, ents, opts));
        }
        let usage = self
            .exceptions
            .map(|x| x.apply(opts.as_of, findings))
            .unwrap_or_default();
        if let Some(b) = self.baseline {
            mark_changes(b, inv, ents, findings);
        }
        Passed { seen, usage }
    }

    fn merge(into: &mut Passed, other: Passed) {
        into.seen.merge(other.seen);
        into.usage.merge(other.usage);
    }

    fn finish(&self, inv: &Inventory, opts: &Options, mut passed: Passed) -> (Vec<Vec<Finding>>, Problems) {
        let mut batches = Vec::new();
        let mut problems = Problems::default();
        if let Some(d) = self.decisions {
            let (mut stamps, found) = d.finish(&opts.tracks, &passed.seen, &[]);
            problems = found;
            if !stamps.is_empty() {
                if let Some(x) = self.exceptions {
                    passed.usage.merge(x.apply(opts.as_of, &mut stamps));
                }
                stamps.sort_by(|a, b| a.key().cmp(&b.key()));
                batches.push(stamps);
            }
        }
        if let Some(x) = self.exceptions {
            let owner_of = |id: &str| inv.identity(id).and_then(|i| i.owner.as_ref()).map(|o| o.value.clone());
            batches.push(x.reports(opts.as_of, &opts.tracks, &passed.usage, owner_of));
        }
        (batches, problems)
    }
}

/// Without this campaign's decisions (which check them with its SLA), the baseline's
/// revokes among `ents` still present past the baseline campaign's SLA: `DEC-NOT-REMOVED`.
pub fn baseline_revokes(b: &Baseline, ents: &[&Entitlement], opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in ents {
        for track in &opts.tracks {
            if let Some(p) = b.previous(*track, &e.id).filter(|p| p.verdict == Verdict::Revoke) {
                let sla = b.sla_days.get(track).copied().unwrap_or(0);
                out.extend(verify::revoked_still_present(b, &p, sla, *track, e, opts.as_of));
            }
        }
    }
    out
}

/// Sets each finding's `change`: against the baseline, the most telling class among its
/// entitlements (new before changed before unchanged), or its identity's when it lists
/// none. `ents` are one identity's entitlements.
fn mark_changes(b: &Baseline, inv: &Inventory, ents: &[&Entitlement], findings: &mut [Finding]) {
    let Some(first) = findings.first() else { return };
    let holder = inv.identity(&first.identity).map(Ident::of);
    let mut systems: Vec<(&str, Option<Sys>)> = Vec::new();
    let classes: Vec<(&str, Change)> = ents
        .iter()
        .map(|e| {
            let system = match systems.iter().find(|(id, _)| *id == &*e.system.value) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = inv.system(&e.system.value).map(Sys::of);
                    systems.push((&e.system.value, s.clone()));
                    s
                }
            };
            let class = b
                .state
                .classify(&e.id, &Ent::digest_of(e), holder.as_ref(), system.as_ref());
            (e.id.as_str(), class.change)
        })
        .collect();
    let identity = holder
        .as_ref()
        .map(|h| b.state.classify_identity(&first.identity, h).change);
    for f in findings.iter_mut() {
        f.change = if f.entitlements.is_empty() {
            identity.or(Some(Change::New))
        } else {
            f.entitlements
                .iter()
                .map(|id| classes.iter().find(|(e, _)| e == id).map_or(Change::New, |(_, c)| *c))
                .min()
        };
    }
}
