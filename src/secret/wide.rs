//! Where a text holds a credential read as UTF-16 (finding round17-text/02): a server that
//! decodes the header's bytes as UTF-16, little- or big-endian, echoes two of the credential's
//! characters as one character (`tok-abcd` as `潴⵫扡摣`), raw or JSON-escaped (`\u6f74\u2d6b`).
//! Printable ASCII is one byte per character in every other reading; in this one each
//! character is a pair of them.
//!
//! A *wide run* is a run of characters each of whose two bytes is printable ASCII (code points
//! with both bytes in 0x20..=0x7E: `潴` is 0x6F74, `to`), each written in any way a server writes
//! one character: raw, as a code unit escape (`\u6f74` under any number of backslash layers,
//! `%u6F74`: the escapes `echo` decodes), as a code point (`U+6F74`), an HTML reference
//! (`&#x6f74;`, `&#28532;`) or percent-encoded UTF-8 (`%E6%BD%B4`); between two of them may stand
//! a separator of a few marks, as a list or a line-per-character writes them (ASCII punctuation,
//! a whitespace run or an escaped line break: `[潴, 䅫]`, `["\u6f74", "\u416b"]`, one per line),
//! so every reading of one character combines with every way of listing them (finding
//! round18-text/02). Each run is read as the bytes it encodes in both byte orders; a credential starting at the second
//! byte of a character is at an odd offset of those bytes, so every alignment is read. Where
//! the bytes hold `SHORTEST_CUT` consecutive characters of an ASCII form of a credential, the
//! characters that carry them are masked, from the first to the last. Each character is read
//! once and each byte looked up once per byte order, so the work is linear in the text.

use super::QuickSet as HashSet;

use super::echo::{code_unit, SHORTEST_CUT};

/// The ASCII forms' pieces a wide run is checked against.
#[derive(Default)]
pub struct Wides {
    /// Every run of `SHORTEST_CUT` characters of every ASCII form.
    pieces: HashSet<Vec<u8>>,
}

impl Wides {
    pub fn new<'a>(forms: impl Iterator<Item = &'a str>) -> Wides {
        let mut wides = Wides::default();
        for form in forms.filter(|form| form.is_ascii()) {
            for piece in form.as_bytes().windows(SHORTEST_CUT) {
                wides.pieces.insert(piece.to_vec());
            }
        }
        wides
    }

    /// The byte ranges of `text` that are wide characters carrying a credential piece.
    pub fn find(&self, text: &str, masked: &mut Vec<(usize, usize)>) {
        if self.pieces.is_empty() {
            return;
        }
        // A wide character that is no letter or digit (`†`, U+2060 WORD JOINER: two printable
        // bytes each) may carry two of the credential's bytes or stand between two that do
        // (finding round20-text/04): the text is read both ways.
        for marks_between in [false, true] {
            self.find_reading(text, marks_between, masked);
        }
    }

    fn find_reading(&self, text: &str, marks_between: bool, masked: &mut Vec<(usize, usize)>) {
        // The current run: each character's byte range and code; and the separator marks met
        // since its last character.
        let mut run: Vec<(usize, usize, u32)> = Vec::new();
        let mut marks = 0;
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let mark = |code: u32| {
                marks_between && char::from_u32(code).is_some_and(|c| !c.is_alphanumeric() || crate::escape::hidden(c))
            };
            if let Some((code, length)) = wide_unit(rest).filter(|&(code, _)| !mark(code)) {
                run.push((at, at + length, code));
                marks = 0;
                at += length;
                continue;
            }
            let as_mark = wide_unit(rest).map(|(_, length)| length).or_else(|| separator(rest));
            match as_mark.filter(|_| !run.is_empty() && marks < LONGEST_SEPARATOR) {
                Some(length) => {
                    marks += 1;
                    at += length;
                }
                _ => {
                    self.check(&run, masked);
                    run.clear();
                    marks = 0;
                    at += rest.chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        self.check(&run, masked);
    }

    /// Masks the characters of `run` that carry a piece, in either byte order: the bytes of
    /// the run in that order, every window of them (both alignments).
    fn check(&self, run: &[(usize, usize, u32)], masked: &mut Vec<(usize, usize)>) {
        if run.len() < SHORTEST_CUT / 2 {
            return;
        }
        let mut bytes = Vec::with_capacity(2 * run.len());
        for little in [false, true] {
            bytes.clear();
            for &(_, _, code) in run {
                let (high, low) = ((code >> 8) as u8, code as u8);
                bytes.extend(if little { [low, high] } else { [high, low] });
            }
            for (start, window) in bytes.windows(SHORTEST_CUT).enumerate() {
                if self.pieces.contains(window) {
                    masked.push((run[start / 2].0, run[(start + SHORTEST_CUT - 1) / 2].1));
                }
            }
        }
    }
}

/// The most whitespace one separator mark spans (indentation of a list item).
const MOST_SPACES: usize = 64;

/// The most backslashes an escaped line break is read under.
const MOST_SLASHES: usize = 8;

/// The most separator marks between two characters of one run: `", "` of a JSON list is 3.
const LONGEST_SEPARATOR: usize = 8;

/// The code and length of one wide character written at the start of `rest`, in any of the
/// ways the module's doc lists (the first of them that reads a wide character).
fn wide_unit(rest: &str) -> Option<(u32, usize)> {
    // Every written form opens with one of these bytes; any other ASCII byte is itself, and no
    // ASCII character is wide. Read at every position of every scrubbed text, trying each form
    // there cost a sixth of a scrub (finding round31-text/01).
    if rest.as_bytes().first().is_some_and(|b| b.is_ascii() && !matches!(b, b'\\' | b'%' | b'U' | b'u' | b'&')) {
        return None;
    }
    let raw = rest.chars().next().map(|c| (u32::from(c), c.len_utf8()));
    [code_unit(rest), code_point(rest), html_reference(rest), percent_utf8(rest), braced_or_bare(rest), raw]
        .into_iter()
        .flatten()
        .find(|&(code, _)| wide(code))
}

/// `U+6F74` (or `u+6f74`): 4 to 6 hex digits.
fn code_point(rest: &str) -> Option<(u32, usize)> {
    let digits = rest.strip_prefix("U+").or_else(|| rest.strip_prefix("u+"))?;
    let count = digits.bytes().take(6).take_while(u8::is_ascii_hexdigit).count();
    (count >= 4).then(|| u32::from_str_radix(&digits[..count], 16).ok().map(|code| (code, 2 + count)))?
}

/// Perl's `\x{6f74}` (under any backslash layers) or a bare `u6f74` (a code unit escape whose
/// backslash a layer of quoting ate; finding round19-text/04).
fn braced_or_bare(rest: &str) -> Option<(u32, usize)> {
    let slashes = rest.bytes().take(MOST_SLASHES).take_while(|&b| b == b'\\').count();
    let after = &rest[slashes..];
    let (digits, skip, close) = match after.strip_prefix("x{") {
        Some(braced) if slashes > 0 => (braced, slashes + 2, true),
        _ if slashes == 0 => (after.strip_prefix('u')?, 1, false),
        _ => return None,
    };
    let count = digits.bytes().take(6).take_while(u8::is_ascii_hexdigit).count();
    match close {
        true if (1..=6).contains(&count) && digits.as_bytes().get(count) == Some(&b'}') => {
            Some((u32::from_str_radix(&digits[..count], 16).ok()?, skip + count + 1))
        }
        false if count >= 4 => Some((u32::from_str_radix(&digits[..4], 16).ok()?, skip + 4)),
        _ => None,
    }
}

/// A text with its wide characters read as the bytes they carry, in one byte order (see
/// `narrowed`), and where each of its bytes came from.
pub struct Narrowed {
    pub text: String,
    /// Per run of the narrowed text, in order: its start there, and the range of the original
    /// text it stands for, with whether it was one wide character (then every byte of it stands
    /// for the whole range) or text copied as it was.
    pub(super) spans: Vec<(usize, (usize, usize), bool)>,
}

impl Narrowed {
    /// The range of the original text that the narrowed range `start..end` stands for.
    pub fn origin(&self, (start, end): (usize, usize), original: &str) -> (usize, usize) {
        let at = |offset: usize| {
            let index = self.spans.partition_point(|span| span.0 <= offset).saturating_sub(1);
            let (from, (orig_start, orig_end), wide) = self.spans[index];
            if wide {
                (orig_start, orig_end)
            } else {
                (orig_start + offset - from, orig_start + offset - from + 1)
            }
        };
        let mut end = at(end.saturating_sub(1).max(start)).1;
        while !original.is_char_boundary(end) {
            end += 1;
        }
        (at(start).0, end)
    }
}

/// The text as a reader that takes each wide character for the two bytes it carries would see
/// it, in each byte order, every other character kept as it was — so every layout the other
/// readings know (a credential's characters one per XML element, per numbered line, per
/// position key of a map) is read of those bytes too (finding round19-text/04). Empty when the
/// text holds too few wide characters to carry a piece.
pub fn narrowed(text: &str) -> Vec<Narrowed> {
    let mut units: Vec<(usize, usize, u32)> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        match wide_unit(&text[at..]) {
            Some((code, length)) => {
                units.push((at, at + length, code));
                at += length;
            }
            None => at += text[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if units.len() < SHORTEST_CUT / 2 {
        return Vec::new();
    }
    [false, true]
        .into_iter()
        .map(|little| {
            let mut narrowed = Narrowed { text: String::with_capacity(text.len()), spans: Vec::new() };
            let mut copied = 0;
            let mut previous: Option<(u32, bool)> = None;
            for &(start, end, code) in &units {
                let between = &text[copied..start];
                if copied < start {
                    narrowed.spans.push((narrowed.text.len(), (copied, start), false));
                    narrowed.text.push_str(between);
                }
                // One character shown in two spellings side by side (a table's character and
                // its `U+XXXX` column) is one character: the second is a gap.
                let raw = !text[start..].starts_with(|c: char| c.is_ascii());
                let again = previous.is_some_and(|(last, was_raw)| last == code && was_raw != raw)
                    && !between.chars().any(char::is_alphanumeric);
                narrowed.spans.push((narrowed.text.len(), (start, end), true));
                if again {
                    narrowed.text.push(' ');
                    previous = None;
                } else {
                    // A byte that opens or closes markup (`<`, `>`, `&`) is a gap here: half of
                    // a character never starts a tag the skeleton would skip as a whole.
                    let byte = |b: u32| match b as u8 {
                        b'<' | b'>' | b'&' => ' ',
                        other => char::from(other),
                    };
                    let (high, low) = (byte(code >> 8), byte(code & 0xff));
                    narrowed.text.extend(if little { [low, high] } else { [high, low] });
                    previous = Some((code, raw));
                }
                copied = end;
            }
            if copied < text.len() {
                narrowed.spans.push((narrowed.text.len(), (copied, text.len()), false));
                narrowed.text.push_str(&text[copied..]);
            }
            narrowed
        })
        .collect()
}

/// `&#x6f74;` or `&#28532;`.
fn html_reference(rest: &str) -> Option<(u32, usize)> {
    let body = rest.strip_prefix("&#")?;
    let (digits, radix, skip) = match body.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16, 3),
        None => (body, 10, 2),
    };
    let count = digits.bytes().take(7).take_while(|b| (*b as char).is_digit(radix)).count();
    if count == 0 || digits.as_bytes().get(count) != Some(&b';') {
        return None;
    }
    Some((u32::from_str_radix(&digits[..count], radix).ok()?, skip + count + 1))
}

/// One character's UTF-8 bytes percent-encoded: `%E6%BD%B4`.
fn percent_utf8(rest: &str) -> Option<(u32, usize)> {
    let byte_at = |i: usize| {
        let spelled = rest.get(3 * i..3 * i + 3)?.strip_prefix('%')?;
        u8::from_str_radix(spelled, 16).ok().filter(|_| spelled.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let lead = byte_at(0)?;
    let length = match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let bytes: Vec<u8> = (0..length).map(byte_at).collect::<Option<_>>()?;
    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    Some((u32::from(c), 3 * length))
}

/// The length of one separator mark at the start of `rest`: a whitespace run, one ASCII
/// punctuation mark, any other character that is no letter or digit, or an escaped line break or tab (`\n` under any number of backslashes).
fn separator(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let first = *bytes.first()?;
    if first.is_ascii_whitespace() {
        // Bounded too: a longer run is several marks.
        return Some(bytes.iter().take(MOST_SPACES).take_while(|b| b.is_ascii_whitespace()).count());
    }
    if first == b'\\' {
        // A bounded look: every backslash of a long run is a position of its own.
        let slashes = bytes.iter().take(MOST_SLASHES).take_while(|&&b| b == b'\\').count();
        if matches!(bytes.get(slashes), Some(b'n' | b'r' | b't')) {
            return Some(slashes + 1);
        }
    }
    if first.is_ascii() {
        return first.is_ascii_punctuation().then_some(1);
    }
    // Any other character that is no letter or digit (and no wide character, read before):
    // `、`, `·`, `→`, a zero-width space, a soft hyphen, a combining mark (finding
    // round20-text/04).
    // A letter drawn as nothing (a Hangul filler, finding round28-text/06) is a mark too.
    let c = rest.chars().next()?;
    (!c.is_alphanumeric() || crate::escape::hidden(c)).then(|| c.len_utf8())
}

/// Whether a code is two printable ASCII bytes.
fn wide(code: u32) -> bool {
    let printable = |byte: u32| (0x20..=0x7e).contains(&byte);
    code <= 0xffff && printable(code >> 8) && printable(code & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `text` with every UTF-16 reading of a form of `forms` masked.
    fn scrub(forms: &[&str], text: &str) -> String {
        let mut masked = Vec::new();
        Wides::new(forms.iter().copied()).find(text, &mut masked);
        super::super::mask(text, masked)
    }

    /// `bytes` read as UTF-16 in the byte order `little` says (an odd count padded with a
    /// space), each unit written raw or as a `\uXXXX` escape under
    /// `layers` backslashes.
    fn wide(bytes: &[u8], little: bool, escaped: bool, layers: usize) -> Vec<String> {
        let mut bytes = bytes.to_vec();
        if bytes.len() % 2 == 1 {
            bytes.push(b' ');
        }
        bytes
            .chunks_exact(2)
            .map(|pair| {
                let unit = if little {
                    u16::from_le_bytes([pair[0], pair[1]])
                } else {
                    u16::from_be_bytes([pair[0], pair[1]])
                };
                if escaped {
                    format!("{}u{unit:04x}", "\\".repeat(layers))
                } else {
                    char::from_u32(u32::from(unit)).expect("printable pairs are no surrogates").to_string()
                }
            })
            .collect()
    }

    /// Whether `scrubbed` still holds `SHORTEST_CUT / 2` consecutive units of `units` that carry
    /// the credential's bytes alone (`from..to` of the bytes the units were made of).
    fn left(scrubbed: &str, units: &[String], from: usize, to: usize) -> Option<String> {
        let whole: Vec<&String> =
            units.iter().enumerate().filter(|(i, _)| 2 * i >= from && 2 * i + 2 <= to).map(|(_, u)| u).collect();
        whole
            .windows(SHORTEST_CUT / 2)
            .map(|w| w.iter().map(|u| u.as_str()).collect::<String>())
            .find(|w| scrubbed.contains(w))
    }

    /// Finding round17-text/02: a server that read the bearer token's bytes as UTF-16 (LE or BE,
    /// padded with a space to an even length) and quoted it raw (`潴⵫扡摣…`) or JSON-escaped
    /// (`\u6f74\u2d6b…`) had it printed whole.
    #[test]
    fn the_findings_utf16_readings_are_masked() {
        let token = "tok-abcdefgh-12345678";
        for little in [true, false] {
            for escaped in [false, true] {
                let units = wide(token.as_bytes(), little, escaped, 1);
                let scrubbed = scrub(&[token], &format!("unknown key: {}", units.concat()));
                assert_eq!(scrubbed, "unknown key: ***", "little {little}, escaped {escaped}");
            }
        }
    }

    /// `unit` (a code of two printable bytes) written as `style` says: raw, `\uXXXX`, `U+XXXX`,
    /// `&#xXXXX;`, `&#N;` or percent-encoded UTF-8.
    fn written(unit: u32, style: usize) -> String {
        let c = char::from_u32(unit).expect("printable pairs are no surrogates");
        match style {
            0 => c.to_string(),
            1 => format!("\\u{unit:04x}"),
            2 => format!("U+{unit:04X}"),
            3 => format!("&#x{unit:x};"),
            4 => format!("&#{unit};"),
            _ => c.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
        }
    }

    /// Finding round18-text/02: the UTF-16 echo masked as one run of raw characters was printed
    /// whole percent-encoded, one character per line, as a Java or JSON list and as code points.
    #[test]
    fn the_findings_listed_and_encoded_utf16_readings_are_masked() {
        let token = "tokA1b2c3d4e5f6g7h8secret";
        let header = format!("Authorization: Bearer {token}");
        let units: Vec<u32> =
            header.as_bytes().chunks_exact(2).map(|pair| u32::from(u16::from_le_bytes([pair[0], pair[1]]))).collect();
        let chars = || units.iter().map(|&u| written(u, 0));
        let forms = [
            units.iter().map(|&u| written(u, 5)).collect::<String>(),
            chars().collect::<Vec<_>>().join("\n"),
            format!("[{}]", chars().collect::<Vec<_>>().join(", ")),
            serde_json::to_string(&chars().collect::<Vec<_>>()).unwrap(),
            format!("[{}]", units.iter().map(|&u| format!("\"\\u{u:04x}\"")).collect::<Vec<_>>().join(", ")),
            units.iter().map(|&u| written(u, 2)).collect::<Vec<_>>().join(" "),
        ];
        for form in forms {
            let scrubbed = scrub(&[token], &format!("bad header {form} end"));
            assert!(scrubbed.contains("***"), "{form}: {scrubbed}");
            let token_units = &units[11..];
            let left = token_units
                .windows(SHORTEST_CUT / 2)
                .find(|w| w.iter().all(|&u| scrubbed.contains(&written(u, 0)) || scrubbed.contains(&written(u, 2))));
            assert!(left.is_none(), "{form}: {scrubbed}");
        }
    }

    /// Finding round20-text/04: one mark that is no ASCII between the wide characters — a
    /// zero-width space, a word joiner, a soft hyphen, a combining accent, `·`, an ideographic
    /// space, `→`, `、` — hid the echo.
    #[test]
    fn wide_characters_apart_by_any_mark_are_masked() {
        let token = "tokA1b2c3d4e5f6g7h8secret";
        let units = wide(format!("Bearer {token}").as_bytes(), true, false, 1);
        for mark in ["\u{200b}", "\u{2060}", "\u{ad}", "\u{301}", "·", "\u{3000}", "→", "、"] {
            let scrubbed = scrub(&[token], &format!("bad header {} end", units.join(mark)));
            assert!(scrubbed.contains("***"), "{mark:?}: {scrubbed}");
            assert!(
                left(&scrubbed, &units, 7, 7 + token.len()).is_none() || !scrubbed.contains(&units[5]),
                "{mark:?}: {scrubbed}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any credential (odd or even length), at either alignment (after an odd or even
        /// number of bytes of other header text), read as UTF-16 LE or BE, raw or
        /// `\uXXXX`-escaped under any number of layers, in any surrounding text: no
        /// `SHORTEST_CUT` of its bytes are left in characters that carry them.
        #[test]
        fn a_credential_read_as_utf16_is_masked(
            credential in "[A-Za-z0-9._~+/=-]{8,40}",
            lead in "[ -~]{0,5}",
            tail in "[ -~]{0,5}",
            little in any::<bool>(),
            escaped in any::<bool>(),
            layers in 1..4usize,
            before in "[ -~]{0,12}|[\u{4e00}-\u{9fff}]{0,6}",
            after in "[ -~]{0,12}|[\u{4e00}-\u{9fff}]{0,6}",
        ) {
            let bytes = format!("{lead}{credential}{tail}");
            let units = wide(bytes.as_bytes(), little, escaped, layers);
            let text = format!("{before}{}{after}", units.concat());
            let scrubbed = scrub(&[&credential], &text);
            prop_assert!(scrubbed.contains("***"), "{}", scrubbed);
            let (from, to) = (lead.len(), lead.len() + credential.len());
            prop_assert!(left(&scrubbed, &units, from, to).is_none(), "{:?} left in {}", left(&scrubbed, &units, from, to), scrubbed);
        }

        /// The same for every way of writing one character (raw, `\uXXXX`, `U+XXXX`, HTML
        /// references, percent-encoded UTF-8) in any mixture, listed with any separator a list
        /// or a line per character writes: the credential's bytes are masked wherever any
        /// `SHORTEST_CUT` of them stand in characters that carry only them.
        #[test]
        fn a_credential_read_as_utf16_is_masked_however_its_characters_are_written_and_listed(
            credential in "[A-Za-z0-9._~+/=-]{8,40}",
            lead in "[ -~]{0,5}",
            little in any::<bool>(),
            styles in proptest::collection::vec(0..6usize, 32),
            separator in prop_oneof![Just(""), Just("\n"), Just("\\n"), Just(", "), Just("\", \""), Just(" "), Just("|"), Just("' , '")],
            before in "[ -~]{0,12}",
            after in "[ -~]{0,12}",
        ) {
            let mut bytes = format!("{lead}{credential}").into_bytes();
            if bytes.len() % 2 == 1 {
                bytes.push(b' ');
            }
            let units: Vec<String> = bytes
                .chunks_exact(2)
                .enumerate()
                .map(|(i, pair)| {
                    let unit = if little { u16::from_le_bytes([pair[0], pair[1]]) } else { u16::from_be_bytes([pair[0], pair[1]]) };
                    written(u32::from(unit), styles[i % styles.len()])
                })
                .collect();
            let text = format!("{before}[{}]{after}", units.join(separator));
            let scrubbed = scrub(&[&credential], &text);
            prop_assert!(scrubbed.contains("***"), "{}", scrubbed);
            let (from, to) = (lead.len(), lead.len() + credential.len());
            let whole: Vec<&String> =
                units.iter().enumerate().filter(|(i, _)| 2 * i >= from && 2 * i + 2 <= to).map(|(_, u)| u).collect();
            let left = whole.windows(SHORTEST_CUT / 2).map(|w| w.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(separator)).find(|w| scrubbed.contains(w.as_str()));
            prop_assert!(left.is_none(), "{:?} left in {}", left, scrubbed);
        }

        /// Ordinary CJK text (many of whose characters have two printable bytes), with ASCII
        /// words, figures and escapes of it between, is kept byte for byte.
        #[test]
        fn ordinary_cjk_text_is_kept(
            credential in "[A-Za-z0-9._-]{8,32}",
            parts in proptest::collection::vec(prop_oneof![
                "[\u{4e00}-\u{9fff}]{1,40}",
                "[\u{3040}-\u{30ff}]{1,20}",
                "[\u{ac00}-\u{d7a3}]{1,20}",
                "[ -~]{1,20}",
                "(\\\\u[4-7][0-9a-f]{3}){1,20}",
            ], 1..20),
        ) {
            let text = parts.concat();
            prop_assert_eq!(scrub(&[&credential], &text), text);
        }
    }
}
