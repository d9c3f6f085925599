//! The read-only mirror against the run's PostgreSQL: machine A writes the team's workspace,
//! machine B's folder follows.

use std::{sync::Arc, time::Duration};

use super::*;
use crate::workspace::team::{Expect, tests::Team};

/// A machine's connection to the team's workspace.
fn machine(team: &Team) -> Arc<TeamDocs> {
    Arc::new(team.another())
}

fn text(root: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(root.join(path)).ok()
}

fn read_only(root: &Path, path: &str) -> bool {
    std::fs::metadata(root.join(path))
        .unwrap()
        .permissions()
        .readonly()
}

#[test]
fn the_folder_follows_the_team_and_its_files_are_read_only() {
    let team = Team::new();
    let a = machine(&team);
    let folder = tempfile::tempdir().unwrap();
    let mirror = Mirror::open(machine(&team), folder.path()).unwrap();
    a.put("plans/auth.md", "# Auth\n", Expect::Absent, "claude-ai")
        .unwrap();
    a.put(
        "handoffs/h1.md",
        "---\ntitle: H\nstatus: open\n---\n",
        Expect::Absent,
        "x",
    )
    .unwrap();
    let report = mirror.sync().unwrap();
    assert_eq!(report.written, 2, "{report:?}");
    let root = folder.path();
    assert_eq!(text(root, "plans/auth.md").as_deref(), Some("# Auth\n"));
    assert!(read_only(root, "plans/auth.md"));
    assert_eq!(text(root, "README.md").as_deref(), Some(MIRROR_README));
    assert_eq!(
        mirror.sync().unwrap(),
        MirrorReport::default(),
        "nothing to do twice"
    );

    a.put(
        "plans/auth.md",
        "# Auth v2\n",
        Expect::Version(1),
        "claude-code",
    )
    .unwrap();
    a.delete("handoffs/h1.md", Expect::Any, "claude-code")
        .unwrap();
    let since = mirror.cursor();
    let page = a.changes(since, 100).unwrap();
    let report = mirror.apply(&page.changes).unwrap();
    assert_eq!((report.written, report.removed), (1, 1), "{report:?}");
    assert_eq!(text(root, "plans/auth.md").as_deref(), Some("# Auth v2\n"));
    assert!(text(root, "handoffs/h1.md").is_none());
    assert_eq!(mirror.cursor(), page.cursor);
}

/// A person edits a mirrored file by hand; the team then changes it, and deletes another
/// edited one: neither edit is lost — each is kept beside under "(edited here)", and the
/// team's version is mirrored.
#[test]
fn a_file_edited_by_hand_is_kept_beside_and_never_lost() {
    let team = Team::new();
    let a = machine(&team);
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let mirror = Mirror::open(machine(&team), root).unwrap();
    a.put("notes/plan.md", "team v1", Expect::Absent, "x")
        .unwrap();
    a.put("notes/old.md", "old", Expect::Absent, "x").unwrap();
    mirror.sync().unwrap();
    for (path, edit) in [
        ("notes/plan.md", "my own words"),
        ("notes/old.md", "mine too"),
    ] {
        let file = root.join(path);
        let mut perms = std::fs::metadata(&file).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&file, perms).unwrap();
        std::fs::write(&file, edit).unwrap();
    }
    a.put("notes/plan.md", "team v2", Expect::Version(1), "x")
        .unwrap();
    a.delete("notes/old.md", Expect::Any, "x").unwrap();
    let page = a.changes(mirror.cursor(), 100).unwrap();
    let report = mirror.apply(&page.changes).unwrap();
    assert_eq!(text(root, "notes/plan.md").as_deref(), Some("team v2"));
    assert_eq!(
        text(root, "notes/plan (edited here).md").as_deref(),
        Some("my own words")
    );
    assert_eq!(
        text(root, "notes/old (edited here).md").as_deref(),
        Some("mine too")
    );
    assert!(text(root, "notes/old.md").is_none());
    let kept: Vec<&str> = report.kept.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(kept, vec!["notes/old.md", "notes/plan.md"], "{report:?}");
    // A file that was there before the mirror is kept too, not overwritten.
    std::fs::write(root.join("local.md"), "mine").unwrap();
    a.put("local.md", "the team's", Expect::Absent, "x")
        .unwrap();
    mirror.sync().unwrap();
    assert_eq!(text(root, "local.md").as_deref(), Some("the team's"));
    assert_eq!(
        text(root, "local (edited here).md").as_deref(),
        Some("mine")
    );
}

/// Live: machine B's mirror, driven by the workspace's doorbell, shows what A writes within a
/// second of its commit.
#[test]
fn a_write_on_one_machine_appears_in_the_other_s_folder_within_a_second() {
    let team = Team::new();
    let a = machine(&team);
    let b = machine(&team);
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().to_path_buf();
    let mirror = Arc::new(Mirror::open(b.clone(), &root).unwrap());
    mirror.sync().unwrap();
    let follower = mirror.clone();
    let _watch = crate::watch::DocWatcher::spawn(b, move |changes| {
        let _ = follower.apply(&changes);
    })
    .unwrap();
    for i in 0..5 {
        let path = format!("plans/p{i}.md");
        let started = std::time::Instant::now();
        a.put(&path, &format!("plan {i}"), Expect::Absent, "desktop")
            .unwrap();
        while text(&root, &path).is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{path} never appeared"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "{path} took {took:?}");
    }
}
