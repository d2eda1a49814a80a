//! Where a text holds a credential in characters that stand for others, or between characters
//! that stand for nothing:
//! - compatibility forms (finding round28-text/05) — fullwidth letters and digits
//!   (`ＥｎｃＣａｎａｒｙ`, U+FF01..U+FF5E, as a "zenkaku" conversion or a normalising error page
//!   writes them), mathematical or circled letters, superscript digits, ligatures: characters
//!   whose compatibility decomposition (NFKD, and so NFKC) is ASCII, so any reader reads them as
//!   the credential;
//! - characters drawn as nothing (`escape::drawn_as_nothing`: Default_Ignorable ones, variation
//!   selectors, tag characters, zero-width ones, combining marks): a run of any length of them
//!   between a credential's letters leaves the credential as a reader sees it (finding
//!   round33-text/03: 13 variation selectors per gap were over the skeleton's byte gap);
//! - the invisible characters that carry a byte each (findings round29-text/01 and /02,
//!   `smuggled`): tag characters (U+E0000 + an ASCII byte, "ASCII smuggling") and variation
//!   selectors (one per byte, "emoji smuggling"), which a decoder, or a language model reading a
//!   log, reads back;
//! - look-alikes (finding round38-text/02): a character Unicode's confusables (UTS #39) draw as
//!   one ASCII character (Cyrillic `а`, `р`, `Н`, Greek `Ο`), which a reader reads, or retypes,
//!   as that character;
//!
//! The rule: the text is also read with each compatibility form or look-alike folded to the
//! ASCII it stands for; as drawn — folded so, and each character drawn as nothing left out — when it holds
//! such characters; and, when it holds byte-carrying
//! characters, once more with each read as its byte (ASCII, or Latin-1 beyond it). Every
//! reading (`echo`'s, the skeleton's) runs on those texts, and a range found there masks the
//! original characters it came from. Each is one walk of the text, so a run of any length costs
//! its length. Credentials are printable ASCII (`super::from_input`), so these readings cover
//! every compatibility spelling, every invisible interleaving and every smuggled run of each.

use super::wide::Narrowed;

/// The byte an invisible character carries: a tag character U+E0000 + b (b below 0x80) carries
/// b, a variation selector U+FE00 + b (b below 16) or U+E0100 + b − 16 carries b — the schemes
/// that hide text in characters a renderer draws as nothing. Its one home: the smuggled reading
/// here and `echo`'s escapes (`\u{e0073}`, `\udb40\udc73`) both read it.
pub(super) fn smuggled(code: u32) -> Option<u8> {
    match code {
        0xe0000..=0xe007f => Some((code - 0xe0000) as u8),
        0xfe00..=0xfe0f => Some((code - 0xfe00) as u8),
        0xe0100..=0xe01ef => Some((code - 0xe0100 + 16) as u8),
        _ => None,
    }
}

/// What a character stands for in one reading (pushed to `out`, maybe nothing), when it is
/// not itself: with `smuggle`, the byte it carries (see `smuggled`); nothing when it is drawn
/// as nothing; the ASCII its compatibility decomposition is, when it is ASCII and the
/// character is not (`Ｅ` → `E`, `ﬁ` → `fi`, `²` → `2`, U+00A0 → a space); or else the ASCII
/// character it is drawn as (`looks_like`: Cyrillic `р` → `p`).
fn stands_for(c: char, reading: Reading, out: &mut String) -> bool {
    if c.is_ascii() {
        return false;
    }
    if let Some(byte) = smuggled(u32::from(c)).filter(|_| reading == Reading::Smuggled) {
        out.push(char::from(byte));
        return true;
    }
    if reading != Reading::Compatible && crate::escape::drawn_as_nothing(c) {
        return true;
    }
    let start = out.len();
    let mut ascii = true;
    unicode_normalization::char::decompose_compatible(c, |d| {
        ascii &= d.is_ascii();
        out.push(d);
    });
    if ascii && out.len() > start {
        return true;
    }
    out.truncate(start);
    match looks_like(c) {
        Some(letter) => {
            out.push(letter);
            true
        }
        None => false,
    }
}

/// The one ASCII character a non-ASCII character is drawn as, by Unicode's confusables (UTS #39
/// skeleton, `confusables.txt`: Cyrillic `а е о р с х у А В С Е Н К М О Р Т Х Ѕ І Ј`, Greek
/// `Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ ο`, …), so a credential written in look-alike letters reads as
/// the credential (finding round38-text/02: `Тk3рХоаМ7есВу9НоРеКх` was shown). Only a character
/// whose skeleton is one ASCII character: ASCII is never folded (ordinary text and credentials
/// read as they are), and one drawn as several (`ｍ`'s `rn`) or as something beyond ASCII is
/// not. Several ASCII characters share a skeleton (`I`, `l`, `1` and `|` are all `l`): the one
/// of the character's case is read (Cyrillic `І`, an upper-case letter, as `I`).
fn looks_like(c: char) -> Option<char> {
    use std::sync::OnceLock;
    use unicode_security::confusable_detection::skeleton;
    // Each printable ASCII character with its skeleton, when that is one character.
    static ASCII: OnceLock<Vec<(char, char)>> = OnceLock::new();
    let ascii = ASCII.get_or_init(|| {
        (' '..='~')
            .filter_map(|a| {
                let mut drawn = skeleton(a.encode_utf8(&mut [0; 4])).collect::<Vec<char>>();
                (drawn.len() == 1).then(|| (drawn.remove(0), a))
            })
            .collect()
    });
    let mut utf8 = [0; 4];
    let mut drawn = skeleton(c.encode_utf8(&mut utf8));
    let prototype = drawn.next().filter(char::is_ascii)?;
    if drawn.next().is_some() {
        return None;
    }
    let mut same = ascii.iter().filter(|(p, _)| *p == prototype).map(|&(_, a)| a);
    let of_its_case = |a: &char| match (c.is_uppercase(), c.is_lowercase()) {
        (true, _) => a.is_ascii_uppercase(),
        (_, true) => a.is_ascii_lowercase(),
        _ => false,
    };
    Some(same.clone().find(of_its_case).or_else(|| same.find(|&a| a == prototype)).unwrap_or(prototype))
}

/// How `stands_for` reads a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Compatibility forms folded, every other character kept: a credential beyond ASCII in
    /// a decomposed form (`a` + U+0308) keeps its marks.
    Compatible,
    /// As drawn: compatibility forms folded, characters drawn as nothing left out.
    Drawn,
    /// As drawn, with byte-carrying characters read as their bytes.
    Smuggled,
}

/// The readings of `text` (see the module doc) that differ from it: its compatibility forms
/// folded; as drawn, when it holds characters drawn as nothing; and with its byte-carrying
/// characters read as their bytes, when it holds any; each with where each of its bytes came
/// from.
pub fn folded(text: &str) -> Vec<Narrowed> {
    let mut readings: Vec<Narrowed> = reading(text, Reading::Compatible).into_iter().collect();
    if text.chars().any(crate::escape::drawn_as_nothing) {
        readings.extend(reading(text, Reading::Drawn));
    }
    if text.chars().any(|c| smuggled(u32::from(c)).is_some()) {
        readings.extend(reading(text, Reading::Smuggled));
    }
    readings
}

/// One reading of `text` (`stands_for`); `None` when it reads the same.
fn reading(text: &str, how: Reading) -> Option<Narrowed> {
    let mut folded = Narrowed { text: String::new(), spans: Vec::new() };
    let mut ascii = String::new();
    let mut copied = 0;
    let mut changed = false;
    for (at, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
        ascii.clear();
        if !stands_for(c, how, &mut ascii) {
            continue;
        }
        changed = true;
        if copied < at {
            folded.spans.push((folded.text.len(), (copied, at), false));
            folded.text.push_str(&text[copied..at]);
        }
        // A character read as nothing has no span: a range found around it runs from the
        // span before it to the one after, and so covers it.
        if !ascii.is_empty() {
            folded.spans.push((folded.text.len(), (at, at + c.len_utf8()), true));
            folded.text.push_str(&ascii);
        }
        copied = at + c.len_utf8();
    }
    if !changed {
        return None;
    }
    if copied < text.len() {
        folded.spans.push((folded.text.len(), (copied, text.len()), false));
        folded.text.push_str(&text[copied..]);
    }
    // A text of nothing but such characters has nothing left to read.
    (!folded.spans.is_empty()).then_some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fullwidth_and_compatibility_characters_fold_to_ascii_and_map_back() {
        let text = "key ＥｎｃＣａｎａｒｙ ﬁ² 東京 é end";
        let folded = folded(text).remove(0);
        assert_eq!(folded.text, "key EncCanary fi2 東京 é end");
        let at = folded.text.find("Canary").unwrap();
        let (start, end) = folded.origin((at, at + "Canary".len()), text);
        assert_eq!(&text[start..end], "Ｃａｎａｒｙ");
        let at = folded.text.find("東京 é").unwrap();
        let (start, end) = folded.origin((at, at + "東京 é".len()), text);
        assert_eq!(&text[start..end], "東京 é");
        assert!(super::folded("plain ASCII, 東京, é").is_empty());
    }

    /// Findings round29-text/01 and /02: the token as tag characters (raw, and escaped as `line`
    /// and JSON write them) and one variation selector per byte after an emoji: each is masked.
    #[test]
    fn a_credential_smuggled_in_invisible_characters_is_masked() {
        const TOKEN: &str = "sEcr3tT0kenVal9Smuggled";
        let kept = crate::secret::Secret::new(TOKEN);
        let tags: String = TOKEN.bytes().map(|b| char::from_u32(0xe0000 + u32::from(b)).unwrap()).collect();
        let selectors: String = TOKEN.bytes().map(|b| char::from_u32(0xe0100 + u32::from(b) - 16).unwrap()).collect();
        let tags_escaped: String = TOKEN.bytes().map(|b| format!("\\u{{e00{b:02x}}}")).collect();
        let tags_json: String = tags
            .chars()
            .flat_map(|c| c.encode_utf16(&mut [0; 2]).to_vec())
            .map(|unit| format!("\\u{unit:04x}"))
            .collect();
        for (what, echo) in [
            ("tags", format!("smuggle{{x:{tags}}}")),
            ("selectors", format!("read{{x:ok\u{1f600}{selectors}}}")),
            ("escaped tags", format!("smuggle{{x:{tags_escaped}}}")),
            ("JSON tags", format!("smuggle{{x:{tags_json}}}")),
        ] {
            let scrubbed = crate::secret::scrub(&echo);
            assert!(scrubbed.contains("***"), "{what}: {scrubbed}");
            let carried: Vec<u8> = scrubbed.chars().filter_map(|c| smuggled(u32::from(c))).collect();
            let cut = crate::secret::SHORTEST_CUT;
            assert!(!carried.windows(cut).any(|w| TOKEN.as_bytes().windows(cut).any(|t| t == w)), "{what}: {scrubbed}");
            assert!(!scrubbed.contains("e0073") && !scrubbed.contains("dc73"), "{what}: {scrubbed}");
        }
        crate::secret::forget(kept.expose());
    }

    /// Finding round38-text/02: the token with every letter that has a Cyrillic look-alike
    /// swapped for it, or only 4 of its 20 letters, is masked in every output; Cyrillic and
    /// Greek text that holds no credential is shown as it is.
    #[test]
    fn a_credential_in_look_alike_letters_is_masked_in_every_output() {
        const TOKEN: &str = "Tk3pXoaM7ecBy9HoPeKx";
        let kept = crate::secret::Secret::new(TOKEN);
        let cyrillic: std::collections::HashMap<char, char> =
            "aeopcxyABCEHKMOPTX".chars().zip("аеорсхуАВСЕНКМОРТХ".chars()).collect();
        let whole: String = TOKEN.chars().map(|c| *cyrillic.get(&c).unwrap_or(&c)).collect();
        assert_eq!(whole, "Тk3рХоаМ7есВу9НоРеКх");
        let four = "Tk3рXoaM7еcBy9HоPeKx";
        // Greek capitals and an upper-case Cyrillic `І` (drawn as `I`, whose skeleton is `l`).
        let greek = "ΤΚ3pXoaΜ7ecΒy9ΗoΡeΚx";
        let kept_i = crate::secret::Secret::new("Ik3pIoaM7ecBy9HoPeKl");
        for (echo, token) in
            [(whole.as_str(), TOKEN), (four, TOKEN), (greek, TOKEN), ("Іk3pІoaM7ecBy9HoPeKl", "Ik3pIoaM7ecBy9HoPeKl")]
        {
            let text = format!("path=\"/{echo}\" 900");
            for shown in [
                crate::secret::scrub(&text),
                crate::escape::line(&text),
                crate::escape::markdown(&text),
                crate::escape::html(&text),
                crate::escape::xml(&text),
                crate::escape::code(serde_json::to_string(&crate::secret::scrub(&text)).unwrap()),
            ] {
                assert!(shown.replace('\\', "").contains("***") && !shown.contains(echo), "{echo}: {shown}");
                let read: String = shown.chars().map(|c| looks_like(c).unwrap_or(c)).collect();
                assert!(!read.contains(&token[..crate::secret::SHORTEST_CUT]), "{echo}: {shown}");
            }
        }
        for plain in ["Привет, мир: ошибка сервера", "Ошибка ТОКЕН КОРОТКИЙ рост 500", "Αθήνα: σφάλμα ΟΚ"]
        {
            assert_eq!(crate::secret::scrub(plain), plain);
            assert_eq!(crate::escape::line(plain), plain);
        }
        crate::secret::forget(kept.expose());
        crate::secret::forget(kept_i.expose());
    }

    /// `text` without its `\\uXXXX` and `\\u{…}` escapes: what a reader who skips them sees.
    fn without_escapes(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("\\u") {
            out.push_str(&rest[..at]);
            rest = &rest[at + 2..];
            let skip = match rest.strip_prefix('{') {
                Some(braced) => braced.find('}').map_or(0, |end| end + 2),
                None => rest.chars().take(4).take_while(char::is_ascii_hexdigit).count(),
            };
            rest = &rest[skip..];
        }
        out.push_str(rest);
        out
    }

    /// The characters a run between a credential's letters is drawn from: variation selectors
    /// (both blocks), tag characters, zero-width and joining characters, other Default_Ignorable
    /// ones, combining and enclosing marks.
    const NOTHING: &[char] = &[
        '\u{fe00}',
        '\u{fe0f}',
        '\u{e0100}',
        '\u{e01ef}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{e007f}',
        '\u{e0fff}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{2060}',
        '\u{2065}',
        '\u{feff}',
        '\u{34f}',
        '\u{17b4}',
        '\u{180b}',
        '\u{115f}',
        '\u{3164}',
        '\u{fff0}',
        '\u{ad}',
        '\u{300}',
        '\u{301}',
        '\u{36f}',
        '\u{20dd}',
        '\u{1ab0}',
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Finding round33-text/03, the class: a credential with a run of any length (none to
        /// hundreds) of characters drawn as nothing between any of its letters, within any text,
        /// is masked — as the scrubber writes it and in every output kind — so what a reader sees
        /// holds no piece of it of `SHORTEST_CUT` characters.
        #[test]
        fn a_credential_between_runs_of_invisible_characters_is_masked_in_every_output(
            secret in "1nv1s[A-Za-z0-9]{20,28}",
            gaps in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(NOTHING), 0..12).prop_map(|g| g.into_iter().collect::<String>()), 40),
            long in 0usize..4,
            prefix in "\\PC{0,8}",
            suffix in "[ ,.;]\\PC{0,8}",
        ) {
            let kept = crate::secret::Secret::new(secret.clone());
            let echo: String = secret
                .chars()
                .zip(&gaps)
                .enumerate()
                // Every fourth gap may be hundreds of characters long.
                .map(|(i, (c, gap))| if i % 4 == long { format!("{c}{}", gap.repeat(40)) } else { format!("{c}{gap}") })
                .collect();
            let text = format!("{prefix}{echo}{suffix}");
            let read = |shown: &str| -> String { shown.chars().filter(|c| !crate::escape::drawn_as_nothing(*c)).collect() };
            let cut = crate::secret::SHORTEST_CUT;
            let pieces: Vec<&str> = (0..=secret.len() - cut).map(|at| &secret[at..at + cut]).collect();
            let scrubbed = crate::secret::scrub(&text);
            prop_assert!(scrubbed.contains("***"), "{:?}", scrubbed);
            for shown in [
                scrubbed,
                crate::escape::line(&text),
                crate::escape::markdown(&text),
                crate::escape::html(&text),
                crate::escape::xml(&text),
                crate::escape::code(serde_json::to_string(&crate::secret::scrub(&text)).unwrap()),
            ] {
                // Escapes of hidden characters (`\u200b`, `\u{e0100}`) read past, too.
                let unescaped = without_escapes(&shown);
                for piece in &pieces {
                    prop_assert!(!read(&shown).contains(piece) && !read(&unescaped).contains(piece), "{:?} -> {:?}", text, shown);
                }
            }
            crate::secret::forget(kept.expose());
        }
    }
}
