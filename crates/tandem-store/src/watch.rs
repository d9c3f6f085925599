//! Notices commits to the memory database made by *any* process, without polling: a file
//! watcher on the database's folder wakes a thread that reads the change log from the last
//! sequence number it saw.

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
