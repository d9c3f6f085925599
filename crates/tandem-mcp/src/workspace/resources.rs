//! Every file as a `file://` resource and every handoff as `handoff://{id}`, listed in pages
//! (handoffs first), and the URIs a changed path stands for.

use std::path::Path;

use rmcp::{
    ErrorData,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResponse, ReadResourceResult,
        Resource, ResourceContents, ResourceTemplate,
    },
};
use serde_json::json;
use tandem_store::workspace::{
    HANDOFFS_DIR, HandoffListParams, HandoffReadParams, ReadTextFileParams, WorkspaceError,
};

use crate::uri;

use super::WorkspaceServer;

const FILE_PREFIX: &str = "file://";
const HANDOFF_PREFIX: &str = "handoff://";
const RESOURCE_PAGE: usize = 200;

fn file_uri(abs: &Path) -> String {
    uri::encode(FILE_PREFIX, &abs.to_string_lossy())
}

fn handoff_uri(id: &str) -> String {
    uri::encode(HANDOFF_PREFIX, id)
}

/// The resource URIs a changed path stands for: its `file://` URI, and `handoff://{id}` for a
/// handoff file.
pub(super) fn changed_uris(root: &Path, path: &Path) -> Vec<String> {
    let mut uris = vec![file_uri(path)];
    if let Ok(rel) = path.strip_prefix(root.join(HANDOFFS_DIR))
        && rel.extension().is_some_and(|e| e == "md")
        && rel.components().count() == 1
        && let Some(stem) = rel.file_stem()
    {
        uris.push(handoff_uri(&stem.to_string_lossy()));
    }
    uris
}

impl WorkspaceServer {
    pub(super) async fn resource_page(
        &self,
        cursor: Option<String>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let mut resources = Vec::new();
        // The first page starts with the handoffs, newest first.
        if cursor.is_none() {
            let list = self
                .shared
                .ws
                .handoff_list(&HandoffListParams {
                    limit: Some(50),
                    ..Default::default()
                })
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            resources.extend(list.handoffs.iter().map(|h| {
                Resource::new(handoff_uri(&h.id), format!("handoff: {}", h.title))
                    .with_description(
                        format!("{:?} — by {}", h.status, h.created_by).to_lowercase(),
                    )
                    .with_mime_type("text/markdown")
            }));
        }
        let ws = self.ws();
        let page = tokio::task::spawn_blocking(move || {
            ws.list_files(cursor.as_deref(), Some(RESOURCE_PAGE))
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
        .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let root = self.shared.ws.root().to_path_buf();
        resources.extend(page.files.iter().map(|rel| {
            Resource::new(file_uri(&root.join(rel)), rel.clone()).with_mime_type(mime_of(rel))
        }));
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    pub(super) fn resource_templates(&self) -> ListResourceTemplatesResult {
        let root = self.shared.ws.root().to_string_lossy().into_owned();
        let templates = vec![
            ResourceTemplate::new(format!("{HANDOFF_PREFIX}{{id}}"), "handoff")
                .with_description("A handoff by id (the file name in handoffs/ without .md)")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new(
                format!("{}/{{path}}", file_uri(Path::new(&root))),
                "shared file",
            )
            .with_description("A text file in the shared folder by its relative path"),
        ];
        ListResourceTemplatesResult::with_all_items(templates)
    }

    pub(super) async fn resource_read(
        &self,
        uri: String,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let not_found = |e: WorkspaceError| {
            ErrorData::resource_not_found(e.to_string(), Some(json!({"uri": uri})))
        };
        let (text, mime) = if let Some(id) = uri::decode(HANDOFF_PREFIX, &uri) {
            let doc = self
                .shared
                .ws
                .handoff_read(&HandoffReadParams { id })
                .map_err(not_found)?;
            (doc.markdown, "text/markdown")
        } else if let Some(path) = uri::decode(FILE_PREFIX, &uri) {
            let file = self
                .shared
                .ws
                .read_text_file(&ReadTextFileParams::path(path.clone()))
                .map_err(not_found)?;
            (file.content, mime_of(&path))
        } else {
            return Err(ErrorData::invalid_params(
                format!("{uri} is not a workspace resource; use file:// or handoff:// URIs"),
                None,
            ));
        };
        let contents = ResourceContents::text(text, uri.clone()).with_mime_type(mime);
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

fn mime_of(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => "text/markdown",
        Some("json") => "application/json",
        _ => "text/plain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_files_stand_for_two_resources() {
        let root = Path::new("/ws");
        let uris = changed_uris(root, Path::new("/ws/handoffs/2026-01-01-0000-plan.md"));
        assert_eq!(
            uris,
            [
                "file:///ws/handoffs/2026-01-01-0000-plan.md",
                "handoff://2026-01-01-0000-plan"
            ]
        );
        assert_eq!(
            changed_uris(root, Path::new("/ws/notes/a b.md")),
            ["file:///ws/notes/a%20b.md"]
        );
    }
}
