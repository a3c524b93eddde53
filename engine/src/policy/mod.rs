//! The policy pack: rules (YAML compiled to Cedar, raw `.cedar`, the SoD matrix), the
//! control catalog and the function catalog, loaded from a directory or the built-in pack
//! and validated in Strict mode against the dualtrack schema.

pub mod catalog;
mod cedar_rules;
pub mod depth;
pub mod est;
mod load;
pub mod ruleset;
mod sod;
pub mod text;
mod yaml_rules;

use std::fmt;

use cedar_policy::Policy;

use crate::source::Loc;

pub use catalog::{ControlCatalog, FunctionCatalog};
pub use load::{builtin_files, builtin_test_files, dir_files, dir_test_files, is_test_file, load, load_lenient, Pack};
pub use sod::pair_key as sod_pair_key;
pub use yaml_rules::{OPERATORS, RULE_FIELDS};

/// One of the two assurance tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    /// SOC 2 / operational hygiene.
    Soc,
    /// SOX internal control over financial reporting.
    Sox,
}

crate::names!(Track {
    Soc = "soc",
    Sox = "sox",
});

impl Track {
    /// Both tracks, in report order.
    pub const ALL: [Track; 2] = [Track::Soc, Track::Sox];
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Unused access or identity, old credential.
    Stale,
    /// More privilege than the business need.
    Excessive,
    /// Segregation of duties conflict.
    Conflicting,
    /// Nobody accountable.
    Orphaned,
    /// The data needed to judge is missing.
    Unverifiable,
}

crate::names!(Category {
    Stale = "stale",
    Excessive = "excessive",
    Conflicting = "conflicting",
    Orphaned = "orphaned",
    Unverifiable = "unverifiable",
});

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Hygiene.
    Low,
    /// Fix within the campaign.
    Medium,
    /// Fix promptly.
    High,
    /// Fix now.
    Critical,
}

// Listed lowest first, and `CHOICES` keeps that order.
crate::names!(Severity {
    Low = "low",
    Medium = "medium",
    High = "high",
    Critical = "critical",
});

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// Once per entitlement (Cedar action `entitlement`).
    Entitlement,
    /// Once per identity (Cedar action `identity`).
    Identity,
}

crate::names!(Subject {
    Entitlement = "entitlement",
    Identity = "identity",
});

impl Subject {
    /// The Cedar action id: the subject's name.
    pub fn action(self) -> &'static str {
        self.as_str()
    }
}

/// Which of an identity's entitlements an identity-level finding lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Involves {
    /// Every entitlement the identity holds.
    All,
    /// Those on `sox_in_scope` systems.
    SoxInScope,
}

crate::names!(Involves {
    All = "all",
    SoxInScope = "sox_in_scope",
});

/// Where a rule was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A YAML rule, compiled to Cedar.
    Yaml,
    /// A `.cedar` policy.
    Cedar,
    /// Generated from an SoD matrix entry.
    SodMatrix,
}

/// A rule: one Cedar `forbid` policy and the metadata its findings carry.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable rule id, also the Cedar policy id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// The track whose policy set holds it.
    pub track: Track,
    /// Finding category.
    pub category: Category,
    /// Finding severity.
    pub severity: Severity,
    /// Control ids every finding cites.
    pub controls: Vec<String>,
    /// Extra control ids cited when the identity is a non-human identity.
    pub nhi_controls: Vec<String>,
    /// Evaluated per entitlement or per identity.
    pub subject: Subject,
    /// For identity rules: which entitlements the finding lists.
    pub involves: Involves,
    /// For SoD rules: only entitlements carrying one of these functions are listed.
    pub functions: Vec<String>,
    /// Message template (`{identity}`, `{entitlement}`, `{system}`, `{permission}`, `{owner}`, attribute paths).
    pub message: Option<String>,
    /// What to do about a finding.
    pub remediation: String,
    /// What the rule checks and why it matters.
    pub description: String,
    /// The compiled policy.
    pub policy: Policy,
    /// Attribute paths the policy reads; their values are a finding's evidence.
    pub reads: Vec<String>,
    /// Where the rule is written.
    pub loc: Loc,
    /// How it was written.
    pub origin: Origin,
}

#[cfg(test)]
mod tests;
