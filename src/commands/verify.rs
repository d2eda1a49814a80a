//! `gatecheck verify`: judge a k6 summary (and raw results, env figures, Prometheus) against a
//! policy.

use crate::cli::VerifyArgs;
use crate::error::Error;
use crate::report::outputs::Outputs;
use crate::settings::{self, Settings};

use super::evidence::{judge, load_policy, publish};
use super::{Context, Outcome};

pub async fn verify(
    args: VerifyArgs,
    context: &Context<'_>,
    out: &mut crate::escape::ScrubbedLines<'_>,
) -> Result<Outcome, Error> {
    let base = Settings { summary: args.summary, color: context.color, ..Settings::default() };
    let (base, report) = args.judge.into_settings(base);
    let flags = args.evidence.into_settings(base);
    let mut plan = if context.sealed {
        settings::resolve_sealed(flags, context.env)?
    } else {
        settings::resolve(context.config, flags, context.env)?
    };
    // A summary the user named is always read, even when no gate reads a k6 metric: its own
    // failed thresholds and a missing file must never pass silently.
    plan.summary_explicit = !plan.summary_is_default;
    let policy = load_policy(&plan)?;
    let outputs = Outputs::claim(&report.reports, context.env)?
        .with_view(report.verbose, report.only_failures)
        .with_history(plan.history.as_deref())?;
    let verdict = judge(&policy, &plan, context.env).await?;
    publish(&verdict, &plan, outputs, context.env, out)?;
    Ok(Outcome::of(verdict.blocked()))
}
