//! `gatecheck gates`: a policy in plain words — what will be checked, from where, and what
//! happens when a figure is missing.

use std::io::{self, Write};

use crate::policy::{OnMissing, Policy, Severity};

pub fn render(policy: &Policy, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Policy {} ({})", policy.name, policy.source)?;
    if let Some(description) = &policy.description {
        writeln!(out, "{description}")?;
    }
    for flow in &policy.flows {
        let switch = flow
            .switch_env
            .as_ref()
            .map(|var| format!("; {var}=0 switches it off and its gates are SKIPPED"))
            .unwrap_or_default();
        let state = if flow.enabled { "on by default" } else { "off by default" };
        writeln!(out, "Flow {}: {state}{switch}", flow.name)?;
    }
    writeln!(out)?;
    for gate in &policy.gates {
        let severity = match gate.severity {
            Severity::Block => "blocks the release",
            Severity::Warn => "warns only",
        };
        writeln!(out, "{}: {}", gate.id, gate.description)?;
        let checks: Vec<String> = gate.thresholds.iter().map(|t| t.human()).collect();
        writeln!(out, "  checks:     {} (breach {severity})", checks.join("; "))?;
        if let Some((key, kind)) = &gate.metric {
            writeln!(out, "  evidence:   k6 {kind} {key}")?;
        }
        for (stat, var) in &gate.env {
            let role = if gate.metric.is_some() { "overrides it when set" } else { "environment" };
            writeln!(out, "  env:        {stat} from ${var} ({}; {role})", gate.figure_unit.name())?;
        }
        if let Some(flow) = &gate.flow {
            writeln!(out, "  flow:       {flow}")?;
        }
        let missing = match gate.on_missing {
            OnMissing::Fail => "NO DATA, blocks the release",
            OnMissing::Warn => "NO DATA, warns only",
            OnMissing::Skip => "SKIPPED",
        };
        writeln!(out, "  if missing: {missing}")?;
        writeln!(out)?;
    }
    if policy.enforce_k6_thresholds {
        let severity = match policy.k6_threshold_severity {
            Severity::Block => "blocks the release",
            Severity::Warn => "warns only",
        };
        writeln!(out, "k6-thresholds: any threshold k6 itself marked failed in the summary {severity}")?;
    }
    Ok(())
}
