//! The last accepted run, for thresholds relative to it (`p(95) <= baseline * 1.2`): a k6
//! summary of any shape, k6 raw results, or a gatecheck JSON report, detected from the content.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;
use crate::metrics::MetricKey;
use crate::policy::threshold::Stat;

pub use crate::metrics::Baseline;

/// Reads a baseline. A gatecheck report of a blocked run is not an accepted run: it is refused
/// unless `allow_blocked` (the user asked for it explicitly).
pub fn read(path: &Path, wanted: &[MetricKey], allow_blocked: bool) -> Result<Baseline, Error> {
    let shown = path.display().to_string();
    if crate::sources::detect::detect(path)? == crate::sources::detect::InputFormat::RawResults {
        let (set, _) = crate::sources::k6_ndjson::read(&[path], wanted, false)?;
        return Ok(Baseline { source: shown, figures: BTreeMap::new(), set: Some(set) });
    }
    let bytes = crate::input::read(path, "baseline")?;
    if let Ok(report) = serde_json::from_slice::<Value>(&bytes) {
        if report.get("schema_version").is_some() && report.get("gates").is_some() {
            let outcome = report.get("outcome").and_then(Value::as_str).unwrap_or("unknown");
            if outcome != "pass" && !allow_blocked {
                return Err(Error::Evidence {
                    path: shown,
                    message: format!(
                        "outcome is {outcome:?}: a baseline must be an accepted run (pass --baseline-allow-blocked to use it anyway)"
                    ),
                });
            }
            return Ok(Baseline { source: shown.clone(), figures: from_report(&shown, &report)?, set: None });
        }
    }
    let set = crate::sources::k6_summary::parse(&shown, &bytes)?;
    Ok(Baseline { source: shown, figures: BTreeMap::new(), set: Some(set) })
}

/// A gatecheck JSON report: each row's subject is "<selector> <stat>" with a figure.
fn from_report(path: &str, report: &Value) -> Result<BTreeMap<(MetricKey, String), f64>, Error> {
    let gates = report["gates"].as_array().ok_or_else(|| Error::Evidence {
        path: path.into(),
        message: "gates: expected a list (gatecheck JSON report)".into(),
    })?;
    let mut figures = BTreeMap::new();
    for gate in gates {
        let (Some(subject), Some(value)) = (gate["subject"].as_str(), gate["observed"]["value"].as_f64()) else {
            continue;
        };
        let Some((selector, stat)) = subject.rsplit_once(' ') else { continue };
        let (Ok(key), Ok(stat)) = (MetricKey::parse(selector), Stat::parse(stat)) else { continue };
        figures.insert((key, stat.key()), value);
    }
    Ok(figures)
}
