//! Real exports as an inventory: a sources file (`sources.yaml`) lists an HR feed and
//! the exports of the systems under review; each importer reads one export type into
//! located people and accounts (file and line of the export row or JSON record), and
//! `correlate` ties accounts to people before the records join the native inventory.
//! Missing data stays missing: an importer fills only what its export says.

mod aws_authorization_details;
mod aws_credential_report;
mod baton;
mod build;
pub mod config;
mod correlate;
mod entra;
mod hr;
mod okta;
mod sap;
mod scim;
mod util;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::diag::{Code, Problem, Problems};
use crate::inventory::{Acts, IdentityKind, Inventory, Status, System};
use crate::node::Node;
use crate::source::{Loc, Source};

use build::Accounts;

pub use config::{is_sources, Config, Key, Kind, Spec};

/// A reference from an account to an identity (its owner or manager), resolved once the
/// accounts are correlated.
#[derive(Debug, Clone)]
pub(crate) enum Ref {
    /// Another account of the same import, by its id.
    Account(String),
    /// An email, login, employee id or identity id, correlated like an account.
    Hint(String),
}

/// One person from the HR feed.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub id: String,
    pub email: Option<String>,
    pub login: Option<String>,
    pub employee_id: Option<String>,
    pub display_name: Option<String>,
    pub department: Option<String>,
    pub status: Status,
    pub manager: Option<String>,
    /// Where the export names the manager (the record when it cannot say finer).
    pub manager_at: Option<Loc>,
    pub terminated_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub loc: Loc,
}

/// One access an account holds.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub permission: String,
    pub privileged: bool,
    /// How the export says it was granted (e.g. `group/Admins → policy/AdministratorAccess`).
    pub source: String,
    /// Added to the entitlement id when one permission reaches the account by two paths.
    pub via: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub loc: Loc,
}

/// One account (or credential) read from an export. Records and exports that list the
/// same account under the same `id` are merged (the AWS credential report and
/// authorization details join on the ARN); see `build`.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub id: String,
    pub system: String,
    /// `None`: the export does not say (read as a person unless another export says).
    pub kind: Option<IdentityKind>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub login: Option<String>,
    pub employee_id: Option<String>,
    pub department: Option<String>,
    pub status: Option<Status>,
    /// When the export says the account's holder leaves or left (Entra
    /// `employeeLeaveDateTime`); the status stays what the export says.
    pub terminated_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub credential_rotated_at: Option<DateTime<Utc>>,
    pub credential_expires_at: Option<DateTime<Utc>>,
    pub owner: Option<Ref>,
    pub manager: Option<Ref>,
    /// Where the export names the manager (the record when it cannot say finer).
    pub manager_at: Option<Loc>,
    /// An AI agent's sponsors (Entra `sponsors`, Okta and SCIM `owners`), each with where
    /// the export names it; resolved like the owner.
    pub sponsors: Vec<(Ref, Loc)>,
    /// How an AI agent acts, when the export says it.
    pub acts: Option<Acts>,
    /// The blueprint, application or agent an AI agent derives from, with where the export
    /// names it.
    pub parent: Option<(Ref, Loc)>,
    pub tags: Vec<(String, String)>,
    pub grants: Vec<Grant>,
    pub loc: Loc,
}

/// Everything the importers read, before correlation.
#[derive(Debug, Default)]
pub(crate) struct Import {
    pub systems: Vec<System>,
    pub people: Vec<Person>,
    /// One per id: the same account from two exports is merged as it is added.
    pub accounts: Accounts,
    /// Export files read, for the evidence manifest.
    pub files: Vec<String>,
    /// Role authorizations read from ERP exports (SAP), by system.
    pub authorizations: crate::inventory::authz::Authorizations,
    /// The review date, for exports that say when access starts and ends (SAP role
    /// assignments, user validity); `None`: today.
    pub as_of: Option<DateTime<Utc>>,
}

impl Import {
    /// Registers the system of `spec` (its `system` if given, else `default_id`) and returns
    /// its id. Two sources on one system share its record.
    pub fn system(&mut self, spec: &Spec, default_id: &str, default_name: Option<String>) -> String {
        let id = spec
            .system
            .as_ref()
            .map_or_else(|| default_id.to_owned(), |s| s.id.clone());
        let name = spec.system.as_ref().and_then(|s| s.name.clone()).or(default_name);
        match self.systems.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.sox_in_scope |= spec.sox_in_scope.unwrap_or(false);
                if s.owner.is_none() {
                    s.owner.clone_from(&spec.owner);
                }
                if s.name.is_none() {
                    s.name = name;
                }
                if s.environment.is_none() {
                    s.environment.clone_from(&spec.environment);
                }
            }
            None => self.systems.push(System {
                id: id.clone(),
                name,
                owner: spec.owner.clone(),
                sox_in_scope: spec.sox_in_scope.unwrap_or(false),
                environment: spec.environment.clone(),
                tags: Vec::new(),
                loc: spec.loc.clone(),
            }),
        }
        id
    }
}

/// The first key of a JSON file, when it names a sources file (`sources`, `inventory` or
/// `correlate`): a cheap look at the file's start, so a large JSON inventory is not read
/// whole just to find out what it is.
pub fn sniff_json(path: &Path) -> bool {
    let mut head = Vec::with_capacity(4096);
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let rest = text.trim_start_matches('\u{feff}').trim_start();
    let Some(rest) = rest.strip_prefix('{') else {
        return false;
    };
    let Some(rest) = rest.trim_start().strip_prefix('"') else {
        return false;
    };
    let key = rest.split('"').next().unwrap_or_default();
    config::FILE_FIELDS.contains(&key)
}

/// A sources file whose exports are imported, waiting for the native inventories it lists
/// under `inventory:`: the caller reads those ([`Imported::inventories`]), then
/// [`Imported::correlate`] ties the accounts to people.
pub struct Imported {
    cfg: Config,
    imp: Import,
}

impl Imported {
    /// The native inventories the file lists, each with where it lists it (paths are
    /// relative to the sources file's directory already).
    pub fn inventories(&self) -> &[(PathBuf, Loc)] {
        &self.cfg.inventory
    }

    /// Ties the imported accounts to the people of `inv` (which holds the native
    /// inventories by now) and adds the records to it; the map file and the exports are
    /// added to `read`. The records are not validated here (the caller validates the
    /// merged inventory once).
    pub fn correlate(self, inv: &mut Inventory, sink: &mut Problems, read: &mut Vec<String>) {
        let Imported { cfg, mut imp } = self;
        if let Some((path, _)) = &cfg.map {
            read.push(path.display().to_string());
        }
        read.append(&mut imp.files);
        inv.authorizations.absorb(std::mem::take(&mut imp.authorizations));
        correlate::run(&cfg, imp, inv, sink);
    }
}

/// Reads the sources file `src` (parsed as `root`) and imports every export it lists, as
/// of the review date `as_of` (today when `None`; it decides which SAP role assignments
/// are held); `src` is added to `read`. `None` when the file itself is invalid (reported).
pub fn import(
    src: &Arc<Source>,
    root: &Node,
    as_of: Option<DateTime<Utc>>,
    sink: &mut Problems,
    read: &mut Vec<String>,
) -> Option<Imported> {
    read.push(src.name().to_owned());
    let base = Path::new(src.name()).parent().unwrap_or_else(|| Path::new(""));
    let cfg = config::parse(root, base, sink)?;
    let mut imp = Import {
        as_of,
        ..Import::default()
    };
    for spec in &cfg.specs {
        match spec.kind {
            Kind::HrCsv => hr::read(spec, &mut imp, sink),
            Kind::AwsCredentialReport => aws_credential_report::read(spec, &mut imp, sink),
            Kind::AwsAuthorizationDetails => aws_authorization_details::read(spec, &mut imp, sink),
            Kind::Scim => scim::read(spec, &mut imp, sink),
            Kind::Entra => entra::read(spec, &mut imp, sink),
            Kind::Okta => okta::read(spec, &mut imp, sink),
            Kind::Baton => baton::read(spec, &mut imp, sink),
            Kind::Sap => sap::read(spec, &mut imp, sink),
        }
    }
    Some(Imported { cfg, imp })
}

/// Reads an export file as text, noting it for the evidence manifest.
pub(crate) fn export(spec: &Spec, imp: &mut Import, sink: &mut Problems) -> Option<Arc<Source>> {
    export_file(&spec.path, spec, imp, sink)
}

/// Reads one file of an export (a SCIM directory holds several).
pub(crate) fn export_file(path: &Path, spec: &Spec, imp: &mut Import, sink: &mut Problems) -> Option<Arc<Source>> {
    match crate::text::read_as(path, "path", spec.encoding) {
        Ok(src) => {
            imp.files.push(src.name().to_owned());
            Some(src)
        }
        Err(mut p) => {
            if p.loc.is_none() {
                p.loc = Some(spec.loc.clone());
                p.help = Some(format!(
                    "check the `path` of this `{}` source (paths are relative to the sources file)",
                    spec.kind.as_str()
                ));
            }
            sink.push(p);
            None
        }
    }
}

/// The JSON documents of an export given as one file or as a directory of `.json` files
/// (read in name order), each parsed with its locations; unreadable files are reported.
pub(crate) fn json_docs(spec: &Spec, imp: &mut Import, sink: &mut Problems) -> Vec<Node> {
    json_tree(spec, imp, sink, false).into_iter().map(|(_, n)| n).collect()
}

/// Like [`json_docs`], each document with its path relative to the export directory
/// (`/`-separated; empty for a single file), subdirectories included when `recursive`.
pub(crate) fn json_tree(spec: &Spec, imp: &mut Import, sink: &mut Problems, recursive: bool) -> Vec<(String, Node)> {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    if spec.path.is_dir() {
        let mut dirs = vec![spec.path.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(d) => d,
                Err(e) => {
                    sink.push(
                        crate::text::io_problem(&dir.display().to_string(), &e, "path")
                            .with_help(format!("check the `path` of this `{}` source", spec.kind.as_str())),
                    );
                    continue;
                }
            };
            for p in entries.filter_map(Result::ok).map(|e| e.path()) {
                if p.is_dir() {
                    if recursive {
                        dirs.push(p);
                    }
                } else if crate::inventory::is_json(&p) {
                    files.push(p);
                }
            }
        }
        files.sort();
        if files.is_empty() {
            sink.push(shape(
                spec.loc.clone(),
                format!("directory `{}` holds no `.json` file", spec.path.display()),
                format!("put the `{}` export there as `.json` files", spec.kind.as_str()),
            ));
        }
    } else {
        files.push(spec.path.clone());
    }
    let mut docs = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&spec.path)
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        if let Some(src) = export_file(f, spec, imp, sink) {
            match crate::json::value(&src) {
                Ok(root) => docs.push((rel, root)),
                Err(p) => sink.push(p),
            }
        }
    }
    docs
}

/// The DT901 problem: the export lacks what its type documents.
pub(crate) fn shape(loc: Loc, message: impl Into<String>, help: impl Into<String>) -> Problem {
    Problem::error(Code::ExportShape, Some(loc), message).with_help(help.into())
}
