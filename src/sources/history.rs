//! Run history (`--history DIR`): every verdict is recorded as a gatecheck JSON report named
//! `<UTC time>-<policy>.json`; the outcomes of earlier runs of the same policy feed history
//! gates such as "the last 2 runs all passed" (the scaling-change rule).
//!
//! A record counts for a policy only when its `policy.name` is exactly that policy (never a
//! file-name match: `pre-release` is not `release`), and the same evidence counts once: a
//! record carries the digest of the evidence it judged, and records with the digest of this
//! run's evidence, or repeating an earlier record's, are not counted again. A run that passed
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

/// Outcomes of the recorded runs of `policy`, oldest first (true = passed), each distinct
/// evidence once and none of `current` (this run's evidence digest). A run that passed only
/// by a waiver counts as passed only with `count_waived` (the gate's `count_waived = true`).
pub fn outcomes(dir: &Path, policy: &str, current: &str, count_waived: bool) -> Result<Vec<bool>, Error> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(Error::Read { path: dir.display().to_string(), what: "history directory", source }),
    };
    // Names start with a sortable UTC time.
    files.sort();
    let mut seen = BTreeSet::from([current.to_string()]);
    let mut outcomes = Vec::new();
    for path in &files {
        let shown = path.display().to_string();
        let text = crate::input::read_to_string(path, "history record")?;
        let report: Value = serde_json::from_str(&text).map_err(|e| Error::Evidence {
            path: shown.clone(),
            message: format!("not a gatecheck JSON report ({e})"),
        })?;
        if report["policy"]["name"].as_str() != Some(policy) {
            continue;
        }
        // A record that cannot say what it judged cannot be told apart from this run.
        let Some(digest) = report["evidence_digest"].as_str() else { continue };
        if !seen.insert(digest.to_string()) {
            continue;
        }
        let standing = standing(&report).ok_or_else(|| Error::Evidence {
            path: shown.clone(),
            message: "gates: expected a list (gatecheck JSON report)".into(),
        })?;
        outcomes.push(match standing {
            Standing::Clean => true,
            Standing::Waived(_) => count_waived,
            Standing::Blocked => false,
        });
    }
    Ok(outcomes)
}
