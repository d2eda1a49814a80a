//! Fuzzes the duration and unit strings read from flags, scenario files and the environment:
//! `load::plan::parse_duration` (humantime, as for --duration, --interval, --prometheus-timeout
//! and scenario durations), `settings::parse_at` (--at) and environment figures
//! (`sources::env::read_figures`, values such as SCHEDULER_LAG_P95_SECONDS). A duration
//! printed by humantime parses back to itself; an --at time printed as RFC 3339 or unix
//! seconds reads back as the same second; an accepted env figure is finite and not negative.
#![no_main]

use gatecheck::load::plan::parse_duration;
use gatecheck::settings::parse_at;
use gatecheck::sources::prometheus::rfc3339;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(duration) = parse_duration("duration", text) {
        let printed = humantime::format_duration(duration).to_string();
        assert_eq!(parse_duration("duration", &printed), Ok(duration), "printed as {printed:?}");
    }
    if let Ok(at) = parse_at(text) {
        if at >= 0 {
            assert_eq!(parse_at(&at.to_string()).ok(), Some(at));
            let shown = rfc3339(at);
            assert_eq!(parse_at(&shown).ok(), Some(at), "shown as {shown:?}");
        }
    }
    let policy = gatecheck_fuzz::release_policy();
    if let Ok(figures) = gatecheck::sources::env::read_figures(policy, &|_| Ok::<_, gatecheck::error::Error>(Some(text.to_string()))) {
        for (var, figure) in &figures {
            assert!(figure.value.is_finite() && figure.value >= 0.0, "{var} = {}", figure.value);
        }
    }
});
