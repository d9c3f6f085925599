//! The memory server under stress and abuse: many processes writing at once, a crash in the
//! middle of a write storm, a damaged database file, and bad input — on both engines where
//! the case is not the SQLite file's own.

use std::{collections::HashSet, time::Duration};

use futures::future::join_all;
use serde_json::{Value, json};
use tandem_store::memory::MemoryStore;
use tandem_tests::{RawSession, TestClient, TestHome, on_each_engine};
use tokio::io::AsyncWriteExt;

const MEMORY: &[&str] = &["mcp", "memory"];

on_each_engine!(
    four_processes_writing_2500_keys_each_lose_nothing,
    multi_thread
);
async fn four_processes_writing_2500_keys_each_lose_nothing(home: TestHome) {
    let mut sessions = Vec::new();
    for p in 0..4 {
        sessions.push(
            TestClient::named(&format!("writer-{p}"), "1")
                .connect(&home, MEMORY)
                .await,
        );
    }
    let runs = sessions.iter().enumerate().map(|(p, s)| async move {
        let calls = (0..2500).map(|i| async move {
            s.call(
                "memory_set",
                json!({"key": format!("w{p}/k{i}"), "value": {"p": p, "i": i}}),
            )
            .await
        });
        join_all(calls)
            .await
            .into_iter()
            .filter(|r| r.is_error == Some(true))
            .count()
    });
    let errors: usize = join_all(runs).await.into_iter().sum();
    assert_eq!(errors, 0, "writes failed");
    for s in sessions {
        s.close().await;
    }
    // The team store's client blocks: off the async runtime's thread.
    std::thread::scope(|s| {
        s.spawn(|| {
            let store = home.store();
            assert_eq!(store.stats().unwrap().entries, 10_000);
            assert_eq!(store.integrity_check().unwrap(), "ok");
        })
        .join()
        .unwrap()
    });
}

on_each_engine!(
    four_processes_incrementing_one_counter_with_cas_reach_exactly_1000,
    multi_thread
);
async fn four_processes_incrementing_one_counter_with_cas_reach_exactly_1000(home: TestHome) {
    let mut sessions = Vec::new();
    for p in 0..4 {
        sessions.push(
            TestClient::named(&format!("counter-{p}"), "1")
                .connect(&home, MEMORY)
                .await,
        );
    }
    let runs = sessions.iter().map(|s| async move {
        let mut conflicts = 0;
        for _ in 0..250 {
            loop {
                let got = s.ok("memory_get", json!({"keys": ["counter"]})).await;
                let (n, version) = match got["entries"].get(0) {
                    Some(e) => (e["value"].as_i64().unwrap(), e["version"].as_i64().unwrap()),
                    None => (0, 0),
                };
                let r = s
                    .call(
                        "memory_set",
                        json!({"key": "counter", "value": n + 1, "expectedVersion": version}),
                    )
                    .await;
                if r.is_error != Some(true) {
                    break;
                }
                let text = tandem_tests::text_of(&r);
                assert!(
                    text.contains("version conflict"),
                    "unexpected failure: {text}"
                );
                conflicts += 1;
            }
        }
        conflicts
    });
    let conflicts: usize = join_all(runs).await.into_iter().sum();
    let got = sessions[0]
        .ok("memory_get", json!({"keys": ["counter"]}))
        .await;
    assert_eq!(
        got["entries"][0]["value"], 1000,
        "after {conflicts} conflicts"
    );
    for s in sessions {
        s.close().await;
    }
}

on_each_engine!(kill_9_in_a_write_storm_keeps_every_acknowledged_write_and_a_sound_file);
async fn kill_9_in_a_write_storm_keeps_every_acknowledged_write_and_a_sound_file(home: TestHome) {
    let mut raw = RawSession::start(&home, MEMORY).await;
    // Pipeline many writes, then read acknowledgements for a while and kill mid-stream.
    let total = 3000;
    let mut batch = String::new();
    for i in 0..total {
        batch.push_str(
            &json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                    "params": {"name": "memory_set", "arguments": {"key": format!("storm/{i}"), "value": "x".repeat(200)}}})
            .to_string(),
        );
        batch.push('\n');
    }
    let mut stdin = raw.take_stdin();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(batch.as_bytes()).await;
        let _ = stdin.flush().await;
        stdin
    });
    let mut acked = HashSet::new();
    while acked.len() < total / 3 {
        let reply = raw.read_response().await;
        assert_eq!(reply["result"]["isError"], false, "{reply}");
        acked.insert(reply["id"].as_i64().unwrap());
    }
    raw.child.start_kill().unwrap();
    raw.child.wait().await.unwrap();
    drop(writer);

    std::thread::scope(|s| {
        s.spawn(|| {
            let store = home.store();
            assert_eq!(store.integrity_check().unwrap(), "ok");
            let keys: Vec<String> = acked.iter().map(|i| format!("storm/{i}")).collect();
            for chunk in keys.chunks(100) {
                let got = store.get(chunk).unwrap();
                assert!(
                    got.missing.is_empty(),
                    "acknowledged writes lost: {:?}",
                    got.missing
                );
            }
            assert!(store.stats().unwrap().entries >= acked.len() as i64);
        })
        .join()
        .unwrap()
    });
}

#[tokio::test]
async fn a_file_that_is_not_a_database_stops_the_server_and_stays_byte_identical() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.tandem_home()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("notes.db", b"my notes, definitely not SQLite\n".repeat(100)),
        ("damaged.db", {
            let mut b = b"SQLite format 3\0".to_vec();
            b.extend((0..16384u32).map(|i| (i * 7 % 251) as u8));
            b
        }),
    ];
    for (name, bytes) in cases {
        let path = home.tandem_home().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = home
            .run(&["mcp", "memory", "--db", path.to_str().unwrap()])
            .await;
        assert!(
            !out.status.success(),
            "{name}: server started on a bad file"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(name),
            "{name}: message does not name the file: {stderr}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was modified");
    }
}

on_each_engine!(bad_input_gets_clear_errors_and_the_server_keeps_serving);
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving(home: TestHome) {
    let mut raw = RawSession::start(&home, MEMORY).await;

    let checks: Vec<(Value, &str)> = vec![
        (json!({"key": "", "value": 1}), "must not be empty"),
        (json!({"key": "a\u{1}b", "value": 1}), "control characters"),
        (
            json!({"key": "big", "value": "x".repeat(2 * 1024 * 1024)}),
            "limit is 1048576 bytes",
        ),
        (json!({"key": "k"}), "missing field `value`"),
        (
            json!({"key": "k", "value": 1, "tags": (0..40).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "at most 32",
        ),
        (
            json!({"key": "k", "value": 1, "expected_version": 3}),
            "unknown field",
        ),
    ];
    for (args, expected) in checks {
        let reply = raw.call_tool("memory_set", args).await;
        assert_eq!(reply["result"]["isError"], true, "{reply}");
        let text = reply["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(expected), "expected {expected:?} in {text:?}");
    }

    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    let reply = raw.call_tool("memory_get", json!({"keys": keys})).await;
    assert_eq!(reply["result"]["isError"], true);
    assert!(
        reply["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("1 to 100 keys")
    );

    let reply = raw.call_tool("no_such_tool", json!({})).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("memory_set")
    );

    raw.send_line("{this is not json").await;
    let reply = raw.read_response().await;
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert_eq!(reply["id"], Value::Null);

    raw.send_line(r#"{"jsonrpc":"2.0","id":"x","method":17}"#)
        .await;
    let reply = raw.read_response().await;
    assert_eq!(reply["error"]["code"], -32600, "{reply}");

    // Still serving, and nothing from the failed calls was written.
    let ping = raw.request("ping", json!({})).await;
    assert!(ping.get("result").is_some(), "{ping}");
    let reply = raw
        .call_tool("memory_set", json!({"key": "ok", "value": 1}))
        .await;
    assert_eq!(reply["result"]["isError"], false, "{reply}");
    let reply = raw.call_tool("memory_list", json!({})).await;
    let entries = reply["result"]["structuredContent"]["entries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1, "{reply}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn the_last_server_to_exit_leaves_no_log_for_the_next_one_to_replay() {
    let home = TestHome::new();
    let wal = home.tandem_home().join("memory.db-wal");
    let mut first = RawSession::start(&home, MEMORY).await;
    let mut second = RawSession::start(&home, MEMORY).await;
    for i in 0..50 {
        let set = first
            .call_tool("memory_set", json!({"key": format!("k/{i}"), "value": i}))
            .await;
        assert!(set["result"]["isError"] != true, "{set}");
    }
    assert!(wal.exists(), "the store runs in WAL mode");
    // One exits: the other still has the database open, so the log stays.
    drop(first.take_stdin());
    first.child.wait().await.unwrap();
    assert!(wal.exists());
    let got = second
        .call_tool("memory_get", json!({"keys": ["k/49"]}))
        .await;
    assert_eq!(
        got["result"]["structuredContent"]["entries"][0]["value"],
        49
    );
    // The last one exits: its log is folded into the database and removed, so the next
    // start does not read it back first.
    drop(second.take_stdin());
    second.child.wait().await.unwrap();
    assert!(!wal.exists(), "a clean exit leaves memory.db-wal behind");
    let store = MemoryStore::open(home.memory_db()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.stats().unwrap().entries, 50);
}
