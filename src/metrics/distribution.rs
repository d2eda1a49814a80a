//! A run's latency samples as a weighted distribution (the one store of samples; the curves
//! reports plot come from it), and the statistics that tell a real shift from runner noise.
//!
//! Samples are sorted (value, weight) pairs: k6 raw results give weight 1 per distinct value
//! (the samples the raw reader already holds, 16 bytes per distinct value), and a native run's
//! HDR buckets give the bucket's count, so a native run costs its few thousand buckets at most.
//!
//! The gate's test is Mann-Whitney U, one-sided in the direction a breach lies. Why: it uses
//! every sample rather than one figure, assumes no distribution shape (latency is skewed and
//! multi-modal), is deterministic (no seed, so a verdict is reproducible), and handles the
//! heavy ties of HDR buckets exactly with weighted mid-ranks and the tie-corrected variance.
//! It asks "did the distribution move", not "did p95 move", so a gate pairs it with the
//! relative limit on the percentile itself: a breach needs a change that is both big enough
//! and real. A regression confined to the tail (the slowest 5 % four times slower) keeps
//! every rank below it, so the whole-distribution test calls it noise at any sample size
//! (finding round16-judge/03): for a percentile the same test is also run on the tail beyond
//! the baseline's percentile — on both runs' samples there, and on the share of each run's
//! samples beyond it (more requests slow, at values no worse than before: finding
//! round17-figures/01), and beyond the threshold's limit and this run's own percentile too
//! (finding round18-judge/01) — and the shift is real when any test says so (`shift`): noise
//! only when neither the distribution, nor the tail's values, nor its share moved. Every
//! statistic is tested as itself (`statistic_test`): med, min and max as p(50), p(0) and
//! p(100), avg by Welch's t-test of the mean (finding round19-judge/01). For `compare`, where a figure's change is shown with its uncertainty, a bootstrap
//! confidence interval of the percentile difference is given: the bootstrap k-th order
//! statistic is F⁻¹ of a Beta(k, n+1-k) draw, so each replicate costs a lookup, not a resample.

use rand::{Rng, SeedableRng};
use statrs::distribution::{Beta, ContinuousCDF, Normal, StudentsT};

use crate::metrics::figure::Stat;

/// The percentiles a curve is drawn through: dense in the tail, where gates look.
pub const CURVE_PERCENTILES: [f64; 23] = [
    0.0, 1.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0, 97.5, 98.0, 99.0,
    99.5, 99.9, 99.99, 100.0,
];

/// Sorted distinct values with their weights (sample counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    points: Vec<(f64, f64)>,
    total: f64,
}

/// Which way a shift from A to B is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// B is larger than A (latency went up).
    Greater,
    /// B is smaller than A.
    Less,
    TwoSided,
}

/// The outcome of a Mann-Whitney U test of B against A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of B: pairs (a, b) with b > a, ties counting one half.
    pub u: f64,
    /// The normal approximation's z (tie-corrected, with continuity correction).
    pub z: f64,
    pub p_value: f64,
}

impl Distribution {
    /// From raw samples (each weighs 1); NaN samples are left out.
    pub fn from_values(values: &[f64]) -> Distribution {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        Distribution::from_sorted_weighted(sorted.into_iter().map(|v| (v, 1.0)))
    }

    /// From (value, weight) pairs in any order; pairs of equal value merge, empty ones drop.
    pub fn from_weighted(pairs: impl IntoIterator<Item = (f64, f64)>) -> Distribution {
        let mut pairs: Vec<(f64, f64)> =
            pairs.into_iter().filter(|(v, w)| !v.is_nan() && w.is_finite() && *w > 0.0).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Distribution::from_sorted_weighted(pairs)
    }

    /// The union of several distributions' samples (e.g. a flow's endpoints).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Distribution>) -> Distribution {
        Distribution::from_weighted(parts.into_iter().flat_map(|part| part.points.iter().copied()))
    }

    fn from_sorted_weighted(pairs: impl IntoIterator<Item = (f64, f64)>) -> Distribution {
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (value, weight) in pairs {
            match points.last_mut() {
                Some((last, w)) if *last == value => *w += weight,
                _ => points.push((value, weight)),
            }
        }
        let total = points.iter().map(|(_, w)| w).sum();
        Distribution { points, total }
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The number of samples (the sum of weights).
    pub fn count(&self) -> f64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total <= 0.0
    }

    /// The samples beyond `cut` in `direction` (above it for `Greater`, below it for `Less`;
    /// all of them for `TwoSided`).
    pub fn beyond(&self, cut: f64, direction: Direction) -> Distribution {
        let keep = |value: f64| match direction {
            Direction::Greater => value > cut,
            Direction::Less => value < cut,
            Direction::TwoSided => true,
        };
        Distribution::from_sorted_weighted(self.points.iter().copied().filter(|(value, _)| keep(*value)))
    }

    /// Each sample as 1 when beyond `cut` in `direction` (-1 for `Less`, so a breach lies the
    /// same way), else 0: the share of samples beyond the cut as a distribution the same test
    /// reads (Mann-Whitney over two values is the test of two proportions).
    pub fn beyond_share(&self, cut: f64, direction: Direction) -> Distribution {
        let beyond = self.beyond(cut, direction).count();
        let mark = if direction == Direction::Less { -1.0 } else { 1.0 };
        Distribution::from_weighted([(0.0, self.total - beyond), (mark, beyond)])
    }

    /// Scales every value (e.g. µs to ms).
    pub fn scaled(&self, factor: f64) -> Distribution {
        Distribution::from_weighted(self.points.iter().map(|(v, w)| (v * factor, *w)))
    }

    /// The q-quantile as k6 computes it: rank q·(n-1) among the samples in order, interpolated
    /// linearly between the two closest ranks. None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * (self.total - 1.0).max(0.0);
        let lower_rank = rank.floor();
        let (mut lower, mut upper) = (None, None);
        let mut seen = 0.0;
        for (value, weight) in &self.points {
            seen += weight;
            if lower.is_none() && lower_rank < seen {
                lower = Some(*value);
            }
            if lower_rank + 1.0 < seen {
                upper = Some(*value);
                break;
            }
        }
        let last = self.points.last().map(|(v, _)| *v)?;
        let lower = lower.unwrap_or(last);
        let upper = upper.unwrap_or(lower);
        Some(interpolated(lower, upper, rank - lower_rank))
    }

    /// The percentile curve (percentile, value) through `CURVE_PERCENTILES`, each point the
    /// k6 quantile above, so a plot agrees with the figures gates judge; empty when the
    /// distribution is.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        CURVE_PERCENTILES.iter().filter_map(|p| Some((*p, self.quantile(p / 100.0)?))).collect()
    }

    /// The first value whose cumulative weight reaches `fraction` of the sample, by a linear
    /// scan: the reference the bootstrap's binary search (`Cumulative::value_at`) is tested
    /// against.
    #[cfg(test)]
    fn value_at_fraction(&self, fraction: f64) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        let rank = (fraction.clamp(0.0, 1.0) * self.total).max(f64::MIN_POSITIVE);
        let mut cumulative = 0.0;
        for (value, weight) in &self.points {
            cumulative += weight;
            if cumulative >= rank - 1e-9 {
                return Some(*value);
            }
        }
        self.points.last().map(|(v, _)| *v)
    }
}

/// A p-value for people: 0.97, 0.012, 3.1e-7.
pub fn show_p_value(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{p:.1e}")
    }
}

/// Mann-Whitney U of `b` against `a` with weighted mid-ranks and the tie-corrected variance;
/// None when either side has no samples.
pub fn mann_whitney(a: &Distribution, b: &Distribution, direction: Direction) -> Option<MannWhitney> {
    let (n1, n2) = (a.total, b.total);
    if n1 <= 0.0 || n2 <= 0.0 {
        return None;
    }
    let n = n1 + n2;
    // Walk both sorted lists together; each distinct value is one tie block.
    let (mut i, mut j) = (0, 0);
    let (mut below, mut rank_sum_b, mut tie_term) = (0.0, 0.0, 0.0);
    while i < a.points.len() || j < b.points.len() {
        let value = match (a.points.get(i), b.points.get(j)) {
            (Some((va, _)), Some((vb, _))) => va.min(*vb),
            (Some((va, _)), None) => *va,
            (None, Some((vb, _))) => *vb,
            (None, None) => break,
        };
        let mut weight_a = 0.0;
        let mut weight_b = 0.0;
        if a.points.get(i).is_some_and(|(v, _)| *v == value) {
            weight_a = a.points[i].1;
            i += 1;
        }
        if b.points.get(j).is_some_and(|(v, _)| *v == value) {
            weight_b = b.points[j].1;
            j += 1;
        }
        let t = weight_a + weight_b;
        let mid_rank = below + (t + 1.0) / 2.0;
        rank_sum_b += weight_b * mid_rank;
        tie_term += t * t * t - t;
        below += t;
    }
    let u = rank_sum_b - n2 * (n2 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    let normal = Normal::new(0.0, 1.0).ok()?;
    if variance <= 0.0 {
        // Every sample is the same value: no shift at all.
        return Some(MannWhitney { u, z: 0.0, p_value: 1.0 });
    }
    let sd = variance.sqrt();
    let diff = u - mean;
    let (z, p_value) = match direction {
        Direction::Greater => {
            let z = (diff - 0.5) / sd;
            (z, 1.0 - normal.cdf(z))
        }
        Direction::Less => {
            let z = (diff + 0.5) / sd;
            (z, normal.cdf(z))
        }
        Direction::TwoSided => {
            let z = (diff.abs() - 0.5).max(0.0) / sd * diff.signum();
            (z, (2.0 * (1.0 - normal.cdf(z.abs()))).min(1.0))
        }
    };
    Some(MannWhitney { u, z, p_value })
}

/// What `significant(level)` tests of a threshold's own statistic, beside the whole
/// distribution: every statistic a baseline threshold may ask it of has one (`statistic_test`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatisticTest {
    /// A percentile as a fraction (p(95) is 0.95; `med` is 0.5, `min` 0 and `max` 1, k6's
    /// figures at those ranks): the tail beyond the baseline's value and the share beyond each
    /// cut. For `max` the share beyond the baseline's max and beyond the limit is the share of
    /// this run's samples past anything the baseline saw; for `min` the share beyond this run's
    /// own min is the share of the baseline's samples below anything this run saw.
    Quantile(f64),
    /// The mean (`avg`): Welch's t-test.
    Mean,
}

/// The test of `stat` that `significant()` runs beside the whole-distribution test, or why
/// there is none (a statistic without one is refused where the policy is read, never judged
/// by the whole test alone: finding round19-judge/01). A trend's `count` and the figures of
/// rates, counters and gauges are no statistic of a run's samples.
pub fn statistic_test(stat: Stat) -> Result<StatisticTest, String> {
    match stat {
        Stat::Percentile(p) => Ok(StatisticTest::Quantile(p / 100.0)),
        Stat::Med => Ok(StatisticTest::Quantile(0.5)),
        Stat::Min => Ok(StatisticTest::Quantile(0.0)),
        Stat::Max => Ok(StatisticTest::Quantile(1.0)),
        Stat::Avg => Ok(StatisticTest::Mean),
        Stat::Count | Stat::Rate | Stat::Value => Err(format!(
            "has no test of {stat}: it tests a change of a run's samples, so it applies to p(N), med, min, max and avg"
        )),
    }
}

/// Where a tail test of `significant(level)` cuts a percentile threshold's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The baseline's own percentile value.
    BaselinePercentile,
    /// The limit the threshold compares with (`baseline * factor`).
    Limit,
    /// This run's own percentile value.
    CurrentPercentile,
}

/// The tests at one cut: the share of each run's samples beyond it (two proportions), and,
/// at the baseline's percentile, the values beyond it (with both tails' sizes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutTest {
    pub at: Cut,
    pub cut: f64,
    pub share_p: Option<f64>,
    pub values: Option<(f64, f64, f64)>,
}

/// Welch's t-test of the mean of B against A's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanTest {
    pub base_mean: f64,
    pub current_mean: f64,
    pub t: f64,
    pub p_value: f64,
}

/// Every test `significant(level)` runs, and whether the shift is real.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub whole: MannWhitney,
    pub cuts: Vec<CutTest>,
    pub mean: Option<MeanTest>,
    pub real: bool,
}

/// Welch's t-test of `b`'s mean against `a`'s, one-sided towards `direction`; None when a run
/// has fewer than two samples. Why Welch: it tests the mean itself (which a change in the
/// tail alone moves while the ranks stay put), without assuming equal variances, and is
/// deterministic; with the hundreds of samples a run holds the mean is near normal even for
/// skewed latency. The t distribution's degrees of freedom are Welch-Satterthwaite's.
pub fn welch_t(a: &Distribution, b: &Distribution, direction: Direction) -> Option<MeanTest> {
    let moments = |d: &Distribution| -> Option<(f64, f64, f64)> {
        let n = d.total;
        if n < 2.0 {
            return None;
        }
        let mean = d.points.iter().map(|(v, w)| v * w).sum::<f64>() / n;
        let variance = d.points.iter().map(|(v, w)| w * (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        Some((n, mean, variance))
    };
    let ((n1, m1, v1), (n2, m2, v2)) = (moments(a)?, moments(b)?);
    let (s1, s2) = (v1 / n1, v2 / n2);
    let se = (s1 + s2).sqrt();
    let diff = m2 - m1;
    if se.is_nan() || se <= 0.0 || se.is_infinite() {
        // Both runs constant: the means moved exactly as far as they differ.
        let moved = match direction {
            Direction::Greater => diff > 0.0,
            Direction::Less => diff < 0.0,
            Direction::TwoSided => diff != 0.0,
        };
        let p_value = if moved { 0.0 } else { 1.0 };
        return Some(MeanTest { base_mean: m1, current_mean: m2, t: 0.0, p_value });
    }
    let t = diff / se;
    let df = (s1 + s2).powi(2) / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    let upper = |x: f64| -> f64 {
        // Beyond a million degrees of freedom the t distribution is the normal one.
        match StudentsT::new(0.0, 1.0, df) {
            Ok(student) if df.is_finite() && df < 1e6 => 1.0 - student.cdf(x),
            _ => Normal::new(0.0, 1.0).map(|n| 1.0 - n.cdf(x)).unwrap_or(1.0),
        }
    };
    let p_value = match direction {
        Direction::Greater => upper(t),
        Direction::Less => upper(-t),
        Direction::TwoSided => (2.0 * upper(t.abs())).min(1.0),
    };
    Some(MeanTest { base_mean: m1, current_mean: m2, t, p_value })
}

/// The one rule of `significant(level)`: whether the shift from `base` to `current` is real,
/// `below(p)` saying whether a p is below the level. The whole distributions are tested
/// (Mann-Whitney, one-sided towards a breach), and beside them the threshold's own statistic
/// (`test`), since its breach may lie where the ranks do not move: for a percentile (`med`,
/// `min` and `max` being p(50), p(0) and p(100); `limit` the threshold's limit on the samples'
/// scale when it is relative) the share of each run's samples beyond each cut — the baseline's
/// percentile, the limit the threshold compares with, and this run's own percentile — and the
/// values beyond the baseline's percentile; for the mean, Welch's t-test. Cutting at the
/// baseline's percentile alone let a p95 +50 % pass as noise where the share beyond the limit
/// doubled but the share beyond the baseline's p95 barely moved and faster outliers offset
/// slower requests (finding round18-judge/01); testing `med`, `avg` and `max` by the whole
/// test alone let +25 %, +104 % and +733 % pass as noise (finding round19-judge/01). The shift
/// is real when any test is below the level: noise only when neither the distribution nor
/// the statistic moved. A values test that cannot reach the level is not run. None when
/// either run has no samples.
pub fn shift(
    base: &Distribution,
    current: &Distribution,
    direction: Direction,
    test: StatisticTest,
    limit: Option<f64>,
    below: impl Fn(f64) -> bool,
) -> Option<Shift> {
    let whole = mann_whitney(base, current, direction)?;
    let mut cuts: Vec<CutTest> = Vec::new();
    if let (StatisticTest::Quantile(q), Direction::Greater | Direction::Less) = (test, direction) {
        let wanted = [
            (Cut::BaselinePercentile, base.quantile(q)),
            (Cut::Limit, limit.filter(|l| l.is_finite())),
            (Cut::CurrentPercentile, current.quantile(q)),
        ];
        for (at, cut) in wanted {
            let Some(cut) = cut else { continue };
            if cuts.iter().any(|c| c.cut == cut) {
                continue;
            }
            let share_p =
                mann_whitney(&base.beyond_share(cut, direction), &current.beyond_share(cut, direction), direction)
                    .map(|test| test.p_value);
            let values = (at == Cut::BaselinePercentile)
                .then(|| {
                    let (base_tail, current_tail) = (base.beyond(cut, direction), current.beyond(cut, direction));
                    let reachable = below(smallest_p_value(base_tail.count(), current_tail.count(), direction));
                    reachable
                        .then(|| mann_whitney(&base_tail, &current_tail, direction))
                        .flatten()
                        .map(|test| (test.p_value, base_tail.count(), current_tail.count()))
                })
                .flatten();
            cuts.push(CutTest { at, cut, share_p, values });
        }
    }
    let mean = match test {
        StatisticTest::Mean => welch_t(base, current, direction),
        StatisticTest::Quantile(_) => None,
    };
    let real = below(whole.p_value)
        || mean.is_some_and(|m| below(m.p_value))
        || cuts.iter().any(|c| c.share_p.is_some_and(&below) || c.values.is_some_and(|(p, ..)| below(p)));
    Some(Shift { whole, cuts, mean, real })
}

/// Why a shift between two runs cannot be told at a level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Untold {
    /// A run holds no samples.
    NoSamples,
    /// No arrangement of samples of these sizes gives a p below the level: `smallest_p`
    /// (`smallest_p_value`) is not, so no shift of any size could count as real.
    Unreachable { smallest_p: f64 },
    /// The statistic's own test cannot be run on these runs (`untested` says why): the whole
    /// distribution's test alone does not decide (a 1-sample baseline and avg +997 % passed
    /// as noise: finding round39-judge/01).
    Untested { why: &'static str },
}

/// Why the threshold's own statistic cannot be tested between these runs, or None — the one
/// rule of what each test needs (finding round39-judge/01): Welch's t-test of the mean needs
/// at least two samples in each run (a variance on each side); a percentile's tail tests need a
/// direction to look in, so a percentile compared with `==` or `!=` has none. Where the
/// statistic is untested the shift cannot be told: the whole distribution's test alone never
/// calls a change of the statistic noise.
pub fn untested(
    base: &Distribution,
    current: &Distribution,
    direction: Direction,
    test: StatisticTest,
) -> Option<&'static str> {
    match (test, direction) {
        (StatisticTest::Mean, _) if base.count() < 2.0 || current.count() < 2.0 => {
            Some("Welch's t-test of the mean needs at least 2 samples in each run (a variance on each side)")
        }
        (StatisticTest::Quantile(_), Direction::TwoSided) => {
            Some("a percentile has no tail test under == or != (its tests look beyond a cut, on one side)")
        }
        _ => None,
    }
}

/// The one rule of telling a shift, for `verify`'s `significant(level)` and `compare`'s Shift
/// column alike (finding round33-judge/01, /02: compare read a test that could not reach its
/// level, and the whole-distribution test alone, as "noise"): a test that cannot reach the
/// level cannot fail, so it tells nothing — never "no shift"; else `shift`, the whole
/// distributions and the statistic's own tests — never the whole alone where the statistic's
/// own test cannot be run (`untested`).
pub fn told_shift(
    base: &Distribution,
    current: &Distribution,
    direction: Direction,
    test: StatisticTest,
    limit: Option<f64>,
    below: impl Fn(f64) -> bool,
) -> Result<Shift, Untold> {
    let smallest_p = smallest_p_value(base.count(), current.count(), direction);
    if !below(smallest_p) {
        return Err(Untold::Unreachable { smallest_p });
    }
    if let Some(why) = untested(base, current, direction, test) {
        return Err(Untold::Untested { why });
    }
    shift(base, current, direction, test, limit, below).ok_or(Untold::NoSamples)
}

/// The smallest p-value `mann_whitney` can give for samples of these sizes: that of the most
/// extreme arrangement (every sample of one run beyond every sample of the other, no ties).
/// Where it is not below a level, no shift of any size can be called real at that level, so a
/// test at it cannot fail (3 against 3 samples: 0.040; one baseline sample against any
/// number: about 0.042). Ties within a run lower the variance and can reach below it, so
/// refusing such sizes is the conservative side.
pub fn smallest_p_value(n1: f64, n2: f64, direction: Direction) -> f64 {
    if n1 <= 0.0 || n2 <= 0.0 {
        return 1.0;
    }
    let Ok(normal) = Normal::new(0.0, 1.0) else { return 1.0 };
    let z = (n1 * n2 / 2.0 - 0.5) / (n1 * n2 * (n1 + n2 + 1.0) / 12.0).sqrt();
    let one_sided = 1.0 - normal.cdf(z);
    match direction {
        Direction::Greater | Direction::Less => one_sided,
        Direction::TwoSided => (2.0 * one_sided).min(1.0),
    }
}

/// The fewest samples per run (equal sizes) at which `smallest_p_value` is below `level`.
pub fn samples_needed(level: f64, direction: Direction) -> Option<u64> {
    (1..=1_000_000u64).find(|n| smallest_p_value(*n as f64, *n as f64, direction) < level)
}

/// k6's step between two neighbouring ranks: `lower + (upper - lower) * fraction`. Samples
/// further apart than an f64 reaches (-1.5e308 and 1.5e308) overflow `upper - lower`; weighting
/// each end instead stays finite and between them. The one interpolation of every percentile
/// gatecheck takes from samples.
pub fn interpolated(lower: f64, upper: f64, fraction: f64) -> f64 {
    if fraction == 0.0 {
        return lower;
    }
    let figure = lower + (upper - lower) * fraction;
    if figure.is_finite() {
        figure
    } else {
        lower * (1.0 - fraction) + upper * fraction
    }
}

/// A bootstrap confidence interval of quantile(b) - quantile(a) at `confidence` (e.g. 0.95),
/// from `replicates` draws with a fixed seed (the same inputs give the same interval).
///
/// The work is bounded by the replicates and the distinct values, never by the sample count:
/// each draw is one order-statistic fraction (below) and one binary search over the
/// cumulative weights, so a native run whose histograms hold 2^40 samples costs what one with
/// a thousand does.
pub fn quantile_difference_ci(
    a: &Distribution,
    b: &Distribution,
    q: f64,
    confidence: f64,
    replicates: usize,
) -> Option<(f64, f64)> {
    if a.is_empty() || b.is_empty() || replicates < 2 {
        return None;
    }
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x9a7e_c4ec);
    let draw_a = OrderStatistic::new(a, q)?;
    let draw_b = OrderStatistic::new(b, q)?;
    let (cumulative_a, cumulative_b) = (Cumulative::new(a), Cumulative::new(b));
    let mut differences: Vec<f64> = (0..replicates)
        .filter_map(|_| {
            let ua: f64 = rng.random();
            let ub: f64 = rng.random();
            Some(cumulative_b.value_at(draw_b.fraction(ub))? - cumulative_a.value_at(draw_a.fraction(ua))?)
        })
        .collect();
    if differences.is_empty() {
        return None;
    }
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |p: f64| differences[((p * (differences.len() - 1) as f64).round() as usize).min(differences.len() - 1)];
    Some((at(tail), at(1.0 - tail)))
}

/// Up to this many samples the order statistic is drawn from its exact Beta distribution;
/// beyond, from the normal with the Beta's own mean and variance. The Beta's inverse CDF
/// iterates for minutes with parameters near 2^40, while the normal is exact to far below
/// one bucket's width at such sizes (its error shrinks as 1/sqrt(n)).
const EXACT_ORDER_STATISTIC_MAX: f64 = 100_000.0;

/// The fraction of the sample at which the bootstrap's k-th of n order statistic falls,
/// k = ceil(q n): a Beta(k, n+1-k) draw.
enum OrderStatistic {
    Exact(Beta),
    Normal { mean: f64, sd: f64, normal: Normal },
}

impl OrderStatistic {
    fn new(d: &Distribution, q: f64) -> Option<OrderStatistic> {
        let n = d.total.round().max(1.0);
        let k = (q * n).ceil().clamp(1.0, n);
        if n <= EXACT_ORDER_STATISTIC_MAX {
            return Beta::new(k, n + 1.0 - k).ok().map(OrderStatistic::Exact);
        }
        let (alpha, beta) = (k, n + 1.0 - k);
        let mean = alpha / (alpha + beta);
        let sd = (alpha * beta / ((alpha + beta).powi(2) * (alpha + beta + 1.0))).sqrt();
        Some(OrderStatistic::Normal { mean, sd, normal: Normal::new(0.0, 1.0).ok()? })
    }

    fn fraction(&self, u: f64) -> f64 {
        match self {
            OrderStatistic::Exact(beta) => beta.inverse_cdf(u),
            OrderStatistic::Normal { mean, sd, normal } => {
                (mean + sd * normal.inverse_cdf(u.clamp(1e-12, 1.0 - 1e-12))).clamp(0.0, 1.0)
            }
        }
    }
}

/// Cumulative weights of a distribution's distinct values, for a value at a fraction of the
/// sample in O(log distinct values).
struct Cumulative<'a> {
    points: &'a [(f64, f64)],
    running: Vec<f64>,
    total: f64,
}

impl<'a> Cumulative<'a> {
    fn new(d: &'a Distribution) -> Cumulative<'a> {
        let mut sum = 0.0;
        let running = d
            .points
            .iter()
            .map(|(_, w)| {
                sum += w;
                sum
            })
            .collect();
        Cumulative { points: &d.points, running, total: d.total }
    }

    /// As `Distribution::value_at_fraction`: the first value whose cumulative weight reaches
    /// the rank.
    fn value_at(&self, fraction: f64) -> Option<f64> {
        if self.points.is_empty() || !fraction.is_finite() {
            return None;
        }
        let rank = (fraction.clamp(0.0, 1.0) * self.total).max(f64::MIN_POSITIVE) - 1e-9;
        let index = self.running.partition_point(|c| *c < rank).min(self.points.len() - 1);
        Some(self.points[index].0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_u_without_ties() {
        // A = {1,2,3}, B = {4,5,6}: every b exceeds every a, U_B = 9.
        let a = Distribution::from_values(&[1.0, 2.0, 3.0]);
        let b = Distribution::from_values(&[4.0, 5.0, 6.0]);
        let test = mann_whitney(&a, &b, Direction::Greater).unwrap();
        assert_eq!(test.u, 9.0);
        assert_eq!(mann_whitney(&b, &a, Direction::Greater).unwrap().u, 0.0);
        // Classic example (Mann & Whitney's style): A = {19,22,16,29,24}, B = {20,11,17,12};
        // U_B counts b > a pairs: 20>{19,16}, 17>{16} = 3.
        let a = Distribution::from_values(&[19.0, 22.0, 16.0, 29.0, 24.0]);
        let b = Distribution::from_values(&[20.0, 11.0, 17.0, 12.0]);
        assert_eq!(mann_whitney(&a, &b, Direction::Greater).unwrap().u, 3.0);
    }

    #[test]
    fn normal_approximation_matches_a_known_value() {
        // n1 = n2 = 10, no overlap: U = 100, mean 50, sd = sqrt(10*10*21/12) = 13.229;
        // z = (50 - 0.5) / 13.229 = 3.7417, one-sided p = 9.14e-5 (scipy's
        // mannwhitneyu(..., alternative="greater", method="asymptotic") gives 9.1e-05).
        let a: Vec<f64> = (1..=10).map(f64::from).collect();
        let b: Vec<f64> = (11..=20).map(f64::from).collect();
        let test =
            mann_whitney(&Distribution::from_values(&a), &Distribution::from_values(&b), Direction::Greater).unwrap();
        assert_eq!(test.u, 100.0);
        assert!((test.z - 3.7417).abs() < 1e-3, "{test:?}");
        assert!((test.p_value - 9.14e-5).abs() < 1e-6, "{test:?}");
    }

    #[test]
    fn weighted_ties_equal_the_expanded_samples() {
        // HDR buckets as weights give exactly what the same samples one by one give.
        let a = Distribution::from_weighted([(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]);
        let b = Distribution::from_weighted([(2.0, 2.0), (3.0, 3.0), (4.0, 1.0)]);
        let a_flat = Distribution::from_values(&[1.0, 1.0, 1.0, 2.0, 2.0, 3.0]);
        let b_flat = Distribution::from_values(&[2.0, 2.0, 3.0, 3.0, 3.0, 4.0]);
        assert_eq!(a, a_flat);
        let weighted = mann_whitney(&a, &b, Direction::Greater).unwrap();
        let flat = mann_whitney(&a_flat, &b_flat, Direction::Greater).unwrap();
        assert_eq!(weighted, flat);
        // U_B by counting: b=2 (x2): >3 ones, =2 twos -> 3 + 1 = 4 each -> 8; b=3 (x3): 5 + 0.5 = 5.5
        // each -> 16.5; b=4: 6. U = 30.5. Tie-corrected variance: ties 1:3, 2:4, 3:4, 4:1 ->
        // sum(t^3-t) = 24+60+60+0 = 144; var = 36/12 * (13 - 144/132) = 35.727.
        assert_eq!(weighted.u, 30.5);
        let z = (30.5 - 18.0 - 0.5) / 35.727_f64.sqrt();
        assert!((weighted.z - z).abs() < 1e-3, "{weighted:?} vs {z}");
    }

    #[test]
    fn identical_distributions_are_not_significant_and_a_clear_shift_is() {
        let base: Vec<f64> = (0..2000).map(|i| 50.0 + (i % 97) as f64 * 0.7 + (i % 13) as f64).collect();
        let same =
            mann_whitney(&Distribution::from_values(&base), &Distribution::from_values(&base), Direction::Greater)
                .unwrap();
        assert!(same.p_value > 0.4, "{same:?}");
        let shifted: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let shift =
            mann_whitney(&Distribution::from_values(&base), &Distribution::from_values(&shifted), Direction::Greater)
                .unwrap();
        assert!(shift.p_value < 1e-6, "{shift:?}");
        let other_way =
            mann_whitney(&Distribution::from_values(&base), &Distribution::from_values(&shifted), Direction::Less)
                .unwrap();
        assert!(other_way.p_value > 0.99, "{other_way:?}");
        assert!(mann_whitney(&Distribution::default(), &Distribution::from_values(&base), Direction::Greater).is_none());
        let constant = Distribution::from_values(&[5.0, 5.0]);
        assert_eq!(mann_whitney(&constant, &constant, Direction::TwoSided).unwrap().p_value, 1.0);
    }

    /// k6's `TrendSink.P` over sorted raw samples, point by point, as raw results' curves were
    /// drawn before distributions held the samples: the reference the curve must equal.
    fn k6_curve_of_sorted(sorted: &[f64]) -> Vec<(f64, f64)> {
        if sorted.is_empty() {
            return Vec::new();
        }
        let last = (sorted.len() - 1) as f64;
        CURVE_PERCENTILES
            .iter()
            .map(|p| {
                let rank = p / 100.0 * last;
                let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
                (*p, sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64))
            })
            .collect()
    }

    fn bits(curve: &[(f64, f64)]) -> Vec<(u64, u64)> {
        curve.iter().map(|(p, v)| (p.to_bits(), v.to_bits())).collect()
    }

    #[test]
    fn the_curve_of_raw_values_is_k6s_bit_for_bit() {
        // Ties, a lone sample, few samples (ranks between points) and many (a skewed tail).
        let skewed: Vec<f64> = (0..10_007).map(|i| 3.0 + f64::from(i % 89) * 0.37 + 1e4 / f64::from(i + 1)).collect();
        for values in [
            vec![7.25],
            vec![2.0, 1.0],
            vec![5.0, 1.5, 1.5, 9.75, 3.0, 3.0, 3.0],
            (1..=100).map(f64::from).collect(),
            skewed,
        ] {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let curve = Distribution::from_values(&values).curve();
            assert_eq!(curve.len(), CURVE_PERCENTILES.len());
            assert_eq!(bits(&curve), bits(&k6_curve_of_sorted(&sorted)), "{values:?}");
        }
    }

    #[test]
    fn a_weighted_curve_is_the_curve_of_its_expanded_values_and_empty_gives_none() {
        let weighted = Distribution::from_weighted([(12.5, 3.0), (4.0, 1.0), (250.0, 2.0), (40.0, 994.0)]);
        let expanded: Vec<f64> =
            weighted.points().iter().flat_map(|(v, w)| std::iter::repeat_n(*v, *w as usize)).collect();
        assert_eq!(expanded.len(), 1000);
        assert_eq!(bits(&weighted.curve()), bits(&Distribution::from_values(&expanded).curve()));
        assert_eq!(bits(&weighted.curve()), bits(&k6_curve_of_sorted(&expanded)));
        assert!(Distribution::default().curve().is_empty());
        assert!(Distribution::from_values(&[f64::NAN]).curve().is_empty());
    }

    #[test]
    fn quantiles_and_their_difference_interval() {
        let d = Distribution::from_values(&(1..=100).map(f64::from).collect::<Vec<_>>());
        // k6: rank 0.95 * 99 = 94.05 -> 95 + 0.05 * (96 - 95).
        assert!((d.quantile(0.95).unwrap() - 95.05).abs() < 1e-9);
        assert_eq!(d.quantile(0.5), Some(50.5));
        assert_eq!(d.quantile(1.0), Some(100.0));
        assert_eq!(d.quantile(0.0), Some(1.0));
        let weighted = Distribution::from_weighted([(1.0, 50.0), (2.0, 50.0)]);
        assert_eq!(weighted.quantile(0.5), Some(1.5));
        assert_eq!(Distribution::from_values(&[7.0]).quantile(0.99), Some(7.0));
        let a = Distribution::from_values(&(0..5000).map(|i| 100.0 + (i % 100) as f64).collect::<Vec<_>>());
        let b = a.scaled(1.3);
        let (low, high) = quantile_difference_ci(&a, &b, 0.95, 0.95, 500).unwrap();
        let true_diff = b.quantile(0.95).unwrap() - a.quantile(0.95).unwrap();
        assert!(low <= true_diff && true_diff <= high && low > 0.0, "{low}..{high} vs {true_diff}");
        let (low, high) = quantile_difference_ci(&a, &a, 0.95, 0.95, 500).unwrap();
        assert!(low <= 0.0 && high >= 0.0, "{low}..{high}");
    }

    #[test]
    fn few_samples_cannot_reach_a_small_level() {
        let p = smallest_p_value(3.0, 3.0, Direction::Greater);
        assert!((p - 0.0401).abs() < 1e-3, "{p}");
        assert!(smallest_p_value(1.0, 1e6, Direction::Greater) > 0.04);
        assert_eq!(samples_needed(0.01, Direction::Greater), Some(5));
        assert!(smallest_p_value(5.0, 5.0, Direction::Greater) < 0.01);
    }

    mod shift_rule {
        use super::*;
        use proptest::prelude::*;

        /// `total` samples spread over `values` in proportion to `weights` (whole samples).
        fn spread(values: &[f64], weights: &[u32], total: f64) -> Vec<(f64, f64)> {
            let sum: f64 = weights.iter().map(|w| f64::from(*w)).sum();
            values.iter().zip(weights).map(|(v, w)| (*v, (total * f64::from(*w) / sum).round())).collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(192))]
            /// Finding round18-judge/01, as a class: for a percentile threshold against a
            /// baseline, a run whose share of samples beyond the limit (`baseline's percentile
            /// x factor`) exceeds the baseline's share by a clearly significant margin (two
            /// proportions, z > 6) is never noise, however the rest of the tail moved: the
            /// baseline's outliers anywhere, this run's extra requests anywhere beyond the
            /// limit, its share between the baseline's share beyond the limit and beyond its
            /// percentile (where the baseline's cut alone sees nothing).
            #[test]
            fn a_clearly_larger_share_beyond_the_limit_is_never_noise(
                sizes in (1_000u32..20_000, 1_000u32..20_000),
                quantile in proptest::sample::select(vec![0.9, 0.95, 0.99]),
                tail_scale in 0.5f64..2.0,
                near_part in 0.0f64..1.0,
                near in proptest::collection::vec((0.0f64..0.3, 1u32..100), 1..8),
                far in proptest::collection::vec((2.0f64..50.0, 1u32..100), 1..8),
                factor in 1.0f64..2.0,
                slower in proptest::collection::vec((0.0f64..1.0, 1u32..100), 1..8),
                kept_far in 0.0f64..1.0,
                toward in 0.0f64..1.5,
            ) {
                let (n_base, n_current) = (f64::from(sizes.0), f64::from(sizes.1));
                let body: Vec<f64> = (0..50).map(|i| 10.0 + 90.0 * f64::from(i) / 50.0).collect();
                let at = |pairs: &[(f64, u32)], scale: f64, from: f64| -> (Vec<f64>, Vec<u32>) {
                    pairs.iter().map(|(m, w)| (from * (1.0 + 1e-6 + m * scale), *w)).unzip()
                };
                // The baseline: a body, requests just beyond it, and far outliers.
                let tail = ((1.0 - quantile) * tail_scale).min(0.5);
                let (near_values, near_weights) = at(&near, 1.0, 100.0);
                let (far_values, far_weights) = at(&far, 1.0, 100.0);
                let mut base_points = spread(&body, &[1; 50], n_base * (1.0 - tail));
                base_points.extend(spread(&near_values, &near_weights, n_base * tail * near_part));
                base_points.extend(spread(&far_values, &far_weights, n_base * tail * (1.0 - near_part)));
                let base = Distribution::from_weighted(base_points);
                let limit = base.quantile(quantile).unwrap() * factor;
                let share_of = |d: &Distribution| d.beyond(limit, Direction::Greater).count() / d.count();
                let base_share = share_of(&base);
                // This run: the body, and a share beyond the limit from the baseline's (toward
                // 0) up past the baseline's share beyond its percentile (toward 1 and more),
                // part of it just beyond the limit, part at the baseline's far outliers.
                let target = (base_share + toward * ((1.0 - quantile) * 1.2 - base_share).max(0.01)).min(0.9);
                let (slower_values, slower_weights) = at(&slower, 0.5, limit);
                let mut current_points = spread(&body, &[1; 50], n_current * (1.0 - target));
                current_points.extend(spread(&slower_values, &slower_weights, n_current * target * (1.0 - kept_far)));
                let kept: Vec<f64> = far_values.iter().map(|v| v.max(limit * 1.01)).collect();
                current_points.extend(spread(&kept, &far_weights, n_current * target * kept_far));
                let current = Distribution::from_weighted(current_points);
                let (p1, p2) = (base_share, share_of(&current));
                let pooled = (p1 * base.count() + p2 * current.count()) / (base.count() + current.count());
                let z = (p2 - p1) / (pooled * (1.0 - pooled) * (1.0 / base.count() + 1.0 / current.count())).sqrt();
                prop_assume!(z > 6.0);
                let shift = shift(&base, &current, Direction::Greater, StatisticTest::Quantile(quantile), Some(limit), |p| p < 0.01).unwrap();
                prop_assert!(shift.real, "share beyond the limit {} vs {} (z {:.1}): {:?}", p1, p2, z, shift);
            }
        }
    }

    mod statistic_rule {
        use super::*;
        use proptest::prelude::*;

        /// Two proportions' z (pooled), as the share tests compute it.
        fn share_z(k1: f64, n1: f64, k2: f64, n2: f64) -> f64 {
            let pooled = (k1 + k2) / (n1 + n2);
            let spread = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
            if spread > 0.0 {
                (k2 / n2 - k1 / n1) / spread
            } else {
                0.0
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]
            /// Finding round19-judge/01, as a class: for every statistic a baseline threshold
            /// may ask `significant()` of (p(N), med, min, max, avg), a run whose statistic
            /// clearly moved past the limit is never noise, however the rest of the run looks:
            /// a share of the baseline's samples moved past `baseline's figure x factor`
            /// (clearly: the share beyond the limit, or for avg the mean, moved by more than 6
            /// standard errors) — its slowest samples slower (the ranks stay put), or its
            /// fastest ones past the limit while its slowest become fast (offsetting them in
            /// the whole test). Checked to fail for med, min, max and avg under the whole test
            /// alone.
            #[test]
            fn a_statistic_that_clearly_moved_is_never_noise(
                stat in proptest::sample::select(vec![
                    Stat::Med, Stat::Min, Stat::Max, Stat::Avg,
                    Stat::Percentile(90.0), Stat::Percentile(95.0), Stat::Percentile(99.0),
                ]),
                n in 1_000u32..12_000,
                body in proptest::collection::vec((10.0f64..200.0, 1u32..50), 1..6),
                tail in proptest::collection::vec((200.0f64..3_000.0, 1u32..50), 0..4),
                tail_share in 0.0f64..0.2,
                factor in 1.0f64..2.0,
                moved_share in 0.005f64..0.6,
                beyond in 0.01f64..4.0,
                from_top in proptest::bool::ANY,
                faster_share in 0.0f64..0.5,
            ) {
                let n = f64::from(n);
                let total_body: f64 = body.iter().map(|(_, w)| f64::from(*w)).sum();
                let total_tail: f64 = tail.iter().map(|(_, w)| f64::from(*w)).sum();
                let mut base_values: Vec<f64> = Vec::new();
                for (value, weight) in &body {
                    let count = (n * (1.0 - tail_share) * f64::from(*weight) / total_body).round() as usize;
                    base_values.extend((0..count).map(|i| value + 0.001 * i as f64));
                }
                for (value, weight) in &tail {
                    let count = (n * tail_share * f64::from(*weight) / total_tail).round() as usize;
                    base_values.extend((0..count).map(|i| value + 0.001 * i as f64));
                }
                base_values.sort_by(f64::total_cmp);
                let base = Distribution::from_values(&base_values);
                let test = statistic_test(stat).unwrap();
                let figure = match test {
                    StatisticTest::Quantile(q) => base.quantile(q).unwrap(),
                    StatisticTest::Mean => base.points().iter().map(|(v, w)| v * w).sum::<f64>() / base.count(),
                };
                let limit = figure * factor;
                // This run: the baseline with some of its samples moved past the limit. For
                // min the statistic moves only when every sample below the limit does; for
                // the others, `moved_share` of the samples: the slowest ones slower still
                // (the ranks stay put), or the fastest ones past the limit while the slowest
                // `faster_share` become as fast as the baseline's fastest (offsetting them).
                let target = limit * (1.0 + beyond);
                let moved = match stat {
                    Stat::Min => base_values.iter().take_while(|v| **v <= target).count(),
                    _ => ((base_values.len() as f64) * moved_share).round() as usize,
                };
                let mut current_values = base_values.clone();
                let len = current_values.len();
                if from_top && stat != Stat::Min {
                    for value in current_values.iter_mut().skip(len - moved.min(len)) {
                        *value = *value * (1.0 + beyond) + target;
                    }
                } else {
                    for (i, value) in current_values.iter_mut().take(moved).enumerate() {
                        *value = target + 0.001 * i as f64;
                    }
                    if stat != Stat::Min {
                        let faster = ((len as f64) * faster_share).round() as usize;
                        let fastest = base_values[0];
                        for (i, value) in current_values.iter_mut().skip(moved).rev().take(faster).enumerate() {
                            *value = fastest + 0.001 * i as f64;
                        }
                    }
                }
                let current = Distribution::from_values(&current_values);
                let current_figure = match test {
                    StatisticTest::Quantile(q) => current.quantile(q).unwrap(),
                    StatisticTest::Mean => current.points().iter().map(|(v, w)| v * w).sum::<f64>() / current.count(),
                };
                prop_assume!(current_figure > limit);
                // Clearly: the samples that crossed are clearly more than chance. For the
                // percentiles, the share beyond the limit; for the mean, its move in units of
                // its standard error.
                let (nb, nc) = (base.count(), current.count());
                let clear = match test {
                    StatisticTest::Quantile(_) if stat == Stat::Min => {
                        let below = base.beyond(current.quantile(0.0).unwrap(), Direction::Less).count();
                        share_z(0.0, nc, below, nb)
                    }
                    StatisticTest::Quantile(_) => share_z(
                        base.beyond(limit, Direction::Greater).count(), nb,
                        current.beyond(limit, Direction::Greater).count(), nc,
                    ),
                    StatisticTest::Mean => welch_t(&base, &current, Direction::Greater).map_or(0.0, |m| m.t),
                };
                prop_assume!(clear > 6.0);
                let shift = shift(&base, &current, Direction::Greater, test, Some(limit), |p| p < 0.01).unwrap();
                prop_assert!(shift.real, "{stat} {figure} -> {current_figure} (clear {clear:.1}): {shift:?}");
            }
        }

        #[test]
        fn welch_matches_a_known_value() {
            // Means 3 and 5.5, variances 2.5 and 3.5: t = 2.5 / sqrt(2.5/5 + 3.5/6) = 2.4019,
            // Welch-Satterthwaite df = 8.989, one-sided p = 0.01990 (the t density integrated
            // numerically).
            let a = Distribution::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0]);
            let b = Distribution::from_values(&[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
            let test = welch_t(&a, &b, Direction::Greater).unwrap();
            assert!((test.base_mean - 3.0).abs() < 1e-12 && (test.current_mean - 5.5).abs() < 1e-12);
            let t = 2.5 / (2.5f64 / 5.0 + 3.5 / 6.0).sqrt();
            assert!((test.t - t).abs() < 1e-9, "{test:?}");
            assert!((test.p_value - 0.019_90).abs() < 1e-4, "{test:?}");
            assert!(welch_t(&a, &b, Direction::Less).unwrap().p_value > 0.98);
            assert!(welch_t(&Distribution::from_values(&[1.0]), &b, Direction::Greater).is_none());
        }

        #[test]
        fn every_statistic_has_a_test_or_is_named_as_having_none() {
            for stat in [Stat::Avg, Stat::Min, Stat::Med, Stat::Max, Stat::Percentile(95.0)] {
                assert!(statistic_test(stat).is_ok(), "{stat}");
            }
            for stat in [Stat::Count, Stat::Rate, Stat::Value] {
                assert!(statistic_test(stat).unwrap_err().contains(&format!("has no test of {stat}")), "{stat}");
            }
        }
    }

    mod floor {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            /// No arrangement of distinct samples gets below the floor, and full separation
            /// reaches it: the floor is the test's own.
            #[test]
            fn no_arrangement_of_distinct_samples_beats_the_floor(
                a in proptest::collection::btree_set(0u32..10_000, 1..40),
                b in proptest::collection::btree_set(0u32..10_000, 1..40),
            ) {
                let a: Vec<f64> = a.into_iter().map(f64::from).collect();
                let b: Vec<f64> = b.into_iter().map(|v| f64::from(v) + 0.5).collect();
                let (da, db) = (Distribution::from_values(&a), Distribution::from_values(&b));
                for direction in [Direction::Greater, Direction::Less, Direction::TwoSided] {
                    let floor = smallest_p_value(da.count(), db.count(), direction);
                    let test = mann_whitney(&da, &db, direction).unwrap();
                    prop_assert!(test.p_value >= floor - 1e-12, "{} < floor {}", test.p_value, floor);
                }
                let separated: Vec<f64> = (0..b.len()).map(|i| 20_000.0 + i as f64).collect();
                let test = mann_whitney(&da, &Distribution::from_values(&separated), Direction::Greater).unwrap();
                let floor = smallest_p_value(da.count(), separated.len() as f64, Direction::Greater);
                prop_assert!((test.p_value - floor).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn the_bootstrap_reads_values_as_the_linear_scan_does() {
        let d = Distribution::from_weighted([(1.0, 3.0), (2.0, 0.5), (5.0, 2.5), (9.0, 4.0)]);
        let cumulative = Cumulative::new(&d);
        for i in 0..=100 {
            let f = f64::from(i) / 100.0;
            assert_eq!(cumulative.value_at(f), d.value_at_fraction(f), "{f}");
        }
    }

    #[test]
    fn the_bootstrap_of_a_histogram_of_2_pow_40_samples_is_the_normal_limit() {
        // Every sample of A at 10 or 20 (half each), B the same shifted by 5: the p95
        // difference is 5 and, with 2^40 samples, no draw moves it.
        let half = 2f64.powi(39);
        let a = Distribution::from_weighted([(10.0, half), (20.0, half)]);
        let b = Distribution::from_weighted([(15.0, half), (25.0, half)]);
        assert!(matches!(OrderStatistic::new(&a, 0.95), Some(OrderStatistic::Normal { .. })));
        assert_eq!(quantile_difference_ci(&a, &b, 0.95, 0.95, 2000), Some((5.0, 5.0)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Finding round39-judge/01 (a 1-sample baseline and avg +997 % passed as noise). Rule:
        /// `told_shift` tells a shift only with the statistic's own test run beside the whole
        /// one — Welch's t for the mean (at least 2 samples each side), the tail tests for a
        /// percentile (one-sided only) — and otherwise cannot tell, never "noise". Over 0..3
        /// samples on one side and any number on the other, every statistic and direction.
        #[test]
        fn a_shift_is_never_told_without_the_statistics_own_test(
            small in 0usize..4,
            large in 0usize..300,
            small_is_base in proptest::bool::ANY,
            shift_by in 0.0f64..20.0,
            quantile in proptest::option::of(0.0f64..=1.0),
            direction in proptest::sample::select(vec![Direction::Greater, Direction::Less, Direction::TwoSided]),
            level in proptest::sample::select(vec![0.01f64, 0.05, 0.5, 0.99]),
        ) {
            let run = |n: usize, factor: f64| Distribution::from_values(&(0..n).map(|i| (100.0 + i as f64) * factor).collect::<Vec<_>>());
            let (base, current) = match small_is_base {
                true => (run(small, 1.0), run(large, 1.0 + shift_by)),
                false => (run(large, 1.0), run(small, 1.0 + shift_by)),
            };
            let test = quantile.map_or(StatisticTest::Mean, StatisticTest::Quantile);
            let untestable = match test {
                StatisticTest::Mean => small < 2,
                StatisticTest::Quantile(_) => direction == Direction::TwoSided,
            };
            let told = told_shift(&base, &current, direction, test, Some(150.0), |p| p < level);
            if untestable {
                proptest::prop_assert!(told.is_err(), "told without its own test: {told:?}");
            }
            if let Ok(shift) = told {
                match test {
                    StatisticTest::Mean => proptest::prop_assert!(shift.mean.is_some(), "{shift:?}"),
                    StatisticTest::Quantile(_) => proptest::prop_assert!(!shift.cuts.is_empty(), "{shift:?}"),
                }
            }
        }
    }

    /// Finding round39-judge/01 as reported: one baseline sample, 200 samples ten times
    /// slower, avg under `<` at 0.05: the whole test alone could not see it and called it noise.
    #[test]
    fn one_baseline_sample_cannot_tell_a_mean_shift() {
        let base = Distribution::from_values(&[100.0]);
        let current = Distribution::from_values(&(0..200).map(|i| 1_000.0 + i as f64).collect::<Vec<_>>());
        let told = told_shift(&base, &current, Direction::Greater, StatisticTest::Mean, None, |p| p < 0.05);
        assert!(matches!(told, Err(Untold::Untested { .. })), "{told:?}");
    }
}
