//! Report destinations: `--report FORMAT=PATH` (any number; `-` is standard output), the
//! GitHub step summary and annotations. Files are claimed before any work starts — a temporary
//! file beside each target — so a bad path fails fast, and are renamed into place at the end
//! so a crash never leaves a truncated report.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;
use crate::policy::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Junit,
    Markdown,
    Html,
}

impl Format {
    fn render(self, verdict: &Verdict, generated_at: &str) -> String {
        match self {
            Format::Json => super::json::render(verdict, generated_at),
            Format::Junit => super::junit::render(verdict, generated_at),
            Format::Markdown => super::markdown::render(verdict),
            Format::Html => super::html::render(verdict, generated_at),
        }
    }
}

/// One `--report` flag as given.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    pub format: Format,
    /// None for standard output.
    pub path: Option<PathBuf>,
}

impl std::str::FromStr for ReportSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (format, path) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected FORMAT=PATH, e.g. json=verdict.json or junit=-"))?;
        let format = match format.trim() {
            "json" => Format::Json,
            "junit" => Format::Junit,
            "markdown" | "md" => Format::Markdown,
            "html" => Format::Html,
            other => return Err(format!("unknown report format {other:?}: expected json, junit, markdown or html")),
        };
        let path = match path.trim() {
            "" => return Err(format!("{text:?}: the path is empty (use - for standard output)")),
            "-" => None,
            path => Some(PathBuf::from(path)),
        };
        Ok(ReportSpec { format, path })
    }
}

struct Claimed {
    format: Format,
    target: Option<(PathBuf, NamedTempFile)>,
}

/// Every destination of one command, claimed up front.
pub struct Outputs {
    /// How the terminal table is shown (`--verbose`, `--only-failures`); colour and width are
    /// the caller's to fill in from the terminal.
    pub view: super::table::View,
    claimed: Vec<Claimed>,
    step_summary: Option<PathBuf>,
    annotations: bool,
}

impl Outputs {
    /// The table's `--verbose` and `--only-failures`.
    pub fn with_view(mut self, verbose: bool, only_failures: bool) -> Outputs {
        self.view.verbose = verbose;
        self.view.only_failures = only_failures;
        self
    }

    /// Claims every file now. `env` supplies GITHUB_STEP_SUMMARY and GITHUB_ACTIONS.
    pub fn claim(specs: &[ReportSpec], env: &crate::env::Lookup<'_>) -> Result<Outputs, Error> {
        let mut claimed = Vec::new();
        for spec in specs {
            let target = match &spec.path {
                None => None,
                Some(path) => Some((path.clone(), claim_file(path)?)),
            };
            claimed.push(Claimed { format: spec.format, target });
        }
        let step_summary = env("GITHUB_STEP_SUMMARY")?.filter(|p| !p.trim().is_empty()).map(PathBuf::from);
        if let Some(path) = &step_summary {
            // Appended to, never replaced: other steps write to the same file.
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| Error::Write { path: format!("GITHUB_STEP_SUMMARY ({})", path.display()), source })?;
        }
        let annotations = env("GITHUB_ACTIONS")?.is_some_and(|v| v == "true");
        Ok(Outputs { view: super::table::View::default(), claimed, step_summary, annotations })
    }

    /// Writes every report of `verdict`; standard-output reports go to `out`.
    pub fn write(self, verdict: &Verdict, out: &mut dyn Write) -> Result<(), Error> {
        let generated_at = crate::metrics::rfc3339(time::OffsetDateTime::now_utc().unix_timestamp());
        let stdout_error = |source| Error::Write { path: "standard output".into(), source };
        for claimed in self.claimed {
            let text = claimed.format.render(verdict, &generated_at);
            match claimed.target {
                None => out.write_all(text.as_bytes()).map_err(stdout_error)?,
                Some((path, mut file)) => {
                    let fail = |source| Error::Write { path: path.display().to_string(), source };
                    file.write_all(text.as_bytes()).map_err(fail)?;
                    file.as_file().sync_all().map_err(fail)?;
                    file.persist(&path).map_err(|e| fail(e.error))?;
                }
            }
        }
        if let Some(path) = self.step_summary {
            let text = super::markdown::render(verdict);
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|source| Error::Write { path: format!("GITHUB_STEP_SUMMARY ({})", path.display()), source })?;
            file.write_all(text.as_bytes())
                .map_err(|source| Error::Write { path: format!("GITHUB_STEP_SUMMARY ({})", path.display()), source })?;
        }
        if self.annotations {
            out.write_all(super::github::render(verdict).as_bytes()).map_err(stdout_error)?;
        }
        Ok(())
    }
}

fn claim_file(path: &Path) -> Result<NamedTempFile, Error> {
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    if path.is_dir() {
        return Err(fail(std::io::Error::other("is a directory")));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    super::temporary_beside(path, &dir).map_err(fail)
}
