//! Command-line arguments (clap derive). Only the shape of the command line lives here;
//! `settings` merges it with the config file and environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::ColorChoice;
use crate::settings::Settings;

const EXIT_CODES: &str = "\
Exit codes:
  0  every blocking gate holds
  1  a blocking gate was breached or has no data (the release must not ship)
  2  usage, input or policy error (nothing was judged)

Settings are layered: built-in defaults < gatecheck.toml (or --config) < GATECHECK_* variables < flags.
Prometheus credentials come only from GATECHECK_PROMETHEUS_TOKEN, --prometheus-token-file, or
--prometheus-user with GATECHECK_PROMETHEUS_PASSWORD.";

#[derive(Debug, Parser)]
#[command(name = "gatecheck", version, about = "Decides whether a release candidate of an HTTP API may ship", after_help = EXIT_CODES)]
pub struct Cli {
    /// Settings file (default: ./gatecheck.toml when it exists).
    #[arg(long, global = true, value_name = "FILE", env = "GATECHECK_CONFIG")]
    pub config: Option<PathBuf>,

    /// When to colour output; NO_COLOR always turns colour off.
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge a k6 summary, lag figures (env or Prometheus) against a policy (the release gate).
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
    /// Judge a policy that needs no load test, e.g. the on-call saturation check, optionally
    /// several times until it is stable.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Check that every query of a policy parses and returns data (before release day).
    #[command(
        after_help = "Exit codes:\n  0  every query answered with data\n  1  a query returned no data or was rejected\n  2  usage or settings error, or the server could not be reached"
    )]
    Probe(ProbeArgs),
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

    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy file [default: gates/saturation.toml, or the built-in saturation policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// k6 summary, when the policy also has k6 gates.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Evaluate this many times (for flapping signals); the last --require must all pass.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub watch: u32,

    /// Time between evaluations with --watch, e.g. 30s.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub interval: String,

    /// How many of the last evaluations must pass [default: all of --watch].
    #[arg(long, value_name = "K")]
    pub require: Option<u32>,

    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Policy file whose queries to try [default: gates/saturation.toml or the built-in one].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args)]
pub struct GatesArgs {
    /// Policy file [default: gates/release.toml, or the built-in release policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Where figures other than the k6 summary come from.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Treat a flow as switched off: its gates are SKIPPED (repeatable).
    #[arg(long = "skip-flow", value_name = "FLOW")]
    pub skip_flow: Vec<String>,

    /// Ignore figures given in environment variables (e.g. SCHEDULER_LAG_P95_SECONDS).
    #[arg(long)]
    pub no_env: bool,

    #[command(flatten)]
    pub prometheus: PrometheusArgs,
}

#[derive(Debug, Args)]
pub struct PrometheusArgs {
    /// Prometheus-compatible API for query gates, e.g. http://127.0.0.1:9090 (or GATECHECK_PROMETHEUS_URL).
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,

    /// Extra request header, e.g. "X-Scope-OrgID: tenant" (repeatable).
    #[arg(long, value_name = "NAME: VALUE")]
    pub prometheus_header: Vec<String>,

    /// File holding a bearer token (instead of GATECHECK_PROMETHEUS_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub prometheus_token_file: Option<PathBuf>,

    /// Basic-auth user; the password comes from GATECHECK_PROMETHEUS_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub prometheus_user: Option<String>,

    /// CA certificate (PEM) to trust for https.
    #[arg(long, value_name = "FILE")]
    pub prometheus_ca_file: Option<PathBuf>,

    /// Per-query timeout [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub prometheus_timeout: Option<String>,

    /// Extra attempts after a connection error or 5xx, with backoff [default: 2].
    #[arg(long, value_name = "N")]
    pub prometheus_retries: Option<u32>,

    /// Queries in flight at once [default: 8].
    #[arg(long, value_name = "N")]
    pub prometheus_concurrency: Option<usize>,

    /// Evaluation time of every query: RFC 3339 or unix seconds [default: now]. Shown in the report.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Override a policy variable used in queries, e.g. --var window=30m (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub var: Vec<String>,
}

impl PrometheusArgs {
    /// The flags given, as the top settings layer.
    pub fn into_settings(self, base: Settings) -> Settings {
        Settings {
            prometheus_url: self.prometheus_url,
            prometheus_header: self.prometheus_header,
            prometheus_token_file: self.prometheus_token_file,
            prometheus_user: self.prometheus_user,
            prometheus_ca_file: self.prometheus_ca_file,
            prometheus_timeout: self.prometheus_timeout,
            prometheus_retries: self.prometheus_retries,
            prometheus_concurrency: self.prometheus_concurrency,
            at: self.at,
            var: self.var,
            ..base
        }
    }
}

impl EvidenceArgs {
    pub fn into_settings(self, base: Settings) -> Settings {
        let base = Settings { skip_flow: self.skip_flow, no_env: self.no_env.then_some(true), ..base };
        self.prometheus.into_settings(base)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
