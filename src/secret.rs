//! Credentials, and the one scrubber that keeps them out of every output.
//!
//! Every credential gatecheck sends anywhere — the Prometheus token or basic-auth password
//! (and the `user:password` pair, plain and base64, as the header carries it), every
//! `--prometheus-header` and remote-write header value, the remote-write token, the load
//! target's token — is a `Secret`, and making a `Secret` is what tells the scrubber about it:
//! no list to keep in step, so a new credential or a new server cannot be forgotten.
//!
//! `scrub` replaces each with `***`, also inside base64 at any alignment (a server that echoes
//! a request base64-encoded carries the credential at an arbitrary offset: each of the three
//! alignments has a stable run of base64 characters that depends on the credential alone).
//! A server may also quote it transformed: upper-cased, percent-encoded, JSON-escaped, as hex,
//! or split by a line break; `scrub` matches each of those too (one per-character rule,
//! `echo_at`, so a mixture matches as well).
//! It runs where a server's text becomes a message (errors, warnings, refusals), and again in
//! every escaper of `escape`, so no printed or reported text carries a credential.

use std::sync::RwLock;

use base64::Engine;

/// A credential: shown as `***` by Debug, and scrubbed from every message and output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let secret = Secret(value.into());
        remember(&secret.0);
        secret
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A credential the user gave gatecheck (`what` names where: a flag, a variable), refused when
/// shorter than `SHORTEST` characters: the scrubber could not keep it out of outputs, so it is
/// an input error rather than a credential that may leak.
pub fn from_input(what: &str, value: &str) -> Result<Secret, String> {
    let length = value.chars().count();
    if length < SHORTEST {
        return Err(format!(
            "{what}: the credential is {length} character(s) long; expected at least {SHORTEST}, \
             since a shorter one cannot be kept out of gatecheck's outputs"
        ));
    }
    Ok(Secret::new(value))
}

/// A header value the user gave (`--prometheus-header`, `--remote-write-header`), refused like
/// any credential when too short. A server may quote only a part of it, so the parts that can
/// be credentials of their own are secrets too: each `;`/`,`-separated item (one cookie of
/// `Cookie: a=1; session=…`), the value after an item's `=`, the credential after a scheme
/// (`Bearer T`), and a Basic pair decoded (`user:password` and the password). Parts shorter
/// than `SHORTEST` are not credentials by themselves; the whole value still is one.
pub fn header_value(what: &str, value: &str) -> Result<Secret, String> {
    let secret = from_input(what, value)?;
    for part in header_parts(value) {
        remember(&part);
    }
    Ok(secret)
}

/// The parts of a header value a server may quote alone (see `header_value`).
fn header_parts(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for item in value.split([';', ',']).map(str::trim) {
        parts.push(item.to_string());
        if let Some((_, after)) = item.split_once('=') {
            parts.push(after.trim().trim_matches('"').to_string());
        }
        if let Some((scheme, credential)) = item.rsplit_once(char::is_whitespace) {
            parts.push(credential.trim().to_string());
            let decoded = scheme
                .trim()
                .eq_ignore_ascii_case("basic")
                .then(|| base64::engine::general_purpose::STANDARD.decode(credential.trim()).ok())
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            if let Some(pair) = decoded {
                if let Some((_, password)) = pair.split_once(':') {
                    parts.push(password.to_string());
                }
                parts.push(pair);
            }
        }
    }
    parts
}

/// The `Authorization` value of HTTP basic auth; the scrubber learns the `user:password` pair
/// and its base64, besides the password itself.
pub fn basic_authorization(user: &str, password: &Secret) -> Secret {
    let pair = Secret::new(format!("{user}:{}", password.expose()));
    Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair.expose())))
}

/// Shorter values cannot be scrubbed (masking every two-letter run of every message would make
/// errors unreadable), so `from_input` refuses a credential shorter than this.
pub const SHORTEST: usize = 3;
/// The shortest base64 run worth masking (one whole 3-byte group).
const SHORTEST_ENCODED: usize = 4;

/// Every form to mask, longest first so a longer form is never broken up by a shorter one.
static FORMS: RwLock<Vec<String>> = RwLock::new(Vec::new());

fn remember(value: &str) {
    if value.chars().count() < SHORTEST {
        return;
    }
    let mut forms = FORMS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in forms_of(value) {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
}

/// The value itself, its hex, and its stable base64 runs.
fn forms_of(value: &str) -> Vec<String> {
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    [value.to_string(), hex].into_iter().chain(encoded_forms(value.as_bytes())).collect()
}

/// Tests that make many generated secrets take them back, so the process-wide scrubber does
/// not mask another test's text with one of them.
#[cfg(test)]
fn forget(value: &str) {
    let gone = forms_of(value);
    FORMS.write().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|form| !gone.contains(form));
}

/// The base64 characters (standard and URL-safe alphabets) that depend on `value` alone, for
/// each of the three byte offsets it can have in a longer encoded text.
fn encoded_forms(value: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = Vec::new();
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(value);
        // Character i covers bits [6i, 6i + 6); the value's bits are [8 * offset, 8 * (offset + len)).
        let first = (8 * offset).div_ceil(6);
        let end = (8 * (offset + value.len())) / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&bytes);
            if let Some(stable) = encoded.get(first..end).filter(|s| s.len() >= SHORTEST_ENCODED) {
                forms.push(stable.to_string());
            }
        }
    }
    forms
}

/// `text` with every credential gatecheck knows replaced by `***`, in each form a server may
/// have turned it into when it echoes it (see `echo_at`).
pub fn scrub(text: &str) -> String {
    let forms = FORMS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut text = text.to_string();
    for form in forms.iter() {
        text = mask(&text, form);
    }
    text
}

/// `text` with every echo of `form` replaced by `***`.
fn mask(text: &str, form: &str) -> String {
    let mut out = String::new();
    let (mut at, mut copied) = (0, 0);
    while let Some(c) = text[at..].chars().next() {
        match echo_at(text, at, form) {
            Some(end) => {
                out.push_str(&text[copied..at]);
                out.push_str("***");
                (at, copied) = (end, end);
            }
            None => at += c.len_utf8(),
        }
    }
    if copied == 0 {
        return text.to_string();
    }
    out.push_str(&text[copied..]);
    out
}

/// Where an echo of `form` that starts at byte `at` of `text` ends. One rule for every way a
/// server transforms what it quotes, applied per character so mixtures match too: ASCII case
/// folded (an upper-cased echo), percent-encoded (`%2F`, either hex case, each UTF-8 byte),
/// JSON-escaped (`\/`, `\"`, `\uXXXX`), and line breaks between two characters skipped, raw or
/// JSON-escaped (an echo split across lines; `escape::line` would later show a raw one as `\n`
/// between the halves: scrubbing runs on the raw text, before that). Hex is a remembered form
/// of its own.
fn echo_at(text: &str, at: usize, form: &str) -> Option<usize> {
    let mut at = at;
    for (k, c) in form.chars().enumerate() {
        if k > 0 {
            while let Some(skipped) = line_break_at(&text[at..]) {
                at += skipped;
            }
        }
        at += one_char_at(&text[at..], c)?;
    }
    Some(at)
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

/// The length of `rest`'s prefix that is `c`, plain or transformed (see `echo_at`).
fn one_char_at(rest: &str, c: char) -> Option<usize> {
    let first = rest.chars().next()?;
    if first == c || first.eq_ignore_ascii_case(&c) {
        return Some(first.len_utf8());
    }
    let bytes = rest.as_bytes();
    let hex_at = |i: usize, len: usize| -> Option<u32> {
        let digits = rest.get(i..i + len)?;
        digits.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u32::from_str_radix(digits, 16).ok())?
    };
    // Percent-encoding, one `%XX` per UTF-8 byte.
    let mut buffer = [0u8; 4];
    let encoded = c.encode_utf8(&mut buffer).as_bytes();
    if encoded
        .iter()
        .enumerate()
        .all(|(i, &b)| bytes.get(3 * i) == Some(&b'%') && hex_at(3 * i + 1, 2) == Some(u32::from(b)))
    {
        return Some(3 * encoded.len());
    }
    if bytes.first() == Some(&b'\\') {
        // JSON: `\/`, `\"`, `\\` and any `\` before punctuation; `\uXXXX`.
        if c.is_ascii_punctuation() && bytes.get(1) == Some(&(c as u8)) {
            return Some(2);
        }
        if bytes.get(1) == Some(&b'u') && hex_at(2, 4) == Some(u32::from(c)) {
            return Some(6);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_form_of_a_credential_is_scrubbed() {
        let password = Secret::new("pw-canary-7f3e");
        let header = basic_authorization("alice", &password);
        let echoed = format!("got Authorization: {} for alice:pw-canary-7f3e", header.expose());
        let scrubbed = scrub(&echoed);
        assert!(!scrubbed.contains("canary") && !scrubbed.contains(&header.expose()[6..]), "{scrubbed}");
        assert_eq!(format!("{password:?}"), "***");
    }

    #[test]
    fn a_credential_too_short_to_scrub_is_refused_naming_where_it_came_from() {
        let refused = from_input("PERF_BEARER_TOKEN", "ab").unwrap_err();
        assert!(refused.starts_with("PERF_BEARER_TOKEN: the credential is 2 character(s) long"), "{refused}");
        assert!(!refused.contains("ab\"") && !refused.contains("'ab'"), "{refused}");
        assert!(header_value("--prometheus-header X-Scope-OrgID", "7").is_err());
        let kept = from_input("PERF_BEARER_TOKEN", "s3cr3t-q").unwrap();
        assert_eq!(scrub("token s3cr3t-q"), "token ***");
        forget(kept.expose());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Every part of a header value a server may quote alone is scrubbed: one cookie's value
        /// or the whole `name=value` item, the credential after a scheme, and a Basic pair's
        /// password and `user:password` decoded from its base64.
        #[test]
        fn a_quoted_part_of_a_header_value_never_survives(
            cookies in proptest::collection::vec(("[a-z]{1,6}", "s3cr3t[A-Za-z0-9_-]{0,12}"), 1..4),
            user in "[a-z]{1,8}",
            password in "s3cr3t[A-Za-z0-9!-]{0,12}",
            basic in any::<bool>(),
            prefix in "\\PC{0,12}",
        ) {
            use base64::engine::general_purpose::STANDARD;
            let (value, quoted): (String, Vec<String>) = if basic {
                (format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))), vec![password.clone(), format!("{user}:{password}")])
            } else {
                let items: Vec<String> = cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
                (items.join("; "), cookies.iter().map(|(_, value)| value.clone()).chain(items.iter().cloned()).collect())
            };
            let _kept = header_value("--prometheus-header Cookie", &value).unwrap();
            for part in &quoted {
                let scrubbed = scrub(&format!("{prefix}{part}{prefix}"));
                prop_assert!(!scrubbed.contains(part.as_str()), "{} quoted from {} -> {}", part, value, scrubbed);
            }
            for part in header_parts(&value) {
                forget(&part);
            }
            forget(&value);
        }

        /// A credential never survives scrubbing, plain, transformed (upper case, percent-encoded,
        /// JSON-escaped, hex, split by a line break) or base64-encoded at any offset within any
        /// surrounding text, in either alphabet.
        #[test]
        fn a_credential_never_survives(
            // A prefix no other test's text carries: the scrubber is process-wide.
            secret in "s3cr3t[A-Za-z0-9+/=:._~-]{0,34}",
            before in proptest::collection::vec(any::<u8>(), 0..8),
            after in proptest::collection::vec(any::<u8>(), 0..8),
            prefix in "\\PC{0,12}",
            cut in 1..40usize,
        ) {
            use base64::engine::general_purpose::{STANDARD, URL_SAFE};
            let _kept = Secret::new(secret.clone());
            let mut echoed = before.clone();
            echoed.extend_from_slice(secret.as_bytes());
            echoed.extend_from_slice(&after);
            let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
            let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            let middle = cut.clamp(1, secret.len() - 1);
            let split = format!("{}\n{}", &secret[..middle], &secret[middle..]);
            let json = serde_json::to_string(&secret).unwrap().replace('/', "\\/");
            // Each echo a server may make of it: all of it is masked.
            for echo in [secret.clone(), secret.to_uppercase(), percent.to_lowercase(), percent, json, hex.to_uppercase(), split] {
                let scrubbed = scrub(&format!("{prefix}{echo}{prefix}"));
                prop_assert!(scrubbed.contains("***") && !scrubbed.contains(echo.trim_matches('"')), "{} -> {}", echo, scrubbed);
            }
            for text in [
                format!("{prefix}{secret}{prefix}"),
                format!("{prefix}{}", STANDARD.encode(&echoed)),
                format!("{prefix}{}", URL_SAFE.encode(&echoed)),
            ] {
                let scrubbed = scrub(&text);
                prop_assert!(!scrubbed.contains(secret.as_str()), "{} -> {}", text, scrubbed);
                for form in encoded_forms(secret.as_bytes()) {
                    prop_assert!(!scrubbed.contains(form.as_str()), "{} -> {}", text, scrubbed);
                }
            }
            forget(&secret);
        }
    }
}
