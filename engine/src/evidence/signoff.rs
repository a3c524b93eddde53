//! The review's close-out per track: the attestation coverage (`coverage.md`: reviewed and
//! total, per reviewer approve/revoke/modify, late and missing) and the sign-off memo
//! (`signoff.md`) pre-filled for the control owner, signature and date left blank.

use std::fmt::Write as _;

use crate::decisions::verify::TrackCoverage;
use crate::escape::cell;
use crate::finding::FindingStatus;
use crate::policy::{Severity, Track};
use crate::worklist::Verdict;

use super::text::timestamp;
use super::{Sources, TrackView};

fn name(track: Track) -> &'static str {
    match track {
        Track::Soc => "SOC",
        Track::Sox => "SOX",
    }
}

fn pct(n: usize, total: usize) -> String {
    if total == 0 {
        return "n/a".to_owned();
    }
    let tenths = n.saturating_mul(1000) / total;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// The coverage of `track`, if a campaign with decisions was given.
fn of(coverage: &[TrackCoverage], track: Track) -> Option<&TrackCoverage> {
    coverage.iter().find(|c| c.track == track)
}

/// `coverage.md`: how completely the track was reviewed.
pub fn coverage_md(src: &Sources<'_>, track: Track, coverage: &[TrackCoverage]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} track: attestation coverage\n", name(track));
    let _ = writeln!(s, "Review date (as of): {}\n", timestamp(src.report.as_of));
    let Some(c) = of(coverage, track) else {
        s.push_str("No campaign decisions were given for this track (`--campaign` and `--decisions`): coverage cannot be shown.\n");
        return s;
    };
    let _ = writeln!(s, "| measure | count |\n|---|---:|");
    let _ = writeln!(s, "| in-scope entitlements | {} |", c.total);
    let _ = writeln!(
        s,
        "| reviewed (with a decision) | {} ({}) |",
        c.reviewed,
        pct(c.reviewed, c.total)
    );
    let _ = writeln!(s, "| missing (no decision) | {} |", c.missing);
    let _ = writeln!(s, "| late (dated outside the period) | {} |\n", c.late);
    let _ = writeln!(s, "## Per reviewer\n");
    let _ = writeln!(
        s,
        "| reviewer | assigned | approve | revoke | modify | late | missing |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for (r, v) in &c.reviewers {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(r),
            v.assigned,
            v.approve,
            v.revoke,
            v.modify,
            v.late,
            v.missing
        );
    }
    s
}

/// `signoff.md`: the control owner's sign-off memo for the track.
pub fn signoff_md(src: &Sources<'_>, ctx: &TrackView<'_>, coverage: &[TrackCoverage]) -> String {
    let track = ctx.track;
    let mut s = String::new();
    let _ = writeln!(s, "# {} access review: sign-off memo\n", name(track));
    let campaign = src.campaign;
    let _ = writeln!(
        s,
        "Campaign: {}\n",
        campaign.map_or_else(|| "(no campaign file given)".to_owned(), |c| format!("`{}`", c.id))
    );
    let period = campaign.and_then(|c| c.period).map_or_else(
        || "(not given)".to_owned(),
        |(a, b)| format!("{} to {}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d")),
    );
    let _ = writeln!(s, "Review period: {period}\n");
    let _ = writeln!(s, "Review date (as of): {}\n", timestamp(src.report.as_of));
    let _ = writeln!(s, "## Population\n");
    let evaluated = src.report.evaluated.get(&track).copied().unwrap_or(0);
    let _ = writeln!(
        s,
        "{} identities and {} entitlements in the inventory; {evaluated} entitlements evaluated on this track.\n",
        src.report.identities, src.report.entitlements
    );
    let _ = writeln!(s, "## Coverage\n");
    match of(coverage, track) {
        Some(c) => {
            let _ = writeln!(
                s,
                "{} of {} in-scope entitlements reviewed ({}); {} without a decision; {} decisions dated outside the period.\n",
                c.reviewed,
                c.total,
                pct(c.reviewed, c.total),
                c.missing,
                c.late
            );
        }
        None => s.push_str("No decisions were given: coverage is not evidenced by this pack.\n\n"),
    }
    let _ = writeln!(s, "## Open findings\n");
    let (open, excepted) = ctx.open_excepted();
    let _ = writeln!(s, "{open} open, {excepted} excepted.\n");
    let _ = writeln!(s, "| severity | open |\n|---|---:|");
    for sev in [Severity::Critical, Severity::High, Severity::Medium, Severity::Low] {
        let n = ctx
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open && f.severity == sev)
            .count();
        let _ = writeln!(s, "| {} | {n} |", sev.as_str());
    }
    let review: Vec<_> = ctx
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open && f.rule.starts_with("DEC-"))
        .collect();
    let _ = writeln!(
        s,
        "\nOf these, {} are about the review itself (`DEC-*`).\n",
        review.len()
    );
    let _ = writeln!(s, "## Exceptions\n");
    let live = ctx.exceptions.iter().filter(|e| e.live).count();
    let _ = writeln!(
        s,
        "{} exceptions on this track: {live} live, {} expired.\n",
        ctx.exceptions.len(),
        ctx.exceptions.len() - live
    );
    let _ = writeln!(s, "## Remediation status\n");
    match src.decisions {
        Some(d) => {
            let sla = d.sla_days.get(&track);
            let revokes: Vec<_> = d
                .latest
                .iter()
                .filter(|((t, _), dec)| *t == track && dec.verdict == Verdict::Revoke)
                .collect();
            let present = |id: &str| {
                src.inventory
                    .entitlements
                    .binary_search_by(|e| e.id.as_str().cmp(id))
                    .is_ok()
            };
            let removed = revokes.iter().filter(|((_, id), _)| !present(id)).count();
            let overdue = ctx
                .findings
                .iter()
                .filter(|f| &*f.rule == crate::decisions::NOT_REMOVED)
                .count();
            let _ = writeln!(
                s,
                "{} revokes: {removed} removed, {overdue} past the {}-day SLA, {} pending within it.\n",
                revokes.len(),
                sla.map_or_else(|| "?".to_owned(), u32::to_string),
                revokes.len().saturating_sub(removed + overdue)
            );
        }
        None => s.push_str("No decisions were given: remediation is not evidenced by this pack.\n\n"),
    }
    s.push_str(
        "## Sign-off\n\n\
         I have reviewed the coverage, the open findings, the exceptions and the remediation status \
         above, and I confirm that the access review of this track was performed as described, \
         subject to the findings listed.\n\n\
         | | |\n|---|---|\n\
         | Control owner (name) | |\n\
         | Signature | |\n\
         | Date | |\n",
    );
    s
}
