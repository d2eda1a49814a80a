//! Waivers: a named person signs off a known breach of one gate until a date, so a release can
//! ship past it on the record. Fail closed: a waiver without an owner, or longer than the
//! policy allows, is an error (exit 2); an expired one does not apply; rows about the run and
//! its evidence (integrity, freshness, k6's own thresholds) are never waived; NO DATA is
//! waived only where the gate says so. A waiver that covers no breach is reported as stale.
//!
//! Applying is pure: the judgement day is passed in, so the same evidence gives the same verdict.

use schemars::JsonSchema;
use serde::Deserialize;
use time::Date;

use crate::error::Error;
use crate::metrics::LabelSet;
use crate::policy::verdict::{Row, StaleWaiver, Status, WaiverNote};
use crate::policy::{Policy, WaiverCap};

/// The waiver file read when `--waivers` is not given and it exists.
pub const DEFAULT_PATH: &str = "gates/waivers.toml";

/// One checked waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub gate: String,
    /// The threshold as the policy writes it (`p(95) < 300`); None covers every threshold.
    pub threshold: Option<String>,
    /// The query series labels as the waiver writes them; None covers every series.
    pub series: Option<String>,
    /// `series` read as a label set, which rows are matched by (never its text).
    pub labels: Option<LabelSet>,
    pub owner: String,
    pub reason: String,
    pub ticket: String,
    /// The last day the waiver holds.
    pub expires: Date,
    /// The day it was signed off; a waiver's length counts from it (else from the judgement day).
    pub granted: Option<Date>,
    /// The file it came from, for messages.
    pub source: String,
}

/// A gatecheck waiver file: signed-off breaches, each until a date.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    #[serde(default, rename = "waiver")]
    waivers: Vec<RawWaiver>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    gate: Option<String>,
    threshold: Option<String>,
    series: Option<String>,
    owner: Option<String>,
    reason: Option<String>,
    ticket: Option<String>,
    /// The last day the waiver holds: a TOML date (2026-12-01) or the same as a string.
    #[schemars(with = "Option<String>")]
    expires: Option<toml::Value>,
    /// The day it was signed off; its length counts from here.
    #[schemars(with = "Option<String>")]
    granted: Option<toml::Value>,
}

/// The JSON Schema of a waiver file, derived from the structs that parse it.
pub fn json_schema() -> schemars::Schema {
    schemars::schema_for!(WaiverFile)
}

/// Parses a waiver file; `source` names it in every error.
pub fn parse(source: &str, text: &str) -> Result<Vec<Waiver>, Error> {
    let fail = |message: String| Error::Waiver { path: source.to_string(), message };
    let raw: WaiverFile = toml::from_str(text).map_err(|e| fail(crate::input::one_line_toml_error(text, &e)))?;
    let mut waivers = Vec::new();
    for (index, raw) in raw.waivers.into_iter().enumerate() {
        let at = format!("waiver {}", index + 1);
        let required = |value: Option<String>, key: &str| -> Result<String, Error> {
            match value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                Some(value) => Ok(value),
                None => Err(fail(format!("{at}: {key} is missing: every waiver names its {key}"))),
            }
        };
        let gate = required(raw.gate, "gate")?;
        let at = format!("waiver {} (gate {gate:?})", index + 1);
        let required = |value: Option<String>, key: &str| -> Result<String, Error> {
            match value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                Some(value) => Ok(value),
                None => Err(fail(format!("{at}: {key} is missing: every waiver names its {key}"))),
            }
        };
        let owner = required(raw.owner, "owner")?;
        let reason = required(raw.reason, "reason")?;
        let ticket = required(raw.ticket, "ticket")?;
        let expires = match raw.expires {
            Some(value) => date(&value).map_err(|why| fail(format!("{at}: expires: {why}")))?,
            None => return Err(fail(format!("{at}: expires is missing: every waiver ends on a date"))),
        };
        let granted =
            raw.granted.map(|value| date(&value)).transpose().map_err(|why| fail(format!("{at}: granted: {why}")))?;
        if let Some(granted) = granted.filter(|g| *g > expires) {
            return Err(fail(format!("{at}: granted {granted} is after expires {expires}")));
        }
        // A series is a label set, compared as one; a text that is none is refused here rather
        // than left to match nothing (or, compared as text, a series it does not name). A metric
        // name is one of its labels, as it is of a row's series (`LabelSet::of`): a waiver
        // names `up{job="a"}` only when the row's series carries that name.
        let labels = raw
            .series
            .as_deref()
            .map(|text| LabelSet::parse(text).map_err(|why| fail(format!("{at}: series {text:?}: {why}"))))
            .transpose()?;
        waivers.push(Waiver {
            gate,
            threshold: raw.threshold,
            series: raw.series,
            labels,
            owner,
            reason,
            ticket,
            expires,
            granted,
            source: source.to_string(),
        });
    }
    Ok(waivers)
}

/// A date written as TOML's local date (2026-12-01) or a string "2026-12-01".
fn date(value: &toml::Value) -> Result<Date, String> {
    let text = match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => return Err(format!("expected a date such as 2026-12-01, got {}", other.type_str())),
    };
    Date::parse(text.trim(), time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{text:?}: expected a date such as 2026-12-01"))
}

/// The one check of a waiver's span, before any is applied: the policy must set a cap
/// (`max_waiver_days = N`, or `"unlimited"` in words); a waiver granted after the judgement day
/// is refused (it would apply now while its length counts from a future day); and the length
/// counts from the earlier of `granted` and the judgement day, so neither a grant in the past
/// nor one in the future shortens it.
pub fn check_lengths(policy: &Policy, waivers: &[Waiver], today: Date) -> Result<(), Error> {
    let Some(first) = waivers.first() else { return Ok(()) };
    let max = match policy.max_waiver_days {
        Some(WaiverCap::Unlimited) => None,
        Some(WaiverCap::Days(days)) => Some(days),
        None => {
            return Err(Error::Waiver {
                path: first.source.clone(),
                message: format!(
                    "policy {} ({}) sets no waiver length cap: set [policy] max_waiver_days = N (days), or max_waiver_days = \"unlimited\" to allow any length",
                    policy.name, policy.source
                ),
            })
        }
    };
    for waiver in waivers {
        if let Some(granted) = waiver.granted.filter(|g| *g > today) {
            return Err(Error::Waiver {
                path: waiver.source.clone(),
                message: format!(
                    "waiver of gate {:?} by {} is granted {granted}, after the judgement day {today}: a waiver is signed off before it applies",
                    waiver.gate, waiver.owner
                ),
            });
        }
        let Some(max) = max else { continue };
        let start = waiver.granted.map_or(today, |granted| granted.min(today));
        let days = (waiver.expires - start).whole_days();
        if days > i64::from(max) {
            let from = if waiver.granted.is_some() { "granted" } else { "today" };
            return Err(Error::Waiver {
                path: waiver.source.clone(),
                message: format!(
                    "waiver of gate {:?} by {} runs {days} days ({from} {start} to {}): policy {} allows at most max_waiver_days = {max}",
                    waiver.gate, waiver.owner, waiver.expires, policy.name
                ),
            });
        }
    }
    Ok(())
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// True when `waiver` names `row`: its gate, and its threshold and series when it gives them.
/// A threshold is compared without its spaces (its tokens hold none); a series as a label set,
/// equal to the row's (a row with no series has the empty set), never as text.
fn names(waiver: &Waiver, row: &Row) -> bool {
    let row_labels = || match &row.series {
        Some(series) => LabelSet::parse(series).ok(),
        None => Some(LabelSet::default()),
    };
    waiver.gate == row.gate
        && waiver.threshold.as_ref().is_none_or(|t| squeeze(t) == squeeze(&row.check))
        && waiver.labels.as_ref().is_none_or(|labels| row_labels().as_ref() == Some(labels))
}

/// Applies the waivers to the blocking rows not yet looked at: a valid waiver makes the row
/// WAIVED (not blocking); one that cannot apply leaves it blocking and says why.
pub fn apply(policy: &Policy, waivers: &[Waiver], today: Date, rows: &mut [Row]) {
    for row in rows.iter_mut().filter(|r| r.blocking && r.waiver.is_none()) {
        let named: Vec<&Waiver> = waivers.iter().filter(|w| names(w, row)).collect();
        // The one still in force when there are several.
        let Some(waiver) = named.iter().find(|w| w.expires >= today).or(named.first()).copied() else { continue };
        // gatecheck's own rows are never waived, whatever the policy names its gates.
        let gate =
            policy.gates.iter().find(|g| g.id == row.gate).filter(|_| !super::reserved::is_own_row(policy, &row.gate));
        let refused = match gate {
            None => Some(format!("{} rows are facts about the run and its evidence: they are never waived", row.gate)),
            Some(gate) if !gate.waivable => Some(format!("gate {} forbids waivers (waivable = false)", gate.id)),
            Some(gate) if row.status == Status::NoData && !gate.waive_no_data => {
                Some("NO DATA is never waived unless the gate sets waive_no_data = true".to_string())
            }
            Some(_) if waiver.expires < today => Some(format!("waiver expired on {}", waiver.expires)),
            Some(_) => None,
        };
        let note = WaiverNote {
            owner: waiver.owner.clone(),
            reason: waiver.reason.clone(),
            ticket: waiver.ticket.clone(),
            expires: waiver.expires.to_string(),
            applied: refused.is_none(),
            breach: row.status.label(),
        };
        match refused {
            Some(why) => {
                let why = format!("{why} (waiver by {}, {})", waiver.owner, waiver.ticket);
                row.detail = Some(match row.detail.take() {
                    Some(detail) => format!("{detail}; {why}"),
                    None => why,
                });
            }
            None => {
                row.status = Status::Waived;
                row.blocking = false;
            }
        }
        row.waiver = Some(note);
    }
}

/// The waivers that bore on no breached row, with why.
pub fn stale(waivers: &[Waiver], rows: &[Row]) -> Vec<StaleWaiver> {
    waivers
        .iter()
        .filter(|w| !rows.iter().any(|r| r.waiver.is_some() && names(w, r)))
        .map(|w| {
            let why = if rows.iter().any(|r| names(w, r)) {
                "the checks it names hold or do not block: it is no longer needed".to_string()
            } else {
                format!("no check of gate {:?} in this verdict matches it", w.gate)
            };
            StaleWaiver {
                gate: w.gate.clone(),
                threshold: w.threshold.clone(),
                series: w.series.clone(),
                owner: w.owner.clone(),
                ticket: w.ticket.clone(),
                expires: w.expires.to_string(),
                why,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::verdict::Observed;

    const POLICY: &str = r#"
[policy]
name = "t"
max_waiver_days = 14

[[gate]]
id = "latency"
metric = "http_req_duration"
thresholds = ["p(95) < 400ms", "p(99) < 700ms"]

[[gate]]
id = "strict"
metric = "http_req_failed"
thresholds = ["rate < 1%"]
waivable = false
"#;

    fn date(text: &str) -> Date {
        Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    fn failed(gate: &str, check: &str) -> Row {
        let mut row = Row::new(gate, gate, "x".into(), check.into());
        row.status = Status::Fail;
        row.blocking = true;
        row.observed = Observed::Figure { value: 1.0, unit: "ms", shown: "1 ms".into() };
        row
    }

    fn waivers(extra: &str) -> Vec<Waiver> {
        let text = format!(
            "[[waiver]]\ngate = \"latency\"\nowner = \"o\"\nreason = \"r\"\nticket = \"T-1\"\nexpires = 2026-03-10\n{extra}"
        );
        parse("w.toml", &text).unwrap()
    }

    #[test]
    fn a_waiver_holds_through_its_last_day_and_not_after() {
        let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
        for (today, waived) in [("2026-03-09", true), ("2026-03-10", true), ("2026-03-11", false)] {
            let mut rows = vec![failed("latency", "p(95) < 400ms")];
            apply(&policy, &waivers(""), date(today), &mut rows);
            assert_eq!(rows[0].status == Status::Waived, waived, "{today}");
            assert_eq!(rows[0].blocking, !waived, "{today}");
            assert_eq!(rows[0].waiver.as_ref().map(|w| w.applied), Some(waived));
        }
    }

    #[test]
    fn a_threshold_narrows_the_waiver_whatever_its_spacing() {
        let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
        let mut rows = vec![failed("latency", "p(95) < 400ms"), failed("latency", "p(99) < 700ms")];
        let narrow = waivers("threshold = \"p(95)<400ms\"\n");
        apply(&policy, &narrow, date("2026-03-01"), &mut rows);
        assert_eq!(rows[0].status, Status::Waived);
        assert_eq!(rows[1].status, Status::Fail);
        assert!(stale(&narrow, &rows).is_empty());
    }

    #[test]
    fn lengths_count_from_the_grant_or_today() {
        let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
        assert!(check_lengths(&policy, &waivers(""), date("2026-02-24")).is_ok());
        let err = check_lengths(&policy, &waivers(""), date("2026-02-23")).unwrap_err().to_string();
        assert!(err.contains("15 days") && err.contains("max_waiver_days = 14"), "{err}");
        let granted = waivers("granted = 2026-02-01\n");
        assert!(check_lengths(&policy, &granted, date("2026-03-09")).is_err());
    }

    #[test]
    fn forbidden_gates_and_other_rows_stay_blocking() {
        let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
        let text = "[[waiver]]\ngate = \"strict\"\nowner = \"o\"\nreason = \"r\"\nticket = \"T\"\nexpires = \"2026-03-10\"\n\
                    [[waiver]]\ngate = \"run-integrity\"\nowner = \"o\"\nreason = \"r\"\nticket = \"T\"\nexpires = 2026-03-10\n";
        let waivers = parse("w.toml", text).unwrap();
        let mut rows = vec![failed("strict", "rate < 1%"), failed("run-integrity", "run completed (not partial)")];
        apply(&policy, &waivers, date("2026-03-01"), &mut rows);
        assert!(rows.iter().all(|r| r.blocking && r.status == Status::Fail));
        assert!(rows[0].detail.as_deref().unwrap().contains("forbids waivers"));
        assert!(rows[1].detail.as_deref().unwrap().contains("never waived"));
    }

    #[test]
    fn bad_files_name_the_waiver_and_the_key() {
        for (text, expected) in [
            ("[[waiver]]\nowner = \"o\"\n", "waiver 1: gate is missing"),
            ("[[waiver]]\ngate = \"g\"\nreason = \"r\"\nticket = \"T\"\nexpires = 2026-01-01\n", "owner is missing"),
            (
                "[[waiver]]\ngate = \"g\"\nowner = \"o\"\nreason = \"r\"\nticket = \"T\"\nexpires = 5\n",
                "expected a date",
            ),
            ("[[waiver]]\ngate = \"g\"\nwho = \"o\"\n", "unknown field"),
        ] {
            let err = parse("w.toml", text).unwrap_err().to_string();
            assert!(err.starts_with("waivers w.toml: ") && err.contains(expected), "{err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    /// Finding round16-judge/01: a waiver's series was compared with its whitespace removed, so
    /// `{provider="mailgun"}` waived `{provider="mail gun"}` too.
    mod series {
        use super::*;
        use crate::metrics::labels_spelled as spelled;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            /// The class: a waiver names a row's series exactly when the two label sets are equal,
            /// whatever the waiver's spacing, order, quoting and escapes; a set with any value
            /// changed (a space, case, a quote, an escape, emptied) is never named.
            #[test]
            fn a_waiver_names_the_rows_whose_label_set_is_its_own(
                labels in spelled::labels(),
                spelling in spelled::spelling(),
                near in any::<bool>(),
                which in any::<usize>(),
                how in any::<u8>(),
            ) {
                let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
                let mut row = failed("latency", "p(95) < 400ms");
                let set = LabelSet::of(&labels);
                row.series = (!set.is_empty()).then(|| crate::policy::evaluate::show_labels(&labels));
                let named = if near { spelled::nudged(&labels, which, how) } else { labels.clone() };
                let text = spelled::spell(&named, &spelling);
                let waivers = waivers(&format!("series = {}\n", toml::Value::String(text.clone())));
                let mut rows = vec![row];
                apply(&policy, &waivers, date("2026-03-01"), &mut rows);
                prop_assert_eq!(rows[0].status == Status::Waived, !near, "{} vs {:?}", text, rows[0].series);
                prop_assert_eq!(stale(&waivers, &rows).is_empty(), !near);
            }

            /// Finding round17-judge/01, the class: rows of one answer whose series differ by
            /// their metric name alone (one without, or two names) are two rows, and a waiver
            /// names at most one of them — the one whose whole set, name included, is its own.
            #[test]
            fn a_waiver_never_names_two_series_that_differ_by_metric_name(
                labels in spelled::labels(),
                names in (prop::option::of("[a-z_:][a-z0-9_:]{0,8}"), prop::option::of("[a-z_:][a-z0-9_:]{0,8}")),
                waived in any::<bool>(),
                spelling in spelled::spelling(),
            ) {
                prop_assume!(names.0 != names.1);
                let policy = crate::policy::parse("p.toml", "t", POLICY).unwrap();
                let named = |name: &Option<String>| {
                    let mut labels = labels.clone();
                    labels.remove("__name__");
                    labels.extend(name.clone().map(|name| ("__name__".to_string(), name)));
                    labels
                };
                let (first, second) = (named(&names.0), named(&names.1));
                let row = |labels: &std::collections::BTreeMap<String, String>| {
                    let mut row = failed("latency", "p(95) < 400ms");
                    row.series = (!LabelSet::of(labels).is_empty()).then(|| crate::policy::evaluate::show_labels(labels));
                    row
                };
                let mut rows = vec![row(&first), row(&second)];
                prop_assert_ne!(&rows[0].series, &rows[1].series);
                let text = spelled::spell(if waived { &first } else { &second }, &spelling);
                let waivers = waivers(&format!("series = {}\n", toml::Value::String(text.clone())));
                apply(&policy, &waivers, date("2026-03-01"), &mut rows);
                let statuses: Vec<bool> = rows.iter().map(|r| r.status == Status::Waived).collect();
                prop_assert_eq!(statuses, vec![waived, !waived], "{} vs {:?}", text, rows.iter().map(|r| &r.series).collect::<Vec<_>>());
            }
        }
    }

    /// Rows of gatecheck's own, under any spelling of a reserved id or a freshness id, are
    /// never waived, whatever the waiver says; and no policy can name a gate after them.
    mod own_rows {
        use super::*;
        use proptest::prelude::*;

        fn spelling() -> impl Strategy<Value = String> {
            (prop::sample::select(crate::policy::reserved::IDS.to_vec()), any::<u64>()).prop_map(|(id, bits)| {
                id.chars()
                    .enumerate()
                    .map(|(i, c)| match (c, bits >> (i % 64) & 1) {
                        ('-', 1) => '_',
                        (c, 1) => c.to_ascii_uppercase(),
                        (c, _) => c,
                    })
                    .collect()
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]
            #[test]
            fn no_waiver_covers_them(
                id in prop_oneof![spelling(), Just("api-fresh".to_string())],
                no_data in any::<bool>(),
                narrow in any::<bool>(),
            ) {
                let text = format!(
                    "{POLICY}\n[[gate]]\nid = \"open\"\nmetric = \"http_reqs\"\nthresholds = [\"count > 1\"]\nwaive_no_data = true\n\
                     [[freshness]]\nid = \"api-fresh\"\nselector = 'up'\nmax_age = \"2m\"\n"
                );
                let policy = crate::policy::parse("p.toml", "t", &text).unwrap();
                let mut row = failed(&id, "check");
                if no_data {
                    row.status = Status::NoData;
                }
                let threshold = if narrow { "threshold = \"check\"\n" } else { "" };
                let waivers = parse(
                    "w.toml",
                    &format!("[[waiver]]\ngate = {id:?}\nowner = \"o\"\nreason = \"r\"\nticket = \"T\"\nexpires = 2026-03-10\n{threshold}"),
                )
                .unwrap();
                let mut rows = vec![row];
                apply(&policy, &waivers, date("2026-03-01"), &mut rows);
                prop_assert!(rows[0].blocking && rows[0].status != Status::Waived, "{:?}", rows[0]);

                let named = POLICY.replacen("id = \"latency\"", &format!("id = {id:?}"), 1);
                if id != "api-fresh" {
                    let err = crate::policy::parse("p.toml", "t", &named).unwrap_err().to_string();
                    prop_assert!(err.contains("reserved for gatecheck's own rows"), "{}", err);
                }
            }
        }
    }
}
