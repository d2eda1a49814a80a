//! A minimal HTTP/1 target for benchmarks: one current-thread runtime, `GET /` answers 200
//! with a tiny body. With a delay mix it sleeps a seeded delay per request and keeps its own
//! timing (request parsed to response ready) in an HDR histogram: the truth that a load
//! generator's percentiles are compared against.

use std::convert::Infallible;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::Error;

/// "90:10ms,9:50ms,1:200ms" -> cumulative (percent, delay) steps.
fn parse_mix(text: &str) -> Result<Vec<(f64, Duration)>, Error> {
    let bad = |why: String| Error::Settings(format!("--delay-mix {text:?}: {why}"));
    let mut steps = Vec::new();
    let mut total = 0.0;
    for part in text.split(',') {
        let (percent, delay) = part.split_once(':').ok_or_else(|| bad(format!("{part:?} is not PERCENT:DELAY")))?;
        let percent: f64 = percent.trim().parse().map_err(|_| bad(format!("{percent:?} is not a percentage")))?;
        let delay = crate::metrics::clock::parse_duration(delay).map_err(|e| bad(format!("{delay:?}: {e}")))?;
        total += percent;
        steps.push((total, delay));
    }
    if (total - 100.0).abs() > 1e-9 {
        return Err(bad(format!("the percentages add up to {total}, not 100")));
    }
    Ok(steps)
}

pub async fn serve(
    port: u16,
    delay_mix: Option<&str>,
    truth_out: Option<&Path>,
    body_bytes: usize,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mix = delay_mix.map(parse_mix).transpose()?;
    let body = Bytes::from(vec![b'x'; body_bytes]);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Error::Settings(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let address = listener.local_addr().map_err(|e| Error::Settings(e.to_string()))?;
    let _ = writeln!(out, "listening on http://{address}");
    let _ = out.flush();
    let truth = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("static bounds")));
    let rng = Arc::new(Mutex::new(SmallRng::seed_from_u64(7)));
    let mix = Arc::new(mix);
    let accept = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let (truth, rng, mix, body) = (truth.clone(), rng.clone(), mix.clone(), body.clone());
            tokio::spawn(async move {
                let service = service_fn(move |_request: hyper::Request<hyper::body::Incoming>| {
                    let (truth, rng, mix, body) = (truth.clone(), rng.clone(), mix.clone(), body.clone());
                    async move {
                        if let Some(steps) = mix.as_ref() {
                            let started = Instant::now();
                            let draw = rng.lock().unwrap_or_else(|e| e.into_inner()).random::<f64>() * 100.0;
                            let delay = steps
                                .iter()
                                .find(|(upto, _)| draw < *upto)
                                .map(|(_, d)| *d)
                                .unwrap_or(steps[steps.len() - 1].1);
                            tokio::time::sleep(delay).await;
                            let micros = started.elapsed().as_micros() as u64;
                            let _ = truth.lock().unwrap_or_else(|e| e.into_inner()).record(micros.max(1));
                        }
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(body)))
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    };
    let stop = async {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! {
        _ = accept => {}
        _ = stop => {}
    }
    if let Some(path) = truth_out {
        let h = truth.lock().unwrap_or_else(|e| e.into_inner());
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        let text = serde_json::json!({
            "count": h.len(), "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99), "p99.9_ms": ms(0.999),
            "method": "server-side timing per request, HDR 3 significant digits, value at quantile"
        });
        crate::report::write_atomically(path, text.to_string().as_bytes())?;
    }
    Ok(())
}
