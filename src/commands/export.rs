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
    let script = load::k6_script::render(scenario.as_deref(), &policy)?;
    generated_as_is(args.out.as_deref(), &script, &|_| None).map_err(|message| {
        // The credentials of the environment are read when k6 runs, never at export: a script
        // that reads as holding one is exported with them unset.
        let held: Vec<&str> = settings::CREDENTIAL_ENV
            .iter()
            .copied()
            .filter(|name| (context.env)(name).ok().flatten().is_some_and(|v| !v.trim().is_empty()))
            .collect();
        match held.is_empty() {
            true => Error::Settings(message),
            false => Error::Settings(format!(
                "{message} (set here: {}; the script reads them when k6 runs: export with them unset)",
                held.join(", ")
            )),
        }
    })?;
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
    generated_as_is(args.out.as_deref(), &rules, &|line| gate_of_rule_line(&rules, &policy, line))
        .map_err(Error::Settings)?;
    match args.out {
        Some(path) => report::write_atomically(&path, rules.as_bytes())?,
        None => write_out(out.write_all(rules.as_bytes()))?,
    }
    Ok(Outcome::Pass)
}

/// A generated file, written by `export` to `out` or standard output, exactly as generated or
/// not at all (`secret::generated_as_is`, finding round39-text/03).
fn generated_as_is(
    out: Option<&std::path::Path>,
    text: &str,
    gate_at: &dyn Fn(usize) -> Option<String>,
) -> Result<(), String> {
    let file = out.map_or_else(|| "the exported file (standard output)".to_string(), |path| path.display().to_string());
    crate::secret::generated_as_is(&file, text, gate_at)
}

/// The gate whose rules hold `line` (from 1) of an exported rule file: each gate's rules are
/// the group `gatecheck:<policy>:<gate>` (`report::prometheus_rules`).
fn gate_of_rule_line(rules: &str, policy: &crate::policy::Policy, line: usize) -> Option<String> {
    let group = rules.lines().take(line).filter_map(|l| l.strip_prefix("- name: ")).last()?;
    let group = group.trim().trim_matches(|c| c == '\'' || c == '"');
    let id = group.strip_prefix(&format!("gatecheck:{}:", policy.name))?;
    (!id.is_empty()).then(|| id.to_string())
}
