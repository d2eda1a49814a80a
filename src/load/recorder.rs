//! Per-worker measurements: one HDR histogram per endpoint (fixed memory whatever the run's
//! length), counters per flow, errors by kind. Each worker owns its recorder; recorders are
//! merged once at the end, so the hot path takes no lock.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::load::plan::LoadPlan;

/// Highest latency recorded exactly (µs); slower requests are clamped to it and counted.
pub const MAX_MICROS: u64 = crate::metrics::hdr::MAX_MICROS;

/// Why a request failed at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    Connect,
    Timeout,
    Reset,
    Protocol,
    /// Open model: an iteration that was due but never started (no worker was free).
    Dropped,
    /// A 3xx the request did not expect: the runner never follows one (the token would go
    /// with it), so the request got no answer from the API.
    Redirect,
    /// Sent, but the run stopped (Ctrl-C, SIGTERM, the deadline) before the answer came.
    Interrupted,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Dropped => "dropped",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// Every kind, in the order summaries list them.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Protocol,
        ErrorKind::Dropped,
        ErrorKind::Redirect,
        ErrorKind::Interrupted,
    ];

    /// The kind a summary names; None for a name this version does not write.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// What one request did.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: Option<u16>,
    pub error: Option<ErrorKind>,
    pub bytes_received: u64,
    /// The check (status, and JSON field when asked) passed.
    pub check_passed: bool,
    /// The answer came from gatecheck's built-in demo API (`client::DEMO_TARGET_HEADER`).
    pub demo_target: bool,
}

impl Exchange {
    /// A request the run's stop cut off before its answer.
    pub fn interrupted() -> Exchange {
        Exchange {
            status: None,
            error: Some(ErrorKind::Interrupted),
            bytes_received: 0,
            check_passed: false,
            demo_target: false,
        }
    }

    /// k6's `http_req_failed`: a transport error or a status outside 200..=399.
    pub fn failed(&self) -> bool {
        self.error.is_some() || !self.status.is_some_and(|s| (200..400).contains(&s))
    }
}

#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// Latency in microseconds.
    pub latency: Histogram<u64>,
    pub requests: u64,
    pub failed: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
    /// Non-2xx/3xx answers and unexpected redirects by status code.
    pub statuses: BTreeMap<u16, u64>,
}

#[derive(Debug, Clone, Default)]
pub struct FlowStats {
    pub endpoints: Vec<EndpointStats>,
    pub iterations: u64,
    /// Open model: iterations that started after their intended time (no worker was free).
    pub late_iterations: u64,
    /// Open model: iterations that never started before the run ended.
    pub dropped_iterations: u64,
}

#[derive(Debug, Clone)]
pub struct Recorder {
    pub flows: Vec<FlowStats>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes_received: u64,
    /// Requests slower than the histogram's range (recorded at its maximum).
    pub clamped: u64,
    /// Some answer came from gatecheck's built-in demo API: the run is the demo's, whichever
    /// command ran it (`run`, `smoke` against `demo --serve`), never a candidate's.
    pub demo_target: bool,
}

impl Recorder {
    pub fn new(plan: &LoadPlan) -> Recorder {
        let flows = plan
            .flows
            .iter()
            .map(|flow| FlowStats {
                endpoints: flow
                    .requests
                    .iter()
                    .map(|_| EndpointStats {
                        latency: Histogram::new_with_bounds(1, MAX_MICROS, 3)
                            .expect("static histogram bounds are valid"),
                        requests: 0,
                        failed: 0,
                        checks_passed: 0,
                        checks_failed: 0,
                        statuses: BTreeMap::new(),
                    })
                    .collect(),
                ..FlowStats::default()
            })
            .collect();
        Recorder { flows, errors: BTreeMap::new(), bytes_received: 0, clamped: 0, demo_target: false }
    }

    pub fn record(&mut self, flow: usize, endpoint: usize, latency: Duration, exchange: &Exchange) {
        let stats = &mut self.flows[flow].endpoints[endpoint];
        let micros = (latency.as_micros() as u64).max(1);
        if micros > MAX_MICROS {
            self.clamped += 1;
        }
        stats.latency.saturating_record(micros.min(MAX_MICROS));
        stats.requests += 1;
        if exchange.failed() {
            stats.failed += 1;
        }
        if exchange.check_passed {
            stats.checks_passed += 1;
        } else {
            stats.checks_failed += 1;
        }
        let redirected = exchange.error == Some(ErrorKind::Redirect);
        if let Some(status) = exchange.status.filter(|s| redirected || !(200..400).contains(s)) {
            *stats.statuses.entry(status).or_default() += 1;
        }
        if let Some(kind) = exchange.error {
            *self.errors.entry(kind).or_default() += 1;
        }
        self.bytes_received += exchange.bytes_received;
        self.demo_target |= exchange.demo_target;
    }

    /// Adds another worker's measurements (same plan) into this one.
    pub fn merge(&mut self, other: &Recorder) {
        for (mine, theirs) in self.flows.iter_mut().zip(&other.flows) {
            for (a, b) in mine.endpoints.iter_mut().zip(&theirs.endpoints) {
                a.latency.add(&b.latency).expect("histograms share bounds");
                a.requests += b.requests;
                a.failed += b.failed;
                a.checks_passed += b.checks_passed;
                a.checks_failed += b.checks_failed;
                for (status, count) in &b.statuses {
                    *a.statuses.entry(*status).or_default() += count;
                }
            }
            mine.iterations += theirs.iterations;
            mine.late_iterations += theirs.late_iterations;
            mine.dropped_iterations += theirs.dropped_iterations;
        }
        for (kind, count) in &other.errors {
            *self.errors.entry(*kind).or_default() += count;
        }
        self.bytes_received += other.bytes_received;
        self.clamped += other.clamped;
        self.demo_target |= other.demo_target;
    }

    /// Records an open-model iteration that never started: each of its requests counts as a
    /// failed request of kind `dropped`, waiting from its intended start to the end of the run,
    /// so a stalled server shows in the error rate and the percentiles (coordinated omission).
    pub fn record_dropped(&mut self, flow: usize, waited: Duration) {
        let micros = (waited.as_micros() as u64).clamp(1, MAX_MICROS);
        let endpoints = self.flows[flow].endpoints.len() as u64;
        for stats in &mut self.flows[flow].endpoints {
            stats.latency.saturating_record(micros);
            stats.requests += 1;
            stats.failed += 1;
            stats.checks_failed += 1;
        }
        *self.errors.entry(ErrorKind::Dropped).or_default() += endpoints;
    }

    /// Nothing recorded yet (no request, no iteration).
    pub fn is_empty(&self) -> bool {
        self.requests() == 0 && self.flows.iter().all(|f| f.iterations == 0 && f.late_iterations == 0)
    }

    pub fn requests(&self) -> u64 {
        self.flows.iter().flat_map(|f| &f.endpoints).map(|e| e.requests).sum()
    }
}

impl Recorder {
    /// The measurements with every histogram serialized (V2 + deflate, base64), so runs can be
    /// merged later without losing precision.
    pub fn to_json(&self, plan: &LoadPlan) -> serde_json::Value {
        use base64::Engine;
        use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
        let flows: Vec<serde_json::Value> = plan
            .flows
            .iter()
            .zip(&self.flows)
            .map(|(flow, stats)| {
                let endpoints: Vec<serde_json::Value> = flow
                    .requests
                    .iter()
                    .zip(&stats.endpoints)
                    .map(|(request, endpoint)| {
                        let mut bytes = Vec::new();
                        V2DeflateSerializer::new().serialize(&endpoint.latency, &mut bytes).expect("serializing into a Vec");
                        serde_json::json!({
                            "name": request.name,
                            "method": request.method.as_str(),
                            "check": request.check,
                            "requests": endpoint.requests,
                            "failed": endpoint.failed,
                            "checks_passed": endpoint.checks_passed,
                            "checks_failed": endpoint.checks_failed,
                            "statuses": endpoint.statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
                            "histogram_us": base64::engine::general_purpose::STANDARD.encode(bytes),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": flow.name,
                    "iterations": stats.iterations,
                    "late_iterations": stats.late_iterations,
                    "dropped_iterations": stats.dropped_iterations,
                    "endpoints": endpoints,
                })
            })
            .collect();
        serde_json::json!({
            "flows": flows,
            "errors": self.errors.iter().map(|(k, v)| (k.name().to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "bytes_received": self.bytes_received,
            "clamped": self.clamped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn every_kind_written_is_read_back() {
        // merge reads summaries through `parse`: a kind missing there would be refused. The
        // match makes a new kind a compile error here until it is in ALL.
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(kind.name()), Some(kind));
            let position = match kind {
                ErrorKind::Connect => 0,
                ErrorKind::Timeout => 1,
                ErrorKind::Reset => 2,
                ErrorKind::Protocol => 3,
                ErrorKind::Dropped => 4,
                ErrorKind::Redirect => 5,
                ErrorKind::Interrupted => 6,
            };
            assert_eq!(ErrorKind::ALL[position], kind);
        }
        assert_eq!(ErrorKind::parse("gremlins"), None);
    }
}
