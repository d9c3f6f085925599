//! The brief: what Claude Desktop handed over, in at most 2 000 characters for a model — the
//! newest open handoff and the memory entries changed in the last 24 hours, with the tool
//! names to fetch more. Claude Code's SessionStart hook prints it (`tandem brief`), so it is
//! quick, empty when there is nothing, and never fails: missing or unreadable state is no news.

use std::path::Path;

use time::{Duration, OffsetDateTime};

use crate::{
    Home,
    memory::{EntrySummary, MemoryStore},
    text::{clip, timestamp},
    workspace::{HandoffReadParams, Workspace},
};

/// The brief for `home`'s shared folder and store, as of now.
pub fn brief(home: &Home) -> String {
    let handoff = latest_handoff(home.shared_dir());
    let since = OffsetDateTime::now_utc() - Duration::hours(24);
    let memory = recent_memory(home, &timestamp(since));
    compose(handoff.as_ref(), &memory)
}

/// The most a brief may hold, in characters.
pub const MAX_CHARS: usize = 2000;
/// The handoff's share when there are memory entries too.
const HANDOFF_CHARS: usize = 1200;
/// Memory entries looked at (one more than shown tells whether there are more).
const MEMORY_LIMIT: usize = 12;
const PREVIEW_CHARS: usize = 100;

/// The handoff as the brief shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffBrief {
    pub id: String,
    pub title: String,
    pub created_by: String,
    pub created_at: String,
    pub summary: String,
    pub tasks: Vec<String>,
}

/// The newest open handoff, if the workspace exists and has one.
fn latest_handoff(root: &Path) -> Option<HandoffBrief> {
    if !root.is_dir() {
        return None;
    }
    let ws = Workspace::open_existing(root).ok()?;
    let doc = ws
        .handoff_read(&HandoffReadParams {
            id: "latest".into(),
        })
        .ok()?;
    let (summary, tasks) = sections(&doc.markdown);
    Some(HandoffBrief {
        id: doc.id,
        title: doc.title,
        created_by: doc.created_by,
        created_at: doc.created_at,
        summary,
        tasks,
    })
}

/// The Summary text and the Tasks items of a handoff's Markdown.
fn sections(markdown: &str) -> (String, Vec<String>) {
    let body = crate::workspace::handoff::body(markdown);
    let mut current = String::new();
    let mut summary = Vec::new();
    let mut tasks = Vec::new();
    for line in body.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = heading.trim().to_ascii_lowercase();
            continue;
        }
        if line.starts_with("# ") {
            current.clear();
            continue;
        }
        match current.as_str() {
            "summary" => summary.push(line),
            "tasks" => {
                let item = line.trim_start();
                if let Some(task) = item.strip_prefix("- ").or_else(|| item.strip_prefix("* ")) {
                    tasks.push(task.trim().to_string());
                } else if !item.is_empty()
                    && let Some(last) = tasks.last_mut()
                {
                    last.push(' ');
                    last.push_str(item);
                }
            }
            _ => {}
        }
    }
    let summary = summary
        .join("\n")
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    (summary, tasks)
}

/// Memory entries changed at or after `since`, newest first; nothing when there is no
/// store yet (opening the file would create one) or it cannot be reached.
fn recent_memory(home: &Home, since: &str) -> Vec<EntrySummary> {
    MemoryStore::open_for_reading(home)
        .and_then(|store| store.changed_since(since, MEMORY_LIMIT + 1).ok())
        .unwrap_or_default()
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Appends `line` (plus a newline) if the result stays within `budget`; whether it did.
fn push_within(out: &mut String, line: &str, budget: usize) -> bool {
    if chars(out) + chars(line) + 1 > budget {
        return false;
    }
    out.push_str(line);
    out.push('\n');
    true
}

fn handoff_section(h: &HandoffBrief, budget: usize) -> String {
    let mut out = String::new();
    let head = format!("## Open handoff: {}", clip(&h.title, 120));
    let from = format!("id: {} (from {}, {})", h.id, h.created_by, h.created_at);
    let read = format!(
        "Read it whole with handoff_read {{\"id\": \"{}\"}}; mark it claimed with \
         handoff_update when you start.",
        h.id
    );
    // The lines that must be there, whatever the summary and tasks take.
    let fixed = chars(&head) + chars(&from) + chars(&read) + 3;
    out.push_str(&head);
    out.push('\n');
    out.push_str(&from);
    out.push('\n');
    let mut room = budget.saturating_sub(fixed);
    if !h.summary.is_empty() && room > 40 {
        let share = if h.tasks.is_empty() {
            room
        } else {
            room * 3 / 5
        };
        let summary = clip(&h.summary, share.saturating_sub(1));
        room = room.saturating_sub(chars(&summary) + 1);
        out.push_str(&summary);
        out.push('\n');
    }
    if !h.tasks.is_empty() && room > 20 {
        let mut listed = String::from("Tasks:\n");
        let mut shown = 0;
        for task in &h.tasks {
            let line = format!("- {}", clip(task, 160));
            let more = format!("- … {} more", h.tasks.len() - shown);
            if chars(&listed) + chars(&line) + 1 + chars(&more) + 1 > room {
                break;
            }
            listed.push_str(&line);
            listed.push('\n');
            shown += 1;
        }
        if shown < h.tasks.len() {
            listed.push_str(&format!("- … {} more\n", h.tasks.len() - shown));
        }
        if shown > 0 || chars(&listed) <= room {
            out.push_str(&listed);
        }
    }
    out.push_str(&read);
    out.push('\n');
    out
}

fn memory_section(entries: &[EntrySummary], budget: usize) -> String {
    let shown_max = entries.len().min(MEMORY_LIMIT);
    let more = entries.len() > MEMORY_LIMIT;
    let head = format!(
        "## Memory changed in the last 24 hours ({}{})",
        shown_max,
        if more { "+" } else { "" }
    );
    let tail = "Fetch values with memory_get {\"keys\": [...]}; more with memory_changes or \
                memory_search.";
    let mut out = String::new();
    let fixed = chars(&head) + chars(tail) + 2;
    if fixed + 20 > budget {
        return out;
    }
    out.push_str(&head);
    out.push('\n');
    let room = budget - chars(tail) - 1;
    let mut shown = 0;
    for e in entries.iter().take(MEMORY_LIMIT) {
        let line = format!(
            "- {} (v{}, {}): {}",
            e.key,
            e.version,
            e.updated_by,
            clip(&e.preview, PREVIEW_CHARS)
        );
        if !push_within(&mut out, &clip(&line, 240), room) {
            break;
        }
        shown += 1;
    }
    if shown == 0 {
        return String::new();
    }
    out.push_str(tail);
    out.push('\n');
    out
}

/// The brief: empty when there is neither an open handoff nor a recent memory change.
pub fn compose(handoff: Option<&HandoffBrief>, memory: &[EntrySummary]) -> String {
    if handoff.is_none() && memory.is_empty() {
        return String::new();
    }
    let intro = "Tandem: shared context from Claude Desktop (via the tandem-workspace and \
                 tandem-memory MCP servers).";
    let mut out = String::new();
    out.push_str(intro);
    out.push('\n');
    let mut room = MAX_CHARS - chars(intro) - 1;
    if let Some(h) = handoff {
        let budget = if memory.is_empty() {
            room
        } else {
            HANDOFF_CHARS.min(room)
        };
        let section = handoff_section(h, budget.saturating_sub(1));
        room = room.saturating_sub(chars(&section) + 1);
        out.push('\n');
        out.push_str(&section);
    }
    if !memory.is_empty() {
        let section = memory_section(memory, room.saturating_sub(1));
        if !section.is_empty() {
            out.push('\n');
            out.push_str(&section);
        }
    }
    let text = out.trim_end().to_string();
    // The sections keep to their budgets; this only guards the promise.
    clip(&text, MAX_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, preview: &str) -> EntrySummary {
        EntrySummary {
            key: key.into(),
            tags: Vec::new(),
            version: 1,
            updated_at: "2025-01-01T00:00:00.000Z".into(),
            updated_by: "claude-ai 0.14".into(),
            preview: preview.into(),
        }
    }

    fn handoff(summary: &str, tasks: usize) -> HandoffBrief {
        HandoffBrief {
            id: "2025-01-01-1200-auth".into(),
            title: "Add JWT auth".into(),
            created_by: "claude-ai 0.14".into(),
            created_at: "2025-01-01T12:00:00.000Z".into(),
            summary: summary.into(),
            tasks: (1..=tasks).map(|i| format!("[ ] task {i}")).collect(),
        }
    }

    #[test]
    fn nothing_gives_an_empty_brief() {
        assert_eq!(compose(None, &[]), "");
    }

    #[test]
    fn a_brief_names_the_handoff_the_entries_and_the_tools() {
        let text = compose(
            Some(&handoff("Use jose.", 2)),
            &[entry("proj/auth", "{\"method\":\"JWT\"}")],
        );
        for needle in [
            "Add JWT auth",
            "2025-01-01-1200-auth",
            "Use jose.",
            "- [ ] task 2",
            "handoff_read",
            "proj/auth",
            "{\"method\":\"JWT\"}",
            "memory_get",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }

    #[test]
    fn huge_inputs_stay_within_2000_characters_and_keep_both_parts() {
        let long = "word ".repeat(2000);
        let entries: Vec<_> = (0..40)
            .map(|i| entry(&format!("k/{i}"), &"é".repeat(200)))
            .collect();
        let text = compose(Some(&handoff(&long, 200)), &entries);
        assert!(chars(&text) <= MAX_CHARS, "{}", chars(&text));
        assert!(
            text.contains("handoff_read") && text.contains("k/0"),
            "{text}"
        );
        assert!(text.contains("more"), "{text}");
        let text = compose(Some(&handoff(&long, 200)), &[]);
        assert!(chars(&text) <= MAX_CHARS);
        let text = compose(None, &entries);
        assert!(chars(&text) <= MAX_CHARS && text.contains("memory_changes"));
    }

    #[test]
    fn sections_are_read_from_the_handoff_markdown() {
        let md = "---\nid: x\ntitle: T\nstatus: open\n---\n\n# T\n\n## Summary\n\nFirst\nline.\n\nSecond.\n\n## Decisions\n\n- d\n\n## Tasks\n\n- [ ] one\n  more\n- [x] two\n\n## Log\n\n- created\n";
        let (summary, tasks) = sections(md);
        assert_eq!(summary, "First line.\nSecond.");
        assert_eq!(tasks, ["[ ] one more", "[x] two"]);
    }
}
