//! Where a text holds a dump of a credential's bytes as numbers: one decode-and-check rule for
//! every dump a tool prints (`od`'s default octal 16-bit words, `od -x` and `hexdump`'s
//! little-endian hex words, `od -d`, `od -D`, `od -t x8`, `xxd`'s big-endian groups and `xxd
//! -e`'s little-endian ones, per-byte hex or decimal), instead of one rendering each (finding
//! round16-text/03).
//!
//! The text's *number runs* are read first: tokens of digits (hex digits, after an optional `0x`
//! or `\x`) with only whitespace (written or escaped: `\n`), commas and colons between them.
//! Each run is decoded under every base (8, 10, 16) × word size (1, 2, 4, 8 bytes) × byte order
//! (big, little) × offsets (with or without the first token of each line taken for a dump's
//! offset and skipped); a token that is no number of that base or does not fit that word size
//! ends a decoded stretch; read as dump lines, a line's text column (hexdump -C's `|Bearer
//! tok|`, xxd's) is skipped too. Where a stretch's bytes hold `SHORTEST_CUT` or more consecutive
//! characters of a known credential form, the tokens that carry them are masked, from the first
//! to the last; read as dump lines, to the end of the last one's line when that begins with a
//! token (its offset: its text column holds the same bytes as characters, on a last line maybe
//! fewer than `SHORTEST_CUT` of them). Each token is decoded a fixed number of ways into at most 8 bytes each, and
//! each byte is looked up once per window length, so the work is linear in the text.

use std::collections::HashSet;

use super::echo::SHORTEST_CUT;

/// Bases a dump writes its numbers in.
const BASES: [u32; 3] = [8, 10, 16];
/// Word sizes in bytes.
const SIZES: [usize; 5] = [1, 2, 4, 8, WIDTH];
/// The word size a hex token's written width gives (two digits a byte): xxd writes the last
/// group of a dump only as wide as the bytes left (`32613763` in `-g8`, `595863376132` in `-e`).
const WIDTH: usize = 0;
/// The most digits a token of any base and size may have (a 64-bit word in octal: 22).
const LONGEST_TOKEN: usize = 22;

/// The credential pieces a decoded dump is checked against.
pub struct Dumps {
    /// Every run of `SHORTEST_CUT` characters of every form, as its UTF-8 bytes.
    pieces: HashSet<Vec<u8>>,
    /// The byte lengths those pieces have (8 for an ASCII form).
    lengths: Vec<usize>,
    /// Which bytes occur in any form: a decoded byte outside it ends every window across it.
    alphabet: [bool; 256],
}

impl Default for Dumps {
    fn default() -> Dumps {
        Dumps::new(std::iter::empty())
    }
}

impl Dumps {
    pub fn new<'a>(forms: impl Iterator<Item = &'a str>) -> Dumps {
        let mut dumps = Dumps { pieces: HashSet::new(), lengths: Vec::new(), alphabet: [false; 256] };
        for form in forms {
            for byte in form.bytes() {
                dumps.alphabet[usize::from(byte)] = true;
            }
            let bounds: Vec<usize> = form.char_indices().map(|(i, _)| i).chain([form.len()]).collect();
            for window in bounds.windows(SHORTEST_CUT + 1) {
                let piece = form.as_bytes()[window[0]..window[SHORTEST_CUT]].to_vec();
                if !dumps.lengths.contains(&piece.len()) {
                    dumps.lengths.push(piece.len());
                }
                dumps.pieces.insert(piece);
            }
        }
        dumps
    }

    /// The byte ranges of `text` that are number tokens carrying a credential piece.
    pub fn find(&self, text: &str, masked: &mut Vec<(usize, usize)>) {
        if self.pieces.is_empty() {
            return;
        }
        let tokens = tokens(text);
        if tokens.is_empty() {
            return;
        }
        let mut bytes: Vec<u8> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for base in BASES {
            for size in SIZES {
                // The value of each token in this base and its bytes, when it fits this word size.
                let values: Vec<Option<(u64, usize)>> =
                    tokens.iter().map(|token| token.value(text, base, size)).collect();
                for little in [false, true] {
                    for offsets in [false, true] {
                        bytes.clear();
                        owners.clear();
                        for (index, token) in tokens.iter().enumerate() {
                            // Read as dump lines, a run goes on across an offset and past a
                            // line's text column; read as it is, only across separators.
                            let goes_on = if offsets {
                                token.in_column || !token.line_first || token.next_line
                            } else {
                                token.joined
                            };
                            if !goes_on {
                                self.check(&bytes, &owners, &tokens, offsets, masked);
                                bytes.clear();
                                owners.clear();
                            }
                            if offsets && (token.in_column || token.line_first) {
                                continue;
                            }
                            match values[index] {
                                Some((value, size)) => {
                                    let word = value.to_be_bytes();
                                    let word = &word[8 - size..];
                                    if little {
                                        bytes.extend(word.iter().rev());
                                    } else {
                                        bytes.extend_from_slice(word);
                                    }
                                    owners.extend(std::iter::repeat_n(index, size));
                                }
                                None => {
                                    self.check(&bytes, &owners, &tokens, offsets, masked);
                                    bytes.clear();
                                    owners.clear();
                                }
                            }
                        }
                        self.check(&bytes, &owners, &tokens, offsets, masked);
                    }
                }
            }
        }
    }

    /// Masks the tokens that carry each credential piece found in `bytes` (decoded from the
    /// tokens `owners` names, byte by byte).
    /// Read as dump lines (`lines`), the rest of the last one's line goes too when it is a dump's
    /// line (it begins with its offset): its text column.
    fn check(&self, bytes: &[u8], owners: &[usize], tokens: &[Token], lines: bool, masked: &mut Vec<(usize, usize)>) {
        let mut clean = 0;
        for end in 1..=bytes.len() {
            // How many bytes up to `end` are each in some form.
            clean = if self.alphabet[usize::from(bytes[end - 1])] { clean + 1 } else { 0 };
            for &length in &self.lengths {
                if clean >= length && self.pieces.contains(&bytes[end - length..end]) {
                    let (first, last) = (owners[end - length], owners[end - 1]);
                    let last = &tokens[last];
                    masked.push((tokens[first].start, if lines && last.dump_line { last.line_end } else { last.end }));
                }
            }
        }
    }
}

/// A number token of the text.
struct Token {
    /// Its byte range, prefix included.
    start: usize,
    end: usize,
    /// Where its digits begin (after `0x` or `\x`).
    digits: usize,
    /// Whether it was written with a hex prefix (then it is read in base 16 only).
    hex: bool,
    /// Whether only separators come between it and the token before it (one run).
    joined: bool,
    /// Whether it is the first token of its line (or of its run): a dump's offset.
    line_first: bool,
    /// Whether it follows other text on its line after the line's first token: a dump's text
    /// column (`|Bearer tok|`, xxd's `Bearer tok`), not its numbers.
    in_column: bool,
    /// Whether it begins a line that goes on from the dump line before: only a line break and
    /// separators after the last token's line (and its text column).
    next_line: bool,
    /// Whether its line begins with a token (an offset): a dump's line, whose text column (the
    /// same bytes as characters) is masked with its words up to `line_end`.
    dump_line: bool,
    line_end: usize,
}

impl Token {
    /// Its value in `base` and its bytes when it is a number of that base that fits `size`
    /// bytes (`WIDTH`: as many as its hex digits write).
    fn value(&self, text: &str, base: u32, size: usize) -> Option<(u64, usize)> {
        if self.hex && base != 16 {
            return None;
        }
        let digits = &text[self.digits..self.end];
        let size = match size {
            WIDTH if base == 16 && digits.len().is_multiple_of(2) && digits.len() <= 16 => digits.len() / 2,
            WIDTH => return None,
            size => size,
        };
        let value = u64::from_str_radix(digits, base).ok()?;
        (size == 8 || value >> (8 * size) == 0).then_some((value, size))
    }
}

/// The number tokens of `text`, each knowing how it joins the token before it.
fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    // Since the last token: whether only separators came, and whether a line began; since the
    // last line break: whether only separators came.
    let mut joined = false;
    let mut line = true;
    let mut clean_line = true;
    // On this line: its tokens from which one, whether its first token came, and whether other
    // text came after it (a text column).
    let mut line_tokens = 0;
    let mut first_seen = false;
    let mut dump_line = false;
    let mut column = false;
    let mut at = 0;
    // Ends the line of the tokens from `line_tokens` at `end`.
    let end_line = |tokens: &mut Vec<Token>, line_tokens: usize, end: usize| {
        for token in &mut tokens[line_tokens..] {
            token.line_end = end;
        }
    };
    while at < bytes.len() {
        let byte = bytes[at];
        let mut other = |length: usize, first_seen: bool| {
            joined = false;
            clean_line = false;
            column |= first_seen;
            length
        };
        if byte.is_ascii_alphanumeric() || (byte == b'\\' && bytes.get(at + 1) == Some(&b'x')) {
            // A word: a token when it is (an optional prefix and) hex digits alone.
            let (digits, hex) = match bytes.get(at..at + 2) {
                Some(b"0x" | b"0X" | b"\\x") if bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit) => (at + 2, true),
                _ => (at, false),
            };
            let end = digits + bytes[digits..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let number =
                end > digits && end - digits <= LONGEST_TOKEN && bytes[digits..end].iter().all(u8::is_ascii_hexdigit);
            if number {
                if !first_seen {
                    dump_line = line && clean_line;
                }
                tokens.push(Token {
                    start: at,
                    end,
                    digits,
                    hex,
                    joined,
                    line_first: line || !joined,
                    in_column: column,
                    next_line: line && clean_line,
                    dump_line,
                    line_end: bytes.len(),
                });
                first_seen = true;
                joined = true;
                line = false;
                at = end;
            } else {
                at += other(end.max(at + 1) - at, first_seen);
            }
            continue;
        }
        match separator_at(&bytes[at..]) {
            (length, Some(true)) => {
                end_line(&mut tokens, line_tokens, at);
                line_tokens = tokens.len();
                line = true;
                clean_line = true;
                first_seen = false;
                column = false;
                at += length;
            }
            (length, Some(false)) => at += length,
            (length, None) => at += other(length, first_seen),
        }
    }
    tokens
}

/// What starts `bytes` between two tokens, and its length: a separator of one run (`Some`,
/// with whether it breaks a line) — whitespace (written, or escaped as `\n`, `\r`, `\t` under any
/// number of backslashes), a comma or a colon — or other text (`None`).
fn separator_at(bytes: &[u8]) -> (usize, Option<bool>) {
    match bytes[0] {
        b'\n' | b'\r' => (1, Some(true)),
        b' ' | b'\t' | b',' | b':' => (1, Some(false)),
        b'\\' => {
            // The whole run at once (each backslash walking it made a run cost its length
            // squared), up to the last one, which may start a `\x` token.
            let layers = bytes.iter().take_while(|&&b| b == b'\\').count();
            match bytes.get(layers) {
                Some(b'n' | b'r') => (layers + 1, Some(true)),
                Some(b't') => (layers + 1, Some(false)),
                _ => (layers.saturating_sub(1).max(1), None),
            }
        }
        _ => (1, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `text` with every dump of a form of `forms` masked.
    fn scrub(forms: &[&str], text: &str) -> String {
        let mut masked = Vec::new();
        Dumps::new(forms.iter().copied()).find(text, &mut masked);
        super::super::mask(text, masked)
    }

    /// `bytes` as `size`-byte words in `base`, zero-padded as od and xxd pad them, each word's
    /// bytes in the order `little` says; the last word filled with zero bytes as od does, or
    /// (`short`, hex) only as wide as the bytes left, as xxd writes it.
    fn words(bytes: &[u8], base: u32, size: usize, little: bool, short: bool) -> Vec<String> {
        let width = match base {
            8 => (8 * size).div_ceil(3),
            10 => u64::MAX.to_string().len().min(3 * size),
            _ => 2 * size,
        };
        bytes
            .chunks(size)
            .map(|chunk| {
                let (size, width) = if short && base == 16 { (chunk.len(), 2 * chunk.len()) } else { (size, width) };
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                let word = &mut word[..size];
                if little {
                    word.reverse();
                }
                let value = word.iter().fold(0u64, |value, &b| (value << 8) | u64::from(b));
                match base {
                    8 => format!("{value:0width$o}"),
                    10 => format!("{value:width$}"),
                    _ => format!("{value:0width$x}"),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A credential (alone or after `Bearer `, at any alignment) dumped in any base × word
        /// size × byte order, the last word padded or (hex) as wide as its bytes, with any
        /// separator and prefix, any number of words per line, line breaks written or escaped,
        /// and with or without offsets (od's, hexdump's, xxd's `00000010:`): every word that
        /// carries a byte of it is masked.
        #[test]
        fn a_credential_dumped_in_any_word_format_is_masked(
            credential in "[A-Za-z0-9._~+/=-]{8,40}",
            bearer in any::<bool>(),
            lead in "[ -~]{0,7}",
            base in prop::sample::select(BASES.to_vec()),
            size in prop::sample::select(vec![1usize, 2, 4, 8]),
            short in any::<bool>(),
            little in any::<bool>(),
            separator in prop::sample::select(vec![" ", "  ", ", ", ",", ":", "\t"]),
            prefix in prop::sample::select(vec!["", "0x", "\\x"]),
            per_line in 1..12usize,
            offsets in 0..3usize,
            escaped in any::<bool>(),
        ) {
            let prefix = if base == 16 { prefix } else { "" };
            let input = format!("{lead}{}{credential}", if bearer { "Bearer " } else { "" });
            let words = words(input.as_bytes(), base, size, little, short);
            let mut dump = String::new();
            for (line, chunk) in words.chunks(per_line).enumerate() {
                match offsets {
                    1 => dump.push_str(&format!("{:07o} ", line * per_line * size)),
                    2 => dump.push_str(&format!("{:08x}: ", line * per_line * size)),
                    _ => {}
                }
                let chunk: Vec<String> = chunk.iter().map(|word| format!("{prefix}{word}")).collect();
                dump.push_str(&chunk.join(separator));
                dump.push_str(if escaped { "\\n" } else { "\n" });
            }
            let scrubbed = scrub(&[&credential], &format!("request dump: {dump}end"));
            let left: Vec<&str> = scrubbed.split(|c: char| c.is_whitespace() || c == ',' || c == ':').collect();
            let normal = scrubbed.replace("\\n", "\n");
            let left: Vec<&str> = if escaped {
                normal.split(|c: char| c.is_whitespace() || c == ',' || c == ':').collect()
            } else {
                left
            };
            // Where the credential's bytes lie in the input, and so which words carry them.
            let from = input.len() - credential.len();
            for (index, word) in words.iter().enumerate() {
                let carried = (index * size..(index + 1) * size).any(|byte| (from..input.len()).contains(&byte));
                if carried {
                    let written = format!("{prefix}{word}");
                    let kept = left.iter().filter(|w| **w == written).count();
                    let elsewhere = words.iter().enumerate()
                        .filter(|(i, w)| *w == word && !(i * size..(i + 1) * size).any(|b| (from..input.len()).contains(&b)))
                        .count();
                    prop_assert!(kept <= elsewhere, "{} carried by {} is left in {}", credential, written, scrubbed);
                }
            }
            prop_assert!(scrubbed.contains("***"), "{}", scrubbed);
        }

        /// Plain text with ordinary numbers (timestamps, `1:5:`, figures, offsets, versions) is
        /// kept byte for byte.
        #[test]
        fn ordinary_numbers_are_kept(
            credential in "[A-Za-z0-9._-]{8,32}",
            numbers in proptest::collection::vec(prop_oneof![
                (0u64..100_000).prop_map(|n| n.to_string()),
                (1_600_000_000u64..1_900_000_000).prop_map(|n| n.to_string()),
                (0u32..100, 0u32..100).prop_map(|(a, b)| format!("{a}:{b}:")),
                "[0-9a-f]{1,16}",
                (0u32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
            ], 1..60),
            separators in proptest::collection::vec(prop::sample::select(vec![" ", ", ", ":", "\n", " ms ", "s, "]), 60),
        ) {
            let text: String = numbers.iter().zip(&separators).map(|(n, s)| format!("{n}{s}")).collect();
            prop_assert_eq!(scrub(&[&credential], &text), text);
        }
    }

    /// The forms seen with the finding: od's default, `od -x`/hexdump's words and `od -d`, each
    /// as the answer carried it (line breaks JSON-escaped).
    #[test]
    fn the_findings_dumps_are_masked() {
        let token = "tok-abcdefgh-12345678";
        // "Bearer" stays (it is no credential); every word from " t" on is masked.
        for (dump, expected) in [
            (
                "0000000 062502 071141 071145 072040 065557 060455 061542 062544\\n0000020 063546 026550 031061 032063 033065 034067\\n0000034\\n",
                "0000000 062502 071141 071145 ***\\n0000034\\n",
            ),
            (
                "0000000 6542 7261 7265 7420 6b6f 612d 6362 6564\\n0000010 6766 2d68 3231 3433 3635 3837\\n000001c\\n",
                "0000000 6542 7261 7265 ***\\n000001c\\n",
            ),
            (
                "0000000 25922 29281 29285 29728 27503 24877 25442 25956\\n0000020 26470 11624 12849 13363 13877 14391\\n0000034\\n",
                "0000000 25922 29281 29285 ***\\n0000034\\n",
            ),
        ] {
            let scrubbed = scrub(&[token], &format!("unauthorized; request header dump:\\n{dump}"));
            assert_eq!(scrubbed, format!("unauthorized; request header dump:\\n{expected}"));
        }
    }
}
