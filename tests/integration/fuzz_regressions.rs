//! Reproducers the fuzz targets in `fuzz/` found, kept under `fixtures/fuzz-regressions/<target>/`
//! and fed through the same code path as their target. Each once panicked (or broke a target's
//! invariant); each must now end in a clean error naming what is wrong.

use std::path::PathBuf;

use gatecheck::policy::threshold::{parse_limit, Dimension, Op, Stat, Threshold};

use crate::support::*;

/// Every reproducer saved for `target`, with its bytes (a target without any is a mistake).
fn reproducers(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fixture("fuzz-regressions").join(target);
    let mut found: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("reproducer reads");
            (path, bytes)
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no reproducers in {}", dir.display());
    found
}

const DIMENSIONS: [Dimension; 4] = [
    Dimension::Duration { bare_millis: 1.0 },
    Dimension::Duration { bare_millis: 1000.0 },
    Dimension::Ratio,
    Dimension::Plain,
];

#[test]
fn k6_rate_whose_passes_plus_fails_overflow_is_an_input_error() {
    // `passes + fails` of counts near u64::MAX overflowed (a panic in debug builds, a wrapped
    // total in release).
    for (path, bytes) in reproducers("k6_handle_summary") {
        let err = gatecheck::sources::k6_summary::parse("fuzz.json", &bytes).expect_err(&path.display().to_string());
        assert!(err.to_string().contains("is not a count"), "{}: {err}", path.display());
    }
}

#[test]
fn limit_infinite_once_in_milliseconds_is_refused() {
    // `1e306s` is finite as written but infinite in milliseconds: the gate compared against +inf.
    for (path, bytes) in reproducers("threshold_expr") {
        let text = String::from_utf8(bytes).expect("reproducer is text");
        let mut thresholds: Vec<Threshold> = Threshold::parse(&text).into_iter().collect();
        if let Ok((limit, unit)) = parse_limit(&text) {
            thresholds.push(Threshold {
                stat: Stat::Value,
                op: Op::Lt,
                limit,
                unit,
                baseline: None,
                significance: None,
            });
        }
        if thresholds.is_empty() {
            // Limits are exact decimals now: one beyond their range is refused as written.
            let err = match Threshold::parse(&text) {
                Err(err) if !err.contains("has no comparison") => err,
                _ => parse_limit(&text).unwrap_err(),
            };
            assert!(err.contains("out of range") || err.contains("finite"), "{}: {err}", path.display());
            continue;
        }
        for threshold in &thresholds {
            for dimension in DIMENSIONS {
                if let Ok(limit) = threshold.canonical_limit(dimension) {
                    assert!(limit.is_finite(), "{}: `{threshold}` on {dimension:?} gave {limit}", path.display());
                }
            }
        }
    }
    // In a policy the same limit is a load error naming the gate, not a gate that never breaches.
    let text = "[[gate]]\nid = \"p95\"\nmetric = \"http_req_duration\"\nthresholds = [\"max < 1e306s\"]\n";
    let err = gatecheck::policy::parse("fuzz.toml", "fuzz", text).expect_err("policy with an infinite limit");
    assert!(err.to_string().contains("out of range"), "{err}");
}

#[test]
fn histogram_counts_that_are_not_finite_counts_are_scrape_errors() {
    // A bucket count of "5e225060" read as +Inf made every quantile NaN; negative counts and
    // a NaN `le` did the same by other roads.
    for (path, bytes) in reproducers("scrape_exposition") {
        let text = String::from_utf8_lossy(&bytes);
        let err = gatecheck::sources::scrape::parse("http://127.0.0.1:9/metrics", &text)
            .expect_err(&path.display().to_string());
        let message = err.to_string();
        assert!(
            // Or its line's timestamp, read since round19-figures/03, refused first.
            message.contains("out of range for a histogram")
                || message.contains("le is not a number")
                || message.contains("is not a whole number of milliseconds since the epoch")
                // Or a line whose name is no metric name, read or refused since round28-figures/01.
                || message.contains("is not a metric name"),
            "{message}"
        );
    }
}

#[test]
fn hostile_hdr_histograms_in_native_summaries_do_not_merge() {
    // A zig-zag count of i64::MIN made hdrhistogram negate with overflow (a panic wherever
    // overflow checks are on); counts near u64::MAX overflowed its sums and, once merged, made
    // the recorder's serializer fail (an `expect`, so a panic in release too); a header claiming
    // a 4 GiB payload made it allocate that much.
    let policy = gatecheck::policy::builtin_release().expect("release policy");
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in reproducers("merge_native_hdr") {
        let out = dir.path().join("merged.json");
        let err = gatecheck::commands::merge::merge(&out, &[path.clone(), path.clone()], &policy)
            .expect_err(&path.display().to_string());
        assert!(err.to_string().contains("histogram_us"), "{}: {err}", path.display());
        assert!(!out.exists(), "{}: a failed merge wrote {}", path.display(), out.display());
    }
}

#[test]
fn native_summary_fields_out_of_range_do_not_merge() {
    // Found by hand through the merge target's harness (not by the fuzzer within its time):
    // `failed` above `requests` made the merged summary's `fails` underflow, and a `duration_s`
    // of 1e300 made Duration::from_secs_f64 panic (in release builds too). The fuzzer found the
    // third: a flow named `f,ow0` made a merged summary that verify cannot read.
    let policy = gatecheck::policy::builtin_release().expect("release policy");
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in reproducers("merge_native_hdr-fields") {
        let out = dir.path().join("merged.json");
        let err = gatecheck::commands::merge::merge(&out, &[path.clone(), path.clone()], &policy)
            .expect_err(&path.display().to_string());
        let message = err.to_string();
        let named = ["exceeds requests", "duration_s", "unfit for a k6 selector"].iter().any(|n| message.contains(n));
        assert!(named, "{message}");
    }
}

#[test]
fn k6_counts_that_are_not_u64_counts_are_input_errors() {
    // Left open by the fuzz runs: a count above 2^64 (1e30, 18446744073709551616) read as
    // u64::MAX, so only an overflowing sum was refused. Every shape reads its counts through
    // one check; a trend's count, k6's own counters (requests, iterations, bytes) and a native
    // summary's run counts are counts too. The native reproducers carry a (empty) recorder: a
    // block with neither a recorder nor `merged_from` is refused before its counts are read
    // (finding round31-figures/01).
    let expected = [
        ("export-http-reqs-count-1e30.json", r#"metrics["http_reqs"]["count"]"#),
        ("export-rate-fails-1e30.json", r#"metrics["http_req_failed"]["fails"]"#),
        ("export-rate-passes-2-pow-64.json", r#"metrics["checks"]["passes"]"#),
        ("handle-summary-rate-passes-1e30.json", r#"metrics["http_req_failed"].values["passes"]"#),
        ("handle-summary-trend-count-1e30.json", r#"metrics["http_req_duration"].values["count"]"#),
        ("handle-summary-trend-count-fractional.json", r#"metrics["http_req_duration"].values["count"]"#),
        (
            "machine-readable-checks-matches-1e20.json",
            r#"results.checks.metrics[name="checks_succeeded"].values["matches"]"#,
        ),
        ("machine-readable-iterations-count-fractional.json", r#"results.metrics[name="iterations"].values["count"]"#),
        ("machine-readable-rate-total-2-pow-64.json", r#"results.metrics[name="http_req_failed"].values["total"]"#),
        ("native-dropped-iterations-1e30.json", "gatecheck.dropped_iterations"),
        ("native-errors-by-kind-negative.json", r#"gatecheck.errors_by_kind["timeout"]"#),
    ];
    let found = reproducers("k6_summary-counts");
    let names: Vec<String> = found.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, expected.map(|(name, _)| name.to_string()), "every reproducer says which key it breaks");
    for ((path, bytes), (_, key)) in found.iter().zip(expected) {
        let err = gatecheck::sources::k6_summary::parse("fuzz.json", bytes).expect_err(&path.display().to_string());
        let message = err.to_string();
        assert!(
            message.contains(key) && message.contains("whole, non-negative count"),
            "{}: {message}",
            path.display()
        );
    }
}

/// The reproducer `bytes` (segment 0/2 of a run) as segment 1/2, written into `dir`: the two
/// complete the run, so merge gets past the shard identities to what it adds up.
fn second_segment(dir: &std::path::Path, bytes: &[u8]) -> PathBuf {
    let mut other: serde_json::Value = serde_json::from_slice(bytes).expect("reproducer is JSON");
    other["gatecheck"]["shard"]["index"] = 1.into();
    other["gatecheck"]["shard"]["segment"] = "1/2".into();
    let second = dir.join("segment-1.json");
    std::fs::write(&second, other.to_string()).unwrap();
    second
}

#[test]
fn native_summary_counts_whose_sum_exceeds_u64_do_not_merge() {
    // Listed as left open by the fuzz runs: merge added the plain counts of native summaries
    // with `+=`, so two segments' counts near 2^63 overflowed (a panic with overflow checks, a
    // wrapped count in release). Each reproducer is segment 0/2 of a run; the same summary
    // as segment 1/2 completes the run, so the merge gets past the shard identities.
    let expected = [
        ("bytes-received-sum-beyond-u64.json", "gatecheck.recorder.bytes_received"),
        ("clamped-sum-beyond-u64.json", "gatecheck.recorder.clamped"),
        ("dropped-iterations-sum-beyond-u64.json", "gatecheck.recorder.flows[].dropped_iterations"),
        ("error-count-sum-beyond-u64.json", "gatecheck.recorder.errors"),
        ("iterations-sum-beyond-u64.json", "gatecheck.recorder.flows[].iterations"),
        ("late-iterations-sum-beyond-u64.json", "gatecheck.recorder.flows[].late_iterations"),
        ("status-count-sum-beyond-u64.json", "gatecheck.recorder.flows[].endpoints[].statuses"),
        // Unknown error kinds were counted as protocol errors (two of them overflowed); now a
        // kind this version does not write is refused before any sum.
        ("unknown-error-kinds-sum-beyond-u64.json", "gatecheck.recorder.errors: unknown error kind"),
        // Now refused before any sum: a vus gauge is the one its plan gives (round39-figures/03).
        ("vus-sum-beyond-u64.json", "metrics[\"vus\"]"),
    ];
    let policy = gatecheck::policy::builtin_release().expect("release policy");
    let dir = tempfile::tempdir().unwrap();
    let found = reproducers("merge_native_hdr-counts");
    let names: Vec<String> = found.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, expected.map(|(name, _)| name.to_string()), "every reproducer says which field it overflows");
    for ((path, bytes), (_, field)) in found.iter().zip(expected) {
        let second = second_segment(dir.path(), bytes);
        let out = dir.path().join("merged.json");
        let err = gatecheck::commands::merge::merge(&out, &[path.clone(), second.clone()], &policy)
            .expect_err(&path.display().to_string());
        let message = err.to_string();
        let names_the_limit = message.contains("2^64")
            || message.contains("unknown error kind")
            || message.contains("a run's VU gauge is what its plan starts");
        assert!(message.contains(field) && names_the_limit, "{}: {message}", path.display());
        assert!(message.contains(&path.display().to_string()), "names the file: {message}");
        assert!(!out.exists(), "{}: a failed merge wrote {}", path.display(), out.display());
    }
}

#[test]
fn k6_raw_trends_of_finite_samples_have_finite_figures() {
    // Found by hand for the k6_ndjson_file target's "figures finite" property: samples near
    // f64::MAX summed to +Inf (avg +Inf), and a spread beyond f64 (-1.5e308 to 1.5e308) made
    // interpolated percentiles +Inf, though every sample was a valid finite value.
    let wanted: Vec<gatecheck::metrics::MetricKey> = ["http_req_duration", "clock_skew"]
        .iter()
        .map(|name| gatecheck::metrics::MetricKey::parse(name).unwrap())
        .collect();
    for (path, _) in reproducers("k6_ndjson_file") {
        let (set, _) = gatecheck::sources::k6_ndjson::read(&[path.as_path()], &wanted, false)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(set.metrics.len(), 1, "{}", path.display());
        for metric in set.metrics.values() {
            let gatecheck::metrics::Aggregate::Trend(stats) = &metric.aggregate else { panic!("a trend") };
            let (min, max) = (stats.0["min"], stats.0["max"]);
            for (stat, value) in &stats.0 {
                let within = stat == "count" || (min..=max).contains(value);
                assert!(value.is_finite() && within, "{}: {stat} = {value}", path.display());
            }
        }
    }
}

#[test]
fn merged_histograms_hold_no_more_samples_than_a_summary_may() {
    // Found by merge_native_hdr once its two copies were segments of one run: each segment's
    // histogram held at most 2^40 samples, what the decoder accepts, but their union more, so
    // merge wrote a summary verify refused ("holds a count out of range"). The fuzzer's
    // histogram wrapped in a native summary, and one bucket of 2^40 samples by hand.
    let policy = gatecheck::policy::builtin_release().expect("release policy");
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in reproducers("merge_native_hdr-union") {
        let second = second_segment(dir.path(), &bytes);
        let out = dir.path().join("merged.json");
        let err = gatecheck::commands::merge::merge(&out, &[path.clone(), second.clone()], &policy)
            .expect_err(&path.display().to_string());
        let message = err.to_string();
        assert!(message.contains("histogram_us") && message.contains("2^40"), "{}: {message}", path.display());
        assert!(message.contains(&path.display().to_string()), "names the file: {message}");
        assert!(!out.exists(), "{}: a failed merge wrote {}", path.display(), out.display());
        // Each segment alone is a summary verify reads.
        gatecheck::sources::k6_summary::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn custom_k6_counters_may_count_fractions() {
    // k6's Counter.add takes any number: only k6's own counters count whole events.
    let text = br#"{"metrics": {"credits_spent": {"type": "counter", "contains": "default", "values": {"count": 2.5, "rate": 0.25}}}}"#;
    let set = gatecheck::sources::k6_summary::parse("custom.json", text).expect("a custom counter of 2.5");
    let key = gatecheck::metrics::MetricKey::parse("credits_spent").unwrap();
    assert_eq!(
        set.metrics[&key].aggregate,
        gatecheck::metrics::Aggregate::Counter { count: 2.5, per_second: Some(0.25) }
    );
}
