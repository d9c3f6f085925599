//! Which client process a write came from, so that a Claude Code session's prompt hook can
//! leave out what the session itself wrote. Every Claude Code session calls itself
//! `claude-code`, so the client's name cannot tell two sessions apart; the process can. Claude
//! Code starts its MCP servers and runs its hooks as its own children (through a shell or the
//! plugin's launcher, which are looked through), so a server's client process and a hook's are
//! the same process exactly when both belong to the same session's Claude Code.
//!
//! Known on Linux (from `/proc`). Elsewhere there is no origin, and the hook shows every change:
//! too much rather than hiding another session's.

/// Processes between a client and the `tandem` it runs: shells, and the plugin's launcher.
#[cfg(target_os = "linux")]
const LOOKED_THROUGH: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "fish",
    "ksh",
    "tandem-launch",
    "tandem",
];

/// The client process that started this one, as `pid:<n>`: the nearest ancestor that is not
/// a shell or Tandem's launcher.
pub fn client_process() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let mut pid = std::os::unix::process::parent_id();
        for _ in 0..4 {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            if !LOOKED_THROUGH.contains(&comm.trim()) {
                return Some(format!("pid:{pid}"));
            }
            pid = parent_of(pid)?;
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// A process's parent, from `/proc/<pid>/stat` (the fields after the command name, which may
/// itself hold spaces and parentheses).
#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_client_of_a_test_process_is_its_parent_and_a_stat_line_parses() {
        let me = std::os::unix::process::parent_id();
        // The test runner is not a shell: it is the client.
        let comm = std::fs::read_to_string(format!("/proc/{me}/comm")).unwrap();
        if !LOOKED_THROUGH.contains(&comm.trim()) {
            assert_eq!(client_process(), Some(format!("pid:{me}")));
        }
        let own = std::process::id();
        assert_eq!(parent_of(own), Some(me));
    }
}
