//! The path jail: every path a client sends is resolved to a real place inside the workspace
//! root, or refused with an error whose message starts with "Access denied".
//!
//! Two layers. First the jail resolves a path itself: it normalises `.`/`..` lexically (as
//! Node's `path.resolve` does), then follows symbolic links one component at a time, so a
//! link inside pointing inside works whether its target is relative or absolute, and a link
//! whose target leaves the root is refused. The result is a relative path with no links in it.
//! Second, every operation then goes through a `cap_std::fs::Dir` opened on the root, which
//! refuses to leave it even if a link is swapped in after the check (on Linux `openat2` with
//! `RESOLVE_BENEATH`; elsewhere cap-std's own component-by-component walk). Writes go to a
//! temporary file created with `O_EXCL` in the checked folder and are renamed over the target,
//! and a rename replaces a link rather than following it.

use std::{
    ffi::{OsStr, OsString},
    io,
    path::{Component, Path, PathBuf},
};

use cap_std::{
    ambient_authority,
    fs::{Dir, Metadata},
};

use super::error::{WorkspaceError, WsResult};

/// Links followed in a row before giving up (Linux's limit).
pub const MAX_LINK_HOPS: usize = 40;

/// Whether the last component is followed when it is a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalLink {
    /// Resolve it (read, write, list: act on what the link points at).
    Follow,
    /// Keep it (move: act on the link itself).
    Keep,
}

/// The jail: a canonical root and an open handle on it.
#[derive(Debug)]
pub struct Jail {
    root: PathBuf,
    /// Every absolute spelling known to name the root (canonical, as given, and on Windows
    /// without the `\\?\` prefix). Compared component-wise, so `<root>2` never matches.
    aliases: Vec<PathBuf>,
    dir: Dir,
}

/// A path resolved inside the jail.
#[derive(Debug)]
pub struct Resolved {
    rel: PathBuf,
    meta: Option<Metadata>,
}

impl Resolved {
    /// Relative to the root, with no `.`, `..` or symbolic links (except a kept final link);
    /// empty for the root itself.
    pub fn rel(&self) -> &Path {
        &self.rel
    }

    /// The path to hand to `cap_std::fs::Dir` calls on the root (`.` for the root).
    pub fn cap_path(&self) -> &Path {
        if self.rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.rel
        }
    }

    /// As shown to clients: relative to the root, `/` between components, `.` for the root.
    pub fn display(&self) -> String {
        display_rel(&self.rel)
    }

    /// The final component's metadata (not following a kept link); `None` when it does not
    /// exist yet.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.meta.as_ref()
    }

    pub fn exists(&self) -> bool {
        self.meta.is_some()
    }

    pub fn is_root(&self) -> bool {
        self.rel.as_os_str().is_empty()
    }

    /// The containing folder (relative, `.` for the root) and the final name; `None` for the
    /// root.
    pub fn split(&self) -> Option<(&Path, &OsStr)> {
        let name = self.rel.file_name()?;
        let parent = match self.rel.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some((parent, name))
    }
}

/// `a/b/c` with `/` on every platform; `.` for the empty path.
pub fn display_rel(rel: &Path) -> String {
    let mut out = String::new();
    for c in rel.components() {
        if let Component::Normal(n) = c {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&n.to_string_lossy());
        }
    }
    if out.is_empty() { ".".to_string() } else { out }
}

impl Jail {
    /// Opens the jail on an existing folder. The root is canonicalised once, here.
    pub fn open(root: &Path) -> WsResult<Self> {
        let shown = root.display().to_string();
        let canonical = std::fs::canonicalize(root).map_err(|source| WorkspaceError::Io {
            action: "opening the workspace root",
            path: shown.clone(),
            source,
        })?;
        let dir = Dir::open_ambient_dir(&canonical, ambient_authority()).map_err(|source| {
            WorkspaceError::Io {
                action: "opening the workspace root",
                path: shown,
                source,
            }
        })?;
        let mut aliases = vec![canonical.clone()];
        if let Some(plain) = strip_verbatim(&canonical) {
            aliases.push(plain);
        }
        let given = if root.is_absolute() {
            Some(normalize(root))
        } else {
            std::env::current_dir()
                .ok()
                .map(|cwd| normalize(&cwd.join(root)))
        };
        if let Some(given) = given.filter(|g| !aliases.contains(g)) {
            aliases.push(given);
        }
        Ok(Self {
            // Shown to people and models, and named in resource URIs: `C:\…`, not `\\?\C:\…`.
            root: strip_verbatim(&canonical).unwrap_or(canonical),
            aliases,
            dir,
        })
    }

    /// The canonical root (on Windows without the `\\?\` prefix).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The handle every operation goes through.
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// An "Access denied" error for `path`.
    pub fn denied(&self, path: &str, reason: impl Into<String>) -> WorkspaceError {
        WorkspaceError::AccessDenied {
            path: path.to_string(),
            reason: reason.into(),
            root: self.root.clone(),
        }
    }

    /// Maps an I/O error from an operation on `path` to the error a client should see.
    pub fn io_error(&self, action: &'static str, path: &str, source: io::Error) -> WorkspaceError {
        match source.kind() {
            io::ErrorKind::NotFound => WorkspaceError::NotFound {
                path: path.to_string(),
            },
            io::ErrorKind::AlreadyExists => WorkspaceError::AlreadyExists {
                path: path.to_string(),
            },
            io::ErrorKind::NotADirectory => WorkspaceError::NotADirectory {
                path: path.to_string(),
            },
            io::ErrorKind::IsADirectory => WorkspaceError::IsADirectory {
                path: path.to_string(),
            },
            io::ErrorKind::PermissionDenied if is_escape(&source) => self.denied(
                path,
                "leads outside the workspace through a symbolic link (it changed while Tandem \
                 was using it)",
            ),
            _ => WorkspaceError::Io {
                action,
                path: path.to_string(),
                source,
            },
        }
    }

    /// Resolves a client's path to a place inside the root, following symbolic links (all of
    /// them, or all but the last with [`FinalLink::Keep`]). Refuses, with "Access denied",
    /// anything that is or leads outside the root.
    pub fn resolve(&self, input: &str, final_link: FinalLink) -> WsResult<Resolved> {
        let mut pending = self.lexical(input)?;
        pending.reverse(); // a stack: the next component is at the end
        let mut done = PathBuf::new();
        let mut meta = None;
        let mut missing = false;
        let mut hops = 0usize;
        while let Some(step) = pending.pop() {
            let name = match step {
                Step::Parent => {
                    // Only link targets bring `..` here; `done` holds real folders, so popping
                    // one is exact.
                    if !done.pop() {
                        return Err(self.denied(
                            input,
                            "goes through a symbolic link that points outside the workspace",
                        ));
                    }
                    meta = None;
                    continue;
                }
                Step::Name(name) => name,
            };
            let candidate = done.join(&name);
            // Windows opens a device for `CON` or `nul.txt` in any folder: never look there.
            if cfg!(windows) {
                portable(input, &name)?;
            }
            if missing {
                portable(input, &name)?;
                done = candidate;
                continue;
            }
            let m = match self.dir.symlink_metadata(&candidate) {
                Ok(m) => m,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    // From here on the names are new: each must work on every system.
                    portable(input, &name)?;
                    missing = true;
                    meta = None;
                    done = candidate;
                    continue;
                }
                Err(e) => return Err(self.io_error("checking", input, e)),
            };
            let last = pending.is_empty();
            if !m.is_symlink() || (last && final_link == FinalLink::Keep) {
                meta = Some(m);
                done = candidate;
                continue;
            }
            hops += 1;
            if hops > MAX_LINK_HOPS {
                return Err(WorkspaceError::TooManyLinks {
                    path: input.to_string(),
                    limit: MAX_LINK_HOPS,
                });
            }
            let target = self
                .dir
                .read_link_contents(&candidate)
                .map_err(|e| self.io_error("reading the link", input, e))?;
            let outside = || {
                self.denied(
                    input,
                    "goes through a symbolic link that points outside the workspace",
                )
            };
            if target.has_root() || matches!(target.components().next(), Some(Component::Prefix(_)))
            {
                let inside = self.strip_root(&normalize(&target)).ok_or_else(outside)?;
                done = PathBuf::new();
                pending.extend(inside.into_iter().rev().map(Step::Name));
            } else {
                let mut steps = Vec::new();
                for c in target.components() {
                    match c {
                        Component::CurDir => {}
                        Component::ParentDir => steps.push(Step::Parent),
                        Component::Normal(n) => steps.push(Step::Name(n.to_os_string())),
                        Component::RootDir | Component::Prefix(_) => return Err(outside()),
                    }
                }
                pending.extend(steps.into_iter().rev());
            }
            meta = None;
        }
        // The part that exists, as the system itself resolves it (the link itself kept when
        // asked to keep the last one).
        let checked = match (final_link, missing) {
            (FinalLink::Keep, false) => done.parent().unwrap_or(Path::new("")),
            _ => &done,
        };
        if !self.really_inside(checked) {
            return Err(self.denied(
                input,
                "leads outside the workspace through a link the system follows",
            ));
        }
        if !missing && meta.is_none() {
            // The root itself, or a folder reached by `..` from a link target.
            let m = self
                .dir
                .symlink_metadata(if done.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    &done
                })
                .map_err(|e| self.io_error("checking", input, e))?;
            meta = Some(m);
        }
        Ok(Resolved {
            rel: done,
            meta: if missing { None } else { meta },
        })
    }

    /// Whether `rel` (relative to the root; the part of it that exists) is inside the root as
    /// the system resolves it. On Unix the walk above sees every link, so this holds without
    /// asking. On Windows the system may follow links the jail cannot see — Wine shows a Unix
    /// symlink as what it points to, and a network share's server follows its own — so the
    /// system is asked where the path really is (the final path of an open handle).
    pub fn really_inside(&self, rel: &Path) -> bool {
        if !cfg!(windows) || rel.as_os_str().is_empty() {
            return true;
        }
        let full = self.root.join(rel);
        let Some(real) = full.ancestors().find_map(|p| std::fs::canonicalize(p).ok()) else {
            return false;
        };
        self.aliases.iter().any(|alias| real.starts_with(alias))
    }

    /// The components, relative to the root, that `input` names before any link is followed.
    fn lexical(&self, input: &str) -> WsResult<Vec<Step>> {
        if input.contains('\0') {
            return Err(self.denied(input, "contains a NUL byte"));
        }
        if cfg!(not(windows)) && looks_like_windows(input) {
            return Err(self.denied(
                input,
                "is a Windows path, and this workspace is on a Unix system; use / between \
                 folders",
            ));
        }
        let full = normalize(&self.root.join(input));
        let inside = self
            .strip_root(&full)
            .ok_or_else(|| self.denied(input, "is outside the workspace"))?;
        Ok(inside.into_iter().map(Step::Name).collect())
    }

    /// The components under the root of a normalised absolute path, if it is inside.
    fn strip_root(&self, abs: &Path) -> Option<Vec<OsString>> {
        self.aliases.iter().find_map(|alias| {
            let rest = abs.strip_prefix(alias).ok()?;
            rest.components()
                .map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                })
                .collect()
        })
    }
}

/// Refuses a name that would not work on every system ([`super::portable`]).
fn portable(input: &str, name: &OsStr) -> WsResult<()> {
    let Some(text) = name.to_str() else {
        return Ok(());
    };
    match super::portable::unportable(text) {
        None => Ok(()),
        Some(reason) => Err(WorkspaceError::NotPortable {
            path: input.to_string(),
            name: text.to_string(),
            reason,
        }),
    }
}

enum Step {
    Name(OsString),
    Parent,
}

/// Removes `.` and resolves `..` lexically; `..` at the top stays at the top.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(_) => {}
                None => out.push(".."),
            },
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// `C:\…`, `C:/…`, `C:`, `\\server\share`, `\…`: meaningful on Windows only.
fn looks_like_windows(s: &str) -> bool {
    let b = s.as_bytes();
    let drive = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b.len() == 2 || b[2] == b'\\' || b[2] == b'/');
    drive || s.starts_with('\\')
}

/// `\\?\C:\x` → `C:\x` (what `canonicalize` returns on Windows versus what people type).
fn strip_verbatim(path: &Path) -> Option<PathBuf> {
    let s = path.to_str()?;
    let rest = s.strip_prefix(r"\\?\")?;
    let b = rest.as_bytes();
    (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':').then(|| PathBuf::from(rest))
}

/// cap-std reports an attempt to leave its root as PermissionDenied with this message.
fn is_escape(e: &io::Error) -> bool {
    e.to_string().contains("outside of the filesystem")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jail() -> (tempfile::TempDir, Jail) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let jail = Jail::open(&root).unwrap();
        (tmp, jail)
    }

    fn rel(jail: &Jail, p: &str) -> String {
        jail.resolve(p, FinalLink::Follow).unwrap().display()
    }

    #[test]
    fn paths_that_normalise_inside_resolve_lexically() {
        let (_t, j) = jail();
        assert_eq!(rel(&j, "./a"), "a");
        assert_eq!(rel(&j, "a//b"), "a/b");
        assert_eq!(rel(&j, "sub/../a"), "a");
        assert_eq!(rel(&j, ""), ".");
        assert_eq!(rel(&j, "."), ".");
        assert_eq!(rel(&j, "a/b/"), "a/b");
        let abs = j.root().join("x/./y/../z");
        assert_eq!(rel(&j, abs.to_str().unwrap()), "x/z");
    }

    #[test]
    fn windows_looking_paths_are_recognised() {
        assert!(looks_like_windows(r"C:\Windows\win.ini"));
        assert!(looks_like_windows("c:/x"));
        assert!(looks_like_windows(r"\\server\share\x"));
        assert!(!looks_like_windows("notes/C:x"));
        assert!(!looks_like_windows("a\\b"));
    }

    #[test]
    fn normalize_keeps_the_top_at_the_top() {
        assert_eq!(normalize(Path::new("/a/../../b")), Path::new("/b"));
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
    }

    #[test]
    fn a_missing_tail_resolves_without_metadata() {
        let (_t, j) = jail();
        let r = j.resolve("new/deeper/file.md", FinalLink::Follow).unwrap();
        assert!(!r.exists());
        assert_eq!(r.display(), "new/deeper/file.md");
        let (parent, name) = r.split().unwrap();
        assert_eq!(parent, Path::new("new/deeper"));
        assert_eq!(name, "file.md");
    }

    #[test]
    fn the_root_resolves_to_an_existing_folder() {
        let (_t, j) = jail();
        let r = j.resolve(".", FinalLink::Follow).unwrap();
        assert!(r.is_root());
        assert!(r.metadata().unwrap().is_dir());
        assert!(r.split().is_none());
        assert_eq!(r.cap_path(), Path::new("."));
    }
}
