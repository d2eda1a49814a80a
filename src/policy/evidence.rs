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

/// What one PromQL instant query returned, and at which evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub series: Vec<Series>,
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
    /// Outcomes of the recorded earlier runs of this policy, oldest first (true = passed).
    pub history: Option<Vec<bool>>,
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

    /// The runs this evidence measured, each named by a digest of its figures (never of the
    /// bytes that spelled them): the summary's and the raw results'. Evidence with no file (only
    /// queries and environment figures) is named by what the queries answered and the figures.
    /// History counts a record only when none of its runs was already counted, so one run
    /// judged twice — reformatted, with and without `--raw`, or queried again later — counts once.
    pub fn run_identities(&self, wanted: &[crate::metrics::MetricKey]) -> Vec<String> {
        // A run whose figures measured nothing is named by its file's bytes (or, read from
        // standard input, by when it was judged), never by a digest every empty run shares.
        let files: Vec<String> = self
            .summary
            .iter()
            .map(|s| (s, "summary"))
            .chain(self.raw.iter().map(|s| (s, "raw")))
            .map(|(set, role)| {
                set.run_digest(wanted).unwrap_or_else(|| {
                    let bytes: Vec<&str> =
                        self.inputs.iter().filter(|i| i.role == role).map(|i| i.sha256.as_str()).collect();
                    let fallback = format!("unmeasured {role} {} {:?}", bytes.join(","), self.judged_at);
                    use sha2::{Digest, Sha256};
                    format!("{:x}", Sha256::digest(fallback.as_bytes()))
                })
            })
            .collect();
        if !files.is_empty() {
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
        vec![format!("{:x}", hasher.finalize())]
    }
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
