//! `gatecheck gates`: the policy in plain words.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

#[test]
fn release_policy_in_human_form() {
    gatecheck().arg("gates").assert().code(0).stdout(
        contains("Policy release (gates/release.toml)")
            .and(contains("read-latency: Read flow (auth_list) latency"))
            .and(contains("p95 below 400ms; p99 below 700ms (breach blocks the release)"))
            .and(contains("k6 trend http_req_duration{flow:auth_list}"))
            .and(contains("p(95) from $SCHEDULER_LAG_P95_SECONDS (seconds"))
            .and(contains("PERF_ENABLE_RULE_RUN=0 switches it off"))
            .and(contains("if missing: NO DATA, blocks the release")),
    );
}

#[test]
fn gates_rejects_a_broken_policy() {
    gatecheck()
        .args(["gates", "--policy", "missing.toml"])
        .assert()
        .code(2)
        .stderr(contains("policy missing.toml: cannot read"));
}
