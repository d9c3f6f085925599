//! The pinned npm tools: node scripts with the official TypeScript SDK, and the real
//! `claude` CLI.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::Value;
use tokio::process::Command;

use crate::*;

/// Where `cargo xtask test` installs the pinned npm packages.
pub fn npm_dir() -> PathBuf {
    let dir = target_profile_dir().parent().expect("target").join("npm");
    assert!(
        dir.join("node_modules").exists(),
        "{} has no node_modules: run `cargo xtask test` (it installs the pinned npm clients)",
        dir.display()
    );
    dir
}

/// Runs one of the scripts in `tests/js/` with node, from the npm folder so that its imports
/// resolve to the pinned packages. Returns the parsed JSON the script prints last.
pub async fn run_node_script(
    home: &TestHome,
    script: &str,
    args: &[&str],
    extra_env: &BTreeMap<String, String>,
) -> Value {
    let npm = npm_dir();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("js")
        .join(script);
    let dest = npm.join(script);
    std::fs::copy(&source, &dest).unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
    let output = Command::new("node")
        .arg(&dest)
        .args(args)
        .envs(home.env())
        .envs(extra_env)
        .env("TANDEM_BIN", tandem_bin())
        .current_dir(&npm)
        .kill_on_drop(true)
        .output()
        .await
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("{}");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// Runs the real Claude Code CLI's `claude mcp list` (it starts or connects to every
/// configured server) in this home; returns its standard output.
pub async fn claude_mcp_list(home: &TestHome, extra_env: &[(&str, &str)]) -> String {
    let output = claude(home, &["mcp", "list"], extra_env).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!(
        "claude mcp list:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the pinned `claude` CLI with `args` in `home`, from the user's home folder.
pub async fn claude(
    home: &TestHome,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let claude = npm_dir().join("node_modules/.bin/claude");
    tokio::time::timeout(
        Duration::from_secs(180),
        Command::new(&claude)
            .args(args)
            .envs(home.env())
            .envs(extra_env.iter().copied())
            // No update checks, telemetry or other traffic from a test.
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .current_dir(home.user_home())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("claude {args:?} timed out"))
    .expect("running claude")
}

/// Panics unless `claude mcp list` printed `name` as connected.
#[track_caller]
pub fn assert_connected(listing: &str, name: &str) {
    let line = listing
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("{name} not listed:\n{listing}"));
    assert!(
        line.contains("Connected") && !line.contains("Failed"),
        "{name} is not connected: {line}"
    );
}
