//! k6 raw results (`--out json=FILE`, `.gz` accepted): newline-delimited `Metric` and `Point`
//! records, streamed. Only the metrics a policy names are kept — every sample of a wanted trend
//! (8 bytes each: exact percentiles need them), counts for rates — so memory follows what the
//! gates need, not the file's size. Lines of other metrics are checked for shape and counted.
//!
//! One rule decides what a line is: its bytes answer only when they are a Point in k6's exact
//! layout (`k6_point`: k6's keys in k6's order, no escape, no whitespace k6 does not write);
//! every other line — a Metric record, any other spelling of the same JSON value — is parsed in
//! full and classified from the parsed value, so every spelling reads alike or is refused. A
//! record of a type k6 does not write (k6 writes `Metric` and `Point` only) is refused.
//!
//! Percentiles follow k6's own definition (`TrendSink.P`: linear interpolation between closest
//! ranks over the sorted samples) and `avg` sums in file order, so figures are bit-identical to
//! the summaries k6 writes. Bad lines are errors with their line number unless the user opted
//! into `lenient`, which skips and counts them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

/// The longest raw results line read (k6 writes one small JSON record per line).
const MAX_LINE: u64 = 1 << 20;
use std::path::Path;

use serde::Deserialize;

use crate::error::Error;
use crate::metrics::{Aggregate, Distribution, Metric, MetricKey, MetricKind, MetricSet, Provenance, TrendStats};

pub use crate::metrics::FORMAT_RAW;

/// True for file names k6 raw results go by (`--out json=FILE`, gzipped or not).
/// True when the file holds k6 raw results (decided from its content; an unreadable file is
/// not raw results, and reading it as a document then says why).
pub fn is_raw_path(path: &Path) -> bool {
    matches!(crate::sources::detect::detect(path), Ok(crate::sources::detect::InputFormat::RawResults))
}

/// What reading raw files met besides the figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawStats {
    pub lines: u64,
    pub points_kept: u64,
    pub skipped_bad: u64,
    /// Per file, in the order read: the newest point's time (unix seconds), the evidence's own
    /// date (a copied file's modification time says nothing about the run).
    pub newest_point: Vec<(String, Option<i64>)>,
    /// Per file, in the same order: the oldest point's time.
    pub oldest_point: Vec<(String, Option<i64>)>,
    /// Points of each of `RUN_COUNTS` over every file: a run's identity against its summary.
    pub run_counts: [u64; 2],
    /// The thresholds k6 judged, as the files' Metric records show them (`thresholds_shown`).
    pub thresholds_shown: std::collections::BTreeSet<String>,
}

/// The counters whose totals a summary and the raw results of the same run share exactly.
pub const RUN_COUNTS: [&str; 2] = ["http_reqs", "iterations"];

/// Raw results fill what a summary lacks only when they are the run the summary describes:
/// a k6 run writes one point per request and per iteration, so both totals must match the
/// summary's counters; and every metric both hold must have the same extremes and counts (a
/// trend's min and max are samples themselves, a rate's counts are counts), which two runs of a
/// fixed-iteration script, alike in totals, do not share. Raw results of another run (a p99
/// borrowed from yesterday) are exit 2. Every other figure both give is compared too: one
/// figure, one reading.
pub fn check_same_run(summary: &MetricSet, raw: &MetricSet, stats: &RawStats) -> Result<(), Error> {
    let raw_path = raw.path.as_str();
    let mut compared = 0;
    for (name, raw_count) in RUN_COUNTS.iter().zip(stats.run_counts) {
        let key = MetricKey::parse(name).expect("a plain metric name");
        let Some(Aggregate::Counter { count, .. }) = summary.get(&key).map(|m| &m.aggregate) else { continue };
        compared += 1;
        // Lines skipped under --raw-lenient may have been this counter's points.
        let lowest = (*count - stats.skipped_bad as f64).max(0.0);
        if !(lowest..=*count).contains(&(raw_count as f64)) {
            return Err(Error::Evidence {
                path: raw_path.to_string(),
                message: format!(
                    "holds {raw_count} {name} points, but the summary {} counts {count}: not the run the summary describes (raw results only fill in figures of the same run)",
                    summary.path
                ),
            });
        }
    }
    if compared == 0 {
        return Err(Error::Evidence {
            path: raw_path.to_string(),
            message: format!(
                "cannot tell whether these raw results are the run the summary {} describes: it counts neither http_reqs nor iterations",
                summary.path
            ),
        });
    }
    // Lines skipped under --raw-lenient may have been samples of any metric: the figures both
    // give can no longer be compared, so the raw results cannot show they are the summary's
    // run, and a summary edited beside them would stand unchecked (finding round10-figures/01).
    if stats.skipped_bad > 0 {
        return Err(Error::Evidence {
            path: raw_path.to_string(),
            message: format!(
                "{} malformed lines were skipped (--raw-lenient), so these raw results cannot be checked against the summary {}: \
                 judge the summary alone, or the raw results alone",
                stats.skipped_bad, summary.path
            ),
        });
    }
    check_within_run(summary, raw)?;
    compare_shared_figures(summary, raw)
}

/// How far raw samples may span beyond the summary's run duration: the larger of this share
/// of the duration and `SPAN_SLACK_SECS`. Every real k6 run (1.1.0, 2.2.0; each shape beside
/// each raw file of its case) spans 18 to 118 ms *less* than its duration (k6 times the run
/// from before the first sample to after the last); the slack only absorbs a clock's rounding.
pub const SPAN_SLACK_SHARE: f64 = 0.01;
/// See `SPAN_SLACK_SHARE`.
pub const SPAN_SLACK_SECS: f64 = 0.1;

/// How far raw samples may span short of the summary's run duration: the larger of this many
/// seconds and `SPAN_SLACK_SHARE` of the duration. k6 writes a `vus` point every second of a
/// run, start to end, so a run's raw results span all of it but the last tick at most: every
/// real fixture pair (1.1.0, 2.2.0; each summary shape beside each raw file of its case, 10 `vus`
/// points in 10.3 to 10.9 s) spans 18 to 118 ms less than its duration. Two seconds is twice
/// k6's tick (finding round21-figures/03: a summary stretched to 2x and 10x its run, its rates
/// divided to match, stood beside raw samples spanning 10.56 s and passed `rate < 20000`).
pub const SPAN_SHORT_SLACK_SECS: f64 = 2.0;

/// Whether raw samples spanning `span` seconds fit a run of `run` seconds: no longer than the
/// run beyond `SPAN_SLACK_SHARE` / `SPAN_SLACK_SECS`, no shorter than it beyond
/// `SPAN_SHORT_SLACK_SECS` / `SPAN_SLACK_SHARE`.
pub fn span_fits_run(span: f64, run: f64) -> bool {
    let share = run * SPAN_SLACK_SHARE;
    span <= run + share.max(SPAN_SLACK_SECS) && span >= run - share.max(SPAN_SHORT_SLACK_SECS)
}

/// Raw results cover the summary's run, no more and no less: the time from the first raw sample
/// to the last may neither exceed the summary's run duration (recorded, or implied by its
/// counters' count / rate) nor fall short of it beyond `span_fits_run`'s slack (finding
/// round19-figures/01: a handleSummary rescaled to a 3.5 s run, its counter rates with it, stood
/// beside raw samples spanning 10.56 s and passed `http_reqs rate > 50`; round21-figures/03, the
/// other way: stretched to 21 s and 106 s, it passed `data_received rate < 20000`). A point that
/// carries no time is never read (the reader refuses it, finding round20-figures/03), so the span
/// of the points read bounds every sample; a summary without a duration says nothing here.
pub fn check_within_run(summary: &MetricSet, raw: &MetricSet) -> Result<(), Error> {
    let Some((run, what)) = summary.run_seconds() else { return Ok(()) };
    let Some((first, last)) = &raw.sampled else { return Ok(()) };
    let (Some(from), Some(to)) = (parse_time_nanos(first.as_bytes()), parse_time_nanos(last.as_bytes())) else {
        return Ok(());
    };
    let span = (to - from) as f64 / 1e9;
    if span_fits_run(span, run) {
        return Ok(());
    }
    Err(Error::Evidence {
        path: raw.path.clone(),
        message: format!(
            "samples span {span} s ({first} to {last}), but the summary {} is a run of {run} s ({what}): {}, so not the run \
             the summary describes",
            summary.path,
            if span > run {
                "every sample of a run lies within it (slack: the larger of 1 % and 100 ms)"
            } else {
                "k6 writes a point every second of a run, so its samples span all of it (slack: the larger of 1 % and 2 s)"
            }
        ),
    })
}

/// Every figure the summary and the raw results both give is one figure read twice: each must
/// be the same (see `check_same_run`).
fn compare_shared_figures(summary: &MetricSet, raw: &MetricSet) -> Result<(), Error> {
    let raw_path = raw.path.as_str();
    for (key, from_raw) in &raw.metrics {
        let Some(from_summary) = summary.get(key) else { continue };
        let differs = |what: String, raw_value: String, summary_value: String| {
            Error::Evidence {
            path: raw_path.to_string(),
            message: format!(
                "{key} {what} is {raw_value} in the raw results but {summary_value} in the summary {}: not the run the summary describes (raw results only fill in figures of the same run)",
                summary.path
            ),
        }
        };
        match (&from_raw.aggregate, &from_summary.aggregate) {
            (Aggregate::Rate { matches: a, total: b }, Aggregate::Rate { matches: c, total: d })
                if (a, b) != (c, d) =>
            {
                return Err(differs("counts".into(), format!("{a} of {b}"), format!("{c} of {d}")));
            }
            // Every statistic both give is one figure read twice: k6 computes it from the
            // samples the raw results hold, by the method the raw reader follows, so it is
            // the same to the bit (finding round9-figures/04: a p(95) edited in the summary
            // was judged beside raw samples giving another). Only `avg` may differ in its
            // last bits, when segments are summed in another order than k6's.
            (Aggregate::Trend(raw_stats), Aggregate::Trend(summary_stats)) => {
                // A percentile the raw reader does not list (p(98), p(97.5)) is taken from
                // the raw samples by the same method (finding round10-figures/03).
                if let Some(samples) = raw.distributions.get(key) {
                    for (stat, s) in &summary_stats.0 {
                        let Some(percent) = stat
                            .strip_prefix("p(")
                            .and_then(|p| p.strip_suffix(')'))
                            .and_then(|p| p.parse::<f64>().ok())
                        else {
                            continue;
                        };
                        if raw_stats.0.contains_key(stat) {
                            continue;
                        }
                        if let Some(r) = samples.quantile(percent / 100.0) {
                            if r != *s {
                                return Err(differs(stat.clone(), r.to_string(), s.to_string()));
                            }
                        }
                    }
                }
                // The extremes first: they are samples themselves, the plainest witness.
                let mut stats: Vec<(&String, &f64)> = raw_stats.0.iter().collect();
                stats.sort_by_key(|(stat, _)| !matches!(stat.as_str(), "min" | "max"));
                for (stat, r) in stats {
                    let Some(s) = summary_stats
                        .0
                        .get(stat)
                        .or_else(|| (stat == "med").then(|| summary_stats.0.get("p(50)")).flatten())
                    else {
                        continue;
                    };
                    let same = if stat == "avg" { (r - s).abs() <= 1e-9 * r.abs().max(s.abs()) } else { r == s };
                    if !same {
                        return Err(differs(stat.clone(), r.to_string(), s.to_string()));
                    }
                }
            }
            // A counter's count is the sum of its points, k6's own figure (finding
            // round12-figures/01: a summary without dropped_iterations beside 30 raw points of
            // it stood); summed in another order, a fractional count may differ in its last bits.
            (Aggregate::Counter { count: r, .. }, Aggregate::Counter { count: s, .. })
                if (r - s).abs() > 1e-9 * r.abs().max(s.abs()) =>
            {
                return Err(differs("count".into(), r.to_string(), s.to_string()));
            }
            // A gauge's value is k6's last sample added in the summary, the latest in time in the
            // raw results (`Gathered::gauge_value`): they may differ by a sample k6 added late;
            // its extremes are samples whatever the order.
            (Aggregate::Gauge { min: b, max: c, .. }, Aggregate::Gauge { min: e, max: f, .. }) => {
                let pairs = [("min", *b, *e), ("max", *c, *f)];
                for (what, r, s) in pairs {
                    if let (Some(r), Some(s)) = (r, s) {
                        if r != s {
                            return Err(differs(what.into(), r.to_string(), s.to_string()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn count_run_point(stats: &mut RawStats, name: &[u8]) {
    if let Some(i) = RUN_COUNTS.iter().position(|n| n.as_bytes() == name) {
        stats.run_counts[i] += 1;
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    metric: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(default)]
    value: Option<f64>,
    /// Kept as raw text: a selector's tags are found in it without building a map per line.
    #[serde(default, borrow)]
    tags: Option<&'a serde_json::value::RawValue>,
    #[serde(default, rename = "type", borrow)]
    metric_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    contains: Option<std::borrow::Cow<'a, str>>,
    /// A Point's own time: the date of raw evidence is read from here, never found by a byte
    /// search (a tag named `time`, or spaces after colons, would fool one).
    #[serde(default, borrow)]
    time: Option<std::borrow::Cow<'a, str>>,
    /// A Metric record's thresholds (k6 lists their expressions here) and the sub-metrics k6
    /// made, most of them for thresholds on tagged selectors: what raw results show of k6's
    /// thresholds, whose verdicts they never record.
    #[serde(default)]
    thresholds: Option<serde_json::Value>,
    #[serde(default)]
    submetrics: Option<serde_json::Value>,
}

/// The sub-metric k6 makes of its own for its end-of-test summary, whatever the script says:
/// it shows no threshold.
const K6_OWN_SUBMETRIC: &str = "http_req_duration{expected_response:true}";

/// What one Metric record shows of the thresholds k6 judged: the metric itself when it lists
/// thresholds, and each sub-metric k6 made for one (k6 makes them while parsing the script's
/// thresholds, under `--no-thresholds` too, so raw results cannot tell that k6 was told not to
/// judge them). Anything but a list where k6 writes one shows thresholds too: unknown is never
/// read as none.
fn thresholds_shown(metric: &str, data: &Data<'_>) -> Vec<String> {
    let mut shown = Vec::new();
    match &data.thresholds {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(list)) if list.is_empty() => {}
        Some(_) => shown.push(metric.to_string()),
    }
    match &data.submetrics {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(list)) => {
            for submetric in list {
                match submetric.get("name").and_then(serde_json::Value::as_str) {
                    Some(K6_OWN_SUBMETRIC) => {}
                    Some(name) => shown.push(name.to_string()),
                    None => shown.push(format!("{metric}{{…}}")),
                }
            }
        }
        Some(_) => shown.push(format!("{metric}{{…}}")),
    }
    shown
}

/// A metric's declaration, as its first Metric record gave it, and where (`path:line`).
#[derive(Debug, Clone)]
struct Declared {
    kind: MetricKind,
    /// `data.contains` as written (`time`, `data`, `default`): a duration is never negative.
    contains: Option<String>,
    at: String,
}

impl Declared {
    fn is_time(&self) -> bool {
        self.contains.as_deref() == Some("time")
    }
}

/// The one rule for a metric's declaration (finding round33-figures/01): k6 declares a metric
/// with one `type` and one `contains` for a whole run, in every runner of one test. Points are
/// read under the type in force, so a second Metric record that declares it otherwise — later
/// in one file, in another `--raw` file, or in another input of `merge` — would have part of
/// its samples read under one type and the figure judged under the other (50 failures read as
/// a counter's, then a 0 % rate): refused, naming both records. A record that agrees is the
/// same declaration, read as once.
fn declare(
    declared: &mut BTreeMap<String, Declared>,
    metric: &str,
    kind: MetricKind,
    contains: Option<&str>,
    at: String,
) -> Result<(), String> {
    let shown = |kind: MetricKind, contains: Option<&str>| {
        let contains = contains.map_or_else(|| "absent".into(), |c| format!("\"{}\"", crate::escape::line(c)));
        format!("type \"{}\", contains {contains}", format!("{kind:?}").to_lowercase())
    };
    match declared.get(metric) {
        Some(first) if first.kind != kind || first.contains.as_deref() != contains => Err(format!(
            "metric {} is declared twice, differently: {} at {}, but {} at {at}; k6 declares a metric once, alike \
             in every runner, so these are not one run's raw results (its points cannot be read under one type)",
            crate::escape::line(metric),
            shown(first.kind, first.contains.as_deref()),
            first.at,
            shown(kind, contains)
        )),
        Some(_) => Ok(()),
        None => {
            declared.insert(metric.to_string(), Declared { kind, contains: contains.map(str::to_string), at });
            Ok(())
        }
    }
}

/// Samples gathered for one wanted selector. Trends and gauges keep their values (exact
/// percentiles and min/max need them); rates and counters keep counts only.
#[derive(Debug, Clone, Default)]
struct Gathered {
    values: Vec<f64>,
    sum: f64,
    /// Points seen, of every kind.
    count: u64,
    nonzero: u64,
    /// The selector's tags, each with `"key":"value"` as k6 writes it (built once rather than
    /// per line; `None` when key or value holds a byte k6 would escape: then parsed tags answer).
    needles: Vec<(String, String, Option<Vec<u8>>)>,
    /// The sum of each file read so far (`sum` holds the current file's), added in value order
    /// at the end: a sum of fractions in file order would depend on the order of the files.
    file_sums: Vec<f64>,
    /// Where each file's samples begin in `values`: (file, its first sample's time, index), for
    /// `trend_sum`.
    file_starts: Vec<(usize, Option<i128>, usize)>,
    /// A gauge's latest sample time and, per file, the last sample at that time
    /// (`gauge_value`).
    latest: Option<i128>,
    at_latest: BTreeMap<usize, f64>,
}

impl Gathered {
    /// Notes a gauge sample of file `file` at `at` (nanoseconds; None when its time is no
    /// RFC 3339 time, read as the earliest) for `gauge_value`.
    fn see_latest(&mut self, at: Option<i128>, file: usize, value: f64) {
        let at = at.unwrap_or(i128::MIN);
        match self.latest {
            Some(latest) if at < latest => {}
            Some(latest) if at == latest => {
                self.at_latest.insert(file, value);
            }
            _ => {
                self.latest = Some(at);
                self.at_latest = BTreeMap::from([(file, value)]);
            }
        }
    }

    /// The one rule of a gauge's value over one run's raw files (finding round34-figures/02):
    /// its sample with the latest time, whatever the order the files are given in. Within one
    /// file, samples of one instant keep k6's own order (the last line written); files whose
    /// samples at that instant differ are runners that disagree: no value (None).
    fn gauge_value(&self) -> Option<f64> {
        let mut values = self.at_latest.values();
        let first = *values.next()?;
        values.all(|v| v.to_bits() == first.to_bits()).then_some(first)
    }

    /// Notes that a sample of file `file`, dated `at`, is about to be kept in `values`.
    fn see_file(&mut self, file: usize, at: Option<i128>) {
        if self.file_starts.last().map(|(f, ..)| *f) != Some(file) {
            self.file_starts.push((file, at, self.values.len()));
        }
    }

    /// A trend's sum: within one file in k6's own order (so one file's avg is k6's to the
    /// bit), its files one after another in an order of their own — by their first sample's
    /// time, then their samples — never the order they were given in (finding
    /// round34-figures/02's class: a sum of fractions depends on the order it is added in).
    fn trend_sum(&self) -> f64 {
        let mut parts: Vec<(Option<i128>, &[f64])> = self
            .file_starts
            .iter()
            .enumerate()
            .map(|(i, (_, at, start))| {
                let end = self.file_starts.get(i + 1).map_or(self.values.len(), |next| next.2);
                (*at, &self.values[*start..end])
            })
            .collect();
        parts.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                a.1.iter()
                    .zip(b.1)
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(a.1.len().cmp(&b.1.len()))
            })
        });
        parts.into_iter().flat_map(|(_, values)| values).fold(0.0, |sum, v| sum + v)
    }

    /// The sum of every point once every file is read, order-free across files (`file_sums`).
    fn total(&self) -> f64 {
        let mut sums = self.file_sums.clone();
        sums.sort_by(f64::total_cmp);
        sums.into_iter().sum()
    }
}

/// Reads every file; `wanted` are the selectors gates ask for (name plus tags).
pub fn read(paths: &[&Path], wanted: &[MetricKey], lenient: bool) -> Result<(MetricSet, RawStats), Error> {
    let mut gathered: BTreeMap<MetricKey, Gathered> = wanted
        .iter()
        .map(|k| {
            let needles = k
                .tags
                .iter()
                .map(|(t, v)| {
                    let plain = |s: &str| s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
                    let needle = (plain(t) && plain(v)).then(|| format!("\"{t}\":\"{v}\"").into_bytes());
                    (t.clone(), v.clone(), needle)
                })
                .collect();
            (k.clone(), Gathered { needles, ..Gathered::default() })
        })
        .collect();
    let mut kinds: BTreeMap<String, Declared> = BTreeMap::new();
    let mut stats = RawStats::default();
    let wanted_names: Vec<&str> = wanted.iter().map(|k| k.name.as_str()).collect();
    let mut seen = SeenSamples::default();
    let mut sampled = NewestTime::default();
    for (index, path) in paths.iter().enumerate() {
        let mut samples_of_file = FileRead { index, part: 0, paths, seen: &mut seen };
        let times =
            read_one(path, &wanted_names, lenient, &mut gathered, &mut kinds, &mut stats, &mut samples_of_file)?;
        for samples in gathered.values_mut() {
            let sum = std::mem::take(&mut samples.sum);
            samples.file_sums.push(sum);
        }
        for text in [&times.oldest, &times.text].into_iter().filter(|t| !t.is_empty()) {
            sampled.see(text).map_err(|why| Error::Evidence { path: path.display().to_string(), message: why })?;
        }
    }
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut notes = vec![format!("{} lines, {} samples kept", stats.lines, stats.points_kept)];
    if stats.skipped_bad > 0 {
        notes.push(format!("{} malformed lines skipped (--raw-lenient)", stats.skipped_bad));
    }
    // Raw results never record k6's verdicts. They can show that k6 had thresholds, never that
    // it had none (finding round33-figures/03): k6 writes a metric's Metric record, with its
    // thresholds, only just before the metric's first Point, so a threshold on a metric that got
    // no sample (`orders_created: ['count>0']`, crossed: k6 exit 99) leaves no line at all.
    let k6_thresholds_shown =
        (!stats.thresholds_shown.is_empty()).then(|| stats.thresholds_shown.iter().cloned().collect());
    let mut set = MetricSet {
        format: FORMAT_RAW.into(),
        path: shown.join(" + "),
        carries_thresholds: false,
        k6_thresholds_shown,
        notes,
        sampled: (!sampled.text.is_empty()).then(|| {
            let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            (text(&sampled.oldest), text(&sampled.text))
        }),
        ..MetricSet::default()
    };
    for (key, samples) in gathered {
        let Some((kind, is_time)) = kinds.get(&key.name).map(|d| (d.kind, d.is_time())) else { continue };
        // Every counter k6 wrote is carried, its count the sum of its points (finding
        // round12-figures/01: counters were left out, and 30 dropped iterations read as 0);
        // its rate over the run's duration is not (raw points do not give the duration), so a
        // gate on a counter's `rate` is NO DATA here.
        if samples.count == 0 && kind != MetricKind::Rate {
            continue;
        }
        if kind == MetricKind::Trend && samples.count > 0 {
            // Kept for plots and significance tests against a baseline; duplicates merge into weights.
            set.distributions.insert(key.clone(), Distribution::from_values(&samples.values));
        }
        let aggregate = match kind {
            MetricKind::Trend => {
                let sum = samples.trend_sum();
                Aggregate::Trend(trend_stats(samples.values, sum))
            }
            MetricKind::Rate => Aggregate::Rate { matches: samples.nonzero, total: samples.count },
            MetricKind::Counter => Aggregate::Counter { count: samples.total(), per_second: None },
            MetricKind::Gauge => {
                let value = samples.gauge_value();
                let min = samples.values.iter().copied().fold(f64::INFINITY, f64::min);
                let max = samples.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                Aggregate::Gauge { value, min: Some(min), max: Some(max) }
            }
        };
        if aggregate.sample_count() == Some(0) {
            continue;
        }
        let provenance = Provenance::File { path: set.path.clone(), key: format!("samples of {key}") };
        set.metrics.insert(key, Metric { aggregate, is_time, k6_verdicts: Vec::new(), provenance });
    }
    // Only what was asked for: an unasked counter's absence says nothing. k6 writes a
    // counter's first point when it first counts, so in raw results of a run that ran
    // (iterations or requests among its points) read in full, no dropped_iterations point is a
    // known 0; with lines skipped (--raw-lenient) they may have been its points: NO DATA.
    if stats.run_counts.iter().any(|&n| n > 0) && stats.skipped_bad == 0 {
        let asked: Vec<&str> = wanted
            .iter()
            .filter(|k| k.tags.is_empty() && k.name == "dropped_iterations")
            .map(|k| k.name.as_str())
            .collect();
        set.zero_lazy_counters(&asked);
    }
    // Counts of one request stream agree (finding round15-figures/01), the figures gathered and
    // the http_reqs and iterations points counted whatever was asked. Lines skipped under
    // --raw-lenient may have been points of any metric: counts no longer tell.
    if stats.skipped_bad == 0 {
        let points: Vec<(MetricKey, f64, String)> = RUN_COUNTS
            .iter()
            .zip(stats.run_counts)
            .filter(|(_, count)| *count > 0)
            .map(|(name, count)| {
                (MetricKey::parse(name).expect("a plain metric name"), count as f64, format!("{name} points"))
            })
            .collect();
        set.check_counts_agree(&points).map_err(|message| Error::Evidence { path: set.path.clone(), message })?;
    }
    Ok((set, stats))
}

fn read_one(
    path: &Path,
    wanted_names: &[&str],
    lenient: bool,
    gathered: &mut BTreeMap<MetricKey, Gathered>,
    kinds: &mut BTreeMap<String, Declared>,
    stats: &mut RawStats,
    samples_of_file: &mut FileRead<'_, '_>,
) -> Result<NewestTime, Error> {
    let shown = path.display().to_string();
    let file = crate::input::open(path, "k6 raw results")?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    let mut newest = NewestTime::default();
    // The runs found in this file (finding round12-figures/02: five runs joined in one file
    // were judged as one): held to the rule between files, they must run side by side.
    let mut part = FilePart { first_line: 1, ..FilePart::default() };
    let mut parts: Vec<(String, Option<i64>, Option<i64>)> = Vec::new();
    loop {
        line.clear();
        // A line is read only up to a length no k6 line reaches: one endless line (a gzip bomb
        // of one 1.5 GB line, finding round17-text/04) is refused, never held.
        let read = (&mut reader).take(MAX_LINE + 1).read_until(b'\n', &mut line).map_err(|e| Error::Evidence {
            path: shown.clone(),
            message: format!("line {}: cannot read further ({e}): a gzip stream that ends early?", number + 1),
        })?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > MAX_LINE {
            return Err(Error::Evidence {
                path: shown.clone(),
                message: format!(
                    "line {}: longer than {} MiB: no k6 raw results line is (one record per line)",
                    number + 1,
                    MAX_LINE >> 20
                ),
            });
        }
        number += 1;
        stats.lines += 1;
        let complete = line.last() == Some(&b'\n');
        let text = trim_line(&line);
        if text.is_empty() {
            continue;
        }
        let bad = |why: &str| Error::Evidence { path: shown.clone(), message: format!("line {number}: {why}") };
        // Every line is text, needed or not: a byte that is not UTF-8 (FF FE in a check name)
        // is a corrupt file, never read lossily.
        if let Err(e) = std::str::from_utf8(text) {
            if lenient {
                stats.skipped_bad += 1;
                continue;
            }
            return Err(bad(&format!("not UTF-8 text (byte {} of the line)", e.valid_up_to() + 1)));
        }
        let whole_object = text.starts_with(b"{") && text.ends_with(b"}");
        if !complete && !whole_object {
            if lenient {
                stats.skipped_bad += 1;
                continue;
            }
            return Err(bad("truncated last line (no newline and not a whole JSON object)"));
        }
        // The one rule (module doc): a Point in k6's exact layout is read from its bytes — its
        // time, and when no gate needs its metric, nothing more (a full parse of every line would
        // cost most of the time on files of hundreds of MB); any other line is parsed in full.
        let fast = k6_point(text);
        if let Some(point) = &fast {
            if let Err(why) =
                newest.see(point.time).and_then(|()| part.see_point(point.time, number, &shown, &mut parts))
            {
                if lenient {
                    stats.skipped_bad += 1;
                    continue;
                }
                return Err(bad(&why));
            }
            samples_of_file.part = parts.len();
            if !wanted_names.iter().any(|w| w.as_bytes() == point.metric) {
                count_run_point(stats, point.metric);
                continue;
            }
        }
        let parsed: Line = match serde_json::from_slice(text) {
            Ok(parsed) => parsed,
            Err(e) if lenient => {
                let _ = e;
                stats.skipped_bad += 1;
                continue;
            }
            Err(e) if e.is_data() => {
                return Err(bad(&format!(
                    "not a k6 JSON output record (expected {{\"type\":...,\"metric\":...,\"data\":...}}): {e}"
                )))
            }
            Err(e) => {
                return Err(bad(&format!(
                    "not valid JSON ({e}), so not a k6 JSON output record (expected {{\"type\":...,\"metric\":...,\"data\":...}})"
                )))
            }
        };
        // What the fast path read is what the parse reads (no escape, k6's keys once each).
        debug_assert!(fast.as_ref().is_none_or(|p| parsed.kind == "Point" && parsed.metric.as_bytes() == p.metric));
        match parsed.kind.as_ref() {
            "Metric" => {
                let kind = parsed.data.metric_type.as_deref().and_then(MetricKind::parse);
                let Some(kind) = kind else {
                    if lenient {
                        stats.skipped_bad += 1;
                        continue;
                    }
                    return Err(bad("Metric record without a known data.type (trend, rate, counter, gauge)"));
                };
                let at = format!("{shown}:{number}");
                declare(kinds, &parsed.metric, kind, parsed.data.contains.as_deref(), at)
                    .map_err(|why| Error::Evidence { path: shown.clone(), message: why })?;
                stats.thresholds_shown.extend(thresholds_shown(&parsed.metric, &parsed.data));
                // k6 declares each metric once per run: declared again, another run begins.
                if !part.declared.insert(parsed.metric.to_string()) {
                    part.finish(number, &shown, &mut parts);
                    part.declared.insert(parsed.metric.to_string());
                    samples_of_file.part = parts.len();
                }
            }
            "Point" => {
                if fast.is_none() {
                    match parsed.data.time.as_deref() {
                        Some(time) => {
                            let seen = newest
                                .see(time.as_bytes())
                                .and_then(|()| part.see_point(time.as_bytes(), number, &shown, &mut parts));
                            samples_of_file.part = parts.len();
                            if let Err(why) = seen {
                                if lenient {
                                    stats.skipped_bad += 1;
                                    continue;
                                }
                                return Err(bad(&why));
                            }
                        }
                        // k6 dates every point. One without a time cannot be shown to lie
                        // within the run, to be of the same run as other files or parts of this
                        // one, nor to be counted once (the samples met twice are known by their
                        // instant): its sample is never added (finding round21-figures/02: other
                        // runs' raw results with data.time deleted were summed into a failing
                        // run's, which then passed).
                        None => {
                            if lenient {
                                stats.skipped_bad += 1;
                                continue;
                            }
                            return Err(bad(UNDATED_POINT));
                        }
                    }
                }
                let Some((kind, is_time)) = kinds.get(parsed.metric.as_ref()).map(|d| (d.kind, d.is_time())) else {
                    if lenient {
                        stats.skipped_bad += 1;
                        continue;
                    }
                    return Err(bad(&format!("Point of {} before its Metric record", parsed.metric)));
                };
                let Some(value) = parsed.data.value.filter(|v| v.is_finite()) else {
                    if lenient {
                        stats.skipped_bad += 1;
                        continue;
                    }
                    return Err(bad("Point without a finite numeric data.value"));
                };
                if is_time && value < 0.0 {
                    if lenient {
                        stats.skipped_bad += 1;
                        continue;
                    }
                    return Err(bad(&format!("negative duration {value} for {}", parsed.metric)));
                }
                if let Some(time) = parsed.data.time.as_deref() {
                    let tags = parsed.data.tags.map(|t| t.get());
                    samples_of_file.see(&parsed.metric, time, value, tags, number)?;
                }
                count_run_point(stats, parsed.metric.as_bytes());
                let mut tags = PointTags::new(parsed.data.tags.map(|t| t.get()), fast.is_some());
                for (key, samples) in gathered.iter_mut() {
                    if key.name != parsed.metric.as_ref() {
                        continue;
                    }
                    let matches = samples.needles.iter().all(|(k, v, needle)| tags.has(k, v, needle.as_deref()));
                    if matches {
                        match kind {
                            MetricKind::Gauge => {
                                let at = parsed.data.time.as_deref().and_then(instant_nanos);
                                samples.see_latest(at, samples_of_file.index, value);
                            }
                            // Only a file's first sample is dated here (`trend_sum`).
                            MetricKind::Trend
                                if samples.file_starts.last().map(|(f, ..)| *f) != Some(samples_of_file.index) =>
                            {
                                let at = parsed.data.time.as_deref().and_then(instant_nanos);
                                samples.see_file(samples_of_file.index, at);
                            }
                            _ => {}
                        }
                        match kind {
                            MetricKind::Trend | MetricKind::Gauge => samples.values.push(value),
                            MetricKind::Rate => samples.nonzero += u64::from(value != 0.0),
                            MetricKind::Counter => {}
                        }
                        samples.count += 1;
                        samples.sum += value;
                        stats.points_kept += 1;
                    }
                }
            }
            // k6 writes no other type (every fixture of 1.1.0 and 2.2.0 holds Metric and Point
            // records only): a line of another is no figure anyone can read, so refused, never
            // dropped without a word (finding round32-figures/01).
            other => {
                if lenient {
                    stats.skipped_bad += 1;
                    continue;
                }
                return Err(bad(&format!(
                    "a record of type \"{}\": k6 writes Metric and Point records only",
                    crate::escape::line(other)
                )));
            }
        }
    }
    part.finish(number + 1, &shown, &mut parts);
    if parts.len() > 1 {
        let (ends, starts): (Vec<_>, Vec<_>) =
            parts.into_iter().map(|(name, start, end)| ((name.clone(), end), (name, start))).unzip();
        crate::sources::age::check_one_run(&ends, &starts).map_err(|why| {
            Error::Settings(format!(
                "{why} (one file holding several runs: each begins where a metric is declared again, the points go back in time, or they jump more than {RUN_GAP_SECS} s ahead)"
            ))
        })?;
    }
    stats.oldest_point.push((shown.clone(), newest.oldest_unix()));
    stats.newest_point.push((shown, newest.unix()));
    Ok(newest)
}

/// Why a Point without `data.time` is refused (see `read_one`).
const UNDATED_POINT: &str = "a Point without data.time (k6 dates every one): its sample cannot be shown to belong to the \
     run, nor to be of one run with other raw files, nor to be counted once; raw results are k6's --out json output as written";

/// A point more than this before the newest of the run so far begins another run: k6 writes
/// points as it makes them (out of order by less than a millisecond in the fixtures).
const RUN_BACKSTEP_SECS: i64 = 60;

/// A point more than this after the newest of the run so far begins another run (finding
/// round27-figures/04: one `vus` point dated now appended to nine-day-old results made the
/// file "0s old"): k6 writes the `vus` gauge every second of a run, so no run has a gap of ten
/// minutes between its points.
const RUN_GAP_SECS: i64 = 600;

/// One run found in a file: it begins at line 1, and another begins wherever a metric is
/// declared again (k6 declares each once per run) or a point lies more than
/// `RUN_BACKSTEP_SECS` before the newest of the run so far, or more than `RUN_GAP_SECS` after it.
#[derive(Default)]
struct FilePart {
    first_line: u64,
    declared: std::collections::HashSet<String>,
    times: NewestTime,
    points: u64,
}

impl FilePart {
    /// Sees a point's time at `line`, beginning another run first when it lies too far back.
    fn see_point(
        &mut self,
        time: &[u8],
        line: u64,
        shown: &str,
        parts: &mut Vec<(String, Option<i64>, Option<i64>)>,
    ) -> Result<(), String> {
        if self.times.lies_back(time, RUN_BACKSTEP_SECS) || self.times.lies_ahead(time, RUN_GAP_SECS) {
            self.finish(line, shown, parts);
        }
        self.points += 1;
        self.times.see(time)
    }

    /// Ends this run (kept when it holds points) and begins the next at `line`.
    fn finish(&mut self, line: u64, shown: &str, parts: &mut Vec<(String, Option<i64>, Option<i64>)>) {
        if self.points > 0 {
            let name = format!("{shown} (the run from line {})", self.first_line);
            parts.push((name, self.times.oldest_unix(), self.times.unix()));
        }
        *self = FilePart { first_line: line, ..FilePart::default() };
    }
}

/// Samples of one file met again in another: raw files judged together are segments of one
/// run, each sample in exactly one of them, so the same results given twice — compressed,
/// copied with a blank line, re-serialized — are refused, not counted twice (finding
/// round9-figures/02: only identical bytes were caught). A sample is known by its metric, the
/// instant its `data.time` names (however spelled) and its value, where those tell runs apart
/// (a value with a fraction, or a time to the microsecond: two runners never write one alike).
/// A whole value at a coarser time (fewer than 6 digits after the second's dot) is known by its
/// tags too (finding round38-figures/03: such samples had no identity, so copies of a run's
/// good 0/1 and count samples dated to the whole second diluted its error rate). k6 writes
/// nanoseconds (Go's RFC3339Nano, trailing zeros dropped: fewer than 6 digits is a time on a
/// multiple of 10 µs, about 1 in 10,000; none among the fixtures' k6 raw files), so for k6's
/// own files this meets next to nothing; in a file written coarser, two segments' samples of
/// one second cannot be told from copies, and the refusal says so. Of the samples known, one in
/// `SAMPLED_ONE_IN` is kept by its hash, so memory stays a small share of the points while a
/// copy of more than a few hundred samples is caught all but surely.
///
/// Within one file the same holds between the runs found in it (`FilePart`), and within one
/// run a sample is known by its tags too (finding round12-figures/03: `cat raw raw` was one run
/// counted twice): k6 writes one check's several results with one time and value, told apart
/// by their tags, so only values with a fraction are compared there.
#[derive(Default)]
struct SeenSamples {
    /// Hash of a sample → where it was first met: file, run within the file, line.
    first_seen: std::collections::HashMap<u64, (usize, usize, u64)>,
    /// Hash of a sample with its tags and where it was met (file, run) → its line.
    in_run: std::collections::HashMap<u64, u64>,
}

const SAMPLED_ONE_IN: u64 = 16;

/// One file's part in a read of several.
struct FileRead<'a, 'p> {
    index: usize,
    /// The run within the file (see `FilePart`).
    part: usize,
    paths: &'p [&'p Path],
    seen: &'a mut SeenSamples,
}

/// Tags in one spelling: parsed, keys in order (empty when the sample has none).
fn one_spelling(tags: Option<&str>) -> String {
    tags.and_then(|t| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(t).ok())
        .map(|map| serde_json::to_string(&map).unwrap_or_default())
        .unwrap_or_default()
}

impl FileRead<'_, '_> {
    /// A whole value at a time coarser than k6 writes (`SeenSamples`): known by its metric,
    /// instant, value and tags, sampled by all of them, and refused where met again in another
    /// file or another run of this file (never within one run: a coarse file repeats such a
    /// sample within one second legitimately).
    fn see_coarse(&mut self, metric: &str, time: &str, value: f64, tags: Option<&str>, line: u64) -> Result<(), Error> {
        use std::hash::{Hash, Hasher};
        let shown = |index: usize| crate::escape::line(&self.paths[index].display().to_string());
        let Some(nanos) = instant_nanos(time) else {
            return Err(Error::Settings(format!(
                "--raw {}: data.time {:?} is not an RFC 3339 time",
                shown(self.index),
                crate::escape::line(time)
            )));
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        // Its own domain: never equal to a sample known without its tags.
        ("coarse", metric, nanos, value.to_bits(), one_spelling(tags)).hash(&mut hasher);
        let hash = hasher.finish();
        if !hash.is_multiple_of(SAMPLED_ONE_IN) {
            return Ok(());
        }
        let why = "its time is coarser than k6 writes (k6 writes nanoseconds), so a copy of it cannot be told from \
                   the run's own sample, and the same samples twice would be counted twice";
        match self.seen.first_seen.get(&hash) {
            Some((index, part, first)) if *index == self.index && *part != self.part => Err(Error::Settings(format!(
                "--raw {} holds the same samples twice ({metric} at {}, value {value}, the same tags; lines {first} and {line}): {why}",
                shown(self.index),
                crate::escape::line(time)
            ))),
            Some((first, _, _)) if *first != self.index => Err(Error::Settings(format!(
                "--raw {} and --raw {} hold the same samples ({metric} at {}, value {value}, the same tags): {why} \
                 (raw files judged together are segments of one run, each sample in one of them)",
                shown(*first),
                shown(self.index),
                crate::escape::line(time)
            ))),
            Some(_) => Ok(()),
            None => {
                self.seen.first_seen.insert(hash, (self.index, self.part, line));
                Ok(())
            }
        }
    }

    fn see(&mut self, metric: &str, time: &str, value: f64, tags: Option<&str>, line: u64) -> Result<(), Error> {
        use std::hash::{Hash, Hasher};
        let fine_time = time
            .split_once('.')
            .is_some_and(|(_, fraction)| fraction.bytes().take_while(u8::is_ascii_digit).count() >= 6);
        if value.fract() == 0.0 && !fine_time {
            return self.see_coarse(metric, time, value, tags, line);
        }
        // Sampled by what no spelling changes and what varies within a metric: the metric, the
        // value and the time's fraction of a second (an offset moves whole minutes; trailing
        // zeros are dropped), then known by the instant its time names: `Z` or `+00:00`, any
        // case, is one moment (finding round10-figures/02: a copy with its times respelled was
        // another sample). By the value alone, a 0/1 metric (`http_req_failed`, `checks`) had
        // two samplings and neither drawn, so a copy read by a rates-only policy was counted
        // again (finding round36-figures/03).
        let fraction = time.split_once('.').map_or("", |(_, fraction)| {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            fraction[..digits].trim_end_matches('0')
        });
        let mut sampler = std::collections::hash_map::DefaultHasher::new();
        (metric, value.to_bits(), fraction).hash(&mut sampler);
        if !sampler.finish().is_multiple_of(SAMPLED_ONE_IN) {
            return Ok(());
        }
        let Some(nanos) = instant_nanos(time) else {
            return Err(Error::Settings(format!(
                "--raw {}: data.time {:?} is not an RFC 3339 time",
                crate::escape::line(&self.paths[self.index].display().to_string()),
                crate::escape::line(time)
            )));
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (metric, nanos, value.to_bits()).hash(&mut hasher);
        let hash = hasher.finish();
        let shown = |index: usize| crate::escape::line(&self.paths[index].display().to_string());
        let twice_in_file = |first: u64| {
            Error::Settings(format!(
                "--raw {} holds the same samples twice ({metric} at {}, lines {first} and {line}): the same raw results \
                 twice would count each sample twice (a run's raw results hold each sample once)",
                shown(self.index),
                crate::escape::line(time)
            ))
        };
        if value.fract() != 0.0 {
            // Tags in one spelling: parsed, keys in order.
            let tags = one_spelling(tags);
            let mut tagged = std::collections::hash_map::DefaultHasher::new();
            (self.index, self.part, hash, tags).hash(&mut tagged);
            if let Some(first) = self.seen.in_run.insert(tagged.finish(), line) {
                return Err(twice_in_file(first));
            }
        }
        match self.seen.first_seen.get(&hash) {
            Some((index, part, first)) if *index == self.index && *part != self.part => Err(twice_in_file(*first)),
            Some((first, _, _)) if *first != self.index => Err(Error::Settings(format!(
                "--raw {} and --raw {} hold the same samples ({metric} at {}): the same raw results twice would count each sample \
                 twice (raw files judged together are segments of one run, each sample in one of them)",
                crate::escape::line(&self.paths[*first].display().to_string()),
                crate::escape::line(&self.paths[self.index].display().to_string()),
                crate::escape::line(time)
            ))),
            Some(_) => Ok(()),
            None => {
                self.seen.first_seen.insert(hash, (self.index, self.part, line));
                Ok(())
            }
        }
    }
}

/// What a Point in k6's exact byte layout says without a parse.
struct K6Point<'a> {
    metric: &'a [u8],
    time: &'a [u8],
}

/// A Point written byte for byte as k6 writes it —
/// `{"metric":"NAME","type":"Point","data":{"time":"TIME","value":NUMBER,"tags":TAGS}}`, TAGS
/// `null` or `{"key":"value",...}` with each key once — and holding no escape and no control
/// byte: then every string is its bytes, and what is read here is what a JSON parse reads
/// (finding round32-figures/01..03: `"type":"\u0050oint"`, a TAB after a tag's colon, read
/// otherwise by a byte search). `None` for any other line, which is then parsed in full.
fn k6_point(line: &[u8]) -> Option<K6Point<'_>> {
    // Folded without an early exit, so the compiler checks many bytes at once.
    if line.iter().fold(false, |found, &b| found | (b < 0x20) | (b == b'\\')) {
        return None;
    }
    let rest = line.strip_prefix(b"{\"metric\":\"")?;
    let (metric, rest) = string_body(rest)?;
    let rest = rest.strip_prefix(b",\"type\":\"Point\",\"data\":{\"time\":\"")?;
    let (time, rest) = string_body(rest)?;
    let rest = rest.strip_prefix(b",\"value\":")?;
    let rest = rest.get(json_number_len(rest)?..)?.strip_prefix(b",\"tags\":")?;
    let rest = match rest.strip_prefix(b"null") {
        Some(rest) => rest,
        None => k6_tags(rest)?,
    };
    (rest == b"}}").then_some(K6Point { metric, time })
}

/// A string's bytes up to its closing quote, and what follows that quote (the line holds no
/// escape: see `k6_point`).
fn string_body(text: &[u8]) -> Option<(&[u8], &[u8])> {
    // Strings here are short (names, tags): a plain loop beats a vectorised search's setup.
    let end = text.iter().position(|&b| b == b'"')?;
    Some((&text[..end], &text[end + 1..]))
}

/// The most tags a Point of k6's layout is read with from its bytes (k6 writes about ten).
const K6_TAGS_MAX: usize = 32;

/// A tags object as k6 writes it — `{}` or `{"key":"value",...}`, unspaced, string values,
/// each key once (a key written twice is the last to a parse, the first to a byte search) —
/// and what follows it; `None` for any other spelling.
fn k6_tags(text: &[u8]) -> Option<&[u8]> {
    let mut rest = text.strip_prefix(b"{")?;
    if let Some(after) = rest.strip_prefix(b"}") {
        return Some(after);
    }
    let mut keys: [&[u8]; K6_TAGS_MAX] = [&[]; K6_TAGS_MAX];
    for n in 0..K6_TAGS_MAX {
        let (key, after) = string_body(rest.strip_prefix(b"\"")?)?;
        if keys[..n].contains(&key) {
            return None;
        }
        keys[n] = key;
        let (_, after) = string_body(after.strip_prefix(b":\"")?)?;
        match after.split_first()? {
            (b',', next) => rest = next,
            (b'}', next) => return Some(next),
            _ => return None,
        }
    }
    None
}

/// The length of the JSON number `text` begins with (RFC 8259 grammar), `None` if it begins
/// with none.
fn json_number_len(text: &[u8]) -> Option<usize> {
    let digits = |from: usize| from + text[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = usize::from(text.first() == Some(&b'-'));
    at = match text.get(at)? {
        b'0' => at + 1,
        b'1'..=b'9' => digits(at),
        _ => return None,
    };
    if text.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1 + usize::from(matches!(text.get(at + 1), Some(b'+' | b'-')));
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    Some(at)
}

/// The newest `data.time` of a file's points: k6 writes one RFC 3339 layout per file, so
/// same-length texts with the same offset compare as bytes (parsed only when one becomes the
/// newest); a text of another layout is parsed and compared as a time. A time that would be
/// the newest and is not RFC 3339 is a bad line.
/// The oldest is kept the same way: raw files judged together must overlap in time.
#[derive(Default)]
struct NewestTime {
    text: Vec<u8>,
    oldest: Vec<u8>,
}

impl NewestTime {
    fn see(&mut self, candidate: &[u8]) -> Result<(), String> {
        keep_extreme(&mut self.text, candidate, std::cmp::Ordering::Greater)?;
        keep_extreme(&mut self.oldest, candidate, std::cmp::Ordering::Less)
    }

    /// Whether `candidate` lies more than `secs` before the newest time seen (compared as
    /// bytes first: only a candidate older than the newest is parsed).
    fn lies_back(&self, candidate: &[u8], secs: i64) -> bool {
        if self.text.is_empty() {
            return false;
        }
        let same_layout = candidate.len() == self.text.len()
            && candidate.len() >= 6
            && candidate[candidate.len() - 6..] == self.text[self.text.len() - 6..];
        if same_layout && candidate >= self.text.as_slice() {
            return false;
        }
        matches!((parse_time(candidate), parse_time(&self.text)), (Some(t), Some(newest)) if newest - t > secs)
    }

    /// Whether `candidate` lies more than `secs` after the newest time seen. Times of one
    /// layout in one ten-minute block (`2026-11-27T07:3…`, same offset) are within 600 s
    /// without being parsed: the reader stays a byte comparison per point.
    fn lies_ahead(&self, candidate: &[u8], secs: i64) -> bool {
        const BLOCK: usize = "2026-11-27T07:3".len();
        if self.text.is_empty() {
            return false;
        }
        let same_block = candidate.len() == self.text.len()
            && candidate.len() > BLOCK + 6
            && candidate[..BLOCK] == self.text[..BLOCK]
            && candidate[candidate.len() - 6..] == self.text[self.text.len() - 6..];
        if same_block && secs >= 600 {
            return false;
        }
        matches!((parse_time(candidate), parse_time(&self.text)), (Some(t), Some(newest)) if t - newest > secs)
    }

    fn unix(&self) -> Option<i64> {
        parse_time(&self.text)
    }

    fn oldest_unix(&self) -> Option<i64> {
        parse_time(&self.oldest)
    }
}

/// Keeps in `kept` the newest (`Greater`) or oldest (`Less`) of the times seen, comparing
/// same-layout texts as bytes and parsing only a candidate that may replace it.
fn keep_extreme(kept: &mut Vec<u8>, candidate: &[u8], wanted: std::cmp::Ordering) -> Result<(), String> {
    let same_layout = candidate.len() == kept.len()
        && candidate.len() >= 6
        && candidate[candidate.len() - 6..] == kept[kept.len() - 6..];
    // A time compared as bytes only is still checked to be one (finding round11-figures/01: a
    // time between the extremes with a comma for its dot was never parsed, and a copy of a run
    // spelled so was not known as the same samples): the kept time's layout, digit for digit,
    // its fields in range.
    if same_layout && !same_skeleton(kept, candidate) {
        return Err(format!("data.time {:?} is not an RFC 3339 time", String::from_utf8_lossy(candidate)));
    }
    if same_layout && candidate.cmp(kept.as_slice()) != wanted {
        return Ok(());
    }
    // To the nanosecond: two times of one second written to other precisions (k6 drops
    // trailing zeros) are told apart, so the run's span is its samples' (round19-figures/01).
    let Some(new) = parse_time_nanos(candidate) else {
        return Err(format!("data.time {:?} is not an RFC 3339 time", String::from_utf8_lossy(candidate)));
    };
    if kept.is_empty() || same_layout || parse_time_nanos(kept).is_some_and(|old| new.cmp(&old) == wanted) {
        kept.clear();
        kept.extend_from_slice(candidate);
    }
    Ok(())
}

/// Whether `candidate` is written as `kept` (an RFC 3339 time already parsed) is: a digit
/// where it has one, its other bytes the same, and month, day, hour, minute and second in range.
fn same_skeleton(kept: &[u8], candidate: &[u8]) -> bool {
    let layout = kept.len() == candidate.len()
        && kept.iter().zip(candidate).all(|(k, c)| if k.is_ascii_digit() { c.is_ascii_digit() } else { k == c });
    let field = |at: usize| candidate.get(at..at + 2).map(|d| (d[0] - b'0') * 10 + (d[1] - b'0'));
    let in_range = |at: usize, low: u8, high: u8| field(at).is_some_and(|v| (low..=high).contains(&v));
    layout
        && in_range(5, 1, 12)
        && in_range(8, 1, 31)
        && in_range(11, 0, 23)
        && in_range(14, 0, 59)
        && in_range(17, 0, 60)
}

/// The instant a point's `data.time` names, to the nanosecond, however spelled (`Z` or
/// `+00:00`, any case, `T` or a space).
fn instant_nanos(time: &str) -> Option<i128> {
    let spelled = time.to_ascii_uppercase().replacen(' ', "T", 1);
    time::OffsetDateTime::parse(&spelled, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn parse_time_nanos(text: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(text).ok()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn parse_time(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// A Point's tags, answering whether they hold a selector's tag: in k6's layout (`k6_point`
/// accepted the line) by a search for `"key":"value"`, which there can only match a key and
/// its value; in any other spelling from the tags parsed once, as every JSON reader reads them
/// (finding round32-figures/02: a TAB after a colon hid a sample from its flow).
struct PointTags<'a> {
    text: &'a str,
    k6_layout: bool,
    parsed: Option<BTreeMap<String, serde_json::Value>>,
}

impl<'a> PointTags<'a> {
    fn new(text: Option<&'a str>, k6_layout: bool) -> Self {
        PointTags { text: text.unwrap_or("{}"), k6_layout, parsed: None }
    }

    fn has(&mut self, key: &str, value: &str, needle: Option<&[u8]>) -> bool {
        if let (true, Some(needle)) = (self.k6_layout, needle) {
            return memchr::memmem::find(self.text.as_bytes(), needle).is_some();
        }
        // Tags that are no object hold no tag.
        let text = self.text;
        let map = self.parsed.get_or_insert_with(|| serde_json::from_str(text).unwrap_or_default());
        map.get(key).and_then(|v| v.as_str()) == Some(value)
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && matches!(line[start], b' ' | b'\t') {
        start += 1;
    }
    &line[start..end]
}

/// k6's TrendSink: sorted samples, percentiles by linear interpolation between closest ranks.
/// `sum` is the samples' sum as `Gathered::trend_sum` adds them.
fn trend_stats(mut values: Vec<f64>, sum: f64) -> TrendStats {
    let mut stats = BTreeMap::new();
    let count = values.len();
    stats.insert("count".to_string(), count as f64);
    if count == 0 {
        return TrendStats(stats);
    }
    values.sort_by(f64::total_cmp);
    let percentile = |pct: f64| -> f64 {
        if count == 1 {
            return values[0];
        }
        let i = pct * (count as f64 - 1.0);
        let (lower, upper) = (values[i.floor() as usize], values[i.ceil() as usize]);
        crate::metrics::distribution::interpolated(lower, upper, i - i.floor())
    };
    // Samples near f64::MAX overflow the file-order sum, yet the mean of finite samples lies
    // between them: then each is scaled down before adding (clamped against rounding).
    let avg = if sum.is_finite() {
        sum / count as f64
    } else {
        values.iter().map(|v| v / count as f64).sum::<f64>().clamp(values[0], values[count - 1])
    };
    stats.insert("avg".into(), avg);
    stats.insert("min".into(), values[0]);
    stats.insert("max".into(), values[count - 1]);
    stats.insert("med".into(), percentile(0.5));
    for p in [90.0, 95.0, 99.0, 99.9] {
        stats.insert(crate::policy::threshold::Stat::Percentile(p).key(), percentile(p / 100.0));
    }
    TrendStats(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON value written in k6's spelling or respelled: `seed` drives every choice of a
    /// respelling (key order, `\u` escapes of any character of a key or string, JSON whitespace
    /// — space, TAB, CR, LF — around `:` and `,` and brackets); `None` writes k6's own spelling
    /// (keys in the order given, unspaced, no escape).
    struct Speller {
        seed: Option<u64>,
        newlines: bool,
    }

    impl Speller {
        fn next(&mut self) -> u64 {
            let seed = self.seed.as_mut().expect("respelling");
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        }

        fn space(&mut self, out: &mut String) {
            if self.seed.is_none() {
                return;
            }
            for _ in 0..self.next() % 3 {
                let choices: &[char] = if self.newlines { &[' ', '\t', '\r', '\n'] } else { &[' ', '\t', '\r'] };
                out.push(choices[(self.next() % choices.len() as u64) as usize]);
            }
        }

        fn string(&mut self, text: &str, out: &mut String) {
            out.push('"');
            for c in text.chars() {
                if self.seed.is_some() && self.next().is_multiple_of(3) {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if self.next().is_multiple_of(2) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        } else {
                            out.push_str(&format!("\\u{unit:04X}"));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out.push('"');
        }

        /// Writes `value`; objects are given as ordered (key, value) lists in k6's key order.
        fn write(&mut self, value: &Json, out: &mut String) {
            match value {
                Json::Raw(text) => out.push_str(text),
                Json::Str(text) => self.string(text, out),
                Json::List(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.space(out);
                            out.push(',');
                        }
                        self.space(out);
                        self.write(item, out);
                    }
                    self.space(out);
                    out.push(']');
                }
                Json::Object(fields) => {
                    let mut order: Vec<usize> = (0..fields.len()).collect();
                    if self.seed.is_some() {
                        for i in (1..order.len()).rev() {
                            let j = (self.next() % (i as u64 + 1)) as usize;
                            order.swap(i, j);
                        }
                    }
                    out.push('{');
                    for (n, &i) in order.iter().enumerate() {
                        if n > 0 {
                            self.space(out);
                            out.push(',');
                        }
                        self.space(out);
                        self.string(&fields[i].0, out);
                        self.space(out);
                        out.push(':');
                        self.space(out);
                        self.write(&fields[i].1, out);
                    }
                    self.space(out);
                    out.push('}');
                }
            }
        }
    }

    enum Json {
        Raw(String),
        Str(String),
        List(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    fn object(fields: Vec<(&str, Json)>) -> Json {
        Json::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    const METRICS: [(&str, &str); 4] =
        [("http_req_duration", "trend"), ("http_req_failed", "rate"), ("http_reqs", "counter"), ("vus", "gauge")];
    const TAG_KEYS: [&str; 4] = ["flow", "name", "status", "method"];
    const TAG_VALUES: [&str; 5] = ["auth_list", "GET /api/{id}", "a:b,c", "200", "é ü"];

    /// The records of a generated run: a Metric record per metric (with or without thresholds
    /// and sub-metrics), then points of those metrics, one per distinct time, with tag sets.
    /// One generated request: its duration in µs and its tags (key, value indexes).
    type Request = (u32, Vec<(usize, usize)>);

    fn run_records(thresholds: &[(bool, bool)], points: &[Request]) -> Vec<Json> {
        let mut records = Vec::new();
        for (i, (name, kind)) in METRICS.iter().enumerate() {
            let (listed, sub) = thresholds[i];
            let list = if listed { vec![Json::Str("p(95)<400".into())] } else { Vec::new() };
            let submetrics = if sub {
                Json::List(vec![object(vec![
                    ("name", Json::Str(format!("{name}{{flow:auth_list}}"))),
                    ("suffix", Json::Str("flow:auth_list".into())),
                    ("tags", object(vec![("flow", Json::Str("auth_list".into()))])),
                ])])
            } else {
                Json::Raw("null".into())
            };
            records.push(object(vec![
                ("type", Json::Str("Metric".into())),
                (
                    "data",
                    object(vec![
                        ("name", Json::Str(name.to_string())),
                        ("type", Json::Str(kind.to_string())),
                        ("contains", Json::Str(if *kind == "trend" { "time" } else { "default" }.into())),
                        ("thresholds", Json::List(list)),
                        ("submetrics", submetrics),
                    ]),
                ),
                ("metric", Json::Str(name.to_string())),
            ]));
        }
        // One request is a point of each request metric, alike in time and tags (k6's counts
        // of one request stream agree); every third has a `vus` point too.
        for (n, (value, tags)) in points.iter().enumerate() {
            let mut seen = std::collections::BTreeSet::new();
            let tags: Vec<(usize, usize)> = tags.iter().copied().filter(|(k, _)| seen.insert(*k)).collect();
            for (name, kind) in METRICS.iter().filter(|(name, _)| *name != "vus" || value % 3 == 0) {
                let value = match *kind {
                    "rate" => f64::from(value % 2),
                    "counter" => 1.0,
                    _ => f64::from(*value) / 1000.0,
                };
                let tags = tags.iter().map(|(k, v)| (TAG_KEYS[*k].to_string(), Json::Str(TAG_VALUES[*v].to_string())));
                records.push(object(vec![
                    ("metric", Json::Str(name.to_string())),
                    ("type", Json::Str("Point".into())),
                    (
                        "data",
                        object(vec![
                            (
                                "time",
                                Json::Str(format!("2026-11-27T07:35:{:02}.{:06}Z", n / 1000 % 60, n % 1000 * 997 + 1)),
                            ),
                            ("value", Json::Raw(serde_json::to_string(&value).unwrap())),
                            ("tags", Json::Object(tags.collect())),
                        ]),
                    ),
                ]));
            }
        }
        records
    }

    fn wanted_selectors() -> Vec<MetricKey> {
        let mut wanted = Vec::new();
        for (name, _) in METRICS.iter().take(3) {
            wanted.push(MetricKey::parse(name).unwrap());
            for value in TAG_VALUES.iter().filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
                wanted.push(MetricKey::parse(&format!("{name}{{flow:{value}}}")).unwrap());
            }
            wanted.push(MetricKey::parse(&format!("{name}{{flow:auth_list,status:200}}")).unwrap());
        }
        wanted
    }

    /// What a read gives, every figure a verdict uses.
    fn reading(path: &Path, wanted: &[MetricKey]) -> Result<String, String> {
        let (set, stats) = read(&[path], wanted, false).map_err(|e| e.to_string())?;
        let metrics: Vec<String> = set.metrics.iter().map(|(k, m)| format!("{k} {:?}", m.aggregate)).collect();
        Ok(format!(
            "{metrics:#?} {:?} {:?} {} {:?} {:?}",
            set.k6_thresholds_shown, set.sampled, stats.points_kept, stats.run_counts, stats.thresholds_shown
        ))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, failure_persistence: None, ..Default::default() })]

        /// Findings round32-figures/01..03, the class: any respelling of the same JSON records
        /// (`\u` escapes of any character in keys and strings, JSON whitespace incl. TAB/CR/LF
        /// around `:` `,` and brackets, keys in any order) reads EXACTLY as k6's own spelling —
        /// same samples, metrics, tags, thresholds — or is refused; never differently. Without a
        /// LF (which splits a line) it is never refused.
        #[test]
        fn any_spelling_of_k6s_records_reads_as_k6s_own_or_is_refused(
            thresholds in proptest::collection::vec((proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()), 4),
            points in proptest::collection::vec(
                (0u32..2_000_000, proptest::collection::vec((0usize..4, 0usize..5), 0..4)),
                1..60,
            ),
            seed in 1u64..u64::MAX,
            newlines in proptest::prelude::any::<bool>(),
            respelled_share in 0u64..4,
        ) {
            let records = run_records(&thresholds, &points);
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, speller: &mut Speller, share: u64| {
                let mut text = String::new();
                for record in &records {
                    let mut k6 = Speller { seed: None, newlines: false };
                    let mut line = String::new();
                    if speller.seed.is_some() && speller.next() % 4 <= share {
                        speller.write(record, &mut line);
                    } else {
                        k6.write(record, &mut line);
                    }
                    text.push_str(&line);
                    text.push('\n');
                }
                let path = dir.path().join(name);
                std::fs::write(&path, text).unwrap();
                path
            };
            let k6_path = write("k6.ndjson", &mut Speller { seed: None, newlines: false }, 0);
            let other_path = write("other.ndjson", &mut Speller { seed: Some(seed), newlines }, respelled_share);
            let wanted = wanted_selectors();
            let k6 = reading(&k6_path, &wanted);
            proptest::prop_assert!(k6.is_ok(), "{:?}", k6);
            match reading(&other_path, &wanted) {
                Ok(other) => proptest::prop_assert_eq!(k6.unwrap(), other),
                Err(why) => proptest::prop_assert!(newlines, "refused without a LF: {}", why),
            }
        }

        /// The fast path's answer is the parse's answer for every line it accepts: k6's Point
        /// lines, mutated by inserting a byte of JSON syntax, an escape or whitespace anywhere,
        /// are either not k6's layout (parsed in full) or read the same metric, time and tags
        /// as serde reads them.
        #[test]
        fn a_line_the_fast_path_accepts_is_what_a_json_parse_reads(
            points in proptest::collection::vec(
                (0u32..2_000_000, proptest::collection::vec((0usize..4, 0usize..5), 0..4)),
                1..4,
            ),
            edits in proptest::collection::vec((0usize..400, 0usize..14), 0..3),
        ) {
            const BYTES: [&str; 14] = ["\\", "\"", " ", "\t", "\r", ",", "{", "}", ":", "u", "0", "\"flow\":\"auth_list\"", ",\"flow\":\"x\"", "e"];
            for record in run_records(&[(false, false); 4], &points).iter().skip(METRICS.len()) {
                let mut line = String::new();
                Speller { seed: None, newlines: false }.write(record, &mut line);
                proptest::prop_assert!(k6_point(line.as_bytes()).is_some(), "k6's own layout: {}", line);
                for (at, byte) in &edits {
                    let mut at = at % (line.len() + 1);
                    while !line.is_char_boundary(at) {
                        at -= 1;
                    }
                    line.insert_str(at, BYTES[*byte]);
                }
                let Some(fast) = k6_point(line.as_bytes()) else { continue };
                let parsed: Line = serde_json::from_str(&line).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{line}: {e}")))?;
                proptest::prop_assert_eq!(parsed.kind.as_ref(), "Point");
                proptest::prop_assert_eq!(parsed.metric.as_bytes(), fast.metric);
                proptest::prop_assert_eq!(parsed.data.time.as_deref().map(str::as_bytes), Some(fast.time));
                let tags_text = parsed.data.tags.map(|t| t.get());
                let map: BTreeMap<String, serde_json::Value> = tags_text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
                for key in TAG_KEYS {
                    for value in TAG_VALUES.iter().chain(&["x"]) {
                        let needle = format!("\"{key}\":\"{value}\"");
                        let mut tags = PointTags::new(tags_text, true);
                        proptest::prop_assert_eq!(
                            tags.has(key, value, Some(needle.as_bytes())),
                            map.get(key).and_then(|v| v.as_str()) == Some(*value),
                            "{} {}={}", line, key, value
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_point_k6_wrote_takes_the_fast_path() {
        let mut points = 0;
        for version in ["1.1.0", "2.2.0"] {
            let text = std::fs::read_to_string(format!("fixtures/k6/{version}/pass/raw.ndjson")).unwrap();
            for line in text.lines().filter(|l| !l.starts_with("{\"type\":\"Metric\"")) {
                assert!(k6_point(line.as_bytes()).is_some(), "{line}");
                points += 1;
            }
        }
        assert!(points > 4000, "{points}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Finding round20-judge/02. Rule: raw results answer ANY percentile a gate asks, each
        /// by k6's method (rank p/100·(n-1) among the sorted samples, interpolated linearly),
        /// the ones the reader lists and the ones it does not alike.
        #[test]
        fn raw_results_answer_every_percentile_by_k6s_method(
            values in proptest::collection::vec(0u32..100_000, 1..80),
            tenths in 0u32..=1000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("raw.ndjson");
            let mut text = String::from(
                "{\"type\":\"Metric\",\"data\":{\"name\":\"http_req_duration\",\"type\":\"trend\",\"contains\":\"time\"},\"metric\":\"http_req_duration\"}\n",
            );
            for (i, v) in values.iter().enumerate() {
                text.push_str(&format!(
                    "{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-01-01T00:00:00.{:06}Z\",\"value\":{},\"tags\":{{}}}}}}\n",
                    i,
                    f64::from(*v) / 10.0
                ));
            }
            std::fs::write(&path, text).unwrap();
            let key = MetricKey::parse("http_req_duration").unwrap();
            let (set, _) = read(&[&path], std::slice::from_ref(&key), false).unwrap();
            let mut sorted: Vec<f64> = values.iter().map(|v| f64::from(*v) / 10.0).collect();
            sorted.sort_by(f64::total_cmp);
            for rank in [f64::from(tenths) / 10.0, 95.0, 99.9, 75.0] {
                let i = rank / 100.0 * (sorted.len() - 1) as f64;
                let (lower, upper) = (sorted[i.floor() as usize], sorted[i.ceil() as usize]);
                let expected = lower + (upper - lower) * (i - i.floor());
                let stat = crate::policy::threshold::Stat::Percentile(rank);
                proptest::prop_assert_eq!(set.lookup(&key, stat), crate::metrics::Lookup::Value(expected), "p({})", rank);
            }
        }
    }

    #[test]
    fn k6_interpolation() {
        let stats = trend_stats(vec![4.0, 1.0, 3.0, 2.0], 10.0);
        assert_eq!(stats.0["med"], 2.5);
        assert_eq!(stats.0["p(90)"], 3.0 + (4.0 - 3.0) * (0.9 * 3.0 - 2.0));
        assert_eq!(stats.0["avg"], 2.5);
        assert_eq!(trend_stats(vec![7.0], 7.0).0["p(99)"], 7.0);
    }

    #[test]
    fn figures_of_finite_samples_stay_finite_where_k6s_arithmetic_overflows() {
        let near_max = trend_stats(vec![1e308, 1.5e308], f64::INFINITY);
        assert_eq!(near_max.0["avg"], 1.25e308);
        let spread = trend_stats(vec![-1.5e308, 1.5e308], 0.0);
        assert_eq!(spread.0["med"], 0.0);
        assert!((1.19e308..1.21e308).contains(&spread.0["p(90)"]), "{}", spread.0["p(90)"]);
    }

    #[test]
    fn rates_keep_counts_not_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rates.ndjson");
        let mut text = String::from(
            "{\"type\":\"Metric\",\"data\":{\"name\":\"http_req_failed\",\"type\":\"rate\"},\"metric\":\"http_req_failed\"}\n",
        );
        for i in 0..20_000 {
            text.push_str(&format!(
                "{{\"metric\":\"http_req_failed\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-27T07:35:36.{i:06}Z\",\"value\":{},\"tags\":{{}}}}}}\n",
                i % 4 / 3
            ));
        }
        std::fs::write(&path, text).unwrap();
        let key = MetricKey::parse("http_req_failed").unwrap();
        let mut gathered = BTreeMap::from([(key.clone(), Gathered::default())]);
        let (mut kinds, mut stats) = (BTreeMap::new(), RawStats::default());
        let (paths, mut seen) = ([path.as_path()], SeenSamples::default());
        let mut samples_of_file = FileRead { index: 0, part: 0, paths: &paths, seen: &mut seen };
        read_one(&path, &["http_req_failed"], false, &mut gathered, &mut kinds, &mut stats, &mut samples_of_file)
            .unwrap();
        let rate = &gathered[&key];
        assert_eq!((rate.count, rate.nonzero), (20_000, 5_000));
        assert_eq!(rate.values.capacity(), 0, "no sample of a rate is kept");
        let (set, _) = read(&[&path], std::slice::from_ref(&key), false).unwrap();
        assert_eq!(set.metrics[&key].aggregate, Aggregate::Rate { matches: 5_000, total: 20_000 });
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// Findings round19-figures/01 and round21-figures/03, generated: raw samples spanning
        /// the summary's run (recorded, or implied by a counter's count / rate) are accepted; a
        /// span beyond it by more than the larger of 1 % and 100 ms, or short of it by more than
        /// the larger of 1 % and 2 s, is refused, naming both files and both durations, whatever
        /// the start instant, the offset the times are written in.
        #[test]
        fn raw_samples_lie_within_the_summarys_run(
            run in 0.001f64..100_000.0,
            within in 0.0f64..0.999,
            beyond in 1e-6f64..1e4,
            start in 1_500_000_000i64..2_500_000_000,
            start_nanos in 0u32..1_000_000_000,
            offset_hours in -12i8..=12,
            recorded in proptest::bool::ANY,
        ) {
            let mut summary = MetricSet { path: "summary.json".into(), ..MetricSet::default() };
            if recorded {
                summary.run_duration = Some((run, "state.testRunDurationMs".into()));
            } else {
                summary.metrics.insert(
                    MetricKey::parse("http_reqs").unwrap(),
                    Metric {
                        aggregate: Aggregate::Counter { count: 214.0, per_second: Some(214.0 / run) },
                        is_time: false,
                        k6_verdicts: Vec::new(),
                        provenance: Provenance::File { path: "summary.json".into(), key: "metrics.http_reqs".into() },
                    },
                );
            }
            let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap();
            let from = time::OffsetDateTime::from_unix_timestamp(start).unwrap().replace_nanosecond(start_nanos).unwrap();
            let written = |span: f64| {
                let to = from + time::Duration::seconds_f64(span);
                let text = |at: time::OffsetDateTime| at.to_offset(offset).format(&time::format_description::well_known::Rfc3339).unwrap();
                MetricSet { path: "raw.ndjson".into(), sampled: Some((text(from), text(to))), ..MetricSet::default() }
            };
            // Whole nanoseconds: a span is written a nanosecond short of the run at most. A span
            // short of the run by at most the short slack fits (finding round21-figures/03).
            let short_slack = (run * SPAN_SLACK_SHARE).max(SPAN_SHORT_SLACK_SECS);
            let fits = ((run - short_slack * within).max(0.0) * 1e9).floor() / 1e9;
            proptest::prop_assert!(check_within_run(&summary, &written(fits)).is_ok(), "{fits} s in a {run} s run");
            let slack = (run * SPAN_SLACK_SHARE).max(SPAN_SLACK_SECS);
            let refused_naming_both = |span: f64| -> Result<(), proptest::test_runner::TestCaseError> {
                let refused = check_within_run(&summary, &written(span));
                proptest::prop_assert!(
                    refused.as_ref().is_err_and(|e| {
                        let e = e.to_string();
                        e.contains("raw.ndjson") && e.contains("summary.json") && e.contains(&format!("a run of {}", summary.run_seconds().unwrap().0))
                    }),
                    "{span} s in a {run} s run: {refused:?}"
                );
                Ok(())
            };
            refused_naming_both(run + slack + beyond)?;
            // Far shorter than the run (a summary stretched beside its raw results) is refused too.
            let under = run - short_slack - beyond;
            if under >= 0.0 {
                refused_naming_both((under * 1e9).floor() / 1e9)?;
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

        /// Finding round16-judge/02, generated: a run's identity is the same whatever the order
        /// of its samples — the points in another order, or dealt out to two files given in
        /// either order — though `avg` summed in another order differs in its last bits.
        #[test]
        fn the_same_samples_in_any_order_or_split_are_one_run(
            points in proptest::collection::vec((0u64..1_000_000_000, 1u32..5_000_000), 50..300),
            order in proptest::collection::vec(proptest::prelude::any::<u32>(), 300),
            split in 1usize..50,
        ) {
            let mut shuffled: Vec<(u32, (u64, u32))> = order.iter().copied().zip(points.iter().copied()).collect();
            shuffled.sort_by_key(|(key, _)| *key);
            let shuffled: Vec<(u64, u32)> = shuffled.into_iter().map(|(_, point)| point).collect();
            let header = "{\"type\":\"Metric\",\"data\":{\"name\":\"lat\",\"type\":\"trend\",\"contains\":\"time\"},\"metric\":\"lat\"}\n\
                          {\"type\":\"Metric\",\"data\":{\"name\":\"bad\",\"type\":\"rate\"},\"metric\":\"bad\"}\n";
            let line = |(nanos, micros): &(u64, u32)| {
                format!(
                    "{{\"metric\":\"lat\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-27T07:35:36.{nanos:09}Z\",\"value\":{}.{:03}7,\"tags\":{{}}}}}}\n\
                     {{\"metric\":\"bad\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-27T07:35:36.{nanos:09}Z\",\"value\":{},\"tags\":{{}}}}}}\n",
                    micros / 1000,
                    micros % 1000,
                    micros % 7 / 6
                )
            };
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, points: &[(u64, u32)]| {
                let path = dir.path().join(name);
                std::fs::write(&path, format!("{header}{}", points.iter().map(line).collect::<String>())).unwrap();
                path
            };
            let wanted = [MetricKey::parse("lat").unwrap(), MetricKey::parse("bad").unwrap()];
            let identity = |paths: &[&Path]| {
                let (set, _) = read(paths, &wanted, false).unwrap();
                crate::metrics::RunIdentity::of(&set, &wanted).unwrap().to_string()
            };
            let ordered = identity(&[&write("ordered.ndjson", &points)]);
            let reordered = identity(&[&write("shuffled.ndjson", &shuffled)]);
            let at = split.min(shuffled.len() - 1);
            let (one, two) = (write("one.ndjson", &shuffled[..at]), write("two.ndjson", &shuffled[at..]));
            let apart = identity(&[&two, &one]);
            proptest::prop_assert!(crate::metrics::same_run(&ordered, &reordered), "{} vs {}", ordered, reordered);
            proptest::prop_assert!(crate::metrics::same_run(&ordered, &apart), "{} vs {}", ordered, apart);
        }

        /// The one-sample-one-file rule, generated: a second file holding a few hundred of the
        /// first's samples, in k6's layout or re-serialized with spaces, its times respelled or
        /// not, in any order, is
        /// refused; the same points dealt out to two files (segments side by side) are not.
        #[test]
        fn samples_met_in_two_files_are_refused_and_segments_are_not(
            points in proptest::collection::vec((0u64..1_000_000_000, 1u32..5_000_000), 600..900),
            copied in 250usize..600,
            spaced in proptest::prelude::any::<bool>(),
            reversed in proptest::prelude::any::<bool>(),
            respelled in proptest::prelude::any::<bool>(),
            // Finding round36-figures/03: whatever metric the policy reads — a trend, or a 0/1
            // rate whose values alone cannot tell two samples apart.
            rate in proptest::prelude::any::<bool>(),
            rate_name in proptest::sample::select(vec!["http_req_failed", "checks", "errors", "bad"]),
        ) {
            let (metric, kind) = if rate { (rate_name, "\"rate\"") } else { ("lat", "\"trend\",\"contains\":\"time\"") };
            let header = format!("{{\"type\":\"Metric\",\"data\":{{\"name\":\"{metric}\",\"type\":{kind}}},\"metric\":\"{metric}\"}}\n");
            let lines: Vec<String> = points
                .iter()
                .map(|(nanos, micros)| {
                    let value = if rate { format!("{}", micros % 2) } else { format!("{}.{:03}", micros / 1000, micros % 1000 + 1) };
                    format!(
                        "{{\"metric\":\"{metric}\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-27T07:35:36.{nanos:09}Z\",\"value\":{value},\"tags\":{{}}}}}}\n"
                    )
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let (first, second) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"));
            let key = MetricKey::parse(metric).unwrap();
            std::fs::write(&first, format!("{header}{}", lines.concat())).unwrap();
            let mut copy: Vec<String> = lines[..copied].to_vec();
            if reversed {
                copy.reverse();
            }
            let copy = copy.concat();
            // The same instants spelled `+00:00` and in lower case: the same samples.
            let copy = if respelled { copy.replace("Z\"", "+00:00\"").replace("T07", "t07") } else { copy };
            std::fs::write(&second, format!("{header}{}", if spaced { copy.replace("\":", "\": ") } else { copy })).unwrap();
            let refused = read(&[first.as_path(), second.as_path()], std::slice::from_ref(&key), false);
            let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
            proptest::prop_assert!(message.contains("hold the same samples"), "{}", message);
            let (odd, even): (Vec<_>, Vec<_>) = lines.iter().enumerate().partition(|(i, _)| i % 2 == 1);
            let concat = |part: Vec<(usize, &String)>| part.into_iter().map(|(_, l)| l.as_str()).collect::<String>();
            std::fs::write(&first, format!("{header}{}", concat(odd))).unwrap();
            std::fs::write(&second, format!("{header}{}", concat(even))).unwrap();
            let read_apart = read(&[first.as_path(), second.as_path()], std::slice::from_ref(&key), false);
            proptest::prop_assert!(read_apart.is_ok(), "{:?}", read_apart.err());
        }

        /// Finding round38-figures/03, generated over time precision × copies: a run's 0/1 and
        /// count samples, their times written to any number of digits after the second (none:
        /// the whole second), and one to four more files each holding a few hundred of them
        /// again (a byte apart), are refused whatever the precision; the same samples dealt out
        /// to two files (segments) are not, nor one file repeating a coarse sample in its run.
        #[test]
        fn copies_of_whole_valued_samples_are_refused_at_any_time_precision(
            points in proptest::collection::vec((0u64..1_000_000_000, 0u32..60, 0u32..2), 600..900),
            digits in 0usize..10,
            copies in 1usize..5,
            copied in 250usize..600,
            metric in proptest::sample::select(vec!["http_req_failed", "http_reqs", "checks"]),
        ) {
            let kind = if metric == "http_reqs" { "counter" } else { "rate" };
            let header = format!("{{\"type\":\"Metric\",\"data\":{{\"name\":\"{metric}\",\"type\":\"{kind}\"}},\"metric\":\"{metric}\"}}\n");
            let lines: Vec<String> = points
                .iter()
                .enumerate()
                .map(|(i, (nanos, second, value))| {
                    let fraction = format!("{nanos:09}")[..digits].to_string();
                    let time = if digits == 0 { format!("2026-11-27T07:35:{second:02}Z") } else { format!("2026-11-27T07:35:{second:02}.{fraction}Z") };
                    // Tags tell this run's samples apart (a request's flow and its number).
                    format!("{{\"metric\":\"{metric}\",\"type\":\"Point\",\"data\":{{\"time\":\"{time}\",\"value\":{value},\"tags\":{{\"flow\":\"f\",\"n\":\"{i}\"}}}}}}\n")
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let key = MetricKey::parse(metric).unwrap();
            let run = dir.path().join("run.ndjson");
            // The run repeats one sample within itself: a coarse file may, and it is one run.
            std::fs::write(&run, format!("{header}{}{}", lines.concat(), lines[0])).unwrap();
            let mut paths = vec![run.clone()];
            for c in 0..copies {
                let copy = dir.path().join(format!("copy{c}.ndjson"));
                std::fs::write(&copy, format!("{header}{}{}", " ".repeat(c + 1), lines[..copied].concat())).unwrap();
                paths.push(copy);
            }
            let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
            let message = read(&paths, std::slice::from_ref(&key), false).err().map(|e| e.to_string()).unwrap_or_default();
            proptest::prop_assert!(message.contains("hold the same samples"), "{} digits, {} copies: {}", digits, copies, message);
            let alone = read(&[run.as_path()], std::slice::from_ref(&key), false);
            proptest::prop_assert!(alone.is_ok(), "{:?}", alone.err());
            let (odd, even): (Vec<_>, Vec<_>) = lines.iter().enumerate().partition(|(i, _)| i % 2 == 1);
            let concat = |part: Vec<(usize, &String)>| part.into_iter().map(|(_, l)| l.as_str()).collect::<String>();
            let (first, second) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"));
            std::fs::write(&first, format!("{header}{}", concat(odd))).unwrap();
            std::fs::write(&second, format!("{header}{}", concat(even))).unwrap();
            let read_apart = read(&[first.as_path(), second.as_path()], std::slice::from_ref(&key), false);
            proptest::prop_assert!(read_apart.is_ok(), "{:?}", read_apart.err());
        }

        /// Findings round12-figures/02 and /03, generated: only a single run's points, each
        /// once, are judged from one file. A run alone, or its segments (side by side) joined in
        /// one file or as gzip members of one .gz, gives that run's figures; the run followed by
        /// another run made after it, or by a copy of a few hundred of its own points (with its
        /// Metric records or without, as another gzip member or not), is refused.
        #[test]
        fn one_raw_file_is_judged_only_as_one_run_each_point_once(
            mut points in proptest::collection::vec((0u64..300_000_000_000, 1u32..5_000_000), 600..900),
            later in proptest::collection::vec((0u64..300_000_000_000, 1u32..5_000_000), 300..400),
            gap_secs in 2u64..100,
            shape in 0usize..7,
            segments in 2usize..5,
            copy_from in 0usize..300,
            copied in 250usize..300,
        ) {
            let header = "{\"type\":\"Metric\",\"data\":{\"name\":\"lat\",\"type\":\"trend\",\"contains\":\"time\"},\"metric\":\"lat\"}\n";
            // Points in time order, as k6 writes them; times from 07:00:00Z, nanoseconds.
            let line = |(nanos, micros): (u64, u32)| {
                let (secs, fraction) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
                format!(
                    "{{\"metric\":\"lat\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-27T07:{:02}:{:02}.{fraction:09}Z\",\"value\":{}.{:03},\"tags\":{{}}}}}}\n",
                    secs / 60,
                    secs % 60,
                    micros / 1000,
                    micros % 1000 + 1
                )
            };
            points.sort();
            let lines: Vec<String> = points.iter().copied().map(line).collect();
            let run = format!("{header}{}", lines.concat());
            let end = points.last().map(|(nanos, _)| *nanos).unwrap_or(0);
            let mut later = later;
            later.sort();
            let another_run: String = later
                .iter()
                .map(|(nanos, micros)| line((end + gap_secs * 1_000_000_000 + nanos, *micros)))
                .collect();
            let copy = lines[copy_from..copy_from + copied].concat();
            let mut dealt = vec![String::from(header); segments];
            for (i, l) in lines.iter().enumerate() {
                dealt[i % segments].push_str(l);
            }
            let gz = |members: &[String]| -> Vec<u8> {
                use std::io::Write;
                members
                    .iter()
                    .flat_map(|m| {
                        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        encoder.write_all(m.as_bytes()).unwrap();
                        encoder.finish().unwrap()
                    })
                    .collect()
            };
            // (file content, gzipped, one run each point once)
            let (content, gzipped, one_run): (Vec<u8>, bool, bool) = match shape {
                0 => (run.clone().into_bytes(), false, true),
                1 => (dealt.concat().into_bytes(), false, true),
                2 => (gz(&dealt), true, true),
                3 => (format!("{run}{header}{another_run}").into_bytes(), false, false),
                4 => (format!("{run}{header}{copy}").into_bytes(), false, false),
                5 => (format!("{run}{copy}").into_bytes(), false, false),
                _ => (gz(&[run.clone(), format!("{header}{copy}")]), true, false),
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(if gzipped { "raw.ndjson.gz" } else { "raw.ndjson" });
            std::fs::write(&path, content).unwrap();
            let key = MetricKey::parse("lat").unwrap();
            let judged = read(&[path.as_path()], std::slice::from_ref(&key), false);
            if one_run {
                let (set, _) = judged.map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                let alone_path = dir.path().join("alone.ndjson");
                std::fs::write(&alone_path, &run).unwrap();
                let (alone, _) = read(&[alone_path.as_path()], std::slice::from_ref(&key), false).unwrap();
                let (Aggregate::Trend(a), Aggregate::Trend(b)) = (&set.metrics[&key].aggregate, &alone.metrics[&key].aggregate) else {
                    unreachable!("lat is a trend")
                };
                for stat in ["count", "min", "med", "max", "p(95)", "p(99)"] {
                    proptest::prop_assert_eq!(a.0[stat], b.0[stat], "{}", stat);
                }
                proptest::prop_assert_eq!(a.0["count"], points.len() as f64);
            } else {
                proptest::prop_assert!(judged.is_err(), "shape {} was judged as one run", shape);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Finding round21-figures/02, generated: whatever number of files, whichever file and
        /// whichever of its points, in k6's layout or re-serialized, a Point without `data.time`
        /// is refused naming that file and its line (nothing shows its sample belongs to the run,
        /// or is counted once); the same files with every point dated are one run.
        #[test]
        fn a_point_without_a_time_is_refused_in_any_file_at_any_line(
            files in 1usize..5,
            points in 2usize..40,
            which_file in 0usize..5,
            which_point in 0usize..40,
            spaced in proptest::prelude::any::<bool>(),
        ) {
            let header = "{\"type\":\"Metric\",\"data\":{\"name\":\"lat\",\"type\":\"trend\",\"contains\":\"time\"},\"metric\":\"lat\"}\n";
            let dir = tempfile::tempdir().unwrap();
            let (which_file, which_point) = (which_file % files, which_point % points);
            let write = |strip: bool| -> Vec<std::path::PathBuf> {
                (0..files)
                    .map(|f| {
                        let mut text = String::from(header);
                        for p in 0..points {
                            let time = format!("\"time\":\"2026-11-27T07:35:{:02}.{f}{p:05}Z\",", p % 60);
                            let time = if strip && f == which_file && p == which_point { String::new() } else { time };
                            let line = format!(
                                "{{\"metric\":\"lat\",\"type\":\"Point\",\"data\":{{{time}\"value\":{}.25,\"tags\":{{}}}}}}\n",
                                f * 100 + p + 1
                            );
                            text.push_str(&if spaced { line.replace("\":", "\": ") } else { line });
                        }
                        let path = dir.path().join(format!("part {f}.ndjson"));
                        std::fs::write(&path, text).unwrap();
                        path
                    })
                    .collect()
            };
            let key = MetricKey::parse("lat").unwrap();
            let dated = write(false);
            let paths: Vec<&Path> = dated.iter().map(|p| p.as_path()).collect();
            let read_dated = read(&paths, std::slice::from_ref(&key), false);
            proptest::prop_assert!(read_dated.is_ok(), "{:?}", read_dated.err());
            let stripped = write(true);
            let paths: Vec<&Path> = stripped.iter().map(|p| p.as_path()).collect();
            let message = read(&paths, std::slice::from_ref(&key), false).err().map(|e| e.to_string()).unwrap_or_default();
            let named = format!("part {which_file}.ndjson");
            let line = format!("line {}", which_point + 2);
            proptest::prop_assert!(
                message.contains(&named) && message.contains(&line) && message.contains("data.time"),
                "{} at {}: {}", named, line, message
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Findings round29-figures/04 and round33-figures/03, generated: every threshold a
        /// Metric record lists, and every sub-metric other than k6's own
        /// `expected_response:true`, is shown and named; where none is listed raw results show
        /// nothing (`None`), never "no thresholds", which would let an enforcing policy skip
        /// k6's verdicts.
        #[test]
        fn raw_results_show_the_thresholds_records_list_and_never_none(
            files in proptest::collection::vec(
                proptest::collection::vec((0usize..4, proptest::collection::vec(0usize..4, 0..3)), 0..4),
                1..3,
            ),
        ) {
            // data.thresholds as k6 writes it (or not at all), and sub-metric names.
            const THRESHOLDS: [&str; 4] = ["", ",\"thresholds\":[]", ",\"thresholds\":[\"p(95)<400\"]", ",\"thresholds\":null"];
            const SUBMETRICS: [&str; 4] =
                [K6_OWN_SUBMETRIC, "http_req_duration{flow:a}", "checks{flow:b}", "http_req_duration{expected_response:true,flow:c}"];
            let dir = tempfile::tempdir().unwrap();
            let mut expected = std::collections::BTreeSet::new();
            let mut paths = Vec::new();
            for (f, records) in files.iter().enumerate() {
                let mut text = String::new();
                for (r, (thresholds, submetrics)) in records.iter().enumerate() {
                    let name = format!("m{f}_{r}");
                    if *thresholds == 2 {
                        expected.insert(name.clone());
                    }
                    let subs: Vec<String> = submetrics
                        .iter()
                        .map(|&s| {
                            if s != 0 {
                                expected.insert(SUBMETRICS[s].to_string());
                            }
                            format!("{{\"name\":{:?},\"suffix\":\"x\",\"tags\":{{}}}}", SUBMETRICS[s])
                        })
                        .collect();
                    text.push_str(&format!(
                        "{{\"type\":\"Metric\",\"data\":{{\"name\":\"{name}\",\"type\":\"trend\",\"contains\":\"time\"{}{}}},\"metric\":\"{name}\"}}\n",
                        THRESHOLDS[*thresholds],
                        if subs.is_empty() { String::new() } else { format!(",\"submetrics\":[{}]", subs.join(",")) }
                    ));
                }
                let path = dir.path().join(format!("raw{f}.ndjson"));
                std::fs::write(&path, text).unwrap();
                paths.push(path);
            }
            let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
            let (set, _) = read(&paths, &[], false).unwrap();
            // Listing none, they show nothing: never "no thresholds" (finding round33-figures/03).
            let want = (!expected.is_empty()).then(|| expected.into_iter().collect::<Vec<_>>());
            proptest::prop_assert_eq!(set.k6_thresholds_shown, want);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Finding round33-figures/01, generated: runners' raw results each declaring one metric
        /// (type and contains drawn per runner), in their own files or joined in one: declared
        /// alike everywhere, they read exactly as with the first declaration alone; declared
        /// otherwise anywhere, they are refused naming both declarations, never read.
        #[test]
        fn a_metric_declared_again_reads_as_once_when_alike_and_is_refused_otherwise(
            runners in proptest::collection::vec((0usize..4, proptest::prelude::any::<bool>(), proptest::collection::vec(0u8..2, 1..12)), 2..4),
            joined in proptest::prelude::any::<bool>(),
        ) {
            const TYPES: [&str; 4] = ["trend", "rate", "counter", "gauge"];
            let declaration = |kind: usize, time: bool| {
                format!(
                    "{{\"type\":\"Metric\",\"data\":{{\"name\":\"m\",\"type\":\"{}\",\"contains\":\"{}\",\"thresholds\":[],\"submetrics\":null}},\"metric\":\"m\"}}\n",
                    TYPES[kind],
                    if time { "time" } else { "default" }
                )
            };
            let dir = tempfile::tempdir().unwrap();
            // Each runner's text, with its own declaration or (`declared` false) none.
            let write = |declared: bool| -> Vec<std::path::PathBuf> {
                let texts: Vec<String> = runners
                    .iter()
                    .enumerate()
                    .map(|(r, (kind, time, values))| {
                        let mut text = if declared || r == 0 { declaration(*kind, *time) } else { String::new() };
                        for (i, value) in values.iter().enumerate() {
                            text.push_str(&format!(
                                "{{\"metric\":\"m\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-12-07T10:00:00.{:06}000Z\",\"value\":{value},\"tags\":{{}}}}}}\n",
                                r * 300 + i * 1000
                            ));
                        }
                        text
                    })
                    .collect();
                let texts = if joined { vec![texts.concat()] } else { texts };
                let tag = if declared { "each" } else { "first" };
                texts
                    .iter()
                    .enumerate()
                    .map(|(f, text)| {
                        let path = dir.path().join(format!("{tag} {f}.ndjson"));
                        std::fs::write(&path, text).unwrap();
                        path
                    })
                    .collect()
            };
            let key = MetricKey::parse("m").unwrap();
            let each = write(true);
            let paths: Vec<&Path> = each.iter().map(|p| p.as_path()).collect();
            let read_each = read(&paths, std::slice::from_ref(&key), false);
            let alike = runners.iter().all(|(kind, time, _)| (*kind, *time) == (runners[0].0, runners[0].1));
            if alike {
                let first = write(false);
                let paths: Vec<&Path> = first.iter().map(|p| p.as_path()).collect();
                let read_first = read(&paths, std::slice::from_ref(&key), false);
                match (read_each, read_first) {
                    (Ok((each, _)), Ok((first, _))) => {
                        let figures = |set: &MetricSet| format!("{:?}", set.metrics.values().map(|m| &m.aggregate).collect::<Vec<_>>());
                        proptest::prop_assert_eq!(figures(&each), figures(&first));
                    }
                    (each, first) => proptest::prop_assert!(
                        each.is_err() && first.is_err(),
                        "{:?} / {:?}", each.err().map(|e| e.to_string()), first.err().map(|e| e.to_string())
                    ),
                }
            } else {
                let message = read_each.err().map(|e| e.to_string()).unwrap_or_default();
                let other = runners.iter().position(|(kind, time, _)| (*kind, *time) != (runners[0].0, runners[0].1)).unwrap();
                proptest::prop_assert!(message.contains("declared twice"), "{}", message);
                for kind in [runners[0].0, runners[other].0] {
                    proptest::prop_assert!(message.contains(&format!("type \"{}\"", TYPES[kind])), "{}", message);
                }
                proptest::prop_assert!(message.contains("each 0.ndjson:1"), "{}", message);
            }
        }
    }
}
