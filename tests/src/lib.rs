//! Shared helpers for the end-to-end tests: an isolated home, the built binaries, MCP clients
//! with a chosen `clientInfo`, raw stdio sessions and the pinned npm tools.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod desktop;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
        ResourceUpdatedNotificationParam,
    },
    service::{NotificationContext, RunningService},
    transport::TokioChildProcess,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
};

/// The target directory this test binary was built into (`…/target/debug`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/debug/deps/e2e-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The `tandem` binary under test: `$TANDEM_BIN`, else the one built next to this test.
pub fn tandem_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TANDEM_BIN") {
        return PathBuf::from(bin);
    }
    let bin = target_profile_dir().join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test` (it builds `tandem` before the tests)",
        bin.display()
    );
    bin
}

/// A private home for one test: `TANDEM_HOME`, `HOME`, XDG and APPDATA all point into it.
/// [`TestHome::as_people_run`] leaves `TANDEM_HOME` unset, as people run Tandem: state is then
/// found in the data folder (`$XDG_DATA_HOME/Tandem`) and the shared folder at `~/Tandem`.
pub struct TestHome {
    pub dir: tempfile::TempDir,
    people: bool,
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tandem-e2e-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self { dir, people: false }
    }

    /// `HOME` and XDG at temp folders, `TANDEM_HOME` unset.
    pub fn as_people_run() -> Self {
        Self {
            people: true,
            ..Self::new()
        }
    }

    /// Tandem's state folder, as `tandem` resolves it in this home.
    pub fn tandem_home(&self) -> PathBuf {
        if self.people {
            self.user_home().join(".local/share/Tandem")
        } else {
            self.dir.path().join("state")
        }
    }

    /// The shared folder by default, as `tandem` resolves it in this home.
    pub fn shared_dir(&self) -> PathBuf {
        if self.people {
            self.user_home().join("Tandem")
        } else {
            self.tandem_home().join("shared")
        }
    }

    pub fn user_home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn memory_db(&self) -> PathBuf {
        self.tandem_home().join("memory.db")
    }

    /// The environment every child process gets.
    pub fn env(&self) -> Vec<(String, PathBuf)> {
        let home = self.user_home();
        let tandem_home = (!self.people).then(|| ("TANDEM_HOME".to_string(), self.tandem_home()));
        tandem_home
            .into_iter()
            .chain([
                ("HOME".into(), home.clone()),
                ("USERPROFILE".into(), home.clone()),
                ("XDG_CONFIG_HOME".into(), home.join(".config")),
                ("XDG_DATA_HOME".into(), home.join(".local/share")),
                ("APPDATA".into(), home.join("AppData/Roaming")),
                ("LOCALAPPDATA".into(), home.join("AppData/Local")),
            ])
            .collect()
    }

    /// `tandem <args>` with this home's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(tandem_bin());
        cmd.args(args).envs(self.env()).kill_on_drop(true);
        if self.people {
            cmd.env_remove("TANDEM_HOME");
        }
        cmd
    }

    /// Runs `tandem <args>` to completion.
    pub async fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("running tandem")
    }
}

/// A finished `tandem` run, as text.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn from_output(output: std::process::Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A `PATH` with no MCP client CLIs on it, so that only the folders a test creates make a
/// client count as installed.
pub const PLAIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl TestHome {
    /// Runs `tandem <args>` to completion with [`PLAIN_PATH`].
    pub async fn tandem(&self, args: &[&str]) -> Ran {
        let output = self
            .command(args)
            .env("PATH", PLAIN_PATH)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("running tandem");
        Ran::from_output(output)
    }

    /// Creates a folder under the user home (e.g. `.claude`, to make a client "installed").
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let dir = self.user_home().join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Claude Code's user config, `~/.claude.json`.
    pub fn claude_json(&self) -> PathBuf {
        self.user_home().join(".claude.json")
    }

    /// Claude Code's user settings, `~/.claude/settings.json` (hooks).
    pub fn claude_settings(&self) -> PathBuf {
        self.user_home().join(".claude").join("settings.json")
    }

    /// Claude Desktop's config folder on this OS, inside this home.
    pub fn desktop_dir(&self) -> PathBuf {
        if cfg!(target_os = "macos") {
            self.user_home().join("Library/Application Support/Claude")
        } else if cfg!(windows) {
            self.user_home().join("AppData/Roaming/Claude")
        } else {
            self.user_home().join(".config/Claude")
        }
    }

    pub fn desktop_config(&self) -> PathBuf {
        self.desktop_dir().join("claude_desktop_config.json")
    }
}

/// What a test client heard from the server.
#[derive(Debug, Default, Clone)]
pub struct Heard {
    pub list_changed: usize,
    pub updated: Vec<String>,
}

/// An MCP client with a chosen `clientInfo`, recording the notifications it receives.
#[derive(Clone)]
pub struct TestClient {
    info: ClientConfig,
    pub heard: Arc<Mutex<Heard>>,
    pub notify: Arc<tokio::sync::Notify>,
}

impl TestClient {
    pub fn named(name: &str, version: &str) -> Self {
        Self {
            info: ClientConfig::new(
                ClientCapabilities::default(),
                Implementation::new(name, version),
            ),
            heard: Arc::default(),
            notify: Arc::default(),
        }
    }

    /// Starts `tandem <args>` and completes `initialize` as this client.
    pub async fn connect(self, home: &TestHome, args: &[&str]) -> Session {
        let cmd = home.command(args);
        let (transport, _stderr) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning tandem");
        let service = self.clone().serve(transport).await.expect("initialize");
        Session {
            service,
            client: self,
        }
    }
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.heard.lock().unwrap().list_changed += 1;
        self.notify.notify_waiters();
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.heard.lock().unwrap().updated.push(params.uri);
        self.notify.notify_waiters();
    }
}

pub struct Session {
    pub service: RunningService<RoleClient, TestClient>,
    pub client: TestClient,
}

impl Session {
    /// Calls a tool; returns the whole result (check `is_error`).
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args);
        self.service
            .call_tool(params)
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} failed: {}",
            text_of(&result)
        );
        result
            .structured_content
            .clone()
            .unwrap_or_else(|| panic!("{tool}: no structuredContent"))
    }

    /// Calls a tool that must fail; returns its message.
    pub async fn err(&self, tool: &str, args: Value) -> String {
        let result = self.call(tool, args).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} should fail: {result:?}"
        );
        text_of(&result)
    }

    /// Waits until `cond` holds for what this client heard, or `timeout` passes.
    pub async fn wait_for(&self, timeout: Duration, cond: impl Fn(&Heard) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.client.notify.notified();
            if cond(&self.client.heard.lock().unwrap()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return cond(&self.client.heard.lock().unwrap());
            }
        }
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}

pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A raw line-by-line JSON-RPC session over a child's stdio, for what a well-behaved client
/// library would never send.
pub struct RawSession {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl RawSession {
    pub async fn start(home: &TestHome, args: &[&str]) -> Self {
        let mut child = home
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning tandem");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut session = Self {
            child,
            stdin: Some(stdin),
            stdout,
            next_id: 100,
        };
        let init = session
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-test", "version": "1"}
                }),
            )
            .await;
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        session
            .send_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        session
    }

    /// Hands the child's stdin to the caller (e.g. to stream writes from another task);
    /// `send_line` cannot be used afterwards.
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin already taken")
    }

    pub async fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin was taken");
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.write_all(b"\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Reads the next message that is a response (skips notifications).
    pub async fn read_response(&mut self) -> Value {
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(30), self.stdout.read_line(&mut line))
                .await
                .expect("timed out waiting for a reply")
                .unwrap();
            assert!(n > 0, "server closed stdout");
            let v: Value = serde_json::from_str(&line).expect("server wrote a non-JSON line");
            if v.get("method").is_some() && v.get("id").is_none() {
                continue;
            }
            return v;
        }
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_line(&msg.to_string()).await;
        let reply = self.read_response().await;
        assert_eq!(reply["id"], id, "reply out of order: {reply}");
        reply
    }

    pub async fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }
}

/// A `tandem serve` process on a free loopback port, killed when dropped.
pub struct HubProcess {
    pub child: Child,
    pub port: u16,
    pub token: Option<String>,
}

impl HubProcess {
    /// Starts the hub (with its token unless `no_auth`) and waits until `/health` answers.
    pub async fn start(home: &TestHome, no_auth: bool) -> Self {
        Self::start_on(home, free_port(), no_auth).await
    }

    pub async fn start_on(home: &TestHome, port: u16, no_auth: bool) -> Self {
        let port_arg = port.to_string();
        let mut args = vec!["serve", "--port", &port_arg];
        if no_auth {
            args.push("--no-auth");
        }
        let child = home
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tandem serve");
        let hub = Self {
            child,
            port,
            token: None,
        };
        hub.wait_healthy().await;
        let token = (!no_auth).then(|| {
            std::fs::read_to_string(home.tandem_home().join("hub.token"))
                .expect("hub.token")
                .trim()
                .to_string()
        });
        Self { token, ..hub }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/health` until it answers (the hub is up) or 20 s pass.
    pub async fn wait_healthy(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            let health = http().get(format!("{}/health", self.base())).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the hub on port {} did not come up", self.port);
    }

    /// Sends SIGTERM (a supervisor's stop) and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the hub did not stop after SIGTERM")
            .expect("wait")
    }

    /// Kills the process outright.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// An HTTP client for the tests (plain HTTP on loopback; TLS set up as the binary does).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Where `cargo xtask test` installs the pinned npm packages.
pub fn npm_dir() -> PathBuf {
    let dir = target_profile_dir().parent().expect("target").join("npm");
    assert!(
        dir.join("node_modules").exists(),
        "{} has no node_modules: run `cargo xtask test` (it installs the pinned npm clients)",
        dir.display()
    );
    dir
}

/// Runs one of the scripts in `tests/js/` with node, from the npm folder so that its imports
/// resolve to the pinned packages. Returns the parsed JSON the script prints last.
pub async fn run_node_script(
    home: &TestHome,
    script: &str,
    args: &[&str],
    extra_env: &BTreeMap<String, String>,
) -> Value {
    let npm = npm_dir();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("js")
        .join(script);
    let dest = npm.join(script);
    std::fs::copy(&source, &dest).unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
    let output = Command::new("node")
        .arg(&dest)
        .args(args)
        .envs(home.env())
        .envs(extra_env)
        .env("TANDEM_BIN", tandem_bin())
        .current_dir(&npm)
        .kill_on_drop(true)
        .output()
        .await
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("{}");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// What Claude Desktop passes a server on macOS and Linux: a few identity variables and the
/// GUI session's PATH, not the shell's environment (no TANDEM_HOME, no XDG, nothing else).
pub fn desktop_environment(home: &TestHome) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert(
        "HOME".into(),
        home.user_home().to_string_lossy().into_owned(),
    );
    env.insert("USER".into(), "ann".into());
    env.insert("LOGNAME".into(), "ann".into());
    env.insert("SHELL".into(), "/bin/sh".into());
    env.insert("PATH".into(), "/usr/bin:/bin:/usr/sbin:/sbin".into());
    env
}

/// Starts a Claude Desktop config entry (`{command, args, env}`) the way Desktop starts it —
/// that environment only, from `/` — and connects an MCP client to it.
pub async fn start_as_desktop(
    home: &TestHome,
    entry: &Value,
) -> RunningService<RoleClient, TestClient> {
    start_entry(
        entry,
        &desktop_environment(home),
        TestClient::named("claude-ai", "0.14.1"),
    )
    .await
    .service
}

/// Starts a client's stdio config entry (`{command, args, env}`) with exactly `env` plus the
/// entry's own, from `/`, and connects `client` to it.
pub async fn start_entry(
    entry: &Value,
    env: &BTreeMap<String, String>,
    client: TestClient,
) -> Session {
    let command = entry["command"].as_str().expect("command");
    assert!(Path::new(command).is_absolute(), "{command}");
    let mut cmd = Command::new(command);
    for arg in entry["args"].as_array().into_iter().flatten() {
        cmd.arg(arg.as_str().expect("string argument"));
    }
    cmd.env_clear()
        .envs(env)
        .current_dir("/")
        .kill_on_drop(true);
    for (k, v) in entry["env"].as_object().into_iter().flatten() {
        cmd.env(k, v.as_str().expect("string value"));
    }
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the entry's command");
    let service = client
        .clone()
        .serve(transport)
        .await
        .unwrap_or_else(|e| panic!("{command}: initialize failed: {e}"));
    Session { service, client }
}

/// An MCP session over streamable HTTP to `url`, sending `token` as a bearer token.
pub async fn http_session(url: &str, token: &str, client: TestClient) -> Session {
    use rmcp::transport::{
        StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig,
    };
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let transport = StreamableHttpClientTransport::with_client(
        http,
        StreamableHttpClientTransportConfig::with_uri(url.to_string()),
    );
    let service = client
        .clone()
        .serve(transport)
        .await
        .unwrap_or_else(|e| panic!("{url}: initialize failed: {e}"));
    Session { service, client }
}

/// What the hub on `port` says it serves (`serves` in its `/health`), or `Null`.
pub async fn hub_serves(port: u16) -> Value {
    let reply = http()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await;
    match reply {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .map(|h| h["serves"].clone())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Runs the real Claude Code CLI's `claude mcp list` (it starts or connects to every
/// configured server) in this home; returns its standard output.
pub async fn claude_mcp_list(home: &TestHome, extra_env: &[(&str, &str)]) -> String {
    let claude = npm_dir().join("node_modules/.bin/claude");
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        Command::new(&claude)
            .args(["mcp", "list"])
            .envs(home.env())
            .envs(extra_env.iter().copied())
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
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!(
        "claude mcp list:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Panics unless `claude mcp list` printed `name` as connected.
#[track_caller]
pub fn assert_connected(listing: &str, name: &str) {
    let line = listing
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not listed:\n{listing}"));
    assert!(
        line.contains("Connected") && !line.contains("Failed"),
        "{name} is not connected: {line}"
    );
}
