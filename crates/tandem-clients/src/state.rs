//! Tandem's record of what it changed in each config file (`$TANDEM_HOME/installs.json`):
//! whether it created the file or the servers container, and a fingerprint of each entry it
//! wrote. Uninstall needs this to give back the original bytes; nothing of it goes into the
//! clients' own files.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tandem_store::Home;

use crate::{
    error::{ClientsError, Result},
    writer,
};

const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileRecord {
    pub client: String,
    #[serde(default)]
    pub created_file: bool,
    #[serde(default)]
    pub created_container: bool,
    /// Tandem created `hooks.SessionStart` in Claude Code's settings (for hooks the container
    /// above is `hooks`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_hook_list: bool,
    /// The file had no final newline before Tandem appended a TOML table after its end.
    #[serde(default)]
    pub added_final_newline: bool,
    /// Entry name → fingerprint of the value Tandem wrote.
    #[serde(default)]
    pub entries: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    #[serde(default)]
    files: BTreeMap<String, FileRecord>,
}

/// The install record, read and written as a whole (it is small).
#[derive(Debug, Clone)]
pub(crate) struct InstallState {
    path: PathBuf,
}

impl InstallState {
    pub fn new(home: &Home) -> Self {
        Self {
            path: home.installs_file(),
        }
    }

    fn key(config: &Path) -> String {
        config.to_string_lossy().into_owned()
    }

    fn load(&self) -> Result<(Option<Vec<u8>>, StateFile)> {
        let bytes = writer::read(&self.path)?;
        let state = match &bytes {
            None => StateFile {
                version: VERSION,
                files: BTreeMap::new(),
            },
            Some(b) => serde_json::from_slice(b).map_err(|e| ClientsError::State {
                path: self.path.clone(),
                reason: e.to_string(),
            })?,
        };
        Ok((bytes, state))
    }

    pub fn record(&self, config: &Path) -> Result<Option<FileRecord>> {
        Ok(self.load()?.1.files.get(&Self::key(config)).cloned())
    }

    /// Changes one file's record (`None` removes it), retrying if another Tandem process
    /// changed the record meanwhile.
    pub fn update(
        &self,
        config: &Path,
        change: impl Fn(Option<FileRecord>) -> Option<FileRecord>,
    ) -> Result<()> {
        for _ in 0..20 {
            let (before, mut state) = self.load()?;
            let key = Self::key(config);
            if let Some(record) = change(state.files.remove(&key)) {
                state.files.insert(key, record);
            }
            state.version = VERSION;
            let mut bytes = serde_json::to_vec_pretty(&state).map_err(|e| ClientsError::State {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
            bytes.push(b'\n');
            if before.as_deref() == Some(&bytes[..]) {
                return Ok(());
            }
            match writer::swap(&self.path, before.as_deref(), Some(&bytes), None, |_| true)? {
                writer::Swap::Done { .. } => return Ok(()),
                writer::Swap::Changed | writer::Swap::Overwritten { .. } => continue,
            }
        }
        Err(ClientsError::State {
            path: self.path.clone(),
            reason: "it kept changing while Tandem updated it".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let state = InstallState::new(&Home::at(dir.path()));
        let cfg = Path::new("/home/a/.cursor/mcp.json");
        assert_eq!(state.record(cfg).unwrap(), None);
        state
            .update(cfg, |_| {
                Some(FileRecord {
                    client: "cursor".into(),
                    created_container: true,
                    ..FileRecord::default()
                })
            })
            .unwrap();
        assert!(state.record(cfg).unwrap().unwrap().created_container);
        state.update(cfg, |_| None).unwrap();
        assert_eq!(state.record(cfg).unwrap(), None);
    }

    #[test]
    fn an_unreadable_record_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Home::at(dir.path()).installs_file(), "{oops").unwrap();
        let state = InstallState::new(&Home::at(dir.path()));
        assert!(matches!(
            state.record(Path::new("/x")),
            Err(ClientsError::State { .. })
        ));
    }
}
