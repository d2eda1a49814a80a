//! A native summary's run facts held to its own plan by every reader (finding
//! round35-figures/01): a real run's summary with one run fact edited — a run cut short flagged
//! complete, a segment relabelled as the whole run — is refused by `verify` as by `merge`,
//! naming the file and the field, never judged as a complete run.

use std::path::{Path, PathBuf};

use predicates::str::contains;
use serde_json::Value;

use crate::support::*;

/// A policy with one latency gate the demo target meets, so only the run facts decide.
fn latency_policy(dir: &Path) -> PathBuf {
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        "[policy]\nname = \"p\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"read-latency\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 2000ms\"]\n",
    )
    .unwrap();
    path
}

/// A real `smoke` run against the demo target with `extra`, its summary read back.
fn real_run(target: &str, dir: &Path, name: &str, extra: &[&str]) -> Value {
    let status = spawn_smoke(target, dir, name, extra).wait().unwrap();
    assert!(status.code().is_some_and(|code| code <= 1), "smoke {extra:?}: {status:?}");
    serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, doc: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

fn verify(summary: &Path, policy: &Path) -> assert_cmd::assert::Assert {
    gatecheck_with_lag().args(["verify", "--no-env", "--summary"]).arg(summary).arg("--policy").arg(policy).assert()
}

/// Both readers refuse `path` (exit 2), naming it and `field`.
fn refused_by_verify_and_merge(path: &Path, policy: &Path, field: &str) {
    let shown = path.display().to_string();
    verify(path, policy).code(2).stderr(contains(shown.as_str())).stderr(contains(field));
    let copy = path.with_extension("copy.json");
    std::fs::copy(path, &copy).unwrap();
    let out = path.with_extension("merged.json");
    gatecheck()
        .args(["merge", "--out"])
        .arg(&out)
        .arg(path)
        .arg(&copy)
        .assert()
        .code(2)
        .stderr(contains(shown.as_str()))
        .stderr(contains(field));
}

/// The finding's case: a run stopped by its request cap, flagged complete by hand (every figure
/// still its recorder's), lasts less than its plan and used its whole cap.
#[test]
fn a_run_cut_short_by_its_cap_and_flagged_complete_is_refused_by_every_reader() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let policy = latency_policy(dir.path());
    let doc = real_run(&target.url, dir.path(), "part", &["--vus", "2", "--duration", "3s", "--max-requests", "6"]);
    assert_eq!(doc["gatecheck"]["partial"], true, "{}", doc["gatecheck"]);
    verify(&dir.path().join("part.json"), &policy).code(1).stdout(contains("run-integrity"));
    let mut edited = doc.clone();
    edited["gatecheck"]["partial"] = false.into();
    edited["gatecheck"]["partial_reason"] = Value::Null;
    let edited = write(dir.path(), "edited.json", &edited);
    refused_by_verify_and_merge(&edited, &policy, "gatecheck.duration_s");
}

/// The variant: segment 1/2 of a run relabelled as the whole run (count 1, index 0) ran half
/// the plan's VUs, and its `shard.segment` still says 1/2.
#[test]
fn a_segment_relabelled_as_the_whole_run_is_refused_by_every_reader() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let policy = latency_policy(dir.path());
    let doc = real_run(&target.url, dir.path(), "seg", &["--vus", "2", "--duration", "3s", "--segment", "1/2"]);
    assert_eq!(doc["gatecheck"]["partial"], false, "{}", doc["gatecheck"]);
    let mut whole = doc.clone();
    whole["gatecheck"]["shard"]["count"] = 1.into();
    whole["gatecheck"]["shard"]["index"] = 0.into();
    let relabelled = write(dir.path(), "relabelled.json", &whole);
    refused_by_verify_and_merge(&relabelled, &policy, "gatecheck.shard.segment");
    // With its segment relabelled too, its executor is still half the plan's.
    whole["gatecheck"]["shard"]["segment"] = "0/1".into();
    let relabelled = write(dir.path(), "relabelled-segment.json", &whole);
    refused_by_verify_and_merge(&relabelled, &policy, "gatecheck.executor");
}

/// A genuinely complete run, and one whose cap was not reached, pass as before.
#[test]
fn a_complete_run_below_its_cap_still_passes() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let policy = latency_policy(dir.path());
    let doc =
        real_run(&target.url, dir.path(), "whole", &["--vus", "1", "--duration", "3s", "--max-requests", "100000"]);
    assert_eq!(doc["gatecheck"]["partial"], false, "{}", doc["gatecheck"]);
    verify(&dir.path().join("whole.json"), &policy).code(0).stdout(contains("RELEASE OK"));
}
