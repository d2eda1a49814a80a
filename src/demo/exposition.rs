//! A minimal Prometheus registry for the demo target: fixed-bucket histograms and gauges,
//! rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// One label set of a histogram: per-bucket counts (not cumulative), sum, count.
#[derive(Default)]
struct Series {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

pub struct Histogram {
    name: &'static str,
    help: &'static str,
    bounds: &'static [f64],
    series: Mutex<BTreeMap<String, Series>>,
}

impl Histogram {
    pub const fn new(name: &'static str, help: &'static str, bounds: &'static [f64]) -> Histogram {
        Histogram { name, help, bounds, series: Mutex::new(BTreeMap::new()) }
    }

    /// Exports the series of `labels` with zero counts before its first observation, as client
    /// libraries do for a histogram registered with its labels: a scrape before the first
    /// observation then reads the series (gatecheck takes no window from a scrape that held
    /// none of it).
    pub fn register(&self, labels: &str) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series.entry(labels.to_string()).or_insert_with(|| self.empty_series());
    }

    fn empty_series(&self) -> Series {
        Series { buckets: vec![0; self.bounds.len() + 1], ..Series::default() }
    }

    /// `labels` is the inside of the braces, e.g. `queue="default"` (may be empty).
    pub fn observe(&self, labels: &str, value: f64) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let entry = series.entry(labels.to_string()).or_insert_with(|| self.empty_series());
        let index = self.bounds.iter().position(|b| value <= *b).unwrap_or(self.bounds.len());
        entry.buckets[index] += 1;
        entry.sum += value;
        entry.count += 1;
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} histogram", self.name, self.help, self.name);
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for (labels, Series { buckets: counts, sum, count }) in series.iter() {
            let prefix = if labels.is_empty() { String::new() } else { format!("{labels},") };
            let mut cumulative = 0;
            for (index, bucket) in counts.iter().enumerate() {
                cumulative += bucket;
                let le = self.bounds.get(index).map(|b| b.to_string()).unwrap_or_else(|| "+Inf".into());
                let _ = writeln!(out, "{}_bucket{{{prefix}le=\"{le}\"}} {cumulative}", self.name);
            }
            let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
            let _ = writeln!(out, "{}_sum{braces} {sum}\n{}_count{braces} {count}", self.name, self.name);
        }
    }
}

pub struct Gauge {
    name: &'static str,
    help: &'static str,
    values: Mutex<BTreeMap<String, f64>>,
}

impl Gauge {
    pub const fn new(name: &'static str, help: &'static str) -> Gauge {
        Gauge { name, help, values: Mutex::new(BTreeMap::new()) }
    }

    pub fn set(&self, labels: &str, value: f64) {
        self.values.lock().unwrap_or_else(|e| e.into_inner()).insert(labels.to_string(), value);
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} gauge", self.name, self.help, self.name);
        for (labels, value) in self.values.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
            let _ = writeln!(out, "{}{braces} {value}", self.name);
        }
    }
}
