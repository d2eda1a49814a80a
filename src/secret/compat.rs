//! Where a text holds a credential in characters that stand for others: compatibility forms
//! (finding round28-text/05) — fullwidth letters and digits (`ＥｎｃＣａｎａｒｙ`, U+FF01..U+FF5E,
//! as a "zenkaku" conversion or a normalising error page writes them), mathematical or circled
//! letters, superscript digits, ligatures: characters whose compatibility decomposition (NFKD,
//! and so NFKC) is ASCII, so any reader reads them as the credential — and the invisible
//! characters that carry a byte each (finding round29-text/01 and /02, `smuggled`): tag
//! characters (U+E0000 + an ASCII byte, "ASCII smuggling") and variation selectors (one per
//! byte, "emoji smuggling"), which a decoder, or a language model reading a log, reads back.
//!
//! The rule: the text is also read with each such character folded to what it stands for (a
//! smuggled byte as the character of that code: ASCII, or Latin-1 beyond it), and every reading
//! (`echo`'s, the skeleton's) runs on that folded text; a range found there masks the original
//! characters it came from. Credentials are printable ASCII (`super::from_input`), so this one
//! reading covers every compatibility spelling and every smuggled run of each.

use super::wide::Narrowed;

/// The byte an invisible character carries: a tag character U+E0000 + b (b below 0x80) carries
/// b, a variation selector U+FE00 + b (b below 16) or U+E0100 + b − 16 carries b — the schemes
/// that hide text in characters a renderer draws as nothing. Its one home: the folded reading
/// here and `echo`'s escapes (`\u{e0073}`, `\udb40\udc73`) both read it.
pub(super) fn smuggled(code: u32) -> Option<u8> {
    match code {
        0xe0000..=0xe007f => Some((code - 0xe0000) as u8),
        0xfe00..=0xfe0f => Some((code - 0xfe00) as u8),
        0xe0100..=0xe01ef => Some((code - 0xe0100 + 16) as u8),
        _ => None,
    }
}

/// What a character stands for, when it is not itself: the byte it smuggles (see `smuggled`),
/// or the ASCII its compatibility decomposition is, when it is ASCII and the character is not
/// (`Ｅ` → `E`, `ﬁ` → `fi`, `²` → `2`, U+00A0 → a space).
fn stands_for(c: char, out: &mut String) -> bool {
    if c.is_ascii() {
        return false;
    }
    if let Some(byte) = smuggled(u32::from(c)) {
        out.push(char::from(byte));
        return true;
    }
    let start = out.len();
    let mut ascii = true;
    unicode_normalization::char::decompose_compatible(c, |d| {
        ascii &= d.is_ascii();
        out.push(d);
    });
    if !ascii || out.len() == start {
        out.truncate(start);
        return false;
    }
    true
}

/// The text with every character that stands for others (see `stands_for`) folded to them, and
/// where each of its bytes came from; `None` when there is no such character (the
/// text reads the same).
pub fn folded(text: &str) -> Option<Narrowed> {
    let mut folded = Narrowed { text: String::new(), spans: Vec::new() };
    let mut ascii = String::new();
    let mut copied = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
        ascii.clear();
        if !stands_for(c, &mut ascii) {
            continue;
        }
        if copied < at {
            folded.spans.push((folded.text.len(), (copied, at), false));
            folded.text.push_str(&text[copied..at]);
        }
        folded.spans.push((folded.text.len(), (at, at + c.len_utf8()), true));
        folded.text.push_str(&ascii);
        copied = at + c.len_utf8();
    }
    if folded.spans.is_empty() {
        return None;
    }
    if copied < text.len() {
        folded.spans.push((folded.text.len(), (copied, text.len()), false));
        folded.text.push_str(&text[copied..]);
    }
    Some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fullwidth_and_compatibility_characters_fold_to_ascii_and_map_back() {
        let text = "key ＥｎｃＣａｎａｒｙ ﬁ² 東京 é end";
        let folded = folded(text).unwrap();
        assert_eq!(folded.text, "key EncCanary fi2 東京 é end");
        let at = folded.text.find("Canary").unwrap();
        let (start, end) = folded.origin((at, at + "Canary".len()), text);
        assert_eq!(&text[start..end], "Ｃａｎａｒｙ");
        let at = folded.text.find("東京 é").unwrap();
        let (start, end) = folded.origin((at, at + "東京 é".len()), text);
        assert_eq!(&text[start..end], "東京 é");
        assert!(super::folded("plain ASCII, 東京, é").is_none());
    }
}
