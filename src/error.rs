//! Library errors. Each message is one line that names the file, key, flag or variable at
//! fault and says what was expected. Every error means "could not evaluate": exit code 2,
//! distinct from a breached gate (1).

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {path}: cannot read: {source}")]
    Read { path: String, what: &'static str, source: io::Error },

    #[error("{path}: cannot write: {source}")]
    Write { path: String, source: io::Error },

    /// A summary or other evidence file that is malformed.
    #[error("{path}: {message}")]
    Evidence { path: String, message: String },

    /// A policy file that does not say something gatecheck can check.
    #[error("policy {path}: {message}")]
    Policy { path: String, message: String },

    /// An environment variable that is set but does not hold what it must. The one home of the
    /// rule that such a message names the variable and what was expected, never the value: a
    /// file (a policy's `switch_env` or `[gate.env]`) may name any variable, and a CI job holds
    /// credentials gatecheck does not know by name or shape (finding round36-text/02:
    /// `RAILS_MASTER_KEY`'s value was printed), so no value is carried here to be shown.
    #[error("environment variable {name} (its value not shown): {expected}")]
    Env { name: String, expected: String },

    /// An environment variable whose value is not UTF-8: never read as unset, never shown.
    #[error("environment variable {name}: the value is not UTF-8 text (not shown); set it to text or unset it")]
    EnvNotText { name: String },

    /// A Prometheus server that could not be reached or did not answer as the API does.
    #[error("prometheus {url}: {message}")]
    Prometheus { url: String, message: String },

    /// A server nobody answers at: said first, with what to check, whichever query asked.
    #[error("cannot connect to {url} ({reason}): {hint}")]
    Unreachable { url: String, reason: String, hint: String },

    /// A query the server rejected (HTTP 4xx): the policy must be fixed.
    #[error("gate {gate:?}: Prometheus rejected the query {query:?}: {message}")]
    Query { gate: String, query: String, message: String },

    /// A load scenario file that does not describe a runnable load.
    #[error("scenario {path}: {message}")]
    Scenario { path: String, message: String },

    /// A waiver file that does not say who signed off what until when, or asks for too long.
    #[error("waivers {path}: {message}")]
    Waiver { path: String, message: String },

    /// `gatecheck lint` found something that must be fixed (each finding was printed).
    #[error("lint: {errors} finding(s) must be fixed before the files can gate a release")]
    Lint { errors: usize },

    /// Settings (config file, GATECHECK_* variables, flags) that do not fit together.
    #[error("{0}")]
    Settings(String),
}

impl Error {
    /// The process exit code for this error: always 2, "could not evaluate".
    pub fn exit_code(&self) -> i32 {
        2
    }
}
