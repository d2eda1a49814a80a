//! Run history (`--history DIR`): every verdict is recorded as a gatecheck JSON report named
//! `<UTC time>-<policy>.json`; the outcomes of earlier runs of the same policy feed history
//! gates such as "the last 2 runs all passed" (the scaling-change rule).
//!
//! A record counts for a policy only when its `policy.name` is exactly that policy (never a
//! file-name match: `pre-release` is not `release`), it was judged by the same policy text
//! (its `inputs` list the policy's SHA-256) and it judged a candidate's evidence (`"demo":
//! false`; the demo's runs against gatecheck's own API never count); records are ordered by their own `judged_at`, and
//! one dated in the future is refused. The same run counts once: a record lists the runs it
//! judged (`evidence_runs`, digests of their figures), and a record naming a run this verdict
//! judges, or one an earlier record counted, is not counted again. A run that passed
//! only because of a waiver is not a clean pass: it counts only where the gate says
//! `count_waived = true`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;

/// How a recorded verdict (a gatecheck JSON report) stands for what comes after it: the one
/// rule shared by history and `--baseline`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Nothing but history gates blocked it, and no waiver was needed.
    Clean,
    /// It passed only because waivers covered these gates' breaches: not a clean pass.
    Waived(Vec<String>),
    /// It was blocked (or cannot say).
    Blocked,
}

/// A run passed when nothing but history gates blocked it (otherwise a first run could never
/// count, being blocked by the very rule that needs it); it passed cleanly when no row was
/// WAIVED.
pub fn standing(report: &Value) -> Option<Standing> {
    let gates = report["gates"].as_array()?;
    let own = |g: &&Value| g["subject"] != "run history";
    if gates.iter().filter(own).any(|g| g["blocking"] != Value::Bool(false)) {
        return Some(Standing::Blocked);
    }
    let mut waived: Vec<String> = gates
        .iter()
        .filter(|g| g["verdict"] == "WAIVED")
        .filter_map(|g| g["id"].as_str().map(str::to_string))
        .collect();
    waived.dedup();
    Some(if waived.is_empty() { Standing::Clean } else { Standing::Waived(waived) })
}

/// The earlier runs a history gate may count: which policy judged them (by name and by the
/// digest of its text, so another policy that happens to share the name never counts) and
/// which runs this verdict judges (never counted again).
pub struct Query<'a> {
    pub policy: &'a str,
    /// SHA-256 of the policy's text, as the record's `inputs` list it.
    pub policy_sha256: &'a str,
    /// This verdict's `evidence_runs`.
    pub current_runs: &'a [String],
    /// Count a run that passed only by a waiver (the gate's `count_waived = true`).
    pub count_waived: bool,
    /// The judgement time (unix seconds): records dated later are refused.
    pub now: i64,
}

/// One record read from the history directory.
struct Record {
    judged_at: i64,
    shown: String,
    runs: Vec<String>,
    standing: Standing,
}

/// Outcomes of the recorded runs of the policy, oldest first by each record's own judgement
/// time (never its file name, which anyone can choose), true = passed. A record counts only
/// when none of the runs it judged has been counted already (nor is judged now). A record dated
/// in the future is refused: exit 2, naming it.
pub fn outcomes(dir: &Path, query: &Query<'_>) -> Result<Vec<bool>, Error> {
    let files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(Error::Read { path: dir.display().to_string(), what: "history directory", source }),
    };
    let mut records = Vec::new();
    for path in &files {
        if let Some(record) = read_record(path, query)? {
            records.push(record);
        }
    }
    records.sort_by(|a, b| a.judged_at.cmp(&b.judged_at).then_with(|| a.shown.cmp(&b.shown)));
    let mut seen: BTreeSet<String> = query.current_runs.iter().cloned().collect();
    let mut outcomes = Vec::new();
    for record in records {
        if record.runs.is_empty() || record.runs.iter().any(|run| seen.contains(run)) {
            continue;
        }
        seen.extend(record.runs);
        outcomes.push(match record.standing {
            Standing::Clean => true,
            Standing::Waived(_) => query.count_waived,
            Standing::Blocked => false,
        });
    }
    Ok(outcomes)
}

/// Reads one record; None when it belongs to another policy (by name or by text).
fn read_record(path: &Path, query: &Query<'_>) -> Result<Option<Record>, Error> {
    let shown = path.display().to_string();
    let refuse = |message: String| Error::Evidence { path: shown.clone(), message };
    let text = crate::input::read_to_string(path, "history record")?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| refuse(format!("not a gatecheck JSON report ({e})")))?;
    if report["policy"]["name"].as_str() != Some(query.policy) {
        return Ok(None);
    }
    let same_text = report["inputs"]
        .as_array()
        .is_some_and(|inputs| inputs.iter().any(|i| i["role"] == "policy" && i["sha256"] == query.policy_sha256));
    if !same_text {
        return Ok(None);
    }
    // Only a judgement of a candidate's evidence is a run of the candidate (finding judge5/02):
    // the demo's records say `"demo": true`, and a record that does not say `false` (written
    // before the rule) cannot tell; neither ever counts.
    if report.get("demo") != Some(&Value::Bool(false)) {
        return Ok(None);
    }
    let judged_at = report["judged_at"]
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .ok_or_else(|| refuse("judged_at: expected an RFC 3339 time (gatecheck JSON report)".into()))?
        .unix_timestamp();
    crate::metrics::clock::not_future(query.now, judged_at).map_err(|e| refuse(format!("judged_at: {e}")))?;
    // Records written before evidence_runs existed name their evidence by one digest.
    let runs: Vec<String> = match report["evidence_runs"].as_array() {
        Some(runs) => runs.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
        None => report["evidence_digest"].as_str().map(str::to_string).into_iter().collect(),
    };
    let standing = standing(&report).ok_or_else(|| refuse("gates: expected a list (gatecheck JSON report)".into()))?;
    Ok(Some(Record { judged_at, shown, runs, standing }))
}
