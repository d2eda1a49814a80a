//! Whether a figure read elsewhere (an environment variable) fits the evidence it stands
//! beside: judged as if the evidence had carried it, by the same rules the readers hold the
//! evidence to — a trend's statistics keep the order of one distribution, a sub-metric lies
//! within its parent (`parts::exceeds`), one request stream counts alike in every metric
//! (`counts::disagreement`). A figure that breaks one contradicts what the run measured
//! (findings round19-figures/02, round20-figures/02 and /04: READ_P99_MS=30 for a subset of
//! requests whose measured minimum was 285 ms, READ_COUNT=500 for a flow of a 136-request run).

use super::{parts, Aggregate, MetricKey, MetricKind, MetricSet, Stat, TrendStats};

/// Where a statistic stands in the order of one distribution: min, the percentiles by rank (med
/// is p(50)), max; avg lies between min and max but has no rank. Others have no place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Rank(f64),
    Mean,
}

fn place(stat: Stat) -> Option<Place> {
    match stat {
        Stat::Min => Some(Place::Rank(0.0)),
        Stat::Med => Some(Place::Rank(50.0)),
        Stat::Max => Some(Place::Rank(100.0)),
        Stat::Percentile(rank) => Some(Place::Rank(rank)),
        Stat::Avg => Some(Place::Mean),
        Stat::Count | Stat::Rate | Stat::Value => None,
    }
}

/// The first measured statistic of a distribution that a figure `value` for `stat` would put
/// out of order (see `Place`): p(a) <= p(b) for a < b, min <= avg <= max. None when it fits.
pub fn out_of_order(stat: Stat, value: f64, measured: &[(Stat, f64)]) -> Option<(Stat, f64)> {
    let own = place(stat)?;
    measured.iter().copied().find(|&(other, figure)| match (own, place(other)) {
        (_, None) => false,
        (Place::Rank(a), Some(Place::Rank(b))) => {
            (b < a && figure > value) || (b > a && figure < value) || (a == b && figure != value)
        }
        (Place::Mean, Some(Place::Rank(b))) => (b == 0.0 && figure > value) || (b == 100.0 && figure < value),
        (Place::Rank(a), Some(Place::Mean)) => (a == 0.0 && value > figure) || (a == 100.0 && value < figure),
        (Place::Mean, Some(Place::Mean)) => figure != value,
    })
}

/// The figure `stat` = `value` of `key` as the evidence would hold it, when its kind of
/// metric can hold that statistic alone: a trend's statistic, a counter's count.
fn as_aggregate(set: &MetricSet, key: &MetricKey, stat: Stat, value: f64) -> Option<Aggregate> {
    let kind = MetricKind::of_builtin(&key.name).or_else(|| {
        set.metrics.iter().find(|(other, _)| other.name == key.name).map(|(_, metric)| match metric.aggregate {
            Aggregate::Trend(_) => MetricKind::Trend,
            Aggregate::Rate { .. } => MetricKind::Rate,
            Aggregate::Counter { .. } => MetricKind::Counter,
            Aggregate::Gauge { .. } => MetricKind::Gauge,
        })
    });
    match (kind, stat) {
        (Some(MetricKind::Trend) | None, Stat::Count) => Some(trend_of("count", value)),
        (Some(MetricKind::Trend) | None, stat) if place(stat).is_some() => Some(trend_of(&stat.key(), value)),
        (Some(MetricKind::Counter), Stat::Count) => Some(Aggregate::Counter { count: value, per_second: None }),
        _ => None,
    }
}

fn trend_of(stat: &str, value: f64) -> Aggregate {
    Aggregate::Trend(TrendStats([(stat.to_string(), value)].into_iter().collect()))
}

impl MetricSet {
    /// Why the figure `stat` = `value` of `key` (on the set's scale: milliseconds for time)
    /// cannot stand beside this evidence, or `None` when it fits: beside the statistics the set
    /// measured of the same key, within every parent's extremes and counts, around every
    /// sub-metric's, and counting its request stream as every other metric of it does.
    pub fn admits(&self, key: &MetricKey, stat: Stat, value: f64) -> Option<String> {
        if let Some(super::Metric { aggregate: Aggregate::Trend(stats), .. }) = self.metrics.get(key) {
            if !self.metrics[key].aggregate.is_empty() {
                let measured: Vec<(Stat, f64)> =
                    stats.0.iter().filter_map(|(name, figure)| Some((Stat::parse_key(name).ok()?, *figure))).collect();
                if let Some((other, figure)) = out_of_order(stat, value, &measured) {
                    return Some(format!(
                        "it would stand beside the measured {other} of {key}, {figure}, out of order: min <= every percentile, \
                         med and avg <= max, and percentiles rise with their rank"
                    ));
                }
            }
        }
        let figure = as_aggregate(self, key, stat, value)?;
        let events = match &figure {
            Aggregate::Trend(stats) => stats.0.get("count").copied(),
            Aggregate::Counter { count, .. } => Some(*count),
            _ => None,
        };
        for (other, metric) in &self.metrics {
            let measured = &metric.aggregate;
            let why = if parts::is_parent(other, key) {
                parts::exceeds_sampled(key, &figure, true, other, measured, !measured.is_empty())
            } else if parts::is_parent(key, other) {
                parts::exceeds_sampled(other, measured, !measured.is_empty(), key, &figure, true)
            } else {
                None
            };
            let why = why.or_else(|| {
                let other_events = super::counts::events(measured)?;
                super::counts::disagreement(key, events?, other, other_events)
            });
            if why.is_some() {
                return why;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::{Metric, Provenance};

    fn key(text: &str) -> MetricKey {
        MetricKey::parse(text).unwrap()
    }

    /// A set holding `figures` as one summary would.
    fn set_of(figures: Vec<(MetricKey, Aggregate)>) -> MetricSet {
        let mut set = MetricSet::default();
        for (key, aggregate) in figures {
            let provenance = Provenance::File { path: "s.json".into(), key: format!("metrics[\"{key}\"]") };
            set.metrics.insert(key, Metric { aggregate, is_time: true, k6_verdicts: Vec::new(), provenance });
        }
        set
    }

    fn trend(samples: &[f64]) -> Aggregate {
        let mut stats = BTreeMap::new();
        stats.insert("min".to_string(), samples.iter().copied().fold(f64::INFINITY, f64::min));
        stats.insert("max".to_string(), samples.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        stats.insert("count".to_string(), samples.len() as f64);
        Aggregate::Trend(TrendStats(stats))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Finding round19-figures/02. Rule: an env figure for a statistic the evidence lacks,
        /// beside statistics it measured of the same metric, is accepted exactly when all of
        /// them together keep the order of a distribution: min <= every percentile, med and avg
        /// <= max, and percentiles non-decreasing in their rank (med is p(50)).
        #[test]
        fn an_env_figure_is_accepted_exactly_when_it_fits_the_measured_order(
            base in proptest::collection::vec(0u32..1000, 8),
            present in proptest::collection::vec(proptest::bool::ANY, 8),
            missing in 0usize..8,
            value in 0u32..1100,
        ) {
            // Ordered statistics and a consistent measured set (sorted figures by rank).
            let stats = [Stat::Min, Stat::Percentile(25.0), Stat::Med, Stat::Percentile(90.0), Stat::Percentile(95.0), Stat::Percentile(99.9), Stat::Max, Stat::Avg];
            let mut ranked: Vec<f64> = base[..7].iter().map(|v| f64::from(*v)).collect();
            ranked.sort_by(f64::total_cmp);
            let avg = ranked[0] + (ranked[6] - ranked[0]) * f64::from(base[7]) / 1000.0;
            let figures: Vec<f64> = ranked.into_iter().chain([avg]).collect();
            let measured: Vec<(Stat, f64)> = (0..8).filter(|i| *i != missing && present[*i]).map(|i| (stats[i], figures[i])).collect();
            let value = f64::from(value);
            // The oracle: put the env figure in its place and check the whole order.
            let mut all = measured.clone();
            all.push((stats[missing], value));
            let rank = |stat: Stat| match stat { Stat::Min => Some(0.0), Stat::Med => Some(50.0), Stat::Max => Some(100.0), Stat::Percentile(p) => Some(p), _ => None };
            let fits = all.iter().all(|&(a, x)| all.iter().all(|&(b, y)| match (rank(a), rank(b)) {
                (Some(ra), Some(rb)) => ra >= rb || x <= y,
                (None, Some(rb)) => (rb != 0.0 || y <= x) && (rb != 100.0 || x <= y),
                _ => true,
            }));
            let found = out_of_order(stats[missing], value, &measured);
            proptest::prop_assert_eq!(found.is_none(), fits, "{:?} beside {:?}: {:?}", (stats[missing], value), measured, found);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Findings round20-figures/02 and /04. Rule: an env figure for a metric the evidence
        /// did not measure itself, but whose parents (fewer tags) it did, fits exactly when a
        /// run could have measured both: any statistic of the samples of a narrower selector
        /// lies within every parent's extremes and counts no more than the requests of its
        /// stream; a figure beyond them is refused, naming why.
        #[test]
        fn an_env_figure_of_a_narrower_selector_fits_exactly_within_its_parents(
            samples in proptest::collection::vec((1u32..10_000, 0u8..4), 1..60),
            stat_index in 0usize..7,
            pick in 0.0f64..=1.0,
            beyond in 1u32..5_000,
            below in proptest::bool::ANY,
        ) {
            // Each sample: a duration and which selectors hold it (bit 0: flow:a, bit 1: expected).
            let all: Vec<f64> = samples.iter().map(|s| f64::from(s.0)).collect();
            let flow: Vec<f64> = samples.iter().filter(|s| s.1 & 1 == 1).map(|s| f64::from(s.0)).collect();
            let narrow: Vec<f64> = samples.iter().filter(|s| s.1 == 3).map(|s| f64::from(s.0)).collect();
            let mut figures = vec![
                (key("http_req_duration"), trend(&all)),
                (key("http_reqs"), Aggregate::Counter { count: all.len() as f64, per_second: None }),
            ];
            if !flow.is_empty() {
                figures.push((key("http_req_duration{flow:a}"), trend(&flow)));
                figures.push((key("http_reqs{flow:a}"), Aggregate::Counter { count: flow.len() as f64, per_second: None }));
            }
            let set = set_of(figures);
            let target = key("http_req_duration{flow:a,expected_response:true}");
            let stats = [Stat::Min, Stat::Med, Stat::Percentile(90.0), Stat::Percentile(99.0), Stat::Max, Stat::Avg, Stat::Count];
            let stat = stats[stat_index];
            // A figure the samples give: a count, or any value within the narrow samples' range.
            if !narrow.is_empty() {
                let (low, high) = narrow.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
                let honest = match stat {
                    Stat::Count => narrow.len() as f64,
                    Stat::Min => low,
                    Stat::Max => high,
                    _ => low + (high - low) * pick,
                };
                proptest::prop_assert_eq!(set.admits(&target, stat, honest), None, "{} {} of {:?}", stat, honest, narrow);
            }
            // A figure no run could have measured beside these.
            let parent = if flow.is_empty() { &all } else { &flow };
            let (low, high) = parent.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
            let wrong = match stat {
                Stat::Count => (parent.len() as u32 + beyond) as f64,
                _ if below && low > f64::from(beyond) => low - f64::from(beyond),
                _ => high + f64::from(beyond),
            };
            let refused = set.admits(&target, stat, wrong);
            proptest::prop_assert!(refused.is_some(), "{} {} beside {:?}", stat, wrong, parent);
        }
    }

    #[test]
    fn the_reviewers_cases_are_refused() {
        // round20-figures/02: p(99) 30 ms of a subset of a flow measured 285..488 ms.
        let mut flow = trend(&[285.0, 488.0]);
        if let Aggregate::Trend(stats) = &mut flow {
            stats.0.insert("p(95)".into(), 446.0);
        }
        let set = set_of(vec![
            (key("http_req_duration{flow:auth_list}"), flow),
            (key("http_reqs"), Aggregate::Counter { count: 136.0, per_second: None }),
        ]);
        let why = set
            .admits(&key("http_req_duration{flow:auth_list,expected_response:true}"), Stat::Percentile(99.0), 30.0)
            .unwrap();
        assert!(why.contains("outside its parent http_req_duration{flow:auth_list}'s min 285"), "{why}");
        // round20-figures/04: a flow counting 500 requests of a 136-request run.
        let why = set.admits(&key("http_req_duration{flow:auth_list}"), Stat::Count, 500.0);
        assert!(why.is_some_and(|why| why.contains("136")));
    }
}
