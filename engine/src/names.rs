//! One pattern for the enums whose values are written as names in files (`kind: human`,
//! `decision: revoke`): the names are listed once, and both the parsing table and
//! `as_str` come from that list.

/// Gives `$ty` a `CHOICES` table (name, value), which the readers parse with, and an
/// `as_str` that returns the same name: `names!(Status { Active = "active", … });`.
#[macro_export]
macro_rules! names {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Names as written in files.
            pub const CHOICES: &'static [(&'static str, $ty)] = &[$(($name, $ty::$variant)),+];

            /// The name as written in files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }
    };
}
