//! Tandem's own entries: the two servers over stdio, HTTP to a hub, and Desktop's bridge to a
//! hub, and the rules that recognise an entry as Tandem's.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::host::HostEnv;

use super::{MEMORY, NamedEntry, ServerEntry, WORKSPACE, windows_passthrough};

/// Tandem's two stdio entries, `tandem-workspace` and `tandem-memory`, starting `binary` (an
/// absolute path: GUI apps do not get the shell's PATH). On Windows the entries carry the
/// variables GUI clients strip; `tandem_home`, when given, is passed as `TANDEM_HOME`.
pub fn tandem_entries(
    binary: &Path,
    host: &HostEnv,
    tandem_home: Option<&Path>,
) -> Vec<NamedEntry> {
    let mut env = windows_passthrough(host);
    if let Some(home) = tandem_home {
        env.insert(
            tandem_store::paths::HOME_ENV.to_string(),
            home.to_string_lossy().into_owned(),
        );
    }
    [(WORKSPACE, "workspace"), (MEMORY, "memory")]
        .into_iter()
        .map(|(name, role)| {
            NamedEntry::new(
                name,
                ServerEntry::Stdio {
                    command: binary.to_string_lossy().into_owned(),
                    args: vec!["mcp".into(), role.into()],
                    env: env.clone(),
                },
            )
        })
        .collect()
}

/// Tandem's two HTTP entries for a running hub at `base_url` (e.g. `http://127.0.0.1:7345`),
/// sending `token` as a bearer token. `token` may be `env:VAR`.
pub fn tandem_http_entries(base_url: &str, token: &str) -> Vec<NamedEntry> {
    let base = base_url.trim_end_matches('/');
    [(WORKSPACE, "workspace"), (MEMORY, "memory")]
        .into_iter()
        .map(|(name, role)| {
            NamedEntry::new(
                name,
                ServerEntry::Http {
                    url: format!("{base}/{role}"),
                    headers: BTreeMap::from([(
                        "Authorization".to_string(),
                        format!("Bearer {token}"),
                    )]),
                },
            )
        })
        .collect()
}

/// Tandem's two entries for a hub at `base_url`, for clients that only start stdio servers
/// (Claude Desktop): `tandem connect URL --header "Authorization: Bearer file:TOKEN_FILE"`.
/// The bridge reads the token from `token_file` each time it starts, so the client's file
/// names the token's place and never holds the token itself. `tandem_home`, when given, is
/// passed as `TANDEM_HOME` (the bridge logs there).
pub fn tandem_bridge_entries(
    binary: &Path,
    host: &HostEnv,
    tandem_home: Option<&Path>,
    base_url: &str,
    token_file: &Path,
) -> Vec<NamedEntry> {
    let token = format!("file:{}", token_file.to_string_lossy());
    tandem_http_entries(base_url, &token)
        .into_iter()
        .map(|named| {
            let (mut entry, _) = named.entry.bridged(binary, host);
            if let (Some(home), ServerEntry::Stdio { env, .. }) = (tandem_home, &mut entry) {
                env.insert(
                    tandem_store::paths::HOME_ENV.to_string(),
                    home.to_string_lossy().into_owned(),
                );
            }
            NamedEntry::new(named.name, entry)
        })
        .collect()
}

/// The token file a bridge entry reads (`--header "Authorization: Bearer file:PATH"`).
pub fn bridge_token_file(args: &[String]) -> Option<PathBuf> {
    args.windows(2)
        .filter(|w| w[0] == "--header" || w[0] == "-H")
        .find_map(|w| {
            let (name, value) = w[1].split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("authorization") {
                return None;
            }
            let value = value.trim();
            let value = value.strip_prefix("Bearer ").unwrap_or(value).trim();
            value.strip_prefix("file:").map(PathBuf::from)
        })
}

/// The bearer token an HTTP entry sends, when it is written in clear.
pub fn bearer_token(headers: &BTreeMap<String, String>) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Whether an entry is one Tandem writes: a stdio command whose file is the `tandem` binary
/// (`tandem`, `tandem.exe`, or a `tandem-<target-triple>` sidecar) run as `tandem mcp …` or
/// `tandem connect …`, or an HTTP entry for a loopback hub's `/workspace` or `/memory`.
/// Recognising the shape, rather than marking the entry, keeps the client's file free of
/// fields the client does not know.
pub fn is_tandem_entry(entry: &ServerEntry) -> bool {
    match entry {
        ServerEntry::Stdio { command, args, .. } => {
            is_tandem_binary(command)
                && args
                    .first()
                    .is_some_and(|a| a == "mcp" || a == crate::reach::BRIDGE_ARG)
        }
        ServerEntry::Http { url, .. } => is_tandem_hub_url(url),
    }
}

/// Whether `command` names the `tandem` binary (or its bundled sidecar), on any OS.
pub fn is_tandem_binary(command: &str) -> bool {
    let file = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let lower = file.to_ascii_lowercase();
    let stem = lower.strip_suffix(".exe").unwrap_or(&lower);
    if stem == "tandem" {
        return true;
    }
    // Sidecars are named tandem-<target-triple>: at least arch-vendor-os.
    stem.strip_prefix("tandem-")
        .is_some_and(|triple| triple.split('-').filter(|p| !p.is_empty()).count() >= 3)
}

fn is_tandem_hub_url(url: &str) -> bool {
    hub_port(url).is_some()
}

/// The port of a loopback hub URL for `/workspace` or `/memory` (`http://127.0.0.1:7411/memory`
/// → 7411; port 80 when none is given).
pub fn hub_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        (format!("[{host}]"), tail.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let path = path.trim_end_matches('/');
    if !loopback || !matches!(path, "/workspace" | "/memory") {
        return None;
    }
    match port {
        None => Some(80),
        Some(p) => p.parse().ok(),
    }
}

/// Whether the binary an entry starts still exists (for status).
pub(crate) fn command_exists(command: &str) -> bool {
    let path = PathBuf::from(command);
    path.is_absolute() && path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{
        render,
        tests::{http, linux},
    };
    use crate::{catalog::ClientId, host::Os};

    #[test]
    fn windows_entries_carry_the_variables_gui_clients_strip() {
        let mut host = HostEnv::new(Os::Windows, r"C:\Users\ann");
        host.appdata = Some(r"C:\Users\ann\AppData\Roaming".into());
        host.local_appdata = Some(r"C:\Users\ann\AppData\Local".into());
        let entries = tandem_entries(
            Path::new(r"C:\Program Files\Tandem\tandem.exe"),
            &host,
            None,
        );
        let ServerEntry::Stdio { env, command, .. } = &entries[0].entry else {
            panic!("stdio expected");
        };
        assert_eq!(command, r"C:\Program Files\Tandem\tandem.exe");
        assert_eq!(env["APPDATA"], r"C:\Users\ann\AppData\Roaming");
        assert_eq!(env["LOCALAPPDATA"], r"C:\Users\ann\AppData\Local");
        assert_eq!(env["USERPROFILE"], r"C:\Users\ann");
        let linux_entries = tandem_entries(Path::new("/t/tandem"), &linux(), Some(Path::new("/s")));
        let ServerEntry::Stdio { env, .. } = &linux_entries[0].entry else {
            panic!("stdio expected");
        };
        assert_eq!(env.len(), 1);
        assert_eq!(env["TANDEM_HOME"], "/s");
    }

    #[test]
    fn tandem_entries_are_recognised_by_binary_and_arguments() {
        let stdio = |command: &str, args: &[&str]| ServerEntry::Stdio {
            command: command.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: BTreeMap::new(),
        };
        assert!(is_tandem_entry(&stdio(
            "/usr/local/bin/tandem",
            &["mcp", "memory"]
        )));
        assert!(is_tandem_entry(&stdio(
            r"C:\Tandem\TANDEM.EXE",
            &["mcp", "workspace"]
        )));
        assert!(is_tandem_entry(&stdio(
            "/Applications/Tandem.app/Contents/MacOS/tandem-aarch64-apple-darwin",
            &["connect", "http://127.0.0.1:7345/memory"]
        )));
        assert!(!is_tandem_entry(&stdio("/usr/bin/tandem", &["serve"])));
        assert!(!is_tandem_entry(&stdio(
            "/usr/bin/tandem-memory",
            &["mcp", "memory"]
        )));
        assert!(!is_tandem_entry(&stdio("npx", &["-y", "tandem", "mcp"])));
        let http = |url: &str| ServerEntry::Http {
            url: url.into(),
            headers: BTreeMap::new(),
        };
        assert!(is_tandem_entry(&http("http://127.0.0.1:7345/memory")));
        assert!(is_tandem_entry(&http("http://localhost:1/workspace/")));
        assert!(is_tandem_entry(&http("http://[::1]:7345/memory")));
        assert!(!is_tandem_entry(&http("http://evil.example/memory")));
        assert!(!is_tandem_entry(&http("http://127.0.0.1:7345/other")));
    }

    #[test]
    fn bridged_entries_start_tandem_connect() {
        let (entry, secrets) = http().bridged(Path::new("/t/tandem"), &linux());
        let ServerEntry::Stdio { command, args, env } = &entry else {
            panic!("stdio expected");
        };
        assert_eq!(command, "/t/tandem");
        assert_eq!(args[..2], ["connect", "https://search.example/mcp"]);
        assert!(args.contains(&"x-api-key: env:SEARCH_KEY".to_string()));
        assert_eq!(env["SEARCH_KEY"], "s3cret");
        assert_eq!(secrets, ["SEARCH_KEY"]);
        assert!(is_tandem_entry(&entry));
        assert!(render(ClientId::ClaudeDesktop, &entry, &linux()).is_ok());
        assert!(render(ClientId::ClaudeDesktop, &http(), &linux()).is_err());
    }

    #[test]
    fn hub_bridge_entries_name_the_token_file_not_the_token() {
        let token = Path::new("/state/hub.token");
        let entries = tandem_bridge_entries(
            Path::new("/t/tandem"),
            &linux(),
            Some(Path::new("/state")),
            "http://127.0.0.1:7411",
            token,
        );
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, [WORKSPACE, MEMORY]);
        let ServerEntry::Stdio { command, args, env } = &entries[1].entry else {
            panic!("stdio expected");
        };
        assert_eq!(command, "/t/tandem");
        assert_eq!(
            args,
            &[
                "connect",
                "http://127.0.0.1:7411/memory",
                "--header",
                "Authorization: Bearer file:/state/hub.token"
            ]
        );
        assert_eq!(env.len(), 1);
        assert_eq!(env["TANDEM_HOME"], "/state");
        assert!(is_tandem_entry(&entries[1].entry));
        assert_eq!(bridge_token_file(args).as_deref(), Some(token));
        let http = tandem_http_entries("http://127.0.0.1:7411/", "abc");
        let ServerEntry::Http { url, headers } = &http[0].entry else {
            panic!("http expected");
        };
        assert_eq!(url, "http://127.0.0.1:7411/workspace");
        assert_eq!(bearer_token(headers), Some("abc"));
    }
}
