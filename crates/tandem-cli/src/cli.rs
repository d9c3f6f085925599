//! Command-line grammar.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version,
    about = "Shared context for Claude Desktop and Claude Code, over MCP.",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error.\n\
                  State lives in $TANDEM_HOME when set (memory.db, shared/, logs/)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an MCP server on stdio (what client config entries start).
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Import or export the shared memory.
    #[command(subcommand)]
    Memory(MemoryCommand),
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Shared structured memory: keys → JSON values with versions, history and search.
    #[command(after_help = "Example:\n  tandem mcp memory\n  tandem mcp memory --db /tmp/test.db")]
    Memory {
        /// Database file (default: $TANDEM_HOME/memory.db, or the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
    /// The shared folder: file tools, handoffs (open → claimed → done), prompts.
    #[command(
        after_help = "Example:\n  tandem mcp workspace\n  tandem mcp workspace --root ~/Plans --read-only"
    )]
    Workspace {
        /// The shared folder (default: $TANDEM_HOME/shared, or ~/Tandem). Nothing outside it
        /// is ever read or written.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Offer only the tools that read.
        #[arg(long)]
        read_only: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Import an @modelcontextprotocol/server-memory JSONL file (entities → `entity/NAME`).
    #[command(after_help = "Example:\n  tandem memory import ~/memory.jsonl")]
    Import {
        /// The JSONL file written by server-memory.
        file: PathBuf,
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
    /// Write every live entry to stdout as a JSON array.
    #[command(after_help = "Example:\n  tandem memory export > memory.json")]
    Export {
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
}

pub fn parse() -> Cli {
    Cli::parse()
}
