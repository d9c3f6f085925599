//! The app's wiring under `tauri::test`'s mock runtime: commands through real IPC requests,
//! live events from changes made by other processes, the supervised hub as Health shows it.
//! (No tray here: it needs GTK.)

use std::{
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tandem_store::{
    Workspace,
    memory::{MemoryStore, SetRequest},
    workspace::HandoffCreateParams,
};
use tauri::{
    App, Listener, Manager, WebviewWindow, WebviewWindowBuilder,
    ipc::{CallbackFn, InvokeBody},
    test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets},
    webview::InvokeRequest,
};

use crate::{
    Launch, Tandem, run_app,
    supervisor::{Backoff, ChildSpec},
};

struct TestApp {
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    dir: tempfile::TempDir,
}

impl TestApp {
    fn start(change: impl FnOnce(&mut Launch)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let mut launch = Launch::for_tests(dir.path());
        // Client entries point at this `tandem`; it must exist for them to count as current.
        launch.tandem = dir.path().join("bin/tandem");
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::write(&launch.tandem, "#!/bin/sh\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&launch.tandem, std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        change(&mut launch);
        let mut app = run_app(mock_builder(), mock_context(noop_assets()), launch).unwrap();
        // Setup runs on the first turn of the event loop. One turn, not a loop: what the
        // deprecation warns of (a busy loop) does not apply, and the mock runtime has no
        // other way to run setup and hand control back.
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Self { app, window, dir }
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.into(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn tandem(&self) -> Arc<Tandem> {
        self.app.state::<Arc<Tandem>>().inner().clone()
    }

    /// Another process's view of the same state (a client's server).
    fn store(&self) -> MemoryStore {
        MemoryStore::open(self.dir.path().join("state/memory.db")).unwrap()
    }

    fn workspace(&self) -> Workspace {
        Workspace::open(self.dir.path().join("state/shared")).unwrap()
    }

    fn claude_json(&self) -> std::path::PathBuf {
        self.dir.path().join("home/.claude.json")
    }

    /// Waits for `event`; returns its payload.
    fn next_event(&self, event: &str, within: Duration, act: impl FnOnce()) -> Value {
        let (tx, rx) = mpsc::channel();
        let id = self.app.listen_any(event, move |e| {
            let _ = tx.send(e.payload().to_string());
        });
        act();
        let payload = rx
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("no {event} within {within:?}"));
        self.app.unlisten(id);
        serde_json::from_str(&payload).unwrap_or(Value::Null)
    }
}

fn set(store: &MemoryStore, key: &str, value: Value, by: &str) {
    store
        .set(
            &SetRequest {
                key,
                value: &value,
                tags: Some(&["decision".to_string()]),
                expected_version: None,
            },
            by,
        )
        .unwrap();
}

fn handoff(ws: &Workspace, title: &str) -> String {
    ws.handoff_create(
        &HandoffCreateParams {
            title: title.into(),
            summary: "Stateless auth with **refresh tokens**.\n\n<script>alert(1)</script>".into(),
            tasks: vec!["Add /login".into()],
            ..Default::default()
        },
        "claude-ai 0.14.1",
    )
    .unwrap()
    .id
}

#[test]
fn handoffs_are_listed_newest_first_with_who_wrote_them_and_a_safe_preview() {
    let t = TestApp::start(|_| {});
    assert_eq!(t.ok("handoffs", json!({})), json!([]));
    let id = handoff(&t.workspace(), "Add JWT auth");
    let list = t.ok("handoffs", json!({}));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["title"], "Add JWT auth");
    assert_eq!(list[0]["status"], "open");
    assert_eq!(list[0]["createdByLabel"], "Claude Desktop");
    let detail = t.ok("handoff", json!({"id": id}));
    let html = detail["html"].as_str().unwrap();
    assert!(html.contains("<strong>refresh tokens</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("id: "), "front matter is not shown: {html}");
}

#[test]
fn marking_a_handoff_done_writes_its_status_and_log() {
    let t = TestApp::start(|_| {});
    let ws = t.workspace();
    let id = handoff(&ws, "Ship it");
    let done = t.ok("handoff_set_status", json!({"id": id, "status": "done"}));
    assert_eq!(done["status"], "done");
    let file = std::fs::read_to_string(ws.root().join(format!("handoffs/{id}.md"))).unwrap();
    assert!(file.contains("tandem-app"), "{file}");
    assert!(file.contains("done — from the Tandem window"), "{file}");
    let err = t
        .call("handoff_set_status", json!({"id": id, "status": "lost"}))
        .unwrap_err();
    assert!(
        err.as_str().unwrap().contains("use done or dropped"),
        "{err}"
    );
}

#[test]
fn memory_is_listed_searched_shown_with_history_and_restored() {
    let t = TestApp::start(|_| {});
    let store = t.store();
    set(
        &store,
        "proj-x/auth",
        json!({"method": "JWT", "library": "jose"}),
        "claude-ai 0.14.1",
    );
    set(
        &store,
        "proj-x/auth",
        json!({"method": "sessions"}),
        "claude-code 2.1.3",
    );
    // Times have milliseconds: keep the order unambiguous.
    std::thread::sleep(Duration::from_millis(5));
    set(&store, "proj-x/db", json!("postgres"), "claude-code 2.1.3");
    let list = t.ok("memory", json!({}));
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["key"], "proj-x/db", "newest first");
    assert_eq!(list["items"][0]["updatedByLabel"], "Claude Code");
    let hits = t.ok("memory", json!({"query": "postgres"}));
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    assert_eq!(hits["items"][0]["key"], "proj-x/db");
    assert!(
        hits["items"][0]["preview"]
            .as_str()
            .unwrap()
            .contains("**postgres**")
    );
    let entry = t.ok("memory_entry", json!({"key": "proj-x/auth"}));
    assert_eq!(entry["version"], 2);
    assert_eq!(entry["value"], "{\n  \"method\": \"sessions\"\n}");
    assert_eq!(entry["history"].as_array().unwrap().len(), 2);
    assert_eq!(entry["history"][1]["byLabel"], "Claude Desktop");
    let restored = t.ok(
        "memory_restore",
        json!({"key": "proj-x/auth", "version": 1}),
    );
    assert_eq!(restored["version"], 3);
    assert!(restored["value"].as_str().unwrap().contains("jose"));
    assert_eq!(restored["updatedByLabel"], "Tandem");
}

#[test]
fn changes_by_other_processes_reach_the_window_as_events() {
    let t = TestApp::start(|_| {});
    let store = t.store();
    let started = Instant::now();
    let changes = t.next_event("memory-changed", Duration::from_secs(2), || {
        set(&store, "live/key", json!(1), "claude-code 2.1.3");
    });
    assert_eq!(changes[0]["key"], "live/key");
    assert_eq!(changes[0]["by"], "claude-code 2.1.3");
    let ws = t.workspace();
    t.next_event("handoffs-changed", Duration::from_secs(2), || {
        handoff(&ws, "Live one");
    });
    assert!(started.elapsed() < Duration::from_secs(4));
}

const FAST: Backoff = Backoff {
    initial: Duration::from_millis(100),
    max: Duration::from_secs(2),
    stable_after: Duration::from_secs(60),
};

fn hub_of(health: &Value) -> Value {
    health["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "hub")
        .cloned()
        .unwrap()
}

fn wait_health(t: &TestApp, what: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = t.ok("health", json!({}));
        if what(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "health never got there: {h:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn health_shows_the_supervised_hub_restarting_and_quit_leaves_no_process() {
    let t = TestApp::start(|l| {
        l.hub = Some((ChildSpec::new("sleep", &["600"]), 7399));
        l.backoff = FAST;
    });
    let h = wait_health(&t, |h| hub_of(h)["state"] == "running");
    let hub = hub_of(&h);
    assert_eq!(hub["port"], 7399);
    assert_eq!(hub["restarts"], 0);
    let pid = hub["pid"].as_u64().unwrap() as i32;
    let pid = rustix::process::Pid::from_raw(pid).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    let h = wait_health(&t, |h| {
        hub_of(h)["restarts"] == 1 && hub_of(h)["state"] == "running"
    });
    assert_ne!(hub_of(&h)["pid"], hub["pid"]);
    let new_pid =
        rustix::process::Pid::from_raw(hub_of(&h)["pid"].as_u64().unwrap() as i32).unwrap();
    t.tandem().shutdown();
    assert!(
        rustix::process::test_kill_process(new_pid).is_err(),
        "the hub outlived Quit"
    );
    assert_eq!(hub_of(&t.ok("health", json!({})))["state"], "stopped");
}

/// One client's row in Health.
fn client_view(health: &Value, id: &str) -> Value {
    health["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {health:#}"))
}

#[test]
fn connecting_shows_a_diff_first_then_writes_and_drift_needs_repair() {
    let t = TestApp::start(|l| l.watch_configs = true);
    let cfg = t.claude_json();
    // Claude Code is there: its folder exists.
    std::fs::create_dir_all(t.dir.path().join("home/.claude")).unwrap();
    std::fs::write(&cfg, "{\n  \"theme\": \"light\"\n}\n").unwrap();
    t.tandem().refresh_clients();
    let h = t.ok("health", json!({}));
    assert_eq!(h["firstRun"], true);
    let code = |h: &Value| client_view(h, "claude-code");
    assert_eq!(code(&h)["detected"], true);
    assert_eq!(code(&h)["connected"], false);

    let plans = t.ok("connect_plan", json!({"clients": ["claude-code"]}));
    let diff = plans[0]["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+    \"tandem-memory\""), "{diff}");
    assert!(std::fs::read_to_string(&cfg).unwrap().contains("theme"));
    assert!(
        !std::fs::read_to_string(&cfg).unwrap().contains("tandem"),
        "a plan writes nothing"
    );

    let results = t.ok("connect", json!({"clients": ["claude-code"]}));
    assert_eq!(results[0]["ok"], true, "{results}");
    assert_eq!(results[0]["changed"], true);
    let written = std::fs::read_to_string(&cfg).unwrap();
    assert!(written.contains("tandem-workspace") && written.contains("\"theme\": \"light\""));
    let h = t.ok("health", json!({}));
    assert_eq!(code(&h)["connected"], true, "{h:#}");
    assert_eq!(code(&h)["current"], true, "{h:#}");
    // The window is given the row's state, not the rules to work it out.
    assert_eq!(code(&h)["state"], "connected", "{h:#}");
    assert_eq!(code(&h)["stateLabel"], "connected", "{h:#}");
    assert_eq!(code(&h)["needsRepair"], false, "{h:#}");
    assert_eq!(h["firstRun"], false);

    // Something else removes Tandem's entries: the config watcher notices on its own.
    let health = t.next_event("health-changed", Duration::from_secs(5), || {
        std::fs::write(
            &cfg,
            "{\n  \"theme\": \"light\",\n  \"mcpServers\": {}\n}\n",
        )
        .unwrap();
    });
    assert_eq!(code(&health)["needsRepair"], true, "{health:#}");
    assert_eq!(code(&health)["state"], "needs-repair", "{health:#}");
    assert!(health["statusLine"].as_str().unwrap().contains("problem"));
    // One-click repair puts them back.
    let repaired = t.ok(
        "connect",
        json!({"clients": ["claude-code"], "repair": true}),
    );
    assert_eq!(repaired[0]["ok"], true, "{repaired}");
    let h = t.ok("health", json!({}));
    assert_eq!(code(&h)["needsRepair"], false);
    assert_eq!(code(&h)["connected"], true);
}

#[test]
fn a_client_whose_config_folder_appears_later_is_watched_for_drift_too() {
    let t = TestApp::start(|l| l.watch_configs = true);
    let folder = t.dir.path().join("home/.config/Claude");
    assert!(!folder.exists());
    let results = t.ok("connect", json!({"clients": ["claude-desktop"]}));
    assert_eq!(results[0]["ok"], true, "{results}");
    let cfg = folder.join("claude_desktop_config.json");
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("tandem-memory")
    );
    let desktop = |h: &Value| client_view(h, "claude-desktop");
    assert_eq!(desktop(&t.ok("health", json!({})))["connected"], true);
    // Someone edits Tandem's entries away by hand.
    let health = t.next_event("health-changed", Duration::from_secs(5), || {
        std::fs::write(&cfg, "{\n  \"mcpServers\": {}\n}\n").unwrap();
    });
    assert_eq!(desktop(&health)["needsRepair"], true, "{health:#}");
}

#[test]
fn an_unknown_client_or_folder_is_a_clear_error() {
    let t = TestApp::start(|_| {});
    let err = t
        .call("connect_plan", json!({"clients": ["notepad"]}))
        .unwrap_err();
    assert!(err.as_str().unwrap().contains("claude-desktop"), "{err}");
    let err = t.call("open_folder", json!({"which": "root"})).unwrap_err();
    assert!(err.as_str().unwrap().contains("no folder"), "{err}");
    // A status the window cannot set is refused before anything runs; an entry that is not
    // there comes back as a kind and a message.
    let err = t
        .call(
            "handoff_set_status",
            json!({"id": "x", "status": "claimed"}),
        )
        .unwrap_err();
    assert!(
        err.as_str().unwrap().contains("use done or dropped"),
        "{err}"
    );
    let err = t.call("memory_entry", json!({"key": "nope"})).unwrap_err();
    assert_eq!(err["kind"], "notFound", "{err}");
    assert!(err["message"].as_str().unwrap().contains("nope"), "{err}");
}

#[test]
fn clients_on_the_hub_stay_on_the_hub_when_connected_or_repaired() {
    use tandem_clients::{ClientId, InstallOptions, entry};
    let t = TestApp::start(|_| {});
    std::fs::create_dir_all(t.dir.path().join("home/.claude")).unwrap();
    let token_file = t.dir.path().join("state/hub.token");
    std::fs::write(&token_file, "token-one\n").unwrap();
    let base = "http://127.0.0.1:7999";
    // As `tandem install --transport http --port 7999` writes them.
    let tandem = t.tandem();
    let installer = &tandem.installer;
    let install = |id, entries: &[tandem_clients::NamedEntry]| {
        let plan = installer
            .plan_install(id, entries, &InstallOptions::default())
            .unwrap();
        installer.apply(&plan).unwrap();
    };
    install(
        ClientId::ClaudeCode,
        &entry::tandem_http_entries(base, "token-one"),
    );
    install(
        ClientId::ClaudeDesktop,
        &entry::tandem_bridge_entries(
            &tandem.launch.tandem,
            installer.host(),
            // The same home as the app's (given explicitly here, so entries carry it).
            installer.home().explicit_root(),
            base,
            &token_file,
        ),
    );
    tandem.refresh_clients();
    let h = t.ok("health", json!({}));
    for id in ["claude-code", "claude-desktop"] {
        assert_eq!(client_view(&h, id)["current"], true, "{id}: {h:#}");
        assert_eq!(client_view(&h, id)["needsRepair"], false, "{id}: {h:#}");
    }
    // Current entries: connecting changes nothing (it does not switch them to stdio).
    let plans = t.ok(
        "connect_plan",
        json!({"clients": ["claude-code", "claude-desktop"]}),
    );
    for plan in plans.as_array().unwrap() {
        assert_eq!(plan["changes"], false, "{plan:#}");
    }

    // The hub's token is replaced: the HTTP entries send the old one and need repair.
    std::fs::write(&token_file, "token-two\n").unwrap();
    tandem.refresh_clients();
    let h = t.ok("health", json!({}));
    assert_eq!(client_view(&h, "claude-code")["needsRepair"], true, "{h:#}");
    // The bridge reads the token file each time: still current.
    assert_eq!(client_view(&h, "claude-desktop")["current"], true, "{h:#}");
    let plans = t.ok(
        "connect_plan",
        json!({"clients": ["claude-code"], "repair": true}),
    );
    let diff = plans[0]["files"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains("+") && diff.contains("Bearer token-two"),
        "{diff}"
    );
    assert!(!diff.contains("\"command\""), "repair keeps HTTP: {diff}");
    let repaired = t.ok(
        "connect",
        json!({"clients": ["claude-code"], "repair": true}),
    );
    assert_eq!(repaired[0]["ok"], true, "{repaired}");
    let written = std::fs::read_to_string(t.claude_json()).unwrap();
    assert!(
        written.contains(&format!("{base}/memory")) && written.contains("Bearer token-two"),
        "{written}"
    );
    let h = t.ok("health", json!({}));
    assert_eq!(client_view(&h, "claude-code")["current"], true, "{h:#}");

    // Desktop's bridge, changed by hand, is repaired as a bridge.
    let desktop = t
        .dir
        .path()
        .join("home/.config/Claude/claude_desktop_config.json");
    let text = std::fs::read_to_string(&desktop).unwrap();
    std::fs::write(&desktop, text.replace("/memory", "/nowhere")).unwrap();
    tandem.refresh_clients();
    let h = t.ok("health", json!({}));
    assert_eq!(
        client_view(&h, "claude-desktop")["needsRepair"],
        true,
        "{h:#}"
    );
    let repaired = t.ok(
        "connect",
        json!({"clients": ["claude-desktop"], "repair": true}),
    );
    assert_eq!(repaired[0]["ok"], true, "{repaired}");
    let text = std::fs::read_to_string(&desktop).unwrap();
    assert!(
        text.contains("\"connect\"") && text.contains(&format!("{base}/memory")),
        "{text}"
    );
}

/// The `tandem` built next to this test (`cargo xtask test` builds it first).
pub(crate) fn built_tandem() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(std::path::Path::parent).unwrap();
    let bin = dir.join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test`",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real hub, supervised by the app on a port of its own.
fn with_real_hub(port: u16) -> impl FnOnce(&mut Launch) {
    move |l| {
        let spec = crate::hub::spec(&built_tandem(), &l.home, port);
        l.hub = Some((spec, port));
        l.backoff = FAST;
    }
}

fn hub_serves(port: u16) -> Option<std::path::PathBuf> {
    match tandem_clients::HubReport::check(port) {
        tandem_clients::HubReport::Up(h) => h.serves.map(|s| s.shared_dir),
        _ => None,
    }
}

#[test]
fn moving_the_shared_folder_moves_the_window_and_the_hub_and_a_move_elsewhere_is_followed() {
    let port = free_port();
    let t = TestApp::start(with_real_hub(port));
    let state = t.dir.path().join("state");
    handoff(&t.workspace(), "Planned in the old folder");
    wait_health(&t, |h| hub_of(h)["state"] == "running");
    assert_eq!(hub_serves(port), Some(state.join("shared")));
    assert_eq!(t.ok("handoffs", json!({})).as_array().unwrap().len(), 1);

    // The person moves it in the window.
    let plans = t.dir.path().join("plans");
    let h = t.ok("move_shared_folder", json!({"dir": plans}));
    let plans = plans.canonicalize().unwrap();
    assert_eq!(h["home"]["sharedDir"], plans.display().to_string());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(state.join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["sharedFolder"], plans.display().to_string());
    assert_eq!(
        t.ok("handoffs", json!({})),
        json!([]),
        "the new folder's handoffs"
    );
    assert!(plans.join("handoffs").is_dir(), "the new folder is set up");
    // The hub is restarted on the new folder; a handoff written there reaches the window.
    wait_health(&t, |h| {
        hub_of(h)["state"] == "running" && hub_serves(port) == Some(plans.clone())
    });
    let ws = Workspace::open(&plans).unwrap();
    t.next_event("handoffs-changed", Duration::from_secs(5), || {
        handoff(&ws, "Planned in the new folder");
    });
    let listed = t.ok("handoffs", json!({}));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["title"], "Planned in the new folder");
    assert!(
        state.join("shared/handoffs").read_dir().unwrap().count() == 1,
        "nothing moved"
    );

    // `tandem folder set` from a terminal while the app runs: the app follows.
    let elsewhere = t.dir.path().join("elsewhere");
    tandem_store::Home::at(&state)
        .move_shared_dir(Some(&elsewhere))
        .unwrap();
    let elsewhere = elsewhere.canonicalize().unwrap();
    let h = wait_health(&t, |h| {
        h["home"]["sharedDir"] == elsewhere.display().to_string()
            && hub_of(h)["state"] == "running"
            && hub_serves(port) == Some(elsewhere.clone())
    });
    assert_eq!(h["sharedDir"], elsewhere.display().to_string());
    // A relative path is refused with what to do; nothing changes.
    let err = t
        .call("move_shared_folder", json!({"dir": "plans"}))
        .unwrap_err();
    assert_eq!(err["kind"], "invalid", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("full path"),
        "{err}"
    );
    t.tandem().shutdown();
}

#[test]
fn a_hub_on_the_port_that_serves_another_installation_is_flagged_not_trusted() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    // A hub left running by another installation (an older version's state, say).
    let mut stale = std::process::Command::new(built_tandem())
        .args(["serve", "--port", &port.to_string()])
        .env("TANDEM_HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tandem_clients::HubReport::check(port).is_up() {
        assert!(Instant::now() < deadline, "the stale hub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = TestApp::start(with_real_hub(port));
    let h = wait_health(&t, |h| hub_of(h)["state"] == "stale");
    let detail = hub_of(&h)["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains(&dir.path().join("shared").display().to_string()),
        "{detail}"
    );
    assert!(detail.contains(&format!("pid {}", stale.id())), "{detail}");
    assert!(
        h["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("port is taken")),
        "{h:#}"
    );
    assert_ne!(h["overall"], "ok");
    assert_eq!(
        h["hubServes"]["sharedDir"],
        dir.path().join("shared").display().to_string()
    );
    // Once it is gone, the app's own hub takes the port.
    stale.kill().unwrap();
    stale.wait().unwrap();
    wait_health(&t, |h| hub_of(h)["state"] == "running");
    t.tandem().shutdown();
}

#[test]
fn files_left_in_an_earlier_folder_are_a_notice_until_dismissed_and_stay() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // What a split version left: handoffs in <state>/shared while clients used another folder.
    std::fs::create_dir_all(state.join("shared/handoffs")).unwrap();
    std::fs::write(state.join("shared/handoffs/old.md"), "# old").unwrap();
    tandem_store::Home::at(&state)
        .move_shared_dir(Some(&dir.path().join("Tandem")))
        .unwrap();
    let t = TestApp::start(|l| l.home = tandem_store::Home::at(&state).with_settings().unwrap());
    let h = t.ok("health", json!({}));
    let notices = h["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{h:#}");
    let message = notices[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&state.join("shared").display().to_string()),
        "{message}"
    );
    assert!(message.contains("Tandem"), "{message}");
    let h = t.ok("dismiss_notice", json!({}));
    assert_eq!(h["notices"], json!([]));
    assert!(
        state.join("shared/handoffs/old.md").is_file(),
        "nothing deleted"
    );
    // Dismissed for good: a later start does not show it again.
    assert_eq!(
        tandem_store::Home::at(&state)
            .with_settings()
            .unwrap()
            .leftover(),
        None
    );
}

#[test]
fn claude_code_through_the_plugin_is_connected_and_entries_beside_it_are_named_as_doubles() {
    let t = TestApp::start(|_| {});
    let home = t.dir.path().join("home");
    let plugins = home.join(".claude/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("installed_plugins.json"),
        r#"{"version": 2, "plugins": {"tandem@tandem": [{"scope": "user", "version": "0.1.0",
            "installPath": "/nowhere"}]}}"#,
    )
    .unwrap();
    std::fs::write(
        home.join(".claude/settings.json"),
        r#"{"enabledPlugins": {"tandem@tandem": true}}"#,
    )
    .unwrap();
    t.tandem().refresh_clients();
    let code = |h: &Value| client_view(h, "claude-code");
    let h = t.ok("health", json!({}));
    assert_eq!(code(&h)["state"], "plugin", "{h:#}");
    assert_eq!(
        code(&h)["stateLabel"],
        "connected through the Tandem plugin"
    );
    assert_eq!(code(&h)["plugin"], "tandem@tandem");
    assert_eq!(code(&h)["current"], true, "nothing to connect");
    assert_eq!(code(&h)["needsRepair"], false);
    // Connect adds no entry beside the plugin; it says why.
    let plans = t.ok("connect_plan", json!({"clients": ["claude-code"]}));
    let error = plans[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("Tandem plugin (tandem@tandem)"), "{plans}");
    let results = t.ok("connect", json!({"clients": ["claude-code"]}));
    assert_eq!(results[0]["ok"], false, "{results}");
    assert!(
        !t.claude_json().exists()
            || !std::fs::read_to_string(t.claude_json())
                .unwrap()
                .contains("tandem-")
    );
    // Entries written anyway (as an older install did) are named as doubles, with the way out.
    std::fs::write(
        t.claude_json(),
        serde_json::to_string(&json!({"mcpServers": {
            "tandem-memory": {"command": t.dir.path().join("bin/tandem"), "args": ["mcp", "memory"]},
        }}))
        .unwrap(),
    )
    .unwrap();
    t.tandem().refresh_clients();
    let h = t.ok("health", json!({}));
    assert_eq!(code(&h)["state"], "doubled", "{h:#}");
    let advice = code(&h)["advice"].as_str().unwrap_or_default().to_string();
    assert!(
        advice.contains("tandem uninstall --client claude-code"),
        "{advice}"
    );
}

/// Runs SQL as the run's PostgreSQL superuser (psql; the settings are in `PG*`).
fn psql(sql: &str) {
    let ok = std::process::Command::new("psql")
        .args(["-qAtc", sql])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql (the team-store tests run under `cargo xtask test`)")
        .success();
    assert!(ok, "psql: {sql}");
}

/// A team this computer joined (the saved setting and password, as `tandem team join`
/// leaves them), on a role of its own that the test can lock out.
struct JoinedTeam {
    role: String,
}

impl JoinedTeam {
    fn new(state: &std::path::Path) -> Self {
        let role = format!("app_{}", std::process::id());
        psql(&format!(
            // One at a time: two GRANTs on one database at once fail ("tuple concurrently
            // updated").
            "SELECT pg_advisory_xact_lock(7411); \
             CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'; GRANT CREATE ON DATABASE \"{}\" TO {role}",
            std::env::var("PGDATABASE").unwrap()
        ));
        let url = format!(
            "postgres://{role}@{}:{}/{}",
            std::env::var("PGHOST").unwrap(),
            std::env::var("PGPORT").unwrap(),
            std::env::var("PGDATABASE").unwrap()
        );
        std::fs::create_dir_all(state).unwrap();
        std::fs::write(
            state.join("settings.json"),
            json!({"team": {"url": url, "team": role}}).to_string(),
        )
        .unwrap();
        std::fs::write(state.join("team-password"), format!("pw-{role}")).unwrap();
        Self { role }
    }

    /// Another machine's connection to the team.
    fn store(&self, state: &std::path::Path) -> MemoryStore {
        let home = tandem_store::Home::at(state);
        MemoryStore::open_at(&home.memory_location().unwrap()).unwrap()
    }
}

impl Drop for JoinedTeam {
    fn drop(&mut self) {
        let role = &self.role;
        let _ = std::process::Command::new("psql")
            .args([
                "-qAtc",
                &format!(
                    "SELECT pg_advisory_xact_lock(7411); \
                     SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'; \
                     DROP SCHEMA IF EXISTS \"{role}\" CASCADE; \
                     REVOKE ALL ON DATABASE \"{}\" FROM {role}; DROP ROLE IF EXISTS {role}",
                    std::env::var("PGDATABASE").unwrap_or_default()
                ),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Joined to a team: another machine's writes reach the window live (the doorbell), Health
/// shows the team store; when the database stops letting this member in, Health says the
/// team store is down (the icon's state is `down`), and when it lets them in again, it is up.
#[test]
fn on_a_team_store_changes_arrive_live_and_an_outage_turns_health_down() {
    let mut team = None;
    let t = TestApp::start(|launch| team = Some(JoinedTeam::new(launch.home.state_dir())));
    let team = team.unwrap();
    let state = t.dir.path().join("state");
    let other = team.store(&state);
    assert_eq!(other.engine(), "postgres");
    let changes = t.next_event("memory-changed", Duration::from_secs(10), || {
        set(&other, "live/team", json!(1), "claude-code 2.1.3");
    });
    assert_eq!(changes[0]["key"], "live/team");
    assert_eq!(
        changes[0]["by"],
        format!("claude-code 2.1.3 · {}", team.role)
    );
    let list = t.ok("memory", json!({}));
    assert_eq!(
        list["items"][0]["updatedByLabel"],
        format!("Claude Code · {}", team.role)
    );

    let health = |t: &TestApp| t.ok("health", json!({}));
    let wait = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let h = health(&t);
            let team_row = h["servers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == "team")
                .cloned();
            if team_row.as_ref().is_some_and(|r| r["state"] == want) {
                return h;
            }
            assert!(Instant::now() < deadline, "team store never {want}: {h}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let up = wait("ok");
    assert!(
        up["servers"].to_string().contains(&team.role),
        "{}",
        up["servers"]
    );
    let role = &team.role;
    psql(&format!(
        "ALTER ROLE {role} NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity          WHERE usename = '{role}'"
    ));
    let down = wait("unavailable");
    assert_eq!(down["overall"], "down");
    assert!(
        down["problems"]
            .to_string()
            .contains("The team store is down"),
        "{}",
        down["problems"]
    );
    psql(&format!("ALTER ROLE {role} LOGIN"));
    let back = wait("ok");
    assert_ne!(back["overall"], "down", "{back}");
}

/// A team store that does not let this member in when the app starts: Health says the team
/// store is down at once (red icon) and the window's memory calls say why; when the database
/// lets them in, the app opens the store by itself — no restart — and another machine's
/// writes reach the window live from then on.
#[test]
fn a_team_store_down_when_the_app_starts_is_opened_when_it_answers() {
    let mut team = None;
    let t = TestApp::start(|launch| {
        let joined = JoinedTeam::new(launch.home.state_dir());
        psql(&format!("ALTER ROLE {} NOLOGIN", joined.role));
        team = Some(joined);
    });
    let team = team.unwrap();
    let role = &team.role;
    let team_row = |t: &TestApp| {
        let h = t.ok("health", json!({}));
        let row = h["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "team")
            .cloned();
        (h, row)
    };
    let wait = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (h, row) = team_row(&t);
            if row.as_ref().is_some_and(|r| r["state"] == want) {
                return h;
            }
            assert!(Instant::now() < deadline, "team store never {want}: {h}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let down = wait("unavailable");
    assert_eq!(down["overall"], "down", "{down}");
    let refused = t.call("memory", json!({})).unwrap_err();
    assert!(
        refused.to_string().contains("not permitted to log in"),
        "{refused}"
    );

    psql(&format!("ALTER ROLE {role} LOGIN"));
    let up = wait("ok");
    assert_ne!(up["overall"], "down", "{up}");
    let state = t.dir.path().join("state");
    let other = team.store(&state);
    let changes = t.next_event("memory-changed", Duration::from_secs(10), || {
        set(&other, "after/outage", json!(1), "claude-code 2.1.3");
    });
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == "after/outage"),
        "{changes}"
    );
    let list = t.ok("memory", json!({}));
    assert_eq!(list["items"][0]["key"], "after/outage", "{list}");
}
