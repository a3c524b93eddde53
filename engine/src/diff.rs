//! The findings impact of a policy change: one inventory evaluated with the base pack and
//! with the head pack, findings matched by id (the fingerprint of rule, track, identity and
//! entitlements). A finding only the head gives is added, one only the base gives is
//! removed, and one both give with any other field different is changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use crate::escape::{cell, code};
use crate::finding::{Finding, FindingStatus};
use crate::policy::{Severity, Track};

/// Added, removed and changed findings, each list in report order.
#[derive(Debug, Clone, Default)]
pub struct FindingsDiff {
    /// Findings the head pack gives and the base pack does not.
    pub added: Vec<Finding>,
    /// Findings the base pack gives and the head pack does not.
    pub removed: Vec<Finding>,
    /// Findings both give, differing in some field: (before, after).
    pub changed: Vec<(Finding, Finding)>,
}

/// Matches `base` and `head` findings by id.
pub fn diff(base: Vec<Finding>, head: Vec<Finding>) -> FindingsDiff {
    let mut before: BTreeMap<String, Finding> = base.into_iter().map(|f| (f.id.clone(), f)).collect();
    let mut out = FindingsDiff::default();
    for after in head {
        match before.remove(&after.id) {
            None => out.added.push(after),
            Some(b) if b != after => out.changed.push((b, after)),
            Some(_) => {}
        }
    }
    out.removed = before.into_values().collect();
    let key = |f: &Finding| (f.identity.clone(), f.track, f.rule.clone(), f.entitlements.clone());
    out.added.sort_by_key(key);
    out.removed.sort_by_key(key);
    out.changed.sort_by_key(|(_, a)| key(a));
    out
}

impl FindingsDiff {
    /// Open findings at or above `min` that the change brings: added ones, and changed ones
    /// that are now open at or above `min` and were not before.
    pub fn new_open_at_or_above(&self, min: Severity) -> usize {
        let counts = |f: &Finding| f.status == FindingStatus::Open && f.severity >= min;
        self.added.iter().filter(|f| counts(f)).count()
            + self.changed.iter().filter(|(b, a)| counts(a) && !counts(b)).count()
    }

    /// True when the change alters no finding.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

struct Change<'a>(&'a Finding, &'a Finding);

impl Serialize for Change<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Change", 2)?;
        m.serialize_field("before", self.0)?;
        m.serialize_field("after", self.1)?;
        m.end()
    }
}

impl Serialize for FindingsDiff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("added", &self.added)?;
        m.serialize_entry("removed", &self.removed)?;
        let changed: Vec<Change<'_>> = self.changed.iter().map(|(b, a)| Change(b, a)).collect();
        m.serialize_entry("changed", &changed)?;
        m.end()
    }
}

/// Counts of one kind of change per track.
fn per_track<'a>(findings: impl Iterator<Item = &'a Finding>) -> BTreeMap<Track, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.track).or_insert(0) += 1;
    }
    m
}

/// A Markdown summary for a pull-request comment: counts per track, per category and per
/// rule, then the first `limit` findings of each kind.
pub fn markdown(d: &FindingsDiff, limit: usize) -> String {
    // Within GitHub's comment and job-summary limit: fewer listed findings, then a cut.
    let mut limit = limit;
    loop {
        let out = markdown_with(d, limit);
        if out.chars().count() <= crate::render::MARKDOWN_MAX_CHARS {
            return out;
        }
        if limit == 0 {
            return crate::render::fit_markdown(&out, crate::render::MARKDOWN_MAX_CHARS);
        }
        limit /= 2;
    }
}

fn markdown_with(d: &FindingsDiff, limit: usize) -> String {
    let mut out = String::from("## dualtrack: findings impact of this policy change\n\n");
    if d.is_empty() {
        out.push_str("No finding is added, removed or changed.\n");
        return out;
    }
    let added = per_track(d.added.iter());
    let removed = per_track(d.removed.iter());
    let changed = per_track(d.changed.iter().map(|(_, a)| a));
    out.push_str("| | soc | sox | total |\n|---|---:|---:|---:|\n");
    for (label, m) in [("added", &added), ("removed", &removed), ("changed", &changed)] {
        let n = |t: Track| m.get(&t).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} |",
            n(Track::Soc),
            n(Track::Sox),
            n(Track::Soc) + n(Track::Sox)
        );
    }
    // Per (track, category) and per rule: added, removed, changed.
    let mut by_category: BTreeMap<(Track, &str), [usize; 3]> = BTreeMap::new();
    let mut by_rule: BTreeMap<(&str, Track), [usize; 3]> = BTreeMap::new();
    let all = d
        .added
        .iter()
        .map(|f| (0, f))
        .chain(d.removed.iter().map(|f| (1, f)))
        .chain(d.changed.iter().map(|(_, a)| (2, a)));
    for (kind, f) in all {
        if let Some(c) = by_category
            .entry((f.track, f.category.as_str()))
            .or_default()
            .get_mut(kind)
        {
            *c += 1;
        }
        if let Some(c) = by_rule.entry((&*f.rule, f.track)).or_default().get_mut(kind) {
            *c += 1;
        }
    }
    out.push_str("\n### By category\n\n| track | category | added | removed | changed |\n|---|---|---:|---:|---:|\n");
    for ((track, category), [a, r, c]) in &by_category {
        let _ = writeln!(out, "| {} | {category} | {a} | {r} | {c} |", track.as_str());
    }
    out.push_str("\n### By rule\n\n| rule | track | added | removed | changed |\n|---|---|---:|---:|---:|\n");
    for ((rule, track), [a, r, c]) in &by_rule {
        let _ = writeln!(out, "| {} | {} | {a} | {r} | {c} |", code(rule), track.as_str());
    }
    let header = "| severity | rule | track | identity | message |\n|---|---|---|---|---|\n";
    let row = |f: &Finding| {
        format!(
            "| {} | {} | {} | {} | {} |\n",
            f.severity.as_str(),
            code(&f.rule),
            f.track.as_str(),
            code(&f.identity),
            cell(&f.message)
        )
    };
    for (title, list) in [("Added", &d.added), ("Removed", &d.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(out, "\n### {title} ({})\n\n{header}", list.len());
        for f in list.iter().take(limit) {
            out.push_str(&row(f));
        }
        more(&mut out, list.len(), limit);
    }
    if !d.changed.is_empty() {
        let _ = write!(
            out,
            "\n### Changed ({})\n\n| rule | track | identity | before | after |\n|---|---|---|---|---|\n",
            d.changed.len()
        );
        for (b, a) in d.changed.iter().take(limit) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&a.rule),
                a.track.as_str(),
                code(&a.identity),
                cell(&summary(b)),
                cell(&summary(a))
            );
        }
        more(&mut out, d.changed.len(), limit);
    }
    out
}

fn more(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "\n…and {} more.", total - shown);
    }
}

/// Severity, status and message of a finding in one line.
fn summary(f: &Finding) -> String {
    format!("{} {}: {}", f.severity.as_str(), f.status.as_str(), f.message)
}

/// Plain text for a terminal: one line per change.
pub fn human(d: &FindingsDiff) -> String {
    let mut out = String::new();
    let line = |sign: char, f: &Finding| {
        format!(
            "{sign} {} {} {} [{}] {}\n",
            f.track.as_str(),
            f.rule,
            f.identity,
            f.entitlements.join(", "),
            f.message
        )
    };
    for f in &d.added {
        out.push_str(&line('+', f));
    }
    for f in &d.removed {
        out.push_str(&line('-', f));
    }
    for (b, a) in &d.changed {
        out.push_str(&line('~', a));
        let _ = writeln!(out, "    before: {}\n    after:  {}", summary(b), summary(a));
    }
    let _ = writeln!(
        out,
        "{} added, {} removed, {} changed",
        d.added.len(),
        d.removed.len(),
        d.changed.len()
    );
    out
}
