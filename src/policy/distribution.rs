//! The latency distributions behind percentile gates, for reports that plot them: the curve of
//! the metric a gate reads (from raw samples or a native run's HDR histograms, never invented
//! from a summary's few percentiles), the baseline's curve when it has one, and where each
//! threshold's limit and observed figure sit. Pure: built from the evidence and the rows.

use crate::metrics::{Aggregate, MetricKind, Stat};
use crate::policy::evaluate::Evidence;
use crate::policy::verdict::{Distribution, Mark, Observed, Row, Status};
use crate::policy::Policy;

pub fn build(policy: &Policy, evidence: &Evidence, rows: &[Row]) -> Vec<Distribution> {
    let mut out = Vec::new();
    for gate in &policy.gates {
        let Some((key, MetricKind::Trend)) = &gate.metric else { continue };
        let gate_rows: Vec<&Row> = rows.iter().filter(|r| r.gate == gate.id).collect();
        if gate_rows.iter().all(|r| r.status == Status::Skipped) {
            continue;
        }
        // Raw samples are exact; a native summary's histograms come next.
        let Some((set, curve)) = evidence
            .raw
            .iter()
            .chain(&evidence.summary)
            .find_map(|set| set.curves.get(key).filter(|c| !c.is_empty()).map(|c| (set, c)))
        else {
            continue;
        };
        let is_time = set.get(key).is_some_and(|m| m.is_time && matches!(m.aggregate, Aggregate::Trend(_)));
        if !is_time {
            continue;
        }
        let mut marks = Vec::new();
        for threshold in &gate.thresholds {
            let percentile = match threshold.stat {
                Stat::Percentile(p) => p,
                Stat::Med => 50.0,
                Stat::Max => 100.0,
                Stat::Min => 0.0,
                _ => continue,
            };
            let dimension = MetricKind::Trend.dimension(threshold.stat, true);
            let base = evidence.baseline.as_ref().and_then(|b| b.figure(key, threshold.stat));
            let Ok(limit) = threshold.resolve_limit(dimension, base) else { continue };
            let limit_ms = rust_decimal::prelude::ToPrimitive::to_f64(&limit).unwrap_or(f64::NAN);
            let check = threshold.to_string();
            let observed_ms = gate_rows.iter().find(|r| r.check == check).and_then(|r| match r.observed {
                Observed::Figure { value, .. } if value.is_finite() => Some(value),
                _ => None,
            });
            marks.push(Mark { percentile, check, limit_ms, observed_ms });
        }
        let baseline = evidence
            .baseline
            .as_ref()
            .and_then(|b| b.set.as_ref())
            .and_then(|set| set.curves.get(key))
            .filter(|c| !c.is_empty())
            .cloned();
        out.push(Distribution {
            gate: gate.id.clone(),
            metric: key.to_string(),
            source: format!("{} ({})", set.path, set.format),
            curve: curve.clone(),
            baseline,
            marks,
        });
    }
    out
}
