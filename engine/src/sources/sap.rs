//! `sap`: an SAP ECC or S/4HANA extract of users and roles, a directory holding one file
//! per table (`USR02`, `AGR_USERS`, `AGR_1251`, optionally `AGR_AGRS`), each as CSV, as
//! SE16N's tab-separated text download (`.txt`) or as an XLSX workbook, with the tables'
//! technical field names as columns. Users become accounts (dialog users people; system,
//! communication and service users non-human identities), role assignments held at the
//! review date become entitlements, and the roles' authorization values go to the
//! inventory's authorization table ([`crate::inventory::authz`]), where rulesets read them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::authz::{Range, RoleBook};
use crate::inventory::{IdentityKind, Status};
use crate::node::Node;
use crate::source::{Loc, Source};

use super::build::{account_id, Accounts};
use super::util::{self, date_text};
use super::{export_file, shape, Account, Grant, Import, Spec};

/// The tables read, the columns each must have, and whether the table must be there.
const TABLES: [(&str, &[&str], bool); 4] = [
    ("USR02", &["BNAME", "USTYP"], true),
    ("AGR_USERS", &["UNAME", "AGR_NAME", "FROM_DAT", "TO_DAT"], true),
    ("AGR_1251", &["AGR_NAME", "OBJECT", "AUTH", "FIELD", "LOW"], true),
    ("AGR_AGRS", &["AGR_NAME", "CHILD_AGR"], false),
];

/// The file extensions a table may have.
const EXTENSIONS: &[&str] = &["csv", "txt", "xlsx"];

/// SE16N's dates in the user's `DD.MM.YYYY` style, tried after the source's own patterns.
const DOTTED: &str = "%d.%m.%Y";

/// Reads one SAP extract; the review date decides which users are expired and which role
/// assignments are held (today when the run gives none).
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let day = imp.as_of.unwrap_or_else(Utc::now).date_naive();
    let system = imp.system(spec, "sap", None);
    let Some(files) = table_files(spec, sink) else { return };
    let read = Reader {
        spec,
        formats: spec.date_formats.iter().cloned().chain([DOTTED.to_owned()]).collect(),
        day,
    };
    let mut tables: BTreeMap<&str, Vec<Node>> = BTreeMap::new();
    for ((name, columns, _), file) in TABLES.iter().zip(files) {
        let Some(file) = file else { continue };
        if let Some(rows) = read.table(&file, name, columns, imp, sink) {
            tables.insert(name, rows);
        }
    }
    // A required table that did not load is reported already; nothing is half-imported.
    if TABLES
        .iter()
        .any(|(n, _, required)| *required && !tables.contains_key(n))
    {
        return;
    }
    let rows = |name: &str| tables.get(name).map_or(&[][..], Vec::as_slice);
    let mut book = RoleBook::default();
    read.authorizations(rows("AGR_1251"), &mut book, sink);
    read.composites(rows("AGR_AGRS"), &mut book, sink);
    let (mut accounts, reference) = read.users(&system, rows("USR02"), sink);
    read.assignments(&system, rows("AGR_USERS"), &mut book, &reference, &mut accounts, sink);
    imp.accounts.extend(accounts.into_sorted());
    let mut one = crate::inventory::authz::Authorizations::default();
    one.systems.insert(system, book);
    imp.authorizations.absorb(one);
}

/// The file of each table in [`TABLES`] order (`None` for an optional table that is not
/// there); `None` when the directory cannot be read or a required table is missing.
fn table_files(spec: &Spec, sink: &mut Problems) -> Option<Vec<Option<PathBuf>>> {
    let entries = match std::fs::read_dir(&spec.path) {
        Ok(d) => d,
        Err(e) => {
            sink.push(
                crate::text::io_problem(&spec.path.display().to_string(), &e, "path").with_help(
                    "a `sap` source's `path` is a directory holding USR02, AGR_USERS, AGR_1251 (and AGR_AGRS)",
                ),
            );
            return None;
        }
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    let mut out = Vec::new();
    let mut ok = true;
    for (name, _, required) in TABLES {
        let of_table: Vec<&PathBuf> = found
            .iter()
            .filter(|p| {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                let ext = p.extension().and_then(|s| s.to_str()).unwrap_or_default();
                stem.eq_ignore_ascii_case(name) && EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(ext))
            })
            .collect();
        match of_table.as_slice() {
            [] if required => {
                sink.push(shape(
                    spec.loc.clone(),
                    format!("the SAP extract `{}` has no `{name}` table", spec.path.display()),
                    format!(
                        "save table `{name}` there as `{name}.csv`, `{name}.txt` (SE16N download) or `{name}.xlsx`"
                    ),
                ));
                ok = false;
                out.push(None);
            }
            [] => out.push(None),
            [one] => out.push(Some((*one).clone())),
            several => {
                let names: Vec<String> = several.iter().map(|p| format!("`{}`", p.display())).collect();
                sink.push(shape(
                    spec.loc.clone(),
                    format!(
                        "the SAP extract has {} files for table `{name}`: {}",
                        several.len(),
                        names.join(", ")
                    ),
                    "keep one file per table",
                ));
                ok = false;
                out.push(None);
            }
        }
    }
    ok.then_some(out)
}

/// What every table of one extract is read with.
struct Reader<'a> {
    spec: &'a Spec,
    /// The source's `date_format` patterns, then `DD.MM.YYYY`.
    formats: Vec<String>,
    /// The review date.
    day: NaiveDate,
}

impl Reader<'_> {
    /// The rows of table `name` read from `path`, or `None` when the file cannot be read
    /// or lacks one of `columns`.
    fn table(
        &self,
        path: &Path,
        name: &str,
        columns: &[&str],
        imp: &mut Import,
        sink: &mut Problems,
    ) -> Option<Vec<Node>> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let src: Arc<Source> = if ext == "xlsx" {
            match crate::xlsx::read(path, "path", self.spec.sheet.as_deref()) {
                Ok(src) => {
                    imp.files.push(src.name().to_owned());
                    src
                }
                Err(p) => {
                    sink.push(p);
                    return None;
                }
            }
        } else {
            export_file(path, self.spec, imp, sink)?
        };
        // A worksheet is read as `,`-separated text; SE16N's text download is
        // tab-separated; a CSV's separator is the source's or the header's.
        let delimiter = match ext.as_str() {
            "xlsx" => Some(b','),
            "txt" => self.spec.delimiter.or(Some(b'\t')),
            _ => self.spec.delimiter,
        };
        let (headers, rows) = util::csv(&src, delimiter, sink);
        let header: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut ok = true;
        for column in columns {
            if !header.iter().any(|h| h.eq_ignore_ascii_case(column)) {
                sink.push(
                    shape(
                        src.loc_to_eol(0),
                        format!("table `{name}` has no `{column}` column"),
                        format!(
                            "{}; columns are the table's technical field names ({})",
                            suggest(column, &header),
                            columns.join(", ")
                        ),
                    )
                    .with_label("header row"),
                );
                ok = false;
            }
        }
        ok.then_some(rows)
    }

    /// A date cell in one of SE16N's styles (`YYYYMMDD`, `DD.MM.YYYY`, or the source's
    /// `date_format`); `00000000` and `00.00.0000` are no date, `99991231` and
    /// `31.12.9999` no end.
    fn date(&self, row: &Node, key: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
        let node = util::get(row, key)?;
        let text = node.scalar_text()?;
        let t = text.trim();
        if matches!(t, "00.00.0000" | "31.12.9999") {
            return None;
        }
        date_text(t, node, key, &self.formats, sink)
    }

    /// `AGR_1251`: each row one value of one field of one authorization of a role;
    /// `DELETED = X` rows are no value.
    fn authorizations(&self, rows: &[Node], book: &mut RoleBook, sink: &mut Problems) {
        for row in rows {
            if util::text(row, "DELETED").is_some_and(|d| d.eq_ignore_ascii_case("X")) {
                continue;
            }
            let Some([role, object, auth, field]) =
                required(row, "AGR_1251", ["AGR_NAME", "OBJECT", "AUTH", "FIELD"], sink)
            else {
                continue;
            };
            let low = util::get(row, "LOW").and_then(Node::scalar_text).unwrap_or_default();
            let high = util::get(row, "HIGH").and_then(Node::scalar_text).unwrap_or_default();
            book.roles
                .entry(role)
                .or_default()
                .authorization_mut(&object, &auth)
                .allow(&field, Range::new(&low, &high));
        }
    }

    /// `AGR_AGRS`: the single roles each composite role contains.
    fn composites(&self, rows: &[Node], book: &mut RoleBook, sink: &mut Problems) {
        let mut children: BTreeMap<String, (BTreeSet<String>, Loc)> = BTreeMap::new();
        for row in rows {
            let Some([parent, child]) = required(row, "AGR_AGRS", ["AGR_NAME", "CHILD_AGR"], sink) else {
                continue;
            };
            children
                .entry(parent)
                .or_insert_with(|| (BTreeSet::new(), row.loc.clone()))
                .0
                .insert(child);
        }
        for (parent, (kids, at)) in children {
            for kid in &kids {
                if !book.knows(kid) {
                    sink.push(
                        Problem::warning(
                            Code::SapReference,
                            Some(at.clone()),
                            format!("composite role `{parent}` contains `{kid}`, which has no authorization in AGR_1251"),
                        )
                        .with_help("holding the composite gives nothing through that role; check the AGR_1251 extract covers every role"),
                    );
                }
            }
            book.roles.entry(parent).or_default().children = kids.into_iter().collect();
        }
    }

    /// `USR02`: one account per user; reference users (`USTYP` L) are no identity and are
    /// returned by name, with a note saying how many there were.
    fn users(&self, system: &str, rows: &[Node], sink: &mut Problems) -> (Accounts, BTreeSet<String>) {
        let mut accounts = Accounts::default();
        let mut reference = BTreeSet::new();
        let mut first_reference: Option<Loc> = None;
        for row in rows {
            let Some([user]) = required(row, "USR02", ["BNAME"], sink) else {
                continue;
            };
            let ustyp = util::text(row, "USTYP").unwrap_or_default().to_ascii_uppercase();
            let (kind, label) = match ustyp.as_str() {
                "A" => (IdentityKind::Human, "dialog"),
                "B" => (IdentityKind::ServiceAccount, "system"),
                "C" => (IdentityKind::ServiceAccount, "communication"),
                "S" => (IdentityKind::ServiceAccount, "service"),
                "L" => {
                    first_reference.get_or_insert_with(|| row.loc.clone());
                    reference.insert(user);
                    continue;
                }
                other => {
                    let at = util::get(row, "USTYP").map_or(&row.loc, |n| &n.loc);
                    sink.push(
                        Problem::error(
                            Code::BadValue,
                            Some(at.clone()),
                            format!("user `{user}` has user type `{other}`"),
                        )
                        .with_label("not a user type")
                        .with_help("USR02 `USTYP` is `A` (dialog), `B` (system), `C` (communication), `S` (service) or `L` (reference)"),
                    );
                    continue;
                }
            };
            let mut acc = Account::new(system, &user, &row.loc);
            acc.kind = Some(kind);
            acc.login = Some(user.clone());
            acc.tags.push(("sap_user_type".to_owned(), label.to_owned()));
            let lock = self.lock(row, &user, sink);
            let valid_to = self.date(row, "GLTGB", sink);
            let expired = valid_to.is_some_and(|d| d.date_naive() < self.day);
            if let Some(flag) = &lock {
                acc.tags.push(("sap_lock".to_owned(), flag.clone()));
            }
            if let Some(d) = valid_to {
                acc.tags
                    .push(("sap_valid_to".to_owned(), d.format("%Y-%m-%d").to_string()));
            }
            acc.status = Some(if lock.is_some() || expired {
                Status::Disabled
            } else {
                Status::Active
            });
            acc.last_seen = self.date(row, "TRDAT", sink);
            acc.created_at = self.date(row, "ERDAT", sink);
            accounts.add(acc);
        }
        if let Some(at) = first_reference {
            sink.push(
                Problem::note(
                    Code::SapReferenceUsers,
                    Some(at),
                    format!(
                        "{} reference user(s) (`USTYP` L) skipped: a reference user is not an identity",
                        reference.len()
                    ),
                )
                .with_label("first reference user")
                .with_help(
                    "dialog users inherit a reference user's roles through USREFUS, which this source does not read",
                ),
            );
        }
        (accounts, reference)
    }

    /// The lock flag `UFLAG` of a locked user (`None`: not locked, `0` or absent).
    fn lock(&self, row: &Node, user: &str, sink: &mut Problems) -> Option<String> {
        let flag = util::text(row, "UFLAG")?;
        match flag.parse::<u32>() {
            Ok(0) => None,
            Ok(_) => Some(flag),
            Err(_) => {
                let at = util::get(row, "UFLAG").map_or(&row.loc, |n| &n.loc);
                sink.push(
                    Problem::error(
                        Code::BadValue,
                        Some(at.clone()),
                        format!("user `{user}` has lock flag `{flag}`"),
                    )
                    .with_label("not a number")
                    .with_help("USR02 `UFLAG` is a number: `0` unlocked, anything else locked"),
                );
                None
            }
        }
    }

    /// `AGR_USERS`: a role assignment held at the review date (from `FROM_DAT` to `TO_DAT`,
    /// both inclusive) is one entitlement, its permission the role's name.
    fn assignments(
        &self,
        system: &str,
        rows: &[Node],
        book: &mut RoleBook,
        reference: &BTreeSet<String>,
        accounts: &mut Accounts,
        sink: &mut Problems,
    ) {
        let mut unknown_roles: BTreeSet<String> = BTreeSet::new();
        for row in rows {
            let Some([user, role]) = required(row, "AGR_USERS", ["UNAME", "AGR_NAME"], sink) else {
                continue;
            };
            let from = self.date(row, "FROM_DAT", sink);
            let to = self.date(row, "TO_DAT", sink);
            let held = from.is_none_or(|f| f.date_naive() <= self.day) && to.is_none_or(|t| self.day <= t.date_naive());
            if !held || reference.contains(&user) {
                continue;
            }
            let Some(acc) = accounts.get_mut(&account_id(system, &user)) else {
                sink.push(
                    Problem::warning(
                        Code::SapReference,
                        Some(row.loc.clone()),
                        format!("role `{role}` is assigned to `{user}`, who is not in USR02"),
                    )
                    .with_help("the assignment is not reviewed: SAP has no such user to log on as; check the USR02 extract is complete"),
                );
                continue;
            };
            if !book.knows(&role) && unknown_roles.insert(role.clone()) {
                sink.push(
                    Problem::warning(
                        Code::SapReference,
                        Some(row.loc.clone()),
                        format!("role `{role}` has no authorization in AGR_1251"),
                    )
                    .with_help("the assignment is an entitlement all the same, but no ruleset function can be found in it; check the AGR_1251 extract covers every role"),
                );
            }
            if acc.status == Some(Status::Disabled) {
                book.inactive.insert((row.loc.file().to_owned(), row.loc.line));
            }
            let children = book.role(&role).map(|r| r.children.as_slice()).unwrap_or_default();
            let source = if children.is_empty() {
                "sap: AGR_USERS".to_owned()
            } else {
                format!("sap: AGR_USERS (composite of {})", children.join(", "))
            };
            acc.grant(Grant::new(role, false, source, &row.loc).granted(from).expires(to));
        }
    }
}

/// The cells `keys` of a row of `table`, each trimmed and non-empty; a missing one is a
/// DT104 error at the row (all of them reported).
fn required<const N: usize>(row: &Node, table: &str, keys: [&str; N], sink: &mut Problems) -> Option<[String; N]> {
    let mut missing = Vec::new();
    let values = keys.map(|k| {
        util::text(row, k).unwrap_or_else(|| {
            missing.push(format!("`{k}`"));
            String::new()
        })
    });
    if missing.is_empty() {
        return Some(values);
    }
    sink.push(
        Problem::error(
            Code::MissingField,
            Some(row.loc.clone()),
            format!("`{table}` row has no {}", missing.join(", ")),
        )
        .with_label("empty cell")
        .with_help("every row of the table names these fields"),
    );
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::inventory::authz::TCODE_FIELD;
    use crate::inventory::Inventory;

    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sources/sap");

    fn as_of() -> Option<DateTime<Utc>> {
        crate::node::parse_date("2026-10-01")
    }

    fn load(sources: &str) -> Inventory {
        let path = Path::new(FIXTURE).join(sources);
        match crate::open::load_as_of(&path, as_of()) {
            Ok((inv, _)) => inv,
            Err(p) => panic!("{sources} does not load: {p:?}"),
        }
    }

    /// Each identity and entitlement as the fields the extract decides, in id order.
    fn records(inv: &Inventory) -> (Vec<String>, Vec<String>) {
        let identities = inv
            .identities
            .iter()
            .map(|i| {
                format!(
                    "{} {} {} seen={:?} created={:?} {:?}",
                    i.id,
                    i.kind.as_str(),
                    i.status.as_str(),
                    i.last_seen,
                    i.created_at,
                    i.tags
                )
            })
            .collect();
        let entitlements = inv
            .entitlements
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {} from={:?} to={:?} {:?}",
                    e.id, e.identity.value, e.system.value, e.permission, e.granted_at, e.expires_at, e.source
                )
            })
            .collect();
        (identities, entitlements)
    }

    #[test]
    fn se16n_text_with_dotted_dates_reads_as_the_csv_does() {
        let csv = load("sources-csv.yaml");
        let txt = load("sources-txt.yaml");
        assert_eq!(records(&csv), records(&txt));
        // The same roles; the same assignment rows marked inactive (in each its own file).
        let books = |inv: &Inventory| {
            inv.authorizations
                .systems
                .iter()
                .map(|(s, b)| {
                    (
                        s.clone(),
                        b.roles.clone(),
                        b.inactive.iter().map(|(_, l)| *l).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(books(&csv), books(&txt));
        assert!(!csv.authorizations.is_empty());
    }

    #[test]
    fn users_roles_and_authorizations_of_the_extract() {
        let inv = load("sources-csv.yaml");
        let who = |id: &str| inv.identity(id).unwrap_or_else(|| panic!("no identity `{id}`"));
        // Dialog users are people, correlated to HR by login (then HR's status applies:
        // MBROWN is locked but active in HR); KLEE is in no HR feed, so her SAP status
        // stands.
        assert_eq!(who("E100").kind, IdentityKind::Human);
        assert_eq!(who("E102").status, Status::Active);
        assert_eq!(who("sap-p01:KLEE").status, Status::Disabled, "valid to 2026-06-30");
        assert_eq!(who("sap-p01:KLEE").kind, IdentityKind::Human);
        assert_eq!(who("E100").last_seen, crate::node::parse_date("2026-09-15"));
        assert_eq!(who("sap-p01:KLEE").last_seen, crate::node::parse_date("2026-06-01"));
        assert_eq!(who("sap-p01:KLEE").created_at, crate::node::parse_date("2021-01-01"));
        // System, communication and service users are NHIs; the reference user is none.
        for (id, label) in [
            ("sap-p01:BATCH_FI", "system"),
            ("sap-p01:RFC_BANK", "communication"),
            ("sap-p01:WEB_SHOP", "service"),
        ] {
            let nhi = who(id);
            assert_eq!(nhi.kind, IdentityKind::ServiceAccount, "{id}");
            assert!(
                nhi.tags.contains(&("sap_user_type".to_owned(), label.to_owned())),
                "{id}"
            );
        }
        assert_eq!(who("sap-p01:RFC_BANK").last_seen, None, "00000000 is no date");
        assert!(inv.identity("sap-p01:REF_AP_CLERK").is_none());
        assert!(inv.identities.iter().all(|i| !i.id.contains("GHOST")));
        // Held assignments only: JSMITH's expired GL role and future admin role are not.
        let held: Vec<(&str, &str)> = inv
            .entitlements
            .iter()
            .map(|e| (&*e.identity.value, &*e.permission))
            .collect();
        assert_eq!(
            held,
            [
                ("E100", "Z_AP_PAYMENT_RUN"),
                ("E100", "Z_AP_VENDOR_MAINT"),
                ("E101", "Z_C_PROCURE_TO_PAY"),
                ("E101", "Z_LEGACY_ROLE"),
                ("E102", "Z_AP_PAYMENT_RUN"),
                ("E102", "Z_AP_VENDOR_MAINT"),
                ("sap-p01:BATCH_FI", "Z_BASIS_USER_ADMIN"),
                ("sap-p01:KLEE", "Z_AP_PAYMENT_RUN"),
                ("sap-p01:RFC_BANK", "Z_AP_PAYMENT_RUN"),
                ("sap-p01:WEB_SHOP", "Z_AP_DISPLAY"),
            ]
        );
        let composite = inv
            .entitlements
            .iter()
            .find(|e| &*e.permission == "Z_C_PROCURE_TO_PAY")
            .and_then(|e| e.source.as_deref());
        assert_eq!(
            composite,
            Some("sap: AGR_USERS (composite of Z_AP_PAYMENT_RUN, Z_AP_VENDOR_MAINT)")
        );
        // The role book: composites give their children, deleted values are gone, ranges
        // and prefixes are kept as written.
        let book = inv
            .authorizations
            .system("sap-p01")
            .unwrap_or_else(|| panic!("no book"));
        // The locked user's and the expired user's assignments are marked, whoever holds
        // them now.
        let inactive: Vec<u32> = book.inactive.iter().map(|(_, line)| *line).collect();
        assert_eq!(inactive, [7, 8, 15], "MBROWN's two rows and KLEE's");
        let locked = inv
            .entitlements
            .iter()
            .filter(|e| book.is_inactive(&e.loc))
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>();
        assert_eq!(
            locked,
            [
                "E102:sap-p01:Z_AP_PAYMENT_RUN",
                "E102:sap-p01:Z_AP_VENDOR_MAINT",
                "sap-p01:KLEE:sap-p01:Z_AP_PAYMENT_RUN"
            ]
        );
        assert_eq!(
            book.singles("Z_C_PROCURE_TO_PAY"),
            ["Z_AP_PAYMENT_RUN", "Z_AP_VENDOR_MAINT", "Z_C_PROCURE_TO_PAY"]
        );
        let tcodes = |role: &str| -> Vec<String> {
            book.role(role)
                .map(|r| r.tcodes().map(Range::text).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            tcodes("Z_BASIS_USER_ADMIN"),
            ["SU*"],
            "the deleted SE16N row does not count"
        );
        assert_eq!(tcodes("Z_AP_VENDOR_MAINT"), ["XK01", "FK01–FK03"]);
        let vendor = book.role("Z_AP_VENDOR_MAINT").map(|r| &r.authorizations);
        let app = vendor
            .and_then(|a| a.iter().find(|a| a.object == "F_LFA1_APP"))
            .unwrap_or_else(|| panic!("no F_LFA1_APP"));
        assert_eq!(app.auth, "T-AP00000101");
        assert!(app.covers("ACTVT", "02") && app.covers("APPKZ", "F") && !app.covers("ACTVT", "03"));
        assert!(!app.covers(TCODE_FIELD, "XK01"));
    }

    #[test]
    fn the_extract_says_what_it_skipped_and_what_it_cannot_resolve() {
        let inv = load("sources-csv.yaml");
        let said: Vec<String> = inv
            .warnings
            .0
            .iter()
            .filter(|p| matches!(p.code, Code::SapReference | Code::SapReferenceUsers))
            .map(|p| {
                format!(
                    "{} {} {}",
                    p.code.as_str(),
                    p.loc.as_ref().map(ToString::to_string).unwrap_or_default(),
                    p.message
                )
            })
            .collect();
        let file = |t: &str| format!("{FIXTURE}/csv/{t}.csv");
        assert_eq!(
            said,
            [
                format!(
                    "DT905 {}:13 role `Z_AP_VENDOR_MAINT` is assigned to `GHOST`, who is not in USR02",
                    file("AGR_USERS")
                ),
                format!(
                    "DT905 {}:14 role `Z_LEGACY_ROLE` has no authorization in AGR_1251",
                    file("AGR_USERS")
                ),
                format!(
                    "DT906 {}:9 1 reference user(s) (`USTYP` L) skipped: a reference user is not an identity",
                    file("USR02")
                ),
            ]
        );
    }

    /// The problems of an extract in a temporary directory holding `tables`.
    fn problems(tables: &[(&str, &str)]) -> Vec<String> {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = tmp.path();
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        write("sources.yaml", "sources:\n  - type: sap\n    path: x\n");
        std::fs::create_dir(dir.join("x")).unwrap_or_else(|e| panic!("{e}"));
        for (name, text) in tables {
            write(&format!("x/{name}"), text);
        }
        let found = match crate::open::load_as_of(&dir.join("sources.yaml"), as_of()) {
            Ok((inv, _)) => inv.warnings.0,
            Err(p) => p.0,
        };
        let mut out: Vec<String> = found
            .iter()
            .map(|p| {
                let at = p.loc.as_ref().map_or(String::new(), |l| {
                    let name = Path::new(l.file())
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned());
                    format!("{}:{}", name.unwrap_or_default(), l.line)
                });
                format!("{} {at} {}", p.code.as_str(), p.message)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_bad_row_is_a_coded_diagnostic_at_its_line() {
        let found = problems(&[
            (
                "USR02.csv",
                "BNAME,USTYP,UFLAG,GLTGB\nA1,A,0,20261301\n,A,0,\nA2,X,0,\nA3,A,locked,\n",
            ),
            (
                "AGR_USERS.txt",
                "UNAME\tAGR_NAME\tFROM_DAT\tTO_DAT\nA1\t\t01.01.2025\t31.12.9999\nA1\tR\tsoon\t31.12.9999\n",
            ),
            ("AGR_1251.csv", "AGR_NAME,OBJECT,AUTH,FIELD,LOW\nR,S_TCODE,T1,,XK01\n"),
        ]);
        assert_eq!(
            found,
            [
                "DT104 AGR_1251.csv:2 `AGR_1251` row has no `FIELD`",
                "DT104 AGR_USERS.txt:2 `AGR_USERS` row has no `AGR_NAME`",
                "DT104 USR02.csv:3 `USR02` row has no `BNAME`",
                "DT107 AGR_USERS.txt:3 `FROM_DAT` is not a date: `soon`",
                "DT107 USR02.csv:2 `GLTGB` is not a date: `20261301`",
                "DT108 USR02.csv:4 user `A2` has user type `X`",
                "DT108 USR02.csv:5 user `A3` has lock flag `locked`",
                "DT904 USR02.csv:2 no `hr-csv` source: accounts are not correlated to people",
                "DT905 AGR_USERS.txt:3 role `R` has no authorization in AGR_1251",
            ]
        );
    }

    #[test]
    fn a_missing_table_or_column_or_two_files_for_one_table_is_refused() {
        let found = problems(&[
            ("USR02.csv", "BNAME,USTYP\nA1,A\n"),
            ("AGR_USERS.csv", "UNAME,AGR_NAME,FROM_DAT,TO_DAT\n"),
            ("agr_users.txt", "UNAME\tAGR_NAME\tFROM_DAT\tTO_DAT\n"),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .any(|p| p.contains("DT901") && p.contains("no `AGR_1251` table")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("DT901") && p.contains("2 files for table `AGR_USERS`")),
            "{found:?}"
        );
        let found = problems(&[
            ("USR02.xlsx", "not a workbook"),
            ("AGR_USERS.csv", "UNAME,AGR_NAME,FROM_DAT\n"),
            ("AGR_1251.csv", "AGR_NAME,OBJECT,AUTH,FIELD,LOW\n"),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|p| p.starts_with("DT101 USR02.xlsx")), "{found:?}");
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("DT901 AGR_USERS.csv:1 table `AGR_USERS` has no `TO_DAT` column")),
            "{found:?}"
        );
    }
}
