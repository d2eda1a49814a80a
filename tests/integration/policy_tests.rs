//! `gatecheck test`: the shipped policy unit tests pass, and a case whose expectation is
//! wrong fails the run (exit 1) printing the gate, what was expected and what was got.

use crate::support::{gatecheck, repo, stdout_of};

#[test]
fn the_shipped_release_policy_tests_pin_every_boundary_and_pass() {
    let out = gatecheck().arg("test").arg(repo().join("tests/policy/release.toml")).env_clear().assert().code(0);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("gatecheck test: 53 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_wrong_expectation_fails_naming_the_gate_expected_and_got() {
    let text = std::fs::read_to_string(repo().join("tests/policy/release.toml")).unwrap();
    let wrong =
        text.replacen("\"read-latency p(95) < 400ms\" = \"FAIL\"", "\"read-latency p(95) < 400ms\" = \"PASS\"", 1);
    assert_ne!(wrong, text);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tests/policy")).unwrap();
    std::fs::create_dir_all(dir.path().join("gates")).unwrap();
    std::fs::copy(repo().join("gates/release.toml"), dir.path().join("gates/release.toml")).unwrap();
    std::fs::write(dir.path().join("tests/policy/release.toml"), wrong).unwrap();
    let out =
        gatecheck().current_dir(dir.path()).env_clear().args(["test", "tests/policy/release.toml"]).assert().code(1);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("FAIL tests/policy/release.toml: case \"read p(95) at 400ms\""), "{stdout}");
    assert!(
        stdout.contains("read-latency p(95) < 400ms: expected PASS, got FAIL: `p(95) < 400ms` FAIL (observed 400 ms)"),
        "{stdout}"
    );
    assert!(stdout.contains("gatecheck test: 52 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_test_file_without_cases_or_with_a_typo_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    std::fs::write(&file, "policy = \"p.toml\"\n[[case]]\nname = \"x\"\n[case.expect]\noutcom = \"ship\"\n").unwrap();
    let out = gatecheck().arg("test").arg(&file).assert().code(2);
    let stderr = crate::support::stderr_of(&out);
    assert!(stderr.contains("line 5: unknown field `outcom`"), "{stderr}");
}
