//! Where a text holds a credential read as UTF-16 (finding round17-text/02): a server that
//! decodes the header's bytes as UTF-16, little- or big-endian, echoes two of the credential's
//! characters as one character (`tok-abcd` as `潴⵫扡摣`), raw or JSON-escaped (`\u6f74\u2d6b`).
//! Printable ASCII is one byte per character in every other reading; in this one each
//! character is a pair of them.
//!
//! A *wide run* is a run of characters each of whose two bytes is printable ASCII (code points
//! with both bytes in 0x20..=0x7E: `潴` is 0x6F74, `to`), written raw or as a code unit escape
//! (`\u6f74` under any number of backslash layers, `%u6F74`: the escapes `echo` decodes). Each
//! run is read as the bytes it encodes in both byte orders; a credential starting at the second
//! byte of a character is at an odd offset of those bytes, so every alignment is read. Where
//! the bytes hold `SHORTEST_CUT` consecutive characters of an ASCII form of a credential, the
//! characters that carry them are masked, from the first to the last. Each character is read
//! once and each byte looked up once per byte order, so the work is linear in the text.

use std::collections::HashSet;

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
        // The current run: each character's byte range and code.
        let mut run: Vec<(usize, usize, u32)> = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let first = rest.chars().next().map_or(0, char::len_utf8);
            let unit = match code_unit(rest) {
                Some((code, length)) if wide(code) => Some((code, length)),
                _ => rest.chars().next().map(u32::from).filter(|&code| wide(code)).map(|code| (code, first)),
            };
            match unit {
                Some((code, length)) => {
                    run.push((at, at + length, code));
                    at += length;
                }
                None => {
                    self.check(&run, masked);
                    run.clear();
                    at += first;
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
