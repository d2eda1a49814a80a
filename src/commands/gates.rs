//! `gatecheck gates`: a policy in plain language, every source of every gate in precedence
//! order.

use std::io::Write;

use crate::cli::GatesArgs;
use crate::error::Error;
use crate::report;
use crate::settings::{self, Settings};

use super::evidence::load_policy;
use super::{write_out, Context, Outcome};

pub fn gates(args: GatesArgs, context: &Context<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let flags = Settings { policy: args.policy, var: args.var, color: context.color, ..Settings::default() };
    let plan = settings::resolve(context.config, flags, context.env)?;
    let policy = load_policy(&plan)?;
    write_out(report::policy_text::render(&policy, out))?;
    Ok(Outcome::Pass)
}
