//! The memory server as clients see it: tools, provenance across processes, resources,
//! notifications, the prompt, import and export.

use std::time::Duration;

use serde_json::json;
use tandem_tests::{TestClient, TestHome};

const MEMORY: &[&str] = &["mcp", "memory"];

use tandem_tests::on_each_engine;

on_each_engine!(a_value_written_by_desktop_is_what_code_reads_next);
async fn a_value_written_by_desktop_is_what_code_reads_next(home: TestHome) {
    let desktop = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, MEMORY)
        .await;
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&home, MEMORY)
        .await;
    let value = json!({
        "method": "JWT with refresh tokens",
        "library": "jose",
        "rationale": "stateless auth"
    });
    let set = desktop
        .ok(
            "memory_set",
            json!({"key": "proj-x/auth-approach", "value": value, "tags": ["auth"]}),
        )
        .await;
    assert_eq!(
        set,
        json!({"key": "proj-x/auth-approach", "version": 1, "created": true})
    );

    let got = code
        .ok(
            "memory_get",
            json!({"keys": ["proj-x/auth-approach", "proj-x/none"]}),
        )
        .await;
    let entry = &got["entries"][0];
    assert_eq!(entry["value"], value);
    assert_eq!(entry["updatedBy"], home.by("claude-ai 0.14.1"));
    assert_eq!(entry["tags"], json!(["auth"]));
    assert_eq!(got["missing"], json!(["proj-x/none"]));

    code.ok("memory_set", json!({"key": "proj-x/auth-approach", "value": {"method": "sessions"}, "expectedVersion": 1}))
        .await;
    let again = desktop
        .ok("memory_get", json!({"keys": ["proj-x/auth-approach"]}))
        .await;
    assert_eq!(
        again["entries"][0]["updatedBy"],
        home.by("claude-code 2.1.332")
    );
    assert_eq!(again["entries"][0]["version"], 2);
    desktop.close().await;
    code.close().await;
}

on_each_engine!(a_stale_expected_version_is_refused_with_the_current_version);
async fn a_stale_expected_version_is_refused_with_the_current_version(home: TestHome) {
    let s = TestClient::named("claude-ai", "1")
        .connect(&home, MEMORY)
        .await;
    s.ok("memory_set", json!({"key": "k", "value": 1})).await;
    s.ok("memory_set", json!({"key": "k", "value": 2})).await;
    let msg = s
        .err(
            "memory_set",
            json!({"key": "k", "value": 3, "expectedVersion": 1}),
        )
        .await;
    assert!(msg.contains("current version is 2"), "{msg}");
    let msg = s
        .err(
            "memory_set",
            json!({"key": "k", "value": 3, "expectedVersion": 0}),
        )
        .await;
    assert!(msg.contains("current version is 2"), "{msg}");
    let got = s.ok("memory_get", json!({"keys": ["k"]})).await;
    assert_eq!(got["entries"][0]["value"], 2);
    s.close().await;
}

on_each_engine!(list_search_history_restore_delete_and_changes_work_together);
async fn list_search_history_restore_delete_and_changes_work_together(home: TestHome) {
    let s = TestClient::named("claude-code", "2")
        .connect(&home, MEMORY)
        .await;
    for i in 0..5 {
        s.ok(
            "memory_set",
            json!({"key": format!("proj-y/item-{i}"), "value": {"n": i}, "tags": ["y"]}),
        )
        .await;
    }
    s.ok(
        "memory_set",
        json!({"key": "proj-z/db", "value": "postgres with pgvector"}),
    )
    .await;

    let page = s
        .ok("memory_list", json!({"prefix": "proj-y/", "limit": 3}))
        .await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 3);
    let next = page["nextCursor"].as_str().unwrap();
    let rest = s
        .ok("memory_list", json!({"prefix": "proj-y/", "cursor": next}))
        .await;
    assert_eq!(rest["entries"].as_array().unwrap().len(), 2);
    assert!(rest.get("nextCursor").is_none());
    assert_eq!(
        s.ok("memory_list", json!({"tag": "y"})).await["entries"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let hits = s.ok("memory_search", json!({"query": "pgvector"})).await;
    assert_eq!(hits["hits"][0]["key"], "proj-z/db");
    let hostile = s
        .ok(
            "memory_search",
            json!({"query": "\"unbalanced (NEAR AND *"}),
        )
        .await;
    assert!(hostile["hits"].is_array());

    s.ok("memory_set", json!({"key": "proj-z/db", "value": "sqlite"}))
        .await;
    let history = s.ok("memory_history", json!({"key": "proj-z/db"})).await;
    assert_eq!(history["versions"][0]["value"], "sqlite");
    assert_eq!(history["versions"][1]["value"], "postgres with pgvector");
    let restored = s
        .ok("memory_restore", json!({"key": "proj-z/db", "version": 1}))
        .await;
    assert_eq!(restored["version"], 3);

    let deleted = s
        .ok(
            "memory_delete",
            json!({"key": "proj-z/db", "expectedVersion": 3}),
        )
        .await;
    assert_eq!(
        deleted,
        json!({"key": "proj-z/db", "deleted": true, "version": 4})
    );
    let history = s.ok("memory_history", json!({"key": "proj-z/db"})).await;
    assert_eq!(history["versions"][0]["deleted"], true);

    let all = s
        .ok("memory_changes", json!({"since": 0, "limit": 1000}))
        .await;
    let ops: Vec<&str> = all["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops.len(), 9);
    assert_eq!(&ops[6..], ["set", "restore", "delete"]);
    let cursor = all["cursor"].as_i64().unwrap();
    s.ok("memory_set", json!({"key": "later", "value": true}))
        .await;
    let newer = s.ok("memory_changes", json!({"since": cursor})).await;
    assert_eq!(newer["changes"].as_array().unwrap().len(), 1);
    assert_eq!(newer["changes"][0]["key"], "later");
    assert_eq!(newer["changes"][0]["by"], home.by("claude-code 2"));
    s.close().await;
}

#[tokio::test]
async fn tools_carry_schemas_and_annotations() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, MEMORY).await;
    let tools = s.service.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "memory_set",
        "memory_get",
        "memory_list",
        "memory_search",
        "memory_delete",
        "memory_history",
        "memory_restore",
        "memory_changes",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for tool in &tools {
        assert!(
            tool.output_schema.is_some(),
            "{} has no outputSchema",
            tool.name
        );
        let ann = tool
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no annotations", tool.name));
        let read_only = [
            "memory_get",
            "memory_list",
            "memory_search",
            "memory_history",
            "memory_changes",
        ]
        .contains(&tool.name.as_ref());
        assert_eq!(ann.read_only_hint, Some(read_only), "{}", tool.name);
    }
    let info = s.service.peer_info().unwrap();
    let instructions = info.instructions.clone().unwrap();
    assert!(instructions.split_whitespace().count() <= 60);
    s.close().await;
}

on_each_engine!(entries_are_resources_and_other_processes_writes_are_pushed);
async fn entries_are_resources_and_other_processes_writes_are_pushed(home: TestHome) {
    let watcher = TestClient::named("claude-code", "1")
        .connect(&home, MEMORY)
        .await;
    let writer = TestClient::named("claude-ai", "1")
        .connect(&home, MEMORY)
        .await;
    let uri = "memory://entry/proj-x/auth approach";
    let encoded = "memory://entry/proj-x/auth%20approach";
    writer
        .ok(
            "memory_set",
            json!({"key": "proj-x/auth approach", "value": {"a": 1}}),
        )
        .await;
    assert!(
        watcher
            .wait_for(Duration::from_secs(10), |h| h.list_changed >= 1)
            .await,
        "no list_changed after another process wrote"
    );

    let resources = watcher.service.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.uri == encoded), "{resources:?}");
    let templates = watcher.service.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "memory://entry/{key}");
    let read = watcher
        .service
        .read_resource(rmcp::model::ReadResourceRequestParams::new(encoded))
        .await
        .unwrap();
    let text = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(entry["value"], json!({"a": 1}));
    assert_eq!(entry["updatedBy"], home.by("claude-ai 1"));
    assert!(uri.contains(' '));

    #[allow(deprecated)]
    watcher
        .service
        .subscribe(rmcp::model::SubscribeRequestParams::new(encoded))
        .await
        .unwrap();
    writer
        .ok(
            "memory_set",
            json!({"key": "proj-x/auth approach", "value": {"a": 2}}),
        )
        .await;
    assert!(
        watcher
            .wait_for(Duration::from_secs(10), |h| h
                .updated
                .iter()
                .any(|u| u == encoded))
            .await,
        "no resources/updated for a subscribed entry"
    );
    let missing = watcher
        .service
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "memory://entry/nope",
        ))
        .await;
    assert!(missing.is_err());
    watcher.close().await;
    writer.close().await;
}

#[tokio::test]
async fn the_recall_prompt_points_at_the_search_tools() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, MEMORY).await;
    let prompts = s.service.list_all_prompts().await.unwrap();
    let recall = prompts
        .iter()
        .find(|p| p.name == "recall")
        .expect("recall prompt");
    let args = recall.arguments.as_ref().unwrap();
    assert_eq!(args[0].name, "topic");
    assert_eq!(args[0].required, Some(true));
    let mut params = rmcp::model::GetPromptRequestParams::new("recall");
    params.arguments = Some([("topic".to_string(), json!("auth"))].into_iter().collect());
    let got = s.service.get_prompt(params).await.unwrap();
    let text = format!("{:?}", got.messages);
    assert!(
        text.contains("memory_search") && text.contains("auth"),
        "{text}"
    );
    s.close().await;
}

#[tokio::test]
async fn server_memory_files_import_and_everything_exports() {
    let home = TestHome::new();
    let file = home.dir.path().join("memory.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"type":"entity","name":"Alice","entityType":"person","observations":["prefers Rust"]}"#, "\n",
            r#"{"type":"entity","name":"Tandem","entityType":"project","observations":["MCP bridge"]}"#, "\n",
            r#"{"type":"relation","from":"Alice","to":"Tandem","relationType":"maintains"}"#, "\n",
        ),
    )
    .unwrap();
    let out = home
        .run(&["memory", "import", file.to_str().unwrap()])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 entities"));

    let out = home.run(&["memory", "export"]).await;
    assert!(out.status.success());
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = exported
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["entity/Alice", "entity/Tandem"]);
    assert_eq!(
        exported[0]["value"]["relations"][0]["relationType"],
        "maintains"
    );

    let s = TestClient::named("claude-code", "1")
        .connect(&home, MEMORY)
        .await;
    let hits = s.ok("memory_search", json!({"query": "rust"})).await;
    assert_eq!(hits["hits"][0]["key"], "entity/Alice");
    s.close().await;
}

#[tokio::test]
async fn the_database_defaults_under_tandem_home_and_db_overrides_it() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, MEMORY).await;
    s.ok("memory_set", json!({"key": "k", "value": 1})).await;
    s.close().await;
    assert!(home.memory_db().exists());

    let other = home.dir.path().join("deep/er/other.db");
    let s = TestClient::named("t", "1")
        .connect(&home, &["mcp", "memory", "--db", other.to_str().unwrap()])
        .await;
    let got = s.ok("memory_get", json!({"keys": ["k"]})).await;
    assert_eq!(got["missing"], json!(["k"]));
    s.close().await;
    assert!(other.exists());
}
