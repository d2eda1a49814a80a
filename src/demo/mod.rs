//! The embedded reference API: the three core flows' endpoints behind bearer auth, with
//! seeded latency distributions, a simulated scheduler and task queue, and their histograms
//! and saturation gauges on `/metrics`. Serves on loopback only. `Break` makes one release
//! gate fail on purpose so users can see a red release.

pub mod bench_target;
mod exposition;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use exposition::{Gauge, Histogram};

/// Which gate the demo makes fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Break {
    /// Every 4th list request (25 %) takes about 520 ms: read-flow p95 breaches 400 ms.
    Latency,
    /// Every 20th search (5 %, the 3rd first) answers 500: write-flow errors and checks breach.
    Errors,
    /// Scheduler lag climbs to minutes: scheduler freshness breaches.
    Lag,
}

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub token: String,
    pub rule_id: String,
    pub broken: Option<Break>,
    pub seed: u64,
    /// Scales the rule-run endpoint's (the rule_poll flow's) latency: an injected regression
    /// for measuring the regression gates (1 = none).
    pub latency_factor: f64,
    /// Answers say they are the demo's (`x-gatecheck-demo`): off only when asked for
    /// (`demo --serve --as-candidate`).
    pub marked: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            token: "demo-token".into(),
            rule_id: "rule-0001".into(),
            broken: None,
            seed: 20240601,
            latency_factor: 1.0,
            marked: true,
        }
    }
}

const LATENCY_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const SCHEDULER_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 15.0, 30.0, 45.0, 60.0, 120.0, 180.0, 300.0];
const QUEUE_BUCKETS: &[f64] = &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

struct Target {
    config: DemoConfig,
    rng: Mutex<SmallRng>,
    requests: AtomicU64,
    lists: AtomicU64,
    searches: AtomicU64,
    request_latency: Histogram,
    scheduler_lag: Histogram,
    queue_lag: Histogram,
    backlog: Gauge,
    db_utilization: Gauge,
}

impl Target {
    fn uniform(&self) -> f64 {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).random::<f64>()
    }

    /// A lognormal sample with the given median (ms) and shape, by Box-Muller.
    fn lognormal_ms(&self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * normal).exp()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| token == self.config.token)
    }

    async fn respond(
        &self,
        method: &str,
        path: &str,
        median_ms: f64,
        status: StatusCode,
        body: serde_json::Value,
    ) -> Response {
        let delay = self.lognormal_ms(median_ms, 0.3).min(5_000.0);
        tokio::time::sleep(Duration::from_secs_f64(delay / 1000.0)).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let labels = format!("method=\"{method}\",path=\"{path}\",status_code=\"{}\"", status.as_u16());
        self.request_latency.observe(&labels, delay / 1000.0);
        (status, Json(body)).into_response()
    }
}

type Shared = Arc<Target>;

async fn list(State(target): State<Shared>, headers: HeaderMap, path: &'static str, median: f64) -> Response {
    if !target.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // Deterministic, so even a short demo shows the breach. One in 4, not 8: split over two
    // list flows of ~25 requests each, one in 8 could leave a flow a single slow request.
    let nth = target.lists.fetch_add(1, Ordering::Relaxed);
    let median = if target.config.broken == Some(Break::Latency) && nth % 4 == 3 { 520.0 } else { median };
    target.respond("GET", path, median, StatusCode::OK, json!({"items": [], "limit": 20})).await
}

async fn watch_rules(state: State<Shared>, headers: HeaderMap) -> Response {
    list(state, headers, "/api/watch-rules", 35.0).await
}

async fn watch_releases(state: State<Shared>, headers: HeaderMap) -> Response {
    list(state, headers, "/api/watch-releases", 45.0).await
}

async fn rule_run(State(target): State<Shared>, Path(rule_id): Path<String>, headers: HeaderMap) -> Response {
    if !target.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if rule_id != target.config.rule_id {
        return target
            .respond(
                "POST",
                "/api/dev/rules/{rule_id}/run",
                5.0,
                StatusCode::NOT_FOUND,
                json!({"error": "no such rule"}),
            )
            .await;
    }
    target
        .respond(
            "POST",
            "/api/dev/rules/{rule_id}/run",
            150.0 * target.config.latency_factor,
            StatusCode::OK,
            json!({"rule_id": rule_id, "matches": 3}),
        )
        .await
}

async fn search(State(target): State<Shared>, headers: HeaderMap, body: Option<Json<serde_json::Value>>) -> Response {
    if !target.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let valid = body.as_ref().is_some_and(|Json(b)| b.get("keywords").is_some_and(|k| k.is_array()));
    if !valid {
        return target
            .respond("POST", "/api/search", 2.0, StatusCode::BAD_REQUEST, json!({"error": "keywords must be a list"}))
            .await;
    }
    let nth = target.searches.fetch_add(1, Ordering::Relaxed);
    let status = if target.config.broken == Some(Break::Errors) && nth % 20 == 2 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    target.respond("POST", "/api/search", 70.0, status, json!({"results": [], "page": 1})).await
}

async fn metrics(State(target): State<Shared>) -> Response {
    let mut text = String::new();
    target.request_latency.render(&mut text);
    target.scheduler_lag.render(&mut text);
    target.queue_lag.render(&mut text);
    target.backlog.render(&mut text);
    target.db_utilization.render(&mut text);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The Celery queues the simulated workers take tasks from.
const QUEUES: [&str; 2] = ["default", "reports"];

/// The simulated scheduler and queue: every 20 ms a rule execution and two task starts are
/// observed with seeded lags; gauges follow the request load.
async fn simulate(target: Shared) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        let scheduler = if target.config.broken == Some(Break::Lag) {
            target.lognormal_ms(90_000.0, 0.4) / 1000.0
        } else {
            target.lognormal_ms(2_500.0, 0.6) / 1000.0
        };
        target.scheduler_lag.observe("", scheduler);
        for queue in QUEUES {
            target.queue_lag.observe(&format!("queue=\"{queue}\""), target.lognormal_ms(600.0, 0.7) / 1000.0);
        }
        let load = (target.requests.load(Ordering::Relaxed) % 1000) as f64 / 1000.0;
        target.backlog.set("channel=\"email\"", 40.0 + 60.0 * load);
        target.backlog.set("channel=\"realtime\"", 150.0 + 100.0 * load);
        target.db_utilization.set("", 0.25 + 0.2 * load);
    }
}

/// Every answer says it is the demo's: a run that loads this API is never a candidate's run.
async fn mark_as_demo(mut response: Response) -> Response {
    response.headers_mut().insert(crate::load::client::DEMO_TARGET_HEADER, axum::http::HeaderValue::from_static("1"));
    response
}

/// Serves the demo target on `listener` until the returned task is aborted.
pub fn serve(listener: tokio::net::TcpListener, config: DemoConfig) -> tokio::task::JoinHandle<()> {
    let target = Arc::new(Target {
        rng: Mutex::new(SmallRng::seed_from_u64(config.seed)),
        config,
        requests: AtomicU64::new(0),
        lists: AtomicU64::new(0),
        searches: AtomicU64::new(0),
        request_latency: Histogram::new("waxwatch_request_latency_seconds", "HTTP request latency.", LATENCY_BUCKETS),
        scheduler_lag: Histogram::new("waxwatch_scheduler_lag_seconds", "Scheduler freshness lag.", SCHEDULER_BUCKETS),
        queue_lag: Histogram::new(
            "celery_task_queue_lag_seconds",
            "Time a Celery task waited in its queue.",
            QUEUE_BUCKETS,
        ),
        backlog: Gauge::new("waxwatch_notification_backlog_items", "Items waiting per notification channel."),
        db_utilization: Gauge::new("waxwatch_db_connection_utilization", "Fraction of DB pool connections in use."),
    });
    // The lag histograms are registered with their label sets, so the run's first scrape reads them.
    target.scheduler_lag.register("");
    for queue in QUEUES {
        target.queue_lag.register(&format!("queue=\"{queue}\""));
    }
    let app = Router::new()
        .route("/api/watch-rules", get(watch_rules))
        .route("/api/watch-releases", get(watch_releases))
        .route("/api/dev/rules/{rule_id}/run", post(rule_run))
        .route("/api/search", post(search))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(target.clone());
    let app = if target.config.marked { app.layer(axum::middleware::map_response(mark_as_demo)) } else { app };
    tokio::spawn(async move {
        let simulation = tokio::spawn(simulate(target));
        let _ = axum::serve(listener, app).await;
        simulation.abort();
    })
}
