//! `scim`: SCIM 2.0 (RFC 7643) Users and Groups, from a `ListResponse`, a single resource,
//! or a directory of `.json` files holding either. Users carry `active`, the enterprise
//! extension's `manager` and `employeeNumber`, `entitlements` and `roles`; group
//! membership (from `Group.members`, nested groups included, or `User.groups`) is an
//! entitlement on the SCIM system. `Agent` resources of the SCIM agent extension draft
//! (draft-abbey-scim-agent-extension-00) are AI agents: their `owners` are sponsors, their
//! `parent` the agent they derive from, and their entitlements, roles and groups access.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Problem, Problems};
use crate::inventory::{IdentityKind, Status};
use crate::node::Node;

use super::build::account_id;
use super::util;
use super::{json_docs, shape, Account, Grant, Import, Ref, Spec};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The agent extension draft's core schema. The draft writes it `…:2.0:Agent` where it
/// defines it and `…:2.0:agent` in its resource type, so it is matched in any case.
const AGENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";

/// The resources of an export, by type.
#[derive(Default)]
struct Resources<'a> {
    users: Vec<&'a Node>,
    groups: Vec<&'a Node>,
    agents: Vec<&'a Node>,
}

/// Reads one SCIM export (file or directory).
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let roots = json_docs(spec, imp, sink);
    let mut res = Resources::default();
    for root in &roots {
        resources(root, &mut res, sink);
    }
    let system = imp.system(spec, "scim", Some("SCIM directory".to_owned()));
    // SCIM id → account id, for members, managers, owners and parents.
    let ids: BTreeMap<String, String> = res
        .users
        .iter()
        .filter_map(|u| Some((util::text(u, "id")?, account_id(&system, &user_name(u)?))))
        .chain(
            res.agents
                .iter()
                .filter_map(|a| Some((util::text(a, "id")?, account_id(&system, &agent_local(a)?)))),
        )
        .collect();
    let mut accounts: Vec<Account> = res.users.iter().filter_map(|u| user(u, &system, &ids, sink)).collect();
    let members = group_users(&res.groups, &ids);
    accounts.extend(
        res.agents
            .iter()
            .filter_map(|a| agent(a, &system, &ids, &members, sink)),
    );
    memberships(&res.groups, &ids, &mut accounts, sink);
    imp.accounts.extend(accounts);
}

fn schemas(node: &Node) -> Vec<String> {
    util::items(node, "schemas")
        .iter()
        .filter_map(Node::scalar_text)
        .collect()
}

fn resource_type(node: &Node) -> Option<String> {
    util::get(node, "meta").and_then(|m| util::text(m, "resourceType"))
}

/// Sorts the resources of one document into users, groups and agents.
fn resources<'a>(root: &'a Node, res: &mut Resources<'a>, sink: &mut Problems) {
    let s = schemas(root);
    if s.iter().any(|x| x == LIST) || util::get(root, "Resources").is_some() {
        for r in util::items(root, "Resources") {
            resources(r, res, sink);
        }
        return;
    }
    let kind = resource_type(root);
    if s.iter().any(|x| x == USER) || kind.as_deref() == Some("User") {
        res.users.push(root);
    } else if s.iter().any(|x| x == GROUP) || kind.as_deref() == Some("Group") {
        res.groups.push(root);
    } else if s.iter().any(|x| x.eq_ignore_ascii_case(AGENT)) || kind.is_some_and(|k| k.eq_ignore_ascii_case("Agent")) {
        res.agents.push(root);
    } else {
        sink.push(shape(
            root.loc.clone(),
            "not a SCIM User, Group, Agent or ListResponse",
            format!("a SCIM resource names its schema in `schemas`, e.g. `{USER}`"),
        ));
    }
}

/// An agent's id in the directory: `agent:<name>` (the draft's one required attribute),
/// else `agent:<id>`; kept apart from user names, which may be alike.
fn agent_local(a: &Node) -> Option<String> {
    util::text(a, "name")
        .or_else(|| util::text(a, "id"))
        .map(|n| format!("agent:{n}"))
}

/// Each group's direct user and agent members (by SCIM id), as account ids.
fn group_users(groups: &[&Node], ids: &BTreeMap<String, String>) -> BTreeMap<String, Vec<String>> {
    groups
        .iter()
        .filter_map(|g| {
            let members = util::items(g, "members")
                .iter()
                .filter_map(|m| util::text(m, "value").and_then(|v| ids.get(&v)).cloned())
                .collect();
            Some((util::text(g, "id")?, members))
        })
        .collect()
}

/// An `Agent` resource: an `ai_agent` whose `owners` (users, or groups standing for their
/// members) are its sponsors and whose `parent` is the agent it derives from; its
/// entitlements, roles and groups are access as a user's are. The draft says nothing of
/// whom an agent acts for, so `acts` stays unset.
fn agent(
    a: &Node,
    system: &str,
    ids: &BTreeMap<String, String>,
    members: &BTreeMap<String, Vec<String>>,
    sink: &mut Problems,
) -> Option<Account> {
    let Some(local) = agent_local(a) else {
        sink.push(shape(
            a.loc.clone(),
            "SCIM agent without `name` or `id`",
            "the agent extension requires every Agent's `name`",
        ));
        return None;
    };
    let mut acc = Account::new(system, &local, &a.loc);
    acc.kind = Some(IdentityKind::AiAgent);
    acc.display_name = util::text(a, "displayName").or_else(|| util::text(a, "name"));
    acc.status = util::boolean(a, "active").map(|on| if on { Status::Active } else { Status::Disabled });
    acc.created_at = util::get(a, "meta").and_then(|m| util::date_at(m, "created", sink));
    if let Some(t) = util::text(a, "type") {
        acc.tags.push(("agent_type".to_owned(), t));
    }
    for o in util::items(a, "owners") {
        let Some(v) = util::text(o, "value") else {
            sink.push(shape(
                o.loc.clone(),
                "agent owner without `value`",
                "each owner names its user or group by `value` (its SCIM id)",
            ));
            continue;
        };
        let at = util::get(o, "value").map_or_else(|| o.loc.clone(), |n| n.loc.clone());
        match (ids.get(&v), members.get(&v)) {
            (Some(user), _) => acc.sponsors.push((Ref::Account(user.clone()), at)),
            (None, Some(list)) if !list.is_empty() => {
                acc.sponsors
                    .extend(list.iter().map(|m| (Ref::Account(m.clone()), at.clone())));
            }
            _ => acc.sponsors.push((Ref::Hint(v), at)),
        }
    }
    if let Some(p) = util::get(a, "parent") {
        if let Some(v) = util::text(p, "value") {
            let at = util::get(p, "value").map_or_else(|| p.loc.clone(), |n| n.loc.clone());
            let parent = ids.get(&v).map_or(Ref::Hint(v), |x| Ref::Account(x.clone()));
            acc.parent = Some((parent, at));
        }
    }
    grants(a, &mut acc, "agent");
    Some(acc)
}

/// A user's or agent's `entitlements`, `roles` and `groups` as grants on the SCIM system.
fn grants(u: &Node, acc: &mut Account, who: &str) {
    for (key, prefix) in [("entitlements", "entitlement"), ("roles", "role")] {
        for e in util::items(u, key) {
            let Some(v) = util::text(e, "value").or_else(|| util::text(e, "display")) else {
                continue;
            };
            acc.grant(Grant::new(
                format!("{prefix}/{v}"),
                false,
                format!("scim: {who} {key}"),
                &e.loc,
            ));
        }
    }
    for g in util::items(u, "groups") {
        let Some(name) = util::text(g, "display").or_else(|| util::text(g, "value")) else {
            continue;
        };
        acc.grant(Grant::new(
            format!("group/{name}"),
            false,
            format!("scim: {who} groups"),
            &g.loc,
        ));
    }
}

/// A user's id in the directory: its `userName`, else its SCIM `id`.
fn user_name(u: &Node) -> Option<String> {
    util::text(u, "userName").or_else(|| util::text(u, "id"))
}

fn user(u: &Node, system: &str, ids: &BTreeMap<String, String>, sink: &mut Problems) -> Option<Account> {
    let Some(name) = user_name(u) else {
        sink.push(shape(
            u.loc.clone(),
            "SCIM user without `userName` or `id`",
            "every SCIM User has a `userName`",
        ));
        return None;
    };
    let mut acc = Account::new(system, &name, &u.loc);
    acc.login = util::text(u, "userName");
    acc.display_name =
        util::text(u, "displayName").or_else(|| util::get(u, "name").and_then(|n| util::text(n, "formatted")));
    let emails = util::items(u, "emails");
    acc.email = emails
        .iter()
        .find(|e| util::boolean(e, "primary") == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| util::text(e, "value"));
    acc.status = util::boolean(u, "active").map(|a| if a { Status::Active } else { Status::Disabled });
    acc.created_at = util::get(u, "meta").and_then(|m| util::date_at(m, "created", sink));
    if let Some(ext) = util::get(u, ENTERPRISE) {
        acc.employee_id = util::text(ext, "employeeNumber");
        acc.department = util::text(ext, "department");
        let manager = util::get(ext, "manager");
        acc.manager_at = manager.map(|m| util::get(m, "value").map_or(&m.loc, |v| &v.loc).clone());
        acc.manager = manager.and_then(|m| util::text(m, "value")).map(|m| match ids.get(&m) {
            Some(a) => Ref::Account(a.clone()),
            None => Ref::Hint(m),
        });
    }
    grants(u, &mut acc, "user");
    Some(acc)
}

/// Gives every user the groups whose members it is, directly or through nested groups.
fn memberships(groups: &[&Node], ids: &BTreeMap<String, String>, accounts: &mut [Account], sink: &mut Problems) {
    let by_id: BTreeMap<String, &Node> = groups.iter().filter_map(|g| Some((util::text(g, "id")?, *g))).collect();
    for g in groups {
        let Some(name) = util::text(g, "displayName").or_else(|| util::text(g, "id")) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Node> = vec![g];
        while let Some(group) = stack.pop() {
            if !seen.insert((group.loc.file().to_owned(), group.loc.offset)) {
                continue;
            }
            for m in util::items(group, "members") {
                let Some(v) = util::text(m, "value") else { continue };
                let is_group = util::text(m, "type").is_some_and(|t| t.eq_ignore_ascii_case("group"));
                if let (true, Some(inner)) = (is_group || !ids.contains_key(&v), by_id.get(&v)) {
                    stack.push(inner);
                    continue;
                }
                match ids.get(&v).and_then(|a| accounts.iter_mut().find(|x| x.id == *a)) {
                    Some(acc) => acc.grant(Grant::new(
                        format!("group/{name}"),
                        false,
                        format!("scim: group {name} members"),
                        &m.loc,
                    )),
                    None => sink.push(
                        Problem::warning(
                            Code::ExportShape,
                            Some(m.loc.clone()),
                            format!("member `{v}` of group `{name}` is not a user of this export"),
                        )
                        .with_help("export the users too, or the membership is not counted"),
                    ),
                }
            }
        }
    }
}
