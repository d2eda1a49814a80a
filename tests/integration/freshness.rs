//! Stale evidence never passes: freshness rows, window coverage and the age of load-test
//! evidence, against a REAL Prometheus holding the fixture data (the last sample of every
//! series at T = 2026-01-01T00:00:00Z).

use serde_json::json;

use crate::support::*;

/// T plus `minutes`, as unix seconds.
fn at_plus(minutes: i64) -> String {
    (FIXTURE_T.parse::<i64>().unwrap() + minutes * 60).to_string()
}

fn check_at(prom: &PrometheusFixture, at: &str, extra: &[&str]) -> (Option<i32>, String) {
    let assert = gatecheck().args(["check", "--prometheus-url", &prom.url, "--at", at]).args(extra).assert();
    (assert.get_output().status.code(), stdout_of(&assert))
}

#[test]
fn the_saturation_check_notices_when_the_data_stopped() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let freshness = "api-freshness";
    // At T the scrape is current and was up for the whole window.
    let (_, out) = check_at(&prom, FIXTURE_T, &[]);
    let line = table_line(&out, freshness, "age < 2m");
    assert!(line.contains("PASS") && line.contains("0s old"), "{out}");
    assert!(table_line(&out, freshness, "up for the whole 10m").contains("PASS"), "{out}");
    assert!(table_line(&out, "email-backlog {channel=\"email\"}", "value < 500").contains("PASS"), "{out}");
    // Coverage that holds is context: shown with --verbose (and in every report).
    let (_, verbose) = check_at(&prom, FIXTURE_T, &["--verbose"]);
    assert!(verbose.contains("coverage 100% of the 10m window"), "{verbose}");

    // T+4m: the scrape stopped at T; the newest sample is 4 minutes old.
    let (code, out) = check_at(&prom, &at_plus(4), &[]);
    assert_eq!(code, Some(1));
    let line = table_line(&out, freshness, "age < 2m");
    assert!(line.contains("FAIL") && line.contains("4m old"), "{out}");
    assert!(out.contains("is 4m old (at 2026-01-01T00:00:00Z), over the 2m allowed"), "{out}");

    // T+9m: past Prometheus's 5 minute lookback the newest sample is still found and named; the
    // 10 minute windows hold one minute of data, which is no longer the window the threshold
    // was written for; the check is blocked although the backlog values left are fine.
    let (code, out) = check_at(&prom, &at_plus(9), &[]);
    assert_eq!(code, Some(1));
    let line = table_line(&out, freshness, "age < 2m");
    assert!(line.contains("FAIL") && line.contains("9m old"), "{out}");
    let backlog = table_line(&out, "email-backlog {channel=\"email\"}", "value < 500");
    assert!(backlog.contains("NO DATA"), "{out}");
    assert!(out.contains("covers only 12.5% of the 10m window (5 samples at 15s)"), "{out}");
    assert!(out.contains("RELEASE BLOCKED"), "{out}");
}

#[test]
fn a_window_only_partly_covered_is_no_data_with_the_coverage_found() {
    let Some(prom) = PrometheusFixture::start() else { return };
    // The backlog series holds 30 minutes of data: a one-hour window is half covered.
    let (_guard, policy) = policy_file(
        "[[gate]]\nid = \"backlog-1h\"\nquery = 'max_over_time(waxwatch_notification_backlog_items{channel=\"email\"}[1h])'\nunit = \"number\"\nthresholds = [\"value < 500\"]\nmin_coverage = \"90%\"\ncoverage = { selector = 'waxwatch_notification_backlog_items{channel=\"email\"}', window = \"1h\", interval = \"15s\" }\n[[gate]]\nid = \"backlog-10m\"\nquery = 'max_over_time(waxwatch_notification_backlog_items{channel=\"email\"}[10m])'\nunit = \"number\"\nthresholds = [\"value < 500\"]\nmin_coverage = \"90%\"\ncoverage = { selector = 'waxwatch_notification_backlog_items{channel=\"email\"}', window = \"10m\", interval = \"15s\" }\n",
    );
    let (code, out) = check_at(&prom, FIXTURE_T, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(table_line(&out, "backlog-1h {channel=\"email\"}", "value < 500").contains("NO DATA"), "{out}");
    assert!(out.contains("covers only 50.4% of the 1h window (121 samples at 15s)"), "{out}");
    assert!(table_line(&out, "backlog-10m {channel=\"email\"}", "value < 500").contains("PASS"), "{out}");
}

#[test]
fn a_target_down_during_the_window_fails_up_for_the_whole_window() {
    let Some(prom) = PrometheusFixture::start() else { return };
    // The worker missed one scrape at T-5m.
    let (_guard, policy) = policy_file(
        "[[freshness]]\nid = \"worker\"\nselector = 'up{job=\"waxwatch-worker\"}'\nmax_age = \"2m\"\nup_for = \"10m\"\n[[gate]]\nid = \"db\"\nquery = 'max_over_time(waxwatch_db_connection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n",
    );
    let (code, out) = check_at(&prom, FIXTURE_T, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(table_line(&out, "worker", "age < 2m").contains("PASS"), "{out}");
    assert!(table_line(&out, "worker", "up for the whole 10m").contains("FAIL"), "{out}");
    // A selector with no samples at all is NO DATA.
    let (_guard, policy) = policy_file(
        "[[freshness]]\nid = \"nothing\"\nselector = 'up{job=\"no-such-job\"}'\nmax_age = \"2m\"\n[[gate]]\nid = \"db\"\nquery = 'max_over_time(waxwatch_db_connection_utilization[10m])'\nunit = \"ratio\"\nthresholds = [\"value < 0.85\"]\n",
    );
    let (code, out) = check_at(&prom, FIXTURE_T, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(table_line(&out, "nothing", "age < 2m").contains("NO DATA"), "{out}");
}

#[test]
fn check_watch_shows_the_age_of_the_newest_sample_every_round() {
    let Some(prom) = PrometheusFixture::start() else { return };
    let (_, out) = check_at(&prom, &at_plus(4), &["--watch", "2", "--require", "1", "--interval", "10ms"]);
    let ages: Vec<&str> = out.lines().filter(|l| l.starts_with("data age: api-freshness")).collect();
    assert_eq!(ages.len(), 2, "{out}");
    assert!(ages.iter().all(|l| l.contains("4m old") && l.contains("FAIL")), "{ages:?}");
}

#[test]
fn load_test_evidence_older_than_the_maximum_age_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("k6-summary.json");
    std::fs::copy(fixture("k6/1.1.0/pass/summary-export.json"), &summary).unwrap();
    // A fresh k6 file (aged by its modification time) passes and says how it was aged.
    let verify = |path: &std::path::Path, code: i32| {
        stdout_of(
            &gatecheck_with_lag()
                .args(["verify", "--max-evidence-age", "24h", "--summary"])
                .arg(path)
                .assert()
                .code(code),
        )
    };
    let out = verify(&summary, 0);
    let line = table_line(&out, "run-integrity", "evidence age < 24h");
    assert!(line.contains("PASS"), "{out}");
    assert!(out.contains("modification time (k6 records no end time)"), "{out}");
    // Two days old: blocked.
    let status = std::process::Command::new("touch").args(["-d", "2 days ago"]).arg(&summary).status().unwrap();
    assert!(status.success());
    let out = verify(&summary, 1);
    let line = table_line(&out, "run-integrity", "evidence age < 24h");
    assert!(line.contains("FAIL") && line.contains("48h"), "{line}");
    assert!(out.contains("over the 24h allowed"), "{out}");
    // A native summary is aged by its recorded end time, whatever the file's time says.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("k6/1.1.0/pass/summary-export.json")).unwrap()).unwrap();
    doc["metrics"]["dropped_iterations"] = json!({"count": 0, "rate": 0});
    doc["gatecheck"] = json!({"partial": false, "skipped_flows": [], "ended_at": "2026-01-01T00:00:00Z"});
    let native = dir.path().join("native.json");
    std::fs::write(&native, doc.to_string()).unwrap();
    let out = verify(&native, 1);
    assert!(table_line(&out, "run-integrity", "evidence age < 24h").contains("FAIL"), "{out}");
    assert!(out.contains("recorded end time (gatecheck.ended_at)"), "{out}");
    // The same key in settings.
    let config = dir.path().join("gatecheck.toml");
    std::fs::write(&config, "max_evidence_age = \"24h\"\n").unwrap();
    let out = stdout_of(
        &gatecheck_with_lag().arg("--config").arg(&config).args(["verify", "--summary"]).arg(&native).assert().code(1),
    );
    assert!(table_line(&out, "run-integrity", "evidence age < 24h").contains("FAIL"), "{out}");
}

/// Every query gatecheck sends treats a partial response alike: the `up_for` row and window
/// coverage once passed on a Thanos/Mimir partial response and showed nothing.
#[test]
fn up_for_and_coverage_on_a_partial_response_are_no_data_unless_accepted() {
    // Answers every query with the fixture time as its value (a fresh timestamp, up, plenty
    // of samples, a small figure); the up_for and coverage queries carry a warning.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&request);
            let warn = text.contains("min_over_time") || text.contains("count_over_time");
            let warnings = if warn { r#","warnings":["partial response: store 10.0.0.7 unavailable"]"# } else { "" };
            // up_for's hole queries: the newest sample was at most 30 s old at every one of the
            // 40 steps (no hole); every other query answers the fixture time.
            let value = if text.contains("time%28%29") || text.contains("time()") {
                "30".to_string()
            } else if text.contains("count_over_time") {
                "40".to_string()
            } else {
                FIXTURE_T.to_string()
            };
            let body = format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{FIXTURE_T},"{value}"]}}]}}{warnings}}}"#
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let (_guard, policy) = policy_file(
        "[[gate]]\nid = \"pool\"\nquery = 'max(pool)'\nunit = \"number\"\nthresholds = [\"value < 10000000000\"]\n\
         min_coverage = \"90%\"\ncoverage = { selector = 'pool', window = \"10m\", interval = \"15s\" }\n\
         [[freshness]]\nid = \"api-fresh\"\nselector = 'up'\nmax_age = \"2m\"\nup_for = \"10m\"\n",
    );
    let check = |extra: &[&str], code: i32| {
        stdout_of(
            &gatecheck()
                .args(["check", "--policy"])
                .arg(&policy)
                .args(["--prometheus-url", &url, "--at", FIXTURE_T])
                .args(extra)
                .assert()
                .code(code),
        )
    };
    let out = check(&[], 1);
    assert!(table_line(&out, "api-fresh", "up for the whole 10m").contains("NO DATA"), "{out}");
    assert!(table_line(&out, "api-fresh", "age < 2m").contains("PASS"), "{out}");
    assert!(table_line(&out, "pool", "value < 10000000000").contains("NO DATA"), "{out}");
    assert!(out.contains("window coverage: Prometheus answered with warnings"), "{out}");
    assert!(out.contains("partial response: store 10.0.0.7 unavailable"), "{out}");
    // The accepted warning is a note on a passing row: shown with --verbose.
    let out = check(&["--accept-partial-response", "--verbose"], 0);
    assert!(table_line(&out, "pool", "value < 10000000000").contains("PASS"), "{out}");
    assert!(out.contains("partial response accepted: partial response: store 10.0.0.7 unavailable"), "{out}");
}
