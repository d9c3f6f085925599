//! The memory contract, run once per engine: the SQLite file and the team store on PostgreSQL.
//! The PostgreSQL server is a throw-away one that `cargo xtask test` starts for the run (its
//! settings in `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`); each test has a
//! team (schema) of its own, dropped after.

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use serde_json::{Value, json};

use super::*;

/// The throw-away server's settings.
pub(crate) fn pg_url() -> String {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: the team-store tests run under `cargo xtask test`, which \
                 starts a throw-away PostgreSQL"
            )
        })
    };
    format!(
        "host={} port={} user={} password={} dbname={}",
        var("PGHOST"),
        var("PGPORT"),
        var("PGUSER"),
        var("PGPASSWORD"),
        var("PGDATABASE")
    )
}

/// One engine's store for a test, and how to open it again (another process's connection).
enum Place {
    Sqlite(tempfile::TempDir),
    Team(String),
}

impl Place {
    fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().unwrap())
    }

    fn team() -> Self {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        Self::Team(name)
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Team(_) => "postgres",
        }
    }

    /// `by` as this engine records it: the team store adds the member (the role connected).
    fn by(&self, by: &str) -> String {
        match self {
            Self::Sqlite(_) => by.to_string(),
            Self::Team(_) => format!("{by} · {}", std::env::var("PGUSER").unwrap()),
        }
    }

    fn open(&self) -> MemoryStore {
        match self {
            Self::Sqlite(dir) => MemoryStore::open(dir.path().join("memory.db")).unwrap(),
            Self::Team(team) => MemoryStore::connect_team(&pg_url(), team, None).unwrap(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Self::Team(team) = self
            && let Ok(mut client) = postgres::Client::connect(&pg_url(), postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{team}\" CASCADE"));
        }
    }
}

/// Runs `test` on each engine.
fn on_each(mut test: impl FnMut(&Place, &MemoryStore)) {
    for place in [Place::sqlite(), Place::team()] {
        let store = place.open();
        assert_eq!(store.engine(), place.name());
        test(&place, &store);
    }
}

fn req<'a>(key: &'a str, value: &'a Value, expected: Option<i64>) -> SetRequest<'a> {
    SetRequest {
        key,
        value,
        tags: None,
        expected_version: expected,
    }
}

#[test]
fn versions_count_up_and_compare_and_swap_refuses_a_stale_version() {
    on_each(|place, s| {
        let v = json!({"method": "JWT"});
        let first = s.set(&req("auth", &v, Some(0)), "a").unwrap();
        assert_eq!(
            (first.version, first.created),
            (1, true),
            "{}",
            place.name()
        );
        let second = s.set(
            &req("auth", &json!({"method": "JWT", "library": "jose"}), None),
            "b",
        );
        assert_eq!(second.unwrap().version, 2);
        for stale in [0, 1, 3] {
            let err = s.set(&req("auth", &v, Some(stale)), "c").unwrap_err();
            assert!(
                matches!(err, StoreError::VersionConflict { current: 2, .. }),
                "{}: {err}",
                place.name()
            );
        }
        assert_eq!(s.set(&req("auth", &v, Some(2)), "c").unwrap().version, 3);
        let got = s.get(&["auth".into(), "nope".into()]).unwrap();
        assert_eq!(got.entries[0].value, v);
        assert_eq!(got.entries[0].updated_by, place.by("c"));
        assert_eq!(got.missing, ["nope"]);
    });
}

#[test]
fn a_delete_leaves_a_tombstone_and_versions_go_on_after_it() {
    on_each(|place, s| {
        let v = json!(1);
        s.set(&req("k", &v, None), "a").unwrap();
        let gone = s.delete("k", Some(1), "a").unwrap();
        assert_eq!((gone.deleted, gone.version), (true, 2), "{}", place.name());
        assert_eq!(s.get(&["k".into()]).unwrap().missing, ["k"]);
        assert!(!s.delete("k", None, "a").unwrap().deleted);
        let err = s.set(&req("k", &v, Some(2)), "a").unwrap_err();
        assert!(matches!(
            err,
            StoreError::VersionConflict {
                current: 0,
                tombstone: Some(2),
                ..
            }
        ));
        let again = s.set(&req("k", &json!(2), Some(0)), "b").unwrap();
        assert_eq!((again.version, again.created), (3, true));
        let history = s.history("k", None).unwrap();
        let ops: Vec<(i64, Op, bool)> = history
            .iter()
            .map(|h| (h.version, h.op, h.deleted))
            .collect();
        assert_eq!(
            ops,
            [
                (3, Op::Set, false),
                (2, Op::Delete, true),
                (1, Op::Set, false)
            ]
        );
        assert_eq!(history[1].value, Value::Null);
        assert_eq!(history[2].value, json!(1));
    });
}

#[test]
fn tags_stay_unless_given_and_bad_input_is_refused() {
    on_each(|place, s| {
        let v = json!("x");
        let tags = vec!["Auth".to_string(), "auth ".to_string(), "api".to_string()];
        s.set(
            &SetRequest {
                key: "t",
                value: &v,
                tags: Some(&tags),
                expected_version: None,
            },
            "a",
        )
        .unwrap();
        s.set(&req("t", &json!("y"), None), "a").unwrap();
        let got = s.get(&["t".into()]).unwrap();
        assert_eq!(
            got.entries[0].tags,
            ["Auth", "auth", "api"],
            "{}",
            place.name()
        );
        let big = Value::String("x".repeat(MAX_VALUE_BYTES + 1));
        assert!(matches!(
            s.set(&req("t", &big, None), "a"),
            Err(StoreError::ValueTooLarge { .. })
        ));
        assert!(matches!(
            s.set(&req("", &v, None), "a"),
            Err(StoreError::InvalidKey { .. })
        ));
        assert_eq!(
            s.history("t", None).unwrap().len(),
            2,
            "nothing written by the refusals"
        );
    });
}

#[test]
fn the_feed_pages_by_cursor_in_commit_order() {
    on_each(|place, s| {
        assert_eq!(s.last_seq().unwrap(), 0);
        let empty = s.changes(None, None).unwrap();
        assert_eq!(
            (empty.changes.len(), empty.cursor),
            (0, 0),
            "{}",
            place.name()
        );
        for i in 0..5 {
            s.set(&req(&format!("k{i}"), &json!(i), None), "a").unwrap();
        }
        s.delete("k0", None, "b").unwrap();
        let page = s.changes(Some(0), Some(4)).unwrap();
        let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert!(page.more);
        let rest = s.changes(Some(page.cursor), Some(4)).unwrap();
        assert_eq!(rest.changes.len(), 2);
        assert!(!rest.more);
        assert_eq!(rest.changes[1].op, Op::Delete);
        assert_eq!(rest.changes[1].by, place.by("b"));
        assert_eq!(rest.cursor, 6);
        assert_eq!(s.last_seq().unwrap(), 6);
        let newest = s.changes(None, Some(2)).unwrap();
        assert_eq!(
            newest.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [5, 6]
        );
        assert_eq!(s.changes(Some(6), None).unwrap().cursor, 6);
    });
}

/// Four writers (each its own connection, as separate processes have) and a reader that polls
/// by cursor with pauses: the reader sees every change once, numbered 1, 2, 3, … with no gap,
/// and a counter kept by compare-and-swap loses no increment.
#[test]
fn concurrent_writers_and_a_paused_reader_see_every_change_once_in_order() {
    const WRITERS: usize = 4;
    const EACH: usize = 40;
    on_each(|place, _| {
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = place.open();
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    for i in 0..EACH {
                        store
                            .set(&req(&format!("w{w}/k{i}"), &json!(i), None), "w")
                            .unwrap();
                        // A compare-and-swap increment, retried on conflict.
                        loop {
                            let now = store.get(&["counter".into()]).unwrap();
                            let (value, version) = now
                                .entries
                                .first()
                                .map(|e| (e.value.as_i64().unwrap_or(0), e.version))
                                .unwrap_or((0, 0));
                            let next = json!(value + 1);
                            match store.set(&req("counter", &next, Some(version)), "w") {
                                Ok(_) => break,
                                Err(StoreError::VersionConflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                })
            })
            .collect();
        let reader = place.open();
        start.wait();
        let total = (WRITERS * EACH * 2) as i64;
        let mut seen = Vec::new();
        let mut cursor = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while (seen.len() as i64) < total && std::time::Instant::now() < deadline {
            let page = reader.changes(Some(cursor), Some(17)).unwrap();
            seen.extend(page.changes.iter().map(|c| c.seq));
            cursor = page.cursor;
            // Paused while the writers go on.
            std::thread::sleep(Duration::from_millis(3));
        }
        for w in writers {
            w.join().unwrap();
        }
        seen.extend(
            reader
                .changes(Some(cursor), Some(1000))
                .unwrap()
                .changes
                .iter()
                .map(|c| c.seq),
        );
        let expected: Vec<i64> = (1..=total).collect();
        assert_eq!(
            seen,
            expected,
            "{}: every change once, in order",
            place.name()
        );
        let counter = reader.get(&["counter".into()]).unwrap();
        assert_eq!(
            counter.entries[0].value,
            json!(WRITERS * EACH),
            "{}",
            place.name()
        );
        assert_eq!(counter.entries[0].version, (WRITERS * EACH) as i64);
    });
}

#[test]
fn the_team_schema_is_made_once_when_several_processes_start_together() {
    let place = Place::team();
    let Place::Team(team) = &place else {
        unreachable!()
    };
    let start = Arc::new(Barrier::new(4));
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let team = team.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                TeamMemory::connect(&pg_url(), &team, None).map(|_| ())
            })
        })
        .collect();
    for o in opened {
        o.join().unwrap().unwrap();
    }
    let store = place.open();
    store.set(&req("k", &json!(1), None), "a").unwrap();
    assert_eq!(store.last_seq().unwrap(), 1);
}

#[test]
fn a_team_schema_from_a_newer_tandem_is_refused_and_bad_team_names_too() {
    let place = Place::team();
    let Place::Team(team) = &place else {
        unreachable!()
    };
    drop(place.open());
    let mut client = postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap();
    client
        .execute(
            &format!("UPDATE \"{team}\".meta SET value = 99 WHERE name = 'schema'"),
            &[],
        )
        .unwrap();
    let err = TeamMemory::connect(&pg_url(), team, None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("newer Tandem") && message.contains("schema 99"),
        "{message}"
    );
    for bad in ["", "Team", "1team", "a-b", "a\"b", &"a".repeat(49)] {
        let err = TeamMemory::connect(&pg_url(), bad, None).unwrap_err();
        assert!(
            err.to_string().contains("cannot name a team"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn a_write_that_would_wait_for_another_writer_is_not_run_by_try_set() {
    let place = Place::team();
    let Place::Team(team) = &place else {
        unreachable!()
    };
    let store = TeamMemory::connect(&pg_url(), team, None).unwrap();
    let mut other = postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap();
    let mut holding = other.transaction().unwrap();
    holding
        .execute(
            &format!("SELECT seq FROM \"{team}\".feed_counter FOR UPDATE"),
            &[],
        )
        .unwrap();
    let v = json!(1);
    assert!(store.try_set(&req("k", &v, None), "a").unwrap().is_none());
    holding.rollback().unwrap();
    assert_eq!(
        store
            .try_set(&req("k", &v, None), "a")
            .unwrap()
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        store.last_seq().unwrap(),
        1,
        "the refused try wrote nothing"
    );
}

#[test]
fn an_unreachable_team_store_is_a_clear_error_at_once() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let err = TeamMemory::connect(
        &format!("host=127.0.0.1 port={port} user=x dbname=x connect_timeout=5"),
        "team",
        None,
    )
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("team store x@127.0.0.1:{port}/x:")),
        "{message}"
    );
    let wrong = pg_url().replace("password=", "password=wrong");
    let err = TeamMemory::connect(&wrong, "team", None).unwrap_err();
    assert!(err.to_string().contains("password"), "{err}");
}

#[test]
fn lists_page_in_key_order_under_a_prefix_and_a_tag() {
    on_each(|place, s| {
        let tagged = vec!["api".to_string()];
        for key in ["p/b", "p/a", "p/c", "p/B", "q/a", "p/d"] {
            s.set(
                &SetRequest {
                    key,
                    value: &json!({"k": key, "long": "x".repeat(300)}),
                    tags: Some(if key.ends_with('a') || key == "p/d" {
                        &tagged
                    } else {
                        &[]
                    }),
                    expected_version: None,
                },
                "a",
            )
            .unwrap();
        }
        s.delete("p/c", None, "a").unwrap();
        let first = s.list(Some("p/"), None, Some(2), None).unwrap();
        let keys = |p: &ListPage| p.entries.iter().map(|e| e.key.clone()).collect::<Vec<_>>();
        // Bytewise order on both: upper case first.
        assert_eq!(keys(&first), ["p/B", "p/a"], "{}", place.name());
        assert!(first.entries[0].preview.ends_with('…'));
        let next = s
            .list(Some("p/"), None, Some(2), first.next_cursor.as_deref())
            .unwrap();
        assert_eq!(keys(&next), ["p/b", "p/d"]);
        assert!(next.next_cursor.is_none());
        let tagged = s.list(None, Some("api"), None, None).unwrap();
        assert_eq!(keys(&tagged), ["p/a", "p/d", "q/a"]);
        assert_eq!(s.stats().unwrap().entries, 5);
        let mut all = Vec::new();
        s.for_each_entry(|e| {
            all.push(e.key);
            Ok(())
        })
        .unwrap();
        assert_eq!(all, ["p/B", "p/a", "p/b", "p/d", "q/a"]);
        assert_eq!(s.changed_since("", 2).unwrap().len(), 2);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    });
}

#[test]
fn restore_writes_an_old_value_as_a_new_version_and_refuses_tombstones() {
    on_each(|place, s| {
        s.set(&req("k", &json!("one"), None), "a").unwrap();
        s.set(&req("k", &json!("two"), None), "a").unwrap();
        s.delete("k", None, "a").unwrap();
        let back = s.restore("k", 1, "b").unwrap();
        assert_eq!(
            (back.version, back.restored_from),
            (4, 1),
            "{}",
            place.name()
        );
        assert_eq!(s.get(&["k".into()]).unwrap().entries[0].value, json!("one"));
        assert_eq!(s.history("k", Some(1)).unwrap()[0].op, Op::Restore);
        assert!(matches!(
            s.restore("k", 3, "b"),
            Err(StoreError::RestoreTombstone { .. })
        ));
        assert!(matches!(
            s.restore("k", 9, "b"),
            Err(StoreError::NoSuchVersion { .. })
        ));
        let n = s
            .set_many(
                &[
                    ("m/1".into(), json!(1), vec![]),
                    ("k".into(), json!("five"), vec!["t".into()]),
                ],
                "import",
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(s.get(&["k".into()]).unwrap().entries[0].version, 5);
    });
}

/// The same entries are found on both engines (rankings may differ): all words, the last word
/// as a prefix while it is typed, any word as the last resort, a tag filter, and hostile text
/// as plain words.
#[test]
fn search_finds_the_same_entries_on_both_engines() {
    let mut found = Vec::new();
    on_each(|_, s| {
        for (key, value) in [
            (
                "auth-approach",
                json!({"method": "JWT with refresh tokens", "library": "jose"}),
            ),
            (
                "db-choice",
                json!({"engine": "PostgreSQL", "why": "teams share it"}),
            ),
            ("deploy", json!("ship with a blue green deployment")),
            ("tokens", json!("rotate refresh tokens weekly")),
        ] {
            s.set(&req(key, &value, None), "a").unwrap();
        }
        let tag = vec!["ops".to_string()];
        s.set(
            &SetRequest {
                key: "ops-note",
                value: &json!("refresh the deployment tokens"),
                tags: Some(&tag),
                expected_version: None,
            },
            "a",
        )
        .unwrap();
        let keys = |q: &str, tag: Option<&str>| {
            let mut k: Vec<String> = s
                .search(q, tag, None)
                .unwrap()
                .into_iter()
                .map(|h| h.key)
                .collect();
            k.sort();
            k
        };
        let answers = vec![
            keys("refresh tokens", None),
            keys("jos", None),
            keys("postgresql nonsense", None),
            keys("refresh", Some("ops")),
            keys("\"; DROP TABLE entries; --", None),
            keys("AND OR NOT ( ) * :", None),
            keys("", None),
        ];
        let hit = s.search("jose", None, None).unwrap();
        assert!(hit[0].snippet.contains("**jose**"), "{:?}", hit[0]);
        found.push(answers);
    });
    assert_eq!(
        found[0], found[1],
        "sqlite and postgres found different entries"
    );
    assert_eq!(
        found[0][0],
        ["auth-approach", "ops-note", "tokens"],
        "all words"
    );
    assert_eq!(found[0][1], ["auth-approach"], "a prefix while typing");
    assert_eq!(found[0][2], ["db-choice"], "any word");
    assert_eq!(found[0][3], ["ops-note"], "the tag");
}

/// A move between engines, both ways: every key with every version, who wrote it and when,
/// tombstones and restores; a key the destination has is left as it is there; running it
/// again moves nothing more; what was moved is found by search and is in the feed.
#[test]
fn a_transfer_moves_every_key_with_its_history_and_carries_on_where_it_stopped() {
    let local = Place::sqlite();
    let team = Place::team();
    let back = Place::sqlite();
    let (a, b, c) = (local.open(), team.open(), back.open());
    a.set_plain("auth", &json!({"method": "JWT"}), "claude-ai 1")
        .unwrap();
    a.set_plain("auth", &json!({"method": "sessions"}), "claude-code 2")
        .unwrap();
    a.restore("auth", 1, "claude-ai 1").unwrap();
    a.set_plain("gone", &json!("soon"), "claude-ai 1").unwrap();
    a.delete("gone", None, "claude-ai 1").unwrap();
    let tags = ["db".to_string()];
    a.set(
        &SetRequest {
            key: "db",
            value: &json!("postgres fifteen"),
            tags: Some(&tags),
            expected_version: None,
        },
        "claude-code 2",
    )
    .unwrap();
    b.set_plain("taken", &json!("theirs"), "x").unwrap();
    a.set_plain("taken", &json!("mine"), "y").unwrap();
    let feed_before = b.last_seq().unwrap();

    let mut told = 0;
    let moved = transfer::transfer(&a, &b, |_, seen| told = seen).unwrap();
    assert_eq!(
        moved,
        transfer::Transfer {
            keys: 3,
            versions: 6,
            kept: 1,
            total: 4
        }
    );
    assert_eq!(told, 4);
    for key in ["auth", "gone", "db"] {
        assert_eq!(
            b.full_history(key).unwrap(),
            a.full_history(key).unwrap(),
            "{key}"
        );
    }
    assert_eq!(b.full_history("auth").unwrap()[2].op, Op::Restore);
    assert_eq!(b.get(&["taken".into()]).unwrap().entries[0].value, "theirs");
    assert!(b.get(&["gone".into()]).unwrap().entries.is_empty());
    assert_eq!(b.last_seq().unwrap(), feed_before + 6);
    assert_eq!(b.search("fifteen", Some("db"), None).unwrap()[0].key, "db");
    assert_eq!(
        b.list(None, Some("db"), None, None).unwrap().entries[0].key,
        "db"
    );

    let again = transfer::transfer(&a, &b, |_, _| {}).unwrap();
    assert_eq!((again.keys, again.kept), (0, 4));

    let home = transfer::transfer(&b, &c, |_, _| {}).unwrap();
    assert_eq!(home.keys, 4);
    for key in ["auth", "gone", "db"] {
        assert_eq!(
            c.full_history(key).unwrap(),
            a.full_history(key).unwrap(),
            "{key}"
        );
    }
}
