//! The jail's security cases, one test each: every one is denied with a message that starts
//! with "Access denied", and nothing outside the root changes. Paths that normalise inside and
//! links that stay inside keep working.

use super::{
    testkit::{Fixture, SECRET, fixture},
    *,
};

fn assert_denied<T: std::fmt::Debug>(result: WsResult<T>) {
    match result {
        Err(e) => assert!(
            e.to_string().starts_with("Access denied"),
            "expected Access denied, got: {e}"
        ),
        Ok(v) => panic!("expected Access denied, got Ok({v:?})"),
    }
}

fn read(f: &Fixture, path: &str) -> WsResult<TextFile> {
    f.ws.read_text_file(&ReadTextFileParams::path(path))
}

fn write(f: &Fixture, path: &str) -> WsResult<WriteOutcome> {
    f.ws.write_file(path, "OVERWRITTEN\n")
}

fn edit(f: &Fixture, path: &str) -> WsResult<EditOutcome> {
    f.ws.edit_file(&EditFileParams {
        path: path.to_string(),
        edits: vec![Edit {
            old_text: "TOP SECRET".to_string(),
            new_text: "EDITED".to_string(),
        }],
        dry_run: false,
        replace_all: false,
    })
}

fn path(p: &str) -> PathParams {
    PathParams {
        path: p.to_string(),
    }
}

/// Every read-only tool on `p` is denied.
fn assert_all_reads_denied(f: &Fixture, p: &str) {
    assert_denied(read(f, p));
    assert_denied(f.ws.list_directory(&path(p)));
    assert_denied(f.ws.directory_tree(&DirectoryTreeParams {
        path: p.to_string(),
        ..Default::default()
    }));
    assert_denied(f.ws.search_files(&SearchFilesParams {
        path: p.to_string(),
        pattern: "*".to_string(),
        ..Default::default()
    }));
    assert_denied(f.ws.grep(&GrepParams {
        pattern: "SECRET".to_string(),
        path: Some(p.to_string()),
        ..Default::default()
    }));
    assert_denied(f.ws.get_file_info(&path(p)));
    let multi =
        f.ws.read_multiple_files(&ReadMultipleFilesParams {
            paths: vec![p.to_string()],
        })
        .unwrap();
    assert!(
        multi.files[0]
            .error
            .as_deref()
            .unwrap()
            .starts_with("Access denied")
    );
}

/// Every writing tool on `p` is denied and nothing outside changes.
fn assert_all_writes_denied(f: &Fixture, p: &str) {
    let before = f.outside_snapshot();
    assert_denied(write(f, p));
    assert_denied(edit(f, p));
    assert_denied(f.ws.create_directory(&path(p)));
    assert_denied(f.ws.move_file(&MoveFileParams {
        source: "notes.md".to_string(),
        destination: p.to_string(),
    }));
    assert_denied(f.ws.move_file(&MoveFileParams {
        source: p.to_string(),
        destination: "stolen.txt".to_string(),
    }));
    assert_eq!(before, f.outside_snapshot(), "something outside changed");
    assert!(!f.root.join("stolen.txt").exists());
}

#[test]
fn an_absolute_path_outside_is_denied() {
    let f = fixture();
    assert_all_reads_denied(&f, "/etc/passwd");
    assert_all_reads_denied(&f, "/etc");
    let secret = f.path_str(&f.outside.join("secret.txt"));
    assert_all_reads_denied(&f, &secret);
    assert_all_writes_denied(&f, &secret);
    assert_all_writes_denied(&f, &f.path_str(&f.outside.join("new.txt")));
    assert_eq!(
        std::fs::read_to_string(f.outside.join("secret.txt")).unwrap(),
        SECRET
    );
}

#[test]
fn relative_dot_dot_traversal_is_denied() {
    let f = fixture();
    assert_all_reads_denied(&f, "../outside/secret.txt");
    assert_all_reads_denied(&f, "..");
    assert_all_writes_denied(&f, "../outside/secret.txt");
    assert_all_writes_denied(&f, "sub/../../outside/new.txt");
}

#[test]
fn absolute_dot_dot_traversal_is_denied() {
    let f = fixture();
    let p = format!("{}/../outside/secret.txt", f.root.display());
    assert_all_reads_denied(&f, &p);
    assert_all_writes_denied(&f, &p);
}

#[test]
fn deep_dot_dot_traversal_is_denied() {
    let f = fixture();
    assert_all_reads_denied(&f, "a/a/a/../../../../..");
    assert_all_reads_denied(&f, "a/a/a/../../../../../outside/secret.txt");
    assert_all_writes_denied(&f, "a/a/a/../../../../../outside/new.txt");
    assert!(!f.root.join("a").exists());
}

#[test]
fn a_sibling_whose_name_extends_the_root_is_denied() {
    let f = fixture();
    for sibling in ["root2", "root-old"] {
        let p = format!("{}{}/x", f.root.display(), &sibling[4..]);
        assert!(p.ends_with(&format!("{sibling}/x")));
        assert_all_reads_denied(&f, &p);
        assert_all_writes_denied(&f, &p);
    }
}

#[test]
fn a_nul_byte_is_denied() {
    let f = fixture();
    assert_all_reads_denied(&f, "notes.md\0.txt");
    assert_all_writes_denied(&f, "new\0file");
}

#[cfg(unix)]
#[test]
fn windows_paths_are_denied_on_unix() {
    let f = fixture();
    for p in [
        r"C:\Windows\win.ini",
        "C:/Windows/win.ini",
        r"\\server\share\file.txt",
        r"\etc\passwd",
    ] {
        assert_all_reads_denied(&f, p);
        assert_all_writes_denied(&f, p);
    }
    // Nothing was created under a Windows-looking name inside the root either.
    let names: Vec<_> = std::fs::read_dir(&f.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(':') && !n.contains('\\')));
}

#[cfg(unix)]
#[test]
fn a_symlinked_file_pointing_outside_cannot_be_read_written_or_edited() {
    let f = fixture();
    f.link(f.outside.join("secret.txt"), "leak.txt");
    f.link("../outside/secret.txt", "leak-relative.txt");
    for p in ["leak.txt", "leak-relative.txt"] {
        assert_denied(read(&f, p));
        assert_denied(f.ws.get_file_info(&path(p)));
        let before = f.outside_snapshot();
        assert_denied(write(&f, p));
        assert_denied(edit(&f, p));
        assert_eq!(before, f.outside_snapshot());
    }
    assert_eq!(
        std::fs::read_to_string(f.outside.join("secret.txt")).unwrap(),
        SECRET
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_pointing_outside_cannot_be_read_through() {
    let f = fixture();
    f.link(&f.outside, "elsewhere");
    assert_all_reads_denied(&f, "elsewhere/secret.txt");
    assert_all_reads_denied(&f, "elsewhere");
}

#[cfg(unix)]
#[test]
fn writing_a_new_file_through_a_symlinked_folder_creates_nothing_outside() {
    let f = fixture();
    f.link(&f.outside, "elsewhere");
    assert_all_writes_denied(&f, "elsewhere/new.txt");
    assert_all_writes_denied(&f, "elsewhere/deeper/new.txt");
    assert!(!f.outside.join("new.txt").exists());
    assert!(!f.outside.join("deeper").exists());
}

#[cfg(unix)]
#[test]
fn a_chain_of_symlinks_ending_outside_is_denied() {
    let f = fixture();
    f.link(&f.outside, "hop3");
    f.link("hop3", "hop2");
    f.link(f.root.join("hop2"), "hop1");
    assert_all_reads_denied(&f, "hop1/secret.txt");
    assert_all_writes_denied(&f, "hop1/secret.txt");
    assert_all_writes_denied(&f, "hop1/new.txt");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_pointing_outside_creates_nothing_outside() {
    let f = fixture();
    f.link(f.outside.join("not-yet.txt"), "dangling.txt");
    let before = f.outside_snapshot();
    assert_denied(write(&f, "dangling.txt"));
    assert_denied(edit(&f, "dangling.txt"));
    assert_denied(f.ws.create_directory(&path("dangling.txt")));
    // A move onto the link refuses to replace it (the link itself is inside).
    let moved = f.ws.move_file(&MoveFileParams {
        source: "notes.md".to_string(),
        destination: "dangling.txt".to_string(),
    });
    assert!(
        matches!(moved, Err(WorkspaceError::AlreadyExists { .. })),
        "{moved:?}"
    );
    assert_eq!(before, f.outside_snapshot());
    assert!(!f.outside.join("not-yet.txt").exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_an_error_not_a_hang() {
    let f = fixture();
    f.link("loop-b", "loop-a");
    f.link("loop-a", "loop-b");
    let err = read(&f, "loop-a").unwrap_err();
    assert!(matches!(err, WorkspaceError::TooManyLinks { .. }), "{err}");
}

#[test]
fn move_file_to_outside_is_denied() {
    let f = fixture();
    let before = f.outside_snapshot();
    for dest in [
        f.path_str(&f.outside.join("moved.md")),
        "../outside/moved.md".to_string(),
        format!("{}2/moved.md", f.root.display()),
    ] {
        assert_denied(f.ws.move_file(&MoveFileParams {
            source: "notes.md".to_string(),
            destination: dest,
        }));
    }
    assert_eq!(before, f.outside_snapshot());
    assert!(f.root.join("notes.md").exists());
}

#[test]
fn moving_the_root_itself_is_denied() {
    let f = fixture();
    assert_denied(f.ws.move_file(&MoveFileParams {
        source: ".".to_string(),
        destination: "elsewhere".to_string(),
    }));
}

#[test]
fn create_directory_outside_is_denied() {
    let f = fixture();
    let before = f.outside_snapshot();
    assert_denied(f.ws.create_directory(&path(&f.path_str(&f.outside.join("made")))));
    assert_denied(f.ws.create_directory(&path("../made")));
    assert_denied(f.ws.create_directory(&path("x/../../made")));
    assert_eq!(before, f.outside_snapshot());
}

#[cfg(unix)]
#[test]
fn create_directory_through_a_symlinked_folder_is_denied() {
    let f = fixture();
    f.link(&f.outside, "elsewhere");
    let before = f.outside_snapshot();
    assert_denied(f.ws.create_directory(&path("elsewhere/made")));
    assert_eq!(before, f.outside_snapshot());
}

#[cfg(unix)]
#[test]
fn list_tree_search_grep_and_info_through_an_outside_link_are_denied() {
    let f = fixture();
    f.link(&f.outside, "elsewhere");
    f.link("elsewhere", "again");
    for p in ["elsewhere", "again", "elsewhere/.", "again/secret.txt"] {
        assert_all_reads_denied(&f, p);
    }
}

#[cfg(unix)]
#[test]
fn walks_over_the_root_do_not_follow_links_that_leave_it() {
    let f = fixture();
    f.link(&f.outside, "elsewhere");
    f.link(f.outside.join("secret.txt"), "leak.txt");
    let grep =
        f.ws.grep(&GrepParams {
            pattern: "SECRET".to_string(),
            ..Default::default()
        })
        .unwrap();
    assert!(grep.matches.is_empty(), "{:?}", grep.matches);

    let search =
        f.ws.search_files(&SearchFilesParams {
            path: ".".to_string(),
            pattern: "secret*".to_string(),
            ..Default::default()
        })
        .unwrap();
    assert!(search.matches.is_empty(), "{:?}", search.matches);

    let tree =
        f.ws.directory_tree(&DirectoryTreeParams {
            path: ".".to_string(),
            ..Default::default()
        })
        .unwrap();
    let link = tree.tree.iter().find(|n| n.name == "elsewhere").unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert!(link.children.is_none());

    let list = f.ws.list_directory(&path(".")).unwrap();
    let link = list.entries.iter().find(|e| e.name == "leak.txt").unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
}

#[test]
fn paths_that_normalise_inside_work() {
    let f = fixture();
    assert_eq!(
        read(&f, "./notes.md").unwrap().content,
        "# Notes\nfirst\nsecond\n"
    );
    assert_eq!(read(&f, "sub//inner.txt").unwrap().content, "inner\n");
    assert_eq!(read(&f, "nowhere/../notes.md").unwrap().path, "notes.md");
    let abs = format!("{}/sub/../notes.md", f.root.display());
    assert_eq!(read(&f, &abs).unwrap().path, "notes.md");
    let out = write(&f, "missing/../made.txt").unwrap();
    assert_eq!(out.path, "made.txt");
    assert!(!f.root.join("missing").exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_pointing_inside_works_with_relative_and_absolute_targets() {
    let f = fixture();
    f.link("sub/inner.txt", "rel-link.txt");
    f.link(f.root.join("sub/inner.txt"), "abs-link.txt");
    f.link("sub", "rel-dir");
    f.link(f.root.join("sub"), "abs-dir");
    f.link("../notes.md", "sub/up-link.md");
    for p in [
        "rel-link.txt",
        "abs-link.txt",
        "rel-dir/inner.txt",
        "abs-dir/inner.txt",
    ] {
        let file = read(&f, p).unwrap();
        assert_eq!(file.content, "inner\n");
        assert_eq!(file.path, "sub/inner.txt");
    }
    assert_eq!(read(&f, "sub/up-link.md").unwrap().path, "notes.md");

    // Writing through a link writes the file it points at and keeps the link.
    write(&f, "abs-link.txt").unwrap();
    assert_eq!(
        std::fs::read_to_string(f.root.join("sub/inner.txt")).unwrap(),
        "OVERWRITTEN\n"
    );
    assert!(
        std::fs::symlink_metadata(f.root.join("abs-link.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let edited =
        f.ws.edit_file(&EditFileParams {
            path: "rel-dir/inner.txt".to_string(),
            edits: vec![Edit {
                old_text: "OVERWRITTEN".to_string(),
                new_text: "EDITED".to_string(),
            }],
            dry_run: false,
            replace_all: false,
        })
        .unwrap();
    assert!(edited.written);
    write(&f, "abs-dir/new.txt").unwrap();
    assert!(f.root.join("sub/new.txt").is_file());
    let listing = f.ws.list_directory(&path("abs-dir")).unwrap();
    assert_eq!(listing.path, "sub");
    let info = f.ws.get_file_info(&path("rel-link.txt")).unwrap();
    assert!(info.symlink);
    assert_eq!(info.kind, EntryKind::File);
}

#[cfg(unix)]
#[test]
fn a_parent_folder_swapped_for_an_outside_link_after_the_check_does_not_let_a_write_escape() {
    let f = fixture();
    std::fs::create_dir(f.root.join("plans")).unwrap();
    let checked =
        f.ws.jail()
            .resolve("plans/secret.txt", FinalLink::Follow)
            .unwrap();
    // Between the check and the use, the folder becomes a link to the outside.
    std::fs::rename(f.root.join("plans"), f.root.join("plans-old")).unwrap();
    f.link(&f.outside, "plans");
    let before = f.outside_snapshot();
    let result = super::write::write_atomic(
        f.ws.jail(),
        "plans/secret.txt",
        &checked,
        b"ESCAPED",
        super::write::Mode::Replace,
    );
    assert_denied(result);
    assert_eq!(before, f.outside_snapshot());
}

#[cfg(unix)]
#[test]
fn a_file_swapped_for_an_outside_link_after_the_check_is_replaced_not_followed() {
    let f = fixture();
    let checked = f.ws.jail().resolve("notes.md", FinalLink::Follow).unwrap();
    std::fs::remove_file(f.root.join("notes.md")).unwrap();
    f.link(f.outside.join("secret.txt"), "notes.md");
    let before = f.outside_snapshot();
    super::write::write_atomic(
        f.ws.jail(),
        "notes.md",
        &checked,
        b"REPLACED",
        super::write::Mode::Replace,
    )
    .unwrap();
    assert_eq!(before, f.outside_snapshot());
    let meta = std::fs::symlink_metadata(f.root.join("notes.md")).unwrap();
    assert!(meta.is_file(), "the link was replaced by a plain file");
    assert_eq!(
        std::fs::read_to_string(f.root.join("notes.md")).unwrap(),
        "REPLACED"
    );
}

#[cfg(unix)]
#[test]
fn a_file_swapped_for_an_outside_link_after_the_check_is_not_read() {
    let f = fixture();
    let checked =
        f.ws.jail()
            .resolve("sub/inner.txt", FinalLink::Follow)
            .unwrap();
    std::fs::remove_file(f.root.join("sub/inner.txt")).unwrap();
    f.link(f.outside.join("secret.txt"), "sub/inner.txt");
    let err = f.ws.jail().dir().open(checked.cap_path()).unwrap_err();
    let mapped = f.ws.jail().io_error("reading", "sub/inner.txt", err);
    assert!(mapped.is_access_denied(), "{mapped}");
}

#[test]
fn a_handoff_id_cannot_reach_outside() {
    let f = fixture();
    for id in [
        "../../outside/secret",
        "..\\..\\x",
        "/etc/passwd",
        ".hidden",
    ] {
        let read =
            f.ws.handoff_read(&handoff::HandoffReadParams { id: id.to_string() });
        assert!(read.is_err(), "{id}: {read:?}");
    }
    let before = f.outside_snapshot();
    let _ = f.ws.handoff_update(
        &handoff::HandoffUpdateParams {
            id: "../../outside/secret".to_string(),
            status: HandoffStatus::Done,
            note: None,
        },
        "test",
    );
    assert_eq!(before, f.outside_snapshot());
}

#[cfg(unix)]
mod property {
    use proptest::prelude::*;

    use super::*;

    /// A root with links of every kind, and the outside folder beside it.
    fn linked_fixture() -> Fixture {
        let f = fixture();
        f.link(&f.outside, "out");
        f.link(f.outside.join("secret.txt"), "outfile");
        f.link(f.root.join("sub"), "in_abs");
        f.link("sub", "in_rel");
        f.link("out", "chain");
        f.link("../outside", "esc");
        f.link(f.outside.join("nothing"), "dang");
        f
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("..".to_string()),
            Just(".".to_string()),
            Just(String::new()),
            Just("a".to_string()),
            Just("sub".to_string()),
            Just("out".to_string()),
            Just("outfile".to_string()),
            Just("in_abs".to_string()),
            Just("in_rel".to_string()),
            Just("chain".to_string()),
            Just("esc".to_string()),
            Just("dang".to_string()),
            Just("secret.txt".to_string()),
            Just("outside".to_string()),
            Just("root".to_string()),
            Just("root2".to_string()),
            Just("root-old".to_string()),
            Just("\\".to_string()),
            Just("C:".to_string()),
            Just("\0".to_string()),
            Just("x\\..\\y".to_string()),
            "[a-z.\\\\/:\\x00]{1,6}",
        ]
    }

    fn arbitrary_path() -> impl Strategy<Value = (u8, Vec<String>, u8)> {
        (0u8..5, prop::collection::vec(segment(), 0..8), 0u8..3)
    }

    fn build(f: &Fixture, (prefix, segments, joiner): &(u8, Vec<String>, u8)) -> String {
        let sep = match joiner {
            0 => "/",
            1 => "\\",
            _ => "//",
        };
        let body = segments.join(sep);
        match prefix {
            0 => body,
            1 => format!("/{body}"),
            2 => format!("{}/{body}", f.root.display()),
            3 => format!("{}/{body}", f.base().display()),
            _ => format!("\\\\server\\{body}"),
        }
    }

    /// The file at `rel` (as returned) is inside the root, after resolving every link.
    fn inside(f: &Fixture, rel: &str) -> bool {
        let p = f.root.join(rel);
        match std::fs::canonicalize(&p) {
            Ok(real) => real.starts_with(&f.root),
            Err(_) => false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(192))]

        #[test]
        fn any_path_is_denied_or_touches_only_the_inside(spec in arbitrary_path()) {
            let f = linked_fixture();
            let p = build(&f, &spec);
            let before = f.outside_snapshot();

            if let Ok(r) = f.ws.jail().resolve(&p, FinalLink::Follow) {
                let rel = r.rel();
                prop_assert!(rel.components().all(|c| matches!(c, std::path::Component::Normal(_))));
                if r.exists() {
                    prop_assert!(inside(&f, &r.display()), "{p:?} resolved to {:?}", r.display());
                }
            }
            if let Ok(out) = f.ws.write_file(&p, "PROBE") {
                prop_assert!(inside(&f, &out.path), "{p:?} wrote {:?}", out.path);
                prop_assert_eq!(std::fs::read_to_string(f.root.join(&out.path)).unwrap(), "PROBE");
            }
            if let Ok(out) = f.ws.read_text_file(&ReadTextFileParams::path(p.clone())) {
                prop_assert!(inside(&f, &out.path), "{p:?} read {:?}", out.path);
                prop_assert!(!out.content.contains("TOP SECRET"));
            }
            if let Ok(out) = f.ws.create_directory(&path(&format!("{p}/made"))) {
                prop_assert!(inside(&f, &out.path), "{p:?} made {:?}", out.path);
            }
            if let Ok(out) = f.ws.move_file(&MoveFileParams {
                source: "notes.md".to_string(),
                destination: p.clone(),
            }) {
                prop_assert!(inside(&f, &out.destination), "{p:?} moved to {:?}", out.destination);
            }
            if let Ok(out) = f.ws.grep(&GrepParams {
                pattern: "SECRET".to_string(),
                path: Some(p.clone()),
                ..Default::default()
            }) {
                prop_assert!(out.matches.is_empty(), "{p:?} grepped {:?}", out.matches);
            }
            prop_assert_eq!(before, f.outside_snapshot(), "{:?} changed something outside", p);
        }
    }
}
