//! Windows, as far as a Linux machine allows: `tandem.exe` cross-built with MinGW (debug is
//! enough for the suite), and Wine to run it — Debian's `wine64`, headless, in a prefix made
//! fresh for each test run and removed after. The tests copy that prefix for each test (its
//! system folder hard-linked), since Wine sets `%APPDATA%` and `%USERPROFILE%` from the prefix,
//! not from the environment.
//!
//! Wine 8.0 lacks `bcryptprimitives.dll`, whose `ProcessPrng` every Rust >= 1.78 Windows binary
//! imports: `tests/windows/bcryptprimitives.c` is a stand-in built here and put beside the
//! executables; `tests/windows/hold.c` holds a file open without sharing it. Both are test
//! scaffolding, never shipped.

use std::path::{Path, PathBuf};

use crate::{Result, prereq, root, shell, target_dir};

pub const TARGET: &str = "x86_64-pc-windows-gnu";
/// Where Debian's `wine64` package puts its loader (not on PATH).
const WINE: &str = "/usr/lib/wine/wine64";
const WINESERVER: &str = "/usr/lib/wine/wineserver";

/// What the Windows end-to-end tests read from the environment.
pub const BIN_ENV: &str = "TANDEM_TEST_WINDOWS_BIN";
pub const WINE_ENV: &str = "TANDEM_TEST_WINE";
pub const PREFIX_ENV: &str = "TANDEM_TEST_WINE_PREFIX";
pub const CLAUDE_ENV: &str = "TANDEM_TEST_WINDOWS_CLAUDE";

/// Builds `tandem.exe` (debug) and the stand-in DLL beside it; returns the executable.
pub fn build() -> Result<PathBuf> {
    prereq::rustup_target(TARGET)?;
    prereq::apt_packages(&["gcc-mingw-w64-x86-64"])?;
    shell::step(
        "build tandem.exe (Windows, MinGW)",
        shell::cargo(&["build", "--target", TARGET, "-p", "tandem-cli"]),
    )?;
    let dir = target_dir().join(TARGET).join("debug");
    let src = root().join("tests/windows");
    let dll = dir.join("bcryptprimitives.dll");
    let mut gcc = shell::command(
        "x86_64-w64-mingw32-gcc",
        &[
            "-shared",
            "-O2",
            "-o",
            &dll.to_string_lossy(),
            &src.join("bcryptprimitives.c").to_string_lossy(),
            &src.join("bcryptprimitives.def").to_string_lossy(),
            "-ladvapi32",
        ],
    );
    gcc.current_dir(&dir);
    shell::step("build the ProcessPrng stand-in (test scaffolding)", gcc)?;
    let hold = dir.join("hold.exe");
    let gcc = shell::command(
        "x86_64-w64-mingw32-gcc",
        &[
            "-municode",
            "-O2",
            "-o",
            &hold.to_string_lossy(),
            &src.join("hold.c").to_string_lossy(),
        ],
    );
    shell::step("build the file holder (test scaffolding)", gcc)?;
    Ok(dir.join("tandem.exe"))
}

/// A fresh Wine prefix for this run, its path exported for the tests with the loader and the
/// binary. [`stop`] ends its Wine server and removes it.
pub fn start(exe: &Path) -> Result<PathBuf> {
    prereq::apt_packages(&["wine64"])?;
    let prefix = target_dir().join("wine/prefix");
    remove(&prefix)?;
    std::fs::create_dir_all(prefix.parent().unwrap_or(&prefix))
        .map_err(|e| format!("creating {}: {e}", prefix.display()))?;
    // The prefix links the user's folders (Documents, …) to $HOME: give it a home of its own.
    let home = target_dir().join("wine/home");
    std::fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    let mut boot = shell::command(WINE, &["wineboot", "--init"]);
    boot.env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko installers: nothing here needs .NET or a browser engine.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("HOME", &home);
    shell::step("make a Wine prefix for this run", boot)?;
    let mut wait = shell::command(WINESERVER, &["--wait"]);
    wait.env("WINEPREFIX", &prefix);
    shell::step("wait for Wine to settle", wait)?;
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    shell::set_env(WINE_ENV, WINE);
    shell::set_env(PREFIX_ENV, leak(prefix.to_string_lossy().into_owned()));
    shell::set_env(BIN_ENV, leak(exe.to_string_lossy().into_owned()));
    shell::set_env(
        CLAUDE_ENV,
        leak(claude_cli()?.to_string_lossy().into_owned()),
    );
    Ok(prefix)
}

/// Ends the prefix's Wine server and removes the prefix (about 700 MB).
pub fn stop(prefix: &Path) -> Result {
    let mut kill = shell::command(WINESERVER, &["--kill"]);
    kill.env("WINEPREFIX", prefix);
    let _ = kill.status();
    remove(prefix)
}

fn remove(dir: &Path) -> Result {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

/// The real Windows Claude Code CLI, at the version the tests pin for the Linux one
/// (`tests/js/package.json`), unpacked from npm with the stand-in DLL beside it (its `npm
/// install` step would write the main package's own `bin/claude.exe`, so the platform package
/// is fetched on its own). Fetched once per version.
pub fn claude_cli() -> Result<PathBuf> {
    let manifest = std::fs::read_to_string(root().join("tests/js/package.json"))
        .map_err(|e| format!("reading tests/js/package.json: {e}"))?;
    let pin = "\"@anthropic-ai/claude-code\": \"";
    let version = manifest
        .split_once(pin)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_string())
        .ok_or("tests/js/package.json pins no @anthropic-ai/claude-code")?;
    let dir = target_dir().join("npm-win").join(&version);
    let exe = dir.join("package/claude.exe");
    if !exe.is_file() {
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let spec = format!("@anthropic-ai/claude-code-win32-x64@{version}");
        let mut pack = shell::command("npm", &["pack", &spec, "--loglevel=error"]);
        pack.current_dir(&dir);
        shell::step("fetch the Windows Claude Code CLI (npm)", pack)?;
        let tarball = format!("anthropic-ai-claude-code-win32-x64-{version}.tgz");
        let mut untar = shell::command("tar", &["xzf", &tarball]);
        untar.current_dir(&dir);
        shell::step("unpack the Windows Claude Code CLI", untar)?;
        let _ = std::fs::remove_file(dir.join(&tarball));
    }
    let dll = target_dir().join(TARGET).join("debug/bcryptprimitives.dll");
    std::fs::copy(&dll, dir.join("package/bcryptprimitives.dll"))
        .map_err(|e| format!("copying the stand-in DLL: {e}"))?;
    Ok(exe)
}
