//! The verdict as JSON for other programs: output-only DTOs with a `schema_version`, published
//! as a JSON Schema (schemas/verdict-report.schema.json). Non-finite figures (+Inf) are
//! `null` values with their display text, since JSON has no infinity.

use serde::Serialize;

use crate::policy::verdict::{Observed, Row, Verdict};

pub const SCHEMA_VERSION: &str = "1";

// Every text of the report is written scrubbed (finding round16-text/01: a waiver's reason
// quoting a credential was masked in the terminal and Markdown, which escape, but written whole
// here, and so into every history record): rows, waivers and policy fields are file text,
// details and series are servers'. Only what gatecheck computed is written as it is: digests
// (history reads `evidence_runs` back), times, words of its own. The serializers are the one
// home of that rule for every file (`secret::written`).
use crate::secret::{scrubbed, scrubbed_list, scrubbed_option};

#[derive(Serialize)]
struct Report<'a> {
    schema_version: &'static str,
    tool: &'static str,
    policy: PolicyDto<'a>,
    generated_at: &'a str,
    evaluated_at: Option<&'a str>,
    judged_at: Option<&'a str>,
    #[serde(serialize_with = "scrubbed_list")]
    evidence: &'a [String],
    inputs: Vec<InputDto<'a>>,
    evidence_digest: String,
    evidence_runs: &'a [String],
    /// Why the evidence cannot stand as a `--baseline` (empty when it can).
    #[serde(serialize_with = "scrubbed_list")]
    baseline_unfit: &'a [String],
    /// The span of times the judged evidence records of its run, when it records any: a report
    /// given as `--baseline` is dated by it (`sources::baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    run_span: Option<RunSpanDto<'a>>,
    /// The demo's run (gatecheck's own embedded API), not a candidate's: never counted in
    /// history (`sources::history`).
    demo: bool,
    outcome: &'static str,
    exit_code: i32,
    counts: Counts,
    #[serde(serialize_with = "scrubbed")]
    summary: String,
    gates: Vec<GateDto<'a>>,
    /// Waivers that covered no breach (they never block).
    stale_waivers: Vec<StaleDto<'a>>,
}

#[derive(Serialize)]
struct RunSpanDto<'a> {
    earliest: &'a str,
    latest: &'a str,
}

#[derive(Serialize)]
struct WaiverDto<'a> {
    #[serde(serialize_with = "scrubbed")]
    owner: &'a str,
    #[serde(serialize_with = "scrubbed")]
    reason: &'a str,
    #[serde(serialize_with = "scrubbed")]
    ticket: &'a str,
    #[serde(serialize_with = "scrubbed")]
    expires: &'a str,
    applied: bool,
    breach: &'static str,
}

#[derive(Serialize)]
struct StaleDto<'a> {
    #[serde(serialize_with = "scrubbed")]
    gate: &'a str,
    #[serde(serialize_with = "scrubbed_option")]
    threshold: Option<&'a str>,
    #[serde(serialize_with = "scrubbed_option")]
    series: Option<&'a str>,
    #[serde(serialize_with = "scrubbed")]
    owner: &'a str,
    #[serde(serialize_with = "scrubbed")]
    ticket: &'a str,
    #[serde(serialize_with = "scrubbed")]
    expires: &'a str,
    #[serde(serialize_with = "scrubbed")]
    why: &'a str,
}

#[derive(Serialize)]
struct InputDto<'a> {
    role: &'a str,
    #[serde(serialize_with = "scrubbed")]
    path: &'a str,
    sha256: &'a str,
    bytes: u64,
}

#[derive(Serialize)]
struct PolicyDto<'a> {
    #[serde(serialize_with = "scrubbed")]
    name: &'a str,
    #[serde(serialize_with = "scrubbed")]
    source: &'a str,
}

#[derive(Serialize)]
struct Counts {
    pass: usize,
    fail: usize,
    warn: usize,
    no_data: usize,
    skipped: usize,
    waived: usize,
    blocking: usize,
}

#[derive(Serialize)]
struct GateDto<'a> {
    #[serde(serialize_with = "scrubbed")]
    id: &'a str,
    #[serde(serialize_with = "scrubbed")]
    description: &'a str,
    #[serde(serialize_with = "scrubbed")]
    subject: &'a str,
    #[serde(serialize_with = "scrubbed_option")]
    series: Option<&'a str>,
    #[serde(serialize_with = "scrubbed")]
    threshold: &'a str,
    verdict: &'static str,
    blocking: bool,
    observed: ObservedDto,
    #[serde(serialize_with = "scrubbed")]
    source: &'a str,
    /// The kind of evidence the figure was read from (`FigureFrom::key`), apart from `source`'s
    /// text: a baseline reads its run's figures by it.
    figure_from: Option<&'static str>,
    #[serde(serialize_with = "scrubbed_option")]
    detail: Option<&'a str>,
    samples: Option<u64>,
    evaluated_at: Option<&'a str>,
    /// Who signed off this row's breach, why and until when; absent when no waiver names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<WaiverDto<'a>>,
}

#[derive(Serialize)]
struct ObservedDto {
    value: Option<f64>,
    unit: Option<&'static str>,
    #[serde(serialize_with = "scrubbed")]
    display: String,
    k6_passed: Option<bool>,
}

fn observed(row: &Row) -> ObservedDto {
    match &row.observed {
        Observed::Figure { value, unit, .. } => ObservedDto {
            value: value.is_finite().then_some(*value),
            unit: Some(unit),
            display: row.observed.to_string(),
            k6_passed: None,
        },
        Observed::K6Verdict { passed } => {
            ObservedDto { value: None, unit: None, display: row.observed.to_string(), k6_passed: Some(*passed) }
        }
        Observed::Nothing => ObservedDto { value: None, unit: None, display: String::new(), k6_passed: None },
    }
}

pub fn render(verdict: &Verdict, generated_at: &str) -> String {
    let counts = verdict.counts();
    let report = Report {
        schema_version: SCHEMA_VERSION,
        tool: crate::policy::verdict::TOOL,
        policy: PolicyDto { name: &verdict.policy, source: &verdict.policy_source },
        generated_at,
        evaluated_at: verdict.evaluated_at.as_deref(),
        judged_at: verdict.judged_at.as_deref(),
        evidence: &verdict.evidence,
        inputs: verdict
            .inputs
            .iter()
            .map(|i| InputDto { role: &i.role, path: &i.path, sha256: &i.sha256, bytes: i.bytes })
            .collect(),
        evidence_digest: crate::policy::verdict::evidence_digest(&verdict.evidence_runs),
        evidence_runs: &verdict.evidence_runs,
        baseline_unfit: &verdict.baseline_unfit,
        run_span: verdict.run_span.as_ref().map(|(earliest, latest)| RunSpanDto { earliest, latest }),
        demo: verdict.demo,
        outcome: if verdict.blocked() { "blocked" } else { "pass" },
        exit_code: verdict.exit_code(),
        counts: Counts {
            pass: counts.pass,
            fail: counts.fail,
            warn: counts.warn,
            no_data: counts.no_data,
            skipped: counts.skipped,
            waived: counts.waived,
            blocking: counts.blocking,
        },
        summary: verdict.summary_line(),
        gates: verdict
            .rows
            .iter()
            .map(|row| GateDto {
                id: &row.gate,
                description: &row.description,
                subject: &row.subject,
                series: row.series.as_deref(),
                threshold: &row.check,
                verdict: super::verdict_label(row),
                blocking: row.blocking,
                observed: observed(row),
                source: &row.source,
                figure_from: row.figure_from.map(|f| f.key()),
                detail: row.detail.as_deref(),
                samples: row.samples,
                evaluated_at: verdict.evaluated_at.as_deref().filter(|_| row.source.starts_with("promql")),
                waiver: row.waiver.as_ref().map(|w| WaiverDto {
                    owner: &w.owner,
                    reason: &w.reason,
                    ticket: &w.ticket,
                    expires: &w.expires,
                    applied: w.applied,
                    breach: w.breach,
                }),
            })
            .collect(),
        stale_waivers: verdict
            .stale_waivers
            .iter()
            .map(|w| StaleDto {
                gate: &w.gate,
                threshold: w.threshold.as_deref(),
                series: w.series.as_deref(),
                owner: &w.owner,
                ticket: &w.ticket,
                expires: &w.expires,
                why: &w.why,
            })
            .collect(),
    };
    let mut text = crate::escape::code(serde_json::to_string_pretty(&report).expect("report DTOs always serialize"));
    text.push('\n');
    text
}
