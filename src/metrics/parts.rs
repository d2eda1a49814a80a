//! A part never exceeds its whole: a k6 sub-metric (`http_req_failed{flow:x}`) is a filter over
//! its parent's samples (the same name with fewer tags), so it cannot count more than the
//! parent, nor reach past its extremes. The one check, for every summary shape, made on a
//! `MetricSet` once it is read (finding round14-figures/04: a flow's rate with 6003 samples
//! under a parent of 214 was judged as written).

use std::collections::BTreeMap;

use super::{Aggregate, MetricKey, MetricKind, MetricSet, TrendStats};

/// Why `part` (a sub-metric of `whole`) holds what `whole` cannot contain, or `None` when it
/// fits. Rates: samples, matching and not matching samples each no more than the parent's.
/// k6's own counters: a count no more than the parent's (a custom counter may add negative
/// values, so its parts bound nothing). Trends: the part's min no lower, its max no higher (both
/// holding samples: an empty trend is written with zeros) and its count no more than the
/// parent's. Gauges hold their last value: no bound.
#[cfg(test)]
pub fn exceeds(
    part: &MetricKey,
    part_figures: &Aggregate,
    whole: &MetricKey,
    whole_figures: &Aggregate,
) -> Option<String> {
    exceeds_sampled(part, part_figures, !part_figures.is_empty(), whole, whole_figures, !whole_figures.is_empty())
}

/// `exceeds`, told whether each side holds samples (a figure from elsewhere holding a single
/// statistic says so by being given, whatever its value). Every statistic of a part's trend
/// with a place in its distribution (percentiles, med, avg) also lies within the whole's
/// extremes: its samples are among the whole's.
pub(super) fn exceeds_sampled(
    part: &MetricKey,
    part_figures: &Aggregate,
    part_sampled: bool,
    whole: &MetricKey,
    whole_figures: &Aggregate,
    whole_sampled: bool,
) -> Option<String> {
    let above = |what: &str, part_value: String, whole_value: String| {
        Some(format!(
            "{part} {what} {part_value}, more than its parent {whole}'s {whole_value}: a sub-metric counts a part of its parent's samples"
        ))
    };
    match (part_figures, whole_figures) {
        (Aggregate::Rate { matches, total }, Aggregate::Rate { matches: whole_matches, total: whole_total }) => {
            if total > whole_total {
                return above("counts", format!("{total} samples"), whole_total.to_string());
            }
            if matches > whole_matches {
                return above("counts", format!("{matches} matching samples"), whole_matches.to_string());
            }
            let (rest, whole_rest) = (total - matches, whole_total - whole_matches);
            if rest > whole_rest {
                return above("counts", format!("{rest} samples not matching"), whole_rest.to_string());
            }
            None
        }
        (Aggregate::Counter { count, .. }, Aggregate::Counter { count: whole_count, .. })
            if MetricKind::of_builtin(&part.name) == Some(MetricKind::Counter) && count > whole_count =>
        {
            above("counts", count.to_string(), whole_count.to_string())
        }
        (Aggregate::Trend(stats), Aggregate::Trend(whole_stats)) => {
            // An empty trend (no samples) is written with zeros: it has no extremes.
            let extremes = part_sampled && whole_sampled;
            let pair = |stat: &str| {
                Some((*stats.0.get(stat)?, *whole_stats.0.get(stat)?)).filter(|_| extremes || stat == "count")
            };
            if let Some((min, whole_min)) = pair("min") {
                if min < whole_min {
                    return Some(format!(
                        "{part} min {min} is below its parent {whole}'s min {whole_min}: a sub-metric's samples are among its parent's"
                    ));
                }
            }
            if let Some((max, whole_max)) = pair("max") {
                if max > whole_max {
                    return above("has max", max.to_string(), whole_max.to_string());
                }
            }
            if extremes {
                if let Some(why) = beyond_extremes(part, stats, whole, whole_stats) {
                    return Some(why);
                }
            }
            if let Some((count, whole_count)) = pair("count") {
                if count > whole_count {
                    return above("counts", format!("{count} samples"), whole_count.to_string());
                }
            }
            None
        }
        _ => None,
    }
}

/// A statistic of the part with a place in its distribution (min, a percentile, med, avg, max) outside
/// the whole's [min, max]. Slack: the rounding of a mean's sum or an interpolated percentile,
/// far below anything a threshold tells apart.
fn beyond_extremes(
    part: &MetricKey,
    stats: &TrendStats,
    whole: &MetricKey,
    whole_stats: &TrendStats,
) -> Option<String> {
    let (whole_min, whole_max) = (whole_stats.0.get("min")?, whole_stats.0.get("max")?);
    let slack = 1e-9 * whole_min.abs().max(whole_max.abs());
    stats.0.iter().find_map(|(stat, value)| {
        use super::Stat::{Avg, Max, Med, Min, Percentile};
        let placed = matches!(super::Stat::parse_key(stat), Ok(Percentile(_) | Med | Avg | Min | Max));
        (placed && (*value < whole_min - slack || *value > whole_max + slack)).then(|| {
            format!(
                "{part} {stat} {value} lies outside its parent {whole}'s min {whole_min} and max {whole_max}: a sub-metric's samples are among its parent's"
            )
        })
    })
}

/// Whether `whole` is a parent of `part`: the same metric, its tags a strict subset.
pub(super) fn is_parent(whole: &MetricKey, part: &MetricKey) -> bool {
    whole.name == part.name
        && whole.tags.len() < part.tags.len()
        && whole.tags.iter().all(|(tag, value)| part.tags.get(tag) == Some(value))
}

/// Visits every subset of `tags` (as its pairs in order, the whole set included) that
/// `has_prefix` says some held key begins with, and only those: the subsets of a key's tags
/// among the keys a reader holds, found without a scan of every key for each (finding
/// round34-text/02: a summary of 20,000 sub-metrics, each checked against every metric, took
/// minutes). A held key's tags are in order (a `BTreeMap`), so every key whose tags begin with
/// a given run of pairs lies in one range; a subset no held key begins with ends its branch, so
/// the work is the subsets actually held, not the 2^n of a key with n tags.
pub(super) fn held_tag_subsets<'t>(
    tags: &'t BTreeMap<String, String>,
    mut has_prefix: impl FnMut(&[(&'t String, &'t String)]) -> bool,
    mut visit: impl FnMut(&[(&'t String, &'t String)]),
) {
    let pairs: Vec<(&String, &String)> = tags.iter().collect();
    // (the subset so far, the first pair it may still take)
    let mut stack: Vec<(Vec<(&String, &String)>, usize)> = vec![(Vec::new(), 0)];
    if !has_prefix(&[]) {
        return;
    }
    while let Some((subset, next)) = stack.pop() {
        visit(&subset);
        for (index, pair) in pairs.iter().enumerate().skip(next) {
            let mut longer = subset.clone();
            longer.push(*pair);
            if has_prefix(&longer) {
                stack.push((longer, index + 1));
            }
        }
    }
}

/// The tags of a key, from a subset `held_tag_subsets` visits.
pub(super) fn owned(pairs: &[(&String, &String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(tag, value)| ((*tag).clone(), (*value).clone())).collect()
}

impl MetricSet {
    /// Whether some key of the set is `name` with tags that begin with `prefix` (in order).
    fn holds_prefix(&self, name: &str, prefix: &[(&String, &String)]) -> bool {
        let from = MetricKey { name: name.to_string(), tags: owned(prefix) };
        self.metrics.range(from..).next().is_some_and(|(key, _)| {
            key.name == name && key.tags.len() >= prefix.len() && key.tags.iter().zip(prefix).all(|(a, b)| a == *b)
        })
    }

    /// Every sub-metric against every parent the set holds (`exceeds`); `Err` names both.
    pub fn check_parts_within_wholes(&self) -> Result<(), String> {
        let sampled = |_: &MetricKey, aggregate: &Aggregate| !aggregate.is_empty();
        for (part, part_metric) in &self.metrics {
            if part.tags.is_empty() {
                continue;
            }
            let mut parents = Vec::new();
            held_tag_subsets(
                &part.tags,
                |prefix| self.holds_prefix(&part.name, prefix),
                |subset| {
                    if subset.len() < part.tags.len() {
                        let whole = MetricKey { name: part.name.clone(), tags: owned(subset) };
                        parents.extend(self.metrics.get_key_value(&whole));
                    }
                },
            );
            for (whole, whole_metric) in parents {
                debug_assert!(is_parent(whole, part));
                let (part_figures, whole_figures) = (&part_metric.aggregate, &whole_metric.aggregate);
                let (part_sampled, whole_sampled) = (sampled(part, part_figures), sampled(whole, whole_figures));
                if let Some(why) =
                    exceeds_sampled(part, part_figures, part_sampled, whole, whole_figures, whole_sampled)
                {
                    // The set's path prefixes the reader's error: name each figure by its key.
                    let place = |metric: &super::Metric| match &metric.provenance {
                        super::Provenance::File { key, .. } => key.clone(),
                        other => other.to_string(),
                    };
                    return Err(format!("{} and {}: {why}", place(part_metric), place(whole_metric)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::TrendStats;

    fn key(text: &str) -> MetricKey {
        MetricKey::parse(text).unwrap()
    }

    proptest::proptest! {
        /// Finding round34-text/02, the class: the subsets of a key's tags found through the
        /// held keys' order (`held_tag_subsets`) are exactly the held keys of the same name
        /// whose tags are among the key's, as a scan of every held key finds them.
        #[test]
        fn held_tag_subsets_are_the_held_keys_a_scan_finds(
            held in proptest::collection::btree_set(("[ab]", proptest::collection::btree_map("[pqr]", "[01]", 0..4)), 0..24),
            name in "[ab]",
            tags in proptest::collection::btree_map("[pqr]", "[01]", 0..4),
        ) {
            let mut set = MetricSet::default();
            for (name, tags) in &held {
                let metric = crate::metrics::Metric {
                    aggregate: Aggregate::Gauge { value: Some(1.0), min: None, max: None },
                    is_time: false,
                    k6_verdicts: Vec::new(),
                    provenance: crate::metrics::Provenance::Env { name: "T".into() },
                };
                set.metrics.insert(MetricKey { name: name.clone(), tags: tags.clone() }, metric);
            }
            let mut found = Vec::new();
            held_tag_subsets(&tags, |prefix| set.holds_prefix(&name, prefix), |subset| {
                let key = MetricKey { name: name.clone(), tags: owned(subset) };
                if set.metrics.contains_key(&key) {
                    found.push(key);
                }
            });
            found.sort();
            let scanned: Vec<MetricKey> = set
                .metrics
                .keys()
                .filter(|k| k.name == name && k.tags.iter().all(|(tag, value)| tags.get(tag) == Some(value)))
                .cloned()
                .collect();
            proptest::prop_assert_eq!(found, scanned);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Finding round14-figures/04. Rule: a sub-metric drawn from its parent's samples
        /// always fits (rates, k6 counters, trends); one counting a sample more than its parent
        /// in any of a rate's counts, a counter's count, or a trend's min, max or count is
        /// refused, naming both.
        #[test]
        fn a_part_drawn_from_its_whole_fits_and_one_beyond_it_is_refused(
            samples in proptest::collection::vec((0u32..10_000, proptest::bool::ANY, proptest::bool::ANY), 1..40),
            beyond in 1u64..1000,
            which in 0usize..6,
        ) {
            // Each sample: a value, whether it matches (rate), whether it is in the part.
            let part_samples: Vec<_> = samples.iter().filter(|s| s.2).collect();
            let count = |list: &[&(u32, bool, bool)], matching: bool| list.iter().filter(|s| s.1 == matching).count() as u64;
            let all: Vec<_> = samples.iter().collect();
            let rate = |list: &[&(u32, bool, bool)]| Aggregate::Rate { matches: count(list, true), total: list.len() as u64 };
            let trend = |list: &[&(u32, bool, bool)]| {
                let values: Vec<f64> = list.iter().map(|s| f64::from(s.0)).collect();
                let mut stats = BTreeMap::new();
                if !values.is_empty() {
                    stats.insert("min".to_string(), values.iter().copied().fold(f64::INFINITY, f64::min));
                    stats.insert("max".to_string(), values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
                }
                stats.insert("count".to_string(), values.len() as f64);
                Aggregate::Trend(TrendStats(stats))
            };
            let counter = |list: &[&(u32, bool, bool)]| Aggregate::Counter { count: list.len() as f64, per_second: None };
            let cases = [
                ("http_req_failed", rate(&part_samples), rate(&all)),
                ("http_reqs", counter(&part_samples), counter(&all)),
                ("http_req_duration", trend(&part_samples), trend(&all)),
            ];
            for (name, part, whole) in &cases {
                let (part_key, whole_key) = (key(&format!("{name}{{flow:x}}")), key(name));
                proptest::prop_assert_eq!(exceeds(&part_key, part, &whole_key, whole), None);
            }
            // One figure of the part pushed past the whole.
            let (name, edited) = match (which, &cases) {
                (0, [(_, Aggregate::Rate { matches, .. }, Aggregate::Rate { total: whole, .. }), ..]) =>
                    ("http_req_failed", Aggregate::Rate { matches: *matches, total: whole + beyond }),
                (1, [(_, _, Aggregate::Rate { matches: whole, total: whole_total }), ..]) =>
                    ("http_req_failed", Aggregate::Rate { matches: whole + beyond, total: whole_total + beyond }),
                (2, [_, (_, _, Aggregate::Counter { count, .. }), _]) =>
                    ("http_reqs", Aggregate::Counter { count: count + beyond as f64, per_second: None }),
                (3..=5, [_, _, (_, Aggregate::Trend(part), Aggregate::Trend(whole))]) => {
                    let mut stats = part.0.clone();
                    let (stat, value) = match which {
                        3 => ("min", whole.0.get("min").copied().unwrap_or(0.0) - beyond as f64),
                        4 => ("max", whole.0.get("max").copied().unwrap_or(0.0) + beyond as f64),
                        _ => ("count", whole.0["count"] + beyond as f64),
                    };
                    stats.insert(stat.to_string(), value);
                    if which != 5 {
                        // Extremes of a part holding samples (an empty trend has none).
                        let count = stats.get("count").copied().unwrap_or(0.0).max(1.0);
                        stats.insert("count".to_string(), count);
                    }
                    if which != 5 && !whole.0.contains_key(stat) {
                        return Ok(()); // an empty parent states no extremes to exceed
                    }
                    ("http_req_duration", Aggregate::Trend(TrendStats(stats)))
                }
                _ => unreachable!(),
            };
            let whole = &cases.iter().find(|c| c.0 == name).unwrap().2;
            let why = exceeds(&key(&format!("{name}{{flow:x}}")), &edited, &key(name), whole);
            proptest::prop_assert!(why.as_ref().is_some_and(|w| w.contains(&format!("{name}{{flow:x}}")) && w.contains("parent")), "{:?}", why);
        }
    }

    #[test]
    fn a_custom_counter_and_unrelated_metrics_bound_nothing() {
        let counter = |count: f64| Aggregate::Counter { count, per_second: None };
        assert_eq!(exceeds(&key("my_counter{flow:x}"), &counter(10.0), &key("my_counter"), &counter(5.0)), None);
        assert!(is_parent(&key("checks{flow:x}"), &key("checks{flow:x,name:y}")));
        assert!(!is_parent(&key("checks{flow:x}"), &key("checks{flow:z,name:y}")));
        assert!(!is_parent(&key("checks"), &key("http_req_failed{flow:x}")));
    }
}
