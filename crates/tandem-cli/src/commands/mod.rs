//! One module per command family; each turns parsed arguments into library calls.

mod connect;
mod memory;
mod serve;
mod workspace;

use std::process::ExitCode;

use tandem_store::Home;

use crate::cli::{Cli, Command, McpCommand};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    match cli.command {
        Command::Mcp(McpCommand::Memory { db }) => memory::serve(&home, db),
        Command::Mcp(McpCommand::Workspace { root, read_only }) => {
            workspace::serve(&home, root, read_only)
        }
        Command::Memory(cmd) => memory::run(&home, cmd),
        Command::Serve { port, no_auth } => serve::run(&home, port, no_auth),
        Command::Connect { url, headers } => connect::run(&home, url, &headers),
    }
}

/// A runtime for commands that need async I/O. One thread is plenty for a stdio server (its
/// work is microseconds per call; slow work goes to the blocking pool) and keeps memory low.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?)
}
