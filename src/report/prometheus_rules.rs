//! A policy as a Prometheus rule file: the on-call check becomes alerts that need no gatecheck.
//!
//! One alerting rule per threshold of each query gate, firing exactly when the gate's row would
//! FAIL (or WARN) at that instant: the threshold is inverted (`value < 500` fires on `>= 500`)
//! and its limit is written on the query's own scale from the exact decimal (`400ms` on a
//! query in seconds is `0.4`, `3%` is `0.03`), so a limit holds as written, as in the gate (a
//! reduced `avg`/`sum` figure, which Prometheus rounds otherwise than check, is widened on the
//! failing side by a bound on that rounding: `rounding_margin`). A
//! gate judging several statistics gets one recording rule per statistic, and its alerts read
//! the recorded series. NO DATA (an empty result or NaN) leaves a threshold alert silent, as it
//! leaves the gate unjudged; where NO DATA blocks the gate (`on_missing = "fail"`), an
//! `absent()` rule says so instead, and where no such rule would say that no blocking gate has a
//! figure at all (check's run-integrity row), `GatecheckNothingJudged` does. Freshness
//! requirements become alerts of their own, firing where a freshness row fails or is NO DATA
//! (no sample; an `up_for` window holding only NaN; a hole count that cannot be had); window
//! coverage is judged only by `gatecheck check`. Gates without a query (k6 metrics, env
//! figures) and baseline thresholds have nothing to alert on and are listed in a comment. A
//! scalar query is read as `vector(...)`, as check reads it, and a query check cannot judge (a
//! range vector) is refused: one rule Prometheus cannot load would silence the whole file.
//! Each series of a query keeps a label set of its own in every rule, as it is its own row in
//! check (`kept_apart`: its name as `gatecheck_metric`, a label an alert sets as `exported_…`).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::policy::query_answer;
use crate::policy::threshold::{Op, Stat, Threshold};
use crate::policy::{FigureUnit, Gate, OnMissing, Policy, Reducer, Severity};

#[derive(Serialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<String>,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The rule file for `policy`; `for_` is the PromQL duration an alert must hold before it
/// fires (none: at once, like the gate).
pub fn render(policy: &Policy, for_: Option<&str>) -> Result<String, String> {
    // Rule names come from ids; two ids that read the same in a rule name would share series.
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    for id in policy.gates.iter().map(|g| g.id.as_str()).chain(policy.freshness.iter().map(|f| f.id.as_str())) {
        if let Some(other) = names.insert(snake(id), id) {
            return Err(format!(
                "gates {other:?} and {id:?} would have the same rule names (gatecheck:{}:{}:...): rename one",
                policy_part(&policy.name),
                snake(id)
            ));
        }
    }
    let mut groups = Vec::new();
    let mut left_out = Vec::new();
    // Every alert exported, with what it says: one name, one meaning (`unique_alerts`).
    let mut claimed: Vec<(String, String)> = Vec::new();
    // Each query gate with the thresholds its rules judge, for the nothing-judged alert.
    let mut exported: Vec<(&Gate, Vec<(&Threshold, &str)>)> = Vec::new();
    for freshness in &policy.freshness {
        let selector = &freshness.selector;
        let max_age = freshness.max_age.as_secs_f64();
        // absent() of a plain selector takes its labels; under max() every branch has none.
        // Past Prometheus's 5-minute lookback the newest sample is found by the search
        // subquery, as check finds it: a max_age above 5m (distributed.toml's 10m) never pages
        // at 5m (finding judge4/08).
        let search = freshness.search_query();
        let mut expr = format!(
            "(time() - max(timestamp({selector}))) >= {max_age} or (absent(max({selector})) and on () (absent({search}) or (time() - {search}) >= {max_age}))"
        );
        // Every figure of the freshness rows, as check reads it: a term where it fails, and one
        // where it is NO DATA (which blocks as a failure does), never silence (finding
        // round31-judge/01). The age row reads sample timestamps, which are never NaN: none
        // at all is the `absent()` term above.
        if let Some(up) = freshness.up_query() {
            // `up_row`: the least non-NaN sample of the window. Below 1 fails; none (no sample,
            // or only NaN: `min_over_time` and `min` are NaN only then, and `>= -Inf` drops
            // NaN) is NO DATA.
            expr.push_str(&format!(" or ({up}) < 1 or absent(({up}) >= -Inf)"));
        }
        // A hole in the window, as check finds it (`Freshness::gap_queries`).
        if let (Some((age, steps)), Some(expected)) = (freshness.gap_queries(), freshness.gap_grid_query()) {
            // As long as the hole may be, with the row's strict boundary
            // (`freshness::longest_hole` and `younger_than`); fewer steps with a sample than
            // the grid holds is a hole, more is no count of it (NO DATA).
            expr.push_str(&format!(" or ({age}) >= {max_age} or ({steps}) != ({expected})"));
            // `check_gaps`: each of the three with no finite figure (absent: a window whose
            // samples no step sees; NaN or infinite) is NO DATA. Check judges holes only once
            // the up term holds, and blocks otherwise anyway, so these never fire where it
            // passes.
            for figure in [&age, &steps, &expected] {
                expr.push_str(&format!(" or absent((({figure}) > -Inf) < +Inf)"));
            }
        }
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".into(), format!("{}: the evidence is stale", freshness.description));
        annotations.insert(
            "description".into(),
            format!(
                "The newest sample of {selector} is older than {max_age} s{}, or there is none: every gate of policy {} is judged on stale data (gatecheck blocks).",
                freshness.up_for.as_ref().map(|w| format!(", or it was not up for the whole {w} (a sample below 1, a hole, or no sample there but NaN)")).unwrap_or_default(),
                policy.name
            ),
        );
        groups.push(Group {
            name: format!("gatecheck:{}:{}", policy.name, freshness.id),
            rules: vec![Rule {
                record: None,
                alert: Some(claim(
                    &mut claimed,
                    alert_name(&freshness.id, None),
                    format!("freshness {:?}", freshness.id),
                )),
                expr,
                for_: for_.map(str::to_string),
                labels: labels(policy, &freshness.id, Severity::Block),
                annotations,
            }],
        });
    }
    for gate in &policy.gates {
        let judged: Vec<(&Threshold, &str)> = gate
            .thresholds
            .iter()
            .filter(|t| t.baseline.is_none())
            .filter_map(|t| gate.query_for(t.stat).map(|q| (t, q)))
            .collect();
        if judged.len() < gate.thresholds.len() {
            left_out.push(gate.id.clone());
        }
        if judged.is_empty() {
            continue;
        }
        // Only what check can judge becomes a rule: a range vector or a string would make
        // Prometheus refuse the whole file, and with it every other gate's alert.
        if let Some((query, why)) =
            judged.iter().find_map(|(_, q)| query_answer::Answer::of(q).unjudgeable().map(|why| (q, why)))
        {
            return Err(format!("gate {:?}: query {query:?}: {why}", gate.id));
        }
        // An `==` limit on a reduced sum or mean cannot be exported as an alert that agrees with
        // check: Prometheus may round the figure otherwise (`rounding_margin`), so the alert
        // would have to fire at every figure, the limit too, to never stay silent where check
        // blocks: noise that teaches people to ignore it. Refused, naming the gate (decision
        // left open by round38-judge/02). `!=` stays: it fires only within the margin.
        if let (Some(reducer), Some((threshold, _))) =
            (gate.reduce.filter(|r| rounding_bound(*r).is_some()), judged.iter().find(|(t, _)| t.op == Op::Eq))
        {
            return Err(format!(
                "gate {:?}: threshold `{threshold}` with reduce = \"{}\" cannot be exported: Prometheus may round the {} in other last bits than check, so the alert would fire at every figure; use reduce = \"max\" or \"min\", or a bound (<, <=, >, >=)",
                gate.id,
                reducer.name(),
                if reducer == Reducer::Sum { "sum" } else { "mean" }
            ));
        }
        exported.push((gate, judged.clone()));
        let mut stats: Vec<Stat> = Vec::new();
        for (threshold, _) in &judged {
            if !stats.contains(&threshold.stat) {
                stats.push(threshold.stat);
            }
        }
        let several = stats.len() > 1;
        let mut rules = Vec::new();
        let mut recorded = BTreeMap::new();
        let mut no_data_said = Vec::new();
        for (threshold, query) in &judged {
            let figure = reduced(gate, query);
            if several && !recorded.contains_key(&threshold.stat.key()) {
                let record = record_name(policy, &gate.id, &stat_name(threshold.stat));
                rules.push(Rule {
                    record: Some(record.clone()),
                    alert: None,
                    expr: figure.clone(),
                    for_: None,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                });
                recorded.insert(threshold.stat.key(), record);
            }
        }
        for (threshold, query) in &judged {
            let figure = match (recorded.get(&threshold.stat.key()), gate.reduce) {
                (Some(record), _) => record.clone(),
                (None, Some(_)) => reduced(gate, query),
                (None, None) => format!("({})", conservative(gate, query)),
            };
            let limit = promql_limit(threshold, gate.figure_unit)
                .map_err(|why| format!("gate {:?}, threshold `{threshold}`: {why}", gate.id))?;
            let stat = several.then(|| stat_name(threshold.stat));
            let mut annotations = BTreeMap::new();
            annotations.insert("summary".into(), format!("{}: `{threshold}` is breached", gate.description));
            annotations.insert(
                "description".into(),
                format!(
                    "Gate {} of policy {} holds while the figure is {} {limit} (its query's unit: {}); this alert fires when it is not.",
                    gate.id,
                    policy.name,
                    threshold.op.human(),
                    gate.figure_unit.name()
                ),
            );
            annotations.insert("threshold".into(), threshold.to_string());
            annotations.insert("statistic".into(), threshold.stat.key());
            annotations.insert("no_data".into(), no_data_text(gate));
            rules.push(Rule {
                record: None,
                alert: Some(claim(
                    &mut claimed,
                    alert_name(&gate.id, stat.as_deref()),
                    match several {
                        true => format!("gate {:?} {}", gate.id, threshold.stat),
                        false => format!("gate {:?}", gate.id),
                    },
                )),
                expr: breach(threshold.op, &figure, &limit, rounding_margin(gate, query).as_deref()),
                for_: for_.map(str::to_string),
                labels: labels(policy, &gate.id, gate.severity),
                annotations,
            });
            // Check blocks on absent evidence only under `on_missing = "fail"`, but on doubtful
            // evidence (a figure outside what it can be) whatever on_missing says
            // (`evaluate::mark_missing`): every gate gets the alert, whose absent/NaN terms are
            // written only where they block (finding round40-judge/01: a -4 s lag blocked in
            // check under on_missing = "warn" while no alert fired).
            let absent_blocks = gate.on_missing == OnMissing::Fail;
            if !no_data_said.contains(&threshold.stat) {
                no_data_said.push(threshold.stat);
                let mut annotations = BTreeMap::new();
                annotations.insert(
                    "summary".into(),
                    match absent_blocks {
                        true => {
                            format!("{}: NO DATA for {} (gatecheck blocks on it)", gate.description, threshold.stat)
                        }
                        false => format!(
                            "{}: doubtful evidence for {} (a figure outside what it can be: gatecheck blocks on it)",
                            gate.description, threshold.stat
                        ),
                    },
                );
                let switched_off = match (&gate.flow, flow_ran(policy, gate)) {
                    (Some(flow), Some(_)) => format!(
                        " Policy {} switches flow {flow} off, so this fires only once a series of the flow shows it ran (until then gatecheck skips the gate).",
                        policy.name
                    ),
                    _ => String::new(),
                };
                annotations.insert(
                    "description".into(),
                    match absent_blocks {
                        true => format!(
                            "The query of gate {} returned no series, NaN or a figure outside what it can be: gatecheck judges that NO DATA, never 0, and blocks the release.{switched_off}",
                            gate.id
                        ),
                        false => format!(
                            "The query of gate {} returned a figure outside what it can be (-Inf, out of the unit's range, or +Inf where it would hold): gatecheck judges that doubtful NO DATA and blocks the release whatever on_missing says.{switched_off}",
                            gate.id
                        ),
                    },
                );
                annotations.insert("statistic".into(), threshold.stat.key());
                let missing = stat.as_deref().map(|s| format!("{s}_no_data")).unwrap_or_else(|| "no_data".into());
                // NO DATA as check finds it: no series, NaN, and a figure outside its domain
                // (a negative duration, a ratio beyond 0..1, -Inf; +Inf against a lower bound).
                // A reduced gate checks each series before reducing (finding judgement3/01):
                // the domain conditions read the series, not the reduced figure.
                let each = match gate.reduce {
                    Some(_) => format!("({})", conservative(gate, query)),
                    None => figure.clone(),
                };
                let mut no_data = match absent_blocks {
                    true => format!("absent({figure}) or ({figure} != {figure}) or ({each} == -Inf)"),
                    false => format!("({each} == -Inf)"),
                };
                let domain = gate.figure_unit.domain();
                if let Some(low) = domain.low {
                    no_data.push_str(&format!(" or ({each} < {low})"));
                }
                if let Some(high) = domain.high {
                    no_data.push_str(&format!(" or ({each} > {high})"));
                }
                if holds_at_infinity(threshold.op) {
                    no_data.push_str(&format!(" or ({figure} == +Inf)"));
                }
                if let Some(ran) = flow_ran(policy, gate) {
                    no_data = format!("({no_data}) and on () ({ran})");
                }
                rules.push(Rule {
                    record: None,
                    alert: Some(claim(
                        &mut claimed,
                        alert_name(&gate.id, Some(&missing)),
                        match several {
                            true => format!("gate {:?}'s NO DATA for {}", gate.id, threshold.stat),
                            false => format!("gate {:?}'s NO DATA", gate.id),
                        },
                    )),
                    expr: no_data,
                    for_: for_.map(str::to_string),
                    labels: labels(policy, &gate.id, Severity::Block),
                    annotations,
                });
            }
        }
        groups.push(Group { name: format!("gatecheck:{}:{}", policy.name, gate.id), rules });
    }
    if let Some(group) = nothing_judged(policy, for_, &exported) {
        claimed.extend(group.rules.iter().filter_map(|rule| {
            Some((rule.alert.clone()?, format!("the {} row's NO DATA", crate::policy::integrity::GATE_ID)))
        }));
        groups.push(group);
    }
    unique_alerts(&claimed)?;
    // Annotations are text for people, quoting the policy's descriptions: one line each, as
    // in every other output, so none becomes a YAML block whose lines start with its text; and
    // Prometheus renders them as Go templates, so no `{{` of theirs opens an action.
    for rule in groups.iter_mut().flat_map(|group| group.rules.iter_mut()) {
        for value in rule.annotations.values_mut() {
            *value = crate::escape::as_generated(value, crate::escape::go_template);
        }
        // The query text is the policy's, and the file is often printed to a job log: the
        // runner's `##[` broken where Prometheus reads the same query (finding round38-text/01).
        rule.expr = crate::escape::promql(&rule.expr);
    }
    let body = serde_yaml::to_string(&RuleFile { groups }).map_err(|e| format!("cannot write YAML: {e}"))?;
    let mut text = format!(
        "# Prometheus rules from gatecheck policy {:?} ({}).\n",
        policy.name,
        crate::escape::as_generated(&policy.source, crate::escape::line)
    );
    text.push_str("# Each alert fires exactly when its gate's row fails at that instant; NO DATA is said by the\n");
    text.push_str("# absent() rules (and GatecheckNothingJudged where no blocking gate has a figure), not by\n");
    text.push_str("# silence. Regenerate rather than edit.\n");
    if !left_out.is_empty() {
        text.push_str(&format!(
            "# Not here (no query, or relative to a baseline): thresholds of {}.\n",
            left_out.join(", ")
        ));
    }
    text.push_str(&body);
    // Every other field is gatecheck's own words, names and ids (no `#`), or escaped above;
    // should one still carry the runner's command form, no file is written (fail closed).
    // A text holding a credential is kept whole (`escape::as_generated`), `##[` and all: the
    // caller's `secret::generated_as_is` refuses that file, naming where, before anything is
    // written; this guard is for gatecheck's own escaping only.
    if text.contains("##[") && !crate::secret::holds_credential(&text) {
        return Err(
            "the rule file would carry the Actions runner's command form `##[` (a gatecheck bug: please report it)"
                .into(),
        );
    }
    Ok(text)
}

/// The alert for check's run-integrity row `at least 1 blocking gate judged`: it fires when no
/// gate that row counts (`integrity::counted_gates`) has a figure to judge, each threshold's
/// judgeable figure absent, all of them `and on ()`. Written only where the policy can reach that
/// state unannounced: when one of those gates blocks on NO DATA (`on_missing = "fail"`), its own
/// `…NoData` alert already fires whenever the gate is not judged, so a second alert would only
/// repeat it. Gates without a query (k6 metrics, env figures) are not seen by Prometheus: the
/// alert reads the query gates alone, and none when the counted gates have no query at all.
fn nothing_judged(policy: &Policy, for_: Option<&str>, exported: &[(&Gate, Vec<(&Threshold, &str)>)]) -> Option<Group> {
    let counted = crate::policy::integrity::counted_gates(policy);
    let seen: Vec<_> = exported.iter().filter(|(gate, _)| counted.iter().any(|c| c.id == gate.id)).collect();
    // A gate of a flow the policy switches off has a NoData alert that waits for the flow to
    // run, so it cannot stand in for this one (finding judge9/06).
    if seen.is_empty()
        || seen.iter().any(|(gate, _)| gate.on_missing == OnMissing::Fail && flow_ran(policy, gate).is_none())
    {
        return None;
    }
    let expr = seen
        .iter()
        .flat_map(|(gate, judged)| {
            judged.iter().map(|(threshold, query)| format!("absent({})", judgeable(gate, threshold.op, query)))
        })
        .collect::<Vec<_>>()
        .join(" and on () ");
    let ids: Vec<&str> = seen.iter().map(|(gate, _)| gate.id.as_str()).collect();
    let id = crate::policy::integrity::GATE_ID;
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".into(), format!("Policy {}: no gate can be judged (NO DATA)", policy.name));
    annotations.insert(
        "description".into(),
        format!(
            "No gate of {} has a figure to judge (no series, NaN, or a figure outside what it can be): gatecheck judges nothing, its {id} row `at least 1 blocking gate judged` is NO DATA, and it blocks the release.",
            ids.join(", ")
        ),
    );
    Some(Group {
        name: format!("gatecheck:{}:{id}", policy.name),
        rules: vec![Rule {
            record: None,
            alert: Some("GatecheckNothingJudged".into()),
            expr,
            for_: for_.map(str::to_string),
            labels: labels(policy, id, Severity::Block),
            annotations,
        }],
    })
}

/// The series of a query gate's figure that check would judge for a threshold with `op`: none
/// NaN or -Inf, none outside the figure's domain (+Inf aside: it breaches an upper bound), and no
/// +Inf where it would hold (`>`, `>=`, `!=`: an infinite figure never passes, so it is NO DATA).
/// A reduced gate has no figure when any series is outside the domain, as check finds it.
fn judgeable(gate: &Gate, op: Op, query: &str) -> String {
    let domain = gate.figure_unit.domain();
    let filter = |figure: String| {
        let mut kept = format!("({figure}) > -Inf");
        if holds_at_infinity(op) {
            kept = format!("({kept}) < +Inf");
        }
        if let Some(low) = domain.low {
            kept = format!("({kept}) >= {low}");
        }
        if let Some(high) = domain.high {
            kept = match holds_at_infinity(op) {
                true => format!("({kept}) <= {high}"),
                false => format!("({kept}) <= {high} or ({kept}) == +Inf"),
            };
        }
        kept
    };
    match gate.reduce {
        None => filter(conservative(gate, query)),
        Some(_) => {
            let each = conservative(gate, query);
            let mut broken = format!("({each}) == -Inf");
            if let Some(low) = domain.low {
                broken.push_str(&format!(" or ({each}) < {low}"));
            }
            if let Some(high) = domain.high {
                broken.push_str(&format!(" or ({each}) > {high}"));
            }
            format!("({}) unless on () ({broken})", filter(reduced(gate, query)))
        }
    }
}

/// For a gate of a flow the policy itself switches off (`[flows.NAME] enabled = false`), the
/// condition under which check judges it anyway: some query of some gate of that flow answers a
/// figure, as `evaluate::flow_measured` finds it — a series that is not NaN (a NaN series, and
/// a NaN scalar, is no figure: `x == x` drops it, and a scalar query's `vector(...)` always has
/// its one series, finding judge10/02), and for a reduced gate none outside the figure's domain
/// (check makes the reduction no figure then); until then check SKIPs the gate, and its NoData
/// alert must stay silent (finding judge9/06). None for any other gate. An env switch,
/// `--skip-flow` or a partial response is not seen by Prometheus: the rules judge as check
/// does with the policy's own switches.
fn flow_ran(policy: &Policy, gate: &Gate) -> Option<String> {
    let flow = gate.flow.as_deref()?;
    policy.flows.iter().find(|f| f.name == flow && !f.enabled)?;
    let mut counts: Vec<String> = Vec::new();
    for member in policy.gates.iter().filter(|g| g.flow.as_deref() == Some(flow)) {
        for (_, query) in &member.queries {
            let each = format!("({})", conservative(member, query));
            let mut count = format!("count({each} == {each})");
            if member.reduce.is_some() {
                let domain = member.figure_unit.domain();
                let mut outside = vec![format!("({each} == -Inf)")];
                outside.extend(domain.low.map(|low| format!("({each} < {low})")));
                outside.extend(domain.high.map(|high| format!("({each} > {high})")));
                count = format!("({count} unless on() ({}))", outside.join(" or "));
            }
            if !counts.contains(&count) {
                counts.push(count);
            }
        }
    }
    Some(counts.join(" or "))
}

/// Whether an infinite figure holds `op`: then check makes it NO DATA, never a pass.
fn holds_at_infinity(op: Op) -> bool {
    matches!(op, Op::Gt | Op::Ge | Op::Ne)
}

/// The limit on the query's own scale, exactly: canonical figures are ms for durations, and a
/// query in seconds reads them / 1000.
pub fn promql_limit(threshold: &Threshold, unit: FigureUnit) -> Result<String, String> {
    let canonical = threshold.exact_limit(unit.dimension())?;
    let scaled = match unit {
        FigureUnit::Seconds => canonical.checked_div(Decimal::from(1000)).ok_or("the limit overflows")?,
        _ => canonical,
    };
    let written = scaled.normalize().to_string();
    // Prometheus reads the limit as a double and compares doubles; check compares the exact
    // decimal. They agree only when the decimal is the double's own shortest spelling: a limit
    // such as 0.29999999999999999 (0.3 to Prometheus) would make the alert and the gate part
    // (finding judge4/04), so it is refused here, naming what to write instead.
    let double: f64 = written.parse().map_err(|_| "the limit is not a number".to_string())?;
    if double.to_string() != written && format!("{double:?}") != written {
        return Err(format!(
            "the limit is {written} on the query's scale, which Prometheus reads as the double {double}: check and the alert would disagree between them; write a limit of at most 15 significant digits"
        ));
    }
    Ok(written)
}

fn inverted(op: Op) -> &'static str {
    match op {
        Op::Lt => ">=",
        Op::Le => ">",
        Op::Gt => "<=",
        Op::Ge => "<",
        Op::Eq => "!=",
        Op::Ne => "==",
    }
}

fn no_data_text(gate: &Gate) -> String {
    let what = match gate.on_missing {
        OnMissing::Fail => "blocks the release; the matching _no_data alert fires",
        OnMissing::Warn => "warns without blocking; no alert fires",
        OnMissing::Skip => "skips the gate; no alert fires",
    };
    format!(
        "An empty result or NaN is NO DATA, never 0: this alert stays silent then, and gatecheck {what}. A figure outside what it can be is doubtful NO DATA: gatecheck blocks and the _no_data alert fires."
    )
}

fn labels(policy: &Policy, id: &str, severity: Severity) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert("gate".into(), id.to_string());
    labels.insert("policy".into(), policy.name.clone());
    let (severity, word) = match severity {
        Severity::Block => ("critical", "block"),
        Severity::Warn => ("warning", "warn"),
    };
    labels.insert("severity".into(), severity.into());
    labels.insert("gatecheck_severity".into(), word.into());
    labels
}

/// An alert's condition: where the threshold fails, `op` inverted (`value < L` fires on `>= L`).
/// `!=` is true for NaN, which check judges NO DATA: an `==` gate's alert must stay silent then,
/// as every other comparison does (finding judge4/03). With a `margin` (`rounding_margin`: a
/// bound on how far check's figure may lie from the one Prometheus computes) the failing side
/// is widened by it, so the alert fires wherever check may fail: `< L` fires on `>= L - margin`,
/// `> L` on `<= L + margin`, `== L` wherever the figure is not L or the margin is not 0, `!= L`
/// where the figure is within the margin of L.
fn breach(op: Op, figure: &str, limit: &str, margin: Option<&str>) -> String {
    match (op, margin) {
        (Op::Eq, None) => format!("{figure} != {limit} and {figure} == {figure}"),
        (op, None) => format!("{figure} {} {limit}", inverted(op)),
        (Op::Lt | Op::Le, Some(margin)) => format!("{figure} {} {limit} - {margin}", inverted(op)),
        (Op::Gt | Op::Ge, Some(margin)) => format!("{figure} {} {limit} + {margin}", inverted(op)),
        // Not exported (`render` refuses `==` on a reduced sum or mean); kept total and safe.
        (Op::Eq, Some(margin)) => {
            format!("{figure} != {limit} and {figure} == {figure} or {figure} == {figure} and on () {margin} > 0")
        }
        (Op::Ne, Some(margin)) => format!("{figure} and on () abs({figure} - {limit}) <= {margin}"),
    }
}

/// 2^-52 (`f64::EPSILON`, twice the unit roundoff u = 2^-53), as PromQL reads it.
const EPSILON: &str = "2.220446049250313e-16";

/// The rule for a reduced figure's rounding (finding round38-judge/02): `check` reduces in the
/// answer's order with plain f64 arithmetic (`Reducer::apply`: sum, then / n), Prometheus in its
/// series order with its own (2.42: a plain running sum, and a running mean `m += x/k - m/k`;
/// 3.x: Neumaier-compensated sum, and avg as that sum / n or a compensated running mean), so the last bits differ and a figure
/// at the limit can fail in check and pass in the alert. Exact agreement is impossible across
/// orders, so the alert is widened by a bound B on |check's figure − Prometheus' figure|, one
/// that holds for every order and both Prometheus versions (first order in u; n series of the
/// reduction, M = max|x|, A = Σ|x| ≤ n·M; Higham, Accuracy and Stability, ch. 4):
/// - sum: a recursive sum is within (n−1)·u·A of the exact sum in any order, a Neumaier sum
///   within 2u·A, so two of them differ by at most 2(n−1)·u·A ≤ n·ε·A: B = 2·n·ε·A;
/// - avg: check's sum/n is within (n−1)·u·A/n + u·M ≤ n·u·M of the exact mean; the running
///   mean adds at most u·(M + 4M/k) at its k-th step (two divisions, a subtraction and an
///   addition of figures bounded by M; its error never grows: it is scaled by 1 − 1/k), so
///   at most 5n·u·M in all (the compensated running mean no more); the compensated sum / n is
///   within 3u·M: so they differ by at most
///   6n·u·M = 3n·ε·M: B = 4·n·ε·M.
///
/// The factor 2 and 4 (against 1 and 3) cover the second-order terms and the rounding of B and
/// of L ± B themselves (each a few u relative) for any n below 2^40. min and max pick a value
/// and are exact in any order: no margin. An ±Inf series makes B +Inf, so the alert fires on
/// any number there (check's figure is ±Inf or NaN: it fails, or is NO DATA).
fn rounding_margin(gate: &Gate, query: &str) -> Option<String> {
    let (factor, magnitude) = rounding_bound(gate.reduce?)?;
    let series = format!("({}) >= -Inf", conservative(gate, query));
    Some(format!("({factor} * {EPSILON} * count({series}) * {magnitude}(abs({series})))"))
}

/// The margin's factor and the aggregation of |x| it multiplies, by reducer (`rounding_margin`).
fn rounding_bound(reducer: Reducer) -> Option<(u32, &'static str)> {
    match reducer {
        Reducer::Sum => Some((2, "sum")),
        Reducer::Avg => Some((4, "max")),
        Reducer::Max | Reducer::Min => None,
    }
}

/// The figure a reducing gate judges: `check` leaves NaN series out before it reduces (an idle
/// instance's 0/0), so the rule does too (`>= -Inf` keeps every number and drops NaN);
/// otherwise one NaN series would make `avg` NaN and the alert silent where `check` blocks.
fn reduced(gate: &Gate, query: &str) -> String {
    let query = conservative(gate, query);
    match gate.reduce {
        Some(reducer) => format!("{}(({query}) >= -Inf)", reducer.name()),
        None => query,
    }
}

/// A query as `check` judges it, as an instant vector every rule can compare and pass to
/// `absent()`: a `histogram_quantile` query is +Inf where observations lie above the highest
/// finite bucket (`quantile_query`), never Prometheus's last finite bound; a scalar query is
/// `vector(...)`, the one label-less series check reads from a scalar answer (`query_answer`).
/// Every gate-query expression of the file reads the query through here, so its series stay
/// apart in every rule (`kept_apart`).
fn conservative(gate: &Gate, query: &str) -> String {
    let figure = match gate.quantile_companion(query) {
        // PromQL cannot read a native histogram's bucket bounds, so a native quantile is
        // exported as Prometheus answers it (README: exported rules).
        Some(quantile) if !quantile.native => crate::policy::quantile_query::conservative_promql(query, &quantile),
        _ => query_answer::as_vector(query),
    };
    kept_apart(&figure)
}

/// The labels the exported rules set on what they read: every alert's (`labels`), and the
/// one `kept_apart` writes the metric name to.
const RULE_LABELS: [&str; 5] = ["gate", "policy", "severity", "gatecheck_severity", METRIC_LABEL];

/// Where a series' metric name is kept for the rules, which drop `__name__`.
const METRIC_LABEL: &str = "gatecheck_metric";

/// The rule: check judges each series of a query's answer as its own row, so every series must
/// keep a label set of its own through every rule, or Prometheus refuses the rule at each
/// evaluation and nothing fires (findings round32-judge/01, /02). Two things would merge them:
/// an alert, a recording rule and every vector match (`X != X`, `count(X == X)`) drop or ignore
/// `__name__`, so series differing by name alone (`{__name__=~"a|b"}`) collide — the name is
/// copied to `gatecheck_metric`; and an alert's own labels (`severity`, `policy`, `gate`, …)
/// overwrite a series' labels of that name — each is copied first to `exported_<label>`, as
/// Prometheus keeps a target's clashing label (`honor_labels: false`). The copies are made
/// before the name's, so a series' own `gatecheck_metric` is kept too; the originals may stay,
/// since the rule's label replaces them anyway. A series with no such label gains none.
fn kept_apart(figure: &str) -> String {
    let mut kept = figure.to_string();
    for label in RULE_LABELS {
        kept = format!(r#"label_replace({kept}, "exported_{label}", "$1", "{label}", "(.+)")"#);
    }
    format!(r#"label_replace({kept}, "{METRIC_LABEL}", "$1", "__name__", "(.+)")"#)
}

/// `gatecheck:<policy>:<gate>:<statistic>`: the policy's name keeps two policies' rules apart
/// when both judge a `db-pool` gate (the same record name from two rule files is a duplicate
/// sample, and one service's alert would read the other's figure).
fn record_name(policy: &Policy, id: &str, stat: &str) -> String {
    format!("gatecheck:{}:{}:{}", policy_part(&policy.name), snake(id), snake(stat))
}

/// The policy's part of a rule name, one per policy name (finding round17-judge/03: `on-call`
/// and `on_call` both wrote `gatecheck:on_call:…`, so one team's recorded figures filled the
/// other's absent() and its NO DATA alert stayed silent). A name that is already a rule-name
/// part (`saturation`, `on_call`) is kept as it is; any other (`on-call`, `OnCall`, `v1.2`) is
/// its snake form and the first 8 hex digits of the exact name's SHA-256 (`on_call_2f6d0c4e`),
/// as is a kept-looking name that ends like such a digest (`x_0123abcd`): so a kept name never
/// reads as a digested one, and two digested ones differ in their snake form or their digest.
fn policy_part(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let snaked = snake(name);
    let ends_like_a_digest = snaked.len() > 9
        && snaked.as_bytes()[snaked.len() - 9] == b'_'
        && snaked.bytes().rev().take(8).all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if snaked == name && !ends_like_a_digest {
        return snaked;
    }
    format!("{snaked}_{}", &format!("{:x}", Sha256::digest(name.as_bytes()))[..8])
}

/// `p(99.9)` -> `p99_9`, `max` -> `max`: a name part for rules.
fn stat_name(stat: Stat) -> String {
    stat.key().replace(['(', ')'], "").replace('.', "_")
}

fn snake(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// Notes that `alert` says `meaning` and gives it back.
fn claim(claimed: &mut Vec<(String, String)>, alert: String, meaning: String) -> String {
    claimed.push((alert.clone(), meaning));
    alert
}

/// Alert names are unique within a policy: Alertmanager routes, groups, silences and
/// inhibits by name, so two gates sharing one (`db_pool_p95`'s max and `db_pool`'s p(95)
/// both `GatecheckDbPoolP95`; `DbPool` and `db-pool`) would hush or page for each
/// other. Thresholds of one statistic of one gate share their alert, as they
/// share their meaning; any other name said for two meanings refuses the policy.
fn unique_alerts(claimed: &[(String, String)]) -> Result<(), String> {
    let mut said: BTreeMap<&str, &str> = BTreeMap::new();
    for (alert, meaning) in claimed {
        match said.insert(alert, meaning) {
            Some(other) if other != meaning => {
                return Err(format!(
                    "{other} and {meaning} would both export alert {alert}: alert names must be unique within a policy (Alertmanager routes and silences by name); rename one gate"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `db-pool` + `p95` -> `GatecheckDbPoolP95`.
pub fn alert_name(id: &str, stat: Option<&str>) -> String {
    let mut name = "Gatecheck".to_string();
    let parts = id.split(|c: char| !c.is_ascii_alphanumeric()).chain(stat.into_iter().flat_map(|s| s.split('_')));
    for part in parts.filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    /// Models of the reductions (finding round38-judge/02), over the values in the order given.
    mod arithmetic {
        /// Prometheus 2.42 `sum`: a running sum from the first value.
        pub fn running_sum(values: &[f64]) -> f64 {
            values[1..].iter().fold(values[0], |sum, x| sum + x)
        }

        /// Prometheus 2.42 `avg`: the running mean `m += x/k - m/k` from the first value.
        pub fn running_mean(values: &[f64]) -> f64 {
            let mut mean = values[0];
            for (i, x) in values.iter().enumerate().skip(1) {
                let k = (i + 1) as f64;
                mean += x / k - mean / k;
            }
            mean
        }

        fn neumaier(inc: f64, sum: f64, c: f64) -> (f64, f64) {
            let t = sum + inc;
            match sum.abs() >= inc.abs() {
                true => (t, c + ((sum - t) + inc)),
                false => (t, c + ((inc - t) + sum)),
            }
        }

        /// Prometheus 3 `sum`: Neumaier-compensated.
        pub fn compensated_sum(values: &[f64]) -> f64 {
            let (sum, c) = values[1..].iter().fold((values[0], 0.0), |(sum, c), x| neumaier(*x, sum, c));
            sum + c
        }

        /// Prometheus 3 `avg`: the compensated sum / n, or (some 3.x) a compensated running mean.
        pub fn compensated_means(values: &[f64]) -> [f64; 2] {
            let (mut mean, mut c) = (values[0], 0.0);
            for (i, x) in values.iter().enumerate().skip(1) {
                let k = (i + 1) as f64;
                (mean, c) = neumaier(x / k - mean / k, mean, c);
            }
            [compensated_sum(values) / values.len() as f64, mean + c]
        }
    }

    /// `rounding_margin` as Prometheus evaluates it: factor · ε · count · agg(|x|).
    fn margin_model(reducer: Reducer, values: &[f64]) -> Option<f64> {
        let (factor, magnitude) = rounding_bound(reducer)?;
        let abs: Vec<f64> = values.iter().map(|x| x.abs()).collect();
        let agg = match magnitude {
            "sum" => arithmetic::running_sum(&abs),
            _ => abs.iter().copied().fold(0.0, f64::max),
        };
        Some(factor as f64 * EPSILON.parse::<f64>().unwrap() * values.len() as f64 * agg)
    }

    /// `breach` as Prometheus evaluates it on one figure.
    fn fires(op: Op, figure: f64, limit: f64, margin: f64) -> bool {
        match op {
            Op::Lt => figure >= limit - margin,
            Op::Le => figure > limit - margin,
            Op::Gt => figure <= limit + margin,
            Op::Ge => figure < limit + margin,
            Op::Eq => (figure != limit && !figure.is_nan()) || (!figure.is_nan() && margin > 0.0),
            Op::Ne => (figure - limit).abs() <= margin,
        }
    }

    /// The figures Prometheus may compute for `reducer` over `values` in this order.
    fn prometheus_figures(reducer: Reducer, values: &[f64]) -> Vec<f64> {
        match reducer {
            Reducer::Sum => vec![arithmetic::running_sum(values), arithmetic::compensated_sum(values)],
            Reducer::Avg => {
                let mut all = vec![arithmetic::running_mean(values)];
                all.extend(arithmetic::compensated_means(values));
                all
            }
            Reducer::Max | Reducer::Min => vec![reducer.apply(values)],
        }
    }

    const OPS: [Op; 6] = [Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq, Op::Ne];

    /// The finding's case: 0.6, 0.7, 0.95 average 0.75 in check and 0.7499999999999999 in
    /// Prometheus 2.42; `value < 0.75` fails in check, and the exported alert must fire.
    #[test]
    fn a_reduced_alert_fires_where_check_fails_at_the_limit() {
        assert_eq!(EPSILON.parse::<f64>().unwrap(), f64::EPSILON);
        let values = [0.6, 0.7, 0.95];
        assert_eq!(Reducer::Avg.apply(&values), 0.75);
        assert_eq!(arithmetic::running_mean(&values), 0.7499999999999999);
        let margin = margin_model(Reducer::Avg, &values).unwrap();
        assert!(fires(Op::Lt, 0.7499999999999999, 0.75, margin) && !fires(Op::Lt, 0.7499999999999999, 0.75, 0.0));
        assert_eq!(margin_model(Reducer::Max, &values), None);

        let text = "[policy]\nname = \"p\"\n[[gate]]\nid = \"pool\"\nquery = 'u'\nunit = \"ratio\"\nreduce = \"avg\"\nthresholds = [\"value < 0.75\"]\n";
        let policy = crate::policy::parse("p.toml", "p", text).unwrap();
        let rules = render(&policy, None).unwrap();
        let expr = rules.lines().find(|l| l.contains("expr: avg(")).unwrap();
        assert!(expr.contains(">= 0.75 - (4 * 2.220446049250313e-16 * count(("), "{expr}");
        assert!(expr.contains(") >= -Inf) * max(abs(("), "{expr}");
        let max = render(&crate::policy::parse("p.toml", "p", &text.replace("avg", "max")).unwrap(), None).unwrap();
        assert!(max.lines().any(|l| l.contains("expr: max(") && l.ends_with(">= -Inf) >= 0.75")), "{max}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Wherever check fails a reduced gate (its figure in the answer's order), the exported
        /// alert fires on the figure Prometheus computes in ANY order, by either version's
        /// arithmetic: limits at check's figure, a bit either side of it and at every figure
        /// Prometheus may compute, all six operators.
        #[test]
        fn reduced_alerts_fire_wherever_check_fails(
            (values, order) in proptest::collection::vec((-99_999i64..99_999, 0u32..4), 1..12).prop_flat_map(|raw| {
                let values: Vec<f64> = raw.iter().map(|(units, places)| *units as f64 / 10f64.powi(*places as i32)).collect();
                let order = proptest::strategy::Just((0..values.len()).collect::<Vec<_>>()).prop_shuffle();
                (proptest::strategy::Just(values), order)
            }),
            reducer in proptest::sample::select(vec![Reducer::Avg, Reducer::Sum, Reducer::Max, Reducer::Min]),
        ) {
            let checked = reducer.apply(&values);
            let other: Vec<f64> = order.iter().map(|i| values[*i]).collect();
            let figures = prometheus_figures(reducer, &other);
            let margin = margin_model(reducer, &other).unwrap_or(0.0);
            let mut limits = vec![checked, checked.next_up(), checked.next_down()];
            limits.extend(&figures);
            for limit in limits {
                // `==` on a reduced sum or mean is refused at export (tested below).
                for op in OPS.into_iter().filter(|op| *op != Op::Eq || rounding_bound(reducer).is_none()) {
                    let fails = match op {
                        Op::Lt => checked >= limit,
                        Op::Le => checked > limit,
                        Op::Gt => checked <= limit,
                        Op::Ge => checked < limit,
                        Op::Eq => checked != limit,
                        Op::Ne => checked == limit,
                    };
                    for figure in &figures {
                        proptest::prop_assert!(
                            !fails || fires(op, *figure, limit, margin),
                            "{reducer:?} {op:?} {limit}: check {checked}, Prometheus {figure} over {other:?}, margin {margin}"
                        );
                    }
                }
            }
        }
    }

    /// An `==` limit on a reduced sum or mean is refused at export, naming the gate: its alert
    /// would fire at every figure (`rounding_margin`). `!=` on them, and `==` on max/min, export.
    #[test]
    fn an_equality_on_a_reduced_sum_or_mean_is_refused_at_export() {
        let text = |reduce: &str, op: &str| {
            format!("[policy]\nname = \"p\"\n[[gate]]\nid = \"pool\"\nquery = 'u'\nunit = \"number\"\nreduce = \"{reduce}\"\nthresholds = [\"value {op} 3\"]\n")
        };
        for reduce in ["avg", "sum"] {
            let policy = crate::policy::parse("p.toml", "p", &text(reduce, "==")).unwrap();
            let error = render(&policy, None).unwrap_err();
            assert!(error.starts_with("gate \"pool\": threshold `value == 3`") && error.contains(reduce), "{error}");
            assert_eq!(error.lines().count(), 1);
            let policy = crate::policy::parse("p.toml", "p", &text(reduce, "!=")).unwrap();
            assert!(render(&policy, None).is_ok());
        }
        for reduce in ["max", "min"] {
            let policy = crate::policy::parse("p.toml", "p", &text(reduce, "==")).unwrap();
            assert!(render(&policy, None).is_ok());
        }
    }

    /// `kept_apart` moves exactly the labels the rules set out of their way: a label added to
    /// the alerts must be added to `RULE_LABELS` too (findings round32-judge/01, /02).
    #[test]
    fn every_label_an_alert_sets_is_moved_out_of_the_series_way() {
        let policy = crate::policy::builtin_saturation().unwrap();
        for severity in [Severity::Block, Severity::Warn] {
            for label in labels(&policy, "g", severity).keys() {
                assert!(RULE_LABELS.contains(&label.as_str()), "{label}");
            }
        }
        let kept = kept_apart("up");
        for label in RULE_LABELS {
            assert!(kept.contains(&format!(r#""exported_{label}", "$1", "{label}", "(.+)""#)), "{kept}");
        }
        assert!(
            kept.starts_with(r#"label_replace(label_replace("#)
                && kept.ends_with(r#""gatecheck_metric", "$1", "__name__", "(.+)")"#)
        );
    }

    #[test]
    fn limits_are_written_on_the_query_scale_exactly() {
        let t = |text: &str| Threshold::parse(text).unwrap();
        assert_eq!(promql_limit(&t("p(95) < 400ms"), FigureUnit::Seconds).unwrap(), "0.4");
        assert_eq!(promql_limit(&t("p(95) < 1.1s"), FigureUnit::Seconds).unwrap(), "1.1");
        assert_eq!(promql_limit(&t("p(95) < 250"), FigureUnit::Seconds).unwrap(), "250");
        assert_eq!(promql_limit(&t("value < 3%"), FigureUnit::Ratio).unwrap(), "0.03");
        assert_eq!(promql_limit(&t("value < 1.5%"), FigureUnit::Ratio).unwrap(), "0.015");
        assert_eq!(promql_limit(&t("value < 0.70"), FigureUnit::Ratio).unwrap(), "0.7");
        assert_eq!(promql_limit(&t("value < 500"), FigureUnit::Number).unwrap(), "500");
        assert!(promql_limit(&t("value < 5s"), FigureUnit::Ratio).is_err());
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        assert_eq!(alert_name("db-pool", Some("p95")), "GatecheckDbPoolP95");
        assert_eq!(alert_name("email-backlog", None), "GatecheckEmailBacklog");
        assert_eq!(alert_name("db-pool", Some("p99_9_no_data")), "GatecheckDbPoolP999NoData");
        assert_eq!(stat_name(Stat::Percentile(99.9)), "p99_9");
        assert_eq!(inverted(Op::Lt), ">=");
        assert_eq!(inverted(Op::Ge), "<");
        assert_eq!(policy_part("saturation"), "saturation");
        assert_eq!(policy_part("on_call"), "on_call");
        assert!(policy_part("on-call").starts_with("on_call_"), "{}", policy_part("on-call"));
    }

    use proptest::prelude::*;

    /// Policy names as `policy::parse` takes them (letters, digits, `-`, `_`, `.`), drawn from
    /// few characters so that names alike but for punctuation, case or a digest-like ending
    /// come up often.
    fn policy_name() -> impl Strategy<Value = String> {
        "[aAbB0f_.-]{1,6}(_[0-9a-f]{8})?".prop_filter("a policy name", |name| !name.starts_with('.'))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// Finding round17-judge/03, the class: two different policy names never give the same
        /// rule-name part, and every part keeps a recorded name valid
        /// (`[a-zA-Z_:][a-zA-Z0-9_:]*` after `gatecheck:`, no `:` of its own).
        #[test]
        fn two_policy_names_never_share_a_rule_name_part(a in policy_name(), b in policy_name()) {
            let (pa, pb) = (policy_part(&a), policy_part(&b));
            prop_assert!(pa.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'), "{}", pa);
            prop_assert_eq!(pa == pb, a == b, "{} and {} both read {}", a, b, pa);
        }

        /// Alert names within a policy, the class: two gates with ids alike but for case,
        /// punctuation or a statistic-like ending, each judging one or several statistics
        /// (p(95), p(9.5), max), export either refused or with every alert name saying one
        /// gate's one statistic (thresholds of one statistic share their gate's alert).
        #[test]
        fn an_exported_alert_name_says_one_gate_and_statistic(
            ids in ("[dD][bB]?[-_]?(p95|p9_5|max)?", "[dD][bB]?[-_]?(p95|p9_5|max)?"),
            stats in (proptest::sample::subsequence(vec!["p(95)", "p(9.5)", "max"], 1..=3),
                      proptest::sample::subsequence(vec!["p(95)", "p(9.5)", "max"], 1..=3)),
        ) {
            prop_assume!(ids.0 != ids.1);
            let gate = |id: &str, stats: &[&str]| {
                let thresholds: Vec<String> = stats.iter().map(|s| format!("\"{s} < 0.9\"")).collect();
                let queries: Vec<String> = stats.iter().map(|s| format!("\"{s}\" = 'max(db_util)'")).collect();
                format!(
                    "[[gate]]\nid = \"{id}\"\ndescription = \"d\"\nunit = \"ratio\"\nthresholds = [{}]\n[gate.query]\n{}\n",
                    thresholds.join(", "),
                    queries.join("\n")
                )
            };
            let text = format!("[policy]\nname = \"p\"\n{}{}", gate(&ids.0, &stats.0), gate(&ids.1, &stats.1));
            let Ok(policy) = crate::policy::parse("p.toml", "p", &text) else { return Ok(()) };
            let Ok(rules) = render(&policy, None) else { return Ok(()) };
            let file: serde_yaml::Value = serde_yaml::from_str(&rules).unwrap();
            let mut said: BTreeMap<String, (String, String)> = BTreeMap::new();
            for rule in file["groups"].as_sequence().unwrap().iter().flat_map(|g| g["rules"].as_sequence().unwrap()) {
                let Some(alert) = rule["alert"].as_str() else { continue };
                let gate = rule["labels"]["gate"].as_str().unwrap_or_default().to_string();
                let several = [&stats.0, &stats.1][usize::from(gate == ids.1)].len() > 1;
                let stat = match several {
                    true => rule["annotations"]["statistic"].as_str().unwrap_or_default().to_string(),
                    false => String::new(),
                };
                let meaning = (gate, stat);
                if let Some(other) = said.insert(alert.to_string(), meaning.clone()) {
                    prop_assert_eq!(&other, &meaning, "{} said twice:\n{}", alert, rules);
                }
            }
        }
    }
}
