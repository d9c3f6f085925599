//! `tandem brief`, as Claude Code's SessionStart hook runs it: nothing when there is nothing,
//! the open handoff and recent memory when there is, within 2 000 characters, quickly.

use std::time::Instant;

use serde_json::json;
use tandem_store::{
    memory::{MemoryStore, SetRequest},
    workspace::{HandoffCreateParams, HandoffStatus, HandoffUpdateParams, Workspace},
};
use tandem_tests::{PLAIN_PATH, TestHome};

#[tokio::test]
async fn with_no_state_the_brief_is_empty_and_creates_nothing() {
    let home = TestHome::new();
    let ran = home.tandem(&["brief"]).await;
    ran.expect_code(0);
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr, "");
    assert!(!home.memory_db().exists(), "no database is created");
    let ran = home
        .tandem(&["brief", "--home", "/nonexistent/tandem-state"])
        .await;
    ran.expect_code(0);
    assert_eq!(ran.stdout, "");
}

#[tokio::test]
async fn the_brief_shows_the_open_handoff_and_recent_memory_within_2000_characters() {
    let home = TestHome::new();
    let ws = Workspace::open(home.tandem_home().join("shared")).unwrap();
    let done = ws
        .handoff_create(
            &HandoffCreateParams {
                title: "Old finished work".into(),
                summary: "Done already.".into(),
                ..HandoffCreateParams::default()
            },
            "claude-ai 0.14.1",
        )
        .unwrap();
    ws.handoff_update(
        &HandoffUpdateParams {
            id: done.id.clone(),
            status: HandoffStatus::Done,
            note: None,
        },
        "claude-code 2.1.332",
    )
    .unwrap();
    let open = ws
        .handoff_create(
            &HandoffCreateParams {
                title: "Add JWT auth to the API".into(),
                summary: "Use jose with refresh tokens; keep sessions for the admin UI.".into(),
                tasks: vec!["Add /auth/token".into(), "Rotate refresh tokens".into()],
                decisions: vec!["jose, not jsonwebtoken".into()],
                ..HandoffCreateParams::default()
            },
            "claude-ai 0.14.1",
        )
        .unwrap();
    let store = MemoryStore::open(home.memory_db()).unwrap();
    store
        .set(
            &SetRequest {
                key: "proj-x/auth-approach",
                value: &json!({"method": "JWT", "library": "jose"}),
                tags: None,
                expected_version: None,
            },
            "claude-ai 0.14.1",
        )
        .unwrap();
    drop(store);

    let started = Instant::now();
    let ran = home.tandem(&["brief"]).await;
    let elapsed = started.elapsed();
    ran.expect_code(0);
    let text = &ran.stdout;
    eprintln!(
        "brief in {elapsed:?}, {} characters:\n{text}",
        text.chars().count()
    );
    assert!(text.chars().count() <= 2000);
    for needle in [
        "Add JWT auth to the API",
        open.id.as_str(),
        "Use jose with refresh tokens",
        "Add /auth/token",
        "Rotate refresh tokens",
        "handoff_read",
        "proj-x/auth-approach",
        "\"library\":\"jose\"",
        "memory_get",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(
        !text.contains("Old finished work"),
        "only open handoffs:\n{text}"
    );
    assert!(
        elapsed.as_secs() < 5,
        "a session hook must be quick: {elapsed:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_installed_hook_command_prints_the_brief_without_tandem_home_set() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.tandem(&["install", "--client", "claude-code", "--session-hook"])
        .await
        .expect_code(0);
    let store = MemoryStore::open(home.memory_db()).unwrap();
    store
        .set(
            &SetRequest {
                key: "notes/today",
                value: &json!("ship the brief"),
                tags: None,
                expected_version: None,
            },
            "claude-ai 0.14.1",
        )
        .unwrap();
    drop(store);
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.claude_settings()).unwrap()).unwrap();
    let command = settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    // As Claude Code runs it: through a shell, with the person's environment (which has no
    // TANDEM_HOME: the command carries it).
    let out = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&command)
        .env_clear()
        .env("HOME", home.user_home())
        .env("PATH", PLAIN_PATH)
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("notes/today"), "{command}: {text}");
    assert!(text.contains("ship the brief"), "{text}");
}
