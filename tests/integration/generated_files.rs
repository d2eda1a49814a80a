//! Generated files — exported Prometheus rules, the exported k6 script, `init`'s scenario,
//! policies and workflow — are written exactly as generated, or refused (finding
//! round39-text/03): a credential masked to `***` in them is a rule, a script or a scenario that
//! loads or runs otherwise than it says. Refused, the command exits 2 with one line naming the
//! file and the place, never the value, and writes nothing.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::support::{gatecheck, repo, stderr_of};

/// The repro of the finding: a tenant header sent to Prometheus (`X-Scope-OrgID`) is a
/// credential, and the rule's `namespace="checkout-prod"` was exported as `namespace="***"`
/// (exit 0), an alert that could never fire. Now: exit 2, the file, gate, line and field named,
/// nothing written; and with no such header the rule is written as the policy says.
#[test]
fn a_rule_quoting_a_tenant_header_is_refused_not_masked() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"t\"\n[[gate]]\nid = \"lag\"\ndescription = \"lag\"\nunit = \"number\"\nquery = 'lag{namespace=\"checkout-prod\"}'\nthresholds = [\"value < 5\"]\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    let export = |header: bool| {
        let mut command = gatecheck();
        if header {
            command.env("GATECHECK_PROMETHEUS_HEADER", r#"["X-Scope-OrgID: checkout-prod"]"#);
        }
        command.args(["export", "prometheus-rules", "--policy"]).arg(&policy).arg("--out").arg(&rules).assert()
    };
    let err = stderr_of(&export(true).code(2));
    assert!(err.contains("rules.yml: line ") && err.contains("gate lag") && err.contains("field `expr`"), "{err}");
    assert!(!err.contains("checkout-prod") && err.lines().count() == 1, "{err}");
    assert!(!rules.exists(), "nothing written");
    export(false).code(0);
    let written = std::fs::read_to_string(&rules).unwrap();
    assert!(written.contains(r#"lag{namespace="checkout-prod"}"#) && !written.contains("***"), "{written}");
}

/// A kind of generated file, and how a test makes one.
#[derive(Debug, Clone, Copy)]
enum Kind {
    RulesFile,
    RulesStdout,
    K6File,
    K6Stdout,
    Init,
}

/// Where the credential stands in what the file is generated from.
#[derive(Debug, Clone, Copy)]
enum Placement {
    LabelValue,
    Query,
    Url,
    Header,
    Description,
}

/// How gatecheck learns the value is a credential.
#[derive(Debug, Clone, Copy)]
enum Source {
    PrometheusHeader,
    PrometheusToken,
    BearerToken,
}

/// Runs `kind` in `dir` with the value placed; `known` makes it a credential of the process.
/// Returns (exit code, stdout, stderr, the file's bytes if written).
fn generate(
    dir: &Path,
    kind: Kind,
    placement: Placement,
    value: &str,
    known: Option<Source>,
) -> (i32, String, String, Vec<(PathBuf, Vec<u8>)>) {
    let out_dir = dir.join("out");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut command = gatecheck();
    match known {
        Some(Source::PrometheusHeader) => {
            command.env("GATECHECK_PROMETHEUS_HEADER", format!("[\"X-Scope-OrgID: {value}\"]"));
        }
        Some(Source::PrometheusToken) => {
            command.env("GATECHECK_PROMETHEUS_TOKEN", value);
        }
        Some(Source::BearerToken) => {
            command.env("PERF_BEARER_TOKEN", value);
        }
        None => {}
    }
    match kind {
        Kind::RulesFile | Kind::RulesStdout => {
            let (query, description) = match placement {
                Placement::LabelValue => (format!("lag{{namespace=\"{value}\"}}"), "lag".to_string()),
                Placement::Query => (format!("lag_{value}"), "lag".to_string()),
                Placement::Url => ("lag".to_string(), format!("runbook https://runbooks.example/{value}/lag")),
                Placement::Header => ("lag".to_string(), format!("scraped with X-Scope-OrgID: {value}")),
                Placement::Description => ("lag".to_string(), format!("lag of {value}")),
            };
            let policy = dir.join("p.toml");
            std::fs::write(
                &policy,
                format!("[policy]\nname = \"t\"\n[[gate]]\nid = \"lag\"\ndescription = \"{description}\"\nunit = \"number\"\nquery = '{query}'\nthresholds = [\"value < 5\"]\n"),
            )
            .unwrap();
            command.args(["export", "prometheus-rules", "--policy"]).arg(&policy);
            if matches!(kind, Kind::RulesFile) {
                command.arg("--out").arg(out_dir.join("rules.yml"));
            }
        }
        Kind::K6File | Kind::K6Stdout => {
            let text = std::fs::read_to_string(repo().join("gates/core-flows.toml")).unwrap();
            let (from, to) = match placement {
                Placement::LabelValue => ("check = \"watch-rules status is 200\"", format!("check = \"{value}\"")),
                Placement::Query => {
                    ("PERF_SEARCH_KEYWORDS = \"house,techno\"", format!("PERF_SEARCH_KEYWORDS = \"{value}\""))
                }
                Placement::Url => (
                    "PERF_LIST_PATH = \"/api/watch-rules?limit=20\"",
                    format!("PERF_LIST_PATH = \"/api/{value}?limit=20\""),
                ),
                Placement::Header => ("name = \"watch-rules\"", format!("name = \"X-Scope-OrgID {value}\"")),
                Placement::Description => (
                    "description = \"authenticated list endpoints (read)\"",
                    format!("description = \"list endpoints of {value}\""),
                ),
            };
            let scenario = dir.join("cf.toml");
            let changed = text.replacen(from, &to, 1);
            assert_ne!(changed, text, "{from}");
            std::fs::write(&scenario, changed).unwrap();
            command.args(["export", "k6", "--policy", "gates/release.toml", "--scenario"]).arg(&scenario);
            if matches!(kind, Kind::K6File) {
                command.arg("--out").arg(out_dir.join("script.js"));
            }
        }
        Kind::Init => {
            command.current_dir(&out_dir).arg("init");
            match placement {
                Placement::LabelValue => command.args(["--endpoint", &format!("GET /api/{value}/items")]),
                Placement::Query => {
                    command.args(["--endpoint", "GET /api/items", "--latency-histogram", &format!("{value}_seconds")])
                }
                Placement::Url => {
                    command.args(["--endpoint", "GET /api/items", "--base-url", &format!("http://api.example/{value}")])
                }
                Placement::Header => {
                    command.args(["--endpoint", &format!("POST /api/items {{\"tenant\":\"{value}\"}}")])
                }
                Placement::Description => command.args(["--endpoint", &format!("GET /api/items?about={value}")]),
            };
        }
    }
    let output = command.output().unwrap();
    let mut files = Vec::new();
    for entry in walk(&out_dir) {
        let bytes = std::fs::read(&entry).unwrap();
        files.push((entry.strip_prefix(&out_dir).unwrap().to_path_buf(), bytes));
    }
    files.sort();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        files,
    )
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::RulesFile),
        Just(Kind::RulesStdout),
        Just(Kind::K6File),
        Just(Kind::K6Stdout),
        Just(Kind::Init)
    ]
}

fn placement() -> impl Strategy<Value = Placement> {
    prop_oneof![
        Just(Placement::LabelValue),
        Just(Placement::Query),
        Just(Placement::Url),
        Just(Placement::Header),
        Just(Placement::Description)
    ]
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![Just(Source::PrometheusHeader), Just(Source::PrometheusToken), Just(Source::BearerToken)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The rule over every generated file kind and every place a credential may stand in what
    /// it is generated from: either exit 2 with the credential in no output and no file written,
    /// or the file (or standard output) byte-identical to what is generated when the value is
    /// no credential, and holding no credential.
    #[test]
    fn a_generated_file_is_written_as_generated_or_refused(
        kind in kind(),
        placement in placement(),
        source in source(),
        value in "[a-z]{3,6}_[a-z0-9]{10,14}",
    ) {
        // `init` reads no Prometheus settings: its credentials are the tokens of the environment.
        let source = match (kind, source) {
            (Kind::Init, Source::PrometheusHeader) => Source::BearerToken,
            (_, source) => source,
        };
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr, files) = generate(dir.path(), kind, placement, &value, Some(source));
        let shown = |text: &str| text.contains(&value);
        prop_assert!(!shown(&stderr), "{kind:?}/{placement:?}/{source:?}: stderr {stderr}");
        match code {
            2 => {
                prop_assert!(!shown(&stdout), "{kind:?}/{placement:?}: stdout {stdout}");
                prop_assert!(files.is_empty(), "{kind:?}/{placement:?}: refused, yet wrote {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
                prop_assert_eq!(stderr.lines().count(), 1, "{}", stderr);
            }
            0 => {
                let (plain_code, plain_stdout, _, plain_files) = generate(dir.path(), kind, placement, &value, None);
                prop_assert_eq!(plain_code, 0);
                prop_assert!(!stdout.contains("***"), "{kind:?}/{placement:?}: masked stdout {stdout}");
                for (path, bytes) in &files {
                    prop_assert!(!shown(&String::from_utf8_lossy(bytes)), "{kind:?}/{placement:?}: {} holds it", path.display());
                }
                prop_assert!(files == plain_files, "{kind:?}/{placement:?}/{source:?}: the files differ from what is generated");
                if !matches!(kind, Kind::Init) {
                    prop_assert!(!shown(&stdout), "{kind:?}/{placement:?}: stdout {stdout}");
                    prop_assert_eq!(stdout, plain_stdout);
                }
            }
            other => prop_assert!(false, "{kind:?}/{placement:?}/{source:?}: exit {other}: {stderr}"),
        }
    }
}
