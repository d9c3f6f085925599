//! `cargo xtask bench`: Tandem and the reference servers through the same client (the official
//! TypeScript SDK) in one run; prints p50/p99, cold start, peak RSS and ratios.

use crate::{Result, prereq, root, shell, target_dir};

pub fn run(which: &str) -> Result {
    let suites: &[&str] = match which {
        "all" => &["memory", "workspace"],
        "memory" => &["memory"],
        "workspace" => &["workspace"],
        other => {
            return Err(format!(
                "unknown benchmark {other:?}; try: memory, workspace, all"
            ));
        }
    };
    prereq::npm_packages()?;
    shell::step(
        "build tandem (release)",
        shell::cargo(&["build", "--release", "-p", "tandem-cli"]),
    )?;
    let bin = target_dir()
        .join("release")
        .join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    let npm = target_dir().join("npm");
    for suite in suites {
        let script = format!("bench-{suite}.mjs");
        std::fs::copy(root().join("tests/js").join(&script), npm.join(&script))
            .map_err(|e| format!("copying {script}: {e}"))?;
        let work = target_dir().join("bench").join(suite);
        let mut node = shell::command("node", &[&script, &work.to_string_lossy()]);
        node.current_dir(&npm).env("TANDEM_BIN", &bin);
        shell::step(&format!("bench {suite}"), node)?;
    }
    Ok(())
}
