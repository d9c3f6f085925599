//! Handoffs: one Markdown file per plan handed from one client to another, in
//! `handoffs/YYYY-MM-DD-HHMM-<slug>.md` (UTC), with YAML front matter (`id`, `title`,
//! `status`, `createdAt`, `createdBy`, `updatedAt`, `project`) and the sections Summary,
//! Decisions, Tasks, Open questions, Files and Log. The file stem is the id. A person may edit
//! the files or write new ones: a file with valid front matter is listed like any other, a
//! malformed one is listed with status `invalid` and the parse error.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::text::timestamp;

use super::{
    HANDOFFS_DIR, Workspace,
    error::{WorkspaceError, WsResult},
    files::{EntryKind, MAX_READ_BYTES, rfc3339},
    jail::FinalLink,
    write::{Mode, write_atomic},
};

pub const HANDOFF_LIST_DEFAULT: usize = 50;
pub const HANDOFF_LIST_MAX: usize = 500;
/// Front matter longer than this is not read (the file is listed as invalid).
pub(crate) const FRONT_MATTER_MAX: usize = 64 * 1024;
/// Most characters of a title kept in the file name.
const SLUG_CHARS: usize = 48;

// One status type for every handoff: its lifecycle, or `invalid` as a file is listed whose front
// matter does not parse. `invalid` is never written: the front matter, `handoff_update` and
// what they return take only the lifecycle (see `lifecycle`).
/// open → claimed → done (or dropped); `invalid`: listed, the front matter does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HandoffStatus {
    /// Written, waiting for someone to pick it up.
    Open,
    /// Someone is working on it.
    Claimed,
    Done,
    /// Abandoned.
    Dropped,
    /// The front matter is missing or malformed; `error` says why.
    Invalid,
}

impl HandoffStatus {
    /// The statuses a handoff can be given.
    pub const LIFECYCLE: [HandoffStatus; 4] = [
        HandoffStatus::Open,
        HandoffStatus::Claimed,
        HandoffStatus::Done,
        HandoffStatus::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HandoffStatus::Open => "open",
            HandoffStatus::Claimed => "claimed",
            HandoffStatus::Done => "done",
            HandoffStatus::Dropped => "dropped",
            HandoffStatus::Invalid => "invalid",
        }
    }
}

/// Serde and schema for a field that holds a lifecycle status (`#[serde(with = "lifecycle")]`,
/// `#[schemars(schema_with = "lifecycle::schema")]`): `invalid` is refused with what to use
/// instead, and the schema lists only the lifecycle.
pub mod lifecycle {
    use schemars::{Schema, SchemaGenerator, json_schema};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    use super::HandoffStatus;

    pub(super) const NOT_A_STATUS_TO_GIVE: &str = "`invalid` is how a file that cannot be read \
        is listed, not a status to give; use open, claimed, done or dropped";

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HandoffStatus, D::Error> {
        match HandoffStatus::deserialize(d)? {
            HandoffStatus::Invalid => Err(D::Error::custom(NOT_A_STATUS_TO_GIVE)),
            status => Ok(status),
        }
    }

    pub fn serialize<S: Serializer>(status: &HandoffStatus, s: S) -> Result<S::Ok, S::Error> {
        status.serialize(s)
    }

    pub fn schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = HandoffStatus::LIFECYCLE
            .iter()
            .map(|s| s.as_str())
            .collect();
        json_schema!({ "type": "string", "enum": names })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffCreateParams {
    /// One line: what is handed off.
    pub title: String,
    /// What and why, in Markdown.
    pub summary: String,
    /// Decisions made, one per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
    /// Concrete tasks, one per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_questions: Vec<String>,
    /// Files the work concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Project name, for filtering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffCreated {
    pub id: String,
    /// Relative to the workspace root.
    pub path: String,
    #[schemars(schema_with = "lifecycle::schema")]
    pub status: HandoffStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<HandoffStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Default 50, at most 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffSummary {
    pub id: String,
    pub title: String,
    pub status: HandoffStatus,
    /// RFC 3339, UTC (the file's modification time when the front matter has none).
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    /// Who made the last change (the creator until someone updates it).
    #[serde(default)]
    pub updated_by: String,
    /// Relative to the workspace root.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Why the file is `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffList {
    /// Newest first.
    pub handoffs: Vec<HandoffSummary>,
    /// Handoffs matching the filters, listed or not.
    pub total: usize,
    /// Left out by `limit`.
    pub omitted: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffReadParams {
    /// A handoff id, or "latest" (the newest open one).
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffDoc {
    pub id: String,
    pub title: String,
    pub status: HandoffStatus,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    /// Who made the last change (the creator until someone updates it).
    #[serde(default)]
    pub updated_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Relative to the workspace root.
    pub path: String,
    /// The whole file, front matter included (cut at 256 KiB).
    pub markdown: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffUpdateParams {
    pub id: String,
    #[serde(with = "lifecycle")]
    #[schemars(schema_with = "lifecycle::schema")]
    pub status: HandoffStatus,
    /// One line for the Log section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffUpdated {
    pub id: String,
    #[schemars(schema_with = "lifecycle::schema")]
    pub status: HandoffStatus,
    pub updated_at: String,
    pub path: String,
}

/// The front matter as Tandem writes it. Hand-written files need only `title` and `status`;
/// other keys a person adds are kept on update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FrontMatter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    title: String,
    #[serde(with = "lifecycle")]
    status: HandoffStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project: Option<String>,
}

/// The handoffs of the workspace at `root`, newest first, for callers that only look (the tray
/// app): creates nothing, and a missing folder has none.
pub fn recent_handoffs(root: &Path, limit: usize) -> WsResult<Vec<HandoffSummary>> {
    let ws = match Workspace::open_existing(root) {
        Ok(ws) => ws,
        Err(WorkspaceError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    Ok(ws
        .handoff_list(&HandoffListParams {
            limit: Some(limit.clamp(1, HANDOFF_LIST_MAX)),
            ..HandoffListParams::default()
        })?
        .handoffs)
}

/// Where handoffs are kept: the shared folder's `handoffs/`, or the team's documents under
/// it. The handoff logic (ids, rendering, lifecycle, the log, listing) is the same over both.
pub(crate) trait Shelf {
    /// `by` as this shelf records it (the team store adds the member).
    fn signed(&self, by: &str) -> String;
    /// Writes a new handoff `id`; `Ok(None)` when one by that id exists already. The path.
    fn create(&self, id: &str, text: &str, by: &str) -> WsResult<Option<String>>;
    /// The whole handoff, or `HandoffNotFound`.
    fn read(&self, id: &str) -> WsResult<Stored>;
    /// Replaces the handoff `read` found with `text` if it is still as found; `Ok(false)` when
    /// someone wrote it meanwhile (nothing written).
    fn replace(&self, id: &str, found: &Stored, text: &str, by: &str) -> WsResult<bool>;
    /// Every handoff: its id, its path, and the start of its text (its front matter at least)
    /// with its modification time, or why it could not be read.
    fn scan(&self) -> WsResult<Vec<Shelved>>;
    /// Held while an update reads, checks and writes, where the shelf needs it (the folder:
    /// its writes are not compare-and-swap by themselves).
    fn turn(&self) -> WsResult<Option<std::fs::File>>;
}

/// A handoff found by [`Shelf::scan`]: its id, its path, and the start of its text with its
/// modification time, or why it could not be read.
pub(crate) type Shelved = (String, String, WsResult<(String, String)>);

/// A handoff as read: its text, when it was last changed, its path, and its version where the
/// shelf has versions.
pub(crate) struct Stored {
    pub text: String,
    pub modified: String,
    pub path: String,
    pub version: Option<i64>,
}

/// `handoff_create`: writes a new handoff, status `open`, created by `by` (the client's name
/// and version).
pub(crate) fn create(
    shelf: &impl Shelf,
    p: &HandoffCreateParams,
    by: &str,
) -> WsResult<HandoffCreated> {
    let title = one_line(&p.title);
    if title.is_empty() {
        return Err(WorkspaceError::InvalidArgument(
            "title is empty; give the handoff a one-line title".to_string(),
        ));
    }
    let signed = shelf.signed(by);
    let now = OffsetDateTime::now_utc();
    let at = timestamp(now);
    let stem = format!(
        "{:04}-{:02}-{:02}-{:02}{:02}-{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        slug(&title)
    );
    for n in 1..=100 {
        let id = if n == 1 {
            stem.clone()
        } else {
            format!("{stem}-{n}")
        };
        let front = FrontMatter {
            id: Some(id.clone()),
            title: title.clone(),
            status: HandoffStatus::Open,
            created_at: Some(at.clone()),
            created_by: Some(one_line(&signed)),
            updated_at: Some(at.clone()),
            updated_by: Some(one_line(&signed)),
            project: p.project.as_deref().map(one_line).filter(|s| !s.is_empty()),
        };
        let markdown = render(&front, p, &at, &signed)?;
        if let Some(path) = shelf.create(&id, &markdown, by)? {
            return Ok(HandoffCreated {
                id,
                path,
                status: HandoffStatus::Open,
            });
        }
    }
    Err(WorkspaceError::InvalidArgument(format!(
        "100 handoffs named {stem:?} already exist this minute; give another title"
    )))
}

/// `handoff_list`: handoffs newest first, filtered by status and project. Malformed files are
/// listed with status `invalid` (filter `status: invalid` to find them).
pub(crate) fn list(shelf: &impl Shelf, p: &HandoffListParams) -> WsResult<HandoffList> {
    let limit = p.limit.unwrap_or(HANDOFF_LIST_DEFAULT);
    if limit == 0 || limit > HANDOFF_LIST_MAX {
        return Err(WorkspaceError::InvalidArgument(format!(
            "limit is {limit}; give 1 to {HANDOFF_LIST_MAX}"
        )));
    }
    let mut all = scan(shelf)?;
    all.retain(|(s, _)| {
        p.status.is_none_or(|want| s.status == want)
            && p.project
                .as_deref()
                .is_none_or(|want| s.project.as_deref() == Some(want))
    });
    let total = all.len();
    let handoffs: Vec<HandoffSummary> = all.into_iter().take(limit).map(|(s, _)| s).collect();
    Ok(HandoffList {
        omitted: total - handoffs.len(),
        handoffs,
        total,
    })
}

/// `handoff_read`: one handoff whole, by id, or the newest open one for "latest".
pub(crate) fn read(shelf: &impl Shelf, p: &HandoffReadParams) -> WsResult<HandoffDoc> {
    let id = if p.id.trim() == "latest" {
        scan(shelf)?
            .into_iter()
            .find(|(s, _)| s.status == HandoffStatus::Open)
            .map(|(s, _)| s.id)
            .ok_or(WorkspaceError::NoOpenHandoff)?
    } else {
        check_id(&p.id)?
    };
    let Stored {
        text,
        modified,
        path,
        ..
    } = shelf.read(&id)?;
    let (mut markdown, truncated) = (text.clone(), text.len() > MAX_READ_BYTES);
    if truncated {
        let mut cut = MAX_READ_BYTES;
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        markdown.truncate(cut);
    }
    let summary = summarize(&id, &path, front_matter(&text), &modified);
    Ok(HandoffDoc {
        id: summary.id,
        title: summary.title,
        status: summary.status,
        created_at: summary.created_at,
        created_by: summary.created_by,
        updated_at: summary.updated_at,
        updated_by: summary.updated_by,
        project: summary.project,
        path,
        markdown,
        truncated,
        error: summary.error,
    })
}

/// `handoff_update`: sets the status and appends "time — client — status — note" to the Log
/// section, bumping `updatedAt`; everything else in it (a person's edits included) is kept.
/// A claimed handoff is not claimed again: of claims made at once, exactly one wins.
pub(crate) fn update(
    shelf: &impl Shelf,
    p: &HandoffUpdateParams,
    by: &str,
) -> WsResult<HandoffUpdated> {
    if p.status == HandoffStatus::Invalid {
        return Err(WorkspaceError::InvalidArgument(
            lifecycle::NOT_A_STATUS_TO_GIVE.to_string(),
        ));
    }
    let id = check_id(&p.id)?;
    let signed = shelf.signed(by);
    // One update at a time where the shelf needs it: a claim is read, checked and written
    // whole.
    let _turn = shelf.turn()?;
    for _ in 0..5 {
        let found = shelf.read(&id)?;
        let current = match front_matter(&found.text) {
            Ok((current, _)) => current,
            Err(reason) => {
                return Err(WorkspaceError::InvalidHandoff {
                    id,
                    path: found.path,
                    reason,
                });
            }
        };
        if p.status == HandoffStatus::Claimed && current.status == HandoffStatus::Claimed {
            return Err(WorkspaceError::AlreadyClaimed {
                id,
                by: current.updated_by.unwrap_or_else(|| "someone".into()),
                at: current
                    .updated_at
                    .unwrap_or_else(|| "an unknown time".into()),
            });
        }
        let status = p.status;
        let at = timestamp(OffsetDateTime::now_utc());
        let by_line = one_line(&signed);
        let mut line = format!("- {at} — {by_line} — {}", status.as_str());
        if let Some(note) = p.note.as_deref().map(one_line).filter(|n| !n.is_empty()) {
            line.push_str(" — ");
            line.push_str(&note);
        }
        let updated = set_front_keys(
            &found.text,
            &[
                ("status", status.as_str()),
                ("updatedAt", &at),
                ("updatedBy", &by_line),
            ],
        );
        let updated = append_log(&updated, &line);
        if let Err(reason) = front_matter(&updated) {
            return Err(WorkspaceError::InvalidHandoff {
                id,
                path: found.path,
                reason,
            });
        }
        if !shelf.replace(&id, &found, &updated, by)? {
            continue;
        }
        return Ok(HandoffUpdated {
            id,
            status,
            updated_at: at,
            path: found.path,
        });
    }
    Err(WorkspaceError::Contended {
        path: format!("{HANDOFFS_DIR}/{id}.md"),
    })
}

/// Every handoff, newest first, with the sort key (nanoseconds since 1970).
fn scan(shelf: &impl Shelf) -> WsResult<Vec<(HandoffSummary, i128)>> {
    let mut out: Vec<(HandoffSummary, i128)> = shelf
        .scan()?
        .into_iter()
        .map(|(id, path, head)| {
            let summary = match head {
                Ok((head, modified)) => summarize(&id, &path, front_matter(&head), &modified),
                Err(e) => summarize(&id, &path, Err(e.to_string()), ""),
            };
            let key = sort_key(&summary.created_at);
            (summary, key)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.id.cmp(&a.0.id)));
    Ok(out)
}

impl Workspace {
    /// `handoff_create` on the shared folder (see [`create`]).
    pub fn handoff_create(&self, p: &HandoffCreateParams, by: &str) -> WsResult<HandoffCreated> {
        create(self, p, by)
    }

    /// `handoff_list` on the shared folder (see [`list`]).
    pub fn handoff_list(&self, p: &HandoffListParams) -> WsResult<HandoffList> {
        list(self, p)
    }

    /// `handoff_read` on the shared folder (see [`read`]).
    pub fn handoff_read(&self, p: &HandoffReadParams) -> WsResult<HandoffDoc> {
        read(self, p)
    }

    /// `handoff_update` on the shared folder (see [`update`]).
    pub fn handoff_update(&self, p: &HandoffUpdateParams, by: &str) -> WsResult<HandoffUpdated> {
        update(self, p, by)
    }
}

/// The shared folder's `handoffs/`: files, created exclusively (a hard link), replaced
/// atomically (a rename) after a re-read, one update at a time under a lock.
impl Shelf for Workspace {
    fn signed(&self, by: &str) -> String {
        by.to_string()
    }

    fn create(&self, id: &str, text: &str, _by: &str) -> WsResult<Option<String>> {
        let rel = format!("{HANDOFFS_DIR}/{id}.md");
        let target = self.jail().resolve(&rel, FinalLink::Follow)?;
        match write_atomic(self.jail(), &rel, &target, text.as_bytes(), Mode::CreateNew) {
            Ok(_) => Ok(Some(target.display())),
            Err(WorkspaceError::AlreadyExists { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read(&self, id: &str) -> WsResult<Stored> {
        let (text, modified, path) = self.read_handoff_file(id)?;
        Ok(Stored {
            text,
            modified,
            path,
            version: None,
        })
    }

    fn replace(&self, id: &str, found: &Stored, text: &str, _by: &str) -> WsResult<bool> {
        // Compare and swap, as far as files allow: someone who does not take turns (a
        // person's editor) may have written meanwhile.
        let (now_text, _, _) = self.read_handoff_file(id)?;
        if now_text != found.text {
            return Ok(false);
        }
        let rel = format!("{HANDOFFS_DIR}/{id}.md");
        let target = self.jail().resolve(&rel, FinalLink::Follow)?;
        write_atomic(self.jail(), &rel, &target, text.as_bytes(), Mode::Replace)?;
        Ok(true)
    }

    fn scan(&self) -> WsResult<Vec<Shelved>> {
        let jail = self.jail();
        let dir = jail.resolve(HANDOFFS_DIR, FinalLink::Follow)?;
        match dir.metadata() {
            None => return Ok(Vec::new()),
            Some(m) if !m.is_dir() => {
                return Err(WorkspaceError::NotADirectory {
                    path: HANDOFFS_DIR.to_string(),
                });
            }
            Some(_) => {}
        }
        let entries = jail
            .dir()
            .read_dir(dir.cap_path())
            .map_err(|e| jail.io_error("listing", HANDOFFS_DIR, e))?;
        let mut out = Vec::new();
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".md") else {
                continue;
            };
            if id.is_empty() || name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map(EntryKind::of).ok();
            if !matches!(kind, Some(EntryKind::File | EntryKind::Symlink)) {
                continue;
            }
            let path = format!("{HANDOFFS_DIR}/{name}");
            let head = self.read_front(&path);
            out.push((id.to_string(), path, head));
        }
        Ok(out)
    }

    fn turn(&self) -> WsResult<Option<std::fs::File>> {
        self.handoff_turn().map(Some)
    }
}

impl Workspace {
    /// The folder's turn for handoff updates: an exclusive lock (advisory, across processes)
    /// held until the returned file is dropped. The lock file lives in the system's temporary
    /// folder, named after the shared folder's path, so nothing is added to the shared folder
    /// that a listing would show.
    fn handoff_turn(&self) -> WsResult<std::fs::File> {
        let root = self.root();
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        // FNV-1a: the same name from every build of Tandem.
        let hash = root
            .to_string_lossy()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let path = std::env::temp_dir().join(format!("tandem-handoffs-{hash:016x}.lock"));
        let io = |action, e| WorkspaceError::Io {
            action,
            path: path.display().to_string(),
            source: e,
        };
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("opening", e))?;
        lock.lock().map_err(|e| io("locking", e))?;
        Ok(lock)
    }

    /// The start of a handoff file, up to the end of its front matter (bounded), and its
    /// modification time.
    fn read_front(&self, rel: &str) -> WsResult<(String, String)> {
        let jail = self.jail();
        let r = jail.resolve(rel, FinalLink::Follow)?;
        let file = jail
            .dir()
            .open(r.cap_path())
            .map_err(|e| jail.io_error("reading", rel, e))?;
        let modified = modified_text(&file);
        let mut reader = BufReader::new(file.into_std().take(FRONT_MATTER_MAX as u64));
        let mut head = String::new();
        let mut line = String::new();
        let mut n = 0;
        loop {
            line.clear();
            let read = reader
                .read_line(&mut line)
                .map_err(|e| jail.io_error("reading", rel, e))?;
            if read == 0 {
                break;
            }
            head.push_str(&line);
            n += 1;
            if n > 1 && is_fence(&line) {
                break;
            }
            if n == 1 && !is_fence(&line) {
                break; // no front matter: enough to say so
            }
        }
        Ok((head, modified))
    }

    /// The whole file, its modification time and its path relative to the root.
    fn read_handoff_file(&self, id: &str) -> WsResult<(String, String, String)> {
        let jail = self.jail();
        let rel = format!("{HANDOFFS_DIR}/{id}.md");
        let r = jail.resolve(&rel, FinalLink::Follow)?;
        if !r.exists() {
            return Err(WorkspaceError::HandoffNotFound { id: id.to_string() });
        }
        let file = jail
            .dir()
            .open(r.cap_path())
            .map_err(|e| jail.io_error("reading", &rel, e))?;
        let modified = modified_text(&file);
        let mut bytes = Vec::new();
        file.into_std()
            .read_to_end(&mut bytes)
            .map_err(|e| jail.io_error("reading", &rel, e))?;
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok((text, modified, rel))
    }
}

fn modified_text(file: &cap_std::fs::File) -> String {
    file.metadata()
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| rfc3339(t.into_std()))
        .unwrap_or_default()
}

/// An id names a file directly in `handoffs/`: no folders, no hidden files.
fn check_id(id: &str) -> WsResult<String> {
    let id = id.trim();
    let id = id.strip_suffix(".md").unwrap_or(id);
    let id = id.rsplit('/').next().unwrap_or(id);
    if id.is_empty() || id.starts_with('.') || id.contains(['\\', '\0', ':']) {
        return Err(WorkspaceError::InvalidArgument(format!(
            "{id:?} is not a handoff id; ids are file names in handoffs/ without .md (see \
             handoff_list), or \"latest\""
        )));
    }
    Ok(id.to_string())
}

fn summarize(
    id: &str,
    path: &str,
    parsed: Result<(FrontMatter, usize), String>,
    modified: &str,
) -> HandoffSummary {
    match parsed {
        Ok((f, _)) => {
            let created_at = f.created_at.unwrap_or_else(|| modified.to_string());
            HandoffSummary {
                id: id.to_string(),
                title: f.title,
                status: f.status,
                updated_at: f.updated_at.unwrap_or_else(|| created_at.clone()),
                created_at,
                updated_by: f
                    .updated_by
                    .or_else(|| f.created_by.clone())
                    .unwrap_or_else(|| "unknown".to_string()),
                created_by: f.created_by.unwrap_or_else(|| "unknown".to_string()),
                path: path.to_string(),
                project: f.project,
                error: None,
            }
        }
        Err(error) => HandoffSummary {
            id: id.to_string(),
            title: id.to_string(),
            status: HandoffStatus::Invalid,
            created_at: modified.to_string(),
            created_by: String::new(),
            updated_at: modified.to_string(),
            updated_by: String::new(),
            path: path.to_string(),
            project: None,
            error: Some(error),
        },
    }
}

fn sort_key(at: &str) -> i128 {
    OffsetDateTime::parse(at, &Rfc3339)
        .map(|t| t.unix_timestamp_nanos())
        .unwrap_or(i128::MIN)
}

fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// A handoff file's Markdown after its front matter (`---` … `---`); the whole text when it
/// has none. Valid YAML is not needed: this is for showing and summarising the body.
pub fn body(text: &str) -> &str {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return text;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if is_fence(line) {
            return &rest[offset..];
        }
    }
    text
}

/// Parses the front matter at the start of `text`; also returns the byte offset just after
/// its closing `---` line.
fn front_matter(text: &str) -> Result<(FrontMatter, usize), String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skipped = text.len() - body.len();
    let mut lines = body.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if !is_fence(first) {
        return Err("no front matter: the file must start with a line \"---\"".to_string());
    }
    let start = first.len();
    let mut end = start;
    let mut closed = None;
    for line in lines {
        if is_fence(line) {
            closed = Some(end + line.len());
            break;
        }
        end += line.len();
    }
    let Some(after) = closed else {
        return Err("the front matter is not closed by a line \"---\"".to_string());
    };
    let yaml = &body[start..end];
    let front: FrontMatter = yaml_serde::from_str(yaml).map_err(|e| {
        let e = e.to_string();
        if e.contains("unknown variant") {
            format!("{e} (status must be open, claimed, done or dropped)")
        } else {
            e
        }
    })?;
    Ok((front, skipped + after))
}

/// Replaces (or adds) top-level keys in the front matter, line by line, so that comments,
/// other keys and their order stay as they are.
fn set_front_keys(text: &str, keys: &[(&str, &str)]) -> String {
    let Ok((_, after)) = front_matter(text) else {
        return text.to_string();
    };
    let (head, rest) = text.split_at(after);
    let mut lines: Vec<String> = head.split_inclusive('\n').map(str::to_string).collect();
    let newline = if head.contains("\r\n") { "\r\n" } else { "\n" };
    for (key, value) in keys {
        let prefix = format!("{key}:");
        let line = format!("{key}: {}{newline}", yaml_scalar(value));
        match lines
            .iter()
            .skip(1)
            .position(|l| l.starts_with(&prefix))
            .map(|i| i + 1)
        {
            Some(i) => lines[i] = line,
            None => {
                let close = lines.len().saturating_sub(1);
                lines.insert(close, line);
            }
        }
    }
    let mut out = lines.concat();
    out.push_str(rest);
    out
}

/// A plain scalar when it is safe, else a single-quoted one.
fn yaml_scalar(value: &str) -> String {
    match yaml_serde::to_string(value) {
        Ok(s) => s.trim_end().to_string(),
        Err(_) => format!("'{}'", value.replace('\'', "''")),
    }
}

/// Adds `line` at the end of the Log section (before the next `#`/`##` heading), creating the
/// section at the end of the file if there is none.
fn append_log(text: &str, line: &str) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let body_start = front_matter(text).map(|(_, after)| after).unwrap_or(0);
    let mut offsets = Vec::new();
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        offsets.push((pos, l));
        pos += l.len();
    }
    let is_heading = |l: &str| {
        let t = l.trim_start();
        t.starts_with("# ") || t.starts_with("## ") || t == "#" || t == "##"
    };
    let log = offsets.iter().position(|(at, l)| {
        *at >= body_start
            && l.trim()
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("log")
            && l.trim_start().starts_with("## ")
    });
    let Some(log) = log else {
        let mut out = text.to_string();
        if !out.ends_with('\n') && !out.is_empty() {
            out.push_str(newline);
        }
        out.push_str(newline);
        out.push_str("## Log");
        out.push_str(newline);
        out.push_str(newline);
        out.push_str(line);
        out.push_str(newline);
        return out;
    };
    // The section ends at the next heading of level 1 or 2, or at the end.
    let end = offsets[log + 1..]
        .iter()
        .position(|(_, l)| is_heading(l))
        .map(|i| log + 1 + i)
        .unwrap_or(offsets.len());
    // Insert after the last non-blank line of the section.
    let last = (log..end)
        .rev()
        .find(|&i| !offsets[i].1.trim().is_empty())
        .unwrap_or(log);
    let (at, l) = offsets[last];
    let insert_at = at + l.len();
    let mut out = String::with_capacity(text.len() + line.len() + 4);
    out.push_str(&text[..insert_at]);
    if !l.ends_with('\n') {
        out.push_str(newline);
    }
    if last == log {
        out.push_str(newline); // a blank line between the heading and the first entry
    }
    out.push_str(line);
    out.push_str(newline);
    out.push_str(&text[insert_at..]);
    out
}

fn render(front: &FrontMatter, p: &HandoffCreateParams, at: &str, by: &str) -> WsResult<String> {
    let yaml = yaml_serde::to_string(front)
        .map_err(|e| WorkspaceError::InvalidArgument(format!("the handoff's front matter: {e}")))?;
    let mut md = String::new();
    md.push_str("---\n");
    md.push_str(&yaml);
    md.push_str("---\n\n# ");
    md.push_str(&front.title);
    md.push_str("\n\n## Summary\n\n");
    let summary = p.summary.trim();
    if !summary.is_empty() {
        md.push_str(summary);
        md.push_str("\n\n");
    }
    section(&mut md, "Decisions", &p.decisions, Bullet::Plain);
    section(&mut md, "Tasks", &p.tasks, Bullet::Task);
    section(&mut md, "Open questions", &p.open_questions, Bullet::Plain);
    section(&mut md, "Files", &p.files, Bullet::Plain);
    md.push_str("## Log\n\n");
    md.push_str(&format!("- {at} — {} — open — created\n", one_line(by)));
    Ok(md)
}

#[derive(Clone, Copy)]
enum Bullet {
    Plain,
    Task,
}

fn section(md: &mut String, heading: &str, items: &[String], bullet: Bullet) {
    md.push_str("## ");
    md.push_str(heading);
    md.push_str("\n\n");
    let mut any = false;
    for item in items {
        let item = item.trim();
        // Models often send items already formatted as list items.
        let item = item
            .strip_prefix("- ")
            .or_else(|| item.strip_prefix("* "))
            .unwrap_or(item)
            .trim_start();
        if item.is_empty() {
            continue;
        }
        any = true;
        let mut lines = item.lines();
        let first = lines.next().unwrap_or_default();
        match bullet {
            Bullet::Plain => md.push_str("- "),
            Bullet::Task => {
                let boxed = ["[ ]", "[x]", "[X]"].iter().any(|b| first.starts_with(b));
                md.push_str(if boxed { "- " } else { "- [ ] " });
            }
        }
        md.push_str(first);
        md.push('\n');
        for rest in lines {
            md.push_str("  ");
            md.push_str(rest);
            md.push('\n');
        }
    }
    if any {
        md.push('\n');
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lowercase ASCII letters and digits joined by single dashes, at most 48 characters;
/// "handoff" when the title has none.
fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.len() > SLUG_CHARS {
        out.truncate(SLUG_CHARS);
        if let Some(cut) = out.rfind('-').filter(|&i| i > SLUG_CHARS / 2) {
            out.truncate(cut);
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "handoff".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests;
