//! `okta`: Okta Management API responses saved as JSON, one file or a directory of them,
//! each under its API path (`users.json`, `groups.json`, `apps.json`, `api-tokens.json`,
//! `groups/<groupId>/users.json`, `users/<userId>/groups.json`, `apps/<appId>/users.json`,
//! `apps/<appId>/groups.json`, `ai-agents.json`, `ai-agents/<agentId>/owners.json`). Users
//! with their lifecycle status, group memberships, app assignments (USER or GROUP scope),
//! API tokens, and AI agents (Okta for AI Agents) whose owners are their sponsors.

use std::collections::BTreeMap;

use crate::diag::{suggest, Code, Problem, Problems};
use crate::inventory::{IdentityKind, Status};
use crate::node::{Node, Value};
use crate::source::Loc;

use super::util::{self, date_at};
use super::{json_tree, shape, Account, Grant, Import, Ref, Spec};

/// Okta user statuses and what they mean for the review: (status, inventory status,
/// never activated).
const STATUSES: &[(&str, Status, bool)] = &[
    ("ACTIVE", Status::Active, false),
    ("RECOVERY", Status::Active, false),
    ("PASSWORD_EXPIRED", Status::Active, false),
    ("LOCKED_OUT", Status::Active, false),
    ("STAGED", Status::Active, true),
    ("PROVISIONED", Status::Active, true),
    ("SUSPENDED", Status::Disabled, false),
    ("DEPROVISIONED", Status::Terminated, false),
];

/// What an object of the export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Type {
    User,
    Group,
    App,
    /// An app user (`/apps/{appId}/users`): an assignment of the app to a user.
    AppUser,
    /// An app group (`/apps/{appId}/groups`): an assignment of the app to a group.
    AppGroup,
    ApiToken,
    /// An AI agent (Okta for AI Agents, `/workload-principals/api/v1/ai-agents`).
    AiAgent,
    /// An owner of an AI agent, listed in `ai-agents/<agentId>/owners.json`.
    AgentOwner,
}

/// An object and what its file's API path says about it: the group whose members a
/// `groups/<id>/users.json` lists, the user whose groups `users/<id>/groups.json` lists,
/// the app whose assignments `apps/<id>/…` lists.
struct Item<'a> {
    node: &'a Node,
    group: Option<String>,
    user: Option<String>,
    app: Option<String>,
    /// The AI agent whose owners `ai-agents/<id>/owners.json` lists.
    agent: Option<String>,
}

fn by_shape(o: &Node) -> Option<Type> {
    let has = |k: &str| util::get(o, k).is_some();
    let profile = util::get(o, "profile");
    let in_profile = |k: &str| profile.is_some_and(|p| util::get(p, k).is_some());
    Some(if has("tokenWindow") || (has("userId") && has("clientName")) {
        Type::ApiToken
    } else if has("scope") && (has("credentials") || has("_links")) && !in_profile("login") {
        Type::AppUser
    } else if has("priority") {
        Type::AppGroup
    } else if in_profile("login") {
        Type::User
    } else if has("signOnMode") || has("label") {
        Type::App
    } else if in_profile("name") && has("status") && !has("objectClass") {
        // A group's profile has a name too, but a group has no lifecycle status.
        Type::AiAgent
    } else if in_profile("name") || has("objectClass") {
        Type::Group
    } else {
        return None;
    })
}

/// The last path segment of a `_links` entry's `href` (an Okta id).
fn link_id(o: &Node, link: &str) -> Option<String> {
    let href = util::get(o, "_links")
        .and_then(|l| util::get(l, link))
        .and_then(|l| util::text(l, "href"))?;
    href.trim_end_matches('/').rsplit('/').next().map(str::to_owned)
}

/// Reads one Okta export (file or directory).
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let docs = json_tree(spec, imp, sink, true);
    let mut items: BTreeMap<Type, Vec<Item<'_>>> = BTreeMap::new();
    for (rel, doc) in &docs {
        let path: Vec<&str> = rel.trim_end_matches(".json").split('/').collect();
        // `groups/<id>/users` lists users, `users/<id>/groups` groups, `apps/<id>/users` app users.
        let (implied, group, user, app) = match path.as_slice() {
            ["groups", id, "users"] => (Some(Type::User), Some(id), None, None),
            ["users", id, "groups"] => (Some(Type::Group), None, Some(id), None),
            ["apps", id, "users"] => (Some(Type::AppUser), None, None, Some(id)),
            ["apps", id, "groups"] => (Some(Type::AppGroup), None, None, Some(id)),
            ["ai-agents"] => (Some(Type::AiAgent), None, None, None),
            ["ai-agents", _, "owners"] => (Some(Type::AgentOwner), None, None, None),
            _ => (None, None, None, None),
        };
        let agent = match path.as_slice() {
            ["ai-agents", id, "owners"] => Some((*id).to_owned()),
            _ => None,
        };
        let list: &[Node] = match &doc.value {
            Value::Seq(list) => list,
            // The AI agents API pages its listings as `{"data": [...], "_links": …}`.
            Value::Map(_) => match util::get(doc, "data").map(|d| &d.value) {
                Some(Value::Seq(list)) => list,
                _ => std::slice::from_ref(doc),
            },
            _ => {
                sink.push(shape(
                    doc.loc.clone(),
                    "not an Okta API response: expected an object or an array",
                    "save the Okta API responses unchanged",
                ));
                continue;
            }
        };
        for o in list {
            match implied.or_else(|| by_shape(o)) {
                Some(t) => items.entry(t).or_default().push(Item {
                    node: o,
                    group: group.map(|g| (*g).to_owned()),
                    user: user.map(|u| (*u).to_owned()),
                    app: app.map(|a| (*a).to_owned()),
                    agent: agent.clone(),
                }),
                None => sink.push(shape(
                    o.loc.clone(),
                    "not an Okta user, group, app, app assignment, API token or AI agent",
                    "save each API response under its path (`users.json`, `groups/<id>/users.json` …)",
                )),
            }
        }
    }
    let of = |t: Type| items.get(&t).map_or(&[][..], Vec::as_slice);
    let system = imp.system(spec, "okta", Some("Okta".to_owned()));
    // Okta user id → account; the users of membership listings count too.
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    let mut memberships: Vec<(String, String, &Node)> = Vec::new();
    for it in of(Type::User) {
        let Some(oid) = util::text(it.node, "id") else {
            sink.push(shape(
                it.node.loc.clone(),
                "Okta user without `id`",
                "Okta lists every user with its `id`",
            ));
            continue;
        };
        if let Some(g) = &it.group {
            memberships.push((oid.clone(), g.clone(), it.node));
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = accounts.entry(oid) {
            if let Some(acc) = user(it.node, &system, sink) {
                slot.insert(acc);
            }
        }
    }
    let groups: BTreeMap<String, String> = of(Type::Group)
        .iter()
        .filter_map(|it| {
            let id = util::text(it.node, "id")?;
            let name = util::get(it.node, "profile")
                .and_then(|p| util::text(p, "name"))
                .unwrap_or_else(|| id.clone());
            Some((id, name))
        })
        .collect();
    for it in of(Type::Group) {
        if let (Some(u), Some(g)) = (&it.user, util::text(it.node, "id")) {
            memberships.push((u.clone(), g, it.node));
        }
    }
    let manager_ids: BTreeMap<String, String> = accounts.iter().map(|(k, a)| (k.clone(), a.id.clone())).collect();
    for acc in accounts.values_mut() {
        if let Some(Ref::Hint(h)) = &acc.manager {
            if let Some(a) = manager_ids.get(h) {
                acc.manager = Some(Ref::Account(a.clone()));
            }
        }
    }
    // Group id → member user ids.
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (u, g, at) in &memberships {
        let name = groups.get(g).cloned().unwrap_or_else(|| g.clone());
        members.entry(g.clone()).or_default().push(u.clone());
        match accounts.get_mut(u) {
            Some(acc) => acc.grant(Grant::new(
                format!("group/{name}"),
                false,
                format!("okta: group {name} members"),
                &at.loc,
            )),
            None => sink.push(unknown_user(u, at)),
        }
    }
    let apps: BTreeMap<String, String> = of(Type::App)
        .iter()
        .filter_map(|it| {
            let id = util::text(it.node, "id")?;
            Some((
                id.clone(),
                util::text(it.node, "label")
                    .or_else(|| util::text(it.node, "name"))
                    .unwrap_or(id),
            ))
        })
        .collect();
    let app_name = |it: &Item<'_>| -> Option<String> {
        let id = it.app.clone().or_else(|| link_id(it.node, "app"))?;
        Some(apps.get(&id).cloned().unwrap_or(id))
    };
    for it in of(Type::AppUser) {
        let (Some(uid), Some(app)) = (util::text(it.node, "id"), app_name(it)) else {
            sink.push(shape(
                it.node.loc.clone(),
                "Okta app user without `id` or app",
                "save app users as `apps/<appId>/users.json`, or keep their `_links.app`",
            ));
            continue;
        };
        let group = match util::text(it.node, "scope").as_deref() {
            Some("GROUP") => {
                let g = util::get(it.node, "_links")
                    .and_then(|l| util::get(l, "group"))
                    .and_then(|g| util::text(g, "name"))
                    .or_else(|| link_id(it.node, "group").map(|id| groups.get(&id).cloned().unwrap_or(id)));
                Some(g.unwrap_or_else(|| "unknown".to_owned()))
            }
            _ => None,
        };
        let source = match &group {
            Some(g) => format!("okta: app {app} assigned through group/{g}"),
            None => format!("okta: app {app} assigned to the user"),
        };
        let created = date_at(it.node, "created", sink);
        match accounts.get_mut(&uid) {
            Some(acc) => acc.grant(
                Grant::new(format!("app/{app}"), false, source, &it.node.loc)
                    .through(group.as_deref())
                    .granted(created),
            ),
            None => sink.push(unknown_user(&uid, it.node)),
        }
    }
    for it in of(Type::AppGroup) {
        let (Some(gid), Some(app)) = (
            util::text(it.node, "id").or_else(|| link_id(it.node, "group")),
            app_name(it),
        ) else {
            continue;
        };
        let name = groups.get(&gid).cloned().unwrap_or_else(|| gid.clone());
        let grant = Grant::new(
            format!("app/{app}"),
            false,
            format!("okta: app {app} assigned through group/{name}"),
            &it.node.loc,
        )
        .through(Some(&name));
        for u in members.get(&gid).into_iter().flatten() {
            if let Some(acc) = accounts.get_mut(u) {
                acc.grant(grant.clone());
            }
        }
    }
    let mut tokens = Vec::new();
    for it in of(Type::ApiToken) {
        if let Some(t) = token(it.node, &system, &accounts, sink) {
            tokens.push(t);
        }
    }
    // Agent id → the owners its `owners.json` lists.
    let mut owners: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
    for it in of(Type::AgentOwner) {
        if let Some(a) = &it.agent {
            owners.entry(a.as_str()).or_default().push(it.node);
        }
    }
    let mut agents = Vec::new();
    for it in of(Type::AiAgent) {
        let listed = util::text(it.node, "id")
            .and_then(|id| owners.get(id.as_str()))
            .map_or(&[][..], Vec::as_slice);
        if let Some(a) = ai_agent(it.node, listed, &system, &accounts, &members, &apps, sink) {
            agents.push(a);
        }
    }
    imp.accounts.extend(accounts.into_values());
    imp.accounts.extend(tokens);
    imp.accounts.extend(agents);
}

/// AI agent statuses (Okta for AI Agents): (status, inventory status, never activated).
/// A registered agent is `STAGED` until an owner, a credential and a linked app let it be
/// activated; like a staged user it stays reviewable, tagged `never_activated`.
const AGENT_STATUSES: &[(&str, Status, bool)] = &[
    ("ACTIVE", Status::Active, false),
    ("STAGED", Status::Active, true),
    ("OPERATION-STARTED", Status::Active, true),
    ("INACTIVE", Status::Disabled, false),
    ("DELETED", Status::Terminated, false),
];

/// An AI agent: an `ai_agent` identity `<system>:agent:<id>` whose owners are its sponsors.
/// Owners come from the agent's own `owners` list or from `ai-agents/<id>/owners.json`;
/// each is a user (by id, login or ORN `orn:okta:directory:…:users:<id>`) or a group,
/// which stands for its members when the export lists them. The linked app
/// (`signOnProvider.appInstanceId`, formerly `appId`) is kept as the tag `okta_app`: Okta
/// says the agent then acts for the user signed in to that app, but not who those users
/// are, so `acts` is left for the native inventory to say.
fn ai_agent(
    a: &Node,
    listed: &[&Node],
    system: &str,
    accounts: &BTreeMap<String, Account>,
    members: &BTreeMap<String, Vec<String>>,
    apps: &BTreeMap<String, String>,
    sink: &mut Problems,
) -> Option<Account> {
    let Some(id) = util::text(a, "id") else {
        sink.push(shape(
            a.loc.clone(),
            "Okta AI agent without `id`",
            "Okta lists every AI agent with its `id`",
        ));
        return None;
    };
    let mut acc = Account::new(system, &format!("agent:{id}"), &a.loc);
    acc.kind = Some(IdentityKind::AiAgent);
    let profile = util::get(a, "profile");
    acc.display_name = profile.and_then(|p| util::text(p, "name"));
    acc.created_at = date_at(a, "created", sink);
    if let Some(node) = util::get(a, "status") {
        let s = node.scalar_text().unwrap_or_default();
        match AGENT_STATUSES.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(s.trim())) {
            Some((name, status, never)) => {
                acc.status = Some(*status);
                acc.tags.push(("okta_status".to_owned(), (*name).to_owned()));
                if *never {
                    acc.tags.push(("never_activated".to_owned(), "true".to_owned()));
                }
            }
            None => {
                let names: Vec<&str> = AGENT_STATUSES.iter().map(|(n, _, _)| *n).collect();
                sink.push(
                    Problem::error(
                        Code::BadValue,
                        Some(node.loc.clone()),
                        format!("unknown Okta AI agent status `{s}`"),
                    )
                    .with_label("not an AI agent status")
                    .with_help(suggest(&s, &names)),
                );
            }
        }
    }
    if let Some(p) = profile.and_then(|p| util::text(p, "platform")) {
        acc.tags.push(("platform".to_owned(), p));
    }
    let app = util::get(a, "signOnProvider")
        .and_then(|p| util::text(p, "appInstanceId"))
        .or_else(|| util::text(a, "appId"));
    if let Some(app) = app {
        acc.tags
            .push(("okta_app".to_owned(), apps.get(&app).cloned().unwrap_or(app)));
    }
    let own = util::items(a, "owners");
    for o in own.iter().chain(listed.iter().copied()) {
        owner(o, accounts, members, &mut acc.sponsors);
    }
    Some(acc)
}

/// The sponsors one owner entry names: a user's account (else the id or login as written,
/// to correlate), or each member of a group the export lists.
fn owner(
    o: &Node,
    accounts: &BTreeMap<String, Account>,
    members: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<(Ref, Loc)>,
) {
    let (id, group) = match o.scalar_text() {
        Some(text) => orn(text.trim()),
        None => {
            let group = util::text(o, "type").is_some_and(|t| t.eq_ignore_ascii_case("GROUP"));
            let id = util::text(o, "id")
                .or_else(|| util::text(o, "orn"))
                .or_else(|| util::get(o, "profile").and_then(|p| util::text(p, "login")));
            match id {
                Some(id) => {
                    let (id, by_orn) = orn(&id);
                    (id, group || by_orn)
                }
                None => return,
            }
        }
    };
    if id.is_empty() {
        return;
    }
    if group {
        if let Some(list) = members.get(&id).filter(|l| !l.is_empty()) {
            for m in list {
                if let Some(acc) = accounts.get(m) {
                    out.push((Ref::Account(acc.id.clone()), o.loc.clone()));
                }
            }
            return;
        }
    }
    let r = accounts
        .get(&id)
        .map_or_else(|| Ref::Hint(id.clone()), |acc| Ref::Account(acc.id.clone()));
    out.push((r, o.loc.clone()));
}

/// The Okta id an ORN names (`orn:okta:directory:<org>:users:<id>`), and whether it is a
/// group's; any other text is taken as written, as a user.
fn orn(text: &str) -> (String, bool) {
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["orn", .., kind, id] => ((*id).to_owned(), kind.eq_ignore_ascii_case("groups")),
        _ => (text.to_owned(), false),
    }
}

fn unknown_user(id: &str, at: &Node) -> Problem {
    Problem::warning(
        Code::ExportShape,
        Some(at.loc.clone()),
        format!("Okta user `{id}` is not in the export's users"),
    )
    .with_help("export `users.json` (`GET /api/v1/users`) too, or this access is not counted")
}

fn user(u: &Node, system: &str, sink: &mut Problems) -> Option<Account> {
    let Some((profile, login)) = util::get(u, "profile").and_then(|p| Some((p, util::text(p, "login")?))) else {
        sink.push(shape(
            u.loc.clone(),
            "Okta user without `profile.login`",
            "Okta lists every user with its `profile.login`",
        ));
        return None;
    };
    let mut acc = Account::new(system, &login, &u.loc);
    acc.kind = Some(IdentityKind::Human);
    acc.login = Some(login);
    acc.email = util::text(profile, "email");
    acc.employee_id = util::text(profile, "employeeNumber");
    acc.department = util::text(profile, "department");
    acc.display_name = util::text(profile, "displayName").or_else(|| {
        let name: Vec<String> = ["firstName", "lastName"]
            .iter()
            .filter_map(|k| util::text(profile, k))
            .collect();
        (!name.is_empty()).then(|| name.join(" "))
    });
    acc.manager_at = util::get(profile, "managerId")
        .or_else(|| util::get(profile, "manager"))
        .map(|m| m.loc.clone());
    acc.manager = util::text(profile, "managerId")
        .or_else(|| util::text(profile, "manager"))
        .map(Ref::Hint);
    acc.created_at = date_at(u, "created", sink);
    acc.last_seen = date_at(u, "lastLogin", sink);
    if let Some(node) = util::get(u, "status") {
        let s = node.scalar_text().unwrap_or_default();
        match STATUSES.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(s.trim())) {
            Some((name, status, never)) => {
                acc.status = Some(*status);
                acc.tags.push(("okta_status".to_owned(), (*name).to_owned()));
                if *never {
                    acc.tags.push(("never_activated".to_owned(), "true".to_owned()));
                }
            }
            None => {
                let names: Vec<&str> = STATUSES.iter().map(|(n, _, _)| *n).collect();
                sink.push(
                    Problem::error(
                        Code::BadValue,
                        Some(node.loc.clone()),
                        format!("unknown Okta user status `{s}`"),
                    )
                    .with_label("not an Okta status")
                    .with_help(suggest(&s, &names)),
                );
            }
        }
    }
    Some(acc)
}

/// An API token: a `token` identity owned by the user who created it, acting with that
/// user's administrator permissions (privileged).
fn token(t: &Node, system: &str, accounts: &BTreeMap<String, Account>, sink: &mut Problems) -> Option<Account> {
    let Some(id) = util::text(t, "id") else {
        sink.push(shape(
            t.loc.clone(),
            "Okta API token without `id`",
            "Okta lists every token with its `id`",
        ));
        return None;
    };
    let mut acc = Account::new(system, &format!("token:{id}"), &t.loc);
    acc.kind = Some(IdentityKind::Token);
    acc.display_name = util::text(t, "name");
    acc.owner = util::text(t, "userId").map(|u| match accounts.get(&u) {
        Some(a) => Ref::Account(a.id.clone()),
        None => Ref::Hint(u),
    });
    let created = date_at(t, "created", sink);
    let expires = date_at(t, "expiresAt", sink);
    acc.created_at = created;
    acc.credential_rotated_at = created;
    acc.credential_expires_at = expires;
    let source = format!("okta: API token {}", acc.display_name.as_deref().unwrap_or(&id));
    acc.grant(
        Grant::new("api-token", true, source, &t.loc)
            .granted(created)
            .expires(expires),
    );
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::orn;

    #[test]
    fn an_orn_names_a_user_or_a_group_and_other_text_is_a_user() {
        assert_eq!(
            orn("orn:okta:directory:00o1n8sbwArJ7OQRw406:users:00u1"),
            ("00u1".to_owned(), false)
        );
        assert_eq!(
            orn("orn:okta:directory:00o1n8sbwArJ7OQRw406:groups:00g1"),
            ("00g1".to_owned(), true)
        );
        assert_eq!(orn("ann.lee@acme.example"), ("ann.lee@acme.example".to_owned(), false));
    }
}
