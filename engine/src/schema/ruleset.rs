//! An SAP ruleset (`*.ruleset.yaml` in a policy pack), as read by `policy/ruleset.rs`.

use schemars::JsonSchema;

use super::common::{Severity, Track};

/// Business functions of an ERP system, each defined by the transactions and
/// authorization values that make it up, and the risks of holding them: two or more
/// functions together (segregation of duties) or one critical function.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RulesetFile {
    /// The business functions; ids are unique across the pack's rulesets.
    pub functions: Option<Vec<Function>>,
    /// The risks; ids are unique across the pack's rulesets.
    pub risks: Option<Vec<Risk>>,
}

/// A business function. A user holds it when one of their roles starts one of its
/// `actions` and every `permissions` line holds (no actions: the lines alone; no lines: an
/// action alone).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Function {
    /// Its id, e.g. `VENDOR-MAINT`; risks name it.
    pub id: String,
    /// What it is, e.g. `Maintain vendor master data`.
    pub name: Option<String>,
    /// Transactions that perform it (values of `S_TCODE`, field `TCD`); a trailing `*` is
    /// a prefix, e.g. `XK0*`.
    pub actions: Option<Vec<String>>,
    /// Authorization values it needs, every line. Lines on the same object must hold in
    /// the same authorization.
    pub permissions: Option<Vec<Line>>,
}

/// One permission line: an authorization of `object` whose `field` allows one of
/// `values`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Line {
    /// The authorization object, e.g. `F_LFA1_APP`.
    pub object: String,
    /// The field, e.g. `ACTVT`.
    pub field: String,
    /// The values, one of which the field must allow, e.g. `["01", "02"]`.
    #[schemars(length(min = 1))]
    pub values: Vec<String>,
}

/// A risk; its findings are `<TRACK>-<id>`, e.g. `SOX-P2P-01`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Risk {
    /// Its id, e.g. `P2P-01`.
    pub id: String,
    /// `sod` (two or more functions, default) or `critical_action` (one function).
    #[serde(rename = "type")]
    #[schemars(extend("default" = "sod"))]
    pub kind: Option<RiskType>,
    /// The functions whose holding (together) is the risk.
    #[schemars(length(min = 1))]
    pub functions: Vec<String>,
    /// Finding severity. Default `high`.
    #[schemars(extend("default" = "high"))]
    pub severity: Option<Severity>,
    /// The business process, e.g. `procure-to-pay`.
    pub process: Option<String>,
    /// What could go wrong.
    pub description: Option<String>,
    /// Control ids from the control catalog the findings cite.
    pub controls: Option<Vec<String>>,
    /// The tracks it is reported on. Default both; SOX only on `sox_in_scope` systems.
    pub tracks: Option<Vec<Track>>,
}

/// What a risk is.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskType {
    /// Two or more functions one user must not hold together.
    Sod,
    /// One function so powerful that holding it is the risk.
    CriticalAction,
}
