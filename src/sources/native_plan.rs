//! A native summary's run facts held to the plan it records (`gatecheck.shard`): the one rule
//! every reader of a native summary applies — `k6_summary` (verify, run, compare, baselines)
//! and `load::merge` — so no reader judges as complete a run its own file shows was cut short,
//! nor one segment as the whole run (finding round35-figures/01: `merge` refused a run flagged
//! complete that lasted less than its plan, `verify` passed it).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::sources::k6_summary::{partial_run, whole_count};
use crate::sources::segment::Segment;

/// Who a native summary is among the runners of one run, and the plan they share.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardIdentity {
    pub run_id: String,
    pub segment: Segment,
    pub scenario_sha256: String,
    /// The whole run's plan (`gatecheck.shard.plan`, `load::summary::plan_json`) and the common
    /// start (`gatecheck.shard.start_at`): what every segment of one run shares.
    pub plan: Map<String, Value>,
    pub start_at: Value,
}

/// `native` (a summary's `gatecheck` block holding a recorder) held to its own plan: its shard
/// fields agree with each other, it ran its segment's share of the plan, its run facts are
/// what its plan and recorder allow (`follows_plan`), and its `vus` gauge (`metrics.vus`, when
/// written) is the one its plan gives (`vus_gauge`). `Err` names the field and what was
/// expected.
pub fn held_to_plan(native: &Value, vus: Option<&Value>) -> Result<ShardIdentity, String> {
    let shard = &native["shard"];
    let field = |key: &str| shard[key].as_str().map(str::to_string);
    let number = |key: &str| shard[key].as_u64().and_then(|n| u32::try_from(n).ok());
    let (Some(run_id), Some(index), Some(count), Some(scenario_sha256)) =
        (field("run_id"), number("index"), number("count"), field("scenario_sha256"))
    else {
        return Err("has no shard identity (gatecheck.shard: run_id, index < count, scenario_sha256): a native run records which segment of which run it is".into());
    };
    if index >= count {
        return Err(format!("has no shard identity (gatecheck.shard: run_id, index < count, scenario_sha256): gatecheck.shard.index is {index} of gatecheck.shard.count {count}"));
    }
    // The plan with what each flow sends (`flows`, round16-figures/01): without it a segment's
    // requests and sleeps could not be compared, nor its run facts held to anything.
    let plan = shard["plan"].as_object().filter(|plan| plan.get("flows").is_some_and(Value::is_object)).cloned().ok_or(
        "gatecheck.shard.plan (with its flows): missing: a native run records the whole run's plan, which its run facts are held to (written by an older gatecheck? run it again)",
    )?;
    let segment = Segment::new(index, count)?;
    // The segment is written three times (`segment`, `index`, `count`): one reading. A merge is
    // the whole run ("all", with the files it merged), a runner's summary its own `I/N`.
    let merged = native.get("merged_from").is_some();
    let expected = if merged { "all".to_string() } else { segment.to_string() };
    if merged && !segment.is_whole() {
        return Err(format!(
            "gatecheck.shard.index/count are {index}/{count}, but a merged run (gatecheck.merged_from) is the whole run, 0/1"
        ));
    }
    if shard["segment"] != json!(expected) {
        return Err(format!(
            "gatecheck.shard.segment is {}, but gatecheck.shard.index/count say {expected:?}: the shard contradicts itself",
            shard["segment"]
        ));
    }
    follows_plan(native, &plan, segment)?;
    gauge_follows_plan(native, vus, &plan, segment)?;
    Ok(ShardIdentity {
        run_id,
        segment,
        scenario_sha256,
        plan,
        start_at: shard.get("start_at").cloned().unwrap_or(Value::Null),
    })
}

/// A segment's executor: its share of the whole's VUs (`LoadPlan::into_segment`: the open model
/// keeps at least one worker in flight, to start its iterations at all), the rest the whole's.
fn segment_executor(whole: &Value, segment: Segment) -> Value {
    let mut executor = whole.clone();
    for (key, at_least) in [("vus_per_flow", 0), ("max_vus_per_flow", 1)] {
        if let Some(vus) = executor.get(key).and_then(Value::as_u64) {
            executor[key] = json!(segment.share(vus).max(at_least));
        }
    }
    executor
}

/// The `vus` gauge (value, min and max alike) of a run of `executor` (as `gatecheck.executor`
/// records it) over `flows` running flows: every worker it starts — each flow's VUs, or the
/// open model's in-flight limit — from start to end. The writer (`load::run`) writes it and
/// every reader holds the summary to it (finding round39-figures/03: `vus 50` on a 2-VU run
/// passed a `vus >= 50` gate). `None` when the executor records no VU count.
pub fn vus_gauge(executor: &Value, flows: usize) -> Option<u64> {
    let per_flow = match executor["type"].as_str()? {
        "constant-vus" => executor["vus_per_flow"].as_u64()?,
        "constant-arrival-rate" => executor["max_vus_per_flow"].as_u64()?,
        _ => return None,
    };
    per_flow.checked_mul(u64::try_from(flows).ok()?)
}

/// The summary's `metrics.vus` held to its plan (`vus_gauge`): a runner's the gauge of its
/// segment's share, a merge's the sum of its segments' (`gatecheck.shard.merged_segments`, one
/// per merged file). An absent gauge gives no figure to judge; a present one is the plan's.
fn gauge_follows_plan(
    native: &Value,
    vus: Option<&Value>,
    plan: &Map<String, Value>,
    segment: Segment,
) -> Result<(), String> {
    let segments: Vec<Segment> = match native.get("merged_from") {
        None => vec![segment],
        Some(merged_from) => {
            let files = merged_from.as_array().map_or(0, Vec::len);
            let merged = native["shard"]["merged_segments"].as_u64().and_then(|n| u32::try_from(n).ok());
            match merged {
                Some(count) if count >= 1 && files == count as usize => {
                    (0..count).map(|index| Segment::new(index, count)).collect::<Result<_, _>>()?
                }
                _ => {
                    return Err(format!(
                        "gatecheck.shard.merged_segments is {}, but gatecheck.merged_from names {files} file(s): a merge records one segment per file it merged",
                        native["shard"]["merged_segments"]
                    ))
                }
            }
        }
    };
    let whole = plan.get("executor").cloned().unwrap_or(Value::Null);
    let flows = plan.get("flows").and_then(Value::as_object).map_or(0, Map::len);
    let gauges: Option<Vec<u64>> =
        segments.iter().map(|segment| vus_gauge(&segment_executor(&whole, *segment), flows)).collect();
    let Some(planned) = gauges.and_then(|gauges| gauges.into_iter().try_fold(0u64, u64::checked_add)) else {
        return Err(format!(
            "gatecheck.shard.plan.executor is {whole}: expected constant-vus with vus_per_flow or constant-arrival-rate with max_vus_per_flow"
        ));
    };
    let Some(vus) = vus else { return Ok(()) };
    // The export shape holds the figures at the metric, handleSummary's under `values`.
    let (figures, at) = match vus.get("values") {
        Some(values) => (values, "metrics[\"vus\"][\"values\"]"),
        None => (vus, "metrics[\"vus\"]"),
    };
    let Some(figures) = figures.as_object() else {
        return Err(format!("{at} is {figures}: expected the gauge's value, min and max"));
    };
    for (field, written) in figures {
        if !matches!(field.as_str(), "value" | "min" | "max") {
            continue;
        }
        if written.as_f64() != Some(planned as f64) {
            return Err(format!(
                "{at}[{field:?}] is {written}, but gatecheck.shard.plan runs {planned} VUs in {}: a run's VU gauge is what its plan starts",
                if native.get("merged_from").is_some() { "its merged segments".to_string() } else { format!("segment {segment}") }
            ));
        }
    }
    Ok(())
}

/// What a segment ran besides its plan, each with the plan fact it must follow: a segment's
/// executor and request cap are its share of the whole's (`LoadPlan::into_segment`), the rest
/// the whole's own; and the facts of its run its plan and recorder allow. `Err` names the field
/// and both values.
pub fn follows_plan(native: &Value, plan: &Map<String, Value>, segment: Segment) -> Result<(), String> {
    let whole = |key: &str| plan.get(key).cloned().unwrap_or(Value::Null);
    let executor = segment_executor(&whole("executor"), segment);
    let cap = whole("request_cap").as_u64().map_or(Value::Null, |cap| json!(segment.share(cap)));
    let ran = [
        ("executor", executor),
        ("request_cap", cap),
        ("target", whole("target")),
        ("scenario", whole("scenario")),
        ("skipped_flows", whole("skipped_flows")),
    ];
    // The flows and endpoints it recorded are the ones its plan sends.
    let mut planned_flows: Vec<(String, Vec<(Value, Value)>)> = whole("flows")
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, flow)| {
            let requests = flow["requests"].as_array().into_iter().flatten();
            (name.clone(), requests.map(|r| (r["name"].clone(), r["method"].clone())).collect())
        })
        .collect();
    let mut recorded_flows: Vec<(String, Vec<(Value, Value)>)> = native["recorder"]["flows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|flow| {
            let endpoints = flow["endpoints"].as_array().into_iter().flatten();
            (
                flow["name"].as_str().unwrap_or_default().to_string(),
                // Read as `load::merge` reads it: GET when not written.
                endpoints
                    .map(|e| (e["name"].clone(), e.get("method").cloned().unwrap_or_else(|| json!("GET"))))
                    .collect(),
            )
        })
        .collect();
    recorded_flows.sort_by(|a, b| a.0.cmp(&b.0));
    planned_flows.sort_by(|a, b| a.0.cmp(&b.0));
    if recorded_flows != planned_flows {
        let shown = |flows: &[(String, Vec<(Value, Value)>)]| {
            let flows = flows.iter().map(|(name, requests)| {
                let requests: Vec<String> = requests
                    .iter()
                    .map(|(n, m)| format!("{} {}", m.as_str().unwrap_or("?"), n.as_str().unwrap_or("?")))
                    .collect();
                format!("{name} ({})", requests.join(", "))
            });
            flows.collect::<Vec<_>>().join("; ")
        };
        return Err(format!(
            "gatecheck.recorder.flows are {}, but segment {segment} of gatecheck.shard.plan.flows sends {}: the segment contradicts its own plan",
            shown(&recorded_flows),
            shown(&planned_flows)
        ));
    }
    for (key, planned) in ran {
        let recorded = native.get(key).cloned().unwrap_or(Value::Null);
        if recorded != planned {
            return Err(format!(
                "gatecheck.{key} is {recorded}, but segment {segment} of gatecheck.shard.plan runs {planned}: the segment contradicts its own plan"
            ));
        }
    }
    let complete = partial_run(native).is_ok_and(|partial| partial.is_none());
    // A run's duration is measured up to its scheduled end at most (src/load/mod.rs), and a
    // complete closed-model run reaches it: its workers load until the end. (An open-model run
    // may end at its last due iteration, earlier.)
    let (Some(planned), Some(ran)) = (whole("duration_s").as_f64(), native["duration_s"].as_f64()) else {
        return Err("gatecheck.shard.plan.duration_s and gatecheck.duration_s: expected durations in seconds".into());
    };
    const MEASURED_S: f64 = 1e-3;
    let closed = whole("executor")["type"] == "constant-vus";
    if ran > planned + MEASURED_S || (complete && closed && ran < planned - MEASURED_S) {
        return Err(format!(
            "gatecheck.duration_s is {ran} s, but gatecheck.shard.plan.duration_s is {planned} s: a {} run lasts {}",
            if complete { "complete" } else { "partial" },
            if complete && closed { "its planned duration" } else { "no longer than its planned duration" }
        ));
    }
    arrivals_follow_plan(native, plan, segment)?;
    // No worker sends past the cap, and a run that used all of it is partial: the cap, not its
    // plan, may have ended it (`load::run` marks it so), in either model.
    let requests = recorded_requests(native);
    let Some(cap) = native["request_cap"].as_u64() else {
        return Err("gatecheck.request_cap: expected the run's request cap (a native run always has one)".into());
    };
    if requests > cap || (complete && requests >= cap) {
        return Err(format!(
            "gatecheck.recorder counts {requests} requests, and gatecheck.request_cap is {cap}: a run sends no more than its cap, and a {} run {}",
            if complete { "complete" } else { "partial" },
            if complete { "stays below it (one that reached its cap is partial)" } else { "stops at it" }
        ));
    }
    Ok(())
}

/// Each flow's started and dropped iterations (`gatecheck.recorder.flows[]`) held to the
/// arrivals its segment's plan schedules (`Segment::arrivals_due`, the count `load::run` takes
/// its tickets from and records): every arrival is started or dropped, in a complete run and
/// in one cut short alike (`load::run` records the arrivals a stop left unstarted as dropped).
/// Exactly, no tolerance: the plan's seconds and rate are read back to the bit (serde_json's
/// float_roundtrip) and made the same nanosecond durations the scheduler counted from. The closed model schedules none, so drops none (finding
/// round39-figures/02: a 3 s run at 5/s edited to claim 500/s passed as complete).
fn arrivals_follow_plan(native: &Value, plan: &Map<String, Value>, segment: Segment) -> Result<(), String> {
    let executor = &plan["executor"];
    let rate = match executor["type"].as_str() {
        Some("constant-arrival-rate") => executor["iterations_per_second_per_flow"]
            .as_f64()
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .ok_or_else(|| format!("gatecheck.shard.plan.executor.iterations_per_second_per_flow is {}: expected iterations per second above 0", executor["iterations_per_second_per_flow"]))?,
        _ => 0.0,
    };
    for (at, flow) in native["recorder"]["flows"].as_array().into_iter().flatten().enumerate() {
        let name = flow["name"].as_str().unwrap_or_default();
        let count =
            |key: &str| whole_count(&flow[key]).map_err(|why| format!("gatecheck.recorder.flows[{at}].{key}: {why}"));
        let (started, dropped) = (count("iterations")?, count("dropped_iterations")?);
        let ran = started.saturating_add(dropped);
        let due = if rate > 0.0 {
            let seconds = |value: &Value, field: String| {
                value
                    .as_f64()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or_else(|| format!("{field} is {value}: expected seconds"))
            };
            let start_after = seconds(
                &plan["flows"][name]["start_after_s"],
                format!("gatecheck.shard.plan.flows[{name:?}].start_after_s"),
            )?;
            let duration = seconds(&plan["duration_s"], "gatecheck.shard.plan.duration_s".into())?;
            segment.arrivals_due(duration, start_after, rate)
        } else if dropped > 0 {
            return Err(format!(
                "gatecheck.recorder.flows[{at}].dropped_iterations is {dropped} for flow {name}, but gatecheck.shard.plan.executor is {}: the closed model schedules no arrival to drop",
                executor["type"]
            ));
        } else {
            continue;
        };
        if ran != due {
            return Err(format!(
                "gatecheck.recorder.flows[{at}] (flow {name}) started {started} and dropped {dropped} iterations ({ran}), but segment {segment} of gatecheck.shard.plan schedules {due} arrivals ({rate}/s from the flow's start to the plan's end): every arrival of the plan is started or dropped, no other"
            ));
        }
    }
    Ok(())
}

/// The requests a native summary's recorder counts, over every endpoint (each count is checked
/// where the recorder is read; here one that is not a count adds nothing).
fn recorded_requests(native: &Value) -> u64 {
    let flows = native["recorder"]["flows"].as_array().into_iter().flatten();
    let endpoints = flows.flat_map(|flow| flow["endpoints"].as_array().into_iter().flatten());
    endpoints.fold(0u64, |sum, endpoint| sum.saturating_add(whole_count(&endpoint["requests"]).unwrap_or(0)))
}
