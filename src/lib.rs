//! gatecheck decides whether a release candidate of an HTTP API may ship.
//!
//! ```text
//! sources (k6 summary, env, Prometheus) ──► evidence ──► policy::evaluate ──► Verdict ──► report
//! ```
//! A breached gate is an outcome (exit 1), not an error; anything that prevents judging —
//! unreadable evidence, a broken policy, a bad setting, an unreachable server — is an
//! `Error` (exit 2).

pub mod cli;
pub mod error;
pub mod input;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod settings;
pub mod sources;

use std::io::Write;
use std::time::Duration;

use cli::{Cli, Command};
use error::Error;
use policy::evaluate::Evidence;
use policy::verdict::Verdict;
use policy::Policy;
use settings::{Plan, PolicySource, Settings};

/// How a judgement ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every blocking gate holds (or the command judged nothing).
    Pass,
    /// A blocking gate was breached or had no data.
    Blocked,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Pass => 0,
            Outcome::Blocked => 1,
        }
    }

    fn of(blocked: bool) -> Outcome {
        if blocked {
            Outcome::Blocked
        } else {
            Outcome::Pass
        }
    }
}

/// Runs one command. `env` looks up environment variables; `out` receives the report.
pub async fn run(cli: Cli, env: &dyn Fn(&str) -> Option<String>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Verify(args) => {
            let base = Settings {
                policy: args.policy,
                summary: args.summary,
                color: cli.color,
                raw: args.raw,
                raw_lenient: args.raw_lenient.then_some(true),
                baseline: args.baseline,
                baseline_allow_blocked: args.baseline_allow_blocked.then_some(true),
                max_evidence_age: args.max_evidence_age,
                history: args.history,
                ..Settings::default()
            };
            let plan = settings::resolve(config, args.evidence.into_settings(base), env)?;
            let mut plan = plan;
            // A summary the user named is always read, even when no gate reads a k6 metric:
            // its own failed thresholds and a missing file must never pass silently.
            plan.summary_explicit = !plan.summary_is_default;
            let policy = load_policy(&plan)?;
            let outputs = report::outputs::Outputs::claim(&args.report.reports, env)?;
            let verdict = judge(&policy, &plan, env).await?;
            write_out(report::table::render(&verdict, color(&plan, env), out))?;
            outputs.write(&verdict, out)?;
            if let Some(dir) = &plan.history {
                sources::history::record(dir, &verdict)?;
            }
            Ok(Outcome::of(verdict.blocked()))
        }
        Command::Check(args) => {
            let summary_flag = args.summary.is_some();
            let base = Settings { policy: args.policy, summary: args.summary, color: cli.color, ..Settings::default() };
            let mut plan = settings::resolve_on_call(config, args.evidence.into_settings(base), env)?;
            plan.summary_explicit = summary_flag;
            let interval = humantime::parse_duration(&args.interval)
                .map_err(|e| Error::Settings(format!("--interval {:?}: {e} (expected e.g. 30s)", args.interval)))?;
            let require = args.require.unwrap_or(args.watch);
            if require == 0 || require > args.watch {
                return Err(Error::Settings(format!("--require {require}: expected 1 to --watch ({})", args.watch)));
            }
            let policy = load_policy(&plan)?;
            let outputs = report::outputs::Outputs::claim(&args.report.reports, env)?;
            check(&policy, &plan, env, args.watch, interval, require, outputs, out).await
        }
        Command::Probe(args) => {
            let base = Settings { policy: args.policy, color: cli.color, ..Settings::default() };
            let plan = settings::resolve_on_call(config, args.prometheus.into_settings(base), env)?;
            let policy = load_policy(&plan)?;
            let Some(prometheus) = &plan.prometheus else {
                return Err(Error::Settings(
                    "probe needs a server: set --prometheus-url or GATECHECK_PROMETHEUS_URL".into(),
                ));
            };
            let queries: Vec<(String, String)> =
                policy.queries().into_iter().map(|(gate, query)| (gate.to_string(), query.to_string())).collect();
            if queries.is_empty() {
                return Err(Error::Settings(format!("policy {} has no query gates to probe", policy.source)));
            }
            let mut outcomes = sources::prometheus::run_each(prometheus, &queries, plan.at).await?;
            // An unreachable server is not a finding about the queries: nothing was probed.
            if let Some(index) = outcomes.iter().position(|(_, _, o)| matches!(o, Err(Error::Prometheus { .. }))) {
                return Err(outcomes.swap_remove(index).2.expect_err("position found an error"));
            }
            let at = sources::prometheus::rfc3339(plan.at);
            let all_answered = write_probe(report::probe::render(&policy, &at, &outcomes, out))?;
            Ok(Outcome::of(!all_answered))
        }
        Command::Smoke(args) => {
            let load_plan = smoke::load_plan(&args.load, env)?;
            let summary_path = smoke::summary_path(&args.load, env);
            let scrape = args.load.scrape_url.as_deref();
            smoke::smoke(load_plan, &summary_path, &args.load.log_out, scrape, args.load.quiet, out).await?;
            Ok(Outcome::Pass)
        }
        Command::Run(args) => {
            let load_plan = smoke::load_plan(&args.load, env)?;
            let summary_path = smoke::summary_path(&args.load, env);
            let base = Settings {
                policy: args.policy,
                summary: Some(summary_path.clone()),
                color: cli.color,
                ..Settings::default()
            };
            // Settings and policy are checked before any load is sent.
            let mut plan = settings::resolve(config, args.evidence.into_settings(base), env)?;
            // The summary this run writes is its evidence: read it whatever the policy reads, so
            // its run facts (partial, dropped) are rows of the verdict.
            plan.summary_explicit = true;
            let policy = load_policy(&plan)?;
            let outputs = report::outputs::Outputs::claim(&args.report.reports, env)?;
            let scrape = args.load.scrape_url.as_deref();
            let result =
                smoke::smoke(load_plan, &summary_path, &args.load.log_out, scrape, args.load.quiet, out).await?;
            let mut evidence = gather(&policy, &plan, env, result.scraped).await?;
            evidence.inputs.push(result.scenario_digest.clone());
            let verdict = policy::evaluate::evaluate(&policy, &evidence)?;
            write_out(report::table::render(&verdict, color(&plan, env), out))?;
            outputs.write(&verdict, out)?;
            Ok(Outcome::of(verdict.blocked()))
        }
        Command::Demo(args) => demo::run::demo(args, config, cli.color, env, out).await,
        Command::BenchTarget(args) => {
            let body = args.body_bytes;
            demo::bench_target::serve(args.port, args.delay_mix.as_deref(), args.truth_out.as_deref(), body, out)
                .await?;
            Ok(Outcome::Pass)
        }
        Command::Merge(args) => {
            let plan = settings::resolve(config, Settings { policy: args.policy, ..Settings::default() }, env)?;
            let policy = load_policy(&plan)?;
            let line = merge::merge(&args.out, &args.inputs, &policy)?;
            write_out(writeln!(out, "{line}"))?;
            Ok(Outcome::Pass)
        }
        Command::Compare(args) => {
            let read = |path: &std::path::Path| -> Result<metrics::MetricSet, Error> {
                if sources::k6_ndjson::is_raw_path(path) {
                    let flows = ["auth_list", "rule_poll", "provider_log_write"];
                    let wanted: Vec<metrics::MetricKey> = flows
                        .iter()
                        .flat_map(|f| {
                            ["http_req_duration", "http_req_failed", "checks"].map(|m| format!("{m}{{flow:{f}}}"))
                        })
                        .filter_map(|s| metrics::MetricKey::parse(&s).ok())
                        .collect();
                    Ok(sources::k6_ndjson::read(&[path], &wanted, false)?.0)
                } else {
                    sources::k6_summary::read(path)
                }
            };
            let (a, b) = (read(&args.a)?, read(&args.b)?);
            write_out(out.write_all(report::compare::render(&a, &b).as_bytes()))?;
            Ok(Outcome::Pass)
        }
        Command::Ci(cli::CiCommand::Resolve) => {
            ci::run(env, out)?;
            Ok(Outcome::Pass)
        }
        Command::Export(cli::ExportCommand::K6(args)) => {
            let load_args_scenario = args.scenario.clone();
            let flags = Settings { policy: args.policy, ..Settings::default() };
            let plan = settings::resolve(config, flags, env)?;
            let policy = load_policy(&plan)?;
            let script = load::k6_script::render(load_args_scenario.as_deref(), &policy, env)?;
            match args.out {
                Some(path) => report::write_atomically(&path, script.as_bytes())?,
                None => write_out(out.write_all(script.as_bytes()))?,
            }
            Ok(Outcome::Pass)
        }
        Command::Gates(args) => {
            let flags = Settings { policy: args.policy, color: cli.color, ..Settings::default() };
            let plan = settings::resolve(config, flags, env)?;
            let policy = load_policy(&plan)?;
            write_out(report::policy_text::render(&policy, out))?;
            Ok(Outcome::Pass)
        }
    }
}

/// Evaluates `watch` times, `interval` apart; passes when the last `require` evaluations passed.
#[allow(clippy::too_many_arguments)]
async fn check(
    policy: &Policy,
    plan: &Plan,
    env: &dyn Fn(&str) -> Option<String>,
    watch: u32,
    interval: Duration,
    require: u32,
    outputs: report::outputs::Outputs,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let mut passed = Vec::new();
    let mut last: Option<Verdict> = None;
    for round in 1..=watch {
        if round > 1 {
            tokio::time::sleep(interval).await;
        }
        // Each round looks at "now" unless the user pinned the evaluation time.
        let mut round_plan = plan.clone();
        if !plan.at_is_fixed {
            round_plan.at = time::OffsetDateTime::now_utc().unix_timestamp();
        }
        let verdict = judge(policy, &round_plan, env).await?;
        if watch > 1 {
            write_out(writeln!(out, "evaluation {round} of {watch}"))?;
        }
        write_out(report::table::render(&verdict, color(plan, env), out))?;
        for line in policy::freshness::age_lines(&verdict) {
            write_out(writeln!(out, "{line}"))?;
        }
        passed.push(!verdict.blocked());
        last = Some(verdict);
    }
    let stable = passed.iter().rev().take(require as usize).all(|p| *p);
    let Some(mut verdict) = last else {
        return Err(Error::Settings("--watch 0: expected at least 1 evaluation".into()));
    };
    if watch > 1 {
        let tally: Vec<&str> = passed.iter().map(|p| if *p { "pass" } else { "fail" }).collect();
        let word = if stable { "STABLE" } else { "NOT STABLE" };
        write_out(writeln!(
            out,
            "{word}: the last {require} of {watch} evaluations must pass; got {}",
            tally.join(", ")
        ))?;
        // Stability is part of the verdict, so the reports and the exit code agree.
        verdict.rows.push(policy::integrity::stability_row(&passed, require));
    }
    outputs.write(&verdict, out)?;
    Ok(Outcome::of(verdict.blocked()))
}

async fn judge(policy: &Policy, plan: &Plan, env: &dyn Fn(&str) -> Option<String>) -> Result<Verdict, Error> {
    let evidence = gather(policy, plan, env, None).await?;
    policy::evaluate::evaluate(policy, &evidence)
}

pub fn color(plan: &Plan, env: &dyn Fn(&str) -> Option<String>) -> bool {
    plan.color.enabled(env("NO_COLOR").as_deref())
}

/// A reader that closed the pipe early (`| head`) is not a failure of the judgement.
pub fn write_out(result: std::io::Result<()>) -> Result<(), Error> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Write { path: "standard output".into(), source: e })
        }
        _ => Ok(()),
    }
}

fn write_probe(result: std::io::Result<bool>) -> Result<bool, Error> {
    match result {
        Ok(all_answered) => Ok(all_answered),
        Err(e) => write_out(Err(e)).map(|_| false),
    }
}

/// The policy's digest: its file, or the built-in text.
fn policy_digest(plan: &Plan) -> Result<policy::verdict::InputFile, Error> {
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

/// Reads every source the policy needs, validating as it goes. `scraped` holds run-window
/// histograms from a load run's target, when there was one.
pub async fn gather(
    policy: &Policy,
    plan: &Plan,
    env: &dyn Fn(&str) -> Option<String>,
    scraped: Option<smoke::Scraped>,
) -> Result<Evidence, Error> {
    // With raw results and no summary chosen, the default summary path is optional.
    let summary_optional = !plan.raw.is_empty() && plan.summary_is_default && !plan.summary.exists();
    let mut inputs = vec![policy_digest(plan)?];
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
                    "{what} {path}: cannot read: {source} (give --summary FILE or set K6_SUMMARY_PATH)"
                )))
            }
            other => other?,
        })
    } else {
        None
    };
    if summary.is_some() && !from_stdin {
        inputs.push(sources::digest::file("summary", &plan.summary)?);
    }
    let mut evidence_times = Vec::new();
    if let Some(set) = &summary {
        evidence_times.push(sources::age::of_summary(set, &plan.summary));
    }
    let figures = if plan.ignore_env_figures { Default::default() } else { sources::env::read_figures(policy, env)? };
    let mut flows = sources::env::read_flows(policy, &plan.skip_flow, env)?;
    // A native run records the flows it skipped; they are SKIPPED here too.
    for (flow, because) in summary.iter().flat_map(|s| s.skipped_flows.iter()) {
        flows.insert(
            flow.clone(),
            policy::evaluate::FlowState { enabled: false, reason: format!("the run skipped it: {because}") },
        );
    }
    let wanted = policy.metric_keys();
    let raw = if plan.raw.is_empty() || !policy.needs_k6_summary() {
        None
    } else {
        let paths: Vec<&std::path::Path> = plan.raw.iter().map(|p| p.as_path()).collect();
        let (set, _stats) = sources::k6_ndjson::read(&paths, &wanted, plan.raw_lenient)?;
        for path in &paths {
            inputs.push(sources::digest::file("raw", path)?);
            evidence_times.push(sources::age::of_file(path));
        }
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
    let mut evidence = Evidence {
        summary,
        raw,
        baseline,
        env: figures,
        flows,
        inputs,
        judged_at: Some(sources::prometheus::rfc3339(time::OffsetDateTime::now_utc().unix_timestamp())),
        accept_partial_responses: plan.accept_partial_response,
        max_evidence_age: plan.max_evidence_age,
        evidence_times,
        now_unix: Some(time::OffsetDateTime::now_utc().unix_timestamp()),
        ..Evidence::default()
    };
    if let Some((url, histograms)) = scraped {
        evidence.scraped_from = Some(url);
        evidence.scraped = histograms;
    }

    // Only the queries whose figure is not given by a set env variable, on flows that ran.
    let mut needed: Vec<(String, String)> = Vec::new();
    for gate in &policy.gates {
        if gate.flow.as_ref().is_some_and(|f| evidence.flows.get(f).is_some_and(|s| !s.enabled)) {
            continue;
        }
        if gate.scrape.is_some() && evidence.scraped_from.is_some() {
            continue;
        }
        for threshold in &gate.thresholds {
            let overridden = gate.env_var_for(threshold.stat).is_some_and(|var| evidence.env.contains_key(var));
            if let (false, Some(query)) = (overridden, gate.query_for(threshold.stat)) {
                if !needed.iter().any(|(_, q)| q == query) {
                    needed.push((gate.id.clone(), query.to_string()));
                }
                // The window coverage the figure needs is judged from a query of its own.
                if let Some(coverage) = &gate.coverage {
                    if !needed.iter().any(|(_, q)| *q == coverage.query()) {
                        needed.push((gate.id.clone(), coverage.query()));
                    }
                }
            }
        }
    }
    if !needed.is_empty() {
        // Query evidence has an age: every freshness requirement is checked with it.
        for freshness in &policy.freshness {
            for query in freshness.queries() {
                if !needed.iter().any(|(_, q)| *q == query) {
                    needed.push((freshness.id.clone(), query));
                }
            }
        }
        match &plan.prometheus {
            Some(prometheus) => {
                evidence.queries = sources::prometheus::run_queries(prometheus, &needed, plan.at).await?;
                evidence.evaluated_at = Some(sources::prometheus::rfc3339(plan.at));
                evidence.evaluated_at_unix = Some(plan.at);
            }
            None => evidence.queries_unavailable = Some(
                "no Prometheus server is configured for this query: set --prometheus-url or GATECHECK_PROMETHEUS_URL"
                    .into(),
            ),
        }
    }
    // Read last, when the evidence (files and query time) is known: it counts once.
    if let Some(dir) = plan.history.as_deref() {
        let digest = sources::history::evidence_digest(&evidence.inputs, evidence.evaluated_at.as_deref());
        evidence.history = Some(sources::history::outcomes(dir, &policy.name, &digest)?);
    }
    Ok(evidence)
}
pub mod ci;
pub mod demo;
pub mod load;
pub mod merge;
pub mod smoke;
