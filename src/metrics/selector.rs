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
    /// The most tags one sub-metric key may hold. k6's sub-metrics select by a handful of tags
    /// (a flow, a URL, a status); the cost of relating a summary's keys to their parents grows
    /// with their tags (`parts::HeldTagSets`), so a key beyond this is refused where every
    /// reader parses it (finding round35-figures/04: one key of 600 tags kept `verify` busy for
    /// minutes).
    pub const MAX_TAGS: usize = 32;

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
            if tags.len() > Self::MAX_TAGS {
                return Err(format!(
                    "metric {name} has more than {} tags: a k6 sub-metric selects by a handful (limit MetricKey::MAX_TAGS)",
                    Self::MAX_TAGS
                ));
            }
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
        // Finding round35-figures/04: the tags of one key are bounded, where every reader parses it.
        let tags = |n: usize| (0..n).map(|i| format!("t{i}:v")).collect::<Vec<_>>().join(",");
        assert_eq!(MetricKey::parse(&format!("m{{{}}}", tags(MetricKey::MAX_TAGS))).unwrap().tags.len(), 32);
        let why = MetricKey::parse(&format!("m{{{}}}", tags(600))).unwrap_err();
        assert!(why.contains("metric m has more than 32 tags") && !why.contains('\n'), "{why}");
    }
}
