//! Shared pieces of the fuzz targets: scratch files for parsers that only take a path, the
//! invariants every parsed `MetricSet` must keep, and a judgement of parsed evidence against
//! the built-in policies (so hostile figures also go through the evaluator and the reports).

use std::path::PathBuf;
use std::sync::OnceLock;

use gatecheck::metrics::{Aggregate, MetricSet};
use gatecheck::policy::evaluate::Evidence;
use gatecheck::policy::verdict::{Observed, Status};
use gatecheck::policy::Policy;

/// A per-process scratch directory: targets run one at a time, but a fixed path per pid keeps
/// a stray second fuzzer (or `cargo fuzz run` of another target) from racing on the files.
pub fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gatecheck-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    });
    dir.join(name)
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn write_scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("scratch file");
    path
}

pub fn release_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| gatecheck::policy::builtin_release().expect("built-in release policy"))
}

pub fn saturation_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| gatecheck::policy::builtin_saturation().expect("built-in saturation policy"))
}

/// Figures a source accepted must be finite, durations not negative, rates consistent:
/// anything else would reach the evaluator as a figure that can silently pass.
pub fn assert_set_sane(set: &MetricSet) {
    for (key, metric) in &set.metrics {
        match &metric.aggregate {
            Aggregate::Trend(stats) => {
                for (stat, value) in &stats.0 {
                    assert!(value.is_finite(), "{key} {stat} = {value} is not finite");
                    if metric.is_time {
                        assert!(*value >= 0.0, "{key} {stat} = {value}: a negative duration");
                    }
                }
            }
            Aggregate::Rate { matches, total } => {
                assert!(matches <= total, "{key}: {matches} matches out of {total}");
            }
            Aggregate::Counter { count, per_second } => {
                assert!(count.is_finite(), "{key} count = {count} is not finite");
                if let Some(rate) = per_second {
                    assert!(rate.is_finite(), "{key} rate = {rate} is not finite");
                }
            }
            Aggregate::Gauge { value, min, max } => {
                for figure in [Some(value), min.as_ref(), max.as_ref()].into_iter().flatten() {
                    assert!(figure.is_finite(), "{key} gauge figure {figure} is not finite");
                }
            }
        }
    }
}

/// Evaluates `evidence` against `policy` and renders the reports. A NaN figure must never
/// pass a gate (it is NO DATA); any evaluation error is fine, a panic is not.
pub fn judge(policy: &Policy, evidence: &Evidence) {
    let Ok(verdict) = gatecheck::policy::evaluate::evaluate(policy, evidence) else { return };
    for row in &verdict.rows {
        if let Observed::Figure { value, .. } = &row.observed {
            assert!(
                !(value.is_nan() && row.status == Status::Pass),
                "gate {} check {}: a NaN figure passed",
                row.gate,
                row.check
            );
        }
    }
    let mut out = Vec::new();
    let _ = gatecheck::report::table::render(
        &verdict,
        &gatecheck::report::table::View { width: Some(80), ..Default::default() },
        &mut out,
    );
    let _ = gatecheck::report::markdown::render(&verdict);
    let _ = gatecheck::report::json::render(&verdict, "2026-11-30T00:00:00Z");
    let _ = gatecheck::report::junit::render(&verdict, "2026-11-30T00:00:00Z");
}

/// Figures a source accepted: their invariants hold, and judging them against the release
/// policy neither panics nor lets a NaN figure pass.
pub fn check_figures(set: MetricSet) {
    assert_set_sane(&set);
    let evidence = Evidence { summary: Some(set), ..Evidence::default() };
    judge(release_policy(), &evidence);
}

/// A summary that parsed: its shape is one gatecheck knows, and its figures pass `check_figures`.
pub fn check_summary(set: MetricSet) {
    use gatecheck::sources::k6_summary;
    let known = [
        k6_summary::FORMAT_EXPORT,
        k6_summary::FORMAT_HANDLE_SUMMARY,
        k6_summary::FORMAT_MACHINE_READABLE,
        k6_summary::FORMAT_NATIVE,
    ];
    assert!(known.contains(&set.format.as_str()), "unknown format {:?}", set.format);
    check_figures(set);
}

/// Raw results that were read: labelled as raw results (no summary shape), figures checked.
/// Kept apart from `check_summary`, whose shape check every raw set would fail.
pub fn check_raw(set: MetricSet) {
    assert_eq!(set.format, gatecheck::sources::k6_ndjson::FORMAT_RAW);
    check_figures(set);
}
