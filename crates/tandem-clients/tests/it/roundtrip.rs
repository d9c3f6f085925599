//! For any existing config, install then uninstall gives back the original bytes, and a
//! second install changes nothing.

use proptest::prelude::*;
use serde_json::Value;
use tandem_clients::{ClientId, Format, catalog::client};

use super::common::{Fixture, read};

#[derive(Debug, Clone)]
enum Scalar {
    Int(i64),
    Str(String),
    Bool(bool),
}

impl Scalar {
    fn json(&self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Str(s) => Value::String(s.clone()).to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
enum Val {
    Scalar(Scalar),
    List(Vec<Scalar>),
    Map(Vec<(String, Scalar)>),
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        any::<i32>().prop_map(|i| Scalar::Int(i64::from(i))),
        "[a-zA-Z0-9 /._:-]{0,12}".prop_map(Scalar::Str),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-zA-Z0-9_]{0,8}".prop_filter("not a servers key", |k| {
        !matches!(
            k.as_str(),
            "mcpServers" | "servers" | "context_servers" | "mcp_servers"
        )
    })
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => scalar().prop_map(Val::Scalar),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Val::List),
        1 => prop::collection::btree_map(key(), scalar(), 0..3)
            .prop_map(|m| Val::Map(m.into_iter().collect())),
    ]
}

#[derive(Debug, Clone)]
struct Config {
    client: ClientId,
    props: Vec<(String, Val)>,
    /// `None`: no servers container; `Some(names)`: one holding these servers.
    servers: Option<Vec<String>>,
    servers_at: usize,
    indent: &'static str,
    final_newline: bool,
    comments: bool,
    trailing_commas: bool,
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![
            ClientId::ClaudeCode,
            ClientId::Cursor,
            ClientId::VsCode,
            ClientId::Zed,
            ClientId::Codex,
        ]),
        prop::collection::btree_map(key(), val(), 0..5),
        prop::option::of(prop::collection::btree_set("[a-z]{1,8}", 0..3)),
        any::<prop::sample::Index>(),
        prop::sample::select(vec!["  ", "    ", "\t"]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(client, props, servers, at, indent, final_newline, comments, trailing)| {
                let props: Vec<(String, Val)> = props.into_iter().collect();
                let jsonc = client.client().format == Format::Jsonc;
                Config {
                    client,
                    servers_at: at.index(props.len() + 1),
                    props,
                    servers: servers.map(|s| s.into_iter().collect()),
                    indent,
                    final_newline,
                    comments: comments
                        && client != ClientId::ClaudeCode
                        && client != ClientId::Cursor,
                    trailing_commas: trailing && jsonc,
                }
            },
        )
}

fn render_json(c: &Config) -> String {
    let key = client(c.client).servers_key;
    let i1 = c.indent;
    let i2 = c.indent.repeat(2);
    let i3 = c.indent.repeat(3);
    let mut items: Vec<String> = c
        .props
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Val::Scalar(s) => s.json(),
                Val::List(l) => format!(
                    "[{}]",
                    l.iter().map(Scalar::json).collect::<Vec<_>>().join(", ")
                ),
                Val::Map(m) if m.is_empty() => "{}".into(),
                Val::Map(m) => {
                    let inner: Vec<String> = m
                        .iter()
                        .map(|(k, v)| format!("{i2}\"{k}\": {}", v.json()))
                        .collect();
                    format!("{{\n{}\n{i1}}}", inner.join(",\n"))
                }
            };
            format!("{i1}\"{k}\": {value}")
        })
        .collect();
    if let Some(servers) = &c.servers {
        let value = if servers.is_empty() {
            "{}".to_string()
        } else {
            let comma = if c.trailing_commas { "," } else { "" };
            let inner: Vec<String> = servers
                .iter()
                .map(|n| {
                    format!(
                        "{i2}\"{n}\": {{\n{i3}\"command\": \"{n}-mcp\",\n{i3}\"args\": [\"--stdio\"]{comma}\n{i2}}}"
                    )
                })
                .collect();
            format!("{{\n{}{comma}\n{i1}}}", inner.join(",\n"))
        };
        items.insert(c.servers_at, format!("{i1}\"{key}\": {value}"));
    }
    if c.comments {
        for (n, item) in items.iter_mut().enumerate() {
            if n % 2 == 0 {
                *item = format!("{i1}// about item {n}\n{item}");
            }
        }
    }
    let mut text = if items.is_empty() {
        "{}".to_string()
    } else {
        let comma = if c.trailing_commas { "," } else { "" };
        format!("{{\n{}{comma}\n}}", items.join(",\n"))
    };
    if c.comments {
        text = format!("// settings\n{text}");
    }
    if c.final_newline {
        text.push('\n');
    }
    text
}

fn toml_scalar(s: &Scalar) -> String {
    match s {
        Scalar::Str(s) => toml_edit::Value::from(s.as_str())
            .to_string()
            .trim()
            .to_string(),
        other => other.json(),
    }
}

fn render_toml(c: &Config) -> String {
    let mut top = Vec::new();
    let mut tables = Vec::new();
    for (k, v) in &c.props {
        match v {
            Val::Scalar(s) => top.push(format!("{k} = {}", toml_scalar(s))),
            Val::List(l) => top.push(format!(
                "{k} = [{}]",
                l.iter().map(toml_scalar).collect::<Vec<_>>().join(", ")
            )),
            Val::Map(m) => {
                let body: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", toml_scalar(v)))
                    .collect();
                let mut t = format!("[{k}]");
                if c.comments {
                    t = format!("# table {k}\n{t}");
                }
                for line in body {
                    t.push('\n');
                    t.push_str(&line);
                }
                tables.push(t);
            }
        }
    }
    if let Some(servers) = &c.servers {
        let t = if servers.is_empty() {
            "[mcp_servers]".to_string()
        } else {
            servers
                .iter()
                .map(|n| format!("[mcp_servers.{n}]\ncommand = \"{n}-mcp\"\nargs = [\"--stdio\"]"))
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        let at = c.servers_at.min(tables.len());
        tables.insert(at, t);
    }
    let mut parts = Vec::new();
    if c.comments {
        parts.push("# Codex settings".to_string());
    }
    if !top.is_empty() {
        parts.push(top.join("\n"));
    }
    let mut text = parts.join("\n");
    for t in tables {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&t);
    }
    if c.final_newline && !text.is_empty() {
        text.push('\n');
    }
    text
}

fn render(c: &Config) -> String {
    match client(c.client).format {
        Format::Toml => render_toml(c),
        Format::Json | Format::Jsonc => render_json(c),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn install_then_uninstall_gives_back_the_original_bytes(c in config()) {
        let f = Fixture::new();
        let original = render(&c);
        let path = f.write(c.client, &original);

        f.install(c.client);
        let installed = read(&path);
        prop_assert_ne!(&installed, &original);
        prop_assert!(installed.contains("tandem-memory") && installed.contains("tandem-workspace"));
        if let Some(servers) = &c.servers {
            for name in servers {
                let wanted = format!("{name}-mcp");
                prop_assert!(installed.contains(&wanted));
            }
        }

        f.install(c.client);
        prop_assert_eq!(&read(&path), &installed, "second install changed the file");

        f.uninstall(c.client);
        prop_assert_eq!(read(&path), original);
    }
}
