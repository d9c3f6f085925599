//! The one error the window's commands return: a kind the UI can act on and a message that says
//! what to do, serialised as `{kind, message}`.

use serde::Serialize;
use tandem_store::{StoreError, WorkspaceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// What was asked for is not there (a handoff, an entry, a folder).
    NotFound,
    /// The request itself is wrong (a relative path, a status that cannot be set).
    Invalid,
    /// Someone else changed it first: read it again.
    Conflict,
    /// A part of Tandem is not available (the store could not be opened, the settings file is
    /// broken).
    Unavailable,
    /// The system refused (a file could not be written or opened).
    Io,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The app's state reports what is unavailable as text (the store, the shared folder).
impl From<String> for AppError {
    fn from(message: String) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::NotFound { .. } | StoreError::NoSuchVersion { .. } => ErrorKind::NotFound,
            StoreError::VersionConflict { .. } => ErrorKind::Conflict,
            StoreError::InvalidKey { .. }
            | StoreError::InvalidTags(_)
            | StoreError::ValueTooLarge { .. }
            | StoreError::InvalidArgument(_)
            | StoreError::RestoreTombstone { .. } => ErrorKind::Invalid,
            StoreError::Io { .. } | StoreError::CreateDir { .. } => ErrorKind::Io,
            _ => ErrorKind::Unavailable,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<WorkspaceError> for AppError {
    fn from(e: WorkspaceError) -> Self {
        let kind = match &e {
            WorkspaceError::NotFound { .. } => ErrorKind::NotFound,
            WorkspaceError::Io { .. } => ErrorKind::Io,
            _ => ErrorKind::Invalid,
        };
        Self::new(kind, e.to_string())
    }
}

pub type Reply<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reaches_the_window_as_a_kind_and_a_message() {
        let e = AppError::from(StoreError::NotFound { key: "k".into() });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "notFound", "message": "no entry \"k\""})
        );
    }
}
