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
    /// HTTP 401 whose first line quotes the Authorization value so that a cut at 200
    /// characters falls 3 characters before its end (finding text2/10).
    AuthorizationAtTheCut,
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
    {
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
        // Samples dated at the evaluation time asked for, as Prometheus dates them.
        let asked: f64 = asked_time(&format!("{}\n{}", whole, String::from_utf8_lossy(&body))).parse().unwrap_or(0.0);
        // Transformed echoes too (finding text-secrets 03): every byte percent-encoded, upper
        // case, hex, JSON-escaped and split by line breaks.
        let joined = head.join(" | ");
        let percent: String = joined.bytes().map(|b| format!("%{b:02X}")).collect();
        let hex: String = joined.bytes().map(|b| format!("{b:02x}")).collect();
        let json = serde_json::to_string(&joined).unwrap().replace('/', "\\/");
        let split: String =
            joined.chars().enumerate().flat_map(|(i, c)| (i % 7 == 6).then_some('\n').into_iter().chain([c])).collect();
        // The split echo JSON-encoded: its breaks are the two characters `\n` (finding text2/05).
        let json_split = serde_json::to_string(&split).unwrap();
        // Findings text4/03-05: each header value cut to its first or last 20 characters, a
        // split folded like a header (`\r\n `), a hex dump, `\x` escapes, HTML character
        // references and a URL quoted in a URL.
        let cut: String = head
            .iter()
            .filter_map(|line| line.split_once(": ").map(|(_, value)| value.chars().collect::<Vec<char>>()))
            .map(|value| {
                let keep = value.len().min(20);
                format!(
                    "{}... ...{}",
                    value[..keep].iter().collect::<String>(),
                    value[value.len() - keep..].iter().collect::<String>()
                )
            })
            .collect::<Vec<String>>()
            .join(" | ");
        let folded: String = joined
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i % 9 == 8).then_some("\r\n ").into_iter().flat_map(str::chars).chain([c]))
            .collect();
        let dump: String = joined.bytes().map(|b| format!("{b:02x}")).collect::<Vec<String>>().join(" ");
        let escapes: String = joined.bytes().map(|b| format!("\\x{b:02x}")).collect();
        let html: String = joined.chars().map(|c| format!("&#{};", u32::from(c))).collect();
        let double_percent: String = joined.bytes().map(|b| format!("%25{b:02X}")).collect();
        let echo = format!(
            "{extra} request: {} | pct: {percent} | upper: {} | hex: {hex} | json: {json} | split: {split} | json-split: {json_split} | base64: {} | url-safe: {} | body-base64: {} | cut: {cut} | folded: {folded} | dump: {dump} | escapes: {escapes} | html: {html} | pct2: {double_percent}",
            joined,
            joined.to_uppercase(),
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
                    // A label as long as one may be (`sources::prometheus::LABEL_TEXT`: a longer one
                    // is refused, finding round33-text/04); the warning carries the whole echo.
                    "data": {"resultType": "vector", "result": [{"metric": {"echo": echo.chars().take(4000).collect::<String>()}, "value": [asked, "45"]}]},
                    "warnings": [echo],
                })
                .to_string(),
            ),
            Echo::Plain(status) => (status, "text/plain", echo),
            Echo::AuthorizationAtTheCut => {
                let auth = head
                    .iter()
                    .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("authorization")))
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                (401, "text/plain", format!("{}{auth}\n", "x".repeat((200 + 3usize).saturating_sub(auth.len()))))
            }
        };
        let response = format!(
            // One answer per connection: a kept-alive connection the server dropped after its
            // read timeout (a loaded machine) failed the client's next query mid-send.
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = reader.get_mut().write_all(response.as_bytes());
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

/// `text` with the encodings a server may quote a credential in undone, for the canary search:
/// `%25` layers and `%XX`, `\xXX`, HTML character references, hex dumps' separators.
fn decoded(text: &str) -> String {
    let mut text = text.to_string();
    while text.contains("%25") {
        text = text.replace("%25", "%");
    }
    let decode = |text: &str, opening: &str, radix_hex: bool, closing: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(opening) {
            out.push_str(&rest[..at]);
            let after = &rest[at + opening.len()..];
            let digits: String = after
                .chars()
                .take_while(|c| if radix_hex { c.is_ascii_hexdigit() } else { c.is_ascii_digit() })
                .take(if radix_hex && closing.is_empty() { 2 } else { 8 })
                .collect();
            let code = u32::from_str_radix(&digits, if radix_hex { 16 } else { 10 }).ok().and_then(char::from_u32);
            match code.filter(|_| !digits.is_empty() && after[digits.len()..].starts_with(closing)) {
                Some(c) => {
                    out.push(c);
                    rest = &after[digits.len() + closing.len()..];
                }
                None => {
                    out.push_str(opening);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    };
    let text = decode(&text, "%", true, "");
    let text = decode(&text, "\\x", true, "");
    let text = decode(&text, "&#x", true, ";");
    decode(&text, "&#", false, ";")
}

/// Panics when any form of any canary appears in `text` (named `what`): in any case, as
/// percent-encoding or hex (a dump too), HTML- or `\x`-escaped, with the line breaks
/// `escape::line` shows as `\n` taken out (with a folded line's indentation), or cut to its
/// first or last 8 characters.
pub fn assert_no_canary(what: &str, text: &str, canaries: &[&str]) {
    let folded = text.to_lowercase();
    let joined = folded.replace("\\r\\n ", "").replace("\\n", "");
    let undone = decoded(text).to_lowercase();
    for canary in canaries {
        let canary = canary.to_lowercase();
        let chars: Vec<char> = canary.chars().collect();
        let head: String = chars[..8.min(chars.len())].iter().collect();
        let tail: String = chars[chars.len().saturating_sub(8)..].iter().collect();
        let dump =
            |separator: &str| canary.bytes().map(|b| format!("{b:02x}")).collect::<Vec<String>>().join(separator);
        for (form, seen) in [
            (head.as_str(), joined.as_str()),
            (tail.as_str(), joined.as_str()),
            (canary.as_str(), undone.as_str()),
            (dump(" ").as_str(), folded.as_str()),
            (dump(":").as_str(), folded.as_str()),
        ] {
            assert!(!seen.contains(form), "{what} leaks {canary} (as {form:?}):\n{text}");
        }
    }
    for canary in canaries {
        let percent: String = canary.bytes().map(|b| format!("%{b:02x}")).collect();
        let hex: String = canary.bytes().map(|b| format!("{b:02x}")).collect();
        let json = canary.replace('/', "\\/");
        for form in canary_forms(canary).into_iter().chain([percent, hex, json]) {
            // Base64 forms are case-sensitive: matching them folded would find chance runs.
            let exact = canary_forms(canary).contains(&form) && form != *canary;
            let (text, form_folded) = if exact { (text, form.clone()) } else { (joined.as_str(), form.to_lowercase()) };
            assert!(!text.contains(&form_folded), "{what} leaks {canary} (as {form:?}):\n{text}");
            if !exact {
                assert!(!folded.contains(&form_folded), "{what} leaks {canary} (as {form:?}):\n{folded}");
            }
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
    // The runner's legacy form `##[cmd]` is obeyed anywhere in a line (finding text3/01).
    assert!(!text.contains("##["), "{what}: a legacy workflow command `##[` in:\n{text}");
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
    // rule_poll really is switched off, so the summary holds no samples of it and its gates are
    // SKIPPED with the summary's reason (samples of a switched-off flow overrule the switch).
    let path = dir.path().join("native.json");
    let env = [
        ("PERF_BASE_URL", target.url.as_str()),
        ("PERF_BEARER_TOKEN", DEMO_TOKEN),
        ("PERF_RULE_ID", DEMO_RULE),
        ("PERF_ENABLE_RULE_RUN", "0"),
    ];
    let args = ["smoke", "--quiet", "--duration", "3s", "--vus", "2", "--summary-out", path.to_str().unwrap()];
    let status = spawn_gatecheck(&env, &args).wait().unwrap();
    assert!(status.success(), "smoke: {status:?}");
    let mut summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(summary["gatecheck"]["skipped_flows"][0]["flow"], "rule_poll", "{summary}");
    // The reason as the run and its plan record it (the two are held to each other).
    let skipped = serde_json::json!([{"flow": "rule_poll", "because": "switched off\n::add-mask::from-because"}]);
    summary["gatecheck"]["skipped_flows"] = skipped.clone();
    summary["gatecheck"]["shard"]["plan"]["skipped_flows"] = skipped;
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

/// Finding text-secrets 06: an e-mail address in k6 text is no live `mailto:` link in the step
/// summary or the Markdown report as GitHub renders it (cmark-gfm autolinks e-mail addresses
/// after resolving `\@`): every `@` is followed by a zero-width joiner.
#[test]
fn an_email_address_in_k6_text_is_no_autolink_in_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(
        dir.path(),
        "rate<0.01 report to security@evil-phish.com or mailto:a@b.co xmpp:a@b.co/r",
    );
    let step_summary = dir.path().join("step-summary.md");
    let report = dir.path().join("r.md");
    gatecheck_with_lag()
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("markdown={}", report.display()))
        .assert()
        .code(1);
    for path in [&step_summary, &report] {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("security\\@\u{200d}evil\\-phish"), "the address is kept: {text}");
        for (i, _) in text.match_indices('@') {
            assert!(text[i + 1..].starts_with('\u{200d}'), "{}: a bare @ at {i}: {text}", path.display());
        }
    }
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

/// Finding text-secrets 03: a server that quotes the token transformed (percent-encoded,
/// JSON-escaped, split by a line break, hex, upper case) gets none of it printed; nor does a
/// remote-write receiver's URL-encoded echo reach stdout or the summary.
#[test]
fn a_transformed_echo_of_a_token_is_scrubbed() {
    const TOKEN: &str = "glc/Canary+Tok3n=Zz";
    let prometheus = EchoServer::start(Echo::PromError);
    *prometheus.extra.lock().unwrap() =
        "bad auth glc%2FCanary%2BTok3n%3DZz glc\\/Canary+Tok3n=Zz glc/Canar\ny+Tok3n=Zz \
        676c632f43616e6172792b546f6b336e3d5a7a GLC/CANARY+TOK3N=ZZ"
            .to_string();
    let assert = gatecheck()
        .env("GATECHECK_PROMETHEUS_TOKEN", TOKEN)
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url])
        .args(["--prometheus-retries", "0"])
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("Prometheus rejected the query") && err.contains("bad auth ***"), "{err}");
    assert_no_canary("check stderr", &err, &[TOKEN]);
    for piece in ["Canary", "CANARY", "Tok3n", "43616e617279"] {
        assert!(!err.contains(piece), "{piece}: {err}");
    }
}

/// Findings round8-text/02 to round11-text/02: a non-ASCII credential quoted back read in a
/// legacy charset, JSON-escaped, by entity name, upper-cased, as surrogates, as a pretty-printed
/// byte list or as code points — an open set of forms. The class is closed at the input: every
/// credential flag and variable refuses a value that is not printable ASCII before any request
/// is sent, naming the flag and quoting no part of the value (the scrubber's readings of those
/// forms stay, tested in `secret`, for what a server quotes of ASCII).
#[test]
fn a_credential_that_is_not_printable_ascii_is_refused_before_any_request() {
    const GERMAN: &str = "Schlüssel-Grüße-Tür-2024";
    let prometheus = EchoServer::start(Echo::PromError);
    let check = |args: &[&str], envs: &[(&str, &str)]| {
        let mut command = gatecheck();
        command.args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url]);
        command.args(["--prometheus-retries", "0"]).args(args);
        for (name, value) in envs {
            command.env(name, value);
        }
        let assert = command.assert().code(2);
        stderr_of(&assert)
    };
    for (args, envs, flag) in [
        (vec!["--prometheus-header", "X-Api-Key: Schlüssel-Grüße-Tür-2024"], vec![], "--prometheus-header X-Api-Key"),
        (vec![], vec![("GATECHECK_PROMETHEUS_TOKEN", GERMAN)], "the Prometheus token"),
        (
            vec!["--prometheus-user", "ops"],
            vec![("GATECHECK_PROMETHEUS_PASSWORD", GERMAN)],
            "GATECHECK_PROMETHEUS_PASSWORD",
        ),
    ] {
        let err = check(&args, &envs);
        assert!(err.starts_with(&format!("gatecheck: error: {flag}")) && err.contains("not printable ASCII"), "{err}");
        assert!(!err.contains("Prometheus rejected") && err.lines().count() == 1, "{err}");
        assert_no_canary("check stderr", &err, &[GERMAN, "Schl", "ssel-Gr", "-Tür-2024"]);
    }
}

/// Findings round10-text/04 and round11-text/02: an ASCII header credential quoted back as a
/// list of decimal bytes (Node's Buffer JSON), on one line and pretty-printed one per line: each
/// is masked whole.
#[test]
fn a_header_credential_echoed_as_decimal_bytes_is_scrubbed() {
    const TOKEN: &str = "rw-token-4f9a2c71e8d3b6a5";
    let decimal: Vec<String> = TOKEN.bytes().map(|b| b.to_string()).collect();
    let prometheus = EchoServer::start(Echo::PromError);
    *prometheus.extra.lock().unwrap() =
        format!("bad keys [{}] | [\n  {}\n];", decimal.join(","), decimal.join(",\n  "));
    let assert = gatecheck()
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url])
        .args(["--prometheus-retries", "0"])
        .args(["--prometheus-header", &format!("X-Token: {TOKEN}")])
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("Prometheus rejected the query") && err.contains("bad keys [***] | [\\n  ***\\n];"), "{err}");
}

/// Finding round12-text/01: a bearer token quoted back as a list of its characters (Java's
/// `Arrays.toString(char[])`, Python's `list(s)`, JSON, Go's `%c` of a rune slice) and the
/// forms seen with it (shell `printf %q`, UTF-16 hex, Perl `\x{70}`): each is masked whole.
#[test]
fn a_credential_echoed_character_by_character_is_scrubbed() {
    const TOKEN: &str = "prom-token-8c2f1e9a77";
    let chars: Vec<String> = TOKEN.chars().map(String::from).collect();
    let utf16: Vec<String> = TOKEN.bytes().map(|b| format!("{b:02X}-00")).collect();
    let perl: String = TOKEN.bytes().map(|b| format!("\\x{{{b:x}}}")).collect();
    let prometheus = EchoServer::start(Echo::PromError);
    *prometheus.extra.lock().unwrap() = format!(
        "keys [{}] | ['{}'] | [\"{}\"] | [{}] | {} | \"{perl}\";",
        chars.join(", "),
        chars.join("', '"),
        chars.join("\",\""),
        chars.join(" "),
        utf16.join("-"),
    );
    let assert = gatecheck()
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url])
        .args(["--prometheus-retries", "0"])
        .env("GATECHECK_PROMETHEUS_TOKEN", TOKEN)
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("keys [***] | ['***'] | [\"***\"] | [***] | *** | \"\\***}\";"), "{err}");
}

/// Finding round13-text/05: with a credential set, an error answer made of line breaks kept
/// `check` busy for minutes (the scrubber looked ahead over every following break at each
/// position: n breaks cost n²). 200,000 breaks are read in one pass: exit 2 well within the
/// limit here, which the quadratic walk exceeded by far.
#[test]
fn a_server_answer_of_line_breaks_never_stalls_the_scrubber() {
    let prometheus = EchoServer::start(Echo::PromError);
    *prometheus.extra.lock().unwrap() = format!("a{}b", "\n".repeat(200_000));
    let assert = gatecheck()
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &prometheus.url])
        .args(["--prometheus-retries", "0", "--prometheus-timeout", "60s"])
        .env("GATECHECK_PROMETHEUS_TOKEN", "prom-token-5d1e9f0a")
        .timeout(std::time::Duration::from_secs(90))
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("Prometheus rejected the query"));
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

/// One process's output and every file it wrote under `dir`, searched for every canary.
fn assert_nothing_leaks(what: &str, output: &std::process::Output, dir: &Path, canaries: &[&str]) {
    assert_no_canary(&format!("{what} stdout"), &String::from_utf8_lossy(&output.stdout), canaries);
    assert_no_canary(&format!("{what} stderr"), &String::from_utf8_lossy(&output.stderr), canaries);
    for (path, text) in files_under(dir) {
        assert_no_canary(&format!("{what}: {}", path.display()), &text, canaries);
    }
}

/// The proof of the scrubber: a distinct canary in every credential and header gatecheck can
/// send, servers that answer in every way with an echo of the whole request (all headers,
/// plain and base64), and no canary in stdout, stderr, any report, the step summary, a
/// summary, a log or a history record — for every command that talks to a server.
#[test]
fn no_canary_credential_reaches_any_output_of_any_command() {
    const PROM_TOKEN: &str = "canary-prom-token-a1b2c3";
    const PROM_HEADER: &str = "canary-prom-header-d4e5f6";
    const PROM_HEADER_2: &str = "canary-prom-tenant-0a9b8c";
    // A header with a scheme; the server quotes the credential alone (finding text2/08).
    const PROM_HEADER_3: &str = "canary-prom-scheme-9e8d7c";
    const PROM_PASSWORD: &str = "canary-prom-password-7e6d";
    // Parts of a header value quoted alone: one cookie's value, and the password of a Basic
    // pair sent as an extra header, decoded.
    const PROM_COOKIE: &str = "canary-prom-cookie-3d2c1b";
    const PROM_BASIC_PASSWORD: &str = "canary-prom-basic-8f7e6d";
    // No run shared with the others: the load target's credential may never be held by one sent
    // to Prometheus, and a run of 7 shared bytes reads in their base64 (a Basic header's).
    const TARGET_TOKEN: &str = "target-load-tok-5c4b3a";
    const RW_TOKEN: &str = "canary-rw-token-2f1e0d";
    const RW_HEADER: &str = "canary-rw-header-9a8b7c";
    let pair = format!("oncall:{PROM_PASSWORD}");
    let upstream_pair = format!("svc:{PROM_BASIC_PASSWORD}");
    let all = [
        PROM_COOKIE,
        PROM_BASIC_PASSWORD,
        upstream_pair.as_str(),
        PROM_TOKEN,
        PROM_HEADER,
        PROM_HEADER_2,
        PROM_HEADER_3,
        PROM_PASSWORD,
        pair.as_str(),
        TARGET_TOKEN,
        RW_TOKEN,
        RW_HEADER,
    ];
    let prometheus_headers = [
        "--prometheus-header",
        &format!("X-Scope-OrgID: {PROM_HEADER}"),
        "--prometheus-header",
        &format!("X-Tenant: {PROM_HEADER_2}"),
        "--prometheus-header",
        &format!("X-Api-Auth: Bearer {PROM_HEADER_3}"),
        "--prometheus-header",
        &format!("Cookie: theme=dark; session={PROM_COOKIE}"),
        "--prometheus-header",
        &format!(
            "X-Upstream-Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode(&upstream_pair)
        ),
    ];
    let prometheus = EchoServer::start(Echo::PromError);
    *prometheus.extra.lock().unwrap() = format!(
        "token {PROM_HEADER_3} is expired; session {PROM_COOKIE} unknown; user {upstream_pair} (password \
         {PROM_BASIC_PASSWORD}) denied;"
    );

    // Prometheus: check, verify and probe, with a bearer token and with basic auth, against
    // every kind of answer (a rejected query, warnings, 401, 500, 200 that is not the API).
    for mode in [Echo::PromError, Echo::PromWarning, Echo::Plain(401), Echo::Plain(500), Echo::Plain(200)] {
        *prometheus.mode.lock().unwrap() = mode;
        for basic in [false, true] {
            for command in ["check", "verify", "probe"] {
                let dir = tempfile::tempdir().unwrap();
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"));
                // No lag figures from the environment: every query goes to the echoing server.
                cmd.current_dir(repo()).env_clear();
                cmd.env("GITHUB_STEP_SUMMARY", dir.path().join("step-summary.md")).env("GITHUB_ACTIONS", "true");
                cmd.args([command, "--policy", "gates/release.toml", "--prometheus-url", &prometheus.url]);
                // A timeout long enough for a loaded machine: the echoing server answers at once,
                // and a query timed out shows no echo, which the check below would read as lost.
                cmd.args(["--prometheus-retries", "0", "--prometheus-timeout", "30s"]).args(prometheus_headers);
                if basic {
                    cmd.args(["--prometheus-user", "oncall"]).env("GATECHECK_PROMETHEUS_PASSWORD", PROM_PASSWORD);
                } else {
                    cmd.env("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN);
                }
                if command != "probe" {
                    cmd.args(["--summary", FAIL_ERRORS]);
                }
                if command == "verify" {
                    cmd.arg("--history").arg(dir.path().join("history"));
                }
                if command != "probe" {
                    for format in ["json", "junit", "markdown", "html"] {
                        cmd.arg("--report")
                            .arg(format!("{format}={}", dir.path().join(format!("r.{format}")).display()));
                    }
                }
                let output = cmd.output().unwrap();
                let what = format!("{command} ({mode:?}, basic auth {basic})");
                assert_nothing_leaks(&what, &output, dir.path(), &all);
                if matches!(mode, Echo::PromError | Echo::PromWarning) {
                    // The echo did come through, scrubbed: no pass by silence.
                    let shown = format!(
                        "{}{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    );
                    assert!(
                        shown.contains("authorization: ***")
                            || shown.contains("authorization: Bearer ***")
                            || shown.contains("authorization: Basic ***"),
                        "{what}: {shown}"
                    );
                }
            }
        }
    }

    // The load: run (smoke, then judge) against a target and a remote-write receiver that both
    // echo, with Prometheus evidence from the echoing server too.
    *prometheus.mode.lock().unwrap() = Echo::PromWarning;
    let target = EchoServer::start(Echo::Plain(500));
    let receiver = EchoServer::start(Echo::Plain(400));
    // The target's /metrics labels series by the client's token (finding round15-text/01):
    // one vanishes and one restarts between the two scrapes, so the run window's reasons
    // quote their labels in the summary, the reports and the history record.
    let series = |count: u32| {
        format!(
            "lag_seconds_bucket{{client=\"{TARGET_TOKEN}\",le=\"+Inf\"}} {count}\nlag_seconds_count{{client=\"{TARGET_TOKEN}\"}} {count}\nlag_seconds_sum{{client=\"{TARGET_TOKEN}\"}} 1\n"
        )
    };
    let vanishing = format!("wait_seconds_bucket{{key=\"{TARGET_TOKEN}\",le=\"+Inf\"}} 5\nwait_seconds_count{{key=\"{TARGET_TOKEN}\"}} 5\nwait_seconds_sum{{key=\"{TARGET_TOKEN}\"}} 1\nwait_seconds_bucket{{le=\"+Inf\"}} 5\nwait_seconds_count 5\nwait_seconds_sum 1\n");
    let remaining = "wait_seconds_bucket{le=\"+Inf\"} 9\nwait_seconds_count 9\nwait_seconds_sum 2\n";
    let scrape = crate::support::serve_changing_metrics(
        format!("{}{vanishing}", series(10)),
        format!("{}{remaining}", series(3)),
    );
    let dir = tempfile::tempdir().unwrap();
    let push = format!("--remote-write={}/api/v1/write", receiver.url);
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs([
            ("PERF_BASE_URL", target.url.as_str()),
            ("PERF_BEARER_TOKEN", TARGET_TOKEN),
            ("PERF_RULE_ID", DEMO_RULE),
            ("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN),
            ("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN),
            ("GITHUB_ACTIONS", "true"),
        ])
        .env("GITHUB_STEP_SUMMARY", dir.path().join("step-summary.md"))
        .args(["run", "--quiet", "--duration", "3s", "--vus", "2", &push])
        .args(["--scrape-url", &format!("{scrape}/metrics")])
        .args(["--remote-write-header", &format!("X-Scope-OrgID: {RW_HEADER}")])
        .args(["--prometheus-url", &prometheus.url, "--prometheus-retries", "0"])
        .args(prometheus_headers)
        .arg("--summary-out")
        .arg(dir.path().join("s.json"))
        .arg("--log-out")
        .arg(dir.path().join("s.log"))
        .arg("--history")
        .arg(dir.path().join("history"))
        .args(["--report", &format!("json={}", dir.path().join("r.json").display())])
        .args(["--report", &format!("junit={}", dir.path().join("r.xml").display())])
        .args(["--report", &format!("markdown={}", dir.path().join("r.md").display())])
        .args(["--report", &format!("html={}", dir.path().join("r.html").display())])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("refused the push"),
        "the receiver's echo was read: {out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("s.json").exists() && dir.path().join("r.json").exists(), "{out}");
    let summary = std::fs::read_to_string(dir.path().join("s.json")).unwrap();
    assert!(
        summary.contains("missing from the second") && summary.contains("counted less in the second"),
        "both scrape reasons were written: {summary}"
    );
    assert_nothing_leaks("run", &output, dir.path(), &all);
    scenario_text_quoting_a_credential_is_scrubbed_from_summaries(&target.url, TARGET_TOKEN, &all);
}

/// Finding round18-text/03: a scenario's own text (its name, a request's name, a check) may quote
/// a credential the job holds; every native summary — each segment's, written by `smoke`, and
/// the one `merge` writes from them — holds it as `***`, and stays one whose figures read back
/// against its own recorder (verify and merge take it).
fn scenario_text_quoting_a_credential_is_scrubbed_from_summaries(target: &str, token: &str, all: &[&str]) {
    // The scenario quotes the token itself: it lies outside the searched outputs.
    let (dir, input) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let scenario = input.path().join("quoting.toml");
    std::fs::write(
        &scenario,
        format!(
            "[scenario]\nname = \"core {token}\"\nbase_url = \"{target}\"\nbearer_token_env = \"PERF_BEARER_TOKEN\"\n\
             vus = \"2\"\nduration = \"2s\"\nrequest_timeout = \"2s\"\nmax_requests = 40\n\n\
             [[flow]]\nname = \"auth_list\"\nstart_after = \"0s\"\nsleep = \"100ms\"\n\n\
             [[flow.request]]\nname = \"list as {token}\"\nmethod = \"GET\"\npath = \"/api/list\"\n\
             check = \"authorized as {token}\"\nexpect_status = 500\n"
        ),
    )
    .unwrap();
    let start = crate::support::common_start();
    let smoke = |name: &str, segment: &str| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
            .env_clear()
            .env("PERF_BEARER_TOKEN", token)
            .args(["smoke", "--quiet", "--scenario"])
            .arg(&scenario)
            .args(["--run-id", "quoting", "--segment", segment, "--start-at", &start, "--summary-out"])
            .arg(dir.path().join(format!("{name}.json")))
            .arg("--log-out")
            .arg(dir.path().join(format!("{name}.log")))
            .output()
            .unwrap()
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| smoke("a", "0/2"));
        let second = scope.spawn(|| smoke("b", "1/2"));
        (first.join().unwrap(), second.join().unwrap())
    });
    for (what, output) in [("smoke 0/2", &first), ("smoke 1/2", &second)] {
        assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
        assert_nothing_leaks(what, output, dir.path(), all);
    }
    let merged = dir.path().join("merged.json");
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .env("PERF_BEARER_TOKEN", token)
        .args(["merge", "--out"])
        .arg(&merged)
        .arg(dir.path().join("a.json"))
        .arg(dir.path().join("b.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "merge: {}", String::from_utf8_lossy(&output.stderr));
    assert_nothing_leaks("merge", &output, dir.path(), all);
    for name in ["a.json", "b.json", "merged.json"] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        // Masked where the scenario quoted it, not dropped: and the figures read back.
        assert!(text.contains("authorized as ***") && text.contains("core ***"), "{name}: {text}");
        if let Err(error) = gatecheck::sources::k6_summary::parse(name, text.as_bytes()) {
            panic!("{name} no longer reads back: {error}");
        }
    }
}

/// Finding round18-text/01: clap's argument errors are printed through the error path of every
/// other error (one line, exit 2), after the environment's credentials and the command line's
/// (a header flag's value, a URL's password) are known to the scrubber: a header split into two
/// words by a missing pair of quotes, or a misplaced credential, is printed as `***`.
#[test]
fn an_argument_error_never_quotes_a_credential() {
    const PROM_TOKEN: &str = "tokA1b2c3d4e5f6g7h8secret";
    const TARGET_TOKEN: &str = "perfZ9y8x7w6v5u4t3s2secret";
    let env = [("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN), ("PERF_BEARER_TOKEN", TARGET_TOKEN)];
    for args in [
        vec![
            "check",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--prometheus-header",
            "Authorization: Bearer",
            PROM_TOKEN,
        ],
        vec!["check", "--require", TARGET_TOKEN],
    ] {
        let output = gatecheck().envs(env).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("gatecheck: error: ") && err.lines().count() == 1 && err.contains("'***'"),
            "{args:?}: {err}"
        );
        assert_no_canary(&format!("{args:?} stderr"), &err, &[PROM_TOKEN, TARGET_TOKEN]);
    }
}

/// Findings round19-text/01 and 02: a credential only on the command line, which gatecheck
/// cannot know as one — the key of a header split by a missing pair of quotes (a stray word),
/// a URL whose userinfo is a token alone or whose query names an access token — was quoted
/// whole by the argument error. An argument error quotes no word of the command line but flag
/// names and subcommands.
#[test]
fn an_argument_error_quotes_no_value_of_the_command_line() {
    const KEY: &str = "ak-live-9f8e7d6c5b4a39281706";
    let url = format!("http://glpat-{KEY}@127.0.0.1:9");
    let query = format!("http://127.0.0.1:9/?access_token={KEY}");
    let header_equals = "--prometheus-header=X-Api-Key:".to_string();
    for args in [
        vec!["check", "--prometheus-url", "http://127.0.0.1:9", "--prometheus-header", "X-Api-Key:", KEY],
        vec!["check", "--prometheus-url", "http://127.0.0.1:9", &header_equals, KEY],
        vec!["check", "--prometheus-url", "http://127.0.0.1:9", "--prometheus-header", "Authorization: Bearer", KEY],
        vec!["smoke", "--remote-write-header", "X-Scope-Token:", KEY],
        vec!["check", &url],
        vec!["check", "--prometheus-url", "http://127.0.0.1:9", &query, &query],
        vec!["check", "--require", &url],
    ] {
        let output = gatecheck().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("gatecheck: error: ") && err.lines().count() == 1, "{args:?}: {err}");
        assert!(!err.contains("9f8e7d6c") && err.contains("'***'"), "{args:?}: {err}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Finding round18-text/01, over argument positions: a credential of the environment, a
    /// credential flag's value (`--flag VALUE` or `--flag=VALUE`) or a URL's password, put
    /// anywhere in a command line — where clap refuses it, or refuses another argument it
    /// displaced — never reaches stdout or stderr, and an argument error is one line.
    #[test]
    fn a_credential_anywhere_on_the_command_line_is_never_printed(
        inserted in proptest::collection::vec((0usize..64, 0usize..7), 1..3),
    ) {
        const PROM_TOKEN: &str = "canary-arg-prom-7a6b5c";
        const TARGET_TOKEN: &str = "canary-arg-perf-4d3e2f";
        const HEADER: &str = "canary-arg-header-1c2d3e";
        const PASSWORD: &str = "canary-arg-password-9f8e";
        let items: [Vec<String>; 7] = [
            vec![PROM_TOKEN.into()],
            vec![TARGET_TOKEN.into()],
            vec!["--require".into(), TARGET_TOKEN.into()],
            vec!["--prometheus-header".into(), format!("X-Api-Key: {HEADER}")],
            vec![format!("--prometheus-header=X-Api-Key: Bearer {HEADER}")],
            vec![format!("http://admin:{PASSWORD}@127.0.0.1:9")],
            vec!["--prometheus-header".into(), "Authorization: Bearer".into(), PROM_TOKEN.into()],
        ];
        let mut args: Vec<String> = ["check", "--policy", "gates/release.toml", "--summary", FAIL_ERRORS,
            "--prometheus-url", "http://127.0.0.1:9", "--prometheus-retries", "0"].map(String::from).to_vec();
        for (position, item) in inserted {
            let at = position % (args.len() + 1);
            args.splice(at..at, items[item].clone());
        }
        let output = gatecheck()
            .envs([("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN), ("PERF_BEARER_TOKEN", TARGET_TOKEN)])
            .args(&args)
            .output()
            .unwrap();
        let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let canaries = [PROM_TOKEN, TARGET_TOKEN, HEADER, PASSWORD];
        assert_no_canary(&format!("{args:?} stdout"), &out, &canaries);
        assert_no_canary(&format!("{args:?} stderr"), &err, &canaries);
        if output.status.code() == Some(2) && out.is_empty() {
            proptest::prop_assert!(err.starts_with("gatecheck: error: ") && err.lines().count() == 1, "{:?}: {}", args, err);
        }
    }
}

/// Headless Chromium, as a witness: a threshold key that closes its cell and opens a script
/// and an image with an onerror handler stays text in the HTML report; nothing of it runs.
#[test]
fn hostile_text_in_the_html_report_is_text_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostile = "rate<0.01</td><script>document.body.setAttribute('data-pwned','script')</script>\
                   <img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">\u{1b}[31m\n::x";
    let summary = summary_with_threshold(dir.path(), hostile);
    let html = dir.path().join("verdict.html");
    gatecheck_with_lag()
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .assert()
        .code(1);
    let probe = "JSON.stringify({pwned: document.body.getAttribute('data-pwned'), scripts: document.scripts.length, \
                 images: document.images.length, shown: [...document.querySelectorAll('td.check')].some(td => \
                 td.textContent.includes(\"</td><script>document.body\") && td.textContent.includes('\\\\u001b[31m\\\\n::x'))})";
    let run = crate::browser::open(&chromium, &html, probe);
    let seen: serde_json::Value = serde_json::from_str(run.probe.as_str().expect("a JSON string")).unwrap();
    assert_eq!(seen["pwned"], serde_json::Value::Null, "{seen}");
    assert_eq!(seen["scripts"], 1, "only gatecheck's own script: {seen}");
    assert_eq!(seen["images"], 0, "{seen}");
    assert_eq!(seen["shown"], true, "the text is shown as text: {seen}");
}

/// Headless Chromium: a 3000-character unbroken text in a row (a k6 threshold key here; a
/// series label or a gate's note alike) wraps inside its cell: every row's verdict badge stays
/// within the page's width (round 39 side note: it pushed the verdict columns out of view).
#[test]
fn a_long_unbroken_text_keeps_every_verdict_in_view_in_a_real_browser() {
    let Some(chromium) = crate::browser::chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(dir.path(), &format!("rate<0.01{}", "x".repeat(3000)));
    let html = dir.path().join("verdict.html");
    gatecheck_with_lag()
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .assert()
        .code(1);
    let probe = "JSON.stringify({width: document.documentElement.clientWidth, \
                 long: [...document.querySelectorAll('td.check')].some(td => td.textContent.length > 3000), \
                 badges: [...document.querySelectorAll('table.gates .badge')].map(b => b.getBoundingClientRect().right), \
                 table: document.querySelector('table.gates').getBoundingClientRect().right})";
    let run = crate::browser::open(&chromium, &html, probe);
    let seen: serde_json::Value = serde_json::from_str(run.probe.as_str().expect("a JSON string")).unwrap();
    let width = seen["width"].as_f64().unwrap();
    assert_eq!(seen["long"], true, "the long text is in the page: {seen}");
    let badges = seen["badges"].as_array().unwrap();
    assert!(badges.len() > 3, "{seen}");
    for right in badges {
        assert!(right.as_f64().unwrap() <= width, "a verdict is out of view: {seen}");
    }
    assert!(seen["table"].as_f64().unwrap() <= width, "{seen}");
}

/// One piece of the hostile alphabet the issue names, plus link, HTML, entity, emphasis and
/// math openers and Unicode line separators.
fn hostile_piece() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("\n::add-mask::x".to_string()),
        Just("\n::error::pwned".to_string()),
        // The runner's legacy form, obeyed anywhere in a line (finding text3/01).
        Just("##[add-mask]x ##[stop-commands]t".to_string()),
        Just("\r".to_string()),
        Just("\u{1b}[31m".to_string()),
        Just("\0".to_string()),
        Just("</td><script>alert(1)</script>".to_string()),
        Just("`".to_string()),
        Just("|".to_string()),
        Just("]]>".to_string()),
        Just("<img src=https://evil.example/x.png>".to_string()),
        Just("[l](https://evil.example)".to_string()),
        Just("![i](https://evil.example/i.png)".to_string()),
        Just("https://evil.example www.evil.example a@evil.example".to_string()),
        Just("&amp;&#x3c;".to_string()),
        Just("*_~$\\".to_string()),
        Just("\u{2028}\u{202e}\u{85}".to_string()),
        // Format characters a hand list missed (finding round27-text/01), DEL and C1 (/02).
        Just("\u{61c}\u{200b}\u{2060}\u{206a}\u{fff9}\u{e0041}\u{7f}\u{9b}".to_string()),
        Just("\"'".to_string()),
        // A credential gatecheck holds, quoted in any file (finding round16-text/01).
        Just(FILE_CANARY.to_string()),
        "[a-z0-9 ]{1,6}",
    ]
}

/// A credential set for every run of the hostile-text proptest and written into its files:
/// no output may hold it.
const FILE_CANARY: &str = "canary-in-files-4e5d6c7b";

/// A hostile string: a few pieces, sometimes past 4 KB.
fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    (proptest::collection::vec(hostile_piece(), 1..6), any::<bool>(), 0..4u8).prop_map(|(pieces, long, _)| {
        let text = pieces.concat();
        if long {
            format!("{}{text}", "y".repeat(4096))
        } else {
            text
        }
    })
}

/// What one in-process command printed and wrote.
struct Outputs {
    stdout: String,
    stderr: String,
    files: Vec<(PathBuf, String)>,
}

/// Runs `args` in-process as the binary would (the exit-2 line through the same function
/// main uses), with `env` as the whole environment and GitHub's step summary and annotations
/// on; every report format is written under `dir`.
fn run_in_process(runtime: &tokio::runtime::Runtime, dir: &Path, args: &[String], env: &[(&str, String)]) -> Outputs {
    run_in_process_with(runtime, dir, args, env, true)
}

/// `run_in_process`, with `--report` flags only when the command takes them.
fn run_in_process_with(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &[String],
    env: &[(&str, String)],
    reports: bool,
) -> Outputs {
    use clap::Parser;
    let step_summary = dir.join("step-summary.md");
    let mut env: std::collections::HashMap<String, String> =
        env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    env.insert("GITHUB_STEP_SUMMARY".into(), step_summary.display().to_string());
    env.insert("GITHUB_ACTIONS".into(), "true".into());
    let mut argv: Vec<String> = vec!["gatecheck".into()];
    argv.extend(args.iter().cloned());
    for format in ["json", "junit", "markdown", "html"].into_iter().filter(|_| reports) {
        argv.push("--report".into());
        argv.push(format!("{format}={}", dir.join(format!("report.{format}")).display()));
    }
    let cli = gatecheck::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let lookup = |name: &str| Ok(env.get(name).cloned());
    let mut stdout = Vec::new();
    let stderr = match runtime.block_on(gatecheck::run(cli, &lookup, &mut stdout)) {
        Ok(_) => String::new(),
        Err(error) => gatecheck::commands::error_line(&error) + "\n",
    };
    Outputs { stdout: String::from_utf8(stdout).expect("stdout is UTF-8"), stderr, files: files_under(dir) }
}

/// Every output of one command parses with a real parser and no line starts with outside text.
/// Whether `c` is a character no output shows as itself: controls but the layout's own line
/// breaks and tabs, DEL and C1, bidi marks and overrides, zero-width and invisible characters
/// (but the joiners, which the Markdown writer uses on its own), line and paragraph
/// separators, the BOM, interlinear annotation marks and tag characters. Listed here, apart
/// from the code's rule, so a gap in one is seen by the other (finding round27-text/01).
fn shown_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{180e}'
        | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

fn assert_nothing_hidden(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| shown_hidden(*c)) {
        panic!("{what}: U+{:04X} written as itself: {}", u32::from(c), text.escape_debug());
    }
}

fn assert_outputs_hold(what: &str, outputs: &Outputs) {
    assert_nothing_hidden(&format!("{what} stdout"), &outputs.stdout);
    assert_nothing_hidden(&format!("{what} stderr"), &outputs.stderr);
    for (path, text) in &outputs.files {
        assert_nothing_hidden(&format!("{what}: {}", path.display()), text);
    }
    assert_no_workflow_command(&format!("{what} stdout"), &outputs.stdout);
    assert_no_workflow_command(&format!("{what} stderr"), &outputs.stderr);
    // Every report may be written to standard output (`--report json=-`, finding round37-text/02).
    for (path, text) in &outputs.files {
        assert_no_workflow_command(&format!("{what}: {}", path.display()), text);
    }
    assert_no_canary(&format!("{what} stdout"), &outputs.stdout, &[FILE_CANARY]);
    assert_no_canary(&format!("{what} stderr"), &outputs.stderr, &[FILE_CANARY]);
    for (path, text) in &outputs.files {
        assert_no_canary(&format!("{what}: {}", path.display()), text, &[FILE_CANARY]);
    }
    assert!(outputs.stderr.lines().count() <= 1, "{what}: the error is one line: {}", outputs.stderr);
    for (path, text) in &outputs.files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let what = format!("{what}: {name}");
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") if name.starts_with("report") => {
                serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
            }
            Some("junit") => {
                roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{what}: not XML 1.0: {e}\n{text}"));
            }
            Some("md") | Some("markdown") => assert_markdown_is_inert(&what, text),
            _ => {}
        }
    }
}

/// A native summary from one real (short) smoke run against the demo target, made once.
fn native_summary() -> &'static serde_json::Value {
    static SUMMARY: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SUMMARY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let target = Served::start(&["demo", "--serve"]);
        let status =
            spawn_smoke(&target.url, dir.path(), "native", &["--duration", "3s", "--vus", "2"]).wait().unwrap();
        assert!(status.success(), "smoke: {status:?}");
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("native.json")).unwrap()).unwrap()
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    /// The escaping rules, stated once over every input gatecheck may print: k6 metric, tag,
    /// threshold and check strings in both k6 summary shapes and in raw results; waiver fields; a native
    /// summary's scenario, target, flow and endpoint names and skipped-flow reasons; the text
    /// of a Prometheus server's errors, warnings and labels. Every output — stdout, the exit-2
    /// line, the JSON, JUnit, Markdown and HTML reports, the step summary and annotations —
    /// parses with a real parser, and no line starts with outside text.
    #[test]
    fn hostile_text_in_any_input_leaves_every_output_parseable(texts in proptest::collection::vec(hostile(), 12)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut lag: Vec<(&str, String)> = PASSING_LAG.iter().map(|(k, v)| (*k, v.to_string())).collect();
        lag.push(("GATECHECK_PROMETHEUS_TOKEN", FILE_CANARY.to_string()));
        let policy = repo().join("gates/release.toml").display().to_string();

        // k6 --summary-export: a metric with a hostile name and tag, failed hostile thresholds.
        let dir = tempfile::tempdir().unwrap();
        let mut export: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(repo().join(FAIL_ERRORS)).unwrap()).unwrap();
        export["metrics"]["checks{flow:rule_poll}"]["thresholds"][texts[3].clone()] = serde_json::Value::Bool(true);
        export["metrics"]["http_req_failed{flow:auth_list}"]["thresholds"][texts[2].clone()] = serde_json::Value::Bool(true);
        // One of the run's checks renamed: its counts stay those the `checks` rate sums.
        let checks = export["root_group"]["checks"].as_object_mut().unwrap();
        let first = checks.keys().next().unwrap().clone();
        let mut check = checks.remove(&first).unwrap();
        (check["name"], check["path"]) = (serde_json::json!(texts[4]), serde_json::json!(format!("::{}", texts[4])));
        checks.insert(texts[4].clone(), check);
        let summary = dir.path().join("export.json");
        std::fs::write(&summary, export.to_string()).unwrap();
        let waivers = dir.path().join("waivers.toml");
        std::fs::write(&waivers, format!(
            "[[waiver]]\ngate = \"write-errors\"\nowner = {}\nreason = {}\nticket = {}\nexpires = {}\n\n\
             [[waiver]]\ngate = {}\nowner = \"dana\"\nreason = {}\nticket = \"T-1\"\nexpires = {}\n",
            // Never blank: a blank field is refused, and this run must reach every report.
            toml_string(&format!("o{}", texts[5])), toml_string(&format!("r{}", texts[6])),
            toml_string(&format!("t{}", texts[7])), day(3),
            toml_string(&format!("g{}", texts[8])), toml_string(&format!("r{}", texts[9])), day(3),
        )).unwrap();
        let args: Vec<String> = ["verify", "--policy", &policy, "--summary", &summary.display().to_string(), "--waivers",
            &waivers.display().to_string()].map(String::from).to_vec();
        let reports = tempfile::tempdir().unwrap();
        let outputs = run_in_process(&runtime, reports.path(), &args, &lag);
        assert_outputs_hold("verify k6 export", &outputs);
        // Judged, not refused: the hostile text reached every report.
        proptest::prop_assert!(outputs.stderr.is_empty() && reports.path().join("report.html").exists(), "verify k6 export: {}", outputs.stderr);

        // A hostile metric name and tag: refused (exit 2) or judged, every output holds.
        let mut named = export.clone();
        // Counted over the export's own run duration (every counter's rate is count / it).
        let rate = 3.0 * export["metrics"]["http_reqs"]["rate"].as_f64().unwrap() / export["metrics"]["http_reqs"]["count"].as_f64().unwrap();
        named["metrics"][format!("{}{{flow:{}}}", texts[0], texts[1])] =
            serde_json::json!({"count": 3, "rate": rate, "thresholds": {texts[2].clone(): true}});
        named["metrics"][format!("http_reqs{{flow:{}}}", texts[1])] = serde_json::json!({"count": 3, "rate": rate});
        let summary = dir.path().join("named.json");
        std::fs::write(&summary, named.to_string()).unwrap();
        let args: Vec<String> = ["verify", "--policy", &policy, "--summary", &summary.display().to_string()].map(String::from).to_vec();
        let reports = tempfile::tempdir().unwrap();
        assert_outputs_hold("verify k6 metric names", &run_in_process(&runtime, reports.path(), &args, &lag));

        // k6 raw results (--raw): hostile tags, check names, thresholds and submetric names.
        let raw = dir.path().join("raw.ndjson");
        let mut lines = std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/raw.ndjson")).unwrap();
        for line in [
            serde_json::json!({"type": "Metric", "metric": "hostile_trend", "data": {"name": "hostile_trend", "type": "trend",
                "contains": "time", "thresholds": [texts[2]], "submetrics": [{"name": format!("hostile_trend{{flow:{}}}", texts[1]),
                "suffix": "x", "tags": {"flow": texts[1]}}]}}),
            serde_json::json!({"type": "Point", "metric": "checks", "data": {"time": "2026-11-27T07:35:37Z", "value": 0,
                "tags": {"check": texts[4], "flow": texts[1], "name": texts[0], "scenario": texts[3]}}}),
            serde_json::json!({"type": "Point", "metric": "http_req_duration", "data": {"time": "2026-11-27T07:35:37Z",
                "value": 12.5, "tags": {"flow": texts[1], "name": texts[0], "status": texts[3], "url": texts[4]}}}),
        ] {
            lines.push_str(&line.to_string());
            lines.push('\n');
        }
        std::fs::write(&raw, lines).unwrap();
        let args: Vec<String> = ["verify", "--policy", &policy, "--summary", "fixtures/k6/1.1.0/pass/summary-export.json",
            "--raw", &raw.display().to_string()].map(String::from).to_vec();
        let reports = tempfile::tempdir().unwrap();
        assert_outputs_hold("verify k6 raw", &run_in_process(&runtime, reports.path(), &args, &lag));

        // k6 handleSummary: the same strings in the other shape.
        let mut handle: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/handle-summary.json")).unwrap()).unwrap();
        handle["metrics"]["checks{flow:rule_poll}"]["thresholds"][texts[2].clone()] = serde_json::json!({"ok": false});
        handle["root_group"]["checks"][0]["name"] = serde_json::json!(texts[4]);
        let summary = dir.path().join("handle.json");
        std::fs::write(&summary, handle.to_string()).unwrap();
        let args: Vec<String> = ["verify", "--policy", &policy, "--summary", &summary.display().to_string()].map(String::from).to_vec();
        let reports = tempfile::tempdir().unwrap();
        let outputs = run_in_process(&runtime, reports.path(), &args, &lag);
        assert_outputs_hold("verify handleSummary", &outputs);
        // Judged, not refused: the hostile text reached every report.
        proptest::prop_assert!(outputs.stderr.is_empty() && reports.path().join("report.html").exists(), "verify handleSummary: {}", outputs.stderr);

        // A native summary: scenario, target, flow and endpoint names, skipped-flow reasons.
        let mut native = native_summary().clone();
        // Written where a runner of such a scenario writes them: the run's facts and its plan
        // alike (every reader holds a native summary's facts to its own plan, round35-figures/01).
        for facts in ["/gatecheck", "/gatecheck/shard/plan"] {
            let facts = native.pointer_mut(facts).unwrap();
            facts["scenario"] = serde_json::json!(texts[10]);
            facts["skipped_flows"] = serde_json::json!([{"flow": "rule_poll", "because": texts[11]}]);
        }
        // Renamed where the runner writes the name: in the recorder and in its figures' key (a
        // trend with no histogram is refused, finding round6/02).
        let flow = native["gatecheck"]["recorder"]["flows"][0]["name"].as_str().unwrap_or_default().to_string();
        let endpoint_name = native["gatecheck"]["recorder"]["flows"][0]["endpoints"][0]["name"].as_str().map(str::to_string);
        if let Some(old_name) = endpoint_name {
            native["gatecheck"]["recorder"]["flows"][0]["endpoints"][0]["name"] = serde_json::json!(texts[1]);
            if let Some(requests) = native["gatecheck"]["shard"]["plan"]["flows"][&flow]["requests"].as_array_mut() {
                for request in requests.iter_mut().filter(|request| request["name"] == serde_json::json!(old_name)) {
                    request["name"] = serde_json::json!(texts[1]);
                }
            }
            let old = format!("http_req_duration{{flow:{flow},name:{old_name}}}");
            if let Some(stats) = native["metrics"].as_object_mut().and_then(|metrics| metrics.remove(&old)) {
                native["metrics"][format!("http_req_duration{{flow:{flow},name:{}}}", texts[1])] = stats;
            }
        }
        let summary = dir.path().join("native.json");
        std::fs::write(&summary, native.to_string()).unwrap();
        let args: Vec<String> = ["verify", "--policy", &policy, "--summary", &summary.display().to_string()].map(String::from).to_vec();
        let reports = tempfile::tempdir().unwrap();
        let outputs = run_in_process(&runtime, reports.path(), &args, &lag);
        assert_outputs_hold("verify native", &outputs);
        // Judged, not refused: the hostile text reached every report.
        proptest::prop_assert!(outputs.stderr.is_empty() && reports.path().join("report.html").exists(), "verify native: {}", outputs.stderr);

        // A policy's own words (policy, flow and gate descriptions) in gates, export and verify.
        let release = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
        let hostile_policy: String = release
            .lines()
            .enumerate()
            .map(|(n, line)| if line.starts_with("description = ") {
                format!("description = {}\n", toml_string(&format!("d{}", texts[n % texts.len()])))
            } else {
                format!("{line}\n")
            })
            .collect();
        let policy_path = dir.path().join("policy.toml");
        std::fs::write(&policy_path, &hostile_policy).unwrap();
        let hostile = policy_path.display().to_string();
        for (args, reports) in [
            (vec!["gates", "--policy", &hostile], false),
            (vec!["export", "prometheus-rules", "--policy", &hostile], false),
            (vec!["verify", "--policy", &hostile, "--summary", FAIL_ERRORS], true),
        ] {
            let args: Vec<String> = args.into_iter().map(String::from).collect();
            let reports_dir = tempfile::tempdir().unwrap();
            let outputs = run_in_process_with(&runtime, reports_dir.path(), &args, &lag, reports);
            assert_outputs_hold(&args[..2].join(" "), &outputs);
            if args[0] == "export" && !outputs.stderr.is_empty() {
                // A generated file holding a credential (a description quoting the canary, where
                // the rules quote it) is refused, never masked (round39-text/03): one line naming
                // where, nothing written (the canary is in no output: above).
                proptest::prop_assert!(
                    hostile_policy.contains(FILE_CANARY)
                        && outputs.stdout.is_empty()
                        && outputs.stderr.lines().count() == 1
                        && outputs.stderr.contains("holds a value gatecheck knows as a credential"),
                    "{:?}: {}", args, outputs.stderr
                );
                continue;
            }
            proptest::prop_assert!(outputs.stderr.is_empty(), "{:?}: {}", args, outputs.stderr);
        }

        // A Prometheus server whose errors, warnings and labels carry the hostile text.
        for (index, mode) in [Echo::PromWarning, Echo::PromError].into_iter().enumerate() {
            let server = prometheus_server();
            *server.mode.lock().unwrap() = mode;
            *server.extra.lock().unwrap() = texts[2 + index].clone();
            let args: Vec<String> = ["check", "--policy", &policy, "--summary", FAIL_ERRORS, "--prometheus-url", &server.url,
                "--prometheus-retries", "0"].map(String::from).to_vec();
            let reports = tempfile::tempdir().unwrap();
            let token = [("GATECHECK_PROMETHEUS_TOKEN", FILE_CANARY.to_string())];
            assert_outputs_hold(&format!("check {mode:?}"), &run_in_process(&runtime, reports.path(), &args, &token));
        }
    }
}

/// One echoing Prometheus for every case of the generative test (cases run one at a time).
fn prometheus_server() -> &'static EchoServer {
    static SERVER: std::sync::OnceLock<EchoServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| EchoServer::start(Echo::PromWarning))
}

/// Findings text-secrets 01 and 02: a URL with credentials the client would send — a password
/// holding `/`, `?` or `#`, or `http:/` with one slash, which the client reads as `http://` —
/// is refused at every URL input (exit 2, nothing sent), and no error quotes the password.
#[test]
fn credentials_in_any_url_form_are_refused_and_never_quoted() {
    const PASSWORD: &str = "CanaryPw77";
    let forms = [
        format!("http:/admin:{PASSWORD}@127.0.0.1:9/metrics"),
        format!("http:\\\\admin:{PASSWORD}@127.0.0.1:9/metrics"),
        format!("http://admin:pa/ss{PASSWORD}@127.0.0.1:9"),
        format!("http://admin:pa?ss{PASSWORD}@127.0.0.1:9"),
        format!("http://admin:pa#ss{PASSWORD}@127.0.0.1:9"),
        format!("http:/admin:pa/ss{PASSWORD}@127.0.0.1:9"),
        // In the query string, under a credential's name (issue 21, session 6).
        format!("http://127.0.0.1:9/?access_token={PASSWORD}"),
        format!("http://127.0.0.1:9/api/v1/push?x=1&Api-Key={PASSWORD}"),
        format!("http://127.0.0.1:9/?%74oken={PASSWORD}"),
        // Finding round9-text/04: InfluxDB 1.x's documented remote-write URL (`u=`, `p=`).
        format!("http://127.0.0.1:9/api/v1/prom/write?db=prometheus&u=admin&p={PASSWORD}"),
    ];
    let (dir, config) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let toml = config.path().join("gatecheck.toml");
    for url in &forms {
        std::fs::write(&toml, format!("prometheus_url = {}\n", toml_string(url))).unwrap();
        let runs: Vec<(&str, std::process::Output)> = vec![
            (
                "--prometheus-url",
                gatecheck()
                    .args(["check", "--policy", "gates/release.toml", "--prometheus-url", url])
                    .output()
                    .unwrap(),
            ),
            (
                "GATECHECK_PROMETHEUS_URL",
                gatecheck()
                    .env("GATECHECK_PROMETHEUS_URL", url)
                    .args(["check", "--policy", "gates/release.toml"])
                    .output()
                    .unwrap(),
            ),
            (
                "gatecheck.toml",
                gatecheck()
                    .arg("--config")
                    .arg(&toml)
                    .args(["check", "--policy", "gates/release.toml"])
                    .output()
                    .unwrap(),
            ),
            (
                "--scrape-url",
                gatecheck()
                    .envs([
                        ("PERF_BASE_URL", "http://127.0.0.1:9"),
                        ("PERF_BEARER_TOKEN", DEMO_TOKEN),
                        ("PERF_RULE_ID", DEMO_RULE),
                    ])
                    .args(["smoke", "--quiet", "--duration", "3s", "--scrape-url", url])
                    .arg("--summary-out")
                    .arg(dir.path().join("s.json"))
                    .output()
                    .unwrap(),
            ),
            (
                "--remote-write",
                gatecheck()
                    .envs([
                        ("PERF_BASE_URL", "http://127.0.0.1:9"),
                        ("PERF_BEARER_TOKEN", DEMO_TOKEN),
                        ("PERF_RULE_ID", DEMO_RULE),
                    ])
                    .args(["smoke", "--quiet", "--duration", "3s", "--remote-write", url])
                    .arg("--summary-out")
                    .arg(dir.path().join("s.json"))
                    .output()
                    .unwrap(),
            ),
            (
                "PERF_BASE_URL",
                gatecheck()
                    .envs([
                        ("PERF_BASE_URL", url.as_str()),
                        ("PERF_BEARER_TOKEN", DEMO_TOKEN),
                        ("PERF_RULE_ID", DEMO_RULE),
                    ])
                    .args(["smoke", "--quiet", "--duration", "3s"])
                    .arg("--summary-out")
                    .arg(dir.path().join("s.json"))
                    .output()
                    .unwrap(),
            ),
        ];
        for (input, output) in runs {
            let err = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{input} {url}: {err}");
            // PERF_BASE_URL holding userinfo is a credential by its value's shape, refused as one
            // before it is read as a URL (finding round32-text/01).
            let by_shape = err.contains("${PERF_BASE_URL}: the variable's value reads as a credential");
            assert!(err.contains("credentials do not belong in the URL") || by_shape, "{input} {url}: {err}");
            assert_nothing_leaks(&format!("{input} {url}"), &output, dir.path(), &[PASSWORD]);
        }
    }
}

/// Finding text2/04: `gatecheck test` quotes a test file's gate keys and the verdict's checks
/// in its failures; a key holding a line break never starts a line of its own.
#[test]
fn a_policy_tests_gate_key_never_starts_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = policy_test_with_gate_key(dir.path(), "lag\\n::error title=pwned::owned");
    let stdout = stdout_of(&out);
    assert_no_workflow_command("stdout", &stdout);
    assert!(stdout.contains("lag\\n::error title=pwned::owned"), "{stdout}");
}

/// Runs `gatecheck test` in `dir` on a one-gate policy and one case expecting a gate keyed
/// `gate_key` (TOML basic-string text, so `\\n` is a line break) that the verdict does not
/// have: the test fails (exit 1) and quotes the key.
fn policy_test_with_gate_key(dir: &Path, gate_key: &str) -> assert_cmd::assert::Assert {
    std::fs::write(
        dir.join("p.toml"),
        "[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"p(95) < 60s\"]\n[gate.env]\n\"p(95)\" = \"LAG_P95\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("t.toml"),
        format!("policy = \"p.toml\"\n[[case]]\nname = \"x\"\nenv = {{ LAG_P95 = \"1\" }}\n[case.expect]\noutcome = \"ship\"\n[case.expect.gates]\n\"{gate_key}\" = \"PASS\"\n"),
    )
    .unwrap();
    gatecheck().current_dir(dir).args(["test", "t.toml"]).assert().code(1)
}

/// Findings round7-text/05 and /06: the runner trims a line's leading whitespace before it
/// looks for `::`, so outside text printed after gatecheck's indentation (a `gatecheck test`
/// problem) or first on a line (a `lint` finding's file name) is a command unless broken up.
#[test]
fn outside_text_opening_an_indented_or_first_piece_of_a_line_is_no_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = policy_test_with_gate_key(dir.path(), "::add-mask::hunter2");
    assert_no_workflow_command("gatecheck test stdout", &stdout_of(&out));
    assert_no_workflow_command("gatecheck test stderr", &stderr_of(&out));
    std::fs::write(
        dir.path().join("::add-mask::hunter2.toml"),
        "[[gate]]\nid = \"x\"\nthresholds = [\"p(95) < 1s\"]\n",
    )
    .unwrap();
    let out = gatecheck().current_dir(dir.path()).args(["lint", "::add-mask::hunter2.toml"]).output().unwrap();
    assert_no_workflow_command("lint stdout", &String::from_utf8_lossy(&out.stdout));
    assert_no_workflow_command("lint stderr", &String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hunter2"), "{out:?}");
}

/// Finding text2/10: a remote-write refusal was cut to 200 characters before it was scrubbed,
/// so a token straddling the cut was no longer whole and 38 of its 41 characters were printed
/// and stored. Scrubbed whole, then cut: no part of it survives.
#[test]
fn a_token_straddling_the_refusal_cut_is_scrubbed() {
    const RW_TOKEN: &str = "canary-cut-token-5f1c9a7e3b2d4c68a0e1f2";
    let dir = tempfile::tempdir().unwrap();
    let target = Served::start(&["demo", "--serve"]);
    let receiver = EchoServer::start(Echo::AuthorizationAtTheCut);
    let push = format!("--remote-write={}/api/v1/write", receiver.url);
    let summary = dir.path().join("s.json");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs([
            ("PERF_BASE_URL", target.url.as_str()),
            ("PERF_BEARER_TOKEN", DEMO_TOKEN),
            ("PERF_RULE_ID", DEMO_RULE),
            ("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN),
        ])
        .args(["smoke", "--quiet", "--duration", "3s", "--vus", "1", &push, "--summary-out"])
        .arg(&summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("refused the push: HTTP 401"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let prefix = &RW_TOKEN[..20];
    for (what, text) in [("stdout", stdout.to_string()), ("summary", std::fs::read_to_string(&summary).unwrap())] {
        assert!(!text.contains(prefix), "{what} carries part of the token: {text}");
    }
}

/// Finding text3/01: the runner obeys `##[cmd]data` anywhere in a line; a k6 threshold string
/// carrying one is shown broken up, in the table, the notes and the last line alike.
#[test]
fn a_legacy_workflow_command_in_k6_text_is_broken_up() {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(dir.path(), "rate>0.99 ##[add-mask]secret ##[stop-commands]tok");
    let assert = gatecheck_with_lag().args(["verify", "--summary"]).arg(&summary).assert();
    let out = stdout_of(&assert);
    assert_no_workflow_command("stdout", &out);
    assert!(out.contains("##\\[add-mask]"), "{out}");
}

/// Whether some string literal in `text` (a JSON document or a JavaScript script, whose string
/// literals gatecheck writes as JSON's) reads back as a text holding `wanted`.
fn a_literal_reads_back_holding(text: &str, wanted: &str) -> bool {
    text.match_indices('"').any(|(at, _)| {
        serde_json::Deserializer::from_str(&text[at..])
            .into_iter::<String>()
            .next()
            .is_some_and(|read| read.is_ok_and(|read| read.contains(wanted)))
    })
}

/// Finding round37-text/02: the runner obeys `##[cmd]` anywhere in a line, and the JSON writer
/// left it intact. Every report format written to standard output, and the exported k6 script,
/// holds k6's or the scenario's text with no runner command in any line, and JSON and the
/// script's string literals read back as the same text.
#[test]
fn every_report_on_stdout_and_the_k6_script_carry_no_runner_command() {
    const HOSTILE: &str = "p(95)<300 ##[warning]from-threshold ###[add-mask]gatecheck \\##[error]x\u{2028}::error::y";
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(dir.path(), HOSTILE);
    for format in ["json", "junit", "markdown", "html"] {
        let assert = gatecheck_with_lag()
            .args(["verify", "--summary"])
            .arg(&summary)
            .args(["--report", &format!("{format}=-")])
            .assert();
        let out = stdout_of(&assert);
        assert_no_workflow_command(&format!("--report {format}=-"), &out);
        if format == "json" {
            // The report follows the table, on a line of its own.
            let start = out.find("\n{").map(|at| at + 1).unwrap_or_else(|| panic!("no JSON in {out}"));
            let report = serde_json::Deserializer::from_str(&out[start..]).into_iter::<serde_json::Value>().next();
            assert!(report.is_some_and(|report| report.is_ok()), "the JSON report does not parse: {out}");
            assert!(a_literal_reads_back_holding(&out, HOSTILE), "the threshold does not read back: {out}");
        }
    }

    let scenario = dir.path().join("scenario.toml");
    let core = std::fs::read_to_string(repo().join("gates/core-flows.toml")).unwrap();
    let check = "##[error]check ###[add-mask]x \\##[warning]y";
    std::fs::write(
        &scenario,
        core.replace("check = \"watch-rules status is 200\"", &format!("check = {}", toml_string(check))),
    )
    .unwrap();
    let assert = gatecheck().args(["export", "k6", "--scenario"]).arg(&scenario).assert().code(0);
    let script = stdout_of(&assert);
    assert_no_workflow_command("export k6", &script);
    assert!(a_literal_reads_back_holding(&script, check), "the check name does not read back: {script}");
}

/// Finding text3/03: smoke's summary and log paths are the user's text: one line each in its
/// stdout and in the run log.
#[test]
fn smoke_output_paths_never_start_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let target = Served::start(&["demo", "--serve"]);
    let summary = dir.path().join("s\n::error title=pwned::summary.json");
    let log = dir.path().join("l\n::add-mask::log.txt");
    let env = [("PERF_BASE_URL", target.url.as_str()), ("PERF_BEARER_TOKEN", DEMO_TOKEN), ("PERF_RULE_ID", DEMO_RULE)];
    let args: Vec<std::ffi::OsString> = vec![
        "smoke".into(),
        "--quiet".into(),
        "--duration".into(),
        "3s".into(),
        "--vus".into(),
        "1".into(),
        "--summary-out".into(),
        summary.clone().into(),
        "--log-out".into(),
        log.clone().into(),
    ];
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("gatecheck"))
        .current_dir(repo())
        .env_clear()
        .envs(env)
        .args(&args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_no_workflow_command("stdout", &String::from_utf8_lossy(&output.stdout));
    assert_no_workflow_command("run log", &std::fs::read_to_string(&log).unwrap());
}

/// Findings text3/03 and text4/02, as a class: a path the user gives a command that writes files
/// (`man --dir`, `export … --out`, `merge --out`) is outside text wherever it is printed: a
/// line break in it never starts a line of stdout or stderr, and `##[` is broken up.
#[test]
fn paths_given_to_any_command_never_start_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = |name: &str| dir.path().join(format!("{name}\n::error title=pwned::x ##[add-mask]y\n::add-mask::z"));
    let first = crate::merge::segment(dir.path(), 0, &|_| {});
    let second = crate::merge::segment(dir.path(), 1, &|_| {});
    let runs: Vec<(&str, std::process::Output)> = vec![
        ("man --dir", gatecheck().args(["man", "--dir"]).arg(hostile("man")).output().unwrap()),
        (
            "export prometheus-rules --out",
            gatecheck()
                .args(["export", "prometheus-rules", "--policy", "gates/saturation.toml", "--out"])
                .arg(hostile("rules.yml"))
                .output()
                .unwrap(),
        ),
        (
            "export k6 --out",
            gatecheck()
                .env("PERF_RULE_ID", DEMO_RULE)
                .args(["export", "k6", "--out"])
                .arg(hostile("s.js"))
                .output()
                .unwrap(),
        ),
        (
            "merge --out",
            gatecheck().arg("merge").arg(&first).arg(&second).arg("--out").arg(hostile("m.json")).output().unwrap(),
        ),
    ];
    for (what, output) in runs {
        let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "{what}: {out}{err}");
        assert_no_workflow_command(&format!("{what} stdout"), &out);
        assert_no_workflow_command(&format!("{what} stderr"), &err);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, ..Default::default() })]

    /// The rule of `an_argument_error_quotes_no_value_of_the_command_line` over any word at any
    /// position: a stray word clap refuses is never quoted back, whatever it is.
    #[test]
    fn an_argument_error_never_quotes_a_stray_word(
        word in "[A-Za-z0-9._~+/=:@?&%-]{12,40}",
        position in 1usize..5,
    ) {
        proptest::prop_assume!(!word.starts_with('-'));
        let mut args = vec!["check", "--prometheus-url", "http://127.0.0.1:9", "--require", "2"];
        args.insert(position.min(args.len()), &word);
        let output = gatecheck().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        proptest::prop_assert_eq!(output.status.code(), Some(2), "{:?}: {}", args, err);
        proptest::prop_assert!(!err.contains(word.as_str()), "{:?}: {}", args, err);
    }
}

/// Finding round19-text/03: `export k6 --out` wrote a check name quoting the target's token
/// into the script whole (standard output masked it). Since round39-text/03 a generated file is
/// written as generated or refused: masked, the check k6 reports would be another name (it
/// was written `watch-rules as ***`, exit 0); refused, exit 2 names the line, never the value.
#[test]
fn an_exported_k6_script_file_holds_no_credential() {
    const TOKEN: &str = "tok-9f8e7d6c5b4a39281706";
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("cf.toml");
    let text = std::fs::read_to_string(repo().join("gates/core-flows.toml")).unwrap();
    let quoted = text.replacen(
        "check = \"watch-rules status is 200\"",
        &format!("check = \"watch-rules as {TOKEN} is 200\""),
        1,
    );
    assert_ne!(quoted, text);
    std::fs::write(&scenario, quoted).unwrap();
    let script = dir.path().join("script.js");
    let out = gatecheck()
        .env("PERF_BEARER_TOKEN", TOKEN)
        .args(["export", "k6", "--policy", "gates/release.toml", "--scenario"])
        .arg(&scenario)
        .arg("--out")
        .arg(&script)
        .assert()
        .code(2);
    let err = stderr_of(&out);
    assert!(err.contains("script.js: line ") && !err.contains("9f8e7d6c"), "{err}");
    assert!(!script.exists(), "nothing written");
}

/// Finding round19-text/05: two check names differing only where a credential stands (`***`
/// written literally, and the token) were one key once the summary was scrubbed, and the
/// failing check's fails were lost under the passing one's name. Names that read the same once
/// masked are refused before any load (exit 2, one line), for flows, requests and checks alike.
#[test]
fn names_that_read_the_same_once_masked_are_refused_before_any_load() {
    const TOKEN: &str = "tok-9f8e7d6c5b4a39281706";
    for (kind, first, second) in [
        ("check", "status as *** is 200", format!("status as {TOKEN} is 200")),
        ("request", "list ***", format!("list {TOKEN}")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (name_key, check_key) = if kind == "check" { ("", "check") } else { ("name", "") };
        let request = |index: usize, text: &str| {
            let name = if name_key.is_empty() { format!("r{index}") } else { text.to_string() };
            let check = if check_key.is_empty() { format!("c{index}") } else { text.to_string() };
            format!(
                "[[flow.request]]\nname = {name:?}\nmethod = \"GET\"\npath = \"/r{index}\"\ncheck = {check:?}\nexpect_status = 200\n\n"
            )
        };
        let scenario = format!(
            "[scenario]\nname = \"mini\"\nbase_url = \"http://127.0.0.1:9\"\nvus = \"1\"\nduration = \"2s\"\n\
             request_timeout = \"1s\"\nmax_requests = 10\n\n[[flow]]\nname = \"auth_list\"\ndescription = \"list\"\n\
             start_after = \"0s\"\nsleep = \"100ms\"\n\n{}{}",
            request(0, first),
            request(1, &second)
        );
        let path = dir.path().join("sc.toml");
        std::fs::write(&path, scenario).unwrap();
        let output = gatecheck()
            .env("PERF_BEARER_TOKEN", TOKEN)
            .args(["smoke", "--scenario"])
            .arg(&path)
            .arg("--summary-out")
            .arg(dir.path().join("sum.json"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{kind}: {err}");
        assert!(err.contains(&format!("two {kind} names read")) && err.lines().count() == 1, "{kind}: {err}");
        assert!(!err.contains("9f8e7d6c") && !dir.path().join("sum.json").exists(), "{kind}: {err}");
    }
}

/// Finding round21-text/02: a policy whose name quoted a credential the job holds was printed
/// `rel-***`, but `--history DIR` named its record `<stamp>-rel-<token>.json`: the credential
/// sat whole in a file name of the cached history directory. A policy name (which names history
/// records) or a gate id that quotes a credential is refused at load: exit 2, one line that does
/// not quote it, and no file written.
#[test]
fn a_policy_name_quoting_a_credential_is_refused_and_names_no_history_record() {
    const TOKEN: &str = "tokTOKENvalue0123456789";
    let text = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
    for name in [format!("rel-{TOKEN}"), format!("{TOKEN}-rel"), "rel-TOKENvalue01".to_string()] {
        let quoted = text.replacen("name = \"release\"", &format!("name = {name:?}"), 1);
        assert_ne!(quoted, text);
        let (dir, policy) = policy_file(&quoted);
        let history = dir.path().join("hist");
        std::fs::create_dir(&history).unwrap();
        let output = gatecheck()
            .env("PERF_BEARER_TOKEN", TOKEN)
            .args(["verify", "--policy"])
            .arg(&policy)
            .args(["--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--history"])
            .arg(&history)
            .arg("--report")
            .arg(format!("json={}", dir.path().join("r.json").display()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("quotes a credential") && err.lines().count() == 1, "{name}: {err}");
        assert!(!err.contains("TOKENvalue"), "{name}: {err}");
        let listed: Vec<_> = std::fs::read_dir(&history).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(listed.is_empty() && !dir.path().join("r.json").exists(), "{name}: {listed:?}");
    }
}

/// Finding round20-text/05: gate ids `lat-<token prefix>` and `lat-<token rest>` each quote a
/// piece of the credential and read the same once masked (`lat-***`); standard output's mask of
/// the first ran over gatecheck's own line break (`gate: lat-***atecheck_severity: block`) and
/// `export prometheus-rules` printed YAML promtool refused. Gate ids that quote a credential are
/// refused at load, on standard output and with `--out` alike (exit 2, one line, no credential).
#[test]
fn gate_ids_quoting_a_credential_are_refused_at_policy_load() {
    const TOKEN: &str = "Tok3nAbcdefghijklmnop";
    let gate = |id: &str, job: &str| {
        format!(
            "[[gate]]\nid = {id:?}\ndescription = \"a\"\nquery = 'max_over_time(up{{job=\"{job}\"}}[5m])'\n\
             unit = \"number\"\nthresholds = [\"value < 500\"]\n"
        )
    };
    let policy_text =
        format!("[policy]\nname = \"p\"\n{}{}", gate("lat-Tok3nAbcdef", "x"), gate("lat-ghijklmnop", "y"));
    let (dir, policy) = policy_file(&policy_text);
    let out = dir.path().join("rules.yml");
    for args in [vec![], vec!["--out".to_string(), out.display().to_string()]] {
        let output = gatecheck()
            .env("PERF_BEARER_TOKEN", TOKEN)
            .args(["export", "prometheus-rules", "--policy"])
            .arg(&policy)
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("quotes a credential") && err.lines().count() == 1, "{args:?}: {err}");
        assert!(!err.contains("Abcdef") && !err.contains("ghijkl") && output.stdout.is_empty(), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Finding round27-text/04, the class: scenario text (a check name, a default value) holding
    /// any hidden character — bidi overrides, format characters, C1, DEL, line separators — is
    /// written into the exported k6 script escaped, never as itself (a reviewed script could
    /// read other than it runs), and the same text reaches k6 (the escape reads back as it).
    #[test]
    fn an_exported_k6_script_holds_no_hidden_character(
        hidden in proptest::collection::vec(proptest::sample::select(vec![
            '\u{202e}', '\u{2066}', '\u{2069}', '\u{61c}', '\u{200b}', '\u{2060}', '\u{9b}', '\u{7f}', '\u{2028}',
            '\u{2029}', '\u{feff}', '\u{e0041}', '\u{fff9}', '\u{206a}',
        ]), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(repo().join("gates/core-flows.toml")).unwrap();
        let odd: String = hidden.iter().collect();
        let escaped: String = odd.chars().map(|c| format!("\\U{:08X}", u32::from(c))).collect();
        let changed = text
            .replacen("check = \"watch-rules status is 200\"", &format!("check = \"watch-rules {escaped} is 200\""), 1)
            .replacen("PERF_SEARCH_KEYWORDS = \"house,techno\"", &format!("PERF_SEARCH_KEYWORDS = \"house,{escaped}\""), 1);
        proptest::prop_assert_ne!(&changed, &text);
        let scenario = dir.path().join("cf.toml");
        std::fs::write(&scenario, changed).unwrap();
        let script = dir.path().join("script.js");
        let output = gatecheck()
            .args(["export", "k6", "--scenario"])
            .arg(&scenario)
            .arg("--out")
            .arg(&script)
            .output()
            .unwrap();
        proptest::prop_assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let written = std::fs::read_to_string(&script).unwrap();
        assert_nothing_hidden("export k6", &written);
        // The escapes are the text: a JSON reading of the check's literal gives it back.
        let literal = format!("\"watch-rules {odd} is 200\"");
        let encoded = gatecheck::escape::code(serde_json::to_string(&format!("watch-rules {odd} is 200")).unwrap());
        proptest::prop_assert!(written.contains(&encoded), "{} not in the script", literal.escape_debug());
    }
}

/// Findings round28-text/03 and /04: files gatecheck writes from outside text hold no hidden
/// character. `init --openapi` wrote an OpenAPI path's bidi override, NEL and U+2028 raw into the
/// scenario it generates (a file people review and commit): each is a TOML escape there, and the
/// scenario reads back with the path as the document wrote it. A policy query holding one (it
/// reached the exported rule file's `expr` raw) is refused at load, naming the gate.
#[test]
fn generated_files_hold_no_hidden_character_and_hidden_queries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let odd = "/api/items/\u{202e}evil\u{2066}x\u{85}y\u{2028}z\u{200b}";
    let doc = serde_json::json!({"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {
        odd: {"get": {"responses": {"200": {"description": "ok"}}}}}});
    // Escaped as `json.dump` writes them (read raw, a YAML reader takes NEL and U+2028 for line breaks).
    std::fs::write(dir.path().join("api.json"), gatecheck::escape::code(doc.to_string())).unwrap();
    gatecheck()
        .current_dir(dir.path())
        .args(["init", "--openapi", "api.json", "--base-url", "http://127.0.0.1:1", "--no-auth"])
        .assert()
        .code(0);
    let scenario = std::fs::read_to_string(dir.path().join("gates/core-flows.toml")).unwrap();
    assert_nothing_hidden("init's scenario", &scenario);
    let read: toml::Value = toml::from_str(&scenario).unwrap();
    let paths: Vec<&str> = read["flow"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|flow| flow["request"].as_array().unwrap().iter().filter_map(|r| r["path"].as_str()))
        .collect();
    assert!(paths.contains(&odd), "{paths:?}");
    let (_guard, policy) = policy_file(
        "[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"max < 60s\"]\nquery = 'max(lag{job=\"a\u{202e}b\"})'\n",
    );
    let err = stderr_of(&gatecheck().args(["export", "prometheus-rules", "--policy"]).arg(&policy).assert().code(2));
    assert!(err.contains("U+202E") && err.contains("\"lag\""), "{err}");
}

/// `length` letters and digits from a fixed xorshift sequence: text with no structure the
/// scrubber could skip, as a hostile k6 name or label value may be.
fn random_alphanumeric(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// Finding round31-text/01: with a credential known, the scrubber cost ~0.5 ms per character
/// (debug build) of outside text, once per output and once more per printed line, so one 200 KB
/// k6 threshold name kept `verify` busy for minutes. Outside text is bounded before it is shown
/// and the scrubber is linear: judged well within the deadline (a loaded 2-core machine, debug
/// build), and the name is shown cut.
#[test]
fn a_long_k6_threshold_name_never_stalls_the_scrubber() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("rate>0.99 {}", random_alphanumeric(200_000));
    let summary = summary_with_threshold(dir.path(), &name);
    let json = dir.path().join("verdict.json");
    let assert = gatecheck_with_lag()
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .env("GATECHECK_PROMETHEUS_TOKEN", "Zq9SecretTokenXw7Vb6Nm5Lk4")
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    assert!(out.contains(&name[..200]) && !out.contains(&name[..20_000]), "the name is shown cut");
    assert!(json.exists());
}

/// Finding round31-text/01, the second way in: a Prometheus answer whose series carries a
/// 200 KB label value (a broken or hostile server, well within the answer limit) was scrubbed
/// whole at ~0.5 ms per character (debug build) once a credential was known.
#[test]
fn a_long_prometheus_label_value_never_stalls_the_scrubber() {
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"job":"{}"}},"value":[1767225600,"5"]}}]}}}}"#,
        random_alphanumeric(200_000)
    );
    let url = serve_prometheus_answer(Box::leak(body.into_boxed_str()));
    let assert = gatecheck()
        .args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", &url])
        .args(["--prometheus-retries", "0", "--prometheus-timeout", "60s"])
        .env("GATECHECK_PROMETHEUS_TOKEN", "prom-token-5d1e9f0a")
        .timeout(std::time::Duration::from_secs(30))
        .assert();
    let output = assert.get_output();
    assert!(output.status.code().is_some(), "finished in time: {output:?}");
}

/// What a reader of `text` sees: every character drawn as nothing (a variation selector, a tag
/// character, a zero-width or Default_Ignorable one, a combining mark) dropped. Listed here,
/// apart from the code's rule, so a gap in one is seen by the other.
fn as_read(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(*c,
                '\u{300}'..='\u{36f}' | '\u{20d0}'..='\u{20ff}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
                | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{206f}' | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}'
                | '\u{e0000}'..='\u{e0fff}')
        })
        .collect()
}

/// Finding round33-text/01: Default_Ignorable characters that are not format characters (U+034F,
/// the Khmer and Mongolian ones, the variation selectors, the unassigned U+2065, U+FFF0 and the
/// tag plane) from a k6 threshold name were written raw into the table, JSON, Markdown, HTML and
/// JUnit: each is written as an escape everywhere.
#[test]
fn every_default_ignorable_character_of_k6_text_is_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let ignorable = [
        '\u{34f}',
        '\u{17b4}',
        '\u{180b}',
        '\u{fe0f}',
        '\u{e0100}',
        '\u{2065}',
        '\u{fff0}',
        '\u{e0000}',
        '\u{e0080}',
        '\u{115f}',
        '\u{e01ef}',
        '\u{e0fff}',
    ];
    let name: String = ignorable.iter().map(|c| format!("X{c}")).collect();
    let summary = summary_with_threshold(dir.path(), &format!("rate<0.01 {name}"));
    let reports: Vec<(&str, PathBuf)> = ["json", "markdown", "html", "junit"]
        .iter()
        .map(|kind| (*kind, dir.path().join(format!("report.{kind}"))))
        .collect();
    let mut command = gatecheck_with_lag();
    command.args(["verify", "-v", "--summary"]).arg(&summary);
    for (kind, path) in &reports {
        command.arg("--report").arg(format!("{kind}={}", path.display()));
    }
    let assert = command.env("GITHUB_STEP_SUMMARY", dir.path().join("step.md")).assert().code(1);
    let mut outputs = vec![("stdout".to_string(), stdout_of(&assert)), ("stderr".to_string(), stderr_of(&assert))];
    for (kind, path) in &reports {
        outputs.push((kind.to_string(), std::fs::read_to_string(path).unwrap()));
    }
    outputs.push(("step summary".to_string(), std::fs::read_to_string(dir.path().join("step.md")).unwrap_or_default()));
    for (what, text) in &outputs {
        if let Some(c) = text.chars().find(|c| ignorable.contains(c)) {
            panic!("{what}: U+{:04X} written as itself: {}", u32::from(c), text.escape_debug());
        }
    }
    assert!(outputs[0].1.contains("X\\u034fX\\u17b4X") && outputs[0].1.contains("\\u{e0100}"), "{}", outputs[0].1);
}

/// The outputs of one `verify` of a k6 summary whose failing threshold is `threshold`, with
/// `token` known: stdout, stderr, the JSON, HTML and JUnit reports and the step summary.
fn outputs_of_threshold(threshold: &str, token: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let summary = summary_with_threshold(dir.path(), threshold);
    let mut command = gatecheck_with_lag();
    command.args(["verify", "-v", "--summary"]).arg(&summary);
    for kind in ["json", "html", "junit", "markdown"] {
        command.arg("--report").arg(format!("{kind}={}", dir.path().join(format!("report.{kind}")).display()));
    }
    let assert = command
        .env("GATECHECK_PROMETHEUS_TOKEN", token)
        .env("GITHUB_STEP_SUMMARY", dir.path().join("step.md"))
        .env("GITHUB_ACTIONS", "true")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let mut outputs = vec![("stdout".to_string(), stdout_of(&assert)), ("stderr".to_string(), stderr_of(&assert))];
    for (path, text) in files_under(dir.path()).into_iter().filter(|(path, _)| !path.ends_with("summary.json")) {
        outputs.push((path.display().to_string(), text));
    }
    outputs
}

/// Whether `text` shows `token` to a reader: as it is drawn (`as_read`), or with the escapes
/// of hidden characters (`\u200b`, `\u{e0100}`) read past.
fn shows_token(text: &str, token: &str) -> bool {
    let read = as_read(text);
    let mut unescaped = String::new();
    let mut rest = read.as_str();
    while let Some(at) = rest.find("\\u") {
        unescaped.push_str(&rest[..at]);
        rest = &rest[at + 2..];
        let digits = if let Some(braced) = rest.strip_prefix('{') {
            braced.find('}').map_or(0, |end| end + 2)
        } else {
            rest.chars().take(4).filter(char::is_ascii_hexdigit).count()
        };
        rest = &rest[digits..];
    }
    unescaped.push_str(rest);
    read.contains(token) || unescaped.contains(token)
}

/// Finding round33-text/03: a known credential echoed with invisible characters between its
/// letters — 13 supplementary or 17 plain variation selectors, 25 combining accents, 40
/// zero-width spaces, joiners, runs of hundreds — was over the skeleton's byte gap, so it was
/// not masked, and with the selectors written raw every output displayed it. Each is masked.
#[test]
fn a_credential_interleaved_with_invisible_characters_is_masked_in_every_output() {
    const TOKEN: &str = "Tok3nSecretValueAbcdef123456";
    for gap in [
        "\u{e0100}".repeat(13),
        "\u{fe0f}".repeat(17),
        "\u{301}".repeat(25),
        "\u{200b}".repeat(40),
        "\u{200d}".repeat(30),
        "\u{34f}\u{e0101}\u{fe00}\u{20dd}\u{2060}\u{180b}".repeat(60),
    ] {
        let echo: String = TOKEN.chars().map(String::from).collect::<Vec<_>>().join(&gap);
        for (what, text) in outputs_of_threshold(&format!("rate<0.01 || {echo}"), TOKEN) {
            assert!(!shows_token(&text, TOKEN), "{:?} gap: {what} shows the credential", gap.chars().next());
        }
    }
}

/// Finding round33-text/03 through a server: a Prometheus echoing the bearer token it received
/// in its error body, with 17 variation selectors between its characters, had it printed on
/// stderr as `invalid token Tok3nSecretValueAbcdef123456`.
#[test]
fn a_prometheus_echo_of_the_token_between_invisible_characters_is_masked() {
    const TOKEN: &str = "Tok3nSecretValueAbcdef123456";
    let echo: String = TOKEN.chars().map(String::from).collect::<Vec<_>>().join(&"\u{fe0f}".repeat(17));
    let body =
        serde_json::json!({"status": "error", "errorType": "bad_data", "error": format!("invalid token {echo}")})
            .to_string();
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (url, _) = serve_answer(answer);
    let output = gatecheck()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--no-env"])
        .args(["--policy", "gates/release.toml", "--prometheus-url", &url, "--prometheus-retries", "0"])
        .env("GATECHECK_PROMETHEUS_TOKEN", TOKEN)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(stderr.contains("invalid token") || stdout.contains("invalid token"), "{stderr}");
    assert!(!shows_token(&stdout, TOKEN) && !shows_token(&stderr, TOKEN), "{stdout}\n{stderr}");
}

/// Finding round33-text/02: the JSON report scrubbed each outside text whole, so one 400 KB k6
/// threshold name (a credential known) kept `verify --report json=…` busy ~17 s in a release
/// build, minutes in a debug one. Each text is bounded before it is scrubbed, as shown text is:
/// judged within the deadline, the name written cut.
#[test]
fn a_400_kb_k6_threshold_name_in_the_json_report_never_stalls_the_scrubber() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("rate>0.99 || {}", random_alphanumeric(400_000));
    let summary = summary_with_threshold(dir.path(), &name);
    let json = dir.path().join("verdict.json");
    gatecheck_with_lag()
        .args(["verify", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .env("GATECHECK_PROMETHEUS_TOKEN", "Tok3nSecretValueAbcdef123456")
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1);
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let longest = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["threshold"].as_str())
        .map(|t| t.chars().count())
        .max();
    assert!(longest.is_some_and(|n| n <= 4001), "{longest:?}");
}

/// Finding round33-text/04: every label name and value of a Prometheus answer was scrubbed whole
/// as the answer was read, so a server answering each query with a 400 KB label kept a plain
/// `verify` busy for minutes (debug build). No real series carries such a label: the answer is
/// refused (exit 2) naming the label, within the deadline.
#[test]
fn a_400_kb_prometheus_label_is_refused_in_time() {
    let big = random_alphanumeric(400_000);
    for metric in [format!(r#"{{"pod":"{big}"}}"#), format!(r#"{{"{}":"x"}}"#, &big[..300_000].to_lowercase())] {
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{metric},"value":[ASKED_T,"1"]}}]}}}}"#
        );
        let url = serve_prometheus_answer(Box::leak(body.into_boxed_str()));
        let assert = gatecheck()
            .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/summary-export.json", "--no-env"])
            .args(["--policy", "gates/release.toml", "--prometheus-url", &url, "--prometheus-timeout", "60s"])
            .env("GATECHECK_PROMETHEUS_TOKEN", "Tok3nSecretValueAbcdef123456")
            .timeout(std::time::Duration::from_secs(30))
            .assert()
            .code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains("label") && stderr.len() < 10_000, "{}", &stderr[..stderr.len().min(2000)]);
    }
}
