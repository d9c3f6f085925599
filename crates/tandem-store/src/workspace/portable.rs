//! Names every system accepts. The shared folder travels (a teammate on another OS, a synced
//! folder, the same disk opened from Windows), so a file or folder Tandem creates must have a
//! name that Windows, macOS and Linux all accept. Existing files keep whatever names they have:
//! only new names are checked.

/// Why `name` (one path component) would not work on every system, if it would not.
pub fn unportable(name: &str) -> Option<String> {
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\\') || c.is_control())
    {
        let what = match c {
            ':' => "\":\" (on Windows it names an alternate data stream)".to_string(),
            c if c.is_control() => format!("the control character U+{:04X}", c as u32),
            c => format!("{c:?}, which Windows does not allow in names"),
        };
        return Some(format!("it contains {what}"));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("it ends with a dot or a space, which Windows drops".to_string());
    }
    // A device name stays a device with any extension: `nul.txt` is NUL.
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    let upper = stem.to_ascii_uppercase();
    let device = matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (upper.len() == 4
            && (upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.as_bytes()[3].is_ascii_digit());
    device.then(|| format!("{stem} is a device name on Windows, whatever the extension"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_windows_refuses_are_named_with_the_reason_and_ordinary_ones_pass() {
        for ok in [
            "plan.md",
            "Notes 2026",
            "console.md",
            "CONFIG",
            "com10.txt",
            "lpt.md",
            "nul-results.md",
            ".hidden",
            "résumé.md",
            "a.b.c",
        ] {
            assert_eq!(unportable(ok), None, "{ok}");
        }
        for (bad, says) in [
            ("a.md:notes", "alternate data stream"),
            ("notes.md::$DATA", "alternate data stream"),
            ("CON", "device name"),
            ("con.md", "device name"),
            ("Nul.tar.gz", "device name"),
            ("COM1", "device name"),
            ("lpt9.txt", "device name"),
            ("AUX .md", "device name"),
            ("name.", "ends with a dot"),
            ("name ", "ends with a dot or a space"),
            ("a<b", "does not allow"),
            ("what?", "does not allow"),
            ("star*", "does not allow"),
            ("pipe|d", "does not allow"),
            ("back\\slash", "does not allow"),
            ("tab\there", "control character U+0009"),
        ] {
            let why = unportable(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(why.contains(says), "{bad:?}: {why}");
        }
    }

    #[test]
    fn the_workspace_creates_no_name_that_would_not_travel_and_still_reads_old_ones() {
        use crate::workspace::{MoveFileParams, PathParams, ReadTextFileParams, testkit::fixture};
        let f = fixture();
        for path in [
            "a.md:notes",
            "CON",
            "plans/nul.txt",
            "draft.",
            "sub/what?.md",
        ] {
            let err = f.ws.write_file(path, "x").unwrap_err().to_string();
            assert!(
                err.contains("does not work on every system"),
                "{path}: {err}"
            );
            assert!(err.contains("Nothing was written"), "{err}");
        }
        let err =
            f.ws.create_directory(&PathParams { path: "AUX".into() })
                .unwrap_err()
                .to_string();
        assert!(err.contains("device name"), "{err}");
        let err =
            f.ws.move_file(&MoveFileParams {
                source: "notes.md".into(),
                destination: "notes.md ".into(),
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("ends with a dot or a space"), "{err}");
        assert!(f.root.join("notes.md").is_file(), "nothing moved");
        for made in ["a.md:notes", "CON", "plans", "draft.", "AUX", "notes.md "] {
            assert!(!f.root.join(made).exists(), "{made} was created");
        }
        // A file someone made by other means keeps working on a system that allows its name.
        #[cfg(unix)]
        {
            std::fs::write(f.root.join("odd:name.md"), "kept\n").unwrap();
            let read =
                f.ws.read_text_file(&ReadTextFileParams::path("odd:name.md"))
                    .unwrap();
            assert_eq!(read.content, "kept\n");
        }
    }
}
