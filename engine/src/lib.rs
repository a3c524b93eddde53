//! dualtrack's engine: loads an entitlement inventory and a Cedar policy pack, evaluates
//! every entitlement against the SOC and SOX tracks, and returns findings as data.
//! No printing and no process exits here: the CLI renders and decides exit codes.

pub mod artefact;
pub mod baseline;
pub mod campaign;
pub mod decisions;
pub mod derive;
pub mod diag;
pub mod diff;
pub mod drift;
pub mod escape;
pub mod eval;
pub mod evidence;
pub mod exceptions;
pub mod finding;
pub mod inventory;
pub mod json;
pub mod limits;
pub mod lint;
pub mod model;
pub mod names;
pub mod node;
pub mod open;
pub mod policy;
pub mod policytest;
pub mod prove;
pub mod pseudo;
pub mod render;
pub mod review;
pub mod scan;
pub mod schema;
pub mod source;
pub mod sources;
pub mod text;
pub mod worklist;
pub mod xlsx;
pub mod yaml;

pub use diag::{Code, Level, Problem, Problems};
pub use eval::{evaluate, Options};
pub use finding::{Finding, FindingStatus, Report};
pub use model::Model;
pub use policy::{Category, Pack, Severity, Track};
