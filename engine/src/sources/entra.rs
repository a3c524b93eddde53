//! `entra`: Microsoft Entra ID as Microsoft Graph JSON, from one file or a directory of
//! them, each a `{"value": [...]}` page, a plain array or one object. Users (enabled,
//! leave date, sign-in activity, manager), service principals and applications (owners,
//! client secrets and certificates), app role assignments and directory role assignments
//! (privileged), and Entra Agent ID's agent identities, blueprints, blueprint principals
//! and agent users (AI agents with their sponsors and parent blueprint). Objects are told
//! apart by `@odata.type`, else by the page's `@odata.context`, else by the properties
//! only one type has.

use std::collections::BTreeMap;

use crate::diag::{Code, Problem, Problems};
use crate::inventory::{IdentityKind, Status};
use crate::node::{Node, Value};
use crate::source::Loc;

use super::build::{account_id, Accounts};
use super::util::{self, date_at};
use super::{json_docs, shape, Account, Grant, Import, Ref, Spec};

/// The app role id Graph uses for "default access" (an assignment without a role).
const DEFAULT_ROLE: &str = "00000000-0000-0000-0000-000000000000";

/// The Graph object types the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Type {
    User,
    ServicePrincipal,
    Application,
    Group,
    AppRoleAssignment,
    RoleAssignment,
    RoleDefinition,
    DirectoryRole,
    /// An agent identity (`#microsoft.graph.agentIdentity`, a service principal).
    AgentIdentity,
    /// An agent identity blueprint (`#microsoft.graph.agentIdentityBlueprint`, an
    /// application), the template agent identities are created from.
    AgentBlueprint,
    /// A blueprint's service principal in the tenant
    /// (`#microsoft.graph.agentIdentityBlueprintPrincipal`).
    AgentBlueprintPrincipal,
    /// An agent user (`#microsoft.graph.agentUser`, a user tied to one agent identity).
    AgentUser,
}

impl Type {
    /// By `@odata.type` (`#microsoft.graph.user`) or an entity-set name (`users`), in any
    /// case: Graph's own examples write `Microsoft.Graph.AgentIdentity` in paths and the
    /// PowerShell SDK `#Microsoft.Graph.AgentIdentity` in its models.
    fn named(name: &str) -> Option<Self> {
        let lower = name.trim_start_matches('#').to_ascii_lowercase();
        let n = lower.trim_start_matches("microsoft.graph.");
        Some(match n {
            "user" | "users" => Self::User,
            "serviceprincipal" | "serviceprincipals" => Self::ServicePrincipal,
            "application" | "applications" => Self::Application,
            "group" | "groups" => Self::Group,
            "approleassignment" | "approleassignments" | "approleassignedto" => Self::AppRoleAssignment,
            "unifiedroleassignment" | "roleassignments" => Self::RoleAssignment,
            "unifiedroledefinition" | "roledefinitions" => Self::RoleDefinition,
            "directoryrole" | "directoryroles" => Self::DirectoryRole,
            "agentidentity" | "agentidentities" => Self::AgentIdentity,
            "agentidentityblueprint" | "agentidentityblueprints" => Self::AgentBlueprint,
            "agentidentityblueprintprincipal" | "agentidentityblueprintprincipals" => Self::AgentBlueprintPrincipal,
            "agentuser" | "agentusers" => Self::AgentUser,
            _ => return None,
        })
    }

    /// The Graph type this one derives from, for what they share (ids, owners,
    /// credentials): agent identities and blueprint principals are service principals, a
    /// blueprint an application, an agent user a user.
    fn base(self) -> Self {
        match self {
            Self::AgentIdentity | Self::AgentBlueprintPrincipal => Self::ServicePrincipal,
            Self::AgentBlueprint => Self::Application,
            Self::AgentUser => Self::User,
            t => t,
        }
    }

    /// The agent type a service principal or user is when its properties say so: a
    /// `GET /servicePrincipals` or `GET /users` page lists agent identities and agent users
    /// among the others, under the page's type and maybe without their own.
    fn refined(self, o: &Node) -> Self {
        match self {
            Self::ServicePrincipal if util::get(o, "agentIdentityBlueprintId").is_some() => Self::AgentIdentity,
            Self::User if util::get(o, "identityParentId").is_some() => Self::AgentUser,
            t => t,
        }
    }

    /// By the properties only one type has.
    fn by_shape(o: &Node) -> Option<Self> {
        let has = |k: &str| util::get(o, k).is_some();
        Some(if has("appRoleId") && has("principalId") {
            Self::AppRoleAssignment
        } else if has("roleDefinitionId") && has("principalId") {
            Self::RoleAssignment
        } else if has("rolePermissions") {
            Self::RoleDefinition
        } else if has("roleTemplateId") {
            Self::DirectoryRole
        } else if has("agentIdentityBlueprintId") {
            // Graph's own list example of agent identities carries no `@odata.type`.
            Self::AgentIdentity
        } else if has("identityParentId") {
            Self::AgentUser
        } else if has("userPrincipalName") {
            Self::User
        } else if has("servicePrincipalType") || has("servicePrincipalNames") {
            Self::ServicePrincipal
        } else if has("appId") {
            Self::Application
        } else if has("groupTypes") || has("securityEnabled") {
            Self::Group
        } else {
            return None;
        })
    }
}

/// The type the page's `@odata.context` names: the last entity set in its fragment,
/// e.g. `…$metadata#users(id,displayName)` or `…#servicePrincipals('…')/appRoleAssignedTo`.
fn context_type(context: &str) -> Option<Type> {
    let fragment = context.split_once('#')?.1;
    fragment
        .split('/')
        .map(|seg| seg.split('(').next().unwrap_or_default())
        .rfind(|seg| !seg.is_empty() && !seg.starts_with('$'))
        .and_then(Type::named)
}

/// The objects of the export, by type.
#[derive(Default)]
struct Objects<'a> {
    by_type: BTreeMap<Type, Vec<&'a Node>>,
}

impl<'a> Objects<'a> {
    fn push(&mut self, t: Type, o: &'a Node) {
        self.by_type.entry(t).or_default().push(o);
    }

    fn of(&self, t: Type) -> &[&'a Node] {
        self.by_type.get(&t).map_or(&[], Vec::as_slice)
    }
}

/// Sorts the objects of one document; nested `appRoleAssignments` (expanded on a user,
/// group or service principal) count as assignments.
fn collect<'a>(doc: &'a Node, objs: &mut Objects<'a>, sink: &mut Problems) {
    let (items, context): (&[Node], Option<String>) = match &doc.value {
        Value::Seq(items) => (items, None),
        Value::Map(_) => match util::get(doc, "value").map(|v| &v.value) {
            Some(Value::Seq(items)) => {
                if let Some(next) = util::get(doc, "@odata.nextLink") {
                    sink.push(
                        Problem::warning(
                            Code::TruncatedExport,
                            Some(next.loc.clone()),
                            "this Graph page has an `@odata.nextLink`: more pages follow",
                        )
                        .with_label("more pages")
                        .with_help("put every page of the listing in the export (files of one directory), or the objects of the missing pages are not reviewed"),
                    );
                }
                (items, util::text(doc, "@odata.context"))
            }
            _ => (std::slice::from_ref(doc), None),
        },
        _ => {
            sink.push(shape(
                doc.loc.clone(),
                "not Microsoft Graph JSON: expected an object, an array or a `{\"value\": [...]}` page",
                "save the Graph responses unchanged (one listing per file)",
            ));
            return;
        }
    };
    let from_context = context.as_deref().and_then(context_type);
    for o in items {
        let t = util::text(o, "@odata.type")
            .and_then(|t| Type::named(&t))
            .or(from_context)
            .or_else(|| Type::by_shape(o))
            .map(|t| t.refined(o));
        match t {
            Some(t) => objs.push(t, o),
            None => sink.push(shape(
                o.loc.clone(),
                "not a Microsoft Graph user, service principal, application, group or role assignment",
                "give each object its `@odata.type`, or keep the page's `@odata.context`",
            )),
        }
        for key in ["appRoleAssignments", "appRoleAssignedTo"] {
            for a in util::items(o, key) {
                objs.push(Type::AppRoleAssignment, a);
            }
        }
    }
}

/// Reads one Entra export (file or directory).
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let is_csv = spec.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let (docs, rows) = if is_csv {
        (Vec::new(), user_rows(spec, imp, sink))
    } else {
        (json_docs(spec, imp, sink), Vec::new())
    };
    let mut objs = Objects::default();
    for d in &docs {
        collect(d, &mut objs, sink);
    }
    for r in &rows {
        objs.push(Type::User, r);
    }
    let system = imp.system(spec, "entra", Some("Microsoft Entra ID".to_owned()));
    // Graph object id → account id (an application and its service principal share one).
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for t in USERS {
        for u in objs.of(t) {
            let oid = util::text(u, "id").or_else(|| util::text(u, "objectId"));
            if let (Some(oid), Some(local)) = (oid, user_local(u)) {
                ids.insert(oid, account_id(&system, &local));
            }
        }
    }
    for t in APPS {
        for a in objs.of(t) {
            if let (Some(oid), Some(local)) = (util::text(a, "id"), app_local(a)) {
                ids.insert(oid, account_id(&system, &local));
            }
        }
    }
    let members = group_members(objs.of(Type::Group), &ids);
    // An application and its service principal are one account (a blueprint and its
    // principal too: they share the `appId`).
    let mut accounts = Accounts::default();
    for t in USERS {
        for u in objs.of(t) {
            if let Some(mut acc) = user(u, &system, &ids, &spec.date_formats, sink) {
                if t == Type::AgentUser {
                    agent_user(u, &mut acc, &system, &ids, &members);
                }
                accounts.add(acc);
            }
        }
    }
    let mut creds = Vec::new();
    for t in APPS {
        for a in objs.of(t) {
            if let Some(mut acc) = app(a, t.base(), &system, &ids, &mut creds, sink) {
                agent(a, t, &mut acc, &system, &ids, &members);
                accounts.add(acc);
            }
        }
    }
    let principals: Vec<&Node> = [
        Type::ServicePrincipal,
        Type::AgentBlueprintPrincipal,
        Type::AgentIdentity,
    ]
    .into_iter()
    .flat_map(|t| objs.of(t).iter().copied())
    .collect();
    let roles = app_roles(&principals);
    for a in objs.of(Type::AppRoleAssignment) {
        app_role_assignment(a, &roles, &ids, &members, &mut accounts, sink);
    }
    let definitions: BTreeMap<String, String> = objs
        .of(Type::RoleDefinition)
        .iter()
        .filter_map(|d| Some((util::text(d, "id")?, util::text(d, "displayName")?)))
        .collect();
    for r in objs.of(Type::RoleAssignment) {
        role_assignment(r, &definitions, &ids, &members, &mut accounts, sink);
    }
    for r in objs.of(Type::DirectoryRole) {
        let name = util::text(r, "displayName").unwrap_or_else(|| "unnamed role".to_owned());
        for m in util::items(r, "members") {
            let Some(oid) = util::text(m, "id") else { continue };
            let grant = Grant::new(
                format!("directoryRole/{name}"),
                true,
                format!("entra: directory role {name} members"),
                &m.loc,
            );
            give(&oid, &ids, &members, &mut accounts, sink, &grant);
        }
    }
    imp.accounts.extend(accounts.into_sorted());
    imp.accounts.extend(creds);
}

/// The types read as users and as applications or service principals, in the order read.
const USERS: [Type; 2] = [Type::User, Type::AgentUser];
const APPS: [Type; 5] = [
    Type::ServicePrincipal,
    Type::Application,
    Type::AgentBlueprint,
    Type::AgentBlueprintPrincipal,
    Type::AgentIdentity,
];

/// Direct members of each group (object id → (name, account ids)).
type Members = BTreeMap<String, (String, Vec<String>)>;

/// The people or objects an expanded `sponsors` list names, each with where it does: a
/// group of the export (sponsors may be groups) stands for its direct members.
fn sponsors(o: &Node, ids: &BTreeMap<String, String>, members: &Members) -> Vec<(Ref, Loc)> {
    let mut out = Vec::new();
    for s in util::items(o, "sponsors") {
        let group = util::text(s, "id")
            .and_then(|id| members.get(&id))
            .filter(|(_, m)| !m.is_empty());
        match group {
            Some((_, list)) => out.extend(list.iter().map(|m| (Ref::Account(m.clone()), s.loc.clone()))),
            None => out.extend(reference(s, ids).map(|r| (r, s.loc.clone()))),
        }
    }
    out
}

/// What an agent identity, blueprint or blueprint principal adds to its account: an agent
/// identity is an `ai_agent` derived from its blueprint (`agentIdentityBlueprintId`, the
/// blueprint's `appId`); every one of them keeps its expanded `sponsors` and says what it
/// is in the tag `entra_type`. Graph does not say whether an agent acts on its own or for
/// a user, so `acts` stays unset.
fn agent(a: &Node, t: Type, acc: &mut Account, system: &str, ids: &BTreeMap<String, String>, members: &Members) {
    let name = match t {
        Type::AgentIdentity => "agentIdentity",
        Type::AgentBlueprint => "agentIdentityBlueprint",
        Type::AgentBlueprintPrincipal => "agentIdentityBlueprintPrincipal",
        _ => return,
    };
    acc.tags.push(("entra_type".to_owned(), name.to_owned()));
    acc.sponsors = sponsors(a, ids, members);
    if t == Type::AgentIdentity {
        acc.kind = Some(IdentityKind::AiAgent);
        if let Some(bp) = util::get(a, "agentIdentityBlueprintId") {
            if let Some(app) = bp.scalar_text().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
                acc.parent = Some((Ref::Account(account_id(system, &format!("app:{app}"))), bp.loc.clone()));
            }
        }
    }
}

/// An agent user: an `ai_agent` (never a person to correlate) whose parent is its agent
/// identity (`identityParentId`, an object id), with its expanded `sponsors`.
fn agent_user(u: &Node, acc: &mut Account, system: &str, ids: &BTreeMap<String, String>, members: &Members) {
    acc.kind = Some(IdentityKind::AiAgent);
    acc.tags.push(("entra_type".to_owned(), "agentUser".to_owned()));
    acc.sponsors = sponsors(u, ids, members);
    if let Some(p) = util::get(u, "identityParentId") {
        if let Some(oid) = p.scalar_text().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
            let parent = ids
                .get(&oid)
                .cloned()
                .unwrap_or_else(|| account_id(system, &format!("object:{oid}")));
            acc.parent = Some((Ref::Account(parent), p.loc.clone()));
        }
    }
}

/// The users of a CSV export: the Entra admin center's *Download users* (`userPrincipalName`,
/// `displayName`, `objectId`, `accountEnabled`, `mail`, `department`, `userType`, …) or
/// Windows PowerShell's `Get-MgUser | Export-Csv` (the same properties in PascalCase, after
/// a `#TYPE` line). Columns are matched in any case, as JSON properties are.
fn user_rows(spec: &Spec, imp: &mut Import, sink: &mut Problems) -> Vec<Node> {
    let Some(src) = super::export(spec, imp, sink) else {
        return Vec::new();
    };
    let (headers, rows) = util::csv(&src, spec.delimiter, sink);
    if !headers.iter().any(|h| h.eq_ignore_ascii_case("userPrincipalName")) {
        sink.push(
            shape(
                src.loc_to_eol(0),
                "an Entra users CSV needs a `userPrincipalName` column",
                "give the admin center's *Download users* file, or `Get-MgUser ... | Export-Csv` as written",
            )
            .with_label("header row"),
        );
        return Vec::new();
    }
    rows
}

/// A user's id in the directory: its user principal name, else its object id.
fn user_local(u: &Node) -> Option<String> {
    util::text(u, "userPrincipalName")
        .or_else(|| util::text(u, "id"))
        .or_else(|| util::text(u, "objectId"))
}

/// An application's or service principal's id in the directory: `app:<appId>`, which an
/// application and its service principal share, else `object:<id>`.
fn app_local(a: &Node) -> Option<String> {
    match util::text(a, "appId") {
        Some(app) => Some(format!("app:{app}")),
        None => util::text(a, "id").map(|id| format!("object:{id}")),
    }
}

/// A reference to another directory object (a manager or an owner): the account when
/// the export holds it, else its user principal name, mail or id to correlate.
fn reference(o: &Node, ids: &BTreeMap<String, String>) -> Option<Ref> {
    if let Some(acc) = util::text(o, "id").and_then(|id| ids.get(&id)) {
        return Some(Ref::Account(acc.clone()));
    }
    util::text(o, "userPrincipalName")
        .or_else(|| util::text(o, "mail"))
        .or_else(|| util::text(o, "id"))
        .map(Ref::Hint)
}

fn enabled(o: &Node) -> Option<Status> {
    util::boolean(o, "accountEnabled").map(|e| if e { Status::Active } else { Status::Disabled })
}

fn user(
    u: &Node,
    system: &str,
    ids: &BTreeMap<String, String>,
    formats: &[String],
    sink: &mut Problems,
) -> Option<Account> {
    let date_at = |n: &Node, key: &str, sink: &mut Problems| util::date_in_formats(n, key, formats, sink);
    let Some(local) = user_local(u) else {
        sink.push(shape(
            u.loc.clone(),
            "Entra user without `userPrincipalName` or `id`",
            "list users with `id` and `userPrincipalName` selected",
        ));
        return None;
    };
    let mut acc = Account::new(system, &local, &u.loc);
    acc.kind = Some(IdentityKind::Human);
    acc.login = util::text(u, "userPrincipalName");
    acc.email = util::text(u, "mail");
    acc.employee_id = util::text(u, "employeeId");
    acc.display_name = util::text(u, "displayName");
    acc.department = util::text(u, "department");
    acc.status = enabled(u);
    acc.terminated_at = date_at(u, "employeeLeaveDateTime", sink);
    acc.created_at = date_at(u, "createdDateTime", sink);
    if let Some(activity) = util::get(u, "signInActivity") {
        // The last successful sign-in when Entra has it (since December 2023); else the
        // last attempt, interactive or not.
        acc.last_seen = date_at(activity, "lastSuccessfulSignInDateTime", sink).or_else(|| {
            let a = date_at(activity, "lastSignInDateTime", sink);
            a.max(date_at(activity, "lastNonInteractiveSignInDateTime", sink))
        });
    }
    acc.manager_at = util::get(u, "manager").map(|m| m.loc.clone());
    acc.manager = util::get(u, "manager").and_then(|m| reference(m, ids));
    if let Some(t) = util::text(u, "userType") {
        acc.tags.push(("userType".to_owned(), t));
    }
    Some(acc)
}

/// A service principal or application; its client secrets and certificates become
/// `api_key` identities in `creds`, owned by it.
fn app(
    a: &Node,
    t: Type,
    system: &str,
    ids: &BTreeMap<String, String>,
    creds: &mut Vec<Account>,
    sink: &mut Problems,
) -> Option<Account> {
    let Some(local) = app_local(a) else {
        sink.push(shape(
            a.loc.clone(),
            "Entra application or service principal without `appId` or `id`",
            "list them with `id` and `appId` selected",
        ));
        return None;
    };
    let mut acc = Account::new(system, &local, &a.loc);
    let managed = util::text(a, "servicePrincipalType").is_some_and(|s| s.eq_ignore_ascii_case("ManagedIdentity"));
    acc.kind = Some(if managed {
        IdentityKind::Workload
    } else {
        IdentityKind::ServiceAccount
    });
    acc.display_name = util::text(a, "displayName");
    acc.created_at = date_at(a, "createdDateTime", sink);
    if t == Type::ServicePrincipal {
        acc.status = enabled(a);
        if let Some(s) = util::text(a, "servicePrincipalType") {
            acc.tags.push(("servicePrincipalType".to_owned(), s));
        }
    }
    // The first owner that is a person (owners may be service principals too).
    let owners = util::items(a, "owners");
    acc.owner = owners
        .iter()
        .find(|o| util::text(o, "@odata.type").is_none_or(|t| t.to_ascii_lowercase().ends_with(".user")))
        .and_then(|o| reference(o, ids));
    let name = acc.display_name.clone().unwrap_or_else(|| acc.id.clone());
    for key in ["passwordCredentials", "keyCredentials", "owners"] {
        if let Some(n) = util::cut_by_depth(a, key) {
            sink.push(shape(
                n.loc.clone(),
                format!("`{key}` of `{name}` was cut off by ConvertTo-Json: it holds a type name, not the objects"),
                "export again with a larger depth: `... | ConvertTo-Json -Depth 10`",
            ));
        }
    }
    for (key, kind, permission) in [
        ("passwordCredentials", "secret", "client-secret"),
        ("keyCredentials", "certificate", "certificate"),
    ] {
        for c in util::items(a, key) {
            let Some(key_id) = util::text(c, "keyId") else {
                sink.push(shape(
                    c.loc.clone(),
                    format!("`{key}` item without `keyId`"),
                    "Graph lists every credential with its `keyId`",
                ));
                continue;
            };
            let start = date_at(c, "startDateTime", sink);
            let end = date_at(c, "endDateTime", sink);
            let mut cred = Account::credential(&acc, &format!("{kind}/{key_id}"), &c.loc);
            let label = util::text(c, "displayName").unwrap_or_else(|| key_id.clone());
            cred.display_name = Some(format!("{name} {permission} {label}"));
            cred.credential_rotated_at = start;
            cred.credential_expires_at = end;
            cred.grant(
                Grant::new(permission, false, format!("entra: {key} of {name}"), &c.loc)
                    .granted(start)
                    .expires(end),
            );
            creds.push(cred);
        }
    }
    Some(acc)
}

/// Direct members of each group (by object id), as account ids.
fn group_members(groups: &[&Node], ids: &BTreeMap<String, String>) -> Members {
    groups
        .iter()
        .filter_map(|g| {
            let id = util::text(g, "id")?;
            let name = util::text(g, "displayName").unwrap_or_else(|| id.clone());
            let members = util::items(g, "members")
                .iter()
                .filter_map(|m| util::text(m, "id").and_then(|i| ids.get(&i)).cloned())
                .collect();
            Some((id, (name, members)))
        })
        .collect()
}

/// The app roles each service principal defines: (service principal id, role id) → value.
fn app_roles(sps: &[&Node]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for sp in sps {
        let Some(sp_id) = util::text(sp, "id") else { continue };
        for r in util::items(sp, "appRoles") {
            if let (Some(id), Some(v)) = (
                util::text(r, "id"),
                util::text(r, "value").or_else(|| util::text(r, "displayName")),
            ) {
                out.insert((sp_id.clone(), id), v);
            }
        }
    }
    out
}

/// Gives `grant` to the principal `oid`: its account, or each member of the group it is
/// (through that group). A principal the export does not hold is a warning.
fn give(
    oid: &str,
    ids: &BTreeMap<String, String>,
    members: &Members,
    accounts: &mut Accounts,
    sink: &mut Problems,
    grant: &Grant,
) {
    let targets: Vec<(&String, Option<&str>)> = match (ids.get(oid), members.get(oid)) {
        (Some(acc), _) => vec![(acc, None)],
        (None, Some((name, list))) => list.iter().map(|m| (m, Some(name.as_str()))).collect(),
        (None, None) => {
            sink.push(unknown_principal(oid, grant.loc.clone()));
            return;
        }
    };
    for (account, group) in targets {
        if let Some(acc) = accounts.get_mut(account) {
            acc.grant(grant.clone().through(group));
        }
    }
}

fn unknown_principal(oid: &str, loc: Loc) -> Problem {
    Problem::warning(
        Code::ExportShape,
        Some(loc),
        format!("principal `{oid}` is not a user, service principal or group of this export"),
    )
    .with_help(
        "export the users, service principals and groups (with `members`) too, or this assignment is not counted",
    )
}

fn app_role_assignment(
    a: &Node,
    roles: &BTreeMap<(String, String), String>,
    ids: &BTreeMap<String, String>,
    members: &Members,
    accounts: &mut Accounts,
    sink: &mut Problems,
) {
    let (Some(principal), Some(resource)) = (util::text(a, "principalId"), util::text(a, "resourceId")) else {
        sink.push(shape(
            a.loc.clone(),
            "app role assignment without `principalId` or `resourceId`",
            "Graph lists every app role assignment with both",
        ));
        return;
    };
    let role_id = util::text(a, "appRoleId").unwrap_or_else(|| DEFAULT_ROLE.to_owned());
    let role = if role_id == DEFAULT_ROLE {
        "default".to_owned()
    } else {
        roles
            .get(&(resource.clone(), role_id.clone()))
            .cloned()
            .unwrap_or(role_id)
    };
    let app = util::text(a, "resourceDisplayName").unwrap_or(resource);
    let grant = Grant::new(
        format!("appRole/{app}/{role}"),
        false,
        format!("entra: app role assignment on {app}"),
        &a.loc,
    )
    .granted(date_at(a, "createdDateTime", sink));
    give(&principal, ids, members, accounts, sink, &grant);
}

fn role_assignment(
    r: &Node,
    definitions: &BTreeMap<String, String>,
    ids: &BTreeMap<String, String>,
    members: &Members,
    accounts: &mut Accounts,
    sink: &mut Problems,
) {
    let Some(principal) = util::text(r, "principalId") else {
        sink.push(shape(
            r.loc.clone(),
            "role assignment without `principalId`",
            "Graph lists every role assignment with its `principalId`",
        ));
        return;
    };
    let definition = util::text(r, "roleDefinitionId");
    let name = util::get(r, "roleDefinition")
        .and_then(|d| util::text(d, "displayName"))
        .or_else(|| definition.as_ref().and_then(|d| definitions.get(d)).cloned())
        .or(definition)
        .unwrap_or_else(|| "unnamed role".to_owned());
    let permission = match util::text(r, "directoryScopeId").filter(|s| s != "/") {
        Some(scope) => format!("directoryRole/{name}@{scope}"),
        None => format!("directoryRole/{name}"),
    };
    let source = format!("entra: directory role assignment {name}");
    give(
        &principal,
        ids,
        members,
        accounts,
        sink,
        &Grant::new(permission, true, source, &r.loc),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_types_from_the_page_context() {
        let t = |c: &str| context_type(c);
        assert_eq!(
            t("https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,signInActivity)"),
            Some(Type::User)
        );
        assert_eq!(
            t("https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('0a1b')/appRoleAssignedTo"),
            Some(Type::AppRoleAssignment)
        );
        assert_eq!(
            t("https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(roleDefinition())"),
            Some(Type::RoleAssignment)
        );
        assert_eq!(
            t("https://graph.microsoft.com/v1.0/$metadata#applications/$entity"),
            Some(Type::Application)
        );
        assert_eq!(t("no fragment"), None);
        assert_eq!(
            t("https://graph.microsoft.com/beta/$metadata#servicePrincipals/microsoft.graph.agentIdentity"),
            Some(Type::AgentIdentity)
        );
    }

    #[test]
    fn agent_types_are_named_in_any_case_and_read_as_their_base_type() {
        assert_eq!(Type::named("#Microsoft.Graph.AgentIdentity"), Some(Type::AgentIdentity));
        assert_eq!(Type::named("#microsoft.graph.agentUser"), Some(Type::AgentUser));
        assert_eq!(
            Type::named("microsoft.graph.agentIdentityBlueprintPrincipal"),
            Some(Type::AgentBlueprintPrincipal)
        );
        assert_eq!(Type::named("#MICROSOFT.GRAPH.USER"), Some(Type::User));
        assert_eq!(Type::named("#microsoft.graph.directoryObject"), None);
        assert_eq!(Type::AgentIdentity.base(), Type::ServicePrincipal);
        assert_eq!(Type::AgentBlueprint.base(), Type::Application);
        assert_eq!(Type::AgentUser.base(), Type::User);
        assert_eq!(Type::Group.base(), Type::Group);
    }

    #[test]
    fn an_agent_in_a_page_of_service_principals_or_users_is_an_agent() {
        let doc = |text: &str| {
            let src = crate::source::Source::new("page.json", text);
            crate::json::value(&src).unwrap_or_else(|p| panic!("{p:?}"))
        };
        let sp = doc(r#"{"id": "1", "agentIdentityBlueprintId": "bp"}"#);
        assert_eq!(Type::ServicePrincipal.refined(&sp), Type::AgentIdentity);
        let user = doc(r#"{"id": "2", "identityParentId": "1"}"#);
        assert_eq!(Type::User.refined(&user), Type::AgentUser);
        let plain = doc(r#"{"id": "3", "appId": "a"}"#);
        assert_eq!(Type::ServicePrincipal.refined(&plain), Type::ServicePrincipal);
        assert_eq!(Type::Group.refined(&sp), Type::Group);
    }
}
