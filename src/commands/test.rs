//! `gatecheck test TESTFILE...`: policy unit tests in the spirit of `promtool test rules`. A
//! test file names a policy and lists cases; each case gives evidence inline (a k6
//! summary-export-shaped table of figures, env values) and the verdict expected per gate and
//! overall. Each case is judged by the real `verify` pipeline in this process (the summary is
//! written to a temporary file and read back by the same parser a release uses), so a test
//! pins what a release would decide, not what a second evaluator thinks. No network is used.
//!
//! Prometheus series (`input_series`) are not supported yet: a case that needs query figures
//! is refused rather than judged without them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

use crate::cli::{Cli, Command, TestArgs};
use crate::error::Error;

use super::{write_out, Context, Outcome};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// A gatecheck policy test file: cases of evidence and the verdict each must give.
pub struct TestFile {
    /// The policy under test, relative to this file.
    pub policy: PathBuf,
    /// `--var NAME=VALUE` for the policy, for every case.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(rename = "case")]
    pub cases: Vec<CaseFile>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub name: String,
    /// k6 figures as `--summary-export` writes them: metric selector -> statistic -> value,
    /// e.g. `"http_req_duration{flow:auth_list}" = { "p(95)" = 399.9 }`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, BTreeMap<String, f64>>")]
    pub k6: BTreeMap<String, toml::Table>,
    /// Environment variables the judgement sees (nothing else of the environment is seen).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Flows switched off, as `--skip-flow`.
    #[serde(default)]
    pub skip_flows: Vec<String>,
    pub expect: ExpectFile,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    /// "ship" (exit 0) or "blocked" (exit 1).
    pub outcome: String,
    /// Gate id -> its verdict (the worst of its rows: FAIL, NO DATA, WARN, WAIVED, PASS,
    /// SKIPPED), or "gate-id threshold" (e.g. "read-latency p(95) < 400ms") -> that row's.
    #[serde(default)]
    pub gates: BTreeMap<String, String>,
}

/// The JSON Schema of a policy test file, from the structs that parse it.
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(TestFile)
}

pub async fn test(args: TestArgs, context: &Context<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut failures = 0;
    let mut passed = 0;
    for path in &args.files {
        let shown = path.display().to_string();
        let text = crate::input::read_to_string(path, "policy test")?;
        let fail = |message: String| Error::Evidence { path: shown.clone(), message };
        let file: TestFile = toml::from_str(&text).map_err(|e| fail(crate::input::one_line_toml_error(&text, &e)))?;
        if file.cases.is_empty() {
            return Err(fail("has no [[case]]: a test file must test something".into()));
        }
        let policy = path.parent().unwrap_or(Path::new(".")).join(&file.policy);
        for case in &file.cases {
            let problems = run_case(&policy, &file.vars, case, context)
                .await
                .map_err(|e| fail(format!("case {:?}: {e}", case.name)))?;
            if problems.is_empty() {
                passed += 1;
            } else {
                failures += 1;
                // Gate keys, checks and figures come from the test file and the verdict: each
                // problem stays on its own line (escape::line), so none can start a line.
                let mut text = format!("FAIL {}: case {:?}\n", crate::escape::line(&shown), case.name);
                for problem in problems {
                    text.push_str(&format!("  {}\n", crate::escape::line(&problem)));
                }
                write_out(out.write_all(text.as_bytes()))?;
            }
        }
    }
    write_out(writeln!(out, "gatecheck test: {passed} passed, {failures} failed"))?;
    Ok(Outcome::of(failures > 0))
}

/// Judges one case; returns what differs from its expectations (empty: the case passes).
async fn run_case(
    policy: &Path,
    vars: &BTreeMap<String, String>,
    case: &CaseFile,
    context: &Context<'_>,
) -> Result<Vec<String>, Error> {
    let dir = tempfile::tempdir().map_err(|source| Error::Write { path: "a temporary directory".into(), source })?;
    let summary = dir.path().join("k6-summary.json");
    let metrics: serde_json::Map<String, serde_json::Value> = case
        .k6
        .iter()
        .map(|(name, table)| Ok((name.clone(), serde_json::to_value(table).map_err(|e| e.to_string())?)))
        .collect::<Result<_, String>>()
        .map_err(|why| Error::Settings(format!("k6: {why}")))?;
    let body = serde_json::json!({ "root_group": {}, "metrics": metrics });
    std::fs::write(&summary, body.to_string())
        .map_err(|source| Error::Write { path: summary.display().to_string(), source })?;
    let report = dir.path().join("verdict.json");
    let mut argv: Vec<String> = vec![
        "gatecheck".into(),
        "verify".into(),
        "--summary".into(),
        summary.display().to_string(),
        "--policy".into(),
        policy.display().to_string(),
        "--report".into(),
        format!("json={}", report.display()),
    ];
    for (name, value) in vars {
        argv.extend(["--var".into(), format!("{name}={value}")]);
    }
    for flow in &case.skip_flows {
        argv.extend(["--skip-flow".into(), flow.clone()]);
    }
    let Command::Verify(verify_args) = Cli::try_parse_from(&argv)
        .map_err(|e| Error::Settings(crate::cli::one_line_error(&e.render().to_string())))?
        .command
    else {
        return Err(Error::Settings("verify arguments did not parse as verify".into()));
    };
    // Only the case's env is seen: a developer's shell must not change a unit test's verdict.
    let env_values = case.env.clone();
    let env = move |name: &str| env_values.get(name).cloned();
    let inner = Context { config: context.config, color: Some(crate::settings::ColorChoice::Never), env: &env };
    let mut sink = Vec::new();
    let outcome = super::verify::verify(verify_args, &inner, &mut sink).await?;
    let text = std::fs::read_to_string(&report).map_err(|source| Error::Read {
        path: report.display().to_string(),
        what: "verdict report",
        source,
    })?;
    let verdict: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Settings(format!("verdict report: {e}")))?;
    Ok(compare(&verdict, outcome, &case.expect))
}

/// Worst first: a gate's verdict is the worst of its rows.
const ORDER: [&str; 6] = ["FAIL", "NO DATA", "WARN", "WAIVED", "PASS", "SKIPPED"];

fn compare(verdict: &serde_json::Value, outcome: Outcome, expect: &ExpectFile) -> Vec<String> {
    let mut problems = Vec::new();
    let got = if outcome == Outcome::Pass { "ship" } else { "blocked" };
    if expect.outcome != got {
        problems.push(format!("overall: expected {}, got {got} ({})", expect.outcome, verdict["summary"]));
    }
    let rows: Vec<(String, String, String, String)> = verdict["gates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let text = |key: &str| row[key].as_str().unwrap_or_default().to_string();
            let observed =
                row["observed"]["display"].as_str().map_or_else(|| row["observed"].to_string(), str::to_string);
            (text("id"), text("threshold"), text("verdict"), observed)
        })
        .collect();
    for (key, expected) in &expect.gates {
        let matching: Vec<&(String, String, String, String)> =
            rows.iter().filter(|(id, check, _, _)| *id == *key || format!("{id} {check}") == *key).collect();
        if matching.is_empty() {
            problems.push(format!("{key}: expected {expected}, got no such gate or row"));
            continue;
        }
        let worst = matching
            .iter()
            .min_by_key(|(_, _, status, _)| ORDER.iter().position(|o| status.starts_with(o)).unwrap_or(0))
            .map(|(_, _, status, _)| status.clone())
            .unwrap_or_default();
        if !worst.starts_with(expected.as_str()) {
            let seen: Vec<String> = matching
                .iter()
                .map(|(_, check, status, observed)| format!("`{check}` {status} (observed {observed})"))
                .collect();
            problems.push(format!("{key}: expected {expected}, got {worst}: {}", seen.join("; ")));
        }
    }
    problems
}
