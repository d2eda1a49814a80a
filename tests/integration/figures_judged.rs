//! Issue 19's listed examples, one regression test each: every figure read once, exactly, in
//! range and in time. The classes are stated generatively in `invariants.rs`; these are the
//! witnesses that were given.

use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::*;

/// A loopback server answering every request with `body` as a Prometheus API response.
pub fn serve_json(body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// A PromQL vector answer with one series of value `text`.
pub fn vector_answer(text: &str) -> String {
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1767225600,"{text}"]}}]}}}}"#
    )
}

const LAG_IN_SECONDS: &str = "[[gate]]\nid = \"lag\"\nunit = \"s\"\nthresholds = [\"p(95) < 2010ms\"]\n[gate.env]\n\"p(95)\" = \"SCHEDULER_LAG_P95_SECONDS\"\n";

#[test]
fn an_env_figure_in_seconds_meets_a_millisecond_limit_exactly() {
    // 2.01 × 1000 is 2009.9999999999998 in binary floating point: it passed on dd0cb13.
    let (_guard, policy) = policy_file(LAG_IN_SECONDS);
    let out = stdout_of(
        &gatecheck()
            .env("SCHEDULER_LAG_P95_SECONDS", "2.01")
            .args(["verify", "--policy"])
            .arg(&policy)
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "lag", "p(95) < 2010ms").contains("FAIL"), "{out}");
    gatecheck().env("SCHEDULER_LAG_P95_SECONDS", "2.009").args(["verify", "--policy"]).arg(&policy).assert().code(0);
}

#[test]
fn an_env_figure_with_more_digits_than_a_figure_holds_is_refused() {
    let (_guard, policy) = policy_file(LAG_IN_SECONDS);
    gatecheck()
        .env("SCHEDULER_LAG_P95_SECONDS", "2.00999999999999999999")
        .args(["verify", "--policy"])
        .arg(&policy)
        .assert()
        .code(2)
        .stderr(contains("SCHEDULER_LAG_P95_SECONDS").and(contains("significant digits")));
}

#[test]
fn a_promql_figure_in_seconds_meets_a_millisecond_limit_exactly() {
    let (_guard, policy) =
        policy_file("[[gate]]\nid = \"lag\"\nquery = 'max(lag)'\nunit = \"s\"\nthresholds = [\"value < 2010ms\"]\n");
    let url = serve_json(vector_answer("2.01"));
    let out = stdout_of(
        &gatecheck()
            .args(["check", "--policy"])
            .arg(&policy)
            .args(["--prometheus-url", &url, "--at", FIXTURE_T])
            .assert()
            .code(1),
    );
    assert!(table_line(&out, "lag", "value < 2010ms").contains("FAIL"), "{out}");
}
