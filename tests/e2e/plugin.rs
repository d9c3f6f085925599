//! The Claude Code plugin (`integrations/claude-code/`, listed by the repository's
//! `.claude-plugin/marketplace.json`) through the real, pinned Claude Code CLI: validated,
//! added as a local marketplace, installed, its servers connected, uninstalled without a trace;
//! its hooks run as Claude Code runs them; its launcher when no `tandem` is installed.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use serde_json::{Value, json};
use tandem_tests::{
    Ran, TestClient, TestHome, assert_connected, claude, claude_mcp_list, tandem_bin,
};
use tokio::io::AsyncWriteExt;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn plugin_dir() -> PathBuf {
    repo().join("integrations/claude-code")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_plugin_is_the_workspace_version_and_its_launcher_says_so() {
    let manifest = read_json(&plugin_dir().join(".claude-plugin/plugin.json"));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(manifest["version"], version);
    for launcher in ["tandem-launch", "tandem-launch.cmd"] {
        let script = std::fs::read_to_string(plugin_dir().join("bin").join(launcher)).unwrap();
        assert!(
            script.contains(&format!("PLUGIN_VERSION={version}")),
            "{launcher} carries the plugin's version"
        );
    }
    let market = read_json(&repo().join(".claude-plugin/marketplace.json"));
    assert_eq!(market["plugins"][0]["name"], "tandem");
    assert_eq!(market["plugins"][0]["source"], "./integrations/claude-code");
}

#[tokio::test]
async fn the_real_cli_validates_the_marketplace_and_the_plugin_without_a_warning() {
    let home = TestHome::new();
    let repo = repo().to_string_lossy().into_owned();
    let plugin = plugin_dir().to_string_lossy().into_owned();
    for args in [
        vec!["plugin", "validate", repo.as_str()],
        vec!["plugin", "validate", plugin.as_str()],
        vec![
            "plugin",
            "validate",
            plugin.as_str(),
            "--profile",
            "directory",
        ],
    ] {
        let out = claude(&home, &args, &[]).await;
        let said = text(&out);
        eprintln!("claude {args:?}:\n{said}");
        assert!(out.status.success(), "{said}");
        assert!(said.contains("Validation passed"), "{said}");
        let lower = said.to_lowercase();
        assert!(
            !lower.contains("warning") && !said.contains('⚠') && !lower.contains("error"),
            "{said}"
        );
        if args.contains(&"directory") {
            assert!(said.contains("found nothing to report"), "{said}");
        }
    }
}

#[tokio::test]
async fn the_plugin_installs_from_the_local_marketplace_connects_and_uninstalls_cleanly() {
    let home = TestHome::new();
    let bin = tandem_bin().to_string_lossy().into_owned();
    let env = [("TANDEM_BIN", bin.as_str())];
    let repo = repo().to_string_lossy().into_owned();
    let added = claude(&home, &["plugin", "marketplace", "add", &repo], &env).await;
    assert!(added.status.success(), "{}", text(&added));
    let installed = claude(&home, &["plugin", "install", "tandem@tandem"], &env).await;
    assert!(installed.status.success(), "{}", text(&installed));

    let listing = claude_mcp_list(&home, &env).await;
    assert_connected(&listing, "plugin:tandem:tandem-workspace");
    assert_connected(&listing, "plugin:tandem:tandem-memory");

    // No doubles: with the plugin enabled, the installer adds nothing for Claude Code and
    // status says how Claude Code reaches Tandem.
    let ran = home.tandem(&["install", "--client", "claude-code"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("Tandem plugin (tandem@tandem)"),
        "{}",
        ran.stdout
    );
    let servers = read_json(&home.claude_json())["mcpServers"].clone();
    assert!(!servers.to_string().contains("tandem-"), "{servers}");
    let status = home.tandem(&["status"]).await;
    assert!(
        status
            .stdout
            .contains("connected through the Tandem plugin"),
        "{}",
        status.stdout
    );
    let json: Value =
        serde_json::from_str(&home.tandem(&["status", "--json"]).await.stdout).unwrap();
    assert_eq!(json["claudeCodePlugin"]["enabled"], true, "{json}");
    assert_eq!(json["claudeCodePlugin"]["id"], "tandem@tandem");
    // The doctor starts the plugin's servers as Claude Code starts them.
    // Without a tandem the launcher can find, the doctor shows the launcher's advice.
    let doctor = home.tandem(&["doctor", "--client", "claude-code"]).await;
    doctor.expect_code(1);
    assert!(
        doctor.stdout.contains("tandem: not installed"),
        "{}",
        doctor.stdout
    );
    let doctor = Ran::from_output(
        home.command(&["doctor", "--client", "claude-code"])
            .env("TANDEM_BIN", &bin)
            .output()
            .await
            .unwrap(),
    );
    doctor.expect_code(0);
    for name in [
        "plugin:tandem:tandem-workspace",
        "plugin:tandem:tandem-memory",
    ] {
        assert!(doctor.stdout.contains(name), "{}", doctor.stdout);
    }
    // Entries written anyway (--force) are named as doubles, with the way out.
    home.tandem(&["install", "--client", "claude-code", "--force"])
        .await
        .expect_code(0);
    let status = home.tandem(&["status"]).await;
    assert!(
        status.stdout.contains("starts each server twice"),
        "{}",
        status.stdout
    );
    let doctor = home.tandem(&["doctor", "--client", "claude-code"]).await;
    assert!(doctor.stderr.contains("both active"), "{}", doctor.stderr);
    home.tandem(&["uninstall", "--client", "claude-code"])
        .await
        .expect_code(0);

    let details = claude(&home, &["plugin", "details", "tandem@tandem"], &env).await;
    eprintln!("claude plugin details:\n{}", text(&details));
    assert!(details.status.success(), "{}", text(&details));

    let removed = claude(&home, &["plugin", "uninstall", "tandem@tandem"], &env).await;
    assert!(removed.status.success(), "{}", text(&removed));
    let claude_json = read_json(&home.claude_json());
    let servers = claude_json["mcpServers"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        servers.keys().all(|k| !k.contains("tandem")),
        "no Tandem server left: {servers:?}"
    );
    let settings = read_json(&home.claude_settings());
    assert!(
        !settings["hooks"].to_string().contains("tandem"),
        "no Tandem hook left: {settings}"
    );
    assert_ne!(
        settings["enabledPlugins"]["tandem@tandem"], true,
        "{settings}"
    );
}

/// The command Claude Code runs for the plugin's `event` hook, with the plugin root put in.
fn hook_command(event: &str) -> String {
    let hooks = read_json(&plugin_dir().join("hooks/hooks.json"));
    hooks["hooks"][event][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .replace("${CLAUDE_PLUGIN_ROOT}", &plugin_dir().to_string_lossy())
}

/// Runs a hook as Claude Code does: its command through `sh -c`, the event's JSON on stdin.
/// Claude Code is a process of its own, not this test, whose servers write as the other apps
/// here (the hook leaves out what its own client process wrote): `timeout` stands in for it.
async fn run_hook(home: &TestHome, event: &str, input: Value, env: &[(&str, &str)]) -> Ran {
    let mut child = tokio::process::Command::new("timeout")
        .args(["60", "sh", "-c"])
        .arg(hook_command(event))
        .envs(home.env())
        .envs(env.iter().copied())
        .env("CLAUDE_PLUGIN_ROOT", plugin_dir())
        .env("CLAUDE_PROJECT_DIR", home.user_home())
        .current_dir(home.user_home())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn prompt(session: &str, home: &TestHome, words: &str) -> Value {
    json!({
        "session_id": session,
        "transcript_path": home.user_home().join(".claude/projects/x/t.jsonl"),
        "cwd": home.user_home(),
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": words,
    })
}

fn context(ran: &Ran, event: &str) -> String {
    let out: Value = serde_json::from_str(ran.stdout.trim())
        .unwrap_or_else(|e| panic!("hook JSON ({e}): {:?} {}", ran.stdout, ran.stderr));
    assert_eq!(out["hookSpecificOutput"]["hookEventName"], event);
    out["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_prompt_hook_tells_a_session_what_desktop_changed_once() {
    let home = TestHome::new();
    let bin = tandem_bin().to_string_lossy().into_owned();
    let env = [("TANDEM_BIN", bin.as_str())];
    let session = "5b1c9a1e-7d2f-4c55-9a0e-2f8f0e6b9d11";
    let started = run_hook(
        &home,
        "SessionStart",
        json!({
            "session_id": session,
            "transcript_path": home.user_home().join(".claude/projects/x/t.jsonl"),
            "cwd": home.user_home(),
            "hook_event_name": "SessionStart",
            "source": "startup",
        }),
        &env,
    )
    .await;
    assert_eq!(started.code, Some(0), "{}", started.stderr);
    let first = run_hook(
        &home,
        "UserPromptSubmit",
        prompt(session, &home, "hi"),
        &env,
    )
    .await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.stdout, "", "nothing changed yet");

    // Claude Desktop writes a handoff and a decision between two prompts.
    let desktop = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, &["mcp", "workspace"])
        .await;
    desktop
        .ok(
            "handoff_create",
            json!({"title": "Move sessions to JWT", "summary": "Use jose."}),
        )
        .await;
    desktop.close().await;
    let memory = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, &["mcp", "memory"])
        .await;
    memory
        .ok(
            "memory_set",
            json!({"key": "proj-x/auth-approach", "value": {"method": "JWT", "library": "jose"}}),
        )
        .await;
    memory.close().await;

    let second = run_hook(
        &home,
        "UserPromptSubmit",
        prompt(session, &home, "go on"),
        &env,
    )
    .await;
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let added = context(&second, "UserPromptSubmit");
    eprintln!(
        "the prompt hook added {} characters:\n{added}",
        added.chars().count()
    );
    assert!(added.contains("Move sessions to JWT"), "{added}");
    assert!(added.contains("handoff_read"), "{added}");
    assert!(added.contains("proj-x/auth-approach"), "{added}");
    assert!(added.contains("claude-ai"), "{added}");
    assert!(added.chars().count() <= 600, "{added}");

    let third = run_hook(
        &home,
        "UserPromptSubmit",
        prompt(session, &home, "and?"),
        &env,
    )
    .await;
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_eq!(third.stdout, "", "nothing new: nothing at all");

    // A prompt whose stdin is not the hook's JSON goes through, silently.
    let broken = run_hook(&home, "UserPromptSubmit", json!("not an object"), &env).await;
    assert_eq!((broken.code, broken.stdout.as_str()), (Some(0), ""));
}

#[tokio::test]
async fn without_an_installed_tandem_the_launcher_prints_nothing_on_stdout_and_says_how_to_install()
{
    let home = TestHome::new();
    // No TANDEM_BIN, a PATH without tandem, a home without ~/.cargo/bin.
    let env = [("PATH", "/usr/bin:/bin")];
    let hook = run_hook(&home, "UserPromptSubmit", prompt("s", &home, "hi"), &env).await;
    assert_eq!(hook.code, Some(0), "a hook lets the prompt through");
    assert_eq!(hook.stdout, "");
    assert_eq!(hook.stderr.lines().count(), 1, "{}", hook.stderr);
    assert!(hook.stderr.contains("not installed"), "{}", hook.stderr);

    let out = tokio::process::Command::new(plugin_dir().join("bin/tandem-launch"))
        .args(["mcp", "memory"])
        .env_clear()
        .envs(home.env())
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"");
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("install the Tandem app"));

    // A plugin of another version than the binary: a note on stderr, and it still runs.
    let out = home
        .command(&["hook", "prompt"])
        .env("TANDEM_PLUGIN_VERSION", "0.0.1")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("plugin is version 0.0.1"), "{said}");
}

#[tokio::test]
async fn install_with_plugin_goes_through_the_real_cli_and_removes_the_older_entries() {
    let home = TestHome::new();
    let bin = tandem_bin().to_string_lossy().into_owned();
    let cli_dir = tandem_tests::npm_dir().join("node_modules/.bin");
    let path = format!("{}:{}", cli_dir.display(), tandem_tests::PLAIN_PATH);
    let run = |args: &'static [&'static str]| {
        let mut cmd = home.command(args);
        cmd.env("PATH", &path)
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .stdin(Stdio::null());
        async move { Ran::from_output(cmd.output().await.unwrap()) }
    };
    // An earlier install wrote entries and the session hook for Claude Code.
    run(&["install", "--client", "claude-code", "--session-hook"])
        .await
        .expect_code(0);
    assert!(read_json(&home.claude_json())["mcpServers"]["tandem-memory"].is_object());

    let dry = run(&[
        "install",
        "--client",
        "claude-code",
        "--plugin",
        "--dry-run",
    ])
    .await;
    dry.expect_code(0);
    assert!(dry.stdout.contains("would copy the marketplace"), "{dry:?}");
    assert!(!home.tandem_home().join("claude-plugin").exists());

    let ran = run(&["install", "--client", "claude-code", "--plugin"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout
            .contains("Tandem plugin (tandem@tandem) is installed"),
        "{ran:?}"
    );
    let copy = home.tandem_home().join("claude-plugin");
    assert!(copy.join(".claude-plugin/marketplace.json").is_file());
    let servers = read_json(&home.claude_json())["mcpServers"].clone();
    assert!(!servers.to_string().contains("tandem-"), "{servers}");
    let settings = std::fs::read_to_string(home.claude_settings()).unwrap();
    assert!(!settings.contains("tandem brief"), "{settings}");
    assert!(settings.contains("tandem@tandem"), "{settings}");

    let env = [("TANDEM_BIN", bin.as_str())];
    let listing = claude_mcp_list(&home, &env).await;
    assert_connected(&listing, "plugin:tandem:tandem-workspace");
    assert_connected(&listing, "plugin:tandem:tandem-memory");
    assert!(
        !listing.lines().any(|l| l.starts_with("tandem-")),
        "{listing}"
    );
    // Again: nothing to add, nothing doubled.
    run(&["install", "--client", "claude-code", "--plugin"])
        .await
        .expect_code(0);
    let listing = claude_mcp_list(&home, &env).await;
    assert_eq!(listing.matches("plugin:tandem:tandem-memory").count(), 1);
}

tandem_tests::on_each_engine!(the_prompt_hook_leaves_out_what_the_session_itself_wrote);
async fn the_prompt_hook_leaves_out_what_the_session_itself_wrote(home: TestHome) {
    let ran =
        tandem_tests::run_node_script(&home, "hook-session.mjs", &[], &Default::default()).await;
    let second = ran["second"].as_str().unwrap();
    assert!(
        second.contains("proj/theirs"),
        "another session's write: {ran}"
    );
    if cfg!(target_os = "linux") {
        assert!(
            !second.contains("proj/own"),
            "the session's own write: {ran}"
        );
        assert_eq!(ran["third"], "", "only its own write since: no news");
    } else {
        // No way to tell sessions apart here: too much rather than too little.
        assert!(second.contains("proj/own"), "{ran}");
    }
}
