use std::sync::Arc;

use serde_json::json;

use super::*;

fn store() -> (tempfile::TempDir, MemoryStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryStore::open(dir.path().join("nested/memory.db")).unwrap();
    (dir, store)
}

fn set(store: &MemoryStore, key: &str, value: Value) -> SetOutcome {
    store.set_plain(key, &value, "test 1").unwrap()
}

#[test]
fn a_value_written_is_read_back_with_its_metadata() {
    let (_d, s) = store();
    let value = json!({"method": "JWT with refresh tokens", "library": "jose"});
    let tags = vec!["auth".to_string()];
    let out = s
        .set(
            &SetRequest {
                key: "proj-x/auth-approach",
                value: &value,
                tags: Some(&tags),
                expected_version: None,
            },
            "claude-ai 1.0",
        )
        .unwrap();
    assert_eq!((out.version, out.created), (1, true));
    let got = s
        .get(&["proj-x/auth-approach".into(), "nope".into()])
        .unwrap();
    assert_eq!(got.missing, ["nope"]);
    let e = &got.entries[0];
    assert_eq!(e.value, value);
    assert_eq!(e.tags, tags);
    assert_eq!(e.updated_by, "claude-ai 1.0");
    assert!(
        e.created_at.ends_with('Z') && e.created_at.len() == 24,
        "{}",
        e.created_at
    );
}

#[test]
fn versions_count_up_and_tags_are_kept_when_omitted() {
    let (_d, s) = store();
    let tags = vec!["t".to_string()];
    s.set(
        &SetRequest {
            key: "k",
            value: &json!(1),
            tags: Some(&tags),
            expected_version: None,
        },
        "a",
    )
    .unwrap();
    let out = set(&s, "k", json!(2));
    assert_eq!((out.version, out.created), (2, false));
    assert_eq!(s.get(&["k".into()]).unwrap().entries[0].tags, ["t"]);
}

#[test]
fn set_with_stale_version_is_rejected_and_names_the_current_version() {
    let (_d, s) = store();
    set(&s, "k", json!(1));
    set(&s, "k", json!(2));
    let err = s
        .set(
            &SetRequest {
                key: "k",
                value: &json!(3),
                tags: None,
                expected_version: Some(1),
            },
            "a",
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("current version is 2"), "{msg}");
    assert_eq!(s.get(&["k".into()]).unwrap().entries[0].value, json!(2));
}

#[test]
fn expected_version_zero_means_must_not_exist() {
    let (_d, s) = store();
    let create = |v| {
        s.set(
            &SetRequest {
                key: "k",
                value: &json!(v),
                tags: None,
                expected_version: Some(0),
            },
            "a",
        )
    };
    assert!(create(1).is_ok());
    assert!(matches!(
        create(2),
        Err(StoreError::VersionConflict { current: 1, .. })
    ));
}

#[test]
fn delete_leaves_a_tombstone_and_the_key_can_be_created_again() {
    let (_d, s) = store();
    set(&s, "k", json!("a"));
    let del = s.delete("k", Some(1), "b").unwrap();
    assert_eq!((del.deleted, del.version), (true, 2));
    assert_eq!(s.get(&["k".into()]).unwrap().missing, ["k"]);
    assert!(!s.delete("k", None, "b").unwrap().deleted);
    let again = s
        .set(
            &SetRequest {
                key: "k",
                value: &json!("b"),
                tags: None,
                expected_version: Some(0),
            },
            "c",
        )
        .unwrap();
    assert_eq!((again.version, again.created), (3, true));
    let history = s.history("k", None).unwrap();
    let versions: Vec<_> = history.iter().map(|h| (h.version, h.deleted)).collect();
    assert_eq!(versions, [(3, false), (2, true), (1, false)]);
    assert_eq!(history[1].value, Value::Null);
}

#[test]
fn restore_writes_an_old_value_as_a_new_version() {
    let (_d, s) = store();
    set(&s, "k", json!({"v": 1}));
    set(&s, "k", json!({"v": 2}));
    let r = s.restore("k", 1, "x").unwrap();
    assert_eq!((r.version, r.restored_from), (3, 1));
    assert_eq!(
        s.get(&["k".into()]).unwrap().entries[0].value,
        json!({"v": 1})
    );
    assert!(matches!(
        s.restore("k", 9, "x"),
        Err(StoreError::NoSuchVersion { .. })
    ));
    s.delete("k", None, "x").unwrap();
    assert!(matches!(
        s.restore("k", 4, "x"),
        Err(StoreError::RestoreTombstone { .. })
    ));
    assert_eq!(s.history("k", None).unwrap()[1].op, Op::Restore);
}

#[test]
fn changes_come_in_commit_order_and_the_cursor_resumes() {
    let (_d, s) = store();
    assert_eq!(s.changes(None, None).unwrap().cursor, 0);
    set(&s, "a", json!(1));
    set(&s, "b", json!(1));
    s.delete("a", None, "x").unwrap();
    let page = s.changes(Some(0), Some(2)).unwrap();
    let ops: Vec<_> = page
        .changes
        .iter()
        .map(|c| (c.key.as_str(), c.op))
        .collect();
    assert_eq!(ops, [("a", Op::Set), ("b", Op::Set)]);
    assert!(page.more);
    let rest = s.changes(Some(page.cursor), None).unwrap();
    assert_eq!(rest.changes.len(), 1);
    assert_eq!(rest.changes[0].op, Op::Delete);
    assert!(!rest.more);
    let nothing = s.changes(Some(rest.cursor), None).unwrap();
    assert!(nothing.changes.is_empty());
    assert_eq!(nothing.cursor, rest.cursor);
    let latest = s.changes(None, Some(2)).unwrap();
    assert_eq!(
        latest.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [2, 3]
    );
}

#[test]
fn list_pages_through_a_prefix_in_key_order() {
    let (_d, s) = store();
    for i in 0..7 {
        set(&s, &format!("p/{i}"), json!(i));
    }
    set(&s, "q/0", json!(0));
    set(&s, "p", json!("not under p/"));
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .list(Some("p/"), None, Some(3), cursor.as_deref())
            .unwrap();
        keys.extend(page.entries.into_iter().map(|e| e.key));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(keys, (0..7).map(|i| format!("p/{i}")).collect::<Vec<_>>());
    assert!(s.list(None, None, None, Some("!!")).is_err());
}

#[test]
fn list_filters_by_tag_and_previews_are_bounded() {
    let (_d, s) = store();
    let tags = vec!["decision".to_string()];
    let big = json!("x".repeat(5000));
    s.set(
        &SetRequest {
            key: "a",
            value: &big,
            tags: Some(&tags),
            expected_version: None,
        },
        "t",
    )
    .unwrap();
    set(&s, "b", json!(1));
    let page = s.list(None, Some("decision"), None, None).unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].preview.chars().count(), PREVIEW_CHARS);
    assert!(page.entries[0].preview.ends_with('…'));
}

#[test]
fn search_ranks_matches_and_survives_any_query() {
    let (_d, s) = store();
    set(
        &s,
        "proj-x/auth-approach",
        json!({"method": "JWT with refresh tokens", "library": "jose"}),
    );
    set(
        &s,
        "proj-x/db",
        json!({"engine": "postgres", "note": "tokens table for auth"}),
    );
    set(&s, "unrelated", json!("nothing here"));
    let hits = s.search("auth", None, None).unwrap();
    assert_eq!(
        hits[0].key, "proj-x/auth-approach",
        "key words weigh most: {hits:?}"
    );
    assert_eq!(hits.len(), 2);
    assert!(hits[0].score >= hits[1].score);
    let jwt = s.search("jw", None, None).unwrap();
    assert_eq!(jwt[0].key, "proj-x/auth-approach");
    assert!(jwt[0].snippet.contains("**JWT**"), "{}", jwt[0].snippet);
    // Nothing matches both words: fall back to any.
    assert_eq!(s.search("postgres jose", None, None).unwrap().len(), 2);
    for hostile in [
        "\"",
        "(",
        "auth AND",
        "NEAR(a b",
        "*",
        "a:b",
        "-x",
        "'; DROP TABLE",
        "",
    ] {
        s.search(hostile, None, None).unwrap();
    }
}

#[test]
fn deleted_entries_leave_search_and_tags() {
    let (_d, s) = store();
    let tags = vec!["t".to_string()];
    s.set(
        &SetRequest {
            key: "k",
            value: &json!("findme"),
            tags: Some(&tags),
            expected_version: None,
        },
        "a",
    )
    .unwrap();
    s.delete("k", None, "a").unwrap();
    assert!(s.search("findme", None, None).unwrap().is_empty());
    assert!(
        s.list(None, Some("t"), None, None)
            .unwrap()
            .entries
            .is_empty()
    );
}

#[test]
fn bad_input_is_refused() {
    let (_d, s) = store();
    let big = json!("x".repeat(MAX_VALUE_BYTES));
    let err = s
        .set(
            &SetRequest {
                key: "k",
                value: &big,
                tags: None,
                expected_version: None,
            },
            "a",
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::ValueTooLarge { .. }), "{err}");
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    assert!(s.get(&keys).is_err());
    assert!(s.get(&[]).is_err());
    assert!(s.get(&["a\u{7}".into()]).is_err());
    assert!(s.list(None, None, Some(0), None).is_err());
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("text.db", b"this is my diary, not a database\n".to_vec()),
        ("corrupt.db", {
            let mut b = SQLITE_HEADER.to_vec();
            b.extend(std::iter::repeat_n(0xA5u8, 8192));
            b
        }),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = MemoryStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NotADatabase { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} changed");
    }
}

#[test]
fn two_handles_on_one_file_see_each_other_and_never_lose_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let a = Arc::new(MemoryStore::open(&path).unwrap());
    let b = Arc::new(MemoryStore::open(&path).unwrap());
    set(&a, "shared", json!("from a"));
    assert_eq!(
        b.get(&["shared".into()]).unwrap().entries[0].value,
        json!("from a")
    );
    let threads: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                for _ in 0..50 {
                    loop {
                        let cur = s.get(&["counter".into()]).unwrap();
                        let (n, v) = cur
                            .entries
                            .first()
                            .map(|e| (e.value.as_i64().unwrap(), e.version))
                            .unwrap_or((0, 0));
                        let req = SetRequest {
                            key: "counter",
                            value: &json!(n + 1),
                            tags: None,
                            expected_version: Some(v),
                        };
                        match s.set(&req, "t") {
                            Ok(_) => break,
                            Err(StoreError::VersionConflict { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        a.get(&["counter".into()]).unwrap().entries[0].value,
        json!(200)
    );
    assert_eq!(a.integrity_check().unwrap(), "ok");
}

#[test]
fn server_memory_files_are_imported_as_entities() {
    let (_d, s) = store();
    let jsonl = r#"{"type":"entity","name":"Alice","entityType":"person","observations":["likes Rust"]}
{"type":"entity","name":"Tandem","entityType":"project","observations":[]}
{"type":"relation","from":"Alice","to":"Tandem","relationType":"works on"}
not json
{"type":"entity","name":"bad/","entityType":"x","observations":[]}
"#;
    let report = s.import_server_memory(jsonl.as_bytes(), "import").unwrap();
    assert_eq!(
        (report.entities, report.relations, report.written),
        (3, 1, 2)
    );
    assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
    let alice = &s.get(&["entity/Alice".into()]).unwrap().entries[0];
    assert_eq!(alice.value["observations"], json!(["likes Rust"]));
    assert_eq!(alice.value["relations"][0]["relationType"], "works on");
    assert_eq!(alice.tags, ["entity", "person"]);
}

#[test]
fn try_set_writes_when_free_and_steps_back_when_another_process_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let s = MemoryStore::open(&path).unwrap();
    let req = |v: &'static Value| SetRequest {
        key: "k",
        value: v,
        tags: None,
        expected_version: None,
    };
    static ONE: Value = Value::Bool(true);
    assert_eq!(s.try_set(&req(&ONE), "a").unwrap().unwrap().version, 1);
    // Another connection (as another process would) holds the write lock.
    let mut other = rusqlite::Connection::open(&path).unwrap();
    let tx = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let started = std::time::Instant::now();
    assert!(s.try_set(&req(&ONE), "a").unwrap().is_none());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "try_set waited"
    );
    drop(tx);
    // The wait-free attempt left the connection waiting normally again.
    assert_eq!(s.set(&req(&ONE), "a").unwrap().version, 2);
    assert_eq!(s.try_set(&req(&ONE), "a").unwrap().unwrap().version, 3);
}
