//! The workspace on the team store: files and handoffs as versioned documents (path → UTF-8
//! text) in the team's schema, on the team store's connection ([`TeamMemory`]'s).
//!
//! - **Documents** (`docs`): one row per path with its text, version, who created it and who
//!   changed it last (`client · member`, as memory's writes). A delete leaves a tombstone;
//!   versions go on after it.
//! - **History** (`doc_versions`): every put and delete, numbered by the workspace's own feed
//!   counter (`doc_counter`), which a write holds (row lock) from its first statement to its
//!   commit — so numbers are handed out in commit order and a reader polling by cursor never
//!   skips a change (the reasoning of memory's feed, see `memory::team`).
//! - **Compare-and-swap**: every write says what it expects ([`Expect`]): any version, no
//!   document (an exclusive create), or a version. A handoff's claim is an update expecting the
//!   version it read: of two machines claiming at once, exactly one commits.
//! - **Path rules** replace the folder's jail: a path is relative, `/`-separated, with no
//!   `..` and no empty or `.` parts, and every part a name all systems accept
//!   ([`super::portable`]). Text only: a NUL character is refused as binary.

use postgres::{Transaction, error::SqlState};

use super::{
    HANDOFFS_DIR,
    error::{WorkspaceError, WsResult},
    files::{
        EditFileParams, EditOutcome, EntryKind, FileInfo, MAX_READ_BYTES, MoveFileParams,
        MoveOutcome, MultipleFiles, PathParams, ReadMultipleFilesParams, ReadTextFileParams,
        Selection, TextFile, WriteFileParams, WriteOutcome, apply_edits, check_edits, read_many,
    },
    grep::{Grep, GrepParams, GrepResult, result as grep_result},
    handoff::{
        self, HandoffCreateParams, HandoffCreated, HandoffDoc, HandoffList, HandoffListParams,
        HandoffReadParams, HandoffUpdateParams, HandoffUpdated,
    },
    listing::{
        DirectoryListing, DirectoryTree, DirectoryTreeParams, SearchFilesParams, SearchFilesResult,
        Tree, directory_tree_in, list_directory_in, search_files_in,
    },
};
use crate::{
    Result, StoreError,
    memory::{page_of, team::TeamMemory},
    text::timestamp,
};

/// The largest document, in bytes of UTF-8.
pub const MAX_DOC_BYTES: usize = 4 * 1024 * 1024;
/// The most rows one page of a listing or of the feed holds.
pub const MAX_PAGE: usize = 1000;

/// What a write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there (a new version, or the first).
    Any,
    /// No live document: an exclusive create.
    Absent,
    /// This version of the live document.
    Version(i64),
}

/// A live document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub path: String,
    pub text: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// A live document without its text, as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocSummary {
    pub path: String,
    pub version: i64,
    pub bytes: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// The start of a document: its path, its first bytes, and when it was last changed.
pub type DocHead = (String, String, String);

/// What a put or delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocWritten {
    pub path: String,
    pub version: i64,
    /// The document did not exist (or was deleted) before.
    pub created: bool,
}

/// One version of a document, newest first in [`TeamDocs::history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocVersion {
    pub seq: i64,
    pub version: i64,
    pub op: String,
    pub text: Option<String>,
    pub at: String,
    pub by: String,
}

/// One change of the workspace's feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocChange {
    pub seq: i64,
    pub path: String,
    pub op: String,
    pub version: i64,
    pub at: String,
    pub by: String,
}

/// A page of the feed: the changes after the cursor given, the cursor to give next, and
/// whether more are waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocChangesPage {
    pub changes: Vec<DocChange>,
    pub cursor: i64,
    pub more: bool,
}

/// The team's workspace documents.
pub struct TeamDocs {
    store: std::sync::Arc<TeamMemory>,
}

/// A path as the team stores it, or why it cannot be one.
pub fn doc_path(input: &str) -> Result<String> {
    let refuse = |why: &str| StoreError::InvalidArgument(format!("{input:?} {why}"));
    if input.is_empty() {
        return Err(refuse("is empty: give a path such as plans/auth.md"));
    }
    if input.starts_with('/') || input.contains('\\') || input.as_bytes().get(1) == Some(&b':') {
        return Err(refuse(
            "is not a path inside the workspace: give it relative, with / between folders",
        ));
    }
    let mut parts = Vec::new();
    for part in input.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(refuse(
                    "goes up with \"..\": paths stay inside the workspace",
                ));
            }
            name => {
                if let Some(reason) = super::portable::unportable(name) {
                    return Err(refuse(&format!(
                        "has the name {name:?}, which not every system accepts: {reason}"
                    )));
                }
                parts.push(name);
            }
        }
    }
    if parts.is_empty() {
        return Err(refuse("names the workspace itself, not a file in it"));
    }
    Ok(parts.join("/"))
}

fn check_text(path: &str, text: &str) -> Result<()> {
    if text.len() > MAX_DOC_BYTES {
        return Err(StoreError::InvalidArgument(format!(
            "{path}: {} bytes is over the limit of {MAX_DOC_BYTES} bytes for a file in the team's \
             workspace",
            text.len()
        )));
    }
    if text.contains('\0') {
        return Err(StoreError::InvalidArgument(format!(
            "{path} looks binary (it holds a NUL character): the team's workspace keeps text \
             files only"
        )));
    }
    Ok(())
}

impl TeamDocs {
    /// The workspace of the team `store` belongs to (its schema is set up by then).
    pub fn new(store: std::sync::Arc<TeamMemory>) -> Self {
        Self { store }
    }

    /// The live document at `path`, if there is one.
    pub fn get(&self, path: &str) -> Result<Option<Doc>> {
        let path = doc_path(path)?;
        let s = &self.store;
        s.again(|| {
            let row = s
                .client()?
                .query_opt(
                    &s.sql(
                        "SELECT path, text, version, created_at, created_by, updated_at,
                                updated_by
                         FROM {s}.docs WHERE path = $1 AND NOT deleted",
                    ),
                    &[&path],
                )
                .map_err(|e| s.err(e))?;
            Ok(row.map(|r| Doc {
                path: r.get(0),
                text: r.get(1),
                version: r.get(2),
                created_at: r.get(3),
                created_by: r.get(4),
                updated_at: r.get(5),
                updated_by: r.get(6),
            }))
        })
    }

    /// Writes `text` at `path` when what is there is what `expect` says; a conflict is refused
    /// with what is there, and nothing is written.
    pub fn put(&self, path: &str, text: &str, expect: Expect, by: &str) -> Result<DocWritten> {
        let path = doc_path(path)?;
        check_text(&path, text)?;
        let by = self.store.signed(by);
        self.write(|tx, seq, s| {
            let current = current(tx, s, &path)?;
            check_expect(&path, expect, current.as_ref())?;
            let at = timestamp(time::OffsetDateTime::now_utc());
            let (version, created) = match &current {
                Some(c) => (c.version + 1, c.deleted),
                None => (1, true),
            };
            let write = if current.is_some() {
                "UPDATE {s}.docs SET text = $2, version = $3, deleted = false, updated_at = $4,
                        updated_by = $5,
                        created_at = CASE WHEN deleted THEN $4 ELSE created_at END,
                        created_by = CASE WHEN deleted THEN $5 ELSE created_by END
                 WHERE path = $1"
            } else {
                "INSERT INTO {s}.docs (path, text, version, created_at, created_by, updated_at,
                                       updated_by)
                 VALUES ($1, $2, $3, $4, $5, $4, $5)"
            };
            tx.execute(&s.sql(write), &[&path, &text, &version, &at, &by])
                .map_err(|e| s.err(e))?;
            log(tx, s, seq, &path, version, "put", Some(text), &at, &by)?;
            Ok(DocWritten {
                path: path.clone(),
                version,
                created,
            })
        })
    }

    /// Deletes the document at `path` (a tombstone: its history stays, and a later put goes on
    /// from its version) when what is there is what `expect` says.
    pub fn delete(&self, path: &str, expect: Expect, by: &str) -> Result<DocWritten> {
        let path = doc_path(path)?;
        let by = self.store.signed(by);
        self.write(|tx, seq, s| {
            let current = current(tx, s, &path)?;
            let live = current.as_ref().filter(|c| !c.deleted);
            let Some(live) = live else {
                return Err(StoreError::DocNotFound { path: path.clone() });
            };
            check_expect(&path, expect, Some(live))?;
            let at = timestamp(time::OffsetDateTime::now_utc());
            let version = live.version + 1;
            tx.execute(
                &s.sql(
                    "UPDATE {s}.docs SET text = NULL, version = $2, deleted = true,
                            updated_at = $3, updated_by = $4
                     WHERE path = $1",
                ),
                &[&path, &version, &at, &by],
            )
            .map_err(|e| s.err(e))?;
            log(tx, s, seq, &path, version, "delete", None, &at, &by)?;
            Ok(DocWritten {
                path: path.clone(),
                version,
                created: false,
            })
        })
    }

    /// Live documents under `prefix` (a folder path, or empty for all), in path order, after
    /// `after`, at most `limit` (≤ [`MAX_PAGE`]).
    pub fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<DocSummary>> {
        let prefix = match prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{}/", doc_path(p)?),
        };
        let pattern = format!("{}%", like_escape(&prefix));
        let limit = limit.clamp(1, MAX_PAGE) as i64;
        let after = after.unwrap_or("");
        let s = &self.store;
        s.again(|| {
            let rows = s
                .client()?
                .query(
                    &s.sql(
                        "SELECT path, version, octet_length(text)::bigint, updated_at, updated_by
                         FROM {s}.docs
                         WHERE NOT deleted AND path LIKE $1 AND path > $2
                         ORDER BY path LIMIT $3",
                    ),
                    &[&pattern, &after, &limit],
                )
                .map_err(|e| s.err(e))?;
            Ok(rows
                .iter()
                .map(|r| DocSummary {
                    path: r.get(0),
                    version: r.get(1),
                    bytes: r.get(2),
                    updated_at: r.get(3),
                    updated_by: r.get(4),
                })
                .collect())
        })
    }

    /// Every version of `path`, newest first (at most `limit`, ≤ [`MAX_PAGE`]).
    pub fn history(&self, path: &str, limit: usize) -> Result<Vec<DocVersion>> {
        let path = doc_path(path)?;
        let limit = limit.clamp(1, MAX_PAGE) as i64;
        let s = &self.store;
        s.again(|| {
            let rows = s
                .client()?
                .query(
                    &s.sql(
                        "SELECT seq, version, op, text, at, by FROM {s}.doc_versions
                         WHERE path = $1 ORDER BY version DESC LIMIT $2",
                    ),
                    &[&path, &limit],
                )
                .map_err(|e| s.err(e))?;
            Ok(rows
                .iter()
                .map(|r| DocVersion {
                    seq: r.get(0),
                    version: r.get(1),
                    op: r.get(2),
                    text: r.get(3),
                    at: r.get(4),
                    by: r.get(5),
                })
                .collect())
        })
    }

    /// The feed after `since` (0: from the start), in commit order, at most `limit`
    /// (≤ [`MAX_PAGE`]) a page.
    pub fn changes(&self, since: i64, limit: usize) -> Result<DocChangesPage> {
        let s = &self.store;
        s.again(|| {
            let mut client = s.client()?;
            read_doc_changes(&mut client, &s.sql("{s}"), since, limit, &|e| s.err(e))
        })
    }

    /// The number of the newest change of the workspace's feed (0 when there is none).
    pub fn last_seq(&self) -> Result<i64> {
        let s = &self.store;
        s.again(|| {
            Ok(s.client()?
                .query_one(&s.sql("SELECT seq FROM {s}.doc_counter"), &[])
                .map_err(|e| s.err(e))?
                .get(0))
        })
    }

    /// A listener on the workspace's doorbell, on a connection of its own, which also reads
    /// the feed (see [`read_listened`]).
    pub fn listen(&self) -> Result<crate::memory::team::TeamListener> {
        self.store.listen_on(&docs_channel(self.store.team()))
    }

    /// Runs `f` in a transaction holding the workspace's feed counter, with the last number
    /// given (each change `f` logs takes the next), then moves the counter, rings the
    /// workspace's doorbell and commits. Tried once more
    /// on a new connection when the connection had broken before `f` was handed over.
    fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Transaction<'_>, &mut i64, &TeamMemory) -> Result<T>,
    {
        let s = &*self.store;
        let mut f = Some(f);
        let attempt = |f: &mut Option<F>| -> Result<T> {
            let mut client = s.client()?;
            let mut tx = client.transaction().map_err(|e| s.err(e))?;
            let seq: i64 = tx
                .query_one(&s.sql("SELECT seq FROM {s}.doc_counter FOR UPDATE"), &[])
                .map_err(|e| s.err(e))?
                .get(0);
            let Some(f) = f.take() else {
                return Err(StoreError::Team {
                    at: s.shown().to_string(),
                    reason: "a write ran twice".into(),
                });
            };
            let mut next = seq;
            let out = f(&mut tx, &mut next, s)?;
            if next != seq {
                tx.execute(&s.sql("UPDATE {s}.doc_counter SET seq = $1"), &[&next])
                    .map_err(|e| s.err(e))?;
                tx.execute(
                    "SELECT pg_notify($1, $2)",
                    &[&docs_channel(s.team()), &next.to_string()],
                )
                .map_err(|e| s.err(e))?;
            }
            tx.commit().map_err(|e| s.commit_err(e))?;
            Ok(out)
        };
        match attempt(&mut f) {
            Err(_) if f.is_some() && s.broken() => attempt(&mut f),
            done => done,
        }
    }
}

impl TeamDocs {
    /// The start (up to `max_bytes`, cut at a character) of every live document directly in
    /// the folder `folder`, with its path and when it was last changed, in path order.
    pub fn heads(&self, folder: &str, max_bytes: usize) -> Result<Vec<DocHead>> {
        let folder = doc_path(folder)?;
        let pattern = format!("{}/%", like_escape(&folder));
        let nested = format!("{}/%/%", like_escape(&folder));
        let max = i32::try_from(max_bytes).unwrap_or(i32::MAX);
        let s = &self.store;
        s.again(|| {
            let rows = s
                .client()?
                .query(
                    &s.sql(
                        "SELECT path, left(text, $3), updated_at FROM {s}.docs
                         WHERE NOT deleted AND path LIKE $1 AND path NOT LIKE $2
                         ORDER BY path",
                    ),
                    &[&pattern, &nested, &max],
                )
                .map_err(|e| s.err(e))?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })
    }

    /// `handoff_create` on the team's workspace (see [`handoff::create`]).
    pub fn handoff_create(&self, p: &HandoffCreateParams, by: &str) -> WsResult<HandoffCreated> {
        handoff::create(self, p, by)
    }

    /// `handoff_list` on the team's workspace (see [`handoff::list`]).
    pub fn handoff_list(&self, p: &HandoffListParams) -> WsResult<HandoffList> {
        handoff::list(self, p)
    }

    /// `handoff_read` on the team's workspace (see [`handoff::read`]).
    pub fn handoff_read(&self, p: &HandoffReadParams) -> WsResult<HandoffDoc> {
        handoff::read(self, p)
    }

    /// `handoff_update` on the team's workspace (see [`handoff::update`]): every update is a
    /// compare-and-swap on the version read, so of two machines claiming at once exactly one
    /// wins.
    pub fn handoff_update(&self, p: &HandoffUpdateParams, by: &str) -> WsResult<HandoffUpdated> {
        handoff::update(self, p, by)
    }
}

/// The file tools on the team's documents, with the same bounds and outputs as on the folder.
impl TeamDocs {
    /// `read_text_file` (see [`super::Workspace::read_text_file`]).
    pub fn read_text_file(&self, p: &ReadTextFileParams) -> WsResult<TextFile> {
        self.read_bounded(p, MAX_READ_BYTES)
    }

    fn read_bounded(&self, p: &ReadTextFileParams, budget: usize) -> WsResult<TextFile> {
        let selection = Selection::from_params(p)?;
        let doc = self.get(&p.path)?.ok_or_else(|| WorkspaceError::NotFound {
            path: p.path.clone(),
        })?;
        let size = doc.text.len() as u64;
        let picked = selection
            .pick(std::io::Cursor::new(doc.text.as_bytes()), size, budget)
            .map_err(|source| WorkspaceError::Io {
                action: "reading",
                path: p.path.clone(),
                source,
            })?;
        Ok(picked.into_text_file(doc.path, size, budget))
    }

    /// `read_multiple_files` (see [`super::Workspace::read_multiple_files`]).
    pub fn read_multiple_files(&self, p: &ReadMultipleFilesParams) -> WsResult<MultipleFiles> {
        read_many(p, |path, budget| {
            self.read_bounded(&ReadTextFileParams::path(path.to_string()), budget)
        })
    }

    /// `edit_file` (see [`super::Workspace::edit_file`]): the edits applied to the version
    /// read and written expecting that version; when someone wrote meanwhile, read again and
    /// applied again (the edits must still match), at most 3 times.
    pub fn edit_file(&self, p: &EditFileParams, by: &str) -> WsResult<EditOutcome> {
        check_edits(p)?;
        for _ in 0..3 {
            let doc = self.get(&p.path)?.ok_or_else(|| WorkspaceError::NotFound {
                path: p.path.clone(),
            })?;
            let (text, diff, replacements) = apply_edits(p, &doc.text, &doc.path)?;
            let written = !p.dry_run && text != doc.text;
            if written {
                match self.put(&doc.path, &text, Expect::Version(doc.version), by) {
                    Ok(_) => {}
                    Err(StoreError::DocConflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(EditOutcome {
                path: doc.path,
                diff,
                replacements,
                written,
            });
        }
        Err(WorkspaceError::Contended {
            path: p.path.clone(),
        })
    }

    /// `get_file_info` (see [`super::Workspace::get_file_info`]): a document, or a folder (a
    /// prefix of documents). Times are the document's; a member may write every document.
    pub fn get_file_info(&self, p: &PathParams) -> WsResult<FileInfo> {
        let path = match p.path.trim() {
            "" | "." | "./" => String::new(),
            other => doc_path(other)?,
        };
        if !path.is_empty()
            && let Some(doc) = self.get(&path)?
        {
            return Ok(FileInfo {
                path: doc.path,
                kind: EntryKind::File,
                symlink: false,
                size: doc.text.len() as u64,
                created: Some(doc.created_at),
                modified: Some(doc.updated_at),
                accessed: None,
                permissions: "rw".into(),
                readonly: false,
            });
        }
        let (_, display, _) = self.resolve_dir(&p.path)?;
        Ok(FileInfo {
            path: display,
            kind: EntryKind::Dir,
            symlink: false,
            size: 0,
            created: None,
            modified: None,
            accessed: None,
            permissions: "rw".into(),
            readonly: false,
        })
    }

    /// `move_file`: a document, or a folder with every document under it, to a destination
    /// that does not exist — in one transaction (each move is a delete at the old path and a
    /// new version at the new one, both in the history).
    pub fn move_file(&self, p: &MoveFileParams, by: &str) -> WsResult<MoveOutcome> {
        let root = |path: &str| matches!(path.trim(), "" | "." | "./");
        if root(&p.source) {
            return Err(WorkspaceError::InvalidArgument(format!(
                "{:?} is the workspace root, which cannot be moved",
                p.source
            )));
        }
        let (from, to) = (doc_path(&p.source)?, doc_path(&p.destination)?);
        if to == from || to.starts_with(&format!("{from}/")) {
            return Err(WorkspaceError::InvalidArgument(format!(
                "{to:?} is inside {from:?}: a folder cannot move into itself"
            )));
        }
        let by = self.store.signed(by);
        let moved = self.write(|tx, seq, s| {
            let under = |path: &str| format!("{}/%", like_escape(path));
            let live = |tx: &mut Transaction<'_>, path: &str| -> Result<Vec<(String, String, i64)>> {
                let rows = tx
                    .query(
                        &s.sql(
                            "SELECT path, text, version FROM {s}.docs
                             WHERE NOT deleted AND (path = $1 OR path LIKE $2)
                             ORDER BY path FOR UPDATE",
                        ),
                        &[&path, &under(path)],
                    )
                    .map_err(|e| s.err(e))?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
            };
            let sources = live(tx, &from)?;
            if sources.is_empty() {
                return Err(StoreError::DocNotFound { path: from.clone() });
            }
            if !live(tx, &to)?.is_empty() {
                return Err(StoreError::DocConflict(format!(
                    "{to} already exists in the team's workspace; move_file does not replace                      anything"
                )));
            }
            let at = timestamp(time::OffsetDateTime::now_utc());
            for (path, text, version) in &sources {
                let target = format!("{to}{}", &path[from.len()..]);
                tx.execute(
                    &s.sql(
                        "UPDATE {s}.docs SET text = NULL, version = $2, deleted = true,
                                updated_at = $3, updated_by = $4
                         WHERE path = $1",
                    ),
                    &[path, &(version + 1), &at, &by],
                )
                .map_err(|e| s.err(e))?;
                log(tx, s, seq, path, version + 1, "delete", None, &at, &by)?;
                let current = current(tx, s, &target)?;
                let new_version = current.as_ref().map_or(1, |c| c.version + 1);
                let write = if current.is_some() {
                    "UPDATE {s}.docs SET text = $2, version = $3, deleted = false,
                            created_at = $4, created_by = $5, updated_at = $4, updated_by = $5
                     WHERE path = $1"
                } else {
                    "INSERT INTO {s}.docs (path, text, version, created_at, created_by,
                                           updated_at, updated_by)
                     VALUES ($1, $2, $3, $4, $5, $4, $5)"
                };
                tx.execute(&s.sql(write), &[&target, text, &new_version, &at, &by])
                    .map_err(|e| s.err(e))?;
                log(tx, s, seq, &target, new_version, "put", Some(text), &at, &by)?;
            }
            Ok(())
        });
        match moved {
            Ok(()) => Ok(MoveOutcome {
                source: from,
                destination: to,
            }),
            Err(StoreError::DocNotFound { .. }) => Err(WorkspaceError::NotFound {
                path: p.source.clone(),
            }),
            Err(StoreError::DocConflict(_)) => Err(WorkspaceError::AlreadyExists {
                path: p.destination.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// `write_file`: the whole document, as a new version.
    pub fn write_file_with(&self, p: &WriteFileParams, by: &str) -> WsResult<WriteOutcome> {
        let written = self.put(&p.path, &p.content, Expect::Any, by)?;
        Ok(WriteOutcome {
            path: written.path,
            bytes: p.content.len(),
            created: written.created,
        })
    }
}

/// The team's documents as folders and files (a folder is a prefix of the paths), for the
/// listing tools.
struct DocTree {
    /// Each folder (relative, empty for the root) and its entries by name.
    dirs: std::collections::BTreeMap<String, std::collections::BTreeMap<String, EntryKind>>,
}

impl DocTree {
    /// The folders and files under `start` (empty: everything).
    fn of(docs: &TeamDocs, start: &str) -> WsResult<Self> {
        let mut dirs = std::collections::BTreeMap::new();
        dirs.insert(String::new(), std::collections::BTreeMap::new());
        let mut after: Option<String> = None;
        loop {
            let page = docs.list(start, after.as_deref(), MAX_PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some(last.path.clone());
            for doc in &page {
                let mut dir = String::new();
                let parts: Vec<&str> = doc.path.split('/').collect();
                for (i, part) in parts.iter().enumerate() {
                    let kind = if i + 1 == parts.len() {
                        EntryKind::File
                    } else {
                        EntryKind::Dir
                    };
                    dirs.entry(dir.clone())
                        .or_insert_with(std::collections::BTreeMap::new)
                        .insert(part.to_string(), kind);
                    if !dir.is_empty() {
                        dir.push('/');
                    }
                    dir.push_str(part);
                }
            }
        }
        Ok(Self { dirs })
    }
}

impl Tree for DocTree {
    fn entries(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        self.dirs
            .get(dir)
            .map(|entries| entries.iter().map(|(n, k)| (n.clone(), *k)).collect())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
}

/// The listing tools on the team's documents, with the folder's caps and outputs.
impl TeamDocs {
    /// A folder of the team's workspace: where a walk starts, how it is shown, and the tree.
    fn resolve_dir(&self, path: &str) -> WsResult<(String, String, DocTree)> {
        let start = match path.trim() {
            "" | "." | "./" => String::new(),
            p => doc_path(p)?,
        };
        let tree = DocTree::of(self, &start)?;
        if !start.is_empty() && !tree.dirs.contains_key(&start) {
            return Err(if self.get(&start)?.is_some() {
                WorkspaceError::NotADirectory {
                    path: path.to_string(),
                }
            } else {
                WorkspaceError::NotFound {
                    path: path.to_string(),
                }
            });
        }
        let display = if start.is_empty() {
            ".".to_string()
        } else {
            start.clone()
        };
        Ok((start, display, tree))
    }

    /// `list_directory` (see [`super::Workspace::list_directory`]).
    pub fn list_directory(&self, p: &PathParams) -> WsResult<DirectoryListing> {
        let (start, display, tree) = self.resolve_dir(&p.path)?;
        list_directory_in(&tree, &start, display, &p.path)
    }

    /// `directory_tree` (see [`super::Workspace::directory_tree`]).
    pub fn directory_tree(&self, p: &DirectoryTreeParams) -> WsResult<DirectoryTree> {
        let (start, display, tree) = self.resolve_dir(&p.path)?;
        directory_tree_in(&tree, &start, display, p)
    }

    /// `search_files` (see [`super::Workspace::search_files`]).
    pub fn search_files(&self, p: &SearchFilesParams) -> WsResult<SearchFilesResult> {
        let (start, _, tree) = self.resolve_dir(&p.path)?;
        search_files_in(&tree, &start, p)
    }
}

impl TeamDocs {
    /// `grep` (see [`super::Workspace::grep`]) over the documents under `path` (a document or
    /// a folder), in the folder's order (depth first, by name). Documents are text, so none is
    /// skipped as binary; `.gitignore` files are not consulted on the team's workspace.
    pub fn grep(&self, p: &GrepParams) -> WsResult<GrepResult> {
        let shown = p.path.as_deref().unwrap_or(".");
        let mut grep = Grep::new(p)?;
        let start = match shown.trim() {
            "" | "." | "./" => String::new(),
            other => doc_path(other)?,
        };
        let mut paths: Vec<String> = match (!start.is_empty()).then(|| self.get(&start)) {
            Some(Ok(Some(doc))) => vec![doc.path],
            Some(Err(e)) => return Err(e.into()),
            _ => {
                let (_, _, tree) = self.resolve_dir(shown)?;
                let mut found = Vec::new();
                collect_files(&tree, &start, &mut found);
                found
            }
        };
        paths.sort_by(|a, b| a.split('/').cmp(b.split('/')));
        let mut matches = Vec::new();
        let (mut total, mut searched) = (0usize, 0usize);
        for path in &paths {
            if let Some(glob) = &grep.glob {
                let from_start = match path.strip_prefix(&format!("{start}/")) {
                    Some(rest) if !start.is_empty() => rest,
                    _ if start.is_empty() => path.as_str(),
                    _ => path.rsplit('/').next().unwrap_or(path),
                };
                let name = path.rsplit('/').next().unwrap_or(path);
                if !glob.is_match(from_start, name) {
                    continue;
                }
            }
            let Some(doc) = self.get(path)? else { continue };
            searched += 1;
            grep.search_text(path, doc.text.as_bytes(), &mut matches, &mut total);
        }
        Ok(grep_result(matches, total, searched, grep.max))
    }
}

/// Every file under `dir` in `tree`, as paths from the root.
fn collect_files(tree: &DocTree, dir: &str, out: &mut Vec<String>) {
    let Some(entries) = tree.dirs.get(dir) else {
        return;
    };
    for (name, kind) in entries {
        let path = if dir.is_empty() {
            name.clone()
        } else {
            format!("{dir}/{name}")
        };
        match kind {
            EntryKind::Dir => collect_files(tree, &path, out),
            _ => out.push(path),
        }
    }
}

/// The team's handoffs: documents under `handoffs/`, created with [`Expect::Absent`] and
/// replaced with [`Expect::Version`] — compare-and-swap in the database, so no lock is needed.
impl handoff::Shelf for TeamDocs {
    fn signed(&self, by: &str) -> String {
        self.store.signed(by)
    }

    fn create(&self, id: &str, text: &str, by: &str) -> WsResult<Option<String>> {
        let path = format!("{HANDOFFS_DIR}/{id}.md");
        match self.put(&path, text, Expect::Absent, by) {
            Ok(_) => Ok(Some(path)),
            Err(StoreError::DocConflict(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn read(&self, id: &str) -> WsResult<handoff::Stored> {
        let path = format!("{HANDOFFS_DIR}/{id}.md");
        let doc = self
            .get(&path)
            .map_err(|e| match e {
                StoreError::InvalidArgument(_) => WorkspaceError::HandoffNotFound { id: id.into() },
                e => e.into(),
            })?
            .ok_or_else(|| WorkspaceError::HandoffNotFound { id: id.into() })?;
        Ok(handoff::Stored {
            text: doc.text,
            modified: doc.updated_at,
            path,
            version: Some(doc.version),
        })
    }

    fn replace(&self, _id: &str, found: &handoff::Stored, text: &str, by: &str) -> WsResult<bool> {
        let expect = match found.version {
            Some(v) => Expect::Version(v),
            None => Expect::Any,
        };
        match self.put(&found.path, text, expect, by) {
            Ok(_) => Ok(true),
            Err(StoreError::DocConflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn scan(&self) -> WsResult<Vec<handoff::Shelved>> {
        Ok(self
            .heads(HANDOFFS_DIR, handoff::FRONT_MATTER_MAX)?
            .into_iter()
            .filter_map(|(path, head, modified)| {
                let name = path.rsplit('/').next()?;
                let id = name.strip_suffix(".md")?;
                (!id.is_empty() && !name.starts_with('.'))
                    .then(|| (id.to_string(), path.clone(), Ok((head, modified))))
            })
            .collect())
    }

    fn turn(&self) -> WsResult<Option<std::fs::File>> {
        Ok(None)
    }
}

/// The workspace's feed after `since`, read on a listener's own connection (see
/// [`TeamDocs::listen`]).
pub fn read_listened(
    listener: &mut crate::memory::team::TeamListener,
    since: i64,
) -> Result<DocChangesPage> {
    listener.read_with(|client, schema, err| read_doc_changes(client, schema, since, MAX_PAGE, err))
}

/// A page of the workspace's feed of the team in `schema` (quoted), on `client`.
fn read_doc_changes(
    client: &mut postgres::Client,
    schema: &str,
    since: i64,
    limit: usize,
    err: &dyn Fn(postgres::Error) -> StoreError,
) -> Result<DocChangesPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let rows = client
        .query(
            &format!(
                "SELECT seq, path, op, version, at, by FROM {schema}.doc_versions
                 WHERE seq > $1 ORDER BY seq LIMIT $2"
            ),
            &[&since, &((limit + 1) as i64)],
        )
        .map_err(err)?;
    let changes: Vec<DocChange> = rows
        .iter()
        .map(|r| DocChange {
            seq: r.get(0),
            path: r.get(1),
            op: r.get(2),
            version: r.get(3),
            at: r.get(4),
            by: r.get(5),
        })
        .collect();
    let (changes, cursor, more) = page_of(changes, |c| c.seq, Some(since), limit, || Ok(since))?;
    Ok(DocChangesPage {
        changes,
        cursor,
        more,
    })
}

/// The channel the team's workspace doorbell rings on (the new feed number).
pub fn docs_channel(team: &str) -> String {
    format!("tandem_{team}_ws")
}

/// What is at a path now, deleted or not.
struct Current {
    version: i64,
    deleted: bool,
    updated_at: String,
    updated_by: String,
}

fn current(tx: &mut Transaction<'_>, s: &TeamMemory, path: &str) -> Result<Option<Current>> {
    let row = tx
        .query_opt(
            &s.sql(
                "SELECT version, deleted, updated_at, updated_by FROM {s}.docs
                 WHERE path = $1 FOR UPDATE",
            ),
            &[&path],
        )
        .map_err(|e| s.err(e))?;
    Ok(row.map(|r| Current {
        version: r.get(0),
        deleted: r.get(1),
        updated_at: r.get(2),
        updated_by: r.get(3),
    }))
}

fn check_expect(path: &str, expect: Expect, current: Option<&Current>) -> Result<()> {
    let live = current.filter(|c| !c.deleted);
    match (expect, live) {
        (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
        (Expect::Version(v), Some(c)) if c.version == v => Ok(()),
        (Expect::Absent, Some(c)) => Err(StoreError::DocConflict(format!(
            "{path} already exists (version {}, written by {} at {})",
            c.version, c.updated_by, c.updated_at
        ))),
        (Expect::Version(v), Some(c)) => Err(StoreError::DocConflict(format!(
            "{path} changed meanwhile: expected version {v}, the current version is {} \
             (written by {} at {}); read it again before writing",
            c.version, c.updated_by, c.updated_at
        ))),
        (Expect::Version(v), None) => Err(StoreError::DocConflict(format!(
            "{path} does not exist now (expected version {v})"
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
fn log(
    tx: &mut Transaction<'_>,
    s: &TeamMemory,
    seq: &mut i64,
    path: &str,
    version: i64,
    op: &str,
    text: Option<&str>,
    at: &str,
    by: &str,
) -> Result<()> {
    *seq += 1;
    tx.execute(
        &s.sql(
            "INSERT INTO {s}.doc_versions (seq, path, version, op, text, at, by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ),
        &[&*seq, &path, &version, &op, &text, &at, &by],
    )
    .map_err(|e| match e.code() {
        Some(&SqlState::INSUFFICIENT_PRIVILEGE) => StoreError::Team {
            at: s.shown().to_string(),
            reason: format!(
                "the role {} may not write the team's workspace: the team's owner runs `tandem \
                 team init` with this version of Tandem, then `tandem team add-member` again",
                s.member()
            ),
        },
        _ => s.err(e),
    })?;
    Ok(())
}

/// `text` with LIKE's wildcards taken literally.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
#[path = "team_tests.rs"]
pub(crate) mod tests;
