//! Segmented runners: N processes each run the I-th of N disjoint parts of the scenario (like
//! k6's execution segments) and `merge` gives the unsplit run — same VUs, same iterations due,
//! percentiles over the union — refusing duplicates, missing segments and mixed runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::*;

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An open-model smoke process against `url`, segment `segment`, writing `out`.
fn open_model_smoke(url: &str, dir: &std::path::Path, name: &str, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["--duration", "3s", "--executor", "constant-arrival-rate", "--rate", "7", "--vus", "5"];
    args.extend_from_slice(extra);
    spawn_smoke(url, dir, name, &args)
}

/// Per flow: (iterations that ran + dropped) = the iterations due.
fn due(doc: &Value, flow: &str) -> u64 {
    let flows = doc["gatecheck"]["recorder"]["flows"].as_array().unwrap();
    let recorded = flows.iter().find(|f| f["name"] == flow).unwrap();
    recorded["iterations"].as_u64().unwrap() + recorded["dropped_iterations"].as_u64().unwrap()
}

#[test]
fn segments_run_side_by_side_and_merge_to_the_unsplit_run() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let whole = open_model_smoke(&target.url, dir.path(), "whole", &[]).wait_with_output().unwrap();
    assert!(whole.status.success());
    // Three processes start apart but load together from one instant.
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3;
    let start = start.to_string();
    let children: Vec<_> = (0..3)
        .map(|i| {
            let child = open_model_smoke(
                &target.url,
                dir.path(),
                &format!("s{i}"),
                &["--segment", &format!("{i}/3"), "--start-at", &start],
            );
            std::thread::sleep(Duration::from_millis(300));
            child
        })
        .collect();
    for child in children {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let shards: Vec<std::path::PathBuf> = (0..3).map(|i| dir.path().join(format!("s{i}.json"))).collect();
    let docs: Vec<Value> = shards.iter().map(|p| read(p)).collect();
    let run_ids: Vec<&str> = docs.iter().map(|d| d["gatecheck"]["shard"]["run_id"].as_str().unwrap()).collect();
    assert!(run_ids.iter().all(|id| *id == run_ids[0]), "one run id from the common start: {run_ids:?}");
    // VUs split 2/2/1 (k6's thirds of 5), per flow.
    let vus: Vec<u64> = docs.iter().map(|d| d["gatecheck"]["executor"]["max_vus_per_flow"].as_u64().unwrap()).collect();
    assert_eq!(vus.iter().sum::<u64>(), 5, "{vus:?}");
    let whole = read(&dir.path().join("whole.json"));
    for flow in ["auth_list", "rule_poll", "provider_log_write"] {
        let split: u64 = docs.iter().map(|d| due(d, flow)).sum();
        assert_eq!(split, due(&whole, flow), "{flow}: the segments are due what the unsplit run is due");
    }
    let merged = dir.path().join("merged.json");
    let mut merge = gatecheck();
    merge.args(["merge", "--out"]).arg(&merged).args(&shards);
    merge.assert().code(0);
    let doc = read(&merged);
    assert_eq!(doc["metrics"]["vus"]["value"], whole["metrics"]["vus"]["value"], "the merged run shows the total VUs");
    let requests: u64 = docs.iter().map(|d| d["metrics"]["http_reqs"]["count"].as_u64().unwrap()).sum();
    assert_eq!(doc["metrics"]["http_reqs"]["count"].as_u64(), Some(requests));
    assert_eq!(doc["gatecheck"]["shard"]["merged_segments"], 3);

    // Refusals, each naming the files: a duplicate, a missing segment, another run.
    let refuse = |inputs: &[&std::path::Path], needle: &str| {
        let mut cmd = gatecheck();
        cmd.args(["merge", "--out"]).arg(dir.path().join("refused.json")).args(inputs);
        let err = stderr_of(&cmd.assert().code(2));
        assert!(err.contains(needle), "{needle}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    };
    refuse(&[&shards[0], &shards[0], &shards[1], &shards[2]], "again");
    refuse(&[&shards[0], &shards[1]], "2/3 are missing");
    refuse(&[&shards[0], &dir.path().join("whole.json")], "only the segments of one run merge");
    assert!(!dir.path().join("refused.json").exists());
}

#[test]
fn the_segment_comes_from_the_flag_or_a_kubernetes_job_index_and_is_checked() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let smoke = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = gatecheck();
        cmd.env("PERF_BASE_URL", &target.url)
            .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
            .env("PERF_RULE_ID", DEMO_RULE)
            .envs(env.iter().copied())
            .args(["smoke", "--quiet", "--duration", "3s", "--max-requests", "40", "--summary-out"])
            .arg(dir.path().join("s.json"))
            .arg("--log-out")
            .arg(dir.path().join("s.log"))
            .args(args);
        cmd
    };
    smoke(&[("JOB_COMPLETION_INDEX", "1")], &["--segments", "4"]).assert().code(0);
    let doc = read(&dir.path().join("s.json"));
    assert_eq!(doc["gatecheck"]["shard"]["segment"], "1/4");
    assert_eq!(doc["gatecheck"]["request_cap"], 10, "the request cap is split too");
    // An explicit --segment wins over the Job index.
    smoke(&[("JOB_COMPLETION_INDEX", "1")], &["--segment", "2/4"]).assert().code(0);
    assert_eq!(read(&dir.path().join("s.json"))["gatecheck"]["shard"]["segment"], "2/4");
    for (env, args, needle) in [
        (&[][..], &["--segments", "4"][..], "JOB_COMPLETION_INDEX"),
        (&[("JOB_COMPLETION_INDEX", "4")][..], &["--segments", "4"][..], "out of range"),
        (&[("JOB_COMPLETION_INDEX", "1")][..], &[][..], "--segments N"),
        (&[][..], &["--segment", "3/3"][..], "out of range"),
        (&[][..], &["--start-at", "2020-01-01T00:00:00Z"][..], "already past"),
    ] {
        let err = stderr_of(&smoke(env, args).assert().code(2));
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// Finding round15-figures/02: two segments of one run (same run id and start) where 0/2 ran
/// `--duration 4s` and 1/2 `--duration 3s` were merged as one complete 4 s run. Segments merged
/// as one run are of one plan: merge refuses segments whose plan differs, naming the field and
/// both values.
#[test]
fn segments_of_different_plans_are_not_merged() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let start = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 2).to_string();
    let run = |name: &str, segment: &str, duration: &str| {
        let args = ["--vus", "2", "--duration", duration, "--segment", segment, "--start-at", &start, "--run-id", "r1"];
        spawn_smoke(&target.url, dir.path(), name, &args)
    };
    let (a, b) = (run("s0", "0/2", "4s"), run("s1", "1/2", "3s"));
    for child in [a, b] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let merged = dir.path().join("merged.json");
    let mut merge = gatecheck();
    merge.args(["merge", "--out"]).arg(&merged).arg(dir.path().join("s0.json")).arg(dir.path().join("s1.json"));
    let err = stderr_of(&merge.assert().code(2));
    assert!(err.contains("plan.duration_s") && err.contains("4") && err.contains("3"), "{err}");
    assert!(!merged.exists());
}

/// Finding round16-figures/01: segment 0/2 loaded the scenario's endpoints with its sleeps,
/// segment 1/2 of the same run id and start ran `--no-sleep` against other paths
/// (`PERF_LIST_PATH`): merge took them for one run, as the plan it compared left out what each
/// flow sends. Rule: the plan a segment records holds its whole resolved load plan (each flow's
/// start, sleep and requests as sent: method, path, body, expected status and JSON, check), so
/// merge refuses segments that send anything differently, naming the field; segments that
/// send the same merge.
#[test]
fn segments_that_send_different_requests_or_sleeps_are_not_merged() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let start = (SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3).to_string();
    let run = |name: &str, segment: &str, extra_env: &[(&str, &str)], extra: &[&str]| {
        let mut env = vec![
            ("PERF_BASE_URL", target.url.as_str()),
            ("PERF_BEARER_TOKEN", DEMO_TOKEN),
            ("PERF_RULE_ID", DEMO_RULE),
        ];
        env.extend_from_slice(extra_env);
        let mut args: Vec<String> = ["smoke", "--quiet", "--vus", "2", "--duration", "3s", "--segment", segment]
            .iter()
            .map(|a| a.to_string())
            .collect();
        args.extend(["--start-at", &start, "--run-id", "r1"].map(String::from));
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(["--summary-out".into(), dir.path().join(format!("{name}.json")).display().to_string()]);
        args.extend(["--log-out".into(), dir.path().join(format!("{name}.log")).display().to_string()]);
        spawn_gatecheck(&env, &args)
    };
    let children = [
        run("s0", "0/2", &[], &[]),
        run("same", "1/2", &[], &[]),
        run("nosleep", "1/2", &[], &["--no-sleep"]),
        run("path", "1/2", &[("PERF_LIST_PATH", "/fast/a")], &[]),
    ];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{:?} {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    let merge = |other: &str| {
        let merged = dir.path().join(format!("merged-{other}.json"));
        let mut merge = gatecheck();
        merge.args(["merge", "--out"]).arg(&merged).arg(dir.path().join("s0.json"));
        merge.arg(dir.path().join(format!("{other}.json")));
        (merge.assert(), merged)
    };
    let (same, merged) = merge("same");
    same.code(0);
    assert!(merged.exists());
    for (other, field) in [("nosleep", ".sleep_s is"), ("path", ".path_sha256 is")] {
        let (refused, merged) = merge(other);
        let err = stderr_of(&refused.code(2));
        assert!(
            err.contains("gatecheck.shard.plan.flows.") && err.contains(field) && err.contains("one plan"),
            "{other}: {err}"
        );
        assert!(!merged.exists(), "{other}");
    }
}
