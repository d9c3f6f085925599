//! A change made in one session reaches the others: a subscribed entry's
//! `resources/updated`, and `resources/list_changed` for everyone.

use std::{sync::atomic::Ordering, time::Duration};

use serde_json::json;
use tandem_mcp::memory::{MemoryShared, entry_uri};

use crate::common;

#[tokio::test]
async fn a_change_in_one_session_is_pushed_to_a_subscriber_in_another() {
    let dir = tempfile::tempdir().unwrap();
    let shared = MemoryShared::open(&dir.path().join("memory.db")).unwrap();
    let watcher = common::memory_session(shared.clone()).await;
    let writer = common::memory_session(shared).await;
    writer
        .ok("memory_set", json!({"key": "p/db", "value": "sqlite"}))
        .await;
    let uri = entry_uri("p/db");
    // The legacy subscription, which Claude Code and the reference clients still send.
    #[allow(deprecated)]
    watcher
        .client
        .subscribe(rmcp::model::SubscribeRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let heard = watcher.recorder.heard.notified();
    writer
        .ok("memory_set", json!({"key": "p/db", "value": "postgres"}))
        .await;
    tokio::time::timeout(Duration::from_secs(5), async {
        heard.await;
        while !watcher.recorder.updated.lock().unwrap().contains(&uri) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("no resources/updated within 5 s");
    assert!(watcher.recorder.list_changed.load(Ordering::SeqCst) >= 1);
}
