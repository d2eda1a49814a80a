//! `gatecheck probe`: for each query of a policy, did the server accept it and return data?

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::escape::line;
use crate::policy::evaluate::show_labels;
use crate::policy::evaluate::QueryOutcome;
use crate::policy::Policy;

/// Renders the probe table; returns whether every query answered with at least one real value.
pub fn render(policy: &Policy, at: &str, outcomes: &[QueryOutcome], out: &mut dyn Write) -> io::Result<bool> {
    writeln!(out, "gatecheck probe: policy {} ({}) at {at}", line(&policy.name), line(&policy.source))?;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).force_no_tty();
    table.set_header(vec!["Gate", "Query", "Answer", "Result"]);
    let mut all_answered = true;
    for (gate, query, outcome) in outcomes {
        let (mut answer, ok) = match outcome.as_ref().map(|a| &a.series) {
            Err(error) => (format!("{error}"), false),
            // A native quantile's companion answers histogram samples (`Policy::histogram_queries`).
            Ok(series) if series.is_empty() && outcome.as_ref().is_ok_and(|a| !a.histograms.is_empty()) => {
                let histograms = outcome.as_ref().map(|a| a.histograms.len()).unwrap_or_default();
                (format!("{histograms} native histogram(s)"), true)
            }
            Ok(series) if series.is_empty() => {
                ("no series (NO DATA on release day: check metric names and labels)".into(), false)
            }
            Ok(series) if series.iter().all(|s| s.value.is_nan()) => {
                ("only NaN (no observations in the window)".into(), false)
            }
            Ok(series) => {
                let shown: Vec<String> = series
                    .iter()
                    .take(4)
                    .map(|s| {
                        if s.labels.is_empty() {
                            format!("{}", s.value)
                        } else {
                            format!("{} {}", show_labels(&s.labels), s.value)
                        }
                    })
                    .collect();
                let more = if series.len() > 4 { format!(" (+{} more)", series.len() - 4) } else { String::new() };
                (format!("{} series: {}{more}", series.len(), shown.join("; ")), true)
            }
        };
        if let Ok(found) = outcome {
            if !found.warnings.is_empty() {
                answer.push_str(&format!(" — warnings: {}", found.warnings.join("; ")));
            }
        }
        all_answered &= ok;
        table.add_row(vec![line(gate), line(query), line(&answer), (if ok { "OK" } else { "PROBLEM" }).to_string()]);
    }
    writeln!(out, "{table}")?;
    let problems = outcomes.len()
        - outcomes
            .iter()
            .filter(|(_, _, o)| {
                o.as_ref().is_ok_and(|a| a.series.iter().any(|x| !x.value.is_nan()) || !a.histograms.is_empty())
            })
            .count();
    if all_answered {
        writeln!(out, "PROBE OK: all {} queries answered with data", outcomes.len())?;
    } else {
        writeln!(out, "PROBE FAILED: {problems} of {} queries would give no figure", outcomes.len())?;
    }
    Ok(all_answered)
}
