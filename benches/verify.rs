//! Benchmark: how long `verify` takes on a real 3-flow k6 summary, against a 20 ms budget.
//!
//! Measures the library pipeline in-process (read + parse summary, load policy, read env,
//! evaluate, render the table) and the whole binary as CI runs it (process start to exit).
//! Run with `cargo bench --bench verify`. Under `cargo test --benches` it runs each path once,
//! as a smoke test, and prints no timings.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gatecheck::policy::evaluate::{evaluate, Evidence};

const BUDGET: Duration = Duration::from_millis(20);
const LAG: [(&str, &str); 4] = [
    ("SCHEDULER_LAG_P95_SECONDS", "12"),
    ("SCHEDULER_LAG_MAX_SECONDS", "45"),
    ("QUEUE_LAG_P95_SECONDS", "3"),
    ("QUEUE_LAG_P99_SECONDS", "8"),
];

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let summary = root.join("fixtures/k6/1.1.0/fail-errors/summary-export.json");
    let policy_path = root.join("gates/release.toml");
    let (library_runs, process_runs) = if measuring { (2000, 60) } else { (1, 1) };

    let lookup = |name: &str| Ok(LAG.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()));
    let mut rows = 0;
    let library = time_runs(library_runs, || {
        let policy = gatecheck::policy::load_file(&policy_path).unwrap();
        let evidence = Evidence {
            summary: Some(gatecheck::sources::k6_summary::read(&summary).unwrap()),
            env: gatecheck::sources::env::read_figures(&policy, &lookup).unwrap(),
            flows: gatecheck::sources::env::read_flows(&policy, &[], &lookup).unwrap(),
            ..Evidence::default()
        };
        let verdict = evaluate(&policy, &evidence).unwrap();
        // As standard output prints it: through its line writer, the only writer it takes.
        let mut out = Vec::with_capacity(16 * 1024);
        gatecheck::report::table::render(
            &verdict,
            &Default::default(),
            &mut gatecheck::escape::ScrubbedLines::new(&mut out),
        )
        .unwrap();
        assert!(verdict.blocked(), "fail-errors must block");
        rows = verdict.rows.len();
    });

    let binary = env!("CARGO_BIN_EXE_gatecheck");
    let process = time_runs(process_runs, || {
        let status = Command::new(binary)
            .current_dir(root)
            .env_clear()
            .envs(LAG)
            .args(["verify", "--summary"])
            .arg(&summary)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "fail-errors exits 1");
    });

    if !measuring {
        println!("verify bench: smoke run ok (use `cargo bench --bench verify` for timings)");
        return;
    }
    let size = std::fs::metadata(&summary).map(|m| m.len()).unwrap_or(0);
    println!("verify on a real k6 1.1.0 --summary-export ({size} bytes, 3 flows, {rows} rows), budget {BUDGET:?}");
    report("in-process pipeline", &library);
    report("gatecheck process (spawn to exit)", &process);
}

fn time_runs(runs: usize, mut body: impl FnMut()) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            body();
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn report(label: &str, times: &[Duration]) {
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let median = pick(0.5);
    let p95 = pick(0.95);
    println!(
        "  {label:<36} runs {:>5}  median {:>9.3?}  p95 {:>9.3?}  max {:>9.3?}  median/budget {:.3}",
        times.len(),
        median,
        p95,
        times[times.len() - 1],
        median.as_secs_f64() / BUDGET.as_secs_f64()
    );
}
