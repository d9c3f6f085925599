//! Calls reach their tools; what goes wrong comes back as the protocol says: an unknown tool
//! is a protocol error naming the tools there are, a failure the model should act on is an
//! `isError` result that says what to do.

use serde_json::json;

use crate::common;

#[tokio::test]
async fn a_memory_call_reaches_its_tool_and_a_conflict_says_what_to_do() {
    let m = common::memory().await;
    let set = m
        .ok(
            "memory_set",
            json!({"key": "p/auth", "value": {"method": "JWT"}}),
        )
        .await;
    assert_eq!(set["version"], 1, "{set}");
    let got = m
        .ok("memory_get", json!({"keys": ["p/auth", "p/none"]}))
        .await;
    assert_eq!(got["entries"][0]["value"]["method"], "JWT", "{got}");
    assert_eq!(got["missing"], json!(["p/none"]));
    let stale = m
        .call(
            "memory_set",
            json!({"key": "p/auth", "value": 1, "expectedVersion": 0}),
        )
        .await;
    assert_eq!(stale.is_error, Some(true));
    let text = format!("{:?}", stale.content);
    assert!(text.contains("expectedVersion 1"), "{text}");
}

#[tokio::test]
async fn an_unknown_tool_is_a_protocol_error_that_names_the_tools_offered() {
    let m = common::memory().await;
    let params = rmcp::model::CallToolRequestParams::new("memory_sett");
    let err = m.client.call_tool(params).await.unwrap_err().to_string();
    assert!(
        err.contains("memory_sett") && err.contains("memory_set"),
        "{err}"
    );
}

#[tokio::test]
async fn arguments_that_do_not_fit_the_schema_are_refused() {
    let w = common::workspace(false).await;
    let result = w.client.call_tool(
        rmcp::model::CallToolRequestParams::new("read_text_file")
            .with_arguments(json!({"path": 7}).as_object().unwrap().clone()),
    );
    let refused = match result.await {
        Err(_) => true,
        Ok(r) => r.is_error == Some(true),
    };
    assert!(refused);
}

#[tokio::test]
async fn a_read_only_workspace_offers_and_runs_only_tools_annotated_read_only() {
    let w = common::workspace(true).await;
    let tools = w.client.list_all_tools().await.unwrap();
    assert!(!tools.is_empty());
    for tool in &tools {
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
        assert_eq!(read_only, Some(true), "{} is offered read-only", tool.name);
    }
    assert!(tools.iter().any(|t| t.name == "handoff_list"));
    let params = rmcp::model::CallToolRequestParams::new("write_file").with_arguments(
        json!({"path": "x.md", "content": "x"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let err = w.client.call_tool(params).await.unwrap_err().to_string();
    assert!(err.contains("unknown tool"), "{err}");
    let prompts = w.client.list_all_prompts().await.unwrap();
    assert!(
        prompts.iter().all(|p| p.name != "handoff"),
        "no prompt that writes"
    );
}

#[tokio::test]
async fn a_handoff_written_through_the_workspace_is_listed_and_read() {
    let w = common::workspace(false).await;
    let created = w
        .ok(
            "handoff_create",
            json!({"title": "Add auth", "summary": "JWT.", "tasks": ["Add /login"]}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let list = w.ok("handoff_list", json!({"status": "open"})).await;
    assert_eq!(list["handoffs"][0]["id"], id.as_str(), "{list}");
    let doc = w.ok("handoff_read", json!({"id": "latest"})).await;
    assert!(
        doc["markdown"].as_str().unwrap().contains("Add /login"),
        "{doc}"
    );
    let claimed = w
        .ok("handoff_update", json!({"id": id, "status": "claimed"}))
        .await;
    assert_eq!(claimed["status"], "claimed");
}
