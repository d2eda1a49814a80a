//! The last accepted run, for thresholds relative to it (`p(95) <= baseline * 1.2`): a k6
//! summary of any shape, k6 raw results, or a gatecheck JSON report, detected from the content.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;
use crate::metrics::MetricKey;
use crate::policy::threshold::Stat;

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
        return Ok(Baseline { source: shown, figures: BTreeMap::new(), set: Some(set) });
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
        return Ok(Baseline { source: shown.clone(), figures: from_report(&shown, report)?, set: None });
    }
    let set = crate::sources::k6_summary::parse(&shown, &bytes)?;
    for why in set.unfit_as_baseline() {
        refuse(why)?;
    }
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
