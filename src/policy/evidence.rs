//! What the evaluator may look at, gathered beforehand by the sources: the evidence (k6 and
//! native summaries, raw results, env figures, query answers, scrapes, history, waivers) and
//! the small value types it is made of. A file of its own below `evaluate`, `freshness`,
//! `integrity` and `distribution`, which all read it, so none of them imports another for it.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::metrics::{MetricSet, Provenance};
use crate::policy::verdict::InputFile;
/// A figure read from an environment variable, as written (not yet scaled).
#[derive(Debug, Clone, PartialEq)]
pub struct EnvFigure {
    pub value: f64,
    pub provenance: Provenance,
}

/// Whether a flow ran, and what said so.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowState {
    pub enabled: bool,
    pub reason: String,
}

/// One series of an instant query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One native histogram sample of an instant query's answer (the API's `"histogram"`), read
/// only where a native quantile's companion asks for one (`quantile_query::classic_form`).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogram {
    pub labels: BTreeMap<String, String>,
    pub count: f64,
    pub buckets: Vec<NativeBucket>,
}

/// One bucket of a native histogram: its bounds and the observations in it (not cumulative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeBucket {
    pub lower: f64,
    pub upper: f64,
    pub count: f64,
}

/// What one PromQL instant query returned, and at which evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub series: Vec<Series>,
    /// Native histogram samples, kept only for a native quantile's companion query.
    pub histograms: Vec<NativeHistogram>,
    /// RFC 3339 evaluation time, shown with every figure.
    pub at: String,
    /// Warnings and infos of the response (a Thanos/Mimir partial response, Prometheus 3's
    /// infos): the figure may rest on incomplete data.
    pub warnings: Vec<String>,
}

impl QueryResult {
    /// The one rule for a partial response, for every query gatecheck sends (gate queries,
    /// freshness, `up_for`, coverage): a response with warnings or infos (a Thanos/Mimir store
    /// that did not answer) gives no figure — `Err` quoting them — unless partial responses are
    /// accepted, and then `Ok(Some(note))` so the row shows the warning.
    pub fn partial(&self, accept: bool) -> Result<Option<String>, String> {
        if self.warnings.is_empty() {
            return Ok(None);
        }
        let quoted = self.warnings.join("; ");
        if accept {
            Ok(Some(format!("partial response accepted: {quoted}")))
        } else {
            Err(format!(
                "Prometheus answered with warnings, so the figure may rest on partial data: {quoted} (pass --accept-partial-response to judge it anyway)"
            ))
        }
    }
}

/// What one query answered: its series, and the warnings and infos that came with them (a
/// Thanos/Mimir partial response, Prometheus 3's infos).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub series: Vec<Series>,
    pub histograms: Vec<NativeHistogram>,
    pub warnings: Vec<String>,
}

/// One query's outcome: (gate id, query, answer or why there is none).
pub type QueryOutcome = (String, String, Result<Answer, Error>);

/// Everything the evaluator may look at, gathered beforehand by the sources.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub summary: Option<MetricSet>,
    /// Figures computed from k6 raw results (`--raw`): they fill what the summary lacks.
    pub raw: Option<MetricSet>,
    /// The last accepted run, for thresholds relative to it.
    pub baseline: Option<crate::metrics::Baseline>,
    /// The recorded earlier runs of this policy, as history gates read them.
    pub history: Option<History>,
    /// Set environment figures by variable name.
    pub env: BTreeMap<String, EnvFigure>,
    pub flows: BTreeMap<String, FlowState>,
    /// Results by query text (after variable substitution).
    pub queries: BTreeMap<String, QueryResult>,
    /// Why queries were not run, when they were not (e.g. no server configured).
    pub queries_unavailable: Option<String>,
    /// The evaluation time of the queries, for the report header.
    pub evaluated_at: Option<String>,
    /// Run-window histograms scraped from the load target, by metric name.
    pub scraped: BTreeMap<String, crate::metrics::Window>,
    /// Where they were scraped (the /metrics URL), for provenance.
    pub scraped_from: Option<String>,
    /// Judge figures from responses that carry warnings (they are NO DATA otherwise).
    pub accept_partial_responses: bool,
    /// Every input file the verdict rests on, with its digest.
    pub inputs: Vec<InputFile>,
    /// When the judgement was made (RFC 3339).
    pub judged_at: Option<String>,
    /// The evaluation time of the queries, unix seconds (for the age of the newest sample).
    pub evaluated_at_unix: Option<i64>,
    /// How far back before `evaluated_at_unix` the gates' queries read
    /// (`Policy::gate_queries_reach`): with it, the window a verdict on queries judged.
    pub queries_reach: Option<std::time::Duration>,
    /// `--max-evidence-age`: load-test evidence older than this blocks.
    pub max_evidence_age: Option<std::time::Duration>,
    /// When each load-test evidence file's run ended, as far as it can be told.
    pub evidence_times: Vec<EvidenceTime>,
    /// The time of the judgement, unix seconds.
    pub now_unix: Option<i64>,
    /// The evidence is the demo's (`gatecheck demo`: gatecheck's own embedded API), not a
    /// candidate's: its verdict never counts in history nor stands as a baseline.
    pub demo: bool,
    /// Sign-offs of known breaches (`--waivers`), checked against the policy here.
    pub waivers: Vec<super::waiver::Waiver>,
    /// The judgement day, against which waivers expire (UTC).
    pub today: Option<time::Date>,
}

impl Evidence {
    /// Whether the evidence is the demo's: gathered by `gatecheck demo`, or a native summary
    /// its run wrote (`gatecheck.demo`) judged again by `verify`, alone or merged (finding
    /// judge5/02: only the demo command's own verdict was marked).
    pub fn is_demo(&self) -> bool {
        self.demo || self.summary.iter().chain(&self.raw).any(|set| set.run.as_ref().is_some_and(|run| run.demo))
    }

    /// When the run this evidence judges happened, earliest and latest (RFC 3339, to the
    /// nanosecond): the times its files recorded (`MetricSet::recorded_span`), else, for
    /// evidence the queries gave, the window the gates' queries read (`queries_reach` back from
    /// the instant they were evaluated at, `--at` or now). The one answer for the report's `run_span` and the place of the run judged now
    /// in history (finding round21-judge/01: a verdict of `--at` an hour ago was placed at the
    /// wall clock, after a newer blocked one, and read two old passes as the newest; finding
    /// round29-judge/01: two judgements 15 s apart of one 10 minute window were two runs).
    pub fn run_span(&self) -> Option<(String, String)> {
        crate::metrics::MetricSet::recorded_span(self.summary.iter().chain(&self.raw)).or_else(|| {
            let at = self.evaluated_at_unix.filter(|_| !self.queries.is_empty())?;
            let at = time::OffsetDateTime::from_unix_timestamp(at).ok()?;
            let back = self.queries_reach.unwrap_or(super::query_window::LOOKBACK);
            let earliest = at.checked_sub(time::Duration::try_from(back).ok()?)?;
            Some((crate::metrics::rfc3339_nanos(earliest), crate::metrics::rfc3339_nanos(at)))
        })
    }

    /// The runs this evidence measured, each named by its figures (`metrics::RunIdentity`,
    /// never the bytes that spelled them nor when they were judged): the summary's and the raw
    /// results'. Evidence with no file (only queries and environment figures) is named by what
    /// the queries answered and the figures. Empty when the files' figures cannot identify the
    /// run (counters only, nothing measured): such a run never counts toward consecutive passes
    /// (finding round12-judge/01: a per-judgement fallback made one run count twice). History
    /// counts a record only when none of its runs was already counted, so one run judged twice
    /// — reformatted, with and without `--raw`, or queried again later — counts once.
    pub fn run_identities(&self, wanted: &[crate::metrics::MetricKey]) -> Vec<String> {
        let has_files = self.summary.is_some() || self.raw.is_some();
        let files: Vec<String> = self
            .summary
            .iter()
            .chain(&self.raw)
            .filter_map(|set| crate::metrics::RunIdentity::of(set, wanted))
            .map(|identity| identity.to_string())
            .collect();
        // A policy that reads no k6 figure names its run by its queries even when a file is given.
        if !files.is_empty() || (has_files && !wanted.is_empty()) {
            return files;
        }
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        // Query and env evidence only: the run is what the queries answered (their series and
        // values), never the second they were asked (finding judge4/06: one run judged twice
        // a second apart counted twice).
        for (query, result) in &self.queries {
            hasher.update(format!("query {query}\0").as_bytes());
            for series in &result.series {
                hasher.update(format!("{:?}={:?}\0", series.labels, series.value).as_bytes());
            }
        }
        for (name, figure) in &self.env {
            hasher.update(format!("env {name}={:?}\0", figure.value));
        }
        vec![format!("{}{:x}", crate::metrics::ANSWERS_PREFIX, hasher.finalize())]
    }
}

/// The recorded runs of the policy, as each history gate reads them: by its own `count_waived`
/// (finding round12-judge/03: one reading for every gate let a warn-only gate's setting count
/// waived runs for the blocking one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// A run that passed only by a waiver is not a pass (the default).
    pub clean: RunOutcomes,
    /// A run that passed by a waiver counts as a pass (`count_waived = true`).
    pub counting_waived: RunOutcomes,
}

impl History {
    /// History as a gate with this `count_waived` reads it.
    pub fn read_as(&self, count_waived: bool) -> &RunOutcomes {
        if count_waived {
            &self.counting_waived
        } else {
            &self.clean
        }
    }
}

/// The recorded runs read one way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOutcomes {
    /// The earlier runs, oldest first, each as its worst judgement (true = passed).
    pub earlier: Vec<bool>,
    /// The run judged now was judged before and did not pass then: a run stands as its worst
    /// judgement, the current one included (finding round12-judge/02).
    pub this_run_failed_before: bool,
}

/// When the run behind an evidence file ended, and how that was found out.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceTime {
    pub path: String,
    /// Unix seconds; None when it cannot be told (standard input).
    pub ended_at: Option<i64>,
    /// "its end time (gatecheck.ended_at)", "the file's modification time (k6 records none)".
    pub how: String,
}
