//! Synthetic Prometheus series for policy unit tests, in promtool's `input_series` notation: a
//! series selector (`metric{label="v"}`) and expanding values (`1+1x10 _ 3x4 _x2`), one value
//! per interval from the series' start. Parsed here into samples and written as OpenMetrics
//! text, the format `promtool tsdb create-blocks-from openmetrics` backfills, so the policy's
//! PromQL is evaluated by a real Prometheus rather than by a second evaluator of ours.
//!
//! Native histograms use promtool's `{{schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001
//! buckets:[1 2 1] offset:-2}}` (absolute counts per bucket from index `offset`), repeated as
//! `{{...}}xn` or grown as `{{A}}+{{B}}xn`; OpenMetrics cannot carry them, so the caller sends
//! a series holding them by remote write instead.
//!
//! promtool's `stale` writes Prometheus' staleness marker (a NaN with a fixed payload), which
//! OpenMetrics text cannot carry either: a series holding one is sent by remote write too.
//! Without it a series stays visible to an instant selector for the 5 minute lookback after
//! its last sample, which is what `_` (no sample) gives.

/// One series: its metric name, its labels (sorted, without `__name__`) and its samples as
/// (milliseconds from the series' start, value); a series holds floats or histograms, not both.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(i64, f64)>,
    pub histograms: Vec<(i64, Histogram)>,
}

/// A native histogram sample: positive bucket index -> count (index i holds
/// (2^((i-1)/2^schema), 2^(i/2^schema)]), plus the zero bucket.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    pub schema: i32,
    pub count: f64,
    pub sum: f64,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub buckets: std::collections::BTreeMap<i32, f64>,
}

/// The bits of Prometheus' staleness marker (value.StaleNaN): a NaN no arithmetic produces.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True for a staleness marker (and for no other NaN).
pub fn is_stale(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

impl Histogram {
    /// self + step, field by field, buckets by index (Prometheus' `FloatHistogram.Add` for
    /// one schema); a ramp adds it once per slot (`running_sum`), never times·step.
    fn plus(&self, step: &Histogram) -> Histogram {
        let mut out = self.clone();
        out.count += step.count;
        out.sum += step.sum;
        out.zero_count += step.zero_count;
        for (index, count) in &step.buckets {
            *out.buckets.entry(*index).or_default() += count;
        }
        out
    }
}

/// One slot of the expanded values.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    Empty,
    Float(f64),
    Histogram(Histogram),
    /// promtool's `stale`: the series ends here, for instant selectors at once.
    Stale,
}

impl Series {
    /// `values` expanded one `interval_ms` apart from 0; `_` leaves its slot empty.
    pub fn parse(selector: &str, values: &str, interval_ms: i64) -> Result<Series, String> {
        let (name, labels) = parse_selector(selector)?;
        let (mut samples, mut histograms) = (Vec::new(), Vec::new());
        for (slot, value) in expand_slots(values)?.into_iter().enumerate() {
            let at = slot as i64 * interval_ms;
            match value {
                Slot::Empty => {}
                Slot::Float(value) => samples.push((at, value)),
                Slot::Histogram(histogram) => histograms.push((at, histogram)),
                Slot::Stale => samples.push((at, f64::from_bits(STALE_NAN_BITS))),
            }
        }
        if !histograms.is_empty() && samples.iter().any(|(_, v)| is_stale(*v)) {
            return Err(format!(
                "series {selector:?}: `stale` in a histogram series is not supported; end it with `_`"
            ));
        }
        if !samples.is_empty() && !histograms.is_empty() {
            return Err(format!("series {selector:?}: holds both numbers and histograms; give each its own series"));
        }
        Ok(Series { name, labels, samples, histograms })
    }

    /// Histograms and staleness markers cannot be written as OpenMetrics: such a series is
    /// sent by remote write.
    pub fn needs_remote_write(&self) -> bool {
        !self.histograms.is_empty() || self.samples.iter().any(|(_, v)| is_stale(*v))
    }

    /// The series' identity in OpenMetrics spelling: `name{a="x",b="y"}`.
    pub fn key(&self) -> String {
        if self.labels.is_empty() {
            return self.name.clone();
        }
        let pairs: Vec<String> = self.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        format!("{}{{{}}}", self.name, pairs.join(","))
    }
}

/// OpenMetrics text of `series`, each shifted by its base time (unix milliseconds). Samples of
/// one identity are written together in time order, as the format requires; two samples of one
/// identity at the same time are refused (promtool would silently keep one).
pub fn openmetrics(series: &[(i64, &Series)]) -> Result<(String, usize), String> {
    let mut by_key: std::collections::BTreeMap<String, Vec<(i64, f64)>> = std::collections::BTreeMap::new();
    for (base, one) in series {
        if one.needs_remote_write() {
            return Err(format!(
                "series {} holds native histograms or staleness markers, which OpenMetrics cannot carry",
                one.key()
            ));
        }
        let entry = by_key.entry(one.key()).or_default();
        entry.extend(one.samples.iter().map(|(offset, value)| (base + offset, *value)));
    }
    let mut text = String::new();
    let mut count = 0;
    for (key, mut samples) in by_key {
        samples.sort_by_key(|(t, _)| *t);
        if let Some(pair) = samples.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("series {key} is given twice at the same time ({} ms)", pair[0].0));
        }
        for (t, value) in samples {
            text.push_str(&format!("{key} {} {}.{:03}\n", number(value), t.div_euclid(1000), t.rem_euclid(1000)));
            count += 1;
        }
    }
    text.push_str("# EOF\n");
    Ok((text, count))
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value:?}")
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn is_name(text: &str, colon: bool) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// `name{label="value",...}` or `{__name__="name",...}`: equality matchers only, as promtool;
/// label values read as PromQL reads them (`metrics::LabelSet`, the one reader of label sets),
/// an empty value no label.
fn parse_selector(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let text = text.trim();
    let mut labels = crate::metrics::LabelSet::parse(text).map_err(|why| format!("series {text:?}: {why}"))?;
    let name = labels.take("__name__").unwrap_or_default();
    if !is_name(&name, true) {
        return Err(format!("series {text:?}: expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"));
    }
    Ok((name, labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
}

fn value(text: &str, whole: &str) -> Result<f64, String> {
    match text {
        "Inf" | "+Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        _ => text.parse::<f64>().map_err(|_| format!("values {whole:?}: {text:?} is not a number")),
    }
}

/// promtool's expanding notation, one `Option` per interval: `a` one value; `_` none; `_xn` n
/// empty slots; `axn` a, n+1 times; `a+bxn` / `a-bxn` a, a±b, a±b±b, ... (n+1 values, a
/// running sum: `running_sum`).
/// Numbers only: a histogram is refused here.
pub fn expand(values: &str) -> Result<Vec<Option<f64>>, String> {
    expand_slots(values)?
        .into_iter()
        .map(|slot| match slot {
            Slot::Empty => Ok(None),
            Slot::Float(value) => Ok(Some(value)),
            Slot::Histogram(_) | Slot::Stale => {
                Err(format!("values {values:?}: a histogram or `stale` where numbers are expected"))
            }
        })
        .collect()
}

/// Whitespace-separated tokens, a `{{...}}` (with its `+{{...}}xn` / `xn` tail) being one.
fn tokens(values: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = values.trim_start();
    while !rest.is_empty() {
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() && !bytes[end].is_ascii_whitespace() {
            if rest[end..].starts_with("{{") {
                let close =
                    rest[end..].find("}}").ok_or_else(|| format!("values {values:?}: a `{{{{` without its `}}}}`"))?;
                end += close + 2;
            } else {
                end += 1;
            }
        }
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// The slots of promtool's notation, numbers and histograms.
pub fn expand_slots(values: &str) -> Result<Vec<Slot>, String> {
    let mut out = Vec::new();
    for token in tokens(values)? {
        if token == "_" {
            out.push(Slot::Empty);
            continue;
        }
        if token == "stale" {
            out.push(Slot::Stale);
            continue;
        }
        if token.starts_with("{{") {
            out.extend(histogram_token(token, values)?.into_iter().map(Slot::Histogram));
            continue;
        }
        if let Ok(one) = value(token, values) {
            out.push(Slot::Float(one));
            continue;
        }
        let (head, times) = split_times(token, values)?;
        if head == "_" {
            out.extend(std::iter::repeat_n(Slot::Empty, times));
            continue;
        }
        // The step's sign is the last + or - that does not start the number or an exponent.
        let bytes = head.as_bytes();
        let split = (1..bytes.len())
            .rev()
            .find(|&i| (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
        let (start, step) = match split {
            Some(i) => {
                let step = value(&head[i + 1..], values)?;
                (value(&head[..i], values)?, if bytes[i] == b'-' { -step } else { step })
            }
            None => (value(head, values)?, 0.0),
        };
        out.extend(running_sum(start, times, |value| value + step).into_iter().map(Slot::Float));
    }
    if out.is_empty() {
        return Err("values is empty: give at least one value".into());
    }
    Ok(out)
}

/// The rule for every ramp (`a+bxn`, `a-bxn`, `{{A}}+{{B}}xn`): n+1 values, each the previous
/// plus the step, as Prometheus' series grammar expands them (`parseSeriesDesc`: `append(a);
/// a += b` n+1 times; `histogramsSeries` likewise with `FloatHistogram.Add`). Rounding makes
/// the running sum differ from a + i·b (0.1+0.3x3 ends at 1, not 0.9999999999999999), and a
/// case must judge the figures promtool feeds the exported rules (finding round38-judge/01).
fn running_sum<T: Clone>(start: T, times: usize, add_step: impl Fn(&T) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(times + 1);
    let mut current = start;
    for _ in 0..times {
        let next = add_step(&current);
        out.push(std::mem::replace(&mut current, next));
    }
    out.push(current);
    out
}

/// `head` and n of `headxn`, n bounded.
fn split_times<'a>(token: &'a str, values: &str) -> Result<(&'a str, usize), String> {
    let (head, times) = token
        .rsplit_once('x')
        .ok_or_else(|| format!("values {values:?}: {token:?} is neither a number, `_`, `axn` nor `a+bxn`"))?;
    let times: usize =
        times.parse().map_err(|_| format!("values {values:?}: {token:?} needs a whole number after `x`"))?;
    if times > 100_000 {
        return Err(format!("values {values:?}: {token:?} expands to more than 100000 values"));
    }
    Ok((head, times))
}

/// `{{A}}`, `{{A}}xn` (A, n+1 times) or `{{A}}+{{B}}xn` (A, A+B, A+B+B, ...: `running_sum`).
fn histogram_token(token: &str, values: &str) -> Result<Vec<Histogram>, String> {
    let close = token.find("}}").map(|i| i + 2).unwrap_or(token.len());
    let first = histogram(&token[..close], values)?;
    let tail = &token[close..];
    if tail.is_empty() {
        return Ok(vec![first]);
    }
    if let Some(grow) = tail.strip_prefix('+') {
        let end = grow
            .find("}}")
            .map(|i| i + 2)
            .ok_or_else(|| format!("values {values:?}: {token:?}: expected {{{{...}}}}+{{{{...}}}}xn"))?;
        let step = histogram(&grow[..end], values)?;
        let times =
            grow[end..].strip_prefix('x').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n <= 100_000).ok_or_else(
                || format!("values {values:?}: {token:?}: expected xn (a whole number up to 100000) after the step"),
            )?;
        if step.schema != first.schema {
            return Err(format!("values {values:?}: {token:?}: the step's schema differs from the start's"));
        }
        return Ok(running_sum(first, times, |grown| grown.plus(&step)));
    }
    let times =
        tail.strip_prefix('x').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n <= 100_000).ok_or_else(|| {
            format!("values {values:?}: {token:?}: expected {{{{...}}}}xn or {{{{...}}}}+{{{{...}}}}xn")
        })?;
    Ok(vec![first; times + 1])
}

/// One `{{key:value ...}}`: schema, sum, count, z_bucket, z_bucket_w, buckets:[...], offset.
fn histogram(text: &str, values: &str) -> Result<Histogram, String> {
    let body = text
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .ok_or_else(|| format!("values {values:?}: {text:?} is not a {{{{...}}}} histogram"))?;
    let mut h = Histogram::default();
    let (mut counts, mut offset, mut count_given) = (Vec::new(), 0i32, false);
    let mut rest = body.trim();
    while !rest.is_empty() {
        let (key, after) =
            rest.split_once(':').ok_or_else(|| format!("values {values:?}: {text:?}: expected key:value"))?;
        let after = after.trim_start();
        let (raw, next) = if let Some(list) = after.strip_prefix('[') {
            let end = list.find(']').ok_or_else(|| format!("values {values:?}: {text:?}: a `[` without its `]`"))?;
            (&list[..end], &list[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let number = |raw: &str| value(raw.trim(), values);
        match key.trim() {
            "schema" => {
                h.schema = raw.parse().map_err(|_| format!("values {values:?}: schema {raw:?} is not a whole number"))?;
                if !(-4..=8).contains(&h.schema) {
                    return Err(format!("values {values:?}: schema {} is outside -4..8", h.schema));
                }
            }
            "sum" => h.sum = number(raw)?,
            "count" => {
                h.count = number(raw)?;
                count_given = true;
            }
            "z_bucket" => h.zero_count = number(raw)?,
            "z_bucket_w" => h.zero_threshold = number(raw)?,
            "offset" => offset = raw.parse().map_err(|_| format!("values {values:?}: offset {raw:?} is not a whole number"))?,
            "buckets" => counts = raw.split_whitespace().map(number).collect::<Result<_, _>>()?,
            "n_buckets" | "n_offset" => {
                return Err(format!("values {values:?}: negative buckets are not supported (latencies are never below 0)"))
            }
            other => return Err(format!("values {values:?}: unknown histogram field {other:?} (schema, sum, count, z_bucket, z_bucket_w, buckets, offset)")),
        }
        rest = next.trim_start();
    }
    for (i, count) in counts.into_iter().enumerate() {
        h.buckets.insert(offset + i as i32, count);
    }
    if !count_given {
        h.count = h.zero_count + h.buckets.values().sum::<f64>();
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_promtool_notation() {
        let got = expand("1+1x3 _ 5x2 _x2 10-2.5x2 -1 1e3").unwrap();
        let want = vec![
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(4.0),
            None,
            Some(5.0),
            Some(5.0),
            Some(5.0),
            None,
            None,
            Some(10.0),
            Some(7.5),
            Some(5.0),
            Some(-1.0),
            Some(1000.0),
        ];
        assert_eq!(got, want);
        assert!(expand("1 stale").unwrap_err().contains("stale"));
        let gone = Series::parse("up", "1 1 stale", 1000).unwrap();
        assert!(gone.needs_remote_write() && is_stale(gone.samples[2].1) && !is_stale(f64::NAN));
        assert!(openmetrics(&[(0, &gone)]).is_err());
        assert!(Series::parse("h", "{{count:1}} stale", 1000).is_err());
        assert!(expand("1+x3").is_err());
        assert!(expand("").is_err());
    }

    #[test]
    fn expands_native_histograms() {
        let slots =
            expand_slots("{{schema:0 sum:5 buckets:[1 2] offset:-1}}+{{sum:1 buckets:[0 1]}}x2 _ {{count:3}}x1")
                .unwrap();
        assert_eq!(slots.len(), 6);
        let Slot::Histogram(last_grown) = &slots[2] else { panic!("{slots:?}") };
        assert_eq!(last_grown.count, 5.0);
        assert_eq!(last_grown.sum, 7.0);
        assert_eq!(last_grown.buckets, [(-1, 1.0), (0, 2.0), (1, 2.0)].into_iter().collect());
        assert_eq!(slots[3], Slot::Empty);
        let Slot::Histogram(given) = &slots[5] else { panic!("{slots:?}") };
        assert_eq!(given.count, 3.0);
        assert!(expand_slots("{{schema:0 n_buckets:[1]}}").is_err());
        assert!(expand_slots("{{schema:0 buckets:[1}}").is_err());
        assert!(Series::parse("h", "1 {{count:1}}", 1000).is_err());
    }

    /// Prometheus' expansion of `a+bxn` (parseSeriesDesc): `for i <= n { append(a); a += b }`.
    fn prometheus_ramp(mut a: f64, b: f64, n: usize) -> Vec<Option<f64>> {
        let mut out = Vec::new();
        for _ in 0..=n {
            out.push(Some(a));
            a += b;
        }
        out
    }

    #[test]
    fn ramps_are_running_sums_as_promtool_expands_them() {
        // Finding round38-judge/01: a + i·b gave 0.9999999999999999 at the 4th slot.
        assert_eq!(expand("0.1+0.3x3").unwrap(), vec![Some(0.1), Some(0.4), Some(0.7), Some(1.0)]);
        assert_eq!(expand("0+0.3x6").unwrap()[6], Some(1.8));
        assert_eq!(expand("0.9+0.7x3").unwrap()[3], Some(3.0));
        assert_eq!(expand("0.1+0.1x9").unwrap()[9], Some(0.9999999999999999));
        assert_eq!(expand("1-0.1x10").unwrap(), prometheus_ramp(1.0, -0.1, 10));
        // `_xn` is n empty slots, `axn` n+1 copies, `stale` one marker: unchanged.
        assert_eq!(expand("_x2 0.3x2").unwrap(), vec![None, None, Some(0.3), Some(0.3), Some(0.3)]);
        let slots = expand_slots("0.1+0.3x1 stale _").unwrap();
        assert_eq!(slots, vec![Slot::Float(0.1), Slot::Float(0.4), Slot::Stale, Slot::Empty]);
        // Native histograms grow by FloatHistogram.Add, once per slot.
        let slots = expand_slots("{{sum:0.1 count:0.1}}+{{sum:0.3 count:0.3}}x3").unwrap();
        let Slot::Histogram(last) = &slots[3] else { panic!("{slots:?}") };
        assert_eq!((last.sum, last.count), (1.0, 1.0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Any ramp written with few decimals, either sign, expands exactly as Prometheus' loop.
        #[test]
        fn ramps_match_prometheus_loop(
            a in -99_999i64..99_999, a_places in 0u32..4,
            b in 0i64..99_999, b_places in 0u32..4, down: bool, n in 0usize..60,
        ) {
            let text = |units: i64, places: u32| {
                let scale = 10i64.pow(places);
                let sign = if units < 0 { "-" } else { "" };
                let whole = units.abs();
                if places == 0 { format!("{sign}{whole}") } else {
                    format!("{sign}{}.{:0width$}", whole / scale, whole % scale, width = places as usize)
                }
            };
            let (a_text, b_text) = (text(a, a_places), text(b, b_places));
            let values = format!("{a_text}{}{b_text}x{n}", if down { '-' } else { '+' });
            let (start, step): (f64, f64) = (a_text.parse().unwrap(), b_text.parse().unwrap());
            let want = prometheus_ramp(start, if down { -step } else { step }, n);
            let got = expand(&values).unwrap();
            proptest::prop_assert_eq!(got.len(), want.len());
            for (got, want) in got.iter().zip(&want) {
                proptest::prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{}", values);
            }
        }
    }

    #[test]
    fn selectors_become_openmetrics_identities() {
        let s = Series::parse(r#"up{job="api", instance="a\"b"}"#, "1 _ 1", 15_000).unwrap();
        assert_eq!(s.key(), r#"up{instance="a\"b",job="api"}"#);
        assert_eq!(s.samples, vec![(0, 1.0), (30_000, 1.0)]);
        let named = Series::parse(r#"{__name__="x:y", a="1"}"#, "2", 1000).unwrap();
        assert_eq!(named.key(), r#"x:y{a="1"}"#);
        assert!(Series::parse(r#"x{a=~"1"}"#, "1", 1000).is_err());
        // Values as promtool's PromQL parser reads them (finding round16-judge/01: one reader).
        let escaped = Series::parse(r#"x{a='t\ta\x20b', b=""}"#, "1", 1000).unwrap();
        assert_eq!(escaped.labels, vec![("a".to_string(), "t\ta b".to_string())]);
        let (text, count) = openmetrics(&[(1_000_000, &s)]).unwrap();
        assert_eq!(count, 2);
        assert!(text.starts_with("up{instance=\"a\\\"b\",job=\"api\"} 1.0 1000.000\n"), "{text}");
        assert!(openmetrics(&[(0, &s), (0, &s)]).is_err());
    }
}
