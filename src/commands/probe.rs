//! `gatecheck probe`: runs every query of a policy once and reports those that would give no
//! figure, so a typo'd metric name is found before release day.

use std::io::Write;

use crate::cli::ProbeArgs;
use crate::error::Error;
use crate::report;
use crate::settings::{self, Settings};
use crate::sources;

use super::evidence::load_policy;
use super::{write_out, Context, Outcome};

pub async fn probe(args: ProbeArgs, context: &Context<'_>, out: &mut dyn Write) -> Result<Outcome, Error> {
    let base = Settings { policy: args.policy, color: context.color, ..Settings::default() };
    let plan = settings::resolve_on_call(context.config, args.prometheus.into_settings(base), context.env)?;
    let policy = load_policy(&plan)?;
    let Some(prometheus) = &plan.prometheus else {
        return Err(Error::Settings("probe needs a server: set --prometheus-url or GATECHECK_PROMETHEUS_URL".into()));
    };
    let queries = policy.queries();
    if queries.is_empty() {
        return Err(Error::Settings(format!("policy {} has no query gates to probe", policy.source)));
    }
    let mut outcomes =
        sources::prometheus::run_each(prometheus, &queries, &policy.histogram_queries(), plan.at).await?;
    // An unreachable server is not a finding about the queries: nothing was probed.
    if let Some(index) =
        outcomes.iter().position(|(_, _, o)| matches!(o, Err(Error::Prometheus { .. } | Error::Unreachable { .. })))
    {
        return Err(outcomes.swap_remove(index).2.expect_err("position found an error"));
    }
    let at = sources::prometheus::rfc3339(plan.at);
    let all_answered = match report::probe::render(&policy, &at, &outcomes, out) {
        Ok(all_answered) => all_answered,
        Err(e) => write_out(Err(e)).map(|_| false)?,
    };
    Ok(Outcome::of(!all_answered))
}
