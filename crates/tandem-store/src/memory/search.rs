//! Full-text search: what text an entry is indexed under, and turning any user query into a
//! safe FTS5 expression (words only, each quoted, so no FTS syntax error can ever leak).

use serde_json::Value;

/// The words an entry's value contributes to the index: object keys, strings, numbers and
/// booleans, in document order.
pub fn value_text(value: &Value) -> String {
    let mut out = String::new();
    collect(value, &mut out);
    out
}

fn collect(value: &Value, out: &mut String) {
    let mut push = |s: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s);
    };
    match value {
        Value::Null => {}
        Value::Bool(b) => push(if *b { "true" } else { "false" }),
        Value::Number(n) => push(&n.to_string()),
        Value::String(s) => push(s),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(k);
                collect(v, out);
            }
        }
    }
}

/// Splits a free-form query into words (letters and digits); punctuation, quotes and FTS
/// operators are separators. At most 16 words are kept.
pub fn query_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// An FTS5 expression matching every word (`all`) or any word, each as a prefix.
pub fn fts_expression(words: &[String], all: bool) -> String {
    let joiner = if all { " AND " } else { " OR " };
    words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(joiner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_text_has_keys_and_leaves() {
        let v = json!({"method": "JWT", "n": 3, "ok": true, "list": ["a", {"b": "c"}]});
        assert_eq!(value_text(&v), "method JWT n 3 ok true list a b c");
    }

    #[test]
    fn hostile_queries_become_plain_words() {
        let words = query_words(r#"NEAR( "auth" OR -jwt* ) AND ^col:x"#);
        assert_eq!(words, ["near", "auth", "or", "jwt", "and", "col", "x"]);
        assert_eq!(fts_expression(&words[..2], true), r#""near"* AND "auth"*"#);
        assert!(query_words("\"()*:^-").is_empty());
    }
}
