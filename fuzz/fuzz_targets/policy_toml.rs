//! Fuzzes policy TOML through `policy::parse` (what `load_file` does after reading the file).
//! A policy that parses has at least one gate, unique well-formed ids, at least one threshold
//! on every gate that is not a history gate, thresholds and selectors that print back to
//! themselves, and renders (`gatecheck gates`) without panicking.
#![no_main]

use gatecheck::metrics::MetricKey;
use gatecheck::policy::threshold::Threshold;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `load_file` reads with read_to_string: text that is not UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = gatecheck::policy::parse("fuzz.toml", "fuzz", text) else { return };
    assert!(!policy.gates.is_empty(), "a policy that parses has a gate");
    let mut ids = std::collections::BTreeSet::new();
    for gate in &policy.gates {
        assert!(!gate.id.is_empty());
        assert!(ids.insert(gate.id.as_str()), "gate id {:?} twice", gate.id);
        if gate.consecutive_passes.is_none() {
            assert!(!gate.thresholds.is_empty(), "gate {} has no threshold", gate.id);
        }
        for threshold in &gate.thresholds {
            let printed = threshold.to_string();
            assert_eq!(Threshold::parse(&printed).as_ref(), Ok(threshold), "{printed:?}");
        }
        if let Some((key, _)) = &gate.metric {
            let printed = key.to_string();
            assert_eq!(MetricKey::parse(&printed).as_ref(), Ok(key), "{printed:?}");
        }
        for (_, query) in &gate.queries {
            assert!(!query.trim().is_empty());
        }
    }
    let mut out = Vec::new();
    let _ = gatecheck::report::policy_text::render(&policy, &mut out);
});
