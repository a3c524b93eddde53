//! `baton`: the JSON the ConductorOne `baton` CLI prints (`baton resources`, `baton
//! entitlements`, `baton grants` with `--output-format json`), one file or a directory of
//! them. Resources with the user trait are accounts (`account_type` HUMAN, SERVICE or
//! SYSTEM, `last_login`); resources with the secret trait are credentials (`expires_at`,
//! `last_used_at`, owned by their `identity_id`); every grant is an entitlement.

use chrono::{DateTime, Utc};

use crate::diag::Problems;
use crate::inventory::{IdentityKind, Status};
use crate::node::{Node, Value};

use super::build::{account_id, Accounts};
use super::util::{self, date_at};
use super::{json_docs, shape, Account, Grant, Import, Ref, Spec};

const USER_TRAIT: &str = "c1.connector.v2.UserTrait";
const SECRET_TRAIT: &str = "c1.connector.v2.SecretTrait";

/// The value at `camel` (as protojson writes it) or `snake` (the proto field name, which
/// protojson also reads).
fn field<'a>(o: &'a Node, camel: &str, snake: &str) -> Option<&'a Node> {
    util::get(o, camel).or_else(|| util::get(o, snake))
}

fn field_text(o: &Node, camel: &str, snake: &str) -> Option<String> {
    util::text(o, camel).or_else(|| util::text(o, snake))
}

fn date_field(o: &Node, camel: &str, snake: &str, sink: &mut Problems) -> Option<DateTime<Utc>> {
    if util::get(o, camel).is_some() {
        date_at(o, camel, sink)
    } else {
        date_at(o, snake, sink)
    }
}

/// A resource id `{resourceType, resource}` as `type/id`.
fn resource_key(id: &Node) -> Option<String> {
    let t = field_text(id, "resourceType", "resource_type")?;
    let r = util::text(id, "resource")?;
    Some(format!("{t}/{r}"))
}

/// The trait annotation of type `name` on a resource (`@type` ends with it).
fn annotation<'a>(resource: &'a Node, name: &str) -> Option<&'a Node> {
    util::items(resource, "annotations")
        .iter()
        .find(|a| util::text(a, "@type").is_some_and(|t| t.ends_with(name)))
}

/// Whether a resource type lists `trait_name` (e.g. `TRAIT_USER`) among its traits.
fn has_trait(resource_type: Option<&Node>, trait_name: &str) -> bool {
    resource_type.is_some_and(|rt| {
        util::items(rt, "traits")
            .iter()
            .any(|t| t.scalar_text().is_some_and(|t| t == trait_name))
    })
}

/// Strips a protobuf enum prefix: `ACCOUNT_TYPE_HUMAN` → `HUMAN`.
fn enum_name(value: &str, prefix: &str) -> String {
    value
        .trim()
        .strip_prefix(prefix)
        .unwrap_or(value.trim())
        .to_ascii_uppercase()
}

/// Reads one Baton export (file or directory).
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let docs = json_docs(spec, imp, sink);
    let system = imp.system(spec, "baton", Some("Baton connector".to_owned()));
    let mut accounts = Accounts::default();
    let mut grants: Vec<&Node> = Vec::new();
    for doc in &docs {
        let lists = [
            util::get(doc, "resources"),
            util::get(doc, "entitlements"),
            util::get(doc, "grants"),
        ];
        if !matches!(doc.value, Value::Map(_)) || lists.iter().all(Option::is_none) {
            sink.push(shape(
                doc.loc.clone(),
                "not `baton` JSON output: no `resources`, `entitlements` or `grants`",
                "save the output of `baton resources`, `baton entitlements` or `baton grants` with `--output-format json`",
            ));
            continue;
        }
        for r in util::items(doc, "resources") {
            if let Some(res) = util::get(r, "resource") {
                resource(
                    res,
                    field(r, "resourceType", "resource_type"),
                    &system,
                    &mut accounts,
                    sink,
                );
            }
        }
        for g in util::items(doc, "grants") {
            // A grant output carries its principal in full, traits included.
            if let Some(p) = util::get(g, "principal") {
                resource(p, None, &system, &mut accounts, sink);
            }
            grants.push(g);
        }
    }
    for g in grants {
        grant(g, &system, &mut accounts, sink);
    }
    imp.accounts.extend(accounts.into_sorted());
}

/// Adds the account a user or secret resource is; other resources are not identities.
fn resource(r: &Node, resource_type: Option<&Node>, system: &str, accounts: &mut Accounts, sink: &mut Problems) {
    let Some(key) = util::get(r, "id").and_then(resource_key) else {
        sink.push(shape(
            r.loc.clone(),
            "Baton resource without `id.resourceType` and `id.resource`",
            "every Baton resource names its type and id",
        ));
        return;
    };
    let user = annotation(r, USER_TRAIT);
    let secret = annotation(r, SECRET_TRAIT);
    let is_user = user.is_some() || has_trait(resource_type, "TRAIT_USER");
    let is_secret = secret.is_some() || has_trait(resource_type, "TRAIT_SECRET");
    if !is_user && !is_secret {
        return;
    }
    let mut acc = Account::new(system, &key, &r.loc);
    acc.display_name = field_text(r, "displayName", "display_name");
    if let Some(u) = user {
        acc.kind =
            field_text(u, "accountType", "account_type").and_then(|t| match enum_name(&t, "ACCOUNT_TYPE_").as_str() {
                "HUMAN" => Some(IdentityKind::Human),
                "SERVICE" | "SYSTEM" => Some(IdentityKind::ServiceAccount),
                _ => None,
            });
        if let Some(t) = field_text(u, "accountType", "account_type") {
            acc.tags
                .push(("account_type".to_owned(), enum_name(&t, "ACCOUNT_TYPE_")));
        }
        acc.login = util::text(u, "login");
        let emails = util::items(u, "emails");
        acc.email = emails
            .iter()
            .find(|e| util::boolean(e, "isPrimary").or_else(|| util::boolean(e, "is_primary")) == Some(true))
            .or_else(|| emails.first())
            .and_then(|e| util::text(e, "address"));
        acc.employee_id = field(u, "employeeIds", "employee_ids")
            .and_then(|ids| match &ids.value {
                Value::Seq(items) => items.first().and_then(Node::scalar_text),
                _ => None,
            })
            .filter(|e| !e.trim().is_empty());
        acc.status = util::get(u, "status")
            .and_then(|s| util::text(s, "status"))
            .and_then(|s| match enum_name(&s, "STATUS_").as_str() {
                "ENABLED" => Some(Status::Active),
                "DISABLED" => Some(Status::Disabled),
                "DELETED" => Some(Status::Terminated),
                _ => None,
            });
        acc.created_at = date_field(u, "createdAt", "created_at", sink);
        acc.last_seen = date_field(u, "lastLogin", "last_login", sink);
    }
    if let Some(s) = secret {
        acc.kind = Some(IdentityKind::ApiKey);
        let created = date_field(s, "createdAt", "created_at", sink);
        let expires = date_field(s, "expiresAt", "expires_at", sink);
        let used = date_field(s, "lastUsedAt", "last_used_at", sink);
        acc.created_at = created;
        acc.credential_rotated_at = created;
        acc.credential_expires_at = expires;
        acc.last_seen = used;
        acc.owner = field(s, "identityId", "identity_id")
            .and_then(resource_key)
            .map(|k| Ref::Account(account_id(system, &k)));
        acc.grant(
            Grant::new("secret", false, "baton: secret trait", &s.loc)
                .granted(created)
                .used(used)
                .expires(expires),
        );
    } else if is_secret {
        acc.kind = Some(IdentityKind::ApiKey);
    }
    // The same resource may be in `baton resources` and a grant's principal.
    accounts.add(acc);
}

/// One grant: an entitlement of its principal, named after the entitlement's resource and
/// slug (`group/Engineering/member`).
fn grant(g: &Node, system: &str, accounts: &mut Accounts, sink: &mut Problems) {
    let inner = util::get(g, "grant").unwrap_or(g);
    let entitlement = util::get(inner, "entitlement").or_else(|| util::get(g, "entitlement"));
    let principal = util::get(inner, "principal").or_else(|| util::get(g, "principal"));
    let (Some(e), Some(p)) = (entitlement, principal) else {
        sink.push(shape(
            g.loc.clone(),
            "Baton grant without `entitlement` or `principal`",
            "save the output of `baton grants --output-format json`",
        ));
        return;
    };
    let Some(principal_key) = util::get(p, "id").and_then(resource_key) else {
        sink.push(shape(
            p.loc.clone(),
            "Baton grant principal without an id",
            "every principal names its type and id",
        ));
        return;
    };
    let Some(acc) = accounts.get_mut(&account_id(system, &principal_key)) else {
        // A grant to a group or role: Baton also lists the grants it expands to users.
        return;
    };
    let resource = util::get(e, "resource").or_else(|| util::get(g, "resource"));
    let what = resource
        .map(|r| {
            let key = util::get(r, "id").and_then(resource_key).unwrap_or_default();
            match field_text(r, "displayName", "display_name") {
                Some(name) => format!("{}/{name}", key.split('/').next().unwrap_or_default()),
                None => key,
            }
        })
        .unwrap_or_default();
    let slug = util::text(e, "slug")
        .or_else(|| field_text(e, "displayName", "display_name"))
        .or_else(|| util::text(e, "id"))
        .unwrap_or_default();
    let permission = if what.is_empty() {
        slug
    } else {
        format!("{what}/{slug}")
    };
    let source = format!(
        "baton: grant {}",
        util::text(inner, "id").unwrap_or_else(|| permission.clone())
    );
    acc.grant(Grant::new(permission, false, source, &g.loc));
}
