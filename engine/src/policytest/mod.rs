//! Policy unit tests: small inventories written in YAML beside the policies, each with a
//! review date and the findings it must produce — those and no others.
//!
//! # Where tests live
//!
//! Every file of a pack whose name ends in `.test.yaml` (or `.test.yml`) is a test file and
//! never a rule file. The built-in pack keeps its tests in `policies/tests/`.
//!
//! # What a test file holds
//!
//! One top-level key, `cases`, a list. Each case has:
//!
//! - `name` (required): unique within its file; `dualtrack test --filter` matches on it.
//! - `as_of` (required): the review date, `YYYY-MM-DD` or RFC 3339, as `check --as-of`.
//! - `tracks` (optional): `soc`, `sox` or both (the default); only these are evaluated.
//! - `only_rules` (optional): rule ids. When given, only findings of these rules are
//!   compared, so a case about one rule is not disturbed by unrelated rules that its
//!   records also trip. "No others" then means no other finding *of these rules*.
//! - `systems`, `identities`, `entitlements` (each optional, empty when absent): records
//!   with exactly the fields of the inventory contract, decoded and validated by the
//!   inventory loader (unknown fields, bad dates, dangling references are errors with
//!   their line). Warnings the loader would give (an owner id that is not among the
//!   records, an identity without `kind`) are not shown: a case may be about that data.
//! - `expect` (required; write `expect: []` when none is expected): the findings, each
//!   with `rule` and `identity` (required), `entitlements` (optional: when given, the
//!   finding must list exactly these entitlement ids, in any order) and `track`
//!   (optional: must be the rule's track; the rule id already implies it).
//!
//! # When a case passes
//!
//! The case's records are evaluated with the pack, like `check` would, and its findings
//! (of `only_rules` when given) are matched against `expect`. The case fails when an
//! expected finding is missing or an unexpected one appears; expectations that name
//! entitlements are matched first, so one without them matches any remaining finding of
//! its rule and identity. A test that cannot work as written — an unknown rule, an
//! expectation its own case can never produce, a record that does not decode — is an
//! invalid test file with a coded diagnostic, not a failing case.
//!
//! # Coverage
//!
//! A rule of the pack that no `expect` of any case names is reported as a rule without
//! tests; near-miss cases (`expect: []`) do not count toward it.

mod load;
mod run;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::policy::Track;
use crate::source::{Loc, Source};

pub use load::{load, CASE_FIELDS, EXPECT_FIELDS, FILE_FIELDS};
pub use run::{run, untested_rules};

/// Every case of a pack's test files, in file order then case order.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The cases.
    pub cases: Vec<Case>,
    /// The test files read.
    pub files: Vec<Arc<Source>>,
}

/// One test case: records, a review date, and the findings they must produce.
#[derive(Debug, Clone)]
pub struct Case {
    /// Name, unique within its file.
    pub name: String,
    /// Where the case is written.
    pub loc: Loc,
    /// The review date.
    pub as_of: DateTime<Utc>,
    /// Tracks evaluated (both unless the case says otherwise).
    pub tracks: Vec<Track>,
    /// When set, only findings of these rules are compared.
    pub only_rules: Option<Vec<String>>,
    /// The case's records, validated.
    pub inventory: Inventory,
    /// The findings the case expects.
    pub expect: Vec<Expected>,
}

impl Case {
    /// True when findings of `rule` are compared in this case.
    pub fn compares(&self, rule: &str) -> bool {
        self.only_rules
            .as_ref()
            .is_none_or(|only| only.iter().any(|r| r == rule))
    }
}

/// One finding a case expects.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Rule id.
    pub rule: String,
    /// Identity id.
    pub identity: String,
    /// When given, exactly these entitlement ids (sorted).
    pub entitlements: Option<Vec<String>>,
    /// When given, the track (always the rule's track, checked at load).
    pub track: Option<Track>,
    /// Where the expectation is written.
    pub loc: Loc,
}

impl Expected {
    /// True when `f` is the finding this expectation describes.
    pub fn matches(&self, f: &Finding) -> bool {
        *f.rule == *self.rule
            && f.identity == self.identity
            && self.track.is_none_or(|t| t == f.track)
            && self.entitlements.as_ref().is_none_or(|e| *e == f.entitlements)
    }
}

/// What one case produced, compared with what it expected.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Where the case is written.
    pub loc: Loc,
    /// Expected findings that did not appear.
    pub missing: Vec<Expected>,
    /// Findings that appeared and were not expected (sorted as in a report).
    pub unexpected: Vec<Finding>,
}

impl CaseResult {
    /// True when nothing is missing and nothing unexpected appeared.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// The outcome of running a suite.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// One result per case run, in suite order.
    pub results: Vec<CaseResult>,
    /// Cases not run because they did not match the filter.
    pub filtered_out: usize,
    /// Rules of the pack that no expectation of the suite names, sorted by id.
    pub untested: Vec<String>,
}

impl Outcome {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}
