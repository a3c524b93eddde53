//! SAP ruleset risks evaluated natively over an imported inventory: for each active
//! identity and each system with a role book, the ruleset functions its roles hold, and
//! the risks whose functions are all held, per track (`SOC-<risk>` on every system,
//! `SOX-<risk>` on `sox_in_scope` systems). Not yet part of `check`: the hits are not
//! findings and the risks are not compiled to Cedar.

use std::collections::BTreeMap;

use crate::inventory::{Entitlement, Inventory, Status};
use crate::policy::ruleset::{Held, Ruleset};
use crate::policy::Track;

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
    let functions: BTreeMap<&str, _> = rulesets
        .iter()
        .flat_map(|r| r.functions.iter())
        .map(|f| (f.id.value.as_str(), f))
        .collect();
    let mut held_by: BTreeMap<(&str, &str), Vec<&Entitlement>> = BTreeMap::new();
    for e in &inv.entitlements {
        if inv.authorizations.system(&e.system.value).is_some() {
            held_by.entry((&e.identity.value, &e.system.value)).or_default().push(e);
        }
    }
    let mut hits = Vec::new();
    for ((identity, system), ents) in held_by {
        let active = inv.identity(identity).is_some_and(|i| i.status == Status::Active);
        let (Some(book), Some(sys)) = (inv.authorizations.system(system), inv.system(system)) else {
            continue;
        };
        if !active {
            continue;
        }
        // A locked or expired SAP user's assignments count for nobody, even when the user
        // is correlated to an active person.
        let ents: Vec<&Entitlement> = ents.into_iter().filter(|e| !book.is_inactive(&e.loc)).collect();
        let roles: Vec<&str> = ents.iter().map(|e| &*e.permission).collect();
        let mut cache: BTreeMap<&str, Option<Held>> = BTreeMap::new();
        for risk in rulesets.iter().flat_map(|r| r.risks.iter()) {
            let mut all = Vec::new();
            for f in &risk.functions {
                let held = cache
                    .entry(f.value.as_str())
                    .or_insert_with(|| functions.get(f.value.as_str()).and_then(|func| func.held(book, &roles)));
                match held {
                    Some(h) => all.push((f.value.clone(), h.clone())),
                    None => break,
                }
            }
            if all.is_empty() || all.len() != risk.functions.len() {
                continue;
            }
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
            for track in &risk.tracks {
                if *track == Track::Sox && !sys.sox_in_scope {
                    continue;
                }
                hits.push(Hit {
                    rule: format!("{}-{}", track.as_str().to_ascii_uppercase(), risk.id.value),
                    track: *track,
                    identity: identity.to_owned(),
                    system: system.to_owned(),
                    functions: all.clone(),
                    entitlements: entitlements.clone(),
                });
            }
        }
    }
    hits.sort_by(|a, b| (&a.rule, &a.identity, &a.system).cmp(&(&b.rule, &b.identity, &b.system)));
    hits
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
}
