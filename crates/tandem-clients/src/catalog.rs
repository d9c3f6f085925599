//! The MCP clients Tandem knows: their names, config formats and keys, the transports they
//! speak, and where each keeps its config on macOS, Windows and Linux (pure functions of a
//! [`HostEnv`]).

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use crate::{
    error::{ClientsError, Result},
    host::{HostEnv, Os},
};

/// Stable identifiers, as typed on the command line (`--client cursor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientId {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    VsCode,
    Windsurf,
    Zed,
    Codex,
    Gemini,
}

impl ClientId {
    pub const ALL: [ClientId; 8] = [
        ClientId::ClaudeDesktop,
        ClientId::ClaudeCode,
        ClientId::Cursor,
        ClientId::VsCode,
        ClientId::Windsurf,
        ClientId::Zed,
        ClientId::Codex,
        ClientId::Gemini,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientId::ClaudeDesktop => "claude-desktop",
            ClientId::ClaudeCode => "claude-code",
            ClientId::Cursor => "cursor",
            ClientId::VsCode => "vscode",
            ClientId::Windsurf => "windsurf",
            ClientId::Zed => "zed",
            ClientId::Codex => "codex",
            ClientId::Gemini => "gemini",
        }
    }

    /// The catalogue entry for this client.
    pub fn client(self) -> &'static Client {
        client(self)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClientId {
    type Err = ClientsError;

    fn from_str(s: &str) -> Result<Self> {
        ClientId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| ClientsError::UnknownClient {
                given: s.to_string(),
                valid: ClientId::ALL.map(ClientId::as_str).join(", "),
            })
    }
}

/// A client id on the wire (the app's window names clients by id): one of the catalogue's,
/// or an error that lists them.
impl<'de> serde::Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// How a config file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Strict JSON: no comments, no trailing commas (the client would reject them).
    Json,
    /// JSON with comments and trailing commas (VS Code, Zed).
    Jsonc,
    /// TOML (Codex).
    Toml,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Jsonc => "JSON with comments",
            Format::Toml => "TOML",
        }
    }
}

/// How a client talks to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Stdio,
    /// Streamable HTTP.
    Http,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "HTTP",
        }
    }
}

/// What a person must do before a client sees a changed config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// The client watches its config and reloads it by itself.
    Live,
    /// The next session (a new terminal run) reads it.
    NewSession,
    /// The client's MCP panel must be refreshed.
    Refresh,
    /// The app must be fully quit (not just its window closed) and started again.
    FullQuit,
}

impl Reload {
    pub fn needs_restart(self) -> bool {
        matches!(self, Reload::FullQuit)
    }

    /// One line for a person.
    pub fn hint(self, client: &Client) -> String {
        match self {
            Reload::Live => format!("{} picks up the change by itself", client.name),
            Reload::NewSession => format!("start a new {} session", client.name),
            Reload::Refresh => format!("refresh the MCP servers in {}", client.name),
            Reload::FullQuit => format!("quit {} completely and open it again", client.name),
        }
    }
}

/// How a client expands environment variables inside its config strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvSyntax {
    /// No expansion: a secret must be written into the file.
    None,
    /// `${VAR}` (Claude Code, Gemini CLI).
    Dollar,
    /// `${env:VAR}` (Cursor, VS Code, Windsurf).
    DollarEnv,
    /// Codex names variables in dedicated keys (`bearer_token_env_var`, `env_http_headers`).
    CodexKeys,
}

/// One MCP client in the catalogue.
#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    /// Display name.
    pub name: &'static str,
    pub format: Format,
    /// The key of the object (or TOML table) that holds the servers, at the top of the file.
    pub servers_key: &'static str,
    pub transports: &'static [Transport],
    pub reload: Reload,
    /// The CLI whose presence on PATH counts as detection.
    pub cli: Option<&'static str>,
    pub env_syntax: EnvSyntax,
}

impl Client {
    pub fn supports(&self, transport: Transport) -> bool {
        self.transports.contains(&transport)
    }
}

const STDIO: &[Transport] = &[Transport::Stdio];
const BOTH: &[Transport] = &[Transport::Stdio, Transport::Http];

static CLIENTS: [Client; 8] = [
    Client {
        id: ClientId::ClaudeDesktop,
        name: "Claude Desktop",
        format: Format::Json,
        servers_key: "mcpServers",
        transports: STDIO,
        reload: Reload::FullQuit,
        cli: None,
        env_syntax: EnvSyntax::None,
    },
    Client {
        id: ClientId::ClaudeCode,
        name: "Claude Code",
        format: Format::Json,
        servers_key: "mcpServers",
        transports: BOTH,
        reload: Reload::NewSession,
        cli: Some("claude"),
        env_syntax: EnvSyntax::Dollar,
    },
    Client {
        id: ClientId::Cursor,
        name: "Cursor",
        format: Format::Json,
        servers_key: "mcpServers",
        transports: BOTH,
        reload: Reload::Live,
        cli: Some("cursor"),
        env_syntax: EnvSyntax::DollarEnv,
    },
    Client {
        id: ClientId::VsCode,
        name: "VS Code",
        format: Format::Jsonc,
        servers_key: "servers",
        transports: BOTH,
        reload: Reload::Live,
        cli: Some("code"),
        env_syntax: EnvSyntax::DollarEnv,
    },
    Client {
        id: ClientId::Windsurf,
        name: "Windsurf",
        format: Format::Json,
        servers_key: "mcpServers",
        transports: BOTH,
        reload: Reload::Refresh,
        cli: Some("windsurf"),
        env_syntax: EnvSyntax::DollarEnv,
    },
    Client {
        id: ClientId::Zed,
        name: "Zed",
        format: Format::Jsonc,
        servers_key: "context_servers",
        transports: BOTH,
        reload: Reload::Live,
        cli: Some("zed"),
        env_syntax: EnvSyntax::None,
    },
    Client {
        id: ClientId::Codex,
        name: "Codex",
        format: Format::Toml,
        servers_key: "mcp_servers",
        transports: BOTH,
        reload: Reload::NewSession,
        cli: Some("codex"),
        env_syntax: EnvSyntax::CodexKeys,
    },
    Client {
        id: ClientId::Gemini,
        name: "Gemini CLI",
        format: Format::Json,
        servers_key: "mcpServers",
        transports: BOTH,
        reload: Reload::NewSession,
        cli: Some("gemini"),
        env_syntax: EnvSyntax::Dollar,
    },
];

/// The catalogue entry for a client.
pub fn client(id: ClientId) -> &'static Client {
    // CLIENTS is in ClientId::ALL order.
    &CLIENTS[id as usize]
}

/// Every client, in catalogue order.
pub fn all() -> &'static [Client] {
    &CLIENTS
}

/// Which config a command targets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// The person's own config for the client.
    #[default]
    User,
    /// A project's shared config (`.mcp.json` for Claude Code).
    Project(PathBuf),
}

/// The per-OS "application config" root: `~/Library/Application Support`, `%APPDATA%`, or
/// `$XDG_CONFIG_HOME` (default `~/.config`).
fn app_config_root(id: ClientId, env: &HostEnv) -> Result<PathBuf> {
    match env.os {
        Os::MacOs => Ok(env.os.join(&env.home, &["Library", "Application Support"])),
        Os::Windows => env
            .appdata
            .clone()
            .ok_or_else(|| ClientsError::NoConfigLocation {
                client: id,
                what: "%APPDATA% is not set".into(),
            }),
        Os::Linux => Ok(xdg_config_home(env)),
    }
}

fn xdg_config_home(env: &HostEnv) -> PathBuf {
    env.xdg_config_home
        .clone()
        .filter(|p| p.is_absolute() || env.os != Os::Linux)
        .unwrap_or_else(|| env.os.join(&env.home, &[".config"]))
}

/// The folders whose existence means the client is installed (also the folders that hold the
/// user config).
pub fn config_dirs(id: ClientId, env: &HostEnv) -> Vec<PathBuf> {
    let os = env.os;
    let home = &env.home;
    match id {
        ClientId::ClaudeDesktop => {
            if os == Os::Windows && !env.msix_claude_packages.is_empty() {
                return env
                    .msix_claude_packages
                    .iter()
                    .map(|p| os.join(p, &["LocalCache", "Roaming", "Claude"]))
                    .collect();
            }
            app_config_root(id, env)
                .map(|root| vec![os.join(&root, &["Claude"])])
                .unwrap_or_default()
        }
        ClientId::ClaudeCode => vec![
            env.claude_config_dir
                .clone()
                .unwrap_or_else(|| os.join(home, &[".claude"])),
        ],
        ClientId::Cursor => vec![os.join(home, &[".cursor"])],
        ClientId::VsCode => app_config_root(id, env)
            .map(|root| vec![os.join(&root, &["Code", "User"])])
            .unwrap_or_default(),
        ClientId::Windsurf => vec![os.join(home, &[".codeium", "windsurf"])],
        ClientId::Zed => match os {
            // Zed uses ~/.config/zed on macOS too.
            Os::MacOs => vec![os.join(home, &[".config", "zed"])],
            Os::Linux => vec![os.join(&xdg_config_home(env), &["zed"])],
            Os::Windows => app_config_root(id, env)
                .map(|root| vec![os.join(&root, &["Zed"])])
                .unwrap_or_default(),
        },
        ClientId::Codex => vec![
            env.codex_home
                .clone()
                .unwrap_or_else(|| os.join(home, &[".codex"])),
        ],
        ClientId::Gemini => vec![os.join(home, &[".gemini"])],
    }
}

/// The config files a command in `scope` edits for a client. Usually one; Claude Desktop on
/// Windows gives one per MSIX package found (the file each installed app reads).
pub fn config_paths(id: ClientId, env: &HostEnv, scope: &Scope) -> Result<Vec<PathBuf>> {
    let os = env.os;
    if let Scope::Project(dir) = scope {
        let parts: &[&str] = match id {
            ClientId::ClaudeCode => &[".mcp.json"],
            ClientId::Cursor => &[".cursor", "mcp.json"],
            ClientId::VsCode => &[".vscode", "mcp.json"],
            ClientId::Zed => &[".zed", "settings.json"],
            ClientId::Codex => &[".codex", "config.toml"],
            ClientId::Gemini => &[".gemini", "settings.json"],
            ClientId::ClaudeDesktop | ClientId::Windsurf => {
                return Err(ClientsError::NoProjectScope { client: id });
            }
        };
        return Ok(vec![os.join(dir, parts)]);
    }
    let in_dirs = |file: &str| -> Result<Vec<PathBuf>> {
        let dirs = config_dirs(id, env);
        if dirs.is_empty() {
            // Only the %APPDATA%-based folders can be underivable.
            return Err(ClientsError::NoConfigLocation {
                client: id,
                what: "%APPDATA% is not set".into(),
            });
        }
        Ok(dirs.iter().map(|d| os.join(d, &[file])).collect())
    };
    match id {
        ClientId::ClaudeDesktop => in_dirs("claude_desktop_config.json"),
        ClientId::ClaudeCode => Ok(vec![match &env.claude_config_dir {
            Some(dir) => os.join(dir, &[".claude.json"]),
            None => os.join(&env.home, &[".claude.json"]),
        }]),
        ClientId::Cursor => in_dirs("mcp.json"),
        ClientId::VsCode => in_dirs("mcp.json"),
        ClientId::Windsurf => in_dirs("mcp_config.json"),
        ClientId::Zed => in_dirs("settings.json"),
        ClientId::Codex => in_dirs("config.toml"),
        ClientId::Gemini => in_dirs("settings.json"),
    }
}

/// Where a client writes the logs of the servers it starts (Claude Desktop only:
/// `mcp-server-NAME.log`): `~/Library/Logs/Claude` on macOS, `%APPDATA%\Claude\logs` on
/// Windows (inside the package for MSIX installs), `~/.config/Claude/logs` on Linux.
pub fn server_log_dirs(id: ClientId, env: &HostEnv) -> Vec<PathBuf> {
    if id != ClientId::ClaudeDesktop {
        return Vec::new();
    }
    match env.os {
        Os::MacOs => vec![env.os.join(&env.home, &["Library", "Logs", "Claude"])],
        Os::Windows | Os::Linux => config_dirs(id, env)
            .iter()
            .map(|d| env.os.join(d, &["logs"]))
            .collect(),
    }
}

/// The Claude Code user settings file that holds hooks: `~/.claude/settings.json` (or
/// `$CLAUDE_CONFIG_DIR/settings.json`). Not where MCP servers go (that is `~/.claude.json`).
pub fn claude_code_settings_path(env: &HostEnv) -> PathBuf {
    env.os.join(&claude_code_dir(env), &["settings.json"])
}

/// Claude Code's own folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn claude_code_dir(env: &HostEnv) -> PathBuf {
    env.claude_config_dir
        .clone()
        .unwrap_or_else(|| env.os.join(&env.home, &[".claude"]))
}

/// Why a client counts as present on this host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detection {
    /// A config folder that exists.
    pub config_dir: Option<PathBuf>,
    /// The client's CLI found on PATH.
    pub cli: Option<PathBuf>,
}

impl Detection {
    pub fn detected(&self) -> bool {
        self.config_dir.is_some() || self.cli.is_some()
    }
}

/// Looks for the client on this machine: a config folder that exists, or its CLI on the
/// snapshot's PATH.
pub fn detect(id: ClientId, env: &HostEnv) -> Detection {
    let config_dir = config_dirs(id, env).into_iter().find(|d| d.is_dir());
    let cli = client(id).cli.and_then(|name| {
        let path = env.path.as_ref()?;
        which::which_in(name, Some(path), cli_cwd(&env.home)).ok()
    });
    Detection { config_dir, cli }
}

fn cli_cwd(home: &Path) -> PathBuf {
    // which_in resolves relative PATH entries against this; the home is a stable choice.
    home.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(id: ClientId, env: &HostEnv) -> Vec<String> {
        config_paths(id, env, &Scope::User)
            .unwrap()
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    fn mac() -> HostEnv {
        HostEnv::new(Os::MacOs, "/Users/ann")
    }

    fn linux() -> HostEnv {
        HostEnv::new(Os::Linux, "/home/ann")
    }

    fn windows() -> HostEnv {
        let mut env = HostEnv::new(Os::Windows, r"C:\Users\ann");
        env.appdata = Some(r"C:\Users\ann\AppData\Roaming".into());
        env.local_appdata = Some(r"C:\Users\ann\AppData\Local".into());
        env
    }

    #[test]
    fn client_ids_round_trip_and_unknown_names_list_the_valid_ones() {
        for id in ClientId::ALL {
            assert_eq!(id.as_str().parse::<ClientId>().unwrap(), id);
            assert_eq!(client(id).id, id);
        }
        let err = "claude".parse::<ClientId>().unwrap_err().to_string();
        assert!(err.contains("claude-desktop, claude-code, cursor"), "{err}");
    }

    #[test]
    fn claude_desktop_paths_per_os() {
        assert_eq!(
            paths(ClientId::ClaudeDesktop, &mac()),
            ["/Users/ann/Library/Application Support/Claude/claude_desktop_config.json"]
        );
        assert_eq!(
            paths(ClientId::ClaudeDesktop, &linux()),
            ["/home/ann/.config/Claude/claude_desktop_config.json"]
        );
        assert_eq!(
            paths(ClientId::ClaudeDesktop, &windows()),
            [r"C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json"]
        );
    }

    #[test]
    fn claude_desktop_msix_install_is_written_where_the_app_reads() {
        let mut env = windows();
        env.msix_claude_packages =
            vec![r"C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc".into()];
        assert_eq!(
            paths(ClientId::ClaudeDesktop, &env),
            [
                r"C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc\LocalCache\Roaming\Claude\claude_desktop_config.json"
            ]
        );
    }

    #[test]
    fn claude_desktop_server_logs_per_os() {
        let dirs = |env: &HostEnv| -> Vec<String> {
            server_log_dirs(ClientId::ClaudeDesktop, env)
                .into_iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(dirs(&mac()), ["/Users/ann/Library/Logs/Claude"]);
        assert_eq!(dirs(&linux()), ["/home/ann/.config/Claude/logs"]);
        assert_eq!(
            dirs(&windows()),
            [r"C:\Users\ann\AppData\Roaming\Claude\logs"]
        );
        let mut msix = windows();
        msix.msix_claude_packages = vec![r"C:\P\Claude_x".into()];
        assert_eq!(
            dirs(&msix),
            [r"C:\P\Claude_x\LocalCache\Roaming\Claude\logs"]
        );
        assert!(server_log_dirs(ClientId::ClaudeCode, &linux()).is_empty());
    }

    #[test]
    fn claude_code_hooks_live_in_settings_json_not_claude_json() {
        assert_eq!(
            claude_code_settings_path(&linux()),
            Path::new("/home/ann/.claude/settings.json")
        );
        assert_eq!(
            claude_code_settings_path(&windows()),
            Path::new(r"C:\Users\ann\.claude\settings.json")
        );
        let mut env = linux();
        env.claude_config_dir = Some("/cfg".into());
        assert_eq!(
            claude_code_settings_path(&env),
            Path::new("/cfg/settings.json")
        );
    }

    #[test]
    fn xdg_config_home_moves_linux_configs() {
        let mut env = linux();
        env.xdg_config_home = Some("/xdg".into());
        assert_eq!(
            paths(ClientId::ClaudeDesktop, &env),
            ["/xdg/Claude/claude_desktop_config.json"]
        );
        assert_eq!(paths(ClientId::VsCode, &env), ["/xdg/Code/User/mcp.json"]);
        assert_eq!(paths(ClientId::Zed, &env), ["/xdg/zed/settings.json"]);
        // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
        env.xdg_config_home = Some("rel".into());
        assert_eq!(
            paths(ClientId::Zed, &env),
            ["/home/ann/.config/zed/settings.json"]
        );
    }

    #[test]
    fn every_client_has_a_user_path_on_every_os() {
        let expected: [(ClientId, [&str; 3]); 7] = [
            (
                ClientId::ClaudeCode,
                [
                    "/Users/ann/.claude.json",
                    "/home/ann/.claude.json",
                    r"C:\Users\ann\.claude.json",
                ],
            ),
            (
                ClientId::Cursor,
                [
                    "/Users/ann/.cursor/mcp.json",
                    "/home/ann/.cursor/mcp.json",
                    r"C:\Users\ann\.cursor\mcp.json",
                ],
            ),
            (
                ClientId::VsCode,
                [
                    "/Users/ann/Library/Application Support/Code/User/mcp.json",
                    "/home/ann/.config/Code/User/mcp.json",
                    r"C:\Users\ann\AppData\Roaming\Code\User\mcp.json",
                ],
            ),
            (
                ClientId::Windsurf,
                [
                    "/Users/ann/.codeium/windsurf/mcp_config.json",
                    "/home/ann/.codeium/windsurf/mcp_config.json",
                    r"C:\Users\ann\.codeium\windsurf\mcp_config.json",
                ],
            ),
            (
                ClientId::Zed,
                [
                    "/Users/ann/.config/zed/settings.json",
                    "/home/ann/.config/zed/settings.json",
                    r"C:\Users\ann\AppData\Roaming\Zed\settings.json",
                ],
            ),
            (
                ClientId::Codex,
                [
                    "/Users/ann/.codex/config.toml",
                    "/home/ann/.codex/config.toml",
                    r"C:\Users\ann\.codex\config.toml",
                ],
            ),
            (
                ClientId::Gemini,
                [
                    "/Users/ann/.gemini/settings.json",
                    "/home/ann/.gemini/settings.json",
                    r"C:\Users\ann\.gemini\settings.json",
                ],
            ),
        ];
        for (id, [m, l, w]) in expected {
            assert_eq!(paths(id, &mac()), [m], "{id} on macOS");
            assert_eq!(paths(id, &linux()), [l], "{id} on Linux");
            assert_eq!(paths(id, &windows()), [w], "{id} on Windows");
        }
    }

    #[test]
    fn claude_config_dir_and_codex_home_move_their_files() {
        let mut env = linux();
        env.claude_config_dir = Some("/cc".into());
        env.codex_home = Some("/cx".into());
        assert_eq!(paths(ClientId::ClaudeCode, &env), ["/cc/.claude.json"]);
        assert_eq!(paths(ClientId::Codex, &env), ["/cx/config.toml"]);
    }

    #[test]
    fn project_scope_uses_the_project_folder() {
        let scope = Scope::Project("/repo".into());
        let path = |id| config_paths(id, &linux(), &scope);
        assert_eq!(
            path(ClientId::ClaudeCode).unwrap(),
            [PathBuf::from("/repo/.mcp.json")]
        );
        assert_eq!(
            path(ClientId::VsCode).unwrap(),
            [PathBuf::from("/repo/.vscode/mcp.json")]
        );
        assert!(matches!(
            path(ClientId::ClaudeDesktop),
            Err(ClientsError::NoProjectScope { .. })
        ));
    }

    #[test]
    fn windows_without_appdata_says_so() {
        let env = HostEnv::new(Os::Windows, r"C:\Users\ann");
        let err = config_paths(ClientId::ClaudeDesktop, &env, &Scope::User).unwrap_err();
        assert!(err.to_string().contains("APPDATA"), "{err}");
    }

    #[test]
    fn claude_desktop_accepts_stdio_only() {
        assert!(client(ClientId::ClaudeDesktop).supports(Transport::Stdio));
        assert!(!client(ClientId::ClaudeDesktop).supports(Transport::Http));
        assert!(client(ClientId::ClaudeDesktop).reload.needs_restart());
    }

    #[test]
    fn detection_by_config_folder_or_cli_on_path() {
        let home = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let mut env = HostEnv::new(Os::current(), home.path());
        env.path = Some(bin.path().as_os_str().to_owned());
        assert!(!detect(ClientId::Cursor, &env).detected());

        std::fs::create_dir(home.path().join(".cursor")).unwrap();
        let d = detect(ClientId::Cursor, &env);
        assert_eq!(d.config_dir, Some(home.path().join(".cursor")));

        assert!(!detect(ClientId::Codex, &env).detected());
        let exe = bin
            .path()
            .join(if cfg!(windows) { "codex.exe" } else { "codex" });
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let d = detect(ClientId::Codex, &env);
        assert_eq!(d.cli, Some(exe));
        assert!(d.detected());
    }
}
