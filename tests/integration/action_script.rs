//! The GitHub Action's judge step (scripts/gatecheck-action.sh judge) run directly under a
//! simulated runner with the test build of gatecheck on PATH: its outputs must say what
//! gatecheck said, whatever the inputs hold. (The install step, which needs a release archive,
//! is exercised by scripts/ship-check.sh.)

use crate::support::{exit_within, fixture, repo, PASSING_LAG};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Step {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: String,
}

impl Step {
    /// The value the runner reads for an output: the last line naming it.
    fn output(&self, name: &str) -> Option<&str> {
        self.outputs.lines().rev().find_map(|l| l.strip_prefix(&format!("{name}=")))
    }
}

/// A folder holding only the test build of gatecheck, for PATH.
fn bin_dir(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if !bin.join("gatecheck").exists() {
        std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("gatecheck"), bin.join("gatecheck")).unwrap();
    }
    bin
}

fn judge(dir: &Path, inputs: &[(&str, &str)]) -> Step {
    let outputs = dir.join("github-output");
    std::fs::write(&outputs, "").unwrap();
    let path = format!("{}:{}", bin_dir(dir).display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg(repo().join("scripts/gatecheck-action.sh"))
        .arg("judge")
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", dir.join("step-summary.md"))
        .envs(PASSING_LAG)
        .envs(inputs.iter().copied())
        .output()
        .unwrap();
    Step {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs: std::fs::read_to_string(&outputs).unwrap(),
    }
}

fn pass_summary() -> String {
    fixture("k6/1.1.0/pass/summary-export.json").display().to_string()
}

#[test]
fn every_line_of_args_reaches_gatecheck() {
    // An `args: |` block gives one flag per line; the second line here is the age limit that
    // must block this day-old summary (the action used to read the first line only: ship).
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.json");
    std::fs::copy(pass_summary(), &summary).unwrap();
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::options().write(true).open(&summary).unwrap().set_modified(day_ago).unwrap();
    let args = format!("--policy {}\n--max-evidence-age 1h", repo().join("gates/release.toml").display());
    let step = judge(
        dir.path(),
        &[
            ("INPUT_COMMAND", "verify"),
            ("INPUT_SUMMARY", summary.to_str().unwrap()),
            ("INPUT_REPORTS_DIR", "reports"),
            ("INPUT_ARGS", &args),
        ],
    );
    assert_eq!(step.code, 1, "{}{}", step.stdout, step.stderr);
    assert_eq!(step.output("outcome"), Some("blocked"), "{}", step.outputs);
    assert_eq!(step.output("exit-code"), Some("1"), "{}", step.outputs);
}

#[test]
fn an_input_with_a_line_break_writes_no_output_line_of_its_own() {
    // A reports-dir holding a line break used to add `outcome=ship` after a blocked run.
    let dir = tempfile::tempdir().unwrap();
    let step = judge(
        dir.path(),
        &[
            ("INPUT_COMMAND", "verify"),
            ("INPUT_SUMMARY", fixture("k6/1.1.0/fail-latency/summary-export.json").to_str().unwrap()),
            ("INPUT_REPORTS_DIR", "r\noutcome=ship\nexit-code=0\nx="),
        ],
    );
    assert_eq!(step.code, 2, "{}{}", step.stdout, step.stderr);
    assert_eq!(step.output("outcome"), Some("error"), "{}", step.outputs);
    assert_eq!(step.output("exit-code"), Some("2"), "{}", step.outputs);
    assert!(!step.outputs.lines().any(|l| l == "outcome=ship" || l == "exit-code=0"), "{}", step.outputs);
}

#[test]
fn the_history_input_never_starts_a_line_of_the_log_or_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let step = judge(
        dir.path(),
        &[
            ("INPUT_COMMAND", "verify"),
            ("INPUT_SUMMARY", &pass_summary()),
            ("INPUT_HISTORY", "h\n::error title=injected::x\n<img src=https://evil.example/p>"),
        ],
    );
    assert_eq!(step.code, 2, "{}{}", step.stdout, step.stderr);
    assert_eq!(step.output("outcome"), Some("error"), "{}", step.outputs);
    for line in step.stdout.lines().chain(step.stderr.lines()) {
        assert!(!line.starts_with("::error title=injected") && !line.starts_with("<img"), "{line}");
    }
    let summary = std::fs::read_to_string(dir.path().join("step-summary.md")).unwrap_or_default();
    assert!(!summary.contains("<img"), "{summary}");

    // A history folder whose name holds markup is named as text, not HTML, in the step summary.
    let step = judge(
        dir.path(),
        &[("INPUT_COMMAND", "verify"), ("INPUT_SUMMARY", &pass_summary()), ("INPUT_HISTORY", "h<img src=x>")],
    );
    assert_eq!(step.output("history-runs"), Some("0"), "{}{}", step.outputs, step.stderr);
    let summary = std::fs::read_to_string(dir.path().join("step-summary.md")).unwrap();
    assert!(summary.contains("h\\<img src\\=x\\>"), "{summary}");
    crate::outside_text::assert_markdown_is_inert("step summary", &summary);
}

/// Finding text4/06: the action's own step-summary line follows gatecheck's Markdown rule (every
/// ASCII punctuation escaped, a zero-width joiner after `@`), so a `history` input makes no
/// link, autolink, e-mail link, strikethrough or HTML.
#[test]
fn the_action_escapes_markdown_by_gatecheck_rule() {
    for history in
        [".hist/https://evil.example/login", ".hist/ops@evil.example", ".hist/~~x~~", "h/www.evil.example/[a](b)<i>*e*"]
    {
        let dir = tempfile::tempdir().unwrap();
        let step = judge(
            dir.path(),
            &[("INPUT_COMMAND", "verify"), ("INPUT_SUMMARY", &pass_summary()), ("INPUT_HISTORY", history)],
        );
        assert_eq!(step.output("history-runs"), Some("0"), "{}{}", step.outputs, step.stderr);
        let summary = std::fs::read_to_string(dir.path().join("step-summary.md")).unwrap();
        let line =
            summary.lines().find(|l| l.starts_with("> gatecheck history: ")).unwrap_or_else(|| panic!("{summary}"));
        let text = &line["> gatecheck history: ".len()..];
        // Every punctuation character is escaped; every `@` is followed by the joiner.
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '\\' {
                assert!(
                    chars.get(i + 1).is_some_and(|c| c.is_ascii_punctuation()),
                    "{history}: a bare backslash in {text}"
                );
                if chars[i + 1] == '@' {
                    assert_eq!(chars.get(i + 2), Some(&'\u{200d}'), "{history}: {text}");
                }
                i += 2;
                continue;
            }
            assert!(!chars[i].is_ascii_punctuation(), "{history}: {:?} unescaped in {text}", chars[i]);
            i += 1;
        }
        crate::outside_text::assert_markdown_is_inert(history, &summary);
        let struck = pulldown_cmark::Parser::new_ext(&summary, pulldown_cmark::Options::ENABLE_STRIKETHROUGH)
            .any(|e| matches!(e, pulldown_cmark::Event::Start(pulldown_cmark::Tag::Strikethrough)));
        assert!(!struck, "{history}: {summary}");
    }
}

#[test]
fn a_folder_the_action_cannot_create_is_an_error_not_a_block() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "x").unwrap();
    for input in ["INPUT_REPORTS_DIR", "INPUT_HISTORY"] {
        let step = judge(
            dir.path(),
            &[("INPUT_COMMAND", "verify"), ("INPUT_SUMMARY", &pass_summary()), (input, "afile/below")],
        );
        assert_eq!(step.code, 2, "{input}: {}{}", step.stdout, step.stderr);
        assert_eq!(step.output("outcome"), Some("error"), "{input}: {}", step.outputs);
        assert_eq!(step.output("exit-code"), Some("2"), "{input}: {}", step.outputs);
    }
}

/// Finding text2/07: a second use in one job whose gatecheck exits 2 must not hand on the first
/// use's verdict: report-json is empty and the stale reports are gone. And exit 0 without a
/// verdict written (`args: --help`) judged nothing: outcome error, never ship.
#[test]
fn a_run_that_writes_no_verdict_leaves_no_earlier_one_behind() {
    let dir = tempfile::tempdir().unwrap();
    let summary = pass_summary();
    let first = judge(dir.path(), &[("INPUT_SUMMARY", &summary)]);
    assert_eq!((first.code, first.output("outcome")), (0, Some("ship")), "{}", first.stderr);
    assert!(dir.path().join("gatecheck-reports/verdict.json").exists());
    let second = judge(dir.path(), &[("INPUT_SUMMARY", "/no/such/summary.json")]);
    assert_eq!((second.code, second.output("outcome")), (2, Some("error")), "{}", second.stderr);
    assert_eq!(second.output("report-json"), Some(""), "{}", second.outputs);
    for stale in ["verdict.json", "verdict.junit.xml", "verdict.md", "verdict.html"] {
        assert!(!dir.path().join("gatecheck-reports").join(stale).exists(), "{stale} of the earlier run is left");
    }
    let help = judge(dir.path(), &[("INPUT_SUMMARY", &summary), ("INPUT_ARGS", "--help")]);
    assert_eq!((help.code, help.output("outcome")), (2, Some("error")), "{}\n{}", help.stdout, help.outputs);
}

/// Finding text2/06: a mirror's user:password in `release-url` never reaches the log or an
/// annotation (the download here fails: nothing listens on the port).
#[test]
fn a_release_url_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = install(dir.path(), &format!("http://mirror:MirrorPassw0rd@127.0.0.1:{port}"));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("downloading http://***@127.0.0.1:"), "{all}");
    assert!(!all.contains("MirrorPassw0rd"), "{all}");
}

/// Found in review round 7 (text): `install` did not hold its inputs to one line, so a line
/// break in `release-url` printed a line of its own (`::error title=forged::…`).
#[test]
fn install_inputs_are_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = install(dir.path(), "http://127.0.0.1:9/x\n::error title=forged::owned");
    assert_eq!(out.status.code(), Some(2));
    for line in String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines()) {
        assert!(!line.trim_start().starts_with("::error title=forged"), "{line}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("RELEASE_URL: expected one line"), "{out:?}");
}

/// The action's `install` step under a simulated Linux runner, from `release_url`.
fn install(dir: &Path, release_url: &str) -> std::process::Output {
    let outputs = dir.join("github-output");
    std::fs::write(&outputs, "").unwrap();
    Command::new("bash")
        .arg(repo().join("scripts/gatecheck-action.sh"))
        .arg("install")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_PATH", dir.join("github-path"))
        .env("RUNNER_TEMP", dir)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("INPUT_VERSION", "0.1.0")
        .env("INPUT_SHA256", "0".repeat(64))
        .env("INPUT_RELEASE_URL", release_url)
        .output()
        .unwrap()
}

/// Finding round8-text/01: a `release-url` without a scheme (`mirror:PASS@host/...`, which curl
/// reads as http with basic auth) is refused, and its password is never printed.
#[test]
fn a_release_url_without_a_scheme_is_refused_and_its_password_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = install(dir.path(), "mirror:MirrorPassw0rd@127.0.0.1:9/releases");
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("release-url: expected an http:// or https:// URL, got ***@127.0.0.1:9/releases"), "{all}");
    assert!(!all.contains("MirrorPassw0rd"), "{all}");
}

/// Finding round8-text/03: the history notice names the folder once it holds records; the
/// runner's legacy `##[cmd]` form in it is broken up, as gatecheck breaks it.
#[test]
fn the_history_notice_never_carries_a_legacy_workflow_command() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h ##[error]forged");
    for _ in 0..2 {
        let step = judge(
            dir.path(),
            &[
                ("INPUT_COMMAND", "verify"),
                ("INPUT_SUMMARY", &pass_summary()),
                ("INPUT_HISTORY", &history.display().to_string()),
            ],
        );
        assert!(
            step.stdout.contains("verdict(s) in") || step.stdout.contains("no earlier verdicts"),
            "{}",
            step.stdout
        );
        assert!(!step.stdout.contains("##[") && !step.stderr.contains("##["), "{}{}", step.stdout, step.stderr);
    }
}

/// Finding round12-text/03: a credential carried as a query parameter of `release-url`
/// (`?private_token=…`, GitLab) was printed whole in "downloading …" and in the ::error
/// annotation. It is refused (exit 2) naming the word, never quoting the URL.
#[test]
fn a_release_url_credential_parameter_is_refused_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out =
        install(dir.path(), &format!("http://127.0.0.1:{port}/releases/download?private_token=glpat-S3cr3tT0ken"));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("\"token\" in its name"), "{all}");
    assert!(!all.contains("S3cr3tT0ken") && !all.contains("downloading"), "{all}");
}

/// The credential words and names of the action's rule are gatecheck's own (src/input.rs), so
/// the two rules cannot drift apart.
#[test]
fn the_action_refuses_the_credential_parameter_names_gatecheck_refuses() {
    let source = std::fs::read_to_string(repo().join("src/input.rs")).unwrap();
    let script = std::fs::read_to_string(repo().join("scripts/gatecheck-action.sh")).unwrap();
    let list = |text: &str, start: &str, end: char| -> Vec<String> {
        let at = text.find(start).unwrap_or_else(|| panic!("{start} not found"));
        let rest = &text[at + start.len()..];
        let body = &rest[rest.find(['[', '(']).unwrap() + 1..];
        body[..body.find(end).unwrap()]
            .split([',', ' ', '\n'])
            .map(|w| w.trim().trim_matches('"').to_string())
            .filter(|w| !w.is_empty())
            .collect()
    };
    let words_rs = list(&source, "const CREDENTIAL_PARAMETER_WORDS: [&str; 14] =", ']');
    let names_rs = list(&source, "const CREDENTIAL_PARAMETER_NAMES: [&str; 3] =", ']');
    assert_eq!(list(&script, "credential_words=", ')'), words_rs);
    assert_eq!(list(&script, "credential_names=", ')'), names_rs);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    /// Finding round12-text/03, as a class: every `release-url` gatecheck's own rule refuses for
    /// a credential-named parameter (in the query, the fragment or a path segment's `;`
    /// parameters; any case, percent-encoded, with text around the word) the action refuses
    /// too, and its value never reaches the log.
    #[test]
    fn every_credential_parameter_gatecheck_refuses_the_action_refuses(
        word in proptest::sample::select(vec!["token", "key", "secret", "pass", "pw", "auth", "sig", "cred", "session", "sid", "jwt", "bearer", "code", "otp", "p", "ak", "sk", "page", "version", "x"]),
        before in "[a-z_-]{0,3}",
        after in "[a-z_\\[\\]-]{0,3}",
        upper in proptest::bool::ANY,
        encode_first in proptest::bool::ANY,
        place in 0usize..3,
    ) {
        let mut name = format!("{before}{word}{after}");
        if upper {
            name = name.to_ascii_uppercase();
        }
        if encode_first {
            name = format!("%{:02X}{}", name.as_bytes()[0], &name[1..]);
        }
        let secret = "Zq7VaLuE9sEcReT";
        let url = match place {
            0 => format!("http://127.0.0.1:9/releases/download?a=b&{name}={secret}"),
            1 => format!("http://127.0.0.1:9/releases/download#{name}={secret}"),
            _ => format!("http://127.0.0.1:9/releases;{name}={secret}/download"),
        };
        let refused_by_gatecheck = gatecheck::input::refuse_url_credentials("--x", &url, "").is_err();
        if refused_by_gatecheck {
            let dir = tempfile::tempdir().unwrap();
            let out = install(dir.path(), &url);
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            proptest::prop_assert_eq!(out.status.code(), Some(2), "{}: {}", url, all);
            proptest::prop_assert!(all.contains("named as a credential's") && !all.contains(secret), "{}: {}", url, all);
        }
    }
}

/// Finding round38-text/03: a `history` input holding a bidi override, a zero-width space, a
/// line separator and an escape (a branch name may hold any of them) reaches the job log and the
/// step summary escaped as gatecheck escapes it, never raw.
#[test]
fn the_action_writes_no_raw_hidden_character_of_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let history = "perf-history/feat-\u{202e}kcab-llor\u{200b}x\u{2028}y\u{1b}z";
    let step = judge(
        dir.path(),
        &[("INPUT_COMMAND", "verify"), ("INPUT_SUMMARY", &pass_summary()), ("INPUT_HISTORY", history)],
    );
    let summary = std::fs::read_to_string(dir.path().join("step-summary.md")).unwrap_or_default();
    for (name, text) in [("stdout", &step.stdout), ("stderr", &step.stderr), ("step summary", &summary)] {
        assert!(!text.contains(['\u{202e}', '\u{200b}', '\u{2028}', '\u{1b}']), "{name}: {text:?}");
    }
    assert!(step.stdout.contains(r"feat-\u202ekcab-llor\u200bx\u2028y\u001bz"), "{}{}", step.stdout, step.stderr);
    assert!(summary.contains(r"feat\-\\u202ekcab\-llor\\u200bx\\u2028y\\u001bz"), "{summary}");
}

/// The action's `one_line` escapes exactly the characters gatecheck's `escape::line` escapes,
/// and as it writes them, for every Unicode character (its list is gatecheck's table copied by
/// code point); line breaks and `%` as the runner's workflow commands encode them.
#[test]
fn the_actions_one_line_escapes_every_character_as_gatecheck_does() {
    let dir = tempfile::tempdir().unwrap();
    // NUL cannot be in a shell's text.
    let every: String = ('\u{1}'..=char::MAX).collect();
    let expected: String = every
        .chars()
        .map(|c| match c {
            '\n' => "%0A".to_string(),
            '\r' => "%0D".to_string(),
            '%' => "%25".to_string(),
            c => gatecheck::escape::line(&c.to_string()),
        })
        .collect();
    let input = dir.path().join("every");
    std::fs::write(&input, &every).unwrap();
    let out = Command::new("bash")
        .args(["-c", r#"source "$1" && one_line "$(cat "$2")""#, "_"])
        .arg(repo().join("scripts/gatecheck-action.sh"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = String::from_utf8(out.stdout).unwrap();
    if written != expected {
        let (w, e): (Vec<char>, Vec<char>) = (written.chars().collect(), expected.chars().collect());
        let at = w.iter().zip(&e).position(|(a, b)| a != b).unwrap_or(w.len().min(e.len()));
        panic!(
            "first difference at {at}: {:?} written, {:?} expected",
            &w[at..(at + 12).min(w.len())],
            &e[at..(at + 12).min(e.len())]
        );
    }
}

/// `one_line` is one pass over its input: bash's `${t//%/%25}` was quadratic, and 200 KB of `%`
/// (a workflow input) took 27 s. A megabyte of `%`, `\n` and `##[` must finish well inside the
/// bound (a hang check with a generous limit, not a timing claim) and be escaped whole.
#[test]
fn the_actions_one_line_is_one_pass_over_a_large_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("large");
    let text = "%".repeat(400_000) + &"\n".repeat(300_000) + &"##[".repeat(100_000);
    std::fs::write(&input, &text).unwrap();
    let mut child = Command::new("bash")
        .args(["-c", r#"source "$1" && one_line "$(cat "$2")" > "$2.out""#, "_"])
        .arg(repo().join("scripts/gatecheck-action.sh"))
        .arg(&input)
        .spawn()
        .unwrap();
    let status = exit_within(&mut child, std::time::Duration::from_secs(60), "one_line on 1 MB");
    assert!(status.success());
    // `$(cat …)` drops trailing line breaks: the `##[` tail keeps them inside the text.
    let written = std::fs::read_to_string(dir.path().join("large.out")).unwrap();
    let expected = "%25".repeat(400_000) + &"%0A".repeat(300_000) + &"##\\[".repeat(100_000);
    assert!(written == expected, "{} bytes written, {} expected", written.len(), expected.len());
}
