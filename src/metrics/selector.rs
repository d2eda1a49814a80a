//! Metric selectors: `name` or `name{tag:value,...}`, k6's sub-metric syntax.
//!
//! k6 keeps the selector text as written (inner spaces included), so keys are compared on
//! the parsed name and tag set rather than on the text.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    pub name: String,
    pub tags: BTreeMap<String, String>,
}

impl MetricKey {
    pub fn parse(selector: &str) -> Result<MetricKey, String> {
        let selector = selector.trim();
        let (name, tags_text) = match selector.find('{') {
            Some(open) => {
                let inner = selector[open + 1..]
                    .strip_suffix('}')
                    .ok_or_else(|| format!("selector {selector:?} opens '{{' but does not end with '}}'"))?;
                (&selector[..open], Some(inner))
            }
            None => (selector, None),
        };
        let name = name.trim();
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(format!(
                "metric name {name:?} in {selector:?} is not a k6 metric name (letters, digits and _, not starting with a digit)"
            ));
        }
        let mut tags = BTreeMap::new();
        for pair in tags_text.into_iter().flat_map(|t| t.split(',')) {
            if pair.trim().is_empty() {
                continue;
            }
            let (key, value) = pair
                .split_once(':')
                .ok_or_else(|| format!("tag {:?} in {selector:?} is not key:value", pair.trim()))?;
            // k6's own rule (ParseMetricName): quotes are trimmed, then spaces, so
            // `{flow:"auth_list"}` is `{flow:auth_list}` — one selector, never two figures.
            let unquote = |text: &str| text.trim_matches(['"', '\'']).trim().to_string();
            let key = unquote(key);
            if key.is_empty() {
                return Err(format!("tag {:?} in {selector:?} has an empty key", pair.trim()));
            }
            tags.insert(key, unquote(value));
        }
        Ok(MetricKey { name: name.to_string(), tags })
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}

impl fmt::Display for MetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.tags.is_empty() {
            let pairs: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            write!(f, "{{{}}}", pairs.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_inside_braces_does_not_matter() {
        let a = MetricKey::parse("probe_trend{kind : a}").unwrap();
        let b = MetricKey::parse("probe_trend{kind:a}").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "probe_trend{kind:a}");
        // Quoted as k6 allows: quotes trimmed first, then spaces, exactly as k6 does.
        assert_eq!(MetricKey::parse("probe_trend{kind:\"a\"}").unwrap(), b);
        assert_eq!(MetricKey::parse("probe_trend{'kind':'a'}").unwrap(), b);
        let multi = MetricKey::parse("http_req_duration{flow:auth_list,status:200}").unwrap();
        assert_eq!(multi.tag("status"), Some("200"));
        assert_eq!(MetricKey::parse("http_reqs").unwrap().tags.len(), 0);
    }

    #[test]
    fn rejects_broken_selectors() {
        assert!(MetricKey::parse("http_req_duration{flow:auth_list").unwrap_err().contains("does not end"));
        assert!(MetricKey::parse("http_req_duration{flow}").unwrap_err().contains("key:value"));
        assert!(MetricKey::parse("9lives").unwrap_err().contains("not a k6 metric name"));
        assert!(MetricKey::parse("").is_err());
    }
}
