//! MCP clients for the tests: a recording client with a chosen `clientInfo`, sessions over
//! stdio and HTTP, raw JSON-RPC lines, and starting an entry as its client would.

use std::{
    collections::BTreeMap,
    path::Path,
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

use crate::*;

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
        self.connect_command(home.command(args)).await
    }

    /// Starts `cmd` (a stdio server) and completes `initialize` as this client.
    pub async fn connect_command(self, cmd: Command) -> Session {
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
