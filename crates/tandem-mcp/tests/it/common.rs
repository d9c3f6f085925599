//! A client connected in process to a server over an in-memory pipe.

use std::sync::Arc;

use rmcp::{
    ClientHandler, RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult, ResourceUpdatedNotificationParam},
    service::{NotificationContext, RunningService},
};
use serde_json::Value;
use tandem_mcp::{
    all::AllServer,
    memory::{MemoryServer, MemoryShared},
    workspace::{WorkspaceServer, WorkspaceShared},
};

/// A client that notes the change notifications it hears.
#[derive(Clone, Default)]
pub struct Recorder {
    pub updated: Arc<std::sync::Mutex<Vec<String>>>,
    pub list_changed: Arc<std::sync::atomic::AtomicUsize>,
    pub heard: Arc<tokio::sync::Notify>,
}

impl ClientHandler for Recorder {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.updated.lock().unwrap().push(params.uri);
        self.heard.notify_waiters();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.heard.notify_waiters();
    }
}

pub struct Connected {
    pub client: RunningService<RoleClient, Recorder>,
    pub recorder: Recorder,
    _dir: Option<tempfile::TempDir>,
}

impl Connected {
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    /// A call that must succeed: its structured content.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args).await;
        assert_ne!(result.is_error, Some(true), "{tool}: {result:?}");
        result.structured_content.expect("structuredContent")
    }
}

/// `server` on one end of an in-memory pipe, and a recording client on the other.
async fn connect(server: impl rmcp::ServerHandler, dir: Option<tempfile::TempDir>) -> Connected {
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    let recorder = Recorder::default();
    Connected {
        client: recorder.clone().serve(client_end).await.unwrap(),
        recorder,
        _dir: dir,
    }
}

/// A client connected to another session of the same memory server (same store, same
/// change broadcast).
pub async fn memory_session(shared: Arc<MemoryShared>) -> Connected {
    connect(MemoryServer::new(shared), None).await
}

/// The memory server on a fresh database, and a client connected to it.
pub async fn memory() -> Connected {
    let dir = tempfile::tempdir().unwrap();
    let shared: Arc<MemoryShared> = MemoryShared::open(&dir.path().join("memory.db")).unwrap();
    connect(MemoryServer::new(shared), Some(dir)).await
}

/// The workspace server on a fresh shared folder, and a client connected to it.
pub async fn workspace(read_only: bool) -> Connected {
    let dir = tempfile::tempdir().unwrap();
    // A read-only server opens a folder that exists; it creates nothing.
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    let shared = WorkspaceShared::open(&dir.path().join("shared"), read_only).unwrap();
    connect(WorkspaceServer::new(shared), Some(dir)).await
}

/// `tandem mcp all` on a fresh folder and database, and a client connected to it.
pub async fn all() -> Connected {
    let dir = tempfile::tempdir().unwrap();
    let workspace = WorkspaceShared::open(&dir.path().join("shared"), false).unwrap();
    let memory = MemoryShared::open(&dir.path().join("memory.db")).unwrap();
    let server = AllServer::new(WorkspaceServer::new(workspace), MemoryServer::new(memory));
    connect(server, Some(dir)).await
}
