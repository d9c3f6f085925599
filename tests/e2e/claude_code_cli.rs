//! The real Claude Code CLI (pinned in tests/js/package.json) reading what `tandem install`
//! wrote: `claude mcp list` health-checks every configured server, without a login.

use std::time::Duration;

use serde_json::Value;
use tandem_tests::{TestHome, npm_dir};

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

    let claude = npm_dir().join("node_modules/.bin/claude");
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new(&claude)
            .args(["mcp", "list"])
            .envs(home.env())
            // No update checks, telemetry or other traffic from a test.
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .current_dir(home.user_home())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("claude mcp list timed out")
    .expect("running claude");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("claude mcp list:\n{stdout}\n{stderr}");
    for name in ["tandem-workspace", "tandem-memory"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} not listed:\n{stdout}\n{stderr}"));
        assert!(
            line.contains("Connected") && !line.contains("Failed"),
            "{name} is not connected: {line}"
        );
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
