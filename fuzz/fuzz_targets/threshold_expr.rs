//! Fuzzes threshold expressions (`Threshold::parse`), statistics (`Stat::parse`) and limits
//! with units (`parse_limit`). Whatever parses prints back (Display) to text that parses to
//! the same value, and a limit brought to a figure's scale stays finite: an infinite limit
//! would make a gate that can never breach (or never pass) out of a typo.
#![no_main]

use gatecheck::policy::threshold::{parse_limit, Dimension, Op, Stat, Threshold};
use libfuzzer_sys::fuzz_target;

const DIMENSIONS: [Dimension; 4] = [
    Dimension::Duration { bare_millis: 1.0 },
    Dimension::Duration { bare_millis: 1000.0 },
    Dimension::Ratio,
    Dimension::Plain,
];

fn check_threshold(threshold: &Threshold) {
    let printed = threshold.to_string();
    assert_eq!(Threshold::parse(&printed).as_ref(), Ok(threshold), "printed as {printed:?}");
    for dimension in DIMENSIONS {
        if let Ok(limit) = threshold.canonical_limit(dimension) {
            assert!(limit.is_finite(), "`{printed}` on {dimension:?} has limit {limit}");
            // The float is only for display: the exact limit it comes from is there too.
            assert!(threshold.exact_limit(dimension).is_ok(), "`{printed}` on {dimension:?}");
        }
    }
    let _ = threshold.human();
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(threshold) = Threshold::parse(text) {
        check_threshold(&threshold);
    }
    if let Ok(stat) = Stat::parse(text) {
        assert_eq!(Stat::parse(&stat.to_string()), Ok(stat));
        assert_eq!(Stat::parse(&stat.key()), Ok(stat));
        if let Stat::Percentile(p) = stat {
            assert!((0.0..=100.0).contains(&p));
        }
    }
    if let Ok((limit, unit)) = parse_limit(text) {
        // A limit as written after any comparison: the same round trip through Display.
        check_threshold(&Threshold { stat: Stat::Value, op: Op::Lt, limit, unit, baseline: None, significance: None });
    }
});
