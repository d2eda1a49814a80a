//! Where a text holds a credential in compatibility forms (finding round28-text/05): fullwidth
//! letters and digits (`ＥｎｃＣａｎａｒｙ`, U+FF01..U+FF5E, as a "zenkaku" conversion or a
//! normalising error page writes them), mathematical or circled letters, superscript digits,
//! ligatures — characters whose compatibility decomposition (NFKD, and so NFKC) is ASCII, so
//! any reader reads them as the credential.
//!
//! The rule: the text is also read with each such character folded to the ASCII it stands for,
//! and every reading (`echo`'s, the skeleton's) runs on that folded text; a range found there
//! masks the original characters it came from. Credentials are printable ASCII
//! (`super::from_input`), so this one reading covers every compatibility spelling of each.

use super::wide::Narrowed;

/// The ASCII a character's compatibility decomposition is, when it is ASCII and the character
/// is not (`Ｅ` → `E`, `ﬁ` → `fi`, `²` → `2`, U+00A0 → a space).
fn ascii_of(c: char, out: &mut String) -> bool {
    if c.is_ascii() {
        return false;
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

/// The text with every character whose compatibility decomposition is ASCII folded to that
/// ASCII, and where each of its bytes came from; `None` when there is no such character (the
/// text reads the same).
pub fn folded(text: &str) -> Option<Narrowed> {
    let mut folded = Narrowed { text: String::new(), spans: Vec::new() };
    let mut ascii = String::new();
    let mut copied = 0;
    for (at, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
        ascii.clear();
        if !ascii_of(c, &mut ascii) {
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
