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
    /// Bridge stdio to a streamable-HTTP MCP server (for apps that only start stdio servers).
    #[command(
        after_help = "A header value written as `env:VAR` is read from the environment and \
                            `file:PATH` from a file (also after `Bearer `), so secrets need not \
                            sit in a config file.\n\n\
                            Example:\n  tandem connect http://127.0.0.1:7411/memory \\\n    \
                            --header \"Authorization: Bearer file:$TANDEM_HOME/hub.token\""
    )]
    Connect {
        /// The server's URL, e.g. http://127.0.0.1:7411/memory.
        url: String,
        /// An HTTP header for every request, as 'Name: value' (repeatable).
        #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
        headers: Vec<String>,
    },
    /// Serve both servers over MCP streamable HTTP on loopback (the hub).
    #[command(
        after_help = "Endpoints: http://127.0.0.1:PORT/memory, /workspace, and /health \
                            (no auth).\n\
                            Requests need `Authorization: Bearer <token>`; the token is created \
                            on first start in hub.token in Tandem's state folder.\n\n\
                            Example:\n  tandem serve\n  tandem serve --port 8000 --no-auth"
    )]
    Serve {
        /// Port on 127.0.0.1 and [::1].
        #[arg(long, default_value_t = tandem_mcp::hub::DEFAULT_PORT)]
        port: u16,
        /// Accept requests without the bearer token (local testing only; the Host/Origin guard
        /// stays on).
        #[arg(long)]
        no_auth: bool,
    },
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
