//! A finished run as a k6 `--summary-export`-shaped document (what `verify` and k6 tooling
//! read), plus the human tables for the log and the terminal.
//!
//! Percentiles follow k6's definition — linear interpolation between the closest ranks — over
//! the values recorded in HDR histograms (3 significant digits: each value within 0.1 % of the
//! measured one), so the native runner and k6 report the same figure for the same samples.

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::load::plan::{Executor, LoadPlan};
use crate::load::recorder::Recorder;
use crate::load::segment::Segment;
use crate::metrics::native::{Recorded, RecordedEndpoint, RecordedFlow};

pub const PERCENTILE_METHOD: &str =
    "k6's method (linear interpolation between closest ranks) over HDR-recorded values (3 significant digits); latency in ms from the request's (or, open model, the iteration's intended) start";

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub elapsed_secs: f64,
    pub partial: Option<String>,
    pub started_at: String,
    pub ended_at: String,
    /// The run loaded gatecheck's built-in demo API (written as `gatecheck.demo: true`).
    pub demo: bool,
}

pub use crate::metrics::hdr::k6_percentile;

/// What the recorder holds, as the one derivation of a native summary's figures reads it, its
/// names as the file holds them: scrubbed (finding round18-text/03). The file is scrubbed as a
/// whole when written (`encode`); a figure's key is made of these names, so keys made of
/// scrubbed names are what a reader derives from the file's recorder too.
pub fn recorded<'a>(plan: &'a LoadPlan, recorder: &'a Recorder, facts: &RunFacts, vus: u64) -> Recorded<'a> {
    let scrubbed = |text: &str| std::borrow::Cow::Owned(crate::secret::scrub(text));
    let flows = plan
        .flows
        .iter()
        .zip(&recorder.flows)
        .map(|(flow, stats)| RecordedFlow {
            name: scrubbed(&flow.name),
            endpoints: flow
                .requests
                .iter()
                .zip(&stats.endpoints)
                .map(|(request, endpoint)| RecordedEndpoint {
                    name: scrubbed(&request.name),
                    check: scrubbed(&request.check),
                    latency: &endpoint.latency,
                    requests: endpoint.requests,
                    failed: endpoint.failed,
                    checks_passed: endpoint.checks_passed,
                    checks_failed: endpoint.checks_failed,
                })
                .collect(),
            iterations: stats.iterations,
            late_iterations: stats.late_iterations,
            dropped_iterations: stats.dropped_iterations,
        })
        .collect();
    Recorded { flows, bytes_received: recorder.bytes_received, elapsed_secs: facts.elapsed_secs, vus }
}

/// An executor as a summary records it (`gatecheck.executor`, `gatecheck.shard.plan.executor`).
pub fn executor_json(executor: &Executor) -> Value {
    match *executor {
        Executor::ConstantVus { vus } => json!({"type": "constant-vus", "vus_per_flow": vus}),
        Executor::ConstantArrivalRate { rate, max_vus } => {
            json!({"type": "constant-arrival-rate", "iterations_per_second_per_flow": rate, "max_vus_per_flow": max_vus})
        }
    }
}

/// The plan of the whole run, before any segment takes its share (`gatecheck.shard.plan`):
/// what every segment of one run shares, so `merge` can tell segments of one plan (finding
/// round15-figures/02: a segment run for 3 s merged into an 8 s run as if it ran 8 s).
pub fn plan_json(plan: &LoadPlan) -> Value {
    json!({
        "scenario": plan.scenario,
        "target": plan.target.url(),
        "executor": executor_json(&plan.executor),
        "duration_s": plan.duration.as_secs_f64(),
        "request_timeout_s": plan.request_timeout.as_secs_f64(),
        "request_cap": plan.max_requests,
        "skipped_flows": plan.skipped.iter().map(|(name, why)| json!({"flow": name, "because": why})).collect::<Vec<_>>(),
        "flows": flows_json(plan),
    })
}

/// Who a runner's summary is among the runners of one run (`gatecheck.shard`), with the whole
/// run's plan (`plan_json`) its run facts are held to (`sources::native_plan`); `start` is the
/// common start, in Unix seconds.
pub fn shard_json(run_id: &str, segment: Segment, scenario_sha256: &str, start: i64, whole_plan: Value) -> Value {
    json!({
        "run_id": run_id,
        "segment": segment.to_string(),
        "index": segment.index,
        "count": segment.count,
        "scenario_sha256": scenario_sha256,
        "start_at": crate::metrics::rfc3339(start),
        "plan": whole_plan,
    })
}

/// Each running flow of a plan as it is sent, by name (`gatecheck.shard.plan.flows`): its start
/// and sleep, and each request after every variable is filled in (finding round16-figures/01: a
/// segment run `--no-sleep` against other paths merged as the same run, the scenario's digest
/// being of the file before its variables). Paths, bodies and expected JSON values may hold
/// what the variables held, so they are recorded as digests; the rest as written.
fn flows_json(plan: &LoadPlan) -> Value {
    let sha256 = |bytes: &[u8]| crate::sources::digest::bytes("plan", "plan", bytes).sha256;
    let flows: Map<String, Value> = plan
        .flows
        .iter()
        .map(|flow| {
            let requests: Vec<Value> = flow
                .requests
                .iter()
                .map(|request| {
                    let expected = request.expect_json.as_ref().map(|check| {
                        sha256(json!({"pointer": check.pointer, "equals": check.equals}).to_string().as_bytes())
                    });
                    json!({
                        "name": request.name,
                        "method": request.method.as_str(),
                        "path_sha256": sha256(request.path.as_bytes()),
                        "body_sha256": request.body.as_deref().map(sha256),
                        "check": request.check,
                        "expect_status": request.expect_status,
                        "expect_json_sha256": expected,
                    })
                })
                .collect();
            let shape = json!({
                "start_after_s": flow.start_after.as_secs_f64(),
                "sleep_s": flow.sleep.as_secs_f64(),
                "requests": requests,
            });
            (flow.name.clone(), shape)
        })
        .collect();
    Value::Object(flows)
}

/// A native summary's `gatecheck.scraped`: the run-window histograms read from `url`, with
/// when its two scrapes were read (unix ms, `sources::scrape::SCRAPE_TIME_FIELDS`), so every
/// reader can hold the window to the run it is judged for (`sources::scrape::window_encloses_run`,
/// finding round37-figures/01).
pub fn scraped_json(url: &str, histograms: Map<String, Value>, (first_ms, second_ms): (i64, i64)) -> Value {
    let [first, second] = crate::sources::scrape::SCRAPE_TIME_FIELDS;
    json!({"url": url, "histograms": histograms, first: first_ms, second: second_ms})
}

/// The summary document; `vus` is the number of workers that ran.
pub fn export(plan: &LoadPlan, recorder: &Recorder, facts: &RunFacts, vus: u64) -> Value {
    let recorded = recorded(plan, recorder, facts, vus);
    let metrics = recorded.metrics().expect("a recorder's histograms share their bounds");
    let checks = recorded.checks();
    let counts = recorded.run_counts();
    let executor = executor_json(&plan.executor);
    let errors: Map<String, Value> =
        recorder.errors.iter().map(|(kind, count)| (kind.name().to_string(), json!(count))).collect();
    let mut document = json!({
        "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {}, "checks": checks},
        "metrics": metrics,
        "gatecheck": {
            "runner": concat!("gatecheck ", env!("CARGO_PKG_VERSION"), " native"),
            "scenario": plan.scenario,
            "target": plan.target.url(),
            "executor": executor,
            "started_at": facts.started_at,
            "ended_at": facts.ended_at,
            "duration_s": facts.elapsed_secs,
            "partial": facts.partial.is_some(),
            "partial_reason": facts.partial,
            "skipped_flows": plan.skipped.iter().map(|(name, why)| json!({"flow": name, "because": why})).collect::<Vec<_>>(),
            "errors_by_kind": errors,
            "late_iterations": counts["late_iterations"],
            "dropped_iterations": counts["dropped_iterations"],
            "request_cap": plan.max_requests,
            "percentile_method": PERCENTILE_METHOD,
            // Lossless at the recorded precision: `gatecheck merge` adds these histograms.
            "recorder": recorder.to_json(plan),
        }
    });
    if facts.demo {
        document["gatecheck"]["demo"] = json!(true);
    }
    document
}

/// A summary document (a run's or a merge's) as its file holds it: every text and key scrubbed
/// of every credential the job holds (`secret::ScrubbedJson`), pretty, with a final newline.
pub fn encode(document: &Value) -> Result<Vec<u8>, crate::error::Error> {
    let text = serde_json::to_string_pretty(&crate::secret::ScrubbedJson(document))
        .map_err(|e| crate::error::Error::Settings(format!("cannot encode the summary: {e}")))?;
    let mut text = crate::escape::code(text).into_bytes();
    text.push(b'\n');
    Ok(text)
}

/// The per-flow table for people (log and terminal).
pub fn table(plan: &LoadPlan, recorder: &Recorder, facts: &RunFacts) -> String {
    use comfy_table::presets::UTF8_FULL_CONDENSED;
    let mut table = comfy_table::Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_header(vec!["Flow", "Endpoint", "Requests", "req/s", "p50", "p95", "p99", "max", "Failed", "Checks ok"]);
    let ms = |micros: u64| format!("{:.2} ms", micros as f64 / 1000.0);
    let pct = |h: &Histogram<u64>, p: f64| format!("{:.2} ms", k6_percentile(h, p) / 1000.0);
    let seconds = facts.elapsed_secs.max(1e-9);
    let row = |flow: String, endpoint: String, h: &Histogram<u64>, requests: u64, failed: u64, checks: (u64, u64)| {
        vec![
            flow,
            endpoint,
            requests.to_string(),
            format!("{:.1}", requests as f64 / seconds),
            if h.is_empty() { "-".into() } else { pct(h, 50.0) },
            if h.is_empty() { "-".into() } else { pct(h, 95.0) },
            if h.is_empty() { "-".into() } else { pct(h, 99.0) },
            if h.is_empty() { "-".into() } else { ms(h.max()) },
            failed.to_string(),
            if checks.1 == 0 { "-".into() } else { format!("{:.2}%", 100.0 * checks.0 as f64 / checks.1 as f64) },
        ]
    };
    for (flow, stats) in plan.flows.iter().zip(&recorder.flows) {
        let mut flow_latency = crate::metrics::native::new_histogram();
        let (mut requests, mut failed, mut passed, mut checks_total) = (0, 0, 0, 0);
        for (request, endpoint) in flow.requests.iter().zip(&stats.endpoints) {
            flow_latency.add(&endpoint.latency).expect("same bounds");
            requests += endpoint.requests;
            failed += endpoint.failed;
            passed += endpoint.checks_passed;
            checks_total += endpoint.checks_passed + endpoint.checks_failed;
            let checks = endpoint.checks_passed + endpoint.checks_failed;
            table.add_row(row(
                crate::escape::line(&flow.name),
                crate::escape::line(&format!("{} {}", request.method, request.name)),
                &endpoint.latency,
                endpoint.requests,
                endpoint.failed,
                (endpoint.checks_passed, checks),
            ));
        }
        // The flow as a whole: the figures the release gates judge (http_req_duration{flow:...}).
        table.add_row(row(
            crate::escape::line(&flow.name),
            "all (judged)".into(),
            &flow_latency,
            requests,
            failed,
            (passed, checks_total),
        ));
    }
    let mut text = table.to_string();
    for (name, why) in &plan.skipped {
        text.push_str(&format!("\nflow {}: skipped ({})", crate::escape::line(name), crate::escape::line(why)));
    }
    if !recorder.errors.is_empty() {
        let kinds: Vec<String> = recorder.errors.iter().map(|(k, n)| format!("{} {n}", k.name())).collect();
        text.push_str(&format!("\nfailures by kind: {}", kinds.join(", ")));
    }
    let late: u64 = recorder.flows.iter().map(|f| f.late_iterations).sum();
    let dropped: u64 = recorder.flows.iter().map(|f| f.dropped_iterations).sum();
    if matches!(plan.executor, Executor::ConstantArrivalRate { .. }) {
        text.push_str(&format!("\nopen model: {late} late iterations, {dropped} dropped"));
    }
    if recorder.clamped > 0 {
        text.push_str(&format!("\n{} requests were slower than 1 h and recorded as 1 h", recorder.clamped));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// k6's TrendSink percentile over plain values, for comparison.
    fn k6_reference(sorted: &[f64], p: f64) -> f64 {
        let rank = p / 100.0 * (sorted.len() - 1) as f64;
        let lower = rank.floor() as usize;
        let upper = (lower + 1).min(sorted.len() - 1);
        sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower as f64)
    }

    #[test]
    fn percentiles_follow_k6_interpolation_between_closest_ranks() {
        // The reproduced case: 90 % at 10 ms, 9 % at 50 ms, 1 % at 200 ms, 19,042 requests.
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        let mut values = Vec::new();
        for i in 0..19_042u64 {
            let micros = match i {
                0..=17_137 => 10_000,
                17_138..=18_850 => 50_000,
                _ => 200_000,
            };
            histogram.record(micros).unwrap();
            values.push(micros as f64);
        }
        values.sort_by(f64::total_cmp);
        for p in [50.0, 90.0, 95.0, 99.0, 99.9] {
            let expected = k6_reference(&values, p);
            let got = k6_percentile(&histogram, p);
            // Within HDR's 3 significant digits of the exact figure.
            assert!((got - expected).abs() <= expected * 0.001 + 1.0, "p({p}): {got} vs k6 {expected}");
        }
        // Rank 18,850.59 lies between the last 50 ms value and the first 200 ms one: k6 says
        // 50 + 150 * 0.59 = 138.5 ms, where "value at quantile" said 200 ms.
        let p99 = k6_percentile(&histogram, 99.0) / 1000.0;
        assert!((p99 - 138.5).abs() < 0.2, "p(99) = {p99} ms");
    }

    #[test]
    fn the_plotted_curve_passes_through_the_summary_figures() {
        // Reports draw a native run's curve from its histogram's buckets as samples: each point
        // is the figure this summary writes for that percentile, so observed marks sit on it.
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for (micros, count) in [(1_234, 7), (10_000, 17_138), (50_000, 1_713), (200_000, 191), (912_345, 1)] {
            histogram.record_n(micros, count).unwrap();
        }
        let curve = crate::metrics::hdr::distribution(&histogram).curve();
        assert!(!curve.is_empty());
        for (p, ms) in curve {
            let figure = k6_percentile(&histogram, p) / 1000.0;
            assert!((ms - figure).abs() <= figure * 1e-12, "p({p}): curve {ms} vs summary {figure}");
        }
    }

    /// The built-in scenario with `samples` recorded as (flow, endpoint, µs, failed), as a
    /// summary text.
    fn written_summary(samples: &[(usize, usize, u64, bool)]) -> serde_json::Value {
        written_summary_renamed(samples, |_| {})
    }

    /// `written_summary`, the plan's texts changed by `rename` first.
    fn written_summary_renamed(
        samples: &[(usize, usize, u64, bool)],
        rename: impl FnOnce(&mut LoadPlan),
    ) -> serde_json::Value {
        let mut plan = crate::load::plan::builtin_for_tests();
        rename(&mut plan);
        let mut recorder = Recorder::new(&plan);
        for (flow, endpoint, micros, failed) in samples {
            let flow = flow % recorder.flows.len();
            let endpoint = endpoint % recorder.flows[flow].endpoints.len();
            let exchange = crate::load::recorder::Exchange {
                status: Some(if *failed { 500 } else { 200 }),
                error: None,
                bytes_received: 1,
                check_passed: !failed,
                demo_target: false,
            };
            recorder.record(flow, endpoint, std::time::Duration::from_micros(*micros), &exchange);
            recorder.flows[flow].iterations += 1;
            // The built-in scenario is closed-model: it schedules no arrival, so drops none
            // (round39-figures/02; it recorded a drop with each failure).
            if *failed {
                recorder.flows[flow].late_iterations += 1;
            }
        }
        let facts = RunFacts {
            elapsed_secs: 1.5,
            partial: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            ended_at: "2026-01-01T00:00:01Z".into(),
            demo: false,
        };
        // As `smoke` writes it: the plan its run facts are held to, which a complete run lasts.
        plan.duration = std::time::Duration::from_secs_f64(facts.elapsed_secs);
        // The gauge its plan gives (round39-figures/03: it wrote 1 whatever the plan's VUs).
        let vus = crate::sources::native_plan::vus_gauge(&executor_json(&plan.executor), plan.flows.len());
        let mut written = export(&plan, &recorder, &facts, vus.unwrap());
        written["gatecheck"]["shard"] = shard_json("r1", Segment::WHOLE, "00", 1_767_225_600, plan_json(&plan));
        written
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Findings figures5/03 and round9-figures/01. Rule: every figure of a native summary
        /// is its recorder's, by the writer's own derivation (`metrics::native`): whatever the
        /// runner writes reads back, and any one figure changed by any amount (one ULP up to
        /// far off) — a trend's stat, a rate's passes, fails or value, a counter's count or
        /// rate, the run's late or dropped iterations — is refused naming the metric and the
        /// metric; so is a metric the recorder cannot give.
        #[test]
        fn native_figures_read_back_and_any_changed_figure_is_refused(
            samples in proptest::collection::vec((0usize..8, 0usize..8, 1u64..5_000_000, proptest::bool::weighted(0.2)), 0..60),
            pick in (0usize..1000, 0usize..1000),
            change in prop_oneof![
                (1u64..4).prop_map(|ulps| (ulps as f64, true)),
                (-1e6f64..1e6).prop_map(|by| (by, false)),
            ],
        ) {
            let written = written_summary(&samples);
            let text = written.to_string();
            let read = crate::sources::k6_summary::parse("native.json", text.as_bytes());
            prop_assert!(read.is_ok(), "{:?}", read.err());
            // Every figure: (its place in the document, how the refusal names it).
            let mut figures: Vec<(Vec<String>, String)> = Vec::new();
            for (metric, fields) in written["metrics"].as_object().unwrap() {
                if metric == "vus" {
                    continue; // the workers that ran: not a recorder count
                }
                for field in fields.as_object().unwrap().keys() {
                    // A rate's count changed alone may be refused first for contradicting its
                    // own value, a trend's statistic for leaving its rank: the metric is named
                    // either way.
                    let named = format!("{metric:?}]");
                    figures.push((vec!["metrics".into(), metric.clone(), field.clone()], named));
                }
            }
            for field in ["late_iterations", "dropped_iterations"] {
                figures.push((vec!["gatecheck".into(), field.into()], format!("gatecheck.{field}")));
            }
            let (place, named) = &figures[pick.0 % figures.len()];
            let value = place.iter().fold(&written, |doc, key| &doc[key]).as_f64().unwrap();
            let changed = match change {
                (ulps, true) => f64::from_bits(value.to_bits() + ulps as u64),
                (by, false) => value + by,
            };
            prop_assume!(changed != value && changed.is_finite());
            let whole = place[0] == "gatecheck" || place[2] == "count" || place[2] == "passes" || place[2] == "fails";
            let mut edited = written.clone();
            let slot = place.iter().fold(&mut edited, |doc, key| &mut doc[key]);
            *slot = if whole { serde_json::json!(changed.abs().round() as u64) } else { serde_json::json!(changed) };
            prop_assume!(*slot != *place.iter().fold(&written, |doc, key| &doc[key]));
            let refused = crate::sources::k6_summary::parse("native.json", edited.to_string().as_bytes());
            let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(message.contains(named.as_str()), "{:?}: {} -> {}: {:?}", place, value, changed, message);

            // A figure the recorder cannot give: an existing metric's tags spelled as another
            // endpoint's, or a rate per endpoint, which the runner never writes.
            let mut added = written.clone();
            let flows: Vec<String> = written["gatecheck"]["recorder"]["flows"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect();
            let flow = &flows[pick.1 % flows.len()];
            let extra = format!("http_req_failed{{flow:{flow},name:other}}");
            added["metrics"][&extra] = serde_json::json!({"passes": 0, "fails": 1, "value": 0.0});
            let refused = crate::sources::k6_summary::parse("native.json", added.to_string().as_bytes());
            let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(message.contains("no source in gatecheck.recorder"), "{}: {:?}", extra, message);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Finding round18-text/03. Rule: a summary file holds no credential the job holds,
        /// whatever scenario text quotes it (the scenario's name, a request's name, a check;
        /// whole or a piece of it), and stays one whose every figure reads back against its
        /// own recorder: the names its figures are keyed by are scrubbed as the recorder's are.
        #[test]
        fn scenario_text_quoting_a_credential_is_written_scrubbed_and_reads_back(
            samples in proptest::collection::vec((0usize..8, 0usize..8, 1u64..5_000_000, proptest::bool::weighted(0.2)), 0..20),
            (before, after) in ("[a-z ]{0,5}", "[a-z ]{0,5}"),
            piece in 0usize..3,
            places in proptest::collection::vec(0usize..3, 1..4),
        ) {
            const CANARY: &str = "summary-canary-5e4d3c2b1a0f";
            let _secret = crate::secret::Secret::new(CANARY);
            let quoted = match piece {
                0 => CANARY,
                1 => &CANARY[..12],
                _ => &CANARY[CANARY.len() - 12..],
            };
            let text = format!("{before}{quoted}{after}");
            let written = written_summary_renamed(&samples, |plan| {
                for (index, place) in places.iter().enumerate() {
                    let requests: Vec<&mut crate::load::plan::RequestPlan> =
                        plan.flows.iter_mut().flat_map(|flow| flow.requests.iter_mut()).collect();
                    let count = requests.len();
                    let request = requests.into_iter().nth(index % count).expect("a request");
                    match place {
                        0 => plan.scenario = text.clone(),
                        1 => request.name = format!("r{index} {text}"),
                        _ => request.check = format!("c{index} {text}"),
                    }
                }
            });
            let file = String::from_utf8(encode(&written).unwrap()).unwrap();
            prop_assert!(!file.contains(quoted), "{}", file);
            let read = crate::sources::k6_summary::parse("native.json", file.as_bytes());
            prop_assert!(read.is_ok(), "{:?}", read.err());
        }
    }

    #[test]
    fn single_value_and_extremes() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        histogram.record(5_000).unwrap();
        assert!((k6_percentile(&histogram, 99.0) - 5_000.0).abs() <= 5.0);
        histogram.record(7_000).unwrap();
        assert!((k6_percentile(&histogram, 0.0) - 5_000.0).abs() <= 5.0);
        assert!((k6_percentile(&histogram, 100.0) - 7_000.0).abs() <= 7.0);
        assert!((k6_percentile(&histogram, 50.0) - 6_000.0).abs() <= 7.0);
    }
}
