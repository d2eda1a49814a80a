//! Only the policy can switch a gate off: a flow is skipped only when the policy declares it
//! optional (`[flows.NAME] switch_env`); a scenario, a summary or a flag cannot waive the
//! gates of a flow the policy requires.

use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{json, Value};

use crate::support::*;

const PASS_EXPORT: &str = "fixtures/k6/1.1.0/pass/summary-export.json";

/// A native run, as gatecheck's runner writes it, whose scenario switched `flow` off: it has
/// no sub-metrics of the flow and records the flow as skipped.
fn summary_without(dir: &std::path::Path, flow: &str) -> std::path::PathBuf {
    let because = format!("PERF_ENABLE_{}=0", flow.to_uppercase());
    let run = NativeRun { skipped: vec![(flow.to_string(), because)], ..NativeRun::default() };
    write_native_run_summary(dir, "summary.json", run, |_| {})
}

/// Runs `verify --policy POLICY --summary SUMMARY` twice — rule_poll switched off once by its
/// environment variable and once by `--skip-flow` — asserts each exits with `code`, and returns
/// each run's stdout: every switch test must hold for both ways of switching a flow off.
fn verify_switched_off(
    command: impl Fn() -> assert_cmd::Command,
    policy: impl AsRef<std::ffi::OsStr>,
    summary: impl AsRef<std::ffi::OsStr>,
    code: i32,
) -> Vec<String> {
    [(Some("0"), vec![]), (None, vec!["--skip-flow", "rule_poll"])]
        .into_iter()
        .map(|(env, args)| {
            let mut cmd = command();
            if let Some(value) = env {
                cmd.env("PERF_ENABLE_RULE_RUN", value);
            }
            cmd.args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(&summary).args(&args);
            stdout_of(&cmd.assert().code(code))
        })
        .collect()
}

#[test]
fn a_scenario_that_switches_off_a_required_flow_does_not_skip_its_gates() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_without(dir.path(), "auth_list");
    let out = stdout_of(
        &gatecheck_with_lag()
            .args(["verify", "--policy", "gates/release.toml", "--summary"])
            .arg(&summary)
            .assert()
            .code(1),
    );
    for (gate, check) in
        [("read-latency", "p(95) < 400ms"), ("read-errors", "rate < 1%"), ("read-checks", "rate > 99%")]
    {
        let line = table_line(&out, gate, check);
        assert!(line.contains("NO DATA") && !line.contains("SKIPPED"), "{gate}: {out}");
    }
    assert!(out.contains("does not declare it optional"), "{out}");
}

#[test]
fn a_flow_the_policy_declares_optional_is_still_skipped_by_its_switch() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_without(dir.path(), "rule_poll");
    gatecheck_with_lag()
        .args(["verify", "--policy", "gates/release.toml", "--summary"])
        .arg(&summary)
        .assert()
        .code(0)
        .stdout(contains("SKIPPED").and(contains("flow rule_poll was switched off")));
}

#[test]
fn skip_flow_of_a_flow_the_policy_requires_is_refused() {
    gatecheck_with_lag()
        .args(["verify", "--summary", PASS_EXPORT, "--skip-flow", "auth_list"])
        .assert()
        .code(2)
        .stderr(contains("--skip-flow auth_list").and(contains("optional flows: rule_poll")));
}

/// The class: whatever the evidence says about which flows ran (switch variables, a summary's
/// skipped flows, `--skip-flow`), a gate is SKIPPED only when the policy declares its flow
/// optional and it was switched off; every other gate is judged (here NO DATA, blocking).
mod nothing_outside_the_policy_switches_a_gate_off {
    use gatecheck::policy::evaluate::{evaluate, Evidence, FlowState};
    use gatecheck::policy::verdict::Status;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn only_declared_optional_flows_skip(
            optional in proptest::collection::vec(any::<bool>(), 4),
            off in proptest::collection::vec(proptest::option::of(any::<bool>()), 4),
            skip_flag in proptest::collection::vec(any::<bool>(), 4),
        ) {
            let mut text = String::from("[policy]\nname = \"p\"\n");
            for (i, opt) in optional.iter().enumerate() {
                if *opt {
                    text.push_str(&format!("[flows.f{i}]\nswitch_env = \"F{i}_ON\"\n"));
                }
            }
            for i in 0..4 {
                text.push_str(&format!(
                    "[[gate]]\nid = \"g{i}\"\nmetric = \"http_req_duration{{flow:f{i}}}\"\nthresholds = [\"p(95) < 400ms\"]\n"
                ));
            }
            let policy = gatecheck::policy::parse("p.toml", "p", &text).unwrap();
            // What the environment says (Some(false): its switch is 0).
            let env: Vec<(String, String)> = off
                .iter()
                .enumerate()
                .filter_map(|(i, state)| state.map(|on| (format!("F{i}_ON"), if on { "1" } else { "0" }.to_string())))
                .collect();
            let lookup = |name: &str| Ok(env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
            let flagged: Vec<String> =
                skip_flag.iter().enumerate().filter(|(_, s)| **s).map(|(i, _)| format!("f{i}")).collect();
            let read = gatecheck::sources::env::read_flows(&policy, &flagged, &lookup);
            let refused_flag = flagged.iter().any(|f| policy.optional_flow(f).is_none());
            prop_assert_eq!(read.is_err(), refused_flag);
            let mut flows = read.unwrap_or_default();
            // A summary (or scenario) that says every flow was skipped.
            for (i, (state, flag)) in off.iter().zip(&skip_flag).enumerate() {
                if *state == Some(false) || *flag || i % 2 == 0 {
                    flows.insert(format!("f{i}"), FlowState { enabled: false, reason: "the run skipped it".into() });
                }
            }
            let verdict = evaluate(&policy, &Evidence { flows: flows.clone(), ..Evidence::default() }).unwrap();
            for (i, optional) in optional.iter().enumerate() {
                let rows: Vec<_> = verdict.rows.iter().filter(|r| r.gate == format!("g{i}")).collect();
                let switched = *optional && flows.get(&format!("f{i}")).is_some_and(|s| !s.enabled);
                for row in rows {
                    if switched {
                        prop_assert_eq!(row.status, Status::Skipped);
                    } else {
                        prop_assert!(row.status == Status::NoData && row.blocking, "{:?}", row);
                    }
                }
            }
            prop_assert!(verdict.blocked());
        }
    }
}

/// A switch (an environment variable or `--skip-flow`) says an optional flow did not run; when
/// the judged evidence holds samples of it, the evidence wins: its gates are judged, and their
/// rows say the switch was overruled. Here rule_poll ran with every request failed.
#[test]
fn a_switch_never_skips_a_flow_the_evidence_shows_ran() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(repo().join(PASS_EXPORT)).unwrap()).unwrap();
    let failed = &mut doc["metrics"]["http_req_failed{flow:rule_poll}"];
    (failed["passes"], failed["fails"], failed["value"]) = (json!(32), json!(0), json!(1.0));
    // Its parent counts the same 32 failures (a part never exceeds its whole).
    let parent = &mut doc["metrics"]["http_req_failed"];
    let total = parent["passes"].as_u64().unwrap() + parent["fails"].as_u64().unwrap();
    (parent["passes"], parent["fails"], parent["value"]) = (json!(32), json!(total - 32), json!(32.0 / total as f64));
    let summary = dir.path().join("summary.json");
    std::fs::write(&summary, serde_json::to_string(&doc).unwrap()).unwrap();
    for out in verify_switched_off(gatecheck_with_lag, "gates/release.toml", &summary, 1) {
        assert!(out.contains("but the evidence holds samples of it: it is judged"), "{out}");
    }
}

/// Finding judgement2/02: a query gate of a switched-off flow is still asked; Prometheus
/// answering with the flow's series shows it ran (5 s against 1 s), so it is judged, never
/// SKIPPED unasked while the exported alert for the same gate fires.
#[test]
fn a_switched_off_flows_query_gate_is_asked_and_judged_when_it_has_series() {
    let url = serve_prometheus_answer(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"5"]}]}}"#,
    );
    let (_guard, policy) = policy_file(
        "[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n[[gate]]\nid = \"poll-latency\"\nflow = \"rule_poll\"\nquery = 'poll_seconds'\nunit = \"s\"\nthresholds = [\"value < 1s\"]\n",
    );
    let out = stdout_of(
        &gatecheck()
            .env("PERF_ENABLE_RULE_RUN", "0")
            .args(["check", "--policy"])
            .arg(&policy)
            .args(["--prometheus-url", &url, "--at", FIXTURE_T])
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "poll-latency", "value < 1s").contains("FAIL"), "{out}");
}

/// Finding judge4/02: an empty answer with warnings (a store that did not reply may hold the
/// flow's series) cannot show a switched-off flow did not run: NO DATA, the warning quoted.
#[test]
fn a_partial_answer_never_lets_a_switch_skip_a_query_gate() {
    let url = serve_prometheus_answer(
        r#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial response: store 10.0.0.7 unavailable"]}"#,
    );
    let (_guard, policy) = policy_file(
        "[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n[[gate]]\nid = \"poll-latency\"\nflow = \"rule_poll\"\nquery = 'poll_seconds'\nunit = \"s\"\nthresholds = [\"value < 1s\"]\n",
    );
    let out = stdout_of(
        &gatecheck()
            .env("PERF_ENABLE_RULE_RUN", "0")
            .args(["check", "--policy"])
            .arg(&policy)
            .args(["--prometheus-url", &url, "--at", FIXTURE_T])
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "poll-latency", "value < 1s").contains("NO DATA"), "{out}");
    assert!(out.contains("store 10.0.0.7 unavailable"), "{out}");
}

/// Finding round7-judge/01: samples of a switched-off flow overrule its switch for every gate
/// of the flow, not gate by gate: with `query-errors` judged on the flow's samples, a missing
/// `http_req_duration{flow:rule_poll}` is NO DATA for `query-latency`, never SKIPPED.
#[test]
fn samples_of_a_switched_off_flow_overrule_the_switch_for_all_its_gates() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/summary-export.json")).unwrap(),
    )
    .unwrap();
    doc["metrics"].as_object_mut().unwrap().remove("http_req_duration{flow:rule_poll}");
    let summary = dir.path().join("s.json");
    std::fs::write(&summary, doc.to_string()).unwrap();
    let (_guard, policy) = policy_file(
        "[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n\
         [[gate]]\nid = \"query-latency\"\nmetric = \"http_req_duration{flow:rule_poll}\"\nflow = \"rule_poll\"\nthresholds = [\"p(95) < 900ms\"]\n\
         [[gate]]\nid = \"query-errors\"\nmetric = \"http_req_failed{flow:rule_poll}\"\nflow = \"rule_poll\"\nthresholds = [\"rate < 1%\"]\n",
    );
    let out = stdout_of(
        &gatecheck()
            .env("PERF_ENABLE_RULE_RUN", "0")
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(&summary)
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "query-latency", "p(95) < 900ms").contains("NO DATA"), "{out}");
    assert!(table_line(&out, "query-errors", "rate < 1%").contains("PASS"), "{out}");
}

/// Finding round11-judge/01: a gate of an optional flow read from the environment (`[gate.env]`)
/// was SKIPPED when the flow was switched off, its figure set (9999 s against `p(95) < 30s`)
/// discarded, and the release shipped; samples and query series of the flow overrule the
/// switch, and so does a figure set in the environment: it is judged (a breach blocks, a figure
/// within the limit passes), and only a gate with no figure at all is SKIPPED.
#[test]
fn a_figure_set_in_the_environment_overrules_the_switch_of_its_flow() {
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"p\"\n[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n\
         [[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\
         [[gate]]\nid = \"rule-lag\"\nflow = \"rule_poll\"\nunit = \"s\"\nthresholds = [\"p(95) < 30s\"]\n\
         [gate.env]\n\"p(95)\" = \"RULE_LAG_P95_SECONDS\"\n",
    );
    let summary = repo().join("fixtures/k6/1.1.0/rule-run-disabled/summary-export.json");
    for (figure, code, row) in [(Some("9999"), 1, "FAIL"), (Some("2"), 0, "PASS"), (None, 0, "SKIPPED")] {
        let mut cmd = gatecheck();
        cmd.env("PERF_ENABLE_RULE_RUN", "0");
        if let Some(value) = figure {
            cmd.env("RULE_LAG_P95_SECONDS", value);
        }
        cmd.args(["check", "--policy"]).arg(&policy).arg("--summary").arg(&summary);
        let out = stdout_of(&cmd.assert().code(code));
        assert!(table_line(&out, "rule-lag", "p(95) < 30s").contains(row), "{figure:?}: {out}");
    }
}

/// Finding round13-judge/03: a summary's latency trend carries no sample count (k6 writes
/// `count` only when asked), so a flow whose only figure in the summary was its latency read as
/// unmeasured and its switch SKIPPED a p95 over the limit. Any figure a file gives as a value —
/// not k6's zero trend of a flow that sent nothing — shows the flow ran.
#[test]
fn a_latency_figure_without_a_count_shows_the_flow_ran() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(repo().join(PASS_EXPORT)).unwrap()).unwrap();
    let metrics = doc["metrics"].as_object_mut().unwrap();
    metrics.retain(|key, _| !key.contains("flow:rule_poll}") || key.starts_with("http_req_duration"));
    let p95 = metrics["http_req_duration{flow:rule_poll}"]["p(95)"].as_f64().unwrap();
    let summary = dir.path().join("summary.json");
    std::fs::write(&summary, serde_json::to_string(&doc).unwrap()).unwrap();
    let (_policy_dir, policy) = policy_file(&format!(
        "[k6_thresholds]\nenforce = false\n[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n\
         [[gate]]\nid = \"query-latency\"\nflow = \"rule_poll\"\nmetric = \"http_req_duration{{flow:rule_poll}}\"\n\
         thresholds = [\"p(95) < {}ms\"]\n",
        (p95 / 2.0).floor()
    ));
    for out in verify_switched_off(gatecheck, &policy, &summary, 1) {
        assert!(out.lines().any(|line| line.contains("query-latency") && line.contains("FAIL")), "{out}");
        assert!(out.contains("but the evidence holds samples of it: it is judged"), "{out}");
    }
}

/// Finding round14-judge/02: the summary held rule_poll's latency (p95, avg, med, max) and its
/// failed-request rate, but the gate asked `p(99)`, which a default summary does not carry: the
/// switch SKIPPED it, where the raw results FAIL it. Any figure of the flow in the evidence —
/// not only the statistic a gate asks — shows it ran, and the gate is NO DATA.
#[test]
fn any_figure_of_a_flow_in_the_evidence_overrules_its_switch() {
    let (_policy_dir, policy) = policy_file(
        "[k6_thresholds]\nenforce = false\n[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n\
         [[gate]]\nid = \"query-tail\"\nflow = \"rule_poll\"\nmetric = \"http_req_duration{flow:rule_poll}\"\n\
         thresholds = [\"p(99) < 150ms\"]\n",
    );
    for out in verify_switched_off(gatecheck, &policy, PASS_EXPORT, 1) {
        assert!(out.lines().any(|line| line.contains("query-tail") && line.contains("NO DATA")), "{out}");
        assert!(out.contains("but the evidence holds samples of it: it is judged"), "{out}");
    }
}

/// Finding round15-judge/03: a gate naming its flow (`flow = "rule_poll"`) selected its metric
/// by k6's own `scenario` tag; the summary held the flow's p95 and its failure rate over 30
/// requests under `{scenario:rule_poll}`, but the "any figure of the flow" scan looked only at
/// keys tagged `flow:`, and the switch SKIPPED the gate. A flow's figures are also every
/// metric carrying the tags by which a gate of the flow selects its metric.
#[test]
fn a_flow_selected_by_its_scenario_tag_is_not_skipped_while_the_summary_holds_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    std::fs::write(
        &summary,
        serde_json::to_string(&json!({"metrics": {
            "http_req_duration{scenario:rule_poll}":
                {"max": 224.3, "p(90)": 217.1, "p(95)": 221.7, "avg": 206.4, "min": 200.6, "med": 203.8},
            "http_req_failed{scenario:rule_poll}": {"passes": 0, "fails": 30, "value": 0},
            "http_req_duration{scenario:auth_list}":
                {"max": 219.3, "p(90)": 206.5, "p(95)": 212.5, "avg": 203.6, "min": 200.5, "med": 202.5},
            "http_reqs": {"count": 60, "rate": 19.3},
        }}))
        .unwrap(),
    )
    .unwrap();
    let (_policy_dir, policy) = policy_file(
        "[flows.rule_poll]\nswitch_env = \"PERF_ENABLE_RULE_RUN\"\n\
         [[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration{scenario:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\
         [[gate]]\nid = \"query-latency\"\nflow = \"rule_poll\"\nmetric = \"http_req_duration{scenario:rule_poll}\"\n\
         thresholds = [\"p(99) < 150ms\"]\n",
    );
    let out = stdout_of(
        &gatecheck()
            .env("PERF_ENABLE_RULE_RUN", "0")
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(&summary)
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "query-latency", "p(99) < 150ms").contains("NO DATA"), "{out}");
    assert!(out.contains("but the evidence holds samples of it: it is judged"), "{out}");
}

/// The class of finding round15-judge/03: whatever tag a gate of a flow selects its metric by
/// (`flow`, `scenario`, any other), and whichever metric carrying that tag holds a figure of
/// any kind (a trend, a counter, a rate), the flow's switch never SKIPS the gate; a flow none
/// of whose metrics holds a figure (k6's zero-filled sub-metrics) is still skipped.
mod any_figure_under_a_flows_selecting_tag_overrules_its_switch {
    use gatecheck::policy::evaluate::{evaluate, Evidence, FlowState};
    use gatecheck::policy::verdict::Status;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn never_skipped_while_a_metric_carrying_its_tag_holds_a_figure(
            tag in "[a-z][a-z_]{0,8}",
            value in "[a-z][a-z0-9_]{0,8}",
            flow in "[a-z][a-z_]{0,8}",
            holder in 0usize..4,
            other_tag in proptest::option::of(("[a-z]{1,6}", "[a-z0-9]{1,6}")),
            measured in any::<bool>(),
        ) {
            // The figure under the selecting tag: the gate's own metric without the statistic it
            // asks, or another metric (a counter, a rate, a trend) carrying the tag.
            let mut tags = vec![format!("{tag}:{value}")];
            if let Some((k, v)) = &other_tag {
                if *k != tag {
                    tags.push(format!("{k}:{v}"));
                }
            }
            let tags = tags.join(",");
            let trend = |p95: f64| json!({"avg": p95 * 0.9, "min": p95 * 0.5, "med": p95 * 0.8, "max": p95 * 1.1, "p(90)": p95 * 0.95, "p(95)": p95});
            let (name, figure) = match holder {
                0 => ("http_req_duration", trend(if measured { 221.7 } else { 0.0 })),
                1 => ("http_req_waiting", trend(if measured { 120.0 } else { 0.0 })),
                2 => ("http_reqs", json!({"count": if measured { 30 } else { 0 }, "rate": if measured { 9.65 } else { 0.0 }})),
                _ => ("http_req_failed", json!({"passes": 0, "fails": if measured { 30 } else { 0 }, "value": 0})),
            };
            let mut metrics = serde_json::Map::new();
            metrics.insert(format!("{name}{{{tags}}}"), figure);
            metrics.insert("http_reqs".into(), json!({"count": 60, "rate": 19.3}));
            let doc = json!({ "metrics": metrics });
            let summary = gatecheck::sources::k6_summary::parse("summary.json", doc.to_string().as_bytes()).unwrap();
            let text = format!(
                "[policy]\nname = \"p\"\n[k6_thresholds]\nenforce = false\n[flows.{flow}]\nswitch_env = \"FLOW_ON\"\n\
                 [[gate]]\nid = \"g\"\nflow = \"{flow}\"\nmetric = \"http_req_duration{{{tag}:{value}}}\"\nthresholds = [\"p(99) < 150ms\"]\n"
            );
            let policy = gatecheck::policy::parse("p.toml", "p", &text).unwrap();
            let mut evidence = Evidence { summary: Some(summary), ..Evidence::default() };
            evidence.flows.insert(flow.clone(), FlowState { enabled: false, reason: "FLOW_ON=0".into() });
            let verdict = evaluate(&policy, &evidence).unwrap();
            let rows: Vec<_> = verdict.rows.iter().filter(|r| r.gate == "g").collect();
            prop_assert!(!rows.is_empty());
            for row in rows {
                if measured {
                    prop_assert!(row.status != Status::Skipped, "{:?}", row);
                } else {
                    prop_assert_eq!(row.status, Status::Skipped, "{:?}", row);
                }
            }
        }
    }
}
