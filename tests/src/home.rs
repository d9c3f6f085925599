//! An isolated home for a test: `HOME`, `XDG_*`, `APPDATA` and the state folder in a
//! temporary directory, and running the `tandem` binary in it.

use std::{path::PathBuf, process::Stdio};

use tokio::process::Command;

use crate::*;

/// A private home for one test: `TANDEM_HOME`, `HOME`, XDG and APPDATA all point into it.
/// [`TestHome::as_people_run`] leaves `TANDEM_HOME` unset, as people run Tandem: state is then
/// found in the data folder (`$XDG_DATA_HOME/Tandem`) and the shared folder at `~/Tandem`.
pub struct TestHome {
    pub dir: tempfile::TempDir,
    people: bool,
    /// `TANDEM_STORE` for every process: a team of its own on the run's PostgreSQL.
    team: Option<TeamStore>,
}

/// A team (schema) on the throw-away PostgreSQL `cargo xtask test` starts, dropped after.
struct TeamStore {
    base: String,
    name: String,
}

impl Drop for TeamStore {
    fn drop(&mut self) {
        // psql is what Debian's PostgreSQL package brings along; the settings are in PG*.
        let _ = std::process::Command::new("psql")
            .args([
                "-qc",
                &format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

impl TestHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tandem-e2e-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self {
            dir,
            people: false,
            team: None,
        }
    }

    /// A home whose memory is a team of its own on the run's PostgreSQL (`TANDEM_STORE`).
    pub fn on_team_store() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: the team-store tests run under `cargo xtask test`, which starts a throw-away PostgreSQL")
            })
        };
        let base = format!(
            "postgres://{}:{}@{}:{}/{}",
            var("PGUSER"),
            var("PGPASSWORD"),
            var("PGHOST"),
            var("PGPORT"),
            var("PGDATABASE")
        );
        let home = Self::new();
        let name = format!(
            "e2e_{}",
            home.dir
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        Self {
            team: Some(TeamStore { base, name }),
            ..home
        }
    }

    /// The team of [`Self::on_team_store`].
    pub fn team_name(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.name.as_str())
    }

    /// This home's memory, opened as its processes open it: the SQLite file, or the team.
    pub fn store(&self) -> tandem_store::memory::MemoryStore {
        match &self.team {
            Some(t) => tandem_store::memory::MemoryStore::open_at(
                &tandem_store::memory::StoreLocation::parse(&format!("{}?team={}", t.base, t.name)),
            )
            .expect("opening the team store"),
            None => tandem_store::memory::MemoryStore::open(self.memory_db())
                .expect("opening memory.db"),
        }
    }

    /// `"sqlite"`, or `"postgres"` for [`Self::on_team_store`].
    pub fn engine(&self) -> &'static str {
        if self.team.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `updatedBy` as this home's store records a write from `client`: the team store adds
    /// the member, the role the connection logs in as.
    pub fn by(&self, client: &str) -> String {
        match &self.team {
            Some(_) => format!("{client} · {}", std::env::var("PGUSER").unwrap()),
            None => client.to_string(),
        }
    }

    /// `HOME` and XDG at temp folders, `TANDEM_HOME` unset.
    pub fn as_people_run() -> Self {
        Self {
            people: true,
            ..Self::new()
        }
    }

    /// Tandem's state folder, as `tandem` resolves it in this home.
    pub fn tandem_home(&self) -> PathBuf {
        if self.people {
            self.user_home().join(".local/share/Tandem")
        } else {
            self.dir.path().join("state")
        }
    }

    /// The shared folder by default, as `tandem` resolves it in this home.
    pub fn shared_dir(&self) -> PathBuf {
        if self.people {
            self.user_home().join("Tandem")
        } else {
            self.tandem_home().join("shared")
        }
    }

    pub fn user_home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn memory_db(&self) -> PathBuf {
        self.tandem_home().join("memory.db")
    }

    /// The environment every child process gets.
    pub fn env(&self) -> Vec<(String, PathBuf)> {
        let home = self.user_home();
        let tandem_home = (!self.people).then(|| ("TANDEM_HOME".to_string(), self.tandem_home()));
        let store = self.team.as_ref().map(|t| {
            (
                "TANDEM_STORE".to_string(),
                PathBuf::from(format!("{}?team={}", t.base, t.name)),
            )
        });
        tandem_home
            .into_iter()
            .chain(store)
            .chain([
                ("HOME".into(), home.clone()),
                ("USERPROFILE".into(), home.clone()),
                ("XDG_CONFIG_HOME".into(), home.join(".config")),
                ("XDG_DATA_HOME".into(), home.join(".local/share")),
                ("APPDATA".into(), home.join("AppData/Roaming")),
                ("LOCALAPPDATA".into(), home.join("AppData/Local")),
            ])
            .collect()
    }

    /// `tandem <args>` with this home's environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(tandem_bin());
        cmd.args(args).envs(self.env()).kill_on_drop(true);
        if self.people {
            cmd.env_remove("TANDEM_HOME");
        }
        cmd
    }

    /// Runs `tandem <args>` to completion.
    pub async fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("running tandem")
    }
}

/// A finished `tandem` run, as text.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn from_output(output: std::process::Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A `PATH` with no MCP client CLIs on it, so that only the folders a test creates make a
/// client count as installed.
pub const PLAIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl TestHome {
    /// Runs `tandem <args>` to completion with [`PLAIN_PATH`].
    pub async fn tandem(&self, args: &[&str]) -> Ran {
        let output = self
            .command(args)
            .env("PATH", PLAIN_PATH)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("running tandem");
        Ran::from_output(output)
    }

    /// Creates a folder under the user home (e.g. `.claude`, to make a client "installed").
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let dir = self.user_home().join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Claude Code's user config, `~/.claude.json`.
    pub fn claude_json(&self) -> PathBuf {
        self.user_home().join(".claude.json")
    }

    /// Claude Code's user settings, `~/.claude/settings.json` (hooks).
    pub fn claude_settings(&self) -> PathBuf {
        self.user_home().join(".claude").join("settings.json")
    }

    /// Claude Desktop's config folder on this OS, inside this home.
    pub fn desktop_dir(&self) -> PathBuf {
        if cfg!(target_os = "macos") {
            self.user_home().join("Library/Application Support/Claude")
        } else if cfg!(windows) {
            self.user_home().join("AppData/Roaming/Claude")
        } else {
            self.user_home().join(".config/Claude")
        }
    }

    pub fn desktop_config(&self) -> PathBuf {
        self.desktop_dir().join("claude_desktop_config.json")
    }
}
