//! Building Cedar entities and ids from derived facts, one identity at a time.

use std::str::FromStr;

use cedar_policy::{Entities, Entity, EntityId, EntityUid, RestrictedExpression, Schema};

use crate::derive::{Fact, Facts, View};
use crate::diag::{Code, Problem};
use crate::model::type_name;

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

/// The identity, its systems and its entitlements as Cedar entities. With a schema, Cedar
/// checks every attribute against it.
pub fn entities(view: &View<'_>, schema: Option<&Schema>) -> Result<Entities, Problem> {
    let mut list = Vec::with_capacity(view.entitlements.len() + view.systems.len() + 1);
    list.push(entity(
        uid("Identity", &view.identity.id)?,
        &view.facts,
        &view.identity.tags,
    )?);
    for (id, (system, facts)) in &view.systems {
        list.push(entity(uid("System", id)?, facts, &system.tags)?);
    }
    for (e, facts) in &view.entitlements {
        list.push(entity(uid("Entitlement", &e.id)?, facts, &[])?);
    }
    Entities::from_entities(list, schema).map_err(|e| {
        Problem::error(
            Code::EntityError,
            None,
            format!("cannot build entities for `{}`: {e}", view.identity.id),
        )
    })
}
