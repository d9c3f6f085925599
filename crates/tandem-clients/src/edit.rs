//! Format-preserving edits of one client config file: JSON and JSONC through jsonc-parser's
//! concrete syntax tree, TOML through toml_edit. Only the named entries (and, when asked, the
//! servers container) change; every other key, value, comment and blank keeps its bytes.

use std::{borrow::Cow, path::Path};

use jsonc_parser::{
    CollectOptions, ParseOptions,
    ast::{self},
    common::Ranged,
    cst::{CstArray, CstContainerNode, CstInputValue, CstObject, CstObjectProp, CstRootNode},
    parse_to_ast,
};
use serde_json::Value;
use toml_edit::{DocumentMut, InlineTable, Item, Table};

use crate::{
    catalog::{ClientId, Format, client},
    error::{ClientsError, Result},
    layout,
};

/// What a missing JSON file starts as before Tandem adds its container.
const NEW_JSON: &str = "{}\n";
/// Claude Code's `settings.json` key holding hooks, and the event Tandem hooks into.
pub(crate) const HOOKS: &str = "hooks";
pub(crate) const SESSION_START: &str = "SessionStart";
const BOM: char = '\u{feff}';

/// A parsed config file, ready for edits.
pub(crate) struct ConfigDoc {
    key: &'static str,
    layout: TextLayout,
    kind: Kind,
}

/// How a file's text is laid down in bytes, kept through an edit: a UTF-8 byte-order mark
/// (Windows editors write one) and line breaks. A file whose every line break is CRLF is edited
/// as LF text and written back with CRLF throughout, lines Tandem adds included; a file with
/// mixed breaks keeps each of its own, and the lines Tandem adds end in LF.
#[derive(Debug, Clone, Copy, Default)]
struct TextLayout {
    bom: bool,
    crlf: bool,
}

impl TextLayout {
    /// The text to parse and its layout. Text that is not UTF-8 is refused with the reason
    /// (UTF-16, Notepad's "Unicode", named as such: no client reads it).
    fn decode(bytes: &[u8]) -> std::result::Result<(Self, Cow<'_, str>), (String, String)> {
        if let Some(encoding) = utf16(bytes) {
            return Err((
                String::new(),
                format!(
                    "the file is {encoding} text (Notepad's \"Unicode\"), which the client \
                     cannot read either: save it as UTF-8"
                ),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let before = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
            (before, "the file is not UTF-8 text".to_string())
        })?;
        let bom = text.starts_with(BOM);
        let text = text.strip_prefix(BOM).unwrap_or(text);
        let breaks = text.matches('\n').count();
        let crlf = breaks > 0 && text.matches("\r\n").count() == breaks;
        let text = if crlf {
            Cow::Owned(text.replace("\r\n", "\n"))
        } else {
            Cow::Borrowed(text)
        };
        Ok((Self { bom, crlf }, text))
    }

    fn encode(self, body: String) -> String {
        let body = if self.crlf {
            body.replace('\n', "\r\n")
        } else {
            body
        };
        if self.bom {
            format!("{BOM}{body}")
        } else {
            body
        }
    }
}

/// Whether bytes are UTF-16 text: a UTF-16 byte-order mark, or ASCII text with every other
/// byte zero (UTF-16 without a mark).
fn utf16(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => return Some("UTF-16 (big-endian)"),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(64) & !1];
    if head.len() < 4 {
        return None;
    }
    let zero_at = |odd: bool| {
        head.chunks(2)
            .all(|pair| (pair[usize::from(odd)] == 0) && pair[usize::from(!odd)] != 0)
    };
    if zero_at(true) {
        Some("UTF-16 (little-endian)")
    } else if zero_at(false) {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

enum Kind {
    Json(CstRootNode),
    Toml(DocumentMut),
}

fn parse_options(format: Format) -> ParseOptions {
    // What the client itself accepts: strict JSON, or JSON with comments and trailing commas.
    let jsonc = format == Format::Jsonc;
    ParseOptions {
        allow_comments: jsonc,
        allow_loose_object_property_names: false,
        allow_trailing_commas: jsonc,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

impl ConfigDoc {
    /// Parses a file's bytes (`None`: the file does not exist yet). A file the client could
    /// not read either — invalid syntax, an empty file, a top level that is not an object, a
    /// servers key that is not an object or table — is an error naming line and column.
    pub(crate) fn parse(id: ClientId, path: &Path, bytes: Option<&[u8]>) -> Result<Self> {
        let c = client(id);
        Self::parse_as(id, path, bytes, c.format, c.servers_key)
    }

    /// Parses Claude Code's `settings.json` for its `hooks` (the container here): strict JSON,
    /// `hooks` an object if present, and `hooks.SessionStart` an array if present.
    pub(crate) fn parse_settings(path: &Path, bytes: Option<&[u8]>) -> Result<Self> {
        let doc = Self::parse_as(ClientId::ClaudeCode, path, bytes, Format::Json, HOOKS)?;
        // parse_as accepted it, so it is UTF-8 JSON with an object at the top.
        let text = match bytes.map(TextLayout::decode) {
            Some(Ok((_, text))) => text,
            _ => Cow::Borrowed(NEW_JSON),
        };
        let text = text.as_ref();
        let options = parse_options(Format::Json);
        if let Ok(ast) = parse_to_ast(text, &CollectOptions::default(), &options)
            && let Some(ast::Value::Object(root)) = &ast.value
            && let Some(hooks) = root.get(HOOKS)
            && let ast::Value::Object(hooks) = &hooks.value
            && let Some(list) = hooks.get(SESSION_START)
            && !matches!(list.value, ast::Value::Array(_))
        {
            let (line, column) = line_column(text, list.value.start());
            return Err(ClientsError::ServersNotContainer {
                client: ClientId::ClaudeCode,
                path: path.to_path_buf(),
                key: format!("{HOOKS}.{SESSION_START}"),
                expected: "an array",
                line,
                column,
            });
        }
        Ok(doc)
    }

    fn parse_as(
        id: ClientId,
        path: &Path,
        bytes: Option<&[u8]>,
        format: Format,
        key: &'static str,
    ) -> Result<Self> {
        let malformed = |text: &str, offset: usize, reason: String| {
            let (line, column) = line_column(text, offset);
            ClientsError::Malformed {
                client: id,
                path: path.to_path_buf(),
                format: format.name(),
                line,
                column,
                reason,
            }
        };
        let (layout, text) = match bytes {
            None => (
                TextLayout::default(),
                Cow::Borrowed(match format {
                    Format::Toml => "",
                    Format::Json | Format::Jsonc => NEW_JSON,
                }),
            ),
            Some(bytes) => TextLayout::decode(bytes)
                .map_err(|(before, reason)| malformed(&before, before.len(), reason))?,
        };
        let text = text.as_ref();
        let kind = match format {
            Format::Json | Format::Jsonc => {
                if text.trim().is_empty() {
                    // Never read as `{}`: Claude Code empties ~/.claude.json while rewriting it.
                    return Err(malformed(text, 0, "the file is empty".into()));
                }
                let options = parse_options(format);
                let to_malformed = |e: jsonc_parser::errors::ParseError| {
                    malformed(text, e.range().start, e.kind().to_string())
                };
                let ast = parse_to_ast(text, &CollectOptions::default(), &options)
                    .map_err(to_malformed)?;
                let Some(value) = ast.value else {
                    return Err(malformed(text, 0, "the file holds no JSON value".into()));
                };
                let ast::Value::Object(root) = &value else {
                    return Err(malformed(
                        text,
                        value.start(),
                        "the top level is not an object".into(),
                    ));
                };
                if let Some(prop) = root.get(key)
                    && !matches!(prop.value, ast::Value::Object(_))
                {
                    let (line, column) = line_column(text, prop.value.start());
                    return Err(ClientsError::ServersNotContainer {
                        client: id,
                        path: path.to_path_buf(),
                        key: key.to_string(),
                        expected: "an object",
                        line,
                        column,
                    });
                }
                Kind::Json(CstRootNode::parse(text, &options).map_err(to_malformed)?)
            }
            Format::Toml => {
                let spanned = toml_edit::Document::parse(text).map_err(|e| {
                    let offset = e.span().map(|s| s.start).unwrap_or(0);
                    malformed(text, offset, e.message().trim().to_string())
                })?;
                if let Some(item) = spanned.get(key)
                    && item.as_table_like().is_none()
                {
                    let offset = item.span().map(|s| s.start).unwrap_or(0);
                    let (line, column) = line_column(text, offset);
                    return Err(ClientsError::ServersNotContainer {
                        client: id,
                        path: path.to_path_buf(),
                        key: key.to_string(),
                        expected: "a table",
                        line,
                        column,
                    });
                }
                Kind::Toml(text.parse::<DocumentMut>().map_err(|e| {
                    let offset = e.span().map(|s| s.start).unwrap_or(0);
                    malformed(text, offset, e.message().trim().to_string())
                })?)
            }
        };
        Ok(Self { key, layout, kind })
    }

    fn json_servers(root: &CstRootNode, key: &str) -> Option<CstObject> {
        root.object_value()?.object_value(key)
    }

    /// Whether the servers object/table exists.
    pub(crate) fn has_container(&self) -> bool {
        match &self.kind {
            Kind::Json(root) => Self::json_servers(root, self.key).is_some(),
            Kind::Toml(doc) => doc.get(self.key).is_some(),
        }
    }

    /// The entries under the servers key, in file order, as JSON values.
    pub(crate) fn entries(&self) -> Vec<(String, Value)> {
        match &self.kind {
            Kind::Json(root) => Self::json_servers(root, self.key)
                .map(|servers| {
                    servers
                        .properties()
                        .into_iter()
                        .filter_map(|p| {
                            let name = p.decoded_name()?;
                            let value = p.value()?.to_serde_value()?;
                            Some((name, value))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Kind::Toml(doc) => doc
                .get(self.key)
                .and_then(Item::as_table_like)
                .map(|t| {
                    t.iter()
                        .map(|(k, item)| (k.to_string(), toml_item_to_json(item)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<Value> {
        self.entries()
            .into_iter()
            .find_map(|(n, v)| (n == name).then_some(v))
    }

    /// Adds or replaces the entry `name`, creating the servers container (at the end of the
    /// file) when there is none. A replaced entry keeps its place and the comments above it.
    pub(crate) fn set(&mut self, name: &str, value: &Value) {
        match &mut self.kind {
            Kind::Json(root) => {
                let Some(obj) = root.object_value() else {
                    return; // parse() guarantees an object root
                };
                let servers = match obj.object_value(self.key) {
                    Some(s) => s,
                    None => match append_keeping_layout(
                        &obj,
                        self.key,
                        CstInputValue::Object(Vec::new()),
                    ) {
                        Some(prop) => match prop.object_value() {
                            Some(s) => s,
                            None => return,
                        },
                        None => return,
                    },
                };
                match servers.get(name) {
                    Some(prop) => {
                        prop.set_value(json_to_cst(value));
                        let container: CstContainerNode = servers.clone().into();
                        if layout::wants_compact(&container)
                            && let Some(v) = prop.value()
                        {
                            layout::compact(&v, &layout::Compact::learn(&container));
                        }
                    }
                    None => {
                        append_keeping_layout(&servers, name, json_to_cst(value));
                    }
                }
            }
            Kind::Toml(doc) => {
                if doc.get(self.key).is_none() {
                    let mut t = Table::new();
                    t.set_implicit(true);
                    doc.insert(self.key, Item::Table(t));
                }
                let Some(container) = doc.get_mut(self.key) else {
                    return;
                };
                if let Some(inline) = container.as_inline_table_mut() {
                    inline.insert(name, toml_edit::Value::InlineTable(json_to_inline(value)));
                    return;
                }
                let Some(table) = container.as_table_mut() else {
                    return;
                };
                let mut new = json_to_table(value);
                if let Some(Item::Table(old)) = table.get(name) {
                    new.set_position(old.position());
                    *new.decor_mut() = old.decor().clone();
                }
                table.insert(name, Item::Table(new));
            }
        }
    }

    /// Removes the entry `name`; whether it was there.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        match &mut self.kind {
            Kind::Json(root) => {
                match Self::json_servers(root, self.key).and_then(|s| s.get(name)) {
                    Some(prop) => {
                        prop.remove();
                        true
                    }
                    None => false,
                }
            }
            Kind::Toml(doc) => doc
                .get_mut(self.key)
                .and_then(Item::as_table_like_mut)
                .and_then(|t| t.remove(name))
                .is_some(),
        }
    }

    /// Whether the servers container exists and holds nothing (no entries, and for JSONC no
    /// comments either, which would be the person's).
    pub(crate) fn container_is_empty(&self) -> bool {
        match &self.kind {
            Kind::Json(root) => Self::json_servers(root, self.key).is_some_and(|s| {
                s.properties().is_empty() && !s.children().iter().any(|c| c.is_comment())
            }),
            Kind::Toml(doc) => doc.get(self.key).is_some_and(|item| match item {
                Item::Table(t) => {
                    t.is_empty()
                        && t.decor()
                            .prefix()
                            .is_none_or(|p| p.as_str().is_none_or(|s| s.trim().is_empty()))
                }
                other => other.as_table_like().is_some_and(|t| t.is_empty()),
            }),
        }
    }

    pub(crate) fn remove_container(&mut self) {
        match &mut self.kind {
            Kind::Json(root) => {
                if let Some(prop) = root.object_value().and_then(|o| o.get(self.key)) {
                    prop.remove();
                }
            }
            Kind::Toml(doc) => {
                doc.remove(self.key);
            }
        }
    }

    /// Whether the document is what Tandem starts a missing file from (so a file Tandem
    /// created can be removed again).
    pub(crate) fn is_blank(&self) -> bool {
        let text = self.text();
        match &self.kind {
            Kind::Json(_) => text.trim() == NEW_JSON.trim(),
            Kind::Toml(_) => text.trim().is_empty(),
        }
    }

    pub(crate) fn text(&self) -> String {
        let body = match &self.kind {
            Kind::Json(root) => root.to_string(),
            Kind::Toml(doc) => doc.to_string(),
        };
        self.layout.encode(body)
    }
}

/// A command hook found under `hooks.SessionStart`: its place (group, then hook within the
/// group) and the command it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionHook {
    pub group: usize,
    pub index: usize,
    pub command: String,
}

/// Hook edits in Claude Code's `settings.json` (a document from [`ConfigDoc::parse_settings`]).
impl ConfigDoc {
    fn session_start(&self) -> Option<CstArray> {
        let Kind::Json(root) = &self.kind else {
            return None;
        };
        root.object_value()?
            .object_value(HOOKS)?
            .array_value(SESSION_START)
    }

    fn group_hooks(list: &CstArray, group: usize) -> Option<CstArray> {
        list.elements()
            .get(group)?
            .as_object()?
            .array_value("hooks")
    }

    /// Every command hook under `hooks.SessionStart`, in file order.
    pub(crate) fn session_hooks(&self) -> Vec<SessionHook> {
        let Some(list) = self.session_start() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for group in 0..list.elements().len() {
            let Some(hooks) = Self::group_hooks(&list, group) else {
                continue;
            };
            for (index, hook) in hooks.elements().iter().enumerate() {
                let Some(value) = hook.to_serde_value() else {
                    continue;
                };
                if value.get("type").and_then(Value::as_str) != Some("command") {
                    continue;
                }
                if let Some(command) = value.get("command").and_then(Value::as_str) {
                    out.push(SessionHook {
                        group,
                        index,
                        command: command.to_string(),
                    });
                }
            }
        }
        out
    }

    /// Appends a matcher group to `hooks.SessionStart`, creating `hooks` and the list when
    /// missing; returns whether each was created.
    pub(crate) fn add_session_group(&mut self, group: &Value) -> (bool, bool) {
        let Kind::Json(root) = &self.kind else {
            return (false, false);
        };
        let Some(obj) = root.object_value() else {
            return (false, false);
        };
        let created_hooks = obj.get(HOOKS).is_none();
        let Some(hooks) = obj.object_value_or_create(HOOKS) else {
            return (false, false);
        };
        let created_list = hooks.get(SESSION_START).is_none();
        let Some(list) = hooks.array_value_or_create(SESSION_START) else {
            return (created_hooks, false);
        };
        list.append(json_to_cst(group));
        (created_hooks, created_list)
    }

    /// Points an existing command hook at another command.
    pub(crate) fn set_session_hook_command(&mut self, at: &SessionHook, command: &str) {
        let hook = self
            .session_start()
            .and_then(|list| Self::group_hooks(&list, at.group))
            .and_then(|hooks| hooks.elements().get(at.index)?.as_object());
        if let Some(prop) = hook.and_then(|h| h.get("command")) {
            prop.set_value(CstInputValue::String(command.to_string()));
        }
    }

    /// Removes the given hooks (from [`Self::session_hooks`]), and each group they leave
    /// without hooks.
    pub(crate) fn remove_session_hooks(&mut self, which: &[SessionHook]) {
        let Some(list) = self.session_start() else {
            return;
        };
        let mut sorted: Vec<&SessionHook> = which.iter().collect();
        sorted.sort_by_key(|h| std::cmp::Reverse((h.group, h.index)));
        for hook in sorted {
            let Some(hooks) = Self::group_hooks(&list, hook.group) else {
                continue;
            };
            if let Some(node) = hooks.elements().get(hook.index).cloned() {
                node.remove();
            }
            if hooks.elements().is_empty()
                && let Some(group) = list.elements().get(hook.group).cloned()
            {
                group.remove();
            }
        }
    }

    /// Removes `hooks.SessionStart` when it holds nothing (no groups, no comments).
    pub(crate) fn remove_empty_session_start(&mut self) {
        let Kind::Json(root) = &self.kind else {
            return;
        };
        let Some(hooks) = root.object_value().and_then(|o| o.object_value(HOOKS)) else {
            return;
        };
        let Some(prop) = hooks.get(SESSION_START) else {
            return;
        };
        let empty = prop.array_value().is_some_and(|list| {
            list.elements().is_empty() && !list.children().iter().any(|c| c.is_comment())
        });
        if empty {
            prop.remove();
        }
    }
}

/// Appends a property to an object; in an object written on one line, the property goes on
/// that line too and the object's own blanks stay as they were (see [`layout`]).
fn append_keeping_layout(
    obj: &CstObject,
    name: &str,
    value: CstInputValue,
) -> Option<CstObjectProp> {
    let container: CstContainerNode = obj.clone().into();
    let compact = layout::wants_compact(&container);
    let before = layout::Layout::of(&container);
    let style = layout::Compact::learn(&container);
    let prop = obj.append(name, value);
    if compact {
        layout::relayout(&container, &before, prop.child_index(), &style);
        layout::compact(&prop.clone().into(), &style);
    }
    Some(prop)
}

fn json_to_cst(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(json_to_cst).collect()),
        Value::Object(m) => {
            CstInputValue::Object(m.iter().map(|(k, v)| (k.clone(), json_to_cst(v))).collect())
        }
    }
}

fn json_to_toml_value(value: &Value) -> toml_edit::Value {
    match value {
        // TOML has no null; entries Tandem renders never hold one.
        Value::Null => toml_edit::Value::from(""),
        Value::Bool(b) => toml_edit::Value::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml_edit::Value::from(i),
            (None, Some(f)) => toml_edit::Value::from(f),
            (None, None) => toml_edit::Value::from(n.to_string()),
        },
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Array(a) => toml_edit::Value::Array(a.iter().map(json_to_toml_value).collect()),
        Value::Object(_) => toml_edit::Value::InlineTable(json_to_inline(value)),
    }
}

fn json_to_inline(value: &Value) -> InlineTable {
    let mut t = InlineTable::new();
    if let Value::Object(m) = value {
        for (k, v) in m {
            t.insert(k, json_to_toml_value(v));
        }
    }
    t
}

/// An entry as a `[mcp_servers.NAME]` table: scalars and arrays as keys, nested maps (`env`,
/// `http_headers`) as inline tables.
fn json_to_table(value: &Value) -> Table {
    let mut t = Table::new();
    if let Value::Object(m) = value {
        for (k, v) in m {
            t.insert(k, Item::Value(json_to_toml_value(v)));
        }
    }
    t
}

fn toml_value_to_json(value: &toml_edit::Value) -> Value {
    match value {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => Value::from(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
        toml_edit::Value::Array(a) => Value::Array(a.iter().map(toml_value_to_json).collect()),
        toml_edit::Value::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_to_json(v)))
                .collect(),
        ),
    }
}

fn toml_item_to_json(item: &Item) -> Value {
    match item {
        Item::None => Value::Null,
        Item::Value(v) => toml_value_to_json(v),
        Item::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_item_to_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => Value::Array(
            a.iter()
                .map(|t| toml_item_to_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(id: ClientId, text: &str) -> Result<ConfigDoc> {
        ConfigDoc::parse(id, Path::new("/cfg"), Some(text.as_bytes()))
    }

    fn entry() -> Value {
        json!({"command": "/t/tandem", "args": ["mcp", "memory"], "env": {}})
    }

    #[test]
    fn json_edits_keep_comments_and_layout() {
        let text = "{\n  // mine\n  \"servers\": {\n    \"x\": {\"type\": \"stdio\", \"command\": \"y\"}, // tail\n  },\n  \"z\": [1,2,3],\n}\n";
        let mut d = doc(ClientId::VsCode, text).unwrap();
        d.set("tandem-memory", &entry());
        insta::assert_snapshot!(d.text());
        assert_eq!(d.get("x"), Some(json!({"type": "stdio", "command": "y"})));
        assert!(d.remove("tandem-memory"));
        assert_eq!(d.text(), text);
    }

    /// Install then uninstall as the installer does it: parse, add both entries, write;
    /// parse again, remove them (and a container Tandem created), write.
    fn round_trip(id: ClientId, text: &str) -> (String, String) {
        let mut d = doc(id, text).unwrap();
        let had_container = d.has_container();
        d.set("tandem-workspace", &entry());
        d.set("tandem-memory", &entry());
        let installed = d.text();
        let mut d = doc(id, &installed).unwrap();
        assert!(d.remove("tandem-workspace") && d.remove("tandem-memory"));
        if !had_container && d.container_is_empty() {
            d.remove_container();
        }
        (installed, d.text())
    }

    #[test]
    fn crlf_files_stay_crlf_and_mixed_ones_keep_each_break() {
        let text = "{\r\n  \"mcpServers\": {\r\n    \"x\": {\"command\": \"a\"}\r\n  }\r\n}\r\n";
        let (installed, after) = round_trip(ClientId::ClaudeDesktop, text);
        assert_eq!(
            installed.matches('\n').count(),
            installed.matches("\r\n").count()
        );
        assert!(installed.contains("tandem-memory"));
        assert_eq!(after, text);
        // Mixed: each existing break as it was; Tandem's own lines end in LF.
        let text =
            "{\r\n  \"a\": 1,\n  \"mcpServers\": {\r\n    \"x\": {\"command\": \"a\"}\n  }\r\n}\n";
        let (installed, after) = round_trip(ClientId::ClaudeDesktop, text);
        assert!(installed.starts_with("{\r\n  \"a\": 1,\n"), "{installed:?}");
        assert_eq!(after, text);
        // TOML too.
        let text = "model = \"o4\"\r\n\r\n[mcp_servers.x]\r\ncommand = \"a\"\r\n";
        let (installed, after) = round_trip(ClientId::Codex, text);
        assert_eq!(
            installed.matches('\n').count(),
            installed.matches("\r\n").count()
        );
        assert_eq!(after, text);
    }

    #[test]
    fn utf16_files_are_refused_with_the_reason() {
        let text = "{\"mcpServers\": {}}\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let cases = [
            ([&[0xFF, 0xFE][..], &le].concat(), "UTF-16 (little-endian)"),
            ([&[0xFE, 0xFF][..], &be].concat(), "UTF-16 (big-endian)"),
            (le.clone(), "UTF-16 (little-endian)"),
            (be.clone(), "UTF-16 (big-endian)"),
        ];
        for (bytes, encoding) in cases {
            let err = ConfigDoc::parse(ClientId::ClaudeDesktop, Path::new("/cfg"), Some(&bytes))
                .err()
                .expect("refused");
            let message = err.to_string();
            assert!(
                message.contains(encoding) && message.contains("save it as UTF-8"),
                "{message}"
            );
            assert!(message.contains("Tandem changed nothing"), "{message}");
        }
        // Latin-1 is not UTF-16: said as it is.
        let err = ConfigDoc::parse(
            ClientId::ClaudeDesktop,
            Path::new("/cfg"),
            Some(b"{\"a\": \"caf\xe9\"}"),
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("not UTF-8 text"), "{err}");
    }

    #[test]
    fn a_compact_file_gets_compact_entries_and_its_bytes_back() {
        let text = r#"{"mcpServers":{"x":{"command":"a"}},"theme":"dark"}"#;
        let (installed, after) = round_trip(ClientId::ClaudeCode, text);
        assert_eq!(
            installed,
            r#"{"mcpServers":{"x":{"command":"a"},"tandem-workspace":{"command":"/t/tandem","args":["mcp","memory"],"env":{}},"tandem-memory":{"command":"/t/tandem","args":["mcp","memory"],"env":{}}},"theme":"dark"}"#
        );
        assert_eq!(after, text);

        let text = "{\"theme\": \"dark\", \"n\": [1, 2]}\n";
        let (installed, after) = round_trip(ClientId::Cursor, text);
        assert_eq!(
            installed,
            "{\"theme\": \"dark\", \"n\": [1, 2], \"mcpServers\": {\"tandem-workspace\": \
             {\"command\": \"/t/tandem\", \"args\": [\"mcp\", \"memory\"], \"env\": {}}, \
             \"tandem-memory\": {\"command\": \"/t/tandem\", \"args\": [\"mcp\", \"memory\"], \
             \"env\": {}}}}\n"
        );
        assert_eq!(after, text);
    }

    #[test]
    fn compact_and_mixed_layouts_come_back_byte_identical() {
        let cases: [(ClientId, &str); 10] = [
            (ClientId::ClaudeCode, "{}"),
            (ClientId::ClaudeCode, "{}\n"),
            (ClientId::ClaudeDesktop, r#"{"mcpServers":{}}"#),
            (
                ClientId::ClaudeDesktop,
                r#"{"a":1,"mcpServers":{},"b":[1,{"c":2}]}"#,
            ),
            (
                ClientId::Gemini,
                "{\"mcpServers\": {\"x\": {\"command\": \"a\"}}}\r\n",
            ),
            (
                ClientId::ClaudeDesktop,
                "{\n  \"mcpServers\": {\"x\": {\"command\": \"a\"}},\n  \"theme\": \"dark\"\n}\n",
            ),
            (
                ClientId::Cursor,
                "{\"mcpServers\":{\n  \"x\": {\"command\": \"a\"}\n},\"theme\":\"dark\"}",
            ),
            (
                ClientId::VsCode,
                "{\"servers\": {\"x\": {\"type\": \"stdio\", \"command\": \"a\"},}, /* c */ \"z\": 1,}",
            ),
            (
                ClientId::Zed,
                "{ \"context_servers\": { \"x\": { \"command\": \"a\" } }, \"vim_mode\": true }",
            ),
            (
                ClientId::Zed,
                "// mine\n{\"context_servers\" : {\"x\" : 1}}\n",
            ),
        ];
        for (id, text) in cases {
            let (installed, after) = round_trip(id, text);
            assert_eq!(after, text, "{id}: installed as {installed}");
            let lines = |t: &str| t.trim_end().lines().count();
            if lines(text) == 1 && text.trim() != "{}" {
                assert_eq!(lines(&installed), 1, "{id}: {installed}");
            }
        }
    }

    #[test]
    fn strings_with_quotes_and_backslashes_survive() {
        let mut d = doc(ClientId::ClaudeDesktop, "{}").unwrap();
        let v =
            json!({"command": r#"C:\Program Files\Tandem "x"\tandem.exe"#, "args": ["é", "\n"]});
        d.set("tandem-memory", &v);
        let again = doc(ClientId::ClaudeDesktop, &d.text()).unwrap();
        assert_eq!(again.get("tandem-memory"), Some(v));
    }

    #[test]
    fn strict_json_refuses_comments_but_jsonc_accepts_them() {
        let text = "{\n  // c\n  \"mcpServers\": {},\n}\n";
        let err = doc(ClientId::ClaudeCode, text).err().unwrap();
        let ClientsError::Malformed { line, column, .. } = err else {
            panic!("{err}");
        };
        assert_eq!((line, column), (2, 3));
        assert!(doc(ClientId::Zed, text).is_ok());
    }

    #[test]
    fn malformed_files_name_line_and_column() {
        let cases: [(ClientId, &str, (usize, usize)); 6] = [
            (ClientId::ClaudeCode, "{\n  \"a\": 1,\n  \"b\" 2\n}", (3, 7)),
            (ClientId::ClaudeCode, "", (1, 1)),
            (ClientId::ClaudeCode, "  \n", (1, 1)),
            (ClientId::ClaudeCode, "[1]", (1, 1)),
            (ClientId::Zed, "// nothing\n", (1, 1)),
            (ClientId::Codex, "a = 1\n[x\n", (2, 3)),
        ];
        for (id, text, at) in cases {
            match doc(id, text) {
                Err(ClientsError::Malformed { line, column, .. }) => {
                    assert_eq!((line, column), at, "{text:?}")
                }
                Err(other) => panic!("{text:?}: {other}"),
                Ok(_) => panic!("{text:?} parsed"),
            }
        }
    }

    #[test]
    fn a_servers_key_that_is_not_a_container_is_refused_with_its_position() {
        let err = doc(ClientId::Cursor, "{\n  \"mcpServers\": [1]\n}")
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                ClientsError::ServersNotContainer {
                    line: 2,
                    column: 17,
                    ..
                }
            ),
            "{err}"
        );
        let err = doc(ClientId::Codex, "mcp_servers = 3\n").err().unwrap();
        assert!(
            matches!(
                err,
                ClientsError::ServersNotContainer {
                    line: 1,
                    column: 15,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("/cfg"));
    }

    #[test]
    fn toml_entries_become_tables_and_leave_the_rest_alone() {
        let text = "# Codex\nmodel = \"o3\" # best\n\n[mcp_servers.other]\ncommand = \"x\"\n\n[tui]\nnotifications = true\n";
        let mut d = doc(ClientId::Codex, text).unwrap();
        d.set(
            "tandem-memory",
            &json!({"command": "/t/tandem", "args": ["mcp", "memory"], "env": {"A": "b"}}),
        );
        insta::assert_snapshot!(d.text());
        assert_eq!(d.get("other"), Some(json!({"command": "x"})));
        assert!(d.remove("tandem-memory"));
        assert_eq!(d.text(), text);
    }

    #[test]
    fn toml_replacement_keeps_the_comment_above_the_table() {
        let text = "# ours\n[mcp_servers.tandem-memory]\ncommand = \"/old\"\n\n[other]\na = 1\n";
        let mut d = doc(ClientId::Codex, text).unwrap();
        d.set("tandem-memory", &json!({"command": "/new"}));
        assert_eq!(
            d.text(),
            "# ours\n[mcp_servers.tandem-memory]\ncommand = \"/new\"\n\n[other]\na = 1\n"
        );
    }

    #[test]
    fn inline_toml_containers_get_inline_entries() {
        let text = "mcp_servers = { other = { command = \"x\" } }\n";
        let mut d = doc(ClientId::Codex, text).unwrap();
        d.set("tandem-memory", &json!({"command": "/t"}));
        assert_eq!(d.get("tandem-memory"), Some(json!({"command": "/t"})));
        d.remove("tandem-memory");
        assert_eq!(d.text(), text);
    }

    #[test]
    fn a_byte_order_mark_is_kept() {
        let text = "\u{feff}{\n  \"a\": 1\n}\n";
        let mut d = doc(ClientId::ClaudeDesktop, text).unwrap();
        d.set("tandem-memory", &entry());
        assert!(d.text().starts_with('\u{feff}'));
        d.remove("tandem-memory");
        d.remove_container();
        assert_eq!(d.text(), text);
    }

    #[test]
    fn missing_files_start_blank() {
        let d = ConfigDoc::parse(ClientId::Cursor, Path::new("/x"), None).unwrap();
        assert!(d.is_blank() && !d.has_container());
        let d = ConfigDoc::parse(ClientId::Codex, Path::new("/x"), None).unwrap();
        assert!(d.is_blank());
    }
}
