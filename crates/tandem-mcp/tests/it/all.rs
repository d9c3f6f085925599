//! `tandem mcp all`: one server with both tool sets, names unchanged, each call reaching the
//! server that owns it, resources paged through both, and changes from both pushed.

use std::{collections::BTreeSet, time::Duration};

use rmcp::model::{GetPromptRequestParams, PaginatedRequestParams, ReadResourceRequestParams};
use serde_json::json;
use tandem_mcp::memory::entry_uri;

use crate::common;

async fn tool_names(c: &common::Connected) -> Vec<String> {
    let tools = c.client.list_all_tools().await.unwrap();
    tools.into_iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn it_offers_every_tool_of_both_servers_under_the_same_names() {
    let all = common::all().await;
    let names = tool_names(&all).await;
    let mut expected = tool_names(&common::workspace(false).await).await;
    expected.extend(tool_names(&common::memory().await).await);
    assert_eq!(names, expected);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "a name offered twice: {names:?}");
    let info = all.client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "tandem");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(
        instructions.contains("handoff_create") && instructions.contains("memory_changes"),
        "{instructions}"
    );
}

#[tokio::test]
async fn calls_prompts_and_resources_reach_the_server_that_owns_them() {
    let all = common::all().await;
    all.ok(
        "memory_set",
        json!({"key": "p/auth", "value": {"method": "JWT"}}),
    )
    .await;
    let handoff = all
        .ok(
            "handoff_create",
            json!({"title": "Add login", "summary": "JWT with refresh tokens."}),
        )
        .await;
    let got = all.ok("memory_get", json!({"keys": ["p/auth"]})).await;
    assert_eq!(got["entries"][0]["value"]["method"], "JWT", "{got}");
    let read = all.ok("handoff_read", json!({"id": "latest"})).await;
    assert_eq!(read["id"], handoff["id"], "{read}");

    let err = all
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("memory_sett"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("memory_set") && err.contains("handoff_create"),
        "{err}"
    );

    let prompts: BTreeSet<String> = all
        .client
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let expected: BTreeSet<String> = ["handoff", "pickup", "recall"].map(String::from).into();
    assert_eq!(prompts, expected);
    let recall = all
        .client
        .get_prompt(
            GetPromptRequestParams::new("recall")
                .with_arguments(json!({"topic": "auth"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert!(!recall.messages.is_empty());
    let unknown = all
        .client
        .get_prompt(GetPromptRequestParams::new("recal"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("recal") && unknown.contains("handoff, pickup, recall"),
        "{unknown}"
    );

    // Every resource of both servers, page by page, ends with a cursor of none.
    let mut uris = Vec::new();
    let mut cursor = None;
    loop {
        let page = all
            .client
            .list_resources(Some(PaginatedRequestParams::default().with_cursor(cursor)))
            .await
            .unwrap();
        uris.extend(page.resources.iter().map(|r| r.uri.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let entry = entry_uri("p/auth");
    let handoff_uri = format!("handoff://{}", handoff["id"].as_str().unwrap());
    assert!(uris.contains(&entry), "{uris:?}");
    assert!(uris.contains(&handoff_uri), "{uris:?}");
    for uri in [entry, handoff_uri] {
        let read = all
            .client
            .read_resource(ReadResourceRequestParams::new(uri.clone()))
            .await
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert!(!read.contents.is_empty(), "{uri}");
    }
    let templates = all.client.list_all_resource_templates().await.unwrap();
    assert!(
        templates
            .iter()
            .any(|t| t.uri_template.starts_with("memory://")),
        "{templates:?}"
    );
}

#[tokio::test]
async fn a_change_to_either_is_pushed_to_a_subscriber() {
    let all = common::all().await;
    all.ok("memory_set", json!({"key": "p/db", "value": "sqlite"}))
        .await;
    all.ok("write_file", json!({"path": "plan.md", "content": "first"}))
        .await;
    let resources = all.client.list_all_resources().await.unwrap();
    let file = resources
        .iter()
        .map(|r| r.uri.clone())
        .find(|u| u.starts_with("file://") && u.ends_with("/plan.md"))
        .expect("plan.md among the resources");
    let entry = entry_uri("p/db");
    for uri in [&entry, &file] {
        #[allow(deprecated)]
        all.client
            .subscribe(rmcp::model::SubscribeRequestParams::new(uri.clone()))
            .await
            .unwrap();
    }
    let heard = |uri: &String| all.recorder.updated.lock().unwrap().contains(uri);
    all.ok("memory_set", json!({"key": "p/db", "value": "postgres"}))
        .await;
    // The folder watcher is set up off the start-up path: write until it has noticed.
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut n = 0;
        while !(heard(&entry) && heard(&file)) {
            n += 1;
            all.ok(
                "write_file",
                json!({"path": "plan.md", "content": format!("edit {n}")}),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("no resources/updated for both the entry and the file within 10 s");
}
