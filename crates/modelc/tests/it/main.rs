//! Integration tests: the `modelc` binary on fixture projects and the example
//! project, against real DuckDB databases. One test binary, because each links DuckDB.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(unix)]
mod bad_inputs;
mod browser;
mod build;
mod cli;
mod deps;
mod engines;
mod exposures;
mod freshness;
mod incremental;
mod interrupt;
mod kill;
mod lending;
mod materialize;
mod operation;
mod packages;
mod show;
mod snapshot;
mod state;
mod support;
mod tests;
mod types;
mod unit_tests;
mod windows;
