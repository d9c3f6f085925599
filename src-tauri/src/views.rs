//! What the window's Handoffs and Memory views show, read straight from the store and the
//! shared folder (camelCase JSON for the UI).

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use tandem_store::{
    Workspace,
    memory::{EntrySummary, HistoryItem, MemoryStore, Op},
    workspace::{HandoffReadParams, HandoffStatus, HandoffSummary},
};

use crate::{
    error::{AppError, ErrorKind, Reply},
    markdown,
};

/// Most handoffs listed in the window.
pub const HANDOFFS_SHOWN: usize = 100;
/// Most memory entries listed (newest first), and search hits.
pub const ENTRIES_SHOWN: usize = 200;
pub const HITS_SHOWN: usize = 50;
/// Versions shown with an entry.
pub const HISTORY_SHOWN: usize = 20;

/// Who wrote something, for a person: the client names from `initialize` as people know them,
/// and on the team store the member after a `·` (`Claude Code · alice`).
pub fn client_label(by: &str) -> String {
    if let Some((client, member)) = by.rsplit_once(" · ") {
        return format!("{} · {}", client_label(client), member.trim());
    }
    let name = by.split_whitespace().next().unwrap_or("");
    match name {
        "claude-ai" => "Claude Desktop".to_string(),
        "claude-code" => "Claude Code".to_string(),
        "tandem-app" => "Tandem".to_string(),
        "" => "unknown".to_string(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandoffItem {
    pub id: String,
    pub title: String,
    pub status: HandoffStatus,
    pub created_at: String,
    pub created_by: String,
    /// "Claude Desktop", "Claude Code", or the client's own name.
    pub created_by_label: String,
    pub updated_at: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<HandoffSummary> for HandoffItem {
    fn from(s: HandoffSummary) -> Self {
        Self {
            created_by_label: client_label(&s.created_by),
            id: s.id,
            title: s.title,
            status: s.status,
            created_at: s.created_at,
            created_by: s.created_by,
            updated_at: s.updated_at,
            path: s.path,
            project: s.project,
            error: s.error,
        }
    }
}

/// Handoffs newest first.
pub fn handoffs(shared: &Path, limit: usize) -> Reply<Vec<HandoffItem>> {
    tandem_store::workspace::recent_handoffs(shared, limit)
        .map(|list| list.into_iter().map(HandoffItem::from).collect())
        .map_err(AppError::from)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandoffDetail {
    #[serde(flatten)]
    pub item: HandoffItem,
    /// The body rendered to sanitised HTML.
    pub html: String,
    pub truncated: bool,
}

pub fn handoff(ws: &Workspace, id: &str) -> Reply<HandoffDetail> {
    let doc = ws.handoff_read(&HandoffReadParams { id: id.to_string() })?;
    let body = tandem_store::workspace::handoff::body(&doc.markdown);
    let html = markdown::render(markdown::strip_title(body, &doc.title));
    Ok(HandoffDetail {
        item: HandoffItem {
            created_by_label: client_label(&doc.created_by),
            id: doc.id,
            title: doc.title,
            status: doc.status,
            created_at: doc.created_at,
            created_by: doc.created_by,
            updated_at: doc.updated_at,
            path: doc.path,
            project: doc.project,
            error: doc.error,
        },
        html,
        truncated: doc.truncated,
    })
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryItem {
    pub key: String,
    /// The value as compact JSON, cut short; or, for a search hit, the matching passage with
    /// matches in `**bold**`.
    pub preview: String,
    pub tags: Vec<String>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
    pub updated_by_label: String,
}

impl From<EntrySummary> for MemoryItem {
    fn from(e: EntrySummary) -> Self {
        Self {
            updated_by_label: client_label(&e.updated_by),
            key: e.key,
            preview: e.preview,
            tags: e.tags,
            version: e.version,
            updated_at: e.updated_at,
            updated_by: e.updated_by,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryList {
    pub items: Vec<MemoryItem>,
    /// Live entries in the store.
    pub total: i64,
    /// The query these are hits for; absent for the plain listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// The newest entries, or the hits for `query` (full-text search, best first).
pub fn memory(store: &MemoryStore, query: Option<&str>) -> Reply<MemoryList> {
    let total = store.stats()?.entries;
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let Some(query) = query else {
        let items = store
            .changed_since("", ENTRIES_SHOWN)?
            .into_iter()
            .map(MemoryItem::from)
            .collect();
        return Ok(MemoryList {
            items,
            total,
            query: None,
        });
    };
    let hits = store.search(query, None, Some(HITS_SHOWN))?;
    let keys: Vec<String> = hits.iter().map(|h| h.key.clone()).collect();
    let entries = if keys.is_empty() {
        Vec::new()
    } else {
        store.get(&keys)?.entries
    };
    let items = hits
        .into_iter()
        .filter_map(|hit| {
            let entry = entries.iter().find(|e| e.key == hit.key)?;
            Some(MemoryItem {
                key: hit.key,
                preview: hit.snippet,
                tags: entry.tags.clone(),
                version: entry.version,
                updated_at: entry.updated_at.clone(),
                updated_by_label: client_label(&entry.updated_by),
                updated_by: entry.updated_by.clone(),
            })
        })
        .collect();
    Ok(MemoryList {
        items,
        total,
        query: Some(query.to_string()),
    })
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub version: i64,
    pub op: Op,
    pub at: String,
    pub by: String,
    pub by_label: String,
    /// Pretty JSON; empty for a deletion.
    pub value: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryDetail {
    pub key: String,
    /// `None` when the key is deleted (its history remains).
    pub value: Option<String>,
    pub tags: Vec<String>,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
    pub updated_by_label: String,
    pub history: Vec<VersionView>,
}

pub fn memory_entry(store: &MemoryStore, key: &str) -> Reply<MemoryDetail> {
    let got = store.get(&[key.to_string()])?;
    let history = store.history(key, Some(HISTORY_SHOWN))?;
    let versions: Vec<VersionView> = history.iter().map(version_view).collect();
    match got.entries.into_iter().next() {
        Some(e) => Ok(MemoryDetail {
            value: Some(pretty(&e.value)),
            updated_by_label: client_label(&e.updated_by),
            key: e.key,
            tags: e.tags,
            version: e.version,
            updated_at: e.updated_at,
            updated_by: e.updated_by,
            history: versions,
        }),
        None => {
            let Some(last) = history.first() else {
                return Err(AppError::new(
                    ErrorKind::NotFound,
                    format!("there is no entry {key:?}"),
                ));
            };
            Ok(MemoryDetail {
                key: key.to_string(),
                value: None,
                tags: Vec::new(),
                version: last.version,
                updated_at: last.updated_at.clone(),
                updated_by: last.updated_by.clone(),
                updated_by_label: client_label(&last.updated_by),
                history: versions,
            })
        }
    }
}

fn version_view(h: &HistoryItem) -> VersionView {
    VersionView {
        version: h.version,
        op: h.op,
        at: h.updated_at.clone(),
        by: h.updated_by.clone(),
        by_label: client_label(&h.updated_by),
        value: if h.deleted {
            String::new()
        } else {
            pretty(&h.value)
        },
        deleted: h.deleted,
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_read_as_the_apps_people_know() {
        assert_eq!(client_label("claude-ai 0.14.1"), "Claude Desktop");
        assert_eq!(client_label("claude-code 2.1.3"), "Claude Code");
        assert_eq!(client_label("cursor 1.0"), "cursor");
        assert_eq!(client_label(""), "unknown");
    }
}
