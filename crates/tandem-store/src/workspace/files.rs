//! The single-file tools, with the names and camelCase parameters of
//! `@modelcontextprotocol/server-filesystem`: read, write, edit, move, create a folder, file
//! information. Every path goes through the jail; every read is bounded.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Read},
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Workspace,
    error::{WorkspaceError, WsResult},
    jail::{FinalLink, Resolved},
    write::{Mode, write_atomic},
};

/// The most text one read returns: larger files are cut here and the reply says how to read on.
pub const MAX_READ_BYTES: usize = 256 * 1024;
/// The most text one `read_multiple_files` call returns, all files together.
pub const MAX_MULTI_READ_BYTES: usize = 1024 * 1024;
/// The most paths one `read_multiple_files` call takes.
pub const MAX_MULTI_READ_FILES: usize = 100;
/// The largest file `edit_file` rewrites.
pub const MAX_EDIT_BYTES: u64 = 16 * 1024 * 1024;

/// What a directory entry is, without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A device, socket or pipe.
    Other,
}

impl EntryKind {
    pub fn of(file_type: cap_std::fs::FileType) -> Self {
        if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_dir() {
            EntryKind::Dir
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadTextFileParams {
    pub path: String,
    // Only the first N lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
    // Only the last N lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<usize>,
    // The line to start at, counting from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    // The most lines to return (from `offset`, or from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

impl ReadTextFileParams {
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
}

/// Lines of a text file. Line endings are kept as they are in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextFile {
    /// Relative to the workspace root.
    pub path: String,
    pub content: String,
    /// Number of the first line in `content`, counting from 1 (0 when `content` is empty).
    pub start_line: usize,
    /// Number of the last line in `content` (0 when `content` is empty).
    pub end_line: usize,
    /// Lines in the whole file; absent when the read stopped before the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_lines: Option<usize>,
    /// Size of the whole file in bytes.
    pub size: u64,
    /// True when more of the file was asked for than is returned (the 256 KiB bound).
    pub truncated: bool,
    /// Pass as `offset` to read on; absent at the end of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// How to read the rest, when there is more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadMultipleFilesParams {
    // Up to 100.
    pub paths: Vec<String>,
}

/// One file of a `read_multiple_files` call: its content, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileRead {
    /// As asked.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<TextFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MultipleFiles {
    pub files: Vec<FileRead>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteFileParams {
    pub path: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteOutcome {
    /// Relative to the workspace root.
    pub path: String,
    pub bytes: usize,
    /// True when the file did not exist before.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Edit {
    /// Exact text, whitespace included.
    pub old_text: String,
    pub new_text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditFileParams {
    pub path: String,
    /// Applied in order.
    pub edits: Vec<Edit>,
    // Show the diff without writing.
    #[serde(default)]
    pub dry_run: bool,
    // Replace every occurrence of each oldText (otherwise it must occur exactly once).
    #[serde(default)]
    pub replace_all: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditOutcome {
    /// Relative to the workspace root.
    pub path: String,
    /// Unified diff of the change (empty when nothing changed).
    pub diff: String,
    /// Occurrences replaced, all edits together.
    pub replacements: usize,
    /// False for a dry run, or when the edits changed nothing.
    pub written: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PathParams {
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDirectoryOutcome {
    pub path: String,
    /// False when the folder was already there.
    pub created: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoveFileParams {
    pub source: String,
    /// Must not exist yet; missing folders are created.
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoveOutcome {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// Relative to the workspace root (where a link leads, when the path is a link).
    pub path: String,
    pub kind: EntryKind,
    /// True when the path given is a symbolic link (inside the workspace) to `path`.
    pub symlink: bool,
    pub size: u64,
    /// RFC 3339, UTC; absent where the file system does not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessed: Option<String>,
    /// Octal mode such as "644" on Unix; "r" or "rw" on Windows.
    pub permissions: String,
    pub readonly: bool,
}

impl Workspace {
    fn resolve_file(&self, path: &str) -> WsResult<Resolved> {
        let r = self.jail().resolve(path, FinalLink::Follow)?;
        match r.metadata() {
            None => Err(WorkspaceError::NotFound {
                path: path.to_string(),
            }),
            Some(m) if m.is_dir() => Err(WorkspaceError::IsADirectory {
                path: path.to_string(),
            }),
            Some(m) if !m.is_file() => Err(WorkspaceError::NotARegularFile {
                path: path.to_string(),
                kind: "a device, socket or pipe".to_string(),
            }),
            Some(_) => Ok(r),
        }
    }

    /// `read_text_file`: lines of a text file, at most 256 KiB of them. `head`, `tail` and
    /// `offset`/`limit` choose the lines; without them the file is read from the start.
    pub fn read_text_file(&self, p: &ReadTextFileParams) -> WsResult<TextFile> {
        self.read_bounded(p, MAX_READ_BYTES)
    }

    fn read_bounded(&self, p: &ReadTextFileParams, budget: usize) -> WsResult<TextFile> {
        let selection = Selection::from_params(p)?;
        let r = self.resolve_file(&p.path)?;
        let file = self
            .jail()
            .dir()
            .open(r.cap_path())
            .map_err(|e| self.jail().io_error("reading", &p.path, e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = BufReader::with_capacity(64 * 1024, file.into_std());
        let picked = selection
            .pick(reader, size, budget)
            .map_err(|e| self.jail().io_error("reading", &p.path, e))?;
        Ok(picked.into_text_file(r.display(), size, budget))
    }

    /// `read_multiple_files`: each file as `read_text_file` reads it; a file that cannot be
    /// read gets an error of its own and the others are still returned.
    pub fn read_multiple_files(&self, p: &ReadMultipleFilesParams) -> WsResult<MultipleFiles> {
        read_many(p, |path, budget| {
            self.read_bounded(&ReadTextFileParams::path(path.to_string()), budget)
        })
    }

    /// `write_file`: replaces the whole file atomically (temporary file in the same folder,
    /// synced, renamed over), keeping the permissions of the file it replaces and creating
    /// missing folders.
    pub fn write_file_with(&self, p: &WriteFileParams) -> WsResult<WriteOutcome> {
        let r = self.jail().resolve(&p.path, FinalLink::Follow)?;
        let created = write_atomic(
            self.jail(),
            &p.path,
            &r,
            p.content.as_bytes(),
            Mode::Replace,
        )?;
        Ok(WriteOutcome {
            path: r.display(),
            bytes: p.content.len(),
            created,
        })
    }

    /// [`Self::write_file_with`] without building the parameters.
    pub fn write_file(&self, path: &str, content: &str) -> WsResult<WriteOutcome> {
        self.write_file_with(&WriteFileParams {
            path: path.to_string(),
            content: content.to_string(),
        })
    }

    /// `edit_file`: exact-text replacements applied in order, written atomically; returns a
    /// unified diff. An oldText that is missing, or found more than once without
    /// `replaceAll`, fails the whole call and nothing is written. In a file with CRLF line
    /// endings, an oldText written with LF matches (and newText gets CRLF).
    pub fn edit_file(&self, p: &EditFileParams) -> WsResult<EditOutcome> {
        check_edits(p)?;
        let r = self.resolve_file(&p.path)?;
        let io = |e| self.jail().io_error("reading", &p.path, e);
        let file = self.jail().dir().open(r.cap_path()).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_EDIT_BYTES {
            return Err(WorkspaceError::InvalidArgument(format!(
                "{:?} is {size} bytes; edit_file edits files up to {MAX_EDIT_BYTES} bytes. \
                 Use write_file to replace it",
                p.path
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.into_std().read_to_end(&mut bytes).map_err(io)?;
        let original = String::from_utf8(bytes).map_err(|_| {
            WorkspaceError::InvalidArgument(format!(
                "{:?} is not UTF-8 text; edit_file edits text files only",
                p.path
            ))
        })?;
        let shown = r.display();
        let (text, diff, replacements) = apply_edits(p, &original, &shown)?;
        let written = !p.dry_run && text != original;
        if written {
            write_atomic(self.jail(), &p.path, &r, text.as_bytes(), Mode::Replace)?;
        }
        Ok(EditOutcome {
            path: shown,
            diff,
            replacements,
            written,
        })
    }

    /// `create_directory`: creates the folder and any missing parents; an existing folder is
    /// fine.
    pub fn create_directory(&self, p: &PathParams) -> WsResult<CreateDirectoryOutcome> {
        let r = self.jail().resolve(&p.path, FinalLink::Follow)?;
        match r.metadata() {
            Some(m) if m.is_dir() => Ok(CreateDirectoryOutcome {
                path: r.display(),
                created: false,
            }),
            Some(_) => Err(WorkspaceError::AlreadyExists {
                path: p.path.clone(),
            }),
            None => {
                self.jail()
                    .dir()
                    .create_dir_all(r.cap_path())
                    .map_err(|e| self.jail().io_error("creating", &p.path, e))?;
                Ok(CreateDirectoryOutcome {
                    path: r.display(),
                    created: true,
                })
            }
        }
    }

    /// `move_file`: moves or renames a file or folder. Refuses to replace anything at the
    /// destination. A symbolic link is moved as a link.
    pub fn move_file(&self, p: &MoveFileParams) -> WsResult<MoveOutcome> {
        let jail = self.jail();
        let src = jail.resolve(&p.source, FinalLink::Keep)?;
        if src.is_root() {
            return Err(jail.denied(&p.source, "is the workspace root, which cannot be moved"));
        }
        if !src.exists() {
            return Err(WorkspaceError::NotFound {
                path: p.source.clone(),
            });
        }
        let dst = jail.resolve(&p.destination, FinalLink::Keep)?;
        if dst.exists() {
            return Err(WorkspaceError::AlreadyExists {
                path: p.destination.clone(),
            });
        }
        if let Some((parent, _)) = dst.split()
            && parent != std::path::Path::new(".")
        {
            match jail.dir().create_dir_all(parent) {
                Ok(()) => {}
                // A link swapped in for a folder: the rename below says whether it is safe.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(jail.io_error("creating the folders for", &p.destination, e)),
            }
        }
        jail.dir()
            .rename(src.cap_path(), jail.dir(), dst.cap_path())
            .map_err(|e| jail.io_error("moving", &p.source, e))?;
        Ok(MoveOutcome {
            source: src.display(),
            destination: dst.display(),
        })
    }

    /// `get_file_info`: size, times, kind and permissions of a file or folder.
    pub fn get_file_info(&self, p: &PathParams) -> WsResult<FileInfo> {
        let jail = self.jail();
        let r = jail.resolve(&p.path, FinalLink::Follow)?;
        if !r.exists() {
            return Err(WorkspaceError::NotFound {
                path: p.path.clone(),
            });
        }
        let symlink = jail
            .resolve(&p.path, FinalLink::Keep)
            .ok()
            .and_then(|k| k.metadata().map(|m| m.is_symlink()))
            .unwrap_or(false);
        let m = jail
            .dir()
            .metadata(r.cap_path())
            .map_err(|e| jail.io_error("reading information about", &p.path, e))?;
        let time = |t: std::io::Result<cap_std::time::SystemTime>| {
            t.ok().and_then(|t| rfc3339(t.into_std()))
        };
        let perms = m.permissions();
        Ok(FileInfo {
            path: r.display(),
            kind: EntryKind::of(m.file_type()),
            symlink,
            size: m.len(),
            created: time(m.created()),
            modified: time(m.modified()),
            accessed: time(m.accessed()),
            permissions: permissions_text(&perms),
            readonly: perms.readonly(),
        })
    }
}

/// RFC 3339 UTC, seconds precision.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> Option<String> {
    let t = time::OffsetDateTime::from(t);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC).format(&format).ok()
}

#[cfg(unix)]
fn permissions_text(p: &cap_std::fs::Permissions) -> String {
    use cap_std::fs::PermissionsExt;
    format!("{:o}", p.mode() & 0o7777)
}

#[cfg(not(unix))]
fn permissions_text(p: &cap_std::fs::Permissions) -> String {
    if p.readonly() { "r" } else { "rw" }.to_string()
}

/// Which lines a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    Head(usize),
    Tail(usize),
    /// First line (from 1) and the most lines.
    Range {
        offset: usize,
        limit: Option<usize>,
    },
}

/// An `edit_file` call must give edits.
pub(crate) fn check_edits(p: &EditFileParams) -> WsResult<()> {
    if p.edits.is_empty() {
        return Err(WorkspaceError::InvalidArgument(
            "no edits given; pass edits: [{oldText, newText}]".to_string(),
        ));
    }
    Ok(())
}

/// `edit_file`'s replacements applied to `original` (shown as `shown` in the diff), on any
/// engine: the new text, the unified diff (empty when nothing changed) and the number of
/// replacements. An oldText that is missing, or found more than once without `replaceAll`,
/// is an error and nothing is changed.
pub(crate) fn apply_edits(
    p: &EditFileParams,
    original: &str,
    shown: &str,
) -> WsResult<(String, String, usize)> {
    let crlf = original.contains("\r\n");
    let mut text = original.to_string();
    let mut replacements = 0;
    for (i, edit) in p.edits.iter().enumerate() {
        let index = i + 1;
        if edit.old_text.is_empty() {
            return Err(WorkspaceError::InvalidArgument(format!(
                "edit {index}: oldText is empty; give the exact text to replace"
            )));
        }
        let (old, new) = if crlf && edit.old_text.contains('\n') && !edit.old_text.contains('\r') {
            (
                edit.old_text.replace('\n', "\r\n"),
                edit.new_text.replace("\r\n", "\n").replace('\n', "\r\n"),
            )
        } else {
            (edit.old_text.clone(), edit.new_text.clone())
        };
        let count = text.matches(old.as_str()).count();
        match count {
            0 => {
                return Err(WorkspaceError::EditNotFound {
                    path: p.path.clone(),
                    index,
                });
            }
            1 => {
                text = text.replacen(old.as_str(), &new, 1);
                replacements += 1;
            }
            _ if p.replace_all => {
                text = text.replace(old.as_str(), &new);
                replacements += count;
            }
            _ => {
                return Err(WorkspaceError::EditAmbiguous {
                    path: p.path.clone(),
                    index,
                    count,
                });
            }
        }
    }
    let diff = if text == original {
        String::new()
    } else {
        similar::TextDiff::from_lines(original, &text)
            .unified_diff()
            .context_radius(3)
            .header(shown, shown)
            .to_string()
    };
    Ok((text, diff, replacements))
}

/// `read_multiple_files` over any engine: each file as `read_bounded(path, budget)` reads it,
/// within the call's total; a file that cannot be read gets an error of its own and the
/// others are still returned.
pub(crate) fn read_many(
    p: &ReadMultipleFilesParams,
    read_bounded: impl Fn(&str, usize) -> WsResult<TextFile>,
) -> WsResult<MultipleFiles> {
    if p.paths.len() > MAX_MULTI_READ_FILES {
        return Err(WorkspaceError::InvalidArgument(format!(
            "{} paths given; read at most {MAX_MULTI_READ_FILES} files per call",
            p.paths.len()
        )));
    }
    let mut left = MAX_MULTI_READ_BYTES;
    let mut files = Vec::with_capacity(p.paths.len());
    for path in &p.paths {
        if left == 0 {
            files.push(FileRead {
                path: path.clone(),
                file: None,
                error: Some(format!(
                    "not read: this call already returned {} KiB; read it with \
                     read_text_file",
                    MAX_MULTI_READ_BYTES / 1024
                )),
            });
            continue;
        }
        let budget = left.min(MAX_READ_BYTES);
        match read_bounded(path, budget) {
            Ok(file) => {
                // A cut file used its whole share of what is left.
                let used = if file.truncated {
                    budget
                } else {
                    file.content.len()
                };
                left -= used.min(left);
                files.push(FileRead {
                    path: path.clone(),
                    file: Some(file),
                    error: None,
                });
            }
            Err(e) => files.push(FileRead {
                path: path.clone(),
                file: None,
                error: Some(e.to_string()),
            }),
        }
    }
    Ok(MultipleFiles { files })
}

impl Selection {
    pub(crate) fn from_params(p: &ReadTextFileParams) -> WsResult<Self> {
        let ranged = p.offset.is_some() || p.limit.is_some();
        match (p.head, p.tail, ranged) {
            (Some(_), Some(_), _) => Err(WorkspaceError::InvalidArgument(
                "head and tail were both given; use one of them".to_string(),
            )),
            (Some(_), _, true) | (_, Some(_), true) => Err(WorkspaceError::InvalidArgument(
                "head/tail and offset/limit were both given; use head, tail, or offset with \
                 limit"
                    .to_string(),
            )),
            (Some(n), None, false) => Ok(Selection::Head(n)),
            (None, Some(n), false) => Ok(Selection::Tail(n)),
            (None, None, _) => Ok(Selection::Range {
                offset: p.offset.unwrap_or(1).max(1),
                limit: p.limit,
            }),
        }
    }

    pub(crate) fn pick(
        self,
        mut reader: impl BufRead,
        size: u64,
        budget: usize,
    ) -> std::io::Result<Picked> {
        // The common case: a small whole file, in one read.
        if self
            == (Selection::Range {
                offset: 1,
                limit: None,
            })
            && size <= budget as u64
        {
            let mut bytes = Vec::with_capacity(size as usize);
            reader.read_to_end(&mut bytes)?;
            if bytes.len() <= budget {
                let lines = count_lines(&bytes);
                return Ok(Picked {
                    bytes,
                    start: 1,
                    lines,
                    total: Some(lines),
                    cut: false,
                    at_end: true,
                });
            }
            // The file grew since its size was read: take the general path on what we have.
            return Selection::Range {
                offset: 1,
                limit: None,
            }
            .pick(std::io::Cursor::new(bytes), size, budget);
        }

        let mut line = Vec::new();
        let mut number = 0usize;
        match self {
            Selection::Tail(n) => {
                let mut kept: VecDeque<Vec<u8>> = VecDeque::new();
                let mut kept_bytes = 0usize;
                let mut cut = false;
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line)? == 0 {
                        break;
                    }
                    number += 1;
                    if n == 0 {
                        continue;
                    }
                    kept_bytes += line.len();
                    kept.push_back(std::mem::take(&mut line));
                    if kept.len() > n {
                        kept_bytes -= kept.pop_front().map_or(0, |l| l.len());
                    }
                    while kept_bytes > budget && kept.len() > 1 {
                        kept_bytes -= kept.pop_front().map_or(0, |l| l.len());
                        cut = true;
                    }
                }
                let lines = kept.len();
                let mut bytes: Vec<u8> = kept.into_iter().flatten().collect();
                if bytes.len() > budget {
                    // One line longer than the budget: keep its end.
                    let drop = bytes.len() - budget;
                    bytes.drain(..drop);
                    let valid = first_char_boundary(&bytes);
                    bytes.drain(..valid);
                    cut = true;
                }
                Ok(Picked {
                    bytes,
                    start: number + 1 - lines.min(number + 1),
                    lines,
                    total: Some(number),
                    cut,
                    at_end: true,
                })
            }
            Selection::Head(n) => Self::forward(reader, 1, Some(n), budget),
            Selection::Range { offset, limit } => Self::forward(reader, offset, limit, budget),
        }
    }

    fn forward(
        mut reader: impl BufRead,
        offset: usize,
        limit: Option<usize>,
        budget: usize,
    ) -> std::io::Result<Picked> {
        let mut line = Vec::new();
        let mut number = 0usize;
        let mut bytes = Vec::new();
        let mut lines = 0usize;
        let mut cut = false;
        let mut at_end = false;
        loop {
            if limit.is_some_and(|l| lines >= l) {
                // Peek: is there anything after the last line returned?
                at_end = reader.fill_buf()?.is_empty();
                break;
            }
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                at_end = true;
                break;
            }
            number += 1;
            if number < offset {
                continue;
            }
            if bytes.len() + line.len() > budget {
                if lines == 0 {
                    // A single line longer than the budget: return its start.
                    let end = last_char_boundary(&line[..budget]);
                    bytes.extend_from_slice(&line[..end]);
                    lines = 1;
                }
                cut = true;
                break;
            }
            bytes.extend_from_slice(&line);
            lines += 1;
        }
        Ok(Picked {
            bytes,
            start: if lines == 0 { 0 } else { offset },
            lines,
            total: at_end.then_some(number),
            cut,
            at_end,
        })
    }
}

pub(crate) struct Picked {
    bytes: Vec<u8>,
    /// Number of the first line (from 1); 0 when no line.
    start: usize,
    lines: usize,
    total: Option<usize>,
    /// The budget stopped the read before what was asked.
    cut: bool,
    /// Nothing in the file after the last line returned.
    at_end: bool,
}

impl Picked {
    pub(crate) fn into_text_file(self, path: String, size: u64, budget: usize) -> TextFile {
        let start = if self.lines == 0 { 0 } else { self.start };
        let end = if self.lines == 0 {
            0
        } else {
            start + self.lines - 1
        };
        // Where to read on: after a cut line, the next line (its rest is not reachable by
        // lines; grep finds text in it).
        let next_offset = (!self.at_end && self.lines > 0).then_some(end + 1);
        let note = match (self.cut, next_offset) {
            (true, Some(next)) => Some(format!(
                "Showing lines {start}-{end} of a {size}-byte file: one read returns at most \
                 {} KiB. Read on with offset={next} (and a limit), or use tail or grep",
                budget / 1024
            )),
            (true, None) => Some(format!(
                "Showing lines {start}-{end}: one read returns at most {} KiB; ask for fewer \
                 lines (offset and limit) to see the rest",
                budget / 1024
            )),
            (false, Some(next)) => Some(format!("More lines follow; read on with offset={next}")),
            (false, None) => None,
        };
        TextFile {
            path,
            content: String::from_utf8(self.bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            start_line: start,
            end_line: end,
            total_lines: self.total,
            size,
            truncated: self.cut,
            next_offset,
            note,
        }
    }
}

fn count_lines(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// The longest prefix length of `bytes` that does not end inside a UTF-8 character.
fn last_char_boundary(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => bytes.len(),
    }
}

/// How many bytes at the start of `bytes` are the tail of a cut UTF-8 character.
fn first_char_boundary(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take(3)
        .take_while(|&&b| (b & 0xC0) == 0x80)
        .count()
}

#[cfg(test)]
mod tests;
