//! The verdict as Markdown: a summary table for `$GITHUB_STEP_SUMMARY`, and the ops-log
//! "baseline snapshot" table (metric, value, threshold, verdict) for the release record.
//! Every text from outside goes through `escape::markdown`: never inside a code span, where
//! backslash escapes do not work.

use crate::escape::markdown as cell;
use crate::policy::verdict::Verdict;

pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    let headline = if verdict.blocked() { "🔴 RELEASE BLOCKED" } else { "🟢 RELEASE OK" };
    out.push_str(&format!("## gatecheck: {headline}\n\n"));
    out.push_str(&format!("{}\n\n", cell(&verdict.summary_line())));
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
    for row in &verdict.rows {
        out.push_str(&format!(
            "| {} | {} | {} | **{}** | {} |\n",
            cell(&super::table::gate_label(row)),
            cell(&row.check),
            cell(&row.observed.to_string()),
            super::verdict_label(row),
            cell(&row.source)
        ));
    }
    let mut notes: Vec<_> = verdict.rows.iter().filter_map(|r| r.detail.clone().map(|d| (r, d))).collect();
    notes
        .extend(verdict.rows.iter().filter_map(|r| r.waiver.as_ref().filter(|w| w.applied).map(|w| (r, w.describe()))));
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
    out.push_str("\n### Baseline snapshot\n\n| Metric | Value | Threshold | Verdict |\n|---|---|---|---|\n");
    for row in &verdict.rows {
        let metric = match &row.series {
            Some(series) => format!("{} {series}", row.subject),
            None => row.subject.clone(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&metric),
            cell(&row.observed.to_string()),
            cell(&row.check),
            super::verdict_label(row)
        ));
    }
    out
}
