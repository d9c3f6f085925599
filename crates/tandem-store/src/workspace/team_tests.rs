//! The team workspace's documents against the run's PostgreSQL.

use std::sync::Arc;

use super::*;
use crate::{memory::engine_tests::pg_url, workspace::handoff::HandoffStatus};

/// A team of its own for a test, dropped after.
pub(crate) struct Team {
    name: String,
    store: Arc<TeamMemory>,
}

impl Team {
    pub(crate) fn new() -> Self {
        let name = format!(
            "docs_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let store = Arc::new(TeamMemory::connect(&pg_url(), &name, None).unwrap());
        Self { name, store }
    }

    fn docs(&self) -> TeamDocs {
        TeamDocs::new(self.store.clone())
    }

    /// Another process's connection to the same team.
    pub(crate) fn another(&self) -> TeamDocs {
        TeamDocs::new(Arc::new(
            TeamMemory::connect(&pg_url(), &self.name, None).unwrap(),
        ))
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
            let _ =
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

/// The folder and the team gave the same answer: equal values, or errors of the same kind.
fn same_answer<T: PartialEq + std::fmt::Debug>(what: &str, folder: WsResult<T>, team: WsResult<T>) {
    match (folder, team) {
        (Ok(l), Ok(t)) => assert_eq!(l, t, "{what}"),
        (Err(l), Err(t)) => assert_eq!(
            std::mem::discriminant(&l),
            std::mem::discriminant(&t),
            "{what}: {l} / {t}"
        ),
        (l, t) => panic!("{what}: folder {l:?}, team {t:?}"),
    }
}

fn by() -> String {
    format!("claude-code 2.1.3 · {}", std::env::var("PGUSER").unwrap())
}

#[test]
fn paths_follow_the_workspace_rules() {
    assert_eq!(doc_path("plans/auth.md").unwrap(), "plans/auth.md");
    assert_eq!(doc_path("./plans//auth.md").unwrap(), "plans/auth.md");
    for bad in [
        "",
        "/etc/passwd",
        "../outside.md",
        "plans/../../x",
        "C:/Users/x",
        "plans\\auth.md",
        "plans/aux.md",
        "what?.md",
        ".",
    ] {
        assert!(doc_path(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a_document_is_created_once_versioned_and_refused_when_stale() {
    let team = Team::new();
    let docs = team.docs();
    let made = docs
        .put(
            "plans/auth.md",
            "# Auth\n",
            Expect::Absent,
            "claude-ai 0.14",
        )
        .unwrap();
    assert_eq!((made.version, made.created), (1, true));
    let again = docs
        .put("plans/auth.md", "# Other\n", Expect::Absent, "cursor 1")
        .unwrap_err()
        .to_string();
    assert!(again.contains("already exists (version 1"), "{again}");
    let next = docs
        .put(
            "plans/auth.md",
            "# Auth v2\n",
            Expect::Version(1),
            "claude-code 2.1.3",
        )
        .unwrap();
    assert_eq!((next.version, next.created), (2, false));
    let stale = docs
        .put(
            "plans/auth.md",
            "# Auth v2b\n",
            Expect::Version(1),
            "cursor 1",
        )
        .unwrap_err()
        .to_string();
    assert!(
        stale.contains("expected version 1, the current version is 2"),
        "{stale}"
    );
    let doc = docs.get("plans/auth.md").unwrap().unwrap();
    assert_eq!(doc.text, "# Auth v2\n");
    assert_eq!(doc.version, 2);
    assert_eq!(doc.updated_by, by());
    assert!(doc.created_by.starts_with("claude-ai 0.14 · "), "{doc:?}");
    assert!(docs.get("plans/none.md").unwrap().is_none());
}

#[test]
fn a_delete_leaves_history_and_versions_go_on_after_it() {
    let team = Team::new();
    let docs = team.docs();
    docs.put("a.md", "one", Expect::Any, "x").unwrap();
    let gone = docs.delete("a.md", Expect::Version(1), "x").unwrap();
    assert_eq!(gone.version, 2);
    assert!(docs.get("a.md").unwrap().is_none());
    assert!(matches!(
        docs.delete("a.md", Expect::Any, "x"),
        Err(StoreError::DocNotFound { .. })
    ));
    let back = docs.put("a.md", "three", Expect::Absent, "y").unwrap();
    assert_eq!((back.version, back.created), (3, true));
    let history = docs.history("a.md", 10).unwrap();
    let ops: Vec<(i64, &str)> = history.iter().map(|v| (v.version, v.op.as_str())).collect();
    assert_eq!(ops, vec![(3, "put"), (2, "delete"), (1, "put")]);
    assert_eq!(history[2].text.as_deref(), Some("one"));
}

#[test]
fn listings_page_in_path_order_under_a_folder_and_bad_text_is_refused() {
    let team = Team::new();
    let docs = team.docs();
    for p in [
        "plans/b.md",
        "plans/a.md",
        "plans_x/c.md",
        "notes/d.md",
        "plans/sub/e.md",
    ] {
        docs.put(p, p, Expect::Any, "x").unwrap();
    }
    let first = docs.list("plans", None, 2).unwrap();
    let paths: Vec<&str> = first.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["plans/a.md", "plans/b.md"]);
    let rest = docs.list("plans/", Some("plans/b.md"), 10).unwrap();
    let paths: Vec<&str> = rest.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["plans/sub/e.md"], "plans_x is not under plans/");
    assert_eq!(docs.list("", None, 100).unwrap().len(), 5);
    assert_eq!(first[0].bytes, "plans/a.md".len() as i64);

    let binary = docs
        .put("bin.dat", "a\0b", Expect::Any, "x")
        .unwrap_err()
        .to_string();
    assert!(binary.contains("binary"), "{binary}");
    let big = "x".repeat(MAX_DOC_BYTES + 1);
    let too_big = docs
        .put("big.txt", &big, Expect::Any, "x")
        .unwrap_err()
        .to_string();
    assert!(too_big.contains("over the limit"), "{too_big}");
    assert!(docs.get("bin.dat").unwrap().is_none());
}

/// Two machines claim one handoff at once (read it, then write expecting that version): each
/// of 100 rounds, exactly one commits and the other is told the version moved on.
#[test]
fn of_two_machines_writing_one_version_exactly_one_wins_100_times() {
    let team = Team::new();
    let (a, b) = (team.docs(), team.another());
    for round in 0..100 {
        let path = format!("handoffs/race-{round}.md");
        let v = a
            .put(&path, "status: open", Expect::Absent, "desktop")
            .unwrap()
            .version;
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<bool> = std::thread::scope(|s| {
            let runs: Vec<_> = [(&a, "code-a"), (&b, "code-b")]
                .into_iter()
                .map(|(docs, who)| {
                    let (barrier, path) = (&barrier, &path);
                    s.spawn(move || {
                        barrier.wait();
                        match docs.put(
                            path,
                            &format!("status: claimed by {who}"),
                            Expect::Version(v),
                            who,
                        ) {
                            Ok(_) => true,
                            Err(StoreError::DocConflict(_)) => false,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|w| **w).count(), 1, "round {round}");
        assert_eq!(a.get(&path).unwrap().unwrap().version, v + 1);
    }
}

/// Writers on four connections, a reader polling by cursor in small pages: the reader sees
/// every change exactly once, in order, with no gaps.
#[test]
fn the_feed_gives_every_change_once_in_commit_order() {
    let team = Team::new();
    let reader = team.docs();
    let writers: Vec<TeamDocs> = (0..4).map(|_| team.another()).collect();
    let seen = std::sync::Mutex::new(Vec::new());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for (w, docs) in writers.iter().enumerate() {
            s.spawn(move || {
                for i in 0..50 {
                    docs.put(
                        &format!("w{w}/f{}.md", i % 7),
                        &format!("{i}"),
                        Expect::Any,
                        "w",
                    )
                    .unwrap();
                }
            });
        }
        s.spawn(|| {
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = reader.changes(cursor, 7).unwrap();
                cursor = page.cursor;
                let got = page.changes.len();
                seen.lock().unwrap().extend(page.changes);
                if finished && got == 0 {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        });
        // The writers are joined by the scope before `done` matters: wait for them here.
        while reader.changes(0, MAX_PAGE).unwrap().changes.len() < 200 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let seen = seen.into_inner().unwrap();
    let seqs: Vec<i64> = seen.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
}

/// A member (a role `add-member` made) writes documents under their own name, and cannot
/// rewrite their history.
#[test]
fn a_member_writes_documents_as_themselves_and_history_stays_append_only() {
    let team = Team::new();
    let member = format!("m_{}", &team.name[5..]);
    let password = team.store.add_member(&member).unwrap();
    let (url, _) =
        crate::memory::team::take_query(&team.store.join_url(&member, &password), "team");
    let as_member = Arc::new(TeamMemory::connect(&url, &team.name, None).unwrap());
    let docs = TeamDocs::new(as_member.clone());
    docs.put("plans/x.md", "mine", Expect::Absent, "claude-code 2.1.3")
        .unwrap();
    let doc = team.docs().get("plans/x.md").unwrap().unwrap();
    assert_eq!(doc.updated_by, format!("claude-code 2.1.3 · {member}"));
    let mut client = as_member.client().unwrap();
    let refused = client
        .batch_execute(&format!("DELETE FROM \"{}\".doc_versions", team.name))
        .unwrap_err();
    assert_eq!(refused.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    drop(client);
    drop(docs);
    drop(as_member);
    team.store.remove_member(&member).unwrap();
}

fn plan(title: &str) -> HandoffCreateParams {
    HandoffCreateParams {
        title: title.to_string(),
        summary: "Move sessions to JWT.".to_string(),
        decisions: vec!["Use jose".to_string()],
        tasks: vec!["Add the middleware".to_string()],
        open_questions: vec![],
        files: vec![],
        project: Some("proj-x".to_string()),
    }
}

/// The handoff tools' logic on the team's documents: created open, listed, read, claimed,
/// done — with the member in every name — and a malformed one listed as invalid.
#[test]
fn handoffs_live_in_the_team_s_documents_with_the_same_lifecycle() {
    let team = Team::new();
    let (desktop, code) = (team.docs(), team.another());
    let made = desktop
        .handoff_create(&plan("Auth rework"), "claude-ai 0.14")
        .unwrap();
    assert_eq!(made.status, HandoffStatus::Open);
    assert_eq!(made.path, format!("handoffs/{}.md", made.id));
    let member = std::env::var("PGUSER").unwrap();
    let latest = code
        .handoff_read(&HandoffReadParams {
            id: "latest".into(),
        })
        .unwrap();
    assert_eq!(latest.id, made.id);
    assert_eq!(latest.created_by, format!("claude-ai 0.14 · {member}"));
    assert!(
        latest.markdown.contains("## Decisions"),
        "{}",
        latest.markdown
    );
    let claim = HandoffUpdateParams {
        id: made.id.clone(),
        status: HandoffStatus::Claimed,
        note: Some("on it".into()),
    };
    code.handoff_update(&claim, "claude-code 2.1.3").unwrap();
    let done = HandoffUpdateParams {
        status: HandoffStatus::Done,
        note: None,
        ..claim.clone()
    };
    code.handoff_update(&done, "claude-code 2.1.3").unwrap();
    let read = desktop
        .handoff_read(&HandoffReadParams {
            id: made.id.clone(),
        })
        .unwrap();
    assert_eq!(read.status, HandoffStatus::Done);
    assert!(
        read.markdown
            .contains(&format!("claude-code 2.1.3 · {member} — claimed — on it")),
        "{}",
        read.markdown
    );
    assert_eq!(desktop.history(&read.path, 10).unwrap().len(), 3);

    desktop
        .put(
            "handoffs/broken.md",
            "no front matter",
            Expect::Absent,
            "a person",
        )
        .unwrap();
    let listed = code.handoff_list(&HandoffListParams::default()).unwrap();
    assert_eq!(listed.total, 2);
    let broken = listed.handoffs.iter().find(|h| h.id == "broken").unwrap();
    assert_eq!(broken.status, HandoffStatus::Invalid);
    assert!(matches!(
        code.handoff_read(&HandoffReadParams { id: "nope".into() }),
        Err(WorkspaceError::HandoffNotFound { .. })
    ));
}

/// Two machines claim the same open handoff at once, 100 times: each time exactly one wins,
/// and the other is told who claimed it.
#[test]
fn of_two_machines_claiming_one_handoff_exactly_one_wins_100_times_in_a_row() {
    let team = Team::new();
    let (a, b) = (team.docs(), team.another());
    for round in 0..100 {
        let id = a
            .handoff_create(&plan(&format!("Race {round}")), "claude-ai 0.14")
            .unwrap()
            .id;
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let runs: Vec<_> = [(&a, "laptop"), (&b, "server")]
                .into_iter()
                .map(|(docs, who)| {
                    let (barrier, id) = (&barrier, &id);
                    s.spawn(move || {
                        let claim = HandoffUpdateParams {
                            id: id.clone(),
                            status: HandoffStatus::Claimed,
                            note: None,
                        };
                        barrier.wait();
                        match docs.handoff_update(&claim, who) {
                            Ok(_) => Ok(()),
                            Err(e @ WorkspaceError::AlreadyClaimed { .. }) => Err(e.to_string()),
                            Err(e) => panic!("round {round}: {e}"),
                        }
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        let (lost, winner) = match &results[0] {
            Ok(()) => (&results[1], "laptop"),
            Err(_) => (&results[0], "server"),
        };
        let text = lost.as_ref().unwrap_err();
        assert!(text.contains(&format!("claimed by {winner} · ")), "{text}");
    }
}

/// A team set up by the Tandem before the workspace came to the team store (schema 2), with a
/// member: the owner's next start brings it up to date, and the member may then write the
/// workspace (their rights on the new tables come with the upgrade).
#[test]
fn an_upgraded_team_gives_its_members_the_new_tables() {
    let team = Team::new();
    let member = format!("u_{}", &team.name[5..]);
    let password = team.store.add_member(&member).unwrap();
    {
        let mut client = team.store.client().unwrap();
        client
            .batch_execute(&team.store.sql(
                "DROP TABLE {s}.docs, {s}.doc_versions, {s}.doc_counter;
                 UPDATE {s}.meta SET value = 2 WHERE name = 'schema'",
            ))
            .unwrap();
    }
    let (url, _) =
        crate::memory::team::take_query(&team.store.join_url(&member, &password), "team");
    let refused = TeamMemory::connect(&url, &team.name, None).unwrap_err();
    assert!(
        refused.to_string().contains("may not set up the team"),
        "{refused}"
    );
    let _owner = TeamMemory::connect(&pg_url(), &team.name, None).unwrap();
    let as_member = Arc::new(TeamMemory::connect(&url, &team.name, None).unwrap());
    TeamDocs::new(as_member.clone())
        .put(
            "plans/after.md",
            "upgraded",
            Expect::Absent,
            "claude-code 2.1.3",
        )
        .unwrap();
    drop(as_member);
    team.store.remove_member(&member).unwrap();
}

/// The workspace's doorbell: a watcher on one machine hears another's writes within a second,
/// in commit order; when every connection is cut (the server restarted) it listens again by
/// itself and catches up from its cursor with what was written meanwhile — each change once.
#[test]
fn a_watcher_hears_other_machines_writes_and_catches_up_after_losing_its_connection() {
    let team = Team::new();
    let watched = Arc::new(team.docs());
    let writer = team.another();
    let (tx, rx) = std::sync::mpsc::channel::<DocChange>();
    let _watcher = crate::watch::DocWatcher::spawn(watched.clone(), move |changes| {
        for c in changes {
            let _ = tx.send(c);
        }
    })
    .unwrap();
    let started = std::time::Instant::now();
    writer
        .put("plans/a.md", "one", Expect::Absent, "laptop")
        .unwrap();
    let first = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert_eq!((first.seq, first.path.as_str()), (1, "plans/a.md"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "heard after {:?}",
        started.elapsed()
    );

    let mut admin = postgres::Client::connect(&pg_url(), postgres::NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&format!("tandem {}", team.name)],
        )
        .unwrap();
    for i in 2..=4 {
        writer
            .put("plans/a.md", &format!("v{i}"), Expect::Any, "laptop")
            .unwrap();
    }
    let mut seqs = vec![first.seq];
    while seqs.len() < 4 {
        let c = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        seqs.push(c.seq);
    }
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(300))
            .is_err(),
        "once each"
    );
}

/// The file tools give the same answers on the team's documents as on a folder holding the
/// same files: every way of choosing lines, the 256 KiB cut, CRLF endings, several files
/// within one call's total, and a file that is not there.
#[test]
fn reading_files_answers_as_on_the_folder() {
    use crate::workspace::{
        ReadMultipleFilesParams, ReadTextFileParams, WriteFileParams, testkit::fixture,
    };
    let team = Team::new();
    let docs = team.docs();
    let f = fixture();
    let long: String = (1..=40_000).map(|i| format!("line {i}\n")).collect();
    let files = [
        ("plans/a.md", "one\ntwo\nthree\nfour\nfive\n".to_string()),
        ("notes/crlf.txt", "a\r\nb\r\nc".to_string()),
        ("big/long.txt", long),
        ("empty.txt", String::new()),
    ];
    for (path, text) in &files {
        let p = WriteFileParams {
            path: path.to_string(),
            content: text.clone(),
        };
        let local = f.ws.write_file_with(&p).unwrap();
        let team_side = docs.write_file_with(&p, "claude-code 2.1.3").unwrap();
        assert_eq!(local, team_side, "{path}");
    }
    let ways = |path: &str| {
        let base = ReadTextFileParams::path(path);
        vec![
            base.clone(),
            ReadTextFileParams {
                head: Some(2),
                ..base.clone()
            },
            ReadTextFileParams {
                tail: Some(2),
                ..base.clone()
            },
            ReadTextFileParams {
                offset: Some(3),
                limit: Some(2),
                ..base.clone()
            },
            ReadTextFileParams {
                offset: Some(30_000),
                ..base
            },
        ]
    };
    for (path, _) in &files {
        for p in ways(path) {
            let local = f.ws.read_text_file(&p);
            let team_side = docs.read_text_file(&p);
            match (local, team_side) {
                (Ok(l), Ok(t)) => assert_eq!(l, t, "{p:?}"),
                (Err(l), Err(t)) => assert_eq!(l.to_string(), t.to_string(), "{p:?}"),
                (l, t) => panic!("{p:?}: folder {l:?}, team {t:?}"),
            }
        }
    }
    let many = ReadMultipleFilesParams {
        paths: vec![
            "big/long.txt".into(),
            "plans/a.md".into(),
            "big/long.txt".into(),
            "missing.md".into(),
        ],
    };
    let local = f.ws.read_multiple_files(&many).unwrap();
    let team_side = docs.read_multiple_files(&many).unwrap();
    for (l, t) in local.files.iter().zip(&team_side.files) {
        assert_eq!(l.file, t.file, "{}", l.path);
        assert_eq!(l.error.is_some(), t.error.is_some(), "{}", l.path);
    }
    assert!(
        team_side.files[3]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("does not exist")),
        "{team_side:?}"
    );
}

/// `edit_file` on the team's documents answers as on the folder (diff, counts, dry runs,
/// CRLF, the errors), and an edit after another machine's write applies to the newest version
/// (its write is a compare-and-swap on the version read: see the race tests of `put`).
#[test]
fn editing_files_answers_as_on_the_folder_and_applies_to_the_newest_version() {
    use crate::workspace::{Edit, EditFileParams, WriteFileParams, testkit::fixture};
    let team = Team::new();
    let docs = team.docs();
    let f = fixture();
    for (path, text) in [
        ("plans/a.md", "alpha\nbeta\nbeta\ngamma\n"),
        ("notes/crlf.txt", "one\r\ntwo\r\nthree\r\n"),
    ] {
        let p = WriteFileParams {
            path: path.into(),
            content: text.into(),
        };
        f.ws.write_file_with(&p).unwrap();
        docs.write_file_with(&p, "x").unwrap();
    }
    let edit = |path: &str, old: &str, new: &str, all: bool, dry: bool| EditFileParams {
        path: path.into(),
        edits: vec![Edit {
            old_text: old.into(),
            new_text: new.into(),
        }],
        dry_run: dry,
        replace_all: all,
    };
    for p in [
        edit("plans/a.md", "alpha", "ALPHA", false, true),
        edit("plans/a.md", "beta", "B", false, false),
        edit("plans/a.md", "beta", "B", true, false),
        edit("plans/a.md", "nowhere", "x", false, false),
        edit("notes/crlf.txt", "one\ntwo", "1\n2", false, false),
        edit("missing.md", "a", "b", false, false),
    ] {
        same_answer(
            &format!("{p:?}"),
            f.ws.edit_file(&p),
            docs.edit_file(&p, "x"),
        );
    }
    let after = docs.get("notes/crlf.txt").unwrap().unwrap();
    assert_eq!(after.text, "1\r\n2\r\nthree\r\n");

    // Another machine wrote since this machine last read: the edit goes onto the newest
    // version, and the other machine's change stays.
    let other = team.another();
    let v = docs.get("plans/a.md").unwrap().unwrap().version;
    other
        .put(
            "plans/a.md",
            "ALPHA\nB\nB\ngamma\nadded elsewhere\n",
            Expect::Version(v),
            "y",
        )
        .unwrap();
    docs.edit_file(&edit("plans/a.md", "gamma", "GAMMA", false, false), "x")
        .unwrap();
    assert_eq!(
        docs.get("plans/a.md").unwrap().unwrap().text,
        "ALPHA\nB\nB\nGAMMA\nadded elsewhere\n"
    );
}

/// The listing tools give the same answers on the team's documents as on a folder holding
/// the same files: a folder's entries, trees with depth and exclusions, globs and words, and
/// a path that is a file or is not there.
#[test]
fn listing_answers_as_on_the_folder() {
    use crate::workspace::{
        DirectoryTreeParams, PathParams, SearchFilesParams, WriteFileParams, testkit::fixture,
    };
    let team = Team::new();
    let docs = team.docs();
    let f = fixture();
    for path in [
        "plans/auth.md",
        "plans/billing.md",
        "plans/sub/deep/notes.txt",
        "plans/sub/a.md",
        "plans/node_modules/x.js",
        "plans/Z-upper.MD",
    ] {
        let p = WriteFileParams {
            path: path.into(),
            content: format!("# {path}\n"),
        };
        f.ws.write_file_with(&p).unwrap();
        docs.write_file_with(&p, "x").unwrap();
    }
    let same = |what: &str, l, t| same_answer(what, l, t);
    fn json(r: WsResult<impl serde::Serialize>) -> WsResult<String> {
        r.map(|v| serde_json::to_string(&v).unwrap())
    }
    for path in [
        "plans",
        "plans/sub",
        "plans/sub/deep",
        "plans/auth.md",
        "nowhere",
    ] {
        let p = PathParams { path: path.into() };
        same(
            path,
            json(f.ws.list_directory(&p)),
            json(docs.list_directory(&p)),
        );
    }
    for (depth, exclude) in [
        (None, vec![]),
        (Some(1), vec![]),
        (Some(2), vec!["node_modules".to_string()]),
    ] {
        let p = DirectoryTreeParams {
            path: "plans".into(),
            exclude_patterns: exclude,
            max_depth: depth,
        };
        same(
            "tree",
            json(f.ws.directory_tree(&p)),
            json(docs.directory_tree(&p)),
        );
    }
    for pattern in ["*.md", "**/*.md", "sub/*", "notes", "*.MD", "deep/**"] {
        let p = SearchFilesParams {
            path: "plans".into(),
            pattern: pattern.into(),
            exclude_patterns: vec!["node_modules".into()],
        };
        same(
            pattern,
            json(f.ws.search_files(&p)),
            json(docs.search_files(&p)),
        );
    }
}

/// `move_file` on the team's documents: a file or a whole folder in one transaction (each
/// moved document's history says delete and put), answered as on the folder; a destination
/// that exists, a folder into itself and a missing source are refused, nothing moved.
/// `get_file_info` tells documents, folders and missing paths apart.
#[test]
fn moving_files_and_their_information_answer_as_on_the_folder() {
    use crate::workspace::{MoveFileParams, PathParams, WriteFileParams, testkit::fixture};
    let team = Team::new();
    let docs = team.docs();
    let f = fixture();
    for path in ["plans/a.md", "plans/sub/b.md", "plans/sub/c.md", "taken.md"] {
        let p = WriteFileParams {
            path: path.into(),
            content: format!("{path}\n"),
        };
        f.ws.write_file_with(&p).unwrap();
        docs.write_file_with(&p, "x").unwrap();
    }
    let mv = |source: &str, destination: &str| MoveFileParams {
        source: source.into(),
        destination: destination.into(),
    };
    let before = docs.last_seq().unwrap();
    for p in [
        mv("plans/a.md", "done/a.md"),
        mv("plans/sub", "archive/sub"),
        mv("plans/nothing.md", "x.md"),
        mv("done/a.md", "taken.md"),
    ] {
        same_answer(
            &format!("{p:?}"),
            f.ws.move_file(&p),
            docs.move_file(&p, "x"),
        );
    }
    assert!(
        docs.move_file(&mv("archive", "archive/inner"), "x")
            .is_err()
    );
    // 1 file and 2 files moved: a delete and a put each, numbered in one run.
    assert_eq!(docs.last_seq().unwrap(), before + 6);
    assert_eq!(
        docs.get("archive/sub/c.md").unwrap().unwrap().text,
        "plans/sub/c.md\n"
    );
    assert!(docs.get("plans/sub/c.md").unwrap().is_none());
    let ops: Vec<String> = docs
        .history("plans/sub/b.md", 10)
        .unwrap()
        .into_iter()
        .map(|v| v.op)
        .collect();
    assert_eq!(ops, vec!["delete", "put"]);

    let info = |path: &str| docs.get_file_info(&PathParams { path: path.into() });
    let file = info("archive/sub/b.md").unwrap();
    assert_eq!(
        (file.kind, file.size),
        (EntryKind::File, "plans/sub/b.md\n".len() as u64)
    );
    assert!(file.modified.is_some());
    assert_eq!(info("archive").unwrap().kind, EntryKind::Dir);
    assert_eq!(info(".").unwrap().kind, EntryKind::Dir);
    assert!(matches!(
        info("plans/sub"),
        Err(WorkspaceError::NotFound { .. })
    ));
}

/// `grep` on the team's documents answers as on a folder holding the same files: the order,
/// line numbers, case, globs, a file or a folder as the path, the cap, a clipped long line
/// and a bad regex.
#[test]
fn grep_answers_as_on_the_folder() {
    use crate::workspace::{GrepParams, WriteFileParams, testkit::fixture};
    let team = Team::new();
    let docs = team.docs();
    let f = fixture();
    let long = format!("TODO {}\n", "x".repeat(800));
    for (path, text) in [
        ("plans/a.md", "todo: one\nnothing\nTODO two\n".to_string()),
        ("plans/a/b.md", "a TODO inside\n".to_string()),
        ("plans/z.txt", long),
        ("plans/sub/c.md", "no match\ntodo again\n".to_string()),
    ] {
        let p = WriteFileParams {
            path: path.into(),
            content: text,
        };
        f.ws.write_file_with(&p).unwrap();
        docs.write_file_with(&p, "x").unwrap();
    }
    let g =
        |pattern: &str, path: &str, glob: Option<&str>, ci: bool, max: Option<usize>| GrepParams {
            pattern: pattern.into(),
            path: Some(path.into()),
            glob: glob.map(Into::into),
            case_insensitive: ci,
            max_results: max,
        };
    for p in [
        g("TODO", "plans", None, false, None),
        g("todo", "plans", None, true, None),
        g("todo", "plans", Some("*.md"), true, None),
        g("todo", "plans", Some("sub/*"), true, None),
        g("todo", "plans/a.md", None, true, None),
        g("todo", "plans", None, true, Some(2)),
        g("(unclosed", "plans", None, false, None),
        g("x", "plans/missing", None, false, None),
    ] {
        same_answer(&format!("{p:?}"), f.ws.grep(&p), docs.grep(&p));
    }
}
