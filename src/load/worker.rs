//! One loop for every executor: a worker runs its flow's iterations until the run's end, a
//! stop request (Ctrl-C) or the request cap, recording into its own recorder.
//!
//! Closed model: iteration, sleep, iteration. Open model: iteration n is due at
//! start + n / rate; a worker takes the next due ticket, and the first request's latency counts
//! from that intended start, so a stalled server shows in the percentiles instead of silently
//! slowing the load (coordinated omission).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::load::client::HttpClient;
use crate::load::plan::{Executor, LoadPlan};
use crate::load::recorder::{Exchange, Recorder};

/// Shared, lock-free state of one run.
pub struct RunState {
    pub plan: LoadPlan,
    pub start: Instant,
    pub end: Instant,
    /// Requests started, for the cap and the progress display.
    pub requests: AtomicU64,
    pub failed: AtomicU64,
    /// Next open-model ticket per flow (this segment's own count).
    pub tickets: Vec<AtomicU64>,
    /// Per flow, the open-model arrivals this segment's plan schedules (`arrivals`): the
    /// tickets its workers may take, and what the run records as started or dropped.
    pub arrivals: Vec<u64>,
    pub cap_reached: AtomicBool,
}

impl RunState {
    pub fn new(plan: LoadPlan, start: Instant) -> RunState {
        let tickets = plan.flows.iter().map(|_| AtomicU64::new(0)).collect();
        let end = start + plan.duration;
        let arrivals = plan.flows.iter().map(|flow| arrivals(&plan, flow)).collect();
        RunState {
            plan,
            start,
            end,
            requests: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            tickets,
            arrivals,
            cap_reached: AtomicBool::new(false),
        }
    }

    /// Claims one request under the cap.
    fn take_request(&self) -> bool {
        let taken = self.requests.fetch_add(1, Ordering::Relaxed) < self.plan.max_requests;
        if !taken {
            self.requests.fetch_sub(1, Ordering::Relaxed);
            self.cap_reached.store(true, Ordering::Relaxed);
        }
        taken
    }
}

/// The arrivals `plan` schedules for `flow` over the run's planned duration from the flow's
/// start (`Segment::arrivals_due`, which every reader holds the summary to); none in the closed
/// model.
pub fn arrivals(plan: &LoadPlan, flow: &crate::load::plan::FlowPlan) -> u64 {
    match plan.executor {
        Executor::ConstantVus { .. } => 0,
        Executor::ConstantArrivalRate { rate, .. } => plan.segment.arrivals_due(plan.duration, flow.start_after, rate),
    }
}

/// Waits until `deadline`; false when a stop came first.
async fn wait_until(deadline: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(deadline) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

/// Live runs: every `every` a worker hands what it recorded since its last hand-over to the
/// run, which keeps the totals so far; the hot path stays lock-free (one clock read per
/// iteration), and the deltas and the worker's remainder add up to exactly what it recorded.
pub struct Flush {
    every: Duration,
    next: Instant,
    deltas: mpsc::UnboundedSender<Recorder>,
}

impl Flush {
    pub fn new(every: Duration, first: Instant, deltas: mpsc::UnboundedSender<Recorder>) -> Flush {
        Flush { every, next: first, deltas }
    }

    /// Hands the recorder's contents over when a hand-over is due and there is something.
    fn hand_over(&mut self, recorder: &mut Recorder, plan: &LoadPlan) {
        let now = Instant::now();
        if now < self.next {
            return;
        }
        while self.next <= now {
            self.next += self.every;
        }
        if recorder.is_empty() {
            return;
        }
        let delta = std::mem::replace(recorder, Recorder::new(plan));
        // The run keeps its side open until every worker is done; should it not, nothing is lost.
        if let Err(mpsc::error::SendError(delta)) = self.deltas.send(delta) {
            recorder.merge(&delta);
        }
    }
}

/// As `wait_until`, handing measurements over whenever a hand-over falls due meanwhile.
async fn wait_handing_over(
    deadline: Instant,
    stop: &mut watch::Receiver<bool>,
    flush: &mut Option<Flush>,
    recorder: &mut Recorder,
    plan: &LoadPlan,
) -> bool {
    loop {
        let wake = match flush {
            Some(flush) if flush.next < deadline => flush.next,
            _ => deadline,
        };
        if !wait_until(wake, stop).await {
            return false;
        }
        if let Some(flush) = flush {
            flush.hand_over(recorder, plan);
        }
        if wake >= deadline {
            return true;
        }
    }
}

pub async fn run_worker(
    state: Arc<RunState>,
    flow_index: usize,
    mut client: HttpClient,
    mut stop: watch::Receiver<bool>,
    mut flush: Option<Flush>,
) -> Recorder {
    let plan = &state.plan;
    let flow = &plan.flows[flow_index];
    let mut recorder = Recorder::new(plan);
    let begin = state.start + flow.start_after;
    if begin >= state.end || !wait_until(begin, &mut stop).await {
        return recorder;
    }
    'iterations: loop {
        let intended = match plan.executor {
            Executor::ConstantVus { .. } => None,
            Executor::ConstantArrivalRate { rate, .. } => {
                // This segment's next iteration on the unsplit schedule (n mod N == I), among
                // the arrivals its plan schedules: no more start than the summary records.
                let local = state.tickets[flow_index].fetch_add(1, Ordering::Relaxed);
                if local >= state.arrivals[flow_index] {
                    break;
                }
                let due = begin + Duration::from_secs_f64(plan.segment.iteration(local) as f64 / rate);
                if due > Instant::now() {
                    if !wait_handing_over(due, &mut stop, &mut flush, &mut recorder, plan).await {
                        break;
                    }
                } else if Instant::now() - due > Duration::from_millis(1) {
                    recorder.flows[flow_index].late_iterations += 1;
                }
                Some(due)
            }
        };
        if Instant::now() >= state.end || *stop.borrow() {
            break;
        }
        for (index, request) in flow.requests.iter().enumerate() {
            if !state.take_request() {
                break 'iterations;
            }
            let sent = Instant::now();
            // The iteration's first request waits from its intended start in the open model.
            let from = if index == 0 { intended.unwrap_or(sent) } else { sent };
            let exchange = tokio::select! {
                exchange = client.execute(request) => exchange,
                _ = stop.changed() => {
                    // Sent, and cut by the stop (Ctrl-C, SIGTERM, the deadline): the target saw
                    // it, so it counts, failed, with the time it had waited.
                    state.failed.fetch_add(1, Ordering::Relaxed);
                    recorder.record(flow_index, index, from.elapsed(), &Exchange::interrupted());
                    break 'iterations;
                }
            };
            if exchange.failed() {
                state.failed.fetch_add(1, Ordering::Relaxed);
            }
            recorder.record(flow_index, index, from.elapsed(), &exchange);
        }
        recorder.flows[flow_index].iterations += 1;
        if let Some(flush) = &mut flush {
            flush.hand_over(&mut recorder, plan);
        }
        if !flow.sleep.is_zero() && intended.is_none() {
            let wake = (Instant::now() + flow.sleep).min(state.end);
            if !wait_handing_over(wake, &mut stop, &mut flush, &mut recorder, plan).await {
                break;
            }
        }
    }
    recorder
}
