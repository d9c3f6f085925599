//! What both servers show a client about their tools, in one place: schemas in the plain JSON
//! Schema a model needs (every session pays for each character of it), only standard
//! `format`s, and the read-only tool set taken from the tools' own annotations.

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Map, Value};

/// Number formats schemars writes that are not JSON Schema's (clients warn about them); the
/// unsigned ones become `minimum: 0`.
const NUMBER_FORMATS: [&str; 13] = [
    "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "int",
    "uint128", "float", "double",
];

/// Compacts every tool's input schema for the model and makes every schema standard.
pub fn compact<S>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        let mut input = Value::Object((*tool.input_schema).clone());
        let defs = input
            .as_object_mut()
            .and_then(|o| o.remove("$defs"))
            .unwrap_or(Value::Null);
        compact_input(&mut input, &defs);
        if let Value::Object(o) = &mut input {
            o.remove("$schema");
        }
        if let Value::Object(o) = input {
            tool.input_schema = std::sync::Arc::new(o);
        }
        if let Some(output) = &tool.output_schema {
            let mut output = Value::Object((**output).clone());
            standard_formats(&mut output);
            if let Value::Object(o) = output {
                tool.output_schema = Some(std::sync::Arc::new(o));
            }
        }
    }
}

/// Hides every tool that is not annotated read-only (`--read-only`).
pub fn keep_read_only<S: Send + Sync + 'static>(router: &mut ToolRouter<S>) {
    let writers: Vec<String> = router
        .map
        .values()
        .filter(|r| r.attr.annotations.as_ref().and_then(|a| a.read_only_hint) != Some(true))
        .map(|r| r.attr.name.to_string())
        .collect();
    for name in writers {
        router.disable_route(name);
    }
}

/// An input schema as a model needs it: references inlined, an optional value's `null`
/// left implicit (it is simply not required), null defaults dropped, enums of constants as
/// one `enum`, standard formats only.
fn compact_input(value: &mut Value, defs: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let name = reference.trim_start_matches("#/$defs/");
                if let Some(def) = defs.get(name) {
                    // The property says what it is for; the type's own doc is for Rust.
                    let mut inlined = def.clone();
                    if let Value::Object(inlined) = &mut inlined {
                        inlined.remove("description");
                        if let Some(d) = map.get("description") {
                            inlined.insert("description".into(), d.clone());
                        }
                    }
                    *value = inlined;
                    compact_input(value, defs);
                    return;
                }
            }
            if drop_null_alternative(map) {
                compact_input(value, defs);
                return;
            }
            merge_constants(map);
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            if let Some(Value::Array(types)) = map.get("type") {
                let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if types.len() == 1 {
                    map.insert("type".into(), types[0].clone());
                }
            }
            format_to_minimum(map);
            for v in map.values_mut() {
                compact_input(v, defs);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| compact_input(v, defs)),
        _ => {}
    }
}

/// `anyOf: [X, {"type": "null"}]` is X. True when it changed the schema.
fn drop_null_alternative(map: &mut Map<String, Value>) -> bool {
    let Some(Value::Array(any)) = map.get("anyOf") else {
        return false;
    };
    let rest: Vec<&Value> = any
        .iter()
        .filter(|v| v.get("type") != Some(&Value::String("null".into())))
        .collect();
    if rest.len() == 1 && rest.len() < any.len() {
        let kept = rest[0].clone();
        map.remove("anyOf");
        if let Value::Object(kept) = kept {
            for (k, v) in kept {
                map.entry(k).or_insert(v);
            }
        }
        return true;
    }
    false
}

/// `oneOf` of string constants (how schemars writes a documented enum) is one `enum`.
fn merge_constants(map: &mut Map<String, Value>) {
    let Some(Value::Array(one_of)) = map.get("oneOf") else {
        return;
    };
    let mut values = Vec::new();
    for v in one_of {
        if v.get("type") != Some(&Value::String("string".into())) {
            return;
        }
        match (v.get("const"), v.get("enum")) {
            (Some(c), None) => values.push(c.clone()),
            (None, Some(Value::Array(e))) => values.extend(e.iter().cloned()),
            _ => return,
        }
    }
    map.remove("oneOf");
    map.insert("type".into(), Value::String("string".into()));
    map.insert("enum".into(), Value::Array(values));
}

fn format_to_minimum(map: &mut Map<String, Value>) {
    let Some(Value::String(format)) = map.get("format") else {
        return;
    };
    if !NUMBER_FORMATS.contains(&format.as_str()) {
        return;
    }
    if format.starts_with('u') {
        map.entry("minimum").or_insert(Value::from(0));
    }
    map.remove("format");
}

/// Only standard formats, anywhere in the schema (output schemas keep their shape: the
/// official client validates results against them).
fn standard_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            format_to_minimum(map);
            map.values_mut().for_each(standard_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_input_schema_keeps_its_meaning_in_fewer_characters() {
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["status"],
            "properties": {
                "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 0, "default": null},
                "since": {"type": ["integer", "null"], "format": "int64"},
                "status": {"$ref": "#/$defs/Status"},
                "state": {"anyOf": [{"$ref": "#/$defs/Status"}, {"type": "null"}]}
            },
            "$defs": {"Status": {"description": "The lifecycle.", "oneOf": [
                {"type": "string", "enum": ["done"]},
                {"type": "string", "const": "open", "description": "Waiting."}
            ]}}
        });
        let defs = schema.as_object_mut().unwrap().remove("$defs").unwrap();
        compact_input(&mut schema, &defs);
        schema.as_object_mut().unwrap().remove("$schema");
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "required": ["status"],
                "properties": {
                    "limit": {"type": "integer", "minimum": 0},
                    "since": {"type": "integer"},
                    "status": {"type": "string", "enum": ["done", "open"]},
                    "state": {"type": "string", "enum": ["done", "open"]}
                }
            })
        );
    }
}
