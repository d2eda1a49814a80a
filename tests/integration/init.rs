//! `gatecheck init`: the scaffold for another team's API runs on the first try. It is written
//! for the embedded demo target's own endpoints, then `gatecheck run` judges the demo end to
//! end: exit 0 against the healthy target, exit 1 naming the read-latency gate against
//! `--break latency`. It never overwrites, and what it writes lints clean (or names its
//! placeholders).

use std::path::Path;

use crate::support::{gatecheck, stderr_of, stdout_of, Served, DEMO_RULE, DEMO_TOKEN};

const DEMO_ENDPOINTS: [&str; 4] = [
    "GET /api/watch-rules?limit=20",
    "GET /api/watch-releases?limit=20",
    "POST /api/dev/rules/{rule_id}/run?limit=20",
    r#"POST /api/search {"keywords": ["house", "techno"], "providers": ["discogs"], "page": 1, "page_size": 10}"#,
];

fn init_for_the_demo(dir: &Path, extra: &[&str]) -> String {
    let mut command = gatecheck();
    command.current_dir(dir).arg("init");
    for endpoint in DEMO_ENDPOINTS {
        command.args(["--endpoint", endpoint]);
    }
    stdout_of(&command.args(extra).assert().code(0))
}

fn run_against(dir: &Path, target: &Served) -> (i32, String) {
    let out = gatecheck()
        .current_dir(dir)
        .env("PERF_BASE_URL", &target.url)
        .env("PERF_BEARER_TOKEN", DEMO_TOKEN)
        .env("PERF_RULE_ID", DEMO_RULE)
        .env("PERF_DURATION", "4s")
        .env("NO_COLOR", "1")
        .arg("run")
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn init_for_the_demo_endpoints_then_run_ships_and_a_latency_break_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let said = init_for_the_demo(
        dir.path(),
        &[
            "--latency-histogram",
            "waxwatch_request_latency_seconds",
            "--utilization-gauge",
            "waxwatch_db_connection_utilization",
        ],
    );
    assert!(said.contains("4 endpoint(s) in 4 flow(s) (dev, search, watch_releases, watch_rules)"), "{said}");
    for file in
        ["gates/core-flows.toml", "gates/release.toml", "gates/saturation.toml", ".github/workflows/release-gates.yml"]
    {
        assert!(dir.path().join(file).is_file(), "{file} missing: {said}");
    }
    let lint = gatecheck()
        .current_dir(dir.path())
        .args(["lint", "gates/release.toml", "gates/saturation.toml", "gates/core-flows.toml"])
        .assert()
        .code(0);
    assert!(stdout_of(&lint).contains("3 file(s), 0 error(s), 0 warning(s)"));

    let tested = gatecheck().current_dir(dir.path()).args(["test", "tests/policy/release.toml"]).assert().code(0);
    assert!(stdout_of(&tested).contains("gatecheck test: 5 passed, 0 failed"), "{}", stdout_of(&tested));

    let healthy = Served::start(&["demo", "--serve"]);
    let (code, out) = run_against(dir.path(), &healthy);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("RELEASE OK") && out.contains("watch-rules-latency") && out.contains("search-checks"),
        "{out}"
    );

    let broken = Served::start(&["demo", "--serve", "--break", "latency"]);
    let (code, out) = run_against(dir.path(), &broken);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("RELEASE BLOCKED"), "{out}");
    let failed: Vec<&str> = out.lines().filter(|l| l.contains("FAIL")).collect();
    assert!(failed.iter().all(|l| l.contains("-latency")) && !failed.is_empty(), "{out}");
}

#[test]
fn init_never_overwrites_and_writes_nothing_when_a_file_exists() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("gates")).unwrap();
    std::fs::write(dir.path().join("gates/release.toml"), "# mine\n").unwrap();
    let mut command = gatecheck();
    command.current_dir(dir.path()).args(["init", "--endpoint", "GET /api/items"]);
    let out = command.assert().code(2);
    let stderr = crate::support::stderr_of(&out);
    assert!(stderr.contains("gates/release.toml already exist"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("gates/release.toml")).unwrap(), "# mine\n");
    assert!(!dir.path().join("gates/core-flows.toml").exists() && !dir.path().join("schemas").exists());
}

#[test]
fn init_without_metric_names_leaves_placeholders_that_lint_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let said = init_for_the_demo(dir.path(), &[]);
    assert!(said.contains("1 file(s) hold FILL_IN_... placeholders"), "{said}");
    let out = gatecheck().current_dir(dir.path()).args(["lint", "gates/saturation.toml"]).assert().code(2);
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("gates/saturation.toml:") && stdout.contains("placeholder FILL_IN_request_latency_seconds"),
        "{stdout}"
    );
    assert!(stdout.contains("placeholder FILL_IN_pool_utilization_ratio"), "{stdout}");
}

#[test]
fn init_from_openapi_reads_gets_and_only_named_writes() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("openapi.yaml");
    std::fs::write(
        &doc,
        "openapi: 3.0.3\ninfo: {title: shop, version: '1'}\npaths:\n  /api/v1/items:\n    get:\n      tags: [Catalog]\n      responses: {'200': {description: ok}}\n    post:\n      tags: [Catalog]\n      responses: {'201': {description: created}}\n  /api/v1/orders/{order_id}:\n    get:\n      responses: {'200': {description: ok}}\n    delete:\n      responses: {'204': {description: gone}}\n",
    )
    .unwrap();
    let said = stdout_of(
        &gatecheck().current_dir(dir.path()).args(["init", "--openapi", "openapi.yaml", "--no-auth"]).assert().code(0),
    );
    assert!(said.contains("2 endpoint(s) in 2 flow(s) (catalog, orders)"), "{said}");
    let scenario = std::fs::read_to_string(dir.path().join("gates/core-flows.toml")).unwrap();
    assert!(
        !scenario.contains("method = \"POST\"")
            && !scenario.contains("DELETE")
            && scenario.contains("bearer_token_env = \"\""),
        "{scenario}"
    );
    assert!(scenario.contains("path_params = { order_id = \"${PERF_ORDER_ID}\" }"), "{scenario}");
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/release-gates.yml")).unwrap();
    assert!(workflow.contains("PERF_ORDER_ID: ${{ vars.PERF_ORDER_ID }}"), "{workflow}");

    let named = tempfile::tempdir().unwrap();
    std::fs::copy(&doc, named.path().join("openapi.yaml")).unwrap();
    let said = stdout_of(
        &gatecheck()
            .current_dir(named.path())
            .args(["init", "--openapi", "openapi.yaml", "--endpoint", r#"POST /api/v1/items {"name": "x"}"#])
            .assert()
            .code(0),
    );
    assert!(said.contains("3 endpoint(s)"), "{said}");
    let scenario = std::fs::read_to_string(named.path().join("gates/core-flows.toml")).unwrap();
    assert!(scenario.contains("expect_status = 201") && scenario.contains("json = { name = \"x\" }"), "{scenario}");
}

#[test]
fn the_written_workflow_passes_actionlint() {
    if which("actionlint").is_none() {
        assert!(std::env::var_os("CI").is_none(), "actionlint is missing in CI (make install-tools)");
        crate::support::record_skip("actionlint not on PATH (make install-tools)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    init_for_the_demo(dir.path(), &[]);
    // It installs a released, checksum-pinned gatecheck through the action: no compiler.
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/release-gates.yml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(workflow.contains(&format!("uses: gatecheck-dev/gatecheck@v{version}")), "{workflow}");
    assert!(workflow.contains("sha256: ${{ vars.GATECHECK_SHA256 }}") && !workflow.contains("cargo"), "{workflow}");
    let status = std::process::Command::new("actionlint")
        .current_dir(dir.path())
        .arg(".github/workflows/release-gates.yml")
        .status()
        .unwrap();
    assert!(status.success());
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(tool)).find(|p| p.is_file()))
}

/// Findings text2/02, 03, 09: init never writes through a link (a dangling `gates/release.toml`
/// once created its target outside the directory), writes all or nothing (a failure half-way
/// once left five files behind), and a path parameter that is no bare TOML key is quoted, so
/// the scenario it writes loads.
#[test]
fn init_writes_no_link_nothing_half_way_and_quotes_odd_parameters() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("gates")).unwrap();
    let target = outside.path().join("escaped.toml");
    std::os::unix::fs::symlink(&target, dir.path().join("gates/release.toml")).unwrap();
    let err =
        stderr_of(&gatecheck().current_dir(dir.path()).args(["init", "--endpoint", "GET /api/items"]).assert().code(2));
    assert!(err.contains("gates/release.toml") && err.contains("already exist"), "{err}");
    assert!(!target.exists(), "init wrote through a dangling link");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schemas"), "a file where init needs a folder").unwrap();
    let err =
        stderr_of(&gatecheck().current_dir(dir.path()).args(["init", "--endpoint", "GET /api/items"]).assert().code(2));
    assert!(err.contains("schemas"), "{err}");
    let left: Vec<_> = walk(dir.path()).into_iter().filter(|p| !p.ends_with("schemas")).collect();
    assert!(left.is_empty(), "init left {left:?} behind");

    let dir = tempfile::tempdir().unwrap();
    gatecheck().current_dir(dir.path()).args(["init", "--endpoint", "GET /api/items/{item.id}"]).assert().code(0);
    gatecheck().current_dir(dir.path()).args(["lint", "gates/core-flows.toml"]).assert().code(0);
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Finding round7-text/03: `--latency-histogram` and `--utilization-gauge` are written into the
/// policy's PromQL: a quote and a line break wrote lines of their own (a threshold) into
/// `gates/saturation.toml`. Anything but a metric name is refused, naming the flag, and nothing
/// is written.
#[test]
fn init_refuses_a_metric_name_that_is_not_one() {
    for (flag, value) in [
        ("--utilization-gauge", "pool'\nthresholds = [\"value < 1000%\"]\n#"),
        ("--latency-histogram", "lat{le=\"1\"}"),
        ("--utilization-gauge", "9pool"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = gatecheck()
            .current_dir(dir.path())
            .args(["init", "--endpoint", "GET /api/items", flag, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value:?}: {err}");
        assert!(err.contains(flag) && err.contains("metric name"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing is written");
    }
    let dir = tempfile::tempdir().unwrap();
    gatecheck()
        .current_dir(dir.path())
        .args(["init", "--endpoint", "GET /api/items", "--utilization-gauge", "db:pool_utilization:ratio"])
        .args(["--latency-histogram", "http_latency_seconds_bucket"])
        .assert()
        .code(0);
}

/// Finding round20-text/01: `init` wrote a base URL with a password into the scenario (a file
/// to be committed), and an endpoint path quoting the job's token whole. The URL is refused as
/// a run refuses it. An endpoint quoting the token is refused (finding round39-text/03: a
/// generated file is written as generated or not at all; masked, the scenario loaded
/// `/api/***/items` with exit 0), naming the file and line, never the value.
#[test]
fn init_writes_no_credential_into_the_files_it_creates() {
    for base_url in ["http://alice:pw-9f8e7d6c5b4a@api.example", "http://api.example/?api_key=pw-9f8e7d6c5b4a"] {
        let dir = tempfile::tempdir().unwrap();
        let out = gatecheck().current_dir(dir.path()).args(["init", "--base-url", base_url]).assert().code(2);
        assert!(!crate::support::stderr_of(&out).contains("9f8e7d6c"));
        assert!(!dir.path().join("gates").exists(), "{base_url}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = gatecheck()
        .current_dir(dir.path())
        .env("PERF_BEARER_TOKEN", "tok-9f8e7d6c5b4a3928")
        .args(["init", "--endpoint", "GET /api/tok-9f8e7d6c5b4a3928/items"])
        .assert()
        .code(2);
    let err = crate::support::stderr_of(&out);
    assert!(err.contains("gates/core-flows.toml: line ") && !err.contains("9f8e7d6c"), "{err}");
    assert!(!dir.path().join("gates").exists(), "nothing written");
}

/// The `NAME:` keys of the job's `env:` map in a workflow init wrote, in order.
fn env_keys(workflow: &str) -> Vec<String> {
    let start = workflow.find("\n    env:\n").expect("the job has an env map") + "\n    env:\n".len();
    workflow[start..]
        .lines()
        .take_while(|line| line.starts_with("      "))
        .map(|line| line.trim().split(':').next().unwrap_or_default().to_string())
        .collect()
}

/// Finding round21-text/01: an OpenAPI path `/api/sessions/{bearer_token}` was written as
/// `path_params = { bearer_token = "${PERF_BEARER_TOKEN}" }`, so `smoke` sent the token in
/// every request URL, and the workflow defined PERF_BEARER_TOKEN twice in one env map (from
/// `secrets.`, then from `vars.`). A path parameter named as a credential's is refused (exit 2,
/// one line naming the path and the parameter, nothing written); one whose variable would be
/// one of the scaffold's own (PERF_BASE_URL, PERF_VUS, PERF_DURATION) is renamed, so no env
/// key is defined twice and the workflow passes actionlint.
#[test]
fn init_never_fills_a_path_from_a_credential_and_renames_one_of_its_own_variables() {
    for param in ["bearer_token", "bearer-token", "api_key", "password"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("api.yaml"),
            format!("openapi: 3.0.3\npaths:\n  /api/sessions/{{{param}}}:\n    get:\n      responses: {{'200': {{description: ok}}}}\n"),
        )
        .unwrap();
        gatecheck().current_dir(dir.path()).args(["init", "--openapi", "api.yaml"]).assert().code(0);
        let scenario = std::fs::read_to_string(dir.path().join("gates/core-flows.toml")).unwrap();
        assert!(
            !scenario.contains("= \"${PERF_BEARER_TOKEN}\" }"),
            "{param}: the path filled from the token: {scenario}"
        );
        let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/release-gates.yml")).unwrap();
        let keys = env_keys(&workflow);
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(keys.len(), unique.len(), "{param}: a key defined twice: {keys:?}\n{workflow}");
    }

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("api.yaml"),
        "openapi: 3.0.3\npaths:\n  /api/sites/{base_url}/items/{duration}:\n    get:\n      responses: {'200': {description: ok}}\n  /api/pools/{vus}:\n    get:\n      responses: {'200': {description: ok}}\n",
    )
    .unwrap();
    gatecheck().current_dir(dir.path()).args(["init", "--openapi", "api.yaml"]).assert().code(0);
    let workflow = std::fs::read_to_string(dir.path().join(".github/workflows/release-gates.yml")).unwrap();
    let keys = env_keys(&workflow);
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), unique.len(), "a key defined twice: {keys:?}\n{workflow}");
    assert!(workflow.contains("PERF_BASE_URL: ${{ inputs.base_url || vars.PERF_BASE_URL }}"), "{workflow}");
    let scenario = std::fs::read_to_string(dir.path().join("gates/core-flows.toml")).unwrap();
    for own in ["${PERF_BASE_URL}\" }", "= \"${PERF_DURATION}\" }", "= \"${PERF_VUS}\" }", "\"${PERF_DURATION}\", "] {
        assert!(!scenario.contains(own), "a path parameter filled from gatecheck's own variable: {scenario}");
    }
    gatecheck().current_dir(dir.path()).args(["lint", "gates/core-flows.toml"]).assert().code(0);
    if which("actionlint").is_none() {
        assert!(std::env::var_os("CI").is_none(), "actionlint is missing in CI (make install-tools)");
        crate::support::record_skip("actionlint not on PATH (make install-tools)");
        return;
    }
    let status = std::process::Command::new("actionlint")
        .current_dir(dir.path())
        .arg(".github/workflows/release-gates.yml")
        .status()
        .unwrap();
    assert!(status.success(), "{workflow}");
}

/// Finding round24-text/05: `init --no-auth` writes a scenario saying the API takes no token
/// (`bearer_token_env = ""`). The native runner then neither needs PERF_BEARER_TOKEN nor sends
/// an Authorization header, and the script `export k6` writes does the same, with
/// PERF_BEARER_TOKEN set (a CI job's token for another API) as without it.
#[test]
fn a_no_auth_scenario_sends_no_authorization_header_from_either_runner() {
    let dir = tempfile::tempdir().unwrap();
    gatecheck().current_dir(dir.path()).args(["init", "--no-auth", "--endpoint", "GET /api/items"]).assert().code(0);
    let scenario = std::fs::read_to_string(dir.path().join("gates/core-flows.toml")).unwrap();
    assert!(scenario.contains("bearer_token_env = \"\""), "{scenario}");
    const OTHER: &str = "tok-OtherApi-7Hq2Zx9Lm4";
    let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]".to_string();
    for token in [Some(OTHER), None] {
        let (target, received) = crate::support::serve_recording(answer.clone());
        let mut smoke = gatecheck();
        smoke.current_dir(dir.path()).env_remove("PERF_BEARER_TOKEN").args([
            "smoke",
            "--quiet",
            "--duration",
            "1s",
            "--vus",
            "1",
            "--base-url",
            &target,
            "--summary-out",
            "s.json",
        ]);
        if let Some(token) = token {
            smoke.env("PERF_BEARER_TOKEN", token);
        }
        let out = smoke.output().unwrap();
        assert!(out.status.code() != Some(2), "{token:?}: {}", String::from_utf8_lossy(&out.stderr));
        let sent = String::from_utf8_lossy(&received.lock().unwrap()).to_ascii_lowercase();
        assert!(sent.contains("get /api/items"), "{token:?}: the native runner asked the API: {sent}");
        assert!(!sent.contains("authorization"), "{token:?}: no Authorization header: {sent}");
    }
    gatecheck().current_dir(dir.path()).args(["export", "k6", "--out", "s.js"]).assert().code(0);
    if !crate::support::k6_available() {
        return;
    }
    let (target, received) = crate::support::serve_recording(answer);
    let out = std::process::Command::new("k6")
        .current_dir(dir.path())
        .args(["run", "-q", "--no-usage-report", "s.js"])
        .env("PERF_BASE_URL", &target)
        .env("PERF_DURATION", "1s")
        .env("PERF_VUS", "1")
        .env("PERF_BEARER_TOKEN", OTHER)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = String::from_utf8_lossy(&received.lock().unwrap()).to_ascii_lowercase();
    assert!(sent.contains("get /api/items"), "k6 asked the API: {sent}");
    assert!(!sent.contains("authorization"), "no Authorization header from k6: {sent}");
}

/// Finding round29-text/05: the scenario language reads every `${NAME}` as an environment
/// variable and has no escape, so an OpenAPI document's text holding one (a request-body
/// example, a path) would be a live reference in the written scenario: the next run would send
/// the CI job's GITHUB_TOKEN to the load target. init refuses such a document (exit 2, one line
/// naming the document's field) and writes nothing.
#[test]
fn init_never_copies_a_documents_variable_reference_into_the_scenario() {
    let ok = "responses: {'200': {description: ok}}";
    for (doc, field) in [
        (
            format!("openapi: 3.0.0\npaths:\n  /items:\n    get:\n      requestBody:\n        content:\n          application/json:\n            example: {{note: \"${{GITHUB_TOKEN}}\"}}\n      {ok}\n"),
            "example/note",
        ),
        (
            format!("openapi: 3.0.0\npaths:\n  /items:\n    get:\n      requestBody:\n        content:\n          application/json:\n            example: {{a: {{b: [\"x ${{GITHUB_TOKEN\"]}}}}\n      {ok}\n"),
            "example/a/b/0",
        ),
        (format!("openapi: 3.0.0\npaths:\n  /search?q=${{GITHUB_TOKEN}}:\n    get:\n      {ok}\n"), "paths"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("api.yaml"), &doc).unwrap();
        let out = gatecheck().current_dir(dir.path()).args(["init", "--openapi", "api.yaml"]).assert().code(2);
        let err = stderr_of(&out);
        assert!(err.contains(field) && err.contains("${") && err.lines().count() == 1, "{doc}\n{err}");
        assert!(!dir.path().join("gates").exists(), "{doc}: nothing is written");
    }
}

/// Finding round32-text/03: an OpenAPI document's request-body example (keys and values at any
/// depth) or an `--endpoint` body holding characters that are not shown as themselves — bidi
/// overrides and isolates, line separators, zero-width characters, the BOM, the soft hyphen,
/// tag characters, Hangul fillers, C0/C1 controls — is written escaped: no file init writes
/// holds one raw, the scenario reads back as the document's text, and `lint` finds nothing; a
/// file holding one raw is a lint warning. (A path holding one is written escaped too, see
/// `no_document_text_is_written_hidden`; the loader refuses it as no URI path.)
#[test]
fn init_writes_no_hidden_character_of_the_document_raw() {
    const HIDDEN: [char; 24] = [
        '\u{202e}',
        '\u{202d}',
        '\u{2066}',
        '\u{2069}',
        '\u{200f}',
        '\u{2028}',
        '\u{2029}',
        '\u{200b}',
        '\u{2060}',
        '\u{feff}',
        '\u{ad}',
        '\u{61c}',
        '\u{3164}',
        '\u{115f}',
        '\u{ffa0}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{fff9}',
        '\u{180e}',
        '\u{1}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
    ];
    let all: String = HIDDEN.iter().collect();
    let mut example = serde_json::json!({
        format!("note{all}"): format!("safe\u{202e};txet-live\u{2069}\u{2028}path = \"/admin\"{all}"),
        "k\u{61c}": "\u{3164}",
        "deep": {"list": [format!("a{all}b"), 1, true, {format!("\u{200b}{all}"): [all.clone()]}]},
    });
    for (at, c) in HIDDEN.iter().enumerate() {
        example["each"][format!("k{at}{c}")] = serde_json::json!(format!("v{c}v"));
    }
    let doc = serde_json::json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/api/items": {"get": {"tags": ["items"], "responses": {"200": {}}}},
        "/api/search": {"post": {"tags": ["search"], "responses": {"200": {}},
            "requestBody": {"content": {"application/json": {"example": example.clone()}}}}}}});
    let endpoint_body = serde_json::json!({format!("e{all}"): format!("x{all}y")});
    let dir = tempfile::tempdir().unwrap();
    // Every hidden character of the BMP as a `\u` escape: YAML, which init reads the document
    // as, refuses DEL and C1 raw and reads U+2028 as a line break.
    let doc: String = doc
        .to_string()
        .chars()
        .map(|c| {
            if gatecheck::escape::hidden(c) && u32::from(c) <= 0xffff {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect();
    std::fs::write(dir.path().join("api.json"), doc).unwrap();
    let from_endpoint = tempfile::tempdir().unwrap();
    gatecheck()
        .current_dir(dir.path())
        .args(["init", "--openapi", "api.json", "--endpoint", "POST /api/search"])
        .assert()
        .code(0);
    gatecheck()
        .current_dir(from_endpoint.path())
        .args(["init", "--endpoint", &format!("PUT /api/other {endpoint_body}")])
        .assert()
        .code(0);
    // Each written file: no hidden character raw, nothing for lint; the scenario's requests.
    let written = |dir: &Path| -> Vec<toml::Value> {
        for file in walk(dir).into_iter().filter(|f| !f.ends_with("api.json")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let raw: Vec<String> = line
                    .chars()
                    .filter(|c| gatecheck::escape::hidden(*c) && *c != '\t')
                    .map(|c| format!("U+{:04X}", u32::from(c)))
                    .collect();
                assert!(raw.is_empty(), "{}:{}: {raw:?} written raw", file.display(), number + 1);
            }
        }
        let out = gatecheck().current_dir(dir).args(["lint", "gates/core-flows.toml"]).assert();
        let out = stdout_of(&out);
        assert!(out.contains("0 error(s), 0 warning(s)"), "{out}");
        let scenario: toml::Value =
            toml::from_str(&std::fs::read_to_string(dir.join("gates/core-flows.toml")).unwrap()).unwrap();
        scenario["flow"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|flow| flow["request"].as_array().unwrap().iter().cloned())
            .collect()
    };
    let by_path = |requests: &[toml::Value], path: &str| {
        requests.iter().find(|r| r["path"].as_str() == Some(path)).cloned().unwrap_or_else(|| panic!("{path}"))
    };
    let requests = written(dir.path());
    let expected: toml::Value = serde_json::from_value(example).unwrap();
    assert_eq!(by_path(&requests, "/api/search")["json"], expected, "the body reads back as the document's example");
    let requests = written(from_endpoint.path());
    let expected: toml::Value = serde_json::from_value(endpoint_body).unwrap();
    assert_eq!(by_path(&requests, "/api/other")["json"], expected, "the --endpoint body reads back as given");

    // A file holding such a character raw is a warning naming its line.
    let mut policy = std::fs::read_to_string(dir.path().join("gates/release.toml")).unwrap();
    policy.push_str("# reviewed\u{202e}ok\n");
    let lines = policy.lines().count();
    std::fs::write(dir.path().join("gates/release.toml"), policy).unwrap();
    let out = gatecheck().current_dir(dir.path()).args(["lint", "gates/release.toml"]).assert();
    let out = stdout_of(&out);
    assert!(out.contains(&format!("gates/release.toml:{lines}: warning: U+202E")) && out.contains("\\u202E"), "{out}");
}
