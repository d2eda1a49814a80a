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
            .and(contains("env $SCHEDULER_LAG_P95_SECONDS gives p(95) when set (seconds)"))
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

#[test]
fn every_source_is_shown_in_precedence_order_and_history_gates_say_what_they_check() {
    let out = stdout_of(&gatecheck().arg("gates").assert().code(0));
    let block: Vec<&str> =
        out.split("\n\n").find(|b| b.starts_with("scheduler-lag:")).expect("scheduler-lag block").lines().collect();
    let position = |needle: &str| {
        block.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} in {block:#?}"))
    };
    // env > scrape > query, each numbered.
    assert!(position("source 1:   env $") < position("histogram waxwatch_scheduler_lag_seconds on the load target"));
    assert!(position("on the load target") < position("PromQL for p(95): histogram_quantile(0.95"));
    assert!(out.contains("coverage:   at least 90% of the 10m window"), "{out}");
    let history = out.split("\n\n").find(|b| b.starts_with("consecutive-passes:")).unwrap();
    assert!(!history.contains("checks:     (breach") && history.contains("recorded before it all passed"), "{history}");
    // The saturation policy's freshness requirement is listed too.
    let out = stdout_of(&gatecheck().args(["gates", "--policy", "gates/saturation.toml"]).assert().code(0));
    assert!(
        out.contains("api-freshness:")
            && out.contains("the newest sample of up{job=\"waxwatch-api\"} is younger than 2m"),
        "{out}"
    );
}

#[test]
fn the_distributed_policy_needs_its_run_and_one_switch_picks_the_engine() {
    gatecheck()
        .args(["gates", "--policy", "gates/distributed.toml"])
        .assert()
        .code(2)
        .stderr(contains("${run_id} has no default: give --var run_id=..."));
    gatecheck().args(["gates", "--policy", "gates/distributed.toml", "--var", "run_id=R1"]).assert().code(0).stdout(
        contains(
            "histogram_quantile(0.95, sum(gatecheck_http_req_duration_seconds{run_id=\"R1\",flow=\"auth_list\"} and on(attempt) (gatecheck_segment_start_time_seconds{run_id=\"R1\"} == scalar(max(gatecheck_segment_start_time_seconds{run_id=\"R1\"})))))",
        )
        .and(contains(
            "count(count by (segment) (gatecheck_segment_finished{run_id=\"R1\"} == 1 and on(attempt) (gatecheck_segment_start_time_seconds{run_id=\"R1\"} == scalar(max(gatecheck_segment_start_time_seconds{run_id=\"R1\"}))))) / max(gatecheck_segment_info{run_id=\"R1\"} and on(attempt)",
        ))
        // One runner per segment: series of one segment are counted, whatever labels tell them apart.
        .and(contains("(max(count by (segment) (gatecheck_segment_info{run_id=\"R1\"} and on(attempt)")),
    );
    gatecheck()
        .args(["gates", "--policy", "gates/distributed.toml", "--var", "run_id=R1", "--var", "engine=k6"])
        .args(["--var", "segments=4", "--var", "duration_seconds=120"])
        .assert()
        .code(0)
        .stdout(
            // The k6 set judges the latest attempt's runners (the exported script's run-start
            // gauge), counts their distinct segments, and names none of gatecheck's own series.
            contains(
                "histogram_quantile(0.95, sum(k6_http_req_duration_seconds{testid=\"R1\",flow=\"auth_list\"} and on(instance_id) (max by (instance_id, segment, sequence, segments) (k6_gatecheck_run_start{testid=\"R1\"}) >= scalar(max(max by (instance_id, segment, sequence, segments) (k6_gatecheck_run_start{testid=\"R1\"}))) - 30)))",
            )
            .and(contains(">= 120 - 2 * 5 - 1)"))
            .and(contains("count(count by (segment) ("))
            .and(contains(") / 4 *"))
            .and(contains("gatecheck_segment").not())
            .and(contains("gatecheck_http").not()),
        );
    gatecheck()
        .args(["gates", "--policy", "gates/distributed.toml", "--var", "run_id=R1", "--var", "engine=jmeter"])
        .assert()
        .code(2)
        .stderr(contains("--var engine=jmeter: expected one of gatecheck, k6"));
}

/// A required variable is a plain value of its declared kind: `segments=4 or vector(1)` once
/// passed and made the completeness query read 1 when no runner finished.
#[test]
fn a_required_variable_is_a_plain_value_of_its_kind() {
    let k6 = |vars: &[&str]| {
        let mut cmd = gatecheck();
        cmd.args(["gates", "--policy", "gates/distributed.toml", "--var", "engine=k6"]);
        for var in vars {
            cmd.args(["--var", var]);
        }
        cmd
    };
    for (bad, name) in [
        ("segments=4 or vector(1)", "segments"),
        ("segments=0", "segments"),
        ("duration_seconds=120s", "duration_seconds"),
        ("run_id=R1 or up", "run_id"),
    ] {
        let mut vars = vec!["run_id=R1", "segments=4", "duration_seconds=120"];
        vars.retain(|v| !v.starts_with(&format!("{name}=")));
        vars.push(bad);
        k6(&vars).assert().code(2).stderr(contains(format!("--var {name}: expected")));
    }
    k6(&["run_id=run-1a2b.c", "segments=4", "duration_seconds=120"]).assert().code(0);
}

/// Every overridable variable is checked, not only the required ones: a default declares its
/// kind (a count or a label value), and a variable whose default is a query fragment cannot be
/// overridden at all. `push_interval_seconds=5 or vector(1)` once made the completeness gate
/// pass on an empty Prometheus; `run=run_id=~".+"` judged every run's series as this run's.
#[test]
fn a_defaulted_variable_is_a_plain_value_of_its_default_kind_and_fragments_are_not_overridden() {
    let k6 = |extra: &str| {
        let mut cmd = gatecheck();
        cmd.args(["gates", "--policy", "gates/distributed.toml"]);
        // A variable is given once (finding round24-judge/01): the switch's own bad value
        // replaces `engine=k6`.
        if !extra.starts_with("engine=") {
            cmd.args(["--var", "engine=k6"]);
        }
        cmd.args(["--var", "run_id=R1", "--var", "segments=4", "--var", "duration_seconds=120", "--var", extra]);
        cmd
    };
    for (bad, name) in [
        ("push_interval_seconds=5 or vector(1)", "push_interval_seconds"),
        ("push_interval_seconds=0", "push_interval_seconds"),
        ("engine=k6 or up", "engine"),
    ] {
        k6(bad).assert().code(2).stderr(contains(format!("--var {name}: expected")));
    }
    for (bad, name) in [
        ("run=run_id=~\".+\"", "run"),
        ("segments_finished=vector(1)", "segments_finished"),
        ("dropped=vector(0)", "dropped"),
    ] {
        k6(bad).assert().code(2).stderr(contains(format!("--var {name}: cannot be overridden")));
    }
    k6("push_interval_seconds=10").assert().code(0);
}
