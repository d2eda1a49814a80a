//! No credential gatecheck holds reaches a URL it sends a request to, and no other origin's
//! credential reaches the load target: every outbound URL (the load's base URL, --remote-write,
//! --scrape-url, --prometheus-url from a flag or a settings file) is refused at input when any
//! part of it holds a known credential in any form, and the load target's token is refused when
//! it is (or names) a credential gatecheck sends elsewhere. Credentials read from files are known
//! before anything is checked.

use proptest::prelude::*;

use crate::support::*;

const BEARER: &str = "lt8Tok-Zq8xW3vR7pLm2K";
const PROM_TOKEN: &str = "promsecret-AAAA1111xyz";
const PROM_PASSWORD: &str = "PromPassword-4455qq";
const RW_TOKEN: &str = "rwToken-77hhJJkk00";
const HEADER: &str = "hdrValue-Kx81Mm2Pq";
const FILE_TOKEN: &str = "FileTok-9kQ2wZ7mP4";

/// Where a URL is given: (command, how it is given).
#[derive(Debug, Clone, Copy)]
enum Flag {
    SmokeBaseUrl,
    SmokeRemoteWrite,
    SmokeScrapeUrl,
    RunScrapeUrl,
    CheckPrometheusUrl,
    RunPrometheusUrl,
    SettingsFilePrometheusUrl,
}

/// Which credential the URL holds.
#[derive(Debug, Clone, Copy)]
enum Credential {
    Bearer,
    PromToken,
    PromPassword,
    RemoteWriteToken,
    Header,
    TokenFile,
}

/// Where in the URL, and in which form.
#[derive(Debug, Clone, Copy)]
enum Place {
    Path,
    PathUpper,
    PathPercent,
    PathBase64,
    Query,
    Fragment,
    Host,
}

fn value_of(credential: Credential) -> &'static str {
    match credential {
        Credential::Bearer => BEARER,
        Credential::PromToken => PROM_TOKEN,
        Credential::PromPassword => PROM_PASSWORD,
        Credential::RemoteWriteToken => RW_TOKEN,
        Credential::Header => HEADER,
        Credential::TokenFile => FILE_TOKEN,
    }
}

fn url_holding(value: &str, place: Place) -> String {
    use base64::Engine as _;
    let percent: String = value.bytes().map(|b| format!("%{b:02X}")).collect();
    match place {
        Place::Path => format!("http://127.0.0.1:9/a/{value}/b"),
        Place::PathUpper => format!("http://127.0.0.1:9/{}/b", value.to_uppercase()),
        Place::PathPercent => format!("http://127.0.0.1:9/{percent}"),
        Place::PathBase64 => {
            format!("http://127.0.0.1:9/x/{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value))
        }
        Place::Query => format!("http://127.0.0.1:9/p?q={value}"),
        Place::Fragment => format!("http://127.0.0.1:9/p#{value}"),
        Place::Host => format!("http://{}.localhost:9/p", value.to_lowercase()),
    }
}

/// The command for `flag` given `url`, with every credential of `credential` held.
fn command(flag: Flag, credential: Credential, url: &str, dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = gatecheck();
    cmd.current_dir(repo())
        .env("PERF_BEARER_TOKEN", BEARER)
        .env("PERF_RULE_ID", "r1")
        .env("GATECHECK_PROMETHEUS_PASSWORD", PROM_PASSWORD)
        .env("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN);
    let token_file = dir.join("prom-token");
    std::fs::write(&token_file, FILE_TOKEN).unwrap();
    let prometheus =
        matches!(flag, Flag::CheckPrometheusUrl | Flag::RunPrometheusUrl | Flag::SettingsFilePrometheusUrl);
    let load = !matches!(flag, Flag::CheckPrometheusUrl | Flag::SettingsFilePrometheusUrl);
    // The token file and the Prometheus token are one Prometheus credential each: a command
    // that sends to Prometheus takes the file, another the variable.
    if matches!(credential, Credential::TokenFile) && prometheus {
        cmd.arg("--config").arg(dir.join("gatecheck.toml"));
    } else {
        cmd.env(
            "GATECHECK_PROMETHEUS_TOKEN",
            if matches!(credential, Credential::TokenFile) { FILE_TOKEN } else { PROM_TOKEN },
        );
    }
    let mut settings = String::new();
    if matches!(credential, Credential::TokenFile) && prometheus {
        settings.push_str(&format!("prometheus_token_file = {:?}\n", token_file.display().to_string()));
    }
    match flag {
        Flag::SmokeBaseUrl | Flag::SmokeRemoteWrite | Flag::SmokeScrapeUrl => cmd.arg("smoke"),
        Flag::RunScrapeUrl | Flag::RunPrometheusUrl => cmd.arg("run"),
        Flag::CheckPrometheusUrl | Flag::SettingsFilePrometheusUrl => cmd.arg("check"),
    };
    if load {
        cmd.args(["--quiet", "--duration", "4s", "--summary-out"])
            .arg(dir.join("s.json"))
            .arg("--log-out")
            .arg(dir.join("l.log"));
    } else {
        cmd.args(["--summary", "fixtures/k6/1.1.0/pass/summary-export.json"]);
    }
    match flag {
        Flag::SmokeBaseUrl => cmd.args(["--base-url", url]),
        Flag::SmokeRemoteWrite => cmd.args(["--remote-write", url]),
        Flag::SmokeScrapeUrl | Flag::RunScrapeUrl => cmd.args(["--scrape-url", url]),
        Flag::CheckPrometheusUrl | Flag::RunPrometheusUrl => cmd.args(["--prometheus-url", url]),
        Flag::SettingsFilePrometheusUrl => {
            settings.push_str(&format!("prometheus_url = {url:?}\n"));
            &mut cmd
        }
    };
    if !matches!(flag, Flag::SmokeBaseUrl) && load {
        cmd.args(["--base-url", "http://127.0.0.1:9"]);
    }
    if matches!(flag, Flag::SettingsFilePrometheusUrl) && !matches!(credential, Credential::TokenFile) {
        cmd.arg("--config").arg(dir.join("gatecheck.toml"));
    }
    if matches!(credential, Credential::Header) {
        if prometheus {
            cmd.args(["--prometheus-header", &format!("X-Key: {HEADER}")]);
        } else {
            if !matches!(flag, Flag::SmokeRemoteWrite) {
                cmd.args(["--remote-write", "http://127.0.0.1:9/api/v1/write"]);
            }
            cmd.args(["--remote-write-header", &format!("X-Key: {HEADER}")]);
        }
    }
    std::fs::write(dir.join("gatecheck.toml"), settings).unwrap();
    cmd
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// Findings round24-text/01 and /02 (and the class): every URL gatecheck sends a request to
    /// — the load's base URL, --remote-write, --scrape-url, --prometheus-url from a flag or a
    /// settings file — holding any credential of the command (bearer token, Prometheus token,
    /// basic-auth password, remote-write token, a header value, a token file's content) in its
    /// path, query, fragment or host, plain, upper-cased, percent-encoded or base64, is refused
    /// at input: exit 2, one line naming the flag, the credential never printed.
    #[test]
    fn no_outbound_url_carries_a_known_credential(
        flag in prop::sample::select(vec![
            Flag::SmokeBaseUrl, Flag::SmokeRemoteWrite, Flag::SmokeScrapeUrl, Flag::RunScrapeUrl,
            Flag::CheckPrometheusUrl, Flag::RunPrometheusUrl, Flag::SettingsFilePrometheusUrl,
        ]),
        credential in prop::sample::select(vec![
            Credential::Bearer, Credential::PromToken, Credential::PromPassword,
            Credential::RemoteWriteToken, Credential::Header, Credential::TokenFile,
        ]),
        place in prop::sample::select(vec![
            Place::Path, Place::PathUpper, Place::PathPercent, Place::PathBase64,
            Place::Query, Place::Fragment, Place::Host,
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let value = value_of(credential);
        let url = url_holding(value, place);
        let out = command(flag, credential, &url, dir.path()).timeout(std::time::Duration::from_secs(60)).assert();
        let code = out.get_output().status.code();
        let err = stderr_of(&out);
        prop_assert_eq!(code, Some(2), "{:?} {:?} {:?}: {}", flag, credential, place, err);
        let named = match flag {
            Flag::SmokeBaseUrl => "base URL",
            Flag::SmokeRemoteWrite => "--remote-write",
            Flag::SmokeScrapeUrl | Flag::RunScrapeUrl => "--scrape-url",
            Flag::CheckPrometheusUrl | Flag::RunPrometheusUrl | Flag::SettingsFilePrometheusUrl => "prometheus",
        };
        prop_assert!(err.to_lowercase().contains(&named.to_lowercase()) && err.contains("credential"),
            "{:?} {:?} {:?}: {}", flag, credential, place, err);
        prop_assert_eq!(err.trim_end().lines().count(), 1, "{}", err);
        let tail = &value[value.len() - 6..];
        prop_assert!(!err.to_lowercase().contains(&tail.to_lowercase()), "{}", err);
    }
}

/// Finding round24-text/03: a scenario's `bearer_token_env` naming a variable gatecheck reads for
/// another origin (the Prometheus token, its password, the remote-write token, any GATECHECK_*
/// variable) — or, finding round35-text/01, any variable outside the scenario's own `PERF_*`
/// family (a cloud key, a GitHub token) — is refused at load by `smoke` and by `export k6`; and a load token whose value is
/// (or holds) a credential gatecheck sends to another origin is refused by `smoke` and `run`,
/// whatever the variable is named. Exit 2, one line, the credential never printed, no request sent.
#[test]
fn the_load_token_is_never_another_origins_credential() {
    let (target, hits) = serve_answer("[]".into());
    for name in [
        "GATECHECK_PROMETHEUS_TOKEN",
        "GATECHECK_PROMETHEUS_PASSWORD",
        "GATECHECK_REMOTE_WRITE_TOKEN",
        "GATECHECK_PROMETHEUS_HEADER",
        // Finding round35-text/01: a CI job's other credentials, outside gatecheck's families.
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "API_TOKEN",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("sc.toml");
        let text = std::fs::read_to_string(repo().join("gates/core-flows.toml")).unwrap();
        let text: String = text
            .lines()
            .map(|line| {
                if line.starts_with("bearer_token_env") {
                    format!("bearer_token_env = \"{name}\"")
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(name), "the shipped scenario names its token variable");
        std::fs::write(&scenario, text).unwrap();
        let out = gatecheck()
            .env(name, PROM_TOKEN)
            .env("PERF_RULE_ID", "r1")
            .args(["smoke", "--quiet", "--duration", "4s", "--base-url", &target, "--scenario"])
            .arg(&scenario)
            .arg("--summary-out")
            .arg(dir.path().join("s.json"))
            .arg("--log-out")
            .arg(dir.path().join("l.log"))
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("bearer_token_env") && err.contains(name), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("AAAA1111"), "{err}");
        let out = gatecheck()
            .args(["export", "k6", "--scenario"])
            .arg(&scenario)
            .arg("--out")
            .arg(dir.path().join("x.js"))
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("bearer_token_env") && err.contains(name), "export k6 {name}: {err}");
        assert!(!dir.path().join("x.js").exists());
    }
    // The value rule: PERF_BEARER_TOKEN equal to, or holding, another origin's credential.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("prom-token");
    std::fs::write(&token_file, FILE_TOKEN).unwrap();
    // (the load token, the variables, the arguments)
    type Case<'a> = (String, Vec<(&'a str, String)>, Vec<String>);
    let cases: Vec<Case> = vec![
        (PROM_TOKEN.into(), vec![("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN.into())], vec![]),
        (format!("x{PROM_PASSWORD}y"), vec![("GATECHECK_PROMETHEUS_PASSWORD", PROM_PASSWORD.into())], vec![]),
        (RW_TOKEN.into(), vec![("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN.into())], vec![]),
        (
            HEADER.into(),
            vec![],
            vec![
                "--remote-write".into(),
                format!("{target}/api/v1/write"),
                "--remote-write-header".into(),
                format!("X-Key: {HEADER}"),
            ],
        ),
    ];
    for (token, env, args) in cases {
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", &token)
            .env("PERF_RULE_ID", "r1")
            .envs(env)
            .args(["--duration", "4s", "--base-url", &target])
            .args(&args)
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("PERF_BEARER_TOKEN") && err.contains("another origin"), "{token}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // `run`: the token file's content, and a --prometheus-header value.
    for (extra, token) in [
        (vec!["--prometheus-token-file".to_string(), token_file.display().to_string()], FILE_TOKEN),
        (vec!["--prometheus-header".to_string(), format!("X-Key: {HEADER}")], HEADER),
    ] {
        let out = gatecheck()
            .env("PERF_BEARER_TOKEN", token)
            .env("PERF_RULE_ID", "r1")
            .args(["run", "--quiet", "--duration", "4s", "--base-url", &target, "--prometheus-url"])
            .arg(format!("{target}/prom"))
            .args(&extra)
            .arg("--summary-out")
            .arg(dir.path().join("s.json"))
            .arg("--log-out")
            .arg(dir.path().join("l.log"))
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("PERF_BEARER_TOKEN") && err.contains("another origin"), "{extra:?}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// Finding round24-text/06: a credential read from a file (`run --prometheus-token-file`, or a
/// settings file's `prometheus_token_file`) is a credential gatecheck holds before the scenario
/// is loaded: a request path or body holding it is refused, exit 2, as the same value from
/// GATECHECK_PROMETHEUS_TOKEN is; no request reaches the load target.
#[test]
fn a_token_files_credential_is_known_before_the_scenario_loads() {
    let (target, hits) = serve_answer("[]".into());
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("prom-token");
    std::fs::write(&token_file, FILE_TOKEN).unwrap();
    std::fs::write(
        dir.path().join("gatecheck.toml"),
        format!("prometheus_token_file = {:?}\n", token_file.display().to_string()),
    )
    .unwrap();
    for (variable, field) in [("PERF_RULE_ID", "path"), ("PERF_SEARCH_KEYWORDS", "json")] {
        for by_config in [false, true] {
            let mut cmd = gatecheck();
            cmd.env("PERF_BEARER_TOKEN", BEARER).env("PERF_RULE_ID", "r1").env(variable, FILE_TOKEN);
            if by_config {
                cmd.arg("--config").arg(dir.path().join("gatecheck.toml"));
            }
            cmd.args(["run", "--quiet", "--duration", "4s", "--base-url", &target, "--prometheus-url"])
                .arg(format!("{target}/prom"));
            if !by_config {
                cmd.arg("--prometheus-token-file").arg(&token_file);
            }
            let out = cmd
                .arg("--summary-out")
                .arg(dir.path().join("s.json"))
                .arg("--log-out")
                .arg(dir.path().join("l.log"))
                .assert()
                .code(2);
            let err = stderr_of(&out);
            assert!(err.contains(field) && err.contains("credential"), "{variable} {by_config}: {err}");
            assert!(!err.contains("9kQ2wZ7mP4"), "{err}");
        }
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// Finding round26-text/02: `check` with the Prometheus token set to the load target's token
/// (PERF_BEARER_TOKEN) sent the API's credential to Prometheus. The load target's credential
/// never travels to Prometheus or a remote-write receiver, as a token, a password or a header
/// holding it: exit 2 before any request, naming the setting, never the value.
#[test]
fn the_load_targets_credential_never_travels_to_prometheus_or_a_receiver() {
    let (prometheus, received) = serve_recording(String::new());
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"max < 60s\"]\nquery = 'lag_seconds'\n");
    // (variables, arguments, the setting the error names)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<String>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("GATECHECK_PROMETHEUS_TOKEN", BEARER.into())], vec![], "the Prometheus token"),
        (
            vec![("GATECHECK_PROMETHEUS_PASSWORD", format!("x{BEARER}"))],
            vec!["--prometheus-user".into(), "u".into()],
            "GATECHECK_PROMETHEUS_PASSWORD",
        ),
        (vec![], vec!["--prometheus-header".into(), format!("X-Auth: Bearer {BEARER}")], "--prometheus-header X-Auth"),
    ];
    for (env, args, named) in cases {
        let out = gatecheck()
            .env("PERF_BEARER_TOKEN", BEARER)
            .envs(env)
            .args(["check", "--policy"])
            .arg(&policy)
            .args(["--prometheus-url", &prometheus])
            .args(&args)
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains(named) && err.contains("load target"), "{named}: {err}");
        assert!(!err.contains("Zq8xW3"), "{err}");
    }
    assert!(received.lock().unwrap().is_empty(), "no request reached Prometheus");
    // A remote-write header or token holding it: smoke refuses before any load.
    let (target, hits) = serve_answer("[]".into());
    let dir = tempfile::tempdir().unwrap();
    for (env, args) in [
        (vec![], vec!["--remote-write-header".to_string(), format!("X-Key: {BEARER}")]),
        (vec![("GATECHECK_REMOTE_WRITE_TOKEN", BEARER)], vec![]),
    ] {
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", BEARER)
            .env("PERF_RULE_ID", "r1")
            .envs(env)
            .args(["--duration", "4s", "--base-url", &target, "--remote-write"])
            .arg(format!("{prometheus}/api/v1/write"))
            .args(&args)
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("load target") && !err.contains("Zq8xW3"), "{args:?}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
    assert!(received.lock().unwrap().is_empty(), "no request reached the receiver");
}

/// Finding round26-text/01: a CI job running k6 with remote-write output holds k6's own
/// credentials (K6_PROMETHEUS_RW_PASSWORD, _BEARER_TOKEN, _HEADERS_<NAME>, _HTTP_HEADERS), and a
/// server answering gatecheck may quote them: they are credentials gatecheck knows, masked in
/// every output.
#[test]
fn k6s_remote_write_credentials_are_known_credentials() {
    const PASSWORD: &str = "k6rwPass-7Hq2Lm9Zx";
    const TOKEN: &str = "k6rwTok-4Fd8Ww1Pq";
    const HEADER_TOKEN: &str = "k6rwHdr-2Bn6Yy3Kc";
    const LISTED: &str = "k6rwList-9Jm4Tt7Rv";
    // Round 27 (text/03): the SigV4 secret, a URL's password, any k6 output's credential.
    const SIGV4: &str = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
    const URL_PASSWORD: &str = "UrlPassW0rd98765zz";
    const CLOUD: &str = "k6cloudTok-5Gh7Jj9Kk";
    // Round 28 (text/02): k6's OpenTelemetry output headers, `name=value`.
    const OTEL: &str = "k6otelTok-3Qw8Ee4Rr";
    // Round 31 (text/02): a credential word joined inside a word, k6's Dynatrace output token.
    const DYNATRACE: &str = "dt0c01.ST2EY72KQINMH574";
    let body: &'static str = Box::leak(
        format!(
            r#"{{"status":"error","errorType":"bad_data","error":"refused: {PASSWORD} {TOKEN} {HEADER_TOKEN} {LISTED} {SIGV4} {URL_PASSWORD} {CLOUD} {OTEL} {DYNATRACE}"}}"#
        )
        .into_boxed_str(),
    );
    let url = serve_prometheus_answer(body);
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"max < 60s\"]\nquery = 'lag_seconds'\n");
    let out = gatecheck()
        .env("K6_PROMETHEUS_RW_PASSWORD", PASSWORD)
        .env("K6_PROMETHEUS_RW_BEARER_TOKEN", TOKEN)
        .env("K6_PROMETHEUS_RW_HEADERS_AUTHORIZATION", format!("Bearer {HEADER_TOKEN}"))
        .env("K6_PROMETHEUS_RW_HTTP_HEADERS", format!("X-Scope-OrgID:tenant-one,X-Api-Key:{LISTED}"))
        .env("K6_PROMETHEUS_RW_SIGV4_SECRET_KEY", SIGV4)
        .env("K6_PROMETHEUS_RW_SERVER_URL", format!("http://k6user:{URL_PASSWORD}@127.0.0.1:9/api/v1/write"))
        .env("K6_CLOUD_TOKEN", CLOUD)
        .env("K6_OTEL_HEADERS", format!("X-Tenant=one,Authorization=Bearer {OTEL}"))
        .env("K6_DYNATRACE_APITOKEN", DYNATRACE)
        .args(["check", "--policy"])
        .arg(&policy)
        .args(["--prometheus-url", &url, "--at", FIXTURE_T])
        .assert();
    let shown = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(shown.contains("refused"), "the server's answer is shown: {shown}");
    for credential in [PASSWORD, TOKEN, HEADER_TOKEN, LISTED, SIGV4, URL_PASSWORD, CLOUD, OTEL, DYNATRACE] {
        assert!(!shown.contains(&credential[..10]), "{credential}: {shown}");
    }
    assert_ne!(out.get_output().status.code(), Some(0), "{shown}");
    // k6's credentials belong to k6's outputs: never the load target's token.
    let (target, hits) = serve_answer("[]".into());
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("K6_PROMETHEUS_RW_SIGV4_SECRET_KEY", SIGV4.to_string()),
        ("K6_PROMETHEUS_RW_SERVER_URL", format!("http://k6user:{URL_PASSWORD}@127.0.0.1:9/api/v1/write")),
        ("K6_CLOUD_TOKEN", CLOUD.to_string()),
        ("K6_OTEL_HEADERS", format!("Authorization=Bearer {OTEL}")),
        ("K6_DYNATRACE_APITOKEN", DYNATRACE.to_string()),
    ] {
        let token = match name {
            "K6_PROMETHEUS_RW_SERVER_URL" => URL_PASSWORD,
            "K6_OTEL_HEADERS" => OTEL,
            _ => value.as_str(),
        };
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", token)
            .env("PERF_RULE_ID", "r1")
            .env(name, &value)
            .args(["--duration", "4s", "--base-url", &target])
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("another origin") && !err.contains(&token[..10]), "{name}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// Finding round28-text/01: the HTTP client used the proxy the environment names (HTTP_PROXY,
/// ALL_PROXY), which received the Prometheus token in plain text (and answered for Prometheus).
/// gatecheck connects to the URLs it is given only: no request reaches an environment proxy, from
/// any command that sends one (Prometheus queries, remote-write pushes, scrapes, the load).
#[test]
fn no_request_goes_through_an_environment_proxy() {
    let (proxy, received) = serve_recording(String::new());
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"max < 60s\"]\nquery = 'lag_seconds'\n");
    let (target, _hits) = serve_answer("[]".into());
    let dir = tempfile::tempdir().unwrap();
    let proxied = |cmd: &mut assert_cmd::Command| {
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            cmd.env(name, &proxy);
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    };
    // Prometheus at a port nothing listens on: the query fails there, never at the proxy.
    let mut check = gatecheck();
    proxied(&mut check);
    check
        .env("GATECHECK_PROMETHEUS_TOKEN", PROM_TOKEN)
        .args(["check", "--policy"])
        .arg(&policy)
        .args(["--prometheus-url", "http://127.0.0.1:9", "--prometheus-retries", "0"])
        .assert()
        .code(2);
    let mut smoke = smoke_writing_into(dir.path());
    proxied(&mut smoke);
    // The load runs (the pushes fail at the receiver's closed port: blocked, not refused).
    let out = smoke
        .env("PERF_BEARER_TOKEN", BEARER)
        .env("PERF_RULE_ID", "r1")
        .env("GATECHECK_REMOTE_WRITE_TOKEN", RW_TOKEN)
        .args(["--duration", "4s", "--base-url", &target, "--remote-write", "http://127.0.0.1:9/api/v1/write"])
        .assert();
    assert_ne!(out.get_output().status.code(), Some(2), "{}", stderr_of(&out));
    let mut scrape = smoke_writing_into(dir.path());
    proxied(&mut scrape);
    scrape
        .env("PERF_BEARER_TOKEN", BEARER)
        .env("PERF_RULE_ID", "r1")
        .args(["--duration", "1s", "--base-url", &target, "--scrape-url", "http://127.0.0.1:9/metrics"])
        .assert()
        .code(2);
    let seen = String::from_utf8_lossy(&received.lock().unwrap()).to_string();
    assert!(seen.is_empty(), "the proxy received: {seen}");
}

/// Finding round29-text/03: k6's OpenTelemetry output sends the OTel SDK's own variables,
/// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_{METRICS,TRACES,LOGS}_HEADERS` (lists of
/// `name=value`, values percent-encoded), and an endpoint URL's password: credentials of another
/// origin, masked in every output (decoded as the SDK decodes them) and never the load target's token.
#[test]
fn the_otel_exporters_credentials_are_known_credentials() {
    const HEADERS: &str = "otlpTok-9Rr2Tt5Yy";
    const METRICS: &str = "otlpMet-4Kk7Ll1Zz";
    const TRACES: &str = "otlpTrc-6Hh3Jj8Qq";
    const ENDPOINT: &str = "otlpUrlPw-2Ww5Ee9";
    let variables = [
        // Percent-encoded as the OTel spec writes a value: `-` as `%2D`, the space as `%20`.
        ("OTEL_EXPORTER_OTLP_HEADERS", "X-Tenant=one,Authorization=Bearer%20otlpTok%2D9Rr2Tt5Yy".to_string(), HEADERS),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", format!("api-key={METRICS}"), METRICS),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", format!("x-honeycomb-team={TRACES}"), TRACES),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", format!("https://u:{ENDPOINT}@otlp.example/v1/logs"), ENDPOINT),
    ];
    let body: &'static str = Box::leak(
        format!(
            r#"{{"status":"error","errorType":"bad_data","error":"refused: {HEADERS} {METRICS} {TRACES} {ENDPOINT}"}}"#
        )
        .into_boxed_str(),
    );
    let url = serve_prometheus_answer(body);
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"max < 60s\"]\nquery = 'lag_seconds'\n");
    let mut check = gatecheck();
    for (name, value, _) in &variables {
        check.env(name, value);
    }
    let out =
        check.args(["check", "--policy"]).arg(&policy).args(["--prometheus-url", &url, "--at", FIXTURE_T]).assert();
    let shown = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(shown.contains("refused"), "the server's answer is shown: {shown}");
    for (name, _, credential) in &variables {
        assert!(!shown.contains(&credential[..10]), "{name}: {shown}");
    }
    // Another origin's credentials: never the load target's token.
    let (target, hits) = serve_answer("[]".into());
    let dir = tempfile::tempdir().unwrap();
    for (name, value, token) in &variables {
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", token)
            .env("PERF_RULE_ID", "r1")
            .env(name, value)
            .args(["--duration", "4s", "--base-url", &target])
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("another origin") && !err.contains(&token[..10]), "{name}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// A `verify` of a k6 handleSummary whose threshold names quote each of `quoted`, run with
/// `env` (and in `dir`, where a settings file may be): everything it printed and reported.
fn verify_quoting(dir: &std::path::Path, quoted: &[&str], env: &[(&str, String)]) -> String {
    let mut summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("fixtures/k6/1.1.0/pass/handle-summary.json")).unwrap(),
    )
    .unwrap();
    for value in quoted {
        summary["metrics"]["http_req_duration{flow:auth_list}"]["thresholds"][format!("p(95)<400 {value}")] =
            serde_json::json!({"ok": false});
    }
    std::fs::write(dir.join("sum.json"), summary.to_string()).unwrap();
    std::fs::write(
        dir.join("pol.toml"),
        "[policy]\nname = \"p\"\ndescription = \"d\"\n\n[[gate]]\nid = \"lat\"\ndescription = \"Latency\"\n\
         metric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n",
    )
    .unwrap();
    let mut cmd = gatecheck();
    cmd.current_dir(dir);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd
        .args(["verify", "--policy", "pol.toml", "--summary", "sum.json"])
        .args(["--report", "json=out.json", "--report", "markdown=out.md"])
        .assert();
    let reports: String =
        ["out.json", "out.md"].iter().filter_map(|file| std::fs::read_to_string(dir.join(file)).ok()).collect();
    format!("{}{}{reports}", stdout_of(&out), stderr_of(&out))
}

/// Finding round32-text/04: a Prometheus header given in the settings (`prometheus_header` in
/// gatecheck.toml, or GATECHECK_PROMETHEUS_HEADER) is a credential of the process whether or
/// not a Prometheus URL is set: a k6 summary quoting it is masked in every output.
#[test]
fn a_settings_header_is_a_credential_without_a_prometheus_url() {
    const SECRET: &str = "HdrSecretValue0123456789";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gatecheck.toml"), format!("prometheus_header = [\"X-Api-Key: {SECRET}\"]\n"))
        .unwrap();
    let shown = verify_quoting(dir.path(), &[SECRET], &[]);
    assert!(shown.contains("p(95)<400") && !shown.contains(&SECRET[..12]), "settings file: {shown}");
    std::fs::remove_file(dir.path().join("gatecheck.toml")).unwrap();
    let shown =
        verify_quoting(dir.path(), &[SECRET], &[("GATECHECK_PROMETHEUS_HEADER", format!("[\"X-Api-Key: {SECRET}\"]"))]);
    assert!(shown.contains("p(95)<400") && !shown.contains(&SECRET[..12]), "GATECHECK_PROMETHEUS_HEADER: {shown}");
}

/// Findings round32-text/05 and /01: a credential is one by its value's shape as well as its
/// variable's name. A k6 or OTLP output URL's token-only userinfo and credential-named query
/// parameters, a password in a URL under any name, an HTTP credential (`Bearer …`, `Basic …`),
/// and names with the AUTH, AUTHORIZATION, COOKIE, BEARER, DSN and WEBHOOK words are masked in
/// every output; an output's credential is never the load target's token.
#[test]
fn credentials_known_by_their_values_shape_and_more_words() {
    const RW_KEY: &str = "RwQueryKeyValue0001";
    const IN_TOK: &str = "InfluxQueryTok0002";
    const OT_TOK: &str = "OtlpUserinfoTok0003";
    const DB_PASSWORD: &str = "DbPassw0rdXyz123";
    const SENTRY: &str = "abcdef0123456789abcd";
    const AUTH_HEADER: &str = "AuthHdrTok3nValue99";
    const PERF_AUTH: &str = "PerfAuthValue4455";
    const COOKIE: &str = "CookieS3ssionValue77";
    const BASIC_PAIR: &str = "basicuser:BasicPw0rd8877";
    const OUTPUT_BEARER: &str = "OutputBearerTok66";
    const WEBHOOK: &str = "SlackHookSecretXX";
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, BASIC_PAIR);
    let env = [
        ("K6_PROMETHEUS_RW_SERVER_URL", format!("https://rw.example/api/v1/push?api_key={RW_KEY}")),
        ("K6_INFLUXDB_ADDR", format!("https://influx.example:8086/write?db=k6&token={IN_TOK}")),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("https://{OT_TOK}@otlp.example:4318")),
        ("DATABASE_URL", format!("postgres://app:{DB_PASSWORD}@db.internal/app")),
        ("SENTRY_DSN", format!("https://{SENTRY}@o1.ingest.sentry.io/1")),
        ("PERF_AUTHORIZATION", format!("Bearer {AUTH_HEADER}")),
        ("PERF_AUTH", PERF_AUTH.to_string()),
        ("PERF_SESSION_COOKIE", COOKIE.to_string()),
        ("PERF_BASIC_AUTH_HEADER", format!("Basic {basic}")),
        ("K6_OUTPUT_BEARER", OUTPUT_BEARER.to_string()),
        ("PERF_SLACK_WEBHOOK", format!("https://hooks.slack.com/services/T000/B000/{WEBHOOK}")),
    ];
    let quoted =
        [RW_KEY, IN_TOK, OT_TOK, DB_PASSWORD, SENTRY, AUTH_HEADER, PERF_AUTH, COOKIE, BASIC_PAIR, OUTPUT_BEARER];
    let dir = tempfile::tempdir().unwrap();
    let shown = verify_quoting(dir.path(), &quoted, &env);
    assert!(shown.contains("p(95)<400"), "the thresholds are shown: {shown}");
    for credential in quoted.iter().chain(&[WEBHOOK]) {
        assert!(!shown.contains(&credential[..10]), "{credential}: {shown}");
    }
    // An output's credential, found by its shape, is another origin's: never the load token.
    let (target, hits) = serve_answer("[]".into());
    for (name, value, token) in [
        ("K6_INFLUXDB_ADDR", env[1].1.clone(), IN_TOK),
        ("K6_PROMETHEUS_RW_SERVER_URL", env[0].1.clone(), RW_KEY),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", env[2].1.clone(), OT_TOK),
        ("DATABASE_URL", env[3].1.clone(), DB_PASSWORD),
    ] {
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", token)
            .env("PERF_RULE_ID", "r1")
            .env(name, &value)
            .args(["--duration", "4s", "--base-url", &target])
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(err.contains("another origin") && !err.contains(&token[..10]), "{name}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}

/// Well-known credential variables of CI jobs whose names hold none of gatecheck's credential
/// words, with values no value rule reads as a credential (finding round36-text/01).
const UNLISTED_CREDENTIALS: &[(&str, &str)] = &[
    ("RAILS_MASTER_KEY", "railsmaster0123456789abcdef"),
    ("GITHUB_PAT", "ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ("CI_JOB_JWT_V2", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig123456"),
    ("DD_APP_KEY", "ddapp0123456789abcdef0123456789abcdef"),
    ("MYSQL_PWD", "mysqlpw-123456789"),
    ("RABBITMQ_DEFAULT_PASS", "rabbitpass-123456"),
    ("NEW_RELIC_LICENSE_KEY", "nrlicense0123456789abcdefNRAL"),
];

/// A one-request scenario POSTing to `base_url`, `json` its body's TOML lines.
fn scenario_posting(dir: &std::path::Path, base_url: &str, json: &str) -> std::path::PathBuf {
    let path = dir.join("scen.toml");
    std::fs::write(
        &path,
        format!(
            "[scenario]\nname = \"s\"\nbase_url = \"{base_url}\"\nvus = \"1\"\nduration = \"2s\"\nmax_requests = 2\n\n\
             [[flow]]\nname = \"f\"\n[[flow.request]]\nname = \"r\"\nmethod = \"POST\"\npath = \"/x\"\n\
             expect_status = 200\n[flow.request.json]\n{json}\n"
        ),
    )
    .unwrap();
    path
}

/// Finding round36-text/01: a scenario's `${NAME}` reads only the scenario's own family
/// (`PERF_*`), so a CI job's credential whose name misses every credential word (Rails' master
/// key, a GitHub PAT, GitLab's job JWT) never fills a body sent to the load target: `smoke` and
/// `export k6` refuse the scenario at load, naming the field and the variable, and nothing is sent.
#[test]
fn a_scenario_reads_only_its_own_family_of_variables() {
    let dir = tempfile::tempdir().unwrap();
    let (target, received) = serve_recording("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".into());
    for (name, value) in UNLISTED_CREDENTIALS {
        let scenario = scenario_posting(dir.path(), &target, &format!("a = \"${{{name}}}\""));
        let out = smoke_writing_into(dir.path())
            .env("PERF_BEARER_TOKEN", BEARER)
            .env(name, value)
            .arg("--scenario")
            .arg(&scenario)
            .assert()
            .code(2);
        let err = stderr_of(&out);
        assert!(
            err.contains("json.a") && err.contains(&format!("${{{name}}}")) && err.contains("PERF_"),
            "{name}: {err}"
        );
        assert!(!err.contains(value) && !stdout_of(&out).contains(value), "{name}: {err}");
        let out = gatecheck().env(name, value).args(["export", "k6", "--scenario"]).arg(&scenario).assert().code(2);
        let err = stderr_of(&out);
        assert!(err.contains(&format!("${{{name}}}")) && !err.contains(value), "{name}: {err}");
    }
    assert!(received.lock().unwrap().is_empty(), "no request reached the target");
    // The scenario's own family loads (any case), and a PERF_ name that reads as a credential's
    // is still refused by its name.
    let scenario = scenario_posting(dir.path(), &target, "a = \"${perf_note}\"");
    smoke_writing_into(dir.path())
        .env("PERF_BEARER_TOKEN", BEARER)
        .env("perf_note", "hello")
        .arg("--scenario")
        .arg(&scenario)
        .assert()
        .code(0);
    let scenario = scenario_posting(dir.path(), &target, "a = \"${PERF_API_KEY}\"");
    let out = smoke_writing_into(dir.path())
        .env("PERF_BEARER_TOKEN", BEARER)
        .env("PERF_API_KEY", "apikeyvalue-123456")
        .arg("--scenario")
        .arg(&scenario)
        .assert()
        .code(2);
    assert!(stderr_of(&out).contains("${PERF_API_KEY}"), "{}", stderr_of(&out));
}

/// Every text a command wrote: stdout, stderr and each file in `dir`.
fn everything_written(out: &assert_cmd::assert::Assert, dir: &std::path::Path) -> String {
    let mut all = format!("{}\n{}\n", stdout_of(out), stderr_of(out));
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()));
        }
    }
    all
}

/// What a command wrote when a variable named `name` holding `value` fills `place`: a scenario's
/// `base_url` whole or its path, `vus`, `duration`, a policy's `switch_env` or `[gate.env]`.
fn written_with_variable_in(place: usize, name: &str, value: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let summary = repo().join("fixtures/k6/1.1.0/pass/summary-export.json");
    let scenario = |base_url: &str, vus: &str, duration: &str| {
        let path = dir.path().join("scen.toml");
        std::fs::write(
            &path,
            format!(
                "[scenario]\nname = \"s\"\nbase_url = \"{base_url}\"\nvus = \"{vus}\"\nduration = \"{duration}\"\n\
                 max_requests = 1\n\n[[flow]]\nname = \"f\"\n[[flow.request]]\nname = \"r\"\nmethod = \"GET\"\npath = \"/x\"\n"
            ),
        )
        .unwrap();
        path
    };
    let var = format!("${{{name}}}");
    let out = match place {
        0..=3 => {
            let path = match place {
                0 => scenario(&var, "1", "2s"),
                1 => scenario(&format!("http://127.0.0.1:1/{var}"), "1", "2s"),
                2 => scenario("http://127.0.0.1:1", &var, "2s"),
                _ => scenario("http://127.0.0.1:1", "1", &var),
            };
            smoke_writing_into(dir.path())
                .env("PERF_BEARER_TOKEN", BEARER)
                .env(name, value)
                .args(["--request-timeout", "1s", "--scenario"])
                .arg(&path)
                .timeout(std::time::Duration::from_secs(30))
                .assert()
        }
        _ => {
            let policy = dir.path().join("pol.toml");
            let text = if place == 4 {
                format!(
                    "[policy]\nname = \"pe\"\ndescription = \"x\"\n\n[flows.auth_list]\nswitch_env = \"{name}\"\n\
                     description = \"x\"\n\n[[gate]]\nid = \"read-latency\"\ndescription = \"x\"\n\
                     metric = \"http_req_duration{{flow:auth_list}}\"\nthresholds = [\"p(95) < 400ms\"]\n"
                )
            } else {
                format!(
                    "[policy]\nname = \"pe\"\ndescription = \"x\"\n\n[[gate]]\nid = \"lag\"\ndescription = \"x\"\n\
                     unit = \"s\"\nthresholds = [\"max < 180s\"]\n[gate.env]\nmax = \"{name}\"\n"
                )
            };
            std::fs::write(&policy, text).unwrap();
            gatecheck()
                .env(name, value)
                .current_dir(dir.path())
                .args(["verify", "--policy"])
                .arg(&policy)
                .arg("--summary")
                .arg(&summary)
                .assert()
        }
    };
    let code = out.get_output().status.code();
    (code, everything_written(&out, dir.path()))
}

/// Finding round36-text/02: an error about a variable a file names (a scenario's `base_url`,
/// `vus`, `duration`; a policy's `switch_env` and `[gate.env]`) names the variable and what was
/// expected, never its value: the repro's four forms, with an unlisted credential's name.
#[test]
fn a_variable_a_file_names_is_never_quoted() {
    const VALUE: &str = "railsmaster0123456789abcdef";
    for place in 0..6 {
        let (code, written) = written_with_variable_in(place, "RAILS_MASTER_KEY", VALUE);
        assert_eq!(code, Some(2), "place {place}: {written}");
        assert!(!written.contains(VALUE) && written.contains("RAILS_MASTER_KEY"), "place {place}: {written}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Finding round36-text/02, as a rule: whatever variable (the scenario's family or another)
    /// holds a value V, and wherever a file names it (base_url whole or in its path, vus,
    /// duration, switch_env, gate.env), nothing the command writes — stdout, stderr, summary,
    /// log — holds V, whatever the command's outcome. (A `PERF_*` variable filling the base
    /// URL's path with a value that makes a valid URL is the scenario's own target, shown as
    /// such: that case is left out.)
    #[test]
    fn no_output_holds_the_value_of_a_variable_a_file_names(
        name in "(PERF_|RAILS_|CI_JOB_|DD_|MYSQL_|)(MASTER_KEY|PAT|JWT|APP_KEY|PWD|X)",
        value in "zQ9v[A-Za-z0-9]{14,20}",
        place in 0usize..6,
    ) {
        prop_assume!(!(place == 1 && name.starts_with("PERF_")));
        let (code, written) = written_with_variable_in(place, &name, &value);
        prop_assert!(code == Some(2), "{} at {}: {}", name, place, written);
        prop_assert!(!written.contains(&value), "{} at {}: {}", name, place, written);
    }
}

/// Finding round37-text/01: a credential is found wherever in a value it sits, not only when
/// it is the whole value — k6's `--out name=url` spelling (`K6_OUT`), a comma list of outputs,
/// an extension's token parameter, a quoted URL, an HTTP header line. A scenario's `${PERF_SINK}`
/// holding any of them is refused before any request, and `K6_OUT`'s password is masked in
/// every output that quotes it.
#[test]
fn a_credential_anywhere_in_a_value_is_known() {
    const PW: &str = "Zk8pQw3rTy7uIo0p";
    let dir = tempfile::tempdir().unwrap();
    let k6_out = ("K6_OUT", format!("influxdb=http://user:{PW}@127.0.0.1:8086/k6"));
    let shown = verify_quoting(dir.path(), &[PW], std::slice::from_ref(&k6_out));
    assert!(shown.contains("p(95)<400") && !shown.contains(&PW[..10]), "K6_OUT: {shown}");

    let (target, hits) = serve_answer("{}".into());
    std::fs::write(
        dir.path().join("s.toml"),
        format!(
            "[scenario]\nname = \"s\"\nbase_url = \"{target}\"\nbearer_token_env = \"\"\nvus = \"1\"\nduration = \"1s\"\n\
             request_timeout = \"2s\"\nmax_requests = 2\n\n[[flow]]\nname = \"f\"\ndescription = \"d\"\nsleep = \"100ms\"\n\n\
             [[flow.request]]\nname = \"r\"\nmethod = \"POST\"\npath = \"/x\"\ncheck = \"ok\"\nexpect_status = 200\n\n\
             [flow.request.json]\nsink = \"${{PERF_SINK}}\"\n"
        ),
    )
    .unwrap();
    for value in [
        format!("influxdb=http://u:{PW}@127.0.0.1:8086/k6"),
        format!("csv=a.csv,influxdb=http://u:{PW}@127.0.0.1:8086/k6"),
        format!("xk6-influxdb=http://127.0.0.1:8086?token={PW}"),
        format!("\"http://u:{PW}@127.0.0.1:8086/k6\""),
        format!("Authorization: Bearer {PW}"),
    ] {
        let mut smoke = smoke_writing_into(dir.path());
        smoke.current_dir(dir.path()).env("PERF_SINK", &value).args(["--scenario", "s.toml"]);
        let out = smoke.assert().code(2);
        let err = stderr_of(&out);
        assert!(
            err.contains("PERF_SINK") && err.contains("reads as a credential") && !err.contains(&PW[..10]),
            "{value}: {err}"
        );
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the target");
}
