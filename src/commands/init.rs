//! `gatecheck init`: a working starting point for another team's API, written into the current
//! directory: the scenario (`gates/core-flows.toml`, the path `smoke` and `run` read by
//! default), a release policy with latency, error and check gates per flow, a saturation
//! policy skeleton, a release-gates workflow, and the JSON Schemas the files' `#:schema` lines
//! name. Like `cargo init`, it never overwrites: if any of those files exists, nothing is
//! written and the existing ones are named.
//!
//! Endpoints come from `--endpoint "METHOD PATH [JSON body]"` or an OpenAPI 3 document (JSON
//! or YAML). From OpenAPI, GET endpoints are read by default and anything that writes only when
//! also named with `--endpoint`: a scaffold must never start writing to someone's API unasked.
//! Flows are one per OpenAPI tag, else one per path group (the first path segment after `api`
//! and a version), so gates read like the API's own sections.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{FileKind, InitArgs};
use crate::error::Error;

use super::lint::PLACEHOLDER;
use super::{write_out, Outcome};

/// One endpoint the scenario loads.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub body: Option<serde_json::Value>,
    /// The flow it belongs to (a tag or a path group), already a valid flow name.
    pub flow: String,
    pub expect_status: u16,
}

impl Endpoint {
    fn writes(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// Writes a file that must not exist yet (`create_new`: never through a link, never over a
/// file that appeared meanwhile), creating its folders.
fn write_new(path: &std::path::Path, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.display().to_string(), source })?;
    }
    // Checked as generated (`generated_as_is`) before any file is written; the backstop of
    // every file gatecheck writes then finds nothing to mask.
    let bytes = crate::report::without_credentials(text.as_bytes()).map_err(fail)?;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(fail)?;
    file.write_all(&bytes).map_err(fail)
}

/// The gate whose table holds `line` (from 1) of a policy init writes: the `id` of the nearest
/// `[[gate]]` above it.
fn gate_of_toml_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().take(line).collect();
    let table = lines.iter().rposition(|l| l.trim_start().starts_with('['))?;
    if lines[table].trim() != "[[gate]]" {
        return None;
    }
    text.lines().skip(table + 1).take_while(|l| !l.trim_start().starts_with('[')).find_map(|l| {
        let value = l.trim().strip_prefix("id")?.trim_start().strip_prefix('=')?.trim();
        Some(value.trim_matches('"').to_string())
    })
}

pub fn init(args: InitArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    // The base URL goes into a file to be committed: refused with credentials, as a run refuses
    // it (finding round20-text/01).
    crate::input::refuse_url_credentials(
        "--base-url",
        &args.base_url,
        "the bearer token is read from PERF_BEARER_TOKEN when the scenario runs",
    )?;
    // Written into PromQL inside TOML strings: a metric name and nothing else (finding
    // round7-text/03: a quote and a line break wrote lines of their own into the policy).
    for (flag, name) in [
        ("--latency-histogram", args.latency_histogram.as_deref()),
        ("--utilization-gauge", args.utilization_gauge.as_deref()),
    ] {
        if let Some(name) = name.filter(|name| !is_metric_name(name)) {
            return Err(Error::Settings(format!(
                "init {flag} {}: expected a Prometheus metric name (letters, digits, _ and :, not starting with a digit)",
                crate::escape::line(&format!("{name:?}"))
            )));
        }
    }
    let endpoints = endpoints(&args)?;
    let files = render(&args, &endpoints)?;
    // Each file is written exactly as generated or none is (finding round39-text/03; round20-
    // text/01: an endpoint path quoting the token went into a file to be committed, and masked
    // it would be a scenario loading `/api/***/items`).
    for (path, text) in &files {
        crate::secret::generated_as_is(&path.display().to_string(), text, &|line| gate_of_toml_line(text, line))
            .map_err(Error::Settings)?;
    }
    // Nothing that exists is replaced, and nothing is written through a link: a dangling link
    // counts as existing (it would be followed out of this directory), and every folder on the
    // way must be a real folder.
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.symlink_metadata().is_ok())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::Settings(format!(
            "init: {} already exist(s); nothing was written (init never overwrites: move them away or start in an empty directory)",
            crate::escape::line(&existing.join(", "))
        )));
    }
    for (path, _) in &files {
        for dir in path.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
            if dir.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                return Err(Error::Settings(format!(
                    "init: {} is not a folder (a file or a link); nothing was written: init writes only into real folders below this one",
                    crate::escape::line(&dir.display().to_string())
                )));
            }
        }
    }
    let mut written: Vec<&std::path::Path> = Vec::new();
    let mut report = String::new();
    for (path, text) in &files {
        if let Err(error) = write_new(path, text) {
            // All or nothing: a half-written scaffold would make the next init refuse.
            for done in written.iter().rev() {
                let _ = std::fs::remove_file(done);
            }
            return Err(error);
        }
        written.push(path);
        report.push_str(&format!("wrote {}\n", crate::escape::line(&path.display().to_string())));
    }
    let flows: Vec<&str> = {
        let mut flows: Vec<&str> = endpoints.iter().map(|e| e.flow.as_str()).collect();
        flows.dedup();
        flows
    };
    report.push_str(&format!(
        "gatecheck init: {} endpoint(s) in {} flow(s) ({}); next: gatecheck lint gates/*.toml, then gatecheck run\n",
        endpoints.len(),
        flows.len(),
        crate::escape::line(&flows.join(", "))
    ));
    let placeholders = files.iter().filter(|(_, text)| !super::lint::placeholders(text).is_empty()).count();
    if placeholders > 0 {
        report.push_str(&format!(
            "{placeholders} file(s) hold {PLACEHOLDER}... placeholders (Prometheus metric names): lint refuses them until they are filled in\n"
        ));
    }
    write_out(out.write_all(report.as_bytes()))?;
    Ok(Outcome::Pass)
}

/// The endpoints from `--endpoint` and `--openapi`, in a stable order, grouped into flows.
fn endpoints(args: &InitArgs) -> Result<Vec<Endpoint>, Error> {
    let mut named = Vec::new();
    for text in &args.endpoints {
        named.push(parse_endpoint(text).map_err(|why| Error::Settings(format!("--endpoint {text:?}: {why}")))?);
    }
    let mut all = match &args.openapi {
        Some(path) => {
            let text = crate::input::read_to_string(path, "OpenAPI document")?;
            from_openapi(&text, &named)
                .map_err(|why| Error::Evidence { path: path.display().to_string(), message: why })?
        }
        None => named,
    };
    if all.is_empty() {
        return Err(Error::Settings(
            "init: no endpoint: give --endpoint \"GET /api/items\" (repeatable) or --openapi FILE".into(),
        ));
    }
    all.sort_by(|a, b| (&a.flow, &a.path, &a.method).cmp(&(&b.flow, &b.path, &b.method)));
    all.dedup_by(|a, b| a.method == b.method && a.path == b.path);
    Ok(all)
}

/// `METHOD PATH [JSON]`, e.g. `POST /api/search {"keywords": ["house"]}`.
pub fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    let text = text.trim();
    let (method, rest) =
        text.split_once(char::is_whitespace).ok_or("expected \"METHOD PATH\", e.g. \"GET /api/items\"")?;
    let method = method.to_ascii_uppercase();
    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(&method.as_str()) {
        return Err(format!("{method:?} is not an HTTP method"));
    }
    let rest = rest.trim_start();
    let (path, body) = match rest.split_once(char::is_whitespace) {
        Some((path, body)) => (path, Some(body.trim())),
        None => (rest, None),
    };
    if !path.starts_with('/') {
        return Err(format!("the path {path:?} must start with /"));
    }
    let body = match body {
        Some(body) => {
            let value: serde_json::Value =
                serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
            if !value.is_object() {
                return Err("the body must be a JSON object".into());
            }
            Some(value)
        }
        None => None,
    };
    Ok(Endpoint { method, path: path.to_string(), body, flow: path_group(path), expect_status: 200 })
}

/// The flow of a path: its first segment after `api` and a version (`/api/v1/items/{id}` ->
/// `items`), as a flow name (letters, digits, `_`).
fn path_group(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_version = |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit());
    let group =
        segments.iter().find(|s| **s != "api" && !is_version(s) && !s.starts_with('{')).copied().unwrap_or("root");
    flow_name(group)
}

fn flow_name(text: &str) -> String {
    let name: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("flow_{name}")
    } else {
        name
    }
}

/// Endpoints of an OpenAPI 3 document: every GET, and every other operation also `named`.
fn from_openapi(text: &str, named: &[Endpoint]) -> Result<Vec<Endpoint>, String> {
    let doc: serde_json::Value = serde_yaml::from_str(text).map_err(|e| format!("not JSON or YAML: {e}"))?;
    let version = doc.get("openapi").and_then(|v| v.as_str()).unwrap_or_default();
    if !version.starts_with('3') {
        return Err(format!("openapi = {version:?}: expected an OpenAPI 3 document"));
    }
    let paths = doc.get("paths").and_then(|p| p.as_object()).ok_or("has no paths object")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else { continue };
        copied_as_written("paths", &serde_json::Value::String(path.clone()))?;
        for (method, operation) in item {
            let method = method.to_ascii_uppercase();
            if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].contains(&method.as_str()) {
                continue;
            }
            let given = named.iter().find(|e| e.method == method && e.path == *path);
            if method != "GET" && given.is_none() {
                continue;
            }
            let tag = operation.get("tags").and_then(|t| t.get(0)).and_then(|t| t.as_str());
            let expect_status = operation
                .get("responses")
                .and_then(|r| r.as_object())
                .and_then(|r| r.keys().filter_map(|k| k.parse::<u16>().ok()).find(|s| (200..300).contains(s)))
                .unwrap_or(200);
            let example =
                operation.pointer("/requestBody/content/application~1json/example").filter(|e| e.is_object()).cloned();
            let body = match given.and_then(|e| e.body.clone()) {
                Some(body) => Some(body),
                None => {
                    if let Some(example) = &example {
                        let field = format!(
                            "paths[{}].{}.requestBody.content[\"application/json\"].example",
                            json_quoted(path),
                            method.to_ascii_lowercase()
                        );
                        copied_as_written(&field, example)?;
                    }
                    example
                }
            };
            out.push(Endpoint {
                method: method.clone(),
                path: path.clone(),
                body,
                flow: tag.map_or_else(|| path_group(path), flow_name),
                expect_status,
            });
        }
    }
    for endpoint in named {
        if !out.iter().any(|e| e.method == endpoint.method && e.path == endpoint.path) {
            return Err(format!(
                "--endpoint \"{} {}\" is not an operation of the document",
                endpoint.method, endpoint.path
            ));
        }
    }
    Ok(out)
}

/// The document's text as a JSON string, for an error naming where it is.
fn json_quoted(text: &str) -> String {
    crate::escape::line(&serde_json::Value::String(text.to_string()).to_string())
}

/// Refuses document text (`value`'s every string and key, at `field`) that the scenario would
/// not read as written: a `${` is a variable reference there, filled from any environment
/// variable (`policy::template::holds_reference`; the language has no escape), so a document's
/// `${GITHUB_TOKEN}` would make the scaffold send the CI job's token to the load target
/// (finding round29-text/05). Refused, naming the field: a scaffold never holds a reference
/// its reviewer did not write.
fn copied_as_written(field: &str, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value as J;
    let refuse = |at: &str, text: &str| {
        Err(format!(
            "{at}: {} holds `{}`, which the scenario init writes would read as an environment variable \
             (there is no escape), and init copies no document text that would; remove it from the document",
            json_quoted(text),
            crate::policy::template::REFERENCE_OPENING
        ))
    };
    match value {
        J::String(text) if crate::policy::template::holds_reference(text) => refuse(field, text),
        J::Array(items) => {
            items.iter().enumerate().try_for_each(|(at, item)| copied_as_written(&format!("{field}/{at}"), item))
        }
        J::Object(members) => members.iter().try_for_each(|(key, item)| {
            let at = format!("{field}/{}", key.replace('~', "~0").replace('/', "~1"));
            if crate::policy::template::holds_reference(key) {
                return refuse(&at, key);
            }
            copied_as_written(&at, item)
        }),
        _ => Ok(()),
    }
}

/// Every file init writes, with its text.
fn render(args: &InitArgs, endpoints: &[Endpoint]) -> Result<Vec<(PathBuf, String)>, Error> {
    let mut files = vec![
        (PathBuf::from("gates/core-flows.toml"), scenario(args, endpoints)?),
        (PathBuf::from("gates/release.toml"), release(endpoints)),
        (PathBuf::from("gates/saturation.toml"), saturation(args)),
        (PathBuf::from(".github/workflows/release-gates.yml"), workflow(endpoints)),
        (PathBuf::from("tests/policy/release.toml"), release_tests(endpoints)),
    ];
    for kind in [FileKind::Policy, FileKind::Scenario, FileKind::Settings, FileKind::Waivers, FileKind::PolicyTest] {
        files.push((Path::new("schemas").join(super::schema::file_name(kind)), super::schema::schema_text(kind)));
    }
    Ok(files)
}

fn quoted(text: &str) -> String {
    crate::escape::toml_string(text)
}

/// The variables the scaffold itself defines (scenario, `[defaults]`, workflow env): a path
/// parameter never takes one over (finding round21-text/01: `{base_url}` filled a path from the
/// base URL, and the workflow defined PERF_BASE_URL twice).
const OWN_VARIABLES: [&str; 4] = ["PERF_BASE_URL", crate::load::plan::DEFAULT_TOKEN_ENV, "PERF_VUS", "PERF_DURATION"];

/// `{name}` path parameters, each read from `PERF_<NAME>` (no default: the run asks for it), or
/// `PERF_PATH_<NAME>` when that would be one of the scaffold's own variables. A name the path
/// repeats is one parameter (the loader fills every `{name}`): a TOML key written twice would not load.
fn path_params(path: &str) -> Vec<(String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .filter(|name| seen.insert(name.clone()))
        .enumerate()
        .map(|(position, name)| {
            let upper = flow_name(&name).to_ascii_uppercase();
            let var = format!("PERF_{upper}");
            let var = if OWN_VARIABLES.contains(&var.as_str()) { format!("PERF_PATH_{upper}") } else { var };
            // A name that reads as a credential's (`{bearer_token}`) would make its variable one
            // (`settings::names_a_credential`), which no request URL may be built from: the
            // parameter's variable is named by its position instead.
            let var = if crate::settings::names_a_credential(&var) {
                format!("PERF_PATH_PARAM_{}", position + 1)
            } else {
                var
            };
            (name, var)
        })
        .collect()
}

fn scenario(args: &InitArgs, endpoints: &[Endpoint]) -> Result<String, Error> {
    let mut text = format!(
        "#:schema ../schemas/scenario.schema.json\n\
         # The smoke load of this API, written by `gatecheck init`: one flow per group of endpoints.\n\
         # `${{VAR}}` takes the environment variable, else its default below; a path parameter's\n\
         # variable has no default, so a run refuses to start without it.\n\n\
         [scenario]\nname = {}\nbase_url = \"${{PERF_BASE_URL}}\"\n",
        quoted(&args.name)
    );
    if args.no_auth {
        text.push_str("# The API takes no bearer token: none is read, and no Authorization header is sent.\nbearer_token_env = \"\"\n");
    } else {
        text.push_str("# Sent as `Authorization: Bearer <token>`; the run refuses to start without it. Never printed.\nbearer_token_env = \"PERF_BEARER_TOKEN\"\n");
    }
    text.push_str(&format!(
        "vus = \"${{PERF_VUS}}\"\nduration = \"${{PERF_DURATION}}\"\nrequest_timeout = \"10s\"\n\
         # Hard cap on requests, whatever the duration: every run stops by itself.\nmax_requests = 200000\n\n\
         [defaults]\nPERF_BASE_URL = {}\nPERF_VUS = \"2\"\nPERF_DURATION = \"30s\"\n",
        quoted(&args.base_url)
    ));
    let mut flows: BTreeMap<&str, Vec<&Endpoint>> = BTreeMap::new();
    for endpoint in endpoints {
        flows.entry(&endpoint.flow).or_default().push(endpoint);
    }
    for (flow, members) in &flows {
        let kind = if members.iter().any(|e| e.writes()) { "writes" } else { "read" };
        text.push_str(&format!(
            "\n[[flow]]\nname = {}\ndescription = {}\nsleep = \"250ms\"\n",
            quoted(flow),
            quoted(&format!("{flow} ({kind})"))
        ));
        for endpoint in members {
            // The method is shown beside the name in every table: the name is the bare path.
            let name = endpoint.path.split('?').next().unwrap_or_default().to_string();
            text.push_str(&format!(
                "\n[[flow.request]]\nname = {}\nmethod = {}\npath = {}\n",
                quoted(&name),
                quoted(&endpoint.method),
                quoted(&endpoint.path)
            ));
            let params = path_params(&endpoint.path);
            if !params.is_empty() {
                let inner: Vec<String> = params
                    .iter()
                    .map(|(name, var)| {
                        format!("{} = {}", crate::escape::toml_key(name), quoted(&format!("${{{var}}}")))
                    })
                    .collect();
                text.push_str(&format!("path_params = {{ {} }}\n", inner.join(", ")));
            }
            text.push_str(&format!(
                "check = {}\nexpect_status = {}\n",
                quoted(&format!("{} {name} status is {}", endpoint.method, endpoint.expect_status)),
                endpoint.expect_status
            ));
            if let Some(body) = &endpoint.body {
                let value: toml::Value = serde_json::from_value(body.clone())
                    .map_err(|e| Error::Settings(format!("the body of {name} has no TOML form (null?): {e}")))?;
                // Every key and string of the body through the one TOML escaping rule, as every
                // other copied text (finding round32-text/03).
                text.push_str(&format!("json = {}\n", crate::escape::toml_inline(&value)));
            }
        }
    }
    Ok(text)
}

fn release(endpoints: &[Endpoint]) -> String {
    let mut text = String::from(
        "#:schema ../schemas/policy.schema.json\n\
         # The release gates of this API, written by `gatecheck init`: per flow, latency, failed\n\
         # requests and checks. Every comparison is strict: a value equal to its limit breaches it.\n\
         # A gate without evidence blocks the release (on_missing = \"fail\", the default).\n\n\
         [policy]\nname = \"release\"\ndescription = \"Per-flow latency, errors and checks of the smoke load\"\n\n\
         [k6_thresholds]\nenforce = true\n",
    );
    let mut flows: BTreeMap<&str, bool> = BTreeMap::new();
    for endpoint in endpoints {
        *flows.entry(&endpoint.flow).or_default() |= endpoint.writes();
    }
    for (flow, writes) in flows {
        let (p95, p99) = limits(writes);
        let (p95, p99) = (format!("{p95}ms"), format!("{p99}ms"));
        let id = flow.replace('_', "-");
        let selector = |metric: &str| quoted(&format!("{metric}{{flow:{flow}}}"));
        text.push_str(&format!(
            "\n[[gate]]\nid = \"{id}-latency\"\ndescription = \"{flow} latency\"\nmetric = {}\nthresholds = [\"p(95) < {p95}\", \"p(99) < {p99}\"]\n\
             \n[[gate]]\nid = \"{id}-errors\"\ndescription = \"{flow} failed requests\"\nmetric = {}\nthresholds = [\"rate < 1%\"]\n\
             \n[[gate]]\nid = \"{id}-checks\"\ndescription = \"{flow} checks passing\"\nmetric = {}\nthresholds = [\"rate > 99%\"]\n",
            selector("http_req_duration"),
            selector("http_req_failed"),
            selector("checks"),
        ));
    }
    text.push_str(
        "\n# Open model: an iteration that was due but could not start means the target could not keep up.\n\
         [[gate]]\nid = \"dropped-iterations\"\ndescription = \"Every iteration that was due started\"\nmetric = \"dropped_iterations\"\nthresholds = [\"count < 1\"]\n",
    );
    text
}

/// The latency limits init writes for a flow: (p95, p99) in ms, stricter for read-only flows.
fn limits(writes: bool) -> (u32, u32) {
    if writes {
        (700, 1500)
    } else {
        (400, 1000)
    }
}

/// Starter unit tests of the release policy (`gatecheck test`): healthy figures ship, and each
/// flow's p95 exactly at its limit blocks (every comparison is strict).
fn release_tests(endpoints: &[Endpoint]) -> String {
    let mut flows: BTreeMap<&str, bool> = BTreeMap::new();
    for endpoint in endpoints {
        *flows.entry(&endpoint.flow).or_default() |= endpoint.writes();
    }
    let figures = |at_limit: Option<&str>| -> String {
        let mut text = String::new();
        for (flow, writes) in &flows {
            let (p95, p99) = limits(*writes);
            let p95 = if at_limit == Some(*flow) { p95 } else { p95 / 2 };
            text.push_str(&format!(
                "[case.k6.\"http_req_duration{{flow:{flow}}}\"]\n\"p(95)\" = {p95}\n\"p(99)\" = {}\n\
                 [case.k6.\"http_req_failed{{flow:{flow}}}\"]\npasses = 0\nfails = 1000\nvalue = 0\n\
                 [case.k6.\"checks{{flow:{flow}}}\"]\npasses = 1000\nfails = 0\nvalue = 1\n",
                p99 / 2
            ));
        }
        text.push_str("[case.k6.dropped_iterations]\ncount = 0\nrate = 0\n");
        text
    };
    let mut text = String::from(
        "#:schema ../../schemas/policy-test.schema.json\n\
         # Unit tests of gates/release.toml, written by `gatecheck init`: gatecheck test tests/policy/*.toml\n\
         # Each case gives k6 figures as --summary-export writes them and the verdict it must give.\n\
         policy = \"../../gates/release.toml\"\n\n[[case]]\nname = \"healthy figures ship\"\n",
    );
    text.push_str(&figures(None));
    text.push_str("[case.expect]\noutcome = \"ship\"\n");
    for (flow, writes) in &flows {
        let (p95, _) = limits(*writes);
        let id = flow.replace('_', "-");
        text.push_str(&format!("\n[[case]]\nname = \"{flow} p95 at its limit blocks\"\n"));
        text.push_str(&figures(Some(flow)));
        text.push_str(&format!(
            "[case.expect]\noutcome = \"blocked\"\ngates = {{ \"{id}-latency p(95) < {p95}ms\" = \"FAIL\", \"{id}-errors\" = \"PASS\" }}\n"
        ));
    }
    text
}

/// A Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn saturation(args: &InitArgs) -> String {
    let histogram = args
        .latency_histogram
        .as_deref()
        .map(|name| name.trim_end_matches("_bucket").to_string())
        .unwrap_or_else(|| format!("{PLACEHOLDER}request_latency_seconds"));
    let gauge = args.utilization_gauge.clone().unwrap_or_else(|| format!("{PLACEHOLDER}pool_utilization_ratio"));
    format!(
        "#:schema ../schemas/policy.schema.json\n\
         # What to check on dashboards before a release (gatecheck check --policy gates/saturation.toml\n\
         # --prometheus-url URL), written by `gatecheck init`. Names starting with {PLACEHOLDER} are\n\
         # placeholders for your Prometheus metric names: `gatecheck lint` refuses them until filled in.\n\n\
         [policy]\nname = \"saturation\"\ndescription = \"Request latency and pool saturation over the last window\"\n\n\
         [vars]\nwindow = \"10m\"\n\n\
         [[gate]]\nid = \"api-latency\"\ndescription = \"API p95 latency from the request histogram (seconds)\"\n\
         query = 'histogram_quantile(0.95, sum by (le) (rate({histogram}_bucket[${{window}}])))'\nunit = \"s\"\nthresholds = [\"p(95) < 400ms\"]\n\n\
         [[gate]]\nid = \"pool-utilization\"\ndescription = \"The busiest pool's utilization (0..1)\"\n\
         query = 'max(max_over_time({gauge}[${{window}}]))'\nunit = \"ratio\"\nthresholds = [\"value < 80%\"]\n"
    )
}

fn workflow(endpoints: &[Endpoint]) -> String {
    let mut params: Vec<String> = endpoints.iter().flat_map(|e| path_params(&e.path)).map(|(_, var)| var).collect();
    params.sort();
    params.dedup();
    let mut env = String::from(
        "      PERF_BASE_URL: ${{ inputs.base_url || vars.PERF_BASE_URL }}\n      PERF_BEARER_TOKEN: ${{ secrets.PERF_BEARER_TOKEN }}\n",
    );
    for var in params {
        env.push_str(&format!("      {var}: ${{{{ vars.{var} }}}}\n"));
    }
    format!(
        "# Written by `gatecheck init`: lint the policies, run their unit tests, then the smoke load\n\
         # and the release verdict (exit 0 ship, 1 blocked, 2 could not evaluate).\n\
         name: Release Gates\n\n\
         on:\n  workflow_dispatch:\n    inputs:\n      base_url:\n        description: \"API base URL (overrides the PERF_BASE_URL variable)\"\n        required: false\n        type: string\n\n\
         permissions:\n  contents: read\n\n\
         jobs:\n  release-gates:\n    runs-on: ubuntu-24.04\n    timeout-minutes: 30\n    env:\n{env}\
         \x20   steps:\n\
         \x20     - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n\
         \x20     # A released gatecheck, its archive's SHA-256 checked (no compiler): set the repository\n\
         \x20     # variable GATECHECK_SHA256 to the release's sha256.sum lines.\n\
         \x20     - name: Install gatecheck\n\
         \x20       uses: gatecheck-dev/gatecheck@v{version}\n\
         \x20       with:\n\
         \x20         version: {version}\n\
         \x20         sha256: ${{{{ vars.GATECHECK_SHA256 }}}}\n\
         \x20         judge: \"false\"\n\
         \x20     - name: Lint the policies\n\
         \x20       run: gatecheck lint gates/*.toml\n\
         \x20     - name: Policy unit tests\n\
         \x20       run: if ls tests/policy/*.toml >/dev/null 2>&1; then gatecheck test tests/policy/*.toml; fi\n\
         \x20     - name: Release gates\n\
         \x20       run: mkdir -p artifacts/perf && gatecheck run --report junit=artifacts/perf/verdict.xml --report markdown=artifacts/perf/verdict.md\n\
         \x20     - name: Keep the verdict\n\
         \x20       if: always()\n\
         \x20       uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n\
         \x20       with:\n\
         \x20         name: release-gates\n\
         \x20         path: artifacts/perf/\n",
        version = env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_group_by_the_first_segment_after_api_and_version() {
        let e = parse_endpoint("post /api/v2/dev/rules/{rule_id}/run").unwrap();
        assert_eq!((e.method.as_str(), e.flow.as_str()), ("POST", "dev"));
        assert_eq!(parse_endpoint("GET /api/watch-rules?limit=20").unwrap().flow, "watch_rules");
        assert_eq!(
            path_params("/a/{rule_id}/b/{x}"),
            vec![("rule_id".into(), "PERF_RULE_ID".into()), ("x".into(), "PERF_X".into())]
        );
        assert!(parse_endpoint("FETCH /a").is_err());
        assert!(parse_endpoint("GET a").is_err());
        assert!(parse_endpoint("POST /a [1]").is_err());
        assert_eq!(parse_endpoint("POST /a {\"k\": [1]}").unwrap().body, Some(serde_json::json!({"k": [1]})));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Finding round21-text/01, as a rule: for any path parameters an OpenAPI document
        /// names, init writes a workflow whose env map holds each key once, with no parameter filled from the scaffold's own or a credential's
        /// variable, and a scenario that loads.
        #[test]
        fn path_parameters_never_take_a_credential_or_an_own_variable(
            names in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Strategy::prop_map(proptest::sample::select(vec!["base_url", "base-url", "vus", "duration", "bearer_token", "api_key", "id", "path_vus", "item.id"]),
                        str::to_string),
                    "[a-z][a-z_.-]{0,8}",
                ],
                1..4,
            ),
        ) {
            use proptest::prelude::*;
            let path = format!("/api/items/{}", names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join("/"));
            let endpoint = parse_endpoint(&format!("GET {path}")).unwrap();
            let endpoints = [endpoint];
            for (_, var) in path_params(&path) {
                prop_assert!(crate::load::plan::credential_variable(&format!("${{{var}}}"), crate::load::plan::DEFAULT_TOKEN_ENV).is_none(), "{}", var);
            }
            let workflow = workflow(&endpoints);
            let start = workflow.find("\n    env:\n").unwrap() + "\n    env:\n".len();
            let keys: Vec<&str> = workflow[start..]
                .lines()
                .take_while(|line| line.starts_with("      "))
                .map(|line| line.trim().split(':').next().unwrap_or_default())
                .collect();
            let mut unique = keys.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(keys.len(), unique.len(), "{}", workflow);
            for (_, var) in path_params(&path) {
                prop_assert!(!OWN_VARIABLES.contains(&var.as_str()), "{}", var);
            }
            let args = <crate::cli::Cli as clap::Parser>::try_parse_from(["gatecheck", "init"]).unwrap();
            let crate::cli::Command::Init(args) = args.command else { unreachable!() };
            let text = scenario(&args, &endpoints).unwrap();
            // Every variable set but the scaffold's own, which take the defaults it writes.
            let lookup = |name: &str| -> Result<Option<String>, Error> {
                Ok(match name {
                    "PERF_BEARER_TOKEN" => Some("tok-proptest-0a1b2c3d".into()),
                    own if OWN_VARIABLES.contains(&own) => None,
                    _ => Some("v1".into()),
                })
            };
            let loaded = crate::load::plan::parse("s.toml", &text, &crate::load::plan::Overrides::default(), &lookup);
            prop_assert!(loaded.is_ok(), "{:?}\n{}", loaded.err(), text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// Finding round29-text/05, as a rule: whatever text an OpenAPI document gives (paths,
        /// example keys and values, nested, holding `$`, `{`, `}` anywhere), init either refuses it
        /// naming a `${` the document holds, or writes a scenario in which every text it copied
        /// expands to itself: no environment variable ever fills it.
        #[test]
        fn no_document_text_becomes_a_variable_reference(
            segment in "[a-z$}{]{0,10}",
            key in "[a-z$}{]{1,6}",
            note in "[a-zA-Z _$}{]{0,14}",
            nested in proptest::bool::ANY,
        ) {
            use proptest::prelude::*;
            let path = format!("/api/{segment}");
            let value = if nested { serde_json::json!({"n": [note.clone(), 1]}) } else { serde_json::json!(note.clone()) };
            let doc = serde_json::json!({"openapi": "3.0.0", "paths": {path.clone(): {"get": {
                "requestBody": {"content": {"application/json": {"example": {key.clone(): value}}}},
                "responses": {"200": {"description": "ok"}}}}}});
            let holds = [&path, &key, &note].iter().any(|text| crate::policy::template::holds_reference(text));
            match from_openapi(&doc.to_string(), &[]) {
                Err(why) => prop_assert!(holds && why.contains("${") && !why.contains('\n'), "{}", why),
                Ok(endpoints) => {
                    prop_assert!(!holds, "{:?}", endpoints);
                    let args = <crate::cli::Cli as clap::Parser>::try_parse_from(["gatecheck", "init"]).unwrap();
                    let crate::cli::Command::Init(args) = args.command else { unreachable!() };
                    let Ok(text) = scenario(&args, &endpoints) else { return Ok(()) };
                    let written: toml::Value = toml::from_str(&text).unwrap();
                    let request = &written["flow"][0]["request"][0];
                    let mut copied = vec![request["path"].as_str().unwrap().to_string()];
                    fn strings(value: &toml::Value, out: &mut Vec<String>) {
                        match value {
                            toml::Value::String(s) => out.push(s.clone()),
                            toml::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                            toml::Value::Table(t) => t.iter().for_each(|(k, v)| { out.push(k.clone()); strings(v, out) }),
                            _ => {}
                        }
                    }
                    if let Some(json) = request.get("json") {
                        strings(json, &mut copied);
                    }
                    for text in copied {
                        let expanded = crate::policy::template::substitute(&text, &|_| Ok("FILLED".to_string()));
                        prop_assert_eq!(expanded.as_deref(), Ok(text.as_str()));
                    }
                }
            }
        }
    }

    /// Characters that are not shown as themselves (`escape::hidden`), one of each class: bidi
    /// overrides and isolates, line and paragraph separators, zero-width and Default_Ignorable
    /// ones, the BOM, the soft hyphen, the Arabic letter mark, Hangul fillers, tag characters,
    /// C0 and C1 controls, DEL.
    const HIDDEN_SAMPLES: &str = "\u{202e}\u{202d}\u{2066}\u{2069}\u{200f}\u{2028}\u{2029}\u{200b}\u{2060}\u{feff}\u{ad}\u{61c}\u{3164}\u{115f}\u{ffa0}\u{e0001}\u{e0041}\u{fff9}\u{180e}\u{1}\u{1b}\u{7f}\u{85}\u{9b}";

    /// JSON text with every hidden character of the BMP written as a `\u` escape.
    fn bmp_escaped(value: &serde_json::Value) -> String {
        value
            .to_string()
            .chars()
            .map(|c| {
                if crate::escape::hidden(c) && u32::from(c) <= 0xffff {
                    format!("\\u{:04x}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// Finding round32-text/03, as a rule: whatever characters an OpenAPI document's path
        /// and request-body example (keys and values, at any depth) hold, the scenario init
        /// writes holds none that is not shown as itself, and reads back as the document's text.
        #[test]
        fn no_document_text_is_written_hidden(
            segment in proptest::string::string_regex(&format!("[a-z{HIDDEN_SAMPLES}]{{0,8}}")).unwrap(),
            key in proptest::string::string_regex(&format!("[a-z\"'\\\\{HIDDEN_SAMPLES}]{{1,6}}")).unwrap(),
            note in proptest::string::string_regex(&format!("[a-zA-Z \"'\\\\\n\t{HIDDEN_SAMPLES}]{{0,14}}")).unwrap(),
            nested in proptest::bool::ANY,
        ) {
            use proptest::prelude::*;
            let path = format!("/api/{segment}");
            let value = if nested { serde_json::json!({"n": [note.clone(), 1, {key.clone(): true}]}) } else { serde_json::json!(note.clone()) };
            let example = serde_json::json!({key.clone(): value});
            let doc = serde_json::json!({"openapi": "3.0.0", "paths": {path.clone(): {"get": {
                "requestBody": {"content": {"application/json": {"example": example.clone()}}},
                "responses": {"200": {"description": "ok"}}}}}});
            // The document as JSON with every hidden character of the BMP as a `\u` escape (YAML,
            // which init's reader is, refuses DEL and C1 raw, and reads U+2028 as a line break).
            let endpoints = from_openapi(&bmp_escaped(&doc), &[]).unwrap();
            let args = <crate::cli::Cli as clap::Parser>::try_parse_from(["gatecheck", "init"]).unwrap();
            let crate::cli::Command::Init(args) = args.command else { unreachable!() };
            let text = scenario(&args, &endpoints).unwrap();
            let raw: Vec<char> = text.chars().filter(|c| crate::escape::hidden(*c) && *c != '\n').collect();
            prop_assert!(raw.is_empty(), "{:?} written raw", raw);
            let written: toml::Value = toml::from_str(&text).unwrap();
            let request = &written["flow"][0]["request"][0];
            prop_assert_eq!(request["path"].as_str(), Some(path.as_str()));
            let expected: toml::Value = serde_json::from_value(example).unwrap();
            prop_assert_eq!(&request["json"], &expected);
        }
    }

    #[test]
    fn openapi_reads_gets_and_only_named_writes() {
        let doc = "openapi: 3.0.3\npaths:\n  /api/items:\n    get:\n      tags: [Items]\n      responses: {'200': {description: ok}}\n    post:\n      tags: [Items]\n      responses: {'201': {description: created}}\n  /api/orders/{id}:\n    delete:\n      responses: {'204': {description: gone}}\n";
        let gets = from_openapi(doc, &[]).unwrap();
        assert_eq!(gets.len(), 1);
        assert_eq!((gets[0].flow.as_str(), gets[0].expect_status), ("items", 200));
        let named = [parse_endpoint("POST /api/items").unwrap()];
        let both = from_openapi(doc, &named).unwrap();
        assert_eq!(both.iter().find(|e| e.method == "POST").unwrap().expect_status, 201);
        assert!(from_openapi(doc, &[parse_endpoint("PUT /api/nope").unwrap()]).is_err());
        assert!(from_openapi("swagger: '2.0'\npaths: {}\n", &[]).is_err());
    }
}
