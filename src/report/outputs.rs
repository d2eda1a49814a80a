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
    /// `--history DIR`: the directory and the temporary claimed in it for the record.
    history: Option<(PathBuf, NamedTempFile)>,
}

impl Outputs {
    /// The table's `--verbose` and `--only-failures`.
    pub fn with_view(mut self, verbose: bool, only_failures: bool) -> Outputs {
        self.view.verbose = verbose;
        self.view.only_failures = only_failures;
        self
    }

    /// Records the verdict in `dir` (`--history`) as well; the directory is claimed now, so one
    /// that cannot be written fails before any work.
    pub fn with_history(mut self, dir: Option<&Path>) -> Result<Outputs, Error> {
        if let Some(dir) = dir {
            let claimed = super::Staged::claim(&dir.join("history-record.json")).map_err(|error| match error {
                Error::Write { source, .. } => Error::Write { path: format!("--history {}", dir.display()), source },
                other => other,
            })?;
            self.history = Some((dir.to_path_buf(), claimed));
        }
        Ok(self)
    }

    /// Claims every file now. `env` supplies GITHUB_STEP_SUMMARY and GITHUB_ACTIONS.
    pub fn claim(specs: &[ReportSpec], env: &crate::env::Lookup<'_>) -> Result<Outputs, Error> {
        let mut claimed = Vec::new();
        for spec in specs {
            let target = match &spec.path {
                None => None,
                Some(path) => Some((path.clone(), super::Staged::claim(path)?)),
            };
            claimed.push(Claimed { format: spec.format, target });
        }
        let step_summary = env("GITHUB_STEP_SUMMARY")?.filter(|p| !p.trim().is_empty()).map(PathBuf::from);
        if let Some(path) = &step_summary {
            // Appended to, never replaced: other steps write to the same file.
            std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(step_summary_error(path))?;
        }
        let annotations = env("GITHUB_ACTIONS")?.is_some_and(|v| v == "true");
        Ok(Outputs { view: super::table::View::default(), claimed, step_summary, annotations, history: None })
    }

    /// The one home that writes every output of a verdict: the `--report` files, the history
    /// record, standard-output reports and annotations (to `out`) and the step summary. The
    /// files are staged first and renamed into place only when every output was written; on
    /// any failure none is kept, the step summary is cut back to what it held, and `out` ends
    /// on a line saying the verdict printed above was not recorded. So the outputs and the
    /// exit code always agree (findings round12-text/02, round12-judge/04).
    pub fn write(self, verdict: &Verdict, out: &mut dyn Write) -> Result<(), Error> {
        let result = self.write_all(verdict, out);
        if let Err(error) = &result {
            // Best effort: standard output may be what failed.
            let _ = writeln!(
                out,
                "NOT RECORDED: the verdict above could not be written to every output ({}); no report, history \
                 record or step summary of it was kept, exit 2",
                crate::escape::line(&error.to_string())
            );
            let _ = out.flush();
        }
        result
    }

    fn write_all(self, verdict: &Verdict, out: &mut dyn Write) -> Result<(), Error> {
        let now = time::OffsetDateTime::now_utc();
        let generated_at = crate::metrics::rfc3339(now.unix_timestamp());
        let stdout_error = |source| Error::Write { path: "standard output".into(), source };
        let mut staged = super::Staged::default();
        let mut to_stdout = Vec::new();
        for claimed in self.claimed {
            let text = claimed.format.render(verdict, &generated_at);
            match claimed.target {
                None => to_stdout.push(text),
                Some((path, file)) => staged.stage_claimed(&path, file, text.as_bytes())?,
            }
        }
        if let Some((dir, file)) = self.history {
            let (path, text) = history_record(&dir, verdict, now)?;
            staged.stage_claimed(&path, file, text.as_bytes())?;
        }
        for text in to_stdout {
            out.write_all(text.as_bytes()).map_err(stdout_error)?;
        }
        if self.annotations {
            out.write_all(super::github::render(verdict).as_bytes()).map_err(stdout_error)?;
        }
        out.flush().map_err(stdout_error)?;
        let appended = match &self.step_summary {
            Some(path) => Some(append_step_summary(path, &super::markdown::render(verdict))?),
            None => None,
        };
        if let Err(error) = staged.commit() {
            if let Some((file, before)) = appended {
                let _ = file.set_len(before);
            }
            return Err(error);
        }
        Ok(())
    }
}

fn step_summary_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write { path: format!("GITHUB_STEP_SUMMARY ({})", path.display()), source }
}

/// Appends `text` to the step summary; returns the file and its length before, to cut it back
/// when a later output fails. A write that fails part-way is cut back here.
fn append_step_summary(path: &Path, text: &str) -> Result<(std::fs::File, u64), Error> {
    let text = super::without_credentials(text.as_bytes()).map_err(step_summary_error(path))?;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).map_err(step_summary_error(path))?;
    let before = file.metadata().map(|m| m.len()).unwrap_or(0);
    if let Err(source) = file.write_all(&text) {
        // Best effort: a device (/dev/full) has no length to cut back to.
        let _ = file.set_len(before);
        return Err(step_summary_error(path)(source));
    }
    Ok((file, before))
}

/// A verdict's history record: `<UTC time>-<policy>.json` in `dir`, and its text.
fn history_record(dir: &Path, verdict: &Verdict, now: time::OffsetDateTime) -> Result<(PathBuf, String), Error> {
    let generated_at = crate::metrics::rfc3339(now.unix_timestamp());
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:09}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.nanosecond()
    );
    // Policy names are checked at load to be plain names; refuse anything else here too.
    let name = &verdict.policy;
    // The file name is not a text the scrubber sees: a name quoting a credential names no file
    // (policies are refused at load too; this is where every record's name is made).
    crate::secret::name_quotes_no_credential("policy name", name).map_err(Error::Settings)?;
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Err(Error::Settings(format!("policy name {name:?} cannot name a history record")));
    }
    Ok((dir.join(format!("{stamp}-{name}.json")), super::json::render(verdict, &generated_at)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn verdict() -> Verdict {
        Verdict::of_rows("outputs", vec![])
    }

    /// Finding round21-text/02: a history record's file name is made from the policy name, and
    /// a file name is no text the scrubber sees: a name quoting a credential names no record.
    #[test]
    fn a_policy_name_quoting_a_credential_names_no_history_record() {
        let _kept = crate::secret::Secret::new("hIstoryName7Cred5x4w3");
        let dir = tempfile::tempdir().unwrap();
        let mut quoting = verdict();
        quoting.policy = "rel-hIstoryName7Cred5x4w3".into();
        let refused = history_record(dir.path(), &quoting, time::OffsetDateTime::UNIX_EPOCH).unwrap_err().to_string();
        assert!(refused.contains("quotes a credential") && !refused.contains("Name7Cred"), "{refused}");
        let (path, _) = history_record(dir.path(), &verdict(), time::OffsetDateTime::UNIX_EPOCH).unwrap();
        assert!(path.ends_with("19700101T000000.000000000Z-outputs.json"), "{path:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Findings round12-text/02, round12-judge/04, as a class: whichever output of a
        /// verdict fails (any report file, the history record, the step summary), no report
        /// and no record is left, the step summary holds what it held, and `out` ends on the
        /// line saying the verdict was not recorded.
        #[test]
        fn one_failed_output_leaves_none(formats in proptest::collection::vec(0usize..4, 1..4), failing in 0usize..6) {
            let dir = tempfile::tempdir().unwrap();
            let all = [Format::Json, Format::Junit, Format::Markdown, Format::Html];
            let specs: Vec<ReportSpec> = formats
                .iter()
                .enumerate()
                .map(|(i, f)| ReportSpec { format: all[*f], path: Some(dir.path().join(format!("report-{i}"))) })
                .collect();
            let step_summary = dir.path().join("step-summary.md");
            std::fs::write(&step_summary, "earlier\n").unwrap();
            let history = dir.path().join("history");
            let summary_var = step_summary.display().to_string();
            let env = move |name: &str| Ok((name == "GITHUB_STEP_SUMMARY").then(|| summary_var.clone()));
            let outputs = Outputs::claim(&specs, &env).unwrap().with_history(Some(&history)).unwrap();
            // The failure, after everything was claimed: a report's target (or the history
            // directory's place) taken by a directory, or the step summary made a directory.
            let failing = failing % (specs.len() + 2);
            if failing < specs.len() {
                std::fs::create_dir(specs[failing].path.as_ref().unwrap()).unwrap();
            } else if failing == specs.len() {
                std::fs::remove_dir_all(&history).unwrap();
                std::fs::write(&history, "").unwrap();
            } else {
                std::fs::remove_file(&step_summary).unwrap();
                std::fs::create_dir(&step_summary).unwrap();
            }
            let mut out = Vec::new();
            prop_assert!(outputs.write(&verdict(), &mut out).is_err());
            for (i, spec) in specs.iter().enumerate() {
                let path = spec.path.as_ref().unwrap();
                prop_assert!(i == failing || !path.exists(), "report {} kept", path.display());
            }
            if failing != specs.len() {
                prop_assert_eq!(std::fs::read_dir(&history).unwrap().count(), 0);
            }
            if failing != specs.len() + 1 {
                prop_assert_eq!(std::fs::read_to_string(&step_summary).unwrap(), "earlier\n");
            }
            let out = String::from_utf8(out).unwrap();
            prop_assert!(out.lines().last().unwrap_or_default().starts_with("NOT RECORDED"), "{}", out);
        }
    }
}
