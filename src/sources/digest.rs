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

/// The policy's `--var` overrides (settings `vars` too), as one input: a policy judged with
/// other values is another policy, whose history records never count for this one (finding
/// round23-judge/01: a run passed under `--var window=1m` counted as a pass of the policy's
/// 10-minute window). Digested in name order, `name=value` a line; no overrides digest the empty
/// text, as a record written without this input is read.
pub fn policy_vars(vars: &[(String, String)]) -> InputFile {
    let mut sorted: Vec<&(String, String)> = vars.iter().collect();
    sorted.sort();
    let text: String = sorted.iter().map(|(name, value)| format!("{name}={value}\n")).collect();
    bytes(crate::policy::verdict::POLICY_VARS_ROLE, "--var", text.as_bytes())
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
}
