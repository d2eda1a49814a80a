//! `gatecheck compare A B`: per flow, p50/p95/p99, errors, checks and throughput of two runs
//! side by side, from summaries or raw results.

use std::io::Write;

use crate::cli::CompareArgs;
use crate::error::Error;
use crate::metrics::{MetricKey, MetricSet};
use crate::report;
use crate::settings::{self, Settings};
use crate::sources;

use super::evidence::load_policy;
use super::{write_out, Context, Outcome};

pub fn compare(args: CompareArgs, context: &Context<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    // Raw results keep only what is asked for: the flows the policy names.
    let plan = settings::resolve(context.config, Settings { policy: args.policy, ..Settings::default() }, context.env)?;
    let policy = load_policy(&plan)?;
    let wanted = compared_keys(&policy);
    let read = |path: &std::path::Path| -> Result<MetricSet, Error> {
        if sources::k6_ndjson::is_raw_path(path) {
            Ok(sources::k6_ndjson::read(&[path], &wanted, false)?.0)
        } else {
            sources::k6_summary::read(path)
        }
    };
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    write_out(out.write_all(report::compare::render(&a, &b).as_bytes()))?;
    Ok(Outcome::Pass)
}

/// Latency, errors and checks of every flow the policy's gates tag.
fn compared_keys(policy: &crate::policy::Policy) -> Vec<MetricKey> {
    let mut flows: Vec<String> = policy.flows.iter().map(|f| f.name.clone()).collect();
    for gate in &policy.gates {
        if let Some(flow) = &gate.flow {
            if !flows.contains(flow) {
                flows.push(flow.clone());
            }
        }
    }
    flows
        .iter()
        .flat_map(|flow| ["http_req_duration", "http_req_failed", "checks"].map(|m| format!("{m}{{flow:{flow}}}")))
        .filter_map(|selector| MetricKey::parse(&selector).ok())
        .collect()
}
