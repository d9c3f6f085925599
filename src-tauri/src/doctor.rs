//! Doctor probes from the app: every configured Tandem entry is started as its client would
//! start it and must answer `initialize` and `tools/list`. Runs at start and every 5 minutes on
//! its own thread (never the UI's), and when the person asks.

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::{Value, json};
use tandem_clients::{
    ClientId, Installer, Scope, ServerEntry,
    probe::{Probe, ProbeReport, ProbeTarget},
};

/// How long an entry gets to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
const STDERR_TAIL: usize = 2000;

/// One probed entry, as the Health view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub client: String,
    pub name: String,
    pub passed: bool,
    pub latency_ms: u64,
    pub detail: String,
    /// When it ran (RFC 3339, UTC).
    pub at: String,
}

/// Probes every Tandem entry in every client's user config.
pub fn run_all(installer: &Installer, probe: &dyn Probe) -> Vec<Check> {
    let mut checks = Vec::new();
    for id in ClientId::ALL {
        let targets = match installer.probe_targets(id, &Scope::User) {
            Ok(t) => t,
            Err(e) => {
                log::debug!("no probe targets for {id}: {e}");
                continue;
            }
        };
        for target in targets {
            let report = probe.probe(&target);
            checks.push(Check {
                client: id.as_str().to_string(),
                name: target.name.clone(),
                passed: report.passed,
                latency_ms: u64::try_from(report.latency.as_millis()).unwrap_or(u64::MAX),
                detail: report.detail,
                at: tandem_store::memory::now_rfc3339(),
            });
        }
    }
    checks
}

/// Starts a stdio entry and speaks MCP to it over its stdin/stdout, one JSON message a line.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdioProbe;

impl Probe for StdioProbe {
    fn probe(&self, target: &ProbeTarget) -> ProbeReport {
        let started = Instant::now();
        let report = |passed: bool, detail: String, stderr_tail: String| ProbeReport {
            passed,
            latency: started.elapsed(),
            detail,
            stderr_tail,
        };
        let ServerEntry::Stdio { command, args, env } = &target.entry else {
            return report(
                true,
                "an HTTP entry: the hub's own check covers it".into(),
                String::new(),
            );
        };
        let mut child = match Command::new(command)
            .args(args)
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                return report(
                    false,
                    format!("{command} could not be started ({e}); connect the client again"),
                    String::new(),
                );
            }
        };
        let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return report(false, "no pipes to the server".into(), String::new());
        };
        let (tx, rx) = mpsc::channel::<Value>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            let text = String::from_utf8_lossy(&buf).into_owned();
            let cut = text.len().saturating_sub(STDERR_TAIL);
            let start = (cut..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            text[start..].to_string()
        });
        let deadline = started + TIMEOUT;
        let mut send = |msg: Value| writeln!(stdin, "{msg}").and_then(|_| stdin.flush());
        let outcome = (|| -> Result<String, String> {
            send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "tandem-doctor", "version": env!("CARGO_PKG_VERSION")}
            }}))
            .map_err(|e| format!("the server exited before it answered ({e})"))?;
            let init = wait_reply(&rx, 1, deadline)?;
            let server = init["result"]["serverInfo"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .and_then(|_| {
                    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}))
                })
                .map_err(|e| format!("the server exited before it answered ({e})"))?;
            let tools = wait_reply(&rx, 2, deadline)?;
            let count = tools["result"]["tools"].as_array().map_or(0, Vec::len);
            if count == 0 {
                return Err("the server lists no tools".into());
            }
            Ok(format!("{server} answered with {count} tools"))
        })();
        let latency = started.elapsed();
        drop(send);
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        let stderr_tail = err_reader.join().unwrap_or_default();
        match outcome {
            Ok(detail) => ProbeReport {
                passed: true,
                latency,
                detail,
                stderr_tail,
            },
            Err(why) => ProbeReport {
                passed: false,
                latency,
                detail: format!("{why}; see the server's log, or connect the client again"),
                stderr_tail,
            },
        }
    }
}

fn wait_reply(rx: &mpsc::Receiver<Value>, id: i64, deadline: Instant) -> Result<Value, String> {
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .ok_or_else(|| format!("no answer within {} s", TIMEOUT.as_secs()))?;
        let msg = rx.recv_timeout(left).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => {
                format!("no answer within {} s", TIMEOUT.as_secs())
            }
            mpsc::RecvTimeoutError::Disconnected => "the server exited".to_string(),
        })?;
        if msg["id"] == id {
            if let Some(err) = msg.get("error") {
                return Err(format!("the server answered with an error: {err}"));
            }
            return Ok(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, path::PathBuf};

    use super::*;

    fn target(command: &str, args: &[&str]) -> ProbeTarget {
        ProbeTarget {
            client: ClientId::ClaudeCode,
            config_path: PathBuf::from("/h/.claude.json"),
            name: "tandem-memory".into(),
            entry: ServerEntry::Stdio {
                command: command.into(),
                args: args.iter().map(|s| s.to_string()).collect(),
                env: BTreeMap::new(),
            },
        }
    }

    #[test]
    fn a_missing_binary_fails_with_what_to_do() {
        let r = StdioProbe.probe(&target("/nonexistent/tandem", &["mcp", "memory"]));
        assert!(!r.passed);
        assert!(r.detail.contains("could not be started"), "{}", r.detail);
    }

    #[test]
    fn a_server_that_exits_fails_with_its_stderr() {
        let r = StdioProbe.probe(&target("sh", &["-c", "echo broken config >&2; exit 1"]));
        assert!(!r.passed);
        assert!(r.detail.contains("exited"), "{}", r.detail);
        assert!(r.stderr_tail.contains("broken config"));
    }

    #[test]
    fn a_server_that_answers_passes() {
        // A stand-in MCP server: answers initialize and tools/list from a script.
        let script = r#"read a; echo '{"jsonrpc":"2.0","id":1,"result":{"serverInfo":{"name":"fake"}}}';
            read b; read c; echo '{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t"}]}}'; exec sleep 5"#;
        let r = StdioProbe.probe(&target("sh", &["-c", script]));
        assert!(r.passed, "{r:?}");
        assert_eq!(r.detail, "fake answered with 1 tools");
        assert!(r.latency < Duration::from_secs(5), "the server is not waited for");
    }
}
