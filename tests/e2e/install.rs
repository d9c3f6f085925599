//! `tandem install`, `uninstall` and `status` through the real binary, in a private home:
//! dry runs, malformed files, client selection, the session hook, help and layout.

use serde_json::{Value, json};
use tandem_tests::{TestHome, tandem_bin};

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn json_of(path: &std::path::Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap()
}

/// A `~/.claude.json` like a real one: settings with non-default values, projects, another
/// server. (Not `autoUpdates` nor `projects.*.projectOnboardingSeenCount`: Claude Code 2.1
/// itself moves or drops those whenever it runs, Tandem or not.)
pub fn realistic_claude_json() -> String {
    serde_json::to_string_pretty(&json!({
        "numStartups": 47,
        "installMethod": "npm-global",
        "theme": "light-daltonized",
        "verbose": true,
        "editorMode": "vim",
        "tipsHistory": {"new-user-warmup": 7, "memory-command": 3},
        "userID": "4f9c2a7be1d04c3f8e2b6a1d9c7e5f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e",
        "firstStartTime": "2025-11-03T08:12:45.123Z",
        "hasCompletedOnboarding": true,
        "lastOnboardingVersion": "2.1.300",
        "projects": {
            "/home/ann/src/shop": {
                "allowedTools": ["Bash(npm test:*)", "Edit"],
                "mcpContextUris": [],
                "mcpServers": {},
                "enabledMcpjsonServers": ["search"],
                "disabledMcpjsonServers": [],
                "hasTrustDialogAccepted": true,
                "lastCost": 1.37,
                "lastDuration": 456789,
                "lastSessionId": "6f1c0a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
            }
        },
        "mcpServers": {
            "notes": {"type": "stdio", "command": "/opt/notes/bin/notes-mcp", "args": ["--stdio"], "env": {"NOTES_DIR": "/home/ann/notes"}}
        }
    }))
    .unwrap()
        + "\n"
}

#[tokio::test]
async fn a_dry_run_prints_a_diff_and_changes_nothing() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let original = realistic_claude_json();
    std::fs::write(home.claude_json(), &original).unwrap();

    let ran = home
        .tandem(&["install", "--client", "claude-code", "--dry-run"])
        .await;
    ran.expect_code(0);
    assert!(ran.stdout.contains("--- "), "{}", ran.stdout);
    assert!(ran.stdout.contains("+++ "), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("+    \"tandem-memory\": {"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("+    \"tandem-workspace\": {"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("nothing was changed"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
    assert_eq!(read(&home.claude_json()), original.as_bytes());
    assert!(!home.tandem_home().join("backups").exists());
    assert!(!home.tandem_home().join("installs.json").exists());
}

#[tokio::test]
async fn install_writes_both_entries_keeps_everything_else_and_uninstall_gives_the_bytes_back() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let original = realistic_claude_json();
    std::fs::write(home.claude_json(), &original).unwrap();

    let ran = home.tandem(&["install", "--client", "claude-code"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("added tandem-workspace, tandem-memory"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("start a new Claude Code session"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("tandem doctor"), "{}", ran.stdout);

    let after = json_of(&home.claude_json());
    let bin = std::fs::canonicalize(tandem_bin()).unwrap();
    let memory = &after["mcpServers"]["tandem-memory"];
    assert_eq!(memory["type"], "stdio");
    assert_eq!(memory["command"], bin.to_string_lossy().as_ref());
    assert_eq!(memory["args"], json!(["mcp", "memory"]));
    assert_eq!(
        memory["env"]["TANDEM_HOME"],
        home.tandem_home().to_string_lossy().as_ref(),
        "an explicit TANDEM_HOME goes into the entry, so GUI-started servers share state"
    );
    assert_eq!(
        after["mcpServers"]["tandem-workspace"]["args"],
        json!(["mcp", "workspace"])
    );
    let mut rest = after.clone();
    rest["mcpServers"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("tandem-"));
    let before: Value = serde_json::from_str(&original).unwrap();
    assert_eq!(rest, before);

    // Idempotent: a second install changes no byte.
    let bytes = read(&home.claude_json());
    let ran = home.tandem(&["install", "--client", "claude-code"]).await;
    ran.expect_code(0);
    assert!(ran.stdout.contains("already current"), "{}", ran.stdout);
    assert_eq!(read(&home.claude_json()), bytes);

    let backups = home.tandem_home().join("backups");
    assert_eq!(
        std::fs::read_dir(&backups).unwrap().count(),
        1,
        "one backup folder"
    );

    let ran = home.tandem(&["uninstall", "--client", "claude-code"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout
            .contains("removed tandem-workspace, tandem-memory"),
        "{}",
        ran.stdout
    );
    assert_eq!(read(&home.claude_json()), original.as_bytes());
}

#[tokio::test]
async fn a_malformed_file_is_refused_with_line_and_column_and_left_byte_identical() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let broken =
        "{\n  \"numStartups\": 3,\n  \"mcpServers\": {\n    \"x\": {\"command\": \"y\",}\n  }\n}\n";
    std::fs::write(home.claude_json(), broken).unwrap();

    let ran = home.tandem(&["install", "--client", "claude-code"]).await;
    ran.expect_code(1);
    let stderr = ran.stderr.replace("\n  ", " ");
    assert!(stderr.contains(".claude.json"), "{}", ran.stderr);
    assert!(stderr.contains("line 4, column"), "{}", ran.stderr);
    assert!(stderr.contains("changed nothing"), "{}", ran.stderr);
    assert_eq!(read(&home.claude_json()), broken.as_bytes());
    assert!(
        !home.tandem_home().join("backups").exists(),
        "no backup either"
    );

    // A servers key that is not an object, and an empty file, are refused too.
    for (text, at) in [
        ("{\"mcpServers\": [1, 2]}\n", "line 1, column 16"),
        ("", "line 1, column 1"),
    ] {
        std::fs::write(home.claude_json(), text).unwrap();
        let ran = home.tandem(&["install", "--client", "claude-code"]).await;
        ran.expect_code(1);
        assert!(
            ran.stderr.replace("\n  ", " ").contains(at),
            "{text:?}: {}",
            ran.stderr
        );
        assert_eq!(read(&home.claude_json()), text.as_bytes());
    }
}

#[tokio::test]
async fn unknown_clients_are_a_usage_error_listing_the_valid_ones() {
    let home = TestHome::new();
    let ran = home.tandem(&["install", "--client", "claude"]).await;
    ran.expect_code(2);
    for name in ["claude-desktop", "claude-code", "cursor", "vscode", "codex"] {
        assert!(ran.stderr.contains(name), "{name}: {}", ran.stderr);
    }
    let ran = home.tandem(&["install", "--transport", "sse"]).await;
    ran.expect_code(2);
    assert!(
        ran.stderr.contains("stdio") && ran.stderr.contains("http"),
        "{}",
        ran.stderr
    );
}

#[tokio::test]
async fn a_client_that_is_not_here_needs_force_and_is_told_where_its_config_would_be() {
    let home = TestHome::new();
    let ran = home.tandem(&["install", "--client", "cursor"]).await;
    ran.expect_code(1);
    let stderr = ran.stderr.replace("\n  ", " ");
    assert!(stderr.contains("Cursor was not found"), "{}", ran.stderr);
    assert!(stderr.contains("~/.cursor/mcp.json"), "{}", ran.stderr);
    assert!(stderr.contains("--force"), "{}", ran.stderr);
    let config = home.user_home().join(".cursor/mcp.json");
    assert!(!config.exists());

    home.tandem(&["install", "--client", "cursor", "--force"])
        .await
        .expect_code(0);
    assert_eq!(
        json_of(&config)["mcpServers"]["tandem-memory"]["args"],
        json!(["mcp", "memory"])
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a file Tandem creates is private");
    }
    // Uninstall removes the file Tandem created.
    home.tandem(&["uninstall", "--client", "cursor"])
        .await
        .expect_code(0);
    assert!(!config.exists());
}

#[tokio::test]
async fn with_no_client_named_every_detected_client_is_installed_and_desktop_needs_a_full_quit() {
    let home = TestHome::new();
    let ran = home.tandem(&["install"]).await;
    ran.expect_code(1);
    assert!(
        ran.stderr.contains("no MCP client was found"),
        "{}",
        ran.stderr
    );

    home.mkdir(".claude");
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    let ran = home.tandem(&["install"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("Claude Desktop: added"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("Claude Code: added"), "{}", ran.stdout);
    assert!(!ran.stdout.contains("Cursor"), "{}", ran.stdout);
    let flat = ran.stdout.replace("\n    ", " ");
    assert!(
        flat.contains(
            "quit Claude Desktop completely and open it again (closing its window is not enough)"
        ),
        "{}",
        ran.stdout
    );
    assert!(home.desktop_config().exists());

    let ran = home.tandem(&["status", "--json"]).await;
    ran.expect_code(0);
    let status: Value = serde_json::from_str(&ran.stdout).unwrap();
    let clients = status["clients"].as_array().unwrap();
    let by_id = |id: &str| clients.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(by_id("claude-desktop")["healthy"], true);
    assert_eq!(by_id("claude-code")["healthy"], true);
    assert_eq!(by_id("cursor")["detected"], false);
    let entries = by_id("claude-desktop")["files"][0]["entries"].clone();
    assert_eq!(entries[0]["name"], "tandem-workspace");
    assert_eq!(entries[0]["health"], "current");

    let ran = home.tandem(&["status"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("Claude Desktop  connected"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("Cursor          not found"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("has not run yet"), "{}", ran.stdout);
    assert_fits(&ran.stdout);
}

#[tokio::test]
async fn status_says_when_the_binary_of_an_entry_is_gone() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    let mut config = json_of(&home.claude_json());
    config["mcpServers"]["tandem-memory"]["command"] = json!("/nowhere/tandem");
    std::fs::write(home.claude_json(), config.to_string()).unwrap();
    let ran = home.tandem(&["status"]).await;
    ran.expect_code(0);
    assert!(ran.stdout.contains("needs attention"), "{}", ran.stdout);
    let flat = ran.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("the binary at /nowhere/tandem no longer exists: run `tandem install` again"),
        "{}",
        ran.stdout
    );
}

#[tokio::test]
async fn the_session_hook_is_added_beside_the_persons_hooks_and_removed_again() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let settings = "{\n  \"model\": \"opus\",\n  \"hooks\": {\n    \"SessionStart\": [\n      {\n        \"matcher\": \"startup\",\n        \"hooks\": [\n          {\n            \"type\": \"command\",\n            \"command\": \"echo hello\"\n          }\n        ]\n      }\n    ],\n    \"Stop\": []\n  }\n}\n";
    std::fs::write(home.claude_settings(), settings).unwrap();

    let ran = home
        .tandem(&[
            "install",
            "--client",
            "claude-code",
            "--session-hook",
            "--dry-run",
        ])
        .await;
    ran.expect_code(0);
    assert!(ran.stdout.contains("Claude Code hook:"), "{}", ran.stdout);
    assert!(ran.stdout.contains("brief --home"), "{}", ran.stdout);
    assert_eq!(read(&home.claude_settings()), settings.as_bytes());

    home.tandem(&["install", "--client", "claude-code", "--session-hook"])
        .await
        .expect_code(0);
    let written = json_of(&home.claude_settings());
    assert_eq!(written["model"], "opus");
    let groups = written["hooks"]["SessionStart"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["hooks"][0]["command"], "echo hello");
    assert_eq!(groups[1]["matcher"], "startup|resume|clear|compact");
    let hook = &groups[1]["hooks"][0];
    assert_eq!(hook["type"], "command");
    let command = hook["command"].as_str().unwrap();
    let bin = std::fs::canonicalize(tandem_bin()).unwrap();
    assert!(command.starts_with(&*bin.to_string_lossy()), "{command}");
    assert!(command.contains(" brief --home "), "{command}");
    // Hooks must not go into ~/.claude.json, which Claude Code does not read them from.
    let claude_json = json_of(&home.claude_json());
    assert!(claude_json.get("hooks").is_none());

    // Again: nothing changes.
    let bytes = read(&home.claude_settings());
    home.tandem(&["install", "--client", "claude-code", "--session-hook"])
        .await
        .expect_code(0);
    assert_eq!(read(&home.claude_settings()), bytes);

    let ran = home.tandem(&["status"]).await;
    assert!(ran.stdout.contains("SessionStart hook:"), "{}", ran.stdout);

    let ran = home.tandem(&["uninstall", "--client", "claude-code"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("Claude Code hook: removed"),
        "{}",
        ran.stdout
    );
    assert_eq!(read(&home.claude_settings()), settings.as_bytes());
}

#[tokio::test]
async fn a_session_hook_in_a_new_settings_file_goes_away_with_the_file() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.tandem(&["install", "--client", "claude-code", "--session-hook"])
        .await
        .expect_code(0);
    assert!(home.claude_settings().exists());
    home.tandem(&["uninstall"]).await.expect_code(0);
    assert!(!home.claude_settings().exists());
    // A malformed settings file is refused like any config.
    std::fs::write(
        home.claude_settings(),
        "{\"hooks\": {\"SessionStart\": {}}}",
    )
    .unwrap();
    let ran = home
        .tandem(&["install", "--client", "claude-code", "--session-hook"])
        .await;
    ran.expect_code(1);
    assert!(ran.stderr.contains("SessionStart"), "{}", ran.stderr);
    assert_eq!(
        read(&home.claude_settings()),
        b"{\"hooks\": {\"SessionStart\": {}}}"
    );
}

#[tokio::test]
async fn the_session_hook_is_only_for_claude_code() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    let ran = home
        .tandem(&["install", "--client", "claude-desktop", "--session-hook"])
        .await;
    ran.expect_code(2);
    assert!(
        ran.stderr.contains("--client claude-code"),
        "{}",
        ran.stderr
    );
    assert!(!home.desktop_config().exists());
}

/// Every line within 80 columns.
#[track_caller]
fn assert_fits(text: &str) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line:?}",
            line.chars().count()
        );
    }
}

#[tokio::test]
async fn every_command_has_help_with_an_example_and_exit_codes_within_80_columns() {
    let home = TestHome::new();
    for command in ["install", "uninstall", "status", "doctor", "brief"] {
        let ran = home.tandem(&[command, "--help"]).await;
        ran.expect_code(0);
        assert!(ran.stdout.contains("Example"), "{command}: {}", ran.stdout);
        assert!(
            ran.stdout.contains("Exit codes"),
            "{command}: {}",
            ran.stdout
        );
        assert_fits(&ran.stdout);
    }
    let ran = home.tandem(&["--help"]).await;
    assert_fits(&ran.stdout);
    assert!(ran.stdout.contains("Exit codes"), "{}", ran.stdout);
}

#[tokio::test]
async fn a_project_install_writes_the_projects_shared_config_without_detection() {
    let home = TestHome::new();
    let project = home.dir.path().join("shop");
    std::fs::create_dir_all(&project).unwrap();
    let dir = project.to_string_lossy().into_owned();
    home.tandem(&["install", "--client", "claude-code", "--project", &dir])
        .await
        .expect_code(0);
    let mcp = json_of(&project.join(".mcp.json"));
    assert_eq!(
        mcp["mcpServers"]["tandem-workspace"]["args"],
        json!(["mcp", "workspace"])
    );
    assert!(
        !home.claude_json().exists(),
        "the person's own config is not touched"
    );
    let ran = home
        .tandem(&["install", "--client", "claude-desktop", "--project", &dir])
        .await;
    ran.expect_code(1);
    assert!(
        ran.stderr.contains("no project-scoped config"),
        "{}",
        ran.stderr
    );
    home.tandem(&["uninstall", "--project", &dir])
        .await
        .expect_code(0);
    assert!(!project.join(".mcp.json").exists());
}

#[tokio::test]
async fn all_means_every_client_in_the_catalogue() {
    let home = TestHome::new();
    let ran = home.tandem(&["install", "--all", "--dry-run"]).await;
    ran.expect_code(0);
    for name in [
        "Claude Desktop:",
        "Claude Code:",
        "Cursor:",
        "VS Code:",
        "Windsurf:",
        "Zed:",
        "Codex:",
        "Gemini CLI:",
    ] {
        assert!(ran.stdout.contains(name), "{name}: {}", ran.stdout);
    }
    // VS Code's key is `servers`, Windsurf and Zed have their own shapes: the catalogue's.
    assert!(ran.stdout.contains("+  \"servers\": {"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("+[mcp_servers.tandem-memory]"),
        "{}",
        ran.stdout
    );
    assert!(
        std::fs::read_dir(home.user_home())
            .unwrap()
            .next()
            .is_none(),
        "nothing written"
    );
    let ran = home
        .tandem(&["install", "--all", "--client", "cursor"])
        .await;
    ran.expect_code(2);
}
