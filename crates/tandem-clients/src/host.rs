//! A snapshot of the host facts that decide where clients keep their config: the OS and a few
//! environment values. Catalogue functions take it as input, so every OS is testable anywhere.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    path::{Path, PathBuf},
};

/// The operating systems whose config layouts the catalogue knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    MacOs,
    Windows,
    Linux,
}

impl Os {
    /// The OS this build runs on (other Unixes are treated as Linux: they follow XDG).
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }

    fn separator(self) -> char {
        match self {
            Os::Windows => '\\',
            Os::MacOs | Os::Linux => '/',
        }
    }

    /// Joins path parts with this OS's separator, whatever the build host is, so that a
    /// Windows path computed on Linux reads as Windows would spell it.
    pub fn join(self, base: &Path, parts: &[&str]) -> PathBuf {
        let sep = self.separator();
        let mut out = base.to_string_lossy().into_owned();
        for part in parts {
            while out.ends_with(['/', '\\']) && out.len() > 1 {
                out.pop();
            }
            if !out.is_empty() {
                out.push(sep);
            }
            out.push_str(part);
        }
        PathBuf::from(out)
    }
}

/// What the catalogue may know about the host. [`HostEnv::capture`] reads the real process;
/// tests build one by hand around temp folders.
#[derive(Debug, Clone)]
pub struct HostEnv {
    pub os: Os,
    /// The person's home folder (`$HOME`, `%USERPROFILE%`).
    pub home: PathBuf,
    /// `%APPDATA%` (Windows roaming app data).
    pub appdata: Option<PathBuf>,
    /// `%LOCALAPPDATA%`.
    pub local_appdata: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` when set (Linux).
    pub xdg_config_home: Option<PathBuf>,
    /// `%LOCALAPPDATA%\Packages\Claude_*` folders: present when Claude Desktop is an MSIX
    /// install, which reads its config from inside the package, not from `%APPDATA%`.
    pub msix_claude_packages: Vec<PathBuf>,
    /// `$CLAUDE_CONFIG_DIR`, which moves Claude Code's `.claude.json`.
    pub claude_config_dir: Option<PathBuf>,
    /// `$CODEX_HOME`, which moves Codex's `config.toml`.
    pub codex_home: Option<PathBuf>,
    /// `$PATH`, for finding client CLIs.
    pub path: Option<OsString>,
    /// Other variables: values for `env:VAR` headers in clients that cannot expand them, and
    /// the Windows variables GUI clients strip from a server's environment.
    pub vars: BTreeMap<String, String>,
}

impl HostEnv {
    /// A bare snapshot: the given OS and home, nothing else set.
    pub fn new(os: Os, home: impl Into<PathBuf>) -> Self {
        Self {
            os,
            home: home.into(),
            appdata: None,
            local_appdata: None,
            xdg_config_home: None,
            msix_claude_packages: Vec::new(),
            claude_config_dir: None,
            codex_home: None,
            path: None,
            vars: BTreeMap::new(),
        }
    }

    /// Reads the running process's environment (and lists MSIX Claude packages on Windows).
    pub fn capture() -> Self {
        let os = Os::current();
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME")
            .or_else(|| var("USERPROFILE"))
            .unwrap_or_else(|| PathBuf::from("."));
        let local_appdata = var("LOCALAPPDATA");
        let msix_claude_packages = match (&local_appdata, os) {
            (Some(local), Os::Windows) => find_msix_claude_packages(&local.join("Packages")),
            _ => Vec::new(),
        };
        Self {
            os,
            home,
            appdata: var("APPDATA"),
            local_appdata,
            xdg_config_home: var("XDG_CONFIG_HOME"),
            msix_claude_packages,
            claude_config_dir: var("CLAUDE_CONFIG_DIR"),
            codex_home: var("CODEX_HOME"),
            path: std::env::var_os("PATH"),
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// A variable from the snapshot.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// The `Claude_*` package folders under a Windows `Packages` folder, sorted.
pub fn find_msix_claude_packages(packages: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(packages) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("Claude_"))
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_uses_the_target_os_separator() {
        let p = Os::Windows.join(
            Path::new(r"C:\Users\me\AppData\Roaming"),
            &["Claude", "x.json"],
        );
        assert_eq!(
            p,
            PathBuf::from(r"C:\Users\me\AppData\Roaming\Claude\x.json")
        );
        let p = Os::Linux.join(Path::new("/home/me/"), &[".config", "zed"]);
        assert_eq!(p, PathBuf::from("/home/me/.config/zed"));
    }

    #[test]
    fn msix_packages_are_found_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Claude_pzs8sxrjxfjjc")).unwrap();
        std::fs::create_dir(dir.path().join("Other_123")).unwrap();
        std::fs::write(dir.path().join("Claude_file"), "").unwrap();
        let found = find_msix_claude_packages(dir.path());
        assert_eq!(found, vec![dir.path().join("Claude_pzs8sxrjxfjjc")]);
    }
}
