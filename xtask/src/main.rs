//! `cargo xtask run | test | bench`: set-up, build and orchestration in plain Rust, so the
//! same two commands work on every machine with nothing but cargo.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

mod app;
mod bench;
mod macos;
mod mcpb;
mod prereq;
mod shell;
mod windows;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run                 install the build packages, build Tandem and start the tray app
  check               the edit-test loop: fmt, clippy and every crate's unit tests
                      (no end-to-end tests, no bundle; a few minutes)
  test                install what the tests need, then fmt, clippy, the Windows build
                      (and a Windows check of the tray app), a macOS check of the CLI's
                      crates, every test (the tray app's WebDriver test among them; the
                      Windows suite under Wine) and the .deb install check
  bundle              the tray app as a .deb and an AppImage and, cross-built, as a
                      Windows zip; the Claude Desktop extension for Linux and Windows
                      (tandem-<version>-<os>-<arch>.mcpb); release builds
  bundle windows [debug]
                      the Windows zip alone (debug: from debug builds, quicker)
  mcpb [debug|dist]   the Desktop extension alone, from the debug build (what the tests
                      run) or the dist one
  bench [memory|workspace|hub|hook|app|all]
                      benchmark Tandem against the reference servers, same client;
                      `app`: the tray app's idle CPU and memory, window closed and open
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Tauri's AppImage step runs its `linuxdeploy`; ours is this program under that name.
    if app::is_linuxdeploy() {
        return match app::linuxdeploy(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("linuxdeploy (xtask stand-in): {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("check") => check(),
        Some("run") => app::run(),
        Some("bundle") => match (
            args.get(1).map(String::as_str),
            args.get(2).map(String::as_str),
        ) {
            (None, None) => bundle(),
            (Some("windows"), None) => windows::bundle(true).map(|_| ()),
            (Some("windows"), Some("debug")) => windows::bundle(false).map(|_| ()),
            _ => Err("bundle takes nothing, `windows` or `windows debug`".to_string()),
        },
        Some("mcpb") => match args.get(1).map(String::as_str) {
            None | Some("debug") => mcpb::pack("debug").map(|_| ()),
            Some("dist") => build_dist_tandem().and_then(|_| mcpb::pack("dist").map(|_| ())),
            Some(other) => Err(format!("mcpb takes debug or dist, not {other:?}")),
        },
        Some("bench") => bench::run(args.get(1).map(String::as_str).unwrap_or("all")),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The shared target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        None => root().join("target"),
    }
}

fn check() -> Result {
    let started = std::time::Instant::now();
    // The app's build script and its unit tests need the sidecar.
    app::sidecar(false)?;
    format_and_clippy()?;
    let units = if prereq::has_nextest() {
        with_postgres(&["nextest", "run", "--workspace", "--lib", "--bins"])?
    } else {
        with_postgres(&["test", "--workspace", "--lib", "--bins"])?
    };
    shell::step("unit tests", units)?;
    println!(
        "xtask: checked in {:.0?} (`cargo xtask test` runs everything)",
        started.elapsed()
    );
    Ok(())
}

/// `cargo <args>` with a throw-away PostgreSQL for the team-store tests: Debian's
/// `pg_virtualenv` makes a cluster in a temporary folder (as root too), exports `PGHOST`,
/// `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE` to the command, and drops the cluster when
/// it ends.
fn with_postgres(args: &[&str]) -> Result<std::process::Command> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    under_postgres(&cargo, args)
}

/// `program args` under a throw-away PostgreSQL (Debian's `pg_virtualenv -t`: settings in
/// `PG*`, the cluster dropped after).
pub fn under_postgres(program: &str, args: &[&str]) -> Result<std::process::Command> {
    // iproute2: the team tests cut a network namespace of their own off the database.
    prereq::apt_packages(&["postgresql", "iproute2"])?;
    let mut all = vec!["-t", program];
    all.extend_from_slice(args);
    let mut cmd = shell::command("pg_virtualenv", &all);
    cmd.current_dir(root());
    Ok(cmd)
}

/// `cargo fmt --check`, then clippy over every target with warnings as errors.
fn format_and_clippy() -> Result {
    shell::step("format", shell::cargo(&["fmt", "--all", "--check"]))?;
    shell::step(
        "clippy",
        shell::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

/// `cargo xtask bundle`: everything a person installs, from release builds.
fn bundle() -> Result {
    app::bundle(true)?;
    build_dist_tandem()?;
    // Windows: the tray app as a zip, and the dist tandem.exe the Windows extension carries.
    windows::bundle(true)?;
    mcpb::pack("dist")?;
    Ok(())
}

fn test() -> Result {
    let started = std::time::Instant::now();
    // The suite builds each crate once from a clean tree: incremental compilation's caches
    // would only take disk (a third of the debug tree) and time. Not on Windows: the changed
    // flag rebuilds xtask, and Windows cannot replace the running xtask.exe.
    if cfg!(not(windows)) && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        shell::set_env("CARGO_INCREMENTAL", "0");
    }
    prereq::npm_packages()?;
    app::test_prereqs()?;
    // The tray app bundles `tandem` as a sidecar: it must exist before the app builds (and
    // before clippy runs its build script).
    app::sidecar(false)?;
    format_and_clippy()?;
    // Windows: `tandem.exe` cross-built (which also checks the crates under it compile there),
    // run under Wine by the Windows end-to-end tests.
    let windows_exe = windows::build()?;
    windows::check_app(&windows_exe)?;
    // macOS: the CLI's crates type-checked and linted (nothing links without Apple's SDK).
    macos::check()?;
    // Binaries and tests in one build with one feature resolution, so that the test run
    // reuses it (the end-to-end tests drive target/debug/tandem and tandem-app).
    shell::step(
        "build",
        shell::cargo(&["build", "--workspace", "--all-targets"]),
    )?;
    // The Desktop extension's end-to-end test unpacks and runs the bundle as Desktop would: it
    // packs the debug binary, which the build just made.
    mcpb::pack("debug")?;
    // Before the test command is made: it takes the variables that say where Wine is.
    let prefix = windows::start(&windows_exe)?;
    let tests = if prereq::has_nextest() {
        with_postgres(&["nextest", "run", "--workspace", "--no-fail-fast"])?
    } else {
        with_postgres(&["test", "--workspace", "--no-fail-fast"])?
    };
    let ran = shell::step("tests", tests);
    windows::stop(&prefix)?;
    ran?;
    if cfg!(target_os = "linux") {
        let bundling = std::time::Instant::now();
        let deb = app::bundle(false)?;
        app::check_deb(&deb)?;
        println!("xtask: bundle and .deb check in {:.0?}", bundling.elapsed());
    }
    println!("xtask: all green in {:.0?}", started.elapsed());
    Ok(())
}

/// Builds the `tandem` binary people run (profile `dist`: release with fat LTO) and returns
/// its path.
pub fn build_dist_tandem() -> Result<std::path::PathBuf> {
    shell::step(
        "build tandem (dist: release + LTO)",
        shell::cargo(&["build", "--profile", "dist", "-p", "tandem-cli"]),
    )?;
    Ok(target_dir()
        .join("dist")
        .join(format!("tandem{}", std::env::consts::EXE_SUFFIX)))
}
