//! `tandem serve`: both servers over MCP streamable HTTP in one process — `/memory` and
//! `/workspace`, many sessions, the same store as the stdio servers — behind a bearer token
//! and a Host/Origin guard, bound to loopback only, with `/health` for supervisors.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    serve::ListenerExt as _,
};
use futures::StreamExt;
use rmcp::transport::{
    StreamableHttpServerConfig, StreamableHttpService,
    streamable_http_server::session::local::{LocalSessionManager, SessionConfig},
};
use serde::Serialize;
use serde_json::json;
use tandem_store::Served;
use tokio_util::sync::CancellationToken;

use crate::{
    memory::{MemoryServer, MemoryShared},
    workspace::{WorkspaceServer, WorkspaceShared},
};

/// The hub's port unless `--port` says otherwise.
pub const DEFAULT_PORT: u16 = tandem_store::paths::DEFAULT_HUB_PORT;
/// Largest request body: a 1 MiB value can grow several-fold once JSON-escaped.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long a shutdown waits for calls in flight.
const DRAIN: Duration = Duration::from_secs(15);
/// An idle session (no request at all) is dropped after this long.
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(
        "port {port} on {addr} is already in use (is another Tandem hub running? try \
         `curl http://127.0.0.1:{port}/health`); pass --port with a free port"
    )]
    PortTaken { port: u16, addr: IpAddr },
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the hub token at {path}: {source}")]
    Token {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
}

/// How the hub is started.
pub struct HubConfig {
    pub port: u16,
    /// `None` turns authentication off (`--no-auth`); the Host/Origin guard stays.
    pub token: Option<String>,
    pub memory: Arc<MemoryShared>,
    pub workspace: Arc<WorkspaceShared>,
    /// The folders and store it serves, reported on `/health` so that a supervisor can tell
    /// its own hub from one that serves another installation.
    pub serves: Served,
}

struct AppState {
    token: Option<String>,
    started: Instant,
    serves: Served,
    memory: Arc<MemoryShared>,
    memory_sessions: Arc<LocalSessionManager>,
    workspace_sessions: Arc<LocalSessionManager>,
}

/// Reads the hub token at `path`, creating it (random, mode 0600) on first start.
pub fn load_or_create_token(path: &Path) -> Result<String, HubError> {
    let err = |source| HubError::Token {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(token) if !token.trim().is_empty() => return Ok(token.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    // Write to a private temp file, then rename: the token is never readable by others,
    // and two hubs starting at once end up with one token.
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(err)?;
        std::io::Write::write_all(&mut file, token.as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    match std::fs::hard_link(&tmp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&tmp);
            std::fs::read_to_string(path)
                .map(|t| t.trim().to_string())
                .map_err(err)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(err(e))
        }
    }
}

/// A running hub.
pub struct Hub {
    pub addrs: Vec<SocketAddr>,
    /// Stops accepting connections.
    stop_accepting: CancellationToken,
    /// Ends every MCP session (and with them the long-lived event streams).
    end_sessions: CancellationToken,
    in_flight: Arc<Drain>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), std::io::Error>>>,
}

impl Hub {
    /// Binds 127.0.0.1 (and ::1 when the machine has IPv6) and starts serving.
    pub async fn start(config: HubConfig) -> Result<Self, HubError> {
        let stop_accepting = CancellationToken::new();
        let end_sessions = CancellationToken::new();
        let in_flight = Arc::new(Drain::default());
        let sessions = || {
            let mut config = SessionConfig::default();
            config.keep_alive = Some(SESSION_IDLE);
            let mut manager = LocalSessionManager::default();
            manager.session_config = config;
            Arc::new(manager)
        };
        let memory_sessions = sessions();
        let workspace_sessions = sessions();
        let http_config = || {
            StreamableHttpServerConfig::default()
                .with_cancellation_token(end_sessions.child_token())
                .with_max_request_body_bytes(MAX_BODY)
                .with_allowed_hosts(["localhost", "127.0.0.1", "::1", "[::1]"])
        };
        let memory = {
            let shared = config.memory.clone();
            StreamableHttpService::new(
                move || Ok(MemoryServer::new(shared.clone())),
                memory_sessions.clone(),
                http_config(),
            )
        };
        let workspace = {
            let shared = config.workspace.clone();
            StreamableHttpService::new(
                move || Ok(WorkspaceServer::new(shared.clone())),
                workspace_sessions.clone(),
                http_config(),
            )
        };
        let state = Arc::new(AppState {
            token: config.token,
            started: Instant::now(),
            serves: config.serves,
            memory: config.memory,
            memory_sessions,
            workspace_sessions,
        });
        let app = Router::new()
            .nest_service("/memory", memory)
            .nest_service("/workspace", workspace)
            .layer(middleware::from_fn_with_state(state.clone(), require_token))
            .route("/health", get(health))
            .layer(middleware::from_fn(guard_host_and_origin))
            .layer(middleware::from_fn_with_state(
                in_flight.clone(),
                count_in_flight,
            ))
            .with_state(state);

        let mut addrs = Vec::new();
        let mut tasks = Vec::new();
        for (ip, required) in [
            (IpAddr::V4(Ipv4Addr::LOCALHOST), true),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), false),
        ] {
            let addr = SocketAddr::new(ip, config.port);
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(HubError::PortTaken {
                        port: config.port,
                        addr: ip,
                    });
                }
                Err(_) if !required => continue,
                Err(source) => return Err(HubError::Bind { addr, source }),
            };
            let bound = listener
                .local_addr()
                .map_err(|source| HubError::Bind { addr, source })?;
            addrs.push(bound);
            let app = app.clone();
            let stop = stop_accepting.clone();
            // Replies are small and written in pieces (headers, then each event): without
            // TCP_NODELAY, Nagle's algorithm holds the last piece until the client's delayed
            // ACK, some 40 ms later, on every call.
            let listener = listener.tap_io(|stream| {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!("TCP_NODELAY on an accepted connection: {e}");
                }
            });
            tasks.push(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
            }));
        }
        Ok(Self {
            addrs,
            stop_accepting,
            end_sessions,
            in_flight,
            tasks,
        })
    }

    /// The IPv4 loopback address the hub listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Stops accepting connections, lets calls in flight finish (and their replies reach the
    /// clients), then ends the sessions and returns.
    pub async fn shutdown(self) -> Result<(), HubError> {
        self.stop_accepting.cancel();
        // From here on a new call is refused at once; the calls already counted finish. (A
        // keep-alive connection can still send a call after the listener stops: served on a
        // session that is being ended, it would never be answered.)
        self.in_flight.draining.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + DRAIN;
        while self.in_flight.count.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.end_sessions.cancel();
        for task in self.tasks {
            match task.await {
                Ok(result) => result.map_err(HubError::Serve)?,
                Err(e) => return Err(HubError::Serve(std::io::Error::other(e.to_string()))),
            }
        }
        Ok(())
    }

    /// Serves until the token is cancelled or one listener fails.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<(), HubError> {
        stop.await;
        self.shutdown().await
    }
}

/// The calls in flight, and whether the hub is shutting down.
#[derive(Default)]
struct Drain {
    count: AtomicUsize,
    draining: std::sync::atomic::AtomicBool,
}

/// Counts requests other than `GET` (the long-lived event streams) until their response
/// body has been sent in full: a tool call's reply may stream after its headers. Once the hub
/// is shutting down, a new request is refused with 503 at once.
async fn count_in_flight(
    State(drain): State<Arc<Drain>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::GET {
        return next.run(request).await;
    }
    // Counted first, then checked: a shutdown that finds no call in flight has already
    // marked itself draining, so every call it did not count is refused here.
    let guard = InFlight::new(drain.clone());
    if drain.draining.load(Ordering::SeqCst) {
        drop(guard);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {"code": -32000, "message": "the Tandem hub is shutting down; \
                          reconnect once it is back"},
            })),
        )
            .into_response();
    }
    let response = next.run(request).await;
    response.map(|body| {
        axum::body::Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _alive = &guard;
            chunk
        }))
    })
}

struct InFlight(Arc<Drain>);

impl InFlight {
    fn new(drain: Arc<Drain>) -> Self {
        drain.count.fetch_add(1, Ordering::SeqCst);
        Self(drain)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// DNS-rebinding protection: only loopback names in `Host` (any port), and a present `Origin`
/// must be a loopback origin too. Everything else is 403, on every path.
async fn guard_host_and_origin(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host_ok = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_loopback_authority);
    let origin_ok = match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin.to_str().ok().is_some_and(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
                .is_some_and(is_loopback_authority)
        }),
    };
    if host_ok && origin_ok {
        return next.run(request).await;
    }
    let message = if host_ok {
        "Origin not allowed"
    } else {
        "Host not allowed"
    };
    (StatusCode::FORBIDDEN, Json(json!({"error": message}))).into_response()
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_authority(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, tail)) if tail.is_empty() || tail.starts_with(':') => host,
            _ => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            Some(_) => return false,
            None => authority,
        }
    };
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "::1"
}

/// `Authorization: Bearer <token>` on the MCP endpoints (not on `/health`).
async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.token else {
        return next.run(request).await;
    };
    if bearer_matches(request.headers(), expected) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "missing or wrong bearer token; it is in hub.token in Tandem's state folder"})),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
    else {
        return false;
    };
    // Constant time in the token's length: no early exit on the first differing byte.
    let (a, b) = (given.trim().as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    pid: u32,
    sessions: Sessions,
    store: StoreHealth,
    serves: Served,
}

#[derive(Serialize)]
struct Sessions {
    memory: usize,
    workspace: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoreHealth {
    ok: bool,
    entries: i64,
    last_seq: i64,
}

async fn health(State(state): State<Arc<AppState>>) -> Json<Health> {
    let stats = state.memory.store().stats();
    let store = match &stats {
        Ok(s) => StoreHealth {
            ok: true,
            entries: s.entries,
            last_seq: s.last_seq,
        },
        Err(_) => StoreHealth {
            ok: false,
            entries: 0,
            last_seq: 0,
        },
    };
    let memory = state.memory_sessions.sessions.read().await.len();
    let workspace = state.workspace_sessions.sessions.read().await.len();
    Json(Health {
        status: if stats.is_ok() { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        pid: std::process::id(),
        sessions: Sessions { memory, workspace },
        store,
        serves: state.serves.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_authorities_pass() {
        for ok in [
            "localhost",
            "localhost:7411",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:80",
            "LOCALHOST:1",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:7411",
            "127.0.0.1.evil.example",
            "localhost.evil:1",
            "[::2]:1",
            "127.0.0.2",
            "localhost:x",
            "[::1]x",
            "",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, "abc"));
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert!(bearer_matches(&h, "abc"));
        h.insert(header::AUTHORIZATION, "Bearer abd".parse().unwrap());
        assert!(!bearer_matches(&h, "abc"));
        h.insert(header::AUTHORIZATION, "Bearer ab".parse().unwrap());
        assert!(!bearer_matches(&h, "abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(!bearer_matches(&h, "abc"));
    }

    #[test]
    fn the_token_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.token");
        let first = load_or_create_token(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_token(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
