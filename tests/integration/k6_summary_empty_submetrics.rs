//! Finding round34-figures/01: a k6 sub-metric that got no sample is written with every field 0
//! (a gauge `{value:0,min:0,max:0}`, a counter `{count:0,rate:0}`), and k6 passes its
//! thresholds. A summary cannot tell that from samples that were all 0: such a sub-metric's
//! figures are NO DATA in every summary shape, unless the same run's raw results, given beside
//! it, hold its samples. Parent (untagged) metrics keep their figures.

use std::path::Path;

use gatecheck::policy::evaluate::{evaluate, Evidence};
use gatecheck::policy::verdict::Status;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::*;

const GAUGE_POLICY: &str = r#"
[policy]
name = "depth"
[k6_thresholds]
enforce = true
[[gate]]
id = "queue-depth"
metric = "queue_depth{flow:auth_list}"
kind = "gauge"
thresholds = ["value < 100"]
"#;

const COUNTER_POLICY: &str = r#"
[policy]
name = "errors"
[k6_thresholds]
enforce = true
[[gate]]
id = "flow-errors"
metric = "flow_errors{flow:auth_list}"
kind = "counter"
thresholds = ["count < 1"]
"#;

fn verify(policy: &str, args: &[&Path], flags: &[&str]) -> (i32, String) {
    let (_dir, policy) = policy_file(policy);
    let mut cmd = gatecheck();
    cmd.args(["verify", "--policy"]).arg(&policy);
    for (flag, path) in flags.iter().zip(args) {
        cmd.arg(flag).arg(path);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn an_empty_gauge_or_counter_sub_metric_of_real_k6_output_is_no_data_in_every_shape() {
    for shape in ["summary-export.json", "handle-summary.json"] {
        let summary = fixture(&format!("k6/empty-submetric/{shape}"));
        for (policy, gate, check) in
            [(GAUGE_POLICY, "queue-depth", "value < 100"), (COUNTER_POLICY, "flow-errors", "count < 1")]
        {
            let (code, out) = verify(policy, &[&summary], &["--summary"]);
            assert_eq!(code, 1, "{shape} {gate}: {out}");
            let line = table_line(&out, gate, check);
            assert!(line.contains("NO DATA"), "{shape} {gate}: {line}\n{out}");
            assert!(out.contains("shows no sample") && out.contains("--raw"), "{shape} {gate}: {out}");
        }
    }
}

#[test]
fn raw_results_beside_the_summary_tell_an_empty_sub_metric_from_samples_of_zero() {
    let summary = fixture("k6/empty-submetric/summary-export.json");
    let raw = fixture("k6/empty-submetric/raw.ndjson");
    // The run's own raw results hold no sample of the sub-metric: NO DATA, saying so.
    for (policy, gate, check) in
        [(GAUGE_POLICY, "queue-depth", "value < 100"), (COUNTER_POLICY, "flow-errors", "count < 1")]
    {
        let (code, out) = verify(policy, &[&summary, &raw], &["--summary", "--raw"]);
        assert_eq!(code, 1, "{gate}: {out}");
        assert!(table_line(&out, gate, check).contains("NO DATA"), "{gate}: {out}");
        assert!(out.contains("hold no sample of it"), "{gate}: {out}");
    }
    // Raw results that hold samples of it, all 0: the zeros were measured, and are judged.
    let text = std::fs::read_to_string(&raw).unwrap();
    let at = "2026-12-07T12:59:39.043200000Z";
    let gauge = format!(
        r#"{{"metric":"queue_depth","type":"Point","data":{{"time":"{at}","value":0,"tags":{{"flow":"auth_list","group":"","scenario":"default"}}}}}}"#
    );
    let counter = format!(
        r#"{{"metric":"flow_errors","type":"Point","data":{{"time":"{at}","value":0,"tags":{{"flow":"auth_list","group":"","scenario":"default"}}}}}}"#
    );
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let after = lines.iter().position(|l| l.contains(r#""metric":"flow_errors","type":"Point""#)).unwrap();
    lines.insert(after + 1, gauge);
    lines.insert(after + 2, counter);
    let dir = tempfile::tempdir().unwrap();
    let sampled = dir.path().join("raw.ndjson");
    std::fs::write(&sampled, lines.join("\n") + "\n").unwrap();
    for (policy, gate, check) in
        [(GAUGE_POLICY, "queue-depth", "value < 100"), (COUNTER_POLICY, "flow-errors", "count < 1")]
    {
        let (code, out) = verify(policy, &[&summary, &sampled], &["--summary", "--raw"]);
        let line = table_line(&out, gate, check);
        assert!(line.contains("PASS"), "{gate}: {line}\n{out}");
        assert!(line.contains("raw.ndjson"), "{gate}: {line}");
        assert_eq!(code, 0, "{gate}: {out}");
    }
}

/// The summary shapes gatecheck reads, each holding one metric `key` with `fields`.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Export,
    HandleSummary,
    MachineReadable,
    Merged,
}

fn document(shape: Shape, key: &str, kind: &str, fields: &Value) -> Value {
    match shape {
        Shape::Export => json!({"metrics": {key: fields}}),
        Shape::HandleSummary => {
            json!({"metrics": {key: {"type": kind, "contains": "default", "values": fields}}})
        }
        Shape::MachineReadable => json!({
            "version": "1.0",
            "results": {"metrics": [{"name": key, "type": kind, "contains": "default", "values": fields}]}
        }),
        Shape::Merged => json!({
            "metrics": {key: fields},
            "gatecheck": {"runner": "gatecheck 0 merge", "merged_from": ["a.ndjson", "b.ndjson"], "partial": true}
        }),
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![Just(Shape::Export), Just(Shape::HandleSummary), Just(Shape::MachineReadable), Just(Shape::Merged)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every summary shape × gauge or counter × sub-metric or parent × fields all 0 or not: a
    /// sub-metric whose every field is 0 is never PASS (NO DATA); any other is judged on its
    /// figure, a parent's zeros included.
    #[test]
    fn an_all_zero_sub_metric_is_never_pass(
        shape in shape(),
        gauge in any::<bool>(),
        tagged in any::<bool>(),
        samples in proptest::collection::vec(prop_oneof![Just(0.0f64), 1.0f64..300.0], 1..5),
        stat in 0usize..3,
    ) {
        let (name, kind) = if gauge { ("queue_depth", "gauge") } else { ("flow_errors", "counter") };
        let key = if tagged { format!("{name}{{flow:auth_list}}") } else { name.to_string() };
        let (fields, stat, figure) = if gauge {
            let value = *samples.last().unwrap();
            let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
            let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (stat, figure) = [("value", value), ("min", min), ("max", max)][stat];
            (json!({"value": value, "min": min, "max": max}), stat, figure)
        } else {
            let count: f64 = samples.iter().sum();
            (json!({"count": count, "rate": count / 10.0}), "count", count)
        };
        let all_zero = samples.iter().all(|s| *s == 0.0);
        let doc = document(shape, &key, kind, &fields);
        let set = gatecheck::sources::k6_summary::parse("s.json", doc.to_string().as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{shape:?} {doc}: {e}")))?;
        let text = format!(
            "[policy]\nname = \"p\"\n[k6_thresholds]\nenforce = false\n[[gate]]\nid = \"g\"\nmetric = \"{key}\"\nkind = \"{kind}\"\nthresholds = [\"{stat} < 100\"]\n"
        );
        let policy = gatecheck::policy::parse("p.toml", "p", &text).unwrap();
        let verdict = evaluate(&policy, &Evidence { summary: Some(set), ..Evidence::default() }).unwrap();
        let row = row(&verdict, "g", &format!("{stat} < 100"));
        if tagged && all_zero {
            prop_assert_eq!(row.status, Status::NoData, "{:?} {}: {:?}", shape, doc, row);
        } else {
            let expected = if figure < 100.0 { Status::Pass } else { Status::Fail };
            prop_assert_eq!(row.status, expected, "{:?} {}: {:?}", shape, doc, row);
        }
    }
}
