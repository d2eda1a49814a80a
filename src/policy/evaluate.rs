//! The pure judgement: (policy, evidence) -> verdict. No I/O happens here.
//!
//! Rules that are easy to get wrong and are decided here once:
//! - comparisons are strict as written (a value equal to a `<` limit breaches it);
//! - a percentile the summary does not carry is never guessed: k6's own verdict on the
//!   identical expression is used when present, otherwise the row is NO DATA with a hint;
//! - an empty sub-metric (k6 writes zeros and passes its thresholds) is NO DATA;
//! - a flow switched off makes its gates SKIPPED, neither pass nor fail;
//! - an environment figure that is set wins over any other source for its statistic.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::metrics::{Lookup, MetricSet, Provenance};
use crate::policy::threshold::{Dimension, Threshold};
use crate::policy::verdict::{Observed, Row, Status, Verdict};
use crate::policy::{Gate, OnMissing, Policy, Severity};
use crate::sources::k6_summary::FORMAT_MACHINE_READABLE;

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

/// Everything the evaluator may look at, gathered beforehand by the sources.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub summary: Option<MetricSet>,
    /// Set environment figures by variable name.
    pub env: BTreeMap<String, EnvFigure>,
    pub flows: BTreeMap<String, FlowState>,
}

pub fn evaluate(policy: &Policy, evidence: &Evidence) -> Result<Verdict, Error> {
    let mut rows = Vec::new();
    for gate in &policy.gates {
        evaluate_gate(policy, gate, evidence, &mut rows)?;
    }
    if let Some(summary) = &evidence.summary {
        if policy.enforce_k6_thresholds {
            k6_threshold_rows(policy, summary, &mut rows);
        }
    }
    Ok(Verdict {
        policy: policy.name.clone(),
        policy_source: policy.source.clone(),
        evidence: evidence
            .summary
            .iter()
            .map(|s| format!("{} ({})", s.path, s.format))
            .collect(),
        rows,
    })
}

fn evaluate_gate(
    policy: &Policy,
    gate: &Gate,
    evidence: &Evidence,
    rows: &mut Vec<Row>,
) -> Result<(), Error> {
    let switched_off = gate.flow.as_ref().and_then(|flow| {
        evidence
            .flows
            .get(flow)
            .filter(|state| !state.enabled)
            .map(|state| (flow, state))
    });
    for threshold in &gate.thresholds {
        let mut row = Row {
            gate: gate.id.clone(),
            description: gate.description.clone(),
            check: threshold.to_string(),
            status: Status::Pass,
            blocking: false,
            observed: Observed::Nothing,
            source: "-".into(),
            detail: None,
            samples: None,
        };
        if let Some((flow, state)) = switched_off {
            row.status = Status::Skipped;
            row.detail = Some(format!("flow {flow} was switched off ({})", state.reason));
            rows.push(row);
            continue;
        }
        match find_figure(policy, gate, threshold, evidence)? {
            Found::Figure {
                value,
                dimension,
                provenance,
                samples,
                note,
            } => {
                let limit = threshold.canonical_limit(dimension).map_err(|why| {
                    policy_error(policy, gate, &format!("threshold `{threshold}`: {why}"))
                })?;
                row.observed = Observed::Figure {
                    value,
                    shown: show_figure(value, dimension),
                };
                row.source = provenance.to_string();
                row.samples = samples;
                row.detail = note;
                judge(gate, threshold.op.holds(value, limit), &mut row);
            }
            Found::K6Verdict {
                passed,
                provenance,
                note,
            } => {
                row.observed = Observed::K6Verdict { passed };
                row.source = provenance.to_string();
                row.detail = Some(note);
                judge(gate, passed, &mut row);
            }
            Found::Missing(why) => {
                row.detail = Some(why);
                match gate.on_missing {
                    OnMissing::Fail => {
                        row.status = Status::NoData;
                        row.blocking = true;
                    }
                    OnMissing::Warn => row.status = Status::NoData,
                    OnMissing::Skip => row.status = Status::Skipped,
                }
            }
        }
        rows.push(row);
    }
    Ok(())
}

fn judge(gate: &Gate, holds: bool, row: &mut Row) {
    if holds {
        row.status = Status::Pass;
    } else if gate.severity == Severity::Block {
        row.status = Status::Fail;
        row.blocking = true;
    } else {
        row.status = Status::Warn;
    }
}

enum Found {
    Figure {
        value: f64,
        dimension: Dimension,
        provenance: Provenance,
        samples: Option<u64>,
        note: Option<String>,
    },
    K6Verdict {
        passed: bool,
        provenance: Provenance,
        note: String,
    },
    Missing(String),
}

fn find_figure(
    policy: &Policy,
    gate: &Gate,
    threshold: &Threshold,
    evidence: &Evidence,
) -> Result<Found, Error> {
    let stat = threshold.stat;
    if let Some(var) = gate.env_var_for(stat) {
        if let Some(figure) = evidence.env.get(var) {
            let note = gate
                .metric
                .as_ref()
                .map(|(key, _)| format!("{var} is set and overrides {key} for {stat}"));
            return Ok(Found::Figure {
                value: figure.value * gate.env_unit.to_canonical(),
                dimension: gate.env_unit.dimension(),
                provenance: figure.provenance.clone(),
                samples: None,
                note,
            });
        }
        if gate.metric.is_none() {
            return Ok(Found::Missing(format!(
                "{var} is not set: export it ({})",
                gate.env_unit.name()
            )));
        }
    }
    let Some((key, kind)) = &gate.metric else {
        return Ok(Found::Missing(format!("no source gives {stat}")));
    };
    let Some(summary) = &evidence.summary else {
        return Ok(Found::Missing(format!(
            "no k6 summary was given for {key}: pass --summary FILE"
        )));
    };
    let Some(metric) = summary.get(key) else {
        let why = summary
            .omission_reason(key)
            .map(|reason| format!("{key} is not in {}: {reason}", summary.path))
            .unwrap_or_else(|| {
                format!(
                    "{key} is not in {} ({}): did the run tag its requests with it?",
                    summary.path, summary.format
                )
            });
        return Ok(Found::Missing(why));
    };
    let found_kind = metric.aggregate.kind();
    if found_kind != *kind {
        return Err(policy_error(
            policy,
            gate,
            &format!(
                "{key} is a {found_kind} in {}, but the policy reads it as a {kind}",
                summary.path
            ),
        ));
    }
    let dimension = kind.dimension(stat, metric.is_time);
    let same_test_verdict = || {
        metric.k6_verdicts.iter().find(|verdict| {
            Threshold::parse(&verdict.expression).is_ok_and(|k6| k6.same_test(threshold, dimension))
        })
    };
    match metric.aggregate.lookup(stat) {
        Lookup::Value(value) => {
            let note = same_test_verdict().and_then(|verdict| {
                let limit = threshold.canonical_limit(dimension).ok()?;
                (verdict.passed != threshold.op.holds(value, limit))
                    .then(|| format!("k6 judged `{}` {}", verdict.expression, if verdict.passed { "passed" } else { "failed" }))
            });
            Ok(Found::Figure {
                value,
                dimension,
                provenance: with_stat(&metric.provenance, &stat.key()),
                samples: metric.aggregate.sample_count(),
                note,
            })
        }
        Lookup::Empty => Ok(Found::Missing(format!(
            "{key} has no samples in {} (k6 writes it with zeros and passes its thresholds); if the flow was switched off, say so (e.g. PERF_ENABLE_RULE_RUN=0)",
            summary.path
        ))),
        Lookup::Absent => match same_test_verdict() {
            Some(verdict) => Ok(Found::K6Verdict {
                passed: verdict.passed,
                provenance: verdict.provenance.clone(),
                note: format!("{stat} is not in the summary; k6's own verdict on `{}` is used", verdict.expression),
            }),
            None if summary.format == FORMAT_MACHINE_READABLE => Ok(Found::Missing(format!(
                "{stat} of {key} is not in {}: k6's machine-readable summary carries only avg, min, med, max, p(90), p(95) and no thresholds; \
                 use --summary-export without --new-machine-readable-summary",
                summary.path
            ))),
            None => Ok(Found::Missing(format!(
                "{stat} of {key} is not in {}: run k6 with --summary-trend-stats \"avg,min,med,max,p(90),p(95),{stat}\" \
                 or define the threshold `{}` in the k6 script",
                summary.path,
                threshold
            ))),
        },
    }
}

fn k6_threshold_rows(policy: &Policy, summary: &MetricSet, rows: &mut Vec<Row>) {
    let base = Row {
        gate: "k6-thresholds".into(),
        description: "thresholds k6 itself evaluated during the run".into(),
        check: "every k6 threshold passed".into(),
        status: Status::Skipped,
        blocking: false,
        observed: Observed::Nothing,
        source: summary.path.clone(),
        detail: None,
        samples: None,
    };
    if !summary.carries_thresholds {
        rows.push(Row {
            detail: Some(format!(
                "{} carries no threshold verdicts; only k6's exit code (99) records them",
                summary.format
            )),
            ..base
        });
        return;
    }
    let verdicts: Vec<_> = summary.k6_verdicts().collect();
    if verdicts.is_empty() {
        rows.push(Row {
            detail: Some("the summary holds no thresholds (k6 ran with --no-thresholds, or the script defines none)".into()),
            ..base
        });
        return;
    }
    let failed: Vec<_> = verdicts
        .iter()
        .filter(|(_, verdict)| !verdict.passed)
        .collect();
    if failed.is_empty() {
        rows.push(Row {
            status: Status::Pass,
            observed: Observed::Figure {
                value: verdicts.len() as f64,
                shown: format!("{} passed", verdicts.len()),
            },
            ..base
        });
        return;
    }
    let blocking = policy.k6_threshold_severity == Severity::Block;
    for (key, verdict) in failed {
        rows.push(Row {
            check: format!("{key}: {}", verdict.expression),
            status: if blocking { Status::Fail } else { Status::Warn },
            blocking,
            observed: Observed::K6Verdict { passed: false },
            source: verdict.provenance.to_string(),
            ..base.clone()
        });
    }
}

fn with_stat(provenance: &Provenance, stat_key: &str) -> Provenance {
    match provenance {
        Provenance::File { path, key } => Provenance::File {
            path: path.clone(),
            key: format!("{key}[\"{stat_key}\"]"),
        },
        other => other.clone(),
    }
}

fn policy_error(policy: &Policy, gate: &Gate, message: &str) -> Error {
    Error::Policy {
        path: policy.source.clone(),
        message: format!("gate {:?}: {message}", gate.id),
    }
}

/// A figure for people: durations in ms (or s from 10 s up), ratios in %, numbers as they are.
pub fn show_figure(value: f64, dimension: Dimension) -> String {
    match dimension {
        Dimension::Duration { bare_millis } if bare_millis >= 1000.0 || value.abs() >= 10_000.0 => {
            format!("{} s", trim_decimals(value / 1000.0, 2))
        }
        Dimension::Duration { .. } => format!("{} ms", trim_decimals(value, 2)),
        Dimension::Ratio => format!("{}%", trim_decimals(value * 100.0, 3)),
        Dimension::Plain => trim_decimals(value, 4),
    }
}

fn trim_decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}
