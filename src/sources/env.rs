//! Figures and flow switches from environment variables.
//!
//! The environment is passed in as a lookup function so the rules (empty counts as unset,
//! a value that is not a plain number is an input error, never a pass) are tested without
//! touching the process environment.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::metrics::Provenance;
use crate::policy::evaluate::{EnvFigure, FlowState};
use crate::policy::{FigureUnit, Policy};

/// Reads every environment figure the policy names. Unset or empty variables are absent.
pub fn read_figures(policy: &Policy, lookup: &crate::env::Lookup<'_>) -> Result<BTreeMap<String, EnvFigure>, Error> {
    let mut figures = BTreeMap::new();
    for gate in &policy.gates {
        for (_, var) in &gate.env {
            let Some(raw) = lookup(var)?.filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let value = parse_figure(var, &raw, gate.figure_unit)?;
            figures.insert(var.clone(), EnvFigure { value, provenance: Provenance::Env { name: var.clone() } });
        }
    }
    Ok(figures)
}

fn parse_figure(var: &str, raw: &str, unit: FigureUnit) -> Result<f64, Error> {
    let expected = match unit {
        FigureUnit::Ratio => "expected a ratio from 0 to 1, e.g. 0.02".to_string(),
        other => format!("expected a plain non-negative number ({}), e.g. 12.5", other.name()),
    };
    let fail = |why: Option<String>| Error::Env {
        name: var.to_string(),
        expected: match why {
            Some(why) => format!("{expected}; the value {why}"),
            None => expected.clone(),
        },
    };
    // Kept exactly as written (see `parse_figure_text`): the comparison brings it to the
    // limit's unit in decimal.
    let value = crate::metrics::figure::parse_figure_text(raw)
        // The exactness rule's own words quote the number: said without it (`Error::Env`).
        .map_err(|why| {
            fail(
                why.starts_with("has more")
                    .then(|| "has more significant digits than a figure can hold exactly".into()),
            )
        })?;
    if value < 0.0 || (unit == FigureUnit::Ratio && value > 1.0) {
        return Err(fail(None));
    }
    Ok(value)
}

pub use crate::input::{parse_switch, SWITCH_VALUES};

/// Resolves which flows ran: a policy flow's switch variable ("0"/"false"/"no"/"off" switch it
/// off), then `--skip-flow` names — only of flows the policy declares optional.
pub fn read_flows(
    policy: &Policy,
    skipped_by_flag: &[String],
    lookup: &crate::env::Lookup<'_>,
) -> Result<BTreeMap<String, FlowState>, Error> {
    let mut flows = BTreeMap::new();
    for flow in &policy.flows {
        let mut state = FlowState {
            enabled: flow.enabled,
            reason: format!("policy {} sets enabled = {}", policy.source, flow.enabled),
        };
        if let Some(var) = &flow.switch_env {
            if let Some(raw) = lookup(var)?.filter(|v| !v.trim().is_empty()) {
                let enabled = parse_switch(&raw)
                    .ok_or_else(|| Error::Env { name: var.clone(), expected: SWITCH_VALUES.into() })?;
                state = FlowState { enabled, reason: format!("{var}={}", raw.trim()) };
            }
        }
        flows.insert(flow.name.clone(), state);
    }
    let known: Vec<&str> = policy.gates.iter().filter_map(|g| g.flow.as_deref()).collect();
    for name in skipped_by_flag {
        if !known.contains(&name.as_str()) && !flows.contains_key(name) {
            return Err(Error::Settings(format!(
                "--skip-flow {name}: no gate of policy {} belongs to a flow of that name (known: {})",
                policy.source,
                known.join(", ")
            )));
        }
        if policy.optional_flow(name).is_none() {
            let optional: Vec<&str> = policy
                .flows
                .iter()
                .filter(|f| policy.optional_flow(&f.name).is_some())
                .map(|f| f.name.as_str())
                .collect();
            return Err(Error::Settings(format!(
                "--skip-flow {name}: policy {} does not declare flow {name} optional, so its gates are judged (optional flows: {})",
                policy.source,
                if optional.is_empty() { "none".to_string() } else { optional.join(", ") }
            )));
        }
        flows.insert(name.clone(), FlowState { enabled: false, reason: format!("--skip-flow {name}") });
    }
    Ok(flows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        crate::policy::builtin_release().unwrap()
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<Option<String>, Error> {
        move |name| Ok(pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn numbers_are_read_and_empty_is_unset() {
        let figures =
            read_figures(&policy(), &env(&[("SCHEDULER_LAG_P95_SECONDS", " 12.5 "), ("QUEUE_LAG_P95_SECONDS", "")]))
                .unwrap();
        assert_eq!(figures["SCHEDULER_LAG_P95_SECONDS"].value, 12.5);
        assert!(!figures.contains_key("QUEUE_LAG_P95_SECONDS"));
    }

    #[test]
    fn anything_but_a_plain_number_is_an_error() {
        for bad in ["12s", "abc", "NaN", "inf", "-1", "1,5"] {
            let lookup = move |name: &str| Ok((name == "QUEUE_LAG_P99_SECONDS").then(|| bad.to_string()));
            let err = read_figures(&policy(), &lookup).unwrap_err().to_string();
            assert!(
                err.contains("QUEUE_LAG_P99_SECONDS") && err.contains("expected a plain non-negative number"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn rule_run_switch() {
        let flows = read_flows(&policy(), &[], &env(&[("PERF_ENABLE_RULE_RUN", "0")])).unwrap();
        assert!(!flows["rule_poll"].enabled);
        assert_eq!(flows["rule_poll"].reason, "PERF_ENABLE_RULE_RUN=0");
        let flows = read_flows(&policy(), &[], &env(&[])).unwrap();
        assert!(flows["rule_poll"].enabled);
        assert!(read_flows(&policy(), &[], &env(&[("PERF_ENABLE_RULE_RUN", "maybe")])).is_err());
        // Only a flow the policy declares optional can be switched off by the flag (issue 20:
        // `--skip-flow auth_list` once turned the read gates SKIPPED).
        let flows = read_flows(&policy(), &["rule_poll".into()], &env(&[])).unwrap();
        assert!(!flows["rule_poll"].enabled);
        let err = read_flows(&policy(), &["auth_list".into()], &env(&[])).unwrap_err().to_string();
        assert!(err.contains("does not declare flow auth_list optional"), "{err}");
        assert!(read_flows(&policy(), &["nope".into()], &env(&[])).is_err());
    }
}
