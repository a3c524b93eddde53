//! Reading policy test files into cases. Records go through the inventory decoder; every
//! expectation is checked against the pack and the case's own records, so a test that can
//! never work as written is a coded diagnostic at its line, not a puzzling failure.

use std::sync::Arc;

use crate::diag::{did_you_mean, suggest, Code, Problem, Problems};
use crate::inventory::{self, Inventory};
use crate::node::{Fields, Node};
use crate::policy::{Pack, Track};
use crate::source::{Loc, Source};

use super::{Case, Expected, Suite};

/// Top-level keys of a test file.
pub const FILE_FIELDS: &[&str] = &["cases"];

/// Keys of one test case.
pub const CASE_FIELDS: &[&str] = &[
    "name",
    "as_of",
    "tracks",
    "only_rules",
    "systems",
    "identities",
    "entitlements",
    "expect",
];

/// Keys of one expected finding.
pub const EXPECT_FIELDS: &[&str] = &["rule", "identity", "entitlements", "track"];

/// Reads every test file. `Err` holds every problem of every file when any is an error.
pub fn load(files: Vec<Arc<Source>>, pack: &Pack) -> Result<Suite, Problems> {
    let mut sink = Problems::default();
    let mut cases = Vec::new();
    for src in &files {
        match crate::yaml::parse(src) {
            Ok(root) => read_file(&root, pack, &mut cases, &mut sink),
            Err(p) => sink.push(p),
        }
    }
    sink.sort();
    if sink.has_errors() {
        return Err(sink);
    }
    Ok(Suite { cases, files })
}

fn read_file(root: &Node, pack: &Pack, cases: &mut Vec<Case>, sink: &mut Problems) {
    let Some(file) = Fields::new(root, "policy test file", FILE_FIELDS, sink) else {
        return;
    };
    let Some(list) = file.get("cases") else {
        sink.push(
            Problem::error(
                Code::MissingField,
                Some(root.loc.clone()),
                "policy test file has no `cases`",
            )
            .with_help("list the test cases under `cases:`"),
        );
        return;
    };
    let items = match list.as_seq("`cases`") {
        Ok(items) => items,
        Err(p) => return sink.push(p),
    };
    let mut seen: Vec<(String, Loc)> = Vec::new();
    for item in items {
        let Some(case) = read_case(item, pack, sink) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == case.name) {
            sink.push(
                Problem::error(
                    Code::DuplicateId,
                    Some(case.loc.clone()),
                    format!("duplicate test case name `{}`", case.name),
                )
                .with_label("second case with this name")
                .with_help(format!("the first is at {first}; names must be unique within a file")),
            );
            continue;
        }
        seen.push((case.name.clone(), case.loc.clone()));
        cases.push(case);
    }
}

/// What an expectation is checked against.
struct Scope<'a> {
    pack: &'a Pack,
    tracks: &'a [Track],
    only_rules: Option<&'a [String]>,
    inventory: Option<&'a Inventory>,
}

fn read_case(node: &Node, pack: &Pack, sink: &mut Problems) -> Option<Case> {
    let f = Fields::new(node, "test case", CASE_FIELDS, sink)?;
    let name = f.req_str("name", sink);
    let as_of = f.req_date("as_of", sink);
    let tracks = read_tracks(&f, sink);
    let only_rules = read_only_rules(&f, pack, sink);
    let inventory = match inventory::from_nodes(f.get("systems"), f.get("identities"), f.get("entitlements")) {
        Ok(inv) => {
            let cross = crate::eval::crosscheck(&inv, pack);
            let usable = !cross.has_errors();
            sink.0.extend(cross.0);
            usable.then_some(inv)
        }
        Err(problems) => {
            sink.0.extend(problems.0);
            None
        }
    };
    let scope = Scope {
        pack,
        tracks: &tracks,
        only_rules: only_rules.as_deref(),
        inventory: inventory.as_ref(),
    };
    let expect = read_expect(&f, &scope, sink);
    Some(Case {
        name: name?.value,
        loc: f.loc().clone(),
        as_of: as_of?,
        tracks,
        only_rules,
        inventory: inventory?,
        expect: expect?,
    })
}

fn read_tracks(f: &Fields<'_>, sink: &mut Problems) -> Vec<Track> {
    if f.get("tracks").is_none() {
        return Track::ALL.to_vec();
    }
    let names: Vec<&str> = Track::CHOICES.iter().map(|(n, _)| *n).collect();
    let mut tracks = Vec::new();
    for t in f.opt_list("tracks", sink) {
        match Track::CHOICES.iter().find(|(n, _)| *n == t.value) {
            Some((_, track)) => tracks.push(*track),
            None => sink.push(
                Problem::error(
                    Code::BadValue,
                    Some(t.loc.clone()),
                    format!("unknown track `{}`", t.value),
                )
                .with_label("not a track")
                .with_help(suggest(&t.value, &names)),
            ),
        }
    }
    if tracks.is_empty() {
        if let Some(node) = f.get("tracks") {
            sink.push(
                Problem::error(Code::BadValue, Some(node.loc.clone()), "`tracks` names no track")
                    .with_help("write `tracks: [soc]`, `[sox]` or `[soc, sox]`, or drop `tracks` to evaluate both"),
            );
        }
    }
    tracks.sort();
    tracks.dedup();
    tracks
}

fn read_only_rules(f: &Fields<'_>, pack: &Pack, sink: &mut Problems) -> Option<Vec<String>> {
    let node = f.get("only_rules")?;
    let ids = f.opt_list("only_rules", sink);
    if ids.is_empty() {
        sink.push(
            Problem::error(Code::BadValue, Some(node.loc.clone()), "`only_rules` names no rule")
                .with_help("name the rules whose findings this case compares, or drop `only_rules` to compare all"),
        );
    }
    for id in &ids {
        if pack.rule(&id.value).is_none() {
            sink.push(unknown_rule(pack, &id.value, &id.loc));
        }
    }
    Some(ids.into_iter().map(|s| s.value).collect())
}

fn unknown_rule(pack: &Pack, id: &str, loc: &Loc) -> Problem {
    let help = did_you_mean(id, pack.rules.iter().map(|r| r.id.as_str())).map_or_else(
        || "use the id of a rule in the pack (`dualtrack explain RULE` shows one)".to_owned(),
        |c| format!("did you mean `{c}`?"),
    );
    Problem::error(
        Code::UnknownRule,
        Some(loc.clone()),
        format!("no rule `{id}` in the pack"),
    )
    .with_label("not a rule of the pack")
    .with_help(help)
}

/// The expectations; `None` when `expect` is absent (an empty list must be written).
fn read_expect(f: &Fields<'_>, scope: &Scope<'_>, sink: &mut Problems) -> Option<Vec<Expected>> {
    let Some(node) = f.get("expect") else {
        sink.push(
            Problem::error(
                Code::MissingField,
                Some(f.loc().clone()),
                "test case is missing required field `expect`",
            )
            .with_help("list the expected findings under `expect:`, or write `expect: []` when the case expects none"),
        );
        return None;
    };
    let items = match node.as_seq("`expect`") {
        Ok(items) => items,
        Err(p) => {
            sink.push(p);
            return None;
        }
    };
    let mut out = Vec::new();
    for item in items {
        let Some(e) = Fields::new(item, "expected finding", EXPECT_FIELDS, sink) else {
            continue;
        };
        let rule = e.req_str("rule", sink);
        let identity = e.req_str("identity", sink);
        let entitlements = e.get("entitlements").map(|_| e.opt_list("entitlements", sink));
        let track = e.opt_enum("track", Track::CHOICES, sink);
        let (Some(rule), Some(identity)) = (rule, identity) else {
            continue;
        };
        if let Some(r) = scope.pack.rule(&rule.value) {
            let track_loc = e.get("track").map_or_else(|| rule.loc.clone(), |n| n.loc.clone());
            check_reachable(r, track.map(|t| (t, &track_loc)), &rule.loc, scope, sink);
        } else {
            sink.push(unknown_rule(scope.pack, &rule.value, &rule.loc));
        }
        if let Some(inv) = scope.inventory {
            check_records(inv, &identity, entitlements.as_deref().unwrap_or_default(), sink);
        }
        let entitlements = entitlements.map(|list| {
            let mut ids: Vec<String> = list.into_iter().map(|s| s.value).collect();
            ids.sort();
            ids
        });
        out.push(Expected {
            rule: rule.value,
            identity: identity.value,
            entitlements,
            track,
            loc: e.loc().clone(),
        });
    }
    Some(out)
}

/// Reports an expectation that its case can never produce.
fn check_reachable(
    rule: &crate::policy::Rule,
    track: Option<(Track, &Loc)>,
    at: &Loc,
    scope: &Scope<'_>,
    sink: &mut Problems,
) {
    let unreachable = |loc: &Loc, message: String, help: String| {
        Problem::error(Code::UnreachableExpectation, Some(loc.clone()), message)
            .with_label("can never match")
            .with_help(help)
    };
    if let Some((t, loc)) = track.filter(|(t, _)| *t != rule.track) {
        sink.push(unreachable(
            loc,
            format!(
                "rule `{}` is on the `{}` track, not `{}`",
                rule.id,
                rule.track.as_str(),
                t.as_str()
            ),
            "drop `track` (the rule id implies it) or correct it".to_owned(),
        ));
    }
    if !scope.tracks.contains(&rule.track) {
        sink.push(unreachable(
            at,
            format!(
                "the case does not evaluate the `{}` track of rule `{}`",
                rule.track.as_str(),
                rule.id
            ),
            format!("add `{}` to the case's `tracks`", rule.track.as_str()),
        ));
    }
    if scope.only_rules.is_some_and(|only| !only.contains(&rule.id)) {
        sink.push(unreachable(
            at,
            format!("rule `{}` is not in the case's `only_rules`", rule.id),
            format!("add `{}` to `only_rules`, or the finding is never compared", rule.id),
        ));
    }
}

/// Reports an expected identity or entitlement that is not among the case's records.
fn check_records(
    inv: &Inventory,
    identity: &crate::node::Spanned<String>,
    entitlements: &[crate::node::Spanned<String>],
    sink: &mut Problems,
) {
    if inv.identity(&identity.value).is_none() {
        let help = did_you_mean(&identity.value, inv.identities.iter().map(|i| i.id.as_str())).map_or_else(
            || "add the identity to the case's `identities`".to_owned(),
            |c| format!("did you mean `{c}`?"),
        );
        sink.push(
            Problem::error(
                Code::DanglingReference,
                Some(identity.loc.clone()),
                format!("expected finding names unknown identity `{}`", identity.value),
            )
            .with_label("not an identity of this case")
            .with_help(help),
        );
    }
    for id in entitlements {
        match inv.entitlements.iter().find(|e| e.id == id.value) {
            None => {
                let help = did_you_mean(&id.value, inv.entitlements.iter().map(|e| e.id.as_str())).map_or_else(
                    || "an entitlement's id is its `id`, else `identity:system:permission`".to_owned(),
                    |c| format!("did you mean `{c}`?"),
                );
                sink.push(
                    Problem::error(
                        Code::DanglingReference,
                        Some(id.loc.clone()),
                        format!("expected finding names unknown entitlement `{}`", id.value),
                    )
                    .with_label("not an entitlement of this case")
                    .with_help(help),
                );
            }
            Some(e) if *e.identity.value != *identity.value => sink.push(
                Problem::error(
                    Code::UnreachableExpectation,
                    Some(id.loc.clone()),
                    format!(
                        "entitlement `{}` is held by `{}`, not `{}`",
                        id.value, e.identity.value, identity.value
                    ),
                )
                .with_label("can never match")
                .with_help("a finding lists only entitlements of its own identity"),
            ),
            Some(_) => {}
        }
    }
}
