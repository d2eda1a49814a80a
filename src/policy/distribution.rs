//! The latency distributions behind percentile gates, for reports that plot them: the curve of
//! the metric a gate reads (from raw samples or a native run's HDR histograms, never invented
//! from a summary's few percentiles), the baseline's curve when it has one, and where each
//! threshold's limit and observed figure sit. Pure: built from the evidence and the rows.

use crate::metrics::{Aggregate, MetricKey, MetricKind, MetricSet, Stat};
use crate::policy::evidence::Evidence;
use crate::policy::verdict::{Curve, Distribution, Mark, Observed, Row, Status};
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
        let Some((set, curve)) =
            evidence.raw.iter().chain(&evidence.summary).find_map(|set| Some((set, drawable(set, key)?)))
        else {
            continue;
        };
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
        let baseline = evidence.baseline.as_ref().and_then(|b| b.set.as_ref()).and_then(|set| drawable(set, key));
        out.push(Distribution {
            gate: gate.id.clone(),
            metric: key.to_string(),
            source: format!("{} ({})", set.path, set.format),
            curve,
            baseline,
            marks,
        });
    }
    out
}

/// The percentile curve (percentile, ms) of a time metric's samples in `set`, when it has
/// samples and every one can be drawn (a non-finite sample cannot).
fn drawable(set: &MetricSet, key: &MetricKey) -> Option<Curve> {
    let is_time = set.get(key).is_some_and(|m| m.is_time && matches!(m.aggregate, Aggregate::Trend(_)));
    let samples = set.distributions.get(key).filter(|d| is_time && !d.is_empty())?;
    samples.points().iter().all(|(v, _)| v.is_finite()).then(|| samples.curve())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Distribution as Samples, Metric, Provenance, TrendStats};

    fn set_with(is_time: bool, values: &[f64]) -> (MetricSet, MetricKey) {
        let key = MetricKey::parse("http_req_duration{flow:auth_list}").unwrap();
        let mut set = MetricSet::default();
        let metric = Metric {
            aggregate: Aggregate::Trend(TrendStats::default()),
            is_time,
            k6_verdicts: Vec::new(),
            provenance: Provenance::Env { name: "TEST".into() },
        };
        set.metrics.insert(key.clone(), metric);
        set.distributions.insert(key.clone(), Samples::from_values(values));
        (set, key)
    }

    #[test]
    fn only_time_metrics_with_finite_samples_are_drawn() {
        let (set, key) = set_with(true, &[3.0, 1.0, 2.0]);
        assert_eq!(drawable(&set, &key), Some(Samples::from_values(&[1.0, 2.0, 3.0]).curve()));
        let (set, key) = set_with(false, &[3.0, 1.0, 2.0]);
        assert_eq!(drawable(&set, &key), None, "not a time metric");
        let (set, key) = set_with(true, &[3.0, f64::INFINITY]);
        assert_eq!(drawable(&set, &key), None, "a sample that cannot be drawn");
        let (set, key) = set_with(true, &[]);
        assert_eq!(drawable(&set, &key), None, "no samples");
    }
}
