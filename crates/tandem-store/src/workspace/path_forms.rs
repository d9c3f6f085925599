//! One table of path forms a client may send, and what the workspace does with each on Unix
//! (Linux and macOS) and on Windows. The same table is run on Linux by this crate's tests and on
//! the Windows `tandem.exe` under Wine by the Windows end-to-end suite, so a change in either
//! shows on both.
//!
//! Each form is read from a workspace whose root, [`ROOT_NAME`], holds `notes.md` (text [`INSIDE_TEXT`]) and an
//! empty folder `sub`; `{root}` stands for the root as the system writes it, `{ROOT}` for the
//! same in upper case, `{parent}` for the folder that holds the root.

/// What a path form comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It names `notes.md` inside the root.
    Inside,
    /// "Access denied": it is, or leads, outside the root.
    Denied,
    /// A name some system refuses or reads differently: refused, never opened or created.
    Refused,
}

impl Outcome {
    /// Judges a read's result: the text read, or the error message.
    pub fn of(read: Result<&str, &str>) -> Option<Self> {
        match read {
            Ok(text) => (text == INSIDE_TEXT).then_some(Self::Inside),
            Err(e) if e.starts_with("Access denied") => Some(Self::Denied),
            Err(e) if e.contains("does not work on every system") => Some(Self::Refused),
            Err(_) => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Inside => "inside",
            Self::Denied => "denied",
            Self::Refused => "refused",
        }
    }
}

/// The name of the table's root folder: long enough that Windows gives it an 8.3 alias
/// (`PROJEC~1`).
pub const ROOT_NAME: &str = "Project Plans";

/// The text of `notes.md` in the table's workspace.
pub const INSIDE_TEXT: &str = "inside\n";

/// One path form and its outcome on each system.
#[derive(Debug, Clone, Copy)]
pub struct PathForm {
    pub path: &'static str,
    pub unix: Outcome,
    pub windows: Outcome,
    pub what: &'static str,
}

impl PathForm {
    /// The outcome on the system this is built for.
    pub fn here(&self) -> Outcome {
        if cfg!(windows) {
            self.windows
        } else {
            self.unix
        }
    }

    /// The path with `{root}`, `{ROOT}` and `{parent}` filled in.
    pub fn path_for(&self, root: &str, parent: &str) -> String {
        self.path
            .replace("{root}", root)
            .replace("{ROOT}", &root.to_uppercase())
            .replace("{parent}", parent)
    }
}

use Outcome::{Denied, Inside, Refused};

const fn form(path: &'static str, unix: Outcome, windows: Outcome, what: &'static str) -> PathForm {
    PathForm {
        path,
        unix,
        windows,
        what,
    }
}

/// Every form, with the reason for its outcome.
pub const PATH_FORMS: &[PathForm] = &[
    form("notes.md", Inside, Inside, "a name inside"),
    form("./notes.md", Inside, Inside, "a dot first"),
    form(
        "sub/../notes.md",
        Inside,
        Inside,
        "up again from a folder inside",
    ),
    form("{root}/notes.md", Inside, Inside, "absolute, inside"),
    form(
        r".\notes.md",
        Refused,
        Inside,
        r"backslash: a separator on Windows, a character elsewhere",
    ),
    form(
        r"sub\..\notes.md",
        Refused,
        Inside,
        "backslashed .. that stays inside",
    ),
    form(
        r"sub/..\notes.md",
        Refused,
        Inside,
        "mixed slashes that stay inside",
    ),
    form("../x", Denied, Denied, ".. above the root"),
    form(r"..\..\x", Refused, Denied, r"..\ chain"),
    form(
        r"sub/..\..\x",
        Refused,
        Denied,
        "mixed slashes climbing out",
    ),
    form(
        "/etc/passwd",
        Denied,
        Denied,
        "absolute, outside (root-relative on Windows)",
    ),
    form(
        "{ROOT}/NOTES.md",
        Denied,
        Denied,
        "the root in another case: not taken for the root",
    ),
    form(
        "{parent}/PROJEC~1/notes.md",
        Denied,
        Denied,
        "an 8.3 short name for the root",
    ),
    form(r"C:\Windows\win.ini", Denied, Denied, "drive-absolute"),
    form(
        "C:/Windows/win.ini",
        Denied,
        Denied,
        "drive-absolute, forward slashes",
    ),
    form(r"C:Windows\win.ini", Refused, Denied, "drive-relative"),
    form(r"\Windows\win.ini", Denied, Denied, "root-relative"),
    form(r"\\server\share\x", Denied, Denied, "UNC"),
    form(r"\\?\C:\Windows\win.ini", Denied, Denied, "verbatim"),
    form(
        r"\\.\C:\Windows\win.ini",
        Denied,
        Denied,
        "device namespace",
    ),
    form(r"\\.\pipe\x", Denied, Denied, "a named pipe"),
    form("CON", Refused, Refused, "a device name"),
    form(
        "nul.txt",
        Refused,
        Refused,
        "a device name with an extension",
    ),
    form("sub/AUX.md", Refused, Refused, "a device name in a folder"),
    form("COM1", Refused, Refused, "a serial port"),
    form(
        "lpt1.log",
        Refused,
        Refused,
        "a printer port with an extension",
    ),
    form(
        "CON .md",
        Refused,
        Refused,
        "a device name with a space before the extension",
    ),
    form(
        "notes.md:hidden",
        Refused,
        Refused,
        "an alternate data stream",
    ),
    form(
        "notes.md::$DATA",
        Refused,
        Refused,
        "the default data stream",
    ),
    form(
        "notes.md.",
        Refused,
        Refused,
        "a trailing dot (Windows opens notes.md)",
    ),
    form(
        "notes.md ",
        Refused,
        Refused,
        "a trailing space (Windows opens notes.md)",
    ),
    form("a<b.md", Refused, Refused, "a character Windows forbids"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{ReadTextFileParams, Workspace};

    /// The table on this system: each form read and written; denied and refused forms create
    /// nothing, anywhere.
    #[test]
    fn every_path_form_comes_to_what_the_table_says() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = std::fs::canonicalize(tmp.path()).unwrap().join("home");
        let root = parent.join(ROOT_NAME);
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("notes.md"), INSIDE_TEXT).unwrap();
        let ws = Workspace::open(&root).unwrap();
        let listing = || {
            let mut all: Vec<_> = tree(&parent);
            all.sort();
            all
        };
        let before = listing();
        let mut wrong = Vec::new();
        for f in PATH_FORMS {
            let path = f.path_for(root.to_str().unwrap(), parent.to_str().unwrap());
            let read = ws.read_text_file(&ReadTextFileParams::path(&path));
            let got = match &read {
                Ok(file) => Outcome::of(Ok(&file.content)),
                Err(e) => Outcome::of(Err(&e.to_string())),
            };
            if got != Some(f.here()) {
                wrong.push(format!("{path:?} ({}): {read:?}", f.what));
            }
            if f.here() != Inside {
                let written = ws.write_file(&path, "x");
                let judged = written
                    .as_ref()
                    .err()
                    .map(|e| Outcome::of(Err(&e.to_string())));
                if judged != Some(Some(f.here())) {
                    wrong.push(format!("write {path:?} ({}): {written:?}", f.what));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "not as the table says:\n{}",
            wrong.join("\n")
        );
        assert_eq!(
            listing(),
            before,
            "a denied or refused form created something"
        );
    }

    fn tree(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            out.push(e.path());
            if e.file_type().unwrap().is_dir() {
                out.extend(tree(&e.path()));
            }
        }
        out
    }
}
