//! Fuzzes the settings file (`gatecheck.toml`, read through figment by `settings::resolve`,
//! which only takes a path: the input is written to a scratch file). A plan that resolves has
//! a Prometheus URL that is http(s) with a host and no credentials, a timeout above zero,
//! at least one query in flight, and named `--var` overrides.
#![no_main]

use gatecheck::settings::{resolve, resolve_on_call, Plan, Settings};
use libfuzzer_sys::fuzz_target;

fn check_plan(plan: &Plan) {
    if let Some(prometheus) = &plan.prometheus {
        let url = prometheus.url.as_str();
        let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        let rest = rest.unwrap_or_else(|| panic!("URL {url:?} is not http(s)"));
        let authority = rest.split('/').next().unwrap_or_default();
        assert!(!authority.is_empty() && !authority.contains('@'), "URL {url:?}");
        assert!(!prometheus.timeout.is_zero());
        assert!(prometheus.concurrency >= 1);
    }
    for (name, _) in &plan.vars {
        assert!(!name.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    // A token file named in the settings is read: device files would block or never end.
    if data.windows(4).any(|w| w == b"/dev" || w == b"/pro" || w == b"/sys") {
        return;
    }
    let path = gatecheck_fuzz::write_scratch("gatecheck.toml", data);
    let env = |_: &str| Ok::<_, gatecheck::error::Error>(None);
    if let Ok(plan) = resolve(Some(&path), Settings::default(), &env) {
        check_plan(&plan);
    }
    if let Ok(plan) = resolve_on_call(Some(&path), Settings::default(), &env) {
        check_plan(&plan);
    }
});
