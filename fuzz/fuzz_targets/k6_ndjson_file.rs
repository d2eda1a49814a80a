//! Fuzzes a whole k6 raw results file (`--out json`, gzipped when the input starts with the
//! gzip magic) through `sources::k6_ndjson::read`, which only takes paths: the input is written
//! to a scratch file. A file read strictly must read the same leniently; lenient reading of a
//! plain file never fails; accepted figures are finite and consistent.
#![no_main]

use gatecheck::metrics::MetricKey;
use gatecheck::sources::k6_ndjson;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let gzipped = data.starts_with(&[0x1f, 0x8b]);
    let name = if gzipped { "raw.ndjson.gz" } else { "raw.ndjson" };
    let path = gatecheck_fuzz::write_scratch(name, data);
    let mut wanted = gatecheck_fuzz::release_policy().metric_keys();
    for name in ["http_req_duration", "http_req_failed", "checks", "iterations", "vus"] {
        wanted.push(MetricKey::parse(name).expect("static selector"));
    }
    let strict = k6_ndjson::read(&[path.as_path()], &wanted, false);
    let lenient = k6_ndjson::read(&[path.as_path()], &wanted, true);
    if !gzipped {
        assert!(lenient.is_ok(), "lenient reading of a plain file failed: {:?}", lenient.err());
    }
    if let Ok((set, stats)) = strict {
        let (lenient_set, lenient_stats) = lenient.expect("a file read strictly reads leniently");
        assert_eq!(stats.skipped_bad, 0);
        assert_eq!(stats, lenient_stats);
        assert_eq!(set, lenient_set);
        gatecheck_fuzz::check_raw(set);
    }
});
