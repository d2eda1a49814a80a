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
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NoData => "NO DATA",
            Status::Skipped => "SKIPPED",
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
    /// Why there is no data, what was overridden, or how to get the missing figure.
    pub detail: Option<String>,
    pub samples: Option<u64>,
    /// The labels of the query series this row judges, when a query returned several.
    pub series: Option<String>,
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
            detail: None,
            samples: None,
            series: None,
        }
    }
}

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

/// The digest of what a verdict judged: its evidence files (not the policy or scenario, which
/// say how it was judged) and, for query evidence, the evaluation time. History counts the
/// same evidence once by it.
pub fn evidence_digest(inputs: &[InputFile], evaluated_at: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for input in inputs.iter().filter(|i| i.role != "policy" && i.role != "scenario") {
        hasher.update(input.role.as_bytes());
        hasher.update([0]);
        hasher.update(input.sha256.as_bytes());
        hasher.update([0]);
    }
    if let Some(at) = evaluated_at {
        hasher.update(b"queries evaluated at\0");
        hasher.update(at.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub no_data: usize,
    pub skipped: usize,
    pub blocking: usize,
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
            }
            counts.blocking += usize::from(row.blocking);
        }
        counts
    }

    /// One line for the end of any report.
    pub fn summary_line(&self) -> String {
        let c = self.counts();
        let tally = format!(
            "{} passed, {} failed, {} no data, {} warnings, {} skipped",
            c.pass, c.fail, c.no_data, c.warn, c.skipped
        );
        if self.blocked() {
            format!("RELEASE BLOCKED: {} blocking check(s) did not hold ({tally}; policy {})", c.blocking, self.policy)
        } else {
            format!("RELEASE OK: every blocking check holds ({tally}; policy {})", self.policy)
        }
    }
}
