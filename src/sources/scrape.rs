//! Histograms scraped from a Prometheus text-format `/metrics` endpoint, before and after a
//! run: the difference of the cumulative buckets is the run window, and percentiles follow
//! Prometheus's `histogram_quantile` (linear within a bucket; the max is the upper bound of
//! the highest non-empty bucket). No Prometheus server is needed.
//!
//! The window is taken per series first, as Prometheus's `increase` takes it, and only then
//! summed. A series read in both scrapes restarted between them when any sign the exposition
//! gives says so (`restart_sign`): its counters went down, its `<name>_created` sample
//! (prometheus_client writes it, OpenMetrics carries it) changed or lies after the first scrape,
//! or a process start gauge that may date it did (`is_process_start`, `may_date`: any gauge whose
//! name ends in `process_start_time_seconds`, namespaced or not, unless its labels name another
//! process). What it observed before the restart is lost to two scrapes, so its histogram gives
//! no window, naming it and the sign (as for a series that vanished). Observations above the
//! highest finite bucket have no upper bound, so a quantile that falls among them is +Inf,
//! which breaches any upper limit, rather than the last finite bound.
//!
//! A histogram whose bucket layout is not one (a bucket in one scrape and not the other, or
//! series of different bounds) gives no window: that gate has no data, the others are judged.
//! A series that first appears in the later scrape counts from zero only if nothing says it
//! existed before the first scrape (`began_before_sign`): a histogram the first scrape held no
//! sample of has no reading before the run, an unlabelled series is exported from its
//! registration on, and a `_created` or an unshown process's start dated before the first
//! scrape says it was counting then. Otherwise no window, naming it (Prometheus's `increase`
//! gives a series with one sample no result at all).
//! A series of the first scrape missing from the later one (its worker crashed or was
//! replaced) observed an unknown number of values: no window either, naming it.
//!
//! Both scrapes and the window between them follow the one rule for classic buckets
//! (`metrics::classic_fault`): cumulative buckets whose +Inf bucket is the _count, and a _sum the
//! buckets can hold; a series that breaks it gives no window, naming it. A series with a _count
//! or _sum and no bucket at all breaks it too, in whichever scrape it is so.
//!
//! A sample may carry its own time (`name{labels} value TIMESTAMP_MS`: a cached or federating
//! exporter replays what it saw then). Such a sample is dated by it, not by the scrape: dated in
//! the future, or outside the run (a second scrape's series dated before the run's end, a first
//! scrape's after its start), the window does not measure the run: no figure, naming the series
//! (`ScrapedHistogram::window`). Samples without a time keep the scrape's instant.
//!
//! An exposition ends at `# EOF` (`before_eof`): anything after it, a blank line too, makes the
//! scrape unreadable, and an OpenMetrics answer (by its Content-Type, `Exposition`) without it
//! was cut short, as Prometheus' parsers hold it; such a scrape is refused naming the line.
//!
//! Every label of a sample line is read exactly, or the scrape is refused naming the line: one
//! tokenizer (`read_series`) reads names bare or quoted (Prometheus 3's UTF-8 names) and values
//! with the text format's escapes, as Prometheus's text parser does, so no label is skipped and
//! no two label sets are read as one series.

use std::collections::BTreeMap;

use crate::error::Error;
pub use crate::metrics::{HistogramSnapshot, Window};

/// One histogram as scraped: its series by label set (without `le`), each cumulative.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapedHistogram {
    pub series: BTreeMap<String, HistogramSnapshot>,
    /// The earliest and latest explicit sample timestamp (ms since the epoch) of each series
    /// that carries any; a series without one is dated by the scrape.
    pub dated: BTreeMap<String, (i64, i64)>,
    /// The series with a sample that carries no timestamp (dated by the scrape, beside any
    /// dated samples of theirs). A series in neither map is dated by the scrape too.
    pub undated: std::collections::BTreeSet<String>,
    /// When the exposition says each series began counting; a series without an entry has no
    /// such sign (`Origin::default()`).
    pub origins: BTreeMap<String, Origin>,
    /// Every process start gauge of the exposition this histogram was read from
    /// (`is_process_start`), by its name and labels (`process_key`): the processes that scrape
    /// showed.
    pub processes: BTreeMap<String, f64>,
}

/// What an exposition says of when a series began counting: its own `<name>_created` sample
/// and every process start gauge that may date it (`may_date`: an unlabelled one is the whole
/// exposition's), each in seconds since the epoch. A process that restarted writes new ones,
/// whatever its counters did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub created: Option<f64>,
    /// By the gauge's name and labels (`process_key`).
    pub process_started: BTreeMap<String, f64>,
}

/// How far a sample's own time may lie past the instant it was read at (or the run's start),
/// or before the run's end, and still count as that instant: clocks of two hosts differ. The
/// one clock check's allowance (`metrics::clock`), in milliseconds.
pub const CLOCK_SKEW_MS: i64 = crate::metrics::clock::SKEW_ALLOWANCE_SECS * 1000;

/// Where a summary records when a run window's two scrapes were read (unix milliseconds, the
/// scraping runner's clock): `gatecheck.scraped.first_scrape_ms` and `.second_scrape_ms`.
pub const SCRAPE_TIME_FIELDS: [&str; 2] = ["first_scrape_ms", "second_scrape_ms"];

/// The two scrape instants a summary's `gatecheck.scraped` records, or `None` where it records
/// none (a summary written before they were). `Err` is (field, why): a time that is not a whole
/// number of milliseconds, or a second scrape before the first.
pub fn recorded_scrape_times(scraped: &serde_json::Value) -> Result<Option<(i64, i64)>, (String, String)> {
    let [first, second] = SCRAPE_TIME_FIELDS.map(|name| (name, scraped.get(name)));
    let read = |(name, value): (&str, Option<&serde_json::Value>)| match value {
        None => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| {
            (format!("gatecheck.scraped.{name}"), format!("{value} is not an instant in unix milliseconds"))
        }),
    };
    match (read(first)?, read(second)?) {
        (Some(first), Some(second)) if second >= first => Ok(Some((first, second))),
        (Some(_), Some(_)) => Err((
            "gatecheck.scraped.second_scrape_ms".to_string(),
            "lies before first_scrape_ms: the second scrape is read after the first".to_string(),
        )),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err(("gatecheck.scraped.second_scrape_ms".to_string(), "missing beside first_scrape_ms".into()))
        }
        (None, Some(_)) => {
            Err(("gatecheck.scraped.first_scrape_ms".to_string(), "missing beside second_scrape_ms".into()))
        }
    }
}

/// Finding round37-figures/01. The one rule of which run a scraped window stands for: the run
/// it is judged for (a merged run: from its earliest segment's start, `started_at`, to its
/// latest end, `last_ended_at`; unix seconds as written, floored) must lie between the window's
/// two scrapes — the first read at or before the run's start, the second at or after its end.
/// A run that goes on past a scrape has observations the window never read (a merge whose
/// other segments ran on after the scraping one), so the window is no figure for it. The
/// written times are floored to the second, so the first scrape may fall within the start's
/// second; no more is allowed (the clock-skew allowance would let a whole late segment out).
/// `scrapes` is `None` where the summary records no scrape times: nothing shows the window
/// covers the run. `Err` says why the window does not stand for the run.
pub fn window_encloses_run(scrapes: Option<(i64, i64)>, started_s: i64, last_ended_s: i64) -> Result<(), String> {
    let when = |ms: i64| crate::metrics::rfc3339(ms.div_euclid(1000));
    let Some((first, second)) = scrapes else {
        return Err("the summary records no scrape times (gatecheck.scraped.first_scrape_ms, second_scrape_ms), so nothing shows the window covers the run: no figure".into());
    };
    if first.div_euclid(1000) > started_s {
        return Err(format!(
            "the first scrape was read at {}, after the run started at {}: the window misses the run's beginning, so it is no figure for the run",
            when(first),
            crate::metrics::rfc3339(started_s)
        ));
    }
    if second < last_ended_s.saturating_mul(1000) {
        return Err(format!(
            "the second scrape was read at {}, before the run ended at {}: what the run went on to cause lies outside the window, so it is no figure for the run",
            when(second),
            crate::metrics::rfc3339(last_ended_s)
        ));
    }
    Ok(())
}

/// The timeout of each scrape the writer reads (`commands::smoke::scrape_histograms`).
pub const SCRAPE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The timeout of the writer's remote-write pushes (`commands::smoke`): after the run, before
/// its second scrape, the writer waits for a push in flight and then the final push
/// (`load::remote_write::LivePusher::finish`), each at most this long.
pub const PUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Finding round38-figures/02. Where the writer's two scrapes can lie, held wherever a native
/// summary is read (`k6_summary`, and `load::merge` for each segment), so the enclosure rule
/// (`window_encloses_run`) is only ever decided by instants the writer could have recorded:
/// - neither in the future: the one clock rule and allowance (`metrics::clock::not_future`)
///   that a summary's `started_at`/`ended_at` are held to;
/// - the first no more than `CLOCK_SKEW_MS` before the run's start (`started_s`): `smoke` reads
///   it just before it dates the run's start (after any wait for `--start-at`), and holds
///   every reading to the same allowance (`ScrapedHistogram::window`);
/// - the second no later after the run's end (`ended_s`, its latest part's for a merge) than
///   the writer's steps between the two: the end's flooring to the second (1 s), the drain of
///   answers in flight (`request_timeout_ms` + 1 s, `load::run`'s deadline), a push in flight
///   and the final push (2 × `PUSH_TIMEOUT`) and the scrape itself (`SCRAPE_TIMEOUT`), plus
///   `CLOCK_SKEW_MS` for the rest.
///
/// Whether the window encloses the run (at or before the start, at or after the end) stays
/// `window_encloses_run`'s figure-or-NO-DATA rule. `Err` is (field, why).
pub fn scrapes_fit_run(
    (first, second): (i64, i64),
    started_s: i64,
    ended_s: i64,
    request_timeout_ms: i64,
    now_s: i64,
) -> Result<(), (String, String)> {
    let [first_field, second_field] = SCRAPE_TIME_FIELDS.map(|name| format!("gatecheck.scraped.{name}"));
    for (field, ms) in [(&first_field, first), (&second_field, second)] {
        crate::metrics::clock::not_future(now_s, ms.div_euclid(1000))
            .map_err(|why| (field.clone(), format!("{ms} (unix ms): {why}")))?;
    }
    let when = |ms: i64| crate::metrics::rfc3339(ms.div_euclid(1000));
    let earliest = started_s.saturating_mul(1000).saturating_sub(CLOCK_SKEW_MS);
    if first < earliest {
        return Err((
            first_field,
            format!(
                "{first} (unix ms, {}) lies more than {} s before the run started ({}): the writer reads it just before the run",
                when(first),
                CLOCK_SKEW_MS / 1000,
                crate::metrics::rfc3339(started_s)
            ),
        ));
    }
    let after_end = 1000
        + request_timeout_ms.saturating_add(1000)
        + 2 * PUSH_TIMEOUT.as_millis() as i64
        + SCRAPE_TIMEOUT.as_millis() as i64
        + CLOCK_SKEW_MS;
    let latest = ended_s.saturating_mul(1000).saturating_add(after_end);
    if second > latest {
        return Err((
            second_field,
            format!(
                "{second} (unix ms, {}) lies more than {} s after the run ended ({}): the writer reads it right after the run (the drain of answers in flight, its last push, the scrape)",
                when(second),
                after_end as f64 / 1000.0,
                crate::metrics::rfc3339(ended_s)
            ),
        ));
    }
    Ok(())
}

/// The scrape instants a native summary records (`recorded_scrape_times`), held to its own run
/// (`scrapes_fit_run`): its `started_at`, its latest end (`k6_summary::run_span`) and its plan's
/// request timeout (`gatecheck.shard.plan.request_timeout_s`), at the time of reading. `native`
/// is the summary's `gatecheck` block. `Err` is (field, why).
pub fn run_scrape_times(native: &serde_json::Value) -> Result<Option<(i64, i64)>, (String, String)> {
    let Some(scraped) = native.get("scraped") else { return Ok(None) };
    let Some(times) = recorded_scrape_times(scraped)? else { return Ok(None) };
    let ended_s = crate::sources::k6_summary::run_span(native)?.last_ended;
    let started_s = native
        .get("started_at")
        .and_then(serde_json::Value::as_str)
        .and_then(|text| time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok())
        .ok_or_else(|| ("gatecheck.started_at".to_string(), "expected the RFC 3339 time the run started".to_string()))?
        .unix_timestamp();
    let timeout_field = "gatecheck.shard.plan.request_timeout_s";
    let timeout_s = native["shard"]["plan"]["request_timeout_s"]
        .as_f64()
        .filter(|s| s.is_finite() && (0.0..=crate::metrics::clock::LONGEST_DURATION.as_secs_f64()).contains(s))
        .ok_or_else(|| {
            (
                timeout_field.to_string(),
                "expected the plan's request timeout in seconds (it bounds when the second scrape was read)"
                    .to_string(),
            )
        })?;
    let now_s = time::OffsetDateTime::now_utc().unix_timestamp();
    scrapes_fit_run(times, started_s, ended_s, (timeout_s * 1000.0).ceil() as i64, now_s)?;
    Ok(Some(times))
}

/// The instants (ms since the epoch) that date a run window: each scrape, as read, and the run
/// between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instants {
    pub first_scrape: i64,
    pub run_start: i64,
    pub run_end: i64,
    pub second_scrape: i64,
}

impl ScrapedHistogram {
    /// The run window, dated: every reading of a series is dated by its samples' own times and,
    /// for samples without one, by the instant its scrape was read (`reading`). Every date of a
    /// reading lies at most `CLOCK_SKEW_MS` past the scrape it was read in (else it is in the
    /// future, finding round19-figures/03); the first scrape's within `CLOCK_SKEW_MS` of the
    /// run's start either way (after it, the window misses the run's beginning; long before it,
    /// the window holds what was observed before the run), the second scrape's at least the
    /// run's end minus that; and a series read in both scrapes is dated later in the second than
    /// any date of the first (findings round20-figures/01, round21-figures/01: dated in one scrape
    /// and undated in the other, the window ran backwards). A series dated otherwise does not
    /// measure the run, so there is no window, naming it. Then `since`, with the first scrape's
    /// instant telling a series begun after it (`restart_sign`).
    pub fn window(&self, earlier: &ScrapedHistogram, at: &Instants) -> Window {
        let when = |ms: i64| crate::metrics::rfc3339(ms.div_euclid(1000));
        let skew = CLOCK_SKEW_MS / 1000;
        let scrapes = [("the first scrape", earlier, at.first_scrape), ("the second scrape", self, at.second_scrape)];
        for (scrape, histogram, read_at) in scrapes {
            for labels in histogram.series.keys() {
                let (_, latest) = histogram.reading(labels, read_at);
                if latest > read_at.saturating_add(CLOCK_SKEW_MS) {
                    return Err(format!(
                        "{} in {scrape} carries a sample dated {}, in the future (the scrape was read at {}; clocks may differ by {skew} s): the run window is no figure",
                        series_name(labels),
                        when(latest),
                        when(read_at),
                    ));
                }
            }
        }
        for labels in earlier.series.keys() {
            let (earliest, latest) = earlier.reading(labels, at.first_scrape);
            if latest > at.run_start.saturating_add(CLOCK_SKEW_MS) {
                return Err(format!(
                    "{} in the first scrape is dated {}, after the run started at {} (allowing {skew} s of clock skew): the scrapes do not cover the run, so the run window is no figure",
                    series_name(labels),
                    when(latest),
                    when(at.run_start),
                ));
            }
            if earliest < at.run_start.saturating_sub(CLOCK_SKEW_MS) {
                return Err(format!(
                    "{} in the first scrape is dated {}, long before the run started at {} (allowing {skew} s of clock skew): the window would hold what was observed before the run, so the run window is no figure",
                    series_name(labels),
                    when(earliest),
                    when(at.run_start),
                ));
            }
        }
        for labels in self.series.keys() {
            let (earliest, _) = self.reading(labels, at.second_scrape);
            if earliest < at.run_end.saturating_sub(CLOCK_SKEW_MS) {
                return Err(format!(
                    "{} in the second scrape is dated {}, before the run ended at {} (allowing {skew} s of clock skew): the scrapes do not cover the run (a cached or replayed exposition?), so the run window is no figure",
                    series_name(labels),
                    when(earliest),
                    when(at.run_end),
                ));
            }
        }
        // A series read in both scrapes moves forward in time between them, however each reading
        // is dated (findings round20-figures/01, round21-figures/01: dated 100 s before the first
        // scrape in the second and undated in the first, the window ran backwards).
        for labels in self.series.keys().filter(|labels| earlier.series.contains_key(*labels)) {
            let (earliest, _) = self.reading(labels, at.second_scrape);
            let (_, latest) = earlier.reading(labels, at.first_scrape);
            if earliest <= latest {
                return Err(format!(
                    "{} is dated {} in the second scrape, not after its reading of the first scrape ({}): time did not move forward between them, so the run window is no figure",
                    series_name(labels),
                    when(earliest),
                    when(latest)
                ));
            }
        }
        self.increase_since(earlier, Some(at.first_scrape))
    }

    /// The earliest and latest date (ms since the epoch) of a series' samples in this scrape,
    /// read at `read_at`: their own times, and `read_at` for any sample without one.
    fn reading(&self, labels: &str, read_at: i64) -> (i64, i64) {
        match self.dated.get(labels) {
            Some(&(earliest, latest)) if self.undated.contains(labels) => (earliest.min(read_at), latest.max(read_at)),
            Some(&range) => range,
            None => (read_at, read_at),
        }
    }

    /// The run window: each series' increase since `earlier` (resets handled per series),
    /// summed over the series (like `sum by (le) (increase(...))`). Every series of both
    /// scrapes must have one bucket layout, every series of the first scrape a sample in the
    /// second, none of them a sign of a restart, and no new series a sign it existed before the
    /// first scrape (`not_the_runs_sign`), or there is no window (`Err` says why). Undated:
    /// `window` also tells a series begun after the first scrape, and dates a new one's signs.
    pub fn since(&self, earlier: &ScrapedHistogram) -> Window {
        self.increase_since(earlier, None)
    }

    /// `since`, with the instant (ms since the epoch) the first scrape was read, when known.
    fn increase_since(&self, earlier: &ScrapedHistogram, first_scrape: Option<i64>) -> Window {
        // A series of either scrape with a _count or _sum and no bucket at all breaks the one
        // bucket rule (`metrics::classic_fault`) in that scrape (finding round35-figures/02): its
        // observations have no bound. Named here, before the layouts are compared (it would
        // read as a layout of its own), and in the first scrape too: seen there without buckets
        // and with them in the second, counted from zero it took its lifetime into the window.
        let scrapes = [("the first scrape", earlier), ("the second scrape", self)];
        for (scrape, histogram) in scrapes {
            for (labels, snapshot) in histogram.series.iter().filter(|(_, s)| s.buckets.is_empty()) {
                if let Some(fault) = snapshot.fault(f64::NEG_INFINITY, snapshot.sum.abs()) {
                    return Err(format!("{}in {scrape}: {fault}", named(labels)));
                }
            }
        }
        crate::metrics::same_layout(self.series.values().chain(earlier.series.values()))?;
        // No reading before the run (finding round29-figures/02: an empty first answer made the
        // target's lifetime the window): a window is the difference of two readings.
        if earlier.series.is_empty() {
            return Err("the scrape before the run held no sample of it: there is no reading from before the run to take the window from (Prometheus's increase gives a series with one sample no result), so the run window is no figure".to_string());
        }
        // A series with no second sample (its worker crashed or was replaced during the run)
        // observed an unknown number of values in the window: a regularly scraping Prometheus
        // would count them, so no figure leaves them out.
        let vanished: Vec<String> = earlier
            .series
            .keys()
            .filter(|labels| !self.series.contains_key(*labels))
            .map(|labels| quoted_series(labels))
            .collect();
        if !vanished.is_empty() {
            return Err(format!(
                "series {} of the first scrape are missing from the second: their observations during the run are unknown (a worker crashed or was replaced?), so the run window is no figure",
                vanished.join(", ")
            ));
        }
        // A series that restarted during the run (findings round14-figures/02,
        // round27-figures/03): like a vanished one, its observations before the restart are
        // unknown, so no figure leaves them out.
        let mut total = HistogramSnapshot::default();
        let mut restarted = Vec::new();
        let mut began_before = Vec::new();
        for (labels, after) in &self.series {
            let before = earlier.series.get(labels).cloned().unwrap_or_else(|| after.zeroed());
            // The one bucket rule (`metrics::classic_fault`) at both scrapes and over their
            // difference: buckets that are not cumulative, a +Inf bucket apart from the _count,
            // a _sum the buckets cannot hold (findings round18-figures/01 and /04). What a
            // series' observations are is then unknown, so the window is no figure, naming it.
            // Whether observations can be negative is the gate's to say; here the lowest
            // bucket is unbounded below.
            let lowest = f64::NEG_INFINITY;
            let scrapes =
                [("the first scrape", &before, before.sum.abs()), ("the second scrape", after, after.sum.abs())];
            for (scrape, snapshot, magnitude) in scrapes {
                if let Some(fault) = snapshot.fault(lowest, magnitude) {
                    return Err(format!("{}in {scrape}: {fault}", named(labels)));
                }
            }
            match self.not_the_runs_sign(earlier, labels, first_scrape) {
                Some(NotTheRuns::Restarted(sign)) => {
                    restarted.push(format!("{} ({sign})", quoted_series(labels)));
                    continue;
                }
                Some(NotTheRuns::BeganBefore(sign)) => {
                    began_before.push(format!(
                        "{} is missing from the scrape before the run, though {sign}",
                        series_name(labels)
                    ));
                    continue;
                }
                None => {}
            }
            let increase = after.increase_since(&before)?;
            if let Some(fault) = increase.fault(lowest, before.sum.abs() + after.sum.abs()) {
                return Err(format!("{}over the run window: {fault}", named(labels)));
            }
            total.add(&increase)
        }
        if !restarted.is_empty() {
            return Err(format!(
                "series {} restarted during the run: what each observed before its restart is unknown, so the run window is no figure",
                restarted.join(", ")
            ));
        }
        if !began_before.is_empty() {
            return Err(format!(
                "{}: counted from zero, its counts from before the run would join the window, so the run window is no figure",
                began_before.join("; ")
            ));
        }
        Ok(total)
    }

    /// The one rule telling that a series' counts since the first scrape are not known to be the
    /// run's: for a series read in both scrapes, a sign it restarted between them
    /// (`restart_sign`); for one first read in the later scrape, a sign it existed before the
    /// first scrape (`began_before_sign`), since counting it from zero would then take its
    /// lifetime into the window (finding round29-figures/01).
    fn not_the_runs_sign(
        &self,
        earlier: &ScrapedHistogram,
        labels: &str,
        first_scrape: Option<i64>,
    ) -> Option<NotTheRuns> {
        if earlier.series.contains_key(labels) {
            self.restart_sign(earlier, labels, first_scrape).map(NotTheRuns::Restarted)
        } else {
            self.began_before_sign(earlier, labels, first_scrape).map(NotTheRuns::BeganBefore)
        }
    }

    /// What says a series absent from the first scrape existed before it (findings
    /// round29-figures/01 and /02), `None` when nothing does and it may count from zero:
    /// - it is unlabelled: client libraries export an unlabelled histogram, at zero, from its
    ///   registration, so its absence means another process (or no exposition) answered;
    /// - its `_created` lies before the first scrape (beyond the clock skew allowance);
    /// - a process that may date it (`may_date`) started before the first scrape (beyond the
    ///   allowance), and that scrape did not show that process (no start gauge of its name,
    ///   labels and value): its counts may be older than the run. A process the first scrape
    ///   showed had not yet observed into the series (a new label), so it counts from zero.
    ///
    /// Without the first scrape's instant (`since`), a `_created` or an unshown process start
    /// cannot be dated after it, so it is a sign too: fail closed.
    fn began_before_sign(&self, earlier: &ScrapedHistogram, labels: &str, first_scrape: Option<i64>) -> Option<String> {
        if labels.is_empty() {
            return Some("a client library exports an unlabelled histogram from its registration on (another process, or no exposition, answered that scrape)".to_string());
        }
        let none = Origin::default();
        let now = self.origins.get(labels).unwrap_or(&none);
        let shown = |process: &String, seconds: f64| earlier.processes.get(process).is_some_and(|s| *s == seconds);
        let signs = now.created.into_iter().map(|s| ("its _created".to_string(), s, ""));
        let signs =
            signs.chain(now.process_started.iter().filter(|(process, seconds)| !shown(process, **seconds)).map(
                |(process, seconds)| {
                    (format!("its {}", quoted_gauge(process)), *seconds, ", which did not show that process")
                },
            ));
        for (sign, seconds, unshown) in signs {
            let Some(first_scrape) = first_scrape else {
                return Some(format!(
                    "{sign} {seconds} cannot be dated after the first scrape, whose instant is not known"
                ));
            };
            // Not provably at or after the first scrape (NaN included): it may have counted before.
            let earliest = first_scrape.saturating_sub(CLOCK_SKEW_MS) as f64;
            let at_or_after = (seconds * 1000.0).partial_cmp(&earliest).is_some_and(|o| o.is_ge());
            if !at_or_after {
                return Some(format!(
                    "{sign} {seconds} lies before the first scrape at {} ({}; allowing {} s of clock skew){unshown}",
                    first_scrape as f64 / 1000.0,
                    crate::metrics::rfc3339(first_scrape.div_euclid(1000)),
                    CLOCK_SKEW_MS / 1000
                ));
            }
        }
        None
    }

    /// The one rule telling that a series read in both scrapes restarted between them, by every
    /// sign the exposition gives (findings round14-figures/02, round27-figures/03): a counter
    /// (a bucket or the count) went down; its `_created` differs between the scrapes (written
    /// in one and not the other too: a process writes it or does not); a process start gauge
    /// that may date it (`may_date`) differs, or is written in one scrape only (finding
    /// round30-figures/02: a namespaced gauge, or one labelled by `pid`, counts too); or, when
    /// the first scrape's instant is known, its `_created` or process start in the second
    /// scrape lies after that instant (beyond the clock skew allowance).
    /// A restarted process may count past the old one's counts within minutes, so counters
    /// alone miss it. `Some` says which sign, for the reason.
    fn restart_sign(&self, earlier: &ScrapedHistogram, labels: &str, first_scrape: Option<i64>) -> Option<String> {
        // As written (seconds since the epoch): two `_created` a fraction of a second apart
        // differ, which a date to the second would hide.
        let when = |seconds: f64| format!("{seconds}");
        let (Some(after), Some(before)) = (self.series.get(labels), earlier.series.get(labels)) else {
            return None;
        };
        if after.increase_since(before).is_err() {
            return Some("counted less in the second scrape than in the first".to_string());
        }
        let none = Origin::default();
        let now = self.origins.get(labels).unwrap_or(&none);
        let then = earlier.origins.get(labels).unwrap_or(&none);
        let said = |seconds: Option<f64>| seconds.map_or("not written".to_string(), when);
        // Compared bit for bit: one process writes one `_created` text; NaN is never the same.
        let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        if !same(then.created, now.created) {
            return Some(format!(
                "its _created is {} in the second scrape, {} in the first",
                said(now.created),
                said(then.created)
            ));
        }
        let processes: std::collections::BTreeSet<&String> =
            then.process_started.keys().chain(now.process_started.keys()).collect();
        for process in processes {
            let (a, b) = (then.process_started.get(process).copied(), now.process_started.get(process).copied());
            if !same(a, b) {
                return Some(format!(
                    "{} is {} in the second scrape, {} in the first",
                    quoted_gauge(process),
                    said(b),
                    said(a)
                ));
            }
        }
        let first_scrape = first_scrape?;
        let began = now.created.into_iter().map(|s| ("its _created".to_string(), s));
        let began =
            began.chain(now.process_started.iter().map(|(process, s)| (format!("its {}", quoted_gauge(process)), *s)));
        for (sign, seconds) in began {
            if seconds * 1000.0 > first_scrape.saturating_add(CLOCK_SKEW_MS) as f64 {
                return Some(format!(
                    "{sign} {} lies after the first scrape at {} ({}; allowing {} s of clock skew)",
                    when(seconds),
                    when(first_scrape as f64 / 1000.0),
                    crate::metrics::rfc3339(first_scrape.div_euclid(1000)),
                    CLOCK_SKEW_MS / 1000
                ));
            }
        }
        None
    }

    /// Every series summed, as they stand.
    pub fn total(&self) -> HistogramSnapshot {
        let mut total = HistogramSnapshot::default();
        for series in self.series.values() {
            total.add(series);
        }
        total
    }
}

/// Why a series' counts since the first scrape are not known to be the run's (`not_the_runs_sign`).
enum NotTheRuns {
    /// Read in both scrapes, it restarted between them.
    Restarted(String),
    /// First read in the later scrape, it existed before the first.
    BeganBefore(String),
}

/// A process start gauge (`process_key`) as a reason quotes it, label values scrubbed as a
/// series' are (`quoted_series`).
fn quoted_gauge(process: &str) -> String {
    crate::secret::bounded(process, crate::escape::SHOWN)
}

/// A series' labels as a reason quotes them. Label values are the target's text and may hold a
/// credential (a series labelled by the client's token): scrubbed here, where they leave the
/// scrape, since a reason is written into the summary, the reports and history (finding
/// round15-text/01: only the terminal's line escaping scrubbed them). Bounded as shown text is
/// (`secret::bounded`) before it is scrubbed: the target's labels may be of any length, and a
/// long one scrubbed whole stalled the run (finding round33-text/04).
fn quoted_series(labels: &str) -> String {
    crate::secret::bounded(&format!("{{{labels}}}"), crate::escape::SHOWN)
}

/// A series as the subject of a reason: "series {…}", or the histogram's one unlabelled series.
fn series_name(labels: &str) -> String {
    if labels.is_empty() {
        "the unlabelled series".to_string()
    } else {
        format!("series {}", quoted_series(labels))
    }
}

/// "series {…} " naming a series in a reason, or nothing for a histogram's one unlabelled series
/// (the reason is read after the histogram's name).
fn named(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("series {} ", quoted_series(labels))
    }
}

/// Whether `name` is a metric name of the text format: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphabetic() || first == b'_' || first == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Parses the text exposition format, keeping histograms only (`_bucket`, `_sum`, `_count`),
/// series by series.
pub fn parse(url: &str, text: &str) -> Result<BTreeMap<String, ScrapedHistogram>, Error> {
    parse_as(url, Exposition::Text, text)
}

/// The format of an exposition, as Prometheus picks its parser: by the answer's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// The text format (`text/plain; version=0.0.4`, and any answer not named OpenMetrics).
    Text,
    /// OpenMetrics (`application/openmetrics-text`): it must end with `# EOF`.
    OpenMetrics,
}

impl Exposition {
    /// OpenMetrics exactly when the media type (before any `;` parameters, in any case) is
    /// `application/openmetrics-text`, as Prometheus decides; anything else is the text format.
    pub fn of_content_type(content_type: Option<&str>) -> Exposition {
        let media = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Exposition::OpenMetrics
        } else {
            Exposition::Text
        }
    }
}

/// The one rule for where an exposition ends (finding round31-figures/02): at `# EOF`, which
/// is the last line, followed by at most its newline, as Prometheus' OpenMetrics parser holds it
/// (`unexpected data after # EOF` for anything else, a blank line too). What follows `# EOF`
/// is no part of the exposition: read as comment and samples, an appended or concatenated
/// exposition joined the window a Prometheus never saw. So a scrape with anything after it is
/// refused, in either format, and an OpenMetrics one without it was cut short (`data does not
/// end with # EOF`). Returns the text before `# EOF` (all of it when there is none), or the line
/// at fault and why.
fn before_eof(text: &str, format: Exposition) -> Result<&str, (usize, String)> {
    const EOF: &str = "# EOF";
    let mut start = 0;
    let mut lines = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        lines = index + 1;
        if line.trim_start().starts_with(EOF) {
            let rest = &text[start..];
            if rest == EOF || rest == "# EOF\n" {
                return Ok(&text[..start]);
            }
            let (at, what) = match line.strip_suffix('\n').unwrap_or(line) {
                EOF => (index + 2, "follows `# EOF`"),
                _ => (index + 1, "is not `# EOF` alone, which ends the exposition"),
            };
            return Err((
                at,
                format!(
                    "{:?} {what}: nothing may follow the end of an exposition, not even a blank line (Prometheus refuses the scrape: unexpected data after # EOF)",
                    crate::escape::line(text[start..].split_inclusive('\n').nth(at - index - 1).unwrap_or_default().trim_end_matches('\n'))
                ),
            ));
        }
        start += line.len();
    }
    match format {
        Exposition::Text => Ok(text),
        Exposition::OpenMetrics => Err((
            lines.max(1),
            "an OpenMetrics exposition (Content-Type application/openmetrics-text) ends with `# EOF` and this one does not end with `# EOF`: it was cut short, and Prometheus refuses it".to_string(),
        )),
    }
}

/// Parses an exposition of `format` (`Exposition::of_content_type` of the answer), refusing
/// one that does not end where the format says (`before_eof`), as other malformed text is.
pub fn parse_as(url: &str, format: Exposition, text: &str) -> Result<BTreeMap<String, ScrapedHistogram>, Error> {
    let fail =
        |line: usize, why: &str| Error::Evidence { path: url.to_string(), message: format!("line {line}: {why}") };
    let text = before_eof(text, format).map_err(|(line, why)| fail(line, &why))?;
    let mut histograms: BTreeMap<String, ScrapedHistogram> = BTreeMap::new();
    // Each sample once: a series written twice in one scrape (Prometheus refuses it as a
    // duplicate sample) has no one reading, and adding the copies invents observations.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // When series and processes say they began (`Origin`): `_created` by histogram and series
    // key; process starts by their labels. Joined to the histograms' series once all is read.
    let mut created: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut process_starts: Vec<(Labels, String, f64)> = Vec::new();
    let mut series_labels: BTreeMap<String, Labels> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Every sample line is read or refused, never skipped (finding round28-figures/01:
        // `name {labels}`, with the space the text format allows, was read as a name ending in a
        // space), and so is every label of it (findings round36-figures/01 and /02: a quoted or
        // invalid label name was skipped, an undefined escape read as its bare character, and
        // two pods' series were read as one): the one tokenizer, `read_series`.
        let sample = read_series(line).map_err(|why| fail(number + 1, &why))?;
        let series = line[..line.len() - sample.rest.len()].trim_end();
        let rest = sample.rest;
        let name = sample.name.as_str();
        let carried = sample.carried();
        let key = series_key(&carried);
        let mut fields = rest.split_whitespace();
        let value_text = fields.next().ok_or_else(|| fail(number + 1, "no value"))?;
        // The sample's own time, when the exposition gives one: milliseconds since the epoch.
        let stamp: Option<i64> = match fields.next() {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                fail(number + 1, &format!("timestamp {text:?} is not a whole number of milliseconds since the epoch"))
            })?),
        };
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            // Read exactly or refused (`metrics::exact_figure_text`, the one rule for decimal
            // text from outside: finding round25-figures/02), as other malformed values are.
            other => crate::metrics::exact_figure_text(other).map_err(|why| {
                let why = if other.parse::<f64>().is_err() {
                    format!("value {other:?} is not a number")
                } else {
                    format!("value {why}")
                };
                fail(number + 1, &why)
            })?,
        };
        let origin_sign = name.ends_with("_created") || is_process_start(name);
        if name.ends_with("_bucket") || name.ends_with("_sum") || name.ends_with("_count") || origin_sign {
            let mut labels = carried.clone();
            for (label, value) in labels.iter_mut() {
                // `le="1"` and `le="1.0"` are one bucket to the reader, so one sample here.
                if label == "le" {
                    if let Ok(bound) = value.parse::<f64>() {
                        *value = format!("{bound:?}");
                    }
                }
            }
            labels.sort();
            let identity = format!("{name:?}{labels:?}");
            if let Some(first) = seen.insert(identity, number + 1) {
                return Err(fail(
                    number + 1,
                    &format!("{series} was already written on line {first}: a series written twice in one scrape has no one reading"),
                ));
            }
        }
        // Counts of a histogram are finite and not negative, its sum finite ("5e999" reads as
        // +Inf): anything else turns quantiles into NaN, a figure that can pass `!=` gates.
        let is_count = name.ends_with("_bucket") || name.ends_with("_count");
        if ((is_count || name.ends_with("_sum")) && !value.is_finite()) || (is_count && value < 0.0) {
            return Err(fail(number + 1, &format!("{name} value {value_text:?} is out of range for a histogram")));
        }
        if let Some(base) = name.strip_suffix("_created") {
            created.insert((base.to_string(), key.clone()), value);
        } else if is_process_start(name) {
            let mut labels = carried.clone();
            labels.sort();
            process_starts.push((labels, process_key(name, &key), value));
        }
        let base =
            name.strip_suffix("_bucket").or_else(|| name.strip_suffix("_sum")).or_else(|| name.strip_suffix("_count"));
        match (stamp, base) {
            (Some(stamp), Some(base)) => {
                let range =
                    histograms.entry(base.to_string()).or_default().dated.entry(key.clone()).or_insert((stamp, stamp));
                *range = (range.0.min(stamp), range.1.max(stamp));
            }
            (None, Some(base)) => {
                histograms.entry(base.to_string()).or_default().undated.insert(key.clone());
            }
            _ => {}
        }
        if let Some(base) = name.strip_suffix("_bucket") {
            let le = carried
                .iter()
                .find(|(label, _)| label == "le")
                .map(|(_, value)| value.as_str())
                .ok_or_else(|| fail(number + 1, "a _bucket sample without le"))?;
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                match crate::metrics::exact_figure_text(le) {
                    Ok(bound) if !bound.is_nan() => bound,
                    Ok(_) => return Err(fail(number + 1, "le is not a number")),
                    Err(why) if le.parse::<f64>().is_ok() => return Err(fail(number + 1, &format!("le {why}"))),
                    Err(_) => return Err(fail(number + 1, "le is not a number")),
                }
            };
            series_labels.entry(key.clone()).or_insert_with(|| {
                let mut labels = carried.clone();
                labels.retain(|(k, _)| k != "le");
                labels
            });
            let snapshot = series_of(&mut histograms, base, &key);
            match snapshot.buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, count)) => *count += value,
                None => snapshot.buckets.push((le, value)),
            }
        } else if let Some(base) = name.strip_suffix("_sum") {
            series_of(&mut histograms, base, &key).sum += value;
        } else if let Some(base) = name.strip_suffix("_count") {
            series_of(&mut histograms, base, &key).count += value;
        }
    }
    for (base, histogram) in histograms.iter_mut() {
        // A series with a _sum or _count and no bucket is kept: the one bucket rule
        // (`metrics::classic_fault`) makes it a fault of the window, naming it (finding
        // round35-figures/02: dropped here, its observations above every bound left the window).
        let ScrapedHistogram { series, dated, undated, origins, processes } = histogram;
        *processes = process_starts.iter().map(|(_, process, seconds)| (process.clone(), *seconds)).collect();
        dated.retain(|labels, _| series.contains_key(labels));
        undated.retain(|labels| series.contains_key(labels));
        for key in series.keys() {
            let carried = series_labels.get(key).map(Vec::as_slice).unwrap_or_default();
            let process_started: BTreeMap<String, f64> = process_starts
                .iter()
                .filter(|(labels, _, _)| may_date(labels, carried))
                .map(|(_, process, seconds)| (process.clone(), *seconds))
                .collect();
            let origin = Origin { created: created.get(&(base.clone(), key.clone())).copied(), process_started };
            if origin != Origin::default() {
                origins.insert(key.clone(), origin);
            }
        }
        for series in histogram.series.values_mut() {
            series.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    histograms.retain(|_, h| !h.series.is_empty());
    Ok(histograms)
}

/// A sample's labels as (name, value).
type Labels = Vec<(String, String)>;

/// The gauge every client library writes for its process (seconds since the epoch): a process
/// that restarted writes a new one.
const PROCESS_START: &str = "process_start_time_seconds";

/// The one rule naming a process start gauge (finding round30-figures/02): any gauge whose name
/// ends in `process_start_time_seconds`. Client libraries write it under the namespace or prefix
/// they are given (prom-client `prefix`, client_golang `Namespace`, prometheus_client
/// `namespace=`: `myapp_process_start_time_seconds`), and a restart that the unprefixed name
/// tells is a restart whatever the collector is called.
fn is_process_start(name: &str) -> bool {
    name.ends_with(PROCESS_START)
}

/// Whether a process start gauge with these labels may date a series with those (both without
/// `le`): the one rule matching a process to the series it dates. The gauge dates the series when
/// the series carries every label of it (an unlabelled gauge is the whole exposition's); it
/// dates another process's series, and not this one, when a label both carry has another value
/// (`{worker="b"}` beside `{worker="a"}`). A label the series does not carry (`pid`, `instance`)
/// cannot tell which series the process wrote, so the gauge may date it: a restart it tells is
/// read as this series' too (fail closed).
fn may_date(gauge: &[(String, String)], series: &[(String, String)]) -> bool {
    gauge.iter().all(|(name, value)| series.iter().find(|(carried, _)| carried == name).is_none_or(|(_, v)| v == value))
}

/// A process start gauge as one process's: its name and labels (`name{labels}`, or the name
/// alone when unlabelled). Two gauges of one labels and two names (`process_start_time_seconds`
/// beside `myapp_process_start_time_seconds`) are two signs.
fn process_key(name: &str, key: &str) -> String {
    if key.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{key}}}")
    }
}

/// The series of histogram `base` of series key `key` (`series_key`).
fn series_of<'a>(
    histograms: &'a mut BTreeMap<String, ScrapedHistogram>,
    base: &str,
    key: &str,
) -> &'a mut HistogramSnapshot {
    histograms.entry(base.to_string()).or_default().series.entry(key.to_string()).or_default()
}

/// A sample's series key: its label set (`SampleSeries::carried`) without `le`, in a canonical
/// order, each label written so that two label sets never share a key (`key_name`).
fn series_key(labels: &[(String, String)]) -> String {
    let mut labels: Vec<&(String, String)> = labels.iter().filter(|(k, _)| k != "le").collect();
    labels.sort();
    let key: Vec<String> = labels.iter().map(|(k, v)| format!("{}={v:?}", key_name(k))).collect();
    key.join(",")
}

/// A sample line's series as the exposition tokenizer (`read_series`) reads it.
#[derive(Debug, Clone, PartialEq)]
struct SampleSeries<'a> {
    /// The metric name, written before the braces or quoted in them.
    name: String,
    /// Every label as written, in order: names and values unescaped, empty values kept.
    labels: Labels,
    /// The line after the series: its value and any timestamp.
    rest: &'a str,
}

impl SampleSeries<'_> {
    /// The labels that make the series, as Prometheus reads them: a label with an empty value
    /// is no label (`{worker="a",shard=""}` is `{worker="a"}`; finding round7-judge/03: the two
    /// were added up as two series).
    fn carried(&self) -> Labels {
        self.labels.iter().filter(|(_, value)| !value.is_empty()).cloned().collect()
    }
}

/// Whether `name` is a label name of the text format written unquoted: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The exposition tokenizer: the one rule reading a sample line's series (findings
/// round36-figures/01 and /02). Every label is read exactly, or the line is refused: never
/// skipped, never read as another. Prometheus's text parser (`model/textparse`, promlex.l and
/// promparse.go) is the reference:
/// - a name is `[a-zA-Z_:][a-zA-Z0-9_:]*` before the braces, or a quoted string that is first
///   followed by `,` or `}` inside them (`{"my.metric",le="1"}`, Prometheus 3 / OpenMetrics 2
///   UTF-8 names), never both;
/// - a label name is `[a-zA-Z_][a-zA-Z0-9_]*`, or quoted (`{"k8s.pod.name"="a"}`) and read as the
///   name it quotes; anything else (`pod-name`) refuses the line, as Prometheus does;
/// - quoted names and values read `\\`, `\"` and `\n` as `\`, `"` and a newline, and keep any
///   other escape as the two characters written (`a\b` is three characters, not `ab`), as
///   Prometheus's scrape parser does (its lexer takes `\\.` as one unit of a quoted string, and
///   the replacer unescapes only those three);
/// - whitespace may surround each token and a comma may end the label set, as in Prometheus;
///   a label named twice, or `__name__`, refuses the line (Prometheus: not unique).
///
/// Returns the series, or what was expected where the line breaks the rule.
fn read_series(line: &str) -> Result<SampleSeries<'_>, String> {
    const GAP: [char; 2] = [' ', '\t'];
    let written_end = line.find([' ', '\t', '{']).unwrap_or(line.len());
    let written = &line[..written_end];
    if !written.is_empty() && !is_metric_name(written) {
        return Err(format!(
            "{:?} is not a metric name (letters, digits, `_` and `:`, not starting with a digit)",
            crate::escape::line(written)
        ));
    }
    let mut name = (!written.is_empty()).then(|| written.to_string());
    let after_name = line[written_end..].trim_start_matches(GAP);
    let Some(mut rest) = after_name.strip_prefix('{') else {
        let name = name.ok_or("expected a metric name or `{`")?;
        return Ok(SampleSeries { name, labels: Vec::new(), rest: &line[written_end..] });
    };
    let mut labels: Labels = Vec::new();
    loop {
        rest = rest.trim_start_matches(GAP);
        if let Some(after) = rest.strip_prefix('}') {
            rest = after;
            break;
        }
        let quoted = rest.starts_with('"');
        let (label_name, after) = if quoted {
            quoted_string(rest)?
        } else {
            // The name runs to the next token, so `pod-name` is refused whole, not read as `pod`.
            let end = rest.find(['=', ',', '}', '"', ' ', '\t']).unwrap_or(rest.len());
            let word = &rest[..end];
            if !is_label_name(word) {
                let shown: String = word.chars().take(40).collect();
                return Err(format!(
                    "expected a label name (letters, digits and `_`, not starting with a digit, or a quoted name) and found {:?}",
                    crate::escape::line(&shown)
                ));
            }
            (word.to_string(), &rest[end..])
        };
        let after = after.trim_start_matches(GAP);
        if quoted && (after.starts_with(',') || after.starts_with('}')) {
            if name.is_some() {
                return Err(format!(
                    "the quoted metric name {:?} follows a metric name: a series has one name",
                    crate::escape::line(&label_name)
                ));
            }
            if label_name.is_empty() {
                return Err("the quoted metric name is empty".to_string());
            }
            name = Some(label_name);
            rest = after.strip_prefix(',').unwrap_or(after);
            continue;
        }
        let shown_name = crate::escape::line(&label_name);
        let after = after
            .strip_prefix('=')
            .ok_or_else(|| format!("expected `=` after the label name {shown_name:?}"))?
            .trim_start_matches(GAP);
        if !after.starts_with('"') {
            return Err(format!("expected a quoted value for the label {shown_name:?}"));
        }
        let (value, after) = quoted_string(after)?;
        if label_name.is_empty() {
            return Err("a quoted label name is empty".to_string());
        }
        if label_name == "__name__" || labels.iter().any(|(seen, _)| *seen == label_name) {
            return Err(format!("the label {shown_name:?} is written twice: a label of a series has one value"));
        }
        labels.push((label_name, value));
        let after = after.trim_start_matches(GAP);
        rest = after.strip_prefix(',').unwrap_or(after);
    }
    let name = name.ok_or("expected a metric name before `{` or quoted first in it")?;
    Ok(SampleSeries { name, labels, rest })
}

/// A quoted string of the label set (a quoted name or a value) at the start of `text`, read
/// by the one escape rule (`read_series`), and the text after its closing quote.
fn quoted_string(text: &str) -> Result<(String, &str), String> {
    let mut read = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Ok((read, &text[index + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => read.push('\\'),
                Some((_, '"')) => read.push('"'),
                Some((_, 'n')) => read.push('\n'),
                // Not an escape of the format: kept as written, as Prometheus keeps it.
                Some((_, other)) => {
                    read.push('\\');
                    read.push(other);
                }
                None => break,
            },
            other => read.push(other),
        }
    }
    Err("a quoted string is not closed (expected `\"` before the end of the line)".to_string())
}

/// A label name as a series key writes it: bare when it is a name of the text format, quoted
/// otherwise (`"k8s.pod.name"`), so that no name holding `=`, `,` or `"` makes two label sets
/// one key.
fn key_name(name: &str) -> String {
    if is_label_name(name) {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two scrapes around a three-second run, in ms since the epoch: the first 10 ms before
    /// the run starts (1_700_000_000 s), the second 10 ms after it ends. The texts of the tests
    /// that use it date their samples against these instants (an hour or a day before, just
    /// after the first scrape).
    const RUN_AT: Instants = Instants {
        first_scrape: 1_700_000_000_000,
        run_start: 1_700_000_000_010,
        run_end: 1_700_000_003_010,
        second_scrape: 1_700_000_003_020,
    };

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Finding round28-figures/01, the class: every sample line is read or refused, never
        /// skipped. Whitespace the text format allows between a name and its labels, or after
        /// a label-less name, reads as without it; a line whose name is no metric name is an
        /// error naming the line.
        #[test]
        fn every_sample_line_is_read_or_refused(
            gaps in proptest::collection::vec("[ \t]{0,3}", 8),
            bad in "[0-9.{-][a-z_]{0,6}",
        ) {
            let lines = |gap: &dyn Fn(usize) -> String| {
                format!(
                    "lag_seconds_bucket{}{{worker=\"a\",le=\"1\"}} 90\nlag_seconds_bucket{}{{worker=\"a\",le=\"+Inf\"}} 100\n\
                     lag_seconds_sum{}{{worker=\"a\"}} 50\nlag_seconds_count{}{{worker=\"a\"}} 100\n\
                     lag_seconds_bucket{}{{worker=\"b\",le=\"1\"}} 0\nlag_seconds_bucket{}{{worker=\"b\",le=\"+Inf\"}} 100\n\
                     lag_seconds_sum{}{{worker=\"b\"}} 40000\nlag_seconds_count {} 100\n",
                    gap(0), gap(1), gap(2), gap(3), gap(4), gap(5), gap(6), gap(7)
                )
            };
            let plain = parse("t", &lines(&|_| String::new()).replace("lag_seconds_count  100", "lag_seconds_count 100"));
            let spaced = parse("t", &lines(&|i| gaps[i].clone()));
            proptest::prop_assert_eq!(format!("{:?}", plain.map_err(|e| e.to_string())), format!("{:?}", spaced.map_err(|e| e.to_string())));
            let refused = parse("t", &format!("{}\n{bad} 1\n", lines(&|_| String::new())));
            proptest::prop_assert!(refused.is_err(), "{:?} was skipped", bad);
        }
    }

    /// One worker's histogram as a client library writes it (`count` observations ≤ 1 s).
    fn worker(name: &str, count: u32) -> String {
        format!(
            "lag_seconds_bucket{{worker=\"{name}\",le=\"1\"}} {count}\nlag_seconds_bucket{{worker=\"{name}\",le=\"+Inf\"}} {count}\n\
             lag_seconds_sum{{worker=\"{name}\"}} {count}\nlag_seconds_count{{worker=\"{name}\"}} {count}\n"
        )
    }

    /// Finding round31-figures/02: `# EOF` ends an exposition (Prometheus' OpenMetrics parser:
    /// `unexpected data after # EOF`, `data does not end with # EOF`); it was read as a comment
    /// and the series after it joined the window.
    #[test]
    fn nothing_is_read_after_eof_and_an_openmetrics_exposition_ends_with_it() {
        let whole = format!("# TYPE lag_seconds histogram\n{}# EOF\n", worker("a", 10));
        for format in [Exposition::Text, Exposition::OpenMetrics] {
            assert!(parse_as("u", format, &whole).is_ok(), "{format:?}");
            assert!(parse_as("u", format, whole.trim_end()).is_ok(), "{format:?}: no newline after # EOF");
            // Prometheus refuses a blank line after `# EOF` too (`# EOF\n\n`).
            for tail in [worker("b", 1000), "\n".to_string(), " \n".to_string(), "# HELP x y\n".to_string()] {
                let err = parse_as("u", format, &format!("{whole}{tail}")).unwrap_err().to_string();
                assert!(err.contains("line 7") && err.contains("# EOF"), "{format:?} {tail:?}: {err}");
            }
            let err = parse_as("u", format, &whole.replace("# EOF", "# EOFa 1")).unwrap_err().to_string();
            assert!(err.contains("line 6") && err.contains("# EOF"), "{format:?}: {err}");
        }
        let cut = format!("# TYPE lag_seconds histogram\n{}", worker("a", 10));
        assert!(parse_as("u", Exposition::Text, &cut).is_ok());
        for text in [cut.as_str(), ""] {
            let err = parse_as("u", Exposition::OpenMetrics, text).unwrap_err().to_string();
            assert!(err.contains("does not end with `# EOF`"), "{err}");
        }
    }

    #[test]
    fn the_content_type_names_the_format_as_prometheus_reads_it() {
        for openmetrics in
            ["application/openmetrics-text; version=1.0.0; charset=utf-8", "Application/OpenMetrics-Text"]
        {
            assert_eq!(Exposition::of_content_type(Some(openmetrics)), Exposition::OpenMetrics);
        }
        for text in [Some("text/plain; version=0.0.4"), Some(""), None, Some("application/openmetrics-textual")] {
            assert_eq!(Exposition::of_content_type(text), Exposition::Text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Finding round31-figures/02, the class: `# EOF` anywhere in an exposition of either
        /// format — before, between or inside the workers' series — ends it; a scrape with any
        /// sample (or anything else) after it is refused, never a reading the window is judged
        /// from, and one with nothing after it reads exactly as the text before it.
        #[test]
        fn a_scrape_with_anything_after_eof_is_never_a_reading(
            counts in proptest::collection::vec(0u32..2000, 1..4),
            at in 0usize..40,
            after_eof_newline in proptest::bool::ANY,
            openmetrics in proptest::bool::ANY,
        ) {
            let format = if openmetrics { Exposition::OpenMetrics } else { Exposition::Text };
            let body: String = counts.iter().enumerate().map(|(i, n)| worker(&format!("w{i}"), *n)).collect();
            let lines: Vec<&str> = body.lines().collect();
            let at = at % (lines.len() + 1);
            let (head, tail) = lines.split_at(at);
            let head: String = head.iter().map(|l| format!("{l}\n")).collect();
            let tail: String = tail.iter().map(|l| format!("{l}\n")).collect();
            let eof = if after_eof_newline { "# EOF\n" } else { "# EOF" };
            let text = format!("{head}{eof}{}{tail}", if tail.is_empty() || after_eof_newline { "" } else { "\n" });
            let read = parse_as("t", format, &text);
            if tail.is_empty() {
                let head_only = parse_as("t", Exposition::Text, &head);
                proptest::prop_assert_eq!(format!("{read:?}"), format!("{head_only:?}"));
            } else {
                let err = read.expect_err("a sample after # EOF was read").to_string();
                proptest::prop_assert!(err.contains(&format!("line {}", at + 2)) && err.contains("# EOF"), "{}", err);
            }
        }
    }

    const BEFORE: &str = "# TYPE lag histogram\nlag_bucket{le=\"1\"} 10\nlag_bucket{le=\"5\"} 20\nlag_bucket{le=\"10\"} 20\nlag_bucket{le=\"+Inf\"} 20\nlag_sum 40\nlag_count 20\n";
    const AFTER: &str = "lag_bucket{le=\"1\"} 10\nlag_bucket{le=\"5\"} 110\nlag_bucket{le=\"10\"} 120\nlag_bucket{le=\"+Inf\"} 120\nlag_sum 440\nlag_count 120\nother_total 5\n";

    #[test]
    fn run_window_quantiles_follow_histogram_quantile() {
        let before = parse("before", BEFORE).unwrap();
        let after = parse("after", AFTER).unwrap();
        let window = after["lag"].since(&before["lag"]).unwrap();
        assert_eq!(window.buckets, vec![(1.0, 0.0), (5.0, 90.0), (10.0, 100.0), (f64::INFINITY, 100.0)]);
        // rank 50 of 100 falls in (1, 5]: 1 + 4 * 50/90.
        assert!((window.quantile(0.5).unwrap() - (1.0 + 4.0 * 50.0 / 90.0)).abs() < 1e-12);
        // rank 95 in (5, 10]: 5 + 5 * (95-90)/10 = 7.5.
        assert!((window.quantile(0.95).unwrap() - 7.5).abs() < 1e-12);
        assert_eq!(window.quantile(1.0), Some(10.0));
        assert_eq!(window.mean(), Some(4.0));
        assert_eq!(HistogramSnapshot::default().quantile(0.5), None);
    }

    /// Finding round7-judge/03: `{w="a",shard=""}` is `{w="a"}` to Prometheus: written beside
    /// it, it is the same series twice (refused), never a second series added to the first.
    #[test]
    fn a_label_with_an_empty_value_is_no_label() {
        let twice = "l_bucket{w=\"a\",le=\"1\"} 5\nl_bucket{w=\"a\",le=\"+Inf\"} 5\nl_bucket{w=\"a\",shard=\"\",le=\"1\"} 1000\n";
        let err = parse("x", twice).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("twice"), "{err}");
        let alone = parse("x", "l_bucket{w=\"a\",shard=\"\",le=\"+Inf\"} 5\n").unwrap();
        assert_eq!(alone["l"].series.keys().collect::<Vec<_>>(), vec!["w=\"a\""]);
    }

    #[test]
    fn above_the_last_finite_bucket_is_unbounded() {
        let h = parse("x", "l_bucket{le=\"1\"} 0\nl_bucket{le=\"+Inf\"} 5\n").unwrap();
        assert_eq!(h["l"].total().quantile(0.5), Some(f64::INFINITY));
        // 4 of 100 observations above the highest bucket (120 s): the max is unbounded.
        let h = parse("x", "q_bucket{le=\"120\"} 96\nq_bucket{le=\"+Inf\"} 100\nq_sum 30000\nq_count 100\n").unwrap();
        let total = h["q"].total();
        assert_eq!(total.quantile(1.0), Some(f64::INFINITY));
        assert!((total.quantile(0.5).unwrap() - 62.5).abs() < 1e-9);
        assert_eq!(total.highest_finite_bound(), Some(120.0));
        assert!(parse("bad", "l_bucket{le=\"1\"} many\n").unwrap_err().to_string().contains("line 1"));
    }

    /// Finding round14-figures/02: a series whose counters went down between the scrapes (a
    /// pod restarted in place, same labels) lost what it observed before the restart: no
    /// window, naming it, never the other series' window plus its post-restart counts.
    #[test]
    fn a_series_restarted_between_the_scrapes_gives_no_window_naming_it() {
        // Worker a restarted (its counters went down to 5); worker b observed 95 slow values.
        let before = parse("b", "lag_bucket{w=\"a\",le=\"1\"} 1000\nlag_bucket{w=\"a\",le=\"+Inf\"} 1000\nlag_count{w=\"a\"} 1000\nlag_sum{w=\"a\"} 500\nlag_bucket{w=\"b\",le=\"1\"} 0\nlag_bucket{w=\"b\",le=\"+Inf\"} 0\nlag_count{w=\"b\"} 0\nlag_sum{w=\"b\"} 0\n").unwrap();
        let after = parse("a", "lag_bucket{w=\"a\",le=\"1\"} 5\nlag_bucket{w=\"a\",le=\"+Inf\"} 5\nlag_count{w=\"a\"} 5\nlag_sum{w=\"a\"} 2\nlag_bucket{w=\"b\",le=\"1\"} 0\nlag_bucket{w=\"b\",le=\"+Inf\"} 95\nlag_count{w=\"b\"} 95\nlag_sum{w=\"b\"} 9500\n").unwrap();
        let why = after["lag"].since(&before["lag"]).unwrap_err();
        assert!(why.contains("w=\"a\"") && !why.contains("w=\"b\"") && why.contains("restarted"), "{why}");
        // One bucket counter down is a restart too, whatever the count did.
        let bucket = parse("a", "lag_bucket{w=\"a\",le=\"1\"} 999\nlag_bucket{w=\"a\",le=\"+Inf\"} 1001\nlag_count{w=\"a\"} 1001\nlag_sum{w=\"a\"} 600\nlag_bucket{w=\"b\",le=\"1\"} 0\nlag_bucket{w=\"b\",le=\"+Inf\"} 95\nlag_count{w=\"b\"} 95\nlag_sum{w=\"b\"} 9500\n").unwrap();
        assert!(bucket["lag"].since(&before["lag"]).unwrap_err().contains("w=\"a\""));
        // Without a restart, the series' increases are summed.
        let grown = parse("a", "lag_bucket{w=\"a\",le=\"1\"} 1005\nlag_bucket{w=\"a\",le=\"+Inf\"} 1005\nlag_count{w=\"a\"} 1005\nlag_sum{w=\"a\"} 502\nlag_bucket{w=\"b\",le=\"1\"} 0\nlag_bucket{w=\"b\",le=\"+Inf\"} 95\nlag_count{w=\"b\"} 95\nlag_sum{w=\"b\"} 9500\n").unwrap();
        let window = grown["lag"].since(&before["lag"]).unwrap();
        assert_eq!(window.buckets, vec![(1.0, 5.0), (f64::INFINITY, 100.0)]);
        assert_eq!(window.count, 100.0);
        assert_eq!(window.quantile(0.99), Some(f64::INFINITY));
    }

    /// Finding round27-figures/03: the exporter restarted after the first scrape and its new
    /// process counted past the old one's counts (100 observations, then 160: every counter
    /// rose), but its `_created` (or its process start) says so: no window, naming the series
    /// and the sign. The same signs in both scrapes are no restart: the window is judged.
    #[test]
    fn a_series_whose_exposition_says_it_restarted_gives_no_window_though_it_counted_more() {
        let at = RUN_AT;
        let text = |count: u32, extra: &str| {
            format!("lag_bucket{{le=\"1\"}} {count}\nlag_bucket{{le=\"+Inf\"}} {count}\nlag_sum 0\nlag_count {count}\n{extra}")
        };
        let judge = |before: &str, after: &str, at: &Instants| {
            let (before, after) = (parse("b", &text(100, before)).unwrap(), parse("a", &text(160, after)).unwrap());
            after["lag"].window(&before["lag"], at)
        };
        let hour_ago = "1699996400";
        let cases = [
            (format!("lag_created {hour_ago}\n"), "lag_created 1700000001.5\n".to_string(), "_created"),
            (String::new(), "lag_created 1700000001.5\n".to_string(), "_created"),
            (
                format!("process_start_time_seconds {hour_ago}\n"),
                "process_start_time_seconds 1700000001\n".to_string(),
                "process_start_time_seconds",
            ),
        ];
        for (before, after, sign) in cases {
            let why = judge(&before, &after, &at).unwrap_err();
            assert!(why.contains("{}") && why.contains("restarted") && why.contains(sign), "{why}");
        }
        // Dated after the first scrape in both (beyond the clock skew allowance): begun after it.
        let later = "lag_created 1700000400\n";
        let why = judge(later, later, &at).unwrap_err();
        assert!(why.contains("lies after the first scrape"), "{why}");
        let same = format!("lag_created {hour_ago}\nprocess_start_time_seconds {hour_ago}\n");
        assert_eq!(judge(&same, &same, &at).unwrap().count, 60.0);
        // A labelled process start marks the series carrying its labels only.
        let two = |a: u32, b: u32, start_b: &str| {
            format!("l_bucket{{w=\"a\",le=\"+Inf\"}} {a}\nl_count{{w=\"a\"}} {a}\nl_bucket{{w=\"b\",le=\"+Inf\"}} {b}\nl_count{{w=\"b\"}} {b}\nprocess_start_time_seconds{{w=\"a\"}} 5\nprocess_start_time_seconds{{w=\"b\"}} {start_b}\n")
        };
        let (before, after) = (parse("b", &two(1, 1, "5")).unwrap(), parse("a", &two(2, 9, "6")).unwrap());
        let why = after["l"].since(&before["l"]).unwrap_err();
        assert!(why.contains("w=\"b\"") && !why.contains("{w=\"a\"} ("), "{why}");
    }

    /// Finding round30-figures/02: client libraries write the process start gauge under a
    /// namespace (prom-client `prefix`, client_golang `Namespace`, prometheus_client
    /// `namespace=`: `myapp_process_start_time_seconds`), or with a label the histogram's series
    /// do not carry (`pid`). The new process counted past the old one's counts, yet the gauge
    /// says it restarted: no window, naming the series and the gauge. A gauge whose labels
    /// conflict with a series' (another worker's process) does not date it.
    #[test]
    fn a_namespaced_or_otherwise_labelled_process_start_says_a_restart_too() {
        let at = RUN_AT;
        let text = |count: u32, extra: &str| {
            format!("lag_bucket{{w=\"a\",le=\"1\"}} {count}\nlag_bucket{{w=\"a\",le=\"+Inf\"}} {count}\nlag_sum{{w=\"a\"}} 0\nlag_count{{w=\"a\"}} {count}\n{extra}")
        };
        let judge = |before: &str, after: &str| {
            let (before, after) = (parse("b", &text(100, before)).unwrap(), parse("a", &text(160, after)).unwrap());
            after["lag"].window(&before["lag"], &at)
        };
        let hour_ago = "1699996400";
        let cases = [
            ("myapp_process_start_time_seconds", "", ""),
            ("nodejs_process_start_time_seconds", "", ""),
            ("process_start_time_seconds", "{pid=\"7\"}", "{pid=\"7\"}"),
            // Another process (pid 8) in the second scrape, pid 7's gone: written in one only.
            ("myapp_process_start_time_seconds", "{pid=\"7\"}", "{pid=\"8\"}"),
        ];
        for (gauge, first, second) in cases {
            let before = format!("{gauge}{first} {hour_ago}\n");
            let why = judge(&before, &format!("{gauge}{second} 1700000001\n")).unwrap_err();
            assert!(why.contains("restarted") && why.contains("w=\"a\"") && why.contains(gauge), "{gauge}: {why}");
            // Written in the first scrape only (the new process writes none): a restart too.
            assert!(judge(&before, "").unwrap_err().contains("restarted"), "{gauge}");
            // The same gauge in both: judged.
            assert_eq!(judge(&before, &before).unwrap().count, 60.0, "{gauge}");
        }
        // Another worker's process: its labels conflict with the series', so it does not date it.
        let other = |start: &str| format!("myapp_process_start_time_seconds{{w=\"b\"}} {start}\n");
        assert_eq!(judge(&other(hour_ago), &other("1700000001")).unwrap().count, 60.0);
    }

    /// Finding round13-figures/02: a series of the first scrape missing from the second (a pod
    /// crashed or replaced during the run) has unknown run-window observations: no window,
    /// naming it, never the surviving series' window judged as the whole run's.
    #[test]
    fn a_series_vanished_between_the_scrapes_gives_no_window_naming_it() {
        let series = |pod: &str, n: u32| {
            format!("lag_bucket{{pod=\"{pod}\",le=\"1\"}} {n}\nlag_bucket{{pod=\"{pod}\",le=\"+Inf\"}} {n}\nlag_sum{{pod=\"{pod}\"}} 100\nlag_count{{pod=\"{pod}\"}} {n}\n")
        };
        let before = parse("b", &(series("api-a", 1000) + &series("api-b", 1000))).unwrap();
        let after = parse("a", &series("api-a", 1050)).unwrap();
        let why = after["lag"].since(&before["lag"]).unwrap_err();
        assert!(why.contains("pod=\"api-b\"") && !why.contains("api-a"), "{why}");
    }

    /// Finding figures5/04: a bucket absent from the first scrape was taken as 0 there, so its
    /// lifetime count (1000) became window observations beside a _count that grew by 50.
    #[test]
    fn a_bucket_layout_change_gives_no_window_and_a_new_series_counts_from_zero() {
        let before =
            parse("b", "lag_bucket{le=\"1\"} 1000\nlag_bucket{le=\"+Inf\"} 1000\nlag_sum 100\nlag_count 1000\n")
                .unwrap();
        let after = parse("a", "lag_bucket{le=\"1\"} 1000\nlag_bucket{le=\"10\"} 1000\nlag_bucket{le=\"+Inf\"} 1050\nlag_sum 100000\nlag_count 1050\n").unwrap();
        let why = after["lag"].since(&before["lag"]).unwrap_err();
        assert!(
            why.contains("bucket layout") && why.contains("le {1, +Inf}") && why.contains("le {1, 10, +Inf}"),
            "{why}"
        );
        // A series that began during the run (no sample before) is all window.
        let grown = parse("a", "lag_bucket{le=\"1\"} 1000\nlag_bucket{le=\"+Inf\"} 1050\nlag_sum 200\nlag_count 1050\nlag_bucket{w=\"new\",le=\"1\"} 0\nlag_bucket{w=\"new\",le=\"+Inf\"} 3\nlag_sum{w=\"new\"} 300\nlag_count{w=\"new\"} 3\n").unwrap();
        let window = grown["lag"].since(&before["lag"]).unwrap();
        assert_eq!(window.buckets, vec![(1.0, 0.0), (f64::INFINITY, 53.0)]);
        assert_eq!(window.count, 53.0);
        // A new series of another layout mixes layouts: no window either.
        let mixed = parse("a", "lag_bucket{le=\"1\"} 1000\nlag_bucket{le=\"+Inf\"} 1050\nlag_count 1050\nlag_bucket{w=\"new\",le=\"10\"} 0\nlag_bucket{w=\"new\",le=\"+Inf\"} 3\nlag_count{w=\"new\"} 3\n").unwrap();
        assert!(mixed["lag"].since(&before["lag"]).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Findings figures5/04, round13-figures/02 and round14-figures/02. Rule: the run
        /// window is a figure exactly when every series of both scrapes has one bucket layout,
        /// every series of the first scrape is in the second and none of them went down (it
        /// restarted); a series absent before counts from zero. A series that vanished or
        /// restarted is named.
        #[test]
        fn a_window_is_a_figure_exactly_when_every_series_has_one_layout(
            series in proptest::collection::vec(
                (proptest::option::of(1u8..16), proptest::option::of(1u8..16), 0u32..100, 0u32..100, proptest::bool::ANY),
                1..4,
            ),
        ) {
            let bounds = [0.1, 1.0, 10.0, f64::INFINITY];
            // Every layout has its +Inf bucket (bit 3) and a _sum its buckets can hold (0: the
            // lowest bucket is unbounded below), as the bucket rule asks of every scrape.
            let snapshot = |layout: u8, step: u32| {
                let buckets: Vec<(f64, f64)> = bounds
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| (layout | 8) & (1 << bit) != 0)
                    .map(|(bit, le)| (*le, f64::from(step) * (bit as f64 + 1.0)))
                    .collect();
                let count = buckets.last().map_or(0.0, |b| b.1);
                HistogramSnapshot { buckets, sum: 0.0, count }
            };
            let (mut earlier, mut later) = (ScrapedHistogram::default(), ScrapedHistogram::default());
            let mut layouts = Vec::new();
            let mut vanished = Vec::new();
            let mut restarts = Vec::new();
            for (index, (before, after, low, high, restarted)) in series.iter().enumerate() {
                if let Some(before) = before {
                    earlier.series.insert(format!("w={index}"), snapshot(*before, *low));
                    layouts.push(*before | 8);
                }
                match after {
                    // A restart leaves counters below the first scrape's (the new process's own).
                    Some(after) => {
                        later.series.insert(format!("w={index}"), snapshot(*after, if *restarted { *high } else { low + high }));
                        layouts.push(*after | 8);
                        if before.is_some() && *restarted && high < low {
                            restarts.push(format!("{{w={index}}}"));
                        }
                    }
                    None if before.is_some() => vanished.push(format!("{{w={index}}}")),
                    None => {}
                }
            }
            let window = later.since(&earlier);
            let one_layout = layouts.iter().all(|l| *l == layouts[0]);
            // No sample before the run: no reading to take a window from (round29-figures/02).
            let no_reading = earlier.series.is_empty();
            match (one_layout, vanished.is_empty(), restarts.is_empty()) {
                (true, _, _) if no_reading => {
                    let why = window.unwrap_err();
                    proptest::prop_assert!(why.contains("held no sample"), "{}", why);
                }
                (true, true, true) => {
                    let window = window.unwrap();
                    // Nothing invented: the window counts no more than the later scrape holds.
                    proptest::prop_assert!(window.count <= later.total().count);
                }
                (true, false, _) => {
                    let why = window.unwrap_err();
                    proptest::prop_assert!(vanished.iter().all(|name| why.contains(name.as_str())), "{}", why);
                }
                (true, true, false) => {
                    let why = window.unwrap_err();
                    proptest::prop_assert!(restarts.iter().all(|name| why.contains(name.as_str())), "{}", why);
                }
                (false, _, _) => proptest::prop_assert!(window.is_err()),
            }
        }
    }

    /// How a generated series shows (or does not show) a restart between the two scrapes.
    #[derive(Debug, Clone, Copy)]
    enum Sign {
        None,
        /// `_created` an hour before the first scrape, then just after it.
        CreatedChanged,
        /// No `_created` in the first scrape, one in the second.
        CreatedAppeared,
        /// The same `_created` in both, beyond the clock skew allowance after the first scrape.
        CreatedAfterFirstScrape,
        /// The series' own (labelled) `process_start_time_seconds` changed.
        ProcessChanged,
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Finding round27-figures/03. Rule (`ScrapedHistogram::restart_sign`): a series read in
        /// both scrapes whose exposition signals a restart — its `_created` changed, appeared, or
        /// lies after the first scrape, or the process start of a process it belongs to changed
        /// (its own labelled one, or the unlabelled one of the whole exposition) — is never
        /// judged, whatever its counters did (the new process's counts are generated at random,
        /// often past the old ones'): no window, naming each such series. Without any sign and
        /// with counters that rose, the window is the sum of the increases.
        #[test]
        fn a_window_across_a_signalled_restart_is_never_judged(
            series in proptest::collection::vec(
                (0u32..100, 0u32..300, proptest::prop_oneof![
                    proptest::strategy::Just(Sign::None),
                    proptest::strategy::Just(Sign::CreatedChanged),
                    proptest::strategy::Just(Sign::CreatedAppeared),
                    proptest::strategy::Just(Sign::CreatedAfterFirstScrape),
                    proptest::strategy::Just(Sign::ProcessChanged),
                ]),
                1..4,
            ),
            whole_exposition_restarted in proptest::bool::ANY,
            unlabelled_process in proptest::bool::ANY,
        ) {
            let at = RUN_AT;
            let (hour_ago, just_after, far_after) = ("1699996400.25", "1700000001.5", "1700000400");
            let (mut before, mut after) = (String::new(), String::new());
            let mut restarted = Vec::new();
            let mut increase = 0;
            for (index, (count, later, sign)) in series.iter().enumerate() {
                let w = format!("w=\"{index}\"");
                // A series' own process start is written only when the processes are labelled.
                let own_sign = match sign {
                    Sign::None => false,
                    Sign::ProcessChanged => !unlabelled_process,
                    _ => true,
                };
                let signalled = own_sign || (unlabelled_process && whole_exposition_restarted);
                // Without a restart the counters rose; after one they are the new process's own.
                let later = if signalled { *later } else { count + later % 50 };
                if signalled {
                    restarted.push(format!("{{{w}}}"));
                } else {
                    increase += later - count;
                }
                for (text, n) in [(&mut before, *count), (&mut after, later)] {
                    *text += &format!("lag_bucket{{{w},le=\"1\"}} {n}\nlag_bucket{{{w},le=\"+Inf\"}} {n}\nlag_sum{{{w}}} 0\nlag_count{{{w}}} {n}\n");
                }
                let (created_before, created_after) = match sign {
                    Sign::CreatedChanged => (Some(hour_ago), Some(just_after)),
                    Sign::CreatedAppeared => (None, Some(just_after)),
                    Sign::CreatedAfterFirstScrape => (Some(far_after), Some(far_after)),
                    _ => (Some(hour_ago), Some(hour_ago)),
                };
                for (text, created) in [(&mut before, created_before), (&mut after, created_after)] {
                    if let Some(created) = created {
                        *text += &format!("lag_created{{{w}}} {created}\n");
                    }
                }
                if !unlabelled_process {
                    let started = if matches!(sign, Sign::ProcessChanged) { just_after } else { hour_ago };
                    before += &format!("process_start_time_seconds{{{w}}} {hour_ago}\n");
                    after += &format!("process_start_time_seconds{{{w}}} {started}\n");
                }
            }
            if unlabelled_process {
                before += &format!("process_start_time_seconds {hour_ago}\n");
                let started = if whole_exposition_restarted { just_after } else { hour_ago };
                after += &format!("process_start_time_seconds {started}\n");
            }
            let (before, after) = (parse("b", &before).unwrap(), parse("a", &after).unwrap());
            let window = after["lag"].window(&before["lag"], &at);
            if restarted.is_empty() {
                proptest::prop_assert_eq!(window.unwrap().count, f64::from(increase));
            } else {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("restarted"), "{}", why);
                proptest::prop_assert!(restarted.iter().all(|name| why.contains(name.as_str())), "{}", why);
            }
        }
    }

    /// How a generated process labels its start gauge (finding round30-figures/02).
    #[derive(Debug, Clone, Copy)]
    enum GaugeLabels {
        /// Unlabelled: the whole exposition's, as one process writes it.
        None,
        /// `{proc="p"}`: a label its series carry too.
        Carried,
        /// `{pid="…"}`: a label its series do not carry.
        Foreign,
        /// `{proc="p",pid="…"}`: both.
        Both,
    }

    /// How a generated process's start gauge shows (or does not show) its restart.
    #[derive(Debug, Clone, Copy)]
    enum Start {
        /// Written in both scrapes, with a new value after a restart.
        Changed,
        /// Written in the second scrape only (the old process wrote none).
        Appeared,
        /// Written in the first scrape only (the new process writes none).
        Vanished,
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Finding round30-figures/02. Rule (`is_process_start`, `may_date`,
        /// `ScrapedHistogram::restart_sign`): over generated expositions of one to three
        /// processes, each writing its start gauge under a generated namespace (or none) and
        /// labelled as generated (not at all, by a label its series carry, by a `pid` they do
        /// not, or both), each restarting or not (its gauge changed, appeared or vanished; the
        /// new process's counts at random, often past the old ones'), a window never mixes two
        /// processes: every series of a restarted process is named as restarted, and no window
        /// is judged; a restarted process whose gauge carries no label of the series' may have
        /// written any of them, so no window either. Otherwise (no restart, or only of a
        /// process whose gauge names another `proc`), the window is the sum of the increases.
        #[test]
        fn a_window_never_mixes_two_processes_whatever_their_start_gauges_are_called(
            processes in proptest::collection::vec(
                (
                    proptest::option::of("[a-z][a-z0-9_]{0,6}[_:]"),
                    proptest::prop_oneof![
                        proptest::strategy::Just(GaugeLabels::None),
                        proptest::strategy::Just(GaugeLabels::Carried),
                        proptest::strategy::Just(GaugeLabels::Foreign),
                        proptest::strategy::Just(GaugeLabels::Both),
                    ],
                    proptest::option::of(proptest::prop_oneof![
                        proptest::strategy::Just(Start::Changed),
                        proptest::strategy::Just(Start::Appeared),
                        proptest::strategy::Just(Start::Vanished),
                    ]),
                ),
                1..4,
            ),
            series in proptest::collection::vec((0usize..3, 0u32..100, 0u32..300), 1..5),
        ) {
            let at = RUN_AT;
            let (day_ago, just_after) = ("1699913600.25", "1700000001.5");
            let (mut before, mut after) = (String::new(), String::new());
            for (p, (prefix, labels, restart)) in processes.iter().enumerate() {
                // Two unlabelled gauges of one name would be one sample written twice.
                let prefix = match (labels, p) {
                    (GaugeLabels::None, 1..) => format!("{}p{p}_", prefix.clone().unwrap_or_default()),
                    _ => prefix.clone().unwrap_or_default(),
                };
                let labels = match labels {
                    GaugeLabels::None => String::new(),
                    GaugeLabels::Carried => format!("{{proc=\"{p}\"}}"),
                    GaugeLabels::Foreign => format!("{{pid=\"{}\"}}", 1000 + p),
                    GaugeLabels::Both => format!("{{proc=\"{p}\",pid=\"{}\"}}", 1000 + p),
                };
                let (first, second) = match restart {
                    None => (Some(day_ago), Some(day_ago)),
                    Some(Start::Changed) => (Some(day_ago), Some(just_after)),
                    Some(Start::Appeared) => (None, Some(just_after)),
                    Some(Start::Vanished) => (Some(day_ago), None),
                };
                for (text, start) in [(&mut before, first), (&mut after, second)] {
                    if let Some(start) = start {
                        *text += &format!("# TYPE {prefix}process_start_time_seconds gauge\n{prefix}process_start_time_seconds{labels} {start}\n");
                    }
                }
            }
            let (mut restarted, mut increase) = (Vec::new(), 0);
            for (index, (owner, count, later)) in series.iter().enumerate() {
                let owner = owner % processes.len();
                let labels = format!("proc=\"{owner}\",w=\"{index}\"");
                // A restarted process counts afresh; a running one only adds.
                let later = match processes[owner].2 {
                    Some(_) => {
                        restarted.push(format!("{{{labels}}}"));
                        *later
                    }
                    None => {
                        increase += later % 50;
                        count + later % 50
                    }
                };
                for (text, n) in [(&mut before, *count), (&mut after, later)] {
                    *text += &format!("lag_bucket{{{labels},le=\"1\"}} {n}\nlag_bucket{{{labels},le=\"+Inf\"}} {n}\nlag_sum{{{labels}}} 0\nlag_count{{{labels}}} {n}\n");
                }
            }
            let (before, after) = (parse("b", &before).unwrap(), parse("a", &after).unwrap());
            let window = after["lag"].window(&before["lag"], &at);
            // A restarted process whose gauge names no label of the series' (`pid`, or none)
            // may have written any series: fail closed. One whose gauge carries `proc` dates
            // only that process's series.
            let ambiguous_restart = processes
                .iter()
                .any(|(_, labels, restart)| restart.is_some() && matches!(labels, GaugeLabels::None | GaugeLabels::Foreign));
            if !restarted.is_empty() {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("restarted"), "{}", why);
                proptest::prop_assert!(restarted.iter().all(|name| why.contains(name.as_str())), "{}", why);
            } else if ambiguous_restart {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("restarted") && why.contains("process_start_time_seconds"), "{}", why);
            } else {
                proptest::prop_assert_eq!(window.unwrap().count, f64::from(increase));
            }
        }
    }

    /// How a generated series' `_created` reads in the second scrape.
    #[derive(Debug, Clone, Copy)]
    enum Created {
        None,
        /// A day before the first scrape.
        BeforeRun,
        /// Just after the first scrape (within the run).
        DuringRun,
    }

    /// How a generated series' own (labelled) `process_start_time_seconds` reads.
    #[derive(Debug, Clone, Copy)]
    enum Process {
        None,
        /// A day before the run, the same in both scrapes: the first scrape showed it.
        Shown,
        /// A day before the run, written in the second scrape only.
        UnshownBefore,
        /// A day before the run in the second scrape, another (older) start in the first.
        OtherBefore,
        /// Just after the first scrape, in the second scrape only (begun during the run).
        UnshownDuringRun,
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Findings round29-figures/01 and /02. Rule (`ScrapedHistogram::not_the_runs_sign`,
        /// `began_before_sign`): over generated pairs of scrapes — each series present before
        /// or not, labelled or not, with or without a `_created` and a process start, shown in
        /// the first scrape or not, dated before the run or during it — a series that first
        /// appears in the second scrape never contributes counts from zero when anything dates
        /// it before the first scrape (an old `_created`, an old process start the first scrape
        /// did not show, being unlabelled), nor when the first scrape held no sample of the
        /// histogram: no window, naming the series or the missing reading. Otherwise the window
        /// is the increases of the series read twice plus the new series' counts.
        #[test]
        fn a_new_series_dated_before_the_run_never_counts_from_zero(
            series in proptest::collection::vec(
                (
                    proptest::option::of(0u32..100),
                    0u32..300,
                    proptest::prop_oneof![
                        proptest::strategy::Just(Created::None),
                        proptest::strategy::Just(Created::BeforeRun),
                        proptest::strategy::Just(Created::DuringRun),
                    ],
                    proptest::prop_oneof![
                        proptest::strategy::Just(Process::None),
                        proptest::strategy::Just(Process::Shown),
                        proptest::strategy::Just(Process::UnshownBefore),
                        proptest::strategy::Just(Process::OtherBefore),
                        proptest::strategy::Just(Process::UnshownDuringRun),
                    ],
                ),
                1..5,
            ),
            first_unlabelled in proptest::bool::ANY,
        ) {
            let at = RUN_AT;
            let (day_ago, older, during) = ("1699913600.25", "1699900000", "1700000001.5");
            let (mut before, mut after) = (String::from("# TYPE lag histogram\n"), String::from("# TYPE lag histogram\n"));
            let (mut expected, mut dated_before, mut read_before) = (0u32, Vec::new(), false);
            // A process start that changed between the scrapes (finding round30-figures/02).
            let mut a_process_changed = false;
            for (index, (count_before, grown, created, process)) in series.iter().enumerate() {
                let labels = if index == 0 && first_unlabelled { String::new() } else { format!("w=\"{index}\"") };
                let braces = |extra: &str| match (labels.is_empty(), extra.is_empty()) {
                    (true, true) => String::new(),
                    (true, false) => format!("{{{extra}}}"),
                    (false, true) => format!("{{{labels}}}"),
                    (false, false) => format!("{{{labels},{extra}}}"),
                };
                let series_text = |n: u32| {
                    format!("lag_bucket{} {n}\nlag_bucket{} {n}\nlag_sum{} 0\nlag_count{} {n}\n",
                        braces("le=\"1\""), braces("le=\"+Inf\""), braces(""), braces(""))
                };
                // A series read twice keeps one `_created` and one process: no restart sign.
                let (created, process) = match count_before {
                    Some(_) => (
                        if matches!(created, Created::BeforeRun) { Created::BeforeRun } else { Created::None },
                        if matches!(process, Process::None) { Process::None } else { Process::Shown },
                    ),
                    None => (*created, *process),
                };
                let own_process = !labels.is_empty();
                match count_before {
                    Some(n) => {
                        read_before = true;
                        before += &series_text(*n);
                        after += &series_text(n + grown);
                        expected += grown;
                    }
                    None => {
                        after += &series_text(*grown);
                        let signed = labels.is_empty()
                            || matches!(created, Created::BeforeRun)
                            || (own_process && matches!(process, Process::UnshownBefore | Process::OtherBefore));
                        if signed {
                            dated_before.push(series_name(&labels));
                        } else {
                            expected += grown;
                        }
                    }
                }
                let created = match created {
                    Created::None => None,
                    Created::BeforeRun => Some(day_ago),
                    Created::DuringRun => Some(during),
                };
                if let Some(created) = created {
                    if count_before.is_some() {
                        before += &format!("lag_created{} {created}\n", braces(""));
                    }
                    after += &format!("lag_created{} {created}\n", braces(""));
                }
                if own_process {
                    let (first, second) = match process {
                        Process::None => (None, None),
                        Process::Shown => (Some(day_ago), Some(day_ago)),
                        Process::UnshownBefore => (None, Some(day_ago)),
                        Process::OtherBefore => (Some(older), Some(day_ago)),
                        Process::UnshownDuringRun => (None, Some(during)),
                    };
                    a_process_changed |= first != second;
                    for (text, start) in [(&mut before, first), (&mut after, second)] {
                        if let Some(start) = start {
                            *text += &format!("process_start_time_seconds{{{labels}}} {start}\n");
                        }
                    }
                }
            }
            let parsed_before = parse("b", &before).unwrap();
            let earlier = parsed_before.get("lag").cloned().unwrap_or_default();
            let later = parse("a", &after).unwrap();
            let window = later["lag"].window(&earlier, &at);
            // The unlabelled series read twice carries no `w`: a process `{w="…"}` whose start
            // changed may be its own, so it restarted too (`may_date`: fail closed).
            let unlabelled_read_twice = first_unlabelled && series[0].0.is_some();
            if !read_before {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("held no sample"), "{}", why);
            } else if unlabelled_read_twice && a_process_changed {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("series {} (") && why.contains("restarted"), "{}", why);
            } else if !dated_before.is_empty() {
                let why = window.unwrap_err();
                proptest::prop_assert!(dated_before.iter().all(|name| why.contains(name.as_str())), "{}", why);
                proptest::prop_assert!(why.contains("missing from the scrape before the run"), "{}", why);
            } else {
                proptest::prop_assert_eq!(window.unwrap().count, f64::from(expected));
            }
        }
    }

    /// Finding round19-figures/03: a sample's own timestamp is read (earliest and latest per
    /// series); one that is not whole milliseconds is refused, naming the line.
    #[test]
    fn sample_timestamps_date_their_series() {
        let h = parse("x", "l_bucket{w=\"a\",le=\"+Inf\"} 5 1700000000000\nl_count{w=\"a\"} 5 1700000005000\nl_bucket{w=\"b\",le=\"+Inf\"} 1\n").unwrap();
        assert_eq!(h["l"].dated.get("w=\"a\""), Some(&(1_700_000_000_000, 1_700_000_005_000)));
        assert_eq!(h["l"].dated.get("w=\"b\""), None);
        let err = parse("x", "l_bucket{le=\"+Inf\"} 5 soon\n").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("timestamp"), "{err}");
    }

    /// A strategy for an offset (ms) around the clock-skew allowance's edges, or anywhere near.
    fn around_the_edges() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::prelude::*;
        prop_oneof![
            (-2i64..=2).prop_map(|d| CLOCK_SKEW_MS + d),
            (-2i64..=2).prop_map(|d| -CLOCK_SKEW_MS + d),
            -2i64..=2,
            -400_000i64..400_000,
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Findings round19-figures/03, round20-figures/01 and round21-figures/01. Rule: every
        /// reading of a series is dated by its samples' own times and, for samples without one,
        /// by its scrape's instant; the window is a figure exactly when no date lies more than the
        /// clock skew allowance past its scrape, the first reading's dates lie within the
        /// allowance of the run's start either way, the second's no earlier than the run's end
        /// minus it, and the second reading is dated after every date of the first; otherwise no
        /// figure, naming the series. Generated around each edge: a first scrape taken (undated)
        /// up to and past the allowance before the run, stamps at the allowance's edges, runs of
        /// a few ms, readings partly dated.
        #[test]
        fn a_window_is_a_figure_exactly_when_its_readings_lie_around_the_run_in_order(
            lead in proptest::prop_oneof![proptest::strategy::Strategy::prop_map(-2i64..=2, |d| CLOCK_SKEW_MS + d), 0i64..200_000],
            length in proptest::prop_oneof![0i64..4, 0i64..300_000],
            lag in 0i64..3_000,
            first in proptest::option::of(around_the_edges()),
            second in proptest::option::of(around_the_edges()),
            first_partly_undated in proptest::bool::ANY,
            second_partly_undated in proptest::bool::ANY,
        ) {
            let first_scrape = 1_000_000_000;
            let run_start = first_scrape + lead;
            let run_end = run_start + length;
            let at = Instants { first_scrape, run_start, run_end, second_scrape: run_end + lag };
            // The buckets carry the stamp; the _count too unless the reading is partly undated.
            let text = |count: u32, stamp: Option<i64>, partly: bool| {
                let bucket = stamp.map(|s| format!(" {s}")).unwrap_or_default();
                let count_stamp = if partly { String::new() } else { bucket.clone() };
                format!("lag_bucket{{w=\"a\",le=\"1\"}} {count}{bucket}\nlag_bucket{{w=\"a\",le=\"+Inf\"}} {count}{bucket}\nlag_sum{{w=\"a\"}} 0{bucket}\nlag_count{{w=\"a\"}} {count}{count_stamp}\n")
            };
            // The first scrape's stamps around the run's start, the second's around its end.
            let first_at = first.map(|offset| at.run_start + offset);
            let second_at = second.map(|offset| at.run_end + offset);
            let before = parse("b", &text(10, first_at, first_partly_undated)).unwrap();
            let after = parse("a", &text(30, second_at, second_partly_undated)).unwrap();
            let window = after["lag"].window(&before["lag"], &at);
            let dates = |stamp: Option<i64>, partly: bool, read_at: i64| -> Vec<i64> {
                match stamp {
                    Some(stamp) if partly => vec![stamp, read_at],
                    Some(stamp) => vec![stamp],
                    None => vec![read_at],
                }
            };
            let one = dates(first_at, first_partly_undated, at.first_scrape);
            let two = dates(second_at, second_partly_undated, at.second_scrape);
            let (e1, l1) = (*one.iter().min().unwrap(), *one.iter().max().unwrap());
            let (e2, l2) = (*two.iter().min().unwrap(), *two.iter().max().unwrap());
            let fits = l1 <= at.first_scrape + CLOCK_SKEW_MS
                && l2 <= at.second_scrape + CLOCK_SKEW_MS
                && l1 <= at.run_start + CLOCK_SKEW_MS
                && e1 >= at.run_start - CLOCK_SKEW_MS
                && e2 >= at.run_end - CLOCK_SKEW_MS
                && e2 > l1;
            if fits {
                proptest::prop_assert_eq!(window.unwrap().count, 20.0);
            } else {
                let why = window.unwrap_err();
                proptest::prop_assert!(why.contains("w=\"a\"") && why.contains("no figure"), "{}", why);
            }
        }
    }

    /// Finding round21-figures/01: a series undated in one scrape (dated by it) and dated in the
    /// other ran backwards (undated, then dated 100 s before the first scrape; dated 100 s ahead,
    /// then undated), and a first reading dated an hour before the run (or taken then) counted an
    /// hour of observations: no window, naming the series.
    #[test]
    fn a_reading_dated_by_its_scrape_is_held_to_the_same_rules() {
        let at =
            Instants { first_scrape: 1_000_000, run_start: 1_000_010, run_end: 1_003_010, second_scrape: 1_003_020 };
        let text = |count: u32, stamp: Option<i64>| {
            let stamp = stamp.map(|s| format!(" {s}")).unwrap_or_default();
            format!("lag_bucket{{w=\"a\",le=\"1\"}} {count}{stamp}\nlag_bucket{{w=\"a\",le=\"+Inf\"}} {count}{stamp}\nlag_sum{{w=\"a\"}} 0{stamp}\nlag_count{{w=\"a\"}} {count}{stamp}\n")
        };
        let judge = |first: Option<i64>, second: Option<i64>, at: &Instants| {
            let before = parse("b", &text(0, first)).unwrap();
            let after = parse("a", &text(1000, second)).unwrap();
            after["lag"].window(&before["lag"], at)
        };
        for (first, second) in [(None, Some(at.first_scrape - 100_000)), (Some(at.first_scrape + 100_000), None)] {
            let why = judge(first, second, &at).unwrap_err();
            assert!(why.contains("time did not move forward") && why.contains("w=\"a\""), "{why}");
        }
        let why = judge(Some(at.run_start - 3_600_000), None, &at).unwrap_err();
        assert!(why.contains("long before the run started") && why.contains("w=\"a\""), "{why}");
        let early = Instants { first_scrape: at.run_start - 3_600_000, ..at };
        let why = judge(None, None, &early).unwrap_err();
        assert!(why.contains("long before the run started"), "{why}");
        assert_eq!(judge(None, None, &at).unwrap().count, 1000.0);
        assert_eq!(judge(None, Some(at.second_scrape + 1000), &at).unwrap().count, 1000.0);
    }

    /// Finding round20-figures/01: in a 3 s run each scrape's dates lay within the clock-skew
    /// allowance of its edge, yet the second scrape was dated 200 s before the first (or both at
    /// one instant while the counts rose): no window.
    #[test]
    fn a_second_scrape_dated_no_later_than_the_first_is_no_window() {
        let at =
            Instants { first_scrape: 1_000_000, run_start: 1_000_500, run_end: 1_003_500, second_scrape: 1_004_000 };
        let text = |count: u32, stamp: i64| {
            format!("lag_bucket{{w=\"a\",le=\"1\"}} {count} {stamp}\nlag_bucket{{w=\"a\",le=\"+Inf\"}} {count} {stamp}\nlag_sum{{w=\"a\"}} 0 {stamp}\nlag_count{{w=\"a\"}} {count} {stamp}\n")
        };
        for (first, second) in [(at.first_scrape + 100_000, at.second_scrape - 100_000), (1_002_000, 1_002_000)] {
            let before = parse("b", &text(0, first)).unwrap();
            let after = parse("a", &text(1000, second)).unwrap();
            let why = after["lag"].window(&before["lag"], &at).unwrap_err();
            assert!(why.contains("time did not move forward") && why.contains("w=\"a\""), "{why}");
        }
        let before = parse("b", &text(0, 1_000_100)).unwrap();
        let after = parse("a", &text(1000, 1_003_900)).unwrap();
        assert_eq!(after["lag"].window(&before["lag"], &at).unwrap().count, 1000.0);
    }

    /// Prometheus's escaping of a quoted name or value of the text format (client_golang's
    /// `writeEscapedString`): `\`, `"` and a newline escaped, nothing else.
    fn escaped(text: &str) -> String {
        text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
    }

    /// A label set written as an exporter writes it: a name of the text format bare (or quoted,
    /// as Prometheus 3 allows any name), any other quoted; `gaps` spaces between the tokens.
    fn rendered(labels: &[(String, String)], quote_all: bool, gap: &str, trailing_comma: bool) -> String {
        let parts: Vec<String> = labels
            .iter()
            .map(|(name, value)| {
                let name =
                    if is_label_name(name) && !quote_all { name.clone() } else { format!("\"{}\"", escaped(name)) };
                format!("{name}{gap}={gap}\"{}\"", escaped(value))
            })
            .collect();
        format!("{}{}", parts.join(&format!("{gap},{gap}")), if trailing_comma { "," } else { "" })
    }

    /// Label names: names of the text format, and any UTF-8 text with the characters that
    /// separate, quote or escape (`=`, `,`, `{`, `}`, `"`, `\`, `.`, newline).
    fn any_label_name() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof!["[a-zA-Z_][a-zA-Z0-9_]{0,6}", "[a=,{}\"\\\\.\n é\u{1F600}-]{1,5}", "\\PC{1,6}"]
            .prop_filter("le and __name__ are not a series' own labels", |n| n != "le" && n != "__name__")
    }

    /// Label values: any text, the escaped characters and backslashes before anything.
    fn any_label_value() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof!["[ab\\\\\"n\n=,{}]{1,6}", "\\PC{1,8}"]
    }

    /// A label set: distinct names, each with a non-empty value.
    fn any_label_set() -> impl proptest::strategy::Strategy<Value = Vec<(String, String)>> {
        proptest::collection::btree_map(any_label_name(), any_label_value(), 0..4)
            .prop_map(|set| set.into_iter().collect::<Vec<_>>())
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Findings round36-figures/01 and /02, the class: every label of a sample line is read
        /// exactly (`read_series`). A label set written with Prometheus's escaping, quoted names
        /// or bare, the metric name before the braces or quoted in them, with the whitespace and
        /// trailing comma the format allows, reads back as the same set; two different sets
        /// never read as one series key; and a line with a label that cannot be read is refused
        /// with the line's number, never read with the label missing.
        #[test]
        fn every_label_reads_back_exactly_and_two_label_sets_are_never_one_series(
            first in any_label_set(),
            second in any_label_set(),
            quote_all: bool,
            name_inside: bool,
            trailing_comma: bool,
            gap in "[ \t]{0,2}",
            broken in proptest::prop_oneof![
                "[0-9.\\-][a-z]{0,3}=\"x\"",
                "[a-z]{1,3}[.\\-/][a-z]{1,3}=\"x\"",
                "[a-z]{1,3}=\"x",
                "[a-z]{1,3}=x",
                "[a-z]{1,3}",
                "\"[a-z]{1,3}",
                "\"\"=\"x\"",
                "__name__=\"x\"",
                ",",
            ],
            at in 0usize..4,
        ) {
            let line = |labels: &[(String, String)]| {
                let set = rendered(labels, quote_all, &gap, trailing_comma && !labels.is_empty());
                if name_inside {
                    let sep = if labels.is_empty() { String::new() } else { format!("{gap},{gap}") };
                    format!("{{{gap}\"lag_seconds_count\"{sep}{set}{gap}}} 1")
                } else {
                    format!("lag_seconds_count{gap}{{{gap}{set}{gap}}} 1")
                }
            };
            for labels in [&first, &second] {
                let text = line(labels);
                let read = read_series(&text);
                proptest::prop_assert!(read.is_ok(), "{:?}: {:?}", text, read);
                let read = read.unwrap();
                proptest::prop_assert_eq!(&read.name, "lag_seconds_count");
                proptest::prop_assert_eq!(&read.labels, labels, "{:?}", text);
            }
            let key = |labels: &[(String, String)]| series_key(&read_series(&line(labels)).unwrap().carried());
            let (mut a, mut b) = (first.clone(), second.clone());
            a.sort();
            b.sort();
            proptest::prop_assert_eq!(key(&first) == key(&second), a == b, "{:?} / {:?}", first, second);
            // A label that cannot be read, among readable ones: the exposition is refused.
            let mut parts: Vec<String> = first.iter().map(|label| rendered(std::slice::from_ref(label), quote_all, "", false)).collect();
            let duplicate = first.first().map(|label| rendered(std::slice::from_ref(label), false, "", false));
            parts.insert(at.min(parts.len()), broken.clone());
            let text = format!("lag_seconds_bucket{{{},le=\"+Inf\"}} 1\n", parts.join(","));
            let refused = parse("t", &text);
            proptest::prop_assert!(refused.as_ref().is_err_and(|e| e.to_string().contains("line 1")), "{:?}: {:?}", text, refused);
            if let Some(duplicate) = duplicate {
                let text = format!("lag_seconds_bucket{{{},{duplicate},le=\"+Inf\"}} 1\n", rendered(&first, quote_all, "", false));
                proptest::prop_assert!(parse("t", &text).is_err(), "{:?}", text);
            }
        }
    }

    /// Findings round36-figures/01 and /02, the witnesses: quoted label names (and the quoted
    /// metric name) are read as what they quote; an escape the format does not define is kept
    /// as written, as Prometheus's text parser keeps it; an invalid name refuses the line.
    #[test]
    fn quoted_names_are_read_and_undefined_escapes_kept_as_prometheus_reads_them() {
        let read = |line: &str| read_series(line).map(|s| (s.name, s.labels));
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            read(r#"{"my.metric", "k8s.pod.name"="a",le="1"} 1"#).unwrap(),
            ("my.metric".to_string(), vec![pair("k8s.pod.name", "a"), pair("le", "1")])
        );
        assert_eq!(read(r#"x{pod="a\b"} 1"#).unwrap().1, vec![pair("pod", "a\\b")]);
        assert_eq!(read(r#"x{pod="a\\b"} 1"#).unwrap().1, vec![pair("pod", "a\\b")]);
        assert_eq!(read(r#"x{pod="a\"b\n"} 1"#).unwrap().1, vec![pair("pod", "a\"b\n")]);
        assert_ne!(read(r#"x{pod="a\b"} 1"#).unwrap().1, read(r#"x{pod="ab"} 1"#).unwrap().1);
        for (line, said) in [
            (r#"x{pod-name="a"} 1"#, "expected a label name"),
            (r#"x{"y",a="1"} 1"#, "follows a metric name"),
            (r#"x{a="1",a="2"} 1"#, "written twice"),
            (r#"x{a="1} 1"#, "not closed"),
            (r#"x{a} 1"#, "expected `=`"),
            (r#"{a="1"} 1"#, "expected a metric name"),
        ] {
            let err = parse("http://t/metrics", &format!("# c\n{line}\n")).unwrap_err().to_string();
            assert!(err.contains("http://t/metrics") && err.contains("line 2") && err.contains(said), "{line}: {err}");
        }
    }

    #[test]
    fn quoted_label_values_may_hold_braces_and_commas() {
        let text = "r_bucket{path=\"/rules/{id}/run\",q=\"a,b\",le=\"0.5\"} 3\nr_bucket{path=\"/x\",le=\"+Inf\"} 4\n";
        let h = parse("x", text).unwrap();
        assert_eq!(h["r"].total().buckets, vec![(0.5, 3.0), (f64::INFINITY, 4.0)]);
        assert_eq!(h["r"].series.len(), 2);
    }

    #[test]
    fn label_sets_are_summed() {
        let h = parse("x", "q_bucket{queue=\"a\",le=\"1\"} 1\nq_bucket{queue=\"b\",le=\"1\"} 2\nq_bucket{queue=\"a\",le=\"+Inf\"} 1\nq_bucket{queue=\"b\",le=\"+Inf\"} 4\n").unwrap();
        assert_eq!(h["q"].total().buckets, vec![(1.0, 3.0), (f64::INFINITY, 5.0)]);
    }

    /// What one worker of a generated family writes at one scrape: which of its lines, and its
    /// true cumulative observations at or under 1 s (`under`) and above every bound (`over`).
    #[derive(Debug, Clone, Copy)]
    struct Written {
        finite: bool,
        inf: bool,
        count: bool,
        sum: bool,
        under: u32,
        over: u32,
    }

    impl Written {
        fn lines(&self, worker: usize) -> String {
            let total = self.under + self.over;
            let mut text = String::new();
            if self.finite {
                text.push_str(&format!("lag_bucket{{worker=\"w{worker}\",le=\"1\"}} {}\n", self.under));
            }
            if self.inf {
                text.push_str(&format!("lag_bucket{{worker=\"w{worker}\",le=\"+Inf\"}} {total}\n"));
            }
            if self.sum {
                let sum = f64::from(self.under) * 0.5 + f64::from(self.over) * 100.0;
                text.push_str(&format!("lag_sum{{worker=\"w{worker}\"}} {sum:?}\n"));
            }
            if self.count {
                text.push_str(&format!("lag_count{{worker=\"w{worker}\"}} {total}\n"));
            }
            text
        }

        fn complete(&self) -> bool {
            self.finite && self.inf && self.count && self.sum
        }
    }

    /// A worker: its lines at each scrape (each part present 3 times in 4) and its
    /// observations before the run and during it.
    fn worker_written() -> impl proptest::strategy::Strategy<Value = (Written, Written)> {
        use proptest::prelude::*;
        let part = || prop_oneof![3 => Just(true), 1 => Just(false)];
        let parts = (part(), part(), part(), part());
        (parts.clone(), parts, 0u32..50, 0u32..50, 0u32..50, 0u32..50).prop_map(
            |((f0, i0, c0, s0), (f1, i1, c1, s1), under, over, run_under, run_over)| {
                let first = Written { finite: f0, inf: i0, count: c0, sum: s0, under, over };
                let second = Written {
                    finite: f1,
                    inf: i1,
                    count: c1,
                    sum: s1,
                    under: under + run_under,
                    over: over + run_over,
                };
                (first, second)
            },
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Findings round35-figures/02 and /03, the class: over a family whose every series may
        /// have or lack its finite buckets, its +Inf bucket, its `_count` and its `_sum` at each
        /// scrape, a run window is a figure only when it holds every series' observations:
        /// its count, +Inf and `le="1"` buckets are the sum of every worker's increase, never
        /// of a strict subset. A series written with a `_count` or `_sum` and no bucket at
        /// all, in either scrape, gives no window; a family written complete gives one.
        #[test]
        fn a_window_holds_every_series_with_observations_or_is_no_figure(
            workers in proptest::collection::vec(worker_written(), 1..4),
        ) {
            let any = |w: &Written| w.finite || w.inf || w.count || w.sum;
            // A series the first scrape does not show is new: nothing counted before the run.
            // A series written in neither scrape observed nothing the run could know of.
            let workers: Vec<(Written, Written)> = workers
                .into_iter()
                .map(|(first, second)| match (any(&first), any(&second)) {
                    (true, _) => (first, second),
                    (false, true) => (Written { under: 0, over: 0, ..first }, second),
                    (false, false) => (Written { under: 0, over: 0, ..first }, Written { under: 0, over: 0, ..second }),
                })
                .collect();
            let scrape = |pick: fn(&(Written, Written)) -> Written| -> String {
                let mut text = String::from("# TYPE lag histogram\n");
                for (index, worker) in workers.iter().enumerate() {
                    text.push_str(&pick(worker).lines(index));
                }
                text
            };
            let read = |text: String| parse("u", &text).unwrap().remove("lag").unwrap_or_default();
            let window = read(scrape(|w| w.1)).since(&read(scrape(|w| w.0)));
            let run = |w: &(Written, Written)| (w.1.under - w.0.under, w.1.over - w.0.over);
            let (under, over) = workers.iter().map(run).fold((0, 0), |(u, o), (a, b)| (u + a, o + b));
            let bare = |w: &Written| (w.count || w.sum) && !w.finite && !w.inf;
            if workers.iter().any(|(first, second)| bare(first) || bare(second)) {
                proptest::prop_assert!(window.is_err(), "a series with no bucket was left out: {:?}", window);
                let why = window.clone().unwrap_err();
                proptest::prop_assert!(why.contains("no bucket at all"), "{}", why);
            }
            if workers.iter().all(|(first, second)| first.complete() && second.complete()) {
                proptest::prop_assert!(window.is_ok(), "{:?}", window);
            }
            if let Ok(window) = window {
                let total = f64::from(under + over);
                proptest::prop_assert_eq!(window.count, total);
                proptest::prop_assert_eq!(window.buckets.last().map(|b| b.1), Some(total));
                if let Some((_, counted)) = window.buckets.iter().find(|(le, _)| *le == 1.0) {
                    proptest::prop_assert_eq!(*counted, f64::from(under));
                }
            }
        }
    }
}
