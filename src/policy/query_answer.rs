//! What a gate's PromQL query answers, read from its text by Prometheus's grammar (the
//! `promql-parser` crate): the one place that says how a query becomes figures outside a live
//! server. `check` reads a scalar answer as one series without labels and refuses a range
//! vector or a string (a gate needs an instant value); the exported rules must read the query
//! the same way, and an alerting rule cannot compare a scalar without `bool` nor pass it to
//! `absent()`, so they read a scalar query as `vector(...)` — the same one label-less series,
//! NaN where the scalar is NaN (finding judge9/05).

use promql_parser::parser::{self, value::ValueType};

/// The kind of answer a query gives, as far as its text shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An instant vector: one figure per series.
    Vector,
    /// A scalar: one figure, read as one series without labels.
    Scalar,
    /// A range vector or a string: no gate can judge it (check refuses it at run time).
    Unjudgeable(&'static str),
    /// The grammar refuses the query (`lint` says so): nothing more is known.
    Unparsed,
}

impl Answer {
    pub fn of(query: &str) -> Answer {
        match parser::parse(query).map(|expr| expr.value_type()) {
            Ok(ValueType::Vector) => Answer::Vector,
            Ok(ValueType::Scalar) => Answer::Scalar,
            Ok(ValueType::Matrix) => Answer::Unjudgeable("a range vector"),
            Ok(ValueType::String) => Answer::Unjudgeable("a string"),
            Err(_) => Answer::Unparsed,
        }
    }

    /// Why a gate cannot judge this answer, or None when it can (or its text cannot be read).
    pub fn unjudgeable(self) -> Option<String> {
        match self {
            Answer::Unjudgeable(what) => Some(format!(
                "the query returns {what}; a gate needs an instant value (a vector or a scalar): wrap a range in a function such as max_over_time(...) or remove the [range]"
            )),
            _ => None,
        }
    }
}

/// Whether the query's text selects no series at all (no vector or range selector anywhere:
/// `vector(0)`, `0`, `time() * 0`): its figure is the same whatever the system does, so a gate
/// on it can never fail (or never pass) — a policy error (finding judge10/03). A query with a
/// selector whose value is still constant (`scalar(x) * 0`) is the policy text's own concern.
/// False when the grammar refuses the text (lint says why).
pub fn selects_nothing(query: &str) -> bool {
    struct Selectors(bool);
    impl promql_parser::util::ExprVisitor for Selectors {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, expr: &parser::Expr) -> Result<bool, Self::Error> {
            if matches!(expr, parser::Expr::VectorSelector(_) | parser::Expr::MatrixSelector(_)) {
                self.0 = true;
            }
            Ok(!self.0)
        }
    }
    let Ok(expr) = parser::parse(query) else { return false };
    let mut selectors = Selectors(false);
    let Ok(_) = promql_parser::util::walk_expr(&mut selectors, &expr);
    !selectors.0
}

/// Prometheus's lookback: an instant selector reads the newest sample up to 5 minutes old.
pub const LOOKBACK: std::time::Duration = std::time::Duration::from_secs(300);

/// How far before its evaluation instant a query reads samples: the longest of its selectors'
/// reach — a range selector's range, an instant selector's 5 minute lookback, a subquery's
/// range on top of what its inner query reads, each moved back by its offset. The window a
/// verdict on this query judges is `[at - reads_back, at]` (finding round29-judge/01: two
/// judgements 15 s apart of one 10 minute window were two runs). `None` when the grammar
/// refuses the query. An `@` modifier is read as if absent (the window is then wider than
/// needed, never narrower than the time around `at` the query can read).
pub fn reads_back(query: &str) -> Option<std::time::Duration> {
    fn reach(expr: &parser::Expr) -> std::time::Duration {
        use parser::Expr;
        let offset = |offset: &Option<parser::Offset>| match offset {
            Some(parser::Offset::Pos(by)) => *by,
            _ => std::time::Duration::ZERO,
        };
        match expr {
            Expr::VectorSelector(selector) => LOOKBACK + offset(&selector.offset),
            Expr::MatrixSelector(matrix) => matrix.range + offset(&matrix.vs.offset),
            Expr::Subquery(subquery) => subquery.range + offset(&subquery.offset) + reach(&subquery.expr),
            Expr::Aggregate(aggregate) => {
                reach(&aggregate.expr).max(aggregate.param.as_deref().map_or(std::time::Duration::ZERO, reach))
            }
            Expr::Unary(unary) => reach(&unary.expr),
            Expr::Binary(binary) => reach(&binary.lhs).max(reach(&binary.rhs)),
            Expr::Paren(paren) => reach(&paren.expr),
            Expr::Call(call) => call.args.args.iter().map(|arg| reach(arg)).max().unwrap_or_default(),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => std::time::Duration::ZERO,
        }
    }
    parser::parse(query).ok().map(|expr| reach(&expr))
}

/// `query` as an instant vector with the figures check reads from it: a scalar query becomes
/// `vector(query)`, any other stays as written.
pub fn as_vector(query: &str) -> String {
    match Answer::of(query) {
        Answer::Scalar => format!("vector({query})"),
        _ => query.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A query built of range selectors, subqueries, offsets, functions and operators, with the
    /// furthest it reads back by construction (minutes).
    fn arb_query() -> impl Strategy<Value = (String, u64)> {
        // promql-parser refuses `offset 0m`.
        fn by(offset: u64) -> String {
            if offset == 0 {
                String::new()
            } else {
                format!(" offset {offset}m")
            }
        }
        let leaf = prop_oneof![
            (1u64..60, 0u64..30)
                .prop_map(|(range, offset)| (format!("rate(x[{range}m]{})", by(offset)), range + offset)),
            (0u64..30).prop_map(|offset| (format!("y{}", by(offset)), 5 + offset)),
            Just(("vector(1)".to_string(), 0)),
        ];
        leaf.prop_recursive(4, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|((a, ra), (b, rb))| (format!("({a}) + ({b})"), ra.max(rb))),
                inner.clone().prop_map(|(a, ra)| (format!("sum by (le) ({a})"), ra)),
                (inner.clone(), 1u64..30, 0u64..10).prop_map(|((a, ra), range, offset)| (
                    format!("max_over_time(({a})[{range}m:1m]{})", by(offset)),
                    ra + range + offset
                )),
                (inner, 1u64..30)
                    .prop_map(|((a, ra), range)| (format!("quantile_over_time(0.9, ({a})[{range}m:])"), ra + range)),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The window a verdict on a query judges is as long as the furthest its text reads.
        #[test]
        fn a_query_reads_back_what_its_construction_reads((query, minutes) in arb_query()) {
            prop_assert_eq!(reads_back(&query), Some(std::time::Duration::from_secs(minutes * 60)), "{}", query);
        }
    }

    /// Finding round29-judge/01: the window a query reads, from its text.
    #[test]
    fn a_query_reads_back_as_far_as_its_furthest_selector() {
        let minutes = |m: u64| Some(std::time::Duration::from_secs(m * 60));
        assert_eq!(reads_back("max_over_time(backlog[10m])"), minutes(10));
        assert_eq!(reads_back("up"), minutes(5));
        assert_eq!(reads_back("vector(1)"), minutes(0));
        assert_eq!(reads_back("rate(x[5m] offset 1h) / on() group_left sum(y)"), minutes(65));
        assert_eq!(reads_back("max_over_time(rate(x[5m])[10m:1m] offset 2m)"), minutes(17));
        assert_eq!(reads_back("quantile_over_time(0.95, x[30m]) > bool 1"), minutes(30));
        assert_eq!(reads_back("histogram_quantile(0.9, sum by (le) (increase(b[15m])))"), minutes(15));
        assert_eq!(reads_back("topk(scalar(max_over_time(k[20m])), x)"), minutes(20));
        assert_eq!(reads_back("x offset -10m"), minutes(5));
        assert_eq!(reads_back("max_over_time("), None);
    }

    /// Finding judge10/03: a query with no selector anywhere is a constant figure.
    #[test]
    fn a_query_without_a_selector_selects_nothing() {
        for constant in ["vector(0)", "0", "time() * 0", "scalar(vector(1)) / 2", "(vector(1) + 1)[5m:1m]"] {
            assert!(selects_nothing(constant), "{constant}");
        }
        for selecting in [
            "up",
            "scalar(x) * 0",
            "sum(rate(http_requests_total[5m]))",
            "max_over_time(up[5m:1m])",
            "vector(0) or up",
            "not a query (",
        ] {
            assert!(!selects_nothing(selecting), "{selecting}");
        }
    }

    #[test]
    fn the_answer_is_read_from_the_grammar() {
        let scalar = "scalar(sum(rate(a[5m]))) / scalar(sum(rate(b[5m])))";
        assert_eq!(Answer::of(scalar), Answer::Scalar);
        assert_eq!(as_vector(scalar), format!("vector({scalar})"));
        assert_eq!(Answer::of("time() - 5"), Answer::Scalar);
        assert_eq!(Answer::of("sum(rate(a[5m])) / sum(rate(b[5m]))"), Answer::Vector);
        assert_eq!(Answer::of("time() - max(timestamp(up))"), Answer::Vector);
        assert_eq!(as_vector("max(up)"), "max(up)");
        assert!(Answer::of("up[5m]").unjudgeable().unwrap().contains("a range vector"));
        assert!(Answer::of("\"text\"").unjudgeable().unwrap().contains("a string"));
        assert_eq!(Answer::of("sum(("), Answer::Unparsed);
        assert!(Answer::of("max(up)").unjudgeable().is_none());
    }
}
