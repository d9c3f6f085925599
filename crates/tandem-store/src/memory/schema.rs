//! Schema migrations keyed on `PRAGMA user_version`; each runs in its own write transaction.

use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: entries (current state, tombstones kept so versions keep counting), the version log
    // (history and change feed in one table: `seq` is the commit order; rows are never
    // deleted, so the rowid only grows), tags, and a contentless full-text index (the text
    // lives in `entries`; snippets are cut from it) to keep each write small.
    r#"
    CREATE TABLE entries (
        id          INTEGER PRIMARY KEY,
        key         TEXT NOT NULL UNIQUE,
        value       TEXT,
        tags        TEXT NOT NULL DEFAULT '[]',
        version     INTEGER NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        updated_by  TEXT NOT NULL
    );
    CREATE TABLE versions (
        seq      INTEGER PRIMARY KEY,
        key      TEXT NOT NULL,
        version  INTEGER NOT NULL,
        op       TEXT NOT NULL CHECK (op IN ('set', 'delete', 'restore')),
        value    TEXT,
        tags     TEXT NOT NULL,
        at       TEXT NOT NULL,
        by       TEXT NOT NULL,
        UNIQUE (key, version)
    );
    CREATE TABLE entry_tags (
        tag       TEXT NOT NULL,
        entry_id  INTEGER NOT NULL,
        PRIMARY KEY (tag, entry_id)
    ) WITHOUT ROWID;
    CREATE INDEX entry_tags_entry ON entry_tags (entry_id);
    CREATE VIRTUAL TABLE entries_fts USING fts5 (
        key, tags, body,
        content = '',
        contentless_delete = 1,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    "#,
];

pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date. Safe when several processes start at once: the version is
/// re-read inside the write transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<(), i64>> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT {
        return Ok(Err(found));
    }
    if found == CURRENT {
        return Ok(Ok(()));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > CURRENT {
        return Ok(Err(version));
    }
    while version < CURRENT {
        let index = usize::try_from(version).unwrap_or(usize::MAX);
        if let Some(sql) = MIGRATIONS.get(index) {
            tx.execute_batch(sql)?;
        }
        version += 1;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()?;
    Ok(Ok(()))
}
