//! HDR histograms as a native run's summary records them (`histogram_us`, base64 of the V2
//! deflated encoding): decoded from untrusted files with every size checked first, and turned
//! into weighted samples for significance tests.

use crate::metrics::Distribution;

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
    if lowest < 1 || highest > crate::load::recorder::MAX_MICROS || highest < lowest.saturating_mul(2) {
        return Err(format!(
            "range {lowest}..{highest} µs: a native run records 1..{} µs",
            crate::load::recorder::MAX_MICROS
        ));
    }
    let histogram: hdrhistogram::Histogram<u64> =
        hdrhistogram::serialization::Deserializer::new().deserialize(&mut &plain[..]).map_err(|e| format!("{e:?}"))?;
    if histogram.len() > MAX_COUNT {
        return Err(format!("{} samples: more than 2^48", histogram.len()));
    }
    Ok(histogram)
}

/// A native summary's flows: for each flow, its endpoints' latency histograms merged, as a
/// distribution in milliseconds (each bucket's count weighs its highest equivalent value, the
/// value k6_percentile reads for it). Flows whose histograms do not decode are left out.
pub fn flow_distributions(native: &serde_json::Value) -> Vec<(String, Distribution)> {
    use base64::Engine;
    let mut flows = Vec::new();
    for flow in native["recorder"]["flows"].as_array().into_iter().flatten() {
        let Some(name) = flow["name"].as_str() else { continue };
        let mut pairs = Vec::new();
        for endpoint in flow["endpoints"].as_array().into_iter().flatten() {
            let Some(encoded) = endpoint["histogram_us"].as_str() else { continue };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else { continue };
            let Ok(histogram) = decode(&bytes) else { continue };
            for bucket in histogram.iter_recorded() {
                let micros = histogram.highest_equivalent(bucket.value_iterated_to()).min(histogram.max());
                pairs.push((micros as f64 / 1000.0, bucket.count_since_last_iteration() as f64));
            }
        }
        let distribution = Distribution::from_weighted(pairs);
        if !distribution.is_empty() {
            flows.push((name.to_string(), distribution));
        }
    }
    flows
}
