//! Where a lint problem points: a compiled rule keeps only where it starts, so lint re-reads
//! the pack's YAML into located trees to find the exact line of a cited control, a
//! condition or an SoD function, and searches `.cedar` annotations the same way.

use std::sync::Arc;

use crate::node::{Node, Value};
use crate::policy::{Origin, Rule, Track};
use crate::source::{Loc, Source};

/// The pack's YAML files as located trees (files that do not parse are left out: the
/// loader has reported them).
pub struct PackTree {
    files: Vec<(Arc<Source>, Node)>,
}

impl PackTree {
    /// Parses every YAML file of `sources`.
    pub fn parse(sources: &[Arc<Source>]) -> Self {
        let files = sources
            .iter()
            .filter(|s| !s.name().ends_with(".cedar"))
            .filter_map(|s| crate::yaml::parse(s).ok().map(|n| (Arc::clone(s), n)))
            .collect();
        Self { files }
    }

    /// The root of the file `name`.
    fn root(&self, name: &str) -> Option<&Node> {
        self.files.iter().find(|(s, _)| s.name() == name).map(|(_, n)| n)
    }

    /// The item of the top-level list `list` (`rules` or `conflicts`) that starts at `loc`.
    pub fn item(&self, loc: &Loc, list: &str) -> Option<&Node> {
        let items = entry(self.root(loc.file())?, list)?;
        match &items.value {
            Value::Seq(items) => items.iter().find(|i| i.loc.offset == loc.offset),
            _ => None,
        }
    }

    /// The YAML map a rule was compiled from (`None` for `.cedar` and SoD rules).
    pub fn rule_node(&self, rule: &Rule) -> Option<&Node> {
        match rule.origin {
            Origin::Yaml => self.item(&rule.loc, "rules"),
            Origin::Cedar | Origin::SodMatrix => None,
        }
    }

    /// The entry of control `id` in the control catalog file (the file with `controls:`
    /// and none of the keys that make it a rules file, an SoD matrix or a function catalog).
    pub fn catalog_entry(&self, id: &str) -> Option<&Node> {
        self.files
            .iter()
            .map(|(_, root)| root)
            .filter(|r| {
                ["conflicts", "rules", "functions"]
                    .iter()
                    .all(|k| entry(r, k).is_none())
            })
            .filter_map(|r| entry(r, "controls"))
            .find_map(|list| match &list.value {
                Value::Seq(items) => items
                    .iter()
                    .find(|i| entry(i, "id").and_then(Node::scalar_text).as_deref() == Some(id)),
                _ => None,
            })
    }

    /// The id of the SoD conflict a matrix rule was generated from (e.g. `SOD-005`).
    pub fn conflict_id(&self, rule: &Rule) -> Option<String> {
        let node = self.item(&rule.loc, "conflicts")?;
        entry(node, "id")?.scalar_text()
    }

    /// Where `rule` cites `control`: the list item in YAML (for an SoD rule, the matrix's
    /// file-level list), the annotation in `.cedar`; the rule's start when not found.
    /// `nhi` tells whether the citation is one of the rule's `nhi_controls`.
    pub fn citation(&self, rule: &Rule, control: &str, nhi: bool) -> Loc {
        let found = match rule.origin {
            Origin::Yaml => {
                let key = if nhi { "nhi_controls" } else { "controls" };
                self.rule_node(rule)
                    .and_then(|n| entry(n, key))
                    .and_then(|l| list_item(l, control))
            }
            Origin::SodMatrix => {
                let key = match (nhi, rule.track) {
                    (true, _) => "nhi_controls",
                    (false, Track::Soc) => "soc_controls",
                    (false, Track::Sox) => "controls",
                };
                self.root(rule.loc.file())
                    .and_then(|n| entry(n, key))
                    .and_then(|l| list_item(l, control))
            }
            Origin::Cedar => cedar_annotation(&rule.loc, if nhi { "nhi_controls" } else { "controls" }, control),
        };
        found.unwrap_or_else(|| rule.loc.clone())
    }
}

/// The value of `key` in a map node.
pub fn entry<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v),
        _ => None,
    }
}

/// The item of a list (or the single string) whose text is `text`.
fn list_item(list: &Node, text: &str) -> Option<Loc> {
    match &list.value {
        Value::Seq(items) => items
            .iter()
            .find(|i| i.scalar_text().is_some_and(|t| t.trim() == text))
            .map(|i| i.loc.clone()),
        Value::Str(s) if s.trim() == text => Some(list.loc.clone()),
        _ => None,
    }
}

/// `text` inside the `@key(...)` annotation of the `.cedar` policy that starts at `start`.
/// The search stops at the next policy's `@id(`, so it never lands in a neighbour.
fn cedar_annotation(start: &Loc, key: &str, text: &str) -> Option<Loc> {
    let src = &start.src;
    let rest = src.text().get(start.offset..)?;
    let end = rest.get(1..).and_then(|r| r.find("@id(")).map_or(rest.len(), |i| i + 1);
    let policy = rest.get(..end)?;
    let ann = policy.find(&format!("@{key}("))?;
    let within = policy.get(ann..)?;
    let close = within.find(')').unwrap_or(within.len());
    let args = within.get(..close)?;
    // The annotation is one string of comma-separated ids: match a whole item.
    let mut at = 0;
    for part in args.split([',', '"', '(']) {
        if part.trim() == text {
            let lead = part.len() - part.trim_start().len();
            return Some(src.loc(start.offset + ann + at + lead, text.len()));
        }
        at += part.len() + 1;
    }
    None
}
