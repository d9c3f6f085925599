//! Fixtures for the workspace tests: a workspace in a temporary folder, with neighbours
//! outside it whose content must never change.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::Workspace;

pub const SECRET: &str = "TOP SECRET outside the jail\n";

pub struct Fixture {
    /// Holds everything; dropped last.
    pub _tmp: tempfile::TempDir,
    /// The workspace root (canonical).
    pub root: PathBuf,
    /// A folder outside the root, with `secret.txt`.
    pub outside: PathBuf,
    pub ws: Workspace,
}

/// `tmp/root` (the workspace, with `notes.md` and `sub/inner.txt`), `tmp/outside/secret.txt`,
/// and the prefix siblings `tmp/root2/x` and `tmp/root-old/x`.
pub fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    for sibling in ["root2", "root-old"] {
        std::fs::create_dir_all(base.join(sibling)).unwrap();
        std::fs::write(base.join(sibling).join("x"), SECRET).unwrap();
    }
    let ws = Workspace::open(&root).unwrap();
    std::fs::write(root.join("notes.md"), "# Notes\nfirst\nsecond\n").unwrap();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/inner.txt"), "inner\n").unwrap();
    Fixture {
        _tmp: tmp,
        root,
        outside,
        ws,
    }
}

impl Fixture {
    /// The temporary folder around the root.
    pub fn base(&self) -> PathBuf {
        self.root.parent().unwrap().to_path_buf()
    }

    /// Everything outside the root, for before/after comparisons.
    pub fn outside_snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        snapshot(&self.base(), &self.root, &mut out);
        out
    }

    pub fn path_str(&self, p: &Path) -> String {
        p.to_str().unwrap().to_string()
    }

    #[cfg(unix)]
    pub fn link(&self, target: impl AsRef<Path>, at: &str) {
        std::os::unix::fs::symlink(target, self.root.join(at)).unwrap();
    }
}

fn snapshot(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        if path == skip {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            out.insert(
                path.clone(),
                format!("link {:?}", std::fs::read_link(&path)),
            );
        } else if kind.is_dir() {
            out.insert(path.clone(), "dir".to_string());
            snapshot(&path, skip, out);
        } else {
            let content = std::fs::read(&path).unwrap();
            let perms = entry.metadata().unwrap().permissions();
            out.insert(
                path.clone(),
                format!("{:?} {}", perms, String::from_utf8_lossy(&content)),
            );
        }
    }
}
