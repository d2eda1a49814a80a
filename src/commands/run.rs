//! `gatecheck run`: the smoke load, then verify of what it measured, in one process. It takes
//! every option `verify` takes (shared option groups), so history, baselines and raw results
//! apply to the one-process release job too.

use crate::cli::RunArgs;
use crate::error::Error;
use crate::policy;
use crate::report::outputs::Outputs;
use crate::settings::{self, Settings};

use super::evidence::{gather, load_policy, publish};
use super::{smoke, Context, Outcome};

pub async fn run(
    args: RunArgs,
    context: &Context<'_>,
    out: &mut crate::escape::ScrubbedLines<'_>,
) -> Result<Outcome, Error> {
    let summary_path = smoke::summary_path(&args.load, context.env)?;
    let base = Settings { summary: Some(summary_path.clone()), color: context.color, ..Settings::default() };
    let (base, report) = args.judge.into_settings(base);
    // Settings first: the credentials they read from files (--prometheus-token-file, a settings
    // file's prometheus_token_file) are known before the scenario is checked (finding
    // round24-text/06). Settings and policy are checked before any load is sent.
    let mut plan = settings::resolve(context.config, args.evidence.into_settings(base), context.env)?;
    let (load_plan, role) = smoke::load_plan(&args.load, context.env)?;
    // The scenario's token is known now: the Prometheus URL must not carry it either.
    if let Some(prometheus) = &plan.prometheus {
        crate::input::url_holds_no_known_credential("--prometheus-url", &prometheus.url).map_err(Error::Settings)?;
    }
    // The summary this run writes is its evidence: read it whatever the policy reads, so its
    // run facts (partial, dropped) are rows of the verdict.
    plan.summary_explicit = true;
    let policy = load_policy(&plan)?;
    let outputs = Outputs::claim(&report.reports, context.env)?
        .with_view(report.verbose, report.only_failures)
        .with_history(plan.history.as_deref())?;
    let scrape = args.load.scrape_url.as_deref();
    let result =
        smoke::smoke(load_plan, &role, &summary_path, &args.load.log_out, scrape, args.load.quiet, out).await?;
    let mut evidence = gather(&policy, &plan, context.env).await?;
    evidence.inputs.push(result.scenario_digest.clone());
    let verdict = policy::evaluate::evaluate(&policy, &evidence)?;
    publish(&verdict, &plan, outputs, context.env, out)?;
    Ok(Outcome::of(verdict.blocked()))
}
