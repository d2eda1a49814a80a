//! The scenario file (TOML) resolved against the environment into a `LoadPlan`.
//!
//! Raw structs stop here. Everything a run needs is checked before the first request: the
//! base URL and scheme, the bearer token, every variable a running flow references, numbers
//! and durations. A flow switched off (e.g. `PERF_ENABLE_RULE_RUN=0`) is kept as skipped so
//! its gates are reported SKIPPED, not passed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::Error;
use crate::input::Secret;

/// The core-flow scenario shipped with gatecheck.
pub const BUILTIN_CORE_FLOWS: &str = include_str!("../../gates/core-flows.toml");
pub const BUILTIN_CORE_FLOWS_NAME: &str = "gates/core-flows.toml (built in)";

/// A gatecheck load scenario: the flows and requests the native runner (or k6) sends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    scenario: ScenarioSection,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    #[serde(rename = "flow")]
    flows: Vec<FlowFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScenarioSection {
    name: Option<String>,
    base_url: String,
    bearer_token_env: Option<String>,
    vus: String,
    duration: String,
    request_timeout: Option<String>,
    max_requests: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FlowFile {
    name: String,
    description: Option<String>,
    enabled: Option<String>,
    start_after: Option<String>,
    sleep: Option<String>,
    #[serde(rename = "request")]
    requests: Vec<RequestFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    name: String,
    method: String,
    path: String,
    #[serde(default)]
    path_params: BTreeMap<String, String>,
    check: Option<String>,
    expect_status: Option<u16>,
    /// The request body, sent as JSON; string values may hold `${VAR}` templates.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    json: Option<toml::Table>,
    expect_json: Option<ExpectJsonFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExpectJsonFile {
    /// RFC 6901 pointer into the response body, e.g. "/status".
    pointer: String,
    /// The value it must hold; absent means "must exist".
    #[schemars(with = "Option<serde_json::Value>")]
    equals: Option<toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Executor {
    /// Closed model: each flow has `vus` workers looping iteration, sleep, iteration.
    ConstantVus { vus: u32 },
    /// Open model: each flow starts `rate` iterations per second whatever the latency, with at
    /// most `max_vus` in flight; latency counts from each iteration's intended start.
    ConstantArrivalRate { rate: f64, max_vus: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// `host:port` as the Host header carries it.
    pub authority: String,
    /// A path prefix of the base URL, without the trailing slash.
    pub base_path: String,
}

impl Target {
    pub fn url(&self) -> String {
        let scheme = if self.scheme == Scheme::Https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base_path)
    }
}

#[derive(Debug, Clone)]
pub struct JsonCheck {
    pub pointer: String,
    pub equals: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct RequestPlan {
    pub name: String,
    pub method: http::Method,
    /// Path and query, base path included.
    pub path: String,
    /// The same, parsed once for the hot path.
    pub uri: http::Uri,
    pub body: Option<Bytes>,
    pub check: String,
    pub expect_status: u16,
    pub expect_json: Option<JsonCheck>,
}

#[derive(Debug, Clone)]
pub struct FlowPlan {
    pub name: String,
    pub description: String,
    pub start_after: Duration,
    pub sleep: Duration,
    pub requests: Vec<RequestPlan>,
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub scenario: String,
    pub source: String,
    pub target: Target,
    /// The bearer token sent as `Authorization: Bearer`; none when the scenario says the API
    /// takes none (`bearer_token_env = ""`).
    pub token: Option<Secret>,
    pub executor: Executor,
    pub duration: Duration,
    pub request_timeout: Duration,
    pub max_requests: u64,
    pub flows: Vec<FlowPlan>,
    /// Flows switched off, with what switched them off.
    pub skipped: Vec<(String, String)>,
    /// The part of the scenario this runner runs (the whole by default).
    pub segment: crate::load::segment::Segment,
}

impl LoadPlan {
    /// Keeps only this runner's segment: its share of the VUs (and of the open model's
    /// in-flight limit) and of the request cap; the open-model schedule is interleaved by the
    /// workers (iteration n belongs to segment n mod N).
    pub fn into_segment(mut self, segment: crate::load::segment::Segment) -> LoadPlan {
        self.executor = match self.executor {
            Executor::ConstantVus { vus } => Executor::ConstantVus { vus: segment.share(u64::from(vus)) as u32 },
            Executor::ConstantArrivalRate { rate, max_vus } => Executor::ConstantArrivalRate {
                rate,
                // Every segment needs a worker to start its iterations at all.
                max_vus: (segment.share(u64::from(max_vus)) as u32).max(1),
            },
        };
        self.max_requests = segment.share(self.max_requests);
        self.segment = segment;
        self
    }
}

/// What the command line overrides in the scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub base_url: Option<String>,
    pub vus: Option<u32>,
    pub duration: Option<String>,
    pub rate: Option<f64>,
    pub max_requests: Option<u64>,
    pub request_timeout: Option<String>,
    pub no_sleep: bool,
}

/// The scenario as written, before any variable is resolved: what `export k6` needs to resolve
/// every `${VAR}` at k6 run time, as the reference script does.
#[derive(Debug, Clone)]
pub struct Templates {
    pub defaults: BTreeMap<String, String>,
    pub base_url: String,
    pub vus: String,
    pub duration: String,
    /// Per flow, in file order: the name and its `enabled` switch as written.
    pub flows: Vec<(String, Option<String>)>,
    /// Per flow, per request: the path, its path parameters and the JSON body as written.
    pub requests: Vec<Vec<RequestTemplate>>,
    /// The variable the bearer token is read from; none when the API takes no token.
    pub token_env: Option<String>,
}

/// Where the bearer token is read from when the scenario does not say (`bearer_token_env`).
pub const DEFAULT_TOKEN_ENV: &str = crate::settings::LOAD_TOKEN_ENV;

/// The variable the scenario's bearer token is read from: `bearer_token_env`, PERF_BEARER_TOKEN
/// when it is left out, and none when it is `""` — the API takes no token, so none is required
/// and no Authorization header is sent (finding round24-text/05: `init --no-auth` sent the CI
/// job's PERF_BEARER_TOKEN to an API declared to take none).
fn token_env(scenario: &ScenarioSection) -> Option<String> {
    match scenario.bearer_token_env.as_deref().map(str::trim) {
        None => Some(DEFAULT_TOKEN_ENV.to_string()),
        Some("") => None,
        Some(name) => Some(name.to_string()),
    }
}

#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub path: String,
    pub path_params: BTreeMap<String, String>,
    pub json: Option<toml::Table>,
    /// `expect_json.equals` as written (its `${VAR}`s resolved when k6 runs, as the native
    /// runner resolves them when it runs).
    pub expect_equals: Option<toml::Value>,
}

/// The JSON Schema of a scenario file, derived from the structs that parse it.
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(ScenarioFile)
}

/// Reads the scenario's templates (no variable is resolved).
pub fn templates(source: &str, text: &str) -> Result<Templates, Error> {
    let fail = |message: String| Error::Scenario { path: source.to_string(), message };
    let file: ScenarioFile = toml::from_str(text).map_err(|e| fail(crate::input::one_line_toml_error(text, &e)))?;
    Ok(Templates {
        defaults: file.defaults.clone(),
        base_url: file.scenario.base_url.clone(),
        vus: file.scenario.vus.clone(),
        duration: file.scenario.duration.clone(),
        flows: file.flows.iter().map(|f| (f.name.clone(), f.enabled.clone())).collect(),
        requests: file
            .flows
            .iter()
            .map(|f| {
                f.requests
                    .iter()
                    .map(|r| RequestTemplate {
                        path: r.path.clone(),
                        path_params: r.path_params.clone(),
                        json: r.json.clone(),
                        expect_equals: r.expect_json.as_ref().and_then(|check| check.equals.clone()),
                    })
                    .collect()
            })
            .collect(),
        token_env: token_env(&file.scenario),
    })
}

/// Every name a run writes (its flows', requests' and checks') is written scrubbed of the
/// credentials gatecheck holds, and a summary keys its figures by them: two different names
/// that read the same once a credential in them is masked would be one figure — a failing
/// check's fails lost under a passing one's name (finding round19-text/05). Such names are
/// refused before any load (the rule's home: `secret::names_stay_distinct_when_scrubbed`).
fn names_stay_distinct_when_scrubbed(flows: &[FlowPlan]) -> Result<(), String> {
    let kinds: [(&str, Vec<&str>); 3] = [
        ("flow", flows.iter().map(|f| f.name.as_str()).collect()),
        ("request", flows.iter().flat_map(|f| f.requests.iter().map(|r| r.name.as_str())).collect()),
        ("check", flows.iter().flat_map(|f| f.requests.iter().map(|r| r.check.as_str())).collect()),
    ];
    for (kind, names) in kinds {
        crate::secret::names_stay_distinct_when_scrubbed(kind, names)?;
    }
    Ok(())
}

pub fn load_file(path: &Path, overrides: &Overrides, env: &crate::env::Lookup<'_>) -> Result<LoadPlan, Error> {
    let shown = path.display().to_string();
    let text = crate::input::read_to_string(path, "scenario")?;
    parse(&shown, &text, overrides, env)
}

pub fn parse(source: &str, text: &str, overrides: &Overrides, env: &crate::env::Lookup<'_>) -> Result<LoadPlan, Error> {
    let fail = |message: String| Error::Scenario { path: source.to_string(), message };
    let file: ScenarioFile = toml::from_str(text).map_err(|e| fail(crate::input::one_line_toml_error(text, &e)))?;

    // With no token (`bearer_token_env = ""`), PERF_BEARER_TOKEN stays a credential no request URL
    // may be built from.
    let token_var = token_env(&file.scenario).unwrap_or_else(|| DEFAULT_TOKEN_ENV.to_string());
    let vars = Vars { defaults: &file.defaults, env, token_var: &token_var };
    // The load target's token is read only from the scenario's own family of variables
    // (`PERF_*`): gatecheck's (finding round24-text/03: `GATECHECK_PROMETHEUS_TOKEN` sent the
    // Prometheus token to the target) and any other credential a CI job holds — a cloud key, a
    // GitHub or registry token (finding round35-text/01: `AWS_SECRET_ACCESS_KEY` was sent as
    // the bearer token to the scenario's base URL) — are another origin's. A job whose load
    // token lives elsewhere passes it as `PERF_BEARER_TOKEN=$API_TOKEN`.
    if !crate::settings::in_scenario_family(&token_var) {
        return Err(fail(format!(
            "bearer_token_env = {:?}: the load target's token is read only from a {}* variable (the scenario's \
             own family), and no other variable of the environment — gatecheck's, a cloud key, a CI or registry \
             token — is another origin's credential sent to the load target; name a {}* variable (default \
             {DEFAULT_TOKEN_ENV}) and set it from yours in the job",
            crate::escape::line(&token_var),
            crate::settings::SCENARIO_FAMILY,
            crate::settings::SCENARIO_FAMILY,
        )));
    }
    let token = match token_env(&file.scenario) {
        Some(token_var) => {
            let token = env(&token_var)?.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                Error::Settings(format!("{token_var} is not set: the smoke run needs a bearer token for the API"))
            })?;
            // A secret from here on: any later message that quotes a variable (the base URL, a switch, a count) the
            // scenario filled from the token's own variable is scrubbed of it.
            let token = crate::secret::from_input(&token_var, token.trim()).map_err(Error::Settings)?;
            // Whatever the variable is named: a value that is (or holds) a credential gatecheck sends to
            // Prometheus or the remote-write receiver would carry it to the load target.
            if crate::secret::holds_other_origin_credential(token.expose()) {
                return Err(Error::Settings(format!(
                    "{token_var}: the load target's token is (or holds) a credential gatecheck sends to another origin \
                     (Prometheus or the remote-write receiver; not shown), and no credential reaches an origin it is not \
                     meant for; give the load target its own token"
                )));
            }
            // The load target's own credential: never sent to Prometheus or a receiver.
            crate::secret::for_load_target(token.expose());
            Some(token)
        }
        None => None,
    };

    // The scenario's base_url, when it names a variable, is quoted as written, never filled
    // (`as_written`, finding round36-text/02); a flag's URL is the user's own and shown masked.
    let base_url = match &overrides.base_url {
        Some(url) => url.clone(),
        None => {
            refuse_credential_in_url("base_url", &file.scenario.base_url, &token_var).map_err(&fail)?;
            vars.text(&file.scenario.base_url).map_err(|why| fail(format!("base_url: {why}")))?
        }
    };
    let filled_base = Some(file.scenario.base_url.as_str())
        .filter(|written| overrides.base_url.is_none() && crate::policy::template::holds_reference(written));
    crate::input::refuse_url_credentials(
        "base URL (--base-url, PERF_BASE_URL or the scenario's base_url)",
        &base_url,
        "the bearer token is read from PERF_BEARER_TOKEN (or the scenario's bearer_token_env)",
    )
    .map_err(|error| match filled_base {
        Some(written) => fail(as_written(
            "base_url",
            written,
            "credentials do not belong in the URL, which is printed in logs and reports; the bearer token is read \
             from bearer_token_env",
        )),
        None => error,
    })?;
    let target = parse_base_url(&base_url).map_err(|why| match filled_base {
        Some(written) => fail(as_written("base_url", written, "expected http://HOST[:PORT][/PREFIX]")),
        None => fail(format!("base URL {:?}: {why}", crate::input::masked_url(&base_url))),
    })?;

    let vus = match overrides.vus {
        Some(vus) => vus,
        None => {
            let text = vars.text(&file.scenario.vus).map_err(|why| fail(format!("vus: {why}")))?;
            text.trim()
                .parse()
                .map_err(|_| fail(as_written("vus", &file.scenario.vus, "expected a whole number of virtual users")))?
        }
    };
    if vus == 0 || vus > 10_000 {
        return Err(fail(format!("vus = {vus}: expected 1 to 10000")));
    }
    let (duration_text, duration_written) = match &overrides.duration {
        Some(d) => (d.clone(), d.as_str()),
        None => (
            vars.text(&file.scenario.duration).map_err(|why| fail(format!("duration: {why}")))?,
            file.scenario.duration.as_str(),
        ),
    };
    let duration = parse_duration("duration", &duration_text)
        .map_err(|_| fail(as_written("duration", duration_written, "expected e.g. 30s, 250ms, 2m")))?;
    if duration.is_zero() || duration > Duration::from_secs(24 * 3600) {
        return Err(fail(as_written("duration", duration_written, "expected more than 0 and at most 24h")));
    }
    let timeout_text =
        overrides.request_timeout.clone().or(file.scenario.request_timeout.clone()).unwrap_or_else(|| "10s".into());
    let request_timeout = parse_duration("request_timeout", &timeout_text).map_err(&fail)?;
    if request_timeout.is_zero() {
        return Err(fail("request_timeout must be above zero".into()));
    }
    let max_requests = overrides.max_requests.or(file.scenario.max_requests).unwrap_or(1_000_000);
    if max_requests == 0 {
        return Err(fail("max_requests must be at least 1".into()));
    }
    let executor = match overrides.rate {
        Some(rate) if !(rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0) => {
            return Err(Error::Settings(format!("--rate {rate}: expected iterations per second above 0")))
        }
        Some(rate) => Executor::ConstantArrivalRate { rate, max_vus: vus },
        None => Executor::ConstantVus { vus },
    };

    let mut flows = Vec::new();
    let mut skipped = Vec::new();
    for flow in &file.flows {
        let at = |what: &str| format!("flow {:?}: {what}", flow.name);
        // A flow's name is a k6 scenario and function name and a tag in metric selectors
        // (`{flow:NAME}`): an identifier, never text that could become code or split a selector.
        let identifier = flow.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && flow.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(fail(at("name: expected letters, digits and _ (not starting with a digit)")));
        }
        if let Some(switch) = &flow.enabled {
            let value = vars.text(switch).map_err(|why| fail(at(&format!("enabled: {why}"))))?;
            let on = crate::input::parse_switch(&value)
                .ok_or_else(|| fail(at(&as_written("enabled", switch, crate::input::SWITCH_VALUES))))?;
            if !on {
                let why = match switch.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    Some(var) => format!("{var}={}", value.trim()),
                    None => format!("enabled = {value:?}"),
                };
                skipped.push((flow.name.clone(), why));
                continue;
            }
        }
        let start_after =
            parse_duration("start_after", flow.start_after.as_deref().unwrap_or("0s")).map_err(|w| fail(at(&w)))?;
        let sleep = if overrides.no_sleep {
            Duration::ZERO
        } else {
            parse_duration("sleep", flow.sleep.as_deref().unwrap_or("0s")).map_err(|w| fail(at(&w)))?
        };
        if flow.requests.is_empty() {
            return Err(fail(at("has no [[flow.request]]")));
        }
        let mut requests = Vec::new();
        for request in &flow.requests {
            let at = |what: &str| at(&format!("request {:?}: {what}", request.name));
            requests.push(request_plan(request, &vars, &target, &token_var).map_err(|why| fail(at(&why)))?);
        }
        flows.push(FlowPlan {
            name: flow.name.clone(),
            description: flow.description.clone().unwrap_or_default(),
            start_after,
            sleep,
            requests,
        });
    }
    if flows.is_empty() {
        return Err(fail("every flow is switched off: nothing to run".into()));
    }
    names_stay_distinct_when_scrubbed(&flows).map_err(&fail)?;
    // A flow that starts after the run ends (or too late for one iteration) would measure
    // nothing and its gates would be NO DATA: refuse the duration instead.
    if let Some(latest) = flows.iter().max_by_key(|f| f.start_after) {
        let needed = latest.start_after + MIN_ITERATION_TIME;
        if duration < needed {
            return Err(Error::Settings(format!(
                "--duration {}: flow {} starts {} into the run; give at least {} so it runs an iteration",
                humantime::format_duration(duration),
                latest.name,
                humantime::format_duration(latest.start_after),
                humantime::format_duration(needed)
            )));
        }
    }
    Ok(LoadPlan {
        scenario: file.scenario.name.clone().unwrap_or_else(|| "scenario".into()),
        source: source.to_string(),
        target,
        token,
        executor,
        duration,
        request_timeout,
        max_requests,
        flows,
        skipped,
        segment: crate::load::segment::Segment::WHOLE,
    })
}

/// An error about a field the scenario fills from variables, quoting the field's text as the
/// scenario writes it, never its value: any environment variable may fill it (finding
/// round29-text/05: the path_params error quoted the value of ACTIONS_ID_TOKEN_REQUEST_TOKEN).
/// The one home of that rule for every load error.
fn as_written(field: &str, written: &str, expected: &str) -> String {
    let filled = crate::policy::template::holds_reference(written);
    format!("{field} = {written:?}{}: {expected}", if filled { " (once filled; its value not shown)" } else { "" })
}

/// The least time a flow needs after its start offset to run one iteration.
const MIN_ITERATION_TIME: Duration = Duration::from_secs(1);

/// The variable a request URL may not be built from, when `text` (a path, a path parameter)
/// names one: the scenario's bearer token variable, a credential gatecheck reads by name
/// (`settings::CREDENTIAL_ENV`) or whose name reads as a credential's, in any family or none
/// (`reads_as_credential`: `GITHUB_TOKEN`). Any other variable's value is checked once filled in: a value
/// holding a credential gatecheck holds is refused whatever the variable is called.
/// A request URL is printed in access logs, proxies and reports; credentials travel only as
/// `Authorization: Bearer` (finding round21-text/01).
pub fn credential_variable(text: &str, token_var: &str) -> Option<String> {
    let found = std::cell::RefCell::new(None);
    let _ = crate::policy::template::substitute(text, &|name| {
        let name = name.split('|').next().unwrap_or_default().trim();
        let credential = name == token_var
            || crate::settings::CREDENTIAL_ENV.contains(&name)
            || crate::settings::reads_as_credential(name);
        if credential && found.borrow().is_none() {
            *found.borrow_mut() = Some(name.to_string());
        }
        Ok(String::new())
    });
    found.into_inner()
}

/// Refuses a request URL that would carry a credential: `field` built from a credential's
/// variable, a credential-named query (or path) parameter, or a credential gatecheck holds.
fn refuse_credential_in_url(field: &str, template: &str, token_var: &str) -> Result<(), String> {
    match credential_variable(template, token_var) {
        Some(name) => Err(format!(
            "{field}: ${{{name}}} is a credential's variable, and credentials do not travel in the request URL \
             (printed in access logs, proxies and reports); the bearer token is sent as Authorization: Bearer"
        )),
        None => Ok(()),
    }
}

fn request_plan(request: &RequestFile, vars: &Vars, target: &Target, token_var: &str) -> Result<RequestPlan, String> {
    let method = http::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("method {:?} is not an HTTP method", request.method))?;
    refuse_credential_in_url("path", &request.path, token_var)?;
    for (name, value) in &request.path_params {
        refuse_credential_in_url(&format!("path_params.{name}"), value, token_var)?;
    }
    let mut path = vars.text(&request.path).map_err(|why| format!("path: {why}"))?;
    if let Some(word) = crate::input::path_credential_parameter(&path) {
        return Err(format!(
            "path: a query parameter is named as a credential's ({word:?} in its name), and credentials do not \
             travel in the request URL (printed in access logs, proxies and reports)"
        ));
    }
    for (name, value) in &request.path_params {
        let value = vars.text(value).map_err(|why| format!("path_params.{name}: {why}"))?;
        let placeholder = format!("{{{name}}}");
        if !path.contains(&placeholder) {
            return Err(as_written(
                &format!("path_params.{name}: path"),
                &request.path,
                &format!("has no {placeholder}"),
            ));
        }
        path = path.replace(&placeholder, &percent_encode_segment(&value));
    }
    if !path.starts_with('/') {
        return Err(as_written("path", &request.path, "must start with /"));
    }
    if path.contains(['{', '}']) {
        return Err(as_written("path", &request.path, "still has a {placeholder}: add it to path_params"));
    }
    // Whatever the variables are named: a value that is (or holds) a credential gatecheck holds
    // never goes into the URL either (the scrubber knows every form of each).
    // The whole URL the request goes to: a credential may also straddle the base and the path.
    crate::input::url_holds_no_known_credential("path", &format!("{}{path}", target.url()))?;
    // The same rule the Prometheus, remote-write and scrape clients apply where they send: the
    // plan's URL is what the load client sends, unchanged.
    crate::secret::request_part_holds_no_credential("path", "the request URL", &format!("{}{path}", target.url()))?;
    let uri = http::Uri::try_from(format!("{}{path}", target.base_path))
        .map_err(|e| as_written("path", &request.path, &format!("is not a valid request path: {e}")))?;
    let body = match &request.json {
        None => None,
        Some(table) => {
            let mut object = serde_json::Map::new();
            for (key, value) in table {
                object.insert(key.clone(), vars.json(value).map_err(|why| format!("json.{key}: {why}"))?);
            }
            let bytes = serde_json::to_vec(&serde_json::Value::Object(object)).map_err(|e| e.to_string())?;
            // A body is printed by the target's logs as readily as a URL, and a credential of
            // another origin (the Prometheus token) must never reach the load target (finding
            // round23-text/04): a body holding any credential gatecheck holds is refused too;
            // the bearer token travels only as Authorization: Bearer.
            // The send-point rule every client shares (`secret::request_part_holds_no_credential`):
            // the plan's body is what the load client sends, unchanged.
            crate::secret::request_part_holds_no_credential(
                "json",
                "the request body",
                &String::from_utf8_lossy(&bytes),
            )?;
            Some(Bytes::from(bytes))
        }
    };
    let expect_json = match &request.expect_json {
        None => None,
        Some(check) => {
            if !check.pointer.is_empty() && !check.pointer.starts_with('/') {
                return Err(format!("expect_json.pointer {:?} must be empty or start with /", check.pointer));
            }
            let equals = check
                .equals
                .as_ref()
                .map(|v| vars.json(v))
                .transpose()
                .map_err(|why| format!("expect_json.equals: {why}"))?;
            Some(JsonCheck { pointer: check.pointer.clone(), equals })
        }
    };
    let expect_status = request.expect_status.unwrap_or(200);
    Ok(RequestPlan {
        name: request.name.clone(),
        check: request.check.clone().unwrap_or_else(|| format!("{} status is {expect_status}", request.name)),
        method,
        path: format!("{}{path}", target.base_path),
        uri,
        body,
        expect_status,
        expect_json,
    })
}

/// Variables: the environment (non-empty values) first, then the scenario's [defaults].
struct Vars<'a> {
    defaults: &'a BTreeMap<String, String>,
    env: &'a crate::env::Lookup<'a>,
    /// The scenario's token variable, the one credential a scenario names (and sends only as
    /// `Authorization: Bearer`).
    token_var: &'a str,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> Result<String, String> {
        // The one rule of which variables a scenario reads: only its own family (`PERF_*`, the
        // rule of `bearer_token_env`). A CI job holds credentials of other origins under names no
        // word list tells (`RAILS_MASTER_KEY`, `GITHUB_PAT`, `CI_JOB_JWT_V2`: finding
        // round36-text/01), and a scenario may come from a pull request.
        if !crate::settings::in_scenario_family(name) {
            return Err(format!(
                "${{{name}}}: a scenario reads only its own {family}* variables, and {name} is not one (any other \
                 variable of the environment may be another origin's credential, which would reach the load \
                 target); name a {family}* variable and set it from yours in the job",
                family = crate::settings::SCENARIO_FAMILY,
            ));
        }
        // Any environment variable could fill a `${NAME}`, and a CI job holds credentials of
        // other origins gatecheck does not know by name (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY): a
        // name that reads as a credential's is never read into a request (finding round29-text/05).
        if name != self.token_var && crate::settings::reads_as_credential(name) {
            return Err(format!(
                "${{{name}}}: the variable's name reads as a credential's, and a scenario fills no text from a \
                 credential (one of another origin's would reach the load target); the load target's token is \
                 sent as Authorization: Bearer from bearer_token_env"
            ));
        }
        let value = (self.env)(name)
            .map_err(|e| e.to_string())?
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.defaults.get(name).cloned())
            .ok_or_else(|| format!("{name} is not set and has no default"))?;
        // A credential held under a name that does not say so (`DATABASE_URL` with a password,
        // `SENTRY_DSN`, a `Bearer …` value) is one by its value's shape, the same rule
        // (`settings::is_credential`) that makes it a secret of this process (finding
        // round32-text/01). The message names the variable, never its value.
        if name != self.token_var && crate::settings::is_credential(name, &value) {
            return Err(format!(
                "${{{name}}}: the variable's value reads as a credential (a URL's user or password, a \
                 credential-named URL parameter, or an HTTP credential; not shown), and a scenario fills no text \
                 from a credential (one of another origin's would reach the load target); the load target's token \
                 is sent as Authorization: Bearer from bearer_token_env"
            ));
        }
        Ok(value)
    }

    /// Replaces every `${NAME}` in `text`; filters are not allowed inside text.
    fn text(&self, text: &str) -> Result<String, String> {
        crate::policy::template::substitute(text, &|name| {
            if name.contains('|') {
                return Err(format!("${{{name}}}: a filter (|list, |int) needs the whole value to itself"));
            }
            self.get(name)
        })
    }

    /// A JSON value from TOML; a string that is exactly `${NAME|list}` or `${NAME|int}` becomes
    /// a typed value.
    fn json(&self, value: &toml::Value) -> Result<serde_json::Value, String> {
        use serde_json::Value as J;
        Ok(match value {
            toml::Value::String(s) => {
                let whole =
                    s.strip_prefix("${").and_then(|r| r.strip_suffix('}')).filter(|inner| !inner.contains("${"));
                match whole.and_then(|inner| inner.split_once('|')) {
                    Some((name, "list")) => J::Array(
                        self.get(name)?
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| J::String(s.to_string()))
                            .collect(),
                    ),
                    Some((name, "int")) => {
                        let raw = self.get(name)?;
                        J::from(raw.trim().parse::<i64>().map_err(|_| {
                            format!("${{{name}|int}}: {name} is not a whole number (its value not shown)")
                        })?)
                    }
                    Some((name, filter)) => return Err(format!("${{{name}|{filter}}}: unknown filter (list, int)")),
                    None => J::String(self.text(s)?),
                }
            }
            toml::Value::Integer(i) => J::from(*i),
            toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
            toml::Value::Boolean(b) => J::Bool(*b),
            toml::Value::Array(items) => J::Array(items.iter().map(|v| self.json(v)).collect::<Result<_, _>>()?),
            toml::Value::Table(table) => {
                J::Object(table.iter().map(|(k, v)| Ok((k.clone(), self.json(v)?))).collect::<Result<_, String>>()?)
            }
            toml::Value::Datetime(d) => J::String(d.to_string()),
        })
    }
}

/// `http://host:port/prefix` -> target; anything else is refused before any request.
pub fn parse_base_url(url: &str) -> Result<Target, String> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://").ok_or("expected http://HOST[:PORT][/PREFIX]")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(format!("scheme {other:?} is not http or https")),
    };
    let (authority, base_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') || base_path.contains(['?', '#']) {
        return Err("expected http://HOST[:PORT][/PREFIX] with no credentials, query or fragment".into());
    }
    let default_port = if scheme == Scheme::Https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in an IPv6 address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("port {p:?} is not a number"))?,
            None if after.is_empty() => default_port,
            None => return Err("unexpected text after the IPv6 address".into()),
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, p)) => (host.to_string(), p.parse().map_err(|_| format!("port {p:?} is not a number"))?),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    Ok(Target { scheme, host, port, authority: authority.to_string(), base_path: base_path.to_string() })
}

pub fn parse_duration(what: &str, text: &str) -> Result<Duration, String> {
    crate::metrics::clock::parse_duration(text)
        .map_err(|e| format!("{what} {text:?}: {e} (expected e.g. 30s, 250ms, 2m)"))
}

fn percent_encode_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The built-in scenario as tests of the load stage read it: a loopback base URL, a token
/// and a rule id set.
#[cfg(test)]
pub(crate) fn builtin_for_tests() -> LoadPlan {
    let env = |name: &str| {
        Ok(match name {
            "PERF_BASE_URL" => Some("http://127.0.0.1:1".to_string()),
            "PERF_BEARER_TOKEN" => Some("token-1".to_string()),
            "PERF_RULE_ID" => Some("rule-1".to_string()),
            _ => None,
        })
    };
    parse(BUILTIN_CORE_FLOWS_NAME, BUILTIN_CORE_FLOWS, &Overrides::default(), &env)
        .expect("the built-in scenario loads")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<Option<String>, Error> {
        move |name| Ok(pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    fn plan(pairs: &'static [(&'static str, &'static str)]) -> Result<LoadPlan, Error> {
        parse("core-flows.toml", BUILTIN_CORE_FLOWS, &Overrides::default(), &env(pairs))
    }

    #[test]
    fn reference_defaults() {
        let plan = plan(&[("PERF_BEARER_TOKEN", "plan-test-token"), ("PERF_RULE_ID", "rule 1")]).unwrap();
        assert_eq!(plan.target.url(), "http://127.0.0.1:8000");
        assert_eq!(plan.executor, Executor::ConstantVus { vus: 2 });
        assert_eq!(plan.duration, Duration::from_secs(30));
        let names: Vec<&str> = plan.flows.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["auth_list", "rule_poll", "provider_log_write"]);
        assert_eq!(plan.flows[0].requests[1].path, "/api/watch-releases?limit=20");
        assert_eq!(plan.flows[1].requests[0].path, "/api/dev/rules/rule%201/run?limit=20");
        assert_eq!(plan.flows[1].start_after, Duration::from_secs(1));
        assert_eq!(plan.flows[2].start_after, Duration::from_secs(2));
        let body: serde_json::Value = serde_json::from_slice(plan.flows[2].requests[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"keywords": ["house", "techno"], "providers": ["discogs"], "page": 1, "page_size": 10})
        );
    }

    #[test]
    fn env_overrides_and_trailing_slash() {
        let plan = plan(&[
            ("PERF_BEARER_TOKEN", "plan-test-token"),
            ("PERF_RULE_ID", "r"),
            ("PERF_BASE_URL", "http://[::1]:9000/v2/"),
            ("PERF_SEARCH_KEYWORDS", "a, b ,c"),
            ("PERF_VUS", "5"),
        ])
        .unwrap();
        assert_eq!(plan.target.host, "::1");
        assert_eq!(plan.target.base_path, "/v2");
        assert_eq!(plan.flows[0].requests[0].path, "/v2/api/watch-rules?limit=20");
        let body: serde_json::Value = serde_json::from_slice(plan.flows[2].requests[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body["keywords"], serde_json::json!(["a", "b", "c"]));
        assert_eq!(plan.executor, Executor::ConstantVus { vus: 5 });
    }

    /// Finding round29-text/05: no error of the loader quotes a variable's value, only the
    /// scenario's text as written (the value may be any credential of the environment: the
    /// path_params error quoted `/search?q=<ACTIONS_ID_TOKEN_REQUEST_TOKEN's value>`).
    #[test]
    fn no_load_error_quotes_a_variables_value() {
        const VALUE: &str = "vAlUe-0f-an0ther-var1able";
        let value = |_: &str| -> Result<Option<String>, Error> { Ok(Some(VALUE.to_string())) };
        let cases = [
            one_request("path = \"/search?q=${PERF_OPAQUE}{OPAQUE}\"\npath_params = { X = \"1\" }"),
            one_request("path = \"${PERF_OPAQUE}\""),
            one_request("path = \"/a/${PERF_OPAQUE}{b}\""),
            one_request("path = \"/a/${PERF_OPAQUE} b\""),
            one_request("path = \"/a\"\njson = { n = \"${PERF_OPAQUE|int}\" }"),
            one_request("path = \"/a\"").replace("vus = \"1\"", "vus = \"${PERF_OPAQUE}\""),
            one_request("path = \"/a\"").replace("duration = \"2s\"", "duration = \"${PERF_OPAQUE}\""),
            one_request("path = \"/a\"").replace("name = \"f\"\n", "name = \"f\"\nenabled = \"${PERF_OPAQUE}\"\n"),
        ];
        for text in cases {
            let err = parse("s.toml", &text, &Overrides::default(), &value).expect_err(&text).to_string();
            assert!(!err.contains("an0ther"), "{text}\n{err}");
        }
    }

    /// A one-request scenario with `request` (its `path` and `path_params` lines).
    fn one_request(request: &str) -> String {
        format!(
            "[scenario]\nbase_url = \"http://127.0.0.1:9\"\nvus = \"1\"\nduration = \"2s\"\n\n\
             [[flow]]\nname = \"f\"\n\n[[flow.request]]\nname = \"r\"\nmethod = \"GET\"\n{request}\n"
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Finding round21-text/01, as a rule: a variable that is a credential's (the token's or
        /// one gatecheck reads by name) in any position of a request's path, query or path
        /// parameters is refused, naming it; any other variable whose value holds the bearer
        /// token is refused too (by the value, whatever the name); the same request built from
        /// an ordinary variable with an ordinary value loads.
        #[test]
        fn a_credential_variable_anywhere_in_a_request_url_is_refused(
            known in proptest::sample::select(crate::settings::CREDENTIAL_ENV.to_vec()),
            by_value in proptest::bool::ANY,
            // Ordinary names (`PERF_API_KEY` reads as a credential's: refused by name below).
            name in "(PERF_|perf_|PERF_MY_)(ITEM|PAGE|REF|SESSION)(_2|)",
            position in 0usize..5,
        ) {
            const TOKEN: &str = "tok-proptest-0a1b2c3d";
            let var = if by_value { name.clone() } else { known.to_string() };
            let request = |var: &str| match position {
                0 => format!("path = \"/${{{var}}}/items\""),
                1 => format!("path = \"/api/items/${{{var}}}\""),
                2 => format!("path = \"/api/items?page=1&q=${{{var}}}\""),
                3 => format!("path = \"/api/items/{{p}}\"\npath_params = {{ p = \"${{{var}}}\" }}"),
                _ => format!("path = \"/api/{{p}}/x\"\npath_params = {{ p = \"a-${{{var}}}-b\" }}"),
            };
            let value_of = |holding: bool| {
                move |n: &str| -> Result<Option<String>, Error> {
                    Ok(Some(if n == "PERF_BEARER_TOKEN" || holding { TOKEN.into() } else { "v1".into() }))
                }
            };
            let text = one_request(&request(&var));
            let refused = parse("s.toml", &text, &Overrides::default(), &value_of(by_value));
            let err = refused.expect_err("a credential in a request URL").to_string();
            let named = if by_value { err.contains("credential gatecheck holds") } else { err.contains(&format!("${{{var}}}")) };
            proptest::prop_assert!(named && err.contains("request URL") && !err.contains("0a1b2c3d"), "{}", err);
            let plain = one_request(&request(&name));
            let loaded = parse("s.toml", &plain, &Overrides::default(), &value_of(false));
            proptest::prop_assert!(loaded.is_ok(), "{:?}", loaded.err());
            // A variable of the scenario's family whose name reads as a credential's is one,
            // whatever its value (finding round27-text/03).
            let named = one_request(&request("PERF_API_KEY"));
            let err = parse("s.toml", &named, &Overrides::default(), &value_of(false)).expect_err("a credential's name");
            proptest::prop_assert!(err.to_string().contains("${PERF_API_KEY}"), "{}", err);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]
        /// Finding round35-text/01, as a rule: a scenario's token is read only from a variable
        /// of its own family (`PERF_*`, any case); any other name — gatecheck's, a CI job's
        /// cloud, GitHub or registry credential, a plain `API_TOKEN` — is refused at load, naming
        /// `bearer_token_env` and the variable, never quoting its value, whatever it holds.
        #[test]
        fn the_load_token_is_read_only_from_the_scenarios_own_family(
            name in "(PERF_|perf_|Perf_|PERF|GATECHECK_|K6_|AWS_|GITHUB_|ACTIONS_ID_|NPM_|DD_|)(SECRET_ACCESS_KEY|TOKEN|API_TOKEN|BEARER_TOKEN|REQUEST_TOKEN|KEY|X)",
        ) {
            // No word of another test's plain values (`….example`): the scrubber's folded forms
            // of this token, held process-wide, would mask them there.
            const VALUE: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYQZMPLKEY";
            let text = one_request("path = \"/a\"").replace("vus = \"1\"", &format!("vus = \"1\"\nbearer_token_env = \"{name}\""));
            let value = |_: &str| -> Result<Option<String>, Error> { Ok(Some(VALUE.to_string())) };
            let loaded = parse("s.toml", &text, &Overrides::default(), &value);
            let own = name.len() > 5 && name[..5].eq_ignore_ascii_case("PERF_");
            match loaded {
                Ok(plan) => proptest::prop_assert!(own && plan.token.as_ref().map(|t| t.expose()) == Some(VALUE), "{} loaded", name),
                Err(err) => {
                    let err = err.to_string();
                    proptest::prop_assert!(!own, "{}: {}", name, err);
                    // The variable is named (other tests' secrets share the process-wide
                    // scrubber and may mask a piece of a name such as `..._REQUEST_TOKEN`).
                    let named = err.contains(&format!("bearer_token_env = \"{name}\"")) || err.contains("***");
                    proptest::prop_assert!(named && !err.contains("QZMPLKEY"), "{}", err);
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Finding round32-text/01, as a rule: a `${NAME}` of any name whose value reads as a
        /// credential (`settings::is_credential`: a URL's userinfo or credential-named parameter,
        /// an HTTP credential) is refused wherever it stands (body, path parameter, query),
        /// naming the variable, never quoting the value; a plain value of the same variable loads.
        #[test]
        fn a_variable_whose_value_reads_as_a_credential_is_refused(
            name in "PERF_(DATABASE|SENTRY|NOTIFY|MY|TARGET)_(URL|ADDR|NOTE|ID)",
            secret in "[A-Za-z0-9]{10,20}",
            shape in 0usize..5,
            position in 0usize..3,
            plain in proptest::prop_oneof![
                "[a-z0-9-]{1,12}",
                "[a-z][a-z0-9]{0,8}\\.example",
                "https://[a-z]{1,8}\\.example/api\\?page=[0-9]{1,3}",
            ],
        ) {
            let value = match shape {
                0 => format!("postgres://app:{secret}@db.internal/app"),
                1 => format!("https://{secret}@o1.ingest.example/1"),
                2 => format!("https://influx.example/write?db=k6&token={secret}"),
                3 => format!("Bearer {secret}"),
                _ => format!("Basic {secret}"),
            };
            let request = match position {
                0 => format!("path = \"/a\"\njson = {{ v = \"${{{name}}}\" }}"),
                1 => format!("path = \"/a/{{p}}\"\npath_params = {{ p = \"${{{name}}}\" }}"),
                _ => format!("path = \"/a?q=${{{name}}}\""),
            };
            let text = one_request(&request);
            let holding = |value: String| {
                move |n: &str| -> Result<Option<String>, Error> {
                    Ok(Some(if n == "PERF_BEARER_TOKEN" { "tok-plan-0a1b2c".to_string() } else { value.clone() }))
                }
            };
            let err = parse("s.toml", &text, &Overrides::default(), &holding(value.clone()))
                .expect_err("a credential's value")
                .to_string();
            proptest::prop_assert!(err.contains(&format!("${{{name}}}")) && !err.contains(&secret), "{}", err);
            let loaded = parse("s.toml", &text, &Overrides::default(), &holding(plain.clone()));
            proptest::prop_assert!(loaded.is_ok(), "{}: {:?}", plain, loaded.err());
        }
    }

    /// A scenario with `${name}` in the field numbered `place` (base_url, vus, duration, a flow's
    /// switch, a path, a path parameter, a body value, an expected JSON value), and the value the
    /// variable must hold there for the scenario to load.
    fn naming_in(place: usize, name: &str) -> (String, &'static str) {
        let var = format!("${{{name}}}");
        let plain = one_request("path = \"/a\"");
        match place {
            0 => (plain.replace("\"http://127.0.0.1:9\"", &format!("\"{var}\"")), "http://127.0.0.1:9"),
            1 => (plain.replace("vus = \"1\"", &format!("vus = \"{var}\"")), "1"),
            2 => (plain.replace("duration = \"2s\"", &format!("duration = \"{var}\"")), "2s"),
            3 => (plain.replace("name = \"f\"\n", &format!("name = \"f\"\nenabled = \"{var}\"\n")), "1"),
            4 => (one_request(&format!("path = \"/a/{var}\"")), "x"),
            5 => (one_request(&format!("path = \"/a/{{p}}\"\npath_params = {{ p = \"{var}\" }}")), "x"),
            6 => (one_request(&format!("path = \"/a\"\njson = {{ v = \"{var}\" }}")), "x"),
            _ => {
                (one_request(&format!("path = \"/a\"\nexpect_json = {{ pointer = \"/v\", equals = \"{var}\" }}")), "x")
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Finding round36-text/01, as a rule: a `${NAME}` in any field of a scenario loads iff
        /// the variable is of the scenario's own family (`PERF_*`, any case) and its name does not
        /// read as a credential's; any other name — a CI job's credential no word list knows
        /// (`RAILS_MASTER_KEY`, `GITHUB_PAT`, `CI_JOB_JWT_V2`), gatecheck's, k6's, a plain one —
        /// is refused at load, naming the variable, never quoting its value.
        #[test]
        fn a_scenario_reads_only_its_own_family_of_variables(
            name in proptest::prop_oneof![
                "(PERF_|perf_|Perf_|pErF_)[A-Za-z][A-Za-z0-9_]{0,12}",
                "(PERF|PERFX_|RAILS_|GITHUB_|CI_JOB_|DD_|MYSQL_|RABBITMQ_DEFAULT_|NEW_RELIC_|MY_|GATECHECK_|K6_|AWS_|)(MASTER_KEY|PAT|JWT|JWT_V2|APP_KEY|PWD|PASS|LICENSE_KEY|ITEM|TOKEN|X|URL)",
                proptest::sample::select(vec![
                    "RAILS_MASTER_KEY", "GITHUB_PAT", "CI_JOB_JWT", "CI_JOB_JWT_V2", "DD_APP_KEY", "MYSQL_PWD",
                    "RABBITMQ_DEFAULT_PASS", "NEW_RELIC_LICENSE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                    "SLACK_HOOK_URL", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "CI_JOB_TOKEN",
                    "NPM_TOKEN", "AWS_SECRET_ACCESS_KEY", "HOME", "PATH", "T",
                ].into_iter().map(String::from).collect::<Vec<_>>()),
            ],
            place in 0usize..8,
        ) {
            proptest::prop_assume!(name != DEFAULT_TOKEN_ENV);
            const SECRET: &str = "zQ9vRm4kW8pL2xN7";
            let (text, fits) = naming_in(place, &name);
            let lookup = |n: &str| -> Result<Option<String>, Error> {
                Ok(Some(if n == DEFAULT_TOKEN_ENV { "tok-family-0a1b2c".to_string() } else if n == name { fits.to_string() } else { SECRET.to_string() }))
            };
            let loaded = parse("s.toml", &text, &Overrides::default(), &lookup);
            let own = crate::settings::in_scenario_family(&name) && !crate::settings::reads_as_credential(&name);
            match loaded {
                Ok(_) => proptest::prop_assert!(own, "{} at {} loaded", name, place),
                Err(err) => {
                    let err = err.to_string();
                    proptest::prop_assert!(!own, "{} at {}: {}", name, place, err);
                    let named = err.contains(&format!("${{{name}}}")) || err.contains("***");
                    proptest::prop_assert!(named && !err.contains(SECRET), "{} at {}: {}", name, place, err);
                }
            }
        }
    }

    #[test]
    fn refusals() {
        assert!(plan(&[("PERF_RULE_ID", "r")]).unwrap_err().to_string().contains("PERF_BEARER_TOKEN is not set"));
        let err = plan(&[("PERF_BEARER_TOKEN", "plan-test-token")]).unwrap_err().to_string();
        assert!(err.contains("PERF_RULE_ID is not set"), "{err}");
        let off = plan(&[("PERF_BEARER_TOKEN", "plan-test-token"), ("PERF_ENABLE_RULE_RUN", "0")]).unwrap();
        assert_eq!(off.flows.len(), 2);
        assert_eq!(off.skipped[0].0, "rule_poll");
        for bad in ["ftp://x", "127.0.0.1:8000", "http://u:p@h", "http://h:port"] {
            let lookup = move |name: &str| {
                Ok(match name {
                    "PERF_BASE_URL" => Some(bad.to_string()),
                    "PERF_BEARER_TOKEN" | "PERF_RULE_ID" => Some("plan-test-value".into()),
                    _ => None,
                })
            };
            let err = parse("s.toml", BUILTIN_CORE_FLOWS, &Overrides::default(), &lookup).unwrap_err().to_string();
            // A URL with user:password is a credential by its shape, refused as one before it is
            // read as a base URL (finding round32-text/01).
            let as_credential = bad.contains('@') && err.contains("${PERF_BASE_URL}") && err.contains("credential");
            assert!(err.contains("base URL") || err.contains("base_url") || as_credential, "{bad}: {err}");
        }
        assert!(plan(&[("PERF_BEARER_TOKEN", "plan-test-token"), ("PERF_RULE_ID", "r"), ("PERF_VUS", "many")]).is_err());
        assert!(plan(&[("PERF_BEARER_TOKEN", "plan-test-token"), ("PERF_RULE_ID", "r"), ("PERF_DURATION", "soon")])
            .is_err());
        assert!(plan(&[("PERF_BEARER_TOKEN", "plan-test-token"), ("PERF_RULE_ID", "r"), ("PERF_SEARCH_PAGE", "one")])
            .is_err());
        // The token is a secret before anything else is read: a scenario that (wrongly) fills
        // its base URL or a count from the token's variable never quotes it in the error.
        for (key, line) in
            [("base_url", "base_url = \"${PERF_BEARER_TOKEN}\""), ("vus", "vus = \"${PERF_BEARER_TOKEN}\"")]
        {
            let text: String = BUILTIN_CORE_FLOWS
                .lines()
                .map(|l| if l.starts_with(&format!("{key} = ")) { line.to_string() } else { l.to_string() })
                .collect::<Vec<_>>()
                .join("\n");
            let err = parse(
                "s.toml",
                &text,
                &Overrides::default(),
                &env(&[("PERF_BEARER_TOKEN", "s3cr3t-plan-order-77"), ("PERF_RULE_ID", "r")]),
            )
            .unwrap_err()
            .to_string();
            // As every error is printed: through the one scrubber.
            let shown = crate::secret::scrub(&err);
            // Masked where quoted; a URL holding a credential, or a value (`as_written`), is not
            // quoted at all.
            // A base URL built of the token's variable is refused by its name, as a path is.
            let masked =
                shown.contains("***") || shown.contains("not shown") || shown.contains("a credential's variable");
            assert!(!shown.contains("s3cr3t-plan-order-77") && masked, "{key}: {shown}");
        }
    }
}
