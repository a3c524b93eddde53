//! Ties accounts to people. A human account that matches one HR person (on the
//! `correlate.keys`, or through the `correlate.map` file) is that person's access: its
//! entitlements move to the person, whose HR status, manager and termination apply. A
//! human account that matches nobody stays its own identity, marked `uncorrelated`. Two
//! people matching one account is an error. Owner tags and managers are resolved the same
//! way, so rules see people and non-human identities, never raw accounts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::diag::{Code, Problem, Problems};
use crate::inventory::{Entitlement, Identity, IdentityKind, Inventory, Status};
use crate::node::Spanned;
use crate::source::Loc;

use super::config::{Config, Key};
use super::{util, Import, Person, Ref};

/// One row of the map file: this account is this person.
struct MapRow {
    system: Option<String>,
    account: String,
    person: String,
    loc: Loc,
}

fn same(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// People indexed by each correlation key.
struct People<'a> {
    people: &'a [Person],
    keys: &'a [Key],
}

impl People<'_> {
    /// Indexes of the people an account with these values matches.
    fn matching(&self, email: Option<&str>, login: Option<&str>, employee_id: Option<&str>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for (i, p) in self.people.iter().enumerate() {
            let hit = self.keys.iter().any(|k| match k {
                // A login that is an email address (SCIM and IAM user names often are).
                Key::Email => p
                    .email
                    .as_deref()
                    .is_some_and(|e| same(email, e) || (same(login, e) && e.contains('@'))),
                Key::Login => p.login.as_deref().is_some_and(|l| same(login, l)),
                Key::EmployeeId => p.employee_id.as_deref().is_some_and(|x| employee_id == Some(x)),
            });
            if hit {
                out.insert(i);
            }
        }
        out
    }

    /// The person a free-text reference (owner tag, manager) names: by id, then by key.
    fn named(&self, hint: &str) -> BTreeSet<usize> {
        if let Some(i) = self.people.iter().position(|p| p.id == hint) {
            return BTreeSet::from([i]);
        }
        let mut out = BTreeSet::new();
        for (i, p) in self.people.iter().enumerate() {
            if same(p.email.as_deref(), hint)
                || same(p.login.as_deref(), hint)
                || p.employee_id.as_deref() == Some(hint)
            {
                out.insert(i);
            }
        }
        out
    }
}

fn ambiguous(loc: &Loc, what: &str, people: &[Person], matched: &BTreeSet<usize>) -> Problem {
    let names: Vec<String> = matched
        .iter()
        .filter_map(|i| people.get(*i))
        .map(|p| format!("`{}` ({})", p.id, p.loc))
        .collect();
    Problem::error(
        Code::AmbiguousCorrelation,
        Some(loc.clone()),
        format!("{what} matches {} people: {}", names.len(), names.join(", ")),
    )
    .with_label("matches several people")
    .with_help(
        "fix the duplicate key in the HR feed, or say who it is in the `correlate.map` file (`system,account,person`)",
    )
}

fn read_map(cfg: &Config, sink: &mut Problems) -> Vec<MapRow> {
    let Some((path, loc)) = &cfg.map else { return Vec::new() };
    let src = match crate::text::read(path, "correlate.map") {
        Ok(s) => s,
        Err(mut p) => {
            p.loc.get_or_insert_with(|| loc.clone());
            p.help = Some("check `correlate.map` (paths are relative to the sources file)".to_owned());
            sink.push(p);
            return Vec::new();
        }
    };
    let rows = crate::inventory::load::csv_rows(&src, "correlation map", &["system", "account", "person"], sink);
    rows.iter()
        .filter_map(|r| {
            let (account, person) = (util::text(r, "account"), util::text(r, "person"));
            if account.is_none() || person.is_none() {
                sink.push(
                    Problem::error(
                        Code::MissingField,
                        Some(r.loc.clone()),
                        "map row needs `account` and `person`",
                    )
                    .with_help("write `system,account,person`; `system` may be empty"),
                );
            }
            Some(MapRow {
                system: util::text(r, "system"),
                account: account?,
                person: person?,
                loc: r.loc.clone(),
            })
        })
        .collect()
}

/// Correlates the import and adds its systems, identities and entitlements to `inv`.
pub fn run(cfg: &Config, imp: Import, inv: &mut Inventory, sink: &mut Problems) {
    let Import {
        mut systems,
        people,
        accounts,
        ..
    } = imp;
    let accounts = accounts.into_vec();
    let index = People {
        people: &people,
        keys: &cfg.keys,
    };
    let map = read_map(cfg, sink);
    for row in &map {
        if !people.iter().any(|p| p.id == row.person) {
            // A correlation target outside the data: the row ties nobody, so the account
            // it names stays uncorrelated (and is reported so) unless its keys match.
            sink.push(
                Problem::warning(
                    Code::DanglingReference,
                    Some(row.loc.clone()),
                    format!("map names unknown person `{}`", row.person),
                )
                .with_label("no HR person has this id")
                .with_help("the `person` column holds an id of the HR feed; this row is left out"),
            );
        }
    }
    let has_people = !people.is_empty();
    if !has_people {
        if let Some(first) = accounts
            .iter()
            .find(|a| a.kind.unwrap_or(IdentityKind::Human) == IdentityKind::Human)
        {
            sink.push(
                Problem::note(Code::NoPeople, Some(first.loc.clone()), "no `hr-csv` source: accounts are not correlated to people")
                    .with_help("add the HR feed as an `hr-csv` source, so each account is tied to a person and unmatched accounts are reported"),
            );
        }
    }
    // Account id → the person it is.
    let mut person_of: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &accounts {
        if a.kind.unwrap_or(IdentityKind::Human) != IdentityKind::Human || !has_people {
            continue;
        }
        let mapped = map.iter().find(|m| {
            m.system.as_deref().is_none_or(|s| s == a.system)
                && (m.account == a.id || same(a.login.as_deref(), &m.account) || same(a.email.as_deref(), &m.account))
        });
        let matched = match mapped {
            Some(m) => people.iter().position(|p| p.id == m.person).into_iter().collect(),
            None => index.matching(a.email.as_deref(), a.login.as_deref(), a.employee_id.as_deref()),
        };
        match matched.len() {
            0 => {}
            1 => {
                if let Some(i) = matched.first() {
                    person_of.insert(&a.id, *i);
                }
            }
            _ => sink.push(ambiguous(&a.loc, &format!("account `{}`", a.id), &people, &matched)),
        }
    }
    let final_id = |account: &str| -> String {
        person_of
            .get(account)
            .and_then(|i| people.get(*i))
            .map_or_else(|| account.to_owned(), |p| p.id.clone())
    };
    // Owner tags, managers and system owners: a person, else an account, else as written.
    let resolve = |r: &Ref, loc: &Loc, sink: &mut Problems| -> String {
        match r {
            Ref::Account(a) => final_id(a),
            Ref::Hint(h) => {
                let named = index.named(h);
                if named.len() > 1 {
                    sink.push(ambiguous(loc, &format!("`{h}`"), &people, &named));
                }
                if let Some(p) = named.first().and_then(|i| people.get(*i)) {
                    return p.id.clone();
                }
                accounts
                    .iter()
                    .find(|a| a.id == *h || same(a.login.as_deref(), h) || same(a.email.as_deref(), h))
                    .map_or_else(|| h.clone(), |a| final_id(&a.id))
            }
        }
    };
    for s in &mut systems {
        if let Some(o) = &mut s.owner {
            o.value = resolve(&Ref::Hint(o.value.clone()), &o.loc, sink);
        }
    }
    inv.systems.append(&mut systems);
    // Each person's last authentication anywhere.
    let mut seen: BTreeMap<usize, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
    for a in &accounts {
        if let (Some(i), Some(t)) = (person_of.get(a.id.as_str()), a.last_seen) {
            let e = seen.entry(*i).or_insert(t);
            *e = (*e).max(t);
        }
    }
    for (i, p) in people.iter().enumerate() {
        let manager = p.manager.as_ref().map(|m| {
            let at = p.manager_at.clone().unwrap_or_else(|| p.loc.clone());
            Spanned::new(resolve(&Ref::Hint(m.clone()), &at, sink), at)
        });
        inv.identities.push(Identity {
            id: p.id.clone(),
            kind: IdentityKind::Human,
            display_name: p.display_name.clone(),
            status: p.status,
            owner: None,
            manager,
            department: p.department.clone(),
            terminated_at: p.terminated_at,
            created_at: p.created_at,
            last_seen: seen.get(&i).copied(),
            credential_rotated_at: None,
            credential_expires_at: None,
            interactive_login: false,
            uncorrelated: false,
            sponsors: Vec::new(),
            acts: None,
            delegators: Vec::new(),
            parent: None,
            tags: Vec::new(),
            loc: p.loc.clone(),
        });
    }
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for a in &accounts {
        let identity = final_id(&a.id);
        if !person_of.contains_key(a.id.as_str()) {
            let kind = a.kind.unwrap_or(IdentityKind::Human);
            let owner = a
                .owner
                .as_ref()
                .map(|o| Spanned::new(resolve(o, &a.loc, sink), a.loc.clone()));
            let manager = a.manager.as_ref().map(|m| {
                let at = a.manager_at.clone().unwrap_or_else(|| a.loc.clone());
                Spanned::new(resolve(m, &at, sink), at)
            });
            // Sorted, each person once: two owners' entries that resolve to one person
            // (an id and an email) name one sponsor.
            let mut sponsors: Vec<Spanned<String>> = a
                .sponsors
                .iter()
                .map(|(r, at)| Spanned::new(resolve(r, at, sink), at.clone()))
                .collect();
            sponsors.sort_by(|x, y| x.value.cmp(&y.value));
            sponsors.dedup_by(|x, y| x.value == y.value);
            let parent = a
                .parent
                .as_ref()
                .map(|(r, at)| Spanned::new(resolve(r, at, sink), at.clone()));
            let mut tags = a.tags.clone();
            tags.sort();
            inv.identities.push(Identity {
                id: a.id.clone(),
                kind,
                display_name: a.display_name.clone(),
                status: a.status.unwrap_or(Status::Active),
                owner,
                manager,
                department: a.department.clone(),
                terminated_at: a.terminated_at,
                created_at: a.created_at,
                last_seen: a.last_seen,
                credential_rotated_at: a.credential_rotated_at,
                credential_expires_at: a.credential_expires_at,
                interactive_login: false,
                uncorrelated: has_people && kind == IdentityKind::Human,
                sponsors,
                acts: a.acts,
                delegators: Vec::new(),
                parent,
                tags,
                loc: a.loc.clone(),
            });
        }
        let who: Arc<str> = Arc::from(identity.as_str());
        let system: Arc<str> = Arc::from(a.system.as_str());
        for g in &a.grants {
            let base = match &g.via {
                Some(v) => format!("{identity}:{}:{}:{v}", a.system, g.permission),
                None => format!("{identity}:{}:{}", a.system, g.permission),
            };
            // A person holding one permission through two accounts keeps both records.
            let mut id = base.clone();
            let mut n = 1;
            while ids.contains(&id) {
                n += 1;
                id = format!("{base}#{n}");
            }
            ids.insert(id.clone());
            inv.entitlements.push(Entitlement {
                id,
                identity: Spanned::new(Arc::clone(&who), g.loc.clone()),
                system: Spanned::new(Arc::clone(&system), g.loc.clone()),
                permission: Arc::from(g.permission.as_str()),
                privileged: g.privileged,
                functions: Vec::new(),
                granted_at: g.granted_at,
                last_used: g.last_used,
                justification: None,
                ticket: None,
                expires_at: g.expires_at,
                source: Some(Arc::from(g.source.as_str())),
                loc: g.loc.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::source::Source;
    use crate::sources::{Account, Grant};

    fn at() -> Loc {
        Source::new("export.json", "{}").whole()
    }

    fn person(id: &str, email: &str, status: Status) -> Person {
        Person {
            id: id.to_owned(),
            email: Some(email.to_owned()),
            login: None,
            employee_id: None,
            display_name: None,
            department: None,
            status,
            manager: None,
            manager_at: None,
            terminated_at: None,
            created_at: None,
            loc: at(),
        }
    }

    fn account(id: &str, email: Option<&str>, permission: &str) -> Account {
        let mut a = Account::global(id, "erp", &at());
        a.email = email.map(str::to_owned);
        a.grant(Grant::new(permission, false, "test", &at()));
        a
    }

    /// Correlates `accounts` to `people` with `map` (CSV text) as the map file.
    fn correlate(people: Vec<Person>, accounts: Vec<Account>, map: Option<&str>) -> (Inventory, Problems) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut cfg = Config {
            keys: Key::CHOICES.iter().map(|(_, k)| *k).collect(),
            ..Config::default()
        };
        if let Some(text) = map {
            let path: PathBuf = dir.path().join("map.csv");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            cfg.map = Some((path, at()));
        }
        let imp = Import {
            people,
            accounts: accounts.into_iter().collect(),
            ..Import::default()
        };
        let (mut inv, mut sink) = (Inventory::default(), Problems::default());
        run(&cfg, imp, &mut inv, &mut sink);
        (inv, sink)
    }

    fn holder<'a>(inv: &'a Inventory, permission: &str) -> &'a str {
        inv.entitlements
            .iter()
            .find(|e| &*e.permission == permission)
            .map_or("", |e| &*e.identity.value)
    }

    #[test]
    fn accounts_join_their_person_by_key_and_unmatched_ones_stay_uncorrelated() {
        let people = vec![person("p1", "ada@example.com", Status::Active)];
        let accounts = vec![
            account("erp:ADA", Some("Ada@Example.com"), "FB50"),
            account("erp:ghost", Some("ghost@example.com"), "FB01"),
        ];
        let (inv, sink) = correlate(people, accounts, None);
        assert!(!sink.has_errors(), "{sink:?}");
        assert_eq!(holder(&inv, "FB50"), "p1", "email matches in any case");
        assert_eq!(holder(&inv, "FB01"), "erp:ghost");
        let ghost = inv.identities.iter().find(|i| i.id == "erp:ghost");
        assert!(ghost.is_some_and(|g| g.uncorrelated));
    }

    #[test]
    fn the_map_file_ties_what_keys_cannot_and_wins_over_them() {
        let people = vec![
            person("p1", "ada@example.com", Status::Active),
            person("p2", "bo@example.com", Status::Terminated),
        ];
        let accounts = vec![
            account("erp:svc-ada", None, "FB50"),
            // Its email says p1, the map says p2: the map wins.
            account("erp:shared", Some("ada@example.com"), "FB01"),
        ];
        let map = "system,account,person\nerp,erp:svc-ada,p1\n,erp:shared,p2\n";
        let (inv, sink) = correlate(people, accounts, Some(map));
        assert!(sink.0.is_empty(), "{sink:?}");
        assert_eq!(holder(&inv, "FB50"), "p1");
        assert_eq!(holder(&inv, "FB01"), "p2");
    }

    #[test]
    fn a_map_row_naming_nobody_is_a_warning_and_ties_nothing() {
        let people = vec![person("p1", "ada@example.com", Status::Active)];
        let accounts = vec![account("erp:svc", None, "FB50")];
        let map = "system,account,person\nerp,erp:svc,p9\n";
        let (inv, sink) = correlate(people, accounts, Some(map));
        assert!(!sink.has_errors(), "{sink:?}");
        let codes: Vec<(&str, u32)> = sink
            .0
            .iter()
            .map(|p| (p.code.as_str(), p.loc.as_ref().map_or(0, |l| l.line)))
            .collect();
        assert_eq!(codes, [("DT106", 2)]);
        assert_eq!(holder(&inv, "FB50"), "erp:svc");
    }

    #[test]
    fn two_people_matching_one_account_is_an_error() {
        let people = vec![
            person("p1", "ada@example.com", Status::Active),
            person("p2", "ada@example.com", Status::Active),
        ];
        let (_, sink) = correlate(people, vec![account("erp:ada", Some("ada@example.com"), "FB50")], None);
        assert!(sink.0.iter().any(|p| p.code.as_str() == "DT903"), "{sink:?}");
    }
}
