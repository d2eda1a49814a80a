//! `gatecheck merge OUT IN...`: one summary from several runs (CI shards, several load
//! generators) whose percentiles are taken over the union of their samples — never an average
//! of percentiles. Native runs merge their serialized HDR histograms (lossless at the recorded
//! precision); k6 raw results merge their samples (exact, k6's percentile method).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::load::plan::{Executor, FlowPlan, LoadPlan, RequestPlan};
use crate::load::recorder::{EndpointStats, ErrorKind, FlowStats, Recorder};
use crate::load::summary::{self, RunFacts};
use crate::metrics::{Aggregate, MetricKey};
use crate::policy::Policy;
use crate::sources::prometheus::Secret;

/// `gatecheck merge OUT IN...` as a command: the policy says which raw metrics to keep.
pub fn merge_command(
    args: crate::cli::MergeArgs,
    context: &super::Context<'_>,
    out: &mut dyn std::io::Write,
) -> Result<super::Outcome, Error> {
    let flags = crate::settings::Settings { policy: args.policy, ..Default::default() };
    let plan = crate::settings::resolve(context.config, flags, context.env)?;
    let policy = super::evidence::load_policy(&plan)?;
    let line = merge(&args.out, &args.inputs, &policy)?;
    super::write_out(writeln!(out, "{line}"))?;
    Ok(super::Outcome::Pass)
}

/// Merges `inputs` into the summary written at `out`; returns a one-line description.
pub fn merge(out: &Path, inputs: &[PathBuf], policy: &Policy) -> Result<String, Error> {
    if inputs.len() < 2 {
        return Err(Error::Settings("merge needs at least two inputs".into()));
    }
    let raw = inputs.iter().filter(|p| crate::sources::k6_ndjson::is_raw_path(p)).count();
    let document = if raw == inputs.len() {
        merge_raw(inputs, policy)?
    } else if raw == 0 {
        merge_native(inputs)?
    } else {
        return Err(Error::Settings("merge takes either native run summaries or k6 raw results, not both".into()));
    };
    let mut text =
        serde_json::to_vec_pretty(&document).map_err(|e| Error::Settings(format!("cannot encode the summary: {e}")))?;
    text.push(b'\n');
    crate::report::write_atomically(out, &text)?;
    Ok(format!("merged {} inputs into {}", inputs.len(), out.display()))
}

fn merged_from(inputs: &[PathBuf]) -> Vec<String> {
    inputs.iter().map(|p| p.display().to_string()).collect()
}

fn merge_raw(inputs: &[PathBuf], policy: &Policy) -> Result<Value, Error> {
    let mut wanted = policy.metric_keys();
    for name in ["http_req_duration", "http_req_failed", "checks"] {
        wanted.push(MetricKey::parse(name).expect("static selector"));
    }
    let paths: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    let (set, _) = crate::sources::k6_ndjson::read(&paths, &wanted, false)?;
    let mut metrics = Map::new();
    for (key, metric) in &set.metrics {
        let value = match &metric.aggregate {
            Aggregate::Trend(stats) => json!(stats.0),
            Aggregate::Rate { matches, total } => {
                json!({"passes": matches, "fails": total - matches, "value": *matches as f64 / (*total).max(1) as f64})
            }
            Aggregate::Counter { count, .. } => json!({"count": count}),
            Aggregate::Gauge { value, min, max } => json!({"value": value, "min": min, "max": max}),
        };
        metrics.insert(key.to_string(), value);
    }
    Ok(json!({
        "metrics": metrics,
        "gatecheck": {
            "runner": concat!("gatecheck ", env!("CARGO_PKG_VERSION"), " merge"),
            "merged_from": merged_from(inputs),
            "partial": false,
            "skipped_flows": [],
            "percentile_method": "k6's TrendSink method (linear interpolation between closest ranks) over the union of the raw samples",
        }
    }))
}

fn bad(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Evidence { path: path.display().to_string(), message: message.to_string() }
}

/// A native summary's recorder, with the plan skeleton it was recorded under.
fn read_native(path: &Path) -> Result<(LoadPlan, Recorder, RunFacts), Error> {
    use base64::Engine;
    let text = crate::input::read_to_string(path, "summary")?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| bad(path, format!("not valid JSON ({e})")))?;
    let native = &doc["gatecheck"];
    let recorded = &native["recorder"];
    let flows_json = recorded["flows"]
        .as_array()
        .ok_or_else(|| bad(path, "not a gatecheck native run summary with histograms (gatecheck.recorder.flows)"))?;
    let mut flows = Vec::new();
    let mut stats = Vec::new();
    for flow in flows_json {
        let name =
            flow["name"].as_str().ok_or_else(|| bad(path, "gatecheck.recorder.flows[].name: expected a string"))?;
        let mut requests = Vec::new();
        let mut endpoints = Vec::new();
        for endpoint in flow["endpoints"].as_array().into_iter().flatten() {
            let field = |key: &str| {
                endpoint[key]
                    .as_u64()
                    .filter(|count| *count <= MAX_COUNT)
                    .ok_or_else(|| bad(path, format!("flow {name}: endpoint {key}: expected a count up to 2^48")))
            };
            let encoded = endpoint["histogram_us"]
                .as_str()
                .ok_or_else(|| bad(path, format!("flow {name}: histogram_us missing")))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| bad(path, format!("flow {name}: histogram_us is not base64 ({e})")))?;
            let latency = crate::metrics::hdr::decode(&bytes)
                .map_err(|why| bad(path, format!("flow {name}: histogram_us does not decode ({why})")))?;
            let statuses: BTreeMap<u16, u64> = endpoint["statuses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_u64()?)))
                .collect();
            let request_name = endpoint["name"].as_str().unwrap_or_default().to_string();
            // The merged summary names metrics `http_req_duration{flow:F,name:N}`: names that
            // cannot be read back from such a selector (a ',' say) made a summary verify
            // refuses (found by the merge fuzz target).
            let selector = format!("http_req_duration{{flow:{name},name:{request_name}}}");
            let readable = MetricKey::parse(&selector)
                .is_ok_and(|key| key.tag("flow") == Some(name) && key.tag("name") == Some(request_name.as_str()));
            if !readable {
                return Err(bad(
                    path,
                    format!("flow {name:?}, endpoint {request_name:?}: names unfit for a k6 selector"),
                ));
            }
            requests.push(RequestPlan {
                name: request_name,
                method: http::Method::from_bytes(endpoint["method"].as_str().unwrap_or("GET").as_bytes())
                    .unwrap_or(http::Method::GET),
                path: String::new(),
                uri: http::Uri::default(),
                body: None,
                check: endpoint["check"].as_str().unwrap_or_default().to_string(),
                expect_status: 200,
                expect_json: None,
            });
            let mut wide = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds");
            wide.add(&latency).map_err(|e| bad(path, format!("flow {name}: histogram out of range ({e:?})")))?;
            let (requests, failed) = (field("requests")?, field("failed")?);
            // More failures than requests made the summary's `fails` underflow (found with the
            // merge fuzz target's harness).
            if failed > requests {
                return Err(bad(path, format!("flow {name}: endpoint failed {failed} exceeds requests {requests}")));
            }
            endpoints.push(EndpointStats {
                latency: wide,
                requests,
                failed,
                checks_passed: field("checks_passed")?,
                checks_failed: field("checks_failed")?,
                statuses,
            });
        }
        flows.push(FlowPlan {
            name: name.to_string(),
            description: String::new(),
            start_after: Duration::ZERO,
            sleep: Duration::ZERO,
            requests,
        });
        stats.push(FlowStats {
            endpoints,
            iterations: flow["iterations"].as_u64().unwrap_or(0),
            late_iterations: flow["late_iterations"].as_u64().unwrap_or(0),
            dropped_iterations: flow["dropped_iterations"].as_u64().unwrap_or(0),
        });
    }
    let mut errors = BTreeMap::new();
    for (kind, count) in recorded["errors"].as_object().into_iter().flatten() {
        let kind = match kind.as_str() {
            "connect" => ErrorKind::Connect,
            "timeout" => ErrorKind::Timeout,
            "reset" => ErrorKind::Reset,
            "dropped" => ErrorKind::Dropped,
            "redirect" => ErrorKind::Redirect,
            _ => ErrorKind::Protocol,
        };
        *errors.entry(kind).or_default() += count.as_u64().unwrap_or(0);
    }
    let recorder = Recorder {
        flows: stats,
        errors,
        bytes_received: recorded["bytes_received"].as_u64().unwrap_or(0),
        clamped: recorded["clamped"].as_u64().unwrap_or(0),
    };
    let target_text = native["target"].as_str().unwrap_or("http://merged.invalid");
    let target =
        crate::load::plan::parse_base_url(target_text).map_err(|why| bad(path, format!("gatecheck.target: {why}")))?;
    let executor = match native["executor"]["type"].as_str() {
        Some("constant-arrival-rate") => Executor::ConstantArrivalRate {
            rate: native["executor"]["iterations_per_second_per_flow"].as_f64().unwrap_or(1.0),
            max_vus: native["executor"]["max_vus_per_flow"].as_u64().unwrap_or(1) as u32,
        },
        _ => Executor::ConstantVus { vus: native["executor"]["vus_per_flow"].as_u64().unwrap_or(1) as u32 },
    };
    let skipped = native["skipped_flows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["flow"].as_str()?.to_string(), e["because"].as_str().unwrap_or_default().to_string())))
        .collect();
    let elapsed = native["duration_s"].as_f64().unwrap_or(0.0);
    let plan = LoadPlan {
        scenario: native["scenario"].as_str().unwrap_or("merged").to_string(),
        source: path.display().to_string(),
        target,
        token: Secret::new(""),
        executor,
        duration: Duration::try_from_secs_f64(elapsed.max(0.0))
            .map_err(|_| bad(path, format!("gatecheck.duration_s: {elapsed:?} is not a duration in seconds")))?,
        request_timeout: Duration::from_secs(10),
        max_requests: native["request_cap"].as_u64().unwrap_or(0),
        flows,
        skipped,
        segment: crate::load::segment::Segment::WHOLE,
        start_at: None,
        run_id: None,
        remote_write: None,
    };
    let facts = RunFacts {
        elapsed_secs: elapsed,
        partial: native["partial_reason"].as_str().map(str::to_string),
        started_at: native["started_at"].as_str().unwrap_or_default().to_string(),
        ended_at: native["ended_at"].as_str().unwrap_or_default().to_string(),
    };
    Ok((plan, recorder, facts))
}

/// Counts above this are not from a run (2^48 requests); bounding them keeps sums exact.
const MAX_COUNT: u64 = 1 << 48;
/// Who a native summary is among the runners of one run (`gatecheck.shard`).
#[derive(Debug, Clone, PartialEq)]
struct Shard {
    run_id: String,
    index: u32,
    count: u32,
    scenario: String,
    /// The VUs this runner ran (its `vus` metric).
    vus: u64,
}

fn read_shard(path: &Path) -> Result<Shard, Error> {
    let text = crate::input::read_to_string(path, "summary")?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| bad(path, format!("not valid JSON ({e})")))?;
    let shard = &doc["gatecheck"]["shard"];
    let field = |key: &str| shard[key].as_str().map(str::to_string);
    let number = |key: &str| shard[key].as_u64().and_then(|n| u32::try_from(n).ok());
    match (field("run_id"), number("index"), number("count"), field("scenario_sha256")) {
        (Some(run_id), Some(index), Some(count), Some(scenario)) if index < count => Ok(Shard {
            run_id,
            index,
            count,
            scenario,
            vus: doc["metrics"]["vus"]["value"].as_u64().unwrap_or(0),
        }),
        _ => Err(bad(
            path,
            "has no shard identity (gatecheck.shard: run_id, index < count, scenario_sha256): only summaries of one segmented run merge",
        )),
    }
}

/// The inputs must be every segment of one run, each once: a duplicate would double every
/// count, a missing one would pass for the whole run.
fn check_shards(inputs: &[PathBuf]) -> Result<u64, Error> {
    let shards: Vec<Shard> = inputs.iter().map(|p| read_shard(p)).collect::<Result<_, _>>()?;
    let (first, first_path) = (&shards[0], &inputs[0]);
    for (shard, path) in shards.iter().zip(inputs).skip(1) {
        if shard.run_id != first.run_id || shard.count != first.count {
            return Err(bad(
                path,
                format!(
                    "is segment {}/{} of run {}, but {} is segment {}/{} of run {}: only the segments of one run merge (give every runner the same --start-at or --run-id)",
                    shard.index, shard.count, shard.run_id, first_path.display(), first.index, first.count, first.run_id
                ),
            ));
        }
        if shard.scenario != first.scenario {
            return Err(bad(path, format!("ran another scenario than {} (its digest differs)", first_path.display())));
        }
    }
    for (i, shard) in shards.iter().enumerate() {
        if let Some(j) = shards[..i].iter().position(|s| s.index == shard.index) {
            return Err(bad(
                &inputs[i],
                format!(
                    "is segment {}/{} of run {} again ({} is the same segment): a duplicate would count it twice",
                    shard.index,
                    shard.count,
                    shard.run_id,
                    inputs[j].display()
                ),
            ));
        }
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|i| !shards.iter().any(|s| s.index == *i))
        .map(|i| format!("{i}/{}", first.count))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Settings(format!(
            "merge: run {} has {} segments, but segment(s) {} are missing among {}",
            first.run_id,
            first.count,
            missing.join(", "),
            merged_from(inputs).join(", ")
        )));
    }
    Ok(shards.iter().map(|s| s.vus).sum())
}

fn merge_native(inputs: &[PathBuf]) -> Result<Value, Error> {
    // Every input is read (and its histograms checked) before the shard identities, so a
    // crafted file is refused for what it holds whatever it claims to be.
    let (plan, mut recorder, mut facts) = read_native(&inputs[0])?;
    for path in &inputs[1..] {
        read_native(path)?;
    }
    let total_vus = check_shards(inputs)?;
    let shape = |plan: &LoadPlan| -> Vec<(String, Vec<String>)> {
        plan.flows.iter().map(|f| (f.name.clone(), f.requests.iter().map(|r| r.name.clone()).collect())).collect()
    };
    for path in &inputs[1..] {
        let (other_plan, other, other_facts) = read_native(path)?;
        if shape(&other_plan) != shape(&plan) {
            return Err(bad(
                path,
                format!(
                    "its flows and endpoints differ from {}'s: only runs of one scenario merge",
                    inputs[0].display()
                ),
            ));
        }
        recorder.merge(&other);
        // Shards run side by side: the merged run lasts as long as the longest shard.
        facts.elapsed_secs = facts.elapsed_secs.max(other_facts.elapsed_secs);
        facts.started_at = facts.started_at.min(other_facts.started_at);
        facts.ended_at = facts.ended_at.max(other_facts.ended_at);
        facts.partial = facts.partial.or(other_facts.partial);
    }
    // The whole run's VUs: the sum of what each segment ran, not one shard's.
    let mut document = summary::export(&plan, &recorder, &facts, total_vus);
    let first = read_shard(&inputs[0])?;
    document["gatecheck"]["shard"] = json!({
        "run_id": first.run_id,
        "segment": "all",
        "index": 0,
        "count": 1,
        "merged_segments": first.count,
        "scenario_sha256": first.scenario,
    });
    document["gatecheck"]["merged_from"] = json!(merged_from(inputs));
    document["gatecheck"]["runner"] = json!(concat!("gatecheck ", env!("CARGO_PKG_VERSION"), " merge"));
    Ok(document)
}
