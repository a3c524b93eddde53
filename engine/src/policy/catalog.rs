//! The control catalog (control ids, frameworks, withdrawn ids and crosswalks) and the SoD
//! function catalog (business functions, permission mappings, broad-grant patterns).

use serde::Deserialize;

/// One control a rule may cite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// e.g. `PR.AA-05`.
    pub id: String,
    /// e.g. `NIST CSF 2.0`.
    pub framework: String,
    /// Short text of the control.
    pub title: String,
    /// `current` (default), `withdrawn`, or `source-label` (an id as a source names it that
    /// differs from the framework's own numbering).
    #[serde(default = "current")]
    pub status: String,
    /// Ids that replace or correspond to this one.
    #[serde(default)]
    pub see: Vec<String>,
    /// Why the status is what it is.
    #[serde(default)]
    pub note: Option<String>,
}

fn current() -> String {
    "current".to_owned()
}

/// A relation between control ids of two frameworks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crosswalk {
    /// Source id.
    pub from: String,
    /// Target ids.
    pub to: Vec<String>,
    /// e.g. `superseded-by`, `maps-to`.
    pub relation: String,
}

/// The control catalog file (`controls.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlCatalog {
    /// Every control.
    pub controls: Vec<Control>,
    /// Crosswalk entries.
    #[serde(default)]
    pub crosswalk: Vec<Crosswalk>,
}

impl ControlCatalog {
    /// The control with `id`.
    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// An SoD business function.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// e.g. `payment-approve`.
    pub id: String,
    /// Readable name.
    pub title: String,
}

/// Maps permissions (glob patterns, case-insensitive) to business functions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Permission pattern; `*` matches any run of characters, ASCII letters either case.
    pub permission: String,
    /// System id pattern (default: any system).
    #[serde(default)]
    pub system: Option<String>,
    /// Functions granted by a matching permission.
    pub functions: Vec<String>,
}

/// The function catalog file (`functions.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCatalog {
    /// Every business function.
    pub functions: Vec<Function>,
    /// Permission → function mappings.
    #[serde(default)]
    pub mappings: Vec<Mapping>,
    /// Permission patterns that are broad or administrative grants.
    #[serde(default)]
    pub broad_permissions: Vec<String>,
}

impl FunctionCatalog {
    /// True when `id` is a catalogued function.
    pub fn knows(&self, id: &str) -> bool {
        self.functions.iter().any(|f| f.id == id)
    }

    /// Function ids mapped to `permission` on `system`.
    pub fn mapped<'a>(&'a self, system: &'a str, permission: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.mappings
            .iter()
            .filter(move |m| glob(&m.permission, permission) && m.system.as_deref().is_none_or(|s| glob(s, system)))
            .flat_map(|m| m.functions.iter().map(String::as_str))
    }

    /// True when `permission` matches a broad-grant pattern.
    pub fn is_broad(&self, permission: &str) -> bool {
        self.broad_permissions.iter().any(|p| glob(p, permission))
    }
}

/// Glob where `*` matches any run of characters and ASCII letters match either case.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    // Iterative wildcard matching with backtracking to the last `*`. Matching bytes is
    // exact for UTF-8: a multi-byte character only ever equals itself.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(c) if t.get(ti).is_some_and(|x| x.eq_ignore_ascii_case(c)) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_like_a_shell_pattern_ignoring_case() {
        assert!(glob("*admin*", "AdministratorAccess"));
        assert!(glob("F110", "f110"));
        assert!(glob("*", ""));
        assert!(!glob("F110", "F1100"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
    }
}
