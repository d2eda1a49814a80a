//! Prometheus remote-write 1.0 (protobuf + snappy) of a native run: each endpoint's latency as
//! a native histogram (schema 8: 256 buckets per doubling, so a PromQL percentile over the sum
//! of all runners' histograms is within about 0.2 % of the exact one) and request, failure,
//! check and dropped-iteration counters, labelled with run id, segment, attempt, runner, flow and endpoint, so a policy can judge
//! the union of every segment live in Prometheus or Mimir (`gates/distributed.toml`).
//!
//! No maintained crate writes native histograms (the ones checked send classic histograms
//! only), so the protocol's message types are declared here with prost (field numbers of
//! prompb/types.proto and remote.proto) and compressed with snap's raw (block) format, as the
//! protocol requires.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::load::plan::LoadPlan;
use crate::load::recorder::Recorder;

/// Native histogram resolution: bucket bounds grow by 2^(1/256), about 0.27 % per bucket.
pub const SCHEMA: i32 = 8;

/// How often the totals so far are pushed while a run goes (k6's remote-write default).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How long the last pushes may take once the process is asked to stop (CI runners and
/// Kubernetes wait some 10-30 s before they kill).
pub const STOP_BUDGET: Duration = Duration::from_secs(2);

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<NativeHistogram>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// prompb.Histogram with integer counts (the `count_int` and `zero_count_int` oneof arms).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NativeHistogram {
    #[prost(uint64, tag = "1")]
    pub count_int: u64,
    #[prost(double, tag = "3")]
    pub sum: f64,
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    #[prost(uint64, tag = "6")]
    pub zero_count_int: u64,
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// 2 = NO: a counter histogram that did not reset.
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// The native-histogram bucket of a positive value at `SCHEMA`: bucket i holds
/// (2^((i-1)/2^s), 2^(i/2^s)].
pub fn bucket_index(seconds: f64) -> i32 {
    let scale = f64::from(1u32 << SCHEMA);
    let index = (seconds.log2() * scale).ceil();
    // A value exactly on a bound belongs to the bucket it closes; guard float error at bounds.
    let index = index as i32;
    if 2f64.powf(f64::from(index - 1) / scale) >= seconds {
        index - 1
    } else {
        index
    }
}

/// An HDR latency histogram (µs) as a cumulative native histogram in seconds.
pub fn native_histogram(latency: &Histogram<u64>, timestamp_ms: i64) -> NativeHistogram {
    let mut buckets: BTreeMap<i32, u64> = BTreeMap::new();
    let mut sum = 0.0;
    for (micros, count) in crate::metrics::hdr::buckets(latency) {
        let seconds = micros.max(1) as f64 / 1e6;
        *buckets.entry(bucket_index(seconds)).or_default() += count;
        sum += seconds * count as f64;
    }
    encode_histogram(
        &HistogramCounts { schema: SCHEMA, count: latency.len(), sum, zero_threshold: 0.0, zero_count: 0, buckets },
        timestamp_ms,
    )
}

/// A cumulative native histogram as plain numbers: positive bucket index -> count.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramCounts {
    pub schema: i32,
    pub count: u64,
    pub sum: f64,
    pub zero_threshold: f64,
    pub zero_count: u64,
    pub buckets: BTreeMap<i32, u64>,
}

/// The wire form: buckets as spans of consecutive indexes and count deltas.
pub fn encode_histogram(counts: &HistogramCounts, timestamp_ms: i64) -> NativeHistogram {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(counts.buckets.len());
    let (mut previous_index, mut previous_count): (Option<i32>, i64) = (None, 0);
    for (index, count) in &counts.buckets {
        match previous_index {
            Some(previous) if *index == previous + 1 => {
                if let Some(span) = spans.last_mut() {
                    span.length += 1;
                }
            }
            Some(previous) => spans.push(BucketSpan { offset: index - previous - 1, length: 1 }),
            None => spans.push(BucketSpan { offset: *index, length: 1 }),
        }
        deltas.push(*count as i64 - previous_count);
        previous_count = *count as i64;
        previous_index = Some(*index);
    }
    NativeHistogram {
        count_int: counts.count,
        sum: counts.sum,
        schema: counts.schema,
        zero_threshold: counts.zero_threshold,
        zero_count_int: counts.zero_count,
        positive_spans: spans,
        positive_deltas: deltas,
        reset_hint: 2,
        timestamp: timestamp_ms,
    }
}

/// Who is writing: the labels every series of this runner carries.
#[derive(Debug, Clone)]
pub struct Writer {
    pub run_id: String,
    pub segment: String,
    pub segments: u32,
    /// Which attempt of the run (`attempt`): the segments of one attempt share it.
    pub attempt: String,
    /// The attempt's common start (unix seconds), pushed so a policy can pick the run's latest
    /// attempt.
    pub start: i64,
    /// This runner's own id (`runner_id`): two runners of one segment push two series.
    pub runner: String,
}

/// An id of this runner process, random (std's per-process random hash keys, mixed with the
/// process id and the time). Two runners given the same segment (a matrix mistake) would
/// otherwise push the very same series, which Prometheus keeps as one: the live check could
/// not see the second runner that merge refuses (finding round34-judge/01).
pub fn runner_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    format!("{:016x}", hasher.finish())
}

/// The attempt of a run a runner belongs to: a short digest of what merge requires segments
/// of one run to share — run id, common start, number of segments and the whole run's plan
/// (`summary::plan_json`, what each flow sends included). Runners that disagree on any of
/// them push different attempts, so the live check never counts them as one run (findings
/// round16-figures/02 and /03: a runner of another segment count, or an earlier attempt of the
/// same run id, completed a run merge refuses).
pub fn attempt(run_id: &str, start: i64, segments: u32, whole_plan: &serde_json::Value) -> String {
    let identity = serde_json::json!({"run_id": run_id, "start": start, "segments": segments, "plan": whole_plan});
    let digest = crate::sources::digest::bytes("attempt", "attempt", identity.to_string().as_bytes());
    digest.sha256[..16].to_string()
}

fn labels(name: &str, pairs: &[(&str, &str)]) -> Vec<Label> {
    let mut labels: Vec<Label> = std::iter::once(("__name__", name))
        .chain(pairs.iter().copied())
        .map(|(name, value)| Label { name: name.to_string(), value: value.to_string() })
        .collect();
    // Remote-write requires labels sorted by name.
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels
}

/// Every series of a run's measurements so far, at `timestamp_ms`; `finished` says the segment
/// ran to its end (only its last push can).
pub fn write_request(
    plan: &LoadPlan,
    recorder: &Recorder,
    writer: &Writer,
    timestamp_ms: i64,
    finished: bool,
) -> WriteRequest {
    let mut timeseries = Vec::new();
    let sample = |value: f64| vec![Sample { value, timestamp: timestamp_ms }];
    let segments = writer.segments.to_string();
    let run = [
        ("run_id", writer.run_id.as_str()),
        ("segment", writer.segment.as_str()),
        ("attempt", writer.attempt.as_str()),
        ("runner", writer.runner.as_str()),
    ];
    // The segment reports itself; its value is the number of segments of the run, so a policy
    // can check every segment reported: count(info) == max(info).
    timeseries.push(TimeSeries {
        labels: labels("gatecheck_segment_info", &[run[0], run[1], run[2], run[3], ("segments", segments.as_str())]),
        samples: sample(f64::from(writer.segments)),
        histograms: Vec::new(),
    });
    // The attempt's common start: the latest is the attempt a policy judges, alone.
    timeseries.push(TimeSeries {
        labels: labels("gatecheck_segment_start_time_seconds", &run),
        samples: sample(writer.start as f64),
        histograms: Vec::new(),
    });
    // 1 once the segment ran to its end, complete: a runner killed or stopped part-way leaves
    // 0 behind, so the union of what was pushed never passes for the whole run.
    timeseries.push(TimeSeries {
        labels: labels("gatecheck_segment_finished", &run),
        samples: sample(if finished { 1.0 } else { 0.0 }),
        histograms: Vec::new(),
    });
    timeseries.push(TimeSeries {
        labels: labels("gatecheck_requests_sent_total", &run),
        samples: sample(recorder.requests() as f64),
        histograms: Vec::new(),
    });
    for (flow, stats) in plan.flows.iter().zip(&recorder.flows) {
        // Open model: iterations due that never started (always 0 in the closed model).
        timeseries.push(TimeSeries {
            labels: labels(
                "gatecheck_dropped_iterations_total",
                &[run[0], run[1], run[2], run[3], ("flow", flow.name.as_str())],
            ),
            samples: sample(stats.dropped_iterations as f64),
            histograms: Vec::new(),
        });
        for (request, endpoint) in flow.requests.iter().zip(&stats.endpoints) {
            let method = request.method.as_str();
            let series = [
                run[0],
                run[1],
                run[2],
                run[3],
                ("flow", flow.name.as_str()),
                ("endpoint", request.name.as_str()),
                ("method", method),
            ];
            timeseries.push(TimeSeries {
                labels: labels("gatecheck_http_req_duration_seconds", &series),
                samples: Vec::new(),
                histograms: vec![native_histogram(&endpoint.latency, timestamp_ms)],
            });
            timeseries.push(TimeSeries {
                labels: labels("gatecheck_http_reqs_total", &series),
                samples: sample(endpoint.requests as f64),
                histograms: Vec::new(),
            });
            timeseries.push(TimeSeries {
                labels: labels("gatecheck_http_req_failed_total", &series),
                samples: sample(endpoint.failed as f64),
                histograms: Vec::new(),
            });
            for (result, count) in [("pass", endpoint.checks_passed), ("fail", endpoint.checks_failed)] {
                let with_result =
                    [series[0], series[1], series[2], series[3], series[4], series[5], series[6], ("result", result)];
                timeseries.push(TimeSeries {
                    labels: labels("gatecheck_checks_total", &with_result),
                    samples: sample(count as f64),
                    histograms: Vec::new(),
                });
            }
        }
    }
    WriteRequest { timeseries }
}

/// The send-point rule of every client (`secret::request_part_holds_no_credential`) for a write
/// request: no label name or value of any series holds a credential gatecheck holds. A label is
/// stored by the receiver and shown in every query and UI of it (finding round25-text/04: a
/// `--run-id` holding the load token was pushed as the `run_id` label). The message names the
/// label, never its value.
pub fn labels_hold_no_credential(request: &WriteRequest) -> Result<(), String> {
    for label in request.timeseries.iter().flat_map(|series| &series.labels) {
        let name = crate::secret::scrub(&label.name);
        for text in [&label.name, &label.value] {
            crate::secret::request_part_holds_no_credential(
                "--remote-write",
                &format!("the label {} of a pushed series", crate::escape::line(&name)),
                text,
            )?;
        }
    }
    Ok(())
}

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub headers: Vec<(String, crate::input::Secret)>,
    pub bearer: Option<crate::input::Secret>,
    pub timeout: Duration,
    /// How often to push while the run goes.
    pub every: Duration,
}

/// Sample timestamps of one runner's pushes: wall-clock milliseconds, strictly increasing, as
/// Prometheus refuses a second sample of a series at the same or an earlier time.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushClock {
    last_ms: i64,
}

impl PushClock {
    pub fn next_timestamp(&mut self) -> i64 {
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        self.last_ms = now.max(self.last_ms + 1);
        self.last_ms
    }
}

/// Every push of one run: how many, and each distinct reason a push was refused with how
/// often (a receiver that refuses once usually refuses every push of the run the same way).
#[derive(Debug, Default)]
pub struct PushLog {
    pub pushes: usize,
    refusals: Vec<(String, usize)>,
}

impl PushLog {
    pub fn record(&mut self, result: Result<(), String>) {
        self.pushes += 1;
        let Err(why) = result else { return };
        match self.refusals.iter_mut().find(|(seen, _)| *seen == why) {
            Some((_, count)) => *count += 1,
            None => self.refusals.push((why, 1)),
        }
    }

    /// The refusals as written into the summary: one line per reason, with its count.
    pub fn refused(&self) -> Vec<String> {
        let pushes = self.pushes;
        self.refusals
            .iter()
            .map(|(why, count)| if *count == 1 { why.clone() } else { format!("{why} ({count} of {pushes} pushes)") })
            .collect()
    }
}

/// What the pusher task and the run's end share: one clock, one log (never touched by the
/// load's hot path).
#[derive(Debug, Default)]
struct Pushes {
    clock: PushClock,
    log: PushLog,
}

/// One run's pushes: when it starts, each time it publishes its totals, and when it ends.
pub struct LivePusher {
    target: Target,
    plan: LoadPlan,
    writer: Writer,
    shared: std::sync::Arc<std::sync::Mutex<Pushes>>,
    task: tokio::task::JoinHandle<()>,
}

impl LivePusher {
    /// Starts pushing in the background: first the segment reports itself (so a slow receiver
    /// never delays a load that must start at --start-at), then the newest totals each time the
    /// run publishes them on the returned `Live`. A push still in flight when newer totals
    /// come is not queued behind: the newest totals go next.
    pub fn start(target: &Target, plan: &LoadPlan, writer: &Writer) -> (LivePusher, crate::load::Live) {
        let (totals, mut snapshots) = tokio::sync::watch::channel(Some(Recorder::new(plan)));
        snapshots.mark_changed();
        let shared = std::sync::Arc::new(std::sync::Mutex::new(Pushes::default()));
        let task = {
            let (target, plan, writer, shared) = (target.clone(), plan.clone(), writer.clone(), shared.clone());
            tokio::spawn(async move {
                while snapshots.changed().await.is_ok() {
                    // Totals published just before the run ended are stale: the final push follows.
                    if snapshots.has_changed().is_err() {
                        break;
                    }
                    let Some(totals) = snapshots.borrow_and_update().clone() else { continue };
                    let request = write_request(&plan, &totals, &writer, lock(&shared).clock.next_timestamp(), false);
                    let result = push(&target, &request).await;
                    lock(&shared).log.record(result);
                }
            })
        };
        let pusher = LivePusher { target: target.clone(), plan: plan.clone(), writer: writer.clone(), shared, task };
        (pusher, crate::load::Live { every: target.every, totals })
    }

    /// After the run (which has dropped its `Live`): a push in flight may finish within the
    /// push timeout (within `STOP_BUDGET` when the process was asked to stop), else it is
    /// abandoned and counted as refused; then the final totals are pushed, as briefly, saying
    /// whether the segment finished complete.
    pub async fn finish(mut self, totals: &Recorder, complete: bool, interrupted: bool) -> PushLog {
        let budget = if interrupted { STOP_BUDGET.min(self.target.timeout) } else { self.target.timeout };
        let url = crate::input::masked_url(&self.target.url);
        if tokio::time::timeout(budget, &mut self.task).await.is_err() {
            self.task.abort();
            lock(&self.shared).log.record(Err(format!(
                "{url}: a push was still unanswered {} s after the run ended and was abandoned",
                budget.as_secs()
            )));
        }
        let timestamp = lock(&self.shared).clock.next_timestamp();
        let request = write_request(&self.plan, totals, &self.writer, timestamp, complete);
        let result = match tokio::time::timeout(budget, push(&self.target, &request)).await {
            Ok(result) => result,
            Err(_) => Err(format!("{url}: the final push got no answer within {} s", budget.as_secs())),
        };
        let mut shared = lock(&self.shared);
        shared.log.record(result);
        std::mem::take(&mut shared.log)
    }
}

/// The shared pushes; a panic elsewhere while holding the lock leaves the data usable.
fn lock(shared: &std::sync::Mutex<Pushes>) -> std::sync::MutexGuard<'_, Pushes> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Pushes one write request; the error says what the receiver answered, scrubbed of every
/// credential (a receiver may quote the request's headers back).
pub async fn push(target: &Target, request: &WriteRequest) -> Result<(), String> {
    push_once(target, request).await.map_err(|why| crate::secret::scrub(&why))
}

async fn push_once(target: &Target, request: &WriteRequest) -> Result<(), String> {
    use prometheus_http_query::reqwest;
    use prost::Message;
    // The send-point rule: checked once more where it is sent, whatever built the request.
    labels_hold_no_credential(request)?;
    let body = snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .map_err(|e| format!("cannot compress the write request: {e}"))?;
    // Redirects are not followed: credentials never travel to another origin.
    // Never through an environment proxy: it would receive the token (finding round28-text/01).
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(target.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("gatecheck/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut call = client
        .post(&target.url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body);
    if let Some(token) = &target.bearer {
        call = call.bearer_auth(token.expose());
    }
    for (name, value) in &target.headers {
        call = call.header(name.as_str(), value.expose());
    }
    let response = call.send().await.map_err(|e| format!("cannot push to {}: {}", target.url, e.without_url()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // Its start only (a refusal is a line), quoted scrubbed (`secret::quoted` masks a credential
    // straddling the cut), then cut to one line of 200 characters.
    let start = crate::input::read_answer_start(response, 64 << 10).await;
    let text = crate::secret::quoted(&String::from_utf8_lossy(&start));
    let first = text.lines().next().unwrap_or_default().chars().take(200).collect::<String>();
    Err(format!("{} refused the push: HTTP {} {first}", target.url, status.as_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding round34-judge/01: two runners of one segment push series of their own, so the
    /// live check sees both (Prometheus keeps two writers of one label set as one series).
    #[test]
    fn every_runner_labels_its_series_with_an_id_of_its_own() {
        let ids: std::collections::BTreeSet<String> = (0..1000).map(|_| runner_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

        /// Findings round16-figures/02 and /03. Rule: runners push one attempt only when they
        /// agree on everything merge requires of one run: the same identity gives the same
        /// attempt, and any one of run id, start, segment count or a plan fact (down to one
        /// flow's sleep) changed gives another.
        #[test]
        fn the_attempt_changes_with_every_fact_merge_compares(
            start in 1_600_000_000i64..1_900_000_000,
            segments in 1u32..64,
            which in 0usize..5,
            step in 1i64..1000,
        ) {
            let plan = |sleep: f64| serde_json::json!({"scenario": "s", "duration_s": 3.0, "flows": {"f": {"sleep_s": sleep}}});
            let ours = attempt("r1", start, segments, &plan(1.0));
            proptest::prop_assert_eq!(&ours, &attempt("r1", start, segments, &plan(1.0)));
            let theirs = match which {
                0 => attempt("r2", start, segments, &plan(1.0)),
                1 => attempt("r1", start + step, segments, &plan(1.0)),
                2 => attempt("r1", start, segments + step as u32, &plan(1.0)),
                3 => attempt("r1", start, segments, &plan(1.0 + step as f64 / 1000.0)),
                _ => attempt("r1", start, segments, &serde_json::json!({"scenario": "s", "duration_s": 3.0, "flows": {}})),
            };
            proptest::prop_assert_ne!(ours, theirs);
        }
    }

    #[test]
    fn bucket_bounds_follow_the_schema() {
        // Schema 8: bucket 0 ends at 1 s, bucket 256 at 2 s, bucket -256 at 0.5 s.
        assert_eq!(bucket_index(1.0), 0);
        assert_eq!(bucket_index(2.0), 256);
        assert_eq!(bucket_index(0.5), -256);
        assert_eq!(bucket_index(1.001), 1);
        assert_eq!(bucket_index(0.999), 0);
    }

    #[test]
    fn spans_and_deltas_encode_sparse_buckets() {
        let mut latency = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for (micros, count) in [(10_000u64, 5u64), (10_100, 3), (200_000, 2)] {
            latency.record_n(micros, count).unwrap();
        }
        let native = native_histogram(&latency, 0);
        assert_eq!(native.count_int, 10);
        let spans: u32 = native.positive_spans.iter().map(|s| s.length).sum();
        assert_eq!(spans as usize, native.positive_deltas.len());
        // The counts are the running sum of the deltas and add up to the total.
        let mut count = 0i64;
        let total: i64 = native
            .positive_deltas
            .iter()
            .map(|d| {
                count += d;
                count
            })
            .sum();
        assert_eq!(total, 10);
        assert!((native.sum - (5.0 * 0.01 + 3.0 * 0.0101 + 2.0 * 0.2)).abs() < 0.001, "{}", native.sum);
    }
}
