//! Progress while the load runs: an indicatif bar on a terminal, otherwise a plain line every
//! few seconds (CI logs). Reads the run's atomic counters; never touches the hot path.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::load::worker::RunState;

/// Shows progress until `stop` flips or the run ends; returns the plain lines it printed.
pub async fn show(state: Arc<RunState>, mut stop: watch::Receiver<bool>, quiet: bool) -> Vec<String> {
    let total = state.plan.duration;
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total.as_millis() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut lines = Vec::new();
    let mut next_line = state.start + Duration::from_secs(5);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.start);
        let requests = state.requests.load(Ordering::Relaxed);
        let failed = state.failed.load(Ordering::Relaxed);
        let rate = requests as f64 / elapsed.as_secs_f64().max(1e-3);
        let message = format!("{requests} requests, {failed} failed, {rate:.1} req/s");
        if let Some(bar) = &bar {
            bar.set_position(elapsed.min(total).as_millis() as u64);
            bar.set_message(message.clone());
        } else if now >= next_line {
            let line = format!("[{:>5.1}s/{}s] {message}", elapsed.as_secs_f64(), total.as_secs());
            if !quiet {
                eprintln!("{line}");
            }
            lines.push(line);
            next_line += Duration::from_secs(5);
        }
        if now >= state.end {
            break;
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    lines
}
