//! The verdict as one self-contained HTML page for people and CI artifact viewers: the
//! verdict and exit code first, the gate table (blocking and waived rows first), latency
//! distributions as inline SVG plots (drawn by plotters, never fetched), the run history, run
//! integrity, waivers, and the evidence with its digests. Nothing is loaded from the network:
//! CSS and the one script are inline, so the page opens the same from disk or an artifact.

use std::fmt::Write as _;

use plotters::prelude::*;

use crate::escape::html as escape;
use crate::policy::verdict::{Distribution, Row, Status, Verdict};

/// The colours plots mark things with; the browser test finds the threshold marker by its own.
pub const THRESHOLD_COLOR: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const OBSERVED_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const CURVE_COLOR: RGBColor = RGBColor(0x2c, 0x3e, 0x50);
const BASELINE_COLOR: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// The tail is where gates look: the percentile axis stops at 99.99.
const TOP_NINES: f64 = 4.0;

fn status_class(row: &Row) -> &'static str {
    match row.status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::NoData if row.blocking => "fail",
        Status::NoData => "warn",
        Status::Skipped => "skipped",
        Status::Waived => "waived",
    }
}

/// Blocking rows first, then waived ones and warnings, then the rest: the one order of
/// every report.
fn ordered(rows: &[Row]) -> Vec<&Row> {
    super::ordered_rows(rows)
}

const STYLE: &str = r#"
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2329; background: #fff; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; line-height: 1.4; }
h1 { margin: 0; font-size: 1.6rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #dde1e5; padding-bottom: .2rem; }
header.verdict { border-radius: 6px; padding: .9rem 1.2rem; color: #fff; }
header.verdict.ok { background: #1e7d3a; }
header.verdict.blocked { background: #b3261e; }
header.verdict p { margin: .3rem 0 0; }
.exit-code { font-family: ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #e6e8eb; overflow-wrap: anywhere; }
th { background: #f4f6f8; }
td.check, td.digest, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .82rem; }
td.source { overflow-wrap: anywhere; max-width: 20rem; color: #4b5563; font-size: .8rem; }
td.digest { word-break: break-all; }
.badge { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 3px; padding: 0 .35rem; font-weight: 600; font-size: .78rem; color: #fff; }
tr.pass .badge { background: #1e7d3a; } tr.fail .badge { background: #b3261e; }
tr.warn .badge { background: #b7791f; } tr.skipped .badge { background: #8a939c; }
tr.waived .badge { background: #7b3fa0; }
tr.fail { background: #fdf1f0; } tr.waived { background: #f7f0fb; }
.waiver { color: #5b2a78; } .note { color: #4b5563; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
figure.plot { margin: 0; border: 1px solid #e6e8eb; border-radius: 6px; padding: .5rem; }
figure.plot svg { width: 100%; height: auto; display: block; }
figcaption { font-size: .82rem; color: #4b5563; }
.history-strip { display: flex; gap: 3px; flex-wrap: wrap; }
.history-strip span { width: 1.1rem; height: 1.1rem; border-radius: 2px; display: inline-block; }
.history-strip .passed { background: #1e7d3a; } .history-strip .failed { background: #b3261e; }
.history-strip .this-run { outline: 2px solid #1d2329; outline-offset: 1px; }
footer { margin-top: 2rem; font-size: .8rem; color: #4b5563; }
@media print { header.verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"#;

/// Marks the page once every plot drew a non-empty SVG with its threshold marker, so a
/// headless browser can tell the plots rendered (and people see nothing of it).
const SCRIPT: &str = r##"
(function () {
  var figures = document.querySelectorAll('figure.plot');
  var rendered = 0;
  figures.forEach(function (figure) {
    var svg = figure.querySelector('svg');
    if (!svg) { return; }
    var box = svg.getBoundingClientRect();
    var marker = svg.querySelector('[stroke="#D62728"], [fill="#D62728"]');
    if (box.width > 0 && box.height > 0 && svg.childElementCount > 0 && marker) { rendered += 1; }
  });
  document.body.setAttribute('data-plots', String(figures.length));
  document.body.setAttribute('data-plots-rendered', String(rendered));
  document.body.setAttribute('data-gate-rows', String(document.querySelectorAll('table.gates tbody tr').length));
})();
"##;

pub fn render(verdict: &Verdict, generated_at: &str) -> String {
    let mut out = String::new();
    let blocked = verdict.blocked();
    let headline = if blocked { "RELEASE BLOCKED" } else { "RELEASE OK" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>gatecheck: {headline} — policy {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&verdict.policy)
    );
    let _ = write!(
        out,
        "<header class=\"verdict {}\">\n<h1>{headline}</h1>\n<p class=\"summary\">{}</p>\n<p class=\"exit-code\">exit code {}</p>\n</header>\n",
        if blocked { "blocked" } else { "ok" },
        escape(&verdict.summary_line()),
        verdict.exit_code()
    );
    gates(&mut out, verdict);
    distributions(&mut out, verdict);
    history(&mut out, verdict);
    integrity(&mut out, verdict);
    waivers(&mut out, verdict);
    evidence(&mut out, verdict);
    let _ = write!(
        out,
        "<footer>\n<p>policy <span class=\"mono\">{}</span> ({}); judged at {}; report generated at {}; {}</p>\n</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(&verdict.policy),
        escape(&verdict.policy_source),
        escape(verdict.judged_at.as_deref().unwrap_or("-")),
        escape(generated_at),
        escape(crate::policy::verdict::TOOL)
    );
    out
}

fn gates(out: &mut String, verdict: &Verdict) {
    out.push_str("<section id=\"gates\">\n<h2>Gates</h2>\n<table class=\"gates\">\n<thead><tr><th>Gate</th><th>Threshold</th><th>Observed</th><th>Verdict</th><th>Source</th><th>Notes</th></tr></thead>\n<tbody>\n");
    for row in ordered(&verdict.rows) {
        let mut notes = String::new();
        if let Some(detail) = &row.detail {
            let _ = write!(notes, "<div class=\"note\">{}</div>", escape(detail));
        }
        if let Some(waiver) = row.waiver.as_ref().filter(|w| w.applied) {
            let _ = write!(
                notes,
                "<div class=\"waiver\">waived ({}) by <b>{}</b> until {} — {}: {}</div>",
                waiver.breach,
                escape(&waiver.owner),
                escape(&waiver.expires),
                escape(&waiver.ticket),
                escape(&waiver.reason)
            );
        }
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td class=\"gate\">{}</td><td class=\"check\">{}</td><td class=\"observed\">{}</td><td><span class=\"badge\">{}</span></td><td class=\"source\" title=\"{}\">{}</td><td class=\"notes\">{notes}</td></tr>",
            status_class(row),
            escape(&super::table::gate_label(row)),
            escape(&row.check),
            escape(&row.observed.to_string()),
            super::verdict_label(row),
            escape(&row.source),
            escape(&super::table::short_source(&row.source)),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn distributions(out: &mut String, verdict: &Verdict) {
    // Latency gates judged on a figure in ms whose evidence carried no samples to draw.
    let mut without: Vec<&str> = verdict
        .rows
        .iter()
        .filter(|r| matches!(r.observed, crate::policy::verdict::Observed::Figure { unit: "ms", .. }))
        .filter(|r| !verdict.distributions.iter().any(|d| d.gate == r.gate))
        // Env, query and scrape figures are single numbers by nature; k6 summaries could have had samples.
        .filter(|r| r.figure_from.is_some_and(|f| f.is_the_run()))
        .map(|r| r.gate.as_str())
        .collect();
    without.dedup();
    if verdict.distributions.is_empty() && without.is_empty() {
        return;
    }
    out.push_str("<section id=\"distributions\">\n<h2>Latency distributions</h2>\n<div class=\"plots\">\n");
    for distribution in &verdict.distributions {
        let svg = plot(distribution);
        let _ = write!(
            out,
            "<figure class=\"plot\" data-gate=\"{}\">\n{svg}\n<figcaption>{} — {} from {}{}. Red: threshold limit; blue: observed.</figcaption>\n</figure>\n",
            escape(&distribution.gate),
            escape(&distribution.gate),
            escape(&distribution.metric),
            escape(&distribution.source),
            if distribution.baseline.is_some() { "; grey: baseline" } else { "" }
        );
    }
    out.push_str("</div>\n");
    for gate in without {
        let _ = writeln!(
            out,
            "<p class=\"no-curve\">{}: no latency distribution — the evidence carries percentiles only, no samples (give k6 raw results with --raw, or a native run's summary).</p>",
            escape(gate)
        );
    }
    out.push_str("</section>\n");
}

/// A percentile as "nines" (-log10 of the tail share): 90 -> 1, 99 -> 2, 99.9 -> 3.
fn nines(percentile: f64) -> f64 {
    (-(1.0 - percentile / 100.0).max(1e-12).log10()).clamp(0.0, TOP_NINES)
}

fn percentile_label(x: &f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let text = format!("{p:.2}");
    format!("p{}", text.trim_end_matches('0').trim_end_matches('.'))
}

/// The percentile curve on a log latency axis, the tail spread out ("nines" axis), with each
/// threshold's limit and observed figure marked. Plotters draws into a string: any drawing
/// error leaves a short note instead of a plot.
fn plot(distribution: &Distribution) -> String {
    let mut svg = String::new();
    let drawn = draw(distribution, &mut svg);
    match drawn {
        Ok(()) => svg,
        Err(why) => format!("<p class=\"plot-error\">cannot draw the distribution: {}</p>", escape(&why)),
    }
}

fn draw(distribution: &Distribution, svg: &mut String) -> Result<(), String> {
    let positive = |points: &[(f64, f64)]| -> Vec<(f64, f64)> {
        points.iter().filter(|(_, v)| v.is_finite() && *v > 0.0).map(|(p, v)| (nines(*p), *v)).collect()
    };
    let curve = positive(&distribution.curve);
    let baseline = distribution.baseline.as_deref().map(positive).unwrap_or_default();
    let mut values: Vec<f64> = curve.iter().chain(&baseline).map(|(_, v)| *v).collect();
    for mark in &distribution.marks {
        values.extend([mark.limit_ms].into_iter().chain(mark.observed_ms).filter(|v| v.is_finite() && *v > 0.0));
    }
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(0.0, f64::max);
    if curve.is_empty() || !low.is_finite() || high <= 0.0 {
        return Err("no positive latency to draw".into());
    }
    let (low, high) = (low / 1.5, high * 1.5);
    {
        let root = SVGBackend::with_string(svg, (560, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..TOP_NINES, (low..high).log_scale())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(6)
            .x_label_formatter(&percentile_label)
            .y_label_formatter(&|v| format!("{v:.0} ms"))
            .x_desc("percentile")
            .y_desc("latency (log)")
            .max_light_lines(1)
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(|e| e.to_string())?;
        if !baseline.is_empty() {
            chart.draw_series(LineSeries::new(baseline, BASELINE_COLOR.stroke_width(2))).map_err(|e| e.to_string())?;
        }
        chart.draw_series(LineSeries::new(curve, CURVE_COLOR.stroke_width(2))).map_err(|e| e.to_string())?;
        for mark in &distribution.marks {
            let x = nines(mark.percentile);
            if mark.limit_ms.is_finite() && mark.limit_ms > 0.0 {
                // The limit as a horizontal line up to its percentile, and a cross at the point.
                chart
                    .draw_series(LineSeries::new(
                        [(0.0, mark.limit_ms), (x, mark.limit_ms)],
                        THRESHOLD_COLOR.stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series([Cross::new((x, mark.limit_ms), 6, THRESHOLD_COLOR.stroke_width(2))])
                    .map_err(|e| e.to_string())?;
            }
            if let Some(observed) = mark.observed_ms.filter(|v| v.is_finite() && *v > 0.0) {
                chart
                    .draw_series([Circle::new((x, observed), 5, OBSERVED_COLOR.filled())])
                    .map_err(|e| e.to_string())?;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn history(out: &mut String, verdict: &Verdict) {
    let Some(history) = &verdict.history else { return };
    out.push_str("<section id=\"history\">\n<h2>History</h2>\n<div class=\"history-strip\">");
    // The last 30 recorded runs, oldest first, then this one.
    let recent = &history[history.len().saturating_sub(30)..];
    for passed in recent {
        let (class, word) = if *passed { ("passed", "passed") } else { ("failed", "blocked") };
        let _ = write!(out, "<span class=\"{class}\" title=\"{word}\"></span>");
    }
    let (class, word) = if verdict.blocked() { ("failed", "blocked") } else { ("passed", "passed") };
    let _ = write!(out, "<span class=\"{class} this-run\" title=\"this run: {word}\"></span>");
    let _ = writeln!(
        out,
        "</div>\n<p class=\"note\">{} recorded run(s) before this one (the last {} shown, oldest first; the outlined square is this run).</p>\n</section>",
        history.len(),
        recent.len()
    );
}

fn integrity(out: &mut String, verdict: &Verdict) {
    out.push_str("<section id=\"integrity\">\n<h2>Run integrity</h2>\n");
    match &verdict.run {
        Some(run) => {
            out.push_str("<table class=\"integrity\">\n<tbody>\n");
            let partial = run.partial.as_deref().map(|why| format!("partial: {why}")).unwrap_or("complete".into());
            let _ = writeln!(out, "<tr><th>run</th><td>{}</td></tr>", escape(&partial));
            let _ = writeln!(out, "<tr><th>dropped iterations</th><td>{}</td></tr>", run.dropped_iterations);
            let _ = writeln!(out, "<tr><th>late iterations</th><td>{}</td></tr>", run.late_iterations);
            let errors = if run.errors_by_kind.is_empty() {
                "none".to_string()
            } else {
                run.errors_by_kind.iter().map(|(kind, n)| format!("{kind}: {n}")).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(out, "<tr><th>errors by kind</th><td>{}</td></tr>", escape(&errors));
            out.push_str("</tbody>\n</table>\n");
        }
        None => out.push_str(
            "<p class=\"note\">The evidence records no run facts (k6 files do not; native runs and merges do).</p>\n",
        ),
    }
    out.push_str("</section>\n");
}

fn waivers(out: &mut String, verdict: &Verdict) {
    let applied: Vec<&Row> = verdict.rows.iter().filter(|r| r.waiver.is_some()).collect();
    if applied.is_empty() && verdict.stale_waivers.is_empty() {
        return;
    }
    out.push_str("<section id=\"waivers\">\n<h2>Waivers</h2>\n<ul class=\"waivers\">\n");
    for row in applied {
        if let Some(waiver) = &row.waiver {
            let _ = writeln!(
                out,
                "<li class=\"{}\">{} <span class=\"mono\">{}</span>: {}</li>",
                if waiver.applied { "applied" } else { "refused" },
                escape(&super::table::gate_label(row)),
                escape(&row.check),
                escape(&waiver.describe())
            );
        }
    }
    for stale in &verdict.stale_waivers {
        let _ = writeln!(out, "<li class=\"stale\">{}</li>", escape(&super::table::stale_line(stale)));
    }
    out.push_str("</ul>\n</section>\n");
}

fn evidence(out: &mut String, verdict: &Verdict) {
    out.push_str("<section id=\"evidence\">\n<h2>Evidence</h2>\n");
    if !verdict.evidence.is_empty() || verdict.evaluated_at.is_some() {
        out.push_str("<ul class=\"evidence\">\n");
        for evidence in &verdict.evidence {
            let _ = writeln!(out, "<li>{}</li>", escape(evidence));
        }
        if let Some(at) = &verdict.evaluated_at {
            let _ = writeln!(out, "<li>queries evaluated at {}</li>", escape(at));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<table class=\"inputs\">\n<thead><tr><th>Role</th><th>Path</th><th>SHA-256</th><th>Bytes</th></tr></thead>\n<tbody>\n");
    for input in &verdict.inputs {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"digest\">{}</td><td>{}</td></tr>",
            escape(&input.role),
            escape(&input.path),
            escape(&input.sha256),
            input.bytes
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}
