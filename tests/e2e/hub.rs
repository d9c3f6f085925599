//! The HTTP hub (`tandem serve`) and the stdio bridge (`tandem connect`): auth, the
//! Host/Origin guard, loopback-only sockets, live push between sessions, graceful shutdown,
//! the MCP conformance suite, and a bridge that survives the hub restarting.

use std::{collections::BTreeMap, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tandem_store::memory::MemoryStore;
use tandem_tests::{
    HubProcess, TestClient, TestHome, free_port, npm_dir, run_node_script, tandem_bin,
};
use tokio::io::{AsyncBufReadExt, BufReader};

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl-like", "version": "1"}}})
}

async fn post(hub: &HubProcess, path: &str, headers: &[(&str, &str)]) -> reqwest::StatusCode {
    let mut request = tandem_tests::http()
        .post(format!("{}{path}", hub.base()))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .json(&initialize());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn the_hub_wants_its_token_and_only_loopback_hosts_and_origins() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, false).await;
    let token = hub.token.clone().unwrap();
    let bearer = format!("Bearer {token}");
    for path in ["/memory", "/workspace"] {
        assert_eq!(post(&hub, path, &[]).await, 401, "{path} without a token");
        assert_eq!(
            post(&hub, path, &[("Authorization", "Bearer wrong")]).await,
            401,
            "{path} wrong token"
        );
        assert_eq!(
            post(&hub, path, &[("Authorization", &bearer)]).await,
            200,
            "{path} right token"
        );
        let evil_origin = [
            ("Authorization", bearer.as_str()),
            ("Origin", "http://evil.example"),
        ];
        assert_eq!(
            post(&hub, path, &evil_origin).await,
            403,
            "{path} evil origin"
        );
        let evil_host = [("Authorization", bearer.as_str()), ("Host", "evil.example")];
        assert_eq!(post(&hub, path, &evil_host).await, 403, "{path} evil host");
        let good_origin = [
            ("Authorization", bearer.as_str()),
            ("Origin", "http://localhost:3000"),
        ];
        assert_eq!(
            post(&hub, path, &good_origin).await,
            200,
            "{path} loopback origin"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.tandem_home().join("hub.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let health: Value = tandem_tests::http()
        .get(format!("{}/health", hub.base()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["uptimeSeconds"].is_u64());
    assert!(
        health["sessions"]["memory"].as_u64().unwrap() >= 1,
        "{health}"
    );
    assert_eq!(health["store"]["ok"], true);
    let evil = tandem_tests::http()
        .get(format!("{}/health", hub.base()))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);

    // Every socket the hub listens on is a loopback one.
    let port_hex = format!(":{:04X}", hub.port);
    let mut listening = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 3 && cols[1].ends_with(&port_hex) && cols[3] == "0A" {
                listening.push(cols[1].to_string());
            }
        }
    }
    assert!(
        !listening.is_empty(),
        "no listening socket found for port {}",
        hub.port
    );
    for local in &listening {
        let addr = local.split(':').next().unwrap();
        let loopback = addr == "0100007F" || addr == "00000000000000000000000001000000";
        assert!(
            loopback,
            "the hub listens on a non-loopback address: {local}"
        );
    }
    hub.kill().await;
}

#[tokio::test]
async fn a_taken_port_is_refused_with_a_clear_message() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, true).await;
    let out = home.run(&["serve", "--port", &hub.port.to_string()]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already in use") && stderr.contains("--port"),
        "{stderr}"
    );
    hub.kill().await;
}

#[tokio::test]
async fn a_change_in_one_session_reaches_the_other_within_half_a_second() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, false).await;
    let out = run_node_script(
        &home,
        "hub-push.mjs",
        &[&hub.base(), hub.token.as_deref().unwrap()],
        &BTreeMap::new(),
    )
    .await;
    let latencies: Vec<f64> = out["latencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l.as_f64()
                .unwrap_or_else(|| panic!("a change never arrived: {out}"))
        })
        .collect();
    let mut sorted = latencies.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    eprintln!("list_changed latencies (ms): {latencies:?}");
    assert!(
        median <= 500.0,
        "median push latency {median} ms > 500 ms: {latencies:?}"
    );
    assert!(
        out["updated"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "memory://entry/push/0"),
        "{out}"
    );
    assert_eq!(out["updatedBy"], "claude-ai 1");
    hub.kill().await;
}

#[tokio::test]
async fn sigterm_lets_calls_in_flight_finish_and_loses_nothing_acknowledged() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, false).await;
    let npm = npm_dir();
    let script = npm.join("hub-storm.mjs");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("js/hub-storm.mjs"),
        &script,
    )
    .unwrap();
    let mut node = tokio::process::Command::new("node")
        .arg(&script)
        .args([hub.base(), hub.token.clone().unwrap()])
        .current_dir(&npm)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut acks = 0;
    while acks < 40 {
        let line = lines.next_line().await.unwrap().expect("storm ended early");
        if line.starts_with("ack ") {
            acks += 1;
        }
    }
    let status = hub.terminate().await;
    assert!(
        status.success(),
        "the hub did not exit cleanly on SIGTERM: {status}"
    );
    let mut summary = None;
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with('{') {
            summary = Some(serde_json::from_str::<Value>(&line).unwrap());
        }
    }
    let summary = summary.expect("no summary from the storm");
    assert_eq!(
        summary["timedOut"], 0,
        "calls in flight at SIGTERM were never answered: {summary}"
    );
    let acked: Vec<String> = summary["acked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    assert!(acked.len() >= 40);
    let store = MemoryStore::open(home.memory_db()).unwrap();
    for chunk in acked.chunks(100) {
        let got = store.get(chunk).unwrap();
        assert!(
            got.missing.is_empty(),
            "acknowledged writes lost: {:?}",
            got.missing
        );
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[tokio::test]
async fn the_conformance_suite_passes_on_both_endpoints() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, true).await;
    let npm = npm_dir();
    for file in [
        "conformance-register.mjs",
        "conformance-loader.mjs",
        "conformance-fs-shim.mjs",
    ] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("js")
                .join(file),
            npm.join(file),
        )
        .unwrap();
    }
    let cli = npm.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    for endpoint in ["memory", "workspace"] {
        for scenario in [
            "server-initialize",
            "ping",
            "tools-list",
            "resources-list",
            "dns-rebinding-protection",
        ] {
            let url = format!("http://localhost:{}/{endpoint}", hub.port);
            let out = tokio::process::Command::new("node")
                .args(["--import", "./conformance-register.mjs"])
                .arg(&cli)
                .args(["server", "--url", &url, "--scenario", scenario])
                .current_dir(&npm)
                .kill_on_drop(true)
                .output()
                .await
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains(" 0 failed"),
                "{scenario} on /{endpoint} failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    hub.kill().await;
}

#[tokio::test]
async fn the_bridge_shows_the_typescript_client_what_direct_http_shows() {
    let home = TestHome::new();
    let hub = HubProcess::start(&home, false).await;
    let token_file = home.tandem_home().join("hub.token");
    let out = run_node_script(
        &home,
        "bridge-compare.mjs",
        &[&hub.base(), token_file.to_str().unwrap()],
        &BTreeMap::new(),
    )
    .await;
    for endpoint in ["memory", "workspace"] {
        assert_eq!(out[endpoint]["sameTools"], true, "{endpoint}: {out}");
        assert_eq!(out[endpoint]["samePrompts"], true, "{endpoint}: {out}");
    }
    assert_eq!(out["memory"]["serverName"], "tandem-memory");
    assert_eq!(out["memory"]["toolCount"], 8);
    assert_eq!(out["workspace"]["toolCount"], 16);
    assert_eq!(out["memory"]["sameGet"], true);
    assert_eq!(out["memory"]["setResult"]["created"], true);
    assert_eq!(
        out["memory"]["updatedBy"], "claude-ai 0.14.1",
        "provenance must be the app's, not the bridge's"
    );
    assert_eq!(out["workspace"]["createdBy"], "claude-ai 0.14.1");
    hub.kill().await;
}

#[tokio::test]
async fn the_bridge_fails_fast_while_the_hub_is_down_and_recovers_when_it_is_back() {
    let home = TestHome::new();
    let port = free_port();
    let hub = HubProcess::start_on(&home, port, false).await;
    let token_file = home.tandem_home().join("hub.token");
    let url = format!("http://127.0.0.1:{port}/memory");
    let header = format!("Authorization: Bearer file:{}", token_file.display());
    let app = TestClient::named("claude-ai", "0.14.1")
        .connect(&home, &["connect", &url, "--header", &header])
        .await;
    app.ok("memory_set", json!({"key": "before", "value": 1}))
        .await;

    hub.kill().await;
    let started = std::time::Instant::now();
    let down = app.call("memory_get", json!({"keys": ["before"]})).await;
    let waited = started.elapsed();
    assert_eq!(down.is_error, Some(true));
    let text = tandem_tests::text_of(&down);
    assert!(
        text.contains("not reachable") && text.contains("tandem serve"),
        "{text}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "a call to a down hub took {waited:?}"
    );

    // The hub comes back (same port, same token, new process): the app just carries on.
    let hub = HubProcess::start_on(&home, port, false).await;
    let again = app.ok("memory_get", json!({"keys": ["before"]})).await;
    assert_eq!(again["entries"][0]["value"], 1);
    app.ok("memory_set", json!({"key": "after", "value": 2}))
        .await;
    let check = app.ok("memory_get", json!({"keys": ["after"]})).await;
    assert_eq!(check["entries"][0]["updatedBy"], "claude-ai 0.14.1");

    // Its server-to-client stream came back too: another session's write is pushed through.
    let other = TestClient::named("claude-code", "1")
        .connect(&home, &["connect", &url, "--header", &header])
        .await;
    let heard_before = app.client.heard.lock().unwrap().list_changed;
    other
        .ok("memory_set", json!({"key": "from-code", "value": 3}))
        .await;
    assert!(
        app.wait_for(Duration::from_secs(10), |h| h.list_changed > heard_before)
            .await,
        "no list_changed through the bridge after the hub restarted"
    );
    app.close().await;
    other.close().await;
    hub.kill().await;
}

#[tokio::test]
async fn connect_refuses_a_malformed_header_and_url() {
    let home = TestHome::new();
    let out = home
        .run(&[
            "connect",
            "http://127.0.0.1:1/memory",
            "--header",
            "no colon here",
        ])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Name: value"));
    let out = home.run(&["connect", "ftp://example/memory"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://"));
    let _ = tandem_bin();
}
