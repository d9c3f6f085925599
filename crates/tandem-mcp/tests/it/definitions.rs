//! What every session pays before it does anything: the tool definitions (name, description,
//! input schema), the servers' instructions and their prompt lists, as a client shows them to
//! the model. Characters are the bound (no Claude tokenizer runs offline).

use serde_json::Value;

use crate::common::{self, Connected};

/// Everything a client shows the model when it connects to both servers.
const BOUND: usize = 11_000;

async fn visible(connected: &Connected) -> (usize, Vec<(String, usize)>) {
    let client = &connected.client;
    let tools = client.list_all_tools().await.unwrap();
    let mut sizes = Vec::new();
    let mut total = 0;
    for tool in &tools {
        let schema = serde_json::to_string(&*tool.input_schema).unwrap();
        let size = tool.name.len() + tool.description.as_deref().unwrap_or("").len() + schema.len();
        sizes.push((tool.name.to_string(), size));
        total += size;
    }
    let info = client.peer_info().unwrap();
    total += info.instructions.as_deref().unwrap_or("").len();
    let prompts = client.list_all_prompts().await.unwrap();
    for prompt in &prompts {
        let shown = serde_json::json!({
            "name": prompt.name,
            "description": prompt.description,
            "arguments": prompt.arguments,
        });
        total += serde_json::to_string(&shown).unwrap().len();
    }
    (total, sizes)
}

/// Every `format` in a schema.
fn formats(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(f)) = map.get("format") {
                out.push(f.clone());
            }
            map.values().for_each(|v| formats(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| formats(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn both_servers_definitions_fit_the_bound_a_session_pays_for() {
    let memory = common::memory().await;
    let workspace = common::workspace(false).await;
    let (m, m_tools) = visible(&memory).await;
    let (w, w_tools) = visible(&workspace).await;
    eprintln!("memory {m} characters: {m_tools:?}");
    eprintln!("workspace {w} characters: {w_tools:?}");
    eprintln!("together {} of {BOUND}", m + w);
    assert!(
        m + w <= BOUND,
        "the two servers show the model {} characters (memory {m}, workspace {w}); the bound \
         is {BOUND}: say less, not less capability",
        m + w
    );
}

#[tokio::test]
async fn schemas_use_only_standard_json_schema_formats() {
    // JSON Schema's own formats; "uint", "int64" and the like make clients warn.
    const STANDARD: [&str; 8] = [
        "date-time",
        "date",
        "time",
        "duration",
        "email",
        "uri",
        "uuid",
        "regex",
    ];
    for connected in [common::memory().await, common::workspace(false).await] {
        for tool in connected.client.list_all_tools().await.unwrap() {
            let mut found = Vec::new();
            formats(&Value::Object((*tool.input_schema).clone()), &mut found);
            if let Some(schema) = &tool.output_schema {
                formats(&Value::Object((**schema).clone()), &mut found);
            }
            for f in found {
                assert!(
                    STANDARD.contains(&f.as_str()),
                    "{}: format {f:?}",
                    tool.name
                );
            }
        }
    }
}
