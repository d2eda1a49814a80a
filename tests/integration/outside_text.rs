//! Outside text and secrets never escape (issue 21). Text gatecheck did not write — k6 metric,
//! tag, check and threshold strings, waiver fields, a native summary's skipped-flow reasons,
//! server answers — leaves every output parseable by a real parser (serde_json, roxmltree,
//! pulldown-cmark) and never starts a line of stdout or stderr; a credential gatecheck sends
//! never comes back out, whatever a server echoes. Fault servers here are mocks on purpose:
//! they echo the whole request (every header, plain and base64), which no real server does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::support::*;

pub const FAIL_ERRORS: &str = "fixtures/k6/1.1.0/fail-errors/summary-export.json";

/// How the echo server answers; `{echo}` is the request, every header, plain and base64.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Echo {
    /// A Prometheus API error (HTTP 400, JSON) quoting the request.
    PromError,
    /// A Prometheus API success whose warnings quote the request.
    PromWarning,
    /// Plain text with this status, quoting the request on its first line.
    Plain(u16),
}

/// A loopback server answering every request as `Echo` says, with `extra` (settable while it
/// runs) added to each echo. Stops with the test process (its thread only accepts).
pub struct EchoServer {
    pub url: String,
    pub extra: Arc<Mutex<String>>,
    pub mode: Arc<Mutex<Echo>>,
}

impl EchoServer {
    pub fn start(mode: Echo) -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let extra = Arc::new(Mutex::new(String::new()));
        let mode = Arc::new(Mutex::new(mode));
        let (shared_extra, shared_mode) = (extra.clone(), mode.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (extra, mode) = (shared_extra.lock().unwrap().clone(), *shared_mode.lock().unwrap());
                std::thread::spawn(move || answer(stream, mode, &extra));
            }
        });
        EchoServer { url, extra, mode }
    }
}

fn answer(stream: TcpStream, mode: Echo, extra: &str) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    loop {
        let mut head = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let whole = head.join("\r\n");
        let echo = format!(
            "{extra} request: {} | base64: {} | url-safe: {} | body-base64: {}",
            head.join(" | "),
            base64::engine::general_purpose::STANDARD.encode(&whole),
            base64::engine::general_purpose::URL_SAFE.encode(&whole),
            base64::engine::general_purpose::STANDARD.encode(&body),
        );
        let (status, content_type, text) = match mode {
            Echo::PromError => (
                400,
                "application/json",
                serde_json::json!({"status": "error", "errorType": "bad_data", "error": echo}).to_string(),
            ),
            Echo::PromWarning => (
                200,
                "application/json",
                serde_json::json!({
                    "status": "success",
                    "data": {"resultType": "vector", "result": [{"metric": {"echo": echo}, "value": [1767225600, "45"]}]},
                    "warnings": [echo],
                })
                .to_string(),
            ),
            Echo::Plain(status) => (status, "text/plain", echo),
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if reader.get_mut().write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Every form a canary can take in an echo: itself and its base64 (both alphabets) at each of
/// the three byte offsets, the characters that depend on the canary alone.
pub fn canary_forms(canary: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = vec![canary.to_string()];
    for offset in 0..3usize {
        let mut bytes = vec![b'x'; offset];
        bytes.extend_from_slice(canary.as_bytes());
        let (first, end) = ((8 * offset).div_ceil(6), (8 * (offset + canary.len())) / 6);
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(&bytes)[first..end].to_string());
        }
    }
    forms
}

/// Panics when any form of any canary appears in `text` (named `what`).
pub fn assert_no_canary(what: &str, text: &str, canaries: &[&str]) {
    for canary in canaries {
        for form in canary_forms(canary) {
            assert!(!text.contains(&form), "{what} leaks {canary} (as {form:?}):\n{text}");
        }
    }
}

/// Every file under `dir`, with its text.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((path.clone(), String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()));
        }
    }
    found
}

/// No line of `text` starts — after the leading spaces a CI runner ignores — with `::`, except
/// gatecheck's own annotations (`::error title=gatecheck …`), each one whole line.
pub fn assert_no_workflow_command(what: &str, text: &str) {
    for line in text.split(['\n', '\r']) {
        let line = line.trim_start();
        if line.starts_with("::") {
            assert!(
                line.starts_with("::error title=gatecheck ") || line.starts_with("::warning title=gatecheck "),
                "{what}: a line starts with outside text: {line:?}\n{text}"
            );
        }
    }
}

fn day(offset: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(offset)).to_string()
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Item 1: a line break in a waiver's reason, ticket or gate, in a k6 summary key, or in a
/// duplicate key named by the exit-2 error, never starts a line of stdout or stderr.
#[test]
fn a_line_break_in_outside_text_never_starts_a_line_of_stdout_or_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        format!(
            "[[waiver]]\ngate = \"write-errors\"\nowner = \"dana\"\nreason = {}\nticket = {}\nexpires = {}\n\n\
             [[waiver]]\ngate = {}\nowner = \"dana\"\nreason = {}\nticket = \"OPS-2\"\nexpires = {}\n",
            toml_string("outage\n::add-mask::from-reason"),
            toml_string("OPS-1\n::notice::from-ticket"),
            day(7),
            toml_string("write-checks\n::warning::from-gate"),
            toml_string("stale\r\n::error::stale-reason"),
            day(7),
        ),
    )
    .unwrap();
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(FAIL_ERRORS)).unwrap()).unwrap();
    summary["metrics"]["checks{flow:rule_poll}"]["thresholds"]["rate>0.5\n::add-mask::from-threshold"] =
        serde_json::Value::Bool(true);
    let summary_path = dir.path().join("summary.json");
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let assert = gatecheck_with_lag()
        .arg("verify")
        .arg("--summary")
        .arg(&summary_path)
        .arg("--waivers")
        .arg(&waivers)
        .assert()
        .code(1);
    let (out, err) = (stdout_of(&assert), stderr_of(&assert));
    assert_no_workflow_command("stdout", &out);
    assert_no_workflow_command("stderr", &err);
    assert!(out.contains("outage\\n::add-mask::from-reason"), "shown visibly: {out}");
    assert!(out.contains("write-checks\\n::warning::from-gate"), "{out}");

    // The exit-2 error names the duplicate key: one line, the line break shown.
    let text = std::fs::read_to_string(repo().join(FAIL_ERRORS)).unwrap();
    let key = r#""http_reqs\n::add-mask::dup""#;
    let duplicated = text.replacen(
        "\"metrics\": {",
        &format!("\"metrics\": {{{key}: {{\"count\": 1}}, {key}: {{\"count\": 2}},"),
        1,
    );
    assert_ne!(duplicated, text);
    let path = dir.path().join("dup.json");
    std::fs::write(&path, duplicated).unwrap();
    let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(&path).assert().code(2);
    let err = stderr_of(&assert);
    assert_no_workflow_command("stderr", &err);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("gatecheck: error: ") && err.contains("duplicate key"), "{err}");
}

/// Item 1, the native runner's summary: a skipped flow's reason is shown, on no line of its own.
#[test]
fn a_skipped_flows_reason_in_a_native_summary_never_starts_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let target = Served::start(&["demo", "--serve"]);
    let status = spawn_smoke(&target.url, dir.path(), "native", &["--duration", "3s", "--vus", "2"]).wait().unwrap();
    assert!(status.success(), "smoke: {status:?}");
    let path = dir.path().join("native.json");
    let mut summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    summary["gatecheck"]["skipped_flows"] =
        serde_json::json!([{"flow": "rule_poll", "because": "switched off\n::add-mask::from-because"}]);
    std::fs::write(&path, summary.to_string()).unwrap();
    let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(&path).assert();
    let out = stdout_of(&assert);
    assert_no_workflow_command("stdout", &out);
    assert_no_workflow_command("stderr", &stderr_of(&assert));
    assert!(out.contains("switched off\\n::add-mask::from-because"), "{out}");
}

/// A k6 summary with `threshold` added to one metric's thresholds (k6 marked it failed).
fn summary_with_threshold(dir: &Path, threshold: &str) -> PathBuf {
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(FAIL_ERRORS)).unwrap()).unwrap();
    summary["metrics"]["checks{flow:rule_poll}"]["thresholds"][threshold] = serde_json::Value::Bool(true);
    let path = dir.join("summary.json");
    std::fs::write(&path, summary.to_string()).unwrap();
    path
}

/// Item 2: ESC and NUL in a k6 threshold key leave the JUnit report well-formed XML 1.0.
#[test]
fn esc_and_nul_in_a_threshold_key_leave_junit_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(dir.path(), "rate<0.01\u{1b}[31m\u{0}]]></failure>");
    let junit = dir.path().join("verdict.xml");
    gatecheck_with_lag()
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&junit).unwrap();
    let document = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML 1.0: {e}\n{text}"));
    let names: Vec<&str> = document.descendants().filter_map(|n| n.attribute("name")).collect();
    assert!(names.iter().any(|n| n.contains("\\u001b[31m\\u0000]]></failure>")), "shown visibly: {names:?}");
}

/// The HTML and Markdown events of a Markdown text, with the links and images it holds.
pub fn markdown_events(text: &str) -> (Vec<String>, Vec<String>) {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let (mut html, mut links) = (Vec::new(), Vec::new());
    for event in Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => html.push(h.trim().to_string()),
            Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string())
            }
            _ => {}
        }
    }
    (html, links)
}

/// The only HTML the Markdown report holds is gatecheck's own collapsible notes.
pub fn assert_markdown_is_inert(what: &str, text: &str) {
    let (html, links) = markdown_events(text);
    let own = ["<details><summary>Notes</summary>", "</details>"];
    assert!(html.iter().all(|h| own.contains(&h.as_str())), "{what}: raw HTML from outside: {html:?}\n{text}");
    assert!(links.is_empty(), "{what}: live links from outside: {links:?}\n{text}");
}

/// Item 3: k6 summary text cannot close its code span and become raw HTML or a live link in the
/// step summary.
#[test]
fn k6_text_becomes_neither_html_nor_a_link_in_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(
        dir.path(),
        "rate<0.01` <img src=\"https://evil.example/p.png\"> [click](https://evil.example) | ![i](https://evil.example/i.png) `",
    );
    let step_summary = dir.path().join("step-summary.md");
    let assert = gatecheck_with_lag()
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .args(["verify", "--summary"])
        .arg(&summary)
        .assert()
        .code(1);
    assert_no_workflow_command("stdout", &stdout_of(&assert));
    let text = std::fs::read_to_string(&step_summary).unwrap();
    assert_markdown_is_inert("step summary", &text);
    assert!(text.contains("\\<img src\\=\\\"https\\:"), "the text is kept, escaped: {text}");
}

/// Item 4: a remote-write receiver and a Prometheus server that quote the request's headers
/// (bearer token, basic auth plain and base64, every extra header) put none of them anywhere.
#[test]
fn a_servers_echo_of_the_request_puts_no_credential_anywhere() {
    const RW_TOKEN: &str = "canary-rw-token-5b1c9e";
    const RW_HEADER: &str = "canary-rw-header-77d0aa";
    const PASSWORD: &str = "canary-password-3f9a42";
    let dir = tempfile::tempdir().unwrap();
    let target = Served::start(&["demo", "--serve"]);
    let receiver = EchoServer::start(Echo::Plain(400));
    let push = format!("--remote-write={}/api/v1/write", receiver.url);
    let header = format!("X-Scope-OrgID: {RW_HEADER}");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs([
            ("PERF_BASE_URL", target.url.as_str()),
            ("PERF_BEARER_TOKEN", DEMO_TOKEN),
            ("PERF_RULE_ID", DEMO_RULE),
            ("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN),
        ])
        .args(["smoke", "--quiet", "--duration", "3s", "--vus", "2", &push, "--remote-write-header", &header])
        .arg("--summary-out")
        .arg(dir.path().join("s.json"))
        .arg("--log-out")
        .arg(dir.path().join("s.log"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    child.wait().unwrap();
    assert!(out.contains("remote-write: ") && out.contains("refused the push: HTTP 400"), "{out}\n{err}");
    assert_no_canary("smoke stdout", &out, &[RW_TOKEN, RW_HEADER]);
    assert_no_canary("smoke stderr", &err, &[RW_TOKEN, RW_HEADER]);
    for (path, text) in files_under(dir.path()) {
        assert_no_canary(&path.display().to_string(), &text, &[RW_TOKEN, RW_HEADER]);
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert!(
        summary["gatecheck"]["remote_write"]["refused"][0].as_str().is_some_and(|r| r.contains("***")),
        "{summary}"
    );

    // Basic auth: the password, user:password and its base64 are all scrubbed.
    let prometheus = EchoServer::start(Echo::PromError);
    let assert = gatecheck()
        .env("GATECHECK_PROMETHEUS_PASSWORD", PASSWORD)
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url])
        .args(["--prometheus-user", "oncall", "--prometheus-retries", "0"])
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("Prometheus rejected the query"), "{err}");
    let pair = format!("oncall:{PASSWORD}");
    assert_no_canary("check stderr", &err, &[PASSWORD, &pair]);
    assert_no_canary("check stdout", &stdout_of(&assert), &[PASSWORD, &pair]);
}
