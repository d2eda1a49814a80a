//! One integration-test binary; one file per feature.

mod bad_input;
mod baseline;
mod cli;
mod compare;
mod fuzz_regressions;
mod gates_command;
mod k6_fixtures;
mod k6_native;
mod k6_raw;
mod merge;
mod prometheus;
mod prometheus_faults;
mod reports;
mod settings_layers;
mod smoke;
mod support;
