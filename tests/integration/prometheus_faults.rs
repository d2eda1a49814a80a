//! Fault injection with a scripted loopback HTTP server: down, hanging, 5xx then success,
//! 429 with Retry-After, 400 with an error body, garbage, redirects; and credentials that never
//! appear in any output nor reach another origin.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

/// What the mock answers to one request.
enum Reply {
    Respond {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Accept and read the request, then say nothing until the client gives up.
    Hang,
    /// Status line and extra headers as given, then an empty body.
    Head {
        status: u16,
        headers: String,
    },
}

fn json(status: u16, body: &str) -> Reply {
    Reply::Respond { status, content_type: "application/json", body: body.to_string() }
}

const VECTOR_45: &str =
    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"45"]}]}}"#;

/// Serves the scripted replies in order (the last one repeats) and records each request head.
struct MockServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    _thread: JoinHandle<()>,
}

impl MockServer {
    fn start(replies: Vec<Reply>) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let thread = std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let reply = &replies[index.min(replies.len() - 1)];
                let head = read_head(&stream);
                seen.lock().unwrap().push(head);
                answer(stream, reply);
            }
        });
        MockServer { url, requests, _thread: thread }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_head(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    head
}

fn answer(mut stream: TcpStream, reply: &Reply) {
    match reply {
        Reply::Respond { status, content_type, body } => {
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(3));
        }
        Reply::Head { status, headers } => {
            let response = format!("HTTP/1.1 {status} X\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(response.as_bytes());
        }
    }
}

fn check_against(url: &str) -> assert_cmd::Command {
    let mut cmd = gatecheck();
    cmd.args(["check", "--policy", "fixtures/policies/one-query.toml", "--prometheus-url", url, "--at", FIXTURE_T]);
    cmd
}

#[test]
fn server_down_is_exit_2_with_the_cause() {
    // Bind, then drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let assert = check_against(&format!("http://127.0.0.1:{port}"))
        .args(["--prometheus-retries", "1"])
        .assert()
        .code(2)
        .stdout("");
    let err = stderr_of(&assert);
    // Issue 23, item 6: what is wrong and what to check come first, not 450 characters into a
    // query URL (on dd0cb13 the line began with the query and ended in "Connection refused").
    assert!(
        err.starts_with(&format!("gatecheck: error: cannot connect to http://127.0.0.1:{port} (connection refused): ")),
        "{err}"
    );
    assert!(err.contains("--prometheus-url") && err.contains("2 attempt(s)") && err.lines().count() == 1, "{err}");
    assert!(err.len() < 200, "one short line: {err}");
}

/// Issue 23, item 6: k6 raw results given as --summary say how to pass them (on dd0cb13:
/// "not valid JSON (trailing characters at line 2 column 1)").
#[test]
fn raw_results_given_as_summary_say_to_pass_them_with_raw() {
    let assert = gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/pass/raw.ndjson"])
        .assert()
        .code(2)
        .stdout("");
    let err = stderr_of(&assert);
    assert_eq!(
        err.trim_end(),
        "gatecheck: error: fixtures/k6/1.1.0/pass/raw.ndjson: this is k6 raw output (--out json), not a summary: pass it with --raw"
    );
}

#[test]
fn a_hanging_server_times_out() {
    let mock = MockServer::start(vec![Reply::Hang]);
    let started = std::time::Instant::now();
    let assert =
        check_against(&mock.url).args(["--prometheus-timeout", "300ms", "--prometheus-retries", "0"]).assert().code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("timed out") || err.contains("timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "the client timeout bounds the wait");
}

#[test]
fn a_5xx_is_retried_then_the_answer_is_used() {
    let mock = MockServer::start(vec![
        Reply::Respond { status: 502, content_type: "text/html", body: "<html>bad gateway</html>".into() },
        json(503, r#"{"status":"error","errorType":"unavailable","error":"warming up"}"#),
        json(200, VECTOR_45),
    ]);
    check_against(&mock.url)
        .args(["--prometheus-retries", "2"])
        .assert()
        .code(0)
        .stdout(contains("45").and(contains("PASS")));
    assert_eq!(mock.requests().len(), 3, "two failures, one success");
}

#[test]
fn a_400_is_not_retried_and_its_message_is_quoted() {
    let mock = MockServer::start(vec![json(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:15: parse error: unexpected end of input"}"#,
    )]);
    let assert = check_against(&mock.url).args(["--prometheus-retries", "3"]).assert().code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("gate \"lag-max\": Prometheus rejected the query") && err.contains("unexpected end of input"),
        "{err}"
    );
    assert_eq!(mock.requests().len(), 1, "a rejected query is not retried");
}

#[test]
fn garbage_is_an_error_not_a_pass() {
    let mock = MockServer::start(vec![json(200, "{this is not json")]);
    let err = stderr_of(&check_against(&mock.url).assert().code(2));
    assert!(err.contains("not a Prometheus API response"), "{err}");
    let mock =
        MockServer::start(vec![json(200, r#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#)]);
    check_against(&mock.url).assert().code(2);
    let mock = MockServer::start(vec![json(
        200,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1767225600,"1"]]}]}}"#,
    )]);
    let err = stderr_of(&check_against(&mock.url).assert().code(2));
    assert!(err.contains("range vector"), "{err}");
}

#[test]
fn infinity_breaches_an_upper_bound_and_an_empty_vector_is_no_data() {
    let mock = MockServer::start(vec![json(
        200,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"+Inf"]}]}}"#,
    )]);
    let out = stdout_of(&check_against(&mock.url).assert().code(1));
    assert!(table_line(&out, "lag-max", "max < 180s").contains("+Inf"), "{out}");
    assert!(table_line(&out, "lag-max", "max < 180s").contains("FAIL"), "{out}");
    let mock = MockServer::start(vec![json(200, r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)]);
    let out = stdout_of(&check_against(&mock.url).assert().code(1));
    assert!(table_line(&out, "lag-max", "max < 180s").contains("NO DATA"), "{out}");
}

#[test]
fn credentials_are_sent_but_never_shown() {
    const TOKEN: &str = "tok-9f8e7d6c5b4a-SECRET";
    const TENANT: &str = "tenant-hush-4711";
    // A proxy that rejects us, then a server error, then a success: no output path may leak.
    for reply in [
        Reply::Respond { status: 401, content_type: "text/plain", body: format!("bad token {TOKEN}") },
        json(500, &format!(r#"{{"status":"error","errorType":"internal","error":"boom {TOKEN}"}}"#)),
        json(400, &format!(r#"{{"status":"error","errorType":"bad_data","error":"echo {TOKEN} {TENANT}"}}"#)),
        json(200, VECTOR_45),
    ] {
        let mock = MockServer::start(vec![reply]);
        let assert = check_against(&mock.url)
            .env("GATECHECK_PROMETHEUS_TOKEN", TOKEN)
            .args(["--prometheus-header", &format!("X-Scope-OrgID: {TENANT}"), "--prometheus-retries", "0"])
            .assert();
        let output = format!("{}{}", stdout_of(&assert), stderr_of(&assert));
        assert!(!output.contains(TOKEN) && !output.contains(TENANT), "leaked: {output}");
        let head = mock.requests().first().cloned().unwrap_or_default();
        assert!(head.contains(&format!("authorization: Bearer {TOKEN}")), "the token is sent: {head}");
        assert!(head.to_ascii_lowercase().contains(&format!("x-scope-orgid: {TENANT}")), "{head}");
    }
}

#[test]
fn basic_auth_password_comes_from_the_environment() {
    let mock = MockServer::start(vec![json(200, VECTOR_45)]);
    check_against(&mock.url)
        .args(["--prometheus-user", "oncall"])
        .env("GATECHECK_PROMETHEUS_PASSWORD", "pw-secret")
        .assert()
        .code(0);
    // oncall:pw-secret
    assert!(mock.requests()[0].contains("authorization: Basic b25jYWxsOnB3LXNlY3JldA=="), "{:?}", mock.requests());
    check_against(&mock.url)
        .args(["--prometheus-user", "oncall"])
        .assert()
        .code(2)
        .stderr(contains("GATECHECK_PROMETHEUS_PASSWORD"));
}

#[test]
fn bad_settings_fail_before_any_request() {
    check_against("127.0.0.1:9090").assert().code(2).stderr(contains("expected http://HOST:PORT"));
    check_against("http://u:hunter2@127.0.0.1:1")
        .assert()
        .code(2)
        .stderr(contains("credentials do not belong").and(contains("hunter2").not()));
    check_against("http://127.0.0.1:1").args(["--at", "yesterday"]).assert().code(2).stderr(contains("--at"));
    check_against("http://127.0.0.1:1")
        .args(["--prometheus-timeout", "soon"])
        .assert()
        .code(2)
        .stderr(contains("--prometheus-timeout"));
    check_against("http://127.0.0.1:1")
        .args(["--var", "nope=1"])
        .assert()
        .code(2)
        .stderr(contains("defines no variable nope"));
}

#[test]
fn the_time_limit_covers_every_attempt_of_a_query() {
    let mock = MockServer::start(vec![Reply::Hang]);
    let started = std::time::Instant::now();
    // Default retries (2): the limit is still the whole budget.
    let assert = check_against(&mock.url).args(["--prometheus-timeout", "2s"]).assert().code(2);
    let took = started.elapsed();
    let err = stderr_of(&assert);
    assert!(err.contains("--prometheus-timeout 2s"), "{err}");
    assert!(took < Duration::from_secs(4), "took {took:?} for a 2 s limit");
    assert!(took >= Duration::from_millis(1900), "gave up early: {took:?}");
}

#[test]
fn a_429_is_retried_after_the_time_the_server_asks_for() {
    let mock = MockServer::start(vec![
        Reply::Head { status: 429, headers: "Retry-After: 1\r\n".into() },
        json(200, VECTOR_45),
    ]);
    let started = std::time::Instant::now();
    check_against(&mock.url).assert().code(0).stdout(contains("45").and(contains("PASS")));
    assert_eq!(mock.requests().len(), 2, "one 429, one answer");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
}

#[test]
fn a_redirect_to_another_origin_is_refused_and_nothing_reaches_it() {
    // No word of the messages in it: any 8 characters of a credential are masked wherever they
    // appear (an echo cut at both ends), `redirect` in an error too.
    const TOKEN: &str = "tok-7c1d-moved-x9";
    const API_KEY: &str = "key-3e5f-99ab-q";
    let elsewhere = MockServer::start(vec![json(200, VECTOR_45)]);
    let redirecting = MockServer::start(vec![Reply::Head {
        status: 302,
        headers: format!("Location: {}/api/v1/query?moved=1\r\n", elsewhere.url),
    }]);
    let assert = check_against(&redirecting.url)
        .env("GATECHECK_PROMETHEUS_TOKEN", TOKEN)
        .args(["--prometheus-header", &format!("X-Api-Key: {API_KEY}")])
        .args(["--prometheus-header", "X-Scope-OrgID: tenant-r"])
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("redirect") && err.contains("never sent to another origin"), "{err}");
    assert!(!err.contains(TOKEN) && !err.contains(API_KEY), "leaked: {err}");
    assert!(elsewhere.requests().is_empty(), "the other origin was contacted: {:?}", elsewhere.requests());
    assert_eq!(redirecting.requests().len(), 1, "a refused redirect is not retried");

    // Within one origin a redirect is followed, credentials and all.
    let same = MockServer::start(vec![
        Reply::Head { status: 307, headers: "Location: /api/v1/query?moved=1\r\n".into() },
        json(200, VECTOR_45),
    ]);
    check_against(&same.url).env("GATECHECK_PROMETHEUS_TOKEN", TOKEN).assert().code(0);
    let requests = same.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests[1].contains("moved=1") && requests[1].contains(TOKEN), "{requests:?}");
}

/// Finding round12-figures/05: an answer whose kind contradicts the query's grammar (a scalar
/// for an instant-vector query: a proxy or result cache answering another query) was read as
/// one label-less series and judged. The grammar says what a query returns: a vector query
/// answered with a scalar is refused; a scalar query may be answered as one label-less series
/// (VictoriaMetrics answers scalars so), never as several or labelled ones.
#[test]
fn an_answer_of_another_kind_than_the_query_returns_is_refused() {
    const SCALAR_45: &str = r#"{"status":"success","data":{"resultType":"scalar","result":[1767225600,"45"]}}"#;
    let mock = MockServer::start(vec![json(200, SCALAR_45)]);
    let err = stderr_of(&check_against(&mock.url).assert().code(2));
    assert!(err.contains("the query returns an instant vector, but the answer is a scalar"), "{err}");

    let (_dir, policy) = policy_file(
        "[[gate]]\nid = \"lag-scalar\"\nquery = \"scalar(max(waxwatch_scheduler_lag_max_seconds))\"\nunit = \"s\"\nthresholds = [\"max < 180s\"]\n",
    );
    let run = |answer: &str| {
        let mock = MockServer::start(vec![json(200, answer)]);
        let mut cmd = gatecheck();
        cmd.args(["check", "--policy"]).arg(&policy);
        cmd.args(["--prometheus-url", &mock.url, "--at", FIXTURE_T]);
        cmd.assert()
    };
    run(SCALAR_45).code(0);
    run(VECTOR_45).code(0);
    let labelled = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"provider":"a"},"value":[1767225600,"45"]}]}}"#;
    let err = stderr_of(&run(labelled).code(2));
    assert!(
        err.contains("the query returns a scalar, but the answer is a vector of labelled or several series"),
        "{err}"
    );
}

/// Finding round12-figures/04: native histogram samples (`"histogram": [t, {...}]`), a
/// well-formed answer to a query over a native histogram, were called "not a Prometheus API
/// response" with a serde field name; they are named, with what to ask for instead.
#[test]
fn native_histogram_samples_are_named_as_such() {
    let answer = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1767225600,{"count":"3","sum":"1.5","buckets":[[0,"0.5","1","3"]]}]}]}}"#;
    let mock = MockServer::start(vec![json(200, answer)]);
    let err = stderr_of(&check_against(&mock.url).assert().code(2));
    assert!(err.contains("native histogram samples, not numbers") && err.contains("histogram_quantile("), "{err}");
    assert!(!err.contains("`sample`") && err.lines().count() == 1, "{err}");
}

/// Finding round27-figures/01: a gate declared `histogram = "native"` was trusted with no
/// +Inf check, but a native histogram with custom buckets (NHCB, Prometheus 3's classic-to-NHCB
/// conversion, OTLP explicit buckets) keeps a `(last, +Inf]` bucket, and histogram_quantile
/// answers its lower bound when the rank lies there. The companion of a native quantile is the
/// argument of histogram_quantile itself, whose answer holds the histogram samples: a rank in a
/// bucket whose upper bound is +Inf is +Inf; a companion that cannot be read is NO DATA; an
/// exponential-schema histogram (no +Inf bucket) passes as before. A stand-in server answers as
/// Prometheus 3 does (the local Prometheus is 2.42, before NHCB): a fault-style mock, for an
/// answer no local server can give.
#[test]
fn a_native_quantile_is_judged_with_its_own_buckets() {
    const QUANTILE_10: &str =
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[ASKED_T,"10"]}]}}"#;
    // le=1,5,10,+Inf holding 50/40/7/3: 3 % of observations above every finite bound.
    const NHCB: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[ASKED_T,{"count":"100","sum":"900","buckets":[[0,"-Inf","1","50"],[0,"1","5","40"],[0,"5","10","7"],[0,"10","+Inf","3"]]}]}]}}"#;
    // Exponential buckets (schema 0) covering every observation: no +Inf bucket.
    const EXPONENTIAL: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[ASKED_T,{"count":"100","sum":"500","buckets":[[0,"4","8","60"],[0,"8","16","40"]]}]}]}}"#;
    const FLOATS: &str =
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[ASKED_T,"100"]}]}}"#;
    const PARTIAL: &str = r#"{"status":"success","warnings":["store b did not answer"],"data":{"resultType":"vector","result":[{"metric":{},"histogram":[ASKED_T,{"count":"100","sum":"500","buckets":[[0,"4","8","60"],[0,"8","16","40"]]}]}]}}"#;
    let (_dir, policy) = policy_file(
        "[policy]\nname = \"nhcb\"\n[[gate]]\nid = \"queue-lag\"\nunit = \"s\"\nhistogram = \"native\"\nthresholds = [\"p(99) < 30s\"]\n[gate.query]\n\"p(99)\" = 'histogram_quantile(0.99, sum(rate(queue_lag_seconds[10m])))'\n",
    );
    let run = |companion: &'static str| {
        let url = serve_prometheus_by_query(vec![("histogram_quantile", QUANTILE_10)], companion);
        let mut cmd = gatecheck();
        cmd.args(["check", "--no-env", "--policy"]).arg(&policy);
        cmd.args(["--prometheus-url", &url, "--at", FIXTURE_T]);
        cmd.assert()
    };
    let out = stdout_of(&run(NHCB).code(1));
    let line = table_line(&out, "queue-lag", "p(99) < 30s");
    assert!(line.contains("FAIL") && line.contains("+Inf"), "{out}");
    assert!(out.contains("3 of 100 observations lie above the highest finite bucket"), "{out}");
    run(EXPONENTIAL).code(0);
    for unreadable in [FLOATS, PARTIAL] {
        let out = stdout_of(&run(unreadable).code(1));
        assert!(table_line(&out, "queue-lag", "p(99) < 30s").contains("NO DATA"), "{out}");
    }
}

/// Finding round39-judge/02: with `on_missing = "skip"` (or `"warn"`) a partial answer (a store
/// that did not reply) showing 5 s against `< 1s` was softened to exit 0. A partial answer is
/// doubtful, not absent: NO DATA that blocks whatever on_missing says, naming the breach the
/// stores that answered already show. An empty answer (absent) still follows on_missing.
#[test]
fn a_partial_answer_blocks_whatever_on_missing_says_and_names_the_breach_it_shows() {
    const PARTIAL_5S: &str = r#"{"status":"success","warnings":["store b did not answer"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,"5"]}]}}"#;
    const EMPTY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    for on_missing in ["skip", "warn", "fail"] {
        let (_dir, policy) = policy_file(&format!(
            "[[gate]]\nid = \"lag-max\"\nquery = \"max(lag_seconds)\"\nunit = \"s\"\nthresholds = [\"value < 1s\"]\non_missing = \"{on_missing}\"\n"
        ));
        let check = |url: &str| {
            let mut cmd = gatecheck();
            cmd.args(["check", "--policy"]).arg(&policy).args(["--prometheus-url", url, "--at", FIXTURE_T]);
            cmd
        };
        let mock = MockServer::start(vec![json(200, PARTIAL_5S)]);
        let out = stdout_of(&check(&mock.url).arg("--verbose").assert().code(1));
        let line = table_line(&out, "lag-max", "value < 1s");
        assert!(line.contains("NO DATA"), "{on_missing}: {out}");
        assert!(
            out.contains("store b did not answer") && out.contains("already shows a breach: 5 s against `value < 1s`"),
            "{on_missing}: {out}"
        );
        // Absent evidence follows on_missing as before (the run-integrity row blocks the
        // policy's only gate going unjudged either way).
        let mock = MockServer::start(vec![json(200, EMPTY)]);
        let out = stdout_of(&check(&mock.url).assert().code(1));
        let status = if on_missing == "skip" { "SKIPPED" } else { "NO DATA" };
        assert!(table_line(&out, "lag-max", "value < 1s").contains(status), "{on_missing}: {out}");
    }
}
