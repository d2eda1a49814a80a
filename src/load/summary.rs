//! A finished run as a k6 `--summary-export`-shaped document (what `verify` and k6 tooling
//! read), plus the human tables for the log and the terminal.
//!
//! Percentiles come from HDR histograms (3 significant digits: value at quantile, within 0.1 %
//! of the recorded value), not k6's interpolation; the `gatecheck` block says so.

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::load::plan::{Executor, LoadPlan};
use crate::load::recorder::Recorder;

pub const PERCENTILE_METHOD: &str =
    "HDR histogram (3 significant digits), value at quantile; latency in ms from the request's (or, open model, the iteration's intended) start";

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub elapsed_secs: f64,
    pub partial: Option<String>,
    pub started_at: String,
}

fn trend(histogram: &Histogram<u64>) -> Value {
    if histogram.is_empty() {
        return json!({"avg": 0, "min": 0, "med": 0, "max": 0, "p(90)": 0, "p(95)": 0, "p(99)": 0, "p(99.9)": 0, "count": 0});
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    json!({
        "avg": histogram.mean() / 1000.0,
        "min": ms(histogram.min()),
        "med": ms(histogram.value_at_quantile(0.5)),
        "max": ms(histogram.max()),
        "p(90)": ms(histogram.value_at_quantile(0.90)),
        "p(95)": ms(histogram.value_at_quantile(0.95)),
        "p(99)": ms(histogram.value_at_quantile(0.99)),
        "p(99.9)": ms(histogram.value_at_quantile(0.999)),
        "count": histogram.len(),
    })
}

fn rate(matches: u64, total: u64) -> Value {
    let value = if total == 0 { 0.0 } else { matches as f64 / total as f64 };
    json!({"passes": matches, "fails": total - matches, "value": value})
}

fn counter(count: u64, seconds: f64) -> Value {
    json!({"count": count, "rate": if seconds > 0.0 { count as f64 / seconds } else { 0.0 }})
}

/// The summary document; `vus` is the number of workers that ran.
pub fn export(plan: &LoadPlan, recorder: &Recorder, facts: &RunFacts, vus: u64) -> Value {
    let mut metrics = Map::new();
    let mut all = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds");
    let (mut requests, mut failed, mut checks_passed, mut checks_total, mut iterations, mut dropped) =
        (0, 0, 0, 0, 0, 0);
    let mut checks = Map::new();
    for (flow, stats) in plan.flows.iter().zip(&recorder.flows) {
        let mut flow_histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds");
        let (mut flow_requests, mut flow_failed, mut flow_passed, mut flow_checks) = (0, 0, 0, 0);
        for (request, endpoint) in flow.requests.iter().zip(&stats.endpoints) {
            flow_histogram.add(&endpoint.latency).expect("same bounds");
            metrics.insert(
                format!("http_req_duration{{flow:{},name:{}}}", flow.name, request.name),
                trend(&endpoint.latency),
            );
            flow_requests += endpoint.requests;
            flow_failed += endpoint.failed;
            flow_passed += endpoint.checks_passed;
            flow_checks += endpoint.checks_passed + endpoint.checks_failed;
            checks.insert(
                request.check.clone(),
                json!({"name": request.check, "path": format!("::{}", request.check), "passes": endpoint.checks_passed, "fails": endpoint.checks_failed}),
            );
        }
        all.add(&flow_histogram).expect("same bounds");
        metrics.insert(format!("http_req_duration{{flow:{}}}", flow.name), trend(&flow_histogram));
        metrics.insert(format!("http_req_failed{{flow:{}}}", flow.name), rate(flow_failed, flow_requests));
        metrics.insert(format!("checks{{flow:{}}}", flow.name), rate(flow_passed, flow_checks));
        metrics.insert(format!("iterations{{flow:{}}}", flow.name), counter(stats.iterations, facts.elapsed_secs));
        requests += flow_requests;
        failed += flow_failed;
        checks_passed += flow_passed;
        checks_total += flow_checks;
        iterations += stats.iterations;
        dropped += stats.dropped_iterations;
    }
    metrics.insert("http_req_duration".into(), trend(&all));
    metrics.insert("http_req_failed".into(), rate(failed, requests));
    metrics.insert("checks".into(), rate(checks_passed, checks_total));
    metrics.insert("http_reqs".into(), counter(requests, facts.elapsed_secs));
    metrics.insert("iterations".into(), counter(iterations, facts.elapsed_secs));
    metrics.insert("data_received".into(), counter(recorder.bytes_received, facts.elapsed_secs));
    metrics.insert("vus".into(), json!({"value": vus, "min": vus, "max": vus}));
    if matches!(plan.executor, Executor::ConstantArrivalRate { .. }) {
        metrics.insert("dropped_iterations".into(), counter(dropped, facts.elapsed_secs));
    }
    let executor = match plan.executor {
        Executor::ConstantVus { vus } => json!({"type": "constant-vus", "vus_per_flow": vus}),
        Executor::ConstantArrivalRate { rate, max_vus } => {
            json!({"type": "constant-arrival-rate", "iterations_per_second_per_flow": rate, "max_vus_per_flow": max_vus})
        }
    };
    let errors: Map<String, Value> =
        recorder.errors.iter().map(|(kind, count)| (kind.name().to_string(), json!(count))).collect();
    let late: u64 = recorder.flows.iter().map(|f| f.late_iterations).sum();
    json!({
        "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {}, "checks": checks},
        "metrics": metrics,
        "gatecheck": {
            "runner": concat!("gatecheck ", env!("CARGO_PKG_VERSION"), " native"),
            "scenario": plan.scenario,
            "target": plan.target.url(),
            "executor": executor,
            "started_at": facts.started_at,
            "duration_s": facts.elapsed_secs,
            "partial": facts.partial.is_some(),
            "partial_reason": facts.partial,
            "skipped_flows": plan.skipped.iter().map(|(name, why)| json!({"flow": name, "because": why})).collect::<Vec<_>>(),
            "errors_by_kind": errors,
            "late_iterations": late,
            "dropped_iterations": dropped,
            "request_cap": plan.max_requests,
            "percentile_method": PERCENTILE_METHOD,
            // Lossless at the recorded precision: `gatecheck merge` adds these histograms.
            "recorder": recorder.to_json(plan),
        }
    })
}

/// The per-flow table for people (log and terminal).
pub fn table(plan: &LoadPlan, recorder: &Recorder, facts: &RunFacts) -> String {
    use comfy_table::presets::UTF8_FULL_CONDENSED;
    let mut table = comfy_table::Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_header(vec!["Flow", "Endpoint", "Requests", "req/s", "p50", "p95", "p99", "max", "Failed", "Checks ok"]);
    let ms = |micros: u64| format!("{:.2} ms", micros as f64 / 1000.0);
    for (flow, stats) in plan.flows.iter().zip(&recorder.flows) {
        for (request, endpoint) in flow.requests.iter().zip(&stats.endpoints) {
            let h = &endpoint.latency;
            let checks = endpoint.checks_passed + endpoint.checks_failed;
            table.add_row(vec![
                flow.name.clone(),
                format!("{} {}", request.method, request.name),
                endpoint.requests.to_string(),
                format!("{:.1}", endpoint.requests as f64 / facts.elapsed_secs.max(1e-9)),
                if h.is_empty() { "-".into() } else { ms(h.value_at_quantile(0.5)) },
                if h.is_empty() { "-".into() } else { ms(h.value_at_quantile(0.95)) },
                if h.is_empty() { "-".into() } else { ms(h.value_at_quantile(0.99)) },
                if h.is_empty() { "-".into() } else { ms(h.max()) },
                endpoint.failed.to_string(),
                if checks == 0 {
                    "-".into()
                } else {
                    format!("{:.2}%", 100.0 * endpoint.checks_passed as f64 / checks as f64)
                },
            ]);
        }
    }
    let mut text = table.to_string();
    for (name, why) in &plan.skipped {
        text.push_str(&format!("\nflow {name}: skipped ({why})"));
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
