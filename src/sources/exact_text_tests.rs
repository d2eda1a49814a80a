//! Finding round25-figures/02: one rule for every decimal text read from outside
//! (`metrics::exact_figure_text`), checked against every reader with one generator: env
//! figures, k6 JSON numbers, PromQL sample values (vector, scalar, matrix), exposition sample
//! values and `le` bounds, and a recorded window's bounds. A text with more digits than the
//! f64 read is refused by each; the f64's own shortest text is read by each.

use proptest::prelude::*;

/// A figure's shortest text, and the same figure with a non-zero digit far past the 17th
/// significant one (in plain or scientific notation): a text no binary64 holds as written.
fn texts() -> impl Strategy<Value = (String, String)> {
    (1e-6f64..1e12, any::<bool>(), 1u8..10).prop_map(|(value, scientific, digit)| {
        let shortest = if scientific { format!("{value:e}") } else { format!("{value}") };
        let (mantissa, exponent) = match shortest.split_once('e') {
            Some((m, e)) => (m.to_string(), format!("e{e}")),
            None => (shortest.clone(), String::new()),
        };
        let point = if mantissa.contains('.') { "" } else { "." };
        (shortest, format!("{mantissa}{point}000000000000000000000{digit}{exponent}"))
    })
}

/// Every reader's verdict on `text`: Ok when it reads the text as a figure.
fn readers(text: &str) -> Vec<(&'static str, Result<(), String>)> {
    let vector = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"job":"a"}},"value":[1,"{text}"]}}]}}}}"#
    );
    let scalar = format!(r#"{{"status":"success","data":{{"resultType":"scalar","result":[1,"{text}"]}}}}"#);
    let matrix = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[[1,"1"],[2,"{text}"]]}}]}}}}"#
    );
    let exposition_value = format!("x_bucket{{le=\"+Inf\"}} {text}\nx_count {text}\nx_sum 1\n");
    let exposition_le = format!("x_bucket{{le=\"{text}\"}} 1\nx_bucket{{le=\"+Inf\"}} 1\nx_count 1\nx_sum 1\n");
    let window = serde_json::json!({"buckets": [[text, 1.0], ["+Inf", 1.0]], "sum": 1.0, "count": 1.0});
    vec![
        ("env", crate::metrics::figure::parse_figure_text(text).map(|_| ())),
        ("k6 JSON", crate::metrics::check_json_numbers(&format!(r#"{{"p(95)": {text}}}"#))),
        ("PromQL vector", super::prometheus::sample_texts_exact(vector.as_bytes())),
        ("PromQL scalar", super::prometheus::sample_texts_exact(scalar.as_bytes())),
        ("PromQL matrix", super::prometheus::sample_texts_exact(matrix.as_bytes())),
        ("exposition value", super::scrape::parse("u", &exposition_value).map(|_| ()).map_err(|e| e.to_string())),
        ("exposition le", super::scrape::parse("u", &exposition_le).map(|_| ()).map_err(|e| e.to_string())),
        ("recorded window le", crate::metrics::HistogramSnapshot::from_json(&window).map(|_| ())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_reader_refuses_a_text_that_is_not_the_figure_read_and_reads_the_shortest_one(
        (shortest, longer) in texts()
    ) {
        for (reader, verdict) in readers(&shortest) {
            prop_assert!(verdict.is_ok(), "{} refused the shortest text {}: {:?}", reader, shortest, verdict);
        }
        for (reader, verdict) in readers(&longer) {
            prop_assert!(verdict.is_err(), "{} read {} (as {})", reader, longer, longer.parse::<f64>().unwrap());
        }
    }
}
