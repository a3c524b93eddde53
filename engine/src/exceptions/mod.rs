//! Exceptions: approved, time-boxed acceptance of findings on one track, each with a
//! compensating control. A live exception marks the findings it selects `excepted`; an
//! expired one leaves them open. Problems with the exceptions themselves (expired, unused,
//! approved by the identity or its owner) become findings of the `EXC-*` pseudo-rules, so
//! they show in every report format and in the evidence pack, on the exception's track.

mod load;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::finding::{fingerprint, Evidence, Finding, FindingStatus, Report};
use crate::inventory::Inventory;
use crate::node::Spanned;
use crate::policy::{Category, Severity, Track};
use crate::source::Loc;

pub use load::{from_source, load, EXCEPTION_FIELDS};

/// Pseudo-rule: an exception is past its `expires` date.
pub const EXPIRED: &str = "EXC-EXPIRED";
/// Pseudo-rule: a live exception matches no finding.
pub const UNUSED: &str = "EXC-UNUSED";
/// Pseudo-rule: an exception was approved by the identity it covers or by that identity's owner.
pub const SELF_APPROVED: &str = "EXC-SELF-APPROVED";

/// One approved exception.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Unique id.
    pub id: String,
    /// Rule ids it covers (`rule` or `rules`).
    pub rules: Vec<Spanned<String>>,
    /// The one track it covers.
    pub track: Track,
    /// Selects findings of this identity.
    pub identity: Option<Spanned<String>>,
    /// Selects findings that list this entitlement.
    pub entitlement: Option<Spanned<String>>,
    /// What mitigates the risk while the exception stands.
    pub compensating_control: String,
    /// Identity id (or name) of the approver.
    pub approved_by: Option<Spanned<String>>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// Last day it applies (inclusive: live while the review date is on or before it).
    pub expires: DateTime<Utc>,
    /// Approval ticket.
    pub ticket: Option<String>,
    /// Where the record is.
    pub loc: Loc,
}

impl Exception {
    /// True while `as_of` is on or before `expires`.
    pub fn is_live(&self, as_of: DateTime<Utc>) -> bool {
        as_of <= self.expires
    }

    /// True when the finding is on this exception's track and rules and its selector matches.
    pub fn selects(&self, f: &Finding) -> bool {
        f.track == self.track
            && self.rules.iter().any(|r| *r.value == *f.rule)
            && self.identity.as_ref().is_none_or(|i| i.value == f.identity)
            && self
                .entitlement
                .as_ref()
                .is_none_or(|e| f.entitlements.contains(&e.value))
    }
}

/// The exceptions of one file, sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    /// The file they were read from.
    pub file: String,
    /// The exceptions.
    pub list: Vec<Exception>,
}

/// Which findings each exception selected (by index into [`Exceptions::list`]): how many,
/// and whose. Built per identity on the workers and merged.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    matched: BTreeMap<usize, (usize, BTreeSet<String>)>,
}

impl Usage {
    /// Adds another identity's usage.
    pub fn merge(&mut self, other: Usage) {
        for (i, (n, ids)) in other.matched {
            let slot = self.matched.entry(i).or_default();
            slot.0 += n;
            slot.1.extend(ids);
        }
    }

    /// Findings the exception at `index` selected.
    pub fn count(&self, index: usize) -> usize {
        self.matched.get(&index).map_or(0, |(n, _)| *n)
    }
}

impl Exceptions {
    /// Marks every finding a live exception selects as `excepted` and records which
    /// exceptions selected what (expired ones too: they are reported, the finding stays open).
    pub fn apply(&self, as_of: DateTime<Utc>, findings: &mut [Finding]) -> Usage {
        let mut usage = Usage::default();
        for f in findings {
            let mut covered = false;
            for (i, x) in self.list.iter().enumerate() {
                if x.selects(f) {
                    let slot = usage.matched.entry(i).or_default();
                    slot.0 += 1;
                    slot.1.insert(f.identity.clone());
                    covered |= x.is_live(as_of);
                }
            }
            if covered {
                f.status = FindingStatus::Excepted;
            }
        }
        usage
    }

    /// Applies the exceptions to a whole (sorted) report of `inv`, the held counterpart of
    /// the streamed path: findings are marked, then the findings about the exceptions are
    /// appended after the sorted ones, in the order the streamed path hands them out.
    pub fn apply_report(&self, report: &mut Report, inv: &Inventory) {
        let usage = self.apply(report.as_of, &mut report.findings);
        let owner_of = |id: &str| inv.identity(id).and_then(|i| i.owner.as_ref()).map(|o| o.value.clone());
        let reports = self.reports(report.as_of, &report.tracks, &usage, owner_of);
        report.findings.extend(reports);
    }

    /// The live exceptions that cover `f`, by id.
    pub fn covering(&self, as_of: DateTime<Utc>, f: &Finding) -> impl Iterator<Item = &Exception> {
        let f = f.clone();
        self.list.iter().filter(move |x| x.is_live(as_of) && x.selects(&f))
    }

    /// The findings about the exceptions on the `evaluated` tracks, sorted by exception id
    /// then rule: expired, unused, and approved by the identity covered or by its owner
    /// (`owner_of` gives an identity's owner).
    pub fn reports(
        &self,
        as_of: DateTime<Utc>,
        evaluated: &[Track],
        usage: &Usage,
        owner_of: impl Fn(&str) -> Option<String>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, x) in self.list.iter().enumerate() {
            if !evaluated.contains(&x.track) {
                continue;
            }
            let (matched, whose) = usage
                .matched
                .get(&i)
                .map_or((0, BTreeSet::new()), |(n, ids)| (*n, ids.clone()));
            let mut identities = whose;
            if let Some(id) = &x.identity {
                identities.insert(id.value.clone());
            }
            let expires = x.expires.format("%Y-%m-%d").to_string();
            if !x.is_live(as_of) {
                let message = match matched {
                    0 => format!("exception `{}` expired on {expires} and matches no finding", x.id),
                    1 => format!(
                        "exception `{}` expired on {expires}; the finding it covered is open again",
                        x.id
                    ),
                    n => format!(
                        "exception `{}` expired on {expires}; the {n} findings it covered are open again",
                        x.id
                    ),
                };
                let severity = if matched > 0 { Severity::High } else { Severity::Medium };
                let mut ev = evidence(x, matched);
                ev.insert(Arc::from("exception.expires"), Json::from(expires.clone()));
                out.push(report(
                    x,
                    EXPIRED,
                    Category::Stale,
                    severity,
                    message,
                    ev,
                    &identities,
                    "Remediate the findings, or renew the exception with a new approval and expiry date.",
                ));
            } else if matched == 0 {
                let message = format!("exception `{}` matches no finding", x.id);
                out.push(report(
                    x,
                    UNUSED,
                    Category::Stale,
                    Severity::Low,
                    message,
                    evidence(x, 0),
                    &identities,
                    "Remove the exception, or correct its rule, track or selector.",
                ));
            }
            if let Some(approver) = &x.approved_by {
                let own = identities.iter().find(|id| **id == approver.value);
                let owned = identities
                    .iter()
                    .find(|id| owner_of(id).is_some_and(|o| o == approver.value));
                if let Some((whom, how)) = own
                    .map(|id| (id, "the identity itself"))
                    .or(owned.map(|id| (id, "its owner")))
                {
                    let message = format!(
                        "exception `{}` for `{whom}` was approved by `{}`, {how}",
                        x.id, approver.value
                    );
                    let mut ev = evidence(x, matched);
                    ev.insert(Arc::from("exception.approved_for"), Json::from(whom.clone()));
                    out.push(report(
                        x,
                        SELF_APPROVED,
                        Category::Conflicting,
                        Severity::High,
                        message,
                        ev,
                        &identities,
                        "Have the exception approved by someone independent of the identity and its owner.",
                    ));
                }
            }
        }
        out
    }
}

fn evidence(x: &Exception, matched: usize) -> Evidence {
    let mut ev = Evidence::default();
    ev.insert(Arc::from("exception.id"), Json::from(x.id.clone()));
    ev.insert(Arc::from("exception.matched"), Json::from(matched));
    if let Some(a) = &x.approved_by {
        ev.insert(Arc::from("exception.approved_by"), Json::from(a.value.clone()));
    }
    ev
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call per pseudo-rule, all fields named at the call"
)]
fn report(
    x: &Exception,
    rule: &str,
    category: Category,
    severity: Severity,
    message: String,
    evidence: Evidence,
    identities: &BTreeSet<String>,
    remediation: &str,
) -> Finding {
    let controls: Vec<String> = match (x.track, rule) {
        (Track::Soc, SELF_APPROVED) => vec!["CC6.3".into(), "AC-5".into()],
        (Track::Sox, SELF_APPROVED) => vec!["SOX-ITGC-APD-03".into(), "AC-5".into()],
        (Track::Soc, _) => vec!["CC6.3".into()],
        (Track::Sox, _) => vec!["SOX-ITGC-APD-01".into()],
    };
    let identity = x
        .identity
        .as_ref()
        .map(|i| i.value.clone())
        .or_else(|| identities.iter().next().cloned())
        .unwrap_or_default();
    Finding {
        id: fingerprint(rule, x.track, &format!("exception:{}", x.id), &[]),
        rule: Arc::from(rule),
        track: x.track,
        category,
        severity,
        controls: controls.into(),
        identity,
        entitlements: x.entitlement.iter().map(|e| e.value.clone()).collect(),
        message,
        evidence,
        remediation: Arc::from(remediation),
        status: FindingStatus::Open,
        file: x.loc.src.name_shared(),
        line: x.loc.line,
        change: None,
    }
}
