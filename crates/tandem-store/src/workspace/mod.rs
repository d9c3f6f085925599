//! The shared workspace: a folder where Claude Desktop writes plans and handoffs and Claude
//! Code reads them. Every file operation goes through the path jail; the `tandem mcp
//! workspace` server is a thin wrapper over [`Workspace`].

mod error;
mod files;
mod grep;
pub mod handoff;
pub mod jail;
mod listing;
pub mod mirror;
pub mod path_forms;
pub mod portable;
pub mod team;
pub mod transfer;
mod write;

#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod testkit;

use std::path::{Path, PathBuf};

pub use error::{WorkspaceError, WsResult};
pub use files::*;
pub use grep::*;
pub use handoff::{
    HandoffCreateParams, HandoffCreated, HandoffDoc, HandoffList, HandoffListParams,
    HandoffReadParams, HandoffStatus, HandoffSummary, HandoffUpdateParams, HandoffUpdated,
    recent_handoffs,
};
pub use jail::{FinalLink, Jail, Resolved};
pub use listing::*;

/// The folder handoffs live in, relative to the root.
pub const HANDOFFS_DIR: &str = "handoffs";

/// What a person finds in the folder the first time Tandem creates it.
pub const README: &str = "\
# Tandem shared folder

This folder is shared by Claude Desktop and Claude Code through Tandem.

- **Claude Desktop** writes plans and *handoffs* here while you plan with it.
- **Claude Code** reads them, claims a handoff, and marks it done when the work is finished.
- `handoffs/` holds one Markdown file per handoff (front matter plus the sections Summary,
  Decisions, Tasks, Open questions, Files and Log). Edit them in any editor; Tandem keeps
  what you write.

The folder is a jail: Tandem's file tools can read and write only inside it, never anywhere
else on this computer. Folders that a client offers as its own roots (Claude Code sends its
project folder) do not replace it: to give Claude a file, put it here.

You can delete this README; Tandem will not write it again.
";

/// How many files `dir` holds beyond what [`Workspace::open`] seeds (the README as written
/// and an empty `handoffs/`), counted up to 1 000; links and other entries count as files.
pub fn files_beyond_seed(dir: &Path) -> usize {
    const BOUND: usize = 1000;
    fn walk(dir: &Path, top: bool, count: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if *count >= BOUND {
                return;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                walk(&path, false, count);
            } else if !(top
                && entry.file_name() == "README.md"
                && std::fs::read(&path).is_ok_and(|b| b == README.as_bytes()))
            {
                *count += 1;
            }
        }
    }
    let mut count = 0;
    walk(dir, true, &mut count);
    count
}

/// The shared folder, opened. Cheap to share behind an `Arc`: every call takes `&self`.
#[derive(Debug)]
pub struct Workspace {
    jail: Jail,
}

impl Workspace {
    /// Opens the workspace at `root`, creating it on first use with a README for the person
    /// and an empty `handoffs/` folder (also when the folder exists but is empty).
    pub fn open(root: impl AsRef<Path>) -> WsResult<Self> {
        let root = root.as_ref();
        let shown = root.display().to_string();
        let fresh = match std::fs::read_dir(root) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(source) => {
                return Err(WorkspaceError::Io {
                    action: "opening the workspace",
                    path: shown,
                    source,
                });
            }
        };
        if fresh {
            std::fs::create_dir_all(root).map_err(|source| WorkspaceError::Io {
                action: "creating the workspace",
                path: shown.clone(),
                source,
            })?;
        }
        let ws = Self {
            jail: Jail::open(root)?,
        };
        if fresh {
            ws.write_file("README.md", README)?;
            ws.jail
                .dir()
                .create_dir_all(HANDOFFS_DIR)
                .map_err(|e| ws.jail.io_error("creating", HANDOFFS_DIR, e))?;
        }
        Ok(ws)
    }

    /// Opens a workspace that must already exist; creates nothing (for read-only callers such
    /// as the tray app).
    pub fn open_existing(root: impl AsRef<Path>) -> WsResult<Self> {
        Ok(Self {
            jail: Jail::open(root.as_ref())?,
        })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        self.jail.root()
    }

    pub fn jail(&self) -> &Jail {
        &self.jail
    }

    /// `list_allowed_directories`: the one folder this server can use.
    pub fn list_allowed_directories(&self) -> AllowedDirectories {
        AllowedDirectories {
            directories: vec![self.root().display().to_string()],
            note: "Paths may be relative to this folder or absolute inside it. Roots sent by \
                   the client do not change it."
                .to_string(),
        }
    }

    /// The absolute path of a resolved path, for messages and for callers that must hand a
    /// path to another program.
    pub fn absolute(&self, resolved: &Resolved) -> PathBuf {
        self.root().join(resolved.rel())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedDirectories {
    pub directories: Vec<String>,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_new_root_creates_it_with_a_readme_and_handoffs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("shared");
        let ws = Workspace::open(&root).unwrap();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert!(readme.contains("jail"));
        assert!(readme.contains("do not replace it"));
        assert!(root.join("handoffs").is_dir());
        assert_eq!(ws.root(), std::fs::canonicalize(&root).unwrap());
    }

    #[test]
    fn opening_an_existing_root_does_not_rewrite_a_deleted_readme() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("shared");
        Workspace::open(&root).unwrap();
        std::fs::remove_file(root.join("README.md")).unwrap();
        Workspace::open(&root).unwrap();
        assert!(!root.join("README.md").exists());
    }

    #[test]
    fn open_existing_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("missing");
        assert!(Workspace::open_existing(&root).is_err());
        assert!(!root.exists());
    }

    /// MCP output schemas must be objects at the root; a client validates results against
    /// them, so every output type is checked here.
    #[test]
    fn every_output_has_an_object_schema_with_camel_case_properties() {
        fn check<T: schemars::JsonSchema>() {
            let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
            assert_eq!(schema["type"], "object", "{schema}");
            let props = schema["properties"].as_object().unwrap();
            for key in props.keys() {
                assert!(!key.contains('_'), "{key} is not camelCase in {schema}");
            }
        }
        check::<TextFile>();
        check::<MultipleFiles>();
        check::<WriteOutcome>();
        check::<EditOutcome>();
        check::<CreateDirectoryOutcome>();
        check::<MoveOutcome>();
        check::<FileInfo>();
        check::<DirectoryListing>();
        check::<DirectoryTree>();
        check::<SearchFilesResult>();
        check::<FilePage>();
        check::<GrepResult>();
        check::<AllowedDirectories>();
        check::<HandoffCreated>();
        check::<HandoffList>();
        check::<HandoffDoc>();
        check::<HandoffUpdated>();
        // Parameters too: the server takes them as they are.
        check::<ReadTextFileParams>();
        check::<EditFileParams>();
        check::<DirectoryTreeParams>();
        check::<SearchFilesParams>();
        check::<GrepParams>();
        check::<HandoffCreateParams>();
        check::<HandoffUpdateParams>();
    }

    #[test]
    fn allowed_directories_name_the_canonical_root() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::open(tmp.path()).unwrap();
        let dirs = ws.list_allowed_directories();
        assert_eq!(
            dirs.directories,
            vec![
                std::fs::canonicalize(tmp.path())
                    .unwrap()
                    .display()
                    .to_string()
            ]
        );
    }
}
