//! Small text rules every front end shares: cutting text to a length (the cut marked "…") and
//! the time stamp Tandem writes everywhere (RFC 3339, UTC, milliseconds: sortable as text).

use time::OffsetDateTime;

/// `text` cut to at most `max` characters, a cut marked with "…".
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `t` as RFC 3339 UTC with milliseconds, e.g. `2025-01-02T03:04:05.678Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The current time, as [`timestamp`] writes it.
pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("héllo", 5), "héllo");
        assert_eq!(clip("héllo wörld", 6), "héllo…");
        assert_eq!(clip("abc", 0), "…");
    }

    #[test]
    fn time_stamps_sort_as_text() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_735_787_045_678_000_000).unwrap();
        assert_eq!(timestamp(t), "2025-01-02T03:04:05.678Z");
        assert!(now() > timestamp(t));
    }
}
