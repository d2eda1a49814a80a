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

/// What a judgement was judged by besides the policy's text and the evidence: the settings IN
/// EFFECT (never the flags as given), so two judgements that judge alike digest alike and a pass
/// judged under looser settings is no pass of a stricter judgement (history compares this digest
/// for passes; a blocked record counts whatever it was judged with, `sources::history`).
///
/// The flags of the judging commands (`verify`, `run`, `smoke`, `check`), audited:
/// - in the digest, each as its effect: every policy variable's value in effect after every
///   layer, defaults included (`--var`, a settings file's `var`); every optional flow that is
///   off, whatever switched it (`--skip-flow`, the policy's `switch_env` variable, a native
///   summary's `skipped_flows`); `--raw-lenient` (a raw file cut mid-line is exit 2 strictly,
///   judged leniently); `--accept-partial-response`; `--no-env` (environment figures ignored);
///   `--baseline-allow-blocked`; `--max-evidence-age` (absent or its value).
/// - not in it: the evidence itself (`--summary`, `--raw`, `--baseline`, Prometheus and its
///   `--at`, the load flags of `run`/`smoke`), which history tells apart by run
///   (`evidence_runs`, `run_span`), and a re-judged run stands as its worst judgement; `--at`
///   chooses the windows queried, i.e. which run is judged, and is refused before the run's
///   end. `--waivers`: a waived pass is recorded WAIVED and counts only for a gate saying
///   `count_waived = true`, whatever file waived it (the file is an input of its own).
///   `--history`, `--report`, `--verbose`, `--only-failures`, `--color`, `--config` (its
///   settings are digested as they act): where a verdict goes and how it is shown. Prometheus
///   connection flags (URL, headers, token, CA, timeout, retries): how the evidence is fetched;
///   a failure to fetch is NO DATA, blocked. `check`'s `--watch`/`--interval`/`--require`:
///   `check` records no history.
#[derive(Debug, Clone, Default)]
pub struct Judging<'a> {
    /// Every policy variable's value in effect (`Policy::vars_in_effect`).
    pub vars: Option<&'a std::collections::BTreeMap<String, String>>,
    /// The optional flows that are off, whatever switched them.
    pub flows_off: Vec<&'a str>,
    pub raw_lenient: bool,
    pub accept_partial_response: bool,
    /// `--no-env`: environment figures ignored.
    pub no_env: bool,
    pub baseline_allow_blocked: bool,
    pub max_evidence_age: Option<std::time::Duration>,
    /// Nothing given: every variable at its default, every flow as the policy sets it, no
    /// option. Only what the input is called (`verdict::POLICY_AS_WRITTEN`, which the table leaves out), never
    /// its digest.
    pub as_written: bool,
}

/// The judgement's settings in effect (`Judging`), as one input (findings round23-judge/01,
/// round24-judge/01, round25-judge/01..03). Digested as each variable's value in effect, in name
/// order, `name=value` a line, then each option that is not its default, a line each, then each
/// flow that is off (`flow NAME=off`, sorted); nothing set digests the empty text, as a record
/// written without this input is read.
pub fn policy_vars(judging: &Judging<'_>) -> InputFile {
    let mut text: String =
        judging.vars.into_iter().flatten().map(|(name, value)| format!("{name}={value}\n")).collect();
    // Option lines begin with `--`, which no variable's name does: no `--var` reads as one.
    for (set, option) in [
        (judging.raw_lenient, "--raw-lenient"),
        (judging.accept_partial_response, "--accept-partial-response"),
        (judging.no_env, "--no-env"),
        (judging.baseline_allow_blocked, "--baseline-allow-blocked"),
    ] {
        if set {
            text.push_str(option);
            text.push('\n');
        }
    }
    if let Some(age) = judging.max_evidence_age {
        text.push_str(&format!("--max-evidence-age={}s\n", age.as_secs_f64()));
    }
    let flows: std::collections::BTreeSet<&str> = judging.flows_off.iter().copied().collect();
    for flow in flows {
        text.push_str(&format!("flow {flow}=off\n"));
    }
    let name = if judging.as_written {
        crate::policy::verdict::POLICY_AS_WRITTEN
    } else {
        "variables, flows and options in effect"
    };
    bytes(crate::policy::verdict::POLICY_VARS_ROLE, name, text.as_bytes())
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
    use std::collections::{BTreeMap, BTreeSet};

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
    type Settings = (BTreeMap<String, String>, [bool; 4], BTreeSet<String>, Option<u64>);

    fn settings_of(judging: &Judging<'_>) -> Settings {
        (
            judging.vars.cloned().unwrap_or_default(),
            [judging.raw_lenient, judging.accept_partial_response, judging.no_env, judging.baseline_allow_blocked],
            judging.flows_off.iter().map(|f| f.to_string()).collect(),
            judging.max_evidence_age.map(|age| age.as_secs()),
        )
    }

    type Drawn = (BTreeMap<String, String>, [bool; 4], Vec<String>, Option<u64>);

    fn drawn() -> impl proptest::strategy::Strategy<Value = Drawn> {
        use proptest::prelude::*;
        (
            proptest::collection::btree_map("[ab]", "[xy]{0,2}", 0..3),
            any::<[bool; 4]>(),
            proptest::collection::vec("[ab]", 0..3),
            proptest::option::of(1u64..3),
        )
    }

    fn judging(drawn: &Drawn) -> Judging<'_> {
        Judging {
            vars: Some(&drawn.0),
            flows_off: drawn.2.iter().map(String::as_str).collect(),
            raw_lenient: drawn.1[0],
            accept_partial_response: drawn.1[1],
            no_env: drawn.1[2],
            baseline_allow_blocked: drawn.1[3],
            max_evidence_age: drawn.3.map(std::time::Duration::from_secs),
            as_written: false,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Findings round24-judge/01 and round25-judge/01..03, the class: two judgements digest
        /// alike exactly when the values in effect, the flows off and every verdict-changing
        /// option are the same, whatever order they were given in.
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
    fn nothing_set_is_the_empty_text() {
        assert_eq!(policy_vars(&Judging::default()).bytes, 0);
        let none = BTreeMap::new();
        assert_eq!(policy_vars(&Judging { vars: Some(&none), ..Judging::default() }).bytes, 0);
    }
}
