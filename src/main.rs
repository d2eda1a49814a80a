//! The `gatecheck` binary: parse, run, map the outcome or error to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let env = |name: &str| gatecheck::env::var(name);
    // Every credential of the environment and of the command line is a secret before clap
    // parses: its error may quote any argument (finding round18-text/01). A variable that
    // cannot be read is reported by the command, once the arguments are known.
    let _ = gatecheck::settings::remember_credentials(&env);
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let texts: Vec<String> = args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    gatecheck::settings::remember_argument_credentials(&texts);
    let cli = match gatecheck::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // Help and version go to stdout, exit 0, each line as every other line gatecheck
        // prints: scrubbed, control characters visible (finding round20-text/02: help shows
        // `[env: GATECHECK_CONFIG=<value>]`, and a value's `\r` started a line of its own).
        Err(error) if !error.use_stderr() => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            for line in error.render().to_string().lines() {
                let _ = writeln!(stdout, "{}", gatecheck::escape::line(line));
            }
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // The error path of every other error: one line, escaped and scrubbed.
            let rendered = gatecheck::cli::without_argument_values(&error.render().to_string(), &texts);
            let error = gatecheck::error::Error::Settings(gatecheck::cli::one_line_error(&rendered));
            eprintln!("{}", gatecheck::commands::error_line(&error));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gatecheck: error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    // A GATECHECK_* variable that is not a setting is a warning, never a reason to stop.
    let names = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    for warning in gatecheck::settings::unknown_env_warnings(names) {
        // A variable's name is outside text too (it may hold a line break).
        eprintln!("{}", gatecheck::escape::line(&warning));
    }
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(gatecheck::run(cli, &env, &mut stdout)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code() as u8),
        Err(error) => {
            eprintln!("{}", gatecheck::commands::error_line(&error));
            ExitCode::from(2)
        }
    }
}
