use super::*;
use crate::workspace::testkit::{Fixture, fixture};

fn read(f: &Fixture, p: ReadTextFileParams) -> TextFile {
    f.ws.read_text_file(&p).unwrap()
}

fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn edit(path: &str, edits: &[(&str, &str)]) -> EditFileParams {
    EditFileParams {
        path: path.to_string(),
        edits: edits
            .iter()
            .map(|(o, n)| Edit {
                old_text: o.to_string(),
                new_text: n.to_string(),
            })
            .collect(),
        dry_run: false,
        replace_all: false,
    }
}

#[test]
fn a_small_file_is_read_whole_with_its_line_count() {
    let f = fixture();
    let file = read(&f, ReadTextFileParams::path("notes.md"));
    assert_eq!(file.content, "# Notes\nfirst\nsecond\n");
    assert_eq!((file.start_line, file.end_line), (1, 3));
    assert_eq!(file.total_lines, Some(3));
    assert_eq!(file.size, 21);
    assert!(!file.truncated);
    assert!(file.next_offset.is_none() && file.note.is_none());
}

#[test]
fn head_returns_the_first_lines_and_says_more_follow() {
    let f = fixture();
    f.ws.write_file("l.txt", &lines(10)).unwrap();
    let file = read(
        &f,
        ReadTextFileParams {
            head: Some(3),
            ..ReadTextFileParams::path("l.txt")
        },
    );
    assert_eq!(file.content, "line 1\nline 2\nline 3\n");
    assert_eq!(file.next_offset, Some(4));
    assert!(file.total_lines.is_none());
}

#[test]
fn tail_returns_the_last_lines_with_their_numbers() {
    let f = fixture();
    f.ws.write_file("l.txt", &lines(10)).unwrap();
    let file = read(
        &f,
        ReadTextFileParams {
            tail: Some(2),
            ..ReadTextFileParams::path("l.txt")
        },
    );
    assert_eq!(file.content, "line 9\nline 10\n");
    assert_eq!((file.start_line, file.end_line), (9, 10));
    assert_eq!(file.total_lines, Some(10));
    assert!(file.next_offset.is_none());
}

#[test]
fn offset_and_limit_select_a_range_of_lines() {
    let f = fixture();
    f.ws.write_file("l.txt", &lines(10)).unwrap();
    let file = read(
        &f,
        ReadTextFileParams {
            offset: Some(4),
            limit: Some(2),
            ..ReadTextFileParams::path("l.txt")
        },
    );
    assert_eq!(file.content, "line 4\nline 5\n");
    assert_eq!((file.start_line, file.end_line), (4, 5));
    assert_eq!(file.next_offset, Some(6));
    let rest = read(
        &f,
        ReadTextFileParams {
            offset: Some(9),
            ..ReadTextFileParams::path("l.txt")
        },
    );
    assert_eq!(rest.content, "line 9\nline 10\n");
    assert_eq!(rest.total_lines, Some(10));
    assert!(rest.next_offset.is_none());
}

#[test]
fn head_and_tail_together_are_refused() {
    let f = fixture();
    let err =
        f.ws.read_text_file(&ReadTextFileParams {
            head: Some(1),
            tail: Some(1),
            ..ReadTextFileParams::path("notes.md")
        })
        .unwrap_err();
    assert!(err.to_string().contains("use one of them"), "{err}");
}

#[test]
fn a_file_over_256_kib_returns_the_first_256_kib_and_says_how_to_read_on() {
    let f = fixture();
    let big = lines(60_000); // ~600 KB
    f.ws.write_file("big.log", &big).unwrap();
    let file = read(&f, ReadTextFileParams::path("big.log"));
    assert!(file.truncated);
    assert!(file.content.len() <= MAX_READ_BYTES);
    assert!(file.content.len() > MAX_READ_BYTES - 20);
    assert!(file.content.ends_with('\n'));
    let next = file.next_offset.unwrap();
    assert_eq!(next, file.end_line + 1);
    assert!(file.note.unwrap().contains(&format!("offset={next}")));
    // Reading on continues exactly where the first read stopped.
    let more = read(
        &f,
        ReadTextFileParams {
            offset: Some(next),
            limit: Some(1),
            ..ReadTextFileParams::path("big.log")
        },
    );
    assert_eq!(more.content, format!("line {next}\n"));
}

#[test]
fn a_single_line_longer_than_the_bound_is_cut_at_a_character_boundary() {
    let f = fixture();
    let long = "é".repeat(MAX_READ_BYTES); // 2 bytes each
    f.ws.write_file("long.txt", &format!("{long}\nnext\n"))
        .unwrap();
    let file = read(&f, ReadTextFileParams::path("long.txt"));
    assert!(file.truncated);
    assert_eq!(file.content.len(), MAX_READ_BYTES);
    assert!(file.content.chars().all(|c| c == 'é'));
    assert_eq!(file.next_offset, Some(2));
}

#[test]
fn tail_of_a_large_file_stays_within_the_bound() {
    let f = fixture();
    f.ws.write_file("big.log", &lines(60_000)).unwrap();
    let file = read(
        &f,
        ReadTextFileParams {
            tail: Some(50_000),
            ..ReadTextFileParams::path("big.log")
        },
    );
    assert!(file.truncated);
    assert!(file.content.len() <= MAX_READ_BYTES);
    assert!(file.content.ends_with("line 60000\n"));
    assert_eq!(file.end_line, 60_000);
}

#[test]
fn reading_a_missing_file_says_how_to_find_files() {
    let f = fixture();
    let err =
        f.ws.read_text_file(&ReadTextFileParams::path("nope.md"))
            .unwrap_err();
    assert!(matches!(err, WorkspaceError::NotFound { .. }));
    assert!(err.to_string().contains("search_files"), "{err}");
}

#[test]
fn reading_a_folder_is_an_error() {
    let f = fixture();
    let err =
        f.ws.read_text_file(&ReadTextFileParams::path("sub"))
            .unwrap_err();
    assert!(matches!(err, WorkspaceError::IsADirectory { .. }), "{err}");
}

#[test]
fn read_multiple_files_reports_errors_per_file() {
    let f = fixture();
    let out =
        f.ws.read_multiple_files(&ReadMultipleFilesParams {
            paths: vec![
                "notes.md".to_string(),
                "missing.md".to_string(),
                "/etc/passwd".to_string(),
                "sub/inner.txt".to_string(),
            ],
        })
        .unwrap();
    assert_eq!(out.files.len(), 4);
    assert_eq!(
        out.files[0].file.as_ref().unwrap().content,
        "# Notes\nfirst\nsecond\n"
    );
    assert!(
        out.files[1]
            .error
            .as_deref()
            .unwrap()
            .contains("does not exist")
    );
    assert!(
        out.files[2]
            .error
            .as_deref()
            .unwrap()
            .starts_with("Access denied")
    );
    assert_eq!(out.files[3].file.as_ref().unwrap().content, "inner\n");
}

#[test]
fn read_multiple_files_stops_reading_at_its_total_bound() {
    let f = fixture();
    f.ws.write_file("big.log", &lines(60_000)).unwrap();
    let paths = vec!["big.log".to_string(); 6];
    let out =
        f.ws.read_multiple_files(&ReadMultipleFilesParams { paths })
            .unwrap();
    let total: usize = out
        .files
        .iter()
        .filter_map(|r| r.file.as_ref())
        .map(|t| t.content.len())
        .sum();
    assert!(total <= MAX_MULTI_READ_BYTES);
    assert!(
        out.files[5]
            .error
            .as_deref()
            .unwrap()
            .contains("read_text_file")
    );
}

#[test]
fn write_creates_missing_folders_and_leaves_no_temporary_file() {
    let f = fixture();
    let out = f.ws.write_file("plans/2025/q3.md", "# Q3\n").unwrap();
    assert_eq!(out.path, "plans/2025/q3.md");
    assert!(out.created);
    assert_eq!(out.bytes, 5);
    assert_eq!(
        std::fs::read_to_string(f.root.join("plans/2025/q3.md")).unwrap(),
        "# Q3\n"
    );
    let again = f.ws.write_file("plans/2025/q3.md", "# Q3 v2\n").unwrap();
    assert!(!again.created);
    let names: Vec<_> = std::fs::read_dir(f.root.join("plans/2025"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["q3.md"]);
}

#[test]
fn writing_over_a_folder_is_an_error() {
    let f = fixture();
    let err = f.ws.write_file("sub", "x").unwrap_err();
    assert!(matches!(err, WorkspaceError::IsADirectory { .. }), "{err}");
    assert!(f.root.join("sub").is_dir());
}

#[cfg(unix)]
#[test]
fn write_keeps_the_permissions_of_the_file_it_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let path = f.root.join("script.sh");
    std::fs::write(&path, "echo 1\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
    f.ws.write_file("script.sh", "echo 2\n").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "echo 2\n");
}

#[test]
fn an_edit_replaces_exact_text_and_returns_a_unified_diff() {
    let f = fixture();
    let out =
        f.ws.edit_file(&edit("notes.md", &[("first", "FIRST")]))
            .unwrap();
    assert!(out.written);
    assert_eq!(out.replacements, 1);
    assert!(out.diff.contains("--- notes.md"), "{}", out.diff);
    assert!(out.diff.contains("-first\n+FIRST\n"), "{}", out.diff);
    assert_eq!(
        std::fs::read_to_string(f.root.join("notes.md")).unwrap(),
        "# Notes\nFIRST\nsecond\n"
    );
}

#[test]
fn edits_apply_in_order_each_to_the_result_of_the_last() {
    let f = fixture();
    f.ws.edit_file(&edit(
        "notes.md",
        &[("first", "one"), ("one\nsecond", "two")],
    ))
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(f.root.join("notes.md")).unwrap(),
        "# Notes\ntwo\n"
    );
}

#[test]
fn an_old_text_found_twice_is_an_error_unless_replace_all() {
    let f = fixture();
    f.ws.write_file("dup.txt", "a x a x\n").unwrap();
    let err = f.ws.edit_file(&edit("dup.txt", &[("x", "y")])).unwrap_err();
    assert!(
        matches!(err, WorkspaceError::EditAmbiguous { count: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("replaceAll"));
    assert_eq!(
        std::fs::read_to_string(f.root.join("dup.txt")).unwrap(),
        "a x a x\n"
    );
    let out =
        f.ws.edit_file(&EditFileParams {
            replace_all: true,
            ..edit("dup.txt", &[("x", "y")])
        })
        .unwrap();
    assert_eq!(out.replacements, 2);
    assert_eq!(
        std::fs::read_to_string(f.root.join("dup.txt")).unwrap(),
        "a y a y\n"
    );
}

#[test]
fn a_missing_old_text_fails_the_whole_call_and_writes_nothing() {
    let f = fixture();
    let err =
        f.ws.edit_file(&edit("notes.md", &[("first", "FIRST"), ("absent", "x")]))
            .unwrap_err();
    assert!(
        matches!(err, WorkspaceError::EditNotFound { index: 2, .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(f.root.join("notes.md")).unwrap(),
        "# Notes\nfirst\nsecond\n"
    );
}

#[test]
fn a_dry_run_returns_the_diff_and_writes_nothing() {
    let f = fixture();
    let out =
        f.ws.edit_file(&EditFileParams {
            dry_run: true,
            ..edit("notes.md", &[("second", "2nd")])
        })
        .unwrap();
    assert!(!out.written);
    assert!(out.diff.contains("+2nd"));
    assert_eq!(
        std::fs::read_to_string(f.root.join("notes.md")).unwrap(),
        "# Notes\nfirst\nsecond\n"
    );
}

#[test]
fn an_lf_old_text_matches_in_a_crlf_file_and_keeps_crlf() {
    let f = fixture();
    f.ws.write_file("win.txt", "a\r\nb\r\nc\r\n").unwrap();
    f.ws.edit_file(&edit("win.txt", &[("a\nb", "A\nB")]))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(f.root.join("win.txt")).unwrap(),
        "A\r\nB\r\nc\r\n"
    );
}

#[test]
fn create_directory_makes_parents_and_accepts_an_existing_folder() {
    let f = fixture();
    let out =
        f.ws.create_directory(&PathParams {
            path: "a/b/c".to_string(),
        })
        .unwrap();
    assert!(out.created);
    assert!(f.root.join("a/b/c").is_dir());
    let again =
        f.ws.create_directory(&PathParams {
            path: "a/b/c".to_string(),
        })
        .unwrap();
    assert!(!again.created);
    let err =
        f.ws.create_directory(&PathParams {
            path: "notes.md".to_string(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::AlreadyExists { .. }));
}

#[test]
fn move_file_renames_and_creates_missing_folders() {
    let f = fixture();
    let out =
        f.ws.move_file(&MoveFileParams {
            source: "notes.md".to_string(),
            destination: "archive/2025/notes.md".to_string(),
        })
        .unwrap();
    assert_eq!(out.destination, "archive/2025/notes.md");
    assert!(!f.root.join("notes.md").exists());
    assert!(f.root.join("archive/2025/notes.md").is_file());
}

#[test]
fn move_file_refuses_to_overwrite() {
    let f = fixture();
    let err =
        f.ws.move_file(&MoveFileParams {
            source: "notes.md".to_string(),
            destination: "sub/inner.txt".to_string(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::AlreadyExists { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(f.root.join("sub/inner.txt")).unwrap(),
        "inner\n"
    );
    assert!(f.root.join("notes.md").exists());
}

#[test]
fn move_file_of_a_missing_source_says_so() {
    let f = fixture();
    let err =
        f.ws.move_file(&MoveFileParams {
            source: "gone.md".to_string(),
            destination: "x.md".to_string(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::NotFound { .. }), "{err}");
}

#[test]
fn file_info_gives_kind_size_times_and_permissions() {
    let f = fixture();
    let info =
        f.ws.get_file_info(&PathParams {
            path: "notes.md".to_string(),
        })
        .unwrap();
    assert_eq!(info.kind, EntryKind::File);
    assert_eq!(info.size, 21);
    assert!(!info.symlink);
    let modified = info.modified.unwrap();
    assert!(
        time::OffsetDateTime::parse(&modified, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "{modified}"
    );
    assert!(info.accessed.is_some());
    #[cfg(unix)]
    assert!(info.permissions.len() == 3 && info.permissions.chars().all(|c| c.is_digit(8)));
    let dir =
        f.ws.get_file_info(&PathParams {
            path: ".".to_string(),
        })
        .unwrap();
    assert_eq!(dir.kind, EntryKind::Dir);
    assert_eq!(dir.path, ".");
}

#[test]
fn outputs_serialise_with_camel_case_fields() {
    let f = fixture();
    let file = read(&f, ReadTextFileParams::path("notes.md"));
    let json = serde_json::to_value(&file).unwrap();
    assert!(json.get("startLine").is_some() && json.get("totalLines").is_some());
    let params: EditFileParams = serde_json::from_value(serde_json::json!({
        "path": "a", "edits": [{"oldText": "x", "newText": "y"}], "dryRun": true
    }))
    .unwrap();
    assert!(params.dry_run && !params.replace_all);
    assert_eq!(params.edits[0].old_text, "x");
}

#[test]
fn line_counting_handles_a_missing_final_newline() {
    assert_eq!(count_lines(b""), 0);
    assert_eq!(count_lines(b"a"), 1);
    assert_eq!(count_lines(b"a\n"), 1);
    assert_eq!(count_lines(b"a\nb"), 2);
}
