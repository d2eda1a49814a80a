//! The load commands end to end: `smoke` (run the scenario, write the summary and log),
//! `run` (smoke, then verify in the same process) and `demo` (the same against the embedded
//! target). Output paths are checked before the first request so a bad path fails fast.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{write_out, Context, Outcome};
use crate::cli::{ExecutorKind, LoadArgs};
use crate::error::Error;
use crate::load::plan::{self, LoadPlan, Overrides};
use crate::sources::scrape::{self, HistogramSnapshot, ScrapedHistogram};

/// Histograms over the run window, and the /metrics URL they came from.
pub type Scraped = (String, BTreeMap<String, HistogramSnapshot>);

/// What a smoke run left behind.
pub struct SmokeResult {
    pub plan: LoadPlan,
    pub summary_path: PathBuf,
    pub partial: Option<String>,
    pub scraped: Option<Scraped>,
    /// The scenario the run followed, for the verdict's list of inputs.
    pub scenario_digest: crate::policy::verdict::InputFile,
}

/// `gatecheck smoke`: the load run alone, writing the summary and log.
pub async fn smoke_command(
    args: crate::cli::SmokeArgs,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let load_plan = load_plan(&args.load, context.env)?;
    let summary_path = summary_path(&args.load, context.env);
    let scrape = args.load.scrape_url.as_deref();
    smoke(load_plan, &summary_path, &args.load.log_out, scrape, args.load.quiet, out).await?;
    Ok(Outcome::Pass)
}

pub fn overrides(args: &LoadArgs) -> Result<Overrides, Error> {
    let rate = match (args.executor, args.rate) {
        (ExecutorKind::ConstantArrivalRate, None) => {
            return Err(Error::Settings(
                "--executor constant-arrival-rate needs --rate N (iterations per second per flow)".into(),
            ))
        }
        (ExecutorKind::ConstantVus, Some(_)) => {
            return Err(Error::Settings("--rate applies to --executor constant-arrival-rate".into()))
        }
        (_, rate) => rate,
    };
    Ok(Overrides {
        base_url: args.base_url.clone(),
        vus: args.vus,
        duration: args.duration.clone(),
        rate,
        max_requests: args.max_requests,
        request_timeout: args.request_timeout.clone(),
        no_sleep: args.no_sleep,
    })
}

pub fn load_plan(args: &LoadArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<LoadPlan, Error> {
    let overrides = overrides(args)?;
    match &args.scenario {
        Some(path) => plan::load_file(path, &overrides, env),
        None if Path::new("gates/core-flows.toml").is_file() => {
            plan::load_file(Path::new("gates/core-flows.toml"), &overrides, env)
        }
        None => plan::parse(plan::BUILTIN_CORE_FLOWS_NAME, plan::BUILTIN_CORE_FLOWS, &overrides, env),
    }
}

pub fn summary_path(args: &LoadArgs, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    args.summary_out
        .clone()
        .or_else(|| env("K6_SUMMARY_PATH").filter(|p| !p.trim().is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(crate::settings::DEFAULT_SUMMARY))
}

/// Creates the directory an artifact goes to, now, so a bad path fails before any load.
fn prepare_output(path: &Path) -> Result<(), Error> {
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    if path.is_dir() {
        return Err(fail(std::io::Error::other("is a directory")));
    }
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(fail),
        _ => Ok(()),
    }
}

pub async fn scrape_histograms(url: &str) -> Result<BTreeMap<String, ScrapedHistogram>, Error> {
    let fail = |message: String| Error::Evidence { path: url.to_string(), message };
    let client = prometheus_http_query::reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
    let response = client.get(url).send().await.map_err(|e| fail(format!("cannot scrape: {e}")))?;
    if !response.status().is_success() {
        return Err(fail(format!("scrape answered HTTP {}", response.status().as_u16())));
    }
    let text = response.text().await.map_err(|e| fail(format!("cannot read the scrape: {e}")))?;
    scrape::parse(url, &text)
}

/// Runs the load, writes summary and log atomically, prints the per-flow table.
pub async fn smoke(
    plan: LoadPlan,
    summary_path: &Path,
    log_path: &Path,
    scrape_url: Option<&str>,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<SmokeResult, Error> {
    if let Some(url) = scrape_url {
        crate::input::refuse_url_credentials("--scrape-url", url, "serve /metrics without credentials on loopback")?;
    }
    prepare_output(summary_path)?;
    prepare_output(log_path)?;
    let scenario_digest = match Path::new(&plan.source) {
        file if file.is_file() => crate::sources::digest::file("scenario", file)?,
        _ => crate::sources::digest::bytes("scenario", &plan.source, plan::BUILTIN_CORE_FLOWS.as_bytes()),
    };
    let before = match scrape_url {
        Some(url) => Some(scrape_histograms(url).await?),
        None => None,
    };
    let model = match plan.executor {
        plan::Executor::ConstantVus { vus } => format!("closed model, {vus} VUs per flow"),
        plan::Executor::ConstantArrivalRate { rate, max_vus } => {
            format!("open model, {rate} iterations/s per flow, at most {max_vus} in flight")
        }
    };
    let header = format!(
        "gatecheck smoke: scenario {} ({}) against {}, {model}, {:?}, request cap {}",
        plan.scenario,
        plan.source,
        plan.target.url(),
        plan.duration,
        plan.max_requests
    );
    write_out(writeln!(out, "{header}"))?;
    let outcome = crate::load::run(plan.clone(), quiet, crate::load::interrupted()).await?;
    let scraped = match (scrape_url, before) {
        (Some(url), Some(before)) => {
            let after = scrape_histograms(url).await?;
            let mut window = BTreeMap::new();
            for (name, histogram) in &after {
                let earlier = before.get(name).cloned().unwrap_or_default();
                window.insert(name.clone(), histogram.since(&earlier));
            }
            Some((url.to_string(), window))
        }
        _ => None,
    };
    // The run window goes into the summary, so `verify` of it judges the lag gates exactly
    // as `run` does.
    let mut document = outcome.summary.clone();
    if let Some((url, window)) = &scraped {
        let histograms: serde_json::Map<String, serde_json::Value> =
            window.iter().map(|(name, h)| (name.clone(), h.to_json())).collect();
        document["gatecheck"]["scraped"] = serde_json::json!({"url": url, "histograms": histograms});
    }
    let mut summary =
        serde_json::to_vec_pretty(&document).map_err(|e| Error::Settings(format!("cannot encode the summary: {e}")))?;
    summary.push(b'\n');
    crate::report::write_atomically(summary_path, &summary)?;
    let status = match &outcome.facts.partial {
        Some(reason) => format!("PARTIAL run: {reason}"),
        None => "complete run".to_string(),
    };
    let mut log = vec![header, format!("started at {}", outcome.facts.started_at)];
    log.extend(outcome.log_lines.iter().cloned());
    log.push(outcome.table.clone());
    log.push(format!("{status}, {:.1} s, {} requests", outcome.facts.elapsed_secs, outcome.recorder.requests()));
    log.push(format!("percentiles: {}", crate::load::summary::PERCENTILE_METHOD));
    log.push(format!("summary: {}", summary_path.display()));
    crate::report::write_atomically(log_path, (log.join("\n") + "\n").as_bytes())?;
    write_out(writeln!(out, "{}", outcome.table))?;
    write_out(writeln!(
        out,
        "{status}: {} requests in {:.1} s; summary {}, log {}",
        outcome.recorder.requests(),
        outcome.facts.elapsed_secs,
        summary_path.display(),
        log_path.display()
    ))?;
    Ok(SmokeResult {
        plan,
        summary_path: summary_path.to_path_buf(),
        partial: outcome.facts.partial,
        scraped,
        scenario_digest,
    })
}
