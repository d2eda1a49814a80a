//! One integration-test binary; one file per feature.

mod bad_input;
mod baseline;
mod browser;
mod cli;
mod command_line;
mod compare;
mod fail_closed;
mod freshness;
mod gates_command;
mod hostile_inputs;
mod html_report;
mod k6_fixtures;
mod k6_native;
mod k6_raw;
mod merge;
mod prometheus;
mod prometheus_faults;
mod prometheus_rules;
mod remote_write;
mod reports;
mod segments;
mod settings_layers;
mod significance;
mod smoke;
mod support;
mod waivers;
