//! `tandem mcp memory`: the shared structured memory as MCP tools, resources
//! (`memory://entry/{key}`) and a `recall` prompt. Every process on the same database sees
//! every other's commits, and connected clients are told when entries change.
//!
//! One module per kind of thing a client asks for: [`tools`], [`prompts`] and [`resources`];
//! the routing they share with the workspace server is the skeleton's.

mod prompts;
mod resources;
mod tools;

use std::sync::Arc;

use rmcp::{
    ServerHandler,
    handler::server::router::{prompt::PromptRouter, tool::ToolRouter},
};
use tandem_store::{memory::MemoryStore, watch::ChangeWatcher};

use crate::push::{self, EventSender, ResourceEvent, Subscriptions};

pub use resources::entry_uri;
pub(crate) use resources::is_entry_uri;
pub use tools::*;

pub const INSTRUCTIONS: &str = "Shared memory between the person's Claude apps: Claude Desktop \
and Claude Code read and write these same keys. Store decisions and facts as JSON under a \
per-project prefix (`project/topic`). Search before deciding, pass expectedVersion to avoid \
overwriting another app's change, and call memory_changes with your last cursor to catch up.";

/// Process-wide state shared by every session: the store and the change broadcast.
pub struct MemoryShared {
    store: Arc<MemoryStore>,
    events: EventSender,
    watcher: Option<ChangeWatcher>,
}

impl MemoryShared {
    /// Opens the store and starts noticing commits from every process.
    pub fn open(db: &std::path::Path) -> Result<Arc<Self>, tandem_store::StoreError> {
        let store = Arc::new(MemoryStore::open(db)?);
        Ok(Self::with_store(store))
    }

    /// [`Self::open`] for a store anywhere: the SQLite file or a team on PostgreSQL.
    pub fn open_at(
        location: &tandem_store::memory::StoreLocation,
    ) -> Result<Arc<Self>, tandem_store::StoreError> {
        let store = Arc::new(MemoryStore::open_at(location)?);
        Ok(Self::with_store(store))
    }

    pub fn with_store(store: Arc<MemoryStore>) -> Arc<Self> {
        let events = push::channel();
        let sender = events.clone();
        let watcher = ChangeWatcher::spawn(store.clone(), move |changes| {
            let mut uris: Vec<String> = changes.iter().map(|c| entry_uri(&c.key)).collect();
            uris.dedup();
            let _ = sender.send(Arc::new(ResourceEvent { uris }));
        })
        .map_err(|e| tracing::warn!("live change notifications are off: {e}"))
        .ok();
        Arc::new(Self {
            store,
            events,
            watcher,
        })
    }

    pub fn store(&self) -> &Arc<MemoryStore> {
        &self.store
    }

    /// Runs a read: in place on the SQLite file (its reads never wait), on a thread that may
    /// block for the team store (each call crosses the network).
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&MemoryStore) -> Result<T, tandem_store::StoreError> + Send + 'static,
    ) -> Result<T, tandem_store::StoreError> {
        if self.store.is_local() {
            return f(&self.store);
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| {
                Err(tandem_store::StoreError::InvalidArgument(format!(
                    "internal error: {e}"
                )))
            })
    }

    fn wrote(&self) {
        if let Some(w) = &self.watcher {
            w.poke();
        }
    }
}

/// One MCP session of the memory server.
#[derive(Clone)]
pub struct MemoryServer {
    shared: Arc<MemoryShared>,
    subscriptions: Subscriptions,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl MemoryServer {
    pub fn new(shared: Arc<MemoryShared>) -> Self {
        Self {
            shared,
            subscriptions: Subscriptions::default(),
            tool_router: {
                let mut router = Self::tool_router();
                crate::definitions::compact(&mut router);
                router
            },
            prompt_router: Self::prompt_router(),
        }
    }
}

impl MemoryServer {
    crate::skeleton::session_parts!();
}

impl ServerHandler for MemoryServer {
    crate::skeleton::server_skeleton!(name: "tandem-memory", instructions: INSTRUCTIONS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_under_sixty_words() {
        assert!(INSTRUCTIONS.split_whitespace().count() <= 60);
    }
}
