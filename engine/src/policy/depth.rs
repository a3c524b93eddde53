//! A look at `.cedar` text before Cedar parses it, beside the bracket-nesting limit
//! ([`crate::limits::MAX_DEPTH`], checked in `cedar_rules`): Cedar nests an operator chain
//! (`a || b || c || …`, `x + y + …`) one level per operator, and its parser, validator,
//! evaluator and printer recurse once per level. A chain of a thousand operators
//! overflowed the stack (the `cedar` fuzz target aborted), and a few hundred already stop
//! Cedar's evaluator ("recursion limit reached", DT301 on every identity). Such text is
//! refused here with a located diagnostic. The limit is far above what a hand-written
//! rule needs.

use std::sync::Arc;

use crate::diag::{Code, Problem};
use crate::source::Source;

pub use crate::limits::MAX_OPERATORS;

/// Two-character operators, each counted once.
const PAIRS: &[&[u8; 2]] = &[b"&&", b"||", b"==", b"!=", b"<=", b">="];

/// Keywords that are operators (or nest, like `if`).
const KEYWORDS: &[&str] = &["if", "in", "has", "like", "is"];

/// The first place in `src` where a policy passes [`MAX_OPERATORS`], as a DT112 error.
/// String literals and `//` comments are skipped; policies end at a `;` outside brackets.
pub fn check(src: &Arc<Source>) -> Option<Problem> {
    let text = src.text().as_bytes();
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let mut depth = 0usize;
    let mut operators = 0usize;
    while i < text.len() {
        let b = at(i);
        match b {
            b'"' => {
                i += 1;
                while i < text.len() && at(i) != b'"' {
                    i += if at(i) == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if at(i + 1) == b'/' => {
                while i < text.len() && at(i) != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b';' if depth == 0 => operators = 0,
            b'&' | b'|' | b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'.' => {
                if PAIRS.iter().any(|p| **p == [b, at(i + 1)]) {
                    i += 1;
                }
                operators += 1;
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while at(i + 1).is_ascii_alphanumeric() || at(i + 1) == b'_' {
                    i += 1;
                }
                let word = src.text().get(start..=i).unwrap_or_default();
                if KEYWORDS.contains(&word) {
                    operators += 1;
                }
            }
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Some(too_long(src, i));
        }
        i += 1;
    }
    None
}

fn too_long(src: &Arc<Source>, at: usize) -> Problem {
    Problem::error(
        Code::Limit,
        Some(src.loc(at, 1)),
        format!("Cedar policy has more than {MAX_OPERATORS} operators"),
    )
    .with_label("too many operators")
    .with_help("split the policy into several rules, or test a list with `[…].contains(…)` instead of a chain of `||`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<String> {
        check(&Source::new("t.cedar", text)).map(|p| format!("{} {}", p.code.as_str(), p.message))
    }

    #[test]
    fn ordinary_policies_pass() {
        let pack = crate::policy::builtin_files();
        let cedar: Vec<_> = pack.iter().filter(|s| s.name().ends_with(".cedar")).collect();
        assert!(!cedar.is_empty());
        for src in cedar {
            assert_eq!(check(src).map(|p| p.message), None, "{}", src.name());
        }
    }

    #[test]
    fn long_chains_are_refused_per_policy() {
        let policy = |n: usize| {
            format!(
                "forbid (principal, action, resource) when {{ {} }};\n",
                vec!["principal.is_nhi"; n].join(" || ")
            )
        };
        // 2 operators per term (`.` and `||`): 100 terms stay under the limit, twice over.
        assert_eq!(problem(&policy(100).repeat(2)), None);
        assert_eq!(
            problem(&policy(200)).as_deref(),
            Some("DT112 Cedar policy has more than 256 operators")
        );
    }

    #[test]
    fn strings_and_comments_do_not_count() {
        let text = format!(
            "// {}\n@title(\"{}\")\nforbid (principal, action, resource) when {{ principal.kind == \"\\\"{}\" }};",
            "&&".repeat(400),
            "&&.".repeat(300),
            "||".repeat(300),
        );
        assert_eq!(problem(&text), None);
    }
}
