use serde_json::json;

use super::*;
use crate::workspace::{HandoffCreateParams, HandoffStatus, HandoffUpdateParams};

struct Fixture {
    _dir: tempfile::TempDir,
    home: Home,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("state"));
    Fixture { _dir: dir, home }
}

fn set(f: &Fixture, key: &str, by: &str) {
    let store = MemoryStore::open(f.home.memory_db()).unwrap();
    store.set_plain(key, &json!({"method": "JWT"}), by).unwrap();
}

fn workspace(f: &Fixture) -> Workspace {
    Workspace::open(f.home.shared_dir()).unwrap()
}

fn handoff(f: &Fixture, title: &str) -> String {
    workspace(f)
        .handoff_create(
            &HandoffCreateParams {
                title: title.into(),
                summary: "Do it.".into(),
                ..Default::default()
            },
            "claude-ai 0.14",
        )
        .unwrap()
        .id
}

#[test]
fn no_state_is_no_news_and_creates_nothing() {
    let f = fixture();
    let seen = now(&f.home);
    assert_eq!(seen, Seen::default());
    assert_eq!(since(&f.home, &seen, None).0, "");
    assert!(!f.home.state_dir().exists());
}

#[test]
fn changes_since_the_last_look_are_news_once() {
    let f = fixture();
    set(&f, "proj/old", "claude-ai 0.14");
    handoff(&f, "Old plan");
    let seen = now(&f.home);
    assert_eq!(
        since(&f.home, &seen, None).0,
        "",
        "what was there before is not news"
    );

    let id = handoff(&f, "Move sessions to JWT");
    set(&f, "proj/auth-approach", "claude-ai 0.14");
    set(&f, "proj/auth-approach", "claude-ai 0.14");
    let (text, next) = since(&f.home, &seen, None);
    assert!(
        text.contains("handoff new: \"Move sessions to JWT\" (open"),
        "{text}"
    );
    assert!(
        text.contains(&format!("handoff_read {{\"id\": \"{id}\"}}")),
        "{text}"
    );
    assert!(
        text.contains("memory proj/auth-approach: v2 by claude-ai"),
        "{text}"
    );
    assert_eq!(text.matches("proj/auth-approach").count(), 1, "{text}");
    assert!(
        !text.contains("proj/old") && !text.contains("Old plan"),
        "{text}"
    );
    assert_eq!(since(&f.home, &next, None).0, "", "news is told once");

    workspace(&f)
        .handoff_update(
            &HandoffUpdateParams {
                id: id.clone(),
                status: HandoffStatus::Claimed,
                note: None,
            },
            "claude-code 2.1",
        )
        .unwrap();
    let store = MemoryStore::open(f.home.memory_db()).unwrap();
    store.delete("proj/old", None, "claude-code 2.1").unwrap();
    let (text, _) = since(&f.home, &next, None);
    assert!(
        text.contains("handoff updated: \"Move sessions to JWT\" (claimed"),
        "{text}"
    );
    assert!(
        text.contains("memory proj/old: deleted by claude-code"),
        "{text}"
    );
}

#[test]
fn news_stays_within_its_bound() {
    let f = fixture();
    let seen = now(&f.home);
    for i in 0..100 {
        set(
            &f,
            &format!("proj/a-rather-long-key-name-{i:03}"),
            "claude-ai 0.14",
        );
    }
    let (text, next) = since(&f.home, &seen, None);
    assert!(
        text.chars().count() <= MAX_CHARS,
        "{}",
        text.chars().count()
    );
    assert!(text.contains("more"), "{text}");
    // The cursor moves past what was read; the rest comes next time.
    assert!(next.memory_seq > seen.memory_seq);
    assert!(!since(&f.home, &next, None).0.is_empty());
}

#[test]
fn sessions_are_kept_by_id_bounded_and_pruned() {
    let f = fixture();
    let sessions = Sessions::new(&f.home);
    let seen = Seen {
        memory_seq: 7,
        ..Default::default()
    };
    sessions.save("abc-123", &seen).unwrap();
    assert_eq!(sessions.load("abc-123"), Some(seen.clone()));
    assert_eq!(sessions.load("other"), None);
    // An id that is not a plain name is never a path.
    for bad in ["../x", "a/b", "", "a b", &"x".repeat(200)] {
        sessions.save(bad, &seen).unwrap();
        assert_eq!(sessions.load(bad), None);
    }
    for i in 0..MAX_SESSIONS + 20 {
        sessions.save(&format!("s{i}"), &seen).unwrap();
    }
    let dir = f.home.state_dir().join("hooks/sessions");
    let count = std::fs::read_dir(&dir).unwrap().count();
    assert!(count <= MAX_SESSIONS, "{count}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");
}

#[test]
fn a_long_list_is_cut_to_the_bound_with_its_count() {
    let f = fixture();
    let seen = now(&f.home);
    // Long keys, so that the list is cut where the "and N more" line must still fit.
    for i in 0..40 {
        set(
            &f,
            &format!("proj/{}-{i:02}", "k".repeat(70)),
            "claude-ai 0.14",
        );
    }
    let (text, _) = since(&f.home, &seen, None);
    assert!(
        text.chars().count() <= MAX_CHARS,
        "{}",
        text.chars().count()
    );
    let shown = text.lines().filter(|l| l.starts_with("- memory")).count();
    assert!(
        text.ends_with(&format!(
            "- and {} more: handoff_list, memory_changes",
            40 - shown
        )),
        "{text}"
    );
}

#[test]
fn a_sessions_own_writes_are_left_out_and_every_other_write_is_shown() {
    let f = fixture();
    let seen = now(&f.home);
    // This session's server writes with its client process as the origin; another session's
    // with another; an older tandem (or the CLI) with none.
    let own = MemoryStore::open(f.home.memory_db()).unwrap();
    own.set_origin("pid:100".into()).unwrap();
    own.set_plain("proj/mine", &json!(1), "claude-code 2.1")
        .unwrap();
    let other = MemoryStore::open(f.home.memory_db()).unwrap();
    other.set_origin("pid:200".into()).unwrap();
    other
        .set_plain("proj/theirs", &json!(2), "claude-code 2.1")
        .unwrap();
    set(&f, "proj/plain", "tandem memory import");
    let (text, next) = since(&f.home, &seen, Some("pid:100"));
    assert!(!text.contains("proj/mine"), "{text}");
    assert!(
        text.contains("proj/theirs") && text.contains("proj/plain"),
        "{text}"
    );
    // The cursor moves past the own write too: it is not news later either.
    assert_eq!(since(&f.home, &next, Some("pid:100")).0, "");
    // Without an origin to compare, everything is shown.
    let (all, _) = since(&f.home, &seen, None);
    assert!(all.contains("proj/mine"), "{all}");
    // Only own writes: no news at all.
    let quiet = now(&f.home);
    own.set_plain("proj/mine", &json!(3), "claude-code 2.1")
        .unwrap();
    assert_eq!(since(&f.home, &quiet, Some("pid:100")).0, "");
}

#[test]
fn an_updated_handoff_names_who_updated_it() {
    let f = fixture();
    let id = handoff(&f, "Plan");
    let seen = now(&f.home);
    workspace(&f)
        .handoff_update(
            &HandoffUpdateParams {
                id,
                status: HandoffStatus::Claimed,
                note: None,
            },
            "claude-code 2.1",
        )
        .unwrap();
    let (text, _) = since(&f.home, &seen, None);
    assert!(
        text.contains("handoff updated: \"Plan\" (claimed, by claude-code 2.1)"),
        "{text}"
    );
}
