//! Command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, builder::PossibleValue};
use tandem_clients::ClientId;

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version,
    max_term_width = 80,
    about = "Shared context for Claude Desktop and Claude Code, over MCP.",
    after_help = "Examples:\n  tandem install          connect every MCP client found here\n  \
                  tandem doctor           prove each connection works\n\n\
                  Exit codes: 0 success, 1 failure, 2 usage error.\n\
                  State lives in $TANDEM_HOME when set, else the platform data folder;\n\
                  `tandem folder` shows where, and moves the shared folder."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add Tandem's servers to your MCP clients (Claude Desktop, Claude Code, …).
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem install                          every client found here\n",
        "  tandem install --client claude-code --dry-run\n",
        "  tandem install --client claude-code --session-hook\n",
        "  tandem install --client cursor --project .\n",
        "  tandem install --transport http         connect to the hub (tandem serve)\n\n",
        "Entries start this tandem binary by its absolute path: run install again\n",
        "after moving it. When TANDEM_HOME is set, entries (and the hook) carry it.\n",
        "Each changed file is backed up first, under Tandem's state folder.\n\n",
        "With --transport http, clients that speak HTTP get the hub's URL and its\n",
        "token (created if missing) in their file, in clear; Claude Desktop gets\n",
        "`tandem connect`, which reads the token from hub.token when it starts.\n",
        "Run `tandem serve` (or the Tandem app) for those entries to work.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  something failed (the message says what, and what to do)\n",
        "  2  usage error (unknown client, bad flag)"
    ))]
    Install(InstallArgs),
    /// Remove Tandem's entries (and its SessionStart hook) from your MCP clients.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem uninstall                        every client\n",
        "  tandem uninstall --client claude-desktop --dry-run\n\n",
        "Only Tandem's own entries go; everything else in the files stays as it is.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  something failed (the message says what, and what to do)\n",
        "  2  usage error (unknown client, bad flag)"
    ))]
    Uninstall(UninstallArgs),
    /// Show, per client, where its config is and whether Tandem's entries work.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem status\n",
        "  tandem status --json | jq '.clients[] | select(.detected)'\n\n",
        "Exit codes:\n",
        "  0  success (whatever the status is)\n",
        "  1  the status could not be read\n",
        "  2  usage error"
    ))]
    Status(StatusArgs),
    /// Start every installed Tandem entry as its client would and check it answers.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem doctor\n",
        "  tandem doctor --client claude-desktop\n\n",
        "Each entry is started with the command, arguments and env from the client's\n",
        "file, in the environment that client gives servers (Claude Desktop's is\n",
        "trimmed), then asked for initialize and tools/list. The result is kept for\n",
        "`tandem status`.\n\n",
        "Exit codes:\n",
        "  0  every entry answered\n",
        "  1  an entry failed, or there is no Tandem entry to check\n",
        "  2  usage error (unknown client, bad flag)"
    ))]
    Doctor(DoctorArgs),
    /// Print what Claude Desktop handed over, for a model (at most 2000 characters).
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem brief\n",
        "  tandem install --client claude-code --session-hook   run it at session start\n\n",
        "Prints the newest open handoff and the memory entries changed in the last 24\n",
        "hours, with the tools to fetch more; prints nothing when there is nothing.\n\n",
        "Exit codes:\n",
        "  0  always (missing state means an empty brief)\n",
        "  2  usage error"
    ))]
    Brief(BriefArgs),
    /// Claude Code hooks (the plugin runs them): the brief at session start, news before a prompt.
    #[command(after_help = concat!(
        "Examples:\n",
        "  echo '{\"session_id\":\"abc\"}' | tandem hook session-start\n",
        "  echo '{\"session_id\":\"abc\"}' | tandem hook prompt\n\n",
        "Each reads the hook's JSON on stdin and prints Claude Code's hook JSON on stdout:\n",
        "session-start the brief, prompt what changed since the session's previous prompt\n",
        "(nothing at all when nothing did). Whatever goes wrong, they print nothing.\n\n",
        "Exit codes:\n",
        "  0  always (a hook never blocks a prompt)\n",
        "  2  usage error"
    ))]
    Hook {
        #[command(subcommand)]
        event: HookEvent,
    },
    /// Show where Tandem keeps its state and the shared folder; move the shared folder.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem folder                     the shared folder, state folder, store, hub\n",
        "  tandem folder set ~/Plans         move the shared folder\n",
        "  tandem folder reset               back to the default (~/Tandem)\n",
        "  tandem folder dismiss             hide the notice about an old folder\n\n",
        "The setting is saved in settings.json in the state folder, where every Tandem\n",
        "process reads it: servers started by Claude Desktop and Claude Code, the hub,\n",
        "hooks. Nothing is moved or deleted: the old folder keeps its files. Servers\n",
        "that are running keep the old folder until their client restarts them; the\n",
        "Tandem app restarts its hub by itself.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the setting could not be read or saved (the message says why)\n",
        "  2  usage error"
    ))]
    Folder {
        #[command(subcommand)]
        action: Option<FolderCommand>,
    },
    /// Run an MCP server on stdio (what client config entries start).
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Import or export the shared memory.
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// Give a third-party MCP server to several clients, each in its own format.
    #[command(subcommand)]
    Share(ShareCommand),
    /// Share memory with a team (and your other machines) on a PostgreSQL database.
    #[command(subcommand)]
    Team(TeamCommand),
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

/// How many versions of each key a team keeps: `all` (None), or 1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptVersions(pub Option<u32>);

fn parse_kept_versions(text: &str) -> Result<KeptVersions, String> {
    if text == "all" {
        return Ok(KeptVersions(None));
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(KeptVersions(Some(n))),
        _ => Err("give a number of versions, 1 or more, or `all`".into()),
    }
}

/// A client named on the command line; the possible values are the catalogue's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientArg(pub ClientId);

const fn every_client() -> [ClientArg; ClientId::ALL.len()] {
    let mut out = [ClientArg(ClientId::ALL[0]); ClientId::ALL.len()];
    let mut i = 0;
    while i < ClientId::ALL.len() {
        out[i] = ClientArg(ClientId::ALL[i]);
        i += 1;
    }
    out
}

static CLIENT_ARGS: [ClientArg; ClientId::ALL.len()] = every_client();

impl ValueEnum for ClientArg {
    fn value_variants<'a>() -> &'a [Self] {
        &CLIENT_ARGS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.client().name))
    }
}

/// The transports an install can write. HTTP entries come with the hub (`tandem serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TransportArg {
    /// The client starts `tandem mcp …` itself and talks over stdin/stdout.
    #[default]
    Stdio,
    /// The client connects to the hub (`tandem serve`); Claude Desktop gets a
    /// `tandem connect` bridge to it.
    Http,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A client to install into (repeatable). Default: every client found here.
    #[arg(long = "client", value_name = "NAME", value_enum)]
    pub clients: Vec<ClientArg>,
    /// Every client Tandem knows, found here or not (their files are created).
    #[arg(long, conflicts_with = "clients")]
    pub all: bool,
    #[arg(long, value_enum, default_value_t, value_name = "KIND")]
    pub transport: TransportArg,
    /// The hub's port, for --transport http (default: the hub's default).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Print a unified diff per file and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the project's shared config in DIR (e.g. .mcp.json) instead of yours.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Claude Code: run `tandem brief` at every session start (~/.claude/settings.json).
    #[arg(long)]
    pub session_hook: bool,
    /// Claude Code: install the Tandem plugin with the `claude` CLI (from the marketplace this
    /// tandem carries) instead of entries, and remove entries an earlier install wrote.
    #[arg(long, conflicts_with_all = ["project", "session_hook", "transport"])]
    pub plugin: bool,
    /// Install into a client that was not found here, and replace tandem-* entries that
    /// Tandem did not write.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// A client to uninstall from (repeatable). Default: every client.
    #[arg(long = "client", value_name = "NAME", value_enum)]
    pub clients: Vec<ClientArg>,
    /// Print a unified diff per file and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Edit the project's shared config in DIR instead of yours.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Also remove tandem-* entries that Tandem did not write.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON (for scripts and the tray app) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// A client to check (repeatable). Default: every client.
    #[arg(long = "client", value_name = "NAME", value_enum)]
    pub clients: Vec<ClientArg>,
    /// Seconds each server gets to answer initialize and tools/list.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct BriefArgs {
    /// Tandem's state folder (default: $TANDEM_HOME, or the platform data folder).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum HookEvent {
    /// SessionStart: the brief, and where the session starts reading news from.
    SessionStart,
    /// UserPromptSubmit: what changed since this session's previous prompt.
    Prompt,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Set up a team on a PostgreSQL database (a schema of its own); run it again after an
    /// upgrade of Tandem to bring the schema up to date.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem team init postgres://admin@db.example/tandem\n",
        "  tandem team init 'postgres://admin@db.example/tandem?team=design'\n\n",
        "The role in the URL owns the team: it needs the right to create a schema.\n",
        "The password comes from the URL, PGPASSWORD or ~/.pgpass.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the database refused or could not be reached (the message says why)\n",
        "  2  usage error"
    ))]
    Init {
        /// postgres://USER@HOST[:PORT]/DB[?team=NAME]
        url: String,
        /// The team's name (its schema): lower-case letters, digits and _ (default: tandem).
        #[arg(long)]
        team: Option<String>,
    },
    /// Give a person (or a machine) their own login to the team: a database role with a new
    /// password and rights on this team's tables only. Prints what they run to join.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem team add-member alice\n",
        "  tandem team add-member ci --store postgres://admin@db.example/tandem\n\n",
        "Run it as the team's owner (the role of `tandem team init`). Adding a member\n",
        "that exists gives it a new password.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the database refused (the message says why)\n",
        "  2  usage error"
    ))]
    AddMember {
        /// The member's name (a database role): lower-case letters, digits and _.
        name: String,
        /// The team, as the owner reaches it (default: the team this computer joined).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Take a member's rights to the team and drop their role (kept while it belongs to
    /// another team). Their open sessions end.
    #[command(after_help = concat!(
        "Example:\n  tandem team remove-member alice\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the database refused, or there is no such member\n",
        "  2  usage error"
    ))]
    RemoveMember {
        name: String,
        /// The team, as the owner reaches it (default: the team this computer joined).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Use a team's memory on this computer: every Tandem process here (servers started by
    /// clients, the hub, hooks, the app) uses it from now on.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem team join 'postgres://alice:PASSWORD@db.example/tandem?team=design'\n",
        "  tandem team join postgres://alice@db.example/tandem --password-stdin < pw.txt\n\n",
        "The password is kept in the state folder, readable by you only (team-password),\n",
        "never in a client's config file; without one, PGPASSWORD or ~/.pgpass are used\n",
        "when Tandem connects. The memory on this computer stays where it is.\n\n",
        "Exit codes:\n",
        "  0  joined\n",
        "  1  the team could not be reached or refused the login (nothing was saved)\n",
        "  2  usage error"
    ))]
    Join {
        /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?team=NAME]
        url: String,
        /// The team's name, when the URL does not say (default: tandem).
        #[arg(long)]
        team: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Where this computer's memory is, and how the team's database answers.
    #[command(after_help = concat!(
        "Examples:\n  tandem team status\n  tandem team status --json\n\n",
        "Exit codes:\n",
        "  0  the memory answers (the team's database, or the file on this computer)\n",
        "  1  the team's database could not be reached\n",
        "  2  usage error"
    ))]
    Status {
        /// Machine-readable output (no password, ever).
        #[arg(long)]
        json: bool,
    },
    /// Go back to this computer's own memory. Nothing on the server is deleted.
    Leave,
    /// How much history the team keeps: every version (the default), or the newest N of each
    /// key. Older versions go at once and from then on.
    #[command(after_help = concat!(
        "Examples:\n  tandem team keep-history 20\n  tandem team keep-history all\n\n",
        "Run it as the team's owner. The current version of a key always stays.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the database refused (the message says why)\n",
        "  2  usage error"
    ))]
    KeepHistory {
        /// A number of versions per key (1 or more), or `all`.
        #[arg(value_parser = parse_kept_versions)]
        versions: KeptVersions,
        /// The team, as the owner reaches it (default: the team this computer joined).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Copy this computer's memory, every key with its history, into the team, and the shared
    /// folder's text files (plans, notes, handoffs) into the team's workspace.
    #[command(after_help = concat!(
        "Examples:\n  tandem team import\n  tandem team import --db ~/old/memory.db\n\n",
        "Keys and files the team has already are left as they are there (and counted).\n",
        "Each key and each file moves in one transaction: after an interruption, run it\n",
        "again to carry on. Binary files and files over 4 MiB are left out, and named.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  a store could not be opened or written (the message says why)\n",
        "  2  usage error"
    ))]
    Import {
        /// The database file to copy from (default: this computer's, memory.db).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// The team (default: the team this computer joined).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Copy the team's memory, every key with its history, into a database file here, and the
    /// team's workspace into the shared folder (the files it does not have).
    #[command(after_help = concat!(
        "Examples:\n  tandem team export\n  tandem team export --db backup.db\n\n",
        "Keys the file has already, and files the folder has, are left as they are.\n",
        "Run it again to carry on.\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  a store could not be opened or written (the message says why)\n",
        "  2  usage error"
    ))]
    Export {
        /// The database file to copy into (default: this computer's, memory.db).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// The team (default: the team this computer joined).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FolderCommand {
    /// Move the shared folder to DIR (created if missing).
    Set {
        /// The new shared folder.
        dir: PathBuf,
    },
    /// Go back to the default shared folder.
    Reset,
    /// Stop showing the notice about files left in an older shared folder.
    Dismiss,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Shared structured memory: keys → JSON values with versions, history and search.
    #[command(after_help = "Example:\n  tandem mcp memory\n  tandem mcp memory --db /tmp/test.db")]
    Memory {
        /// Database file (default: $TANDEM_HOME/memory.db, or the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Where memory lives: a database file, or a team on PostgreSQL
        /// (postgres://USER@HOST/DB?team=NAME). Default: $TANDEM_STORE, else --db's default.
        #[arg(long, value_name = "URL|PATH", conflicts_with = "db")]
        store: Option<String>,
    },
    /// The shared folder: file tools, handoffs (open → claimed → done), prompts.
    #[command(
        after_help = "Example:\n  tandem mcp workspace\n  tandem mcp workspace --root ~/Plans --read-only"
    )]
    Workspace {
        /// The shared folder (default: the one `tandem folder` shows). Nothing outside it is
        /// ever read or written.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Offer only the tools that read.
        #[arg(long)]
        read_only: bool,
    },
    /// Both at once, from one process: every workspace and memory tool under its own name (for
    /// a client that takes one server per entry, like a Claude Desktop extension).
    #[command(after_help = "Example:\n  tandem mcp all")]
    All {
        /// The shared folder (default: the one `tandem folder` shows).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Database file (default: $TANDEM_HOME/memory.db, or the platform data folder).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Where memory lives: a database file or a PostgreSQL team URL (as for `mcp memory`).
        #[arg(long, value_name = "URL|PATH", conflicts_with = "db")]
        store: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Declare a server once and install it into your MCP clients.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem share add search --url https://search.example/mcp \\\n",
        "      --header 'x-api-key: env:SEARCH_API_KEY'\n",
        "  tandem share add files --client cursor --client claude-code \\\n",
        "      --env ROOT=/srv/docs --command npx -y @scope/files-mcp /srv/docs\n",
        "  tandem share add search --client zed     (again: one more client)\n\n",
        "A header value written env:VAR (or 'Bearer env:VAR') stays a variable in\n",
        "clients that expand variables (Claude Code ${VAR}, Cursor and VS Code\n",
        "${env:VAR}, Codex, Gemini CLI); where a client cannot, its file gets the\n",
        "value, and the summary says which file now holds a secret. Claude Desktop\n",
        "gets `tandem connect URL --header …` with the variable's value in its env.\n",
        "--command takes the rest of the line: put it last.\n\n",
        "Each file is changed completely or not at all (with a backup). When one\n",
        "client's file cannot be changed (it is malformed, say), the others are\n",
        "still installed and the declaration is kept: fix the file and run\n",
        "`tandem share add NAME --client CLIENT` to finish.\n\n",
        "Exit codes:\n",
        "  0  installed everywhere asked\n",
        "  1  some client could not be changed (the message says why)\n",
        "  2  usage error (bad name, header, client or flag)"
    ))]
    Add(ShareAddArgs),
    /// List the shared servers and the clients that have them.
    #[command(after_help = concat!(
        "Examples:\n",
        "  tandem share list\n",
        "  tandem share list --json\n\n",
        "Exit codes:\n",
        "  0  success\n",
        "  1  the list could not be read\n",
        "  2  usage error"
    ))]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a shared server from every client it was installed into.
    #[command(after_help = concat!(
        "Example:\n",
        "  tandem share remove search\n\n",
        "Only the entries Tandem wrote go; an entry changed by hand is left alone\n",
        "(--force removes it). The declaration goes once no client has it.\n\n",
        "Exit codes:\n",
        "  0  removed everywhere\n",
        "  1  some client could not be changed, or no such shared server\n",
        "  2  usage error"
    ))]
    Remove {
        /// The shared server's name.
        name: String,
        /// Also remove entries by that name that were changed by hand.
        #[arg(long)]
        force: bool,
        /// Print a unified diff per file and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub struct ShareAddArgs {
    /// The name clients show (letters, digits, '-' and '_'; not tandem-*).
    pub name: String,
    /// The server's streamable-HTTP URL.
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    pub url: Option<String>,
    /// An HTTP header, as 'Name: value' (repeatable); a value may be env:VAR.
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        requires = "url"
    )]
    pub headers: Vec<String>,
    /// The command that starts the server, and its arguments (put it last).
    #[arg(
        long,
        value_name = "CMD",
        num_args = 1..,
        allow_hyphen_values = true,
        conflicts_with = "url"
    )]
    pub command: Option<Vec<String>>,
    /// An environment variable for the command, as KEY=value (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", requires = "command")]
    pub env: Vec<String>,
    /// A client to install into (repeatable). Default: every client found here.
    #[arg(long = "client", value_name = "NAME", value_enum)]
    pub clients: Vec<ClientArg>,
    /// Install into a client that was not found here, and replace an entry by that name
    /// that Tandem did not write.
    #[arg(long)]
    pub force: bool,
    /// Print a unified diff per file and change nothing.
    #[arg(long)]
    pub dry_run: bool,
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
        /// Where memory lives: a database file, or a team on PostgreSQL (default: where
        /// every process here keeps it).
        #[arg(long, value_name = "URL|PATH", conflicts_with = "db")]
        store: Option<String>,
    },
    /// Write every live entry to stdout as a JSON array.
    #[command(after_help = "Example:\n  tandem memory export > memory.json")]
    Export {
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "URL|PATH", conflicts_with = "db")]
        store: Option<String>,
    },
}

/// Parses the command line; usage errors (exit code 2) are fitted to 80 columns, since clap
/// lists every possible value on one line.
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            use std::io::Write as _;
            let text = e.render().ansi().to_string();
            let _ = crate::term::stderr().write_all(crate::term::fit(&text).as_bytes());
            std::process::exit(e.exit_code());
        }
        Err(e) => e.exit(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_client_id_is_a_possible_value() {
        let names: Vec<String> = ClientArg::value_variants()
            .iter()
            .filter_map(|c| c.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        assert_eq!(names, ClientId::ALL.map(|id| id.as_str().to_string()));
    }
}
