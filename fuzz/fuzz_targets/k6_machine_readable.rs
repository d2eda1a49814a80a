//! Fuzzes `sources::k6_summary::parse` seeded with the k6 >= 1.5 machine-readable summary (`results.metrics` list, no thresholds).
//! The parser detects the shape from the content, so every seed set reaches every shape; the
//! separate targets keep each corpus focused. A summary that parses must hold only finite,
//! consistent figures, and judging it must not panic or pass a NaN.
#![no_main]

use gatecheck::sources::k6_summary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = k6_summary::parse("fuzz.json", data) else { return };
    // This format can carry no verdicts, and says that checks{…} are left out.
    if set.format == k6_summary::FORMAT_MACHINE_READABLE {
        assert!(!set.carries_thresholds);
        assert_eq!(set.k6_verdicts().count(), 0);
        assert!(set.omitted.iter().any(|(prefix, _)| prefix == "checks"));
    }
    gatecheck_fuzz::check_summary(set);
});
