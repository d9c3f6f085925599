//! The crate's one error type: every variant names the file or client involved and says what to
//! do next, because these messages reach a person (CLI, tray) or a model.

use std::path::PathBuf;

use crate::catalog::ClientId;

#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error(
        "{path} is not valid {format} (line {line}, column {column}: {reason}); Tandem changed \
         nothing. Fix the file, or run `tandem install --client {client} --dry-run` to see the \
         entry to add by hand"
    )]
    Malformed {
        client: ClientId,
        path: PathBuf,
        format: &'static str,
        line: usize,
        column: usize,
        reason: String,
    },

    #[error(
        "in {path}, `{key}` is not {expected} (line {line}, column {column}); Tandem changed \
         nothing. Fix the file, or run `tandem install --client {client} --dry-run` to see the \
         entry to add by hand"
    )]
    ServersNotContainer {
        client: ClientId,
        path: PathBuf,
        key: String,
        expected: &'static str,
        line: usize,
        column: usize,
    },

    #[error(
        "{path} kept changing while Tandem tried to update it ({attempts} attempts); nothing of \
         yours was lost. Close {} or wait a moment, then run the command again",
        client.client().name
    )]
    Contended {
        client: ClientId,
        path: PathBuf,
        attempts: usize,
    },

    #[error(
        "{path} is open in another program that does not share it (Tandem waited {waited_ms} \
         ms); nothing was changed. Close that program (an editor, a sync or backup tool), then \
         run the command again"
    )]
    HeldOpen { path: PathBuf, waited_ms: u64 },

    #[error(
        "{} cannot use {transport} servers; install a stdio entry, or bridge the HTTP \
         server with `tandem connect`",
        client.client().name
    )]
    UnsupportedTransport {
        client: ClientId,
        transport: &'static str,
    },

    #[error("{client} has no project-scoped config; install it without a project directory")]
    NoProjectScope { client: ClientId },

    #[error("{client} keeps its config in a folder that this environment does not name: {what}")]
    NoConfigLocation { client: ClientId, what: String },

    #[error("the server name {name:?} is not valid for {client}: {reason}")]
    InvalidName {
        client: ClientId,
        name: String,
        reason: String,
    },

    #[error(
        "the header {header:?} refers to ${var}, which is not set; {} cannot expand \
         variables, so Tandem needs its value now. Set {var} and run the command again",
        client.client().name
    )]
    MissingEnvVar {
        client: ClientId,
        header: String,
        var: String,
    },

    #[error("{name:?} cannot be the name of a shared server: {reason}")]
    ShareName { name: String, reason: String },

    #[error("invalid header {header:?}: {reason}")]
    ShareHeader { header: String, reason: String },

    #[error("invalid environment variable {env:?}: {reason}")]
    ShareEnv { env: String, reason: String },

    #[error(
        "Tandem's list of shared servers {path} is unreadable ({reason}); fix it or move it \
         aside, then run the command again"
    )]
    SharesFile { path: PathBuf, reason: String },

    #[error("unknown client {given:?}; valid clients are: {valid}")]
    UnknownClient { given: String, valid: String },

    #[error("Tandem's install record {path} is unreadable ({reason}); move it aside and retry")]
    State { path: PathBuf, reason: String },

    #[error(
        "Claude Code reaches Tandem through the Tandem plugin ({plugin}): an entry beside it \
         would start each server twice, so none is added (--force adds it anyway)"
    )]
    PluginInCharge { plugin: String },

    #[error("reading or writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ClientsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ClientsError> = std::result::Result<T, E>;
