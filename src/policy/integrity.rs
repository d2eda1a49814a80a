//! Run integrity: facts about the evidence itself that can stop a release, as verdict rows.
//!
//! A partial load run (request cap, interrupt, deadline) and a judgement in which no blocking
//! gate was judged at all are rows of the verdict like any gate, computed here once, so the
//! exit code and every report (table, JSON, JUnit, Markdown, annotations) say the same thing
//! whichever command produced the verdict.

use crate::policy::evidence::Evidence;
use crate::policy::verdict::{Observed, Row, Status};
use crate::policy::{Policy, Severity};

/// The gate id every integrity row carries (reserved: no policy gate may use it).
pub const GATE_ID: &str = crate::policy::reserved::RUN_INTEGRITY;

/// One row per load run whose evidence records how it ended (native runs and merges do).
pub fn run_rows(policy: &Policy, evidence: &Evidence, rows: &mut Vec<Row>) {
    for set in evidence.summary.iter().chain(&evidence.raw) {
        let Some(run) = &set.run else { continue };
        let mut row = Row::new(
            GATE_ID,
            "the load run completed: no request cap, interrupt or deadline cut it short",
            "load run".into(),
            "run completed (not partial)".into(),
        );
        row.source = format!("{}: gatecheck.partial", set.path);
        match &run.partial {
            None => {
                row.status = Status::Pass;
                row.observed = Observed::Figure { value: 0.0, unit: "number", shown: "complete".into() };
            }
            Some(reason) => {
                row.observed = Observed::Figure { value: 1.0, unit: "number", shown: "partial".into() };
                row.detail = Some(format!("the load run was partial ({reason}): its figures cannot pass a release"));
                match policy.partial_run_severity {
                    Severity::Block => {
                        row.status = Status::Fail;
                        row.blocking = true;
                    }
                    Severity::Warn => row.status = Status::Warn,
                }
            }
        }
        rows.push(row);
        // One segment of a run of several is not the run: the other segments may hold every
        // error. Merge them first (`gatecheck merge`).
        if let Some((segment, count)) = &run.segment {
            let mut row = Row::new(
                GATE_ID,
                "the evidence is the whole run, not one segment of it",
                "load run".into(),
                "whole run (not one segment)".into(),
            );
            row.source = format!("{}: gatecheck.shard", set.path);
            row.observed = Observed::Figure { value: 1.0, unit: "number", shown: format!("segment {segment}") };
            row.status = Status::Fail;
            row.blocking = true;
            row.detail = Some(format!(
                "{} is segment {segment} of a run of {count} segments: merge the segments with gatecheck merge and judge the merged summary",
                set.path
            ));
            rows.push(row);
        }
        if let Some(refused) = &run.remote_write_refused {
            rows.push(remote_write_row(&set.path, refused));
        }
    }
}

/// With `--remote-write`, every push must have been taken: a receiver that refused (e.g. native
/// histograms disabled: HTTP 500) leaves the live view incomplete, and it never passes silently.
fn remote_write_row(path: &str, refused: &[String]) -> Row {
    let mut row = Row::new(
        GATE_ID,
        "every remote-write push of the run was accepted",
        "remote-write".into(),
        "every push accepted".into(),
    );
    row.source = format!("{path}: gatecheck.remote_write");
    // Each line is one reason (with how many pushes it refused, when more than one).
    let shown = if refused.is_empty() { "all accepted".to_string() } else { "refused".to_string() };
    row.observed = Observed::Figure { value: refused.len() as f64, unit: "number", shown };
    if refused.is_empty() {
        row.status = Status::Pass;
    } else {
        row.status = Status::Fail;
        row.blocking = true;
        row.detail = Some(refused.join("; "));
    }
    row
}

/// The gates the nothing-judged row counts: the blocking ones (history gates, which judge the
/// run as a whole afterwards, aside), or every gate of a policy without one (a warn-only
/// regression report must have judged something). When none of them was judged, the verdict is
/// NO DATA; `export prometheus-rules` says the same of the same gates (`GatecheckNothingJudged`).
pub fn counted_gates(policy: &Policy) -> Vec<&crate::policy::Gate> {
    let gates = policy.gates.iter().filter(|g| g.consecutive_passes.is_none());
    let blocking: Vec<_> = gates.clone().filter(|g| g.severity == Severity::Block).collect();
    if blocking.is_empty() {
        gates.collect()
    } else {
        blocking
    }
}

/// The row added when no gate that can block was judged on a figure: every such gate was
/// skipped, had no data that blocks, or only warns. Nothing judged is never a pass.
pub fn nothing_judged_row(policy: &Policy) -> Row {
    let mut row = Row::new(
        GATE_ID,
        "at least one blocking gate was judged on evidence",
        "judged gates".into(),
        "at least 1 blocking gate judged".into(),
    );
    row.status = Status::NoData;
    row.blocking = true;
    row.observed = Observed::Figure { value: 0.0, unit: "number", shown: "0 judged".into() };
    row.detail = Some(format!(
        "no blocking gate of policy {} was judged on a figure (all skipped, without data, or warn-only): nothing was checked, so nothing can pass",
        policy.name
    ));
    row
}

/// `check --watch`: the last `require` evaluations must all have passed.
pub fn stability_row(passed: &[bool], require: u32) -> Row {
    let mut row = Row::new(
        GATE_ID,
        "the verdict was stable over the watched evaluations",
        "watched evaluations".into(),
        format!("last {require} of {} evaluations passed", passed.len()),
    );
    let tally: Vec<&str> = passed.iter().map(|p| if *p { "pass" } else { "fail" }).collect();
    let stable = passed.iter().rev().take(require as usize).all(|p| *p);
    row.observed = Observed::Figure {
        value: passed.iter().rev().take(require as usize).filter(|p| **p).count() as f64,
        unit: "number",
        shown: tally.join(", "),
    };
    row.source = "check --watch".into();
    if stable {
        row.status = Status::Pass;
    } else {
        row.status = Status::Fail;
        row.blocking = true;
        row.detail = Some(format!("the last {require} evaluations did not all pass ({})", tally.join(", ")));
    }
    row
}

/// `--max-evidence-age`: one row per load-test evidence file, blocking when its run ended
/// longer ago than allowed, or when its age cannot be told.
pub fn evidence_age_rows(evidence: &Evidence, rows: &mut Vec<Row>) {
    let Some(now) = evidence.now_unix else { return };
    // Without --max-evidence-age no age is judged, but evidence dated in the future still
    // blocks: it is a wrong clock or a forged file, never fresh.
    let max_age = evidence.max_evidence_age.unwrap_or(std::time::Duration::MAX);
    let limit = crate::policy::freshness::show_age(max_age);
    for time in &evidence.evidence_times {
        let future = time.ended_at.is_some_and(|ended| crate::metrics::clock::not_future(now, ended).is_err());
        if evidence.max_evidence_age.is_none() && !future {
            continue;
        }
        let mut row = Row::new(
            GATE_ID,
            "the load-test evidence is recent (--max-evidence-age)",
            format!("age of {}", time.path),
            match evidence.max_evidence_age {
                Some(_) => format!("evidence age < {limit}"),
                None => "evidence is not dated in the future".to_string(),
            },
        );
        row.source = format!("{}: {}", time.path, time.how);
        match time.ended_at {
            None => {
                row.status = Status::NoData;
                row.blocking = true;
                row.detail = Some(format!("the age of {} cannot be told ({})", time.path, time.how));
            }
            Some(ended) if crate::metrics::clock::not_future(now, ended).is_err() => {
                let why =
                    crate::metrics::clock::not_future(now, ended).err().map(|e| e.to_string()).unwrap_or_default();
                row.status = Status::NoData;
                row.blocking = true;
                row.detail =
                    Some(format!("{} is dated {} by {}: {why}", time.path, crate::metrics::rfc3339(ended), time.how));
            }
            Some(ended) => {
                let age = crate::metrics::clock::age(now, ended as f64).unwrap_or(std::time::Duration::MAX);
                let shown = crate::policy::freshness::show_age(age);
                row.observed =
                    Observed::Figure { value: age.as_secs_f64() * 1000.0, unit: "ms", shown: format!("{shown} old") };
                if age < max_age {
                    row.status = Status::Pass;
                } else {
                    row.status = Status::Fail;
                    row.blocking = true;
                    row.detail = Some(format!(
                        "{} is {shown} old by {}, over the {limit} allowed: run the load test again",
                        time.path, time.how
                    ));
                }
            }
        }
        rows.push(row);
    }
}
