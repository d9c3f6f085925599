//! Tandem's MCP servers — `memory` (shared structured memory), the workspace server built the
//! same way, and `all`, both in one server — and the transports they speak.

pub mod all;
pub mod bridge;
pub mod caller;
pub mod definitions;
pub mod hub;
pub mod memory;
pub mod push;
pub mod reply;
mod skeleton;
pub mod stdio;
pub mod uri;
pub mod workspace;

use rmcp::ServiceExt;

/// Serves `server` on this process's stdin/stdout until the client hangs up.
pub async fn serve_stdio<S>(server: S) -> anyhow::Result<()>
where
    S: rmcp::ServerHandler,
{
    let running = server.serve(stdio::StdioLines::process()).await?;
    running.waiting().await?;
    Ok(())
}
