//! Entries started the way their clients start them: Claude Desktop's entry launched exactly
//! as Desktop would, and `tandem doctor` passing, failing with the fix, and keeping its
//! result for `tandem status`.

use std::time::Instant;

use serde_json::{Value, json};
use tandem_tests::{TestHome, start_as_desktop};

fn json_of(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn the_claude_desktop_entry_starts_as_desktop_starts_it_and_lists_its_tools() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    home.tandem(&["install", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    let config = json_of(&home.desktop_config());
    let servers = config["mcpServers"].as_object().unwrap();
    assert_eq!(
        servers.keys().collect::<Vec<_>>(),
        ["tandem-workspace", "tandem-memory"]
    );
    for (name, entry) in servers {
        let started = Instant::now();
        let client = start_as_desktop(&home, entry).await;
        let tools = client.list_all_tools().await.unwrap();
        let elapsed = started.elapsed();
        assert!(!tools.is_empty(), "{name} lists no tools");
        let info = client.peer_info().unwrap();
        let server = info.server_info.as_ref().map(|s| s.name.clone());
        eprintln!(
            "{name}: {} tools from {server:?} in {elapsed:?}",
            tools.len()
        );
        client.cancel().await.unwrap();
    }
    // The state the servers opened is the installer's: TANDEM_HOME reached them through the
    // entry, not through an environment Desktop would never pass.
    assert!(home.memory_db().exists());
}

#[tokio::test]
async fn doctor_checks_every_entry_reports_latency_and_keeps_the_result() {
    let home = TestHome::new();
    home.mkdir(".claude");
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    home.tandem(&["install"]).await.expect_code(0);

    let ran = home.tandem(&["doctor"]).await;
    ran.expect_code(0);
    assert!(
        ran.stdout.contains("4 checked: 4 passed, 0 failed"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains(" ms, "), "{}", ran.stdout);
    eprintln!("{}", ran.stdout);

    let record = json_of(&home.tandem_home().join("doctor.json"));
    assert_eq!(record["passed"], true);
    assert_eq!(record["checks"].as_array().unwrap().len(), 4);
    assert!(record["checks"][0]["tools"].as_u64().unwrap() > 0);

    let status: Value =
        serde_json::from_str(&home.tandem(&["status", "--json"]).await.stdout).unwrap();
    assert_eq!(status["doctor"]["passed"], true);
    let code = status["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "claude-code")
        .unwrap();
    assert_eq!(code["lastDoctor"].as_array().unwrap().len(), 2);
    assert_eq!(code["lastDoctor"][0]["outcome"], "passed");
    let text = home.tandem(&["status"]).await.stdout;
    assert!(text.contains("Last `tandem doctor`: passed"), "{text}");

    // Checking one client keeps what is known of the others.
    home.tandem(&["doctor", "--client", "claude-code"])
        .await
        .expect_code(0);
    let record = json_of(&home.tandem_home().join("doctor.json"));
    assert_eq!(record["checks"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn doctor_fails_with_the_fix_when_the_binary_of_an_entry_is_gone() {
    let home = TestHome::new();
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    home.tandem(&["install", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    let mut config = json_of(&home.desktop_config());
    let missing = home.dir.path().join("moved-away/tandem");
    config["mcpServers"]["tandem-memory"]["command"] = json!(missing.to_string_lossy());
    std::fs::write(
        home.desktop_config(),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    // Desktop's own log of that server, as the doctor shows it.
    let logs = home.desktop_dir().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("mcp-server-tandem-memory.log"),
        "2025-01-01T00:00:00.000Z [tandem-memory] [error] spawn ENOENT\n",
    )
    .unwrap();

    let ran = home.tandem(&["doctor", "--client", "claude-desktop"]).await;
    ran.expect_code(1);
    let flat = ran.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "the binary at {} no longer exists",
            missing.display()
        )),
        "{}",
        ran.stdout
    );
    assert!(
        flat.contains("fix: run `tandem install` again"),
        "{}",
        ran.stdout
    );
    assert!(
        flat.contains("spawn ENOENT"),
        "the Desktop log tail: {}",
        ran.stdout
    );
    assert!(flat.contains("1 failed"), "{}", ran.stdout);
    let record = json_of(&home.tandem_home().join("doctor.json"));
    assert_eq!(record["passed"], false);

    // The fix works.
    home.tandem(&["install", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    home.tandem(&["doctor", "--client", "claude-desktop"])
        .await
        .expect_code(0);
}

#[tokio::test]
async fn doctor_reports_a_server_that_does_not_answer_with_its_stderr() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    // An entry pointing at a tandem that cannot serve: a database file that is not one.
    std::fs::create_dir_all(home.tandem_home()).unwrap();
    std::fs::write(
        home.memory_db(),
        "this is not a database, it is a text file\n",
    )
    .unwrap();
    let ran = home.tandem(&["doctor", "--client", "claude-code"]).await;
    ran.expect_code(1);
    assert!(ran.stdout.contains("FAIL tandem-memory"), "{}", ran.stdout);
    assert!(ran.stdout.contains("stderr:"), "{}", ran.stdout);
}

#[tokio::test]
async fn doctor_fails_on_a_config_it_cannot_read() {
    let home = TestHome::new();
    home.mkdir(".claude");
    home.tandem(&["install", "--client", "claude-code"])
        .await
        .expect_code(0);
    std::fs::create_dir_all(home.desktop_dir()).unwrap();
    std::fs::write(home.desktop_config(), "{\"mcpServers\": {,}}").unwrap();
    let ran = home.tandem(&["doctor"]).await;
    ran.expect_code(1);
    assert!(
        ran.stdout
            .contains("2 passed, 0 failed; 1 config file could not be read"),
        "{}",
        ran.stdout
    );
    let flat = ran.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("claude_desktop_config.json is not valid JSON (line 1"),
        "{}",
        ran.stderr
    );
}

#[tokio::test]
async fn doctor_with_nothing_installed_says_to_install() {
    let home = TestHome::new();
    let ran = home.tandem(&["doctor"]).await;
    ran.expect_code(1);
    let flat = ran.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("run `tandem install` first"),
        "{}",
        ran.stderr
    );
}
