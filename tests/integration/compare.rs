//! `gatecheck compare`: the weekly trend review table, snapshot-tested on real k6 runs.

use crate::support::*;

#[test]
fn compare_two_summaries() {
    let assert = gatecheck()
        .args([
            "compare",
            "fixtures/k6/1.1.0/pass/summary-export.json",
            "fixtures/k6/1.1.0/fail-latency/summary-export.json",
        ])
        .assert()
        .code(0);
    insta::assert_snapshot!("compare_pass_vs_fail_latency", stdout_of(&assert));
}

#[test]
fn compare_raw_results_shows_p99_and_bad_input_is_exit_2() {
    let assert = gatecheck()
        .args(["compare", "fixtures/k6/1.1.0/pass/raw.ndjson", "fixtures/k6/1.1.0/trend-stats-p99/raw.ndjson"])
        .assert()
        .code(0);
    insta::assert_snapshot!("compare_raw_pass_vs_p99_tail", stdout_of(&assert));
    gatecheck().args(["compare", "fixtures/k6/1.1.0/pass/summary-export.json", "nope.json"]).assert().code(2);
}

/// A native summary whose endpoint histogram holds 2^40 samples (four values, 2^38 each,
/// times `factor`), built on the fuzz fixture's layout; kept in target/tmp for the measurement
/// in the README.
fn huge_native_summary(name: &str, factor: u64) -> std::path::PathBuf {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for value in [20_000u64, 40_000, 80_000, 400_000] {
        histogram.record_n(value * factor / 10, 1u64 << 38).unwrap();
    }
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(&histogram, &mut bytes).unwrap();
    let template =
        repo().join("fixtures/fuzz-regressions/merge_native_hdr/count-sum-overflows-in-value-at-quantile.json");
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
    let native = &mut doc["gatecheck"];
    native["partial"] = false.into();
    native["ended_at"] = "2026-11-30T00:00:03Z".into();
    let flow = &mut native["recorder"]["flows"][0];
    flow["iterations"] = (1u64 << 40).into();
    let endpoint = &mut flow["endpoints"][0];
    endpoint["requests"] = (1u64 << 40).into();
    endpoint["failed"] = 0.into();
    endpoint["checks_passed"] = (1u64 << 40).into();
    endpoint["checks_failed"] = 0.into();
    endpoint["statuses"] = serde_json::json!({"200": 1u64 << 40});
    endpoint["histogram_us"] = base64::engine::general_purpose::STANDARD.encode(&bytes).into();
    // Every figure a native summary carries beside its recorder, as the runner writes them
    // (verify refuses figures its recorder contradicts).
    let mut latency = gatecheck::metrics::native::new_histogram();
    latency.add(&histogram).unwrap();
    let recorded = gatecheck::metrics::native::Recorded {
        flows: vec![gatecheck::metrics::native::RecordedFlow {
            name: "auth_list".into(),
            endpoints: vec![gatecheck::metrics::native::RecordedEndpoint {
                name: "list_rules".into(),
                check: "list rules 200".into(),
                latency: &latency,
                requests: 1 << 40,
                failed: 0,
                checks_passed: 1 << 40,
                checks_failed: 0,
            }],
            iterations: 1 << 40,
            late_iterations: 0,
            dropped_iterations: 0,
        }],
        bytes_received: doc["gatecheck"]["recorder"]["bytes_received"].as_u64().unwrap(),
        elapsed_secs: doc["gatecheck"]["duration_s"].as_f64().unwrap(),
        // The gauge its plan gives (round39-figures/03): one flow of the executor's VUs.
        vus: gatecheck::sources::native_plan::vus_gauge(&doc["gatecheck"]["executor"], 1).unwrap(),
    };
    doc["metrics"] = serde_json::Value::Object(recorded.metrics().unwrap());
    // The plan it ran, which its run facts are held to: a cap above what it recorded.
    let native = &mut doc["gatecheck"];
    native["request_cap"] = (1u64 << 41).into();
    let plan = serde_json::json!({
        "scenario": native["scenario"], "target": native["target"], "executor": native["executor"],
        "duration_s": native["duration_s"], "request_timeout_s": 10.0, "request_cap": 1u64 << 41, "skipped_flows": [],
        "flows": {"auth_list": {"start_after_s": 0.0, "sleep_s": 0.0, "requests": [{"name": "list_rules", "method": "GET"}]}},
    });
    native["shard"] = gatecheck::load::summary::shard_json(
        "huge",
        gatecheck::load::segment::Segment::WHOLE,
        "00",
        1_796_083_200,
        plan,
    );
    let dir = repo().join("target/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

/// `compare` finishes in bounded time on any summary `verify` accepts: on histograms of 2^40
/// samples its bootstrap ran for minutes at full CPU (the Beta inverse CDF with parameters
/// near 2^40). The bound here is generous (60 s; it takes milliseconds): the cost itself is
/// measured side by side in the README, not here.
#[test]
fn compare_is_bounded_on_histograms_of_2_pow_40_samples() {
    let a = huge_native_summary("huge-a.json", 10);
    let b = huge_native_summary("huge-b.json", 13);
    let verified = gatecheck().args(["verify", "--no-env", "--summary"]).arg(&a).output().unwrap();
    assert_ne!(verified.status.code(), Some(2), "verify refuses it: {}", String::from_utf8_lossy(&verified.stderr));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_within(&mut child, std::time::Duration::from_secs(60), "compare on 2^40-sample histograms");
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(status.success(), "{out}{}", String::from_utf8_lossy(&output.stderr));
    // The interval of a +30 % shift over 2^40 samples is the shift itself.
    assert!(out.contains("auth_list") && out.contains("+30"), "{out}");
}

/// k6 raw results of one flow's requests (durations in ms), one every 100 ms from `start`
/// (unix seconds), each with a nanosecond fraction, as k6 writes them.
fn raw_run(dir: &std::path::Path, name: &str, start: i64, values: &[f64]) -> std::path::PathBuf {
    let mut lines = vec![
        r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"http_req_duration"}"#.to_string(),
    ];
    for (i, value) in values.iter().enumerate() {
        let nanos = (start as i128) * 1_000_000_000 + i as i128 * 100_000_000 + 1_234 + i as i128;
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        lines.push(
            serde_json::json!({"type": "Point", "metric": "http_req_duration", "data": {"time": at, "value": value, "tags": {"flow": "auth_list"}}})
                .to_string(),
        );
    }
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The Shift cell of the flow's row in compare's significance table.
fn shift_of(out: &str) -> String {
    let row = out.lines().rfind(|line| line.contains("auth_list")).unwrap_or_default();
    row.split(['│', '┆']).map(str::trim).rfind(|cell| !cell.is_empty()).unwrap_or_default().to_string()
}

/// Finding round33-judge/01: 3 against 3 samples, every one of B ten times A's. The test
/// cannot reach compare's level at these sizes (verify's `significant()` calls it NO DATA), so
/// the Shift column says it cannot tell — never "none (noise)" — and the bootstrap intervals
/// beside it do not call anything significant either.
#[test]
fn compare_cannot_tell_a_shift_its_test_cannot_reach_never_noise() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let a = raw_run(dir.path(), "a.ndjson", now - 7200, &[100.0, 101.0, 102.0]);
    let b = raw_run(dir.path(), "b.ndjson", now - 600, &[1000.0, 1010.0, 1020.0]);
    let out = stdout_of(&gatecheck().args(["compare"]).arg(&a).arg(&b).assert().code(0));
    let shift = shift_of(&out);
    assert!(!shift.contains("noise") && shift.contains("cannot tell"), "{shift:?}\n{out}");
    assert!(shift.contains("needs at least 6 in each run"), "names the samples it needs: {shift:?}");
    let row = out.lines().rfind(|line| line.contains("auth_list")).unwrap();
    assert!(!row.contains(" significant"), "no bootstrap verdict where the test cannot tell: {row}");
    let one = raw_run(dir.path(), "one-a.ndjson", now - 7200, &[100.0]);
    let other = raw_run(dir.path(), "one-b.ndjson", now - 600, &[102.0]);
    let out = stdout_of(&gatecheck().args(["compare"]).arg(&one).arg(&other).assert().code(0));
    assert!(shift_of(&out).contains("cannot tell"), "{out}");
    let row = out.lines().rfind(|line| line.contains("auth_list")).unwrap();
    assert!(!row.contains(" significant"), "one sample per run is never significant: {row}");
}

/// Finding round33-judge/02: the slowest 5 % four times slower, the rest unchanged. The
/// whole-distribution test does not see it (p ≈ 0.97), verify's rule (`distribution::shift`,
/// the tail beyond each percentile) does: compare's Shift column follows that one rule and says
/// slower, never "none (noise)".
#[test]
fn compare_calls_a_tail_regression_slower_as_verify_does_never_noise() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let base: Vec<f64> = (100..300).map(f64::from).collect();
    let tail: Vec<f64> = base.iter().map(|v| if *v >= 290.0 { v * 4.0 } else { *v }).collect();
    let a = raw_run(dir.path(), "a.ndjson", now - 7200, &base);
    let b = raw_run(dir.path(), "b.ndjson", now - 600, &tail);
    let out = stdout_of(&gatecheck().args(["compare"]).arg(&a).arg(&b).assert().code(0));
    let shift = shift_of(&out);
    assert!(shift.contains("slower (real)"), "{shift:?}\n{out}");
    // The same run against itself: no shift, and it says so.
    let same = raw_run(dir.path(), "same.ndjson", now - 600, &base);
    let out = stdout_of(&gatecheck().args(["compare"]).arg(&a).arg(&same).assert().code(0));
    assert!(shift_of(&out).contains("none (noise)"), "{out}");
}
