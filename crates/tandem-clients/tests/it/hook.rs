//! Claude Code's SessionStart hook in `~/.claude/settings.json`: added beside the person's
//! hooks, pointed at a moved binary, removed to the original bytes, malformed files refused.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};
use tandem_clients::{ClientsError, EntryAction, Outcome, hook};

use super::common::{Fixture, json, read};

fn settings(f: &Fixture) -> PathBuf {
    f.installer.session_hook_path()
}

fn add(f: &Fixture, bin: &Path) -> EntryAction {
    let plan = f.installer.plan_session_hook(bin, None).unwrap();
    let applied = f.installer.apply(&plan).unwrap();
    applied.files[0].entries[0].action
}

fn remove(f: &Fixture) -> EntryAction {
    let plan = f.installer.plan_remove_session_hook().unwrap();
    let applied = f.installer.apply(&plan).unwrap();
    applied.files[0].entries[0].action
}

#[test]
fn the_hook_goes_into_settings_json_beside_the_persons_hooks_and_leaves_again() {
    let f = Fixture::new();
    let path = settings(&f);
    assert!(
        path.ends_with(".claude/settings.json"),
        "{}",
        path.display()
    );
    let original = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [{ "type": "command", "command": "audit.sh" }]
      }
    ],
    "SessionStart": [
      {
        "matcher": "startup",
        "hooks": [{ "type": "command", "command": "echo hi" }]
      }
    ]
  }
}
"#;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, original).unwrap();

    assert_eq!(add(&f, &f.bin), EntryAction::Add);
    let v = json(&path);
    assert_eq!(v["model"], "opus");
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "audit.sh"
    );
    let groups = v["hooks"]["SessionStart"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        groups[1],
        json!({
            "matcher": hook::MATCHER,
            "hooks": [{
                "type": "command",
                "command": hook::brief_command(&f.bin, None),
                "timeout": hook::TIMEOUT_SECS,
            }]
        })
    );
    assert_eq!(
        f.installer.session_hook().unwrap(),
        Some(hook::brief_command(&f.bin, None))
    );
    let installed = read(&path);
    assert_eq!(add(&f, &f.bin), EntryAction::Keep);
    assert_eq!(read(&path), installed);
    assert_eq!(f.backups(&path).len(), 1, "a backup of the person's file");

    assert_eq!(remove(&f), EntryAction::Remove);
    assert_eq!(read(&path), original);
    assert_eq!(remove(&f), EntryAction::Absent);
    assert_eq!(f.installer.session_hook().unwrap(), None);
}

#[test]
fn a_moved_binary_repoints_the_hook_instead_of_adding_another() {
    let f = Fixture::new();
    add(&f, &f.bin);
    let moved = f.dir.path().join("new place").join("tandem");
    assert_eq!(add(&f, &moved), EntryAction::Update);
    let v = json(&settings(&f));
    let groups = v["hooks"]["SessionStart"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    let command = groups[0]["hooks"][0]["command"].as_str().unwrap();
    assert!(
        command.starts_with('"') && command.contains("new place"),
        "{command}"
    );
    // A hook Tandem created in a file Tandem created: the file goes with it.
    assert_eq!(remove(&f), EntryAction::Remove);
    assert!(!settings(&f).exists());
}

#[test]
fn a_dry_run_plan_writes_nothing_and_shows_the_hook() {
    let f = Fixture::new();
    let plan = f.installer.plan_session_hook(&f.bin, None).unwrap();
    assert!(plan.changes());
    assert!(
        plan.files[0].diff.contains("\"SessionStart\""),
        "{}",
        plan.files[0].diff
    );
    assert!(
        plan.files[0].diff.contains(" brief\""),
        "{}",
        plan.files[0].diff
    );
    assert!(!settings(&f).exists());
    let applied = f.installer.apply(&plan).unwrap();
    assert!(matches!(
        applied.files[0].outcome,
        Outcome::Written { backup: None }
    ));
}

#[test]
fn malformed_settings_are_refused_and_left_alone() {
    let f = Fixture::new();
    let path = settings(&f);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for (text, wanted) in [
        ("{\"hooks\": [1]}", "`hooks`"),
        (
            "{\"hooks\": {\"SessionStart\": {\"a\": 1}}}",
            "`hooks.SessionStart`",
        ),
        ("{\"model\": \"opus\",}", "line 1"),
        ("", "empty"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = f.installer.plan_session_hook(&f.bin, None).unwrap_err();
        assert!(
            matches!(
                err,
                ClientsError::Malformed { .. } | ClientsError::ServersNotContainer { .. }
            ),
            "{err}"
        );
        assert!(err.to_string().contains(wanted), "{text:?}: {err}");
        assert_eq!(read(&path), text);
    }
    assert!(f.backups(&path).is_empty());
}

#[derive(Debug, Clone)]
struct Settings {
    indent: &'static str,
    other: Vec<(String, i32)>,
    /// `None`: no `hooks`; `Some(None)`: `hooks` without SessionStart; `Some(Some(n))`: a
    /// SessionStart list with `n` groups of the person's.
    hooks: Option<Option<usize>>,
    other_event: bool,
    final_newline: bool,
}

fn settings_strategy() -> impl Strategy<Value = Settings> {
    (
        prop::sample::select(vec!["  ", "    ", "\t"]),
        prop::collection::btree_map("[a-z]{1,8}", any::<i32>(), 0..4),
        prop::option::of(prop::option::of(0usize..3)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(indent, other, hooks, other_event, final_newline)| Settings {
                indent,
                other: other.into_iter().filter(|(k, _)| k != "hooks").collect(),
                hooks,
                other_event,
                final_newline,
            },
        )
}

fn render(s: &Settings) -> String {
    let i1 = s.indent;
    let i2 = i1.repeat(2);
    let i3 = i1.repeat(3);
    let mut items: Vec<String> = s
        .other
        .iter()
        .map(|(k, v)| format!("{i1}\"{k}\": {v}"))
        .collect();
    if let Some(session) = s.hooks {
        let mut events = Vec::new();
        if s.other_event {
            events.push(format!("{i2}\"Stop\": []"));
        }
        if let Some(n) = session {
            let groups: Vec<String> = (0..n)
                .map(|g| {
                    format!(
                        "{i3}{{\"matcher\": \"startup\", \"hooks\": [{{\"type\": \"command\", \"command\": \"echo {g}\"}}]}}"
                    )
                })
                .collect();
            let list = if groups.is_empty() {
                "[]".to_string()
            } else {
                format!("[\n{}\n{i2}]", groups.join(",\n"))
            };
            events.push(format!("{i2}\"SessionStart\": {list}"));
        }
        let value = if events.is_empty() {
            "{}".to_string()
        } else {
            format!("{{\n{}\n{i1}}}", events.join(",\n"))
        };
        items.push(format!("{i1}\"hooks\": {value}"));
    }
    let mut text = if items.is_empty() {
        "{}".to_string()
    } else {
        format!("{{\n{}\n}}", items.join(",\n"))
    };
    if s.final_newline {
        text.push('\n');
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn adding_then_removing_the_hook_gives_back_the_original_bytes(s in settings_strategy()) {
        let f = Fixture::new();
        let path = settings(&f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let original = render(&s);
        std::fs::write(&path, &original).unwrap();

        prop_assert_eq!(add(&f, &f.bin), EntryAction::Add);
        let installed = read(&path);
        let v: Value = serde_json::from_str(&installed).unwrap();
        let groups = v["hooks"]["SessionStart"].as_array().unwrap();
        prop_assert_eq!(groups.len(), s.hooks.flatten().unwrap_or(0) + 1);
        prop_assert_eq!(add(&f, &f.bin), EntryAction::Keep);
        prop_assert_eq!(&read(&path), &installed);

        prop_assert_eq!(remove(&f), EntryAction::Remove);
        prop_assert_eq!(read(&path), original);
    }
}
