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
