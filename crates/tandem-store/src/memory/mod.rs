//! Shared structured memory: keys → JSON values with versions, history, compare-and-swap,
//! full-text search and a change log, in one SQLite file (WAL) that many processes share.

mod import;
mod key;
mod schema;
mod search;

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use import::ImportReport;
pub use key::{MAX_KEY_CHARS, MAX_TAG_CHARS, MAX_TAGS, normalize_tags, validate_key};

use crate::{Result, StoreError};

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

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

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
    fn as_str(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Delete => "delete",
            Op::Restore => "restore",
        }
    }

    fn parse(s: &str) -> Op {
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

/// The memory store. One per process; cheap to share behind an `Arc`.
pub struct MemoryStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("path", &self.path)
            .finish()
    }
}

/// The current time as RFC 3339 UTC with milliseconds (sortable as text).
pub fn now_rfc3339() -> String {
    crate::text::now()
}

impl MemoryStore {
    /// Opens (creating it and its folders if needed) the database at `path`. A file that is
    /// not a SQLite database, or is damaged, is refused and left byte-identical.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        check_header(&path)?;
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // Read the schema before anything writes: a damaged file fails here, untouched.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| StoreError::NotADatabase {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        // WAL + NORMAL: a commit survives any process crash; only a power cut can roll back
        // the last commits, and never corrupts the file.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sqlite)?;
        match schema::migrate(&mut conn).map_err(sqlite)? {
            Ok(()) => {}
            Err(found) => {
                return Err(StoreError::NewerSchema {
                    path,
                    found,
                    known: schema::CURRENT,
                });
            }
        }
        // Reads get their own connection: in WAL mode they never wait for a write, in this
        // process or another.
        let reader = Connection::open_with_flags(&path, flags).map_err(sqlite)?;
        reader.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        Ok(Self {
            path,
            writer: Mutex::new(conn),
            reader: Mutex::new(reader),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no open transaction (rusqlite rolls back on
        // drop), so the connection is still good.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so
    /// concurrent writers queue instead of failing halfway.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer();
        Self::in_write_tx(&mut conn, f).map_err(|e| self.sqlite_or(e))
    }

    /// Like [`Self::write`], but only if the write lock is free right now, in this process
    /// and every other: `Ok(None)` when it is not (nothing was run).
    fn write_now<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<Option<T>> {
        let mut conn = match self.writer.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        conn.busy_timeout(Duration::ZERO)
            .map_err(|e| self.sqlite(e))?;
        let result = Self::in_write_tx(&mut conn, f);
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.sqlite(e))?;
        match result {
            Ok(out) => Ok(Some(out)),
            Err(WriteError::Begin(e)) if is_busy(&e) => Ok(None),
            Err(e) => Err(self.sqlite_or(e)),
        }
    }

    fn in_write_tx<T>(
        conn: &mut Connection,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> std::result::Result<T, WriteError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(WriteError::Begin)?;
        let out = f(&tx).map_err(WriteError::Store)?;
        tx.commit().map_err(WriteError::Commit)?;
        Ok(out)
    }

    fn sqlite_or(&self, e: WriteError) -> StoreError {
        match e {
            WriteError::Begin(e) | WriteError::Commit(e) => self.sqlite(e),
            WriteError::Store(e) => e,
        }
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.reader();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| self.sqlite(e))?;
        let out = f(&tx)?;
        tx.finish().map_err(|e| self.sqlite(e))?;
        Ok(out)
    }

    /// Writes a value (compare-and-swap when `expected_version` is given), waiting for the
    /// write lock if another writer holds it.
    pub fn set(&self, req: &SetRequest<'_>, by: &str) -> Result<SetOutcome> {
        let prepared = PreparedSet::new(req)?;
        self.write(|tx| self.apply_set(tx, req, prepared, by))
    }

    /// [`Self::set`] if the write lock is free right now; `Ok(None)` (nothing written) when
    /// another writer holds it. Lets a caller write in place when it would not wait, and move
    /// to a thread that may wait otherwise.
    pub fn try_set(&self, req: &SetRequest<'_>, by: &str) -> Result<Option<SetOutcome>> {
        let prepared = PreparedSet::new(req)?;
        self.write_now(|tx| self.apply_set(tx, req, prepared, by))
    }

    fn apply_set(
        &self,
        tx: &Transaction<'_>,
        req: &SetRequest<'_>,
        prepared: PreparedSet,
        by: &str,
    ) -> Result<SetOutcome> {
        let PreparedSet { tags, text, body } = prepared;
        let existing = self.current(tx, req.key)?;
        if let Some(expected) = req.expected_version {
            check_expected(req.key, expected, existing.as_ref())?;
        }
        let tags = match (tags, &existing) {
            (Some(t), _) => t,
            (None, Some(e)) if !e.deleted => e.tags.clone(),
            (None, _) => Vec::new(),
        };
        let created = existing.as_ref().is_none_or(|e| e.deleted);
        let version = self.put(
            tx,
            req.key,
            existing.as_ref(),
            &text,
            &body,
            &tags,
            Op::Set,
            by,
        )?;
        Ok(SetOutcome {
            key: req.key.to_string(),
            version,
            created,
        })
    }

    /// Writes many values in one transaction (used by import). Existing keys get a new version.
    pub fn set_many(&self, items: &[(String, Value, Vec<String>)], by: &str) -> Result<usize> {
        let mut prepared = Vec::with_capacity(items.len());
        for (key, value, tags) in items {
            validate_key(key)?;
            let tags = normalize_tags(tags)?;
            prepared.push((
                key,
                serialize_value(key, value)?,
                search::value_text(value),
                tags,
            ));
        }
        self.write(|tx| {
            for (key, text, body, tags) in &prepared {
                let existing = self.current(tx, key)?;
                self.put(tx, key, existing.as_ref(), text, body, tags, Op::Set, by)?;
            }
            Ok(prepared.len())
        })
    }

    /// Reads live entries, in the order asked; keys with no live entry go to `missing`.
    pub fn get(&self, keys: &[String]) -> Result<GetResult> {
        if keys.is_empty() || keys.len() > GET_MAX_KEYS {
            return Err(StoreError::InvalidArgument(format!(
                "{} keys given; ask for 1 to {GET_MAX_KEYS} keys per call",
                keys.len()
            )));
        }
        for key in keys {
            validate_key(key)?;
        }
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM entries WHERE key = ?1 AND deleted = 0",
                )
                .map_err(|e| self.sqlite(e))?;
            let mut entries = Vec::with_capacity(keys.len());
            let mut missing = Vec::new();
            for key in keys {
                let row = stmt
                    .query_row([key], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                        ))
                    })
                    .optional()
                    .map_err(|e| self.sqlite(e))?;
                match row {
                    Some((key, value, tags, version, created_at, updated_at, updated_by)) => {
                        entries.push(Entry {
                            key,
                            value: parse_json(&value),
                            tags: parse_tags(&tags),
                            version,
                            created_at,
                            updated_at,
                            updated_by,
                        })
                    }
                    None => missing.push(key.clone()),
                }
            }
            Ok(GetResult { entries, missing })
        })
    }

    /// Lists live entries in key order, optionally under a prefix and/or with a tag.
    pub fn list(
        &self,
        prefix: Option<&str>,
        tag: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<ListPage> {
        let limit = clamp_limit(limit, LIST_DEFAULT, LIST_MAX)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let prefix = prefix.filter(|p| !p.is_empty());
        let mut sql = String::from(
            "SELECT e.key, e.tags, e.version, e.updated_at, e.updated_by, substr(e.value, 1, ?1)
             FROM entries e WHERE e.deleted = 0",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![((PREVIEW_CHARS + 1) as i64).into()];
        if let Some(prefix) = prefix {
            args.push(prefix.to_string().into());
            sql.push_str(&format!(" AND e.key >= ?{}", args.len()));
            args.push(format!("{prefix}{}", char::MAX).into());
            sql.push_str(&format!(" AND e.key < ?{}", args.len()));
        }
        if let Some(after) = after {
            args.push(after.into());
            sql.push_str(&format!(" AND e.key > ?{}", args.len()));
        }
        if let Some(tag) = tag {
            args.push(tag.trim().to_string().into());
            sql.push_str(&format!(
                " AND e.id IN (SELECT entry_id FROM entry_tags WHERE tag = ?{})",
                args.len()
            ));
        }
        args.push(((limit + 1) as i64).into());
        sql.push_str(&format!(" ORDER BY e.key LIMIT ?{}", args.len()));
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&sql).map_err(|e| self.sqlite(e))?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok(EntrySummary {
                        key: r.get(0)?,
                        tags: parse_tags(&r.get::<_, String>(1)?),
                        version: r.get(2)?,
                        updated_at: r.get(3)?,
                        updated_by: r.get(4)?,
                        preview: preview(&r.get::<_, String>(5)?),
                    })
                })
                .map_err(|e| self.sqlite(e))?;
            let mut entries = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))?;
            let next_cursor = if entries.len() > limit {
                entries.truncate(limit);
                entries.last().map(|e| encode_cursor(&e.key))
            } else {
                None
            };
            Ok(ListPage {
                entries,
                next_cursor,
            })
        })
    }

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
        let words = search::query_words(query);
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
            let mut run = |how: search::Match| -> Result<Vec<SearchHit>> {
                let expr = search::fts_expression(&words, how);
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
            for how in [
                search::Match::AllExact,
                search::Match::LastPrefix,
                search::Match::AnyPrefix,
            ] {
                if how == search::Match::AnyPrefix && words.len() < 2 {
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

    /// Deletes a key, leaving a tombstone version in its history.
    pub fn delete(
        &self,
        key: &str,
        expected_version: Option<i64>,
        by: &str,
    ) -> Result<DeleteOutcome> {
        validate_key(key)?;
        self.write(|tx| {
            let existing = self.current(tx, key)?;
            if let Some(expected) = expected_version {
                check_expected(key, expected, existing.as_ref())?;
            }
            let Some(current) = existing.filter(|e| !e.deleted) else {
                return Ok(DeleteOutcome {
                    key: key.to_string(),
                    deleted: false,
                    version: 0,
                });
            };
            let version = current.version + 1;
            let now = now_rfc3339();
            tx.execute(
                "UPDATE entries SET value = NULL, tags = '[]', version = ?2, deleted = 1,
                        updated_at = ?3, updated_by = ?4 WHERE id = ?1",
                params![current.id, version, now, by],
            )
            .map_err(|e| self.sqlite(e))?;
            tx.execute("DELETE FROM entries_fts WHERE rowid = ?1", [current.id])
                .map_err(|e| self.sqlite(e))?;
            tx.execute("DELETE FROM entry_tags WHERE entry_id = ?1", [current.id])
                .map_err(|e| self.sqlite(e))?;
            self.log(tx, key, version, Op::Delete, None, "[]", &now, by)?;
            Ok(DeleteOutcome {
                key: key.to_string(),
                deleted: true,
                version,
            })
        })
    }

    /// Every version of a key, newest first.
    pub fn history(&self, key: &str, limit: Option<usize>) -> Result<Vec<HistoryItem>> {
        validate_key(key)?;
        let limit = clamp_limit(limit, HISTORY_DEFAULT, HISTORY_MAX)?;
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT version, op, value, tags, at, by FROM versions
                     WHERE key = ?1 ORDER BY version DESC LIMIT ?2",
                )
                .map_err(|e| self.sqlite(e))?;
            let rows = stmt
                .query_map(params![key, limit as i64], |r| {
                    let op = Op::parse(&r.get::<_, String>(1)?);
                    let value: Option<String> = r.get(2)?;
                    Ok(HistoryItem {
                        version: r.get(0)?,
                        value: value.as_deref().map(parse_json).unwrap_or(Value::Null),
                        tags: parse_tags(&r.get::<_, String>(3)?),
                        updated_at: r.get(4)?,
                        updated_by: r.get(5)?,
                        deleted: op == Op::Delete,
                        op,
                    })
                })
                .map_err(|e| self.sqlite(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))
        })
    }

    /// Writes an old version's value and tags as a new version.
    pub fn restore(&self, key: &str, version: i64, by: &str) -> Result<RestoreOutcome> {
        validate_key(key)?;
        self.write(|tx| {
            let old: Option<(String, Option<String>, String)> = tx
                .query_row(
                    "SELECT op, value, tags FROM versions WHERE key = ?1 AND version = ?2",
                    params![key, version],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(|e| self.sqlite(e))?;
            let Some((op, value, tags)) = old else {
                return Err(StoreError::NoSuchVersion {
                    key: key.to_string(),
                    version,
                });
            };
            let Some(text) = value.filter(|_| Op::parse(&op) != Op::Delete) else {
                return Err(StoreError::RestoreTombstone {
                    key: key.to_string(),
                    version,
                });
            };
            let body = search::value_text(&parse_json(&text));
            let tags = parse_tags(&tags);
            let existing = self.current(tx, key)?;
            let new_version = self.put(
                tx,
                key,
                existing.as_ref(),
                &text,
                &body,
                &tags,
                Op::Restore,
                by,
            )?;
            Ok(RestoreOutcome {
                key: key.to_string(),
                version: new_version,
                restored_from: version,
            })
        })
    }

    /// Changes committed after `since` (every process, commit order). Without `since`, the
    /// newest `limit` changes.
    pub fn changes(&self, since: Option<i64>, limit: Option<usize>) -> Result<ChangesPage> {
        let limit = clamp_limit(limit, CHANGES_DEFAULT, CHANGES_MAX)?;
        self.read(|tx| {
            let map = |r: &rusqlite::Row<'_>| {
                Ok(Change {
                    seq: r.get(0)?,
                    key: r.get(1)?,
                    op: Op::parse(&r.get::<_, String>(2)?),
                    version: r.get(3)?,
                    at: r.get(4)?,
                    by: r.get(5)?,
                })
            };
            let (mut changes, more) = match since {
                Some(since) => {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT seq, key, op, version, at, by FROM versions
                             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                        )
                        .map_err(|e| self.sqlite(e))?;
                    let mut rows = stmt
                        .query_map(params![since, (limit + 1) as i64], map)
                        .map_err(|e| self.sqlite(e))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(|e| self.sqlite(e))?;
                    let more = rows.len() > limit;
                    rows.truncate(limit);
                    (rows, more)
                }
                None => {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT seq, key, op, version, at, by FROM versions
                             ORDER BY seq DESC LIMIT ?1",
                        )
                        .map_err(|e| self.sqlite(e))?;
                    let rows = stmt
                        .query_map(params![limit as i64], map)
                        .map_err(|e| self.sqlite(e))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(|e| self.sqlite(e))?;
                    (rows, false)
                }
            };
            changes.sort_by_key(|c| c.seq);
            let cursor = match changes.last() {
                Some(last) => last.seq,
                None => match since {
                    Some(since) => since,
                    None => last_seq(tx).map_err(|e| self.sqlite(e))?,
                },
            };
            Ok(ChangesPage {
                changes,
                cursor,
                more,
            })
        })
    }

    /// The sequence number of the newest committed change (0 when there is none).
    pub fn last_seq(&self) -> Result<i64> {
        let conn = self.reader();
        last_seq(&conn).map_err(|e| self.sqlite(e))
    }

    /// Live entries changed at or after `since` (RFC 3339), newest first.
    pub fn changed_since(&self, since: &str, limit: usize) -> Result<Vec<EntrySummary>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT key, tags, version, updated_at, updated_by, substr(value, 1, ?3)
                     FROM entries WHERE deleted = 0 AND updated_at >= ?1
                     ORDER BY updated_at DESC LIMIT ?2",
                )
                .map_err(|e| self.sqlite(e))?;
            let rows = stmt
                .query_map(
                    params![since, limit as i64, (PREVIEW_CHARS + 1) as i64],
                    |r| {
                        Ok(EntrySummary {
                            key: r.get(0)?,
                            tags: parse_tags(&r.get::<_, String>(1)?),
                            version: r.get(2)?,
                            updated_at: r.get(3)?,
                            updated_by: r.get(4)?,
                            preview: preview(&r.get::<_, String>(5)?),
                        })
                    },
                )
                .map_err(|e| self.sqlite(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))
        })
    }

    /// Visits every live entry in key order (export), one snapshot.
    pub fn for_each_entry(&self, mut f: impl FnMut(Entry) -> Result<()>) -> Result<()> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM entries WHERE deleted = 0 ORDER BY key",
                )
                .map_err(|e| self.sqlite(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sqlite(e))?;
            while let Some(r) = rows.next().map_err(|e| self.sqlite(e))? {
                let get = |i| r.get::<_, String>(i);
                let entry = (|| {
                    Ok::<_, rusqlite::Error>(Entry {
                        key: get(0)?,
                        value: parse_json(&get(1)?),
                        tags: parse_tags(&get(2)?),
                        version: r.get(3)?,
                        created_at: get(4)?,
                        updated_at: get(5)?,
                        updated_by: get(6)?,
                    })
                })()
                .map_err(|e| self.sqlite(e))?;
                f(entry)?;
            }
            Ok(())
        })
    }

    pub fn stats(&self) -> Result<Stats> {
        let (entries, last) = self.read(|tx| {
            let entries: i64 = tx
                .query_row("SELECT count(*) FROM entries WHERE deleted = 0", [], |r| {
                    r.get(0)
                })
                .map_err(|e| self.sqlite(e))?;
            Ok((entries, last_seq(tx).map_err(|e| self.sqlite(e))?))
        })?;
        let file_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        Ok(Stats {
            entries,
            last_seq: last,
            file_bytes,
        })
    }

    /// `PRAGMA integrity_check`; "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        let conn = self.reader();
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.sqlite(e))
    }

    /// Imports an `@modelcontextprotocol/server-memory` JSONL file.
    pub fn import_server_memory(&self, reader: impl Read, by: &str) -> Result<ImportReport> {
        import::import(self, reader, by)
    }

    fn current(&self, tx: &Transaction<'_>, key: &str) -> Result<Option<Current>> {
        tx.prepare_cached(
            "SELECT id, version, deleted, tags, created_at FROM entries WHERE key = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([key], |r| {
                Ok(Current {
                    id: r.get(0)?,
                    version: r.get(1)?,
                    deleted: r.get::<_, i64>(2)? != 0,
                    tags: parse_tags(&r.get::<_, String>(3)?),
                    created_at: r.get(4)?,
                })
            })
            .optional()
        })
        .map_err(|e| self.sqlite(e))
    }

    /// Writes a new version of `key` (the caller holds the write transaction).
    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        tx: &Transaction<'_>,
        key: &str,
        existing: Option<&Current>,
        text: &str,
        body: &str,
        tags: &[String],
        op: Op,
        by: &str,
    ) -> Result<i64> {
        let now = now_rfc3339();
        let tags_json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
        let sql = |e| self.sqlite(e);
        let (id, version) = match existing {
            Some(cur) => {
                let version = cur.version + 1;
                let created_at = if cur.deleted {
                    now.as_str()
                } else {
                    cur.created_at.as_str()
                };
                tx.prepare_cached(
                    "UPDATE entries SET value = ?2, tags = ?3, version = ?4, deleted = 0,
                            created_at = ?5, updated_at = ?6, updated_by = ?7 WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        cur.id, text, tags_json, version, created_at, now, by
                    ])
                })
                .map_err(sql)?;
                tx.prepare_cached("DELETE FROM entries_fts WHERE rowid = ?1")
                    .and_then(|mut s| s.execute([cur.id]))
                    .map_err(sql)?;
                (cur.id, version)
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO entries (key, value, tags, version, created_at, updated_at,
                                          updated_by) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5)",
                )
                .and_then(|mut s| s.execute(params![key, text, tags_json, now, by]))
                .map_err(sql)?;
                (tx.last_insert_rowid(), 1)
            }
        };
        tx.prepare_cached(
            "INSERT INTO entries_fts (rowid, key, tags, body) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![id, key, tags.join(" "), body]))
        .map_err(sql)?;
        // Tags rarely change between versions: leave their index rows alone when they don't.
        let old_tags = existing.filter(|c| !c.deleted).map(|c| c.tags.as_slice());
        if old_tags != Some(tags) {
            if old_tags.is_some_and(|t| !t.is_empty()) {
                tx.prepare_cached("DELETE FROM entry_tags WHERE entry_id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(sql)?;
            }
            let mut stmt = tx
                .prepare_cached("INSERT OR IGNORE INTO entry_tags (tag, entry_id) VALUES (?1, ?2)")
                .map_err(sql)?;
            for tag in tags {
                stmt.execute(params![tag, id]).map_err(sql)?;
            }
        }
        self.log(tx, key, version, op, Some(text), &tags_json, &now, by)?;
        Ok(version)
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        tx: &Transaction<'_>,
        key: &str,
        version: i64,
        op: Op,
        value: Option<&str>,
        tags_json: &str,
        at: &str,
        by: &str,
    ) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO versions (key, version, op, value, tags, at, by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| s.execute(params![key, version, op.as_str(), value, tags_json, at, by]))
        .map_err(|e| self.sqlite(e))?;
        Ok(())
    }
}

/// Why a write transaction failed: taking the lock, the work itself, or the commit.
enum WriteError {
    Begin(rusqlite::Error),
    Store(StoreError),
    Commit(rusqlite::Error),
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The checks and serialisation of a write, done before the lock is taken.
struct PreparedSet {
    tags: Option<Vec<String>>,
    text: String,
    body: String,
}

impl PreparedSet {
    fn new(req: &SetRequest<'_>) -> Result<Self> {
        validate_key(req.key)?;
        Ok(Self {
            tags: req.tags.map(normalize_tags).transpose()?,
            text: serialize_value(req.key, req.value)?,
            body: search::value_text(req.value),
        })
    }
}

struct Current {
    id: i64,
    version: i64,
    deleted: bool,
    tags: Vec<String>,
    created_at: String,
}

/// A snippet from the value's text, or from the key and tags when the match is there.
fn hit_snippet(key: &str, value: &str, tags: &str, words: &[String]) -> String {
    // Very large values are cut from their raw JSON rather than parsed whole.
    let text = if value.len() <= 64 * 1024 {
        search::value_text(&parse_json(value))
    } else {
        value.chars().take(64 * 1024).collect()
    };
    let snippet = search::snippet(&text, words);
    if snippet.contains("**") {
        return snippet;
    }
    let label = format!("{key} {}", parse_tags(tags).join(" "));
    let in_label = search::snippet(&label, words);
    if in_label.contains("**") {
        in_label
    } else {
        snippet
    }
}

fn check_expected(key: &str, expected: i64, existing: Option<&Current>) -> Result<()> {
    let (current, tombstone) = match existing {
        Some(e) if !e.deleted => (e.version, None),
        Some(e) => (0, Some(e.version)),
        None => (0, None),
    };
    if expected == current {
        return Ok(());
    }
    Err(StoreError::VersionConflict {
        key: key.to_string(),
        expected,
        current,
        tombstone,
    })
}

fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM versions", [], |r| {
        r.get(0)
    })
}

fn serialize_value(key: &str, value: &Value) -> Result<String> {
    let text = serde_json::to_string(value)
        .map_err(|e| StoreError::InvalidArgument(format!("value is not serializable: {e}")))?;
    if text.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: key.to_string(),
            size: text.len(),
            limit: MAX_VALUE_BYTES,
        });
    }
    Ok(text)
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn parse_tags(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// At most `PREVIEW_CHARS` characters; a cut is marked with "…".
pub fn preview(text: &str) -> String {
    crate::text::clip(text, PREVIEW_CHARS)
}

fn clamp_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize> {
    match limit {
        None => Ok(default),
        Some(0) => Err(StoreError::InvalidArgument(
            "limit must be at least 1".into(),
        )),
        Some(n) => Ok(n.min(max)),
    }
}

fn encode_cursor(key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            StoreError::InvalidArgument(
                "cursor is not one this server returned; pass nextCursor unchanged or omit it"
                    .into(),
            )
        })
}

/// Refuses a non-empty file that does not start with the SQLite header, before SQLite
/// touches it.
fn check_header(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    if read == 0 || &header == SQLITE_HEADER {
        return Ok(());
    }
    Err(StoreError::NotADatabase {
        path: path.to_path_buf(),
        reason: "it does not start with the SQLite header".into(),
    })
}

#[cfg(test)]
mod tests;
