//! Fuzzes `sources::k6_summary::parse` seeded with the k6 `handleSummary(data)` JSON (typed metrics, `{ok}` thresholds meaning PASSED).
//! The parser detects the shape from the content, so every seed set reaches every shape; the
//! separate targets keep each corpus focused. A summary that parses must hold only finite,
//! consistent figures, and judging it must not panic or pass a NaN.
#![no_main]

use gatecheck::sources::k6_summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = k6_summary::parse("fuzz.json", data) else { return };
    // Only the handleSummary shape may yield verdicts read from `{"ok": ...}` objects.
    if set.format == k6_summary::FORMAT_HANDLE_SUMMARY {
        assert!(set.carries_thresholds);
    }
    gatecheck_fuzz::check_summary(set);
});
