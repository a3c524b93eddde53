//! The catalog of pseudo-rules: findings that come from the review inputs rather than from
//! a policy (`EXC-*` about exceptions, `DEC-*` about a campaign's decisions). Each has its
//! documentation, category, and severity and controls per track, so `explain` knows them
//! and every finding of one carries the same metadata.

use crate::policy::{Category, Severity, Track};

/// One pseudo-rule.
#[derive(Debug, Clone, Copy)]
pub struct PseudoRule {
    /// Rule id, e.g. `DEC-LATE`.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// Category of its findings.
    pub category: Category,
    /// Severity on the SOC and the SOX track.
    pub severity: [Severity; 2],
    /// Controls on the SOC track.
    pub soc_controls: &'static [&'static str],
    /// Controls on the SOX track.
    pub sox_controls: &'static [&'static str],
    /// What it reports and why it matters.
    pub description: &'static str,
    /// What to do.
    pub remediation: &'static str,
}

impl PseudoRule {
    /// Severity on `track`.
    pub fn severity(&self, track: Track) -> Severity {
        match track {
            Track::Soc => self.severity[0],
            Track::Sox => self.severity[1],
        }
    }

    /// Controls on `track`.
    pub fn controls(&self, track: Track) -> Vec<String> {
        let list = match track {
            Track::Soc => self.soc_controls,
            Track::Sox => self.sox_controls,
        };
        list.iter().map(|c| (*c).to_owned()).collect()
    }

    /// The documentation `explain` prints.
    pub fn explain(&self) -> String {
        format!(
            "{id}: {title}\n  pseudo-rule (from the review inputs, not from a policy)\n  category: {cat}\n  severity: soc {s0}, sox {s1}\n  controls: soc {c0}; sox {c1}\n\nWhat it reports\n  {desc}\n\nRemediation\n  {rem}\n",
            id = self.id,
            title = self.title,
            cat = self.category.as_str(),
            s0 = self.severity[0].as_str(),
            s1 = self.severity[1].as_str(),
            c0 = self.soc_controls.join(", "),
            c1 = self.sox_controls.join(", "),
            desc = self.description,
            rem = self.remediation,
        )
    }
}

/// The pseudo-rule with `id`.
pub fn get(id: &str) -> Option<&'static PseudoRule> {
    ALL.iter().find(|r| r.id == id)
}

const REVIEW_SOC: &[&str] = &["CC6.3", "PR.AA-05"];
const REVIEW_SOX: &[&str] = &["SOX-ITGC-APD-01", "AC-6(7)"];
const AUTHORITY_SOC: &[&str] = &["CC6.3", "AC-5"];
const AUTHORITY_SOX: &[&str] = &["SOX-ITGC-APD-01", "SOX-ITGC-APD-03", "AC-5"];

/// Every pseudo-rule, by id.
pub const ALL: &[PseudoRule] = &[
    PseudoRule {
        id: "DEC-LATE",
        title: "A decision is dated outside the campaign period",
        category: Category::Unverifiable,
        severity: [Severity::Low, Severity::Medium],
        soc_controls: REVIEW_SOC,
        sox_controls: REVIEW_SOX,
        description: "The decision's `decided_at` is before the campaign period starts or after the day it ends. A review performed outside its period does not evidence the control operating in that period.",
        remediation: "Have the reviewer decide again within the period, or document why the date differs in the sign-off memo.",
    },
    PseudoRule {
        id: "DEC-NO-RATIONALE",
        title: "A flagged entitlement was approved without a rationale",
        category: Category::Unverifiable,
        severity: [Severity::Medium, Severity::Medium],
        soc_controls: REVIEW_SOC,
        sox_controls: REVIEW_SOX,
        description: "The entitlement has an open finding on the track (stale, excessive, conflicting, orphaned or unverifiable) and the reviewer approved it with an empty `rationale`. An approval against a finding must say why the access is still needed.",
        remediation: "Ask the reviewer to record the business reason, or to revoke the access.",
    },
    PseudoRule {
        id: "DEC-NOT-REMOVED",
        title: "A revoked entitlement is still present after the track's SLA",
        category: Category::Excessive,
        severity: [Severity::Medium, Severity::High],
        soc_controls: &["CC6.2", "CC6.3"],
        sox_controls: &["SOX-ITGC-APD-01", "AC-6(7)"],
        description: "A reviewer revoked the entitlement and it is still in the inventory once `sla_days` of the track have passed since `decided_at`.",
        remediation: "Remove the entitlement in the source system, then confirm it is gone in the next inventory export.",
    },
    PseudoRule {
        id: "DEC-NOT-REVIEWED",
        title: "An in-scope entitlement has no decision after the campaign period",
        category: Category::Unverifiable,
        severity: [Severity::Medium, Severity::High],
        soc_controls: REVIEW_SOC,
        sox_controls: REVIEW_SOX,
        description: "The campaign period has ended at the review date and the track's review holds no decision for this entitlement: the review is incomplete.",
        remediation: "Have the assigned reviewer decide on the entitlement, and explain the gap in the sign-off memo.",
    },
    PseudoRule {
        id: "DEC-RUBBER-STAMP",
        title: "A reviewer's decisions show bulk approval",
        category: Category::Unverifiable,
        severity: [Severity::High, Severity::High],
        soc_controls: REVIEW_SOC,
        sox_controls: REVIEW_SOX,
        description: "Either at least 50 of the reviewer's approvals on the track carry the same `decided_at` timestamp to the second (a bare date does not count), or the reviewer decided at least 5 flagged entitlements on the track and approved every one. Both show approval in bulk rather than a review of each entitlement.",
        remediation: "Have the reviewer review the entitlements again one by one; consider a different reviewer or a smaller worklist.",
    },
    PseudoRule {
        id: "DEC-STALE-APPROVAL",
        title: "An approval from the baseline campaign was carried where it may not be",
        category: Category::Unverifiable,
        severity: [Severity::Medium, Severity::High],
        soc_controls: REVIEW_SOC,
        sox_controls: REVIEW_SOX,
        description: "Against a baseline (`--since`), the decisions approve an entitlement with an approval dated on or before the baseline's review date, and that approval may not carry forward: the entitlement, its holder or its system changed since (any change invalidates an earlier approval), the track's `carry_forward` is `never`, or the approval is older than `carry_forward_max_days`.",
        remediation: "Have the assigned reviewer decide on the entitlement again in this campaign.",
    },
    PseudoRule {
        id: "DEC-SELF-REVIEW",
        title: "A reviewer decided on their own access or on an NHI they own",
        category: Category::Conflicting,
        severity: [Severity::High, Severity::High],
        soc_controls: AUTHORITY_SOC,
        sox_controls: AUTHORITY_SOX,
        description: "The decision's reviewer holds the entitlement, owns the non-human identity that holds it, or, on the SOX track, is one of the delegators of the AI agent that holds access to an in-scope system. Nobody may certify their own access, or authority exercised on their behalf.",
        remediation: "Have the assigned independent reviewer decide again.",
    },
    PseudoRule {
        id: "DEC-WRONG-REVIEWER",
        title: "A decision was made by someone other than the assigned reviewer",
        category: Category::Unverifiable,
        severity: [Severity::Medium, Severity::High],
        soc_controls: AUTHORITY_SOC,
        sox_controls: AUTHORITY_SOX,
        description: "The decision's reviewer is not the reviewer the campaign assigns to the entitlement (its strategy and fallback, as `lint --campaign` computes them), or is not in the track's reviewer `population`.",
        remediation: "Have the assigned reviewer decide again, or correct the campaign's reviewer strategy.",
    },
    PseudoRule {
        id: "EXC-EXPIRED",
        title: "An exception is past its expiry date",
        category: Category::Stale,
        severity: [Severity::High, Severity::High],
        soc_controls: &["CC6.3"],
        sox_controls: &["SOX-ITGC-APD-01"],
        description: "The review date is past the exception's `expires`: the findings it selected are open again (medium when it selects nothing).",
        remediation: "Remediate the findings, or renew the exception with a new approval and expiry date.",
    },
    PseudoRule {
        id: "EXC-SELF-APPROVED",
        title: "An exception was approved by the identity it covers or its owner",
        category: Category::Conflicting,
        severity: [Severity::High, Severity::High],
        soc_controls: &["CC6.3", "AC-5"],
        sox_controls: &["SOX-ITGC-APD-03", "AC-5"],
        description: "The exception's `approved_by` is the identity it covers, or that identity's owner.",
        remediation: "Have the exception approved by someone independent of the identity and its owner.",
    },
    PseudoRule {
        id: "EXC-UNUSED",
        title: "A live exception matches no finding",
        category: Category::Stale,
        severity: [Severity::Low, Severity::Low],
        soc_controls: &["CC6.3"],
        sox_controls: &["SOX-ITGC-APD-01"],
        description: "The exception is live and selects no finding: its rule, track or selector is wrong, or the finding is fixed.",
        remediation: "Remove the exception, or correct its rule, track or selector.",
    },
];
