//! Terminal output for people: colour only when the stream is a terminal (anstream strips it
//! otherwise, and honours NO_COLOR), prose wrapped to 80 columns, home shown as `~`.

use std::{io::Write, path::Path};

use anstyle::{AnsiColor, Style};

/// Lines are kept within this many columns.
pub const WIDTH: usize = 80;

pub const OK: Style = AnsiColor::Green.on_default().bold();
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();
const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();

/// Standard output that drops colour codes when it is not a terminal.
pub fn stdout() -> anstream::Stdout {
    anstream::stdout()
}

/// Standard error, likewise.
pub fn stderr() -> anstream::Stderr {
    anstream::stderr()
}

/// `text` in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Columns `s` takes on a terminal: characters, not counting colour codes.
pub fn width(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

/// Words of `text` on lines of at most [`WIDTH`] columns, the first starting with `first`
/// and the others with `rest` (a word longer than a line, such as a path, gets a line of its
/// own).
pub fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.split('\n').enumerate() {
        let mut line = String::from(if n == 0 { first } else { rest });
        let mut empty = true;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let fits = width(&line) + 1 + width(word) <= WIDTH;
            if !empty && !fits {
                out.push_str(line.trim_end());
                out.push('\n');
                line = String::from(rest);
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(word);
            empty = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` with every line longer than [`WIDTH`] wrapped at spaces, continuation lines
/// indented two more than the line (for messages others format, such as clap's errors).
pub fn fit(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if width(line) <= WIDTH {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body = line.trim_start();
        let lead = &line[..line.len() - body.len()];
        out.push_str(&wrap(body, lead, &format!("{lead}  ")));
    }
    out
}

/// A path for a person: the home folder shown as `~`.
pub fn shown(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if !home.as_os_str().is_empty() && home != Path::new("/") => {
            if rest.as_os_str().is_empty() {
                "~".to_string()
            } else {
                format!("~{}{}", std::path::MAIN_SEPARATOR, rest.display())
            }
        }
        _ => path.display().to_string(),
    }
}

/// Writes a unified diff, coloured on a terminal.
pub fn write_diff(out: &mut impl Write, diff: &str) -> std::io::Result<()> {
    for line in diff.lines() {
        let style = if line.starts_with("+++") || line.starts_with("---") {
            BOLD
        } else if line.starts_with('+') {
            ADDED
        } else if line.starts_with('-') {
            REMOVED
        } else if line.starts_with("@@") {
            HUNK
        } else {
            Style::new()
        };
        writeln!(out, "{}", paint(style, line))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, "  ", "    ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= WIDTH));
        assert!(wrapped.starts_with("  word"));
        assert!(wrapped.lines().nth(1).unwrap().starts_with("    word"));
        let long = format!("see {}", "x".repeat(100));
        assert_eq!(wrap(&long, "", "").lines().count(), 2);
        let coloured = wrap(&"word ".repeat(14), &paint(FAIL, "error: "), "");
        assert_eq!(coloured.lines().count(), 1, "colour codes take no columns");
        assert_eq!(width(&paint(OK, "ok")), 2);
    }

    #[test]
    fn long_lines_of_others_are_fitted() {
        let text = format!(
            "short\n  [possible values: {}]\n",
            "client-name, ".repeat(10)
        );
        let fitted = fit(&text);
        assert!(fitted.lines().all(|l| width(l) <= WIDTH), "{fitted}");
        assert!(fitted.starts_with("short\n  [possible"));
        assert!(
            fitted
                .lines()
                .nth(2)
                .unwrap()
                .starts_with("    client-name")
        );
    }

    #[test]
    fn home_is_shown_as_a_tilde() {
        assert_eq!(
            shown(Path::new("/home/a/.claude.json"), Path::new("/home/a")),
            format!("~{}.claude.json", std::path::MAIN_SEPARATOR)
        );
        assert_eq!(shown(Path::new("/etc/x"), Path::new("/home/a")), "/etc/x");
    }
}
