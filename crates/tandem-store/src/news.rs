//! News for a Claude Code session: what changed in the shared state since the session last
//! looked — handoffs created or updated, memory keys set or deleted — in a few lines for a
//! model, and nothing at all when nothing changed. Claude Code's prompt hook shows it before
//! every prompt (`tandem hook prompt`), so it is quick (one SQLite read, the handoffs' front
//! matter), bounded, and never fails: unreadable state is no news.
//!
//! Where each session stands is kept under the state folder, `hooks/sessions/<id>.json`: the
//! memory feed's cursor (commit order, so no change is skipped or shown twice) and the
//! `updatedAt` of each handoff the session has seen (a handoff is news when it is new or its
//! `updatedAt` differs, whatever the clocks' resolution). At most [`MAX_SESSIONS`] files are
//! kept, and none older than [`SESSION_DAYS`] days.
//!
//! Every Claude Code session calls itself `claude-code`, so a session's own writes cannot be
//! told apart from another Code session's by name: they are shown too, rather than hiding
//! another session's change.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};

use crate::{
    Home,
    memory::{MemoryStore, Op},
    text::clip,
    workspace::{HandoffListParams, HandoffSummary, Workspace},
};

/// The most characters of news a prompt gets.
pub const MAX_CHARS: usize = 600;
/// Session files kept at most (the newest).
pub const MAX_SESSIONS: usize = 200;
/// Session files older than this many days are removed.
pub const SESSION_DAYS: u64 = 7;
/// Handoffs looked at (the newest).
const HANDOFFS: usize = 50;
/// Memory changes read per prompt; more are summed up as a count.
const CHANGES: usize = 40;

/// Where one session stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The memory feed's cursor.
    pub memory_seq: i64,
    /// Handoff id → the `updatedAt` (or `createdAt`) last seen.
    pub handoffs: BTreeMap<String, String>,
}

/// The state as it is now: what a session that looks now has seen.
pub fn now(home: &Home) -> Seen {
    let memory_seq = open_store(home)
        .and_then(|s| s.last_seq().ok())
        .unwrap_or(0);
    Seen {
        memory_seq,
        handoffs: stamps(&list_handoffs(home.shared_dir())),
    }
}

/// What changed since `seen`, for a model (empty when nothing did), and where the session
/// stands after reading it. Memory changes written from `own` (the session's client process,
/// [`crate::origin`]) are left out: the session made them.
pub fn since(home: &Home, seen: &Seen, own: Option<&str>) -> (String, Seen) {
    let mut lines = Vec::new();
    let listed = list_handoffs(home.shared_dir());
    let mut next = Seen {
        memory_seq: seen.memory_seq,
        handoffs: stamps(&listed),
    };
    for h in listed.iter().rev() {
        let was = seen.handoffs.get(&h.id);
        if was.is_some() && was == next.handoffs.get(&h.id) {
            continue;
        }
        let (what, by) = if was.is_none() {
            ("new", &h.created_by)
        } else {
            ("updated", &h.updated_by)
        };
        lines.push(format!(
            "- handoff {what}: \"{}\" ({}, by {by}) — handoff_read {{\"id\": \"{}\"}}",
            clip(&h.title, 80),
            h.status.as_str(),
            h.id
        ));
    }
    if let Some(store) = open_store(home)
        && let Ok(page) = store.changes(Some(seen.memory_seq), Some(CHANGES))
    {
        // The session's own writes are not news to it.
        let own: std::collections::HashSet<i64> = own
            .and_then(|o| store.changes_from(o, seen.memory_seq, page.cursor).ok())
            .unwrap_or_default();
        // The last change of each key, in commit order.
        let mut last: Vec<(String, Op, i64, String)> = Vec::new();
        for c in page.changes.iter().filter(|c| !own.contains(&c.seq)) {
            last.retain(|(k, ..)| *k != c.key);
            last.push((c.key.clone(), c.op, c.version, c.by.clone()));
        }
        for (key, op, version, by) in &last {
            let what = match op {
                Op::Delete => "deleted".to_string(),
                _ => format!("v{version}"),
            };
            lines.push(format!("- memory {}: {what} by {by}", clip(key, 80)));
        }
        if page.more {
            lines.push("- more memory changes: memory_changes with your cursor".to_string());
        }
        next.memory_seq = page.cursor;
    }
    if lines.is_empty() {
        return (String::new(), next);
    }
    let mut out = String::from(
        "Tandem: changed since your last prompt (from the person's other Claude apps or sessions):\n",
    );
    // Room for the line that says how many were left out (its count has at most as many
    // digits as the number of lines).
    let more_line = |n: usize| format!("- and {n} more: handoff_list, memory_changes");
    let reserve = more_line(lines.len()).chars().count();
    let mut used = out.chars().count();
    let mut shown = 0;
    for line in &lines {
        let len = line.chars().count() + 1;
        let last = shown + 1 == lines.len();
        if used + len > MAX_CHARS || (!last && used + len + reserve > MAX_CHARS) {
            break;
        }
        out.push_str(line);
        out.push('\n');
        used += len;
        shown += 1;
    }
    if shown < lines.len() {
        out.push_str(&more_line(lines.len() - shown));
    }
    (out.trim_end().to_string(), next)
}

fn open_store(home: &Home) -> Option<MemoryStore> {
    MemoryStore::open_for_reading(home)
}

fn open_workspace(root: &Path) -> Option<Workspace> {
    if !root.is_dir() {
        return None;
    }
    Workspace::open_existing(root).ok()
}

/// The newest handoffs, newest first; none when there is no shared folder.
fn list_handoffs(root: &Path) -> Vec<HandoffSummary> {
    let Some(ws) = open_workspace(root) else {
        return Vec::new();
    };
    ws.handoff_list(&HandoffListParams {
        limit: Some(HANDOFFS),
        ..Default::default()
    })
    .map(|l| l.handoffs)
    .unwrap_or_default()
}

/// What tells a handoff's state apart: its `updatedAt` and status.
fn stamps(handoffs: &[HandoffSummary]) -> BTreeMap<String, String> {
    handoffs
        .iter()
        .map(|h| {
            (
                h.id.clone(),
                format!("{} {}", h.updated_at, h.status.as_str()),
            )
        })
        .collect()
}

/// The sessions' files, under the state folder.
pub struct Sessions {
    dir: PathBuf,
}

impl Sessions {
    pub fn new(home: &Home) -> Self {
        Sessions {
            dir: home.state_dir().join("hooks").join("sessions"),
        }
    }

    fn path(&self, session: &str) -> Option<PathBuf> {
        let ok = !session.is_empty()
            && session.len() <= 128
            && session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        ok.then(|| self.dir.join(format!("{session}.json")))
    }

    /// Where `session` stood; `None` for a session not seen yet (or an id that is not one).
    pub fn load(&self, session: &str) -> Option<Seen> {
        let text = std::fs::read(self.path(session)?).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Saves where `session` stands (atomically), then prunes old sessions.
    pub fn save(&self, session: &str, seen: &Seen) -> std::io::Result<()> {
        let Some(path) = self.path(session) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self
            .dir
            .join(format!(".{session}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(seen).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)?;
        self.prune(&path);
        Ok(())
    }

    /// Removes the oldest sessions beyond the bound, and the stale ones; never `keep`.
    fn prune(&self, keep: &Path) {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, PathBuf)> = read
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json") && e.path() != keep)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        let oldest = SystemTime::now() - Duration::from_secs(SESSION_DAYS * 24 * 3600);
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        for (i, (modified, path)) in files.iter().enumerate() {
            if i + 1 >= MAX_SESSIONS || *modified < oldest {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests;
