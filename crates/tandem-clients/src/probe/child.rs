//! Starting or calling an entry as its client would, and judging what came back.

use std::{
    collections::BTreeMap,
    path::Path,
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
    catalog::ClientId,
    entry::{self, ServerEntry},
    host::HostEnv,
};

use super::environment::{desktop_log_tail, expand, server_cwd, server_environment, tail};
use super::{DEFAULT_TIMEOUT, Probe, ProbeOutcome, ProbeReport, ProbeTarget, TAIL_BYTES};

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
    use crate::host::Os;

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
