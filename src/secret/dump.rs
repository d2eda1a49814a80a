//! Where a text holds a dump of a credential's bytes as numbers: one decode-and-check rule for
//! every dump a tool prints (`od`'s default octal 16-bit words, `od -x` and `hexdump`'s
//! little-endian hex words, `od -d`, `od -D`, `od -t x8`, `xxd`'s big-endian groups and `xxd
//! -e`'s little-endian ones, per-byte hex or decimal), instead of one rendering each (finding
//! round16-text/03).
//!
//! The text's *number runs* are read first: tokens (words of letters and digits that are digits
//! of some base, after one of a fixed set of prefixes — `0x`, `0b`, `0o`, `x` of `\x`, `#x`,
//! `&#x` — and before one of a fixed set of suffixes — `U`, `UL`, `LL`, `n`, `h`, `b`, `o`…)
//! with only separators between them: whitespace of any length (written or escaped: `\n`) and a
//! few punctuation marks (any ASCII punctuation: `, `, `; `, `|`, `-`, `.`, `/`, quotes and
//! brackets, and the marks before a number, `\`, `$`, `#`, `&#`, `%`), so a tool's or a
//! language's way of writing a list is not listed (finding round17-text/01). Each run is
//! decoded under every base (2, 8, 10, 16) × word size (1, 2, 4, 8 bytes) × byte order
//! (big, little) × offsets (with or without the first token of each line taken for a dump's
//! offset and skipped); a token that is no number of that base or does not fit that word size
//! ends a decoded stretch; read as dump lines, a line's text column (hexdump -C's `|Bearer
//! tok|`, xxd's) is skipped too. Where a stretch's bytes hold `SHORTEST_CUT` or more consecutive
//! characters of a known credential form, the tokens that carry them are masked, from the first
//! to the last; read as dump lines, to the end of the last one's line when that begins with a
//! token (its offset: its text column holds the same bytes as characters, on a last line maybe
//! fewer than `SHORTEST_CUT` of them). Each token is decoded a fixed number of ways into at most 8 bytes each, and
//! each byte is looked up once per window length, so the work is linear in the text.

use super::QuickSet as HashSet;

use super::echo::SHORTEST_CUT;

/// Bases a dump writes its numbers in.
const BASES: [u32; 4] = [2, 8, 10, 16];
/// Word sizes in bytes.
const SIZES: [usize; 5] = [1, 2, 4, 8, WIDTH];
/// The word size a hex or binary token's written width gives (two hex digits or eight binary
/// ones a byte): xxd writes the last group of a dump only as wide as the bytes left (`32613763`
/// in `-g8`, `595863376132` in `-e`).
const WIDTH: usize = 0;
/// The most digits a token of any base and size may have (a 64-bit word in binary).
const LONGEST_TOKEN: usize = 64;
/// The most marks (punctuation; a run of backslashes is one, whitespace none) between two
/// tokens of one run: Python's `', '\x` (4), a JSON string's quoted character references
/// `;\", \"&#` (8).
const LONGEST_SEPARATOR: usize = 8;
/// What a language or tool writes before a number's digits (letters only: the marks before them,
/// `\`, `$`, `#`, `&#`, `%`, quotes, are separators), and the base it says, if any. Longest first.
const PREFIXES: [(&str, Option<u32>); 8] = [
    ("0x", Some(16)),
    ("0X", Some(16)),
    ("0b", Some(2)),
    ("0B", Some(2)),
    ("0o", Some(8)),
    ("0O", Some(8)),
    ("x", Some(16)),
    ("X", Some(16)),
];
/// What follows a number's digits: C's and Rust's integer type suffixes, JavaScript's BigInt
/// `n`, assembly's `h`, `b`, `o` and `q`, and the base they say, if any. Longest first.
const SUFFIXES: [(&str, Option<u32>); 26] = [
    ("ULL", None),
    ("ull", None),
    ("u16", None),
    ("u32", None),
    ("u64", None),
    ("i16", None),
    ("i32", None),
    ("i64", None),
    ("UL", None),
    ("ul", None),
    ("LL", None),
    ("ll", None),
    ("u8", None),
    ("i8", None),
    ("U", None),
    ("u", None),
    ("L", None),
    ("l", None),
    ("n", None),
    ("h", Some(16)),
    ("H", Some(16)),
    ("b", Some(2)),
    ("B", Some(2)),
    ("o", Some(8)),
    ("O", Some(8)),
    ("q", Some(8)),
];

/// The digits of `word` (letters and digits) in `base`: the whole word when it is digits of that
/// base, else the word without a prefix and/or suffix that says no other base. The number
/// of ways tried is fixed, so a token costs the same whatever it holds.
fn digits_of(word: &str, base: u32) -> Option<&str> {
    let valid = |digits: &str| (1..=LONGEST_TOKEN).contains(&digits.len()) && digits.chars().all(|c| c.is_digit(base));
    if valid(word) {
        return Some(word);
    }
    // Most words (a label's letters and digits) have neither an affix's first nor its last
    // character: they are no number of this base without comparing every affix (the comparisons
    // were most of the scrubber's time on a megabyte answer, finding round18-text/04).
    let (first, last) = (word.as_bytes().first()?, word.as_bytes().last()?);
    let prefixed = PREFIXES.iter().any(|(prefix, _)| prefix.as_bytes()[0] == *first);
    if !prefixed && !SUFFIXES.iter().any(|(suffix, _)| suffix.as_bytes().last() == Some(last)) {
        return None;
    }
    let fits = |said: Option<u32>| said.is_none_or(|said| said == base);
    let prefixes = PREFIXES.iter().filter(|(prefix, said)| fits(*said) && word.starts_with(prefix));
    let bare = std::iter::once(word).chain(prefixes.map(|(prefix, _)| &word[prefix.len()..]));
    for rest in bare {
        if rest.len() < word.len() && valid(rest) {
            return Some(rest);
        }
        let suffix = SUFFIXES.iter().find(|(suffix, said)| fits(*said) && rest.ends_with(suffix));
        if let Some(digits) = suffix.map(|(suffix, _)| &rest[..rest.len() - suffix.len()]).filter(|d| valid(d)) {
            return Some(digits);
        }
    }
    None
}

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
        let mut dumps = Dumps { pieces: HashSet::default(), lengths: Vec::new(), alphabet: [false; 256] };
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
            // Each token's digits in this base, read once for every word size.
            let digits: Vec<Option<&str>> =
                tokens.iter().map(|token| digits_of(&text[token.start..token.end], base)).collect();
            for size in SIZES {
                // The value of each token in this base and its bytes, when it fits this word size.
                let values: Vec<Option<(u64, usize)>> =
                    digits.iter().map(|digits| digits.and_then(|digits| value_of(digits, base, size))).collect();
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
    /// Its byte range: a word of letters and digits, affixes included.
    start: usize,
    end: usize,
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

/// The value of a token's `digits` in `base` and its bytes when it is a number that fits `size`
/// bytes (`WIDTH`: as many as its hex or binary digits write).
fn value_of(digits: &str, base: u32, size: usize) -> Option<(u64, usize)> {
    let size = match size {
        WIDTH if base == 16 && digits.len().is_multiple_of(2) && digits.len() <= 16 => digits.len() / 2,
        WIDTH if base == 2 && digits.len().is_multiple_of(8) => digits.len() / 8,
        WIDTH => return None,
        size => size,
    };
    let value = u64::from_str_radix(digits, base).ok()?;
    (size == 8 || value >> (8 * size) == 0).then_some((value, size))
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
    // Since the last line break: whether only whitespace came (a dump's line begins with its
    // offset; a list's opening bracket makes its first item no offset).
    let mut bare_line = true;
    // On this line: its tokens from which one, whether its first token came, and whether other
    // text came after it (a text column).
    let mut line_tokens = 0;
    // Marks since the last token.
    let mut marks = 0;
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
            bare_line = false;
            column |= first_seen;
            length
        };
        if byte.is_ascii_alphanumeric() {
            // A word: a token when it is a number of some base, affixes aside.
            let end = at + bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            if BASES.iter().any(|&base| digits_of(&text[at..end], base).is_some()) {
                if !first_seen {
                    dump_line = line && bare_line;
                }
                tokens.push(Token {
                    start: at,
                    end,
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
                marks = 0;
                at = end;
            } else {
                at += other(end - at, first_seen);
            }
            continue;
        }
        match separator_at(&bytes[at..]) {
            (length, Some(Separator::Break)) => {
                end_line(&mut tokens, line_tokens, at);
                line_tokens = tokens.len();
                line = true;
                clean_line = true;
                bare_line = true;
                first_seen = false;
                column = false;
                at += length;
            }
            (length, Some(Separator::Blank)) => at += length,
            (length, Some(Separator::Mark)) if marks < LONGEST_SEPARATOR => {
                marks += 1;
                bare_line = false;
                at += length;
            }
            (length, _) => at += other(length, first_seen),
        }
    }
    tokens
}

/// What comes between two tokens of one run.
enum Separator {
    /// A line break, written or escaped.
    Break,
    /// A space or tab, written or escaped: any number of them.
    Blank,
    /// A punctuation mark (a run of backslashes is one): a few of them.
    Mark,
}

/// What starts `bytes` between two tokens, and its length: a separator of one run (`Some`) —
/// whitespace (written, or escaped as `\n`, `\r`, `\t` under any number of backslashes) or
/// ASCII punctuation (a list's `, `, quotes and brackets, `;`, `|`, `-`, `/`, and the marks
/// before a number, `\x`'s `\`, `$`, `#x`'s `#`, `&#x`'s `&#`, `%`) — or other text (`None`:
/// control characters, bytes beyond ASCII).
fn separator_at(bytes: &[u8]) -> (usize, Option<Separator>) {
    match bytes[0] {
        b'\n' | b'\r' => (1, Some(Separator::Break)),
        b' ' | b'\t' => (1, Some(Separator::Blank)),
        b'\\' => {
            // The whole run at once (each backslash walking it made a run cost its length
            // squared).
            let layers = bytes.iter().take_while(|&&b| b == b'\\').count();
            match bytes.get(layers) {
                Some(b'n' | b'r') => (layers + 1, Some(Separator::Break)),
                Some(b't') => (layers + 1, Some(Separator::Blank)),
                _ => (layers, Some(Separator::Mark)),
            }
        }
        byte if byte.is_ascii_punctuation() => (1, Some(Separator::Mark)),
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
            2 => 8 * size,
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
                    2 => format!("{value:0width$b}"),
                    8 => format!("{value:0width$o}"),
                    10 => format!("{value:width$}"),
                    _ => format!("{value:0width$x}"),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A credential (alone or after `Bearer `, at any alignment) dumped in any base
        /// (2, 8, 10, 16) × word size × byte order, the last word padded or (hex) as wide as its
        /// bytes, with any separator (whitespace, a list's, quoted items, `;`, `|`, `-`, `.`,
        /// `_`, `/`), any affix a language writes (`0x`, `\x`, `$`, `#x`, `&#x..;`, `0b`, `0o`,
        /// `U`, `UL`, `h`, `n`…), in brackets or not, any number of words per line, line breaks
        /// written or escaped, and with or without offsets (od's, hexdump's, xxd's
        /// `00000010:`): every word that carries a byte of it is masked (finding round17-text/01
        /// drew separators and affixes beyond the ones listed before).
        #[test]
        fn a_credential_dumped_in_any_word_format_is_masked(
            credential in "[A-Za-z0-9._~+/=-]{8,40}",
            bearer in any::<bool>(),
            lead in "[ -~]{0,7}",
            base in prop::sample::select(BASES.to_vec()),
            size in prop::sample::select(vec![1usize, 2, 4, 8]),
            short in any::<bool>(),
            little in any::<bool>(),
            separator in prop::sample::select(vec![
                " ", "  ", ", ", ",", ":", "\t", "; ", ";", "|", "-", ".", "_", "/", "\", \"", "', '", "\\\", \\\"",
            ]),
            affix in 0..8usize,
            brackets in prop::sample::select(vec![("", ""), ("[", "]"), ("[|", "|]"), ("{", "}"), ("(", ")"), ("[\"", "\"]")]),
            per_line in 1..12usize,
            offsets in 0..3usize,
            escaped in any::<bool>(),
        ) {
            // The affixes each base is written with: none, and the ones languages use.
            let affixes: &[(&str, &str)] = match base {
                16 => &[("", ""), ("0x", ""), ("\\x", ""), ("$", ""), ("#x", ""), ("&#x", ";"), ("0x", "U"), ("", "h")],
                2 => &[("", ""), ("0b", ""), ("", "b"), ("0b", "UL")],
                8 => &[("", ""), ("0o", ""), ("", "o"), ("0", "")],
                _ => &[("", ""), ("", "U"), ("", "L"), ("&#", ";"), ("", "ULL"), ("", "n")],
            };
            let (prefix, suffix) = affixes[affix % affixes.len()];
            let input = format!("{lead}{}{credential}", if bearer { "Bearer " } else { "" });
            let words = words(input.as_bytes(), base, size, little, short);
            let mut dump = String::new();
            let mut offset_words = Vec::new();
            for (line, chunk) in words.chunks(per_line).enumerate() {
                let offset = match offsets {
                    1 => format!("{:07o}", line * per_line * size),
                    2 => format!("{:08x}", line * per_line * size),
                    _ => String::new(),
                };
                if !offset.is_empty() {
                    dump.push_str(&format!("{offset}{} ", if offsets == 2 { ":" } else { "" }));
                    offset_words.push(offset);
                }
                // A word with an affix is written without od's padding spaces.
                let chunk: Vec<String> = chunk.iter().map(|word| format!("{prefix}{}{suffix}", if prefix.is_empty() && suffix.is_empty() { word } else { word.trim_start() })).collect();
                dump.push_str(&chunk.join(separator));
                dump.push_str(if escaped { "\\n" } else { "\n" });
            }
            let dump = format!("{}{}{}\n", brackets.0, dump.trim_end(), brackets.1);
            let scrubbed = scrub(&[&credential], &format!("request dump: {dump}end"));
            // A word as the text splits it (at every mark and blank, `\n` too): its letters and
            // digits, affixes included.
            let split = |text: &str| -> Vec<String> {
                text.replace("\\n", "\n").split(|c: char| !c.is_ascii_alphanumeric()).map(String::from).collect()
            };
            let left = split(&scrubbed);
            let core = |word: &str| split(&format!("{prefix}{word}{suffix}")).into_iter().rfind(|w| !w.is_empty()).unwrap_or_default();
            // Where the credential's bytes lie in the input, and so which words carry them.
            let from = input.len() - credential.len();
            let carries = |index: usize| (index * size..(index + 1) * size).any(|byte| (from..input.len()).contains(&byte));
            for (index, word) in words.iter().enumerate() {
                if carries(index) {
                    let written = core(word);
                    let kept = left.iter().filter(|w| **w == written).count();
                    let elsewhere = words.iter().enumerate().filter(|(i, w)| core(w) == written && !carries(*i)).count()
                        + offset_words.iter().filter(|w| **w == written).count();
                    prop_assert!(kept <= elsewhere, "{} carried by {} is left in {}", credential, written, scrubbed);
                }
            }
            prop_assert!(scrubbed.contains("***"), "{}", scrubbed);
        }

        /// Plain text with ordinary numbers (timestamps, `1:5:`, figures, offsets, versions,
        /// dates, clock times, IP addresses, percentages, hex ids) is kept byte for byte, whatever
        /// marks join them.
        #[test]
        fn ordinary_numbers_are_kept(
            credential in "[A-Za-z0-9._-]{8,32}",
            numbers in proptest::collection::vec(prop_oneof![
                (0u64..100_000).prop_map(|n| n.to_string()),
                (1_600_000_000u64..1_900_000_000).prop_map(|n| n.to_string()),
                (0u32..100, 0u32..100).prop_map(|(a, b)| format!("{a}:{b}:")),
                "[0-9a-f]{1,16}",
                (0u32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
                (0u32..30, 0u32..30, 0u32..300).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
                (1990u32..2100, 1u32..13, 1u32..32).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
                (0u32..24, 0u32..60, 0u32..60, 0u32..1000).prop_map(|(h, m, s, ms)| format!("{h:02}:{m:02}:{s:02}.{ms:03}")),
                (0u32..256, 0u32..256, 0u32..256, 0u32..256).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
                (0u32..10_000).prop_map(|n| format!("{}.{}%", n / 100, n % 100)),
                (0u64..10_000_000).prop_map(|n| format!("{n}ms")),
            ], 1..60),
            separators in proptest::collection::vec(prop::sample::select(vec![
                " ", ", ", ":", "\n", " ms ", "s, ", "-", "/", "; ", " | ", "T", "Z ", "..",
            ]), 60),
        ) {
            let text: String = numbers.iter().zip(&separators).map(|(n, s)| format!("{n}{s}")).collect();
            prop_assert_eq!(scrub(&[&credential], &text), text);
        }
    }

    /// Finding round17-text/01: `od -x`'s little-endian words of the header written with another
    /// separator (`;`, `|`, `-`, `.`, `_`, `/`, F#'s `[|..; ..|]`, quoted items) or affix (`0x..U`,
    /// `..h`, `$..`, `#x..`), or as 16-bit binary words, were printed whole: every word from the
    /// token's first on is masked, and the words before it (`Bearer`, no credential) are kept.
    #[test]
    fn the_findings_other_separators_affixes_and_binary_are_masked() {
        let token = "tok-abcdefgh-12345678";
        let header = format!("Bearer {token}");
        let mut bytes = header.into_bytes();
        if bytes.len() % 2 == 1 {
            bytes.push(0);
        }
        let words: Vec<u16> = bytes.chunks(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect();
        let each = |f: &dyn Fn(u16) -> String| words.iter().map(|&w| f(w)).collect::<Vec<String>>();
        let hex = |w: u16| format!("{w:04x}");
        let forms: Vec<(&str, String)> = vec![
            ("semi", each(&hex).join("; ")),
            ("pipe", each(&hex).join("|")),
            ("dash", each(&hex).join("-")),
            ("dot", each(&hex).join(".")),
            ("under", each(&hex).join("_")),
            ("slash", each(&|w| w.to_string()).join("/")),
            ("fsharp", format!("[|{}|]", each(&|w| w.to_string()).join("; "))),
            ("quoted", each(&|w| format!("\"{w:04x}\"")).join(", ")),
            ("usuffix", each(&|w| format!("0x{w:04x}U")).join(", ")),
            ("hsuffix", each(&|w| format!("{w:04x}h")).join(" ")),
            ("dollar", each(&|w| format!("${w:04x}")).join(" ")),
            ("hashx", each(&|w| format!("#x{w:04x}")).join(" ")),
            ("binary", each(&|w| format!("{w:016b}")).join(" ")),
        ];
        for (name, dump) in forms {
            let scrubbed = scrub(&[token], &format!("unauthorized; header words: {dump}"));
            assert!(scrubbed.contains("***"), "{name}: {scrubbed}");
            // The token's bytes begin in the fourth word (` t`).
            for (index, word) in words.iter().enumerate().skip(3) {
                for written in [format!("{word:04x}"), word.to_string(), format!("{word:016b}")] {
                    let left = scrubbed
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .filter(|w| {
                            w.trim_start_matches("0x").trim_start_matches('x').trim_end_matches(['U', 'h']) == written
                        })
                        .count();
                    assert_eq!(left, 0, "{name}: word {index} ({written}) left in {scrubbed}");
                }
            }
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
