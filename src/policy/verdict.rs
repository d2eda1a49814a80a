//! The outcome of holding evidence against a policy: one row per checked threshold.
//!
//! A breached gate is an outcome, not an error: `Verdict::blocked` drives exit code 1.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Warn,
    NoData,
    Skipped,
    /// A breach covered by a valid waiver: reported with who signed it off, never blocking.
    Waived,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NoData => "NO DATA",
            Status::Skipped => "SKIPPED",
            Status::Waived => "WAIVED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What was observed for a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A figure on its canonical scale (`unit`: ms, ratio or number) and how to show it.
    Figure {
        value: f64,
        unit: &'static str,
        shown: String,
    },
    /// No figure, only k6's own pass/fail for the identical expression.
    K6Verdict {
        passed: bool,
    },
    Nothing,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Figure { shown, .. } => f.write_str(shown),
            Observed::K6Verdict { passed: true } => f.write_str("k6: passed"),
            Observed::K6Verdict { passed: false } => f.write_str("k6: failed"),
            Observed::Nothing => f.write_str("-"),
        }
    }
}

/// The kind of evidence a row's figure was read from. A report records it per row
/// (`figure_from`), and only the load run's own evidence (k6 summary, raw results, native run)
/// makes a row a figure of that run (`sources::baseline`, finding round21-judge/02: a file named
/// like a query's source made a query row pass for the run's p95).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureFrom {
    K6Summary,
    K6Raw,
    Native,
    Query,
    Env,
    Scrape,
}

impl FigureFrom {
    const ALL: [FigureFrom; 6] = [
        FigureFrom::K6Summary,
        FigureFrom::K6Raw,
        FigureFrom::Native,
        FigureFrom::Query,
        FigureFrom::Env,
        FigureFrom::Scrape,
    ];

    /// The word a report writes.
    pub fn key(self) -> &'static str {
        match self {
            FigureFrom::K6Summary => "k6_summary",
            FigureFrom::K6Raw => "k6_raw",
            FigureFrom::Native => "native",
            FigureFrom::Query => "query",
            FigureFrom::Env => "env",
            FigureFrom::Scrape => "scrape",
        }
    }

    pub fn parse(word: &str) -> Option<FigureFrom> {
        Self::ALL.into_iter().find(|f| f.key() == word)
    }

    /// Of an evidence file, by the format its reader gave it.
    pub fn of_format(format: &str) -> FigureFrom {
        match format {
            crate::metrics::FORMAT_RAW | crate::metrics::FORMAT_MERGED_RAW => FigureFrom::K6Raw,
            crate::metrics::FORMAT_NATIVE => FigureFrom::Native,
            _ => FigureFrom::K6Summary,
        }
    }

    /// Read from the load run's own evidence: a figure of that run.
    pub fn is_the_run(self) -> bool {
        matches!(self, FigureFrom::K6Summary | FigureFrom::K6Raw | FigureFrom::Native)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub gate: String,
    pub description: String,
    /// What was measured: the k6 metric selector, histogram, env variable or "query".
    pub subject: String,
    /// The threshold as the policy wrote it (or k6's expression, for k6's own rows).
    pub check: String,
    pub status: Status,
    /// True when this row stops the release.
    pub blocking: bool,
    pub observed: Observed,
    /// Where the figure came from: file and key, env variable, or "-".
    pub source: String,
    /// What kind of evidence the figure was read from, recorded apart from `source` (whose
    /// text holds file names, outside text): None when the row judged no figure.
    pub figure_from: Option<FigureFrom>,
    /// Why there is no data, what was overridden, or how to get the missing figure.
    pub detail: Option<String>,
    pub samples: Option<u64>,
    /// The labels of the query series this row judges, when a query returned several.
    pub series: Option<String>,
    /// The waiver that covers (WAIVED) or failed to cover this row's breach.
    pub waiver: Option<WaiverNote>,
}

/// A waiver as it bears on one row: who signed off the breach, why, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverNote {
    pub owner: String,
    pub reason: String,
    pub ticket: String,
    /// The last day the waiver holds (YYYY-MM-DD).
    pub expires: String,
    /// True when it covered the row (WAIVED); false when it did not apply (expired,
    /// forbidden, NO DATA), and the row blocks.
    pub applied: bool,
    /// The status the row had before the waiver (FAIL, NO DATA).
    pub breach: &'static str,
}

impl WaiverNote {
    /// One line for every text report: "waived by OWNER until DATE (TICKET): REASON".
    pub fn describe(&self) -> String {
        let verb = if self.applied { "waived" } else { "waiver not applied" };
        format!("{verb}: {} by {} until {} ({}): {}", self.breach, self.owner, self.expires, self.ticket, self.reason)
    }
}

/// A waiver that covered no breached row: reported, never blocking, so it can be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleWaiver {
    pub gate: String,
    pub threshold: Option<String>,
    pub series: Option<String>,
    pub owner: String,
    pub ticket: String,
    pub expires: String,
    /// Why it is stale: no such row, or the rows it names hold.
    pub why: String,
}

/// Points of a latency distribution: (percentile 0..=100, milliseconds).
pub type Curve = Vec<(f64, f64)>;

/// The latency distribution behind a gate's percentile thresholds, for plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub gate: String,
    /// The metric selector the curve is of.
    pub metric: String,
    /// Where the samples came from (HDR histograms of a native run, k6 raw results).
    pub source: String,
    pub curve: Curve,
    pub baseline: Option<Curve>,
    /// (percentile, limit in ms, observed ms) of each percentile threshold of the gate.
    pub marks: Vec<Mark>,
}

/// One percentile threshold on a distribution plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub percentile: f64,
    pub check: String,
    pub limit_ms: f64,
    pub observed_ms: Option<f64>,
}

/// Integrity facts of the load run, for reports that show them beside the gates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    pub partial: Option<String>,
    pub dropped_iterations: u64,
    pub late_iterations: u64,
    /// Errors by kind (timeout, connect, status ...), as the run recorded them.
    pub errors_by_kind: Vec<(String, u64)>,
}

impl Row {
    /// A row that has not been judged yet (PASS, nothing observed, no source).
    pub fn new(gate: &str, description: &str, subject: String, check: String) -> Row {
        Row {
            gate: gate.to_string(),
            description: description.to_string(),
            subject,
            check,
            status: Status::Pass,
            blocking: false,
            observed: Observed::Nothing,
            source: "-".into(),
            figure_from: None,
            detail: None,
            samples: None,
            series: None,
            waiver: None,
        }
    }
}

/// The role of the judgement's settings among a verdict's inputs: every variable's value in
/// effect, the flows off and the options that change a verdict (digested in
/// `sources::digest::policy_vars`; history compares it for passes; the table shows it only when
/// something departs from the policy as written).
pub const POLICY_VARS_ROLE: &str = "policy-vars";

/// What the settings input is called when nothing departs from the policy as written (no
/// `--var`, no flow switched, no option): the table leaves it out.
pub const POLICY_AS_WRITTEN: &str = "the policy as written";

/// One input file a verdict rests on, so an auditor can tell exactly what was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// What the file was to the judgement: summary, raw, baseline, policy, scenario.
    pub role: String,
    pub path: String,
    /// Lowercase hex SHA-256 of the bytes read.
    pub sha256: String,
    pub bytes: u64,
}

/// One digest over the runs a verdict judged (`Verdict::evidence_runs`), for the report.
pub fn evidence_digest(runs: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for run in runs {
        hasher.update(run.as_bytes());
        hasher.update([0]);
    }
    format!("{:x}", hasher.finalize())
}

/// The tool that produced a verdict, for every report.
pub const TOOL: &str = concat!("gatecheck ", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub policy: String,
    pub policy_source: String,
    /// The evidence files read, with their detected format.
    pub evidence: Vec<String>,
    /// When queries were evaluated (RFC 3339), if any were.
    pub evaluated_at: Option<String>,
    /// When the judgement was made (RFC 3339).
    pub judged_at: Option<String>,
    /// Every input file with its digest and size.
    pub inputs: Vec<InputFile>,
    pub rows: Vec<Row>,
    /// Waivers that covered nothing (reported; they never block).
    pub stale_waivers: Vec<StaleWaiver>,
    /// Latency distributions of gates whose evidence carries samples (for the HTML report).
    pub distributions: Vec<Distribution>,
    /// Outcomes of the recorded earlier runs (oldest first, true = passed), when history was read.
    pub history: Option<Vec<bool>>,
    /// The runs judged, each named by a digest of what it measured (`Evidence::run_identities`):
    /// history counts a run once however often, and in whatever form, it is judged.
    pub evidence_runs: Vec<String>,
    /// Why the evidence judged here cannot stand as a `--baseline` (`MetricSet::unfit_as_baseline`),
    /// carried into the JSON report so a report never launders a run the rule refuses.
    pub baseline_unfit: Vec<String>,
    /// The span of times the judged evidence records of its run (`MetricSet::recorded_span`:
    /// earliest, latest), carried into the JSON report so a report given as `--baseline` is
    /// dated as its evidence would be. None when the evidence records no time.
    pub run_span: Option<(String, String)>,
    /// The load run's own facts, when the evidence records them.
    pub run: Option<RunFacts>,
    /// It judged the demo (`Evidence::demo`), not a candidate.
    pub demo: bool,
}

/// How many blocking rows the summary line names before "(+N more)": enough for the usual
/// incident, short enough to read in one glance.
pub const BLOCKING_NAMED: usize = 3;

/// One blocking row in a few words for the summary line.
fn blocking_name(row: &Row) -> String {
    let label = match &row.series {
        // `errors{provider="a"}`; a series with its metric name after a space, so the gate id
        // and the metric name never run together.
        Some(series) if series.starts_with('{') => format!("{}{series}", row.gate),
        Some(series) => format!("{} {series}", row.gate),
        None => row.gate.clone(),
    };
    if row.status == Status::NoData {
        return format!("{label} NO DATA");
    }
    let parts: Vec<&str> = row.check.split_whitespace().collect();
    let inverted = match parts.get(1) {
        Some(&"<") => Some("≥"),
        Some(&"<=") => Some(">"),
        Some(&">") => Some("≤"),
        Some(&">=") => Some("<"),
        Some(&"==") => Some("≠"),
        Some(&"!=") => Some("="),
        _ => None,
    };
    match (parts.as_slice(), inverted, &row.observed) {
        ([stat, _, limit], Some(op), Observed::Figure { shown, .. }) => {
            // A rate or value is named by its figure alone ("5% ≥ 3%"); a statistic is kept.
            let stat = if matches!(*stat, "rate" | "value" | "count") { String::new() } else { format!("{stat} ") };
            format!("{label} {stat}{shown} {op} {limit}")
        }
        _ => format!("{label} `{}` ({})", row.check, row.observed),
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub no_data: usize,
    pub skipped: usize,
    pub waived: usize,
    pub blocking: usize,
}

#[cfg(test)]
impl Verdict {
    /// A verdict of `rows` alone under policy `name` (from `name.toml`), for the writers' tests.
    pub(crate) fn of_rows(name: &str, rows: Vec<Row>) -> Verdict {
        Verdict {
            policy: name.into(),
            policy_source: format!("{name}.toml"),
            evidence: vec![],
            evaluated_at: None,
            judged_at: None,
            inputs: vec![],
            rows,
            stale_waivers: vec![],
            distributions: vec![],
            history: None,
            evidence_runs: vec![],
            baseline_unfit: vec![],
            run_span: None,
            run: None,
            demo: false,
        }
    }
}

impl Verdict {
    pub fn blocked(&self) -> bool {
        self.rows.iter().any(|row| row.blocking)
    }

    /// The process exit code this verdict stands for: 1 when blocked, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.blocked())
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for row in &self.rows {
            match row.status {
                Status::Pass => counts.pass += 1,
                Status::Fail => counts.fail += 1,
                Status::Warn => counts.warn += 1,
                Status::NoData => counts.no_data += 1,
                Status::Skipped => counts.skipped += 1,
                Status::Waived => counts.waived += 1,
            }
            counts.blocking += usize::from(row.blocking);
        }
        counts
    }

    /// What blocked, by name, in the verdict's order: the first `max` blocking rows as
    /// "gate{series} p(95) 750 ms ≥ 700ms" (the breached bound inverted, so it reads as the
    /// finding), "gate NO DATA", or "gate `check`: observed" when the threshold is not a plain
    /// comparison; then "(+N more)".
    pub fn blocking_names(&self, max: usize) -> String {
        let blocking: Vec<&Row> = self.rows.iter().filter(|row| row.blocking).collect();
        let names: Vec<String> = blocking.iter().take(max).map(|row| blocking_name(row)).collect();
        let mut names = names.join("; ");
        if blocking.len() > max {
            names.push_str(&format!(" (+{} more)", blocking.len() - max));
        }
        names
    }

    /// One line for the end of any report.
    pub fn summary_line(&self) -> String {
        let c = self.counts();
        if self.blocked() {
            format!("RELEASE BLOCKED: {} — {}", self.blocking_names(BLOCKING_NAMED), self.blocked_tally())
        } else {
            self.ok_line(&c)
        }
    }

    /// "N blocking check(s) did not hold (counts; policy P)": the counts without the names,
    /// for a report whose heading already names what blocked.
    pub fn blocked_tally(&self) -> String {
        let c = self.counts();
        format!("{} blocking check(s) did not hold ({}; policy {})", c.blocking, Self::tally(&c), self.policy)
    }

    fn tally(c: &Counts) -> String {
        let mut tally = format!(
            "{} passed, {} failed, {} no data, {} warnings, {} skipped",
            c.pass, c.fail, c.no_data, c.warn, c.skipped
        );
        if c.waived > 0 {
            tally.push_str(&format!(", {} waived", c.waived));
        }
        tally
    }

    fn ok_line(&self, c: &Counts) -> String {
        let tally = Self::tally(c);
        if c.waived > 0 {
            let checks = if c.waived == 1 { "check" } else { "checks" };
            format!(
                "RELEASE OK with {} waived {checks}: every other blocking check holds ({tally}; policy {})",
                c.waived, self.policy
            )
        } else {
            format!("RELEASE OK: every blocking check holds ({tally}; policy {})", self.policy)
        }
    }
}
