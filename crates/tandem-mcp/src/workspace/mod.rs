//! `tandem mcp workspace`: the shared folder as MCP tools (the file tools of the reference
//! filesystem server, same names and parameters, plus `grep`), the handoff lifecycle, the
//! `handoff` and `pickup` prompts, and every file as a resource, with change notifications
//! whoever changed the files.
//!
//! One module per kind of thing a client asks for: [`tools`], [`prompts`] and [`resources`];
//! the routing they share with the memory server is the skeleton's.

mod prompts;
mod resources;
mod tools;

use std::{path::Path, sync::Arc};

use rmcp::{
    ServerHandler,
    handler::server::router::{prompt::PromptRouter, tool::ToolRouter},
};
use tandem_store::{
    watch::FolderWatcher,
    workspace::{Workspace, WorkspaceError},
};

use crate::push::{self, EventSender, ResourceEvent, Subscriptions};

pub use prompts::{HandoffPromptArgs, PickupPromptArgs};
use resources::changed_uris;
pub use tools::NoParams;

pub const INSTRUCTIONS: &str = "A folder shared by the person's Claude apps: Claude Desktop \
writes plans and handoffs here, Claude Code reads them. Paths are relative to the folder (or \
absolute inside it). Write a ready plan with handoff_create; to start work, handoff_read \
\"latest\", claim it with handoff_update, and mark it done when finished.";

/// Process-wide state shared by every session: the workspace and its change broadcast.
pub struct WorkspaceShared {
    ws: Arc<Workspace>,
    events: EventSender,
    watcher: std::sync::Mutex<Option<FolderWatcher>>,
    read_only: bool,
}

impl WorkspaceShared {
    /// Opens (creating on first use) the shared folder and starts watching it.
    pub fn open(root: &Path, read_only: bool) -> Result<Arc<Self>, WorkspaceError> {
        let ws = Arc::new(if read_only {
            Workspace::open_existing(root)?
        } else {
            Workspace::open(root)?
        });
        let shared = Arc::new(Self {
            ws,
            events: push::channel(),
            watcher: std::sync::Mutex::new(None),
            read_only,
        });
        // Watching a large tree means one watch per folder: set it up off the start-up path
        // so the client's `initialize` is answered at once.
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("tandem-watch-setup".into())
            .spawn(move || {
                let Some(shared) = weak.upgrade() else { return };
                let root = shared.ws.root().to_path_buf();
                let sender = shared.events.clone();
                let watcher = FolderWatcher::spawn(&root.clone(), move |paths| {
                    let uris = paths.iter().flat_map(|p| changed_uris(&root, p)).collect();
                    let _ = sender.send(Arc::new(ResourceEvent { uris }));
                });
                match watcher {
                    Ok(w) => *shared.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(w),
                    Err(e) => tracing::warn!("file change notifications are off: {e}"),
                }
            })
            .map_err(|e| WorkspaceError::Io {
                action: "starting the file watcher",
                path: shared.ws.root().display().to_string(),
                source: e,
            })?;
        Ok(shared)
    }

    pub fn workspace(&self) -> &Arc<Workspace> {
        &self.ws
    }
}

/// One MCP session of the workspace server.
#[derive(Clone)]
pub struct WorkspaceServer {
    shared: Arc<WorkspaceShared>,
    subscriptions: Subscriptions,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl WorkspaceServer {
    pub fn new(shared: Arc<WorkspaceShared>) -> Self {
        let mut tool_router = Self::tool_router();
        crate::definitions::compact(&mut tool_router);
        let mut prompt_router = Self::prompt_router();
        if shared.read_only {
            crate::definitions::keep_read_only(&mut tool_router);
            prompt_router.remove_route("handoff");
        }
        Self {
            shared,
            subscriptions: Subscriptions::default(),
            tool_router,
            prompt_router,
        }
    }

    pub(crate) fn ws(&self) -> Arc<Workspace> {
        self.shared.ws.clone()
    }
}

impl WorkspaceServer {
    crate::skeleton::session_parts!();
}

impl ServerHandler for WorkspaceServer {
    crate::skeleton::server_skeleton!(name: "tandem-workspace", instructions: INSTRUCTIONS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_short() {
        assert!(INSTRUCTIONS.split_whitespace().count() <= 60);
    }
}
