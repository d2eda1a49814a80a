//! Run history (`--history DIR`): every verdict is recorded as a gatecheck JSON report named
//! `<UTC time>-<policy>.json`; the outcomes of earlier runs of the same policy feed history
//! gates such as "the last 2 runs all passed" (the scaling-change rule).

use std::path::Path;

use serde_json::Value;

use crate::error::Error;
use crate::policy::verdict::Verdict;

/// Outcomes of the recorded runs of `policy`, oldest first (true = passed).
pub fn outcomes(dir: &Path, policy: &str) -> Result<Vec<bool>, Error> {
    let suffix = format!("-{policy}.json");
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(&suffix)))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(Error::Read { path: dir.display().to_string(), what: "history directory", source }),
    };
    // Names start with a sortable UTC time.
    files.sort();
    files
        .iter()
        .map(|path| {
            let shown = path.display().to_string();
            let text = crate::input::read_to_string(path, "history record")?;
            let report: Value = serde_json::from_str(&text).map_err(|e| Error::Evidence {
                path: shown.clone(),
                message: format!("not a gatecheck JSON report ({e})"),
            })?;
            // A run passed when nothing but history gates blocked it: otherwise a first run could
            // never count, being blocked by the very rule that needs it.
            let gates = report["gates"].as_array().ok_or_else(|| Error::Evidence {
                path: shown.clone(),
                message: "gates: expected a list (gatecheck JSON report)".into(),
            })?;
            Ok(!gates.iter().any(|g| g["blocking"] == Value::Bool(true) && g["subject"] != "run history"))
        })
        .collect()
}

/// Records this verdict in `dir`.
pub fn record(dir: &Path, verdict: &Verdict) -> Result<(), Error> {
    let now = time::OffsetDateTime::now_utc();
    let generated_at = crate::sources::prometheus::rfc3339(now.unix_timestamp());
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:09}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.nanosecond()
    );
    let path = dir.join(format!("{stamp}-{}.json", verdict.policy));
    crate::report::write_atomically(&path, crate::report::json::render(verdict, &generated_at).as_bytes())
}
