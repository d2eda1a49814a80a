//! k6 summaries, every JSON shape k6 writes, detected from the content.
//!
//! - `--summary-export` (legacy): `metrics` maps a selector to flat values, no `type`, and a
//!   `thresholds` map whose boolean means FAILED.
//! - `handleSummary(data)`: `metrics[name] = {type, contains, values, thresholds: {expr: {ok}}}`;
//!   here `ok: true` means PASSED — the opposite polarity.
//! - k6 >= 1.5 machine-readable summary: `results.metrics` is a list, trend keys are `p90`/`p95`
//!   (or `p(95)`), `null` for stats not computed, no thresholds and no `checks{…}` sub-metrics.
//!
//! Values are validated here (numbers, finite, durations not negative) so a broken file is an
//! input error naming the key, never a silent pass.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::metrics::{Aggregate, K6Verdict, Metric, MetricKey, MetricKind, MetricSet, Provenance, TrendStats};

pub const FORMAT_EXPORT: &str = "k6 --summary-export";
pub const FORMAT_HANDLE_SUMMARY: &str = "k6 handleSummary data";
pub const FORMAT_MACHINE_READABLE: &str = "k6 machine-readable summary (k6 >= 1.5)";
pub const FORMAT_NATIVE: &str = "gatecheck native run (k6 --summary-export shape)";

/// Reads and parses a k6 summary file of any shape.
pub fn read(path: &Path) -> Result<MetricSet, Error> {
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|source| Error::Read { path: shown.clone(), what: "k6 summary", source })?;
    parse(&shown, &bytes)
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<MetricSet, Error> {
    let fail = |message: String| Error::Evidence { path: path.to_string(), message };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail("the file is empty: expected a k6 JSON summary".into()));
    }
    let document: Value = serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_eof() { "truncated JSON" } else { "not valid JSON" };
        fail(format!("{what} ({e}): expected a k6 JSON summary"))
    })?;
    let reader = Reader { path };
    let root = document
        .as_object()
        .ok_or_else(|| fail(format!("top level is {}, expected a JSON object (a k6 summary)", type_name(&document))))?;
    if let Some(results) = root.get("results") {
        return reader.machine_readable(root, results);
    }
    let metrics = match root.get("metrics") {
        Some(Value::Object(metrics)) => metrics,
        Some(other) => {
            return Err(fail(format!("\"metrics\" is {}, expected an object keyed by metric name", type_name(other))))
        }
        None => {
            return Err(fail(
                "JSON of an unknown shape: expected a k6 summary with a top-level \"metrics\" object \
                 (--summary-export or handleSummary) or \"results.metrics\" list (k6 >= 1.5 machine-readable summary)"
                    .into(),
            ))
        }
    };
    let is_handle_summary = metrics.values().any(|m| m.get("values").is_some() && m.get("type").is_some());
    let mut set = if is_handle_summary { reader.handle_summary(metrics)? } else { reader.export(metrics)? };
    // gatecheck's native runner adds a `gatecheck` block; k6 never writes one.
    if let Some(native) = root.get("gatecheck") {
        set.format = FORMAT_NATIVE.into();
        // It holds figures only: gatecheck judges them itself, there are no k6 verdicts to enforce.
        set.carries_thresholds = false;
        for entry in native.get("skipped_flows").and_then(Value::as_array).into_iter().flatten() {
            let flow = entry.get("flow").and_then(Value::as_str);
            let because = entry.get("because").and_then(Value::as_str).unwrap_or("switched off");
            if let Some(flow) = flow {
                set.skipped_flows.push((flow.to_string(), because.to_string()));
            }
        }
    }
    Ok(set)
}

struct Reader<'a> {
    path: &'a str,
}

impl Reader<'_> {
    fn error(&self, key: &str, message: impl std::fmt::Display) -> Error {
        Error::Evidence { path: self.path.to_string(), message: format!("{key}: {message}") }
    }

    fn provenance(&self, key: String) -> Provenance {
        Provenance::File { path: self.path.to_string(), key }
    }

    fn number(&self, key: &str, value: &Value) -> Result<f64, Error> {
        let number =
            value.as_f64().ok_or_else(|| self.error(key, format!("expected a number, got {}", type_name(value))))?;
        if !number.is_finite() {
            return Err(self.error(key, "expected a finite number"));
        }
        Ok(number)
    }

    fn count(&self, key: &str, value: &Value) -> Result<u64, Error> {
        let number = self.number(key, value)?;
        if number < 0.0 || number.fract() != 0.0 {
            return Err(self.error(key, format!("expected a whole, non-negative count, got {number}")));
        }
        Ok(number as u64)
    }

    fn object<'v>(&self, key: &str, value: &'v Value) -> Result<&'v Map<String, Value>, Error> {
        value.as_object().ok_or_else(|| self.error(key, format!("expected an object, got {}", type_name(value))))
    }

    fn metric_key(&self, key: &str, selector: &str) -> Result<MetricKey, Error> {
        MetricKey::parse(selector).map_err(|why| self.error(key, why))
    }

    /// The legacy export: no `type`, so the kind is inferred from which keys are present.
    fn export(&self, metrics: &Map<String, Value>) -> Result<MetricSet, Error> {
        let mut set = self.empty_set(FORMAT_EXPORT, true);
        for (selector, body) in metrics {
            let key = format!("metrics[\"{selector}\"]");
            let fields = self.object(&key, body)?;
            let metric_key = self.metric_key(&key, selector)?;
            let has = |name: &str| fields.contains_key(name);
            let kind = if has("passes") || has("fails") {
                MetricKind::Rate
            } else if has("count") && has("rate") && !has("avg") {
                MetricKind::Counter
            } else if has("value") && !has("avg") {
                MetricKind::Gauge
            } else if has("avg") || has("med") || fields.keys().any(|k| k.starts_with("p(")) {
                MetricKind::Trend
            } else {
                return Err(self.error(&key, "cannot tell the metric kind: expected trend stats (avg, p(95), ...), rate (passes, fails), counter (count, rate) or gauge (value) fields"));
            };
            let is_time = is_time_metric(&metric_key.name);
            let aggregate = self.aggregate(&key, kind, fields, is_time)?;
            let mut verdicts = Vec::new();
            if let Some(thresholds) = fields.get("thresholds") {
                let thresholds_key = format!("{key}.thresholds");
                for (expression, crossed) in self.object(&thresholds_key, thresholds)? {
                    let expr_key = format!("{thresholds_key}[\"{expression}\"]");
                    // In the export the boolean means "crossed": true is a FAILED threshold.
                    let crossed = crossed.as_bool().ok_or_else(|| {
                        self.error(
                            &expr_key,
                            format!("expected true (failed) or false (passed), got {}", type_name(crossed)),
                        )
                    })?;
                    verdicts.push(K6Verdict {
                        expression: expression.clone(),
                        passed: !crossed,
                        provenance: self.provenance(expr_key),
                    });
                }
            }
            set.metrics.insert(
                metric_key,
                Metric { aggregate, is_time, k6_verdicts: verdicts, provenance: self.provenance(key) },
            );
        }
        Ok(set)
    }

    fn handle_summary(&self, metrics: &Map<String, Value>) -> Result<MetricSet, Error> {
        let mut set = self.empty_set(FORMAT_HANDLE_SUMMARY, true);
        for (selector, body) in metrics {
            let key = format!("metrics[\"{selector}\"]");
            let fields = self.object(&key, body)?;
            let metric_key = self.metric_key(&key, selector)?;
            let mut metric = self.typed_metric(&key, fields)?;
            if let Some(thresholds) = fields.get("thresholds") {
                let thresholds_key = format!("{key}.thresholds");
                for (expression, result) in self.object(&thresholds_key, thresholds)? {
                    let expr_key = format!("{thresholds_key}[\"{expression}\"]");
                    // handleSummary's `ok` is the opposite polarity of the export's boolean: true = passed.
                    let ok = result
                        .get("ok")
                        .and_then(Value::as_bool)
                        .ok_or_else(|| self.error(&expr_key, "expected {\"ok\": true|false}"))?;
                    metric.k6_verdicts.push(K6Verdict {
                        expression: expression.clone(),
                        passed: ok,
                        provenance: self.provenance(format!("{expr_key}.ok")),
                    });
                }
            }
            set.metrics.insert(metric_key, metric);
        }
        Ok(set)
    }

    fn machine_readable(&self, root: &Map<String, Value>, results: &Value) -> Result<MetricSet, Error> {
        let mut set = self.empty_set(FORMAT_MACHINE_READABLE, false);
        set.omitted.push((
            "checks".into(),
            "k6's machine-readable summary (k6 >= 1.5) never includes checks{…} sub-metrics; \
             use --summary-export without --new-machine-readable-summary"
                .into(),
        ));
        if let Some(version) = root.get("version").and_then(Value::as_str) {
            if !version.starts_with("1.") {
                return Err(self.error(
                    "version",
                    format!("machine-readable summary schema {version:?} is not supported: expected 1.x"),
                ));
            }
        }
        let results = self.object("results", results)?;
        let list = results
            .get("metrics")
            .and_then(Value::as_array)
            .ok_or_else(|| self.error("results.metrics", "expected a list of metrics"))?;
        for (index, entry) in list.iter().enumerate() {
            let key = format!("results.metrics[{index}]");
            let fields = self.object(&key, entry)?;
            let selector = fields
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| self.error(&key, "expected a \"name\" string"))?;
            let key = format!("results.metrics[name=\"{selector}\"]");
            let metric_key = self.metric_key(&key, selector)?;
            set.metrics.insert(metric_key, self.typed_metric(&key, fields)?);
        }
        // The overall check rate is only in results.checks.metrics (as checks_succeeded).
        if let Some(check_metrics) = results.get("checks").and_then(|c| c.get("metrics")).and_then(Value::as_array) {
            for entry in check_metrics {
                if entry.get("name").and_then(Value::as_str) == Some("checks_succeeded") {
                    let key = "results.checks.metrics[name=\"checks_succeeded\"].values".to_string();
                    let values = self.object(&key, entry.get("values").unwrap_or(&Value::Null))?;
                    let aggregate = self.aggregate(&key, MetricKind::Rate, values, false)?;
                    let metric =
                        Metric { aggregate, is_time: false, k6_verdicts: Vec::new(), provenance: self.provenance(key) };
                    set.metrics.insert(MetricKey { name: "checks".into(), tags: BTreeMap::new() }, metric);
                }
            }
        }
        Ok(set)
    }

    /// A metric entry that states its `type`, `contains` and `values` (handleSummary and the
    /// machine-readable summary); k6 verdicts are added by the caller.
    fn typed_metric(&self, key: &str, fields: &Map<String, Value>) -> Result<Metric, Error> {
        let kind = self.kind_field(key, fields)?;
        let is_time = fields.get("contains").and_then(Value::as_str) == Some("time");
        let values_key = format!("{key}.values");
        let values = self.object(&values_key, fields.get("values").unwrap_or(&Value::Null))?;
        let aggregate = self.aggregate(&values_key, kind, values, is_time)?;
        Ok(Metric { aggregate, is_time, k6_verdicts: Vec::new(), provenance: self.provenance(values_key) })
    }

    fn kind_field(&self, key: &str, fields: &Map<String, Value>) -> Result<MetricKind, Error> {
        let text = fields.get("type").and_then(Value::as_str).unwrap_or("");
        MetricKind::parse(text).ok_or_else(|| {
            self.error(
                &format!("{key}.type"),
                format!("unknown metric type {text:?}: expected trend, rate, counter or gauge"),
            )
        })
    }

    fn aggregate(
        &self,
        key: &str,
        kind: MetricKind,
        values: &Map<String, Value>,
        is_time: bool,
    ) -> Result<Aggregate, Error> {
        let field = |name: &str| values.get(name).filter(|v| !v.is_null());
        let required =
            |name: &str| field(name).ok_or_else(|| self.error(key, format!("{kind} metric has no \"{name}\"")));
        let value_key = |name: &str| format!("{key}[\"{name}\"]");
        Ok(match kind {
            MetricKind::Trend => {
                let mut stats = BTreeMap::new();
                for (name, value) in values {
                    if name == "thresholds" || value.is_null() {
                        continue;
                    }
                    let number = self.number(&value_key(name), value)?;
                    if is_time && number < 0.0 {
                        return Err(self.error(&value_key(name), format!("negative duration {number} ms")));
                    }
                    stats.insert(canonical_stat_key(name), number);
                }
                Aggregate::Trend(TrendStats(stats))
            }
            MetricKind::Rate => {
                // Legacy and handleSummary: passes/fails; machine-readable: matches/total.
                let (matches, total) = if let Some(matches) = field("matches") {
                    (self.count(&value_key("matches"), matches)?, self.count(&value_key("total"), required("total")?)?)
                } else {
                    let passes = self.count(&value_key("passes"), required("passes")?)?;
                    let fails = self.count(&value_key("fails"), required("fails")?)?;
                    // Counts near u64::MAX are hostile, not measured: refuse rather than overflow.
                    let total = passes
                        .checked_add(fails)
                        .ok_or_else(|| self.error(key, format!("{passes} passes plus {fails} fails is not a count")))?;
                    (passes, total)
                };
                if matches > total {
                    return Err(self.error(key, format!("{matches} matching samples out of {total}")));
                }
                Aggregate::Rate { matches, total }
            }
            MetricKind::Counter => Aggregate::Counter {
                count: self.number(&value_key("count"), required("count")?)?,
                per_second: field("rate").map(|v| self.number(&value_key("rate"), v)).transpose()?,
            },
            MetricKind::Gauge => Aggregate::Gauge {
                value: self.number(&value_key("value"), required("value")?)?,
                min: field("min").map(|v| self.number(&value_key("min"), v)).transpose()?,
                max: field("max").map(|v| self.number(&value_key("max"), v)).transpose()?,
            },
        })
    }

    fn empty_set(&self, format: &str, carries_thresholds: bool) -> MetricSet {
        MetricSet {
            format: format.to_string(),
            path: self.path.to_string(),
            carries_thresholds,
            ..MetricSet::default()
        }
    }
}

/// `p90` (machine-readable summary) and `p(90)` (legacy) name the same statistic.
fn canonical_stat_key(name: &str) -> String {
    match crate::policy::threshold::Stat::parse(name) {
        Ok(stat) => stat.key(),
        Err(_) => name.to_string(),
    }
}

fn is_time_metric(name: &str) -> bool {
    name.starts_with("http_req_") && name != "http_req_failed"
        || name == "iteration_duration"
        || name == "group_duration"
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
