//! The verdict as Markdown for `$GITHUB_STEP_SUMMARY` and the release record: a heading that
//! names what blocked, then one table, blocking rows first (each row's source names the
//! metric it read), then the notes. Nothing is said twice. Every text
//! from outside goes through `escape::markdown`: never inside a code span, where backslash
//! escapes do not work.

use crate::escape::markdown as cell;
use crate::policy::verdict::Verdict;

pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    if verdict.blocked() {
        out.push_str(&format!(
            "## gatecheck: 🔴 RELEASE BLOCKED: {}\n\n",
            cell(&verdict.blocking_names(crate::policy::verdict::BLOCKING_NAMED))
        ));
    } else {
        out.push_str("## gatecheck: 🟢 RELEASE OK\n\n");
    }
    // The heading names what blocked; the counts follow once.
    let counts = if verdict.blocked() { verdict.blocked_tally() } else { verdict.summary_line() };
    out.push_str(&format!("{}\n\n", cell(&counts)));
    out.push_str(&format!("- policy: {} ({})\n", cell(&verdict.policy), cell(&verdict.policy_source)));
    for evidence in &verdict.evidence {
        out.push_str(&format!("- evidence: {}\n", cell(evidence)));
    }
    if let Some(at) = &verdict.evaluated_at {
        out.push_str(&format!("- queries evaluated at: {}\n", cell(at)));
    }
    for input in &verdict.inputs {
        out.push_str(&format!(
            "- input ({}): {} `sha256:{}` ({} bytes)\n",
            cell(&input.role),
            cell(&input.path),
            input.sha256,
            input.bytes
        ));
    }
    if let Some(at) = &verdict.judged_at {
        out.push_str(&format!("- judged at {} by {}\n", cell(at), crate::policy::verdict::TOOL));
    }
    out.push_str("\n| Gate | Threshold | Observed | Verdict | Source |\n|---|---|---|---|---|\n");
    for row in super::ordered_rows(&verdict.rows) {
        out.push_str(&format!(
            "| {} | {} | {} | **{}** | {} |\n",
            cell(&super::table::gate_label(row)),
            cell(&row.check),
            cell(&row.observed.to_string()),
            super::verdict_label(row),
            cell(&row.source)
        ));
    }
    let ordered = super::ordered_rows(&verdict.rows);
    let mut notes: Vec<_> = ordered.iter().filter_map(|r| r.detail.clone().map(|d| (*r, d))).collect();
    notes.extend(ordered.iter().filter_map(|r| r.waiver.as_ref().filter(|w| w.applied).map(|w| (*r, w.describe()))));
    if !notes.is_empty() {
        out.push_str("\n<details><summary>Notes</summary>\n\n");
        for (row, detail) in notes {
            out.push_str(&format!(
                "- **{}** {}: {}\n",
                cell(&super::table::gate_label(row)),
                cell(&row.check),
                cell(&detail)
            ));
        }
        out.push_str("\n</details>\n");
    }
    if !verdict.stale_waivers.is_empty() {
        out.push('\n');
        for stale in &verdict.stale_waivers {
            out.push_str(&format!("- {}\n", cell(&super::table::stale_line(stale))));
        }
    }
    out
}
