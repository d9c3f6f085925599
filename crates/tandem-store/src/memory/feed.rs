//! The change feed: every committed write gets the next number of a counter bumped inside the
//! same transaction, so readers that poll by cursor see changes in commit order, with no gaps
//! and nothing skipped.

use rusqlite::{Connection, Transaction, params};

use super::{
    CHANGES_DEFAULT, CHANGES_MAX, Change, ChangesPage, EntrySummary, LocalMemory, Op,
    PREVIEW_CHARS, changes_page, clamp_limit, entry_summary,
};
use crate::Result;

impl LocalMemory {
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
            let changes = match since {
                Some(since) => {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT seq, key, op, version, at, by FROM versions
                             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                        )
                        .map_err(|e| self.sqlite(e))?;
                    stmt.query_map(params![since, (limit + 1) as i64], map)
                        .map_err(|e| self.sqlite(e))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(|e| self.sqlite(e))?
                }
                None => {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT seq, key, op, version, at, by FROM versions
                             ORDER BY seq DESC LIMIT ?1",
                        )
                        .map_err(|e| self.sqlite(e))?;
                    stmt.query_map(params![limit as i64], map)
                        .map_err(|e| self.sqlite(e))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(|e| self.sqlite(e))?
                }
            };
            changes_page(changes, since, limit, || {
                last_seq(tx).map_err(|e| self.sqlite(e))
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
                    entry_summary,
                )
                .map_err(|e| self.sqlite(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.sqlite(e))
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn log(
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
        if let Some(origin) = self.origin.get() {
            tx.prepare_cached("INSERT INTO write_origins (seq, origin) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![tx.last_insert_rowid(), origin]))
                .map_err(|e| self.sqlite(e))?;
        }
        Ok(())
    }

    /// The changes after `since` (up to `until`) written from `origin`, by `seq`; none when no
    /// store with an origin ever wrote here.
    pub fn changes_from(
        &self,
        origin: &str,
        since: i64,
        until: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        self.read(|tx| {
            let exists: bool = tx
                .query_row(
                    "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'write_origins'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.sqlite(e))?;
            if !exists {
                return Ok(Default::default());
            }
            let mut stmt = tx
                .prepare_cached(
                    "SELECT seq FROM write_origins WHERE seq > ?1 AND seq <= ?2 AND origin = ?3",
                )
                .map_err(|e| self.sqlite(e))?;
            let seqs = stmt
                .query_map(params![since, until, origin], |r| r.get(0))
                .map_err(|e| self.sqlite(e))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| self.sqlite(e))?;
            Ok(seqs)
        })
    }
}

pub(super) fn last_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM versions", [], |r| {
        r.get(0)
    })
}
