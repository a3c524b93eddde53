//! The pack's CSV files: a track's findings, its exception log, and the population per
//! system. Text cells go through the same formula guard as `check --format csv`.

use crate::finding::Report;
use crate::policy::Track;
use crate::render::{guard_formula, write_csv};

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
