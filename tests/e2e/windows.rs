//! The Windows `tandem.exe` (cross-built with MinGW) under Wine, doing what a Windows user does:
//! install into the configs Claude Desktop and Claude Code already have, status, doctor,
//! uninstall; the real Windows Claude Code CLI connecting to it; the memory server with two
//! processes writing at once; the workspace server driven by the official TypeScript SDK. Each test has a Wine prefix
//! of its own (see `tandem_tests::WinePrefix`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tandem_store::workspace::path_forms::{INSIDE_TEXT, Outcome, PATH_FORMS, ROOT_NAME};
use tandem_tests::{TestClient, TestHome, WinePrefix, assert_connected, run_node_script};

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn install_into_existing_configs_status_doctor_and_uninstall() {
    let w = WinePrefix::new();
    let version = w.tandem(&["--version"]).await;
    version.expect_code(0);
    assert_eq!(
        version.stdout.trim(),
        format!("tandem {}", env!("CARGO_PKG_VERSION"))
    );

    let desktop = w.appdata().join("Claude/claude_desktop_config.json");
    let desktop_before = "{\n  \"globalShortcut\": \"Ctrl+Space\",\n  \"mcpServers\": {\n    \"notes\": {\n      \"command\": \"C:\\\\Tools\\\\notes.exe\",\n      \"args\": []\n    }\n  }\n}\n";
    write(&desktop, desktop_before);
    // Claude Code is installed: its folder is there, beside its `.claude.json`.
    std::fs::create_dir_all(w.user_profile().join(".claude")).unwrap();
    let claude_json = w.user_profile().join(".claude.json");
    let code_before = json!({
        "numStartups": 12,
        "installMethod": "native",
        "projects": {"C:\\code\\app": {"allowedTools": [], "hasTrustDialogAccepted": true}},
        "mcpServers": {}
    });
    write(
        &claude_json,
        &serde_json::to_string_pretty(&code_before).unwrap(),
    );

    // The configs exist: the safe writer replaces them (it used to fail here, Access denied).
    let ran = w
        .tandem(&[
            "install",
            "--client",
            "claude-desktop",
            "--client",
            "claude-code",
        ])
        .await;
    ran.expect_code(0);
    let written = read_json(&desktop);
    assert_eq!(written["globalShortcut"], "Ctrl+Space");
    assert_eq!(
        written["mcpServers"]["notes"]["command"],
        r"C:\Tools\notes.exe"
    );
    let memory = &written["mcpServers"]["tandem-memory"];
    assert_eq!(memory["command"], w.tandem_windows(), "{written:#}");
    assert_eq!(memory["args"], json!(["mcp", "memory"]));
    // What Claude Desktop strips from a server's environment on Windows, given back.
    let profile = w.user_profile_windows();
    assert_eq!(
        memory["env"]["APPDATA"],
        format!(r"{profile}\AppData\Roaming")
    );
    assert_eq!(memory["env"]["USERPROFILE"], profile);
    let code = read_json(&claude_json);
    for key in ["numStartups", "installMethod", "projects"] {
        assert_eq!(code[key], code_before[key], "{key} unchanged");
    }
    assert_eq!(
        code["mcpServers"]["tandem-workspace"]["command"],
        w.tandem_windows()
    );
    assert!(
        ran.stdout
            .contains(r"~\AppData\Roaming\Claude\claude_desktop_config.json"),
        "paths shown the Windows way: {}",
        ran.stdout
    );

    let status = w.tandem(&["status"]).await;
    status.expect_code(0);
    assert!(status.stdout.contains("connected"), "{}", status.stdout);
    // The doctor starts each entry as its client would, under Wine too.
    let doctor = w.tandem(&["doctor", "--client", "claude-desktop"]).await;
    doctor.expect_code(0);
    assert!(doctor.stdout.contains("2 passed, 0 failed"), "{doctor:?}");

    w.tandem(&[
        "uninstall",
        "--client",
        "claude-desktop",
        "--client",
        "claude-code",
    ])
    .await
    .expect_code(0);
    let back: Value = serde_json::from_str(desktop_before).unwrap();
    assert_eq!(read_json(&desktop), back);
    assert_eq!(read_json(&claude_json), code_before);
}

async fn writes(s: &tandem_tests::Session, who: &str) {
    for i in 0..15 {
        s.ok(
            "memory_set",
            json!({"key": format!("{who}/k{i}"), "value": {"i": i}}),
        )
        .await;
    }
}

#[tokio::test]
async fn two_memory_servers_write_at_once_and_each_sees_every_write() {
    let w = WinePrefix::new();
    let connect = |name: &'static str| {
        let cmd = w.command(w.tandem_windows(), &["mcp", "memory"]);
        TestClient::named(name, "1").connect_command(cmd)
    };
    let (a, b) = tokio::join!(connect("claude-ai"), connect("claude-code"));
    tokio::join!(writes(&a, "a"), writes(&b, "b"));

    for s in [&a, &b] {
        let page = s
            .ok("memory_changes", json!({"since": 0, "limit": 100}))
            .await;
        assert_eq!(page["changes"].as_array().unwrap().len(), 30, "{page}");
        let got = s
            .ok("memory_get", json!({"keys": ["a/k14", "b/k14"]}))
            .await;
        assert_eq!(got["missing"], json!([]), "{got}");
    }
}

#[tokio::test]
async fn the_real_windows_claude_code_cli_connects_to_both_servers() {
    let w = WinePrefix::new();
    std::fs::create_dir_all(w.user_profile().join(".claude")).unwrap();
    let claude_json = w.user_profile().join(".claude.json");
    let before = json!({
        "numStartups": 40,
        "theme": "dark",
        "projects": {"C:\\code\\app": {"allowedTools": ["Bash(cargo:*)"]}},
        "mcpServers": {}
    });
    write(
        &claude_json,
        &serde_json::to_string_pretty(&before).unwrap(),
    );
    w.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    // Every other key as it was (the CLI may rewrite its own file once it runs: its business).
    let after = read_json(&claude_json);
    for key in ["numStartups", "theme", "projects"] {
        assert_eq!(after[key], before[key], "{key} unchanged");
    }
    let listed = w.claude(&["mcp", "list"]).await;
    eprintln!(
        "Windows claude mcp list:\n{}{}",
        listed.stdout, listed.stderr
    );
    assert_connected(&listed.stdout, "tandem-workspace");
    assert_connected(&listed.stdout, "tandem-memory");
    assert!(
        listed.stdout.contains(w.tandem_windows()),
        "{}",
        listed.stdout
    );
}

#[tokio::test]
async fn the_official_typescript_client_drives_the_windows_workspace_server() {
    let w = WinePrefix::new();
    let home = TestHome::new();
    let mut env: BTreeMap<String, String> = w.env().into_iter().collect();
    env.insert(
        "TANDEM_LAUNCH".into(),
        json!({"command": w.wine(), "args": [w.tandem_windows()]}).to_string(),
    );
    // The state folder as Windows names it (not the Linux one the test home would give).
    env.insert(
        "TANDEM_HOME".into(),
        format!(r"{}\tandem-state", w.user_profile_windows()),
    );
    let out = run_node_script(&home, "workspace-interop.mjs", &[], &env).await;
    crate::workspace::assert_interop(&out);
    assert!(
        w.user_profile()
            .join("tandem-state/shared/notes/a.md")
            .is_file(),
        "written where Windows put the shared folder"
    );
}

/// The path-form table (`tandem_store::workspace::path_forms`, also run on Linux by
/// tandem-store's tests) on the Windows server: each form read, and each that is not inside
/// also written, to the outcome the table gives Windows.
#[tokio::test]
async fn the_windows_workspace_server_gives_each_path_form_what_the_table_says() {
    let w = WinePrefix::new();
    let parent = w.user_profile_windows();
    let root = format!(r"{parent}\{ROOT_NAME}");
    let inside = w.user_profile().join(ROOT_NAME);
    std::fs::create_dir_all(inside.join("sub")).unwrap();
    std::fs::write(inside.join("notes.md"), INSIDE_TEXT).unwrap();
    let cmd = w.command(w.tandem_windows(), &["mcp", "workspace", "--root", &root]);
    let s = TestClient::named("claude-code", "1")
        .connect_command(cmd)
        .await;
    let mut wrong = Vec::new();
    let mut table = String::new();
    for form in PATH_FORMS {
        let path = form.path_for(&root, &parent);
        let read = s.call("read_text_file", json!({"path": path})).await;
        let text = tandem_tests::text_of(&read);
        let content = read
            .structured_content
            .as_ref()
            .and_then(|v| v["content"].as_str().map(str::to_string));
        let got = if read.is_error == Some(true) {
            Outcome::of(Err(&text))
        } else {
            Outcome::of(Ok(content.as_deref().unwrap_or_default()))
        };
        table.push_str(&format!(
            "{:<40} {:<8} {:<8} {}\n",
            form.path,
            form.unix.name(),
            got.map_or("?", Outcome::name),
            form.what
        ));
        if got != Some(form.windows) {
            wrong.push(format!("{path:?} ({}): {text}", form.what));
        }
        if got == Some(Outcome::Denied) && !text.contains(&format!("workspace {root},")) {
            wrong.push(format!(
                "{path:?}: the root is not shown as people write it: {text}"
            ));
        }
        if form.windows != Outcome::Inside {
            let wrote = s
                .call("write_file", json!({"path": path, "content": "x"}))
                .await;
            let message = tandem_tests::text_of(&wrote);
            if wrote.is_error != Some(true) || Outcome::of(Err(&message)) != Some(form.windows) {
                wrong.push(format!("write {path:?} ({}): {message}", form.what));
            }
        }
    }
    eprintln!("path form / Unix / Windows (under Wine) / what it is\n{table}");
    assert!(
        wrong.is_empty(),
        "not as the table says:\n{}",
        wrong.join("\n")
    );
    let mut left: Vec<_> = std::fs::read_dir(&inside)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.md", "sub"], "nothing else was created");
    assert_eq!(
        std::fs::read_to_string(inside.join("notes.md")).unwrap(),
        INSIDE_TEXT,
        "the file and no stream was written"
    );
}

#[tokio::test]
async fn the_plugin_installs_in_the_windows_cli_and_its_cmd_launcher_starts_both_servers() {
    let w = WinePrefix::new();
    std::fs::create_dir_all(w.user_profile().join(".claude")).unwrap();
    // The repository as Windows sees it (Wine's Z: drive is /).
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let repo = format!(r"Z:{}", repo.display().to_string().replace('/', r"\"));
    let vars = [("TANDEM_BIN", w.tandem_windows())];
    let added = w
        .claude_with(&["plugin", "marketplace", "add", &repo], &vars)
        .await;
    added.expect_code(0);
    let installed = w
        .claude_with(&["plugin", "install", "tandem@tandem"], &vars)
        .await;
    installed.expect_code(0);
    let listed = w.claude_with(&["mcp", "list"], &vars).await;
    eprintln!(
        "Windows claude mcp list (plugin):\n{}{}",
        listed.stdout, listed.stderr
    );
    // `bin/tandem-launch` resolves to `bin/tandem-launch.cmd` on Windows.
    assert_connected(&listed.stdout, "plugin:tandem:tandem-workspace");
    assert_connected(&listed.stdout, "plugin:tandem:tandem-memory");
}

#[tokio::test]
async fn after_a_killed_server_the_next_one_starts_cleanly() {
    let w = WinePrefix::new();
    let connect = || {
        let cmd = w.command(w.tandem_windows(), &["mcp", "memory"]);
        TestClient::named("claude-code", "1").connect_command(cmd)
    };
    let first = connect().await;
    first
        .ok("memory_set", json!({"key": "p/a", "value": 1}))
        .await;
    // Killed, not closed: the process is gone with whatever it held.
    drop(first);
    let second = connect().await;
    let set = second
        .ok(
            "memory_set",
            json!({"key": "p/a", "value": 2, "expectedVersion": 1}),
        )
        .await;
    assert_eq!(set["version"], 2, "{set}");
    let got = second.ok("memory_get", json!({"keys": ["p/a"]})).await;
    assert_eq!(got["entries"][0]["value"], 2, "{got}");
}

/// Wine shows a Unix symlink as what it points to, so the jail's own walk sees no link; the
/// Windows build asks the system where a path really is, and that finds them (on Windows the
/// same catches junctions and a network share's server-side links).
#[tokio::test]
async fn links_only_the_system_sees_do_not_lead_out_of_the_windows_workspace() {
    let w = WinePrefix::new();
    let root = format!(r"{}\{ROOT_NAME}", w.user_profile_windows());
    let inside = w.user_profile().join(ROOT_NAME);
    let outside = w.user_profile().join("Secret");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("key.txt"), "TOP SECRET\n").unwrap();
    std::fs::write(inside.join("notes.md"), INSIDE_TEXT).unwrap();
    std::os::unix::fs::symlink(&outside, inside.join("out")).unwrap();
    std::os::unix::fs::symlink(outside.join("key.txt"), inside.join("key.txt")).unwrap();
    let cmd = w.command(w.tandem_windows(), &["mcp", "workspace", "--root", &root]);
    let s = TestClient::named("claude-code", "1")
        .connect_command(cmd)
        .await;
    for path in [r"out\key.txt", "key.txt", "out", r"out\new.md"] {
        let err = s.err("read_text_file", json!({"path": path})).await;
        assert!(err.starts_with("Access denied"), "{path}: {err}");
        let err = s
            .err("write_file", json!({"path": path, "content": "x"}))
            .await;
        assert!(err.starts_with("Access denied"), "{path}: {err}");
    }
    let listed = s
        .ok("directory_tree", json!({"path": "."}))
        .await
        .to_string();
    assert!(
        !listed.contains("key.txt") && !listed.contains("out"),
        "{listed}"
    );
    let found = s.ok("grep", json!({"pattern": "SECRET"})).await;
    assert_eq!(found["matches"], json!([]), "{found}");
    assert_eq!(
        std::fs::read_to_string(outside.join("key.txt")).unwrap(),
        "TOP SECRET\n"
    );
    assert!(!outside.join("new.md").exists());
}
