//! How every importer builds its records: account ids (`<system>:<local>`), and accounts
//! that two records or two exports name alike merged into one. An importer maps its
//! export's fields onto these, and every account keeps the location of the record it was
//! read from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::inventory::IdentityKind;
use crate::source::Loc;

use super::{Account, Ref};

/// The id of account `local` of `system`: `<system>:<local>` (`okta:ada@example.com`,
/// `entra:app:<appId>`). A reference to an account of the same export (an owner, a
/// manager) names it by this id too.
pub(crate) fn account_id(system: &str, local: &str) -> String {
    format!("{system}:{local}")
}

impl Account {
    /// Account `local` of `system` (its id is [`account_id`]), read at `loc`; the importer
    /// fills in what its export says.
    pub fn new(system: &str, local: &str, loc: &Loc) -> Self {
        Self::global(&account_id(system, local), system, loc)
    }

    /// An account whose export names it uniquely across systems already, kept as its id:
    /// an AWS ARN, on which the credential report and the authorization details join.
    pub fn global(id: &str, system: &str, loc: &Loc) -> Self {
        Self {
            id: id.to_owned(),
            system: system.to_owned(),
            kind: None,
            display_name: None,
            email: None,
            login: None,
            employee_id: None,
            department: None,
            status: None,
            terminated_at: None,
            created_at: None,
            last_seen: None,
            credential_rotated_at: None,
            credential_expires_at: None,
            owner: None,
            manager: None,
            manager_at: None,
            tags: Vec::new(),
            grants: Vec::new(),
            loc: loc.clone(),
        }
    }

    /// Credential `local` of `owner` (an access key, a client secret): an `api_key` of the
    /// owner's system with the id `<owner id>/<local>`, owned by it.
    pub fn credential(owner: &Account, local: &str, loc: &Loc) -> Self {
        let mut acc = Self::global(&format!("{}/{local}", owner.id), &owner.system, loc);
        acc.kind = Some(IdentityKind::ApiKey);
        acc.owner = Some(Ref::Account(owner.id.clone()));
        acc
    }

    /// Folds `other` (the same account from another record or export) into this one:
    /// values this one lacks are taken, `last_seen` and the last rotation keep the latest,
    /// tags are added by key, and grants add up.
    fn merge(&mut self, other: Account) {
        fn take<T>(a: &mut Option<T>, b: Option<T>) {
            if a.is_none() {
                *a = b;
            }
        }
        fn latest(a: &mut Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) {
            *a = (*a).max(b);
        }
        take(&mut self.kind, other.kind);
        take(&mut self.display_name, other.display_name);
        take(&mut self.email, other.email);
        take(&mut self.login, other.login);
        take(&mut self.employee_id, other.employee_id);
        take(&mut self.department, other.department);
        take(&mut self.status, other.status);
        take(&mut self.terminated_at, other.terminated_at);
        take(&mut self.created_at, other.created_at);
        latest(&mut self.last_seen, other.last_seen);
        latest(&mut self.credential_rotated_at, other.credential_rotated_at);
        take(&mut self.credential_expires_at, other.credential_expires_at);
        take(&mut self.owner, other.owner);
        if self.manager.is_none() {
            self.manager = other.manager;
            self.manager_at = other.manager_at;
        }
        for t in other.tags {
            if !self.tags.iter().any(|(k, _)| *k == t.0) {
                self.tags.push(t);
            }
        }
        self.grants.extend(other.grants);
    }
}

/// Accounts in the order first added, one per id: adding an id already there merges the
/// two (values the first lacks are taken from the second, grants add up). An import holds
/// one for every export; an importer whose export names one account in several records
/// (Baton, Entra) builds its own to look accounts up, then hands it over.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    list: Vec<Account>,
    at: BTreeMap<String, usize>,
}

impl Accounts {
    /// Adds `acc`, merged into the account of the same id when there is one.
    pub fn add(&mut self, acc: Account) {
        match self.at.get(&acc.id).and_then(|i| self.list.get_mut(*i)) {
            Some(first) => first.merge(acc),
            None => {
                self.at.insert(acc.id.clone(), self.list.len());
                self.list.push(acc);
            }
        }
    }

    /// The account `id`.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.at.get(id).and_then(|i| self.list.get_mut(*i))
    }

    /// The accounts in id order. Baton and Entra hand theirs over so: the order decides
    /// which of one person's two accounts holding one permission gets the `#2`
    /// entitlement.
    pub fn into_sorted(self) -> Vec<Account> {
        let mut list = self.list;
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// The accounts in the order first added.
    pub fn into_vec(self) -> Vec<Account> {
        self.list
    }
}

impl Extend<Account> for Accounts {
    fn extend<I: IntoIterator<Item = Account>>(&mut self, accounts: I) {
        for acc in accounts {
            self.add(acc);
        }
    }
}

impl FromIterator<Account> for Accounts {
    fn from_iter<I: IntoIterator<Item = Account>>(accounts: I) -> Self {
        let mut out = Self::default();
        out.extend(accounts);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Node;
    use crate::source::Source;
    use crate::sources::Grant;

    fn at(file: &str) -> Loc {
        Source::new(file, "{}").whole()
    }

    fn date(s: &str) -> Option<DateTime<Utc>> {
        crate::node::parse_date(s)
    }

    fn grant(permission: &str, file: &str) -> Grant {
        let node = Node {
            loc: at(file),
            value: crate::node::Value::Null,
        };
        Grant::new(permission, false, file, None, None, &node)
    }

    #[test]
    fn ids_are_the_system_and_the_local_id_and_credentials_hang_off_their_owner() {
        assert_eq!(account_id("okta", "ada@example.com"), "okta:ada@example.com");
        let app = Account::new("entra", "app:0a1b", &at("apps.json"));
        assert_eq!((app.id.as_str(), app.system.as_str()), ("entra:app:0a1b", "entra"));
        let secret = Account::credential(&app, "secret/k1", &at("apps.json"));
        assert_eq!(secret.id, "entra:app:0a1b/secret/k1");
        assert_eq!(secret.system, "entra");
        assert_eq!(secret.kind, Some(IdentityKind::ApiKey));
        assert!(matches!(&secret.owner, Some(Ref::Account(o)) if *o == app.id));
        let arn = "arn:aws:iam::111122223333:user/ada";
        assert_eq!(Account::global(arn, "aws:111122223333", &at("gaad.json")).id, arn);
    }

    #[test]
    fn one_account_from_two_exports_is_merged_into_the_first() {
        let mut report = Account::global("arn:u/ada", "aws", &at("report.csv"));
        report.login = Some("ada".to_owned());
        report.last_seen = date("2026-01-01");
        report.tags.push(("mfa_active".to_owned(), "true".to_owned()));
        report.grants.push(grant("console-login", "report.csv"));
        let mut details = Account::global("arn:u/ada", "aws", &at("gaad.json"));
        details.login = Some("ada-other".to_owned());
        details.display_name = Some("Ada".to_owned());
        details.last_seen = date("2026-03-01");
        details.tags.push(("mfa_active".to_owned(), "false".to_owned()));
        details.tags.push(("owner".to_owned(), "bo".to_owned()));
        details.grants.push(grant("ReadOnlyAccess", "gaad.json"));
        let other = Account::global("arn:u/bo", "aws", &at("gaad.json"));
        let accounts: Vec<Account> = [report, other, details].into_iter().collect::<Accounts>().into_vec();

        let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["arn:u/ada", "arn:u/bo"], "one account per id, where first added");
        let ada = accounts.first().unwrap_or_else(|| panic!("no account"));
        assert_eq!(ada.login.as_deref(), Some("ada"), "the first export's value stays");
        assert_eq!(ada.display_name.as_deref(), Some("Ada"), "a value it lacked is taken");
        assert_eq!(ada.last_seen, date("2026-03-01"), "the latest use counts");
        assert_eq!(
            ada.tags,
            [("mfa_active".into(), "true".into()), ("owner".into(), "bo".into())]
        );
        assert_eq!(ada.loc.file(), "report.csv");
        let permissions: Vec<&str> = ada.grants.iter().map(|g| g.permission.as_str()).collect();
        assert_eq!(permissions, ["console-login", "ReadOnlyAccess"], "grants add up");
    }

    #[test]
    fn accounts_are_looked_up_by_id_and_leave_sorted_when_asked() {
        let mut accounts = Accounts::default();
        for local in ["zed", "ada", "mo", "ada"] {
            accounts.add(Account::new("baton", local, &at("resources.json")));
        }
        assert!(accounts.get_mut("baton:mo").is_some());
        assert!(accounts.get_mut("mo").is_none(), "looked up by the whole id");
        let ids: Vec<String> = accounts.into_sorted().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["baton:ada", "baton:mo", "baton:zed"]);
    }
}
