//! The last accepted run, for thresholds relative to it (`p(95) <= baseline * 1.2`): a k6
//! summary of any shape, k6 raw results, or a gatecheck JSON report, detected from the content.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;
use crate::metrics::{MetricKey, MetricSet, RunIdentity};
use crate::policy::threshold::Stat;
use crate::policy::verdict::FigureFrom;

pub use crate::metrics::Baseline;

/// Reads a baseline. A baseline must be evidence of a passing, complete run: a gatecheck
/// report of a blocked run or of one that passed only by a waiver, a k6 summary whose own
/// thresholds failed (k6 exited 99), a partial native run, or one segment of a run of several
/// is refused (exit 2, naming why) unless `allow_blocked` (the user asked for it explicitly).
pub fn read(path: &Path, wanted: &[MetricKey], allow_blocked: bool) -> Result<Baseline, Error> {
    let shown = path.display().to_string();
    let refuse = |why: String| -> Result<(), Error> {
        match allow_blocked {
            true => Ok(()),
            false => Err(Error::Evidence {
                path: shown.clone(),
                message: format!(
                    "{why}: a baseline must be a passing, complete run (pass --baseline-allow-blocked to use it anyway)"
                ),
            }),
        }
    };
    if crate::sources::detect::detect(path)? == crate::sources::detect::InputFormat::RawResults {
        let (set, _) = crate::sources::k6_ndjson::read(&[path], wanted, false)?;
        let runs = RunIdentity::of(&set, wanted).into_iter().collect();
        return Ok(Baseline { source: shown, set: Some(set), runs, ..Baseline::default() });
    }
    let bytes = crate::input::read(path, "baseline")?;
    let document = serde_json::from_slice::<Value>(&bytes).ok();
    if let Some(report) = document.as_ref().filter(|r| r.get("schema_version").is_some() && r.get("gates").is_some()) {
        let outcome = report.get("outcome").and_then(Value::as_str).unwrap_or("unknown");
        use crate::sources::history::{standing, Standing};
        match standing(report) {
            _ if outcome != "pass" => refuse(format!("outcome is {outcome:?}"))?,
            Some(Standing::Waived(gates)) => {
                refuse(format!("the run passed only because waivers covered {}", gates.join(", ")))?
            }
            Some(Standing::Blocked) | None => refuse("a blocking row did not hold".into())?,
            Some(Standing::Clean) => {}
        }
        // The report says whether the evidence it judged could stand as a baseline (by the rule
        // a summary given directly meets), so judging a refused run under a policy that does
        // not look at k6's thresholds or partial runs never launders it into one.
        match report.get("baseline_unfit").and_then(Value::as_array) {
            None => refuse(
                "the report does not say whether its evidence can be a baseline (baseline_unfit; written by an older gatecheck): judge the run again".into(),
            )?,
            Some(why) => {
                for reason in why {
                    refuse(reason.as_str().unwrap_or("baseline_unfit: expected text").to_string())?;
                }
            }
        }
        let runs = report
            .get("evidence_runs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|token| RunIdentity::parse(token.as_str()?))
            .collect();
        let figures = from_report(&shown, report)?;
        return Ok(Baseline { source: shown.clone(), figures, set: None, runs, times: report_times(&shown, report)? });
    }
    let set = crate::sources::k6_summary::parse(&shown, &bytes)?;
    for why in set.unfit_as_baseline() {
        refuse(why)?;
    }
    let runs = RunIdentity::of(&set, wanted).into_iter().collect();
    Ok(Baseline { source: shown, set: Some(set), runs, ..Baseline::default() })
}

/// The times a report records of the run it judged (`run_span`, finding round18-judge/02): a
/// report is dated by them as its evidence would be, under the one rule of earlier runs
/// (`refuse_the_run_judged_now`). None recorded (its evidence recorded no time, or an older
/// gatecheck wrote it) is an undated baseline, as a summary recording no time is; a span that
/// is no pair of RFC 3339 times is refused (exit 2).
fn report_times(path: &str, report: &Value) -> Result<Vec<(crate::metrics::Moment, String)>, Error> {
    let Some(span) = report.get("run_span").filter(|span| !span.is_null()) else { return Ok(Vec::new()) };
    let mut times = Vec::new();
    for end in ["earliest", "latest"] {
        let text = span.get(end).and_then(Value::as_str);
        let Some((text, at)) = text.and_then(|text| Some((text, crate::metrics::Moment::parse(text)?))) else {
            return Err(Error::Evidence {
                path: path.into(),
                message: format!("run_span.{end}: expected an RFC 3339 time (gatecheck JSON report)"),
            });
        };
        times.push((at, format!("its run's {end} recorded time {text} (run_span.{end} of the report)")));
    }
    Ok(times)
}

/// A baseline is an earlier run to compare with: the run judged now (its summary, its raw
/// results, a report of it) compared with itself cannot regress, so every relative gate would
/// pass by construction. Refused (exit 2) whatever `--baseline-allow-blocked` says, when its
/// identity (`RunIdentity`) is that of any evidence judged now.
///
/// A report's identities were taken under its own policy's metrics, which may not be this
/// one's: a report is also the run judged now when it shows a latency statistic of this run and
/// every figure it shows is this run's, to the bit.
///
/// And by time, as spans (finding round15-judge/02: the first half of the run's own raw
/// results, its figures other than the whole run's, was accepted; round33-judge/03: a merged
/// summary recording its end alone took its first-ending shard as an earlier run): a baseline
/// whose span overlaps the judged run's, or lies after it, is refused. Where the baseline and
/// the evidence judged now record times of their runs (`MetricSet::recorded_times`: raw results' sample
/// times, a native run's start and end, a k6 summary's generation time; a report's `run_span`
/// of the evidence it judged, `Baseline::recorded_times`, finding round18-judge/02), the
/// baseline's latest
/// must lie before the judged evidence's earliest, or the baseline is not an earlier run — a
/// part of the run judged now (a prefix, a suffix, a copy taken while k6 was still writing),
/// a run overlapping it, or a later one. So a sample of the baseline met in the judged raw
/// results always refuses it. Compared only when certain: a time written to the second is any
/// instant of that second (`Moment`), so two runs one after another within a second are not
/// refused.
///
/// And where either records no time (a `--summary-export`, a legacy handleSummary), so the time
/// rule cannot tell: a baseline that shares a sample with the evidence judged now (an extreme
/// sample of either, to the nanosecond, that the other holds: `metrics::shared_sample`; a
/// report's min or max figure the judged evidence holds; a sample both identities name) is a
/// part of the run judged now, or the whole of it (finding round28-judge/01: an undated summary
/// took a prefix of its own raw results as an earlier run).
pub fn refuse_the_run_judged_now(
    baseline: &Baseline,
    judged: &[&MetricSet],
    wanted: &[MetricKey],
) -> Result<(), Error> {
    for set in judged {
        let same_identity =
            RunIdentity::of(set, wanted).is_some_and(|now| baseline.runs.iter().any(|run| run.same_figures(&now)));
        if same_identity || same_figures(baseline, set) {
            return Err(Error::Evidence {
                path: baseline.source.clone(),
                message: format!(
                    "this baseline is the run judged now ({}: the same figures): a baseline is an earlier run, and a run \
                     compared with itself never regresses",
                    crate::escape::line(&set.path)
                ),
            });
        }
    }
    let base_latest = baseline.recorded_times().into_iter().max_by_key(|(at, _)| at.earliest);
    for set in judged {
        let judged_earliest = set.recorded_times().into_iter().min_by_key(|(at, _)| at.latest);
        if let (Some((base, base_what)), Some((now, now_what))) = (&base_latest, judged_earliest) {
            if base.earliest >= now.latest {
                return Err(Error::Evidence {
                    path: baseline.source.clone(),
                    message: format!(
                        "this baseline is not an earlier run: {} is not before {now_what} of {} (the run judged now); a \
                         baseline is an earlier run, and a part of the run judged now, or a run overlapping or after it, is none",
                        crate::escape::line(base_what),
                        crate::escape::line(&set.path)
                    ),
                });
            }
        }
    }
    // Where either records no time, the time rule above cannot tell (finding round28-judge/01:
    // the run judged from its undated summary took a copy of its own raw results as its
    // baseline): evidence sharing a sample is one run. Nor where the judged evidence records
    // no start (finding round33-judge/03): a baseline ending before its recorded end may still
    // lie inside the run. Where both are dated and the judged run's span is known, it has told.
    for set in judged {
        if base_latest.is_some() && set.records_its_start() {
            continue;
        }
        let now = RunIdentity::of(set, wanted);
        let from_identity = now.is_some_and(|now| baseline.runs.iter().any(|run| run.shares_a_sample(&now)));
        let from_set = baseline.set.as_ref().and_then(|base| crate::metrics::shared_sample(base, set, wanted));
        let from_report = baseline.figures.iter().find_map(|((key, stat), value)| {
            let extreme = matches!(stat.as_str(), "min" | "max") && value.is_finite() && value.fract() != 0.0;
            (extreme && crate::metrics::holds_sample(set, key, *value)).then(|| (key.clone(), *value))
        });
        let shared = match from_set.or(from_report) {
            Some((key, value)) => Some(format!("the sample {value:?} of {key} is in both")),
            None => from_identity.then(|| "a sample in common".to_string()),
        };
        if let Some(shared) = shared {
            return Err(Error::Evidence {
                path: baseline.source.clone(),
                message: format!(
                    "this baseline is the run judged now ({}: {shared}): a baseline is an earlier run, and a part of \
                     the run judged now compared with it never regresses",
                    crate::escape::line(&set.path)
                ),
            });
        }
    }
    Ok(())
}

/// Whether the baseline's figures are `set`'s: at least one trend statistic in common, and no
/// figure in common that differs. Any statistic counts, not only those of an identity (a
/// summary carrying p(99) alone has none, finding round14-judge/01); two readings of one run
/// (a summary and its raw results) agree to the last digits, which k6 may write one apart.
fn same_figures(baseline: &Baseline, set: &MetricSet) -> bool {
    let same = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    let mut trend_shared = false;
    let mut agree = |key: &MetricKey, stat: &str, value: f64| -> bool {
        let Some(metric) = set.get(key) else { return true };
        let Ok(parsed) = Stat::parse(stat) else { return true };
        let crate::metrics::Lookup::Value(now) = metric.aggregate.lookup(parsed) else { return true };
        trend_shared |= matches!(metric.aggregate, crate::metrics::Aggregate::Trend(_));
        same(now, value)
    };
    for ((key, stat), value) in &baseline.figures {
        if !agree(key, stat, *value) {
            return false;
        }
    }
    for (key, metric) in baseline.set.iter().flat_map(|set| set.metrics.iter()) {
        match &metric.aggregate {
            crate::metrics::Aggregate::Trend(stats) => {
                for (stat, value) in &stats.0 {
                    if stat != "count" && !agree(key, stat, *value) {
                        return false;
                    }
                }
            }
            crate::metrics::Aggregate::Rate { matches, total } if *total > 0 => {
                let differs = set.get(key).is_some_and(|now| match &now.aggregate {
                    crate::metrics::Aggregate::Rate { matches: m, total: t } => (m, t) != (matches, total),
                    _ => false,
                });
                if differs {
                    return false;
                }
            }
            _ => {}
        }
    }
    trend_shared
}

/// A gatecheck JSON report: each row's subject is "<selector> <stat>" with a figure. Only a
/// row read from the run's own evidence — its `figure_from` a k6 summary, raw results or a
/// native run — is a figure of the run: a query's or an environment variable's row is no load
/// run's figure whatever its gate is called (finding round17-judge/04: a `check` report's query
/// gate named `http_req_duration` stood as the run's p95), nor whatever the run's files are
/// called (round21-judge/02: read from `source`'s text, a summary named `promql @ …` made a
/// query row match). A report that does not record `figure_from` on every row cannot tell
/// them apart and is refused; one that judged no load run is no baseline.
fn from_report(path: &str, report: &Value) -> Result<BTreeMap<(MetricKey, String), f64>, Error> {
    let gates = report["gates"].as_array().ok_or_else(|| Error::Evidence {
        path: path.into(),
        message: "gates: expected a list (gatecheck JSON report)".into(),
    })?;
    let run_files: Vec<&str> = report["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|input| matches!(input["role"].as_str(), Some("summary" | "raw")))
        .filter_map(|input| input["path"].as_str())
        .collect();
    if run_files.is_empty() {
        return Err(Error::Evidence {
            path: path.into(),
            message: "the report judged no load run (no k6 summary or raw results among its inputs: queries or \
                      environment figures only), so it holds no run's figures to compare with: a baseline is an \
                      earlier run's evidence"
                .into(),
        });
    }
    let mut figures = BTreeMap::new();
    for (index, gate) in gates.iter().enumerate() {
        // Where the figure came from is the row's own field, never read from `source`, whose
        // text begins with a file name (outside text, finding round21-judge/02).
        let from = match gate.get("figure_from") {
            None => {
                return Err(Error::Evidence {
                    path: path.into(),
                    message: format!(
                        "gates[{index}].figure_from: absent, so the report does not say which rows were read from its \
                         load run (written by an older gatecheck?): give the run's summary or raw results as the baseline"
                    ),
                })
            }
            Some(Value::Null) => continue,
            Some(word) => word.as_str().and_then(FigureFrom::parse).ok_or_else(|| Error::Evidence {
                path: path.into(),
                message: format!(
                    "gates[{index}].figure_from: expected one of k6_summary, k6_raw, native, query, env, scrape or null \
                     (gatecheck JSON report)"
                ),
            })?,
        };
        let (Some(subject), Some(value)) = (gate["subject"].as_str(), gate["observed"]["value"].as_f64()) else {
            continue;
        };
        if !from.is_the_run() {
            continue;
        }
        let Some((selector, stat)) = subject.rsplit_once(' ') else { continue };
        let (Ok(key), Ok(stat)) = (MetricKey::parse(selector), Stat::parse(stat)) else { continue };
        figures.insert((key, stat.key()), value);
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Aggregate, Metric, Provenance, TrendStats};
    use proptest::prelude::*;

    const TREND: &str = "http_req_duration{flow:a}";
    const RATE: &str = "http_req_failed{flow:a}";

    /// A run's evidence carrying `stats` of its latency trend and, when `failed` is given, its
    /// failure rate of 500 requests.
    fn run(stats: &[(Stat, f64)], failed: Option<u64>) -> MetricSet {
        let mut set = MetricSet { path: "now.json".into(), ..MetricSet::default() };
        let provenance = Provenance::File { path: "now.json".into(), key: "k".into() };
        let metric =
            |aggregate| Metric { aggregate, is_time: true, k6_verdicts: vec![], provenance: provenance.clone() };
        let mut trend = TrendStats::default();
        for (stat, value) in stats {
            trend.0.insert(stat.key(), *value);
        }
        set.metrics.insert(MetricKey::parse(TREND).unwrap(), metric(Aggregate::Trend(trend)));
        if let Some(failed) = failed {
            set.metrics
                .insert(MetricKey::parse(RATE).unwrap(), metric(Aggregate::Rate { matches: failed, total: 500 }));
        }
        set
    }

    /// The statistics a trend may carry (less its count).
    fn all_stats() -> Vec<Stat> {
        crate::metrics::hdr::TREND_STATS.iter().copied().filter(|stat| *stat != Stat::Count).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Findings round13-judge/02 and round14-judge/01, as a class: the run judged now, given
        /// as its own baseline in any presentation — a summary or raw results carrying any
        /// statistics (any `--summary-trend-stats`, p(99) alone), with or without its failure
        /// rate, or a report showing any of its figures, with or without its identities — is
        /// refused whenever the two share a latency statistic; a run whose every figure differs
        /// is never refused.
        #[test]
        fn the_run_judged_now_is_never_its_own_baseline(
            values in proptest::collection::vec(1.0f64..10_000.0, 8),
            now_has in proptest::collection::vec(any::<bool>(), 8),
            base_has in proptest::collection::vec(any::<bool>(), 8),
            shared in 0usize..8,
            rates in (any::<bool>(), any::<bool>()),
            as_report in any::<bool>(),
            report_names_runs in any::<bool>(),
        ) {
            let stats = all_stats();
            let pick = |has: &[bool], values: &[f64]| -> Vec<(Stat, f64)> {
                stats.iter().zip(values).enumerate()
                    .filter(|(index, _)| has[*index] || *index == shared)
                    .map(|(_, (stat, value))| (*stat, *value))
                    .collect()
            };
            let wanted = vec![MetricKey::parse(TREND).unwrap(), MetricKey::parse(RATE).unwrap()];
            let now = run(&pick(&now_has, &values), rates.0.then_some(3));
            let baseline_of = |values: &[f64], failed: u64| -> Baseline {
                let set = run(&pick(&base_has, values), rates.1.then_some(failed));
                let runs: Vec<RunIdentity> = RunIdentity::of(&set, &wanted).into_iter().collect();
                if as_report {
                    let figures = pick(&base_has, values)
                        .into_iter()
                        .map(|(stat, value)| ((MetricKey::parse(TREND).unwrap(), stat.key()), value))
                        .collect();
                    Baseline { source: "report.json".into(), figures, runs: if report_names_runs { runs } else { vec![] }, ..Baseline::default() }
                } else {
                    Baseline { source: "base.json".into(), set: Some(set), runs, ..Baseline::default() }
                }
            };
            let itself = baseline_of(&values, 3);
            prop_assert!(refuse_the_run_judged_now(&itself, &[&now], &wanted).is_err(), "{:?}", itself);
            let other: Vec<f64> = values.iter().map(|value| value * 1.07 + 0.5).collect();
            let earlier = baseline_of(&other, 4);
            prop_assert!(refuse_the_run_judged_now(&earlier, &[&now], &wanted).is_ok(), "{:?}", earlier);
        }
    }

    /// The times a run records, compared only where certain: a native run's start and end,
    /// written to the second, are any instant of their second, so a run starting in the second
    /// the baseline ended is not refused; one starting a second before it ended, or a k6 summary
    /// written before it ended, is.
    #[test]
    fn a_run_recorded_to_the_second_is_refused_only_where_it_certainly_overlaps() {
        let native = |started: &str, ended: &str| MetricSet {
            run: Some(crate::metrics::RunRecord {
                started_at: Some(started.into()),
                ended_at: Some(ended.into()),
                ..Default::default()
            }),
            ..run(&[(Stat::Avg, 1.0)], None)
        };
        let wanted = vec![MetricKey::parse(TREND).unwrap()];
        let earlier = Baseline {
            source: "base.json".into(),
            set: Some(MetricSet {
                run: native("2026-01-01T12:00:00Z", "2026-01-01T12:00:10Z").run,
                ..run(&[(Stat::Avg, 2.0)], None)
            }),
            ..Baseline::default()
        };
        let judged = |set: MetricSet| refuse_the_run_judged_now(&earlier, &[&set], &wanted);
        assert!(judged(native("2026-01-01T12:00:10Z", "2026-01-01T12:00:20Z")).is_ok());
        let refused = judged(native("2026-01-01T12:00:09Z", "2026-01-01T12:00:20Z")).unwrap_err().to_string();
        assert!(refused.contains("this baseline is not an earlier run"), "{refused}");
        let summary = MetricSet { generated_at: Some("2026-01-01T12:00:05Z".into()), ..run(&[(Stat::Avg, 1.0)], None) };
        assert!(judged(summary).is_err());
        let raw = |oldest: &str| MetricSet {
            sampled: Some((oldest.into(), "2026-01-01T12:01:00Z".into())),
            ..run(&[(Stat::Avg, 1.0)], None)
        };
        assert!(judged(raw("2026-01-01T12:00:10.5Z")).is_ok());
        assert!(judged(raw("2026-01-01T12:00:09.999999999Z")).is_err());
    }

    /// k6 raw results of a run of `points` requests, the first at `start_ms` (unix
    /// milliseconds) and one every `step_ms` (each after it less than a millisecond late), as
    /// k6 writes them.
    fn raw_lines(points: &[f64], start_ms: i64, step_ms: i64) -> Vec<String> {
        points
            .iter()
            .enumerate()
            .map(|(i, value)| {
                let at = time::OffsetDateTime::from_unix_timestamp(0).unwrap()
                    + time::Duration::milliseconds(start_ms + step_ms * i as i64)
                    + time::Duration::nanoseconds(i as i64 * 7919 % 1_000_000);
                let at = at.format(&time::format_description::well_known::Rfc3339).unwrap();
                format!(
                    "{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{{\"time\":\"{at}\",\"value\":{value},\"tags\":{{\"flow\":\"a\"}}}}}}"
                )
            })
            .collect()
    }

    const DECLARED: &str = "{\"type\":\"Metric\",\"data\":{\"name\":\"http_req_duration\",\"type\":\"trend\",\"contains\":\"time\",\"thresholds\":[],\"submetrics\":null},\"metric\":\"http_req_duration\"}";

    fn raw_file(dir: &Path, name: &str, lines: &[String]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("{DECLARED}\n{}\n", lines.join("\n"))).unwrap();
        path
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Finding round15-judge/02, as a class: any part of the run judged now — a prefix, a
        /// suffix, any sub-range of its raw samples, as written — given as the baseline is not
        /// an earlier run and is refused, though its figures differ from the whole run's; a run
        /// whose samples all lie before the judged run's first (by any gap, down to a
        /// millisecond) is accepted.
        #[test]
        fn a_part_of_the_run_judged_now_is_never_its_baseline(
            values in proptest::collection::vec(1.0f64..2_000.0, 2..60),
            cut in (any::<proptest::sample::Index>(), any::<proptest::sample::Index>()),
            step_ms in 1i64..2_000,
            gap_ms in 1i64..100_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let wanted = vec![MetricKey::parse(TREND).unwrap()];
            let start_ms = 1_790_000_000_000;
            let now_lines = raw_lines(&values, start_ms, step_ms);
            let judged = raw_file(dir.path(), "raw.ndjson", &now_lines);
            let (now, _) = crate::sources::k6_ndjson::read(&[judged.as_path()], &wanted, false).unwrap();
            let (a, b) = (cut.0.index(values.len()), cut.1.index(values.len()));
            let part = raw_file(dir.path(), "part.ndjson", &now_lines[a.min(b)..=a.max(b)]);
            let baseline = read(&part, &wanted, false).unwrap();
            let refused = refuse_the_run_judged_now(&baseline, &[&now], &wanted);
            prop_assert!(refused.is_err(), "lines {}..={} accepted", a.min(b), a.max(b));
            // The same requests, one run earlier: its last sample more than `gap_ms` before
            // the judged run's first.
            let shifted: Vec<f64> = values.iter().map(|v| v * 1.01 + 0.25).collect();
            let earlier_start = start_ms - step_ms * (values.len() as i64 - 1) - 1 - gap_ms;
            let earlier_lines = raw_lines(&shifted, earlier_start, step_ms);
            let earlier = raw_file(dir.path(), "earlier.ndjson", &earlier_lines);
            let earlier = read(&earlier, &wanted, false).unwrap();
            prop_assert!(refuse_the_run_judged_now(&earlier, &[&now], &wanted).is_ok());
        }

        /// Finding round18-judge/02, as a class: a gatecheck report is dated by the span its
        /// evidence recorded (`run_span`), under the one rule of earlier runs. For a baseline run
        /// of any kind (raw results, a native run dated to the second, a k6 summary dated by its
        /// end and duration) placed anywhere about the judged run (before it, overlapping it,
        /// inside it, after it), the report of it is refused exactly when it is refused given
        /// directly; raw results are refused exactly when their last sample is not before the
        /// judged run's first.
        #[test]
        fn a_report_of_a_run_is_refused_exactly_when_the_run_is(
            values in proptest::collection::vec(1.0f64..2_000.0, 2..40),
            step_ms in 1i64..2_000,
            offset_ms in -200_000i64..200_000,
            kind in 0usize..3,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let wanted = vec![MetricKey::parse(TREND).unwrap()];
            let start_ms = 1_790_000_000_000;
            let judged = raw_file(dir.path(), "raw.ndjson", &raw_lines(&values, start_ms, step_ms));
            let (now, _) = crate::sources::k6_ndjson::read(&[judged.as_path()], &wanted, false).unwrap();
            let base_start = start_ms + offset_ms;
            let base_last = base_start + step_ms * (values.len() as i64 - 1);
            let shifted: Vec<f64> = values.iter().map(|v| v * 1.01 + 0.25).collect();
            let at = |ms: i64| crate::metrics::rfc3339_nanos(
                time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap(),
            );
            let direct = match kind {
                0 => read(&raw_file(dir.path(), "base.ndjson", &raw_lines(&shifted, base_start, step_ms)), &wanted, false).unwrap(),
                _ => {
                    let set = if kind == 1 {
                        let second = |ms: i64| crate::metrics::rfc3339(ms.div_euclid(1000));
                        MetricSet {
                            run: Some(crate::metrics::RunRecord {
                                started_at: Some(second(base_start)),
                                ended_at: Some(second(base_last + 1)),
                                ..Default::default()
                            }),
                            ..run(&[(Stat::Avg, 2.0)], None)
                        }
                    } else {
                        MetricSet {
                            generated_at: Some(at(base_last + 1)),
                            run_duration: Some(((base_last + 1 - base_start) as f64 / 1e3, "config.duration".into())),
                            ..run(&[(Stat::Avg, 2.0)], None)
                        }
                    };
                    Baseline { source: "base.json".into(), set: Some(set), ..Baseline::default() }
                }
            };
            let (earliest, latest) = MetricSet::recorded_span(direct.set.iter()).unwrap();
            let report = serde_json::json!({
                "schema_version": "1", "outcome": "pass", "baseline_unfit": [], "evidence_runs": [],
                "inputs": [{"role": "raw", "path": "base.ndjson"}], "gates": [],
                "run_span": {"earliest": earliest, "latest": latest},
            });
            let report_path = dir.path().join("report.json");
            std::fs::write(&report_path, report.to_string()).unwrap();
            let via_report = read(&report_path, &wanted, false).unwrap();
            let refused = |baseline: &Baseline| refuse_the_run_judged_now(baseline, &[&now], &wanted).is_err();
            prop_assert_eq!(refused(&direct), refused(&via_report), "kind {} offset {} ms", kind, offset_ms);
            if kind == 0 {
                prop_assert_eq!(refused(&via_report), base_last >= start_ms, "offset {} ms", offset_ms);
            }
        }

        /// Finding round17-judge/05, as a class: a k6 summary dated by its end
        /// (`metadata.generated_at`, written after the last sample) and its run's duration
        /// (`config.duration`, the run's start no later than its first sample) is judged with a
        /// part of its own raw results as the baseline: refused, whichever part, though only
        /// the run's end was written down; a run whose samples all lie before the summary's
        /// `generated_at - duration` (by any gap, down to a millisecond) is accepted.
        #[test]
        fn a_part_of_the_run_is_no_baseline_of_its_summary_dated_by_end_and_duration(
            values in proptest::collection::vec(1.0f64..2_000.0, 2..60),
            cut in (any::<proptest::sample::Index>(), any::<proptest::sample::Index>()),
            step_ms in 1i64..2_000,
            lead_ms in 0i64..500,
            tail_ms in 0i64..500,
            gap_ms in 1i64..100_000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let wanted = vec![MetricKey::parse(TREND).unwrap()];
            let start_ms = 1_790_000_000_000;
            let lines = raw_lines(&values, start_ms, step_ms);
            let last_ms = start_ms + step_ms * (values.len() as i64 - 1) + 1;
            let end_ms = last_ms + tail_ms;
            let at = |ms: i64| {
                let at = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap();
                crate::metrics::rfc3339_nanos(at)
            };
            let summary = MetricSet {
                generated_at: Some(at(end_ms)),
                run_duration: Some(((end_ms - start_ms + lead_ms) as f64 / 1e3, "config.duration".into())),
                ..run(&[(Stat::Avg, 1.0)], None)
            };
            let (a, b) = (cut.0.index(values.len()), cut.1.index(values.len()));
            let part = raw_file(dir.path(), "part.ndjson", &lines[a.min(b)..=a.max(b)]);
            let baseline = read(&part, &wanted, false).unwrap();
            let refused = refuse_the_run_judged_now(&baseline, &[&summary], &wanted);
            prop_assert!(refused.is_err(), "lines {}..={} accepted", a.min(b), a.max(b));
            let earlier_start = start_ms - lead_ms - step_ms * (values.len() as i64 - 1) - 2 - gap_ms;
            let shifted: Vec<f64> = values.iter().map(|v| v * 1.01 + 0.25).collect();
            let earlier = raw_file(dir.path(), "earlier.ndjson", &raw_lines(&shifted, earlier_start, step_ms));
            let earlier = read(&earlier, &wanted, false).unwrap();
            prop_assert!(refuse_the_run_judged_now(&earlier, &[&summary], &wanted).is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Findings round28-judge/01, as a class: the run judged from its undated k6 summary
        /// (its min and max, samples written to the nanosecond) with any part of its own raw
        /// results as the baseline, or the other way round (a part judged, the whole summary
        /// the baseline), is refused whenever the part holds the run's min or max sample, though
        /// no time orders them; another run (none of its samples the run's) is accepted.
        #[test]
        fn a_part_sharing_a_sample_with_the_undated_summary_is_never_its_baseline(
            values in proptest::collection::btree_set(1_000_000u64..2_000_000_000, 2..60),
            order in any::<u64>(),
            cut in (any::<proptest::sample::Index>(), any::<proptest::sample::Index>()),
        ) {
            // Distinct durations in ms, each with a nanosecond fraction, in a shuffled order.
            let mut values: Vec<f64> = values.into_iter().map(|ns| (ns * 10 + 1) as f64 / 1e7).collect();
            let len = values.len();
            for i in 0..len {
                values.swap(i, ((order >> (i % 60)) as usize + i * 7) % len);
            }
            let dir = tempfile::tempdir().unwrap();
            let wanted = vec![MetricKey::parse(TREND).unwrap()];
            let lines = raw_lines(&values, 1_790_000_000_000, 100);
            let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            let summary = MetricSet {
                format: crate::metrics::FORMAT_EXPORT.into(),
                ..run(&[(Stat::Min, min), (Stat::Med, 7.5), (Stat::Max, max), (Stat::Percentile(95.0), 7.75)], None)
            };
            let (a, b) = (cut.0.index(len), cut.1.index(len));
            let part_values = &values[a.min(b)..=a.max(b)];
            let holds_extreme = part_values.contains(&min) || part_values.contains(&max);
            let part = raw_file(dir.path(), "part.ndjson", &lines[a.min(b)..=a.max(b)]);
            let baseline = read(&part, &wanted, false).unwrap();
            let refused = refuse_the_run_judged_now(&baseline, &[&summary], &wanted).is_err();
            prop_assert_eq!(refused, holds_extreme, "lines {}..={}", a.min(b), a.max(b));
            // The other way round: the part judged, the run's summary the baseline.
            let (judged, _) = crate::sources::k6_ndjson::read(&[part.as_path()], &wanted, false).unwrap();
            let whole = Baseline { source: "summary.json".into(), set: Some(summary.clone()), ..Baseline::default() };
            prop_assert_eq!(refuse_the_run_judged_now(&whole, &[&judged], &wanted).is_err(), holds_extreme);
            // Another run: none of its samples the run's.
            let other: Vec<f64> = values.iter().map(|v| v + 5_000.0).collect();
            let other = raw_file(dir.path(), "other.ndjson", &raw_lines(&other, 1_780_000_000_000, 100));
            let other = read(&other, &wanted, false).unwrap();
            prop_assert!(refuse_the_run_judged_now(&other, &[&summary], &wanted).is_ok());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        /// Finding round21-judge/02, generated: whatever the run's files are called and whatever
        /// text a row's `source` holds (a file name followed by a colon included), a report's
        /// figures are exactly the rows its `figure_from` says were read from the run's evidence;
        /// a row with a figure and no `figure_from` makes the report no baseline.
        #[test]
        fn a_report_rows_origin_alone_makes_it_a_run_figure(
            file in "[ -~]{1,30}",
            rows in proptest::collection::vec(
                (0usize..7, "[ -~]{0,20}", proptest::bool::ANY, 1.0f64..1e6),
                1..8,
            ),
            dropped in proptest::option::of(0usize..8),
        ) {
            const FROM: [&str; 7] = ["k6_summary", "k6_raw", "native", "query", "env", "scrape", ""];
            let gates: Vec<serde_json::Value> = rows
                .iter()
                .enumerate()
                .map(|(i, (from, tail, prefixed, value))| {
                    let source = if *prefixed { format!("{file}:{tail}") } else { tail.clone() };
                    let mut gate = serde_json::json!({
                        "subject": format!("lat{{n:r{i}}} p(95)"),
                        "source": source,
                        "observed": {"value": value},
                        "figure_from": if FROM[*from].is_empty() { serde_json::Value::Null } else { FROM[*from].into() },
                    });
                    if dropped == Some(i) {
                        gate.as_object_mut().unwrap().remove("figure_from");
                    }
                    gate
                })
                .collect();
            let report = serde_json::json!({"inputs": [{"role": "summary", "path": file}], "gates": gates});
            let read = from_report("report.json", &report);
            if dropped.is_some_and(|i| i < rows.len()) {
                let why = read.err().map(|e| e.to_string()).unwrap_or_default();
                prop_assert!(why.contains("figure_from") && why.contains("report.json"), "{}", why);
            } else {
                let figures = read.map_err(|e| TestCaseError::fail(e.to_string()))?;
                let expected: BTreeMap<(MetricKey, String), f64> = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, (from, ..))| *from < 3)
                    .map(|(i, (.., value))| ((MetricKey::parse(&format!("lat{{n:r{i}}}")).unwrap(), "p(95)".to_string()), *value))
                    .collect();
                prop_assert_eq!(figures, expected);
            }
        }
    }
}
