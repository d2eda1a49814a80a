//! Bad input: each case is one line naming the file, key or variable, exit 2, no panic, no pass.

use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

fn verify_summary_text(text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k6-summary.json");
    std::fs::write(&path, text).unwrap();
    let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(&path).assert();
    drop(dir);
    assert
}

fn one_line_error(assert: assert_cmd::assert::Assert, needles: &[&str]) {
    let output = assert.code(2).get_output().clone();
    assert!(output.stdout.is_empty(), "nothing judged, nothing printed: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("gatecheck: error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "missing {needle:?} in {stderr}");
    }
}

fn export_with(metric: &str, body: &str) -> String {
    let pass = std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&pass).unwrap();
    doc["metrics"][metric] = serde_json::from_str(body).unwrap();
    doc.to_string()
}

#[test]
fn missing_summary() {
    one_line_error(
        gatecheck_with_lag().args(["verify", "--summary", "nope/k6-summary.json"]).assert(),
        &["k6 summary nope/k6-summary.json", "cannot read"],
    );
}

#[test]
fn empty_summary() {
    one_line_error(verify_summary_text(""), &["k6-summary.json", "empty"]);
    one_line_error(verify_summary_text("  \n"), &["empty"]);
}

#[test]
fn truncated_summary() {
    let pass = std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap();
    one_line_error(verify_summary_text(&pass[..pass.len() / 2]), &["k6-summary.json", "truncated JSON"]);
}

#[test]
fn non_json_summary() {
    one_line_error(verify_summary_text("level=error msg=\"thresholds crossed\""), &["not valid JSON"]);
}

#[test]
fn json_of_an_unknown_shape() {
    one_line_error(verify_summary_text(r#"{"hello": "world"}"#), &["unknown shape", "metrics"]);
    one_line_error(verify_summary_text("[1,2,3]"), &["top level is a list"]);
    one_line_error(verify_summary_text(r#"{"metrics": [1]}"#), &["\"metrics\" is a list"]);
}

#[test]
fn wrong_types() {
    let text = export_with("http_req_duration{flow:auth_list}", r#"{"avg": 1, "med": 1, "p(95)": "fast"}"#);
    one_line_error(
        verify_summary_text(&text),
        &["metrics[\"http_req_duration{flow:auth_list}\"][\"p(95)\"]", "expected a number, got a string"],
    );
    let text = export_with("http_req_failed{flow:auth_list}", r#"{"passes": 1.5, "fails": 3, "value": 0.3}"#);
    one_line_error(verify_summary_text(&text), &["passes", "whole, non-negative count"]);
    let text = export_with(
        "checks{flow:auth_list}",
        r#"{"passes": 1, "fails": 3, "value": 0.25, "thresholds": {"rate>0.99": "yes"}}"#,
    );
    one_line_error(
        verify_summary_text(&text),
        &["thresholds[\"rate>0.99\"]", "expected true (failed) or false (passed)"],
    );
}

#[test]
fn counts_beyond_u64() {
    // Read as u64::MAX once: a figure no run counted, judged as if measured.
    for (metric, body, key) in [
        ("http_req_failed{flow:auth_list}", r#"{"passes": 0, "fails": 1e30, "value": 0}"#, "[\"fails\"]"),
        ("checks", r#"{"passes": 18446744073709551616, "fails": 0, "value": 1}"#, "[\"passes\"]"),
        ("http_reqs", r#"{"count": 1e30, "rate": 20.2}"#, "[\"count\"]"),
    ] {
        let text = export_with(metric, body);
        one_line_error(verify_summary_text(&text), &[metric, key, "whole, non-negative count below 2^64"]);
    }
}

#[test]
fn nan_and_negative_durations() {
    // JSON has no NaN literal; k6 never writes one, and a file that does is not JSON.
    let text = export_with("vus", r#"{"value": 1, "min": 1, "max": 1}"#).replace("\"value\":1", "\"value\":NaN");
    one_line_error(verify_summary_text(&text), &["not valid JSON"]);
    let text = export_with("http_req_duration{flow:auth_list}", r#"{"avg": 1, "med": 1, "p(95)": -3}"#);
    one_line_error(verify_summary_text(&text), &["p(95)", "negative duration"]);
}

#[test]
fn summary_without_the_metrics_the_policy_needs_is_no_data_exit_1() {
    let assert = verify_summary_text(r#"{"metrics": {"vus": {"value": 1, "min": 1, "max": 1}}}"#).code(1);
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(out.contains("NO DATA") && out.contains("http_req_duration{flow:auth_list} is not in"), "{out}");
    assert!(!out.contains("PASS    ┆ k6"), "{out}");
}

#[test]
fn env_figure_that_is_not_a_number() {
    for bad in ["12s", "abc", "NaN", "-4"] {
        one_line_error(
            gatecheck_with_lag()
                .env("QUEUE_LAG_P95_SECONDS", bad)
                .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json"])
                .assert(),
            &["QUEUE_LAG_P95_SECONDS", "expected a plain non-negative number"],
        );
    }
    // An empty string counts as unset: NO DATA, exit 1.
    gatecheck_with_lag()
        .env("QUEUE_LAG_P95_SECONDS", "")
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json"])
        .assert()
        .code(1)
        .stdout(
            contains("no Prometheus server is configured").and(contains("or export QUEUE_LAG_P95_SECONDS (seconds)")),
        );
}

fn verify_policy_text(text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--policy"])
        .arg(&path)
        .assert()
}

const GOOD_GATE: &str = "[[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n";

#[test]
fn policy_file_that_does_not_exist() {
    one_line_error(
        gatecheck_with_lag()
            .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--policy", "gates/nope.toml"])
            .assert(),
        &["policy gates/nope.toml", "cannot read"],
    );
}

#[test]
fn malformed_expression_names_file_gate_and_value() {
    let text = GOOD_GATE.replace("p(95) < 400ms", "p(95) <<< 400ms");
    one_line_error(
        verify_policy_text(&text),
        &["bad.toml", "gate \"read-latency\"", "thresholds[0] = \"p(95) <<< 400ms\""],
    );
    let text = GOOD_GATE.replace("p(95) < 400ms", "p(95) < 400 parsecs");
    one_line_error(verify_policy_text(&text), &["unknown unit \"parsecs\""]);
    let text = GOOD_GATE.replace("p(95) < 400ms", "rate < 1%");
    one_line_error(verify_policy_text(&text), &["rate does not apply to http_req_duration{flow:auth_list} (a trend"]);
}

#[test]
fn unknown_metric_kind_and_unknown_keys() {
    let text = GOOD_GATE
        .replace("metric = \"http_req_duration{flow:auth_list}\"", "metric = \"my_metric\"\nkind = \"histogram\"");
    one_line_error(verify_policy_text(&text), &["kind = \"histogram\"", "unknown metric kind"]);
    let text = GOOD_GATE.replace("metric = \"http_req_duration{flow:auth_list}\"", "metric = \"my_metric\"");
    one_line_error(verify_policy_text(&text), &["not a k6 built-in", "kind"]);
    let text = format!("{GOOD_GATE}threshold = \"p(99) < 1s\"\n");
    one_line_error(verify_policy_text(&text), &["bad.toml", "unknown field `threshold`"]);
    let text = format!("{GOOD_GATE}severity = \"fatal\"\n");
    one_line_error(verify_policy_text(&text), &["severity = \"fatal\"", "block or warn"]);
    one_line_error(verify_policy_text("[[gate]\n"), &["bad.toml", "line 1"]);
    one_line_error(verify_policy_text(""), &["defines no [[gate]]"]);
    one_line_error(verify_policy_text(&format!("{GOOD_GATE}{GOOD_GATE}")), &["used by more than one gate"]);
}

#[test]
fn a_kind_that_disagrees_with_the_summary_is_an_error() {
    let text = "[[gate]]\nid = \"odd\"\nmetric = \"vus\"\nkind = \"gauge\"\nthresholds = [\"value < 10\"]\n[[gate]]\nid = \"odd2\"\nmetric = \"iterations\"\nkind = \"gauge\"\nthresholds = [\"value < 10\"]\n";
    one_line_error(verify_policy_text(text), &["gate \"odd2\"", "iterations is a counter", "reads it as a gauge"]);
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("gates/release.toml").exists());
}

#[test]
fn policy_variables_that_cannot_be_resolved_are_named() {
    let text = format!("[vars]\nrun = {{ required = \"the run\", default = \"R0\" }}\n{GOOD_GATE}");
    // A default beside `required` is refused, not silently dropped.
    one_line_error(verify_policy_text(&text), &["bad.toml", "line 2", "a string, or { required = \"what to give\" }"]);
    let text = format!("[vars]\nrun = 5\n{GOOD_GATE}");
    one_line_error(verify_policy_text(&text), &["bad.toml", "a string, or { required = \"what to give\" }"]);
    let text = format!("[vars]\nengine = \"jmeter\"\n[choice.engine.k6]\nx = \"1\"\n{GOOD_GATE}");
    one_line_error(verify_policy_text(&text), &["bad.toml", "[vars] engine = \"jmeter\": expected one of k6"]);
    let text = format!("[choice.engine.k6]\nx = \"1\"\n{GOOD_GATE}");
    one_line_error(verify_policy_text(&text), &["choice.engine: [vars] has no variable engine"]);
}

/// Finding figures/12: a duration too long for any clock (`18446744073709551615s`, or a year
/// of days) is exit 2 naming the flag or field, never a panic (exit 101) or a hang, wherever
/// durations are written: flags, settings and policies.
#[test]
fn a_huge_duration_is_an_input_error_everywhere() {
    const SUMMARY: &str = "fixtures/k6/1.1.0/pass/summary-export.json";
    for huge in ["18446744073709551615s", "99999999d", "367days"] {
        one_line_error(
            gatecheck_with_lag()
                .args(["verify", "--summary", SUMMARY, "--prometheus-url", "http://127.0.0.1:9"])
                .args(["--prometheus-timeout", huge])
                .assert(),
            &["--prometheus-timeout"],
        );
        one_line_error(
            gatecheck_with_lag().args(["verify", "--summary", SUMMARY, "--max-evidence-age", huge]).assert(),
            &["max_evidence_age"],
        );
        let (_guard, policy) = policy_file(&format!(
            "[[gate]]\nid = \"q\"\nquery = 'up'\nunit = \"number\"\nthresholds = [\"value < 1\"]\n[[freshness]]\nid = \"fresh\"\nselector = 'up'\nmax_age = \"{huge}\"\n"
        ));
        one_line_error(
            gatecheck()
                .args(["check", "--policy"])
                .arg(&policy)
                .args(["--prometheus-url", "http://127.0.0.1:9"])
                .assert(),
            &["max_age"],
        );
        one_line_error(
            gatecheck()
                .args(["check", "--policy", "gates/saturation.toml", "--prometheus-url", "http://127.0.0.1:9"])
                .args(["--watch", "2", "--interval", huge])
                .assert(),
            &["--interval"],
        );
    }
}
