//! Watches the clients' config files (their folders, not recursively) so that an entry removed
//! or changed by something else shows as "needs repair" at once, without polling.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::mpsc,
    time::Duration,
};

use notify::{EventKind, RecursiveMode, Watcher};

/// Editors and Claude Code rewrite config files in bursts: report once things settle.
const SETTLE: Duration = Duration::from_millis(200);

/// Runs until dropped.
pub struct ConfigWatcher {
    _watcher: notify::RecommendedWatcher,
    watched: BTreeSet<PathBuf>,
}

/// The folders to watch for `files`: each file's folder, or the nearest one of its ancestors
/// that exists (a client installed later creates the rest).
pub fn folders(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    files
        .iter()
        .filter_map(|file| file.ancestors().skip(1).find(|d| d.is_dir()))
        .map(Path::to_path_buf)
        .collect()
}

impl ConfigWatcher {
    /// Watches `files` (whether they exist yet or not); `on_change` runs on a thread of its
    /// own after each settled burst of changes to any of them, or to a folder on their way.
    pub fn spawn(files: &[PathBuf], on_change: impl Fn() + Send + 'static) -> notify::Result<Self> {
        let names: BTreeSet<PathBuf> = files.iter().cloned().collect();
        let (tx, rx) = mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                let relevant = |p: &PathBuf| {
                    names.contains(p) || names.iter().any(|n| n.starts_with(p) && n != p)
                };
                if event.paths.iter().any(relevant) {
                    let _ = tx.send(());
                }
            })?;
        let watched = folders(files);
        for dir in &watched {
            if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
                log::warn!("cannot watch {}: {e}", dir.display());
            }
        }
        std::thread::Builder::new()
            .name("tandem-config-watch".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    std::thread::sleep(SETTLE);
                    while rx.try_recv().is_ok() {}
                    on_change();
                }
            })
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(Self {
            _watcher: watcher,
            watched,
        })
    }

    /// The folders watched: when [`folders`] gives others now, a new watcher is due.
    pub fn watched(&self) -> &BTreeSet<PathBuf> {
        &self.watched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_to_a_watched_file_is_reported_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let watched = root.join(".claude.json");
        std::fs::write(&watched, "{}").unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = ConfigWatcher::spawn(std::slice::from_ref(&watched), move || {
            let _ = tx.send(());
        })
        .unwrap();
        std::fs::write(root.join("other.txt"), "x").unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
        // Replaced the way safe writers do it: a temp file renamed over it.
        std::fs::write(root.join(".claude.json.tmp"), "{\"mcpServers\":{}}").unwrap();
        std::fs::rename(root.join(".claude.json.tmp"), &watched).unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        std::fs::remove_file(&watched).unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn a_config_folder_that_does_not_exist_yet_is_watched_through_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join(".config/Claude/claude_desktop_config.json");
        assert_eq!(
            folders(std::slice::from_ref(&file)),
            BTreeSet::from([root.clone()])
        );
        let (tx, rx) = mpsc::channel();
        let w = ConfigWatcher::spawn(std::slice::from_ref(&file), move || {
            let _ = tx.send(());
        })
        .unwrap();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_ne!(w.watched(), &folders(std::slice::from_ref(&file)));
    }
}
