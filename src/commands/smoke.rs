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
use crate::sources::scrape::{self, ScrapedHistogram};

/// Histograms over the run window, and the /metrics URL they came from.
pub type Scraped = (String, BTreeMap<String, crate::metrics::Window>);

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
    let (load_plan, role) = load_plan(&args.load, context.env)?;
    let summary_path = summary_path(&args.load, context.env)?;
    let scrape = args.load.scrape_url.as_deref();
    smoke(load_plan, &role, &summary_path, &args.load.log_out, scrape, args.load.quiet, out).await?;
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

/// This runner's part in a run of several: when all start, the run's id, where it pushes. The
/// load itself needs none of it (its segment is in the plan); the smoke command does.
#[derive(Debug, Clone, Default)]
pub struct RunnerRole {
    /// When every segment starts together (unix seconds), if given.
    pub start_at: Option<i64>,
    /// The run the segments belong to, if given (else derived when the run starts).
    pub run_id: Option<String>,
    /// Where to push the measurements (Prometheus remote-write), if anywhere.
    pub remote_write: Option<crate::load::remote_write::Target>,
    /// The target is gatecheck's built-in demo API (`gatecheck demo`): the summary says so, and
    /// no verdict on it ever counts as a candidate's run.
    pub demo: bool,
    /// The whole run's plan before this segment took its share (`summary::plan_json`), when
    /// the plan is a segment's; the plan itself otherwise.
    pub whole_plan: Option<serde_json::Value>,
}

/// The plan of this runner's segment, and its role in the run, from the load flags.
pub fn load_plan(args: &LoadArgs, env: &crate::env::Lookup<'_>) -> Result<(LoadPlan, RunnerRole), Error> {
    let segment = segment(args, env)?;
    let start_at = args.start_at.as_deref().map(|text| {
        crate::settings::parse_at(text).map_err(|_| {
            Error::Settings(format!("--start-at {text:?}: expected RFC 3339 (2026-01-01T00:00:00Z) or unix seconds"))
        })
    });
    let start_at = start_at.transpose()?;
    if let Some(id) = &args.run_id {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(Error::Settings(format!("--run-id {id:?}: expected letters, digits, '-', '_' or '.'")));
        }
    }
    // The flags are checked before the scenario, so a mistake in them is named first.
    let remote_write = remote_write_target(args, env)?;
    let whole = scenario_plan(args, env)?;
    // The scenario's token is known now: the remote-write URL must not carry it either.
    if let Some(url) = &args.remote_write {
        crate::input::url_holds_no_known_credential("--remote-write", url).map_err(Error::Settings)?;
    }
    // Every credential is known now (the scenario's token too): the run id is the `run_id` label
    // of every remote-write series and is written to the summary, so it never holds one
    // (finding round25-text/04), with or without --remote-write.
    if let Some(id) = &args.run_id {
        crate::secret::request_part_holds_no_credential("--run-id", "the run id (a label of every pushed series)", id)
            .map_err(Error::Settings)?;
    }
    let whole_plan = Some(crate::load::summary::plan_json(&whole));
    let plan = whole.into_segment(segment);
    // Every label a push will carry is known before the load (the run id, flow and request
    // names): refused at input rather than at the first push, mid-run.
    if remote_write.is_some() {
        let writer = crate::load::remote_write::Writer {
            run_id: args.run_id.clone().unwrap_or_default(),
            segment: plan.segment.to_string(),
            segments: plan.segment.count,
            attempt: String::new(),
            start: 0,
            runner: crate::load::remote_write::runner_id(),
        };
        let request = crate::load::remote_write::write_request(
            &plan,
            &crate::load::recorder::Recorder::new(&plan),
            &writer,
            0,
            false,
        );
        crate::load::remote_write::labels_hold_no_credential(&request).map_err(Error::Settings)?;
    }
    Ok((plan, RunnerRole { start_at, run_id: args.run_id.clone(), remote_write, demo: false, whole_plan }))
}

/// `--remote-write URL` with its headers and GATECHECK_REMOTE_WRITE_TOKEN, checked before any
/// load: credentials never in the URL, headers `Name: value`.
fn remote_write_target(
    args: &LoadArgs,
    env: &crate::env::Lookup<'_>,
) -> Result<Option<crate::load::remote_write::Target>, Error> {
    let Some(url) = &args.remote_write else { return Ok(None) };
    crate::input::refuse_url_credentials("--remote-write", url, "set GATECHECK_REMOTE_WRITE_TOKEN instead")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::Settings(format!(
            "--remote-write {:?}: expected an http:// or https:// URL",
            crate::input::masked_url(url)
        )));
    }
    let mut headers = Vec::new();
    for header in &args.remote_write_header {
        headers.push(crate::input::header("--remote-write-header", header)?);
    }
    let bearer = env("GATECHECK_REMOTE_WRITE_TOKEN")?
        .filter(|t| !t.trim().is_empty())
        .map(|t| crate::secret::from_input("GATECHECK_REMOTE_WRITE_TOKEN", &t))
        .transpose()
        .map_err(Error::Settings)?;
    // The load target's credential never travels to the receiver (finding round26-text/02).
    let sent = headers
        .iter()
        .map(|(name, value)| (format!("--remote-write-header {name}"), value))
        .chain(bearer.iter().map(|token| ("GATECHECK_REMOTE_WRITE_TOKEN".to_string(), token)));
    for (what, value) in sent {
        crate::secret::refuse_load_target_credential(&what, "the remote-write receiver", value.expose())
            .map_err(Error::Settings)?;
    }
    let every = match &args.remote_write_interval {
        None => crate::load::remote_write::DEFAULT_INTERVAL,
        Some(text) => plan::parse_duration("--remote-write-interval", text).map_err(Error::Settings)?,
    };
    // Faster than a second floods the receiver with little news; it is also the timestamp grain
    // two pushes of one series must differ by.
    if every < Duration::from_secs(1) {
        return Err(Error::Settings(format!(
            "--remote-write-interval {}: expected 1s or more",
            args.remote_write_interval.as_deref().unwrap_or_default()
        )));
    }
    Ok(Some(crate::load::remote_write::Target {
        url: url.clone(),
        headers,
        bearer,
        timeout: scrape::PUSH_TIMEOUT,
        every,
    }))
}

/// Which segment this runner runs: `--segment I/N`; else `--segments N` with the index from
/// JOB_COMPLETION_INDEX; else the whole scenario. A Job index without a total is refused:
/// every pod would otherwise run the whole scenario.
pub fn segment(args: &LoadArgs, env: &crate::env::Lookup<'_>) -> Result<crate::load::segment::Segment, Error> {
    use crate::load::segment::Segment;
    if let Some(text) = &args.segment {
        return Segment::parse(text).map_err(|why| Error::Settings(format!("--segment {why}")));
    }
    let job_index = env("JOB_COMPLETION_INDEX")?.filter(|v| !v.trim().is_empty());
    match (args.segments, job_index) {
        (Some(count), Some(index)) => {
            let index: u32 = index.trim().parse().map_err(|_| {
                Error::Env { name: "JOB_COMPLETION_INDEX".into(), expected: "a whole number (the pod's index)".into() }
            })?;
            Segment::new(index, count).map_err(|why| Error::Settings(format!("--segments {count} with JOB_COMPLETION_INDEX={index}: {why}")))
        }
        (Some(count), None) => Err(Error::Settings(format!(
            "--segments {count} needs the index: JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) is not set; or give --segment I/{count}"
        ))),
        (None, Some(index)) => Err(Error::Settings(format!(
            "JOB_COMPLETION_INDEX={index} is set but the number of segments is not: give --segments N (the Job's completions), or every pod runs the whole scenario"
        ))),
        (None, None) => Ok(Segment::WHOLE),
    }
}

fn scenario_plan(args: &LoadArgs, env: &crate::env::Lookup<'_>) -> Result<LoadPlan, Error> {
    let overrides = overrides(args)?;
    match &args.scenario {
        Some(path) => plan::load_file(path, &overrides, env),
        None if Path::new("gates/core-flows.toml").is_file() => {
            plan::load_file(Path::new("gates/core-flows.toml"), &overrides, env)
        }
        None => plan::parse(plan::BUILTIN_CORE_FLOWS_NAME, plan::BUILTIN_CORE_FLOWS, &overrides, env),
    }
}

pub fn summary_path(args: &LoadArgs, env: &crate::env::Lookup<'_>) -> Result<PathBuf, Error> {
    let from_env = crate::settings::summary_from_env(env)?.map(|(_, path)| PathBuf::from(path));
    Ok(args.summary_out.clone().or(from_env).unwrap_or_else(|| PathBuf::from(crate::settings::DEFAULT_SUMMARY)))
}

/// Waits for `--start-at` (interruptible); returns the start time (unix seconds).
async fn wait_for_start(start_at: Option<i64>, out: &mut dyn Write) -> Result<i64, Error> {
    let now = time::OffsetDateTime::now_utc();
    let Some(start) = start_at else { return Ok(now.unix_timestamp()) };
    let wait = start as f64 - (now.unix_timestamp_nanos() as f64 / 1e9);
    if wait < -5.0 {
        return Err(Error::Settings(format!(
            "--start-at {}: already past by {:.0} s; segments must start together, so give a time still ahead",
            crate::metrics::rfc3339(start),
            -wait
        )));
    }
    if wait > 0.0 {
        write_out(writeln!(out, "waiting {wait:.1} s for the common start at {}", crate::metrics::rfc3339(start)))?;
        let _ = out.flush();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
            _ = crate::load::interrupted() => {
                return Err(Error::Settings("interrupted while waiting for --start-at: nothing was sent".into()));
            }
        }
    }
    Ok(start)
}

/// A run id from the scenario's digest and the start time: segments started with the same
/// --start-at share it; separate runs never do.
fn derived_run_id(scenario_sha256: &str, start: i64) -> String {
    let digest = crate::sources::digest::bytes("run", "run", format!("{scenario_sha256}@{start}").as_bytes());
    format!("run-{}", &digest.sha256[..16])
}

/// Claims an artifact's destination now (the one rule, `report::Staged::claim`), so a bad path
/// fails before any load.
fn prepare_output(path: &Path) -> Result<(), Error> {
    crate::report::Staged::claim(path).map(drop)
}

/// A run window as the summary records it: the histogram, or `{"no_data": why}` when the
/// window gives no figure (`verify` reads both, see `k6_summary`).
fn window_json(window: &crate::metrics::Window) -> serde_json::Value {
    match window {
        Ok(histogram) => histogram.to_json(),
        Err(why) => serde_json::json!({ "no_data": why }),
    }
}

pub async fn scrape_histograms(url: &str) -> Result<BTreeMap<String, ScrapedHistogram>, Error> {
    // What the server answers is outside text: scrubbed like every server's answer.
    let fail = |message: String| Error::Evidence { path: url.to_string(), message: crate::secret::scrub(&message) };
    // Never through an environment proxy (finding round28-text/01): the scrape goes to its URL.
    let client = prometheus_http_query::reqwest::Client::builder()
        .no_proxy()
        .timeout(scrape::SCRAPE_TIMEOUT)
        .build()
        .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
    // The send-point rule of every client: the URL carries no credential gatecheck holds.
    crate::secret::request_part_holds_no_credential("--scrape-url", "the scrape URL", url).map_err(Error::Settings)?;
    let response = client.get(url).send().await.map_err(|e| fail(format!("cannot scrape: {e}")))?;
    // An exposition is a 200 answer, as Prometheus scrapes it: a 204 No Content (or any other
    // status) holds no reading, and taken as an empty one it made every series new and the
    // target's lifetime the run window (finding round29-figures/02).
    if response.status() != prometheus_http_query::reqwest::StatusCode::OK {
        return Err(fail(format!(
            "scrape answered HTTP {}: an exposition is an HTTP 200 answer",
            response.status().as_u16()
        )));
    }
    // Which parser reads the answer, as Prometheus picks it: OpenMetrics must end with `# EOF`.
    let format = scrape::Exposition::of_content_type(
        response.headers().get(prometheus_http_query::reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
    );
    // A /metrics page of many histograms is megabytes; one past the limit is no exposition.
    const SCRAPE_LIMIT: usize = 64 << 20;
    let text = match crate::input::read_answer(response, SCRAPE_LIMIT).await {
        Ok(crate::input::Answer::Whole(bytes)) => String::from_utf8(bytes)
            .map_err(|_| fail("the scrape is not UTF-8 text (the exposition format is UTF-8)".into()))?,
        Ok(crate::input::Answer::TooLarge) => {
            return Err(fail(format!("the scrape is larger than {} MiB", SCRAPE_LIMIT >> 20)))
        }
        Err(e) => return Err(fail(format!("cannot read the scrape: {e}"))),
    };
    scrape::parse_as(url, format, &text)
}

/// Runs the load, writes summary and log atomically, prints the per-flow table.
pub async fn smoke(
    plan: LoadPlan,
    role: &RunnerRole,
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
    // Each scrape is dated by the instant it was read, the run by its start and end: samples
    // that carry their own time must fall inside (`ScrapedHistogram::window`).
    let now_ms = || (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let model = match plan.executor {
        plan::Executor::ConstantVus { vus } => format!("closed model, {vus} VUs per flow"),
        plan::Executor::ConstantArrivalRate { rate, max_vus } => {
            format!("open model, {rate} iterations/s per flow, at most {max_vus} in flight")
        }
    };
    let header = format!(
        "gatecheck smoke: scenario {} ({}) against {}, {model}, {:?}, request cap {}",
        crate::escape::line(&plan.scenario),
        crate::escape::line(&plan.source),
        crate::escape::line(&plan.target.url()),
        plan.duration,
        plan.max_requests
    );
    write_out(writeln!(out, "{header}"))?;
    let start = wait_for_start(role.start_at, out).await?;
    // The first scrape just before the run (after any wait for --start-at): a reading taken long
    // before the run would count what was observed before it (finding round21-figures/01).
    let before = match scrape_url {
        Some(url) => Some((scrape_histograms(url).await?, now_ms())),
        None => None,
    };
    let run_id = role.run_id.clone().unwrap_or_else(|| derived_run_id(&scenario_digest.sha256, start));
    let whole_plan = role.whole_plan.clone().unwrap_or_else(|| crate::load::summary::plan_json(&plan));
    let writer = crate::load::remote_write::Writer {
        attempt: crate::load::remote_write::attempt(&run_id, start, plan.segment.count, &whole_plan),
        run_id: run_id.clone(),
        segment: plan.segment.to_string(),
        segments: plan.segment.count,
        start,
        runner: crate::load::remote_write::runner_id(),
    };
    // Pushed when the run starts (the segment reports itself), every --remote-write-interval
    // while it goes (the totals so far), and when it ends (everything, dropped iterations too).
    let (pusher, live) = match &role.remote_write {
        Some(target) => {
            let (pusher, live) = crate::load::remote_write::LivePusher::start(target, &plan, &writer);
            (Some(pusher), Some(live))
        }
        None => (None, None),
    };
    let run_start = now_ms().max(start.saturating_mul(1000));
    let outcome = crate::load::run(plan.clone(), quiet, crate::load::interrupted(), live).await?;
    let run_end = now_ms();
    let pushes = match pusher {
        Some(pusher) => {
            let complete = outcome.facts.partial.is_none();
            Some(pusher.finish(&outcome.recorder, complete, outcome.interrupted).await)
        }
        None => None,
    };
    let mut scrape_times = None;
    let scraped = match (scrape_url, before) {
        (Some(url), Some((before, first_scrape))) => {
            let after = scrape_histograms(url).await?;
            let at = scrape::Instants { first_scrape, run_start, run_end, second_scrape: now_ms() };
            scrape_times = Some((at.first_scrape, at.second_scrape));
            let mut window = BTreeMap::new();
            for (name, histogram) in &after {
                let earlier = before.get(name).cloned().unwrap_or_default();
                window.insert(name.clone(), histogram.window(&earlier, &at));
            }
            Some((url.to_string(), window))
        }
        _ => None,
    };
    // The run window goes into the summary, so `verify` of it judges the lag gates exactly
    // as `run` does.
    let mut document = outcome.summary.clone();
    if let (Some(target), Some(pushes)) = (&role.remote_write, &pushes) {
        for why in pushes.refused() {
            write_out(writeln!(out, "remote-write: {}", crate::escape::line(&why)))?;
        }
        document["gatecheck"]["remote_write"] = serde_json::json!({
            "url": crate::input::masked_url(&target.url),
            "pushes": pushes.pushes,
            "interval_seconds": target.every.as_secs_f64(),
            "refused": pushes.refused(),
        });
    }
    if role.demo {
        document["gatecheck"]["demo"] = serde_json::json!(true);
    }
    // Who this summary is among the runners of one run: `merge` checks it.
    document["gatecheck"]["shard"] =
        crate::load::summary::shard_json(&run_id, plan.segment, &scenario_digest.sha256, start, whole_plan);
    if let (Some((url, window)), Some(times)) = (&scraped, scrape_times) {
        let histograms: serde_json::Map<String, serde_json::Value> =
            // A histogram's name is the target's text too: scrubbed with every key (`encode`).
            window.iter().map(|(name, h)| (name.clone(), window_json(h))).collect();
        document["gatecheck"]["scraped"] = crate::load::summary::scraped_json(url, histograms, times);
    }
    let summary = crate::load::summary::encode(&document)?;
    let status = match &outcome.facts.partial {
        Some(reason) => format!("PARTIAL run: {reason}"),
        None => "complete run".to_string(),
    };
    let mut log = vec![header, format!("started at {}", outcome.facts.started_at)];
    log.extend(outcome.log_lines.iter().cloned());
    log.push(outcome.table.clone());
    log.push(format!("{status}, {:.1} s, {} requests", outcome.facts.elapsed_secs, outcome.recorder.requests()));
    log.push(format!("percentiles: {}", crate::load::summary::PERCENTILE_METHOD));
    // Paths are the user's text: one line each, like every other outside text.
    log.push(format!("summary: {}", crate::escape::line(&summary_path.display().to_string())));
    // The summary and its log are kept together or not at all: a summary beside a failed
    // write is never left for a later `verify` to take as this run's.
    let mut staged = crate::report::Staged::default();
    staged.stage(summary_path, &summary)?;
    staged.stage(log_path, (log.join("\n") + "\n").as_bytes())?;
    staged.commit()?;
    write_out(writeln!(out, "{}", outcome.table))?;
    write_out(writeln!(
        out,
        "{status}: {} requests in {:.1} s; summary {}, log {}",
        outcome.recorder.requests(),
        outcome.facts.elapsed_secs,
        crate::escape::line(&summary_path.display().to_string()),
        crate::escape::line(&log_path.display().to_string())
    ))?;
    Ok(SmokeResult {
        plan,
        summary_path: summary_path.to_path_buf(),
        partial: outcome.facts.partial,
        scraped,
        scenario_digest,
    })
}
