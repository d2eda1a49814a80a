//! Hostile inputs: paths that are not files, URLs with credentials, duplicate JSON keys, files
//! far larger than their figures, re-serialized raw results, crafted histograms.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file system entry.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

fn refused_at_once(mut cmd: assert_cmd::Command, path: &Path) {
    let assert = cmd.timeout(Duration::from_secs(10)).assert().code(2);
    let err = stderr_of(&assert);
    assert!(err.contains(&path.display().to_string()) && err.contains("expected a regular file"), "{err}");
}

#[test]
fn a_fifo_or_a_directory_as_an_input_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("k6-summary.json");
    mkfifo(&fifo);
    let raw_fifo = dir.path().join("raw.ndjson");
    mkfifo(&raw_fifo);
    let summary = fixture("k6/1.1.0/pass/summary-export.json");

    let mut cmd = gatecheck_with_lag();
    cmd.args(["verify", "--summary"]).arg(&fifo);
    refused_at_once(cmd, &fifo);
    let mut cmd = gatecheck_with_lag();
    cmd.args(["verify", "--summary"]).arg(dir.path());
    refused_at_once(cmd, dir.path());
    let mut cmd = gatecheck_with_lag();
    cmd.args(["verify", "--summary"]).arg(&summary).arg("--raw").arg(&raw_fifo);
    refused_at_once(cmd, &raw_fifo);
    let mut cmd = gatecheck_with_lag();
    cmd.args(["verify", "--summary"]).arg(&summary).arg("--baseline").arg(&fifo);
    refused_at_once(cmd, &fifo);
    let mut cmd = gatecheck_with_lag();
    cmd.args(["verify", "--summary"]).arg(&summary).arg("--policy").arg(&fifo);
    refused_at_once(cmd, &fifo);
    let mut cmd = gatecheck_with_lag();
    cmd.arg("--config").arg(&fifo).args(["verify", "--summary"]).arg(&summary);
    refused_at_once(cmd, &fifo);
    let mut cmd = gatecheck();
    cmd.env("PERF_BEARER_TOKEN", DEMO_TOKEN).args(["smoke", "--scenario"]).arg(&fifo);
    refused_at_once(cmd, &fifo);
    let mut cmd = gatecheck();
    cmd.args(["merge", "--out"]).arg(dir.path().join("m.json")).arg(&fifo).arg(&summary);
    refused_at_once(cmd, &fifo);
}

#[test]
fn a_summary_can_come_from_standard_input() {
    let summary = std::fs::read(fixture("k6/1.1.0/pass/summary-export.json")).unwrap();
    gatecheck_with_lag().args(["verify", "--summary", "-"]).write_stdin(summary).assert().code(0);
}

#[test]
fn credentials_in_any_url_are_refused_and_never_shown() {
    const PASSWORD: &str = "pw-0f1e2d3c";
    let dir = tempfile::tempdir().unwrap();
    let smoke = |base_url: &str| {
        let mut cmd = gatecheck();
        cmd.env("PERF_BASE_URL", base_url)
            .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
            .env("PERF_RULE_ID", DEMO_RULE)
            .args(["smoke", "--quiet", "--duration", "3s", "--summary-out"])
            .arg(dir.path().join("s.json"))
            .arg("--log-out")
            .arg(dir.path().join("l.log"));
        cmd
    };
    let scrape = format!("http://metrics:{PASSWORD}@127.0.0.1:1/metrics");
    for (mut cmd, flag) in [
        (smoke("http://127.0.0.1:1"), "--scrape-url"),
        (smoke(&format!("http://user:{PASSWORD}@127.0.0.1:1")), "base URL"),
    ] {
        if flag == "--scrape-url" {
            cmd.args(["--scrape-url", &scrape]);
        }
        let assert = cmd.assert().code(2);
        let output = format!("{}{}", stdout_of(&assert), stderr_of(&assert));
        // A base URL filled from a variable holding `user:password@` is a credential by the
        // value's shape, refused as one, naming the variable (finding round32-text/01).
        let refused = if flag == "base URL" {
            output.contains("${PERF_BASE_URL}: the variable's value reads as a credential")
        } else {
            output.contains("credentials do not belong in the URL") && output.contains(flag)
        };
        assert!(refused, "{output}");
        assert!(!output.contains(PASSWORD), "leaked: {output}");
        assert!(!dir.path().join("s.json").exists(), "nothing ran");
    }
    let assert = gatecheck()
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url"])
        .arg(format!("http://user:{PASSWORD}@127.0.0.1:1"))
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("credentials do not belong in the URL") && !err.contains(PASSWORD), "{err}");
}

#[test]
fn a_duplicate_key_in_a_summary_is_refused_naming_it() {
    let pass = std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.json");
    // Inside one metric: the first p(95) breaches the gate, the second would pass it.
    let inside = pass.replacen("\"http_req_duration\": {", "\"http_req_duration\": {\"p(95)\": 5000, ", 1);
    assert_ne!(inside, pass);
    // The same metric twice in the metrics map.
    let body = serde_json::from_str::<serde_json::Value>(&pass).unwrap()["metrics"]["http_req_duration"].to_string();
    let twice = pass.replacen("\"metrics\": {", &format!("\"metrics\": {{\"http_req_duration\": {body},"), 1);
    assert_ne!(twice, pass, "the fixture starts its metrics map as expected");
    for (text, key) in [(inside, "\"p(95)\""), (twice, "\"http_req_duration\"")] {
        std::fs::write(&path, text).unwrap();
        let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(&path).assert().code(2);
        let err = stderr_of(&assert);
        assert!(
            err.contains("duplicate key") && err.contains(key) && err.contains(&path.display().to_string()),
            "{err}"
        );
    }
}

/// Peak resident memory (KiB) of a child, from its own `VmHWM` in /proc, polled until it
/// exits. Not wait4's `ru_maxrss`: a child forked from this large, multi-threaded test process
/// is charged the parent's resident pages until it execs, so under a full parallel run it read
/// 268 MiB for a process whose own peak is about 24 MiB.
fn wait_peak_rss_kib(mut child: std::process::Child) -> (i32, i64) {
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0i64;
    loop {
        // The high-water mark of the process image after exec, monotonic while it runs.
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok());
            let is_gatecheck = status.lines().any(|l| l.starts_with("Name:") && l.contains("gatecheck"));
            if let (Some(hwm), true) = (hwm, is_gatecheck) {
                peak = peak.max(hwm);
            }
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(peak > 0, "no memory reading of the child");
            return (exit.code().unwrap_or(-1), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_huge_summary_is_streamed_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let pass = std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap();
    let head = pass.trim_end().strip_suffix('}').expect("an object");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(file, "{head}, \"setup_data\": \"").unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..210 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\"}\n").unwrap();
    file.flush().unwrap();
    drop(file);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs(PASSING_LAG)
        .args(["verify", "--summary"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (code, peak_kib) = wait_peak_rss_kib(child);
    assert_eq!(code, 0, "the figures beside the junk still pass");
    assert!(peak_kib < 256 * 1024, "peak RSS {} MiB for a 210 MB file", peak_kib / 1024);
}

#[test]
fn refusals_name_the_input_and_run_nothing() {
    // A directory given as the scenario is refused before anything else is looked at.
    let dir = tempfile::tempdir().unwrap();
    gatecheck()
        .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
        .args(["smoke", "--scenario"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("scenario").and(contains("a directory")));
}

#[test]
fn a_settings_error_names_the_key_never_the_value() {
    let summary = fixture("k6/1.1.0/pass/summary-export.json");
    let assert = gatecheck_with_lag()
        .env("GATECHECK_PROMETHEUS_HEADER", "X-Api-Key: s3cr3t-key")
        .args(["verify", "--summary"])
        .arg(&summary)
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("GATECHECK_PROMETHEUS_HEADER") && err.contains("expected a sequence"), "{err}");
    assert!(!err.contains("s3cr3t"), "leaked: {err}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gatecheck.toml");
    for text in ["prometheus_user = [\"hunter2-secret\"]\n", "prometheus_timeout = hunter2-secret\n"] {
        std::fs::write(&config, text).unwrap();
        let assert = gatecheck_with_lag()
            .arg("--config")
            .arg(&config)
            .args(["verify", "--summary"])
            .arg(&summary)
            .assert()
            .code(2);
        let err = stderr_of(&assert);
        assert!(err.contains("gatecheck.toml") && !err.contains("hunter2"), "leaked: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn temporaries_of_a_killed_run_are_named_as_ours_and_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let make = |name: &str| {
        let path = dir.path().join(name);
        std::fs::File::create(&path).unwrap().set_modified(old).unwrap();
        path
    };
    // pid 4194305 is above Linux's pid_max: that process cannot be running.
    let stale = make(".gatecheck-core.js.4194305.a1B2c3.tmp");
    let live = make(&format!(".gatecheck-core.js.{}.d4E5f6.tmp", std::process::id()));
    let foreign = make(".tmpXy12Ab");
    let out = dir.path().join("core.js");
    gatecheck().env("PERF_RULE_ID", DEMO_RULE).args(["export", "k6", "--out"]).arg(&out).assert().code(0);
    assert!(out.is_file());
    assert!(!stale.exists(), "a dead run's temporary is removed");
    assert!(live.exists(), "a running process's temporary is left alone");
    assert!(foreign.exists(), "only gatecheck's temporaries are touched");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".tmpXy12Ab" && !n.contains(&std::process::id().to_string()))
        .collect();
    assert!(left.is_empty(), "this run left temporaries: {left:?}");
}

/// A loopback Prometheus answering every query with an API error whose message is `size`
/// bytes, with a Content-Length or chunked (no length known ahead).
fn serve_huge_error(size: usize, chunked: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::Read;
                let mut request = [0u8; 8192];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let _ = stream.read(&mut request);
                let (head, tail) = (br#"{"status":"error","errorType":"bad_data","error":""#, br#""}"#);
                let body_length = head.len() + size + tail.len();
                let framing = match chunked {
                    true => "Transfer-Encoding: chunked".to_string(),
                    false => format!("Content-Length: {body_length}"),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
                );
                let mut send = |bytes: &[u8]| -> std::io::Result<()> {
                    if chunked {
                        write!(stream, "{:x}\r\n", bytes.len())?;
                        stream.write_all(bytes)?;
                        stream.write_all(b"\r\n")
                    } else {
                        stream.write_all(bytes)
                    }
                };
                let block = vec![b'a'; 1 << 20];
                let mut sent = 0;
                let mut result = send(head);
                while result.is_ok() && sent < size {
                    let part = &block[..(size - sent).min(block.len())];
                    result = send(part);
                    sent += part.len();
                }
                if result.is_ok() && send(tail).is_ok() && chunked {
                    let _ = stream.write_all(b"0\r\n\r\n");
                }
            });
        }
    });
    url
}

/// Finding round16-text/04: a Prometheus answer was read whole whatever its size and then
/// scrubbed whole: a 20 MB error kept `check --prometheus-timeout 2s` silent for minutes with
/// a credential set (and a larger one exhausted memory). An answer past the limit is refused
/// as it arrives (exit 2, one line saying so), with or without a Content-Length; one under the
/// limit is quoted cut, its message one short line. The deadline is a hang guard, not a speed
/// claim: the whole-answer scrub took minutes.
#[test]
fn a_huge_prometheus_answer_is_refused_or_quoted_cut_never_held_and_scrubbed_whole() {
    for (size, chunked, expected) in
        [(20 << 20, false, "larger than 8 MiB"), (20 << 20, true, "larger than 8 MiB"), (4 << 20, true, "aaaa…")]
    {
        let url = serve_huge_error(size, chunked);
        let started = std::time::Instant::now();
        let assert = gatecheck()
            .env("GATECHECK_PROMETHEUS_TOKEN", "huge-answer-token-7f3e2d1c")
            .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &url])
            .args(["--prometheus-retries", "0", "--prometheus-timeout", "5s"])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2);
        let err = stderr_of(&assert);
        assert!(started.elapsed() < Duration::from_secs(45), "{size} B (chunked {chunked}): {:?}", started.elapsed());
        assert_eq!(err.lines().count(), 1, "{err:.300}");
        assert!(err.contains(expected) && err.len() < 3000, "{size} B (chunked {chunked}): {err:.3000}");
    }
}

/// Finding round17-text/04: a raw results line was read whole however long (a 7 MB gzip of
/// one 1.5 GB line aborted on memory), and files read whole (waivers, policies, baselines)
/// had no size limit. A raw line past 1 MiB and a whole-read file past 64 MiB are refused
/// (exit 2, one line naming the file), read no further than the limit.
#[test]
fn an_endless_raw_line_or_an_oversized_whole_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("bomb.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&raw).unwrap(), flate2::Compression::fast());
    gz.write_all(b"{\"type\":\"Point\",\"metric\":\"http_reqs\",\"data\":{\"tags\":{\"x\":\"").unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&block).unwrap();
    }
    gz.write_all(b"\"}}}\n").unwrap();
    gz.finish().unwrap();
    let assert = gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--raw"])
        .arg(&raw)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("bomb.ndjson.gz") && err.contains("line 1: longer than 1 MiB"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let waivers = dir.path().join("waivers.toml");
    let file = std::fs::File::create(&waivers).unwrap();
    file.set_len(65 << 20).unwrap();
    let assert = gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--waivers"])
        .arg(&waivers)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("waivers.toml") && err.contains("larger than 64 MiB"), "{err}");
}

/// Finding round34-text/02: a k6 `--summary-export` with many tagged metrics was read in
/// quadratic time (each sub-metric checked against every metric for its parents, each counter's
/// duration against every other's): 10,000 took 22 s, 20,000 over a minute. The valid `pass`
/// summary with 20,000 copies of its `data_received` under tagged names is read and judged well
/// within the deadline (a loaded 2-core machine, debug build).
#[test]
fn a_summary_of_many_tagged_metrics_is_read_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo().join("fixtures/k6/1.1.0/pass/summary-export.json");
    let mut summary: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let metrics = summary["metrics"].as_object_mut().unwrap();
    let counter = metrics["data_received"].clone();
    for i in 0..20_000 {
        metrics.insert(format!("c{i}{{t:v{i}}}"), counter.clone());
    }
    let path = dir.path().join("summary.json");
    std::fs::write(&path, serde_json::to_vec(&summary).unwrap()).unwrap();
    let started = std::time::Instant::now();
    let assert = gatecheck()
        .args(["verify", "--policy", "gates/release.toml", "--no-env", "--summary"])
        .arg(&path)
        .timeout(Duration::from_secs(30))
        .assert();
    let output = assert.get_output();
    assert!(matches!(output.status.code(), Some(0 | 1)), "judged in time ({:?}): {output:?}", started.elapsed());
}

/// The pass summary with `extra` sub-metrics of `http_req_duration` (its own figures, so every
/// part fits its whole), written to `dir`.
fn pass_summary_with_submetrics(dir: &Path, extra: impl IntoIterator<Item = String>) -> std::path::PathBuf {
    let fixture = repo().join("fixtures/k6/1.1.0/pass/summary-export.json");
    let mut summary: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let metrics = summary["metrics"].as_object_mut().unwrap();
    let parent = metrics["http_req_duration"].clone();
    for tags in extra {
        metrics.insert(format!("http_req_duration{{{tags}}}"), parent.clone());
    }
    let path = dir.join("summary.json");
    std::fs::write(&path, serde_json::to_vec(&summary).unwrap()).unwrap();
    path
}

/// Finding round35-figures/04: one sub-metric of 600 tags (a 5 KB summary) kept `verify` busy
/// for minutes (relating a key to its parents cost cubic time in its tags). A key holds at most
/// 32 tags (`MetricKey::MAX_TAGS`): beyond, exit 2 at once, one line naming the file, the metric
/// and the limit.
#[test]
fn a_submetric_of_too_many_tags_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let tags: Vec<String> = (0..600).map(|i| format!("t{i}:v")).collect();
    let path = pass_summary_with_submetrics(dir.path(), [tags.join(",")]);
    let assert = gatecheck()
        .args(["verify", "--policy", "gates/release.toml", "--no-env", "--summary"])
        .arg(&path)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("summary.json") && err.contains("metric http_req_duration has more than 32 tags"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Finding round35-figures/04: a summary holding every subset of 12 tags as sub-metrics of one
/// trend (4095 keys, 3^12 pairs of a key and a subset of it) took 68 s to relate each part to its
/// parents (a walk of the subset lattice). It is read, and judged with the verdict rows of the
/// same summary without them, within the guard's deadline (the work itself is bounded in
/// `metrics::parts::tests`).
#[test]
fn a_summary_of_every_subset_of_twelve_tags_is_judged_as_without_them() {
    let verdict = |extra: Vec<String>| {
        let dir = tempfile::tempdir().unwrap();
        let path = pass_summary_with_submetrics(dir.path(), extra);
        let assert = gatecheck()
            .args(["verify", "--policy", "gates/release.toml", "--no-env", "--summary"])
            .arg(&path)
            .timeout(Duration::from_secs(60))
            .assert();
        let output = assert.get_output().clone();
        // The rows, not the lines naming the input read (its digest and size differ).
        let stdout = String::from_utf8_lossy(&output.stdout).replace(&path.display().to_string(), "SUMMARY");
        let rows: Vec<String> =
            stdout.lines().filter(|line| !line.starts_with("input (summary)")).map(String::from).collect();
        (output.status.code(), rows)
    };
    let subsets: Vec<String> = (1u32..1 << 12)
        .map(|mask| {
            (0..12).filter(|bit| mask & (1 << bit) != 0).map(|bit| format!("t{bit:02}:v")).collect::<Vec<_>>().join(",")
        })
        .collect();
    let (plain, with_subsets) = (verdict(Vec::new()), verdict(subsets));
    assert!(matches!(plain.0, Some(0 | 1)), "{plain:?}");
    assert_eq!(with_subsets, plain);
}
