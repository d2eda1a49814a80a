//! A throwaway Prometheus for `gatecheck test`: OpenMetrics text backfilled into TSDB blocks with
//! `promtool tsdb create-blocks-from openmetrics`, then `prometheus` serving that storage on
//! 127.0.0.1 at a free port, scraping nothing. The same steps as the repository's fixture
//! script, in Rust so the binary does not depend on a script it does not ship. There is no
//! PromQL engine in Rust to embed, and a second evaluator would let a test pass that the real
//! server decides differently, so the real one is run.
//!
//! Dropping the handle kills the process and waits for it before its directory is removed, so
//! every path out (an error, a failed case, Ctrl-C dropping the future) cleans up.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to install when a binary is missing (one line, for the exit-2 error).
pub const INSTALL_HINT: &str =
    "install Prometheus (Debian/Ubuntu: apt-get install prometheus; else https://prometheus.io/download/) so `prometheus` and `promtool` are on PATH";

/// How long the server may take to load its blocks and answer /-/ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestPrometheus {
    // Fields drop in order: the process is gone before its directory is removed.
    _server: Running,
    pub url: String,
    _dir: tempfile::TempDir,
}

/// A started prometheus, killed and reaped on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first of `prometheus`, `promtool` that is not on PATH.
pub fn missing_binary() -> Option<&'static str> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["prometheus", "promtool"].into_iter().find(|name| {
        !std::env::split_paths(&path).any(|dir| {
            let candidate = dir.join(name);
            std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && is_executable(&m))
        })
    })
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

impl TestPrometheus {
    /// Backfills each OpenMetrics text (one promtool run each: promtool re-reads its whole input
    /// once per 2 h block range, so small inputs spanning little time stay fast) holding
    /// `samples` samples, then starts the server and waits until it is ready.
    /// With `receive`, the server also takes remote writes with native histograms (for what
    /// OpenMetrics cannot carry).
    pub async fn start(inputs: &[(String, usize)], receive: bool) -> Result<TestPrometheus, String> {
        if let Some(name) = missing_binary() {
            return Err(format!("`{name}` is not on PATH: {INSTALL_HINT}"));
        }
        let dir = tempfile::Builder::new()
            .prefix("gatecheck-test-prometheus.")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let data = dir.path().join("data");
        // promtool writes (and syncs) one block per 2 h range: a core each keeps it short. The
        // set aborts what still runs when dropped, and an aborted backfill kills its promtool.
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut running = tokio::task::JoinSet::new();
        for (index, (text, want)) in inputs.iter().enumerate() {
            if running.len() >= parallel {
                if let Some(done) = running.join_next().await {
                    done.map_err(|e| format!("promtool: {e}"))??;
                }
            }
            let (base, data, text, want) = (dir.path().to_path_buf(), data.clone(), text.clone(), *want);
            running.spawn(async move { backfill(&base, &data, index, &text, want).await });
        }
        while let Some(done) = running.join_next().await {
            done.map_err(|e| format!("promtool: {e}"))??;
        }
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\nscrape_configs: []\n")
            .map_err(|e| format!("{}: cannot write: {e}", config.display()))?;
        let log_path = dir.path().join("prometheus.log");
        // A port found free can be taken before prometheus binds it: then try another.
        for _ in 0..5 {
            let port = free_port()?;
            let mut running = Running(spawn(&config, &data, port, &log_path, receive)?);
            match wait_ready(&mut running.0, port, &log_path).await {
                Ok(()) => {
                    return Ok(TestPrometheus { _server: running, url: format!("http://127.0.0.1:{port}"), _dir: dir })
                }
                Err(Retry::Port) => continue,
                Err(Retry::No(why)) => return Err(why),
            }
        }
        Err("prometheus could not bind a free port on 127.0.0.1 in 5 attempts".into())
    }
}

enum Retry {
    Port,
    No(String),
}

async fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<(), Retry> {
    let started = Instant::now();
    loop {
        if ready(port) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("address already in use") {
                return Err(Retry::Port);
            }
            return Err(Retry::No(format!("prometheus exited ({status}) before it was ready: {}", last_line(&text))));
        }
        if started.elapsed() > READY_TIMEOUT {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            return Err(Retry::No(format!(
                "prometheus was not ready after {}s: {}",
                READY_TIMEOUT.as_secs(),
                last_line(&text)
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn backfill(dir: &Path, data: &Path, index: usize, text: &str, want: usize) -> Result<(), String> {
    let input = dir.join(format!("series-{index}.om"));
    std::fs::write(&input, text).map_err(|e| format!("{}: cannot write: {e}", input.display()))?;
    let (out_path, err_path) = (dir.join(format!("promtool-{index}.out")), dir.join(format!("promtool-{index}.err")));
    let create = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: cannot write: {e}", p.display()));
    let child = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(data)
        .stdin(Stdio::null())
        .stdout(create(&out_path)?)
        .stderr(create(&err_path)?)
        .spawn()
        .map_err(|e| format!("cannot run promtool: {e}"))?;
    // Polled rather than waited on, so Ctrl-C (which drops this future) kills it too.
    let mut running = Running(child);
    let status = loop {
        match running.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => return Err(format!("promtool: {e}")),
        }
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let said = format!("{stdout}{}", std::fs::read_to_string(&err_path).unwrap_or_default());
    if !status.success() {
        return Err(format!("promtool tsdb create-blocks-from openmetrics failed: {}", last_line(&said)));
    }
    // promtool drops out-of-order and duplicate samples without failing: count what it kept
    // (column 5 of its block table) so a test never runs on less evidence than it wrote.
    let got: usize =
        stdout.lines().skip(1).filter_map(|line| line.split_whitespace().nth(4)?.parse::<usize>().ok()).sum();
    if got != want {
        return Err(format!("promtool stored {got} of the {want} series samples written: {}", last_line(&said)));
    }
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

fn spawn(config: &Path, data: &Path, port: u16, log: &Path, receive: bool) -> Result<Child, String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: cannot write: {e}", log.display()))?;
    let err_file = log_file.try_clone().map_err(|e| format!("{}: cannot write: {e}", log.display()))?;
    let mut command = Command::new("prometheus");
    if receive {
        command.args(["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"]);
    }
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        // Retention counts back from the newest block: a short one would delete the earlier
        // cases' blocks at startup.
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start prometheus: {e}"))
}

/// GET /-/ready answers 200.
fn ready(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

fn last_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("(no output)").trim().to_string()
}
