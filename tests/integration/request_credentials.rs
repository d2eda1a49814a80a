//! No request gatecheck sends carries a credential meant for another origin, or any credential
//! it holds outside the one header meant for it: the Prometheus client (the query URL, from a
//! policy's text or a `--var`), the remote-write client (every label: `--run-id`, flow names),
//! the scrape client and the load client (URL and body) each refuse before sending, exit 2, one
//! line naming what, never the value; and the load token is never a part of another origin's
//! header (a Basic password, a cookie value, the credential after a scheme).

use base64::Engine as _;
use proptest::prelude::*;

use crate::support::*;

const LOAD_TOKEN: &str = "loadTok_9876543zz";
const PROM_TOKEN: &str = "promTok_5551234qq";
const RW_TOKEN: &str = "rwTok_77hhJJkk00";
const BASIC_PASSWORD: &str = "basicPw_0123456789";

/// Which credential the request would carry.
#[derive(Debug, Clone, Copy)]
enum Credential {
    LoadToken,
    PromToken,
    RemoteWriteToken,
    /// The password inside `Authorization: Basic b64(writer:PW)` of a header flag.
    BasicPassword,
}

/// Which client would send it, and where in its request.
#[derive(Debug, Clone, Copy)]
enum Where {
    /// Prometheus: `check --var job=<credential>`, the query URL.
    PrometheusVar,
    /// Prometheus: the policy's query text itself.
    PrometheusQuery,
    /// Prometheus through `probe`.
    ProbeQuery,
    /// Remote-write: `smoke --run-id <credential>`, a label value of every series.
    RemoteWriteRunId,
    /// Remote-write: a flow's name, the `flow` label.
    RemoteWriteFlow,
    /// Load target: the request body.
    LoadBody,
    /// Load target: the request path.
    LoadPath,
    /// Scrape: the --scrape-url's query.
    ScrapeUrl,
}

fn value_of(credential: Credential) -> &'static str {
    match credential {
        Credential::LoadToken => LOAD_TOKEN,
        Credential::PromToken => PROM_TOKEN,
        Credential::RemoteWriteToken => RW_TOKEN,
        Credential::BasicPassword => BASIC_PASSWORD,
    }
}

fn basic_header() -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("writer:{BASIC_PASSWORD}"));
    format!("Authorization: Basic {pair}")
}

/// A one-flow scenario named `flow`, whose request path and body are `path` and `body`.
fn scenario(dir: &std::path::Path, flow: &str, path: &str, body: Option<&str>) -> std::path::PathBuf {
    let file = dir.join("sc.toml");
    let body = body.map(|b| format!("[flow.request.json]\nnote = {b:?}\n")).unwrap_or_default();
    std::fs::write(
        &file,
        format!(
            "[scenario]\nname = \"s\"\nbase_url = \"${{PERF_BASE_URL}}\"\nvus = \"1\"\nduration = \"1s\"\n\
             [defaults]\nPERF_BASE_URL = \"http://127.0.0.1:9\"\n[[flow]]\nname = {flow:?}\nsleep = \"200ms\"\n\
             [[flow.request]]\nname = \"r\"\nmethod = \"POST\"\npath = {path:?}\ncheck = \"answers 200\"\n{body}"
        ),
    )
    .unwrap();
    file
}

const PROMETHEUS_ANSWER: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 62\r\n\r\n{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";

/// What each server received: (server, bytes).
type Received = Vec<(&'static str, Vec<u8>)>;

/// Runs the case against three loopback servers (Prometheus, remote-write receiver, load
/// target, which also serves /metrics): its exit code, stderr, and every byte each received.
fn run_case(credential: Credential, place: Where) -> (Option<i32>, String, Received) {
    let dir = tempfile::tempdir().unwrap();
    let value = value_of(credential);
    let (prometheus, prometheus_got) = serve_recording(PROMETHEUS_ANSWER.into());
    let (receiver, receiver_got) = serve_recording("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into());
    let (target, target_got) = serve_recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".into());
    let mut cmd = gatecheck();
    cmd.current_dir(dir.path())
        .env(
            "PERF_BEARER_TOKEN",
            if matches!(credential, Credential::LoadToken) { LOAD_TOKEN } else { "otherLoad-1122aa" },
        )
        .env("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN)
        .env("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN)
        .env("PERF_BASE_URL", &target)
        .env("PERF_CRED", value);
    let query = if matches!(place, Where::PrometheusQuery | Where::ProbeQuery) {
        format!("max(backlog_items{{job=\"{value}\"}})")
    } else {
        "max(backlog_items{job=\"${job}\"})".to_string()
    };
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        format!(
            "[policy]\nname = \"p\"\ndescription = \"d\"\n[vars]\njob = \"api\"\n[[gate]]\nid = \"backlog\"\n\
             description = \"b\"\nquery = {query:?}\nunit = \"number\"\nthresholds = [\"value < 500\"]\n"
        ),
    )
    .unwrap();
    match place {
        Where::PrometheusVar | Where::PrometheusQuery | Where::ProbeQuery => {
            let command = if matches!(place, Where::ProbeQuery) { "probe" } else { "check" };
            cmd.args([command, "--policy"]).arg(&policy).args(["--prometheus-url", &prometheus]);
            if matches!(place, Where::PrometheusVar) {
                cmd.args(["--var", &format!("job={value}")]);
            }
            cmd.args(["--prometheus-header", &basic_header()]);
        }
        _ => {
            let flow = if matches!(place, Where::RemoteWriteFlow) { format!("f_{value}") } else { "f".into() };
            let path = if matches!(place, Where::LoadPath) { "/api/${PERF_CRED}".to_string() } else { "/api/x".into() };
            let body = matches!(place, Where::LoadBody).then_some("n ${PERF_CRED}");
            let scenario = scenario(dir.path(), &flow, &path, body);
            cmd.args(["smoke", "--quiet", "--scenario"])
                .arg(&scenario)
                .args(["--summary-out", "s.json", "--log-out", "l.log"])
                .args(["--remote-write", &format!("{receiver}/api/v1/write")])
                .args(["--remote-write-header", &basic_header()]);
            if matches!(place, Where::RemoteWriteRunId) {
                cmd.args(["--run-id", value]);
            }
            if matches!(place, Where::ScrapeUrl) {
                cmd.args(["--scrape-url", &format!("{target}/metrics?x={value}")]);
            }
        }
    }
    let out = cmd.timeout(std::time::Duration::from_secs(60)).assert();
    let code = out.get_output().status.code();
    let err = stderr_of(&out);
    // What may still be in flight has arrived by now (a refused run sends nothing at all).
    std::thread::sleep(std::time::Duration::from_millis(200));
    let got = vec![
        ("Prometheus", prometheus_got.lock().unwrap().clone()),
        ("remote-write receiver", receiver_got.lock().unwrap().clone()),
        ("load target", target_got.lock().unwrap().clone()),
    ];
    (code, err, got)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Findings round25-text/03 and /04 (and the class): whichever client would send it (the
    /// Prometheus query URL from a --var or the policy's text, `check` or `probe`; a
    /// remote-write label from --run-id or a flow's name; the load request's path or body; the
    /// scrape URL) and whichever credential (the load token, the Prometheus token, the
    /// remote-write token, the Basic password inside a header flag), the command is refused
    /// before any request: exit 2, one line, the credential never printed, and no server
    /// received a byte.
    #[test]
    fn no_request_carries_a_credential_outside_its_header(
        credential in prop::sample::select(vec![
            Credential::LoadToken, Credential::PromToken, Credential::RemoteWriteToken, Credential::BasicPassword,
        ]),
        place in prop::sample::select(vec![
            Where::PrometheusVar, Where::PrometheusQuery, Where::ProbeQuery, Where::RemoteWriteRunId,
            Where::RemoteWriteFlow, Where::LoadBody, Where::LoadPath, Where::ScrapeUrl,
        ]),
    ) {
        let (code, err, got) = run_case(credential, place);
        let value = value_of(credential);
        for (server, bytes) in &got {
            let text = String::from_utf8_lossy(bytes);
            prop_assert!(!text.contains(value), "{:?} {:?}: the {} received the credential", credential, place, server);
            prop_assert!(bytes.is_empty(), "{:?} {:?}: the {} received a request: {}", credential, place, server, text);
        }
        prop_assert_eq!(code, Some(2), "{:?} {:?}: {}", credential, place, err);
        prop_assert!(err.contains("credential"), "{:?} {:?}: {}", credential, place, err);
        prop_assert_eq!(err.trim_end().lines().count(), 1, "{}", err);
        prop_assert!(!err.contains(&value[value.len() - 6..]), "{}", err);
    }
}

/// Finding round25-text/02: the load token that is a PART of another origin's header — the
/// password inside `--remote-write-header "Authorization: Basic b64(writer:PW)"` (or a
/// --prometheus-header of `run`), a cookie's value, the 3-7 character credential after a
/// scheme — is refused like the whole header value: exit 2, one line, no request sent.
#[test]
fn the_load_token_is_never_a_part_of_another_origins_header() {
    let (target, hits) = serve_answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".into());
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), "f", "/api/x", None);
    let cases: Vec<(&str, &str, String)> = vec![
        ("smoke", BASIC_PASSWORD, basic_header()),
        ("smoke", "abc1234", "Cookie: theme=dark; session=abc1234".into()),
        ("smoke", "Xy5", "Authorization: Bearer Xy5".into()),
        ("run", BASIC_PASSWORD, basic_header()),
    ];
    for (command, token, header) in cases {
        let mut cmd = gatecheck();
        cmd.current_dir(dir.path()).env("PERF_BEARER_TOKEN", token).env("PERF_BASE_URL", &target);
        cmd.args([command, "--quiet", "--scenario"]).arg(&scenario).args([
            "--summary-out",
            "s.json",
            "--log-out",
            "l.log",
        ]);
        if command == "run" {
            cmd.args(["--prometheus-url", &format!("{target}/prom"), "--prometheus-header", &header]);
        } else {
            cmd.args(["--remote-write", &format!("{target}/api/v1/write"), "--remote-write-header", &header]);
        }
        let out = cmd.timeout(std::time::Duration::from_secs(60)).assert();
        let err = stderr_of(&out);
        assert_eq!(out.get_output().status.code(), Some(2), "{command} {header}: {err}");
        assert!(err.contains("PERF_BEARER_TOKEN") && err.contains("another origin"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// Finding round32-text/01: a scenario's `${NAME}` never reads a variable holding a credential,
/// whether its name says so (AUTHORIZATION, COOKIE, WEBHOOK) or only its value does
/// (`DATABASE_URL` with a password, `SENTRY_DSN`'s token-only userinfo, a `Bearer …` value),
/// wherever the reference stands (body, path parameter, query, base URL): refused before any
/// request, exit 2, naming the variable, never its value.
#[test]
fn a_scenario_never_reads_a_credential_held_under_any_name() {
    const SECRET: &str = "Sh4pedSecretValue42";
    let (target, hits) = serve_answer("[]".into());
    for (name, value) in [
        ("DATABASE_URL", format!("postgres://app:{SECRET}@db.internal/app")),
        ("SENTRY_DSN", format!("https://{SECRET}@o1.ingest.sentry.io/1")),
        ("NOTIFY_URL", format!("https://hooks.example/api?db=k6&access_token={SECRET}")),
        ("SLACK_WEBHOOK_URL", format!("https://hooks.slack.com/services/T000/B000/{SECRET}")),
        ("PERF_AUTHORIZATION", format!("Bearer {SECRET}")),
        ("PERF_NOTE", format!("Basic {SECRET}")),
        ("PERF_COOKIE", format!("session={SECRET}")),
    ] {
        for (base_url, path, extra) in [
            (target.clone(), "/api/x".to_string(), format!("json = {{ db = \"${{{name}}}\" }}")),
            (target.clone(), "/api/{p}".to_string(), format!("path_params = {{ p = \"${{{name}}}\" }}")),
            (target.clone(), format!("/api/x?hook=${{{name}}}"), String::new()),
            (format!("{target}/${{{name}}}"), "/api/x".to_string(), String::new()),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(
                dir.path().join("sc.toml"),
                format!(
                    "[scenario]\nname = \"s\"\nbase_url = {base_url:?}\nvus = \"1\"\nduration = \"1s\"\n\
                     request_timeout = \"2s\"\nmax_requests = 2\n[[flow]]\nname = \"f\"\nsleep = \"200ms\"\n\
                     [[flow.request]]\nname = \"r\"\nmethod = \"POST\"\npath = {path:?}\n{extra}\n"
                ),
            )
            .unwrap();
            let out = smoke_writing_into(dir.path())
                .env("PERF_BEARER_TOKEN", LOAD_TOKEN)
                .env(name, &value)
                .arg("--scenario")
                .arg(dir.path().join("sc.toml"))
                .assert()
                .code(2);
            let err = stderr_of(&out);
            assert!(
                err.contains(&format!("${{{name}}}")) && err.contains("credential") && !err.contains(&SECRET[..10]),
                "{name} in {base_url} {path} {extra}: {err}"
            );
            let written: String = ["s.json", "l.log"]
                .iter()
                .filter_map(|file| std::fs::read_to_string(dir.path().join(file)).ok())
                .collect();
            assert!(!written.contains(&SECRET[..10]), "{name}: {written}");
        }
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}
