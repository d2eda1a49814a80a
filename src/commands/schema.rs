//! `gatecheck schema KIND`: the JSON Schema of each kind of file gatecheck reads, derived from
//! the very structs that parse it (schemars follows their serde attributes: renames, defaults,
//! `deny_unknown_fields`), so an editor flags exactly the keys gatecheck refuses. The copies
//! shipped under `schemas/` are this output; a test keeps them equal.

use std::io::Write;

use crate::cli::{FileKind, SchemaArgs};
use crate::error::Error;

use super::{write_out, Outcome};

pub fn schema_command(args: SchemaArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let text = schema_text(args.kind);
    write_out(out.write_all(text.as_bytes()))?;
    Ok(Outcome::Pass)
}

/// Where the shipped copy lives, relative to the repository (and to `#:schema` directives).
pub fn file_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Policy => "policy.schema.json",
        FileKind::Scenario => "scenario.schema.json",
        FileKind::Settings => "settings.schema.json",
        FileKind::Waivers => "waivers.schema.json",
        FileKind::PolicyTest => "policy-test.schema.json",
    }
}

fn title(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Policy => "gatecheck policy",
        FileKind::Scenario => "gatecheck load scenario",
        FileKind::Settings => "gatecheck settings (gatecheck.toml)",
        FileKind::Waivers => "gatecheck waivers",
        FileKind::PolicyTest => "gatecheck policy test",
    }
}

/// The schema as shipped: pretty JSON with a stable `$id`, ending in a newline.
pub fn schema_text(kind: FileKind) -> String {
    let mut schema = match kind {
        FileKind::Policy => crate::policy::json_schema(),
        FileKind::Scenario => crate::load::plan::json_schema(),
        FileKind::Settings => crate::settings::json_schema(),
        FileKind::Waivers => crate::policy::waiver::json_schema(),
        FileKind::PolicyTest => super::test::json_schema(),
    };
    schema.insert("$id".into(), format!("https://gatecheck.invalid/schemas/{}", file_name(kind)).into());
    schema.insert("title".into(), title(kind).into());
    // Serialising a JSON value cannot fail; an empty object would be a schema that allows all.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
