//! The policy file as written (TOML). These raw structs stop at `policy::load`, which turns
//! them into checked domain types; unknown keys are errors so a typo never disables a gate.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// A gatecheck policy: the gates a release (or an on-call check) must pass.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub policy: PolicyMeta,
    #[serde(default)]
    pub flows: BTreeMap<String, FlowFile>,
    #[serde(default)]
    pub k6_thresholds: K6ThresholdsFile,
    /// Facts about the run itself (partial runs) and how hard they block.
    #[serde(default)]
    pub integrity: IntegrityFile,
    /// Variables substituted into queries as `${name}`, e.g. `window = "10m"`.
    #[serde(default)]
    pub vars: BTreeMap<String, VarFile>,
    /// `[choice.SWITCH.VALUE]`: sets of variables, one picked by the value of `${SWITCH}`.
    #[serde(default)]
    pub choice: BTreeMap<String, BTreeMap<String, BTreeMap<String, VarFile>>>,
    #[serde(default, rename = "gate")]
    pub gates: Vec<GateFile>,
    /// What "fresh" means for the query evidence: a series whose newest sample must be young.
    #[serde(default)]
    pub freshness: Vec<FreshnessFile>,
}

/// A variable's default (`name = "value"`), or none: `name = { required = "what to give" }`
/// makes every use of `${name}` an error until `--var name=...` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "a string, or { required = \"what to give\" } for a variable without a default")]
pub enum VarFile {
    Value(String),
    Required(RequiredVar),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredVar {
    /// What to give, shown when it is missing.
    pub required: String,
    /// What the value is: "label" (a label value such as a run id; the default) or "count"
    /// (a whole number above 0). A given value must be a plain value of this kind.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FreshnessFile {
    pub id: String,
    pub description: Option<String>,
    /// A PromQL series selector, e.g. `up{job="api"}`.
    pub selector: String,
    /// The newest sample must be younger than this at the evaluation time, e.g. "2m".
    pub max_age: String,
    /// Optionally: the target was up (the selector's value was 1) for this whole window.
    pub up_for: Option<String>,
    /// How far back to look for the newest sample when it is older than Prometheus's lookback.
    pub search: Option<String>,
}

/// The share of a window that a gate's series must cover.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageFile {
    /// The series the gate's query reads, e.g. `waxwatch_db_connection_utilization`.
    pub selector: String,
    /// The query's window, e.g. "${window}" or "24h".
    pub window: String,
    /// The series' scrape (or write) interval, e.g. "15s".
    pub interval: String,
}

/// `query = "..."` (one figure for every threshold) or `[gate.query]` (statistic -> PromQL).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum QueryFile {
    One(String),
    PerStat(BTreeMap<String, String>),
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyMeta {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The longest a waiver may run, in days (from its `granted` date, else the judgement day),
    /// or the word "unlimited"; checked into `WaiverCap`.
    #[schemars(schema_with = "max_waiver_days_schema")]
    pub max_waiver_days: Option<toml::Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Environment variable that switches the flow off when "0"/"false" (e.g. PERF_ENABLE_RULE_RUN).
    pub switch_env: Option<String>,
    /// The flow's state when the switch variable is unset.
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrityFile {
    /// `block` (default) or `warn`: a partial load run (request cap, interrupt) and its figures.
    pub partial_run: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct K6ThresholdsFile {
    /// Whether thresholds that k6 itself marked failed in the summary are gates too.
    #[serde(default = "default_true")]
    pub enforce: bool,
    pub severity: Option<String>,
}

impl Default for K6ThresholdsFile {
    fn default() -> Self {
        K6ThresholdsFile { enforce: true, severity: None }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    pub id: String,
    pub description: Option<String>,
    /// A k6 metric selector, `http_req_duration{flow:auth_list}`.
    pub metric: Option<String>,
    /// The metric kind when it is not one of k6's built-ins.
    pub kind: Option<String>,
    /// Statistic -> environment variable holding that figure, e.g. `"p(95)" = "SCHEDULER_LAG_P95_SECONDS"`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// PromQL instant queries giving the figures.
    pub query: Option<QueryFile>,
    /// A histogram on the load target's `/metrics`, judged over the run window (scraped before
    /// and after a native run).
    pub scrape: Option<String>,
    /// How several series of one query become one figure: max, min, sum or avg.
    pub reduce: Option<String>,
    /// The unit of env and query figures: s, ms, ratio or number.
    pub unit: Option<String>,
    /// The load-test flow this gate belongs to; inferred from a `flow:` tag in `metric`.
    pub flow: Option<String>,
    #[serde(default)]
    pub thresholds: Vec<String>,
    /// A history gate: this run and the N-1 recorded before it (`--history DIR`) all passed.
    pub consecutive_passes: Option<u32>,
    /// A history gate: a recorded run that passed only because of a waiver counts as a pass
    /// (default false: it is not a clean pass).
    pub count_waived: Option<bool>,
    pub severity: Option<String>,
    pub on_missing: Option<String>,
    /// For thresholds relative to the baseline: a change smaller than this never breaches.
    pub noise_floor: Option<String>,
    /// With `[gate.coverage]`: the share of the window the series must cover, e.g. "90%".
    pub min_coverage: Option<String>,
    pub coverage: Option<CoverageFile>,
    /// Whether a waiver may cover a breach of this gate (default true).
    pub waivable: Option<bool>,
    /// Whether a waiver may cover NO DATA too (default false: a missing figure is never waived).
    #[serde(default)]
    pub waive_no_data: bool,
    /// The kind of histogram its `histogram_quantile` queries read, when the query text does
    /// not show it (a recording rule's name): "classic" (`le` buckets, judged with the `+Inf`
    /// bucket) or "native".
    pub histogram: Option<String>,
}

/// What `max_waiver_days` accepts as written: a whole number of days or "unlimited" (the
/// loader checks the range and says why; the schema gives the editor the shape).
fn max_waiver_days_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The longest a waiver may run, in days, or \"unlimited\".",
        "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 366 }, { "const": "unlimited" }]
    })
}

/// The JSON Schema of a policy file, derived from the structs that parse it so it cannot drift.
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(PolicyFile)
}

fn default_true() -> bool {
    true
}
