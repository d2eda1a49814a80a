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
