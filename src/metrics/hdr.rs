//! HdrHistogram encodings as native runs write them (V2, deflated, base64 in JSON), read from
//! untrusted files, and a histogram's buckets as weighted samples. Here, at the ground layer,
//! because both the merge of native runs and the summary reader decode them.

use crate::metrics::{Distribution, Stat};

/// The highest latency a native run records, in microseconds (an hour).
pub const MAX_MICROS: u64 = 3_600_000_000;
/// Counts above this are not from a run (2^48 requests); bounding them keeps sums exact.
pub const MAX_COUNT: u64 = 1 << 48;

/// Ours decode to a few KiB; a crafted input must not make us allocate more than this.
const MAX_DECODED_HISTOGRAM: usize = 16 << 20;
/// The V2 cookies with the 0x10 word-size bits the library writes and expects.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;

/// Decodes an HdrHistogram V2 (optionally deflated) encoding from an untrusted file. The
/// library trusts its header: a declared payload length becomes an allocation, and the range
/// and precision size the counts array. Both are checked here first against what a native run
/// writes, so a crafted file is an error, never an abort.
pub fn decode(bytes: &[u8]) -> Result<hdrhistogram::Histogram<u64>, String> {
    use std::io::Read;
    let u32_at = |data: &[u8], at: usize| -> Result<u32, String> {
        let field = data.get(at..at + 4).ok_or("truncated header")?;
        Ok(u32::from_be_bytes([field[0], field[1], field[2], field[3]]))
    };
    let u64_at = |data: &[u8], at: usize| -> Result<u64, String> {
        Ok(u64::from(u32_at(data, at)?) << 32 | u64::from(u32_at(data, at + 4)?))
    };
    let plain: std::borrow::Cow<[u8]> = match u32_at(bytes, 0)? {
        V2_COOKIE => bytes.into(),
        V2_DEFLATE_COOKIE => {
            let declared = u32_at(bytes, 4)? as usize;
            let compressed = &bytes[8..];
            if declared > compressed.len() {
                return Err(format!("declares {declared} compressed bytes but holds {}", compressed.len()));
            }
            let mut plain = Vec::new();
            flate2::read::ZlibDecoder::new(&compressed[..declared])
                .take(MAX_DECODED_HISTOGRAM as u64 + 1)
                .read_to_end(&mut plain)
                .map_err(|e| format!("bad deflate data: {e}"))?;
            if plain.len() > MAX_DECODED_HISTOGRAM {
                return Err(format!("inflates to more than {} MiB", MAX_DECODED_HISTOGRAM >> 20));
            }
            plain.into()
        }
        _ => return Err("not an HdrHistogram V2 encoding".into()),
    };
    // V2 header: cookie, payload length, normalizing offset, significant digits (u32 each),
    // lowest and highest trackable value (u64 each), integer-to-double ratio (f64).
    const HEADER: usize = 40;
    if u32_at(&plain, 0)? != V2_COOKIE || plain.len() < HEADER {
        return Err("not an HdrHistogram V2 encoding".into());
    }
    let payload = u32_at(&plain, 4)? as usize;
    if payload > plain.len() - HEADER {
        return Err(format!("declares a {payload}-byte payload but holds {}", plain.len() - HEADER));
    }
    let digits = u32_at(&plain, 12)?;
    let (lowest, highest) = (u64_at(&plain, 16)?, u64_at(&plain, 24)?);
    if digits > 5 {
        return Err(format!("{digits} significant digits: at most 5"));
    }
    if lowest < 1 || highest > MAX_MICROS || highest < lowest.saturating_mul(2) {
        return Err(format!("range {lowest}..{highest} µs: a native run records 1..{} µs", MAX_MICROS));
    }
    check_counts(&plain[HEADER..HEADER + payload])?;
    let histogram: hdrhistogram::Histogram<u64> =
        hdrhistogram::serialization::Deserializer::new().deserialize(&mut &plain[..]).map_err(|e| format!("{e:?}"))?;
    if histogram.len() > MAX_COUNT {
        return Err(format!("{} samples: more than 2^48", histogram.len()));
    }
    Ok(histogram)
}

/// A trillion requests in one histogram: real runs stay far below, and sums over up to 2^23
/// shards stay below i64::MAX, the most hdrhistogram can count and serialize. merge holds the
/// union of shards to it too, so a summary it writes decodes again.
pub const MAX_TOTAL: u64 = 1 << 40;

/// Walks the counts (LEB128-64b9B varints, zig-zag encoded) before hdrhistogram does: a
/// zig-zag i64::MIN made its decoder negate it (a panic with overflow checks), and counts near
/// u64::MAX overflowed its sums and, once merged, its serializer. Fuzzing found both.
fn check_counts(payload: &[u8]) -> Result<(), String> {
    let mut rest = payload;
    let mut total = 0u64;
    while !rest.is_empty() {
        let (mut value, mut used) = (0u64, 0);
        for (index, byte) in rest.iter().take(9).enumerate() {
            used = index + 1;
            if index == 8 {
                // The ninth byte holds 8 bits.
                value |= u64::from(*byte) << 56;
                break;
            }
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                break;
            }
        }
        // Zig-zag: even values are counts (value / 2), odd ones runs of empty buckets.
        total = total.saturating_add(if value % 2 == 0 { value / 2 } else { 0 });
        if value == u64::MAX || total > MAX_TOTAL {
            return Err("holds a count out of range".into());
        }
        rest = &rest[used..];
    }
    Ok(())
}

/// Each recorded bucket of a histogram as (value, count): the value every sample of the bucket
/// stands for is the bucket's highest equivalent value, capped at the largest recorded. The one
/// rule for the native summary's percentiles, the samples significance reads, and remote-write.
pub fn buckets(histogram: &hdrhistogram::Histogram<u64>) -> impl Iterator<Item = (u64, u64)> + '_ {
    histogram.iter_recorded().map(|bucket| {
        let value = histogram.highest_equivalent(bucket.value_iterated_to()).min(histogram.max());
        (value, bucket.count_since_last_iteration())
    })
}

/// k6's percentile of the recorded values (microseconds): with the values sorted, the rank is
/// `p/100 * (n - 1)` and the figure is interpolated linearly between the two closest ranks.
/// Each recorded value stands for its HDR bucket's highest equivalent value.
pub fn k6_percentile(histogram: &hdrhistogram::Histogram<u64>, percentile: f64) -> f64 {
    let count = histogram.len();
    if count == 0 {
        return 0.0;
    }
    let rank = (percentile / 100.0).clamp(0.0, 1.0) * (count - 1) as f64;
    let lower_rank = rank.floor() as u64;
    let fraction = rank - lower_rank as f64;
    let (mut lower, mut upper) = (None, None);
    let mut seen = 0u64;
    for (value, bucket_count) in buckets(histogram) {
        let value = value as f64;
        let next = seen + bucket_count;
        if lower.is_none() && lower_rank < next {
            lower = Some(value);
        }
        if lower_rank + 1 < next {
            upper = Some(value);
            break;
        }
        seen = next;
    }
    let lower = lower.unwrap_or(histogram.max() as f64);
    let upper = upper.unwrap_or(lower);
    lower + (upper - lower) * fraction
}

/// The statistics a native run writes for each latency trend, in the order it writes them.
pub const TREND_STATS: [Stat; 9] = [
    Stat::Avg,
    Stat::Min,
    Stat::Med,
    Stat::Max,
    Stat::Percentile(90.0),
    Stat::Percentile(95.0),
    Stat::Percentile(99.0),
    Stat::Percentile(99.9),
    Stat::Count,
];

/// A statistic of a latency trend (ms; count as a number) from its histogram (µs): the one
/// computation behind the figures a native run writes and the reader's check that a native
/// summary's figures are its histograms' (`None`: a histogram gives no rate or value).
pub fn trend_stat(histogram: &hdrhistogram::Histogram<u64>, stat: Stat) -> Option<f64> {
    let ms = |micros: u64| micros as f64 / 1000.0;
    Some(match stat {
        // Every sample stands for its bucket's highest equivalent value (`buckets`), as for the
        // percentiles: hdrhistogram's own mean takes each bucket's middle, up to half a bucket
        // below the samples, so an `avg < L` gate could pass samples at or above L.
        Stat::Avg => {
            let count = histogram.len();
            if count == 0 {
                return Some(0.0);
            }
            let sum: u128 = buckets(histogram).map(|(micros, n)| u128::from(micros) * u128::from(n)).sum();
            sum as f64 / count as f64 / 1000.0
        }
        Stat::Min => ms(histogram.min()),
        Stat::Med => k6_percentile(histogram, 50.0) / 1000.0,
        Stat::Max => ms(histogram.max()),
        Stat::Percentile(p) => k6_percentile(histogram, p) / 1000.0,
        Stat::Count => histogram.len() as f64,
        Stat::Rate | Stat::Value => return None,
    })
}

/// A histogram of microseconds as weighted samples in milliseconds (see `buckets`).
pub fn distribution(histogram: &hdrhistogram::Histogram<u64>) -> Distribution {
    Distribution::from_weighted(buckets(histogram).map(|(micros, count)| (micros as f64 / 1000.0, count as f64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_become_weighted_samples_in_milliseconds() {
        let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3).unwrap();
        assert!(distribution(&histogram).is_empty());
        histogram.record_n(250_000, 3).unwrap();
        histogram.record(1_234).unwrap();
        let samples = distribution(&histogram);
        assert_eq!(samples.count(), 4.0);
        let points = samples.points();
        assert_eq!(points.len(), 2);
        // Each within the recorder's 3 significant digits, the largest exactly the max.
        assert!((points[0].0 - 1.234).abs() <= 1.234e-3 && points[0].1 == 1.0, "{points:?}");
        assert_eq!(points[1], (histogram.max() as f64 / 1000.0, 3.0));
    }

    proptest::proptest! {
        /// The class of the round-32 review's note on native averages: every statistic of a
        /// native trend reads each sample as its bucket's highest equivalent, so none reads
        /// below the samples it stands for — the average is never below the samples' own mean
        /// (an `avg < L` gate never passes samples whose mean is L or more), nor above the max.
        #[test]
        fn a_native_average_never_reads_below_the_samples_mean(
            samples in proptest::collection::vec(1u64..MAX_MICROS, 1..64),
        ) {
            let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3).unwrap();
            for micros in &samples {
                histogram.record(*micros).unwrap();
            }
            let mean_ms = samples.iter().map(|m| u128::from(*m)).sum::<u128>() as f64 / samples.len() as f64 / 1000.0;
            let avg = trend_stat(&histogram, Stat::Avg).unwrap();
            proptest::prop_assert!(avg >= mean_ms * (1.0 - 1e-12), "avg {} below the samples' mean {}", avg, mean_ms);
            proptest::prop_assert!(avg <= trend_stat(&histogram, Stat::Max).unwrap() * (1.0 + 1e-12));
        }
    }

    /// Samples all at 400.1 ms: hdrhistogram's mean (its bucket's middle) reads them below
    /// 400.1, the native average may not.
    #[test]
    fn samples_at_a_limit_average_at_least_the_limit() {
        let mut histogram = hdrhistogram::Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3).unwrap();
        histogram.record_n(400_100, 10).unwrap();
        assert!(histogram.mean() < 400_100.0, "the library's mean is the bucket's middle: {}", histogram.mean());
        assert!(trend_stat(&histogram, Stat::Avg).unwrap() >= 400.1);
    }
}
