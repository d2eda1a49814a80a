//! The building blocks every judging command shares: the policy as the settings name it, the
//! evidence gathered from every source it needs, the verdict, the reports and history.

use crate::error::Error;
use crate::policy::evaluate::{Evidence, FlowState};
use crate::policy::verdict::{InputFile, Verdict};
use crate::policy::{self, Policy};
use crate::report;
use crate::settings::{Plan, PolicySource};
use crate::sources;

use super::write_out;

pub fn load_policy(plan: &Plan) -> Result<Policy, Error> {
    match &plan.policy {
        PolicySource::File(path) => policy::load_file_with_vars(path, &plan.vars),
        PolicySource::BuiltinRelease => {
            policy::parse_with_vars(policy::BUILTIN_RELEASE_NAME, "release", policy::BUILTIN_RELEASE, &plan.vars)
        }
        PolicySource::BuiltinSaturation => policy::parse_with_vars(
            policy::BUILTIN_SATURATION_NAME,
            "saturation",
            policy::BUILTIN_SATURATION,
            &plan.vars,
        ),
    }
}

/// The policy's digest: its file, or the built-in text.
fn policy_digest(plan: &Plan) -> Result<InputFile, Error> {
    Ok(match &plan.policy {
        PolicySource::File(path) => sources::digest::file("policy", path)?,
        PolicySource::BuiltinRelease => {
            sources::digest::bytes("policy", policy::BUILTIN_RELEASE_NAME, policy::BUILTIN_RELEASE.as_bytes())
        }
        PolicySource::BuiltinSaturation => {
            sources::digest::bytes("policy", policy::BUILTIN_SATURATION_NAME, policy::BUILTIN_SATURATION.as_bytes())
        }
    })
}

/// What the judgement is judged by besides the policy's text: the settings in effect (every
/// variable's value, the flows off, every option that changes a verdict); history compares them
/// for passes as it compares the policy's text.
fn judging<'a>(
    policy: &'a Policy,
    plan: &Plan,
    flows: &'a std::collections::BTreeMap<String, FlowState>,
) -> sources::digest::Judging<'a> {
    let switched = |name: &str| policy.flows.iter().any(|f| f.name == name && f.enabled);
    let flows_off: Vec<&str> = flows
        .iter()
        .filter(|(name, state)| !state.enabled && policy.optional_flow(name).is_some())
        .map(|(name, _)| name.as_str())
        .collect();
    let as_written = plan.vars.is_empty()
        && !flows_off.iter().any(|name| switched(name))
        && !(plan.raw_lenient
            || plan.accept_partial_response
            || plan.ignore_env_figures
            || plan.baseline_allow_blocked
            || plan.max_evidence_age.is_some());
    sources::digest::Judging {
        vars: Some(&policy.vars_in_effect),
        // Off as the evaluator reads it: only a flow the policy declares optional is switched
        // off, whatever switched it (finding round25-judge/01: an env switch was not digested).
        flows_off,
        raw_lenient: plan.raw_lenient,
        accept_partial_response: plan.accept_partial_response,
        no_env: plan.ignore_env_figures,
        baseline_allow_blocked: plan.baseline_allow_blocked,
        max_evidence_age: plan.max_evidence_age,
        as_written,
    }
}

/// Gathers the evidence and judges it.
pub async fn judge(policy: &Policy, plan: &Plan, env: &crate::env::Lookup<'_>) -> Result<Verdict, Error> {
    let evidence = gather(policy, plan, env).await?;
    policy::evaluate::evaluate(policy, &evidence)
}

/// Prints the verdict table, then writes every output of it (reports, step summary,
/// annotations, the history record when `outputs` has one) through their one home.
pub fn publish(
    verdict: &Verdict,
    plan: &Plan,
    outputs: report::outputs::Outputs,
    env: &crate::env::Lookup<'_>,
    out: &mut crate::escape::ScrubbedLines<'_>,
) -> Result<(), Error> {
    write_out(report::table::render(verdict, &super::table_view(plan, env, outputs.view)?, out))?;
    outputs.write(verdict, out)
}

/// The k6 (or native) summary, when the policy needs one or the user named it, with its
/// digest pushed to `inputs`. With raw results and no summary chosen, the default path is
/// optional.
fn read_summary(
    policy: &Policy,
    plan: &Plan,
    inputs: &mut Vec<InputFile>,
) -> Result<Option<crate::metrics::MetricSet>, Error> {
    let summary_optional = !plan.raw.is_empty() && plan.summary_is_default && !plan.summary.exists();
    let from_stdin = plan.summary.as_os_str() == "-";
    let summary = if (policy.needs_k6_summary() || plan.summary_explicit || from_stdin) && !summary_optional {
        let read = if from_stdin {
            // Standard input cannot be read twice: digest it as it is read.
            let mut hashing = sources::digest::Hashing::new(std::io::stdin().lock());
            let read = sources::k6_summary::parse_reader("standard input", &mut hashing);
            inputs.push(hashing.finish("summary", "standard input"));
            read
        } else {
            sources::k6_summary::read(&plan.summary)
        };
        Some(match read {
            Err(Error::Read { path, what, source }) if plan.summary_is_default => {
                return Err(Error::Settings(format!(
                    "{what} {path}: cannot read: {source} (give --summary FILE or set K6_SUMMARY_PATH or K6_SUMMARY_EXPORT)"
                )))
            }
            // The evidence line says which variable chose the file, so a summary picked up from
            // the environment (e.g. k6's own K6_SUMMARY_EXPORT) is never a surprise.
            Ok(mut set) => {
                if let Some(var) = plan.summary_env {
                    set.notes.push(format!("path from ${var}"));
                }
                set
            }
            other => other?,
        })
    } else {
        None
    };
    if summary.is_some() && !from_stdin {
        inputs.push(sources::digest::file("summary", &plan.summary)?);
    }
    Ok(summary)
}

/// The other side of the rule above (finding round29-judge/03): each selector of a gate's query
/// reads a stretch before its evaluation time (`query_window`: from `far` to `near` back), so a
/// run is judged only at an evaluation time where every one of them holds the run's end. One
/// later than the end plus the window — by an `--at` or by the default now, a later CI job
/// verifying an artifact — reads only what came after the load; one earlier than the end plus
/// an offset reads only what came before it (finding round30-judge/02: `[10m] offset 30m` 5
/// minutes after the run). Either is refused naming the run's end, the evaluation time, the
/// window and an `--at` that holds the run's end, as an `--at` before the end is; a query whose
/// selectors share no instant is refused too. Only dated evidence (`run_end`: raw results, a
/// native summary, a k6 summary that records when it was written) is held to it.
fn refuse_windows_after_the_run(
    policy: &Policy,
    env_is_set: &dyn Fn(&str) -> bool,
    scraped: bool,
    plan: &Plan,
    (end, path): (i64, &str),
) -> Result<(), Error> {
    use policy::query_window;
    if plan.at < end {
        return Ok(());
    }
    let human = |d: std::time::Duration| humantime::format_duration(d).to_string();
    for gate in &policy.gates {
        for threshold in &gate.thresholds {
            let policy::FigureSource::Query(query) = gate.source_for(threshold.stat, env_is_set, scraped) else {
                continue;
            };
            // The policy refuses an unanchored query when it loads; one here is refused alike.
            let window = query_window::window(query).map_err(|why| {
                Error::Settings(format!("gate {}: query {}: {why}", gate.id, crate::escape::line(query)))
            })?;
            let Some(window) = window else { continue };
            if query_window::holds_run_end(plan.at, end, window) {
                continue;
            }
            let Some((earliest, latest)) = query_window::evaluation_times_holding(end, window) else {
                return Err(Error::Settings(format!(
                    "gate {}'s query ({}) cannot judge the run that ended {} ({}): its selectors read stretches \
                     before the evaluation time that share no instant (one ends {} back, another begins {} back), \
                     so no --at holds the run's end in all of them; give every selector the same offset",
                    gate.id,
                    crate::escape::line(query),
                    sources::prometheus::rfc3339(end),
                    crate::escape::line(path),
                    human(window.near),
                    human(window.far),
                )));
            };
            let gap = std::time::Duration::from_secs(u64::try_from(plan.at - end).unwrap_or(u64::MAX));
            let reads = if window.near.is_zero() {
                format!("only the {} before it", human(window.far))
            } else {
                format!("only the stretch from {} to {} before it", human(window.far), human(window.near))
            };
            let give = if earliest == end {
                format!("{} (the run's end)", sources::prometheus::rfc3339(end))
            } else {
                format!("{} (the run's end plus {})", sources::prometheus::rfc3339(earliest), human(window.near))
            };
            return Err(Error::Settings(format!(
                "{} {} is {} after the run judged ended ({}, {}): gate {}'s query reads {reads} \
                 ({}), none of the run; give --at {give} to judge the run's own window (any from then to {})",
                if plan.at_is_fixed { "--at" } else { "the evaluation time (now)" },
                sources::prometheus::rfc3339(plan.at),
                human(gap),
                sources::prometheus::rfc3339(end),
                crate::escape::line(path),
                gate.id,
                crate::escape::line(query),
                sources::prometheus::rfc3339(latest),
            )));
        }
    }
    Ok(())
}

/// Reads every source the policy needs, validating as it goes. A native summary brings the
/// run-window histograms its run scraped from the target, so `smoke` then `verify` judges
/// exactly what `run` judges.
pub async fn gather(policy: &Policy, plan: &Plan, env: &crate::env::Lookup<'_>) -> Result<Evidence, Error> {
    let mut inputs = vec![policy_digest(plan)?];
    let summary = read_summary(policy, plan, &mut inputs)?;
    let mut evidence_times = Vec::new();
    // The end the evidence itself records (not a file's modification time, which a copy
    // resets): what an `--at` may not precede.
    let mut recorded_ends: Vec<crate::policy::evaluate::EvidenceTime> = Vec::new();
    if let Some(set) = &summary {
        let times = sources::age::of_summary(set, &plan.summary);
        let own = set.run.as_ref().is_some_and(|r| r.ended_at.is_some()) || set.generated_at.is_some();
        if own {
            recorded_ends.extend(times.iter().cloned());
        }
        evidence_times.extend(times);
    }
    let figures = if plan.ignore_env_figures { Default::default() } else { sources::env::read_figures(policy, env)? };
    let mut flows = sources::env::read_flows(policy, &plan.skip_flow, env)?;
    // A native run records the flows it skipped; the evaluator honours that only for flows the
    // policy declares optional (`Policy::optional_flow`).
    for (flow, because) in summary.iter().flat_map(|s| s.skipped_flows.iter()) {
        flows.insert(flow.clone(), FlowState { enabled: false, reason: format!("the run skipped it: {because}") });
    }
    // Second among the inputs, after the policy: the settings it was judged by, once the flows
    // in effect are known.
    inputs.insert(1, sources::digest::policy_vars(&judging(policy, plan, &flows)));
    let wanted = policy.metric_keys();
    // Every input the user names is read and checked, even when no gate reads from it: a
    // missing or corrupt --raw is exit 2, never silently ignored.
    let raw = if plan.raw.is_empty() {
        None
    } else {
        let paths: Vec<&std::path::Path> = plan.raw.iter().map(|p| p.as_path()).collect();
        let (set, stats) = sources::k6_ndjson::read(&paths, &wanted, plan.raw_lenient)?;
        sources::age::check_one_run(&stats.newest_point, &stats.oldest_point).map_err(Error::Settings)?;
        if let Some(summary) = &summary {
            sources::k6_ndjson::check_same_run(summary, &set, &stats)?;
        }
        for path in &paths {
            let digest = sources::digest::file("raw", path)?;
            // The same raw results twice would count every sample twice (finding judge4/01).
            if let Some(first) = inputs.iter().find(|i| i.role == "raw" && i.sha256 == digest.sha256) {
                return Err(Error::Settings(format!(
                    "--raw {} and --raw {} are the same raw results (sha256 {}): each sample would count twice",
                    crate::escape::line(&first.path),
                    crate::escape::line(&digest.path),
                    &digest.sha256[..12]
                )));
            }
            inputs.push(digest);
        }
        recorded_ends.extend(sources::age::of_raw(&stats));
        evidence_times.extend(sources::age::of_raw(&stats));
        Some(set)
    };
    let baseline = plan
        .baseline
        .as_deref()
        .map(|path| sources::baseline::read(path, &wanted, plan.baseline_allow_blocked))
        .transpose()?;
    if let Some(path) = &plan.baseline {
        inputs.push(sources::digest::file("baseline", path)?);
    }
    if let Some(baseline) = &baseline {
        let judged: Vec<&crate::metrics::MetricSet> = summary.iter().chain(&raw).collect();
        sources::baseline::refuse_the_run_judged_now(baseline, &judged, &wanted)?;
    }
    let waivers = match &plan.waivers {
        Some(path) => {
            let text = crate::input::read_to_string(path, "waivers")?;
            inputs.push(sources::digest::file("waivers", path)?);
            policy::waiver::parse(&path.display().to_string(), &text)?
        }
        None => Vec::new(),
    };
    let now = time::OffsetDateTime::now_utc();
    let mut evidence = Evidence {
        summary,
        raw,
        baseline,
        env: figures,
        flows,
        inputs,
        // To the nanosecond: two judgements of the same second are still ordered in history.
        judged_at: Some(crate::metrics::rfc3339_nanos(now)),
        waivers,
        today: Some(now.date()),
        accept_partial_responses: plan.accept_partial_response,
        max_evidence_age: plan.max_evidence_age,
        evidence_times,
        now_unix: Some(now.unix_timestamp()),
        ..Evidence::default()
    };
    if let Some((url, histograms)) = evidence.summary.as_ref().and_then(|s| s.scraped.clone()) {
        evidence.scraped_from = Some(url);
        evidence.scraped = histograms;
    }

    let env_is_set = |var: &str| evidence.env.contains_key(var);
    let needed = policy.queries_needed(&env_is_set, evidence.scraped_from.is_some());
    if !needed.is_empty() {
        // Queries read the windows that end at `--at`: an instant before the judged run ended
        // reads lag windows before the load (finding round8-judge/01: a quiet hour before the
        // run passed where the run's own window blocks).
        let run_end = recorded_ends.iter().filter_map(|t| t.ended_at.map(|end| (end, t.path.as_str()))).max();
        if plan.at_is_fixed {
            if let Some((end, path)) = run_end.filter(|(end, _)| plan.at < *end) {
                return Err(Error::Settings(format!(
                    "--at {} is before the run judged ended ({}, {}): its queries would read the windows before the \
                     load; give an --at at or after the run's end",
                    sources::prometheus::rfc3339(plan.at),
                    sources::prometheus::rfc3339(end),
                    crate::escape::line(path)
                )));
            }
        }
        match &plan.prometheus {
            Some(prometheus) => {
                if let Some(run_end) = run_end {
                    let scraped = evidence.scraped_from.is_some();
                    refuse_windows_after_the_run(policy, &env_is_set, scraped, plan, run_end)?;
                }
                evidence.queries =
                    sources::prometheus::run_queries(prometheus, &needed, &policy.histogram_queries(), plan.at).await?;
                evidence.evaluated_at = Some(sources::prometheus::rfc3339(plan.at));
                evidence.evaluated_at_unix = Some(plan.at);
                evidence.queries_reach = Some(policy.gate_queries_reach());
                // Queries judged at a fixed past instant are evidence of that instant: their
                // age counts against --max-evidence-age like a summary's.
                if plan.at_is_fixed {
                    evidence.evidence_times.push(crate::policy::evaluate::EvidenceTime {
                        path: "Prometheus queries".into(),
                        ended_at: Some(plan.at),
                        how: "the evaluation time given with --at".into(),
                    });
                }
            }
            None => evidence.queries_unavailable = Some(
                "no Prometheus server is configured for this query: set --prometheus-url or GATECHECK_PROMETHEUS_URL"
                    .into(),
            ),
        }
    }
    // Read last, when the evidence (files and query time) is known: it counts once.
    if let Some(dir) = plan.history.as_deref() {
        let current_runs = evidence.run_identities(&policy.metric_keys());
        let policy_sha256 = evidence.inputs.iter().find(|i| i.role == "policy").map(|i| i.sha256.clone());
        let vars_sha256 = evidence
            .inputs
            .iter()
            .find(|i| i.role == crate::policy::verdict::POLICY_VARS_ROLE)
            .map(|i| i.sha256.clone())
            .unwrap_or_default();
        let nanos = |text: &str| {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(time::OffsetDateTime::unix_timestamp_nanos)
        };
        let current_span =
            evidence.run_span().and_then(|(earliest, latest)| Some((nanos(&earliest)?, nanos(&latest)?)));
        let query = sources::history::Query {
            policy: &policy.name,
            policy_sha256: policy_sha256.as_deref().unwrap_or_default(),
            policy_vars_sha256: &vars_sha256,
            current_runs: &current_runs,
            now: now.unix_timestamp(),
            current_start: Some(current_span.map_or_else(|| now.unix_timestamp_nanos(), |(earliest, _)| earliest)),
            current_span,
        };
        evidence.history = Some(sources::history::outcomes(dir, &query)?);
    }
    Ok(evidence)
}
