//! The pack's Markdown: each track's attestation summary and narrative. Every list is
//! sorted, every date is the review date or a date from the inputs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::escape::{cell, code};
use crate::finding::{Finding, FindingStatus};
use crate::policy::{Severity, Track};

use super::{population, Sources, TrackView};

/// The review date as written everywhere in the pack.
pub fn timestamp(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn day(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The track's display name.
fn name(track: Track) -> &'static str {
    match track {
        Track::Soc => "SOC",
        Track::Sox => "SOX",
    }
}

/// The control objective a track's review tests.
pub fn objective(track: Track) -> &'static str {
    match track {
        Track::Soc => {
            "Access is needed and reviewed: every entitlement has a recorded business need and \
             is in use, every identity is accountable to an active owner, and credentials of \
             non-human identities are rotated (SOC 2 CC6.1, CC6.2, CC6.3)."
        }
        Track::Sox => {
            "Access to systems that affect financial reporting is restricted to authorised \
             roles: nobody holds incompatible duties (segregation of duties), privileged access \
             to in-scope systems is restricted and justified, and the access of terminated or \
             orphaned identities is removed in time (SOX ITGC, access to programs and data)."
        }
    }
}

/// Short form of the objective, for the both-tracks statements.
fn short_objective(track: Track) -> &'static str {
    match track {
        Track::Soc => "business need, use and accountability",
        Track::Sox => "segregation of duties and restricted access to financially relevant systems",
    }
}

fn heading(out: &mut String, ctx: &TrackView<'_>, what: &str, src: &Sources<'_>) {
    let _ = writeln!(out, "# {} track: {what}\n", name(ctx.track));
    let _ = writeln!(out, "Review date (as of): {}\n", timestamp(src.report.as_of));
    let _ = writeln!(out, "Control objective tested: {}\n", objective(ctx.track));
}

/// The attestation summary of one track.
pub fn summary(src: &Sources<'_>, ctx: &TrackView<'_>) -> String {
    let mut out = String::new();
    heading(&mut out, ctx, "access review attestation summary", src);
    let r = src.report;
    let evaluated = r.evaluated.get(&ctx.track).copied().unwrap_or(0);
    let rules = src.pack.rules.iter().filter(|x| x.track == ctx.track).count();
    let (open, excepted) = ctx.open_excepted();
    let _ = writeln!(out, "## Result\n\n| measure | count |\n|---|---:|");
    let _ = writeln!(out, "| identities in the inventory | {} |", r.identities);
    let _ = writeln!(out, "| entitlements in the inventory | {} |", r.entitlements);
    let _ = writeln!(out, "| entitlements evaluated on this track | {evaluated} |");
    let _ = writeln!(out, "| rules applied | {rules} |");
    let _ = writeln!(out, "| findings | {} |", ctx.findings.len());
    let _ = writeln!(out, "| open | {open} |");
    let _ = writeln!(out, "| excepted | {excepted} |\n");

    let _ = writeln!(
        out,
        "## Findings by severity\n\n| severity | open | excepted |\n|---|---:|---:|"
    );
    for (label, sev) in Severity::CHOICES.iter().rev() {
        let n = |s: FindingStatus| {
            ctx.findings
                .iter()
                .filter(|f| f.severity == *sev && f.status == s)
                .count()
        };
        let _ = writeln!(
            out,
            "| {label} | {} | {} |",
            n(FindingStatus::Open),
            n(FindingStatus::Excepted)
        );
    }

    let _ = writeln!(out, "\n## Exceptions\n");
    if ctx.exceptions.is_empty() {
        let _ = writeln!(out, "No exception on this track.");
    } else {
        let mut states: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &ctx.exceptions {
            let state = match (e.live, e.findings.is_empty()) {
                (false, _) => "expired (findings stay open)",
                (true, true) => "live, selecting no finding",
                (true, false) => "live, applied",
            };
            *states.entry(state).or_default() += 1;
        }
        let _ = writeln!(out, "| state | exceptions |\n|---|---:|");
        for (state, n) in states {
            let _ = writeln!(out, "| {state} | {n} |");
        }
        let _ = writeln!(out, "\nThe exception log is `exceptions.csv`.");
    }

    reconciliation(&mut out, src, ctx.track, evaluated);

    let _ = writeln!(out, "\n## Inputs\n\n| file | SHA-256 |\n|---|---|");
    let mut inputs: Vec<_> = src.inputs.iter().collect();
    inputs.sort();
    for i in inputs {
        let _ = writeln!(out, "| {} | `{}` |", code(&i.path), i.sha256);
    }

    let _ = writeln!(
        out,
        "\n## Attestation\n\nEvery entitlement of the population above was evaluated against the {rules} \
         rules of the {} track as of {}. Open findings are listed in `findings.csv` and need \
         remediation; excepted findings are covered by the live exceptions in `exceptions.csv`. \
         This summary is generated; the reviewer's sign-off below makes it an attestation.\n\n\
         Reviewer: ____________________  Date: ____________\n\n\
         Control owner: ____________________  Date: ____________",
        name(ctx.track),
        day(src.report.as_of),
    );
    out
}

fn reconciliation(out: &mut String, src: &Sources<'_>, track: Track, evaluated: usize) {
    let _ = writeln!(
        out,
        "\n## Population reconciliation\n\n| system | SOX scope | identities | entitlements | open findings | excepted findings |\n|---|---|---:|---:|---:|---:|"
    );
    let systems = population(src.inventory, src.report);
    let mut total = 0;
    let mut in_scope = 0;
    for s in &systems {
        let (open, excepted) = s.findings.get(&track).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {open} | {excepted} |",
            code(&s.id),
            if s.sox_in_scope { "yes" } else { "no" },
            s.identities,
            s.entitlements
        );
        total += s.entitlements;
        if s.sox_in_scope {
            in_scope += s.entitlements;
        }
    }
    let _ = writeln!(out, "| total | | | {total} | | |\n");
    let inventory = src.report.entitlements;
    let verdict = if total == inventory && evaluated == inventory {
        "reconciled"
    } else {
        "NOT reconciled: investigate before relying on this review"
    };
    let _ = writeln!(
        out,
        "Entitlements listed per system: {total}; in the inventory: {inventory}; evaluated on this \
         track: {evaluated}. Population {verdict}. The SHA-256 of every input is listed below \
         and in `manifest.json`."
    );
    if track == Track::Sox {
        let _ = writeln!(
            out,
            "\n{in_scope} entitlements are on systems in SOX scope; the SOX rules judge those, \
             and every other entitlement was evaluated too and found outside their scope."
        );
    }
}

/// The narrative of one track.
pub fn narrative(src: &Sources<'_>, ctx: &TrackView<'_>) -> String {
    let mut out = String::new();
    heading(&mut out, ctx, "review narrative", src);
    let r = src.report;
    let rules: Vec<_> = src.pack.rules.iter().filter(|x| x.track == ctx.track).collect();
    let in_scope: Vec<&str> = src
        .inventory
        .systems
        .iter()
        .filter(|s| s.sox_in_scope)
        .map(|s| s.id.as_str())
        .collect();
    let scope = match ctx.track {
        Track::Soc => format!("all {} systems of the inventory", src.inventory.systems.len()),
        Track::Sox => format!(
            "the {} systems in SOX scope ({})",
            in_scope.len(),
            in_scope.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
        ),
    };
    let _ = writeln!(
        out,
        "## How the review was performed\n\n\
         Each of the {} entitlements held by the {} identities of the inventory was evaluated \
         against the {} rules of the {} track (Cedar policies), with ages and other attributes \
         derived relative to the review date. The rules judge {scope}. A rule that holds is a \
         finding mapped to the controls it cites. Exceptions approved for this track were then \
         applied: a live exception marks the findings it selects as excepted, an expired one \
         leaves them open and is itself reported, as is an exception that selects nothing or \
         was approved by the identity it covers or by that identity's owner.\n",
        r.entitlements,
        r.identities,
        rules.len(),
        name(ctx.track)
    );

    let _ = writeln!(
        out,
        "## Criteria\n\n| rule | title | category | severity | controls |\n|---|---|---|---|---|"
    );
    for rule in &rules {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code(&rule.id),
            cell(&rule.title),
            rule.category.as_str(),
            rule.severity.as_str(),
            cell(&rule.controls.join(", "))
        );
    }
    // Ruleset risks are evaluated natively against the SAP role book, so they are listed
    // only when the inventory has one.
    if !src.inventory.authorizations.is_empty() {
        for (id, risk) in src
            .pack
            .risk_rules()
            .iter()
            .filter(|(_, t)| *t == ctx.track)
            .filter_map(|(id, _)| src.pack.risk_of(id).map(|r| (id, r)))
        {
            let controls: Vec<&str> = risk.controls.iter().map(|c| c.value.as_str()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(id),
                cell(&risk.description),
                risk.category().as_str(),
                risk.severity.as_str(),
                cell(&controls.join(", "))
            );
        }
    }

    let _ = writeln!(out, "\n## Results\n");
    let mut per_rule: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in &ctx.findings {
        let slot = per_rule.entry(&f.rule).or_default();
        match f.status {
            FindingStatus::Open => slot.0 += 1,
            FindingStatus::Excepted => slot.1 += 1,
        }
    }
    if per_rule.is_empty() {
        let _ = writeln!(out, "No rule of this track produced a finding.");
    } else {
        let _ = writeln!(out, "| rule | open | excepted |\n|---|---:|---:|");
        for (rule, (open, excepted)) in &per_rule {
            let _ = writeln!(out, "| {} | {open} | {excepted} |", code(rule));
        }
        let _ = writeln!(
            out,
            "\nNo other rule of this track produced a finding. Each finding is a row of `findings.csv`."
        );
    }

    super::agents::section(&mut out, src.inventory, ctx);
    both_tracks(&mut out, src);
    exceptions(&mut out, ctx);
    out
}

/// The statement about identities with findings on both tracks: which objective each
/// review tested and which compensating controls stand.
fn both_tracks(out: &mut String, src: &Sources<'_>) {
    let mut by_identity: BTreeMap<&str, BTreeMap<Track, Vec<&Finding>>> = BTreeMap::new();
    for f in src.report.findings.iter().filter(|f| !f.rule.starts_with("EXC-")) {
        by_identity
            .entry(&f.identity)
            .or_default()
            .entry(f.track)
            .or_default()
            .push(f);
    }
    by_identity.retain(|_, tracks| tracks.len() == Track::ALL.len());
    let _ = writeln!(out, "\n## Identities with findings on both tracks\n");
    if by_identity.is_empty() {
        let _ = writeln!(out, "No identity has findings on both tracks.");
        return;
    }
    let _ = writeln!(
        out,
        "Every identity is evaluated on both tracks, each against its own objective; a finding \
         or exception on one track says nothing about the other. For each identity below, the \
         SOC review tested {} and the SOX review tested {}.",
        short_objective(Track::Soc),
        short_objective(Track::Sox)
    );
    let as_of = src.report.as_of;
    for (identity, tracks) in &by_identity {
        let _ = writeln!(out, "\n### {}\n", code(identity));
        for (track, findings) in tracks {
            let list: Vec<String> = findings
                .iter()
                .map(|f| format!("{} ({})", code(&f.rule), f.status.as_str()))
                .collect();
            let mut controls: Vec<String> = Vec::new();
            if let Some(xs) = src.exceptions {
                for f in findings {
                    for x in xs.list.iter().filter(|x| x.selects(f)) {
                        let line = if x.is_live(as_of) {
                            format!(
                                "{} (exception {}, expires {})",
                                cell(&x.compensating_control),
                                code(&x.id),
                                day(x.expires)
                            )
                        } else {
                            format!("none in force: exception {} expired on {}", code(&x.id), day(x.expires))
                        };
                        if !controls.contains(&line) {
                            controls.push(line);
                        }
                    }
                }
            }
            controls.sort();
            let controls = if controls.is_empty() {
                "none".to_owned()
            } else {
                controls.join("; ")
            };
            let _ = writeln!(
                out,
                "- {} review ({}): {}. Compensating controls: {controls}.",
                name(*track),
                short_objective(*track),
                list.join(", ")
            );
        }
    }
}

/// `1 finding`, `2 findings`.
fn findings(n: usize) -> String {
    if n == 1 {
        "1 finding".to_owned()
    } else {
        format!("{n} findings")
    }
}

fn exceptions(out: &mut String, ctx: &TrackView<'_>) {
    let _ = writeln!(out, "\n## Exceptions on this track\n");
    if ctx.exceptions.is_empty() {
        let _ = writeln!(out, "None.");
        return;
    }
    for e in &ctx.exceptions {
        let x = e.exception;
        let state = match (e.live, e.findings.len()) {
            (false, 0) => format!("expired on {}, selects no finding", day(x.expires)),
            (false, n) => format!("expired on {}; {} it selects stay open", day(x.expires), findings(n)),
            (true, 0) => format!("live until {}, selects no finding", day(x.expires)),
            (true, n) => format!("live until {}, excepts {}", day(x.expires), findings(n)),
        };
        let approver = x.approved_by.as_ref().map_or_else(
            || "no approver recorded".to_owned(),
            |a| format!("approved by {}", code(&a.value)),
        );
        let reported = if e.reported.is_empty() {
            String::new()
        } else {
            format!(
                " Reported: {}.",
                e.reported.iter().map(|r| code(r)).collect::<Vec<_>>().join(", ")
            )
        };
        let _ = writeln!(
            out,
            "- {} ({state}; {approver}): compensating control: {}.{reported}",
            code(&x.id),
            cell(&x.compensating_control)
        );
    }
}
