//! Every command the README shows with its output (a fenced block whose lines start with `$ `)
//! is run and its output compared with the block, line for line (issue 23, item 8): the
//! README's examples cannot go stale. Only what differs between runs is normalised — the
//! judgement time, loopback ports and the Prometheus URL the test starts. A block fenced as
//! ```` ```text 80-columns ```` runs in a pseudo-terminal 80 columns wide (a screen capture);
//! every other block runs through a pipe, as in CI.

use crate::support::*;

struct Example {
    /// The line of the README the block starts at, for messages.
    at: usize,
    terminal: bool,
    command: String,
    expected: Vec<String>,
    /// The exit code shown by a following `$ echo $?`.
    code: Option<i32>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i];
        i += 1;
        let indent = fence.len() - fence.trim_start().len();
        if !fence.trim_start().starts_with("```") {
            continue;
        }
        let block_at = i;
        let mut body = Vec::new();
        while i < lines.len() && !lines[i].trim_start().starts_with("```") {
            body.push(lines[i].get(indent..).unwrap_or(""));
            i += 1;
        }
        i += 1;
        let info = fence.trim_start().trim_start_matches('`');
        if !(info.is_empty() || info.starts_with("text")) || !body.first().is_some_and(|l| l.starts_with("$ ")) {
            continue;
        }
        let mut j = 0;
        while j < body.len() {
            let mut command = body[j].trim_start_matches("$ ").to_string();
            while command.ends_with('\\') && j + 1 < body.len() {
                j += 1;
                command = format!("{}{}", command.trim_end_matches('\\'), body[j]);
            }
            j += 1;
            let mut expected = Vec::new();
            while j < body.len() && !body[j].starts_with("$ ") {
                expected.push(body[j].to_string());
                j += 1;
            }
            if command == "echo $?" {
                let last: &mut Example = examples.last_mut().expect("`echo $?` follows a command");
                last.code = expected.first().and_then(|c| c.parse().ok());
                continue;
            }
            examples.push(Example {
                at: block_at + 1,
                terminal: fence.contains("80-columns"),
                command,
                expected,
                code: None,
            });
        }
    }
    examples
}

/// Times, ports and the test's Prometheus URL, as the README writes them.
fn normalise(text: &str, prometheus: Option<&str>) -> Vec<String> {
    let mut text = text.replace('\r', "");
    if let Some(url) = prometheus {
        text = text.replace(url, "http://127.0.0.1:9090");
    }
    text.lines()
        .map(|line| {
            let mut line = line.to_string();
            // judged at 2026-12-05T00:22:17Z by ...
            if let Some(start) = line.find("judged at ") {
                let from = start + "judged at ".len();
                if let Some(len) = line[from..].find(' ') {
                    line.replace_range(from..from + len, "TIME");
                }
            }
            // 127.0.0.1:PORT
            let mut out = String::new();
            let mut rest = line.as_str();
            while let Some(at) = rest.find("127.0.0.1:") {
                out.push_str(&rest[..at + "127.0.0.1:".len()]);
                rest = rest[at + "127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
                out.push_str("PORT");
            }
            out.push_str(rest);
            out.trim_end().to_string()
        })
        .collect()
}

#[test]
fn every_command_and_output_in_the_readme_is_what_gatecheck_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 2, "the README shows commands with their output");
    let needs_prometheus = examples.iter().any(|e| e.command.contains("--prometheus-url"));
    let prom = if needs_prometheus { PrometheusFixture::start() } else { None };
    if needs_prometheus && prom.is_none() {
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("gatecheck");
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    for example in &examples {
        let command = match &prom {
            Some(prom) => example.command.replace("http://127.0.0.1:9090", &prom.url),
            None => example.command.clone(),
        };
        let output = if example.terminal {
            std::process::Command::new("script")
                .current_dir(repo())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .args(["-qec", &format!("stty cols 80 rows 200; {command}"), "/dev/null"])
                .output()
                .unwrap()
        } else {
            std::process::Command::new("sh")
                .current_dir(repo())
                .env("PATH", &path)
                .args(["-c", &command])
                .output()
                .unwrap()
        };
        let actual = normalise(&String::from_utf8_lossy(&output.stdout), prom.as_ref().map(|p| p.url.as_str()));
        let expected = normalise(&example.expected.join("\n"), None);
        assert_eq!(
            actual.join("\n"),
            expected.join("\n"),
            "README.md line {}: `{}` prints something else (left: real output)",
            example.at,
            example.command
        );
        // Issue 23: the whole verdict of the saturation policy fits one 80x40 screen (long
        // lines counted as the terminal wraps them).
        if example.terminal {
            let screen = gatecheck::report::table::screen_lines(&actual.join("\n"), 80);
            assert!(screen <= 40, "README.md line {}: {screen} screen lines at 80 columns", example.at);
        }
        if let Some(code) = example.code {
            assert_eq!(output.status.code(), Some(code), "README.md line {}: exit code", example.at);
        }
    }
}

/// Table rows of `text` as their first `n` trimmed cells.
fn table_rows(text: &str, n: usize) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| l.split(['│', '┆']).map(str::trim).skip(1).take(n).map(str::to_string).collect::<Vec<_>>())
        .filter(|cells| cells.len() == n && !cells[0].is_empty() && cells[0] != "Gate" && cells[0] != "Flow")
        .collect()
}

/// Issue 23, item 8: the README's demo output is real output of the same command. Its figures,
/// ports and times differ run to run, so what is compared is everything else: the flows and
/// endpoints of the load table, every (gate, threshold) row of the verdict in order, the
/// injected breach failing, the last line's verdict and the exit code.
#[test]
fn the_readme_demo_output_has_the_rows_gatecheck_demo_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let intro = readme.find("Real output of `gatecheck demo --break latency`").expect("the demo output in the README");
    let open = intro + readme[intro..].find("\n```\n").expect("its block") + 5;
    let shown = &readme[open..open + readme[open..].find("\n```").expect("the block ends")];
    let dir = tempfile::tempdir().unwrap();
    let output = gatecheck()
        .args(["demo", "--break", "latency", "--out-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "the README says exit 1");
    let real = String::from_utf8_lossy(&output.stdout).into_owned();
    let rows = |text: &str| -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        let all = table_rows(text, 2);
        let split = all.iter().position(|r| r[0].ends_with("-latency") || r[0] == "run-integrity").unwrap_or(all.len());
        (all[..split].to_vec(), all[split..].to_vec())
    };
    let (shown_load, shown_verdict) = rows(shown);
    let (real_load, real_verdict) = rows(&real);
    assert_eq!(shown_load, real_load, "the load table's flows and endpoints\n{real}");
    let sorted = |mut rows: Vec<Vec<String>>| {
        rows.sort();
        rows
    };
    assert_eq!(sorted(shown_verdict), sorted(real_verdict), "the verdict's gates and thresholds\n{real}");
    let failing = |text: &str| {
        text.lines().any(|l| l.starts_with("│ read-latency") && l.contains("p(95) < 400ms") && l.contains("FAIL"))
    };
    assert!(failing(shown) && failing(&real), "the injected breach fails in both\n{real}");
    let last = |text: &str| text.lines().last().unwrap_or_default().split(':').next().unwrap_or_default().to_string();
    assert_eq!(last(shown), "RELEASE BLOCKED");
    assert_eq!(last(&real), "RELEASE BLOCKED", "{real}");
}
