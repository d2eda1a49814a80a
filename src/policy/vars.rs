//! A policy's variables: `[vars]`, the sets a switch variable picks (`[choice.NAME.VALUE]`),
//! `--var NAME=VALUE` overrides, and the expansion of `${NAME}` in queries, selectors and
//! windows. A value may itself use `${...}` (expanded when used, so an override of `run_id`
//! reaches every variable built on it), and a gate that names a `flow` sees it as `${flow}`,
//! so one query shape serves every flow.
//!
//! Choices exist because engines name and shape the same evidence differently: one switch
//! (`--var engine=k6`) swaps every name and query fragment at once, and the gates stay one
//! list.

use std::collections::BTreeMap;

use super::file::{RequiredVar, VarFile};
use super::template;

/// Deeper nesting than this is a cycle, or a policy nobody can read.
const MAX_DEPTH: usize = 16;

/// Expansions of one text, at most: a few variables each used many times over could otherwise
/// keep `gates` or `check` busy for ever.
const MAX_EXPANSIONS: usize = 10_000;

/// The longest text an expansion may give (a query is a few hundred characters).
const MAX_EXPANDED_LEN: usize = 64 * 1024;

/// The resolved variables of one policy; a required variable nobody gave stays `Required`.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, VarFile>,
    /// The kind of each variable that holds a plain value (declared, or told by its default);
    /// a variable without one holds a query fragment, which no `--var` may replace.
    kinds: BTreeMap<String, RequiredKind>,
}

/// Why the variables cannot be resolved; `Override` is a command-line mistake, `Policy` the file's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarsError {
    Override(String),
    Policy(String),
}

impl Vars {
    /// `[vars]`, then for each switch the set its value picks, then the overrides. An override
    /// may name a plain variable, a switch, or a variable of a picked set; one of a set not
    /// picked is an error (it would be ignored, and the user meant that set).
    pub(super) fn resolve(
        plain: &BTreeMap<String, VarFile>,
        choices: &BTreeMap<String, BTreeMap<String, BTreeMap<String, VarFile>>>,
        overrides: &[(String, String)],
    ) -> Result<Vars, VarsError> {
        // A variable has one value (finding round24-judge/01): given twice, the last once won,
        // and history digested the arguments, not the value in effect.
        for (index, (name, value)) in overrides.iter().enumerate() {
            if let Some((_, first)) = overrides[..index].iter().find(|(n, _)| n == name) {
                return Err(VarsError::Override(format!(
                    "--var {name}: given twice ({name}={first} and {name}={value}); one value each"
                )));
            }
        }
        let in_some_set =
            |name: &str| choices.values().flat_map(|sets| sets.values()).any(|set| set.contains_key(name));
        for (name, value) in overrides {
            if !plain.contains_key(name) && !in_some_set(name) {
                let mut known: Vec<&str> = plain.keys().map(String::as_str).collect();
                for sets in choices.values() {
                    for set in sets.values() {
                        known.extend(set.keys().map(String::as_str));
                    }
                }
                known.sort_unstable();
                known.dedup();
                return Err(VarsError::Override(format!(
                    "--var {name}={value}: the policy defines no variable {name} (it has: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )));
            }
        }
        // Every required variable declares a kind the checker knows, given or not.
        let declared = plain.iter().chain(choices.values().flat_map(|sets| sets.values()).flat_map(|set| set.iter()));
        let mut kinds: BTreeMap<&str, RequiredKind> = BTreeMap::new();
        for (name, value) in declared {
            if let VarFile::Required(required) = value {
                kinds.insert(name, RequiredKind::parse(name, required.kind.as_deref())?);
            }
        }
        // A defaulted variable is placed inside the queries exactly as a required one is, so the
        // same check holds for it: its default declares its kind (a count if it is one, else a
        // label value), and a default that is neither is a query fragment, which no --var may
        // replace (it would put any PromQL in the gates: `run=run_id=~".+"`).
        let declared = plain.iter().chain(choices.values().flat_map(|sets| sets.values()).flat_map(|set| set.iter()));
        let mut fragments: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, value) in declared {
            if let VarFile::Value(default) = value {
                if RequiredKind::Count.accepts(default) {
                    kinds.entry(name).or_insert(RequiredKind::Count);
                } else if RequiredKind::Number.accepts(default) {
                    kinds.entry(name).or_insert(RequiredKind::Number);
                } else if RequiredKind::Label.accepts(default) {
                    kinds.entry(name).or_insert(RequiredKind::Label);
                } else {
                    fragments.insert(name, default);
                }
            }
        }
        for (name, value) in overrides {
            if let Some(default) = fragments.get(name.as_str()) {
                return Err(VarsError::Override(format!(
                    "--var {name}: cannot be overridden: its default ({default}) is a query fragment, placed inside the queries as it is; edit the policy instead"
                )));
            }
            if let Some(kind) = kinds.get(name.as_str()) {
                check_required_value(name, value, *kind)?;
            }
        }
        let overridden =
            |name: &str| overrides.iter().rev().find(|(n, _)| n == name).map(|(_, v)| VarFile::Value(v.clone()));
        let mut values: BTreeMap<String, VarFile> = plain
            .iter()
            .map(|(name, value)| (name.clone(), overridden(name).unwrap_or_else(|| value.clone())))
            .collect();
        for (switch, sets) in choices {
            let picked = match values.get(switch) {
                Some(VarFile::Value(picked)) => Some(picked.clone()),
                Some(VarFile::Required(RequiredVar { required, .. })) => {
                    return Err(VarsError::Override(format!(
                        "the policy needs --var {switch}=... to pick one of {} ({required})",
                        sets.keys().cloned().collect::<Vec<_>>().join(", ")
                    )))
                }
                None => None,
            };
            let Some(picked) = picked else {
                return Err(VarsError::Policy(format!(
                    "choice.{switch}: [vars] has no variable {switch} to pick one of its sets ({})",
                    sets.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            };
            let Some(set) = sets.get(&picked) else {
                let from = match overridden(switch) {
                    Some(_) => format!("--var {switch}={picked}"),
                    None => format!("[vars] {switch} = {picked:?}"),
                };
                return Err(VarsError::Policy(format!(
                    "{from}: expected one of {} (the sets under [choice.{switch}])",
                    sets.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            };
            for (name, value) in set {
                if values.contains_key(name) {
                    return Err(VarsError::Policy(format!(
                        "choice.{switch}.{picked}.{name}: {name} is already defined ([vars] or another choice); a variable has one home"
                    )));
                }
                values.insert(name.clone(), overridden(name).unwrap_or_else(|| value.clone()));
            }
        }
        // A variable of a set the switch did not pick would be ignored: say which switch.
        for (name, value) in overrides {
            if values.contains_key(name) {
                continue;
            }
            let owners: Vec<String> = choices
                .iter()
                .flat_map(|(switch, sets)| {
                    sets.iter()
                        .filter(|(_, set)| set.contains_key(name))
                        .map(move |(choice, _)| format!("{switch}={choice}"))
                })
                .collect();
            return Err(VarsError::Override(format!(
                "--var {name}={value}: {name} belongs to {}, which is not picked (add --var {})",
                owners.join(" or "),
                owners.first().map(String::as_str).unwrap_or_default()
            )));
        }
        let kinds = kinds.into_iter().map(|(name, kind)| (name.to_string(), kind)).collect();
        Ok(Vars { values, kinds })
    }

    /// Every variable's value in effect, defaults included (a required one nobody gave reads
    /// `<required>`, which no given value can be: `<` is no label or count): what history
    /// compares, so `--var window=10m` equal to the default is the policy as written.
    pub fn in_effect(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    VarFile::Value(value) => value.clone(),
                    VarFile::Required(_) => "<required>".to_string(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// `text` with every `${NAME}` expanded, values expanded in turn; `flow` is the gate's flow,
    /// seen as `${flow}`. Unknown names and cycles are errors that name them.
    pub fn expand(&self, text: &str, flow: Option<&str>) -> Result<String, String> {
        self.expand_at(text, flow, Place::Bare)
    }

    /// `text`, a duration field as a whole (`coverage.window`, `up_for`), expanded: every
    /// variable in it is in a duration's place.
    pub fn expand_duration(&self, text: &str, flow: Option<&str>) -> Result<String, String> {
        self.expand_at(text, flow, Place::Duration)
    }

    /// `text` expanded, each plain value checked against the place it lands in (`Place`):
    /// no value can change the query's structure (finding round35-judge/02: `--var
    /// window=10m:10m`, a label value by its characters, made `x[${window}]` a subquery).
    fn expand_at(&self, text: &str, flow: Option<&str>, outside: Place) -> Result<String, String> {
        let expansions = std::cell::Cell::new(0);
        let expanded = self.expand_within(text, flow, &[], &expansions)?;
        let mut plain = Vec::new();
        let marked = self.marked(text, flow, &mut plain)?;
        for (index, place, joins) in places(&marked, outside) {
            let (name, value) = &plain[index];
            if !place.fits(self.kinds[name], value, joins) {
                return Err(format!(
                    "${{{name}}} = {value:?} is placed {} in {text:?}: expected {}",
                    place.describe(),
                    place.expects()
                ));
            }
        }
        Ok(expanded)
    }

    /// `text` with every query fragment expanded as it is and every plain value (one a label
    /// or count kind accepts: what `--var` may give) replaced by a marker of its index in
    /// `plain`, so where each lands can be told. Run after `expand_within` succeeded (no
    /// cycle, within bounds).
    fn marked(&self, text: &str, flow: Option<&str>, plain: &mut Vec<(String, String)>) -> Result<String, String> {
        let plain = std::cell::RefCell::new(plain);
        template::substitute(text, &|name| {
            let value = match (name, flow, self.values.get(name)) {
                ("flow", Some(flow), None) => return Ok(flow.to_string()),
                (_, _, Some(VarFile::Value(value))) => value,
                _ => return Ok(String::new()),
            };
            if self.kinds.contains_key(name) {
                let mut plain = plain.borrow_mut();
                plain.push((name.to_string(), value.clone()));
                Ok(format!("{MARK_OPEN}{}{MARK_CLOSE}", plain.len() - 1))
            } else {
                self.marked(value, flow, &mut plain.borrow_mut())
            }
        })
    }

    fn expand_within(
        &self,
        text: &str,
        flow: Option<&str>,
        chain: &[String],
        expansions: &std::cell::Cell<usize>,
    ) -> Result<String, String> {
        let expanded = template::substitute(text, &|name| {
            expansions.set(expansions.get() + 1);
            if expansions.get() > MAX_EXPANSIONS {
                return Err(format!(
                    "more than {MAX_EXPANSIONS} variable expansions: variables use each other too often"
                ));
            }
            if name == "flow" {
                match (flow, self.values.contains_key("flow")) {
                    (Some(_), true) => {
                        return Err(
                            "${flow} is both the gate's flow and a variable of the policy: rename the variable".into()
                        )
                    }
                    (Some(flow), false) => return Ok(flow.to_string()),
                    (None, _) => {}
                }
            }
            let value = match self.values.get(name) {
                Some(VarFile::Value(value)) => value,
                Some(VarFile::Required(RequiredVar { required, .. })) => {
                    return Err(format!("${{{name}}} has no default: give --var {name}=... ({required})"))
                }
                None => return Err(self.unknown(name, flow.is_none())),
            };
            if chain.iter().any(|n| n == name) || chain.len() >= MAX_DEPTH {
                let mut cycle = chain.to_vec();
                cycle.push(name.to_string());
                return Err(format!("variables refer to each other in a cycle: {}", cycle.join(" → ")));
            }
            let mut inner = chain.to_vec();
            inner.push(name.to_string());
            self.expand_within(value, flow, &inner, expansions)
        })?;
        if expanded.len() > MAX_EXPANDED_LEN {
            return Err(format!(
                "expands to more than {MAX_EXPANDED_LEN} characters: variables use each other too often"
            ));
        }
        Ok(expanded)
    }

    fn unknown(&self, name: &str, no_flow: bool) -> String {
        let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
        let hint =
            if name == "flow" && no_flow { "; ${flow} needs the gate to name its flow (flow = \"...\")" } else { "" };
        format!(
            "unknown variable ${{{name}}} (defined in [vars]: {}){hint}",
            if known.is_empty() { "none".into() } else { known.join(", ") }
        )
    }
}

/// Where a plain value lands in a query, told from the text around it: what it may be there
/// so that the query keeps the structure the policy wrote (one home for every variable,
/// defaulted, required, given by `--var` or settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Inside a quoted string (a label value, a regex): a label value's characters.
    Quoted,
    /// Inside `[...]` (a range, a subquery's range and step) or after `offset`, or a duration
    /// field: a Prometheus duration only (`10m:10m` would make a range a subquery).
    Duration,
    /// Anywhere else (a number, a metric or label name): a number or a bare identifier, no `:`
    /// and no PromQL keyword.
    Bare,
}

/// Markers around a plain value's index in `Vars::marked`'s text (private-use characters, which
/// no policy text holds where it matters).
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

/// Words PromQL reads as operators or modifiers, never as a name where a value lands bare.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "atan2",
    "start",
    "end",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

impl Place {
    /// Whether `value`, of a variable of `kind`, keeps the query's structure here. `joins`
    /// says whether name characters touch it before and after (`http_${kind}_total`,
    /// `[${n}m]`): then it is one part of a token, letters, digits and `_` only (digits only
    /// before a duration's unit, a name's start before its rest). Outside quotes and ranges a
    /// variable whose default is a number stays a number, any other a name.
    pub fn fits(self, kind: RequiredKind, value: &str, joins: (bool, bool)) -> bool {
        let word = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let name = word && !value.starts_with(|c: char| c.is_ascii_digit());
        match (self, joins) {
            (Place::Quoted, _) => RequiredKind::Label.accepts(value),
            (_, (true, _)) => word,
            (Place::Duration, (false, true)) => word && value.chars().all(|c| c.is_ascii_digit()),
            (Place::Duration, _) => super::query_window::duration(value).is_some() && word,
            (Place::Bare, (false, true)) => name,
            (Place::Bare, _) => match kind {
                RequiredKind::Count | RequiredKind::Number => RequiredKind::Number.accepts(value),
                RequiredKind::Label => name && !KEYWORDS.contains(&value.to_ascii_lowercase().as_str()),
            },
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Quoted => "inside a quoted label value",
            Place::Duration => "in a range, subquery, offset or duration",
            Place::Bare => "outside quotes and ranges",
        }
    }

    fn expects(self) -> &'static str {
        match self {
            Place::Quoted => "a label value: letters, digits, '-', '_', '.' or ':'",
            Place::Duration => "a Prometheus duration, e.g. 10m or 1h30m (no ':')",
            Place::Bare => "a number where the default is one, else a bare name (letters, digits, '_', not first a digit; no ':' and no PromQL keyword)",
        }
    }
}

/// Each marker of `marked` (index, place, what touches it), told from PromQL's lexical structure: quotes
/// (with their escapes), brackets and the `offset` keyword; `outside` is the place of text
/// outside all of them.
fn places(marked: &str, outside: Place) -> Vec<(usize, Place, (bool, bool))> {
    let mut found = Vec::new();
    let mut quote: Option<char> = None;
    let mut brackets = 0usize;
    let mut chars = marked.char_indices().peekable();
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some('`'), '`') => quote = None,
            (Some(q), '\\') if q != '`' => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '[') => brackets += 1,
            (None, ']') => brackets = brackets.saturating_sub(1),
            (_, MARK_OPEN) => {
                let rest = &marked[at + c.len_utf8()..];
                let Some(close) = rest.find(MARK_CLOSE) else { continue };
                let index: usize = rest[..close].parse().unwrap_or(usize::MAX);
                let before = marked[..at].trim_end();
                let after = &rest[close + MARK_CLOSE.len_utf8()..];
                let place = match quote {
                    Some(_) => Place::Quoted,
                    None if brackets > 0 => Place::Duration,
                    None if before.ends_with("offset")
                        && !before[..before.len() - 6].ends_with(|c: char| name_char(c)) =>
                    {
                        Place::Duration
                    }
                    None => outside,
                };
                let joins = (
                    marked[..at].ends_with(|c: char| name_char(c) || c == MARK_CLOSE),
                    after.starts_with(|c: char| name_char(c) || c == MARK_OPEN),
                );
                found.push((index, place, joins));
                for _ in 0..close + 1 {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    found
}

/// What a required variable holds: it is placed inside a query, so its value must be a plain
/// value of that kind and nothing more (`segments=4 or vector(1)` would make a completeness
/// query read 1 when no runner finished).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredKind {
    /// A label value (a run id): letters, digits, '-', '_', '.' or ':', at most 128.
    Label,
    /// A whole number above 0 (segments, seconds): digits only.
    Count,
    /// A number (a quantile, a ratio): digits with at most one '.'. Never declared; told by a
    /// default such as "0.95".
    Number,
}

impl RequiredKind {
    fn parse(name: &str, kind: Option<&str>) -> Result<RequiredKind, VarsError> {
        match kind {
            None | Some("label") => Ok(RequiredKind::Label),
            Some("count") => Ok(RequiredKind::Count),
            Some(other) => Err(VarsError::Policy(format!(
                "vars.{name}: kind = {other:?}: expected \"label\" (a label value) or \"count\" (a whole number)"
            ))),
        }
    }

    /// True when `value` is a plain value of this kind.
    pub fn accepts(self, value: &str) -> bool {
        match self {
            RequiredKind::Label => {
                !value.is_empty()
                    && value.len() <= 128
                    && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
            }
            RequiredKind::Count => {
                !value.is_empty()
                    && value.len() <= 18
                    && value.chars().all(|c| c.is_ascii_digit())
                    && value.chars().any(|c| c != '0')
            }
            RequiredKind::Number => {
                value.len() <= 32
                    && value.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && value.matches('.').count() <= 1
                    && value.chars().any(|c| c.is_ascii_digit())
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            RequiredKind::Label => "a label value: letters, digits, '-', '_', '.' or ':'",
            RequiredKind::Count => "a whole number above 0, digits only",
            RequiredKind::Number => "a number: digits and at most one '.'",
        }
    }
}

/// The one check of a required variable's value, naming the variable and what it expects.
fn check_required_value(name: &str, value: &str, kind: RequiredKind) -> Result<(), VarsError> {
    if value.trim().is_empty() {
        return Err(VarsError::Override(format!(
            "--var {name}= is empty: an empty value would match series without it"
        )));
    }
    if !kind.accepts(value) {
        return Err(VarsError::Override(format!(
            "--var {name}: expected {} (it is placed inside a query as it is)",
            kind.describe()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding round24-judge/01: a variable given twice is refused, naming it (the last once
    /// won, and history digested the arguments, not the value in effect).
    #[test]
    fn a_variable_given_twice_is_refused_naming_it() {
        let plain: BTreeMap<String, VarFile> = [("window".to_string(), VarFile::Value("10m".into()))].into();
        let twice = [("window".to_string(), "10m".to_string()), ("window".to_string(), "1m".to_string())];
        match Vars::resolve(&plain, &BTreeMap::new(), &twice) {
            Err(VarsError::Override(message)) => {
                assert!(message.contains("--var window") && message.contains("given twice"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, VarFile> {
        pairs.iter().map(|(k, v)| (k.to_string(), VarFile::Value(v.to_string()))).collect()
    }

    fn engines() -> BTreeMap<String, BTreeMap<String, BTreeMap<String, VarFile>>> {
        let mut sets = BTreeMap::new();
        sets.insert("native".to_string(), map(&[("run", "run_id=\"${run_id}\""), ("latency", "native_seconds")]));
        sets.insert("k6".to_string(), map(&[("run", "testid=\"${run_id}\""), ("latency", "k6_seconds")]));
        let mut choices = BTreeMap::new();
        choices.insert("engine".to_string(), sets);
        choices
    }

    #[test]
    fn a_switch_picks_one_set_and_values_expand_through_each_other() {
        let plain = map(&[("engine", "native"), ("run_id", "R1")]);
        let vars = Vars::resolve(&plain, &engines(), &[]).unwrap();
        assert_eq!(
            vars.expand("${latency}{${run},flow=\"${flow}\"}", Some("read")).unwrap(),
            "native_seconds{run_id=\"R1\",flow=\"read\"}"
        );
        let overrides = [("engine".to_string(), "k6".to_string()), ("run_id".to_string(), "R2".to_string())];
        let vars = Vars::resolve(&plain, &engines(), &overrides).unwrap();
        assert_eq!(vars.expand("${latency}{${run}}", None).unwrap(), "k6_seconds{testid=\"R2\"}");
    }

    #[test]
    fn every_mistake_is_named() {
        let plain = map(&[("engine", "jmeter"), ("run_id", "R1")]);
        let err = Vars::resolve(&plain, &engines(), &[]).unwrap_err();
        assert_eq!(
            err,
            VarsError::Policy(
                "[vars] engine = \"jmeter\": expected one of k6, native (the sets under [choice.engine])".into()
            )
        );
        let plain = map(&[("engine", "k6")]);
        let err = Vars::resolve(&plain, &engines(), &[("nope".into(), "1".into())]).unwrap_err();
        assert!(
            matches!(&err, VarsError::Override(m) if m.contains("no variable nope") && m.contains("latency")),
            "{err:?}"
        );
        let clash = map(&[("engine", "k6"), ("latency", "x")]);
        assert!(
            matches!(Vars::resolve(&clash, &engines(), &[]).unwrap_err(), VarsError::Policy(m) if m.contains("one home"))
        );
        let vars = Vars::resolve(&map(&[("a", "${b}"), ("b", "${a}")]), &BTreeMap::new(), &[]).unwrap();
        assert!(vars.expand("${a}", None).unwrap_err().contains("cycle: a → b → a"));
        assert!(vars.expand("${flow}", None).unwrap_err().contains("needs the gate to name its flow"));
        let flow_var = Vars::resolve(&map(&[("flow", "x")]), &BTreeMap::new(), &[]).unwrap();
        assert!(flow_var.expand("${flow}", Some("read")).unwrap_err().contains("rename the variable"));
        assert_eq!(flow_var.expand("no flow here", Some("read")).unwrap(), "no flow here");
        assert_eq!(flow_var.expand("${flow}", None).unwrap(), "x");
        // A set variable can be given on the command line for the picked set, not another one.
        let vars = Vars::resolve(
            &map(&[("engine", "native"), ("run_id", "R")]),
            &engines(),
            &[("latency".into(), "mine".into())],
        )
        .unwrap();
        assert_eq!(vars.expand("${latency}", None).unwrap(), "mine");
        let mut sets = engines();
        sets.get_mut("engine").unwrap().get_mut("k6").unwrap().insert("segments".into(), VarFile::Value("0".into()));
        let err = Vars::resolve(&map(&[("engine", "native")]), &sets, &[("segments".into(), "2".into())]).unwrap_err();
        let expected = "--var segments=2: segments belongs to engine=k6, which is not picked (add --var engine=k6)";
        assert_eq!(err, VarsError::Override(expected.into()));
    }

    #[test]
    fn expansion_is_bounded() {
        // Six variables each using the next forty times: 40^5 expansions if unbounded.
        let mut values = vec![("v6", "x".to_string())];
        for i in (1..6).rev() {
            values.push((["v1", "v2", "v3", "v4", "v5"][i - 1], format!("${{v{}}}", i + 1).repeat(40)));
        }
        let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let vars = Vars::resolve(&map(&pairs), &BTreeMap::new(), &[]).unwrap();
        let err = vars.expand("${v1}", None).unwrap_err();
        assert!(err.contains("too often"), "{err}");
        // Empty values do not escape the bound.
        let mut empty = vec![("w6", String::new())];
        for i in (1..6).rev() {
            empty.push((["w1", "w2", "w3", "w4", "w5"][i - 1], format!("${{w{}}}", i + 1).repeat(40)));
        }
        let pairs: Vec<(&str, &str)> = empty.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let vars = Vars::resolve(&map(&pairs), &BTreeMap::new(), &[]).unwrap();
        assert!(vars.expand("${w1}", None).unwrap_err().contains("more than 10000 variable expansions"));
    }

    #[test]
    fn a_required_variable_is_an_error_until_given() {
        let mut plain = map(&[("engine", "k6")]);
        plain.insert("run_id".into(), VarFile::Required(RequiredVar { required: "the run's id".into(), kind: None }));
        let vars = Vars::resolve(&plain, &engines(), &[]).unwrap();
        assert_eq!(
            vars.expand("${run}", None).unwrap_err(),
            "${run_id} has no default: give --var run_id=... (the run's id)"
        );
        assert_eq!(vars.expand("${latency}", None).unwrap(), "k6_seconds", "only a use of it is an error");
        let vars = Vars::resolve(&plain, &engines(), &[("run_id".into(), "R9".into())]).unwrap();
        assert_eq!(vars.expand("${run}", None).unwrap(), "testid=\"R9\"");
        // Given, it must name something: not empty (testid="" matches every unlabelled series),
        // and nothing that could change the query's shape.
        for bad in ["", "  ", "x\",testid=~\".*", "a\\b", "a}", "a\nb"] {
            let err = Vars::resolve(&plain, &engines(), &[("run_id".into(), bad.into())]).unwrap_err();
            assert!(matches!(&err, VarsError::Override(m) if m.starts_with("--var run_id")), "{bad:?}: {err:?}");
        }
        let mut plain = map(&[]);
        plain.insert("engine".into(), VarFile::Required(RequiredVar { required: "who pushed".into(), kind: None }));
        assert!(
            matches!(Vars::resolve(&plain, &engines(), &[]).unwrap_err(), VarsError::Override(m) if m.contains("--var engine=... to pick one of k6, native"))
        );
    }

    /// The class: whatever text a user gives a required variable, it is accepted only as a
    /// plain value of its declared kind, and then it reaches the query as exactly that value.
    mod plain_values {
        use super::*;
        use proptest::prelude::*;

        fn policy_vars(kind: &str) -> BTreeMap<String, VarFile> {
            let mut plain = BTreeMap::new();
            plain.insert(
                "x".to_string(),
                VarFile::Required(RequiredVar { required: "x".into(), kind: Some(kind.to_string()) }),
            );
            plain
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn only_plain_values_of_the_kind_are_accepted(
                value in prop_oneof![
                    "[0-9]{1,4}",
                    "[a-zA-Z0-9_.:-]{1,12}",
                    "[0-9a-z \"'(){}=|,+*/<>!~\\\\-]{0,16}",
                    Just("4 or vector(1)".to_string()),
                    Just("0".to_string()),
                ],
                count in any::<bool>(),
            ) {
                let kind = if count { "count" } else { "label" };
                let resolved = Vars::resolve(&policy_vars(kind), &BTreeMap::new(), &[("x".into(), value.clone())]);
                let plain = if count {
                    value.parse::<u64>().is_ok_and(|n| n > 0) && value.chars().all(|c| c.is_ascii_digit())
                } else {
                    !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
                };
                prop_assert_eq!(resolved.is_ok(), plain, "{:?} as {}", value, kind);
                // A label value lands inside quotes; a count there and as a number too
                // (`places_keep_structure`: a value is checked against each place it lands in).
                if let Ok(vars) = resolved {
                    prop_assert_eq!(vars.expand("up{run=\"${x}\"}", None).unwrap(), format!("up{{run=\"{value}\"}}"));
                    if count {
                        prop_assert_eq!(vars.expand("up / ${x}", None).unwrap(), format!("up / {value}"));
                    }
                } else {
                    let err = resolved.unwrap_err();
                    prop_assert!(matches!(&err, VarsError::Override(m) if m.starts_with("--var x")), "{:?}", err);
                }
            }
        }
    }
}

/// The class of finding round35-judge/02: whatever value a variable is given, it is accepted
/// only where the query it lands in keeps the structure its default gave (PromQL's grammar,
/// `promql-parser`, read by shape: which nodes, ranges, subqueries and modifiers, never the
/// names, numbers and durations at its leaves).
#[cfg(test)]
mod places_keep_structure {
    use super::*;
    use proptest::prelude::*;

    /// The parse's debug text with every string, number and duration written `_`: the shape.
    fn shape(query: &str) -> Option<String> {
        let debug = format!("{:?}", promql_parser::parser::parse(query).ok()?);
        let mut out = String::new();
        let mut chars = debug.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            if c == '"' {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('_');
            } else if c.is_ascii_digit() && !(previous.is_ascii_alphanumeric() || previous == '_') {
                while chars.peek().is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.') {
                    chars.next();
                }
                out.push('_');
            } else {
                out.push(c);
            }
            previous = c;
        }
        Some(out)
    }

    /// (template, default): one of each place, alone or touching other name characters.
    const TEMPLATES: &[(&str, &str)] = &[
        ("max_over_time(x[${v}])", "10m"),
        ("max_over_time(x[10m:${v}])", "1m"),
        ("rate(x[5m] offset ${v})", "5m"),
        ("rate(x[${v}m])", "5"),
        ("x{job=\"${v}\"}", "api"),
        ("x{job=~\"${v}\"} > 1", "api"),
        ("sum(x) > ${v}", "3"),
        ("quantile(${v}, x)", "0.95"),
        ("${v}{job=\"a\"}", "up"),
        ("sum by (${v}) (x)", "job"),
        ("http_${v}_total", "requests"),
        ("sum(rate(${v}_total[5m]))", "requests"),
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[1-9][0-9]?(ms|s|m|h|d)",
            "[1-9][0-9]?m:[1-9]?m?",
            "[a-z][a-z0-9_]{0,8}",
            "[0-9]{1,3}(\\.[0-9]{1,2})?",
            "[a-zA-Z0-9_.:-]{1,10}",
            prop::sample::select(vec!["or", "offset", "by", "bool", "5m offset 1h", "1h:", "a:b", "x[5m]"])
                .prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn a_value_is_accepted_only_where_the_query_keeps_its_shape(
            which in 0..TEMPLATES.len(),
            value in value(),
        ) {
            let (template, default) = TEMPLATES[which];
            let plain: BTreeMap<String, VarFile> = [("v".to_string(), VarFile::Value(default.to_string()))].into();
            let written = Vars::resolve(&plain, &BTreeMap::new(), &[]).unwrap().expand(template, None).unwrap();
            let expected = shape(&written);
            prop_assert!(expected.is_some(), "the default's query parses: {}", written);
            let given = Vars::resolve(&plain, &BTreeMap::new(), &[("v".into(), value.clone())])
                .map_err(|e| format!("{e:?}"))
                .and_then(|vars| vars.expand(template, None));
            match given {
                Ok(query) => prop_assert_eq!(shape(&query), expected, "{} accepted in {}: {}", value, template, query),
                Err(why) => prop_assert!(why.contains("--var v") || why.contains("${v}"), "{}", why),
            }
            // A value of the place's own kind is accepted there.
            let natural = match default {
                "10m" | "1m" | "5m" => promql_parser::util::parse_duration(&value).is_ok()
                    && value.ends_with(|c: char| c.is_ascii_alphabetic())
                    && value.chars().all(|c| c.is_ascii_alphanumeric()),
                "api" => value.chars().all(|c| c.is_ascii_alphanumeric()) && !value.is_empty(),
                _ => false,
            };
            if natural {
                prop_assert!(
                    Vars::resolve(&plain, &BTreeMap::new(), &[("v".into(), value.clone())]).unwrap().expand(template, None).is_ok(),
                    "{} refused in {}", value, template
                );
            }
        }
    }

    #[test]
    fn the_finding_and_each_place_named() {
        let plain: BTreeMap<String, VarFile> = [("window".to_string(), VarFile::Value("10m".into()))].into();
        let vars = Vars::resolve(&plain, &BTreeMap::new(), &[("window".into(), "10m:10m".into())]).unwrap();
        let err = vars.expand("max_over_time(backlog_items[${window}])", None).unwrap_err();
        assert!(err.contains("${window} = \"10m:10m\" is placed in a range, subquery, offset or duration"), "{err}");
        assert!(err.contains("expected a Prometheus duration"), "{err}");
        // The same value is a label value inside quotes, and a duration field is a duration.
        assert_eq!(vars.expand("x{w=\"${window}\"}", None).unwrap(), "x{w=\"10m:10m\"}");
        assert!(vars.expand_duration("${window}", None).unwrap_err().contains("expected a Prometheus duration"));
        assert!(vars.expand("x / ${window}", None).unwrap_err().contains("outside quotes and ranges"));
        // A fragment's own quotes and brackets place the variables inside it.
        let plain: BTreeMap<String, VarFile> = [
            ("run_id".to_string(), VarFile::Value("R1".into())),
            ("run".to_string(), VarFile::Value("run_id=\"${run_id}\"".into())),
            ("w".to_string(), VarFile::Value("5m".into())),
            ("range".to_string(), VarFile::Value("[${w}]".into())),
        ]
        .into();
        let given = [("run_id".to_string(), "a:b.c".to_string()), ("w".to_string(), "1h".to_string())];
        let vars = Vars::resolve(&plain, &BTreeMap::new(), &given).unwrap();
        assert_eq!(vars.expand("rate(x{${run}}${range})", None).unwrap(), "rate(x{run_id=\"a:b.c\"}[1h])");
        let vars = Vars::resolve(&plain, &BTreeMap::new(), &[("w".to_string(), "1h:1m".to_string())]).unwrap();
        assert!(vars.expand("rate(x{${run}}${range})", None).unwrap_err().contains("${w} = \"1h:1m\""));
    }
}
