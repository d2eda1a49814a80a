//! `gatecheck ci resolve`: settles PERF_BASE_URL and PERF_RULE_ID for a workflow run, in the
//! order workflow_dispatch input -> `perf-smoke` environment variable -> repository variable,
//! checks the bearer token is there, prints a diagnostic that never shows a value, and writes
//! the results to $GITHUB_ENV.
//!
//! The workflow passes each layer in its own variable: `INPUT_<NAME>`, `ENVIRONMENT_<NAME>`,
//! `REPOSITORY_<NAME>`; an empty value counts as unset.

use std::io::Write;

use crate::error::Error;

/// Where a resolved value came from, highest precedence first.
pub const LAYERS: [(&str, &str); 3] = [
    ("INPUT_", "workflow_dispatch input"),
    ("ENVIRONMENT_", "perf-smoke environment variable"),
    ("REPOSITORY_", "repository variable"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: &'static str,
    /// The value and the layer that gave it.
    pub value: Option<(String, &'static str)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub base_url: Resolved,
    pub rule_id: Resolved,
    pub token_present: bool,
}

fn resolve_one(name: &'static str, env: &crate::env::Lookup<'_>) -> Result<Resolved, Error> {
    for (prefix, layer) in LAYERS {
        let value = env(&format!("{prefix}{name}"))?.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(value) = value {
            return Ok(Resolved { name, value: Some((value, layer)) });
        }
    }
    Ok(Resolved { name, value: None })
}

/// Pure: what the environment resolves to.
pub fn resolve(env: &crate::env::Lookup<'_>) -> Result<Resolution, Error> {
    Ok(Resolution {
        base_url: resolve_one("PERF_BASE_URL", env)?,
        rule_id: resolve_one("PERF_RULE_ID", env)?,
        token_present: env("PERF_BEARER_TOKEN")?.is_some_and(|t| !t.trim().is_empty()),
    })
}

impl Resolution {
    /// One line per variable: set or not and which layer won; never a value.
    pub fn diagnostic(&self) -> Vec<String> {
        let mut lines: Vec<String> = [&self.base_url, &self.rule_id]
            .iter()
            .map(|r| match &r.value {
                Some((_, layer)) => format!("{}: set (from the {layer})", r.name),
                None => format!("{}: not set (no workflow input, environment or repository variable)", r.name),
            })
            .collect();
        lines.push(format!(
            "PERF_BEARER_TOKEN: {}",
            if self.token_present { "set (secret, not shown)" } else { "NOT SET (environment secret of perf-smoke)" }
        ));
        lines
    }

    /// The failures that stop the workflow.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.base_url.value.is_none() {
            problems.push(
                "PERF_BASE_URL is unresolved: give the perf_base_url input or set the PERF_BASE_URL variable"
                    .to_string(),
            );
        }
        if !self.token_present {
            problems.push("PERF_BEARER_TOKEN is missing: add it as a secret of the perf-smoke environment".to_string());
        }
        problems
    }

    /// `NAME=value` lines for $GITHUB_ENV; a value with a newline could inject variables.
    pub fn github_env_lines(&self) -> Result<String, Error> {
        let mut text = String::new();
        for resolved in [&self.base_url, &self.rule_id] {
            if let Some((value, _)) = &resolved.value {
                if value.contains(['\n', '\r']) {
                    return Err(Error::Settings(format!(
                        "{} holds a line break: refusing to write it to GITHUB_ENV",
                        resolved.name
                    )));
                }
                // Later steps read these as plain variables (never masked as secrets): no
                // credential goes there, in a URL's userinfo or any form the scrubber knows
                // (finding round20-text/03).
                crate::input::refuse_url_credentials(
                    &format!("{} (for GITHUB_ENV)", resolved.name),
                    value,
                    "the bearer token stays in PERF_BEARER_TOKEN, a secret",
                )?;
                if crate::secret::holds_credential(value) {
                    return Err(Error::Settings(format!(
                        "{} quotes a credential: refusing to write it to GITHUB_ENV",
                        resolved.name
                    )));
                }
                text.push_str(&format!("{}={value}\n", resolved.name));
            }
        }
        Ok(text)
    }
}

/// The command: diagnostic, then `$GITHUB_ENV`, or exit 2 when the run cannot go ahead.
pub fn run(env: &crate::env::Lookup<'_>, out: &mut dyn Write) -> Result<(), Error> {
    let resolution = resolve(env)?;
    for line in resolution.diagnostic() {
        super::write_out(writeln!(out, "{line}"))?;
    }
    if resolution.rule_id.value.is_none() && env("PERF_ENABLE_RULE_RUN")?.as_deref().map(str::trim) != Some("0") {
        super::write_out(writeln!(
            out,
            "note: without PERF_RULE_ID the rule_poll flow refuses to start unless PERF_ENABLE_RULE_RUN=0"
        ))?;
    }
    let problems = resolution.problems();
    if !problems.is_empty() {
        return Err(Error::Settings(problems.join("; ")));
    }
    match env("GITHUB_ENV")?.filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            let lines = resolution.github_env_lines()?;
            let fail = |source| Error::Write { path: format!("GITHUB_ENV ({path})"), source };
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(fail)?;
            file.write_all(lines.as_bytes()).map_err(fail)?;
            super::write_out(writeln!(out, "resolved values written to GITHUB_ENV"))?;
        }
        None => super::write_out(writeln!(out, "GITHUB_ENV is not set: nothing written (outside GitHub Actions)"))?,
    }
    Ok(())
}

/// `gatecheck ci resolve` as a command.
pub fn resolve_command(context: &super::Context<'_>, out: &mut dyn Write) -> Result<super::Outcome, Error> {
    run(context.env, out)?;
    Ok(super::Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: Vec<(String, String)>) -> impl Fn(&str) -> Result<Option<String>, Error> {
        move |name| Ok(pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    /// Every combination of the three layers for both variables, with and without the token.
    #[test]
    fn every_combination_resolves_by_precedence() {
        for mask in 0..8u8 {
            for token in [false, true] {
                let mut pairs = Vec::new();
                for (bit, (prefix, _)) in LAYERS.iter().enumerate() {
                    if mask & (1 << bit) != 0 {
                        pairs.push((format!("{prefix}PERF_BASE_URL"), format!("http://{prefix}")));
                        pairs.push((format!("{prefix}PERF_RULE_ID"), format!("rule-{prefix}")));
                    }
                }
                if token {
                    pairs.push(("PERF_BEARER_TOKEN".into(), "s3cret-token".into()));
                }
                let resolution = resolve(&env_of(pairs)).unwrap();
                let winner = (0..3).find(|bit| mask & (1 << bit) != 0);
                match winner {
                    Some(bit) => {
                        let (prefix, layer) = LAYERS[bit];
                        assert_eq!(resolution.base_url.value, Some((format!("http://{prefix}"), layer)), "mask {mask}");
                        assert_eq!(resolution.rule_id.value, Some((format!("rule-{prefix}"), layer)), "mask {mask}");
                    }
                    None => {
                        assert_eq!(resolution.base_url.value, None);
                        assert!(resolution.problems().iter().any(|p| p.contains("PERF_BASE_URL is unresolved")));
                    }
                }
                assert_eq!(resolution.token_present, token);
                assert_eq!(resolution.problems().iter().any(|p| p.contains("PERF_BEARER_TOKEN")), !token);
                let diagnostic = resolution.diagnostic().join("\n");
                assert!(
                    !diagnostic.contains("s3cret") && !diagnostic.contains("http://"),
                    "values never shown: {diagnostic}"
                );
            }
        }
    }

    #[test]
    fn empty_layers_fall_through_and_line_breaks_are_refused() {
        let env = env_of(vec![
            ("INPUT_PERF_BASE_URL".into(), "  ".into()),
            ("ENVIRONMENT_PERF_BASE_URL".into(), "http://env".into()),
        ]);
        assert_eq!(
            resolve(&env).unwrap().base_url.value,
            Some(("http://env".into(), "perf-smoke environment variable"))
        );
        let env = env_of(vec![("INPUT_PERF_BASE_URL".into(), "http://a\nEVIL=1".into())]);
        assert!(resolve(&env).unwrap().github_env_lines().is_err());
    }
}
