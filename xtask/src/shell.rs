//! Running commands: echo them, inherit the terminal, fail with the command line.

use std::{process::Command, sync::Mutex};

use crate::{Result, root};

/// Variables set for every command started from here on (see [`set_env`]).
static ENV: Mutex<Vec<(&str, &str)>> = Mutex::new(Vec::new());

/// Sets `key=value` for every command this process starts from now on, cargo and the tools
/// that run cargo (the Tauri CLI) alike.
pub fn set_env(key: &'static str, value: &'static str) {
    if let Ok(mut env) = ENV.lock() {
        env.push((key, value));
    }
}

pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = command(
        &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        args,
    );
    cmd.current_dir(root());
    cmd
}

pub fn command(program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Ok(env) = ENV.lock() {
        cmd.envs(env.iter().copied());
    }
    cmd
}

/// Runs `cmd` to completion with the terminal attached.
pub fn step(name: &str, mut cmd: Command) -> Result {
    println!("xtask: {name}: {}", describe(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: could not start {}: {e}", describe(&cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({status}): {}", describe(&cmd)))
    }
}

/// Runs `cmd` quietly and returns whether it succeeded.
pub fn succeeds(mut cmd: Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
