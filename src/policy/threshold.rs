//! Threshold expressions in k6's grammar: `p(95) < 400ms`, `rate < 1%`, `max < 180s`.
//!
//! A threshold is parsed once, at the edge, into a typed `Threshold` that remembers the
//! unit the user wrote so it can be printed back exactly (`parse(print(x)) == x`). Limits
//! are compared in canonical units: durations in milliseconds, percentages as fractions.
//! A bare number means whatever the figure's own unit is (k6's convention: ms for trends),
//! which is why canonicalisation takes the figure's `Dimension` from the caller.
//!
//! Limits are exact decimals (`1.1%` is 0.011, not 0.011000000000000001) and comparisons are
//! made in decimal against the figure's shortest round-trip form, so a limit holds exactly as
//! written: `rate < 1.1%` fails at 11/1000. A threshold that can never fail (or never pass)
//! over its figure's domain (`rate < 101%`), or whatever the baseline (`rate <= baseline + 100%`),
//! is a policy error, checked by `check_domain`.

use std::fmt;

use rust_decimal::Decimal;

pub use crate::metrics::figure::{decimal_cmp, to_decimal, Dimension, Domain, Reading, Stat};

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
    /// Whether `observed op limit` holds, comparing exactly (see `Reading::cmp_limit`). NaN never holds.
    pub fn holds(self, observed: f64, limit: Decimal) -> bool {
        self.holds_reading(Reading::canonical(observed), limit)
    }

    /// Whether a figure read in its own unit holds `op limit` (limit on the canonical scale).
    pub fn holds_reading(self, observed: Reading, limit: Decimal) -> bool {
        use std::cmp::Ordering::*;
        if observed.value.is_nan() {
            return false;
        }
        let order = observed.cmp_limit(limit);
        match self {
            Op::Lt => order == Less,
            Op::Le => order != Greater,
            Op::Gt => order == Greater,
            Op::Ge => order != Less,
            Op::Eq => order == Equal,
            Op::Ne => order != Equal,
        }
    }

    /// The float at which samples part into those that breach `op limit` and those that hold
    /// it, exactly (each sample read as its shortest decimal, as `Reading::cmp_limit` reads a
    /// figure): for `<` and `<=` a sample breaches when it is `> cut`, for `>` and `>=` when it
    /// is `< cut`. The limit as the nearest float would move a sample that equals it to the
    /// wrong side (`significant(...)` counts the share of samples beyond the limit). None for
    /// `==`/`!=` and for limits beyond the float range.
    pub fn breach_cut(self, limit: Decimal) -> Option<f64> {
        use rust_decimal::prelude::ToPrimitive;
        let breaches = |sample: f64| !self.holds(sample, limit);
        let start = limit.to_f64().filter(|l| l.is_finite())?;
        let mut cut = start;
        match self {
            // The largest float that holds: every larger one breaches.
            Op::Lt | Op::Le => {
                while breaches(cut) {
                    cut = cut.next_down();
                }
                while !breaches(cut.next_up()) {
                    cut = cut.next_up();
                }
            }
            // The smallest float that holds: every smaller one breaches.
            Op::Gt | Op::Ge => {
                while breaches(cut) {
                    cut = cut.next_up();
                }
                while !breaches(cut.next_down()) {
                    cut = cut.next_down();
                }
            }
            Op::Eq | Op::Ne => return None,
        }
        cut.is_finite().then_some(cut)
    }

    /// Whether some figure in `domain` breaches `op L` for some limit L in `limits`, and whether
    /// some holds it. `limits` is one point for a fixed limit and an interval for a relative one.
    fn can_fail_and_pass(self, limits: Domain, domain: Domain) -> (bool, bool) {
        // Some limit lies below (`strict`) or at most at some figure, or the other way round.
        let limit_below_figure = |strict: bool| ends_ordered(limits.low, domain.high, strict);
        let figure_below_limit = |strict: bool| ends_ordered(domain.low, limits.high, strict);
        let meet = limit_below_figure(false) && figure_below_limit(false);
        let one_same_point = matches!(
            (limits.low, limits.high, domain.low, domain.high),
            (Some(a), Some(b), Some(c), Some(d)) if a == b && c == d && a == c
        );
        match self {
            Op::Lt => (limit_below_figure(false), figure_below_limit(true)),
            Op::Le => (limit_below_figure(true), figure_below_limit(false)),
            Op::Gt => (figure_below_limit(false), limit_below_figure(true)),
            Op::Ge => (figure_below_limit(true), limit_below_figure(false)),
            Op::Eq => (!one_same_point, meet),
            Op::Ne => (meet, !one_same_point),
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

    /// The comparison in words: "below", "at most", ...
    pub fn human(self) -> &'static str {
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

/// Whether a lower end comes before (`strict`) or at most at an upper end; a missing end is
/// unbounded (minus or plus infinity), which always leaves room.
fn ends_ordered(low: Option<Decimal>, high: Option<Decimal>, strict: bool) -> bool {
    match (low, high) {
        (Some(low), Some(high)) if strict => low < high,
        (Some(low), Some(high)) => low <= high,
        _ => true,
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

    fn millis_per_unit(self) -> Option<Decimal> {
        match self {
            Unit::Micros => Some(Decimal::new(1, 3)),
            Unit::Millis => Some(Decimal::ONE),
            Unit::Seconds => Some(Decimal::from(1_000)),
            Unit::Minutes => Some(Decimal::from(60_000)),
            Unit::Hours => Some(Decimal::from(3_600_000)),
            Unit::Bare | Unit::Percent => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub stat: Stat,
    pub op: Op,
    /// The limit exactly as written; with `baseline`, the offset added to the scaled baseline
    /// (0 when none).
    pub limit: Decimal,
    pub unit: Unit,
    /// `baseline [* factor] [+ offset]`: the limit is relative to the last accepted run.
    pub baseline: Option<BaselineFactor>,
    /// `... and significant(0.01)`: a relative breach counts only when a test over both runs'
    /// samples finds the shift real at this level (0 < level < 1).
    pub significance: Option<Decimal>,
}

/// The factor in `p(95) <= baseline * 1.2` (1 when written as plain `baseline`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineFactor(pub Decimal);

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
            let (relative, significance) = match relative.split_once(" and ") {
                Some((relative, test)) => {
                    (relative, Some(parse_significance(test.trim()).map_err(|why| format!("{text:?}: {why}"))?))
                }
                None => (relative, None),
            };
            let (baseline, limit, unit) = parse_relative(relative.trim()).map_err(|why| format!("{text:?}: {why}"))?;
            return Ok(Threshold { stat, op, limit, unit, baseline: Some(baseline), significance });
        }
        if limit_text.contains("significant") {
            return Err(format!(
                "{text:?}: significant(...) tests a change, so it needs a limit relative to the baseline (e.g. p(95) <= baseline * 1.2 and significant(0.01))"
            ));
        }
        let (limit, unit) = parse_limit(limit_text).map_err(|why| format!("{text:?}: {why}"))?;
        Ok(Threshold { stat, op, limit, unit, baseline: None, significance: None })
    }

    /// The exact limit on the figure's scale given the baseline figure (same scale), for
    /// relative thresholds; fixed thresholds ignore `baseline`.
    pub fn resolve_limit(&self, dimension: Dimension, baseline: Option<f64>) -> Result<Decimal, String> {
        let offset = self.exact_limit(dimension)?;
        match (self.baseline, baseline) {
            (None, _) => Ok(offset),
            (Some(BaselineFactor(factor)), Some(base)) => {
                let base =
                    to_decimal(base).ok_or_else(|| {
                    format!("`{self}`: the baseline figure {base} is beyond what an exact limit can hold (28 decimal places)")
                })?;
                base.checked_mul(factor)
                    .and_then(|scaled| scaled.checked_add(offset))
                    .ok_or_else(|| format!("`{self}`: the limit overflows"))
            }
            (Some(_), None) => Err(format!("`{self}` needs a baseline figure")),
        }
    }

    /// Whether `observed` holds this threshold (exact comparison; see `decimal_cmp`).
    pub fn holds(&self, observed: f64, dimension: Dimension, baseline: Option<f64>) -> Result<bool, String> {
        self.holds_reading(Reading::canonical(observed), dimension, baseline)
    }

    /// Whether a figure read in its own unit holds this threshold (exact; see `Reading::cmp_limit`).
    pub fn holds_reading(
        &self,
        observed: Reading,
        dimension: Dimension,
        baseline: Option<f64>,
    ) -> Result<bool, String> {
        Ok(self.op.holds_reading(observed, self.resolve_limit(dimension, baseline)?))
    }

    /// The limit on the figure's scale as a float, for display and plots.
    pub fn canonical_limit(&self, dimension: Dimension) -> Result<f64, String> {
        use rust_decimal::prelude::ToPrimitive;
        let limit = self.exact_limit(dimension).map(|limit| limit.to_f64().unwrap_or(f64::NAN))?;
        // A limit too large for a float once converted would be a gate that could never
        // breach (or never pass): refuse it (found by fuzzing).
        if !limit.is_finite() {
            return Err(format!("`{self}`: the limit is out of range once converted to the figure's unit"));
        }
        Ok(limit)
    }

    /// The limit on the figure's scale, exactly, or why this unit cannot apply to the figure.
    pub fn exact_limit(&self, dimension: Dimension) -> Result<Decimal, String> {
        let scaled =
            |factor: Decimal| self.limit.checked_mul(factor).ok_or_else(|| format!("`{self}`: the limit is too large"));
        match (dimension, self.unit) {
            (Dimension::Duration { bare_millis }, Unit::Bare) => {
                scaled(to_decimal(bare_millis).unwrap_or(Decimal::ONE))
            }
            (Dimension::Duration { .. }, unit) => match unit.millis_per_unit() {
                Some(factor) => scaled(factor),
                None => Err(format!("`{self}` uses a percentage, but {} is a duration", self.stat)),
            },
            (Dimension::Ratio, Unit::Percent) => scaled(Decimal::new(1, 2)),
            (Dimension::Ratio, Unit::Bare) => Ok(self.limit),
            (Dimension::Ratio, _) => {
                Err(format!("`{self}` uses a time unit, but {} is a ratio (write e.g. 1% or 0.01)", self.stat))
            }
            (Dimension::Plain, Unit::Bare) => Ok(self.limit),
            (Dimension::Plain, _) => Err(format!("`{self}` has a unit, but {} is a plain number", self.stat)),
        }
    }

    /// A threshold that can never fail over the figure's domain passes every release, and one
    /// that can never pass blocks every release: both are mistakes in the policy. A relative
    /// threshold is judged over every (figure, baseline) pair: the baseline is the same statistic
    /// of another run, so it ranges over the same domain (`rate <= baseline + 100%` never fails).
    pub fn check_domain(&self, dimension: Dimension, domain: Domain) -> Result<(), String> {
        let (can_fail, can_pass) = self.op.can_fail_and_pass(self.limits(dimension, domain)?, domain);
        let range = domain.describe();
        let whatever_baseline = if self.baseline.is_some() { ", and so is its baseline" } else { "" };
        if !can_fail {
            return Err(format!(
                "`{self}` can never fail: {} is {range}{whatever_baseline}, so this gate would pass every release",
                self.stat
            ));
        }
        if !can_pass {
            return Err(format!(
                "`{self}` can never pass: {} is {range}{whatever_baseline}, so this gate would block every release",
                self.stat
            ));
        }
        Ok(())
    }

    /// With the gate's noise floor, a breach counts only when the figure is more than `floor`
    /// away from its baseline; a floor that excuses every breach over the domain (`100%` on a
    /// rate) makes the gate unable to fail, which is a policy error like any other threshold
    /// that can never fail (finding judge10/01). Exact over every (figure, baseline) pair: for
    /// one baseline the failing figures are an interval set; whether it is empty changes only
    /// where two of the baseline's bounds (the domain's ends, the limit, baseline ± floor) meet,
    /// so those baselines, the points between them and beyond them stand for every baseline.
    pub fn check_noise_floor(&self, dimension: Dimension, domain: Domain, floor: Decimal) -> Result<(), String> {
        let Some(BaselineFactor(factor)) = self.baseline else { return Ok(()) };
        let offset = self.exact_limit(dimension)?;
        let limit_at = |b: Decimal| b.checked_mul(factor).and_then(|v| v.checked_add(offset));
        // Baselines at which two of the bounds on the figure meet.
        let mut critical: Vec<Decimal> = [domain.low, domain.high].into_iter().flatten().collect();
        for end in [domain.low, domain.high].into_iter().flatten() {
            critical.extend([end.checked_add(floor), end.checked_sub(floor)].into_iter().flatten());
            if !factor.is_zero() {
                critical.extend(end.checked_sub(offset).and_then(|v| v.checked_div(factor)));
            }
        }
        let slope = factor - Decimal::ONE;
        if !slope.is_zero() {
            for side in [floor, -floor] {
                critical.extend(side.checked_sub(offset).and_then(|v| v.checked_div(slope)));
            }
        }
        critical.sort();
        critical.dedup();
        let mut baselines = critical.clone();
        baselines.extend(critical.windows(2).map(|w| (w[0] + w[1]) / Decimal::TWO));
        if let (Some(first), Some(last)) = (critical.first(), critical.last()) {
            baselines.extend([first.checked_sub(Decimal::ONE), last.checked_add(Decimal::ONE)].into_iter().flatten());
        } else {
            baselines.push(Decimal::ZERO);
        }
        let inside = |v: Decimal| domain.low.is_none_or(|low| v >= low) && domain.high.is_none_or(|high| v <= high);
        let can_fail = baselines.into_iter().filter(|b| inside(*b)).any(|base| {
            let Some(limit) = limit_at(base) else { return false };
            // Figures the threshold refuses, as (low, high) bounds each open or closed.
            let failing: Vec<Span> = match self.op {
                Op::Lt => vec![Span::from(Some((limit, true)), None)],
                Op::Le => vec![Span::from(Some((limit, false)), None)],
                Op::Gt => vec![Span::from(None, Some((limit, true)))],
                Op::Ge => vec![Span::from(None, Some((limit, false)))],
                Op::Eq => vec![Span::from(None, Some((limit, false))), Span::from(Some((limit, false)), None)],
                Op::Ne => vec![Span::from(Some((limit, true)), Some((limit, true)))],
            };
            let figures = Span::from(domain.low.map(|v| (v, true)), domain.high.map(|v| (v, true)));
            // Beyond the noise floor on either side of the baseline.
            let beyond = [
                Span::from(None, base.checked_sub(floor).map(|v| (v, false))),
                Span::from(base.checked_add(floor).map(|v| (v, false)), None),
            ];
            failing.iter().any(|f| beyond.iter().any(|b| f.meet(figures).meet(*b).is_some_non_empty()))
        });
        if !can_fail {
            return Err(format!(
                "`{self}` can never fail with noise_floor {floor}: {} is {}, and so is its baseline, so every breach is within the noise floor and this gate would pass every release",
                self.stat,
                domain.describe()
            ));
        }
        Ok(())
    }

    /// The values the limit can take on the figure's scale: the limit as written, or
    /// `baseline * factor + offset` for every baseline in the figure's domain. An end that
    /// overflows lies beyond every figure, so it counts as unbounded.
    fn limits(&self, dimension: Dimension, domain: Domain) -> Result<Domain, String> {
        let offset = self.exact_limit(dimension)?;
        let point = Domain { low: Some(offset), high: Some(offset) };
        let factor = match self.baseline {
            Some(BaselineFactor(factor)) if !factor.is_zero() => factor,
            _ => return Ok(point),
        };
        let at = |baseline: Option<Decimal>| baseline?.checked_mul(factor)?.checked_add(offset);
        Ok(if factor > Decimal::ZERO {
            Domain { low: at(domain.low), high: at(domain.high) }
        } else {
            Domain { low: at(domain.high), high: at(domain.low) }
        })
    }

    /// True when both thresholds test the same statistic with the same operator against the
    /// same limit once units are resolved: `p(99)<700` is the same test as `p(99) < 0.7s`.
    pub fn same_test(&self, other: &Threshold, dimension: Dimension) -> bool {
        self.baseline.is_none()
            && other.baseline.is_none()
            && self.stat == other.stat
            && self.op == other.op
            && matches!(
                (self.exact_limit(dimension), other.exact_limit(dimension)),
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
                if factor != Decimal::ONE {
                    text.push_str(&format!(" * {factor}"));
                }
                if !self.limit.is_zero() || self.unit != Unit::Bare {
                    text.push_str(&format!(" + {}{}", self.limit, self.unit.suffix()));
                }
                if let Some(level) = self.significance {
                    text.push_str(&format!(" and significant({level})"));
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

/// A set of numbers between two ends, each end a value and whether it is included; no end is
/// unbounded on that side.
#[derive(Debug, Clone, Copy)]
struct Span {
    low: Option<(Decimal, bool)>,
    high: Option<(Decimal, bool)>,
}

impl Span {
    fn from(low: Option<(Decimal, bool)>, high: Option<(Decimal, bool)>) -> Span {
        Span { low, high }
    }

    fn meet(self, other: Span) -> Span {
        let tighter = |a: Option<(Decimal, bool)>, b: Option<(Decimal, bool)>, low: bool| match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) if a.0 == b.0 => Some((a.0, a.1 && b.1)),
            (Some(a), Some(b)) => Some(if (a.0 > b.0) == low { a } else { b }),
        };
        Span { low: tighter(self.low, other.low, true), high: tighter(self.high, other.high, false) }
    }

    fn is_some_non_empty(self) -> bool {
        match (self.low, self.high) {
            (Some((low, low_in)), Some((high, high_in))) => low < high || (low == high && low_in && high_in),
            _ => true,
        }
    }
}

/// `significant(0.01)`: the level a significance test must reach, strictly between 0 and 1.
fn parse_significance(text: &str) -> Result<Decimal, String> {
    let level = text
        .strip_prefix("significant(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| format!("expected `significant(LEVEL)` after `and`, e.g. significant(0.01), got {text:?}"))?;
    let level = parse_decimal(level.trim())
        .map_err(|_| format!("significance level {level:?} is not a number (write e.g. significant(0.01))"))?;
    if level <= Decimal::ZERO || level >= Decimal::ONE {
        return Err(format!("significance level {level} must be between 0 and 1 (exclusive), e.g. 0.01"));
    }
    Ok(level)
}

/// After `baseline`: nothing, `* F`, `+ D`, or `* F + D`.
fn parse_relative(text: &str) -> Result<(BaselineFactor, Decimal, Unit), String> {
    let (factor, rest) = match text.strip_prefix('*') {
        Some(rest) => {
            let rest = rest.trim_start();
            let end = rest.find(|c: char| c.is_whitespace() || c == '+').unwrap_or(rest.len());
            let factor = parse_decimal(&rest[..end]).map_err(|_| {
                format!("baseline factor {:?} is not a number (write e.g. baseline * 1.2)", &rest[..end])
            })?;
            (factor, rest[end..].trim())
        }
        None => (Decimal::ONE, text),
    };
    if rest.is_empty() {
        return Ok((BaselineFactor(factor), Decimal::ZERO, Unit::Bare));
    }
    let offset = rest
        .strip_prefix('+')
        .ok_or_else(|| format!("expected `* FACTOR` or `+ OFFSET` after baseline, got {rest:?}"))?;
    let (limit, unit) = parse_limit(offset.trim())?;
    Ok((BaselineFactor(factor), limit, unit))
}

/// A decimal number as written (`1.1`, `-2e-3`), kept exact; a number a `Decimal` cannot hold
/// (beyond about 7.9e28, or more than 28 decimal places) is refused.
fn parse_decimal(digits: &str) -> Result<Decimal, String> {
    let plain = !digits.contains(['e', 'E']);
    let parsed = if plain { Decimal::from_str_exact(digits) } else { Decimal::from_scientific(digits) };
    parsed.map_err(|e| format!("{digits:?}: {e}"))
}

pub fn parse_limit(text: &str) -> Result<(Decimal, Unit), String> {
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
    if digits.parse::<f64>().is_ok_and(|v| v.is_infinite()) {
        return Err(format!("limit {text:?} is not a finite number"));
    }
    if digits.parse::<f64>().is_err() {
        return Err(format!("limit {text:?} is not a number followed by an optional unit (us, ms, s, m, h, %)"));
    }
    let limit = parse_decimal(digits).map_err(|why| format!("limit {text:?} is out of range ({why})"))?;
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
            Threshold {
                stat: Stat::Percentile(95.0),
                op: Op::Lt,
                limit: dec("400"),
                unit: Unit::Bare,
                baseline: None,
                significance: None
            }
        );
        let t = Threshold::parse("  p(99.9) <= 1.5s ").unwrap();
        assert_eq!(t.stat, Stat::Percentile(99.9));
        assert_eq!(t.op, Op::Le);
        assert_eq!(t.canonical_limit(K6_TREND).unwrap(), 1500.0);
        assert_eq!(Threshold::parse("rate>0.99").unwrap().canonical_limit(Dimension::Ratio).unwrap(), 0.99);
        assert_eq!(Threshold::parse("rate < 1%").unwrap().canonical_limit(Dimension::Ratio).unwrap(), 0.01);
        assert_eq!(Threshold::parse("max < 3m").unwrap().canonical_limit(K6_TREND).unwrap(), 180_000.0);
        assert_eq!(Threshold::parse("value === 2").unwrap().op, Op::Eq);
        assert_eq!(Threshold::parse("value != -2e-3").unwrap().limit, dec("-0.002"));
        assert_eq!(Stat::parse_key("p95").unwrap(), Stat::Percentile(95.0));
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn k6_rejects_p95_without_parentheses_and_so_do_we() {
        let err = Threshold::parse("p95 < 400").unwrap_err();
        assert!(err.contains("p(95)"), "{err}");
    }

    #[test]
    fn limits_compare_exactly_as_written() {
        let below = Threshold::parse("rate < 1.1%").unwrap();
        assert!(!below.holds(11.0 / 1000.0, Dimension::Ratio, None).unwrap(), "11/1000 is not below 1.1%");
        assert!(below.holds(10.0 / 1000.0, Dimension::Ratio, None).unwrap());
        let above = Threshold::parse("rate > 0.7%").unwrap();
        assert!(!above.holds(7.0 / 1000.0, Dimension::Ratio, None).unwrap(), "7/1000 is not above 0.7%");
        assert!(above.holds(8.0 / 1000.0, Dimension::Ratio, None).unwrap());
        assert_eq!(below.exact_limit(Dimension::Ratio).unwrap().to_string(), "0.011");
        assert!(Threshold::parse("p(95) < 0.3s").unwrap().holds(299.999, K6_TREND, None).unwrap());
        assert!(!Threshold::parse("p(95) < 0.3s").unwrap().holds(300.0, K6_TREND, None).unwrap());
        assert!(!Op::Lt.holds(f64::NAN, dec("1")));
        assert!(!Op::Ne.holds(f64::NAN, dec("1")));
        assert!(!Op::Lt.holds(f64::INFINITY, dec("1")));
        assert!(Op::Lt.holds(f64::NEG_INFINITY, dec("1")));
    }

    #[test]
    fn thresholds_that_cannot_fail_or_pass_over_the_domain_are_refused() {
        let rate = |t: &str| Threshold::parse(t).unwrap().check_domain(Dimension::Ratio, Domain::UNIT_INTERVAL);
        assert!(rate("rate < 101%").unwrap_err().contains("never fail"));
        assert!(rate("rate <= 1").unwrap_err().contains("never fail"));
        assert!(rate("rate >= 0").unwrap_err().contains("never fail"));
        assert!(rate("rate > -1%").unwrap_err().contains("never fail"));
        assert!(rate("rate < 0").unwrap_err().contains("never pass"));
        assert!(rate("rate > 1").unwrap_err().contains("never pass"));
        assert!(rate("rate != 2").unwrap_err().contains("never fail"));
        assert!(rate("rate == 2").unwrap_err().contains("never pass"));
        assert!(rate("rate < 1%").is_ok() && rate("rate > 99%").is_ok() && rate("rate < 100%").is_ok());
        let duration = |t: &str| Threshold::parse(t).unwrap().check_domain(K6_TREND, Domain::NON_NEGATIVE);
        assert!(duration("p(95) < -5ms").unwrap_err().contains("never pass"));
        assert!(duration("p(95) >= 0").unwrap_err().contains("never fail"));
        assert!(duration("p(95) < 400").is_ok());
        let gauge = Threshold::parse("value > -5").unwrap().check_domain(Dimension::Plain, Domain::ANY);
        assert!(gauge.is_ok());
        assert!(Domain::UNIT_INTERVAL.contains(1.0) && !Domain::UNIT_INTERVAL.contains(1.5));
        assert!(!Domain::NON_NEGATIVE.contains(-0.5));
    }

    /// Finding judge9/01: the relative forms of `rate < 101%` and `p(95) >= 0` are refused too.
    #[test]
    fn relative_thresholds_that_cannot_fail_or_pass_whatever_the_baseline_are_refused() {
        let rate = |t: &str| Threshold::parse(t).unwrap().check_domain(Dimension::Ratio, Domain::UNIT_INTERVAL);
        assert!(rate("rate <= baseline + 100%").unwrap_err().contains("never fail"));
        assert!(rate("rate < baseline + 101%").unwrap_err().contains("never fail"));
        assert!(rate("rate >= baseline * 0 + -1%").unwrap_err().contains("never fail"));
        assert!(rate("rate > baseline + 100%").unwrap_err().contains("never pass"));
        assert!(rate("rate < baseline + 100%").is_ok() && rate("rate <= baseline * 1.2").is_ok());
        let duration = |t: &str| Threshold::parse(t).unwrap().check_domain(K6_TREND, Domain::NON_NEGATIVE);
        assert!(duration("p(95) >= baseline * 0").unwrap_err().contains("never fail"));
        assert!(duration("p(95) >= baseline * -1").unwrap_err().contains("never fail"));
        // Like `p(95) > 0`, it fails at a figure of 0 (here with a baseline of 0).
        assert!(duration("p(95) > baseline * -1").is_ok());
        assert!(duration("p(95) < baseline * -1").unwrap_err().contains("never pass"));
        assert!(duration("p(95) < baseline * -1 + 5ms").is_ok());
        assert!(duration("p(95) < baseline + -10ms").is_ok(), "a baseline above 10 ms leaves room to pass");
        assert!(duration("p(95) <= baseline * 1.2").is_ok());
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
        assert_eq!(t.baseline, Some(BaselineFactor(dec("1.2"))));
        assert_eq!(t.resolve_limit(K6_TREND, Some(100.0)).unwrap(), dec("120"));
        let t = Threshold::parse("p(99) < baseline + 20ms").unwrap();
        assert_eq!(t.resolve_limit(K6_TREND, Some(100.0)).unwrap(), dec("120"));
        assert_eq!(t.to_string(), "p(99) < baseline + 20ms");
        assert!(t.resolve_limit(K6_TREND, None).is_err());
        assert!(Threshold::parse("p(95) < baseline * fast").is_err());
        assert!(Threshold::parse("p(95) < baseline - 3").is_err());
        assert!(!Threshold::parse("p(95)<400")
            .unwrap()
            .same_test(&Threshold::parse("p(95) < baseline + 400").unwrap(), K6_TREND));
    }

    #[test]
    fn significance_is_part_of_a_relative_limit() {
        let t = Threshold::parse("p(95) <= baseline * 1.2 and significant(0.01)").unwrap();
        assert_eq!(t.significance, Some(dec("0.01")));
        assert_eq!(t.baseline, Some(BaselineFactor(dec("1.2"))));
        assert_eq!(t.to_string(), "p(95) <= baseline * 1.2 and significant(0.01)");
        let t = Threshold::parse("p(99) < baseline * 1.1 + 20ms and significant(0.05)").unwrap();
        assert_eq!(t.resolve_limit(K6_TREND, Some(100.0)).unwrap(), dec("130"));
        assert_eq!(t.to_string(), "p(99) < baseline * 1.1 + 20ms and significant(0.05)");
        for (text, needle) in [
            ("p(95) < 400ms and significant(0.01)", "relative to the baseline"),
            ("p(95) <= baseline and significant(1)", "between 0 and 1"),
            ("p(95) <= baseline and significant(0)", "between 0 and 1"),
            ("p(95) <= baseline and significant(often)", "not a number"),
            ("p(95) <= baseline and likely", "significant(LEVEL)"),
        ] {
            let err = Threshold::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn comparisons_are_strict() {
        assert!(!Op::Lt.holds(400.0, dec("400")));
        assert!(!Op::Gt.holds(0.99, dec("0.99")));
        assert!(Op::Le.holds(400.0, dec("400")));
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
        // Decimals as people write them: a mantissa and a number of decimal places.
        let limit = (-1_000_000_000_000i64..1_000_000_000_000, 0u32..10).prop_map(|(m, scale)| Decimal::new(m, scale));
        let baseline = prop_oneof![
            Just(None),
            Just(Some(BaselineFactor(Decimal::ONE))),
            (50i64..300).prop_map(|f| Some(BaselineFactor(Decimal::new(f, 2))))
        ];
        let level =
            prop_oneof![Just(None), (1i64..1000, 1u32..6).prop_map(|(m, scale)| Some(Decimal::new(m, scale + 3)))];
        (any_stat(), op, limit, unit, baseline, level).prop_map(|(stat, op, limit, unit, baseline, level)| {
            // `baseline + 0` prints as plain `baseline`; keep such offsets in the form they print.
            let (limit, unit) =
                if baseline.is_some() && limit.is_zero() { (Decimal::ZERO, Unit::Bare) } else { (limit, unit) };
            // Only a relative limit can ask for significance.
            let significance = baseline.and(level);
            Threshold { stat, op, limit, unit, baseline, significance }
        })
    }

    /// A statistic with its figure's scale and domain, and the units its limits may be written in.
    const FIGURES: [(&str, Dimension, Domain, &[Unit]); 4] = [
        ("rate", Dimension::Ratio, Domain::UNIT_INTERVAL, &[Unit::Bare, Unit::Percent]),
        ("p(95)", K6_TREND, Domain::NON_NEGATIVE, &[Unit::Bare, Unit::Millis, Unit::Seconds]),
        ("count", Dimension::Plain, Domain::NON_NEGATIVE, &[Unit::Bare]),
        ("value", Dimension::Plain, Domain::ANY, &[Unit::Bare]),
    ];

    /// No noise floor, or one on the figure's scale: none, narrow, about a rate's whole range, or
    /// wider (negative: never met).
    fn any_floor() -> impl Strategy<Value = Option<Decimal>> {
        prop_oneof![
            Just(None),
            prop::sample::select(vec!["0", "0.01", "0.5", "0.99", "1", "2", "1000", "-1"])
                .prop_map(|d| Some(Decimal::from_str_exact(d).unwrap())),
        ]
    }

    /// A threshold in every form (`L`, `baseline`, `baseline * k`, `baseline + c`,
    /// `baseline * k + c`) over one of `FIGURES`. Factors are ±2^i·5^j/100 or 0, so the baseline
    /// at which the limit meets a domain end is an exact decimal the search below can try.
    fn any_form() -> impl Strategy<Value = (String, usize)> {
        let op = prop_oneof![Just("<"), Just("<="), Just(">"), Just(">="), Just("=="), Just("!=")];
        let factor = prop_oneof![
            Just(Decimal::ZERO),
            (any::<bool>(), 0u32..4, 0u32..4).prop_map(|(negative, i, j)| {
                let m = Decimal::from(2i64.pow(i) * 5i64.pow(j)) / Decimal::from(100);
                if negative {
                    -m
                } else {
                    m
                }
            }),
        ];
        let constant = prop_oneof![
            Just(Decimal::ZERO),
            Just(Decimal::ONE),
            Just(Decimal::from(-1)),
            Just(Decimal::from(100)),
            Just(Decimal::from(101)),
            (-300i64..=300, 0u32..=2).prop_map(|(m, scale)| Decimal::new(m, scale)),
        ];
        (0..FIGURES.len(), op, 0usize..5, factor, constant, 0usize..3).prop_map(|(figure, op, form, k, c, unit)| {
            let (stat, _, _, units) = FIGURES[figure];
            let c = format!("{c}{}", units[unit % units.len()].suffix());
            let limit = match form {
                0 => c,
                1 => "baseline".to_string(),
                2 => format!("baseline * {k}"),
                3 => format!("baseline + {c}"),
                _ => format!("baseline * {k} + {c}"),
            };
            (format!("{stat} {op} {limit}"), figure)
        })
    }

    /// By search: whether some (figure, baseline) pair of the domain breaches `threshold`, and
    /// whether some pair holds it, judged by `holds` itself. The outcome for one limit changes
    /// only at the limit, so the limit, a point either side and the domain's ends stand for every
    /// figure; the baselines tried are the domain's ends (or ±1e9), 0, 1 and those at which the
    /// limit meets a domain end. With a noise floor, a breach within the floor of the baseline
    /// holds (as `evaluate` judges it), and the baselines and figures at the floor's edges, and
    /// the baselines between every two tried, are tried too.
    fn search_fail_and_pass(
        threshold: &Threshold,
        dimension: Dimension,
        domain: Domain,
        floor: Option<Decimal>,
    ) -> (bool, bool) {
        use rust_decimal::prelude::ToPrimitive;
        let inside = |v: &Decimal| domain.low.is_none_or(|low| *v >= low) && domain.high.is_none_or(|high| *v <= high);
        let float = |v: Decimal| {
            let f = v.to_f64().unwrap();
            assert_eq!(to_decimal(f), Some(v.normalize()), "{v} is not exact as a float");
            f
        };
        let far = Decimal::from(1_000_000_000);
        let ends = [domain.low.unwrap_or(-far), domain.high.unwrap_or(far)];
        let mut baselines = vec![ends[0], ends[1], Decimal::ZERO, Decimal::ONE];
        let offset = threshold.exact_limit(dimension).unwrap();
        if let Some(BaselineFactor(factor)) = threshold.baseline.filter(|f| !f.0.is_zero()) {
            baselines.extend(ends.iter().map(|end| (end - offset) / factor));
        }
        let floor = floor.filter(|_| threshold.baseline.is_some());
        if let (Some(floor), Some(BaselineFactor(factor))) = (floor, threshold.baseline) {
            baselines.extend(ends.iter().flat_map(|end| [end - floor, end + floor]));
            if factor != Decimal::ONE {
                baselines.extend(
                    [floor, -floor].map(|side| ((side - offset) / (factor - Decimal::ONE)).round_sf(12).unwrap()),
                );
            }
            baselines.sort();
            baselines.dedup();
            let between: Vec<Decimal> =
                baselines.windows(2).map(|w| ((w[0] + w[1]) / Decimal::TWO).round_sf(12).unwrap()).collect();
            baselines.extend(between);
        }
        // Every value tried is one a float holds exactly (the nearest), so the search and the
        // floor test judge the very figure `holds` judges.
        let snap = |v: Decimal| to_decimal(v.to_f64().unwrap()).unwrap_or(v);
        let (mut can_fail, mut can_pass) = (false, false);
        for base in baselines.into_iter().map(snap).filter(inside) {
            let limit = threshold.resolve_limit(dimension, Some(float(base))).unwrap();
            let near = Decimal::new(1, 3);
            let mut figures = vec![
                ends[0] * Decimal::from(1000),
                ends[1] * Decimal::from(1000),
                ends[0],
                ends[1],
                limit - near,
                limit,
                limit + near,
            ];
            if let Some(floor) = floor {
                figures.extend([base - floor - near, base - floor, base + floor, base + floor + near]);
            }
            for figure in figures.into_iter().map(snap).filter(inside) {
                let within_floor = floor.is_some_and(|floor| (figure - base).abs() <= floor);
                let holds = within_floor || threshold.holds(float(figure), dimension, Some(float(base))).unwrap();
                can_fail |= !holds;
                can_pass |= holds;
            }
        }
        (can_fail, can_pass)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Finding judge9/01: a threshold, fixed or relative to the baseline, is refused as "can
        /// never fail" exactly when no (figure, baseline) pair of the domain breaches it, and as
        /// "can never pass" exactly when none holds it. Finding judge10/01: with the gate's noise
        /// floor, a relative threshold is refused as "can never fail" exactly when every breach
        /// over the domain lies within the floor of its baseline.
        #[test]
        fn refused_exactly_when_no_figure_and_baseline_fail_or_pass((text, figure) in any_form(), floor in any_floor()) {
            let (_, dimension, domain, _) = FIGURES[figure];
            let threshold = Threshold::parse(&text).unwrap();
            let (can_fail, can_pass) = search_fail_and_pass(&threshold, dimension, domain, None);
            let verdict = threshold.check_domain(dimension, domain);
            match (can_fail, can_pass) {
                (true, true) => prop_assert!(verdict.is_ok(), "{}: {:?}", text, verdict),
                (false, _) => prop_assert!(verdict.as_ref().is_err_and(|why| why.contains("never fail")), "{}: {:?}", text, verdict),
                (true, false) => prop_assert!(verdict.as_ref().is_err_and(|why| why.contains("never pass")), "{}: {:?}", text, verdict),
            }
            if let (Some(floor), true) = (floor, verdict.is_ok()) {
                let (can_fail, _) = search_fail_and_pass(&threshold, dimension, domain, Some(floor));
                let verdict = threshold.check_noise_floor(dimension, domain, floor);
                if can_fail {
                    prop_assert!(verdict.is_ok(), "{} floor {}: {:?}", text, floor, verdict);
                } else {
                    prop_assert!(verdict.as_ref().is_err_and(|why| why.contains("never fail")), "{} floor {}: {:?}", text, floor, verdict);
                }
            }
        }
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

        /// Rule: the cut `significant(...)` counts samples beyond parts them exactly as the
        /// comparison does: a sample is beyond it exactly when it breaches `op limit` (finding
        /// round27-judge/01: the limit as the nearest float moved a sample equal to it).
        #[test]
        fn the_breach_cut_parts_samples_as_the_comparison_does(
            mantissa in -10_000_000_000_000i64..10_000_000_000_000,
            places in 0u32..20,
            op in prop_oneof![Just(Op::Lt), Just(Op::Le), Just(Op::Gt), Just(Op::Ge)],
            steps in -3i32..=3,
        ) {
            let limit = Decimal::new(mantissa, places);
            let cut = op.breach_cut(limit).unwrap();
            // Floats around the limit: its nearest and a few either side, and the cut's.
            let near = rust_decimal::prelude::ToPrimitive::to_f64(&limit).unwrap();
            let walk = |mut v: f64, n: i32| { for _ in 0..n.abs() { v = if n > 0 { v.next_up() } else { v.next_down() } } v };
            for sample in [walk(near, steps), walk(cut, steps), near, cut] {
                let beyond = match op { Op::Lt | Op::Le => sample > cut, _ => sample < cut };
                prop_assert_eq!(beyond, !op.holds(sample, limit), "{} {} {} (cut {})", sample, op.symbol(), limit, cut);
            }
        }
    }
}
