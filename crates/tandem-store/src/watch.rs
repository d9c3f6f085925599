//! Noticing changes made by *any* process, without polling: commits to the memory database
//! (a file watcher on its folder wakes a thread that reads the change log from the last
//! sequence number it saw) and files changed in the shared folder.

use std::{
    path::PathBuf,
    sync::{Arc, mpsc},
    time::Duration,
};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::{
    Result, StoreError,
    memory::{Change, MemoryStore},
};

/// Commits that land within this window are reported together.
const SETTLE: Duration = Duration::from_millis(20);

/// Runs until dropped; calls `on_change` with each batch of new changes, in commit order.
pub struct ChangeWatcher {
    _watcher: notify::RecommendedWatcher,
    poke: mpsc::Sender<()>,
}

impl ChangeWatcher {
    pub fn spawn(
        store: Arc<MemoryStore>,
        on_change: impl Fn(Vec<Change>) + Send + 'static,
    ) -> Result<Self> {
        let db = store.path().to_path_buf();
        let dir = db
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let file_name = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (tx, rx) = mpsc::channel::<()>();
        let events = tx.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                let ours = event.paths.iter().any(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&file_name))
                });
                if ours {
                    let _ = events.send(());
                }
            })
            .map_err(|e| watch_error(&dir, e))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| watch_error(&dir, e))?;
        let mut last = store.last_seq()?;
        std::thread::Builder::new()
            .name("tandem-memory-watch".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    std::thread::sleep(SETTLE);
                    while rx.try_recv().is_ok() {}
                    loop {
                        match store.changes(Some(last), None) {
                            Ok(page) => {
                                last = page.cursor;
                                if !page.changes.is_empty() {
                                    on_change(page.changes);
                                }
                                if !page.more {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::warn!("reading the change log: {e}");
                                break;
                            }
                        }
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                path: dir.clone(),
                source,
            })?;
        Ok(Self {
            _watcher: watcher,
            poke: tx,
        })
    }

    /// Checks for new changes now (after a write in this process, to skip the watcher's
    /// latency).
    pub fn poke(&self) {
        let _ = self.poke.send(());
    }
}

fn watch_error(dir: &std::path::Path, e: notify::Error) -> StoreError {
    StoreError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Changes under a folder arrive in bursts (an editor saves, a tool writes a temp file then
/// renames it): events within this window are reported together.
const FOLDER_SETTLE: Duration = Duration::from_millis(100);

/// Watches a folder tree and reports the paths that changed (created, written, renamed or
/// removed), debounced, whoever changed them. Hidden files (such as Tandem's own temporary
/// files) are not reported. Runs until dropped.
pub struct FolderWatcher {
    _watcher: notify::RecommendedWatcher,
}

impl FolderWatcher {
    pub fn spawn(
        root: &std::path::Path,
        on_change: impl Fn(Vec<PathBuf>) + Send + 'static,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                let paths: Vec<PathBuf> =
                    event.paths.into_iter().filter(|p| !is_hidden(p)).collect();
                if !paths.is_empty() {
                    let _ = tx.send(paths);
                }
            })
            .map_err(|e| watch_error(root, e))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| watch_error(root, e))?;
        std::thread::Builder::new()
            .name("tandem-folder-watch".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut paths = first;
                    let deadline = std::time::Instant::now() + FOLDER_SETTLE;
                    while let Some(left) =
                        deadline.checked_duration_since(std::time::Instant::now())
                    {
                        match rx.recv_timeout(left) {
                            Ok(more) => paths.extend(more),
                            Err(mpsc::RecvTimeoutError::Timeout) => break,
                            Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    paths.sort();
                    paths.dedup();
                    on_change(paths);
                }
            })
            .map_err(|source| StoreError::Io {
                path: root.to_path_buf(),
                source,
            })?;
        Ok(Self { _watcher: watcher })
    }
}

fn is_hidden(path: &std::path::Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_changes_are_reported_once_settled_and_hidden_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = FolderWatcher::spawn(&root, move |paths| {
            let _ = tx.send(paths);
        })
        .unwrap();
        std::fs::write(root.join("sub/a.md"), "x").unwrap();
        std::fs::write(root.join(".hidden.tmp"), "x").unwrap();
        let mut seen = Vec::new();
        while let Ok(paths) = rx.recv_timeout(Duration::from_secs(5)) {
            seen.extend(paths);
            if seen.iter().any(|p: &PathBuf| p.ends_with("sub/a.md")) {
                break;
            }
        }
        assert!(seen.iter().any(|p| p.ends_with("sub/a.md")), "{seen:?}");
        assert!(!seen.iter().any(|p| p.ends_with(".hidden.tmp")), "{seen:?}");
    }
}
