//! Figures gathered from every source, keyed by metric and tag set, each with its provenance.
//!
//! Sources turn their formats into a `MetricSet`; the evaluator reads only this. A k6
//! sub-metric such as `http_req_duration{flow:auth_list}` is a first-class key (name plus
//! tags), so selectors match however k6 spaced the braces.

mod aggregate;
mod selector;

pub use aggregate::{Aggregate, Lookup, MetricKind, TrendStats};
pub use selector::MetricKey;

use std::collections::BTreeMap;
use std::fmt;

/// Where a figure was read: a file and key, an environment variable, a query, or a scrape.
#[derive(Debug, Clone, PartialEq)]
pub enum Provenance {
    File {
        path: String,
        key: String,
    },
    Env {
        name: String,
    },
    /// A PromQL instant query evaluated at an RFC 3339 time.
    Query {
        query: String,
        at: String,
    },
    /// A histogram on a /metrics endpoint, over the load run's window.
    Scrape {
        url: String,
        metric: String,
    },
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::File { path, key } => write!(f, "{path}: {key}"),
            Provenance::Env { name } => write!(f, "env {name}"),
            Provenance::Query { query, at } => write!(f, "promql @ {at}: {query}"),
            Provenance::Scrape { url, metric } => write!(f, "scrape {url}: {metric} (run window)"),
        }
    }
}

/// k6's own verdict on one threshold expression, as the summary recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct K6Verdict {
    pub expression: String,
    pub passed: bool,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub aggregate: Aggregate,
    /// True for metrics that hold durations in milliseconds (k6's `contains: time`).
    pub is_time: bool,
    pub k6_verdicts: Vec<K6Verdict>,
    pub provenance: Provenance,
}

/// The figures of one evidence file (or one run), with what the file could and could not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSet {
    pub metrics: BTreeMap<MetricKey, Metric>,
    /// The format the figures came from, for messages ("k6 --summary-export", ...).
    pub format: String,
    pub path: String,
    /// False when the format cannot carry threshold verdicts at all (k6's machine-readable summary).
    pub carries_thresholds: bool,
    /// Metrics that this format never includes, with the reason (e.g. `checks{…}` in summary-v1).
    pub omitted: Vec<(String, String)>,
    /// Flows a native run switched off, with what switched them off.
    pub skipped_flows: Vec<(String, String)>,
    /// What reading the evidence met besides figures (e.g. raw lines skipped), for the report.
    pub notes: Vec<String>,
}

impl MetricSet {
    pub fn get(&self, key: &MetricKey) -> Option<&Metric> {
        self.metrics.get(key)
    }

    pub fn k6_verdicts(&self) -> impl Iterator<Item = (&MetricKey, &K6Verdict)> {
        self.metrics.iter().flat_map(|(key, metric)| metric.k6_verdicts.iter().map(move |verdict| (key, verdict)))
    }

    /// Why this format has no such metric, when the format is known to leave it out.
    pub fn omission_reason(&self, key: &MetricKey) -> Option<&str> {
        self.omitted.iter().find(|(prefix, _)| key.name.starts_with(prefix.as_str())).map(|(_, why)| why.as_str())
    }
}
