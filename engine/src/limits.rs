//! Resource limits on user input, in one place. Each is enforced where the input is read
//! and crossing one is a [`crate::diag::Code::Limit`] error (DT112) at the file and line
//! where it is crossed, so a hostile file is refused quickly instead of stalling a run.
//! `docs/inventory.md` lists them for users.

/// Nodes that YAML aliases may add to one document, counting every node of each aliased
/// value. Real inventories and rules use a handful of aliases; a "billion laughs" file
/// crosses this within milliseconds.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// Deepest nesting of lists and maps in YAML or JSON, and of brackets in a `.cedar` file.
/// Inventories and rules are a few levels deep; the limit keeps recursive code (drop,
/// clone, Cedar's parser) far from the stack's end.
pub const MAX_DEPTH: usize = 64;

/// Operators in one `.cedar` policy (`&&`, `||`, comparisons, arithmetic, `.`, `!`, `in`,
/// `has`, `like`, `is`, `if`): Cedar nests an operator chain one level per operator and
/// recurses once per level, so a long chain is as deep as nested brackets. Every policy
/// under this limit evaluates on an evaluation thread (see `policy::depth`).
pub const MAX_OPERATORS: usize = 256;

/// Largest single string or scalar, in bytes.
pub const MAX_SCALAR_BYTES: usize = 1 << 20;

/// Largest single JSON record (one entry of a section list), in bytes.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Largest single CSV field, in bytes.
pub const MAX_CSV_FIELD_BYTES: usize = 1 << 20;

/// Human-readable size for messages, e.g. `1 MiB`.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}
