//! Loading what the commands read: the schema model and the pack, the inventory (whole or
//! indexed, its warnings printed on stderr once it is accepted), the review files
//! (exceptions, a campaign and its decisions), and every input hashed again for a manifest.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use dualtrack_engine::artefact::{sha256_hex, Input};
use dualtrack_engine::decisions::Decisions;
use dualtrack_engine::exceptions::Exceptions;
use dualtrack_engine::inventory::{self, Inventory};
use dualtrack_engine::{eval, open, policy, Code, Model, Problem, Problems};

use crate::diagnostics;

/// Loads the schema model and the pack (`policies` or the built-in one).
pub fn pack(policies: Option<&Path>) -> Result<(Model, policy::Pack), Problems> {
    let model = Model::load().map_err(|p| Problems(vec![p]))?;
    let files = match policies {
        Some(dir) => policy::dir_files(dir)?,
        None => policy::builtin_files(),
    };
    let pack = policy::load(files, &model)?;
    Ok((model, pack))
}

/// Prints the warnings of an inventory that loaded, if it has any.
fn print_warnings(inv: &Inventory) {
    if !inv.warnings.0.is_empty() {
        diagnostics::eprint(&inv.warnings);
    }
}

/// Loads the inventory `path` names, whole, as of the review date `as_of` (today when
/// `None`), and prints its warnings.
pub fn inventory(path: &Path, as_of: Option<DateTime<Utc>>) -> Result<Inventory, Problems> {
    let (inv, _) = open::load_as_of(path, as_of)?;
    print_warnings(&inv);
    Ok(inv)
}

/// Opens the inventory `path` names for streamed evaluation as of `as_of`, and prints its
/// warnings.
pub fn index(path: &Path, as_of: Option<DateTime<Utc>>) -> Result<inventory::Indexed, Problems> {
    let idx = open::index_as_of(path, as_of)?;
    print_warnings(&idx.inventory);
    Ok(idx)
}

/// The model, the pack and the whole inventory, checked against each other.
pub struct Loaded {
    /// The schema model.
    pub model: Model,
    /// The policy pack.
    pub pack: policy::Pack,
    /// The inventory.
    pub inventory: Inventory,
}

/// Loads model, pack and inventory, collecting every problem from all three and from
/// checking the inventory against the pack; prints the inventory's warnings when there
/// is no error.
pub fn pack_and_inventory(
    inventory_path: &Path,
    policies: Option<&Path>,
    as_of: Option<DateTime<Utc>>,
) -> Result<Loaded, Problems> {
    let mut problems = Problems::default();
    let (model, pack) = match pack(policies) {
        Ok((m, p)) => (Some(m), Some(p)),
        Err(mut e) => {
            problems.0.append(&mut e.0);
            (None, None)
        }
    };
    let inv = match open::load_as_of(inventory_path, as_of) {
        Ok((inv, _)) => Some(inv),
        Err(mut e) => {
            problems.0.append(&mut e.0);
            None
        }
    };
    if let (Some(pack), Some(inv)) = (&pack, &inv) {
        problems.0.append(&mut eval::crosscheck(inv, pack).0);
    }
    match (model, pack, inv) {
        (Some(model), Some(pack), Some(inventory)) if !problems.has_errors() => {
            print_warnings(&inventory);
            Ok(Loaded { model, pack, inventory })
        }
        _ => {
            problems.sort();
            Err(problems)
        }
    }
}

/// The model, the pack and the indexed inventory (entitlements are read back identity by
/// identity while evaluating).
pub struct Indexed {
    /// The schema model.
    pub model: Model,
    /// The policy pack.
    pub pack: policy::Pack,
    /// The indexed inventory.
    pub index: inventory::Indexed,
}

/// Loads model and pack and indexes the inventory, collecting every problem found before
/// evaluation; prints the inventory's warnings when there is no error.
pub fn pack_and_index(
    inventory_path: &Path,
    policies: Option<&Path>,
    as_of: Option<DateTime<Utc>>,
) -> Result<Indexed, Problems> {
    let mut problems = Problems::default();
    let pack = pack(policies).map_err(|mut e| problems.0.append(&mut e.0)).ok();
    let idx = open::index_as_of(inventory_path, as_of)
        .map_err(|mut e| problems.0.append(&mut e.0))
        .ok();
    match (pack, idx) {
        (Some((model, pack)), Some(index)) if !problems.has_errors() => {
            print_warnings(&index.inventory);
            Ok(Indexed { model, pack, index })
        }
        _ => {
            problems.sort();
            Err(problems)
        }
    }
}

/// Loads the exceptions file, if given, and checks it against the pack and the inventory.
pub fn exceptions(path: Option<&Path>, pack: &policy::Pack, inv: &Inventory) -> Result<Option<Exceptions>, Problems> {
    let Some(path) = path else { return Ok(None) };
    let x = dualtrack_engine::exceptions::load(path)?;
    let problems = x.check(pack, |id| inv.identity(id).is_some());
    if problems.has_errors() {
        return Err(problems);
    }
    Ok(Some(x))
}

/// Loads the campaign (for its SLAs) and the decisions file, when decisions are given.
pub fn decisions(campaign: Option<&Path>, decisions: Option<&Path>) -> Result<Option<Decisions>, Problems> {
    let Some(path) = decisions else { return Ok(None) };
    let campaign = campaign.map(dualtrack_engine::campaign::load).transpose()?;
    dualtrack_engine::decisions::load(path, campaign.as_ref()).map(Some)
}

/// What `evidence` and `campaign plan` load before evaluating the whole inventory.
pub struct Whole {
    /// The schema model.
    pub model: Model,
    /// The policy pack.
    pub pack: policy::Pack,
    /// The inventory, held whole.
    pub inv: Inventory,
    /// The inventory files read, to hash.
    pub read: Vec<String>,
    /// The exceptions, when given.
    pub exceptions: Option<Exceptions>,
}

/// Loads the pack, the whole inventory (checked against the pack; its warnings printed)
/// and the exceptions, stopping at the first of them that does not load.
pub fn whole(
    policies: Option<&Path>,
    inventory: &Path,
    exceptions: Option<&Path>,
    as_of: Option<DateTime<Utc>>,
) -> Result<Whole, Problems> {
    let (model, pack) = pack(policies)?;
    let (inv, read) = open::load_as_of(inventory, as_of)?;
    let crosscheck = eval::crosscheck(&inv, &pack);
    if crosscheck.has_errors() {
        return Err(crosscheck);
    }
    print_warnings(&inv);
    let exceptions = self::exceptions(exceptions, &pack, &inv)?;
    Ok(Whole {
        model,
        pack,
        inv,
        read,
        exceptions,
    })
}

/// Every input read, hashed: the inventory files `read`, the `extras` given by path, and
/// the pack's files. Inputs are hashed as the bytes on disk (so `sha256sum` agrees); the
/// built-in pack has no file, so its embedded text is hashed under its `builtin:` name.
pub fn hash_inputs(read: Vec<String>, extras: &[PathBuf], pack: &policy::Pack) -> Result<Vec<Input>, Problems> {
    let mut inputs = Vec::new();
    let mut paths: Vec<String> = read;
    for extra in extras {
        paths.push(extra.display().to_string());
    }
    for src in &pack.sources {
        if src.name().starts_with("builtin:") {
            inputs.push(Input {
                path: src.name().to_owned(),
                sha256: sha256_hex(src.text().as_bytes()),
            });
        } else {
            paths.push(src.name().to_owned());
        }
    }
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| {
            Problems(vec![Problem::error(
                Code::Io,
                None,
                format!(
                    "cannot read `{path}` again to hash it: {}",
                    e.to_string().to_lowercase()
                ),
            )])
        })?;
        inputs.push(Input {
            path,
            sha256: sha256_hex(&bytes),
        });
    }
    inputs.sort();
    inputs.dedup();
    Ok(inputs)
}
