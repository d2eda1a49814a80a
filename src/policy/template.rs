//! `${NAME}` templates, the one engine for policy `[vars]` in queries and scenario variables
//! in load plans: every `${NAME}` in a text is replaced by what `lookup` gives for NAME, or
//! the lookup's error names why it cannot be.

/// What the engine reads as a reference: `${`. The language has no escape, so a text holding
/// it is never literal (a whole `${NAME}` is replaced, an unclosed one is an error).
pub const REFERENCE_OPENING: &str = "${";

/// Whether `text` would not read as itself: it holds a reference (or an unclosed one). Text
/// from outside (an OpenAPI document `init` copies) is written only when it does not (finding
/// round29-text/05: a document's `${GITHUB_TOKEN}` sent the CI job's token to the load target).
pub fn holds_reference(text: &str) -> bool {
    text.contains(REFERENCE_OPENING)
}

/// Replaces every `${NAME}` in `text` with `lookup(NAME)`; an unclosed `${` is an error.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(REFERENCE_OPENING) {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
        out.push_str(&lookup(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_name_and_names_what_is_wrong() {
        let lookup = |name: &str| match name {
            "window" => Ok("10m".to_string()),
            other => Err(format!("unknown variable ${{{other}}}")),
        };
        assert_eq!(substitute("rate(x[${window}]) / ${window}", &lookup).unwrap(), "rate(x[10m]) / 10m");
        assert_eq!(substitute("no templates", &lookup).unwrap(), "no templates");
        assert!(substitute("x[${nope}]", &lookup).unwrap_err().contains("${nope}"));
        assert!(substitute("x[${window", &lookup).unwrap_err().contains("unclosed"));
        for literal in ["no templates", "$ {a}", "{a}", "$", "a$b{c}"] {
            assert!(!holds_reference(literal));
            assert_eq!(substitute(literal, &lookup).unwrap(), literal);
        }
        assert!(holds_reference("a ${b") && holds_reference("${b}"));
    }
}
