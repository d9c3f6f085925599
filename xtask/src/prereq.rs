//! Installs what the tests need when it is missing: Debian packages through apt, rustup
//! targets, the pinned npm clients (tests/js/package-lock.json) into target/npm.

use std::path::Path;

use crate::{Result, root, shell, target_dir};

pub fn has_nextest() -> bool {
    shell::succeeds(shell::cargo(&["nextest", "--version"]))
}

fn has(program: &str) -> bool {
    shell::succeeds(shell::command(program, &["--version"]))
}

/// Debian packages that are not installed yet, installed with apt (as root or through sudo).
pub fn apt_packages(packages: &[&str]) -> Result {
    if !cfg!(target_os = "linux") || !has("apt-get") {
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            let out = shell::command("dpkg-query", &["-W", "-f=${Status}", p]).output();
            !out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend_from_slice(args);
        let mut cmd = shell::command(all[0], &all[1..]);
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    shell::step("apt update", run(&["apt-get", "update", "-q"]))?;
    let mut install = vec!["apt-get", "install", "-y", "-q", "--no-install-recommends"];
    install.extend(&missing);
    shell::step("apt install", run(&install))
}

fn is_root() -> bool {
    shell::command("id", &["-u"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A rustup target, added when it is not installed yet.
pub fn rustup_target(target: &str) -> Result {
    let installed = shell::command("rustup", &["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add the {target} target: {e}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    shell::step(
        "rustup target add",
        shell::command("rustup", &["target", "add", target]),
    )
}

/// The pinned npm packages in target/npm, reinstalled only when the lock file changed.
pub fn npm_packages() -> Result {
    if !has("node") || !has("npm") {
        apt_packages(&["nodejs", "npm"])?;
    }
    let source = root().join("tests/js");
    let dest = target_dir().join("npm");
    let lock = read(&source.join("package-lock.json"))?;
    let stamp = dest.join(".installed-lock");
    if dest.join("node_modules").is_dir()
        && std::fs::read(&stamp).ok().as_deref() == Some(&lock[..])
    {
        return Ok(());
    }
    std::fs::create_dir_all(&dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), dest.join(file))
            .map_err(|e| format!("copying {file} into {}: {e}", dest.display()))?;
    }
    let mut ci = shell::command(
        "npm",
        &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
    );
    ci.current_dir(&dest);
    shell::step("npm ci (pinned interop clients)", ci)?;
    std::fs::write(&stamp, &lock).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}
