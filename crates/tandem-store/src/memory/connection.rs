//! The memory store's hold on its SQLite file: opening it (and refusing what is not a Tandem
//! database, untouched), one writer and one reader connection, and the transactions every
//! read and write runs in (a busy database waits, a failed commit is an error, never a write
//! reported that did not happen).

use std::{
    io::Read,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::{BUSY_TIMEOUT, SQLITE_HEADER, schema};
use crate::{Result, StoreError};

/// Which client process each version was written from, by its `seq` (only for writes from a
/// store given an origin).
pub(super) const ORIGINS_TABLE: &str = "CREATE TABLE IF NOT EXISTS write_origins (
    seq     INTEGER PRIMARY KEY,
    origin  TEXT NOT NULL
)";

/// The memory store. One per process; cheap to share behind an `Arc`.
pub struct LocalMemory {
    pub(super) path: PathBuf,
    pub(super) writer: Mutex<Connection>,
    pub(super) reader: Mutex<Connection>,
    /// The client process this store's writes come from (see [`crate::origin`]), recorded
    /// with each write once set.
    pub(super) origin: std::sync::OnceLock<String>,
}

impl std::fmt::Debug for LocalMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMemory")
            .field("path", &self.path)
            .finish()
    }
}

/// Why a write transaction failed: taking the lock, the work itself, or the commit.
pub(super) enum WriteError {
    Begin(rusqlite::Error),
    Store(StoreError),
    Commit(rusqlite::Error),
}

pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Refuses a non-empty file that does not start with the SQLite header, before SQLite
/// touches it.
pub(super) fn check_header(path: &Path) -> Result<()> {
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

impl LocalMemory {
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
            origin: std::sync::OnceLock::new(),
        })
    }

    /// Records `origin` (a client process, [`crate::origin::client_process`]) with every write
    /// from now on, so that news for a session can leave out its own writes. Set once; its table
    /// is made here, outside the schema's versions, so that a `tandem` that predates it still
    /// opens the database (and writes without an origin, which news then shows).
    pub fn set_origin(&self, origin: String) -> Result<()> {
        self.writer()
            .execute_batch(ORIGINS_TABLE)
            .map_err(|e| self.sqlite(e))?;
        let _ = self.origin.set(origin);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no open transaction (rusqlite rolls back on
        // drop), so the connection is still good.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so
    /// concurrent writers queue instead of failing halfway.
    pub(super) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer();
        Self::in_write_tx(&mut conn, f).map_err(|e| self.sqlite_or(e))
    }

    /// Like [`Self::write`], but only if the write lock is free right now, in this process
    /// and every other: `Ok(None)` when it is not (nothing was run).
    pub(super) fn write_now<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
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

    pub(super) fn in_write_tx<T>(
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

    pub(super) fn sqlite_or(&self, e: WriteError) -> StoreError {
        match e {
            WriteError::Begin(e) | WriteError::Commit(e) => self.sqlite(e),
            WriteError::Store(e) => e,
        }
    }

    /// Runs `f` in a read transaction (one consistent snapshot).
    pub(super) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.reader();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| self.sqlite(e))?;
        let out = f(&tx)?;
        tx.finish().map_err(|e| self.sqlite(e))?;
        Ok(out)
    }
}
