//! Developer tools for dualtrack: the synthetic inventory generator and its CSV form,
//! shared by the `dualtrack-bench` binary and the tests.

pub mod generate;
pub mod records;
pub mod to_csv;
pub mod to_yaml;
