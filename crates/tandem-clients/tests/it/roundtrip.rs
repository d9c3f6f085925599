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

/// How a file is laid out: what people's editors write (`Pretty`), what programs write on
/// one line (`JSON.stringify`: `Compact`; Python's `json.dumps`: `Spaced`), and mixtures of
/// the two in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Pretty,
    /// One line, no blanks.
    Compact,
    /// One line, a space after each colon and comma.
    Spaced,
    /// One line with spaces inside the braces too (`{ "a": 1 }`).
    BraceSpaced,
    /// A multi-line file whose servers container (and maps) are written on one line.
    InlineServers,
    /// A one-line file whose servers container spreads over several lines.
    MultilineServers,
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
    layout: Layout,
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
        prop::sample::select(vec![
            Layout::Pretty,
            Layout::Compact,
            Layout::Spaced,
            Layout::BraceSpaced,
            Layout::InlineServers,
            Layout::MultilineServers,
        ]),
    )
        .prop_map(
            |(client, props, servers, at, indent, final_newline, comments, trailing, layout)| {
                let props: Vec<(String, Val)> = props.into_iter().collect();
                let jsonc = client.client().format == Format::Jsonc;
                let mut c = Config {
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
                    layout,
                };
                // Known limit, from jsonc-parser's CST: a one-line file with blanks before its
                // closing brace that has no servers container yet gets the container without
                // that blank (no node can be placed there), so its uninstall cannot give the
                // blank back. Such files get a container here.
                if layout == Layout::BraceSpaced && c.servers.is_none() && !c.props.is_empty() {
                    c.servers = Some(Vec::new());
                }
                c
            },
        )
}

/// Writes `{…}` around already-written items: on one line, or one item per line at `depth`.
fn container(c: &Config, items: Vec<String>, inline: bool, depth: usize) -> String {
    let comma = if c.trailing_commas && !items.is_empty() {
        ","
    } else {
        ""
    };
    if items.is_empty() {
        return "{}".to_string();
    }
    if inline {
        let (sep, pad) = match c.layout {
            Layout::Compact => (",", ""),
            Layout::BraceSpaced => (", ", " "),
            _ => (", ", ""),
        };
        let items: Vec<String> = items
            .into_iter()
            .enumerate()
            .map(|(n, item)| {
                if c.comments && n % 2 == 0 {
                    format!("/* about item {n} */ {item}")
                } else {
                    item
                }
            })
            .collect();
        return format!("{{{pad}{}{comma}{pad}}}", items.join(sep));
    }
    let inner = c.indent.repeat(depth + 1);
    let outer = c.indent.repeat(depth);
    let items: Vec<String> = items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            if c.comments && n % 2 == 0 {
                format!("{inner}// about item {n}\n{inner}{item}")
            } else {
                format!("{inner}{item}")
            }
        })
        .collect();
    format!("{{\n{}{comma}\n{outer}}}", items.join(",\n"))
}

fn render_json(c: &Config) -> String {
    let key = client(c.client).servers_key;
    let root_inline = matches!(
        c.layout,
        Layout::Compact | Layout::Spaced | Layout::BraceSpaced | Layout::MultilineServers
    );
    let inner_inline = root_inline || c.layout == Layout::InlineServers;
    let servers_inline = inner_inline && c.layout != Layout::MultilineServers;
    let colon = if c.layout == Layout::Compact {
        ":"
    } else {
        ": "
    };
    let list_sep = if c.layout == Layout::Compact {
        ","
    } else {
        ", "
    };
    let prop = |k: &str, v: String| format!("\"{k}\"{colon}{v}");
    let mut items: Vec<String> = c
        .props
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Val::Scalar(s) => s.json(),
                Val::List(l) => format!(
                    "[{}]",
                    l.iter()
                        .map(Scalar::json)
                        .collect::<Vec<_>>()
                        .join(list_sep)
                ),
                Val::Map(m) => {
                    let inner = m.iter().map(|(k, v)| prop(k, v.json())).collect();
                    container(c, inner, inner_inline, 1)
                }
            };
            prop(k, value)
        })
        .collect();
    if let Some(servers) = &c.servers {
        let entries = servers
            .iter()
            .map(|n| {
                let fields = vec![
                    prop("command", format!("\"{n}-mcp\"")),
                    prop("args", "[\"--stdio\"]".to_string()),
                ];
                prop(n, container(c, fields, servers_inline, 2))
            })
            .collect();
        items.insert(
            c.servers_at,
            prop(key, container(c, entries, servers_inline, 1)),
        );
    }
    let mut text = container(c, items, root_inline, 0);
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
        let entry = |n: &str| format!("{n} = {{ command = \"{n}-mcp\", args = [\"--stdio\"] }}");
        match c.layout {
            // The whole container inline, among the top-level keys.
            Layout::Compact | Layout::Spaced | Layout::BraceSpaced => {
                let inner: Vec<String> = servers.iter().map(|n| entry(n)).collect();
                let value = if inner.is_empty() {
                    "{}".to_string()
                } else {
                    format!("{{ {} }}", inner.join(", "))
                };
                top.insert(
                    c.servers_at.min(top.len()),
                    format!("mcp_servers = {value}"),
                );
            }
            // A [mcp_servers] table whose entries are inline tables.
            Layout::InlineServers | Layout::MultilineServers => {
                let mut t = "[mcp_servers]".to_string();
                for n in servers {
                    t.push('\n');
                    t.push_str(&entry(n));
                }
                let at = c.servers_at.min(tables.len());
                tables.insert(at, t);
            }
            Layout::Pretty => {
                let t = if servers.is_empty() {
                    "[mcp_servers]".to_string()
                } else {
                    servers
                        .iter()
                        .map(|n| {
                            format!(
                                "[mcp_servers.{n}]\ncommand = \"{n}-mcp\"\nargs = [\"--stdio\"]"
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n\n")
                };
                let at = c.servers_at.min(tables.len());
                tables.insert(at, t);
            }
        }
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
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn install_then_uninstall_gives_back_the_original_bytes(
        c in config(),
        bom in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let f = Fixture::new();
        // As Windows editors save files too: a UTF-8 byte-order mark, CRLF line breaks.
        let mut original = render(&c);
        if crlf {
            original = original.replace('\n', "\r\n");
        }
        if bom {
            original.insert(0, '\u{feff}');
        }
        let path = f.write(c.client, &original);

        f.install(c.client);
        let installed = read(&path);
        prop_assert_ne!(&installed, &original);
        prop_assert_eq!(installed.starts_with('\u{feff}'), bom, "the mark kept or not added");
        if crlf && original.contains('\n') {
            prop_assert_eq!(
                installed.matches('\n').count(),
                installed.matches("\r\n").count(),
                "a CRLF file stays CRLF, added lines too:\n{:?}",
                installed
            );
        }
        prop_assert!(installed.contains("tandem-memory") && installed.contains("tandem-workspace"));
        if let Some(servers) = &c.servers {
            for name in servers {
                let wanted = format!("{name}-mcp");
                prop_assert!(installed.contains(&wanted));
            }
        }

        f.install(c.client);
        prop_assert_eq!(&read(&path), &installed, "second install changed the file");

        // A file written on one line keeps to one line.
        let one_line = |t: &str| t.trim_end().lines().count() == 1;
        if client(c.client).format != Format::Toml
            && one_line(&original)
            && !original.trim_end().ends_with("{}")
        {
            prop_assert!(one_line(&installed), "spread over lines:\n{}", installed);
        }

        f.uninstall(c.client);
        prop_assert_eq!(read(&path), original);
    }
}
