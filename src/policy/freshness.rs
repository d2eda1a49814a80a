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
use crate::policy::{Coverage, Freshness, Policy};

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
/// no hole: at every step the newest sample (of any series) is younger than `max_age` by more
/// than a step (the hole may be a step longer than a step sees: `longest_hole`), and there is
/// one at every step.
fn check_gaps(spec: &Freshness, evidence: &Evidence, row: &mut Row) {
    let (Some((age_query, steps_query)), Some(window)) = (spec.gap_queries(), spec.up_for.as_deref()) else {
        return;
    };
    let no_data = |row: &mut Row, why: String| {
        row.status = Status::NoData;
        row.blocking = true;
        row.detail = Some(why);
    };
    match partial_of(&[age_query.clone(), steps_query.clone()], evidence) {
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
    let (Some(oldest), Some(steps)) = (value(&age_query), value(&steps_query)) else {
        return no_data(
            row,
            format!("whether {} had a hole in the {window} cannot be told (no answer)", spec.selector),
        );
    };
    let window_secs = crate::metrics::clock::parse_duration(window).map(|d| d.as_secs()).unwrap_or(0);
    let expected = (window_secs / super::GAP_STEP_SECS) as f64;
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
                "{} may have gone up to {} without a new sample within the {window} (its newest sample was {} old at a step of {}), not under the {} allowed: a hole, not up for the whole window",
                spec.selector,
                shown(longest),
                shown(longest - Decimal::from(super::GAP_STEP_SECS)),
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

/// The longest a hole may have been, from the oldest age the gap query's steps saw: a step
/// sees the newest sample's age at its own time only, and the next sample may come up to a
/// step later, so the hole is up to one step longer than what was seen (finding
/// round27-judge/02: a 134 s hole read 120 s at the 15 s steps, and passed `max_age = "2m"`).
/// None when the age is no exact decimal (it cannot be judged).
fn longest_hole(oldest_seen_secs: f64) -> Option<Decimal> {
    crate::metrics::figure::to_decimal(oldest_seen_secs)?.checked_add(Decimal::from(super::GAP_STEP_SECS))
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

/// Why a query figure's window is not covered well enough to be judged, or the coverage found.
pub fn check_coverage(coverage: &Coverage, evidence: &Evidence) -> Result<String, String> {
    let partial = partial_of(&[coverage.query()], evidence).map_err(|why| format!("window coverage: {why}"))?;
    // The fewest steps of the window any series covers (see `Coverage::query`): the share of
    // the window's time with a sample no older than the declared interval.
    let covered_steps = evidence
        .queries
        .get(&coverage.query())
        .and_then(|r| r.series.iter().map(|s| s.value).filter(|v| v.is_finite()).reduce(f64::min));
    let Some(covered_steps) = covered_steps else {
        return Err(format!(
            "no samples of {} in the {} window: its coverage cannot be known",
            coverage.selector, coverage.window_text
        ));
    };
    let steps = coverage.steps();
    let covered_steps = covered_steps.clamp(0.0, steps);
    let covered = covered_steps / steps;
    let shown = format!(
        "{}% of the {} window ({covered_steps} of {steps} steps of {} within {} of a sample)",
        (covered * 1000.0).floor() / 10.0,
        coverage.window_text,
        show_step(coverage.step()),
        show_age(coverage.interval)
    );
    if covered + 1e-9 < coverage.min {
        Err(format!(
            "the series {} covers only {shown}; the threshold was written for at least {}",
            coverage.selector, coverage.min_text
        ))
    } else {
        Ok(match partial {
            Some(note) => format!("coverage {shown} ({note})"),
            None => format!("coverage {shown}"),
        })
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
        /// Rule (finding round27-judge/02): a hole is never judged shorter than it may be. Two
        /// samples `hole` ms apart, anywhere against the 15 s step grid: the oldest age the
        /// steps see plus one step is at least the hole, so a hole that passes is strictly
        /// under `max_age`, with the freshness row's strict boundary.
        #[test]
        fn a_hole_that_passes_is_under_max_age(start in 0i64..15_000, hole in 1i64..600_000, max_age_s in 1u64..600) {
            let step = i64::try_from(crate::policy::GAP_STEP_SECS).unwrap() * 1000;
            let next = start + hole;
            // Steps from the first sample to the second (after it, the age restarts).
            let first_step = (start + step - 1) / step * step;
            let seen = (0..).map(|i| first_step + i * step).take_while(|t| *t < next + step)
                .map(|t| if t >= next { t - next } else { t - start })
                .max().unwrap();
            let oldest = seen as f64 / 1000.0;
            let longest = longest_hole(oldest).unwrap();
            proptest::prop_assert!(longest >= Decimal::new(hole, 3), "hole {} ms read as at most {}", hole, longest);
            let max_age = Duration::from_secs(max_age_s);
            if younger_than(longest, max_age) {
                proptest::prop_assert!(Duration::from_millis(hole.unsigned_abs()) < max_age);
            }
        }
    }

    #[test]
    fn an_age_of_exactly_max_age_is_not_younger() {
        let max_age = Duration::from_secs(120);
        assert!(!younger_than(seconds(max_age), max_age));
        assert!(younger_than(Decimal::new(119_999, 3), max_age));
        // The repro's hole: 134 s, seen as 120 s at the step before the next sample.
        assert!(!younger_than(longest_hole(120.0).unwrap(), max_age));
        assert!(!younger_than(longest_hole(105.0).unwrap(), max_age));
        assert!(younger_than(longest_hole(104.999).unwrap(), max_age));
    }

    /// The class: whichever query a figure rests on (gate query, newest sample, `up_for`,
    /// coverage), a partial answer blocks unless accepted, and then shows on a row.
    mod partial_answers {
        use super::*;
        use crate::policy::evaluate::{evaluate, Series};
        use proptest::prelude::*;

        const POLICY: &str =
            "[[gate]]\nid = \"pool\"\nquery = 'max(pool)'\nunit = \"number\"\nthresholds = [\"value < 10000000000\"]\n\
            min_coverage = \"90%\"\ncoverage = { selector = 'pool', window = \"10m\", interval = \"15s\" }\n\
            [[freshness]]\nid = \"api-fresh\"\nselector = 'up'\nmax_age = \"2m\"\nup_for = \"10m\"\n";
        const T: i64 = 1_767_225_600;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            #[test]
            fn a_partial_answer_never_passes_silently(warns in proptest::collection::vec(any::<bool>(), 7), accept in any::<bool>()) {
                let policy = crate::policy::parse("p.toml", "p", POLICY).unwrap();
                let queries: Vec<String> = policy.queries().into_iter().map(|(_, q)| q).collect();
                // The gate, its coverage, the newest sample, its search, up_for and its two
                // hole queries.
                prop_assert_eq!(queries.len(), 7);
                let search = policy.freshness[0].search_query();
                let (oldest, steps) = policy.freshness[0].gap_queries().unwrap();
                let mut evidence = Evidence {
                    evaluated_at_unix: Some(T),
                    accept_partial_responses: accept,
                    ..Evidence::default()
                };
                for (query, warn) in queries.iter().zip(&warns) {
                    // No hole: the newest sample at most 30 s old at each of the 40 steps.
                    let value = if *query == oldest { 30.0 } else if *query == steps { 40.0 } else { T as f64 };
                    evidence.queries.insert(query.clone(), QueryResult {
                        series: vec![Series { labels: Default::default(), value }],
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
