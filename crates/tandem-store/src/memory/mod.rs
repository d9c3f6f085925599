//! Shared structured memory: keys → JSON values with versions, history, compare-and-swap,
//! full-text search and a change log, in one SQLite file (WAL) that many processes share.

mod connection;
mod feed;
mod import;
mod key;
mod schema;
mod search;
mod store;
pub mod team;
pub mod transfer;
mod types;

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

pub use connection::LocalMemory;
pub use import::ImportReport;
pub use key::{MAX_KEY_CHARS, MAX_TAG_CHARS, MAX_TAGS, normalize_tags, validate_key};
pub use store::{DEFAULT_TEAM, MemoryStore, StoreLocation};
pub use team::{TEAM_SCHEMA, TeamMemory, valid_team_name};
use types::SQLITE_HEADER;
pub use types::*;

use crate::{Result, StoreError};

/// The current time as RFC 3339 UTC with milliseconds (sortable as text).
pub fn now_rfc3339() -> String {
    crate::text::now()
}

impl LocalMemory {
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
        let (tags, created) = resolve_set(req, tags, existing.as_ref())?;
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
        let prepared = prepare_many(items)?;
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
        check_keys(keys)?;
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
                .query_map(rusqlite::params_from_iter(args.iter()), entry_summary)
                .map_err(|e| self.sqlite(e))?;
            let entries = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))?;
            Ok(list_page(entries, limit))
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
            let version = self.tombstone(tx, key, &current, by, &now_rfc3339())?;
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
                .query_map(params![key, limit as i64], history_item)
                .map_err(|e| self.sqlite(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))
        })
    }

    /// Every key with a history (deleted ones too) after `after`, in key order.
    pub fn keys_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT key FROM entries WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2",
                )
                .map_err(|e| self.sqlite(e))?;
            let rows = stmt
                .query_map(params![after, limit as i64], |r| r.get(0))
                .map_err(|e| self.sqlite(e))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
                .map_err(|e| self.sqlite(e))
        })
    }

    /// How many keys have a history (deleted ones too).
    pub fn key_count(&self) -> Result<usize> {
        self.read(|tx| {
            tx.query_row("SELECT count(*) FROM entries", [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| self.sqlite(e))
        })
    }

    /// Every version of `key`, oldest first, however many.
    pub fn full_history(&self, key: &str) -> Result<Vec<HistoryItem>> {
        let mut all = self.history(key, Some(HISTORY_MAX))?;
        if all.len() == HISTORY_MAX {
            all = self.read(|tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT version, op, value, tags, at, by FROM versions
                         WHERE key = ?1 ORDER BY version DESC",
                    )
                    .map_err(|e| self.sqlite(e))?;
                let rows = stmt
                    .query_map([key], history_item)
                    .map_err(|e| self.sqlite(e))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| self.sqlite(e))
            })?;
        }
        all.reverse();
        Ok(all)
    }

    /// Writes `versions` (oldest first, as another store kept them: who and when included) as
    /// the history of `key`, in one transaction; `false`, writing nothing, when this store has
    /// the key already.
    pub fn import_key(&self, key: &str, versions: &[HistoryItem]) -> Result<bool> {
        validate_key(key)?;
        let replay = Replay::new(key, versions)?;
        self.write(|tx| {
            if self.current(tx, key)?.is_some() {
                return Ok(false);
            }
            for step in &replay.steps {
                let existing = self.current(tx, key)?;
                match (step, &existing) {
                    (Step::Put { text, body, item }, _) => {
                        self.put_at(
                            tx,
                            key,
                            existing.as_ref(),
                            text,
                            body,
                            &item.tags,
                            item.op,
                            &item.updated_by,
                            &item.updated_at,
                        )?;
                    }
                    (Step::Delete(item), Some(live)) if !live.deleted => {
                        self.tombstone(tx, key, live, &item.updated_by, &item.updated_at)?;
                    }
                    (Step::Delete(_), _) => {}
                }
            }
            Ok(true)
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
            Ok((entries, feed::last_seq(tx).map_err(|e| self.sqlite(e))?))
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

    /// Writes a deletion of the live entry `current` as its next version, at `at`.
    fn tombstone(
        &self,
        tx: &Transaction<'_>,
        key: &str,
        current: &Current,
        by: &str,
        at: &str,
    ) -> Result<i64> {
        let version = current.version + 1;
        tx.execute(
            "UPDATE entries SET value = NULL, tags = '[]', version = ?2, deleted = 1,
                    updated_at = ?3, updated_by = ?4 WHERE id = ?1",
            params![current.id, version, at, by],
        )
        .map_err(|e| self.sqlite(e))?;
        tx.execute("DELETE FROM entries_fts WHERE rowid = ?1", [current.id])
            .map_err(|e| self.sqlite(e))?;
        tx.execute("DELETE FROM entry_tags WHERE entry_id = ?1", [current.id])
            .map_err(|e| self.sqlite(e))?;
        self.log(tx, key, version, Op::Delete, None, "[]", at, by)?;
        Ok(version)
    }

    /// Writes a new version of `key` now (the caller holds the write transaction).
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
        self.put_at(tx, key, existing, text, body, tags, op, by, &now)
    }

    /// [`Self::put`] as written at `now` (an import keeps each version's own time).
    #[allow(clippy::too_many_arguments)]
    fn put_at(
        &self,
        tx: &Transaction<'_>,
        key: &str,
        existing: Option<&Current>,
        text: &str,
        body: &str,
        tags: &[String],
        op: Op,
        by: &str,
        now: &str,
    ) -> Result<i64> {
        let tags_json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
        let sql = |e| self.sqlite(e);
        let (id, version) = match existing {
            Some(cur) => {
                let version = cur.version + 1;
                let created_at = if cur.deleted {
                    now
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
        self.log(tx, key, version, op, Some(text), &tags_json, now, by)?;
        Ok(version)
    }
}

/// A key's history, ready to be written again in another store.
pub(super) struct Replay<'a> {
    pub steps: Vec<Step<'a>>,
}

pub(super) enum Step<'a> {
    Put {
        text: String,
        body: String,
        item: &'a HistoryItem,
    },
    Delete(&'a HistoryItem),
}

impl<'a> Replay<'a> {
    pub(super) fn new(key: &str, versions: &'a [HistoryItem]) -> Result<Self> {
        let steps = versions
            .iter()
            .map(|item| {
                Ok(if item.op == Op::Delete {
                    Step::Delete(item)
                } else {
                    Step::Put {
                        text: serialize_value(key, &item.value)?,
                        body: search::value_text(&item.value),
                        item,
                    }
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { steps })
    }
}

/// A version's row: version, op, value, tags, at, by.
fn history_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryItem> {
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
}

/// The keys of a `get`: 1 to `GET_MAX_KEYS`, each valid.
fn check_keys(keys: &[String]) -> Result<()> {
    if keys.is_empty() || keys.len() > GET_MAX_KEYS {
        return Err(StoreError::InvalidArgument(format!(
            "{} keys given; ask for 1 to {GET_MAX_KEYS} keys per call",
            keys.len()
        )));
    }
    keys.iter().try_for_each(|k| validate_key(k))
}

/// One import write, checked and serialised: key, value as JSON, its text, tags.
type PreparedItem<'a> = (&'a String, String, String, Vec<String>);

/// The checks and serialisation of an import's writes.
fn prepare_many(items: &[(String, Value, Vec<String>)]) -> Result<Vec<PreparedItem<'_>>> {
    items
        .iter()
        .map(|(key, value, tags)| {
            validate_key(key)?;
            Ok((
                key,
                serialize_value(key, value)?,
                search::value_text(value),
                normalize_tags(tags)?,
            ))
        })
        .collect()
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

/// A list page from up to `limit + 1` entries in key order (the extra one only says there is
/// more), on either engine.
fn list_page(mut entries: Vec<EntrySummary>, limit: usize) -> ListPage {
    let next_cursor = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| encode_cursor(&e.key))
    } else {
        None
    };
    ListPage {
        entries,
        next_cursor,
    }
}

/// A feed page, on either engine, from what its query found: after `since`, up to `limit + 1`
/// changes in order (the extra one only says more wait); without `since`, the newest `limit`.
/// `newest` gives the cursor when there is neither a change nor a `since`.
fn changes_page(
    changes: Vec<Change>,
    since: Option<i64>,
    limit: usize,
    newest: impl FnOnce() -> Result<i64>,
) -> Result<ChangesPage> {
    let (changes, cursor, more) = page_of(changes, |c| c.seq, since, limit, newest)?;
    Ok(ChangesPage {
        changes,
        cursor,
        more,
    })
}

/// A page of any commit-ordered feed (memory's, the team workspace's): the items in order,
/// the cursor to give next, and whether more wait (see [`changes_page`]).
pub(crate) fn page_of<C>(
    mut items: Vec<C>,
    seq: impl Fn(&C) -> i64,
    since: Option<i64>,
    limit: usize,
    newest: impl FnOnce() -> Result<i64>,
) -> Result<(Vec<C>, i64, bool)> {
    let more = since.is_some() && items.len() > limit;
    items.truncate(limit);
    items.sort_by_key(|c| seq(c));
    let cursor = match (items.last(), since) {
        (Some(last), _) => seq(last),
        (None, Some(since)) => since,
        (None, None) => newest()?,
    };
    Ok((items, cursor, more))
}

/// What a set writes over `existing`, on either engine: the expected version checked, the tags
/// (the given ones; else the entry's own, none after a deletion), and whether it creates the key.
fn resolve_set(
    req: &SetRequest<'_>,
    tags: Option<Vec<String>>,
    existing: Option<&Current>,
) -> Result<(Vec<String>, bool)> {
    if let Some(expected) = req.expected_version {
        check_expected(req.key, expected, existing)?;
    }
    let tags = match (tags, existing) {
        (Some(t), _) => t,
        (None, Some(e)) if !e.deleted => e.tags.clone(),
        (None, _) => Vec::new(),
    };
    Ok((tags, existing.is_none_or(|e| e.deleted)))
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

/// A row of `key, tags, version, updated_at, updated_by, value` as a listing shows it.
fn entry_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntrySummary> {
    Ok(EntrySummary {
        key: r.get(0)?,
        tags: parse_tags(&r.get::<_, String>(1)?),
        version: r.get(2)?,
        updated_at: r.get(3)?,
        updated_by: r.get(4)?,
        preview: preview(&r.get::<_, String>(5)?),
    })
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

#[cfg(test)]
pub(crate) mod engine_tests;
#[cfg(test)]
mod tests;
