use super::*;
use crate::workspace::testkit::{Fixture, fixture};

fn create(f: &Fixture, title: &str) -> HandoffCreated {
    f.ws.handoff_create(
        &HandoffCreateParams {
            title: title.to_string(),
            summary: "Move sessions to JWT.\n\nKeep the refresh flow.".to_string(),
            decisions: vec![
                "Use jose".to_string(),
                "- Tokens live 15 minutes".to_string(),
            ],
            tasks: vec![
                "Add the middleware".to_string(),
                "- [ ] Write tests".to_string(),
            ],
            open_questions: vec!["Rotate keys how often?".to_string()],
            files: vec!["src/auth.rs".to_string()],
            project: Some("proj-x".to_string()),
        },
        "claude-ai 0.14",
    )
    .unwrap()
}

fn update(f: &Fixture, id: &str, status: HandoffStatus, note: Option<&str>, by: &str) {
    f.ws.handoff_update(
        &HandoffUpdateParams {
            id: id.to_string(),
            status,
            note: note.map(str::to_string),
        },
        by,
    )
    .unwrap();
}

fn list(f: &Fixture, p: HandoffListParams) -> HandoffList {
    f.ws.handoff_list(&p).unwrap()
}

fn read(f: &Fixture, id: &str) -> HandoffDoc {
    f.ws.handoff_read(&HandoffReadParams { id: id.to_string() })
        .unwrap()
}

fn file(f: &Fixture, id: &str) -> String {
    std::fs::read_to_string(f.root.join(format!("handoffs/{id}.md"))).unwrap()
}

/// Writes a handoff by hand, as a person would.
fn by_hand(f: &Fixture, name: &str, text: &str) {
    std::fs::write(f.root.join("handoffs").join(name), text).unwrap();
}

#[test]
fn a_created_handoff_is_a_dated_markdown_file_with_front_matter_and_sections() {
    let f = fixture();
    let out = create(&f, "Auth rework: JWT!");
    assert_eq!(out.status, HandoffStatus::Open);
    assert_eq!(out.path, format!("handoffs/{}.md", out.id));
    // YYYY-MM-DD-HHMM-slug
    let (date, slug) = out.id.split_at(15);
    assert_eq!(slug, "-auth-rework-jwt");
    assert!(
        time::PrimitiveDateTime::parse(
            &format!("{date}:00"),
            time::macros::format_description!("[year]-[month]-[day]-[hour][minute]:[second]")
        )
        .is_ok()
    );

    let text = file(&f, &out.id);
    assert!(text.starts_with("---\n"), "{text}");
    let (front, _) = front_matter(&text).unwrap();
    assert_eq!(front.id.as_deref(), Some(out.id.as_str()));
    assert_eq!(front.title, "Auth rework: JWT!");
    assert_eq!(front.status, HandoffStatus::Open);
    assert_eq!(front.created_by.as_deref(), Some("claude-ai 0.14"));
    assert_eq!(front.project.as_deref(), Some("proj-x"));
    assert_eq!(front.created_at, front.updated_at);
    for heading in [
        "## Summary",
        "## Decisions",
        "## Tasks",
        "## Open questions",
        "## Files",
        "## Log",
    ] {
        assert!(text.contains(heading), "missing {heading} in\n{text}");
    }
    assert!(
        text.contains("- Use jose\n- Tokens live 15 minutes\n"),
        "{text}"
    );
    assert!(
        text.contains("- [ ] Add the middleware\n- [ ] Write tests\n"),
        "{text}"
    );
    assert!(text.contains("— claude-ai 0.14 — open — created"), "{text}");
}

#[test]
fn two_handoffs_with_the_same_title_in_the_same_minute_get_distinct_ids() {
    let f = fixture();
    let a = create(&f, "Same title");
    let b = create(&f, "Same title");
    assert_ne!(a.id, b.id);
    // Unless the minute turned between the two calls, the second gets a suffix.
    if a.id[..15] == b.id[..15] {
        assert_eq!(b.id, format!("{}-2", a.id));
    }
    assert!(f.root.join(&a.path).is_file() && f.root.join(&b.path).is_file());
}

#[test]
fn an_empty_title_is_refused() {
    let f = fixture();
    let err =
        f.ws.handoff_create(
            &HandoffCreateParams {
                title: "  ".to_string(),
                ..Default::default()
            },
            "x",
        )
        .unwrap_err();
    assert!(err.to_string().contains("title"), "{err}");
}

#[test]
fn handoffs_are_listed_newest_first_and_filtered() {
    let f = fixture();
    by_hand(
        &f,
        "old.md",
        "---\ntitle: Old plan\nstatus: done\ncreatedAt: 2020-01-01T00:00:00Z\nproject: other\n---\nbody\n",
    );
    let new = create(&f, "New plan");
    let all = list(&f, HandoffListParams::default());
    let ids: Vec<_> = all.handoffs.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, vec![new.id.as_str(), "old"]);
    assert_eq!((all.total, all.omitted), (2, 0));

    let open = list(
        &f,
        HandoffListParams {
            status: Some(HandoffStatus::Open),
            ..Default::default()
        },
    );
    assert_eq!(open.handoffs.len(), 1);
    let other = list(
        &f,
        HandoffListParams {
            project: Some("other".to_string()),
            ..Default::default()
        },
    );
    assert_eq!(other.handoffs[0].id, "old");
    let one = list(
        &f,
        HandoffListParams {
            limit: Some(1),
            ..Default::default()
        },
    );
    assert_eq!((one.handoffs.len(), one.total, one.omitted), (1, 2, 1));
}

#[test]
fn a_hand_written_handoff_with_valid_front_matter_is_listed_with_defaults() {
    let f = fixture();
    by_hand(
        &f,
        "my-plan.md",
        "---\ntitle: My plan\nstatus: open\n---\n\n## Summary\n\nDo it.\n",
    );
    let all = list(&f, HandoffListParams::default());
    let h = &all.handoffs[0];
    assert_eq!((h.id.as_str(), h.title.as_str()), ("my-plan", "My plan"));
    assert_eq!(h.status, HandoffStatus::Open);
    assert_eq!(h.created_by, "unknown");
    assert!(!h.created_at.is_empty(), "falls back to the file's time");
    assert!(h.error.is_none());
}

#[test]
fn a_malformed_handoff_is_listed_as_invalid_with_the_reason() {
    let f = fixture();
    by_hand(&f, "no-front.md", "# Just notes\n");
    by_hand(
        &f,
        "bad-yaml.md",
        "---\ntitle: [unclosed\nstatus: open\n---\n",
    );
    by_hand(&f, "bad-status.md", "---\ntitle: X\nstatus: wip\n---\n");
    by_hand(&f, "unclosed.md", "---\ntitle: X\nstatus: open\n");
    by_hand(&f, "binary.md", "\u{0}\u{1}garbage");
    std::fs::write(
        f.root.join("handoffs/not-utf8.md"),
        b"---\ntitle: \xff\xfe\n---\n",
    )
    .unwrap();
    let all = list(&f, HandoffListParams::default());
    assert_eq!(all.total, 6);
    for h in &all.handoffs {
        assert_eq!(h.status, HandoffStatus::Invalid, "{h:?}");
        assert!(h.error.as_deref().is_some_and(|e| !e.is_empty()), "{h:?}");
    }
    let status = all.handoffs.iter().find(|h| h.id == "bad-status").unwrap();
    assert!(
        status
            .error
            .as_deref()
            .unwrap()
            .contains("open, claimed, done or dropped")
    );
    let invalid = list(
        &f,
        HandoffListParams {
            status: Some(HandoffStatus::Invalid),
            ..Default::default()
        },
    );
    assert_eq!(invalid.total, 6);
    // Reading one still shows its text, with the reason.
    let doc = read(&f, "no-front");
    assert_eq!(doc.status, HandoffStatus::Invalid);
    assert_eq!(doc.markdown, "# Just notes\n");
    assert!(doc.error.is_some());
}

#[test]
fn files_that_are_not_handoffs_are_not_listed() {
    let f = fixture();
    by_hand(&f, "notes.txt", "x");
    by_hand(&f, ".tandem-1-2.tmp", "x");
    by_hand(&f, ".hidden.md", "x");
    std::fs::create_dir(f.root.join("handoffs/folder.md")).unwrap();
    assert_eq!(list(&f, HandoffListParams::default()).total, 0);
}

#[test]
fn read_latest_returns_the_newest_open_handoff() {
    let f = fixture();
    by_hand(
        &f,
        "older-open.md",
        "---\ntitle: Older\nstatus: open\ncreatedAt: 2020-01-01T00:00:00Z\n---\n",
    );
    let newest = create(&f, "Newest");
    assert_eq!(read(&f, "latest").id, newest.id);
    update(
        &f,
        &newest.id,
        HandoffStatus::Claimed,
        None,
        "claude-code 2.0",
    );
    let latest = read(&f, "latest");
    assert_eq!(latest.id, "older-open");
    assert_eq!(latest.title, "Older");
    update(&f, "older-open", HandoffStatus::Dropped, None, "x");
    let err =
        f.ws.handoff_read(&HandoffReadParams {
            id: "latest".to_string(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::NoOpenHandoff), "{err}");
}

#[test]
fn read_by_id_returns_markdown_and_front_matter_fields() {
    let f = fixture();
    let out = create(&f, "Plan");
    for id in [out.id.clone(), format!("{}.md", out.id)] {
        let doc = read(&f, &id);
        assert_eq!(doc.id, out.id);
        assert_eq!(doc.title, "Plan");
        assert_eq!(doc.status, HandoffStatus::Open);
        assert_eq!(doc.created_by, "claude-ai 0.14");
        assert_eq!(doc.project.as_deref(), Some("proj-x"));
        assert_eq!(doc.path, out.path);
        assert_eq!(doc.markdown, file(&f, &out.id));
    }
    let err =
        f.ws.handoff_read(&HandoffReadParams {
            id: "nope".to_string(),
        })
        .unwrap_err();
    assert!(
        matches!(err, WorkspaceError::HandoffNotFound { .. }),
        "{err}"
    );
}

#[test]
fn an_update_sets_the_status_logs_who_and_bumps_updated_at() {
    let f = fixture();
    let out = create(&f, "Plan");
    let before = read(&f, &out.id);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let updated =
        f.ws.handoff_update(
            &HandoffUpdateParams {
                id: out.id.clone(),
                status: HandoffStatus::Claimed,
                note: Some("starting now\nwith tests".to_string()),
            },
            "claude-code 2.0",
        )
        .unwrap();
    assert_eq!(updated.status, HandoffStatus::Claimed);
    update(&f, &out.id, HandoffStatus::Done, None, "claude-code 2.0");
    let doc = read(&f, &out.id);
    assert_eq!(doc.status, HandoffStatus::Done);
    assert!(doc.updated_at > before.updated_at);
    assert_eq!(doc.created_at, before.created_at);
    // Who changed it last is kept beside who wrote it.
    assert_eq!(before.updated_by, "claude-ai 0.14");
    assert_eq!(doc.updated_by, "claude-code 2.0");
    assert_eq!(doc.created_by, "claude-ai 0.14");
    assert!(
        doc.markdown.contains("\nupdatedBy: claude-code 2.0\n"),
        "{}",
        doc.markdown
    );
    let log: Vec<_> = doc
        .markdown
        .split("## Log\n\n")
        .nth(1)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[0].ends_with(" — claude-ai 0.14 — open — created"));
    assert!(log[1].ends_with(" — claude-code 2.0 — claimed — starting now with tests"));
    assert!(log[2].ends_with(" — claude-code 2.0 — done"));
    let time = log[1].trim_start_matches("- ").split(" — ").next().unwrap();
    assert!(sort_key(time) > i128::MIN, "{time}");
}

#[test]
fn an_update_keeps_what_a_person_wrote_in_the_file() {
    let f = fixture();
    by_hand(
        &f,
        "mine.md",
        "---\n# a comment\ntitle: Mine\nstatus: open\nowner: alice\n---\n\n## Tasks\n\n- [x] done by hand\n\n## Log\n\n- earlier entry\n\n## Appendix\n\nKeep me.\n",
    );
    update(
        &f,
        "mine",
        HandoffStatus::Claimed,
        Some("on it"),
        "claude-code 2.0",
    );
    let text = file(&f, "mine");
    assert!(
        text.contains("# a comment\ntitle: Mine\nstatus: claimed\nowner: alice\nupdatedAt: "),
        "{text}"
    );
    assert!(text.contains("- [x] done by hand"), "{text}");
    assert!(
        text.contains("- earlier entry\n- ")
            && text.contains(" — claude-code 2.0 — claimed — on it\n\n## Appendix\n\nKeep me.\n"),
        "{text}"
    );
}

#[test]
fn an_update_adds_a_log_section_when_there_is_none() {
    let f = fixture();
    by_hand(
        &f,
        "bare.md",
        "---\ntitle: Bare\nstatus: open\n---\nJust text",
    );
    update(&f, "bare", HandoffStatus::Done, None, "claude-code 2.0");
    let text = file(&f, "bare");
    assert!(text.contains("Just text\n\n## Log\n\n- "), "{text}");
    assert!(text.ends_with(" — claude-code 2.0 — done\n"), "{text}");
}

#[test]
fn updating_a_malformed_handoff_is_an_error_that_changes_nothing() {
    let f = fixture();
    by_hand(&f, "broken.md", "---\ntitle: [\n---\n");
    let err =
        f.ws.handoff_update(
            &HandoffUpdateParams {
                id: "broken".to_string(),
                status: HandoffStatus::Done,
                note: None,
            },
            "x",
        )
        .unwrap_err();
    assert!(
        matches!(err, WorkspaceError::InvalidHandoff { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("Fix the YAML"), "{err}");
    assert_eq!(file(&f, "broken"), "---\ntitle: [\n---\n");
}

#[test]
fn recent_handoffs_reads_without_creating_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("shared");
    assert!(recent_handoffs(&missing, 10).unwrap().is_empty());
    assert!(!missing.exists());

    let f = fixture();
    let a = create(&f, "A");
    let recent = recent_handoffs(&f.root, 10).unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].id, a.id);
}

#[test]
fn slugs_are_short_lowercase_ascii() {
    assert_eq!(slug("Auth rework: JWT!"), "auth-rework-jwt");
    assert_eq!(slug("日本語"), "handoff");
    assert_eq!(slug("--a--b--"), "a-b");
    let long = slug(&"word ".repeat(40));
    assert!(long.len() <= SLUG_CHARS && !long.ends_with('-'), "{long}");
}

#[test]
fn handoff_outputs_serialise_with_camel_case_fields() {
    let f = fixture();
    let out = create(&f, "Plan");
    let doc = serde_json::to_value(read(&f, &out.id)).unwrap();
    for key in [
        "id",
        "title",
        "status",
        "createdAt",
        "createdBy",
        "updatedAt",
        "markdown",
    ] {
        assert!(doc.get(key).is_some(), "missing {key}: {doc}");
    }
    assert_eq!(doc["status"], "open");
    let params: HandoffUpdateParams =
        serde_json::from_value(serde_json::json!({"id": "x", "status": "claimed"})).unwrap();
    assert_eq!(params.status, HandoffStatus::Claimed);
}

#[test]
fn the_body_is_what_follows_the_front_matter() {
    let text = "---\nid: x\ntitle: T\n---\n# Body\n";
    assert_eq!(super::body(text), "# Body\n");
    assert_eq!(super::body("# No front matter\n"), "# No front matter\n");
    assert_eq!(super::body("---\nunclosed\n"), "---\nunclosed\n");
}

#[test]
fn invalid_is_listed_but_never_given() {
    let f = fixture();
    let out = create(&f, "Auth");
    // Not over the wire, not from a caller in Rust, not from a file's front matter.
    let refused = serde_json::from_value::<HandoffUpdateParams>(
        serde_json::json!({"id": out.id, "status": "invalid"}),
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("not a status to give"),
        "{refused}"
    );
    let err =
        f.ws.handoff_update(
            &HandoffUpdateParams {
                id: out.id.clone(),
                status: HandoffStatus::Invalid,
                note: None,
            },
            "x",
        )
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::InvalidArgument(_)), "{err:?}");
    assert_eq!(read(&f, &out.id).status, HandoffStatus::Open);
    by_hand(
        &f,
        "says-invalid.md",
        "---\ntitle: X\nstatus: invalid\n---\n",
    );
    let doc = read(&f, "says-invalid");
    assert_eq!(doc.status, HandoffStatus::Invalid);
    assert!(doc.error.unwrap().contains("not a status to give"));
    // The update's schema offers the lifecycle only; the list's filter also offers `invalid`.
    let update = serde_json::to_value(schemars::schema_for!(HandoffUpdateParams)).unwrap();
    assert_eq!(
        update["properties"]["status"]["enum"],
        serde_json::json!(["open", "claimed", "done", "dropped"])
    );
    let listed = serde_json::to_string(&schemars::schema_for!(HandoffListParams)).unwrap();
    assert!(listed.contains("invalid"), "{listed}");
}

#[test]
fn a_claimed_handoff_is_not_claimed_again_and_the_refusal_names_who_has_it() {
    let f = fixture();
    let id = create(&f, "Claim me").id;
    update(&f, &id, HandoffStatus::Claimed, None, "claude-code 2.1.3");
    let before = file(&f, &id);
    let claim = HandoffUpdateParams {
        id: id.clone(),
        status: HandoffStatus::Claimed,
        note: None,
    };
    let err = f.ws.handoff_update(&claim, "cursor 1.2").unwrap_err();
    assert!(
        matches!(err, WorkspaceError::AlreadyClaimed { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("claimed by claude-code 2.1.3 at 20"),
        "{text}"
    );
    assert_eq!(file(&f, &id), before, "nothing written");
    // Given back, it can be claimed by someone else.
    update(
        &f,
        &id,
        HandoffStatus::Open,
        Some("back"),
        "claude-code 2.1.3",
    );
    update(&f, &id, HandoffStatus::Claimed, None, "cursor 1.2");
    assert_eq!(read(&f, &id).status, HandoffStatus::Claimed);
}

/// Eight writers, each with a workspace of its own on the same folder, claim one handoff at
/// once, twenty times: each time exactly one wins.
#[test]
fn of_claims_made_at_once_exactly_one_wins() {
    let f = fixture();
    for round in 0..20 {
        let id = create(&f, &format!("Race {round}")).id;
        let barrier = std::sync::Barrier::new(8);
        let wins: usize = std::thread::scope(|s| {
            let runs: Vec<_> = (0..8)
                .map(|w| {
                    let (barrier, id, root) = (&barrier, &id, &f.root);
                    s.spawn(move || {
                        let ws = Workspace::open(root).unwrap();
                        barrier.wait();
                        let claim = HandoffUpdateParams {
                            id: id.clone(),
                            status: HandoffStatus::Claimed,
                            note: None,
                        };
                        match ws.handoff_update(&claim, &format!("writer-{w}")) {
                            Ok(_) => 1,
                            Err(WorkspaceError::AlreadyClaimed { .. }) => 0,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).sum()
        });
        assert_eq!(wins, 1, "round {round}");
    }
}
