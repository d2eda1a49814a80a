//! Shared helpers: the binary with a clean environment, fixture paths, in-process evaluation.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use gatecheck::policy::evaluate::{evaluate, Evidence};
use gatecheck::policy::verdict::{Row, Status, Verdict};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(relative: &str) -> PathBuf {
    repo().join("fixtures").join(relative)
}

/// Lag figures that pass every lag gate of the release policy.
pub const PASSING_LAG: [(&str, &str); 4] = [
    ("SCHEDULER_LAG_P95_SECONDS", "12"),
    ("SCHEDULER_LAG_MAX_SECONDS", "45"),
    ("QUEUE_LAG_P95_SECONDS", "3"),
    ("QUEUE_LAG_P99_SECONDS", "8"),
];

/// The binary, run from the repository root with nothing inherited from the caller's environment.
pub fn gatecheck() -> Command {
    let mut cmd = Command::cargo_bin("gatecheck").expect("binary is built");
    cmd.env_clear().current_dir(repo());
    cmd
}

pub fn gatecheck_with_lag() -> Command {
    let mut cmd = gatecheck();
    cmd.envs(PASSING_LAG);
    cmd
}

/// Evaluates a summary against the shipped release policy in-process, with `env` as the environment.
pub fn verdict_for(summary: &Path, env: &[(&str, &str)]) -> Verdict {
    let policy = gatecheck::policy::load_file(&repo().join("gates/release.toml")).expect("release policy loads");
    let lookup = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let evidence = Evidence {
        summary: Some(gatecheck::sources::k6_summary::read(summary).expect("fixture parses")),
        env: gatecheck::sources::env::read_figures(&policy, &lookup).expect("env figures"),
        flows: gatecheck::sources::env::read_flows(&policy, &[], &lookup).expect("flows"),
        ..Evidence::default()
    };
    evaluate(&policy, &evidence).expect("evaluates")
}

pub fn row<'a>(verdict: &'a Verdict, gate: &str, check: &str) -> &'a Row {
    verdict
        .rows
        .iter()
        .find(|r| r.gate == gate && r.check == check)
        .unwrap_or_else(|| panic!("no row {gate} `{check}` in {:#?}", verdict.rows))
}

pub fn statuses(verdict: &Verdict, status: Status) -> Vec<String> {
    verdict.rows.iter().filter(|r| r.status == status).map(|r| format!("{} `{}`", r.gate, r.check)).collect()
}
