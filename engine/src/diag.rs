//! Coded diagnostics: every problem with an input names a stable code, a file:line span and
//! a help line, and a run collects all of them before it stops.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::source::Loc;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The input is unusable; the run fails with exit code 3.
    Error,
    /// Worth a look, the run goes on.
    Warning,
    /// For information: a deliberate choice worth knowing about (never fails a run).
    Note,
}

crate::names!(Level {
    Error = "error",
    Warning = "warning",
    Note = "note",
});

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal; )*) => {
        /// Every diagnostic code dualtrack emits. Codes are stable: a retired code is marked
        /// removed in this table and never reused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $(#[$doc])* $variant, )* }

        impl Code {
            /// All codes, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, e.g. `DT103`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// A short kebab-case name, e.g. `unknown-field`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }
        }
    };
}

codes! {
    /// A file or directory could not be read.
    Io = "DT100", "io";
    /// YAML, JSON or CSV syntax error.
    Syntax = "DT101", "syntax";
    /// A value has the wrong shape (a list where a map was expected, …).
    Shape = "DT102", "shape";
    /// A field that the format does not have.
    UnknownField = "DT103", "unknown-field";
    /// A required field is absent.
    MissingField = "DT104", "missing-field";
    /// Two records (or rules) share an id.
    DuplicateId = "DT105", "duplicate-id";
    /// A reference names a record that does not exist.
    DanglingReference = "DT106", "dangling-reference";
    /// A date that is not `YYYY-MM-DD` or RFC 3339.
    BadDate = "DT107", "bad-date";
    /// A value outside the allowed set (unknown kind, status, boolean …).
    BadValue = "DT108", "bad-value";
    /// The inventory directory is missing a file or holds two candidates for one.
    Layout = "DT109", "layout";
    /// A key appears twice in one YAML or JSON map, or a column twice in a CSV header.
    DuplicateKey = "DT110", "duplicate-key";
    /// So many inventory errors that only the first ones are shown in full.
    TooManyErrors = "DT111", "too-many-errors";
    /// An input crosses a resource limit (alias expansion, nesting depth, size of a string,
    /// record or CSV field); the limits are listed in `docs/inventory.md`.
    Limit = "DT112", "limit";
    /// A file is not UTF-8 text: UTF-16 or UTF-32, a NUL byte, or invalid UTF-8.
    Encoding = "DT113", "encoding";
    /// A Cedar policy does not parse.
    CedarSyntax = "DT201", "cedar-syntax";
    /// A policy fails Strict validation against the dualtrack Cedar schema.
    CedarValidation = "DT202", "cedar-validation";
    /// A policy annotation is missing or has a bad value.
    BadAnnotation = "DT203", "bad-annotation";
    /// A policy cites a control id that the control catalog does not hold.
    UnknownControl = "DT204", "unknown-control";
    /// A SoD conflict or mapping names a business function the catalog does not hold.
    UnknownFunction = "DT205", "unknown-function";
    /// A policy does not target exactly one dualtrack action.
    BadAction = "DT206", "bad-action";
    /// A policy in a pack is not a `forbid` (findings come from satisfied `forbid`s).
    NotForbid = "DT207", "not-forbid";
    /// A YAML rule names an attribute path dualtrack does not know.
    UnknownAttribute = "DT208", "unknown-attribute";
    /// The Cedar schema itself is invalid.
    Schema = "DT209", "schema";
    /// A ruleset risk names too few functions for its type (none, or one for `sod`).
    EmptyRisk = "DT210", "empty-risk";
    /// Cedar reported an error while evaluating a policy: the run fails closed.
    EvaluationError = "DT301", "evaluation-error";
    /// The Cedar entities for an identity could not be built.
    EntityError = "DT302", "entity-error";
    /// A rule cites a control its framework has withdrawn (lint).
    WithdrawnControl = "DT401", "withdrawn-control";
    /// A rule cites a control id as a source labels it, not as its framework numbers it (lint).
    SourceLabelControl = "DT402", "source-label-control";
    /// Two rules of one track have the same condition (lint).
    DuplicateRule = "DT403", "duplicate-rule";
    /// A YAML rule's conditions contradict each other, so it can never fire (lint).
    NeverFires = "DT404", "never-fires";
    /// A YAML rule tests a value its attribute never takes (lint).
    OutsideDomain = "DT405", "outside-domain";
    /// An SoD function that no permission mapping (or, with an inventory, no entitlement) yields (lint).
    UnmappedFunction = "DT406", "unmapped-function";
    /// A non-human identity without an `owner` (lint, inventory data quality).
    NhiWithoutOwner = "DT407", "nhi-without-owner";
    /// A non-human identity with no `last_seen` and no `last_used` on any entitlement (lint).
    NhiWithoutUsage = "DT408", "nhi-without-usage";
    /// An entitlement without `justification` (lint, inventory data quality).
    MissingJustification = "DT409", "missing-justification";
    /// A rule can never fire on any input the schema allows (`lint --prove`, proven).
    ProvenVacuous = "DT410", "proven-vacuous";
    /// A rule can fail to evaluate (`lint --prove`, with a replayed example). Cedar skips an
    /// erroring `forbid`; `check` stops with `DT301` instead, so on such an inventory the
    /// review cannot run.
    CanError = "DT411", "can-error";
    /// Two rules of one track fire on exactly the same inputs (`lint --prove`, proven).
    ProvenEquivalent = "DT412", "proven-equivalent";
    /// Wherever a rule fires, another rule of its track fires too (`lint --prove`, proven).
    Shadowed = "DT413", "shadowed";
    /// The solver could not decide a `lint --prove` question (time limit or unknown).
    ProofInconclusive = "DT414", "proof-inconclusive";
    /// A policy test or an exception names a rule the pack does not hold.
    UnknownRule = "DT501", "unknown-rule";
    /// A policy test expects a finding its own case can never produce (the rule's track is
    /// not evaluated, the rule is outside `only_rules`, or `track` contradicts the rule).
    UnreachableExpectation = "DT502", "unreachable-expectation";
    /// An exception names a rule of the other track (an exception covers one track only).
    ExceptionTrack = "DT601", "exception-track";
    /// An exception gives neither `identity` nor `entitlement`, so it would select everything.
    ExceptionSelector = "DT602", "exception-selector";
    /// An exception names no rule, or gives both `rule` and `rules`.
    ExceptionRules = "DT603", "exception-rules";
    /// An exception is approved by the identity it covers or by that identity's owner (lint).
    ExceptionSelfApproved = "DT604", "exception-self-approved";
    /// An in-scope entitlement has no reviewer fit to review it on a campaign track.
    NoReviewer = "DT701", "no-reviewer";
    /// A campaign reviewer would review their own access or a non-human identity they own.
    SelfReview = "DT702", "self-review";
    /// A campaign reviewer is not in the track's reviewer population.
    ReviewerOutsidePopulation = "DT703", "reviewer-outside-population";
    /// A system has no owner (campaign lint).
    SystemWithoutOwner = "DT704", "system-without-owner";
    /// The SOX remediation SLA is longer than the SOC one (campaign lint).
    SoxSlaLooser = "DT705", "sox-sla-looser";
    /// A revoke decision on a track without a remediation SLA.
    NoSla = "DT801", "no-sla";
    /// A decision names an entitlement the inventory does not hold (a revoke is exempt:
    /// the entitlement was removed as decided).
    UnknownDecisionEntitlement = "DT802", "unknown-decision-entitlement";
    /// An export does not have the structure its source `type` documents (a missing
    /// column, a JSON document of another kind, a value of the wrong type).
    ExportShape = "DT901", "export-shape";
    /// An export says it is incomplete (AWS `IsTruncated: true`): a partial export must not
    /// pass as complete.
    TruncatedExport = "DT902", "truncated-export";
    /// Two people match one account (or one owner tag) on the correlation keys.
    AmbiguousCorrelation = "DT903", "ambiguous-correlation";
    /// Accounts were imported but no `hr-csv` source lists people, so none is correlated
    /// and none can be reported as uncorrelated (a note).
    NoPeople = "DT904", "no-people";
    /// An SAP extract names a user or role that its other tables do not hold (a role
    /// assigned to a user missing from USR02, a role or composite child with no
    /// authorization in AGR_1251): a warning saying what follows for the row.
    SapReference = "DT905", "sap-reference";
    /// Reference users (USR02 `USTYP` L) in an SAP extract are not identities (a note
    /// with their count).
    SapReferenceUsers = "DT906", "sap-reference-users";
    /// A pack given as a baseline differs from its manifest: a listed file is missing or
    /// modified, or a file was added.
    PackTampered = "DT1001", "pack-tampered";
    /// A pack given as a baseline is of an older or unknown format, or its manifest cannot
    /// be read as one.
    PackFormat = "DT1002", "pack-format";
}

/// One coded problem with an input, renderable by miette.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// Stable code.
    pub code: Code,
    /// Error or warning.
    pub level: Level,
    /// Lowercase message, user input in backticks.
    pub message: String,
    /// Advice.
    pub help: Option<String>,
    /// Where; `None` only when no file is involved.
    pub loc: Option<Loc>,
    /// Text under the highlighted span.
    pub label: Option<String>,
    /// Further problems shown with this one.
    pub related: Vec<Problem>,
}

impl Problem {
    /// An error at `loc`.
    pub fn error(code: Code, loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            code,
            level: Level::Error,
            message: message.into(),
            help: None,
            loc,
            label: None,
            related: Vec::new(),
        }
    }

    /// A warning at `loc`.
    pub fn warning(code: Code, loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            level: Level::Warning,
            ..Self::error(code, loc, message)
        }
    }

    /// A note at `loc`: information that never fails a run.
    pub fn note(code: Code, loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            level: Level::Note,
            ..Self::error(code, loc, message)
        }
    }

    /// Adds advice.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a label under the span.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// `file:line` of the problem, or an empty string.
    pub fn at(&self) -> String {
        self.loc.as_ref().map(Loc::to_string).unwrap_or_default()
    }
}

struct CodeDisplay(Code);

impl fmt::Display for CodeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.0.as_str(), self.0.name())
    }
}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(CodeDisplay(self.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            Level::Note => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.loc
            .as_ref()
            .filter(|l| !l.src.is_released())
            .map(|l| &*l.src as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let loc = self.loc.as_ref().filter(|l| !l.src.is_released())?;
        let label = self
            .label
            .clone()
            .or_else(|| Some(format!("{}:{}", loc.file(), loc.line)));
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(label, loc.span()))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// All problems found by one step; loading goes on after an error so every problem shows.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records a problem.
    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }

    /// True when any error (not only warnings) was recorded.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|p| p.level == Level::Error)
    }

    /// How many problems are at `level`.
    pub fn count(&self, level: Level) -> usize {
        self.0.iter().filter(|p| p.level == level).count()
    }

    /// Sorts by file, line, then code, so output is deterministic.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            // Lines before offsets: a record read back on its own has offsets within its window.
            let ka = a.loc.as_ref().map(|l| (l.file().to_owned(), l.line, l.offset));
            let kb = b.loc.as_ref().map(|l| (l.file().to_owned(), l.line, l.offset));
            ka.cmp(&kb).then(a.code.cmp(&b.code)).then(a.message.cmp(&b.message))
        });
    }
}

/// A "did you mean" hint: the closest of `candidates` to `given`, if close enough.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, c)| *d <= (c.len().max(given.len()) / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// Help text for an unknown name: a suggestion when one is close, else the allowed list.
pub fn suggest(given: &str, candidates: &[&str]) -> String {
    match did_you_mean(given, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!(
            "expected one of {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// Codes are stable: this list only ever grows; a retired code stays, marked removed.
    #[test]
    fn code_list_is_stable_and_unique() {
        let list: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("{} {}", c.as_str(), c.name()))
            .collect();
        let mut unique = list.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), list.len(), "duplicate code");
        insta::assert_snapshot!(list.join("\n"));
    }
}
