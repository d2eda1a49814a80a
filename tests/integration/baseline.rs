//! Thresholds relative to the last accepted baseline: a 25 % regression warns (exit 0) with the
//! delta shown, blocks where the policy says so, respects the noise floor, and a missing
//! baseline follows on_missing.

use predicates::prelude::*;
use serde_json::Value;

use crate::support::*;

/// A copy of the pass summary with the rule_poll and auth_list p95 25 % higher.
fn regressed(dir: &std::path::Path) -> std::path::PathBuf {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap()).unwrap();
    // Every latency of the two flows 25 % slower (a run's statistics move together: a p(95)
    // alone above the max is refused as edited).
    for flow in ["rule_poll", "auth_list"] {
        for stat in doc["metrics"][format!("http_req_duration{{flow:{flow}}}")].as_object_mut().unwrap().values_mut() {
            if let Some(figure) = stat.as_f64() {
                *stat = Value::from(figure * 1.25);
            }
        }
    }
    // The parent holds every flow's samples: its extremes reach the slowed flows' (a part
    // never exceeds its whole).
    for flow in ["rule_poll", "auth_list"] {
        let max = doc["metrics"][format!("http_req_duration{{flow:{flow}}}")]["max"].as_f64().unwrap();
        let parent = &mut doc["metrics"]["http_req_duration"]["max"];
        *parent = Value::from(parent.as_f64().unwrap().max(max));
    }
    as_another_run(&mut doc);
    let path = dir.join("current.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn a_25_percent_regression_warns_with_the_delta() {
    let dir = tempfile::tempdir().unwrap();
    let current = regressed(dir.path());
    let assert = gatecheck()
        .args(["verify", "--policy", "gates/regression.toml", "--summary"])
        .arg(&current)
        .args(["--baseline", "fixtures/k6/1.1.0/pass/summary-export.json"])
        // The noise-floor note is on a passing row: shown with --verbose.
        .arg("--verbose")
        .assert()
        .code(0);
    let out = stdout_of(&assert);
    let line = table_line(&out, "query-regression", "p(95) <= baseline * 1.2");
    assert!(
        line.contains("WARN") && line.contains("(baseline 218.95 ms, +25.0%)") && line.contains("273.68 ms"),
        "{line}"
    );
    // +25 % but only +15 ms: within the 20 ms noise floor.
    let line = table_line(&out, "read-regression", "p(95) <= baseline * 1.2");
    assert!(line.contains("PASS") && line.contains("+25.0%"), "{line}");
    assert!(out.contains("within the noise floor (20 ms)"), "{out}");
    // p(99) is in neither summary: NO DATA as a warning, never a pass.
    assert!(table_line(&out, "write-regression", "p(99) <= baseline * 1.2").contains("NO DATA (warn)"));
    assert!(out.contains("RELEASE OK"), "{out}");
}

#[test]
fn a_blocking_regression_gate_fails_and_a_missing_baseline_follows_on_missing() {
    let dir = tempfile::tempdir().unwrap();
    let current = regressed(dir.path());
    let policy = std::fs::read_to_string(repo().join("gates/regression.toml"))
        .unwrap()
        .replace("severity = \"warn\"", "severity = \"block\"");
    let (_policy_dir, policy_path) = policy_file(&policy);
    let assert = gatecheck()
        .args(["verify", "--policy"])
        .arg(&policy_path)
        .arg("--summary")
        .arg(&current)
        .args(["--baseline", "fixtures/k6/1.1.0/pass/summary-export.json"])
        .assert()
        .code(1);
    assert!(table_line(&stdout_of(&assert), "query-regression", "p(95) <= baseline * 1.2").contains("FAIL"));

    // Without a baseline nothing can be judged, and nothing judged is never a pass.
    let assert =
        gatecheck().args(["verify", "--policy", "gates/regression.toml", "--summary"]).arg(&current).assert().code(1);
    let out = stdout_of(&assert);
    assert!(out.contains("no baseline was given: pass --baseline FILE"), "{out}");
    assert!(table_line(&out, "run-integrity", "at least 1 blocking gate judged").contains("NO DATA"), "{out}");
}

#[test]
fn a_gatecheck_json_report_and_raw_results_serve_as_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("accepted.json");
    gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--report"])
        .arg(format!("json={}", report.display()))
        .assert()
        .code(0);
    let current = regressed(dir.path());
    let out = stdout_of(
        &gatecheck()
            .args(["verify", "--policy", "gates/regression.toml", "--summary"])
            .arg(&current)
            .arg("--baseline")
            .arg(&report)
            .assert()
            .code(0),
    );
    assert!(
        table_line(&out, "query-regression", "p(95) <= baseline * 1.2").contains("(baseline 218.95 ms, +25.0%)"),
        "{out}"
    );

    // Raw results of another passing run, recorded earlier, as the baseline: its figures,
    // p(99) included (which its summary does not carry).
    let baseline_raw = "fixtures/k6/1.1.0/pass/raw.ndjson";
    let out = stdout_of(
        &gatecheck()
            .args([
                "verify",
                "--policy",
                "gates/regression.toml",
                "--summary",
                "fixtures/k6/1.1.0/pass-trend-stats-p99/summary-export.json",
            ])
            .args(["--raw", "fixtures/k6/1.1.0/pass-trend-stats-p99/raw.ndjson", "--baseline", baseline_raw])
            .assert(),
    );
    let line = table_line(&out, "query-regression", "p(99) <= baseline * 1.2");
    assert!(line.contains("(baseline ") && line.contains(" ms, ") && !line.contains("NO DATA"), "{line}");
}

/// Seen by round12-judge (not filed): the run judged now given as its own `--baseline` — its
/// summary, its raw results, a report of it — was accepted, and every relative gate read
/// +0.0 %: a run compared with itself never regresses. A baseline is an earlier run: the run
/// judged now is refused as one (exit 2, naming both), also with `--baseline-allow-blocked`.
#[test]
fn the_run_judged_now_is_no_baseline_in_any_form() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("now.json");
    gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--report"])
        .arg(format!("json={}", report.display()))
        .assert()
        .code(0);
    let summary = repo().join("fixtures/k6/1.1.0/pass/summary-export.json");
    let handle_summary = repo().join("fixtures/k6/1.1.0/pass/handle-summary.json");
    let raw = repo().join("fixtures/k6/1.1.0/pass/raw.ndjson");
    for baseline in [&summary, &handle_summary, &raw, &report] {
        for allow in [false, true] {
            let mut command = gatecheck();
            command.args(["verify", "--policy", "gates/regression.toml", "--summary"]).arg(&summary);
            command.arg("--baseline").arg(baseline);
            if allow {
                command.arg("--baseline-allow-blocked");
            }
            let err = stderr_of(&command.assert().code(2));
            assert!(err.contains("this baseline is the run judged now"), "{}: {err}", baseline.display());
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
    // Finding round14-judge/01: a summary carrying p(99) alone (`--summary-trend-stats
    // 'p(99)'`) has no identity: the run was taken as its own baseline, as the same file and
    // against its own raw results. Its figures are compared as such.
    let fixture = repo().join("fixtures/k6/1.1.0/pass-trend-stats-p99");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("summary-export.json")).unwrap()).unwrap();
    for metric in doc["metrics"].as_object_mut().unwrap().values_mut() {
        let metric = metric.as_object_mut().unwrap();
        if metric.contains_key("p(99)") {
            metric.retain(|stat, _| stat == "p(99)" || stat == "thresholds");
        }
    }
    let p99_only = dir.path().join("p99-only.json");
    std::fs::write(&p99_only, doc.to_string()).unwrap();
    let raw = fixture.join("raw.ndjson");
    for (current, baseline) in [(&["--summary"], &p99_only), (&["--raw"], &p99_only)] {
        let current_file = if current[0] == "--raw" { &raw } else { &p99_only };
        let err = stderr_of(
            &gatecheck()
                .args(["verify", "--policy", "gates/regression.toml"])
                .args(current)
                .arg(current_file)
                .arg("--baseline")
                .arg(baseline)
                .assert()
                .code(2),
        );
        assert!(err.contains("this baseline is the run judged now"), "{err}");
    }
    let err = stderr_of(
        &gatecheck()
            .args(["verify", "--policy", "gates/regression.toml", "--summary"])
            .arg(&p99_only)
            .arg("--baseline")
            .arg(&raw)
            .assert()
            .code(2),
    );
    assert!(err.contains("this baseline is the run judged now"), "{err}");
    // Another passing run is a baseline.
    gatecheck()
        .args(["verify", "--policy", "gates/regression.toml", "--summary"])
        .arg(&summary)
        .args(["--baseline", "fixtures/k6/1.1.0/pass-trend-stats-p99/summary-export.json"])
        .assert()
        .code(predicate::in_iter([0, 1]));
}

#[test]
fn history_records_verdicts_and_the_scaling_change_rule_needs_two_passes() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let verify = |summary: &str| {
        let assert = gatecheck_with_lag().args(["verify", "--summary", summary, "--history"]).arg(&history).assert();
        let code = assert.get_output().status.code();
        (code, stdout_of(&assert))
    };
    // First passing run: no earlier run recorded, so the rule cannot hold yet.
    let (code, out) = verify("fixtures/k6/1.1.0/pass/summary-export.json");
    assert_eq!(code, Some(1), "{out}");
    assert!(table_line(&out, "consecutive-passes", "last 2 runs passed").contains("FAIL"), "{out}");
    // Issue 23, item 14: the first run says what is missing, not "pass" under FAIL (on dd0cb13
    // the row read "pass (oldest first)").
    assert!(table_line(&out, "consecutive-passes", "last 2 runs passed").contains("needs 1 more passing run"), "{out}");
    assert!(out.contains("only 1 run(s) recorded, 2 needed"), "{out}");
    // The same evidence again is not a second run: it counts once.
    let (code, out) = verify("fixtures/k6/1.1.0/pass/summary-export.json");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("only 1 run(s) recorded, 2 needed"), "{out}");
    // Another run: the passing export with its slowest read request `extra` ms slower (the same
    // figures in other bytes would be the same run, counted once; avg is no figure of a run's
    // identity, finding round16-judge/02).
    let another_run = |name: &str, extra: u64| {
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/summary-export.json")).unwrap(),
        )
        .unwrap();
        let max = &mut doc["metrics"]["http_req_duration{flow:auth_list}"]["max"];
        *max = Value::from(max.as_f64().unwrap() + extra as f64);
        as_another_run(&mut doc);
        let path = dir.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    // Second passing run (new evidence): two consecutive passes.
    let second = another_run("second-run.json", 1);
    let (code, out) = verify(second.to_str().unwrap());
    assert_eq!(code, Some(0), "{out}");
    assert!(
        table_line(&out, "consecutive-passes", "last 2 runs passed").contains("pass, pass (oldest first)"),
        "{out}"
    );
    // A failing run breaks the streak, and the next passing run is not enough on its own.
    let (code, _) = verify("fixtures/k6/1.1.0/fail-latency/summary-export.json");
    assert_eq!(code, Some(1));
    let third = another_run("third-run.json", 2);
    let (code, out) = verify(third.to_str().unwrap());
    assert_eq!(code, Some(1), "{out}");
    assert!(table_line(&out, "consecutive-passes", "last 2 runs passed").contains("fail, pass"), "{out}");
    assert_eq!(std::fs::read_dir(&history).unwrap().count(), 5, "every verdict is recorded");
    // Without --history the rule is skipped, not failed.
    let out = stdout_of(
        &gatecheck_with_lag()
            .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json"])
            .assert()
            .code(0),
    );
    assert!(table_line(&out, "consecutive-passes", "last 2 runs passed").contains("SKIPPED"));
}

/// A baseline must be evidence of a passing, complete run: a k6 summary whose own thresholds
/// failed (k6 exited 99), a partial native run, and one segment of a run of several are
/// refused (exit 2, naming why) unless `--baseline-allow-blocked`.
#[test]
fn a_baseline_must_be_a_passing_complete_run() {
    let dir = tempfile::tempdir().unwrap();
    // Native runs as gatecheck's runner writes them (another run than the pass run judged
    // below, which is no baseline of its own).
    let partial = write_native_run_summary(
        dir.path(),
        "partial.json",
        NativeRun { partial: Some("interrupted (SIGTERM)".into()), ..NativeRun::default() },
        |_| {},
    );
    let segment =
        write_native_run_summary(dir.path(), "segment.json", NativeRun::default(), |doc| as_segment(doc, 1, 3));
    let cases = [
        (fixture("k6/1.1.0/fail-errors/summary-export.json"), "k6's own thresholds failed in it"),
        (partial, "the load run was partial (interrupted (SIGTERM))"),
        (segment, "segment 1/3 of a run of 3 segments"),
        // Finding round12-judge/05: a run made with --no-thresholds records no threshold
        // result, like k6 >= 1.5's machine-readable summary: no evidence it passed.
        (fixture("k6/1.1.0/no-thresholds-flag/summary-export.json"), "records no threshold results"),
        (fixture("k6/1.1.0/no-thresholds-flag/handle-summary.json"), "records no threshold results"),
    ];
    for (baseline, why) in cases {
        let run = |extra: &[&str]| {
            let mut cmd = gatecheck();
            cmd.args([
                "verify",
                "--policy",
                "gates/regression.toml",
                "--summary",
                "fixtures/k6/1.1.0/pass/summary-export.json",
                "--baseline",
            ])
            .arg(&baseline)
            .args(extra);
            cmd
        };
        let err = stderr_of(&run(&[]).assert().code(2));
        assert!(err.contains(why) && err.contains("--baseline-allow-blocked"), "{why}: {err}");
        assert!(err.contains(&baseline.display().to_string()), "{err}");
        run(&["--baseline-allow-blocked"]).assert().code(0);
        // Finding judgement/08: judged under a permissive policy (k6's thresholds and partial
        // runs not its business), the refused run passes and writes a report; that report is
        // no baseline either, because the report carries the baseline rule's answer.
        let report = dir.path().join("laundered.json");
        let permissive = "[k6_thresholds]\nenforce = false\n[integrity]\npartial_run = \"warn\"\n[[gate]]\nid = \"read\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 100000\"]\n";
        let (_guard, permissive) = policy_file(permissive);
        let judged = gatecheck()
            .args(["verify", "--policy"])
            .arg(&permissive)
            .arg("--summary")
            .arg(&baseline)
            .arg("--report")
            .arg(format!("json={}", report.display()))
            .output()
            .unwrap();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let laundered = |extra: &[&str]| {
            let mut cmd = gatecheck();
            cmd.args([
                "verify",
                "--policy",
                "gates/regression.toml",
                "--summary",
                "fixtures/k6/1.1.0/pass/summary-export.json",
                "--baseline",
            ])
            .arg(&report)
            .args(extra);
            cmd.assert()
        };
        let err = stderr_of(&laundered(&[]).code(2));
        if why != "segment 1/3 of a run of 3 segments" {
            assert_eq!(doc["outcome"], "pass", "{why}: {}", String::from_utf8_lossy(&judged.stdout));
        }
        if doc["outcome"] == "pass" {
            assert!(err.contains(why), "a {why} run laundered through a passing report: {err}");
        }
        assert!(err.contains("--baseline-allow-blocked"), "{err}");
        laundered(&["--baseline-allow-blocked"]).code(predicates::ord::ne(2));
    }
    // A passing, complete run's report is a baseline (another run's than the one judged).
    let report = dir.path().join("clean.json");
    gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass-trend-stats-p99/summary-export.json"])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .assert()
        .code(0);
    gatecheck()
        .args([
            "verify",
            "--policy",
            "gates/regression.toml",
            "--summary",
            "fixtures/k6/1.1.0/pass/summary-export.json",
            "--baseline",
        ])
        .arg(&report)
        .assert()
        .code(0);
}

/// A noise floor in a unit the gate's figure cannot have is a policy error at load, naming the
/// gate (it once loaded, and every row turned NO DATA at evaluation).
#[test]
fn a_noise_floor_in_the_wrong_unit_is_a_policy_error() {
    let text = std::fs::read_to_string(repo().join("gates/regression.toml")).unwrap();
    let wrong = text.replacen("noise_floor = \"20ms\"", "noise_floor = \"5%\"", 1);
    assert_ne!(wrong, text, "the regression policy has no 20ms noise floor");
    let (_dir, policy) = policy_file(&wrong);
    let err = stderr_of(&gatecheck().args(["gates", "--policy"]).arg(&policy).assert().code(2));
    assert!(err.contains("read-regression") && err.contains("noise_floor = \"5%\""), "{err}");
}

/// Findings round12-judge/05 and judgement/08, as a class over every real k6 summary shape in
/// fixtures/k6 (summary-export, handleSummary, machine-readable, of every recorded run): a
/// summary is fit as `--baseline` exactly when a gatecheck report of it is (one rule for every
/// shape), and never when its run did not pass k6's own thresholds (k6 exited non-zero, or ran
/// with --no-thresholds and so evaluated none).
#[test]
fn every_summary_shape_of_a_run_is_fit_as_a_baseline_by_one_rule() {
    let dir = tempfile::tempdir().unwrap();
    let permissive = "[k6_thresholds]\nenforce = false\n[integrity]\npartial_run = \"warn\"\n[[gate]]\nid = \"all\"\nmetric = \"http_req_duration\"\nthresholds = [\"p(95) < 100000\"]\n";
    let (_guard, permissive) = policy_file(permissive);
    let as_baseline = |baseline: &std::path::Path| {
        gatecheck()
            .args(["verify", "--policy"])
            .arg(&permissive)
            .args(["--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--baseline"])
            .arg(baseline)
            .output()
            .unwrap()
    };
    let mut judged = 0;
    for version in std::fs::read_dir(fixture("k6")).unwrap().flatten().filter(|e| e.path().is_dir()) {
        // Cases are folders with the command k6 ran (a loose fixture file is none).
        for case in std::fs::read_dir(version.path()).unwrap().flatten().filter(|c| c.path().join("case.json").exists())
        {
            let case = case.path();
            let command = std::fs::read_to_string(case.join("case.json")).unwrap();
            for (file, exit_file) in [
                ("summary-export.json", "exit_code.txt"),
                ("handle-summary.json", "exit_code.txt"),
                ("summary-v1.json", "exit_code-v1.txt"),
                ("handle-summary-v1.json", "exit_code-v1.txt"),
            ] {
                let summary = case.join(file);
                if !summary.exists() {
                    continue;
                }
                judged += 1;
                let k6_exit = std::fs::read_to_string(case.join(exit_file)).unwrap();
                let passed_its_thresholds = k6_exit.trim() == "0" && !command.contains("--no-thresholds");
                let direct = as_baseline(&summary);
                let direct_fit = direct.status.code() != Some(2);
                let report = dir.path().join("report.json");
                let _ = std::fs::remove_file(&report);
                gatecheck()
                    .args(["verify", "--policy"])
                    .arg(&permissive)
                    .arg("--summary")
                    .arg(&summary)
                    .arg("--report")
                    .arg(format!("json={}", report.display()))
                    .assert()
                    .code(0);
                let via_report = as_baseline(&report);
                let report_fit = via_report.status.code() != Some(2);
                let shown = summary.display();
                assert_eq!(
                    direct_fit,
                    report_fit,
                    "{shown}: fit as a baseline given directly ({}) but not as a report of it ({}), or the reverse",
                    String::from_utf8_lossy(&direct.stderr),
                    String::from_utf8_lossy(&via_report.stderr)
                );
                assert!(
                    passed_its_thresholds || !direct_fit,
                    "{shown}: k6 exited {} ({command}), yet the run is taken as a baseline",
                    k6_exit.trim()
                );
            }
        }
    }
    assert!(judged >= 40, "only {judged} summaries found under fixtures/k6");
}

/// Finding round15-judge/02: the first half of the run's own raw results (every line
/// byte-identical to the file judged beside it) has figures other than the whole run's, and was
/// accepted as its baseline: the failing run's p95 read +0.4 % and passed its relative gate. A
/// baseline is an earlier run: one whose samples do not all lie before the judged run's first
/// (a part of it, a run overlapping it, a later run) is refused (exit 2); a run wholly before
/// it is a baseline.
#[test]
fn a_part_of_the_run_judged_now_or_a_later_run_is_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (_policy_dir, policy) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-regression\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let run = repo().join("fixtures/k6/1.1.0/fail-latency");
    let raw = std::fs::read_to_string(run.join("raw.ndjson")).unwrap();
    let lines: Vec<&str> = raw.lines().collect();
    let half = lines.len() / 2;
    // k6 declares each metric where it first writes it: a later part carries the declarations.
    let declarations: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("{\"type\":\"Metric\"")).collect();
    let parts = [
        ("prefix", lines[..half].to_vec()),
        ("suffix", [declarations.clone(), lines[half..].to_vec()].concat()),
        ("middle", [declarations, lines[half / 2..half + half / 2].to_vec()].concat()),
    ];
    let verify = |baseline: &std::path::Path| {
        gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(run.join("summary-export.json"))
            .arg("--raw")
            .arg(run.join("raw.ndjson"))
            .arg("--baseline")
            .arg(baseline)
            .assert()
    };
    for (name, part) in parts {
        let path = dir.path().join(format!("{name}.ndjson"));
        std::fs::write(&path, part.join("\n") + "\n").unwrap();
        let err = stderr_of(&verify(&path).code(2));
        assert!(err.contains("this baseline is not an earlier run"), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // The passing run, recorded before it (its last sample 07:35:47.5, this run's first
    // 07:35:48.07), is a baseline; a run recorded after it (fail-errors, from 07:35:59) is not.
    verify(&repo().join("fixtures/k6/1.1.0/pass/raw.ndjson")).code(1);
    let err = stderr_of(&verify(&repo().join("fixtures/k6/1.1.0/fail-errors/raw.ndjson")).code(2));
    assert!(err.contains("this baseline is not an earlier run"), "{err}");
}

/// Finding round17-judge/04: a report of a `check` (figures from queries or the environment,
/// no load run) was accepted as a baseline, and its gate named `http_req_duration` stood as the
/// run's p95 (40 s: the fail-latency run passed at -98.9 %). A report is a baseline only of the
/// run it judged: its figures are the rows read from the k6 summary or raw results among its
/// inputs, and a report that judged no run is refused (exit 2).
#[test]
fn a_report_that_judged_no_load_run_is_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"env-only\"\n[[gate]]\nid = \"http_req_duration\"\nunit = \"ms\"\nthresholds = [\"p(95) < 60000ms\"]\n\
         [gate.env]\n\"p(95)\" = \"LAT_P95\"\n",
    );
    let report = dir.path().join("check.json");
    gatecheck()
        .env("LAT_P95", "40000")
        .args(["check", "--policy"])
        .arg(&policy)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .assert()
        .code(0);
    let (_guard2, relative) = policy_file(
        "[policy]\nname = \"rel\"\n[[gate]]\nid = \"latency-regression\"\nmetric = \"http_req_duration\"\n\
         thresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let assert = gatecheck()
        .args(["verify", "--policy"])
        .arg(&relative)
        .args(["--raw", "fixtures/k6/1.1.0/fail-latency/raw.ndjson", "--baseline"])
        .arg(&report)
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("check.json") && err.contains("judged no load run"), "{err}");
}

/// Finding round17-judge/05: a k6 >= 1.5 machine-readable summary records only when it was
/// written (`metadata.generated_at`, the run's end) and how long the run took
/// (`config.duration`); the first half of the same run's raw results lay "before" its end and
/// was accepted as its baseline (p95 +149 % over the last release passed at +2.1 %). The run
/// began at `generated_at - duration`: a part of it is no earlier run (exit 2), whether the
/// summary is written by `--summary-export` or passed to handleSummary, while a real earlier
/// run (the pass case, over a minute before) stays a baseline.
#[test]
fn a_prefix_of_the_runs_own_raw_results_is_no_baseline_of_its_machine_readable_summary() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (_policy_dir, policy) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"latency-regression\"\n\
         metric = \"http_req_duration\"\nthresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let unzip = |path: std::path::PathBuf| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
        text
    };
    let run = repo().join("fixtures/k6/2.2.0/no-thresholds-flag");
    let raw = unzip(run.join("raw-v1.ndjson.gz"));
    let lines: Vec<&str> = raw.lines().collect();
    let prefix = dir.path().join("own-prefix.ndjson");
    std::fs::write(&prefix, lines[..lines.len() / 2].join("\n") + "\n").unwrap();
    let earlier = dir.path().join("last-release.ndjson");
    std::fs::write(&earlier, unzip(repo().join("fixtures/k6/2.2.0/pass/raw-v1.ndjson.gz"))).unwrap();
    for summary in ["summary-v1.json", "handle-summary-v1.json"] {
        let verify = |baseline: &std::path::Path| {
            gatecheck()
                .args(["verify", "--policy"])
                .arg(&policy)
                .arg("--summary")
                .arg(run.join(summary))
                .arg("--baseline")
                .arg(baseline)
                .assert()
        };
        let err = stderr_of(&verify(&prefix).code(2));
        assert!(err.contains("this baseline is not an earlier run"), "{summary}: {err}");
        assert!(err.contains("config.duration"), "{summary}: the start is named as read: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        // The last release, recorded two minutes before: +149 %, a regression, judged (exit 1).
        verify(&earlier).code(1);
    }
}

/// Finding round18-judge/02: a gatecheck JSON report of the first 2/3 of the judged run's own
/// raw results (the raw prefix itself refused "not an earlier run") was accepted as its
/// baseline: a +626 % p95 over the last release read -3.3 % and passed. A report records the
/// span of times its run's evidence recorded (`run_span`), and a report given as `--baseline`
/// is dated by it under the one rule of earlier runs: a report of a part of the run judged now,
/// of an overlapping or of a later run is refused (exit 2) as its evidence given directly is;
/// a report of an earlier run is a baseline; a report whose evidence recorded no time (a
/// summary-export) is taken as that undated evidence given directly is.
#[test]
fn a_report_is_dated_by_its_runs_span_under_the_one_earlier_run_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (_rel_dir, relative) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-regression\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let (_loose_dir, loose) = policy_file(
        "[policy]\nname = \"loose\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 10s\"]\n",
    );
    let k6 = repo().join("fixtures/k6/1.1.0");
    // The report of `evidence` (given as --summary, or --raw for raw results) under the loose policy.
    let report_of = |evidence: &std::path::Path, name: &str| {
        let report = dir.path().join(format!("{name}.report.json"));
        let flag = if evidence.extension().is_some_and(|e| e == "ndjson") { "--raw" } else { "--summary" };
        gatecheck()
            .args(["verify", "--policy"])
            .arg(&loose)
            .arg(flag)
            .arg(evidence)
            .arg("--report")
            .arg(format!("json={}", report.display()))
            .assert()
            .code(0);
        report
    };
    let verify = |judged: &std::path::Path, baseline: &std::path::Path| {
        gatecheck()
            .args(["verify", "--baseline-allow-blocked", "--policy"])
            .arg(&relative)
            .arg("--raw")
            .arg(judged)
            .arg("--baseline")
            .arg(baseline)
            .assert()
    };
    // The repro: the first 2/3 of fail-latency's raw results, and a report of them.
    let full = k6.join("fail-latency/raw.ndjson");
    let raw = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<&str> = raw.lines().collect();
    let prefix = dir.path().join("prefix.ndjson");
    std::fs::write(&prefix, lines[..lines.len() * 2 / 3].join("\n") + "\n").unwrap();
    let err = stderr_of(&verify(&full, &report_of(&prefix, "prefix")).code(2));
    assert!(err.contains("this baseline is not an earlier run") && err.contains("run_span"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("prefix.report.json")).unwrap()).unwrap();
    assert!(report["run_span"]["earliest"].is_string() && report["run_span"]["latest"].is_string(), "{report}");
    // The last release's report is a baseline: the regression blocks (exit 1).
    verify(&full, &report_of(&k6.join("pass/raw.ndjson"), "pass-raw")).code(1);
    // Every pair of the three runs (pass, then fail-latency, then fail-errors), every baseline
    // kind: its report is refused as an earlier run exactly when the evidence itself is.
    let runs = ["pass", "fail-latency", "fail-errors"];
    let mut refused_by_time = 0;
    for base_run in runs {
        for kind in ["raw.ndjson", "summary-export.json", "handle-summary.json"] {
            let evidence = k6.join(base_run).join(kind);
            let report = report_of(&evidence, &format!("{base_run}-{kind}"));
            for judged_run in runs.iter().filter(|r| **r != base_run) {
                let judged = k6.join(judged_run).join("raw.ndjson");
                let direct = verify(&judged, &evidence).get_output().clone();
                let via_report = verify(&judged, &report).get_output().clone();
                let earlier = |out: &std::process::Output| {
                    (out.status.code(), String::from_utf8_lossy(&out.stderr).contains("not an earlier run"))
                };
                assert_eq!(
                    earlier(&direct),
                    earlier(&via_report),
                    "{base_run}/{kind} as baseline of {judged_run}: direct {} / report {}",
                    String::from_utf8_lossy(&direct.stderr),
                    String::from_utf8_lossy(&via_report.stderr)
                );
                refused_by_time += usize::from(earlier(&via_report).1);
            }
        }
    }
    // Raw results date the later runs' reports (fail-latency's for pass, fail-errors' for both).
    assert!(refused_by_time >= 3, "only {refused_by_time} reports refused as later runs");
}

/// Finding round21-judge/02: a report baseline's figures were the rows whose `source` text began
/// with "<summary or raw path>:", and a path is outside text: a summary named
/// `promql @ 2026-12-06T14` made a query row's source (`promql @ 2026-12-06T14:00:00Z: …`) match,
/// so a query gate named `http_req_duration` (10 s) stood as the run's p(95), and the
/// fail-latency run (+149 % over the pass run) passed against the report of it. A report records
/// where each row's figure came from in its own field (`figure_from`), and only rows read from
/// the run's evidence (k6 summary, raw results, native run) are a baseline's figures.
#[test]
fn a_report_baseline_takes_its_run_figures_by_their_recorded_origin_never_by_a_file_name() {
    let Some(prometheus) = PrometheusFixture::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_guard, base_policy) = policy_file(
        "[policy]\nname = \"base\"\n[k6_thresholds]\nenforce = false\n\
         [[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration\"\nthresholds = [\"p(95) < 1000ms\"]\n\
         [[gate]]\nid = \"http_req_duration\"\nquery = \"absent(gatecheck_unset) * 10\"\nunit = \"s\"\nthresholds = [\"p(95) < 180s\"]\n",
    );
    let (_guard2, relative) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"regression\"\n\
         metric = \"http_req_duration\"\nthresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let at = "2026-12-06T14:00:00Z";
    for name in ["promql @ 2026-12-06T14", "pass-summary.json"] {
        let summary = dir.path().join(name);
        std::fs::copy(fixture("k6/1.1.0/pass/summary-export.json"), &summary).unwrap();
        let report = dir.path().join(format!("{name}.report.json"));
        gatecheck()
            .args(["verify", "--policy"])
            .arg(&base_policy)
            .arg("--summary")
            .arg(&summary)
            .args(["--prometheus-url", &prometheus.url, "--at", at, "--report"])
            .arg(format!("json={}", report.display()))
            .assert()
            .code(0);
        // Against the report, the fail-latency run regresses as against the pass summary itself.
        let out = gatecheck()
            .args(["verify", "--policy"])
            .arg(&relative)
            .args(["--summary", "fixtures/k6/1.1.0/fail-latency/summary-export.json", "--baseline"])
            .arg(&report)
            .assert()
            .code(1);
        let out = stdout_of(&out);
        assert!(out.contains("(baseline 175.16 ms, +148.9%)") && out.contains("FAIL"), "{name}: {out}");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let from: Vec<(&str, &str)> = doc["gates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["id"].as_str().unwrap(), g["figure_from"].as_str().unwrap_or("null")))
            .collect();
        assert!(
            from.contains(&("read-latency", "k6_summary")) && from.contains(&("http_req_duration", "query")),
            "{from:?}"
        );
    }
}

/// Finding round21-judge/02: a report that does not record where its rows' figures came from
/// (written before `figure_from`, or with it removed) cannot tell its run's figures from a
/// query's: refused as a baseline (exit 2), naming the field.
#[test]
fn a_report_without_figure_origins_is_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"regression\"\n\
         metric = \"http_req_duration\"\nthresholds = [\"p(95) <= baseline * 1.2\"]\n",
    );
    let (_guard2, plain) = policy_file(
        "[policy]\nname = \"plain\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"latency\"\n\
         metric = \"http_req_duration\"\nthresholds = [\"p(95) < 1000ms\"]\n",
    );
    let base = dir.path().join("base.json");
    gatecheck()
        .args(["verify", "--policy"])
        .arg(&plain)
        .args(["--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--report"])
        .arg(format!("json={}", base.display()))
        .assert()
        .code(0);
    let verify = |baseline: &std::path::Path| {
        gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .args(["--summary", "fixtures/k6/1.1.0/fail-latency/summary-export.json", "--baseline"])
            .arg(baseline)
            .assert()
    };
    verify(&base).code(1);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    for gate in doc["gates"].as_array_mut().unwrap() {
        gate.as_object_mut().unwrap().remove("figure_from");
    }
    let older = dir.path().join("older.json");
    std::fs::write(&older, doc.to_string()).unwrap();
    let err = stderr_of(&verify(&older).code(2));
    assert!(err.contains("older.json") && err.contains("figure_from") && err.lines().count() == 1, "{err}");
}

/// A change past the noise floor by any amount is not excused (finding round27-judge/01): the
/// difference of 29.336017981441152 ms and 9.33601798144115 ms is 20.000000000000002 ms in
/// their decimal texts, which f64 subtraction rounds to 20.0, once `<= 20ms` and a +214 %
/// regression shipped. A difference of exactly the floor is still excused.
#[test]
fn a_change_past_the_noise_floor_by_any_amount_is_not_excused() {
    let dir = tempfile::tempdir().unwrap();
    // Each its own run: its min (a sample) its own.
    let summary = |p95: &str| {
        let trend = format!(
            r#"{{"avg": 1, "min": {}, "med": 1, "max": 40, "p(90)": 2, "p(95)": {p95}}}"#,
            0.5 + p95.parse::<f64>().unwrap() / 1e6
        );
        // A passing run's summary: its k6 thresholds recorded, so it may be a baseline.
        let with_threshold = trend.replacen('{', r#"{"thresholds": {"p(95)<400": false}, "#, 1);
        format!(
            r#"{{"root_group": {{"path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {{}}, "checks": {{}}, "name": ""}},
               "metrics": {{"http_req_duration": {trend}, "http_req_duration{{flow:auth_list}}": {with_threshold}}}}}"#
        )
    };
    let write = |name: &str, p95: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, summary(p95)).unwrap();
        path
    };
    let base = write("base.json", "9.33601798144115");
    let (_policy_dir, policy) = policy_file(
        "[policy]\nname = \"nf\"\nmax_waiver_days = 14\n[k6_thresholds]\nenforce = false\n\
         [[gate]]\nid = \"read-regression\"\nmetric = \"http_req_duration{flow:auth_list}\"\n\
         thresholds = [\"p(95) <= baseline * 1.2\"]\nnoise_floor = \"20ms\"\n",
    );
    let judge = |current: &str| {
        let current = write("cur.json", current);
        gatecheck()
            .args(["verify", "--no-env", "--color", "never", "-v", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(&current)
            .arg("--baseline")
            .arg(&base)
            .assert()
    };
    let past = judge("29.336017981441152");
    let out = stdout_of(&past);
    assert!(!out.contains("within the noise floor"), "a change past the floor was excused: {out}");
    past.code(1);
    // Exactly the floor apart (9.5 and 29.5 ms): within it.
    write("base.json", "9.5");
    let at = judge("29.5").code(0);
    assert!(stdout_of(&at).contains("within the noise floor"), "{}", stdout_of(&at));
}

/// The first `tenths` tenths (or, `from_end`, the last) of a shipped run's raw results, as a
/// copy taken while k6 was still writing would hold.
fn raw_slice(dir: &std::path::Path, run: &str, tenths: usize, from_end: bool) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture(&format!("k6/1.1.0/{run}/raw.ndjson"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len() * tenths / 10;
    let declared: Vec<&str> = lines.iter().copied().filter(|l| l.contains("\"type\":\"Metric\"")).collect();
    let part: Vec<&str> = if from_end { lines[lines.len() - keep..].to_vec() } else { lines[..keep].to_vec() };
    let mut out: Vec<&str> = if from_end { declared } else { Vec::new() };
    out.extend(part.into_iter().filter(|l| !from_end || !l.contains("\"type\":\"Metric\"")));
    let path = dir.join(format!("{run}-{tenths}-{from_end}.ndjson"));
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    path
}

/// Finding round28-judge/01: the run judged from its undated `--summary-export` (or legacy
/// handleSummary) took a slice of its own raw results (the first 80 %, the last 60 %) as its
/// baseline, and the relative gate passed against the run itself. Two pieces of evidence that
/// share a sample (a trend's min or max, written to the nanosecond) are one run, dated or not:
/// refused (exit 2). And the other way round: a prefix judged against its run's own summary.
#[test]
fn a_slice_of_the_runs_own_raw_results_is_no_baseline_of_its_undated_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"reg\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-regression\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) <= baseline * 1.05\"]\n",
    );
    let verify = |judged: (&str, std::path::PathBuf), baseline: &std::path::Path| {
        let out = gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg(judged.0)
            .arg(&judged.1)
            .arg("--baseline")
            .arg(baseline)
            .assert();
        let (code, text) = (out.get_output().status.code(), format!("{}{}", stdout_of(&out), stderr_of(&out)));
        assert_eq!(code, Some(2), "{}: {text}", baseline.display());
        assert!(text.contains("this baseline is the run judged now"), "{text}");
    };
    let export = fixture("k6/1.1.0/fail-latency/summary-export.json");
    for (tenths, from_end) in [(8, false), (6, true)] {
        let slice = raw_slice(dir.path(), "fail-latency", tenths, from_end);
        verify(("--summary", export.clone()), &slice);
    }
    // The reverse: a prefix of a run judged, its own whole summary as the baseline.
    let prefix = raw_slice(dir.path(), "pass", 8, false);
    verify(("--raw", prefix), &fixture("k6/1.1.0/pass/summary-export.json"));
}
