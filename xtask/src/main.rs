//! `cargo xtask run | test | bench`: set-up, build and orchestration in plain Rust, so the
//! same two commands work on every machine with nothing but cargo.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

mod bench;
mod prereq;
mod shell;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run                 build Tandem and start it (prints how to connect clients)
  test                install what the tests need, then fmt, a Windows check,
                      clippy and every test
  bench [memory|workspace|hub|all]
                      benchmark Tandem against the reference servers, same client
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => run(),
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

fn test() -> Result {
    let started = std::time::Instant::now();
    prereq::npm_packages()?;
    shell::step("format", shell::cargo(&["fmt", "--all", "--check"]))?;
    windows_check()?;
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
    )?;
    shell::step("build tandem", shell::cargo(&["build", "-p", "tandem-cli"]))?;
    let tests = if prereq::has_nextest() {
        shell::cargo(&["nextest", "run", "--workspace", "--no-fail-fast"])
    } else {
        shell::cargo(&["test", "--workspace", "--no-fail-fast"])
    };
    shell::step("tests", tests)?;
    println!("xtask: all green in {:.0?}", started.elapsed());
    Ok(())
}

/// The crates without a GUI must build for Windows: a `check` (no codegen, no link) against
/// the MinGW target catches Windows-only paths and code that does not compile; the bundled
/// SQLite's build script needs the MinGW C compiler.
const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";
const WINDOWS_CRATES: [&str; 4] = ["tandem-store", "tandem-mcp", "tandem-clients", "tandem-cli"];

fn windows_check() -> Result {
    prereq::rustup_target(WINDOWS_TARGET)?;
    prereq::apt_packages(&["gcc-mingw-w64-x86-64"])?;
    let mut args = vec!["check", "--target", WINDOWS_TARGET];
    for krate in WINDOWS_CRATES {
        args.extend(["-p", krate]);
    }
    shell::step("check for Windows", shell::cargo(&args))
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

fn run() -> Result {
    let bin = build_dist_tandem()?;
    let bin = bin.display();
    println!(
        "\nTandem is built: {bin}\n\n\
         Its state lives in $TANDEM_HOME when set, else in your data folder (memory.db).\n\n\
         Connect a client by adding these entries to its MCP configuration:\n\n\
         Claude Desktop (claude_desktop_config.json, then quit and reopen Claude):\n\
         {{\n  \"mcpServers\": {{\n    \"tandem-memory\": {{ \"command\": \"{bin}\", \"args\": [\"mcp\", \"memory\"] }}\n  }}\n}}\n\n\
         Claude Code:\n  claude mcp add --scope user tandem-memory -- {bin} mcp memory\n\n\
         Or talk to it directly (one JSON-RPC message per line):\n  {bin} mcp memory\n"
    );
    Ok(())
}
