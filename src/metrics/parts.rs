//! A part never exceeds its whole: a k6 sub-metric (`http_req_failed{flow:x}`) is a filter over
//! its parent's samples (the same name with fewer tags), so it cannot count more than the
//! parent, nor reach past its extremes. The one check, for every summary shape, made on a
//! `MetricSet` once it is read (finding round14-figures/04: a flow's rate with 6003 samples
//! under a parent of 214 was judged as written).

use std::collections::{BTreeMap, HashMap};

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

/// Whether `whole` is a parent of `part`: the same metric, its tags a strict subset (what
/// `check_parts_within_wholes` finds through `HeldTagSets`).
#[cfg(test)]
fn is_parent(whole: &MetricKey, part: &MetricKey) -> bool {
    whole.name == part.name
        && whole.tags.len() < part.tags.len()
        && whole.tags.iter().all(|(tag, value)| part.tags.get(tag) == Some(value))
}

/// The held tag sets of a reader, found by the pairs they hold: for a key, the held sets (of its
/// scope: a metric name, or one scope for all) whose tags are all among its own (finding
/// round35-figures/04: a walk of the subsets of a key's tags cost cubic time in its tags and
/// 3^k over a family holding every subset of k tags; round34-text/02 before it, a scan of every
/// held key for each).
///
/// Each held set is filed once, under its rarest pair (the pair the fewest held sets of its
/// scope hold), or among its scope's untagged sets. A held set whose tags are among a key's holds
/// the pair it is filed under, so the key finds it among the sets filed under its own pairs, and
/// each held set is a candidate at most once per key. Pairs are numbered once, and each held set
/// carries a 64-bit signature of its pairs' numbers (exact while the reader holds at most 64
/// pairs): a candidate holding a pair the key lacks is mostly refused by one comparison of
/// signatures, the rest by at most one search of the key's sorted numbers per pair (nothing
/// cloned, no text compared). So a reader of `n` keys of at most `k` tags does O(n·k) work to
/// build the index and at most n·n·(k + 1) comparisons over all keys: O(n²·k) at worst, whatever
/// the family (finding every pair of sets one within the other is not known to be possible in
/// much less in general), O(n²) for a family of every subset of k tags (each candidate not a
/// subset is refused by its signature), and O(n·c·k) when each key holds a pair at most c keys
/// hold, as k6's tags (a flow, a URL, a status) do. A key holds at most `MetricKey::MAX_TAGS`
/// tags, refused when read.
pub(super) struct HeldTagSets<'k> {
    /// Per held set: the numbers of its pairs, ascending, and their signature.
    held: Vec<(Vec<u32>, u64)>,
    /// (scope, tag, value) -> its number, the index of `filed`.
    numbers: HashMap<(&'k str, &'k str, &'k str), u32>,
    /// Per pair: the held sets filed under it, their rarest.
    filed: Vec<Vec<usize>>,
    /// scope -> the held sets without tags (among any key's of that scope).
    untagged: HashMap<&'k str, Vec<usize>>,
}

#[cfg(test)]
thread_local! {
    /// Comparisons `HeldTagSets::subsets_of` made on this thread: its cost, counted for the tests
    /// that bound it by the size of the input (time is too noisy a measure to assert on).
    pub(super) static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The signature of pairs numbered `numbers`: a bit per number, modulo 64.
fn signature(numbers: &[u32]) -> u64 {
    numbers.iter().fold(0, |bits, number| bits | 1 << (number % 64))
}

impl<'k> HeldTagSets<'k> {
    /// The index of `held`: each a scope and its tags, in the order `subsets_of` names them by.
    pub(super) fn new(held: impl IntoIterator<Item = (&'k str, &'k BTreeMap<String, String>)>) -> Self {
        let mut numbers: HashMap<(&str, &str, &str), u32> = HashMap::new();
        let mut holders: Vec<usize> = Vec::new();
        let mut scopes = Vec::new();
        let mut sets = Vec::new();
        for (scope, tags) in held {
            let mut own = Vec::with_capacity(tags.len());
            for (tag, value) in tags {
                let next = numbers.len() as u32;
                let number = *numbers.entry((scope, tag, value)).or_insert(next);
                if number == next {
                    holders.push(0);
                }
                holders[number as usize] += 1;
                own.push(number);
            }
            own.sort_unstable();
            scopes.push(scope);
            sets.push(own);
        }
        let (mut filed, mut untagged) = (vec![Vec::new(); holders.len()], HashMap::<&str, Vec<usize>>::new());
        for (index, own) in sets.iter().enumerate() {
            match own.iter().min_by_key(|number| holders[**number as usize]) {
                Some(rarest) => filed[*rarest as usize].push(index),
                None => untagged.entry(scopes[index]).or_default().push(index),
            }
        }
        let held = sets.into_iter().map(|own| {
            let bits = signature(&own);
            (own, bits)
        });
        HeldTagSets { held: held.collect(), numbers, filed, untagged }
    }

    /// The held sets of `scope` whose tags are all among `tags` (an equal one included), as their
    /// indices in the order given to `new`, ascending.
    pub(super) fn subsets_of(&self, scope: &str, tags: &BTreeMap<String, String>) -> Vec<usize> {
        let mut found: Vec<usize> = self.untagged.get(scope).cloned().unwrap_or_default();
        // A pair no held set holds is in no candidate.
        let mut own: Vec<u32> = tags
            .iter()
            .filter_map(|(tag, value)| self.numbers.get(&(scope, tag.as_str(), value.as_str())).copied())
            .collect();
        own.sort_unstable();
        let own_bits = signature(&own);
        for number in &own {
            for &index in &self.filed[*number as usize] {
                let (held, bits) = &self.held[index];
                #[cfg(test)]
                COMPARISONS.with(|count| count.set(count.get() + 1));
                let among = bits & !own_bits == 0
                    && held.len() <= own.len()
                    && held.iter().all(|number| {
                        #[cfg(test)]
                        COMPARISONS.with(|count| count.set(count.get() + 1));
                        own.binary_search(number).is_ok()
                    });
                if among {
                    found.push(index);
                }
            }
        }
        found.sort_unstable();
        found
    }
}

impl MetricSet {
    /// Every sub-metric against every parent the set holds (`exceeds`); `Err` names both.
    pub fn check_parts_within_wholes(&self) -> Result<(), String> {
        let keys: Vec<(&MetricKey, &super::Metric)> = self.metrics.iter().collect();
        // Whether each figure holds samples, once per key: a key is related to each of its
        // parents (3^k pairs over every subset of k tags), so the work per pair stays small.
        let sampled: Vec<bool> = keys.iter().map(|(_, metric)| !metric.aggregate.is_empty()).collect();
        let held = HeldTagSets::new(keys.iter().map(|(key, _)| (key.name.as_str(), &key.tags)));
        for (own, (part, part_metric)) in keys.iter().copied().enumerate() {
            if part.tags.is_empty() {
                continue;
            }
            // Each a parent (`is_parent`): `subsets_of` is held to a scan by the tests.
            for index in held.subsets_of(&part.name, &part.tags).into_iter().filter(|&index| index != own) {
                let (whole, whole_metric) = keys[index];
                let (part_figures, whole_figures) = (&part_metric.aggregate, &whole_metric.aggregate);
                let (part_sampled, whole_sampled) = (sampled[own], sampled[index]);
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

    /// The held sets of `scope` whose tags are all among `tags`, as a scan of every held set
    /// finds them: the reference `HeldTagSets::subsets_of` is held to.
    fn scanned(
        held: &[(String, BTreeMap<String, String>)],
        scope: &str,
        tags: &BTreeMap<String, String>,
    ) -> Vec<usize> {
        (0..held.len())
            .filter(|&i| held[i].0 == scope && held[i].1.iter().all(|(tag, value)| tags.get(tag) == Some(value)))
            .collect()
    }

    /// The comparisons `run` made through `HeldTagSets::subsets_of`.
    fn comparisons(run: impl FnOnce()) -> u64 {
        let before = COMPARISONS.with(std::cell::Cell::get);
        run();
        COMPARISONS.with(std::cell::Cell::get) - before
    }

    fn tag_sets() -> impl proptest::strategy::Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map("t[0-9]", "[01]", 0..=10)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Findings round34-text/02 and round35-figures/04, the class: the held sets whose tags
        /// are among a key's (found through the index of their rarest pairs) are exactly those a
        /// scan of every held set finds, for random families over up to 10 tags; the work is
        /// bounded by the doc's n²·(k + 1) comparisons for n keys of at most k tags, and by
        /// n·(k + 2) when each key holds a pair of its own (as k6's flow or URL tags do).
        #[test]
        fn held_sets_found_are_those_a_scan_finds_in_bounded_work(
            family in proptest::collection::btree_set(("[ab]", tag_sets()), 0..64),
            probe in ("[ab]", tag_sets()),
            own_pairs in proptest::bool::ANY,
        ) {
            let mut held: Vec<(String, BTreeMap<String, String>)> = family.into_iter().collect();
            if own_pairs {
                for (i, (_, tags)) in held.iter_mut().enumerate() {
                    tags.insert("id".to_string(), i.to_string());
                }
            }
            let index = HeldTagSets::new(held.iter().map(|(scope, tags)| (scope.as_str(), tags)));
            let (n, k) = (held.len() as u64, held.iter().map(|h| h.1.len()).max().unwrap_or(0) as u64);
            let work = comparisons(|| {
                for (scope, tags) in &held {
                    assert_eq!(index.subsets_of(scope, tags), scanned(&held, scope, tags));
                }
            });
            let bound = if own_pairs { n * (k + 2) } else { n * n * (k + 1) };
            proptest::prop_assert!(work <= bound, "{work} comparisons for {n} keys of at most {k} tags (bound {bound})");
            proptest::prop_assert_eq!(index.subsets_of(&probe.0, &probe.1), scanned(&held, &probe.0, &probe.1));
        }
    }

    /// Finding round35-figures/04: a trend holding every subset of 12 tags (4096 keys) cost 3^12
    /// visits of the subset lattice, each with a probe per pair cloning its prefix (68 s). Every
    /// parent is still found (3^12 pairs of a key and a held subset of it, its own included) and
    /// the comparisons made are within the bounds the doc states: n²·(k + 1), and for this
    /// family n² plus k + 1 per pair found.
    #[test]
    fn every_subset_of_twelve_tags_is_related_in_bounded_work() {
        let stats = TrendStats(BTreeMap::from([
            ("min".to_string(), 1.0),
            ("max".to_string(), 2.0),
            ("count".to_string(), 3.0),
        ]));
        let mut set = MetricSet::default();
        let mut held = Vec::new();
        for mask in 0u32..1 << 12 {
            let tags: BTreeMap<String, String> = (0..12)
                .filter(|bit| mask & (1 << bit) != 0)
                .map(|bit| (format!("t{bit:02}"), "v".to_string()))
                .collect();
            let metric = crate::metrics::Metric {
                aggregate: Aggregate::Trend(stats.clone()),
                is_time: true,
                k6_verdicts: Vec::new(),
                provenance: crate::metrics::Provenance::Env { name: "T".into() },
            };
            held.push(("http_req_duration".to_string(), tags.clone()));
            set.metrics.insert(MetricKey { name: "http_req_duration".into(), tags }, metric);
        }
        let index = HeldTagSets::new(held.iter().map(|(scope, tags)| (scope.as_str(), tags)));
        let mut related = 0;
        let work = comparisons(|| related = held.iter().map(|(scope, tags)| index.subsets_of(scope, tags).len()).sum());
        assert_eq!(related, 3usize.pow(12));
        let (n, k) = (held.len() as u64, 12);
        assert!(work <= n * n * (k + 1), "{work} comparisons");
        // Each candidate not a subset refused by its signature: one comparison, so about n² in all.
        assert!(work <= n * n + related as u64 * (k + 1), "{work} comparisons");
        assert_eq!(set.check_parts_within_wholes(), Ok(()));
        // One part beyond its whole is still found among them.
        let part = key("http_req_duration{t00:v,t05:v,t11:v}");
        let mut wider = stats.0.clone();
        wider.insert("max".to_string(), 9.0);
        set.metrics.get_mut(&part).unwrap().aggregate = Aggregate::Trend(TrendStats(wider));
        let why = set.check_parts_within_wholes().unwrap_err();
        assert!(why.contains("has max 9") && why.contains("parent"), "{why}");
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
