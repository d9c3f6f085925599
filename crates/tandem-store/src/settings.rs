//! The settings a person saves once and every Tandem process reads: `settings.json` in the
//! state folder (where the shared folder is; which notices were dismissed). GUI apps on macOS
//! and Windows never see shell variables, so a saved file, not a variable, is what servers
//! started by clients, the hub, hooks and probes all agree on.

use std::{
    collections::BTreeSet,
    io::Write as _,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// The file's name in the state folder.
pub const FILE: &str = "settings.json";

/// What `settings.json` holds. Keys this version does not know (written by a newer Tandem)
/// are kept when it saves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The shared folder, when the person moved it from the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_folder: Option<PathBuf>,
    /// Folders left over from an earlier layout whose notice the person dismissed.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dismissed_leftovers: BTreeSet<PathBuf>,
    /// The team this computer joined (`tandem team join`), whose store every process uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamSetting>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Where a joined team's store is. The URL is saved without its password: that is in the
/// state folder's `team-password`, readable by this user only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamSetting {
    pub url: String,
    pub team: String,
}

impl Settings {
    /// The settings at `path`; the defaults when the file does not exist. A file that is not
    /// valid settings is an error and is left as it is.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let settings: Self = serde_json::from_slice(&bytes).map_err(|e| StoreError::Settings {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if let Some(dir) = &settings.shared_folder
            && !dir.is_absolute()
        {
            return Err(StoreError::Settings {
                path: path.to_path_buf(),
                reason: format!("sharedFolder {} is not an absolute path", dir.display()),
            });
        }
        Ok(settings)
    }

    /// Replaces the file atomically (a reader sees the old settings or the new, never half).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| StoreError::Settings {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        replace(path, &bytes, false)
    }
}

/// Replaces `path` with `text` atomically, readable and writable by this user only (mode
/// 0600 on Unix; on Windows the state folder is in the user's own profile).
pub fn save_private(path: &Path, text: &str) -> Result<()> {
    replace(path, text.as_bytes(), true)
}

/// Writes `bytes` to a temporary file beside `path` (only this user's, when `private`), then
/// renames it over `path`: a reader sees the old contents or the new, never half.
fn replace(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_the_defaults_and_unknown_keys_survive_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        assert_eq!(Settings::load(&path).unwrap(), Settings::default());
        std::fs::write(
            &path,
            r#"{"sharedFolder": "/srv/plans", "later": {"url": "x"}}"#,
        )
        .unwrap();
        let mut s = Settings::load(&path).unwrap();
        assert_eq!(s.shared_folder.as_deref(), Some(Path::new("/srv/plans")));
        s.dismissed_leftovers.insert(PathBuf::from("/old"));
        s.save(&path).unwrap();
        let again: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(again["later"]["url"], "x");
        assert_eq!(again["dismissedLeftovers"][0], "/old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_malformed_file_is_an_error_and_stays_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        for bad in [
            &b"{\"sharedFolder\": "[..],
            b"{\"sharedFolder\": \"relative/dir\"}",
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = Settings::load(&path).unwrap_err().to_string();
            assert!(err.contains("settings.json"), "{err}");
            assert!(err.contains("changed nothing"), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), bad);
        }
    }
}
