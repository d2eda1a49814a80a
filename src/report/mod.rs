//! Outputs: renderers are pure functions of a verdict (or policy) writing into any `Write`.

pub mod policy_text;
pub mod probe;
pub mod table;

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
