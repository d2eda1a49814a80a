//! The HTML report: written by every judging command, self-contained (nothing fetched when it
//! opens), its structure snapshot-tested, and opened from disk in a real headless Chromium that
//! must show no console error or failed load, every gate row, and every plot drawn with its
//! threshold marker. The screenshot is kept as a test artifact (and becomes the README's with
//! `make report-screenshot`).

use serde_json::Value;

use crate::browser;
use crate::support::*;

const LATENCY: &str = "fixtures/k6/1.1.0/fail-latency";

/// The release policy without k6's own thresholds enforced (they are never waivable) and
/// without the consecutive-passes gate (so the history below can be green), in `dir`.
fn showcase_policy(dir: &std::path::Path) -> std::path::PathBuf {
    let text = release_text_without_k6_enforced();
    let text = text.split("# A scaling change is accepted").next().unwrap().to_string();
    let path = dir.join("release.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A report with everything in it: raw samples (curves), a baseline, a waived breach, a stale
/// waiver and a run history. Returns the HTML and JSON report paths.
fn showcase_report(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let policy = showcase_policy(dir);
    let history = dir.join("history");
    // Three distinct runs (one run in two formats would count once).
    for summary in
        ["pass/summary-export.json", "pass-trend-stats-p99/summary-export.json", "fail-errors/summary-export.json"]
    {
        gatecheck_with_lag()
            .args(["verify", "--policy"])
            .arg(&policy)
            .args(["--summary", &format!("fixtures/k6/1.1.0/{summary}"), "--history"])
            .arg(&history)
            .assert()
            .code(predicates::ord::lt(2));
    }
    let expires = (time::OffsetDateTime::now_utc().date() + time::Duration::days(10)).to_string();
    let waivers = dir.join("waivers.toml");
    std::fs::write(
        &waivers,
        format!(
            "[[waiver]]\ngate = \"read-latency\"\nthreshold = \"p(95) < 400ms\"\nowner = \"dana@example.com\"\nreason = \"cold cache after the index rebuild\"\nticket = \"OPS-1234\"\nexpires = {expires}\n\n[[waiver]]\ngate = \"write-errors\"\nowner = \"lee@example.com\"\nreason = \"provider outage\"\nticket = \"OPS-1200\"\nexpires = {expires}\n"
        ),
    )
    .unwrap();
    let (html, json) = (dir.join("verdict.html"), dir.join("verdict.json"));
    gatecheck_with_lag()
        .args(["verify", "--policy"])
        .arg(&policy)
        .args(["--summary", &format!("{LATENCY}/summary-export.json"), "--raw", &format!("{LATENCY}/raw.ndjson")])
        .args(["--baseline", "fixtures/k6/1.1.0/pass/raw.ndjson", "--waivers"])
        .arg(&waivers)
        .arg("--history")
        .arg(&history)
        .arg("--report")
        .arg(format!("html={}", html.display()))
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .assert()
        .code(0);
    (html, json)
}

/// The page's elements outside SVG, style and script as `tag.class` lines, runs of the same
/// line counted: the structure, not the figures.
fn structure(html: &str) -> String {
    let mut lines: Vec<(String, usize)> = Vec::new();
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(end_tag) = skip_until {
            if rest.starts_with(&end_tag[1..]) {
                skip_until = None;
            }
            continue;
        }
        if rest.starts_with('/') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag_text = &rest[..end];
        let name: String = tag_text.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let class = tag_text
            .split("class=\"")
            .nth(1)
            .and_then(|c| c.split('"').next())
            .map(|c| format!(".{}", c.replace(' ', ".")))
            .unwrap_or_default();
        let gate = tag_text
            .split("data-gate=\"")
            .nth(1)
            .and_then(|c| c.split('"').next())
            .map(|g| format!("[{g}]"))
            .unwrap_or_default();
        let id = tag_text
            .split("id=\"")
            .nth(1)
            .and_then(|c| c.split('"').next())
            .map(|i| format!("#{i}"))
            .unwrap_or_default();
        let line = format!("{name}{id}{class}{gate}");
        // Cells and their contents vary with the figures: rows are counted by status instead.
        let cell = ["td", "th", "b", "meta", "span", "div"].contains(&name.as_str())
            && !["history-strip", "plots"].iter().any(|c| class.contains(c));
        if cell {
            continue;
        }
        match lines.last_mut() {
            Some((last, count)) if *last == line => *count += 1,
            _ => lines.push((line, 1)),
        }
        skip_until = match name.as_str() {
            "svg" => Some("</svg"),
            "style" => Some("</style"),
            "script" => Some("</script"),
            _ => None,
        };
    }
    lines.iter().map(|(line, n)| if *n > 1 { format!("{line} ×{n}\n") } else { format!("{line}\n") }).collect()
}

const PROBE: &str = r##"JSON.stringify({
  rows: document.querySelectorAll('table.gates tbody tr').length,
  plots: Number(document.body.dataset.plots),
  rendered: Number(document.body.dataset.plotsRendered),
  svgs: Array.from(document.querySelectorAll('figure.plot svg')).map(function (svg) {
    var box = svg.getBoundingClientRect();
    return { width: box.width, height: box.height, children: svg.querySelectorAll('*').length,
             threshold: svg.querySelectorAll('[stroke="#D62728"]').length };
  }),
  headline: document.querySelector('header.verdict h1').textContent,
  exit: document.querySelector('header.verdict .exit-code').textContent,
  firstRow: document.querySelector('table.gates tbody tr').className,
  waived: document.querySelectorAll('table.gates tbody tr.waived').length,
  history: document.querySelectorAll('.history-strip span').length
})"##;

#[test]
fn the_html_report_opens_in_a_real_browser_without_errors_and_draws_every_plot() {
    let dir = tempfile::tempdir().unwrap();
    let (html, json) = showcase_report(dir.path());
    let text = std::fs::read_to_string(&html).unwrap();
    insta::assert_snapshot!("html_report_structure", structure(&text));
    let Some(chromium) = browser::chromium_or_skip() else { return };
    let run = browser::open(&chromium, &html, PROBE);
    assert!(run.problems.is_empty(), "the page logged problems: {:#?}", run.problems);
    let probe: Value = serde_json::from_str(run.probe.as_str().expect("the probe returns JSON text")).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(probe["rows"], report["gates"].as_array().unwrap().len(), "{probe:#}");
    assert_eq!(probe["plots"], 3, "one plot per latency gate with samples: {probe:#}");
    assert_eq!(probe["rendered"], probe["plots"], "{probe:#}");
    for svg in probe["svgs"].as_array().unwrap() {
        assert!(svg["width"].as_f64().unwrap() > 100.0 && svg["height"].as_f64().unwrap() > 100.0, "{svg}");
        assert!(svg["children"].as_u64().unwrap() > 10 && svg["threshold"].as_u64().unwrap() > 0, "{svg}");
    }
    assert_eq!(probe["headline"], "RELEASE OK");
    assert_eq!(probe["exit"], "exit code 0");
    assert_eq!(probe["firstRow"], "waived", "{probe:#}");
    assert_eq!(probe["waived"], 1);
    // The three recorded runs carry no times (summary-export) and were judged after this run's
    // evidence began (2026-11-27): a pass that may have run after it is no run before it
    // (finding round20-judge/01), while the blocked one counts wherever it ran. So the strip
    // shows the blocked run and this one.
    assert_eq!(probe["history"], 2, "the blocked recorded run and this one: {probe:#}");
    assert!(run.screenshot_png.starts_with(b"\x89PNG\r\n\x1a\n") && run.screenshot_png.len() > 10_000);
    let artifact = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    std::fs::write(&artifact, &run.screenshot_png).unwrap();
    eprintln!("screenshot: {}", artifact.display());
    // `make report-screenshot` keeps it for the README.
    if let Some(keep) = std::env::var_os("GATECHECK_REPORT_SCREENSHOT") {
        std::fs::write(keep, &run.screenshot_png).unwrap();
    }
}

#[test]
fn the_browser_check_catches_console_errors_exceptions_and_failed_loads() {
    let Some(chromium) = browser::chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"missing.png\"><script>console.error('boom'); notAFunction();</script></body></html>",
    )
    .unwrap();
    let run = browser::open(&chromium, &page, "1");
    let all = run.problems.join("\n");
    assert!(all.contains("boom"), "{all}");
    assert!(all.contains("notAFunction"), "{all}");
    assert!(all.contains("missing.png"), "{all}");
}

#[test]
fn the_html_report_is_self_contained_and_says_when_there_are_no_samples() {
    let assert = gatecheck_with_lag()
        .args(["verify", "--summary", "fixtures/k6/1.1.0/fail-errors/summary-export.json", "--report", "html=-"])
        .assert()
        .code(1);
    let out = stdout_of(&assert);
    let html = &out[out.find("<!DOCTYPE html>").expect("the page is on stdout")..];
    let html = &html[..html.find("</html>").expect("the page ends") + "</html>".len()];
    for fetched in ["<link", "<img", " src=", "url(", "@import", "http://", "https://"] {
        assert!(!html.contains(fetched), "the page would fetch something ({fetched}):\n{html}");
    }
    assert!(html.contains("RELEASE BLOCKED") && html.contains("exit code 1"), "{html}");
    assert!(html.contains("no latency distribution"), "a summary without samples says so: {html}");
    assert!(!html.contains("<figure"), "no curve is invented from a summary: {html}");
    // Blocking rows come first.
    let first = html.split("<tbody>").nth(1).unwrap();
    assert!(first.trim_start().starts_with("<tr class=\"fail\">"), "{first}");
    assert!(html.contains("sha256") || html.contains("SHA-256"));
    assert!(html.contains(gatecheck::policy::verdict::TOOL));
}

#[test]
fn every_judging_command_writes_the_html_report() {
    let dir = tempfile::tempdir().unwrap();
    // demo: the whole pipeline, a native run whose histograms give the curves.
    let demo = dir.path().join("demo.html");
    gatecheck()
        .args(["demo", "--duration", "4s", "--out-dir"])
        .arg(dir.path().join("demo"))
        .arg("--report")
        .arg(format!("html={}", demo.display()))
        .assert()
        .code(predicates::ord::lt(2));
    let page = std::fs::read_to_string(&demo).expect("demo wrote the html report");
    assert!(page.contains("<figure class=\"plot\""), "a native run's histograms are drawn");
    // verify of a merge of two shards (merge writes the summary verify judges), and check.
    // The demo's run stands for both segments of a two-segment run (merge refuses a duplicate).
    let demo_summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo/k6-summary.json")).unwrap()).unwrap();
    let shard = |index: u32| {
        let mut doc = demo_summary.clone();
        // Each half of a plan of twice the VUs and cap (merge holds segments to their plan).
        as_segment(&mut doc, index, 2);
        let path = dir.path().join(format!("shard-{index}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    };
    let (summary, copy) = (shard(0), shard(1));
    let merged = dir.path().join("merged.json");
    gatecheck().args(["merge", "--out"]).arg(&merged).arg(&summary).arg(&copy).assert().code(0);
    let verify = dir.path().join("verify.html");
    gatecheck()
        .args(["verify", "--no-env", "--summary"])
        .arg(&merged)
        .arg("--report")
        .arg(format!("html={}", verify.display()))
        .assert()
        .code(predicates::ord::lt(2));
    assert!(std::fs::read_to_string(&verify).unwrap().contains("<figure class=\"plot\""));
    let check = dir.path().join("check.html");
    gatecheck()
        .args(["check", "--policy", "gates/release.toml", "--summary"])
        .arg(&summary)
        .arg("--report")
        .arg(format!("html={}", check.display()))
        .assert()
        .code(predicates::ord::lt(2));
    assert!(std::fs::read_to_string(&check).unwrap().starts_with("<!DOCTYPE html>"));
}
