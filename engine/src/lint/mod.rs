//! `dualtrack lint`: checks the inputs of a review without evaluating anything. The loaders'
//! problems come first (syntax, unknown fields, Strict Cedar validation, unknown controls,
//! dangling references …), then checks that only make sense on a loaded pack or inventory,
//! one module per family:
//!
//! - [`controls`]: withdrawn controls (DT401), source-label controls (DT402);
//! - [`duplicates`]: two rules of one track with the same condition (DT403);
//! - [`never_fires`]: contradicting tests (DT404), values outside a domain (DT405);
//! - [`functions`]: SoD functions nothing yields (DT406);
//! - [`data_quality`]: NHIs without owner (DT407) or usage data (DT408), entitlements
//!   without justification (DT409), each capped at [`data_quality::CAP`] records.
//!
//! Every problem of every input is collected in one run; nothing here prints.

pub mod conditions;
pub mod controls;
pub mod data_quality;
pub mod duplicates;
pub mod functions;
pub mod locate;
pub mod never_fires;

use std::path::PathBuf;

use serde_json::{json, Value as Json};

use crate::diag::{Level, Problem, Problems};
use crate::inventory::Inventory;
use crate::model::Model;
use crate::open;
use crate::policy::{self, Pack};

use locate::PackTree;

/// What to lint. The exceptions and campaign steps run after the inventory (their checks
/// need the pack and the inventory).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// A policy pack directory; `None` lints the built-in pack.
    pub policies: Option<PathBuf>,
    /// An inventory file or directory; `None` skips the inventory checks.
    pub inventory: Option<PathBuf>,
    /// An exceptions file; `None` skips the exception checks.
    pub exceptions: Option<PathBuf>,
    /// A campaign file; its reviewer checks need `inventory` too.
    pub campaign: Option<PathBuf>,
}

/// Lints `inputs` and returns every problem, sorted by file and line.
pub fn run(inputs: &Inputs) -> Problems {
    let mut sink = Problems::default();
    let pack = lint_policies(inputs, &mut sink);
    let inventory = lint_inventory(inputs, pack.as_ref(), &mut sink);
    lint_exceptions(inputs, pack.as_ref().map(|(p, _)| p), inventory.as_ref(), &mut sink);
    lint_campaign(inputs, inventory.as_ref(), &mut sink);
    sink.sort();
    sink
}

/// Loads the pack leniently and runs the pack checks; returns the pack for the checks
/// that also need the inventory.
fn lint_policies(inputs: &Inputs, sink: &mut Problems) -> Option<(Pack, PackTree)> {
    let model = match Model::load() {
        Ok(m) => m,
        Err(p) => {
            sink.push(p);
            return None;
        }
    };
    let files = match &inputs.policies {
        Some(dir) => match policy::dir_files(dir) {
            Ok(files) => files,
            Err(problems) => {
                sink.0.extend(problems.0);
                return None;
            }
        },
        None => policy::builtin_files(),
    };
    let (pack, problems) = policy::load_lenient(files, &model);
    sink.0.extend(problems.0);
    let pack = pack?;
    let tree = PackTree::parse(&pack.sources);
    controls::check(&pack, &tree, sink);
    duplicates::check(&pack, sink);
    never_fires::check(&pack, &tree, &model, sink);
    Some((pack, tree))
}

/// Loads the inventory (when given) and runs its checks, and those that tie it to the pack.
fn lint_inventory(inputs: &Inputs, pack: Option<&(Pack, PackTree)>, sink: &mut Problems) -> Option<Inventory> {
    let inventory = inputs.inventory.as_deref().and_then(|path| match open::load(path) {
        Ok((inv, _)) => {
            sink.0.extend(inv.warnings.0.iter().cloned());
            Some(inv)
        }
        Err(problems) => {
            sink.0.extend(problems.0);
            None
        }
    });
    if let Some(inv) = &inventory {
        data_quality::check(inv, sink);
    }
    if let Some((pack, tree)) = pack {
        if let Some(inv) = &inventory {
            sink.0.extend(crate::eval::crosscheck(inv, pack).0);
        }
        functions::check(pack, tree, inventory.as_ref(), sink);
    }
    inventory
}

/// Loads the exceptions file (when given) and checks it against the pack (when it loaded)
/// and the inventory (when given): the same checks `check --exceptions` runs, plus a
/// warning for each exception approved by the identity it names or by that identity's owner.
fn lint_exceptions(inputs: &Inputs, pack: Option<&Pack>, inv: Option<&Inventory>, sink: &mut Problems) {
    let Some(path) = &inputs.exceptions else { return };
    let exceptions = match crate::exceptions::load(path) {
        Ok(x) => x,
        Err(problems) => return sink.0.extend(problems.0),
    };
    if let Some(pack) = pack {
        let known = |id: &str| inv.is_none_or(|inv| inv.identity(id).is_some());
        sink.0.extend(exceptions.check(pack, known).0);
    }
    if let Some(inv) = inv {
        sink.0.extend(exceptions.approval_problems(inv).0);
    }
}

/// Loads the campaign file (when given) and, with an inventory, runs the campaign checks.
fn lint_campaign(inputs: &Inputs, inv: Option<&Inventory>, sink: &mut Problems) {
    let Some(path) = &inputs.campaign else { return };
    let campaign = match crate::campaign::load(path) {
        Ok(c) => c,
        Err(problems) => return sink.0.extend(problems.0),
    };
    match inv {
        Some(inv) => {
            let mut found = Problems::default();
            crate::campaign::lint::check(&campaign, inv, &mut found);
            data_quality::restore_text(&mut found.0);
            sink.0.extend(found.0);
        }
        None => sink.push(
            Problem::note(
                crate::diag::Code::NoReviewer,
                Some(campaign.loc.clone()),
                "the campaign's reviewer checks need an inventory",
            )
            .with_help("give `--inventory` to check reviewers against it"),
        ),
    }
}

/// The problems as JSON: `{"summary": {"errors", "warnings", "notes"}, "diagnostics": [...]}`,
/// each diagnostic with `code`, `name`, `level`, `message`, `help`, `file`, `line`.
pub fn to_json(problems: &Problems) -> Json {
    let diagnostics: Vec<Json> = problems.0.iter().map(diagnostic_json).collect();
    json!({
        "summary": {
            "errors": problems.count(Level::Error),
            "warnings": problems.count(Level::Warning),
            "notes": problems.count(Level::Note),
        },
        "diagnostics": diagnostics,
    })
}

fn diagnostic_json(p: &Problem) -> Json {
    json!({
        "code": p.code.as_str(),
        "name": p.code.name(),
        "level": p.level.as_str(),
        "message": p.message,
        "help": p.help,
        "file": p.loc.as_ref().map(|l| l.file().to_owned()),
        "line": p.loc.as_ref().map(|l| l.line),
    })
}
