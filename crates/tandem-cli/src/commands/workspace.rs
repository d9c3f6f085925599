//! `tandem mcp workspace`.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use tandem_mcp::workspace::{WorkspaceServer, WorkspaceShared};
use tandem_store::Home;

pub fn serve(home: &Home, root: Option<PathBuf>, read_only: bool) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "workspace");
    let root = root.unwrap_or_else(|| home.shared_dir().to_path_buf());
    let shared = WorkspaceShared::open(&root, read_only)
        .with_context(|| format!("opening the shared folder at {}", root.display()))?;
    tracing::info!(root = %root.display(), read_only, "workspace server starting");
    super::runtime()?.block_on(tandem_mcp::serve_stdio(WorkspaceServer::new(shared)))?;
    Ok(ExitCode::SUCCESS)
}
