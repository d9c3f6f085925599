//! Server entries: one model ([`ServerEntry`]) rendered into each client's own shape, read back
//! from it, and the rules that recognise the entries Tandem itself writes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::{Map, Value, json};

use crate::{
    catalog::{ClientId, EnvSyntax, Transport, client},
    error::{ClientsError, Result},
    host::{HostEnv, Os},
};

/// The name of Tandem's workspace server entry.
pub const WORKSPACE: &str = "tandem-workspace";
/// The name of Tandem's memory server entry.
pub const MEMORY: &str = "tandem-memory";

/// Variables that Claude Desktop (and other GUI clients) do not pass to servers on Windows,
/// yet which Tandem needs to find its state folder.
const WINDOWS_PASSTHROUGH: [&str; 3] = ["APPDATA", "LOCALAPPDATA", "USERPROFILE"];

/// One MCP server as Tandem thinks of it, before a client's format is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEntry {
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
    Http {
        url: String,
        /// Header values may be written `env:VAR` (or `Bearer env:VAR`): rendered as the
        /// client's variable syntax, or resolved now where the client cannot expand.
        headers: BTreeMap<String, String>,
    },
}

impl ServerEntry {
    pub fn transport(&self) -> Transport {
        match self {
            ServerEntry::Stdio { .. } => Transport::Stdio,
            ServerEntry::Http { .. } => Transport::Http,
        }
    }

    /// The stdio entry that reaches this HTTP server through `tandem connect` (for clients
    /// such as Claude Desktop that only launch stdio servers). Headers naming `env:VAR` stay in
    /// that form for the bridge to resolve, and `VAR` is copied from `host` into the entry's
    /// environment, because GUI clients do not pass the person's shell variables: the names of
    /// those variables are returned, since the file then holds their values.
    pub fn bridged(&self, tandem: &Path, host: &HostEnv) -> (ServerEntry, Vec<String>) {
        let ServerEntry::Http { url, headers } = self else {
            return (self.clone(), Vec::new());
        };
        let mut args = vec![crate::reach::BRIDGE_ARG.to_string(), url.clone()];
        let mut env = windows_passthrough(host);
        let mut secrets = Vec::new();
        for (name, value) in headers {
            args.push("--header".into());
            args.push(format!("{name}: {value}"));
            if let HeaderValue::Env { var, .. } = HeaderValue::parse(value)
                && let Some(v) = host.var(var)
            {
                env.insert(var.to_string(), v.to_string());
                if !secrets.iter().any(|s| s == var) {
                    secrets.push(var.to_string());
                }
            }
        }
        let entry = ServerEntry::Stdio {
            command: tandem.to_string_lossy().into_owned(),
            args,
            env,
        };
        (entry, secrets)
    }
}

/// An entry with the name it is installed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEntry {
    pub name: String,
    pub entry: ServerEntry,
}

impl NamedEntry {
    pub fn new(name: impl Into<String>, entry: ServerEntry) -> Self {
        Self {
            name: name.into(),
            entry,
        }
    }
}

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

fn windows_passthrough(host: &HostEnv) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if host.os != Os::Windows {
        return env;
    }
    for name in WINDOWS_PASSTHROUGH {
        let value = match name {
            "APPDATA" => host.appdata.clone(),
            "LOCALAPPDATA" => host.local_appdata.clone(),
            _ => Some(host.home.clone()),
        }
        .map(|p| p.to_string_lossy().into_owned())
        .or_else(|| host.var(name).map(str::to_string));
        if let Some(value) = value {
            env.insert(name.to_string(), value);
        }
    }
    env
}

/// A header value: literal, or a reference to an environment variable (`env:VAR`), possibly
/// after a literal prefix ending in a space (`Bearer env:VAR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Literal(&'a str),
    Env { prefix: &'a str, var: &'a str },
}

impl<'a> HeaderValue<'a> {
    pub fn parse(value: &'a str) -> Self {
        let Some(at) = value.rfind("env:") else {
            return HeaderValue::Literal(value);
        };
        let (prefix, var) = (&value[..at], &value[at + 4..]);
        let var_ok = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if var_ok && (prefix.is_empty() || prefix.ends_with(' ')) {
            HeaderValue::Env { prefix, var }
        } else {
            HeaderValue::Literal(value)
        }
    }
}

/// An entry in a client's own shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The value to store under the entry's name (TOML is produced from this too).
    pub value: Value,
    /// Headers whose `env:VAR` value was resolved into the file because the client cannot
    /// expand variables there: the file now holds that secret.
    pub secrets_in_file: Vec<String>,
}

/// Renders `entry` in `id`'s shape. Fails for a transport the client does not speak (bridge
/// it first with [`ServerEntry::bridged`]) or an `env:VAR` header the client cannot expand
/// when `VAR` is not set in `host`.
pub fn render(id: ClientId, entry: &ServerEntry, host: &HostEnv) -> Result<Rendered> {
    let c = client(id);
    if !c.supports(entry.transport()) {
        return Err(ClientsError::UnsupportedTransport {
            client: id,
            transport: entry.transport().as_str(),
        });
    }
    let mut out = Map::new();
    let mut secrets_in_file = Vec::new();
    match entry {
        ServerEntry::Stdio { command, args, env } => {
            if matches!(id, ClientId::ClaudeCode | ClientId::VsCode) {
                out.insert("type".into(), json!("stdio"));
            }
            out.insert("command".into(), json!(command));
            out.insert("args".into(), json!(args));
            if id != ClientId::Codex || !env.is_empty() {
                out.insert("env".into(), json!(env));
            }
        }
        ServerEntry::Http { url, headers } => {
            let url_key = match id {
                ClientId::Windsurf => "serverUrl",
                ClientId::Gemini => "httpUrl",
                _ => "url",
            };
            if matches!(id, ClientId::ClaudeCode | ClientId::VsCode) {
                out.insert("type".into(), json!("http"));
            }
            out.insert(url_key.into(), json!(url));
            if c.env_syntax == EnvSyntax::CodexKeys {
                render_codex_headers(id, headers, host, &mut out, &mut secrets_in_file)?;
            } else {
                let mut rendered = Map::new();
                for (name, value) in headers {
                    let v = match (HeaderValue::parse(value), c.env_syntax) {
                        (HeaderValue::Literal(v), _) => v.to_string(),
                        (HeaderValue::Env { prefix, var }, EnvSyntax::Dollar) => {
                            format!("{prefix}${{{var}}}")
                        }
                        (HeaderValue::Env { prefix, var }, EnvSyntax::DollarEnv) => {
                            format!("{prefix}${{env:{var}}}")
                        }
                        (HeaderValue::Env { prefix, var }, _) => {
                            secrets_in_file.push(name.clone());
                            format!("{prefix}{}", resolve(id, host, name, var)?)
                        }
                    };
                    rendered.insert(name.clone(), json!(v));
                }
                if !rendered.is_empty() {
                    out.insert("headers".into(), Value::Object(rendered));
                }
            }
        }
    }
    Ok(Rendered {
        value: Value::Object(out),
        secrets_in_file,
    })
}

fn resolve<'h>(id: ClientId, host: &'h HostEnv, header: &str, var: &str) -> Result<&'h str> {
    host.var(var).ok_or_else(|| ClientsError::MissingEnvVar {
        client: id,
        header: header.to_string(),
        var: var.to_string(),
    })
}

/// Codex names variables in keys of their own: `bearer_token_env_var` for an
/// `Authorization: Bearer env:VAR` header, `env_http_headers` for a header that is a variable
/// as a whole; literal headers go to `http_headers`.
fn render_codex_headers(
    id: ClientId,
    headers: &BTreeMap<String, String>,
    host: &HostEnv,
    out: &mut Map<String, Value>,
    secrets_in_file: &mut Vec<String>,
) -> Result<()> {
    let mut literal = Map::new();
    let mut from_env = Map::new();
    for (name, value) in headers {
        match HeaderValue::parse(value) {
            HeaderValue::Literal(v) => {
                literal.insert(name.clone(), json!(v));
            }
            HeaderValue::Env { prefix: "", var } => {
                from_env.insert(name.clone(), json!(var));
            }
            HeaderValue::Env { prefix, var }
                if name.eq_ignore_ascii_case("authorization") && prefix == "Bearer " =>
            {
                out.insert("bearer_token_env_var".into(), json!(var));
            }
            HeaderValue::Env { prefix, var } => {
                secrets_in_file.push(name.clone());
                literal.insert(
                    name.clone(),
                    json!(format!("{prefix}{}", resolve(id, host, name, var)?)),
                );
            }
        }
    }
    if !literal.is_empty() {
        out.insert("http_headers".into(), Value::Object(literal));
    }
    if !from_env.is_empty() {
        out.insert("env_http_headers".into(), Value::Object(from_env));
    }
    Ok(())
}

/// Reads an entry back from a client's file (any of the shapes Tandem writes, plus Zed's
/// older `{"command": {"path", "args", "env"}}`). `None` when it is neither shape.
pub fn parse(value: &Value) -> Option<ServerEntry> {
    let obj = value.as_object()?;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let map = |v: Option<&Value>| -> BTreeMap<String, String> {
        v.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    match obj.get("command") {
        Some(Value::String(command)) => {
            return Some(ServerEntry::Stdio {
                command: command.clone(),
                args: strings(obj.get("args")),
                env: map(obj.get("env")),
            });
        }
        Some(Value::Object(cmd)) => {
            return Some(ServerEntry::Stdio {
                command: cmd.get("path")?.as_str()?.to_string(),
                args: strings(cmd.get("args")),
                env: map(cmd.get("env")),
            });
        }
        _ => {}
    }
    let url = ["url", "serverUrl", "httpUrl"]
        .iter()
        .find_map(|k| obj.get(*k)?.as_str())?;
    let mut headers = map(obj.get("headers"));
    headers.extend(map(obj.get("http_headers")));
    for (name, var) in map(obj.get("env_http_headers")) {
        headers.insert(name, format!("env:{var}"));
    }
    if let Some(var) = obj.get("bearer_token_env_var").and_then(Value::as_str) {
        headers.insert("Authorization".into(), format!("Bearer env:{var}"));
    }
    Some(ServerEntry::Http {
        url: url.to_string(),
        headers,
    })
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

/// A stable fingerprint of an entry value (keys sorted), recorded for entries Tandem wrote so
/// that they are recognised later even when their shape is not Tandem's own (shared servers).
pub(crate) fn fingerprint(value: &Value) -> String {
    fn canonical(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(v) = m.get(k) {
                        canonical(v, out);
                    }
                    out.push(',');
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for v in a {
                    canonical(v, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(value, &mut text);
    // FNV-1a, 64 bits: identity, not security.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Whether the binary an entry starts still exists (for status).
pub(crate) fn command_exists(command: &str) -> bool {
    let path = PathBuf::from(command);
    path.is_absolute() && path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> HostEnv {
        let mut host = HostEnv::new(Os::Linux, "/home/ann");
        host.vars.insert("SEARCH_KEY".into(), "s3cret".into());
        host
    }

    fn stdio() -> ServerEntry {
        tandem_entries(Path::new("/opt/tandem/bin/tandem"), &linux(), None)
            .remove(1)
            .entry
    }

    fn http() -> ServerEntry {
        ServerEntry::Http {
            url: "https://search.example/mcp".into(),
            headers: BTreeMap::from([
                ("Authorization".into(), "Bearer env:SEARCH_KEY".into()),
                ("x-api-key".into(), "env:SEARCH_KEY".into()),
                ("x-team".into(), "blue".into()),
            ]),
        }
    }

    fn rendered_all(entry: &ServerEntry) -> BTreeMap<String, Value> {
        ClientId::ALL
            .into_iter()
            .map(|id| {
                let v = match render(id, entry, &linux()) {
                    Ok(r) => json!({"value": r.value, "secretsInFile": r.secrets_in_file}),
                    Err(e) => json!({"error": e.to_string()}),
                };
                (id.to_string(), v)
            })
            .collect()
    }

    #[test]
    fn stdio_entries_in_every_client_shape() {
        insta::assert_json_snapshot!(rendered_all(&stdio()));
    }

    #[test]
    fn http_entries_in_every_client_shape_with_env_expansion() {
        insta::assert_json_snapshot!(rendered_all(&http()));
    }

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
    fn header_values_name_variables() {
        assert_eq!(
            HeaderValue::parse("env:KEY"),
            HeaderValue::Env {
                prefix: "",
                var: "KEY"
            }
        );
        assert_eq!(
            HeaderValue::parse("Bearer env:KEY_2"),
            HeaderValue::Env {
                prefix: "Bearer ",
                var: "KEY_2"
            }
        );
        assert_eq!(
            HeaderValue::parse("xenv:KEY"),
            HeaderValue::Literal("xenv:KEY")
        );
        assert_eq!(HeaderValue::parse("env:"), HeaderValue::Literal("env:"));
        assert_eq!(
            HeaderValue::parse("env:a-b"),
            HeaderValue::Literal("env:a-b")
        );
    }

    #[test]
    fn a_client_that_cannot_expand_needs_the_variable_set() {
        let host = HostEnv::new(Os::Linux, "/home/ann");
        let err = render(ClientId::Zed, &http(), &host).unwrap_err();
        assert!(matches!(err, ClientsError::MissingEnvVar { .. }), "{err}");
        assert!(render(ClientId::Cursor, &http(), &host).is_ok());
    }

    #[test]
    fn rendered_entries_read_back_as_the_same_entry() {
        for id in ClientId::ALL {
            let r = render(id, &stdio(), &linux()).unwrap();
            assert_eq!(parse(&r.value), Some(stdio()), "{id}");
        }
        for id in [ClientId::ClaudeCode, ClientId::Cursor, ClientId::VsCode] {
            let plain = ServerEntry::Http {
                url: "http://127.0.0.1:7345/memory".into(),
                headers: BTreeMap::from([("Authorization".into(), "Bearer abc".into())]),
            };
            let r = render(id, &plain, &linux()).unwrap();
            assert_eq!(parse(&r.value), Some(plain), "{id}");
        }
        let r = render(ClientId::Codex, &http(), &linux()).unwrap();
        let ServerEntry::Http { headers, .. } = parse(&r.value).unwrap() else {
            panic!("http expected");
        };
        assert_eq!(
            headers,
            BTreeMap::from([
                ("Authorization".into(), "Bearer env:SEARCH_KEY".into()),
                ("x-api-key".into(), "env:SEARCH_KEY".into()),
                ("x-team".into(), "blue".into()),
            ])
        );
        let zed_old = json!({"command": {"path": "/t/tandem", "args": ["mcp", "memory"]}});
        assert!(is_tandem_entry(&parse(&zed_old).unwrap()));
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

    #[test]
    fn fingerprints_ignore_key_order() {
        let a = json!({"command": "x", "args": ["1"], "env": {"A": "1", "B": "2"}});
        let b = json!({"env": {"B": "2", "A": "1"}, "args": ["1"], "command": "x"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&json!({"command": "y"})));
    }
}
