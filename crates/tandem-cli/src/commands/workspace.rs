//! `tandem mcp workspace` and `tandem mcp all`.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use tandem_mcp::{
    all::AllServer,
    memory::MemoryServer,
    workspace::{WorkspaceServer, WorkspaceShared},
};
use tandem_store::Home;

pub fn serve(home: &Home, root: Option<PathBuf>, read_only: bool) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "workspace");
    let shared = open(home, root, read_only)?;
    super::runtime()?.block_on(tandem_mcp::serve_stdio(WorkspaceServer::new(shared)))?;
    Ok(ExitCode::SUCCESS)
}

/// The shared folder a server serves (created on first use unless read-only).
pub(super) fn open(
    home: &Home,
    root: Option<PathBuf>,
    read_only: bool,
) -> anyhow::Result<Arc<WorkspaceShared>> {
    let root = root.unwrap_or_else(|| home.shared_dir().to_path_buf());
    let shared = WorkspaceShared::open(&root, read_only)
        .with_context(|| format!("opening the shared folder at {}", root.display()))?;
    tracing::info!(root = %root.display(), read_only, "workspace server starting");
    Ok(shared)
}

/// `tandem mcp all`: the folder and the memory from one server process.
pub fn serve_all(
    home: &Home,
    root: Option<PathBuf>,
    db: Option<PathBuf>,
    store: Option<String>,
) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "all");
    let workspace = WorkspaceServer::new(open(home, root, false)?);
    let memory = MemoryServer::new(super::memory::open(home, db, store)?);
    super::runtime()?.block_on(tandem_mcp::serve_stdio(AllServer::new(workspace, memory)))?;
    Ok(ExitCode::SUCCESS)
}
