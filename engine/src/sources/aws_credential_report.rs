//! `aws-credential-report`: the IAM credential report, as the CSV AWS generates or the
//! JSON of `aws iam get-credential-report` (`Content` base64-encoded, or plain text).
//! One account per row (a console password means a person, otherwise a service account),
//! one `api_key` per active access key, owned by its user; `<root_account>` is privileged.

use std::sync::Arc;

use crate::diag::Problems;
use crate::inventory::IdentityKind;
use crate::node::Node;
use crate::source::{Loc, Source};

use super::util::{self, arn_account};
use super::{export, shape, Account, Grant, Import, Spec};

const ROOT: &str = "<root_account>";

/// Reads one credential report.
pub fn read(spec: &Spec, imp: &mut Import, sink: &mut Problems) {
    let Some(src) = export(spec, imp, sink) else { return };
    let (csv_src, at) = if src.text().trim_start().starts_with('{') {
        match unwrap_json(&src, sink) {
            Some((csv, loc)) => (csv, Some(loc)),
            None => return,
        }
    } else {
        (src, None)
    };
    // Rows of a report inside JSON are all located at its `Content`.
    let mut local = Problems::default();
    let (headers, mut rows) = util::csv(&csv_src, spec.delimiter, &mut local);
    if let Some(loc) = &at {
        for p in &mut local.0 {
            p.loc = Some(loc.clone());
        }
        for r in &mut rows {
            r.loc = loc.clone();
        }
    }
    sink.0.append(&mut local.0);
    for column in ["user", "arn"] {
        if !headers.iter().any(|h| h == column) {
            let loc = at.clone().unwrap_or_else(|| csv_src.loc_to_eol(0));
            sink.push(shape(
                loc,
                format!("credential report has no `{column}` column"),
                "give the report as AWS generates it (`aws iam get-credential-report`)",
            ));
            return;
        }
    }
    for row in &rows {
        account(spec, row, imp, sink);
    }
}

/// The CSV inside the JSON of `get-credential-report`, and where `Content` is.
fn unwrap_json(src: &Arc<Source>, sink: &mut Problems) -> Option<(Arc<Source>, Loc)> {
    let root = crate::json::value(src).map_err(|p| sink.push(p)).ok()?;
    let Some(content) = util::get(&root, "Content") else {
        sink.push(shape(
            root.loc.clone(),
            "credential report JSON has no `Content`",
            "give the output of `aws iam get-credential-report`, or the CSV it holds",
        ));
        return None;
    };
    let text = content.scalar_text().unwrap_or_default();
    let csv = if text.trim_start().starts_with("user,") {
        text
    } else {
        match util::base64(&text).and_then(|b| String::from_utf8(b).ok()) {
            Some(t) => t,
            None => {
                sink.push(shape(
                    content.loc.clone(),
                    "credential report `Content` is neither CSV nor base64-encoded CSV",
                    "give the output of `aws iam get-credential-report` unchanged",
                ));
                return None;
            }
        }
    };
    Some((Source::new(src.name(), csv), content.loc.clone()))
}

fn account(spec: &Spec, row: &Node, imp: &mut Import, sink: &mut Problems) {
    let text = |k: &str| util::text(row, k).filter(|t| !util::is_absent(t));
    let date = |k: &str, sink: &mut Problems| {
        let n = util::get(row, k)?;
        util::date_text(&n.scalar_text()?, n, k, &spec.date_formats, sink)
    };
    let flag = |k: &str| util::boolean(row, k) == Some(true);
    let (Some(user), Some(arn)) = (text("user"), text("arn")) else {
        sink.push(shape(
            row.loc.clone(),
            "credential report row has no `user` or `arn`",
            "every row of the report names its user and ARN",
        ));
        return;
    };
    let aws = arn_account(&arn).map_or_else(|| "aws".to_owned(), |a| format!("aws:{a}"));
    let system = imp.system(
        spec,
        &aws,
        Some(format!("AWS account {}", aws.trim_start_matches("aws:"))),
    );
    let root = user == ROOT;
    let password = flag("password_enabled");
    let created = date("user_creation_time", sink);
    let password_used = date("password_last_used", sink);
    let password_changed = date("password_last_changed", sink);
    let mut acc = Account::global(&arn, &system, &row.loc);
    acc.kind = Some(if password || root {
        IdentityKind::Human
    } else {
        IdentityKind::ServiceAccount
    });
    acc.display_name = Some(user.clone());
    acc.login = (!root).then(|| user.clone());
    acc.created_at = created;
    acc.last_seen = password_used;
    if let Some(mfa) = util::boolean(row, "mfa_active") {
        acc.tags.push(("mfa_active".to_owned(), mfa.to_string()));
    }
    if root {
        acc.grant(
            Grant::new("root", true, "aws-credential-report: <root_account>", &row.loc)
                .granted(created)
                .used(password_used),
        );
    } else if password {
        acc.grant(
            Grant::new(
                "console-login",
                false,
                "aws-credential-report: password_enabled",
                &row.loc,
            )
            .granted(password_changed.or(created))
            .used(password_used),
        );
    }
    for n in 1..=2 {
        if !flag(&format!("access_key_{n}_active")) {
            continue;
        }
        let rotated = date(&format!("access_key_{n}_last_rotated"), sink);
        let used = date(&format!("access_key_{n}_last_used_date"), sink);
        acc.last_seen = acc.last_seen.max(used);
        let mut key = Account::credential(&acc, &format!("access_key_{n}"), &row.loc);
        key.display_name = Some(format!("{user} access key {n}"));
        key.credential_rotated_at = rotated;
        key.last_seen = used;
        key.grant(
            Grant::new(
                "access-key",
                root,
                format!("aws-credential-report: access_key_{n} of {user}"),
                &row.loc,
            )
            .granted(rotated)
            .used(used),
        );
        imp.accounts.add(key);
    }
    imp.accounts.add(acc);
}
