//! The sources file (`sources.yaml`, given to `--inventory` or `import --sources`), as read
//! by `sources/config.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::common::Id;
use super::inventory::Status;

/// Exports to read instead of (or besides) a native inventory: an HR feed and the exports
/// of the systems under review. Paths are relative to this file. Accounts are tied to the
/// people of the HR feed (`correlate`); a human account that matches nobody is reported as
/// an uncorrelated (orphaned) account.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SourcesFile {
    /// The exports, each read by the importer its `type` names.
    pub sources: Vec<Source>,
    /// Native inventory files or directories merged in, for systems and records that no
    /// export covers.
    pub inventory: Option<OneOrMany>,
    /// How accounts are tied to people.
    pub correlate: Option<Correlate>,
}

/// A path, or a list of paths.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One path.
    One(String),
    /// Several paths.
    Many(Vec<String>),
}

/// One export.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Source {
    /// Which importer reads it.
    #[serde(rename = "type")]
    pub kind: SourceType,
    /// The export file (or a directory of `.json` files for `scim`, `entra`, `okta` and
    /// `baton`; the directory of table files for `sap`), relative to the sources file.
    pub path: String,
    /// The system its records are on: an id, or `{id, name}`. Default: derived from the
    /// export (`aws:<account id>` for AWS, `scim` for SCIM).
    pub system: Option<SystemRef>,
    /// Marks the system SOX in scope. Default `false`.
    #[schemars(extend("default" = false))]
    pub sox_in_scope: Option<bool>,
    /// The system owner: an identity id, or an email, login or employee id of an HR person.
    pub owner: Option<Id>,
    /// The system's environment, e.g. `production`.
    pub environment: Option<String>,
    /// `hr-csv` only: person field → CSV column (default: the field's own name).
    pub columns: Option<Columns>,
    /// `hr-csv` only: HR status value → `active`, `disabled` or `terminated` (the three
    /// names themselves are understood in any case).
    pub status_values: Option<BTreeMap<String, Status>>,
    /// The encoding of export files without a byte-order mark: `utf-8` (default),
    /// `utf-16le`, `utf-16be`, `windows-1252` (Excel's "CSV" on Windows) or `latin1`. A
    /// byte-order mark, when present, decides.
    pub encoding: Option<String>,
    /// Dates in a local form: one chrono pattern or a list of them (`%m/%d/%Y`,
    /// `%d.%m.%Y`), tried after the ISO forms, `/Date(ms)/` and `YYYYMMDD`.
    pub date_format: Option<OneOrMany>,
    /// CSV exports: the field separator (one character, or `tab`); detected from the
    /// header when not given.
    pub delimiter: Option<String>,
    /// `hr-csv` given as an XLSX workbook (`path` ends in `.xlsx`), or `sap` tables saved
    /// as workbooks: the worksheet to read
    /// (default: the first).
    pub sheet: Option<String>,
}

/// The export types.
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceType {
    /// A people feed from HR (CSV); the source of truth for status, manager, termination.
    HrCsv,
    /// The AWS IAM credential report: CSV, or the JSON of `get-credential-report`.
    AwsCredentialReport,
    /// The JSON of `aws iam get-account-authorization-details`.
    AwsAuthorizationDetails,
    /// SCIM 2.0 Users and Groups: a ListResponse, a resource, or a directory of them.
    Scim,
    /// Microsoft Entra ID as Microsoft Graph JSON (`{"value": [...]}` pages, arrays or
    /// objects): users, service principals, applications, app role and directory role
    /// assignments. A file or a directory of them.
    Entra,
    /// Okta Management API responses saved under their API paths (`users.json`,
    /// `groups/<id>/users.json`, `apps/<id>/users.json`, `api-tokens.json` …): users,
    /// group memberships, app assignments and API tokens. A file or a directory.
    Okta,
    /// The JSON output of `baton resources`, `baton entitlements` and `baton grants`
    /// (ConductorOne Baton): accounts with the user or secret trait, and grants as
    /// entitlements. A file or a directory.
    Baton,
    /// An SAP ECC or S/4HANA extract: a directory holding tables `USR02`, `AGR_USERS`,
    /// `AGR_1251` and optionally `AGR_AGRS`, each as `.csv`, `.txt` (SE16N's
    /// tab-separated download) or `.xlsx`, with technical field names as columns.
    Sap,
}

/// A system id, or its id and name.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum SystemRef {
    /// The system id.
    Id(String),
    /// Id and display name.
    Named(NamedSystem),
}

/// A system's id and display name.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NamedSystem {
    /// System id.
    pub id: Id,
    /// Display name.
    pub name: Option<String>,
}

/// The CSV columns of the HR feed's person fields.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Columns {
    /// The person id (required in the feed).
    pub id: Option<String>,
    /// Work email (a correlation key).
    pub email: Option<String>,
    /// Login or user name (a correlation key).
    pub login: Option<String>,
    /// Employee number (a correlation key; default: the person id).
    pub employee_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Employment status (mapped by `status_values`).
    pub status: Option<String>,
    /// The manager's person id, email or login.
    pub manager: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Termination date.
    pub terminated_at: Option<String>,
    /// Hire or creation date.
    pub created_at: Option<String>,
}

/// How accounts are tied to people.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Correlate {
    /// Keys an account and a person must share, tried together (default all three). Two
    /// people matching one account is an error.
    pub keys: Option<Vec<CorrelationKey>>,
    /// A CSV file `system,account,person` naming the person of an account explicitly (it
    /// wins over the keys; `system` may be empty).
    pub map: Option<String>,
}

/// A correlation key.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKey {
    /// Email (case-insensitive; an account login that is an email counts).
    Email,
    /// Login or user name (case-insensitive).
    Login,
    /// Employee number.
    EmployeeId,
}
