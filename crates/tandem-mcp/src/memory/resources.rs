//! Every entry as a resource, `memory://entry/{key}` (JSON), listed in pages.

use rmcp::{
    ErrorData,
    model::{
        ListResourceTemplatesResult, ListResourcesResult, ReadResourceResponse, ReadResourceResult,
        Resource, ResourceContents, ResourceTemplate,
    },
};
use serde_json::json;

use super::MemoryServer;
use crate::{reply::clip, uri};

const URI_PREFIX: &str = "memory://entry/";
const RESOURCE_PAGE: usize = 200;

pub fn entry_uri(key: &str) -> String {
    uri::encode(URI_PREFIX, key)
}

/// Whether `uri` names a memory entry (and so belongs to this server).
pub(crate) fn is_entry_uri(uri: &str) -> bool {
    uri.starts_with(URI_PREFIX)
}

fn key_from_uri(uri: &str) -> Option<String> {
    uri::decode(URI_PREFIX, uri)
}

impl MemoryServer {
    pub(super) async fn resource_page(
        &self,
        cursor: Option<String>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let page = self
            .shared
            .read(move |s| s.list(None, None, Some(RESOURCE_PAGE), cursor.as_deref()))
            .await
            .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let resources = page
            .entries
            .iter()
            .map(|e| {
                Resource::new(entry_uri(&e.key), e.key.clone())
                    .with_description(clip(&e.preview, 120))
                    .with_mime_type("application/json")
            })
            .collect();
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    pub(super) fn resource_templates(&self) -> ListResourceTemplatesResult {
        let template = ResourceTemplate::new(format!("{URI_PREFIX}{{key}}"), "memory entry")
            .with_description("One shared memory entry (JSON) by key, e.g. proj-x/auth-approach")
            .with_mime_type("application/json");
        ListResourceTemplatesResult::with_all_items(vec![template])
    }

    pub(super) async fn resource_read(
        &self,
        uri: String,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some(key) = key_from_uri(&uri) else {
            return Err(ErrorData::invalid_params(
                format!("{uri} is not a memory resource; use memory://entry/<key>"),
                None,
            ));
        };
        let got = self
            .shared
            .read(move |s| s.get(&[key]))
            .await
            .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let Some(entry) = got.entries.into_iter().next() else {
            return Err(ErrorData::resource_not_found(
                format!("no memory entry at {uri}"),
                Some(json!({"uri": uri})),
            ));
        };
        let text = serde_json::to_string_pretty(&entry)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let contents = ResourceContents::text(text, uri).with_mime_type("application/json");
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_uris_carry_the_key() {
        assert_eq!(entry_uri("proj-x/a b"), "memory://entry/proj-x/a%20b");
        assert_eq!(key_from_uri("memory://entry/a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(key_from_uri("file:///x"), None);
    }
}
