//! SAP rulesets (`*.ruleset.yaml` in a pack): business functions defined by the
//! transactions and authorization values that make them up, and the risks that pair
//! them (segregation of duties) or single them out (critical actions). Read here with
//! every problem located; evaluated against a system's role book
//! ([`crate::inventory::authz`]) by [`Function::held`].

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::authz::{Authorization, Range, RoleBook, TCODE_FIELD, TCODE_OBJECT};
use crate::node::{Fields, Node, Spanned};
use crate::source::Loc;

use super::{ControlCatalog, Severity, Track};

/// Top-level keys of a ruleset file.
pub const FILE_FIELDS: &[&str] = &["functions", "risks"];
/// Keys of a function.
pub const FUNCTION_FIELDS: &[&str] = &["id", "name", "actions", "permissions"];
/// Keys of a permission line.
pub const LINE_FIELDS: &[&str] = &["object", "field", "values"];
/// Keys of a risk.
pub const RISK_FIELDS: &[&str] = &[
    "id",
    "type",
    "functions",
    "severity",
    "process",
    "description",
    "controls",
    "tracks",
];

/// True when a pack file named `name` is a ruleset.
pub fn is_ruleset(name: &str) -> bool {
    name.ends_with(".ruleset.yaml") || name.ends_with(".ruleset.yml")
}

/// What a risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskType {
    /// Two or more functions one person must not hold together.
    Sod,
    /// One function so powerful that holding it is the risk.
    CriticalAction,
}

crate::names!(RiskType {
    Sod = "sod",
    CriticalAction = "critical_action",
});

/// One permission line of a function: an authorization of `object` whose `field` allows
/// one of `values`.
#[derive(Debug, Clone)]
pub struct Line {
    /// The authorization object, e.g. `F_LFA1_APP`.
    pub object: String,
    /// The field, e.g. `ACTVT`.
    pub field: String,
    /// The values, one of which must be allowed.
    pub values: Vec<String>,
    /// Where the line is.
    pub loc: Loc,
}

/// A business function.
#[derive(Debug, Clone)]
pub struct Function {
    /// Its id, unique across the pack's rulesets.
    pub id: Spanned<String>,
    /// What it is.
    pub name: String,
    /// Transactions that perform it (a trailing `*` is a prefix).
    pub actions: Vec<String>,
    /// Authorization values it needs, every line.
    pub permissions: Vec<Line>,
}

/// A risk: functions that must not be held together, or one critical function.
#[derive(Debug, Clone)]
pub struct Risk {
    /// Its id; findings are `<TRACK>-<id>`.
    pub id: Spanned<String>,
    /// Segregation of duties or critical action.
    pub kind: RiskType,
    /// The functions whose holding together is the risk.
    pub functions: Vec<Spanned<String>>,
    /// Finding severity.
    pub severity: Severity,
    /// The business process, e.g. `procure-to-pay`.
    pub process: String,
    /// What could go wrong.
    pub description: String,
    /// Control ids the findings cite.
    pub controls: Vec<Spanned<String>>,
    /// The tracks it is reported on (both by default; SOX only on in-scope systems).
    pub tracks: Vec<Track>,
    /// Where the risk is.
    pub loc: Loc,
}

impl Risk {
    /// The category of its findings: `conflicting` for segregation of duties, `excessive`
    /// for a critical action.
    pub fn category(&self) -> super::Category {
        match self.kind {
            RiskType::Sod => super::Category::Conflicting,
            RiskType::CriticalAction => super::Category::Excessive,
        }
    }
}

/// One ruleset file.
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    /// Its functions, in file order.
    pub functions: Vec<Function>,
    /// Its risks, in file order.
    pub risks: Vec<Risk>,
}

/// Reads a ruleset file parsed as `root`; every problem goes to `sink` and the items that
/// are whole are kept.
pub fn parse(root: &Node, sink: &mut Problems) -> Ruleset {
    let mut out = Ruleset::default();
    let Some(file) = Fields::new(root, "ruleset", FILE_FIELDS, sink) else {
        return out;
    };
    for item in seq(file.get("functions"), "`functions`", sink) {
        if let Some(f) = function(item, sink) {
            out.functions.push(f);
        }
    }
    for item in seq(file.get("risks"), "`risks`", sink) {
        if let Some(r) = risk(item, sink) {
            out.risks.push(r);
        }
    }
    out
}

fn seq<'a>(node: Option<&'a Node>, what: &str, sink: &mut Problems) -> &'a [Node] {
    match node.map(|n| n.as_seq(what)) {
        Some(Ok(items)) => items,
        Some(Err(p)) => {
            sink.push(p);
            &[]
        }
        None => &[],
    }
}

fn function(node: &Node, sink: &mut Problems) -> Option<Function> {
    let f = Fields::new(node, "function", FUNCTION_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    let name = f.opt_str("name", sink).map(|n| n.value).unwrap_or_default();
    let actions = f.opt_list("actions", sink).into_iter().map(|a| a.value).collect();
    let mut permissions = Vec::new();
    for item in seq(f.get("permissions"), "`permissions`", sink) {
        let Some(l) = Fields::new(item, "permission line", LINE_FIELDS, sink) else {
            continue;
        };
        let (object, field) = (l.req_str("object", sink), l.req_str("field", sink));
        let values: Vec<String> = l.opt_list("values", sink).into_iter().map(|v| v.value).collect();
        if values.is_empty() {
            sink.push(
                Problem::error(
                    Code::MissingField,
                    Some(item.loc.clone()),
                    "permission line lists no `values`",
                )
                .with_help("write the values one of which the field must allow: `values: [\"01\", \"02\"]`"),
            );
            continue;
        }
        if let (Some(object), Some(field)) = (object, field) {
            permissions.push(Line {
                object: object.value,
                field: field.value,
                values,
                loc: item.loc.clone(),
            });
        }
    }
    Some(Function {
        id: id?,
        name,
        actions,
        permissions,
    })
}

fn risk(node: &Node, sink: &mut Problems) -> Option<Risk> {
    let f = Fields::new(node, "risk", RISK_FIELDS, sink)?;
    let id = f.req_str("id", sink);
    let kind = f.opt_enum("type", RiskType::CHOICES, sink).unwrap_or(RiskType::Sod);
    let functions = f.opt_list("functions", sink);
    let severity = f
        .opt_enum("severity", Severity::CHOICES, sink)
        .unwrap_or(Severity::High);
    let process = f.opt_str("process", sink).map(|p| p.value).unwrap_or_default();
    let description = f.opt_str("description", sink).map(|d| d.value).unwrap_or_default();
    let controls = f.opt_list("controls", sink);
    let tracks = match f.get("tracks") {
        None => Track::ALL.to_vec(),
        Some(_) => f
            .opt_list("tracks", sink)
            .into_iter()
            .filter_map(|t| match Track::CHOICES.iter().find(|(n, _)| *n == t.value) {
                Some((_, track)) => Some(*track),
                None => {
                    sink.push(
                        Problem::error(
                            Code::BadValue,
                            Some(t.loc.clone()),
                            format!("unknown track `{}`", t.value),
                        )
                        .with_label("not a track")
                        .with_help("tracks are `soc` and `sox`"),
                    );
                    None
                }
            })
            .collect(),
    };
    Some(Risk {
        id: id?,
        kind,
        functions,
        severity,
        process,
        description,
        controls,
        tracks,
        loc: f.loc().clone(),
    })
}

/// The checks across the rulesets of a pack: every function and risk id is unique, every
/// function a risk names is defined, a risk names functions enough for its type (two or
/// more for `sod`, one for `critical_action`), and every control it cites is in
/// `controls` (when given).
pub fn check(rulesets: &[Ruleset], controls: Option<&ControlCatalog>, sink: &mut Problems) {
    let mut seen: BTreeMap<(&str, &str), &Loc> = BTreeMap::new();
    let ids = rulesets
        .iter()
        .flat_map(|r| r.functions.iter().map(|f| ("function", &f.id)))
        .chain(rulesets.iter().flat_map(|r| r.risks.iter().map(|k| ("risk", &k.id))));
    for (what, id) in ids {
        if let Some(first) = seen.insert((what, id.value.as_str()), &id.loc) {
            sink.push(
                Problem::error(
                    Code::DuplicateId,
                    Some(id.loc.clone()),
                    format!("duplicate {what} id `{}`", id.value),
                )
                .with_label("second definition")
                .with_help(format!(
                    "the first is at {first}; {what} ids are unique across the pack's rulesets"
                )),
            );
        }
    }
    let known: Vec<&str> = rulesets
        .iter()
        .flat_map(|r| r.functions.iter().map(|f| f.id.value.as_str()))
        .collect();
    for risk in rulesets.iter().flat_map(|r| r.risks.iter()) {
        for c in risk
            .controls
            .iter()
            .filter(|c| controls.is_some_and(|cat| cat.get(&c.value).is_none()))
        {
            sink.push(
                Problem::error(
                    Code::UnknownControl,
                    Some(c.loc.clone()),
                    format!("risk `{}` cites unknown control `{}`", risk.id.value, c.value),
                )
                .with_label("not in the control catalog")
                .with_help("add the control to `controls.yaml`, or cite one the catalog has"),
            );
        }
        for f in &risk.functions {
            if !known.contains(&f.value.as_str()) {
                sink.push(
                    Problem::error(
                        Code::UnknownFunction,
                        Some(f.loc.clone()),
                        format!("risk `{}` names unknown function `{}`", risk.id.value, f.value),
                    )
                    .with_label("no function has this id")
                    .with_help(suggest(&f.value, &known)),
                );
            }
        }
        let distinct: BTreeSet<&str> = risk.functions.iter().map(|f| f.value.as_str()).collect();
        let (enough, want) = match risk.kind {
            RiskType::Sod => (distinct.len() >= 2, "two or more different functions"),
            RiskType::CriticalAction => (distinct.len() == 1, "exactly one function"),
        };
        if !enough {
            sink.push(
                Problem::error(
                    Code::EmptyRisk,
                    Some(risk.loc.clone()),
                    format!("risk `{}` names {} function(s)", risk.id.value, distinct.len()),
                )
                .with_label("nothing to report")
                .with_help(format!("a `{}` risk names {want}", risk.kind.as_str())),
            );
        }
    }
}

/// How a user holds a function on one system: the transactions (the role values that
/// cover an action) and the roles that grant it, each role as held (`Z_COMPOSITE` or
/// `Z_COMPOSITE → Z_SINGLE` when through a composite).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// The role values that start one of the function's transactions, sorted.
    pub transactions: BTreeSet<String>,
    /// The roles whose authorizations the function needs, sorted.
    pub roles: BTreeSet<String>,
}

/// True when the role value `range` covers a transaction that `action` names (an exact
/// code, or a prefix ending in `*`).
fn covers_action(range: &Range, action: &str) -> bool {
    let Some(prefix) = action.strip_suffix('*') else {
        return range.covers(action);
    };
    match (&range.high, range.low.strip_suffix('*')) {
        (Some(high), _) => high.as_str() >= prefix && (range.low.as_str() <= prefix || range.low.starts_with(prefix)),
        (None, Some(q)) => q.starts_with(prefix) || prefix.starts_with(q),
        (None, None) => range.low.starts_with(prefix),
    }
}

impl Function {
    /// Whether a user holding `roles` (as assigned: composites not yet expanded) on the
    /// system of `book` holds this function, and through what: at least one action (when
    /// it lists any) and every permission line, the lines on one object within one
    /// authorization. SAP checks authorizations user-wide, so the action and the lines may
    /// come from different roles.
    pub fn held(&self, book: &RoleBook, roles: &[&str]) -> Option<Held> {
        // Every single role the user holds, with how it reads in a finding.
        let mut singles: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for assigned in roles {
            for single in book.singles(assigned) {
                let how = if single == *assigned {
                    (*assigned).to_owned()
                } else {
                    format!("{assigned} → {single}")
                };
                singles.entry(single).or_default().insert(how);
            }
        }
        let auths: Vec<(&Authorization, &BTreeSet<String>)> = singles
            .iter()
            .filter_map(|(name, how)| book.role(name).map(|r| (r, how)))
            .flat_map(|(r, how)| r.authorizations.iter().map(move |a| (a, how)))
            .collect();
        let mut held = Held::default();
        if !self.actions.is_empty() {
            for (a, how) in auths.iter().filter(|(a, _)| a.object == TCODE_OBJECT) {
                for range in a.values(TCODE_FIELD) {
                    if self.actions.iter().any(|act| covers_action(range, act)) {
                        held.transactions.insert(range.text());
                        held.roles.extend(how.iter().cloned());
                    }
                }
            }
            if held.transactions.is_empty() {
                return None;
            }
        }
        let mut objects: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
        for line in &self.permissions {
            objects.entry(line.object.as_str()).or_default().push(line);
        }
        for (object, lines) in objects {
            let granting: Vec<_> = auths
                .iter()
                .filter(|(a, _)| {
                    a.object == object && lines.iter().all(|l| l.values.iter().any(|v| a.covers(&l.field, v)))
                })
                .collect();
            if granting.is_empty() {
                return None;
            }
            for (_, how) in granting {
                held.roles.extend(how.iter().cloned());
            }
        }
        (!self.actions.is_empty() || !self.permissions.is_empty()).then_some(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::authz::Role;
    use crate::source::Source;

    fn parsed(text: &str) -> (Ruleset, Vec<String>) {
        let src = Source::new("pack/sap.ruleset.yaml", text);
        let root = crate::yaml::parse(&src).unwrap_or_else(|p| panic!("{p:?}"));
        let mut sink = Problems::default();
        let rs = parse(&root, &mut sink);
        check(std::slice::from_ref(&rs), None, &mut sink);
        let said = sink
            .0
            .iter()
            .map(|p| {
                let line = p.loc.as_ref().map_or(0, |l| l.line);
                format!("{} {line} {}", p.code.as_str(), p.message)
            })
            .collect();
        (rs, said)
    }

    const RULESET: &str = "\
functions:
  - id: VENDOR-MAINT
    name: Maintain vendor master data
    actions: [XK01, XK02, FK0*]
    permissions:
      - { object: F_LFA1_APP, field: ACTVT, values: [\"01\", \"02\"] }
      - { object: F_LFA1_APP, field: APPKZ, values: [F] }
  - id: PAYMENT-RUN
    actions: [F110]
  - id: PAYMENT-AUTH
    permissions:
      - { object: F_REGU_BUK, field: FBTCH, values: [\"11\"] }
risks:
  - id: P2P-01
    type: sod
    functions: [VENDOR-MAINT, PAYMENT-RUN]
    severity: critical
    process: procure-to-pay
    description: Create a fictitious vendor and pay it.
    controls: [SOX-ITGC-APD-03]
    tracks: [sox]
";

    #[test]
    fn a_ruleset_is_read_with_its_defaults() {
        let (rs, said) = parsed(RULESET);
        assert!(said.is_empty(), "{said:?}");
        let ids: Vec<&str> = rs.functions.iter().map(|f| f.id.value.as_str()).collect();
        assert_eq!(ids, ["VENDOR-MAINT", "PAYMENT-RUN", "PAYMENT-AUTH"]);
        let vendor = rs.functions.first().unwrap_or_else(|| panic!("none"));
        assert_eq!(vendor.permissions.len(), 2);
        assert_eq!(
            vendor.permissions.first().map(|l| l.values.clone()),
            Some(vec!["01".to_owned(), "02".to_owned()])
        );
        let risk = rs.risks.first().unwrap_or_else(|| panic!("no risk"));
        assert_eq!(
            (risk.kind, risk.severity, risk.tracks.as_slice()),
            (RiskType::Sod, Severity::Critical, &[Track::Sox][..])
        );
        assert_eq!(risk.loc.line, 14);
    }

    #[test]
    fn unknown_functions_duplicate_ids_and_empty_risks_are_located() {
        let text = format!(
            "{RULESET}  - {{id: P2P-01, functions: [VENDOR-MAINT, PAYMENT-RUM]}}\n  - {{id: CA-01, type: critical_action, functions: []}}\n  - {{id: P2P-02, functions: [PAYMENT-RUN, PAYMENT-RUN]}}\n"
        );
        let (_, said) = parsed(&text);
        assert_eq!(
            said,
            [
                "DT105 22 duplicate risk id `P2P-01`",
                "DT205 22 risk `P2P-01` names unknown function `PAYMENT-RUM`",
                "DT210 23 risk `CA-01` names 0 function(s)",
                "DT210 24 risk `P2P-02` names 1 function(s)",
            ]
        );
    }

    fn book() -> RoleBook {
        let mut book = RoleBook::default();
        let mut vendor = Role::default();
        vendor
            .authorization_mut(TCODE_OBJECT, "T1")
            .allow(TCODE_FIELD, Range::new("FK01", "FK03"));
        let app = vendor.authorization_mut("F_LFA1_APP", "T2");
        app.allow("ACTVT", Range::new("02", ""));
        app.allow("APPKZ", Range::new("F", ""));
        // ACTVT and APPKZ split over two authorizations do not hold the object together.
        let mut split = Role::default();
        split
            .authorization_mut("F_LFA1_APP", "T3")
            .allow("ACTVT", Range::new("*", ""));
        split
            .authorization_mut("F_LFA1_APP", "T4")
            .allow("APPKZ", Range::new("F", ""));
        split
            .authorization_mut(TCODE_OBJECT, "T5")
            .allow(TCODE_FIELD, Range::new("XK*", ""));
        book.roles.insert("Z_VENDOR".to_owned(), vendor);
        book.roles.insert("Z_SPLIT".to_owned(), split);
        book.roles.insert(
            "Z_COMPOSITE".to_owned(),
            Role {
                children: vec!["Z_VENDOR".to_owned()],
                authorizations: Vec::new(),
            },
        );
        book
    }

    #[test]
    fn a_function_needs_an_action_and_every_line_within_one_authorization() {
        let (rs, _) = parsed(RULESET);
        let vendor = rs.functions.first().unwrap_or_else(|| panic!("none"));
        let book = book();
        let held = vendor
            .held(&book, &["Z_COMPOSITE"])
            .unwrap_or_else(|| panic!("not held"));
        assert_eq!(held.transactions.iter().collect::<Vec<_>>(), ["FK01–FK03"]);
        assert_eq!(held.roles.iter().collect::<Vec<_>>(), ["Z_COMPOSITE → Z_VENDOR"]);
        assert!(
            vendor.held(&book, &["Z_SPLIT"]).is_none(),
            "lines of one object split over two authorizations"
        );
        // The action from one role and the values from another: SAP checks user-wide.
        let both = vendor
            .held(&book, &["Z_SPLIT", "Z_VENDOR"])
            .unwrap_or_else(|| panic!("not held"));
        assert_eq!(both.transactions.iter().collect::<Vec<_>>(), ["FK01–FK03", "XK*"]);
        assert_eq!(both.roles.iter().collect::<Vec<_>>(), ["Z_SPLIT", "Z_VENDOR"]);
        assert!(vendor.held(&book, &["Z_UNKNOWN"]).is_none());
    }

    #[test]
    fn action_patterns_meet_role_values_exactly_by_prefix_or_in_a_range() {
        let r = |low: &str, high: &str| Range::new(low, high);
        assert!(covers_action(&r("XK01", ""), "XK01") && !covers_action(&r("XK01", ""), "XK02"));
        assert!(covers_action(&r("XK01", ""), "XK*") && covers_action(&r("*", ""), "SU01"));
        assert!(covers_action(&r("X*", ""), "XK0*") && covers_action(&r("XK01*", ""), "XK0*"));
        assert!(!covers_action(&r("FK*", ""), "XK0*"));
        assert!(covers_action(&r("FK01", "FK09"), "FK0*") && covers_action(&r("FA00", "FZ99"), "FK*"));
        assert!(!covers_action(&r("FL01", "FZ99"), "FK*") && !covers_action(&r("FA01", "FJ99"), "FK*"));
    }
}
