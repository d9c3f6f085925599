//! Import of the official `@modelcontextprotocol/server-memory` knowledge graph (JSONL: one
//! entity or relation per line). Each entity becomes `entity/{name}` holding its type,
//! observations and the relations it takes part in.

use std::{collections::BTreeMap, io::BufRead, io::Read};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{MemoryStore, validate_key};
use crate::Result;

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub entities: usize,
    pub relations: usize,
    pub written: usize,
    /// Lines or entities that could not be imported, each with the reason.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Entity {
        name: String,
        #[serde(rename = "entityType", default)]
        entity_type: String,
        #[serde(default)]
        observations: Vec<String>,
    },
    Relation {
        from: String,
        to: String,
        #[serde(rename = "relationType", default)]
        relation_type: String,
    },
}

pub(super) fn import(store: &MemoryStore, reader: impl Read, by: &str) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut entities: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut relations: Vec<(String, String, String)> = Vec::new();
    for (number, line) in std::io::BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|source| crate::StoreError::Io {
            path: "<import>".into(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Entity {
                name,
                entity_type,
                observations,
            }) => {
                report.entities += 1;
                let slot = entities.entry(name).or_default();
                slot.0 = entity_type;
                slot.1.extend(observations);
            }
            Ok(Line::Relation {
                from,
                to,
                relation_type,
            }) => {
                report.relations += 1;
                relations.push((from, to, relation_type));
            }
            Err(e) => report.skipped.push(format!("line {}: {e}", number + 1)),
        }
    }
    let mut items = Vec::with_capacity(entities.len());
    for (name, (entity_type, observations)) in &entities {
        let key = format!("entity/{name}");
        if let Err(e) = validate_key(&key) {
            report.skipped.push(format!("entity {name:?}: {e}"));
            continue;
        }
        let related: Vec<Value> = relations
            .iter()
            .filter(|(from, to, _)| from == name || to == name)
            .map(|(from, to, kind)| json!({"from": from, "to": to, "relationType": kind}))
            .collect();
        let value = json!({
            "name": name,
            "entityType": entity_type,
            "observations": observations,
            "relations": related,
        });
        let mut tags = vec!["entity".to_string()];
        if !entity_type.trim().is_empty() {
            tags.push(entity_type.chars().take(64).collect());
        }
        items.push((key, value, tags));
    }
    report.written = store.set_many(&items, by)?;
    Ok(report)
}
