//! Third-party MCP servers shared between clients (`tandem share`): each is declared once in
//! `$TANDEM_HOME/shares.json` (private, replaced atomically), with the clients it was
//! installed into; the installer renders it into every client in that client's own shape
//! (an HTTP entry, or `tandem connect` for clients that only start stdio servers).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use tandem_store::Home;

use crate::{
    catalog::ClientId,
    entry::{NamedEntry, ServerEntry},
    error::{ClientsError, Result},
    writer,
};

const VERSION: u32 = 1;
/// Longest name accepted: clients prefix tool names with the server's name, and some cap
/// the whole at 64 characters.
pub const MAX_NAME_LEN: usize = 48;

/// A shared server, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "transport", rename_all = "lowercase")]
pub enum SharedServer {
    /// A streamable-HTTP server. Header values may be written `env:VAR` (or `Bearer env:VAR`).
    Http {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    /// A command each client starts itself.
    Stdio {
        command: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
    },
}

impl SharedServer {
    pub fn entry(&self) -> ServerEntry {
        match self.clone() {
            SharedServer::Http { url, headers } => ServerEntry::Http { url, headers },
            SharedServer::Stdio { command, args, env } => ServerEntry::Stdio { command, args, env },
        }
    }

    /// One line for a person: the URL, or the command line.
    pub fn describe(&self) -> String {
        match self {
            SharedServer::Http { url, .. } => url.clone(),
            SharedServer::Stdio { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// One declaration in `shares.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub server: SharedServer,
    /// The clients whose config holds the server (`claude-code`, `cursor`, …).
    #[serde(default)]
    pub clients: Vec<String>,
    /// When it was first declared (RFC 3339, UTC).
    #[serde(default)]
    pub added: String,
}

impl Share {
    pub fn new(server: SharedServer) -> Self {
        Self {
            server,
            clients: Vec::new(),
            added: tandem_store::memory::now_rfc3339(),
        }
    }

    pub fn named_entry(&self, name: &str) -> NamedEntry {
        NamedEntry::new(name, self.server.entry())
    }

    /// The clients it is installed into, in catalogue order (unknown ids are skipped).
    pub fn client_ids(&self) -> Vec<ClientId> {
        let mut ids: Vec<ClientId> = self.clients.iter().filter_map(|c| c.parse().ok()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Adds or drops one client from the installed list.
    pub fn set_installed(&mut self, id: ClientId, installed: bool) {
        let mut ids = self.client_ids();
        ids.retain(|c| *c != id);
        if installed {
            ids.push(id);
            ids.sort();
        }
        self.clients = ids.into_iter().map(|c| c.to_string()).collect();
    }
}

/// Checks a shared server's name: every client must accept it (Codex allows letters, digits,
/// `-` and `_` only), and `tandem-*` names are Tandem's own.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| ClientsError::ShareName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("give it a name"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(&format!(
            "names are at most {MAX_NAME_LEN} characters"
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "use letters, digits, '-' and '_' only (Codex accepts nothing else)",
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower == "tandem" || lower.starts_with("tandem-") || lower.starts_with("tandem_") {
        return Err(invalid("tandem-* names are Tandem's own"));
    }
    Ok(())
}

/// Parses a `Name: value` header argument.
pub fn parse_header(arg: &str) -> Result<(String, String)> {
    let invalid = |reason: &str| ClientsError::ShareHeader {
        header: arg.to_string(),
        reason: reason.to_string(),
    };
    let (name, value) = arg
        .split_once(':')
        .ok_or_else(|| invalid("write it as 'Name: value'"))?;
    let name = name.trim();
    let value = value.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(invalid(
            "the name must be letters, digits or -_.!#$%&'*+^`|~",
        ));
    }
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err(invalid("the value must be non-empty printable text"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Parses a `KEY=value` environment argument.
pub fn parse_env(arg: &str) -> Result<(String, String)> {
    let invalid = |reason: &str| ClientsError::ShareEnv {
        env: arg.to_string(),
        reason: reason.to_string(),
    };
    let (key, value) = arg
        .split_once('=')
        .ok_or_else(|| invalid("write it as KEY=value"))?;
    let ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(invalid("the key must be letters, digits and '_'"));
    }
    Ok((key.to_string(), value.to_string()))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SharesFile {
    version: u32,
    #[serde(default)]
    shares: BTreeMap<String, Share>,
}

/// `$TANDEM_HOME/shares.json`, read and replaced as a whole (it is small).
#[derive(Debug, Clone)]
pub struct Shares {
    path: PathBuf,
}

impl Shares {
    pub fn new(home: &Home) -> Self {
        Self {
            path: home.shares_file(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unreadable(&self, reason: impl ToString) -> ClientsError {
        ClientsError::SharesFile {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    fn read(&self) -> Result<(Option<Vec<u8>>, SharesFile)> {
        let bytes = writer::read(&self.path)?;
        let file = match &bytes {
            None => SharesFile {
                version: VERSION,
                shares: BTreeMap::new(),
            },
            Some(b) => serde_json::from_slice(b).map_err(|e| self.unreadable(e))?,
        };
        Ok((bytes, file))
    }

    /// Every declaration, by name.
    pub fn load(&self) -> Result<BTreeMap<String, Share>> {
        Ok(self.read()?.1.shares)
    }

    pub fn get(&self, name: &str) -> Result<Option<Share>> {
        Ok(self.load()?.remove(name))
    }

    /// Changes one declaration (`None` drops it): the file is re-read, changed and replaced
    /// atomically (private to the person), again if another Tandem changed it meanwhile.
    pub fn update(
        &self,
        name: &str,
        change: impl Fn(Option<Share>) -> Option<Share>,
    ) -> Result<()> {
        for _ in 0..20 {
            let (before, mut file) = self.read()?;
            if let Some(share) = change(file.shares.remove(name)) {
                file.shares.insert(name.to_string(), share);
            }
            file.version = VERSION;
            let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| self.unreadable(e))?;
            bytes.push(b'\n');
            if before.as_deref() == Some(&bytes[..]) {
                return Ok(());
            }
            match writer::swap(&self.path, before.as_deref(), Some(&bytes), None, |_| true)? {
                writer::Swap::Done { .. } => {
                    writer::make_private(&self.path)?;
                    return Ok(());
                }
                writer::Swap::Changed | writer::Swap::Overwritten { .. } => continue,
            }
        }
        Err(self.unreadable("it kept changing while Tandem updated it"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_suit_every_client_and_not_be_tandems() {
        for ok in ["search", "brave-search", "web_2", "A1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "tandem-x",
            "Tandem_search",
            "tandem",
            "a.b",
            "a b",
            "é",
            &"x".repeat(49),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers_and_env_are_parsed_strictly() {
        assert_eq!(
            parse_header("x-api-key: env:KEY").unwrap(),
            ("x-api-key".into(), "env:KEY".into())
        );
        assert_eq!(
            parse_header("Authorization:Bearer abc").unwrap(),
            ("Authorization".into(), "Bearer abc".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: v").is_err());
        assert!(parse_header("x:").is_err());
        assert_eq!(parse_env("A_1=x=y").unwrap(), ("A_1".into(), "x=y".into()));
        assert!(parse_env("1A=x").is_err());
        assert!(parse_env("A").is_err());
    }

    #[test]
    fn declarations_round_trip_privately() {
        let dir = tempfile::tempdir().unwrap();
        let shares = Shares::new(&Home::at(dir.path()));
        assert!(shares.load().unwrap().is_empty());
        let server = SharedServer::Http {
            url: "https://search.example/mcp".into(),
            headers: BTreeMap::from([("x-api-key".into(), "env:KEY".into())]),
        };
        shares
            .update("search", |_| {
                let mut s = Share::new(server.clone());
                s.set_installed(ClientId::Cursor, true);
                s.set_installed(ClientId::ClaudeCode, true);
                Some(s)
            })
            .unwrap();
        let got = shares.get("search").unwrap().unwrap();
        assert_eq!(got.server, server);
        assert_eq!(got.clients, ["claude-code", "cursor"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(shares.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        shares.update("search", |_| None).unwrap();
        assert!(shares.load().unwrap().is_empty());
        std::fs::write(shares.path(), "{oops").unwrap();
        assert!(matches!(
            shares.load(),
            Err(ClientsError::SharesFile { .. })
        ));
    }
}
