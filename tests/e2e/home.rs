//! Tandem run as people run it: `HOME` and XDG at temp folders, `TANDEM_HOME` unset. Every
//! process — the app, the hub it supervises, a client's stdio server, Claude Desktop's bridge,
//! an HTTP client, `tandem brief` — resolves one shared folder, and moving it moves them all.
//! A hub that serves other folders is flagged; files an earlier version left elsewhere are a
//! notice until dismissed, never moved or deleted.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::{Value, json};
use tandem_tests::{
    HubProcess, Ran, Session, TestClient, TestHome, desktop::Tray, free_port, http_session,
    hub_serves, start_entry,
};

use crate::app::{AppRun, health, hub, pid_alive, press};

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .display()
        .to_string()
}

/// The one folder a workspace session may use.
async fn allowed(session: &Session) -> String {
    let allowed = session.ok("list_allowed_directories", json!({})).await;
    allowed["directories"][0].as_str().unwrap().to_string()
}

async fn create(session: &Session, title: &str) -> String {
    let created = session
        .ok(
            "handoff_create",
            json!({"title": title, "summary": format!("{title}: the plan.")}),
        )
        .await;
    created["id"].as_str().unwrap().to_string()
}

async fn listed(session: &Session) -> Vec<String> {
    let list = session.ok("handoff_list", json!({})).await;
    list["handoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// `tandem <args>` in this home with the app's hub port.
async fn tandem(home: &TestHome, port: u16, args: &[&str]) -> Ran {
    let output = home
        .command(args)
        .env("PATH", tandem_tests::PLAIN_PATH)
        .env("TANDEM_HUB_PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("running tandem");
    Ran::from_output(output)
}

async fn status_json(home: &TestHome, port: u16) -> Value {
    let ran = tandem(home, port, &["status", "--json"]).await;
    ran.expect_code(0);
    serde_json::from_str(&ran.stdout).unwrap()
}

fn config_entry(path: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let config: Value = serde_json::from_str(&text).unwrap();
    config["mcpServers"][name].clone()
}

/// The three ways a client reaches the workspace: Claude Code's stdio entry as the app wrote
/// it, Claude Desktop's `tandem connect` bridge, and an HTTP client of the hub.
struct Three {
    stdio: Session,
    bridge: Session,
    http: Session,
}

impl Three {
    async fn connect(home: &TestHome, port: u16) -> Self {
        let code_env: BTreeMap<String, String> = home
            .env()
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
            .chain([("PATH".to_string(), tandem_tests::PLAIN_PATH.to_string())])
            .collect();
        let stdio = start_entry(
            &config_entry(&home.claude_json(), "tandem-workspace"),
            &code_env,
            TestClient::named("claude-code", "2.1.328"),
        )
        .await;
        let bridge = start_entry(
            &config_entry(&home.desktop_config(), "tandem-workspace"),
            &tandem_tests::desktop_environment(home),
            TestClient::named("claude-ai", "0.14.1"),
        )
        .await;
        let token = std::fs::read_to_string(home.tandem_home().join("hub.token")).unwrap();
        let http = http_session(
            &format!("http://127.0.0.1:{port}/workspace"),
            token.trim(),
            TestClient::named("cursor", "1.7.0"),
        )
        .await;
        Self {
            stdio,
            bridge,
            http,
        }
    }

    async fn allowed(&self) -> [String; 3] {
        [
            allowed(&self.stdio).await,
            allowed(&self.bridge).await,
            allowed(&self.http).await,
        ]
    }

    async fn close(self) {
        self.stdio.close().await;
        self.bridge.close().await;
        self.http.close().await;
    }
}

#[test]
fn every_process_serves_one_shared_folder_as_people_run_tandem_and_a_move_moves_them_all() {
    let home = TestHome::as_people_run();
    // What the split version left: a plan written through the hub into <state>/shared.
    let leftover = home.tandem_home().join("shared");
    std::fs::create_dir_all(leftover.join("handoffs")).unwrap();
    std::fs::write(
        leftover.join("handoffs/2026-11-30-old-plan.md"),
        "# Old plan\n",
    )
    .unwrap();
    let run = AppRun::start(&home, &[]);
    let s = &run.session;
    let port: u16 = run
        .env
        .iter()
        .find(|(k, _)| k == "TANDEM_HUB_PORT")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let shared = canonical(&home.shared_dir());

    // The notice names the shared folder and where the other files are, in the window, the
    // tray and `tandem status`.
    let notice = s.wait_for(Duration::from_secs(10), "the leftover notice", |s| {
        s.text("#notice-text")
            .filter(|t| t.contains(&leftover.display().to_string()))
    });
    assert!(
        notice.contains(&home.shared_dir().display().to_string()),
        "{notice}"
    );
    s.wait_for(Duration::from_secs(10), "the status shown", |s| {
        s.text("#status-pill").filter(|t| t != "…")
    });
    std::thread::sleep(Duration::from_millis(300));
    s.screenshot("10-people-notice");
    let tray = Tray::find(&run.env, Duration::from_secs(10));
    let earlier = format!("Earlier files in {} — open", leftover.display());
    s.wait_for(Duration::from_secs(5), "the notice in the tray", |_| {
        tray.labels().contains(&earlier).then_some(())
    });
    let status = rt.block_on(status_json(&home, port));
    assert_eq!(
        status["home"]["sharedDir"],
        home.shared_dir().display().to_string()
    );
    assert_eq!(
        status["home"]["stateDir"],
        home.tandem_home().display().to_string()
    );
    assert_eq!(
        status["notices"][0]["folder"],
        leftover.display().to_string()
    );

    // The hub the app supervises serves the same folder, and `tandem status` says so.
    s.wait_for(Duration::from_secs(30), "the hub running", |s| {
        (hub(&health(s))["state"] == "running").then_some(())
    });
    let status = rt.block_on(status_json(&home, port));
    assert_eq!(status["hub"]["running"], true, "{status:#}");
    assert_eq!(status["hub"]["matches"], true, "{status:#}");
    assert_eq!(rt.block_on(hub_serves(port))["sharedDir"], shared.as_str());

    // Claude Code connected from the window (a stdio entry), Claude Desktop through the hub.
    let connected = s.execute_async(
        "const done = arguments[arguments.length - 1];
         window.__TAURI__.core.invoke('connect', {clients: ['claude-code']})
           .then(done, (e) => done({error: String(e)}));",
        json!([]),
    );
    assert_eq!(connected[0]["ok"], true, "{connected}");
    let port_arg = port.to_string();
    rt.block_on(tandem(
        &home,
        port,
        &[
            "install",
            "--client",
            "claude-desktop",
            "--transport",
            "http",
            "--port",
            &port_arg,
        ],
    ))
    .expect_code(0);
    let bridge = config_entry(&home.desktop_config(), "tandem-workspace");
    assert_eq!(bridge["args"][0], "connect", "{bridge}");
    assert!(bridge["env"].get("TANDEM_HOME").is_none(), "{bridge}");

    let three = rt.block_on(Three::connect(&home, port));
    assert_eq!(
        rt.block_on(three.allowed()),
        [shared.clone(), shared.clone(), shared.clone()]
    );
    let ids = rt.block_on(async {
        [
            create(&three.stdio, "Written over stdio").await,
            create(&three.bridge, "Written through the bridge").await,
            create(&three.http, "Written over HTTP").await,
        ]
    });
    for session in [&three.stdio, &three.bridge, &three.http] {
        let seen = rt.block_on(listed(session));
        for id in &ids {
            assert!(seen.contains(id), "{id} not in {seen:?}");
        }
        assert_eq!(seen.len(), 3, "only the shared folder's handoffs: {seen:?}");
    }
    for id in &ids {
        let css = format!("#handoff-list li[data-id='{id}']");
        s.wait_for(Duration::from_secs(5), "the handoff in the window", |s| {
            s.find(&css)
        });
    }
    // A live update leaves the row the person is on focused: rows are updated by key, not
    // rebuilt. The list is one tab stop; Home and End move through it.
    let focused = ids[0].clone();
    s.execute(
        "document.querySelector(`#handoff-list li[data-id='${arguments[0]}']`).focus()",
        json!([focused]),
    );
    let live = rt.block_on(create(&three.http, "Arrived while reading"));
    let css = format!("#handoff-list li[data-id='{live}']");
    s.wait_for(Duration::from_secs(5), "the live update", |s| s.find(&css));
    let state = s.execute(
        "const list = document.querySelector('#handoff-list');
         return [document.activeElement.dataset.id,
                 [...list.children].filter((li) => li.tabIndex === 0).length]",
        json!([]),
    );
    assert_eq!(
        state[0],
        focused.as_str(),
        "focus stayed on the row: {state}"
    );
    assert_eq!(state[1], 1, "one tab stop: {state}");
    let at_key = |key: &str| {
        s.type_into(&format!("#handoff-list li[data-id='{}']", focused), key);
        s.execute("return document.activeElement.dataset.id", json!([]))
    };
    let first = s.execute(
        "return document.querySelector('#handoff-list li').dataset.id",
        json!([]),
    );
    let last = s.execute(
        "return document.querySelector('#handoff-list li:last-child').dataset.id",
        json!([]),
    );
    assert_eq!(at_key("\u{E010}"), last, "End");
    s.execute(
        "document.querySelector(`#handoff-list li[data-id='${arguments[0]}']`).focus()",
        json!([focused]),
    );
    assert_eq!(at_key("\u{E011}"), first, "Home");
    s.screenshot("11-people-handoffs");
    let brief = rt.block_on(tandem(&home, port, &["brief"]));
    assert!(
        brief.stdout.contains("Arrived while reading"),
        "{}",
        brief.stdout
    );
    rt.block_on(three.close());

    // Moved in the window: every process follows the saved setting.
    press(s, "#tab-health");
    let plans = home.user_home().join("Plans");
    s.execute(
        "document.querySelector('#shared-input').value = ''",
        json!([]),
    );
    // Typed, then Enter, as a keyboard user moves it.
    s.type_into("#shared-input", &format!("{}\u{E007}", plans.display()));
    let plans = s.wait_for(Duration::from_secs(10), "the move", |_| {
        plans.is_dir().then(|| canonical(&plans))
    });
    s.wait_for(Duration::from_secs(10), "Health on the new folder", |s| {
        (health(s)["home"]["sharedDir"] == plans.as_str()).then_some(())
    });
    s.wait_for(Duration::from_secs(30), "the hub on the new folder", |s| {
        (hub(&health(s))["state"] == "running"
            && rt.block_on(hub_serves(port))["sharedDir"] == plans.as_str())
        .then_some(())
    });
    s.screenshot("12-people-moved");
    let three = rt.block_on(Three::connect(&home, port));
    assert_eq!(
        rt.block_on(three.allowed()),
        [plans.clone(), plans.clone(), plans.clone()]
    );
    let moved = rt.block_on(create(&three.bridge, "Written after the move"));
    let css = format!("#handoff-list li[data-id='{moved}']");
    press(s, "#tab-handoffs");
    s.wait_for(Duration::from_secs(5), "the new folder's handoff", |s| {
        s.find(&css)
    });
    let rows = s.execute(
        "return document.querySelectorAll('#handoff-list li').length",
        json!([]),
    );
    assert_eq!(rows, 1, "the window lists the new folder only");
    let brief = rt.block_on(tandem(&home, port, &["brief"]));
    assert!(
        brief.stdout.contains("Written after the move"),
        "{}",
        brief.stdout
    );
    let folder = rt.block_on(tandem(&home, port, &["folder"]));
    assert!(folder.stdout.contains("Plans"), "{}", folder.stdout);
    rt.block_on(three.close());
    assert_eq!(
        std::fs::read_dir(home.shared_dir().join("handoffs"))
            .unwrap()
            .count(),
        4,
        "nothing was moved out of the old folder"
    );

    // Dismissed in the window: gone from the window, the tray and `tandem status`; the files
    // stay.
    s.click("#notice-dismiss");
    s.wait_for(Duration::from_secs(5), "the notice gone", |s| {
        (s.execute("return document.querySelector('#notice').hidden", json!([])) == true)
            .then_some(())
    });
    s.wait_for(Duration::from_secs(5), "the tray without it", |_| {
        (!tray.labels().contains(&earlier)).then_some(())
    });
    assert_eq!(rt.block_on(status_json(&home, port))["notices"], json!([]));
    assert!(leftover.join("handoffs/2026-11-30-old-plan.md").is_file());

    let hub_pid = hub(&health(s))["pid"].as_u64().unwrap() as u32;
    tray.click("Quit Tandem");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pid_alive(hub_pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "the hub outlived Quit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn a_hub_serving_other_folders_is_flagged_by_status_and_folder() {
    let home = TestHome::as_people_run();
    // A hub left running by another installation (an older version with its own state).
    let other = TestHome::new();
    let port = free_port();
    let _stale = HubProcess::start_on(&other, port, false).await;
    let status = status_json(&home, port).await;
    assert_eq!(status["hub"]["running"], true, "{status:#}");
    assert_eq!(status["hub"]["matches"], false, "{status:#}");
    assert_eq!(
        status["hub"]["serves"]["sharedDir"],
        other.shared_dir().display().to_string()
    );
    let problem = status["hub"]["problem"].as_str().unwrap();
    assert!(
        problem.contains(&other.shared_dir().display().to_string())
            && problem.contains(&home.shared_dir().display().to_string()),
        "{problem}"
    );
    let text = tandem(&home, port, &["status"]).await;
    assert!(text.stdout.contains("Stale hub:"), "{}", text.stdout);
    let folder = tandem(&home, port, &["folder"]).await;
    let words = folder
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("not this installation's"),
        "{}",
        folder.stdout
    );
    // Its own hub is not stale.
    let status = status_json(&other, port).await;
    assert_eq!(status["hub"]["matches"], true, "{status:#}");
    assert_eq!(status["hub"]["problem"], Value::Null);
}

#[tokio::test]
async fn the_folder_command_moves_every_server_and_a_broken_setting_is_refused_untouched() {
    let home = TestHome::as_people_run();
    let port = free_port();
    let plans = home.user_home().join("Plans");
    let set = tandem(&home, port, &["folder", "set", plans.to_str().unwrap()]).await;
    set.expect_code(0);
    assert!(
        set.stdout.contains("Restart Claude Desktop"),
        "{}",
        set.stdout
    );
    let plans = canonical(&plans);
    let ws = TestClient::named("claude-code", "2.1.328")
        .connect(&home, &["mcp", "workspace"])
        .await;
    assert_eq!(allowed(&ws).await, plans);
    ws.close().await;
    let hub = HubProcess::start_on(&home, port, false).await;
    assert_eq!(hub_serves(port).await["sharedDir"], plans.as_str());
    drop(hub);
    let reset = tandem(&home, port, &["folder", "reset"]).await;
    reset.expect_code(0);
    let shown = tandem(&home, port, &["folder"]).await;
    assert!(shown.stdout.contains("(the default)"), "{}", shown.stdout);

    // A settings file that is not valid: every server refuses to guess a folder, says what
    // to do, and leaves the file as it was; the session hook stays quiet.
    let settings = home.tandem_home().join("settings.json");
    std::fs::write(&settings, b"{\"sharedFolder\": ").unwrap();
    for args in [&["mcp", "workspace"][..], &["serve"], &["status"]] {
        let ran = tandem(&home, port, args).await;
        ran.expect_code(1);
        assert!(ran.stderr.contains("settings.json"), "{}", ran.stderr);
        assert!(ran.stderr.contains("changed nothing"), "{}", ran.stderr);
    }
    let brief = tandem(&home, port, &["brief"]).await;
    brief.expect_code(0);
    assert_eq!(brief.stdout, "");
    assert_eq!(std::fs::read(&settings).unwrap(), b"{\"sharedFolder\": ");
}

#[tokio::test]
async fn files_an_earlier_version_left_are_shown_by_status_until_dismissed() {
    let home = TestHome::as_people_run();
    let port = free_port();
    // Only what Tandem seeds there (its README, an empty handoffs/): no notice.
    let leftover = home.tandem_home().join("shared");
    std::fs::create_dir_all(leftover.join("handoffs")).unwrap();
    std::fs::write(leftover.join("README.md"), tandem_store::workspace::README).unwrap();
    assert_eq!(status_json(&home, port).await["notices"], json!([]));
    std::fs::write(leftover.join("notes.md"), "notes").unwrap();
    let text = tandem(&home, port, &["status"]).await;
    assert!(
        text.stdout.contains(&leftover.display().to_string())
            && text.stdout.contains("tandem folder dismiss"),
        "{}",
        text.stdout
    );
    let dismissed = tandem(&home, port, &["folder", "dismiss"]).await;
    dismissed.expect_code(0);
    let text = tandem(&home, port, &["status"]).await;
    assert!(
        !text.stdout.contains(&leftover.display().to_string()),
        "{}",
        text.stdout
    );
    assert_eq!(std::fs::read(leftover.join("notes.md")).unwrap(), b"notes");
}
