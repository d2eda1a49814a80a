//! Threshold expressions in k6's grammar: `p(95) < 400ms`, `rate < 1%`, `max < 180s`.
//!
//! A threshold is parsed once, at the edge, into a typed `Threshold` that remembers the
//! unit the user wrote so it can be printed back exactly (`parse(print(x)) == x`). Limits
//! are compared in canonical units: durations in milliseconds, percentages as fractions.
//! A bare number means whatever the figure's own unit is (k6's convention: ms for trends),
//! which is why canonicalisation takes the figure's `Dimension` from the caller.

use std::fmt;

/// Which statistic of a figure a threshold reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Avg,
    Min,
    Med,
    Max,
    Count,
    Rate,
    Value,
    /// A percentile, `p(95)`; the number is in 0..=100.
    Percentile(f64),
}

impl Stat {
    /// The key k6 uses for this statistic in summaries (`p(95)`, `avg`, ...).
    pub fn key(&self) -> String {
        self.to_string()
    }

    pub fn parse(text: &str) -> Result<Stat, String> {
        let text = text.trim();
        match text {
            "avg" => return Ok(Stat::Avg),
            "min" => return Ok(Stat::Min),
            "med" => return Ok(Stat::Med),
            "max" => return Ok(Stat::Max),
            "count" => return Ok(Stat::Count),
            "rate" => return Ok(Stat::Rate),
            "value" => return Ok(Stat::Value),
            _ => {}
        }
        let inner = text
            .strip_prefix("p(")
            .and_then(|rest| rest.strip_suffix(')'))
            .or_else(|| text.strip_prefix('p').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())))
            .ok_or_else(|| {
                format!("unknown statistic {text:?}: expected avg, min, med, max, count, rate, value or p(N)")
            })?;
        let pct: f64 = inner
            .trim()
            .parse()
            .map_err(|_| format!("percentile {text:?} is not a number: expected p(N) with 0 <= N <= 100"))?;
        if !(0.0..=100.0).contains(&pct) {
            return Err(format!("percentile {text:?} is out of range: expected p(N) with 0 <= N <= 100"));
        }
        Ok(Stat::Percentile(pct))
    }

    /// Short human name: `p95`, `max`.
    pub fn human(&self) -> String {
        match self {
            Stat::Percentile(p) => format!("p{p}"),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stat::Avg => f.write_str("avg"),
            Stat::Min => f.write_str("min"),
            Stat::Med => f.write_str("med"),
            Stat::Max => f.write_str("max"),
            Stat::Count => f.write_str("count"),
            Stat::Rate => f.write_str("rate"),
            Stat::Value => f.write_str("value"),
            Stat::Percentile(p) => write!(f, "p({p})"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
            Op::Eq => observed == limit,
            Op::Ne => observed != limit,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn human(self) -> &'static str {
        match self {
            Op::Lt => "below",
            Op::Le => "at most",
            Op::Gt => "above",
            Op::Ge => "at least",
            Op::Eq => "exactly",
            Op::Ne => "not",
        }
    }
}

/// The unit written after a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bare,
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Percent,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Unit::Bare => "",
            Unit::Micros => "us",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::Minutes => "m",
            Unit::Hours => "h",
            Unit::Percent => "%",
        }
    }

    fn millis_per_unit(self) -> Option<f64> {
        match self {
            Unit::Micros => Some(0.001),
            Unit::Millis => Some(1.0),
            Unit::Seconds => Some(1_000.0),
            Unit::Minutes => Some(60_000.0),
            Unit::Hours => Some(3_600_000.0),
            Unit::Bare | Unit::Percent => None,
        }
    }
}

/// What kind of quantity a figure is, so a limit can be brought to the figure's scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dimension {
    /// Milliseconds; a bare limit is multiplied by `bare_millis` (1 for k6 trends, 1000 for seconds).
    Duration { bare_millis: f64 },
    /// A fraction in 0..=1; `1%` is 0.01 and a bare limit is already a fraction.
    Ratio,
    /// Any other number (counts, gauges); only bare limits make sense.
    Plain,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub stat: Stat,
    pub op: Op,
    /// The limit; with `baseline`, the offset added to the scaled baseline (0 when none).
    pub limit: f64,
    pub unit: Unit,
    /// `baseline [* factor] [+ offset]`: the limit is relative to the last accepted run.
    pub baseline: Option<BaselineFactor>,
}

/// The factor in `p(95) <= baseline * 1.2` (1 when written as plain `baseline`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineFactor(pub f64);

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let trimmed = text.trim();
        let op_at = trimmed.find(['<', '>', '=', '!']).ok_or_else(|| {
            format!("{text:?} has no comparison: expected e.g. \"p(95) < 400ms\" with one of < <= > >= == !=")
        })?;
        let stat = Stat::parse(&trimmed[..op_at])?;
        let rest = &trimmed[op_at..];
        let (op, width) = [
            ("===", Op::Eq),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find(|(symbol, _)| rest.starts_with(symbol))
        .map(|(symbol, op)| (*op, symbol.len()))
        .ok_or_else(|| format!("{text:?}: expected one of < <= > >= == != after {stat}"))?;
        let limit_text = rest[width..].trim();
        if let Some(relative) = limit_text.strip_prefix("baseline") {
            let (baseline, limit, unit) = parse_relative(relative.trim()).map_err(|why| format!("{text:?}: {why}"))?;
            return Ok(Threshold { stat, op, limit, unit, baseline: Some(baseline) });
        }
        let (limit, unit) = parse_limit(limit_text).map_err(|why| format!("{text:?}: {why}"))?;
        Ok(Threshold { stat, op, limit, unit, baseline: None })
    }

    /// The limit on the figure's scale given the baseline figure (same scale), for relative
    /// thresholds; fixed thresholds ignore `baseline`.
    pub fn resolve_limit(&self, dimension: Dimension, baseline: Option<f64>) -> Result<f64, String> {
        let offset = self.canonical_limit(dimension)?;
        match (self.baseline, baseline) {
            (None, _) => Ok(offset),
            (Some(BaselineFactor(factor)), Some(base)) => Ok(base * factor + offset),
            (Some(_), None) => Err(format!("`{self}` needs a baseline figure")),
        }
    }

    /// The limit on the figure's scale, or why this unit cannot apply to the figure.
    pub fn canonical_limit(&self, dimension: Dimension) -> Result<f64, String> {
        let limit = self.canonical_limit_unchecked(dimension)?;
        // `1e306s` is finite as written but infinite in milliseconds: a gate that could never
        // breach (or never pass). Refuse it rather than compare against infinity.
        if !limit.is_finite() {
            return Err(format!("`{self}`: the limit is out of range once converted to the figure's unit"));
        }
        Ok(limit)
    }

    fn canonical_limit_unchecked(&self, dimension: Dimension) -> Result<f64, String> {
        match (dimension, self.unit) {
            (Dimension::Duration { bare_millis }, Unit::Bare) => Ok(self.limit * bare_millis),
            (Dimension::Duration { .. }, unit) => unit
                .millis_per_unit()
                .map(|factor| self.limit * factor)
                .ok_or_else(|| format!("`{self}` uses a percentage, but {} is a duration", self.stat)),
            (Dimension::Ratio, Unit::Percent) => Ok(self.limit / 100.0),
            (Dimension::Ratio, Unit::Bare) => Ok(self.limit),
            (Dimension::Ratio, _) => {
                Err(format!("`{self}` uses a time unit, but {} is a ratio (write e.g. 1% or 0.01)", self.stat))
            }
            (Dimension::Plain, Unit::Bare) => Ok(self.limit),
            (Dimension::Plain, _) => Err(format!("`{self}` has a unit, but {} is a plain number", self.stat)),
        }
    }

    /// True when both thresholds test the same statistic with the same operator against the
    /// same limit once units are resolved: `p(99)<700` is the same test as `p(99) < 0.7s`.
    pub fn same_test(&self, other: &Threshold, dimension: Dimension) -> bool {
        self.baseline.is_none()
            && other.baseline.is_none()
            && self.stat == other.stat
            && self.op == other.op
            && matches!(
                (self.canonical_limit(dimension), other.canonical_limit(dimension)),
                (Ok(a), Ok(b)) if a == b
            )
    }

    /// Plain-language form for `gatecheck gates`: "p95 below 400ms".
    pub fn human(&self) -> String {
        format!("{} {} {}", self.stat.human(), self.op.human(), self.limit_text())
    }

    fn limit_text(&self) -> String {
        match self.baseline {
            None => format!("{}{}", self.limit, self.unit.suffix()),
            Some(BaselineFactor(factor)) => {
                let mut text = "baseline".to_string();
                if factor != 1.0 {
                    text.push_str(&format!(" * {factor}"));
                }
                if self.limit != 0.0 || self.unit != Unit::Bare {
                    text.push_str(&format!(" + {}{}", self.limit, self.unit.suffix()));
                }
                text
            }
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.stat, self.op.symbol(), self.limit_text())
    }
}

/// After `baseline`: nothing, `* F`, `+ D`, or `* F + D`.
fn parse_relative(text: &str) -> Result<(BaselineFactor, f64, Unit), String> {
    let (factor, rest) = match text.strip_prefix('*') {
        Some(rest) => {
            let rest = rest.trim_start();
            let end = rest.find(|c: char| c.is_whitespace() || c == '+').unwrap_or(rest.len());
            let factor: f64 = rest[..end].parse().map_err(|_| {
                format!("baseline factor {:?} is not a number (write e.g. baseline * 1.2)", &rest[..end])
            })?;
            if !factor.is_finite() {
                return Err("the baseline factor must be finite".into());
            }
            (factor, rest[end..].trim())
        }
        None => (1.0, text),
    };
    if rest.is_empty() {
        return Ok((BaselineFactor(factor), 0.0, Unit::Bare));
    }
    let offset = rest
        .strip_prefix('+')
        .ok_or_else(|| format!("expected `* FACTOR` or `+ OFFSET` after baseline, got {rest:?}"))?;
    let (limit, unit) = parse_limit(offset.trim())?;
    Ok((BaselineFactor(factor), limit, unit))
}

pub fn parse_limit(text: &str) -> Result<(f64, Unit), String> {
    if text.is_empty() {
        return Err("expected a limit after the operator, e.g. 400ms, 1% or 0.7".into());
    }
    let number_end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || ((c == '-' || c == '+') && (i == 0 || text[..i].ends_with(['e', 'E'])))
                || ((c == 'e' || c == 'E')
                    && i > 0
                    && text[i + 1..].starts_with(|n: char| n.is_ascii_digit() || n == '-' || n == '+')))
        })
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(number_end);
    let limit: f64 = digits
        .parse()
        .map_err(|_| format!("limit {text:?} is not a number followed by an optional unit (us, ms, s, m, h, %)"))?;
    if !limit.is_finite() {
        return Err(format!("limit {text:?} is not a finite number"));
    }
    let unit = match suffix.trim() {
        "" => Unit::Bare,
        "us" | "µs" => Unit::Micros,
        "ms" => Unit::Millis,
        "s" => Unit::Seconds,
        "m" => Unit::Minutes,
        "h" => Unit::Hours,
        "%" => Unit::Percent,
        other => return Err(format!("unknown unit {other:?}: expected us, ms, s, m, h or %")),
    };
    Ok((limit, unit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K6_TREND: Dimension = Dimension::Duration { bare_millis: 1.0 };

    #[test]
    fn parses_k6_and_spaced_forms() {
        let t = Threshold::parse("p(95)<400").unwrap();
        assert_eq!(
            t,
            Threshold { stat: Stat::Percentile(95.0), op: Op::Lt, limit: 400.0, unit: Unit::Bare, baseline: None }
        );
        let t = Threshold::parse("  p(99.9) <= 1.5s ").unwrap();
        assert_eq!(t.stat, Stat::Percentile(99.9));
        assert_eq!(t.op, Op::Le);
        assert_eq!(t.canonical_limit(K6_TREND).unwrap(), 1500.0);
        assert_eq!(Threshold::parse("rate>0.99").unwrap().canonical_limit(Dimension::Ratio).unwrap(), 0.99);
        assert_eq!(Threshold::parse("rate < 1%").unwrap().canonical_limit(Dimension::Ratio).unwrap(), 0.01);
        assert_eq!(Threshold::parse("max < 3m").unwrap().canonical_limit(K6_TREND).unwrap(), 180_000.0);
        assert_eq!(Threshold::parse("value === 2").unwrap().op, Op::Eq);
        assert_eq!(Threshold::parse("value != -2e-3").unwrap().limit, -0.002);
        assert_eq!(Threshold::parse("p95 < 60s").unwrap().stat, Stat::Percentile(95.0));
    }

    #[test]
    fn bare_limit_takes_the_figure_unit() {
        let t = Threshold::parse("p(95) < 60").unwrap();
        assert_eq!(t.canonical_limit(Dimension::Duration { bare_millis: 1000.0 }).unwrap(), 60_000.0);
        assert_eq!(t.canonical_limit(K6_TREND).unwrap(), 60.0);
    }

    #[test]
    fn rejects_malformed_expressions_with_a_reason() {
        for (text, needle) in [
            ("p(95) 400", "no comparison"),
            ("p(95) <", "expected a limit"),
            ("p(95) < fast", "not a number"),
            ("p(95) < 400 parsecs", "unknown unit"),
            ("p(101) < 400", "out of range"),
            ("median < 400", "unknown statistic"),
            ("p(95) =< 400", "expected one of"),
            ("p(95) < 1e999", "finite"),
        ] {
            let err = Threshold::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn unit_must_fit_the_figure() {
        assert!(Threshold::parse("rate < 400ms").unwrap().canonical_limit(Dimension::Ratio).is_err());
        assert!(Threshold::parse("p(95) < 5%").unwrap().canonical_limit(K6_TREND).is_err());
        assert!(Threshold::parse("value < 5s").unwrap().canonical_limit(Dimension::Plain).is_err());
    }

    #[test]
    fn same_test_resolves_units() {
        let k6 = Threshold::parse("p(99)<700").unwrap();
        assert!(k6.same_test(&Threshold::parse("p(99) < 700ms").unwrap(), K6_TREND));
        assert!(k6.same_test(&Threshold::parse("p(99) < 0.7s").unwrap(), K6_TREND));
        assert!(!k6.same_test(&Threshold::parse("p(99) <= 700ms").unwrap(), K6_TREND));
        assert!(!k6.same_test(&Threshold::parse("p(95) < 700ms").unwrap(), K6_TREND));
    }

    #[test]
    fn relative_limits() {
        let t = Threshold::parse("p(95) <= baseline * 1.2").unwrap();
        assert_eq!(t.baseline, Some(BaselineFactor(1.2)));
        assert_eq!(t.resolve_limit(K6_TREND, Some(100.0)).unwrap(), 100.0 * 1.2);
        let t = Threshold::parse("p(99) < baseline + 20ms").unwrap();
        assert_eq!(t.resolve_limit(K6_TREND, Some(100.0)).unwrap(), 120.0);
        assert_eq!(t.to_string(), "p(99) < baseline + 20ms");
        assert!(t.resolve_limit(K6_TREND, None).is_err());
        assert!(Threshold::parse("p(95) < baseline * fast").is_err());
        assert!(Threshold::parse("p(95) < baseline - 3").is_err());
        assert!(!Threshold::parse("p(95)<400")
            .unwrap()
            .same_test(&Threshold::parse("p(95) < baseline + 400").unwrap(), K6_TREND));
    }

    #[test]
    fn comparisons_are_strict() {
        assert!(!Op::Lt.holds(400.0, 400.0));
        assert!(!Op::Gt.holds(0.99, 0.99));
        assert!(Op::Le.holds(400.0, 400.0));
    }

    fn any_stat() -> impl Strategy<Value = Stat> {
        prop_oneof![
            Just(Stat::Avg),
            Just(Stat::Min),
            Just(Stat::Med),
            Just(Stat::Max),
            Just(Stat::Count),
            Just(Stat::Rate),
            Just(Stat::Value),
            (0.0f64..=100.0).prop_map(Stat::Percentile),
        ]
    }

    fn any_threshold() -> impl Strategy<Value = Threshold> {
        let op = prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge), Just(Op::Eq), Just(Op::Ne)];
        let unit = prop_oneof![
            Just(Unit::Bare),
            Just(Unit::Micros),
            Just(Unit::Millis),
            Just(Unit::Seconds),
            Just(Unit::Minutes),
            Just(Unit::Hours),
            Just(Unit::Percent),
        ];
        let limit = prop_oneof![-1e12f64..1e12, any::<u32>().prop_map(f64::from), Just(0.0), (1e-9f64..1e-3)];
        let baseline = prop_oneof![
            Just(None),
            Just(Some(BaselineFactor(1.0))),
            (0.5f64..3.0).prop_map(|f| Some(BaselineFactor(f)))
        ];
        (any_stat(), op, limit, unit, baseline).prop_map(|(stat, op, limit, unit, baseline)| {
            // `baseline + 0` prints as plain `baseline`; keep such offsets in the form they print.
            let (limit, unit) = if baseline.is_some() && limit == 0.0 { (0.0, Unit::Bare) } else { (limit, unit) };
            Threshold { stat, op, limit, unit, baseline }
        })
    }

    proptest! {
        #[test]
        fn parse_of_print_is_identity(threshold in any_threshold()) {
            let printed = threshold.to_string();
            prop_assert_eq!(Threshold::parse(&printed).unwrap(), threshold);
        }

        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = Threshold::parse(&text);
        }
    }
}
