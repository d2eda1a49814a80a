//! `gatecheck merge`: percentiles over the union of samples, from raw halves or native shards.

use serde_json::Value;

use crate::support::*;

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn raw_halves_merge_to_the_figures_of_the_whole_run() {
    let whole = fixture("k6/1.1.0/trend-stats-p99/raw.ndjson");
    let text = std::fs::read_to_string(&whole).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"));
    // Two segments written side by side (merged parts must share a moment).
    let (first, second) = raw_segments_side_by_side(&text);
    std::fs::write(&a, first).unwrap();
    std::fs::write(&b, second).unwrap();
    let merged = dir.path().join("merged.json");
    gatecheck().args(["merge", "--out"]).arg(&merged).arg(&a).arg(&b).assert().code(0);
    let doc = read(&merged);
    let export = read(&fixture("k6/1.1.0/trend-stats-p99/summary-export.json"));
    for flow in ["auth_list", "rule_poll", "provider_log_write"] {
        let name = format!("http_req_duration{{flow:{flow}}}");
        for stat in ["p(95)", "p(99)", "med", "avg", "max"] {
            assert_eq!(
                doc["metrics"][&name][stat].as_f64().unwrap().to_bits(),
                export["metrics"][&name][stat].as_f64().unwrap().to_bits(),
                "{name} {stat}"
            );
        }
    }
    assert_eq!(doc["gatecheck"]["merged_from"].as_array().unwrap().len(), 2);
    // verify reads the merged summary (p(99) included) and judges the p99 breach.
    let out = stdout_of(&gatecheck_with_lag().args(["verify", "--summary"]).arg(&merged).assert().code(1));
    assert!(table_line(&out, "read-latency", "p(99) < 700ms").contains("FAIL"), "{out}");
}

#[test]
fn native_shards_merge_their_histograms() {
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    // Two segments of one run, side by side, sharing their start (without --start-at each
    // starts at its own second: a loaded machine once put a whole second between them and
    // merge refused).
    let start = crate::support::common_start();
    let shard = |name: &str, segment: &str| {
        let extra = ["--duration", "3s", "--run-id", "merge-test", "--segment", segment, "--start-at", &start];
        spawn_smoke(&target.url, dir.path(), name, &extra).wait_with_output().unwrap()
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| shard("a", "0/2"));
        let second = scope.spawn(|| shard("b", "1/2"));
        (first.join().unwrap(), second.join().unwrap())
    });
    assert!(first.status.success() && second.status.success(), "{first:?} {second:?}");
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let merged = dir.path().join("merged.json");
    gatecheck().args(["merge", "--out"]).arg(&merged).arg(&a).arg(&b).assert().code(0);
    let (da, db, dm) = (read(&a), read(&b), read(&merged));
    let count = |d: &Value, key: &str| d["metrics"][key]["count"].as_u64().unwrap();
    assert_eq!(count(&dm, "http_reqs"), count(&da, "http_reqs") + count(&db, "http_reqs"));
    for flow in ["auth_list", "rule_poll", "provider_log_write"] {
        let name = format!("http_req_duration{{flow:{flow}}}");
        assert_eq!(count(&dm, &name), count(&da, &name) + count(&db, &name), "{name}");
        let stat = |d: &Value, s: &str| d["metrics"][&name][s].as_f64().unwrap();
        assert_eq!(stat(&dm, "max"), stat(&da, "max").max(stat(&db, "max")), "{name} max");
        assert_eq!(stat(&dm, "min"), stat(&da, "min").min(stat(&db, "min")), "{name} min");
        // Percentiles over the union of the shards' samples: the shards' histograms added
        // bucket for bucket, read with k6's method (never an average of the shards' figures,
        // and with interpolation the union's p(95) may lie outside both shards').
        let mut union = shard_histogram(&da, flow);
        union.add(shard_histogram(&db, flow)).unwrap();
        for (key, p) in [("p(95)", 95.0), ("p(99)", 99.0), ("med", 50.0)] {
            let expected = gatecheck::load::summary::k6_percentile(&union, p) / 1000.0;
            assert_eq!(stat(&dm, key), expected, "{name} {key}");
        }
    }
    gatecheck_with_lag().args(["verify", "--summary"]).arg(&merged).assert().code(0);
    // Mixing kinds of input, or merging a k6 summary, is refused.
    gatecheck()
        .args(["merge", "--out"])
        .arg(dir.path().join("x.json"))
        .arg(&a)
        .arg(fixture("k6/1.1.0/pass/raw.ndjson"))
        .assert()
        .code(2);
    gatecheck()
        .args(["merge", "--out"])
        .arg(dir.path().join("x.json"))
        .arg(&a)
        .arg(fixture("k6/1.1.0/pass/summary-export.json"))
        .assert()
        .code(2);
}

/// One flow's latency histogram (µs) of a native summary: its endpoints' histograms added.
fn shard_histogram(doc: &Value, flow: &str) -> hdrhistogram::Histogram<u64> {
    use base64::Engine;
    let mut total = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    let flows = doc["gatecheck"]["recorder"]["flows"].as_array().unwrap();
    let recorded = flows.iter().find(|f| f["name"] == flow).unwrap();
    for endpoint in recorded["endpoints"].as_array().unwrap() {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(endpoint["histogram_us"].as_str().unwrap()).unwrap();
        let histogram: hdrhistogram::Histogram<u64> =
            hdrhistogram::serialization::Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
        total.add(&histogram).unwrap();
    }
    total
}

/// A V2 histogram header (what precedes the counts) with the given fields.
fn v2_header(payload_len: u32, digits: u32, lowest: u64, highest: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0x1c84_9313u32.to_be_bytes());
    bytes.extend_from_slice(&payload_len.to_be_bytes());
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&digits.to_be_bytes());
    bytes.extend_from_slice(&lowest.to_be_bytes());
    bytes.extend_from_slice(&highest.to_be_bytes());
    bytes.extend_from_slice(&1f64.to_be_bytes());
    bytes
}

fn deflated(plain: &[u8], declared: Option<u32>) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(plain).unwrap();
    let compressed = encoder.finish().unwrap();
    let mut bytes = 0x1c84_9314u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(&declared.unwrap_or(compressed.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&compressed);
    bytes
}

#[test]
fn crafted_histograms_are_refused_without_allocating_what_they_declare() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    // Two well-formed segments of one run, so merge goes on to decode the crafted histogram.
    let native = |histogram: &[u8], duration: f64, index: u32| {
        serde_json::json!({"gatecheck": {
            "target": "http://127.0.0.1:1", "duration_s": duration,
            "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:01Z",
            "shard": {"run_id": "crafted", "index": index, "count": 2, "scenario_sha256": "0"},
            "recorder": {"flows": [{"name": "f", "endpoints": [{
                "name": "e", "requests": 1, "failed": 0, "checks_passed": 1, "checks_failed": 0,
                "histogram_us": base64::engine::general_purpose::STANDARD.encode(histogram),
            }]}]},
        }})
        .to_string()
    };
    let mut bomb = v2_header(64 << 20, 3, 1, 3_600_000_000);
    bomb.resize(bomb.len() + (64 << 20), 0);
    let cases: Vec<(&str, Vec<u8>, f64)> = vec![
        ("a 4 GiB payload length", v2_header(u32::MAX - 8, 3, 1, 3_600_000_000), 1.0),
        ("a huge highest value and precision", v2_header(0, 5, 1, u64::MAX), 1.0),
        ("too many significant digits", v2_header(0, 200, 1, 1000), 1.0),
        ("a compressed length beyond the data", deflated(&v2_header(0, 3, 1, 1000), Some(u32::MAX)), 1.0),
        ("a deflate bomb", deflated(&bomb, None), 1.0),
        ("a duration beyond any clock", deflated(&v2_header(0, 3, 1, 3_600_000_000), None), 1e300),
    ];
    for (case, histogram, duration) in cases {
        let path = dir.path().join("crafted.json");
        std::fs::write(&path, native(&histogram, duration, 0)).unwrap();
        let second = dir.path().join("second.json");
        std::fs::write(&second, native(&histogram, duration, 1)).unwrap();
        let started = std::time::Instant::now();
        let assert = gatecheck()
            .args(["merge", "--out"])
            .arg(dir.path().join("out.json"))
            .arg(&path)
            .arg(&second)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2);
        let err = stderr_of(&assert);
        assert!(err.contains("crafted.json") && !err.contains("panicked"), "{case}: {err}");
        let reason = if duration > 1.0 { "gatecheck.duration_s" } else { "histogram_us does not decode" };
        assert!(err.contains(reason), "{case}: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{case}: took {:?}", started.elapsed());
    }
}

/// A change to a summary document.
pub type Patch<'a> = &'a dyn Fn(&mut Value);

/// The whole run's plan every `segment` records (`gatecheck.shard.plan`): 2 VUs for 1 s, 1 each.
pub static SEGMENT_PLAN: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    serde_json::json!({
        "scenario": "core", "target": "http://127.0.0.1:1", "executor": {"type": "constant-vus", "vus_per_flow": 2},
        "duration_s": 1.0, "request_timeout_s": 10.0, "request_cap": 200, "skipped_flows": [],
        "flows": {"f": {"start_after_s": 0.0, "sleep_s": 1.0, "requests": [{
            "name": "e", "method": "GET", "path_sha256": "a0", "body_sha256": null, "check": "",
            "expect_status": 200, "expect_json_sha256": null,
        }]}},
    })
});

/// Makes `doc`'s plan (and its segment's share) an open model of `duration_s` seconds: a
/// segment of it may end at its last due iteration, before the planned end, so tests may date
/// its segments' spans freely within it.
pub fn open_model_plan(doc: &mut Value, duration_s: f64) {
    let executor = |vus: u32| serde_json::json!({"type": "constant-arrival-rate", "iterations_per_second_per_flow": 1.0, "max_vus_per_flow": vus});
    doc["gatecheck"]["executor"] = executor(1);
    doc["gatecheck"]["shard"]["plan"]["executor"] = executor(2);
    doc["gatecheck"]["shard"]["plan"]["duration_s"] = duration_s.into();
    // Every arrival the plan schedules for this segment (iteration n of the unsplit 1/s
    // schedule is segment n mod N's) is started or dropped (round39-figures/02).
    let (index, count) =
        (doc["gatecheck"]["shard"]["index"].as_u64().unwrap(), doc["gatecheck"]["shard"]["count"].as_u64().unwrap());
    let due = (duration_s.ceil() as u64).saturating_sub(index).div_ceil(count);
    let flow = &mut doc["gatecheck"]["recorder"]["flows"][0];
    flow["dropped_iterations"] = (due - flow["iterations"].as_u64().unwrap()).into();
}

/// Segment `index` of a two-segment run: one flow, one endpoint whose one request (a 500 that
/// took 1 ms) is its histogram's one sample, its one VU its `vus` gauge (round39-figures/03:
/// it was 2, which no segment of the 2-VU plan runs), and `patch` applied to the document
/// (e.g. a count set to 2^63).
pub fn segment(dir: &std::path::Path, index: u32, patch: Patch) -> std::path::PathBuf {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let mut latency = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    latency.record(1_000).unwrap();
    let mut histogram = Vec::new();
    V2DeflateSerializer::new().serialize(&latency, &mut histogram).unwrap();
    let mut doc = serde_json::json!({
        "metrics": {"vus": {"value": 1, "min": 1, "max": 1}},
        "gatecheck": {
            "target": "http://127.0.0.1:1", "duration_s": 1.0, "partial": false,
            "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:00:01Z",
            "scenario": "core", "executor": {"type": "constant-vus", "vus_per_flow": 1}, "request_cap": 100,
            "skipped_flows": [],
            "shard": {"run_id": "counts", "segment": format!("{index}/2"), "index": index, "count": 2, "scenario_sha256": "0", "plan": SEGMENT_PLAN.clone()},
            "recorder": {
                "flows": [{"name": "f", "iterations": 1, "late_iterations": 0, "dropped_iterations": 0, "endpoints": [{
                    "name": "e", "requests": 1, "failed": 0, "checks_passed": 1, "checks_failed": 0,
                    "statuses": {"500": 1},
                    "histogram_us": base64::engine::general_purpose::STANDARD.encode(histogram),
                }]}],
                "errors": {"timeout": 1}, "bytes_received": 10, "clamped": 0,
            },
        },
    });
    patch(&mut doc);
    let path = dir.join(format!("segment-{index}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// `merge --out OUT A B` that must fail with exit 2 and one line naming `needles`.
fn refused_merge(dir: &std::path::Path, a: &std::path::Path, b: &std::path::Path, needles: &[&str]) {
    let out = dir.join("merged.json");
    let assert = gatecheck().args(["merge", "--out"]).arg(&out).arg(a).arg(b).assert().code(2);
    let err = stderr_of(&assert);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
    assert!(!out.exists(), "a refused merge wrote {}", out.display());
}

#[test]
fn counts_whose_sum_exceeds_u64_are_refused_naming_the_files_and_the_field() {
    // Each segment's count fits; their sum does not (it panicked with overflow checks and
    // wrapped in release builds).
    let half = u64::MAX / 2 + 1;
    let cases: [(&str, Patch); 6] = [
        ("gatecheck.recorder.flows[].iterations", &|d| {
            d["gatecheck"]["recorder"]["flows"][0]["iterations"] = half.into()
        }),
        ("gatecheck.recorder.flows[].dropped_iterations", &|d| {
            d["gatecheck"]["recorder"]["flows"][0]["dropped_iterations"] = half.into()
        }),
        ("gatecheck.recorder.flows[].endpoints[].statuses", &|d| {
            d["gatecheck"]["recorder"]["flows"][0]["endpoints"][0]["statuses"]["500"] = half.into()
        }),
        ("gatecheck.recorder.errors", &|d| d["gatecheck"]["recorder"]["errors"]["timeout"] = half.into()),
        ("gatecheck.recorder.bytes_received", &|d| d["gatecheck"]["recorder"]["bytes_received"] = half.into()),
        ("gatecheck.recorder.clamped", &|d| d["gatecheck"]["recorder"]["clamped"] = half.into()),
    ];
    for (field, patch) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (segment(dir.path(), 0, patch), segment(dir.path(), 1, patch));
        let names = [a.display().to_string(), b.display().to_string()];
        refused_merge(dir.path(), &a, &b, &[field, "2^64", &names[0], &names[1]]);
    }
    // The `vus` gauges no longer reach their sum (round39-figures/03): each is held to the
    // VUs its segment's plan runs, and 2^63 is refused in the first file as no gauge of it.
    let dir = tempfile::tempdir().unwrap();
    let patch: Patch = &|d| d["metrics"]["vus"]["value"] = half.into();
    let (a, b) = (segment(dir.path(), 0, patch), segment(dir.path(), 1, patch));
    refused_merge(dir.path(), &a, &b, &["metrics[\"vus\"][\"value\"]", "runs 1 VUs", &a.display().to_string()]);
}

#[test]
fn counts_that_are_not_counts_are_refused_not_read_as_zero() {
    // `as_u64().unwrap_or(0)` read these as 0: dropped iterations vanished from the merged run.
    let cases: [(&str, Value); 4] = [
        ("dropped_iterations", serde_json::json!(-4)),
        ("dropped_iterations", serde_json::json!(2.5)),
        ("dropped_iterations", serde_json::json!("12")),
        ("iterations", serde_json::json!(1e30)),
    ];
    for (key, value) in cases {
        let dir = tempfile::tempdir().unwrap();
        let patch = |d: &mut Value| d["gatecheck"]["recorder"]["flows"][0][key] = value.clone();
        let (a, b) = (segment(dir.path(), 0, &patch), segment(dir.path(), 1, &|_| {}));
        refused_merge(dir.path(), &a, &b, &["segment-0.json", &format!("flow f: {key}"), "whole, non-negative count"]);
    }
}

#[test]
fn a_segment_that_ran_partially_makes_the_merged_run_partial() {
    // merge read `partial_reason` alone: a segment saying `partial: true` without a reason
    // merged into a run that read as complete, and one that did not say merged too.
    let dir = tempfile::tempdir().unwrap();
    let b = segment(dir.path(), 1, &|_| {});
    let a = segment(dir.path(), 0, &|d| d["gatecheck"]["partial"] = true.into());
    let out = dir.path().join("merged.json");
    gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).assert().code(0);
    let merged = read(&out);
    assert_eq!(merged["gatecheck"]["partial"], true, "{merged}");
    assert_eq!(merged["gatecheck"]["partial_reason"], "the run recorded itself as partial");
    std::fs::remove_file(&out).unwrap();
    let a = segment(dir.path(), 0, &|d| {
        d["gatecheck"].as_object_mut().unwrap().remove("partial");
    });
    refused_merge(dir.path(), &a, &b, &["segment-0.json", "gatecheck.partial: missing"]);
    let a = segment(dir.path(), 0, &|d| d["gatecheck"]["partial"] = "no".into());
    refused_merge(dir.path(), &a, &b, &["segment-0.json", "gatecheck.partial: expected true or false"]);
}

#[test]
fn a_vu_count_that_does_not_fit_is_refused_not_truncated() {
    // `as u32` turned 2^32 + 1 VUs per flow into 1.
    for value in [serde_json::json!(4_294_967_297u64), serde_json::json!("8")] {
        let dir = tempfile::tempdir().unwrap();
        let patch = |d: &mut Value| d["gatecheck"]["executor"]["vus_per_flow"] = value.clone();
        let (a, b) = (segment(dir.path(), 0, &patch), segment(dir.path(), 1, &|_| {}));
        refused_merge(dir.path(), &a, &b, &["segment-0.json", "gatecheck.executor.vus_per_flow"]);
    }
}

/// The output is named with `--out`, is never an input, and never replaces a file that is not
/// a gatecheck summary (issue 23, item 12: `merge a.ndjson b.ndjson c.ndjson` replaced 760 KB of
/// raw results with a summary).
#[test]
fn merge_never_overwrites_an_input_or_a_file_that_is_not_a_summary() {
    let text = std::fs::read_to_string(fixture("k6/1.1.0/trend-stats-p99/raw.ndjson")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"), dir.path().join("c.ndjson"));
    // Three segments written side by side (merged parts must share a moment).
    let parts = raw_parts_side_by_side(&text, 3);
    std::fs::write(&a, &parts[0]).unwrap();
    std::fs::write(&b, &parts[1]).unwrap();
    std::fs::write(&c, &parts[2]).unwrap();
    let before = std::fs::read(&a).unwrap();
    // The old form (first positional is the output) is a usage error now.
    gatecheck().arg("merge").arg(&a).arg(&b).arg(&c).assert().code(2);
    // An input as the output, by its own path or through a symlink: refused.
    let assert = gatecheck().args(["merge", "--out"]).arg(&a).arg(&a).arg(&b).assert().code(2);
    assert!(stderr_of(&assert).contains("that is the input"), "{}", stderr_of(&assert));
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&c, &link).unwrap();
    gatecheck().args(["merge", "--out"]).arg(&link).arg(&a).arg(&b).arg(&c).assert().code(2);
    // An existing file that is not a gatecheck summary (a k6 export): refused, untouched.
    let export = dir.path().join("export.json");
    std::fs::copy(fixture("k6/1.1.0/pass/summary-export.json"), &export).unwrap();
    let export_before = std::fs::read(&export).unwrap();
    let assert = gatecheck().args(["merge", "--out"]).arg(&export).arg(&a).arg(&b).assert().code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("not a gatecheck summary") && err.trim_end().lines().count() == 1, "{err}");
    assert_eq!(std::fs::read(&export).unwrap(), export_before);
    assert_eq!(std::fs::read(&a).unwrap(), before);
    // A new file, then the same file again (a re-run merge replaces its own summary).
    let out = dir.path().join("merged.json");
    gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).arg(&c).assert().code(0);
    gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).arg(&c).assert().code(0);
    assert_eq!(std::fs::read(&a).unwrap(), before);
}

/// Finding 04 (figures): a segment ended in 2099 was hidden by merge, which keeps the earliest
/// end, so the merged summary read as fresh. An input dated in the future (beyond the clock
/// skew allowance) is refused, naming it; the raw path is dated the same way.
#[test]
fn a_segment_dated_in_the_future_is_refused_not_hidden_by_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (start, end) = (rfc(now - time::Duration::minutes(1)), rfc(now));
    // Each duration agrees with its own start and end (`k6_summary::run_span`).
    let until_2099 =
        (time::macros::datetime!(2099-01-01 00:00 UTC) - (now - time::Duration::minutes(1))).whole_seconds();
    let future = segment(dir.path(), 0, &|doc| {
        doc["gatecheck"]["started_at"] = start.clone().into();
        doc["gatecheck"]["ended_at"] = "2099-01-01T00:00:00Z".into();
        doc["gatecheck"]["duration_s"] = (until_2099 as f64).into();
        open_model_plan(doc, until_2099 as f64);
    });
    let current = segment(dir.path(), 1, &|doc| {
        doc["gatecheck"]["started_at"] = start.clone().into();
        doc["gatecheck"]["ended_at"] = end.clone().into();
        doc["gatecheck"]["duration_s"] = 60.0.into();
        open_model_plan(doc, until_2099 as f64);
    });
    refused_merge(dir.path(), &future, &current, &["segment-0.json", "2099-01-01T00:00:00Z", "in the future"]);
}

/// Finding round9-figures/03: `merge` rebuilt the `gatecheck` block without the segments'
/// `remote_write`, so pushes every segment saw refused (each segment's verify: "every push
/// accepted" FAIL) vanished from the merged run, which shipped. Every run fact of a segment
/// that blocks it stays in the merged run: a refusal (named by its segment), a segment that
/// does not say what was refused or pushed nowhere while the other pushed; all pushes taken
/// stays a pass.
#[test]
fn a_segment_whose_pushes_were_refused_blocks_the_merged_run() {
    let pushed = |refused: Value| {
        move |d: &mut Value| {
            d["gatecheck"]["remote_write"] =
                serde_json::json!({"url": "http://127.0.0.1:1/api/v1/write", "pushes": 3, "refused": refused.clone()})
        }
    };
    let without_refused = |d: &mut Value| {
        d["gatecheck"]["remote_write"] = serde_json::json!({"url": "http://127.0.0.1:1/api/v1/write", "pushes": 3})
    };
    let (refused, accepted) = (
        pushed(serde_json::json!(["HTTP 500: native histograms are disabled (3 pushes)"])),
        pushed(serde_json::json!([])),
    );
    let elsewhere = |d: &mut Value| {
        d["gatecheck"]["remote_write"] =
            serde_json::json!({"url": "http://127.0.0.1:2/api/v1/write", "pushes": 3, "refused": []})
    };
    let cases: [(&str, Patch, Patch, Option<&str>); 5] = [
        ("both refused", &refused, &refused, Some("native histograms are disabled")),
        ("pushed to two receivers", &accepted, &elsewhere, Some("pushed to another URL")),
        ("one says nothing of refusals", &accepted, &without_refused, Some("does not say which pushes were accepted")),
        ("one pushed nowhere", &accepted, &|_| {}, Some("pushed nowhere")),
        ("all accepted", &accepted, &accepted, None),
    ];
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"errors\"\nmetric = \"http_req_failed\"\nthresholds = [\"rate < 1%\"]\n");
    for (case, first, second, blocked_by) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (segment(dir.path(), 0, first), segment(dir.path(), 1, second));
        let out = dir.path().join("merged.json");
        gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).assert().code(0);
        let verify = gatecheck().args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(&out).output().unwrap();
        let stdout = String::from_utf8_lossy(&verify.stdout);
        let push_row = stdout.lines().find(|l| l.contains("every push accepted")).unwrap_or_default();
        match blocked_by {
            Some(reason) => {
                assert_eq!(verify.status.code(), Some(1), "{case}: {stdout}");
                assert!(push_row.contains("FAIL"), "{case}: {stdout}");
                assert!(stdout.contains(reason) && stdout.contains("segment-"), "{case}: {stdout}");
            }
            None => {
                assert_eq!(verify.status.code(), Some(0), "{case}: {stdout}");
                assert!(push_row.contains("PASS"), "{case}: {stdout}");
            }
        }
    }
}

/// Finding round29-figures/03: two segments each scraped the target's queue-lag histogram over
/// the run (100 lags of 10-100 s, p95 ~ 95 s); `merge` dropped the windows, and the merged
/// summary passed on env lag figures (1 s, 2 s) each segment refuses. The windows are carried:
/// read alike, the merged run refuses the env figures as each segment does and judges its own
/// window; read differently, the lag gate is NO DATA (never the sum); scraped from two targets,
/// the merge is refused.
#[test]
fn the_segments_scraped_run_window_is_the_merged_runs() {
    let window = |count: f64| serde_json::json!({"buckets": [["1", 0.0], ["10", 0.0], ["100", count], ["+Inf", count]], "sum": count * 50.0, "count": count});
    let scraped = |url: &'static str, count: f64| {
        move |d: &mut Value| {
            d["gatecheck"]["scraped"] = serde_json::json!({
                "url": url, "histograms": {"lagh": window(count), "other": window(1.0)},
                // Read around the segments' one second (2026-01-01T00:00:00Z .. 00:00:01Z).
                "first_scrape_ms": 1_767_225_599_600i64, "second_scrape_ms": 1_767_225_601_300i64,
            })
        }
    };
    let target = "http://127.0.0.1:1/metrics";
    let (lag, fewer, elsewhere) =
        (scraped(target, 100.0), scraped(target, 90.0), scraped("http://127.0.0.1:2/metrics", 100.0));
    let (_guard, policy) = policy_file(
        "[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"queue-lag\"\nthresholds = [\"p(95) < 30s\"]\nunit = \"s\"\nscrape = \"lagh\"\n\
         [gate.env]\n\"p(95)\" = \"QUEUE_LAG_P95_SECONDS\"\n",
    );
    let merged = |first: Patch, second: Patch| {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (segment(dir.path(), 0, first), segment(dir.path(), 1, second));
        let out = dir.path().join("merged.json");
        let merge = gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).output().unwrap();
        (dir, out, merge)
    };
    let verify = |summary: &std::path::Path, env: &[(&str, &str)]| {
        gatecheck()
            .envs(env.iter().copied())
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(summary)
            .output()
            .unwrap()
    };
    let text = |out: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };

    // Read alike: kept once, as each segment's.
    let (_dir, out, merge) = merged(&lag, &lag);
    assert_eq!(merge.status.code(), Some(0), "{}", text(&merge));
    assert_eq!(read(&out)["gatecheck"]["scraped"]["histograms"]["lagh"], window(100.0), "kept once, never summed");
    let with_env = verify(&out, &[("QUEUE_LAG_P95_SECONDS", "1")]);
    assert_eq!(with_env.status.code(), Some(2), "the env figure the segments' window contradicts: {}", text(&with_env));
    assert!(text(&with_env).contains("measured"), "{}", text(&with_env));
    let own = verify(&out, &[]);
    let row = text(&own).lines().find(|l| l.contains("queue-lag")).unwrap_or_default().to_string();
    assert_eq!(own.status.code(), Some(1), "{}", text(&own));
    assert!(row.contains("FAIL"), "its own window judged: {}", text(&own));

    // Read differently: measured, no figure; the env figure still refused.
    let (_dir, out, merge) = merged(&lag, &fewer);
    assert_eq!(merge.status.code(), Some(0), "{}", text(&merge));
    assert_eq!(read(&out)["gatecheck"]["scraped"]["histograms"]["other"], window(1.0), "{}", read(&out));
    let own = verify(&out, &[]);
    let row = text(&own).lines().find(|l| l.contains("queue-lag")).unwrap_or_default().to_string();
    assert!(row.contains("NO DATA") && own.status.code() == Some(1), "{}", text(&own));
    assert!(text(&own).contains("different run windows"), "{}", text(&own));
    assert_eq!(verify(&out, &[("QUEUE_LAG_P95_SECONDS", "1")]).status.code(), Some(2));

    // Two targets: refused in one line naming the field.
    let (_dir, _, merge) = merged(&lag, &elsewhere);
    assert_eq!(merge.status.code(), Some(2), "{}", text(&merge));
    assert!(
        text(&merge).contains("gatecheck.scraped.url") && text(&merge).trim_end().lines().count() == 1,
        "{}",
        text(&merge)
    );
}

/// Finding round37-figures/01: segment 0 scraped the target's queue lag around its own run
/// (100 lags under 1 s), segment 1 did not scrape and ran on 4 s after segment 0's second
/// scrape (when the backlog builds). `merge` took segment 0's window as the merged run's, the
/// summary recorded no scrape times, and `verify` passed the lag gate on it. A window stands
/// for the merged run only where its scrapes enclose the run (earliest start .. latest end):
/// else the gate is NO DATA naming why; a window that does enclose it is judged; and a
/// summary that records no scrape times shows no window covers its run.
#[test]
fn a_scraped_window_stands_for_the_merged_run_only_where_its_scrapes_enclose_it() {
    let good = serde_json::json!({"buckets": [["1", 100.0], ["10", 100.0], ["100", 100.0], ["+Inf", 100.0]], "sum": 50.0, "count": 100.0});
    let (_guard, policy) = policy_file(
        "[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"queue-lag\"\nthresholds = [\"p(95) < 30s\"]\nunit = \"s\"\nscrape = \"lagh\"\n",
    );
    // Both segments start at 2026-01-01T00:00:00Z; segment 1 ends 4 s after segment 0.
    let dated = |doc: &mut Value, ended: &str, seconds: f64| {
        doc["gatecheck"]["ended_at"] = ended.into();
        doc["gatecheck"]["duration_s"] = seconds.into();
        open_model_plan(doc, 5.0);
    };
    let run = |second_scrape_ms: Option<i64>| {
        let dir = tempfile::tempdir().unwrap();
        let good = good.clone();
        let a = segment(dir.path(), 0, &|d| {
            dated(d, "2026-01-01T00:00:01Z", 1.0);
            d["gatecheck"]["scraped"] =
                serde_json::json!({"url": "http://127.0.0.1:1/metrics", "histograms": {"lagh": good}});
            if let Some(second) = second_scrape_ms {
                d["gatecheck"]["scraped"]["first_scrape_ms"] = 1_767_225_599_600i64.into();
                d["gatecheck"]["scraped"]["second_scrape_ms"] = second.into();
            }
        });
        let b = segment(dir.path(), 1, &|d| dated(d, "2026-01-01T00:00:05Z", 5.0));
        let out = dir.path().join("merged.json");
        let merge = gatecheck().args(["merge", "--out"]).arg(&out).arg(&a).arg(&b).output().unwrap();
        assert_eq!(merge.status.code(), Some(0), "{}", String::from_utf8_lossy(&merge.stderr));
        let verify = |summary: &std::path::Path| {
            let done =
                gatecheck().args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(summary).output().unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
            (done.status.code(), text)
        };
        (verify(&out), dir)
    };
    // Segment 0's second scrape (00:00:01.3) comes before the merged run ends (00:00:05).
    let ((code, text), _dir) = run(Some(1_767_225_601_300));
    let row = text.lines().find(|l| l.contains("queue-lag")).unwrap_or_default();
    assert!(code == Some(1) && row.contains("NO DATA"), "{text}");
    assert!(text.contains("second scrape") && text.contains("segment-1.json did not scrape"), "{text}");
    // Scrapes that enclose the whole merged run (to 00:00:05.2): judged.
    let ((code, text), _dir) = run(Some(1_767_225_605_200));
    let row = text.lines().find(|l| l.contains("queue-lag")).unwrap_or_default();
    assert!(code == Some(0) && row.contains("PASS"), "{text}");
    // No scrape times recorded: nothing shows the window covers the run.
    let ((code, text), _dir) = run(None);
    assert!(code == Some(1) && text.contains("records no scrape times"), "{text}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]

    /// Findings round15-figures/02 and round16-figures/01. Rule: segments merged as one run are
    /// of one plan. Two segments of one plan merge; the second drawn with any one fact of the
    /// whole run's plan changed (scenario, target, executor and its VUs, planned duration,
    /// request timeout, request cap, flows switched off, the common start; and what a flow
    /// sends: its start, its sleep, a request's method, path, body, check, expected status or
    /// JSON), each segment following its own plan, is refused naming the field.
    #[test]
    fn segments_with_one_plan_fact_changed_are_refused(
        which in 0usize..17,
        number in 1u64..50,
        fraction in 0.05f64..0.95,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let first = segment(dir.path(), 0, &|_| {});
        let same = segment(dir.path(), 1, &|_| {});
        let inputs = [first.clone(), same];
        proptest::prop_assert!(gatecheck::load::merge::merge_native(&inputs).is_ok());
        let field = [
            "scenario", "target", "executor.vus_per_flow", "executor", "duration_s", "request_timeout_s", "request_cap",
            "skipped_flows", "start_at", "flows.f.start_after_s", "flows.f.sleep_s", "flows.f.requests[0].method",
            "flows.f.requests[0].path_sha256", "flows.f.requests[0].body_sha256", "flows.f.requests[0].check",
            "flows.f.requests[0].expect_status", "flows.f.requests[0].expect_json_sha256",
        ][which];
        let digest = format!("{number:064x}");
        let changed = segment(dir.path(), 1, &|d| {
            let (plan, ran) = (&mut d["gatecheck"]["shard"]["plan"].clone(), &mut d["gatecheck"].clone());
            match which {
                0 => { plan["scenario"] = "other".into(); ran["scenario"] = "other".into(); }
                1 => {
                    let url = format!("http://127.0.0.1:{}", number + 1);
                    plan["target"] = url.clone().into();
                    ran["target"] = url.into();
                }
                2 => {
                    // 2 VUs become 2 + number: segment 1/2 runs its share.
                    let vus = 2 + number;
                    plan["executor"]["vus_per_flow"] = vus.into();
                    ran["executor"]["vus_per_flow"] = (vus - vus / 2).into();
                    // Its gauge shows them (round39-figures/03), one flow.
                    let gauge = vus - vus / 2;
                    d["metrics"]["vus"] = serde_json::json!({"value": gauge, "min": gauge, "max": gauge});
                }
                3 => {
                    // At least one arrival for segment 1/2 over the 1 s plan, the one it started;
                    // the rest of its arrivals dropped (round39-figures/02).
                    let rate = number + 1;
                    let open = |vus: u32| serde_json::json!({"type": "constant-arrival-rate", "iterations_per_second_per_flow": rate as f64, "max_vus_per_flow": vus});
                    plan["executor"] = open(2);
                    ran["executor"] = open(1);
                    ran["recorder"]["flows"][0]["dropped_iterations"] = ((rate - 1).div_ceil(2) - 1).into();
                }
                4 => { plan["duration_s"] = fraction.into(); ran["duration_s"] = fraction.into(); }
                5 => { plan["request_timeout_s"] = (10.0 + number as f64).into(); }
                6 => {
                    // Above the one request the segment records: a complete run stays below its cap.
                    let cap = number + 2;
                    plan["request_cap"] = cap.into();
                    ran["request_cap"] = (cap - cap / 2).into();
                }
                7 => {
                    let off = serde_json::json!([{"flow": "g", "because": "switched off"}]);
                    plan["skipped_flows"] = off.clone();
                    ran["skipped_flows"] = off;
                }
                8 => { ran["shard"]["start_at"] = gatecheck::metrics::rfc3339(1_700_000_000 + number as i64).into(); }
                9 => { plan["flows"]["f"]["start_after_s"] = fraction.into(); }
                10 => { plan["flows"]["f"]["sleep_s"] = fraction.into(); }
                11 => {
                    plan["flows"]["f"]["requests"][0]["method"] = "POST".into();
                    ran["recorder"]["flows"][0]["endpoints"][0]["method"] = "POST".into();
                }
                12 => { plan["flows"]["f"]["requests"][0]["path_sha256"] = digest.clone().into(); }
                13 => { plan["flows"]["f"]["requests"][0]["body_sha256"] = digest.clone().into(); }
                14 => { plan["flows"]["f"]["requests"][0]["check"] = format!("status {number}").into(); }
                15 => { plan["flows"]["f"]["requests"][0]["expect_status"] = (200 + number).into(); }
                _ => { plan["flows"]["f"]["requests"][0]["expect_json_sha256"] = digest.clone().into(); }
            }
            ran["shard"]["plan"] = plan.clone();
            d["gatecheck"] = ran.clone();
        });
        let refused = gatecheck::load::merge::merge_native(&[first, changed]).map(|_| ()).map_err(|e| e.to_string());
        proptest::prop_assert!(
            refused.as_ref().is_err_and(|why| (why.contains(&format!(".{field} ")) || (which == 3 && why.contains(".executor."))) && why.contains("one plan")),
            "{field}: {refused:?}"
        );
    }
}

/// The raw results of one k6 run, written by two runners: the Metric records in both files, the
/// points taken in turns (as `raw_parts_side_by_side`), decompressed where gzipped.
fn raw_run_in_two_files(raw: &std::path::Path, dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut text = String::new();
    let file = std::fs::File::open(raw).unwrap();
    if raw.extension().is_some_and(|e| e == "gz") {
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text).unwrap();
    } else {
        std::io::Read::read_to_string(&mut std::io::BufReader::new(file), &mut text).unwrap();
    }
    let (first, second) = raw_segments_side_by_side(&text);
    let (a, b) = (dir.join("a.ndjson"), dir.join("b.ndjson"));
    std::fs::write(&a, first).unwrap();
    std::fs::write(&b, second).unwrap();
    (a, b)
}

/// Finding round30-figures/01: raw results of a run k6 failed (exit 99), merged, passed a
/// policy enforcing k6's verdicts while the same files given with `--raw` blocked: the merged
/// summary dropped that the Metric records listed thresholds and was read as a native run.
/// The merged summary carries what the raw results showed (`gatecheck.k6_thresholds_shown`),
/// and verify judges `k6-thresholds` from it as `--raw` does: NO DATA, blocking.
#[test]
fn merged_raw_results_keep_that_k6_had_thresholds_and_block_as_the_raw_files_do() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = raw_run_in_two_files(&fixture("k6/2.2.0/fail-latency/raw-v1.ndjson.gz"), dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"r\"\n[k6_thresholds]\nenforce = true\n[integrity]\npartial_run = \"warn\"\n\
         [[gate]]\nid = \"read-errors\"\nmetric = \"http_req_failed{flow:auth_list}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    let raw = gatecheck()
        .args(["verify", "--no-env", "--policy"])
        .arg(&policy)
        .arg("--raw")
        .arg(&a)
        .arg("--raw")
        .arg(&b)
        .assert()
        .code(1);
    let raw_out = stdout_of(&raw);
    assert!(table_line(&raw_out, "k6-thresholds", "every k6 threshold passed").contains("NO DATA"), "{raw_out}");
    let merged = dir.path().join("merged.json");
    gatecheck().args(["merge", "--policy"]).arg(&policy).arg("--out").arg(&merged).arg(&a).arg(&b).assert().code(0);
    let doc = read(&merged);
    let shown = doc["gatecheck"]["k6_thresholds_shown"].as_array().unwrap_or_else(|| panic!("{doc}"));
    assert!(shown.iter().any(|s| s.as_str().is_some_and(|s| s.contains("auth_list"))), "{doc}");
    let out = stdout_of(
        &gatecheck()
            .args(["verify", "--no-env", "--policy"])
            .arg(&policy)
            .arg("--summary")
            .arg(&merged)
            .assert()
            .code(1),
    );
    let row = table_line(&out, "k6-thresholds", "every k6 threshold passed");
    assert!(row.contains("NO DATA"), "{out}");
    assert!(out.contains("merge of k6 raw results"), "the evidence is named for what it is: {out}");
    // Enforcing no k6 verdicts, the merged run is judged on its figures alone, as the raw files.
    let lenient = dir.path().join("lenient.toml");
    std::fs::write(&lenient, std::fs::read_to_string(&policy).unwrap().replace("enforce = true", "enforce = false"))
        .unwrap();
    gatecheck()
        .args(["verify", "--no-env", "--policy"])
        .arg(&lenient)
        .arg("--raw")
        .arg(&a)
        .arg("--raw")
        .arg(&b)
        .assert()
        .code(0);
    gatecheck().args(["verify", "--no-env", "--policy"]).arg(&lenient).arg("--summary").arg(&merged).assert().code(0);
}

/// The class of round30-figures/01 over every fixture run (k6 1.1.0 and 2.2.0, each case, each
/// raw file): the merged summary of a run's raw results, split between two runners, judges
/// `k6-thresholds` exactly as the raw files read directly do (same status, same blocking).
#[test]
fn the_merge_of_every_fixture_runs_raw_results_judges_k6_thresholds_as_the_raw_files() {
    let policy = gatecheck::policy::parse(
        "enforce.toml",
        "enforce",
        "[k6_thresholds]\nenforce = true\n[integrity]\npartial_run = \"warn\"\n[[gate]]\nid = \"read-errors\"\nmetric = \"http_req_failed{flow:auth_list}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    let k6_rows = |evidence: gatecheck::policy::evaluate::Evidence| {
        let verdict = gatecheck::policy::evaluate::evaluate(&policy, &evidence).unwrap();
        let rows: Vec<_> =
            verdict.rows.iter().filter(|r| r.gate == "k6-thresholds").map(|r| (r.status, r.blocking)).collect();
        rows
    };
    let mut judged = 0;
    for version in ["1.1.0", "2.2.0"] {
        for case in std::fs::read_dir(fixture(&format!("k6/{version}"))).unwrap() {
            let case = case.unwrap().path();
            for name in ["raw.ndjson", "raw.ndjson.gz", "raw-v1.ndjson.gz"] {
                let raw_file = case.join(name);
                if !raw_file.exists() {
                    continue;
                }
                let dir = tempfile::tempdir().unwrap();
                let (a, b) = raw_run_in_two_files(&raw_file, dir.path());
                let inputs = [a.clone(), b.clone()];
                let (raw, _) =
                    gatecheck::sources::k6_ndjson::read(&[a.as_path(), b.as_path()], &policy.metric_keys(), false)
                        .unwrap();
                let document = gatecheck::load::merge::merge_raw(&inputs, &policy).unwrap();
                let text = gatecheck::load::summary::encode(&document).unwrap();
                let merged = gatecheck::sources::k6_summary::parse("merged.json", &text).unwrap();
                let from_raw = k6_rows(gatecheck::policy::evaluate::Evidence { raw: Some(raw), ..Default::default() });
                let from_merged =
                    k6_rows(gatecheck::policy::evaluate::Evidence { summary: Some(merged), ..Default::default() });
                assert!(!from_raw.is_empty(), "{}", raw_file.display());
                assert_eq!(from_merged, from_raw, "{}", raw_file.display());
                judged += 1;
            }
        }
    }
    assert!(judged >= 18, "{judged} raw files judged");
}

/// An instant (unix ms) anywhere on the time line, or within a few seconds of one of `near`.
fn instant_near(near: Vec<i64>) -> impl proptest::strategy::Strategy<Value = i64> {
    use proptest::prelude::*;
    prop_oneof![
        -2_000_000_000_000i64..5_000_000_000_000,
        (proptest::sample::select(near), -3_000i64..3_000).prop_map(|(at, off)| at + off),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

    /// Finding round38-figures/02, generated: segment 0 of a run (2026-01-01T00:00:00Z ..
    /// 00:00:01Z, request timeout 10 s) records its two scrape instants anywhere on the time
    /// line; `merge` and `verify` (of the segment, and of the merge) accept them exactly when
    /// they lie where the writer can read them: in order, neither in the future (the clock
    /// allowance, 120 s), the first at most 120 s before the run's start, the second at most
    /// 1 s + (request timeout + 1 s) + 2 x 10 s + 10 s + 120 s = 162 s after its end. Else
    /// exit 2 naming the field.
    #[test]
    fn scrape_instants_are_accepted_exactly_where_the_writer_can_read_them(
        first in instant_near(vec![1_767_225_600_000 - 120_000, 1_767_225_600_000, 1_767_225_601_000, 1_767_225_601_000 + 162_000, 0]),
        second in instant_near(vec![1_767_225_600_000 - 120_000, 1_767_225_600_000, 1_767_225_601_000, 1_767_225_601_000 + 162_000, 0]),
    ) {
        let (start_ms, end_ms) = (1_767_225_600_000i64, 1_767_225_601_000i64);
        let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
        let not_future = |ms: i64| ms.div_euclid(1000) <= now_s + 120;
        let fits = first <= second && not_future(second) && first >= start_ms - 120_000 && second <= end_ms + 162_000;
        let dir = tempfile::tempdir().unwrap();
        let scraped = |first: i64, second: i64| serde_json::json!({
            "url": "http://127.0.0.1:1/metrics",
            "histograms": {"lagh": {"buckets": [["1", 1.0], ["+Inf", 1.0]], "sum": 0.5, "count": 1.0}},
            "first_scrape_ms": first, "second_scrape_ms": second,
        });
        let other = segment(dir.path(), 1, &|_| {});
        let edited = segment(dir.path(), 0, &|d| d["gatecheck"]["scraped"] = scraped(first, second));
        let merged = gatecheck::load::merge::merge_native(&[edited, other.clone()]).map(|_| ()).map_err(|e| e.to_string());
        // `verify` of a merged summary whose recorded instants were then edited alike (its run:
        // the same start and end).
        let read_around = segment(dir.path(), 0, &|d| d["gatecheck"]["scraped"] = scraped(start_ms - 100, end_ms + 300));
        let mut whole = gatecheck::load::merge::merge_native(&[read_around, other]).unwrap();
        whole["gatecheck"]["scraped"]["first_scrape_ms"] = first.into();
        whole["gatecheck"]["scraped"]["second_scrape_ms"] = second.into();
        let path = dir.path().join("merged.json");
        std::fs::write(&path, whole.to_string()).unwrap();
        let verified = gatecheck::sources::k6_summary::read(&path).map(|_| ()).map_err(|e| e.to_string());
        for (who, result) in [("merge", merged), ("verify", verified)] {
            match result {
                Ok(()) => proptest::prop_assert!(fits, "{}: {} .. {} accepted", who, first, second),
                Err(why) => proptest::prop_assert!(!fits && why.contains("gatecheck.scraped."), "{}: {} .. {}: {}", who, first, second, why),
            }
        }
    }
}
