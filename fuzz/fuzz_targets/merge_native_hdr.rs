//! Fuzzes `gatecheck merge` of native run summaries (`merge::merge`), which decodes the
//! base64 HDR histograms the runner serialized (V2 or V2+deflate) and adds them up. merge only
//! takes paths, so inputs are written to scratch files. The first byte picks the mode:
//! even: the rest is a whole native summary (JSON), merged with itself;
//! odd: the rest is the serialized histogram, put into a fixed native summary (so the fuzzer
//! works on the HDR bytes, not on their base64 spelling).
//! The two copies are made segments 0/2 and 1/2 of one run (unless the summary names its
//! shard): merge refuses a segment given twice, so without that no merge could succeed and
//! the sums after the shard check were never reached.
//! Property: a merge that succeeds wrote a summary that `verify` reads back with sane figures.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;

/// A native summary around one histogram: the parts `read_native` looks at.
fn native_summary(histogram: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(histogram);
    serde_json::to_vec(&serde_json::json!({
        "metrics": {},
        "gatecheck": {
            "scenario": "fuzz",
            "target": "http://127.0.0.1:8000",
            "executor": {"type": "constant-vus", "vus_per_flow": 2},
            "started_at": "2026-11-30T00:00:00Z",
            "ended_at": "2026-11-30T00:00:03Z",
            "duration_s": 3.0,
            "partial": false,
            "partial_reason": null,
            "skipped_flows": [],
            // A real plan's cap, above what it recorded: a run flagged complete stays below its
            // cap (`sources::native_plan`).
            "request_cap": 1_000_000,
            "recorder": {
                "flows": [{
                    "name": "auth_list",
                    "iterations": 10,
                    "late_iterations": 0,
                    "dropped_iterations": 0,
                    "endpoints": [{
                        "name": "list_rules",
                        "method": "GET",
                        "check": "list rules 200",
                        "requests": 10,
                        "failed": 1,
                        "checks_passed": 9,
                        "checks_failed": 1,
                        "statuses": {"200": 9, "500": 1},
                        "histogram_us": encoded,
                    }],
                }],
                "errors": {},
                "bytes_received": 1000,
                "clamped": 0,
            },
        },
    }))
    .expect("static summary encodes")
}

/// `document` as segment `index` of a two-segment run; bytes that are not a native summary, or
/// one that names its shard, are left as they are (so the shard checks are fuzzed too).
fn as_segment(document: &[u8], index: u32) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut doc)) = serde_json::from_slice(document) else { return document.to_vec() };
    let Some(native) = doc.get_mut("gatecheck").and_then(serde_json::Value::as_object_mut) else {
        return document.to_vec();
    };
    if native.contains_key("shard") {
        return document.to_vec();
    }
    // The whole run's plan, of which each segment ran half (`merge` holds segments to it).
    let mut executor = native.get("executor").cloned().unwrap_or(serde_json::Value::Null);
    for key in ["vus_per_flow", "max_vus_per_flow"] {
        if let Some(vus) = executor.get(key).and_then(serde_json::Value::as_u64) {
            executor[key] = (vus.saturating_mul(2)).into();
        }
    }
    let fact = |key: &str| native.get(key).cloned().unwrap_or(serde_json::Value::Null);
    let cap = native.get("request_cap").and_then(serde_json::Value::as_u64).map(|cap| cap.saturating_mul(2));
    // Each flow the segment recorded, as its plan sends it (`merge` holds the recorder to it).
    let recorded = native.get("recorder").and_then(|r| r.get("flows")).and_then(serde_json::Value::as_array);
    let flows: serde_json::Map<String, serde_json::Value> =
        recorded
            .into_iter()
            .flatten()
            .map(|flow| {
                let endpoints = flow.get("endpoints").and_then(serde_json::Value::as_array).into_iter().flatten();
                let requests: Vec<serde_json::Value> = endpoints
                .map(|e| serde_json::json!({
                    "name": e.get("name").cloned().unwrap_or_default(),
                    "method": e.get("method").cloned().unwrap_or_else(|| "GET".into()),
                    "path_sha256": "0", "body_sha256": null, "check": e.get("check").cloned().unwrap_or_default(),
                    "expect_status": 200, "expect_json_sha256": null,
                }))
                .collect();
                let name = flow.get("name").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
                (name, serde_json::json!({"start_after_s": 0.0, "sleep_s": 0.0, "requests": requests}))
            })
            .collect();
    let plan = serde_json::json!({
        "scenario": fact("scenario"), "target": fact("target"), "executor": executor, "duration_s": fact("duration_s"),
        "request_timeout_s": 10.0, "request_cap": cap, "skipped_flows": fact("skipped_flows"), "flows": flows,
    });
    let shard = serde_json::json!({
        "run_id": "fuzz", "segment": format!("{index}/2"), "index": index, "count": 2, "scenario_sha256": "0", "plan": plan,
    });
    native.insert("shard".into(), shard);
    serde_json::to_vec(&doc).expect("a parsed document encodes")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let document = if mode & 1 == 0 { rest.to_vec() } else { native_summary(rest) };
    let a = gatecheck_fuzz::write_scratch("a.json", &as_segment(&document, 0));
    let b = gatecheck_fuzz::write_scratch("b.json", &as_segment(&document, 1));
    let out = gatecheck_fuzz::scratch("merged.json");
    let policy = gatecheck_fuzz::release_policy();
    if gatecheck::commands::merge::merge(&out, &[a, b], policy).is_ok() {
        let merged = gatecheck::sources::k6_summary::read(&out);
        let set = merged.unwrap_or_else(|e| panic!("merge wrote a summary verify cannot read: {e}"));
        gatecheck_fuzz::check_summary(set);
    }
});
