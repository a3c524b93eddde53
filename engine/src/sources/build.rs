//! How every importer builds its records: account ids (`<system>:<local>`), grants and
//! the one rule that de-duplicates them, and accounts that two records or two exports
//! name alike merged into one. An importer maps its export's fields onto these; dates go
//! through `util`'s readers, and every account and grant keeps the location of the record
//! it was read from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::inventory::IdentityKind;
use crate::source::Loc;

use super::{Account, Grant, Ref};

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
            sponsors: Vec::new(),
            acts: None,
            parent: None,
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

    /// Gives `grant` unless the account already holds its permission by the same path
    /// (`via`): an export that says one access twice (a user's `groups` and the group's
    /// `members`) gives one entitlement, the first said.
    pub fn grant(&mut self, grant: Grant) {
        if !self
            .grants
            .iter()
            .any(|g| g.permission == grant.permission && g.via == grant.via)
        {
            self.grants.push(grant);
        }
    }

    /// Folds `other` (the same account from another record or export) into this one:
    /// values this one lacks are taken, `last_seen` and the last rotation keep the latest,
    /// tags are added by key, and grants add up, once per permission and path (the same
    /// account read twice, from overlapping pages or a repeated row, holds each access once).
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
        if self.sponsors.is_empty() {
            self.sponsors = other.sponsors;
        }
        take(&mut self.acts, other.acts);
        take(&mut self.parent, other.parent);
        for t in other.tags {
            if !self.tags.iter().any(|(k, _)| *k == t.0) {
                self.tags.push(t);
            }
        }
        for g in other.grants {
            self.grant(g);
        }
    }
}

impl Grant {
    /// `permission` (privileged or not) as `source` says it was granted (e.g. `okta: group
    /// Finance members`), read at `loc`; reached directly, with no dates.
    pub fn new(permission: impl Into<String>, privileged: bool, source: impl Into<String>, loc: &Loc) -> Self {
        Self {
            permission: permission.into(),
            privileged,
            source: source.into(),
            via: None,
            granted_at: None,
            last_used: None,
            expires_at: None,
            loc: loc.clone(),
        }
    }

    /// Reached through membership of `group` (when `Some`): the path is `group/<group>`, so
    /// one permission held directly and through a group, or through two groups, stays two
    /// entitlements. A group's own permission (`group/<group>/…`) names its group already
    /// and keeps no path.
    #[must_use]
    pub fn through(mut self, group: Option<&str>) -> Self {
        if !self.permission.starts_with("group/") {
            self.via = group.map(|g| format!("group/{g}"));
        }
        self
    }

    /// When the export says it was granted.
    #[must_use]
    pub fn granted(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.granted_at = at;
        self
    }

    /// When the export says it was last used.
    #[must_use]
    pub fn used(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.last_used = at;
        self
    }

    /// When the export says it expires.
    #[must_use]
    pub fn expires(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.expires_at = at;
        self
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
    use crate::source::Source;

    fn at(file: &str) -> Loc {
        Source::new(file, "{}").whole()
    }

    fn date(s: &str) -> Option<DateTime<Utc>> {
        crate::node::parse_date(s)
    }

    /// (permission, via, source) of each grant, in order.
    fn grants(acc: &Account) -> Vec<(&str, Option<&str>, &str)> {
        acc.grants
            .iter()
            .map(|g| (g.permission.as_str(), g.via.as_deref(), g.source.as_str()))
            .collect()
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
        report.grant(Grant::new("console-login", false, "report", &at("report.csv")));
        let mut details = Account::global("arn:u/ada", "aws", &at("gaad.json"));
        details.login = Some("ada-other".to_owned());
        details.display_name = Some("Ada".to_owned());
        details.last_seen = date("2026-03-01");
        details.tags.push(("mfa_active".to_owned(), "false".to_owned()));
        details.tags.push(("owner".to_owned(), "bo".to_owned()));
        details.grant(Grant::new("ReadOnlyAccess", false, "gaad", &at("gaad.json")));
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
    fn a_grant_said_twice_by_the_same_path_is_given_once() {
        let loc = at("groups.json");
        let mut acc = Account::new("scim", "ada", &loc);
        acc.grant(Grant::new("group/Finance", false, "scim: user groups", &loc));
        acc.grant(Grant::new("group/Finance", false, "scim: group Finance members", &loc));
        acc.grant(Grant::new("app/ERP", false, "direct", &loc));
        acc.grant(Grant::new("app/ERP", false, "through Finance", &loc).through(Some("Finance")));
        acc.grant(Grant::new("app/ERP", false, "through Sales", &loc).through(Some("Sales")));
        acc.grant(Grant::new("app/ERP", false, "through Sales again", &loc).through(Some("Sales")));
        assert_eq!(
            grants(&acc),
            [
                ("group/Finance", None, "scim: user groups"),
                ("app/ERP", None, "direct"),
                ("app/ERP", Some("group/Finance"), "through Finance"),
                ("app/ERP", Some("group/Sales"), "through Sales"),
            ]
        );
    }

    #[test]
    fn the_same_account_read_twice_holds_each_access_once() {
        let loc = at("users.json");
        let mut first = Account::new("okta", "ada", &loc);
        first.grant(Grant::new("app/ERP", false, "page 1", &loc));
        let mut again = Account::new("okta", "ada", &loc);
        again.grant(Grant::new("app/ERP", false, "page 2", &loc));
        again.grant(Grant::new("app/CRM", false, "page 2", &loc));
        first.merge(again);
        assert_eq!(
            grants(&first),
            [("app/ERP", None, "page 1"), ("app/CRM", None, "page 2")]
        );
    }

    #[test]
    fn the_path_names_the_group_unless_the_permission_does() {
        let loc = at("gaad.json");
        let via = |permission: &str, group: Option<&str>| Grant::new(permission, false, "", &loc).through(group).via;
        assert_eq!(
            via("ReadOnlyAccess", Some("Developers")).as_deref(),
            Some("group/Developers")
        );
        assert_eq!(via("group/Developers/inline/keys", Some("Developers")), None);
        assert_eq!(via("ReadOnlyAccess", None), None);
    }

    #[test]
    fn dates_are_set_on_the_grant_and_accounts_leave_sorted_when_asked() {
        let loc = at("apps.json");
        let g = Grant::new("client-secret", false, "", &loc)
            .granted(date("2026-01-01"))
            .used(date("2026-02-01"))
            .expires(date("2027-01-01"));
        assert_eq!(
            (g.granted_at, g.last_used, g.expires_at),
            (date("2026-01-01"), date("2026-02-01"), date("2027-01-01"))
        );
        let mut accounts = Accounts::default();
        for local in ["zed", "ada", "mo", "ada"] {
            accounts.add(Account::new("baton", local, &loc));
        }
        assert!(accounts.get_mut("baton:mo").is_some());
        assert!(accounts.get_mut("mo").is_none(), "looked up by the whole id");
        let ids: Vec<String> = accounts.into_sorted().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["baton:ada", "baton:mo", "baton:zed"]);
    }
}
