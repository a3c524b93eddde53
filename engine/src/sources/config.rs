//! The sources file (`sources.yaml`): which exports to read, how, and how to correlate
//! their accounts to people. Parsed strictly: unknown keys get a "did you mean".

use std::path::{Path, PathBuf};

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::Status;
use crate::node::{text_of, Fields, Node, Spanned, Value};
use crate::source::Loc;
use crate::text::Encoding;

/// Top-level keys of a sources file.
pub const FILE_FIELDS: &[&str] = &["sources", "inventory", "correlate"];
/// Keys of one source.
pub const SOURCE_FIELDS: &[&str] = &[
    "type",
    "path",
    "system",
    "sox_in_scope",
    "owner",
    "environment",
    "columns",
    "status_values",
    "encoding",
    "date_format",
    "delimiter",
    "sheet",
];
/// Keys of a source's `system` map.
pub const SYSTEM_FIELDS: &[&str] = &["id", "name"];
/// Keys of `correlate`.
pub const CORRELATE_FIELDS: &[&str] = &["keys", "map"];
/// The person fields an `hr-csv` source's `columns` can map.
pub const HR_FIELDS: &[&str] = &[
    "id",
    "email",
    "login",
    "employee_id",
    "display_name",
    "status",
    "manager",
    "department",
    "terminated_at",
    "created_at",
];

/// The kinds of export a source can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A people feed from HR, as CSV with mapped columns.
    HrCsv,
    /// The AWS IAM credential report (CSV, or the JSON of `get-credential-report`).
    AwsCredentialReport,
    /// The JSON of `aws iam get-account-authorization-details`.
    AwsAuthorizationDetails,
    /// SCIM 2.0 (RFC 7643) Users and Groups.
    Scim,
    /// Microsoft Entra ID as Microsoft Graph JSON.
    Entra,
    /// Okta Management API responses saved as JSON.
    Okta,
    /// The JSON the ConductorOne `baton` CLI prints for resources and grants.
    Baton,
    /// An SAP extract: a directory of `USR02`, `AGR_USERS`, `AGR_1251` and `AGR_AGRS`.
    Sap,
}

crate::names!(Kind {
    HrCsv = "hr-csv",
    AwsCredentialReport = "aws-credential-report",
    AwsAuthorizationDetails = "aws-authorization-details",
    Scim = "scim",
    Entra = "entra",
    Okta = "okta",
    Baton = "baton",
    Sap = "sap",
});

/// A correlation key: which account and person attribute must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Email address (case-insensitive).
    Email,
    /// Login or user name (case-insensitive).
    Login,
    /// Employee number.
    EmployeeId,
}

crate::names!(Key {
    Email = "email",
    Login = "login",
    EmployeeId = "employee_id",
});

/// The system a source's records are on, when the sources file names it.
#[derive(Debug, Clone)]
pub struct SystemSpec {
    /// System id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
}

/// One entry of `sources`.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Which importer reads it.
    pub kind: Kind,
    /// The export, resolved against the sources file's directory.
    pub path: PathBuf,
    /// The system, when given.
    pub system: Option<SystemSpec>,
    /// Marks the system SOX in scope.
    pub sox_in_scope: Option<bool>,
    /// The system owner (an identity id, or an email or login correlated to a person).
    pub owner: Option<Spanned<String>>,
    /// The system's environment.
    pub environment: Option<String>,
    /// `hr-csv`: person field → CSV column.
    pub columns: Vec<(String, String)>,
    /// `hr-csv`: HR status value → inventory status.
    pub status_values: Vec<(String, Status)>,
    /// The encoding of export files without a byte-order mark (UTF-8 when not given).
    pub encoding: Option<Encoding>,
    /// chrono patterns for dates in a local form (`%m/%d/%Y`), tried after the ISO forms.
    pub date_formats: Vec<String>,
    /// The field separator of a CSV export (detected from the header when not given).
    pub delimiter: Option<u8>,
    /// `hr-csv` given as an XLSX workbook: the worksheet to read (the first by default).
    pub sheet: Option<String>,
    /// Where the entry is.
    pub loc: Loc,
}

impl Spec {
    /// The CSV column that holds person field `field` (the field's own name by default).
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns
            .iter()
            .find(|(f, _)| f == field)
            .map_or(field, |(_, c)| c.as_str())
    }
}

/// A parsed sources file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The exports, in file order.
    pub specs: Vec<Spec>,
    /// Native inventory files or directories merged in.
    pub inventory: Vec<(PathBuf, Loc)>,
    /// Correlation keys, in the order tried (all three by default).
    pub keys: Vec<Key>,
    /// An explicit account → person map (CSV `system,account,person`).
    pub map: Option<(PathBuf, Loc)>,
}

/// True when `root` is a sources file: a map with a `sources` key.
pub fn is_sources(root: &Node) -> bool {
    matches!(&root.value, Value::Map(entries) if entries.iter().any(|(k, _, _)| k == "sources"))
}

fn resolve(base: &Path, rel: &str) -> PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Parses a sources file whose directory is `base`; `None` when it is unusable.
pub fn parse(root: &Node, base: &Path, sink: &mut Problems) -> Option<Config> {
    let f = Fields::new(root, "sources file", FILE_FIELDS, sink)?;
    let mut cfg = Config {
        keys: Key::CHOICES.iter().map(|(_, k)| *k).collect(),
        ..Config::default()
    };
    match f.get("sources") {
        Some(node) => match node.as_seq("`sources`") {
            Ok(items) => cfg.specs = items.iter().filter_map(|i| spec(i, base, sink)).collect(),
            Err(p) => sink.push(p),
        },
        None => sink.push(
            Problem::error(
                Code::MissingField,
                Some(root.loc.clone()),
                "sources file has no `sources` list",
            )
            .with_help("list the exports under `sources:` (each with `type` and `path`)"),
        ),
    }
    cfg.inventory = f
        .opt_list("inventory", sink)
        .into_iter()
        .map(|s| (resolve(base, &s.value), s.loc))
        .collect();
    if let Some(node) = f.get("correlate") {
        if let Some(c) = Fields::new(node, "`correlate`", CORRELATE_FIELDS, sink) {
            if c.get("keys").is_some() {
                cfg.keys = c
                    .opt_list("keys", sink)
                    .iter()
                    .filter_map(|k| choice(&k.value, &k.loc, "correlation key", Key::CHOICES, sink))
                    .collect();
            }
            cfg.map = c.opt_str("map", sink).map(|m| (resolve(base, &m.value), m.loc));
        }
    }
    Some(cfg)
}

fn choice<T: Copy>(given: &str, loc: &Loc, what: &str, choices: &[(&str, T)], sink: &mut Problems) -> Option<T> {
    if let Some((_, v)) = choices.iter().find(|(n, _)| *n == given) {
        return Some(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    sink.push(
        Problem::error(Code::BadValue, Some(loc.clone()), format!("unknown {what} `{given}`"))
            .with_label("not an allowed value")
            .with_help(suggest(given, &names)),
    );
    None
}

fn spec(node: &Node, base: &Path, sink: &mut Problems) -> Option<Spec> {
    let f = Fields::new(node, "source", SOURCE_FIELDS, sink)?;
    let kind = f.req_str("type", sink);
    let kind = kind.and_then(|k| choice(&k.value, &k.loc, "source type", Kind::CHOICES, sink));
    let path = f.req_str("path", sink);
    let system = f.get("system").and_then(|n| system(n, sink));
    let sox_in_scope = f.opt_bool("sox_in_scope", sink);
    let owner = f.opt_str("owner", sink).filter(|o| !o.value.is_empty());
    let environment = f
        .opt_str("environment", sink)
        .map(|e| e.value)
        .filter(|e| !e.is_empty());
    let mut columns = Vec::new();
    let mut status_values = Vec::new();
    for key in ["columns", "status_values"] {
        let Some(n) = f.get(key) else { continue };
        if kind.is_some_and(|k| k != Kind::HrCsv) {
            sink.push(
                Problem::error(
                    Code::UnknownField,
                    Some(n.loc.clone()),
                    format!("`{key}` applies only to `hr-csv` sources"),
                )
                .with_help(format!("remove `{key}` from this source")),
            );
            continue;
        }
        let Ok(entries) = n.as_map(&format!("`{key}`")).map_err(|p| sink.push(p)) else {
            continue;
        };
        for (k, v, k_loc) in entries {
            let Ok(text) = text_of(v, &format!("`{key}.{k}`")).map_err(|p| sink.push(p)) else {
                continue;
            };
            if key == "columns" {
                if HR_FIELDS.contains(&k.as_str()) {
                    columns.push((k.clone(), text));
                } else {
                    sink.push(
                        Problem::error(
                            Code::UnknownField,
                            Some(k_loc.clone()),
                            format!("unknown person field `{k}` in `columns`"),
                        )
                        .with_label("not a person field")
                        .with_help(suggest(k, HR_FIELDS)),
                    );
                }
            } else if let Some(s) = choice(&text, &v.loc, "status", Status::CHOICES, sink) {
                status_values.push((k.clone(), s));
            }
        }
    }
    let encoding = f.opt_str("encoding", sink).and_then(|e| {
        let parsed = Encoding::parse(&e.value);
        if parsed.is_none() {
            let names: Vec<&str> = Encoding::CHOICES.iter().map(|(n, _)| *n).collect();
            sink.push(
                Problem::error(
                    Code::BadValue,
                    Some(e.loc.clone()),
                    format!("unknown encoding `{}`", e.value),
                )
                .with_label("not an encoding dualtrack reads")
                .with_help(format!("{}; one of {}", suggest(&e.value, &names), names.join(", "))),
            );
        }
        parsed
    });
    let date_formats = f.get("date_format").map(|n| date_formats(n, sink)).unwrap_or_default();
    let delimiter = f.opt_str("delimiter", sink).and_then(|d| delimiter(&d, sink));
    let sheet = f.opt_str("sheet", sink).map(|s| s.value);
    Some(Spec {
        kind: kind?,
        path: resolve(base, &path?.value),
        system,
        sox_in_scope,
        owner,
        environment,
        columns,
        status_values,
        encoding,
        date_formats,
        delimiter,
        sheet,
        loc: f.loc().clone(),
    })
}

/// `date_format`: one chrono pattern or a list of them, each checked to be a pattern that
/// names a year, a month and a day.
fn date_formats(node: &Node, sink: &mut Problems) -> Vec<String> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        let Ok(pattern) = text_of(item, "`date_format`").map_err(|p| sink.push(p)) else {
            continue;
        };
        let bad = chrono::format::StrftimeItems::new(&pattern).any(|i| matches!(i, chrono::format::Item::Error));
        let has = |spec: &[&str]| spec.iter().any(|s| pattern.contains(s));
        if bad || !has(&["%Y", "%y", "%C"]) || !has(&["%m", "%b", "%B", "%h"]) || !has(&["%d", "%e"]) {
            sink.push(
                Problem::error(
                    Code::BadValue,
                    Some(item.loc.clone()),
                    format!("`{pattern}` is not a date pattern"),
                )
                .with_label("not a date pattern")
                .with_help("write a chrono pattern with a year, a month and a day, e.g. `%m/%d/%Y` or `%d.%m.%Y`"),
            );
            continue;
        }
        out.push(pattern);
    }
    out
}

/// `delimiter`: one character (`;`, `,`, `|`), or `tab`.
fn delimiter(given: &Spanned<String>, sink: &mut Problems) -> Option<u8> {
    let d = match given.value.as_str() {
        "tab" | "\\t" | "\t" => Some(b'\t'),
        s if s.len() == 1 && s.is_ascii() => s.bytes().next(),
        _ => None,
    };
    if d.is_none() {
        sink.push(
            Problem::error(
                Code::BadValue,
                Some(given.loc.clone()),
                format!("`{}` is not a CSV delimiter", given.value),
            )
            .with_help("write one character, such as `;` or `|`, or `tab`"),
        );
    }
    d
}

fn system(node: &Node, sink: &mut Problems) -> Option<SystemSpec> {
    if let Value::Map(_) = node.value {
        let f = Fields::new(node, "`system`", SYSTEM_FIELDS, sink)?;
        let id = f.req_str("id", sink)?.value;
        let name = f.opt_str("name", sink).map(|n| n.value);
        return Some(SystemSpec { id, name });
    }
    match text_of(node, "`system`") {
        Ok(id) if !id.is_empty() => Some(SystemSpec { id, name: None }),
        Ok(_) => None,
        Err(p) => {
            sink.push(p.with_help("write the system id, or `{id: …, name: …}`"));
            None
        }
    }
}
