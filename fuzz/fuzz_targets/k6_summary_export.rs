//! Fuzzes `sources::k6_summary::parse` seeded with k6 `--summary-export` (legacy shape: flat values, boolean thresholds meaning FAILED).
//! The parser detects the shape from the content, so every seed set reaches every shape; the
//! separate targets keep each corpus focused. A summary that parses must hold only finite,
//! consistent figures, and judging it must not panic or pass a NaN.
#![no_main]

use gatecheck::sources::k6_summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = k6_summary::parse("fuzz.json", data) else { return };
    // The legacy export carries k6's threshold verdicts; a native run (gatecheck block) does not.
    if set.format == k6_summary::FORMAT_EXPORT {
        assert!(set.carries_thresholds);
    }
    gatecheck_fuzz::check_summary(set);
});
