//! The real Claude Code CLI (pinned in tests/js/package.json) reading what `tandem install`
//! wrote: `claude mcp list` health-checks every configured server, without a login.

use serde_json::Value;
use tandem_tests::{HubProcess, TestHome, assert_connected, claude_mcp_list};

use super::install::realistic_claude_json;

/// Every key of `before` is in `after` with the same value (Claude Code may add keys of its
/// own); returns the paths that differ.
fn differences(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in b {
                let here = format!("{path}/{k}");
                match a.get(k) {
                    Some(w) => differences(v, w, &here, out),
                    None => out.push(format!("{here} is gone")),
                }
            }
        }
        _ if before == after => {}
        _ => out.push(format!("{path}: {before} became {after}")),
    }
}

#[tokio::test]
async fn claude_mcp_list_reports_both_tandem_servers_connected_and_every_other_key_stays() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let original = realistic_claude_json();
    std::fs::write(home.claude_json(), &original).unwrap();
    home.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    let before: Value = serde_json::from_str(&original).unwrap();
    let mut installed: Value =
        serde_json::from_slice(&std::fs::read(home.claude_json()).unwrap()).unwrap();
    installed["mcpServers"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("tandem-"));
    assert_eq!(
        installed, before,
        "tandem install changed only its own entries"
    );

    let listing = claude_mcp_list(&home, &[]).await;
    for name in ["tandem-workspace", "tandem-memory"] {
        assert_connected(&listing, name);
    }

    let after: Value = serde_json::from_slice(&std::fs::read(home.claude_json()).unwrap()).unwrap();
    let mut diff = Vec::new();
    differences(&before, &after, "", &mut diff);
    assert!(
        diff.is_empty(),
        "keys changed around the real CLI: {diff:#?}"
    );
    let servers: Vec<&String> = after["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(servers, ["notes", "tandem-workspace", "tandem-memory"]);
}

#[tokio::test]
async fn claude_mcp_list_reports_hub_entries_and_a_shared_server_keyed_by_a_variable_connected() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let hub = HubProcess::start(&home, false).await;
    let token = hub.token.clone().unwrap();
    let port = hub.port.to_string();
    home.tandem(&[
        "install",
        "--transport",
        "http",
        "--port",
        &port,
        "--client",
        "claude-code",
    ])
    .await
    .expect_code(0);
    // The hub again, declared as a third-party server whose key lives in a variable.
    let url = format!("{}/memory", hub.base());
    home.tandem(&[
        "share",
        "add",
        "team-memory",
        "--url",
        &url,
        "--header",
        "Authorization: Bearer env:TEAM_TOKEN",
        "--client",
        "claude-code",
    ])
    .await
    .expect_code(0);
    let config: Value =
        serde_json::from_slice(&std::fs::read(home.claude_json()).unwrap()).unwrap();
    let shared = &config["mcpServers"]["team-memory"];
    assert_eq!(shared["type"], "http");
    assert_eq!(shared["headers"]["Authorization"], "Bearer ${TEAM_TOKEN}");
    assert_eq!(config["mcpServers"]["tandem-memory"]["type"], "http");

    let listing = claude_mcp_list(&home, &[("TEAM_TOKEN", &token)]).await;
    for name in ["tandem-workspace", "tandem-memory", "team-memory"] {
        assert_connected(&listing, name);
    }
}
