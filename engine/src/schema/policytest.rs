//! A policy test file (`*.test.yaml`), as read by `policytest/load.rs`.

use schemars::JsonSchema;

use super::common::{Date, Id, Track};
use super::inventory::{Entitlement, Identity, System};

/// Policy unit tests: each case gives a few records and a review date, and lists the
/// findings they must produce, those and no others. `dualtrack test` runs every file whose
/// name ends in `.test.yaml` in the pack.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TestFile {
    /// The test cases.
    pub cases: Vec<Case>,
}

/// One test case: records, a review date, and the findings they must produce.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Case {
    /// Name, unique within the file; `dualtrack test --filter` matches on it.
    pub name: String,
    /// The review date, as `check --as-of`.
    pub as_of: Date,
    /// Tracks evaluated. Default: both.
    pub tracks: Option<Vec<Track>>,
    /// When given, only findings of these rule ids are compared, so records that also trip
    /// unrelated rules do not disturb the case.
    pub only_rules: Option<Vec<String>>,
    /// Systems of the case, with the fields of an inventory.
    pub systems: Option<Vec<System>>,
    /// Identities of the case, with the fields of an inventory.
    pub identities: Option<Vec<Identity>>,
    /// Entitlements of the case, with the fields of an inventory.
    pub entitlements: Option<Vec<Entitlement>>,
    /// The findings the case must produce; write `expect: []` when it must produce none.
    pub expect: Vec<Expected>,
}

/// One finding a case expects.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Expected {
    /// Rule id of the finding.
    pub rule: String,
    /// Identity id of the finding.
    pub identity: Id,
    /// When given, the finding lists exactly these entitlement ids, in any order (an id
    /// defaults to `identity:system:permission`).
    pub entitlements: Option<Vec<Id>>,
    /// The rule's track; optional, since the rule id implies it.
    pub track: Option<Track>,
}
