//! Driving the tray app's window: a virtual display (Xvfb) with a session bus, `tauri-driver`
//! in front of WebKitWebDriver, and a small W3C WebDriver client over plain HTTP.

use std::{
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};

use crate::target_profile_dir;

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A program the desktop tests need, or a message saying how to get it.
fn need(path: &Path, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing ({what}): run `cargo xtask test`, which installs it",
        path.display()
    );
    path.to_path_buf()
}

/// Where screenshots go: `target/e2e/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = target_profile_dir().parent().expect("target").join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An X display of our own and a D-Bus session bus, for as long as this lives.
pub struct Display {
    xvfb: Child,
    dbus_pid: Option<u32>,
    pub env: Vec<(String, String)>,
}

impl Display {
    pub fn start() -> Self {
        let xvfb_bin = need(Path::new("/usr/bin/Xvfb"), "Debian package xvfb");
        // Xvfb picks a free display itself and prints its number once it accepts clients: no
        // guessed number that another run (or its stale socket) holds, no race.
        let mut xvfb = Command::new(xvfb_bin)
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x860x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(xvfb.stdout.take().expect("Xvfb's stdout")),
            &mut line,
        )
        .expect("reading Xvfb's display number");
        let number: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb did not start (it printed {line:?})"));
        let display = format!(":{number}");
        let mut env = vec![("DISPLAY".to_string(), display.clone())];
        let out = Command::new("dbus-launch")
            .arg("--sh-syntax")
            .env("DISPLAY", &display)
            .output()
            .expect("dbus-launch (Debian package dbus-x11)");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut dbus_pid = None;
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim_end_matches(';').trim_matches('\'').to_string();
            match key {
                "DBUS_SESSION_BUS_ADDRESS" => env.push((key.to_string(), value)),
                "DBUS_SESSION_BUS_PID" => dbus_pid = value.parse().ok(),
                _ => {}
            }
        }
        Self {
            xvfb,
            dbus_pid,
            env,
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(pid) = self.dbus_pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        // SIGTERM: Xvfb removes its socket and lock file.
        let _ = Command::new("kill")
            .arg(self.xvfb.id().to_string())
            .status();
        let _ = self.xvfb.wait();
    }
}

/// `tauri-driver` on a free port, in front of WebKitWebDriver.
pub struct Driver {
    child: Child,
    pub port: u16,
    env: Vec<(String, String)>,
}

impl Driver {
    pub fn start(env: &[(String, String)]) -> Self {
        let (child, port) = Self::spawn(env);
        Self {
            child,
            port,
            env: env.to_vec(),
        }
    }

    /// Ends the driver and everything it started (the app among them) and starts it again.
    fn restart(&mut self) {
        self.stop();
        (self.child, self.port) = Self::spawn(&self.env);
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }

    fn spawn(env: &[(String, String)]) -> (Child, u16) {
        let tools = target_profile_dir()
            .parent()
            .expect("target")
            .join("tools/bin/tauri-driver");
        let bin = need(&tools, "crates.io package tauri-driver");
        let native = need(
            Path::new("/usr/bin/WebKitWebDriver"),
            "Debian package webkit2gtk-driver",
        );
        let port = free_port();
        let native_port = free_port();
        // What the driver and the app print, for when a test fails.
        let log_path = screenshot_dir().join("driver.log");
        let log = std::fs::File::create(&log_path).expect("creating the driver's log");
        let child = Command::new(bin)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().expect("the driver's log"))
            .stderr(log)
            // A group of its own: ending the test ends WebKitWebDriver and the app with it.
            .process_group(0)
            .spawn()
            .expect("starting tauri-driver");
        // Both must listen: a session asked for before WebKitWebDriver is up never starts.
        let deadline = Instant::now() + Duration::from_secs(20);
        for (p, who) in [(port, "tauri-driver"), (native_port, "WebKitWebDriver")] {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(Instant::now() < deadline, "{who} did not listen");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        (child, port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One WebDriver session: the app, started by the driver.
pub struct Session {
    wire: Wire,
    port: u16,
    id: String,
}

/// HTTP to the driver over kept-alive connections. `tauri-driver` forwards each request to
/// WebKitWebDriver on a pooled connection and passes a client's `Connection: close` on; then
/// WebKitWebDriver closes that connection after answering and a request sent right behind may
/// still be written onto it, which the driver reports as a reset (an empty answer). Kept alive,
/// the connection is never closed under a request.
struct Wire {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Wire {
    fn new() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the WebDriver client"),
            client: crate::http(),
        }
    }

    /// A request to the driver; `None` when it does not answer within `timeout`.
    fn request(
        &self,
        port: u16,
        method: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Option<(u16, Value)> {
        let url = format!("http://127.0.0.1:{port}{path}");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.client.request(method.clone(), &url).timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.runtime.block_on(async {
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return None,
                Err(e) => panic!("{method} {path}: {e}"),
            };
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(bytes) => Some((
                    status,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                )),
                Err(e) if e.is_timeout() => None,
                Err(e) => panic!("{method} {path}: reading the driver's answer: {e}"),
            }
        })
    }

    fn call(&self, port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.request(port, method, path, body, Duration::from_secs(120))
            .unwrap_or_else(|| panic!("{method} {path}: no answer from the driver in 120 s"))
    }
}

impl Session {
    /// Starts `app` with `args` through the driver. WebKitWebDriver now and then never
    /// answers a new session (the app is up, its window loaded, and the automation session
    /// attached but never reported): then the driver and the app are started again.
    pub fn start(driver: &mut Driver, app: &Path, args: &[&str]) -> Self {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": app, "args": args}
        }}});
        let wire = Wire::new();
        for attempt in 1..=4 {
            let answer = wire.request(
                driver.port,
                "POST",
                "/session",
                Some(&caps),
                Duration::from_secs(30),
            );
            let Some((status, v)) = answer else {
                eprintln!(
                    "new session: no answer in 30 s (attempt {attempt}); restarting the driver"
                );
                driver.restart();
                continue;
            };
            assert_eq!(status, 200, "new session failed: {v}");
            let id = v["value"]["sessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("no session id: {v}"))
                .to_string();
            return Self {
                wire,
                port: driver.port,
                id,
            };
        }
        panic!("no WebDriver session after 4 attempts; see target/e2e/driver.log");
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let (status, v) = self.wire.call(
            self.port,
            method,
            &format!("/session/{}{path}", self.id),
            body.as_ref(),
        );
        if status == 200 {
            Ok(v["value"].clone())
        } else if v.is_null() {
            Err(json!({"status": status}))
        } else {
            Err(v)
        }
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the window.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an async script: it gets a callback as its last argument.
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("async script failed: {e}\n{script}"))
    }

    pub fn find(&self, css: &str) -> Option<String> {
        self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT].as_str().map(str::to_string))
    }

    pub fn text(&self, css: &str) -> Option<String> {
        let el = self.find(css)?;
        self.call("GET", &format!("/element/{el}/text"), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    }

    pub fn click(&self, css: &str) {
        let el = self
            .find(css)
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        self.call("POST", &format!("/element/{el}/click"), Some(json!({})))
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self
            .find(css)
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Waits until `check` gives `Some`, checking every 50 ms; panics after `timeout`.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        check: impl Fn(&Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG of the window, once the page has painted what it shows now (two animation
    /// frames: a change made just before would otherwise be missing from the picture).
    pub fn screenshot(&self, name: &str) -> PathBuf {
        self.execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            serde_json::json!([]),
        );
        let v = self
            .call("GET", "/screenshot", None)
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session (the driver closes the app).
    pub fn quit(self) {
        let _ = self.call("DELETE", "", None);
    }
}

/// The tray icon's menu as a desktop panel reads it: the app exports it on the session bus as a
/// StatusNotifierItem whose menu speaks `com.canonical.dbusmenu`. Read and clicked with `gdbus`
/// (Debian package libglib2.0-bin), as the panel would.
pub struct Tray {
    env: Vec<(String, String)>,
    dest: String,
}

/// Where the app's tray menu lives on the bus (from the tray's id and the app's identifier).
const TRAY_MENU: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_tandem/Menu";

fn gdbus(env: &[(String, String)], args: &[&str]) -> Option<String> {
    let out = Command::new(need(
        Path::new("/usr/bin/gdbus"),
        "Debian package libglib2.0-bin",
    ))
    .arg("call")
    .arg("--session")
    .args(args)
    .envs(env.iter().map(|(k, v)| (k, v)))
    .output()
    .expect("running gdbus");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The strings of a GVariant text dump that follow `marker` (`'label': <'` …), unescaped.
fn quoted_after(text: &str, marker: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(marker) {
        let start = from + at + marker.len();
        let mut value = String::new();
        let mut end = text.len();
        let mut chars = text[start..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.extend(chars.next().map(|(_, c)| c)),
                '\'' => {
                    end = start + i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        found.push((from + at, value));
        from = end;
    }
    found
}

impl Tray {
    /// Waits until the app's tray menu is on the session bus `env` names.
    pub fn find(env: &[(String, String)], within: Duration) -> Self {
        let deadline = Instant::now() + within;
        loop {
            let names = gdbus(
                env,
                &[
                    "--dest",
                    "org.freedesktop.DBus",
                    "--object-path",
                    "/org/freedesktop/DBus",
                    "--method",
                    "org.freedesktop.DBus.ListNames",
                ],
            )
            .unwrap_or_default();
            for (_, name) in quoted_after(&names, "'") {
                if !name.starts_with(':') {
                    continue;
                }
                let tray = Self {
                    env: env.to_vec(),
                    dest: name,
                };
                if tray.layout().is_some() {
                    return tray;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no tray menu on the session bus within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Calls `method` of the app's object at `path` with `args`.
    fn call(&self, path: &str, method: &str, args: &[&str]) -> Option<String> {
        let mut all = vec![
            "--dest",
            &self.dest,
            "--object-path",
            path,
            "--method",
            method,
        ];
        all.extend(args);
        gdbus(&self.env, &all)
    }

    fn layout(&self) -> Option<String> {
        self.call(
            TRAY_MENU,
            "com.canonical.dbusmenu.GetLayout",
            &["--", "0", "-1", "['label']"],
        )
    }

    /// The file the panel shows as the icon.
    pub fn icon_file(&self) -> PathBuf {
        let item = TRAY_MENU.trim_end_matches("/Menu");
        let answer = self
            .call(
                item,
                "org.freedesktop.DBus.Properties.Get",
                &["org.kde.StatusNotifierItem", "IconName"],
            )
            .expect("the tray icon's IconName");
        let (_, name) = quoted_after(&answer, "'")
            .into_iter()
            .next()
            .expect("an icon name");
        PathBuf::from(name)
    }

    /// The menu's items and its submenus' (id, label), in order; not the root.
    fn items(&self) -> Vec<(String, String)> {
        let layout = self.layout().expect("the tray menu went away");
        quoted_after(&layout, "'label': <'")
            .into_iter()
            .map(|(at, label)| {
                // `(ID, {'label': <'…'>`: the item's id opens its entry.
                let head = &layout[..at];
                let open = head.rfind('(').expect("an item entry");
                let id = head[open + 1..].split(',').next().unwrap().trim();
                (id.to_string(), label)
            })
            .filter(|(id, _)| id != "0")
            .collect()
    }

    /// Every label of the menu and its submenus, in order.
    pub fn labels(&self) -> Vec<String> {
        self.items().into_iter().map(|(_, label)| label).collect()
    }

    /// Clicks the item labelled `label`, as a person does in the panel's menu.
    pub fn click(&self, label: &str) {
        let items = self.items();
        let (id, _) = items
            .iter()
            .find(|(_, l)| l == label)
            .unwrap_or_else(|| panic!("no {label:?} in the tray menu: {items:?}"));
        self.call(
            TRAY_MENU,
            "com.canonical.dbusmenu.Event",
            &["--", id, "clicked", "<0>", "0"],
        )
        .unwrap_or_else(|| panic!("clicking {label:?} (item {id}) in the tray menu"));
    }
}
