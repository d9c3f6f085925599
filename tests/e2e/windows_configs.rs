//! The Windows `tandem.exe` under Wine with config files as Windows people have them: Claude
//! Desktop from the Microsoft Store (MSIX), Cursor, VS Code and Codex; files saved with CRLF
//! line breaks and a byte-order mark, or as UTF-16; a file another program holds open; and the
//! exit codes and messages of failing commands, the same as on Linux.

use serde_json::Value;
use tandem_tests::{TestHome, WinePrefix};

fn read_json(path: &std::path::Path) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The files in a folder (temp files left behind would show here).
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut all: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn msix_desktop_cursor_vscode_and_codex_get_windows_paths_written_right() {
    let w = WinePrefix::new();
    let local = w.user_profile().join("AppData/Local");
    // Claude Desktop from the Store reads its config inside its package, not from %APPDATA%.
    let package = local.join("Packages/Claude_pzs8sxrjxfjjc");
    let msix = package.join("LocalCache/Roaming/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(msix.parent().unwrap()).unwrap();
    std::fs::create_dir_all(w.user_profile().join(".cursor")).unwrap();
    let vscode = w.appdata().join("Code/User/mcp.json");
    write(
        &vscode,
        "{\n  // mine\n  \"servers\": {\n    \"git\": {\"type\": \"stdio\", \"command\": \"git-mcp\"},\n  },\n}\n",
    );
    let codex = w.user_profile().join(".codex/config.toml");
    let codex_before =
        "model = \"o4\"\n\n[mcp_servers.docs]\ncommand = 'C:\\Tools\\docs.exe'\nargs = []\n";
    write(&codex, codex_before);

    let clients = |command: &'static str| {
        let mut args = vec![command];
        for id in ["claude-desktop", "cursor", "vscode", "codex"] {
            args.extend(["--client", id]);
        }
        args
    };
    let ran = w.tandem(&clients("install")).await;
    ran.expect_code(0);
    let exe = w.tandem_windows();

    let desktop = read_json(&msix);
    assert_eq!(desktop["mcpServers"]["tandem-memory"]["command"], exe);
    assert!(
        !w.appdata().join("Claude").exists(),
        "nothing written where the Store app does not read"
    );
    assert!(
        ran.stdout.contains(
            r"Packages\Claude_pzs8sxrjxfjjc\LocalCache\Roaming\Claude\claude_desktop_config.json"
        ),
        "{}",
        ran.stdout
    );

    let cursor = read_json(&w.user_profile().join(".cursor/mcp.json"));
    assert_eq!(cursor["mcpServers"]["tandem-workspace"]["command"], exe);

    let vs_text = std::fs::read_to_string(&vscode).unwrap();
    assert!(vs_text.contains("// mine"), "{vs_text}");
    // JSON escapes each backslash once.
    assert!(
        vs_text.contains(r#""C:\\Program Files\\Tandem\\tandem.exe""#),
        "{vs_text}"
    );

    let toml_text = std::fs::read_to_string(&codex).unwrap();
    let doc: toml_edit::DocumentMut = toml_text.parse().unwrap();
    let servers = doc["mcp_servers"].as_table_like().unwrap();
    for name in ["tandem-memory", "tandem-workspace"] {
        let entry = servers.get(name).unwrap().as_table_like().unwrap();
        assert_eq!(
            entry.get("command").unwrap().as_str(),
            Some(exe),
            "{toml_text}"
        );
    }
    assert_eq!(
        servers.get("docs").unwrap()["command"].as_str(),
        Some(r"C:\Tools\docs.exe")
    );

    let status = w.tandem(&["status", "--json"]).await;
    status.expect_code(0);
    let report: Value = serde_json::from_str(&status.stdout).unwrap();
    let text = report.to_string();
    for id in ["claude-desktop", "cursor", "vscode", "codex"] {
        assert!(text.contains(id), "{id} in {text}");
    }

    w.tandem(&clients("uninstall")).await.expect_code(0);
    assert_eq!(std::fs::read_to_string(&codex).unwrap(), codex_before);
    let vs_after = std::fs::read_to_string(&vscode).unwrap();
    assert!(
        vs_after.contains("// mine") && !vs_after.contains("tandem-memory"),
        "{vs_after}"
    );
}

#[tokio::test]
async fn configs_saved_by_windows_editors_keep_their_encoding_or_are_refused_untouched() {
    let w = WinePrefix::new();
    // Notepad's "UTF-8 with BOM", CRLF line breaks.
    let desktop = w.appdata().join("Claude/claude_desktop_config.json");
    let before =
        "\u{feff}{\r\n  \"globalShortcut\": \"Ctrl+Space\",\r\n  \"mcpServers\": {}\r\n}\r\n";
    write(&desktop, before);
    w.tandem(&["install", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    let after = std::fs::read_to_string(&desktop).unwrap();
    assert!(after.starts_with('\u{feff}'), "the mark kept: {after:?}");
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "every line break CRLF, the added ones too: {after:?}"
    );
    assert_eq!(
        read_json(&desktop)["mcpServers"]["tandem-memory"]["command"],
        w.tandem_windows()
    );
    w.tandem(&["uninstall", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    assert_eq!(std::fs::read_to_string(&desktop).unwrap(), before);

    // Notepad's "Unicode": UTF-16 with its mark. No client reads it: refused, untouched.
    std::fs::create_dir_all(w.user_profile().join(".claude")).unwrap();
    let claude_json = w.user_profile().join(".claude.json");
    let text = "{\r\n  \"numStartups\": 3\r\n}\r\n";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    write(&claude_json, &utf16);
    let ran = w.tandem(&["install", "--client", "claude-code"]).await;
    ran.expect_code(1);
    assert!(
        ran.stderr.contains("UTF-16") && ran.stderr.contains("save it as UTF-8"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains(r"\.claude.json"), "{}", ran.stderr);
    assert_eq!(std::fs::read(&claude_json).unwrap(), utf16);
}

#[tokio::test]
async fn a_config_another_program_holds_open_is_retried_then_refused_untouched() {
    let w = WinePrefix::new();
    std::fs::create_dir_all(w.user_profile().join(".claude")).unwrap();
    let claude_json = w.user_profile().join(".claude.json");
    let before = "{\n  \"numStartups\": 7,\n  \"mcpServers\": {}\n}\n";
    write(&claude_json, before);

    let held = w.hold(&claude_json).await;
    let started = std::time::Instant::now();
    let ran = w.tandem(&["install", "--client", "claude-code"]).await;
    let took = started.elapsed();
    ran.expect_code(1);
    assert!(
        ran.stderr.contains("is open in another program")
            && ran.stderr.contains("nothing was changed"),
        "{}",
        ran.stderr
    );
    assert!(
        took >= std::time::Duration::from_millis(900),
        "retried for its bound first: {took:?}"
    );
    held.release().await;
    assert_eq!(std::fs::read_to_string(&claude_json).unwrap(), before);
    assert_eq!(
        names(w.user_profile().as_path())
            .iter()
            .filter(|n| n.contains(".tmp"))
            .count(),
        0,
        "no temp file left"
    );

    // Let go, the same command goes through.
    w.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    assert_eq!(read_json(&claude_json)["numStartups"], 7);
    assert_eq!(
        read_json(&claude_json)["mcpServers"]["tandem-memory"]["command"],
        w.tandem_windows()
    );
}

/// Failing and succeeding commands give the same exit code and message on both systems; only
/// the paths are written each system's way.
#[tokio::test]
async fn exit_codes_and_messages_are_the_same_as_on_linux() {
    let w = WinePrefix::new();
    let linux = TestHome::new();
    let malformed = "{\"mcpServers\": {,}}\n";
    write(
        &w.appdata().join("Claude/claude_desktop_config.json"),
        malformed,
    );
    write(&linux.desktop_config(), malformed);
    let cases: &[&[&str]] = &[
        &["install", "--client", "nosuch"],
        &["install", "--client", "claude-desktop"],
        &["uninstall", "--client", "gemini"],
        &["frobnicate"],
        &["mcp", "memory", "--db"],
        &["status", "--client", "claude-desktop"],
        &["status"],
        &["doctor", "--client", "claude-desktop"],
    ];
    // The same words; the homes and the config folders differ, and so does where the
    // terminal width wraps a line.
    let windows_home = w.user_profile_windows().replace('\\', "/");
    let linux_home = linux.user_home().to_string_lossy().into_owned();
    let shown = |text: &str| {
        text.replace('\\', "/")
            .replace(&windows_home, "HOME")
            .replace(&linux_home, "HOME")
            .replace("AppData/Roaming/Claude", "CONFIG/Claude")
            .replace(".config/Claude", "CONFIG/Claude")
            .replace("tandem.exe", "tandem")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for args in cases {
        let on_windows = w.tandem(args).await;
        let on_linux = linux.tandem(args).await;
        assert_eq!(
            on_windows.code, on_linux.code,
            "{args:?}: exit codes\nWindows: {on_windows:?}\nLinux: {on_linux:?}"
        );
        assert_eq!(
            shown(&on_windows.stderr),
            shown(&on_linux.stderr),
            "{args:?}: messages"
        );
        eprintln!("{args:?}: exit {:?} on both", on_linux.code);
    }
    let ran = w.tandem(&["install", "--client", "claude-desktop"]).await;
    assert!(
        ran.stderr
            .contains(r"\AppData\Roaming\Claude\claude_desktop_config.json"),
        "paths the Windows way: {}",
        ran.stderr
    );
}
