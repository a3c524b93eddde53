//! Gathering a pack's files (a directory or the built-in pack), sorting them into rules and
//! catalogs, compiling and validating every rule; all problems are reported together.

use std::path::Path;
use std::sync::Arc;

use cedar_policy::{PolicySet, ValidationMode, Validator};
use include_dir::{include_dir, Dir};
use miette::Diagnostic;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::model::Model;
use crate::node::{Node, Value};
use crate::source::Source;

use super::{cedar_rules, sod, yaml_rules, ControlCatalog, FunctionCatalog, Rule};

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../policies");

/// Top-level keys that say what a pack YAML file holds, in the order they are looked for
/// (an SoD matrix also has `controls:`, a function catalog never has `rules:`).
const KINDS: &[&str] = &["conflicts", "rules", "functions", "controls"];

/// A loaded, validated policy pack.
#[derive(Debug)]
pub struct Pack {
    /// Every rule, sorted by track then id.
    pub rules: Vec<Rule>,
    /// The control catalog.
    pub controls: ControlCatalog,
    /// The SoD function catalog.
    pub functions: FunctionCatalog,
    /// Every file the pack was read from.
    pub sources: Vec<Arc<Source>>,
    /// The SAP rulesets (`*.ruleset.yaml`), in file name order. Their risks are evaluated
    /// natively ([`crate::eval::ruleset`]); they do not compile to Cedar rules yet.
    pub rulesets: Vec<super::ruleset::Ruleset>,
}

impl Pack {
    /// The rule with `id`.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rule ids the rulesets' risks can be reported under, with their track, sorted:
    /// `<TRACK>-<risk id>` for each of the risk's tracks, and `SOX-<risk id>` for every
    /// critical action (a non-human identity holding one is reported on SOX).
    pub fn risk_rules(&self) -> Vec<(String, super::Track)> {
        let mut out = Vec::new();
        for risk in self.rulesets.iter().flat_map(|r| r.risks.iter()) {
            for track in super::Track::ALL {
                let nhi_sox = track == super::Track::Sox && risk.kind == super::ruleset::RiskType::CriticalAction;
                if risk.tracks.contains(&track) || nhi_sox {
                    out.push((
                        format!("{}-{}", track.as_str().to_ascii_uppercase(), risk.id.value),
                        track,
                    ));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The risk a ruleset rule id (`SOC-<risk id>` or `SOX-<risk id>`) reports.
    pub fn risk_of(&self, rule: &str) -> Option<&super::ruleset::Risk> {
        let id = rule.strip_prefix("SOC-").or_else(|| rule.strip_prefix("SOX-"))?;
        self.rulesets
            .iter()
            .flat_map(|r| r.risks.iter())
            .find(|r| r.id.value == id)
    }

    /// The conflicting function pairs of the SoD matrix, read from the rules it compiled
    /// to (one `SOX-SOD-nnn` per conflict), sorted and without repeats.
    pub fn sod_conflicts(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .rules
            .iter()
            .filter(|r| r.origin == super::Origin::SodMatrix && r.track == super::Track::Sox)
            .filter_map(|r| match r.functions.as_slice() {
                [a, b] => Some(if a <= b {
                    (a.clone(), b.clone())
                } else {
                    (b.clone(), a.clone())
                }),
                _ => None,
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }
}

fn is_pack_file(path: &str) -> bool {
    let p = Path::new(path);
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let in_tests = p.components().any(|c| c.as_os_str() == "tests");
    matches!(ext, "yaml" | "yml" | "cedar") && !in_tests && !is_test_file(path) && !path.ends_with("README.md")
}

/// True for a policy test file (`*.test.yaml` or `*.test.yml`), which is never a rule file.
pub fn is_test_file(path: &str) -> bool {
    path.ends_with(".test.yaml") || path.ends_with(".test.yml")
}

/// The built-in pack's files, named `builtin:policies/…`.
pub fn builtin_files() -> Vec<Arc<Source>> {
    builtin_where(is_pack_file)
}

/// The built-in pack's policy test files (`policies/tests/*.test.yaml`).
pub fn builtin_test_files() -> Vec<Arc<Source>> {
    builtin_where(is_test_file)
}

fn builtin_where(keep: fn(&str) -> bool) -> Vec<Arc<Source>> {
    let mut out = Vec::new();
    collect_builtin(&BUILTIN, &mut out, keep);
    out.sort_by(|a, b| a.name().cmp(b.name()));
    out
}

fn collect_builtin(dir: &Dir<'_>, out: &mut Vec<Arc<Source>>, keep: fn(&str) -> bool) {
    for f in dir.files() {
        let path = f.path().to_string_lossy().replace('\\', "/");
        if keep(&path) {
            if let Some(text) = f.contents_utf8() {
                out.push(Source::new(format!("builtin:policies/{path}"), text));
            }
        }
    }
    for d in dir.dirs() {
        collect_builtin(d, out, keep);
    }
}

/// The pack files under `dir` (recursively), sorted by path.
pub fn dir_files(dir: &Path) -> Result<Vec<Arc<Source>>, Problems> {
    dir_where(dir, is_pack_file)
}

/// The policy test files (`*.test.yaml`) under `dir` (recursively), sorted by path.
pub fn dir_test_files(dir: &Path) -> Result<Vec<Arc<Source>>, Problems> {
    dir_where(dir, is_test_file)
}

fn dir_where(dir: &Path, keep: fn(&str) -> bool) -> Result<Vec<Arc<Source>>, Problems> {
    let mut sink = Problems::default();
    let mut out = Vec::new();
    if !dir.is_dir() {
        sink.push(
            Problem::error(
                Code::Io,
                None,
                format!("policy directory `{}` does not exist", dir.display()),
            )
            .with_help(
                "give `--policies` a directory of `.yaml` and `.cedar` files, or leave it out to use the built-in pack",
            ),
        );
        return Err(sink);
    }
    walk(dir, dir, &mut out, &mut sink, keep);
    out.sort_by(|a, b| a.name().cmp(b.name()));
    if sink.has_errors() {
        Err(sink)
    } else {
        Ok(out)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Arc<Source>>, sink: &mut Problems, keep: fn(&str) -> bool) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            sink.push(Problem::error(
                Code::Io,
                None,
                format!("cannot read `{}`: {e}", dir.display()),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out, sink, keep);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if !keep(&rel) {
            continue;
        }
        match crate::text::read(&path, "--policies") {
            Ok(src) => out.push(src),
            Err(p) => sink.push(p),
        }
    }
}

/// Compiles and validates a pack. `Err` holds every problem when any is an error.
pub fn load(files: Vec<Arc<Source>>, model: &Model) -> Result<Pack, Problems> {
    match load_lenient(files, model) {
        (Some(pack), problems) if !problems.has_errors() => Ok(pack),
        (_, problems) => Err(problems),
    }
}

/// Like [`load`], but also returns the pack built from the rules that did compile when
/// others did not (`None` only without both catalogs), so `dualtrack lint` can go on
/// checking the rest and report every problem in one run. Never evaluate such a pack.
pub fn load_lenient(files: Vec<Arc<Source>>, model: &Model) -> (Option<Pack>, Problems) {
    let mut sink = Problems::default();
    let mut controls: Option<(ControlCatalog, Arc<Source>)> = None;
    let mut functions: Option<(FunctionCatalog, Arc<Source>)> = None;
    let mut rule_files: Vec<(Arc<Source>, Node)> = Vec::new();
    let mut sod_files: Vec<(Arc<Source>, Node)> = Vec::new();
    let mut cedar_files = Vec::new();
    let mut rulesets = Vec::new();

    for src in &files {
        if src.name().ends_with(".cedar") {
            cedar_files.push(Arc::clone(src));
            continue;
        }
        let root = match crate::yaml::parse(src) {
            Ok(r) => r,
            Err(p) => {
                sink.push(p);
                continue;
            }
        };
        // A ruleset is told by its name: it has `functions:` as a function catalog has.
        if super::ruleset::is_ruleset(src.name()) {
            rulesets.push(super::ruleset::parse(&root, &mut sink));
            continue;
        }
        let kind = match &root.value {
            Value::Map(entries) => KINDS.iter().copied().find(|k| entries.iter().any(|(e, _, _)| e == k)),
            _ => None,
        };
        match kind {
            Some("controls") => catalog_once(&mut controls, src, "control", &mut sink),
            Some("functions") => catalog_once(&mut functions, src, "function", &mut sink),
            Some("conflicts") => sod_files.push((Arc::clone(src), root)),
            Some(_) => rule_files.push((Arc::clone(src), root)),
            None => {
                let first = match &root.value {
                    Value::Map(e) => e.first().map(|(k, _, _)| k.clone()),
                    _ => None,
                };
                let help = first.map_or_else(
                    || {
                        format!(
                            "a pack YAML file holds one of {}",
                            KINDS.iter().map(|k| format!("`{k}:`")).collect::<Vec<_>>().join(", ")
                        )
                    },
                    |k| suggest(&k, KINDS),
                );
                sink.push(
                    Problem::error(Code::Shape, Some(root.loc.clone()), "not a policy pack file").with_help(help),
                );
            }
        }
    }

    let Some((controls, _)) = controls else {
        sink.push(
            Problem::error(Code::Layout, None, "the policy pack has no control catalog")
                .with_help("add a `controls.yaml` holding `controls:`"),
        );
        sink.sort();
        return (None, sink);
    };
    let Some((functions, _)) = functions else {
        sink.push(
            Problem::error(Code::Layout, None, "the policy pack has no function catalog")
                .with_help("add a `functions.yaml` holding `functions:`"),
        );
        sink.sort();
        return (None, sink);
    };
    check_function_catalog(
        &functions,
        &mut sink,
        files.iter().find(|s| s.name().ends_with("functions.yaml")),
    );

    let mut rules = Vec::new();
    for (_, root) in &rule_files {
        rules.extend(yaml_rules::compile_file(root, model, &mut sink));
    }
    for (_, root) in &sod_files {
        rules.extend(sod::compile_file(root, &functions, &mut sink));
    }
    for src in &cedar_files {
        rules.extend(cedar_rules::load_file(src, &mut sink));
    }
    check_rules(&mut rules, &controls, model, &mut sink);
    super::ruleset::check(&rulesets, Some(&controls), &mut sink);
    sink.sort();
    rules.sort_by(|a, b| (a.track, &a.id).cmp(&(b.track, &b.id)));
    let pack = Pack {
        rules,
        controls,
        functions,
        sources: files,
        rulesets,
    };
    (Some(pack), sink)
}

fn catalog_once<T: serde::de::DeserializeOwned>(
    slot: &mut Option<(T, Arc<Source>)>,
    src: &Arc<Source>,
    what: &str,
    sink: &mut Problems,
) {
    if let Some((_, first)) = slot {
        sink.push(
            Problem::error(Code::Layout, Some(src.whole()), format!("a second {what} catalog")).with_help(format!(
                "the first is `{}`; keep one {what} catalog per pack",
                first.name()
            )),
        );
        return;
    }
    match crate::yaml::from_str_typed::<T>(src) {
        Ok(c) => *slot = Some((c, Arc::clone(src))),
        Err(p) => sink.push(p),
    }
}

fn check_function_catalog(cat: &FunctionCatalog, sink: &mut Problems, src: Option<&Arc<Source>>) {
    let loc = src.map(|s| s.whole());
    for m in &cat.mappings {
        for f in &m.functions {
            if !cat.knows(f) {
                let ids: Vec<&str> = cat.functions.iter().map(|f| f.id.as_str()).collect();
                sink.push(
                    Problem::error(
                        Code::UnknownFunction,
                        loc.clone(),
                        format!("mapping for `{}` names unknown function `{f}`", m.permission),
                    )
                    .with_help(suggest(f, &ids)),
                );
            }
        }
    }
}

fn check_rules(rules: &mut Vec<Rule>, controls: &ControlCatalog, model: &Model, sink: &mut Problems) {
    rules.sort_by(|a, b| {
        a.id.cmp(&b.id)
            .then_with(|| a.loc.file().cmp(b.loc.file()))
            .then(a.loc.offset.cmp(&b.loc.offset))
    });
    let mut i = 1;
    while i < rules.len() {
        match (rules.get(i - 1), rules.get(i)) {
            (Some(prev), Some(cur)) if prev.id == cur.id => {
                sink.push(
                    Problem::error(
                        Code::DuplicateId,
                        Some(cur.loc.clone()),
                        format!("duplicate rule id `{}`", cur.id),
                    )
                    .with_help(format!(
                        "the first is at {}; rule ids must be unique across the pack",
                        prev.loc
                    )),
                );
                rules.remove(i);
            }
            _ => i += 1,
        }
    }
    let ids: Vec<&str> = controls.controls.iter().map(|c| c.id.as_str()).collect();
    let validator = Validator::new(model.schema.clone());
    for rule in rules.iter() {
        for c in rule.controls.iter().chain(&rule.nhi_controls) {
            if controls.get(c).is_none() {
                sink.push(
                    Problem::error(
                        Code::UnknownControl,
                        Some(rule.loc.clone()),
                        format!(
                            "rule `{}` cites control `{c}`, which the control catalog does not hold",
                            rule.id
                        ),
                    )
                    .with_help(suggest(c, &ids)),
                );
            }
        }
        let mut set = PolicySet::new();
        if let Err(e) = set.add(rule.policy.clone()) {
            sink.push(Problem::error(
                Code::CedarValidation,
                Some(rule.loc.clone()),
                format!("rule `{}` cannot be added to a policy set: {e}", rule.id),
            ));
            continue;
        }
        let result = validator.validate(&set, ValidationMode::Strict);
        for err in result.validation_errors() {
            let loc = match rule.origin {
                super::Origin::Cedar => err.labels().and_then(|mut l| l.next()).map_or_else(
                    || rule.loc.clone(),
                    |l| rule.loc.src.loc(rule.loc.offset + l.offset(), l.len()),
                ),
                _ => rule.loc.clone(),
            };
            let help = err.help().map_or_else(
                || "see `schemas/dualtrack.cedarschema` for the attributes of each entity".to_owned(),
                |h| h.to_string(),
            );
            sink.push(
                Problem::error(
                    Code::CedarValidation,
                    Some(loc),
                    format!("rule `{}` fails Strict validation: {err}", rule.id),
                )
                .with_help(help),
            );
        }
    }
}
