//! A real browser for report tests: the system's headless Chromium, driven over the DevTools
//! protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL-separated JSON), so
//! nothing is downloaded and no port is opened. It loads a page from disk and collects every
//! console error, uncaught exception, log error and failed resource load on the way.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The Chromium binary: GATECHECK_CHROMIUM, else the Debian package's `chromium` on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GATECHECK_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Chromium, or `None` after recording the skip; in CI a missing Chromium fails the test.
pub fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed: CI must run the browser tests (scripts/ensure-test-deps.sh installs it)"
        );
        crate::support::record_skip("chromium is not installed (apt-get install chromium, or make install-tools)");
    }
    found
}

/// What loading a page showed.
pub struct PageRun {
    /// Console errors, exceptions, log errors and failed loads, one line each.
    pub problems: Vec<String>,
    /// The value of `probe` (a JavaScript expression) after the load.
    pub probe: Value,
    pub screenshot_png: Vec<u8>,
}

struct Browser {
    child: Child,
    to: std::fs::File,
    from: Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe() failed");
    // SAFETY: both descriptors were just created and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    fn start(chromium: &Path) -> Browser {
        use std::os::fd::AsRawFd;
        let profile = tempfile::tempdir().expect("profile dir");
        let (browser_in, to_browser) = pipe();
        let (from_browser, browser_out) = pipe();
        let (child_in, child_out) = (browser_in.as_raw_fd(), browser_out.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (dup2) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(child_in, 3) < 0 || libc::dup2(child_out, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop((browser_in, browser_out));
        let (sender, from) = std::sync::mpsc::channel();
        let reader = std::fs::File::from(from_browser);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        message.pop();
                        let Ok(value) = serde_json::from_slice::<Value>(&message) else { continue };
                        if sender.send(value).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Browser { child, to: std::fs::File::from(to_browser), from, next_id: 0, events: Vec::new(), _profile: profile }
    }

    /// Sends a command (to a page session when given) and waits for its answer; events that
    /// arrive meanwhile are kept.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from.recv_timeout(left) {
                Ok(value) if value["id"] == id => {
                    assert!(value.get("error").is_none(), "{method}: {}", value["error"]);
                    return value["result"].clone();
                }
                Ok(event) => self.events.push(event),
                Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer {method} in 30 s"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium exited during {method}"),
            }
        }
    }

    /// Waits for an event of `method` (already received or coming).
    fn wait_for(&mut self, method: &str) {
        if self.events.iter().any(|e| e["method"] == method) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.from.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(event) => {
                    let done = event["method"] == method;
                    self.events.push(event);
                    if done {
                        return;
                    }
                }
                Err(_) => panic!("no {method} from chromium in 30 s"),
            }
        }
    }

    /// Every message that says something went wrong while the page loaded.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for event in &self.events {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or_default() {
                "Runtime.consoleAPICalled" if matches!(params["type"].as_str(), Some("error" | "assert")) => {
                    problems.push(format!("console.{}: {}", params["type"], params["args"]))
                }
                "Runtime.exceptionThrown" => problems.push(format!("exception: {}", params["exceptionDetails"])),
                "Log.entryAdded" if params["entry"]["level"] == "error" => {
                    problems.push(format!("log: {} {}", params["entry"]["text"], params["entry"]["url"]))
                }
                "Network.loadingFailed" => problems.push(format!("failed load: {}", params)),
                "Network.responseReceived" if params["response"]["status"].as_u64().is_some_and(|s| s >= 400) => {
                    problems.push(format!("HTTP {}: {}", params["response"]["status"], params["response"]["url"]))
                }
                _ => {}
            }
        }
        problems
    }
}

/// Opens `page` from disk in headless Chromium, evaluates `probe` once it has loaded, and
/// takes a full-page screenshot.
pub fn open(chromium: &Path, page: &Path, probe: &str) -> PageRun {
    let mut browser = Browser::start(chromium);
    let target = browser.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached =
        browser.call(None, "Target.attachToTarget", json!({"targetId": target["targetId"], "flatten": true}));
    let session = attached["sessionId"].as_str().expect("a session id").to_string();
    let s = Some(session.as_str());
    for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
        browser.call(s, domain, json!({}));
    }
    let url = format!("file://{}", page.canonicalize().expect("page exists").display());
    let navigated = browser.call(s, "Page.navigate", json!({"url": url}));
    assert!(navigated.get("errorText").is_none(), "navigation failed: {navigated}");
    browser.wait_for("Page.loadEventFired");
    let probe = browser.call(s, "Runtime.evaluate", json!({"expression": probe, "returnByValue": true}));
    let height = browser.call(
        s,
        "Runtime.evaluate",
        json!({"expression": "document.documentElement.scrollHeight", "returnByValue": true}),
    );
    let height = height["result"]["value"].as_u64().unwrap_or(900).clamp(300, 8000);
    browser.call(
        s,
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    );
    let shot = browser.call(s, "Page.captureScreenshot", json!({"format": "png"}));
    use base64::Engine;
    let screenshot_png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("screenshot is base64");
    // Dropping the browser ends its process.
    let problems = browser.problems();
    PageRun { problems, probe: probe["result"]["value"].clone(), screenshot_png }
}
