//! The SoD conflict matrix: each pair of incompatible business functions compiles to two
//! SOX rules, one for a conflict within a single in-scope system (`SOX-SOD-nnn`) and one
//! for a conflict spread across systems, at least one of them in scope (`SOX-SODX-nnn`),
//! and, when the matrix names `soc_controls`, a SOC rule for the pair held on any systems
//! (`SOC-SOD-nnn`; SOC 2 CC6.3 asks for segregation of duties too).

use std::str::FromStr;

use cedar_policy::{Policy, PolicyId};

use crate::diag::{suggest, Code, Problem, Problems};
use crate::node::{Fields, Node};

use super::{est, Category, FunctionCatalog, Involves, Origin, Rule, Severity, Subject, Track};

const FILE_FIELDS: &[&str] = &["conflicts", "controls", "soc_controls", "nhi_controls", "remediation"];
const CONFLICT_FIELDS: &[&str] = &["id", "functions", "severity", "title", "risk"];

/// The key under which a pair co-held on one in-scope system appears in
/// `Identity.sox_same_system_pairs`: the two function ids, sorted, joined by `+`.
pub fn pair_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}+{b}")
    } else {
        format!("{b}+{a}")
    }
}

/// Compiles a `conflicts:` file into rules.
pub fn compile_file(root: &Node, functions: &FunctionCatalog, sink: &mut Problems) -> Vec<Rule> {
    let Some(file) = Fields::new(root, "SoD matrix", FILE_FIELDS, sink) else {
        return Vec::new();
    };
    let controls: Vec<String> = file.opt_list("controls", sink).into_iter().map(|c| c.value).collect();
    let soc_controls: Vec<String> = file
        .opt_list("soc_controls", sink)
        .into_iter()
        .map(|c| c.value)
        .collect();
    let nhi_controls: Vec<String> = file
        .opt_list("nhi_controls", sink)
        .into_iter()
        .map(|c| c.value)
        .collect();
    let remediation = file.req_str("remediation", sink).map(|r| r.value).unwrap_or_default();
    if controls.is_empty() {
        sink.push(
            Problem::error(
                Code::MissingField,
                Some(root.loc.clone()),
                "SoD matrix cites no `controls`",
            )
            .with_help("add `controls: [...]` listing the SoD controls"),
        );
    }
    let Some(list) = file.get("conflicts") else {
        return Vec::new();
    };
    let items = match list.as_seq("`conflicts`") {
        Ok(i) => i,
        Err(p) => {
            sink.push(p);
            return Vec::new();
        }
    };
    let known: Vec<&str> = functions.functions.iter().map(|f| f.id.as_str()).collect();
    let mut rules = Vec::new();
    for item in items {
        let Some(f) = Fields::new(item, "conflict", CONFLICT_FIELDS, sink) else {
            continue;
        };
        let id = f.req_str("id", sink);
        let title = f.req_str("title", sink);
        let severity = f
            .opt_enum("severity", Severity::CHOICES, sink)
            .unwrap_or(Severity::High);
        let risk = f.opt_str("risk", sink).map(|r| r.value).unwrap_or_default();
        let pair = f.opt_list("functions", sink);
        let mut ok = true;
        for func in &pair {
            if !functions.knows(&func.value) {
                sink.push(
                    Problem::error(
                        Code::UnknownFunction,
                        Some(func.loc.clone()),
                        format!("unknown business function `{}`", func.value),
                    )
                    .with_label("not in the function catalog")
                    .with_help(suggest(&func.value, &known)),
                );
                ok = false;
            }
        }
        let ([a, b], Some(id), Some(title)) = (pair.as_slice(), id, title) else {
            if pair.len() != 2 {
                sink.push(
                    Problem::error(
                        Code::Shape,
                        Some(f.loc().clone()),
                        "a conflict names exactly two `functions`",
                    )
                    .with_help("write `functions: [a, b]`"),
                );
            }
            continue;
        };
        if !ok {
            continue;
        }
        let number = id.value.trim_start_matches("SOD-").to_owned();
        let key = pair_key(&a.value, &b.value);
        let p = || est::var("principal");
        let holds = |set: &str, f: &str| est::bin("contains", est::get(p(), set), est::lit(f));
        let within = est::bin(
            "contains",
            est::get(p(), "sox_same_system_pairs"),
            est::lit(key.as_str()),
        );
        let across = est::and_all(vec![
            holds("functions", &a.value),
            holds("functions", &b.value),
            est::or_any(vec![holds("sox_functions", &a.value), holds("sox_functions", &b.value)]),
            est::not(within.clone()),
        ]);
        let anywhere = est::and_all(vec![holds("functions", &a.value), holds("functions", &b.value)]);
        let mut variants = vec![
            (
                Track::Sox,
                format!("SOX-SOD-{number}"),
                "within one in-scope system",
                within,
                Involves::SoxInScope,
                &controls,
            ),
            (
                Track::Sox,
                format!("SOX-SODX-{number}"),
                "across systems",
                across,
                Involves::All,
                &controls,
            ),
        ];
        if !soc_controls.is_empty() {
            variants.push((
                Track::Soc,
                format!("SOC-SOD-{number}"),
                "on any systems",
                anywhere,
                Involves::All,
                &soc_controls,
            ));
        }
        for (track, rule_id, scope, body, involves, controls) in variants {
            let rule_title = format!("{} ({scope})", title.value);
            let annotations = [
                ("id", rule_id.clone()),
                ("track", track.as_str().to_owned()),
                ("category", "conflicting".to_owned()),
                ("severity", severity.as_str().to_owned()),
                ("controls", controls.join(", ")),
                ("title", rule_title.clone()),
                ("remediation", remediation.clone()),
            ];
            let json = est::forbid(Subject::Identity.action(), body, &annotations);
            let reads = est::read_paths(&json, true);
            let policy = match Policy::from_json(PolicyId::from_str(&rule_id).ok(), json) {
                Ok(p) => p,
                Err(e) => {
                    sink.push(Problem::error(
                        Code::CedarValidation,
                        Some(id.loc.clone()),
                        format!("conflict `{}` does not compile to Cedar: {e}", id.value),
                    ));
                    continue;
                }
            };
            rules.push(Rule {
                id: rule_id,
                title: rule_title,
                track,
                category: Category::Conflicting,
                severity,
                controls: controls.clone(),
                nhi_controls: nhi_controls.clone(),
                subject: Subject::Identity,
                involves,
                functions: vec![a.value.clone(), b.value.clone()],
                message: Some(format!(
                    "`{{identity}}` holds both `{}` and `{}` {scope}",
                    a.value, b.value
                )),
                remediation: remediation.clone(),
                description: risk.clone(),
                policy,
                reads,
                loc: f.loc().clone(),
                origin: Origin::SodMatrix,
            });
        }
    }
    rules
}
