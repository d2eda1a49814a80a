//! `gatecheck export prometheus-rules`, checked by the real tools: `promtool check rules`
//! accepts the file, and `promtool test rules` over the fixture's own series shows each alert
//! firing exactly when `gatecheck check --at T` fails (or finds NO DATA for) the same gate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::support::{fixture, gatecheck, record_skip, row, stderr_of, PrometheusFixture, FIXTURE_T};

/// True when promtool runs; outside CI a missing promtool is a recorded skip, in CI a failure.
fn promtool_installed() -> bool {
    let found = std::process::Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "promtool is not installed: `make test` installs it");
        record_skip("promtool is not installed (make test installs it)");
    }
    found
}

/// Writes a `promtool test rules` file at `path` and runs it; on failure, promtool's output.
fn promtool_test_rules(path: &std::path::Path, test: &serde_json::Value) -> Result<(), String> {
    std::fs::write(path, serde_yaml::to_string(test).unwrap()).unwrap();
    let run = std::process::Command::new("promtool").args(["test", "rules"]).arg(path).output().unwrap();
    if run.status.success() {
        return Ok(());
    }
    Err(format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr)))
}

fn export(dir: &Path, vars: &[&str], extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join("rules.yml");
    let mut command = gatecheck();
    command.args(["export", "prometheus-rules", "--policy", "gates/saturation.toml", "--out"]).arg(&out);
    for var in vars {
        command.args(["--var", var]);
    }
    command.args(extra).assert().success();
    out
}

#[test]
fn saturation_rules_pass_promtool_check_with_limits_on_the_query_scale() {
    let dir = tempfile::tempdir().unwrap();
    let rules = export(dir.path(), &[], &["--for", "5m"]);
    let text = std::fs::read_to_string(&rules).unwrap();
    // 400ms on a query in seconds is 0.4; 3% is 0.03; the DB pool's two statistics are recorded.
    // A quantile is read as check reads it: +Inf where observations lie above every bucket.
    assert!(text.contains(r#"{method="GET"}[10m])))) unless (sum without (le, gatecheck_inf)"#), "{text}");
    assert!(text.contains(r#" * 0 + Inf)) unless ((max without (le, gatecheck_inf)"#), "{text}");
    // Buckets that are not cumulative (no +Inf bucket, or one below a finite bucket or apart
    // from the `_count`) are -Inf, which the NoData alert reads as broken, as check's NO DATA.
    assert!(
        text.contains(
            r#"(rate(waxwatch_request_latency_seconds_count{method="GET"}[10m]))))) * 0 - Inf)), "exported_gate""#
        ),
        "{text}"
    );
    assert!(text.contains(r#""gatecheck_metric", "$1", "__name__", "(.+)")) >= 0.4"#), "{text}");
    // Every query keeps its series apart (findings round32-judge/01, /02).
    assert!(text.contains(r#"[1h])), "exported_gate", "$1", "gate", "(.+)")"#), "{text}");
    assert!(text.contains(r#""gatecheck_metric", "$1", "__name__", "(.+)")) >= 0.03"#), "{text}");
    // Recording rules carry the policy's name (issue 20: two policies' db-pool gates collided).
    assert!(
        text.contains("record: gatecheck:saturation:db_pool:p95")
            && text.contains("gatecheck:saturation:db_pool:max >= 0.85"),
        "{text}"
    );
    assert!(text.contains("alert: GatecheckApiQueryLatencyNoData") && text.contains("absent("), "{text}");
    assert!(text.contains("for: 5m") && text.contains("NO DATA, never 0"), "{text}");
    if !promtool_installed() {
        return;
    }
    let checked = std::process::Command::new("promtool").arg("check").arg("rules").arg(&rules).output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn export_refuses_a_bad_for_duration() {
    let assert = gatecheck()
        .args(["export", "prometheus-rules", "--policy", "gates/saturation.toml", "--for", "soon"])
        .assert()
        .code(2);
    assert!(crate::support::stderr_of(&assert).contains("--for"));
}

/// The fixture's OpenMetrics samples in promtool's series notation, one slot per 15 s from the
/// earliest sample (`_xN` for N slots without a sample), and that earliest time.
fn input_series(om: &str) -> (Vec<(String, String)>, i64) {
    let mut samples: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for line in om.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.rsplitn(3, ' ');
        let (Some(ts), Some(value), Some(series)) = (parts.next(), parts.next(), parts.next()) else { continue };
        samples.entry(series.to_string()).or_default().push((ts.parse().unwrap(), value.to_string()));
    }
    let t0 = samples.values().flatten().map(|(t, _)| *t).min().unwrap();
    let series = samples
        .into_iter()
        .map(|(name, points)| {
            let mut values = Vec::new();
            let mut slot = 0;
            for (t, value) in points {
                let at = (t - t0) / 15;
                assert_eq!((t - t0) % 15, 0, "the fixture samples on a 15 s grid");
                if at > slot {
                    values.push(format!("_x{}", at - slot));
                }
                values.push(value);
                slot = at + 1;
            }
            (name, values.join(" "))
        })
        .collect();
    (series, t0)
}

/// The labels an exported alert carries for the series a report shows on a row
/// (`{provider="discogs"}`, `up{job="a"}`), besides the rule's own: its metric name as
/// `gatecheck_metric`, and a label the rule sets itself also as `exported_<label>` (findings
/// round32-judge/01, /02).
fn series_labels(shown: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let Some(shown) = shown else { return labels };
    for (key, value) in gatecheck::metrics::LabelSet::parse(shown).unwrap().iter() {
        match key.as_str() {
            "__name__" => {
                labels.insert("gatecheck_metric".to_string(), value.clone());
            }
            "gate" | "policy" | "severity" | "gatecheck_severity" | "gatecheck_metric" => {
                labels.insert(format!("exported_{key}"), value.clone());
                labels.entry(key.clone()).or_insert(value.clone());
            }
            _ => {
                labels.insert(key.clone(), value.clone());
            }
        }
    }
    labels
}

/// The labels `rule`'s alert carries for the series `shown` (`lag`, `lag{instance="a"}`).
fn alert_labels(rule: &serde_yaml::Value, shown: &str) -> Value {
    let mut labels = series_labels(Some(shown));
    for (key, value) in rule["labels"].as_mapping().unwrap() {
        labels.insert(key.as_str().unwrap().into(), value.as_str().unwrap().into());
    }
    serde_json::to_value(labels).unwrap()
}

/// For one evaluation time (and window), the alerts the rules must fire: one per FAIL/WARN row
/// (threshold alert) and per blocking NO DATA row with no series (absent alert), from the
/// verdict gatecheck reached against the real Prometheus on the same data.
fn expected_alerts(rules: &serde_yaml::Value, verdict: &Value) -> BTreeMap<String, Vec<serde_yaml::Value>> {
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut by_key: BTreeMap<String, serde_yaml::Value> = BTreeMap::new();
    let alert_rules: Vec<&serde_yaml::Value> = rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .filter(|r| r.get("alert").is_some())
        .collect();
    for row in verdict["gates"].as_array().unwrap() {
        let gate = row["id"].as_str().unwrap();
        let status = row["verdict"].as_str().unwrap();
        let threshold = row["threshold"].as_str().unwrap_or_default();
        let detail = row["detail"].as_str().unwrap_or_default();
        let stat = threshold.split([' ', '<', '>', '=', '!']).next().unwrap_or_default();
        let rule = alert_rules.iter().find(|r| {
            let name = r["alert"].as_str().unwrap();
            let same_gate = r["labels"]["gate"].as_str() == Some(gate);
            let is_freshness = r["annotations"].get("statistic").is_none();
            match status {
                "FAIL" | "WARN" if is_freshness => same_gate,
                "FAIL" | "WARN" => same_gate && r["annotations"]["threshold"].as_str() == Some(threshold),
                s if s.starts_with("NO DATA") && row["blocking"] == true && is_freshness => same_gate,
                s if s.starts_with("NO DATA") && row["blocking"] == true && !detail.contains("coverage") => {
                    same_gate
                        && name.ends_with("NoData")
                        && r["annotations"]["statistic"]
                            .as_str()
                            .is_some_and(|s| s.replace(' ', "") == stat.replace(' ', ""))
                }
                _ => false,
            }
        });
        let Some(rule) = rule else { continue };
        let name = rule["alert"].as_str().unwrap().to_string();
        let mut labels = series_labels(row["series"].as_str());
        for (key, value) in rule["labels"].as_mapping().unwrap() {
            labels.insert(key.as_str().unwrap().into(), value.as_str().unwrap().into());
        }
        let key = format!("{name}{labels:?}");
        let mut alert = serde_yaml::Mapping::new();
        alert.insert("exp_labels".into(), serde_yaml::to_value(&labels).unwrap());
        alert.insert("exp_annotations".into(), rule["annotations"].clone());
        by_key.insert(key.clone(), serde_yaml::Value::Mapping(alert));
        expected.entry(name).or_default().insert(key);
    }
    let mut out: BTreeMap<String, Vec<serde_yaml::Value>> = BTreeMap::new();
    for rule in &alert_rules {
        let name = rule["alert"].as_str().unwrap().to_string();
        let alerts =
            expected.get(&name).map(|keys| keys.iter().map(|k| by_key[k].clone()).collect()).unwrap_or_default();
        out.insert(name, alerts);
    }
    out
}

#[test]
fn alerts_fire_exactly_when_gatecheck_check_fails_the_gate_on_the_fixture_data() {
    if !promtool_installed() {
        return;
    }
    let Some(prom) = PrometheusFixture::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let om = std::fs::read_to_string(fixture("prometheus/fixture.om")).unwrap();
    let (series, t0) = input_series(&om);
    let t: i64 = FIXTURE_T.parse().unwrap();
    let mut fired_somewhere = BTreeSet::new();
    let mut silent_somewhere = BTreeSet::new();
    // At T (the provider budget breaches, one latency gate has no series), over the incident's
    // 30 minute window (backlog and DB pool breach), and two days on (every query is empty).
    for (window, at) in [("10m", t), ("30m", t), ("10m", t + 2 * 86_400)] {
        let var = format!("window={window}");
        let case = dir.path().join(format!("{window}-{at}"));
        std::fs::create_dir_all(&case).unwrap();
        let report = case.join("verdict.json");
        let at_text = at.to_string();
        gatecheck()
            .args(["check", "--policy", "gates/saturation.toml", "--prometheus-url", &prom.url, "--at", &at_text])
            .args(["--var", &var, "--report"])
            .arg(format!("json={}", report.display()))
            .assert()
            .code(1);
        let verdict: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let rules_path = export(&case, &[&var], &[]);
        let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules_path).unwrap()).unwrap();
        let expected = expected_alerts(&rules, &verdict);
        let eval_time = format!("{}s", at - t0);
        let alert_tests: Vec<serde_json::Value> = expected
            .iter()
            .map(|(name, alerts)| {
                if alerts.is_empty() {
                    silent_somewhere.insert(name.clone());
                } else {
                    fired_somewhere.insert(name.clone());
                }
                serde_json::json!({"eval_time": eval_time, "alertname": name, "exp_alerts": serde_json::to_value(alerts).unwrap()})
            })
            .collect();
        let input: Vec<serde_json::Value> =
            series.iter().map(|(s, values)| serde_json::json!({"series": s, "values": values})).collect();
        let test = serde_json::json!({
            "rule_files": [rules_path.display().to_string()],
            // Without `for`, an alert at eval_time depends on that evaluation alone: evaluating
            // only there keeps promtool from stepping through a day of 15 s evaluations.
            "evaluation_interval": eval_time,
            "tests": [{"interval": "15s", "input_series": input, "alert_rule_test": alert_tests}],
        });
        if let Err(promtool) = promtool_test_rules(&case.join("test.yml"), &test) {
            panic!(
                "window {window} at {at}: the alerts disagree with gatecheck's verdict\n{promtool}\nverdict:\n{}",
                serde_json::to_string_pretty(&verdict["gates"]).unwrap()
            );
        }
    }
    // Every kind of alert is seen firing somewhere and silent somewhere (the rule-run path has
    // no series in the fixture, so its absent() alert fires throughout).
    assert!(fired_somewhere.contains("GatecheckApiQueryLatencyNoData"), "{fired_somewhere:?}");
    for name in [
        "GatecheckProviderErrors1h",
        "GatecheckEmailBacklog",
        "GatecheckDbPoolP95",
        "GatecheckApiReadLatencyNoData",
        "GatecheckApiFreshness",
    ] {
        assert!(fired_somewhere.contains(name), "{name} never fired: {fired_somewhere:?}");
        assert!(silent_somewhere.contains(name), "{name} never silent");
    }
}

/// A policy over synthetic series, each alert seen at its exact limit: `p(95) < 400ms` on a
/// query in seconds fires at 0.4 (not below it), `value < 3%` at 0.03, each of two recorded
/// statistics on its own, and absent() only where NO DATA blocks.
#[test]
fn each_alert_fires_at_its_exact_limit_and_absent_only_where_no_data_blocks() {
    if !promtool_installed() {
        return;
    }
    let (dir, policy) = crate::support::policy_file(
        r#"
[policy]
name = "synthetic"

[[gate]]
id = "latency"
description = "Latency in seconds"
query = "latency_seconds"
unit = "s"
thresholds = ["p(95) < 400ms"]

[[gate]]
id = "errors"
description = "Error ratio"
query = "error_ratio"
unit = "ratio"
thresholds = ["value < 3%"]
on_missing = "warn"

[[gate]]
id = "pool"
description = "Pool utilisation"
unit = "ratio"
thresholds = ["p(95) < 0.70", "max < 0.85"]
[gate.query]
"p(95)" = "pool_p95"
max = "pool_max"
"#,
    );
    let rules_path = dir.path().join("rules.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules_path)
        .assert()
        .success();
    let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules_path).unwrap()).unwrap();
    let alerts: Vec<&serde_yaml::Value> = rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .filter(|r| r.get("alert").is_some())
        .collect();
    let names: BTreeSet<&str> = alerts.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    // NO DATA warns for the error ratio, so its NoData alert has no absent() term: it fires only
    // on doubtful evidence, which blocks whatever on_missing says (finding round40-judge/01).
    assert!(names.contains("GatecheckErrorsNoData") && names.contains("GatecheckLatencyNoData"), "{names:?}");
    let errors_no_data = alerts.iter().find(|r| r["alert"].as_str() == Some("GatecheckErrorsNoData")).unwrap();
    assert!(!errors_no_data["expr"].as_str().unwrap().contains("absent("), "{errors_no_data:?}");
    let firing: [(&str, &[&str]); 4] = [
        ("0m", &[]),
        ("1m", &["GatecheckLatency", "GatecheckErrors", "GatecheckPoolP95"]),
        ("2m", &["GatecheckPoolMax"]),
        ("10m", &["GatecheckLatencyNoData", "GatecheckPoolP95NoData", "GatecheckPoolMaxNoData"]),
    ];
    let mut tests = Vec::new();
    for (at, fired) in firing {
        for rule in &alerts {
            let name = rule["alert"].as_str().unwrap();
            let expected: Vec<serde_json::Value> = if fired.contains(&name) {
                // A firing threshold's series keeps its metric name (absent() has none).
                let metric = [
                    ("GatecheckLatency", "latency_seconds"),
                    ("GatecheckErrors", "error_ratio"),
                    ("GatecheckPoolP95", "pool_p95"),
                    ("GatecheckPoolMax", "pool_max"),
                ]
                .into_iter()
                .find(|(alert, _)| *alert == name);
                let mut labels: BTreeMap<String, String> = metric
                    .map(|(_, metric)| ("gatecheck_metric".to_string(), metric.to_string()))
                    .into_iter()
                    .collect();
                for (key, value) in rule["labels"].as_mapping().unwrap() {
                    labels.insert(key.as_str().unwrap().into(), value.as_str().unwrap().into());
                }
                vec![
                    serde_json::json!({"exp_labels": labels, "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap()}),
                ]
            } else {
                Vec::new()
            };
            tests.push(serde_json::json!({"eval_time": at, "alertname": name, "exp_alerts": expected}));
        }
    }
    let series = [
        ("latency_seconds", "0.399 0.4 0.3"),
        ("error_ratio", "0.029 0.03 0.029"),
        ("pool_p95", "0.69 0.7 0.5"),
        ("pool_max", "0.84 0.84 0.85"),
    ];
    let input: Vec<serde_json::Value> =
        series.iter().map(|(s, v)| serde_json::json!({"series": s, "values": v})).collect();
    let test = serde_json::json!({
        "rule_files": [rules_path.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests}],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}\n{}", std::fs::read_to_string(&rules_path).unwrap());
    }
}

/// Exported alerts agree with `check` where the old ones did not: `reduce = "avg"` over an
/// idle instance's NaN series (check leaves NaN out and blocks; the alert was NaN and silent),
/// and two policies with a `db-pool` gate (their recording rules collided: "duplicate sample
/// for timestamp", and one service's alert read the other's figure). `db-pool` and `db_pool`
/// in one policy are refused.
#[test]
fn exported_rules_agree_with_check_on_nan_series_and_keep_policies_apart() {
    let policy_text = |name: &str, svc: &str| {
        format!(
            r#"
[policy]
name = "{name}"

[[gate]]
id = "db-pool"
description = "Pool utilisation of {svc}"
unit = "ratio"
thresholds = ["p(95) < 0.70", "max < 0.85"]
[gate.query]
"p(95)" = 'pool_p95{{svc="{svc}"}}'
max = 'pool_max{{svc="{svc}"}}'

[[gate]]
id = "util"
description = "Mean utilisation of {svc}'s instances"
query = 'util{{svc="{svc}"}}'
reduce = "avg"
unit = "ratio"
thresholds = ["value < 0.5"]
"#
        )
    };
    // check itself: the NaN series is left out, so the mean is 0.9 and the gate fails.
    let policy = gatecheck::policy::parse("a.toml", "svc-a", &policy_text("svc-a", "a")).unwrap();
    let series = |value: f64, instance: &str| gatecheck::policy::evaluate::Series {
        labels: [("instance".to_string(), instance.to_string())].into(),
        value,
    };
    let mut evidence = gatecheck::policy::evaluate::Evidence::default();
    for (_, query) in policy.queries() {
        let values = if query.starts_with("util") {
            vec![series(0.9, "busy"), series(f64::NAN, "idle")]
        } else {
            vec![series(0.1, "x")]
        };
        evidence.queries.insert(
            query,
            gatecheck::policy::evaluate::QueryResult {
                series: values,
                histograms: vec![],
                at: "t".into(),
                warnings: vec![],
            },
        );
    }
    let verdict = gatecheck::policy::evaluate::evaluate(&policy, &evidence).unwrap();
    assert_eq!(row(&verdict, "util", "value < 0.5").status, gatecheck::policy::verdict::Status::Fail);

    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, svc) in [("svc-a", "a"), ("svc-b", "b")] {
        let policy = dir.path().join(format!("{name}.toml"));
        std::fs::write(&policy, policy_text(name, svc)).unwrap();
        let out = dir.path().join(format!("{name}.yml"));
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        files.push(out);
    }
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        // `svc-a` is no rule-name part as it is: its snake form and a digest of it stand for it.
        text.lines().any(|l| l.contains("record: gatecheck:svc_a_") && l.ends_with(":db_pool:p95"))
            && text.contains(r#"avg((label_replace(label_replace(label_replace(label_replace(label_replace(label_replace(util{svc="a"}, "exported_gate""#)
            && text.contains(r#""gatecheck_metric", "$1", "__name__", "(.+)")) >= -Inf)"#),
        "{text}"
    );
    // Within one policy, ids that read the same in a rule name are refused.
    let clash = policy_text("svc-a", "a").replace("id = \"util\"", "id = \"db_pool\"");
    let (_guard, clash) = crate::support::policy_file(&clash);
    let err = stderr_of(&gatecheck().args(["export", "prometheus-rules", "--policy"]).arg(&clash).assert().code(2));
    assert!(err.contains("\"db-pool\" and \"db_pool\""), "{err}");

    if !promtool_installed() {
        return;
    }
    // svc-a breaches both gates; svc-b holds (its pool is idle, one instance NaN).
    let fired: [(&str, &str); 2] = [("svc-a", "GatecheckDbPoolP95"), ("svc-a", "GatecheckUtil")];
    let mut expected: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for file in &files {
        let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for rule in rules["groups"].as_sequence().unwrap().iter().flat_map(|g| g["rules"].as_sequence().unwrap()) {
            let Some(name) = rule.get("alert").and_then(|a| a.as_str()) else { continue };
            let entry = expected.entry(name.to_string()).or_default();
            if fired.contains(&(rule["labels"]["policy"].as_str().unwrap(), name)) {
                let mut labels = serde_json::to_value(&rule["labels"]).unwrap();
                // An unreduced query's alert carries its series' labels, as check's row does.
                if name == "GatecheckDbPoolP95" {
                    labels["svc"] = "a".into();
                    labels["gatecheck_metric"] = "pool_p95".into();
                }
                entry.push(serde_json::json!({
                    "exp_labels": labels,
                    "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
                }));
            }
        }
    }
    let tests: Vec<serde_json::Value> = expected
        .into_iter()
        .map(|(name, alerts)| serde_json::json!({"eval_time": "1m", "alertname": name, "exp_alerts": alerts}))
        .collect();
    let input = serde_json::json!([
        {"series": "pool_p95{svc=\"a\"}", "values": "0.9 0.9"},
        {"series": "pool_max{svc=\"a\"}", "values": "0.1 0.1"},
        {"series": "pool_p95{svc=\"b\"}", "values": "0.1 0.1"},
        {"series": "pool_max{svc=\"b\"}", "values": "0.1 0.1"},
        {"series": "util{svc=\"a\",instance=\"busy\"}", "values": "0.9 0.9"},
        {"series": "util{svc=\"a\",instance=\"idle\"}", "values": "NaN NaN"},
        {"series": "util{svc=\"b\",instance=\"busy\"}", "values": "0.2 0.2"},
        {"series": "util{svc=\"b\",instance=\"idle\"}", "values": "NaN NaN"},
    ]);
    let test = serde_json::json!({
        "rule_files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests}],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}\n{}", std::fs::read_to_string(&files[0]).unwrap());
    }
}

/// The class: over generated gates (operator, limit, reducer, on_missing, severity) and generated
/// series (numbers, the limit itself, NaN, none), `promtool test rules` fires exactly the alerts
/// for which `check`'s evaluator fails (or warns on) a row (threshold alert, with the series'
/// labels), blocks on NO DATA (`…NoData`) or judges no gate (`GatecheckNothingJudged`, finding
/// judge5/04; policies of a few gates reach that state often, 24 gates almost never). Each
/// proptest case is one policy and one promtool run.
mod exported_alerts_agree_with_check {
    use super::*;
    use gatecheck::policy::evaluate::{evaluate, Evidence, QueryResult, Series};
    use gatecheck::policy::verdict::Status;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Case {
        op: &'static str,
        limit: &'static str,
        reduce: Option<&'static str>,
        on_missing: &'static str,
        block: bool,
        /// None: NaN; Some(None): the limit itself; Some(Some(v)): a number.
        values: Vec<Option<Option<&'static str>>>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            prop::sample::select(vec!["<", "<=", ">", ">="]),
            prop::sample::select(vec!["0.3", "0.5", "0.7"]),
            prop::sample::select(vec![None, Some("max"), Some("min"), Some("sum"), Some("avg")]),
            prop::sample::select(vec!["fail", "warn", "skip"]),
            any::<bool>(),
            prop::collection::vec(
                prop_oneof![
                    Just(None),
                    Just(Some(None)),
                    prop::sample::select(vec!["0.2", "0.6", "1"]).prop_map(|v| Some(Some(v)))
                ],
                0..4,
            ),
        )
            .prop_map(|(op, limit, reduce, on_missing, block, values)| Case {
                op,
                limit,
                reduce,
                on_missing,
                block,
                values,
            })
    }

    fn value_text(case: &Case, value: &Option<Option<&'static str>>) -> &'static str {
        match value {
            None => "NaN",
            // Reducers would add or average the limit with others: floating sums are not exact.
            Some(None) if case.reduce.is_some() => "0.2",
            Some(None) => case.limit,
            Some(Some(v)) => v,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4))]
        #[test]
        fn promtool_fires_exactly_what_check_fails(cases in prop::collection::vec(case(), 24)) {
            agree(&cases)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn promtool_fires_exactly_what_check_fails_in_small_policies(cases in prop::collection::vec(case(), 1..4)) {
            agree(&cases)?;
        }
    }

    fn agree(cases: &[Case]) -> Result<(), TestCaseError> {
        if !promtool_installed() {
            return Ok(());
        }
        let mut text = String::from("[policy]\nname = \"generated\"\n");
        for (i, case) in cases.iter().enumerate() {
            text.push_str(&format!(
                    "[[gate]]\nid = \"g{i}\"\nquery = 'm{i}'\nunit = \"number\"\nthresholds = [\"value {} {}\"]\non_missing = \"{}\"\nseverity = \"{}\"\n",
                    case.op,
                    case.limit,
                    case.on_missing,
                    if case.block { "block" } else { "warn" }
                ));
            if let Some(reduce) = case.reduce {
                text.push_str(&format!("reduce = \"{reduce}\"\n"));
            }
        }
        let policy = gatecheck::policy::parse("generated.toml", "generated", &text).unwrap();
        let mut evidence = Evidence::default();
        let mut input = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let mut series = Vec::new();
            for (j, value) in case.values.iter().enumerate() {
                let shown = value_text(case, value);
                series.push(Series {
                    labels: [("__name__".to_string(), format!("m{i}")), ("instance".to_string(), format!("s{j}"))]
                        .into(),
                    value: shown.parse::<f64>().unwrap(),
                });
                input.push(serde_json::json!({"series": format!("m{i}{{instance=\"s{j}\"}}"), "values": format!("{shown} {shown}")}));
            }
            evidence
                .queries
                .insert(format!("m{i}"), QueryResult { series, histograms: vec![], at: "t".into(), warnings: vec![] });
        }
        let verdict = evaluate(&policy, &evidence).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let policy_path = dir.path().join("generated.toml");
        std::fs::write(&policy_path, &text).unwrap();
        let rules_path = dir.path().join("rules.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy_path)
            .arg("--out")
            .arg(&rules_path)
            .assert()
            .success();
        let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules_path).unwrap()).unwrap();
        let mut tests = Vec::new();
        // A critical alert fires exactly when check blocks, whatever row blocks it: an alert
        // checked only where one is written would miss a state no rule covers.
        let mut critical_alert = false;
        for rule in rules["groups"].as_sequence().unwrap().iter().flat_map(|g| g["rules"].as_sequence().unwrap()) {
            let Some(name) = rule.get("alert").and_then(|a| a.as_str()) else { continue };
            let gate = rule["labels"]["gate"].as_str().unwrap();
            let no_data = name.ends_with("NoData") || name == "GatecheckNothingJudged";
            let mut expected = Vec::new();
            for row in verdict.rows.iter().filter(|r| r.gate == gate) {
                let fires = match no_data {
                    true => row.status == Status::NoData && row.blocking,
                    false => matches!(row.status, Status::Fail | Status::Warn),
                };
                if !fires {
                    continue;
                }
                let mut labels = serde_json::to_value(&rule["labels"]).unwrap();
                // An unreduced row judges one series: its alert carries that series' labels,
                // its metric name (`m0{instance="s0"}`) as `gatecheck_metric`.
                for (key, value) in series_labels(row.series.as_deref()) {
                    labels[key.as_str()] = value.into();
                }
                expected.push(serde_json::json!({
                    "exp_labels": labels,
                    "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
                }));
            }
            critical_alert |= !expected.is_empty() && rule["labels"]["severity"].as_str() == Some("critical");
            tests.push(serde_json::json!({"eval_time": "1m", "alertname": name, "exp_alerts": expected}));
        }
        let blocks = verdict.rows.iter().any(|r| r.blocking);
        prop_assert_eq!(critical_alert, blocks, "{:#?}\n{}", verdict.rows, text);
        let test = serde_json::json!({
            "rule_files": [rules_path.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": tests}],
        });
        let promtool = promtool_test_rules(&dir.path().join("test.yml"), &test).err().unwrap_or_default();
        prop_assert!(promtool.is_empty(), "{promtool}\n{}", text);
        Ok(())
    }
}

/// Finding judgement/07: an exported alert reads a `histogram_quantile` as `check` judges it.
/// With 3 of 100 lags above the highest finite bucket, Prometheus answers 10 s for the max and
/// a plain `> 180` alert stays silent while `check` blocks; the exported expression makes those
/// series +Inf, so the alert fires, and stays silent where every observation is bounded.
#[test]
fn an_exported_quantile_alert_fires_when_observations_lie_above_every_finite_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("lag.toml");
    std::fs::write(
        &policy,
        r#"
[policy]
name = "lag"

[[gate]]
id = "lag"
description = "Scheduler lag"
unit = "s"
thresholds = ["max < 180s", "p(95) < 60s"]
[gate.query]
max = 'histogram_quantile(1, sum by (le, svc) (lag_bucket))'
"p(95)" = 'histogram_quantile(0.95, sum by (le, svc) (lag_bucket))'
"#,
    )
    .unwrap();
    let rules = dir.path().join("lag.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(
        text.contains(r#"and on (gatecheck_inf) label_replace(vector(0), "gatecheck_inf", "1", "", "")"#),
        "{text}"
    );
    if !promtool_installed() {
        return;
    }
    let file: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let alert = |name: &str| {
        file["groups"][0]["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(name))
            .unwrap_or_else(|| panic!("no alert {name} in {text}"))
            .clone()
    };
    let max_alert = alert("GatecheckLagMax");
    let mut labels = serde_json::to_value(&max_alert["labels"]).unwrap();
    labels["svc"] = "late".into();
    let test = serde_json::json!({
        "rule_files": [rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": "lag_bucket{svc=\"late\",le=\"10\"}", "values": "97 97"},
                // An infinite bound in another spelling Go reads as +Inf (finding judgement2/04).
                {"series": "lag_bucket{svc=\"late\",le=\"Infinity\"}", "values": "100 100"},
                {"series": "lag_bucket{svc=\"bounded\",le=\"10\"}", "values": "100 100"},
                {"series": "lag_bucket{svc=\"bounded\",le=\"+Inf\"}", "values": "100 100"},
            ],
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "GatecheckLagMax", "exp_alerts": [{
                    "exp_labels": labels,
                    "exp_annotations": serde_json::to_value(&max_alert["annotations"]).unwrap(),
                }]},
                // The 95th percentile's rank lies within the finite buckets: silent, as check passes it.
                {"eval_time": "1m", "alertname": "GatecheckLagP95", "exp_alerts": []},
            ],
        }],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}\n{text}");
    }
}

/// Finding text2/11: a gate's description is text in the alert's annotations, never a Go
/// template: `{{service}}` once made promtool refuse the whole file (export exited 0) and
/// `{{ query "..." }}` would be run by Prometheus. The rendered annotation reads as written.
#[test]
fn descriptions_are_annotation_text_never_templates() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("t.toml");
    let description = r#"Lag of {{service}} and {{ query "count(up)" }}"#;
    std::fs::write(
        &policy,
        format!(
            "[policy]\nname = \"t\"\n[[gate]]\nid = \"lag\"\ndescription = '{description}'\nunit = \"number\"\nquery = 'lag'\nthresholds = [\"value < 5\"]\n"
        ),
    )
    .unwrap();
    let rules = dir.path().join("t.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    if !promtool_installed() {
        return;
    }
    let checked = std::process::Command::new("promtool").arg("check").arg("rules").arg(&rules).output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let alert =
        file["groups"][0]["rules"].as_sequence().unwrap().iter().find(|r| r.get("alert").is_some()).unwrap().clone();
    let mut annotations = serde_json::to_value(&alert["annotations"]).unwrap();
    // What people read once Prometheus renders it: the description as written.
    annotations["summary"] = serde_json::Value::from(format!("{description}: `value < 5` is breached"));
    let test = serde_json::json!({
        "rule_files": [rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": "lag", "values": "9 9"}],
            "alert_rule_test": [{"eval_time": "1m", "alertname": alert["alert"].as_str().unwrap(), "exp_alerts": [{
                "exp_labels": alert_labels(&alert, "lag"),
                "exp_annotations": annotations,
            }]}],
        }],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}");
    }
}

/// Finding judgement2/01: a figure outside its domain is NO DATA to `check` (it blocks), and the
/// exported `…NoData` alert fires for it too: a ratio of -1%, -Inf, and +Inf against a lower
/// bound; a figure in its domain leaves it silent.
#[test]
fn an_out_of_domain_figure_fires_the_no_data_alert_as_check_blocks_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("d.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"d\"\n[[gate]]\nid = \"errors\"\nunit = \"ratio\"\nquery = 'err_ratio'\nthresholds = [\"value < 3%\"]\n[[gate]]\nid = \"success\"\nunit = \"ratio\"\nquery = 'ok_ratio'\nthresholds = [\"value > 90%\"]\n",
    )
    .unwrap();
    let rules = dir.path().join("d.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    if !promtool_installed() {
        return;
    }
    let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let alert = |name: &str| {
        file["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(name))
            .unwrap_or_else(|| panic!("no alert {name}"))
            .clone()
    };
    let fired = |name: &str, series: &str| {
        let rule = alert(name);
        serde_json::json!([{
            "exp_labels": alert_labels(&rule, series),
            "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
        }])
    };
    // err_ratio -1% (below 0), ok_ratio +Inf (against a lower bound): both NO DATA.
    let cases = [
        ("-0.01", "Inf", fired("GatecheckErrorsNoData", "err_ratio"), fired("GatecheckSuccessNoData", "ok_ratio")),
        ("-Inf", "0.95", fired("GatecheckErrorsNoData", "err_ratio"), serde_json::json!([])),
        ("0.01", "0.95", serde_json::json!([]), serde_json::json!([])),
    ];
    for (err, ok, errors_alerts, success_alerts) in cases {
        let test = serde_json::json!({
            "rule_files": [rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": [
                    {"series": "err_ratio", "values": format!("{err} {err}")},
                    {"series": "ok_ratio", "values": format!("{ok} {ok}")},
                ],
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "GatecheckErrorsNoData", "exp_alerts": errors_alerts},
                    {"eval_time": "1m", "alertname": "GatecheckSuccessNoData", "exp_alerts": success_alerts},
                ],
            }],
        });
        if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
            panic!("err {err}, ok {ok}: {promtool}\n{}", std::fs::read_to_string(&rules).unwrap());
        }
    }
}

/// Finding judgement3/01: a reduced gate checks each series before reducing (check blocks on a
/// -5 s series even when the max is 6.5 s); the exported NoData alert reads the series too.
#[test]
fn a_reduced_gates_no_data_alert_sees_an_out_of_domain_series() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("r.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"r\"\n[[gate]]\nid = \"lag\"\nunit = \"s\"\nquery = 'lag_seconds'\nreduce = \"max\"\nthresholds = [\"value < 10s\"]\n",
    )
    .unwrap();
    let rules = dir.path().join("r.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    if !promtool_installed() {
        return;
    }
    let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let rule = file["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some("GatecheckLagNoData"))
        .unwrap()
        .clone();
    let labels = alert_labels(&rule, "lag_seconds{instance=\"a\"}");
    let test = serde_json::json!({
        "rule_files": [rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": "lag_seconds{instance=\"a\"}", "values": "-5 -5"},
                {"series": "lag_seconds{instance=\"b\"}", "values": "6.5 6.5"},
            ],
            "alert_rule_test": [{"eval_time": "1m", "alertname": "GatecheckLagNoData", "exp_alerts": [{
                "exp_labels": labels,
                "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
            }]}],
        }],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}\n{}", std::fs::read_to_string(&rules).unwrap());
    }
}

/// Finding round40-judge/01: doubtful evidence (a figure outside what it can be) blocks in check
/// whatever `on_missing` says, so a `warn` or `skip` gate's exported NoData alert fires on it
/// (a -4 s lag from clock skew), and stays silent where check only warns or skips (no series).
#[test]
fn a_warn_or_skip_gates_no_data_alert_fires_on_doubtful_evidence_only() {
    for on_missing in ["warn", "skip"] {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("r.toml");
        std::fs::write(
            &policy,
            format!("[policy]\nname = \"r\"\n[[gate]]\nid = \"lag\"\nunit = \"s\"\nquery = 'lag_seconds'\nthresholds = [\"value < 30s\"]\non_missing = \"{on_missing}\"\n"),
        )
        .unwrap();
        let rules = dir.path().join("r.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(&rules)
            .assert()
            .success();
        let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
        let rule = file["groups"][0]["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some("GatecheckLagNoData"))
            .unwrap_or_else(|| panic!("{on_missing}: no NoData alert\n{}", std::fs::read_to_string(&rules).unwrap()))
            .clone();
        let expr = rule["expr"].as_str().unwrap();
        assert!(!expr.contains("absent("), "{on_missing}: absence does not block: {expr}");
        if !promtool_installed() {
            return;
        }
        let labels = alert_labels(&rule, "lag_seconds{instance=\"a\"}");
        let test = serde_json::json!({
            "rule_files": [rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [{"series": "lag_seconds{instance=\"a\"}", "values": "-4 -4"}],
                    "alert_rule_test": [{"eval_time": "1m", "alertname": "GatecheckLagNoData", "exp_alerts": [{
                        "exp_labels": labels,
                        "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
                    }]}],
                },
                {
                    "interval": "1m",
                    "input_series": [{"series": "other{instance=\"a\"}", "values": "1 1"}],
                    "alert_rule_test": [{"eval_time": "1m", "alertname": "GatecheckLagNoData", "exp_alerts": []}],
                },
            ],
        });
        if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
            panic!("{on_missing}: {promtool}\n{}", std::fs::read_to_string(&rules).unwrap());
        }
    }
}

/// Finding judge4/03: `!=` is true for NaN, which check judges NO DATA: an `==` gate's alert
/// stays silent on NaN as every other comparison does, and fires on another value.
#[test]
fn an_equality_gates_alert_is_silent_on_nan() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("e.toml");
    std::fs::write(&policy, "[policy]\nname = \"e\"\n[[gate]]\nid = \"replicas\"\nunit = \"number\"\nquery = 'ready'\nthresholds = [\"value == 1\"]\non_missing = \"warn\"\n").unwrap();
    let rules = dir.path().join("e.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    if !promtool_installed() {
        return;
    }
    let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let rule =
        file["groups"][0]["rules"].as_sequence().unwrap().iter().find(|r| r.get("alert").is_some()).unwrap().clone();
    for (value, fires) in [("NaN", false), ("2", true), ("1", false)] {
        let expected = if fires {
            serde_json::json!([{
                "exp_labels": alert_labels(&rule, "ready"),
                "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
            }])
        } else {
            serde_json::json!([])
        };
        let test = serde_json::json!({
            "rule_files": [rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": [{"series": "ready", "values": format!("{value} {value}")}],
                "alert_rule_test": [{"eval_time": "1m", "alertname": rule["alert"].as_str().unwrap(), "exp_alerts": expected}],
            }],
        });
        if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
            panic!("{value}: {promtool}");
        }
    }
}

/// Finding judge4/08: a freshness max_age beyond Prometheus's 5-minute lookback (distributed's
/// 10m): check finds an older newest sample by its search and passes it; the exported alert
/// does too, instead of paging from minute 5 on `absent()`.
#[test]
fn a_freshness_alert_beyond_the_lookback_waits_for_its_max_age() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("f.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"f\"\n[[freshness]]\nid = \"pushes\"\nselector = 'up'\nmax_age = \"10m\"\n[[gate]]\nid = \"g\"\nunit = \"number\"\nquery = 'up'\nthresholds = [\"value > 0\"]\non_missing = \"warn\"\n",
    )
    .unwrap();
    let rules = dir.path().join("f.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    if !promtool_installed() {
        return;
    }
    let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let rule = file["groups"][0]["rules"][0].clone();
    assert_eq!(rule["alert"].as_str(), Some("GatecheckPushes"), "{rule:?}");
    let fired = serde_json::json!([{
        "exp_labels": serde_json::to_value(&rule["labels"]).unwrap(),
        "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
    }]);
    let test = serde_json::json!({
        "rule_files": [rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            // Samples at 0 and 1m, then none: 6 minutes old at 7m, 11 at 12m.
            "input_series": [{"series": "up", "values": "1 1"}],
            "alert_rule_test": [
                {"eval_time": "7m", "alertname": "GatecheckPushes", "exp_alerts": []},
                {"eval_time": "12m", "alertname": "GatecheckPushes", "exp_alerts": fired},
            ],
        }],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("{promtool}\n{}", std::fs::read_to_string(&rules).unwrap());
    }
}

/// Finding round31-judge/01: a heartbeat scraped every 15 s whose `up_for` window holds only
/// NaN (measured nothing) is NO DATA in check, which blocks; the freshness alert fires too,
/// where its `min_over_time(...) < 1` alone is false on NaN. So does a window with no sample at
/// all while the newest one is still younger than `max_age` (no age term fires).
#[test]
fn a_freshness_alert_fires_where_its_up_for_window_holds_only_nan_or_nothing() {
    let nan_after_a_minute = format!("1x4{}", " NaN".repeat(77));
    freshness_alerts_agree_with_check::assert_blocked_and_alerted(
        "2m",
        "10m",
        std::slice::from_ref(&nan_after_a_minute),
    );
    freshness_alerts_agree_with_check::assert_blocked_and_alerted(
        "15m",
        "3m",
        &[nan_after_a_minute, format!("1x66{}", " _".repeat(14))],
    );
}

/// The class of finding round31-judge/01: over generated heartbeats whose `up_for` window holds
/// ones, zeros, NaN only, NaN among ones, and stretches with no sample, and over `max_age` and
/// `up_for` on either side of each other, the exported freshness alert fires exactly where
/// check (`gatecheck test`, a real Prometheus) blocks, and no other alert fires. Each proptest
/// case is one policy, one Prometheus and one promtool run.
mod freshness_alerts_agree_with_check {
    use super::*;
    use proptest::prelude::*;

    /// Seven samples 15 s apart: NaN only, NaN among ones, ones, a zero among NaN, none.
    fn block() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            3 => Just("NaN NaN NaN NaN NaN NaN NaN"),
            2 => Just("1 NaN 1 NaN NaN 1 NaN"),
            2 => Just("1 1 1 1 1 1 1"),
            1 => Just("0 NaN NaN 1 1 1 1"),
            1 => Just("_ _ _ _ _ _ _"),
        ]
    }

    /// 81 samples, 0 to 20m: ones to 9m30s, then six generated blocks.
    fn heartbeat() -> impl Strategy<Value = String> {
        prop::collection::vec(block(), 6).prop_map(|blocks| format!("1x38 {}", blocks.join(" ")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        #[test]
        fn the_freshness_alert_fires_exactly_where_check_blocks(
            limits in prop::sample::select(vec![("2m", "10m"), ("15m", "3m"), ("1m", "5m")]),
            heartbeats in prop::collection::vec(heartbeat(), 6),
        ) {
            agree(limits.0, limits.1, &heartbeats)?;
        }
    }

    /// Agreement on `heartbeats`, each of which check blocks.
    pub fn assert_blocked_and_alerted(max_age: &str, up_for: &str, heartbeats: &[String]) {
        match agree(max_age, up_for, heartbeats) {
            Ok(blocked) => assert!(blocked.iter().all(|b| *b), "check let some pass: {blocked:?} {heartbeats:?}"),
            Err(why) => panic!("{why}"),
        }
    }

    /// Whether check blocked on each heartbeat, once the alerts agreed with it on each.
    fn agree(max_age: &str, up_for: &str, heartbeats: &[String]) -> Result<Vec<bool>, TestCaseError> {
        if !promtool_installed() {
            return Ok(vec![true; heartbeats.len()]);
        }
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.toml");
        std::fs::write(
            &policy,
            format!(
                "[policy]\nname = \"fresh\"\n[[freshness]]\nid = \"worker\"\nselector = 'worker_up{{job=\"worker\"}}'\nmax_age = \"{max_age}\"\nup_for = \"{up_for}\"\n\
                 [[gate]]\nid = \"backlog\"\nquery = 'max_over_time(backlog_items[10m])'\nunit = \"number\"\nthresholds = [\"value < 500\"]\n"
            ),
        )
        .unwrap();
        let series = |values: &str| {
            vec![
                serde_json::json!({"series": "worker_up{job=\"worker\"}", "values": values}),
                serde_json::json!({"series": "backlog_items", "values": "10x80"}),
            ]
        };
        // check's outcome per heartbeat: each case expects "blocked", so the cases that fail
        // are those check lets pass.
        let mut cases = String::from("policy = \"p.toml\"\n");
        for (i, values) in heartbeats.iter().enumerate() {
            cases.push_str(&format!(
                "\n[[case]]\nname = \"h{i}\"\nat = \"20m\"\ninterval = \"15s\"\nseries = [\n  {{ series = 'worker_up{{job=\"worker\"}}', values = '{values}' }},\n  {{ series = 'backlog_items', values = '10x80' }},\n]\n[case.expect]\noutcome = \"blocked\"\n"
            ));
        }
        std::fs::write(dir.path().join("t.toml"), cases).unwrap();
        let out = gatecheck()
            .current_dir(dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TMPDIR", dir.path())
            .args(["test", "t.toml"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let blocked: Vec<bool> =
            (0..heartbeats.len()).map(|i| !stdout.contains(&format!(": case \"h{i}\"\n"))).collect();
        let passed = blocked.iter().filter(|b| **b).count();
        prop_assert!(
            stdout.contains(&format!("gatecheck test: {passed} passed, {} failed", heartbeats.len() - passed)),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let rules_path = dir.path().join("rules.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(&rules_path)
            .assert()
            .success();
        let text = std::fs::read_to_string(&rules_path).unwrap();
        let rules: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let alerts: Vec<&serde_yaml::Value> = rules["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .filter(|r| r.get("alert").is_some())
            .collect();
        let mut tests = Vec::new();
        for (values, blocked) in heartbeats.iter().zip(&blocked) {
            let checks: Vec<Value> = alerts
                .iter()
                .map(|rule| {
                    let fires = *blocked && rule["labels"]["gate"].as_str() == Some("worker");
                    let expected = match fires {
                        true => serde_json::json!([{
                            "exp_labels": serde_json::to_value(&rule["labels"]).unwrap(),
                            "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
                        }]),
                        false => serde_json::json!([]),
                    };
                    serde_json::json!({"eval_time": "20m", "alertname": rule["alert"].as_str().unwrap(), "exp_alerts": expected})
                })
                .collect();
            tests.push(
                serde_json::json!({"interval": "15s", "input_series": series(values), "alert_rule_test": checks}),
            );
        }
        let test = serde_json::json!({
            "rule_files": [rules_path.display().to_string()],
            "evaluation_interval": "15s",
            "tests": tests,
        });
        let promtool = promtool_test_rules(&dir.path().join("test.yml"), &test).err().unwrap_or_default();
        prop_assert!(promtool.is_empty(), "check blocked: {:?}\n{}\n{}\n{:?}", blocked, promtool, text, heartbeats);
        Ok(blocked)
    }
}

/// Finding judge4/07: buckets summed over instances with different layouts are not cumulative
/// (`le="1"` 100, `le="10"` 50, `+Inf` 100). check (here through `gatecheck test` on a real
/// Prometheus) and the exported alert read the repaired count, as histogram_quantile does: every
/// observation lies at or below 1 s, so the max passes and the alert is silent; with instance
/// b's observations above its only finite bound, both block.
#[test]
fn summed_bucket_layouts_are_judged_alike_by_check_and_the_exported_alert() {
    if !promtool_installed() {
        return;
    }
    // (b's le="1" count, expected row, the alert fires): 50 of 50 at or below 1 s, then 20 of 50.
    let cases = [("50", "PASS", false), ("20", "FAIL", true)];
    assert_check_and_alert_agree_on_lag_buckets("180s", &cases, |b_low| {
        vec![
            (r#"instance="a",le="1""#, "50x10".to_string()),
            (r#"instance="a",le="10""#, "50x10".to_string()),
            (r#"instance="a",le="+Inf""#, "50x10".to_string()),
            (r#"instance="b",le="1""#, format!("{b_low}x10")),
            (r#"instance="b",le="+Inf""#, "50x10".to_string()),
        ]
    });
}

/// Finding figures5/02: two instances spell the top bucket differently (`le="+Inf"` and
/// `le="Inf"`), so `sum by (le)` answers two +Inf series, which histogram_quantile adds. check
/// (here through `gatecheck test` on a real Prometheus) adds them too: with b's 100 observations
/// above 10 s the max is +Inf and FAILs (the last spelling seen was taken alone, and it passed at
/// 10 s). The exported alert fires then (relabelling both spellings to `le="+Inf"` made the
/// evaluation fail on a duplicate label set, so it never fired), and both stay quiet when every
/// observation is bounded.
#[test]
fn two_spellings_of_the_inf_bucket_are_added_by_check_and_the_exported_alert() {
    if !promtool_installed() {
        return;
    }
    // (b's le="10" count of its 100, expected row, the alert fires): every observation of b
    // at or below 10 s, then none.
    let cases = [("100", "PASS", false), ("0", "FAIL", true)];
    assert_check_and_alert_agree_on_lag_buckets("60s", &cases, |b_low| {
        vec![
            (r#"instance="a",le="10""#, "1000x10".to_string()),
            (r#"instance="a",le="+Inf""#, "1000x10".to_string()),
            (r#"instance="b",le="10""#, format!("{b_low}x10")),
            (r#"instance="b",le="Inf""#, "100x10".to_string()),
        ]
    });
}

/// One `lag` gate, `histogram_quantile(1, sum by (le) (lag_seconds_bucket))` against
/// `max < {limit}`, judged for each case by check (`gatecheck test`, a real Prometheus) and by
/// its exported alert (promtool) on the same buckets: `cases` are (b's low count, the row check
/// must give, whether the alert fires) and `buckets` spells the series for one low count.
fn assert_check_and_alert_agree_on_lag_buckets(
    limit: &str,
    cases: &[(&str, &str, bool)],
    buckets: impl Fn(&str) -> Vec<(&'static str, String)>,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        format!(
            r#"
[policy]
name = "p"
max_waiver_days = 14
[[gate]]
id = "lag"
description = "scheduler lag max"
query = 'histogram_quantile(1, sum by (le) (lag_seconds_bucket))'
unit = "s"
thresholds = ["max < {limit}"]
"#
        ),
    )
    .unwrap();
    let outcome = |row: &str| if row == "PASS" { "ship" } else { "blocked" };
    let mut tests = String::from("policy = \"p.toml\"\n");
    for (b_low, expected, _) in cases {
        let series: String = buckets(b_low)
            .iter()
            .map(|(labels, values)| {
                format!("  {{ series = 'lag_seconds_bucket{{{labels}}}', values = '{values}' }},\n")
            })
            .collect();
        tests.push_str(&format!(
            r#"
[[case]]
name = "b has {b_low} low"
at = "5m"
interval = "1m"
series = [
{series}]
[case.expect]
outcome = "{outcome}"
[case.expect.gates]
"lag max < {limit}" = "{expected}"
"#,
            outcome = outcome(expected)
        ));
    }
    std::fs::write(dir.path().join("t.toml"), tests).unwrap();
    assert_policy_tests_pass(dir.path(), cases.len());
    let lag = ExportedAlert::of(dir.path(), "GatecheckLag");
    for (b_low, _, fires) in cases {
        let input_series: Vec<serde_json::Value> = buckets(b_low)
            .iter()
            .map(|(labels, values)| serde_json::json!({"series": format!("lag_seconds_bucket{{{labels}}}"), "values": values}))
            .collect();
        lag.assert_fires_at_5m(dir.path(), input_series, *fires, &format!("b_low {b_low}"));
    }
}

/// Finding judge5/04: with every blocking query gate `on_missing = "warn"`, `check` blocks when no
/// blocking gate has a figure to judge (run-integrity `at least 1 blocking gate judged`: NO
/// DATA), and the exported rules said nothing. `GatecheckNothingJudged` fires exactly then: no
/// series, NaN only, a figure outside its domain (a ratio of 1.5) — and a warn gate's figure does
/// not count —, and stays silent once one blocking gate has a figure, even a failing one. Each
/// case is judged by check through `gatecheck test` (a real Prometheus) and by promtool. A
/// policy in which a blocking gate has its own NoData alert (`on_missing = "fail"`) already
/// alerts in that state, and gets no second alert.
#[test]
fn the_nothing_judged_alert_fires_exactly_when_check_judges_no_blocking_gate() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = |errs_on_missing: &str| {
        format!(
            r#"
[policy]
name = "onc"
max_waiver_days = 14
[[gate]]
id = "backlog"
query = 'max_over_time(backlog[10m])'
unit = "number"
thresholds = ["value < 500"]
on_missing = "warn"
[[gate]]
id = "errs"
query = 'err_ratio'
unit = "ratio"
thresholds = ["value < 5%"]
on_missing = "{errs_on_missing}"
[[gate]]
id = "info"
query = 'info_gauge'
unit = "number"
severity = "warn"
thresholds = ["value < 10"]
on_missing = "warn"
"#
        )
    };
    std::fs::write(dir.path().join("p.toml"), policy("warn")).unwrap();
    std::fs::write(dir.path().join("covered.toml"), policy("fail")).unwrap();
    // (case, series, check's outcome, the run-integrity row blocks, the alert fires)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, bool);
    let cases: [Case; 6] = [
        // No series of the policy's (a case with series is judged against Prometheus).
        ("no series", &[("unrelated", "1x10")], "blocked", true),
        ("a backlog figure", &[("backlog", "10x10")], "ship", false),
        (
            "a ratio of 1.5 and a warn gate's figure",
            &[("err_ratio", "1.5x10"), ("info_gauge", "1x10")],
            "blocked",
            true,
        ),
        ("NaN only", &[("err_ratio", "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN")], "blocked", true),
        ("a failing figure is judged", &[("err_ratio", "0.5x10")], "blocked", false),
        (
            "a figure beside NaN",
            &[("err_ratio", "0.01x10"), ("backlog", "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN")],
            "ship",
            false,
        ),
    ];
    let mut tests = String::from("policy = \"p.toml\"\n");
    for (name, series, outcome, nothing_judged) in cases {
        let series: String = series
            .iter()
            .map(|(metric, values)| format!("  {{ series = '{metric}', values = '{values}' }},\n"))
            .collect();
        let row = if nothing_judged { "\"run-integrity at least 1 blocking gate judged\" = \"NO DATA\"\n" } else { "" };
        tests.push_str(&format!(
            "\n[[case]]\nname = \"{name}\"\nat = \"5m\"\ninterval = \"1m\"\nseries = [\n{series}]\n[case.expect]\noutcome = \"{outcome}\"\n[case.expect.gates]\n{row}"
        ));
    }
    std::fs::write(dir.path().join("t.toml"), tests).unwrap();
    let out = gatecheck()
        .current_dir(dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", dir.path())
        .args(["test", "t.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");

    let export = |name: &str| {
        let rules = dir.path().join(format!("{name}.yml"));
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(dir.path().join(format!("{name}.toml")))
            .arg("--out")
            .arg(&rules)
            .assert()
            .success();
        (rules.clone(), std::fs::read_to_string(&rules).unwrap())
    };
    let alert_of = |text: &str, name: &str| -> serde_yaml::Value {
        let file: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        file["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(name))
            .unwrap_or_else(|| panic!("no alert {name} in {text}"))
            .clone()
    };
    let (covered, covered_text) = export("covered");
    assert!(!covered_text.contains("alert: GatecheckNothingJudged"), "{covered_text}");
    let errs_no_data = alert_of(&covered_text, "GatecheckErrsNoData");
    let (rules, text) = export("p");
    let alert = alert_of(&text, "GatecheckNothingJudged");
    assert_eq!(alert["labels"]["policy"].as_str(), Some("onc"), "{text}");
    assert_eq!(alert["labels"]["gate"].as_str(), Some("run-integrity"), "{text}");
    assert_eq!(alert["labels"]["severity"].as_str(), Some("critical"), "{text}");
    let firing = |alert: &serde_yaml::Value| {
        serde_json::json!([{ "exp_labels": serde_json::to_value(&alert["labels"]).unwrap(),
                             "exp_annotations": serde_json::to_value(&alert["annotations"]).unwrap() }])
    };
    for (name, series, _, fires) in cases {
        let input: Vec<serde_json::Value> =
            series.iter().map(|(metric, values)| serde_json::json!({"series": metric, "values": values})).collect();
        let mut runs =
            vec![(&rules, "GatecheckNothingJudged", if fires { firing(&alert) } else { serde_json::json!([]) })];
        // The covered policy's errs gate says it by its own NoData alert whenever nothing is judged.
        // Its err_ratio series, where there is one, keeps its metric name on the alert.
        if fires {
            let mut errs = firing(&errs_no_data);
            if series.iter().any(|(metric, _)| *metric == "err_ratio") {
                errs[0]["exp_labels"] = alert_labels(&errs_no_data, "err_ratio");
            }
            runs.push((&covered, "GatecheckErrsNoData", errs));
        }
        for (path, alertname, exp_alerts) in runs {
            let test = serde_json::json!({
                "rule_files": [path.display().to_string()],
                "evaluation_interval": "1m",
                "tests": [{"interval": "1m", "input_series": input, "alert_rule_test": [
                    {"eval_time": "5m", "alertname": alertname, "exp_alerts": exp_alerts}]}],
            });
            if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
                panic!("case {name:?}, {alertname}: {promtool}\n{}", std::fs::read_to_string(path).unwrap());
            }
        }
    }
}

/// Finding judge9/05: a gate whose query is scalar-typed (`scalar(..) / scalar(..)`, the ratio
/// idiom without label matching) is judged by check as one figure; its exported rules were
/// `(scalar) >= 0.01` and `absent((scalar))`, which Prometheus refuses, so the whole file failed
/// to load and no alert of the policy fired. The rules now read it as `vector(..)`, as check
/// reads it: promtool loads the file, and each alert fires exactly where check (a real
/// Prometheus, through `gatecheck test`) fails the gate or finds NO DATA.
#[test]
fn a_scalar_query_exports_rules_prometheus_loads_that_agree_with_check() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        r#"
[policy]
name = "api"
[k6_thresholds]
enforce = false
[[gate]]
id = "api-errors"
query = 'scalar(sum(rate(http_requests_total{code=~"5.."}[10m]))) / scalar(sum(rate(http_requests_total[10m])))'
unit = "ratio"
thresholds = ["rate < 1%"]
[[gate]]
id = "pool-peak"
query = 'scalar(max(db_pool_utilization))'
unit = "ratio"
reduce = "max"
thresholds = ["value < 90%"]
on_missing = "warn"
"#,
    )
    .unwrap();
    // (case, 5xx per minute, 2xx per minute, pool utilisation, api-errors, pool-peak, outcome)
    type Case<'a> = (&'a str, Option<u32>, u32, &'a str, &'a str, &'a str, &'a str);
    let cases: [Case; 4] = [
        ("5% errors", Some(30), 570, "0.5", "FAIL", "PASS", "blocked"),
        ("0.5% errors", Some(3), 597, "0.5", "PASS", "PASS", "ship"),
        ("no 5xx series: NaN", None, 600, "0.5", "NO DATA", "PASS", "blocked"),
        ("pool at 97%", Some(0), 600, "0.97", "PASS", "FAIL", "blocked"),
    ];
    let series = |errors: Option<u32>, ok: u32, pool: &str| {
        let mut series = vec![
            ("http_requests_total{code=\"200\"}".to_string(), format!("0+{ok}x10")),
            ("db_pool_utilization".to_string(), format!("{pool}x10")),
        ];
        if let Some(errors) = errors {
            series.push(("http_requests_total{code=\"500\"}".to_string(), format!("0+{errors}x10")));
        }
        series
    };
    let mut tests = String::from("policy = \"p.toml\"\n");
    for (name, errors, ok, pool, api, peak, outcome) in cases {
        let listed: String = series(errors, ok, pool)
            .iter()
            .map(|(metric, values)| format!("  {{ series = '{metric}', values = '{values}' }},\n"))
            .collect();
        tests.push_str(&format!(
            "\n[[case]]\nname = \"{name}\"\nat = \"5m\"\ninterval = \"1m\"\nseries = [\n{listed}]\n[case.expect]\noutcome = \"{outcome}\"\n[case.expect.gates]\n\"api-errors\" = \"{api}\"\n\"pool-peak\" = \"{peak}\"\n"
        ));
    }
    std::fs::write(dir.path().join("t.toml"), tests).unwrap();
    assert_policy_tests_pass(dir.path(), cases.len());

    let errors = ExportedAlert::of(dir.path(), "GatecheckApiErrors");
    let check = std::process::Command::new("promtool").args(["check", "rules"]).arg(&errors.rules).output().unwrap();
    assert!(
        check.status.success(),
        "{}{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr),
        errors.text
    );
    let no_data = ExportedAlert::of(dir.path(), "GatecheckApiErrorsNoData");
    let peak = ExportedAlert::of(dir.path(), "GatecheckPoolPeak");
    for (name, errors_per_minute, ok, pool, api, peak_verdict, _) in cases {
        let input: Vec<Value> = series(errors_per_minute, ok, pool)
            .into_iter()
            .map(|(metric, values)| serde_json::json!({"series": metric, "values": values}))
            .collect();
        errors.assert_fires_at_5m(dir.path(), input.clone(), api == "FAIL", name);
        no_data.assert_fires_at_5m(dir.path(), input.clone(), api == "NO DATA", name);
        peak.assert_fires_at_5m(dir.path(), input, peak_verdict == "FAIL", name);
    }
}

/// Finding judge9/05, the other side: a query check cannot judge (a range vector, which check
/// refuses at run time) is refused by export (exit 2, naming the gate) and flagged by lint,
/// never written into a file Prometheus would refuse whole.
#[test]
fn a_range_vector_query_is_refused_by_export_and_lint() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"r\"\n[[gate]]\nid = \"pool\"\nunit = \"ratio\"\nquery = 'db_pool_utilization[5m]'\nthresholds = [\"value < 90%\"]\n",
    )
    .unwrap();
    let err = stderr_of(
        &gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(dir.path().join("rules.yml"))
            .assert()
            .code(2),
    );
    assert!(err.contains("gate \"pool\"") && err.contains("a range vector"), "{err}");
    assert!(!dir.path().join("rules.yml").exists());
    let linted = crate::support::stdout_of(&gatecheck().arg("lint").arg(&policy).assert().code(2));
    assert!(
        linted.contains("p.toml:4") && linted.contains("gate \"pool\": the query returns a range vector"),
        "{linted}"
    );
}

/// Finding judge9/06: a gate of a flow the policy itself switches off (`[flows.batch] enabled =
/// false`) is SKIPPED by check while no gate of the flow has a series, and judged once one has
/// (the evidence overrules the switch); its exported `…NoData` alert fired regardless, a
/// critical page where check ships. The alerts now follow check: the NoData alert fires only
/// once a series of the flow shows it ran, the threshold alert where the gate FAILs, and
/// `GatecheckNothingJudged` is kept where a switched-off gate's NoData alert cannot stand in for
/// it. Each case is judged by check (`gatecheck test`, a real Prometheus) and by promtool.
#[test]
fn a_gate_of_a_flow_the_policy_switches_off_alerts_only_where_check_judges_it() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        r#"
[policy]
name = "off"
[k6_thresholds]
enforce = false
[flows.batch]
enabled = false
description = "nightly batch endpoint, not deployed in this environment"
[[gate]]
id = "api-errors"
query = 'sum(rate(http_requests_total{code=~"5.."}[10m])) / sum(rate(http_requests_total[10m]))'
unit = "ratio"
thresholds = ["rate < 1%"]
on_missing = "warn"
[[gate]]
id = "batch-latency"
flow = "batch"
query = 'histogram_quantile(0.95, sum by (le) (rate(batch_duration_seconds_bucket{flow="${flow}"}[10m])))'
unit = "s"
thresholds = ["p(95) < 2s"]
[[gate]]
id = "batch-errors"
flow = "batch"
query = 'sum(rate(batch_errors_total{flow="${flow}"}[10m])) / sum(rate(batch_requests_total{flow="${flow}"}[10m]))'
unit = "ratio"
thresholds = ["rate < 5%"]
"#,
    )
    .unwrap();
    let api: &[(&str, &str)] =
        &[("http_requests_total{code=\"200\"}", "0+600x10"), ("http_requests_total{code=\"500\"}", "0+0x10")];
    let batch: &[(&str, &str)] =
        &[("batch_requests_total{flow=\"batch\"}", "0+100x10"), ("batch_errors_total{flow=\"batch\"}", "0+0x10")];
    let slow: &[(&str, &str)] = &[
        ("batch_duration_seconds_bucket{flow=\"batch\",le=\"1\"}", "0x10"),
        ("batch_duration_seconds_bucket{flow=\"batch\",le=\"5\"}", "0+10x10"),
        ("batch_duration_seconds_bucket{flow=\"batch\",le=\"+Inf\"}", "0+10x10"),
    ];
    let cases: [AlertCase; 4] = [
        (
            "batch off by policy, API healthy",
            api.to_vec(),
            "ship",
            &[("api-errors", "PASS"), ("batch-latency", "SKIPPED"), ("batch-errors", "SKIPPED")],
            &[],
        ),
        (
            "batch ran, without latency buckets",
            [api, batch].concat(),
            "blocked",
            &[("batch-latency", "NO DATA"), ("batch-errors", "PASS")],
            &["GatecheckBatchLatencyNoData"],
        ),
        (
            "batch ran, slow",
            [api, batch, slow].concat(),
            "blocked",
            &[("batch-latency", "FAIL"), ("batch-errors", "PASS")],
            &["GatecheckBatchLatency"],
        ),
        (
            "no series at all",
            vec![("unrelated", "1x10")],
            "blocked",
            &[
                ("api-errors", "NO DATA"),
                ("batch-latency", "SKIPPED"),
                ("run-integrity at least 1 blocking gate judged", "NO DATA"),
            ],
            &["GatecheckNothingJudged"],
        ),
    ];
    assert_check_and_alerts_agree(
        dir.path(),
        &cases,
        &[
            "GatecheckBatchLatencyNoData",
            "GatecheckBatchErrorsNoData",
            "GatecheckBatchLatency",
            "GatecheckBatchErrors",
            "GatecheckNothingJudged",
        ],
    );
}

/// Finding judge10/02: a scalar query exports as `vector(...)`, which has its one series at
/// every instant, NaN or not, so `count(...)` of it could not say whether a flow the policy
/// switches off ran: the critical NoData alert of a scalar-query gate fired where check SKIPs
/// the gate and ships. The "flow ran" condition counts figures only (a NaN series or scalar is
/// none), as check does; a reduced gate's flow ran only where no series lies outside its domain.
/// Each case is judged by check (`gatecheck test`, a real Prometheus) and by promtool.
#[test]
fn a_scalar_query_of_a_flow_the_policy_switches_off_alerts_only_where_check_judges_it() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        r#"
[policy]
name = "off"
[k6_thresholds]
enforce = false
[flows.batch]
enabled = false
description = "nightly batch endpoint, not deployed in this environment"
[flows.queue]
enabled = false
description = "queue workers, not deployed in this environment"
[[gate]]
id = "api-errors"
query = 'sum(rate(http_requests_total{code=~"5.."}[10m])) / sum(rate(http_requests_total[10m]))'
unit = "ratio"
thresholds = ["rate < 1%"]
[[gate]]
id = "batch-errors"
flow = "batch"
query = 'scalar(sum(rate(batch_requests_total{code=~"5.."}[10m]))) / scalar(sum(rate(batch_requests_total[10m])))'
unit = "ratio"
thresholds = ["rate < 1%"]
[[gate]]
id = "queue-errors"
flow = "queue"
query = 'queue_error_ratio'
reduce = "max"
unit = "ratio"
thresholds = ["rate < 1%"]
"#,
    )
    .unwrap();
    let api: &[(&str, &str)] =
        &[("http_requests_total{code=\"200\"}", "0+600x10"), ("http_requests_total{code=\"500\"}", "0+0x10")];
    let idle: &[(&str, &str)] = &[("batch_requests_total{code=\"200\"}", "0x10")];
    let failing: &[(&str, &str)] =
        &[("batch_requests_total{code=\"200\"}", "0+90x10"), ("batch_requests_total{code=\"500\"}", "0+10x10")];
    let healthy: &[(&str, &str)] =
        &[("batch_requests_total{code=\"200\"}", "0+100x10"), ("batch_requests_total{code=\"500\"}", "0+0x10")];
    let queue_broken: &[(&str, &str)] = &[("queue_error_ratio{worker=\"a\"}", "1.5x10")];
    let cases: [AlertCase; 5] = [
        (
            "batch off by policy, API healthy",
            api.to_vec(),
            "ship",
            &[("api-errors", "PASS"), ("batch-errors", "SKIPPED"), ("queue-errors", "SKIPPED")],
            &[],
        ),
        ("batch idle: 0/0 is NaN", [api, idle].concat(), "ship", &[("batch-errors", "SKIPPED")], &[]),
        ("batch ran, healthy", [api, healthy].concat(), "ship", &[("batch-errors", "PASS")], &[]),
        (
            "batch ran, failing",
            [api, failing].concat(),
            "blocked",
            &[("batch-errors", "FAIL")],
            &["GatecheckBatchErrors"],
        ),
        ("queue series outside its domain", [api, queue_broken].concat(), "ship", &[("queue-errors", "SKIPPED")], &[]),
    ];
    assert_check_and_alerts_agree(
        dir.path(),
        &cases,
        &["GatecheckBatchErrorsNoData", "GatecheckBatchErrors", "GatecheckQueueErrorsNoData"],
    );
}

/// A case of a policy in `p.toml`: its name, the series, the outcome and rows check must give,
/// and the exported alerts that fire.
type AlertCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

/// Each case judged by check (`gatecheck test`, a real Prometheus) as expected, and by promtool
/// on the exported `alerts`: exactly the case's firing ones fire at 5m.
fn assert_check_and_alerts_agree(dir: &Path, cases: &[AlertCase], alerts: &[&str]) {
    let mut tests = String::from("policy = \"p.toml\"\n");
    for (name, series, outcome, rows, _) in cases {
        let listed: String = series
            .iter()
            .map(|(metric, values)| format!("  {{ series = '{metric}', values = '{values}' }},\n"))
            .collect();
        let rows: String = rows.iter().map(|(key, verdict)| format!("\"{key}\" = \"{verdict}\"\n")).collect();
        tests.push_str(&format!(
            "\n[[case]]\nname = \"{name}\"\nat = \"5m\"\ninterval = \"1m\"\nseries = [\n{listed}]\n[case.expect]\noutcome = \"{outcome}\"\n[case.expect.gates]\n{rows}"
        ));
    }
    std::fs::write(dir.join("t.toml"), tests).unwrap();
    assert_policy_tests_pass(dir, cases.len());
    let alerts: Vec<ExportedAlert> = alerts.iter().map(|name| ExportedAlert::of(dir, name)).collect();
    for (name, series, _, _, firing) in cases {
        let input: Vec<Value> =
            series.iter().map(|(metric, values)| serde_json::json!({"series": metric, "values": values})).collect();
        for alert in &alerts {
            alert.assert_fires_at_5m(dir, input.clone(), firing.contains(&alert.name.as_str()), name);
        }
    }
}

/// `gatecheck test t.toml` in `dir` (its policy `p.toml`) on a real Prometheus: all `cases` pass.
fn assert_policy_tests_pass(dir: &Path, cases: usize) {
    let prometheus_on_path = std::process::Command::new("sh")
        .args(["-c", "command -v prometheus"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(prometheus_on_path, "prometheus is not installed: `make test` installs it with promtool");
    let out = gatecheck()
        .current_dir(dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", dir)
        .args(["test", "t.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{cases} passed, 0 failed")), "{stdout}");
}

/// One alert of the rule file exported from `dir`'s `p.toml`.
struct ExportedAlert {
    name: String,
    rules: std::path::PathBuf,
    text: String,
    rule: serde_yaml::Value,
}

impl ExportedAlert {
    fn of(dir: &Path, name: &str) -> ExportedAlert {
        let rules = dir.join("rules.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(dir.join("p.toml"))
            .arg("--out")
            .arg(&rules)
            .assert()
            .success();
        let text = std::fs::read_to_string(&rules).unwrap();
        let file: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let rule = file["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(name))
            .unwrap_or_else(|| panic!("no alert {name} in {text}"))
            .clone();
        ExportedAlert { name: name.to_string(), rules, text, rule }
    }

    /// promtool says the alert fires at 5m on `input_series` (1m apart) exactly when `fires`:
    /// with its own labels and annotations, or not at all — and never through an evaluation
    /// error, which promtool may log while an empty expectation still passes.
    fn assert_fires_at_5m(&self, dir: &Path, input_series: Vec<serde_json::Value>, fires: bool, what: &str) {
        let exp_alerts = if fires {
            serde_json::json!([{ "exp_labels": serde_json::to_value(&self.rule["labels"]).unwrap(),
                                 "exp_annotations": serde_json::to_value(&self.rule["annotations"]).unwrap() }])
        } else {
            serde_json::json!([])
        };
        let test = serde_json::json!({
            "rule_files": [self.rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": input_series,
                "alert_rule_test": [{"eval_time": "5m", "alertname": self.name, "exp_alerts": exp_alerts}],
            }],
        });
        let test_path = dir.join("test.yml");
        std::fs::write(&test_path, serde_yaml::to_string(&test).unwrap()).unwrap();
        let run = std::process::Command::new("promtool").args(["test", "rules"]).arg(&test_path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert!(run.status.success() && !said.contains("same labelset"), "{what}: {said}\n{}", self.text);
    }
}

/// Finding round17-figures/03: a histogram_quantile over `sum by (le)` of instances where one
/// instance exports no +Inf bucket (its observations above every bound are in its `_count`
/// alone): the summed +Inf bucket lies below the finite ones, Prometheus repairs monotonicity,
/// and p(99) read 990 ms PASS although 990 of 1100 observations lie above 10 s. The buckets a
/// quantile is drawn from must be cumulative: per series of the quantile's grouping the +Inf
/// bucket at least every finite bucket, and equal to the `_count` where that exists; otherwise
/// the row is NO DATA. check (through `gatecheck test`, a real Prometheus) and the exported
/// alerts (promtool) agree on every case: the NoData alert fires where check says NO DATA.
#[test]
fn a_quantile_over_buckets_that_are_not_cumulative_is_no_data_in_check_and_the_exported_alerts() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        r#"
[policy]
name = "p"
max_waiver_days = 14
[[gate]]
id = "lag"
description = "scheduler lag p99 over every instance"
query = 'histogram_quantile(0.99, sum by (le) (lag_seconds_bucket))'
unit = "s"
thresholds = ["p(99) < 5s"]
"#,
    )
    .unwrap();
    let a = [
        (r#"lag_seconds_bucket{instance="a",le="1"}"#, "100x10"),
        (r#"lag_seconds_bucket{instance="a",le="10"}"#, "100x10"),
        (r#"lag_seconds_bucket{instance="a",le="+Inf"}"#, "100x10"),
        (r#"lag_seconds_count{instance="a"}"#, "100x10"),
    ];
    // (case, instance b's series, check's row, the threshold alert fires, the NoData alert fires)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, bool, bool);
    let cases: Vec<Case> = vec![
        (
            "b exports no +Inf bucket (the finding)",
            vec![
                (r#"lag_seconds_bucket{instance="b",le="1"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="10"}"#, "10x10"),
                (r#"lag_seconds_count{instance="b"}"#, "1000x10"),
            ],
            "NO DATA",
            false,
            true,
        ),
        (
            "b has no +Inf bucket and empty finite ones: only its _count shows its observations",
            vec![
                (r#"lag_seconds_bucket{instance="b",le="1"}"#, "0x10"),
                (r#"lag_seconds_bucket{instance="b",le="10"}"#, "0x10"),
                (r#"lag_seconds_count{instance="b"}"#, "1000x10"),
            ],
            "NO DATA",
            false,
            true,
        ),
        (
            "b exports its +Inf bucket: 990 observations above 10 s",
            vec![
                (r#"lag_seconds_bucket{instance="b",le="1"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="10"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="+Inf"}"#, "1000x10"),
                (r#"lag_seconds_count{instance="b"}"#, "1000x10"),
            ],
            "FAIL",
            true,
            false,
        ),
        (
            "b is cumulative and bounded",
            vec![
                (r#"lag_seconds_bucket{instance="b",le="1"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="10"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="+Inf"}"#, "10x10"),
                (r#"lag_seconds_count{instance="b"}"#, "10x10"),
            ],
            "PASS",
            false,
            false,
        ),
        (
            "b exports no _count and no +Inf bucket: the buckets alone show it",
            vec![
                (r#"lag_seconds_bucket{instance="b",le="1"}"#, "10x10"),
                (r#"lag_seconds_bucket{instance="b",le="10"}"#, "10x10"),
            ],
            "NO DATA",
            false,
            true,
        ),
    ];
    let mut tests = String::from("policy = \"p.toml\"\n");
    for (name, b, row, _, _) in &cases {
        let series: String = a
            .iter()
            .chain(b)
            .map(|(series, values)| format!("  {{ series = '{series}', values = '{values}' }},\n"))
            .collect();
        let outcome = if *row == "PASS" { "ship" } else { "blocked" };
        tests.push_str(&format!(
            "\n[[case]]\nname = \"{name}\"\nat = \"5m\"\ninterval = \"1m\"\nseries = [\n{series}]\n[case.expect]\noutcome = \"{outcome}\"\n[case.expect.gates]\n\"lag p(99) < 5s\" = \"{row}\"\n"
        ));
    }
    std::fs::write(dir.path().join("t.toml"), tests).unwrap();
    assert_policy_tests_pass(dir.path(), cases.len());
    let breach = ExportedAlert::of(dir.path(), "GatecheckLag");
    let no_data = ExportedAlert::of(dir.path(), "GatecheckLagNoData");
    for (name, b, _, breaches, missing) in &cases {
        let input_series: Vec<serde_json::Value> =
            a.iter().chain(b).map(|(series, values)| serde_json::json!({"series": series, "values": values})).collect();
        breach.assert_fires_at_5m(dir.path(), input_series.clone(), *breaches, name);
        no_data.assert_fires_at_5m(dir.path(), input_series, *missing, name);
    }
}

/// Finding round17-judge/03: recording-rule names carry the policy's name with `-` read as
/// `_`, so policies `on-call` and `on_call` (two teams, one Prometheus) both recorded
/// `gatecheck:on_call:db_pool:p95`: with on-call's series gone (check: NO DATA, it blocks), its
/// NoData alert stayed silent, as on_call's recorded figure filled its absent(). A policy's
/// part of a rule name is its own: the two files record distinct series, promtool loads both,
/// and on-call's NoData alert fires (under its own policy label) while on_call's stays silent.
#[test]
fn two_policies_whose_names_differ_by_punctuation_never_share_a_recorded_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut records = Vec::new();
    for name in ["on-call", "on_call"] {
        let policy = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &policy,
            format!(
                "[policy]\nname = \"{name}\"\n\n[[gate]]\nid = \"db-pool\"\ndescription = \"DB pool of the {name} cluster\"\n\
                 unit = \"ratio\"\nthresholds = [\"p(95) < 0.70\", \"max < 0.85\"]\n[gate.query]\n\
                 \"p(95)\" = 'quantile_over_time(0.95, db_util{{cluster=\"{name}\"}}[10m])'\n\
                 max = 'max_over_time(db_util{{cluster=\"{name}\"}}[10m])'\n"
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("{name}.yml"));
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let text = std::fs::read_to_string(&out).unwrap();
        let recorded: Vec<String> =
            text.lines().filter_map(|l| l.trim().strip_prefix("- record: ")).map(str::to_string).collect();
        assert_eq!(recorded.len(), 2, "{text}");
        records.push(recorded);
        files.push(out);
    }
    assert!(records[0].iter().all(|r| !records[1].contains(r)), "shared recorded series: {records:?}");
    // The name left as it is reads as before.
    assert!(records[1].contains(&"gatecheck:on_call:db_pool:p95".to_string()), "{records:?}");
    if !promtool_installed() {
        return;
    }
    let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let no_data = rules["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap())
        .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some("GatecheckDbPoolP95NoData"))
        .expect("a NoData alert")
        .clone();
    let test = serde_json::json!({
        "rule_files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": "db_util{cluster=\"on_call\"}", "values": "0.1+0x20"}],
            "alert_rule_test": [{
                "eval_time": "15m",
                "alertname": "GatecheckDbPoolP95NoData",
                "exp_alerts": [{
                    "exp_labels": serde_json::to_value(&no_data["labels"]).unwrap(),
                    "exp_annotations": serde_json::to_value(&no_data["annotations"]).unwrap(),
                }],
            }],
        }],
    });
    if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
        panic!("on-call's NoData alert (alone) did not fire: {promtool}");
    }
}

/// Round 18 (brief item 3): alert names must be unique within a policy. A gate `db_pool_p95`
/// with one threshold and a gate `db_pool` with p(95) and max both exported an alert
/// `GatecheckDbPoolP95` (and `…P95NoData`): Alertmanager routes, silences and inhibits by
/// name, so one gate's silence would hush the other. Export refuses such a policy (exit 2),
/// naming the alert and both gates; so for ids alike but for case or punctuation.
#[test]
fn two_gates_whose_alerts_would_share_a_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let export = |name: &str, gates: &str| {
        let policy = dir.path().join(format!("{name}.toml"));
        std::fs::write(&policy, format!("[policy]\nname = \"{name}\"\n{gates}")).unwrap();
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .arg("--out")
            .arg(dir.path().join(format!("{name}.yml")))
            .assert()
    };
    let gate = |id: &str, thresholds: &str, queries: &str| {
        format!(
            "\n[[gate]]\nid = \"{id}\"\ndescription = \"d\"\nunit = \"ratio\"\nthresholds = [{thresholds}]\n[gate.query]\n{queries}\n"
        )
    };
    let p95 = "\"p(95)\" = 'quantile_over_time(0.95, db_util[10m])'";
    let max = "max = 'max_over_time(db_util[10m])'";
    let both = gate("db_pool", "\"p(95) < 0.70\", \"max < 0.85\"", &format!("{p95}\n{max}"));
    let cases = [
        ("suffix", format!("{}{both}", gate("db_pool_p95", "\"max < 0.9\"", max)), "GatecheckDbPoolP95"),
        (
            "case",
            format!("{}{}", gate("DbPool", "\"max < 0.9\"", max), gate("db-pool", "\"max < 0.9\"", max)),
            "GatecheckDbPool",
        ),
    ];
    for (name, gates, alert) in cases {
        let err = stderr_of(&export(name, &gates).code(2));
        assert!(err.contains(alert) && err.contains("unique within a policy"), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Thresholds of one statistic share their gate's alert, as before; distinct gates export.
    export("fine", &format!("{both}{}", gate("db_pool_p99", "\"max < 0.9\", \"max > 0\"", max))).success();
}

/// Finding round32-judge/01: a gate query whose series differ by metric name alone
/// (`{__name__=~"q_a|q_b"}`, two rows in check). Both over the limit: check FAILs both rows,
/// and both alerts fire — not one rule error ("same labelset after applying alert labels").
/// One NaN beside a healthy one: check blocks on NO DATA, and the NoData alert fires for it —
/// not a many-to-many match of `X != X` at every evaluation.
#[test]
fn series_differing_only_by_name_fire_their_alerts_where_check_blocks() {
    use name_and_label_clashes_agree_with_check::{assert_agree, Series};
    assert_agree(&[
        vec![Series::new("q_a", &[("env", "prod")], "500"), Series::new("q_b", &[("env", "prod")], "500")],
        vec![Series::new("q_a", &[("env", "prod")], "NaN"), Series::new("q_b", &[("env", "prod")], "5")],
    ]);
}

/// Finding round32-judge/02: a gate query whose series carry a label the alert sets itself
/// (`severity`, also `policy`, `gate`). check FAILs both series; both alerts fire, the series'
/// own label kept as `exported_severity` — the alert's `severity: critical` no longer merges
/// them into one labelset that Prometheus refuses at every evaluation.
#[test]
fn series_carrying_the_alerts_own_labels_fire_their_alerts_where_check_blocks() {
    if !promtool_installed() {
        return;
    }
    use name_and_label_clashes_agree_with_check::{assert_agree, Series};
    assert_agree(&[
        vec![
            Series::new("q_a", &[("severity", "error")], "500"),
            Series::new("q_a", &[("severity", "warning")], "500"),
        ],
        vec![
            Series::new("q_a", &[("gate", "queue-depth"), ("policy", "other")], "NaN"),
            Series::new("q_a", &[("gatecheck_severity", "warn")], "NaN"),
        ],
    ]);
    // The finding's own shape: a per-severity rate.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "[policy]\nname = \"logs\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"log-errors\"\nquery = 'sum by (severity) (rate(app_log_lines_total[5m]))'\nunit = \"number\"\nthresholds = [\"value < 10\"]\n",
    )
    .unwrap();
    let series = [
        ("app_log_lines_total{severity=\"error\"}", "0+2400x10"),
        ("app_log_lines_total{severity=\"warning\"}", "0+1200x10"),
    ];
    let cases: [AlertCase; 1] =
        [("error and warning lines both over 10/s", series.to_vec(), "blocked", &[("log-errors", "FAIL")], &[])];
    assert_check_and_alerts_agree(dir.path(), &cases, &[]);
    let alert = ExportedAlert::of(dir.path(), "GatecheckLogErrors");
    let exp_alerts: Vec<Value> = ["error", "warning"]
        .iter()
        .map(|severity| {
            let mut labels = alert.rule["labels"].clone();
            labels["exported_severity"] = (*severity).into();
            serde_json::json!({"exp_labels": serde_json::to_value(&labels).unwrap(),
                               "exp_annotations": serde_json::to_value(&alert.rule["annotations"]).unwrap()})
        })
        .collect();
    let input: Vec<Value> = series.iter().map(|(s, v)| serde_json::json!({"series": s, "values": v})).collect();
    let test = serde_json::json!({
        "rule_files": [alert.rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input,
                   "alert_rule_test": [{"eval_time": "5m", "alertname": alert.name, "exp_alerts": exp_alerts}]}],
    });
    let said = promtool_test_rules(&dir.path().join("test.yml"), &test).err().unwrap_or_default();
    assert!(said.is_empty(), "{said}\n{}", alert.text);
}

/// The class of findings round32-judge/01 and /02: over generated query answers — series that
/// differ by metric name alone, series carrying the labels the exported alerts set (`severity`,
/// `policy`, `gate`, `gatecheck_severity`), NaN series, none at all — the exported alerts of a
/// one-statistic gate, of a gate with several statistics (recording rules) and of a gate of a
/// flow the policy switches off (`count(X == X)`) fire exactly one alert per series check FAILs
/// or finds NO DATA for (`gatecheck test`, a real Prometheus), with that series' labels, and
/// nothing where check ships; `promtool check rules` accepts each file. Each proptest case is
/// one policy, one Prometheus and one promtool run.
mod name_and_label_clashes_agree_with_check {
    use super::*;
    use proptest::prelude::*;

    /// One series of a query answer, its value held from 0 to 10m: `5` passes, `500` breaches
    /// `< 100`, `NaN` is NO DATA.
    #[derive(Clone, Debug)]
    pub struct Series {
        metric: &'static str,
        labels: Vec<(&'static str, &'static str)>,
        value: &'static str,
    }

    impl Series {
        pub fn new(metric: &'static str, labels: &[(&'static str, &'static str)], value: &'static str) -> Series {
            Series { metric, labels: labels.to_vec(), value }
        }

        fn selector(&self) -> String {
            let labels: Vec<String> = self.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            format!("{}{{{}}}", self.metric, labels.join(","))
        }

        /// The labels its alert carries besides the rule's own: the name as `gatecheck_metric`,
        /// a label the rule sets as `exported_<label>` (README: exported rules).
        fn alert_labels(&self) -> BTreeMap<String, String> {
            let mut labels = BTreeMap::from([("gatecheck_metric".to_string(), self.metric.to_string())]);
            for (key, value) in &self.labels {
                labels.insert(key.to_string(), value.to_string());
                if ["gate", "policy", "severity", "gatecheck_severity"].contains(key) {
                    labels.insert(format!("exported_{key}"), value.to_string());
                }
            }
            labels
        }
    }

    const POLICY: &str = r#"
[policy]
name = "queues"
[k6_thresholds]
enforce = false
[flows.nightly]
enabled = false
description = "nightly queues, off here"
[[gate]]
id = "queue-depth"
query = '{__name__=~"q_a|q_b"}'
unit = "number"
thresholds = ["value < 100"]
[[gate]]
id = "queue-peak"
unit = "number"
thresholds = ["max < 100", "p(95) < 100"]
[gate.query]
max = '{__name__=~"q_a|q_b"}'
"p(95)" = '{__name__=~"q_a|q_b"}'
[[gate]]
id = "queue-nightly"
flow = "nightly"
query = '{__name__=~"q_a|q_b"}'
unit = "number"
thresholds = ["value < 100"]
"#;

    const BYSTANDER: &str = "q_c{env=\"prod\"}";

    fn series() -> impl Strategy<Value = Series> {
        let labels: Vec<&'static [(&'static str, &'static str)]> = vec![
            &[],
            &[("severity", "error")],
            &[("severity", "warning")],
            &[("gate", "queue-depth"), ("policy", "other")],
            &[("gatecheck_severity", "warn")],
            &[("env", "prod")],
        ];
        (
            prop::sample::select(vec!["q_a", "q_b"]),
            prop::sample::select(labels),
            prop_oneof![2 => Just("5"), 2 => Just("500"), 1 => Just("NaN")],
        )
            .prop_map(|(metric, labels, value)| Series::new(metric, labels, value))
    }

    /// Up to four series, none with the name and labels of another.
    fn answer() -> impl Strategy<Value = Vec<Series>> {
        prop::collection::vec(series(), 0..5).prop_map(|all| {
            let mut kept: Vec<Series> = Vec::new();
            for one in all {
                if !kept.iter().any(|k| k.selector() == one.selector()) {
                    kept.push(one);
                }
            }
            kept
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        #[test]
        fn the_exported_alerts_fire_exactly_where_check_blocks(answers in prop::collection::vec(answer(), 6)) {
            agree(&answers)?;
        }
    }

    pub fn assert_agree(answers: &[Vec<Series>]) {
        if let Err(why) = agree(answers) {
            panic!("{why}");
        }
    }

    fn agree(answers: &[Vec<Series>]) -> Result<(), TestCaseError> {
        if !promtool_installed() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.toml"), POLICY).unwrap();
        let values = |value: &str| vec![value; 41].join(" ");
        // check: blocked exactly where some series breaches or is NaN, or there is none.
        let mut cases = String::from("policy = \"p.toml\"\n");
        for (i, answer) in answers.iter().enumerate() {
            let blocked = answer.is_empty() || answer.iter().any(|s| s.value != "5");
            // A series the query does not select, so that an empty answer is a case with series.
            let listed: String = answer
                .iter()
                .map(|s| (s.selector(), values(s.value)))
                .chain([(BYSTANDER.to_string(), values("1"))])
                .map(|(selector, values)| format!("  {{ series = '{selector}', values = '{values}' }},\n"))
                .collect();
            cases.push_str(&format!(
                "\n[[case]]\nname = \"a{i}\"\nat = \"10m\"\ninterval = \"15s\"\nseries = [\n{listed}]\n[case.expect]\noutcome = \"{}\"\n",
                if blocked { "blocked" } else { "ship" }
            ));
        }
        std::fs::write(dir.path().join("t.toml"), cases).unwrap();
        let out = gatecheck()
            .current_dir(dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TMPDIR", dir.path())
            .args(["test", "t.toml"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        prop_assert!(
            stdout.contains(&format!("gatecheck test: {} passed, 0 failed", answers.len())),
            "{stdout}{}\n{answers:?}",
            String::from_utf8_lossy(&out.stderr)
        );

        let rules_path = dir.path().join("rules.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(dir.path().join("p.toml"))
            .arg("--out")
            .arg(&rules_path)
            .assert()
            .success();
        let check = std::process::Command::new("promtool").args(["check", "rules"]).arg(&rules_path).output().unwrap();
        prop_assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        let text = std::fs::read_to_string(&rules_path).unwrap();
        let rules: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let alerts: Vec<&serde_yaml::Value> = rules["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .filter(|r| r.get("alert").is_some())
            .collect();
        let mut tests = Vec::new();
        for answer in answers {
            // The flow's gate is judged only once one of its series is a figure.
            let flow_ran = answer.iter().any(|s| s.value != "NaN");
            let checks: Vec<Value> = alerts
                .iter()
                .map(|rule| {
                    let name = rule["alert"].as_str().unwrap();
                    let no_data = name.ends_with("NoData");
                    let judged = flow_ran || rule["labels"]["gate"].as_str() != Some("queue-nightly");
                    let firing: Vec<BTreeMap<String, String>> = match (judged, answer.is_empty()) {
                        (false, _) => vec![],
                        (true, true) if no_data => vec![BTreeMap::new()],
                        (true, _) => answer
                            .iter()
                            .filter(|s| s.value == if no_data { "NaN" } else { "500" })
                            .map(Series::alert_labels)
                            .collect(),
                    };
                    let expected: Vec<Value> = firing
                        .into_iter()
                        .map(|mut labels| {
                            for (key, value) in rule["labels"].as_mapping().unwrap() {
                                labels.insert(key.as_str().unwrap().into(), value.as_str().unwrap().into());
                            }
                            serde_json::json!({"exp_labels": labels,
                                               "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap()})
                        })
                        .collect();
                    serde_json::json!({"eval_time": "10m", "alertname": name, "exp_alerts": expected})
                })
                .collect();
            let input: Vec<Value> = answer
                .iter()
                .map(|s| (s.selector(), values(s.value)))
                .chain([(BYSTANDER.to_string(), values("1"))])
                .map(|(selector, values)| serde_json::json!({"series": selector, "values": values}))
                .collect();
            tests.push(serde_json::json!({"interval": "15s", "input_series": input, "alert_rule_test": checks}));
        }
        let test = serde_json::json!({
            "rule_files": [rules_path.display().to_string()],
            "evaluation_interval": "15s",
            "tests": tests,
        });
        let path = dir.path().join("test.yml");
        std::fs::write(&path, serde_yaml::to_string(&test).unwrap()).unwrap();
        let run = std::process::Command::new("promtool").args(["test", "rules"]).arg(&path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        // promtool may log an evaluation error while an empty expectation still passes.
        let clean = !said.contains("same labelset") && !said.contains("many-to-many");
        prop_assert!(run.status.success() && clean, "{said}\n{text}\n{answers:?}");
        Ok(())
    }
}

/// Finding round34-judge/01: two runners both given `--segment 0/2` pushed through two relays
/// (per-region Prometheus servers whose `external_labels` add `region`), so segment 0 reached
/// the central Prometheus as two series and segment 1/2 never ran. distributed.toml counted
/// finished series (2 of 2) and shipped, while merge refuses the second copy of segment 0.
/// Rule (merge's): finished distinct segments over the run's segment count, and 0 unless each
/// segment of the attempt judged has exactly one runner (series of one segment that differ by
/// any label are two runners of it). check (`gatecheck test`, one real Prometheus backfilled
/// with promtool) and the exported alerts (promtool) agree with that rule on every runner set.
mod distributed_segment_runners {
    use super::*;
    use crate::support::repo;
    use proptest::prelude::*;

    /// Which attempt of run `r1` a runner belongs to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Attempt {
        /// The attempt of the set's segment count at the latest start.
        Judged,
        /// Another plan at the same start (here: one segment more): merge refuses the mix.
        OtherPlan,
        /// An earlier start of the same run id (a CI re-run): judged alone only when no runner
        /// started later.
        Earlier,
    }

    #[derive(Debug, Clone)]
    struct Runner {
        segment: u32,
        attempt: Attempt,
        /// The label a relay or agent added on the way (`region`), if any.
        relay: Option<&'static str>,
        /// Whether the runner labelled its series with its own `runner` (gatecheck does).
        labelled: bool,
    }

    #[derive(Debug, Clone)]
    struct RunnerSet {
        segments: u32,
        runners: Vec<Runner>,
    }

    impl Attempt {
        fn id(self) -> &'static str {
            match self {
                Attempt::Judged => "a1",
                Attempt::OtherPlan => "a2",
                Attempt::Earlier => "a0",
            }
        }
        fn start(self) -> u32 {
            if self == Attempt::Earlier {
                940
            } else {
                1000
            }
        }
        fn count(self, segments: u32) -> u32 {
            if self == Attempt::OtherPlan {
                segments + 1
            } else {
                segments
            }
        }
    }

    /// merge's rule over the runners of the latest start: one attempt, every one of its
    /// segments run exactly once.
    fn merge_accepts(set: &RunnerSet) -> bool {
        let latest = set.runners.iter().map(|r| r.attempt.start()).max();
        let judged: Vec<&Runner> = set.runners.iter().filter(|r| Some(r.attempt.start()) == latest).collect();
        let attempts: BTreeSet<Attempt> = judged.iter().map(|r| r.attempt).collect();
        let [attempt] = attempts.into_iter().collect::<Vec<_>>()[..] else { return false };
        let mut segments: Vec<u32> = judged.iter().map(|r| r.segment).collect();
        segments.sort_unstable();
        segments == (0..attempt.count(set.segments)).collect::<Vec<_>>()
    }

    /// The completeness series each runner pushed (as the central Prometheus holds them), in
    /// promtool's input_series notation, constant over five minutes.
    fn series(set: &RunnerSet) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, runner) in set.runners.iter().enumerate() {
            let count = runner.attempt.count(set.segments);
            let mut labels =
                format!("run_id=\"r1\",attempt=\"{}\",segment=\"{}/{count}\"", runner.attempt.id(), runner.segment);
            if runner.labelled {
                labels.push_str(&format!(",runner=\"r{k}\""));
            }
            if let Some(region) = runner.relay {
                labels.push_str(&format!(",region=\"{region}\""));
            }
            out.push((format!("gatecheck_segment_info{{{labels},segments=\"{count}\"}}"), format!("{count}x5")));
            out.push((format!("gatecheck_segment_finished{{{labels}}}"), "1x5".to_string()));
            let start = runner.attempt.start();
            out.push((format!("gatecheck_segment_start_time_seconds{{{labels}}}"), format!("{start}x5")));
        }
        out
    }

    /// Each set judged by check (one `gatecheck test` file, one real Prometheus) and by the
    /// exported segments-complete alerts (one promtool run): PASS and silence exactly where
    /// merge accepts the runners, FAIL and the alert otherwise.
    fn assert_agree_with_merge(sets: &[RunnerSet]) {
        if !promtool_installed() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let policy = repo().join("gates/distributed.toml");
        let mut tests = format!("policy = '{}'\nvars = {{ run_id = \"r1\" }}\n", policy.display());
        for (i, set) in sets.iter().enumerate() {
            let listed: String = series(set)
                .iter()
                .map(|(metric, values)| format!("  {{ series = '{metric}', values = '{values}' }},\n"))
                .collect();
            let verdict = if merge_accepts(set) { "PASS" } else { "FAIL" };
            tests.push_str(&format!(
                "\n[[case]]\nname = \"set {i}\"\nat = \"5m\"\ninterval = \"1m\"\nseries = [\n{listed}]\n[case.expect]\noutcome = \"blocked\"\n[case.expect.gates]\n\"segments-complete\" = \"{verdict}\"\n"
            ));
        }
        std::fs::write(dir.path().join("t.toml"), &tests).unwrap();
        assert_policy_tests_pass(dir.path(), sets.len());

        let rules = dir.path().join("rules.yml");
        gatecheck()
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .args(["--var", "run_id=r1", "--out"])
            .arg(&rules)
            .assert()
            .success();
        let check = std::process::Command::new("promtool").args(["check", "rules"]).arg(&rules).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        let file: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
        let rule = |name: &str| {
            file["groups"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|g| g["rules"].as_sequence().unwrap())
                .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(name))
                .unwrap_or_else(|| panic!("no alert {name}"))
                .clone()
        };
        let (fail, no_data) = (rule("GatecheckSegmentsComplete"), rule("GatecheckSegmentsCompleteNoData"));
        let fired = |rule: &serde_yaml::Value, fires: bool| {
            let expected = serde_json::json!([{ "exp_labels": serde_json::to_value(&rule["labels"]).unwrap(),
                                                "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap() }]);
            serde_json::json!({"eval_time": "5m", "alertname": rule["alert"].as_str().unwrap(),
                               "exp_alerts": if fires { expected } else { serde_json::json!([]) }})
        };
        let groups: Vec<Value> = sets
            .iter()
            .map(|set| {
                let input: Vec<Value> = series(set)
                    .into_iter()
                    .map(|(metric, values)| serde_json::json!({"series": metric, "values": values}))
                    .collect();
                serde_json::json!({"interval": "1m", "input_series": input,
                                   "alert_rule_test": [fired(&fail, !merge_accepts(set)), fired(&no_data, false)]})
            })
            .collect();
        let test = serde_json::json!({
            "rule_files": [rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": groups,
        });
        let said = promtool_test_rules(&dir.path().join("test.yml"), &test).err().unwrap_or_default();
        assert!(said.is_empty(), "{said}\n{sets:#?}");
    }

    fn runner(segment: u32, relay: Option<&'static str>) -> Runner {
        Runner { segment, attempt: Attempt::Judged, relay, labelled: true }
    }

    /// The finding's series and its neighbours, always run.
    #[test]
    fn one_segment_run_twice_through_two_relays_is_not_two_segments() {
        let relayed = |segment, region| Runner { labelled: false, ..runner(segment, Some(region)) };
        let sets = [
            // The finding: both runners ran 0/2, each through its own relay, without a runner label.
            RunnerSet { segments: 2, runners: vec![relayed(0, "a"), relayed(0, "b")] },
            // As gatecheck pushes now: each runner labels its series with its own id.
            RunnerSet { segments: 2, runners: vec![runner(0, Some("a")), runner(0, Some("b"))] },
            // Segment 0 twice straight into one Prometheus, segment 1 once.
            RunnerSet { segments: 2, runners: vec![runner(0, None), runner(0, None), runner(1, None)] },
            // Every segment once, through different relays: complete.
            RunnerSet { segments: 2, runners: vec![runner(0, Some("a")), runner(1, Some("b"))] },
            RunnerSet { segments: 2, runners: vec![relayed(0, "a"), relayed(1, "b")] },
            // A segment missing.
            RunnerSet { segments: 3, runners: vec![runner(0, None), runner(2, Some("a"))] },
        ];
        assert!(!merge_accepts(&sets[0]) && merge_accepts(&sets[3]));
        assert_agree_with_merge(&sets);
    }

    fn runner_set() -> impl Strategy<Value = RunnerSet> {
        let runner = (
            0u32..4,
            prop::sample::select(vec![
                Attempt::Judged,
                Attempt::Judged,
                Attempt::Judged,
                Attempt::OtherPlan,
                Attempt::Earlier,
            ]),
            prop::sample::select(vec![None, None, Some("a"), Some("b")]),
        );
        (1u32..4, prop::collection::vec(runner, 1..6)).prop_map(|(segments, runners)| RunnerSet {
            segments,
            runners: runners
                .into_iter()
                .map(|(segment, attempt, relay)| Runner {
                    // A runner's segment is one of its own attempt's (the runner refuses others).
                    segment: segment % attempt.count(segments),
                    attempt,
                    relay,
                    labelled: true,
                })
                .collect(),
        })
    }

    /// Sets built to hit merge's rule often: every segment once, then perhaps one duplicated
    /// (under a relay's label or not), dropped, or joined by a runner of another attempt.
    fn near_complete_set() -> impl Strategy<Value = RunnerSet> {
        (1u32..4, 0usize..5, prop::sample::select(vec![None, Some("a"), Some("b")]), any::<prop::sample::Index>())
            .prop_map(|(segments, change, relay, at)| {
                let mut runners: Vec<Runner> = (0..segments).map(|s| runner(s, relay)).collect();
                let picked = at.index(runners.len());
                match change {
                    1 => runners.push(runner(picked as u32, Some("b"))),
                    2 => runners.push(runner(picked as u32, relay)),
                    3 => {
                        runners.remove(picked);
                    }
                    4 => runners.push(Runner { attempt: Attempt::OtherPlan, ..runner(picked as u32, relay) }),
                    _ => {}
                }
                if runners.is_empty() {
                    runners.push(Runner { attempt: Attempt::Earlier, ..runner(0, relay) });
                }
                RunnerSet { segments, runners }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3))]
        #[test]
        fn the_live_check_passes_exactly_where_merge_accepts_the_runners(
            sets in prop::collection::vec(prop_oneof![runner_set(), near_complete_set()], 16)
        ) {
            assert_agree_with_merge(&sets);
        }
    }
}

/// Finding round35-figures/03 in the exported rules: under `sum by (le, instance)` an instance
/// whose histogram has a `_count` and no bucket series at all had no total to compare its count
/// with, so its group was never broken and the NoData alert stayed silent while check (now)
/// says NO DATA. Such a group is -Inf: the NoData alert fires for instance b, and the threshold
/// alert stays silent (instance a's lags are all under 1 s).
#[test]
fn a_group_with_a_count_and_no_bucket_fires_the_no_data_alert() {
    if !promtool_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        r#"
[policy]
name = "p"
max_waiver_days = 14
[[gate]]
id = "lag"
description = "scheduler lag p99 per instance"
query = 'histogram_quantile(0.99, sum by (le, instance) (lag_seconds_bucket))'
unit = "s"
thresholds = ["p(99) < 5s"]
"#,
    )
    .unwrap();
    let series = |series: &str, values: &str| serde_json::json!({"series": series, "values": values});
    let a = vec![
        series(r#"lag_seconds_bucket{instance="a",le="1"}"#, "100x10"),
        series(r#"lag_seconds_bucket{instance="a",le="+Inf"}"#, "100x10"),
        series(r#"lag_seconds_count{instance="a"}"#, "100x10"),
    ];
    let with_b_bare: Vec<serde_json::Value> =
        a.iter().cloned().chain([series(r#"lag_seconds_count{instance="b"}"#, "1000x10")]).collect();
    let breach = ExportedAlert::of(dir.path(), "GatecheckLag");
    breach.assert_fires_at_5m(dir.path(), with_b_bare.clone(), false, "b has a _count only");
    let no_data = ExportedAlert::of(dir.path(), "GatecheckLagNoData");
    // The control: instance a alone is judged and silent.
    no_data.assert_fires_at_5m(dir.path(), a, false, "a alone");
    // Instance b fires it, under its own label.
    let mut labels = serde_json::to_value(&no_data.rule["labels"]).unwrap();
    labels["instance"] = "b".into();
    let test = serde_json::json!({
        "rule_files": [no_data.rules.display().to_string()],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": with_b_bare,
            "alert_rule_test": [{"eval_time": "5m", "alertname": no_data.name, "exp_alerts": [{
                "exp_labels": labels,
                "exp_annotations": serde_json::to_value(&no_data.rule["annotations"]).unwrap(),
            }]}],
        }],
    });
    let test_path = dir.path().join("test.yml");
    std::fs::write(&test_path, serde_yaml::to_string(&test).unwrap()).unwrap();
    let run = std::process::Command::new("promtool").args(["test", "rules"]).arg(&test_path).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success() && !said.contains("same labelset"), "{said}\n{}", no_data.text);
}

/// Finding round38-judge/02: a reduced gate at its limit. Instances at 0.6, 0.7 and 0.95
/// average 0.75 in `check` (sum / n) and 0.7499999999999999 in Prometheus 2.42's running mean:
/// check blocks `value < 0.75`, and the exported alert, evaluated by a real Prometheus on the same
/// data at the same instant, must fire (it was silent). A sum at its limit (0.1 + 0.2 + 0.3 is
/// 0.6000000000000001, failing `value < 0.6`) fires too. The data is backfilled, so Prometheus
/// aggregates in one fixed series order; other orders are the unit proptest's
/// (`reduced_alerts_fire_wherever_check_fails`).
#[test]
fn reduced_alerts_fire_where_check_fails_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let base = (now / 60) * 60 - 1800;
    let at = base + 1800;
    let mut om = String::new();
    for t in (base..=at).step_by(60) {
        for (instance, pool, part) in [("a", "0.6", "0.1"), ("b", "0.7", "0.2"), ("c", "0.95", "0.3")] {
            om.push_str(&format!("db_pool_utilization{{instance=\"{instance}\"}} {pool} {t}\n"));
            om.push_str(&format!("queue_part{{instance=\"{instance}\"}} {part} {t}\n"));
        }
    }
    // OpenMetrics wants each series' samples together.
    let mut lines: Vec<&str> = om.lines().collect();
    lines.sort_by_key(|l| l.split(' ').next().unwrap().to_string());
    let data = dir.path().join("pool.om");
    std::fs::write(&data, lines.join("\n") + "\n# EOF\n").unwrap();
    let Some(prom) = PrometheusFixture::start_with(&data) else { return };
    let policy = dir.path().join("pool.toml");
    std::fs::write(
        &policy,
        r#"
[policy]
name = "poolavg"

[[gate]]
id = "pool-avg"
description = "Mean DB pool utilization over the instances"
query = 'db_pool_utilization'
unit = "ratio"
reduce = "avg"
thresholds = ["value < 0.75"]

[[gate]]
id = "part-sum"
description = "Queue share summed over the instances"
query = 'queue_part'
unit = "number"
reduce = "sum"
thresholds = ["value < 0.6"]
"#,
    )
    .unwrap();
    let check = gatecheck()
        .args(["check", "--policy"])
        .arg(&policy)
        .args(["--prometheus-url", &prom.url, "--at", &at.to_string()])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&check.stdout).to_string() + &String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{shown}");
    for gate in ["pool-avg", "part-sum"] {
        assert!(shown.lines().any(|l| l.contains(gate) && l.contains("FAIL")), "{gate}: {shown}");
    }
    let rules_path = dir.path().join("rules.yml");
    gatecheck()
        .args(["export", "prometheus-rules", "--policy"])
        .arg(&policy)
        .arg("--out")
        .arg(&rules_path)
        .assert()
        .success();
    let rules: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules_path).unwrap()).unwrap();
    for alert in ["GatecheckPoolAvg", "GatecheckPartSum"] {
        let expr = rules["groups"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_sequence().unwrap())
            .find(|r| r.get("alert").and_then(|a| a.as_str()) == Some(alert))
            .unwrap()["expr"]
            .as_str()
            .unwrap()
            .to_string();
        let answer = std::process::Command::new("curl")
            .args(["-sf", &format!("{}/api/v1/query", prom.url)])
            .args(["--data-urlencode", &format!("query={expr}"), "--data-urlencode", &format!("time={at}")])
            .output()
            .unwrap();
        let answer: Value = serde_json::from_slice(&answer.stdout).unwrap();
        let result = answer["data"]["result"].as_array().cloned().unwrap_or_default();
        assert_eq!(result.len(), 1, "{alert} is silent where check fails: {expr}\n{answer}");
    }
}

/// Finding round38-text/01: a query whose string literals (quoted, single-quoted, raw) hold the runner's command form `##[` is exported with none intact (the rule file
/// is often printed to the job log), and the file Prometheus loads reads the same query:
/// promtool accepts it, and its alert fires on the series those literals match.
#[test]
fn an_exported_query_keeps_no_runner_command_and_matches_the_same_series() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("inj.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"inj\"\n[[gate]]\nid = \"g1\"\ndescription = \"gate one\"\nunit = \"number\"\n\
         query = '''max by (path, code) (http_requests_total{path=\"/##[error]Release gates FAILED\", code=`##[warning]w`, \
         method='##[debug]m'})'''\nthresholds = [\"value < 500\"]\non_missing = \"warn\"\n",
    )
    .unwrap();
    let assert = gatecheck().args(["export", "prometheus-rules", "--policy"]).arg(&policy).assert().success();
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(!text.contains("##["), "{text}");
    assert!(text.contains(r###"path="/##\u005berror]Release gates FAILED""###), "{text}");
    let rules = dir.path().join("inj.yml");
    std::fs::write(&rules, &text).unwrap();
    if !promtool_installed() {
        return;
    }
    let checked = std::process::Command::new("promtool").arg("check").arg("rules").arg(&rules).output().unwrap();
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let file: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let rule =
        file["groups"][0]["rules"].as_sequence().unwrap().iter().find(|r| r.get("alert").is_some()).unwrap().clone();
    let mut labels = serde_json::to_value(&rule["labels"]).unwrap();
    labels["path"] = "/##[error]Release gates FAILED".into();
    labels["code"] = "##[warning]w".into();
    let series =
        r###"http_requests_total{path="/##[error]Release gates FAILED", code="##[warning]w", method="##[debug]m"}"###;
    for (value, fires) in [("900", true), ("100", false)] {
        let expected = match fires {
            true => serde_json::json!([{
                "exp_labels": labels,
                "exp_annotations": serde_json::to_value(&rule["annotations"]).unwrap(),
            }]),
            false => serde_json::json!([]),
        };
        let test = serde_json::json!({
            "rule_files": [rules.display().to_string()],
            "evaluation_interval": "1m",
            "tests": [{
                "interval": "1m",
                "input_series": [
                    {"series": series, "values": format!("{value} {value}")},
                    // The same series but for the `[` the export escapes: never matched.
                    {"series": r###"http_requests_total{path="/##\\[error]Release gates FAILED", code="##[warning]w", method="##[debug]m"}"###, "values": "900 900"},
                ],
                "alert_rule_test": [{"eval_time": "1m", "alertname": rule["alert"].as_str().unwrap(), "exp_alerts": expected}],
            }],
        });
        if let Err(promtool) = promtool_test_rules(&dir.path().join("test.yml"), &test) {
            panic!("{value}: {promtool}\n{text}");
        }
    }
}

/// A query's comment runs to the end of the one-line query; embedded in an exported rule's
/// larger expression it swallowed the rest, and Prometheus refused the whole rule file while
/// `export` said nothing (exit 0). The policy is refused when it loads: `export`, `check` and
/// `lint` alike name the gate; a `#` inside a string literal is no comment.
#[test]
fn a_query_with_a_comment_is_refused_and_a_hash_in_a_label_value_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, query: &str| {
        let path = dir.path().join(name);
        let text = format!(
            "[policy]\nname = \"c\"\n\n[[gate]]\nid = \"lag\"\nquery = '{query}'\nunit = \"s\"\nthresholds = [\"value < 5s\"]\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let commented = write("commented.toml", "max(lag_seconds) # the worst");
    for args in [&["export", "prometheus-rules", "--policy"][..], &["lint"][..]] {
        let out = gatecheck().args(args).arg(&commented).assert().code(2);
        // lint lists its findings on standard output, export says why on standard error.
        let said = format!("{}{}", String::from_utf8_lossy(&out.get_output().stdout), stderr_of(&out));
        assert!(said.contains("\"lag\"") && said.contains("holds a comment"), "{args:?}: {said}");
    }
    let kept = write("kept.toml", "max(lag_seconds{path=\"/#frag\"})");
    let out = gatecheck().args(["export", "prometheus-rules", "--policy"]).arg(&kept).assert().code(0);
    let rules = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(rules.contains("/#frag"), "{rules}");
    if promtool_installed() {
        let path = dir.path().join("rules.yml");
        std::fs::write(&path, &rules).unwrap();
        let run = std::process::Command::new("promtool").args(["check", "rules"]).arg(&path).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stdout));
    }
}
