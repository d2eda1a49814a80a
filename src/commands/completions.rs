//! `gatecheck completions SHELL` and `gatecheck man`: shell completions and the man page,
//! generated from the command-line definition itself so they never drift from it.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::Error;

use super::{write_out, Outcome};

pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut command, "gatecheck", &mut buffer);
    write_out(out.write_all(&buffer))?;
    Ok(Outcome::Pass)
}

pub fn man(out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut buffer = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buffer)
        .map_err(|source| Error::Write { path: "the man page".into(), source })?;
    write_out(out.write_all(&buffer))?;
    Ok(Outcome::Pass)
}
