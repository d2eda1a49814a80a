//! A Prometheus histogram as a figure: cumulative buckets, sum and count, the increase over
//! a window with Prometheus's `increase` semantics, and `histogram_quantile`. Observations
//! above the highest finite bucket have no upper bound, so a quantile among them is +Inf.

/// One histogram (one series, or a sum of series): cumulative buckets, sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// (upper bound, cumulative count), sorted by bound; +Inf last.
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

/// Prometheus's `increase` between two samples of one counter: a value that went down means
/// the counter restarted from 0, so the new value is all of the increase.
fn increase(after: f64, before: f64) -> f64 {
    if after < before {
        after
    } else {
        after - before
    }
}

impl HistogramSnapshot {
    /// As a native summary records it: bucket bounds as strings (`"+Inf"` has no JSON number).
    pub fn to_json(&self) -> serde_json::Value {
        let buckets: Vec<serde_json::Value> = self
            .buckets
            .iter()
            .map(|(le, count)| {
                let le = if le.is_infinite() { "+Inf".to_string() } else { le.to_string() };
                serde_json::json!([le, count])
            })
            .collect();
        serde_json::json!({"buckets": buckets, "sum": self.sum, "count": self.count})
    }

    /// The inverse of `to_json`, or why the value is not a recorded histogram.
    pub fn from_json(value: &serde_json::Value) -> Result<HistogramSnapshot, String> {
        let number = |v: &serde_json::Value, what: &str| {
            v.as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("{what}: expected a non-negative number"))
        };
        let mut buckets = Vec::new();
        for bucket in value.get("buckets").and_then(|b| b.as_array()).ok_or("buckets: expected a list")? {
            let pair = bucket.as_array().filter(|p| p.len() == 2).ok_or("buckets[]: expected [le, count]")?;
            let le = match pair[0].as_str() {
                Some("+Inf") => f64::INFINITY,
                Some(text) => {
                    text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or("buckets[]: le is not a number")?
                }
                None => return Err("buckets[]: le must be a string".into()),
            };
            buckets.push((le, number(&pair[1], "buckets[] count")?));
        }
        if buckets.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 > w[1].1) {
            return Err("buckets: expected increasing bounds with cumulative counts".into());
        }
        let sum =
            value.get("sum").and_then(|v| v.as_f64()).filter(|v| v.is_finite()).ok_or("sum: expected a number")?;
        Ok(HistogramSnapshot {
            buckets,
            sum,
            count: number(value.get("count").unwrap_or(&serde_json::Value::Null), "count")?,
        })
    }

    /// The increase of each bucket, the sum and the count since `earlier`, each a counter of
    /// its own (a restart is detected per counter, as Prometheus does per series).
    pub fn increase_since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        let buckets = self
            .buckets
            .iter()
            .map(|(le, count)| {
                let before = earlier.buckets.iter().find(|(b, _)| b == le).map(|(_, c)| *c).unwrap_or(0.0);
                (*le, increase(*count, before))
            })
            .collect();
        // A reset of the count resets the sum with it, whatever the sum did.
        let reset = self.count < earlier.count;
        let sum = if reset || self.sum < earlier.sum { self.sum } else { self.sum - earlier.sum };
        HistogramSnapshot { buckets, sum, count: increase(self.count, earlier.count) }
    }

    /// Adds another histogram's buckets (matched by bound), sum and count.
    pub fn add(&mut self, other: &HistogramSnapshot) {
        for (le, count) in &other.buckets {
            match self.buckets.iter_mut().find(|(b, _)| b == le) {
                Some((_, mine)) => *mine += count,
                None => self.buckets.push((*le, *count)),
            }
        }
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.sum += other.sum;
        self.count += other.count;
    }

    /// The highest finite bucket bound, for messages about observations above it.
    pub fn highest_finite_bound(&self) -> Option<f64> {
        self.buckets.iter().rev().map(|(le, _)| *le).find(|le| le.is_finite())
    }

    /// Prometheus's histogram_quantile over these buckets; None without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last().map(|(_, c)| *c)?;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut previous = (0.0, 0.0);
        for (index, (le, cumulative)) in self.buckets.iter().enumerate() {
            if *cumulative >= rank && *cumulative > 0.0 {
                if le.is_infinite() {
                    // The answer lies above the last finite bound, with no upper bound at all:
                    // Prometheus returns that bound, which would let 2 h pass `max < 180s`.
                    return Some(f64::INFINITY);
                }
                if q >= 1.0 {
                    return Some(*le);
                }
                let (lower, below) = if index == 0 { (0.0, 0.0) } else { previous };
                let in_bucket = cumulative - below;
                return Some(lower + (le - lower) * ((rank - below) / in_bucket));
            }
            previous = (*le, *cumulative);
        }
        None
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }
}
