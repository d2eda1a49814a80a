//! Where a text holds a credential's characters in order with other text between them: the
//! class behind every "new way to quote it" that is not an encoding of the whole value — a
//! list of its characters (Java's `[p, r, o]`, Python's `['p', 'r']`, JSON's `["p","r"]`, Go's
//! `[p r o]`), shell quoting (`pass\ word`), quote doubling (`it''s`), an escaped or
//! entity-quoted separator (`\"p\", \"r\"`, `&#39;p&#39;`), and each byte written as a number
//! (`70-00-72-00` for UTF-16, Perl's `\x{70}`, `&#112` without its `;`, octal `\160`).
//!
//! Both sides are reduced to their *skeleton*: the ASCII letters and digits, lower-cased, in
//! order. In the text, a run of anything else (punctuation, quotes, spaces, line breaks,
//! `\n`-style escapes, character references and `%XX` of such characters) of at most `MAX_GAP`
//! gap units joins the letters around it; a longer run, or a letter beyond ASCII, breaks the
//! skeleton. A gap's units are its bytes other than whitespace, and one for each run of
//! whitespace (written or escaped): indentation of any depth is one unit, so a list
//! pretty-printed at any depth is joined (finding round16-text/02), and the walk stays linear. A
//! credential's skeleton is taken from the value itself and from each per-byte rendering a
//! server may print (hex, `x` + hex, `0x` + hex, `u` + 4 hex, decimal, octal, UTF-16 hex either
//! way round). A run of the text's skeleton equal to a piece of a target covering at least
//! `SHORTEST_CUT` bytes of the credential and as many skeleton characters is masked, from its
//! first character to its last. A target with less is masked only whole and only as a word of
//! its own (no letter or digit right before or after it), since short skeletons occur in
//! ordinary text.
//! Credentials are printable ASCII (`super::from_input`), so every one has these renderings.

use super::QuickMap as HashMap;

use super::echo::SHORTEST_CUT;

/// The most gap units (see the module doc: a whitespace run is one) that still join two letters
/// of an echo: a quoted item of a list entity-quoted (`&quot;,&#10;&quot;`), with a key of its
/// own, fits; indentation counts one unit at any depth (findings round13-text/03,
/// round16-text/02).
const MAX_GAP: usize = 48;
/// What a byte with no letter or digit adds to the gap: an item of its own in a list, written
/// itself or escaped (`&#x2d;`, `\u002d`), with its separator.
const ITEM: usize = MAX_GAP + 8;

/// A credential's skeleton in one rendering, with where each of its bytes' renderings begins.
struct Target {
    skeleton: Vec<u8>,
    /// `starts[i]`: where byte i's rendering begins in `skeleton`; `starts[len]` = the end. A
    /// byte with no letter or digit in the plain rendering has an empty rendering.
    starts: Vec<usize>,
    /// The longest gap the text may have before each skeleton character: `MAX_GAP`, and `ITEM`
    /// more for each byte with an empty rendering since the one before (a `-` of the
    /// credential is an item of a list of its own).
    allowance: Vec<usize>,
}

impl Target {
    fn bytes(&self) -> usize {
        self.starts.len() - 1
    }
}

/// Per-byte renderings a server may print a credential in (letters and digits only: whatever
/// else it writes around each byte is a gap).
const RENDERINGS: [fn(u8) -> String; 19] = [
    plain,
    |b| format!("{b:02x}"),
    |b| format!("x{b:02x}"),
    |b| format!("0x{b:02x}"),
    |b| format!("u{b:04x}"),
    |b| format!("{b}"),
    |b| format!("{b:03o}"),
    |b| format!("u{b:x}"),
    // Octal and binary as Go's `%o`/`%b` and Python's `oct()`/`bin()` write them.
    |b| format!("{b:o}"),
    |b| format!("0o{b:o}"),
    |b| format!("{b:b}"),
    |b| format!("{b:08b}"),
    |b| format!("0b{b:b}"),
    // UTF-16 (either byte order): hex, decimal bytes, and Python's repr of the bytes, where a
    // printable byte is itself and the zero byte `\x00` (finding round13-text/02).
    |b| format!("{b:02x}00"),
    |b| format!("00{b:02x}"),
    |b| format!("{b}0"),
    |b| format!("0{b}"),
    |b| format!("{}x00", plain(b)),
    |b| format!("x00{}", plain(b)),
];

/// A byte as itself: an ASCII letter or digit lower-cased, anything else nothing (a gap).
fn plain(b: u8) -> String {
    if b.is_ascii_alphanumeric() {
        char::from(b.to_ascii_lowercase()).to_string()
    } else {
        String::new()
    }
}

/// The skeleton targets of every credential form, indexed by their first `KEY` characters.
#[derive(Default)]
pub struct Skeletons {
    targets: Vec<Target>,
    /// Where a match may begin: (target, byte) by the `KEY` skeleton characters from there.
    index: HashMap<[u8; KEY], Vec<(usize, usize)>>,
    /// Targets of credentials shorter than `SHORTEST_CUT` bytes, matched whole and as a word,
    /// by their first two skeleton characters (every target has at least `SHORTEST`).
    short: HashMap<[u8; 2], Vec<usize>>,
}

/// Skeleton characters looked up at once: every piece worth masking has at least as many.
const KEY: usize = 4;

impl Skeletons {
    /// The targets of `forms` (ASCII ones: a non-ASCII form has no byte-for-character skeleton).
    pub fn new<'a>(forms: impl Iterator<Item = &'a str>) -> Skeletons {
        let mut skeletons = Skeletons::default();
        for form in forms.filter(|form| form.is_ascii()) {
            for render in RENDERINGS {
                let mut target = Target { skeleton: Vec::new(), starts: Vec::new(), allowance: Vec::new() };
                let mut skipped = 0;
                for byte in form.bytes() {
                    target.starts.push(target.skeleton.len());
                    let rendered = render(byte);
                    for (i, c) in rendered.bytes().enumerate() {
                        target.skeleton.push(c);
                        target.allowance.push(if i == 0 { MAX_GAP + ITEM * skipped } else { MAX_GAP });
                    }
                    skipped = if rendered.is_empty() { skipped + 1 } else { 0 };
                }
                target.starts.push(target.skeleton.len());
                // Too little left to tell it from ordinary text (`a-1`).
                if target.skeleton.len() < super::SHORTEST {
                    continue;
                }
                let index = skeletons.targets.len();
                if target.bytes() < SHORTEST_CUT || target.skeleton.len() < SHORTEST_CUT {
                    let first = [target.skeleton[0], target.skeleton[1]];
                    skeletons.short.entry(first).or_default().push(index);
                } else {
                    for start in 0..=target.bytes() - SHORTEST_CUT {
                        let from = target.starts[start];
                        if let Some(key) = target.skeleton.get(from..from + KEY) {
                            let key: [u8; KEY] = key.try_into().expect("KEY bytes");
                            skeletons.index.entry(key).or_default().push((index, start));
                        }
                    }
                }
                skeletons.targets.push(target);
            }
        }
        skeletons
    }

    /// `text` with every skeleton echo replaced by `***` (overlapping ones as one).
    pub fn scrub(&self, text: &str) -> String {
        if self.targets.is_empty() {
            return text.to_string();
        }
        let mut masked: Vec<(usize, usize)> = Vec::new();
        self.find_ranges(text, &mut masked);
        super::mask(text, masked)
    }

    /// The byte ranges of `text` that echo a target, in both of the skeleton's readings.
    pub fn find_ranges(&self, text: &str, masked: &mut Vec<(usize, usize)>) {
        if self.targets.is_empty() {
            return;
        }
        for letters in [TextSkeleton::new(text, false), TextSkeleton::new(text, true)] {
            self.find(&letters, masked);
        }
    }

    /// The byte ranges of `letters`' text that echo a target.
    fn find(&self, letters: &TextSkeleton, masked: &mut Vec<(usize, usize)>) {
        // Per target, where its last echo found ends (in skeleton characters): a piece starting
        // inside it is masked already (walking each again cost a long credential's length
        // squared, finding round14-text/02).
        let mut covered: HashMap<usize, usize> = HashMap::default();
        for at in 0..letters.chars.len() {
            if let Some(key) = letters.key(at) {
                for &(index, byte) in self.index.get(&key).map_or(&[][..], Vec::as_slice) {
                    if covered.get(&index).is_some_and(|&end| at < end) {
                        continue;
                    }
                    let target = &self.targets[index];
                    let from = target.starts[byte];
                    let matched = letters.common(at, &target.skeleton[from..], &target.allowance[from..]);
                    // The longest piece that ends where a byte's rendering ends (`starts` rises:
                    // a search, not a walk from the far end, which made a long credential cost
                    // its length at every key met, finding round14-text/02).
                    let limit = from + matched;
                    let end = byte + target.starts[byte + 1..].partition_point(|&start| start <= limit);
                    let length = target.starts[end] - target.starts[byte];
                    if end - byte >= SHORTEST_CUT && length >= SHORTEST_CUT {
                        masked.push(letters.span(at, length));
                        covered.insert(index, at + length);
                    }
                }
            }
            let first = letters.chars.get(at..at + 2).and_then(|pair| <[u8; 2]>::try_from(pair).ok());
            for &target in first.and_then(|pair| self.short.get(&pair)).map_or(&[][..], Vec::as_slice) {
                let Target { skeleton, allowance, .. } = &self.targets[target];
                if letters.common(at, skeleton, allowance) == skeleton.len() && letters.is_word(at, skeleton.len()) {
                    masked.push(letters.span(at, skeleton.len()));
                }
            }
        }
    }
}

/// A text's skeleton: each ASCII letter or digit, lower-cased, with where it lies in the text
/// and the gap between it and the one before it.
struct TextSkeleton {
    chars: Vec<u8>,
    /// Byte range of each character in the text.
    at: Vec<(usize, usize)>,
    /// Gap units (see the module doc) between character i - 1 and character i; `None` where something
    /// that is no gap (a letter beyond ASCII) or nothing (the text's start) comes before.
    gap: Vec<Option<usize>>,
}

impl TextSkeleton {
    /// The skeleton of `text`; with `index_keys`, digits that key an object by position and
    /// XML/HTML tags are read as gaps (both readings are tried: `45:` may be a key or an item
    /// and a separator, `<x00>` a tag or items).
    fn new(text: &str, index_keys: bool) -> TextSkeleton {
        let bytes = text.as_bytes();
        let mut skeleton = TextSkeleton { chars: Vec::new(), at: Vec::new(), gap: Vec::new() };
        let mut gap = 0usize;
        // Whether the gap so far ends in whitespace: the rest of that run adds nothing.
        let mut spacing = false;
        let mut broken = true;
        // The key the next item of a map keyed by position would carry.
        let mut next_key: Option<u64> = None;
        // Whether a key was read and its value not yet: what follows a key is its value, never
        // the next key (`{"0":1:,"1":0}` keys `1` only once, random case of the proptest below).
        let mut in_value = false;
        // Whether the value after a key has begun (a mark such as `-` is a value too): a space
        // after it ends it (Go's `map[4:- 5:t]`), a space before it does not (`"0": 1`).
        let mut value_started = false;
        let mut i = 0;
        while i < bytes.len() {
            let byte = bytes[i];
            if let Some((length, number)) =
                (index_keys && !in_value).then(|| index_key_at(&bytes[..i], &bytes[i..], next_key)).flatten()
            {
                next_key = Some(number + 1);
                in_value = true;
                value_started = false;
                gap += length;
                spacing = false;
                i += length;
                continue;
            }
            if byte.is_ascii_alphanumeric() {
                in_value = false;
                skeleton.chars.push(byte.to_ascii_lowercase());
                skeleton.at.push((i, i + 1));
                skeleton.gap.push((!broken).then_some(gap));
                gap = 0;
                spacing = false;
                broken = false;
                i += 1;
                continue;
            }
            match separator_at(&text[i..], index_keys) {
                Some((length, space)) => {
                    // An item's end (`,`, `;`, a line break, a space after the value) ends a
                    // value with no letter in it.
                    if text[i..i + length].contains([',', ';', '\n'])
                        || text[i..].starts_with("\\n")
                        || (space && value_started)
                    {
                        in_value = false;
                    } else if !space {
                        value_started = true;
                    }
                    gap += if !space { length } else { usize::from(!spacing) };
                    spacing = space;
                    i += length;
                }
                None => {
                    // A letter beyond ASCII (or an escape of a letter) is no gap.
                    broken = true;
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        skeleton
    }

    /// The `KEY` joined characters from `at`, when there are as many.
    fn key(&self, at: usize) -> Option<[u8; KEY]> {
        let end = at + KEY;
        if end > self.chars.len() || !self.gap[at + 1..end].iter().all(|gap| gap.is_some_and(|g| g <= MAX_GAP)) {
            return None;
        }
        self.chars[at..end].try_into().ok()
    }

    /// How many characters from `at` equal `wanted`'s first ones, each gap within what
    /// `allowance` allows before that character.
    fn common(&self, at: usize, wanted: &[u8], allowance: &[usize]) -> usize {
        let mut length = 0;
        while length < wanted.len()
            && at + length < self.chars.len()
            && self.chars[at + length] == wanted[length]
            && (length == 0 || self.gap[at + length].is_some_and(|gap| gap <= allowance[length]))
        {
            length += 1;
        }
        length
    }

    /// Whether `length` characters from `at` stand as a word: no letter or digit right before
    /// or right after them.
    fn is_word(&self, at: usize, length: usize) -> bool {
        let before = self.gap[at] == Some(0);
        let after = self.gap.get(at + length).is_some_and(|gap| *gap == Some(0));
        !before && !after
    }

    /// Byte range in the text from character `at`'s start to the end of the `length`th.
    fn span(&self, at: usize, length: usize) -> (usize, usize) {
        (self.at[at].0, self.at[at + length - 1].1)
    }
}

/// The length of an XML or HTML tag at the start of `rest` (`<char>`, `</string>`, `<li
/// class="x">`), when it is one: a name after `<` or `</`, and its `>` within 128 bytes.
fn tag_length(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let name = if bytes.get(1) == Some(&b'/') { 2 } else { 1 };
    if !bytes.get(name)?.is_ascii_alphabetic() {
        return None;
    }
    let end = bytes.iter().take(128).position(|b| *b == b'>')?;
    (!bytes[1..end].contains(&b'<')).then_some(end + 1)
}

/// An index key at the start of `bytes` (`before` is the text before it), and its number, when
/// it is the key `expected` (0 or 1 for a first one): digits, bracketed or quoted or not,
/// closed by `:`, `=`, `=>` or a tab (a table's row number, raw or escaped `\t`) — as a map keyed by position writes each item in JSON
/// (`{"0":112}`, a Uint8Array), Python (`{0: 'p'}`), Ruby (`{0=>"p"}`), PHP (`[0] => p`),
/// Perl (`'0' => 'p'`), Java (`{0=p}`), Go (`map[0:p]`), YAML (`0: p`) or Lua (`[1]="p"`)
/// (findings round13-text/01, round14-text/01). Only the next number in the sequence is a key,
/// so an item followed by one of those separators is never taken for one.
fn index_key_at(before: &[u8], bytes: &[u8], expected: Option<u64>) -> Option<(usize, u64)> {
    if before.last().is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut at = usize::from(matches!(bytes.first(), Some(b'[' | b'"' | b'\'')));
    let digits = bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 6 {
        return None;
    }
    let number: u64 = std::str::from_utf8(&bytes[at..at + digits]).ok()?.parse().ok()?;
    at += digits;
    if matches!(bytes.get(at), Some(b']' | b'"' | b'\'')) {
        at += 1;
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    // A row number closed by a tab starts its row: an item followed by the next column's tab
    // is never taken for one.
    let row_start = before.is_empty() || before.ends_with(b"\n") || before.ends_with(b"\\n");
    let tab = bytes[at..].starts_with(b"\\t").then_some(2).or((bytes.get(at) == Some(&b'\t')).then_some(1));
    if let Some(length) = tab.filter(|_| row_start) {
        at += length;
    } else if bytes[at..].starts_with(b"=>") {
        at += 2;
    } else if matches!(bytes.get(at), Some(b':' | b'=')) {
        at += 1;
    } else {
        return None;
    }
    let next = match expected {
        Some(expected) => number == expected,
        None => number <= 1,
    };
    next.then_some((at, number))
}

/// The length of a separator at the start of `rest`: a character that is not an ASCII letter
/// or digit, or an escape of one (`\n`, `\"`, `&#39;`, `&quot;`, `%2C`), read as what it stands
/// for, and whether that is whitespace. `None` for a letter beyond ASCII: it is text, not a gap.
fn separator_at(rest: &str, markup: bool) -> Option<(usize, bool)> {
    let c = rest.chars().next()?;
    let escaped = |code: u32| char::from_u32(code).filter(|c| !c.is_alphanumeric());
    let other = |length: usize| Some((length, false));
    match c {
        '\\' => match rest.as_bytes().get(1) {
            Some(b'n' | b'r' | b't' | b' ') => Some((2, true)),
            Some(b'"' | b'\'' | b'\\' | b'/') => other(2),
            _ => other(1),
        },
        // A tag is markup around an item (`<char>112</char>`, `<li>p</li>`), not its text.
        '<' => other(markup.then(|| tag_length(rest)).flatten().unwrap_or(1)),
        '&' => match super::echo::html_reference(rest).and_then(|(code, length)| Some((escaped(code)?, length))) {
            Some((c, length)) => Some((length, c.is_whitespace())),
            None => other(1),
        },
        '%' => match rest.get(1..3).and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            Some(byte) if byte.is_ascii() && !byte.is_ascii_alphanumeric() => Some((3, byte.is_ascii_whitespace())),
            _ => other(1),
        },
        // A letter drawn as nothing (a Hangul filler: a letter by category, invisible, finding
        // round28-text/06) is no text: `escape::hidden` is the one list of them.
        c if c.is_alphanumeric() && !crate::escape::hidden(c) => None,
        c => Some((c.len_utf8(), c.is_whitespace())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `items` as a map keyed by position: each written by `item`, joined, and wrapped.
    fn keyed(items: &[String], item: impl Fn(usize, &str) -> String, join: &str, open: &str, close: &str) -> String {
        let listed: Vec<String> = items.iter().enumerate().map(|(i, c)| item(i, c)).collect();
        format!("{open}{}{close}", listed.join(join))
    }

    fn scrubber(credentials: &[&str]) -> Skeletons {
        Skeletons::new(credentials.iter().copied())
    }

    /// Finding round12-text/01 (a list of the characters) and the forms seen with it: each is
    /// masked from its first character to its last, whatever a language puts between them.
    #[test]
    fn a_credential_quoted_character_by_character_is_masked() {
        const TOKEN: &str = "prom-token-8c2f1e9a";
        const PHRASE: &str = "correct horse battery staple";
        const QUOTED: &str = "it's-a-s3cret-key";
        let skeletons = scrubber(&[TOKEN, PHRASE, QUOTED]);
        let chars: Vec<String> = TOKEN.chars().map(String::from).collect();
        let bytes = TOKEN.bytes();
        for (echo, expected) in [
            (format!("[{}]", chars.join(", ")), "[***]"),
            (format!("['{}']", chars.join("', '")), "['***']"),
            (format!("[\"{}\"]", chars.join("\",\"")), "[\"***\"]"),
            (format!("[{}]", chars.join(" ")), "[***]"),
            (format!("[\n  \"{}\"\n]", chars.join("\",\n  \"")), "[\n  \"***\"\n]"),
            (format!("[\\\"{}\\\"]", chars.join("\\\", \\\"")), "[\\\"***\\\"]"),
            (format!("[&#39;{}&#39;]", chars.join("&#39;, &#39;")), "[&#39;***&#39;]"),
            (bytes.clone().map(|b| format!("{b:02x}-00")).collect::<Vec<_>>().join("-"), "***"),
            (bytes.clone().map(|b| format!("\\x{{{b:x}}}")).collect(), "\\***}"),
            (bytes.clone().map(|b| format!("&#{b}")).collect(), "&#***"),
            (bytes.clone().map(|b| format!("\\{b:03o}")).collect(), "\\***"),
            ("correct\\ horse\\ battery\\ staple".to_string(), "***"),
            ("'it''s-a-s3cret-key'".to_string(), "'***'"),
            // Round 13: index-keyed objects, UTF-16 decimal and repr, XML element lists, deep
            // indentation, octal and binary as Go and Python write them.
            (
                format!(
                    "{{{}}}",
                    bytes.clone().enumerate().map(|(i, b)| format!("\"{i}\":{b}")).collect::<Vec<_>>().join(",")
                ),
                "{\"0\":***}",
            ),
            (
                format!(
                    "{{{}}}",
                    chars.iter().enumerate().map(|(i, c)| format!("{i}: '{c}'")).collect::<Vec<_>>().join(", ")
                ),
                "{0: '***'}",
            ),
            (format!("[{}]", bytes.clone().map(|b| format!("{b}, 0")).collect::<Vec<_>>().join(", ")), "[***]"),
            (
                format!(
                    "b'\\xff\\xfe{}'",
                    bytes.clone().map(|b| format!("{}\\x00", char::from(b))).collect::<String>()
                ),
                "b'\\xff\\xfe***'",
            ),
            (bytes.clone().map(|b| format!("<char>{b}</char>")).collect(), "<char>***</char>"),
            (
                format!(
                    "[\n{}\n]",
                    chars.iter().map(|c| format!("{}\"{c}\"", " ".repeat(32))).collect::<Vec<_>>().join(",\n")
                ),
                "[\n                                \"***\"\n]",
            ),
            (format!("[{}]", bytes.clone().map(|b| format!("{b:o}")).collect::<Vec<_>>().join(" ")), "[***]"),
            (format!("[{}]", bytes.clone().map(|b| format!("'0o{b:o}'")).collect::<Vec<_>>().join(", ")), "['***']"),
            (format!("[{}]", bytes.clone().map(|b| format!("{b:b}")).collect::<Vec<_>>().join(" ")), "[***]"),
            // Round 14: maps keyed by position in other syntaxes.
            (keyed(&chars, |i, c| format!("{i}=>\"{c}\""), ", ", "{", "}"), "{0=>\"***\"}"),
            (
                keyed(&chars, |i, c| format!("    [{i}] => {c}"), "\n", "Array\n(\n", "\n)"),
                "Array\n(\n    [0] => ***\n)",
            ),
            (keyed(&chars, |i, c| format!("  '{i}' => '{c}'"), ",\n", "{\n", "\n}"), "{\n  '0' => '***'\n}"),
            (keyed(&chars, |i, c| format!("{i}={c}"), ", ", "{", "}"), "{0=***}"),
            (keyed(&chars, |i, c| format!("{i}:{c}"), " ", "map[", "]"), "map[0:***]"),
            (keyed(&chars, |i, c| format!("{i}: {c}"), "\n", "", ""), "0: ***"),
            (keyed(&chars, |i, c| format!("[{}]=\"{c}\"", i + 1), ",", "{", "}"), "{[1]=\"***\"}"),
        ] {
            assert_eq!(
                skeletons.scrub(&format!("invalid token {echo};")),
                format!("invalid token {expected};"),
                "{echo}"
            );
        }
    }

    /// A value that reads as the next key (`{"0":1:,"1":0}`: the value `1` then `:`) is a
    /// value: the echo is masked from its first value, not from the second (random case of the
    /// proptest below, which left the first byte of the credential printed).
    #[test]
    fn a_value_that_reads_as_the_next_key_is_masked() {
        for credential in ["10aaa0a0", "1-token-abcdef23"] {
            let skeletons = scrubber(&[credential]);
            let chars: Vec<String> = credential.chars().map(String::from).collect();
            let echo = keyed(&chars, |i, c| format!("\"{i}\":{c}:"), ",", "{", "}");
            assert_eq!(
                skeletons.scrub(&format!("refused key ({echo}) here")),
                "refused key ({\"0\":***:}) here",
                "{echo}"
            );
        }
    }

    /// Finding round16-text/02: a list of the characters pretty-printed deeper than a fixed gap
    /// allows (`json.dumps(list(token), indent=4)` nested in 11 objects puts `",\n` and 48
    /// spaces between items) was printed whole. Indentation of any depth is one gap unit.
    #[test]
    fn a_character_list_pretty_printed_at_any_depth_is_masked() {
        const TOKEN: &str = "tok-abcdefgh-12345678";
        let skeletons = scrubber(&[TOKEN]);
        for (depth, step, tab) in [(11, 4, " "), (14, 4, " "), (23, 2, " "), (500, 4, " "), (40, 1, "\t")] {
            let indent = tab.repeat(step * (depth + 1));
            let items: Vec<String> = TOKEN.chars().map(|c| format!("{indent}\"{c}\"")).collect();
            let echo = format!("[\n{}\n]", items.join(",\n"));
            let scrubbed = skeletons.scrub(&format!("rejected request headers: {echo}"));
            assert_eq!(scrubbed, format!("rejected request headers: [\n{indent}\"***\"\n]"), "depth {depth}");
        }
    }

    /// Ordinary text keeps every word; a short credential is masked only as a word of its own.
    #[test]
    fn ordinary_text_and_words_that_hold_a_short_credential_are_kept() {
        let skeletons = scrubber(&["prom-token-8c2f1e9a", "prod"]);
        for text in [
            "bad_data: invalid parameter \"query\": 1:5: parse error: unexpected character: '}'",
            "production reproduced: p-r-o tokens 8c2f",
        ] {
            assert_eq!(skeletons.scrub(text), text);
        }
        assert_eq!(skeletons.scrub("tenant [p, r, o, d] refused"), "tenant [***] refused");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any echo that keeps a credential's bytes in order — as themselves or in any per-byte
        /// rendering — with runs of other characters of at most `MAX_GAP` gap units between
        /// them (and around them), each item on a line of its own indented to any depth or not,
        /// is masked from its first letter to its last.
        #[test]
        fn every_echo_that_keeps_the_bytes_in_order_is_masked(
            credential in "[a-z0-9][a-z0-9._-]{6,22}[a-z0-9]",
            rendering in 0..RENDERINGS.len(),
            // Invisible letters too (Hangul fillers, finding round28-text/06), and blanks.
            separators in proptest::collection::vec("[ ,;:'\"`\\[\\](){}<>|=+*~^#!?.\n\t\u{3164}\u{115f}\u{1160}\u{ffa0}\u{2800}\u{3000}-]{0,4}", 32),
            wrapping in 0..4usize,
            // Pretty-printed at any depth (finding round16-text/02): each item on a line of its
            // own, indented by up to thousands of spaces or tabs.
            indentation in prop_oneof![Just(0usize), 1..64usize, 64..4000usize],
            tabs in any::<bool>(),
        ) {
            let render = RENDERINGS[rendering];
            let alnum = credential.bytes().filter(u8::is_ascii_alphanumeric).count();
            prop_assume!(alnum >= SHORTEST_CUT || rendering != 0);
            let rendered: Vec<String> =
                credential.bytes().map(render).filter(|r| !r.is_empty()).collect();
            // Each item as it is, in an element (`<c>p</c>`), or keyed by its position (`"3":p`,
            // `[3] => p`).
            let item = |i: usize, piece: &str| match wrapping {
                1 => format!("<c>{piece}</c>"),
                2 => format!("\"{i}\":{piece}"),
                3 => format!("[{i}] => {piece}"),
                _ => piece.to_string(),
            };
            let mut echo = String::new();
            for (i, piece) in rendered.iter().enumerate() {
                if i > 0 {
                    echo.push_str(&separators[i % separators.len()]);
                    // An object's keys follow its commas.
                    if wrapping >= 2 {
                        echo.push(',');
                    }
                    if indentation > 0 {
                        echo.push('\n');
                        echo.push_str(&(if tabs { "\t" } else { " " }).repeat(indentation));
                    }
                }
                echo.push_str(&item(i, piece));
            }
            let skeletons = scrubber(&[credential.as_str()]);
            let echo = if wrapping >= 2 { format!("{{{echo}}}") } else { echo };
            let scrubbed = skeletons.scrub(&format!("refused key ({echo}) here"));
            let (open, close) = match wrapping {
                1 => ("<c>", "</c>"),
                2 => ("{\"0\":", "}"),
                3 => ("{[0] => ", "}"),
                _ => ("", ""),
            };
            prop_assert_eq!(scrubbed, format!("refused key ({open}***{close}) here"), "{}", echo);
        }

        /// Text with no credential in it is kept as it is, byte for byte.
        #[test]
        fn text_without_the_credential_is_kept(
            credential in "[a-z0-9]{12,24}",
            words in proptest::collection::vec("[a-zA-Z0-9]{1,7}", 1..40),
            separators in proptest::collection::vec("[ ,;:'\"\n-]{1,3}", 40),
        ) {
            let text: String = words.iter().zip(&separators).map(|(w, s)| format!("{w}{s}")).collect();
            prop_assume!(!text.to_lowercase().contains(&credential[..8]));
            let skeletons = scrubber(&[credential.as_str()]);
            prop_assert_eq!(skeletons.scrub(&text), text);
        }
    }
}
