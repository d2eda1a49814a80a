//! The judgement: policy files, threshold expressions, and the pure evaluator.
//!
//! `load` validates a TOML policy into `Policy` (every error names the file, the gate id
//! and the offending value); `evaluate` holds the evidence against it and returns a
//! `Verdict` without doing any I/O.

pub mod distribution;
pub mod evaluate;
pub mod evidence;
mod file;
pub use file::json_schema;
pub mod freshness;
mod gate;
pub mod integrity;
pub mod quantile_query;
pub mod query_answer;
pub mod query_window;
pub mod reserved;
pub mod template;
pub mod threshold;
pub mod vars;
pub mod verdict;
pub mod waiver;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Error;
use crate::metrics::{MetricKey, MetricKind};
use threshold::{Dimension, Domain, Stat, Threshold};

/// The release policy shipped with gatecheck, used when no policy file is given or found.
pub const BUILTIN_RELEASE: &str = include_str!("../../gates/release.toml");
pub const BUILTIN_RELEASE_NAME: &str = "gates/release.toml (built in)";
/// The on-call saturation policy shipped with gatecheck.
pub const BUILTIN_SATURATION: &str = include_str!("../../gates/saturation.toml");
pub const BUILTIN_SATURATION_NAME: &str = "gates/saturation.toml (built in)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// A breach blocks the release.
    Block,
    /// A breach is reported but does not block.
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// No data blocks the release (fail closed).
    Fail,
    /// No data is reported as a warning.
    Warn,
    /// No data is reported as skipped.
    Skip,
}

/// How several series of one query become one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reducer {
    Max,
    Min,
    Sum,
    Avg,
}

impl Reducer {
    pub fn name(self) -> &'static str {
        match self {
            Reducer::Max => "max",
            Reducer::Min => "min",
            Reducer::Sum => "sum",
            Reducer::Avg => "avg",
        }
    }

    pub fn apply(self, values: &[f64]) -> f64 {
        match self {
            Reducer::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Reducer::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Reducer::Sum => values.iter().sum(),
            Reducer::Avg => values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// Which statistics a query answers: all of the gate's, or one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueryStat {
    Every,
    Only(Stat),
}

/// The unit env and query figures are written in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FigureUnit {
    Seconds,
    Millis,
    Ratio,
    Number,
}

impl FigureUnit {
    pub fn dimension(self) -> Dimension {
        match self {
            FigureUnit::Seconds => Dimension::Duration { bare_millis: 1000.0 },
            FigureUnit::Millis => Dimension::Duration { bare_millis: 1.0 },
            FigureUnit::Ratio => Dimension::Ratio,
            FigureUnit::Number => Dimension::Plain,
        }
    }

    /// The values a figure in this unit can have: durations are never negative, ratios lie in
    /// 0..1; a plain number may be anything.
    pub fn domain(self) -> Domain {
        match self {
            FigureUnit::Seconds | FigureUnit::Millis => Domain::NON_NEGATIVE,
            FigureUnit::Ratio => Domain::UNIT_INTERVAL,
            FigureUnit::Number => Domain::ANY,
        }
    }

    /// Exact factor that brings a figure in this unit to the canonical scale (ms for durations).
    pub fn to_canonical(self) -> rust_decimal::Decimal {
        match self {
            FigureUnit::Seconds => rust_decimal::Decimal::ONE_THOUSAND,
            _ => rust_decimal::Decimal::ONE,
        }
    }

    /// A figure written in this unit, as a reading the comparison brings to scale exactly.
    pub fn reading(self, value: f64) -> crate::metrics::figure::Reading {
        crate::metrics::figure::Reading::scaled(value, self.to_canonical())
    }

    pub fn name(self) -> &'static str {
        match self {
            FigureUnit::Seconds => "seconds",
            FigureUnit::Millis => "milliseconds",
            FigureUnit::Ratio => "a ratio",
            FigureUnit::Number => "a number",
        }
    }
}

/// How long a waiver may run: a number of days, or no limit — which a policy must say in
/// words (`max_waiver_days = "unlimited"`), never by leaving the key out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverCap {
    Days(u32),
    Unlimited,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    pub switch_env: Option<String>,
    pub enabled: bool,
    pub description: Option<String>,
}

/// A freshness requirement: the newest sample of `selector` is younger than `max_age` at the
/// evaluation time (and, with `up_for`, the selector was 1 over that whole window).
#[derive(Debug, Clone)]
pub struct Freshness {
    pub id: String,
    pub description: String,
    pub selector: String,
    pub max_age: std::time::Duration,
    /// The window text (PromQL duration) the target must have been up for.
    pub up_for: Option<String>,
    pub search: String,
}

impl Freshness {
    /// The newest sample's time, within Prometheus's lookback (exact).
    pub fn newest_query(&self) -> String {
        format!("max(timestamp({}))", self.selector)
    }

    /// The newest sample's time when it is older than the lookback (to the subquery's step).
    pub fn search_query(&self) -> String {
        format!("max(max_over_time(timestamp({})[{}:]))", self.selector, self.search)
    }

    pub fn up_query(&self) -> Option<String> {
        self.up_for.as_ref().map(|window| format!("min(min_over_time({}[{window}]))", self.selector))
    }

    /// With `up_for`, the holes in the window (finding judgement2/07: `min_over_time` sees only
    /// the samples there are, so a pod gone for 5 of 10 minutes read "up"): stepping through
    /// the window every `GAP_STEP`, the longest a hole may have been, and at how many steps
    /// there was a sample at all (none beyond the lookback). Over the union of series, so a
    /// rolling replacement is no hole.
    ///
    /// A hole is measured as long as it may be, never as the step grid happens to show it
    /// (finding round27-judge/02: the age a step sees is up to a step short of the hole, so a
    /// 134 s hole read 120 s): at each step, how far the newest sample moved since the step
    /// before (`n(t) - n(t - step)`), which is at least any hole that closed between them; and
    /// the same at the evaluation time itself, for a hole that closed after the grid's last
    /// step. A hole still open at the evaluation time is the freshness row's age.
    pub fn gap_queries(&self) -> Option<(String, String)> {
        let window = self.up_for.as_ref()?;
        let newest = format!("max(timestamp({}))", self.selector);
        let moved = format!("{newest} - max(timestamp({} offset {GAP_STEP}))", self.selector);
        Some((
            format!("max_over_time(({moved})[{window}:{GAP_STEP}]) > ({moved}) or ({moved})"),
            format!("count_over_time(({newest})[{window}:{GAP_STEP}])"),
        ))
    }

    pub fn queries(&self) -> Vec<String> {
        let mut queries = vec![self.newest_query(), self.search_query()];
        queries.extend(self.up_query());
        if let Some((age, steps)) = self.gap_queries() {
            queries.extend([age, steps]);
        }
        queries.extend(self.gap_grid_query());
        queries
    }

    /// With `up_for`, the steps its hole queries' grid holds (`grid_query`): the count of steps
    /// with a sample is out of these.
    pub fn gap_grid_query(&self) -> Option<String> {
        Some(grid_query(self.up_for.as_ref()?, GAP_STEP, ""))
    }
}

/// How many steps a subquery `[window:step]` holds at the evaluation time, asked of the server
/// that evaluates it, never computed here: the grid is aligned to multiples of the step, and
/// Prometheus 2.x closes the range at both ends (41 steps of 15 s in 10m at a time on the
/// grid) where 3.x opens its start (40). A count of the subquery's steps is read against this
/// number, so no step the grid holds is lost (finding round27-judge/03: a count of 41 clamped
/// to 40 hid an uncovered step). `offset` (` offset 5m`, or empty) moves the grid back as it
/// moves the subquery it counts for.
pub fn grid_query(window: &str, step: &str, offset: &str) -> String {
    format!("count_over_time(vector(1)[{window}:{step}]{offset})")
}

/// The step at which `up_for` looks for holes in its window.
pub const GAP_STEP: &str = "15s";
pub const GAP_STEP_SECS: u64 = 15;

/// The share of its window a gate's series must cover for the window's figure to count.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub selector: String,
    pub window_text: String,
    pub window: std::time::Duration,
    pub interval: std::time::Duration,
    /// The minimum share, 0..=1, exactly as written.
    pub min: rust_decimal::Decimal,
    pub min_text: String,
    /// Where coverage is measured, each a stretch before the evaluation time: the declared
    /// window, then every other stretch a selector of the gate's queries reads
    /// (`query_window::selector_reads`: its range, offset and subqueries; an instant
    /// selector's lookback). The window coverage
    /// vouches for is the one the figure is of (finding round35-judge/01: `[10m] offset 5m`
    /// and `[1h]` were measured over the last 10 and 5 minutes, and half or five sixths of the
    /// stretch read could be empty at "coverage 100%"). Every one must be covered.
    pub spans: Vec<query_window::Read>,
}

impl Coverage {
    /// How many steps a declared interval is cut into: the time covered is measured to a
    /// quarter of the interval.
    const STEPS_PER_INTERVAL: u32 = 4;

    /// The step at which the window is walked.
    pub fn step(&self) -> std::time::Duration {
        (self.interval / Self::STEPS_PER_INTERVAL).max(std::time::Duration::from_millis(1))
    }

    /// The declared window as a stretch before the evaluation time.
    pub fn declared(&self) -> query_window::Read {
        query_window::Read { near: std::time::Duration::ZERO, far: self.window }
    }

    /// One span as a subquery's range and offset: `10m`, `10m] offset 5m` reads as
    /// `[10m:step] offset 5m`. The declared window keeps its text as written.
    fn span_range(&self, span: query_window::Read) -> (String, String) {
        let range =
            if span == self.declared() { self.window_text.clone() } else { promql_duration(span.far - span.near) };
        let offset =
            if span.near.is_zero() { String::new() } else { format!(" offset {}", promql_duration(span.near)) };
        (range, offset)
    }

    /// How a span is named in a row: "10m window", "10m window 5m before the evaluation time
    /// (read by the query)".
    pub fn span_text(&self, span: query_window::Read) -> String {
        let shown = |duration: std::time::Duration| humantime::format_duration(duration).to_string();
        match (span == self.declared(), span.near.is_zero()) {
            (true, _) => format!("{} window", self.window_text),
            (false, true) => format!("{} window the query reads", shown(span.far - span.near)),
            (false, false) => format!(
                "{} window the query reads, ending {} before the evaluation time",
                shown(span.far - span.near),
                shown(span.near)
            ),
        }
    }

    /// The steps the span's subquery holds at the evaluation time, as the server counts them
    /// (`grid_query`, with the span's offset): the denominator of its coverage.
    pub fn grid_query_over(&self, span: query_window::Read) -> String {
        let (range, offset) = self.span_range(span);
        grid_query(&range, &promql_duration(self.step()), &offset)
    }

    /// Every coverage count and the steps it is out of, span by span.
    pub fn queries(&self) -> Vec<String> {
        self.spans.iter().flat_map(|span| [self.query_over(*span), self.grid_query_over(*span)]).collect()
    }

    /// The time covered, not the samples counted (finding judge5/01: 11 scrapes 15 s apart in
    /// the last 2.5 minutes of a 10 m window declared "every 1m" read 100 %): walking the
    /// window in steps, those with a sample of the series in the declared interval before them
    /// (plus one step of slack for scrape jitter). Each sample so covers about one interval of
    /// the window however many there are, and the range looks back that far only, never
    /// Prometheus's 5 minute lookback. The fewest steps any series of the selector covers.
    ///
    /// Only a sample that carries a number covers (finding round29-judge/02: 3 figures and 38
    /// NaN samples, what an exporter writes when nothing is measured, read "100%" where
    /// `max_over_time` judged the 3): `max_over_time` is NaN only where every sample in its
    /// range is NaN, and `>= -Inf` holds for every number (±Inf included) and never for NaN, so
    /// a step whose range holds NaN samples alone is no covered step.
    pub fn query_over(&self, span: query_window::Read) -> String {
        let (range, offset) = self.span_range(span);
        format!(
            "min(count_over_time((max_over_time({}[{}]) >= -Inf)[{range}:{}]{offset}))",
            self.selector,
            promql_duration(self.interval + self.step()),
            promql_duration(self.step())
        )
    }
}

/// A duration as PromQL writes it: whole seconds as `75s`, anything finer in milliseconds.
fn promql_duration(duration: std::time::Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis().max(1))
    }
}

#[derive(Debug, Clone)]
pub struct Gate {
    pub id: String,
    pub description: String,
    pub metric: Option<(MetricKey, MetricKind)>,
    /// (statistic, variable) pairs; an env figure that is set wins over every other source.
    pub env: Vec<(Stat, String)>,
    /// (statistic, PromQL with variables substituted); a query wins over the k6 metric.
    pub queries: Vec<(QueryStat, String)>,
    pub reduce: Option<Reducer>,
    /// Histogram name on the load target's /metrics (run-window figures).
    pub scrape: Option<String>,
    pub figure_unit: FigureUnit,
    pub flow: Option<String>,
    pub thresholds: Vec<Threshold>,
    /// The values each threshold's figure can take, in the order of `thresholds`.
    pub domains: Vec<Domain>,
    pub severity: Severity,
    pub on_missing: OnMissing,
    /// A change against the baseline within this many units never breaches (`value < 20ms`).
    pub noise_floor: Option<Threshold>,
    /// History gate: the last N runs (this one included) all passed.
    pub consecutive_passes: Option<u32>,
    /// History gate: recorded runs that passed only by a waiver count (`count_waived = true`).
    pub count_waived: bool,
    /// Query gates: the window coverage the figure needs.
    pub coverage: Option<Coverage>,
    /// A waiver may cover a breach of this gate (`waivable`, default true).
    pub waivable: bool,
    /// A waiver may cover NO DATA too (`waive_no_data`, default false).
    pub waive_no_data: bool,
    /// `histogram = "classic"` / `"native"`: what its histogram_quantile queries read, when the
    /// query text does not show it. None: the text shows it (`_bucket`, `le`) or there is none.
    pub histogram: Option<HistogramKind>,
}

/// What a `histogram_quantile` reads: classic `le` buckets or native histograms; either is
/// judged together with its buckets (`quantile_query`): a native histogram with custom buckets
/// has a `+Inf` bucket too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistogramKind {
    Classic,
    Native,
}

impl Gate {
    /// The bucket query to judge `query` with (`quantile_query`), when it is a quantile of a
    /// histogram: classic, shown by its text or declared with `histogram = "classic"`; or
    /// native, declared with `histogram = "native"` (its companion answers histogram samples).
    pub fn quantile_companion(&self, query: &str) -> Option<quantile_query::QuantileQuery> {
        match self.histogram {
            Some(HistogramKind::Native) => quantile_query::native_companion(query),
            Some(HistogramKind::Classic) => quantile_query::parse(query),
            None => quantile_query::companion(query),
        }
    }
}

/// Where a gate's figure for one statistic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureSource<'a> {
    /// An environment variable that is set.
    Env(&'a str),
    /// The load target's histogram over the run window (a native run scraped it).
    Scrape(&'a str),
    /// A PromQL query.
    Query(&'a str),
    /// The k6 metric (summary or raw results).
    Metric,
    /// None applies: the gate's env variable is unset and it has nothing else.
    Unset(&'a str),
}

impl Gate {
    /// The one rule of source precedence: an env figure that is set > the run window scraped
    /// from the load target (when the run scraped it) > the PromQL query > the k6 metric.
    /// `env_is_set` says whether a variable holds a figure; `scraped` whether the run scraped.
    /// An env figure picked beside a figure the evidence measured itself (the scraped window, the
    /// k6 metric) is refused by `evaluate::env_figure_alone`: the same figure twice.
    pub fn source_for(&self, stat: Stat, env_is_set: &dyn Fn(&str) -> bool, scraped: bool) -> FigureSource<'_> {
        let env_var = self.env_var_for(stat);
        if let Some(var) = env_var.filter(|var| env_is_set(var)) {
            return FigureSource::Env(var);
        }
        if let (Some(name), true) = (&self.scrape, scraped) {
            return FigureSource::Scrape(name);
        }
        if let Some(query) = self.query_for(stat) {
            return FigureSource::Query(query);
        }
        match (env_var, &self.metric) {
            (Some(var), None) => FigureSource::Unset(var),
            _ => FigureSource::Metric,
        }
    }

    pub fn env_var_for(&self, stat: Stat) -> Option<&str> {
        self.env.iter().find(|(s, _)| *s == stat).map(|(_, var)| var.as_str())
    }

    /// The query giving `stat`: one written for that statistic, else the gate's single query.
    pub fn query_for(&self, stat: Stat) -> Option<&str> {
        let specific = self.queries.iter().find(|(s, _)| *s == QueryStat::Only(stat));
        specific.or_else(|| self.queries.iter().find(|(s, _)| *s == QueryStat::Every)).map(|(_, query)| query.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub description: Option<String>,
    /// Where the policy was read from, for reports.
    pub source: String,
    pub flows: Vec<Flow>,
    pub enforce_k6_thresholds: bool,
    pub k6_threshold_severity: Severity,
    /// What a partial load run (request cap, interrupt, deadline) does to the verdict.
    pub partial_run_severity: Severity,
    pub gates: Vec<Gate>,
    pub freshness: Vec<Freshness>,
    /// `[policy] max_waiver_days`: a longer waiver is a policy error; without one in force
    /// (and not "unlimited" explicitly) every waiver is.
    pub max_waiver_days: Option<WaiverCap>,
    /// Every variable's value in effect (`vars::Vars::in_effect`): the settings history
    /// compares, besides the text.
    pub vars_in_effect: BTreeMap<String, String>,
}

impl Policy {
    /// The one rule of who may switch a gate off: only a flow the policy itself declares
    /// optional (`[flows.NAME]` with a `switch_env`, or `enabled = false`). Its switch,
    /// `--skip-flow` or a run that recorded the flow skipped may then make its gates SKIPPED;
    /// any other flow is judged whatever the evidence says (without samples it is NO DATA), so
    /// a scenario, a summary or a flag cannot waive a gate the policy requires.
    pub fn optional_flow(&self, name: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.name == name && (f.switch_env.is_some() || !f.enabled))
    }

    /// The k6 metric selectors the gates read (what raw results and baselines must keep).
    pub fn metric_keys(&self) -> Vec<MetricKey> {
        self.gates.iter().filter_map(|g| g.metric.as_ref().map(|(k, _)| k.clone())).collect()
    }

    /// True when a gate asks for recorded history (`consecutive_passes`).
    pub fn needs_history(&self) -> bool {
        self.gates.iter().any(|g| g.consecutive_passes.is_some())
    }

    /// True when some gate reads a k6 metric, so a summary is needed.
    pub fn needs_k6_summary(&self) -> bool {
        self.gates.iter().any(|g| g.metric.is_some())
    }

    /// The queries a judgement must send, with the first gate that needs each: only where no
    /// higher-ranked source gives the figure (a set env variable, a run-window scrape); with
    /// each a histogram quantile's bucket companion (its +Inf bucket bounds it) and its `_count`
    /// (the +Inf bucket must equal it) and a gate's
    /// window-coverage query; and, when any query is sent, every freshness requirement's
    /// queries, since query evidence has an age. Gates of a flow switched off are asked too:
    /// an answer with series shows the flow ran, and overrules the switch.
    pub fn queries_needed(&self, env_is_set: &dyn Fn(&str) -> bool, scraped: bool) -> Vec<(String, String)> {
        let mut needed: Vec<(String, String)> = Vec::new();
        let add = |needed: &mut Vec<(String, String)>, id: &str, query: String| {
            if !needed.iter().any(|(_, q)| *q == query) {
                needed.push((id.to_string(), query));
            }
        };
        for gate in &self.gates {
            for threshold in &gate.thresholds {
                let FigureSource::Query(query) = gate.source_for(threshold.stat, env_is_set, scraped) else {
                    continue;
                };
                add(&mut needed, &gate.id, query.to_string());
                if let Some(quantile) = gate.quantile_companion(query) {
                    add(&mut needed, &gate.id, quantile.buckets);
                    if let Some(count) = quantile.count {
                        add(&mut needed, &gate.id, count);
                    }
                }
                if let Some(coverage) = &gate.coverage {
                    for query in coverage.queries() {
                        add(&mut needed, &gate.id, query);
                    }
                }
            }
        }
        if !needed.is_empty() {
            for freshness in &self.freshness {
                for query in freshness.queries() {
                    add(&mut needed, &freshness.id, query);
                }
            }
        }
        needed
    }

    /// How far before the evaluation instant the gates' queries read (their companions and
    /// coverage queries included): the window a verdict on them judges. Freshness queries are
    /// left out: they look back only to date the newest sample, and the record of a run is
    /// what its gates judged (finding round29-judge/01).
    pub fn gate_queries_reach(&self) -> std::time::Duration {
        let is_freshness = |id: &str| self.freshness.iter().any(|freshness| freshness.id == id);
        self.queries()
            .iter()
            .filter(|(id, _)| !is_freshness(id))
            .filter_map(|(_, query)| query_window::reads_back(query))
            .max()
            .unwrap_or(query_window::LOOKBACK)
    }

    /// The queries whose answers are native histogram samples: the companions of native
    /// quantiles. Only these are read as histograms; any other query answering them is refused.
    pub fn histogram_queries(&self) -> BTreeSet<String> {
        let companions = self.gates.iter().flat_map(|gate| {
            gate.queries.iter().filter_map(|(_, query)| gate.quantile_companion(query)).filter(|q| q.native)
        });
        companions.map(|quantile| quantile.buckets).collect()
    }

    /// Every distinct PromQL query with the first gate that uses it (for error messages),
    /// freshness and coverage queries included.
    pub fn queries(&self) -> Vec<(String, String)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut add = |id: &str, query: String| {
            if seen.insert(query.clone()) {
                out.push((id.to_string(), query));
            }
        };
        for gate in &self.gates {
            for (_, query) in &gate.queries {
                add(&gate.id, query.clone());
                if let Some(quantile) = gate.quantile_companion(query) {
                    add(&gate.id, quantile.buckets);
                    if let Some(count) = quantile.count {
                        add(&gate.id, count);
                    }
                }
            }
            if let Some(coverage) = &gate.coverage {
                for query in coverage.queries() {
                    add(&gate.id, query);
                }
            }
        }
        for freshness in &self.freshness {
            for query in freshness.queries() {
                add(&freshness.id, query);
            }
        }
        out
    }
}

/// Reads a policy file; a missing file is an error (exit 2), never an empty policy.
pub fn load_file(path: &Path) -> Result<Policy, Error> {
    load_file_with_vars(path, &[])
}

/// As `load_file`, with `--var NAME=VALUE` overrides of the policy's `[vars]`.
pub fn load_file_with_vars(path: &Path, overrides: &[(String, String)]) -> Result<Policy, Error> {
    let shown = path.display().to_string();
    let text = crate::input::read_to_string(path, "policy")?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("policy");
    parse_with_vars(&shown, stem, &text, overrides)
}

pub fn builtin_release() -> Result<Policy, Error> {
    parse(BUILTIN_RELEASE_NAME, "release", BUILTIN_RELEASE)
}

pub fn builtin_saturation() -> Result<Policy, Error> {
    parse(BUILTIN_SATURATION_NAME, "saturation", BUILTIN_SATURATION)
}

pub fn parse(source: &str, default_name: &str, text: &str) -> Result<Policy, Error> {
    parse_with_vars(source, default_name, text, &[])
}

pub fn parse_with_vars(
    source: &str,
    default_name: &str,
    text: &str,
    overrides: &[(String, String)],
) -> Result<Policy, Error> {
    let policy = parse_with_vars_before_query_rules(source, default_name, text, overrides)?;
    for (id, query) in policy.queries() {
        if let Some(why) = query_refusal(&policy, &id, &query) {
            return Err(Error::Policy { path: source.to_string(), message: why });
        }
    }
    Ok(policy)
}

/// The policy as `parse_with_vars` reads it, before the rules of its queries' text
/// (`query_refusal`): for `lint`, which reports a query the grammar refuses on its own line
/// (with the `--var` set that made it) and applies `query_refusal` to the others. Every other
/// reader goes through `parse_with_vars`.
pub fn parse_with_vars_before_query_rules(
    source: &str,
    default_name: &str,
    text: &str,
    overrides: &[(String, String)],
) -> Result<Policy, Error> {
    let fail = |message: String| Error::Policy { path: source.to_string(), message };
    let raw: file::PolicyFile = toml::from_str(text).map_err(|e| fail(crate::input::one_line_toml_error(text, &e)))?;
    let vars = vars::Vars::resolve(&raw.vars, &raw.choice, overrides).map_err(|why| match why {
        vars::VarsError::Override(message) => Error::Settings(format!("{message} (policy {source})")),
        vars::VarsError::Policy(message) => fail(message),
    })?;

    let mut flows = Vec::new();
    for (name, flow) in raw.flows {
        if let Some(var) = &flow.switch_env {
            check_env_name(var).map_err(|why| fail(format!("flows.{name}.switch_env = {var:?}: {why}")))?;
        }
        flows.push(Flow { name, switch_env: flow.switch_env, enabled: flow.enabled, description: flow.description });
    }

    let mut seen = BTreeSet::new();
    let mut gates = Vec::new();
    // An id or a name quoting a credential is refused before anything quotes it: masked, two
    // such ids could read the same, and a name becomes a history record's file name. With none
    // quoting one, ids that differ stay different once masked.
    for gate in raw.gates {
        crate::secret::name_quotes_no_credential("gate", &gate.id).map_err(&fail)?;
        if !seen.insert(gate.id.clone()) {
            return Err(fail(format!("gate {:?}: id is used by more than one gate", gate.id)));
        }
        reserved::check_policy_id(&gate.id).map_err(|why| fail(format!("gate {:?}: {why}", gate.id)))?;
        gates.push(gate::parse_gate(gate, &vars, &fail)?);
    }
    one_figure_per_variable(&gates).map_err(&fail)?;
    let mut freshness = Vec::new();
    for spec in raw.freshness {
        crate::secret::name_quotes_no_credential("freshness", &spec.id).map_err(&fail)?;
        if !seen.insert(spec.id.clone()) {
            return Err(fail(format!("freshness {:?}: id is used by another gate or freshness entry", spec.id)));
        }
        reserved::check_policy_id(&spec.id).map_err(|why| fail(format!("freshness {:?}: {why}", spec.id)))?;
        freshness.push(parse_freshness(spec, &vars, &fail)?);
    }
    if gates.is_empty() {
        return Err(fail("defines no [[gate]]: a policy must check something".into()));
    }
    let k6_threshold_severity =
        parse_severity(raw.k6_thresholds.severity.as_deref()).map_err(|why| fail(format!("k6_thresholds: {why}")))?;
    let partial_run_severity = parse_severity(raw.integrity.partial_run.as_deref())
        .map_err(|why| fail(format!("integrity.partial_run: {why}")))?;
    let max_waiver_days = match &raw.policy.max_waiver_days {
        None => None,
        // At most 366 days, as every duration gatecheck reads: a longer cap is a waiver without
        // end in disguise; "unlimited" says so in words (finding judgement3/04).
        Some(toml::Value::Integer(days)) if (1..=366).contains(days) => Some(WaiverCap::Days(*days as u32)),
        Some(toml::Value::String(word)) if word == "unlimited" => Some(WaiverCap::Unlimited),
        Some(other) => {
            return Err(fail(format!(
                "policy.max_waiver_days = {other}: expected a number of days from 1 to 366, or \"unlimited\""
            )))
        }
    };
    let name = raw.policy.name.unwrap_or_else(|| default_name.to_string());
    crate::secret::name_quotes_no_credential("policy.name", &name).map_err(&fail)?;
    check_policy_name(&name).map_err(|why| fail(format!("policy.name = {name:?}: {why}")))?;
    let policy = Policy {
        name,
        description: raw.policy.description,
        source: source.to_string(),
        flows,
        enforce_k6_thresholds: raw.k6_thresholds.enforce,
        k6_threshold_severity,
        partial_run_severity,
        gates,
        freshness,
        max_waiver_days,
        vars_in_effect: vars.in_effect(),
    };
    Ok(policy)
}

/// Why a policy holding `query` (gate or freshness `id`) must not load, or None: the one home of
/// the rules of a query's text, read by every command (`parse_with_vars`) and by `lint`.
/// - A query is embedded in exported rules' expressions: a comment, which runs to the end of the
///   one-line query, swallowed the rest of them and Prometheus refused the rule file
///   (`query_window::comment_start`).
/// - A query is code sent to Prometheus and written into exported rules: one holding a hidden
///   character (a bidi override, a zero-width space) reads other than it runs (finding
///   round28-text/04: U+202E written raw into the rule file's `expr`).
/// - Every rule of a query's windows (a dated run's `--at`, coverage over what it reads,
///   history's reach) is read from its syntax tree: a query the grammar cannot read escaped them
///   all (finding round36-judge/01: `holt_winters` read as reading the lookback alone).
/// - Every duration in a query is read as Prometheus reads it (finding round37-judge/01:
///   `offset 1s4294967296ms` was 1 s to the grammar and 49.7 days to Prometheus).
/// - The window a query's figure is of is the stretch before its evaluation time; one reading
///   after it or at a fixed instant judges some other time than the run (finding
///   round30-judge/01).
pub fn query_refusal(policy: &Policy, id: &str, query: &str) -> Option<String> {
    let kind = if policy.freshness.iter().any(|freshness| freshness.id == id) { "freshness" } else { "gate" };
    if let Some(c) = query.chars().find(|c| crate::escape::hidden(*c)) {
        return Some(format!(
            "{kind} {id:?}: a query holds the hidden character U+{:04X} (a control, bidi or invisible character): \
             a query is code, read by people as it runs; remove it",
            u32::from(c)
        ));
    }
    if query_window::comment_start(query).is_some() {
        return Some(format!(
            "{kind} {id:?}: query {:?} holds a comment (`#` outside a string): exported rules embed the query in a \
             larger expression, where the comment would swallow the rest of it; remove the comment",
            crate::escape::line(query)
        ));
    }
    if let Some(why) = query_window::misread_duration(query) {
        return Some(format!(
            "{kind} {id:?}: query {:?}: {}, so no rule of its windows (coverage, --at, history) could hold",
            crate::escape::line(query),
            crate::escape::line(&why)
        ));
    }
    if let Err(error) = query_window::grammar(query) {
        return Some(format!(
            "{kind} {id:?}: query {:?}: gatecheck cannot tell which stretch it reads, since Prometheus's grammar \
             refuses it ({}), so no rule of its windows (coverage, --at, history) could hold; write it in \
             Prometheus's grammar",
            crate::escape::line(query),
            crate::escape::line(error.replace('\n', " ").trim())
        ));
    }
    query_window::unanchored(query).map(|why| {
        format!(
            "{kind} {id:?}: query {:?}: {why}; a query is judged on the stretch before its evaluation time: \
             remove it, and give --at to judge another time",
            crate::escape::line(query)
        )
    })
}

/// One env variable names one figure (finding round25-figures/04: SCHEDULER_LAG_P95_SECONDS=50
/// was 50 s to a gate in seconds and 50 ms to one in milliseconds, and the 1 s gate passed a
/// 50 s lag): a variable read by several gates, or for several statistics, must be the same
/// statistic in the same unit everywhere.
fn one_figure_per_variable(gates: &[Gate]) -> Result<(), String> {
    let mut named: BTreeMap<&str, (&Gate, Stat)> = BTreeMap::new();
    for gate in gates {
        for (stat, var) in &gate.env {
            let Some((first, first_stat)) = named.get(var.as_str()).copied() else {
                named.insert(var, (gate, *stat));
                continue;
            };
            if first_stat != *stat || first.figure_unit != gate.figure_unit {
                return Err(format!(
                    "env variable {var} is read as {first_stat} in {} by gate {:?} and as {stat} in {} by gate {:?}: \
                     one variable names one figure (one statistic, one unit); give each figure its own variable",
                    first.figure_unit.name(),
                    first.id,
                    gate.figure_unit.name(),
                    gate.id
                ));
            }
        }
    }
    Ok(())
}

/// A duration as policies write it ("2m", "10m", "24h", "15s"); zero is refused.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration =
        crate::metrics::clock::parse_duration(text).map_err(|e| format!("{e} (expected e.g. 2m, 15s, 24h)"))?;
    if duration.is_zero() {
        return Err("expected a duration above 0".into());
    }
    Ok(duration)
}

/// One `[[gate]]` as written into a checked gate; every error names the gate.
/// `min_coverage` with `[gate.coverage]`: the share of its window a query gate's series must
/// cover.
fn parse_coverage(
    gate: &file::GateFile,
    queries: &[String],
    vars: &vars::Vars,
    flow: Option<&str>,
    gate_fail: &dyn Fn(String) -> Error,
) -> Result<Option<Coverage>, Error> {
    Ok(match (&gate.coverage, &gate.min_coverage) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(gate_fail("min_coverage and [gate.coverage] (selector, window, interval) go together".into()))
        }
        (Some(_), Some(_)) if queries.is_empty() => {
            return Err(gate_fail("coverage applies to query gates, but the gate has no query".into()))
        }
        (Some(spec), Some(min_text)) => {
            let min = match threshold::parse_limit(min_text) {
                Ok((value, threshold::Unit::Percent)) => value / rust_decimal::Decimal::ONE_HUNDRED,
                Ok((value, threshold::Unit::Bare)) => value,
                _ => return Err(gate_fail(format!("min_coverage = {min_text:?}: expected a share, e.g. \"90%\""))),
            };
            if !(min > rust_decimal::Decimal::ZERO && min <= rust_decimal::Decimal::ONE) {
                return Err(gate_fail(format!("min_coverage = {min_text:?}: expected more than 0% and at most 100%")));
            }
            let window_text = vars
                .expand_duration(&spec.window, flow)
                .map_err(|why| gate_fail(format!("coverage.window = {:?}: {why}", spec.window)))?;
            let window = parse_duration(&window_text)
                .map_err(|why| gate_fail(format!("coverage.window = {window_text:?}: {why}")))?;
            let interval = parse_duration(&spec.interval)
                .map_err(|why| gate_fail(format!("coverage.interval = {:?}: {why}", spec.interval)))?;
            let selector = vars
                .expand(&spec.selector, flow)
                .map_err(|why| gate_fail(format!("coverage.selector = {:?}: {why}", spec.selector)))?;
            let mut coverage = Coverage {
                selector,
                window_text,
                window,
                interval,
                min,
                min_text: min_text.clone(),
                spans: Vec::new(),
            };
            coverage.spans.push(coverage.declared());
            for read in queries.iter().filter_map(|query| query_window::selector_reads(query)?.ok()).flatten() {
                if !coverage.spans.contains(&read) {
                    coverage.spans.push(read);
                }
            }
            Some(coverage)
        }
    })
}

/// One `[[freshness]]` as written into a checked requirement.
fn parse_freshness(
    spec: file::FreshnessFile,
    vars: &vars::Vars,
    fail: &dyn Fn(String) -> Error,
) -> Result<Freshness, Error> {
    let id = spec.id.clone();
    let fresh_fail = |message: String| fail(format!("freshness {id:?}: {message}"));
    check_id(&id).map_err(&fresh_fail)?;
    let selector = vars.expand(&spec.selector, None).map_err(|why| fresh_fail(format!("selector: {why}")))?;
    if selector.trim().is_empty() {
        return Err(fresh_fail("selector is empty".into()));
    }
    let max_age =
        parse_duration(&spec.max_age).map_err(|why| fresh_fail(format!("max_age = {:?}: {why}", spec.max_age)))?;
    let up_for = spec
        .up_for
        .as_ref()
        .map(|w| {
            let window = vars.expand_duration(w, None).map_err(|why| fresh_fail(format!("up_for: {why}")))?;
            parse_duration(&window).map_err(|why| fresh_fail(format!("up_for = {window:?}: {why}")))?;
            Ok(window)
        })
        .transpose()?;
    let search = spec.search.clone().unwrap_or_else(|| "24h".into());
    parse_duration(&search).map_err(|why| fresh_fail(format!("search = {search:?}: {why}")))?;
    Ok(Freshness {
        description: spec
            .description
            .clone()
            .unwrap_or_else(|| format!("the newest sample of {selector} is younger than {}", spec.max_age)),
        id,
        selector,
        max_age,
        up_for,
        search,
    })
}

/// Gate and freshness ids appear in every report and in waivers: plain names.
fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
        return Err("id must be non-empty letters, digits, '-', '_' or '.'".into());
    }
    Ok(())
}

/// A policy name becomes part of history file names and reports: never a path.
fn check_policy_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if valid {
        Ok(())
    } else {
        Err("expected letters, digits, '-', '_' or '.' (not starting with '.'; it names history records)".into())
    }
}

fn parse_severity(text: Option<&str>) -> Result<Severity, String> {
    match text {
        None | Some("block") => Ok(Severity::Block),
        Some("warn") => Ok(Severity::Warn),
        Some(other) => Err(format!("severity = {other:?}: expected block or warn")),
    }
}

fn check_env_name(name: &str) -> Result<(), String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err("not an environment variable name (letters, digits and _)".into())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    const CREDENTIAL: &str = "Qp7PolicyNameCredZ9y8x7";

    fn policy(name: &str, ids: &[&str]) -> String {
        let gates: String = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                format!(
                    "[[gate]]\nid = {id:?}\ndescription = \"d\"\nquery = 'up{{job=\"j{i}\"}}'\nunit = \"number\"\n\
                     thresholds = [\"value < 1\"]\n"
                )
            })
            .collect();
        format!("[policy]\nname = {name:?}\n{gates}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Findings round20-text/05 and round21-text/02 as a class: a policy name or a gate id
        /// quoting a credential the job holds, whole or any piece the scrubber masks, at any
        /// position, is refused at load with a message that does not quote it; so two ids that
        /// differ only where a credential stands (the same once masked) are refused too.
        #[test]
        fn a_name_or_id_quoting_a_credential_is_refused_at_load(
            before in "[a-z0-9_-]{0,6}",
            after in "[a-z0-9_.-]{0,6}",
            start in 0usize..16,
            length in 8usize..24,
            other_start in 0usize..16,
            as_name in any::<bool>(),
        ) {
            let _kept = crate::secret::Secret::new(CREDENTIAL);
            // Any run of at least 8 characters of it (the scrubber masks such pieces), or all of it.
            let piece = |start: usize| {
                let start = start % (CREDENTIAL.len() - 7);
                &CREDENTIAL[start..(start + length).min(CREDENTIAL.len())]
            };
            let quoting = format!("{before}{}{after}", piece(start));
            // A second id that reads the same once masked.
            let twin = format!("{before}{}{after}", piece(other_start));
            let text = if as_name {
                policy(&format!("p{quoting}"), &["plain"])
            } else {
                policy("p", &["plain", &quoting, &twin])
            };
            let refused = super::parse("p.toml", "p", &text).err().map(|e| e.to_string());
            prop_assert!(refused.as_ref().is_some_and(|why| why.contains("quotes a credential")), "{refused:?}");
            let why = refused.unwrap_or_default();
            // No run of 8 of its characters (other tests' credentials share the scrubber, so
            // `holds_credential` of the message would read theirs too).
            let quoted = (0..=CREDENTIAL.len() - 8).any(|at| why.contains(&CREDENTIAL[at..at + 8]));
            prop_assert!(!quoted && why.lines().count() == 1, "{}", why);
            // The same names with other text where the credential stood load: the credential is
            // what is refused.
            let (name, ids) = if as_name {
                (format!("p{before}x{after}"), vec!["plain".to_string()])
            } else {
                ("p".to_string(), vec!["plain".to_string(), format!("{before}x{after}"), format!("{before}y{after}")])
            };
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let loaded = super::parse("p.toml", "p", &policy(&name, &ids));
            prop_assert!(loaded.is_ok(), "{:?}", loaded.err().map(|e| e.to_string()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Findings round19-figures/02 to round24-figures/04 as a class, closed by design: a
        /// `[gate.env]` table beside a k6 metric is a policy error whatever the metric (built-in
        /// of every kind, or custom), its tags and the statistics, so no env figure is ever
        /// judged beside the run's evidence for that metric; the same gate without it loads, and
        /// env figures of a query gate still load.
        #[test]
        fn an_env_figure_for_a_k6_metric_is_refused_at_load(
            name in proptest::sample::select(vec![
                "http_req_duration", "iteration_duration", "http_req_waiting", "http_req_failed", "checks",
                "http_reqs", "iterations", "dropped_iterations", "data_sent", "vus", "my_custom_trend",
                "my_custom_rate", "my_custom_counter", "my_custom_gauge",
            ]),
            tags in proptest::collection::btree_map("[a-z]{1,6}", "[a-z0-9_]{1,8}", 0..3),
            which in 0usize..8,
        ) {
            let kind = match name {
                "my_custom_trend" => Some("trend"), "my_custom_rate" => Some("rate"),
                "my_custom_counter" => Some("counter"), "my_custom_gauge" => Some("gauge"), _ => None,
            };
            let kind_of = crate::metrics::MetricKind::of_builtin(name)
                .or_else(|| kind.and_then(crate::metrics::MetricKind::parse))
                .unwrap();
            let stats: &[&str] = match kind_of {
                crate::metrics::MetricKind::Trend => &["p(95)", "p(99)", "avg", "min", "med", "max", "count", "p(50)"],
                crate::metrics::MetricKind::Rate => &["rate"],
                crate::metrics::MetricKind::Counter => &["count", "rate"],
                crate::metrics::MetricKind::Gauge => &["value", "min", "max"],
            };
            let stat = stats[which % stats.len()];
            let selector = if tags.is_empty() {
                name.to_string()
            } else {
                let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{name}{{{}}}", pairs.join(","))
            };
            let kind_line = kind.map(|k| format!("kind = \"{k}\"\n")).unwrap_or_default();
            let gate = format!(
                "[policy]\nname = \"p\"\n[[gate]]\nid = \"g\"\ndescription = \"d\"\nmetric = \"{selector}\"\n{kind_line}\
                 thresholds = [\"{stat} < 0.5\"]\n"
            );
            proptest::prop_assert!(super::parse("p.toml", "p", &gate).is_ok(), "{}", gate);
            let with_env = format!("{gate}unit = \"number\"\n[gate.env]\n\"{stat}\" = \"SOME_FIGURE\"\n");
            let refused = super::parse("p.toml", "p", &with_env).unwrap_err().to_string();
            proptest::prop_assert!(refused.contains("[gate.env] beside metric"), "{}", refused);
            proptest::prop_assert!(refused.contains("gate \"g\""), "{}", refused);
        }
    }

    #[test]
    fn env_figures_of_a_query_gate_still_load() {
        let text = "[policy]\nname = \"p\"\n[[gate]]\nid = \"lag\"\ndescription = \"d\"\n\
                    query = 'histogram_quantile(0.95, sum by (le) (rate(lag_bucket[5m])))'\nunit = \"s\"\n\
                    thresholds = [\"p(95) < 60\"]\n[gate.env]\n\"p(95)\" = \"LAG_P95_SECONDS\"\n";
        super::parse("p.toml", "p", text).unwrap();
    }
}
