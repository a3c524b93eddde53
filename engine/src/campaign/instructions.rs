//! The reviewer instructions of a campaign track (`<track>/instructions.md`): what the
//! track's review tests, how to judge a non-human identity, what each decision means and
//! what a revoke commits the reviewer to. Written into the plan and the evidence pack.

use std::fmt::Write as _;

use crate::policy::Track;

use super::{Campaign, Reviewer, Scope, TrackPlan};

/// The instructions for `plan`'s track of `campaign`, as Markdown.
pub fn text(campaign: &Campaign, plan: &TrackPlan) -> String {
    let mut s = String::new();
    let name = match plan.track {
        Track::Soc => "SOC",
        Track::Sox => "SOX",
    };
    let _ = writeln!(s, "# {} — {name} access review: reviewer instructions\n", campaign.id);
    match campaign.period {
        Some((start, end)) => {
            let _ = writeln!(
                s,
                "Review period: **{}** to **{}** (inclusive). Decisions dated outside it are reported as late (`DEC-LATE`); entitlements without a decision once it has ended are reported as not reviewed (`DEC-NOT-REVIEWED`).\n",
                start.format("%Y-%m-%d"),
                end.format("%Y-%m-%d")
            );
        }
        None => s.push_str(
            "The campaign file gives no review period: decide before the date your review coordinator sets.\n\n",
        ),
    }
    let scope = match plan.scope {
        Scope::All => "every entitlement in the inventory",
        Scope::SoxInScope => {
            "the entitlements on systems marked `sox_in_scope` (systems that affect financial reporting)"
        }
    };
    let who = |r: Reviewer| match r {
        Reviewer::SystemOwner => "the owner of the system",
        Reviewer::Manager => "the holder's manager (for a non-human identity, its owner's manager)",
        Reviewer::Sponsor => "the AI agent's first active sponsor (other identities go to the fallback)",
    };
    let _ = writeln!(s, "## What you are asked to do\n");
    let _ = writeln!(
        s,
        "This track reviews {scope}. Each entitlement is assigned to {}{}. Your worklist holds the entitlements assigned to you; rows with open findings come first, the most severe first.\n",
        who(plan.reviewer),
        plan.fallback
            .map(|f| format!(", or, when that gives nobody independent, to {}", who(f)))
            .unwrap_or_default()
    );
    if !plan.population.is_empty() {
        let names: Vec<String> = plan.population.iter().map(|p| format!("`{}`", p.value)).collect();
        let _ = writeln!(
            s,
            "Only these people may decide on this track: {}. A decision by anyone else is reported (`DEC-WRONG-REVIEWER`).\n",
            names.join(", ")
        );
    }
    let _ = writeln!(s, "## What this review tests\n");
    match plan.track {
        Track::Soc => s.push_str(
            "The SOC review asks, for each entitlement, three questions:\n\n\
             - **Business need**: does the holder's current job still require this access? A \
             justification written years ago for a different role does not count.\n\
             - **Use**: is the access actually used? Access idle for months, or never used since it \
             was granted, is a standing risk with no benefit; the `last_used` column and the \
             findings tell you what the inventory shows.\n\
             - **Accountability**: is there a person who answers for the identity and the access? \
             An account of someone who has left, or a service account nobody owns, must not keep \
             access because nobody objected.\n\n",
        ),
        Track::Sox => s.push_str(
            "The SOX review protects the integrity of financial reporting. For each entitlement on an \
             in-scope system, check:\n\n\
             - **Segregation of duties**: the holder must not be able to complete a financial \
             transaction alone (for example create a vendor and approve its payment, or post and \
             approve a journal entry). A conflict finding lists every entitlement involved; revoke \
             at least one side, or record the compensating control in your rationale.\n\
             - **Restricted access to financial systems**: privileged and administrative access \
             must be limited to the people whose role requires it, with a documented justification.\n\
             - **System ownership**: every in-scope system and every identity with access to it \
             has an accountable owner; terminated people and orphaned service accounts keep no \
             access.\n\n",
        ),
    }
    s.push_str(
        "## Non-human identities\n\n\
         Service accounts, API keys, tokens and workloads (kind other than `human`) cannot answer for \
         themselves. Judge them by:\n\n\
         - **Owner**: the `owner` column names the accountable person. No owner, or an owner who has \
         left, means nobody is accountable: revoke, or name an owner before approving.\n\
         - **Use**: an identity that has not authenticated or used the access recently is probably \
         unneeded.\n\
         - **Credential age**: a secret that has not been rotated within policy, or never expires, \
         is a finding in itself; approving the access does not fix the credential.\n\n\
         You may not decide on an identity you own, nor on your own access (`DEC-SELF-REVIEW`).\n\n",
    );
    s.push_str(
        "## How to fill in the worklist\n\n\
         Fill in three columns per row and leave the others as they are:\n\n\
         - `decision`: `approve` (keep as is), `revoke` (remove) or `modify` (keep a reduced form; \
         say what in the rationale).\n\
         - `decided_at`: when you decided, as `YYYY-MM-DD` or an RFC 3339 timestamp.\n\
         - `rationale`: why. It is required to approve a row with open findings \
         (`DEC-NO-RATIONALE`). The `recommended` column suggests `revoke` where the access is \
         stale, orphaned or conflicting; it is advice, not a decision.\n\n\
         Review each row on its own. Approving large batches at once, or approving every flagged \
         row, is reported as a rubber stamp (`DEC-RUBBER-STAMP`).\n\n",
    );
    let _ = writeln!(s, "## What a revoke commits you to\n");
    match &plan.sla_days {
        Some(d) => {
            let _ = writeln!(
                s,
                "A `revoke` must be carried out within **{} days** of its `decided_at` date. The next inventory snapshot is checked: an entitlement still present after that is reported (`DEC-NOT-REMOVED`) against this review. Make sure the removal request reaches the system's administrators.",
                d.value
            );
        }
        None => s.push_str(
            "This track has no remediation SLA in the campaign file: agree a removal date with the control owner before you revoke.\n",
        ),
    }
    s
}
