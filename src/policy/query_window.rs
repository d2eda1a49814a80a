//! Which stretch before its evaluation time a query reads: the window its figure is of.
//!
//! A gate's query judges the stretch its selectors read, not the run. Evaluated at `at`, a
//! selector with range `r` (or, alone, Prometheus's lookback of the newest sample before the
//! instant) and `offset o` reads `[at - o - r, at - o]`; inside subqueries it is evaluated at
//! every step of theirs, so the offsets and ranges of every subquery around it add up: each
//! selector reads `[at - far, at - near]`, `near` its offsets summed and `far` that plus its
//! ranges (a `Read`). Read from the query's syntax tree (`promql-parser`, Prometheus's
//! grammar), never evaluated. Three answers, one rule each:
//! - `window`, where every selector reads at once (the intersection of their reads): a dated
//!   run's figures are judged only at an `at` where every selector's read holds the run's end,
//!   `near <= at - run_end <= far` (`holds_run_end`; finding round29-judge/03: a lag gate
//!   verified 3 h after the run read only the idle hours after it and passed; finding
//!   round30-judge/02: `[10m] offset 30m` evaluated 5 minutes after the run read the quiet
//!   stretch before it, which the reach alone, 40 m, did not tell);
//! - `reads_back`, the furthest far edge: the stretch a verdict on the query judged, so two
//!   judgements whose stretches overlap are one run (finding round29-judge/01: one 10 minute
//!   window judged twice 15 s apart counted as two passes);
//! - `unanchored`, why a query reads other than the stretch before its evaluation time: a
//!   negative `offset` reads after it (the future of `--at`) and `@ <time>` pins a selector to
//!   a fixed instant whatever `--at` says (finding round30-judge/01: both passed a lag gate on
//!   a window hours after the run). The policy refuses such a query when it loads, so `check`,
//!   `verify`, `lint`, `test` and `export` all see the same rule. `@ start()` and `@ end()`
//!   are the evaluation time of the instant queries gatecheck sends: a node they mark is
//!   evaluated at `at` itself, whatever subqueries enclose it.

use std::time::Duration;

use promql_parser::parser::{self, AtModifier, Expr, Offset};

/// Prometheus's default lookback of an instant selector: the newest sample at most this old.
pub const LOOKBACK: Duration = Duration::from_secs(5 * 60);

/// The stretch a selector reads, as distances back from the query's evaluation time `at`:
/// `[at - far, at - near]`. Also where a subquery evaluates what it encloses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub near: Duration,
    pub far: Duration,
}

impl Read {
    /// The evaluation time itself: where the query's outermost node is evaluated.
    const AT: Read = Read { near: Duration::ZERO, far: Duration::ZERO };

    /// A node evaluated anywhere in `self`, shifted back by `offset` and reading `range`
    /// before each of its evaluation times.
    fn then(self, offset: Duration, range: Duration) -> Read {
        Read { near: self.near + offset, far: self.far + offset + range }
    }

    /// Whether no instant lies in every read (the near edge of one lies past another's far).
    pub fn is_empty(&self) -> bool {
        self.near > self.far
    }
}

/// Where a node is evaluated, given its `@` and `offset` and where its parent is evaluated:
/// `@ start()`/`@ end()` put it back at the evaluation time; a negative offset or a fixed `@`
/// cannot be told as a stretch before it (`unanchored` says why).
fn anchored(around: Read, at: &Option<AtModifier>, offset: &Option<Offset>, range: Duration) -> Result<Read, String> {
    let around = match at {
        None => around,
        Some(AtModifier::Start | AtModifier::End) => Read::AT,
        Some(pinned @ AtModifier::At(_)) => {
            return Err(format!(
                "`{pinned}` pins a selector to a fixed instant, whatever the evaluation time (--at) is \
                 (only `@ start()` and `@ end()`, the evaluation time itself, are read)"
            ))
        }
    };
    match offset {
        None => Ok(around.then(Duration::ZERO, range)),
        Some(Offset::Pos(by)) => Ok(around.then(*by, range)),
        Some(negative @ Offset::Neg(_)) => Err(format!(
            "`offset {negative}` reads after the evaluation time (the future of --at), not the stretch before it"
        )),
    }
}

/// The read of each selector of `expr`, evaluated across `around` (its enclosing subqueries).
fn reads(expr: &Expr, around: Read, out: &mut Vec<Read>) -> Result<(), String> {
    match expr {
        Expr::VectorSelector(selector) => out.push(anchored(around, &selector.at, &selector.offset, LOOKBACK)?),
        Expr::MatrixSelector(matrix) => out.push(anchored(around, &matrix.vs.at, &matrix.vs.offset, matrix.range)?),
        Expr::Subquery(subquery) => {
            reads(&subquery.expr, anchored(around, &subquery.at, &subquery.offset, subquery.range)?, out)?
        }
        Expr::Aggregate(aggregate) => {
            reads(&aggregate.expr, around, out)?;
            if let Some(param) = &aggregate.param {
                reads(param, around, out)?;
            }
        }
        Expr::Unary(unary) => reads(&unary.expr, around, out)?,
        Expr::Binary(binary) => {
            reads(&binary.lhs, around, out)?;
            reads(&binary.rhs, around, out)?;
        }
        Expr::Paren(paren) => reads(&paren.expr, around, out)?,
        Expr::Call(call) => {
            for arg in &call.args.args {
                reads(arg, around, out)?;
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
    Ok(())
}

/// Functions Prometheus 2.x evaluates under names the grammar (Prometheus 3's) gives otherwise,
/// with the same arguments: read under the grammar's name, for their windows only (the query
/// sent is the policy's).
const RENAMED_IN_PROMETHEUS_3: [(&str, &str); 1] = [("holt_winters", "double_exponential_smoothing")];

/// Every selector's read; None when the grammar refuses the query, Err when a selector's read
/// is not a stretch before the evaluation time (why).
pub fn selector_reads(query: &str) -> Option<Result<Vec<Read>, String>> {
    let expr = grammar(query).ok()?;
    let mut out = Vec::new();
    Some(reads(&expr, Read::AT, &mut out).map(|()| out))
}

/// The query's syntax tree, by Prometheus's grammar, Prometheus 2.x's renamed functions read
/// under their new names: the one reading of a policy's query every rule of its syntax uses.
pub fn grammar(query: &str) -> Result<Expr, String> {
    let mut text = query.to_string();
    for (old, new) in RENAMED_IN_PROMETHEUS_3 {
        let mut renamed = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(found) = rest.find(old) {
            let before = &rest[..found];
            let after = &rest[found + old.len()..];
            // A whole name called: no name character either side, `(` after any blanks.
            let whole = !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && after.trim_start().starts_with('(');
            renamed.push_str(before);
            renamed.push_str(if whole { new } else { old });
            rest = after;
        }
        renamed.push_str(rest);
        text = renamed;
    }
    // First: the grammar refuses some misread durations (`4294967296s` read as zero), for
    // another reason than the duration Prometheus reads.
    if let Some(why) = misread_duration(query) {
        return Err(why);
    }
    parser::parse(&text)
}

/// The units of a Prometheus duration, largest first (the order they must be written in), in ms.
const DURATION_UNITS: [(&str, u128); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// A duration's text read exactly as Prometheus 2.x reads it (`model.ParseDuration`): fields
/// of digits and a unit, the units in the order y w d h m s ms, each at most once, every field
/// read whole, and refused when the whole exceeds Prometheus's own bound (an int64 count of
/// nanoseconds, about 292 years). The one home of what a PromQL duration is worth: the grammar
/// (`promql-parser`) reads a field of more than u32::MAX units as nothing (finding
/// round37-judge/01: `offset 1s4294967296ms` was 1 s to it and 49.7 days to Prometheus).
pub fn prometheus_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total_ms: u128 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &rest[digits..];
        let unit = if after.starts_with("ms") { "ms" } else { after.get(..1).unwrap_or("") };
        let place = DURATION_UNITS[next_unit..].iter().position(|(name, _)| *name == unit);
        let (Some(place), true) = (place, digits > 0) else {
            return Err(format!("`{text}` is not a duration (digits and units y w d h m s ms, largest first)"));
        };
        let (_, unit_ms) = DURATION_UNITS[next_unit + place];
        next_unit += place + 1;
        // Past 40 digits the field alone is beyond any bound: no need to read it.
        let field: u128 = rest[..digits.min(40)].parse().map_err(|_| format!("`{text}` is not a duration"))?;
        total_ms = total_ms.saturating_add(field.saturating_mul(unit_ms));
        if digits > 40 {
            total_ms = u128::MAX;
        }
        rest = &after[unit.len()..];
    }
    if total_ms.saturating_mul(1_000_000) > i64::MAX as u128 {
        return Err(format!("the duration `{text}` is longer than Prometheus reads (about 292 years)"));
    }
    Ok(Duration::from_millis(total_ms as u64))
}

/// A duration as Prometheus writes one: each unit largest first, whole (`7w17h2m47s297ms`).
fn promql_text(duration: Duration) -> String {
    let mut left = duration.as_millis();
    let mut text = String::new();
    for (unit, unit_ms) in DURATION_UNITS {
        if left >= unit_ms {
            text.push_str(&format!("{}{unit}", left / unit_ms));
            left %= unit_ms;
        }
    }
    if text.is_empty() {
        text.push_str("0s");
    }
    text
}

/// The index just past the string literal opening at `start` (`"…"`, `'…'`, `` `…` ``), as
/// Prometheus's lexer reads it: `\` escapes the next character in '…' and "…", never in `…`.
fn past_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != quote {
        i += if bytes[i] == b'\\' && quote != b'`' { 2 } else { 1 };
    }
    i + 1
}

/// Where a comment begins in `query` (a `#` outside its string literals), or None. A policy's
/// query is one line, so a comment runs to its end; exported rules embed the query in a larger
/// expression (`label_replace(…)`, `absent(…)`), where it would swallow the rest and Prometheus
/// would refuse the whole rule file: `query_refusal` refuses it when the policy loads.
pub fn comment_start(query: &str) -> Option<usize> {
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => i = past_string(bytes, i),
            b'#' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Every duration written in `query` (`5m`, `1h30m`), outside its string literals and comments:
/// the tokens Prometheus's lexer reads as durations, a number's digits followed by a unit.
fn duration_tokens(query: &str) -> Vec<&str> {
    let bytes = query.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' | b'\'' | b'`' => i = past_string(bytes, i),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                // A name (its digits are the name's, never a duration). A `:` alone is a
                // subquery's (`[10m:1m]`); a name starting with one is read from its next letter.
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':') {
                    i += 1;
                }
            }
            _ if c.is_ascii_digit() || c == b'.' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_') {
                    i += 1;
                }
                let token = &query[start..i];
                let unit_after_digits = token.trim_start_matches(|c: char| c.is_ascii_digit());
                if unit_after_digits.len() < token.len()
                    && unit_after_digits.starts_with(['y', 'w', 'd', 'h', 'm', 's'])
                {
                    found.push(token);
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// Why a duration written in `query` is read by the grammar other than Prometheus reads it (a
/// field the grammar drops, a length Prometheus refuses), naming the duration and both reads;
/// None when every duration is read exactly. `grammar` refuses such a query, so every rule of
/// its windows (ranges, offsets, subquery ranges and steps) is of the stretch Prometheus reads.
pub fn misread_duration(query: &str) -> Option<String> {
    duration_tokens(query).into_iter().find_map(|token| {
        let grammar_reads = promql_parser::util::parse_duration(token);
        match prometheus_duration(token) {
            Err(why) => Some(why),
            // Zero: Prometheus refuses it as the grammar does ("duration must be greater than 0").
            Ok(exact) if exact.is_zero() => None,
            Ok(exact) if grammar_reads.as_ref().ok() != Some(&exact) => Some(format!(
                "the duration `{token}` is {} to Prometheus, but gatecheck's PromQL grammar reads it as {}; \
                 write it as {0}",
                promql_text(exact),
                match grammar_reads {
                    Ok(read) => promql_text(read),
                    Err(why) => why,
                }
            )),
            Ok(_) => None,
        }
    })
}

/// Why `query` reads other than the stretch before its evaluation time (a negative offset, a
/// fixed `@`), or that its reads cannot be told at all; None when every selector reads a
/// stretch before the evaluation time. The policy refuses such a query when it loads.
///
/// Every rule read from a query's syntax tree — the windows a dated run is judged in, the
/// stretches coverage is measured over, how far back a judgement reads for history — holds only
/// for a query the grammar reads: one it refuses (a function or syntax Prometheus has and the
/// grammar lacks) escaped them all, read as reading nothing or the lookback (finding
/// round36-judge/01: `holt_winters(x[1h], ..)` had its coverage measured over 5 minutes, and
/// `.. @ <time> + 0 * holt_winters(..)` passed a pinned window). Refused, saying why.
pub fn unanchored(query: &str) -> Option<String> {
    match grammar(query) {
        Err(error) => Some(format!(
            "gatecheck cannot read which stretch it reads by Prometheus's grammar ({}), so no rule of its \
             windows (coverage, --at, history) could hold",
            crate::escape::line(error.trim())
        )),
        Ok(expr) => reads(&expr, Read::AT, &mut Vec::new()).err(),
    }
}

/// Where every selector of `query` reads at once: the intersection of their reads (`Read::is_empty` when they share no instant), or Ok(None) when it reads no
/// series at all (`vector(1)`). A query the grammar refuses reads the lookback as far as can
/// be told; Err says why a query is `unanchored`.
pub fn window(query: &str) -> Result<Option<Read>, String> {
    let Some(reads) = selector_reads(query) else { return Ok(Some(Read::AT.then(Duration::ZERO, LOOKBACK))) };
    Ok(reads?.into_iter().reduce(|a, b| Read { near: a.near.max(b.near), far: a.far.min(b.far) }))
}

/// The furthest back from its evaluation time that `query` reads (zero when it reads no
/// series), or None when the grammar refuses it or its reads are `unanchored`.
pub fn reads_back(query: &str) -> Option<Duration> {
    let reads = selector_reads(query)?.ok()?;
    Some(reads.into_iter().map(|read| read.far).max().unwrap_or_default())
}

/// Whether a query whose selectors all read `window` when evaluated at `at` holds the end of a
/// run that ended at `run_end` (unix seconds): `near <= at - run_end <= far`.
pub fn holds_run_end(at: i64, run_end: i64, window: Read) -> bool {
    let gap_ms = (i128::from(at) - i128::from(run_end)) * 1000;
    (window.near.as_millis() as i128) <= gap_ms && gap_ms <= window.far.as_millis() as i128
}

/// The evaluation times (unix seconds, earliest and latest) at which `window` holds the end of
/// a run that ended at `run_end`, or None when there is none (an empty window, or one
/// narrower than a whole second between its edges).
pub fn evaluation_times_holding(run_end: i64, window: Read) -> Option<(i64, i64)> {
    let secs = |ms: u128| i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let earliest = run_end.saturating_add(secs(window.near.as_millis() + 999));
    let latest = run_end.saturating_add(secs(window.far.as_millis()));
    (earliest <= latest).then_some((earliest, latest))
}

/// A PromQL duration written with its units (`10m`, `1h30m`, `250ms`); None for anything else,
/// a bare number too (the grammar reads `15` as seconds, but in a policy's text it is a count).
pub fn duration(text: &str) -> Option<Duration> {
    if !text.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    prometheus_duration(text).ok().filter(|read| !read.is_zero())
}

#[cfg(test)]
mod tests {

    /// A comment is found outside string literals only, wherever a `#` sits inside them.
    #[test]
    fn a_comment_is_a_hash_outside_string_literals() {
        assert_eq!(comment_start("max(lag_seconds) # the worst"), Some(17));
        assert_eq!(comment_start("#x"), Some(0));
        assert_eq!(comment_start("up{path=\"/#a\"}"), None);
        assert_eq!(comment_start("up{path='#'} or up{p=`#\\`}"), None);
        assert_eq!(comment_start("up{path=\"\\\"#\"} # c"), Some(15));
    }

    proptest! {
        /// Any query of literals holding `#` and quotes is comment-free; one `#` after them starts one.
        #[test]
        fn a_comment_is_found_exactly_where_one_is_written(
            parts in proptest::collection::vec(("[a-z(){}=, ]{0,6}", 0..3usize, "[a-z#'` ]{0,6}"), 0..5),
            comment in proptest::option::of("[a-z #\"']{0,8}"),
        ) {
            let mut query = String::new();
            for (code, quote, inside) in &parts {
                query.push_str(code);
                let quote = ['"', '\'', '`'][*quote];
                query.push(quote);
                query.push_str(&inside.replace(quote, ""));
                query.push(quote);
            }
            let before = query.len();
            if let Some(comment) = &comment {
                query.push('#');
                query.push_str(comment);
            }
            prop_assert_eq!(comment_start(&query), comment.as_ref().map(|_| before), "{}", query);
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn read(near: u64, far: u64) -> Read {
        Read { near: mins(near), far: mins(far) }
    }

    /// What follows a selector or a subquery: an `@` and an offset (minutes, negative reading
    /// ahead), each perhaps absent. promql-parser refuses `offset 0m`.
    #[derive(Debug, Clone, Copy)]
    enum At {
        None,
        Start,
        End,
        Fixed(u64),
    }

    fn modifiers(at: At, offset: i64) -> String {
        let at = match at {
            At::None => String::new(),
            At::Start => " @ start()".into(),
            At::End => " @ end()".into(),
            At::Fixed(unix) => format!(" @ {unix}"),
        };
        let offset = if offset == 0 { String::new() } else { format!(" offset {offset}m") };
        format!("{at}{offset}")
    }

    fn arb_modifiers() -> impl Strategy<Value = (At, i64)> {
        let at = prop_oneof![
            6 => Just(At::None),
            1 => Just(At::Start),
            1 => Just(At::End),
            1 => (1_600_000_000u64..1_900_000_000).prop_map(At::Fixed),
        ];
        let offset = prop_oneof![4 => Just(0i64), 4 => 1i64..40, 1 => -40i64..0];
        (at, offset)
    }

    /// What a query reads, by construction: each selector's read relative to the evaluation
    /// time of the node built so far, and whether `@ start()`/`@ end()` has put it at the
    /// query's own evaluation time (then no enclosing subquery moves it); or that it cannot be
    /// read as a stretch before the evaluation time (a negative offset or a fixed `@`).
    #[derive(Debug, Clone)]
    struct Built {
        text: String,
        reads: Vec<(Read, bool)>,
        unanchored: bool,
    }

    /// One node's `@` and offset over what it reads `range` before each of its evaluation
    /// times (`inner`: the reads of what it encloses, or one selector's own zero-width read).
    fn apply(inner: Vec<(Read, bool)>, at: At, offset: i64, range: u64) -> (Vec<(Read, bool)>, bool) {
        let unanchored = offset < 0 || matches!(at, At::Fixed(_));
        let by = offset.max(0) as u64;
        let pinned = matches!(at, At::Start | At::End);
        let reads = inner
            .into_iter()
            .map(|(r, was_pinned)| {
                if was_pinned {
                    (r, true)
                } else {
                    (Read { near: r.near + mins(by), far: r.far + mins(by + range) }, pinned)
                }
            })
            .collect();
        (reads, unanchored)
    }

    fn arb_query() -> impl Strategy<Value = Built> {
        let leaf = prop_oneof![
            (1u64..60, arb_modifiers()).prop_map(|(range, (at, offset))| {
                let (reads, unanchored) = apply(vec![(Read::AT, false)], at, offset, range);
                Built { text: format!("rate(x[{range}m]{})", modifiers(at, offset)), reads, unanchored }
            }),
            arb_modifiers().prop_map(|(at, offset)| {
                let (reads, unanchored) = apply(vec![(Read::AT, false)], at, offset, 5);
                Built { text: format!("y{}", modifiers(at, offset)), reads, unanchored }
            }),
            Just(Built { text: "vector(1)".into(), reads: vec![], unanchored: false }),
        ];
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Built {
                    text: format!("({}) + ({})", a.text, b.text),
                    reads: a.reads.into_iter().chain(b.reads).collect(),
                    unanchored: a.unanchored || b.unanchored,
                }),
                inner.clone().prop_map(|a| Built { text: format!("sum by (le) ({})", a.text), ..a }),
                (inner.clone(), 1u64..30, arb_modifiers()).prop_map(|(a, range, (at, offset))| {
                    let (reads, unanchored) = apply(a.reads, at, offset, range);
                    Built {
                        text: format!("max_over_time(({})[{range}m:1m]{})", a.text, modifiers(at, offset)),
                        reads,
                        unanchored: unanchored || a.unanchored,
                    }
                }),
                (inner, 1u64..30).prop_map(|(a, range)| {
                    let (reads, unanchored) = apply(a.reads, At::None, 0, range);
                    Built {
                        text: format!("quantile_over_time(0.9, ({})[{range}m:])", a.text),
                        reads,
                        unanchored: unanchored || a.unanchored,
                    }
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Rule (findings round29-judge/03, round30-judge/01 and /02): each selector reads
        /// `[at - far, at - near]`, its offsets and the ranges around it added up, `@ start()`
        /// and `@ end()` at the evaluation time itself; a query is judged at `at` only where
        /// every read holds the run's end; one with a negative offset or a fixed `@` anywhere
        /// is refused, never read as something it is not.
        #[test]
        fn a_query_reads_what_its_construction_reads(built in arb_query(), gap_s in -600i64..12_000) {
            let query = &built.text;
            if built.unanchored {
                let why = unanchored(query);
                prop_assert!(why.as_deref().is_some_and(|w| w.contains("offset -") || w.contains("@ ")), "{} {:?}", query, why);
                prop_assert!(window(query).is_err(), "{}", query);
                prop_assert_eq!(reads_back(query), None, "{}", query);
                return Ok(());
            }
            prop_assert_eq!(unanchored(query), None, "{}", query);
            let reads: Vec<Read> = built.reads.iter().map(|(r, _)| *r).collect();
            let far = reads.iter().map(|r| r.far).max().unwrap_or_default();
            prop_assert_eq!(reads_back(query), Some(far), "{}", query);
            let Some(common) = window(query).unwrap() else {
                prop_assert!(reads.is_empty(), "{}", query);
                return Ok(());
            };
            let run_end = 1_767_225_600i64;
            let at = run_end + gap_s;
            let each = reads.iter().all(|r| {
                let gap = Duration::from_secs(gap_s.unsigned_abs());
                gap_s >= 0 && r.near <= gap && gap <= r.far
            });
            prop_assert_eq!(holds_run_end(at, run_end, common), each, "{} at +{}s", query, gap_s);
            match evaluation_times_holding(run_end, common) {
                Some((earliest, latest)) => {
                    prop_assert!(!common.is_empty());
                    prop_assert!(holds_run_end(earliest, run_end, common) && holds_run_end(latest, run_end, common));
                    prop_assert!(!holds_run_end(earliest - 1, run_end, common) && !holds_run_end(latest + 1, run_end, common));
                }
                // Minutes only here: a window holds a whole second exactly when it is not empty.
                None => prop_assert!(common.is_empty() && !each, "{}", query),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Rule (finding round36-judge/01): every query's reads are told from the grammar or the
        /// query is refused: beside a function the grammar does not know, any query — anchored
        /// or not — is unanchored, never read as what the grammar could read of it; beside
        /// Prometheus 2.x's `holt_winters` it reads what its construction reads and the
        /// function's own range.
        #[test]
        fn a_query_is_read_whole_or_refused(built in arb_query(), minutes in 1u64..180) {
            let query = &built.text;
            let unknown = format!("({query}) + 0 * frobnicate(y[{minutes}m])");
            prop_assert!(unanchored(&unknown).is_some_and(|w| w.contains("cannot read")), "{}", unknown);
            prop_assert_eq!(reads_back(&unknown), None, "{}", unknown);
            let trend = format!("({query}) + 0 * holt_winters(y[{minutes}m], 0.5, 0.5)");
            if built.unanchored {
                prop_assert!(unanchored(&trend).is_some(), "{}", trend);
                return Ok(());
            }
            prop_assert_eq!(unanchored(&trend), None, "{}", trend);
            let far = built.reads.iter().map(|(r, _)| r.far).max().unwrap_or_default();
            prop_assert_eq!(reads_back(&trend), Some(far.max(Duration::from_secs(60 * minutes))), "{}", trend);
        }
    }

    /// Finding round29-judge/01: the window a query reads, from its text.
    #[test]
    fn a_query_reads_back_as_far_as_its_furthest_selector() {
        let minutes = |m: u64| Some(mins(m));
        assert_eq!(reads_back("max_over_time(backlog[10m])"), minutes(10));
        assert_eq!(reads_back("up"), minutes(5));
        assert_eq!(reads_back("vector(1)"), minutes(0));
        assert_eq!(reads_back("rate(x[5m] offset 1h) / on() group_left sum(y)"), minutes(65));
        assert_eq!(reads_back("max_over_time(rate(x[5m])[10m:1m] offset 2m)"), minutes(17));
        assert_eq!(reads_back("quantile_over_time(0.95, x[30m]) > bool 1"), minutes(30));
        assert_eq!(reads_back("histogram_quantile(0.9, sum by (le) (increase(b[15m])))"), minutes(15));
        assert_eq!(reads_back("topk(scalar(max_over_time(k[20m])), x)"), minutes(20));
        // `@ end()` puts a selector back at the evaluation time, out of the subquery around it.
        assert_eq!(reads_back("max_over_time(rate(x[5m] @ end())[1h:1m])"), minutes(5));
        assert_eq!(reads_back("x offset -10m"), None);
        assert_eq!(reads_back("max_over_time("), None);
    }

    #[test]
    fn the_window_of_each_shape() {
        let window = |query: &str| window(query).unwrap();
        let lag = "histogram_quantile(0.95, sum by (le) (increase(waxwatch_scheduler_lag_seconds_bucket[10m])))";
        assert_eq!(window(lag), Some(read(0, 10)));
        assert_eq!(window("max_over_time(waxwatch_db_connection_utilization[10m])"), Some(read(0, 10)));
        assert_eq!(window("waxwatch_queue_depth"), Some(read(0, 5)));
        assert_eq!(window("sum(x{path=~\"/a[0-9]+\"}) / sum(y)"), Some(read(0, 5)));
        // Where all parts read at once: a 5m numerator over a 1h denominator, the last 5 minutes.
        assert_eq!(window("sum(rate(e[5m])) / sum(rate(t[1h]))"), Some(read(0, 5)));
        // Subqueries push what they enclose further back; offsets move both edges.
        assert_eq!(window("max_over_time(rate(x[1m])[30m:1m])"), Some(read(0, 31)));
        assert_eq!(window("max_over_time((x == x)[30m:15s])"), Some(read(0, 35)));
        assert_eq!(window("rate(x[10m] offset 1h)"), Some(read(60, 70)));
        assert_eq!(window("max_over_time(x[10m:1m] offset 5m)"), Some(read(5, 20)));
        assert_eq!(window("max_over_time(rate(x[1m] offset 2m)[10m:1m] offset 5m)"), Some(read(7, 18)));
        // Finding round30-judge/02: `[10m] offset 30m` reads from 40 to 30 minutes back.
        assert_eq!(window("sum by (le) (increase(b[10m] offset 30m))"), Some(read(30, 40)));
        // Parts that share no instant: an empty window, no `--at` holds a run's end in both.
        let apart = window("rate(x[10m]) / rate(x[10m] offset 1h)").unwrap();
        assert_eq!(apart, read(60, 10));
        assert!(apart.is_empty());
        assert_eq!(evaluation_times_holding(0, apart), None);
        // `@ start()` and `@ end()` are the evaluation time, even inside a subquery.
        assert_eq!(window("rate(x[10m] @ end())"), Some(read(0, 10)));
        assert_eq!(window("max_over_time(rate(x[10m] @ start() offset 1m)[1h:1m])"), Some(read(1, 11)));
        assert_eq!(window("max_over_time(rate(x[1m])[30m:1m] @ end() offset 2m)"), Some(read(2, 33)));
        // Label lists, keywords and strings read no series.
        assert_eq!(window("sum without (instance) (rate(x[2m])) > bool 0"), Some(read(0, 2)));
        assert_eq!(window("rate(a[3m]) / on (job) group_left (team) rate(b[4m])"), Some(read(0, 3)));
        assert_eq!(window("vector(1)"), None);
        assert_eq!(window("scalar(sum(rate(a[7m]))) / scalar(sum(rate(b{c='x)'}[7m])))"), Some(read(0, 7)));
    }

    /// Finding round30-judge/01: a fixed `@` and a negative offset read other than the stretch
    /// before the evaluation time; `@ start()`/`@ end()` do not.
    /// Finding round36-judge/01: a query the grammar refuses was read as reading nothing (or
    /// the lookback), so a pinned selector beside it loaded and coverage measured 5 minutes of
    /// an hour's query; it is unanchored now, saying why. Prometheus 2.x's `holt_winters` is
    /// read as the grammar's `double_exponential_smoothing` (same arguments): its reads are known.
    #[test]
    fn a_query_the_grammar_refuses_is_unanchored_and_holt_winters_is_read() {
        for unreadable in ["max_over_time(x[5m]) + 0 * frobnicate(x[5m])", "max_over_time(", "sum(x) or)"] {
            let why = unanchored(unreadable).unwrap_or_else(|| panic!("{unreadable}"));
            assert!(why.contains("cannot read which stretch"), "{why}");
        }
        let hour = Duration::from_secs(3600);
        assert_eq!(reads_back("holt_winters(x[1h], 0.5, 0.5)"), Some(hour));
        assert_eq!(reads_back("holt_winters (x[1h] offset 10m, 0.5, 0.5)"), Some(hour + Duration::from_secs(600)));
        assert!(unanchored("max_over_time(x[5m] @ 100) + 0 * holt_winters(x[5m], 0.5, 0.5)").is_some());
        // Only the function's whole name, called: a metric or label holding the text is left alone.
        assert_eq!(reads_back("max_over_time(my_holt_winters[2h])"), Some(2 * hour));
        assert_eq!(reads_back("max_over_time(holt_winters_total{a=\"holt_winters(\"}[2h])"), Some(2 * hour));
    }

    /// Finding round37-judge/01: the grammar read `1s4294967296ms` as 1 s (a field of more than
    /// u32::MAX units read as nothing) where Prometheus reads 49d17h2m47.297s; such a query is
    /// refused, naming the duration, wherever the duration stands. Strings and comments hold
    /// no duration.
    #[test]
    fn a_duration_the_grammar_misreads_is_refused() {
        assert_eq!(prometheus_duration("1s4294967296ms"), Ok(Duration::from_millis(4_294_968_296)));
        assert_eq!(duration("1s4294967296ms"), Some(Duration::from_millis(4_294_968_296)));
        for query in [
            "max_over_time(job_lag_seconds[10m] offset 1s4294967296ms)",
            "max_over_time(x[10m4294967296ms])",
            "max_over_time(rate(x[1m])[4294967296s:1m])",
            "max_over_time(rate(x[1m])[10m:1m4294967296ms])",
            "max_over_time(rate(x[1m])[10m:1m] offset 4294967296s)",
            "max_over_time(x[300y])",
        ] {
            let why = unanchored(query).unwrap_or_else(|| panic!("{query}"));
            assert!(why.contains("the duration `"), "{why}");
            assert!(misread_duration(query).is_some() && grammar(query).is_err(), "{query}");
            assert_eq!(reads_back(query), None, "{query}");
        }
        let why = misread_duration("max_over_time(job_lag_seconds[10m] offset 1s4294967296ms)").unwrap();
        assert!(why.contains("`1s4294967296ms` is 7w17h2m48s296ms to Prometheus") && why.contains("as 1s;"), "{why}");
        assert_eq!(misread_duration("max_over_time(x{a=\"4294967296ms\"}[5m]) # 4294967296ms"), None);
        assert_eq!(reads_back("max_over_time(x{a=`5h`}[5m]) # [9h]\n + 1e5 + 0x1d + 1.5"), Some(mins(5)));
        assert_eq!(reads_back("max_over_time(job:x5m[5m:1m])"), Some(mins(10)));
    }

    /// A duration's fields, largest unit first: (unit index into `DURATION_UNITS`, count), some
    /// beyond u32::MAX, some zero.
    fn arb_fields() -> impl Strategy<Value = Vec<(usize, u64)>> {
        let count = prop_oneof![0u64..100, 4_294_967_000u64..4_294_968_000, 0u64..u64::MAX];
        proptest::collection::vec((any::<bool>(), count), DURATION_UNITS.len()).prop_filter_map(
            "at least one field",
            |picks| {
                let fields: Vec<(usize, u64)> = picks
                    .into_iter()
                    .enumerate()
                    .filter(|(_, (keep, _))| *keep)
                    .map(|(unit, (_, n))| (unit, n))
                    .collect();
                (!fields.is_empty()).then_some(fields)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Rule (finding round37-judge/01): a duration written with any split of units, in a
        /// range, an offset, a subquery's range or step, is read as the exact sum of its parts
        /// (u128 here) or the query is refused; one the grammar reads exactly is never refused.
        #[test]
        fn every_duration_is_read_as_its_parts_add_up_or_refused(fields in arb_fields(), place in 0usize..4) {
            let text: String = fields.iter().map(|(unit, n)| format!("{n}{}", DURATION_UNITS[*unit].0)).collect();
            let exact_ms: u128 = fields.iter().map(|(unit, n)| u128::from(*n) * DURATION_UNITS[*unit].1).sum();
            let (query, back_ms) = match place {
                0 => (format!("max_over_time(x[{text}])"), exact_ms),
                1 => (format!("max_over_time(x[5m] offset {text})"), exact_ms + 300_000),
                2 => (format!("max_over_time(rate(x[1m])[{text}:1m])"), exact_ms + 60_000),
                _ => (format!("max_over_time(rate(x[1m])[10m:{text}])"), 660_000),
            };
            let readable = exact_ms > 0
                && exact_ms * 1_000_000 <= i64::MAX as u128
                && fields.iter().all(|(_, n)| *n <= u64::from(u32::MAX));
            // Read exactly exactly when Prometheus reads it and the grammar reads it whole;
            // refused otherwise, wherever it stands (a subquery's step reads nothing back).
            match reads_back(&query) {
                Some(back) => {
                    prop_assert!(readable, "{} read as {:?}", query, back);
                    prop_assert_eq!(back.as_millis(), back_ms, "{}", query);
                }
                None => {
                    prop_assert!(!readable, "{} refused: {:?}", query, unanchored(&query));
                    prop_assert!(unanchored(&query).is_some(), "{}", query);
                }
            }
            prop_assert_eq!(duration(&text).map(|d| d.as_millis()), (exact_ms > 0 && exact_ms * 1_000_000 <= i64::MAX as u128).then_some(exact_ms), "{}", text);
        }
    }

    #[test]
    fn a_fixed_instant_or_a_negative_offset_is_unanchored() {
        let lag = |modifiers: &str| format!("histogram_quantile(1, sum by (le) (increase(b[10m]{modifiers})))");
        let pinned = unanchored(&lag(" @ 1767232800")).unwrap();
        assert!(pinned.contains("`@ 1767232800.000` pins a selector to a fixed instant"), "{pinned}");
        let ahead = unanchored(&lag(" offset -2h")).unwrap();
        assert!(ahead.contains("`offset -2h` reads after the evaluation time"), "{ahead}");
        assert!(unanchored("max_over_time(rate(x[1m])[10m:1m] offset -1m)").is_some());
        assert!(unanchored("max_over_time(rate(x[1m])[10m:1m] @ 100)").is_some());
        assert!(window(&lag(" offset -2h")).is_err());
        for anchored in [lag(""), lag(" @ start()"), lag(" @ end() offset 5m"), lag(" offset 30m")] {
            assert_eq!(unanchored(&anchored), None, "{anchored}");
        }
    }

    #[test]
    fn the_run_end_is_held_between_the_near_and_far_edges() {
        let end = 1_767_225_600;
        let window = read(30, 40);
        assert!(!holds_run_end(end + 300, end, window));
        assert!(!holds_run_end(end + 1799, end, window));
        assert!(holds_run_end(end + 1800, end, window));
        assert!(holds_run_end(end + 2400, end, window));
        assert!(!holds_run_end(end + 2401, end, window));
        assert!(!holds_run_end(end - 1, end, read(0, 10)));
        assert_eq!(evaluation_times_holding(end, window), Some((end + 1800, end + 2400)));
        let subsecond = Read { near: Duration::from_millis(1500), far: Duration::from_millis(1900) };
        assert_eq!(evaluation_times_holding(end, subsecond), None);
    }
}
