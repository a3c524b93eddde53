//! A YAML rule file (`rules:`), as compiled by `policy/yaml_rules.rs`. The attribute paths
//! a condition may test are listed from the Cedar entity model, with the comments of
//! `schemas/dualtrack.cedarschema` as their descriptions, so an editor completes them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map};

use super::common::{Category, Severity, Track};
use crate::model::{AttrType, Model, SCHEMA_TEXT};

/// A file of dualtrack rules. Each rule compiles to one Cedar `forbid` policy; when its
/// condition holds, the access is a finding.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RulesFile {
    /// The rules of this file.
    pub rules: Vec<Rule>,
}

/// One rule: its metadata, what it is evaluated on, and the condition under which access
/// is a finding.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Rule {
    /// Stable rule id, also the Cedar policy id, e.g. `SOC-STALE-001`. Findings, tests and
    /// exceptions refer to it: never reuse an id for a different check.
    pub id: String,
    /// One-line title, shown in reports.
    pub title: String,
    /// The track whose review this rule belongs to.
    pub track: Track,
    /// The category of its findings.
    pub category: Category,
    /// The severity of its findings.
    pub severity: Severity,
    /// Control ids from the control catalog (`controls.yaml`) that every finding cites,
    /// e.g. `CC6.3`, `PR.AA-05`.
    #[schemars(length(min = 1))]
    pub controls: Vec<String>,
    /// Extra control ids cited when the identity is a non-human identity, e.g. `NHI-03`.
    pub nhi_controls: Option<Vec<String>>,
    /// What the rule is evaluated on.
    pub applies_to: Subject,
    /// For identity rules: which of the identity's entitlements a finding lists. Default
    /// `all`.
    #[schemars(extend("default" = "all"))]
    pub involves: Option<Involves>,
    /// When the access is a finding.
    pub when: Condition,
    /// The finding's message. Placeholders: `{identity}`, `{owner}`, `{entitlement}`,
    /// `{system}`, `{permission}`, and any attribute path such as `{entitlement.days_idle}`.
    pub message: Option<String>,
    /// What to do about a finding, in a sentence or two.
    pub remediation: String,
    /// What the rule checks and why it matters; `dualtrack explain` prints it.
    pub description: Option<String>,
}

/// What a rule is evaluated on.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Subject {
    /// Once per entitlement and track; conditions may read `identity.*`, `entitlement.*` and
    /// `system.*` (the entitlement's system).
    Entitlement,
    /// Once per identity and track; conditions may read `identity.*` only.
    Identity,
}

/// Which of an identity's entitlements an identity-level finding lists.
#[derive(JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Involves {
    /// Every entitlement the identity holds.
    All,
    /// Only those on `sox_in_scope` systems.
    SoxInScope,
}

/// A condition: a list (all must hold), `all:`, `any:`, `not:`, or `attribute.path: test`.
/// A comparison on an absent attribute is false; `missing: true` tests for absence.
pub struct Condition;

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let me = generator.subschema_for::<Condition>().to_value();
        let test = generator.subschema_for::<Test>().to_value();
        let mut props = Map::new();
        props.insert(
            "all".to_owned(),
            json!({ "type": "array", "items": me, "description": "Every condition of the list holds." }),
        );
        props.insert(
            "any".to_owned(),
            json!({ "type": "array", "items": me, "description": "At least one condition of the list holds." }),
        );
        props.insert(
            "not".to_owned(),
            json!({ "allOf": [me], "description": "The condition does not hold." }),
        );
        for (path, description) in attribute_paths() {
            props.insert(path, json!({ "allOf": [test], "description": description }));
        }
        // One schema for both shapes rather than a `oneOf`: `items` only applies to a list
        // and the object keywords only to a map, and editors then report a misspelt path
        // as a property that is not allowed instead of "expected an array".
        json_schema!({
            "description": "A list (all must hold), `all:`, `any:`, `not:`, or `attribute.path: test`. \
                A comparison on an absent attribute is false; `missing: true` tests for absence.",
            "type": ["array", "object"],
            "items": me,
            "minProperties": 1,
            "properties": props,
            "patternProperties": {
                "^(identity|system)\\.tags\\..+$": {
                    "allOf": [test],
                    "description": "The value of a tag (a string); absent when the record has no such tag.",
                },
            },
            "additionalProperties": false,
        })
    }
}

/// Every attribute path a condition may name (`identity.kind`, `entitlement.days_idle` …)
/// with a description made of its type and the entity model's comment.
fn attribute_paths() -> Vec<(String, String)> {
    let Ok(model) = Model::load() else {
        return Vec::new();
    };
    let comments = model_comments();
    let mut out = Vec::new();
    for (entity, attrs) in &model.attrs {
        for (name, attr) in attrs {
            let ty = match attr.ty {
                AttrType::Bool => "`true` or `false`",
                AttrType::Long => "A whole number",
                AttrType::String => "A string",
                AttrType::Set => "A set of strings, tested with `contains`",
                AttrType::Entity => continue,
            };
            let mut text = match comments.get(&(entity.to_string(), name.clone())) {
                Some(c) => format!("{ty}: {c}."),
                None => format!("{ty}."),
            };
            if !attr.required {
                text.push_str(" Absent when the inventory lacks the data it is derived from.");
            }
            if *entity != "identity" {
                text.push_str(" Entitlement rules only.");
            }
            out.push((format!("{entity}.{name}"), text));
        }
    }
    out
}

/// The `// comment` after each attribute of `schemas/dualtrack.cedarschema`, by (entity in
/// lower case, attribute).
fn model_comments() -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let mut entity = String::new();
    for line in SCHEMA_TEXT.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("entity ") {
            entity = rest.split_whitespace().next().unwrap_or_default().to_lowercase();
            continue;
        }
        let Some((decl, comment)) = line.split_once("//") else {
            continue;
        };
        let Some((name, _)) = decl.split_once(':') else {
            continue;
        };
        let name = name.trim().trim_end_matches('?');
        if !entity.is_empty() && !name.is_empty() && !name.contains(' ') {
            out.insert((entity.clone(), name.to_owned()), comment.trim().to_owned());
        }
    }
    out
}

/// The test on one attribute: a literal (equality) or a map of comparison operators.
///
/// Its schema carries no description of its own, nor does [`Comparison`]'s, so an editor's
/// hover shows the description of the attribute path being tested.
pub struct Test;

impl JsonSchema for Test {
    fn schema_name() -> Cow<'static, str> {
        "Test".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let comparison = generator.subschema_for::<Comparison>();
        json_schema!({ "anyOf": [{ "type": ["string", "number", "boolean"] }, comparison] })
    }
}

/// A literal value; numbers and booleans compared with a string attribute are read as the
/// text they are written as.
pub struct Literal;

impl JsonSchema for Literal {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Literal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// Comparison operators; every one given must hold.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, extend("minProperties" = 1), transform = without_description)]
pub struct Comparison {
    /// Equal to the value.
    pub eq: Option<Literal>,
    /// Not equal to the value.
    pub ne: Option<Literal>,
    /// Greater than the number (number attributes only).
    pub gt: Option<i64>,
    /// Greater than or equal to the number (number attributes only).
    pub ge: Option<i64>,
    /// Less than the number (number attributes only).
    pub lt: Option<i64>,
    /// Less than or equal to the number (number attributes only).
    pub le: Option<i64>,
    /// One of the listed values.
    #[schemars(rename = "in")]
    pub in_: Option<Vec<Literal>>,
    /// None of the listed values (false when the attribute is absent).
    pub not_in: Option<Vec<Literal>>,
    /// The set attribute contains the value (set attributes only).
    pub contains: Option<Literal>,
    /// `true`: the attribute is absent; `false`: it is present.
    pub missing: Option<bool>,
    /// `true`: the attribute is present; `false`: it is absent.
    pub present: Option<bool>,
}

/// Drops a type's own description (see [`Test`]).
fn without_description(schema: &mut Schema) {
    schema.remove("description");
}
