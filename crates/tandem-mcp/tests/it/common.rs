//! A client connected in process to a server over an in-memory pipe.

use std::sync::Arc;

use rmcp::{RoleClient, ServiceExt, service::RunningService};
use tandem_mcp::{
    memory::{MemoryServer, MemoryShared},
    workspace::{WorkspaceServer, WorkspaceShared},
};

pub struct Connected {
    pub client: RunningService<RoleClient, ()>,
    _dir: tempfile::TempDir,
}

/// The memory server on a fresh database, and a client connected to it.
pub async fn memory() -> Connected {
    let dir = tempfile::tempdir().unwrap();
    let shared: Arc<MemoryShared> = MemoryShared::open(&dir.path().join("memory.db")).unwrap();
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = MemoryServer::new(shared).serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    Connected {
        client: ().serve(client_end).await.unwrap(),
        _dir: dir,
    }
}

/// The workspace server on a fresh shared folder, and a client connected to it.
pub async fn workspace(read_only: bool) -> Connected {
    let dir = tempfile::tempdir().unwrap();
    let shared = WorkspaceShared::open(&dir.path().join("shared"), read_only).unwrap();
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = WorkspaceServer::new(shared).serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    Connected {
        client: ().serve(client_end).await.unwrap(),
        _dir: dir,
    }
}
