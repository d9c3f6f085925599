//! Driving the tray app's window: a virtual display (Xvfb) with a session bus, `tauri-driver`
//! in front of WebKitWebDriver, and a small W3C WebDriver client over plain HTTP.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
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
        let number = 90 + std::process::id() % 400;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let xvfb = Command::new(xvfb_bin)
            .args([
                format!(":{number}"),
                "-screen".into(),
                "0".into(),
                "1280x860x24".into(),
                "-nolisten".into(),
                "tcp".into(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "Xvfb did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
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
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

/// `tauri-driver` on a free port, in front of WebKitWebDriver.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start(env: &[(String, String)]) -> Self {
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
        let child = Command::new(bin)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tauri-driver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session: the app, started by the driver.
pub struct Session {
    port: u16,
    id: String,
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the driver");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Session {
    /// Starts `app` with `args` through the driver.
    pub fn start(driver: &Driver, app: &Path, args: &[&str]) -> Self {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": app, "args": args}
        }}});
        let (status, v) = http(driver.port, "POST", "/session", Some(&caps));
        assert_eq!(status, 200, "new session failed: {v}");
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id: {v}"))
            .to_string();
        Self {
            port: driver.port,
            id,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let (status, v) = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.id),
            body.as_ref(),
        );
        if status == 200 {
            Ok(v["value"].clone())
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

    /// Saves a PNG of the window.
    pub fn screenshot(&self, name: &str) -> PathBuf {
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
