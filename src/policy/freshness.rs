//! Stale evidence never passes: freshness rows and window coverage for query evidence.
//!
//! A dashboard check that is green because the data stopped is the most dangerous green there
//! is: `max_over_time(x[10m])` at T+9m judges the one minute of data left in its window, and
//! an error ratio over 24 h keeps passing for hours on data that stopped arriving. So a policy
//! declares what fresh means — the newest sample of a selector (the API's `up`) younger than a
//! maximum age at the evaluation time, optionally up for a whole window — and a gate may
//! declare the share of its window its series must cover. Both are decided here from query
//! results gathered beforehand; no I/O.

use std::time::Duration;

use rust_decimal::Decimal;

use crate::metrics::Provenance;
use crate::policy::evidence::{Evidence, QueryResult};
use crate::policy::verdict::{Observed, Row, Status};
use crate::policy::{query_window, Coverage, Freshness, Policy};

/// The subject of every freshness row, so the on-call view can list the ages.
const NEWEST_SAMPLE_OF: &str = "newest sample of ";

/// One line per freshness row: what `check --watch` prints every round, so a stalled scrape
/// shows at once.
pub fn age_lines(verdict: &crate::policy::verdict::Verdict) -> Vec<String> {
    verdict
        .rows
        .iter()
        .filter_map(|row| {
            let selector = row.subject.strip_prefix(NEWEST_SAMPLE_OF)?;
            let age = match (&row.observed, row.status) {
                (Observed::Figure { shown, .. }, _) => shown.clone(),
                (_, Status::Skipped) => "not checked (no query figures)".to_string(),
                _ => "no sample found".to_string(),
            };
            Some(format!("data age: {} newest sample of {selector}: {age} ({})", row.gate, row.status))
        })
        .collect()
}

/// One row per freshness requirement (and one more for `up_for`), when query evidence was
/// used; SKIPPED when no figure came from Prometheus.
pub fn rows(policy: &Policy, evidence: &Evidence, rows: &mut Vec<Row>) {
    for spec in &policy.freshness {
        let mut row = Row::new(
            &spec.id,
            &spec.description,
            format!("{NEWEST_SAMPLE_OF}{}", spec.selector),
            format!("age < {}", show_age(spec.max_age)),
        );
        let Some(at) = evidence.evaluated_at_unix.filter(|_| !evidence.queries.is_empty()) else {
            row.status = Status::Skipped;
            row.detail = Some("no figure came from Prometheus: there is no query evidence to be stale".into());
            rows.push(row);
            continue;
        };
        row.source = query_source(&spec.newest_query(), evidence.queries.get(&spec.newest_query()));
        let newest = newest_sample(spec, evidence);
        // The answers the age rests on: the exact query's, and the search's when it was used.
        let used = match newest {
            Some((_, true)) => vec![spec.newest_query()],
            _ => vec![spec.newest_query(), spec.search_query()],
        };
        match (newest, partial_of(&used, evidence)) {
            (_, Err(why)) => {
                row.status = Status::NoData;
                row.blocking = true;
                row.detail = Some(why);
            }
            (None, _) => {
                row.status = Status::NoData;
                row.blocking = true;
                row.detail = Some(format!(
                    "no sample of {} in the last {} before {}: the target or its scrape is down, or the selector is wrong",
                    spec.selector,
                    spec.search,
                    crate::metrics::rfc3339(at)
                ));
            }
            (Some((newest, _)), Ok(_)) if crate::metrics::clock::age(at, newest).is_err() => {
                let why = crate::metrics::clock::age(at, newest).err().map(|e| e.to_string()).unwrap_or_default();
                row.status = Status::NoData;
                row.blocking = true;
                row.detail = Some(format!("the newest sample of {} is dated {newest}: {why}", spec.selector));
            }
            (Some((newest, exact)), Ok(note)) => {
                row.detail = note;
                let age = crate::metrics::clock::age(at, newest).unwrap_or(Duration::MAX);
                row.samples = None;
                row.observed = Observed::Figure {
                    value: age.as_secs_f64() * 1000.0,
                    unit: "ms",
                    shown: format!("{} old", show_age(age)),
                };
                let when = crate::metrics::rfc3339(newest as i64);
                if younger_than(seconds(age), spec.max_age) {
                    row.status = Status::Pass;
                } else {
                    row.status = Status::Fail;
                    row.blocking = true;
                    row.detail = Some(format!(
                        "the newest sample of {} is {} old (at {when}{}), over the {} allowed: the data stopped arriving",
                        spec.selector,
                        show_age(age),
                        if exact { "" } else { ", found by a subquery" },
                        show_age(spec.max_age)
                    ));
                }
            }
        }
        rows.push(row);
        if let Some(query) = spec.up_query() {
            let mut row = up_row(spec, &query, evidence);
            if row.status == Status::Pass {
                check_gaps(spec, evidence, &mut row);
            }
            rows.push(row);
        }
    }
}

/// The newest sample's unix time: exactly, within Prometheus's lookback, else from the search
/// subquery (to its step). The flag says which.
fn newest_sample(spec: &Freshness, evidence: &Evidence) -> Option<(f64, bool)> {
    let finite_max = |result: Option<&QueryResult>| {
        result?.series.iter().map(|s| s.value).filter(|v| v.is_finite()).reduce(f64::max)
    };
    finite_max(evidence.queries.get(&spec.newest_query()))
        .map(|t| (t, true))
        .or_else(|| finite_max(evidence.queries.get(&spec.search_query())).map(|t| (t, false)))
}

/// A window that read "up" from the samples it has is up for the whole window only when it has
/// no hole: no stretch without a new sample (of any series) as long as `max_age`, measured as
/// long as it may be (`longest_hole`), and a sample at every step.
fn check_gaps(spec: &Freshness, evidence: &Evidence, row: &mut Row) {
    let (Some((age_query, steps_query)), Some(grid_query), Some(window)) =
        (spec.gap_queries(), spec.gap_grid_query(), spec.up_for.as_deref())
    else {
        return;
    };
    let no_data = |row: &mut Row, why: String| {
        row.status = Status::NoData;
        row.blocking = true;
        row.detail = Some(why);
    };
    match partial_of(&[age_query.clone(), steps_query.clone(), grid_query.clone()], evidence) {
        Err(why) => return no_data(row, why),
        // An accepted partial answer shows on the row, as every other query's does.
        Ok(Some(note)) => {
            row.detail = Some(match row.detail.take() {
                Some(detail) if !detail.contains(&note) => format!("{detail}; {note}"),
                Some(detail) => detail,
                None => note,
            })
        }
        Ok(None) => {}
    }
    let value = |query: &str| {
        evidence
            .queries
            .get(query)
            .and_then(|r| r.series.iter().map(|s| s.value).filter(|v| v.is_finite()).reduce(f64::max))
    };
    let (Some(oldest), Some(steps), Some(expected)) = (value(&age_query), value(&steps_query), value(&grid_query))
    else {
        return no_data(
            row,
            format!("whether {} had a hole in the {window} cannot be told (no answer)", spec.selector),
        );
    };
    // Steps with a sample out of those the grid holds; more than it holds is no count of it.
    if steps > expected {
        return no_data(
            row,
            format!(
                "whether {} had a hole in the {window} cannot be told: {steps} steps with a sample of {expected} the window holds",
                spec.selector
            ),
        );
    }
    let Some(longest) = longest_hole(oldest) else {
        return no_data(
            row,
            format!("whether {} had a hole in the {window} cannot be told (its age reads {oldest})", spec.selector),
        );
    };
    let hole = !younger_than(longest, spec.max_age);
    if hole || steps < expected {
        row.status = Status::Fail;
        row.blocking = true;
        row.detail = Some(if steps < expected {
            format!(
                "{} had no sample at all for part of the {window} (at {steps} of {expected} steps of {}): a hole, not up for the whole window",
                spec.selector,
                super::GAP_STEP
            )
        } else {
            // An outside number: converted without a panic, however large.
            let shown = |secs: Decimal| {
                show_age(
                    rust_decimal::prelude::ToPrimitive::to_f64(&secs)
                        .and_then(|secs| Duration::try_from_secs_f64(secs.max(0.0)).ok())
                        .unwrap_or(crate::metrics::clock::LONGEST_DURATION),
                )
            };
            format!(
                "{} may have gone up to {} without a new sample within the {window} (measured to the {} step), not under the {} allowed: a hole, not up for the whole window",
                spec.selector,
                shown(longest),
                super::GAP_STEP,
                show_age(spec.max_age)
            )
        });
    }
}

/// The one freshness boundary, for the newest sample's age and for a hole in `up_for`'s
/// window alike: an age passes only strictly under the maximum (one of exactly `max_age`
/// breaches), compared exactly in seconds.
fn younger_than(age_secs: Decimal, max_age: Duration) -> bool {
    age_secs < seconds(max_age)
}

/// A duration as exact decimal seconds.
fn seconds(duration: Duration) -> Decimal {
    Decimal::from_i128_with_scale(i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX), 9)
}

/// The longest a hole may have been, in exact seconds, from the gap query's answer: the most
/// the newest sample moved between two steps (`Freshness::gap_queries`), which is at least
/// every hole that closed between them, never the age a step happened to see (finding
/// round27-judge/02: a 134 s hole read 120 s at the 15 s steps, and passed `max_age = "2m"`).
/// None when the answer is no exact decimal (it cannot be judged).
fn longest_hole(moved_secs: f64) -> Option<Decimal> {
    crate::metrics::figure::to_decimal(moved_secs)
}

fn up_row(spec: &Freshness, query: &str, evidence: &Evidence) -> Row {
    let window = spec.up_for.as_deref().unwrap_or_default();
    let mut row = Row::new(
        &spec.id,
        &spec.description,
        format!("{} over {window}", spec.selector),
        format!("up for the whole {window}"),
    );
    let result = evidence.queries.get(query);
    row.source = query_source(query, result);
    let note = match partial_of(&[query.to_string()], evidence) {
        Ok(note) => note,
        Err(why) => {
            row.status = Status::NoData;
            row.blocking = true;
            row.detail = Some(why);
            return row;
        }
    };
    row.detail = note;
    match result.and_then(|r| r.series.iter().map(|s| s.value).filter(|v| !v.is_nan()).reduce(f64::min)) {
        Some(value) => {
            row.observed = Observed::Figure { value, unit: "number", shown: format!("min {value}") };
            if value >= 1.0 {
                row.status = Status::Pass;
            } else {
                row.status = Status::Fail;
                row.blocking = true;
                row.detail = Some(format!("{} was not 1 for the whole {window} (min {value})", spec.selector));
            }
        }
        None => {
            row.status = Status::NoData;
            row.blocking = true;
            row.detail = Some(format!("no sample of {} in the last {window}", spec.selector));
        }
    }
    row
}

/// Why a query figure's window is not covered well enough to be judged, or the coverage found:
/// every span coverage is measured over (`Coverage::spans`: the declared window and each
/// stretch the gate's queries read) must be covered, the first that is not says why.
pub fn check_coverage(coverage: &Coverage, evidence: &Evidence) -> Result<String, String> {
    let partial = partial_of(&coverage.queries(), evidence).map_err(|why| format!("window coverage: {why}"))?;
    let shown = coverage
        .spans
        .iter()
        .map(|span| span_coverage(coverage, *span, evidence).map(|shown| format!("coverage {shown}")))
        .collect::<Result<Vec<_>, _>>()?
        .join("; ");
    Ok(match partial {
        Some(note) => format!("{shown} ({note})"),
        None => shown,
    })
}

/// The coverage of one span, shown, or why it is too low or cannot be known.
fn span_coverage(coverage: &Coverage, span: query_window::Read, evidence: &Evidence) -> Result<String, String> {
    let window = coverage.span_text(span);
    // The fewest steps of the span any series covers (see `Coverage::query_over`): the share
    // of the span's time with a sample no older than the declared interval.
    let covered_steps = evidence
        .queries
        .get(&coverage.query_over(span))
        .and_then(|r| r.series.iter().map(|s| s.value).filter(|v| v.is_finite()).reduce(f64::min));
    let Some(covered_steps) = covered_steps else {
        return Err(format!("no samples of {} in the {window}: its coverage cannot be known", coverage.selector));
    };
    // Out of the steps the server's grid holds at the evaluation time (`grid_query_over`),
    // never a number computed here: a count is never clamped to fit a denominator.
    let steps = evidence
        .queries
        .get(&coverage.grid_query_over(span))
        .and_then(|r| r.series.iter().map(|s| s.value).find(|v| v.is_finite() && *v >= 1.0));
    let exact = |count: f64| crate::metrics::figure::to_decimal(count).filter(|c| c.fract().is_zero());
    let (Some(steps), Some(covered_exact), Some(steps_exact)) = (steps, exact(covered_steps), steps.and_then(exact))
    else {
        return Err(format!(
            "the steps of the {window} cannot be counted ({covered_steps} covered): its coverage cannot be known"
        ));
    };
    if covered_exact < Decimal::ZERO || covered_exact > steps_exact {
        return Err(format!(
            "{} covers {covered_steps} steps of the {steps} its {window} holds: its coverage cannot be known",
            coverage.selector
        ));
    }
    let covered = covered_steps / steps;
    let shown = format!(
        "{}% of the {window} ({covered_steps} of {steps} steps of {} within {} of a sample)",
        (covered * 1000.0).floor() / 10.0,
        show_step(coverage.step()),
        show_age(coverage.interval)
    );
    // covered / steps < min, exactly: covered < min × steps.
    if covered_exact < coverage.min * steps_exact {
        Err(format!(
            "the series {} covers only {shown}; the threshold was written for at least {}",
            coverage.selector, coverage.min_text
        ))
    } else {
        Ok(shown)
    }
}

/// `QueryResult::partial` over the answers these queries got: the first refusal, else the
/// notes of accepted partial answers.
fn partial_of(queries: &[String], evidence: &Evidence) -> Result<Option<String>, String> {
    let mut notes = Vec::new();
    for result in queries.iter().filter_map(|q| evidence.queries.get(q)) {
        notes.extend(result.partial(evidence.accept_partial_responses)?);
    }
    notes.dedup();
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

fn query_source(query: &str, result: Option<&QueryResult>) -> String {
    match result {
        Some(result) => Provenance::Query { query: query.to_string(), at: result.at.clone() }.to_string(),
        None => format!("promql: {query}"),
    }
}

/// A step as people read it: "15s", "3.75s".
fn show_step(step: Duration) -> String {
    if step.subsec_nanos() == 0 {
        show_age(step)
    } else {
        format!("{}s", step.as_secs_f64())
    }
}

/// "4m 12s", "2m", "45s": ages as on-call reads them.
pub fn show_age(age: Duration) -> String {
    let seconds = age.as_secs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s}s"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(show_age(Duration::from_secs(252)), "4m 12s");
        assert_eq!(show_age(Duration::from_secs(120)), "2m");
        assert_eq!(show_age(Duration::from_secs(0)), "0s");
        assert_eq!(show_age(Duration::from_secs(3 * 3600 + 5)), "3h 5s");
    }

    proptest::proptest! {
        /// Rule (finding round27-judge/02): a hole is never judged shorter than it was. Samples
        /// at any times against the 15 s step grid, evaluated at any time: the gap query's
        /// measure (how far the newest sample moved between steps, and over the last step to
        /// the evaluation time) is at least every hole that closed in the window, so a hole
        /// that passes the strict boundary is under `max_age`.
        #[test]
        fn a_hole_that_passes_is_under_max_age(
            gaps in proptest::collection::vec(1i64..200_000, 1..40),
            at_past_last in 0i64..30_000,
            max_age_s in 1u64..300,
        ) {
            let step = i64::try_from(crate::policy::GAP_STEP_SECS).unwrap() * 1000;
            let mut samples = vec![0i64];
            for gap in &gaps {
                samples.push(samples.last().unwrap() + gap);
            }
            let at = samples.last().unwrap() + at_past_last;
            let window = 600_000;
            // The newest sample at or before t (None before the first).
            let newest = |t: i64| samples.iter().copied().filter(|s| *s <= t).max();
            let moved = |t: i64| Some(newest(t)? - newest(t - step)?);
            let first_step = (at - window + step - 1).div_euclid(step) * step;
            let mut grid: Vec<i64> = (0..).map(|i| first_step + i * step).take_while(|t| *t <= at).filter_map(moved).collect();
            grid.extend(moved(at));
            let Some(measured) = grid.into_iter().max() else { return Ok(()) };
            let longest = longest_hole(measured as f64 / 1000.0).unwrap();
            // Every hole that closed inside the window (its end in (at - window, at]).
            let closed = samples.windows(2).filter(|w| w[1] > at - window).map(|w| w[1] - w[0]).max().unwrap_or(0);
            proptest::prop_assert!(longest >= Decimal::new(closed, 3), "hole {} ms measured as {} s", closed, longest);
            let max_age = Duration::from_secs(max_age_s);
            if younger_than(longest, max_age) {
                proptest::prop_assert!(Duration::from_millis(closed.unsigned_abs()) < max_age);
            }
        }
    }

    proptest::proptest! {
        /// Rule (finding round27-judge/03): coverage is the count of covered steps out of the
        /// steps the server's grid holds, compared exactly with `min_coverage`; a count above
        /// the grid's is never clamped into a pass, and a grid that cannot be counted is no
        /// coverage.
        #[test]
        fn coverage_is_covered_steps_of_the_grids_steps_exactly(
            grid in 1u32..2000,
            covered in 0u32..2100,
            percent in 1u32..=100,
            answered in proptest::bool::weighted(0.9),
        ) {
            let policy = crate::policy::parse("p.toml", "p", &format!(
                "[[gate]]\nid = \"pool\"\nquery = 'max(max_over_time(pool[10m]))'\nunit = \"number\"\nthresholds = [\"value < 10\"]\n\
                 min_coverage = \"{percent}%\"\ncoverage = {{ selector = 'pool', window = \"10m\", interval = \"1m\" }}\n"
            )).unwrap();
            let coverage = policy.gates[0].coverage.clone().unwrap();
            let [count_query, grid_query]: [String; 2] = coverage.queries().try_into().unwrap();
            let mut evidence = Evidence::default();
            let answer = |value: f64| QueryResult {
                series: vec![crate::policy::evaluate::Series { labels: Default::default(), value }],
                at: "2026-01-01T00:00:00Z".into(),
                warnings: vec![],
                histograms: vec![],
            };
            evidence.queries.insert(count_query, answer(f64::from(covered)));
            if answered {
                evidence.queries.insert(grid_query, answer(f64::from(grid)));
            }
            let judged = check_coverage(&coverage, &evidence);
            let enough = covered <= grid && u64::from(covered) * 100 >= u64::from(percent) * u64::from(grid);
            proptest::prop_assert_eq!(judged.is_ok(), answered && enough, "{} of {} at {}%: {:?}", covered, grid, percent, judged);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Rule (finding round35-judge/01): a gate with coverage passes only where the samples
        /// cover every stretch its query reads (`[r] offset o`, measured here from r and o
        /// alone) and the declared window, whatever the declared window is; each span's
        /// answer is what Prometheus would count over it (a sample every 15 s but in a gap).
        #[test]
        fn coverage_holds_every_stretch_the_query_reads(
            range_m in 1u64..60,
            offset_m in proptest::prop_oneof![2 => proptest::strategy::Just(0u64), 3 => 1u64..30],
            window_m in 1u64..60,
            gap in (0u64..100, 0u64..40),
        ) {
            const AT_MS: i64 = 1_767_225_600_000;
            let (gap_near, gap_far) = (gap.0 as i64 * 60_000, (gap.0 + gap.1) as i64 * 60_000);
            let offset = if offset_m == 0 { String::new() } else { format!(" offset {offset_m}m") };
            let policy = crate::policy::parse("p.toml", "p", &format!(
                "[[gate]]\nid = \"backlog\"\nquery = 'max_over_time(backlog[{range_m}m]{offset})'\nunit = \"number\"\n\
                 thresholds = [\"value < 10\"]\nmin_coverage = \"90%\"\n\
                 coverage = {{ selector = 'backlog', window = \"{window_m}m\", interval = \"15s\" }}\n"
            )).unwrap();
            let coverage = policy.gates[0].coverage.clone().unwrap();
            let (step, interval) = (3_750i64, 15_000i64);
            // The newest sample at or before t: every 15 s, none strictly inside the gap.
            let newest = |t: i64| {
                let on_grid = t.div_euclid(interval) * interval;
                if on_grid > AT_MS - gap_far && on_grid < AT_MS - gap_near {
                    (AT_MS - gap_far).div_euclid(interval) * interval
                } else {
                    on_grid
                }
            };
            // (covered steps, steps) of the grid `[far - near : step] offset near` at AT.
            let count = |near_ms: i64, far_ms: i64| {
                let first = (AT_MS - far_ms + step - 1).div_euclid(step) * step;
                let steps: Vec<i64> = (0..).map(|i| first + i * step).take_while(|t| *t <= AT_MS - near_ms).collect();
                let covered = steps.iter().filter(|t| **t - newest(**t) <= interval + step).count();
                (covered as f64, steps.len() as f64)
            };
            let mut evidence = Evidence::default();
            let answer = |value: f64| QueryResult {
                series: vec![crate::policy::evaluate::Series { labels: Default::default(), value }],
                at: "2026-01-01T00:00:00Z".into(),
                warnings: vec![],
                histograms: vec![],
            };
            for span in &coverage.spans {
                let (covered, steps) = count(span.near.as_millis() as i64, span.far.as_millis() as i64);
                evidence.queries.insert(coverage.query_over(*span), answer(covered));
                evidence.queries.insert(coverage.grid_query_over(*span), answer(steps));
            }
            let enough = |(covered, steps): (f64, f64)| covered * 10.0 >= steps * 9.0;
            let read = count(offset_m as i64 * 60_000, (offset_m + range_m) as i64 * 60_000);
            let declared = count(0, window_m as i64 * 60_000);
            let judged = check_coverage(&coverage, &evidence);
            proptest::prop_assert_eq!(judged.is_ok(), enough(read) && enough(declared), "read {:?} declared {:?}: {:?}", read, declared, judged);
        }
    }

    #[test]
    fn an_age_of_exactly_max_age_is_not_younger() {
        let max_age = Duration::from_secs(120);
        assert!(!younger_than(seconds(max_age), max_age));
        assert!(younger_than(Decimal::new(119_999, 3), max_age));
        assert!(!younger_than(longest_hole(134.0).unwrap(), max_age));
        assert!(!younger_than(longest_hole(120.0).unwrap(), max_age));
        assert!(younger_than(longest_hole(119.999).unwrap(), max_age));
    }

    /// The class: whichever query a figure rests on (gate query, newest sample, `up_for`,
    /// coverage), a partial answer blocks unless accepted, and then shows on a row.
    mod partial_answers {
        use super::*;
        use crate::policy::evaluate::{evaluate, Series};
        use proptest::prelude::*;

        const POLICY: &str =
            "[[gate]]\nid = \"pool\"\nquery = 'max(max_over_time(pool[10m]))'\nunit = \"number\"\nthresholds = [\"value < 10000000000\"]\n\
            min_coverage = \"90%\"\ncoverage = { selector = 'pool', window = \"10m\", interval = \"15s\" }\n\
            [[freshness]]\nid = \"api-fresh\"\nselector = 'up'\nmax_age = \"2m\"\nup_for = \"10m\"\n";
        const T: i64 = 1_767_225_600;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            #[test]
            fn a_partial_answer_never_passes_silently(warns in proptest::collection::vec(any::<bool>(), 9), accept in any::<bool>()) {
                let policy = crate::policy::parse("p.toml", "p", POLICY).unwrap();
                let queries: Vec<String> = policy.queries().into_iter().map(|(_, q)| q).collect();
                // The gate, its coverage and its grid, the newest sample, its search, up_for,
                // its two hole queries and their grid.
                prop_assert_eq!(queries.len(), 9);
                let search = policy.freshness[0].search_query();
                let (oldest, steps) = policy.freshness[0].gap_queries().unwrap();
                let gap_grid = policy.freshness[0].gap_grid_query().unwrap();
                let [covered, coverage_grid]: [String; 2] = policy.gates[0].coverage.as_ref().unwrap().queries().try_into().unwrap();
                let mut evidence = Evidence {
                    evaluated_at_unix: Some(T),
                    accept_partial_responses: accept,
                    ..Evidence::default()
                };
                for (query, warn) in queries.iter().zip(&warns) {
                    // No hole: the newest sample at most 30 s old at each of the 40 steps; the
                    // coverage's 160 steps of 3.75 s all covered.
                    let value = if *query == oldest {
                        // The newest sample moved 30 s at most between steps.
                        30.0
                    } else if *query == steps || *query == gap_grid {
                        40.0
                    } else if *query == covered || *query == coverage_grid {
                        160.0
                    } else {
                        T as f64
                    };
                    evidence.queries.insert(query.clone(), QueryResult {
                        series: vec![Series { labels: Default::default(), value }],
                        histograms: vec![],
                        at: "2026-01-01T00:00:00Z".into(),
                        warnings: if *warn { vec![format!("partial: {query}")] } else { vec![] },
                    });
                }
                let verdict = evaluate(&policy, &evidence).unwrap();
                let used_warned: Vec<&String> =
                    queries.iter().zip(&warns).filter(|(q, w)| **w && **q != search).map(|(q, _)| q).collect();
                if accept {
                    prop_assert!(!verdict.blocked(), "{:?}", verdict.rows);
                    for query in used_warned {
                        let shown = verdict.rows.iter().any(|r| r.detail.as_deref().is_some_and(|d| d.contains(&format!("partial: {query}"))));
                        prop_assert!(shown, "{} not shown: {:?}", query, verdict.rows);
                    }
                } else {
                    prop_assert_eq!(verdict.blocked(), !used_warned.is_empty(), "{:?}", verdict.rows);
                }
            }
        }
    }
}
