//! One module per command family; each turns parsed arguments into library calls.

mod brief;
mod connect;
mod doctor;
mod folder;
mod hook;
mod install;
mod memory;
mod plugin;
mod serve;
mod share;
mod status;
mod team;
mod workspace;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use tandem_clients::{
    ClientId, HostEnv, Installer, Scope,
    catalog::{self, Detection},
};
use tandem_store::Home;

use crate::{
    cli::{Cli, ClientArg, Command, McpCommand},
    term,
};

/// Exit code for a usage error (clap uses it too).
const USAGE: u8 = 2;

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    plugin_version_note();
    let home = match Home::resolve() {
        Ok(home) => home,
        // A session hook never fails loudly: unreadable state is no news.
        Err(_) if matches!(cli.command, Command::Brief(_) | Command::Hook { .. }) => {
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    match cli.command {
        Command::Mcp(McpCommand::Memory { db, store }) => memory::serve(&home, db, store),
        Command::Mcp(McpCommand::Workspace { root, read_only }) => {
            workspace::serve(&home, root, read_only)
        }
        Command::Mcp(McpCommand::All { root, db, store }) => {
            workspace::serve_all(&home, root, db, store)
        }
        Command::Memory(cmd) => memory::run(&home, cmd),
        Command::Serve { port, no_auth } => serve::run(&home, port, no_auth),
        Command::Connect { url, headers } => connect::run(&home, url, &headers),
        Command::Install(args) => install::install(&Context::new(home), args),
        Command::Uninstall(args) => install::uninstall(&Context::new(home), args),
        Command::Status(args) => status::run(&Context::new(home), args),
        Command::Doctor(args) => doctor::run(&Context::new(home), args),
        Command::Brief(args) => Ok(brief::run(&home, args)),
        Command::Hook { event } => Ok(hook::run(&home, event)),
        Command::Folder { action } => folder::run(&Context::new(home), action),
        Command::Share(cmd) => share::run(&Context::new(home), cmd),
        Command::Team(cmd) => team::run(&Context::new(home), cmd),
    }
}

/// Set by the Claude Code plugin's launcher: the plugin's version. A plugin and a binary of
/// different versions still work together (entries and hooks use stable commands); the note
/// says which to update.
pub const PLUGIN_VERSION_ENV: &str = "TANDEM_PLUGIN_VERSION";

fn plugin_version_note() {
    let Some(plugin) = std::env::var_os(PLUGIN_VERSION_ENV) else {
        return;
    };
    let plugin = plugin.to_string_lossy();
    let ours = env!("CARGO_PKG_VERSION");
    if !plugin.is_empty() && plugin != ours {
        eprintln!(
            "tandem: the Claude Code plugin is version {plugin} and this tandem is {ours}; \
             update the older one (it still runs)"
        );
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

/// What the client commands share: Tandem's state folder and the host's clients.
pub struct Context {
    pub home: Home,
    pub host: HostEnv,
    pub installer: Installer,
}

impl Context {
    fn new(home: Home) -> Self {
        let host = HostEnv::capture();
        let installer = Installer::new(home.clone(), host.clone());
        Self {
            home,
            host,
            installer,
        }
    }

    /// `TANDEM_HOME` when the person set it: servers started by GUI clients must then use the
    /// same state, so entries carry it.
    fn explicit_home(&self) -> Option<&Path> {
        self.home.explicit_root()
    }

    /// A path for a person (home as `~`).
    fn shown(&self, path: &Path) -> String {
        term::shown(path, &self.host.home)
    }

    /// Where a client keeps its config, for messages: the first config path.
    fn config_path(&self, id: ClientId) -> Option<PathBuf> {
        self.installer
            .config_paths(id, &Scope::User)
            .ok()
            .and_then(|p| p.into_iter().next())
    }

    fn detect(&self, id: ClientId) -> Detection {
        catalog::detect(id, &self.host)
    }
}

/// This `tandem` binary's absolute, canonical path: what entries start (on Windows without the
/// `\\?\` prefix, which a client may not start).
fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the path of this tandem binary")?;
    dunce::canonicalize(&exe).with_context(|| {
        format!(
            "resolving the path of this tandem binary ({})",
            exe.display()
        )
    })
}

/// The clients named on the command line, in catalogue order, without repeats.
fn named(clients: &[ClientArg]) -> Vec<ClientId> {
    let mut ids: Vec<ClientId> = clients.iter().map(|c| c.0).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Prints a failure for a person: wrapped, `tandem:` first, on stderr.
fn report_error(message: &str) {
    use std::io::Write as _;
    let text = term::wrap(
        message,
        &format!("{} ", term::paint(term::FAIL, "error:")),
        "  ",
    );
    let _ = term::stderr().write_all(text.as_bytes());
}
