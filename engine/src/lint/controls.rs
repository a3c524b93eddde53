//! Controls the rules cite, judged by their catalog entry: a withdrawn control (warn and
//! name its successor; only a note when the rule cites the successor too), a control id as
//! a source labels it (a note saying what the framework's own id of that shape means), and
//! a catalog `status` lint does not know (a typo there would hide both checks).

use std::collections::BTreeMap;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::policy::catalog::Control;
use crate::policy::{ControlCatalog, Pack, Rule};
use crate::source::Loc;

use super::locate::{entry, PackTree};

/// Catalog statuses and what they mean to lint.
const STATUSES: &[&str] = &["current", "withdrawn", "source-label"];

/// Runs the control checks over every rule of `pack`.
pub fn check(pack: &Pack, tree: &PackTree, sink: &mut Problems) {
    check_statuses(&pack.controls, tree, sink);
    // Warnings per citation site (an SoD matrix line is shared by its generated rules);
    // notes per control across the pack, at its first citation.
    let mut sites: BTreeMap<(String, usize, String), (Loc, Vec<&str>)> = BTreeMap::new();
    let mut notes: BTreeMap<&str, Vec<(Loc, &str)>> = BTreeMap::new();
    for rule in &pack.rules {
        let cited = rule.controls.iter().map(|c| (c, false));
        for (id, nhi) in cited.chain(rule.nhi_controls.iter().map(|c| (c, true))) {
            let Some(control) = pack.controls.get(id) else {
                continue; // an unknown control is the loader's error
            };
            let quiet = match control.status.as_str() {
                "withdrawn" => cites_successor(rule, &successors(&pack.controls, control)),
                "source-label" => true,
                _ => continue,
            };
            let loc = tree.citation(rule, id, nhi);
            if quiet {
                notes.entry(control.id.as_str()).or_default().push((loc, &rule.id));
            } else {
                let key = (loc.file().to_owned(), loc.offset, control.id.clone());
                sites.entry(key).or_insert_with(|| (loc, Vec::new())).1.push(&rule.id);
            }
        }
    }
    for ((_, _, id), (loc, rules)) in sites {
        if let Some(control) = pack.controls.get(&id) {
            sink.push(withdrawn_warning(&pack.controls, control, loc, &rules));
        }
    }
    for (id, mut cites) in notes {
        cites.sort_by(|a, b| (a.0.file(), a.0.offset).cmp(&(b.0.file(), b.0.offset)));
        if let (Some(control), Some((loc, _))) = (pack.controls.get(id), cites.first()) {
            sink.push(note(&pack.controls, control, loc.clone(), &cites));
        }
    }
}

/// The ids that replace `control`: crosswalk `superseded-by` targets, then its `see` list.
fn successors<'a>(catalog: &'a ControlCatalog, control: &'a Control) -> Vec<&'a str> {
    let mut out: Vec<&str> = catalog
        .crosswalk
        .iter()
        .filter(|x| x.from == control.id && x.relation == "superseded-by")
        .flat_map(|x| x.to.iter().map(String::as_str))
        .collect();
    for s in &control.see {
        if !out.contains(&s.as_str()) {
            out.push(s);
        }
    }
    out
}

fn cites_successor(rule: &Rule, successors: &[&str]) -> bool {
    successors
        .iter()
        .any(|s| rule.controls.iter().chain(&rule.nhi_controls).any(|c| c == s))
}

fn ticks(ids: &[&str]) -> String {
    ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// Names a few rules: "rule `A`" or "3 rules (`A`, `B`, `C`)".
fn rules_phrase(rules: &[&str]) -> String {
    match rules {
        [one] => format!("rule `{one}`"),
        _ => {
            let shown: Vec<&str> = rules.iter().take(3).copied().collect();
            let more = if rules.len() > 3 { ", …" } else { "" };
            format!("{} rules ({}{more})", rules.len(), ticks(&shown))
        }
    }
}

fn withdrawn_warning(catalog: &ControlCatalog, control: &Control, loc: Loc, rules: &[&str]) -> Problem {
    let next = successors(catalog, control);
    let verb = if rules.len() == 1 { "cites" } else { "cite" };
    let help = if next.is_empty() {
        "replace it with a current control; the catalog names no successor".to_owned()
    } else {
        format!("cite its successor {} instead (or as well)", ticks(&next))
    };
    Problem::warning(
        Code::WithdrawnControl,
        Some(loc),
        format!(
            "{} {verb} `{}`, withdrawn from {}",
            rules_phrase(rules),
            control.id,
            control.framework
        ),
    )
    .with_label("withdrawn control")
    .with_help(help)
}

fn note(catalog: &ControlCatalog, control: &Control, loc: Loc, cites: &[(Loc, &str)]) -> Problem {
    let mut files: Vec<&str> = cites.iter().map(|(l, _)| l.file()).collect();
    files.sort_unstable();
    files.dedup();
    let count = format!(
        "{} rule{} in {} file{} {}",
        cites.len(),
        if cites.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if cites.len() == 1 { "cites" } else { "cite" }
    );
    let next = successors(catalog, control);
    if control.status == "withdrawn" {
        return Problem::note(
            Code::WithdrawnControl,
            Some(loc),
            format!(
                "`{}` is withdrawn from {}; {count} it alongside its successor {}",
                control.id,
                control.framework,
                ticks(&next)
            ),
        )
        .with_label("first citation")
        .with_help(format!(
            "keeping both maps findings to either version of the framework; drop `{}` once nobody reports against {}",
            control.id, control.framework
        ));
    }
    let message = match lookalike(catalog, control) {
        Some(other) => format!(
            "`{}` is a source's label, not an id of {}, where `{}` is \"{}\"; {count} it",
            control.id, other.framework, other.id, other.title
        ),
        None => format!(
            "`{}` is a source's label, not an id of its framework; {count} it",
            control.id
        ),
    };
    let help = if next.is_empty() {
        "keep it where evidence must use the source's wording, and cite the framework's own id as well".to_owned()
    } else {
        format!(
            "the catalog maps it to {}; cite {} as well where evidence must follow the framework's numbering",
            ticks(&next),
            if next.len() == 1 { "it" } else { "them" }
        )
    };
    Problem::note(Code::SourceLabelControl, Some(loc), message)
        .with_label("first citation")
        .with_help(help)
}

/// Another catalog control whose id a reader could take `label` for: the same letters and
/// the same first number (`NHI-03` and `NHI3:2025`).
fn lookalike<'a>(catalog: &'a ControlCatalog, label: &Control) -> Option<&'a Control> {
    let key = shape(&label.id)?;
    catalog
        .controls
        .iter()
        .find(|c| c.id != label.id && c.status != "source-label" && shape(&c.id).as_ref() == Some(&key))
}

/// The leading letters (upper case) and the first number of an id.
fn shape(id: &str) -> Option<(String, u64)> {
    let letters: String = id
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits: String = id
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    Some((letters, digits.parse().ok()?)).filter(|(l, _)| !l.is_empty())
}

/// A catalog entry whose `status` lint does not know is reported at its line.
fn check_statuses(catalog: &ControlCatalog, tree: &PackTree, sink: &mut Problems) {
    for control in catalog
        .controls
        .iter()
        .filter(|c| !STATUSES.contains(&c.status.as_str()))
    {
        let loc = tree
            .catalog_entry(&control.id)
            .and_then(|n| entry(n, "status").or(Some(n)))
            .map(|n| n.loc.clone());
        sink.push(
            Problem::warning(
                Code::BadValue,
                loc,
                format!("control `{}` has unknown status `{}`", control.id, control.status),
            )
            .with_label("not a known status")
            .with_help(suggest(&control.status, STATUSES)),
        );
    }
}
