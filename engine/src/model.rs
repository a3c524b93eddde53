//! The Cedar entity model: the embedded schema and the attribute table YAML rules are
//! checked against (read from the schema itself, so the two never drift).

use std::collections::BTreeMap;
use std::str::FromStr;

use cedar_policy::{Schema, SchemaFragment};
use serde_json::Value as Json;

use crate::diag::{Code, Problem};

/// `schemas/dualtrack.cedarschema`, embedded.
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/dualtrack.cedarschema");

/// The Cedar type of an attribute, as far as rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `Bool`.
    Bool,
    /// `Long`.
    Long,
    /// `String`.
    String,
    /// `Set<String>`.
    Set,
    /// A reference to another entity.
    Entity,
}

/// One attribute of an entity type.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    /// Its type.
    pub ty: AttrType,
    /// False when the attribute may be absent (needs `has`).
    pub required: bool,
}

/// The validated schema and its attribute table.
#[derive(Debug)]
pub struct Model {
    /// For validation and typed entities and requests.
    pub schema: Schema,
    /// Attributes by entity (`identity`, `entitlement`, `system`) and name.
    pub attrs: BTreeMap<&'static str, BTreeMap<String, Attr>>,
}

impl Model {
    /// Loads the embedded schema.
    pub fn load() -> Result<Self, Problem> {
        let bad = |e: String| Problem::error(Code::Schema, None, format!("the built-in Cedar schema is invalid: {e}"));
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA_TEXT).map_err(|e| bad(e.to_string()))?;
        let (fragment, _) = SchemaFragment::from_cedarschema_str(SCHEMA_TEXT).map_err(|e| bad(e.to_string()))?;
        let json = fragment.to_json_value().map_err(|e| bad(e.to_string()))?;
        let mut attrs = BTreeMap::new();
        for (name, ty) in [
            ("identity", "Identity"),
            ("entitlement", "Entitlement"),
            ("system", "System"),
        ] {
            let table = json
                .pointer(&format!("/Dualtrack/entityTypes/{ty}/shape/attributes"))
                .and_then(Json::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), attr_of(v))).collect())
                .unwrap_or_default();
            attrs.insert(name, table);
        }
        Ok(Self { schema, attrs })
    }

    /// The attribute `name` of `entity`.
    pub fn attr(&self, entity: &str, name: &str) -> Option<Attr> {
        self.attrs.get(entity).and_then(|t| t.get(name)).copied()
    }

    /// Attribute names of `entity`, sorted.
    pub fn attr_names(&self, entity: &str) -> Vec<&str> {
        self.attrs
            .get(entity)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

fn attr_of(v: &Json) -> Attr {
    let kind = v.get("type").and_then(Json::as_str).unwrap_or_default();
    let name = v.get("name").and_then(Json::as_str).unwrap_or_default();
    let ty = match (kind, name.trim_start_matches("__cedar::")) {
        ("Boolean", _) | (_, "Bool") => AttrType::Bool,
        ("Long", _) | (_, "Long") => AttrType::Long,
        ("String", _) | (_, "String") => AttrType::String,
        ("Set", _) => AttrType::Set,
        _ => AttrType::Entity,
    };
    Attr {
        ty,
        required: v.get("required").and_then(Json::as_bool).unwrap_or(true),
    }
}

/// The entity type name `Dualtrack::<name>`.
pub fn type_name(name: &str) -> Result<cedar_policy::EntityTypeName, Problem> {
    cedar_policy::EntityTypeName::from_str(&format!("Dualtrack::{name}"))
        .map_err(|e| Problem::error(Code::Schema, None, format!("bad entity type `{name}`: {e}")))
}
