//! What a native run's summary says, derived from what its recorder holds: one derivation for
//! the writer (`load::summary`) and for the reader (`sources::k6_summary`), so every figure of a
//! native summary — trends, rates, counters, k6's checks, the run's own counts — is checked
//! against the recorder by the very computation that wrote it. A figure that differs was
//! changed after the run: one figure, one reading.

use std::borrow::Cow;
use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::metrics::hdr::{trend_stat, TREND_STATS};
use crate::metrics::Stat;

/// One endpoint (request) of a flow as the recorder holds it.
///
/// Names are as the summary writes them (the writer scrubs them first: a figure's key is made of
/// them, and a key scrubbed as a whole could differ from one made of scrubbed names).
pub struct RecordedEndpoint<'a> {
    pub name: Cow<'a, str>,
    /// The k6 check named after the request.
    pub check: Cow<'a, str>,
    /// Latency in microseconds.
    pub latency: &'a Histogram<u64>,
    pub requests: u64,
    pub failed: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
}

/// One flow as the recorder holds it.
pub struct RecordedFlow<'a> {
    pub name: Cow<'a, str>,
    pub endpoints: Vec<RecordedEndpoint<'a>>,
    pub iterations: u64,
    pub late_iterations: u64,
    pub dropped_iterations: u64,
}

/// A whole run as its recorder holds it, with the two facts the summary's rates need. Sums
/// saturate: counts from a file are bounded by the reader, and a saturated sum can only make
/// the derived figure differ from what a file says, never pass one that was changed.
pub struct Recorded<'a> {
    pub flows: Vec<RecordedFlow<'a>>,
    pub bytes_received: u64,
    pub elapsed_secs: f64,
    /// The workers that ran (not a recorder count: written as given).
    pub vus: u64,
}

/// A fresh histogram with the bounds every native histogram has (microseconds, up to an hour).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, crate::metrics::hdr::MAX_MICROS, 3).expect("static bounds")
}

/// A latency trend as k6 writes it, each statistic by `hdr::trend_stat`.
fn trend(histogram: &Histogram<u64>) -> Value {
    let mut stats = Map::new();
    for stat in TREND_STATS {
        let value = match stat {
            Stat::Count => json!(histogram.len()),
            stat => json!(trend_stat(histogram, stat).expect("a trend statistic")),
        };
        stats.insert(stat.key(), value);
    }
    Value::Object(stats)
}

fn rate(matches: u64, total: u64) -> Value {
    let value = if total == 0 { 0.0 } else { matches as f64 / total as f64 };
    json!({"passes": matches, "fails": total.saturating_sub(matches), "value": value})
}

fn counter(count: u64, seconds: f64) -> Value {
    json!({"count": count, "rate": if seconds > 0.0 { count as f64 / seconds } else { 0.0 }})
}

impl Recorded<'_> {
    /// The summary's `metrics`: per endpoint, per flow and overall, keyed as k6 selectors.
    /// Fails only when histograms cannot be added (bounds differ: not a native recorder's).
    pub fn metrics(&self) -> Result<Map<String, Value>, String> {
        let mut metrics = Map::new();
        let mut all = new_histogram();
        let (mut requests, mut failed, mut checks_passed, mut checks_total, mut iterations, mut dropped) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        let add = |sum: &mut Histogram<u64>, histogram: &Histogram<u64>, what: &str| {
            sum.add(histogram).map_err(|e| format!("{what}: the histogram cannot be added ({e:?})"))
        };
        for flow in &self.flows {
            let mut flow_histogram = new_histogram();
            let (mut flow_requests, mut flow_failed, mut flow_passed, mut flow_checks) = (0u64, 0u64, 0u64, 0u64);
            for endpoint in &flow.endpoints {
                add(&mut flow_histogram, endpoint.latency, &flow.name)?;
                metrics.insert(
                    format!("http_req_duration{{flow:{},name:{}}}", flow.name, endpoint.name),
                    trend(endpoint.latency),
                );
                flow_requests = flow_requests.saturating_add(endpoint.requests);
                flow_failed = flow_failed.saturating_add(endpoint.failed);
                flow_passed = flow_passed.saturating_add(endpoint.checks_passed);
                flow_checks = flow_checks.saturating_add(endpoint.checks_passed.saturating_add(endpoint.checks_failed));
            }
            add(&mut all, &flow_histogram, &flow.name)?;
            metrics.insert(format!("http_req_duration{{flow:{}}}", flow.name), trend(&flow_histogram));
            metrics.insert(format!("http_req_failed{{flow:{}}}", flow.name), rate(flow_failed, flow_requests));
            metrics.insert(format!("checks{{flow:{}}}", flow.name), rate(flow_passed, flow_checks));
            metrics.insert(format!("iterations{{flow:{}}}", flow.name), counter(flow.iterations, self.elapsed_secs));
            requests = requests.saturating_add(flow_requests);
            failed = failed.saturating_add(flow_failed);
            checks_passed = checks_passed.saturating_add(flow_passed);
            checks_total = checks_total.saturating_add(flow_checks);
            iterations = iterations.saturating_add(flow.iterations);
            dropped = dropped.saturating_add(flow.dropped_iterations);
        }
        metrics.insert("http_req_duration".into(), trend(&all));
        metrics.insert("http_req_failed".into(), rate(failed, requests));
        metrics.insert("checks".into(), rate(checks_passed, checks_total));
        metrics.insert("http_reqs".into(), counter(requests, self.elapsed_secs));
        metrics.insert("iterations".into(), counter(iterations, self.elapsed_secs));
        metrics.insert("data_received".into(), counter(self.bytes_received, self.elapsed_secs));
        metrics.insert("vus".into(), json!({"value": self.vus, "min": self.vus, "max": self.vus}));
        // Always written (0 in the closed model), so the dropped-iterations gate has its figure.
        metrics.insert("dropped_iterations".into(), counter(dropped, self.elapsed_secs));
        Ok(metrics)
    }

    /// k6's `root_group.checks`: one check per endpoint, named after it.
    pub fn checks(&self) -> Map<String, Value> {
        let mut checks = Map::new();
        for endpoint in self.flows.iter().flat_map(|flow| &flow.endpoints) {
            checks.insert(
                endpoint.check.to_string(),
                json!({"name": endpoint.check, "path": format!("::{}", endpoint.check), "passes": endpoint.checks_passed, "fails": endpoint.checks_failed}),
            );
        }
        checks
    }

    /// The run's own counts in the `gatecheck` block, by field.
    pub fn run_counts(&self) -> BTreeMap<&'static str, u64> {
        BTreeMap::from([
            ("late_iterations", self.flows.iter().fold(0u64, |sum, f| sum.saturating_add(f.late_iterations))),
            ("dropped_iterations", self.flows.iter().fold(0u64, |sum, f| sum.saturating_add(f.dropped_iterations))),
        ])
    }
}
