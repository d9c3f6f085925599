//! `tandem brief`: prints the brief ([`tandem_store::brief`]) for Claude Code's SessionStart
//! hook; prints nothing when there is nothing, and never fails loudly.

use std::{io::Write, process::ExitCode};

use tandem_store::Home;

use crate::cli::BriefArgs;

pub fn run(home: &Home, args: BriefArgs) -> ExitCode {
    let home = match args.home {
        None => home.clone(),
        Some(dir) => match Home::at(dir).with_settings() {
            Ok(home) => home,
            Err(_) => return ExitCode::SUCCESS,
        },
    };
    let text = tandem_store::brief::brief(&home);
    if !text.is_empty() {
        // A closed pipe or a full disk is not worth an error in a session hook.
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
    ExitCode::SUCCESS
}
