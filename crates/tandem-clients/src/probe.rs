//! Doctor probes: each Tandem entry found by [`Installer::probe_targets`] is started exactly as
//! its client would start it — the command, arguments and env from the client's file, in the
//! environment that client gives servers (Claude Desktop's is trimmed, not the shell's) — then
//! driven through `initialize` + `tools/list` and reported with latency, the server's stderr
//! and, for Claude Desktop, the tail of its log of that server.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rmcp::{
    ServiceExt,
    model::{ClientCapabilities, ClientConfig, Implementation},
    transport::{
        StreamableHttpClientTransport, TokioChildProcess,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use tokio::io::AsyncReadExt;

use crate::{
    catalog::{self, ClientId, EnvSyntax, Scope},
    entry::{self, ServerEntry},
    error::Result,
    host::{HostEnv, Os},
    install::Installer,
};

/// How long a server gets to answer `initialize` and `tools/list`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Most bytes of a server's stderr (or log) kept in a report: the end, where the reason is.
const TAIL_BYTES: usize = 2000;
const LOG_TAIL_LINES: usize = 20;

/// One installed entry to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    pub client: ClientId,
    pub config_path: PathBuf,
    pub name: String,
    pub entry: ServerEntry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeOutcome {
    Passed,
    Failed,
    /// Not checked (an HTTP entry: the hub's own check covers it).
    Skipped,
}

impl ProbeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Passed => "passed",
            ProbeOutcome::Failed => "failed",
            ProbeOutcome::Skipped => "skipped",
        }
    }
}

/// The result of probing one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub outcome: ProbeOutcome,
    /// From starting the process to the `tools/list` answer (or to the failure).
    pub latency: Duration,
    /// What happened, for a person.
    pub detail: String,
    /// What to do about a failure, in words.
    pub fix: Option<String>,
    /// `serverInfo` name and version from `initialize`.
    pub server: Option<String>,
    pub tools: Vec<String>,
    /// The end of what the server wrote to stderr.
    pub stderr_tail: String,
    /// Claude Desktop only: the end of its `mcp-server-NAME.log`, when there is one.
    pub log_tail: Option<String>,
}

impl ProbeReport {
    pub fn passed(&self) -> bool {
        self.outcome == ProbeOutcome::Passed
    }

    fn failed(latency: Duration, detail: String, fix: String) -> Self {
        Self {
            outcome: ProbeOutcome::Failed,
            latency,
            detail,
            fix: Some(fix),
            server: None,
            tools: Vec::new(),
            stderr_tail: String::new(),
            log_tail: None,
        }
    }
}

/// Starts an entry and checks it answers.
pub trait Probe {
    fn probe(&self, target: &ProbeTarget) -> ProbeReport;

    /// Every target, reports in the targets' order (one after the other unless the probe
    /// runs them at once, as [`ChildProbe`] does).
    fn probe_each(&self, targets: &[ProbeTarget]) -> Vec<ProbeReport> {
        targets.iter().map(|t| self.probe(t)).collect()
    }
}

impl Installer {
    /// Every Tandem entry (ours, readable) in a client's config files.
    pub fn probe_targets(&self, id: ClientId, scope: &Scope) -> Result<Vec<ProbeTarget>> {
        let status = self.status(id, scope, None)?;
        Ok(status
            .files
            .into_iter()
            .flat_map(|f| {
                let path = f.path;
                // Tandem's own servers only: shared third-party servers are the person's to
                // run (they may be remote, or need secrets the doctor should not use).
                f.entries
                    .into_iter()
                    .filter(|e| e.ours && e.name.starts_with("tandem-"))
                    .filter_map(move |e| {
                        Some(ProbeTarget {
                            client: id,
                            config_path: path.clone(),
                            name: e.name,
                            entry: e.entry?,
                        })
                    })
            })
            .collect())
    }
}

/// Variables Claude Desktop passes to the servers it starts on macOS and Linux (what the MCP
/// SDK's `getDefaultEnvironment` keeps, minus the terminal's `TERM`). Its `PATH` is the GUI
/// session's, not the shell's.
const DESKTOP_UNIX_VARS: [&str; 4] = ["HOME", "LOGNAME", "SHELL", "USER"];
/// On Windows it also strips `APPDATA`, `LOCALAPPDATA` and `USERPROFILE`, which is why
/// Tandem's entries carry them.
const DESKTOP_WINDOWS_VARS: [&str; 9] = [
    "HOMEDRIVE",
    "HOMEPATH",
    "PATH",
    "PROCESSOR_ARCHITECTURE",
    "PROGRAMFILES",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "USERNAME",
];

/// The `PATH` a GUI app gets from the session, not from the person's shell profile.
pub fn gui_path(os: Os) -> &'static str {
    match os {
        Os::MacOs => "/usr/bin:/bin:/usr/sbin:/sbin",
        Os::Linux => "/usr/local/bin:/usr/bin:/bin",
        Os::Windows => "",
    }
}

/// The whole environment `client` gives a stdio server whose entry sets `entry_env`, when the
/// client itself was started with `parent`. Claude Desktop starts servers from a trimmed
/// environment; the CLIs (Claude Code, Codex, Gemini) and the editors, which load the login
/// shell's environment, pass their own on. The entry's `env` comes on top either way.
pub fn server_environment(
    client: ClientId,
    os: Os,
    parent: &BTreeMap<String, String>,
    entry_env: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if client == ClientId::ClaudeDesktop {
        match os {
            Os::Windows => {
                for (k, v) in parent {
                    if DESKTOP_WINDOWS_VARS
                        .iter()
                        .any(|w| w.eq_ignore_ascii_case(k))
                    {
                        env.insert(k.clone(), v.clone());
                    }
                }
            }
            Os::MacOs | Os::Linux => {
                for name in DESKTOP_UNIX_VARS {
                    if let Some(v) = parent.get(name) {
                        env.insert(name.to_string(), v.clone());
                    }
                }
                env.insert("PATH".to_string(), gui_path(os).to_string());
            }
        }
    } else {
        env.extend(parent.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (k, v) in entry_env {
        if os == Os::Windows {
            env.retain(|existing, _| !existing.eq_ignore_ascii_case(k));
        }
        env.insert(k.clone(), v.clone());
    }
    env
}

/// The folder a client starts servers in: Claude Desktop uses the filesystem root.
fn server_cwd(client: ClientId, os: Os) -> Option<PathBuf> {
    match (client, os) {
        (ClientId::ClaudeDesktop, Os::MacOs | Os::Linux) => Some(PathBuf::from("/")),
        _ => None,
    }
}

/// The last `lines` lines (and at most [`TAIL_BYTES`]) of a text.
fn tail(text: &str, lines: usize) -> String {
    let mut start = text.len().saturating_sub(TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = &text[start..];
    let kept: Vec<&str> = cut.lines().rev().take(lines).collect();
    kept.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// The end of Claude Desktop's log of the server `name` (`mcp-server-NAME.log`), if any.
pub fn desktop_log_tail(host: &HostEnv, name: &str) -> Option<String> {
    catalog::server_log_dirs(ClientId::ClaudeDesktop, host)
        .into_iter()
        .map(|dir| host.os.join(&dir, &[&format!("mcp-server-{name}.log")]))
        .find_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            let start = bytes.len().saturating_sub(TAIL_BYTES * 4);
            let text = String::from_utf8_lossy(&bytes[start..]);
            Some(tail(&text, LOG_TAIL_LINES))
        })
}

/// The probe that starts real processes.
#[derive(Debug, Clone)]
pub struct ChildProbe {
    host: HostEnv,
    timeout: Duration,
}

impl ChildProbe {
    /// Probes as the clients on `host` would (its variables are the clients' own environment).
    pub fn new(host: HostEnv) -> Self {
        Self {
            host,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Probes every target at once; reports in the targets' order. This blocks on a runtime of
    /// its own: from async code (the tray app), use [`Self::probe_async`].
    pub fn probe_all(&self, targets: &[ProbeTarget]) -> Vec<ProbeReport> {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                return targets
                    .iter()
                    .map(|_| {
                        ProbeReport::failed(
                            Duration::ZERO,
                            format!("could not start an async runtime: {e}"),
                            "run `tandem doctor` again".into(),
                        )
                    })
                    .collect();
            }
        };
        runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, target) in targets.iter().enumerate() {
                let probe = self.clone();
                let target = target.clone();
                set.spawn(async move { (i, probe.probe_async(&target).await) });
            }
            let mut reports: Vec<Option<ProbeReport>> = vec![None; targets.len()];
            while let Some(joined) = set.join_next().await {
                if let Ok((i, report)) = joined {
                    reports[i] = Some(report);
                }
            }
            reports
                .into_iter()
                .map(|r| {
                    r.unwrap_or_else(|| {
                        ProbeReport::failed(
                            Duration::ZERO,
                            "the probe itself crashed".into(),
                            "run `tandem doctor` again".into(),
                        )
                    })
                })
                .collect()
        })
    }

    /// Starts the entry as its client would and drives it through `initialize` +
    /// `tools/list`.
    pub async fn probe_async(&self, target: &ProbeTarget) -> ProbeReport {
        let mut report = match &target.entry {
            ServerEntry::Http { url, headers } => self.probe_http(target, url, headers).await,
            ServerEntry::Stdio { command, args, env } => {
                self.probe_stdio(target, command, args, env).await
            }
        };
        if target.client == ClientId::ClaudeDesktop {
            report.log_tail = desktop_log_tail(&self.host, &target.name);
        }
        report
    }

    async fn probe_stdio(
        &self,
        target: &ProbeTarget,
        command: &str,
        args: &[String],
        entry_env: &BTreeMap<String, String>,
    ) -> ProbeReport {
        let client = target.client.client().name;
        let os = self.host.os;
        let env = server_environment(target.client, os, &self.host.vars, entry_env);
        let reinstall = "run `tandem install` again".to_string();
        let program = Path::new(command);
        let resolved = if program.is_absolute() {
            if !program.is_file() {
                return ProbeReport::failed(
                    Duration::ZERO,
                    format!("the binary at {command} no longer exists"),
                    reinstall,
                );
            }
            program.to_path_buf()
        } else {
            let path = env
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("PATH"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            match which::which_in(command, Some(&path), &self.host.home) {
                Ok(found) => found,
                Err(_) => {
                    return ProbeReport::failed(
                        Duration::ZERO,
                        format!(
                            "{command:?} is not on the PATH that {client} gives servers \
                             ({path})"
                        ),
                        format!("use an absolute path: {reinstall}"),
                    );
                }
            }
        };

        let mut cmd = tokio::process::Command::new(&resolved);
        cmd.args(args).env_clear().envs(&env).kill_on_drop(true);
        if let Some(cwd) = server_cwd(target.client, os) {
            cmd.current_dir(cwd);
        }
        let started = Instant::now();
        let spawned = TokioChildProcess::builder(cmd)
            .stderr(Stdio::piped())
            .spawn();
        let (transport, stderr) = match spawned {
            Ok(parts) => parts,
            Err(e) => {
                return ProbeReport::failed(
                    started.elapsed(),
                    format!("could not start {command}: {e}"),
                    format!("check that it is an executable file, or {reinstall}"),
                );
            }
        };
        let captured = Arc::new(Mutex::new(Vec::<u8>::new()));
        let reader = stderr.map(|mut stderr| {
            let captured = captured.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut all) = captured.lock() {
                        all.extend_from_slice(&buf[..n]);
                        let excess = all.len().saturating_sub(TAIL_BYTES * 4);
                        all.drain(..excess);
                    }
                }
            })
        });

        let mut report = self.drive(transport, started).await;
        if !report.passed() {
            report.fix = Some(reinstall.clone());
        }
        if let Some(reader) = reader {
            // The process is gone or going: what it wrote is the reason.
            let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
        }
        let text = captured
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        report.stderr_tail = tail(&text, 40);
        if !report.passed() {
            report.fix = Some(failure_fix(command, args, &report.stderr_tail, client));
        }
        report
    }
}

impl ChildProbe {
    /// Completes `initialize` + `tools/list` over `transport`; a failure's fix is left to the
    /// caller, who knows what was started.
    async fn drive<T, E, A>(&self, transport: T, started: Instant) -> ProbeReport
    where
        T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("tandem-doctor", env!("CARGO_PKG_VERSION")),
        );
        let session = tokio::time::timeout(self.timeout, async {
            let service = info.serve(transport).await.map_err(|e| e.to_string())?;
            let tools = service.list_all_tools().await;
            Ok::<_, String>((service, tools))
        })
        .await;
        let latency = started.elapsed();
        let mut report = ProbeReport::failed(latency, String::new(), String::new());
        match session {
            Ok(Ok((service, Ok(tools)))) => {
                report.server = service.peer_info().and_then(|i| {
                    let s = i.server_info.as_ref()?;
                    Some(format!("{} {}", s.name, s.version))
                });
                report.tools = tools.iter().map(|t| t.name.to_string()).collect();
                if report.tools.is_empty() {
                    report.detail = "it answered initialize but lists no tools".into();
                } else {
                    report.outcome = ProbeOutcome::Passed;
                    report.fix = None;
                    report.detail = format!(
                        "initialize + tools/list in {} ms, {} tools",
                        latency.as_millis(),
                        report.tools.len()
                    );
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), service.cancel()).await;
            }
            Ok(Ok((service, Err(e)))) => {
                report.detail = format!("it answered initialize, then tools/list failed: {e}");
                let _ = tokio::time::timeout(Duration::from_secs(5), service.cancel()).await;
            }
            Ok(Err(e)) => {
                report.detail = format!("it did not complete initialize: {e}");
            }
            Err(_) => {
                report.detail = format!(
                    "no answer to initialize + tools/list within {} s",
                    self.timeout.as_secs()
                );
            }
        }
        report
    }

    /// Connects to an HTTP entry as its client would (the entry's URL and headers) and
    /// drives it through `initialize` + `tools/list`. For Tandem's hub, whether anything
    /// listens is checked first, so that a hub that is not running is said plainly.
    async fn probe_http(
        &self,
        target: &ProbeTarget,
        url: &str,
        headers: &BTreeMap<String, String>,
    ) -> ProbeReport {
        let reinstall = "run `tandem install --transport http` again".to_string();
        let hub_port = entry::hub_port(url);
        if let Some(port) = hub_port
            && !hub_listening(port, crate::hub::CONNECT_TIMEOUT).await
        {
            return ProbeReport::failed(
                Duration::ZERO,
                format!("the hub is not running: nothing listens on 127.0.0.1:{port}"),
                format!(
                    "start it with `tandem serve --port {port}` (or open the Tandem app), \
                     then run `tandem doctor` again"
                ),
            );
        }
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let value = expand(target.client, value, &self.host.vars);
            let parsed = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(&value),
            );
            let (Ok(name), Ok(mut value)) = parsed else {
                return ProbeReport::failed(
                    Duration::ZERO,
                    format!("the header {name:?} in the entry is not a valid HTTP header"),
                    reinstall,
                );
            };
            value.set_sensitive(true);
            map.insert(name, value);
        }
        // TLS for remote servers, as the bridge sets it up.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = match reqwest::Client::builder()
            .default_headers(map)
            .connect_timeout(crate::hub::CONNECT_TIMEOUT)
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                return ProbeReport::failed(
                    Duration::ZERO,
                    format!("setting up HTTP: {e}"),
                    "run `tandem doctor` again".into(),
                );
            }
        };
        let transport = StreamableHttpClientTransport::with_client(
            http,
            StreamableHttpClientTransportConfig::with_uri(url.to_string()),
        );
        let started = Instant::now();
        let mut report = self.drive(transport, started).await;
        if !report.passed() {
            let refused = ["401", "403", "Unauthorized", "Auth", "auth"]
                .iter()
                .any(|m| report.detail.contains(m));
            report.fix = Some(match (hub_port, refused) {
                (Some(_), true) => format!(
                    "the hub refused the token in this entry (hub.token changed?): {reinstall}"
                ),
                (Some(port), false) => format!(
                    "see the hub's log in Tandem's logs folder; restart it with `tandem serve \
                     --port {port}`, or {reinstall}"
                ),
                (None, _) => {
                    format!("check that {url} is up and that the entry's headers are right")
                }
            });
        }
        report
    }
}

/// Whether a Tandem hub answers `GET /health` on 127.0.0.1:`port` (whatever it serves).
pub fn hub_running(port: u16) -> bool {
    crate::hub::HubReport::check(port).is_up()
}

/// Whether something accepts connections on 127.0.0.1:`port`.
async fn hub_listening(port: u16, timeout: Duration) -> bool {
    let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
    matches!(tokio::time::timeout(timeout, connect).await, Ok(Ok(_)))
}

/// A header value as `client` sends it: `${VAR}` (or `${env:VAR}`) replaced from the
/// client's environment where the client expands variables.
fn expand(client: ClientId, value: &str, vars: &BTreeMap<String, String>) -> String {
    let syntax = client.client().env_syntax;
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let inner = &after[..end];
        let var = match syntax {
            EnvSyntax::Dollar => Some(inner),
            EnvSyntax::DollarEnv => inner.strip_prefix("env:"),
            EnvSyntax::None | EnvSyntax::CodexKeys => None,
        };
        match var {
            Some(var) => out.push_str(vars.get(var).map(String::as_str).unwrap_or("")),
            None => out.push_str(&rest[at..at + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

impl Probe for ChildProbe {
    fn probe_each(&self, targets: &[ProbeTarget]) -> Vec<ProbeReport> {
        self.probe_all(targets)
    }

    fn probe(&self, target: &ProbeTarget) -> ProbeReport {
        self.probe_all(std::slice::from_ref(target))
            .pop()
            .unwrap_or_else(|| {
                ProbeReport::failed(
                    Duration::ZERO,
                    "no report".into(),
                    "run `tandem doctor` again".into(),
                )
            })
    }
}

/// What to do about a server that started but did not answer, from what it said.
fn failure_fix(command: &str, args: &[String], stderr: &str, client: &str) -> String {
    let line = std::iter::once(command.to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if stderr.contains("unrecognized subcommand") || stderr.contains("unexpected argument") {
        return format!(
            "the binary at {command} does not know `{}`: it is older than the entry; run \
             `tandem install` again with the current tandem",
            args.join(" ")
        );
    }
    if args.first().is_some_and(|a| a == crate::reach::BRIDGE_ARG) {
        let url = args.get(1).map(String::as_str).unwrap_or("its URL");
        let start = if entry::hub_port(url).is_some() {
            "Tandem's hub: start it with `tandem serve` (or open the Tandem app)"
        } else {
            "that server: check that it is up"
        };
        return format!(
            "the bridge could not reach {url}; it is {start}, then run `tandem doctor` again"
        );
    }
    if stderr.contains("memory database") || stderr.contains("not a database") {
        return "the server could not open Tandem's state (see its stderr); fix or move the \
                file it names, then run `tandem doctor` again"
            .to_string();
    }
    format!(
        "see the server's stderr; to reproduce, run `{line}` with the environment {client} \
         gives it, or run `tandem install` again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn claude_desktop_gives_servers_a_trimmed_environment() {
        let parent = vars(&[
            ("HOME", "/home/ann"),
            ("USER", "ann"),
            ("PATH", "/home/ann/.cargo/bin:/usr/bin"),
            ("TANDEM_HOME", "/elsewhere"),
            ("SECRET_TOKEN", "x"),
            ("TERM", "xterm"),
        ]);
        let entry = vars(&[("TANDEM_HOME", "/state")]);
        let env = server_environment(ClientId::ClaudeDesktop, Os::Linux, &parent, &entry);
        assert_eq!(
            env,
            vars(&[
                ("HOME", "/home/ann"),
                ("PATH", "/usr/local/bin:/usr/bin:/bin"),
                ("TANDEM_HOME", "/state"),
                ("USER", "ann"),
            ])
        );
        let env = server_environment(ClientId::ClaudeDesktop, Os::MacOs, &parent, &entry);
        assert_eq!(env["PATH"], "/usr/bin:/bin:/usr/sbin:/sbin");
    }

    #[test]
    fn claude_desktop_on_windows_strips_appdata_and_the_entry_restores_it() {
        let parent = vars(&[
            ("APPDATA", r"C:\Users\ann\AppData\Roaming"),
            ("Path", r"C:\Windows"),
            ("SystemRoot", r"C:\Windows"),
            ("USERPROFILE", r"C:\Users\ann"),
        ]);
        let env = server_environment(ClientId::ClaudeDesktop, Os::Windows, &parent, &vars(&[]));
        assert_eq!(
            env,
            vars(&[("Path", r"C:\Windows"), ("SystemRoot", r"C:\Windows")])
        );
        let entry = vars(&[("APPDATA", r"C:\A"), ("PATH", r"C:\Tandem")]);
        let env = server_environment(ClientId::ClaudeDesktop, Os::Windows, &parent, &entry);
        assert_eq!(env["APPDATA"], r"C:\A");
        assert_eq!(env["PATH"], r"C:\Tandem");
        assert!(!env.contains_key("Path"));
    }

    #[test]
    fn command_line_clients_pass_their_environment_on() {
        let parent = vars(&[("PATH", "/mine"), ("A", "1")]);
        let entry = vars(&[("A", "2")]);
        let env = server_environment(ClientId::ClaudeCode, Os::Linux, &parent, &entry);
        assert_eq!(env, vars(&[("A", "2"), ("PATH", "/mine")]));
    }

    #[test]
    fn tails_keep_the_last_lines() {
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        assert_eq!(tail(&text, 2), "line 49\nline 50");
        let long = "é".repeat(3000);
        assert!(tail(&long, 5).len() <= TAIL_BYTES);
    }

    #[test]
    fn desktop_logs_are_read_from_the_log_folder() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostEnv::new(Os::Linux, dir.path());
        assert_eq!(desktop_log_tail(&host, "tandem-memory"), None);
        let logs = dir.path().join(".config/Claude/logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(
            logs.join("mcp-server-tandem-memory.log"),
            "a\n[tandem-memory] [info] Server started and connected successfully\n",
        )
        .unwrap();
        let tail = desktop_log_tail(&host, "tandem-memory").unwrap();
        assert!(tail.ends_with("connected successfully"), "{tail}");
    }

    #[test]
    fn a_missing_binary_fails_without_starting_anything_and_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let probe = ChildProbe::new(HostEnv::new(Os::current(), dir.path()));
        let missing = dir.path().join("gone").join("tandem");
        let target = ProbeTarget {
            client: ClientId::ClaudeDesktop,
            config_path: dir.path().join("c.json"),
            name: "tandem-memory".into(),
            entry: ServerEntry::Stdio {
                command: missing.to_string_lossy().into_owned(),
                args: vec!["mcp".into(), "memory".into()],
                env: BTreeMap::new(),
            },
        };
        let report = probe.probe(&target);
        assert_eq!(report.outcome, ProbeOutcome::Failed);
        assert!(report.detail.contains("no longer exists"), "{report:?}");
        assert_eq!(report.fix.as_deref(), Some("run `tandem install` again"));
    }

    #[cfg(unix)]
    #[test]
    fn a_server_that_exits_is_reported_with_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let probe = ChildProbe::new(HostEnv::new(Os::current(), dir.path()))
            .with_timeout(Duration::from_secs(10));
        let target = ProbeTarget {
            client: ClientId::ClaudeCode,
            config_path: dir.path().join("c.json"),
            name: "tandem-memory".into(),
            entry: ServerEntry::Stdio {
                command: "/bin/sh".into(),
                args: vec!["-c".into(), "echo 'error: boom' >&2; exit 3".into()],
                env: BTreeMap::new(),
            },
        };
        let report = probe.probe(&target);
        assert_eq!(report.outcome, ProbeOutcome::Failed);
        assert!(report.stderr_tail.contains("error: boom"), "{report:?}");
        assert!(report.fix.is_some());
    }
}
