//! The native load runner: a scenario file becomes a `LoadPlan`; workers (one per virtual
//! user per flow, each with its own connection and recorder) run until the duration, the
//! request cap, Ctrl-C or SIGTERM; recorders merge at the end into a k6-shaped summary (and,
//! when the run pushes live, workers hand what they recorded over every few seconds).
//!
//! Only loopback or hosts the user names are ever targeted; every run is bounded in time and
//! in requests and stops by itself.

pub mod client;
pub mod k6_script;
pub mod merge;
pub mod plan;
pub mod progress;
pub mod recorder;
pub mod remote_write;
// Segments are read back by every reader of a native summary (`sources::native_plan`).
pub use crate::sources::segment;
pub mod summary;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::Error;
use client::HttpClient;
use plan::{Executor, LoadPlan, Scheme};
use recorder::Recorder;
use summary::RunFacts;
use worker::RunState;

/// What a finished (or interrupted) run produced.
pub struct RunOutcome {
    pub summary: Value,
    pub table: String,
    pub log_lines: Vec<String>,
    pub recorder: Recorder,
    pub facts: RunFacts,
    /// The process was asked to stop (Ctrl-C, SIGTERM) before the run ended by itself.
    pub interrupted: bool,
}

/// Resolves when the process is asked to stop, naming how: Ctrl-C (SIGINT) or SIGTERM, which
/// CI runners and Kubernetes send on cancel and which must not lose the run's summary.
pub async fn interrupted() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            // Without a handler SIGTERM keeps its default action; Ctrl-C still works.
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => "Ctrl-C",
        _ = terminate => "SIGTERM",
    }
}

/// A live run publishes its totals so far on `totals` every `every` (for remote-write).
pub struct Live {
    pub every: Duration,
    pub totals: watch::Sender<Option<Recorder>>,
}

/// Ticks of the publishing clock; never, for a run that is not live.
async fn next_publish(clock: &mut Option<tokio::time::Interval>) {
    match clock {
        Some(clock) => {
            clock.tick().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Runs the plan. `interrupt` resolves, naming the signal, when the process is asked to stop:
/// workers stop within a second and the summary is still produced, marked partial.
pub async fn run(
    plan: LoadPlan,
    quiet: bool,
    interrupt: impl std::future::Future<Output = &'static str>,
    live: Option<Live>,
) -> Result<RunOutcome, Error> {
    let tls = match plan.target.scheme {
        Scheme::Https => Some(HttpClient::tls_client(plan.request_timeout).map_err(Error::Settings)?),
        Scheme::Http => None,
    };
    let started_wall = time::OffsetDateTime::now_utc();
    let started_at = crate::metrics::rfc3339(started_wall.unix_timestamp());
    let state = Arc::new(RunState::new(plan.clone(), Instant::now()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let vus_per_flow = match plan.executor {
        Executor::ConstantVus { vus } => vus,
        Executor::ConstantArrivalRate { max_vus, .. } => max_vus,
    };
    // Live runs: workers hand over what they recorded at start + k x every; the totals are
    // published a quarter period later, when those hand-overs have come in.
    let (deltas_tx, mut deltas) = tokio::sync::mpsc::unbounded_channel::<Recorder>();
    let mut publish_clock = live.as_ref().map(|live| {
        let mut clock = tokio::time::interval_at(state.start + live.every + live.every / 4, live.every);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        clock
    });
    let mut workers = tokio::task::JoinSet::new();
    for flow_index in 0..plan.flows.len() {
        for _ in 0..vus_per_flow {
            let client = HttpClient::new(&plan.target, plan.token.as_ref(), plan.request_timeout, tls.clone());
            let flush =
                live.as_ref().map(|live| worker::Flush::new(live.every, state.start + live.every, deltas_tx.clone()));
            workers.spawn(worker::run_worker(state.clone(), flow_index, client, stop_rx.clone(), flush));
        }
    }
    drop(deltas_tx);
    let progress = tokio::spawn(progress::show(state.clone(), stop_rx.clone(), quiet));

    // The run ends at its duration (plus the request timeout for the last answers), when every
    // worker is done (request cap), or on interrupt.
    let deadline = state.end + plan.request_timeout + Duration::from_secs(1);
    let mut merged = Recorder::new(&plan);
    let mut partial = None;
    let mut interrupted = false;
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            joined = workers.join_next() => match joined {
                Some(Ok(recorder)) => merged.merge(&recorder),
                Some(Err(e)) => return Err(Error::Settings(format!("a load worker failed: {e}"))),
                None => break,
            },
            Some(delta) = deltas.recv() => merged.merge(&delta),
            _ = next_publish(&mut publish_clock) => {
                if let Some(live) = &live {
                    live.totals.send_replace(Some(merged.clone()));
                }
            }
            signal = &mut interrupt, if partial.is_none() => {
                partial = Some(format!("interrupted ({signal})"));
                interrupted = true;
                let _ = stop_tx.send(true);
            }
            _ = tokio::time::sleep_until(deadline), if partial.is_none() => {
                partial = Some("stopped at the deadline with requests still in flight".to_string());
                let _ = stop_tx.send(true);
            }
        }
    }
    let _ = stop_tx.send(true);
    // Hand-overs sent before the last workers finished.
    while let Ok(delta) = deltas.try_recv() {
        merged.merge(&delta);
    }
    let log_lines = progress.await.unwrap_or_default();
    // The duration runs to the scheduled end at most (the drain of in-flight answers after it
    // is no part of the rate window), and `ended_at` is dated at the same moment: one figure
    // written twice, which `k6_summary::run_span` holds every reader to.
    // `ended_at` is the start's wall time plus the monotonic duration, never the wall clock read
    // again: a clock stepped during the run (NTP, a VM resynchronised) moved it seconds away
    // from `duration_s`, which the reader then rightly refused.
    let now = Instant::now();
    let ran = now.min(state.end).saturating_duration_since(state.start);
    let elapsed = ran.as_secs_f64().max(1e-3);
    let ended_at = crate::metrics::rfc3339((started_wall + ran).unix_timestamp());
    // A run that used its whole cap is partial even when no worker asked for one more: the
    // cap, not the plan, may have ended it, and its summary cannot tell (`sources::native_plan`).
    let cap_used = state.requests.load(std::sync::atomic::Ordering::Relaxed) >= plan.max_requests;
    if (cap_used || state.cap_reached.load(std::sync::atomic::Ordering::Relaxed)) && partial.is_none() {
        partial = Some(format!("request cap of {} reached before the duration", plan.max_requests));
    }
    if let Executor::ConstantArrivalRate { rate, .. } = plan.executor {
        // Every iteration that was due is recorded: the ones that never started wait from
        // their intended start (start + n / rate) until the end of the run.
        let run_end = state.end.min(Instant::now()).max(state.start);
        for (index, flow) in plan.flows.iter().enumerate() {
            // This segment's iterations among those due on the unsplit schedule: the count its
            // workers took tickets from (`worker::arrivals`), started or dropped.
            let due = state.arrivals[index];
            let dropped = due.saturating_sub(merged.flows[index].iterations);
            merged.flows[index].dropped_iterations = dropped;
            let begin = state.start + flow.start_after;
            for local in due - dropped..due {
                let n = plan.segment.iteration(local);
                let intended = begin + Duration::from_secs_f64(n as f64 / rate);
                merged.record_dropped(index, run_end.saturating_duration_since(intended));
            }
        }
    }
    // A run against gatecheck's own demo API is the demo's, whichever command ran it.
    let facts = RunFacts { elapsed_secs: elapsed, partial, started_at, ended_at, demo: merged.demo_target };
    // The gauge its plan gives, as every reader holds it (`sources::native_plan::vus_gauge`).
    let vus = crate::sources::native_plan::vus_gauge(&summary::executor_json(&plan.executor), plan.flows.len())
        .expect("a plan's executor records its VUs");
    let summary = summary::export(&plan, &merged, &facts, vus);
    let table = summary::table(&plan, &merged, &facts);
    Ok(RunOutcome { summary, table, log_lines, recorder: merged, facts, interrupted })
}
