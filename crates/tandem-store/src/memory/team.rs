//! Memory on PostgreSQL, the team store: the same keys, versions, compare-and-swap, history and
//! change feed as the SQLite file, in one schema per team of a database every member reaches.
//!
//! **How the feed is numbered.** Every write transaction first locks the one row of
//! `feed_counter` (`SELECT … FOR UPDATE`), numbers its changes from it, writes the new number
//! back and commits. Writers therefore commit one at a time, in the order they took that lock,
//! and a change numbered `n` is visible before any change numbered above `n` is: a reader that
//! polls `seq > cursor` never misses a committed change and never sees a gap (a rolled-back
//! write gives its numbers back). A `bigserial` would not do: its numbers are taken at insert,
//! not at commit, so a later number can become visible first.
//!
//! Search is PostgreSQL's own (`english` stemming, `ts_rank`): the same words and fallbacks as
//! on SQLite, so the same entries are found, ranked its way. Not here yet: the write origins
//! (news then shows every change); `tandem` does not open a team store from its commands yet.

use std::sync::{Mutex, MutexGuard};

use postgres::{Client, NoTls, Transaction, error::SqlState};
use serde_json::Value;

use super::{
    CHANGES_DEFAULT, CHANGES_MAX, Change, ChangesPage, Current, DeleteOutcome, Entry, EntrySummary,
    GetResult, HISTORY_DEFAULT, HISTORY_MAX, HistoryItem, LIST_DEFAULT, LIST_MAX, ListPage, Op,
    PREVIEW_CHARS, PreparedSet, RestoreOutcome, SEARCH_DEFAULT, SEARCH_MAX, SearchHit, SetOutcome,
    SetRequest, Stats, changes_page, check_expected, check_keys, clamp_limit, decode_cursor,
    list_page, now_rfc3339, parse_json, parse_tags, prepare_many, preview, resolve_set,
    search::{self, query_words},
    validate_key,
};
use crate::{Result, StoreError};

/// Migration `i` moves a team's schema from version `i` to `i + 1`; `{s}` is the schema.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE {s}.feed_counter (
        one  boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq  bigint NOT NULL
    );
    INSERT INTO {s}.feed_counter (seq) VALUES (0);
    CREATE TABLE {s}.entries (
        id          bigserial PRIMARY KEY,
        key         text NOT NULL UNIQUE,
        value       text,
        tags        text NOT NULL DEFAULT '[]',
        version     bigint NOT NULL,
        deleted     boolean NOT NULL DEFAULT false,
        created_at  text NOT NULL,
        updated_at  text NOT NULL,
        updated_by  text NOT NULL,
        body        tsvector
    );
    CREATE INDEX entries_body ON {s}.entries USING gin (body);
    CREATE TABLE {s}.versions (
        seq      bigint PRIMARY KEY,
        key      text NOT NULL,
        version  bigint NOT NULL,
        op       text NOT NULL CHECK (op IN ('set', 'delete', 'restore')),
        value    text,
        tags     text NOT NULL,
        at       text NOT NULL,
        by       text NOT NULL,
        UNIQUE (key, version)
    );
    CREATE TABLE {s}.entry_tags (
        tag       text NOT NULL,
        entry_id  bigint NOT NULL REFERENCES {s}.entries (id),
        PRIMARY KEY (tag, entry_id)
    );
    "#];

/// The schema version this build writes.
pub const TEAM_SCHEMA: i64 = MIGRATIONS.len() as i64;

/// Memory in one team's schema of a PostgreSQL database.
pub struct TeamMemory {
    client: Mutex<Client>,
    /// The team's name (its schema).
    team: String,
    /// The schema, quoted for SQL.
    schema: String,
    /// Where, for messages: the server and database (never the password).
    shown: String,
}

impl std::fmt::Debug for TeamMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamMemory")
            .field("at", &self.shown)
            .field("schema", &self.schema)
            .finish()
    }
}

/// Whether `name` can be a team's schema: lower-case letters, digits and `_`, a letter first,
/// at most 48 characters (PostgreSQL's limit is 63).
pub fn valid_team_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TeamMemory {
    /// Connects to `url` (a `postgres://` URL or `key=value` settings) and opens the team
    /// `team` (its schema), creating or upgrading it. Several processes may start at once: the
    /// migrations run under an advisory lock. A schema written by a newer Tandem is refused.
    pub fn connect(url: &str, team: &str) -> Result<Self> {
        if !valid_team_name(team) {
            return Err(StoreError::InvalidArgument(format!(
                "{team:?} cannot name a team: use lower-case letters, digits and _, a letter \
                 first, at most 48 characters"
            )));
        }
        let config: postgres::Config = url.parse().map_err(|e| StoreError::team("address", &e))?;
        let shown = format!(
            "{}/{}",
            config
                .get_hosts()
                .first()
                .map(|h| match h {
                    postgres::config::Host::Tcp(name) => name.clone(),
                    #[cfg(unix)]
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_default(),
            config.get_dbname().unwrap_or_default()
        );
        let client = config
            .connect(NoTls)
            .map_err(|e| StoreError::team(shown.clone(), &e))?;
        let store = Self {
            client: Mutex::new(client),
            team: team.to_string(),
            schema: format!("\"{team}\""),
            shown,
        };
        store.migrate()?;
        Ok(store)
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while holding the lock dropped its transaction (rolled back).
        self.client
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn err(&self, e: postgres::Error) -> StoreError {
        StoreError::team(self.shown.clone(), &e)
    }

    fn sql(&self, text: &str) -> String {
        text.replace("{s}", &self.schema)
    }

    fn migrate(&self) -> Result<()> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&format!("tandem {}", self.schema)],
        )
        .map_err(|e| self.err(e))?;
        tx.batch_execute(&self.sql(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.meta (name text PRIMARY KEY, value bigint NOT NULL);",
        ))
        .map_err(|e| self.err(e))?;
        let found: i64 = tx
            .query_opt(
                &self.sql("SELECT value FROM {s}.meta WHERE name = 'schema'"),
                &[],
            )
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if found > TEAM_SCHEMA {
            return Err(StoreError::NewerTeamSchema {
                at: format!("{} ({})", self.shown, self.schema),
                found,
                known: TEAM_SCHEMA,
            });
        }
        for migration in &MIGRATIONS[found as usize..] {
            tx.batch_execute(&self.sql(migration))
                .map_err(|e| self.err(e))?;
        }
        tx.execute(
            &self.sql(
                "INSERT INTO {s}.meta (name, value) VALUES ('schema', $1)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ),
            &[&TEAM_SCHEMA],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Runs `f` in a write transaction holding the feed counter (see the module's notes),
    /// waiting for other writers.
    fn write<T>(&self, f: impl FnOnce(&mut Writing<'_, '_>) -> Result<T>) -> Result<T> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let row = tx
            .query_one(
                &self.sql("SELECT seq FROM {s}.feed_counter FOR UPDATE"),
                &[],
            )
            .map_err(|e| self.err(e))?;
        self.finish(tx, row.get(0), f)
    }

    /// [`Self::write`] only if no other writer holds the feed counter now; `Ok(None)` at once
    /// (nothing run) when one does.
    fn write_now<T>(&self, f: impl FnOnce(&mut Writing<'_, '_>) -> Result<T>) -> Result<Option<T>> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let lock = self.sql("SELECT seq FROM {s}.feed_counter FOR UPDATE NOWAIT");
        match tx.query_one(&lock, &[]) {
            Ok(row) => self.finish(tx, row.get(0), f).map(Some),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Ok(None),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Runs `f` in `tx`, which holds the feed counter at `seq`, then writes the counter back
    /// and commits.
    fn finish<T>(
        &self,
        tx: Transaction<'_>,
        seq: i64,
        f: impl FnOnce(&mut Writing<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let mut writing = Writing {
            store: self,
            tx,
            seq,
        };
        let out = f(&mut writing)?;
        let Writing { mut tx, seq, .. } = writing;
        tx.execute(&self.sql("UPDATE {s}.feed_counter SET seq = $1"), &[&seq])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Writes a value (compare-and-swap when `expected_version` is given), waiting for other
    /// writers.
    pub fn set(&self, req: &SetRequest<'_>, by: &str) -> Result<SetOutcome> {
        let prepared = PreparedSet::new(req)?;
        self.write(|w| w.set(req, prepared, by))
    }

    /// [`Self::set`] if no other writer holds the feed right now; `Ok(None)` otherwise.
    pub fn try_set(&self, req: &SetRequest<'_>, by: &str) -> Result<Option<SetOutcome>> {
        let prepared = PreparedSet::new(req)?;
        self.write_now(|w| w.set(req, prepared, by))
    }

    /// Deletes a key, leaving a tombstone version in its history.
    pub fn delete(
        &self,
        key: &str,
        expected_version: Option<i64>,
        by: &str,
    ) -> Result<DeleteOutcome> {
        validate_key(key)?;
        self.write(|w| w.delete(key, expected_version, by))
    }

    /// Reads live entries, in the order asked; keys with no live entry go to `missing`.
    pub fn get(&self, keys: &[String]) -> Result<GetResult> {
        check_keys(keys)?;
        let mut client = self.client();
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM {s}.entries WHERE key = ANY($1) AND NOT deleted",
                ),
                &[&keys],
            )
            .map_err(|e| self.err(e))?;
        let found: std::collections::HashMap<String, Entry> = rows
            .into_iter()
            .map(|r| {
                let entry = entry(&r);
                (entry.key.clone(), entry)
            })
            .collect();
        let mut entries = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match found.get(key) {
                Some(e) => entries.push(e.clone()),
                None => missing.push(key.clone()),
            }
        }
        Ok(GetResult { entries, missing })
    }

    /// Every version of a key, newest first.
    pub fn history(&self, key: &str, limit: Option<usize>) -> Result<Vec<HistoryItem>> {
        validate_key(key)?;
        let limit = clamp_limit(limit, HISTORY_DEFAULT, HISTORY_MAX)? as i64;
        let mut client = self.client();
        let rows = client
            .query(
                &self.sql(
                    "SELECT version, op, value, tags, at, by FROM {s}.versions
                     WHERE key = $1 ORDER BY version DESC LIMIT $2",
                ),
                &[&key, &limit],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let op = Op::parse(r.get(1));
                let value: Option<String> = r.get(2);
                HistoryItem {
                    version: r.get(0),
                    value: value.as_deref().map(parse_json).unwrap_or(Value::Null),
                    tags: parse_tags(r.get(3)),
                    updated_at: r.get(4),
                    updated_by: r.get(5),
                    deleted: op == Op::Delete,
                    op,
                }
            })
            .collect())
    }

    /// Changes committed after `since` (every member, commit order). Without `since`, the
    /// newest `limit` changes.
    pub fn changes(&self, since: Option<i64>, limit: Option<usize>) -> Result<ChangesPage> {
        let limit = clamp_limit(limit, CHANGES_DEFAULT, CHANGES_MAX)?;
        let mut client = self.client();
        let map = |r: &postgres::Row| Change {
            seq: r.get(0),
            key: r.get(1),
            op: Op::parse(r.get(2)),
            version: r.get(3),
            at: r.get(4),
            by: r.get(5),
        };
        let changes = match since {
            Some(since) => {
                let rows = client
                    .query(
                        &self.sql(
                            "SELECT seq, key, op, version, at, by FROM {s}.versions
                             WHERE seq > $1 ORDER BY seq LIMIT $2",
                        ),
                        &[&since, &((limit + 1) as i64)],
                    )
                    .map_err(|e| self.err(e))?;
                rows.iter().map(map).collect()
            }
            None => {
                let rows = client
                    .query(
                        &self.sql(
                            "SELECT seq, key, op, version, at, by FROM {s}.versions
                             ORDER BY seq DESC LIMIT $1",
                        ),
                        &[&(limit as i64)],
                    )
                    .map_err(|e| self.err(e))?;
                rows.iter().map(map).collect()
            }
        };
        changes_page(changes, since, limit, || {
            last_seq(&mut client, &self.sql("SELECT seq FROM {s}.feed_counter"))
                .map_err(|e| self.err(e))
        })
    }

    /// The sequence number of the newest committed change (0 when there is none).
    pub fn last_seq(&self) -> Result<i64> {
        let mut client = self.client();
        last_seq(&mut client, &self.sql("SELECT seq FROM {s}.feed_counter"))
            .map_err(|e| self.err(e))
    }

    /// Writes many values in one transaction (import). Existing keys get a new version.
    pub fn set_many(&self, items: &[(String, Value, Vec<String>)], by: &str) -> Result<usize> {
        let prepared = prepare_many(items)?;
        self.write(|w| {
            for (key, text, body, tags) in &prepared {
                let existing = w.current(key)?;
                w.put(key, existing.as_ref(), text, body, tags, Op::Set, by)?;
            }
            Ok(prepared.len())
        })
    }

    /// Writes an old version's value and tags as a new version.
    pub fn restore(&self, key: &str, version: i64, by: &str) -> Result<RestoreOutcome> {
        validate_key(key)?;
        self.write(|w| {
            let sql = w
                .store
                .sql("SELECT op, value, tags FROM {s}.versions WHERE key = $1 AND version = $2");
            let old =
                w.tx.query_opt(&sql, &[&key, &version])
                    .map_err(|e| w.err(e))?;
            let Some(old) = old else {
                return Err(StoreError::NoSuchVersion {
                    key: key.to_string(),
                    version,
                });
            };
            let op = Op::parse(old.get(0));
            let value: Option<String> = old.get(1);
            let Some(text) = value.filter(|_| op != Op::Delete) else {
                return Err(StoreError::RestoreTombstone {
                    key: key.to_string(),
                    version,
                });
            };
            let body = search::value_text(&parse_json(&text));
            let tags = parse_tags(old.get(2));
            let existing = w.current(key)?;
            let new_version =
                w.put(key, existing.as_ref(), &text, &body, &tags, Op::Restore, by)?;
            Ok(RestoreOutcome {
                key: key.to_string(),
                version: new_version,
                restored_from: version,
            })
        })
    }

    /// Lists live entries in key order (bytewise, as on SQLite), optionally under a prefix
    /// and/or with a tag.
    pub fn list(
        &self,
        prefix: Option<&str>,
        tag: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<ListPage> {
        let limit = clamp_limit(limit, LIST_DEFAULT, LIST_MAX)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let prefix = prefix.filter(|p| !p.is_empty()).unwrap_or("");
        let tag = tag.map(str::trim);
        let mut client = self.client();
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, tags, version, updated_at, updated_by, left(value, $1) FROM {s}.entries e
                     WHERE NOT deleted AND starts_with(key, $2)
                       AND ($3::text IS NULL OR key COLLATE \"C\" > $3)
                       AND ($4::text IS NULL OR id IN
                            (SELECT entry_id FROM {s}.entry_tags WHERE tag = $4))
                     ORDER BY key COLLATE \"C\" LIMIT $5",
                ),
                &[
                    &((PREVIEW_CHARS + 1) as i32),
                    &prefix,
                    &after,
                    &tag,
                    &((limit + 1) as i64),
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(list_page(rows.iter().map(summary).collect(), limit))
    }

    /// Ranked full-text search (PostgreSQL's own: `english` stemming, `ts_rank`), with the
    /// same words, fallbacks and snippets as the SQLite store; rankings may differ.
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
        let tag = tag.map(str::trim);
        let mut client = self.client();
        // Whole words first (stemmed as English, or as written: the body holds both), then
        // the last word as a prefix, then any word as a prefix, as on SQLite. The words are
        // letters and digits only, so quoting them is all the escaping needed.
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let last = quoted.len() - 1;
        let mut prefixed = quoted.clone();
        prefixed[last] = format!("{}:*", quoted[last]);
        let any: Vec<String> = quoted.iter().map(|w| format!("{w}:*")).collect();
        let stemmed = "(to_tsquery('english', $1) || to_tsquery('simple', $1))";
        let plain = "to_tsquery('simple', $1)";
        let mut attempts = vec![(stemmed, quoted.join(" & ")), (plain, prefixed.join(" & "))];
        if words.len() > 1 {
            attempts.push((plain, any.join(" | ")));
        }
        for (query, expression) in &attempts {
            let sql = self.sql(&format!(
                "SELECT key, value, tags, version, updated_at, ts_rank(body, t.q) AS score
                 FROM {{s}}.entries, (SELECT {query} AS q) AS t
                 WHERE NOT deleted AND body @@ t.q
                   AND ($2::text IS NULL OR id IN
                        (SELECT entry_id FROM {{s}}.entry_tags WHERE tag = $2))
                 ORDER BY score DESC, key COLLATE \"C\" LIMIT $3"
            ));
            let rows = client
                .query(&sql, &[expression, &tag, &(limit as i64)])
                .map_err(|e| self.err(e))?;
            if rows.is_empty() {
                continue;
            }
            return Ok(rows
                .iter()
                .map(|r| {
                    let key: String = r.get(0);
                    let value: Option<String> = r.get(1);
                    let score: f32 = r.get(5);
                    SearchHit {
                        snippet: search::hit_snippet(
                            &key,
                            value.as_deref().unwrap_or("null"),
                            r.get(2),
                            &words,
                        ),
                        key,
                        score: f64::from(score),
                        version: r.get(3),
                        updated_at: r.get(4),
                    }
                })
                .collect());
        }
        Ok(Vec::new())
    }

    /// Visits every live entry in key order (export).
    pub fn for_each_entry(&self, mut f: impl FnMut(Entry) -> Result<()>) -> Result<()> {
        let mut client = self.client();
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM {s}.entries WHERE NOT deleted ORDER BY key COLLATE \"C\"",
                ),
                &[],
            )
            .map_err(|e| self.err(e))?;
        drop(client);
        for r in &rows {
            f(entry(r))?;
        }
        Ok(())
    }

    /// Live entries, the newest change, and the team's size on the server.
    pub fn stats(&self) -> Result<Stats> {
        let mut client = self.client();
        let row = client
            .query_one(
                &self.sql(
                    "SELECT (SELECT count(*) FROM {s}.entries WHERE NOT deleted),
                            (SELECT seq FROM {s}.feed_counter),
                            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = $1 AND c.relkind = 'r')",
                ),
                &[&self.team],
            )
            .map_err(|e| self.err(e))?;
        Ok(Stats {
            entries: row.get(0),
            last_seq: row.get(1),
            file_bytes: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
        })
    }

    /// The server keeps its own files sound; this checks that the team's tables answer.
    pub fn integrity_check(&self) -> Result<String> {
        self.last_seq().map(|_| "ok".to_string())
    }

    /// Live entries changed at or after `since` (RFC 3339), newest first.
    pub fn changed_since(&self, since: &str, limit: usize) -> Result<Vec<EntrySummary>> {
        let mut client = self.client();
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, tags, version, updated_at, updated_by, left(value, $3)
                     FROM {s}.entries WHERE NOT deleted AND updated_at >= $1
                     ORDER BY updated_at DESC LIMIT $2",
                ),
                &[&since, &(limit as i64), &((PREVIEW_CHARS + 1) as i32)],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(summary).collect())
    }
}

/// A live entry's row: key, value, tags, version, created_at, updated_at, updated_by.
fn entry(r: &postgres::Row) -> Entry {
    let value: Option<String> = r.get(1);
    Entry {
        key: r.get(0),
        value: value.as_deref().map(parse_json).unwrap_or(Value::Null),
        tags: parse_tags(r.get(2)),
        version: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
        updated_by: r.get(6),
    }
}

/// A summary's row: key, tags, version, updated_at, updated_by, the value's start.
fn summary(r: &postgres::Row) -> EntrySummary {
    let start: Option<String> = r.get(5);
    EntrySummary {
        key: r.get(0),
        tags: parse_tags(r.get(1)),
        version: r.get(2),
        updated_at: r.get(3),
        updated_by: r.get(4),
        preview: preview(start.as_deref().unwrap_or("null")),
    }
}

fn last_seq(client: &mut Client, sql: &str) -> std::result::Result<i64, postgres::Error> {
    Ok(client.query_one(sql, &[])?.get(0))
}

/// A write transaction holding the feed counter; `seq` is the last number taken.
struct Writing<'s, 'c> {
    store: &'s TeamMemory,
    tx: Transaction<'c>,
    seq: i64,
}

impl Writing<'_, '_> {
    fn err(&self, e: postgres::Error) -> StoreError {
        self.store.err(e)
    }

    fn current(&mut self, key: &str) -> Result<Option<Current>> {
        let sql = self.store.sql(
            "SELECT id, version, deleted, tags, created_at FROM {s}.entries WHERE key = $1
             FOR UPDATE",
        );
        let row = self
            .tx
            .query_opt(&sql, &[&key])
            .map_err(|e| self.store.err(e))?;
        Ok(row.map(|r| Current {
            id: r.get(0),
            version: r.get(1),
            deleted: r.get(2),
            tags: parse_tags(r.get(3)),
            created_at: r.get(4),
        }))
    }

    fn set(&mut self, req: &SetRequest<'_>, prepared: PreparedSet, by: &str) -> Result<SetOutcome> {
        let PreparedSet { tags, text, body } = prepared;
        let existing = self.current(req.key)?;
        let (tags, created) = resolve_set(req, tags, existing.as_ref())?;
        let version = self.put(req.key, existing.as_ref(), &text, &body, &tags, Op::Set, by)?;
        Ok(SetOutcome {
            key: req.key.to_string(),
            version,
            created,
        })
    }

    /// Writes a new version of `key` and logs it.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
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
        let document = format!("{key} {} {body}", tags.join(" "));
        let (id, version) = match existing {
            Some(cur) => {
                let version = cur.version + 1;
                let created_at = if cur.deleted {
                    now.clone()
                } else {
                    cur.created_at.clone()
                };
                let sql = self.store.sql(
                    "UPDATE {s}.entries SET value = $2, tags = $3, version = $4, deleted = false,
                            created_at = $5, updated_at = $6, updated_by = $7,
                            body = to_tsvector('english', $8) || to_tsvector('simple', $8)
                     WHERE id = $1",
                );
                self.tx
                    .execute(
                        &sql,
                        &[
                            &cur.id,
                            &text,
                            &tags_json,
                            &version,
                            &created_at,
                            &now,
                            &by,
                            &document,
                        ],
                    )
                    .map_err(|e| self.store.err(e))?;
                (cur.id, version)
            }
            None => {
                let sql = self.store.sql(
                    "INSERT INTO {s}.entries (key, value, tags, version, created_at, updated_at,
                                              updated_by, body)
                     VALUES ($1, $2, $3, 1, $4, $4, $5,
                             to_tsvector('english', $6) || to_tsvector('simple', $6))
                     RETURNING id",
                );
                let row = self
                    .tx
                    .query_one(&sql, &[&key, &text, &tags_json, &now, &by, &document])
                    .map_err(|e| self.store.err(e))?;
                (row.get(0), 1)
            }
        };
        let old_tags = existing.filter(|c| !c.deleted).map(|c| c.tags.as_slice());
        if old_tags != Some(tags) {
            let sql = self
                .store
                .sql("DELETE FROM {s}.entry_tags WHERE entry_id = $1");
            self.tx
                .execute(&sql, &[&id])
                .map_err(|e| self.store.err(e))?;
            let sql = self.store.sql(
                "INSERT INTO {s}.entry_tags (tag, entry_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            );
            for tag in tags {
                self.tx
                    .execute(&sql, &[tag, &id])
                    .map_err(|e| self.store.err(e))?;
            }
        }
        self.log(key, version, op, Some(text), &tags_json, &now, by)?;
        Ok(version)
    }

    fn delete(&mut self, key: &str, expected: Option<i64>, by: &str) -> Result<DeleteOutcome> {
        let existing = self.current(key)?;
        if let Some(expected) = expected {
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
        let sql = self.store.sql(
            "UPDATE {s}.entries SET value = NULL, tags = '[]', version = $2, deleted = true,
                    updated_at = $3, updated_by = $4, body = NULL WHERE id = $1",
        );
        self.tx
            .execute(&sql, &[&current.id, &version, &now, &by])
            .map_err(|e| self.err(e))?;
        let sql = self
            .store
            .sql("DELETE FROM {s}.entry_tags WHERE entry_id = $1");
        self.tx
            .execute(&sql, &[&current.id])
            .map_err(|e| self.err(e))?;
        self.log(key, version, Op::Delete, None, "[]", &now, by)?;
        Ok(DeleteOutcome {
            key: key.to_string(),
            deleted: true,
            version,
        })
    }

    /// Appends a change to the feed under the next number.
    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        key: &str,
        version: i64,
        op: Op,
        value: Option<&str>,
        tags_json: &str,
        at: &str,
        by: &str,
    ) -> Result<()> {
        self.seq += 1;
        let sql = self.store.sql(
            "INSERT INTO {s}.versions (seq, key, version, op, value, tags, at, by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        );
        self.tx
            .execute(
                &sql,
                &[
                    &self.seq,
                    &key,
                    &version,
                    &op.as_str(),
                    &value,
                    &tags_json,
                    &at,
                    &by,
                ],
            )
            .map_err(|e| self.store.err(e))?;
        Ok(())
    }
}
