//! `gatecheck merge --out OUT IN...`: one summary from several runs (CI shards, several load
//! generators). What merging knows about shards, ages and histogram unions lives in
//! `load::merge`; this command picks the inputs' kind and guards the output.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use crate::load::merge::{merge_native, merge_raw};
use crate::policy::Policy;

/// `gatecheck merge --out OUT IN...` as a command: the policy says which raw metrics to keep.
pub fn merge_command(
    args: crate::cli::MergeArgs,
    context: &super::Context<'_>,
    out: &mut dyn std::io::Write,
) -> Result<super::Outcome, Error> {
    let flags = crate::settings::Settings { policy: args.policy, ..Default::default() };
    let plan = crate::settings::resolve(context.config, flags, context.env)?;
    let policy = super::evidence::load_policy(&plan)?;
    let line = merge(&args.out, &args.inputs, &policy)?;
    super::write_out(writeln!(out, "{}", crate::escape::line(&line)))?;
    Ok(super::Outcome::Pass)
}

/// Merges `inputs` into the summary written at `out`; returns a one-line description.
pub fn merge(out: &Path, inputs: &[PathBuf], policy: &Policy) -> Result<String, Error> {
    if inputs.len() < 2 {
        return Err(Error::Settings("merge needs at least two inputs".into()));
    }
    guard_output(out, inputs)?;
    let raw = inputs.iter().filter(|p| crate::sources::k6_ndjson::is_raw_path(p)).count();
    let document = if raw == inputs.len() {
        merge_raw(inputs, policy)?
    } else if raw == 0 {
        merge_native(inputs)?
    } else {
        return Err(Error::Settings("merge takes either native run summaries or k6 raw results, not both".into()));
    };
    let text = crate::load::summary::encode(&document)?;
    crate::report::write_atomically(out, &text)?;
    Ok(format!("merged {} inputs into {}", inputs.len(), out.display()))
}

/// The largest file read to tell whether it is a gatecheck summary; a summary is kilobytes.
const SUMMARY_PROBE_LIMIT: u64 = 64 * 1024 * 1024;

/// Where a merge may write: never one of its inputs (by any path: links and `./` included),
/// and never over an existing file that is not a gatecheck summary (raw results or a k6
/// export replaced by a summary are lost evidence). A summary written by an earlier merge or
/// run may be replaced: that is how CI re-runs a merge step.
fn guard_output(out: &Path, inputs: &[PathBuf]) -> Result<(), Error> {
    // By device and inode from stat (never by opening: an input may be a FIFO, refused later
    // by the input check, which opening here would block on).
    let identity = |path: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    };
    let out_identity = identity(out);
    if let Some(input) = inputs.iter().find(|input| out_identity.is_some() && identity(input) == out_identity) {
        return Err(Error::Settings(format!(
            "merge --out {}: that is the input {}; name a new file for the merged summary",
            out.display(),
            input.display()
        )));
    }
    let Ok(metadata) = std::fs::metadata(out) else { return Ok(()) };
    let is_summary = metadata.is_file()
        && metadata.len() <= SUMMARY_PROBE_LIMIT
        && std::fs::read(out)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|doc| {
                doc.pointer("/gatecheck/runner").and_then(Value::as_str).map(|r| r.starts_with("gatecheck "))
            })
            .unwrap_or(false);
    if is_summary {
        return Ok(());
    }
    Err(Error::Settings(format!(
        "merge --out {}: the file exists and is not a gatecheck summary; it is never overwritten: name a new file",
        out.display()
    )))
}
