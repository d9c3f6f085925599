//! The hub in the clients' files (`tandem install --transport http`) and third-party servers
//! shared between clients (`tandem share`): each client gets its own format, secrets stay
//! variables where the client can expand them, and removal gives every file its bytes back.

use std::{path::PathBuf, process::Stdio};

use serde_json::{Value, json};
use tandem_tests::{HubProcess, PLAIN_PATH, Ran, TestHome, start_as_desktop, text_of};

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn json_of(path: &std::path::Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap()
}

/// `tandem <args>` with extra environment variables (the person's shell).
async fn tandem_with(home: &TestHome, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let output = home
        .command(args)
        .env("PATH", PLAIN_PATH)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("running tandem");
    Ran::from_output(output)
}

/// Text with its line wrapping undone (the CLI wraps to 80 columns).
fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Claude Desktop config as a person's might be: written on one line by some other tool.
const DESKTOP_COMPACT: &str = r#"{"mcpServers":{"notes":{"command":"/opt/notes/bin/notes-mcp"}},"globalShortcut":"Alt+Space"}"#;

#[tokio::test]
async fn install_over_http_writes_hub_entries_and_desktop_bridges_that_read_the_token_file() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.mkdir(".cursor");
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    let claude_original = super::install::realistic_claude_json();
    std::fs::write(home.claude_json(), &claude_original).unwrap();
    std::fs::write(home.desktop_config(), DESKTOP_COMPACT).unwrap();
    let hub = HubProcess::start(&home, false).await;
    let token = hub.token.clone().unwrap();
    let port = hub.port.to_string();

    let ran = home
        .tandem(&[
            "install",
            "--transport",
            "http",
            "--port",
            &port,
            "--client",
            "claude-code",
            "--client",
            "claude-desktop",
            "--client",
            "cursor",
        ])
        .await;
    ran.expect_code(0);
    let said = unwrapped(&ran.stdout);
    assert!(
        said.contains("written in clear into these files")
            && said.contains("~/.cursor/mcp.json (Cursor)")
            && said.contains("~/.claude.json (Claude Code)"),
        "the summary names the files that hold the token: {}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains(&format!("the hub answers on 127.0.0.1:{port}")),
        "{}",
        ran.stdout
    );

    for config in [
        json_of(&home.claude_json()),
        json_of(&home.user_home().join(".cursor/mcp.json")),
    ] {
        for (name, path) in [
            ("tandem-workspace", "workspace"),
            ("tandem-memory", "memory"),
        ] {
            let entry = &config["mcpServers"][name];
            assert_eq!(entry["url"], format!("{}/{path}", hub.base()), "{config}");
            assert_eq!(entry["headers"]["Authorization"], format!("Bearer {token}"));
        }
    }
    assert_eq!(
        json_of(&home.claude_json())["mcpServers"]["tandem-memory"]["type"],
        "http"
    );

    let desktop_text = String::from_utf8(read(&home.desktop_config())).unwrap();
    assert!(
        !desktop_text.contains(&token),
        "Desktop's file names the token file, not the token"
    );
    assert_eq!(
        desktop_text.lines().count(),
        1,
        "a one-line file stays one line: {desktop_text}"
    );
    let desktop: Value = serde_json::from_str(&desktop_text).unwrap();
    let token_file = std::path::absolute(home.tandem_home().join("hub.token")).unwrap();
    let memory = &desktop["mcpServers"]["tandem-memory"];
    assert_eq!(
        memory["args"],
        json!([
            "connect",
            format!("{}/memory", hub.base()),
            "--header",
            format!("Authorization: Bearer file:{}", token_file.display())
        ])
    );

    // Desktop starts the bridge with its own bare environment; the bridge reads the token,
    // reaches the hub, and the write carries Desktop's name, not the bridge's.
    let client = start_as_desktop(&home, memory).await;
    let set = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("memory_set").with_arguments(
                json!({"key": "proj-x/auth", "value": {"method": "JWT"}})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_ne!(set.is_error, Some(true), "{}", text_of(&set));
    let got = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("memory_get").with_arguments(
                json!({"keys": ["proj-x/auth"]})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    let got = got.structured_content.unwrap();
    assert_eq!(got["entries"][0]["updatedBy"], "claude-ai 0.14.1");
    client.cancel().await.unwrap();

    let doctor = home.tandem(&["doctor"]).await;
    doctor.expect_code(0);
    assert!(
        doctor.stdout.contains("6 checked: 6 passed"),
        "{}",
        doctor.stdout
    );

    let status = home.tandem(&["status"]).await;
    assert!(
        unwrapped(&status.stdout).contains(&format!("Hub on 127.0.0.1:{port}: running")),
        "{}",
        status.stdout
    );

    home.tandem(&[
        "uninstall",
        "--client",
        "claude-code",
        "--client",
        "claude-desktop",
        "--client",
        "cursor",
    ])
    .await
    .expect_code(0);
    assert_eq!(read(&home.claude_json()), claude_original.as_bytes());
    assert_eq!(read(&home.desktop_config()), DESKTOP_COMPACT.as_bytes());
    assert!(
        !home.user_home().join(".cursor/mcp.json").exists(),
        "a file Tandem created and emptied again is removed"
    );
}

#[tokio::test]
async fn port_without_the_http_transport_is_a_usage_error() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let ran = home.tandem(&["install", "--port", "7412"]).await;
    ran.expect_code(2);
    assert!(ran.stderr.contains("--transport http"), "{}", ran.stderr);
    assert!(!home.claude_json().exists());
}

/// Every client's folder exists (so each counts as installed); some files exist already.
struct Clients {
    home: TestHome,
    /// (client, config file, original bytes if the file existed)
    files: Vec<(&'static str, PathBuf, Option<Vec<u8>>)>,
}

impl Clients {
    fn new() -> Self {
        let home = TestHome::new();
        let h = home.user_home();
        std::fs::create_dir_all(home.desktop_dir()).unwrap();
        for dir in [
            ".claude",
            ".cursor",
            ".config/Code/User",
            ".codeium/windsurf",
            ".config/zed",
            ".codex",
            ".gemini",
        ] {
            home.mkdir(dir);
        }
        let existing: [(&str, PathBuf, &str); 5] = [
            (
                "claude-code",
                home.claude_json(),
                "{\"numStartups\": 12, \"theme\": \"light\"}\n",
            ),
            ("claude-desktop", home.desktop_config(), DESKTOP_COMPACT),
            (
                "vscode",
                h.join(".config/Code/User/mcp.json"),
                "// my servers\n{\n  \"servers\": {\n    \"git\": {\"type\": \"stdio\", \"command\": \"git-mcp\"}, // keep\n  },\n}\n",
            ),
            (
                "codex",
                h.join(".codex/config.toml"),
                "# Codex\nmodel = \"o4\"\n\n[mcp_servers.git]\ncommand = \"git-mcp\"\n",
            ),
            (
                "zed",
                h.join(".config/zed/settings.json"),
                "{\n  // Zed\n  \"vim_mode\": true\n}\n",
            ),
        ];
        let mut files: Vec<(&'static str, PathBuf, Option<Vec<u8>>)> = existing
            .into_iter()
            .map(|(c, p, text)| {
                std::fs::write(&p, text).unwrap();
                (c, p, Some(text.as_bytes().to_vec()))
            })
            .collect();
        files.push(("cursor", h.join(".cursor/mcp.json"), None));
        files.push((
            "windsurf",
            h.join(".codeium/windsurf/mcp_config.json"),
            None,
        ));
        files.push(("gemini", h.join(".gemini/settings.json"), None));
        Self { home, files }
    }

    fn file(&self, client: &str) -> &PathBuf {
        &self.files.iter().find(|(c, ..)| *c == client).unwrap().1
    }

    fn text(&self, client: &str) -> String {
        String::from_utf8(read(self.file(client))).unwrap()
    }
}

#[tokio::test]
async fn a_shared_server_reaches_every_client_in_its_own_format_and_its_key_stays_a_variable() {
    let c = Clients::new();
    let home = &c.home;
    // Cursor's file is broken: it must be refused, left byte-identical, and not stop the rest.
    let broken = b"{\"mcpServers\": {\n";
    std::fs::write(c.file("cursor"), broken).unwrap();
    let key = [("SEARCH_KEY", "sk-live-4f9c2a7b")];
    let add = [
        "share",
        "add",
        "search",
        "--url",
        "https://search.example/mcp",
        "--header",
        "x-api-key: env:SEARCH_KEY",
    ];

    let ran = tandem_with(home, &add, &key).await;
    ran.expect_code(1);
    assert!(ran.stderr.contains(".cursor/mcp.json"), "{}", ran.stderr);
    assert_eq!(read(c.file("cursor")), broken);
    let said = unwrapped(&ran.stdout);
    for needle in ["Claude Desktop", "Zed"] {
        assert!(
            said.contains(&format!("({needle}) now holds a secret of `search`")),
            "the summary says where the key now sits in clear: {}",
            ran.stdout
        );
    }

    let claude = json_of(c.file("claude-code"));
    assert_eq!(claude["numStartups"], 12);
    assert_eq!(
        claude["mcpServers"]["search"],
        json!({"type": "http", "url": "https://search.example/mcp", "headers": {"x-api-key": "${SEARCH_KEY}"}})
    );
    let vscode = c.text("vscode");
    assert!(
        vscode.starts_with("// my servers\n") && vscode.contains("// keep"),
        "{vscode}"
    );
    assert!(
        vscode.contains("\"x-api-key\": \"${env:SEARCH_KEY}\""),
        "{vscode}"
    );
    let codex = c.text("codex");
    assert!(codex.starts_with("# Codex\nmodel = \"o4\"\n"), "{codex}");
    assert!(
        codex.contains("[mcp_servers.search]\nurl = \"https://search.example/mcp\""),
        "{codex}"
    );
    assert!(
        codex.contains("env_http_headers = { x-api-key = \"SEARCH_KEY\" }"),
        "{codex}"
    );
    let gemini = json_of(c.file("gemini"));
    assert_eq!(
        gemini["mcpServers"]["search"],
        json!({"httpUrl": "https://search.example/mcp", "headers": {"x-api-key": "${SEARCH_KEY}"}})
    );
    let windsurf = json_of(c.file("windsurf"));
    assert_eq!(
        windsurf["mcpServers"]["search"],
        json!({"serverUrl": "https://search.example/mcp", "headers": {"x-api-key": "${env:SEARCH_KEY}"}})
    );
    let zed = c.text("zed");
    assert!(
        zed.contains("// Zed") && zed.contains("sk-live-4f9c2a7b"),
        "{zed}"
    );
    let desktop = json_of(c.file("claude-desktop"));
    let bridge = &desktop["mcpServers"]["search"];
    assert_eq!(
        bridge["args"],
        json!([
            "connect",
            "https://search.example/mcp",
            "--header",
            "x-api-key: env:SEARCH_KEY"
        ])
    );
    assert_eq!(bridge["env"]["SEARCH_KEY"], "sk-live-4f9c2a7b");
    for client in ["claude-code", "vscode", "codex", "gemini", "windsurf"] {
        assert!(
            !c.text(client).contains("sk-live"),
            "{client}'s file holds the key in clear"
        );
    }

    let shares = home.tandem_home().join("shares.json");
    let shares_text = std::fs::read_to_string(&shares).unwrap();
    assert!(
        !shares_text.contains("sk-live"),
        "the declaration keeps the variable's name"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&shares).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "shares.json is private");
    }

    let list = home.tandem(&["share", "list", "--json"]).await;
    list.expect_code(0);
    let listed: Value = serde_json::from_str(&list.stdout).unwrap();
    let text = listed.to_string();
    assert!(
        text.contains("search") && text.contains("https://search.example/mcp"),
        "{text}"
    );
    assert!(
        !text.contains("\"cursor\""),
        "Cursor is not listed as having it: {text}"
    );

    // Fixed by hand, Cursor gets it on the second run.
    std::fs::write(c.file("cursor"), "{}\n").unwrap();
    tandem_with(
        home,
        &["share", "add", "search", "--client", "cursor"],
        &key,
    )
    .await
    .expect_code(0);
    let cursor = json_of(c.file("cursor"));
    assert_eq!(
        cursor["mcpServers"]["search"]["headers"]["x-api-key"],
        "${env:SEARCH_KEY}"
    );
    let list = home.tandem(&["share", "list"]).await;
    assert!(list.stdout.contains("Cursor (ok)"), "{}", list.stdout);

    let ran = home.tandem(&["share", "remove", "search"]).await;
    ran.expect_code(0);
    for (client, path, original) in &c.files {
        match (client, original) {
            (_, Some(bytes)) => assert_eq!(&read(path), bytes, "{client}: not its bytes back"),
            (&"cursor", None) => assert_eq!(read(path), b"{}\n"),
            (_, None) => assert!(!path.exists(), "{client}: the file Tandem created is left"),
        }
    }
    let list = home.tandem(&["share", "list"]).await;
    assert!(list.stdout.contains("No shared servers"), "{}", list.stdout);
}

#[tokio::test]
async fn a_shared_command_starts_in_desktop_as_declared() {
    let home = TestHome::new();
    home.mkdir(".claude");
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    let bin = tandem_tests::tandem_bin();
    let state = home.dir.path().join("other-state");
    let state_env = format!("TANDEM_HOME={}", state.display());
    home.tandem(&[
        "share",
        "add",
        "notes",
        "--client",
        "claude-desktop",
        "--client",
        "claude-code",
        "--env",
        &state_env,
        "--command",
        bin.to_str().unwrap(),
        "mcp",
        "memory",
    ])
    .await
    .expect_code(0);
    let claude = json_of(&home.claude_json());
    assert_eq!(claude["mcpServers"]["notes"]["type"], "stdio");
    assert_eq!(
        claude["mcpServers"]["notes"]["args"],
        json!(["mcp", "memory"])
    );
    let desktop = json_of(&home.desktop_config());
    let entry = &desktop["mcpServers"]["notes"];
    let client = start_as_desktop(&home, entry).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "memory_set"));
    client.cancel().await.unwrap();
    assert!(
        state.join("memory.db").exists(),
        "the declared env reached the server"
    );

    // Tandem's own uninstall leaves shared servers alone.
    home.tandem(&["uninstall", "--client", "claude-desktop"])
        .await;
    assert!(json_of(&home.desktop_config())["mcpServers"]["notes"].is_object());
}

#[tokio::test]
async fn share_refuses_bad_names_headers_and_flags_with_usage_errors() {
    let home = TestHome::new();
    home.mkdir(".claude");
    let cases: [&[&str]; 6] = [
        &["share", "add", "tandem-x", "--url", "https://x.example/mcp"],
        &["share", "add", "a b", "--url", "https://x.example/mcp"],
        &[
            "share",
            "add",
            "s",
            "--url",
            "https://x.example/mcp",
            "--header",
            "no colon",
        ],
        &[
            "share",
            "add",
            "s",
            "--url",
            "https://x.example/mcp",
            "--command",
            "x",
        ],
        &["share", "add", "s", "--env", "NOEQUALS", "--command", "x"],
        &["share", "add", "s"],
    ];
    for args in cases {
        let ran = home.tandem(args).await;
        assert_eq!(ran.code, Some(2), "{args:?}: {}{}", ran.stdout, ran.stderr);
        assert!(!ran.stderr.trim().is_empty(), "{args:?} says why");
    }
    assert!(!home.claude_json().exists(), "nothing was written");
    let ran = home.tandem(&["share", "remove", "nothing"]).await;
    ran.expect_code(1);
    assert!(ran.stderr.contains("nothing"), "{}", ran.stderr);
}
