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
//! only when neither the distribution, nor the tail's values, nor its share moved. For `compare`, where a figure's change is shown with its uncertainty, a bootstrap
//! confidence interval of the percentile difference is given: the bootstrap k-th order
//! statistic is F⁻¹ of a Beta(k, n+1-k) draw, so each replicate costs a lookup, not a resample.

use rand::{Rng, SeedableRng};
use statrs::distribution::{Beta, ContinuousCDF, Normal};

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
        Some(lower + (upper - lower) * (rank - lower_rank))
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

/// Every test `significant(level)` runs, and whether the shift is real.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub whole: MannWhitney,
    pub cuts: Vec<CutTest>,
    pub real: bool,
}

/// The one rule of `significant(level)`: whether the shift from `base` to `current` is real,
/// `below(p)` saying whether a p is below the level. The whole distributions are tested
/// (Mann-Whitney, one-sided towards a breach). For a percentile threshold (`quantile` q, the
/// threshold's `limit` on the samples' scale when it is relative) the tail is tested too, since
/// a percentile's breach may lie in the tail alone: the share of each run's samples beyond each
/// cut — the baseline's percentile, the limit the threshold compares with, and this run's own
/// percentile — and the values beyond the baseline's percentile. Cutting at the baseline's
/// percentile alone let a p95 +50 % pass as noise where the share beyond the limit doubled but
/// the share beyond the baseline's p95 barely moved and faster outliers offset slower requests
/// (finding round18-judge/01). The shift is real when any test is below the level: noise only
/// when neither the distribution, nor the tail's values, nor its share beyond any cut moved.
/// A values test that cannot reach the level is not run. None when either run has no samples.
pub fn shift(
    base: &Distribution,
    current: &Distribution,
    direction: Direction,
    quantile: Option<f64>,
    limit: Option<f64>,
    below: impl Fn(f64) -> bool,
) -> Option<Shift> {
    let whole = mann_whitney(base, current, direction)?;
    let mut cuts: Vec<CutTest> = Vec::new();
    if let (Some(q), Direction::Greater | Direction::Less) = (quantile, direction) {
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
    let real = below(whole.p_value)
        || cuts.iter().any(|c| c.share_p.is_some_and(&below) || c.values.is_some_and(|(p, ..)| below(p)));
    Some(Shift { whole, cuts, real })
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
                let shift = shift(&base, &current, Direction::Greater, Some(quantile), Some(limit), |p| p < 0.01).unwrap();
                prop_assert!(shift.real, "share beyond the limit {} vs {} (z {:.1}): {:?}", p1, p2, z, shift);
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
}
