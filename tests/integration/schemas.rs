//! The JSON Schemas of the files gatecheck reads: generated from the parsers' own structs,
//! named by every shipped file's `#:schema` line, and flagging a misspelled key exactly where
//! gatecheck refuses it (the same file and line), over every key position of every shipped file.

use std::path::{Path, PathBuf};

use gatecheck::cli::FileKind;
use gatecheck::commands::{lint, schema};
use serde_json::Value;

use crate::support::repo;

const KINDS: [FileKind; 5] =
    [FileKind::Policy, FileKind::Scenario, FileKind::Settings, FileKind::Waivers, FileKind::PolicyTest];

/// Every TOML file the repository ships for users to read or copy.
fn shipped() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["gates", "examples", "benches", "fixtures/policies", "tests/policy"] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 9, "shipped TOML files: {files:?}");
    files
}

/// The schema a file names on its first line, resolved as taplo does (relative to the file).
fn schema_of(path: &Path, text: &str) -> (PathBuf, jsonschema::Validator) {
    let first = text.lines().next().unwrap_or_default();
    let target = first
        .strip_prefix("#:schema ")
        .unwrap_or_else(|| panic!("{}: the first line must be `#:schema PATH`, not {first:?}", path.display()));
    let schema_path = path.parent().unwrap().join(target.trim());
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    (schema_path, jsonschema::validator_for(&schema).expect("a valid JSON Schema"))
}

/// TOML as editors hand it to a JSON Schema validator: dates and times become strings.
fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        toml::Value::Table(table) => Value::Object(table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

fn schema_errors(validator: &jsonschema::Validator, text: &str) -> Vec<(String, String)> {
    let value: toml::Value = toml::from_str(text).unwrap();
    validator.iter_errors(&to_json(&value)).map(|e| (e.instance_path().as_str().to_string(), e.to_string())).collect()
}

#[test]
fn shipped_schemas_are_what_the_parsers_generate() {
    for kind in KINDS {
        let name = schema::file_name(kind);
        let shipped = std::fs::read_to_string(repo().join("schemas").join(name)).unwrap();
        assert!(
            shipped == schema::schema_text(kind),
            "schemas/{name} is not what the parser's structs give: run `gatecheck schema {kind:?} > schemas/{name}`"
        );
    }
}

#[test]
fn every_shipped_file_names_its_schema_validates_and_lints_clean() {
    for path in shipped() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (schema_path, validator) = schema_of(&path, &text);
        let kind = lint::detect_kind(&path, &text).unwrap();
        assert!(schema_path.ends_with(schema::file_name(kind)), "{}: names {}", path.display(), schema_path.display());
        let errors = schema_errors(&validator, &text);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        let linted = lint::lint_text(None, &path.display().to_string(), &path, &text, &|_| Ok(None));
        assert!(linted.findings.is_empty(), "{}: {:#?}", path.display(), linted.findings);
    }
}

/// Every key of a document with its parent's JSON pointer and its span in the text.
fn keys(doc: &toml_edit::ImDocument<String>) -> Vec<(String, String, std::ops::Range<usize>)> {
    fn walk(pointer: &str, item: &toml_edit::Item, out: &mut Vec<(String, String, std::ops::Range<usize>)>) {
        let mut table_like = |pairs: Vec<(&str, Option<std::ops::Range<usize>>, &toml_edit::Item)>| {
            for (key, span, child) in pairs {
                if let Some(span) = span {
                    out.push((pointer.to_string(), key.to_string(), span));
                }
                let escaped = key.replace('~', "~0").replace('/', "~1");
                walk(&format!("{pointer}/{escaped}"), child, out);
            }
        };
        match item {
            toml_edit::Item::Table(table) => {
                table_like(table.iter().map(|(k, v)| (k, table.key(k).and_then(|k| k.span()), v)).collect())
            }
            toml_edit::Item::Value(toml_edit::Value::InlineTable(table)) => {
                let items: Vec<(String, toml_edit::Item)> =
                    table.iter().map(|(k, v)| (k.to_string(), toml_edit::Item::Value(v.clone()))).collect();
                let spans: Vec<_> = table.iter().map(|(k, _)| table.key(k).and_then(|k| k.span())).collect();
                let pairs = items.iter().zip(spans).map(|((k, v), span)| (k.as_str(), span, v)).collect();
                table_like(pairs)
            }
            toml_edit::Item::ArrayOfTables(tables) => {
                for (index, table) in tables.iter().enumerate() {
                    walk(&format!("{pointer}/{index}"), &toml_edit::Item::Table(table.clone()), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", doc.as_item(), &mut out);
    out
}

/// A typo as people make them: a letter dropped (or one added to a very short key).
fn misspell(key: &str) -> String {
    if key.chars().count() >= 3 {
        let mut chars: Vec<char> = key.chars().collect();
        chars.remove(1);
        chars.into_iter().collect()
    } else {
        format!("{key}x")
    }
}

#[test]
fn a_misspelled_key_is_flagged_by_the_schema_exactly_where_gatecheck_refuses_it() {
    let mut flagged_per_kind = std::collections::BTreeMap::new();
    let mut tried = 0;
    let mut seen = std::collections::BTreeSet::new();
    for path in shipped() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, validator) = schema_of(&path, &text);
        let kind = lint::detect_kind(&path, &text).unwrap();
        let doc = toml_edit::ImDocument::parse(text.clone()).unwrap();
        for (parent, key, span) in keys(&doc) {
            // Each key position once per file: `/gate/3/thresholds` is `/gate/*/thresholds`.
            let shape: Vec<&str> = parent
                .split('/')
                .map(|s| if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() { "*" } else { s })
                .collect();
            if !seen.insert((path.clone(), shape.join("/"), key.clone())) {
                continue;
            }
            let raw = &text[span.clone()];
            let typo = misspell(&key);
            let written = if raw.starts_with('"') { format!("\"{typo}\"") } else { typo.clone() };
            if raw.trim_matches('"') != key || typo.contains('"') {
                continue;
            }
            let mutated = format!("{}{written}{}", &text[..span.start], &text[span.end..]);
            if toml::from_str::<toml::Value>(&mutated).is_err() {
                continue;
            }
            tried += 1;
            let key_line = text[..span.start].matches('\n').count() + 1;
            let at = format!("{}:{key_line}: {key} -> {typo} (in {parent:?})", path.display());
            let flagged = schema_errors(&validator, &mutated).iter().any(|(instance, _)| *instance == parent);
            let linted = lint::lint_text(Some(kind), "mutated", &path, &mutated, &|_| Ok(None));
            let refusals: Vec<&lint::Finding> = linted.findings.iter().filter(|f| f.blocks).collect();
            let unknown_field = refusals.iter().any(|f| f.message.contains(&format!("unknown field `{typo}`")));
            if flagged {
                assert!(
                    refusals.iter().any(|f| f.line == key_line),
                    "{at}: the schema flags it but gatecheck does not refuse that line: {refusals:#?}"
                );
                *flagged_per_kind.entry(format!("{kind:?}")).or_insert(0) += 1;
            }
            if unknown_field {
                assert!(flagged, "{at}: gatecheck refuses the key but the schema lets it pass");
            }
        }
    }
    eprintln!("misspelled keys tried: {tried}, flagged by the schema per kind: {flagged_per_kind:?}");
    // Every kind is exercised, and most keys of the shipped files are closed-object fields.
    for kind in KINDS {
        assert!(flagged_per_kind.get(&format!("{kind:?}")).is_some_and(|n| *n > 0), "{kind:?}: {flagged_per_kind:?}");
    }
    assert!(tried > 100, "only {tried} key positions tried");
}

#[test]
fn a_misspelled_threshold_key_names_its_line_in_lint_and_its_gate_in_the_schema() {
    let release = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
    let line = release.lines().position(|l| l.starts_with("thresholds = [\"p(95) < 400ms\"")).unwrap() + 1;
    let typo = release.replacen("thresholds = [\"p(95) < 400ms\"", "tresholds = [\"p(95) < 400ms\"", 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("gates")).unwrap();
    let policy = dir.path().join("gates/release.toml");
    std::fs::write(&policy, &typo).unwrap();
    let (_, validator) = schema_of(&repo().join("gates/release.toml"), &typo);
    let errors = schema_errors(&validator, &typo);
    assert!(errors.iter().any(|(at, why)| at == "/gate/0" && why.contains("tresholds")), "{errors:#?}");
    let out = crate::support::gatecheck().arg("lint").arg(&policy).assert().code(2);
    let stdout = crate::support::stdout_of(&out);
    assert!(stdout.contains(&format!("{}:{line}: error: unknown field `tresholds`", policy.display())), "{stdout}");
}
