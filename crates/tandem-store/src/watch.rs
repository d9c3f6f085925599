//! Noticing changes made by *any* process, without polling: commits to the memory database
//! (a file watcher on its folder, or the team store's doorbell, wakes a thread that reads the
//! change log from the last sequence number it saw) and files changed in the shared folder.

use std::{
    path::PathBuf,
    sync::{Arc, mpsc},
    time::Duration,
};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::{
    Result, StoreError,
    memory::{Change, MemoryStore, team::TeamListener},
    workspace::team::{DocChange, TeamDocs},
};

/// Commits that land within this window are reported together.
const SETTLE: Duration = Duration::from_millis(20);

/// Runs until dropped; calls `on_change` with each batch of new changes, in commit order.
pub struct ChangeWatcher {
    /// The file watcher, for the SQLite file (the team store's thread listens instead).
    _watcher: Option<notify::RecommendedWatcher>,
    poke: mpsc::Sender<()>,
}

impl ChangeWatcher {
    pub fn spawn(
        store: Arc<MemoryStore>,
        on_change: impl Fn(Vec<Change>) + Send + 'static,
    ) -> Result<Self> {
        let Some(db) = store.path().map(|p| p.to_path_buf()) else {
            return Self::spawn_team(store, on_change);
        };
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
        // The thread must not keep the store open: when its owners drop it, its connections
        // close, and the last one to close checkpoints and removes the WAL, so that the next
        // process to open the database does not have to replay it.
        let store = Arc::downgrade(&store);
        std::thread::Builder::new()
            .name("tandem-memory-watch".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    std::thread::sleep(SETTLE);
                    while rx.try_recv().is_ok() {}
                    let Some(store) = store.upgrade() else { return };
                    let _ = catch_up(
                        |since| {
                            store
                                .changes(Some(since), None)
                                .map(|p| (p.changes, p.cursor, p.more))
                        },
                        &mut last,
                        &on_change,
                    );
                }
            })
            .map_err(|source| StoreError::Io {
                path: dir.clone(),
                source,
            })?;
        Ok(Self {
            _watcher: Some(watcher),
            poke: tx,
        })
    }

    /// The team store rings a doorbell at every commit (LISTEN/NOTIFY, see
    /// [`crate::memory::team::TeamListener`]): a thread listens on a connection of its own
    /// and reads the feed from its cursor when it rings, and after every (re)connect, since
    /// nothing is replayed to a connection that was not listening. A connection that breaks
    /// is made again every second until the store is dropped.
    fn spawn_team(
        store: Arc<MemoryStore>,
        on_change: impl Fn(Vec<Change>) + Send + 'static,
    ) -> Result<Self> {
        let Some(team) = store.team() else {
            unreachable!("a store without a file is a team store")
        };
        let listener = team.listen()?;
        let last = store.last_seq()?;
        let poke = spawn_bell(
            "tandem-team-watch",
            Arc::downgrade(&store),
            listener,
            last,
            |store: &MemoryStore| match store.team() {
                Some(team) => team.listen(),
                None => unreachable!("a team store stays one"),
            },
            |bell, since| bell.changes(since).map(|p| (p.changes, p.cursor, p.more)),
            on_change,
        )?;
        Ok(Self {
            _watcher: None,
            poke,
        })
    }

    /// Checks for new changes now (after a write in this process, to skip the watcher's
    /// latency).
    pub fn poke(&self) {
        let _ = self.poke.send(());
    }
}

/// How long the team watcher waits for its doorbell before it looks whether the store is
/// still wanted (and for pokes).
const BELL_WAIT: Duration = Duration::from_millis(200);
/// How often a doorbell that broke is tried again.
const RELISTEN: Duration = Duration::from_secs(1);

/// Reads a feed after `last` page by page (`read` gives a page's items, its cursor and whether
/// more wait), hands each page to `on_change` and moves `last`.
fn catch_up<C>(
    mut read: impl FnMut(i64) -> Result<(Vec<C>, i64, bool)>,
    last: &mut i64,
    on_change: &impl Fn(Vec<C>),
) -> Result<()> {
    loop {
        match read(*last) {
            Ok((items, cursor, more)) => {
                *last = cursor;
                if !items.is_empty() {
                    on_change(items);
                }
                if !more {
                    return Ok(());
                }
            }
            Err(e) => {
                tracing::warn!("reading the change log: {e}");
                return Err(e);
            }
        }
    }
}

/// A thread that listens to a team store's doorbell (LISTEN/NOTIFY, see [`TeamListener`])
/// and reads its feed from `last` on the listener's own connection when it rings, when poked
/// (the returned sender), and after every (re)connect — nothing is replayed to a connection
/// that was not listening. A broken connection is made again every second (`listen`) until
/// `owner` is dropped.
fn spawn_bell<O: Send + Sync + 'static, C: 'static>(
    name: &str,
    owner: std::sync::Weak<O>,
    listener: TeamListener,
    mut last: i64,
    listen: impl Fn(&O) -> Result<TeamListener> + Send + 'static,
    read: impl Fn(&mut TeamListener, i64) -> Result<(Vec<C>, i64, bool)> + Send + 'static,
    on_change: impl Fn(Vec<C>) + Send + 'static,
) -> Result<mpsc::Sender<()>> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut listener = Some(listener);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut down = false;
            loop {
                let Some(owner) = owner.upgrade() else { return };
                let Some(bell) = listener.as_mut() else {
                    match listen(&owner) {
                        Ok(mut l) => {
                            tracing::info!("listening to the team store again");
                            down = false;
                            // What was committed while nobody listened.
                            if catch_up(|since| read(&mut l, since), &mut last, &on_change).is_ok()
                            {
                                listener = Some(l);
                            }
                        }
                        Err(e) => {
                            if !down {
                                tracing::warn!("the team store's doorbell: {e}");
                                down = true;
                            }
                            drop(owner);
                            let _ = rx.recv_timeout(RELISTEN);
                        }
                    }
                    continue;
                };
                drop(owner);
                let rang = match bell.wait(BELL_WAIT) {
                    Ok(rang) => rang.is_some_and(|n| n > last),
                    Err(e) => {
                        tracing::warn!("the team store's doorbell stopped: {e}");
                        listener = None;
                        continue;
                    }
                };
                let poked = rx.try_iter().count() > 0;
                if (rang || poked)
                    && catch_up(|since| read(bell, since), &mut last, &on_change).is_err()
                {
                    listener = None;
                }
            }
        })
        .map_err(|source| StoreError::Io {
            path: "team store".into(),
            source,
        })?;
    Ok(tx)
}

/// Runs until dropped; calls `on_change` with each batch of new changes to the team's
/// workspace, in commit order (see [`spawn_bell`]).
pub struct DocWatcher {
    poke: mpsc::Sender<()>,
}

impl DocWatcher {
    pub fn spawn(
        docs: Arc<TeamDocs>,
        on_change: impl Fn(Vec<DocChange>) + Send + 'static,
    ) -> Result<Self> {
        let listener = docs.listen()?;
        let last = docs.last_seq()?;
        let poke = spawn_bell(
            "tandem-docs-watch",
            Arc::downgrade(&docs),
            listener,
            last,
            |docs: &TeamDocs| docs.listen(),
            |bell, since| {
                crate::workspace::team::read_listened(bell, since)
                    .map(|p| (p.changes, p.cursor, p.more))
            },
            on_change,
        )?;
        Ok(Self { poke })
    }

    /// Checks for new changes now.
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
///
/// On Linux it drives inotify itself: the general-purpose watcher also asks for an event on
/// every *open*, so every read and every folder walk in the tree — the server's own included —
/// would wake it.
pub struct FolderWatcher {
    #[cfg(target_os = "linux")]
    _inner: linux::Watcher,
    #[cfg(not(target_os = "linux"))]
    _watcher: notify::RecommendedWatcher,
}

impl FolderWatcher {
    pub fn spawn(
        root: &std::path::Path,
        on_change: impl Fn(Vec<PathBuf>) + Send + 'static,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
        #[cfg(target_os = "linux")]
        let inner = linux::Watcher::spawn(root, tx).map_err(|source| StoreError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        #[cfg(not(target_os = "linux"))]
        let watcher = {
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
            watcher
        };
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
        Ok(Self {
            #[cfg(target_os = "linux")]
            _inner: inner,
            #[cfg(not(target_os = "linux"))]
            _watcher: watcher,
        })
    }
}

#[cfg(target_os = "linux")]
mod linux {
    //! A recursive inotify watch that asks only for changes: no open or access events.

    use std::{
        collections::HashMap,
        io,
        path::{Path, PathBuf},
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
            mpsc,
        },
    };

    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask, Watches};

    use super::is_hidden;

    fn mask() -> WatchMask {
        WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MODIFY
            | WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_FROM
            | WatchMask::MOVED_TO
            | WatchMask::ATTRIB
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF
            | WatchMask::ONLYDIR
            | WatchMask::DONT_FOLLOW
    }

    pub struct Watcher {
        stop: Arc<AtomicBool>,
        watches: Watches,
        root: WatchDescriptor,
    }

    impl Drop for Watcher {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Removing a watch queues an event, which wakes the reader so it can see `stop`.
            let _ = self.watches.remove(self.root.clone());
        }
    }

    impl Watcher {
        pub fn spawn(root: &Path, out: mpsc::Sender<Vec<PathBuf>>) -> io::Result<Self> {
            let mut inotify = Inotify::init()?;
            let mut watches = inotify.watches();
            let mut dirs = HashMap::new();
            let root_wd = watches.add(root, mask())?;
            dirs.insert(root_wd.clone(), root.to_path_buf());
            add_tree(&mut watches, root, &mut dirs, &mut Vec::new());
            let stop = Arc::new(AtomicBool::new(false));
            let stopped = stop.clone();
            let mut reader_watches = inotify.watches();
            std::thread::Builder::new()
                .name("tandem-inotify".into())
                .spawn(move || {
                    let mut buffer = vec![0u8; 16 * 1024];
                    loop {
                        let events = match inotify.read_events_blocking(&mut buffer) {
                            Ok(events) => events,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(_) => return,
                        };
                        if stopped.load(Ordering::SeqCst) {
                            return;
                        }
                        let mut changed = Vec::new();
                        let mut new_dirs = Vec::new();
                        for event in events {
                            if event.mask.contains(EventMask::IGNORED) {
                                dirs.remove(&event.wd);
                                continue;
                            }
                            let Some(dir) = dirs.get(&event.wd) else {
                                continue;
                            };
                            let path = match event.name {
                                Some(name) => dir.join(name),
                                None => dir.clone(),
                            };
                            if event.mask.contains(EventMask::ISDIR)
                                && event
                                    .mask
                                    .intersects(EventMask::CREATE | EventMask::MOVED_TO)
                            {
                                new_dirs.push(path.clone());
                            }
                            if !is_hidden(&path) {
                                changed.push(path);
                            }
                        }
                        // A new folder may have filled up before its watch was in place: watch it
                        // and report what it already holds.
                        for dir in new_dirs {
                            if let Ok(wd) = reader_watches.add(&dir, mask()) {
                                dirs.insert(wd, dir.clone());
                            }
                            add_tree(&mut reader_watches, &dir, &mut dirs, &mut changed);
                        }
                        if !changed.is_empty() && out.send(changed).is_err() {
                            return;
                        }
                    }
                })?;
            Ok(Self {
                stop,
                watches,
                root: root_wd,
            })
        }
    }

    /// Watches every folder below `dir` (not following links) and collects what it finds.
    fn add_tree(
        watches: &mut Watches,
        dir: &Path,
        dirs: &mut HashMap<WatchDescriptor, PathBuf>,
        found: &mut Vec<PathBuf>,
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_hidden(&path) {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && let Ok(wd) = watches.add(&path, super::linux::mask()) {
                dirs.insert(wd, path.clone());
                add_tree(watches, &path, dirs, found);
            }
            found.push(path);
        }
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

    #[test]
    fn files_in_a_folder_created_after_the_start_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = FolderWatcher::spawn(&root, move |paths| {
            let _ = tx.send(paths);
        })
        .unwrap();
        std::fs::create_dir_all(root.join("new/deeper")).unwrap();
        std::fs::write(root.join("new/deeper/b.md"), "x").unwrap();
        let mut seen: Vec<PathBuf> = Vec::new();
        while let Ok(paths) = rx.recv_timeout(Duration::from_secs(5)) {
            seen.extend(paths);
            if seen.iter().any(|p| p.ends_with("new/deeper/b.md")) {
                break;
            }
        }
        assert!(
            seen.iter().any(|p| p.ends_with("new/deeper/b.md")),
            "{seen:?}"
        );
        // Later writes in the new folder are seen too.
        std::fs::write(root.join("new/deeper/c.md"), "x").unwrap();
        let later = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(
            later.iter().any(|p| p.ends_with("new/deeper/c.md")),
            "{later:?}"
        );
    }

    #[test]
    fn reading_and_listing_do_not_count_as_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.md"), "x").unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = FolderWatcher::spawn(&root, move |paths| {
            let _ = tx.send(paths);
        })
        .unwrap();
        for _ in 0..20 {
            std::fs::read_to_string(root.join("sub/a.md")).unwrap();
            std::fs::read_dir(root.join("sub")).unwrap().for_each(drop);
        }
        assert!(rx.recv_timeout(Duration::from_millis(400)).is_err());
    }
}
