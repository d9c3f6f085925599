//! Server entries: one model ([`ServerEntry`]) rendered into each client's own shape, read back
//! from it, and the rules that recognise the entries Tandem itself writes.

use std::{collections::BTreeMap, path::Path};

use serde_json::{Map, Value, json};

use crate::{
    catalog::{ClientId, EnvSyntax, Transport, client},
    error::{ClientsError, Result},
    host::{HostEnv, Os},
};

mod tandem;
pub use tandem::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn linux() -> HostEnv {
        let mut host = HostEnv::new(Os::Linux, "/home/ann");
        host.vars.insert("SEARCH_KEY".into(), "s3cret".into());
        host
    }

    fn stdio() -> ServerEntry {
        tandem_entries(Path::new("/opt/tandem/bin/tandem"), &linux(), None)
            .remove(1)
            .entry
    }

    pub(super) fn http() -> ServerEntry {
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
    fn fingerprints_ignore_key_order() {
        let a = json!({"command": "x", "args": ["1"], "env": {"A": "1", "B": "2"}});
        let b = json!({"env": {"B": "2", "A": "1"}, "args": ["1"], "command": "x"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&json!({"command": "y"})));
    }
}
