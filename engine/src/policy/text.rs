//! A rule as people read it: its Cedar text, formatted by Cedar's own formatter, and its
//! documentation (what `dualtrack explain` and `dualtrack compile` print).

use std::fmt::Write;

use cedar_policy_formatter::{policies_str_to_pretty, Config};

use super::{ControlCatalog, Rule};

/// The rule's Cedar policy as formatted Cedar text (annotations included).
pub fn cedar(rule: &Rule) -> String {
    let raw = rule.policy.to_cedar().unwrap_or_else(|| rule.policy.to_string());
    let config = Config {
        line_width: 88,
        indent_width: 2,
    };
    let mut text = policies_str_to_pretty(&raw, &config).unwrap_or(raw);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The rule's documentation: title, metadata, the controls it cites with their text, what
/// it checks, what to do, where it is written, and its Cedar.
pub fn explain(rule: &Rule, controls: &ControlCatalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", rule.id, rule.title);
    let _ = writeln!(
        out,
        "track {}, category {}, severity {}, evaluated once per {}",
        rule.track.as_str(),
        rule.category.as_str(),
        rule.severity.as_str(),
        rule.subject.action()
    );
    let _ = writeln!(out, "written at {}", rule.loc);
    if !rule.description.is_empty() {
        let _ = writeln!(out, "\nWhat it checks\n  {}", rule.description);
    }
    let _ = writeln!(out, "\nControls");
    let cite = |out: &mut String, id: &str, suffix: &str| {
        let text = controls.get(id).map_or_else(String::new, |c| {
            let status = if c.status == "current" {
                String::new()
            } else {
                format!(" [{}]", c.status)
            };
            format!(" — {}: {}{status}", c.framework, c.title)
        });
        let _ = writeln!(out, "  {id}{suffix}{text}");
    };
    for c in &rule.controls {
        cite(&mut out, c, "");
    }
    for c in &rule.nhi_controls {
        cite(&mut out, c, " (non-human identities)");
    }
    let _ = writeln!(out, "\nRemediation\n  {}", rule.remediation);
    let _ = writeln!(out, "\nCedar\n{}", cedar(rule));
    out
}

/// A ruleset risk's documentation, reported as rule `id`: type, severity, process, the
/// functions with their transactions and authorization values, the controls, and a note
/// that it is evaluated natively (there is no Cedar to show).
pub fn explain_risk(
    id: &str,
    risk: &super::ruleset::Risk,
    rulesets: &[super::ruleset::Ruleset],
    controls: &ControlCatalog,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{id} — SAP ruleset risk `{}`", risk.id.value);
    let _ = writeln!(
        out,
        "{}, category {}, severity {}, process {}",
        risk.kind.as_str(),
        risk.category().as_str(),
        risk.severity.as_str(),
        risk.process
    );
    let _ = writeln!(out, "written at {}", risk.loc);
    if !risk.description.is_empty() {
        let _ = writeln!(out, "\nWhat it checks\n  {}", risk.description);
    }
    let _ = writeln!(out, "\nFunctions (one user holding all of them on one system)");
    for f in &risk.functions {
        let def = rulesets
            .iter()
            .flat_map(|r| r.functions.iter())
            .find(|d| d.id.value == f.value);
        let _ = writeln!(
            out,
            "  {}{}",
            f.value,
            def.map_or_else(String::new, |d| format!(" — {}", d.name))
        );
        if let Some(d) = def {
            if !d.actions.is_empty() {
                let _ = writeln!(out, "    transactions: {}", d.actions.join(", "));
            }
            for l in &d.permissions {
                let _ = writeln!(out, "    {} {}: {}", l.object, l.field, l.values.join(", "));
            }
        }
    }
    let _ = writeln!(out, "\nControls");
    for c in &risk.controls {
        let text = controls
            .get(&c.value)
            .map_or_else(String::new, |k| format!(" — {}: {}", k.framework, k.title));
        let _ = writeln!(out, "  {}{text}", c.value);
    }
    let _ = writeln!(
        out,
        "\nEvaluated natively against the SAP role book (not compiled to Cedar)."
    );
    out
}
