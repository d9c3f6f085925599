//! What answers on a hub's port: nothing, something that is not a Tandem hub, or a Tandem hub
//! with the folders and store it serves (its `/health`). One check for the CLI's status lines,
//! the app's supervisor and its Health view, so that a hub left running by another
//! installation or an older version is never taken for this one.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use serde::Deserialize;
use tandem_store::{Home, Served};

/// How long a connection to a local hub may take: it answers in microseconds when it runs.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The most of a `/health` answer that is read.
const MAX_REPLY: u64 = 64 * 1024;

/// A Tandem hub's `/health`, as far as a supervisor needs it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubHealth {
    pub status: String,
    pub version: String,
    #[serde(default)]
    pub pid: Option<u32>,
    /// What it serves; `None` from hubs older than the report.
    #[serde(default)]
    pub serves: Option<Served>,
}

/// What answers on 127.0.0.1:`port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubReport {
    /// Nothing accepts connections there.
    Down,
    /// Something answers, but not as a Tandem hub.
    NotTandem,
    Up(HubHealth),
}

impl HubReport {
    /// Asks `GET /health` on 127.0.0.1:`port` (blocking, bounded by [`CONNECT_TIMEOUT`]).
    pub fn check(port: u16) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) else {
            return Self::Down;
        };
        let _ = stream.set_read_timeout(Some(CONNECT_TIMEOUT));
        let _ = stream.set_write_timeout(Some(CONNECT_TIMEOUT));
        let request =
            format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_err() {
            return Self::NotTandem;
        }
        let mut reply = Vec::new();
        let _ = stream.take(MAX_REPLY).read_to_end(&mut reply);
        Self::parse(&reply)
    }

    fn parse(reply: &[u8]) -> Self {
        let Some(split) = reply.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Self::NotTandem;
        };
        if !reply.starts_with(b"HTTP/1.1 200") {
            return Self::NotTandem;
        }
        match serde_json::from_slice(&reply[split + 4..]) {
            Ok(health) => Self::Up(health),
            Err(_) => Self::NotTandem,
        }
    }

    /// A Tandem hub answers (whatever it serves).
    pub fn is_up(&self) -> bool {
        matches!(self, Self::Up(_))
    }

    /// A Tandem hub answers and serves `home`'s folders and store.
    pub fn serves(&self, home: &Home) -> bool {
        match self {
            Self::Up(h) => h.serves.as_ref().is_some_and(|s| s.same_as(&home.served())),
            _ => false,
        }
    }

    /// Why the hub on `port` is not this installation's, for a person; `None` when it is, or
    /// when nothing is there.
    pub fn stale(&self, home: &Home, port: u16) -> Option<String> {
        let Self::Up(h) = self else {
            return match self {
                Self::NotTandem => Some(format!(
                    "something that is not a Tandem hub answers on 127.0.0.1:{port}: stop it, \
                     or run the hub on another port (TANDEM_HUB_PORT)"
                )),
                _ => None,
            };
        };
        if self.serves(home) {
            return None;
        }
        let pid = h.pid.map(|p| format!(", pid {p}")).unwrap_or_default();
        let what = match &h.serves {
            Some(s) => format!(
                "serves the shared folder {} and the store {}",
                s.shared_dir.display(),
                s.store
            ),
            None => "does not say which folders it serves (an older version)".to_string(),
        };
        Some(format!(
            "the Tandem hub on 127.0.0.1:{port} (version {}{pid}) {what}, not this \
             installation's shared folder {} and store {}: quit it (it may be left from an \
             older version) and Tandem starts its own",
            h.version,
            home.shared_dir().display(),
            home.served().store
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn a_hub_serving_other_folders_is_stale_and_says_what_it_serves() {
        let home = Home::at("/s/state");
        let ours = serde_json::to_string(&home.served()).unwrap();
        let mine = HubReport::parse(&reply(&format!(
            r#"{{"status":"ok","version":"0.1.0","pid":7,"serves":{ours}}}"#
        )));
        assert!(mine.serves(&home));
        assert_eq!(mine.stale(&home, 7411), None);
        let other = HubReport::parse(&reply(
            r#"{"status":"ok","version":"0.1.0","pid":9,"serves":{"stateDir":"/o","sharedDir":"/o/shared","store":"/o/memory.db"}}"#,
        ));
        assert!(other.is_up() && !other.serves(&home));
        let why = other.stale(&home, 7411).unwrap();
        assert!(why.contains("/o/shared") && why.contains("pid 9"), "{why}");
        assert!(why.contains("/s/state/shared"), "{why}");
        let old = HubReport::parse(&reply(r#"{"status":"ok","version":"0.0.9"}"#));
        assert!(old.stale(&home, 7411).unwrap().contains("older version"));
        assert_eq!(
            HubReport::parse(b"HTTP/1.1 404 Not Found\r\n\r\n"),
            HubReport::NotTandem
        );
        assert_eq!(HubReport::parse(&reply("<html>")), HubReport::NotTandem);
    }
}
