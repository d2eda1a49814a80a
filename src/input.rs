//! What the user points gatecheck at: input file paths and URLs, accepted in one place so every
//! command applies the same rules.
//!
//! Files: only regular files are read. A FIFO with no writer would block forever, a device
//! could stream without end, a directory cannot be read as one; each is refused at once
//! (exit 2) naming the path. The file is opened non-blocking and checked again on the open
//! handle, so swapping the path for a FIFO between the check and the open cannot hang us.
//!
//! TOML: a parse error of any file gatecheck reads is one line that starts with its line
//! number, so `lint`, the editor and the user all point at the same place.
//!
//! URLs: credentials (`user:password@`) are refused in every URL the user gives. A URL is
//! printed in logs, tables and reports; a password in it would be printed with it.
//!
//! Answers: a server's answer is read up to a size its use needs (`read_answer`), never whole
//! whatever its size: an endless or huge answer is refused, not held in memory and scrubbed.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::Error;
pub use crate::secret::Secret;

/// Opens `path` for reading when it is a regular file; `what` names the input in errors.
pub fn open(path: &Path, what: &'static str) -> Result<File, Error> {
    let fail = |source| Error::Read { path: path.display().to_string(), what, source };
    // Before the open: opening a FIFO for reading blocks until a writer appears.
    let metadata = std::fs::metadata(path).map_err(fail)?;
    if let Some(kind) = not_regular(&metadata) {
        return Err(fail(not_regular_error(kind)));
    }
    let file = open_nonblocking(path).map_err(fail)?;
    let metadata = file.metadata().map_err(fail)?;
    if let Some(kind) = not_regular(&metadata) {
        return Err(fail(not_regular_error(kind)));
    }
    Ok(file)
}

/// Checks that `path` is a regular file without keeping it open (for readers that open the
/// path themselves, such as the settings layer).
pub fn check_regular(path: &Path, what: &'static str) -> Result<(), Error> {
    open(path, what).map(drop)
}

/// The whole file, when it is a regular file.
pub fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    open(path, what)?.take(WHOLE_FILE_LIMIT + 1).read_to_end(&mut bytes).map_err(|source| Error::Read {
        path: path.display().to_string(),
        what,
        source,
    })?;
    refuse_past_limit(path, what, bytes.len())?;
    Ok(bytes)
}

/// The largest file read whole (a policy, waivers, a history record, a baseline or a native
/// summary to merge: each a few megabytes at most). Larger evidence is streamed (k6 summaries
/// to judge, raw results); a file past this is refused, never held (finding round17-text/04:
/// an unbounded read exhausted memory and aborted).
const WHOLE_FILE_LIMIT: u64 = 64 << 20;

fn refuse_past_limit(path: &Path, what: &str, read: usize) -> Result<(), Error> {
    match read as u64 > WHOLE_FILE_LIMIT {
        true => Err(Error::Evidence {
            path: path.display().to_string(),
            message: format!("the {what} is larger than {} MiB: no {what} is, refused unread", WHOLE_FILE_LIMIT >> 20),
        }),
        false => Ok(()),
    }
}

/// The whole file as UTF-8 text, when it is a regular file.
pub fn read_to_string(path: &Path, what: &'static str) -> Result<String, Error> {
    let mut text = String::new();
    open(path, what)?.take(WHOLE_FILE_LIMIT + 1).read_to_string(&mut text).map_err(|source| Error::Read {
        path: path.display().to_string(),
        what,
        source,
    })?;
    refuse_past_limit(path, what, text.len())?;
    Ok(text)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK has no effect on a regular file; on a FIFO it makes the open return at once.
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn not_regular(metadata: &std::fs::Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

fn not_regular_error(kind: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("it is {kind}; expected a regular file"))
}

/// Refuses a URL that carries credentials (`scheme://user:password@host`). `flag` names where
/// the URL came from; the message shows the URL with the credentials masked.
///
/// Credentials are looked for in the URL as the HTTP client parses it (WHATWG: `http:/u:p@h`
/// and `http:\\u:p@h` are `http://u:p@h` to it), and in the text (a URL with no scheme). A URL
/// that does not parse but holds an `@` is refused too: a password holding `/`, `?` or `#`
/// makes it unparseable, and the later "invalid URL" error would quote it whole.
///
/// Last, `url_holds_no_known_credential`: the one rule for every URL gatecheck sends to.
pub fn refuse_url_credentials(flag: &str, url: &str, instead: &str) -> Result<(), Error> {
    if credentials_span(url).is_none() {
        if let Some(word) = credential_parameter(url) {
            return Err(Error::Settings(format!(
                "{flag}: a query parameter is named as a credential's ({word:?} in its name), and credentials do not \
                 belong in the URL, which is printed in logs and reports; expected a URL without credentials: {instead}"
            )));
        }
        return url_holds_no_known_credential(flag, url).map_err(Error::Settings);
    }
    // Userinfo and a credential-named query parameter together: masking the userinfo would
    // still print the parameter's value (finding round10-text/03), so neither is shown.
    if let Some(word) = credential_parameter(&masked_url(url)) {
        return Err(Error::Settings(format!(
            "{flag}: credentials do not belong in the URL (it holds user:password@ and a query parameter named as a \
             credential's, {word:?} in its name), which is printed in logs and reports; expected one with no credentials: {instead}"
        )));
    }
    Err(Error::Settings(format!(
        "{flag} {:?}: credentials do not belong in the URL, which is printed in logs and reports; \
         expected one with no credentials: {instead}",
        masked_url(url)
    )))
}

/// The one rule for every URL gatecheck sends a request to (the load's base URL and each
/// request URL, --remote-write, --scrape-url, --prometheus-url from a flag or a settings file):
/// no credential gatecheck holds — the load token, the Prometheus token or password, a header
/// value, the remote-write token, a token file's content — in any part of it (host, path, query,
/// fragment), in any form the scrubber reads (upper-cased, percent-encoded, base64…). A request
/// URL is printed in access logs, proxies and reports, and would carry the credential to an
/// origin it is not meant for (findings round23-text/01, round24-text/01 and /02). `field` names
/// where the URL came from; the message never quotes the URL, masked or not.
pub fn url_holds_no_known_credential(field: &str, url: &str) -> Result<(), String> {
    if crate::secret::holds_credential(url) {
        return Err(format!(
            "{field}: the URL holds a credential gatecheck holds (not shown), and credentials do not travel in a \
             request URL (printed in access logs, proxies and reports); each is sent only as its own header to its \
             own origin"
        ));
    }
    Ok(())
}

/// Words that make a query parameter's name a credential's when the name holds them anywhere
/// (`?token=`, `?api_key=`, `?X-Amz-Signature=`, `?access_token=`, `?sessionid=`,
/// `?passphrase=`, `?access_code=`), compared case-insensitively. Over-refusing is the safe side:
/// a parameter named `author` is refused too, and the message says which word.
const CREDENTIAL_PARAMETER_WORDS: [&str; 14] =
    ["token", "key", "secret", "pass", "pw", "auth", "sig", "cred", "session", "sid", "jwt", "bearer", "code", "otp"];

/// Names that are a credential's only as the whole name, compared case-insensitively: too short
/// to look for inside other names (`p` is in `step`, `up` and `page`). InfluxDB 1.x takes its
/// password as `p=` (with the user as `u=`, which is no secret by itself); `ak`/`sk` are an
/// access and a secret key (finding round9-text/04).
const CREDENTIAL_PARAMETER_NAMES: [&str; 3] = ["p", "ak", "sk"];

/// The name of the first query parameter of `url` whose name says it carries a credential:
/// such a URL is refused like one with `user:password@`, since its value would be printed.
///
/// Only the word is named, never the parameter: what looks like a query may be the end of a
/// password holding `?` (`http://u:pa?ss@h`), which the userinfo rule masks first anyway.
fn credential_parameter(url: &str) -> Option<&'static str> {
    parameters(url).find_map(|(name, _)| parameter_credential_word(name))
}

/// Every parameter of `url` as (name, value), as written: the query's pairs (a name without
/// `=` has an empty value) and, outside the query, each `name=value` pair in the fragment
/// (OAuth's `#access_token=…`) and in a path segment (`/prom;jsessionid=…`), finding
/// round11-text/04.
fn parameters(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let (before_fragment, fragment) = url.split_once('#').unwrap_or((url, ""));
    let query = before_fragment.split_once('?').map(|(_, query)| query).unwrap_or_default();
    let in_query = query.split(['&', ';']).map(|pair| pair.split_once('=').unwrap_or((pair, "")));
    let path = before_fragment.split('?').next().unwrap_or_default();
    let elsewhere = fragment
        .split(['&', ';'])
        .chain(path.split('/').flat_map(|segment| segment.split(';').skip(1)))
        .filter_map(|pair| pair.split_once('='));
    in_query.chain(elsewhere)
}

/// The credential word a parameter's name (as written, percent-encoded or not) holds.
fn parameter_credential_word(name: &str) -> Option<&'static str> {
    let decoded = percent_decoded(name);
    // `p[]=` is PHP's spelling of a list named `p`.
    credential_name(decoded.split('[').next().unwrap_or_default().trim()).or_else(|| credential_name(&decoded))
}

/// The credentials a URL carries (`scheme://…` text only; empty for any other text): its
/// userinfo whole, and its password, or its user when it has no password (a token-only
/// userinfo, `https://TOKEN@host`, as Sentry DSNs and OTLP endpoints write a key), and the value
/// of each parameter whose name says it carries a credential (`credential_parameter`'s rule:
/// `?api_key=`, `&token=`, `#access_token=`), each as written and percent-decoded. The rule
/// gatecheck refuses its own URLs by, read as what to keep secret in a URL it is not given to
/// send (finding round32-text/05: a k6 output's URL in the environment).
pub fn url_credentials(url: &str) -> Vec<String> {
    let url = url.trim();
    let scheme_end = url.find("://").filter(|&end| {
        end > 0
            && url.as_bytes()[0].is_ascii_alphabetic()
            && url[..end].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    let Some(scheme_end) = scheme_end else { return Vec::new() };
    let mut found = Vec::new();
    if let Some((start, end)) = credentials_span(url) {
        let userinfo = &url[start..end];
        found.push(userinfo.to_string());
        match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => found.push(password.to_string()),
            Some((user, _)) => found.push(user.to_string()),
            None => {}
        }
    }
    // Past the userinfo: a password may hold `?`, `#` or `=`, and is already taken whole.
    let after_userinfo = credentials_span(url).map_or(scheme_end + 3, |(_, end)| end);
    for (name, value) in parameters(&url[after_userinfo.min(url.len())..]) {
        if parameter_credential_word(name).is_some() && !value.is_empty() {
            found.push(value.to_string());
        }
    }
    let mut all = Vec::new();
    for part in found.into_iter().filter(|part| !part.is_empty()) {
        let decoded = percent_decoded(&part);
        for form in [part, decoded] {
            if !form.is_empty() && !all.contains(&form) {
                all.push(form);
            }
        }
    }
    all
}

/// The word that makes `name` a credential's name (a query parameter's), when it is one: one of
/// `CREDENTIAL_PARAMETER_NAMES` as the whole name, or one of `CREDENTIAL_PARAMETER_WORDS`
/// anywhere in it, compared case-insensitively. The one rule of what a parameter carrying a
/// credential is named, for every URL gatecheck is given and every request path it sends (finding
/// round22-text/02: a word rule let `?passphrase=` and `?access_code=` through).
pub fn credential_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_PARAMETER_NAMES
        .iter()
        .find(|word| name == **word)
        .or_else(|| CREDENTIAL_PARAMETER_WORDS.iter().find(|word| name.contains(*word)))
        .copied()
}

/// The credential-named parameter a request path (with its query) carries, as for a URL.
pub fn path_credential_parameter(path: &str) -> Option<&'static str> {
    credential_parameter(path)
}

/// The same rule in JavaScript, for the script `gatecheck export k6` writes: a k6 script fills
/// its request paths only when k6 runs, so it must tell a credential's name itself
/// (`credentialName`, `credentialParameter`, as `credential_name` and `credential_parameter`
/// here). The word lists are written from the constants above, so they have one home; the
/// functions mirror the Rust ones line by line, and a test (tests/integration/k6_native.rs)
/// runs both with the real k6 over the same names and requires the same answer: a change to one
/// without the other fails it (finding round22-text/01).
///
/// `holdsValue(url, value)` is the native runner's refusal of a request path holding a
/// credential's value (`secret::scrub(path) != path`), in the forms a URL carries it: as written,
/// in any case, percent-encoded (in layers), its base64 at each of the 3 byte offsets (standard
/// and URL-safe alphabets, through k6's `k6/encoding`, which a script using it must import as
/// `encoding`), its hex, its letters and digits with other marks between them, and any
/// `secret::SHORTEST_CUT` consecutive characters of each of those (finding round23-text/02). Its
/// lengths are written from the secret module's constants, so they have one home.
pub fn credential_rule_js() -> String {
    let list = |words: &[&str]| serde_json::to_string(words).expect("strings always encode");
    format!(
        "const CREDENTIAL_PARAMETER_NAMES = {};\nconst CREDENTIAL_PARAMETER_WORDS = {};\n\
         const SHORTEST_CREDENTIAL = {};\nconst SHORTEST_CUT = {};\nconst SHORTEST_ENCODED = {};\n{}{}",
        list(&CREDENTIAL_PARAMETER_NAMES),
        list(&CREDENTIAL_PARAMETER_WORDS),
        crate::secret::SHORTEST,
        crate::secret::SHORTEST_CUT,
        crate::secret::SHORTEST_ENCODED,
        CREDENTIAL_RULE_JS,
        CREDENTIAL_VALUE_JS
    )
}

/// `holdsValue` (see `credential_rule_js`): the forms `secret::forms_of` and `secret::echo` read
/// that a URL can carry, each compared ASCII case-insensitively as `echo` does.
const CREDENTIAL_VALUE_JS: &str = r#"function holdsValue(text, value) {
  if (value === undefined) return false;
  const secret = String(value).trim();
  if (secret.length < SHORTEST_CREDENTIAL) return false;
  const texts = credentialReadings(text);
  // Its letters and digits in order with other marks between them, any SHORTEST_CUT of them
  // (secret::skeleton).
  const skeleton = (t) => asciiLower(t).replace(/[^a-z0-9]/g, '');
  const letters = skeleton(secret);
  const skeletons = texts.map(skeleton);
  if (letters.length >= SHORTEST_CREDENTIAL && pieces(letters, SHORTEST_CUT).some((p) => skeletons.some((t) => t.includes(p)))) return true;
  return credentialForms(secret).some(([form, cut]) => pieces(asciiLower(form), cut).some((p) => texts.some((t) => t.includes(p))));
}
function pieces(form, cut) {
  if (form.length <= cut) return [form];
  const out = [];
  for (let i = 0; i + cut <= form.length; i++) out.push(form.slice(i, i + cut));
  return out;
}
// Every text `text` may carry a credential in, lower-cased: as written; percent-decoded in
// layers; with its escapes read (\xNN, \uXXXX, \u{X}, %uXXXX, %XX, &#N;, &#xH;); and each run of
// numbers, whatever separates them (commas, dots, spaces, semicolons, quotes), read as
// character codes in decimal, octal, binary and hex, and hex runs read as bytes at both
// alignments with NULs dropped (UTF-16 in either byte order) — the readings of secret::echo,
// secret::dump and secret::wide a request path or body can carry.
function credentialReadings(text) {
  let decoded = text;
  for (let layer = 0; layer < 4; layer++) decoded = percentDecoded(decoded);
  const texts = [];
  for (const source of [text, decoded]) {
    texts.push(source, unescaped(source));
    texts.push(...numberReadings(source));
  }
  return texts.map(asciiLower);
}
function codePoint(code) {
  return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFF';
}
function unescaped(text) {
  const escape = /\\x([0-9a-f]{2})|\\u\{([0-9a-f]{1,6})\}|\\u([0-9a-f]{4})|%u([0-9a-f]{4})|%([0-9a-f]{2})|&#x([0-9a-f]{1,6});?|&#([0-9]{1,7});?/gi;
  let out = text;
  for (let layer = 0; layer < 3; layer++) {
    out = out.replace(escape, (...m) => {
      const hex = m.slice(1, 7).find((g) => g !== undefined);
      return codePoint(hex !== undefined ? parseInt(hex, 16) : parseInt(m[7], 10));
    });
  }
  return out;
}
function numberReadings(text) {
  // A prefix (0x, \x, \u, &#x, %u, U+) only marks the number after it.
  const bare = text.replace(/0x|\\x|\\u|&#x|%u|u\+/gi, ' ');
  const readings = [];
  for (const [pattern, base] of [[/[0-9]+/g, 10], [/[0-7]+/g, 8], [/[01]+/g, 2], [/[0-9a-f]+/gi, 16]]) {
    readings.push((bare.match(pattern) || []).map((n) => codePoint(parseInt(n, base))).join(''));
  }
  const runs = bare.match(/[0-9a-f]+/gi) || [];
  for (const alignment of [0, 1]) {
    let bytes = '';
    for (const run of runs) {
      for (let i = alignment; i + 2 <= run.length; i += 2) bytes += String.fromCharCode(parseInt(run.slice(i, i + 2), 16));
    }
    readings.push(bytes.replace(/\0/g, ''));
  }
  return readings;
}
function credentialForms(secret) {
  // [form, the shortest piece of it that counts]: a piece is SHORTEST_CUT characters of the
  // credential, so 2 * SHORTEST_CUT hex digits.
  let bytes;
  try {
    bytes = Array.from(unescape(encodeURIComponent(secret)), (b) => b.charCodeAt(0));
  } catch (e) {
    bytes = Array.from(secret, (c) => c.charCodeAt(0) & 0xff);
  }
  const forms = [[secret, SHORTEST_CUT]];
  forms.push([bytes.map((b) => (b < 16 ? '0' : '') + b.toString(16)).join(''), 2 * SHORTEST_CUT]);
  for (let offset = 0; offset < 3; offset++) {
    // Characters [first, end) depend on the credential's bytes alone (secret::encoded_forms).
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    if (end - first < SHORTEST_ENCODED) continue;
    const buffer = new Uint8Array(offset + bytes.length);
    buffer.set(bytes, offset);
    for (const alphabet of ['rawstd', 'rawurl']) {
      forms.push([encoding.b64encode(buffer.buffer, alphabet).slice(first, end), SHORTEST_CUT]);
    }
  }
  return forms;
}
"#;

/// `credential_name`, `percent_decoded` and `credential_parameter` in JavaScript
/// (only ASCII letters are lower-cased, as `to_ascii_lowercase`; `%+f` is a byte, as
/// `u8::from_str_radix` reads it; bytes that are no UTF-8 read as U+FFFD, as `from_utf8_lossy`).
const CREDENTIAL_RULE_JS: &str = r#"function asciiLower(text) {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
function credentialName(name) {
  const lower = asciiLower(name);
  return CREDENTIAL_PARAMETER_NAMES.find((word) => lower === word)
    || CREDENTIAL_PARAMETER_WORDS.find((word) => lower.includes(word))
    || null;
}
function utf8Bytes(c) {
  try {
    return Array.from(unescape(encodeURIComponent(c)), (b) => b.charCodeAt(0));
  } catch (e) {
    return [0xef, 0xbf, 0xbd];
  }
}
function percentDecoded(text) {
  const bytes = [];
  for (let i = 0; i < text.length;) {
    const hex = text[i] === '%' ? text.slice(i + 1, i + 3) : '';
    if (/^([0-9A-Fa-f]{2}|\+[0-9A-Fa-f])$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const c = String.fromCodePoint(text.codePointAt(i));
      bytes.push(...utf8Bytes(c));
      i += c.length;
    }
  }
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i];
    const size = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    let decoded = null;
    if (size > 0 && i + size <= bytes.length) {
      try {
        decoded = decodeURIComponent(bytes.slice(i, i + size).map((b) => '%' + (b < 16 ? '0' : '') + b.toString(16)).join(''));
      } catch (e) {
        decoded = null;
      }
    }
    if (decoded === null) {
      out += '\uFFFD';
      i += 1;
    } else {
      out += decoded;
      i += size;
    }
  }
  return out;
}
function credentialParameter(url) {
  for (const [name] of urlParameters(url)) {
    const found = parameterCredentialWord(name);
    if (found) return found;
  }
  return null;
}
// Rust's char::is_whitespace (Unicode White_Space), which JavaScript's \s and trim() differ
// from (U+FEFF is no White_Space, U+0085 is).
const RUST_WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
function rustTrim(text) {
  let start = 0;
  let end = text.length;
  while (start < end && RUST_WHITESPACE.test(text[start])) start++;
  while (end > start && RUST_WHITESPACE.test(text[end - 1])) end--;
  return text.slice(start, end);
}
// url_credentials: a URL's userinfo whole, its password (or its user when it has none), and
// each credential-named parameter's value, each as written and percent-decoded.
function urlCredentials(text) {
  const url = rustTrim(String(text));
  const schemeEnd = url.indexOf('://');
  if (!(schemeEnd > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(url.slice(0, schemeEnd)))) return [];
  const found = [];
  const span = credentialsSpan(url);
  if (span !== null) {
    const userinfo = url.slice(span[0], span[1]);
    found.push(userinfo);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo.slice(colon + 1) !== '' ? userinfo.slice(colon + 1) : userinfo.slice(0, colon));
  }
  const after = span !== null ? span[1] : schemeEnd + 3;
  for (const [name, value] of urlParameters(url.slice(Math.min(after, url.length)))) {
    if (parameterCredentialWord(name) !== null && value !== '') found.push(value);
  }
  const all = [];
  for (const part of found.filter((part) => part !== '')) {
    for (const form of [part, percentDecoded(part)]) {
      if (form !== '' && !all.includes(form)) all.push(form);
    }
  }
  return all;
}
// parameters: (name, value) of the query's pairs, and of each name=value pair in the fragment
// and in a path segment.
function urlParameters(url) {
  const hash = url.indexOf('#');
  const beforeFragment = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? '' : url.slice(hash + 1);
  const question = beforeFragment.indexOf('?');
  const query = question < 0 ? '' : beforeFragment.slice(question + 1);
  const splitOnce = (pair) => (pair.includes('=') ? [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] : null);
  const inQuery = query.split(/[&;]/).map((pair) => splitOnce(pair) || [pair, '']);
  const path = beforeFragment.split('?')[0];
  const pairs = fragment.split(/[&;]/);
  for (const segment of path.split('/')) pairs.push(...segment.split(';').slice(1));
  return inQuery.concat(pairs.map(splitOnce).filter((pair) => pair !== null));
}
function parameterCredentialWord(name) {
  const decoded = percentDecoded(name);
  return credentialName(rustTrim(decoded.split('[')[0])) || credentialName(decoded) || null;
}
// credentials_span: where a URL's userinfo may be, [start, end), or null. The Rust asks the URL
// parser (WHATWG) whether the URL parses and with credentials; here `whatwgCredentials` reads
// the same from the authority: its userinfo, and the host and port a parser refuses.
function credentialsSpan(url) {
  const colon = url.indexOf(':');
  const scheme = colon > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(url.slice(0, colon)) ? colon : -1;
  let afterScheme = -1;
  if (scheme >= 0 && /^[\/\\]/.test(url.slice(scheme + 1))) {
    const rest = url.slice(scheme + 1);
    afterScheme = scheme + 1 + (rest.length - rest.replace(/^[\/\\]+/, '').length);
  }
  const start = afterScheme >= 0 ? afterScheme : 0;
  const rest = url.slice(start);
  const lastAt = (text) => (text.lastIndexOf('@') < 0 ? null : [start, start + text.lastIndexOf('@')]);
  if (!(scheme >= 0 && url.slice(scheme + 1).startsWith('//'))) return lastAt(rest);
  const parsed = whatwgCredentials(asciiLower(url.slice(0, scheme)), rest);
  if (parsed === 'error' || parsed === true) return lastAt(rest);
  const authority = rest.slice(0, rest.search(/[\/?#]/) < 0 ? rest.length : rest.search(/[\/?#]/));
  if (authority.endsWith(':')) return lastAt(rest);
  return lastAt(authority);
}
// Whether a URL parser reads credentials in the authority `rest` starts with (true, false), or
// refuses the URL ('error'): a special scheme's authority also ends at a backslash, and needs a
// host; a host holds none of the forbidden code points; a port is a number up to 65535.
function whatwgCredentials(scheme, rest) {
  const special = ['http', 'https', 'ws', 'wss', 'ftp'].includes(scheme);
  const end = rest.search(special ? /[\/?#\\]/ : /[\/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostPort = authority.slice(at + 1);
  const portColon = hostPort.startsWith('[') ? hostPort.indexOf(':', hostPort.indexOf(']')) : hostPort.lastIndexOf(':');
  const host = portColon < 0 ? hostPort : hostPort.slice(0, portColon);
  const port = portColon < 0 ? '' : hostPort.slice(portColon + 1);
  if (!/^[0-9]*$/.test(port) || (port !== '' && Number(port) > 65535)) return 'error';
  if (special && host === '') return 'error';
  if (!host.startsWith('[') && /[\u0000-\u0020#\/:<>?@\[\\\]^|\u007f]/.test(host)) return 'error';
  if (special && /%/.test(host)) return 'error';
  if (at < 0) return false;
  const userColon = userinfo.indexOf(':');
  return userColon < 0 ? userinfo !== '' : userColon > 0 || userinfo.length > userColon + 1;
}
"#;

/// `%XX` sequences decoded (a name may hide `token` as `%74oken`); others kept as written.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL with any `user:password@` replaced by `***@`, for messages.
pub fn masked_url(url: &str) -> String {
    match credentials_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_string(),
    }
}

/// The `user:password` a URL (or a text holding one) carries, when it carries one with a
/// password: what the command line's URLs hold that is a credential (finding round18-text/01).
pub fn url_userinfo(url: &str) -> Option<&str> {
    credentials_span(url).map(|(start, end)| &url[start..end]).filter(|userinfo| userinfo.contains(':'))
}

/// Byte range of what may be userinfo, when there may be some: from the end of the scheme
/// to the last `@` of the authority — of the whole URL when it does not parse, or when it
/// parses with credentials (the parser may see an authority where the text has no `://`).
fn credentials_span(url: &str) -> Option<(usize, usize)> {
    // The scheme is the text's start (a letter, then letters, digits, `+`, `-`, `.`) up to its
    // first `:`; a `://` further on belongs to a path or query (`?next=http://x`), never to it
    // (finding round11-text/01).
    let scheme = url.find(':').filter(|&colon| {
        colon > 0
            && url.as_bytes()[0].is_ascii_alphabetic()
            && url[..colon].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    // `http:/…` or `http:\\…`: the scheme, then the slashes the parser skips.
    let after_scheme = scheme.and_then(|colon| {
        let rest = &url[colon + 1..];
        rest.starts_with(['/', '\\']).then(|| colon + 1 + (rest.len() - rest.trim_start_matches(['/', '\\']).len()))
    });
    // Text whose scheme is not followed by `//` is no URL gatecheck takes (refused for that
    // next): an `@` anywhere in it may end a password, which may itself hold `/`, `#` or `://`
    // (`admin:pa/ss@host`, which the parser reads as the scheme `admin:` with a path; finding
    // round10-text/05).
    if !scheme.is_some_and(|colon| url[colon + 1..].starts_with("//")) {
        let start = after_scheme.unwrap_or(0);
        let at = url[start..].rfind('@')?;
        return Some((start, start + at));
    }
    let start = after_scheme.unwrap_or(0);
    let parsed = prometheus_http_query::reqwest::Url::parse(url);
    let parsed_has_credentials = parsed.as_ref().is_ok_and(|u| !u.username().is_empty() || u.password().is_some());
    let rest = &url[start..];
    if parsed.is_err() || parsed_has_credentials {
        // Everything up to the last `@` that precedes the host may be the password.
        let at = rest.rfind('@')?;
        return Some((start, start + at));
    }
    // The authority ends at the first of '/', '?' or '#'; an '@' after it is part of a path —
    // unless the authority ends in an empty port (`http://user:?pa#ss@host`): then the `:` was
    // a password's, which began with one of those, and the `@` after it ends the password.
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..authority_len].ends_with(':') {
        let at = rest.rfind('@')?;
        return Some((start, start + at));
    }
    let at = rest[..authority_len].rfind('@')?;
    Some((start, start + at))
}

/// What a flow switch may say.
pub const SWITCH_VALUES: &str = "expected 1/true/yes/on or 0/false/no/off";

/// An extra header given on the command line as "Name: value" (--prometheus-header,
/// --remote-write-header): checked at once, so a mistake is exit 2 before any work; errors name
/// the flag and the header, never the value (it is often a credential).
pub fn header(flag: &str, text: &str) -> Result<(String, Secret), Error> {
    let (name, value) = text.split_once(':').ok_or_else(|| {
        Error::Settings(format!(
            "{flag}: expected \"Name: value\", got a value without ':' ({} characters)",
            text.len()
        ))
    })?;
    let name = name.trim();
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        // Not quoted: what failed to be a name is often half a credential (`Key=user:token`
        // split at its first ':'); its length and first bad character's position suffice.
        let bad = name.chars().position(|c| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)));
        return Err(Error::Settings(format!(
            "{flag}: the text before ':' is not a valid header name ({} characters{}); expected \"Name: value\"",
            name.chars().count(),
            bad.map(|i| format!(", the first one not allowed in a name at position {}", i + 1)).unwrap_or_default()
        )));
    }
    let value = value.trim();
    if http::HeaderValue::from_str(value).is_err() {
        return Err(Error::Settings(format!(
            "{flag} {name}: the value holds characters a header cannot carry (a line break or a control character)"
        )));
    }
    // A server may quote a part of the value (the credential after `Bearer `, one cookie):
    // `header_value` makes those parts secrets too, and refuses a value too short to scrub.
    let secret = crate::secret::header_value(&format!("{flag} {name}"), value).map_err(Error::Settings)?;
    Ok((name.to_string(), secret))
}

/// An on/off switch as people write it; None when it is neither.
pub fn parse_switch(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A TOML parse error as one line, `line N: what was wrong`: toml's own message spans several
/// lines with a source excerpt; keep the message and the line where toml found it.
pub fn one_line_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// A server's answer read within a size limit.
pub enum Answer {
    /// The whole answer.
    Whole(Vec<u8>),
    /// More than the limit: nothing of it is kept.
    TooLarge,
}

/// Reads `response`'s body chunk by chunk, stopping once it passes `limit` bytes (or at once
/// when its Content-Length says it will).
pub async fn read_answer(
    mut response: prometheus_http_query::reqwest::Response,
    limit: usize,
) -> Result<Answer, prometheus_http_query::reqwest::Error> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Ok(Answer::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(Answer::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer::Whole(body))
}

/// The first `limit` bytes of `response`'s body (a refusal is quoted, never read whole).
pub async fn read_answer_start(mut response: prometheus_http_query::reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]);
        if body.len() >= limit {
            break;
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Finding round22-text/02: every parameter name holding a credential word anywhere is a
    /// credential's (`passphrase`, `passcode`, `authcode`, `access_code` went through a word rule).
    #[test]
    fn credential_names_hold_a_credential_word_anywhere() {
        for name in [
            "token",
            "access_token",
            "accessToken",
            "X-Amz-Signature",
            "apikey",
            "api_key",
            "APIKEY",
            "sessionid",
            "password",
            "passphrase",
            "passcode",
            "authcode",
            "access_code",
            "oauth",
            "sig",
            "jwt",
            "otp",
            "p",
            "ak",
            "sk",
        ] {
            assert!(credential_name(name).is_some(), "{name}");
        }
        for name in ["page", "step", "id", "sort", "limit", "q", "u", "user"] {
            assert_eq!(credential_name(name), None, "{name}");
        }
    }

    #[test]
    fn credentials_are_found_only_in_the_authority() {
        assert!(refuse_url_credentials("--x", "http://127.0.0.1:9/a@b", "").is_ok());
        assert!(refuse_url_credentials("--x", "http://127.0.0.1:9/?q=a@b", "").is_ok());
        let err = refuse_url_credentials("--x", "http://me:pw-123@127.0.0.1:9/m", "use a header").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--x \"http://***@127.0.0.1:9/m\"") && !text.contains("pw-123"), "{text}");
        assert_eq!(masked_url("https://token@host/x"), "https://***@host/x");
        // Parsed as the client parses it, or masked to the last `@` when it does not parse.
        for (url, masked) in [
            ("http:/admin:pw-123@127.0.0.1:9/metrics", "http:/***@127.0.0.1:9/metrics"),
            ("http:\\\\admin:pw-123@127.0.0.1:9/metrics", "http:\\\\***@127.0.0.1:9/metrics"),
            ("http://admin:pa/ss-pw-123@127.0.0.1:9", "http://***@127.0.0.1:9"),
            ("http://admin:pa?ss-pw-123@127.0.0.1:9", "http://***@127.0.0.1:9"),
            ("http://admin:pa#ss-pw-123@127.0.0.1:9", "http://***@127.0.0.1:9"),
            ("admin:pw-123@127.0.0.1:9", "***@127.0.0.1:9"),
            // Finding round10-text/05: no scheme, a `/` or `#` in the password.
            ("admin:pa/ss-pw-123@127.0.0.1:9090", "***@127.0.0.1:9090"),
            ("admin:pa#ss-pw-123@127.0.0.1:9090/", "***@127.0.0.1:9090/"),
        ] {
            assert_eq!(masked_url(url), masked, "{url}");
            assert!(refuse_url_credentials("--x", url, "").is_err(), "{url}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A URL's password, whatever characters it holds and however the URL is spelled
        /// (any scheme form, none, a path, a query), is refused and never printed, in the
        /// refusal or in the URL as masked for any other message.
        #[test]
        fn a_url_password_of_any_characters_is_refused_and_never_printed(
            scheme in prop_oneof![Just(""), Just("http://"), Just("https://"), Just("HTTP://"), Just("http:/"), Just("http:\\\\")],
            user in "[a-z]{0,6}",
            // Beginning with a letter: `a:0/x#y@host` (a password opening with digits, then
            // `/`, `?` or `#`) is a valid URL to host `a`, port 0, and read as one.
            password in "[A-Za-z][A-Za-z0-9/#?:%+=!$&'()*,;~._-]{7,15}",
            // A `://` after the host (finding round11-text/01) is a path's or a query's.
            tail in prop_oneof![Just(""), Just("/"), Just("/api/v1/write"), Just("/?db=x"), Just("#frag"), Just("/?next=http://x"), Just("#http://x")],
        ) {
            prop_assume!(password.chars().any(|c| c.is_ascii_alphanumeric()));
            let url = format!("{scheme}{user}:{password}@127.0.0.1:9090{tail}");
            let refused = refuse_url_credentials("--x", &url, "use a header");
            prop_assert!(refused.as_ref().is_err_and(|e| !e.to_string().contains(&password)), "{}: {:?}", url, refused);
            prop_assert!(!masked_url(&url).contains(&password), "{}: {}", url, masked_url(&url));
        }
    }

    #[test]
    fn a_query_parameter_named_as_a_credential_is_refused_by_name_never_by_value() {
        for url in [
            "http://127.0.0.1:9090/?token=pw-123",
            "http://127.0.0.1:9090/api/prom?x=1&API_KEY=pw-123",
            "http://127.0.0.1:9090/?access_token=pw-123#frag",
            "http://127.0.0.1:9090/?X-Amz-Signature=pw-123",
            "http://127.0.0.1:9090/?%74oken=pw-123",
            "http://127.0.0.1:9090/?sessionid=pw-123",
            "http://127.0.0.1:9090/?a=1;sid=pw-123",
            "http://127.0.0.1:9090/?code=pw-123",
            "http://127.0.0.1:9090/?user=alice&pw=pw-123",
            "http://127.0.0.1:9090/?cred=pw-123",
            "127.0.0.1:9090/?password",
            // Finding round9-text/04: InfluxDB 1.x's `u=`/`p=`, any case, percent-encoded too.
            "http://127.0.0.1:8086/api/v1/prom/write?db=prometheus&u=admin&p=pw-123",
            "http://127.0.0.1:8086/?P=pw-123",
            "http://127.0.0.1:8086/?%70=pw-123",
            // Finding round11-text/04: in the fragment and in a path segment's parameters.
            "http://127.0.0.1:9090/#access_token=pw-123",
            "http://127.0.0.1:9090/prom;jsessionid=pw-123/api",
        ] {
            let text = refuse_url_credentials("--prometheus-url", url, "use a header").unwrap_err().to_string();
            assert!(
                text.starts_with("--prometheus-url: a query parameter is named as a credential's"),
                "{url}: {text}"
            );
            assert!(!text.contains("pw-123"), "{url}: {text}");
        }
        // Ordinary names holding a one-letter credential name are not credentials' names.
        for url in [
            "http://127.0.0.1:9100/metrics?format=text&collect[]=cpu",
            "http://127.0.0.1:9/#token",
            "http://127.0.0.1:9090/api/v1/query_range?query=up&step=15s&page=2&up=1&pp=3&ap=x",
        ] {
            assert!(refuse_url_credentials("--scrape-url", url, "").is_ok(), "{url}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Finding round9-text/04, as a rule: a parameter named as a credential's — one of the
        /// whole names, or any name holding one of the words — in any case, percent-encoded or
        /// not, among ordinary parameters, is refused without its value; the ordinary ones
        /// alone (`step`, `up`, `page`, InfluxDB's `u`) are not. Userinfo beside it never lets
        /// its value be printed.
        #[test]
        fn a_credential_parameter_anywhere_in_the_query_is_refused(
            (name, encode) in prop_oneof![
                proptest::sample::select(CREDENTIAL_PARAMETER_NAMES.to_vec()).prop_map(str::to_string),
                ("[a-z_]{0,4}", proptest::sample::select(CREDENTIAL_PARAMETER_WORDS.to_vec()), "[a-z_]{0,4}")
                    .prop_map(|(before, word, after)| format!("{before}{word}{after}")),
            ]
            .prop_flat_map(|name| {
                let length = name.len();
                (Just(name), proptest::collection::vec((any::<bool>(), any::<bool>()), length))
            }),
            before in proptest::collection::vec(proptest::sample::select(ORDINARY.to_vec()), 0..3),
            after in proptest::collection::vec(proptest::sample::select(ORDINARY.to_vec()), 0..3),
            value in "pw-[A-Za-z0-9]{6,12}",
            userinfo in proptest::option::of(prop_oneof![Just("alice@"), Just("alice:s3cr3t-x@"), Just("***@")]),
        ) {
            let spelled: String = name
                .chars()
                .zip(encode)
                .map(|(c, (upper, percent))| {
                    let c = if upper { c.to_ascii_uppercase() } else { c };
                    if percent { format!("%{:02X}", u32::from(c)) } else { c.to_string() }
                })
                .collect();
            let ordinary = |names: &[&'static str]| names.iter().map(|n| format!("{n}=1")).collect::<Vec<String>>();
            let mut pairs = ordinary(&before);
            pairs.push(format!("{spelled}={value}"));
            pairs.extend(ordinary(&after));
            // With userinfo as well, whose refusal came first and printed the query (finding
            // round10-text/03).
            let url = format!("http://{}127.0.0.1:8086/api/v1/prom/write?{}", userinfo.unwrap_or(""), pairs.join("&"));
            let refused = refuse_url_credentials("--remote-write", &url, "use a header");
            prop_assert!(refused.as_ref().is_err_and(|e| !e.to_string().contains(&value)), "{}: {:?}", url, refused);
            let plain = format!("http://127.0.0.1:8086/?{}", ordinary(&[before.as_slice(), after.as_slice()].concat()).join("&"));
            prop_assert!(refuse_url_credentials("--remote-write", &plain, "").is_ok(), "{}", plain);
        }
    }

    /// Ordinary query parameter names, none a credential's.
    const ORDINARY: [&str; 12] =
        ["db", "u", "step", "up", "page", "query", "time", "limit", "format", "ap", "pp", "precision"];

    #[test]
    fn a_directory_is_refused_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), "k6 summary").unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()) && err.contains("a directory"), "{err}");
    }
}
