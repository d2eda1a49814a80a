//! Outputs: renderers are pure functions of a verdict (or policy) writing into any `Write`.

pub mod compare;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod outputs;
pub mod policy_text;
pub mod probe;
pub mod table;

/// The verdict word of a row in every format; a NO DATA row that does not block says so.
pub fn verdict_label(row: &crate::policy::verdict::Row) -> &'static str {
    use crate::policy::verdict::Status;
    match row.status {
        Status::NoData if !row.blocking => "NO DATA (warn)",
        status => status.label(),
    }
}

use std::io::IsTerminal;

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// NO_COLOR (any non-empty value) wins over everything; `auto` colours only a terminal.
    pub fn enabled(self, no_color_env: Option<&str>) -> bool {
        if no_color_env.is_some_and(|v| !v.is_empty()) {
            return false;
        }
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal(),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// a crash or Ctrl-C never leaves a truncated artifact. Creates the directory when missing.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), crate::error::Error> {
    use std::io::Write;
    let fail = |source| crate::error::Error::Write { path: path.display().to_string(), source };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    temp.write_all(bytes).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
