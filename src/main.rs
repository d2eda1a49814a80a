//! The `gatecheck` binary: parse, run, map the outcome or error to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match gatecheck::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout, exit 0.
        Err(error) if !error.use_stderr() => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!(
                "gatecheck: error: {}",
                gatecheck::escape::line(&gatecheck::cli::one_line_error(&error.render().to_string()))
            );
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
    let env = |name: &str| gatecheck::env::var(name);
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(gatecheck::run(cli, &env, &mut stdout)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code() as u8),
        Err(error) => {
            eprintln!("{}", gatecheck::commands::error_line(&error));
            ExitCode::from(2)
        }
    }
}
