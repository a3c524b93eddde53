//! The pack's CSV files: a track's findings, its exception log, and the population per
//! system. Text cells go through the same formula guard as `check --format csv`.

use chrono::Duration;

use crate::decisions::Decisions;
use crate::escape::guard_formula;
use crate::finding::Report;
use crate::policy::Track;
use crate::render::write_csv;
use crate::worklist::Verdict;

use super::{population, Sources, TrackView};

/// The track's findings, in report order, in the `check --format csv` layout.
pub fn findings_csv(report: &Report, track: Track) -> Vec<u8> {
    let mut one = report.clone();
    one.findings.retain(|f| f.track == track);
    one.tracks = vec![track];
    let mut out = Vec::new();
    // Writing to a `Vec` cannot fail.
    let _ = write_csv(&one, &mut out);
    out
}

/// Header of the exception log.
pub const EXCEPTION_LOG_HEADER: [&str; 14] = [
    "exception",
    "track",
    "rules",
    "identity",
    "entitlement",
    "compensating_control",
    "approved_by",
    "approved_at",
    "expires",
    "ticket",
    "state",
    "findings",
    "finding_ids",
    "reported",
];

/// The track's exception log: one row per exception of the track, by id.
pub fn exception_log(ctx: &TrackView<'_>) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    let text = |s: &str| guard_formula(s).into_owned();
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d").to_string();
    let _ = w.write_record(EXCEPTION_LOG_HEADER);
    for e in &ctx.exceptions {
        let x = e.exception;
        let rules: Vec<&str> = x.rules.iter().map(|r| r.value.as_str()).collect();
        let state = match (e.live, e.findings.is_empty()) {
            (false, _) => "expired",
            (true, true) => "unused",
            (true, false) => "applied",
        };
        let _ = w.write_record([
            text(&x.id),
            ctx.track.as_str().to_owned(),
            text(&rules.join(";")),
            text(x.identity.as_ref().map_or("", |i| i.value.as_str())),
            text(x.entitlement.as_ref().map_or("", |i| i.value.as_str())),
            text(&x.compensating_control),
            text(x.approved_by.as_ref().map_or("", |i| i.value.as_str())),
            x.approved_at.map(day).unwrap_or_default(),
            day(x.expires),
            text(x.ticket.as_deref().unwrap_or_default()),
            state.to_owned(),
            e.findings.len().to_string(),
            e.findings.join(";"),
            e.reported.join(";"),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// Population per system and track: what was reviewed, to reconcile against the source.
pub fn population_csv(src: &Sources<'_>) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    let _ = w.write_record([
        "system",
        "sox_in_scope",
        "identities",
        "entitlements",
        "soc_open",
        "soc_excepted",
        "sox_open",
        "sox_excepted",
    ]);
    for s in population(src.inventory, src.report) {
        let f = |t: Track| s.findings.get(&t).copied().unwrap_or_default();
        let (soc, sox) = (f(Track::Soc), f(Track::Sox));
        let _ = w.write_record([
            guard_formula(&s.id).into_owned(),
            s.sox_in_scope.to_string(),
            s.identities.to_string(),
            s.entitlements.to_string(),
            soc.0.to_string(),
            soc.1.to_string(),
            sox.0.to_string(),
            sox.1.to_string(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// Header of the decision log.
pub const DECISION_LOG_HEADER: [&str; 8] = [
    "entitlement",
    "reviewer",
    "decision",
    "decided_at",
    "rationale",
    "due",
    "outcome",
    "identity",
];

/// The track's decision log: what was reviewed, who decided what and when, and for each
/// revoke whether the entitlement is gone from the inventory (`removed`, as of the review
/// date), still present within the SLA (`pending`) or past it (`overdue`).
pub fn decision_log(src: &Sources<'_>, d: &Decisions, track: Track) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    let text = |s: &str| guard_formula(s).into_owned();
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let _ = w.write_record(DECISION_LOG_HEADER);
    let as_of = src.report.as_of;
    for ((t, id), dec) in &d.latest {
        if *t != track {
            continue;
        }
        let present = src
            .inventory
            .entitlements
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .ok()
            .and_then(|i| src.inventory.entitlements.get(i));
        let due = d
            .sla_days
            .get(&track)
            .map(|n| dec.decided_at + Duration::days(i64::from(*n)));
        let outcome = match (dec.verdict, present, due) {
            (Verdict::Approve, Some(_), _) => "kept",
            (Verdict::Approve, None, _) => "approved, no longer in the inventory",
            (Verdict::Revoke, None, _) => "removed",
            (Verdict::Revoke, Some(_), Some(due)) if as_of > due => "overdue",
            (Verdict::Revoke, Some(_), _) => "pending",
            (Verdict::Modify, Some(_), _) => "modified",
            (Verdict::Modify, None, _) => "modified, no longer in the inventory",
        };
        let _ = w.write_record([
            text(id),
            text(&dec.reviewer),
            dec.verdict.as_str().to_owned(),
            day(dec.decided_at),
            text(dec.rationale.as_deref().unwrap_or_default()),
            due.filter(|_| dec.verdict == Verdict::Revoke)
                .map(day)
                .unwrap_or_default(),
            outcome.to_owned(),
            text(present.map_or("", |e| &*e.identity.value)),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
