//! Whether figures read elsewhere (environment variables) fit the other figures of their
//! distribution: all of them keep its order (finding round19-figures/02: p(99) below a
//! measured min). Env figures stand only for what no run measures (lag, saturation); a k6
//! metric's figures come from the run's evidence alone (`policy::gate` refuses `[gate.env]`
//! beside a metric: findings round19-figures to round24-figures each found another way an env
//! figure passed beside evidence it contradicted).

use super::Stat;

/// Where a statistic stands in the order of one distribution: min, the percentiles by rank (med
/// is p(50)), max; avg lies between min and max but has no rank. Others have no place.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Rank(f64),
    Mean,
}

fn place(stat: Stat) -> Option<Place> {
    match stat {
        Stat::Min => Some(Place::Rank(0.0)),
        Stat::Med => Some(Place::Rank(50.0)),
        Stat::Max => Some(Place::Rank(100.0)),
        Stat::Percentile(rank) => Some(Place::Rank(rank)),
        Stat::Avg => Some(Place::Mean),
        Stat::Count | Stat::Rate | Stat::Value => None,
    }
}

/// The first measured statistic of a distribution that a figure `value` for `stat` would put
/// out of order (see `Place`): p(a) <= p(b) for a < b, min <= avg <= max. None when it fits.
pub fn out_of_order(stat: Stat, value: f64, measured: &[(Stat, f64)]) -> Option<(Stat, f64)> {
    let own = place(stat)?;
    measured.iter().copied().find(|&(other, figure)| match (own, place(other)) {
        (_, None) => false,
        (Place::Rank(a), Some(Place::Rank(b))) => {
            (b < a && figure > value) || (b > a && figure < value) || (a == b && figure != value)
        }
        (Place::Mean, Some(Place::Rank(b))) => (b == 0.0 && figure > value) || (b == 100.0 && figure < value),
        (Place::Rank(a), Some(Place::Mean)) => (a == 0.0 && value > figure) || (a == 100.0 && value < figure),
        (Place::Mean, Some(Place::Mean)) => figure != value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Finding round19-figures/02. Rule: an env figure for a statistic the evidence lacks,
        /// beside statistics it measured of the same metric, is accepted exactly when all of
        /// them together keep the order of a distribution: min <= every percentile, med and avg
        /// <= max, and percentiles non-decreasing in their rank (med is p(50)).
        #[test]
        fn an_env_figure_is_accepted_exactly_when_it_fits_the_measured_order(
            base in proptest::collection::vec(0u32..1000, 8),
            present in proptest::collection::vec(proptest::bool::ANY, 8),
            missing in 0usize..8,
            value in 0u32..1100,
        ) {
            // Ordered statistics and a consistent measured set (sorted figures by rank).
            let stats = [Stat::Min, Stat::Percentile(25.0), Stat::Med, Stat::Percentile(90.0), Stat::Percentile(95.0), Stat::Percentile(99.9), Stat::Max, Stat::Avg];
            let mut ranked: Vec<f64> = base[..7].iter().map(|v| f64::from(*v)).collect();
            ranked.sort_by(f64::total_cmp);
            let avg = ranked[0] + (ranked[6] - ranked[0]) * f64::from(base[7]) / 1000.0;
            let figures: Vec<f64> = ranked.into_iter().chain([avg]).collect();
            let measured: Vec<(Stat, f64)> = (0..8).filter(|i| *i != missing && present[*i]).map(|i| (stats[i], figures[i])).collect();
            let value = f64::from(value);
            // The oracle: put the env figure in its place and check the whole order.
            let mut all = measured.clone();
            all.push((stats[missing], value));
            let rank = |stat: Stat| match stat { Stat::Min => Some(0.0), Stat::Med => Some(50.0), Stat::Max => Some(100.0), Stat::Percentile(p) => Some(p), _ => None };
            let fits = all.iter().all(|&(a, x)| all.iter().all(|&(b, y)| match (rank(a), rank(b)) {
                (Some(ra), Some(rb)) => ra >= rb || x <= y,
                (None, Some(rb)) => (rb != 0.0 || y <= x) && (rb != 100.0 || x <= y),
                _ => true,
            }));
            let found = out_of_order(stats[missing], value, &measured);
            proptest::prop_assert_eq!(found.is_none(), fits, "{:?} beside {:?}: {:?}", (stats[missing], value), measured, found);
        }
    }
}
