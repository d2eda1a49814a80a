//! `gatecheck lint`: every finding is one `FILE:LINE: error|warning: ...` line and any error
//! exits 2; what it finds beyond the loaders (placeholders, PromQL Prometheus refuses in any
//! `[choice]` set, gates no scenario feeds) is shown one witness each, and the line rule over
//! generated breakages of the shipped release policy.

use proptest::prelude::*;

use crate::support::{gatecheck, repo, stdout_of};

fn lint(files: &[&std::path::Path]) -> (i32, String) {
    let out = gatecheck().arg("lint").args(files).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_shipped_file_lints_clean_together() {
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(repo().join("gates")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, out) = lint(&refs);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(", 0 error(s), 0 warning(s)"), "{out}");
}

#[test]
fn a_placeholder_left_in_blocks_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir,
        "saturation.toml",
        "[[gate]]\nid = \"pool\"\nquery = 'max(FILL_IN_pool_utilization)'\nunit = \"ratio\"\nthresholds = [\"value < 80%\"]\n",
    );
    let (code, out) = lint(&[&policy]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("{}:3: error: placeholder FILL_IN_pool_utilization left in", policy.display())),
        "{out}"
    );
}

#[test]
fn promql_prometheus_refuses_is_found_in_every_choice_set_not_only_the_default() {
    let text = std::fs::read_to_string(repo().join("gates/distributed.toml")).unwrap();
    // Break a fragment only the k6 engine's set uses: the default (gatecheck) load is fine.
    let broken = text.replacen(
        "dropped = '(sum(k6_dropped_iterations_total{${run}}${this_attempt}) or vector(0))'",
        "dropped = '(sum(k6_dropped_iterations_total{${run}}${this_attempt}) or)'",
        1,
    );
    assert_ne!(broken, text);
    let dir = tempfile::tempdir().unwrap();
    let policy = write(&dir, "distributed.toml", &broken);
    let line = broken.lines().position(|l| l.starts_with("id = \"dropped-iterations\"")).unwrap() + 1;
    let (code, out) = lint(&[&policy]);
    assert_eq!(code, 2, "{out}");
    let expected =
        format!("{}:{line}: error: gate \"dropped-iterations\": Prometheus would refuse the query", policy.display());
    assert!(out.contains(&expected) && out.contains("--var engine=k6"), "{out}");
    assert_eq!(out.lines().filter(|l| l.contains(": error: ")).count(), 1, "{out}");
}

#[test]
fn a_gate_for_a_flow_no_scenario_runs_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir,
        "release.toml",
        "[[gate]]\nid = \"read-latency\"\nmetric = \"http_req_duration{flow:auth_list}\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"gone-latency\"\nmetric = \"http_req_duration{flow:gone}\"\nthresholds = [\"p(95) < 400ms\"]\n",
    );
    let scenario = repo().join("gates/core-flows.toml");
    let (code, out) = lint(&[&policy, &scenario]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "{}:7: error: gate \"gone-latency\": no scenario linted with it runs flow \"gone\"",
            policy.display()
        )),
        "{out}"
    );
    // Alone, the policy is not wrong: which scenario feeds it is not known.
    assert_eq!(lint(&[&policy]).0, 0);
}

#[test]
fn a_waiver_and_a_settings_file_are_linted_with_their_loaders() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = write(
        &dir,
        "waivers.toml",
        "[[waiver]]\ngate = \"a\"\nowner = \"o\"\nreason = \"r\"\nticket = \"T-1\"\nexpires = 2026-01-01\n\n[[waiver]]\ngate = \"b\"\nreason = \"r\"\nticket = \"T-2\"\nexpires = 2026-01-01\n",
    );
    let (code, out) = lint(&[&waivers]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("{}:8: error: waiver 2 (gate \"b\"): owner is missing", waivers.display())), "{out}");
    let settings = write(&dir, "gatecheck.toml", "policy = \"gates/release.toml\"\nprometheus_retrys = 2\n");
    let (code, out) = lint(&[&settings]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("{}:2: error: unknown field `prometheus_retrys`", settings.display())), "{out}");
}

#[test]
fn a_file_of_unknown_kind_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "other.toml", "title = \"not gatecheck's\"\n");
    let (code, out) = lint(&[&file]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("{}:1: error: cannot tell what kind of file this is", file.display())), "{out}");
}

/// Thresholds no release can fail (or pass), unknown keys, bad units and broken PromQL,
/// written into a random gate of the shipped release policy: lint always blocks and always
/// names that gate's own lines (between its `[[gate]]` and the next).
fn breakage() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(vec![
        ("thresholds = [", "thresholds = [\"rate < 101%\", "),
        ("thresholds = [", "thresholds = [\"p(95) >= 0\", "),
        ("thresholds = [", "tresholds = ["),
        ("thresholds = [", "unit = \"parsecs\"\nthresholds = ["),
        ("thresholds = [", "query = 'sum(rate(x[5m])'\nunit = \"s\"\nthresholds = ["),
        ("description = ", "descripton = "),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_breakage_of_a_gate_is_one_blocking_line_within_that_gate(gate in 0usize..13, (from, to) in breakage()) {
        let text = std::fs::read_to_string(repo().join("gates/release.toml")).unwrap();
        let starts: Vec<usize> = text.match_indices("[[gate]]").map(|(i, _)| i).collect();
        let gate = gate % starts.len();
        let end = starts.get(gate + 1).copied().unwrap_or(text.len());
        let Some(offset) = text[starts[gate]..end].find(from) else { return Ok(()) };
        let at = starts[gate] + offset;
        let broken = format!("{}{to}{}", &text[..at], &text[at + from.len()..]);
        let first = text[..starts[gate]].matches('\n').count() + 1;
        let last = broken[..end + to.len() - from.len()].matches('\n').count() + 1;
        let linted = gatecheck::commands::lint::lint_text(None, "release.toml", std::path::Path::new("release.toml"), &broken, &|_| Ok(None));
        let errors: Vec<_> = linted.findings.iter().filter(|f| f.blocks).collect();
        prop_assert!(!errors.is_empty(), "{to:?} in gate {gate} passed lint");
        for finding in errors {
            prop_assert!((first..=last).contains(&finding.line), "{to:?} in gate {gate} (lines {first}..={last}): {finding}");
        }
    }
}

#[test]
fn lint_output_is_one_line_per_finding_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir,
        "p.toml",
        "[[gate]]\nid = \"x\"\nquery = 'FILL_IN_a + FILL_IN_b'\nunit = \"s\"\nthresholds = [\"value < 1s\"]\n",
    );
    let out = gatecheck().arg("lint").arg(&policy).assert().code(2);
    let stdout = stdout_of(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with(&format!("{}:3: error: placeholder FILL_IN_a", policy.display())), "{stdout}");
    assert_eq!(lines[1], "gatecheck lint: 1 file(s), 1 error(s), 0 warning(s)");
}

/// Finding round36-text/03: a settings file's value written with the wrong type (one Prometheus
/// header as a string, not a list) was quoted whole by `lint` (serde's message), where every
/// other command says "(value not shown)". Lint names the line and the key, never the value,
/// for every key of the settings file given a credential-shaped string of the wrong type.
#[test]
fn lint_never_quotes_a_settings_value() {
    const SECRET: &str = "Hunter2Secret99-prom-tenant-key";
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("prometheus_header", format!("\"Authorization: Bearer {SECRET}\"")),
        ("no_env", format!("\"Bearer {SECRET}\"")),
        ("prometheus_retries", format!("\"{SECRET}\"")),
        ("prometheus_header", format!("[1, \"{SECRET}\"]")),
    ];
    for (key, value) in cases {
        let settings =
            write(&dir, "gatecheck.toml", &format!("prometheus_url = \"http://127.0.0.1:9090\"\n{key} = {value}\n"));
        let (code, out) = lint(&[&settings]);
        assert_eq!(code, 2, "{key} = {value}: {out}");
        assert!(
            out.contains(&format!("{}:2: error:", settings.display())) && out.contains(key),
            "{key} = {value}: {out}"
        );
        assert!(!out.contains("Hunter2") && !out.contains("tenant-key"), "{key} = {value}: {out}");
    }
}
