//! Command-line arguments (clap derive). Only the shape of the command line lives here;
//! `settings` merges it with the config file and environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::ColorChoice;

const EXIT_CODES: &str = "\
Exit codes:
  0  every blocking gate holds
  1  a blocking gate was breached or has no data (the release must not ship)
  2  usage, input or policy error (nothing was judged)

Settings are layered: built-in defaults < gatecheck.toml (or --config) < GATECHECK_* variables < flags.";

#[derive(Debug, Parser)]
#[command(name = "gatecheck", version, about = "Decides whether a release candidate of an HTTP API may ship", after_help = EXIT_CODES)]
pub struct Cli {
    /// Settings file (default: ./gatecheck.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to colour output; NO_COLOR always turns colour off.
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge a k6 summary and lag figures against a policy.
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Print what a policy checks, in plain words.
    Gates(GatesArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// k6 summary (any JSON shape k6 writes) [default: $K6_SUMMARY_PATH or artifacts/perf/k6-summary.json].
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Policy file [default: gates/release.toml, or the built-in release policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Treat a flow as switched off: its gates are SKIPPED (repeatable).
    #[arg(long = "skip-flow", value_name = "FLOW")]
    pub skip_flow: Vec<String>,

    /// Ignore figures given in environment variables (e.g. SCHEDULER_LAG_P95_SECONDS).
    #[arg(long)]
    pub no_env: bool,
}

#[derive(Debug, Args)]
pub struct GatesArgs {
    /// Policy file [default: gates/release.toml, or the built-in release policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
