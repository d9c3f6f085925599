//! Doctor probes: each Tandem entry found by [`Installer::probe_targets`] is started exactly as
//! its client would start it — the command, arguments and env from the client's file, in the
//! environment that client gives servers (Claude Desktop's is trimmed, not the shell's) — then
//! driven through `initialize` + `tools/list` and reported with latency, the server's stderr
//! and, for Claude Desktop, the tail of its log of that server.

mod child;
mod environment;

pub use child::{ChildProbe, hub_running};
pub use environment::{desktop_log_tail, gui_path, server_environment};

use std::{path::PathBuf, time::Duration};

use crate::{
    catalog::{ClientId, Scope},
    entry::ServerEntry,
    error::Result,
    install::Installer,
};

/// How long a server gets to answer `initialize` and `tools/list`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Most bytes of a server's stderr (or log) kept in a report: the end, where the reason is.
const TAIL_BYTES: usize = 2000;
const LOG_TAIL_LINES: usize = 20;

/// One installed entry to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub client: ClientId,
    pub config_path: PathBuf,
    pub name: String,
    pub entry: ServerEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeOutcome {
    Passed,
    Failed,
    /// Not checked (an HTTP entry: the hub's own check covers it).
    Skipped,
}

impl ProbeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Passed => "passed",
            ProbeOutcome::Failed => "failed",
            ProbeOutcome::Skipped => "skipped",
        }
    }
}

/// The result of probing one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub outcome: ProbeOutcome,
    /// From starting the process to the `tools/list` answer (or to the failure).
    pub latency: Duration,
    /// What happened, for a person.
    pub detail: String,
    /// What to do about a failure, in words.
    pub fix: Option<String>,
    /// `serverInfo` name and version from `initialize`.
    pub server: Option<String>,
    pub tools: Vec<String>,
    /// The end of what the server wrote to stderr.
    pub stderr_tail: String,
    /// Claude Desktop only: the end of its `mcp-server-NAME.log`, when there is one.
    pub log_tail: Option<String>,
}

impl ProbeReport {
    pub fn passed(&self) -> bool {
        self.outcome == ProbeOutcome::Passed
    }

    fn failed(latency: Duration, detail: String, fix: String) -> Self {
        Self {
            outcome: ProbeOutcome::Failed,
            latency,
            detail,
            fix: Some(fix),
            server: None,
            tools: Vec::new(),
            stderr_tail: String::new(),
            log_tail: None,
        }
    }
}

/// Starts an entry and checks it answers.
pub trait Probe {
    fn probe(&self, target: &ProbeTarget) -> ProbeReport;

    /// Every target, reports in the targets' order (one after the other unless the probe
    /// runs them at once, as [`ChildProbe`] does).
    fn probe_each(&self, targets: &[ProbeTarget]) -> Vec<ProbeReport> {
        targets.iter().map(|t| self.probe(t)).collect()
    }
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
                // Tandem's own servers only: shared third-party servers are the person's to
                // run (they may be remote, or need secrets the doctor should not use).
                f.entries
                    .into_iter()
                    .filter(|e| e.ours && e.name.starts_with("tandem-"))
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
