//! What the memory store speaks in: its limits, the entries and pages it returns, the outcome
//! of each write, and a write's request.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest value accepted, measured as compact JSON.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Longest `preview` in listings, in characters.
pub const PREVIEW_CHARS: usize = 200;
/// How long a writer waits for another process's write to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub const LIST_DEFAULT: usize = 50;
pub const LIST_MAX: usize = 500;
pub const SEARCH_DEFAULT: usize = 20;
pub const SEARCH_MAX: usize = 100;
pub const HISTORY_DEFAULT: usize = 20;
pub const HISTORY_MAX: usize = 200;
pub const CHANGES_DEFAULT: usize = 100;
pub const CHANGES_MAX: usize = 1000;
pub const GET_MAX_KEYS: usize = 100;

pub(super) const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A live entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub tags: Vec<String>,
    /// 1 for the first write of a key, then +1 per change (deletions included).
    pub version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// The writing client's name and version, e.g. "claude-code 2.1.3".
    pub updated_by: String,
}

/// One line of a listing: everything but the full value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntrySummary {
    pub key: String,
    pub tags: Vec<String>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
    /// At most 200 characters of the value as compact JSON.
    pub preview: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPage {
    pub entries: Vec<EntrySummary>,
    /// Pass back as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub key: String,
    /// The best-matching passage, matches in **bold**.
    pub snippet: String,
    /// Relevance (BM25, higher is better).
    pub score: f64,
    pub version: i64,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Set,
    Delete,
    Restore,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Restore => "restore",
        }
    }

    pub(super) fn parse(s: &str) -> Op {
        match s {
            "delete" => Op::Delete,
            "restore" => Op::Restore,
            _ => Op::Set,
        }
    }
}

/// One version of a key, newest first in `history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    pub version: i64,
    /// The value at this version; null for a deletion.
    pub value: Value,
    pub tags: Vec<String>,
    pub updated_at: String,
    pub updated_by: String,
    pub deleted: bool,
    pub op: Op,
}

/// One committed change, in commit order across every process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub seq: i64,
    pub key: String,
    pub op: Op,
    pub version: i64,
    pub at: String,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// Pass back as `since` to get only what comes after.
    pub cursor: i64,
    /// True when more changes are waiting after `cursor`.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetOutcome {
    pub key: String,
    pub version: i64,
    /// True when the key did not exist before this write.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOutcome {
    pub key: String,
    /// False when there was no live entry to delete.
    pub deleted: bool,
    /// The tombstone's version, or the current version when nothing was deleted.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    pub key: String,
    /// The new version holding the restored value.
    pub version: i64,
    pub restored_from: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetResult {
    pub entries: Vec<Entry>,
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub entries: i64,
    pub last_seq: i64,
    pub file_bytes: u64,
}

/// A write to apply: what `memory_set` carries.
#[derive(Debug, Clone)]
pub struct SetRequest<'a> {
    pub key: &'a str,
    pub value: &'a Value,
    /// `None` keeps the entry's current tags.
    pub tags: Option<&'a [String]>,
    /// `Some(0)`: the key must not exist; `Some(n)`: the live version must be `n`.
    pub expected_version: Option<i64>,
}
