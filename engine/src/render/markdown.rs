//! Markdown for a pull-request comment or a review report: counts per track, category,
//! severity and rule as tables, then each track's first findings, most severe first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::finding::{Finding, FindingStatus, Report};
use crate::policy::{Category, Pack, Severity, Track};

/// How many findings per track the Markdown summary lists by default.
pub const MARKDOWN_EXAMPLES: usize = 20;

/// Makes `text` safe inside a table cell: `|` is escaped, line breaks become `<br>`.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as an inline code span inside a table cell; a text holding a backtick gets a
/// double-backtick fence so it cannot close the span early.
pub fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {} ``", cell(text))
    } else {
        format!("`{}`", cell(text))
    }
}

/// Counts of one row: per track (in report order) and in total.
fn count_row(out: &mut String, label: &str, tracks: &[Track], n: impl Fn(Track) -> usize) {
    let mut total = 0;
    let _ = write!(out, "| {label} |");
    for t in tracks {
        let k = n(*t);
        total += k;
        let _ = write!(out, " {k} |");
    }
    let _ = writeln!(out, " {total} |");
}

fn count_header(out: &mut String, first: &str, tracks: &[Track]) {
    let _ = write!(out, "| {first} |");
    for t in tracks {
        let _ = write!(out, " {} |", t.as_str());
    }
    let _ = writeln!(out, " total |");
    let _ = writeln!(out, "|---|{}---:|", "---:|".repeat(tracks.len()));
}

fn per_track(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "| track | entitlements evaluated | rules | findings | open | excepted |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for t in &report.tracks {
        let of_track = report.findings.iter().filter(|f| f.track == *t);
        let total = of_track.clone().count();
        let open = of_track.filter(|f| f.status == FindingStatus::Open).count();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {total} | {open} | {} |",
            t.as_str(),
            report.evaluated.get(t).copied().unwrap_or(0),
            report.rules.get(t).copied().unwrap_or(0),
            total - open
        );
    }
}

fn per_rule(out: &mut String, report: &Report, pack: &Pack) {
    let mut rules: BTreeMap<(&str, Track), (Severity, usize, usize)> = BTreeMap::new();
    for f in &report.findings {
        let n = rules.entry((&f.rule, f.track)).or_insert((f.severity, 0, 0));
        n.1 += 1;
        if f.status == FindingStatus::Open {
            n.2 += 1;
        }
    }
    let _ = writeln!(out, "| rule | track | severity | title | findings | open |");
    let _ = writeln!(out, "|---|---|---|---|---:|---:|");
    for ((id, track), (severity, total, open)) in &rules {
        let title = pack.rule(id).map_or("", |r| r.title.as_str());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {total} | {open} |",
            code(id),
            track.as_str(),
            severity.as_str(),
            cell(title)
        );
    }
}

fn examples(out: &mut String, report: &Report, track: Track, limit: usize) {
    let mut findings: Vec<&Finding> = report.findings.iter().filter(|f| f.track == track).collect();
    if findings.is_empty() {
        return;
    }
    // Most severe first; the sort is stable, so ties keep the report's order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let shown = findings.len().min(limit);
    let _ = writeln!(
        out,
        "\n### {} findings ({shown} of {})\n",
        track.as_str().to_uppercase(),
        findings.len()
    );
    let _ = writeln!(out, "| severity | identity | rule | status | message |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for f in findings.iter().take(limit) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            f.severity.as_str(),
            code(&f.identity),
            code(&f.rule),
            f.status.as_str(),
            cell(&f.message)
        );
    }
    if findings.len() > shown {
        let _ = writeln!(
            out,
            "\n…and {} more; `--format csv` or `--format json` lists every finding.",
            findings.len() - shown
        );
    }
}

/// The report as Markdown, listing at most `limit` findings per track.
pub fn markdown(report: &Report, pack: &Pack, limit: usize) -> String {
    let mut out = String::new();
    let tracks: Vec<&str> = report.tracks.iter().map(|t| t.as_str()).collect();
    let open = report
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
        .count();
    let _ = writeln!(out, "## dualtrack check");
    let _ = writeln!(
        out,
        "\nAs of {}, tracks {}: **{} findings** ({open} open, {} excepted) in {} identities and {} entitlements.\n",
        report.as_of.format("%Y-%m-%d"),
        tracks.join(" + "),
        report.findings.len(),
        report.findings.len() - open,
        report.identities,
        report.entitlements
    );
    per_track(&mut out, report);
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nNo findings.");
        return out;
    }
    let in_track = |t: Track| report.findings.iter().filter(move |f| f.track == t);
    let _ = writeln!(out, "\n### By severity\n");
    count_header(&mut out, "severity", &report.tracks);
    for (name, s) in Severity::CHOICES.iter().rev() {
        count_row(&mut out, name, &report.tracks, |t| {
            in_track(t).filter(|f| f.severity == *s).count()
        });
    }
    let _ = writeln!(out, "\n### By category\n");
    count_header(&mut out, "category", &report.tracks);
    for (name, c) in Category::CHOICES {
        count_row(&mut out, name, &report.tracks, |t| {
            in_track(t).filter(|f| f.category == *c).count()
        });
    }
    let _ = writeln!(out, "\n### By rule\n");
    per_rule(&mut out, report, pack);
    for t in &report.tracks {
        examples(&mut out, report, *t, limit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b\nc\r\nd\re"), "a\\|b<br>c<br>d<br>e");
    }
}
