//! `${NAME}` templates, the one engine for policy `[vars]` in queries and scenario variables
//! in load plans: every `${NAME}` in a text is replaced by what `lookup` gives for NAME, or
//! the lookup's error names why it cannot be.

/// Replaces every `${NAME}` in `text` with `lookup(NAME)`; an unclosed `${` is an error.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
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
    }
}
