//! The workspace's integration tests, one module per area, in one binary so the engine and
//! Cedar are linked once. Each module's file documents what it checks; `common` holds the
//! helpers they share. `linear` installs an instrumented global allocator for the whole
//! binary and measures in a child process of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation is a failed test"
)]

mod common;

mod agent_sources;
mod agents;
mod campaign;
mod cli;
mod corpus;
mod decisions;
mod delta;
mod diff;
mod docs;
mod drift;
mod evidence;
mod exceptions;
mod fuzz_regressions;
mod inputs;
mod integrations;
mod linear;
mod lint;
mod policies;
mod policytest;
mod properties;
mod prove;
mod render;
mod review;
mod rules;
mod schemas;
mod sources;
