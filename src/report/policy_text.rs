//! `gatecheck gates`: a policy in plain words — what will be checked, from where (every source
//! in precedence order), and what happens when a figure is missing.

use std::io::{self, Write};

use crate::escape::line;
use crate::policy::{OnMissing, Policy, QueryStat, Severity};

pub fn render(policy: &Policy, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Policy {} ({})", line(&policy.name), line(&policy.source))?;
    if let Some(description) = &policy.description {
        writeln!(out, "about: {}", line(description))?;
    }
    for flow in &policy.flows {
        let switch = flow
            .switch_env
            .as_ref()
            .map(|var| format!("; {var}=0 switches it off and its gates are SKIPPED"))
            .unwrap_or_default();
        let state = if flow.enabled { "on by default" } else { "off by default" };
        writeln!(out, "Flow {}: {state}{}", line(&flow.name), line(&switch))?;
    }
    writeln!(out)?;
    for gate in &policy.gates {
        let severity = match gate.severity {
            Severity::Block => "blocks the release",
            Severity::Warn => "warns only",
        };
        writeln!(out, "{}: {}", line(&gate.id), line(&gate.description))?;
        if let Some(runs) = gate.consecutive_passes {
            writeln!(
                out,
                "  checks:     this run and the {} recorded before it all passed (breach {severity})",
                runs - 1
            )?;
            writeln!(out, "  evidence:   run history (--history DIR)")?;
        } else {
            let checks: Vec<String> = gate.thresholds.iter().map(|t| t.human()).collect();
            writeln!(out, "  checks:     {} (breach {severity})", line(&checks.join("; ")))?;
        }
        // Sources in precedence order: env (when set) > run-window scrape > query > k6 metric.
        let mut rank = 0;
        let mut source = |out: &mut dyn Write, text: String| -> io::Result<()> {
            rank += 1;
            writeln!(out, "  source {rank}:   {}", line(&text))
        };
        for (stat, var) in &gate.env {
            source(out, format!("env ${var} gives {stat} when set ({})", gate.figure_unit.name()))?;
        }
        if let Some(name) = &gate.scrape {
            source(out, format!("histogram {name} on the load target's /metrics over the run window (native runs with --scrape-url)"))?;
        }
        for (stat, query) in &gate.queries {
            let which = match stat {
                QueryStat::Every => "the figure".to_string(),
                QueryStat::Only(stat) => stat.to_string(),
            };
            source(out, format!("PromQL for {which}: {query}"))?;
        }
        if let Some((key, kind)) = &gate.metric {
            source(out, format!("k6 {kind} {key} (summary or raw results)"))?;
        }
        if let Some(coverage) = &gate.coverage {
            writeln!(
                out,
                "  coverage:   at least {} of the {} window of {} (sampled every {})",
                coverage.min_text,
                coverage.window_text,
                line(&coverage.selector.to_string()),
                humantime::format_duration(coverage.interval)
            )?;
            for span in coverage.spans.iter().filter(|span| **span != coverage.declared()) {
                writeln!(out, "              and of the {} (each span measured alike)", coverage.span_text(*span))?;
            }
        }
        if let Some(flow) = &gate.flow {
            writeln!(out, "  flow:       {}", line(flow))?;
        }
        let missing = match gate.on_missing {
            OnMissing::Fail => "NO DATA, blocks the release",
            OnMissing::Warn => "NO DATA, warns only",
            OnMissing::Skip => "SKIPPED",
        };
        writeln!(out, "  if missing: {missing}")?;
        writeln!(out)?;
    }
    for freshness in &policy.freshness {
        writeln!(out, "{}: {}", line(&freshness.id), line(&freshness.description))?;
        writeln!(
            out,
            "  checks:     the newest sample of {} is younger than {}{} (with query figures; blocks the release)",
            line(&freshness.selector.to_string()),
            humantime::format_duration(freshness.max_age),
            freshness.up_for.as_ref().map(|w| format!(", and it was 1 for the whole {w}")).unwrap_or_default()
        )?;
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
