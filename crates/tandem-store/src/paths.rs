//! Where Tandem keeps its state: one root (`TANDEM_HOME`, or the platform data folder) and the
//! shared workspace folder the person sees.

use std::path::{Path, PathBuf};

/// The environment variable that moves *all* Tandem state under one folder (tests set it).
pub const HOME_ENV: &str = "TANDEM_HOME";

/// Tandem's state folders, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    state: PathBuf,
    shared: PathBuf,
}

impl Home {
    /// Resolves from the process environment: `$TANDEM_HOME` when set (state and the shared
    /// folder both under it), else the platform data folder for state and `~/Tandem` for the
    /// shared folder.
    pub fn from_env() -> Self {
        match std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            Some(root) => Self::at(PathBuf::from(root)),
            None => {
                let state = dirs::data_dir()
                    .unwrap_or_else(|| std::env::temp_dir().join("tandem-state"))
                    .join("Tandem");
                let shared = dirs::home_dir()
                    .unwrap_or_else(|| state.clone())
                    .join("Tandem");
                Self { state, shared }
            }
        }
    }

    /// Everything under one root, as `TANDEM_HOME` does.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let state = root.into();
        let shared = state.join("shared");
        Self { state, shared }
    }

    /// The state root (`memory.db`, `logs/`, `backups/`, `hub.token` live here).
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// The shared workspace folder (plans and handoffs).
    pub fn shared_dir(&self) -> &Path {
        &self.shared
    }

    pub fn memory_db(&self) -> PathBuf {
        self.state.join("memory.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.state.join("logs")
    }

    pub fn backups_dir(&self) -> PathBuf {
        self.state.join("backups")
    }

    pub fn hub_token(&self) -> PathBuf {
        self.state.join("hub.token")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_lives_under_an_explicit_root() {
        let home = Home::at("/tmp/t");
        assert_eq!(home.memory_db(), Path::new("/tmp/t/memory.db"));
        assert_eq!(home.shared_dir(), Path::new("/tmp/t/shared"));
        assert_eq!(home.logs_dir(), Path::new("/tmp/t/logs"));
        assert_eq!(home.backups_dir(), Path::new("/tmp/t/backups"));
        assert_eq!(home.hub_token(), Path::new("/tmp/t/hub.token"));
    }
}
