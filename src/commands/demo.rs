//! `gatecheck demo`: the whole pipeline on one machine with no external service — the
//! embedded target, the native smoke load against it, lag from its /metrics over the run
//! window, and the release verdict.

use std::io::Write;

use crate::cli::DemoArgs;
use crate::demo::{serve, DemoConfig};
use crate::error::Error;
use crate::load::plan::{self, Overrides};
use crate::policy;
use crate::report::outputs::Outputs;
use crate::settings::{self, Settings};

use super::evidence::{gather, load_policy, publish};
use super::{smoke, write_out, Context, Outcome};

pub async fn demo(
    args: DemoArgs,
    context: &Context<'_>,
    out: &mut crate::escape::ScrubbedLines<'_>,
) -> Result<Outcome, Error> {
    let (config, env) = (context.config, context.env);
    if args.port.is_some() && !args.serve {
        return Err(Error::Settings("--port applies to --serve".into()));
    }
    if !(args.latency_factor.is_finite() && args.latency_factor > 0.0 && args.latency_factor <= 100.0) {
        return Err(Error::Settings(format!(
            "--latency-factor {}: expected a positive factor up to 100, e.g. 1.3",
            args.latency_factor
        )));
    }
    let demo_config = DemoConfig {
        broken: args.broken,
        latency_factor: args.latency_factor,
        marked: !args.as_candidate,
        ..DemoConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port.unwrap_or(0)))
        .await
        .map_err(|e| Error::Settings(format!("cannot listen on 127.0.0.1:{}: {e}", args.port.unwrap_or(0))))?;
    let address = listener.local_addr().map_err(|e| Error::Settings(format!("no local address: {e}")))?;
    let url = format!("http://{address}");
    let (token, rule_id) = (demo_config.token.clone(), demo_config.rule_id.clone());
    let server = serve(listener, demo_config);

    if args.serve {
        write_out(writeln!(
            out,
            "demo target on {url} (bearer token {token}, PERF_RULE_ID={rule_id}); metrics on {url}/metrics; Ctrl-C stops"
        ))?;
        let _ = out.flush();
        let _ = tokio::signal::ctrl_c().await;
        server.abort();
        return Ok(Outcome::Pass);
    }

    // The demo's own values; the caller's PERF_* variables do not leak into it.
    let vus = args.vus.to_string();
    let overlay = |name: &str| -> Result<Option<String>, Error> {
        Ok(match name {
            "PERF_BASE_URL" => Some(url.clone()),
            "PERF_BEARER_TOKEN" => Some(token.clone()),
            "PERF_RULE_ID" => Some(rule_id.clone()),
            "PERF_DURATION" => Some(args.duration.clone()),
            "PERF_VUS" => Some(vus.clone()),
            _ => None,
        })
    };
    let scenario = std::path::Path::new("gates/core-flows.toml");
    let load_plan = if scenario.is_file() {
        plan::load_file(scenario, &Overrides::default(), &overlay)?
    } else {
        plan::parse(plan::BUILTIN_CORE_FLOWS_NAME, plan::BUILTIN_CORE_FLOWS, &Overrides::default(), &overlay)?
    };
    let summary_path = args.out_dir.join("k6-summary.json");
    let log_path = args.out_dir.join("perf-smoke.log");
    let flags = Settings { summary: Some(summary_path.clone()), color: context.color, ..Settings::default() };
    let (flags, report) = args.judge.into_settings(flags);
    let mut plan = settings::resolve(config, flags, env)?;
    // The demo judges what it measured: no env figures, no outside Prometheus.
    plan.ignore_env_figures = true;
    plan.prometheus = None;
    plan.summary_explicit = true;
    let policy = load_policy(&plan)?;
    let outputs = Outputs::claim(&report.reports, env)?
        .with_view(report.verbose, report.only_failures)
        .with_history(plan.history.as_deref())?;

    let metrics_url = format!("{url}/metrics");
    write_out(writeln!(
        out,
        "gatecheck demo: the target is the built-in demo API on {url} (a stand-in for your service, seeded \
         latencies; no outside service), the load is gatecheck's native runner, lag comes from the demo's /metrics"
    ))?;
    let result = smoke::smoke(
        load_plan,
        &smoke::RunnerRole { demo: true, ..smoke::RunnerRole::default() },
        &summary_path,
        &log_path,
        Some(&metrics_url),
        false,
        out,
    )
    .await;
    server.abort();
    let result = result?;
    let mut evidence = gather(&policy, &plan, env).await?;
    evidence.inputs.push(result.scenario_digest);
    // What it measured is gatecheck's own API: its record never counts as a candidate's run.
    evidence.demo = true;
    // The run's facts (partial, dropped) are rows of the verdict: one outcome everywhere.
    let verdict = policy::evaluate::evaluate(&policy, &evidence)?;
    write_out(writeln!(out))?;
    publish(&verdict, &plan, outputs, env, out)?;
    Ok(Outcome::of(verdict.blocked()))
}
