//! gatecheck decides whether a release candidate of an HTTP API may ship.
//!
//! ```text
//! sources (k6 summary, env) ──► MetricSet ──► policy::evaluate ──► Verdict ──► report
//! ```
//! A breached gate is an outcome (exit 1), not an error; anything that prevents judging —
//! unreadable evidence, a broken policy, a bad setting — is an `Error` (exit 2).

pub mod cli;
pub mod error;
pub mod metrics;
pub mod policy;
pub mod report;
pub mod settings;
pub mod sources;

use std::io::Write;

use cli::{Cli, Command};
use error::Error;
use policy::evaluate::Evidence;
use policy::Policy;
use settings::{Plan, PolicySource, Settings};

/// How a judgement ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every blocking gate holds (or the command judged nothing).
    Pass,
    /// A blocking gate was breached or had no data.
    Blocked,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Pass => 0,
            Outcome::Blocked => 1,
        }
    }
}

/// Runs one command. `env` looks up environment variables; `out` receives the report.
pub fn run(
    cli: Cli,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    // A reader that closed the pipe early (`| head`) is not a failure of the judgement.
    let stdout_error = |result: std::io::Result<()>| match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    };
    match cli.command {
        Command::Verify(args) => {
            let flags = Settings {
                policy: args.policy,
                summary: args.summary,
                color: cli.color,
                skip_flow: args.skip_flow,
                no_env: args.no_env.then_some(true),
            };
            let plan = settings::resolve(cli.config.as_deref(), flags, env)?;
            let policy = load_policy(&plan.policy)?;
            let evidence = gather(&policy, &plan, env)?;
            let verdict = policy::evaluate::evaluate(&policy, &evidence)?;
            let color = plan.color.enabled(env("NO_COLOR").as_deref());
            stdout_error(report::table::render(&verdict, color, out))?;
            Ok(if verdict.blocked() {
                Outcome::Blocked
            } else {
                Outcome::Pass
            })
        }
        Command::Gates(args) => {
            let flags = Settings {
                policy: args.policy,
                color: cli.color,
                ..Settings::default()
            };
            let plan = settings::resolve(cli.config.as_deref(), flags, env)?;
            let policy = load_policy(&plan.policy)?;
            stdout_error(report::policy_text::render(&policy, out))?;
            Ok(Outcome::Pass)
        }
    }
}

pub fn load_policy(source: &PolicySource) -> Result<Policy, Error> {
    match source {
        PolicySource::File(path) => policy::load_file(path),
        PolicySource::BuiltinRelease => policy::builtin_release(),
    }
}

/// Reads every source the policy needs, validating as it goes.
pub fn gather(
    policy: &Policy,
    plan: &Plan,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Evidence, Error> {
    let summary = if policy.needs_k6_summary() {
        let read = sources::k6_summary::read(&plan.summary);
        Some(match read {
            Err(Error::Read { path, what, source }) if plan.summary_is_default => {
                return Err(Error::Settings(format!(
                    "{what} {path}: cannot read: {source} (give --summary FILE or set K6_SUMMARY_PATH)"
                )))
            }
            other => other?,
        })
    } else {
        None
    };
    let figures = if plan.ignore_env_figures {
        Default::default()
    } else {
        sources::env::read_figures(policy, env)?
    };
    let flows = sources::env::read_flows(policy, &plan.skip_flow, env)?;
    Ok(Evidence {
        summary,
        env: figures,
        flows,
    })
}
