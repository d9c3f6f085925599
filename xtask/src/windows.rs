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
    scaffolding()?;
    Ok(target_dir().join(TARGET).join("debug/tandem.exe"))
}

/// The test scaffolding beside the debug `tandem.exe`: the `ProcessPrng` stand-in and the file
/// holder (see the top of this file).
fn scaffolding() -> Result {
    let dir = target_dir().join(TARGET).join("debug");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
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
    Ok(())
}

/// Type-checks (and lints) the tray app for Windows, with the debug `tandem.exe` as its
/// sidecar: a full Windows build of the app is `cargo xtask bundle`'s, not every run's.
pub fn check_app(exe: &Path) -> Result {
    crate::app::place_sidecar(exe, TARGET, ".exe")?;
    shell::step(
        "check the tray app for Windows",
        shell::cargo(&[
            "clippy",
            "--target",
            TARGET,
            "-p",
            "tandem-app",
            "--",
            "-D",
            "warnings",
        ]),
    )
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
    make_prefix(&prefix, &home)?;
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

/// Makes a Wine prefix at `prefix` (headless, no Mono or Gecko), its user folders in `home`.
fn make_prefix(prefix: &Path, home: &Path) -> Result {
    let mut boot = shell::command(WINE, &["wineboot", "--init"]);
    boot.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko installers: nothing here needs .NET or a browser engine.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("HOME", home);
    shell::step("make a Wine prefix", boot)?;
    let mut wait = shell::command(WINESERVER, &["--wait"]);
    wait.env("WINEPREFIX", prefix);
    shell::step("wait for Wine to settle", wait)
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

/// `cargo xtask bundle`'s Windows part: the tray app cross-built for Windows and packed as
/// `tandem-<version>-windows-x64.zip` with its sidecar `tandem.exe`, `WebView2Loader.dll` (the
/// GNU build loads it at run time), the Claude Code plugin and a README. No installer: Tauri's
/// NSIS step downloads its plugin DLL from GitHub, which the build machines cannot reach.
pub fn bundle(release: bool) -> Result<PathBuf> {
    prereq::rustup_target(TARGET)?;
    prereq::apt_packages(&["gcc-mingw-w64-x86-64"])?;
    let (cli_profile, app_profile) = if release {
        ("dist", "release")
    } else {
        ("debug", "debug")
    };
    let mut build = vec!["build", "--target", TARGET, "-p", "tandem-cli"];
    if release {
        build.extend(["--profile", "dist"]);
    }
    shell::step("build tandem.exe (Windows)", shell::cargo(&build))?;
    let tandem = target_dir()
        .join(TARGET)
        .join(cli_profile)
        .join("tandem.exe");
    crate::app::place_sidecar(&tandem, TARGET, ".exe")?;
    // Through the Tauri CLI, which builds the app as `tauri build` does (assets embedded); no
    // installer.
    let cli = target_dir().join("npm/node_modules/@tauri-apps/cli/tauri.js");
    let cli = cli.to_string_lossy();
    let mut args = vec![&*cli, "build", "--ci", "--no-bundle", "--target", TARGET];
    if !release {
        args.push("--debug");
    }
    let mut tauri = shell::command("node", &args);
    tauri
        .current_dir(root().join("src-tauri"))
        .env("CARGO_TARGET_DIR", target_dir());
    shell::step(&format!("tauri build (Windows, {app_profile})"), tauri)?;

    let built = target_dir().join(TARGET).join(app_profile);
    let out = built.join("bundle/zip");
    let stage = out.join("Tandem");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)
            .map_err(|e| format!("emptying {}: {e}", stage.display()))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| format!("creating {}: {e}", stage.display()))?;
    for (from, to) in [
        (built.join("tandem-app.exe"), "tandem-app.exe"),
        (tandem.clone(), "tandem.exe"),
        (built.join("WebView2Loader.dll"), "WebView2Loader.dll"),
    ] {
        copy_file(&from, &stage.join(to))?;
    }
    // Where the app and `tandem install --plugin` look for the plugin: beside the executables,
    // as the Tauri resources put it in the other packages.
    for (from, to) in [
        (".claude-plugin", "claude-plugin/.claude-plugin"),
        (
            "integrations/claude-code",
            "claude-plugin/integrations/claude-code",
        ),
    ] {
        copy_tree(&root().join(from), &stage.join(to))?;
    }
    // Notepad's line breaks.
    let readme = std::fs::read_to_string(root().join("integrations/windows/README.txt"))
        .map_err(|e| format!("reading integrations/windows/README.txt: {e}"))?;
    std::fs::write(stage.join("README.txt"), readme.replace('\n', "\r\n"))
        .map_err(|e| format!("writing README.txt: {e}"))?;

    let zip = out.join(format!(
        "tandem-{}-windows-x64.zip",
        env!("CARGO_PKG_VERSION")
    ));
    let _ = std::fs::remove_file(&zip);
    // Python's archiver (deflated; `python3 -m zipfile` would store the files uncompressed).
    let base = zip.with_extension("");
    let pack = shell::command(
        "python3",
        &[
            "-c",
            "import shutil, sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2], 'Tandem')",
            &base.to_string_lossy(),
            &out.to_string_lossy(),
        ],
    );
    shell::step("pack the Windows zip", pack)?;
    let size = std::fs::metadata(&zip)
        .map_err(|e| format!("reading {}: {e}", zip.display()))?
        .len();
    println!(
        "xtask: {} ({:.1} MB)",
        zip.display(),
        size as f64 / 1_000_000.0
    );
    check_zip(&zip)?;
    Ok(zip)
}

/// The zip as a person uses it, under Wine and a virtual display: unpacked, the app started;
/// it starts and supervises its hub (`tandem.exe serve`, which answers on its port); a second
/// start leaves (one instance); and when the app is killed its hub goes with it (the Job
/// Object). The window is not opened: Wine has no WebView2.
fn check_zip(zip: &Path) -> Result {
    use std::{net::TcpStream, time::Duration};
    prereq::apt_packages(&["wine64", "xvfb"])?;
    let dir = target_dir().join("wine/zip-check");
    if dir.join("prefix").exists() {
        stop(&dir.join("prefix"))?;
    }
    remove(&dir)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let unpack = shell::command(
        "python3",
        &[
            "-m",
            "zipfile",
            "-e",
            &zip.to_string_lossy(),
            &dir.to_string_lossy(),
        ],
    );
    shell::step("unpack the Windows zip", unpack)?;
    let app = dir.join("Tandem");
    scaffolding()?;
    // Test scaffolding (see the top of this file), as for every tandem.exe run under Wine 8.
    let dll = target_dir().join(TARGET).join("debug/bcryptprimitives.dll");
    std::fs::copy(&dll, app.join("bcryptprimitives.dll"))
        .map_err(|e| format!("copying the stand-in DLL: {e}"))?;
    let prefix = dir.join("prefix");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    make_prefix(&prefix, &home)?;
    let display = crate::app::Xvfb::start()?;
    let port = free_port()?;
    let start = || {
        std::process::Command::new(WINE)
            .arg(app.join("tandem-app.exe"))
            .env("WINEPREFIX", &prefix)
            .env("WINEDEBUG", "-all")
            .env("DISPLAY", &display.name)
            .env("HOME", &home)
            .env("TANDEM_HUB_PORT", port.to_string())
            .env_remove("TANDEM_HOME")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting tandem-app.exe under Wine: {e}"))
    };
    let answers = || {
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
    };
    let within = |seconds: u64, what: &mut dyn FnMut() -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        while std::time::Instant::now() < deadline {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        what()
    };
    let mut first = start()?;
    let result = (|| -> Result {
        if !within(90, &mut || answers()) {
            return Err(format!(
                "the Windows app's hub never answered on port {port}"
            ));
        }
        println!("xtask: the Windows app started its hub (port {port})");
        let mut second = start()?;
        let left = within(60, &mut || matches!(second.try_wait(), Ok(Some(_))));
        let _ = second.kill();
        let _ = second.wait();
        if !left {
            return Err("a second Windows app did not leave (single instance)".into());
        }
        if !matches!(first.try_wait(), Ok(None)) {
            return Err("the first Windows app ended when the second started".into());
        }
        println!("xtask: a second start left the first running (one instance)");
        first
            .kill()
            .map_err(|e| format!("killing the Windows app: {e}"))?;
        let _ = first.wait();
        if !within(30, &mut || !answers()) {
            return Err("the hub outlived the killed Windows app (no Job Object?)".into());
        }
        println!("xtask: the hub went with the killed app (Job Object)");
        Ok(())
    })();
    let _ = first.kill();
    let _ = first.wait();
    drop(display);
    stop(&prefix)?;
    remove(&dir)?;
    result
}

/// A port nothing listens on now.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn copy_file(from: &Path, to: &Path) -> Result {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    crate::mcpb::copy(from, to)
}

fn copy_tree(from: &Path, to: &Path) -> Result {
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("reading {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", from.display()))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            copy_file(&path, &dest)?;
        }
    }
    Ok(())
}
