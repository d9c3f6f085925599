//! The safe write of a config file: a backup of what is replaced, an atomic replace that keeps
//! the file's permissions, creation of missing files (0600) and folders, and a
//! compare-and-swap against other writers (Claude Code rewrites `~/.claude.json` often, by
//! truncating and rewriting it).

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use tandem_store::Home;

use crate::error::{ClientsError, Result};

/// How many backups of one config file are kept.
pub const BACKUPS_KEPT: usize = 10;

/// How many times a read that fails to parse is repeated, and how long apart: a writer that
/// truncates then rewrites leaves an empty or half-written file for a moment.
const SETTLE_READS: usize = 6;
const SETTLE_PAUSE: Duration = Duration::from_millis(20);
/// A read or replace refused because another program holds the file open without sharing it
/// (Windows): tries, and the pause between.
const HELD_RETRIES: u32 = 50;
const HELD_PAUSE: Duration = Duration::from_millis(20);

/// Backups of config files under `$TANDEM_HOME/backups/<file>/<UTC timestamp>.bak`.
#[derive(Debug, Clone)]
pub struct Backups {
    dir: PathBuf,
    keep: usize,
}

impl Backups {
    pub fn new(home: &Home) -> Self {
        Self::at(home.backups_dir())
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            keep: BACKUPS_KEPT,
        }
    }

    /// The folder holding one config file's backups: its path made into a file name, plus a
    /// short hash so that two paths never share a folder.
    pub fn folder_for(&self, file: &Path) -> PathBuf {
        let full = file.to_string_lossy();
        let mut name: String = full
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let trimmed = name.trim_start_matches('_').to_string();
        name = trimmed
            .chars()
            .rev()
            .take(80)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let hash = crate::entry::fingerprint(&serde_json::Value::String(full.into_owned()));
        self.dir.join(format!("{name}-{}", &hash[..8]))
    }

    /// A file's backups, oldest first.
    pub fn list(&self, file: &Path) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.folder_for(file)) else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "bak"))
            .collect();
        found.sort();
        found
    }

    fn save(&self, file: &Path, bytes: &[u8]) -> Result<PathBuf> {
        let folder = self.folder_for(file);
        fs::create_dir_all(&folder).map_err(|e| ClientsError::io(&folder, e))?;
        let stamp = timestamp();
        for n in 0..1000 {
            let name = if n == 0 {
                format!("{stamp}.bak")
            } else {
                format!("{stamp}-{n:03}.bak")
            };
            let path = folder.join(name);
            match create_private(&path) {
                Ok(mut f) => {
                    // Not fsynced: it sits between the read and the compare-and-swap, where
                    // every millisecond lets a concurrent writer in; losing a backup to a power
                    // cut matters less than redoing every edit under a busy writer.
                    f.write_all(bytes).map_err(|e| ClientsError::io(&path, e))?;
                    return Ok(path);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(ClientsError::io(&path, e)),
            }
        }
        Err(ClientsError::io(
            &folder,
            io::Error::other("too many backups in the same instant"),
        ))
    }

    fn prune(&self, file: &Path) {
        let all = self.list(file);
        let excess = all.len().saturating_sub(self.keep);
        for old in &all[..excess] {
            let _ = fs::remove_file(old);
        }
    }
}

fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:09}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.nanosecond()
    )
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The file a config path really is: a symlinked config (dotfile managers do this) is edited
/// where it points, so the link survives.
pub(crate) fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            dunce::canonicalize(path).unwrap_or_else(|_| path.into())
        }
        _ => path.to_path_buf(),
    }
}

/// The file's bytes, `None` when it does not exist.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    match when_free(Held::Reading, || fs::read(path)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed(Held::Reading, path, e)),
    }
}

/// What was being done to a file when another program's hold on it got in the way.
#[derive(Clone, Copy)]
enum Held {
    Reading,
    Replacing,
}

/// Whether `e` is Windows refusing because another program holds the file open without sharing
/// it: a sharing or lock violation, or — for a replace — access denied, which is what a rename
/// over an open file gets where POSIX rename semantics are missing.
fn held_elsewhere(what: Held, e: &io::Error) -> bool {
    const SHARING_VIOLATION: i32 = 32;
    const LOCK_VIOLATION: i32 = 33;
    cfg!(windows)
        && (matches!(e.raw_os_error(), Some(SHARING_VIOLATION | LOCK_VIOLATION))
            || matches!(what, Held::Replacing) && e.kind() == io::ErrorKind::PermissionDenied)
}

/// Runs `act` again while another program holds the file, within a bound.
fn when_free<T>(what: Held, mut act: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut tries = 0;
    loop {
        match act() {
            Err(e) if held_elsewhere(what, &e) && tries < HELD_RETRIES => {
                tries += 1;
                std::thread::sleep(HELD_PAUSE);
            }
            other => return other,
        }
    }
}

/// The error for a failed read or replace: a file still held elsewhere after the retries says
/// so and what to do.
fn failed(what: Held, path: &Path, e: io::Error) -> ClientsError {
    if held_elsewhere(what, &e) {
        ClientsError::HeldOpen {
            path: path.to_path_buf(),
            waited_ms: (HELD_PAUSE * HELD_RETRIES).as_millis() as u64,
        }
    } else {
        ClientsError::io(path, e)
    }
}

/// Reads and parses, re-reading a few times over ~100 ms while the parse fails: a file caught
/// mid-rewrite is not malformed. The last parse error is returned if it never settles.
pub(crate) fn read_settled<T>(
    path: &Path,
    parse: impl Fn(Option<&[u8]>) -> Result<T>,
) -> Result<(Option<Vec<u8>>, T)> {
    let mut last = None;
    for attempt in 0..SETTLE_READS {
        if attempt > 0 {
            std::thread::sleep(SETTLE_PAUSE);
        }
        let bytes = read(path)?;
        match parse(bytes.as_deref()) {
            Ok(parsed) => return Ok((bytes, parsed)),
            Err(
                e @ (ClientsError::Malformed { .. } | ClientsError::ServersNotContainer { .. }),
            ) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    match last {
        Some(e) => Err(e),
        None => Err(ClientsError::io(
            path,
            io::Error::other("no read was attempted"),
        )),
    }
}

/// What a compare-and-swap did.
#[derive(Debug)]
pub(crate) enum Swap {
    /// The file now holds the new bytes (or was removed); `backup` holds what it replaced.
    Done { backup: Option<PathBuf> },
    /// The file was not what was expected: nothing was written.
    Changed,
    /// The new bytes are in place, but another writer wrote into the old file between the
    /// final check and the rename; `theirs` is what they wrote, which the caller must merge.
    Overwritten { theirs: Vec<u8> },
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `new` (`None` removes it) if and only if it still holds `expected`
/// (`None`: it does not exist). The new content goes to a temp file in the same folder,
/// fsynced, with the old file's permissions (0600 for a new file), then renamed over it.
/// `settled` tells whether bytes another writer left are complete (parse).
pub(crate) fn swap(
    path: &Path,
    expected: Option<&[u8]>,
    new: Option<&[u8]>,
    backups: Option<&Backups>,
    settled: impl Fn(&[u8]) -> bool,
) -> Result<Swap> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = match new {
        Some(bytes) => Some(write_temp(path, dir, bytes)?),
        None => None,
    };
    let cleanup = |backup: &Option<PathBuf>| {
        if let Some(t) = &temp {
            let _ = fs::remove_file(t);
        }
        if let Some(b) = backup {
            let _ = fs::remove_file(b);
        }
    };

    // The backup is written before the final check so that nothing slow sits between the
    // check and the rename; it is dropped again if the check fails.
    let backup = match (expected, backups) {
        (Some(old), Some(b)) => match b.save(path, old) {
            Ok(p) => Some(p),
            Err(e) => {
                cleanup(&None);
                return Err(e);
            }
        },
        _ => None,
    };

    let mut current = match when_free(Held::Reading, || File::open(path)) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            cleanup(&backup);
            return Err(failed(Held::Reading, path, e));
        }
    };
    let now = match current.as_mut().map(read_all).transpose() {
        Ok(now) => now,
        Err(e) => {
            cleanup(&backup);
            return Err(ClientsError::io(path, e));
        }
    };
    if now.as_deref() != expected {
        cleanup(&backup);
        return Ok(Swap::Changed);
    }

    if let Err(e) = replace_guarded(temp.as_deref(), path, &mut current) {
        cleanup(&backup);
        return Err(failed(Held::Replacing, path, e));
    }
    sync_dir(dir);

    // A writer that opened the old file before the rename writes into a file that no longer
    // has a name: look, and hand their bytes back to be merged.
    if let (Some(mut old), Some(expected)) = (current, expected) {
        let mut theirs = read_all(&mut old).map_err(|e| ClientsError::io(path, e))?;
        if theirs != expected {
            // Poll closely: their next read-modify-write will start from our file, which
            // lacks what they just wrote, so the merge must land before it.
            let polls = (SETTLE_READS as u32 * SETTLE_PAUSE.as_millis() as u32).max(1);
            for _ in 0..polls {
                if !theirs.is_empty() && settled(&theirs) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
                theirs = read_all(&mut old).map_err(|e| ClientsError::io(path, e))?;
            }
            if let (Some(b), Some(_)) = (backups, &backup) {
                b.prune(path);
            }
            return Ok(Swap::Overwritten { theirs });
        }
    }
    if let (Some(b), Some(_)) = (backups, &backup) {
        b.prune(path);
    }
    Ok(Swap::Done { backup })
}

/// Puts `temp` in place of `path` (`None` removes it) while `guard`, the old file, is open to
/// catch a writer racing the replace. Where the system will not replace a file that is open —
/// Windows without POSIX rename semantics (before Windows 10 1809, and Wine) — the guard is let
/// go and the replace retried: that write only loses the check for a racing writer (the
/// contents were compared just before). A file another program holds open without sharing is
/// retried within a bound, then refused with what to do; nothing is half-written either way.
fn replace_guarded(temp: Option<&Path>, path: &Path, guard: &mut Option<File>) -> io::Result<()> {
    let act = || match temp {
        Some(t) => fs::rename(t, path),
        None => fs::remove_file(path),
    };
    match act() {
        Err(e) if held_elsewhere(Held::Replacing, &e) => {}
        other => return other,
    }
    guard.take();
    when_free(Held::Replacing, act)
}

/// Replaces `path` with `bytes` atomically (temp file, fsync, rename), whatever it holds now:
/// for Tandem's own small records, which no one else edits.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = write_temp(path, dir, bytes)?;
    if let Err(e) = when_free(Held::Replacing, || fs::rename(&temp, path)) {
        let _ = fs::remove_file(&temp);
        return Err(failed(Held::Replacing, path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// Makes a file readable and writable by its owner only (for Tandem's own records that hold
/// secrets or their names).
pub(crate) fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::metadata(path).map_err(|e| ClientsError::io(path, e))?;
        if meta.permissions().mode() & 0o777 != 0o600 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .map_err(|e| ClientsError::io(path, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn read_all(f: &mut File) -> io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn write_temp(path: &Path, dir: &Path, bytes: &[u8]) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| ClientsError::io(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    let existing = fs::metadata(path).ok();
    for _ in 0..100 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.tandem-{}-{n}.tmp", std::process::id()));
        let mut f = match create_private(&temp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ClientsError::io(&temp, e)),
        };
        let written = (|| {
            f.write_all(bytes)?;
            if let Some(meta) = &existing {
                keep_owner_and_mode(&f, meta)?;
            }
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(ClientsError::io(&temp, e));
        }
        return Ok(temp);
    }
    Err(ClientsError::io(
        dir,
        io::Error::other("no free temp file name"),
    ))
}

fn keep_owner_and_mode(f: &File, meta: &fs::Metadata) -> io::Result<()> {
    f.set_permissions(meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root can give a file away; for anyone else the owner is already right.
        let _ = std::os::unix::fs::fchown(f, Some(meta.uid()), Some(meta.gid()));
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; not possible (nor needed) on Windows.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn always(_: &[u8]) -> bool {
        true
    }

    #[test]
    fn swap_replaces_only_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        fs::write(&path, "old").unwrap();
        let r = swap(&path, Some(b"other"), Some(b"new"), None, always).unwrap();
        assert!(matches!(r, Swap::Changed));
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let r = swap(&path, Some(b"old"), Some(b"new"), None, always).unwrap();
        assert!(matches!(r, Swap::Done { backup: None }));
        assert_eq!(fs::read(&path).unwrap(), b"new");
        // No temp files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_files_and_folders_are_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("c.json");
        swap(&path, None, Some(b"{}"), None, always).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Expecting absence when the file exists is a change.
        let r = swap(&path, None, Some(b"x"), None, always).unwrap();
        assert!(matches!(r, Swap::Changed));
    }

    #[cfg(unix)]
    #[test]
    fn replacing_keeps_the_files_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        swap(&path, Some(b"old"), Some(b"new"), None, always).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_is_edited_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-claude.json");
        let link = dir.path().join(".claude.json");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let target = resolve(&link);
        swap(&target, Some(b"old"), Some(b"new"), None, always).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&link).unwrap(), b"new");
    }

    #[test]
    fn backups_are_timestamped_and_only_the_last_ten_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let backups = Backups::at(dir.path().join("backups"));
        let path = dir.path().join("c.json");
        fs::write(&path, "v0").unwrap();
        for i in 0..13 {
            let old = format!("v{i}");
            let new = format!("v{}", i + 1);
            let r = swap(
                &path,
                Some(old.as_bytes()),
                Some(new.as_bytes()),
                Some(&backups),
                always,
            )
            .unwrap();
            let Swap::Done { backup: Some(b) } = r else {
                panic!("{r:?}");
            };
            assert_eq!(fs::read(&b).unwrap(), old.as_bytes());
        }
        let kept = backups.list(&path);
        assert_eq!(kept.len(), BACKUPS_KEPT);
        assert_eq!(fs::read(&kept[0]).unwrap(), b"v3");
        assert_eq!(fs::read(&kept[9]).unwrap(), b"v12");
        let name = kept[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with("Z.bak") && name.contains('T'), "{name}");
    }

    #[test]
    fn a_failed_check_leaves_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let backups = Backups::at(dir.path().join("backups"));
        let path = dir.path().join("c.json");
        fs::write(&path, "theirs").unwrap();
        let r = swap(&path, Some(b"mine"), Some(b"new"), Some(&backups), always).unwrap();
        assert!(matches!(r, Swap::Changed));
        assert!(backups.list(&path).is_empty());
    }

    #[test]
    fn settled_reads_wait_out_a_truncated_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        fs::write(&path, "").unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                fs::write(&path, "{}").unwrap();
            })
        };
        let parse = |b: Option<&[u8]>| match b {
            Some(b) if !b.is_empty() => Ok(b.len()),
            _ => Err(ClientsError::Malformed {
                client: crate::ClientId::ClaudeCode,
                path: PathBuf::new(),
                format: "JSON",
                line: 1,
                column: 1,
                reason: "empty".into(),
            }),
        };
        let (bytes, len) = read_settled(&path, parse).unwrap();
        writer.join().unwrap();
        assert_eq!((bytes.as_deref(), len), (Some(&b"{}"[..]), 2));
    }

    #[test]
    fn backup_folders_are_distinct_per_path() {
        let b = Backups::at("/b");
        let one = b.folder_for(Path::new("/home/a/.claude.json"));
        let two = b.folder_for(Path::new("/home/a_.claude.json"));
        assert_ne!(one, two);
        assert!(one.to_string_lossy().contains("home_a_.claude.json-"));
    }
}
