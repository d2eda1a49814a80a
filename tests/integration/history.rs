//! Run history (`--history`) as a hostile but plausible user would try it: one run judged twice
//! in another spelling, a record of another policy that shares the name, a record renamed to
//! sort first, a record dated in the future. Each must leave `consecutive_passes` unmet.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const PASS_EXPORT: &str = "fixtures/k6/1.1.0/pass/summary-export.json";
const FAIL_ERRORS: &str = "fixtures/k6/1.1.0/fail-errors/summary-export.json";
const TOO_FEW: &str = "only 1 run(s) recorded, 2 needed";

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Another passing run: the shipped passing export with its read flow's slowest request 1 ms
/// slower (a figure of the run's identity; avg is none, finding round16-judge/02).
fn another_passing_run(dir: &Path) -> PathBuf {
    let mut doc = read_json(&repo().join(PASS_EXPORT));
    let max = &mut doc["metrics"]["http_req_duration{flow:auth_list}"]["max"];
    *max = Value::from(max.as_f64().unwrap() + 1.0);
    as_another_run(&mut doc);
    let path = dir.join("another-run.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// `verify` of the shipped release policy (or `policy`) with history in `history`.
fn verify(summary: &Path, history: &Path, policy: Option<&Path>) -> assert_cmd::assert::Assert {
    let mut cmd = gatecheck_with_lag();
    cmd.arg("verify").arg("--summary").arg(summary).arg("--history").arg(history);
    if let Some(policy) = policy {
        cmd.arg("--policy").arg(policy);
    }
    cmd.assert()
}

/// `verify` of `policy`'s queries against the Prometheus at `url`, evaluated `--at` unix second
/// `at`, with history in `history`, exiting `code`: its JSON report (written in `dir`).
fn verify_queries_at(url: &str, policy: &Path, history: &Path, at: i64, code: i32, dir: &Path) -> Value {
    let report = dir.join(format!("r{at}.json"));
    gatecheck()
        .args(["verify", "--prometheus-url", url, "--at", &at.to_string(), "--history"])
        .arg(history)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .arg("--policy")
        .arg(policy)
        .assert()
        .code(code);
    read_json(&report)
}

fn records(history: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(history).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

/// Finding judgement/01: the same run, pretty-printed, with other lag figures, or with its raw
/// results beside it, is still one run.
#[test]
fn one_run_judged_twice_in_another_spelling_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let first = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, None).code(1));
    assert!(first.contains(TOO_FEW), "{first}");
    // Pretty-printed: other bytes, the same figures.
    let pretty = dir.path().join("pretty.json");
    let doc = read_json(&repo().join(PASS_EXPORT));
    std::fs::write(&pretty, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let out = stdout_of(&verify(&pretty, &history, None).code(1));
    assert!(out.contains(TOO_FEW), "a reformatted copy of one run counted as a second run: {out}");
    // The same summary judged later with other environment figures is still the same load run.
    let out = stdout_of(
        &gatecheck_with_lag()
            .env("SCHEDULER_LAG_P95_SECONDS", "1.5")
            .args(["verify", "--summary", PASS_EXPORT, "--history"])
            .arg(&history)
            .assert()
            .code(1),
    );
    assert!(out.contains(TOO_FEW), "judging one run again later counted it twice: {out}");
    // A truly different run counts.
    let other = another_passing_run(dir.path());
    verify(&other, &history, None).code(0);
    let doc = read_json(records(&history).last().unwrap());
    assert_eq!(doc["evidence_runs"].as_array().map(Vec::len), Some(1), "{doc}");
}

/// A run judged a pass and later re-judged blocked (the same load run, fresh lag figures over
/// the limit) stands as blocked: the re-judgement is never dropped as "the same run again", so a
/// passing candidate after it still needs another pass.
#[test]
fn a_run_re_judged_blocked_stands_as_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    verify(&repo().join(PASS_EXPORT), &history, None).code(1);
    let out = stdout_of(
        &gatecheck_with_lag()
            .env("SCHEDULER_LAG_P95_SECONDS", "600")
            // Env figures of one gate keep one distribution's order: the max is at least p(95).
            .env("SCHEDULER_LAG_MAX_SECONDS", "700")
            .args(["verify", "--summary", PASS_EXPORT, "--history"])
            .arg(&history)
            .assert()
            .code(1),
    );
    assert!(out.contains("RELEASE BLOCKED"), "{out}");
    let other = another_passing_run(dir.path());
    let out = stdout_of(&verify(&other, &history, None).code(1));
    let row = out.lines().find(|l| l.contains("consecutive-passes")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("FAIL"), "the earlier pass of a run re-judged blocked counted: {out}");
}

/// Finding judgement/03: a record judged by another policy text that happens to be called
/// `release` (another team's copy, an older edit) never counts for this one.
#[test]
fn a_record_of_another_policy_text_with_the_same_name_never_counts() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let release = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
    let another = format!("{release}\n# another team's copy, changed since\n");
    let (_guard, another_policy) = policy_file(&another);
    verify(&repo().join(PASS_EXPORT), &history, Some(&another_policy)).code(1);
    assert_eq!(read_json(&records(&history)[0])["policy"]["name"], "release");
    let other = another_passing_run(dir.path());
    let out = stdout_of(&verify(&other, &history, None).code(1));
    assert!(out.contains(TOO_FEW), "a record of another policy text counted: {out}");
}

/// Finding judgement/09: records are ordered by their own judgement time. A blocked run whose
/// record was renamed to sort first is still the last run.
#[test]
fn history_is_ordered_by_judgement_time_not_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    verify(&repo().join(PASS_EXPORT), &history, None).code(1);
    verify(&repo().join(FAIL_ERRORS), &history, None).code(1);
    let files = records(&history);
    assert_eq!(files.len(), 2);
    let blocked = files.iter().find(|f| read_json(f)["outcome"] == "blocked").unwrap().clone();
    std::fs::rename(&blocked, history.join("00000000T000000.000000000Z-release.json")).unwrap();
    let other = another_passing_run(dir.path());
    let out = stdout_of(&verify(&other, &history, None).code(1));
    let row = out.lines().find(|l| l.contains("consecutive-passes")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("FAIL"), "a renamed blocked record was skipped: {out}");
}

/// A record dated in the future is refused, naming it (time is never in the future).
#[test]
fn a_history_record_dated_in_the_future_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    verify(&repo().join(PASS_EXPORT), &history, None).code(1);
    let record = records(&history).remove(0);
    let mut doc = read_json(&record);
    doc["judged_at"] = Value::from("2099-01-01T00:00:00Z");
    std::fs::write(&record, doc.to_string()).unwrap();
    let other = another_passing_run(dir.path());
    let err = stderr_of(&verify(&other, &history, None).code(2));
    assert!(err.contains("judged_at") && err.contains("in the future"), "{err}");
    assert!(err.contains(&record.display().to_string()), "{err}");
}

/// Finding judgement2/03: one k6 run judged from its raw results alone, then from its summary
/// alone, is one run (the figures both carry are identical by k6's own method).
#[test]
fn one_run_as_raw_results_then_as_its_summary_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let release = release_policy_judging_raw();
    let out = stdout_of(
        &release
            .verify()
            .args(["--raw", "fixtures/k6/1.1.0/pass/raw.ndjson", "--history"])
            .arg(&history)
            .assert()
            .code(1),
    );
    assert!(out.contains(TOO_FEW), "{out}");
    let out = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, Some(&release.path)).code(1));
    assert!(out.contains(TOO_FEW), "the summary of the run the raw results were counted again: {out}");
}

/// Finding judge5/02: `demo --history DIR` recorded a run against gatecheck's own embedded API
/// as a release run, and the candidate's first real `verify` counted it as the pass before it.
/// A record marked as the demo's never counts in history, and is no baseline either.
#[test]
fn a_demo_run_never_counts_as_a_run_of_the_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let out = stdout_of(
        &gatecheck()
            .args(["demo", "--duration", "3s", "--out-dir"])
            .arg(dir.path().join("demo"))
            .arg("--history")
            .arg(&history)
            .assert(),
    );
    let written = records(&history);
    assert_eq!(written.len(), 1, "{out}");
    assert_eq!(read_json(&written[0])["demo"], true, "the demo's record does not say so: {out}");
    // The candidate's first run: only 1 run recorded (its own), blocked.
    let out = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, None).code(1));
    assert!(out.contains(TOO_FEW), "the demo's run counted as the candidate's: {out}");
    // Nor does the demo's report stand as a baseline (the reasons `--baseline` refuses).
    let unfit = read_json(&written[0])["baseline_unfit"].to_string();
    assert!(unfit.contains("demo"), "{unfit}");
    // The demo's own summary judged again by `verify`, alone or merged, is still the demo's:
    // it says so, and neither its record nor its report counts.
    let summary = std::fs::read_dir(dir.path().join("demo"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| read_json_opt(p).is_some_and(|doc| doc["gatecheck"]["recorder"].is_object()))
        .unwrap_or_else(|| panic!("no native summary in the demo's folder: {out}"));
    assert_eq!(read_json(&summary)["gatecheck"]["demo"], true, "{}", summary.display());
    let again = dir.path().join("again");
    let report = dir.path().join("again.json");
    // Without lag figures in the environment: the demo's run measured its lag itself, and an
    // env figure beside a measured one is exit 2 (round18-figures/03).
    gatecheck()
        .args(["verify", "--policy", "gates/release.toml", "--summary"])
        .arg(&summary)
        .arg("--history")
        .arg(&again)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .assert()
        .code(1);
    let judged = read_json(&report);
    assert_eq!(judged["demo"], true, "verify of the demo's summary: {judged}");
    assert!(judged["baseline_unfit"].to_string().contains("demo"), "{judged}");
    assert_eq!(read_json(&records(&again)[0])["demo"], true);
    // Finding round9-judge/02: nor is the demo's summary given directly a baseline (its report
    // was refused, the summary itself taken): one rule for both.
    assert_the_demos_summary_is_no_baseline(&summary);
}

/// `--baseline SUMMARY` of the demo's run is refused, saying why.
fn assert_the_demos_summary_is_no_baseline(summary: &Path) {
    let err = stderr_of(
        &gatecheck()
            .args(["verify", "--policy", "gates/regression.toml", "--summary", PASS_EXPORT, "--baseline"])
            .arg(summary)
            .assert()
            .code(2),
    );
    assert!(err.contains("it judged the demo") && err.contains("a baseline must be"), "{err}");
}

fn read_json_opt(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Finding judge5/03: `judged_at` was whole seconds, and two records of the same second were
/// ordered by file name, so a blocked run judged just after a pass, its record copied back
/// under another name (as `verdict.json` artifacts are), read as the older one. Records carry
/// `judged_at` to the nanosecond, and a tie (or an old whole-second record) that cannot be
/// ordered puts the blocked record last.
#[test]
fn records_of_the_same_second_are_ordered_by_time_and_ties_put_the_blocked_one_last() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    verify(&repo().join(PASS_EXPORT), &history, None).code(1);
    verify(&repo().join(FAIL_ERRORS), &history, None).code(1);
    let files = records(&history);
    assert_eq!(files.len(), 2);
    // Written in turn, their file names (the time written) say which came first: the passing
    // run (blocked only by the history gate itself), then the blocked one.
    let (passed, blocked) = (read_json(&files[0]), read_json(&files[1]));
    let judged_at = blocked["judged_at"].as_str().unwrap().to_string();
    assert!(judged_at.contains('.'), "judged_at is not finer than a second: {judged_at}");
    let copied = dir.path().join("copied");
    std::fs::create_dir(&copied).unwrap();
    let other = another_passing_run(dir.path());
    // The blocked record named to sort first: still the newer.
    std::fs::write(copied.join("verdict-a.json"), blocked.to_string()).unwrap();
    std::fs::write(copied.join("verdict-b.json"), passed.to_string()).unwrap();
    let out = stdout_of(&verify(&other, &copied, None).code(1));
    let row = out.lines().find(|l| l.contains("consecutive-passes")).unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("FAIL"), "the later blocked record read as the older: {out}");
    // Both written to the same whole second (as an older gatecheck wrote them): they cannot be
    // ordered, and the blocked one counts as the newer whatever the names.
    let second = &judged_at[..judged_at.find('.').unwrap()];
    for (blocked_name, passed_name) in [("verdict-a.json", "verdict-b.json"), ("verdict-b.json", "verdict-a.json")] {
        let tied = dir.path().join(format!("tied-{blocked_name}"));
        std::fs::create_dir(&tied).unwrap();
        for (name, doc) in [(blocked_name, &blocked), (passed_name, &passed)] {
            let mut doc = doc.clone();
            doc["judged_at"] = Value::from(format!("{second}Z"));
            std::fs::write(tied.join(name), doc.to_string()).unwrap();
        }
        let out = stdout_of(&verify(&other, &tied, None).code(1));
        let row = out.lines().find(|l| l.contains("consecutive-passes")).unwrap_or_else(|| panic!("{out}"));
        assert!(row.contains("FAIL"), "a tie let the pass count as the newer ({blocked_name}): {out}");
    }
}

/// A run of any command that loads gatecheck's own demo API (`run` or `smoke` against `demo
/// --serve`) is the demo's: the API says so on every answer, the summary and the record say
/// `demo`, history does not count it and it is no baseline. A run against another target is
/// not marked.
#[test]
fn a_run_against_the_demo_api_is_the_demos_whichever_command_ran_it() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let smoke = spawn_smoke(&target.url, dir.path(), "smoke", &["--duration", "3s"]).wait_with_output().unwrap();
    assert!(smoke.status.success(), "{smoke:?}");
    let summary = dir.path().join("smoke.json");
    assert_eq!(read_json(&summary)["gatecheck"]["demo"], true, "smoke against the demo API");
    let history = dir.path().join("history");
    let run = gatecheck_with_lag()
        .envs([("PERF_BASE_URL", target.url.as_str()), ("PERF_BEARER_TOKEN", DEMO_TOKEN), ("PERF_RULE_ID", DEMO_RULE)])
        .args(["run", "--quiet", "--duration", "3s", "--summary-out"])
        .arg(dir.path().join("run.json"))
        .arg("--log-out")
        .arg(dir.path().join("run.log"))
        .arg("--history")
        .arg(&history)
        .output()
        .unwrap();
    assert!(matches!(run.status.code(), Some(0 | 1)), "{run:?}");
    assert_eq!(read_json(&dir.path().join("run.json"))["gatecheck"]["demo"], true, "run against the demo API");
    assert_eq!(read_json(&records(&history)[0])["demo"], true, "the run's record");
    // The candidate's first run counts alone.
    let out = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, None).code(1));
    assert!(out.contains(TOO_FEW), "{out}");
    assert_the_demos_summary_is_no_baseline(&summary);
    // Asked for explicitly, the demo API stands in for a candidate (gatecheck's own tests).
    let stand_in = Served::start(&["demo", "--serve", "--as-candidate"]);
    let smoke = spawn_smoke(&stand_in.url, dir.path(), "stand-in", &["--duration", "3s"]).wait_with_output().unwrap();
    assert!(smoke.status.success(), "{smoke:?}");
    assert!(read_json(&dir.path().join("stand-in.json"))["gatecheck"].get("demo").is_none());
    // Another target's run is the candidate's.
    let other = serve_body(r#"{"items": []}"#);
    let smoke = spawn_smoke(&other, dir.path(), "other", &["--duration", "3s"]).wait_with_output().unwrap();
    assert!(dir.path().join("other.json").exists(), "{smoke:?}");
    assert!(read_json(&dir.path().join("other.json"))["gatecheck"].get("demo").is_none());
}

/// The consecutive-passes row of a verdict's table.
fn history_row(out: &str, gate: &str) -> String {
    let prefix = format!("│ {gate} ");
    out.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {gate} row: {out}")).to_string()
}

/// Finding round12-judge/01: a policy whose k6 figures are counters only measured nothing a run
/// can be told by, and each judgement got an identity of its own (the file's digest and the
/// judgement time), so one summary judged twice met `consecutive_passes = 2`. Such a run has no
/// identity: it never counts toward consecutive passes, and the row says why.
#[test]
fn a_run_its_figures_cannot_identify_never_counts_toward_consecutive_passes() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"throughput\"\ndescription = \"enough load\"\nmax_waiver_days = 14\n\n\
         [[gate]]\nid = \"requests\"\ndescription = \"enough requests\"\nmetric = \"http_reqs\"\nthresholds = [\"count > 100\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"two passing runs\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    for _ in 0..2 {
        let out = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, Some(&policy)).code(1));
        let row = history_row(&out, "consecutive-passes");
        assert!(row.contains("FAIL"), "one run judged twice met consecutive passes: {out}");
        assert!(out.contains("cannot identify"), "the row does not say why the run cannot count: {out}");
    }
    for record in records(&history) {
        assert_eq!(read_json(&record)["evidence_runs"], serde_json::json!([]), "an unidentified run got an identity");
    }
}

/// Finding round12-judge/02: run C judged BLOCKED and then re-judged with passing lag figures
/// read "pass, pass" with the run before it: records naming the run judged now were skipped
/// before its blocked judgement was consulted. A run stands as its worst judgement, the current
/// one included.
#[test]
fn a_blocked_run_re_judged_to_a_pass_still_stands_as_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let run_c = repo().join("fixtures/k6/1.1.0/pass-trend-stats-p99/summary-export.json");
    verify(&repo().join(PASS_EXPORT), &history, None).code(1);
    let judge_c = |lag: &str| {
        gatecheck_with_lag()
            .env("SCHEDULER_LAG_P95_SECONDS", lag)
            // Env figures of one gate keep one distribution's order: the max is at least p(95).
            .env("SCHEDULER_LAG_MAX_SECONDS", "150")
            .arg("verify")
            .arg("--summary")
            .arg(&run_c)
            .arg("--history")
            .arg(&history)
            .assert()
    };
    judge_c("100").code(1);
    let out = stdout_of(&judge_c("5").code(1));
    let row = history_row(&out, "consecutive-passes");
    assert!(row.contains("FAIL"), "a blocked run re-judged until it passed shipped: {out}");
}

/// Finding round12-judge/03: history was read once with `count_waived` of ANY history gate, so
/// a warn-only gate counting waived runs made the blocking gate count them too. Each history
/// gate reads history with its own setting.
#[test]
fn each_history_gate_counts_waived_runs_by_its_own_setting() {
    let dir = tempfile::tempdir().unwrap();
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(3)).date();
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        format!("[[waiver]]\ngate = \"read-latency\"\nowner = \"dana@example.com\"\nreason = \"cold cache\"\nticket = \"OPS-1\"\nexpires = {expires}\n"),
    )
    .unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"rel\"\ndescription = \"read latency\"\nmax_waiver_days = 14\n\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"read-latency\"\ndescription = \"read flow latency\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"two clean passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n\n\
         [[gate]]\nid = \"recent-passes\"\ndescription = \"two passes, waived ones included\"\nconsecutive_passes = 2\ncount_waived = true\nseverity = \"warn\"\non_missing = \"skip\"\n",
    );
    let history = dir.path().join("history");
    gatecheck()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/fail-latency/summary-export.json", "--policy"])
        .arg(&policy)
        .arg("--waivers")
        .arg(&waivers)
        .arg("--history")
        .arg(&history)
        .assert()
        .code(1);
    let out = stdout_of(&verify(&repo().join(PASS_EXPORT), &history, Some(&policy)).code(1));
    assert!(history_row(&out, "consecutive-passes").contains("FAIL"), "the blocking gate counted a waived run: {out}");
    assert!(history_row(&out, "recent-passes").contains("PASS"), "the count_waived gate did not count it: {out}");
}

/// Finding round12-judge/06: a summary written with `--summary-trend-stats "med,p(99)"` carries
/// med and p(99) only, its raw results all five digested stats, so the two shapes of one run got
/// two identities and one run met `consecutive_passes = 2`.
#[test]
fn one_run_as_a_summary_with_other_trend_stats_then_as_raw_results_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo().join("fixtures/k6/1.1.0/pass-trend-stats-p99");
    let mut doc = read_json(&fixture.join("summary-export.json"));
    for (_, metric) in doc["metrics"].as_object_mut().unwrap() {
        let metric = metric.as_object_mut().unwrap();
        if metric.contains_key("med") {
            for stat in ["avg", "min", "max", "p(90)", "p(95)"] {
                metric.remove(stat);
            }
        }
    }
    let summary = dir.path().join("summary.json");
    std::fs::write(&summary, doc.to_string()).unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"p99\"\ndescription = \"tail latency\"\nmax_waiver_days = 14\n\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"read-latency\"\ndescription = \"tail\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(99) < 700ms\"]\n\n\
         [[gate]]\nid = \"read-errors\"\ndescription = \"errors\"\nmetric = \"http_req_failed{flow:auth_list}\"\nthresholds = [\"rate < 1%\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"two passing runs\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let history = dir.path().join("history");
    stdout_of(&verify(&summary, &history, Some(&policy)).code(1));
    let out = stdout_of(
        &gatecheck()
            .arg("verify")
            .arg("--policy")
            .arg(&policy)
            .arg("--raw")
            .arg(fixture.join("raw.ndjson"))
            .arg("--history")
            .arg(&history)
            .assert()
            .code(1),
    );
    assert!(out.contains(TOO_FEW), "the raw results of the run the summary was counted again: {out}");
}

/// Finding round13-judge/01: a real k6 run with `rule_poll` switched off carries that flow's
/// thresholded rates at 0/0 in its summary and nothing of them in its raw results, so the two
/// shapes of one run had two identities and met `consecutive_passes = 2`. A rate that counted
/// nothing is no figure of the run, and each count stands on its own like each trend figure.
#[test]
fn a_run_with_an_empty_flow_judged_as_summary_then_as_raw_results_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo().join("fixtures/k6/1.1.0/rule-run-disabled");
    let history = dir.path().join("history");
    let judge = |input: &[&str], path: PathBuf| {
        let mut cmd = gatecheck_with_lag();
        cmd.env("PERF_ENABLE_RULE_RUN", "0").args(["verify", "--policy", "gates/release.toml"]);
        cmd.args(input).arg(path).arg("--history").arg(&history);
        stdout_of(&cmd.assert().code(1))
    };
    judge(&["--summary"], fixture.join("summary-export.json"));
    let out = judge(&["--raw"], fixture.join("raw.ndjson"));
    assert!(
        out.lines().any(|line| line.contains("consecutive-passes") && line.contains("FAIL"))
            && !out.contains("pass, pass"),
        "the raw results of the run the summary was counted again: {out}"
    );
}

/// Finding round16-judge/02: a run's identity held `avg` to the bit, and the same samples summed
/// in another order differ in avg's last bits, so the real k6 run's raw results judged again with
/// their points in reverse order met `consecutive_passes = 2` alone. An identity holds only
/// figures no order of the samples changes (min, med, max, p(95), rate counts): the same
/// samples reordered, or dealt out to two raw files given in either order, are one run.
#[test]
fn one_run_from_its_raw_results_in_any_order_or_split_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"hist\"\ndescription = \"history test\"\nmax_waiver_days = 14\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"latency\"\ndescription = \"overall latency\"\nmetric = \"http_req_duration\"\nthresholds = [\"p(95) < 2000ms\", \"avg < 2000ms\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"two passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let text = std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/raw.ndjson")).unwrap();
    let (metrics, points): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.contains("\"type\":\"Metric\""));
    let reversed = dir.path().join("reversed.ndjson");
    let mut lines = metrics.clone();
    lines.extend(points.iter().rev());
    std::fs::write(&reversed, lines.join("\n") + "\n").unwrap();
    let (one, two) = raw_segments_side_by_side(&text);
    let (first, second) = (dir.path().join("part-1.ndjson"), dir.path().join("part-2.ndjson"));
    std::fs::write(&first, one).unwrap();
    std::fs::write(&second, two).unwrap();
    let judge = |raw: &[&Path]| {
        let mut cmd = gatecheck_with_lag();
        cmd.arg("verify").arg("--policy").arg(&policy).arg("--history").arg(&history);
        for path in raw {
            cmd.arg("--raw").arg(path);
        }
        stdout_of(&cmd.assert().code(1))
    };
    let original = repo().join("fixtures/k6/1.1.0/pass/raw.ndjson");
    for raw in [vec![original.as_path()], vec![reversed.as_path()], vec![second.as_path(), first.as_path()]] {
        let out = judge(&raw);
        assert!(out.contains(TOO_FEW) && !out.contains("pass, pass"), "{raw:?} counted as another run: {out}");
    }
}

/// `verify` of `policy` on raw results with history in `history`: (exit code, stdout).
fn judge_raw(policy: &Path, raw: &Path, history: &Path) -> (Option<i32>, String) {
    let assert = gatecheck_with_lag()
        .args(["verify", "--policy"])
        .arg(policy)
        .arg("--raw")
        .arg(raw)
        .arg("--history")
        .arg(history)
        .assert();
    (assert.get_output().status.code(), stdout_of(&assert))
}

/// k6 raw results of one run whose samples start `hours_ago` hours ago: `count` read requests
/// with durations spread evenly over `lo..hi` ms (deterministically shuffled), 1 ms apart.
fn raw_run(dir: &Path, name: &str, hours_ago: i64, count: usize, lo: f64, hi: f64) -> PathBuf {
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(hours_ago);
    let tags = serde_json::json!({"expected_response": "true", "flow": "auth_list", "group": "", "method": "GET",
        "name": "GET /api/watch-rules", "proto": "HTTP/1.1", "scenario": "auth_list", "status": "200",
        "url": "GET /api/watch-rules"});
    let mut lines = vec![
        serde_json::json!({"type": "Metric", "metric": "http_reqs", "data": {"name": "http_reqs", "type": "counter", "contains": "default", "thresholds": [], "submetrics": null}}),
        serde_json::json!({"type": "Metric", "metric": "http_req_duration", "data": {"name": "http_req_duration", "type": "trend", "contains": "time", "thresholds": [], "submetrics": null}}),
        serde_json::json!({"type": "Metric", "metric": "http_req_failed", "data": {"name": "http_req_failed", "type": "rate", "contains": "default", "thresholds": [], "submetrics": null}}),
    ];
    for i in 0..count {
        let value = lo + (hi - lo) * (((i * 7919) % count) as f64 + 0.5) / count as f64;
        let at = (start + time::Duration::milliseconds(i as i64))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        for (metric, v) in [("http_reqs", 1.0), ("http_req_duration", value), ("http_req_failed", 0.0)] {
            lines.push(
                serde_json::json!({"type": "Point", "metric": metric, "data": {"time": at, "value": v, "tags": tags}}),
            );
        }
    }
    let path = dir.join(format!("{name}.ndjson"));
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    path
}

/// Finding round19-judge/02: history was ordered by each run's LATEST record, so re-verifying an
/// old passing run A after a newer blocked run B moved A past B, and run C after B read "pass,
/// pass" and shipped. A run's place is when it ran (its report's `run_span`), never when it was
/// last judged: A, B, A again, C is C after the blocked B, as without the re-judgement.
/// Finding round20-judge/01: records were placed by when their runs ran, but the run judged now
/// was always the newest: X (passed, ran first), F (blocked), P (passed), judged F, P, then X,
/// read "pass, pass" for X and shipped it. The run judged now has its place too: a pass that ran
/// after it began is no run before it, and X has no passing run before it.
#[test]
fn an_old_run_judged_after_newer_ones_is_placed_where_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"hist\"\ndescription = \"history\"\nmax_waiver_days = 14\n\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"read-latency\"\ndescription = \"read p95\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"this run and the one before it passed\"\nconsecutive_passes = 2\n",
    );
    let x = raw_run(dir.path(), "x", 5, 1000, 50.0, 150.0);
    let f = raw_run(dir.path(), "f", 3, 1000, 500.0, 1500.0);
    let p = raw_run(dir.path(), "p", 1, 1000, 60.0, 160.0);
    let history = dir.path().join("history");
    let judge = |raw: &Path| judge_raw(&policy, raw, &history);
    judge(&f);
    judge(&p);
    let (code, out) = judge(&x);
    assert!(history_row(&out, "consecutive-passes").contains("FAIL"), "X ran before every recorded run: {out}");
    assert_eq!(code, Some(1), "{out}");
    // In run order P follows F (blocked): judged again, P is still blocked by it.
    let (code, out) = judge(&p);
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn an_old_pass_re_judged_after_a_newer_blocked_run_stays_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"hist\"\ndescription = \"history\"\nmax_waiver_days = 14\n\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"read-latency\"\ndescription = \"read p95\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"this run and the one before it passed\"\nconsecutive_passes = 2\n",
    );
    let a = raw_run(dir.path(), "a", 5, 1000, 50.0, 150.0);
    let b = raw_run(dir.path(), "b", 3, 1000, 500.0, 1500.0);
    let c = raw_run(dir.path(), "c", 1, 1000, 60.0, 160.0);
    let judge = |history: &Path, raw: &Path| {
        let assert = gatecheck_with_lag()
            .arg("verify")
            .arg("--policy")
            .arg(&policy)
            .arg("--raw")
            .arg(raw)
            .arg("--history")
            .arg(history)
            .assert();
        let out = stdout_of(&assert);
        (assert.get_output().status.code(), out)
    };
    for (name, runs) in [("control", vec![&a, &b]), ("re-judged", vec![&a, &b, &a])] {
        let history = dir.path().join(name);
        for raw in runs {
            judge(&history, raw);
        }
        let (code, out) = judge(&history, &c);
        let row = history_row(&out, "consecutive-passes");
        assert!(row.contains("FAIL"), "{name}: the run before C was blocked: {out}");
        assert_eq!(code, Some(1), "{name}: {out}");
    }
}

/// Finding round21-judge/01: a verdict of Prometheus queries alone was placed in history at
/// the wall clock, whatever instant `--at` judged. Judged now (lag 500 s since 30 minutes ago:
/// blocked), then at one hour ago and at 59.5 minutes ago (10 s: passes), the third read the
/// two old passes as the newest runs and shipped. Queries are evidence of the instant they
/// were evaluated at: the report records it as `run_span`, and history places the run there,
/// so the blocked run, newer, still ends the passes. Real Prometheus, backfilled.
#[test]
fn a_query_verdict_judged_at_an_earlier_instant_is_placed_there_in_history() {
    let t: i64 = FIXTURE_T.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One sample a minute for two hours: 10 s rising by 0.01 each minute (so each instant's
    // window answers its own figures, another run), then 500 s for the last 30 minutes.
    let mut text = String::from("# TYPE sched_lag_max_seconds gauge\n");
    for minute in 0..=120 {
        let at = t - 7200 + minute * 60;
        let value = if at > t - 1800 { 500.0 } else { 10.0 + minute as f64 / 100.0 };
        text.push_str(&format!("sched_lag_max_seconds {value} {at}\n"));
    }
    let om = dir.path().join("data.om");
    std::fs::write(&om, text + "# EOF\n").unwrap();
    let prom = PrometheusFixture::start_with(&om).expect("prometheus is installed (make test installs it)");
    let (_guard, policy) = policy_file(
        "[[gate]]\nid = \"lag-max\"\nquery = 'max(max_over_time(sched_lag_max_seconds[10m]))'\nunit = \"s\"\n\
         thresholds = [\"max < 180s\"]\n[[gate]]\nid = \"passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let history = dir.path().join("history");
    let check = |at: i64, code: i32| verify_queries_at(&prom.url, &policy, &history, at, code, dir.path());
    let blocked = check(t, 1);
    // The window its query read (finding round29-judge/01), ending at the instant asked for.
    assert_eq!(blocked["run_span"]["earliest"], "2025-12-31T23:50:00.000000000Z", "{blocked}");
    assert_eq!(blocked["run_span"]["latest"], "2026-01-01T00:00:00.000000000Z", "{blocked}");
    check(t - 3600, 1);
    let third = check(t - 3570, 1);
    assert_eq!(third["run_span"]["latest"], "2025-12-31T23:00:30.000000000Z", "{third}");
    let row = third["gates"].as_array().unwrap().iter().find(|r| r["id"] == "passes").unwrap().clone();
    assert_eq!(row["verdict"], "FAIL", "{row}");
}

/// Finding round22-judge/01: two records are one run when no figure both carry differs, so an
/// old pass whose summary carried only its failure counts (`--summary-trend-stats "p(99)"`
/// writes no other request figure) "matched" a later, different, blocked run of the same
/// request count; the blocked run was moved back to the old pass's place and skipped, and the
/// run after it read "pass, pass" and shipped. A blocked judgement counts where it ran.
#[test]
fn a_blocked_run_matching_an_older_pass_of_few_figures_still_ends_the_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"lat\"\nmetric = \"http_req_duration{flow:a}\"\n\
         thresholds = [\"p(99) < 500ms\"]\n[[gate]]\nid = \"err\"\nmetric = \"http_req_failed{flow:a}\"\nthresholds = [\"rate < 1%\"]\n\
         [[gate]]\nid = \"passes\"\nconsecutive_passes = 2\n",
    );
    let summary = |name: &str, requests: u64, p99: f64, full: bool| {
        let trend = if full {
            serde_json::json!({"avg": p99 / 3.0, "min": p99 / 10.0, "med": p99 / 3.0, "max": p99 * 1.1,
                               "p(90)": p99 * 0.8, "p(95)": p99 * 0.9, "p(99)": p99})
        } else {
            serde_json::json!({"p(99)": p99})
        };
        let doc = serde_json::json!({
            "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {}, "checks": {}},
            "metrics": {
                "http_reqs": {"count": requests, "rate": requests as f64 / 10.0},
                "http_req_duration{flow:a}": trend,
                "http_req_failed{flow:a}": {"passes": 0, "fails": requests, "value": 0},
                "http_req_failed": {"passes": 0, "fails": requests, "value": 0}
            }
        });
        let path = dir.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    let history = dir.path().join("history");
    let runs = [
        (summary("old.json", 600, 300.0, false), 0),
        (summary("p1.json", 610, 310.0, true), 0),
        (summary("b.json", 600, 700.0, true), 1),
    ];
    for (path, code) in &runs {
        // Passes so far: the history gate holds only from the third run on.
        let out = gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(path)
            .arg("--history")
            .arg(&history)
            .assert();
        let status = out.get_output().status.code().unwrap();
        assert!(status == *code || (*code == 0 && status == 1), "{}: exit {status}", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let last = summary("c.json", 620, 320.0, true);
    let out = stdout_of(
        &gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(&last)
            .arg("--history")
            .arg(&history)
            .assert()
            .code(1),
    );
    assert!(history_row(&out, "passes").contains("FAIL"), "{out}");
}

/// Finding round23-judge/01: history compared the policy's text only, not the `--var` values it
/// was judged with. A run judged with `--var window=1m` (the policy's window is 10 minutes, which
/// held a 500 s lag) passed and was recorded; the next run, judged by the policy as written, read
/// it as a pass and shipped. The overrides are an input of their own (`policy-vars`): a record of
/// other values is another policy's. Real Prometheus, backfilled.
#[test]
fn a_pass_judged_with_other_var_values_is_no_pass_of_the_policy() {
    let t: i64 = FIXTURE_T.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One sample a minute from an hour before T to 30 minutes after, a 500 s lag 5 minutes
    // before T; each minute's figure its own (so each instant's answer is another run).
    let mut text = String::from("# TYPE q_lag_seconds gauge\n");
    for minute in 0..=90 {
        let at = t - 3600 + minute * 60;
        let value = if at == t - 300 { 500.0 } else { 5.0 + minute as f64 / 1000.0 };
        text.push_str(&format!("q_lag_seconds {value} {at}\n"));
    }
    let om = dir.path().join("data.om");
    std::fs::write(&om, text + "# EOF\n").unwrap();
    let prom = PrometheusFixture::start_with(&om).expect("prometheus is installed (make test installs it)");
    let (_guard, policy) = policy_file(
        "[vars]\nwindow = \"10m\"\n[[gate]]\nid = \"lag\"\nquery = 'max(max_over_time(q_lag_seconds[${window}]))'\nunit = \"s\"\n\
         thresholds = [\"value < 60s\"]\n[[gate]]\nid = \"passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let history = dir.path().join("history");
    let verify = |at: i64, vars: &[&str]| {
        let mut cmd = gatecheck();
        cmd.args(["verify", "--prometheus-url", &prom.url, "--at", &at.to_string(), "--history"]).arg(&history);
        for var in vars {
            cmd.args(["--var", var]);
        }
        cmd.arg("--policy").arg(&policy).assert()
    };
    // By the policy as written the run at T holds the spike; with a 1-minute window it passes.
    verify(t, &["window=1m"]).code(1);
    let out = stdout_of(&verify(t + 1200, &[]).code(1));
    let row = history_row(&out, "passes");
    assert!(row.contains("FAIL") && !row.contains("pass, pass"), "{out}");
    // The control: the same two runs by one policy read as two passes.
    let control = dir.path().join("control");
    for (at, code) in [(t - 1800, 1), (t + 1500, 0)] {
        gatecheck()
            .args(["verify", "--prometheus-url", &prom.url, "--at", &at.to_string(), "--history"])
            .arg(&control)
            .arg("--policy")
            .arg(&policy)
            .assert()
            .code(code);
    }
    let out = stdout_of(
        &gatecheck()
            .args(["verify", "--prometheus-url", &prom.url, "--at", &(t + 1700).to_string(), "--history"])
            .arg(&control)
            .arg("--policy")
            .arg(&policy)
            .assert()
            .code(0),
    );
    assert!(history_row(&out, "passes").contains("PASS"), "{out}");
}

/// Finding round24-judge/01: `--var` could be given twice (the last won) while history digested
/// the sorted list of the arguments, so `--var window=10m --var window=1m` (1m in effect) and
/// `--var window=1m --var window=10m` (10m in effect) read as one policy, and a pass of the
/// 1-minute window counted for the 10-minute one. A variable has one value: given twice is exit
/// 2 naming it, in every command that takes `--var`.
#[test]
fn a_variable_given_twice_is_refused_by_every_command_that_takes_var() {
    let dir = tempfile::tempdir().unwrap();
    let policy = repo().join("gates/release.toml");
    let twice = ["--var", "window=10m", "--var", "window=1m"];
    let history = dir.path().join("h");
    let history = history.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &["verify", "--summary", PASS_EXPORT, "--history", history],
        &["check", "--prometheus-url", "http://127.0.0.1:9"],
        &["gates"],
        &["export", "prometheus-rules"],
    ];
    for command in commands {
        let out =
            gatecheck_with_lag().current_dir(repo()).args(command).arg("--policy").arg(&policy).args(twice).assert();
        let out = out.get_output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(stderr.contains("window") && stderr.contains("given twice"), "{command:?}: {stderr}");
    }
}

/// Finding round24-judge/01, the options: a judgement's options that loosen it are part of the
/// policy it was judged by, as `--var` values are. A pass judged with
/// `--accept-partial-response` (Prometheus answered with a warning: part of the data missing) is
/// no pass of a run judged strictly: the strict run reads one recorded run, not two.
#[test]
fn a_pass_judged_with_a_loosening_option_is_no_pass_of_a_strict_judgement() {
    let partial = serve_prometheus_answer(
        r#"{"status":"success","warnings":["store 10.0.0.9 unavailable"],"data":{"resultType":"vector","result":[{"metric":{},"value":[ASKED_T,"5"]}]}}"#,
    );
    let whole = serve_prometheus_answer(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[ASKED_T,"6"]}]}}"#,
    );
    let (_guard, policy) = policy_file(
        "[[gate]]\nid = \"backlog\"\nquery = 'max(x)'\nunit = \"number\"\nthresholds = [\"value < 500\"]\n\
         [[gate]]\nid = \"passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let verify = |history: &Path, url: &str, extra: &[&str], code: i32| {
        stdout_of(
            &gatecheck()
                .args(["verify", "--prometheus-url", url, "--policy"])
                .arg(&policy)
                .arg("--history")
                .arg(history)
                .args(extra)
                .assert()
                .code(code),
        )
    };
    // Two runs: query windows that overlap are one run whatever they answered (findings
    // round26-judge/01, round29-judge/01), so the two judgements are 20 minutes apart.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (earlier, later) = ((now - 1260).to_string(), (now - 60).to_string());
    let history = dir.path().join("history");
    verify(&history, &partial, &["--accept-partial-response", "--at", &earlier], 1);
    let out = verify(&history, &whole, &["--at", &later], 1);
    assert!(history_row(&out, "passes").contains("FAIL") && out.contains(TOO_FEW), "{out}");
    // The control: both judged with the option read as two passes.
    let control = dir.path().join("control");
    verify(&control, &partial, &["--accept-partial-response", "--at", &earlier], 1);
    verify(&control, &whole, &["--accept-partial-response", "--at", &later], 0);
}

/// Finding round24-judge/02: a policy judging errors and an env lag figure names a run by its
/// failure counts only, and three real k6 1.1.0 runs share them (0 of 196). Passes A and C were
/// recorded, then B (another run with A's counts, lag 500 s, BLOCKED) was taken for A judged
/// again and absorbed at A's place: the blocked run right before D vanished, and D shipped. A
/// blocked judgement never joins an earlier record: it counts where it ran.
#[test]
fn a_blocked_run_with_an_earlier_passes_identity_still_ends_the_passes() {
    let fixtures = repo().join("fixtures/k6/1.1.0");
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"relc\"\n[k6_thresholds]\nenforce = false\n\
         [[gate]]\nid = \"errors\"\nmetric = \"http_req_failed\"\nthresholds = [\"rate < 1%\"]\n\
         [[gate]]\nid = \"queue-lag\"\nthresholds = [\"p(95) < 30s\"]\nunit = \"s\"\n[gate.env]\n\"p(95)\" = \"QUEUE_LAG_P95_SECONDS\"\n\
         [[gate]]\nid = \"passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let verify = |history: &Path, run: &str, lag: &str| {
        let out = gatecheck()
            .env("QUEUE_LAG_P95_SECONDS", lag)
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(fixtures.join(run).join("summary-export.json"))
            .arg("--history")
            .arg(history)
            .assert();
        std::thread::sleep(std::time::Duration::from_millis(20));
        out
    };
    for (name, blocked) in [("control", "no-thresholds-flag"), ("same-counts", "no-thresholds-p99-missing")] {
        let history = dir.path().join(name);
        verify(&history, "trend-stats-p99", "5");
        verify(&history, "pass", "5").code(0);
        verify(&history, blocked, "500").code(1);
        let out = stdout_of(&verify(&history, "rule-run-disabled", "5").code(1));
        let row = history_row(&out, "passes");
        assert!(row.contains("FAIL") && !row.contains("pass, pass"), "{name}: {out}");
    }
}

/// `verify` of the shipped release policy with a summary and the raw results beside it (the
/// fixtures' own run), history in `history`, extra arguments and environment.
fn verify_run(run: &str, history: &Path, extra: &[&str], env: &[(&str, &str)]) -> assert_cmd::assert::Assert {
    let fixtures = repo().join("fixtures/k6/1.1.0").join(run);
    let out = gatecheck_with_lag()
        .envs(env.iter().copied())
        .arg("verify")
        .arg("--summary")
        .arg(fixtures.join("summary-export.json"))
        .arg("--raw")
        .arg(fixtures.join("raw.ndjson"))
        .arg("--history")
        .arg(history)
        .args(extra)
        .assert();
    // Two judgements never share a nanosecond in history.
    std::thread::sleep(std::time::Duration::from_millis(20));
    out
}

/// Finding round25-judge/01: the settings digest held the `--skip-flow` names only, never a flow
/// switched off by the policy's own switch variable. A pass judged with
/// `PERF_ENABLE_RULE_RUN=0` (the rule_poll gates SKIPPED) counted toward `consecutive_passes` of
/// a judgement with the flow on. The flows in effect are digested, whatever switched them.
#[test]
fn a_pass_judged_with_a_flow_switched_off_by_its_env_switch_is_no_pass_with_the_flow_on() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra, env) in [
        ("env-switch", &[][..], &[("PERF_ENABLE_RULE_RUN", "0")][..]),
        ("skip-flow", &["--skip-flow", "rule_poll"][..], &[][..]),
    ] {
        let history = dir.path().join(name);
        verify_run("rule-run-disabled", &history, extra, env).code(1);
        let out = stdout_of(&verify_run("pass-trend-stats-p99", &history, &[], &[]).code(1));
        assert!(history_row(&out, "consecutive-passes").contains("FAIL") && out.contains(TOO_FEW), "{name}: {out}");
    }
    // The control: the same switch both times reads as two passes.
    let history = dir.path().join("control");
    let off = [("PERF_ENABLE_RULE_RUN", "0")];
    verify_run("rule-run-disabled", &history, &[], &off).code(1);
    verify_run("rule-run-disabled", &history, &["--skip-flow", "rule_poll"], &[]);
    let history = dir.path().join("control-same");
    verify_run("pass", &history, &[], &off).code(1);
    verify_run("pass-trend-stats-p99", &history, &[], &off).code(0);
}

/// Finding round25-judge/02: the digest was of the `--var` list given, not the values in effect,
/// and a record of other settings was dropped whatever its outcome. A BLOCKED run judged with
/// `--var window=10m` (the policy's own default) or a stricter `--max-evidence-age` vanished from
/// the history of runs judged without them: A pass, B blocked, C pass read "pass, pass" and
/// shipped. A blocked record counts whatever it was judged with, and the values in effect are
/// digested (defaults included).
#[test]
fn a_blocked_run_judged_with_other_settings_still_ends_the_passes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("plain", &[][..]),
        ("default-var", &["--var", "window=10m"][..]),
        ("stricter-age", &["--max-evidence-age", "2000h"][..]),
    ] {
        let history = dir.path().join(name);
        verify_run("pass", &history, &[], &[]);
        verify_run("fail-latency", &history, extra, &[]).code(1);
        let out = stdout_of(&verify_run("pass-trend-stats-p99", &history, &[], &[]).code(1));
        let row = history_row(&out, "consecutive-passes");
        assert!(row.contains("FAIL") && !row.contains("pass, pass"), "{name}: {out}");
    }
    // A pass judged with the default given as a --var is a pass of the policy as written.
    let history = dir.path().join("default-pass");
    verify_run("pass", &history, &["--var", "window=10m"], &[]);
    verify_run("pass-trend-stats-p99", &history, &[], &[]).code(0);
}

/// Finding round25-judge/03: `--raw-lenient` changes a verdict (raw results of a killed k6 run,
/// cut mid-line, are exit 2 strictly and a PASS leniently) but was no part of the settings
/// digest: the lenient pass counted for the next strict judgement.
#[test]
fn a_pass_judged_with_raw_lenient_is_no_pass_of_a_strict_judgement() {
    let fixtures = repo().join("fixtures/k6/1.1.0");
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"rel\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration{flow:auth_list}\"\n\
         thresholds = [\"p(95) < 400ms\"]\n[[gate]]\nid = \"read-errors\"\nmetric = \"http_req_failed{flow:auth_list}\"\n\
         thresholds = [\"rate < 1%\"]\n[[gate]]\nid = \"passes\"\nconsecutive_passes = 2\non_missing = \"skip\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(fixtures.join("pass/raw.ndjson")).unwrap();
    let killed = dir.path().join("killed.ndjson");
    std::fs::write(&killed, &whole[..whole.len() * 6 / 10]).unwrap();
    let verify = |history: &Path, raw: &Path, extra: &[&str]| {
        let out = gatecheck()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--raw")
            .arg(raw)
            .arg("--history")
            .arg(history)
            .args(extra)
            .assert();
        std::thread::sleep(std::time::Duration::from_millis(20));
        out
    };
    let history = dir.path().join("history");
    // The first run passes every gate but the history gate (one run recorded): exit 1.
    verify(&history, &killed, &["--raw-lenient"]).code(1);
    let out = stdout_of(&verify(&history, &fixtures.join("pass-trend-stats-p99/raw.ndjson"), &[]).code(1));
    assert!(history_row(&out, "passes").contains("FAIL") && out.contains(TOO_FEW), "{out}");
    // The control: both judged leniently read as two passes.
    let control = dir.path().join("control");
    verify(&control, &killed, &["--raw-lenient"]).code(1);
    verify(&control, &fixtures.join("pass-trend-stats-p99/raw.ndjson"), &["--raw-lenient"]).code(0);
}

/// Finding round26-judge/01: one run judged from all its raw results and again from part of
/// them (another identity: its figures differ) counted as two passing runs, so
/// `consecutive_passes = 2` was met by one run. Records whose runs overlap in time are one run,
/// whatever figures named each: the second judgement has no earlier pass.
#[test]
fn one_run_judged_whole_then_in_part_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"hist\"\ndescription = \"history\"\nmax_waiver_days = 14\n\n[k6_thresholds]\nenforce = false\n\n\
         [[gate]]\nid = \"read-latency\"\ndescription = \"read p95\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"consecutive-passes\"\ndescription = \"this run and the one before it passed\"\nconsecutive_passes = 2\n",
    );
    let whole = raw_run(dir.path(), "whole", 1, 1000, 50.0, 150.0);
    // The same run's first 600 requests (the metric declarations and 600 × 3 points).
    let text = std::fs::read_to_string(&whole).unwrap();
    let part = dir.path().join("part.ndjson");
    std::fs::write(&part, text.lines().take(3 + 600 * 3).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let history = dir.path().join("history");
    let judge = |raw: &Path| judge_raw(&policy, raw, &history);
    let (code, out) = judge(&whole);
    assert_eq!(code, Some(1), "the first run has no run before it: {out}");
    let (code, out) = judge(&part);
    assert!(history_row(&out, "consecutive-passes").contains("FAIL"), "one run, judged twice: {out}");
    assert_eq!(code, Some(1), "{out}");
}

/// Finding round28-judge/02: one real k6 run judged first from a copy of its raw results taken
/// while k6 was still writing (dated), then from its `--summary-export` (undated) counted as two
/// passes: the identities differ and the overlap rule needs both dated. The two share a sample
/// (the trend's max, written to the nanosecond), so they are one run: counted once.
#[test]
fn a_copy_of_the_raw_results_and_the_runs_undated_summary_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_guard, policy) = policy_file(
        "[policy]\nname = \"h\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"lat\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 10s\"]\n\
         [[gate]]\nid = \"two-runs\"\nconsecutive_passes = 2\n",
    );
    let run = repo().join("fixtures/k6/1.1.0/fail-latency");
    let text = std::fs::read_to_string(run.join("raw.ndjson")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let copy = dir.path().join("raw-copy-while-running.ndjson");
    std::fs::write(&copy, lines[..lines.len() * 9 / 10].join("\n") + "\n").unwrap();
    let history = dir.path().join("history");
    let (code, out) = judge_raw(&policy, &copy, &history);
    assert_eq!(code, Some(1), "the first judgement has no run before it: {out}");
    let out = gatecheck()
        .args(["verify", "--policy"])
        .arg(&policy)
        .arg("--summary")
        .arg(run.join("summary-export.json"))
        .arg("--history")
        .arg(&history)
        .assert();
    let text = stdout_of(&out);
    assert!(history_row(&text, "two-runs").contains("FAIL"), "one run, judged twice: {text}");
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
}

/// Finding round29-judge/01: a verdict on queries alone was named by every answer, the
/// freshness queries' included, so two judgements of one 10 minute window 15 s apart (the gate's
/// series sampled once a minute: no new sample between them) were two runs, because
/// `max(timestamp(up))` had moved with a scrape: `consecutive_passes = 2` passed on one window.
/// A query verdict's run is the window its queries read (`run_span` from as far back as the
/// furthest-reaching query to `--at`); windows that overlap are one run. Real Prometheus.
#[test]
fn two_judgements_of_overlapping_query_windows_are_one_run() {
    let t: i64 = FIXTURE_T.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# TYPE up gauge\n");
    for step in 0..=200 {
        text.push_str(&format!("up{{job=\"api\"}} 1 {}\n", t - 3000 + step * 15));
    }
    text.push_str("# TYPE backlog gauge\n");
    for minute in 0..=50 {
        text.push_str(&format!("backlog 100 {}\n", t - 3000 + minute * 60));
    }
    let om = dir.path().join("data.om");
    std::fs::write(&om, text + "# EOF\n").unwrap();
    let prom = PrometheusFixture::start_with(&om).expect("prometheus is installed (make test installs it)");
    let (_guard, policy) = policy_file(
        "[[freshness]]\nid = \"api-fresh\"\nselector = 'up{job=\"api\"}'\nmax_age = \"2m\"\nup_for = \"10m\"\n\
         [[gate]]\nid = \"backlog\"\nquery = 'max_over_time(backlog[10m])'\nunit = \"number\"\nthresholds = [\"value < 500\"]\n\
         [[gate]]\nid = \"two-passes\"\nconsecutive_passes = 2\n",
    );
    let verify =
        |history: &Path, at: i64, code: i32| verify_queries_at(&prom.url, &policy, history, at, code, dir.path());
    let history = dir.path().join("history");
    let first = verify(&history, t - 600, 1);
    // The window the gate's query read (freshness looks back only to date the newest sample).
    let earliest = time::OffsetDateTime::parse(
        first["run_span"]["earliest"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(earliest.unix_timestamp(), t - 1200, "{}", first["run_span"]);
    let again = verify(&history, t - 585, 1);
    let row = again["gates"].as_array().unwrap().iter().find(|r| r["id"] == "two-passes").unwrap().clone();
    assert_eq!(row["verdict"], "FAIL", "{row}");
    // The control: windows apart are two runs.
    let apart = dir.path().join("apart");
    verify(&apart, t - 2000, 1);
    verify(&apart, t - 600, 0);
}
