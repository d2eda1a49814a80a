//! Command-line arguments (clap derive). Only the shape of the command line lives here;
//! `settings` merges it with the config file and environment.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::ColorChoice;
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
    #[arg(long, global = true, value_name = "FILE", env = "GATECHECK_CONFIG", hide_env_values = true)]
    pub config: Option<PathBuf>,

    /// When to colour output; NO_COLOR always turns colour off.
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the largest variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
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
    /// Run the core-flow smoke load natively and write a k6-compatible summary and a log.
    #[command(
        after_help = "Exit codes:\n  0  the run finished and wrote its summary\n  2  usage, scenario or input error, or the summary could not be written"
    )]
    Smoke(SmokeArgs),
    /// The release-gates job in one process: smoke load, then verify against the policy.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// See the whole pipeline on one machine: an embedded API, a smoke load against it, lag read
    /// from its /metrics, and the release verdict.
    #[command(after_help = EXIT_CODES)]
    Demo(DemoArgs),
    /// Two runs side by side (per flow p50/p95/p99, errors, checks, throughput, with deltas).
    Compare(CompareArgs),
    /// One summary from several runs (native summaries or k6 raw results), percentiles over
    /// the union of their samples.
    Merge(MergeArgs),
    /// CI helpers for the GitHub workflows.
    #[command(subcommand)]
    Ci(CiCommand),
    /// Write what a scenario runs for another tool, e.g. a k6 script from gates/core-flows.toml.
    #[command(subcommand)]
    Export(ExportCommand),
    /// A minimal loopback HTTP target for benchmarks (GET / answers 200).
    #[command(hide = true)]
    BenchTarget(BenchTargetArgs),
    /// Write a working starting point for your own API into the current directory (scenario,
    /// release and saturation policies, workflow, schemas); never overwrites.
    Init(InitArgs),
    /// Check policies, scenarios, settings and waiver files without evidence: what loading
    /// refuses, placeholders left in, PromQL Prometheus would refuse, gates no flow feeds.
    #[command(
        after_help = "Exit codes:\n  0  no error (warnings may be printed)\n  2  a finding blocks, or a file could not be read"
    )]
    Lint(LintArgs),
    /// Policy unit tests: judge inline evidence against a policy and compare the verdict per gate.
    #[command(
        after_help = "Exit codes:\n  0  every case gave the expected verdict\n  1  a case did not (each difference is printed)\n  2  a test file or its policy could not be read"
    )]
    Test(TestArgs),
    /// Print the JSON Schema of a file gatecheck reads (for editors: taplo, Even Better TOML).
    Schema(SchemaArgs),
    /// Print shell completions: gatecheck completions bash > /etc/bash_completion.d/gatecheck
    Completions(CompletionsArgs),
    /// The man pages (roff): `gatecheck man --dir ~/.local/share/man/man1` writes gatecheck.1 and
    /// one page per subcommand (gatecheck-verify.1, ...); without --dir the top page goes to stdout.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder to write every page into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// An endpoint to load: "METHOD PATH", optionally followed by a JSON body (repeatable), e.g.
    /// --endpoint "GET /api/items" --endpoint 'POST /api/search {"q": ["x"]}'. With --openapi,
    /// names the operations that write which the scenario may call.
    #[arg(long = "endpoint", value_name = "METHOD PATH [JSON]")]
    pub endpoints: Vec<String>,
    /// An OpenAPI 3 document (JSON or YAML): every GET, one flow per tag (else path group).
    #[arg(long, value_name = "FILE")]
    pub openapi: Option<PathBuf>,
    /// The scenario's name.
    #[arg(long, default_value = "my-api")]
    pub name: String,
    /// The API's base URL by default (PERF_BASE_URL overrides it at run time).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8000")]
    pub base_url: String,
    /// The API takes no bearer token (by default PERF_BEARER_TOKEN is required and sent).
    #[arg(long)]
    pub no_auth: bool,
    /// The Prometheus histogram of request latency in seconds, for the saturation policy
    /// [default: a placeholder lint refuses].
    #[arg(long, value_name = "NAME")]
    pub latency_histogram: Option<String>,
    /// A Prometheus gauge of pool utilization (0..1), for the saturation policy [default: a
    /// placeholder lint refuses].
    #[arg(long, value_name = "NAME")]
    pub utilization_gauge: Option<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The files: policies, scenarios, gatecheck.toml, waiver files (kind from `#:schema` or keys).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Treat every file as this kind instead of detecting it.
    #[arg(long, value_enum)]
    pub kind: Option<FileKind>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy test files (TOML: policy = "...", [[case]] with k6, env and Prometheus series evidence and [case.expect]; series need prometheus and promtool on PATH).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The kind of file.
    #[arg(value_enum)]
    pub kind: FileKind,
}

/// The kinds of TOML file gatecheck reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FileKind {
    /// A policy: gates/release.toml, gates/saturation.toml, ...
    Policy,
    /// A load scenario: gates/core-flows.toml.
    Scenario,
    /// The settings file: gatecheck.toml.
    Settings,
    /// A waiver file: gates/waivers.toml.
    Waivers,
    /// A policy test file for `gatecheck test`: tests/policy/*.toml.
    PolicyTest,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Where the merged summary goes (written atomically). Never one of the inputs; an
    /// existing file is replaced only when it is a gatecheck summary.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The runs: gatecheck native summaries, or k6 raw results (.ndjson, .gz).
    #[arg(required = true, num_args = 2..)]
    pub inputs: Vec<PathBuf>,
    /// Policy whose metrics raw inputs are merged for [default: gates/release.toml or built in].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run: a k6 summary of any shape, or k6 raw results (.ndjson, .gz).
    pub a: PathBuf,
    /// The later run.
    pub b: PathBuf,

    /// Policy whose flows are compared [default: gates/release.toml, or the built-in one].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Resolve PERF_BASE_URL and PERF_RULE_ID (input -> environment variable -> repository
    /// variable, from INPUT_*, ENVIRONMENT_*, REPOSITORY_*), check PERF_BEARER_TOKEN, print a
    /// diagnostic without values and append the results to $GITHUB_ENV. Exit 2 when unresolved.
    Resolve,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A k6 script running the same flows, requests, checks, sleeps, offsets and tags as the
    /// native runner, with the policy's k6-metric thresholds. The token is read from
    /// PERF_BEARER_TOKEN when k6 runs, never written into the script.
    K6(ExportK6Args),
    /// A Prometheus rule file from a policy's query gates: one alert per threshold, firing
    /// when the gate would fail at that instant, and absent() alerts where NO DATA blocks.
    PrometheusRules(ExportRulesArgs),
}

#[derive(Debug, Args)]
pub struct ExportRulesArgs {
    /// Policy whose query gates become alerts [default: gates/release.toml or built in].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// How long a breach must last before the alert fires, e.g. 5m [default: at once].
    #[arg(long = "for", value_name = "DURATION")]
    pub for_: Option<String>,

    /// Override a policy variable used in queries, e.g. --var window=30m (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub var: Vec<String>,

    /// Write the rules here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportK6Args {
    /// Scenario file [default: gates/core-flows.toml, or the built-in core flows].
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Policy whose thresholds the script carries [default: gates/release.toml or built in].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Write the script here (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecutorKind {
    /// Closed model: each flow has --vus workers looping request(s), sleep (the reference harness).
    ConstantVus,
    /// Open model: each flow starts --rate iterations per second, at most --vus in flight.
    ConstantArrivalRate,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Scenario file [default: gates/core-flows.toml, or the built-in core flows].
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Target base URL (overrides PERF_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Virtual users per flow (overrides PERF_VUS); in the open model, the most in flight.
    #[arg(long, value_name = "N")]
    pub vus: Option<u32>,

    /// Run length, e.g. 30s (overrides PERF_DURATION).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,

    #[arg(long, value_enum, default_value = "constant-vus")]
    pub executor: ExecutorKind,

    /// Iterations per second per flow (constant-arrival-rate).
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,

    /// Stop after this many requests whatever the duration.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,

    /// Per-request timeout [default: the scenario's, 10s].
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,

    /// Leave out the scenario's sleeps between iterations (throughput runs).
    #[arg(long)]
    pub no_sleep: bool,

    /// Where the k6-compatible summary goes [default: $K6_SUMMARY_PATH, else $K6_SUMMARY_EXPORT, else artifacts/perf/k6-summary.json].
    #[arg(long, value_name = "FILE")]
    pub summary_out: Option<PathBuf>,

    /// Where the readable run log goes.
    #[arg(long, value_name = "FILE", default_value = "artifacts/perf/perf-smoke.log")]
    pub log_out: PathBuf,

    /// The target's Prometheus /metrics URL, scraped before and after the run for run-window
    /// histograms (e.g. scheduler and queue lag).
    #[arg(long, value_name = "URL")]
    pub scrape_url: Option<String>,

    /// No progress output.
    #[arg(long)]
    pub quiet: bool,

    /// Run only segment I of N (0-based), like k6's execution segments: its share of the VUs,
    /// of the open model's iterations (n mod N == I) and of --max-requests. N runners together
    /// are the unsplit run. In a GitHub Actions matrix: --segment ${{ strategy.job-index }}/${{ strategy.job-total }}.
    #[arg(long, value_name = "I/N", conflicts_with = "segments")]
    pub segment: Option<String>,

    /// The number of segments, with the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed
    /// Job, which does not pass the total).
    #[arg(long, value_name = "N")]
    pub segments: Option<u32>,

    /// Start at this instant (RFC 3339 or unix seconds), so segments started seconds apart load
    /// together; a time already past by more than 5 s is refused.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,

    /// The run the segments belong to [default: derived from the scenario digest and the start
    /// time]; `merge` refuses segments of different runs.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// Push the measurements to a Prometheus remote-write endpoint (e.g.
    /// http://127.0.0.1:9090/api/v1/write) when the run starts, every --remote-write-interval
    /// while it goes, and when it ends: latency as native histograms, request, failure, check
    /// and dropped-iteration counters, labelled run_id, segment, flow, endpoint. A bearer token
    /// comes from GATECHECK_REMOTE_WRITE_TOKEN; a refused push is a blocking row of the verdict.
    #[arg(long, value_name = "URL")]
    pub remote_write: Option<String>,

    /// How often to push the totals so far while the run goes, e.g. 1s [default: 5s, as k6].
    #[arg(long, value_name = "DURATION", requires = "remote_write")]
    pub remote_write_interval: Option<String>,

    /// Extra header for --remote-write, e.g. "X-Scope-OrgID: tenant" (repeatable; never printed).
    #[arg(long, value_name = "NAME: VALUE", requires = "remote_write")]
    pub remote_write_header: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SmokeArgs {
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub load: LoadArgs,

    #[command(flatten)]
    pub judge: JudgeArgs,

    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Make one gate fail on purpose.
    #[arg(long = "break", value_enum, value_name = "WHAT")]
    pub broken: Option<crate::demo::Break>,

    /// Only serve the demo target (for k6 or Prometheus to use) until Ctrl-C.
    #[arg(long)]
    pub serve: bool,

    /// Port for --serve [default: a free one]; loopback only.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// With --serve: do not mark answers as the demo's (`x-gatecheck-demo`), so runs against
    /// it count as a candidate's in history and as baselines. Only for trying those features
    /// (and gatecheck's own tests) on a stand-in; never for judging a release.
    #[arg(long, requires = "serve")]
    pub as_candidate: bool,

    /// Length of the demo load.
    #[arg(long, value_name = "DURATION", default_value = "6s")]
    pub duration: String,

    /// Scale the rule_poll flow's latency (the rule-run endpoint), e.g. 1.3 for an injected
    /// +30 % regression.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub latency_factor: f64,

    /// Virtual users per flow.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub vus: u32,

    /// Where the demo writes its summary and log.
    #[arg(long, value_name = "DIR", default_value = "artifacts/demo")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchTargetArgs {
    /// Loopback port to listen on (0 = any; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Seeded delay mix "PERCENT:DELAY,...", e.g. "90:10ms,9:50ms,1:200ms"; none = answer at once.
    #[arg(long, value_name = "MIX")]
    pub delay_mix: Option<String>,

    /// With --delay-mix: write the server's own timing percentiles here on Ctrl-C / SIGTERM.
    #[arg(long, value_name = "FILE")]
    pub truth_out: Option<PathBuf>,

    /// Size of every response body in bytes (for huge-body tests).
    #[arg(long, value_name = "BYTES", default_value_t = 2)]
    pub body_bytes: usize,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// k6 summary (any JSON shape k6 writes; - for standard input) [default: $K6_SUMMARY_PATH, else $K6_SUMMARY_EXPORT, else artifacts/perf/k6-summary.json].
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    #[command(flatten)]
    pub judge: JudgeArgs,

    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// How a run's evidence is judged: the options every judging command shares (verify, run,
/// demo), defined once so they cannot drift apart.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    /// Policy file [default: gates/release.toml, or the built-in release policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Block on load-test evidence older than this, e.g. 24h (native summaries carry their end
    /// time; k6 files are aged by their modification time).
    #[arg(long, value_name = "DURATION")]
    pub max_evidence_age: Option<String>,

    /// k6 raw results (`--out json=FILE`, .gz accepted; repeatable): exact percentiles computed
    /// as k6 does, filling what the summary lacks (e.g. p(99)). With no summary, the only source.
    #[arg(long, value_name = "FILE")]
    pub raw: Vec<PathBuf>,

    /// Skip and count malformed raw lines instead of stopping at the first one.
    #[arg(long)]
    pub raw_lenient: bool,

    /// The last accepted run (k6 summary, raw results or gatecheck JSON report) for thresholds
    /// relative to it, e.g. `p(95) <= baseline * 1.2`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Accept a gatecheck JSON report of a BLOCKED run as the baseline (refused by default:
    /// a baseline is the last accepted run).
    #[arg(long, requires = "baseline")]
    pub baseline_allow_blocked: bool,

    /// Record this verdict in DIR and judge history gates (`consecutive_passes`) from it.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,

    /// Waivers: signed-off breaches that do not block until they expire [default:
    /// gates/waivers.toml when present].
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
}

impl JudgeArgs {
    /// The flags given, as the top settings layer (the report destinations stay with the caller).
    pub fn into_settings(self, base: Settings) -> (Settings, ReportArgs) {
        let settings = Settings {
            policy: self.policy,
            max_evidence_age: self.max_evidence_age,
            raw: self.raw,
            raw_lenient: self.raw_lenient.then_some(true),
            baseline: self.baseline,
            baseline_allow_blocked: self.baseline_allow_blocked.then_some(true),
            history: self.history,
            waivers: self.waivers,
            ..base
        };
        (settings, self.report)
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    /// Policy file [default: gates/saturation.toml, or the built-in saturation policy when absent].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// k6 summary, when the policy also has k6 gates.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Evaluate this many times (for flapping signals); the last --require must all pass.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub watch: u32,

    /// Time between evaluations with --watch, e.g. 30s [default: 30s, or the longest sampling
    /// interval a judged gate's coverage declares, when longer].
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,

    /// How many of the last evaluations must pass [default: all of --watch].
    #[arg(long, value_name = "K")]
    pub require: Option<u32>,

    /// Waivers: signed-off breaches that do not block until they expire [default:
    /// gates/waivers.toml when present].
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

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

    /// Override a policy variable used in queries, e.g. --var window=30m (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub var: Vec<String>,
}

/// Where the verdict goes besides the table.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Also write the verdict as json, junit, markdown or html (one self-contained page with
    /// latency plots), to a file or - for standard output (repeatable), e.g.
    /// --report json=artifacts/perf/verdict.json --report html=artifacts/perf/verdict.html.
    /// Markdown is appended to $GITHUB_STEP_SUMMARY when set; GITHUB_ACTIONS=true adds annotations.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<crate::report::outputs::ReportSpec>,

    /// Terminal table: every row's full source (whole queries, file keys) and every note,
    /// passing rows included.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Terminal table: only the rows that block the release (the last line still counts all).
    #[arg(long)]
    pub only_failures: bool,
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

    /// Total time limit of one query, retries and their waits included; each attempt gets what
    /// remains [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub prometheus_timeout: Option<String>,

    /// Extra attempts after a connection error, a 5xx or a 429 (honouring Retry-After), within
    /// the time limit [default: 2].
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

    /// Judge figures from responses that carry warnings (Thanos/Mimir partial responses,
    /// Prometheus infos); by default such a figure is NO DATA, quoting the warning.
    #[arg(long)]
    pub accept_partial_response: bool,
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
            accept_partial_response: self.accept_partial_response.then_some(true),
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

/// clap's error with every word of the command line it quotes masked, flag names and
/// subcommands aside: an argument error may quote any word, and a word may be a credential
/// gatecheck cannot tell from the others — a header split by a missing pair of quotes leaves
/// its key a stray word, a URL's userinfo may be a token alone (findings round19-text/01, 02).
/// So an argument error names the flag and what it expected, never a value.
pub fn without_argument_values(rendered: &str, args: &[String]) -> String {
    let flag_name = |word: &str| {
        let name = word.strip_prefix("--").or_else(|| word.strip_prefix('-')).unwrap_or("");
        !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let subcommand = |word: &str| {
        use clap::CommandFactory;
        Cli::command().get_subcommands().any(|command| command.get_name() == word)
    };
    let mut values: Vec<&str> = Vec::new();
    for word in args.iter().skip(1) {
        match word.strip_prefix("--").and_then(|rest| rest.split_once('=')) {
            Some((_, value)) => values.push(value),
            None if !flag_name(word) && !subcommand(word) => values.push(word),
            None => {}
        }
    }
    // The longest first: a value holding another is masked whole.
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    let mut text = rendered.to_string();
    for value in values.into_iter().filter(|value| !value.is_empty()) {
        text = text.replace(&format!("'{value}'"), "'***'");
    }
    text
}

/// clap's several-line message as one line: what is wrong with which flag, a tip when clap
/// has one, and where help is (`gatecheck verify --help` for a subcommand's flags).
pub fn one_line_error(rendered: &str) -> String {
    let lines: Vec<&str> = rendered.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let first = lines.first().map(|l| l.trim_start_matches("error:").trim()).unwrap_or("invalid arguments");
    // "the following required arguments were not provided:" lists them on the lines after.
    let listed: Vec<&str> = lines
        .iter()
        .skip(1)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("tip:") && !l.starts_with("For more information"))
        .copied()
        .collect();
    let what = if first.ends_with(':') && !listed.is_empty() {
        format!("{first} {}", listed.join(", "))
    } else {
        first.to_string()
    };
    let tip = lines.iter().find_map(|l| l.strip_prefix("tip:")).map(|t| format!("; {}", t.trim())).unwrap_or_default();
    // What the flag takes, since the value given is not quoted back.
    let possible =
        lines.iter().find(|l| l.starts_with("[possible values:")).map(|l| format!(" {l}")).unwrap_or_default();
    // "Usage: gatecheck verify [OPTIONS]" names the subcommand whose help to read.
    let command = lines
        .iter()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|usage| {
            usage.split_whitespace().take_while(|w| !w.starts_with(['[', '<', '-'])).collect::<Vec<_>>().join(" ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "gatecheck".to_string());
    format!("{what}{possible}{tip} (see {command} --help)")
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    #[test]
    fn argument_errors_are_one_line_naming_the_flag_and_where_help_is() {
        for args in [
            &["gatecheck", "check", "--watch", "abc"][..],
            &["gatecheck", "verify", "--nope"],
            &["gatecheck", "frob"],
            &["gatecheck", "verify", "--report", "xml=a"],
        ] {
            let error = super::Cli::try_parse_from(args).unwrap_err();
            let line = super::one_line_error(&error.render().to_string());
            assert!(!line.contains('\n') && line.contains("--help"), "{line}");
            assert!(line.contains(args.last().unwrap().split('=').next().unwrap()), "{line}");
        }
        let error = super::Cli::try_parse_from(["gatecheck", "verify", "--nope"]).unwrap_err();
        assert!(super::one_line_error(&error.render().to_string()).ends_with("(see gatecheck verify --help)"));
        // A missing required flag is named (clap lists it on the line after the message).
        let error = super::Cli::try_parse_from(["gatecheck", "smoke", "--remote-write-interval", "2s"]).unwrap_err();
        let line = super::one_line_error(&error.render().to_string());
        assert!(line.contains("not provided: --remote-write <URL>") && !line.contains('\n'), "{line}");
    }

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
