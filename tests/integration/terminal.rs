//! The terminal verdict read as the on-call engineer reads it (issue 23, items 1-4): through a
//! real pseudo-terminal (`script` from util-linux) at 80 and 120 columns, and through a pipe.
//! A row never takes more than two lines, gate ids are never cut, blocking rows come first,
//! passing rows carry no notes, `--only-failures` shows what blocks, and the last line names it.

use unicode_width::UnicodeWidthStr;

use crate::support::*;

/// Quotes one argument for `sh -c`.
fn quoted(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

/// Runs gatecheck in a pseudo-terminal `columns` wide; returns its output without the
/// terminal's carriage returns.
fn in_terminal(columns: usize, args: &[&str]) -> String {
    let binary = assert_cmd::cargo::cargo_bin("gatecheck").display().to_string();
    in_terminal_with(columns, &[&[binary.as_str()][..], args].concat())
}

/// The table's rows as groups of lines (a row starts where a gate id stands in the Gate cell).
fn table_rows(out: &str) -> Vec<Vec<&str>> {
    let body = out.lines().skip_while(|l| !l.starts_with('╞')).skip(1).take_while(|l| !l.starts_with('└'));
    let mut rows: Vec<Vec<&str>> = Vec::new();
    for line in body {
        let gate = line.trim_start_matches('│').split('┆').next().unwrap_or("").trim();
        // A continuation line: blank under Gate, or the series of the gate above (an id
        // never starts with `{`).
        if gate.is_empty() || gate.starts_with('{') {
            rows.last_mut().expect("a continuation follows a row").push(line);
        } else {
            rows.push(vec![line]);
        }
    }
    rows
}

fn cells(line: &str) -> Vec<&str> {
    line.trim_matches('│').split('┆').map(str::trim).collect()
}

/// Every property of items 1-4 on one output; `columns` is None for a pipe.
fn assert_readable(out: &str, columns: Option<usize>, gates: &[&str]) {
    let rows = table_rows(out);
    assert!(!rows.is_empty(), "{out}");
    for row in &rows {
        let limit = if columns.is_some() { 2 } else { 1 };
        assert!(row.len() <= limit, "a row takes {} lines:\n{}\n{out}", row.len(), row.join("\n"));
        if let Some(columns) = columns {
            for line in row {
                assert!(line.width() <= columns, "{} columns > {columns}: {line}\n{out}", line.width());
            }
        }
    }
    // Gate ids whole, in the first line of their row.
    for gate in gates {
        assert!(
            rows.iter().any(|r| cells(r[0])[0].split(' ').next() == Some(*gate)),
            "gate {gate} cut or missing:\n{out}"
        );
    }
    // Blocking rows first: nothing that blocks after a PASS.
    let verdicts: Vec<&str> = rows.iter().map(|r| cells(r[0])[3]).collect();
    if let Some(first_pass) = verdicts.iter().position(|v| *v == "PASS") {
        assert!(verdicts[first_pass..].iter().all(|v| !matches!(*v, "FAIL" | "NO DATA")), "{verdicts:?}\n{out}");
    }
    // Notes only for rows that are not PASS.
    let passing: Vec<String> = rows
        .iter()
        .filter(|r| cells(r[0])[3] == "PASS")
        .map(|r| format!("  {} `{}`", cells(r[0])[0], cells(r[0])[1]))
        .collect();
    let notes = out.lines().skip_while(|l| *l != "notes:").skip(1).take_while(|l| l.starts_with("  "));
    for note in notes {
        assert!(!passing.iter().any(|p| note.starts_with(&format!("{p}:"))), "a note on a passing row: {note}\n{out}");
    }
}

const SATURATION_GATES: [&str; 11] = [
    "api-freshness",
    "email-backlog",
    "realtime-backlog",
    "db-pool",
    "provider-errors-1h",
    "provider-errors-6h",
    "provider-errors-24h",
    "api-read-latency",
    "api-query-latency",
    "api-write-latency",
    "api-5xx-ratio",
];

#[test]
fn the_on_call_check_reads_at_a_glance_at_80_and_120_columns_and_in_a_pipe() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let args = ["check", "--policy", "gates/saturation.toml", "--prometheus-url", &prom.url, "--at", FIXTURE_T];
    for columns in [80, 120] {
        let out = in_terminal(columns, &args);
        assert_readable(&out, Some(columns), &SATURATION_GATES);
        let last = out.trim_end().lines().last().unwrap();
        assert!(
            last.starts_with(
                "RELEASE BLOCKED: provider-errors-1h{provider=\"discogs\"} 5% ≥ 3%; api-query-latency NO DATA; api-write-latency p(95) 750 ms ≥ 700ms — 3 blocking"
            ),
            "{last}"
        );
        if columns == 80 {
            // Kept for a look at what the on-call engineer sees.
            std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/check-80.txt"), &out).unwrap();
        }
    }
    let piped = stdout_of(&gatecheck().args(args).assert().code(1));
    assert_readable(&piped, None, &SATURATION_GATES);
    // What blocks, and only that.
    let only = in_terminal(80, &[&args[..], &["--only-failures"]].concat());
    let rows = table_rows(&only);
    assert_eq!(rows.len(), 3, "{only}");
    assert!(rows.iter().all(|r| matches!(cells(r[0])[3], "FAIL" | "NO DATA")), "{only}");
    // --verbose: the whole query, and notes on passing rows too.
    let verbose = stdout_of(&gatecheck().args(args).arg("--verbose").assert().code(1));
    assert!(verbose.contains("promql @ ") && verbose.contains("coverage"), "{verbose}");
}

#[test]
fn the_release_verdict_reads_at_a_glance_at_80_and_120_columns_and_in_a_pipe() {
    let args = ["verify", "--summary", "fixtures/k6/1.1.0/fail-errors/summary-export.json"];
    let gates = ["write-errors", "write-checks", "k6-thresholds", "read-latency", "scheduler-lag-freshness"];
    for columns in [80, 120] {
        let lag: Vec<String> = PASSING_LAG.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut full: Vec<&str> = vec!["env"];
        full.extend(lag.iter().map(String::as_str));
        let binary = assert_cmd::cargo::cargo_bin("gatecheck");
        let binary = binary.display().to_string();
        full.push(&binary);
        full.extend(args);
        // `env VAR=... gatecheck ...` through the terminal.
        let out = in_terminal_with(columns, &full);
        assert_readable(&out, Some(columns), &gates);
        let last = out.trim_end().lines().last().unwrap();
        assert!(last.starts_with("RELEASE BLOCKED: write-errors 4.839% ≥ 1%; write-checks 95.161% ≤ 99%;"), "{last}");
    }
    let piped = stdout_of(&gatecheck_with_lag().args(args).assert().code(1));
    assert_readable(&piped, None, &gates);
}

/// Runs a whole command line in a pseudo-terminal `columns` wide (`env VAR=... gatecheck ...`).
fn in_terminal_with(columns: usize, command: &[&str]) -> String {
    let line = command.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" ");
    let out = std::process::Command::new("script")
        .current_dir(repo())
        .args(["-qec", &format!("stty cols {columns} rows 200; exec {line}"), "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// Item 5: `check --watch` on a terminal redraws the verdict in place (cursor up over the last
/// round, clear below) and says when the next round comes and what changed; on a pipe it
/// prints one block per round; `--at` with `--watch` is warned about (every round judges the
/// same instant). On dd0cb13 rounds were appended on a terminal too, with no time to the next
/// round, no changes and no warning.
#[test]
fn check_watch_redraws_in_place_on_a_terminal_and_appends_on_a_pipe() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let args = [
        "check",
        "--policy",
        "gates/saturation.toml",
        "--prometheus-url",
        &prom.url,
        "--at",
        FIXTURE_T,
        "--watch",
        "2",
        "--require",
        "1",
        "--interval",
        "1s",
    ];
    let out = in_terminal(120, &args);
    assert!(out.contains("next round in 1s (1 of 2 done)"), "{out}");
    // The second round starts by moving the cursor up over the whole first round.
    let first = out.split("\u{1b}[").next().unwrap();
    let lines_of_first_round: usize =
        first.lines().filter(|l| !l.starts_with("gatecheck: warning")).map(|l| l.width().div_ceil(120).max(1)).sum();
    assert!(out.contains(&format!("\u{1b}[{lines_of_first_round}F\u{1b}[J")), "{lines_of_first_round}\n{out:?}");
    assert!(out.contains("no change since the last round"), "{out}");
    assert!(out.contains("gatecheck: warning: --watch 2 with --at: every round judges the same instant"), "{out}");
    // A pipe: both rounds, one after the other, no cursor movement, no countdown.
    let assert = gatecheck().args(args).assert().code(1);
    let piped = stdout_of(&assert);
    assert!(piped.contains("evaluation 1 of 2") && piped.contains("evaluation 2 of 2"), "{piped}");
    assert!(!piped.contains('\u{1b}') && !piped.contains("next round in"), "{piped}");
    assert!(stderr_of(&assert).contains("every round judges the same instant"));
}
