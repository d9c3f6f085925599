use super::*;
use crate::workspace::{
    GrepParams,
    testkit::{Fixture, fixture},
};

fn at(p: &str) -> PathParams {
    PathParams {
        path: p.to_string(),
    }
}

fn touch(f: &Fixture, rel: &str) {
    let path = f.root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("{rel}\n")).unwrap();
}

fn search(f: &Fixture, path: &str, pattern: &str, exclude: &[&str]) -> SearchFilesResult {
    f.ws.search_files(&SearchFilesParams {
        path: path.to_string(),
        pattern: pattern.to_string(),
        exclude_patterns: exclude.iter().map(|s| s.to_string()).collect(),
    })
    .unwrap()
}

#[test]
fn list_directory_sorts_entries_and_names_their_kinds() {
    let f = fixture();
    touch(&f, ".hidden");
    let list = f.ws.list_directory(&at(".")).unwrap();
    let got: Vec<_> = list
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            (".hidden", EntryKind::File),
            ("README.md", EntryKind::File),
            ("handoffs", EntryKind::Dir),
            ("notes.md", EntryKind::File),
            ("sub", EntryKind::Dir),
        ]
    );
    assert_eq!((list.total, list.omitted), (5, 0));
    assert!(list.note.is_none());
}

#[test]
fn list_directory_stops_at_500_and_says_how_many_more() {
    let f = fixture();
    for i in 0..520 {
        touch(&f, &format!("many/f{i:04}"));
    }
    let list = f.ws.list_directory(&at("many")).unwrap();
    assert_eq!(list.entries.len(), LIST_CAP);
    assert_eq!((list.total, list.omitted), (520, 20));
    assert!(list.note.unwrap().contains("20 more"));
}

#[test]
fn list_directory_of_a_file_is_an_error() {
    let f = fixture();
    let err = f.ws.list_directory(&at("notes.md")).unwrap_err();
    assert!(matches!(err, WorkspaceError::NotADirectory { .. }), "{err}");
}

#[test]
fn directory_tree_nests_entries() {
    let f = fixture();
    touch(&f, "sub/deeper/leaf.txt");
    let tree =
        f.ws.directory_tree(&DirectoryTreeParams {
            path: "sub".to_string(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tree.path, "sub");
    let json = serde_json::to_value(&tree.tree).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "deeper", "kind": "dir", "children": [{"name": "leaf.txt", "kind": "file"}]},
            {"name": "inner.txt", "kind": "file"}
        ])
    );
    assert_eq!((tree.entries, tree.omitted), (3, 0));
}

#[test]
fn directory_tree_honours_max_depth_and_exclude_patterns() {
    let f = fixture();
    touch(&f, "sub/deeper/leaf.txt");
    touch(&f, "sub/node_modules/pkg/index.js");
    touch(&f, "sub/debug.log");
    let tree =
        f.ws.directory_tree(&DirectoryTreeParams {
            path: "sub".to_string(),
            exclude_patterns: vec!["node_modules".to_string(), "*.log".to_string()],
            max_depth: Some(1),
        })
        .unwrap();
    let names: Vec<_> = tree.tree.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["deeper", "inner.txt"]);
    assert!(
        tree.tree[0].children.is_none(),
        "not descended below maxDepth"
    );
}

#[test]
fn directory_tree_caps_at_500_entries_shallow_first_and_counts_the_rest() {
    let f = fixture();
    for d in 0..10 {
        for i in 0..60 {
            touch(&f, &format!("big/d{d}/f{i:02}"));
        }
    }
    let tree =
        f.ws.directory_tree(&DirectoryTreeParams {
            path: "big".to_string(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tree.entries, LIST_CAP);
    assert_eq!(tree.entries + tree.omitted, 610);
    assert_eq!(tree.tree.len(), 10, "every top-level folder is shown");
    let shown: usize = tree
        .tree
        .iter()
        .map(|n| n.children.as_ref().unwrap().len())
        .sum();
    let omitted: usize = tree.tree.iter().map(|n| n.omitted).sum();
    assert_eq!(shown + omitted, 600);
    assert!(tree.note.unwrap().contains("110 more"));
}

#[test]
fn search_files_matches_a_name_glob_at_any_depth() {
    let f = fixture();
    touch(&f, "plans/a.md");
    touch(&f, "plans/deep/b.md");
    touch(&f, "plans/c.txt");
    let out = search(&f, ".", "*.md", &[]);
    assert_eq!(
        out.matches,
        vec!["README.md", "notes.md", "plans/a.md", "plans/deep/b.md"]
    );
    assert_eq!(out.total, 4);
}

#[test]
fn search_files_matches_path_globs_relative_to_the_search_folder() {
    let f = fixture();
    touch(&f, "plans/a.md");
    touch(&f, "plans/deep/b.md");
    assert_eq!(
        search(&f, ".", "plans/*.md", &[]).matches,
        vec!["plans/a.md"]
    );
    assert_eq!(
        search(&f, "plans", "**/*.md", &[]).matches,
        vec!["plans/a.md", "plans/deep/b.md"]
    );
    assert_eq!(
        search(&f, "plans", "deep/*", &[]).matches,
        vec!["plans/deep/b.md"]
    );
}

#[test]
fn search_files_with_a_plain_word_matches_names_containing_it() {
    let f = fixture();
    touch(&f, "plans/Auth-Rework.md");
    touch(&f, "plans/other.md");
    assert_eq!(
        search(&f, ".", "auth", &[]).matches,
        vec!["plans/Auth-Rework.md"]
    );
}

#[test]
fn search_files_skips_excluded_folders() {
    let f = fixture();
    touch(&f, "plans/a.md");
    touch(&f, "node_modules/x/readme.md");
    let out = search(&f, ".", "**/*.md", &["node_modules"]);
    assert!(out.matches.iter().all(|m| !m.starts_with("node_modules")));
    assert!(out.matches.contains(&"plans/a.md".to_string()));
}

#[test]
fn search_files_caps_at_500_and_counts_the_rest() {
    let f = fixture();
    for i in 0..530 {
        touch(&f, &format!("many/f{i:04}.md"));
    }
    let out = search(&f, "many", "*.md", &[]);
    assert_eq!(out.matches.len(), LIST_CAP);
    assert_eq!((out.total, out.omitted), (530, 30));
    assert!(out.note.unwrap().contains("30 more"));
}

#[test]
fn an_invalid_glob_is_an_error_that_names_it() {
    let f = fixture();
    let err =
        f.ws.search_files(&SearchFilesParams {
            path: ".".to_string(),
            pattern: "a/[".to_string(),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        matches!(err, WorkspaceError::InvalidPattern { .. }),
        "{err}"
    );
}

fn grep(f: &Fixture, p: GrepParams) -> crate::workspace::GrepResult {
    f.ws.grep(&p).unwrap()
}

fn pattern(p: &str) -> GrepParams {
    GrepParams {
        pattern: p.to_string(),
        ..Default::default()
    }
}

#[test]
fn grep_finds_lines_with_file_and_line_number() {
    let f = fixture();
    let out = grep(&f, pattern("sec.nd"));
    assert_eq!(out.matches.len(), 1);
    let m = &out.matches[0];
    assert_eq!(
        (m.file.as_str(), m.line, m.text.as_str()),
        ("notes.md", 3, "second")
    );
    assert_eq!(out.total, 1);
}

#[test]
fn grep_can_ignore_case_and_filter_by_glob_and_path() {
    let f = fixture();
    touch(&f, "plans/x.md");
    std::fs::write(f.root.join("plans/x.md"), "FIRST thing\n").unwrap();
    std::fs::write(f.root.join("plans/y.txt"), "first thing\n").unwrap();
    let out = grep(
        &f,
        GrepParams {
            case_insensitive: true,
            ..pattern("first")
        },
    );
    let files: Vec<_> = out.matches.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, vec!["notes.md", "plans/x.md", "plans/y.txt"]);
    let out = grep(
        &f,
        GrepParams {
            case_insensitive: true,
            glob: Some("*.md".to_string()),
            path: Some("plans".to_string()),
            ..pattern("first")
        },
    );
    let files: Vec<_> = out.matches.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, vec!["plans/x.md"]);
}

#[test]
fn grep_stops_at_max_results_and_counts_the_rest() {
    let f = fixture();
    let text: String = (0..300).map(|i| format!("hit {i}\n")).collect();
    std::fs::write(f.root.join("hits.txt"), text).unwrap();
    let out = grep(&f, pattern("^hit"));
    assert_eq!(out.matches.len(), 200);
    assert_eq!((out.total, out.omitted), (300, 100));
    assert!(out.note.unwrap().contains("100 more"));
    let out = grep(
        &f,
        GrepParams {
            max_results: Some(5),
            ..pattern("^hit")
        },
    );
    assert_eq!(out.matches.len(), 5);
}

#[test]
fn grep_honours_gitignore_searches_hidden_files_and_skips_dot_git() {
    let f = fixture();
    std::fs::write(f.root.join(".gitignore"), "ignored/\n").unwrap();
    touch(&f, "ignored/needle.txt");
    touch(&f, ".notes/needle.txt");
    touch(&f, ".git/needle.txt");
    let out = grep(&f, pattern("needle"));
    let files: Vec<_> = out.matches.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(files, vec![".notes/needle.txt"]);
}

#[test]
fn grep_skips_binary_files() {
    let f = fixture();
    std::fs::write(f.root.join("blob.bin"), b"needle\0\x01\x02").unwrap();
    assert!(grep(&f, pattern("needle")).matches.is_empty());
}

#[test]
fn grep_with_an_invalid_regex_names_the_problem() {
    let f = fixture();
    let err = f.ws.grep(&pattern("(unclosed")).unwrap_err();
    assert!(
        matches!(err, WorkspaceError::InvalidPattern { .. }),
        "{err}"
    );
}

#[test]
fn grep_cuts_very_long_lines() {
    let f = fixture();
    std::fs::write(
        f.root.join("long.txt"),
        format!("needle{}\n", "x".repeat(5000)),
    )
    .unwrap();
    let out = grep(&f, pattern("needle"));
    assert_eq!(
        out.matches[0].text.chars().count(),
        crate::workspace::GREP_LINE_CHARS + 1
    );
    assert!(out.matches[0].text.ends_with('…'));
}

#[test]
fn list_files_pages_through_every_visible_file() {
    let f = fixture();
    touch(&f, ".hidden/secret.md");
    touch(&f, ".tandem-1-1.tmp");
    for i in 0..5 {
        touch(&f, &format!("plans/p{i}.md"));
    }
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = f.ws.list_files(cursor.as_deref(), Some(3)).unwrap();
        assert!(page.files.len() <= 3);
        all.extend(page.files);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        all,
        vec![
            "README.md",
            "notes.md",
            "plans/p0.md",
            "plans/p1.md",
            "plans/p2.md",
            "plans/p3.md",
            "plans/p4.md",
            "sub/inner.txt",
        ]
    );
    let err = f.ws.list_files(Some("x"), None).unwrap_err();
    assert!(err.to_string().contains("cursor"), "{err}");
}
