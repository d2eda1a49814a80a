//! `gatecheck export k6`: the scenario and the policy's k6-metric thresholds as a k6 script.

use std::io::Write;

use crate::cli::ExportK6Args;
use crate::error::Error;
use crate::load;
use crate::report;
use crate::settings::{self, Settings};

use super::evidence::load_policy;
use super::{write_out, Context, Outcome};

pub fn export_k6(args: ExportK6Args, context: &Context<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let scenario = args.scenario.clone();
    let plan = settings::resolve(context.config, Settings { policy: args.policy, ..Settings::default() }, context.env)?;
    let policy = load_policy(&plan)?;
    let script = load::k6_script::render(scenario.as_deref(), &policy, context.env)?;
    match args.out {
        Some(path) => report::write_atomically(&path, script.as_bytes())?,
        None => write_out(out.write_all(script.as_bytes()))?,
    }
    Ok(Outcome::Pass)
}
