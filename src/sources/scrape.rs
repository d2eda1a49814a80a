//! Histograms scraped from a Prometheus text-format `/metrics` endpoint, before and after a
//! run: the difference of the cumulative buckets is the run window, and percentiles follow
//! Prometheus's `histogram_quantile` (linear within a bucket; the max is the upper bound of
//! the highest non-empty bucket). No Prometheus server is needed.

use std::collections::BTreeMap;

use crate::error::Error;

/// One histogram summed over its label sets (like `sum by (le)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// (upper bound, cumulative count), sorted by bound; +Inf last.
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

impl HistogramSnapshot {
    /// `self - earlier`, bucket by bucket (a counter reset shows as negative and is refused).
    pub fn since(&self, earlier: &HistogramSnapshot) -> Result<HistogramSnapshot, String> {
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for (le, count) in &self.buckets {
            let before = earlier.buckets.iter().find(|(b, _)| b == le).map(|(_, c)| *c).unwrap_or(0.0);
            if *count < before {
                return Err(format!("bucket le={le} went down from {before} to {count} (the target restarted?)"));
            }
            buckets.push((*le, count - before));
        }
        Ok(HistogramSnapshot { buckets, sum: self.sum - earlier.sum, count: self.count - earlier.count })
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
                    // The answer lies above the last finite bound: Prometheus returns that bound.
                    return Some(self.buckets.get(index.wrapping_sub(1)).map(|(b, _)| *b).unwrap_or(0.0));
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

/// Parses the text exposition format, keeping histograms only (`_bucket`, `_sum`, `_count`).
pub fn parse(url: &str, text: &str) -> Result<BTreeMap<String, HistogramSnapshot>, Error> {
    let fail =
        |line: usize, why: &str| Error::Evidence { path: url.to_string(), message: format!("line {line}: {why}") };
    let mut histograms: BTreeMap<String, HistogramSnapshot> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, rest) = match line.find('{') {
            Some(open) => {
                let close = closing_brace(line, open).ok_or_else(|| fail(number + 1, "unclosed {"))?;
                (&line[..close + 1], &line[close + 1..])
            }
            None => line.split_at(line.find(' ').ok_or_else(|| fail(number + 1, "no value"))?),
        };
        let value_text = rest.split_whitespace().next().ok_or_else(|| fail(number + 1, "no value"))?;
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().map_err(|_| fail(number + 1, &format!("value {other:?} is not a number")))?,
        };
        let name = series.split('{').next().unwrap_or(series);
        // Counts of a histogram are finite and not negative, its sum finite ("5e999" reads as
        // +Inf): anything else turns quantiles into NaN, a figure that can pass `!=` gates.
        let is_count = name.ends_with("_bucket") || name.ends_with("_count");
        if ((is_count || name.ends_with("_sum")) && !value.is_finite()) || (is_count && value < 0.0) {
            return Err(fail(number + 1, &format!("{name} value {value_text:?} is out of range for a histogram")));
        }
        if let Some(base) = name.strip_suffix("_bucket") {
            let le = label(series, "le").ok_or_else(|| fail(number + 1, "a _bucket sample without le"))?;
            let le = le.as_str();
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok().filter(|le: &f64| !le.is_nan()).ok_or_else(|| fail(number + 1, "le is not a number"))?
            };
            let snapshot = histograms.entry(base.to_string()).or_default();
            match snapshot.buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, count)) => *count += value,
                None => snapshot.buckets.push((le, value)),
            }
        } else if let Some(base) = name.strip_suffix("_sum") {
            histograms.entry(base.to_string()).or_default().sum += value;
        } else if let Some(base) = name.strip_suffix("_count") {
            histograms.entry(base.to_string()).or_default().count += value;
        }
    }
    histograms.retain(|_, h| !h.buckets.is_empty());
    for histogram in histograms.values_mut() {
        histogram.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(histograms)
}

/// The `}` closing the label set that opens at `open`, skipping braces inside quoted values.
fn closing_brace(line: &str, open: usize) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in line[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '}' if !in_quotes => return Some(open + index),
            _ => {}
        }
    }
    None
}

/// The value of label `name` (quoted values may hold commas and braces).
fn label(series: &str, name: &str) -> Option<String> {
    let inner = &series[series.find('{')? + 1..series.len().checked_sub(1)?];
    let mut rest = inner;
    while !rest.trim().is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        value.push(if next == 'n' { '\n' } else { next });
                    }
                }
                '"' => {
                    end = Some(i);
                    break;
                }
                other => value.push(other),
            }
        }
        let end = end?;
        if key.trim().trim_start_matches(',').trim() == name {
            return Some(value);
        }
        rest = after[end + 1..].trim_start().trim_start_matches(',');
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# TYPE lag histogram\nlag_bucket{le=\"1\"} 10\nlag_bucket{le=\"5\"} 20\nlag_bucket{le=\"10\"} 20\nlag_bucket{le=\"+Inf\"} 20\nlag_sum 40\nlag_count 20\n";
    const AFTER: &str = "lag_bucket{le=\"1\"} 10\nlag_bucket{le=\"5\"} 110\nlag_bucket{le=\"10\"} 120\nlag_bucket{le=\"+Inf\"} 120\nlag_sum 440\nlag_count 120\nother_total 5\n";

    #[test]
    fn run_window_quantiles_follow_histogram_quantile() {
        let before = parse("before", BEFORE).unwrap();
        let after = parse("after", AFTER).unwrap();
        let window = after["lag"].since(&before["lag"]).unwrap();
        assert_eq!(window.buckets, vec![(1.0, 0.0), (5.0, 90.0), (10.0, 100.0), (f64::INFINITY, 100.0)]);
        // rank 50 of 100 falls in (1, 5]: 1 + 4 * 50/90.
        assert!((window.quantile(0.5).unwrap() - (1.0 + 4.0 * 50.0 / 90.0)).abs() < 1e-12);
        // rank 95 in (5, 10]: 5 + 5 * (95-90)/10 = 7.5.
        assert!((window.quantile(0.95).unwrap() - 7.5).abs() < 1e-12);
        assert_eq!(window.quantile(1.0), Some(10.0));
        assert_eq!(window.mean(), Some(4.0));
        assert_eq!(HistogramSnapshot::default().quantile(0.5), None);
    }

    #[test]
    fn above_the_last_finite_bucket_reads_that_bound_and_resets_are_refused() {
        let h = parse("x", "l_bucket{le=\"1\"} 0\nl_bucket{le=\"+Inf\"} 5\n").unwrap();
        assert_eq!(h["l"].quantile(0.5), Some(1.0));
        let before = parse("b", AFTER).unwrap();
        let after = parse("a", BEFORE).unwrap();
        assert!(after["lag"].since(&before["lag"]).is_err());
        assert!(parse("bad", "l_bucket{le=\"1\"} many\n").unwrap_err().to_string().contains("line 1"));
    }

    #[test]
    fn quoted_label_values_may_hold_braces_and_commas() {
        let text = "r_bucket{path=\"/rules/{id}/run\",q=\"a,b\",le=\"0.5\"} 3\nr_bucket{path=\"/x\",le=\"+Inf\"} 4\n";
        let h = parse("x", text).unwrap();
        assert_eq!(h["r"].buckets, vec![(0.5, 3.0), (f64::INFINITY, 4.0)]);
    }

    #[test]
    fn label_sets_are_summed() {
        let h = parse("x", "q_bucket{queue=\"a\",le=\"1\"} 1\nq_bucket{queue=\"b\",le=\"1\"} 2\nq_bucket{queue=\"a\",le=\"+Inf\"} 1\nq_bucket{queue=\"b\",le=\"+Inf\"} 4\n").unwrap();
        assert_eq!(h["q"].buckets, vec![(1.0, 3.0), (f64::INFINITY, 5.0)]);
    }
}
