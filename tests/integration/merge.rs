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
    let lines: Vec<&str> = text.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ndjson"), dir.path().join("b.ndjson"));
    std::fs::write(&a, lines[..lines.len() / 2].join("\n") + "\n").unwrap();
    std::fs::write(&b, lines[lines.len() / 2..].join("\n") + "\n").unwrap();
    let merged = dir.path().join("merged.json");
    gatecheck().arg("merge").arg(&merged).arg(&a).arg(&b).assert().code(0);
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
    let shard = |name: &str| {
        let path = dir.path().join(name);
        gatecheck()
            .env("PERF_BASE_URL", &target.url)
            .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
            .env("PERF_RULE_ID", DEMO_RULE)
            .args(["smoke", "--quiet", "--duration", "3s", "--summary-out"])
            .arg(&path)
            .arg("--log-out")
            .arg(dir.path().join("log"))
            .assert()
            .code(0);
        path
    };
    let (a, b) = (shard("a.json"), shard("b.json"));
    let merged = dir.path().join("merged.json");
    gatecheck().arg("merge").arg(&merged).arg(&a).arg(&b).assert().code(0);
    let (da, db, dm) = (read(&a), read(&b), read(&merged));
    let count = |d: &Value, key: &str| d["metrics"][key]["count"].as_u64().unwrap();
    assert_eq!(count(&dm, "http_reqs"), count(&da, "http_reqs") + count(&db, "http_reqs"));
    for flow in ["auth_list", "rule_poll", "provider_log_write"] {
        let name = format!("http_req_duration{{flow:{flow}}}");
        assert_eq!(count(&dm, &name), count(&da, &name) + count(&db, &name), "{name}");
        let stat = |d: &Value, s: &str| d["metrics"][&name][s].as_f64().unwrap();
        assert_eq!(stat(&dm, "max"), stat(&da, "max").max(stat(&db, "max")), "{name} max");
        assert_eq!(stat(&dm, "min"), stat(&da, "min").min(stat(&db, "min")), "{name} min");
        // The union's percentile lies between the shards' (up to float rounding of k6's
        // interpolation between closest ranks).
        let p95 = stat(&dm, "p(95)");
        let (low, high) = (stat(&da, "p(95)").min(stat(&db, "p(95)")), stat(&da, "p(95)").max(stat(&db, "p(95)")));
        assert!(p95 >= low * (1.0 - 1e-9) && p95 <= high * (1.0 + 1e-9), "{name} p95 {p95} not in [{low}, {high}]");
    }
    gatecheck_with_lag().args(["verify", "--summary"]).arg(&merged).assert().code(0);
    // Mixing kinds of input, or merging a k6 summary, is refused.
    gatecheck()
        .arg("merge")
        .arg(dir.path().join("x.json"))
        .arg(&a)
        .arg(fixture("k6/1.1.0/pass/raw.ndjson"))
        .assert()
        .code(2);
    gatecheck()
        .arg("merge")
        .arg(dir.path().join("x.json"))
        .arg(&a)
        .arg(fixture("k6/1.1.0/pass/summary-export.json"))
        .assert()
        .code(2);
}
