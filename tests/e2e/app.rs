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
    desktop::{Display, Driver, Session, Tray, free_port},
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

pub(crate) fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// The window's Health, straight from the app (what the view renders).
pub(crate) fn health(s: &Session) -> Value {
    s.execute_async(
        "const done = arguments[arguments.length - 1];
         window.__TAURI__.core.invoke('health').then(done, (e) => done({error: String(e)}));",
        json!([]),
    )
}

pub(crate) fn hub(h: &Value) -> Value {
    h["servers"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "hub").cloned())
        .unwrap_or(Value::Null)
}

/// The processes named `tandem` (not zombies) that run with this `TANDEM_HOME`.
fn tandem_processes(tandem_home: &std::path::Path) -> Vec<u32> {
    let needle = format!("TANDEM_HOME={}", tandem_home.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "tandem" || !pid_alive(pid) {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let (_, rest) = stat.rsplit_once(')').unwrap();
    rest.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The window's zoom, as Ctrl + and Ctrl − set it.
fn zoom(s: &Session, factor: f64) {
    let done = s.execute_async(
        "const done = arguments[arguments.length - 1];
         window.__TAURI__.webview.getCurrentWebview().setZoom(arguments[0])
           .then(() => done('ok'), (e) => done(String(e)));",
        json!([factor]),
    );
    assert_eq!(done, "ok", "setting the zoom to {factor}");
    std::thread::sleep(Duration::from_millis(300));
}

/// Presses Enter on a tab (WebDriver focuses it first), as a keyboard user does.
pub(crate) fn press(s: &Session, css: &str) {
    s.type_into(css, "\u{E007}");
    let selected = s.execute(
        "const el = document.querySelector(arguments[0]);
         return document.activeElement === el && el.getAttribute('aria-selected') === 'true'",
        json!([css]),
    );
    assert_eq!(selected, true, "{css} is focused and selected after Enter");
    std::thread::sleep(Duration::from_millis(300));
}

/// Whether the page lays out wider than the window (a horizontal scroll bar).
fn overflows(s: &Session) -> bool {
    s.execute(
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1",
        json!([]),
    )
    .as_bool()
    .unwrap()
}

/// The app under Xvfb, started by the driver with its window open, loaded.
pub(crate) struct AppRun {
    pub(crate) env: Vec<(String, String)>,
    /// What the app asked the desktop's opener to open, a line each.
    pub(crate) opened: PathBuf,
    pub(crate) session: Session,
    // Held for as long as the run lasts, and dropped in this order: the driver ends the app,
    // then the display goes.
    _driver: Driver,
    _display: Display,
}

impl AppRun {
    /// `home`: a returning person's (the app has been started before), with Claude Desktop and
    /// Claude Code installed (their folders exist) and not yet connected. `extra`: more
    /// environment (a desktop's theme, say).
    pub(crate) fn start(home: &TestHome, extra: &[(&str, &str)]) -> Self {
        std::fs::create_dir_all(home.tandem_home()).unwrap();
        std::fs::write(home.tandem_home().join("app-welcomed"), "").unwrap();
        home.mkdir(".claude");
        std::fs::create_dir_all(home.desktop_dir()).unwrap();
        let display = Display::start();
        let mut env: Vec<(String, String)> = home
            .env()
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
            .collect();
        env.extend(display.env.iter().cloned());
        env.push(("TANDEM_HUB_PORT".into(), free_port().to_string()));
        // What the app opens (a file, a folder) goes to the desktop's opener, `xdg-open`: here
        // one that notes what it was asked to open.
        let opened = home.user_home().join("opened.txt");
        let bin = home.user_home().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let opener = bin.join("xdg-open");
        std::fs::write(
            &opener,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\n", opened.display()),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        env.push((
            "PATH".into(),
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ));
        env.push((
            "TANDEM_BIN".into(),
            tandem_bin().to_string_lossy().into_owned(),
        ));
        // WebKitGTK's default renderer, as a person's session has it. (With
        // WEBKIT_DISABLE_COMPOSITING_MODE or WEBKIT_DISABLE_DMABUF_RENDERER set, WebKitGTK 2.50
        // under Xvfb never answers a WebDriver screenshot.)
        env.push((
            "XDG_CACHE_HOME".into(),
            home.user_home()
                .join(".cache")
                .to_string_lossy()
                .into_owned(),
        ));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut driver = Driver::start(&env);
        // The app must open its window at start: the driver waits for one.
        let session = Session::start(&mut driver, &app_bin(), &["--open"]);
        session.wait_for(Duration::from_secs(30), "the window to load", |s| {
            s.execute("return document.body.dataset.ready || null", json!([]))
                .as_str()
                .map(str::to_string)
        });
        Self {
            env,
            opened,
            session,
            _driver: driver,
            _display: display,
        }
    }
}

#[test]
fn the_window_shows_handoffs_and_memory_live_finds_keys_and_shows_the_hub_restarting() {
    let home = TestHome::new();
    let run = AppRun::start(&home, &[]);
    let (s, env, opened) = (&run.session, &run.env, &run.opened);
    s.screenshot("0-handoffs-empty");
    let empty = s.text("#handoff-empty");
    assert!(
        empty
            .as_deref()
            .unwrap_or_default()
            .contains("No handoffs yet"),
        "the empty state says what to do: {empty:?}"
    );
    s.click("#tab-memory");
    // The view fills in once its first query answers.
    s.wait_for(Duration::from_secs(5), "the memory empty state", |s| {
        s.text("#memory-empty")
            .filter(|t| t.contains("Nothing in memory yet"))
    });
    s.screenshot("0-memory-empty");
    s.click("#tab-handoffs");

    // Claude Desktop writes a handoff and records a decision; nobody touches the window.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (desktop, memory) = rt.block_on(async {
        let desktop = TestClient::named("claude-ai", "0.14.1")
            .connect(&home, &["mcp", "workspace"])
            .await;
        let memory = TestClient::named("claude-ai", "0.14.1")
            .connect(&home, &["mcp", "memory"])
            .await;
        (desktop, memory)
    });
    let created = rt.block_on(desktop.ok(
        "handoff_create",
        json!({
            "title": "Add JWT auth to the API",
            "summary": "Stateless auth with **refresh tokens**; see the decisions.",
            "decisions": ["Use jose for JWT handling"],
            "tasks": ["Add /login", "Add refresh endpoint"],
            "openQuestions": ["Token lifetime?"],
            "project": "proj-x"
        }),
    ));
    let handoff_written = Instant::now();
    rt.block_on(memory.ok(
        "memory_set",
        json!({"key": "proj-x/auth-approach", "value": {"method": "JWT", "library": "jose"}, "tags": ["auth"]}),
    ));
    let memory_written = Instant::now();
    let handoff_id = created["id"].as_str().unwrap().to_string();
    let within_2s = |since: Instant| Duration::from_secs(2).saturating_sub(since.elapsed());
    let handoff_css = format!("#handoff-list li[data-id='{handoff_id}']");
    s.wait_for(within_2s(handoff_written), "the handoff in the list", |s| {
        s.find(&handoff_css)
    });
    let handoff_seen = handoff_written.elapsed();
    s.wait_for(
        within_2s(memory_written),
        "the memory entry in the list",
        |s| s.find("#memory-list li[data-key='proj-x/auth-approach']"),
    );
    let memory_seen = memory_written.elapsed();
    eprintln!(
        "the window showed the handoff {handoff_seen:?} and the entry {memory_seen:?} after the writes"
    );
    assert!(handoff_seen < Duration::from_secs(2) && memory_seen < Duration::from_secs(2));
    rt.block_on(async {
        desktop.close().await;
        memory.close().await;
    });
    let item = s.text(&handoff_css).unwrap();
    assert!(item.contains("Add JWT auth to the API"), "{item}");
    assert!(item.contains("Claude Desktop"), "{item}");

    // The tray menu, as the panel reads it from the session bus: the handoff is among the
    // recent ones, and clicking it opens its file.
    let tray = Tray::find(env, Duration::from_secs(10));
    // Its icon is a file of this user's (not in a /tmp folder the first user owns).
    let icon = tray.icon_file();
    assert!(
        icon.starts_with(home.user_home()) && icon.is_file(),
        "{}",
        icon.display()
    );
    let recent = "Add JWT auth to the API — open";
    s.wait_for(
        Duration::from_secs(5),
        "the handoff in the tray menu",
        |_| tray.labels().iter().any(|l| l == recent).then_some(()),
    );
    let labels = tray.labels();
    for want in [
        "Open Shared Folder",
        "Recent Handoffs",
        "Open Tandem…",
        "Connect Clients…",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
    }
    tray.click(recent);
    let opened_file = s.wait_for(Duration::from_secs(10), "the handoff's file opened", |_| {
        std::fs::read_to_string(opened)
            .ok()
            .filter(|t| t.contains("add-jwt-auth-to-the-api.md"))
    });
    let path = std::path::PathBuf::from(opened_file.trim());
    assert!(
        path.is_absolute() && path.starts_with(home.tandem_home()) && path.is_file(),
        "{}",
        path.display()
    );
    tray.click("Open Shared Folder");
    let shared = home.tandem_home().join("shared");
    s.wait_for(Duration::from_secs(10), "the shared folder opened", |_| {
        std::fs::read_to_string(opened)
            .ok()
            .filter(|t| t.lines().any(|l| std::path::Path::new(l.trim()) == shared))
    });
    // Start at Login, on and off again: an XDG autostart entry that starts the app.
    let autostart = home.user_home().join(".config/autostart");
    let entry = || {
        std::fs::read_dir(&autostart)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "desktop"))
    };
    assert_eq!(entry(), None);
    tray.click("Start at Login");
    let desktop_file = s.wait_for(Duration::from_secs(5), "the autostart entry", |_| entry());
    let text = std::fs::read_to_string(&desktop_file).unwrap();
    assert!(text.contains("tandem-app"), "{text}");
    tray.click("Start at Login");
    s.wait_for(Duration::from_secs(5), "the autostart entry gone", |_| {
        entry().is_none().then_some(())
    });
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

    // Health, opened from the tray's Connect Clients…: the hub runs; the detected clients are
    // offered with the diff to write.
    tray.click("Connect Clients…");
    s.wait_for(Duration::from_secs(5), "Health shown", |s| {
        s.execute(
            "return document.querySelector('#tab-health').getAttribute('aria-selected')",
            json!([]),
        )
        .as_str()
        .filter(|v| *v == "true")
        .map(str::to_string)
    });
    s.wait_for(Duration::from_secs(30), "the hub running", |s| {
        s.text("#hub-state").filter(|t| t == "running")
    });
    let diff = s.wait_for(Duration::from_secs(5), "the first-run diff", |s| {
        s.text("#first-run-result")
            .filter(|t| t.contains("tandem-workspace") && t.contains("Claude Desktop"))
    });
    assert!(diff.contains("Claude Code"), "{diff}");
    s.screenshot("3-health-first-run");
    assert!(
        !home.claude_json().exists(),
        "nothing is written before Connect"
    );
    // One click connects them all and says which to restart.
    s.click("#connect-all");
    let done = s.wait_for(Duration::from_secs(10), "the connect result", |s| {
        s.text("#first-run-result")
            .filter(|t| t.contains("Restart"))
    });
    assert!(done.contains("Claude Desktop"), "{done}");
    for config in [home.claude_json(), home.desktop_config()] {
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(
            text.contains("tandem-workspace") && text.contains("tandem-memory"),
            "{}: {text}",
            config.display()
        );
    }
    // Connecting probes the new entries at once.
    s.wait_for(Duration::from_secs(30), "the doctor's check", |s| {
        s.text("#clients tr[data-client='claude-code'] td:nth-child(3)")
            .filter(|t| t.starts_with("passed"))
    });
    s.screenshot("4-health-connected");
    // The tray says so too: its status line and the hub's line.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let labels = tray.labels();
        if labels.first().map(String::as_str) == Some("Tandem — all good")
            && labels.iter().any(|l| l == "Hub ● running")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tray's menu does not say all is good: {labels:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Killed, the hub is restarted and comes back.
    let before = hub(&health(s));
    let pid = before["pid"].as_u64().expect("hub pid") as u32;
    assert!(pid_alive(pid));
    assert_eq!(before["restarts"], 0, "{before}");
    let app_pid = parent_of(pid);
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
    let after = hub(&health(s));
    let new_pid = after["pid"].as_u64().unwrap() as u32;
    assert_ne!(new_pid, pid);
    s.screenshot("5-health-after-restart");

    // 200 % zoom (Ctrl +): still readable, nothing wider than the window.
    zoom(s, 2.0);
    s.screenshot("6-health-200-percent");
    assert!(!overflows(s), "Health overflows at 200 %");
    // WebKitWebDriver's pointer clicks land off target under page zoom: switch views as the
    // keyboard does.
    press(s, "#tab-handoffs");
    s.screenshot("7-handoffs-200-percent");
    assert!(!overflows(s), "Handoffs overflows at 200 %");
    press(s, "#tab-memory");
    s.screenshot("8-memory-200-percent");
    assert!(!overflows(s), "Memory overflows at 200 %");
    zoom(s, 1.0);

    // Quit from the tray menu: the app ends and leaves no `tandem` process behind.
    tray.click("Quit Tandem");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(app_pid) || pid_alive(new_pid) {
        assert!(
            Instant::now() < deadline,
            "the app ({}) or its hub ({}) outlived Quit",
            pid_alive(app_pid),
            pid_alive(new_pid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(tandem_processes(&home.tandem_home()), Vec::<u32>::new());
}

#[test]
fn the_window_follows_a_dark_desktop() {
    let home = TestHome::new();
    let run = AppRun::start(&home, &[("GTK_THEME", "Adwaita:dark")]);
    let s = &run.session;
    let (dark, background) = {
        let v = s.execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches,
                     getComputedStyle(document.body).backgroundColor]",
            json!([]),
        );
        (v[0].clone(), v[1].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(dark, true, "the page sees the dark theme");
    let channels: Vec<u32> = background
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    assert!(
        channels.len() == 3 && channels.iter().all(|c| *c < 80),
        "a dark background, not {background}"
    );
    s.screenshot("9-handoffs-dark");
    press(s, "#tab-health");
    s.screenshot("9-health-dark");
}
