//! `gatecheck completions SHELL` and `gatecheck man`: shell completions and the man page,
//! generated from the command-line definition itself so they never drift from it.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::Error;

use super::{write_out, Outcome};

pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut command, "gatecheck", &mut buffer);
    write_out(out.write_all(&buffer))?;
    Ok(Outcome::Pass)
}

/// The top page on stdout, or with `--dir` every page: the top page's SEE ALSO names a page per
/// subcommand, so writing only the top page would point at pages that do not exist.
pub fn man(args: ManArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let Some(dir) = args.dir else {
        let mut buffer = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut buffer)
            .map_err(|source| Error::Write { path: "the man page".into(), source })?;
        write_out(out.write_all(&buffer))?;
        return Ok(Outcome::Pass);
    };
    let fail = |source| Error::Write { path: dir.display().to_string(), source };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    clap_mangen::generate_to(Cli::command(), &dir).map_err(fail)?;
    let shown = crate::escape::line(&dir.display().to_string());
    write_out(writeln!(out, "man pages written to {shown} (then: man gatecheck)"))?;
    Ok(Outcome::Pass)
}
