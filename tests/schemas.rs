//! The JSON Schemas in `schemas/` describe exactly the fields and values the loaders accept.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

use std::collections::BTreeSet;

use dualtrack_engine::inventory::{IdentityKind, Status, ENTITLEMENT_FIELDS, IDENTITY_FIELDS, SYSTEM_FIELDS};
use dualtrack_engine::policy::{Category, Severity, Track, OPERATORS, RULE_FIELDS};
use serde_json::Value as Json;

fn schema(name: &str) -> Json {
    let text = std::fs::read_to_string(format!("../schemas/{name}")).expect("schema file");
    serde_json::from_str(&text).expect("valid JSON")
}

fn keys(v: &Json) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn enum_of(v: &Json) -> BTreeSet<String> {
    v["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

#[test]
fn inventory_schema_matches_the_loader() {
    let s = schema("inventory.schema.json");
    assert_eq!(keys(&s["$defs"]["system"]["properties"]), set(SYSTEM_FIELDS));
    assert_eq!(keys(&s["$defs"]["identity"]["properties"]), set(IDENTITY_FIELDS));
    assert_eq!(keys(&s["$defs"]["entitlement"]["properties"]), set(ENTITLEMENT_FIELDS));
    let kinds: Vec<&str> = IdentityKind::CHOICES.iter().map(|(n, _)| *n).collect();
    assert_eq!(enum_of(&s["$defs"]["identity"]["properties"]["kind"]), set(&kinds));
    let statuses: Vec<&str> = Status::CHOICES.iter().map(|(n, _)| *n).collect();
    assert_eq!(enum_of(&s["$defs"]["identity"]["properties"]["status"]), set(&statuses));
}

fn names<T>(choices: &[(&str, T)]) -> BTreeSet<String> {
    choices.iter().map(|(n, _)| (*n).to_owned()).collect()
}

#[test]
fn rule_schema_matches_the_compiler() {
    let s = schema("policy-rules.schema.json");
    let rule = &s["$defs"]["rule"]["properties"];
    assert_eq!(keys(rule), set(RULE_FIELDS));
    assert_eq!(enum_of(&rule["track"]), names(Track::CHOICES));
    assert_eq!(enum_of(&rule["category"]), names(Category::CHOICES));
    assert_eq!(enum_of(&rule["severity"]), names(Severity::CHOICES));
    assert_eq!(keys(&s["$defs"]["test"]["oneOf"][1]["properties"]), set(OPERATORS));
}

#[test]
fn exceptions_schema_matches_the_loader() {
    let s = schema("exceptions.schema.json");
    let exception = &s["$defs"]["exception"]["properties"];
    assert_eq!(keys(exception), set(dualtrack_engine::exceptions::EXCEPTION_FIELDS));
    assert_eq!(enum_of(&exception["track"]), names(Track::CHOICES));
}

#[test]
fn campaign_schema_matches_the_loader() {
    use dualtrack_engine::campaign::{Reviewer, Scope, CAMPAIGN_FIELDS, TRACK_FIELDS};
    let s = schema("campaign.schema.json");
    assert_eq!(keys(&s["properties"]), set(CAMPAIGN_FIELDS));
    assert_eq!(keys(&s["properties"]["tracks"]["properties"]), names(Track::CHOICES));
    let track = &s["$defs"]["track"]["properties"];
    assert_eq!(keys(track), set(TRACK_FIELDS));
    assert_eq!(enum_of(&s["$defs"]["strategy"]), names(Reviewer::CHOICES));
    assert_eq!(enum_of(&track["scope"]), names(Scope::CHOICES));
}
