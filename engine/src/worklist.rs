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

    /// The cells for CSV: a free-text cell that a spreadsheet would read as a formula is
    /// prefixed with `'`.
    pub fn csv_cells(&self) -> Vec<Cow<'_, str>> {
        COLUMNS
            .iter()
            .zip(self.cells())
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
