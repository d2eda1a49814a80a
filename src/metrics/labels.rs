//! Prometheus label sets written as PromQL writes them: `{provider="mailgun",region="eu"}`.
//!
//! The one reader and writer of label-set text, so two spellings of one set are one set and two
//! sets are never one spelling (finding round16-judge/01: text compared with its whitespace
//! removed made `{provider="mailgun"}` name `{provider="mail gun"}` too). A set is label name ->
//! exact value: PromQL's string literals are read (double or single quotes with Go's escapes,
//! backquotes raw), whitespace may stand only between tokens, a trailing comma is allowed, and
//! a label with an empty value is no label, as Prometheus reads it. Only `=` matchers: a set
//! names series, it does not select them.

use std::collections::BTreeMap;
use std::fmt;

/// A label set: name -> value, no empty value.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelSet(BTreeMap<String, String>);

impl LabelSet {
    /// The set of `labels`, less empty values (no label to Prometheus). The metric name
    /// (`__name__`) is one of its labels: an answer may hold series that differ by it alone
    /// (`{__name__=~"a|b"}`, `a or b`), which are two series (finding round17-judge/01: read
    /// without it, they were shown, and waived, as one).
    pub fn of<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> LabelSet {
        LabelSet(
            labels
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// Removes a label, returning its value (`__name__` from a parsed selector).
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// Reads `{name="value",...}`; a metric name before the braces (`up{job="a"}`, or `up`
    /// alone) is read as the label `__name__`, as PromQL does. Errors say what was expected,
    /// without the text (the caller names where it came from).
    pub fn parse(text: &str) -> Result<LabelSet, String> {
        Reader { chars: text.chars().collect(), at: 0 }.selector()
    }
}

impl fmt::Display for LabelSet {
    /// `{a="x",b="y\"z"}`: names in order, values quoted with the escapes `parse` reads, so
    /// `parse(to_string(s)) == s`. A metric name is written before the braces as PromQL writes
    /// it (`up{job="a"}`), or as the label `__name__` when it is no metric-name token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = self.get("__name__").filter(|name| is_metric_name(name));
        if let Some(name) = metric {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let labels = self.0.iter().filter(|(name, _)| metric.is_none() || name.as_str() != "__name__");
        for (index, (name, value)) in labels.enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}=\"")?;
            for c in value.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

/// A metric-name token as `Reader` reads one before the braces: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.at += usize::from(c.is_some());
        c
    }

    fn space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*` (with `:` for a metric name).
    fn name(&mut self, colon: bool) -> String {
        let start = self.at;
        while let Some(c) = self.peek() {
            let first = self.at == start;
            let fits = c.is_ascii_alphabetic() || c == '_' || (colon && c == ':') || (!first && c.is_ascii_digit());
            if !fits {
                break;
            }
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn selector(mut self) -> Result<LabelSet, String> {
        let mut labels = BTreeMap::new();
        self.space();
        let metric = self.name(true);
        if !metric.is_empty() {
            labels.insert("__name__".to_string(), metric);
        }
        self.space();
        if self.peek().is_none() && !labels.is_empty() {
            return Ok(LabelSet(labels));
        }
        if self.next() != Some('{') {
            return Err("expected a label set such as {instance=\"db-1\"}".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        loop {
            self.space();
            if self.peek() == Some('}') {
                self.at += 1;
                break;
            }
            let name = self.name(false);
            if name.is_empty() {
                return Err("expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) or `}`".into());
            }
            self.space();
            match (self.next(), self.peek()) {
                (Some('='), Some('~')) | (Some('!'), _) => {
                    return Err(format!("label {name}: only `=` names a series (no `!=`, `=~`, `!~`)"))
                }
                (Some('='), _) => {}
                _ => return Err(format!("label {name}: expected `=` and a quoted value")),
            }
            self.space();
            let value = self.string().map_err(|why| format!("label {name}: {why}"))?;
            if !seen.insert(name.clone()) {
                return Err(format!("label {name} is given twice"));
            }
            if name == "__name__" && labels.contains_key("__name__") {
                return Err("the metric name is given twice".into());
            }
            // An empty value is no label, as Prometheus reads it.
            if !value.is_empty() {
                labels.insert(name.clone(), value);
            }
            self.space();
            match self.next() {
                Some(',') => {}
                Some('}') => break,
                _ => return Err(format!("label {name}: expected `,` or `}}` after its value")),
            }
        }
        self.space();
        if self.peek().is_some() {
            return Err("text after the closing `}`".into());
        }
        Ok(LabelSet(labels))
    }

    /// A PromQL string literal: "…" or '…' with Go's escapes, or `…` raw.
    fn string(&mut self) -> Result<String, String> {
        let quote = match self.next() {
            Some(q @ ('"' | '\'' | '`')) => q,
            _ => return Err("expected a quoted value (\"…\", '…' or `…`)".into()),
        };
        let mut bytes = Vec::new();
        let push = |bytes: &mut Vec<u8>, c: char| bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        loop {
            let c = self.next().ok_or("the quoted value is not closed")?;
            match c {
                c if c == quote => break,
                '\\' if quote != '`' => self.escape(quote, &mut bytes)?,
                '\n' if quote != '`' => return Err("a quoted value does not span lines (write \\n)".into()),
                c => push(&mut bytes, c),
            }
        }
        String::from_utf8(bytes).map_err(|_| "the value's escapes are not UTF-8".to_string())
    }

    /// One escape after `\`, as Go's strconv.UnquoteChar reads it (PromQL's string literals).
    fn escape(&mut self, quote: char, bytes: &mut Vec<u8>) -> Result<(), String> {
        let c = self.next().ok_or("the quoted value is not closed")?;
        let simple = match c {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            c if c == quote => Some(c),
            _ => None,
        };
        if let Some(c) = simple {
            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            return Ok(());
        }
        match c {
            'x' => bytes.push(self.digits(2, 16, c)? as u8),
            '0'..='7' => {
                self.at -= 1;
                let value = self.digits(3, 8, c)?;
                bytes.push(u8::try_from(value).map_err(|_| "an octal escape above \\377".to_string())?);
            }
            'u' | 'U' => {
                let value = self.digits(if c == 'u' { 4 } else { 8 }, 16, c)?;
                let c = char::from_u32(value).ok_or_else(|| format!("\\{c}{value:x} is no Unicode character"))?;
                bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            other => return Err(format!("an unknown escape \\{other}")),
        }
        Ok(())
    }

    /// `count` digits in `radix`, of the escape letter `escape`.
    fn digits(&mut self, count: usize, radix: u32, escape: char) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..count {
            let digit =
                self.next().and_then(|d| d.to_digit(radix)).ok_or_else(|| format!("a bad \\{escape} escape"))?;
            value = value * radix + digit;
        }
        Ok(value)
    }
}

/// Label sets and their spellings for property tests, here and where sets are matched.
#[cfg(test)]
pub(crate) mod spelled {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    /// Label values as a hostile writer picks them: spaces, quotes, backslashes, case, control
    /// characters, non-ASCII.
    fn value() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![' ', '"', '\'', '\\', '\n', '\t', '\u{1b}', 'é', 'a', 'b', 'A', 'B']),
            0..6,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// A label set (empty values included: they are no label).
    pub fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "job", "_x1", "__name__"]).prop_map(String::from),
            value(),
            0..4,
        )
    }

    /// `labels` with one value changed as a near miss would be: a space added or removed, a
    /// letter's case flipped, a quote or backslash added, or emptied (the label gone).
    pub fn nudged(labels: &BTreeMap<String, String>, which: usize, how: u8) -> BTreeMap<String, String> {
        let mut out = labels.clone();
        let Some(key) = out.keys().nth(which % out.len().max(1)).cloned() else {
            out.insert("a".into(), "x".into());
            return out;
        };
        let value = out.get_mut(&key).expect("a key of the map");
        let changed = match how % 5 {
            0 if value.contains(' ') => value.replacen(' ', "", 1),
            0 => format!("{value} "),
            1 if value.chars().any(|c| c.is_ascii_alphabetic()) => value
                .chars()
                .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect(),
            1 | 2 => format!("{value}\""),
            3 => format!("\\{value}"),
            _ if value.is_empty() => "x".into(),
            _ => String::new(),
        };
        *value = changed;
        out
    }

    /// One way to write a value as PromQL reads it: either quote or raw, escapes where needed
    /// or not.
    fn written(value: &str, style: u8) -> String {
        if style % 3 == 2 && !value.contains('`') {
            return format!("`{value}`");
        }
        let quote = if style.is_multiple_of(3) { '"' } else { '\'' };
        let mut out = String::from(quote);
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if c == quote => out.push_str(&format!("\\{c}")),
                ' ' if style & 4 != 0 => out.push_str("\\x20"),
                'a' if style & 8 != 0 => out.push_str("\\u0061"),
                c => out.push(c),
            }
        }
        out.push(quote);
        out
    }

    /// Ways to write a set: quoting per label, spacing between tokens, order.
    #[derive(Debug, Clone)]
    pub struct Spelling {
        styles: Vec<u8>,
        spaces: Vec<&'static str>,
        reversed: bool,
        trailing_comma: bool,
    }

    pub fn spelling() -> impl Strategy<Value = Spelling> {
        (
            prop::collection::vec(any::<u8>(), 4),
            prop::collection::vec(prop::sample::select(vec!["", " ", "\t", "\n  "]), 6),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(styles, spaces, reversed, trailing_comma)| Spelling {
                styles,
                spaces,
                reversed,
                trailing_comma,
            })
    }

    /// `labels` written in `spelling`.
    pub fn spell(labels: &BTreeMap<String, String>, spelling: &Spelling) -> String {
        let Spelling { styles, spaces, reversed, trailing_comma } = spelling;
        let mut pairs: Vec<(&String, &String)> = labels.iter().collect();
        if *reversed {
            pairs.reverse();
        }
        let body: Vec<String> = pairs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                let gap = |n: usize| spaces[(i + n) % spaces.len()];
                format!("{}{k}{}={}{}{}", gap(0), gap(1), gap(2), written(v, styles[i % styles.len()]), gap(3))
            })
            .collect();
        let comma = if *trailing_comma && !body.is_empty() { "," } else { "" };
        format!("{}{{{}{comma}{}}}{}", spaces[4], body.join(","), spaces[5], spaces[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(pairs: &[(&str, &str)]) -> LabelSet {
        LabelSet(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn spellings_of_one_set_are_one_set() {
        let one = set(&[("provider", "mail gun"), ("region", "eu")]);
        for text in [
            r#"{provider="mail gun",region="eu"}"#,
            "{ region = 'eu' ,\n provider=\"mail gun\", }",
            r#"{provider="mail\x20gun",region=`eu`,zone=""}"#,
            r#"{provider="mail\040gun",region="\u0065u"}"#,
        ] {
            assert_eq!(LabelSet::parse(text), Ok(one.clone()), "{text}");
        }
        assert_eq!(LabelSet::parse(r#"up{job="a"}"#).unwrap().get("__name__"), Some("up"));
        assert_eq!(LabelSet::parse("{}"), Ok(LabelSet::default()));
    }

    #[test]
    fn what_is_no_label_set_is_refused() {
        for text in [
            r#"provider="mailgun""#,
            r#"{provider=~"mail.*"}"#,
            r#"{provider!="x"}"#,
            r#"{provider="mailgun"#,
            r#"{provider=mailgun}"#,
            r#"{provider="a",provider="b"}"#,
            r#"{provider="a"} x"#,
            r#"{provider="\q"}"#,
            r#"{provider="\xff"}"#,
            r#"{1a="x"}"#,
        ] {
            assert!(LabelSet::parse(text).is_err(), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Finding round16-judge/01, the class: any set written with any spacing, order, quoting
        /// and escapes reads back as itself (and its canonical text too); a set with any value
        /// changed (a space, case, a quote, an escape, emptied) never reads as it.
        #[test]
        fn spellings_never_merge_or_split_sets(
            a in spelled::labels(),
            spelling in spelled::spelling(),
            which in any::<usize>(),
            how in any::<u8>(),
        ) {
            let expected = LabelSet::of(&a);
            let text = spelled::spell(&a, &spelling);
            prop_assert_eq!(LabelSet::parse(&text), Ok(expected.clone()), "{}", text);
            prop_assert_eq!(LabelSet::parse(&expected.to_string()), Ok(expected.clone()));
            let near = spelled::nudged(&a, which, how);
            let other = LabelSet::of(&near);
            let near_text = spelled::spell(&near, &spelling);
            prop_assert_eq!(LabelSet::parse(&near_text), Ok(other.clone()), "{}", near_text);
            prop_assert_ne!(&expected, &other, "{:?} vs {:?}", a, near);
            prop_assert_eq!(expected.to_string() == other.to_string(), expected == other);
        }
    }
}
