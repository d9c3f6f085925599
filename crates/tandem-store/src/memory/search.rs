//! Full-text search: what text an entry is indexed under, and turning any user query into a
//! safe FTS5 expression (words only, each quoted, so no FTS syntax error can ever leak).

use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::{SEARCH_DEFAULT, SEARCH_MAX, SearchHit, clamp_limit, parse_json, parse_tags};
use crate::Result;

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

/// How the words of a query are combined into an FTS5 expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Every word, as a whole word (the common, cheapest case).
    AllExact,
    /// Every word, the last one also as a prefix ("auth jw" finds "auth jwt").
    LastPrefix,
    /// Any word, as a prefix: the last resort when nothing matches every word.
    AnyPrefix,
}

/// An FTS5 expression for `words` (already reduced to letters and digits, so quoting them
/// is all the escaping needed).
pub fn fts_expression(words: &[String], how: Match) -> String {
    let last = words.len().saturating_sub(1);
    let joiner = if how == Match::AnyPrefix {
        " OR "
    } else {
        " AND "
    };
    let star = |i: usize| match how {
        Match::AllExact => "",
        Match::LastPrefix if i != last => "",
        Match::LastPrefix | Match::AnyPrefix => "*",
    };
    words
        .iter()
        .enumerate()
        .map(|(i, w)| format!("\"{w}\"{}", star(i)))
        .collect::<Vec<_>>()
        .join(joiner)
}

/// Words of context either side of the first match in a snippet.
const SNIPPET_WORDS: usize = 8;

/// The passage of `text` around the first word that starts with a query word (matches in
/// **bold**), or its beginning when no word matches.
pub fn snippet(text: &str, words: &[String]) -> String {
    let spans: Vec<(usize, usize)> = word_spans(text).collect();
    if spans.is_empty() {
        return String::new();
    }
    let hit = |&(a, b): &(usize, usize)| {
        let w = text[a..b].to_lowercase();
        words
            .iter()
            .any(|q| w.starts_with(q.as_str()) || stem_eq(&w, q))
    };
    let first = spans.iter().position(hit).unwrap_or(0);
    let from = first.saturating_sub(SNIPPET_WORDS);
    let to = (first + SNIPPET_WORDS + 1).min(spans.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut cursor = spans[from].0;
    for span in &spans[from..to] {
        out.push_str(&text[cursor..span.0]);
        if hit(span) {
            out.push_str("**");
            out.push_str(&text[span.0..span.1]);
            out.push_str("**");
        } else {
            out.push_str(&text[span.0..span.1]);
        }
        cursor = span.1;
    }
    if to < spans.len() {
        out.push('…');
    }
    out.trim().to_string()
}

/// "tokens" and "token", "decided" and "decide": close enough for highlighting what the
/// stemming index matched.
fn stem_eq(word: &str, query: &str) -> bool {
    let common = word
        .chars()
        .zip(query.chars())
        .take_while(|(a, b)| a == b)
        .count();
    common >= 4 && common + 3 >= word.chars().count().max(query.chars().count())
}

fn word_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(i, c)| match (start, c.is_alphanumeric()) {
            (None, true) => {
                start = Some(i);
                None
            }
            (Some(s), false) => {
                start = None;
                Some((s, i))
            }
            _ => None,
        })
}

impl super::LocalMemory {
    /// Ranked full-text search over key words, tags and the value's text. Any query string is
    /// safe: it is reduced to words. Entries containing every word, best first; when there
    /// are none, the last word also matches as a prefix (search as you type), and when that
    /// finds nothing either, entries matching any word.
    pub fn search(
        &self,
        query: &str,
        tag: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<SearchHit>> {
        let limit = clamp_limit(limit, SEARCH_DEFAULT, SEARCH_MAX)?;
        let words = query_words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // Rank inside the index first (a short statement: SQLite re-prepares MATCH queries
        // on every binding), then look up only the winners and cut their snippets.
        let rank_sql = if tag.is_some() {
            "SELECT rowid, bm25(entries_fts, 10.0, 5.0, 1.0) AS score FROM entries_fts
             WHERE entries_fts MATCH ?1
               AND rowid IN (SELECT entry_id FROM entry_tags WHERE tag = ?3)
             ORDER BY score LIMIT ?2"
        } else {
            "SELECT rowid, bm25(entries_fts, 10.0, 5.0, 1.0) AS score FROM entries_fts
             WHERE entries_fts MATCH ?1 ORDER BY score LIMIT ?2"
        };
        self.read(|tx| {
            let mut rank = tx.prepare_cached(rank_sql).map_err(|e| self.sqlite(e))?;
            let mut fetch = tx
                .prepare_cached(
                    "SELECT key, value, tags, version, updated_at FROM entries WHERE id = ?1",
                )
                .map_err(|e| self.sqlite(e))?;
            let mut run = |how: Match| -> Result<Vec<SearchHit>> {
                let expr = fts_expression(&words, how);
                fn pair(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, f64)> {
                    Ok((r.get(0)?, r.get(1)?))
                }
                let ranked: Vec<(i64, f64)> = match tag {
                    Some(tag) => rank.query_map(params![expr, limit as i64, tag.trim()], pair),
                    None => rank.query_map(params![expr, limit as i64], pair),
                }
                .and_then(|rows| rows.collect())
                .map_err(|e| self.sqlite(e))?;
                let mut hits = Vec::with_capacity(ranked.len());
                for (id, score) in ranked {
                    let hit = fetch
                        .query_row([id], |r| {
                            let key: String = r.get(0)?;
                            let value: String = r.get(1)?;
                            let tags: String = r.get(2)?;
                            Ok(SearchHit {
                                snippet: hit_snippet(&key, &value, &tags, &words),
                                key,
                                score: -score,
                                version: r.get(3)?,
                                updated_at: r.get(4)?,
                            })
                        })
                        .optional()
                        .map_err(|e| self.sqlite(e))?;
                    hits.extend(hit);
                }
                Ok(hits)
            };
            // Whole words first; a word still being typed ("jw") matches as a prefix only
            // when that finds nothing; any-word matches are the last resort.
            for how in [Match::AllExact, Match::LastPrefix, Match::AnyPrefix] {
                if how == Match::AnyPrefix && words.len() < 2 {
                    break;
                }
                let hits = run(how)?;
                if !hits.is_empty() {
                    return Ok(hits);
                }
            }
            Ok(Vec::new())
        })
    }
}

/// A snippet from the value's text, or from the key and tags when the match is there.
pub(super) fn hit_snippet(key: &str, value: &str, tags: &str, words: &[String]) -> String {
    // Very large values are cut from their raw JSON rather than parsed whole.
    let text = if value.len() <= 64 * 1024 {
        value_text(&parse_json(value))
    } else {
        value.chars().take(64 * 1024).collect()
    };
    let in_value = snippet(&text, words);
    if in_value.contains("**") {
        return in_value;
    }
    let label = format!("{key} {}", parse_tags(tags).join(" "));
    let in_label = snippet(&label, words);
    if in_label.contains("**") {
        in_label
    } else {
        in_value
    }
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
        assert_eq!(
            fts_expression(&words[..2], Match::LastPrefix),
            r#""near" AND "auth"*"#
        );
        assert_eq!(
            fts_expression(&words[..2], Match::AllExact),
            r#""near" AND "auth""#
        );
        assert_eq!(
            fts_expression(&words[..2], Match::AnyPrefix),
            r#""near"* OR "auth"*"#
        );
        assert!(query_words("\"()*:^-").is_empty());
    }

    #[test]
    fn snippets_bold_the_matches_in_a_window() {
        let text = "one two three four five six seven eight nine ten eleven twelve JWT tokens \
                    thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";
        let s = snippet(text, &["jwt".into(), "token".into()]);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("**JWT** **tokens**"), "{s}");
        assert_eq!(snippet("no match here", &["zzz".into()]), "no match here");
        assert_eq!(snippet("", &["a".into()]), "");
    }
}
