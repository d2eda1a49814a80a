//! `verify` against REAL k6 output (k6 1.1.0 and 2.2.0, every JSON shape), with k6's own
//! verdicts from each case's case.json as the oracle.

use std::collections::BTreeMap;

use gatecheck::metrics::MetricKey;
use gatecheck::policy::threshold::Threshold;
use gatecheck::policy::verdict::{Observed, Status};
use serde_json::Value;

use crate::support::*;

const VERSIONS: [&str; 2] = ["1.1.0", "2.2.0"];
const CASES: [&str; 9] = [
    "pass",
    "fail-latency",
    "fail-errors",
    "rule-run-disabled",
    "no-thresholds-p99-missing",
    "trend-stats-p99",
    "pass-trend-stats-p99",
    "no-thresholds-flag",
    "plain-text-summary",
];

fn case_json(version: &str, case: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("k6/{version}/{case}/case.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Legacy shapes (export and handleSummary) of every case of both versions.
fn legacy_summaries() -> Vec<(String, String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for version in VERSIONS {
        for case in CASES {
            for file in ["summary-export.json", "handle-summary.json"] {
                let path = fixture(&format!("k6/{version}/{case}/{file}"));
                if path.exists() {
                    out.push((version.to_string(), case.to_string(), path));
                }
            }
        }
    }
    assert_eq!(out.len(), 34, "2 versions x 9 cases x 2 shapes, less plain-text-summary's missing handleSummary");
    out
}

#[test]
fn every_policy_threshold_agrees_with_k6_where_the_metric_has_samples() {
    let policy = gatecheck::policy::load_file(&repo().join("gates/release.toml")).unwrap();
    let mut compared = 0;
    for (version, case, path) in legacy_summaries() {
        let k6 = case_json(&version, &case);
        let Some(reported) = k6["thresholds_reported"].as_object() else {
            continue;
        };
        let verdict = verdict_for(&path, &PASSING_LAG);
        let empty_flow = case == "rule-run-disabled";
        for gate in policy.gates.iter().filter(|g| g.metric.is_some()) {
            let (key, _) = gate.metric.as_ref().unwrap();
            let k6_metric = reported.iter().find(|(name, _)| MetricKey::parse(name).unwrap() == *key);
            let Some((_, expressions)) = k6_metric else {
                continue;
            };
            for threshold in &gate.thresholds {
                let matching =
                    expressions.as_object().unwrap().iter().find(|(expr, _)| {
                        Threshold::parse(expr).unwrap().same_test(threshold, key_dimension(&key.name))
                    });
                let Some((_, k6_verdict)) = matching else {
                    continue;
                };
                let row = row(&verdict, &gate.id, &threshold.to_string());
                if empty_flow && gate.flow.as_deref() == Some("rule_poll") {
                    assert_eq!(
                        row.status,
                        Status::NoData,
                        "{version}/{case} {}: an empty sub-metric is NO DATA, not k6's pass",
                        gate.id
                    );
                    continue;
                }
                let k6_passed = k6_verdict["passed"].as_bool().unwrap();
                let expected = if k6_passed { Status::Pass } else { Status::Fail };
                assert_eq!(row.status, expected, "{version}/{case} {} `{threshold}` in {}", gate.id, path.display());
                compared += 1;
            }
        }
    }
    // 30 legacy summaries with thresholds x 12 policy thresholds, less the empty rule_poll rows.
    assert!(compared >= 300, "only {compared} thresholds compared with k6");
}

fn key_dimension(name: &str) -> gatecheck::policy::threshold::Dimension {
    use gatecheck::policy::threshold::Dimension;
    if name.starts_with("http_req_duration") {
        Dimension::Duration { bare_millis: 1.0 }
    } else {
        Dimension::Ratio
    }
}

#[test]
fn exit_outcome_per_case_matches_what_the_release_owner_expects() {
    let expectations: BTreeMap<&str, bool> = [
        ("pass", false),
        ("fail-latency", true),
        ("fail-errors", true),
        ("rule-run-disabled", true), // rule_poll has no samples and nobody said it was off
        ("no-thresholds-p99-missing", true),
        ("trend-stats-p99", true),
        ("pass-trend-stats-p99", false),
        ("no-thresholds-flag", true),
        ("plain-text-summary", true),
    ]
    .into_iter()
    .collect();
    for (version, case, path) in legacy_summaries() {
        let verdict = verdict_for(&path, &PASSING_LAG);
        assert_eq!(
            verdict.blocked(),
            expectations[case.as_str()],
            "{version}/{case} {}: {}",
            path.display(),
            verdict.summary_line()
        );
    }
}

#[test]
fn breaches_fail_on_the_right_gate() {
    for version in VERSIONS {
        for file in ["summary-export.json", "handle-summary.json"] {
            let latency = verdict_for(&fixture(&format!("k6/{version}/fail-latency/{file}")), &PASSING_LAG);
            let failed: Vec<_> = statuses(&latency, Status::Fail);
            assert!(failed.contains(&"read-latency `p(95) < 400ms`".to_string()), "{version} {file}: {failed:?}");
            assert!(
                failed.iter().all(|f| f.starts_with("read-latency") || f.starts_with("k6-thresholds")),
                "{failed:?}"
            );
            let observed = &row(&latency, "read-latency", "p(95) < 400ms").observed;
            assert!(matches!(observed, Observed::Figure { value, .. } if *value >= 400.0), "{observed:?}");

            let errors = verdict_for(&fixture(&format!("k6/{version}/fail-errors/{file}")), &PASSING_LAG);
            let failed = statuses(&errors, Status::Fail);
            let gates: Vec<_> = failed.iter().filter(|f| !f.starts_with("k6-thresholds")).cloned().collect();
            assert_eq!(gates, vec!["write-errors `rate < 1%`", "write-checks `rate > 99%`"], "{version} {file}");
            let rate = &row(&errors, "write-errors", "rate < 1%").observed;
            assert!(matches!(rate, Observed::Figure { value, .. } if (*value - 3.0 / 62.0).abs() < 1e-12), "{rate:?}");
            // k6's own failed thresholds are rows of their own.
            let k6_rows: Vec<_> = failed.iter().filter(|f| f.starts_with("k6-thresholds")).collect();
            assert_eq!(k6_rows.len(), 2, "{failed:?}");
        }
    }
}

#[test]
fn p99_missing_uses_k6_verdict_and_never_guesses() {
    for version in VERSIONS {
        let path = fixture(&format!("k6/{version}/no-thresholds-p99-missing/summary-export.json"));
        let verdict = verdict_for(&path, &PASSING_LAG);
        let p99 = row(&verdict, "read-latency", "p(99) < 700ms");
        assert_eq!(p99.status, Status::Fail);
        assert_eq!(p99.observed, Observed::K6Verdict { passed: false });
        assert!(p99.source.contains("thresholds[\"p(99)<700\"]"), "{}", p99.source);
        assert_eq!(row(&verdict, "write-latency", "p(99) < 1000ms").observed, Observed::K6Verdict { passed: true });

        // With the trend stats asked for, the figure itself is used.
        let with_stats =
            verdict_for(&fixture(&format!("k6/{version}/trend-stats-p99/summary-export.json")), &PASSING_LAG);
        let p99 = row(&with_stats, "read-latency", "p(99) < 700ms");
        assert_eq!(p99.status, Status::Fail);
        assert!(
            matches!(p99.observed, Observed::Figure { value, .. } if value > 850.0 && value < 1000.0),
            "{:?}",
            p99.observed
        );

        // --no-thresholds: no figure and no k6 verdict, so NO DATA with the way to get it.
        let bare = verdict_for(&fixture(&format!("k6/{version}/no-thresholds-flag/summary-export.json")), &PASSING_LAG);
        let p99 = row(&bare, "read-latency", "p(99) < 700ms");
        assert_eq!(p99.status, Status::NoData);
        assert!(p99.blocking);
        assert!(p99.detail.as_deref().unwrap().contains("--summary-trend-stats"), "{:?}", p99.detail);
        assert_eq!(row(&bare, "read-latency", "p(95) < 400ms").status, Status::Fail);
        let k6 = row(&bare, "k6-thresholds", "every k6 threshold passed");
        assert_eq!(k6.status, Status::Skipped);
        assert!(k6.detail.as_deref().unwrap().contains("--no-thresholds"));
    }
}

#[test]
fn a_flow_switched_off_is_skipped_not_passed_and_an_empty_one_is_no_data() {
    for version in VERSIONS {
        for file in ["summary-export.json", "handle-summary.json", "summary-v1.json"] {
            let path = fixture(&format!("k6/{version}/rule-run-disabled/{file}"));
            if !path.exists() {
                continue;
            }
            let empty = verdict_for(&path, &PASSING_LAG);
            for (gate, check) in [("query-latency", "p(95) < 900ms"), ("query-errors", "rate < 1%")] {
                let r = row(&empty, gate, check);
                assert_eq!(r.status, Status::NoData, "{version} {file} {gate}");
                assert!(r.detail.as_deref().unwrap().contains("no samples"), "{:?}", r.detail);
            }
            let mut env = PASSING_LAG.to_vec();
            env.push(("PERF_ENABLE_RULE_RUN", "0"));
            let off = verdict_for(&path, &env);
            let skipped = statuses(&off, Status::Skipped);
            assert!(skipped.iter().any(|s| s.starts_with("query-latency")), "{version} {file}: {skipped:?}");
            assert!(off.rows.iter().filter(|r| r.gate.starts_with("query-")).all(|r| r.status == Status::Skipped));
            if file != "summary-v1.json" {
                assert!(!off.blocked(), "{version} {file}: {}", off.summary_line());
            }
        }
    }
}

#[test]
fn machine_readable_summary_is_read_and_its_gaps_are_no_data() {
    for case in CASES {
        let path = fixture(&format!("k6/2.2.0/{case}/summary-v1.json"));
        let verdict = verdict_for(&path, &PASSING_LAG);
        // p(99) and checks{flow:…} are never in this format: fail closed, never pass.
        for (gate, check) in [("read-latency", "p(99) < 700ms"), ("read-checks", "rate > 99%")] {
            let r = row(&verdict, gate, check);
            if case == "rule-run-disabled" && gate.starts_with("query") {
                continue;
            }
            assert_eq!(r.status, Status::NoData, "{case} {gate}");
            assert!(r.detail.as_deref().unwrap().contains("machine-readable"), "{:?}", r.detail);
        }
        assert!(verdict.blocked(), "{case}");
        // Every gate whose metric k6's log named as crossed shows up as FAIL or NO DATA; p(95) and
        // error rates are judged from the values.
        let crossed: Vec<String> = case_json("2.2.0", case)["machine_readable_summary_run"]
            ["thresholds_crossed_per_k6_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let policy = gatecheck::policy::load_file(&repo().join("gates/release.toml")).unwrap();
        for gate in &policy.gates {
            let Some((key, _)) = &gate.metric else {
                continue;
            };
            let rows: Vec<_> = verdict.rows.iter().filter(|r| r.gate == gate.id).collect();
            if crossed.iter().any(|c| MetricKey::parse(c).unwrap() == *key) {
                assert!(
                    rows.iter().any(|r| matches!(r.status, Status::Fail | Status::NoData)),
                    "{case} {}: k6 failed it",
                    gate.id
                );
            } else if case != "no-thresholds-flag" {
                // (with --no-thresholds k6 judged nothing, so its silence is no pass)
                assert!(rows.iter().all(|r| r.status != Status::Fail), "{case} {}: k6 passed it", gate.id);
            }
        }
    }
    let latency = verdict_for(&fixture("k6/2.2.0/fail-latency/summary-v1.json"), &PASSING_LAG);
    assert_eq!(row(&latency, "read-latency", "p(95) < 400ms").status, Status::Fail);
    let errors = verdict_for(&fixture("k6/2.2.0/fail-errors/summary-v1.json"), &PASSING_LAG);
    assert_eq!(row(&errors, "write-errors", "rate < 1%").status, Status::Fail);
    assert_eq!(row(&errors, "read-errors", "rate < 1%").status, Status::Pass);
}

#[test]
fn handle_summary_v1_parses_like_summary_v1() {
    for case in CASES {
        let a = gatecheck::sources::k6_summary::read(&fixture(&format!("k6/2.2.0/{case}/summary-v1.json"))).unwrap();
        let b_path = fixture(&format!("k6/2.2.0/{case}/handle-summary-v1.json"));
        if !b_path.exists() {
            continue;
        }
        let b = gatecheck::sources::k6_summary::read(&b_path).unwrap();
        let values = |set: &gatecheck::metrics::MetricSet| {
            set.metrics.iter().map(|(k, m)| (k.clone(), m.aggregate.clone())).collect::<Vec<_>>()
        };
        assert_eq!(values(&a), values(&b), "{case}");
    }
}

#[test]
fn export_and_handle_summary_of_one_run_give_the_same_verdict() {
    for version in VERSIONS {
        for case in CASES {
            let hs = fixture(&format!("k6/{version}/{case}/handle-summary.json"));
            if !hs.exists() {
                continue;
            }
            let a = verdict_for(&fixture(&format!("k6/{version}/{case}/summary-export.json")), &PASSING_LAG);
            let b = verdict_for(&hs, &PASSING_LAG);
            let shape = |v: &gatecheck::policy::verdict::Verdict| {
                v.rows
                    .iter()
                    .map(|r| (r.gate.clone(), r.check.clone(), r.status, r.observed.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(shape(&a), shape(&b), "{version}/{case}");
        }
    }
}

/// Finding round29-figures/04: one k6 run, several files, one `k6-thresholds` judgement. Under
/// a policy enforcing k6's verdicts, over every run of every fixture (k6 1.1.0 and 2.2.0, the
/// plain run and the `--new-machine-readable-summary` one) and every file it wrote:
/// - a run k6 failed (exit 99) blocks from each of its files;
/// - a file that records k6's verdicts passes (or skips: none defined) exactly when k6 exited 0;
/// - a file that records none (summary-v1.json, raw results) is NO DATA, blocking, since every
///   fixture run had thresholds: so no file of a run lets the row through while another of the
///   same run blocks, except one holding k6's own verdicts, all passed.
#[test]
fn the_k6_thresholds_row_of_one_run_is_one_judgement_whichever_file_is_given() {
    let policy = gatecheck::policy::parse(
        "enforce.toml",
        "enforce",
        "[k6_thresholds]\nenforce = true\n[[gate]]\nid = \"read-errors\"\nmetric = \"http_req_failed{flow:auth_list}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    let wanted = policy.metric_keys();
    let mut runs = 0;
    for version in VERSIONS {
        for case in CASES {
            for run in ["", "-v1"] {
                let dir = fixture(&format!("k6/{version}/{case}"));
                let Ok(exit) = std::fs::read_to_string(dir.join(format!("exit_code{run}.txt"))) else { continue };
                let exit: i32 = exit.trim().parse().unwrap();
                let files = [
                    format!("summary-export{run}.json"),
                    format!("handle-summary{run}.json"),
                    "summary-v1.json".to_string(),
                    format!("raw{run}.ndjson"),
                    format!("raw{run}.ndjson.gz"),
                ];
                let mut judged = Vec::new();
                for file in files.iter().filter(|f| run == "-v1" || *f != "summary-v1.json") {
                    let path = dir.join(file);
                    if !path.exists() {
                        continue;
                    }
                    let evidence = if file.starts_with("raw") {
                        let (set, _) = gatecheck::sources::k6_ndjson::read(&[path.as_path()], &wanted, false).unwrap();
                        gatecheck::policy::evaluate::Evidence { raw: Some(set), ..Default::default() }
                    } else {
                        let set = gatecheck::sources::k6_summary::read(&path).unwrap();
                        gatecheck::policy::evaluate::Evidence { summary: Some(set), ..Default::default() }
                    };
                    let carries = evidence.summary.as_ref().is_some_and(|s| s.carries_thresholds);
                    let verdict = gatecheck::policy::evaluate::evaluate(&policy, &evidence).unwrap();
                    let rows: Vec<_> = verdict.rows.iter().filter(|r| r.gate == "k6-thresholds").collect();
                    assert!(!rows.is_empty(), "{version}/{case}/{file}: no k6-thresholds row");
                    let blocks = rows.iter().any(|r| r.blocking);
                    let shown = format!("{version}/{case}/{file} (k6 exit {exit}): {rows:#?}");
                    if exit == 99 {
                        assert!(blocks, "a run k6 failed passes from {shown}");
                    }
                    if carries {
                        assert_eq!(!blocks, exit == 0, "k6's own verdicts read against its exit code: {shown}");
                    } else {
                        assert!(
                            rows.len() == 1 && rows[0].status == Status::NoData && blocks,
                            "no verdicts, and k6 had thresholds: {shown}"
                        );
                    }
                    judged.push((file.clone(), carries, blocks));
                }
                assert!(judged.len() >= 2, "{version}/{case}{run}: {judged:?}");
                if judged.iter().any(|(_, _, blocks)| *blocks) {
                    let through: Vec<_> = judged.iter().filter(|(_, carries, blocks)| !blocks && !carries).collect();
                    assert!(through.is_empty(), "{version}/{case}{run}: {through:?} let through, another file blocks");
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 27, "9 cases of 1.1.0, 9 plain and 9 machine-readable runs of 2.2.0");
}

/// Finding round38-figures/01, on REAL k6 1.1.0 output (`fixtures/k6/quoted-space-submetric`):
/// k6 reads the threshold `http_req_duration{flow:" auth_list"}` as the samples tagged
/// flow=" auth_list" (spaces trimmed first, then quotes, so the quoted space stays; its raw
/// results' declaration says `"tags":{"flow":" auth_list"}`), p(95) 5 ms; flow=auth_list's own
/// samples are 900 ms. gatecheck reads the key as k6 does: a gate on `{flow:auth_list}` has no
/// figure in the summary (NO DATA, exit 1; it passed on the 5 ms), the raw results judge it on
/// its 900 ms, and a gate on the quoted selector reads k6's figure, the summary and the raw
/// results of the run agreeing.
#[test]
fn a_sub_metric_with_a_quoted_space_is_the_tag_value_k6_reads() {
    let dir = fixture("k6/quoted-space-submetric");
    let policy = |selector: &str| {
        policy_file(&format!(
            "[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-latency\"\nmetric = '{selector}'\nthresholds = [\"p(95) < 400ms\"]\n"
        ))
    };
    let verify = |policy: &std::path::Path, inputs: &[(&str, &str)]| {
        let mut command = gatecheck();
        command.args(["verify", "--no-env", "--policy"]).arg(policy);
        for (flag, file) in inputs {
            command.arg(flag).arg(dir.join(file));
        }
        let out = command.output().unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (_g, plain) = policy("http_req_duration{flow:auth_list}");
    let (code, text) = verify(&plain, &[("--summary", "summary-export.json")]);
    assert!(code == Some(1) && table_line(&text, "read-latency", "p(95) < 400ms").contains("NO DATA"), "{text}");
    let (code, text) = verify(&plain, &[("--raw", "raw.ndjson")]);
    assert!(code == Some(1) && table_line(&text, "read-latency", "p(95) < 400ms").contains("FAIL"), "{text}");
    let (_g, quoted) = policy("http_req_duration{flow:\" auth_list\"}");
    for inputs in [
        &[("--summary", "summary-export.json")][..],
        &[("--raw", "raw.ndjson")][..],
        &[("--summary", "summary-export.json"), ("--raw", "raw.ndjson")][..],
    ] {
        let (code, text) = verify(&quoted, inputs);
        assert!(
            code == Some(0) && table_line(&text, "read-latency", "p(95) < 400ms").contains("PASS"),
            "{inputs:?}: {text}"
        );
    }
}
