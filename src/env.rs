//! The process environment, read in one place. Every variable gatecheck reads is text: summary
//! paths (K6_SUMMARY_PATH, ...), figure variables a policy names in `[gate.env]`, flow switches,
//! PERF_* scenario variables and tokens, GATECHECK_* settings. A value that is not UTF-8 is an
//! input error naming the variable (exit 2; the value is never shown), not "unset": read as
//! unset, `K6_SUMMARY_PATH=<bytes>` fell back to the default summary and judged another file.

use crate::error::Error;

/// The environment as a lookup by name: the process's (`var`) or, in tests, a table. `Ok(None)`
/// is unset; an error is a value gatecheck cannot read.
pub type Lookup<'a> = dyn Fn(&str) -> Result<Option<String>, Error> + 'a;

/// The one reading of a process environment variable.
pub fn var(name: &str) -> Result<Option<String>, Error> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value.into_string().map(Some).map_err(|_| Error::EnvNotText { name: name.to_string() }),
    }
}

/// The settings layer (figment) reads GATECHECK_* variables itself, case-insensitively and
/// replacing bytes that are not UTF-8: each variable it would read (`is_setting` says which) is
/// read through `var` first, so the same rule refuses it before figment guesses.
pub fn check_settings(is_setting: impl Fn(&str) -> bool) -> Result<(), Error> {
    for (name, _) in std::env::vars_os() {
        // A name that is not UTF-8 names no setting.
        if let Some(name) = name.to_str().filter(|name| is_setting(name)) {
            var(name)?;
        }
    }
    Ok(())
}
