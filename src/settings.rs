//! Merges defaults < config file < GATECHECK_* environment < flags (figment) into a validated
//! plan. Raw settings stop here; the rest of the program sees typed values only.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::report::ColorChoice;

pub const DEFAULT_SUMMARY: &str = "artifacts/perf/k6-summary.json";
pub const DEFAULT_POLICY: &str = "gates/release.toml";
pub const DEFAULT_CONFIG: &str = "gatecheck.toml";

/// Everything a setting can be, as the layers write it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<ColorChoice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_flow: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_env: Option<bool>,
}

/// Where the policy comes from once settings are merged.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySource {
    File(PathBuf),
    BuiltinRelease,
}

/// Validated settings for one command.
#[derive(Debug, Clone)]
pub struct Plan {
    pub policy: PolicySource,
    pub summary: PathBuf,
    /// True when the summary path was not chosen by the user (flag, config, env).
    pub summary_is_default: bool,
    pub color: ColorChoice,
    pub skip_flow: Vec<String>,
    pub ignore_env_figures: bool,
}

/// `env` is the process environment as a lookup, so layering is testable.
pub fn resolve(
    config: Option<&Path>,
    flags: Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, Error> {
    let mut figment = Figment::new();
    match config {
        Some(path) if !path.is_file() => {
            return Err(Error::Settings(format!(
                "--config {}: no such file",
                path.display()
            )));
        }
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_CONFIG).is_file() => {
            figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG))
        }
        None => {}
    }
    // GATECHECK_CONFIG is read by the CLI layer, not a setting.
    figment = figment
        .merge(Env::prefixed("GATECHECK_").ignore(&["config"]))
        .merge(Serialized::defaults(flags));
    let merged: Settings = figment
        .extract()
        .map_err(|e| Error::Settings(one_line_figment_error(&e)))?;

    let policy = match merged.policy {
        Some(path) => PolicySource::File(path),
        None if Path::new(DEFAULT_POLICY).is_file() => {
            PolicySource::File(PathBuf::from(DEFAULT_POLICY))
        }
        None => PolicySource::BuiltinRelease,
    };
    let k6_summary_path = env("K6_SUMMARY_PATH").filter(|v| !v.trim().is_empty());
    let (summary, summary_is_default) = match (merged.summary, k6_summary_path) {
        (Some(path), _) => (path, false),
        (None, Some(path)) => (PathBuf::from(path), false),
        (None, None) => (PathBuf::from(DEFAULT_SUMMARY), true),
    };
    Ok(Plan {
        policy,
        summary,
        summary_is_default,
        color: merged.color.unwrap_or(ColorChoice::Auto),
        skip_flow: merged.skip_flow,
        ignore_env_figures: merged.no_env.unwrap_or(false),
    })
}

fn one_line_figment_error(error: &figment::Error) -> String {
    let first = error
        .clone()
        .into_iter()
        .next()
        .unwrap_or_else(|| error.clone());
    format!("settings: {}", first.to_string().replace('\n', " "))
}
