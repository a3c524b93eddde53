//! The drift report as JSON, text for a terminal, Markdown for a job summary and CSV for a
//! spreadsheet. Every list is in the report's order, so the same inputs give the same bytes.

use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use super::{Counts, Report, Side};
use crate::baseline::change::{EntitlementDelta, RecordDelta};
use crate::baseline::BaseFinding;
use crate::escape::{cell, code, guard_formula};

/// Rows listed per section of the Markdown summary; the counts above cover the rest.
const MARKDOWN_ROWS: usize = 100;

fn date(side: &Side) -> String {
    side.as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn side_json(side: &Side) -> Json {
    let mut v = json!({"path": side.path, "kind": side.kind.as_str(), "as_of": date(side)});
    if let (Some(campaign), Json::Object(m)) = (&side.campaign, &mut v) {
        m.insert("campaign".to_owned(), json!(campaign));
    }
    v
}

fn counts_json(c: Counts) -> Json {
    json!({"added": c.added, "removed": c.removed, "changed": c.changed})
}

fn entitlement_json(e: &EntitlementDelta) -> Json {
    json!({
        "id": e.id,
        "identity": e.identity,
        "system": e.system,
        "permission": e.permission,
        "change": e.delta.as_str(),
        "fields": e.fields,
        "escalated": e.escalated,
    })
}

fn record_json(r: &RecordDelta) -> Json {
    json!({"id": r.id, "change": r.delta.as_str(), "fields": r.fields})
}

fn finding_json(f: &BaseFinding) -> Json {
    json!({
        "id": f.id,
        "track": f.track.as_str(),
        "rule": f.rule,
        "severity": f.severity,
        "status": f.status,
        "identity": f.identity,
        "entitlements": f.entitlements,
    })
}

/// The report as pretty-printed JSON, with a trailing newline.
pub fn json(r: &Report) -> String {
    let mut entitlements = counts_json(r.entitlement_counts());
    if let Json::Object(m) = &mut entitlements {
        m.insert("escalated".to_owned(), json!(r.escalated()));
    }
    let doc = json!({
        "entitlements": r.changes.entitlements.iter().map(entitlement_json).collect::<Vec<_>>(),
        "identities": r.changes.identities.iter().map(record_json).collect::<Vec<_>>(),
        "systems": r.changes.systems.iter().map(record_json).collect::<Vec<_>>(),
        "findings": {
            "new": r.findings.new.iter().map(finding_json).collect::<Vec<_>>(),
            "resolved": r.findings.resolved.iter().map(finding_json).collect::<Vec<_>>(),
        },
        "summary": {
            "base": side_json(&r.base),
            "head": side_json(&r.head),
            "entitlements": entitlements,
            "identities": counts_json(r.identity_counts()),
            "systems": counts_json(r.system_counts()),
            "findings": {"new": r.findings.new.len(), "resolved": r.findings.resolved.len()},
        },
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// A side in words: `PATH (pack UAR-2026-Q3, as of …)`.
fn side_text(side: &Side) -> String {
    match &side.campaign {
        Some(c) => format!("{} ({} {c}, as of {})", side.path, side.kind.as_str(), date(side)),
        None => format!("{} ({}, as of {})", side.path, side.kind.as_str(), date(side)),
    }
}

fn sign(change: &str) -> char {
    match change {
        "added" | "new" => '+',
        "removed" | "resolved" => '-',
        _ => '~',
    }
}

fn counts_text(c: Counts) -> String {
    format!("{} added, {} removed, {} changed", c.added, c.removed, c.changed)
}

/// Plain text for a terminal: a section per kind of record, one line per change.
pub fn human(r: &Report) -> String {
    let mut out = format!("base: {}\nhead: {}\n", side_text(&r.base), side_text(&r.head));
    let _ = writeln!(
        out,
        "\nentitlements: {}, {} escalated",
        counts_text(r.entitlement_counts()),
        r.escalated()
    );
    for e in &r.changes.entitlements {
        let _ = write!(
            out,
            "  {} {}  {} on {}: {}",
            sign(e.delta.as_str()),
            e.id,
            e.identity,
            e.system,
            e.permission
        );
        if !e.fields.is_empty() {
            let _ = write!(out, "  ({})", e.fields.join(", "));
        }
        out.push_str(if e.escalated { "  ESCALATED\n" } else { "\n" });
    }
    for (name, counts, list) in [
        ("identities", r.identity_counts(), &r.changes.identities),
        ("systems", r.system_counts(), &r.changes.systems),
    ] {
        let _ = writeln!(out, "\n{name}: {}", counts_text(counts));
        for rec in list {
            let _ = write!(out, "  {} {}", sign(rec.delta.as_str()), rec.id);
            if !rec.fields.is_empty() {
                let _ = write!(out, "  ({})", rec.fields.join(", "));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "\nfindings: {} new, {} resolved",
        r.findings.new.len(),
        r.findings.resolved.len()
    );
    for (change, list) in [("new", &r.findings.new), ("resolved", &r.findings.resolved)] {
        for f in list {
            let _ = writeln!(
                out,
                "  {} {} {} {} {} {} [{}] {}",
                sign(change),
                f.track.as_str(),
                f.rule,
                f.severity,
                f.status,
                f.identity,
                f.entitlements.join(", "),
                f.id
            );
        }
    }
    out
}

/// `… and N more` under a table cut at [`MARKDOWN_ROWS`].
fn more(out: &mut String, total: usize) {
    if total > MARKDOWN_ROWS {
        let _ = writeln!(out, "\n… and {} more", total - MARKDOWN_ROWS);
    }
}

fn code_list(items: &[impl AsRef<str>]) -> String {
    items.iter().map(|i| code(i.as_ref())).collect::<Vec<_>>().join(", ")
}

/// A Markdown summary for a job summary or a ticket: the counts, then the first rows of
/// each kind of change, within GitHub's size limit.
pub fn markdown(r: &Report) -> String {
    let mut out = String::from("## dualtrack drift\n\n");
    let _ = writeln!(
        out,
        "Base: {}  \nHead: {}\n",
        cell(&side_text(&r.base)),
        cell(&side_text(&r.head))
    );
    out.push_str("| | added | removed | changed | escalated |\n|---|---:|---:|---:|---:|\n");
    let e = r.entitlement_counts();
    let _ = writeln!(
        out,
        "| entitlements | {} | {} | {} | {} |",
        e.added,
        e.removed,
        e.changed,
        r.escalated()
    );
    for (name, c) in [("identities", r.identity_counts()), ("systems", r.system_counts())] {
        let _ = writeln!(out, "| {name} | {} | {} | {} | |", c.added, c.removed, c.changed);
    }
    let _ = writeln!(
        out,
        "\nFindings: {} new, {} resolved.",
        r.findings.new.len(),
        r.findings.resolved.len()
    );
    if !r.changes.entitlements.is_empty() {
        out.push_str("\n### Entitlements\n\n| change | entitlement | identity | system | permission | fields | escalated |\n|---|---|---|---|---|---|---|\n");
        for e in r.changes.entitlements.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                e.delta.as_str(),
                code(&e.id),
                code(&e.identity),
                code(&e.system),
                cell(&e.permission),
                e.fields.join(", "),
                if e.escalated { "**yes**" } else { "" }
            );
        }
        more(&mut out, r.changes.entitlements.len());
    }
    for (title, list) in [("Identities", &r.changes.identities), ("Systems", &r.changes.systems)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n\n| change | id | fields |\n|---|---|---|");
        for rec in list.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                rec.delta.as_str(),
                code(&rec.id),
                rec.fields.join(", ")
            );
        }
        more(&mut out, list.len());
    }
    let listed: Vec<(&str, &BaseFinding)> = r
        .findings
        .new
        .iter()
        .map(|f| ("new", f))
        .chain(r.findings.resolved.iter().map(|f| ("resolved", f)))
        .collect();
    if !listed.is_empty() {
        out.push_str("\n### Findings\n\n| | track | rule | severity | status | identity | entitlements |\n|---|---|---|---|---|---|---|\n");
        for (change, f) in listed.iter().take(MARKDOWN_ROWS) {
            let _ = writeln!(
                out,
                "| {change} | {} | {} | {} | {} | {} | {} |",
                f.track.as_str(),
                code(&f.rule),
                f.severity,
                f.status,
                code(&f.identity),
                code_list(&f.entitlements)
            );
        }
        more(&mut out, listed.len());
    }
    crate::render::fit_markdown(&out, crate::render::MARKDOWN_MAX_CHARS)
}

/// The CSV header: one row per change; cells that do not apply to a kind of record are
/// empty.
pub const CSV_HEADER: [&str; 13] = [
    "record",
    "change",
    "id",
    "identity",
    "system",
    "permission",
    "fields",
    "escalated",
    "track",
    "rule",
    "severity",
    "status",
    "entitlements",
];

/// The report as CSV: entitlements, identities, systems, then findings (`\n` line ends,
/// text cells quoted and guarded against formulas).
pub fn csv(r: &Report) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    let text = |s: &str| guard_formula(s).into_owned();
    // Writing to a `Vec` cannot fail.
    let _ = w.write_record(CSV_HEADER);
    let mut write = |row: [String; 13]| {
        let _ = w.write_record(row);
    };
    for e in &r.changes.entitlements {
        write([
            "entitlement".to_owned(),
            e.delta.as_str().to_owned(),
            text(&e.id),
            text(&e.identity),
            text(&e.system),
            text(&e.permission),
            e.fields.join(";"),
            e.escalated.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for (record, list) in [("identity", &r.changes.identities), ("system", &r.changes.systems)] {
        for rec in list {
            let mut row: [String; 13] = Default::default();
            row[0] = record.to_owned();
            row[1] = rec.delta.as_str().to_owned();
            row[2] = text(&rec.id);
            row[6] = rec.fields.join(";");
            write(row);
        }
    }
    for (change, list) in [("new", &r.findings.new), ("resolved", &r.findings.resolved)] {
        for f in list {
            write([
                "finding".to_owned(),
                change.to_owned(),
                text(&f.id),
                text(&f.identity),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                f.track.as_str().to_owned(),
                text(&f.rule),
                f.severity.clone(),
                f.status.clone(),
                text(&f.entitlements.join(";")),
            ]);
        }
    }
    // Every cell is UTF-8 text.
    w.into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}
