//! HDR histograms as a native run's summary records them (`histogram_us`, base64 of the V2
//! deflated encoding), turned into weighted samples for significance tests. Decoding (every
//! size checked first) has one home: `metrics::hdr::decode`.

use crate::metrics::Distribution;

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
            let Ok(histogram) = crate::metrics::hdr::decode(&bytes) else { continue };
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
