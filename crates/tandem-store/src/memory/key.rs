//! What makes a memory key or tag valid.

use crate::{Result, StoreError};

pub const MAX_KEY_CHARS: usize = 256;
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_CHARS: usize = 64;

/// A key is 1–256 characters, `/`-separated segments, no control characters, no empty segment
/// (so no leading, trailing or doubled `/`).
pub fn validate_key(key: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(StoreError::InvalidKey {
            key: key.chars().take(80).collect(),
            reason: reason.to_string(),
        })
    };
    if key.is_empty() {
        return invalid("a key must not be empty; use e.g. \"project/topic\"");
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return invalid("a key is at most 256 characters");
    }
    if key.chars().any(char::is_control) {
        return invalid("a key must not contain control characters (newlines, tabs, NUL…)");
    }
    if key.starts_with('/') || key.ends_with('/') {
        return invalid("a key must not start or end with '/'");
    }
    if key.contains("//") {
        return invalid("a key must not contain an empty segment ('//')");
    }
    if key.split('/').any(|segment| segment.trim().is_empty()) {
        return invalid("every '/'-separated segment needs a visible character");
    }
    Ok(())
}

/// Checks and normalises tags: at most 32, each 1–64 characters without control characters;
/// surrounding whitespace trimmed, duplicates dropped (first occurrence kept).
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(StoreError::InvalidTags("a tag must not be empty".into()));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(StoreError::InvalidTags(format!(
                "tag {:?}… is longer than {MAX_TAG_CHARS} characters",
                tag.chars().take(20).collect::<String>()
            )));
        }
        if tag.chars().any(char::is_control) {
            return Err(StoreError::InvalidTags(format!(
                "tag {tag:?} contains control characters"
            )));
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(StoreError::InvalidTags(format!(
            "{} tags given; an entry has at most {MAX_TAGS}",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_are_accepted() {
        for key in [
            "a",
            "proj-x/auth-approach",
            "a/b/c",
            "ünïcode/キー",
            &"k".repeat(256),
        ] {
            validate_key(key).unwrap();
        }
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for key in [
            "",
            "/a",
            "a/",
            "a//b",
            "a\nb",
            "a\0b",
            "a/ /b",
            &"k".repeat(257),
        ] {
            assert!(validate_key(key).is_err(), "{key:?} should be rejected");
        }
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let tags = normalize_tags(&[" a ".into(), "b".into(), "a".into()]).unwrap();
        assert_eq!(tags, ["a", "b"]);
    }

    #[test]
    fn too_many_tags_are_rejected() {
        let tags: Vec<String> = (0..33).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&tags).is_err());
        assert!(normalize_tags(&tags[..32]).is_ok());
    }
}
