//! Carrying a baseline campaign's approvals forward (`carry_forward: unchanged`). Any
//! change to an entitlement invalidates its earlier approval, so an approval carries only
//! when every condition holds: the track allows it; nothing about the entitlement, its
//! holder or its system changed; it has no open finding now; the baseline approved it;
//! the reviewer who approved it is still active and is the one who would be assigned now;
//! and the approval is no older than `carry_forward_max_days`. Otherwise the row goes back
//! to a reviewer.
//!
//! The campaign does not read packs: what the baseline says comes through [`Since`].

use chrono::{DateTime, Utc};

use crate::finding::Change;
use crate::inventory::{Entitlement, Inventory, Status};
use crate::policy::Track;
use crate::worklist::Verdict;

use super::{CarryForward, TrackPlan};

/// A baseline campaign's decision on one entitlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Approve, revoke or modify.
    pub verdict: Verdict,
    /// Who decided.
    pub reviewer: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

impl Previous {
    /// `approve by olga on 2026-07-10`.
    pub fn describe(&self) -> String {
        format!(
            "{} by {} on {}",
            self.verdict.as_str(),
            self.reviewer,
            self.decided_at.format("%Y-%m-%d")
        )
    }
}

/// What a delta review knows about the baseline.
pub trait Since: Sync {
    /// The baseline campaign's id (or what names the pack when it had none).
    fn campaign(&self) -> String;

    /// The baseline's review date.
    fn as_of(&self) -> DateTime<Utc>;

    /// What happened to `e` since the baseline, with the fields that changed (`holder.*`
    /// and `system.*` for its holder's and system's), its holder and system as `inv` has
    /// them.
    fn change(&self, e: &Entitlement, inv: &Inventory) -> (Change, Vec<String>);

    /// The baseline's decision on entitlement `id` on `track`.
    fn previous(&self, track: Track, id: &str) -> Option<Previous>;
}

/// `new`, `unchanged`, or `changed: a, b`: the `change` cell of a worklist row.
pub fn change_cell(change: Change, fields: &[String]) -> String {
    if fields.is_empty() {
        change.as_str().to_owned()
    } else {
        format!("{}: {}", change.as_str(), fields.join(", "))
    }
}

/// Whether `plan` carries the baseline's approval of `e` forward, with the reason either
/// way: `Ok` says why it was eligible (for `carried_forward.csv`), `Err` why it goes back
/// to a reviewer. `reviewer` is who would be assigned now; `flagged` whether an open
/// finding lists `e` on the track now.
#[allow(clippy::too_many_arguments, reason = "each is one condition of the carry rule")]
pub fn decide(
    plan: &TrackPlan,
    inv: &Inventory,
    change: Change,
    previous: Option<&Previous>,
    reviewer: &str,
    flagged: bool,
    as_of: DateTime<Utc>,
    campaign: &str,
) -> Result<String, String> {
    if plan.carry_forward == CarryForward::Never {
        return Err(format!(
            "the {} track never carries approvals forward",
            plan.track.as_str()
        ));
    }
    if change != Change::Unchanged {
        return Err(format!("{} since {campaign}", change.as_str()));
    }
    let Some(p) = previous else {
        return Err(format!("{campaign} has no decision on it"));
    };
    if p.verdict != Verdict::Approve {
        return Err(format!("{campaign} decided {}", p.describe()));
    }
    if flagged {
        return Err("an open finding lists it now".to_owned());
    }
    if p.reviewer != reviewer {
        return Err(if reviewer.is_empty() {
            format!("nobody would be assigned now ({} approved it)", p.reviewer)
        } else {
            format!("{reviewer} would review it now, not {}", p.reviewer)
        });
    }
    if inv.identity(&p.reviewer).is_none_or(|r| r.status != Status::Active) {
        return Err(format!("{} is no longer active", p.reviewer));
    }
    let age = (as_of - p.decided_at).num_days();
    let limit = match &plan.carry_forward_max_days {
        Some(max) if age > i64::from(max.value) => {
            return Err(format!(
                "the approval is {age} days old, past carry_forward_max_days ({})",
                max.value
            ))
        }
        Some(max) => format!(", within carry_forward_max_days {}", max.value),
        None => String::new(),
    };
    Ok(format!(
        "unchanged since {campaign}; approved by {} on {} ({age} days before the review date{limit}); no open finding; {} is active and still its reviewer",
        p.reviewer,
        p.decided_at.format("%Y-%m-%d"),
        p.reviewer
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::campaign::{Reviewer, Scope};
    use crate::node::{Spanned, Value};
    use crate::source::Source;

    fn inventory() -> Inventory {
        let src = Source::new(
            "t.yaml",
            "identities:\n  - {id: olga, kind: human}\n  - {id: gone, kind: human, status: terminated}\n",
        );
        let root = crate::yaml::parse(&src).expect("parses");
        let Value::Map(m) = &root.value else { panic!("a map") };
        let ids = m.iter().find(|(k, _, _)| k == "identities").map(|(_, n, _)| n);
        crate::inventory::load::from_nodes(None, ids, None).expect("valid")
    }

    fn plan(carry: CarryForward, max: Option<u32>) -> TrackPlan {
        let loc = Source::new("c.yaml", "x").whole();
        TrackPlan {
            track: Track::Soc,
            scope: Scope::All,
            reviewer: Reviewer::Manager,
            fallback: None,
            population: Vec::new(),
            sla_days: None,
            carry_forward: carry,
            carry_forward_max_days: max.map(|m| Spanned::new(m, loc.clone())),
            loc,
        }
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, d, 0, 0, 0).single().expect("a date")
    }

    fn approve(by: &str) -> Previous {
        Previous {
            verdict: Verdict::Approve,
            reviewer: by.to_owned(),
            decided_at: day(1),
        }
    }

    #[test]
    fn an_approval_carries_only_when_every_condition_holds() {
        let inv = inventory();
        let as_of = day(31);
        let unchanged = plan(CarryForward::Unchanged, Some(60));
        let ok = approve("olga");
        let decide = |p: &TrackPlan, change, prev: Option<&Previous>, reviewer, flagged, as_of| {
            decide(p, &inv, change, prev, reviewer, flagged, as_of, "Q3")
        };
        let carried = decide(&unchanged, Change::Unchanged, Some(&ok), "olga", false, as_of);
        assert!(
            carried
                .as_deref()
                .is_ok_and(|r| r.contains("30 days") && r.contains("olga")),
            "{carried:?}"
        );
        let refused = [
            decide(
                &plan(CarryForward::Never, None),
                Change::Unchanged,
                Some(&ok),
                "olga",
                false,
                as_of,
            ),
            decide(&unchanged, Change::Changed, Some(&ok), "olga", false, as_of),
            decide(&unchanged, Change::New, None, "olga", false, as_of),
            decide(&unchanged, Change::Unchanged, None, "olga", false, as_of),
            decide(
                &unchanged,
                Change::Unchanged,
                Some(&Previous {
                    verdict: Verdict::Revoke,
                    ..ok.clone()
                }),
                "olga",
                false,
                as_of,
            ),
            decide(&unchanged, Change::Unchanged, Some(&ok), "olga", true, as_of),
            decide(&unchanged, Change::Unchanged, Some(&ok), "tom", false, as_of),
            decide(&unchanged, Change::Unchanged, Some(&ok), "", false, as_of),
            decide(
                &unchanged,
                Change::Unchanged,
                Some(&approve("gone")),
                "gone",
                false,
                as_of,
            ),
            decide(
                &unchanged,
                Change::Unchanged,
                Some(&approve("nobody")),
                "nobody",
                false,
                as_of,
            ),
            decide(
                &unchanged,
                Change::Unchanged,
                Some(&ok),
                "olga",
                false,
                as_of + chrono::Duration::days(31),
            ),
        ];
        let reasons: Vec<String> = refused.into_iter().map(|r| r.expect_err("refused")).collect();
        assert_eq!(
            reasons,
            [
                "the soc track never carries approvals forward",
                "changed since Q3",
                "new since Q3",
                "Q3 has no decision on it",
                "Q3 decided revoke by olga on 2026-07-01",
                "an open finding lists it now",
                "tom would review it now, not olga",
                "nobody would be assigned now (olga approved it)",
                "gone is no longer active",
                "nobody is no longer active",
                "the approval is 61 days old, past carry_forward_max_days (60)",
            ]
        );
    }
}
