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
        vus: 1,
    };
    doc["metrics"] = serde_json::Value::Object(recorded.metrics().unwrap());
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
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("compare ran for more than 60 s on 2^40-sample histograms");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(status.success(), "{out}{}", String::from_utf8_lossy(&output.stderr));
    // The interval of a +30 % shift over 2^40 samples is the shift itself.
    assert!(out.contains("auth_list") && out.contains("+30"), "{out}");
}
