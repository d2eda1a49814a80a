//! The verdict as a table for people: gate, threshold, observed, verdict, source; then the
//! notes that explain NO DATA, SKIPPED and overrides; then one summary line. Every text from
//! outside goes through `escape::line`, and every line starts with gatecheck's own words or a
//! policy's gate id, so nothing from outside can start a line.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use crate::escape::line;
use crate::policy::verdict::{Row, Status, Verdict};

pub fn render(verdict: &Verdict, color: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "gatecheck: policy {} ({})", line(&verdict.policy), line(&verdict.policy_source))?;
    for evidence in &verdict.evidence {
        writeln!(out, "evidence: {}", line(evidence))?;
    }
    if let Some(at) = &verdict.evaluated_at {
        writeln!(out, "queries evaluated at: {}", line(at))?;
    }
    for input in &verdict.inputs {
        writeln!(
            out,
            "input ({}): {} sha256:{} ({} bytes)",
            line(&input.role),
            line(&input.path),
            input.sha256,
            input.bytes
        )?;
    }
    if let Some(at) = &verdict.judged_at {
        writeln!(out, "judged at {at} by {}", crate::policy::verdict::TOOL)?;
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(vec!["Gate", "Threshold", "Observed", "Verdict", "Source"]);
    for row in &verdict.rows {
        table.add_row(vec![
            Cell::new(line(&gate_label(row))),
            Cell::new(line(&row.check)),
            Cell::new(line(&row.observed.to_string())),
            status_cell(row, color),
            Cell::new(line(&short_source(&row.source))),
        ]);
    }
    writeln!(out, "{table}")?;
    let notes: Vec<&Row> = verdict.rows.iter().filter(|row| row.detail.is_some() || row.waiver.is_some()).collect();
    if !notes.is_empty() {
        writeln!(out, "notes:")?;
        for row in notes {
            if let Some(detail) = &row.detail {
                writeln!(out, "  {} `{}`: {}", line(&gate_label(row)), line(&row.check), line(detail))?;
            }
            if let Some(waiver) = row.waiver.as_ref().filter(|w| w.applied) {
                writeln!(out, "  {} `{}`: {}", line(&gate_label(row)), line(&row.check), line(&waiver.describe()))?;
            }
        }
    }
    for stale in &verdict.stale_waivers {
        writeln!(out, "{}", line(&stale_line(stale)))?;
    }
    writeln!(out, "{}", line(&verdict.summary_line()))
}

/// A waiver that covered nothing, for every text report (each escapes it for its kind); it
/// starts with gatecheck's words, never with the waiver's.
pub fn stale_line(stale: &crate::policy::verdict::StaleWaiver) -> String {
    let what = match (&stale.threshold, &stale.series) {
        (Some(t), Some(s)) => format!(" `{t}` {s}"),
        (Some(t), None) => format!(" `{t}`"),
        (None, Some(s)) => format!(" {s}"),
        (None, None) => String::new(),
    };
    format!(
        "stale waiver: gate {}{what} by {} ({}, expires {}): {}",
        stale.gate, stale.owner, stale.ticket, stale.expires, stale.why
    )
}

/// The gate id, with the query series it judges when there are several.
pub fn gate_label(row: &Row) -> String {
    match &row.series {
        Some(series) => format!("{} {series}", row.gate),
        None => row.gate.clone(),
    }
}

fn status_cell(row: &Row, color: bool) -> Cell {
    let cell = Cell::new(super::verdict_label(row));
    if !color {
        return cell;
    }
    match row.status {
        Status::Pass => cell.fg(Color::Green),
        Status::Fail => cell.fg(Color::Red),
        Status::NoData if row.blocking => cell.fg(Color::Red),
        Status::Warn | Status::NoData => cell.fg(Color::Yellow),
        Status::Skipped => cell.fg(Color::DarkGrey),
        Status::Waived => cell.fg(Color::Magenta),
    }
}

/// The table names the evidence files in its header; rows keep only the file name and key.
pub fn short_source(source: &str) -> String {
    if source.starts_with("promql @ ") || source.starts_with("scrape ") {
        return source.to_string();
    }
    match source.split_once(": ") {
        Some((path, key)) => {
            let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path);
            format!("{name}: {key}")
        }
        None => std::path::Path::new(source).file_name().and_then(|n| n.to_str()).unwrap_or(source).to_string(),
    }
}
