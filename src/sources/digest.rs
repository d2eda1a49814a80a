//! What a verdict rests on: the SHA-256 and size of every input file (summary, raw results,
//! baseline, policy, scenario), so an auditor can tell exactly which evidence was judged and
//! history can count the same evidence once.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::policy::verdict::InputFile;

/// Digests a file by streaming it (summaries and raw results can be large).
pub fn file(role: &str, path: &Path) -> Result<InputFile, Error> {
    let shown = path.display().to_string();
    let fail = |source| Error::Read { path: shown.clone(), what: "input file (for its digest)", source };
    let mut reader = crate::input::open(path, "input file")?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = reader.read(&mut buffer).map_err(fail)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    Ok(InputFile { role: role.to_string(), path: shown, sha256: hex(&hasher.finalize()), bytes })
}

/// A reader that digests what passes through it: for standard input, which cannot be read
/// twice.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Hashing<R> {
        Hashing { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// The digest of everything read so far.
    pub fn finish(self, role: &str, name: &str) -> InputFile {
        InputFile {
            role: role.to_string(),
            path: name.to_string(),
            sha256: hex(&self.hasher.finalize()),
            bytes: self.bytes,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

/// What a judgement was judged by besides the policy's text and the evidence: the variables'
/// values and every option that changes a verdict. A pass judged under looser settings is no
/// pass of a stricter judgement, so history compares these as it compares the policy's text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Judging<'a> {
    /// The `--var` overrides in effect, after every layer (settings file, environment, command
    /// line); a variable is given once (`policy::vars`), else the last one is the one in effect.
    pub vars: &'a [(String, String)],
    pub accept_partial_response: bool,
    /// `--no-env`: environment figures ignored.
    pub no_env: bool,
    pub baseline_allow_blocked: bool,
    pub skip_flow: &'a [String],
    pub max_evidence_age: Option<std::time::Duration>,
}

/// The judgement's settings (`Judging`), as one input: a policy judged with other variable
/// values or other verdict-changing options is another policy, whose history records never count
/// for this one (findings round23-judge/01: a run passed under `--var window=1m` counted as a
/// pass of the policy's 10-minute window; round24-judge/01: `--var window=10m --var window=1m`
/// digested as `--var window=1m --var window=10m`, another window in effect). Digested as the
/// values in effect, in name order, `name=value` a line, then each option that is not its
/// default, a line each (`--skip-flow` sorted, `--max-evidence-age` in seconds); nothing set
/// digests the empty text, as a record written without this input is read.
pub fn policy_vars(judging: &Judging<'_>) -> InputFile {
    // The values in effect, whatever order and however often they were given.
    let resolved: std::collections::BTreeMap<&str, &str> =
        judging.vars.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let mut text: String = resolved.iter().map(|(name, value)| format!("{name}={value}\n")).collect();
    // Option lines begin with `--`, which no variable's name does: no `--var` reads as one.
    for (set, option) in [
        (judging.accept_partial_response, "--accept-partial-response"),
        (judging.no_env, "--no-env"),
        (judging.baseline_allow_blocked, "--baseline-allow-blocked"),
    ] {
        if set {
            text.push_str(option);
            text.push('\n');
        }
    }
    let flows: std::collections::BTreeSet<&str> = judging.skip_flow.iter().map(String::as_str).collect();
    for flow in flows {
        text.push_str(&format!("--skip-flow={flow}\n"));
    }
    if let Some(age) = judging.max_evidence_age {
        text.push_str(&format!("--max-evidence-age={}s\n", age.as_secs_f64()));
    }
    bytes(crate::policy::verdict::POLICY_VARS_ROLE, "--var and options", text.as_bytes())
}

/// Digests bytes that have no file of their own (a built-in policy or scenario).
pub fn bytes(role: &str, name: &str, content: &[u8]) -> InputFile {
    InputFile {
        role: role.to_string(),
        path: name.to_string(),
        sha256: hex(&Sha256::digest(content)),
        bytes: content.len() as u64,
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_sha256() {
        let input = bytes("policy", "x", b"abc");
        assert_eq!(input.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(input.bytes, 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(file("summary", &path).unwrap().sha256, input.sha256);
        let mut hashing = Hashing::new(&b"abc"[..]);
        std::io::copy(&mut hashing, &mut std::io::sink()).unwrap();
        assert_eq!(hashing.finish("summary", "standard input").sha256, input.sha256);
    }

    /// The settings a `Judging` stands for: the values in effect, each option as it acts.
    type Settings =
        (std::collections::BTreeMap<String, String>, [bool; 3], std::collections::BTreeSet<String>, Option<u64>);

    fn settings_of(judging: &Judging<'_>) -> Settings {
        (
            judging.vars.iter().cloned().collect(),
            [judging.accept_partial_response, judging.no_env, judging.baseline_allow_blocked],
            judging.skip_flow.iter().cloned().collect(),
            judging.max_evidence_age.map(|age| age.as_secs()),
        )
    }

    type Drawn = (Vec<(String, String)>, [bool; 3], Vec<String>, Option<u64>);

    fn drawn() -> impl proptest::strategy::Strategy<Value = Drawn> {
        use proptest::prelude::*;
        (
            proptest::collection::vec(("[ab]", "[xy]{0,2}"), 0..4),
            any::<[bool; 3]>(),
            proptest::collection::vec("[ab]", 0..3),
            proptest::option::of(1u64..3),
        )
    }

    fn judging(drawn: &Drawn) -> Judging<'_> {
        Judging {
            vars: &drawn.0,
            accept_partial_response: drawn.1[0],
            no_env: drawn.1[1],
            baseline_allow_blocked: drawn.1[2],
            skip_flow: &drawn.2,
            max_evidence_age: drawn.3.map(std::time::Duration::from_secs),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Finding round24-judge/01, the class: two judgements digest alike exactly when the
        /// values in effect (the last given of each variable) and every verdict-changing option
        /// are the same, whatever order or spelling they were given in.
        #[test]
        fn two_judgements_digest_alike_exactly_when_their_settings_in_effect_are_the_same(a in drawn(), b in drawn()) {
            let (one, other) = (judging(&a), judging(&b));
            proptest::prop_assert_eq!(
                policy_vars(&one).sha256 == policy_vars(&other).sha256,
                settings_of(&one) == settings_of(&other),
                "{:?} {:?}", a, b
            );
        }
    }

    #[test]
    fn the_value_in_effect_is_digested_not_the_arguments() {
        let pairs =
            |list: &[(&str, &str)]| list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>();
        let short = pairs(&[("window", "10m"), ("window", "1m")]);
        let long = pairs(&[("window", "1m"), ("window", "10m")]);
        let digest = |vars| policy_vars(&Judging { vars, ..Judging::default() }).sha256;
        assert_ne!(digest(&short), digest(&long));
        assert_eq!(digest(&short), digest(&pairs(&[("window", "1m")])));
        assert_eq!(policy_vars(&Judging::default()).bytes, 0, "nothing set is the empty text");
    }
}
