//! The bench crate's tests, in one binary so the engine and Cedar are linked once: the fast
//! paths against the simple ones they must agree with, on generated inventories.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

mod differential;
mod streamed;
