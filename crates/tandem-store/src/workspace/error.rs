//! The workspace's error type. Every message is meant for a model or a person: it says what
//! happened, names the path (as the caller gave it) and says what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// The path is outside the jail, or could not be judged safe. Nothing was read or written.
    #[error(
        "Access denied: {path:?} {reason}. Nothing was read or written. Use a path inside the \
         workspace {root}, relative to it (e.g. \"handoffs/plan.md\") or absolute inside it"
    )]
    AccessDenied {
        path: String,
        reason: String,
        root: PathBuf,
    },

    /// A new name that some system would refuse or read differently. Nothing was written.
    #[error(
        "{path:?}: the name {name:?} does not work on every system ({reason}). Nothing was \
         written. The shared folder may be opened on Windows, macOS or Linux: choose another \
         name"
    )]
    NotPortable {
        path: String,
        name: String,
        reason: String,
    },

    #[error("{path:?} does not exist; list_directory or search_files shows what is there")]
    NotFound { path: String },

    #[error(
        "{path:?} already exists; Tandem does not overwrite it. Pick another destination, or \
         move the existing one away first"
    )]
    AlreadyExists { path: String },

    #[error("{path:?} is a folder, not a file; list_directory shows what it holds")]
    IsADirectory { path: String },

    #[error("{path:?} is not a folder; get_file_info tells what it is")]
    NotADirectory { path: String },

    #[error("{path:?} is not a regular file ({kind}); only regular files can be read or edited")]
    NotARegularFile { path: String, kind: String },

    #[error(
        "{path:?}: too many symbolic links in a row (more than {limit}); check for a link loop"
    )]
    TooManyLinks { path: String, limit: usize },

    #[error(
        "edit {index} of {path:?}: oldText was not found. Nothing was written. Read the file \
         again and copy the text exactly, whitespace and line breaks included"
    )]
    EditNotFound { path: String, index: usize },

    #[error(
        "edit {index} of {path:?}: oldText was found {count} times. Nothing was written. Add \
         surrounding lines to oldText so it matches once, or set replaceAll to change every \
         occurrence"
    )]
    EditAmbiguous {
        path: String,
        index: usize,
        count: usize,
    },

    #[error("invalid {what} {pattern:?}: {reason}")]
    InvalidPattern {
        what: &'static str,
        pattern: String,
        reason: String,
    },

    #[error("{0}")]
    InvalidArgument(String),

    #[error("no handoff {id:?}; handoff_list shows the handoffs there are")]
    HandoffNotFound { id: String },

    #[error("no open handoff; handoff_list shows every handoff, handoff_create makes one")]
    NoOpenHandoff,

    #[error(
        "handoff {id:?} ({path}) has invalid front matter: {reason}. Nothing was written. Fix \
         the YAML between the two --- lines by hand, then retry"
    )]
    InvalidHandoff {
        id: String,
        path: String,
        reason: String,
    },

    #[error(
        "{path:?} kept changing while Tandem was updating it; nothing was written. Retry in a \
         moment"
    )]
    Contended { path: String },

    #[error(
        "handoff {id:?} was claimed by {by} at {at}; nothing was written. It is theirs until it \
         is marked done or dropped, or set open again; handoff_list shows the open ones"
    )]
    AlreadyClaimed { id: String, by: String, at: String },

    /// The team store's own error (unreachable, refused, a document that changed).
    #[error(transparent)]
    Store(#[from] crate::StoreError),

    #[error("{action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl WorkspaceError {
    /// True for the errors the jail raises: the message starts with "Access denied".
    pub fn is_access_denied(&self) -> bool {
        matches!(self, WorkspaceError::AccessDenied { .. })
    }
}

pub type WsResult<T> = std::result::Result<T, WorkspaceError>;
