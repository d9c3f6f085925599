//! The memory tools: their parameters, and what each does and answers.

use std::sync::Arc;

use rmcp::{
    RoleServer,
    handler::server::{tool::schema_for_output, wrapper::Parameters},
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tandem_store::memory::{
    ChangesPage, DeleteOutcome, GetResult, HistoryItem, ListPage, MemoryStore, RestoreOutcome,
    SearchHit, SetOutcome, SetRequest,
};

use crate::{
    caller::caller,
    reply::{Reply, ToolResult, clip},
    skeleton::blocking,
};

use super::MemoryServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetParams {
    /// E.g. "proj-x/auth-approach"; at most 256 characters.
    pub key: String,
    /// Any JSON, at most 1 MiB.
    pub value: Value,
    /// Up to 32; omit to keep the current tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    // Write only if the entry is at this version (0 = must not exist yet).
    #[serde(default)]
    pub expected_version: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetParams {
    pub keys: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListParams {
    /// E.g. "proj-x/".
    #[serde(default)]
    pub prefix: Option<String>,
    /// Only entries with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    // Page size, default 50, at most 500.
    #[serde(default)]
    pub limit: Option<u32>,
    // `nextCursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchParams {
    pub query: String,
    /// Only entries with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Default 20, at most 100.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteParams {
    pub key: String,
    /// Delete only if the entry is at this version.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryParams {
    pub key: String,
    /// Default 20, at most 200.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreParams {
    pub key: String,
    // The version whose value becomes current again (as a new version).
    pub version: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangesParams {
    /// Your last cursor; omit for the newest changes.
    #[serde(default)]
    pub since: Option<i64>,
    /// Default 100, at most 1000.
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResult {
    pub versions: Vec<HistoryItem>,
}

fn limit(l: Option<u32>) -> Option<usize> {
    l.map(|n| n as usize)
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl MemoryServer {
    fn store(&self) -> Arc<MemoryStore> {
        self.shared.store.clone()
    }

    #[tool(
        name = "memory_set",
        description = "Store a JSON value under a key; each write is a new version. Pass \
            expectedVersion from your last read so you never overwrite the other app's \
            change (0: the key must not exist).",
        output_schema = schema_for_output::<SetOutcome>(),
        annotations(
            title = "Set memory entry",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn memory_set(
        &self,
        Parameters(p): Parameters<SetParams>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult<SetOutcome> {
        let by = caller(&ctx);
        // Write in place when nobody holds the write lock (the usual case: no thread hop);
        // otherwise wait for it on a thread that may block.
        let out = match self.shared.store.try_set(&set_request(&p), &by)? {
            Some(out) => out,
            None => {
                let store = self.store();
                blocking(move || store.set(&set_request(&p), &by)).await?
            }
        };
        self.shared.wrote();
        let verb = if out.created { "Created" } else { "Updated" };
        let text = format!("{verb} {} (version {}).", out.key, out.version);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "memory_get",
        description = "Read 1–100 entries: value, tags, version, who wrote it and when. Unknown keys \
            are listed under missing.",
        output_schema = schema_for_output::<GetResult>(),
        annotations(
            title = "Get memory entries",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_get(&self, Parameters(p): Parameters<GetParams>) -> ToolResult<GetResult> {
        let keys = p.keys.clone();
        let out = self.shared.read(move |s| s.get(&keys)).await?;
        let mut text = String::new();
        for e in &out.entries {
            text.push_str(&format!(
                "{} (v{}, {} at {}{}): {}\n",
                e.key,
                e.version,
                e.updated_by,
                e.updated_at,
                if e.tags.is_empty() {
                    String::new()
                } else {
                    format!(", tags {}", e.tags.join(", "))
                },
                compact(&e.value)
            ));
        }
        if !out.missing.is_empty() {
            text.push_str(&format!("Missing: {}\n", out.missing.join(", ")));
        }
        Ok(Reply::new(out, text.trim_end()))
    }

    #[tool(
        name = "memory_list",
        description = "Entries in key order with a value preview; filter by key prefix or tag. Pages \
            of 50 (at most 500): pass nextCursor back as cursor.",
        output_schema = schema_for_output::<ListPage>(),
        annotations(
            title = "List memory entries",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_list(&self, Parameters(p): Parameters<ListParams>) -> ToolResult<ListPage> {
        let (prefix, tag, cursor) = (p.prefix.clone(), p.tag.clone(), p.cursor.clone());
        let out = self
            .shared
            .read(move |s| {
                s.list(
                    prefix.as_deref(),
                    tag.as_deref(),
                    limit(p.limit),
                    cursor.as_deref(),
                )
            })
            .await?;
        let mut text = if out.entries.is_empty() {
            "No entries.".to_string()
        } else {
            out.entries
                .iter()
                .map(|e| format!("{} (v{}): {}", e.key, e.version, clip(&e.preview, 80)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if out.next_cursor.is_some() {
            text.push_str("\nMore entries: pass nextCursor as cursor.");
        }
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "memory_search",
        description = "Full-text search over keys, tags and values, best first. Plain words, each \
            also matching as a prefix; any text is safe.",
        output_schema = schema_for_output::<SearchResult>(),
        annotations(
            title = "Search memory",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_search(
        &self,
        Parameters(p): Parameters<SearchParams>,
    ) -> ToolResult<SearchResult> {
        let (query, tag, n) = (p.query.clone(), p.tag.clone(), limit(p.limit));
        let hits = self
            .shared
            .read(move |s| s.search(&query, tag.as_deref(), n))
            .await?;
        let text = if hits.is_empty() {
            "No matches.".to_string()
        } else {
            hits.iter()
                .map(|h| format!("{} (v{}): {}", h.key, h.version, h.snippet))
                .collect::<Vec<_>>()
                .join("\n")
        };
        Ok(Reply::new(SearchResult { hits }, text))
    }

    #[tool(
        name = "memory_delete",
        description = "Delete an entry; its history stays and memory_restore can bring a value back.",
        output_schema = schema_for_output::<DeleteOutcome>(),
        annotations(
            title = "Delete memory entry",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_delete(
        &self,
        Parameters(p): Parameters<DeleteParams>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult<DeleteOutcome> {
        let by = caller(&ctx);
        let store = self.store();
        let out = blocking(move || store.delete(&p.key, p.expected_version, &by)).await?;
        let text = if out.deleted {
            self.shared.wrote();
            format!("Deleted {} (tombstone version {}).", out.key, out.version)
        } else {
            format!("No entry {}; nothing deleted.", out.key)
        };
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "memory_history",
        description = "Every version of a key, newest first: value, tags, when, by whom, deletions \
            too.",
        output_schema = schema_for_output::<HistoryResult>(),
        annotations(
            title = "Memory entry history",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_history(
        &self,
        Parameters(p): Parameters<HistoryParams>,
    ) -> ToolResult<HistoryResult> {
        let (key, n) = (p.key.clone(), limit(p.limit));
        let versions = self.shared.read(move |s| s.history(&key, n)).await?;
        let text = if versions.is_empty() {
            format!("No history for {}.", p.key)
        } else {
            versions
                .iter()
                .map(|v| {
                    let what = if v.deleted {
                        "deleted".to_string()
                    } else {
                        clip(&compact(&v.value), 200)
                    };
                    format!(
                        "v{} {} by {}: {}",
                        v.version, v.updated_at, v.updated_by, what
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        Ok(Reply::new(HistoryResult { versions }, text))
    }

    #[tool(
        name = "memory_restore",
        description = "Make an old version's value current again, as a new version.",
        output_schema = schema_for_output::<RestoreOutcome>(),
        annotations(
            title = "Restore memory entry",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn memory_restore(
        &self,
        Parameters(p): Parameters<RestoreParams>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult<RestoreOutcome> {
        let by = caller(&ctx);
        let store = self.store();
        let out = blocking(move || store.restore(&p.key, p.version, &by)).await?;
        self.shared.wrote();
        let text = format!(
            "Restored {} to the value of version {} (now version {}).",
            out.key, out.restored_from, out.version
        );
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "memory_changes",
        description = "Every change by any app in commit order: key, operation, version, when, who. \
            Pass the returned cursor as since to get only newer ones.",
        output_schema = schema_for_output::<ChangesPage>(),
        annotations(
            title = "Memory change feed",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn memory_changes(
        &self,
        Parameters(p): Parameters<ChangesParams>,
    ) -> ToolResult<ChangesPage> {
        let (since, n) = (p.since, limit(p.limit));
        let out = self.shared.read(move |s| s.changes(since, n)).await?;
        let mut text = if out.changes.is_empty() {
            format!("No changes. Cursor {}.", out.cursor)
        } else {
            let lines: Vec<String> = out
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "#{} {:?} {} v{} by {} at {}",
                        c.seq, c.op, c.key, c.version, c.by, c.at
                    )
                })
                .collect();
            format!("{}\nCursor {}.", lines.join("\n"), out.cursor)
        };
        if out.more {
            text.push_str(" More changes follow: call again with since = cursor.");
        }
        Ok(Reply::new(out, text))
    }
}

fn set_request(p: &SetParams) -> SetRequest<'_> {
    SetRequest {
        key: &p.key,
        value: &p.value,
        tags: p.tags.as_deref(),
        expected_version: p.expected_version,
    }
}
