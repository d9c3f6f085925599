//! The seam for doctor probes (not implemented here yet): each Tandem entry found by
//! [`Installer::probe_targets`] is to be started exactly as its client would start it (the
//! command, arguments and env from the client's file, in the trimmed environment that client
//! gives servers), driven through `initialize` + `tools/list`, and reported with latency and
//! the server's stderr. The implementation lives with the MCP client code; this crate only
//! finds what to probe and defines the report.

use std::{path::PathBuf, time::Duration};

use crate::{
    catalog::{ClientId, Scope},
    entry::ServerEntry,
    error::Result,
    install::Installer,
};

/// One installed entry to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub client: ClientId,
    pub config_path: PathBuf,
    pub name: String,
    pub entry: ServerEntry,
}

/// The result of probing one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub passed: bool,
    pub latency: Duration,
    /// What failed, and what to do about it, for a person.
    pub detail: String,
    pub stderr_tail: String,
}

/// Starts an entry and checks it answers; implemented where an MCP client is at hand.
pub trait Probe {
    fn probe(&self, target: &ProbeTarget) -> ProbeReport;
}

impl Installer {
    /// Every Tandem entry (ours, readable) in a client's config files.
    pub fn probe_targets(&self, id: ClientId, scope: &Scope) -> Result<Vec<ProbeTarget>> {
        let status = self.status(id, scope, None)?;
        Ok(status
            .files
            .into_iter()
            .flat_map(|f| {
                let path = f.path;
                f.entries
                    .into_iter()
                    .filter(|e| e.ours)
                    .filter_map(move |e| {
                        Some(ProbeTarget {
                            client: id,
                            config_path: path.clone(),
                            name: e.name,
                            entry: e.entry?,
                        })
                    })
            })
            .collect())
    }
}
