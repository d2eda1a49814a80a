//! Inputs: each producer of evidence in its own file. Sources validate what they read and
//! hand the evaluator typed figures with provenance; they never judge.

pub mod age;
pub mod baseline;
pub mod detect;
pub mod digest;
pub mod env;
#[cfg(test)]
mod exact_text_tests;
pub mod history;
pub mod input_series;
pub mod k6_ndjson;
pub mod k6_summary;
pub mod native_plan;
pub mod prometheus;
pub mod scrape;
pub mod segment;
pub mod test_prometheus;
