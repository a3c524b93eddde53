//! Role authorizations of ERP systems (SAP's `AGR_1251` and `AGR_AGRS`), carried beside the
//! inventory for rules that look inside a role: which transactions and authorization
//! values a role grants. An entitlement names a role (its `permission`); this side table
//! says what the role holds. It is not part of the Cedar entities: the rules that read it
//! evaluate it in Rust.

use std::collections::{BTreeMap, BTreeSet};

/// The SAP transaction-start object and its field: a transaction is a value of `S_TCODE`,
/// field `TCD`.
pub const TCODE_OBJECT: &str = "S_TCODE";
/// See [`TCODE_OBJECT`].
pub const TCODE_FIELD: &str = "TCD";

/// The role books of the systems that have one, by system id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authorizations {
    /// System id → its roles.
    pub systems: BTreeMap<String, RoleBook>,
}

impl Authorizations {
    /// The role book of `system`, if it has one.
    pub fn system(&self, system: &str) -> Option<&RoleBook> {
        self.systems.get(system)
    }

    /// True when no system has a role book.
    pub fn is_empty(&self) -> bool {
        self.systems.is_empty()
    }

    /// Adds `other`'s role books (a system in both keeps both sets of roles).
    pub fn absorb(&mut self, other: Authorizations) {
        for (system, book) in other.systems {
            let mine = self.systems.entry(system).or_default();
            mine.inactive.extend(book.inactive);
            for (name, role) in book.roles {
                let r = mine.roles.entry(name).or_default();
                r.children.extend(role.children);
                r.children.sort();
                r.children.dedup();
                r.authorizations.extend(role.authorizations);
            }
        }
    }
}

/// The roles of one system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleBook {
    /// Role name → role.
    pub roles: BTreeMap<String, Role>,
    /// The assignment rows (file, line) of users locked or past their validity at the
    /// review date: their entitlements hold nothing for rulesets, even once the user is
    /// correlated to an active person.
    pub inactive: BTreeSet<(String, u32)>,
}

impl RoleBook {
    /// The role `name`.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// The single roles whose authorizations holding `name` gives, in name order: the
    /// role itself and, for a composite role, its children (SAP composites hold single
    /// roles only, so one level is all there is). A role the book does not know is
    /// returned too: it holds nothing.
    pub fn singles<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        let mut out = vec![name];
        if let Some(role) = self.roles.get(name) {
            out.extend(role.children.iter().map(String::as_str));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// True when `loc` (an entitlement's) is an assignment of a locked or expired user.
    pub fn is_inactive(&self, loc: &crate::source::Loc) -> bool {
        self.inactive.contains(&(loc.file().to_owned(), loc.line))
    }

    /// True when the book knows `name` as a role with authorizations or children.
    pub fn knows(&self, name: &str) -> bool {
        self.roles.contains_key(name)
    }
}

/// One role: the single roles it contains (a composite) and its own authorizations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Role {
    /// The single roles a composite role contains, sorted; empty for a single role.
    pub children: Vec<String>,
    /// The role's authorizations, in the order first read.
    pub authorizations: Vec<Authorization>,
}

impl Role {
    /// The authorization `auth` of object `object`, added empty when new.
    #[expect(clippy::indexing_slicing, reason = "`at` was found in or pushed onto the list")]
    pub fn authorization_mut(&mut self, object: &str, auth: &str) -> &mut Authorization {
        let at = self
            .authorizations
            .iter()
            .position(|a| a.object == object && a.auth == auth);
        let at = at.unwrap_or_else(|| {
            self.authorizations.push(Authorization {
                object: object.to_owned(),
                auth: auth.to_owned(),
                fields: Vec::new(),
            });
            self.authorizations.len() - 1
        });
        &mut self.authorizations[at]
    }

    /// The transactions the role starts itself (values of `S_TCODE`/`TCD`).
    pub fn tcodes(&self) -> impl Iterator<Item = &Range> {
        self.authorizations
            .iter()
            .filter(|a| a.object == TCODE_OBJECT)
            .flat_map(|a| a.values(TCODE_FIELD))
    }
}

/// One authorization (`AUTH`) of an authorization object: for each field, the values it
/// allows. SAP checks the fields of one object together, within one authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The authorization object, e.g. `F_LFA1_APP`.
    pub object: String,
    /// The authorization's name within the role.
    pub auth: String,
    /// Field → the values allowed, in the order read.
    pub fields: Vec<(String, Vec<Range>)>,
}

impl Authorization {
    /// Adds `value` to `field`.
    pub fn allow(&mut self, field: &str, value: Range) {
        match self.fields.iter_mut().find(|(f, _)| f == field) {
            Some((_, values)) => values.push(value),
            None => self.fields.push((field.to_owned(), vec![value])),
        }
    }

    /// The values allowed for `field` (none when the authorization does not name it).
    pub fn values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Range> + 'a {
        self.fields
            .iter()
            .filter(move |(f, _)| f == field)
            .flat_map(|(_, v)| v.iter())
    }

    /// True when one of the values allowed for `field` covers `value`.
    pub fn covers(&self, field: &str, value: &str) -> bool {
        self.values(field).any(|r| r.covers(value))
    }
}

/// One value line of an authorization field: `LOW` alone (exact, or a prefix when it ends
/// in `*`; `*` alone allows everything) or the inclusive range `LOW`–`HIGH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// `LOW`.
    pub low: String,
    /// `HIGH`, when the line is a range.
    pub high: Option<String>,
}

impl Range {
    /// The line `low`–`high` (an empty `high` is no range).
    pub fn new(low: &str, high: &str) -> Self {
        let high = high.trim();
        Self {
            low: low.trim().to_owned(),
            high: (!high.is_empty()).then(|| high.to_owned()),
        }
    }

    /// True when this line allows `value` (compared as SAP compares field values: as text,
    /// character by character).
    pub fn covers(&self, value: &str) -> bool {
        if let Some(high) = &self.high {
            return self.low.as_str() <= value && value <= high.as_str();
        }
        match self.low.strip_suffix('*') {
            Some(prefix) => value.starts_with(prefix),
            None => self.low == value,
        }
    }

    /// How the line reads in a finding: `XK01`, `XK*` or `XK01–XK03`.
    pub fn text(&self) -> String {
        match &self.high {
            Some(h) => format!("{}–{h}", self.low),
            None => self.low.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_line_is_exact_a_prefix_everything_or_an_inclusive_range() {
        let exact = Range::new("XK01", "");
        assert!(exact.covers("XK01") && !exact.covers("XK02") && !exact.covers("XK0"));
        let prefix = Range::new("XK*", "");
        assert!(prefix.covers("XK01") && prefix.covers("XK") && !prefix.covers("FK01"));
        let all = Range::new("*", "");
        assert!(all.covers("SE16N") && all.covers(""));
        let range = Range::new("FK01", "FK03");
        assert!(range.covers("FK01") && range.covers("FK02") && range.covers("FK03"));
        assert!(!range.covers("FK04") && !range.covers("FK00"));
        assert_eq!(range.text(), "FK01–FK03");
        assert_eq!(prefix.text(), "XK*");
    }

    #[test]
    fn a_composite_gives_its_children_and_fields_of_one_auth_stay_together() {
        let mut book = RoleBook::default();
        let mut single = Role::default();
        let a = single.authorization_mut("F_LFA1_APP", "T-1");
        a.allow("ACTVT", Range::new("01", ""));
        a.allow("ACTVT", Range::new("02", ""));
        a.allow("APPKZ", Range::new("F", ""));
        single
            .authorization_mut(TCODE_OBJECT, "T-2")
            .allow(TCODE_FIELD, Range::new("XK0*", ""));
        single
            .authorization_mut("F_LFA1_APP", "T-1")
            .allow("ACTVT", Range::new("03", ""));
        book.roles.insert("Z_VENDOR".to_owned(), single);
        book.roles.insert(
            "Z_COMPOSITE".to_owned(),
            Role {
                children: vec!["Z_VENDOR".to_owned(), "Z_UNKNOWN".to_owned()],
                authorizations: Vec::new(),
            },
        );
        assert_eq!(book.singles("Z_COMPOSITE"), ["Z_COMPOSITE", "Z_UNKNOWN", "Z_VENDOR"]);
        assert_eq!(book.singles("Z_NOWHERE"), ["Z_NOWHERE"]);
        let role = book.role("Z_VENDOR").unwrap_or_else(|| panic!("no role"));
        assert_eq!(role.authorizations.len(), 2, "one authorization per object and AUTH");
        let vendor = role.authorizations.first().unwrap_or_else(|| panic!("none"));
        assert!(vendor.covers("ACTVT", "03") && vendor.covers("APPKZ", "F"));
        assert!(!vendor.covers("ACTVT", "06") && !vendor.covers("BUKRS", "1000"));
        let tcodes: Vec<String> = role.tcodes().map(Range::text).collect();
        assert_eq!(tcodes, ["XK0*"]);
    }
}
