//! Claude Code's SessionStart hook that runs `tandem brief`, so that a new coding session
//! starts knowing what Desktop handed over. It lives in `~/.claude/settings.json` (hooks are
//! not read from `~/.claude.json`) and goes through the same plan, diff, backup and
//! compare-and-swap path as server entries; a malformed file is refused the same way.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::{
    catalog::{self, ClientId},
    edit::ConfigDoc,
    entry::is_tandem_binary,
    error::Result,
    install::{Edit, EntryAction, EntryChange, Facts, Installer, Op, Plan, finish},
    state::FileRecord,
    writer,
};

/// How the hook shows up in a plan's entry changes.
pub const HOOK_ENTRY: &str = "SessionStart hook";
/// Every way a session starts: new, resumed, after `/clear`, after compaction (which drops
/// what an earlier brief said).
pub const MATCHER: &str = "startup|resume|clear|compact";
/// Seconds Claude Code waits for the brief; it takes milliseconds, but a session must never
/// hang on it.
pub const TIMEOUT_SECS: u64 = 10;

/// The hook's shell command: the binary's absolute path, quoted when the shell needs it
/// (Claude Code runs hooks with a POSIX shell, Git Bash on Windows, hence forward slashes
/// there), then `brief`, then `--home DIR` when Tandem's state is not in its default place.
pub fn brief_command(binary: &Path, home: Option<&Path>) -> String {
    let mut command = format!("{} brief", shell_word(binary));
    if let Some(home) = home {
        command.push_str(" --home ");
        command.push_str(&shell_word(home));
    }
    command
}

fn shell_word(path: &Path) -> String {
    let mut path = path.to_string_lossy().into_owned();
    if path.contains('\\') && path.chars().nth(1) == Some(':') {
        path = path.replace('\\', "/");
    }
    let plain = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c));
    if plain {
        return path;
    }
    let mut quoted = String::from('"');
    for c in path.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Splits a shell command into its program (unquoted) and the rest.
fn program_and_rest(command: &str) -> Option<(String, &str)> {
    let command = command.trim_start();
    let mut program = String::new();
    let mut chars = command.char_indices();
    let end = match command.chars().next()? {
        quote @ ('"' | '\'') => {
            chars.next();
            let mut end = None;
            let mut escaped = false;
            for (i, c) in chars {
                if escaped {
                    program.push(c);
                    escaped = false;
                } else if c == '\\' && quote == '"' {
                    escaped = true;
                } else if c == quote {
                    end = Some(i + 1);
                    break;
                } else {
                    program.push(c);
                }
            }
            end?
        }
        _ => {
            let end = command.find(char::is_whitespace).unwrap_or(command.len());
            program.push_str(&command[..end]);
            end
        }
    };
    Some((program, &command[end..]))
}

/// Whether a hook command is Tandem's brief (any Tandem binary, wherever it is).
pub fn is_brief_command(command: &str) -> bool {
    program_and_rest(command).is_some_and(|(program, rest)| {
        is_tandem_binary(&program) && rest.split_whitespace().next() == Some("brief")
    })
}

/// The program a brief hook runs, if `command` is one.
pub fn brief_program(command: &str) -> Option<PathBuf> {
    let (program, _) = program_and_rest(command).filter(|_| is_brief_command(command))?;
    Some(PathBuf::from(program))
}

fn group(command: &str) -> Value {
    json!({
        "matcher": MATCHER,
        "hooks": [{"type": "command", "command": command, "timeout": TIMEOUT_SECS}],
    })
}

/// The edit for [`Op::SessionHook`]: add (or repoint) Tandem's hook, or remove it together
/// with whatever Tandem created around it.
pub(crate) fn compute(
    old: Option<&[u8]>,
    mut doc: ConfigDoc,
    op: &Op,
    command: Option<&str>,
    record: Option<&FileRecord>,
) -> Result<Edit> {
    let ours: Vec<_> = doc
        .session_hooks()
        .into_iter()
        .filter(|h| is_brief_command(&h.command))
        .collect();
    let mut facts = Facts::default();
    let action = match command {
        Some(wanted) => {
            if ours.iter().any(|h| h.command == wanted) {
                EntryAction::Keep
            } else if let Some(first) = ours.first() {
                doc.set_session_hook_command(first, wanted);
                EntryAction::Update
            } else {
                let (created_hooks, created_list) = doc.add_session_group(&group(wanted));
                facts.created_file = old.is_none();
                facts.created_container = created_hooks;
                facts.created_hook_list = created_list;
                EntryAction::Add
            }
        }
        None if ours.is_empty() => EntryAction::Absent,
        None => {
            doc.remove_session_hooks(&ours);
            if record.is_some_and(|r| r.created_hook_list) {
                doc.remove_empty_session_start();
            }
            if record.is_some_and(|r| r.created_container) && doc.container_is_empty() {
                doc.remove_container();
            }
            facts.removed.push(HOOK_ENTRY.to_string());
            EntryAction::Remove
        }
    };
    let entries = vec![EntryChange {
        name: HOOK_ENTRY.to_string(),
        action,
    }];
    if matches!(action, EntryAction::Keep | EntryAction::Absent) {
        return Ok(Edit {
            new: old.map(<[u8]>::to_vec),
            entries,
            facts,
        });
    }
    finish(ClientId::ClaudeCode, old, &doc, op, record, entries, facts)
}

impl Installer {
    /// Claude Code's user settings file, where the hook goes.
    pub fn session_hook_path(&self) -> PathBuf {
        catalog::claude_code_settings_path(self.host())
    }

    /// Plans adding the SessionStart hook that runs `binary brief` (with `--home` when given),
    /// or pointing Tandem's existing hook at it. Nothing is written.
    pub fn plan_session_hook(&self, binary: &Path, home: Option<&Path>) -> Result<Plan> {
        let op = Op::SessionHook {
            command: Some(brief_command(binary, home)),
        };
        self.plan_files(
            ClientId::ClaudeCode,
            vec![self.session_hook_path()],
            op,
            Vec::new(),
        )
    }

    /// Plans removing Tandem's SessionStart hook (and only it). Nothing is written.
    pub fn plan_remove_session_hook(&self) -> Result<Plan> {
        let op = Op::SessionHook { command: None };
        self.plan_files(
            ClientId::ClaudeCode,
            vec![self.session_hook_path()],
            op,
            Vec::new(),
        )
    }

    /// The command of Tandem's SessionStart hook, if one is installed.
    pub fn session_hook(&self) -> Result<Option<String>> {
        let path = self.session_hook_path();
        let target = writer::resolve(&path);
        if !target.is_file() {
            return Ok(None);
        }
        let (_, doc) = writer::read_settled(&target, |b| ConfigDoc::parse_settings(&path, b))?;
        Ok(doc
            .session_hooks()
            .into_iter()
            .map(|h| h.command)
            .find(|c| is_brief_command(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_only_when_the_shell_needs_it() {
        assert_eq!(
            brief_command(Path::new("/usr/local/bin/tandem"), None),
            "/usr/local/bin/tandem brief"
        );
        assert_eq!(
            brief_command(Path::new("/Applications/Tandem App/tandem"), None),
            "\"/Applications/Tandem App/tandem\" brief"
        );
        assert_eq!(
            brief_command(Path::new(r"C:\Program Files\Tandem\tandem.exe"), None),
            "\"C:/Program Files/Tandem/tandem.exe\" brief"
        );
        assert_eq!(
            brief_command(Path::new("/a/$x`y\"z/tandem"), None),
            r#""/a/\$x\`y\"z/tandem" brief"#
        );
        assert_eq!(
            brief_command(Path::new("/t/tandem"), Some(Path::new("/my state"))),
            "/t/tandem brief --home \"/my state\""
        );
    }

    #[test]
    fn brief_hooks_are_recognised_after_quoting() {
        for bin in [
            "/usr/local/bin/tandem",
            "/Applications/Tandem App/tandem",
            r"C:\Program Files\Tandem\tandem.exe",
            "/a/$x`y\"z/tandem",
        ] {
            let command = brief_command(Path::new(bin), Some(Path::new("/s")));
            assert!(is_brief_command(&command), "{command}");
            let program = brief_program(&command).unwrap();
            assert!(is_tandem_binary(&program.to_string_lossy()), "{command}");
        }
        assert!(is_brief_command("'/opt/x y/tandem' brief --quiet"));
        assert!(!is_brief_command("/usr/bin/tandem status"));
        assert!(!is_brief_command("/usr/bin/other brief"));
        assert!(!is_brief_command("echo tandem brief"));
        assert!(!is_brief_command("\"/unterminated/tandem brief"));
        assert!(!is_brief_command(""));
    }
}
