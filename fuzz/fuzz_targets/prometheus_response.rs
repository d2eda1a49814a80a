//! Fuzzes the answer of a Prometheus query API (`/api/v1/query`): status code and JSON body.
//! The body is decoded inside prometheus-http-query and then by `sources::prometheus`
//! (classify, to_series), none of which takes bytes, so this target serves the fuzz input from
//! a loopback HTTP server and runs the real path, `sources::prometheus::run_each`.
//! Properties: one outcome per query; the bearer token never shows in an error even when the
//! server echoes it; series go through the evaluator without a NaN ever passing.
#![no_main]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use gatecheck::policy::evaluate::{Evidence, QueryResult};
use gatecheck::sources::prometheus::{run_each, Auth, PrometheusPlan, Secret};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-secret-token";
/// Statuses the server answers with: mostly 200, and the 4xx/5xx the client classifies.
const STATUSES: [u16; 8] = [200, 200, 200, 200, 400, 422, 500, 503];

static RESPONSE: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Answers every connection with the current RESPONSE, then closes it.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    // Read the request head fully first: closing with unread bytes would reset the connection.
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 1 << 16 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let response = RESPONSE.lock().expect("response lock").clone();
    let _ = stream.write_all(&response);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Drain until the client closes so the answer is never cut short by a reset.
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream);
            }
        });
        url
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let status = STATUSES[usize::from(selector & 7)];
    let mut response = format!(
        "HTTP/1.1 {status} Fuzz\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    *RESPONSE.lock().expect("response lock") = response;

    let plan = PrometheusPlan {
        url: server_url().to_string(),
        auth: Auth::Bearer(Secret::new(TOKEN)),
        headers: Vec::new(),
        ca_file: None,
        timeout: Duration::from_secs(5),
        retries: 0,
        concurrency: 1,
    };
    let policy = gatecheck_fuzz::saturation_policy();
    let queries: Vec<(String, String)> =
        policy.queries().into_iter().take(1).map(|(gate, query)| (gate.to_string(), query.to_string())).collect();
    let outcomes = runtime().block_on(run_each(&plan, &queries, 1_767_225_600)).expect("the client builds");
    assert_eq!(outcomes.len(), queries.len());
    for (_, query, outcome) in &outcomes {
        match outcome {
            Err(e) => assert!(!e.to_string().contains(TOKEN), "the token leaked: {e}"),
            Ok(answer) => {
                // Every query of the policy gets these series, so every query gate is judged.
                let result = QueryResult {
                    series: answer.series.clone(),
                    at: "2026-01-01T00:00:00Z".into(),
                    warnings: answer.warnings.clone(),
                };
                let mut evidence = Evidence::default();
                for (_, q) in policy.queries() {
                    evidence.queries.insert(q.to_string(), result.clone());
                }
                evidence.queries.insert(query.clone(), result);
                gatecheck_fuzz::judge(policy, &evidence);
            }
        }
    }
    let mut out = Vec::new();
    let _ = gatecheck::report::probe::render(policy, "2026-01-01T00:00:00Z", &outcomes, &mut out);
    assert!(!String::from_utf8_lossy(&out).contains(TOKEN), "the token leaked into the probe report");
});
