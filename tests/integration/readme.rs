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
        if let Some(code) = example.code {
            assert_eq!(output.status.code(), Some(code), "README.md line {}: exit code", example.at);
        }
    }
}
