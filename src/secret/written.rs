//! Text written into a file, scrubbed as it is serialized: the one place every file output of
//! gatecheck — the JSON report (and so the history record), a native run summary, a merged
//! summary — takes its texts through the scrubber. A file's text may quote a credential the job
//! holds (a waiver's reason, finding round16-text/01; a scenario's check, request or scenario
//! name, round18-text/03), and a file outlives the job (an artifact kept for 30 days).
//!
//! A report's text is bounded as shown text is (`secret::bounded`, `escape::SHOWN` characters
//! then `…`) before it is scrubbed: scrubbing a 400 KB k6 threshold name whole kept
//! `verify --report json=…` busy for minutes (finding round33-text/02), and the bytes of the
//! file, scrubbed whole once more (`report::without_credentials`), are then bounded too.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// One text of a report, bounded and scrubbed (`#[serde(serialize_with = "crate::secret::scrubbed")]`).
pub fn scrubbed<T: AsRef<str>, S: Serializer>(text: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&written(text.as_ref()))
}

/// A report's text as written: the rule of shown text (see the module doc).
fn written(text: &str) -> String {
    super::bounded(text, crate::escape::SHOWN)
}

/// `scrubbed` for a text that may be absent.
pub fn scrubbed_option<T: AsRef<str>, S: Serializer>(text: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(text) => scrubbed(text, serializer),
        None => serializer.serialize_none(),
    }
}

/// `scrubbed` for each text of a list.
pub fn scrubbed_list<S: Serializer>(texts: &&[String], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(texts.iter().map(|text| written(text)))
}

/// A JSON document as a file holds it: every string and every key scrubbed (a summary keys its
/// figures and checks by names from the scenario). Numbers, booleans and the shape are kept,
/// and so is every text whole: a summary is data gatecheck reads back (`merge`), where a text
/// cut would be another name.
pub struct ScrubbedJson<'a>(pub &'a Value);

impl Serialize for ScrubbedJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => serializer.serialize_str(&super::scrub(text)),
            Value::Array(items) => serializer.collect_seq(items.iter().map(ScrubbedJson)),
            Value::Object(map) => {
                serializer.collect_map(map.iter().map(|(key, value)| (super::scrub(key), ScrubbedJson(value))))
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_and_key_is_scrubbed_and_the_rest_kept() {
        let token = "written-canary-9c8b7a6d";
        super::super::remember(token);
        let document = serde_json::json!({
            format!("checks{{name:as {token}}}"): {"name": format!("as {token}"), "passes": 3, "ok": true,
                "list": [format!("{token}"), 1.5, null]},
        });
        let text = serde_json::to_string(&ScrubbedJson(&document)).unwrap();
        super::super::forget(token);
        assert_eq!(text, r#"{"checks{name:as ***}":{"list":["***",1.5,null],"name":"as ***","ok":true,"passes":3}}"#);
    }
}
