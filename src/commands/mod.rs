//! The commands, one file each: each is a short function that reads its settings, gathers
//! evidence through `sources` (or runs the load), calls the pure evaluator and hands the
//! verdict to `report`. The top of the layering: nothing below imports from here.

mod bench_target;
mod check;
mod ci;
mod compare;
mod completions;
mod demo;
pub mod evidence;
mod export;
mod gates;
mod init;
pub mod lint;
pub mod merge;
mod probe;
mod run;
pub mod schema;
pub mod smoke;
pub mod test;
mod verify;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::settings::{ColorChoice, Plan};

/// How a judgement ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every blocking gate holds (or the command judges nothing).
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

    pub fn of(blocked: bool) -> Outcome {
        if blocked {
            Outcome::Blocked
        } else {
            Outcome::Pass
        }
    }
}

/// What every command gets besides its own arguments.
pub struct Context<'a> {
    /// `--config FILE` (or GATECHECK_CONFIG).
    pub config: Option<&'a Path>,
    pub color: Option<ColorChoice>,
    /// The process environment as a lookup, so tests control it.
    pub env: &'a crate::env::Lookup<'a>,
    /// Settings from the command line alone (`settings::resolve_sealed`): how `gatecheck test`
    /// judges a case.
    pub sealed: bool,
}

/// Runs one command. `env` looks up environment variables; `out` receives the report.
pub async fn run(cli: Cli, env: &crate::env::Lookup<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    crate::settings::remember_credentials(env)?;
    let mut scrubbed = crate::escape::ScrubbedLines::new(out);
    let outcome = run_command(cli, env, &mut scrubbed).await;
    let flushed = scrubbed.flush().map_err(|source| Error::Write { path: "standard output".into(), source });
    let outcome = outcome?;
    flushed?;
    Ok(outcome)
}

/// `out` is standard output's line writer, typed: the commands that print a verdict table take
/// it as it is (`report::table::render` writes only to it), the others as any writer.
async fn run_command(
    cli: Cli,
    env: &crate::env::Lookup<'_>,
    out: &mut crate::escape::ScrubbedLines<'_>,
) -> Result<Outcome, Error> {
    let context = Context { config: cli.config.as_deref(), color: cli.color, env, sealed: false };
    match cli.command {
        Command::Verify(args) => verify::verify(args, &context, out).await,
        Command::Check(args) => check::check(args, &context, out).await,
        Command::Probe(args) => probe::probe(args, &context, out).await,
        Command::Smoke(args) => smoke::smoke_command(args, &context, out).await,
        Command::Run(args) => run::run(args, &context, out).await,
        Command::Demo(args) => demo::demo(args, &context, out).await,
        Command::BenchTarget(args) => bench_target::bench_target(args, out).await,
        Command::Merge(args) => merge::merge_command(args, &context, out),
        Command::Compare(args) => compare::compare(args, &context, out),
        Command::Ci(crate::cli::CiCommand::Resolve) => ci::resolve_command(&context, out),
        Command::Export(crate::cli::ExportCommand::K6(args)) => export::export_k6(args, &context, out),
        Command::Export(crate::cli::ExportCommand::PrometheusRules(args)) => {
            export::export_prometheus_rules(args, &context, out)
        }
        Command::Gates(args) => gates::gates(args, &context, out),
        Command::Init(args) => init::init(args, out),
        Command::Test(args) => test::test(args, &context, out).await,
        Command::Lint(args) => lint::lint_command(args, &context, out),
        Command::Schema(args) => schema::schema_command(args, out),
        Command::Completions(args) => completions::completions(args, out),
        Command::Man(args) => completions::man(args, out),
    }
}

/// Colour for a terminal, as the settings and NO_COLOR say.
/// The table's view for this process: colour from the settings, width from the terminal
/// standard output is (none on a pipe or a file: rows then take one line each).
pub fn table_view(
    plan: &Plan,
    env: &crate::env::Lookup<'_>,
    view: crate::report::table::View,
) -> Result<crate::report::table::View, Error> {
    let width = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
    } else {
        None
    };
    Ok(crate::report::table::View { color: color(plan, env)?, width, ..view })
}

pub fn color(plan: &Plan, env: &crate::env::Lookup<'_>) -> Result<bool, Error> {
    Ok(plan.color.enabled(env("NO_COLOR")?.as_deref()))
}

/// The one line an error (exit 2) prints on stderr: scrubbed, control characters visible, and
/// starting with gatecheck's own words, whatever the error quotes.
pub fn error_line(error: &Error) -> String {
    format!("gatecheck: error: {}", crate::escape::line(&error.to_string()))
}

/// A reader that closed the pipe early (`| head`) is not a failure of the judgement.
pub fn write_out(result: std::io::Result<()>) -> Result<(), Error> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Write { path: "standard output".into(), source: e })
        }
        _ => Ok(()),
    }
}
