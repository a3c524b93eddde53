//! Rendering a [`ProofReport`]: JSON for tools, Markdown for a pull-request comment
//! (changes that can hide findings first), and plain text with readable examples.

use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use super::{ProofReport, RuleProof, Verdict};
use crate::escape::{cell, code};

impl ProofReport {
    /// `{"rules": [{"rule", "track", "verdict", "adds_example", "removes_example"}], "summary": {...}}`.
    pub fn to_json(&self) -> Json {
        let mut counts = serde_json::Map::new();
        for v in ALL {
            counts.insert(
                v.as_str().to_owned(),
                json!(self.counts().get(&v).copied().unwrap_or(0)),
            );
        }
        json!({
            "rules": self.rules,
            "summary": {
                "rules": self.rules.len(),
                "verdicts": counts,
                "can_hide_findings": self.can_hide_findings(),
            },
        })
    }

    /// Markdown for a pull-request comment: changes that can hide findings first.
    pub fn markdown(&self) -> String {
        let mut out = String::from("## dualtrack: what this policy change can do, on any inventory\n\n");
        let changed: Vec<&RuleProof> = ordered(self)
            .into_iter()
            .filter(|r| r.verdict != Verdict::Equivalent)
            .collect();
        let same = self.rules.len() - changed.len();
        if changed.is_empty() {
            let _ = writeln!(
                out,
                "All {same} rules are equivalent: the change adds and hides no finding."
            );
            return out;
        }
        if self.can_hide_findings() {
            out.push_str("**This change can hide findings** (or could not be proven not to).\n\n");
        }
        out.push_str("| rule | track | verdict | example |\n|---|---|---|---|\n");
        for r in &changed {
            let ex = r
                .removes_example
                .as_ref()
                .or(r.adds_example.as_ref())
                .map(|e| one_line(e, &r.reads))
                .or_else(|| r.reason.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&r.rule),
                r.track.as_str(),
                r.verdict.as_str(),
                cell(&ex)
            );
        }
        let _ = writeln!(out, "\n{same} other rules are equivalent.");
        out
    }

    /// Plain text: one block per rule that changed, with its examples as inventory snippets.
    pub fn human(&self) -> String {
        let mut out = String::new();
        for r in ordered(self) {
            if r.verdict == Verdict::Equivalent {
                continue;
            }
            let _ = writeln!(out, "{} {}: {}", r.track.as_str(), r.rule, r.verdict.as_str());
            if let Some(reason) = &r.reason {
                let _ = writeln!(out, "  why: {reason}");
            }
            if let Some(e) = &r.removes_example {
                let _ = writeln!(out, "  base flags this and head does not (a hidden finding):");
                out.push_str(&e.snippet(&r.reads, "    "));
            }
            if let Some(e) = &r.adds_example {
                let _ = writeln!(out, "  head flags this and base does not (a new finding):");
                out.push_str(&e.snippet(&r.reads, "    "));
            }
        }
        let counts = self.counts();
        let summary: Vec<String> = ALL
            .iter()
            .filter_map(|v| counts.get(v).map(|n| format!("{n} {}", v.as_str())))
            .collect();
        let _ = writeln!(out, "{} rules: {}", self.rules.len(), summary.join(", "));
        out
    }
}

const ALL: [Verdict; 7] = [
    Verdict::Removed,
    Verdict::AddsAndRemoves,
    Verdict::OnlyRemoves,
    Verdict::Inconclusive,
    Verdict::OnlyAdds,
    Verdict::Added,
    Verdict::Equivalent,
];

/// Rules that can hide findings first, then by verdict, track and id.
fn ordered(report: &ProofReport) -> Vec<&RuleProof> {
    let mut v: Vec<&RuleProof> = report.rules.iter().collect();
    v.sort_by(|a, b| {
        (!a.verdict.can_hide_findings(), a.verdict, a.track, &a.rule).cmp(&(
            !b.verdict.can_hide_findings(),
            b.verdict,
            b.track,
            &b.rule,
        ))
    });
    v
}

/// `entitlement.days_idle = 100, …` for a table cell.
fn one_line(e: &super::Example, reads: &[String]) -> String {
    let mut parts = Vec::new();
    for ent in &e.entities {
        for (k, v) in &ent.attrs {
            let path = format!("{}.{k}", ent.kind);
            if reads.contains(&path) {
                parts.push(format!("{path} = {v}"));
            }
        }
    }
    let fires = if e.base_fires {
        "base fires, head does not"
    } else {
        "head fires, base does not"
    };
    format!("{} ({fires})", parts.join(", "))
}
