//! Atomic writes inside the jail: a temporary file created with `O_EXCL` in the checked
//! folder, written, synced, then renamed over the target (or hard-linked to a new name when
//! the target must not exist yet). A rename replaces a symbolic link swapped in at the
//! target; it never follows it.

use std::{
    io::Write,
    sync::atomic::{AtomicU64, Ordering},
};

use cap_std::fs::{Dir, OpenOptions};

use super::{
    error::{WorkspaceError, WsResult},
    jail::{Jail, Resolved},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Replace the file if it exists, keeping its permissions.
    Replace,
    /// Fail with `AlreadyExists` if anything is there.
    CreateNew,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `content` at `target`, creating missing parent folders. Returns true when the file
/// did not exist before.
pub(crate) fn write_atomic(
    jail: &Jail,
    shown: &str,
    target: &Resolved,
    content: &[u8],
    mode: Mode,
) -> WsResult<bool> {
    let Some((parent, name)) = target.split() else {
        return Err(WorkspaceError::IsADirectory {
            path: shown.to_string(),
        });
    };
    let existing = target.metadata();
    if let Some(m) = existing {
        if mode == Mode::CreateNew {
            return Err(WorkspaceError::AlreadyExists {
                path: shown.to_string(),
            });
        }
        if m.is_dir() {
            return Err(WorkspaceError::IsADirectory {
                path: shown.to_string(),
            });
        }
        if !m.is_file() {
            return Err(WorkspaceError::NotARegularFile {
                path: shown.to_string(),
                kind: "not a regular file".to_string(),
            });
        }
    }
    let io = |action, e| jail.io_error(action, shown, e);
    if parent != std::path::Path::new(".") {
        // "Already exists" here can mean a link swapped in for a folder: opening the folder
        // below then says whether it is safe.
        match jail.dir().create_dir_all(parent) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("creating the folders for", e)),
        }
    }
    let dir = jail
        .dir()
        .open_dir(parent)
        .map_err(|e| io("opening the folder of", e))?;
    let permissions = match (mode, existing) {
        (Mode::Replace, Some(_)) => dir.metadata(name).ok().map(|m| m.permissions()),
        _ => None,
    };

    let tmp = format!(
        ".tandem-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let result = write_temp(&dir, &tmp, content, permissions).and_then(|()| match mode {
        Mode::Replace => dir.rename(&tmp, &dir, name),
        Mode::CreateNew => link_new(&dir, &tmp, name),
    });
    // After a rename the temporary name is gone; after a hard link (or a failure) it is left.
    let _ = dir.remove_file(&tmp);
    result.map_err(|e| io("writing", e))?;
    sync_dir(&dir);
    Ok(existing.is_none())
}

fn write_temp(
    dir: &Dir,
    tmp: &str,
    content: &[u8],
    permissions: Option<cap_std::fs::Permissions>,
) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = dir.open_with(tmp, &options)?;
    file.write_all(content)?;
    if let Some(p) = permissions {
        file.set_permissions(p)?;
    }
    file.sync_all()
}

/// Gives the written temporary file its final name only if that name is free: a hard link
/// fails when the name exists, which a rename would not.
fn link_new(dir: &Dir, tmp: &str, name: &std::ffi::OsStr) -> std::io::Result<()> {
    match dir.hard_link(tmp, dir, name) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        // File systems without hard links: check, then rename (a small race, on such
        // file systems only).
        Err(_) => {
            if dir.symlink_metadata(name).is_ok() {
                return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
            }
            dir.rename(tmp, dir, name)
        }
    }
}

/// Makes the rename durable; best effort, and Unix only (Windows cannot sync a folder).
fn sync_dir(dir: &Dir) {
    #[cfg(unix)]
    if let Ok(d) = dir.try_clone() {
        let _ = d.into_std_file().sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
