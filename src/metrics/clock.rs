//! The one clock check: how old a piece of evidence is at the time of the judgement, and
//! whether a time someone gave (`--at`, an evidence file's end, a sample's timestamp) lies in
//! the future. A time in the future is never "0 s old": it is refused, because evidence from
//! the future is either a wrong clock or a forged file, and neither is fresh.
//!
//! Clocks disagree a little (NTP keeps CI runners and Prometheus servers within seconds), so a
//! time up to `SKEW_ALLOWANCE_SECS` ahead counts as now. Every outside number becomes a
//! `Duration` here through checked conversions only: `-1e300`, NaN or a time past the year
//! 9999 is "not a time", never a panic.

use std::time::Duration;

/// How far ahead of this machine's clock a time may lie and still count as now: 2 minutes.
pub const SKEW_ALLOWANCE_SECS: i64 = 120;

/// Why a time cannot be aged.
#[derive(Debug, Clone, PartialEq)]
pub enum ClockError {
    /// The time lies this many seconds in the future (beyond the allowance).
    Future { seconds: f64 },
    /// Not a time at all (NaN, infinite, before 1970 or after 9999).
    NotATime(String),
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::Future { seconds } => write!(
                f,
                "it lies {} in the future (more than the {SKEW_ALLOWANCE_SECS} s allowed for clock skew): a wrong clock or a forged time is never fresh",
                show_seconds(*seconds)
            ),
            ClockError::NotATime(text) => write!(f, "{text} is not a time (expected unix seconds from 1970 to 9999)"),
        }
    }
}

/// Unix seconds of 9999-12-31T23:59:59Z: later times are not times gatecheck can show.
const LATEST: f64 = 253_402_300_799.0;

/// The age at `now` (unix seconds) of something dated `then` (unix seconds, possibly
/// fractional, possibly from an outside API).
pub fn age(now: i64, then: f64) -> Result<Duration, ClockError> {
    if !then.is_finite() || !(0.0..=LATEST).contains(&then) {
        return Err(ClockError::NotATime(format!("{then}")));
    }
    let ahead = then - now as f64;
    if ahead > SKEW_ALLOWANCE_SECS as f64 {
        return Err(ClockError::Future { seconds: ahead });
    }
    Duration::try_from_secs_f64((-ahead).max(0.0)).map_err(|_| ClockError::NotATime(format!("{then}")))
}

/// Refuses a time later than `now` beyond the allowance (`--at`, a waiver's date).
pub fn not_future(now: i64, then: i64) -> Result<(), ClockError> {
    age(now, then as f64).map(|_| ())
}

/// The longest duration any setting or policy may give (a timeout, interval, window, age):
/// 366 days. Longer is a typo or an attack, and a huge one (`1e20s`) would overflow the clock
/// arithmetic of a timer: it is refused, never a panic.
pub const LONGEST_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// The one parser of durations a user writes (`10s`, `500ms`, `24h`): humantime's syntax,
/// bounded by `LONGEST_DURATION`. The error says what was expected, for the caller to name
/// the flag or field.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?;
    if duration > LONGEST_DURATION {
        return Err(format!("{} is longer than the longest allowed, 366 days", text.trim()));
    }
    Ok(duration)
}

fn show_seconds(seconds: f64) -> String {
    if seconds >= 86_400.0 * 2.0 {
        format!("{:.0} days", seconds / 86_400.0)
    } else {
        format!("{seconds:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(age(1000, 400.0), Ok(Duration::from_secs(600)));
        assert_eq!(age(1000, 1000.0 + SKEW_ALLOWANCE_SECS as f64), Ok(Duration::ZERO));
        assert!(matches!(age(1000, 1001.0 + SKEW_ALLOWANCE_SECS as f64), Err(ClockError::Future { .. })));
        for bad in [-1e300, f64::NAN, f64::INFINITY, -1.0, 1e300] {
            assert!(matches!(age(1000, bad), Err(ClockError::NotATime(_))), "{bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Rule: no outside number panics, and no time in the future is ever aged.
        #[test]
        fn any_number_is_an_age_or_refused_and_future_is_refused(now in 0i64..4_000_000_000, then in any::<f64>()) {
            match age(now, then) {
                Ok(age) => prop_assert!(then <= now as f64 + SKEW_ALLOWANCE_SECS as f64 && age.as_secs_f64() >= 0.0),
                Err(ClockError::Future { .. }) => prop_assert!(then > now as f64 + SKEW_ALLOWANCE_SECS as f64),
                Err(ClockError::NotATime(_)) => prop_assert!(!(0.0..=LATEST).contains(&then)),
            }
        }
    }
}
