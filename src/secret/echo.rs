//! Where a text holds an echo of a credential: the credential as a server may have quoted it —
//! case folded (Unicode simple case folding, and `ß` as `SS`), percent-encoded (each UTF-8
//! byte, with any number of `%25` layers, as a URL quoted in a URL; `+` for a space, as a form
//! encodes it), hex per byte (`746f6b`, `74 6f 6b`, `74:6f`, `0x74`, `\x74`), decimal per byte
//! in a list (`[114, 119]`, Java's signed `-48`), JSON-escaped (`\/`, `\"`, `\uXXXX` with
//! surrogate pairs joined, in any number of layers: `\\u00fc`) and the other code escapes
//! (`\U0001f511`, `\u{1f511}`, JS escape()'s `%uXXXX` and `%FC`), HTML character references
//! (`&#116;`, `&#x74;`, any HTML5 name: `&auml;`), split across lines with the indentation a
//! wrapped or folded line adds — in any mixture, whole or cut at either end or both (any run of
//! `SHORTEST_CUT` characters of it).
//! A byte reading (`%D0%BA`, `\xd0`) stands for a UTF-8 byte; the bytes of one character are
//! decoded and compared case folded, so `%D0%9A` (`К`) is an echo of `к`. Legacy charsets (UTF-8
//! read back as Latin-1 or windows-1252) are not readings here but forms of their own
//! (`super::forms_of`), so every reading applies to them too.
//!
//! The text is read once into a *view*: at each position, every character (or byte) it may
//! stand for there and where that reading ends. Matching a form is then a walk over the view,
//! following every reading as a set of positions, so `3` read plainly or as the start of the
//! hex pair `33` are both tried, and the work stays within the form's length times the text's,
//! whatever a server sends. `scrub` runs on every printed cell, so the forms are indexed by the
//! reading their echo can begin with.
//!
//! Speed (release, 10 credentials, on a loaded 2-core machine): with the round10-text readings
//! (decimal bytes, escape layers, surrogates) and normal forms, a 270 KB text dense with
//! mojibake, escapes and digit lists scrubs in ~360 ms instead of ~266 ms, an ordinary 85-byte
//! error line in 22.5 µs instead of 20.8 µs (reusing the candidate buffers across positions
//! won back part of it).

use super::QuickMap as HashMap;

/// The fewest characters of a credential that count as an echo of it when the rest was cut off
/// (a server quoting it up to a length limit, only its tail, or a piece of it: one line of a hex
/// dump, finding round6/01): fewer reveal little, and would mask ordinary words that happen to
/// share them.
pub const SHORTEST_CUT: usize = 8;

/// A reading of a UTF-8 byte of a non-ASCII character (percent-encoded or hex), told apart from
/// a whole character with the same code.
const BYTE: u32 = 1 << 31;

/// The longest HTML character reference read, `&` and `;` included: the longest HTML5 name
/// (`&CounterClockwiseContourIntegral;`), which is longer than any numeric one worth reading.
const LONGEST_REFERENCE: usize = htmlize::ENTITY_MAX_LENGTH;

/// The most backslashes read before an escape: JSON quoted in JSON 5 times over needs 32.
/// Counted at each position, an unbounded run made a text of n backslashes cost n² (found
/// with round13-text/05's line breaks).
const MOST_LAYERS: usize = 64;

/// One form to mask.
pub struct Form {
    pub text: String,
    chars: Vec<char>,
    /// Each character as matching compares it, worked out once (it runs on every output line).
    wanted: Vec<Wanted>,
    /// How many credentials have this form: tests take theirs back, and two of them may share
    /// one, so it goes only with the last.
    pub holders: usize,
}

impl Form {
    pub fn new(text: String) -> Form {
        let chars: Vec<char> = text.chars().collect();
        let wanted = chars.iter().map(|&c| Wanted::new(c)).collect();
        Form { text, chars, wanted, holders: 1 }
    }

    /// Character offsets an echo of this form may begin at: the start, and every offset with at
    /// least `SHORTEST_CUT` characters after it (a piece of it counts as an echo of it).
    fn starts(&self) -> std::ops::RangeInclusive<usize> {
        0..=self.chars.len().saturating_sub(SHORTEST_CUT)
    }
}

/// One character of a form: its folded code, and what else a server may write for it.
struct Wanted {
    code: u32,
    ascii: bool,
    /// Its cases longer than one character (see `longer_cases`), folded.
    longer: Vec<Vec<u32>>,
}

impl Wanted {
    fn new(c: char) -> Wanted {
        Wanted { code: fold(u32::from(c)), ascii: c.is_ascii(), longer: longer_cases(c) }
    }
}

/// Every form, and where each of their echoes may begin by the reading it begins with.
#[derive(Default)]
pub struct Forms {
    pub forms: Vec<Form>,
    /// (form, character offset) by the codes of the first two readings, for starts whose first
    /// two characters are ASCII (nearly all): a text position is tried only against the starts
    /// its first two readings agree with, so a long text with many credentials stays fast.
    pairs: HashMap<(u32, u32), Vec<(usize, usize)>>,
    /// The other starts, by the code of the first reading.
    starts: HashMap<u32, Vec<(usize, usize)>>,
    /// The forms' characters in order with other text between them (see `skeleton`).
    skeletons: super::skeleton::Skeletons,
    /// The forms' bytes in a dump of numbers (see `dump`).
    dumps: super::dump::Dumps,
    /// The forms' bytes read as UTF-16 (see `wide`).
    wides: super::wide::Wides,
}

impl Forms {
    /// Rebuilds the index after forms came or went.
    pub fn reindex(&mut self) {
        self.starts.clear();
        self.pairs.clear();
        self.skeletons = super::skeleton::Skeletons::new(self.forms.iter().map(|form| form.text.as_str()));
        self.dumps = super::dump::Dumps::new(self.forms.iter().map(|form| form.text.as_str()));
        self.wides = super::wide::Wides::new(self.forms.iter().map(|form| form.text.as_str()));
        for (index, form) in self.forms.iter().enumerate() {
            for offset in form.starts() {
                match (form.chars.get(offset), form.chars.get(offset + 1)) {
                    (Some(first), Some(second)) if first.is_ascii() && second.is_ascii() => {
                        let key = (fold(u32::from(*first)), fold(u32::from(*second)));
                        self.pairs.entry(key).or_default().push((index, offset));
                    }
                    (Some(first), _) => {
                        for code in first_codes(*first) {
                            self.starts.entry(code).or_default().push((index, offset));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `text` with every echo of every form replaced by `***`; overlapping echoes are masked
    /// as one.
    pub fn scrub(&self, text: &str) -> String {
        if self.forms.is_empty() || text.is_empty() {
            return text.to_string();
        }
        let mut masked = self.readings(text);
        // The text as the bytes its wide characters carry (`wide::narrowed`): every layout the
        // readings and the skeleton know, of a credential read as UTF-16.
        for narrowed in super::wide::narrowed(text) {
            let mut found = self.readings(&narrowed.text);
            self.skeletons.find_ranges(&narrowed.text, &mut found);
            masked.extend(found.into_iter().map(|range| narrowed.origin(range, text)));
        }
        // The text as drawn, and with its invisible bytes read (`compat::folded`): a credential
        // in fullwidth letters, between characters drawn as nothing, or smuggled in tag
        // characters is the credential to a reader.
        for folded in super::compat::folded(text) {
            let mut found = self.readings(&folded.text);
            self.skeletons.find_ranges(&folded.text, &mut found);
            masked.extend(found.into_iter().map(|range| folded.origin(range, text)));
        }
        self.skeletons.scrub(&super::mask(text, masked))
    }

    /// The byte ranges of `text` that echo a form in every reading but the skeleton's.
    fn readings(&self, text: &str) -> Vec<(usize, usize)> {
        let view = View::new(text);
        let mut masked: Vec<(usize, usize)> = Vec::new();
        // Kept across positions: allocating them at each one cost a sixth of a long scrub.
        let mut tried: Vec<(usize, usize)> = Vec::new();
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        // Per form, where its last echo found ends: a piece of it starting inside that echo is
        // masked already, and walking it again made a long credential's echo cost its length
        // squared (finding round14-text/02).
        let mut covered = vec![0usize; self.forms.len()];
        for at in (0..text.len()).filter(|at| text.is_char_boundary(*at)) {
            tried.clear();
            candidates.clear();
            for &(code, end) in view.readings(at) {
                candidates.extend_from_slice(self.starts.get(&code).map_or(&[][..], Vec::as_slice));
                let second = end + view.folds.get(end).copied().unwrap_or(0);
                for &(next, _) in view.readings(second) {
                    candidates.extend_from_slice(self.pairs.get(&(code, next)).map_or(&[][..], Vec::as_slice));
                }
            }
            for &(form_index, offset) in &candidates {
                if at < covered[form_index] || tried.contains(&(form_index, offset)) {
                    continue;
                }
                tried.push((form_index, offset));
                let form = &self.forms[form_index];
                let (end, matched) = view.echo(at, &form.wanted[offset..]);
                let whole = offset == 0 && matched == form.chars.len();
                let piece = matched >= SHORTEST_CUT;
                if matched > 0 && (whole || piece) {
                    masked.push((at, end));
                    covered[form_index] = covered[form_index].max(end);
                }
            }
        }
        // Read on the text as it came: a dump's words the readings above mask in part (a
        // per-byte list) are still whole words of it.
        self.dumps.find(text, &mut masked);
        // Read on the text as it came too, raw characters and `\uXXXX` escapes alike.
        self.wides.find(text, &mut masked);
        masked
    }
}

/// The codes the first reading of an echo of `c` may have: the character case folded and, for
/// a non-ASCII one, the first UTF-8 byte of each of its cases read alone (`ю` is D1 8E, `Ю`
/// D0 AE), and the first character of a longer upper case (`ß` as `SS`).
fn first_codes(c: char) -> Vec<u32> {
    let mut codes = vec![fold(u32::from(c))];
    if !c.is_ascii() {
        for spelling in [c, fold_char(c), single(c.to_uppercase()).unwrap_or(c)] {
            let mut buffer = [0u8; 4];
            let code = BYTE | u32::from(spelling.encode_utf8(&mut buffer).as_bytes()[0]);
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        for expansion in longer_cases(c) {
            if let Some(first) = expansion.first().filter(|first| !codes.contains(first)) {
                codes.push(*first);
            }
        }
    }
    codes
}

/// A code case folded: ASCII lowered; another character by Unicode simple case folding (its
/// upper case lowered, where each is one character: `Σ`, `σ` and `ς` are one, `К` is `к`), so a
/// server that upper- or lower-cases a non-ASCII credential still echoes it.
fn fold(code: u32) -> u32 {
    if code < 0x80 {
        return u32::from((code as u8).to_ascii_lowercase());
    }
    char::from_u32(code).map_or(code, |c| u32::from(fold_char(c)))
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let upper = single(c.to_uppercase()).unwrap_or(c);
    single(upper.to_lowercase()).unwrap_or(upper)
}

/// The one character `chars` yields, if it yields one.
fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

/// The folded codes of each case of `c` that is more than one character (`ß` upper-cased is
/// `SS`, `İ` lower-cased is `i̇`): a server that changes the case writes those instead.
fn longer_cases(c: char) -> Vec<Vec<u32>> {
    if c.is_ascii() {
        return Vec::new();
    }
    [c.to_uppercase().collect::<Vec<char>>(), c.to_lowercase().collect()]
        .into_iter()
        .filter(|chars| chars.len() > 1)
        .map(|chars| chars.into_iter().map(|c| fold(u32::from(c))).collect())
        .collect()
}

/// How many bytes a UTF-8 character that starts with `lead` has (none for a byte that cannot
/// start one).
fn utf8_length(lead: u8) -> Option<usize> {
    match lead {
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// The code of a byte read from an encoding: the character itself for ASCII.
fn byte_code(byte: u8) -> u32 {
    if byte.is_ascii() {
        fold(u32::from(byte))
    } else {
        BYTE | u32::from(byte)
    }
}

/// Every reading of every position of a text (see the module doc).
struct View {
    /// (code, end) readings, those of position `p` at `index[p]..index[p + 1]`.
    readings: Vec<(u32, usize)>,
    index: Vec<usize>,
    /// The length of the line break (with the indentation after it) at each position.
    folds: Vec<usize>,
}

impl View {
    fn new(text: &str) -> View {
        let mut readings = Vec::with_capacity(text.len() + text.len() / 4);
        let mut index = Vec::with_capacity(text.len() + 1);
        for at in 0..text.len() {
            index.push(readings.len());
            if !text.is_char_boundary(at) {
                continue;
            }
            read_at(text, at, &mut readings);
        }
        index.push(readings.len());
        View { readings, index, folds: folds(text) }
    }

    fn readings(&self, at: usize) -> &[(u32, usize)] {
        match (self.index.get(at), self.index.get(at + 1)) {
            (Some(&start), Some(&end)) => &self.readings[start..end],
            _ => &[],
        }
    }

    /// Where the readings of `c` that start at `at` end.
    fn ends_of(&self, at: usize, c: &Wanted, out: &mut Vec<usize>) {
        let code = c.code;
        for &(read, end) in self.readings(at) {
            if read == code && !out.contains(&end) {
                out.push(end);
            }
        }
        if c.ascii {
            return;
        }
        // Byte by byte, each in any encoding: the UTF-8 bytes of one character, decoded and
        // compared case folded.
        for &(lead, end) in self.readings(at) {
            let Some(length) = (lead & BYTE != 0).then(|| utf8_length(lead as u8)).flatten() else { continue };
            let mut reached = vec![(end, vec![lead as u8])];
            for _ in 1..length {
                let mut next = Vec::new();
                for (position, bytes) in &reached {
                    for &(read, end) in self.readings(*position) {
                        if read & BYTE != 0 && (0x80..=0xbf).contains(&(read as u8)) {
                            let mut longer = bytes.clone();
                            longer.push(read as u8);
                            next.push((end, longer));
                        }
                    }
                }
                reached = next;
            }
            for (end, bytes) in reached {
                let decoded = std::str::from_utf8(&bytes).ok().and_then(|text| text.chars().next());
                if decoded.is_some_and(|d| fold(u32::from(d)) == code) && !out.contains(&end) {
                    out.push(end);
                }
            }
        }
        // A case longer than one character, one reading each (`SS` for `ß`).
        for expansion in &c.longer {
            let mut reached = vec![at];
            for &code in expansion {
                let mut next = Vec::new();
                for &position in &reached {
                    for &(read, end) in self.readings(position) {
                        if read == code && !next.contains(&end) {
                            next.push(end);
                        }
                    }
                }
                reached = next;
            }
            for end in reached {
                if !out.contains(&end) {
                    out.push(end);
                }
            }
        }
    }

    /// How far an echo of `chars` reaches from `at`: the furthest end and how many characters
    /// matched. Line breaks (with their indentation) between two characters are skipped.
    fn echo(&self, at: usize, chars: &[Wanted]) -> (usize, usize) {
        let mut reached = vec![at];
        let (mut end, mut matched) = (at, 0);
        for (k, c) in chars.iter().enumerate() {
            let mut next = Vec::new();
            for &position in &reached {
                // After a line break, or at it: a control character may be one of the form's
                // own (a Latin-1 reading's U+0080..U+009F).
                self.ends_of(position, c, &mut next);
                let skipped = self.folds.get(position).copied().unwrap_or(0);
                if k > 0 && skipped > 0 {
                    self.ends_of(position + skipped, c, &mut next);
                }
            }
            if next.is_empty() {
                break;
            }
            matched += 1;
            end = next.iter().copied().max().unwrap_or(end);
            reached = next;
        }
        (end, matched)
    }
}

/// Every reading that starts at byte `at` of `text` (a character boundary).
fn read_at(text: &str, at: usize, out: &mut Vec<(u32, usize)>) {
    let rest = &text[at..];
    let Some(first) = rest.chars().next() else { return };
    out.push((fold(u32::from(first)), at + first.len_utf8()));
    match first {
        // A form-encoded body (`password=correct+horse`) writes a space as `+` (finding
        // round7-text/02).
        '+' => out.push((u32::from(' '), at + 1)),
        '%' => {
            unicode_escape(rest, at, out);
            // `%XX`, and `%25XX`… for a URL quoted in a URL: every layer is a reading.
            let mut layer = 1;
            while let Some(byte) = hex_pair(rest, layer) {
                out.push((byte_code(byte), at + layer + 2));
                // JS escape() writes a character below U+0100 as `%XX` of its code, not of a
                // UTF-8 byte (`%FC` for `ü`).
                if !byte.is_ascii() {
                    out.push((fold(u32::from(byte)), at + layer + 2));
                }
                if byte != b'%' || rest.get(layer..layer + 2) != Some("25") {
                    break;
                }
                layer += 2;
            }
        }
        '\\' => {
            unicode_escape(rest, at, out);
            let bytes = rest.as_bytes();
            if bytes.get(1) == Some(&b'\\') {
                out.push((u32::from('\\'), at + 2));
            }
            // Under any number of layers (`\\\"` is `"` escaped twice); `\\x74` too.
            let layers = bytes.iter().take(MOST_LAYERS).take_while(|&&b| b == b'\\').count();
            match bytes.get(layers) {
                Some(b'x') if layers > 1 => {
                    if let Some(byte) = hex_pair(rest, layers + 1) {
                        out.push((byte_code(byte), at + layers + 3));
                        if !byte.is_ascii() {
                            out.push((fold(u32::from(byte)), at + layers + 3));
                        }
                    }
                }
                Some(&punctuation) if punctuation.is_ascii_punctuation() => {
                    out.push((fold(u32::from(punctuation)), at + layers + 1))
                }
                _ => {}
            }
        }
        '0'..='9' | '-' => decimal_byte(text, at, out),
        '&' => {
            if let Some((code, length)) = html_reference(rest) {
                out.push((fold(code), at + length));
            }
        }
        _ => {}
    }
    // Hex per byte, after an optional `0x` or `\x`, with or without a dump's separator after.
    // Each opens with a hex digit or `\`: any other character (most of a text) reads no byte,
    // and comparing it with each prefix was a fifth of a scrub (finding round31-text/01).
    if !(first.is_ascii_hexdigit() || first == '\\') {
        return;
    }
    for prefix in ["", "0x", "0X", "\\x"] {
        if !rest.starts_with(prefix) {
            continue;
        }
        if let Some(byte) = hex_pair(rest, prefix.len()) {
            let end = at + prefix.len() + 2;
            out.push((byte_code(byte), end));
            // A dump's or a list's separator: `74 6f`, `74:6f`, `74-6f`, Go's `0x74, 0x6f`,
            // Rust's `[74, 6f]`, Python's `['0x74', '0x6f']` (finding round11-text/03).
            if let Some(separator) = ["', '", "\", \"", ", ", " ", ":", "-", ","]
                .iter()
                .find(|separator| text[end..].starts_with(**separator))
            {
                out.push((byte_code(byte), end + separator.len()));
            }
            // In a Python or JavaScript string `\xd0` is the character U+00D0, not a byte: the
            // repr of a Latin-1 reading (finding round8-text/02).
            if prefix == "\\x" && !byte.is_ascii() {
                out.push((fold(u32::from(byte)), end));
            }
        }
    }
}

/// A code unit escape at the start of `rest` (byte `at` of the text), pushed as a reading: JSON's
/// and JavaScript's `\\uXXXX` under any number of layers (`\\\\u00fc`: a JSON error quoted in a
/// JSON string, finding round10-text/02), Python's `\\U0001f511`, Rust's and ES6's `\\u{1f511}`,
/// JS escape()'s `%uXXXX` (in `%25` layers too). A UTF-16 surrogate pair (`\\ud83d\\udd11`,
/// json.dumps' and Jackson's ASCII output, finding round10-text/01) is read as the one character
/// it stands for.
///
/// An escaped character that smuggles a byte (`super::compat::smuggled`: `\\u{e0073}`,
/// `\\udb40\\udc73`) is also read as that byte, as the raw character is in the smuggled reading.
fn unicode_escape(rest: &str, at: usize, out: &mut Vec<(u32, usize)>) {
    let Some((code, length)) = code_unit(rest) else { return };
    let mut push = |code: u32, end: usize| {
        out.push((fold(code), end));
        if let Some(byte) = super::compat::smuggled(code) {
            out.push((byte_code(byte), end));
        }
    };
    push(code, at + length);
    if (0xd800..0xdc00).contains(&code) {
        if let Some((low, more)) = code_unit(&rest[length..]).filter(|(low, _)| (0xdc00..0xe000).contains(low)) {
            push(0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00), at + length + more);
        }
    }
}

/// The code and length of one escape `unicode_escape` reads.
pub(super) fn code_unit(rest: &str) -> Option<(u32, usize)> {
    let bytes = rest.as_bytes();
    let (mut i, percent) = match bytes.first()? {
        b'\\' => (bytes.iter().take(MOST_LAYERS).take_while(|&&b| b == b'\\').count(), false),
        b'%' => (1, true),
        _ => return None,
    };
    while percent && rest.get(i..i + 2) == Some("25") {
        i += 2;
    }
    let hex = |from: usize, digits: usize| {
        let spelled = rest.get(from..from + digits)?;
        spelled.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u32::from_str_radix(spelled, 16).ok())?
    };
    match (bytes.get(i)?, bytes.get(i + 1)) {
        (b'u', Some(b'{')) if !percent => {
            let digits = bytes[i + 2..].iter().take(7).position(|&b| b == b'}').filter(|d| (1..=6).contains(d))?;
            Some((hex(i + 2, digits)?, i + digits + 3))
        }
        (b'u', _) => Some((hex(i + 1, 4)?, i + 5)),
        (b'U', _) if !percent => Some((hex(i + 1, 8)?, i + 9)),
        _ => None,
    }
}

/// A byte written in decimal at byte `at` (a digit, or `-` for Java's signed bytes): Node's JSON of
/// a Buffer (`[114,119,45]`), Rust's `{:?}` of bytes and serde's `Vec<u8>` (`[114, 119, 45]`),
/// Java's Arrays.toString (`[-48, -70]`) — finding round10-text/04. A number is read only whole
/// (no digit before or after it), as a byte (0..=255, or -128..=-1), ending before or after the
/// list's separator (`,`, `, ` or a space).
fn decimal_byte(text: &str, at: usize, out: &mut Vec<(u32, usize)>) {
    let bytes = text.as_bytes();
    if at > 0 && bytes[at - 1].is_ascii_digit() {
        return;
    }
    let negative = bytes[at] == b'-';
    let start = at + usize::from(negative);
    let digits = bytes[start..].iter().take(4).take_while(|b| b.is_ascii_digit()).count();
    if !(1..=3).contains(&digits) {
        return;
    }
    let Ok(number) = text[start..start + digits].parse::<u16>() else { return };
    let byte = match (negative, number) {
        (false, 0..=255) => number as u8,
        (true, 1..=128) => (256 - number) as u8,
        _ => return,
    };
    let end = start + digits;
    out.push((byte_code(byte), end));
    let separator = match bytes.get(end..end + 2) {
        Some(b", ") => 2,
        _ if matches!(bytes.get(end), Some(b',' | b' ')) => 1,
        _ => 0,
    };
    if separator > 0 {
        out.push((byte_code(byte), end + separator));
    }
}

/// The byte two hex digits at `rest[i..i + 2]` spell.
fn hex_pair(rest: &str, i: usize) -> Option<u8> {
    let digits = rest.get(i..i + 2)?;
    digits.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u8::from_str_radix(digits, 16).ok())?
}

/// An HTML character reference at the start of `rest` (`&#116;`, `&#x74;`, leading zeros, or
/// any name of HTML5's set that stands for one character: `&auml;`, `&szlig;`, as PHP's
/// htmlentities() writes every non-ASCII letter, finding round9-text/03): the code it stands
/// for and its length.
pub(super) fn html_reference(rest: &str) -> Option<(u32, usize)> {
    let end = rest.bytes().take(LONGEST_REFERENCE).position(|b| b == b';')?;
    let body = &rest[1..end];
    let code = if let Some(number) = body.strip_prefix('#') {
        match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        }
    } else {
        // Names are case-sensitive (`&Auml;`, `&auml;`); an upper-cased page's `&AMP;` is read
        // by its lower case too.
        let reference = &rest[..=end];
        let glyph = htmlize::ENTITIES.get(reference.as_bytes()).or_else(|| {
            let upper = reference.bytes().any(|b| b.is_ascii_uppercase());
            upper.then(|| htmlize::ENTITIES.get(reference.to_ascii_lowercase().as_bytes())).flatten()
        })?;
        let mut chars = std::str::from_utf8(glyph).ok()?.chars();
        let c = chars.next().filter(|_| chars.next().is_none())?;
        u32::from(c)
    };
    Some((code, end + 1))
}

/// The length of a line break at the start of `rest` with what may follow it before the echo
/// goes on: more breaks, and the spaces or tabs of an indented or folded line (`\r\n `).
///
/// Worked out for every position at once, from the end (finding round13-text/05: taken at each
/// position alone, a text of n line breaks cost n² and a 15 KB answer kept gatecheck busy for
/// minutes): what follows a break is the run of breaks and blanks from there, which the
/// position after it already knows.
fn folds(text: &str) -> Vec<usize> {
    // `run[p]`: the length of the run of breaks, spaces and tabs starting at `p`.
    let mut run = vec![0usize; text.len() + 1];
    let mut folds = vec![0usize; text.len() + 1];
    for at in (0..text.len()).rev().filter(|at| text.is_char_boundary(*at)) {
        let rest = &text[at..];
        if let Some(length) = line_break_at(rest) {
            let after = run.get(at + length).copied().unwrap_or(0);
            run[at] = length + after;
            folds[at] = length + after;
        } else if rest.starts_with([' ', '\t']) {
            run[at] = 1 + run[at + 1];
        }
    }
    folds
}

/// The length of a line break (or other control character) at the start of `rest`, raw or as a
/// JSON/C escape (`\n`, `\r`, `\t`, `\u000a`): a body that JSON-encodes an echo split across
/// lines carries the break as those two or six characters.
fn line_break_at(rest: &str) -> Option<usize> {
    if let Some(c) = rest.chars().next().filter(|c| c.is_control()) {
        return Some(c.len_utf8());
    }
    let bytes = rest.as_bytes();
    if bytes.first() != Some(&b'\\') {
        return None;
    }
    match bytes.get(1) {
        Some(b'n' | b'r' | b't') => Some(2),
        Some(b'u') => rest
            .get(2..6)
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
            .filter(|c| c.is_control())
            .map(|_| 6),
        _ => None,
    }
}
