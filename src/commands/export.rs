//! `gatecheck export k6`: the scenario and the policy's k6-metric thresholds as a k6 script;
//! `gatecheck export prometheus-rules`: the policy's query gates as Prometheus alerting rules.

use std::io::Write;

use crate::cli::{ExportK6Args, ExportRulesArgs};
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
    // Scrubbed as every output is (the scenario's text may quote a credential): a check name
    // quoting the token reads `***` in the script, as on standard output.
    let script = crate::secret::scrub(&load::k6_script::render(scenario.as_deref(), &policy, context.env)?);
    match args.out {
        Some(path) => report::write_atomically(&path, script.as_bytes())?,
        None => write_out(out.write_all(script.as_bytes()))?,
    }
    Ok(Outcome::Pass)
}

/// `gatecheck export prometheus-rules`: the policy's query gates as alerting rules.
pub fn export_prometheus_rules(
    args: ExportRulesArgs,
    context: &Context<'_>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    if let Some(text) = &args.for_ {
        // Prometheus reads `for` as its own duration; refuse what it would refuse, early.
        crate::metrics::clock::parse_duration(text)
            .ok()
            .filter(|_| text.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or_else(|| Error::Settings(format!("--for {text:?}: expected a duration such as 5m or 90s")))?;
    }
    let settings = Settings { policy: args.policy, var: args.var, ..Settings::default() };
    let plan = settings::resolve(context.config, settings, context.env)?;
    let policy = load_policy(&plan)?;
    let rules = report::prometheus_rules::render(&policy, args.for_.as_deref())
        .map_err(|message| Error::Policy { path: policy.source.clone(), message })?;
    match args.out {
        Some(path) => report::write_atomically(&path, rules.as_bytes())?,
        None => write_out(out.write_all(rules.as_bytes()))?,
    }
    Ok(Outcome::Pass)
}
