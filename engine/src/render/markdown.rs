//! Markdown for a pull-request comment or a review report: counts per track, category,
//! severity and rule as tables, then each track's first findings, most severe first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::escape::{cell, code};
use crate::finding::{Finding, FindingStatus, Report, Tally};
use crate::policy::{Category, Pack, Severity, Track};

/// How many findings per track the Markdown summary lists by default.
pub const MARKDOWN_EXAMPLES: usize = 20;

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

/// Most characters GitHub takes in a pull-request comment or a job summary.
pub const MARKDOWN_MAX_CHARS: usize = 65_536;

/// What the Markdown summary is made of, gathered as findings go by: counts, and each
/// track's first `limit` findings of each severity in report order, so a run's findings
/// need not all be held to summarise them.
pub struct MarkdownSummary {
    limit: usize,
    total: usize,
    open: usize,
    /// Per track: findings, open.
    per_track: BTreeMap<Track, (usize, usize)>,
    by_severity: BTreeMap<(Track, Severity), usize>,
    by_category: BTreeMap<(Track, Category), usize>,
    /// Per rule and track: severity, findings, open.
    by_rule: BTreeMap<(std::sync::Arc<str>, Track), (Severity, usize, usize)>,
    examples: BTreeMap<(Track, std::cmp::Reverse<Severity>), Vec<Finding>>,
}

impl MarkdownSummary {
    /// An empty summary that will list at most `limit` findings per track.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            total: 0,
            open: 0,
            per_track: BTreeMap::new(),
            by_severity: BTreeMap::new(),
            by_category: BTreeMap::new(),
            by_rule: BTreeMap::new(),
            examples: BTreeMap::new(),
        }
    }

    /// Counts findings given in report order.
    pub fn push<'a>(&mut self, findings: impl IntoIterator<Item = &'a Finding>) {
        for f in findings {
            let open = usize::from(f.status == FindingStatus::Open);
            self.total += 1;
            self.open += open;
            let t = self.per_track.entry(f.track).or_default();
            t.0 += 1;
            t.1 += open;
            *self.by_severity.entry((f.track, f.severity)).or_default() += 1;
            *self.by_category.entry((f.track, f.category)).or_default() += 1;
            let r = self
                .by_rule
                .entry((std::sync::Arc::clone(&f.rule), f.track))
                .or_insert((f.severity, 0, 0));
            r.1 += 1;
            r.2 += open;
            let shown = self
                .examples
                .entry((f.track, std::cmp::Reverse(f.severity)))
                .or_default();
            if shown.len() < self.limit {
                shown.push(f.clone());
            }
        }
    }

    /// The summary as Markdown under the counts of `tally` (the whole run), within
    /// [`MARKDOWN_MAX_CHARS`]: when the listed findings make it longer, fewer are listed.
    pub fn render(&self, tally: &Tally, pack: &Pack) -> String {
        let mut limit = self.limit;
        loop {
            let out = self.render_with(tally, pack, limit);
            if out.chars().count() <= MARKDOWN_MAX_CHARS {
                return out;
            }
            if limit == 0 {
                return fit(&out, MARKDOWN_MAX_CHARS);
            }
            limit /= 2;
        }
    }

    fn render_with(&self, tally: &Tally, pack: &Pack, limit: usize) -> String {
        let mut out = String::new();
        let tracks: Vec<&str> = tally.tracks.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(out, "## dualtrack check");
        let _ = writeln!(
            out,
            "\nAs of {}, tracks {}: **{} findings** ({} open, {} excepted) in {} identities and {} entitlements.\n",
            tally.as_of.format("%Y-%m-%d"),
            tracks.join(" + "),
            self.total,
            self.open,
            self.total - self.open,
            tally.identities,
            tally.entitlements
        );
        self.per_track(&mut out, tally);
        if self.total == 0 {
            let _ = writeln!(out, "\nNo findings.");
            return out;
        }
        let _ = writeln!(out, "\n### By severity\n");
        count_header(&mut out, "severity", &tally.tracks);
        for (name, s) in Severity::CHOICES.iter().rev() {
            count_row(&mut out, name, &tally.tracks, |t| {
                self.by_severity.get(&(t, *s)).copied().unwrap_or(0)
            });
        }
        let _ = writeln!(out, "\n### By category\n");
        count_header(&mut out, "category", &tally.tracks);
        for (name, c) in Category::CHOICES {
            count_row(&mut out, name, &tally.tracks, |t| {
                self.by_category.get(&(t, *c)).copied().unwrap_or(0)
            });
        }
        let _ = writeln!(out, "\n### By rule\n");
        self.per_rule(&mut out, pack);
        for t in &tally.tracks {
            self.examples(&mut out, *t, limit);
        }
        out
    }

    fn per_track(&self, out: &mut String, tally: &Tally) {
        let _ = writeln!(
            out,
            "| track | entitlements evaluated | rules | findings | open | excepted |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for t in &tally.tracks {
            let (total, open) = self.per_track.get(t).copied().unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {total} | {open} | {} |",
                t.as_str(),
                tally.evaluated.get(t).copied().unwrap_or(0),
                tally.rules.get(t).copied().unwrap_or(0),
                total - open
            );
        }
    }

    fn per_rule(&self, out: &mut String, pack: &Pack) {
        let _ = writeln!(out, "| rule | track | severity | title | findings | open |");
        let _ = writeln!(out, "|---|---|---|---|---:|---:|");
        for ((id, track), (severity, total, open)) in &self.by_rule {
            let title = pack
                .rule(id)
                .map(|r| r.title.as_str())
                .or_else(|| pack.risk_of(id).map(|r| r.description.as_str()))
                .unwrap_or_default();
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

    fn examples(&self, out: &mut String, track: Track, limit: usize) {
        let (total, _) = self.per_track.get(&track).copied().unwrap_or_default();
        if total == 0 {
            return;
        }
        // Most severe first; ties keep the report's order.
        let findings = self
            .examples
            .range((track, std::cmp::Reverse(Severity::Critical))..=(track, std::cmp::Reverse(Severity::Low)))
            .flat_map(|(_, fs)| fs);
        let shown = total.min(limit);
        let _ = writeln!(
            out,
            "\n### {} findings ({shown} of {total})\n",
            track.as_str().to_uppercase(),
        );
        let _ = writeln!(out, "| severity | identity | rule | status | message |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for f in findings.take(limit) {
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
        if total > shown {
            let _ = writeln!(
                out,
                "\n…and {} more; `--format csv` or `--format json` lists every finding.",
                total - shown
            );
        }
    }
}

/// `text` cut to at most `max` characters at a line end, with a note saying so.
pub fn fit(text: &str, max: usize) -> String {
    const NOTE: &str = "\n…cut to fit a GitHub comment; `--format json` has everything.\n";
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(NOTE.chars().count());
    let end = text.char_indices().nth(budget).map_or(text.len(), |(i, _)| i);
    let head = text.get(..end).unwrap_or_default();
    let head = head.rfind('\n').map_or(head, |i| head.get(..=i).unwrap_or_default());
    format!("{head}{NOTE}")
}

/// The report as Markdown, listing at most `limit` findings per track, within
/// [`MARKDOWN_MAX_CHARS`].
pub fn markdown(report: &Report, pack: &Pack, limit: usize) -> String {
    let mut summary = MarkdownSummary::new(limit);
    summary.push(&report.findings);
    summary.render(&report.tally(), pack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b\nc\r\nd\re"), "a\\|b<br>c<br>d<br>e");
    }
}
