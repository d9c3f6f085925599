//! A `tandem serve` hub process, ports, and what a hub says it serves.

use std::{process::Stdio, time::Duration};

use serde_json::Value;
use tokio::process::Child;

use crate::*;

/// A `tandem serve` process on a free loopback port, killed when dropped.
pub struct HubProcess {
    pub child: Child,
    pub port: u16,
    pub token: Option<String>,
}

impl HubProcess {
    /// Starts the hub (with its token unless `no_auth`) and waits until `/health` answers.
    pub async fn start(home: &TestHome, no_auth: bool) -> Self {
        Self::start_on(home, free_port(), no_auth).await
    }

    pub async fn start_on(home: &TestHome, port: u16, no_auth: bool) -> Self {
        let port_arg = port.to_string();
        let mut args = vec!["serve", "--port", &port_arg];
        if no_auth {
            args.push("--no-auth");
        }
        let child = home
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tandem serve");
        let hub = Self {
            child,
            port,
            token: None,
        };
        hub.wait_healthy().await;
        let token = (!no_auth).then(|| {
            std::fs::read_to_string(home.tandem_home().join("hub.token"))
                .expect("hub.token")
                .trim()
                .to_string()
        });
        Self { token, ..hub }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/health` until it answers (the hub is up) or 20 s pass.
    pub async fn wait_healthy(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            let health = http().get(format!("{}/health", self.base())).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the hub on port {} did not come up", self.port);
    }

    /// Sends SIGTERM (a supervisor's stop) and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the hub did not stop after SIGTERM")
            .expect("wait")
    }

    /// Kills the process outright.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// An HTTP client for the tests (plain HTTP on loopback; TLS set up as the binary does).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// What the hub on `port` says it serves (`serves` in its `/health`), or `Null`.
pub async fn hub_serves(port: u16) -> Value {
    let reply = http()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await;
    match reply {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .map(|h| h["serves"].clone())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}
