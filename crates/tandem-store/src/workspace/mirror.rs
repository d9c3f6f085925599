//! The shared folder as a read-only mirror of the team's workspace. In team mode the team's
//! documents are the source of truth; the folder on this computer is kept like them so a
//! person can open it in an editor: documents written appear, changed ones change, deleted
//! ones go, and every mirrored file is read-only. Nothing here is ever sent back, so there is
//! nothing to merge — but a file found edited by hand is never overwritten or deleted
//! silently: it is kept beside under a name that says so, and the report names it.
//!
//! What the mirror wrote is recorded in `.tandem-mirror.json` in the folder (each path's
//! version and the SHA-256 of what was written, and the feed cursor), which is how a hand edit
//! is told from a file the mirror wrote.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    Workspace,
    error::{WorkspaceError, WsResult},
    jail::FinalLink,
    team::{DocChange, MAX_PAGE, TeamDocs},
};

/// The mirror's record, in the folder.
pub const MANIFEST: &str = ".tandem-mirror.json";

/// What the folder's README says in team mode, unless the team has a README of its own.
pub const MIRROR_README: &str = "# Tandem shared folder (a mirror of your team's workspace)\n\n\
This folder shows your team's plans, notes and handoffs as they are on the team store. It is \
read-only: Tandem keeps it up to date, and changes made here are not sent anywhere.\n\n\
To change a file, ask Claude (Desktop or Code) to do it, use the Tandem window, or run \
`tandem workspace put FILE`, which writes it to the team and says if someone changed it \
meanwhile. A file edited here by hand is kept beside the team's version, with \
\"(edited here)\" in its name.\n";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// The workspace feed's cursor: every change up to it is in the folder.
    cursor: i64,
    /// Each mirrored path: the version written and the SHA-256 (hex) of its bytes.
    files: BTreeMap<String, Mirrored>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mirrored {
    version: i64,
    sha256: String,
}

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MirrorReport {
    pub written: usize,
    pub removed: usize,
    /// Files found edited by hand: (the path, the name they were kept under).
    pub kept: Vec<(String, String)>,
}

/// Keeps a folder like the team's workspace.
pub struct Mirror {
    docs: Arc<TeamDocs>,
    ws: Workspace,
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Mirror {
    /// The mirror of `docs` in the folder `root` (created when missing).
    pub fn open(docs: Arc<TeamDocs>, root: &Path) -> WsResult<Self> {
        std::fs::create_dir_all(root).map_err(|source| WorkspaceError::Io {
            action: "creating the mirror",
            path: root.display().to_string(),
            source,
        })?;
        let ws = Workspace::open_existing(root)?;
        Ok(Self { docs, ws })
    }

    pub fn root(&self) -> &Path {
        self.ws.root()
    }

    /// Makes the whole folder like the team's workspace now: every document written where it
    /// differs, every file the mirror wrote that the team no longer has removed.
    pub fn sync(&self) -> WsResult<MirrorReport> {
        let mut manifest = self.load();
        // Taken first: whatever commits while the folder is walked is applied again after.
        let cursor = self.docs.last_seq()?;
        let mut report = MirrorReport::default();
        let mut seen = std::collections::BTreeSet::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.docs.list("", after.as_deref(), MAX_PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some(last.path.clone());
            for doc in &page {
                seen.insert(doc.path.clone());
                let same = manifest
                    .files
                    .get(&doc.path)
                    .is_some_and(|m| m.version == doc.version && self.holds(&doc.path, &m.sha256));
                if !same {
                    self.refresh(&doc.path, &mut manifest, &mut report)?;
                }
            }
        }
        let gone: Vec<String> = manifest
            .files
            .keys()
            .filter(|p| !seen.contains(*p))
            .cloned()
            .collect();
        for path in gone {
            self.remove(&path, &mut manifest, &mut report)?;
        }
        self.readme(&seen)?;
        manifest.cursor = manifest.cursor.max(cursor);
        self.save(&manifest)?;
        Ok(report)
    }

    /// Applies changes from the workspace's feed (in order; a path changed several times is
    /// written once, as it is now).
    pub fn apply(&self, changes: &[DocChange]) -> WsResult<MirrorReport> {
        let mut manifest = self.load();
        let mut report = MirrorReport::default();
        let paths: std::collections::BTreeSet<&str> =
            changes.iter().map(|c| c.path.as_str()).collect();
        for path in paths {
            self.refresh(path, &mut manifest, &mut report)?;
        }
        if let Some(last) = changes.iter().map(|c| c.seq).max() {
            manifest.cursor = manifest.cursor.max(last);
        }
        self.save(&manifest)?;
        Ok(report)
    }

    /// The feed cursor the folder is current to.
    pub fn cursor(&self) -> i64 {
        self.load().cursor
    }

    /// Writes `path` as the team has it now, or removes it when the team has none.
    fn refresh(
        &self,
        path: &str,
        manifest: &mut Manifest,
        report: &mut MirrorReport,
    ) -> WsResult<()> {
        match self.docs.get(path)? {
            Some(doc) => {
                if manifest
                    .files
                    .get(path)
                    .is_some_and(|m| m.version == doc.version && self.holds(path, &m.sha256))
                {
                    return Ok(());
                }
                self.keep_if_edited(path, manifest, report, Some(doc.text.as_bytes()))?;
                self.set_writable(path, true);
                self.ws.write_file(path, &doc.text)?;
                self.set_writable(path, false);
                manifest.files.insert(
                    path.to_string(),
                    Mirrored {
                        version: doc.version,
                        sha256: sha256(doc.text.as_bytes()),
                    },
                );
                report.written += 1;
                Ok(())
            }
            None => self.remove(path, manifest, report),
        }
    }

    fn remove(
        &self,
        path: &str,
        manifest: &mut Manifest,
        report: &mut MirrorReport,
    ) -> WsResult<()> {
        if self.keep_if_edited(path, manifest, report, None)? {
            manifest.files.remove(path);
            return Ok(());
        }
        if self.read(path).is_some() {
            self.set_writable(path, true);
            let r = self.ws.jail().resolve(path, FinalLink::Keep)?;
            self.ws
                .jail()
                .dir()
                .remove_file(r.cap_path())
                .map_err(|e| self.ws.jail().io_error("removing", path, e))?;
            report.removed += 1;
        }
        manifest.files.remove(path);
        Ok(())
    }

    /// A file at `path` that the mirror did not write as it is now (edited by hand, or there
    /// before the mirror) is moved aside to `NAME (edited here).EXT` (or `… 2`, …). True when
    /// it was. A file that already holds `wanted` is left.
    fn keep_if_edited(
        &self,
        path: &str,
        manifest: &Manifest,
        report: &mut MirrorReport,
        wanted: Option<&[u8]>,
    ) -> WsResult<bool> {
        let Some(bytes) = self.read(path) else {
            return Ok(false);
        };
        let ours = manifest
            .files
            .get(path)
            .is_some_and(|m| m.sha256 == sha256(&bytes));
        if ours || wanted == Some(bytes.as_slice()) {
            return Ok(false);
        }
        let (stem, ext) = match path.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.contains('/') => {
                (stem, format!(".{ext}"))
            }
            _ => (path, String::new()),
        };
        let kept = (1..)
            .map(|n| match n {
                1 => format!("{stem} (edited here){ext}"),
                n => format!("{stem} (edited here {n}){ext}"),
            })
            .find(|name| self.read(name).is_none())
            .unwrap_or_default();
        self.set_writable(path, true);
        let from = self.ws.jail().resolve(path, FinalLink::Keep)?;
        let to = self.ws.jail().resolve(&kept, FinalLink::Keep)?;
        let dir = self.ws.jail().dir();
        dir.rename(from.cap_path(), dir, to.cap_path())
            .map_err(|e| self.ws.jail().io_error("keeping the edited", path, e))?;
        tracing::warn!(path, kept = %kept, "a mirrored file was edited by hand: kept beside");
        report.kept.push((path.to_string(), kept));
        Ok(true)
    }

    /// The folder's README says what the folder is, unless the team has one of its own.
    fn readme(&self, team_paths: &std::collections::BTreeSet<String>) -> WsResult<()> {
        if team_paths.contains("README.md") {
            return Ok(());
        }
        if self.read("README.md").as_deref() != Some(MIRROR_README.as_bytes()) {
            self.set_writable("README.md", true);
            self.ws.write_file("README.md", MIRROR_README)?;
            self.set_writable("README.md", false);
        }
        Ok(())
    }

    fn holds(&self, path: &str, sha: &str) -> bool {
        self.read(path).is_some_and(|b| sha256(&b) == sha)
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let r = self.ws.jail().resolve(path, FinalLink::Keep).ok()?;
        if !r.metadata().is_some_and(|m| m.is_file()) {
            return None;
        }
        self.ws.jail().dir().read(r.cap_path()).ok()
    }

    fn set_writable(&self, path: &str, writable: bool) {
        let Ok(r) = self.ws.jail().resolve(path, FinalLink::Keep) else {
            return;
        };
        let Some(meta) = r.metadata().filter(|m| m.is_file()) else {
            return;
        };
        let mut perms = meta.permissions();
        #[cfg(unix)]
        {
            use cap_std::fs::PermissionsExt as _;
            perms.set_mode(if writable { 0o644 } else { 0o444 });
        }
        #[cfg(not(unix))]
        perms.set_readonly(!writable);
        let _ = self.ws.jail().dir().set_permissions(r.cap_path(), perms);
    }

    fn load(&self) -> Manifest {
        self.read(MANIFEST)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, manifest: &Manifest) -> WsResult<()> {
        let text = serde_json::to_string_pretty(manifest)
            .map_err(|e| WorkspaceError::InvalidArgument(e.to_string()))?;
        self.ws.write_file(MANIFEST, &text).map(|_| ())
    }
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
