//! The worklist a reviewer fills in: its columns, one typed row, and the verdicts a
//! reviewer may give. Shared by the campaign plan (which writes worklists as CSV and XLSX)
//! and the decisions reader (a filled worklist is a decisions file), below both.

use std::borrow::Cow;

use crate::escape::guard_formula;

/// Columns of a worklist, in order: the decision columns, the facts a reviewer needs, and
/// the three input columns last. A filled worklist is a decisions file: the information
/// columns are accepted and not read back.
pub const COLUMNS: &[&str] = &[
    "track",
    "entitlement",
    "reviewer",
    "identity",
    "kind",
    "owner",
    "system",
    "permission",
    "privileged",
    "last_used",
    "severity",
    "findings",
    "recommended",
    "decision",
    "decided_at",
    "rationale",
];

/// The columns of `_carried.csv`: the rows carried forward from the baseline, which no
/// reviewer is asked about, with the baseline campaign they were approved in. The other
/// column lists are its first columns.
pub const CARRIED_COLUMNS: &[&str] = &[
    "track",
    "entitlement",
    "reviewer",
    "identity",
    "kind",
    "owner",
    "system",
    "permission",
    "privileged",
    "last_used",
    "severity",
    "findings",
    "recommended",
    "change",
    "previous_decision",
    "decision",
    "decided_at",
    "rationale",
    "baseline_campaign",
];

/// The columns of a delta review's worklist (`campaign plan --since`): [`COLUMNS`] with
/// what happened since the baseline and the baseline's decision, before the input columns.
pub const DELTA_COLUMNS: &[&str] = CARRIED_COLUMNS.split_at(CARRIED_COLUMNS.len() - 1).0;

/// Every column a decisions file may have: the information columns are read past.
pub const READ_COLUMNS: &[&str] = CARRIED_COLUMNS;

/// The columns a reviewer fills in; every other column is information.
pub const INPUT_COLUMNS: &[&str] = &["decision", "decided_at", "rationale"];

/// Columns whose text comes from outside (a permission name, finding messages), guarded
/// against formulas in CSV.
const FREE_TEXT: &[&str] = &["permission", "findings"];

/// A reviewer's decision on one entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the access.
    Approve,
    /// Remove the access.
    Revoke,
    /// Keep a reduced form of the access (the rationale says what).
    Modify,
}

crate::names!(Verdict {
    Approve = "approve",
    Revoke = "revoke",
    Modify = "modify",
});

/// One worklist row as a reviewer reads it, a field per column of [`COLUMNS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// `soc` or `sox`.
    pub track: String,
    /// Entitlement id.
    pub entitlement: String,
    /// The assigned reviewer (empty when unassigned).
    pub reviewer: String,
    /// The holder's identity id.
    pub identity: String,
    /// The holder's kind.
    pub kind: String,
    /// The holder's owner.
    pub owner: String,
    /// System id.
    pub system: String,
    /// The permission.
    pub permission: String,
    /// `yes` or `no`.
    pub privileged: String,
    /// Day of last use (`YYYY-MM-DD`), or empty.
    pub last_used: String,
    /// Highest severity among the open findings, or empty.
    pub severity: String,
    /// The open findings, one line each, joined with ` | `.
    pub findings: String,
    /// `revoke`, or empty.
    pub recommended: String,
    /// The reviewer's verdict (an input column).
    pub decision: String,
    /// When the reviewer decided (an input column).
    pub decided_at: String,
    /// Why (an input column).
    pub rationale: String,
    /// Against a baseline: `new`, `changed: <fields>` or `unchanged`.
    pub change: String,
    /// Against a baseline: its decision on the row, `<verdict> by <reviewer> on <day>`.
    pub previous_decision: String,
    /// On a carried row: the baseline campaign that approved it.
    pub baseline_campaign: String,
}

impl Row {
    /// The cells in [`COLUMNS`] order, as they are (an XLSX cell is written as text).
    pub fn cells(&self) -> [&str; 16] {
        [
            &self.track,
            &self.entitlement,
            &self.reviewer,
            &self.identity,
            &self.kind,
            &self.owner,
            &self.system,
            &self.permission,
            &self.privileged,
            &self.last_used,
            &self.severity,
            &self.findings,
            &self.recommended,
            &self.decision,
            &self.decided_at,
            &self.rationale,
        ]
    }

    /// The cell of column `name` (empty for a name that is not a column).
    pub fn cell(&self, name: &str) -> &str {
        match name {
            "change" => &self.change,
            "previous_decision" => &self.previous_decision,
            "baseline_campaign" => &self.baseline_campaign,
            _ => COLUMNS
                .iter()
                .zip(self.cells())
                .find(|(c, _)| **c == name)
                .map_or("", |(_, v)| v),
        }
    }

    /// The cells for CSV in [`COLUMNS`] order: a free-text cell that a spreadsheet would
    /// read as a formula is prefixed with `'`.
    pub fn csv_cells(&self) -> Vec<Cow<'_, str>> {
        self.csv_cells_of(COLUMNS)
    }

    /// [`Row::csv_cells`] in the order of `columns`.
    pub fn csv_cells_of(&self, columns: &[&str]) -> Vec<Cow<'_, str>> {
        columns
            .iter()
            .map(|name| (name, self.cell(name)))
            .map(|(name, cell)| {
                if FREE_TEXT.contains(name) {
                    guard_formula(cell)
                } else {
                    Cow::Borrowed(cell)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delta_columns_are_the_plain_ones_with_change_and_previous_decision_before_the_inputs() {
        let plain: Vec<&str> = DELTA_COLUMNS
            .iter()
            .copied()
            .filter(|c| !["change", "previous_decision"].contains(c))
            .collect();
        assert_eq!(plain, COLUMNS);
        assert_eq!(DELTA_COLUMNS.get(DELTA_COLUMNS.len() - 3..), Some(INPUT_COLUMNS));
        assert_eq!(CARRIED_COLUMNS.last(), Some(&"baseline_campaign"));
    }

    #[test]
    fn cells_follow_the_columns_and_only_free_text_is_guarded() {
        let row = Row {
            track: "sox".into(),
            entitlement: "=e".into(),
            permission: "=SUM(A1)".into(),
            findings: "-x".into(),
            decision: "approve".into(),
            ..Row::default()
        };
        let cells = row.cells();
        assert_eq!(cells.len(), COLUMNS.len());
        let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap_or(usize::MAX);
        assert_eq!(cells.get(at("decision")), Some(&"approve"));
        let csv = row.csv_cells();
        assert_eq!(csv.get(at("permission")).map(|c| c.as_ref()), Some("'=SUM(A1)"));
        assert_eq!(csv.get(at("findings")).map(|c| c.as_ref()), Some("'-x"));
        assert_eq!(csv.get(at("entitlement")).map(|c| c.as_ref()), Some("=e"));
    }
}
