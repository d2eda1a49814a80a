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
    use hdrhistogram::serialization::Deserializer;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.display().to_string(),
        what: "summary",
        source,
    })?;
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
                    .ok_or_else(|| bad(path, format!("flow {name}: endpoint {key}: expected a count")))
            };
            let encoded = endpoint["histogram_us"]
                .as_str()
                .ok_or_else(|| bad(path, format!("flow {name}: histogram_us missing")))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| bad(path, format!("flow {name}: histogram_us is not base64 ({e})")))?;
            let bytes = checked_hdr(&bytes).map_err(|why| bad(path, format!("flow {name}: histogram_us {why}")))?;
            let latency: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| bad(path, format!("flow {name}: histogram_us does not decode ({e:?})")))?;
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
        // from_secs_f64 panics on a duration_s beyond Duration's range (e.g. 1e300).
        duration: Duration::try_from_secs_f64(elapsed.max(0.0))
            .map_err(|e| bad(path, format!("gatecheck.duration_s {elapsed}: {e}")))?,
        request_timeout: Duration::from_secs(10),
        max_requests: native["request_cap"].as_u64().unwrap_or(0),
        flows,
        skipped,
    };
    let facts = RunFacts {
        elapsed_secs: elapsed,
        partial: native["partial_reason"].as_str().map(str::to_string),
        started_at: native["started_at"].as_str().unwrap_or_default().to_string(),
    };
    Ok((plan, recorder, facts))
}

const HDR_V2_COOKIE: u32 = 0x1c84_9313;
const HDR_V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;
/// Far above a real recorder's histogram (about 24k counts of at most 9 bytes each).
const HDR_MAX_BYTES: u64 = 8 << 20;
/// A trillion requests in one shard: real runs stay far below, and sums of up to 2^23 shards
/// stay below i64::MAX, the most hdrhistogram can count and serialize.
const HDR_MAX_TOTAL: u64 = 1 << 40;

/// The V2 (uncompressed) form of a serialized histogram, checked before hdrhistogram decodes
/// it: hostile bytes made its decoder allocate the length a header claims (up to 4 GiB) and
/// negate a zig-zag i64::MIN (a panic with overflow checks), and counts near u64::MAX overflowed
/// its sums and its serializer once merged. Fuzzing found the last two.
fn checked_hdr(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let word = |at: usize, of: &[u8]| -> Option<u32> { Some(u32::from_be_bytes(of.get(at..at + 4)?.try_into().ok()?)) };
    let v2 = match word(0, bytes) {
        Some(HDR_V2_COOKIE) => bytes.to_vec(),
        Some(HDR_V2_DEFLATE_COOKIE) => {
            let length = word(4, bytes).ok_or("is cut short")? as usize;
            let deflated = bytes.get(8..).ok_or("is cut short")?;
            let mut inflated = Vec::new();
            flate2::read::ZlibDecoder::new(&deflated[..length.min(deflated.len())])
                .take(HDR_MAX_BYTES + 1)
                .read_to_end(&mut inflated)
                .map_err(|e| format!("does not inflate ({e})"))?;
            if inflated.len() as u64 > HDR_MAX_BYTES {
                return Err(format!("inflates to more than {HDR_MAX_BYTES} bytes"));
            }
            if word(0, &inflated) != Some(HDR_V2_COOKIE) {
                return Err("is not an HDR V2 histogram inside its deflate wrapper".into());
            }
            inflated
        }
        _ => return Err("is not an HDR V2 histogram (unknown cookie)".into()),
    };
    let payload_length = word(4, &v2).ok_or("is cut short")? as usize;
    let payload = v2.get(40..40 + payload_length).ok_or("claims a payload longer than it holds")?;
    // LEB128-64b9B varints, zig-zag encoded: the ninth byte holds 8 bits.
    let mut rest = payload;
    let mut total = 0u64;
    while !rest.is_empty() {
        let (mut value, mut used) = (0u64, 0);
        for (index, byte) in rest.iter().take(9).enumerate() {
            used = index + 1;
            if index == 8 {
                value |= u64::from(*byte) << 56;
                break;
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                break;
            }
        }
        // Zig-zag: even values are counts (value / 2), odd ones runs of empty buckets.
        total = total.saturating_add(if value % 2 == 0 { value / 2 } else { 0 });
        if value == u64::MAX || total > HDR_MAX_TOTAL {
            return Err("holds a count out of range".into());
        }
        rest = &rest[used..];
    }
    Ok(v2)
}

fn merge_native(inputs: &[PathBuf]) -> Result<Value, Error> {
    let (plan, mut recorder, mut facts) = read_native(&inputs[0])?;
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
        facts.partial = facts.partial.or(other_facts.partial);
    }
    let vus = match plan.executor {
        Executor::ConstantVus { vus } => u64::from(vus),
        Executor::ConstantArrivalRate { max_vus, .. } => u64::from(max_vus),
    } * plan.flows.len() as u64
        * inputs.len() as u64;
    let mut document = summary::export(&plan, &recorder, &facts, vus);
    document["gatecheck"]["merged_from"] = json!(merged_from(inputs));
    document["gatecheck"]["runner"] = json!(concat!("gatecheck ", env!("CARGO_PKG_VERSION"), " merge"));
    Ok(document)
}
