use std::collections::BTreeMap;

use tandem_clients::{
    ClientId, ClientsError, EntryAction, InstallOptions, NamedEntry, Outcome, ServerEntry,
    UninstallOptions,
};

use super::common::{Fixture, json, read};

const CLAUDE_JSON: &str = r#"{
  "numStartups": 42,
  "theme": "light-daltonized",
  "projects": {
    "/home/ann/code/app": {
      "allowedTools": ["Bash(ls)"],
      "history": [{"display": "fix the bug"}]
    }
  },
  "mcpServers": {
    "search": {
      "type": "http",
      "url": "https://search.example/mcp"
    }
  },
  "userID": "abc123"
}
"#;

#[test]
fn install_then_uninstall_gives_back_a_realistic_claude_json() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    let applied = f.install(ClientId::ClaudeCode);
    assert!(matches!(applied.files[0].outcome, Outcome::Written { .. }));
    let v = json(&path);
    assert_eq!(v["numStartups"], 42);
    assert_eq!(
        v["projects"]["/home/ann/code/app"]["history"][0]["display"],
        "fix the bug"
    );
    assert_eq!(
        v["mcpServers"]["search"]["url"],
        "https://search.example/mcp"
    );
    assert_eq!(v["mcpServers"]["tandem-memory"]["type"], "stdio");
    assert_eq!(v["mcpServers"]["tandem-memory"]["args"][1], "memory");
    assert_eq!(v["mcpServers"]["tandem-workspace"]["args"][1], "workspace");

    let applied = f.uninstall(ClientId::ClaudeCode);
    assert!(matches!(applied.files[0].outcome, Outcome::Written { .. }));
    assert_eq!(read(&path), CLAUDE_JSON);
}

#[test]
fn a_second_install_leaves_the_file_byte_identical() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    f.install(ClientId::ClaudeCode);
    let once = read(&path);
    let backups = f.backups(&path).len();
    let plan = f.plan_install(ClientId::ClaudeCode);
    assert!(!plan.changes());
    assert!(plan.files[0].diff.is_empty());
    assert!(
        plan.files[0]
            .entries
            .iter()
            .all(|e| e.action == EntryAction::Keep)
    );
    let applied = f.installer.apply(&plan).unwrap();
    assert_eq!(applied.files[0].outcome, Outcome::Unchanged);
    assert_eq!(read(&path), once);
    assert_eq!(f.backups(&path).len(), backups, "no backup for a no-op");
}

#[test]
fn a_missing_file_and_folder_are_created_private_and_removed_again() {
    let f = Fixture::new();
    let path = f.path(ClientId::Cursor);
    assert!(!path.parent().unwrap().exists());
    let plan = f.plan_install(ClientId::Cursor);
    assert!(plan.files[0].old.is_none());
    assert!(plan.files[0].diff.starts_with("--- /dev/null"));
    f.installer.apply(&plan).unwrap();
    insta::assert_snapshot!(f.redact(&read(&path)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let applied = f.uninstall(ClientId::Cursor);
    assert!(matches!(applied.files[0].outcome, Outcome::Removed { .. }));
    assert!(!path.exists());
}

#[test]
fn the_first_change_backs_up_the_original() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    let applied = f.install(ClientId::ClaudeCode);
    let Outcome::Written {
        backup: Some(backup),
    } = &applied.files[0].outcome
    else {
        panic!("{:?}", applied.files[0].outcome);
    };
    assert!(backup.starts_with(f.installer.home().backups_dir()));
    assert_eq!(read(backup), CLAUDE_JSON);
    assert_eq!(f.backups(&path), vec![backup.clone()]);
}

#[test]
fn a_plan_writes_nothing() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    let plan = f.plan_install(ClientId::ClaudeCode);
    assert!(plan.changes());
    insta::assert_snapshot!(f.redact(&plan.files[0].diff));
    assert_eq!(read(&path), CLAUDE_JSON);
    assert!(!f.installer.home().state_dir().exists());
}

#[test]
fn malformed_files_are_refused_untouched_without_a_backup() {
    let cases: [(ClientId, &str, &str); 6] = [
        (ClientId::ClaudeCode, "{\n  \"a\": 1,\n}\n", "line 2"),
        (ClientId::ClaudeCode, "", "line 1, column 1"),
        (
            ClientId::ClaudeDesktop,
            "{\"mcpServers\": \"x\"}",
            "column 16",
        ),
        (ClientId::VsCode, "{\n  // ok\n  \"servers\": {\n", "line 3"),
        (ClientId::Codex, "model = \"o3\"\n[mcp_servers\n", "line 2"),
        (ClientId::Codex, "[[mcp_servers]]\nname = \"x\"\n", "line 1"),
    ];
    for (id, text, at) in cases {
        let f = Fixture::new();
        let path = f.write(id, text);
        let err = f
            .installer
            .plan_install(id, &f.entries(), &InstallOptions::default())
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                ClientsError::Malformed { .. } | ClientsError::ServersNotContainer { .. }
            ),
            "{id}: {msg}"
        );
        assert!(msg.contains(&path.to_string_lossy().into_owned()), "{msg}");
        assert!(msg.contains(at), "{id} {text:?}: {msg}");
        assert!(msg.contains("Tandem changed nothing"), "{msg}");
        assert_eq!(read(&path), text);
        assert!(!f.installer.home().backups_dir().exists());
        let err = f
            .installer
            .plan_uninstall(id, &UninstallOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains(at));
    }
}

#[test]
fn a_foreign_tandem_entry_is_left_alone_unless_forced() {
    let f = Fixture::new();
    let text = "{\n  \"mcpServers\": {\n    \"tandem-memory\": {\n      \"command\": \"npx\",\n      \"args\": [\"my-own-memory\"]\n    }\n  }\n}\n";
    let path = f.write(ClientId::Cursor, text);
    let plan = f.plan_install(ClientId::Cursor);
    let actions: Vec<_> = plan.files[0].entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [EntryAction::Add, EntryAction::SkipForeign]);
    f.installer.apply(&plan).unwrap();
    assert_eq!(json(&path)["mcpServers"]["tandem-memory"]["command"], "npx");
    // Uninstall leaves it too.
    f.uninstall(ClientId::Cursor);
    assert_eq!(read(&path), text);

    let forced = InstallOptions {
        force: true,
        ..InstallOptions::default()
    };
    let plan = f
        .installer
        .plan_install(ClientId::Cursor, &f.entries(), &forced)
        .unwrap();
    assert_eq!(plan.files[0].entries[1].action, EntryAction::Update);
    f.installer.apply(&plan).unwrap();
    let v = json(&path);
    assert_eq!(v["mcpServers"]["tandem-memory"]["args"][0], "mcp");
}

#[test]
fn an_entry_tandem_wrote_is_updated_when_the_binary_moves() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeDesktop, "{\n  \"mcpServers\": {\n    \"tandem-memory\": {\n      \"command\": \"/old/place/tandem\",\n      \"args\": [\"mcp\", \"memory\"],\n      \"env\": {}\n    }\n  }\n}\n");
    let plan = f.plan_install(ClientId::ClaudeDesktop);
    let actions: Vec<_> = plan.files[0].entries.iter().map(|e| e.action).collect();
    assert_eq!(actions, [EntryAction::Add, EntryAction::Update]);
    f.installer.apply(&plan).unwrap();
    let v = json(&path);
    assert_eq!(
        v["mcpServers"]["tandem-memory"]["command"],
        f.bin.to_string_lossy().as_ref()
    );
    // The updated entry kept its place: it is still first.
    let keys: Vec<_> = v["mcpServers"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["tandem-memory", "tandem-workspace"]);
}

#[test]
fn a_plan_applied_after_the_file_changed_redoes_the_edit() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    let plan = f.plan_install(ClientId::ClaudeCode);
    let changed = CLAUDE_JSON.replace("\"numStartups\": 42", "\"numStartups\": 43");
    std::fs::write(&path, &changed).unwrap();
    let applied = f.installer.apply(&plan).unwrap();
    assert_eq!(applied.files[0].attempts, 2);
    let v = json(&path);
    assert_eq!(v["numStartups"], 43);
    assert!(v["mcpServers"]["tandem-workspace"].is_object());
    f.uninstall(ClientId::ClaudeCode);
    assert_eq!(read(&path), changed);
}

#[test]
fn claude_desktop_gets_http_servers_through_the_bridge_only() {
    let f = Fixture::new();
    let share = [NamedEntry::new(
        "search",
        ServerEntry::Http {
            url: "https://search.example/mcp".into(),
            headers: BTreeMap::from([("x-api-key".into(), "env:SEARCH_KEY".into())]),
        },
    )];
    let err = f
        .installer
        .plan_install(ClientId::ClaudeDesktop, &share, &InstallOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, ClientsError::UnsupportedTransport { .. }),
        "{err}"
    );
    let bridged = InstallOptions {
        bridge: Some(f.bin.clone()),
        ..InstallOptions::default()
    };
    let plan = f
        .installer
        .plan_install(ClientId::ClaudeDesktop, &share, &bridged)
        .unwrap();
    assert_eq!(plan.files[0].secrets_in_file.len(), 1);
    assert_eq!(plan.files[0].secrets_in_file[0].what, "SEARCH_KEY");
    f.installer.apply(&plan).unwrap();
    let v = json(&f.path(ClientId::ClaudeDesktop));
    assert_eq!(v["mcpServers"]["search"]["args"][0], "connect");
    assert_eq!(v["mcpServers"]["search"]["env"]["SEARCH_KEY"], "s3cret");
    // A shared entry Tandem wrote is Tandem's to remove, though its name is not tandem-*.
    f.uninstall(ClientId::ClaudeDesktop);
    assert!(!f.path(ClientId::ClaudeDesktop).exists());
}

#[test]
fn shared_servers_keep_env_references_where_the_client_expands_them() {
    let f = Fixture::new();
    let share = [NamedEntry::new(
        "search",
        ServerEntry::Http {
            url: "https://search.example/mcp".into(),
            headers: BTreeMap::from([("x-api-key".into(), "env:SEARCH_KEY".into())]),
        },
    )];
    let o = InstallOptions::default();
    let plan = f
        .installer
        .plan_install(ClientId::ClaudeCode, &share, &o)
        .unwrap();
    assert!(plan.files[0].secrets_in_file.is_empty());
    f.installer.apply(&plan).unwrap();
    let v = json(&f.path(ClientId::ClaudeCode));
    assert_eq!(
        v["mcpServers"]["search"]["headers"]["x-api-key"],
        "${SEARCH_KEY}"
    );
    let plan = f.installer.plan_install(ClientId::Zed, &share, &o).unwrap();
    assert_eq!(plan.files[0].secrets_in_file[0].what, "x-api-key");
    // Someone replaces the shared entry by hand: it is no longer Tandem's to remove.
    let path = f.path(ClientId::ClaudeCode);
    let edited = read(&path).replace("${SEARCH_KEY}", "typed-by-hand");
    std::fs::write(&path, &edited).unwrap();
    let applied = f.uninstall(ClientId::ClaudeCode);
    assert_eq!(applied.files[0].outcome, Outcome::Unchanged);
    assert_eq!(read(&path), edited);
}

#[test]
fn project_scope_writes_the_projects_mcp_json() {
    let f = Fixture::new();
    let project = f.dir.path().join("repo");
    std::fs::create_dir_all(&project).unwrap();
    let o = InstallOptions {
        project_dir: Some(project.clone()),
        ..InstallOptions::default()
    };
    let plan = f
        .installer
        .plan_install(ClientId::ClaudeCode, &f.entries(), &o)
        .unwrap();
    assert_eq!(plan.files[0].path, project.join(".mcp.json"));
    f.installer.apply(&plan).unwrap();
    assert!(json(&project.join(".mcp.json"))["mcpServers"]["tandem-memory"].is_object());
    assert!(!f.path(ClientId::ClaudeCode).exists());
}

#[test]
fn codex_and_vscode_and_zed_files_in_their_own_shapes() {
    let f = Fixture::new();
    f.write(
        ClientId::Codex,
        "# my Codex settings\nmodel = \"o3\"\n\n[mcp_servers.docs]\ncommand = \"docs-mcp\"\n",
    );
    f.write(
        ClientId::VsCode,
        "{\n\t// my servers\n\t\"servers\": {\n\t\t\"docs\": {\"type\": \"stdio\", \"command\": \"docs-mcp\"},\n\t},\n}\n",
    );
    f.write(
        ClientId::Zed,
        "// Zed settings\n{\n  \"theme\": \"One Dark\",\n  \"vim_mode\": true\n}\n",
    );
    for id in [ClientId::Codex, ClientId::VsCode, ClientId::Zed] {
        f.install(id);
        let text = f.redact(&read(&f.path(id)));
        insta::assert_snapshot!(format!("installed_{id}"), text);
    }
}

#[test]
fn uninstall_without_tandem_entries_changes_nothing() {
    let f = Fixture::new();
    let path = f.write(ClientId::ClaudeCode, CLAUDE_JSON);
    let plan = f
        .installer
        .plan_uninstall(ClientId::ClaudeCode, &UninstallOptions::default())
        .unwrap();
    assert!(!plan.changes());
    assert!(
        plan.files[0]
            .entries
            .iter()
            .all(|e| e.action == EntryAction::Absent)
    );
    f.installer.apply(&plan).unwrap();
    assert_eq!(read(&path), CLAUDE_JSON);
    assert!(f.backups(&path).is_empty());
}
