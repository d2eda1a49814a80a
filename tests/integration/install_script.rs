//! The install steps of `make test` (scripts/install-lib.sh), run with stand-ins for apt-get,
//! npm and id (fault injection: nothing is installed): issue 23, items 9 and 10.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::*;

fn stub(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs `script` (bash, with install-lib.sh sourced) with `bin` first on PATH.
fn run_lib(bin: &Path, env: &[(&str, &Path)], script: &str) -> std::process::Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = std::process::Command::new("bash");
    command.current_dir(repo()).env("PATH", path).arg("-c").arg(format!(". scripts/install-lib.sh && {script}"));
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// Item 10: while apt-get installs prometheus, policy-rc.d forbids starting services (exit
/// 101), and it is removed afterwards; an existing one (a container's) is left alone. On
/// dd0cb13 the script only said so in a comment: the install ran with no policy-rc.d.
#[test]
fn debian_packages_are_installed_without_starting_their_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, log, policy) = (dir.path().join("bin"), dir.path().join("log"), dir.path().join("policy-rc.d"));
    std::fs::create_dir(&bin).unwrap();
    stub(&bin, "id", "echo 0");
    // What invoke-rc.d does: ask policy-rc.d before starting a service.
    stub(&bin, "apt-get", "\"$POLICY_RC_D\" prometheus start; echo \"policy=$? args=$*\" >> \"$LOG\"");
    let env = [("LOG", log.as_path()), ("POLICY_RC_D", policy.as_path())];
    let out = run_lib(&bin, &env, "apt_install_without_daemons prometheus");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("policy=101") && logged.contains("install") && logged.contains("prometheus"), "{logged}");
    assert!(!policy.exists(), "the temporary policy-rc.d is removed");
    // A policy-rc.d that was there before stays as it was.
    std::fs::write(&policy, "#!/bin/sh\nexit 101\n# the container's own\n").unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run_lib(&bin, &env, "apt_install_without_daemons prometheus");
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&policy).unwrap().contains("the container's own"));
    // A failed install is reported as failed, and the temporary file still goes.
    std::fs::remove_file(&policy).unwrap();
    stub(&bin, "apt-get", "exit 100");
    let out = run_lib(&bin, &env, "apt_install_without_daemons prometheus");
    assert!(!out.status.success() && !policy.exists());
    // The real script goes through it for every Debian package it installs.
    let script = std::fs::read_to_string(repo().join("scripts/ensure-test-deps.sh")).unwrap();
    assert!(
        !script.contains("--no-install-recommends"),
        "every apt-get install goes through apt_install_without_daemons"
    );
}

/// Item 9: the npm install into .tools/node reads the machine's global npm configuration (a
/// CA or mirror set there), which `--prefix` alone would replace by {prefix}/etc/npmrc; and the
/// README says that `make test` needs Node.js and npm. On dd0cb13 the script ran
/// `npm install --prefix DIR` with nothing else and the README did not name Node.js.
#[test]
fn npm_install_honours_the_global_npm_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, log, npmrc) = (dir.path().join("bin"), dir.path().join("log"), dir.path().join("npmrc"));
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(&npmrc, "cafile=/etc/ssl/corp.pem\n").unwrap();
    stub(
        &bin,
        "npm",
        "if [ \"$1 $2 $3\" = \"config get globalconfig\" ]; then echo \"$NPMRC\"; else echo \"$*\" >> \"$LOG\"; fi",
    );
    let prefix = dir.path().join("node");
    let env = [("LOG", log.as_path()), ("NPMRC", npmrc.as_path()), ("PREFIX", prefix.as_path())];
    let out = run_lib(&bin, &env, "npm_install_into \"$PREFIX\" yaml@2.9.1");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!("--prefix {}", prefix.display()))
            && logged.contains(&format!("--globalconfig {}", npmrc.display()))
            && logged.contains("yaml@2.9.1"),
        "{logged}"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("Node.js") && readme.contains("`nodejs`"), "the README names what make test installs");
}
