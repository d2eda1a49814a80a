//! GitHub Actions workflow commands: one `::error` per blocking row, one `::warning` per
//! warning or non-blocking NO DATA, so the verdict shows on the job page.

use crate::escape::{workflow_data as escape_data, workflow_property as escape_property};
use crate::policy::verdict::{Status, Verdict};

pub fn render(verdict: &Verdict) -> String {
    let mut out = String::new();
    for row in &verdict.rows {
        let level = if row.blocking {
            "error"
        } else if matches!(row.status, Status::Warn | Status::NoData | Status::Waived) {
            "warning"
        } else {
            continue;
        };
        let title = format!("gatecheck {} {}", super::table::gate_label(row), super::verdict_label(row));
        let message =
            format!(
                "{} — observed {} ({}){}",
                row.check,
                row.observed,
                row.source,
                row.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
            ) + &row.waiver.as_ref().filter(|w| w.applied).map(|w| format!("; {}", w.describe())).unwrap_or_default();
        out.push_str(&format!("::{level} title={}::{}\n", escape_property(&title), escape_data(&message)));
    }
    out
}
