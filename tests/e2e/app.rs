//! The tray app's window, driven through WebDriver under Xvfb as a person would see it: what
//! Claude Desktop writes appears without any interaction, search finds memory, Health shows the
//! supervised hub and its restart. Screenshots of each view go to `target/e2e/`.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tandem_tests::{
    TestClient, TestHome,
    desktop::{Display, Driver, Session, free_port},
    tandem_bin, target_profile_dir,
};

fn app_bin() -> PathBuf {
    let bin = target_profile_dir().join(format!("tandem-app{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test` (it builds the app before the tests)",
        bin.display()
    );
    bin
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// The window's Health, straight from the app (what the view renders).
fn health(s: &Session) -> Value {
    s.execute_async(
        "const done = arguments[arguments.length - 1];
         window.__TAURI__.core.invoke('health').then(done, (e) => done({error: String(e)}));",
        json!([]),
    )
}

fn hub(h: &Value) -> Value {
    h["servers"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "hub").cloned())
        .unwrap_or(Value::Null)
}

#[test]
fn the_window_shows_handoffs_and_memory_live_finds_keys_and_shows_the_hub_restarting() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.tandem_home()).unwrap();
    // Not the first visit: open on Handoffs, as a returning person would.
    std::fs::write(home.tandem_home().join("app-welcomed"), "").unwrap();
    let display = Display::start();
    let hub_port = free_port();
    let mut env: Vec<(String, String)> = home
        .env()
        .into_iter()
        .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
        .collect();
    env.extend(display.env.iter().cloned());
    env.push(("TANDEM_HUB_PORT".into(), hub_port.to_string()));
    env.push((
        "TANDEM_BIN".into(),
        tandem_bin().to_string_lossy().into_owned(),
    ));
    // Software rendering under Xvfb, so that screenshots show what is drawn.
    env.push(("WEBKIT_DISABLE_DMABUF_RENDERER".into(), "1".into()));
    env.push(("WEBKIT_DISABLE_COMPOSITING_MODE".into(), "1".into()));
    env.push((
        "XDG_CACHE_HOME".into(),
        home.user_home()
            .join(".cache")
            .to_string_lossy()
            .into_owned(),
    ));
    let driver = Driver::start(&env);
    // The app must open its window at start: the driver waits for one.
    let s = Session::start(&driver, &app_bin(), &["--open"]);
    s.wait_for(Duration::from_secs(30), "the window to load", |s| {
        s.execute("return document.body.dataset.ready || null", json!([]))
            .as_str()
            .map(str::to_string)
    });
    s.screenshot("0-handoffs-empty");
    let empty = s.text("#handoff-empty");
    assert!(
        empty
            .as_deref()
            .unwrap_or_default()
            .contains("No handoffs yet"),
        "the empty state says what to do: {empty:?}"
    );

    // Claude Desktop writes a handoff and records a decision; nobody touches the window.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (handoff_id, wrote_at) = rt.block_on(async {
        let desktop = TestClient::named("claude-ai", "0.14.1")
            .connect(&home, &["mcp", "workspace"])
            .await;
        let memory = TestClient::named("claude-ai", "0.14.1")
            .connect(&home, &["mcp", "memory"])
            .await;
        let wrote_at = Instant::now();
        let created = desktop
            .ok(
                "handoff_create",
                json!({
                    "title": "Add JWT auth to the API",
                    "summary": "Stateless auth with **refresh tokens**; see the decisions.",
                    "decisions": ["Use jose for JWT handling"],
                    "tasks": ["Add /login", "Add refresh endpoint"],
                    "openQuestions": ["Token lifetime?"],
                    "project": "proj-x"
                }),
            )
            .await;
        memory
            .ok(
                "memory_set",
                json!({"key": "proj-x/auth-approach", "value": {"method": "JWT", "library": "jose"}, "tags": ["auth"]}),
            )
            .await;
        desktop.close().await;
        memory.close().await;
        (created["id"].as_str().unwrap().to_string(), wrote_at)
    });
    let handoff_css = format!("#handoff-list li[data-id='{handoff_id}']");
    s.wait_for(Duration::from_secs(2), "the handoff in the list", |s| {
        s.find(&handoff_css)
    });
    s.wait_for(
        Duration::from_secs(2),
        "the memory entry in the list",
        |s| s.find("#memory-list li[data-key='proj-x/auth-approach']"),
    );
    let seen_after = wrote_at.elapsed();
    assert!(
        seen_after < Duration::from_secs(3),
        "both seen {seen_after:?} after the writes"
    );
    let item = s.text(&handoff_css).unwrap();
    assert!(item.contains("Add JWT auth to the API"), "{item}");
    assert!(item.contains("Claude Desktop"), "{item}");
    // The newest handoff is shown, Markdown rendered.
    s.wait_for(Duration::from_secs(5), "the preview", |s| {
        s.text("#handoff-detail .markdown")
            .filter(|t| t.contains("refresh tokens") && t.contains("Add /login"))
    });
    assert!(s.find("#handoff-detail .markdown strong").is_some());
    s.screenshot("1-handoffs");

    // Memory: the search box finds the key by a word of its value.
    s.click("#tab-memory");
    s.type_into("#memory-search", "jose");
    s.wait_for(Duration::from_secs(5), "search hits", |s| {
        s.text("#memory-count").filter(|t| t.contains("1 match"))
    });
    s.click("#memory-list li[data-key='proj-x/auth-approach']");
    s.wait_for(Duration::from_secs(5), "the value", |s| {
        s.text("#memory-value")
            .filter(|t| t.contains("\"library\": \"jose\""))
    });
    s.screenshot("2-memory");

    // Health: the hub runs; killed, it is restarted and comes back.
    s.click("#tab-health");
    s.wait_for(Duration::from_secs(30), "the hub running", |s| {
        s.text("#hub-state").filter(|t| t == "running")
    });
    s.screenshot("3-health");
    let before = hub(&health(&s));
    let pid = before["pid"].as_u64().expect("hub pid") as u32;
    assert!(pid_alive(pid));
    assert_eq!(before["restarts"], 0, "{before}");
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    s.wait_for(Duration::from_secs(10), "the restart", |s| {
        s.text("#hub-restarts").filter(|t| t == "1")
    });
    s.wait_for(Duration::from_secs(30), "the hub running again", |s| {
        s.text("#hub-state").filter(|t| t == "running")
    });
    let after = hub(&health(&s));
    let new_pid = after["pid"].as_u64().unwrap() as u32;
    assert_ne!(new_pid, pid);
    s.screenshot("4-health-after-restart");

    s.quit();
    // Closing the app leaves no hub behind.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(new_pid) {
        assert!(Instant::now() < deadline, "the hub outlived the app");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(driver);
    drop(display);
}
