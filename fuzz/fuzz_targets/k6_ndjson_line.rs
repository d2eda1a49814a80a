//! Fuzzes one line of k6 raw results (`--out json`) through `sources::k6_ndjson::read`.
//! The reader only takes paths, so the line is written to a scratch file after fixed Metric
//! records for the metrics the release policy reads (a Point needs its Metric first). The first
//! byte picks strict or `--raw-lenient`: lenient reading of a plain file must never fail, and
//! whatever is accepted must hold finite, consistent figures.
#![no_main]

use gatecheck::metrics::MetricKey;
use gatecheck::sources::k6_ndjson;
use libfuzzer_sys::fuzz_target;

const HEADER: &str = concat!(
    r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"http_req_duration"}"#,
    "\n",
    r#"{"type":"Metric","data":{"name":"http_req_failed","type":"rate","contains":"default","thresholds":[],"submetrics":null},"metric":"http_req_failed"}"#,
    "\n",
    r#"{"type":"Metric","data":{"name":"checks","type":"rate","contains":"default","thresholds":[],"submetrics":null},"metric":"checks"}"#,
    "\n",
    r#"{"type":"Metric","data":{"name":"iterations","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"iterations"}"#,
    "\n",
    r#"{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}"#,
    "\n",
);

fuzz_target!(|data: &[u8]| {
    let Some((&mode, line)) = data.split_first() else { return };
    // One line: everything up to the first newline (the file target covers several).
    let line = line.split(|b| *b == b'\n').next().unwrap_or_default();
    let lenient = mode & 1 == 1;
    // Bit 1 leaves the newline off: a last line k6 did not finish writing.
    let newline = mode & 2 == 0;
    let mut file = HEADER.as_bytes().to_vec();
    file.extend_from_slice(line);
    if newline {
        file.push(b'\n');
    }
    let path = gatecheck_fuzz::write_scratch("line.ndjson", &file);
    let mut wanted = gatecheck_fuzz::release_policy().metric_keys();
    for name in ["http_req_duration", "http_req_failed", "checks", "iterations", "vus"] {
        wanted.push(MetricKey::parse(name).expect("static selector"));
    }
    match k6_ndjson::read(&[path.as_path()], &wanted, lenient) {
        Ok((set, stats)) => {
            // Five Metric records, and the fuzzed line unless it is empty and unterminated.
            let expected = 5 + u64::from(newline || !line.is_empty());
            assert_eq!(stats.lines, expected);
            gatecheck_fuzz::check_raw(set);
        }
        Err(e) => assert!(!lenient, "lenient reading of a plain file failed: {e}"),
    }
});
