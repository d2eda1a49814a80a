//! Fuzzes the Prometheus text exposition of a load target's `/metrics` (`sources::scrape::parse`),
//! as a native run uses it: a scrape before and one after the run (split at a line `=====`),
//! the run window as their difference, and the release policy's scrape gates judged on it.
//! Properties: histograms that parse have sorted, distinct bucket bounds; a run-window figure
//! (quantile, mean) is a number or absent, never NaN; judging never passes a NaN.
#![no_main]

use std::collections::BTreeMap;

use gatecheck::policy::evaluate::Evidence;
use gatecheck::sources::scrape::{parse, HistogramSnapshot};
use libfuzzer_sys::fuzz_target;

const URL: &str = "http://127.0.0.1:9/metrics";

fn check_snapshot(name: &str, histogram: &HistogramSnapshot) {
    assert!(!histogram.buckets.is_empty(), "{name}: kept without buckets");
    for pair in histogram.buckets.windows(2) {
        assert!(pair[0].0.total_cmp(&pair[1].0).is_lt(), "{name}: bounds not sorted and distinct: {pair:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    // The scrape is read with reqwest's `text()`, which replaces invalid UTF-8.
    let text = String::from_utf8_lossy(data);
    let (before_text, after_text) = text.split_once("\n=====\n").unwrap_or(("", &text));
    let Ok(before) = parse(URL, before_text) else { return };
    let Ok(after) = parse(URL, after_text) else { return };
    for (name, histogram) in before.iter().chain(&after) {
        check_snapshot(name, &histogram.total());
        for series in histogram.series.values() {
            check_snapshot(name, series);
        }
    }
    let mut window = BTreeMap::new();
    for (name, histogram) in &after {
        let earlier = before.get(name).cloned().unwrap_or_default();
        // Per series with Prometheus's increase semantics (a reset is its own increase).
        let since = histogram.since(&earlier);
        // A window across a bucket layout change is no figure (its gate has no data).
        let Ok(figure) = &since else {
            window.insert(name.clone(), since);
            continue;
        };
        for q in [0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            if let Some(value) = figure.quantile(q) {
                assert!(!value.is_nan(), "{name}: quantile {q} is NaN");
            }
        }
        if let Some(mean) = figure.mean() {
            assert!(!mean.is_nan(), "{name}: mean is NaN");
        }
        window.insert(name.clone(), since);
    }
    let evidence = Evidence { scraped: window, scraped_from: Some(URL.into()), ..Evidence::default() };
    gatecheck_fuzz::judge(gatecheck_fuzz::release_policy(), &evidence);
});
