//! Interop with a client nobody here wrote: the official TypeScript SDK (pinned in
//! tests/js/package.json), which validates structured results against each outputSchema.

use std::collections::BTreeMap;

use serde_json::json;
use tandem_tests::{TestHome, run_node_script};

tandem_tests::on_each_engine!(the_official_typescript_client_round_trips_every_memory_tool);
async fn the_official_typescript_client_round_trips_every_memory_tool(home: TestHome) {
    let out = run_node_script(&home, "memory-interop.mjs", &[], &BTreeMap::new()).await;
    assert_eq!(out["serverName"], "tandem-memory");
    assert_eq!(
        out["tools"],
        json!([
            "memory_changes",
            "memory_delete",
            "memory_get",
            "memory_history",
            "memory_list",
            "memory_restore",
            "memory_search",
            "memory_set"
        ])
    );
    assert_eq!(
        out["set"],
        json!({"key": "proj-x/auth-approach", "version": 1, "created": true})
    );
    assert_eq!(out["set2"]["version"], 2);
    assert_eq!(out["get"]["entries"][0]["value"]["library"], "jsonwebtoken");
    assert_eq!(
        out["get"]["entries"][0]["updatedBy"],
        home.by("sdk-interop 1.32.2")
    );
    assert_eq!(out["get"]["missing"], json!(["proj-x/missing"]));
    assert_eq!(out["listKeys"], json!(["proj-x/auth-approach"]));
    assert_eq!(out["searchKeys"], json!(["proj-x/auth-approach"]));
    assert_eq!(out["historyVersions"], json!([2, 1]));
    assert_eq!(out["restore"]["version"], 3);
    assert_eq!(out["changeOps"], json!(["set", "set", "restore"]));
    assert_eq!(out["del"]["deleted"], true);
    assert!(
        out["conflictText"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(
        out["resourceCount"], 0,
        "a deleted entry is no longer a resource"
    );
    assert_eq!(out["prompts"], json!(["recall"]));
    assert!(
        out["recallText"]
            .as_str()
            .unwrap()
            .contains("memory_search")
    );
}
