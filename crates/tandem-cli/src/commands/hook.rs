//! `tandem hook session-start | prompt`: Claude Code's hooks, as the plugin runs them. Each reads
//! the hook's JSON from stdin (only `session_id` matters), works within a time limit of its
//! own, and prints Claude Code's hook JSON — or nothing. Whatever goes wrong (no stdin, bad
//! JSON, unreadable state, too slow), it prints nothing and exits 0: a hook never blocks a
//! session or a prompt. The news itself is [`tandem_store::news`].

use std::{
    io::{Read, Write},
    process::ExitCode,
    sync::mpsc,
    time::Duration,
};

use serde_json::{Value, json};
use tandem_store::{
    Home,
    news::{self, Sessions},
};

use crate::cli::HookEvent;

/// The most stdin a hook reads (Claude Code sends a few hundred bytes).
const STDIN_MAX: u64 = 1024 * 1024;

impl HookEvent {
    /// Claude Code's name for the event.
    fn name(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "SessionStart",
            HookEvent::Prompt => "UserPromptSubmit",
        }
    }

    /// Well under the plugin's `timeout`, so that Claude Code never has to kill the hook.
    fn limit(self) -> Duration {
        match self {
            HookEvent::SessionStart => Duration::from_secs(5),
            HookEvent::Prompt => Duration::from_secs(2),
        }
    }
}

pub fn run(home: &Home, event: HookEvent) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    let home = home.clone();
    let worker = std::thread::Builder::new()
        .name("tandem-hook".into())
        .spawn(move || {
            let _ = tx.send(context(&home, event));
        });
    if worker.is_err() {
        return ExitCode::SUCCESS;
    }
    if let Ok(Some(text)) = rx.recv_timeout(event.limit()) {
        let out = json!({
            "hookSpecificOutput": {
                "hookEventName": event.name(),
                "additionalContext": text,
            }
        });
        // A closed pipe is not worth an error in a hook.
        let _ = writeln!(std::io::stdout().lock(), "{out}");
    }
    // A worker still stuck on a lock is left behind: the process exits.
    ExitCode::SUCCESS
}

/// The context to add, if any.
fn context(home: &Home, event: HookEvent) -> Option<String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(STDIN_MAX)
        .read_to_end(&mut input)
        .ok()?;
    let input: Value = serde_json::from_slice(&input).ok()?;
    let session = input.get("session_id")?.as_str()?;
    let sessions = Sessions::new(home);
    let text = match event {
        HookEvent::SessionStart => {
            let _ = sessions.save(session, &news::now(home));
            tandem_store::brief::brief(home)
        }
        HookEvent::Prompt => {
            let Some(seen) = sessions.load(session) else {
                // A session Tandem has not seen start: news begins now.
                let _ = sessions.save(session, &news::now(home));
                return None;
            };
            // What this session's own servers wrote is left out (where that can be told).
            let own = tandem_store::origin::client_process();
            let (text, next) = news::since(home, &seen, own.as_deref());
            if next != seen {
                let _ = sessions.save(session, &next);
            }
            text
        }
    };
    (!text.is_empty()).then_some(text)
}
