//! The Claude Desktop extension (`tandem-<version>-linux-x64.mcpb`, packed by `cargo xtask`
//! from `integrations/claude-desktop/manifest.json` and the debug `tandem`) through the pinned
//! `mcpb` CLI: inspected, unpacked and validated; its server started as Desktop starts an
//! extension and driven by the official TypeScript SDK client; its writes seen by a Claude Code
//! session; signed, and the signature checked.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use serde_json::{Value, json};
use tandem_tests::{
    TestClient, TestHome, WinePrefix, desktop_environment, npm_dir, run_node_script,
};
use tokio::process::Command;

fn bundle() -> PathBuf {
    bundle_for("linux-x64")
}

fn bundle_for(platform: &str) -> PathBuf {
    let name = format!("tandem-{}-{platform}.mcpb", env!("CARGO_PKG_VERSION"));
    let path = tandem_tests::target_profile_dir()
        .join("bundle/mcpb")
        .join(&name);
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` (or `cargo xtask mcpb`) packs it",
        path.display()
    );
    path
}

async fn mcpb(args: &[&str], cwd: &Path) -> Output {
    let cli = npm_dir().join("node_modules/@anthropic-ai/mcpb/dist/cli/cli.js");
    Command::new("node")
        .arg(cli)
        .args(args)
        .current_dir(cwd)
        .kill_on_drop(true)
        .output()
        .await
        .expect("running the mcpb CLI")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn ok(what: &str, output: &Output) -> String {
    let text = text(output);
    assert!(output.status.success(), "{what} failed:\n{text}");
    text
}

/// `mcpb unpack` of `file` into `dir`, then `mcpb validate`; returns the manifest.
async fn unpack_and_validate(file: &Path, dir: &Path, work: &Path) -> Value {
    let dir_arg = dir.to_string_lossy();
    ok(
        "mcpb unpack",
        &mcpb(&["unpack", &file.to_string_lossy(), &dir_arg], work).await,
    );
    let manifest_path = dir.join("manifest.json");
    let validated = ok(
        "mcpb validate",
        &mcpb(&["validate", &manifest_path.to_string_lossy()], work).await,
    );
    assert!(validated.contains("validation passes"), "{validated}");
    read_json(&manifest_path)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_repository_manifest_is_the_workspace_version_and_lists_every_platform() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let manifest = read_json(&repo.join("integrations/claude-desktop/manifest.json"));
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest["compatibility"]["platforms"],
        json!(["darwin", "linux", "win32"])
    );
}

#[tokio::test]
async fn the_extension_installs_runs_as_desktop_runs_it_and_shares_memory_with_claude_code() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("tandem.mcpb");
    std::fs::copy(bundle(), &file).unwrap();
    let file_arg = file.to_string_lossy().into_owned();

    let info = ok("mcpb info", &mcpb(&["info", &file_arg], work.path()).await);
    assert!(
        info.contains("Size:") && info.contains("Not signed"),
        "{info}"
    );

    // Unpacked where Desktop keeps what it installs: the manifest, the icon, the licence, the
    // binary.
    let home = TestHome::as_people_run();
    let dir = home
        .desktop_dir()
        .join("Claude Extensions/local.mcpb.tandem.tandem");
    let dir_arg = dir.to_string_lossy().into_owned();
    let manifest = unpack_and_validate(&file, &dir, work.path()).await;
    assert_eq!(manifest["manifest_version"], "0.3");
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["server"]["type"], "binary");
    assert_eq!(manifest["compatibility"]["platforms"], json!(["linux"]));
    assert!(
        manifest.get("user_config").is_none(),
        "the extension asks for no folder: it resolves the saved location"
    );
    let config = &manifest["server"]["mcp_config"];
    assert_eq!(
        config["platform_overrides"]["win32"]["command"],
        "${__dirname}/server/tandem.exe"
    );
    for file in ["icon.png", "LICENSE"] {
        assert!(dir.join(file).is_file(), "{file} is in the bundle");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("server/tandem"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "the server binary stays executable");
    }

    // Started as Desktop starts an extension: ${__dirname} put in, Desktop's trimmed
    // environment (no TANDEM_HOME, no XDG), stdio, from `/`.
    let command = config["command"]
        .as_str()
        .unwrap()
        .replace("${__dirname}", &dir_arg);
    let entry = json!({
        "command": command,
        "args": config["args"],
        "env": desktop_environment(&home),
    });
    let ran = run_node_script(
        &home,
        "extension-desktop.mjs",
        &[&entry.to_string()],
        &Default::default(),
    )
    .await;
    assert_eq!(ran["server"]["name"], "tandem", "{ran}");
    assert_eq!(ran["server"]["version"], env!("CARGO_PKG_VERSION"));
    // The manifest lists exactly the tools and prompts the server offers.
    assert_eq!(ran["tools"], manifest["tools"], "tools");
    let prompts: Vec<&Value> = manifest["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(ran["prompts"], json!(prompts), "prompts");
    assert_eq!(ran["got"]["entries"][0]["value"]["method"], "JWT", "{ran}");

    // A Claude Code session on the same computer sees what the extension wrote.
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&home, &["mcp", "memory"])
        .await;
    let got = code
        .ok("memory_get", json!({"keys": ["proj-x/auth-approach"]}))
        .await;
    assert_eq!(got["entries"][0]["value"]["library"], "jose", "{got}");
    assert_eq!(got["entries"][0]["updatedBy"], "claude-ai 0.14.1", "{got}");
    code.close().await;
    let code = TestClient::named("claude-code", "2.1.332")
        .connect(&home, &["mcp", "workspace"])
        .await;
    let handoff = code.ok("handoff_read", json!({"id": "latest"})).await;
    assert_eq!(handoff["title"], "Add JWT auth", "{handoff}");
    code.close().await;
    assert!(
        home.memory_db().is_file(),
        "the extension wrote to the default store"
    );

    doubles_are_named(&home).await;
    signed_and_checked(&file, work.path()).await;
}

/// The doctor probes the extension as Desktop starts it, and names both when Tandem's own
/// entries in Desktop's config answer too.
async fn doubles_are_named(home: &TestHome) {
    let alone = home.tandem(&["doctor", "--client", "claude-desktop"]).await;
    alone.expect_code(0);
    assert!(alone.stdout.contains("extension:tandem"), "{alone:?}");
    assert!(!alone.stderr.contains("twice"), "{alone:?}");
    home.tandem(&["install", "--client", "claude-desktop"])
        .await
        .expect_code(0);
    let both = home.tandem(&["doctor", "--client", "claude-desktop"]).await;
    println!("{}\n{}", both.stdout, both.stderr);
    assert!(
        both.stderr
            .contains("the Tandem extension and Tandem's own entries")
            && both.stderr.contains("tandem-workspace")
            && both
                .stderr
                .contains("tandem uninstall --client claude-desktop"),
        "{both:?}"
    );
}

/// `mcpb sign --self-signed`, then the PKCS#7 signature it appended checked by OpenSSL against
/// the certificate (the trust a person gives a self-signed publisher), and refused for a
/// changed bundle. `mcpb verify` itself checks the chain with `openssl verify -purpose
/// codesigning -CApath /etc/ssl/certs`, a purpose OpenSSL 3.0 (Debian 12) does not know: it
/// reports every bundle unsigned here, so its answer is printed, not relied on.
async fn signed_and_checked(file: &Path, work: &Path) {
    let file_arg = file.to_string_lossy().into_owned();
    let signed = ok(
        "mcpb sign --self-signed",
        &mcpb(&["sign", &file_arg, "--self-signed"], work).await,
    );
    assert!(signed.contains("Successfully signed"), "{signed}");
    let verify = mcpb(&["verify", &file_arg], work).await;
    println!("mcpb verify: {}", text(&verify).trim());

    let bytes = std::fs::read(file).unwrap();
    let header = b"MCPB_SIG_V1";
    let at = bytes
        .windows(header.len())
        .rposition(|w| w == header)
        .expect("a signature block");
    let len_at = at + header.len();
    let len = u32::from_le_bytes(bytes[len_at..len_at + 4].try_into().unwrap()) as usize;
    let signature = &bytes[len_at + 4..len_at + 4 + len];
    assert_eq!(&bytes[len_at + 4 + len..], b"MCPB_SIG_END");
    let sig = work.join("signature.der");
    let content = work.join("content.zip");
    std::fs::write(&sig, signature).unwrap();
    let cert = npm_dir().join("node_modules/@anthropic-ai/mcpb/dist/self-signed-cert.pem");
    let check = |content: &Path| {
        std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
            ])
            .arg("-in")
            .arg(&sig)
            .arg("-content")
            .arg(content)
            .arg("-CAfile")
            .arg(&cert)
            .args(["-out", "/dev/null"])
            .output()
            .expect("running openssl")
    };
    std::fs::write(&content, &bytes[..at]).unwrap();
    let good = check(&content);
    assert!(good.status.success(), "{}", text(&good));
    let mut changed = bytes[..at].to_vec();
    let middle = changed.len() / 2;
    changed[middle] ^= 0xff;
    std::fs::write(&content, &changed).unwrap();
    let bad = check(&content);
    assert!(!bad.status.success(), "a changed bundle passed the check");
}

/// The Windows bundle (`tandem-<version>-win32-x64.mcpb`, with the cross-built `tandem.exe`):
/// unpacked where Claude Desktop on Windows keeps extensions, validated, and its server started
/// under Wine as Desktop starts it there (the `win32` command, `${__dirname}` a Windows path);
/// a Claude Code session's memory server on the same computer sees its write.
#[tokio::test]
async fn the_windows_extension_unpacks_and_its_server_runs_under_wine() {
    let w = WinePrefix::new();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("tandem.mcpb");
    std::fs::copy(bundle_for("win32-x64"), &file).unwrap();
    let dir = w
        .appdata()
        .join("Claude/Claude Extensions/local.mcpb.tandem.tandem");
    let manifest = unpack_and_validate(&file, &dir, work.path()).await;
    assert_eq!(manifest["compatibility"]["platforms"], json!(["win32"]));
    assert!(dir.join("server/tandem.exe").is_file());
    w.add_stand_in(&dir.join("server"));

    let config = &manifest["server"]["mcp_config"]["platform_overrides"]["win32"];
    let command = config["command"]
        .as_str()
        .unwrap()
        .replace("${__dirname}", &w.windows_path(&dir));
    let args: Vec<&str> = config["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args, ["mcp", "all"]);
    let s = TestClient::named("claude-ai", "0.14.1")
        .connect_command(w.command(&command, &args))
        .await;
    let mut offered: Vec<String> = s
        .service
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    offered.sort();
    let mut listed: Vec<String> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        offered, listed,
        "the manifest lists what the Windows server offers"
    );
    s.ok(
        "memory_set",
        json!({"key": "proj-x/auth-approach", "value": {"method": "JWT"}}),
    )
    .await;
    s.close().await;

    let code = TestClient::named("claude-code", "2.1.332")
        .connect_command(w.command(w.tandem_windows(), &["mcp", "memory"]))
        .await;
    let got = code
        .ok("memory_get", json!({"keys": ["proj-x/auth-approach"]}))
        .await;
    assert_eq!(got["entries"][0]["value"]["method"], "JWT", "{got}");
    assert_eq!(got["entries"][0]["updatedBy"], "claude-ai 0.14.1", "{got}");
}
