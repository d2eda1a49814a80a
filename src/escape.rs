//! Text gatecheck did not write — k6 metric, tag, check and threshold strings, flow, endpoint
//! and gate names, waiver fields, server answers — goes into terminals, CI logs, GitHub step
//! summaries and annotations, JUnit, JSON and HTML. Each output kind has exactly one escaping
//! rule, here, and every writer calls it; nothing else escapes.
//!
//! The ground rule for all of them is `line`: control characters (C0, DEL, C1), Unicode line
//! and paragraph separators, bidi overrides and the XML-forbidden U+FFFE/U+FFFF are rendered
//! visibly (`\n`, `\r`, `\t`, `\u001b`), so outside text is always one line and can never
//! start a line of its own (a CI runner reads a line starting with `::` as a workflow command),
//! and its legacy `##[cmd]` form, obeyed anywhere in a line, is broken up (`##\[`), and a
//! `::` that would open it (after any indentation, which the runner trims) is written `\::`.
//! The other kinds build on it: Markdown backslash-escapes every ASCII punctuation character
//! (no emphasis, code span, raw HTML, entity, link or GFM autolink can form); XML and HTML
//! escape their markup characters; Prometheus rule annotations are Go templates, so `{{` is
//! written as a template that prints it. JSON and generated JavaScript (`code`): serde_json
//! escapes C0 controls and quotes but writes DEL, C1, bidi and other format characters and the
//! line separators raw (finding round27-text/02: `--report json=-` printed U+202E and U+009B to
//! the terminal; /04: `export k6` wrote them into a script people review), so every hidden
//! character of such text is written as a `\u` escape, which reads back as the same text; so
//! is the `[` of a `##[` (`\u005b`, finding round37-text/02: `--report json=-` printed
//! `##[error]` from a k6 metric key), in TOML strings too (`break_runner_command`, one rule).
//!
//! What is hidden (`hidden`): control characters, Unicode's format characters (category Cf but
//! the two joiners: bidi marks and overrides, zero-width spaces, invisible operators, tag characters; by
//! Unicode's table, finding round27-text/01: U+061C passed a hand list), every other
//! Default_Ignorable_Code_Point (variation selectors, fillers, the unassigned ones a renderer
//! draws as nothing: findings round29-text/02, round33-text/01), line and paragraph separators,
//! and the noncharacters U+FFFE/U+FFFF. `line` writes one as `\u` and four hex digits, or
//! `\u{…}` beyond the BMP; JSON and code as `\u` escapes of its UTF-16 code units.
//!
//! What is drawn as nothing (`drawn_as_nothing`): every Default_Ignorable character (the
//! joiners too) and every combining mark. The scrubber reads a text without them, so no run of
//! them between a credential's letters hides it (finding round33-text/03).

use std::fmt::Write as _;

/// Standard output as every command writes it: each line scrubbed of credentials as it is
/// written, whatever wrote it — the one backstop behind the escapers, so a line a writer forgot
/// to escape still carries no credential (finding round17-text/05: `gatecheck test` printed a
/// case name quoting a credential with `{:?}`, which escapes but does not scrub). Lines are
/// passed on when complete, and a partial one at `flush`.
pub struct ScrubbedLines<'a> {
    out: &'a mut dyn std::io::Write,
    pending: Vec<u8>,
}

impl<'a> ScrubbedLines<'a> {
    pub fn new(out: &'a mut dyn std::io::Write) -> ScrubbedLines<'a> {
        ScrubbedLines { out, pending: Vec::new() }
    }

    /// Each line is scrubbed on its own, its line break kept: the scrubber reads a credential
    /// split across lines (a server's wrapped text), so over several lines at once its mask
    /// ran over gatecheck's own line break and joined two lines of the output (finding
    /// round20-text/05: `gate: lat-***atecheck_severity: block` in exported YAML). Every raw
    /// line break here is gatecheck's: outside text reaches standard output through `line`,
    /// which scrubs it whole, across its line breaks, before it renders them `\n`.
    fn pass_on(&mut self, upto: usize) -> std::io::Result<()> {
        let text: Vec<u8> = self.pending.drain(..upto).collect();
        match std::str::from_utf8(&text) {
            Ok(text) => {
                for line in text.split_inclusive('\n') {
                    let (content, end) = line.strip_suffix('\n').map_or((line, ""), |content| (content, "\n"));
                    self.out.write_all(crate::secret::scrub(content).as_bytes())?;
                    self.out.write_all(end.as_bytes())?;
                }
                Ok(())
            }
            // Not text (no command writes bytes to standard output): passed on as it is.
            Err(_) => self.out.write_all(&text),
        }
    }
}

impl ScrubbedLines<'_> {
    /// The partial line written last, scrubbed, so what follows it comes after it.
    fn pass_on_pending(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pass_on(self.pending.len())
    }

    /// Writes a block another `ScrubbedLines` scrubbed (`ScrubbedBlock`), as it is: scrubbed
    /// again here, every byte of it would be scrubbed twice (finding round34-text/01).
    pub fn write_block(&mut self, block: &ScrubbedBlock) -> std::io::Result<()> {
        self.pass_on_pending()?;
        self.out.write_all(&block.text)
    }

    /// Writes lines laid out from texts each scrubbed whole before it was cut into them (a
    /// table cell wrapped over a terminal's lines: `escape::line` scrubbed it whole, as no scrub
    /// of one line reads a credential cut across two), as they are: scrubbed again line by line,
    /// every byte of them would be scrubbed twice (finding round34-text/01). Only the table of
    /// `report::table` writes so, and only cut cells and its own words.
    pub(crate) fn write_cut_from_scrubbed(&mut self, lines: &[u8]) -> std::io::Result<()> {
        self.pass_on_pending()?;
        self.out.write_all(lines)
    }
}

/// Output built before it is written (a `check --watch` round, written whole so a terminal
/// redraws it in place): its lines scrubbed as `ScrubbedLines` scrubs standard output, and
/// written by `ScrubbedLines::write_block` as they are. Only made by scrubbing.
pub struct ScrubbedBlock {
    text: Vec<u8>,
}

impl ScrubbedBlock {
    /// The block `write` writes, each line scrubbed as it is written.
    pub fn of(write: impl FnOnce(&mut ScrubbedLines<'_>) -> std::io::Result<()>) -> std::io::Result<ScrubbedBlock> {
        let mut text = Vec::new();
        {
            let mut lines = ScrubbedLines::new(&mut text);
            write(&mut lines)?;
            std::io::Write::flush(&mut lines)?;
        }
        Ok(ScrubbedBlock { text })
    }

    pub fn text(&self) -> &[u8] {
        &self.text
    }
}

impl std::io::Write for ScrubbedLines<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.pass_on(last + 1)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.pass_on_pending()?;
        self.out.flush()
    }
}

impl Drop for ScrubbedLines<'_> {
    fn drop(&mut self) {
        // Best effort: a write error here has no one to tell.
        let _ = std::io::Write::flush(self);
    }
}

/// Unicode's format characters (general category Cf), its line and paragraph separators (Zl,
/// Zp) and its Default_Ignorable_Code_Points, as ranges: the table a test checks against the
/// `unicode-general-category` and `icu_properties` crates for every character (kept out of the
/// binary: the whole category table cost the release binary its size limit).
///
/// Default_Ignorable is what a renderer must draw as nothing when it cannot show it, whatever
/// its category (findings round29-text/02, round33-text/01): the variation selectors (Mn, which
/// carry one byte each, "emoji smuggling"), U+034F, the Khmer and Mongolian ones, the Hangul
/// fillers (letters, finding round28-text/06) and the unassigned U+2065, U+FFF0..U+FFF8 and
/// U+E0000..U+E0FFF.
const FORMAT_SEPARATOR_OR_IGNORABLE: [(u32, u32); 25] = [
    (0xad, 0xad),
    (0x34f, 0x34f),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x115f, 0x1160),
    (0x17b4, 0x17b5),
    (0x180b, 0x180f),
    (0x200b, 0x200f),
    // U+2028 (Zl), U+2029 (Zp), then the bidi embeddings and overrides (Cf).
    (0x2028, 0x202e),
    (0x2060, 0x206f),
    (0x3164, 0x3164),
    (0xfe00, 0xfe0f),
    (0xfeff, 0xfeff),
    (0xffa0, 0xffa0),
    (0xfff0, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x1343f),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    // The tag characters (ASCII smuggling, finding round29-text/01) and the supplementary
    // variation selectors among them.
    (0xe0000, 0xe0fff),
];

/// Whether `c` is in `FORMAT_SEPARATOR_OR_IGNORABLE`.
fn format_separator_or_ignorable(c: char) -> bool {
    let code = u32::from(c);
    FORMAT_SEPARATOR_OR_IGNORABLE.iter().any(|&(low, high)| (low..=high).contains(&code))
}

/// Whether a reader sees nothing of `c` between two letters: a Default_Ignorable character or
/// format character (the joiners too: they are invisible between letters), or a combining mark,
/// which draws over the letter before it and adds no distance (finding round33-text/03: 25
/// accents or 13 variation selectors between a credential's letters broke the scrubber's gap,
/// and the credential was shown). Line and paragraph separators and controls break a line: they
/// are something. The scrubber reads every text without these characters as well.
pub fn drawn_as_nothing(c: char) -> bool {
    !c.is_ascii()
        && !c.is_control()
        && !matches!(c, '\u{2028}' | '\u{2029}')
        && (format_separator_or_ignorable(c) || unicode_normalization::char::is_combining_mark(c))
}

/// Whether `c` is shown as an escape rather than itself (see the module doc).
pub fn hidden(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    // The joiners (U+200C, U+200D) are part of words and emoji in many scripts and move
    // nothing; the Markdown writer uses one itself (`NO_AUTOLINK`).
    if matches!(c, '\u{200c}' | '\u{200d}') {
        return false;
    }
    c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') || format_separator_or_ignorable(c)
}

/// A TOML basic string of `text` (with its quotes): `\\`, `\"` and every control or hidden
/// character escaped (`\uXXXX`, `\UXXXXXXXX` beyond the BMP), so a file gatecheck writes from
/// outside text (`init`'s scenario from an OpenAPI document) holds no character that reads other
/// than it is (finding round28-text/03).
pub fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) && u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c if hidden(c) => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    break_runner_command(out, "\\u005B")
}

/// A TOML key: bare when TOML allows it (ASCII letters, digits, `_`, `-`), else a basic
/// string as `toml_string` writes one.
pub fn toml_key(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        toml_string(name)
    }
}

/// A TOML value as one line of inline TOML, every string and key at any depth written by
/// `toml_string`/`toml_key`: the `toml` crate's own writer escapes only what TOML requires, so
/// an OpenAPI example's bidi overrides and line separators went into init's scaffold raw
/// (finding round32-text/03). Numbers, booleans and dates are written as the crate writes them.
pub fn toml_inline(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => toml_string(text),
        toml::Value::Array(items) => format!("[{}]", items.iter().map(toml_inline).collect::<Vec<_>>().join(", ")),
        toml::Value::Table(table) if table.is_empty() => "{}".to_string(),
        toml::Value::Table(table) => format!(
            "{{ {} }}",
            table
                .iter()
                .map(|(key, item)| format!("{} = {}", toml_key(key), toml_inline(item)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The Actions runner obeys its legacy command form `##[cmd]data` found anywhere in a line, not
/// only at its start (finding text3/01), so no output of gatecheck carries one intact: the `[`
/// after `##` is written as `bracket`, each format's way of writing it — `\[` in a line for
/// people, a `\u005b` escape in JSON, JavaScript and TOML strings, where it reads back as `[`
/// (finding round37-text/02: the JSON report printed `##[error]` from a k6 metric key). Every
/// writer calls this one rule.
fn break_runner_command(text: String, bracket: &str) -> String {
    if text.contains("##[") {
        text.replace("##[", &format!("##{bracket}"))
    } else {
        text
    }
}

/// JSON text or generated code (JavaScript) as gatecheck writes it: every hidden character but
/// the line breaks and tabs of its own layout written as a `\u` escape (UTF-16, as both
/// languages spell one), and the runner's command form broken (`break_runner_command`). The
/// serializers escape every hidden character that is not raw text of a string, so each one left
/// lies inside a string literal, where the escape is the same text; a `##[` lies inside one too
/// (neither gatecheck's JSON nor its script writes `##` outside a string or a comment, where the
/// escape reads as the same text). No line starts with outside text: a string starts with its
/// quote, and a line break in one is written `\n`.
pub fn code(text: String) -> String {
    let text = break_runner_command(text, "\\u005b");
    if !text.chars().any(|c| hidden(c) && !matches!(c, '\n' | '\t' | '\r')) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) && !matches!(c, '\n' | '\t' | '\r') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A PromQL query as gatecheck writes it into a rule file (`export prometheus-rules`): one line
/// that Prometheus reads as the same query, with the runner's command form broken
/// (`break_runner_command`; finding round38-text/01: a label matcher's `"/##[error]…"` reached
/// every `expr:` line of the exported YAML, printed to the job log). Outside a string literal a
/// `#` opens a comment, so a `##[` lies either in a comment or in a string literal. Comments,
/// which Prometheus ignores, are left out, and a line break outside a string is a blank, as
/// Prometheus reads it (so no line of the YAML starts with query text, such as a metric named
/// `::error::x`); a quoted literal (`"…"`, `'…'`, which hold no raw line break) reads `\u005b` as
/// `[` (Prometheus unquotes both as Go does); a raw one (`` `…` ``), which has no escapes, is
/// written as the double-quoted string of the same text when it holds a `##[` or a line break.
/// A query with neither a `##[` nor a line break is written as it is.
pub fn promql(query: &str) -> String {
    if !query.contains("##[") && !query.contains(['\n', '\r']) {
        return query.to_string();
    }
    let mut out = String::with_capacity(query.len() + 16);
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        let end = match c {
            // Up to and with the closing quote; a `\` escapes the next character in '…' and "…".
            '"' | '\'' | '`' => {
                let mut escaped = false;
                rest.char_indices()
                    .skip(1)
                    .find(|&(_, d)| {
                        let closes = d == c && !escaped;
                        escaped = c != '`' && d == '\\' && !escaped;
                        closes
                    })
                    .map_or(rest.len(), |(i, d)| i + d.len_utf8())
            }
            '#' => rest.find(['\n', '\r']).unwrap_or(rest.len()),
            c => c.len_utf8(),
        };
        let (token, after) = rest.split_at(end);
        match c {
            '`' if (token.contains("##[") || token.contains(['\n', '\r'])) && end > 1 && token.ends_with('`') => {
                let raw = &token[1..end - 1];
                let mut quoted = String::with_capacity(raw.len() + 8);
                quoted.push('"');
                for d in raw.chars() {
                    match d {
                        '\\' => quoted.push_str("\\\\"),
                        '"' => quoted.push_str("\\\""),
                        '\n' => quoted.push_str("\\n"),
                        '\r' => quoted.push_str("\\r"),
                        d => quoted.push(d),
                    }
                }
                quoted.push('"');
                out.push_str(&break_runner_command(quoted, "\\u005b"));
            }
            '"' | '\'' => out.push_str(&break_runner_command(token.to_string(), "\\u005b")),
            '#' => {}
            '\n' | '\r' => out.push(' '),
            _ => out.push_str(token),
        }
        rest = after;
    }
    out
}

/// The most characters of one outside text any output shows (a k6 name, a label value, a
/// waiver's field): longer ones are cut and end in `…`. Every escaper builds on `line`, so this
/// is the one bound on what showing a text costs (see `secret::bounded`).
pub const SHOWN: usize = 4000;

/// One line for a terminal or CI log: at most `SHOWN` characters, scrubbed of credentials,
/// every control character visible, nothing else changed.
pub fn line(text: &str) -> String {
    let text = crate::secret::bounded(text, SHOWN);
    let out = if !text.chars().any(hidden) {
        text
    } else {
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if hidden(c) => shown_escaped(c, &mut out),
                c => out.push(c),
            }
        }
        out
    };
    let out = break_runner_command(out, "\\[");
    // The runner trims leading whitespace before it looks for `::` (finding round7-text/05: an
    // indented line of outside text was obeyed), and a piece of outside text may open a line
    // after gatecheck's indentation or be printed first: it never begins with `::` intact.
    let indent = out.len() - out.trim_start().len();
    if out[indent..].starts_with("::") {
        format!("{}\\{}", &out[..indent], &out[indent..])
    } else {
        out
    }
}

/// `line` for a text that is printed inside one line of standard output and nowhere else: the
/// line writer (`ScrubbedLines`) scrubs that whole line as it is written, so scrubbing the text
/// here too scrubbed every byte of it twice (finding round34-text/01: a table of 6,000 series
/// spent two thirds of its time scrubbing each row per cell and again per line). Outside text is
/// scrubbed once, where it becomes output. Only a text `line` would print unchanged but for the
/// scrub — no hidden character, no `##[`, no leading `::`, at most `SHOWN` characters — is left
/// to the line writer: there the line holds exactly the characters `line` scrubbed, so the line
/// writer sees the same credential whole (and one split across this text and its neighbours,
/// which no scrub of one text can see). Any other text is escaped by `line`, which scrubs it
/// before it escapes or cuts it (an escape written between a credential's characters, or a cut
/// through it, would hide it from a later scrub).
pub fn line_scrubbed_by_writer(text: &str) -> String {
    let unchanged = !text.chars().any(hidden)
        && !text.contains("##[")
        && !text.trim_start().starts_with("::")
        && text.chars().nth(SHOWN).is_none();
    if unchanged {
        text.to_string()
    } else {
        line(text)
    }
}

/// A hidden character as `line` shows it: `\\u` and four hex digits in the BMP, `\\u{…}` beyond
/// it. Four or five bare digits would be ambiguous (finding round29-text/01: U+E0073 written
/// `\\ue0073` reads as U+E007 and `3`), and the braces say where the code ends.
fn shown_escaped(c: char, out: &mut String) {
    let code = u32::from(c);
    let _ = if code <= 0xffff { write!(out, "\\u{code:04x}") } else { write!(out, "\\u{{{code:x}}}") };
}

/// Markdown text, safe in a paragraph, a list item and a GFM table cell: `line`, then every
/// ASCII punctuation character backslash-escaped (CommonMark allows that for all of them), so
/// `|` cannot end a cell, `` ` `` cannot open a code span, `<` cannot open raw HTML or an
/// autolink, `[`/`]`/`(`/`!` cannot form a link or an image, `&` cannot form an entity, and
/// `:` and `.` are never literal, so no GFM URL autolink (`www.`, `http://`) forms. GitHub's
/// renderer (cmark-gfm) runs its e-mail autolink (`a@b.c`, `mailto:`, `xmpp:`) on the text
/// after backslash escapes are resolved, so `\@` alone does not stop it: every `@` is also
/// followed by a zero-width joiner (U+200D), which no e-mail domain may start with (checked
/// with the cmarkgfm binding; `&#64;` is resolved first and links too).
pub fn markdown(text: &str) -> String {
    let text = line(text);
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        if c == '@' {
            out.push(NO_AUTOLINK);
        }
    }
    out
}

/// What follows every `@` in Markdown, so GFM's e-mail autolink finds no domain after it.
pub const NO_AUTOLINK: char = '\u{200d}';

/// GitHub workflow-command data (`::error title=…::DATA`): `line`, then the runner's own
/// escapes, so the message stays one command.
pub fn workflow_data(text: &str) -> String {
    line(text).replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow-command property value (`title=…`): data escaping plus `:` and `,`.
pub fn workflow_property(text: &str) -> String {
    workflow_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `escaper` for a text of a generated file (exported rules, a k6 script, `init`'s files),
/// which is written exactly as generated or refused (`secret::generated_as_is`, finding
/// round39-text/03): every escaper scrubs, and a text masked here would be a file that loads
/// otherwise than it says, with nothing left for the file's check to refuse. A text holding a
/// credential is kept whole and unescaped instead, so the check sees it and nothing is written.
pub fn as_generated(text: &str, escaper: fn(&str) -> String) -> String {
    if crate::secret::holds_credential(text) {
        text.to_string()
    } else {
        escaper(text)
    }
}

/// XML 1.0 character data or an attribute value, before the XML writer escapes markup
/// (`<`, `>`, `&`, quotes). XML 1.0 forbids most C0 controls even as character references,
/// so `line` renders them visibly; everything left is a legal XML character.
/// A Prometheus alert annotation (a Go text/template): one `line`, with every `{{` — the only
/// sequence that opens an action — written as the action `{{ "{{" }}`, which prints it. So a
/// policy's description can neither break the rule file nor make Prometheus run a query.
pub fn go_template(text: &str) -> String {
    line(text).replace("{{", r#"{{ "{{" }}"#)
}

pub fn xml(text: &str) -> String {
    line(text)
}

/// HTML text or a quoted attribute value: `line`, then the five markup characters as entities.
pub fn html(text: &str) -> String {
    let text = line(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {

    /// Finding round17-text/05: every line written to standard output is scrubbed, whole lines
    /// as they complete and a partial one at flush, however the writes cut it.
    #[test]
    fn every_line_of_standard_output_is_scrubbed_however_it_is_written() {
        let _kept = crate::secret::Secret::new("stdout-line-token-6d5c4b3a");
        let text = "case \"x (stdout-line-token-6d5c4b3a)\"\nok\npartial stdout-line-token-6d5c4b3a";
        for cut in [1, 3, 7, 16, text.len()] {
            let mut sink = Vec::new();
            {
                let mut lines = ScrubbedLines::new(&mut sink);
                for piece in text.as_bytes().chunks(cut) {
                    std::io::Write::write_all(&mut lines, piece).unwrap();
                }
                std::io::Write::flush(&mut lines).unwrap();
            }
            let shown = String::from_utf8(sink).unwrap();
            assert_eq!(shown, "case \"x (***)\"\nok\npartial ***", "cut {cut}");
        }
    }
    use super::*;
    use proptest::prelude::*;

    /// Standard output as `ScrubbedLines` writes `text` in one write.
    fn through_lines(text: &str) -> String {
        let mut sink = Vec::new();
        {
            let mut lines = ScrubbedLines::new(&mut sink);
            std::io::Write::write_all(&mut lines, text.as_bytes()).unwrap();
            std::io::Write::flush(&mut lines).unwrap();
        }
        String::from_utf8(sink).unwrap()
    }

    /// Finding round20-text/05: a line ending in a piece of a credential, before a line of
    /// gatecheck's own starting (after its indentation) with the credential's next characters,
    /// was masked as one echo split across lines: `gate: lat-***atecheck_severity: block`.
    #[test]
    fn the_mask_of_standard_output_stays_within_a_line() {
        let _kept = crate::secret::Secret::new("Tok3nLinesAbcdefghijklmnop");
        let shown = through_lines("    gate: lat-Tok3nLinesAbcdef\n      ghost: block\n");
        assert_eq!(shown, "    gate: lat-***\n      ghost: block\n");
    }

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(line("a\n::add-mask::x\r\u{1b}[31m\0"), "a\\n::add-mask::x\\r\\u001b[31m\\u0000");
        assert_eq!(line("plain text: ok"), "plain text: ok");
        assert_eq!(line("  ::add-mask::x"), "  \\::add-mask::x");
        assert_eq!(markdown("`a|b` <img src=x>"), "\\`a\\|b\\` \\<img src\\=x\\>");
        assert_eq!(workflow_data("50%\n::x"), "50%25\\n::x");
        assert_eq!(html("</td><script>"), "&lt;/td&gt;&lt;script&gt;");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The rule of `ScrubbedLines` (finding round20-text/05) as a class: whatever lines are
        /// written — a piece of a credential ending one line and its continuation starting the
        /// next after any indentation, cut at any point — every line break comes out where it
        /// went in, and each line is the line scrubbed on its own.
        #[test]
        fn standard_output_keeps_every_line_break(
            pairs in proptest::collection::vec(("[a-z:-]{0,8}", 0usize..25, 1usize..26, " {0,8}", "[ a-z:]{0,8}"), 1..4),
        ) {
            const CREDENTIAL: &str = "Zq9LineCredentialXw7Vb6Nm5";
            let _kept = crate::secret::Secret::new(CREDENTIAL);
            let text: String = pairs
                .iter()
                .map(|(before, start, cut, indent, after)| {
                    let (start, cut) = (*start.min(cut), *start.max(cut));
                    format!("{before}{}\n{indent}{}{after}\n", &CREDENTIAL[start..cut], &CREDENTIAL[cut..])
                })
                .collect();
            let shown = through_lines(&text);
            let expected: String = text.lines().map(|line| format!("{}\n", crate::secret::scrub(line))).collect();
            prop_assert_eq!(shown.matches('\n').count(), text.matches('\n').count());
            prop_assert_eq!(shown, expected);
        }
    }

    /// Whether a text written in some format keeps the runner's commands out: no line holds its
    /// legacy `##[` form, and none starts (after the indentation the runner trims) with `::`.
    fn no_runner_command(written: &str) -> bool {
        !written.contains("##[") && written.split(['\n', '\r']).all(|line| !line.trim_start().starts_with("::"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Finding round37-text/02, the class: outside text holding the runner's command forms
        /// (`##[cmd]`, `::cmd::`, after line breaks and line separators, overlapping `###[`,
        /// after a backslash) written by every writer — a line, Markdown, XML, HTML, workflow
        /// data and properties, Go templates, JSON and JavaScript string literals (`code`), TOML
        /// strings — keeps no command intact, and JSON, JavaScript and TOML read back as the
        /// same text.
        #[test]
        fn no_writer_leaves_a_runner_command_intact(
            pieces in proptest::collection::vec(prop_oneof![
                Just("##["), Just("###["), Just("#"), Just("["), Just("::"), Just(":"), Just("\\"), Just("\n"), Just("\r"),
                Just("\u{2028}"), Just("\u{2029}"), Just("\u{85}"), Just(" "), Just("\t"), Just("error]x"), Just("add-mask]y"),
            ], 1..12),
        ) {
            let text = pieces.concat();
            for written in [line(&text), markdown(&text), xml(&text), html(&text), workflow_data(&text), workflow_property(&text), go_template(&text)] {
                prop_assert!(no_runner_command(&written), "{:?} from {:?}", written, text);
            }
            let json = code(serde_json::to_string_pretty(&serde_json::json!({ "key": text, text.clone(): [text.clone()] })).unwrap());
            prop_assert!(no_runner_command(&json), "{:?}", json);
            let read: serde_json::Value = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&read["key"], &serde_json::json!(text));
            prop_assert_eq!(&read[text.as_str()][0], &serde_json::json!(text));
            // A JavaScript string literal, as the exported k6 script writes one: JSON's.
            let js = code(format!("check(res, {{ {}: (r) => r.status === 200 }});\n", serde_json::to_string(&text).unwrap()));
            prop_assert!(no_runner_command(&js), "{:?}", js);
            let literal = js.strip_prefix("check(res, { ").and_then(|rest| rest.split_once(": (r)")).unwrap().0;
            prop_assert_eq!(serde_json::from_str::<String>(literal).unwrap(), text.clone());
            let toml = toml_string(&text);
            prop_assert!(no_runner_command(&toml), "{:?}", toml);
            let read: toml::Value = toml::from_str(&format!("v = {toml}")).unwrap();
            prop_assert_eq!(read["v"].as_str(), Some(text.as_str()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Finding round38-text/01, the class: outside text holding the runner's command forms
        /// in a PromQL query — in a double-quoted, single-quoted and raw string literal, in a
        /// comment, after line breaks — written into a rule file (`promql`, then YAML as
        /// `export prometheus-rules` writes it) keeps no command intact, and the YAML's query
        /// reads back as the same query (the same syntax tree, by Prometheus's grammar).
        #[test]
        fn a_rule_files_query_keeps_no_runner_command_and_reads_the_same(
            pieces in proptest::collection::vec(prop_oneof![
                // No backslash: the grammar (promql-parser) reads one in a raw literal as an
                // escape, which Prometheus does not, and gatecheck refuses at load a query the
                // grammar refuses.
                Just("##["), Just("###["), Just("#"), Just("["), Just("::"), Just(":"), Just("\n"), Just("\r"),
                Just("\""), Just("'"), Just("`"), Just(" "), Just("\t"), Just("error]x"), Just("add-mask]y"),
            ], 1..12),
        ) {
            let text = pieces.concat();
            let double = serde_json::to_string(&text).unwrap();
            let single = format!(
                "'{}'",
                text.replace('\\', "\\\\").replace('\'', "\\'").replace('\n', "\\n").replace('\r', "\\r")
            );
            let raw = format!("`{}`", text.replace('`', ""));
            let comment = text.replace(['\n', '\r'], " ");
            let query = format!(
                "sum by (a) (up{{a={double}, b={single}, c={raw}}}) # {comment}\n+ on ()\n::error::x{{d={raw}}}\r\n# {comment}"
            );
            let written = promql(&query);
            prop_assert!(!written.contains(['\n', '\r']), "{:?}", written);
            let yaml = serde_yaml::to_string(&serde_json::json!({ "expr": written })).unwrap();
            prop_assert!(no_runner_command(&yaml), "{:?}", yaml);
            let read: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
            let read = read["expr"].as_str().unwrap();
            prop_assert_eq!(promql_parser::parser::parse(read), promql_parser::parser::parse(&query), "{:?}", read);
            prop_assert!(promql_parser::parser::parse(&query).is_ok(), "{:?}", query);
        }
    }

    /// The table of format characters, separators and default ignorables is Unicode's: checked
    /// against the `unicode-general-category` and `icu_properties` crates for every character.
    #[test]
    fn the_format_table_is_unicodes() {
        use icu_properties::{props::DefaultIgnorableCodePoint, CodePointSetData};
        use unicode_general_category::{get_general_category, GeneralCategory};
        let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let category = get_general_category(c);
            let expected = ignorable.contains(c)
                || matches!(
                    category,
                    GeneralCategory::Format | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
                );
            assert_eq!(format_separator_or_ignorable(c), expected, "U+{:04X} ({category:?})", u32::from(c));
        }
    }

    /// Every Default_Ignorable_Code_Point, as Unicode lists it.
    fn default_ignorables() -> Vec<char> {
        use icu_properties::{props::DefaultIgnorableCodePoint, CodePointSetData};
        let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
        (0..=0x10ffffu32).filter_map(char::from_u32).filter(|c| ignorable.contains(*c)).collect()
    }

    /// Finding round29-text/01: a character beyond the BMP is shown with braces, so the digits
    /// after it are not read as part of its code.
    #[test]
    fn an_escape_beyond_the_bmp_says_where_its_code_ends() {
        assert_eq!(line("x\u{e0073}3\u{e0100}"), "x\\u{e0073}3\\u{e0100}");
        assert_eq!(line("a\u{fe0f}\u{34f}b"), "a\\ufe0f\\u034fb");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Finding round29-text/02: every Default_Ignorable character but the two joiners,
        /// within any text, is hidden and written visibly by every output kind — as an escape
        /// that names it in the terminal, CI and document outputs, as a `\u` escape that reads
        /// back as it in JSON, code and TOML — and never as itself.
        #[test]
        fn every_default_ignorable_character_is_shown_by_every_output_kind(
            ignorable in proptest::sample::select(default_ignorables()),
            before in "\\PC{0,6}",
            after in "[0-9a-f]{0,3}\\PC{0,4}",
        ) {
            let joiner = matches!(ignorable, '\u{200c}' | '\u{200d}');
            prop_assert_eq!(hidden(ignorable), !joiner);
            prop_assume!(!joiner);
            let text = format!("{before}{ignorable}{after}");
            let mut named = String::new();
            shown_escaped(ignorable, &mut named);
            for escaped in [line(&text), markdown(&text), xml(&text), html(&text), workflow_data(&text), workflow_property(&text), go_template(&text)] {
                prop_assert!(!escaped.contains(ignorable), "{:?}", escaped);
                prop_assert!(!escaped.chars().any(hidden), "{:?}", escaped);
            }
            prop_assert!(line(&text).contains(&named), "{:?} lacks {:?}", line(&text), named);
            // JSON and code: the escape reads back as the character.
            let json = code(serde_json::to_string(&text).unwrap());
            prop_assert!(!json.chars().any(hidden), "{:?}", json);
            prop_assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text.clone());
            let toml = toml_string(&text);
            prop_assert!(!toml.chars().any(hidden), "{:?}", toml);
            let read: toml::Value = toml::from_str(&format!("v = {toml}")).unwrap();
            prop_assert_eq!(read["v"].as_str(), Some(text.as_str()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Finding round28-text/03: a TOML string gatecheck writes from outside text reads back
        /// as that text, with no hidden character written as itself.
        #[test]
        fn a_toml_string_reads_back_as_its_text_with_nothing_hidden(text in "\\PC*|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{61c}\\u{200b}\\u{2028}\\u{202e}\\u{2066}\\u{e0041}\\u{fff9}\"'\\\\a-z ]{0,48}") {
            let written = toml_string(&text);
            prop_assert!(!written.chars().any(hidden), "{written:?}");
            let read: toml::Value = toml::from_str(&format!("v = {written}")).unwrap();
            prop_assert_eq!(read["v"].as_str(), Some(text.as_str()));
        }

        /// Finding round32-text/03, the class: a TOML value of outside text (init's request
        /// body from an OpenAPI example), strings and keys at any depth, is written as one line
        /// holding no hidden character raw and reads back as the same value.
        #[test]
        fn an_inline_toml_value_reads_back_with_nothing_hidden(
            value in {
                let text = "\\PC{0,12}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{ad}\\u{61c}\\u{115f}\\u{200b}\\u{2028}\\u{2029}\\u{202e}\\u{2066}\\u{2069}\\u{3164}\\u{feff}\\u{e0041}\\u{fff9}\"'\\\\a-z ]{0,16}";
                let leaf = prop_oneof![
                    text.prop_map(toml::Value::String),
                    any::<i64>().prop_map(toml::Value::Integer),
                    any::<bool>().prop_map(toml::Value::Boolean),
                    (-1e9f64..1e9).prop_map(toml::Value::Float),
                ];
                leaf.prop_recursive(3, 24, 4, move |inner| prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
                    prop::collection::btree_map(text, inner, 0..4)
                        .prop_map(|map| toml::Value::Table(map.into_iter().collect())),
                ])
            }
        ) {
            let written = toml_inline(&value);
            prop_assert!(!written.chars().any(hidden), "{written:?}");
            let read: toml::Table = toml::from_str(&format!("v = {written}")).unwrap();
            prop_assert_eq!(&read["v"], &value);
        }

        /// The ground rule: whatever comes in, one line out with no hidden character, and the
        /// visible text (everything that was not a control) is kept in order.
        #[test]
        fn every_escape_is_one_visible_line(text in "\\PC*|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{202e}:`|<>\\[\\]()!*_&@.a-z ]{0,64}") {
            for escaped in [line(&text), markdown(&text), xml(&text), html(&text), workflow_data(&text), workflow_property(&text)] {
                prop_assert!(!escaped.chars().any(hidden), "{escaped:?}");
                prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
            }
            // Never a workflow command, even after the indentation the runner trims.
            prop_assert!(!line(&text).trim_start().starts_with("::"), "{:?}", line(&text));
            // Text with nothing hidden is shown exactly as it is, but for a `::` it opens with.
            let visible: String = text.chars().filter(|c| !hidden(*c)).collect();
            let indent = visible.len() - visible.trim_start().len();
            if visible[indent..].starts_with("::") {
                prop_assert_eq!(line(&visible), format!("{}\\{}", &visible[..indent], &visible[indent..]));
            } else {
                prop_assert_eq!(line(&visible), visible);
            }
        }

        /// Markdown: every ASCII punctuation character of the output is escaped by the one
        /// backslash before it, so CommonMark and GFM read all of it as literal text.
        #[test]
        fn markdown_leaves_no_punctuation_live(text in "\\PC*|[\\x00-\\x1f:`|<>\\[\\]()!*_&@.\\\\a-z ]{0,64}|(mailto:|xmpp:|www\\.)?[a-z.@+/-]{1,24}\\.(com|co)") {
            let escaped = markdown(&text);
            let mut chars = escaped.chars();
            while let Some(c) = chars.next() {
                if c.is_ascii_punctuation() {
                    prop_assert_eq!(c, '\\', "{:?}", escaped);
                    let next = chars.next();
                    prop_assert!(next.is_some_and(|next| next.is_ascii_punctuation()), "{:?}", escaped);
                    // No e-mail autolink (cmark-gfm resolves `\@` first): `@` is never followed by
                    // a character a domain could start with.
                    if next == Some('@') {
                        prop_assert_eq!(chars.next(), Some(NO_AUTOLINK), "{:?}", escaped);
                    }
                }
            }
        }
    }
}
