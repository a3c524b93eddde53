//! Reading `exceptions.yaml` strictly (every record keeps its file and line) and checking
//! it against the pack and the inventory: every problem is reported, not the first.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::Inventory;
use crate::node::{Fields, Node};
use crate::policy::{Pack, Track};
use crate::source::Source;

use super::{Exception, Exceptions};

/// Field names of an exception record.
pub const EXCEPTION_FIELDS: &[&str] = &[
    "id",
    "rule",
    "rules",
    "track",
    "identity",
    "entitlement",
    "compensating_control",
    "approved_by",
    "approved_at",
    "expires",
    "ticket",
];

/// Reads and decodes the exceptions file at `path`. Cross-checks against the pack and the
/// inventory are [`Exceptions::check`]'s job.
pub fn load(path: &Path) -> Result<Exceptions, Problems> {
    let src = crate::text::read(path, "--exceptions").map_err(|p| Problems(vec![p]))?;
    from_source(&src)
}

/// Decodes exceptions from YAML text already read (tests, and [`load`]).
pub fn from_source(src: &Arc<Source>) -> Result<Exceptions, Problems> {
    let root = crate::yaml::parse(src).map_err(|p| Problems(vec![p]))?;
    let mut sink = Problems::default();
    let mut out = Exceptions {
        file: src.name().to_owned(),
        ..Exceptions::default()
    };
    if let crate::node::Value::Null = root.value {
        return Ok(out);
    }
    if let Some(top) = Fields::new(&root, "exceptions file", &["exceptions"], &mut sink) {
        match top.get("exceptions") {
            None => {}
            Some(list) => match list.as_seq("`exceptions`") {
                Ok(items) => out.list = items.iter().filter_map(|n| decode(n, &mut sink)).collect(),
                Err(p) => sink.push(p),
            },
        }
    }
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    for x in &out.list {
        if let Some(first) = seen.insert(&x.id, x.loc.line) {
            sink.push(
                Problem::error(
                    Code::DuplicateId,
                    Some(x.loc.clone()),
                    format!("exception id `{}` is used twice", x.id),
                )
                .with_label(format!("first used on line {first}"))
                .with_help("give every exception its own id"),
            );
        }
    }
    sink.sort();
    if sink.has_errors() {
        return Err(sink);
    }
    out.list.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn decode(node: &Node, sink: &mut Problems) -> Option<Exception> {
    let f = Fields::new(node, "exception", EXCEPTION_FIELDS, sink)?;
    let before = sink.0.len();
    let id = f.req_str("id", sink);
    let track = match f.get("track") {
        None => {
            sink.push(
                Problem::error(
                    Code::MissingField,
                    Some(f.loc().clone()),
                    "exception is missing required field `track`",
                )
                .with_help("add `track: soc` or `track: sox`: an exception covers one track only"),
            );
            None
        }
        Some(_) => f.opt_enum("track", Track::CHOICES, sink),
    };
    let rule = f.opt_str("rule", sink);
    let rules = f.opt_list("rules", sink);
    let rules: Vec<_> = match (rule, rules.is_empty()) {
        (Some(r), true) => vec![r],
        (None, false) => rules,
        (Some(r), false) => {
            sink.push(
                Problem::error(
                    Code::ExceptionRules,
                    Some(r.loc.clone()),
                    "exception gives both `rule` and `rules`",
                )
                .with_help("write one rule as `rule:` or several as `rules:`, not both"),
            );
            Vec::new()
        }
        (None, true) => {
            sink.push(
                Problem::error(Code::ExceptionRules, Some(f.loc().clone()), "exception names no rule")
                    .with_help("add `rule: RULE-ID` (or a `rules:` list) naming the rules it covers"),
            );
            Vec::new()
        }
    };
    let identity = f.opt_str("identity", sink);
    let entitlement = f.opt_str("entitlement", sink);
    if identity.is_none() && entitlement.is_none() {
        sink.push(
            Problem::error(
                Code::ExceptionSelector,
                Some(f.loc().clone()),
                "exception selects no access: give `identity`, `entitlement` or both",
            )
            .with_help("an exception covers named access; add `identity:` and/or `entitlement:`"),
        );
    }
    let compensating = f.req_str("compensating_control", sink);
    let approved_by = f.opt_str("approved_by", sink);
    let approved_at = f.opt_date("approved_at", sink);
    let expires = f.req_date("expires", sink);
    let ticket = f.opt_str("ticket", sink);
    if sink.0.len() > before {
        return None;
    }
    Some(Exception {
        id: id?.value,
        rules,
        track: track?,
        identity,
        entitlement,
        compensating_control: compensating?.value,
        approved_by,
        approved_at,
        expires: expires?,
        ticket: ticket.map(|t| t.value),
        loc: f.loc().clone(),
    })
}

impl Exceptions {
    /// Checks the exceptions against the pack (every rule exists and is on the exception's
    /// track) and the inventory (a named identity exists). Every problem is an error: an
    /// exception that can never apply must not pass for one that does.
    pub fn check(&self, pack: &Pack, identity_exists: impl Fn(&str) -> bool) -> Problems {
        let mut sink = Problems::default();
        let risks = pack.risk_rules();
        let ids: Vec<&str> = pack
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .chain(risks.iter().map(|(id, _)| id.as_str()))
            .collect();
        // A ruleset risk's rule is on the track its id names.
        let track_of = |id: &str| {
            pack.rule(id)
                .map(|rule| rule.track)
                .or_else(|| risks.iter().find(|(r, _)| r == id).map(|(_, t)| *t))
        };
        for x in &self.list {
            for r in &x.rules {
                match track_of(&r.value) {
                    None => sink.push(
                        Problem::error(
                            Code::UnknownRule,
                            Some(r.loc.clone()),
                            format!("exception `{}` names unknown rule `{}`", x.id, r.value),
                        )
                        .with_label("not a rule of the pack")
                        .with_help(suggest(&r.value, &ids)),
                    ),
                    Some(track) if track != x.track => sink.push(
                        Problem::error(
                            Code::ExceptionTrack,
                            Some(r.loc.clone()),
                            format!(
                                "exception `{}` is on the {} track but rule `{}` is a {} rule",
                                x.id,
                                x.track.as_str(),
                                r.value,
                                track.as_str()
                            ),
                        )
                        .with_label("other track")
                        .with_help("an exception covers one track; write a separate exception for the other track"),
                    ),
                    Some(_) => {}
                }
            }
            if let Some(i) = &x.identity {
                if !identity_exists(&i.value) {
                    sink.push(
                        Problem::error(
                            Code::DanglingReference,
                            Some(i.loc.clone()),
                            format!("exception `{}` names unknown identity `{}`", x.id, i.value),
                        )
                        .with_label("not in the inventory")
                        .with_help("name an identity id from the inventory, or remove the exception"),
                    );
                }
            }
        }
        sink.sort();
        sink
    }
}

impl Exceptions {
    /// Warnings for exceptions approved by the identity they name or by its owner, found
    /// before any evaluation (`check` reports them as `EXC-SELF-APPROVED` findings too,
    /// including for exceptions that select by entitlement only).
    pub fn approval_problems(&self, inv: &Inventory) -> Problems {
        let mut sink = Problems::default();
        for x in &self.list {
            let (Some(approver), Some(identity)) = (&x.approved_by, &x.identity) else {
                continue;
            };
            let owner = inv
                .identity(&identity.value)
                .and_then(|i| i.owner.as_ref())
                .map(|o| o.value.as_str());
            let how = if approver.value == identity.value {
                "the identity itself"
            } else if owner == Some(approver.value.as_str()) {
                "its owner"
            } else {
                continue;
            };
            sink.push(
                Problem::warning(
                    Code::ExceptionSelfApproved,
                    Some(approver.loc.clone()),
                    format!(
                        "exception `{}` for `{}` is approved by `{}`, {how}",
                        x.id, identity.value, approver.value
                    ),
                )
                .with_label("not independent")
                .with_help("have someone independent of the identity and its owner approve the exception"),
            );
        }
        sink
    }
}
