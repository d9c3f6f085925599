//! The workspace server as clients see it: the Desktop → Code handoff scenario, file tools,
//! the jail, read-only mode, resources and change notifications, prompts.

use std::time::Duration;

use serde_json::{Value, json};
use tandem_tests::{TestClient, TestHome};

const WORKSPACE: &[&str] = &["mcp", "workspace"];
const MEMORY: &[&str] = &["mcp", "memory"];

#[tokio::test]
async fn desktop_hands_a_plan_to_code_and_sees_it_done() {
    let home = TestHome::new();
    let desktop = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, WORKSPACE)
        .await;
    let desktop_memory = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, MEMORY)
        .await;
    let created = desktop
        .ok(
            "handoff_create",
            json!({
                "title": "Add JWT auth to the API",
                "summary": "Stateless auth with refresh tokens.",
                "decisions": ["Use jose for JWT handling"],
                "tasks": ["Add /login", "Add refresh endpoint"],
                "openQuestions": ["Token lifetime?"],
                "files": ["src/auth.rs"],
                "project": "proj-x"
            }),
        )
        .await;
    assert_eq!(created["status"], "open");
    let id = created["id"].as_str().unwrap().to_string();
    desktop_memory
        .ok(
            "memory_set",
            json!({"key": "proj-x/auth-approach", "value": {"method": "JWT", "library": "jose"}}),
        )
        .await;

    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&home, WORKSPACE)
        .await;
    let code_memory = TestClient::named("claude-code", "2.1.332")
        .connect(&home, MEMORY)
        .await;
    let list = code.ok("handoff_list", json!({"status": "open"})).await;
    assert_eq!(list["handoffs"][0]["id"], id.as_str());
    assert_eq!(list["handoffs"][0]["createdBy"], "claude-ai 0.14.1");
    let latest = code.ok("handoff_read", json!({"id": "latest"})).await;
    assert_eq!(latest["id"], id.as_str());
    let md = latest["markdown"].as_str().unwrap();
    for section in [
        "## Summary",
        "## Decisions",
        "## Tasks",
        "- [ ] Add /login",
        "## Open questions",
        "## Files",
        "## Log",
    ] {
        assert!(md.contains(section), "{section} missing from:\n{md}");
    }
    let hits = code_memory
        .ok("memory_search", json!({"query": "auth"}))
        .await;
    assert_eq!(hits["hits"][0]["key"], "proj-x/auth-approach");
    let claimed = code
        .ok(
            "handoff_update",
            json!({"id": id, "status": "claimed", "note": "starting with /login"}),
        )
        .await;
    assert_eq!(claimed["status"], "claimed");
    code.ok(
        "handoff_update",
        json!({"id": id, "status": "done", "note": "shipped"}),
    )
    .await;

    let seen = desktop.ok("handoff_read", json!({"id": id})).await;
    assert_eq!(seen["status"], "done");
    let md = seen["markdown"].as_str().unwrap();
    assert!(
        md.contains("claude-code 2.1.332"),
        "Code's name is not in the log:\n{md}"
    );
    assert!(
        md.contains("shipped") && md.contains("starting with /login"),
        "{md}"
    );
    let open = desktop.ok("handoff_list", json!({"status": "open"})).await;
    assert_eq!(open["handoffs"].as_array().unwrap().len(), 0);
    for s in [desktop, desktop_memory, code, code_memory] {
        s.close().await;
    }
}

#[tokio::test]
async fn the_default_folder_is_created_under_tandem_home_with_a_readme() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, WORKSPACE).await;
    let allowed = s.ok("list_allowed_directories", json!({})).await;
    let shared = home.tandem_home().join("shared").canonicalize().unwrap();
    assert_eq!(allowed["directories"], json!([shared.to_string_lossy()]));
    assert!(shared.join("README.md").is_file());
    assert!(shared.join("handoffs").is_dir());
    s.close().await;
}

#[tokio::test]
async fn file_tools_work_inside_the_folder_and_deny_everything_outside() {
    let home = TestHome::new();
    let s = TestClient::named("claude-code", "1")
        .connect(&home, WORKSPACE)
        .await;
    let wrote = s
        .ok(
            "write_file",
            json!({"path": "plans/api.md", "content": "# API\nline two\nline three\n"}),
        )
        .await;
    assert_eq!(wrote["created"], true);
    let read = s
        .ok("read_text_file", json!({"path": "plans/api.md", "head": 2}))
        .await;
    assert_eq!(read["content"], "# API\nline two\n");
    let edit = s
        .ok("edit_file", json!({"path": "plans/api.md", "edits": [{"oldText": "line two", "newText": "line 2"}]}))
        .await;
    assert!(edit["diff"].as_str().unwrap().contains("+line 2"), "{edit}");
    let dup = s
        .err(
            "edit_file",
            json!({"path": "plans/api.md", "edits": [{"oldText": "line", "newText": "x"}]}),
        )
        .await;
    assert!(dup.to_lowercase().contains("replaceall"), "{dup}");
    s.ok("create_directory", json!({"path": "archive/2026"}))
        .await;
    s.ok(
        "move_file",
        json!({"source": "plans/api.md", "destination": "archive/2026/api.md"}),
    )
    .await;
    let listing = s.ok("list_directory", json!({"path": "archive"})).await;
    assert_eq!(listing["entries"], json!([{"name": "2026", "kind": "dir"}]));
    let tree = s
        .ok(
            "directory_tree",
            json!({"path": ".", "excludePatterns": ["handoffs"]}),
        )
        .await;
    assert!(tree.to_string().contains("api.md"));
    let found = s
        .ok("search_files", json!({"path": ".", "pattern": "**/*.md"}))
        .await;
    assert!(
        found["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "archive/2026/api.md"),
        "{found}"
    );
    let grep = s
        .ok(
            "grep",
            json!({"pattern": "line \\d", "caseInsensitive": true}),
        )
        .await;
    assert_eq!(grep["matches"][0]["file"], "archive/2026/api.md");
    assert_eq!(grep["matches"][0]["line"], 2);
    let info = s
        .ok("get_file_info", json!({"path": "archive/2026/api.md"}))
        .await;
    assert_eq!(info["kind"], "file");
    let multi = s
        .ok(
            "read_multiple_files",
            json!({"paths": ["archive/2026/api.md", "nope.md"]}),
        )
        .await;
    assert!(multi["files"][1]["error"].is_string());

    let outside = home.dir.path().join("outside.txt");
    std::fs::write(&outside, "secret").unwrap();
    let shared = home.tandem_home().join("shared");
    std::os::unix::fs::symlink(&outside, shared.join("link.txt")).unwrap();
    let denied: Vec<(&str, Value)> = vec![
        ("read_text_file", json!({"path": "/etc/passwd"})),
        ("read_text_file", json!({"path": "../outside.txt"})),
        ("read_text_file", json!({"path": "link.txt"})),
        (
            "write_file",
            json!({"path": "../../escape.txt", "content": "x"}),
        ),
        (
            "write_file",
            json!({"path": "link.txt", "content": "overwritten"}),
        ),
        ("list_directory", json!({"path": "/"})),
        ("grep", json!({"pattern": "secret", "path": ".."})),
        (
            "move_file",
            json!({"source": "archive", "destination": "../stolen"}),
        ),
    ];
    for (tool, args) in denied {
        let msg = s.err(tool, args.clone()).await;
        assert!(msg.starts_with("Access denied"), "{tool} {args}: {msg}");
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret");
    assert!(!home.dir.path().join("escape.txt").exists());
    assert!(!home.tandem_home().join("stolen").exists());
    s.close().await;
}

#[tokio::test]
async fn read_only_mode_offers_only_the_readers() {
    let home = TestHome::new();
    // The folder must exist: read-only never creates it.
    let rw = TestClient::named("t", "1").connect(&home, WORKSPACE).await;
    rw.close().await;
    let s = TestClient::named("t", "1")
        .connect(&home, &["mcp", "workspace", "--read-only"])
        .await;
    let tools = s.service.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for hidden in [
        "write_file",
        "edit_file",
        "create_directory",
        "move_file",
        "handoff_create",
        "handoff_update",
    ] {
        assert!(
            !names.contains(&hidden),
            "{hidden} offered in read-only mode"
        );
    }
    for offered in [
        "read_text_file",
        "list_directory",
        "grep",
        "handoff_list",
        "handoff_read",
    ] {
        assert!(names.contains(&offered), "{offered} missing");
    }
    for tool in &tools {
        assert_eq!(
            tool.annotations.as_ref().unwrap().read_only_hint,
            Some(true),
            "{}",
            tool.name
        );
        assert!(tool.output_schema.is_some(), "{}", tool.name);
    }
    let Value::Object(args) = json!({"path": "x", "content": "y"}) else {
        unreachable!()
    };
    let call = rmcp::model::CallToolRequestParams::new("write_file").with_arguments(args);
    let err = s
        .service
        .call_tool(call)
        .await
        .expect_err("a hidden tool must not run");
    assert!(err.to_string().contains("unknown tool"), "{err}");
    assert!(!home.tandem_home().join("shared/x").exists());
    let prompts = s.service.list_all_prompts().await.unwrap();
    assert_eq!(
        prompts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["pickup"]
    );
    s.close().await;
}

#[tokio::test]
async fn files_and_handoffs_are_resources_and_changes_by_anyone_are_pushed() {
    let home = TestHome::new();
    let s = TestClient::named("claude-code", "1")
        .connect(&home, WORKSPACE)
        .await;
    let created = s
        .ok("handoff_create", json!({"title": "Plan", "summary": "S"}))
        .await;
    let id = created["id"].as_str().unwrap();
    let resources = s.service.list_all_resources().await.unwrap();
    let handoff_uri = format!("handoff://{id}");
    assert!(
        resources.iter().any(|r| r.uri == handoff_uri),
        "{resources:?}"
    );
    assert!(
        resources
            .iter()
            .any(|r| r.uri.starts_with("file://") && r.uri.ends_with("/README.md"))
    );
    let read = s
        .service
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            handoff_uri.clone(),
        ))
        .await
        .unwrap();
    assert!(format!("{read:?}").contains("## Summary"));

    #[allow(deprecated)]
    s.service
        .subscribe(rmcp::model::SubscribeRequestParams::new(
            handoff_uri.clone(),
        ))
        .await
        .unwrap();
    // A person edits the handoff in their editor: no MCP call involved.
    let file = home
        .tandem_home()
        .join("shared")
        .join(created["path"].as_str().unwrap());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("## Summary\n", "## Summary\nEdited by hand.\n"),
    )
    .unwrap();
    assert!(
        s.wait_for(Duration::from_secs(10), |h| h.list_changed >= 1
            && h.updated.contains(&handoff_uri))
            .await,
        "no notification after a hand edit: {:?}",
        s.client.heard.lock().unwrap()
    );
    s.close().await;
}

#[tokio::test]
async fn a_malformed_handoff_is_listed_as_invalid_and_breaks_nothing() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, WORKSPACE).await;
    let handoffs = home.tandem_home().join("shared/handoffs");
    std::fs::write(
        handoffs.join("2026-01-01-0900-broken.md"),
        "---\ntitle: [unclosed\n---\nbody",
    )
    .unwrap();
    std::fs::write(
        handoffs.join("2026-01-02-0900-by-hand.md"),
        "---\ntitle: Written by hand\nstatus: open\n---\n\n## Summary\nhello\n",
    )
    .unwrap();
    let list = s.ok("handoff_list", json!({})).await;
    let by_id = |id: &str| {
        list["handoffs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("2026-01-01-0900-broken")["status"], "invalid");
    assert!(by_id("2026-01-01-0900-broken")["error"].is_string());
    assert_eq!(by_id("2026-01-02-0900-by-hand")["title"], "Written by hand");
    let latest = s.ok("handoff_read", json!({"id": "latest"})).await;
    assert_eq!(latest["id"], "2026-01-02-0900-by-hand");
    s.close().await;
}

#[tokio::test]
async fn the_handoff_and_pickup_prompts_name_the_tools_to_call() {
    let home = TestHome::new();
    let s = TestClient::named("t", "1").connect(&home, WORKSPACE).await;
    let mut params = rmcp::model::GetPromptRequestParams::new("handoff");
    params.arguments = Some(
        [("focus".to_string(), json!("the auth work"))]
            .into_iter()
            .collect(),
    );
    let handoff = format!("{:?}", s.service.get_prompt(params).await.unwrap().messages);
    assert!(
        handoff.contains("handoff_create") && handoff.contains("the auth work"),
        "{handoff}"
    );
    let pickup = format!(
        "{:?}",
        s.service
            .get_prompt(rmcp::model::GetPromptRequestParams::new("pickup"))
            .await
            .unwrap()
            .messages
    );
    for word in ["handoff_read", "latest", "claimed", "memory_search", "done"] {
        assert!(pickup.contains(word), "{word} missing: {pickup}");
    }
    s.close().await;
}

#[tokio::test]
async fn the_official_typescript_client_uses_every_workspace_tool() {
    let home = TestHome::new();
    let out =
        tandem_tests::run_node_script(&home, "workspace-interop.mjs", &[], &Default::default())
            .await;
    assert_interop(&out);
}

/// What `workspace-interop.mjs` must report, wherever the server runs (also under Wine).
pub(crate) fn assert_interop(out: &Value) {
    assert_eq!(
        out["tools"],
        json!([
            "create_directory",
            "directory_tree",
            "edit_file",
            "get_file_info",
            "grep",
            "handoff_create",
            "handoff_list",
            "handoff_read",
            "handoff_update",
            "list_allowed_directories",
            "list_directory",
            "move_file",
            "read_multiple_files",
            "read_text_file",
            "search_files",
            "write_file"
        ])
    );
    assert_eq!(out["read"]["content"], "beta\n");
    assert_eq!(out["edit"]["written"], false);
    assert_eq!(out["grep"]["matches"][0]["file"], "notes/a.md");
    assert_eq!(out["latest"]["id"], out["created"]["id"]);
    assert_eq!(out["latest"]["createdBy"], "sdk-interop 1.32.2");
    assert_eq!(out["updated"]["status"], "claimed");
    assert!(
        out["deniedText"]
            .as_str()
            .unwrap()
            .starts_with("Access denied"),
        "{}",
        out["deniedText"]
    );
    assert_eq!(out["prompts"], json!(["handoff", "pickup"]));
}

/// Two sessions (two server processes on one shared folder) claim the same open handoff at
/// once, 100 times: each time exactly one wins, and the other is told who claimed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_sessions_claiming_one_handoff_exactly_one_wins_100_times_in_a_row() {
    let home = TestHome::new();
    let a = TestClient::named("claude-code", "2.1.332")
        .connect(&home, WORKSPACE)
        .await;
    let b = TestClient::named("cursor", "1.7.0")
        .connect(&home, WORKSPACE)
        .await;
    for round in 0..100 {
        let created = a
            .ok(
                "handoff_create",
                json!({"title": format!("Race {round}"), "summary": "Who takes it?"}),
            )
            .await;
        let claim = json!({"id": created["id"], "status": "claimed"});
        let (ra, rb) = tokio::join!(
            a.call("handoff_update", claim.clone()),
            b.call("handoff_update", claim.clone())
        );
        let won: Vec<bool> = [&ra, &rb]
            .iter()
            .map(|r| r.is_error != Some(true))
            .collect();
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "round {round}: {ra:?} {rb:?}"
        );
        let (lost, winner) = if won[0] {
            (&rb, "claude-code")
        } else {
            (&ra, "cursor")
        };
        let text = tandem_tests::text_of(lost);
        assert!(
            text.contains(&format!("claimed by {winner}")),
            "round {round}: {text}"
        );
    }
    a.close().await;
    b.close().await;
}
