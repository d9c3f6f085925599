//! Windows under Wine: a prefix of its own for each test, copied from the one `cargo xtask
//! test` makes for the run (its system folder hard-linked, the rest copied), with `tandem.exe`
//! installed in it as `C:\Program Files\Tandem\tandem.exe`. Wine sets `%APPDATA%` and
//! `%USERPROFILE%` from the prefix, so a prefix per test is what keeps tests apart.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use tokio::process::Command;

use crate::Ran;

const WINE_ENV: &str = "TANDEM_TEST_WINE";
const PREFIX_ENV: &str = "TANDEM_TEST_WINE_PREFIX";
const BIN_ENV: &str = "TANDEM_TEST_WINDOWS_BIN";
const CLAUDE_ENV: &str = "TANDEM_TEST_WINDOWS_CLAUDE";

fn env(name: &str) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{name} is not set: the Windows tests run under `cargo xtask test`, which builds tandem.exe and makes the Wine prefix")
    })
}

pub struct WinePrefix {
    dir: tempfile::TempDir,
    user: String,
}

impl Default for WinePrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl WinePrefix {
    pub fn new() -> Self {
        let template = env(PREFIX_ENV);
        let parent = template.parent().unwrap().join("tests");
        std::fs::create_dir_all(&parent).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("prefix-")
            .tempdir_in(&parent)
            .unwrap();
        let copy = |args: &[&str], from: &Path, to: &Path| {
            let ok = std::process::Command::new("cp")
                .args(args)
                .arg(from)
                .arg(to)
                .status()
                .unwrap()
                .success();
            assert!(ok, "copying {}", from.display());
        };
        for entry in std::fs::read_dir(&template).unwrap().flatten() {
            let name = entry.file_name();
            if name == "drive_c" {
                let drive = dir.path().join("drive_c");
                std::fs::create_dir(&drive).unwrap();
                for inner in std::fs::read_dir(entry.path()).unwrap().flatten() {
                    let flags: &[&str] = if inner.file_name() == "windows" {
                        &["-al"]
                    } else {
                        &["-a"]
                    };
                    copy(flags, &inner.path(), &drive);
                }
            } else {
                copy(&["-a"], &entry.path(), dir.path());
            }
        }
        let user = std::fs::read_dir(dir.path().join("drive_c/users"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n != "Public")
            .expect("a user folder in the prefix");
        let prefix = Self { dir, user };
        let installed = prefix.program_dir();
        std::fs::create_dir_all(&installed).unwrap();
        std::fs::hard_link(env(BIN_ENV), installed.join("tandem.exe")).unwrap();
        prefix.add_stand_in(&installed);
        prefix
    }

    /// Puts the `ProcessPrng` stand-in beside the executables in `dir` (test scaffolding for
    /// Wine 8, see `tests/windows/`).
    pub fn add_stand_in(&self, dir: &Path) {
        let dll = env(BIN_ENV).with_file_name("bcryptprimitives.dll");
        std::fs::hard_link(dll, dir.join("bcryptprimitives.dll")).unwrap();
    }

    /// `C:\` as a Linux path.
    pub fn drive_c(&self) -> PathBuf {
        self.dir.path().join("drive_c")
    }

    /// `%USERPROFILE%` as a Linux path.
    pub fn user_profile(&self) -> PathBuf {
        self.drive_c().join("users").join(&self.user)
    }

    /// `%APPDATA%` as a Linux path.
    pub fn appdata(&self) -> PathBuf {
        self.user_profile().join("AppData/Roaming")
    }

    /// `%USERPROFILE%` as Windows writes it.
    pub fn user_profile_windows(&self) -> String {
        format!(r"C:\users\{}", self.user)
    }

    fn program_dir(&self) -> PathBuf {
        self.drive_c().join("Program Files/Tandem")
    }

    /// A path under this prefix's `C:` (or any other Linux path, through Wine's `Z:`) as
    /// Windows names it.
    pub fn windows_path(&self, path: &Path) -> String {
        let (drive, rest) = match path.strip_prefix(self.drive_c()) {
            Ok(rest) => ("C:", rest),
            Err(_) => ("Z:", path.strip_prefix("/").unwrap_or(path)),
        };
        let rest = rest.to_string_lossy().replace('/', r"\");
        format!(r"{drive}\{rest}")
    }

    /// Holds `path` open without sharing it, as an editor or a backup tool can on Windows,
    /// until the returned holder is dropped (`tests/windows/hold.c`).
    pub async fn hold(&self, path: &Path) -> Holder {
        use tokio::io::AsyncBufReadExt;
        let exe = env(BIN_ENV).with_file_name("hold.exe");
        let mut child = self
            .command(&exe.to_string_lossy(), &[&self.windows_path(path)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting hold.exe under Wine");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .expect("hold.exe timed out")
            .expect("reading hold.exe");
        assert_eq!(
            first.as_deref(),
            Some("held"),
            "hold.exe could not open the file"
        );
        Holder { child }
    }

    /// Where `tandem.exe` is installed, as Windows names it.
    pub fn tandem_windows(&self) -> &'static str {
        r"C:\Program Files\Tandem\tandem.exe"
    }

    /// The Wine loader.
    pub fn wine(&self) -> PathBuf {
        env(WINE_ENV)
    }

    /// What a process run under this prefix's Wine needs in its environment.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "WINEPREFIX".into(),
                self.dir.path().to_string_lossy().into_owned(),
            ),
            ("WINEDEBUG".into(), "-all".into()),
            ("WINEDLLOVERRIDES".into(), "mscoree,mshtml=".into()),
        ]
    }

    /// `program` (a Windows path or a Linux one) with `args`, under this prefix's Wine.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env(WINE_ENV));
        cmd.arg(program)
            .args(args)
            .envs(self.env())
            .env_remove("TANDEM_HOME")
            .kill_on_drop(true);
        cmd
    }

    /// The real Windows Claude Code CLI with `args`, from `%USERPROFILE%`, to completion.
    pub async fn claude(&self, args: &[&str]) -> Ran {
        self.claude_with(args, &[]).await
    }

    /// [`Self::claude`] with more variables.
    pub async fn claude_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Ran {
        let exe = env(CLAUDE_ENV);
        let mut cmd = self.command(&exe.to_string_lossy(), args);
        cmd.envs(vars.iter().copied())
            .current_dir(self.user_profile())
            // No update checks, telemetry or other traffic from a test.
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .stdin(Stdio::null());
        let out = tokio::time::timeout(std::time::Duration::from_secs(180), cmd.output())
            .await
            .expect("the Windows claude timed out")
            .expect("running the Windows claude under Wine");
        Ran::from_output(out)
    }

    /// `tandem.exe <args>` to completion.
    pub async fn tandem(&self, args: &[&str]) -> Ran {
        let out = self
            .command(self.tandem_windows(), args)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("running tandem.exe under Wine");
        Ran::from_output(out)
    }
}

/// A file held open by `hold.exe`; dropping it lets the file go.
pub struct Holder {
    child: tokio::process::Child,
}

impl Holder {
    /// Lets the file go and waits until the holder has exited.
    pub async fn release(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait()).await;
    }
}

impl Drop for WinePrefix {
    fn drop(&mut self) {
        let server = env(WINE_ENV).with_file_name("wineserver");
        let _ = std::process::Command::new(server)
            .arg("--kill")
            .env("WINEPREFIX", self.dir.path())
            .status();
    }
}
