//! `gatecheck lint FILE...`: checks policies, scenarios, settings and waiver files without any
//! evidence, so a policy change is caught in review rather than on release day.
//!
//! It refuses everything the loaders refuse (it calls them: there is no second validator to
//! drift), and beyond that what only shows once evidence is missing: placeholders `init` left
//! in, PromQL that Prometheus's own grammar refuses (the promql-parser crate, a port of
//! Prometheus's parser: no server or promtool needed, and every `[choice]` set is parsed, not
//! only the default one), and gates for a flow no scenario in the same run produces. Every
//! finding is one line, `FILE:LINE: error|warning: what`; any error means exit 2.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use crate::cli::{FileKind, LintArgs};
use crate::error::Error;

use super::{write_out, Context, Outcome};

/// What `init` writes where it cannot know the value; `lint` refuses a file that still holds it.
pub const PLACEHOLDER: &str = "FILL_IN_";

/// One thing wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub message: String,
    /// An error (exit 2) rather than a warning.
    pub blocks: bool,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = if self.blocks { "error" } else { "warning" };
        write!(f, "{}:{}: {level}: {}", self.file, self.line, self.message)
    }
}

/// One file as lint read it: its kind, findings, and what the cross-file checks need.
#[derive(Debug, Default)]
pub struct Linted {
    pub kind: Option<FileKind>,
    pub findings: Vec<Finding>,
    /// Scenario: the flows it runs. Policy: (flow, gate id, line) of each gate that names one.
    flows: BTreeSet<String>,
    gate_flows: Vec<(String, String, usize)>,
}

pub fn lint_command(args: LintArgs, context: &Context, out: &mut dyn Write) -> Result<Outcome, Error> {
    let mut linted = Vec::new();
    for path in &args.files {
        let shown = path.display().to_string();
        let text = crate::input::read_to_string(path, "file to lint")?;
        linted.push(lint_text(args.kind, &shown, path, &text, context.env));
    }
    let mut findings: Vec<Finding> = linted.iter().flat_map(|l| l.findings.clone()).collect();
    findings.extend(cross_file(&linted, &args.files));
    let mut text = String::new();
    for finding in &findings {
        // A finding quotes the file's text: one line, as every message (escape::line).
        text.push_str(&format!("{}\n", crate::escape::line(&finding.to_string())));
    }
    let errors = findings.iter().filter(|f| f.blocks).count();
    let warnings = findings.len() - errors;
    text.push_str(&format!("gatecheck lint: {} file(s), {errors} error(s), {warnings} warning(s)\n", args.files.len()));
    write_out(out.write_all(text.as_bytes()))?;
    if errors > 0 {
        return Err(Error::Lint { errors });
    }
    Ok(Outcome::Pass)
}

/// The kind a file declares with taplo's `#:schema` directive, else the one its keys show.
pub fn detect_kind(path: &Path, text: &str) -> Option<FileKind> {
    for line in text.lines().take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty()) {
        if let Some(target) = line.trim().strip_prefix("#:schema") {
            for kind in
                [FileKind::Policy, FileKind::Scenario, FileKind::Settings, FileKind::Waivers, FileKind::PolicyTest]
            {
                if target.trim().ends_with(super::schema::file_name(kind)) {
                    return Some(kind);
                }
            }
        }
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    if path.file_name().is_some_and(|n| n == crate::settings::DEFAULT_CONFIG) {
        return Some(FileKind::Settings);
    }
    if table.contains_key("case") {
        Some(FileKind::PolicyTest)
    } else if table.contains_key("scenario") || table.contains_key("flow") {
        Some(FileKind::Scenario)
    } else if table.contains_key("waiver") {
        Some(FileKind::Waivers)
    } else if table.contains_key("gate") || table.get("policy").is_some_and(toml::Value::is_table) {
        Some(FileKind::Policy)
    } else {
        None
    }
}

/// Lints one file's text; `source` names it in findings, `path` is where it lives.
pub fn lint_text(
    kind: Option<FileKind>,
    source: &str,
    path: &Path,
    text: &str,
    env: &crate::env::Lookup<'_>,
) -> Linted {
    let mut linted = Linted { kind: kind.or_else(|| detect_kind(path, text)), ..Linted::default() };
    let finding = |line: usize, message: String| Finding { file: source.to_string(), line, message, blocks: true };
    let Some(kind) = linted.kind else {
        linted.findings.push(finding(
            1,
            "cannot tell what kind of file this is: add a `#:schema` line naming its schema, or pass --kind".into(),
        ));
        return linted;
    };
    for (index, line) in text.lines().enumerate() {
        let code = line.split_once('#').map_or(line, |(code, _)| code);
        if let Some(at) = code.find(PLACEHOLDER) {
            let word: String =
                code[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            linted
                .findings
                .push(finding(index + 1, format!("placeholder {word} left in: replace it with the real value")));
        }
    }
    // A character that is not shown as itself (a bidi override, a zero-width space, a line
    // separator: `escape::hidden`) makes the file read to a reviewer other than it loads
    // (finding round32-text/03); TOML spells each one as an escape inside a string.
    for (index, line) in text.lines().enumerate() {
        if let Some(c) = line.chars().find(|c| crate::escape::hidden(*c) && *c != '\t') {
            let code = u32::from(c);
            let escape = if code <= 0xffff { format!("\\u{code:04X}") } else { format!("\\U{code:08X}") };
            linted.findings.push(Finding {
                file: source.to_string(),
                line: index + 1,
                message: format!(
                    "U+{code:04X}, a character that is not shown as itself, is written raw: write it as {escape} inside a string, or remove it"
                ),
                blocks: false,
            });
        }
    }
    let refusal = match kind {
        FileKind::Policy => lint_policy(source, path, text, &mut linted),
        FileKind::Scenario => lint_scenario(source, text, &mut linted),
        FileKind::Waivers => crate::policy::waiver::parse(source, text).err().map(|e| error_message(&e)),
        FileKind::Settings => lint_settings(path, text, env),
        FileKind::PolicyTest => {
            toml::from_str::<super::test::TestFile>(text).err().map(|e| crate::input::one_line_toml_error(text, &e))
        }
    };
    if let Some(message) = refusal {
        let (line, message) = locate(text, &message);
        linted.findings.push(finding(line, message));
    }
    linted
}

/// (line, placeholder) of the first placeholder on each line, comments left out.
pub fn placeholders(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split_once('#').map_or(line, |(code, _)| code);
        if let Some(at) = code.find(PLACEHOLDER) {
            let word: String =
                code[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            found.push((index + 1, word));
        }
    }
    found
}

fn lint_policy(source: &str, path: &Path, text: &str, linted: &mut Linted) -> Option<String> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("policy");
    // Required variables get a value that is a number, a label value and a name at once, so
    // every query can be parsed; each `[choice]` set is loaded in turn.
    let raw: toml::Table = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Some(crate::input::one_line_toml_error(text, &e)),
    };
    let mut parsed_queries = BTreeSet::new();
    for overrides in variable_sets(&raw) {
        // Before the rules of its queries' text, so a query the grammar refuses is reported on
        // its own line with the `--var` set that made it; the others are held to those rules
        // (`policy::query_refusal`) as every command holds them.
        let policy = match crate::policy::parse_with_vars_before_query_rules(source, stem, text, &overrides) {
            Ok(policy) => policy,
            Err(e) => return Some(error_message(&e)),
        };
        for gate in &policy.gates {
            if let Some(flow) = &gate.flow {
                linted.gate_flows.push((flow.clone(), gate.id.clone(), line_of_id(text, &gate.id)));
            }
        }
        for (id, query) in policy.queries() {
            if !parsed_queries.insert(query.clone()) {
                continue;
            }
            // A duration the grammar misreads is no refusal of Prometheus's: `query_refusal` says it.
            let misread = crate::policy::query_window::misread_duration(&query);
            if let (None, Err(why)) = (misread, crate::policy::query_window::grammar(&query)) {
                let why = why.replace('\n', " ");
                let shown = if overrides.is_empty() {
                    String::new()
                } else {
                    let vars: Vec<String> = overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!(" (with --var {})", vars.join(" --var "))
                };
                linted.findings.push(Finding {
                    file: source.to_string(),
                    line: line_of_id(text, &id),
                    message: format!("gate {id:?}: Prometheus would refuse the query{shown}: {why}: {query}"),
                    blocks: true,
                });
            } else if let Some(why) = crate::policy::query_refusal(&policy, &id, &query) {
                return Some(why);
            }
        }
        // A query the grammar reads but no gate can judge (a range vector): check refuses it
        // at run time and export refuses to write it, so lint says so now.
        for gate in &policy.gates {
            for (_, query) in &gate.queries {
                if let Some(why) = crate::policy::query_answer::Answer::of(query).unjudgeable() {
                    if parsed_queries.insert(format!("unjudgeable {query}")) {
                        linted.findings.push(Finding {
                            file: source.to_string(),
                            line: line_of_id(text, &gate.id),
                            message: format!("gate {:?}: {why}: {query}", gate.id),
                            blocks: true,
                        });
                    }
                }
            }
        }
    }
    None
}

/// The `--var` sets lint loads a policy with: one per value of each `[choice]` switch (or
/// one set without a switch), with every required variable of that set given a stand-in.
fn variable_sets(raw: &toml::Table) -> Vec<Vec<(String, String)>> {
    let required = |table: Option<&toml::Table>| -> Vec<String> {
        table.map(|t| t.iter().filter(|(_, v)| v.is_table()).map(|(k, _)| k.clone()).collect()).unwrap_or_default()
    };
    let vars = raw.get("vars").and_then(|v| v.as_table());
    let base: Vec<(String, String)> = required(vars).into_iter().map(|name| (name, "1".to_string())).collect();
    let mut sets = Vec::new();
    if let Some(choices) = raw.get("choice").and_then(|c| c.as_table()) {
        for (switch, values) in choices {
            for (value, set) in values.as_table().into_iter().flatten() {
                let mut overrides = base.clone();
                overrides.push((switch.clone(), value.clone()));
                overrides.extend(required(set.as_table()).into_iter().map(|name| (name, "1".to_string())));
                sets.push(overrides);
            }
        }
    }
    if sets.is_empty() {
        sets.push(base);
    }
    sets
}

fn lint_scenario(source: &str, text: &str, linted: &mut Linted) -> Option<String> {
    let templates = match crate::load::plan::templates(source, text) {
        Ok(templates) => templates,
        Err(e) => return Some(error_message(&e)),
    };
    linted.flows = templates.flows.iter().map(|(name, _)| name.clone()).collect();
    // Variables the scenario gives no default for are given at run time; lint stands in for
    // them (and for the token) so the rest of the file is still checked.
    let defaults: BTreeMap<String, String> = templates.defaults.clone();
    let token_env = templates.token_env.clone();
    let env = move |name: &str| {
        Ok(match name {
            _ if token_env.as_deref() == Some(name) => Some("lint-stand-in-token".to_string()),
            _ if defaults.contains_key(name) => None,
            _ => Some("1".to_string()),
        })
    };
    crate::load::plan::parse(source, text, &crate::load::plan::Overrides::default(), &env)
        .err()
        .map(|e| error_message(&e))
}

fn lint_settings(path: &Path, text: &str, env: &crate::env::Lookup<'_>) -> Option<String> {
    // The same struct figment fills, parsed directly so a wrong key has its line; what is wrong
    // is told by the settings loader, which names the key and never the value (finding
    // round36-text/03: serde's message quoted `prometheus_header = "Authorization: Bearer …"`,
    // written as a string, whole).
    let resolved = crate::settings::resolve(Some(path), crate::settings::Settings::default(), env).err();
    if let Err(e) = toml::from_str::<crate::settings::Settings>(text) {
        let line = e.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        // A message about a key alone (unknown, missing, given twice) quotes no value: kept, as
        // serde words it with the known keys.
        let message = e.message().trim().replace('\n', " ");
        let about_a_key =
            ["unknown field", "missing field", "duplicate key"].iter().any(|key| message.starts_with(key));
        let what = match (about_a_key, &resolved) {
            (true, _) => message,
            (false, Some(resolved)) => error_message(resolved),
            (false, None) => "not a value this setting can take (value not shown)".to_string(),
        };
        return Some(match line {
            Some(line) => format!("line {line}: {what}"),
            None => what,
        });
    }
    resolved.map(|e| error_message(&e))
}

/// Findings that need two files: a gate for a flow that no scenario linted with it runs.
fn cross_file(linted: &[Linted], files: &[std::path::PathBuf]) -> Vec<Finding> {
    let scenario_flows: BTreeSet<&String> =
        linted.iter().filter(|l| l.kind == Some(FileKind::Scenario)).flat_map(|l| &l.flows).collect();
    if scenario_flows.is_empty() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for (file, one) in files.iter().zip(linted) {
        let mut seen = BTreeSet::new();
        for (flow, id, line) in &one.gate_flows {
            if !scenario_flows.contains(flow) && seen.insert(id.clone()) {
                findings.push(Finding {
                    file: file.display().to_string(),
                    line: *line,
                    message: format!(
                        "gate {id:?}: no scenario linted with it runs flow {flow:?}, so no source can ever feed it"
                    ),
                    blocks: true,
                });
            }
        }
    }
    findings
}

/// The loader's message without the `policy FILE:`-style prefix `Error` adds.
fn error_message(error: &Error) -> String {
    match error {
        Error::Policy { message, .. } | Error::Scenario { message, .. } | Error::Waiver { message, .. } => {
            message.clone()
        }
        other => other.to_string(),
    }
}

/// The line a loader message is about: the `line N:` toml gave, else the first line holding
/// the first quoted name of the message (a gate id, a flow, a key), else line 1.
fn locate(text: &str, message: &str) -> (usize, String) {
    if let Some(rest) = message.strip_prefix("line ") {
        if let Some((number, what)) = rest.split_once(": ") {
            if let Ok(line) = number.parse::<usize>() {
                return (line, what.to_string());
            }
        }
    }
    if let Some(waiver) = message.strip_prefix("waiver ") {
        let index: String = waiver.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = index.parse::<usize>() {
            let line = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.trim() == "[[waiver]]")
                .nth(n.saturating_sub(1))
                .map_or(1, |(i, _)| i + 1);
            return (line, message.to_string());
        }
    }
    let quoted = message.split('"').nth(1).filter(|q| !q.is_empty());
    let line = quoted.map_or(1, |name| line_of_id(text, name));
    (line, message.to_string())
}

/// The line of `id = "NAME"` (or `name = "NAME"`), else the first line mentioning NAME, else 1.
fn line_of_id(text: &str, name: &str) -> usize {
    let quoted = format!("\"{name}\"");
    let defines = |line: &str| {
        let line = line.trim();
        (line.starts_with("id") || line.starts_with("name")) && line.contains(&quoted)
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .position(|l| defines(l))
        .or_else(|| lines.iter().position(|l| !l.trim_start().starts_with('#') && l.contains(name)))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_takes_tomls_line_then_the_named_gate() {
        let text = "[[gate]]\nid = \"a\"\n[[gate]]\nid = \"b\"\n";
        assert_eq!(locate(text, "line 3: unknown field `x`"), (3, "unknown field `x`".to_string()));
        assert_eq!(locate(text, "gate \"b\": thresholds is empty").0, 4);
        assert_eq!(locate(text, "defines nothing").0, 1);
    }
}
