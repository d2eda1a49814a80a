//! The four k6 metric kinds and the statistics each can answer.

use std::collections::BTreeMap;
use std::fmt;

use crate::metrics::figure::{Dimension, Domain, Stat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Trend,
    Rate,
    Counter,
    Gauge,
}

impl MetricKind {
    pub fn parse(text: &str) -> Option<MetricKind> {
        match text {
            "trend" => Some(MetricKind::Trend),
            "rate" => Some(MetricKind::Rate),
            "counter" => Some(MetricKind::Counter),
            "gauge" => Some(MetricKind::Gauge),
            _ => None,
        }
    }

    /// The kind k6 gives its built-in metrics, so policies need not spell it out.
    pub fn of_builtin(name: &str) -> Option<MetricKind> {
        match name {
            "http_req_duration"
            | "http_req_blocked"
            | "http_req_connecting"
            | "http_req_tls_handshaking"
            | "http_req_sending"
            | "http_req_waiting"
            | "http_req_receiving"
            | "iteration_duration"
            | "group_duration" => Some(MetricKind::Trend),
            "http_req_failed" | "checks" => Some(MetricKind::Rate),
            "http_reqs" | "iterations" | "data_sent" | "data_received" | "dropped_iterations" => {
                Some(MetricKind::Counter)
            }
            "vus" | "vus_max" => Some(MetricKind::Gauge),
            _ => None,
        }
    }

    pub fn allowed_stats(self) -> &'static str {
        match self {
            MetricKind::Trend => "avg, min, med, max, count, p(N)",
            MetricKind::Rate => "rate",
            MetricKind::Counter => "count, rate",
            MetricKind::Gauge => "value, min, max",
        }
    }

    pub fn accepts(self, stat: Stat) -> bool {
        match self {
            MetricKind::Trend => {
                matches!(stat, Stat::Avg | Stat::Min | Stat::Med | Stat::Max | Stat::Count | Stat::Percentile(_))
            }
            MetricKind::Rate => stat == Stat::Rate,
            MetricKind::Counter => matches!(stat, Stat::Count | Stat::Rate),
            MetricKind::Gauge => matches!(stat, Stat::Value | Stat::Min | Stat::Max),
        }
    }

    /// The values `stat` can take on a metric of this kind.
    pub fn domain(self, stat: Stat) -> Domain {
        match (self, stat) {
            (MetricKind::Rate, _) => Domain::UNIT_INTERVAL,
            (MetricKind::Trend, Stat::Count) | (MetricKind::Counter, _) => Domain::NON_NEGATIVE,
            // Custom trends may hold negative numbers; k6's time trends are checked on input.
            (MetricKind::Trend, _) => Domain::ANY,
            (MetricKind::Gauge, _) => Domain::ANY,
        }
    }

    /// The scale of `stat` on a metric of this kind; `is_time` marks millisecond trends.
    pub fn dimension(self, stat: Stat, is_time: bool) -> Dimension {
        match (self, stat) {
            (MetricKind::Trend, Stat::Count) => Dimension::Plain,
            (MetricKind::Trend, _) if is_time => Dimension::Duration { bare_millis: 1.0 },
            (MetricKind::Rate, _) => Dimension::Ratio,
            _ => Dimension::Plain,
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricKind::Trend => "trend",
            MetricKind::Rate => "rate",
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        })
    }
}

/// Trend statistics keyed by k6's canonical stat key (`avg`, `p(95)`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendStats(pub BTreeMap<String, f64>);

#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    Trend(TrendStats),
    /// `matches` are non-zero samples: failed requests for `http_req_failed`, passed checks for `checks`.
    Rate {
        matches: u64,
        total: u64,
    },
    Counter {
        count: f64,
        per_second: Option<f64>,
    },
    Gauge {
        /// The latest sample; None when the run's raw files hold samples of different value at
        /// its latest time (two runners): then no one value is the gauge's (`UNDEFINED_GAUGE`).
        value: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
    },
}

/// Why a gauge over several raw files has no value (finding round34-figures/02).
pub const UNDEFINED_GAUGE: &str = "its latest samples (the same latest time, in different raw files: two runners) \
     differ, so no one of them is the gauge's value; the value of a gauge read from several files is its sample with \
     the latest time, whatever the order of the files";

/// What a statistic lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Value(f64),
    /// The metric exists but has no samples (k6 still writes it, with zeros).
    Empty,
    /// The statistic has no one value in this evidence; the text says why.
    Undefined(&'static str),
    /// The metric has samples but this statistic was not written.
    Absent,
}

impl Aggregate {
    pub fn kind(&self) -> MetricKind {
        match self {
            Aggregate::Trend(_) => MetricKind::Trend,
            Aggregate::Rate { .. } => MetricKind::Rate,
            Aggregate::Counter { .. } => MetricKind::Counter,
            Aggregate::Gauge { .. } => MetricKind::Gauge,
        }
    }

    /// An empty k6 trend is written with every statistic 0; a real one cannot have max 0 and
    /// a positive count, so "all zero" or "count 0" means no samples.
    pub fn is_empty(&self) -> bool {
        match self {
            Aggregate::Trend(stats) => match stats.0.get("count") {
                Some(count) => *count == 0.0,
                None => !stats.0.is_empty() && stats.0.values().all(|v| *v == 0.0),
            },
            Aggregate::Rate { total, .. } => *total == 0,
            Aggregate::Counter { .. } | Aggregate::Gauge { .. } => false,
        }
    }

    /// The one rule of "these figures show no sample": an empty trend or rate (`is_empty`), or a
    /// counter or gauge whose every field is 0 — k6 writes a counter or gauge that got no
    /// sample so (`{count:0,rate:0}`, `{value:0,min:0,max:0}`), and figures cannot tell that
    /// from samples that were all 0. Whether a flow ran (`policy::evaluate::flow_measured`)
    /// and whether a summary's sub-metric holds a figure (`MetricSet::lookup`) both read it.
    pub fn shows_no_sample(&self) -> bool {
        let zero = |field: &Option<f64>| field.is_none_or(|v| v == 0.0);
        match self {
            Aggregate::Counter { count, per_second } => *count == 0.0 && zero(per_second),
            Aggregate::Gauge { value, min, max } => *value == Some(0.0) && zero(min) && zero(max),
            other => other.is_empty(),
        }
    }

    pub fn lookup(&self, stat: Stat) -> Lookup {
        if self.is_empty() {
            return Lookup::Empty;
        }
        let found = match (self, stat) {
            (Aggregate::Trend(stats), Stat::Percentile(50.0)) => {
                stats.0.get(&stat.key()).or_else(|| stats.0.get("med")).copied()
            }
            (Aggregate::Trend(stats), Stat::Med) => stats.0.get("med").or_else(|| stats.0.get("p(50)")).copied(),
            (Aggregate::Trend(stats), _) => stats.0.get(&stat.key()).copied(),
            (Aggregate::Rate { matches, total }, Stat::Rate) => Some(*matches as f64 / *total as f64),
            (Aggregate::Counter { count, .. }, Stat::Count) => Some(*count),
            (Aggregate::Counter { per_second, .. }, Stat::Rate) => *per_second,
            (Aggregate::Gauge { value: None, .. }, Stat::Value) => return Lookup::Undefined(UNDEFINED_GAUGE),
            (Aggregate::Gauge { value, .. }, Stat::Value) => *value,
            (Aggregate::Gauge { min, .. }, Stat::Min) => *min,
            (Aggregate::Gauge { max, .. }, Stat::Max) => *max,
            _ => None,
        };
        found.map_or(Lookup::Absent, Lookup::Value)
    }

    /// How many samples stand behind the figure, where the format says.
    pub fn sample_count(&self) -> Option<u64> {
        match self {
            Aggregate::Rate { total, .. } => Some(*total),
            Aggregate::Trend(stats) => stats.0.get("count").map(|c| *c as u64),
            _ => None,
        }
    }
}
