//! Query gates against a REAL Prometheus loaded with deterministic data (fixtures/prometheus),
//! through the same code path users run: the binary with --prometheus-url and a fixed --at.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

const AT: &str = "2026-01-01T00:00:00Z";

#[test]
fn release_gates_take_latency_from_the_summary_and_lag_from_prometheus() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let assert = gatecheck()
        .args([
            "verify",
            "--summary",
            "fixtures/k6/1.1.0/pass/summary-export.json",
            "--prometheus-url",
            &prom.url,
            "--at",
            AT,
            // The whole query of a passing row: shown with --verbose.
            "--verbose",
        ])
        .assert()
        .code(0);
    let out = stdout_of(&assert);
    assert!(out.contains("queries evaluated at: 2026-01-01T00:00:00Z"), "{out}");
    // Designed values: scheduler p95 12 s, max 45 s; queue p95 8 s, p99 26 s.
    for (gate, check, figure) in [
        ("scheduler-lag", "p(95) < 60s", "12 s"),
        ("scheduler-lag", "max < 180s", "45 s"),
        ("queue-lag", "p(95) < 30s", "8 s"),
        ("queue-lag", "p(99) < 90s", "26 s"),
    ] {
        let line = table_line(&out, gate, check);
        assert!(
            line.contains(figure) && line.contains("PASS") && line.contains("promql @ 2026-01-01T00:00:00Z"),
            "{line}"
        );
    }
    let line = table_line(&out, "read-latency", "p(95) < 400ms");
    assert!(line.contains("61.45 ms") && line.contains("summary-export.json"), "{line}");
}

#[test]
fn a_wider_window_sees_the_incident_and_blocks() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let assert = gatecheck()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--prometheus-url", &prom.url])
        .args(["--at", FIXTURE_T, "--var", "window=30m"])
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    let p95 = table_line(&out, "scheduler-lag", "p(95) < 60s");
    assert!(p95.contains("120 s") && p95.contains("FAIL"), "{p95}");
    let max = table_line(&out, "scheduler-lag", "max < 180s");
    assert!(max.contains("300 s") && max.contains("FAIL"), "{max}");
    assert!(out.contains("[30m]"), "the substituted query is shown: {out}");
}

#[test]
fn an_env_figure_overrides_the_query_and_no_env_ignores_it() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let args = [
        "verify",
        "--summary",
        "fixtures/k6/1.1.0/pass/summary-export.json",
        "--prometheus-url",
        &prom.url,
        "--at",
        AT,
    ];
    // 14 s: where the histogram's own buckets put its 95th percentile (in (10 s, 15 s]).
    let assert = gatecheck().env("SCHEDULER_LAG_P95_SECONDS", "14").args(args).arg("--verbose").assert().code(0);
    let out = stdout_of(&assert);
    let line = table_line(&out, "scheduler-lag", "p(95) < 60s");
    assert!(line.contains("14 s") && line.contains("PASS") && line.contains("env SCHEDULER_LAG_P95_SECONDS"), "{line}");
    assert!(out.contains("SCHEDULER_LAG_P95_SECONDS is set and overrides the query for p(95)"), "{out}");
    // The other statistic still comes from Prometheus.
    assert!(table_line(&out, "scheduler-lag", "max < 180s").contains("45 s"));
    // An env figure keeps its distribution's order beside the figures Prometheus answered:
    // p(95) = 75 s above the queried max of 45 s is exit 2 naming both (round25-figures/01).
    let err = stderr_of(&gatecheck().env("SCHEDULER_LAG_P95_SECONDS", "75").args(args).assert().code(2));
    assert!(err.contains("SCHEDULER_LAG_P95_SECONDS") && err.contains("max") && err.contains("order"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // In order, but where the buckets put no such rank: 30 s beside buckets putting the 95th
    // percentile in (10 s, 15 s] is exit 2 naming the buckets (round26-figures/01).
    let err = stderr_of(&gatecheck().env("SCHEDULER_LAG_P95_SECONDS", "30").args(args).assert().code(2));
    assert!(
        err.contains("SCHEDULER_LAG_P95_SECONDS") && err.contains("waxwatch_scheduler_lag_seconds_bucket"),
        "{err}"
    );

    let assert = gatecheck().env("SCHEDULER_LAG_P95_SECONDS", "75").args(args).arg("--no-env").assert().code(0);
    assert!(table_line(&stdout_of(&assert), "scheduler-lag", "p(95) < 60s").contains("12 s"));
}

#[test]
fn saturation_check_judges_every_series_and_finds_the_designed_breaches() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let assert = gatecheck().args(["check", "--prometheus-url", &prom.url, "--at", FIXTURE_T]).assert().code(1);
    let out = stdout_of(&assert);
    for (gate, check, figure, verdict) in [
        ("email-backlog {channel=\"email\"}", "value < 500", "180", "PASS"),
        ("realtime-backlog {channel=\"realtime\"}", "value < 1000", "420", "PASS"),
        ("db-pool", "p(95) < 0.70", "62%", "PASS"),
        ("db-pool", "max < 0.85", "78%", "PASS"),
        ("provider-errors-1h {provider=\"discogs\"}", "value < 3%", "5%", "FAIL"),
        ("provider-errors-1h {provider=\"sendgrid\"}", "value < 3%", "1.667%", "PASS"),
        ("provider-errors-1h {provider=\"twilio\"}", "value < 3%", "2.5%", "PASS"),
        ("provider-errors-6h {provider=\"discogs\"}", "value < 2%", "1.25%", "PASS"),
        ("provider-errors-24h {provider=\"twilio\"}", "value < 1.5%", "1.406%", "PASS"),
        ("api-read-latency", "p(95) < 400ms", "212.5 ms", "PASS"),
        ("api-write-latency", "p(95) < 700ms", "750 ms", "FAIL"),
        ("api-query-latency", "p(95) < 900ms", "-", "NO DATA"),
        ("api-5xx-ratio", "value < 1%", "0%", "PASS"),
    ] {
        let line = table_line(&out, gate, check);
        let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
        assert_eq!((cells[3], cells[4]), (figure, verdict), "{line}");
    }
    assert!(out.contains("no series at 2026-01-01T00:00:00Z (empty is NO DATA, never 0)"), "{out}");
    assert!(out.contains("2 failed, 1 no data"), "{out}");
}

#[test]
fn nan_series_are_no_data_and_reducers_leave_them_out() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let (_dir, policy) = policy_file(
        r#"
[vars]
window = "10m"
[[gate]]
id = "per-queue"
query = 'histogram_quantile(0.95, sum by (le, queue) (increase(celery_task_queue_lag_seconds_bucket[${window}])))'
unit = "s"
thresholds = ["p(95) < 30s"]
[[gate]]
id = "worst-queue"
query = 'histogram_quantile(0.95, sum by (le, queue) (increase(celery_task_queue_lag_seconds_bucket[${window}])))'
reduce = "max"
unit = "s"
thresholds = ["p(95) < 30s"]
[[gate]]
id = "idle-tolerated"
query = 'histogram_quantile(0.95, sum by (le) (increase(celery_task_queue_lag_seconds_bucket{queue="reports"}[${window}])))'
unit = "s"
on_missing = "warn"
thresholds = ["p(95) < 30s"]
"#,
    );
    let assert = gatecheck()
        .args(["check", "--prometheus-url", &prom.url, "--at", FIXTURE_T, "--verbose", "--policy"])
        .arg(&policy)
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    assert!(table_line(&out, "per-queue {queue=\"default\"}", "p(95) < 30s").contains("PASS"));
    assert!(table_line(&out, "per-queue {queue=\"reports\"}", "p(95) < 30s").contains("NO DATA"));
    assert!(out.contains("returned NaN"), "{out}");
    let worst = table_line(&out, "worst-queue", "p(95) < 30s");
    assert!(worst.contains("8 s") && worst.contains("PASS"), "{worst}");
    assert!(out.contains("max of 2 series (1 NaN series left out)"), "{out}");
    assert!(table_line(&out, "idle-tolerated", "p(95) < 30s").contains("NO DATA (warn)"));
}

#[test]
fn a_promql_error_is_exit_2_naming_the_gate_and_quoting_prometheus() {
    let Some(prom) = PrometheusFixture::start() else { return };
    // A query the grammar reads (Prometheus 3's name of holt_winters) that this Prometheus
    // (2.x) refuses: its error, quoted.
    let (_dir, policy) = policy_file("[[gate]]\nid = \"broken\"\nquery = 'double_exponential_smoothing(waxwatch_db_connection_utilization[10m], 0.5, 0.5)'\nunit = \"ratio\"\nthresholds = [\"value < 0.7\"]\n");
    let assert = gatecheck()
        .args(["check", "--prometheus-url", &prom.url, "--at", FIXTURE_T, "--policy"])
        .arg(&policy)
        .assert()
        .code(2)
        .stdout("");
    let err = stderr_of(&assert);
    assert!(err.contains("gate \"broken\": Prometheus rejected the query") && err.contains("parse error"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A query the grammar refuses is refused when the policy loads (finding round36-judge/01:
    // its windows cannot be told), naming the gate, before anything is asked.
    let (_dir, policy) = policy_file("[[gate]]\nid = \"broken\"\nquery = 'sum(rate(waxwatch_db_connection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.7\"]\n");
    let assert = gatecheck()
        .args(["check", "--prometheus-url", &prom.url, "--at", FIXTURE_T, "--policy"])
        .arg(&policy)
        .assert()
        .code(2)
        .stdout("");
    let err = stderr_of(&assert);
    assert!(err.contains("gate \"broken\"") && err.contains("grammar refuses it"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn probe_finds_queries_that_would_be_no_data() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let assert = gatecheck().args(["probe", "--prometheus-url", &prom.url, "--at", FIXTURE_T]).assert().code(1);
    let out = stdout_of(&assert);
    // The gates' queries, their histograms' bucket queries (a histogram_quantile is judged
    // with its +Inf bucket, which must equal the `_count`: the count query too), their
    // window-coverage queries and the freshness queries: the rule-run path has no series, so its
    // query, its bucket and count queries and its coverage query would give no figure. (Two of
    // the 37 are up_for's hole queries; five count the steps of a window's grid, one per
    // distinct window and step.)
    assert!(out.contains("PROBE FAILED: 4 of 37 queries would give no figure"), "{out}");
    assert!(out.contains("api-query-latency") && out.contains("no series"), "{out}");
    assert!(out.contains("3 series: {provider=\"discogs\"} 0.05"), "{out}");

    let (_dir, policy) = policy_file("[[gate]]\nid = \"db\"\nquery = 'max_over_time(waxwatch_db_connection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n[[gate]]\nid = \"typo\"\nquery = 'max_over_time(waxwatch_db_conection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n[[gate]]\nid = \"bad\"\nquery = 'double_exponential_smoothing(waxwatch_db_connection_utilization[10m], 0.5, 0.5)'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n");
    let assert = gatecheck()
        .args(["probe", "--prometheus-url", &prom.url, "--at", FIXTURE_T, "--policy"])
        .arg(&policy)
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    assert!(out.contains("PROBE FAILED: 2 of 3"), "{out}");
    assert!(out.contains("parse error"), "a rejected query is reported, not fatal: {out}");
}

#[test]
fn check_watch_passes_only_when_the_last_evaluations_pass() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let (_dir, policy) = policy_file("[[gate]]\nid = \"db\"\nquery = 'max_over_time(waxwatch_db_connection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n");
    gatecheck()
        .args([
            "check",
            "--prometheus-url",
            &prom.url,
            "--at",
            FIXTURE_T,
            "--watch",
            "3",
            // One pinned instant read several times is one reading: with --at only --require 1
            // (a replay) is allowed (finding judgement2/06).
            "--require",
            "1",
            "--interval",
            "10ms",
            "--policy",
        ])
        .arg(&policy)
        .assert()
        .code(0)
        .stdout(
            contains("evaluation 3 of 3")
                .and(contains("STABLE: the last 1 of 3 evaluations must pass; got pass, pass, pass")),
        );
    gatecheck()
        .args([
            "check",
            "--prometheus-url",
            &prom.url,
            "--at",
            FIXTURE_T,
            "--watch",
            "2",
            "--require",
            "1",
            "--interval",
            "10ms",
            "--var",
            "window=30m",
        ])
        .assert()
        .code(1)
        .stdout(contains("NOT STABLE"));
}

/// Finding round35-judge/02: `--var window=10m:10m` passed the label-value check (':'
/// allowed) and made `max_over_time(x[${window}])` a subquery reading one instant, so a 900
/// peak (limit 500) that FAILs with the default passed. A value placed in a range is a
/// Prometheus duration only: refused, exit 2, naming the variable, the place and what it
/// expects; a duration is still accepted.
#[test]
fn a_var_cannot_turn_a_range_into_a_subquery() {
    let dir = tempfile::tempdir().unwrap();
    let t0: i64 = 1_796_637_600;
    let at = t0 + 3600;
    let mut text = String::from("# TYPE backlog_items gauge\n");
    for t in (t0..=at).step_by(15) {
        text.push_str(&format!("backlog_items {} {t}\n", if t == t0 + 3300 { 900 } else { 100 }));
    }
    text.push_str("# EOF\n");
    let data = dir.path().join("backlog.om");
    std::fs::write(&data, text).unwrap();
    let Some(prom) = PrometheusFixture::start_with(&data) else { return };
    let (_guard, policy) = policy_file(
        "[vars]\nwindow = \"10m\"\n[[gate]]\nid = \"backlog\"\nquery = 'max_over_time(backlog_items[${window}])'\n\
         unit = \"number\"\nthresholds = [\"value < 500\"]\n",
    );
    let check = |extra: &[&str]| {
        gatecheck()
            .args(["check", "--prometheus-url", &prom.url, "--at", &at.to_string(), "--policy"])
            .arg(&policy)
            .args(extra)
            .assert()
    };
    check(&[]).code(1).stdout(contains("FAIL"));
    check(&["--var", "window=30m"]).code(1).stdout(contains("FAIL"));
    for value in ["10m:10m", "10m:", "1h:1m"] {
        let assert = check(&["--var", &format!("window={value}")]).code(2);
        let err = stderr_of(&assert);
        assert!(
            err.contains("${window}")
                && err.contains("in a range, subquery, offset or duration")
                && err.contains("a Prometheus duration"),
            "{value}: {err}"
        );
    }
}

/// Finding round35-figures/03: under `histogram_quantile(0.95, sum by (le, worker) (...))` a
/// worker whose histogram has `_count`/`_sum` series and no `_bucket` series at all (4000 lags
/// of 100 s in the window) had no quantile series, its `_count` was never held to its buckets,
/// and the gate was judged on worker a alone: 950 ms PASS, exit 0. The one bucket rule
/// (`metrics::classic_fault`) holds every group of the grouping with a `_count` to its +Inf
/// bucket: none at all is NO DATA naming worker b. The control (worker b with the buckets its
/// lags lie in) reaches the verdict and FAILS.
#[test]
fn a_group_with_a_count_and_no_bucket_is_no_data_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let t0: i64 = 1_764_979_200;
    let mut text = String::new();
    for name in ["lag_seconds", "ctl_seconds"] {
        text.push_str(&format!("# TYPE {name} histogram\n"));
        for i in 0..=120i64 {
            let (t, a, b) = (t0 + 15 * i, 10 * i, 100 * i);
            text.push_str(&format!("{name}_bucket{{worker=\"a\",le=\"1.0\"}} {a} {t}\n"));
            text.push_str(&format!("{name}_bucket{{worker=\"a\",le=\"+Inf\"}} {a} {t}\n"));
            text.push_str(&format!("{name}_count{{worker=\"a\"}} {a} {t}\n"));
            text.push_str(&format!("{name}_sum{{worker=\"a\"}} {} {t}\n", a as f64 * 0.5));
            if name == "ctl_seconds" {
                text.push_str(&format!("{name}_bucket{{worker=\"b\",le=\"1.0\"}} 0 {t}\n"));
                text.push_str(&format!("{name}_bucket{{worker=\"b\",le=\"+Inf\"}} {b} {t}\n"));
            }
            text.push_str(&format!("{name}_count{{worker=\"b\"}} {b} {t}\n"));
            text.push_str(&format!("{name}_sum{{worker=\"b\"}} {} {t}\n", b * 100));
        }
    }
    // OpenMetrics wants one family's samples together and in time order within a series.
    text.push_str("# EOF\n");
    let data = dir.path().join("lag.om");
    std::fs::write(&data, text).unwrap();
    let Some(prom) = PrometheusFixture::start_with(&data) else { return };
    let mut policy = String::from("[policy]\nname = \"p\"\n");
    for (id, name) in [("lag", "lag_seconds"), ("ctl", "ctl_seconds")] {
        policy.push_str(&format!(
            "[[gate]]\nid = \"{id}\"\nthresholds = [\"p(95) < 60s\"]\nunit = \"s\"\n[gate.query]\n\
             \"p(95)\" = 'histogram_quantile(0.95, sum by (le, worker) (increase({name}_bucket[10m])))'\n"
        ));
    }
    let (_guard, policy) = policy_file(&policy);
    let at = (t0 + 1800).to_string();
    let assert =
        gatecheck().args(["check", "--prometheus-url", &prom.url, "--at", &at, "--policy"]).arg(&policy).assert();
    let out = stdout_of(&assert);
    assert_eq!(assert.get_output().status.code(), Some(1), "{out}");
    assert!(table_line(&out, "lag", "p(95) < 60s").contains("NO DATA"), "{out}");
    assert!(out.contains("worker=\"b\"") && out.contains("no bucket at all"), "{out}");
    // Worker a alone never passes for the gate.
    assert!(!out.lines().any(|l| l.contains("lag") && l.contains("PASS")), "{out}");
    // The control: worker b's lags in its +Inf bucket reach the verdict.
    assert!(out.lines().any(|l| l.contains("ctl") && l.contains(" b ") && l.contains("FAIL")), "{out}");
}
