//! The findings report that `dualtrack check --format json` prints (`finding.rs`,
//! `render/json.rs`). This one is read, not written, by users: its schema is for the tools
//! that consume the report.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::common::{Category, Counts, Severity, Track};

/// The findings of one `dualtrack check` run. The same inputs and `--as-of` give
/// byte-identical output.
#[derive(JsonSchema)]
pub struct Report {
    /// The review date (`--as-of`), RFC 3339 in UTC.
    #[schemars(extend("format" = "date-time"))]
    pub as_of: String,
    /// With `--since PACK`: the baseline pack the findings were compared with.
    pub baseline: Option<Baseline>,
    /// Counts of the run.
    pub summary: Summary,
    /// Every finding, sorted by identity, track, rule and entitlements.
    pub findings: Vec<Finding>,
}

/// Counts of the run. Per-track counts name only the tracks evaluated (`--track`).
#[derive(JsonSchema)]
pub struct Summary {
    /// Identities in the inventory.
    pub identities: u64,
    /// Entitlements in the inventory.
    pub entitlements: u64,
    /// Entitlements evaluated per track: every entitlement, once per track.
    pub evaluated: Counts<Track>,
    /// Rules evaluated per track.
    pub rules: Counts<Track>,
    /// All findings.
    pub findings: u64,
    /// Findings with `status: open`.
    pub open: u64,
    /// Findings per track; a track without findings is left out.
    pub by_track: Counts<Track>,
    /// Findings per category; a category without findings is left out.
    pub by_category: Counts<Category>,
    /// Findings per severity; a severity without findings is left out.
    pub by_severity: Counts<Severity>,
}

/// Access that fails a track's criteria: one satisfied `forbid` policy.
#[derive(JsonSchema)]
pub struct Finding {
    /// Stable fingerprint of rule, track, identity and entitlements (16 hex digits): the
    /// same access gives the same id in every run, which exceptions and `diff` rely on.
    #[schemars(regex(pattern = "^[0-9a-f]{16}$"))]
    pub id: String,
    /// Id of the rule that fired.
    pub rule: String,
    /// The track the rule belongs to.
    pub track: Track,
    /// The rule's category.
    pub category: Category,
    /// The rule's severity.
    pub severity: Severity,
    /// Control ids the finding is evidence for.
    pub controls: Vec<String>,
    /// Id of the identity whose access it is.
    pub identity: String,
    /// Entitlement ids involved, sorted (all of them for a segregation-of-duties conflict).
    pub entitlements: Vec<String>,
    /// What is wrong, in a sentence.
    pub message: String,
    /// The attribute values the rule read, by attribute path (e.g. `entitlement.days_idle`).
    pub evidence: BTreeMap<String, serde_json::Value>,
    /// What to do about it.
    pub remediation: String,
    /// Whether it still needs action.
    pub status: FindingStatus,
    /// With `--since PACK`: what happened to its access since the baseline (the most
    /// telling class among its entitlements, or its identity's when it lists none).
    pub change: Option<Change>,
    /// The inventory record the finding is about.
    pub location: Location,
}

/// The baseline pack of a delta review.
#[derive(JsonSchema)]
pub struct Baseline {
    /// The campaign id the pack was built with, or null.
    pub campaign: Option<String>,
    /// The pack's review date, RFC 3339 in UTC.
    #[schemars(extend("format" = "date-time"))]
    pub as_of: String,
    /// The pack directory as given.
    pub pack: String,
    /// SHA-256 of the pack's `manifest.json`, lowercase hex.
    pub manifest_sha256: String,
}

/// What happened to a finding's access since the baseline.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Change {
    /// Not in the baseline.
    New,
    /// A field of access of the entitlement, its holder or its system differs.
    Changed,
    /// As in the baseline (observations such as `last_used` aside).
    Unchanged,
}

/// Whether a finding still needs action.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum FindingStatus {
    /// Needs remediation.
    Open,
    /// Covered by a live exception of the same track.
    Excepted,
}

/// Where a record is written.
#[derive(JsonSchema)]
pub struct Location {
    /// The inventory file, as given on the command line.
    pub file: String,
    /// The line the record starts on (1-based).
    pub line: u32,
}
