//! `aws-authorization-details`: the JSON of `aws iam get-account-authorization-details`.
//! Users and roles become accounts; each attached, inline or group-inherited policy is
//! one entitlement whose `source` says which path granted it. Roles that a service
//! assumes are workloads; `RoleLastUsed.LastUsedDate` is their `last_seen`.

use std::collections::BTreeMap;

use crate::diag::{Code, Problem, Problems};
use crate::inventory::IdentityKind;
use crate::node::{Node, Value};
use crate::source::{Loc, Source};

use super::util::{self, arn_account};
use super::{export, shape, Account, Grant, Import, Ref, Spec};

/// AWS managed policies that are privileged by name.
const PRIVILEGED_POLICIES: &[&str] = &["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];
const LISTS: &[&str] = &["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"];

/// A permission and how it was granted, before it is given to a user or role.
struct Held {
    permission: String,
    privileged: bool,
    source: String,
    loc: Loc,
}

/// Reads one authorization-details export.
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let Some(src) = export(spec, imp, sink) else { return };
    let Ok(root) = crate::json::value(&src).map_err(|p| sink.push(p)) else {
        return;
    };
    if !LISTS.iter().any(|l| util::get(&root, l).is_some()) {
        sink.push(shape(
            root.loc.clone(),
            "not an authorization-details export: no `UserDetailList`, `RoleDetailList`, `GroupDetailList` or `Policies`",
            "give the output of `aws iam get-account-authorization-details`",
        ));
        return;
    }
    if util::boolean(&root, "IsTruncated") == Some(true) {
        let loc = util::get(&root, "IsTruncated").map_or_else(|| root.loc.clone(), |n| n.loc.clone());
        sink.push(
            Problem::error(Code::TruncatedExport, Some(loc), "authorization details are truncated (`IsTruncated: true`)")
                .with_label("a partial export")
                .with_help("export every page: the AWS CLI does so unless `--max-items` or `--no-paginate` is given; merge the pages into one file"),
        );
        return;
    }
    let account = first_account(&root);
    let default = account
        .as_ref()
        .map_or_else(|| "aws".to_owned(), |a| format!("aws:{a}"));
    let system = imp.system(spec, &default, account.map(|a| format!("AWS account {a}")));
    let policies = policies(&root, sink);
    let mut groups: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for g in util::items(&root, "GroupDetailList") {
        let Some(name) = util::text(g, "GroupName") else {
            continue;
        };
        let held = attached(g, "GroupPolicyList", &policies, &format!("group {name}"), sink);
        groups.insert(name, held);
    }
    for u in util::items(&root, "UserDetailList") {
        if let Some(acc) = user(u, &system, &groups, &policies, sink) {
            imp.accounts.add(acc);
        }
    }
    for r in util::items(&root, "RoleDetailList") {
        if let Some(acc) = role(r, &system, &policies, sink) {
            imp.accounts.add(acc);
        }
    }
}

fn first_account(root: &Node) -> Option<String> {
    ["UserDetailList", "RoleDetailList", "GroupDetailList"]
        .iter()
        .flat_map(|l| util::items(root, l))
        .find_map(|r| util::text(r, "Arn").and_then(|a| arn_account(&a).map(str::to_owned)))
}

/// Managed policies by ARN: name and whether their default version is privileged.
fn policies(root: &Node, sink: &mut Problems) -> BTreeMap<String, (String, bool)> {
    let mut out = BTreeMap::new();
    for p in util::items(root, "Policies") {
        let (Some(arn), Some(name)) = (util::text(p, "Arn"), util::text(p, "PolicyName")) else {
            continue;
        };
        let default = util::text(p, "DefaultVersionId");
        let version = util::items(p, "PolicyVersionList").iter().find(|v| {
            util::boolean(v, "IsDefaultVersion") == Some(true)
                || (default.is_some() && util::text(v, "VersionId") == default)
        });
        let by_doc = version
            .and_then(|v| util::get(v, "Document"))
            .is_some_and(|d| document_privileged(d, &name, sink));
        out.insert(
            arn,
            (name.clone(), by_doc || PRIVILEGED_POLICIES.contains(&name.as_str())),
        );
    }
    out
}

/// The policies attached to a user, group or role, and its inline policies (`inline_key`).
fn attached(
    node: &Node,
    inline_key: &str,
    policies: &BTreeMap<String, (String, bool)>,
    holder: &str,
    sink: &mut Problems,
) -> Vec<Held> {
    let mut out = Vec::new();
    for a in util::items(node, "AttachedManagedPolicies") {
        let arn = util::text(a, "PolicyArn").unwrap_or_default();
        let name = util::text(a, "PolicyName")
            .or_else(|| arn.rsplit('/').next().map(str::to_owned))
            .unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let privileged = policies
            .get(&arn)
            .map_or_else(|| PRIVILEGED_POLICIES.contains(&name.as_str()), |(_, p)| *p);
        out.push(Held {
            permission: name,
            privileged,
            source: format!("{holder} → attached policy {arn}"),
            loc: a.loc.clone(),
        });
    }
    for i in util::items(node, inline_key) {
        let Some(name) = util::text(i, "PolicyName") else {
            continue;
        };
        let privileged = util::get(i, "PolicyDocument").is_some_and(|d| document_privileged(d, &name, sink));
        out.push(Held {
            permission: format!("inline/{name}"),
            privileged,
            source: format!("{holder} → inline policy {name}"),
            loc: i.loc.clone(),
        });
    }
    out
}

fn owner_tag(node: &Node, acc: &mut Account) {
    for t in util::items(node, "Tags") {
        let (Some(k), Some(v)) = (util::text(t, "Key"), util::text(t, "Value")) else {
            continue;
        };
        if k.eq_ignore_ascii_case("owner") {
            acc.owner = Some(Ref::Hint(v.clone()));
        }
        acc.tags.push((k, v));
    }
}

impl Held {
    fn grant(self) -> Grant {
        let source = format!("aws-authorization-details: {}", self.source);
        Grant::new(self.permission, self.privileged, source, &self.loc)
    }
}

fn user(
    u: &Node,
    system: &str,
    groups: &BTreeMap<String, Vec<Held>>,
    policies: &BTreeMap<String, (String, bool)>,
    sink: &mut Problems,
) -> Option<Account> {
    let (Some(arn), Some(name)) = (util::text(u, "Arn"), util::text(u, "UserName")) else {
        sink.push(shape(
            u.loc.clone(),
            "user without `Arn` or `UserName`",
            "each entry of `UserDetailList` names its user",
        ));
        return None;
    };
    let mut acc = Account::global(&arn, system, &u.loc);
    acc.login = Some(name.clone());
    acc.display_name = Some(name.clone());
    acc.created_at = util::date_at(u, "CreateDate", sink);
    owner_tag(u, &mut acc);
    for h in attached(u, "UserPolicyList", policies, &format!("user {name}"), sink) {
        acc.grant(h.grant());
    }
    for g in util::items(u, "GroupList") {
        let Some(gname) = g.scalar_text() else { continue };
        match groups.get(&gname) {
            Some(held) => {
                for h in held {
                    let h = Held {
                        permission: h.permission.clone(),
                        privileged: h.privileged,
                        source: format!("user {name} → {}", h.source),
                        loc: g.loc.clone(),
                    };
                    // Group inline policies are the group's own: name them after it.
                    let h = match h.permission.strip_prefix("inline/") {
                        Some(p) => Held {
                            permission: format!("group/{gname}/inline/{p}"),
                            ..h
                        },
                        None => h,
                    };
                    acc.grant(h.grant().through(Some(&gname)));
                }
            }
            None => sink.push(
                Problem::warning(
                    Code::ExportShape,
                    Some(g.loc.clone()),
                    format!("user `{name}` is in group `{gname}`, which `GroupDetailList` does not hold"),
                )
                .with_help("the group's policies are not known: export the whole account"),
            ),
        }
    }
    Some(acc)
}

fn role(r: &Node, system: &str, policies: &BTreeMap<String, (String, bool)>, sink: &mut Problems) -> Option<Account> {
    let (Some(arn), Some(name)) = (util::text(r, "Arn"), util::text(r, "RoleName")) else {
        sink.push(shape(
            r.loc.clone(),
            "role without `Arn` or `RoleName`",
            "each entry of `RoleDetailList` names its role",
        ));
        return None;
    };
    let mut acc = Account::global(&arn, system, &r.loc);
    let service = util::get(r, "AssumeRolePolicyDocument").is_some_and(trusted_by_service);
    acc.kind = Some(if service {
        IdentityKind::Workload
    } else {
        IdentityKind::ServiceAccount
    });
    acc.display_name = Some(name.clone());
    acc.created_at = util::date_at(r, "CreateDate", sink);
    // An empty `RoleLastUsed` means no use within AWS's tracking window, not a known date.
    acc.last_seen = util::get(r, "RoleLastUsed").and_then(|u| util::date_at(u, "LastUsedDate", sink));
    owner_tag(r, &mut acc);
    for h in attached(r, "RolePolicyList", policies, &format!("role {name}"), sink) {
        acc.grant(h.grant());
    }
    Some(acc)
}

/// A policy document as a node: JSON already, or URL-encoded JSON text (as the IAM API
/// returns it).
fn document(node: &Node, what: &str) -> Option<Node> {
    match &node.value {
        Value::Map(_) => Some(node.clone()),
        Value::Str(s) => {
            let text = util::percent_decode(s);
            let src = Source::new(format!("{} ({what})", node.loc.file()), text);
            crate::json::value(&src).ok()
        }
        _ => None,
    }
}

fn statements(doc: &Node) -> Vec<&Node> {
    match util::get(doc, "Statement").map(|s| &s.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        Some(Value::Map(_)) => util::get(doc, "Statement").into_iter().collect(),
        _ => Vec::new(),
    }
}

fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
        Some(_) => node.and_then(Node::scalar_text).into_iter().collect(),
        None => Vec::new(),
    }
}

/// True when the document allows `*` or `iam:*`, or allows by `NotAction`.
fn document_privileged(node: &Node, name: &str, sink: &mut Problems) -> bool {
    let Some(doc) = document(node, &format!("policy {name}")) else {
        sink.push(
            Problem::warning(
                Code::ExportShape,
                Some(node.loc.clone()),
                format!("the document of policy `{name}` cannot be read"),
            )
            .with_help("its privilege is judged by its name only; export the document as JSON"),
        );
        return false;
    };
    statements(&doc).into_iter().any(|s| {
        let allow = util::text(s, "Effect").is_some_and(|e| e.eq_ignore_ascii_case("allow"));
        let broad = strings(util::get(s, "Action"))
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case("iam:*"));
        allow && (broad || util::get(s, "NotAction").is_some())
    })
}

/// True when a role's trust policy lets an AWS service assume it.
fn trusted_by_service(node: &Node) -> bool {
    let Some(doc) = document(node, "trust policy") else {
        return false;
    };
    statements(&doc).into_iter().any(|s| {
        util::text(s, "Effect").is_some_and(|e| e.eq_ignore_ascii_case("allow"))
            && util::get(s, "Principal").is_some_and(|p| util::get(p, "Service").is_some())
    })
}
