//! `tandem connect URL`: an MCP server on stdio that is a client of a streamable-HTTP MCP
//! server, for apps that only launch stdio servers (Claude Desktop). Messages pass through
//! untouched in both directions — requests, responses, notifications, server requests — so
//! the app's own `clientInfo` reaches the server. When the server is down, calls fail at once
//! with a message that says so; when it comes back (or restarts and forgets the session), the
//! bridge opens a new session by itself, replaying the app's `initialize`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify, RwLock};

use crate::stdio::{LineWriter, RawLines};

const SESSION_HEADER: &str = "mcp-session-id";
const PROTOCOL_HEADER: &str = "mcp-protocol-version";
/// How long to wait for a TCP connection: a local hub answers in microseconds, so a down one
/// fails fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("invalid header {0:?}: write it as 'Name: value'")]
    Header(String),
    #[error("header {name}: {reason}")]
    HeaderValue { name: String, reason: String },
    #[error("invalid URL {0:?}: give an http:// or https:// address")]
    Url(String),
    #[error("setting up HTTP: {0}")]
    Http(String),
}

/// Parses `--header 'Name: value'` arguments. A value (or the part after `Bearer `) written as
/// `env:VAR` is read from the environment and `file:PATH` from a file, so secrets need not sit
/// in a client's config file.
pub fn parse_headers(args: &[String]) -> Result<HeaderMap, BridgeError> {
    let mut headers = HeaderMap::new();
    for arg in args {
        let (name, value) = arg
            .split_once(':')
            .ok_or_else(|| BridgeError::Header(arg.clone()))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| BridgeError::Header(arg.clone()))?;
        let value = resolve_secret(value.trim()).map_err(|reason| BridgeError::HeaderValue {
            name: name.to_string(),
            reason,
        })?;
        let value = HeaderValue::from_str(&value).map_err(|e| BridgeError::HeaderValue {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        headers.append(name, value);
    }
    Ok(headers)
}

fn resolve_secret(value: &str) -> Result<String, String> {
    let (prefix, rest) = match value.strip_prefix("Bearer ") {
        Some(rest) => ("Bearer ", rest.trim()),
        None => ("", value),
    };
    let resolved = if let Some(var) = rest.strip_prefix("env:") {
        std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
    } else if let Some(path) = rest.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map_err(|e| format!("reading {path}: {e}"))?
            .trim()
            .to_string()
    } else {
        rest.to_string()
    };
    Ok(format!("{prefix}{resolved}"))
}

/// The session on the HTTP side.
#[derive(Debug, Clone, Default)]
struct Session {
    id: Option<String>,
    protocol: Option<String>,
    /// Bumped on every new session, so a failure is only acted on once.
    generation: u64,
}

struct Bridge {
    http: reqwest::Client,
    url: String,
    headers: HeaderMap,
    out: LineWriter,
    session: RwLock<Session>,
    /// The app's own `initialize` params, replayed to open a new session.
    initialize: Mutex<Option<Value>>,
    /// One re-initialization at a time.
    reopen: Mutex<()>,
    session_ready: Notify,
    next_id: AtomicU64,
}

/// What a POST came to.
enum Outcome {
    Done,
    /// The server no longer knows the session (it restarted): open a new one and retry.
    SessionGone,
    /// The server could not be reached.
    Unreachable(String),
    Refused(String),
}

/// Runs the bridge until stdin closes.
pub async fn run(url: String, headers: HeaderMap) -> Result<(), BridgeError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(BridgeError::Url(url));
    }
    // TLS for remote servers; rustls with ring builds everywhere without extra tools.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| BridgeError::Http(e.to_string()))?;
    let RawLines { mut incoming, out } = RawLines::process();
    let bridge = Arc::new(Bridge {
        http,
        url,
        headers,
        out,
        session: RwLock::new(Session::default()),
        initialize: Mutex::new(None),
        reopen: Mutex::new(()),
        session_ready: Notify::new(),
        next_id: AtomicU64::new(1),
    });
    let listener = tokio::spawn(listen(bridge.clone()));
    while let Some(message) = incoming.recv().await {
        if message.get("method").and_then(Value::as_str) == Some("initialize") {
            *bridge.initialize.lock().await = message.get("params").cloned();
            // The handshake runs in order: nothing else may overtake it.
            bridge.forward(message).await;
            bridge.session_ready.notify_waiters();
        } else {
            let bridge = bridge.clone();
            tokio::spawn(async move { bridge.forward(message).await });
        }
    }
    listener.abort();
    bridge.close_session().await;
    Ok(())
}

impl Bridge {
    /// Sends one message from the app, retrying once on a new session if the server forgot
    /// ours; a request that cannot be delivered is answered with the reason.
    async fn forward(self: &Arc<Self>, message: Value) {
        let is_initialize = message.get("method").and_then(Value::as_str) == Some("initialize");
        for attempt in 0..2 {
            let generation = self.session.read().await.generation;
            match self.post(&message, is_initialize).await {
                Outcome::Done => return,
                Outcome::SessionGone if attempt == 0 && !is_initialize => {
                    if let Err(reason) = self.reopen(generation).await {
                        self.fail(&message, &reason);
                        return;
                    }
                }
                Outcome::SessionGone => {
                    self.fail(&message, "the server no longer knows this session");
                    return;
                }
                Outcome::Unreachable(reason) => {
                    // The server may have restarted meanwhile: a new session starts on the
                    // next call that reaches it.
                    self.fail(
                        &message,
                        &format!("the MCP server at {} is not reachable ({reason})", self.url),
                    );
                    return;
                }
                Outcome::Refused(reason) => {
                    self.fail(&message, &reason);
                    return;
                }
            }
        }
    }

    fn request_headers(&self, session: &Session) -> HeaderMap {
        let mut headers = self.headers.clone();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        if let Some(id) = session
            .id
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(SESSION_HEADER, id);
        }
        if let Some(p) = session
            .protocol
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(PROTOCOL_HEADER, p);
        }
        headers
    }

    async fn post(&self, message: &Value, is_initialize: bool) -> Outcome {
        let session = if is_initialize {
            Session::default()
        } else {
            self.session.read().await.clone()
        };
        let response = match self
            .http
            .post(&self.url)
            .headers(self.request_headers(&session))
            .json(message)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Outcome::Unreachable(short_error(&e)),
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND && session.id.is_some() {
            return Outcome::SessionGone;
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Outcome::Refused(format!(
                "the MCP server at {} refused the request ({status}): check the headers given to \
                 `tandem connect` (the token)",
                self.url
            ));
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Outcome::Refused(format!(
                "the MCP server at {} answered {status}: {}",
                self.url,
                body.trim()
            ));
        }
        if is_initialize {
            let mut s = self.session.write().await;
            s.id = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            s.generation += 1;
        }
        let is_sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_sse {
            // Relay events as they arrive: progress and server requests come before the reply.
            let mut events = eventsource_stream::Eventsource::eventsource(response.bytes_stream());
            while let Some(Ok(event)) = events.next().await {
                if let Ok(message) = serde_json::from_str::<Value>(&event.data) {
                    self.deliver(&message, is_initialize).await;
                }
            }
        } else {
            let messages = match response.json::<Value>().await {
                Ok(Value::Array(items)) => items,
                Ok(Value::Null) | Err(_) => Vec::new(),
                Ok(v) => vec![v],
            };
            for message in &messages {
                self.deliver(message, is_initialize).await;
            }
        }
        Outcome::Done
    }

    /// Passes a server message to the app, noting the protocol version an `initialize`
    /// result settles on.
    async fn deliver(&self, message: &Value, is_initialize: bool) {
        if is_initialize
            && let Some(version) = message
                .pointer("/result/protocolVersion")
                .and_then(Value::as_str)
        {
            self.session.write().await.protocol = Some(version.to_string());
        }
        self.out.send(message);
    }

    /// Answers a request that could not be delivered (notifications and responses are dropped
    /// with a log line). A tool call gets an `isError` result so the model reads the reason.
    fn fail(&self, message: &Value, reason: &str) {
        let (Some(id), Some(method)) = (
            message.get("id"),
            message.get("method").and_then(Value::as_str),
        ) else {
            tracing::warn!("dropped a message the server could not take: {reason}");
            return;
        };
        let text =
            format!("{reason}. Start it (`tandem serve`, or open the Tandem app) and try again.");
        let reply = if method == "tools/call" {
            json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}], "isError": true}})
        } else {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": text}})
        };
        self.out.send(&reply);
    }

    /// Opens a new session by replaying the app's `initialize`, unless another task already
    /// did since `seen`.
    async fn reopen(&self, seen: u64) -> Result<(), String> {
        let _one = self.reopen.lock().await;
        if self.session.read().await.generation != seen {
            return Ok(());
        }
        let Some(params) = self.initialize.lock().await.clone() else {
            return Err("the app has not initialized yet".to_string());
        };
        let id = format!(
            "tandem-connect-{}",
            self.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": params});
        let response = self
            .http
            .post(&self.url)
            .headers(self.request_headers(&Session::default()))
            .json(&request)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "the MCP server at {} is not reachable ({})",
                    self.url,
                    short_error(&e)
                )
            })?;
        if !response.status().is_success() {
            return Err(format!(
                "the MCP server at {} refused a new session ({})",
                self.url,
                response.status()
            ));
        }
        let session_id = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = response.text().await.unwrap_or_default();
        let result = body
            .lines()
            .filter_map(|l| l.strip_prefix("data:").map(str::trim).or(Some(l.trim())))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m.get("id") == Some(&Value::String(id.clone())))
            .ok_or_else(|| format!("the MCP server at {} sent no initialize result", self.url))?;
        {
            let mut s = self.session.write().await;
            s.id = session_id;
            s.protocol = result
                .pointer("/result/protocolVersion")
                .and_then(Value::as_str)
                .map(String::from);
            s.generation += 1;
        }
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let session = self.session.read().await.clone();
        let _ = self
            .http
            .post(&self.url)
            .headers(self.request_headers(&session))
            .json(&initialized)
            .send()
            .await;
        self.session_ready.notify_waiters();
        // Whatever the app had listed may have changed while the server was away.
        let caps = result
            .pointer("/result/capabilities")
            .cloned()
            .unwrap_or(Value::Null);
        for (cap, method) in [
            ("tools", "notifications/tools/list_changed"),
            ("resources", "notifications/resources/list_changed"),
            ("prompts", "notifications/prompts/list_changed"),
        ] {
            if caps.pointer(&format!("/{cap}/listChanged")) == Some(&Value::Bool(true)) {
                self.out.send(&json!({"jsonrpc": "2.0", "method": method}));
            }
        }
        tracing::info!("opened a new session with {}", self.url);
        Ok(())
    }

    async fn close_session(&self) {
        let session = self.session.read().await.clone();
        if session.id.is_some() {
            let request = self
                .http
                .delete(&self.url)
                .headers(self.request_headers(&session));
            let _ = tokio::time::timeout(Duration::from_secs(1), request.send()).await;
        }
    }
}

/// Keeps the server → app stream open (notifications such as `list_changed`), reopening it —
/// and the session, when the server restarted — whenever it drops.
async fn listen(bridge: Arc<Bridge>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let session = bridge.session.read().await.clone();
        if session.id.is_none() {
            // No session yet (or the server has none): wait for the handshake.
            let ready = bridge.session_ready.notified();
            if bridge.session.read().await.id.is_none() {
                ready.await;
            }
            continue;
        }
        let mut headers = bridge.request_headers(&session);
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.remove(CONTENT_TYPE);
        match bridge.http.get(&bridge.url).headers(headers).send().await {
            Ok(response) if response.status().is_success() => {
                delay = Duration::from_millis(200);
                let mut events =
                    eventsource_stream::Eventsource::eventsource(response.bytes_stream());
                while let Some(Ok(event)) = events.next().await {
                    if let Ok(message) = serde_json::from_str::<Value>(&event.data) {
                        bridge.out.send(&message);
                    }
                }
            }
            Ok(response) if response.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED => {
                // The server offers no stream of its own; requests still work.
                return;
            }
            Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => {
                if let Err(reason) = bridge.reopen(session.generation).await {
                    tracing::debug!("reopening the session: {reason}");
                }
            }
            Ok(_) | Err(_) => {}
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn short_error(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connection refused".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = s.to_string();
            source = s.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_resolve_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "s3cret\n").unwrap();
        let headers = parse_headers(&[
            "x-api-key: plain".into(),
            format!("Authorization: Bearer file:{}", token.display()),
        ])
        .unwrap();
        assert_eq!(headers["x-api-key"], "plain");
        assert_eq!(headers["authorization"], "Bearer s3cret");
        assert!(parse_headers(&["no colon".into()]).is_err());
        assert!(parse_headers(&["x: env:TANDEM_SURELY_UNSET_VAR".into()]).is_err());
        let missing = parse_headers(&["x: file:/nonexistent/token".into()]).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/token"),
            "{missing}"
        );
    }
}
