//! What the supervisor observes about its child, as the tray and the Health view show it.

use serde::Serialize;

/// Where the supervised process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Spawned, not answering yet (or being spawned).
    Starting,
    /// Running (and answering, when the child has a readiness check).
    Running,
    /// It exited; a restart is due after a delay.
    Waiting,
    /// Stopped on purpose (Quit), or never started.
    Stopped,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Waiting => "restarting",
            Phase::Stopped => "stopped",
        }
    }
}

/// A snapshot of the supervised process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildState {
    pub phase: Phase,
    pub pid: Option<u32>,
    /// Restarts since the supervisor started.
    pub restarts: u32,
    /// Exits in a row without a stable run in between (what the delay grows with).
    pub failures_in_a_row: u32,
    /// The delay before the pending (or last) restart, in milliseconds.
    pub restart_delay_ms: Option<u64>,
    /// How the last run ended, for a person ("exited with status 1", "killed by signal 9").
    pub last_exit: Option<String>,
    /// When the current phase began (RFC 3339, UTC).
    pub since: String,
}

impl ChildState {
    pub fn new() -> Self {
        Self {
            phase: Phase::Stopped,
            pid: None,
            restarts: 0,
            failures_in_a_row: 0,
            restart_delay_ms: None,
            last_exit: None,
            since: tandem_store::memory::now_rfc3339(),
        }
    }

    pub(crate) fn enter(&mut self, phase: Phase) {
        if self.phase != phase {
            self.since = tandem_store::memory::now_rfc3339();
        }
        self.phase = phase;
    }
}

impl Default for ChildState {
    fn default() -> Self {
        Self::new()
    }
}

/// How an exit status reads to a person.
pub fn describe_exit(status: &std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    "ended".to_string()
}
