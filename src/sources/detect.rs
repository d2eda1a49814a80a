//! The one input-format detector: is a file k6 raw results (NDJSON, `--out json`) or a JSON
//! document (a k6 summary of any shape, or a gatecheck report)? Decided from the content, not
//! the name, so a one-line `JSON.stringify(data)` summary is never taken for raw results.
//!
//! Every k6 output record is an object whose first key is `type` (`Metric` or `Point`) or
//! `metric` (a name: k6 writes points as `{"metric":"…","type":"Point",…}`); no summary or
//! report starts that way (their first keys are `root_group`, `options`, `metrics`, ...). Whitespace between tokens is allowed (a file
//! re-serialized by jq). A `.gz` file is raw results (k6 writes `--out json=FILE.gz`).

use std::io::Read;
use std::path::Path;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// k6 raw results, one JSON record a line (plain or gzip).
    RawResults,
    /// One JSON document: a k6 summary or a gatecheck JSON report.
    Document,
}

/// Detects the format of the file at `path` from its first bytes.
pub fn detect(path: &Path) -> Result<InputFormat, Error> {
    if path.extension().is_some_and(|e| e == "gz") {
        return Ok(InputFormat::RawResults);
    }
    let shown = path.display().to_string();
    // Through the one opener: a FIFO or a directory is refused at once, never waited on.
    let file = crate::input::open(path, "input")?;
    let mut head = Vec::with_capacity(256);
    file.take(256).read_to_end(&mut head).map_err(|source| Error::Read { path: shown, what: "input", source })?;
    Ok(detect_bytes(&head))
}

/// As `detect`, over the first bytes of a file.
pub fn detect_bytes(head: &[u8]) -> InputFormat {
    if starts_like_raw_record(head) {
        InputFormat::RawResults
    } else {
        InputFormat::Document
    }
}

fn starts_like_raw_record(head: &[u8]) -> bool {
    let mut rest = head;
    let mut expect = |token: &[u8]| -> bool {
        rest = trim_start(rest);
        match rest.strip_prefix(token) {
            Some(after) => {
                rest = after;
                true
            }
            None => false,
        }
    };
    if !expect(b"{") {
        return false;
    }
    if expect(b"\"metric\"") {
        return expect(b":") && expect(b"\"");
    }
    if !(expect(b"\"type\"") && expect(b":")) {
        return false;
    }
    let value = trim_start(rest);
    value.starts_with(b"\"Metric\"") || value.starts_with(b"\"Point\"")
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records_in_k6_and_reformatted_layouts() {
        assert_eq!(detect_bytes(br#"{"type":"Metric","data":{}}"#), InputFormat::RawResults);
        assert_eq!(detect_bytes(b"{ \"type\": \"Point\", \"metric\": \"x\"}"), InputFormat::RawResults);
        assert_eq!(detect_bytes(b"\n\n{\n  \"type\" :\"Metric\""), InputFormat::RawResults);
        assert_eq!(detect_bytes(br#"{"metric":"http_reqs","type":"Point","data":{}}"#), InputFormat::RawResults);
        assert_eq!(detect_bytes(br#"{"metrics":{"http_reqs":{"count":1}}}"#), InputFormat::Document);
    }

    #[test]
    fn summaries_and_reports_are_documents_even_on_one_line() {
        let one_line = br#"{"root_group":{"name":"","checks":[]},"metrics":{"checks":{"type":"rate","contains":"default","values":{"rate":1}}}}"#;
        assert_eq!(detect_bytes(one_line), InputFormat::Document);
        assert_eq!(detect_bytes(b"{\n  \"metrics\": {}}"), InputFormat::Document);
        assert_eq!(detect_bytes(br#"{"schema_version":"1","gates":[]}"#), InputFormat::Document);
        assert_eq!(detect_bytes(br#"{"type":"rate"}"#), InputFormat::Document);
        assert_eq!(detect_bytes(b""), InputFormat::Document);
    }
}
