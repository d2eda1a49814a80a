//! One request, one sample in each metric of its stream: k6 records an HTTP request as one
//! `http_reqs` sample and one sample of every `http_req_*` trend (duration, waiting, ...), all
//! with the request's tags; an iteration as one `iterations` and one `iteration_duration`
//! sample. So, wherever a summary states both, their counts agree; the one check, for every
//! summary shape and raw results, made on a `MetricSet` once it is read (finding
//! round15-figures/01: `http_req_failed` counting 455 requests beside `http_reqs` counting 214
//! was judged as written). A figure missing is no contradiction: not every shape carries every
//! metric or a trend's count.
//!
//! Checked against real k6 (1.1.0: a setup request, a redirect, a refused connection, a
//! request with `responseCallback: null`): redirects and failed connections count in every
//! metric alike; setup and teardown add no iteration; a request whose response callback is
//! `null` adds no `http_req_failed` sample (k6 records it only when a callback judged the
//! request), so `http_req_failed` may count fewer requests than `http_reqs`, never more.
//!
//! A counter's `rate` is its count over the run's duration, one duration for every counter of
//! the run (k6's `CounterSink` formats each with the test run's duration; gatecheck's native
//! writer divides by `duration_s`), so every counter's count / rate is that one duration, and
//! it is the duration the file records where it records one (finding round18-figures/02:
//! `http_reqs.rate` edited alone to 60.5/s, 214 requests in 3.5 s of a 10.58 s run, passed a
//! `rate > 50` gate). A count of 0 is a rate of 0 over any duration (finding
//! round19-figures/04).

use std::collections::BTreeMap;

use super::{Aggregate, MetricKey, MetricSet, Provenance};

/// The metrics one stream of events (requests, iterations) is counted in: `every` holds a
/// sample per event, `at_most` a sample per event or none.
struct Stream {
    every: &'static [&'static str],
    at_most: &'static [&'static str],
}

const STREAMS: [Stream; 2] = [
    Stream {
        every: &[
            "http_reqs",
            "http_req_duration",
            "http_req_blocked",
            "http_req_connecting",
            "http_req_tls_handshaking",
            "http_req_sending",
            "http_req_waiting",
            "http_req_receiving",
        ],
        at_most: &["http_req_failed"],
    },
    Stream { every: &["iterations", "iteration_duration"], at_most: &[] },
];

/// How many events a figure counts, where it says: a rate's samples, a counter's count, a
/// trend's `count` statistic.
pub(super) fn events(aggregate: &Aggregate) -> Option<f64> {
    match aggregate {
        Aggregate::Rate { total, .. } => Some(*total as f64),
        Aggregate::Counter { count, .. } => Some(*count),
        Aggregate::Trend(stats) => stats.0.get("count").copied(),
        Aggregate::Gauge { .. } => None,
    }
}

/// Whether `key` counts every event of its stream (`Some(true)`), at most one per event
/// (`Some(false)`), and which stream; `None` for metrics of no stream.
fn member(key: &MetricKey) -> Option<(usize, bool)> {
    STREAMS.iter().enumerate().find_map(|(index, stream)| {
        if stream.every.contains(&key.name.as_str()) {
            Some((index, true))
        } else {
            stream.at_most.contains(&key.name.as_str()).then_some((index, false))
        }
    })
}

/// Why two figures of one stream cannot both be true, or `None` when they agree. Same tags:
/// two metrics counting every event count the same; one counting at most one sample per event
/// counts no more than one counting every event. Tags of `a` a strict subset of `b`'s: `b`
/// counts a part of the events `a` counts, so no more than `a` when `a` counts every event.
/// Two figures of one metric are `parts`'s to compare.
pub fn disagreement(a: &MetricKey, a_count: f64, b: &MetricKey, b_count: f64) -> Option<String> {
    let ((stream_a, every_a), (stream_b, every_b)) = (member(a)?, member(b)?);
    if stream_a != stream_b || a.name == b.name {
        return None;
    }
    let event = if stream_a == 0 { "request" } else { "iteration" };
    let how = if every_a && every_b { "one sample to each" } else { "one sample, or none to http_req_failed," };
    let contradiction =
        |what: &str| Some(format!("{a} counts {a_count} and {b} counts {b_count}: {what} (k6 adds {how} per {event})"));
    let subset = |of: &MetricKey, within: &MetricKey| {
        of.tags.len() < within.tags.len() && of.tags.iter().all(|(tag, value)| within.tags.get(tag) == Some(value))
    };
    if a.tags == b.tags {
        return match (every_a, every_b) {
            (true, true) if a_count != b_count => contradiction("they must be equal"),
            (true, false) if b_count > a_count => contradiction(&format!("{b} cannot count more than {a}")),
            (false, true) if a_count > b_count => contradiction(&format!("{a} cannot count more than {b}")),
            _ => None,
        };
    }
    if subset(a, b) && every_a && b_count > a_count {
        return contradiction(&format!("{b} counts a part of the events {a} counts"));
    }
    if subset(b, a) && every_b && a_count > b_count {
        return contradiction(&format!("{a} counts a part of the events {b} counts"));
    }
    None
}

/// Relative slack of the one-duration rule: k6 rounds count / duration once, the reader's
/// count / rate once more, and a recorded duration (`testRunDurationMs` / 1e3) once or twice:
/// a few ULPs (at most 1.7e-16 on every real k6 file). 1e-12 is thousands of ULPs, and far
/// below any change of a rate a threshold could tell.
pub const DURATION_SLACK: f64 = 1e-12;

/// Whether two durations are one within the rounding of their derivations.
fn same_duration(a: f64, b: f64) -> bool {
    a == b || (a.is_finite() && b.is_finite() && (a - b).abs() <= DURATION_SLACK * a.abs().max(b.abs()))
}

impl MetricSet {
    /// The one duration every counter rate derives from (see the module's doc): each counter
    /// with a count above 0 and a rate implies count / rate; all agree, and agree with the
    /// file's own `run_duration` where it records one. `Err` names the counter, the duration
    /// its rate implies and the duration it contradicts (the recorded one, else the one most
    /// counters imply, naming one of them). A count of 0 says nothing of the duration, and is
    /// a rate of 0 over any duration: another rate beside it is `Err` naming the counter
    /// (finding round19-figures/04: `http_reqs` {count 0, rate 60.5} passed `rate > 50`).
    pub fn check_rates_agree(&self) -> Result<(), String> {
        let implied = self.implied_durations()?;
        let Some((seconds, what)) = self.reference_duration(&implied) else { return Ok(()) };
        for (shown, count, rate, duration) in &implied {
            if !same_duration(*duration, seconds) {
                return Err(format!(
                    "{shown}: count {count} at rate {rate}/s is a run of {duration} s, but {what} is a run of {seconds} s \
                     (k6 derives every counter's rate from the one run duration)"
                ));
            }
        }
        Ok(())
    }

    /// The run's duration in seconds and where it is read: the file's own record, else the one
    /// its counters' count / rate imply (see `check_rates_agree`, which holds them to one).
    /// None when the file records none and no counter with a count carries a rate.
    pub fn run_seconds(&self) -> Option<(f64, String)> {
        self.reference_duration(&self.implied_durations().ok()?)
    }

    /// Each counter with a count above 0 and a rate: (shown, count, rate, count / rate).
    fn implied_durations(&self) -> Result<Vec<(String, f64, f64, f64)>, String> {
        let place = |metric: &super::Metric| match &metric.provenance {
            Provenance::File { key, .. } => key.clone(),
            other => other.to_string(),
        };
        let mut implied: Vec<(String, f64, f64, f64)> = Vec::new();
        for (key, metric) in &self.metrics {
            let Aggregate::Counter { count, per_second: Some(rate) } = metric.aggregate else { continue };
            let shown = format!("{key} ({})", place(metric));
            if count == 0.0 {
                // k6 writes 0 / the run's duration: 0 exactly, whatever the duration.
                if rate != 0.0 {
                    return Err(format!(
                        "{shown}: rate {rate}/s beside count {count}: a count of 0 is a rate of 0 over any run duration \
                         (k6 writes count / the run's duration)"
                    ));
                }
                continue;
            }
            // A custom counter may add negative values: its rate has its count's sign.
            let duration = count / rate;
            if !(duration.is_finite() && duration > 0.0) {
                return Err(format!(
                    "{shown}: rate {rate}/s beside count {count} implies no run duration (k6 writes count / the run's duration)"
                ));
            }
            implied.push((shown, count, rate, duration));
        }
        Ok(implied)
    }

    /// The recorded duration, else the one most counters imply (one counter edited is the one
    /// named), with what it is read from.
    fn reference_duration(&self, implied: &[(String, f64, f64, f64)]) -> Option<(f64, String)> {
        if let Some((seconds, field)) = &self.run_duration {
            return Some((*seconds, field.clone()));
        }
        // How many counters agree with a duration: counted in the durations sorted, where those
        // within the slack of `d` are one run of them (counting them afresh for each counter made a
        // summary of 20,000 counters cost minutes, finding round34-text/02).
        let mut sorted: Vec<f64> = implied.iter().map(|other| other.3).collect();
        sorted.sort_by(f64::total_cmp);
        let agreeing = |d: f64| {
            let first = sorted.partition_point(|&other| other < d && !same_duration(other, d));
            let end = sorted.partition_point(|&other| other <= d || same_duration(other, d));
            end - first
        };
        let mut best: Option<&(String, f64, f64, f64)> = None;
        for candidate in implied {
            if best.is_none_or(|b| agreeing(candidate.3) > agreeing(b.3)) {
                best = Some(candidate);
            }
        }
        best.map(|(shown, count, rate, d)| (*d, format!("{shown}: count {count} at rate {rate}/s")))
    }

    /// Every pair of figures of one stream (`disagreement`), the set's own and `also` (counts
    /// the reader knows besides its figures, e.g. raw results' `http_reqs` points); `Err` names
    /// both figures and their counts.
    pub fn check_counts_agree(&self, also: &[(MetricKey, f64, String)]) -> Result<(), String> {
        let place = |metric: &super::Metric| match &metric.provenance {
            Provenance::File { key, .. } => key.clone(),
            other => other.to_string(),
        };
        let mut figures: Vec<(&MetricKey, f64, String)> = self
            .metrics
            .iter()
            .filter(|(key, _)| member(key).is_some())
            .filter_map(|(key, metric)| Some((key, events(&metric.aggregate)?, place(metric))))
            .collect();
        for (key, count, shown) in also {
            if !self.metrics.contains_key(key) {
                figures.push((key, *count, shown.clone()));
            }
        }
        // Two figures disagree only when one's tags are the other's or a subset of them: each
        // figure is compared with those whose tags are among its own, found by their tags
        // (`parts::HeldTagSets`), never with every other figure (finding round34-text/02:
        // pairs of every figure made a summary of thousands of sub-metrics cost minutes).
        let mut by_tags: BTreeMap<&BTreeMap<String, String>, Vec<usize>> = BTreeMap::new();
        for (index, (key, ..)) in figures.iter().enumerate() {
            by_tags.entry(&key.tags).or_default().push(index);
        }
        let groups: Vec<(&BTreeMap<String, String>, &Vec<usize>)> =
            by_tags.iter().map(|(tags, at)| (*tags, at)).collect();
        let held = super::parts::HeldTagSets::new(groups.iter().map(|(tags, _)| ("", *tags)));
        // The first pair in the order of the figures that disagrees, as a walk of every pair names.
        let mut first: Option<(usize, usize, String)> = None;
        for (group, (tags, members)) in groups.iter().enumerate() {
            let within = held.subsets_of("", tags);
            for &index in *members {
                for &subset in &within {
                    let equal = subset == group;
                    for &other in groups[subset].1 {
                        if other == index || (equal && other < index) {
                            continue;
                        }
                        let (i, j) = (index.min(other), index.max(other));
                        if first.as_ref().is_some_and(|(fi, fj, _)| (*fi, *fj) <= (i, j)) {
                            continue;
                        }
                        let ((a, a_count, a_place), (b, b_count, b_place)) = (&figures[i], &figures[j]);
                        if let Some(why) = disagreement(a, *a_count, b, *b_count) {
                            first = Some((i, j, format!("{a_place} and {b_place}: {why}")));
                        }
                    }
                }
            }
        }
        match first {
            Some((.., message)) => Err(message),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::Strategy as _;

    use super::*;
    use crate::metrics::{Metric, TrendStats};

    fn key(text: &str) -> MetricKey {
        MetricKey::parse(text).unwrap()
    }

    /// A set holding `figures` as one summary would.
    fn set_of(figures: &[(MetricKey, Aggregate)]) -> MetricSet {
        let mut set = MetricSet::default();
        for (key, aggregate) in figures {
            let provenance = Provenance::File { path: "s.json".into(), key: format!("metrics[\"{key}\"]") };
            let metric = Metric { aggregate: aggregate.clone(), is_time: false, k6_verdicts: Vec::new(), provenance };
            set.metrics.insert(key.clone(), metric);
        }
        set
    }

    fn trend(count: u64) -> Aggregate {
        Aggregate::Trend(TrendStats(BTreeMap::from([("count".to_string(), count as f64)])))
    }

    /// Every figure a summary may state of a run: the requests of each flow, the requests of
    /// it a response callback judged (and how many it judged failed), its iterations.
    fn figures_of(flows: &[(u64, u64, u64, u64)], names: &[&str], tagged: bool) -> Vec<(MetricKey, Aggregate)> {
        let mut figures = Vec::new();
        let total = |pick: fn(&(u64, u64, u64, u64)) -> u64| flows.iter().map(pick).sum::<u64>();
        let mut tag_sets = vec![(String::new(), (total(|f| f.0), total(|f| f.1), total(|f| f.2), total(|f| f.3)))];
        if tagged {
            tag_sets.extend(flows.iter().enumerate().map(|(i, f)| (format!("{{flow:f{i}}}"), *f)));
        }
        for (tags, (requests, judged, failed, iterations)) in tag_sets {
            for name in names {
                let aggregate = match *name {
                    "http_req_failed" => Aggregate::Rate { matches: failed, total: judged },
                    "http_reqs" => Aggregate::Counter { count: requests as f64, per_second: None },
                    "iterations" => Aggregate::Counter { count: iterations as f64, per_second: None },
                    "iteration_duration" => trend(iterations),
                    _ => trend(requests),
                };
                figures.push((key(&format!("{name}{tags}")), aggregate));
            }
        }
        figures
    }

    const NAMES: [&str; 6] =
        ["http_reqs", "http_req_failed", "http_req_duration", "http_req_waiting", "iterations", "iteration_duration"];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Finding round15-figures/01. Rule: figures of one run's requests and iterations,
        /// whole and per flow, in any selection of metrics, agree; one figure counting one
        /// event more or fewer than its stream (or `http_req_failed` one more) is refused,
        /// naming both metrics and both counts.
        #[test]
        fn counts_of_one_stream_agree_and_one_off_is_refused(
            flows in proptest::collection::vec((0u64..500, 0u64..=100, 0u64..=100, 0u64..300), 1..4),
            shown in proptest::collection::vec(proptest::bool::ANY, NAMES.len()),
            tagged in proptest::bool::ANY,
            which in 0usize..64,
            up in proptest::bool::ANY,
        ) {
            // Judged requests at most all of them, failed at most the judged (as percentages).
            let flows: Vec<_> = flows
                .iter()
                .map(|&(requests, judged, failed, iterations)| {
                    let judged = requests * judged / 100;
                    (requests, judged, judged * failed / 100, iterations)
                })
                .collect();
            let names: Vec<&str> = NAMES.iter().zip(&shown).filter(|(_, s)| **s).map(|(n, _)| *n).collect();
            let figures = figures_of(&flows, &names, tagged);
            let set = set_of(&figures);
            proptest::prop_assert_eq!(set.check_counts_agree(&[]), Ok(()));
            // One figure one event off, where another of its stream states the count.
            if figures.is_empty() {
                return Ok(());
            }
            let (edited_key, edited) = &figures[which % figures.len()];
            let stream = member(edited_key).unwrap().0;
            // Another figure counting every event of the stream, with the same tags, to disagree with.
            let witnesses = figures
                .iter()
                .filter(|(k, _)| k != edited_key && k.tags == edited_key.tags && member(k) == Some((stream, true)))
                .count();
            // http_req_failed lowered is a request the callback did not judge: no contradiction.
            let failed = edited_key.name == "http_req_failed";
            if witnesses == 0 || (failed && !up) {
                return Ok(());
            }
            let off = |n: u64| if up { n + 1 } else { n - 1 };
            let changed = match edited {
                Aggregate::Rate { matches, .. } => {
                    // Past every count of its stream: fewer than the requests is a real run.
                    let ceiling = figures
                        .iter()
                        .filter(|(k, _)| k.tags == edited_key.tags && member(k) == Some((stream, true)))
                        .filter_map(|(_, a)| events(a))
                        .fold(0.0, f64::max);
                    Aggregate::Rate { matches: *matches, total: ceiling as u64 + 1 }
                }
                Aggregate::Counter { count, .. } if !up && *count == 0.0 => return Ok(()),
                Aggregate::Counter { count, .. } => Aggregate::Counter { count: off(*count as u64) as f64, per_second: None },
                Aggregate::Trend(stats) if !up && stats.0["count"] == 0.0 => return Ok(()),
                Aggregate::Trend(stats) => trend(off(stats.0["count"] as u64)),
                Aggregate::Gauge { .. } => unreachable!(),
            };
            // Only figures of this tag set: parts of other tag sets do not mind the whole going up.
            let kept: Vec<_> = figures
                .iter()
                .filter(|(k, _)| k.tags == edited_key.tags)
                .map(|(k, a)| (k.clone(), if k == edited_key { changed.clone() } else { a.clone() }))
                .collect();
            let refused = set_of(&kept).check_counts_agree(&[]);
            proptest::prop_assert!(
                refused.as_ref().is_err_and(|why| why.contains(&edited_key.to_string())),
                "{edited_key} one off in {kept:?}: {refused:?}"
            );
        }
    }

    /// Counters as k6 writes them: each count over the one duration `seconds`.
    fn counters_over(counts: &[f64], seconds: f64) -> Vec<(MetricKey, Aggregate)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, count)| {
                (key(&format!("c{i}")), Aggregate::Counter { count: *count, per_second: Some(count / seconds) })
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Finding round18-figures/02. Rule: every counter's rate is its count over the one run
        /// duration, the file's own where it records one. Rates k6 computes (count / seconds,
        /// the duration recorded as k6 records it, in ms) are accepted; any one counter's rate
        /// changed by more than rounding (1e-9 relative and up) is refused, naming it.
        #[test]
        fn counter_rates_imply_the_one_run_duration(
            counts in proptest::collection::vec(
                proptest::prop_oneof![
                    (1u64..1_000_000_000).prop_map(|n| n as f64),
                    0.001f64..1e6,
                    -1e6f64..-0.001,
                    proptest::strategy::Just(0.0),
                ],
                1..6,
            ),
            seconds in 0.001f64..100_000.0,
            recorded in proptest::bool::ANY,
            which in 0usize..16,
            change in proptest::prop_oneof![1e-9f64..1e-4, 1e-4f64..0.9],
            up in proptest::bool::ANY,
        ) {
            let figures = counters_over(&counts, seconds);
            let mut set = set_of(&figures);
            if recorded {
                set.run_duration = Some((seconds * 1e3 / 1e3, "state.testRunDurationMs".into()));
            }
            proptest::prop_assert!(set.check_rates_agree().is_ok(), "{:?}", set.check_rates_agree());
            let (edited_key, _) = &figures[which % figures.len()];
            // A rate of 0 beside a count of 0 is the only rate it may have (finding
            // round19-figures/04); a rate beside a count above 0 is told wrong by another
            // duration: the recorded one or another counter's.
            let edited_count = counts[which % figures.len()];
            let others = counts.iter().enumerate().any(|(i, c)| i != which % figures.len() && *c != 0.0);
            if edited_count != 0.0 && !others && !recorded {
                return Ok(());
            }
            let metric = set.metrics.get_mut(edited_key).unwrap();
            let Aggregate::Counter { per_second: Some(rate), .. } = &mut metric.aggregate else { unreachable!() };
            if edited_count == 0.0 {
                *rate = if up { change } else { -change };
            } else {
                *rate *= if up { 1.0 + change } else { 1.0 - change };
            }
            let refused = set.check_rates_agree();
            proptest::prop_assert!(
                refused.as_ref().is_err_and(|why| why.contains(&format!("{edited_key} ("))),
                "{edited_key} changed by {change}: {refused:?}"
            );
        }
    }

    #[test]
    fn a_counter_rate_names_the_duration_it_contradicts() {
        let mut set = set_of(&[
            (key("http_reqs"), Aggregate::Counter { count: 214.0, per_second: Some(60.5) }),
            (key("iterations"), Aggregate::Counter { count: 154.0, per_second: Some(154.0 / 10.583081642) }),
            (key("dropped_iterations"), Aggregate::Counter { count: 0.0, per_second: Some(0.0) }),
        ]);
        let why = set.check_rates_agree().unwrap_err();
        assert!(why.contains("http_reqs (") && why.contains("iterations (") && why.contains("10.583081642"), "{why}");
        set.run_duration = Some((10.583081642, "state.testRunDurationMs".into()));
        let why = set.check_rates_agree().unwrap_err();
        assert!(
            why.starts_with("http_reqs (") && why.contains("state.testRunDurationMs is a run of 10.583081642 s"),
            "{why}"
        );
        // Finding round19-figures/04: a count of 0 is a rate of 0 exactly, whatever the
        // duration; 60.5/s beside no request at all was judged.
        let set = set_of(&[
            (key("http_reqs"), Aggregate::Counter { count: 0.0, per_second: Some(60.5) }),
            (key("iterations"), Aggregate::Counter { count: 154.0, per_second: Some(154.0 / 10.583081642) }),
        ]);
        let why = set.check_rates_agree().unwrap_err();
        assert!(why.starts_with("http_reqs (") && why.contains("rate 60.5/s beside count 0"), "{why}");
        let set = set_of(&[(key("c"), Aggregate::Counter { count: 0.0, per_second: Some(-0.0) })]);
        assert_eq!(set.check_rates_agree(), Ok(()));
        // A rate of 0 beside a count is no duration at all.
        let set = set_of(&[(key("c"), Aggregate::Counter { count: 3.0, per_second: Some(0.0) })]);
        assert!(set.check_rates_agree().is_err_and(|why| why.contains("implies no run duration")));
    }

    #[test]
    fn a_part_of_another_metric_counts_no_more_than_its_whole() {
        let set = set_of(&[
            (key("http_req_failed{flow:w}"), Aggregate::Rate { matches: 3, total: 303 }),
            (key("http_reqs"), Aggregate::Counter { count: 214.0, per_second: None }),
        ]);
        let why = set.check_counts_agree(&[]).unwrap_err();
        assert!(why.contains("http_req_failed{flow:w} counts 303") && why.contains("http_reqs counts 214"), "{why}");
        // Requests the callback did not judge (`responseCallback: null`): fewer is a real run.
        let set = set_of(&[
            (key("http_req_failed"), Aggregate::Rate { matches: 3, total: 13 }),
            (key("http_reqs"), Aggregate::Counter { count: 16.0, per_second: None }),
            (key("http_req_duration"), trend(16)),
            (key("http_req_duration{expected_response:true}"), trend(10)),
            (key("checks"), Aggregate::Rate { matches: 3, total: 900 }),
        ]);
        assert_eq!(set.check_counts_agree(&[]), Ok(()));
        // A count known besides the figures (raw results' points) is held to them too.
        let also = [(key("http_reqs"), 12.0, "http_reqs points".to_string())];
        assert!(set_of(&[(key("http_req_failed"), Aggregate::Rate { matches: 3, total: 13 })])
            .check_counts_agree(&also)
            .is_err_and(|why| why.contains("http_reqs points")));
    }
}
