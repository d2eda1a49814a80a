//! `gatecheck compare A B`: two runs side by side for the weekly trend review — per flow
//! p50/p95/p99, error rate, checks and throughput, with the change from A to B; and, when both
//! runs carry their samples (raw results, native runs), each percentile's change with a 95 %
//! bootstrap interval and whether the shift is real, by verify's `significant()` rule
//! (`distribution::told_shift`) in each direction at 1 % together.

use std::collections::BTreeSet;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;

use crate::metrics::distribution::{
    mann_whitney, quantile_difference_ci, samples_needed, show_p_value, told_shift, Direction, StatisticTest, Untold,
};
use crate::metrics::{Aggregate, Distribution, Lookup, MetricKey, MetricSet};
use crate::policy::threshold::Stat;

/// Run length in seconds, where the format lets it be derived (count / per-second rate).
fn duration_secs(set: &MetricSet) -> Option<f64> {
    let key = MetricKey::parse("http_reqs").ok()?;
    match set.get(&key)?.aggregate {
        Aggregate::Counter { count, per_second: Some(rate) } if rate > 0.0 => Some(count / rate),
        _ => None,
    }
}

fn figure(set: &MetricSet, selector: &str, stat: Stat) -> Option<f64> {
    let key = MetricKey::parse(selector).ok()?;
    match set.get(&key)?.aggregate.lookup(stat) {
        Lookup::Value(value) => Some(value),
        _ => None,
    }
}

fn requests(set: &MetricSet, flow: &str) -> Option<u64> {
    let key = MetricKey::parse(&format!("http_req_failed{{flow:{flow}}}")).ok()?;
    set.get(&key)?.aggregate.sample_count()
}

/// The flows either run measured (from `http_req_duration{flow:...}`).
pub fn flows(a: &MetricSet, b: &MetricSet) -> BTreeSet<String> {
    a.metrics
        .keys()
        .chain(b.metrics.keys())
        .filter(|k| k.name == "http_req_duration" && k.tags.len() == 1)
        .filter_map(|k| k.tag("flow").map(str::to_string))
        .collect()
}

fn cell(a: Option<f64>, b: Option<f64>, show: impl Fn(f64) -> String) -> String {
    match (a, b) {
        (Some(a), Some(b)) => {
            // One form for every change: a percentage, "+0.0%" when equal.
            let change = if a != 0.0 {
                format!("{:+.1}%", (b - a) / a * 100.0)
            } else if b == 0.0 {
                "+0.0%".into()
            } else {
                "new".into()
            };
            format!("{} → {} ({change})", show(a), show(b))
        }
        (Some(a), None) => format!("{} → -", show(a)),
        (None, Some(b)) => format!("- → {}", show(b)),
        (None, None) => "-".into(),
    }
}

pub fn render(a: &MetricSet, b: &MetricSet) -> String {
    let ms = |v: f64| format!("{v:.2} ms");
    let pct = |v: f64| format!("{:.2}%", v * 100.0);
    let rps = |v: f64| format!("{v:.1}/s");
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_header(vec!["Flow", "p50", "p95", "p99", "Errors", "Checks", "Throughput"]);
    let (duration_a, duration_b) = (duration_secs(a), duration_secs(b));
    for flow in flows(a, b) {
        let trend = format!("http_req_duration{{flow:{flow}}}");
        let throughput = |set: &MetricSet, duration: Option<f64>| Some(requests(set, &flow)? as f64 / duration?);
        table.add_row(vec![
            crate::escape::line(&flow),
            cell(figure(a, &trend, Stat::Med), figure(b, &trend, Stat::Med), ms),
            cell(figure(a, &trend, Stat::Percentile(95.0)), figure(b, &trend, Stat::Percentile(95.0)), ms),
            cell(figure(a, &trend, Stat::Percentile(99.0)), figure(b, &trend, Stat::Percentile(99.0)), ms),
            cell(
                figure(a, &format!("http_req_failed{{flow:{flow}}}"), Stat::Rate),
                figure(b, &format!("http_req_failed{{flow:{flow}}}"), Stat::Rate),
                pct,
            ),
            cell(
                figure(a, &format!("checks{{flow:{flow}}}"), Stat::Rate),
                figure(b, &format!("checks{{flow:{flow}}}"), Stat::Rate),
                pct,
            ),
            cell(throughput(a, duration_a), throughput(b, duration_b), rps),
        ]);
    }
    let mut notes = String::new();
    let lacks_p99 = |set: &MetricSet| {
        flows(a, b)
            .iter()
            .any(|flow| figure(set, &format!("http_req_duration{{flow:{flow}}}"), Stat::Percentile(99.0)).is_none())
    };
    for (label, set) in [("A", a), ("B", b)] {
        if lacks_p99(set) {
            notes.push_str(&format!(
                "note: {label} has no p(99) (a k6 summary carries it only with --summary-trend-stats \"...,p(99)\"; give the raw results instead): shown as -\n"
            ));
        }
    }
    let significance = significance_table(a, b);
    format!(
        "A: {} ({})\nB: {} ({})\n{table}\n{notes}{significance}",
        crate::escape::line(&a.path),
        a.format,
        crate::escape::line(&b.path),
        b.format
    )
}

/// The level at which compare calls a shift real.
const LEVEL: f64 = 0.01;

fn samples<'a>(set: &'a MetricSet, flow: &str) -> Option<&'a Distribution> {
    set.distributions.get(&MetricKey::parse(&format!("http_req_duration{{flow:{flow}}}")).ok()?)
}

/// The percentiles compare shows, as fractions: the Shift verdict tests the tail beyond each.
const SHOWN: [f64; 3] = [0.5, 0.95, 0.99];

/// The Shift verdict of B against A, by verify's one rule (`told_shift`: the whole
/// distributions and the tail beyond each shown percentile; finding round33-judge/02: the
/// whole test alone called a 4x tail regression noise), asked one-sided in each direction at
/// half the level, so the pair is a two-sided test at `LEVEL`. Where the sizes cannot reach
/// that level it cannot tell (finding round33-judge/01), never noise: Err holds what the cell
/// says then.
fn shift_verdict(a: &Distribution, b: &Distribution) -> Result<String, String> {
    let below = |p: f64| p < LEVEL / 2.0;
    let mut moved = Vec::new();
    for (direction, word) in [(Direction::Greater, "slower"), (Direction::Less, "faster")] {
        let mut real = false;
        for q in SHOWN {
            match told_shift(a, b, direction, StatisticTest::Quantile(q), None, below) {
                Ok(shift) => real |= shift.real,
                Err(Untold::NoSamples) => return Err("-".into()),
                Err(Untold::Untested { why }) => return Err(format!("cannot tell ({why})")),
                Err(Untold::Unreachable { .. }) => {
                    let needed = samples_needed(LEVEL / 2.0, direction)
                        .map_or("more samples than any run holds".into(), |n| {
                            format!("needs at least {n} in each run")
                        });
                    return Err(format!("cannot tell ({} vs {} samples; {needed})", a.count(), b.count()));
                }
            }
        }
        if real {
            moved.push(word);
        }
    }
    Ok(match moved.as_slice() {
        [] => "none (noise)".into(),
        [one] => format!("{one} (real)"),
        _ => "slower and faster (real)".into(),
    })
}

/// Per flow: each percentile's change with its 95 % interval, and the test over every sample.
fn significance_table(a: &MetricSet, b: &MetricSet) -> String {
    let flows = flows(a, b);
    let without: Vec<String> = [("A", a), ("B", b)]
        .iter()
        .filter(|(_, set)| flows.iter().any(|flow| samples(set, flow).is_none()))
        .map(|(label, set)| format!("{label} ({})", set.format))
        .collect();
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    table.set_header(vec!["Flow", "Δ p50 [95% CI]", "Δ p95 [95% CI]", "Δ p99 [95% CI]", "Mann-Whitney p", "Shift"]);
    let mut rows = 0;
    for flow in &flows {
        let (Some(da), Some(db)) = (samples(a, flow), samples(b, flow)) else { continue };
        let shift = shift_verdict(da, db);
        let told = shift.is_ok();
        let change = |q: f64| -> String {
            let (Some(qa), Some(qb)) = (da.quantile(q), db.quantile(q)) else { return "-".into() };
            match quantile_difference_ci(da, db, q, 0.95, 2000) {
                // Where the samples cannot tell a shift, the interval is shown without a verdict:
                // a bootstrap of one sample per run is one point, no evidence of anything.
                Some((low, high)) if !told => format!("{:+.2} ms [{low:+.2}, {high:+.2}]", qb - qa),
                Some((low, high)) => {
                    let real = if low > 0.0 || high < 0.0 { "significant" } else { "not significant" };
                    format!("{:+.2} ms [{low:+.2}, {high:+.2}] {real}", qb - qa)
                }
                None => format!("{:+.2} ms", qb - qa),
            }
        };
        let p = mann_whitney(da, db, Direction::TwoSided).map_or("-".into(), |t| show_p_value(t.p_value));
        let shift = shift.unwrap_or_else(|untold| untold);
        table.add_row(vec![crate::escape::line(flow), change(0.5), change(0.95), change(0.99), p, shift]);
        rows += 1;
    }
    let mut text = String::new();
    if rows > 0 {
        text.push_str(&format!(
            "Significance of B against A, from every sample (95% bootstrap intervals; Mann-Whitney U over every sample, two-sided; Shift by verify's significant() rule, the whole and the tail beyond each percentile, each direction below p = {}):\n{table}\n",
            LEVEL / 2.0
        ));
    }
    if !without.is_empty() {
        text.push_str(&format!(
            "note: no significance test: {} {} no samples (give k6 raw results from --out json, or a native run's summary)\n",
            without.join(" and "),
            if without.len() == 1 { "carries" } else { "carry" }
        ));
    }
    text
}
