//! Text for people: findings grouped by identity, then track, with severity, controls and
//! remediation, wrapped to the terminal width, and a summary table at the end.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::finding::{Finding, FindingStatus, Report};
use crate::policy::{Severity, Track};

/// How to draw the text.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    /// ANSI colours (only on a terminal).
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

fn paint(style: HumanStyle, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn severity_code(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
    }
}

/// Appends `text` wrapped at `width`, every line indented by `indent` spaces, the first
/// line after `lead` (which must fit in the indent).
fn wrap(out: &mut String, lead: &str, text: &str, indent: usize, width: usize) {
    let avail = width.saturating_sub(indent).max(20);
    let mut line = String::new();
    let mut first = true;
    let flush = |line: &mut String, first: &mut bool, out: &mut String| {
        if *first {
            let _ = writeln!(out, "{lead:<indent$}{line}");
            *first = false;
        } else {
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
        line.clear();
    };
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > avail {
            flush(&mut line, &mut first, out);
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || first {
        flush(&mut line, &mut first, out);
    }
}

fn finding(out: &mut String, f: &Finding, style: HumanStyle) {
    let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
    let status = if f.status == FindingStatus::Excepted {
        "  (excepted)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "    {} {} [{}]{status}",
        paint(style, severity_code(f.severity), &sev),
        paint(style, "1", &f.rule),
        f.category.as_str()
    );
    let w = style.width;
    wrap(out, "", &f.message, 6, w);
    if !f.entitlements.is_empty() {
        wrap(out, "      access:", &f.entitlements.join(", "), 16, w);
    }
    wrap(out, "      controls:", &f.controls.join(", "), 16, w);
    wrap(out, "      fix:", &f.remediation, 16, w);
    wrap(out, "      at:", &format!("{}:{}  id {}", f.file, f.line, f.id), 16, w);
}

/// The whole report as text.
pub fn human(report: &Report, style: HumanStyle) -> String {
    let mut out = String::new();
    let tracks: Vec<&str> = report.tracks.iter().map(|t| t.as_str()).collect();
    let _ = writeln!(
        out,
        "dualtrack check: as of {}, tracks {}",
        report.as_of.format("%Y-%m-%d"),
        tracks.join(" + ")
    );
    let mut by_identity: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_identity.entry(f.identity.as_str()).or_default().push(f);
    }
    for (identity, findings) in &by_identity {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", paint(style, "1", identity));
        for track in Track::ALL {
            let in_track: Vec<&&Finding> = findings.iter().filter(|f| f.track == track).collect();
            if in_track.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {}", paint(style, "1;4", &track.as_str().to_uppercase()));
            for f in in_track {
                finding(&mut out, f, style);
            }
        }
    }
    if report.findings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "no findings");
    }
    summary(&mut out, report);
    out
}

fn summary(out: &mut String, report: &Report) {
    let counts = report.counts();
    let _ = writeln!(out);
    let _ = writeln!(out, "summary");
    let _ = writeln!(
        out,
        "  {:<6}{:>10}{:>7}{:>10}{:>6}{:>8}{:>5}{:>7}",
        "track", "evaluated", "rules", "critical", "high", "medium", "low", "total"
    );
    for track in &report.tracks {
        let n = |s: Severity| counts.get(&(*track, s)).copied().unwrap_or(0);
        let total: usize = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low]
            .into_iter()
            .map(n)
            .sum();
        let _ = writeln!(
            out,
            "  {:<6}{:>10}{:>7}{:>10}{:>6}{:>8}{:>5}{:>7}",
            track.as_str(),
            report.evaluated.get(track).copied().unwrap_or(0),
            report.rules.get(track).copied().unwrap_or(0),
            n(Severity::Critical),
            n(Severity::High),
            n(Severity::Medium),
            n(Severity::Low),
            total
        );
    }
    let open = report
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
        .count();
    let with = report
        .findings
        .iter()
        .map(|f| f.identity.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _ = writeln!(
        out,
        "  {} identities ({} with findings), {} entitlements, {} findings ({} open)",
        report.identities,
        with,
        report.entitlements,
        report.findings.len(),
        open
    );
}
