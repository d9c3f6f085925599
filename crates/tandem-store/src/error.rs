//! The store's one error type: every variant says what happened and names the key or file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },

    #[error("invalid tags: {0}")]
    InvalidTags(String),

    #[error(
        "the value for {key:?} is {size} bytes serialized; the limit is {limit} bytes. \
         Store a summary, or split it over several keys"
    )]
    ValueTooLarge {
        key: String,
        size: usize,
        limit: usize,
    },

    #[error("{0}")]
    InvalidArgument(String),

    #[error(
        "version conflict on {key:?}: expected version {expected}, but the current version is \
         {current}{note}. Nothing was written: read the entry again, merge, and retry with \
         expectedVersion {current}",
        note = match tombstone {
            Some(v) => format!(" (it was deleted at version {v})"),
            None if *current == 0 => " (it does not exist)".to_string(),
            None => String::new(),
        }
    )]
    VersionConflict {
        key: String,
        expected: i64,
        current: i64,
        tombstone: Option<i64>,
    },

    #[error("no entry {key:?}")]
    NotFound { key: String },

    /// A document of the team's workspace was not what a write expected.
    #[error("{0}")]
    DocConflict(String),

    #[error("{path} does not exist in the team's workspace")]
    DocNotFound { path: String },

    #[error("{key:?} has no version {version}")]
    NoSuchVersion { key: String, version: i64 },

    #[error("version {version} of {key:?} is a deletion; restore a version that holds a value")]
    RestoreTombstone { key: String, version: i64 },

    #[error(
        "{path} is not a Tandem memory database ({reason}); Tandem left it untouched. Move it \
         aside or pass --db with another path"
    )]
    NotADatabase { path: PathBuf, reason: String },

    #[error(
        "{path} was written by a newer Tandem (schema {found}, this build knows {known}); \
         upgrade Tandem"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error("team store {at}: {reason}")]
    Team { at: String, reason: String },

    #[error(
        "the team store {at} was set up by a newer Tandem (schema {found}, this build knows \
         {known}); upgrade Tandem"
    )]
    NewerTeamSchema { at: String, found: i64, known: i64 },

    #[error("creating {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "{path} is not valid Tandem settings ({reason}); Tandem changed nothing. Fix the file, \
         or delete it to go back to the default shared folder"
    )]
    Settings { path: PathBuf, reason: String },

    #[error("reading or writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    /// A PostgreSQL error as a person can act on it: the server's own message (with its detail
    /// and hint) or the connection's error and its causes.
    pub(crate) fn team(at: impl Into<String>, e: &postgres::Error) -> Self {
        let reason = match e.as_db_error() {
            Some(db) if *db.code() == postgres::error::SqlState::QUERY_CANCELED => format!(
                "the team store took longer than its time limit (statement_timeout) and the \
                 request was called off; nothing of it was saved ({})",
                db.message()
            ),
            Some(db) => {
                let mut text = db.message().to_string();
                for extra in [db.detail(), db.hint()].into_iter().flatten() {
                    text.push_str(" (");
                    text.push_str(extra);
                    text.push(')');
                }
                text
            }
            None => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                text
            }
        };
        Self::Team {
            at: at.into(),
            reason,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
