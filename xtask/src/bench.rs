//! `cargo xtask bench`: Tandem and the reference servers through the same client (the official
//! TypeScript SDK) in one run; prints p50/p99, cold start, peak RSS and ratios.

use std::path::Path;

use crate::{Result, prereq, root, shell, target_dir};

pub fn run(which: &str) -> Result {
    if which == "app" {
        return crate::app::bench();
    }
    let suites: &[&str] = match which {
        "all" => &["memory", "workspace", "hub", "hook"],
        "memory" => &["memory"],
        "workspace" => &["workspace"],
        "hub" => &["hub"],
        "hook" => &["hook"],
        other => {
            return Err(format!(
                "unknown benchmark {other:?}; try: memory, workspace, hub, hook, app, all"
            ));
        }
    };
    prereq::npm_packages()?;
    let bin = crate::build_dist_tandem()?;
    let npm = target_dir().join("npm");
    for suite in suites {
        let script = format!("bench-{suite}.mjs");
        std::fs::copy(root().join("tests/js").join(&script), npm.join(&script))
            .map_err(|e| format!("copying {script}: {e}"))?;
        let work = target_dir().join("bench").join(suite);
        if *suite == "hub" {
            hub(&bin, &npm, &script, &work)?;
            continue;
        }
        let work = work.to_string_lossy();
        // Memory and the hook also run on a team store, over loopback.
        let mut node = if matches!(*suite, "memory" | "hook") {
            crate::under_postgres("node", &[&script, &work])?
        } else {
            shell::command("node", &[&script, &work])
        };
        node.current_dir(&npm).env("TANDEM_BIN", &bin);
        shell::step(&format!("bench {suite}"), node)?;
    }
    Ok(())
}

/// Starts a hub in a scratch home, runs the load against it, stops it.
fn hub(bin: &Path, npm: &Path, script: &str, work: &Path) -> Result {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    let mut hub = std::process::Command::new(bin)
        .args(["serve", "--port", &port.to_string()])
        .env("TANDEM_HOME", work)
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the hub: {e}"))?;
    let token_file = work.join("hub.token");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !token_file.exists() || std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            let _ = hub.kill();
            return Err("the hub did not start".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let token =
        std::fs::read_to_string(&token_file).map_err(|e| format!("reading the token: {e}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let mut node = shell::command("node", &[script, &base, token.trim()]);
    node.current_dir(npm);
    let result = shell::step("bench hub", node);
    let _ = hub.kill();
    let _ = hub.wait();
    result
}
