//! Building Cedar entities and ids from derived facts, one identity at a time.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema};

use crate::derive::{system_facts, Fact, Facts, View};
use crate::diag::{Code, Problem};
use crate::inventory::Inventory;

/// `Dualtrack::<ty>`, parsed once per type.
fn type_name(ty: &str) -> Result<EntityTypeName, Problem> {
    static NAMES: OnceLock<Vec<(&'static str, EntityTypeName)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        ["Identity", "System", "Entitlement", "Action"]
            .into_iter()
            .filter_map(|n| crate::model::type_name(n).ok().map(|t| (n, t)))
            .collect()
    });
    match names.iter().find(|(n, _)| *n == ty) {
        Some((_, t)) => Ok(t.clone()),
        None => crate::model::type_name(ty),
    }
}

/// Every system's entity, built once per run: identities share systems, so rebuilding
/// them per identity would repeat the same work thousands of times.
pub struct SystemEntities(HashMap<String, Entity>);

impl SystemEntities {
    /// Builds the entity of every system of `inv`.
    pub fn new(inv: &Inventory) -> Result<Self, Problem> {
        let mut map = HashMap::with_capacity(inv.systems.len());
        for s in &inv.systems {
            map.insert(
                s.id.clone(),
                entity(uid("System", &s.id)?, &system_facts(inv, s), &s.tags)?,
            );
        }
        Ok(Self(map))
    }
}

/// The uid `Dualtrack::<ty>::"<id>"`.
pub fn uid(ty: &str, id: &str) -> Result<EntityUid, Problem> {
    Ok(EntityUid::from_type_name_and_id(
        type_name(ty)?,
        EntityId::from_str(id).unwrap_or_else(|e| match e {}),
    ))
}

fn expr(f: &Fact) -> Result<RestrictedExpression, Problem> {
    Ok(match f {
        Fact::Bool(b) => RestrictedExpression::new_bool(*b),
        Fact::Long(n) => RestrictedExpression::new_long(*n),
        Fact::Str(s) => RestrictedExpression::new_string(s.clone()),
        Fact::Set(items) => RestrictedExpression::new_set(items.iter().cloned().map(RestrictedExpression::new_string)),
        Fact::System(id) => RestrictedExpression::new_entity_uid(uid("System", id)?),
    })
}

fn entity(uid: EntityUid, facts: &Facts, tags: &[(String, String)]) -> Result<Entity, Problem> {
    let attrs = facts
        .iter()
        .map(|(k, v)| Ok(((*k).to_owned(), expr(v)?)))
        .collect::<Result<Vec<_>, Problem>>()?;
    let tags = tags
        .iter()
        .map(|(k, v)| (k.clone(), RestrictedExpression::new_string(v.clone())));
    Entity::new_with_tags(uid, attrs, [], tags)
        .map_err(|e| Problem::error(Code::EntityError, None, format!("cannot build entity: {e}")))
}

/// Which entities beyond the identity a store holds: indices into `view.entitlements` of
/// the entitlements wanted, and of those whose system is wanted too.
pub struct Wanted {
    /// Entitlements to include, sorted.
    pub entitlements: Vec<usize>,
    /// Entitlements whose system is included, sorted.
    pub systems: Vec<usize>,
}

/// The identity, its systems and its entitlements as Cedar entities — only those `only`
/// names when given. With a schema, Cedar checks every attribute against it.
pub fn entities(
    view: &View<'_>,
    schema: Option<&Schema>,
    only: Option<&Wanted>,
    systems_built: Option<&SystemEntities>,
) -> Result<Entities, Problem> {
    let ent_wanted = |i: usize| only.is_none_or(|o| o.entitlements.binary_search(&i).is_ok());
    let mut list = Vec::with_capacity(view.entitlements.len() + view.systems.len() + 1);
    list.push(entity(
        uid("Identity", &view.identity.id)?,
        &view.facts,
        &view.identity.tags,
    )?);
    for (i, (e, facts)) in view.entitlements.iter().enumerate() {
        if ent_wanted(i) {
            list.push(entity(uid("Entitlement", &e.id)?, facts, &[])?);
        }
    }
    let mut systems: Vec<&str> = match only {
        None => view.systems.keys().copied().collect(),
        Some(o) => o
            .systems
            .iter()
            .filter_map(|i| view.entitlements.get(*i))
            .map(|(e, _)| &*e.system.value)
            .collect(),
    };
    systems.sort_unstable();
    systems.dedup();
    for id in systems {
        let Some((system, facts)) = view.systems.get(id) else {
            continue;
        };
        match systems_built.and_then(|b| b.0.get(id)) {
            Some(built) => list.push(built.clone()),
            None => list.push(entity(uid("System", id)?, facts, &system.tags)?),
        }
    }
    Entities::from_entities(list, schema).map_err(|e| {
        Problem::error(
            Code::EntityError,
            None,
            format!("cannot build entities for `{}`: {e}", view.identity.id),
        )
    })
}
