//! `gatecheck export k6`: the scenario as a k6 script, so the native runner and k6 share one
//! definition (flows, requests, bodies, checks, sleeps, start offsets, tags) and one set of
//! thresholds (the policy's k6-metric gates). Like the reference script, the exported one
//! reads every `${VAR}` of the scenario at k6 run time (`__ENV`, else the scenario's
//! `[defaults]`): the base URL, VUs, duration, paths, flow switches, the rule id and body
//! values are never baked in at export time, and the bearer token never appears in it.

use std::path::Path;

use crate::error::Error;
use crate::load::plan::{self, Executor, LoadPlan, Overrides, Templates};
use crate::metrics::MetricKind;
use crate::policy::Policy;

/// Stands in for a variable with no default while the plan is checked at export time; the
/// script resolves the real value at k6 run time.
const RUNTIME: &str = "resolved-at-k6-run-time";

/// The bearer token the plan is checked with when exporting: no run's, and no text the script holds.
const TOKEN_OF_NO_RUN: &str = "token-of-no-k6-run";

/// What a runner tells the live distributed check (gates/distributed.toml, engine=k6) about
/// itself, because k6's own remote-write series carry neither: the execution segment it ran,
/// the sequence that segment belongs to (with its number of segments) and the instant its test
/// started. The check then counts distinct segments of one sequence — two runners of one
/// segment are not two segments — and judges only the latest attempt of a test id, each runner
/// for the whole duration from its own start. k6 gives its options only once the test runs
/// (not at init), so the first iteration of each VU reads them; every iteration reports, as
/// remote-write pushes a gauge only in an interval that sampled it.
const RUN_IDENTITY: &str = r#"const RUN_START = new Gauge('gatecheck_run_start');
let runTags = null;
function reportRun() {
  if (runTags === null) {
    const options = exec.test.options;
    if (options.executionSegment && !options.executionSegmentSequence) {
      exec.test.abort('--execution-segment needs --execution-segment-sequence (k6-operator gives both): the live check counts the segments of one sequence');
    }
    const sequence = options.executionSegment ? String(options.executionSegmentSequence) : '0,1';
    runTags = { segment: options.executionSegment ? String(options.executionSegment) : '0:1', sequence: sequence, segments: String(sequence.split(',').length - 1) };
  }
  RUN_START.add((Date.now() - exec.instance.currentTestRunDuration) / 1000, runTags);
}
"#;

pub fn render(scenario: Option<&Path>, policy: &Policy) -> Result<String, Error> {
    let (source, text) = match scenario {
        Some(path) => (path.display().to_string(), crate::input::read_to_string(path, "scenario")?),
        None if Path::new("gates/core-flows.toml").is_file() => {
            let path = Path::new("gates/core-flows.toml");
            (path.display().to_string(), crate::input::read_to_string(path, "scenario")?)
        }
        None => (plan::BUILTIN_CORE_FLOWS_NAME.to_string(), plan::BUILTIN_CORE_FLOWS.to_string()),
    };
    let templates = plan::templates(&source, &text)?;
    // Checked with the scenario's own defaults, not this shell's environment: what k6 will
    // use is decided when k6 runs.
    // The token stands in as a value of its own: the loader holds it as a credential while the
    // plan lives, and a credential sharing RUNTIME's text would mask every path built of it.
    let defaults_only = |name: &str| {
        Ok((!templates.defaults.contains_key(name))
            .then(|| if templates.token_env.as_deref() == Some(name) { TOKEN_OF_NO_RUN } else { RUNTIME }.to_string()))
    };
    let plan = plan::parse(&source, &text, &Overrides::default(), &defaults_only)?;
    // Scenario text reaches the script only inside string literals: every hidden character in
    // it is written escaped (finding round27-text/04: bidi overrides in a reviewed script).
    let script = crate::escape::code(script(&plan, &templates, policy));
    drop(plan);
    // Written as generated or not at all (`secret::generated_as_is`, checked by the command that
    // writes it, finding round39-text/03): a text masked here would be a script that runs
    // otherwise than the scenario says (`Array.f***` where its own code read as a credential,
    // round24-text; a check name k6 reports as another).
    Ok(script)
}

/// The JavaScript helpers that resolve variables at k6 run time, as the native runner does.
const RUNTIME_HELPERS: &str = r#"function env(name) {
  // As the native runner (load::plan::Vars::get): a `${NAME}` reads only the scenario's own
  // family, and never a variable whose name
  // or value reads as a credential's (settings::is_credential: a URL's user or password, a
  // credential-named URL parameter, an HTTP credential), whatever it is called, except the
  // scenario's own token variable; the error names the variable, never the value (findings
  // round29-text/05, round32-text/01).
  // Only the scenario's own family is read (settings::in_scenario_family, round36-text/01):
  // no word list tells every credential a CI job holds (RAILS_MASTER_KEY, GITHUB_PAT).
  if (!inScenarioFamily(name)) {
    throw new Error('${' + name + '}: a scenario reads only its own ' + SCENARIO_FAMILY + '* variables, and ' + name + ' is not one (any other variable of the environment may be another origin\'s credential); name a ' + SCENARIO_FAMILY + '* variable and set it from yours in the job');
  }
  const own = name === SCENARIO_TOKEN_VARIABLE;
  if (!own && readsAsCredential(name)) {
    throw new Error('${' + name + '}: the variable\'s name reads as a credential\'s, and a scenario fills no text from a credential (one of another origin\'s would reach the load target); the load target\'s token is sent as Authorization: Bearer from bearer_token_env');
  }
  const set = __ENV[name];
  let value;
  if (set !== undefined && String(set).trim() !== '') value = String(set);
  else if (Object.prototype.hasOwnProperty.call(DEFAULTS, name)) value = DEFAULTS[name];
  else throw new Error(name + ' is not set and has no default');
  if (!own && isCredential(name, value)) {
    throw new Error('${' + name + '}: the variable\'s value reads as a credential (a URL\'s user or password, a credential-named URL parameter, or an HTTP credential; not shown), and a scenario fills no text from a credential (one of another origin\'s would reach the load target); the load target\'s token is sent as Authorization: Bearer from bearer_token_env');
  }
  return value;
}
function text(template) {
  return template.replace(/\$\{([^}]+)\}/g, (_, name) => env(name));
}
function list(name) {
  return env(name).split(',').map((s) => s.trim()).filter((s) => s !== '');
}
// No error below quotes a variable's value, only its name or the scenario's template: the value
// may be a credential (the bearer token in PERF_SEARCH_PAGE), and a script cannot scrub what it
// prints as the native runner does (finding round23-text/05).
function int(name) {
  const value = Number(env(name));
  if (!Number.isInteger(value)) throw new Error(name + ' must be a whole number (its value not shown)');
  return value;
}
function on(template) {
  const v = text(template).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error('the flow switch ' + JSON.stringify(template) + ' is 1/true/yes/on or 0/false/no/off (its value not shown)');
}
function millis(template) {
  const units = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  const rest = text(template).trim().replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n, unit) => {
    total += Number(n) * units[unit];
    return '';
  });
  if (rest !== '' || total <= 0) throw new Error('the duration ' + JSON.stringify(template) + ' is e.g. 30s, 2m or 1m30s (its value not shown)');
  return total;
}
function path(template, params) {
  // Every {param}, as the native runner fills them; a path must start with '/', so a value can
  // never move the bearer token to another host or port.
  const filled = Object.keys(params).reduce((p, key) => p.split('{' + key + '}').join(encodeURIComponent(params[key])), text(template));
  if (!filled.startsWith('/')) throw new Error('the path ' + JSON.stringify(template) + ' must start with / once filled (its value not shown)');
  return filled;
}
function refuseCredentialInUrl(request, url) {
  // As the native runner refuses at load (load::plan::request_plan): a request URL is printed
  // in access logs, proxies and reports, so no credential travels in it — not as userinfo, not
  // as a credential-named parameter, not as the value of a credential gatecheck knows by name,
  // whatever variable carried it there. Thrown while k6 loads the script: before any request.
  const where = 'request ' + JSON.stringify(request) + ': ';
  const travel = ', and credentials do not travel in the request URL (printed in access logs, proxies and reports); the bearer token is sent as Authorization: Bearer';
  if (/^[^:\/?#]*:\/\/[^\/?#]*@/.test(url)) throw new Error(where + 'the base URL holds user:password@' + travel);
  const word = credentialParameter(url);
  if (word !== null) throw new Error(where + 'a query parameter is named as a credential\'s (' + JSON.stringify(word) + ' in its name)' + travel);
  for (const [name, held] of credentialValues()) {
    if (holdsValue(url, held)) throw new Error(where + 'the URL holds the value of ' + name + ' (not shown)' + travel);
  }
  return url;
}
function refuseCredentialInBody(request, body) {
  // As the native runner refuses at load: a body holding a credential gatecheck knows by name
  // (another origin's, as the Prometheus token) never reaches the load target.
  if (body === null) return body;
  for (const [name, held] of credentialValues()) {
    if (holdsValue(body, held)) {
      throw new Error('request ' + JSON.stringify(request) + ': the body holds the value of ' + name + ' (not shown), and credentials travel only as their own header to their own origin');
    }
  }
  return body;
}
function credentialValues() {
  // Every credential the environment holds, as (variable, value, another origin's), as the
  // native runner reads them: settings::credentials_in_env (`credentialsInEnv`, written by
  // settings::credential_env_rule_js: by name, by prefix, header lists, and what every
  // variable's value carries by its shape), and the scenario's own token variable.
  const found = credentialsInEnv(__ENV, Object.keys(__ENV));
  for (const name of CREDENTIAL_VARIABLES) {
    if (!found.some(([held]) => held === name)) found.push([name, __ENV[name], name !== LOAD_TOKEN_ENV && !asciiUpper(name).startsWith('PERF_')]);
  }
  return found.filter(([, value]) => value !== undefined && String(value).trim() !== '');
}
function pointer(value, path) {
  if (path === '') return value;
  return path.split('/').slice(1).reduce((v, key) => {
    const k = key.replace(/~1/g, '/').replace(/~0/g, '~');
    return v === undefined || v === null ? undefined : v[k];
  }, value);
}
"#;

/// The bearer token from the scenario's variable (`TOKEN_ENV`), trimmed and refused as the
/// native runner refuses it (`load::plan::parse`, `secret::from_input`): unset, not printable
/// ASCII, or shorter than `secret::SHORTEST`; each error names the variable, never the value.
const BEARER_TOKEN: &str = r#"const TOKEN = (() => {
  const value = __ENV[TOKEN_ENV] === undefined ? '' : String(__ENV[TOKEN_ENV]).trim();
  if (value === '') throw new Error(TOKEN_ENV + ' is not set: the smoke run needs a bearer token for the API');
  const odd = Array.from(value).findIndex((c) => c < ' ' || c > '~');
  if (odd >= 0) throw new Error(TOKEN_ENV + ': the credential holds a character that is not printable ASCII (character ' + (odd + 1) + ')');
  if (value.length < SHORTEST_CREDENTIAL) throw new Error(TOKEN_ENV + ': the credential is ' + value.length + ' character(s) long; expected at least ' + SHORTEST_CREDENTIAL);
  // As the native runner (secret::holds_other_origin_credential): the token is never, and never
  // holds, another credential gatecheck knows by name (the Prometheus token, the remote-write
  // token...), or it would carry that credential to the load target (finding round25-text/01).
  for (const [name, held, otherOrigin] of credentialValues()) {
    if (name !== TOKEN_ENV && otherOrigin && holdsValue(value, held)) {
      throw new Error(TOKEN_ENV + ': the load target\'s token is (or holds) the value of ' + name + ' (not shown), a credential of another origin, and no credential reaches an origin it is not meant for; give the load target its own token');
    }
  }
  return value;
})();
"#;

/// A TOML body value as a JavaScript expression resolved at run time: `${X|list}` and
/// `${X|int}` as typed values, other strings with their `${VAR}`s replaced.
fn body_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => {
            let whole = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')).filter(|inner| !inner.contains("${"));
            match whole.and_then(|inner| inner.split_once('|')) {
                Some((name, "list")) => format!("list({})", js(name)),
                Some((name, "int")) => format!("int({})", js(name)),
                _ => format!("text({})", js(s)),
            }
        }
        toml::Value::Array(items) => format!("[{}]", items.iter().map(body_value).collect::<Vec<_>>().join(", ")),
        toml::Value::Table(table) => format!(
            "{{ {} }}",
            table.iter().map(|(k, v)| format!("{}: {}", js(k), body_value(v))).collect::<Vec<_>>().join(", ")
        ),
        other => serde_json::to_string(&toml_to_json(other)).unwrap_or_else(|_| "null".into()),
    }
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::Integer(i) => serde_json::json!(i),
        toml::Value::Float(f) => serde_json::json!(f),
        toml::Value::Boolean(b) => serde_json::json!(b),
        other => serde_json::json!(other.to_string()),
    }
}

/// A text as a JavaScript string literal, as written: a scenario's text quoting a credential
/// makes the whole script refused (`secret::generated_as_is`), never a masked literal.
fn js(text: &str) -> String {
    serde_json::to_string(text).expect("strings always encode")
}

pub fn script(plan: &LoadPlan, templates: &Templates, policy: &Policy) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "// Generated by `gatecheck export k6` from {} and policy {} — regenerate, do not edit.\n",
        crate::escape::as_generated(&plan.source, crate::escape::line),
        crate::escape::as_generated(&policy.source, crate::escape::line)
    ));
    out.push_str(
        "// Every ${VAR} is read when k6 runs (k6 -e NAME=VALUE or the environment), else the scenario's default.\n",
    );
    // Comment text from the scenario stays on its comment's line (escape::line renders a line
    // break visibly), so it never becomes code.
    for (flow, why) in &plan.skipped {
        out.push_str(&format!(
            "// flow {} is off by the scenario's defaults ({}) and not part of this script.\n",
            crate::escape::as_generated(flow, crate::escape::line),
            crate::escape::as_generated(why, crate::escape::line)
        ));
    }
    out.push_str("import http from 'k6/http';\nimport { check, sleep } from 'k6';\n");
    out.push_str("import exec from 'k6/execution';\nimport { Gauge } from 'k6/metrics';\nimport encoding from 'k6/encoding';\n\n");
    let defaults: std::collections::BTreeMap<String, String> =
        templates.defaults.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    let defaults = serde_json::to_string_pretty(&defaults).unwrap_or_else(|_| "{}".into());
    out.push_str(&format!("const DEFAULTS = {defaults};\n"));
    out.push_str(RUNTIME_HELPERS);
    out.push_str(&crate::input::credential_rule_js());
    out.push_str(&crate::settings::credential_env_rule_js());
    // The credentials whose values no request URL may hold beyond the environment's
    // (`credentialsInEnv`): the scenario's token variable, as the native runner holds it.
    let credential_variables: Vec<&str> = templates.token_env.as_deref().into_iter().collect();
    // The variable a `${NAME}` may read although it holds a credential, as the native runner's
    // (load::plan: the scenario's token variable, else the default one).
    let token_variable = templates.token_env.as_deref().unwrap_or(crate::load::plan::DEFAULT_TOKEN_ENV);
    let list = |words: &[&str]| serde_json::to_string(words).expect("strings always encode");
    out.push_str(&format!(
        "const CREDENTIAL_VARIABLES = {};\nconst SCENARIO_TOKEN_VARIABLE = {};\n",
        list(&credential_variables),
        js(token_variable),
    ));
    out.push_str(RUN_IDENTITY);
    // The scenario's token variable (`bearer_token_env`), as the native runner reads it
    // (finding round23-text/03): never another credential gatecheck knows by name.
    // None when the scenario says the API takes no token (`bearer_token_env = ""`): then no
    // variable is read and no Authorization header is sent (finding round24-text/05).
    if let Some(token_env) = &templates.token_env {
        out.push_str(&format!("\nconst TOKEN_ENV = {};\n", js(token_env)));
        out.push_str(BEARER_TOKEN);
    }
    out.push_str(&format!("const BASE = text({}).replace(/\\/+$/, '');\n", js(&templates.base_url)));
    // As the native runner: a redirect is never followed (`maxRedirects: 0` below), so the
    // token never reaches another origin, and a 3xx the request does not expect is a failed
    // request (finding text4/01). One response callback per expected status, made at init.
    let mut redirects_expected: Vec<u16> = plan
        .flows
        .iter()
        .flat_map(|flow| flow.requests.iter().map(|r| r.expect_status))
        .filter(|status| (300..400).contains(status))
        .collect();
    redirects_expected.sort_unstable();
    redirects_expected.dedup();
    out.push_str("const EXPECTED = { ok: http.expectedStatuses({ min: 200, max: 299 }) };\n");
    for status in &redirects_expected {
        out.push_str(&format!("EXPECTED[{status}] = http.expectedStatuses({{ min: 200, max: 299 }}, {status});\n"));
    }
    out.push_str(&format!("const VUS = Number(text({}));\n", js(&templates.vus)));
    out.push_str(&format!("const DURATION = millis({});\n\n", js(&templates.duration)));

    out.push_str("const scenarios = {};\nconst URLS = {};\nconst BODIES = {};\n");
    let flow_templates = |flow: &plan::FlowPlan| {
        templates.flows.iter().position(|(name, _)| *name == flow.name).and_then(|index| templates.requests.get(index))
    };
    for flow in &plan.flows {
        let executor = match plan.executor {
            Executor::ConstantVus { .. } => "executor: 'constant-vus', vus: VUS".to_string(),
            Executor::ConstantArrivalRate { rate, max_vus } => format!(
                "executor: 'constant-arrival-rate', rate: {rate}, timeUnit: '1s', preAllocatedVUs: {max_vus}, maxVUs: {max_vus}"
            ),
        };
        let offset = flow.start_after.as_millis();
        let switch = templates.flows.iter().find(|(name, _)| *name == flow.name).and_then(|(_, s)| s.as_ref());
        let condition = match switch {
            Some(template) => format!("if (on({})) ", js(template)),
            None => String::new(),
        };
        // Every request URL of a flow that runs, resolved while k6 loads the script and refused
        // there when it would carry a credential: a throw at init ends the run before any
        // request, where a throw in an iteration would only fail that iteration.
        let urls: Vec<String> = flow
            .requests
            .iter()
            .enumerate()
            .map(|(index, request)| {
                let template = flow_templates(flow).and_then(|requests| requests.get(index));
                let url = match template {
                    Some(t) => {
                        let params: Vec<String> = t
                            .path_params
                            .iter()
                            .map(|(name, value)| format!("{}: text({})", js(name), js(value)))
                            .collect();
                        format!("BASE + path({}, {{ {} }})", js(&t.path), params.join(", "))
                    }
                    None => format!("BASE + {}", js(&request.path)),
                };
                format!("refuseCredentialInUrl({}, {url})", js(&request.name))
            })
            .collect();
        // Bodies too: a value that is no whole number ends the run at load, not every iteration.
        let bodies: Vec<String> = (0..flow.requests.len())
            .map(|index| {
                match flow_templates(flow).and_then(|requests| requests.get(index)).and_then(|t| t.json.as_ref()) {
                    Some(table) => format!(
                        "refuseCredentialInBody({}, JSON.stringify({}))",
                        js(&flow.requests[index].name),
                        body_value(&toml::Value::Table(table.clone()))
                    ),
                    None => "null".to_string(),
                }
            })
            .collect();
        out.push_str(&format!(
            "{condition}{{\n  scenarios[{}] = {{ {executor}, duration: Math.max(0, DURATION - {offset}) + 'ms', startTime: '{offset}ms', exec: {}, tags: {{ flow: {} }} }};\n  URLS[{}] = [{}];\n  BODIES[{}] = [{}];\n}}\n",
            js(&flow.name),
            js(&format!("flow_{}", flow.name)),
            js(&flow.name),
            js(&flow.name),
            urls.join(", "),
            js(&flow.name),
            bodies.join(", ")
        ));
    }
    out.push_str("\nexport const options = {\n  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],\n  maxRedirects: 0,\n  scenarios,\n");
    out.push_str("  thresholds: {\n");
    for gate in &policy.gates {
        let Some((key, kind)) = &gate.metric else { continue };
        if gate.flow.as_ref().is_some_and(|f| plan.skipped.iter().any(|(s, _)| s == f)) {
            continue;
        }
        let expressions: Vec<String> = gate
            .thresholds
            .iter()
            .filter(|t| t.baseline.is_none() && gate.env_var_for(t.stat).is_none() && gate.query_for(t.stat).is_none())
            .filter_map(|t| {
                let time = MetricKind::of_builtin(&key.name) == Some(MetricKind::Trend);
                // The limit exactly as written, on k6's scale (1.1% is 0.011, 0.3s is 300).
                let limit = t.exact_limit(kind.dimension(t.stat, time)).ok()?.normalize();
                Some(js(&format!("{}{}{}", t.stat, t.op.symbol(), limit)))
            })
            .collect();
        if !expressions.is_empty() {
            out.push_str(&format!("    {}: [{}],\n", js(&key.to_string()), expressions.join(", ")));
        }
    }
    out.push_str("  },\n};\n");

    for flow in &plan.flows {
        out.push_str(&format!("\nexport function flow_{}() {{\n  reportRun();\n  let res;\n", flow.name));
        for (index, request) in flow.requests.iter().enumerate() {
            let template = flow_templates(flow).and_then(|requests| requests.get(index));
            let mut headers = Vec::new();
            if templates.token_env.is_some() {
                headers.push(("Authorization", "`Bearer ${TOKEN}`".to_string()));
            }
            if request.body.is_some() {
                headers.push(("Content-Type", js("application/json")));
            }
            let headers: Vec<String> = headers.iter().map(|(k, v)| format!("{}: {v}", js(k))).collect();
            // Path and body resolved while k6 loads the script, from the scenario's templates.
            let body = format!("BODIES[{}][{index}]", js(&flow.name));
            // Resolved and checked once, while k6 loads the script (`URLS` above).
            let url = format!("URLS[{}][{index}]", js(&flow.name));
            let expected = if (300..400).contains(&request.expect_status) {
                format!("EXPECTED[{}]", request.expect_status)
            } else {
                "EXPECTED.ok".to_string()
            };
            out.push_str(&format!(
                "  res = http.request({}, {url}, {body}, {{ headers: {{ {} }}, tags: {{ name: {} }}, responseCallback: {expected} }});\n",
                js(request.method.as_str()),
                headers.join(", "),
                js(&request.name)
            ));
            let mut condition = format!("r.status === {}", request.expect_status);
            if let Some(json_check) = &request.expect_json {
                let found = format!("pointer(r.json(), {})", js(&json_check.pointer));
                // The expected value as written, its ${VAR}s read when k6 runs (never the
                // export-time default: the candidate's version is known only then).
                let expected = template.and_then(|t| t.expect_equals.as_ref()).map(body_value);
                condition = match (&json_check.equals, expected) {
                    (_, Some(expected)) => {
                        format!("{condition} && JSON.stringify({found}) === JSON.stringify({expected})")
                    }
                    (Some(expected), None) => {
                        format!("{condition} && JSON.stringify({found}) === JSON.stringify({expected})")
                    }
                    (None, None) => format!("{condition} && {found} !== undefined"),
                };
            }
            out.push_str(&format!("  check(res, {{ {}: (r) => {condition} }});\n", js(&request.check)));
        }
        if !flow.sleep.is_zero() && matches!(plan.executor, Executor::ConstantVus { .. }) {
            out.push_str(&format!("  sleep({});\n", flow.sleep.as_secs_f64()));
        }
        out.push_str("}\n");
    }
    out
}
