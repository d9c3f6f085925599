//! Resource URIs: keys and paths percent-encoded into a URI path (`/` stays a separator).

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters escaped when text becomes a URI path.
const ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `prefix` followed by `path`, escaped.
pub fn encode(prefix: &str, path: &str) -> String {
    format!("{prefix}{}", utf8_percent_encode(path, ESCAPE))
}

/// The text after `prefix` in `uri`, unescaped; `None` for another scheme or bad UTF-8.
pub fn decode(prefix: &str, uri: &str) -> Option<String> {
    let rest = uri.strip_prefix(prefix)?;
    percent_decode_str(rest)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_uris() {
        for text in [
            "proj-x/auth-approach",
            "a b/c?d#e%f",
            "ünï/キー",
            "/abs/path with space.md",
        ] {
            let uri = encode("x://", text);
            assert!(!uri["x://".len()..].contains([' ', '?', '#']), "{uri}");
            assert_eq!(decode("x://", &uri).as_deref(), Some(text));
        }
        assert_eq!(decode("x://", "x://a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(decode("x://", "y://a"), None);
    }
}
