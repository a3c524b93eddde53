//! Rules written directly in Cedar: every `forbid` in a `.cedar` file, with its metadata in
//! annotations (`@id`, `@track`, `@category`, `@severity`, `@controls`, `@title`,
//! `@remediation`, optional `@nhi_controls`, `@description`, `@message`, `@involves`,
//! `@functions`).

use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{ActionConstraint, Effect, Policy, PolicyId, PolicySet};
use miette::Diagnostic;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::source::{Loc, Source};

use super::{est, Category, Involves, Origin, Rule, Severity, Subject, Track};

/// Annotation keys a dualtrack `.cedar` policy may carry.
pub const ANNOTATIONS: &[&str] = &[
    "id",
    "track",
    "category",
    "severity",
    "controls",
    "nhi_controls",
    "title",
    "remediation",
    "description",
    "message",
    "involves",
    "functions",
];

/// Loads every policy of one `.cedar` file as a rule.
pub fn load_file(src: &Arc<Source>, sink: &mut Problems) -> Vec<Rule> {
    if let Some(at) = too_deep_at(src.text()) {
        sink.push(crate::scan::too_deep(src.loc(at, 1)));
        return Vec::new();
    }
    // A long operator chain is as deep for Cedar as nested brackets: refuse it too.
    if let Some(p) = super::depth::check(src) {
        sink.push(p);
        return Vec::new();
    }
    let set = match PolicySet::from_str(src.text()) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs.iter() {
                let loc = e
                    .labels()
                    .and_then(|mut l| l.next())
                    .map_or_else(|| src.whole(), |l| src.loc(l.offset(), l.len()));
                let help = e
                    .help()
                    .map_or_else(|| "see the Cedar policy syntax".to_owned(), |h| h.to_string());
                sink.push(Problem::error(Code::CedarSyntax, Some(loc), format!("invalid Cedar: {e}")).with_help(help));
            }
            return Vec::new();
        }
    };
    let mut located: Vec<(usize, String)> = Vec::new();
    let mut from = 0;
    let mut texts: Vec<String> = set.policies().filter_map(Policy::to_cedar).collect();
    // Policies come back in id order; place them by where their text is in the file.
    texts.sort_by_key(|t| src.text().find(t.as_str()).unwrap_or(usize::MAX));
    for text in texts {
        let offset = src
            .text()
            .get(from..)
            .and_then(|rest| rest.find(text.as_str()))
            .map_or(0, |i| i + from);
        from = offset + text.len();
        located.push((offset, text));
    }
    located
        .into_iter()
        .filter_map(|(offset, text)| rule_of(src, offset, &text, sink))
        .collect()
}

fn rule_of(src: &Arc<Source>, offset: usize, text: &str, sink: &mut Problems) -> Option<Rule> {
    let loc = src.loc_to_eol(offset);
    let policy = match Policy::parse(None, text) {
        Ok(p) => p,
        Err(e) => {
            sink.push(Problem::error(
                Code::CedarSyntax,
                Some(loc),
                format!("invalid Cedar: {e}"),
            ));
            return None;
        }
    };
    let ann_loc = |key: &str| {
        text.find(&format!("@{key}("))
            .map_or_else(|| loc.clone(), |i| src.loc_to_eol(offset + i))
    };
    let mut ok = true;
    for (key, _) in policy.annotations() {
        if !ANNOTATIONS.contains(&key) {
            sink.push(
                Problem::error(
                    Code::BadAnnotation,
                    Some(ann_loc(key)),
                    format!("unknown annotation `@{key}`"),
                )
                .with_help(suggest(key, ANNOTATIONS)),
            );
            ok = false;
        }
    }
    let mut required = |key: &str| -> Option<String> {
        let v = policy
            .annotation(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        if v.is_none() {
            sink.push(
                Problem::error(
                    Code::BadAnnotation,
                    Some(loc.clone()),
                    format!("policy has no `@{key}` annotation"),
                )
                .with_help(format!("add `@{key}(\"…\")` before the policy")),
            );
        }
        v
    };
    let id = required("id");
    let track = required("track");
    let category = required("category");
    let severity = required("severity");
    let controls = required("controls");
    let title = required("title");
    let remediation = required("remediation");
    let (id, track, category, severity, controls, title, remediation) =
        (id?, track?, category?, severity?, controls?, title?, remediation?);
    let mut choose = |key: &str, value: &str, choices: &[&str]| -> bool {
        if choices.contains(&value) {
            return true;
        }
        sink.push(
            Problem::error(
                Code::BadAnnotation,
                Some(ann_loc(key)),
                format!("`@{key}` has unknown value `{value}`"),
            )
            .with_help(suggest(value, choices)),
        );
        false
    };
    ok &= choose("track", &track, &names(Track::CHOICES));
    ok &= choose("category", &category, &names(Category::CHOICES));
    ok &= choose("severity", &severity, &names(Severity::CHOICES));
    let involves_text = policy.annotation("involves").unwrap_or("all").to_owned();
    ok &= choose("involves", &involves_text, &names(Involves::CHOICES));
    if policy.effect() != Effect::Forbid {
        sink.push(
            Problem::error(
                Code::NotForbid,
                Some(loc.clone()),
                format!("policy `{id}` is a `permit`"),
            )
            .with_help("every dualtrack rule is a `forbid`: a satisfied forbid is a finding"),
        );
        ok = false;
    }
    let subject = subject_of(&policy);
    if subject.is_none() {
        sink.push(
            Problem::error(Code::BadAction, Some(loc.clone()), format!("policy `{id}` must target exactly one action"))
                .with_help("write `action == Dualtrack::Action::\"entitlement\"` or `action == Dualtrack::Action::\"identity\"` in the scope"),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    let subject = subject?;
    let track = Track::CHOICES.get(pick(Track::CHOICES, &track)?)?.1;
    let category = Category::CHOICES.get(pick(Category::CHOICES, &category)?)?.1;
    let severity = Severity::CHOICES.get(pick(Severity::CHOICES, &severity)?)?.1;
    let involves = Involves::CHOICES.get(pick(Involves::CHOICES, &involves_text)?)?.1;
    let policy = match PolicyId::from_str(&id) {
        Ok(pid) => policy.new_id(pid),
        Err(_) => policy,
    };
    let reads = policy
        .to_json()
        .map(|j| est::read_paths(&j, subject == Subject::Identity))
        .unwrap_or_default();
    Some(Rule {
        id,
        title,
        track,
        category,
        severity,
        controls: split_list(&controls),
        nhi_controls: split_list(policy.annotation("nhi_controls").unwrap_or_default()),
        subject,
        involves,
        functions: split_list(policy.annotation("functions").unwrap_or_default()),
        message: policy.annotation("message").map(str::to_owned),
        remediation,
        description: policy.annotation("description").unwrap_or_default().to_owned(),
        reads,
        loc: loc_of(src, offset),
        origin: Origin::Cedar,
        policy,
    })
}

fn names<T>(choices: &[(&'static str, T)]) -> Vec<&'static str> {
    choices.iter().map(|(n, _)| *n).collect()
}

fn pick<T>(choices: &[(&str, T)], value: &str) -> Option<usize> {
    choices.iter().position(|(n, _)| *n == value)
}

fn loc_of(src: &Arc<Source>, offset: usize) -> Loc {
    src.loc_to_eol(offset)
}

fn subject_of(policy: &Policy) -> Option<Subject> {
    match policy.action_constraint() {
        ActionConstraint::Eq(uid) => {
            if uid.type_name().to_string() != "Dualtrack::Action" {
                return None;
            }
            match uid.id().unescaped() {
                "entitlement" => Some(Subject::Entitlement),
                "identity" => Some(Subject::Identity),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Splits `"A, B ,C"` into `["A", "B", "C"]`.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The offset of the first bracket nested deeper than [`crate::limits::MAX_DEPTH`] in
/// Cedar text (strings and `//` comments skipped), checked before Cedar's recursive parser
/// sees the text.
fn too_deep_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > crate::limits::MAX_DEPTH {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod depth_tests {
    use super::too_deep_at;

    #[test]
    fn brackets_are_counted_outside_strings_and_comments() {
        let deep = format!(
            "forbid(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(70),
            ")".repeat(70)
        );
        assert!(too_deep_at(&deep).is_some());
        let quoted = format!(
            "forbid(principal, action, resource) when {{ \"{}\" == \"a\" }};",
            "(".repeat(70)
        );
        assert_eq!(too_deep_at(&quoted), None);
        let commented = format!("// {}\nforbid(principal, action, resource);", "[".repeat(70));
        assert_eq!(too_deep_at(&commented), None);
    }
}
