//! How a client reaches a server: it starts it over stdio, it starts `tandem connect` (the
//! bridge that Claude Desktop needs to reach an HTTP server), or it speaks HTTP itself. The one
//! place that tells them apart, and the one place that builds Tandem's entries for each way, so
//! that the CLI, the app and the status all agree.

use std::path::Path;

use tandem_store::Home;

use crate::{
    entry::{self, NamedEntry, ServerEntry, tandem_bridge_entries, tandem_entries},
    host::HostEnv,
    status::ClientStatus,
};

/// The first argument of a bridge entry (`tandem connect URL --header …`).
pub const BRIDGE_ARG: &str = "connect";

/// How an entry reaches its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The client starts the command and talks over its stdin and stdout.
    Stdio,
    /// The client starts `tandem connect URL`, which forwards to the HTTP server at `URL`.
    Bridge(String),
    /// The client connects to the URL itself.
    Http(String),
}

impl ServerEntry {
    pub fn reach(&self) -> Reach {
        match self {
            ServerEntry::Stdio { args, .. } if args.first().is_some_and(|a| a == BRIDGE_ARG) => {
                Reach::Bridge(args.get(1).cloned().unwrap_or_default())
            }
            ServerEntry::Stdio { .. } => Reach::Stdio,
            ServerEntry::Http { url, .. } => Reach::Http(url.clone()),
        }
    }
}

impl Reach {
    /// `stdio`, `bridge` or `http`, as `tandem status --json` names it.
    pub fn transport(&self) -> &'static str {
        match self {
            Reach::Stdio => "stdio",
            Reach::Bridge(_) => "bridge",
            Reach::Http(_) => "http",
        }
    }

    /// The HTTP server's URL, for the bridge and HTTP.
    pub fn url(&self) -> Option<&str> {
        match self {
            Reach::Stdio => None,
            Reach::Bridge(url) | Reach::Http(url) => Some(url),
        }
    }

    /// The port of Tandem's hub, when the URL is one of its endpoints.
    pub fn hub_port(&self) -> Option<u16> {
        self.url().and_then(entry::hub_port)
    }

    /// How it reaches the server, for a person; nothing for plain stdio.
    pub fn describe(&self) -> Option<String> {
        match self {
            Reach::Stdio => None,
            Reach::Bridge(url) => Some(format!("via tandem connect to {url}")),
            Reach::Http(url) => Some(format!("HTTP, {url}")),
        }
    }

    /// The same way of reaching, with the hub's base URL (`http://127.0.0.1:7411/memory` →
    /// `http://127.0.0.1:7411`) in place of the endpoint's; `None` when it has no base.
    fn to_base(&self) -> Option<Reach> {
        let base = |url: &str| {
            url.trim_end_matches('/')
                .rsplit_once('/')
                .map(|(base, _)| base.to_string())
                .filter(|base| base.contains("://"))
        };
        match self {
            Reach::Stdio => Some(Reach::Stdio),
            Reach::Bridge(url) => base(url).map(Reach::Bridge),
            Reach::Http(url) => base(url).map(Reach::Http),
        }
    }
}

impl ClientStatus {
    /// The Tandem plugin, when this client reaches Tandem through it (installed and enabled).
    pub fn through_plugin(&self) -> Option<&crate::plugin::InstalledPlugin> {
        self.plugin.as_ref().filter(|p| p.enabled)
    }

    /// The plugin and Tandem's own entries are both there: the client starts each server twice.
    pub fn doubled(&self) -> bool {
        self.through_plugin().is_some()
            && self.files.iter().any(|f| f.entries.iter().any(|e| e.ours))
    }

    /// How this client reaches Tandem as its files read now: the way of its first Tandem
    /// entry that goes to a hub (with the hub's base URL), else stdio. Connect and Repair keep
    /// it: a client installed with `tandem install --transport http` stays on the hub, and
    /// Claude Desktop's bridge stays a bridge.
    pub fn tandem_reach(&self) -> Reach {
        self.files
            .iter()
            .flat_map(|f| &f.entries)
            .filter(|e| e.ours)
            .filter_map(|e| e.entry.as_ref())
            .filter_map(|e| match e.reach() {
                Reach::Stdio => None,
                hub => hub.to_base(),
            })
            .next()
            .unwrap_or(Reach::Stdio)
    }
}

/// Tandem's two entries (`tandem-workspace`, `tandem-memory`) for a client that reaches Tandem
/// this way: `tandem` itself over stdio, the hub's endpoints at the base URL with `token`, or
/// a bridge to them that reads the token from `home`'s token file each time it starts. Entries
/// carry `TANDEM_HOME` when `home` was given one.
pub fn tandem_entries_for(
    reach: &Reach,
    tandem: &Path,
    host: &HostEnv,
    home: &Home,
    token: &str,
) -> Vec<NamedEntry> {
    match reach {
        Reach::Stdio => tandem_entries(tandem, host, home.explicit_root()),
        Reach::Http(base) => entry::tandem_http_entries(base, token),
        Reach::Bridge(base) => {
            let token_file = home.hub_token();
            let token_file = std::path::absolute(&token_file).unwrap_or(token_file);
            tandem_bridge_entries(tandem, host, home.explicit_root(), base, &token_file)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn an_entry_says_how_it_reaches_its_server() {
        let stdio = ServerEntry::Stdio {
            command: "/t/tandem".into(),
            args: vec!["mcp".into(), "memory".into()],
            env: BTreeMap::new(),
        };
        assert_eq!(stdio.reach(), Reach::Stdio);
        assert_eq!(stdio.reach().describe(), None);
        let bridge = ServerEntry::Stdio {
            command: "/t/tandem".into(),
            args: vec!["connect".into(), "http://127.0.0.1:7411/memory".into()],
            env: BTreeMap::new(),
        };
        let reach = bridge.reach();
        assert_eq!(reach.transport(), "bridge");
        assert_eq!(reach.hub_port(), Some(7411));
        assert_eq!(
            reach.to_base(),
            Some(Reach::Bridge("http://127.0.0.1:7411".into()))
        );
        let http = ServerEntry::Http {
            url: "https://search.example/mcp".into(),
            headers: BTreeMap::new(),
        };
        assert_eq!(http.reach().hub_port(), None);
        assert_eq!(
            http.reach().describe().as_deref(),
            Some("HTTP, https://search.example/mcp")
        );
    }
}
