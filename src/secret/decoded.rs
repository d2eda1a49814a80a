//! Where a text holds a credential inside base64: each run of base64 characters is read as the
//! bytes it encodes, and those bytes are read like any other text (every reading of `echo`, the
//! skeleton's, and base64 again), so the encodings of an encoding need no form of their own.
//!
//! Listing forms (`super::encoded_forms`) covers the credential's own UTF-8 bytes in base64;
//! what it cannot cover is base64 of something *else* that holds the credential — base64 of its
//! base64 (a Kubernetes Secret's `data` over a value already encoded, a proxy that encodes a
//! header it holds as bytes: finding round30-text/01), of its hex, of its UTF-16 in either byte
//! order (.NET's `Encoding.Unicode`, PowerShell's `-EncodedCommand`, UTF-7's shifted runs:
//! finding round29-text/04). Each of those would have needed its own forms, multiplying the
//! index by their number; decoding reads them all at the cost of the base64 runs' length.
//!
//! The rule: a run is a stretch of base64 characters of either alphabet (`+/` and `-_`), raw
//! line breaks and the indentation after them skipped (MIME and PEM wrap at 64 or 76), long
//! enough to carry `SHORTEST_CUT` bytes. A run cut anywhere has its byte boundaries at one of
//! four bit phases, so each is decoded at all four. Decoded bytes are read one character per
//! byte (Latin-1: ASCII stays itself, and UTF-8 read so is a form `forms_of` lists), NUL bytes
//! dropped: a credential's
//! UTF-16, in either byte order and at either alignment, is its ASCII bytes with a NUL beside
//! each (credentials are printable ASCII, `super::from_input`).

use super::echo::SHORTEST_CUT;
use super::wide::Narrowed;

/// The fewest base64 characters a run needs to carry `SHORTEST_CUT` bytes at any bit phase.
const SHORTEST_RUN: usize = (SHORTEST_CUT * 8 + 6).div_ceil(6);

/// The six bits a base64 character stands for, in either alphabet (standard or URL-safe).
fn sextet(byte: u8) -> Option<u32> {
    match byte {
        b'A'..=b'Z' => Some(u32::from(byte - b'A')),
        b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// The runs of base64 characters in `text`: per run, each character's sextet and byte offset.
fn runs(text: &str) -> Vec<Vec<(u32, usize)>> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut run: Vec<(u32, usize)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if let Some(bits) = sextet(bytes[at]) {
            run.push((bits, at));
            at += 1;
            continue;
        }
        // A wrapped run goes on after the line break and the indentation a wrapper adds.
        let mut next = at;
        while next < bytes.len() && matches!(bytes[next], b'\r' | b'\n') {
            next += 1;
        }
        if next > at && !run.is_empty() {
            while next < bytes.len() && matches!(bytes[next], b' ' | b'\t') {
                next += 1;
            }
            if bytes.get(next).copied().and_then(sextet).is_some() {
                at = next;
                continue;
            }
        }
        if run.len() >= SHORTEST_RUN {
            runs.push(std::mem::take(&mut run));
        }
        run.clear();
        at = next.max(at + 1);
    }
    if run.len() >= SHORTEST_RUN {
        runs.push(run);
    }
    runs
}

/// The text's base64 runs decoded at each of the four bit phases a byte boundary can have in a
/// run cut anywhere (0, 2, 4 or 6 bits after its first character's start), one reading per
/// phase (runs apart by a space), each decoded byte standing for the two characters its bits
/// came from. Empty when the text holds no run long enough.
pub fn decoded(text: &str) -> Vec<Narrowed> {
    let runs = runs(text);
    if runs.is_empty() {
        return Vec::new();
    }
    [0usize, 2, 4, 6]
        .into_iter()
        .map(|phase| {
            let mut reading = Narrowed { text: String::new(), spans: Vec::new() };
            for run in &runs {
                if !reading.text.is_empty() {
                    let gap = (run[0].1, run[0].1);
                    reading.spans.push((reading.text.len(), gap, true));
                    reading.text.push(' ');
                }
                // Byte m covers the run's bits [phase + 8m, phase + 8m + 8): always within two
                // characters, since it starts 0, 2 or 4 bits into one.
                let mut bit = phase;
                while bit + 8 <= run.len() * 6 {
                    let (first, within) = (bit / 6, bit % 6);
                    let twelve = (run[first].0 << 6) | run[first + 1].0;
                    let byte = (twelve >> (4 - within)) & 0xff;
                    bit += 8;
                    if byte == 0 {
                        continue;
                    }
                    reading.spans.push((reading.text.len(), (run[first].1, run[first + 1].1 + 1), true));
                    reading.text.push(char::from(byte as u8));
                }
            }
            reading
        })
        .filter(|reading| !reading.text.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use proptest::prelude::*;

    /// The bytes of a reading, the dropped NULs aside.
    fn latin1(reading: &Narrowed) -> Vec<u8> {
        reading.text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes in base64 of either alphabet, cut anywhere, wrapped or not, among other
        /// text: one of the readings holds every byte whose bits the cut kept whole, and each
        /// of them stands for the characters that carry it.
        #[test]
        fn a_base64_run_reads_as_its_bytes_at_any_cut(
            bytes in proptest::collection::vec(1u8..=255, 12..64),
            cut in 0usize..4,
            url_safe: bool,
            wrap in proptest::option::of(4usize..20),
            before in "[ .:,\"(]{1,3}",
        ) {
            let encoded = if url_safe { URL_SAFE_NO_PAD.encode(&bytes) } else { STANDARD.encode(&bytes) };
            let encoded = &encoded[cut..];
            let written = match wrap {
                Some(width) => encoded.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n  "),
                None => encoded.to_string(),
            };
            let text = format!("{before}{written}!");
            // The bytes whose bits all lie after the cut.
            let kept = &bytes[(cut * 6).div_ceil(8)..];
            let readings = decoded(&text);
            let found = readings.iter().find(|reading| {
                let read = latin1(reading);
                read.windows(kept.len().min(read.len())).any(|w| w == &kept[..kept.len().min(read.len())])
            });
            prop_assert!(found.is_some(), "{:?}", text);
            let reading = found.unwrap();
            let origin = reading.origin((0, reading.text.len()), &text);
            prop_assert!(text[origin.0..origin.1].trim_end_matches('=').trim_end_matches('!').len() <= written.len());
        }
    }

    /// A credential's UTF-16 in either byte order reads as its bytes: the NULs are dropped.
    #[test]
    fn utf16_in_base64_reads_as_the_ascii_it_carries() {
        let little: Vec<u8> = "token-utf16".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let big: Vec<u8> = "token-utf16".encode_utf16().flat_map(u16::to_be_bytes).collect();
        for bytes in [little, big] {
            let text = format!("v={}", STANDARD.encode(&bytes));
            assert!(decoded(&text).iter().any(|r| r.text.contains("token-utf16")), "{text}");
        }
        assert!(decoded("parse error near words").is_empty());
    }
}
