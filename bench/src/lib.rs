//! Developer tools for dualtrack: the synthetic inventory generator, shared by the
//! `dualtrack-bench` binary and the differential test.

pub mod generate;
