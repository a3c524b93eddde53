//! SAP ruleset risks evaluated natively over an imported inventory: for each active
//! identity and each system with a role book, the ruleset functions its roles hold, and
//! the risks whose functions are all held, per track (`SOC-<risk>` on every system,
//! `SOX-<risk>` on `sox_in_scope` systems). [`findings`] turns them into the findings
//! `check` reports; the risks are not compiled to Cedar.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::finding::{fingerprint, Evidence, Finding, FindingStatus};
use crate::inventory::{Entitlement, Identity, Inventory, Status};
use crate::policy::ruleset::{Function, Held, Risk, RiskType, Ruleset};
use crate::policy::{ControlCatalog, Track};

/// Controls a non-human identity's critical-action finding cites besides the risk's own
/// (those the control catalog has): service accounts restricted, NHIs not overprivileged.
const NHI_CRITICAL_CONTROLS: &[&str] = &["SOX-ITGC-APD-05", "NHI5:2025"];

/// One risk held by one identity on one system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// `<TRACK>-<risk id>`, e.g. `SOX-P2P-01`.
    pub rule: String,
    /// The track.
    pub track: Track,
    /// The identity holding the risk.
    pub identity: String,
    /// The system it is held on.
    pub system: String,
    /// Each function of the risk, in the risk's order, with what grants it.
    pub functions: Vec<(String, Held)>,
    /// The entitlements (role assignments) that grant any of the functions, sorted.
    pub entitlements: Vec<String>,
}

/// Every risk of `rulesets` that an active identity of `inv` holds, sorted by rule,
/// identity and system.
pub fn evaluate(inv: &Inventory, rulesets: &[Ruleset]) -> Vec<Hit> {
    let mut by_identity: BTreeMap<&str, Vec<&Entitlement>> = BTreeMap::new();
    for e in &inv.entitlements {
        by_identity.entry(&e.identity.value).or_default().push(e);
    }
    let mut hits: Vec<Hit> = by_identity
        .into_iter()
        .filter_map(|(id, ents)| inv.identity(id).map(|i| (i, ents)))
        .flat_map(|(identity, ents)| held(inv, rulesets, identity, &ents))
        .map(|(_, hit)| hit)
        .collect();
    hits.sort_by(|a, b| (&a.rule, &a.identity, &a.system).cmp(&(&b.rule, &b.identity, &b.system)));
    hits
}

/// The risks `identity` holds through `ents` (its entitlements), each with its hit per
/// track, by system then risk order. A critical action held by a non-human identity is
/// reported on SOX whatever the risk's `tracks` (an unattended account with such power is
/// a control matter); SOX only ever on `sox_in_scope` systems.
fn held<'r>(
    inv: &Inventory,
    rulesets: &'r [Ruleset],
    identity: &Identity,
    ents: &[&Entitlement],
) -> Vec<(&'r Risk, Hit)> {
    // Most inventories have no role book: nothing to do, and nothing allocated.
    if inv.authorizations.is_empty() || identity.status != Status::Active || rulesets.iter().all(|r| r.risks.is_empty())
    {
        return Vec::new();
    }
    let mut by_system: BTreeMap<&str, Vec<&Entitlement>> = BTreeMap::new();
    for &e in ents {
        if inv.authorizations.system(&e.system.value).is_some() {
            by_system.entry(&e.system.value).or_default().push(e);
        }
    }
    if by_system.is_empty() {
        return Vec::new();
    }
    let functions: BTreeMap<&str, &Function> = rulesets
        .iter()
        .flat_map(|r| r.functions.iter())
        .map(|f| (f.id.value.as_str(), f))
        .collect();
    let mut out = Vec::new();
    for (system, ents) in by_system {
        let (Some(book), Some(sys)) = (inv.authorizations.system(system), inv.system(system)) else {
            continue;
        };
        // A locked or expired SAP user's assignments count for nobody, even when the user
        // is correlated to an active person.
        let ents: Vec<&Entitlement> = ents.into_iter().filter(|e| !book.is_inactive(&e.loc)).collect();
        let roles: Vec<&str> = ents.iter().map(|e| &*e.permission).collect();
        let mut cache: BTreeMap<&str, Option<Held>> = BTreeMap::new();
        for risk in rulesets.iter().flat_map(|r| r.risks.iter()) {
            let Some(all) = fires(risk, |f| {
                cache
                    .entry(f)
                    .or_insert_with(|| functions.get(f).and_then(|func| func.held(book, &roles)))
                    .clone()
            }) else {
                continue;
            };
            // An assignment grants a function when the role as assigned (the part before
            // ` → ` for a composite's child) is among the roles that grant it.
            let mut entitlements: Vec<String> = ents
                .iter()
                .filter(|e| {
                    all.iter()
                        .any(|(_, h)| h.roles.iter().any(|r| r.split(" → ").next() == Some(&*e.permission)))
                })
                .map(|e| e.id.clone())
                .collect();
            entitlements.sort();
            let mut tracks = risk.tracks.clone();
            if risk.kind == RiskType::CriticalAction && identity.kind.is_nhi() && !tracks.contains(&Track::Sox) {
                tracks.push(Track::Sox);
            }
            for track in Track::ALL.into_iter().filter(|t| tracks.contains(t)) {
                if track == Track::Sox && !sys.sox_in_scope {
                    continue;
                }
                out.push((
                    risk,
                    Hit {
                        rule: format!("{}-{}", track.as_str().to_ascii_uppercase(), risk.id.value),
                        track,
                        identity: identity.id.clone(),
                        system: system.to_owned(),
                        functions: all.clone(),
                        entitlements: entitlements.clone(),
                    },
                ));
            }
        }
    }
    out
}

/// Each function of `risk` with what grants it, when `held` (what grants a function, by
/// id) has every one; `None` as soon as one is missing. A risk with no function never fires.
pub fn fires<'r>(risk: &'r Risk, mut held: impl FnMut(&'r str) -> Option<Held>) -> Option<Vec<(String, Held)>> {
    if risk.functions.is_empty() {
        return None;
    }
    risk.functions
        .iter()
        .map(|f| held(f.value.as_str()).map(|h| (f.value.clone(), h)))
        .collect()
}

/// The findings of the risks `identity` holds through `ents` (its entitlements) on
/// `tracks`: one per risk, track and system, with the risk's severity and controls,
/// `conflicting` for segregation of duties and `excessive` for a critical action, naming
/// for each function the transactions and roles that grant it, and located on the first
/// role assignment involved.
pub fn findings(
    inv: &Inventory,
    rulesets: &[Ruleset],
    controls: &ControlCatalog,
    tracks: &[Track],
    identity: &Identity,
    ents: &[&Entitlement],
) -> Vec<Finding> {
    let held = held(inv, rulesets, identity, ents);
    if held.is_empty() {
        return Vec::new();
    }
    let names: BTreeMap<&str, &str> = rulesets
        .iter()
        .flat_map(|r| r.functions.iter())
        .map(|f| (f.id.value.as_str(), f.name.as_str()))
        .collect();
    held.into_iter()
        .filter(|(_, hit)| tracks.contains(&hit.track))
        .map(|(risk, hit)| finding(risk, hit, &names, controls, identity, ents))
        .collect()
}

fn finding(
    risk: &Risk,
    hit: Hit,
    names: &BTreeMap<&str, &str>,
    catalog: &ControlCatalog,
    identity: &Identity,
    ents: &[&Entitlement],
) -> Finding {
    let granted: Vec<String> = hit.functions.iter().map(|(f, h)| granted(f, h)).collect();
    let (message, remediation) = match risk.kind {
        RiskType::Sod => (
            format!(
                "`{}` holds conflicting functions on `{}`: {}",
                identity.id,
                hit.system,
                granted.join(" and ")
            ),
            "remove the roles that grant one of the functions (listed under `functions` in the evidence) \
             so that no one person holds them all, or record the compensating control as an exception",
        ),
        RiskType::CriticalAction => (
            format!(
                "`{}` holds a critical action on `{}`: {}",
                identity.id,
                hit.system,
                granted.join(" and ")
            ),
            "remove the roles that grant the function (listed under `functions` in the evidence), or keep it \
             for an emergency-access procedure whose every use is logged and reviewed",
        ),
    };
    let mut controls: Vec<String> = risk.controls.iter().map(|c| c.value.clone()).collect();
    if risk.kind == RiskType::CriticalAction && identity.kind.is_nhi() {
        for c in NHI_CRITICAL_CONTROLS {
            if catalog.get(c).is_some() && !controls.iter().any(|x| x == c) {
                controls.push((*c).to_owned());
            }
        }
    }
    let mut functions = Map::new();
    for (f, h) in &hit.functions {
        let mut one = Map::new();
        one.insert(
            "name".into(),
            Json::from(names.get(f.as_str()).copied().unwrap_or_default()),
        );
        one.insert(
            "transactions".into(),
            Json::from(h.transactions.iter().cloned().collect::<Vec<_>>()),
        );
        one.insert("roles".into(), Json::from(h.roles.iter().cloned().collect::<Vec<_>>()));
        functions.insert(f.clone(), Json::Object(one));
    }
    let mut evidence = Evidence::default();
    for (key, value) in [
        ("risk", Json::from(risk.id.value.as_str())),
        ("risk_type", Json::from(risk.kind.as_str())),
        ("process", Json::from(risk.process.as_str())),
        ("description", Json::from(risk.description.as_str())),
        ("system", Json::from(hit.system.as_str())),
        ("functions", Json::Object(functions)),
    ] {
        evidence.insert(Arc::from(key), value);
    }
    // Located on the first role assignment involved (an AGR_USERS row), else the user.
    let at = hit
        .entitlements
        .first()
        .and_then(|id| ents.iter().find(|e| e.id == *id))
        .map_or(&identity.loc, |e| &e.loc);
    Finding {
        id: fingerprint(&hit.rule, hit.track, &identity.id, &hit.entitlements),
        rule: Arc::from(hit.rule.as_str()),
        track: hit.track,
        category: risk.category(),
        severity: risk.severity,
        controls: Arc::from(controls),
        identity: identity.id.clone(),
        entitlements: hit.entitlements,
        message,
        evidence,
        remediation: Arc::from(remediation),
        status: FindingStatus::Open,
        file: at.src.name_shared(),
        line: at.line,
        change: None,
    }
}

/// `F (T1, T2 via R1, R2)`: a function with the transactions and roles that grant it.
fn granted(function: &str, held: &Held) -> String {
    let roles: Vec<&str> = held.roles.iter().map(String::as_str).collect();
    if held.transactions.is_empty() {
        format!("{function} (via {})", roles.join(", "))
    } else {
        let t: Vec<&str> = held.transactions.iter().map(String::as_str).collect();
        format!("{function} ({} via {})", t.join(", "), roles.join(", "))
    }
}
#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::Problems;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sources/sap");

    fn hits(sources: &str) -> Vec<String> {
        let as_of = crate::node::parse_date("2026-10-01");
        let inv = match crate::open::load_as_of(&Path::new(FIXTURE).join(sources), as_of) {
            Ok((inv, _)) => inv,
            Err(p) => panic!("{p:?}"),
        };
        let src = crate::text::read(&Path::new(FIXTURE).join("sap.ruleset.yaml"), "ruleset")
            .unwrap_or_else(|p| panic!("{p:?}"));
        let root = crate::yaml::parse(&src).unwrap_or_else(|p| panic!("{p:?}"));
        let mut sink = Problems::default();
        let rs = crate::policy::ruleset::parse(&root, &mut sink);
        crate::policy::ruleset::check(std::slice::from_ref(&rs), None, &mut sink);
        assert!(sink.0.is_empty(), "{sink:?}");
        evaluate(&inv, std::slice::from_ref(&rs))
            .into_iter()
            .map(|h| {
                let functions: Vec<String> = h
                    .functions
                    .iter()
                    .map(|(f, held)| {
                        let t: Vec<&str> = held.transactions.iter().map(String::as_str).collect();
                        let r: Vec<&str> = held.roles.iter().map(String::as_str).collect();
                        format!("{f} [{}] by [{}]", t.join(", "), r.join(", "))
                    })
                    .collect();
                format!(
                    "{} {} {}: {} <= {}",
                    h.rule,
                    h.identity,
                    h.system,
                    functions.join("; "),
                    h.entitlements.join(", ")
                )
            })
            .collect()
    }

    #[test]
    fn risks_fire_on_active_users_holding_every_function_with_what_grants_them() {
        let got = hits("sources-csv.yaml");
        assert_eq!(
            got,
            [
                // A composite gives its children's authorizations; the action comes from a
                // range (FK01–FK03) and both F_LFA1_APP lines from one authorization.
                "SOC-P2P-01 E100 sap-p01: VENDOR-MAINT [FK01–FK03, XK01] by [Z_AP_VENDOR_MAINT]; PAYMENT-RUN [F110] by [Z_AP_PAYMENT_RUN] <= E100:sap-p01:Z_AP_PAYMENT_RUN, E100:sap-p01:Z_AP_VENDOR_MAINT",
                "SOC-P2P-01 E101 sap-p01: VENDOR-MAINT [FK01–FK03, XK01] by [Z_C_PROCURE_TO_PAY → Z_AP_VENDOR_MAINT]; PAYMENT-RUN [F110] by [Z_C_PROCURE_TO_PAY → Z_AP_PAYMENT_RUN] <= E101:sap-p01:Z_C_PROCURE_TO_PAY",
                // The deleted SE16N row does not count; SU* covers SU01. On SOX only: the
                // system user holding a critical action.
                "SOX-BASIS-01 sap-p01:BATCH_FI sap-p01: USER-ADMIN [SU*] by [Z_BASIS_USER_ADMIN] <= sap-p01:BATCH_FI:sap-p01:Z_BASIS_USER_ADMIN",
                "SOX-P2P-01 E100 sap-p01: VENDOR-MAINT [FK01–FK03, XK01] by [Z_AP_VENDOR_MAINT]; PAYMENT-RUN [F110] by [Z_AP_PAYMENT_RUN] <= E100:sap-p01:Z_AP_PAYMENT_RUN, E100:sap-p01:Z_AP_VENDOR_MAINT",
                "SOX-P2P-01 E101 sap-p01: VENDOR-MAINT [FK01–FK03, XK01] by [Z_C_PROCURE_TO_PAY → Z_AP_VENDOR_MAINT]; PAYMENT-RUN [F110] by [Z_C_PROCURE_TO_PAY → Z_AP_PAYMENT_RUN] <= E101:sap-p01:Z_C_PROCURE_TO_PAY",
            ],
            "not MBROWN (locked in SAP, though active in HR as E102) nor KLEE (expired); not JSMITH's expired GL role (no R2R risk) \
             nor the deleted SE16N value (no BASIS-02)"
        );
        assert_eq!(got, hits("sources-txt.yaml"), "SE16N text gives the same hits");
    }

    /// The starter ruleset of the built-in pack, read and checked against the built-in
    /// control catalog.
    fn starter() -> Ruleset {
        let text = include_str!("../../../policies/sap.ruleset.yaml");
        let src = crate::source::Source::new("builtin:policies/sap.ruleset.yaml", text);
        let root = crate::yaml::parse(&src).unwrap_or_else(|p| panic!("{p:?}"));
        let controls = crate::policy::builtin_files()
            .into_iter()
            .find(|s| s.name().ends_with("controls.yaml"))
            .unwrap_or_else(|| panic!("no control catalog"));
        let controls: ControlCatalog = crate::yaml::from_str_typed(&controls).unwrap_or_else(|p| panic!("{p:?}"));
        let mut sink = Problems::default();
        let rs = crate::policy::ruleset::parse(&root, &mut sink);
        crate::policy::ruleset::check(std::slice::from_ref(&rs), Some(&controls), &mut sink);
        assert!(sink.0.is_empty(), "{sink:?}");
        rs
    }

    /// A role granting exactly what `f` names: its first transaction and, per object, one
    /// authorization with the first value of each line.
    fn role_for(f: &Function, with_values: bool) -> crate::inventory::authz::Role {
        use crate::inventory::authz::{Range, Role, TCODE_FIELD, TCODE_OBJECT};
        let mut role = Role::default();
        if let Some(action) = f.actions.first() {
            role.authorization_mut(TCODE_OBJECT, "T")
                .allow(TCODE_FIELD, Range::new(action.trim_end_matches('*'), ""));
        }
        if with_values {
            for l in &f.permissions {
                if let Some(v) = l.values.first() {
                    role.authorization_mut(&l.object, "A")
                        .allow(&l.field, Range::new(v, ""));
                }
            }
        }
        role
    }

    #[test]
    fn the_starter_ruleset_covers_the_four_processes_with_enough_risks() {
        let rs = starter();
        let count = |kind: RiskType| rs.risks.iter().filter(|r| r.kind == kind).count();
        assert!(count(RiskType::Sod) >= 15, "{} SoD risks", count(RiskType::Sod));
        assert!(
            count(RiskType::CriticalAction) >= 8,
            "{} critical actions",
            count(RiskType::CriticalAction)
        );
        let processes: std::collections::BTreeSet<&str> = rs
            .risks
            .iter()
            .filter(|r| r.kind == RiskType::Sod)
            .map(|r| r.process.as_str())
            .collect();
        assert_eq!(
            processes.into_iter().collect::<Vec<_>>(),
            ["basis", "order-to-cash", "procure-to-pay", "record-to-report"]
        );
        for r in &rs.risks {
            assert!(
                !r.description.is_empty() && !r.process.is_empty() && !r.controls.is_empty(),
                "{} lacks a description, process or controls",
                r.id.value
            );
        }
    }

    /// One case per risk that fires (a user holding a role per function) and one that
    /// does not (the last function missing; for a critical action, its transaction
    /// without its authorization values, or nothing).
    #[test]
    fn every_starter_risk_fires_on_its_functions_and_not_without_them() {
        let rs = starter();
        let mut book = crate::inventory::authz::RoleBook::default();
        let mut bare = crate::inventory::authz::RoleBook::default();
        for f in &rs.functions {
            book.roles.insert(format!("R_{}", f.id.value), role_for(f, true));
            bare.roles.insert(format!("R_{}", f.id.value), role_for(f, false));
        }
        let function = |id: &str| rs.functions.iter().find(|f| f.id.value == id);
        let run = |book: &crate::inventory::authz::RoleBook, risk: &Risk, roles: &[String]| {
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            fires(risk, |f| function(f).and_then(|func| func.held(book, &roles)))
        };
        let mut checked = 0;
        for risk in &rs.risks {
            let roles: Vec<String> = risk.functions.iter().map(|f| format!("R_{}", f.value)).collect();
            let Some(held) = run(&book, risk, &roles) else {
                panic!("{} does not fire on {roles:?}", risk.id.value);
            };
            for ((f, h), role) in held.iter().zip(&roles) {
                assert!(
                    h.roles.contains(role),
                    "{}: {f} is not granted by {role}",
                    risk.id.value
                );
                let def = function(f).unwrap_or_else(|| panic!("{f}"));
                assert_eq!(
                    h.transactions.is_empty(),
                    def.actions.is_empty(),
                    "{}: {f}",
                    risk.id.value
                );
            }
            let missing = match risk.kind {
                RiskType::Sod => run(&book, risk, roles.get(..roles.len() - 1).unwrap_or_default()),
                RiskType::CriticalAction => run(&bare, risk, &roles),
            };
            let has_values = risk
                .functions
                .iter()
                .all(|f| function(&f.value).is_some_and(|d| !d.permissions.is_empty()));
            if risk.kind == RiskType::Sod || has_values {
                assert!(missing.is_none(), "{} fires without all it needs", risk.id.value);
            } else {
                assert!(run(&book, risk, &[]).is_none(), "{} fires on no role", risk.id.value);
            }
            checked += 1;
        }
        assert_eq!(checked, rs.risks.len());
    }
}
