//! The environment each client gives the stdio servers it starts (Claude Desktop's is
//! trimmed, the CLIs pass their own on), the folder they start in, how a client expands
//! `${VAR}` in headers, and Claude Desktop's log of a server.

use std::{collections::BTreeMap, path::PathBuf};

use super::{LOG_TAIL_LINES, TAIL_BYTES};
use crate::{
    catalog::{self, ClientId, EnvSyntax},
    host::{HostEnv, Os},
};

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
pub(super) fn server_cwd(client: ClientId, os: Os) -> Option<PathBuf> {
    match (client, os) {
        (ClientId::ClaudeDesktop, Os::MacOs | Os::Linux) => Some(PathBuf::from("/")),
        _ => None,
    }
}

/// The last `lines` lines (and at most [`TAIL_BYTES`]) of a text.
pub(super) fn tail(text: &str, lines: usize) -> String {
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

/// A header value as `client` sends it: `${VAR}` (or `${env:VAR}`) replaced from the
/// client's environment where the client expands variables.
pub(super) fn expand(client: ClientId, value: &str, vars: &BTreeMap<String, String>) -> String {
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
}
