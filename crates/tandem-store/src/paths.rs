//! Where Tandem keeps its state, decided once for every process: the state folder
//! (`TANDEM_HOME`, or the platform data folder), the shared folder the person sees (saved in
//! the state folder's `settings.json` when moved, else a default), the store, and the hub's
//! port. A process Tandem starts resolves the same folders from the same saved setting.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{
    error::Result,
    memory::StoreLocation,
    settings::{self, Settings},
};

/// The environment variable that moves *all* Tandem state under one folder (tests set it).
pub const HOME_ENV: &str = "TANDEM_HOME";
/// The hub's port unless `TANDEM_HUB_PORT` (or `tandem serve --port`) says otherwise.
pub const DEFAULT_HUB_PORT: u16 = 7411;
pub const HUB_PORT_ENV: &str = "TANDEM_HUB_PORT";
/// Where memory lives when no flag says: a path or a `postgres://` URL.
pub const STORE_ENV: &str = "TANDEM_STORE";

/// The port the app runs its hub on and `tandem status` checks: `TANDEM_HUB_PORT`, else 7411.
pub fn hub_port_from_env() -> u16 {
    std::env::var(HUB_PORT_ENV)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(DEFAULT_HUB_PORT)
}

/// Tandem's folders, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    state: PathBuf,
    shared: PathBuf,
    /// Where the shared folder is when no setting moves it.
    default_shared: PathBuf,
    /// The state folder was given (`TANDEM_HOME`, `--home`), not found by default: processes
    /// started for this home must be given it too.
    explicit: bool,
}

impl Home {
    /// Resolves as every Tandem process does: the state folder from `$TANDEM_HOME` when set,
    /// else the platform data folder; the shared folder from the saved setting, else
    /// `$TANDEM_HOME/shared` or `~/Tandem`. Fails only on a settings file that is not valid,
    /// which is left as it is.
    pub fn resolve() -> Result<Self> {
        Self::unsaved().with_settings()
    }

    /// What [`Home::resolve`] gives before the saved setting is read (for a caller that must
    /// go on when the settings file is broken, and say so).
    pub fn unsaved() -> Self {
        match std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            Some(root) => Self::at(PathBuf::from(root)),
            None => {
                let state = dirs::data_dir()
                    .unwrap_or_else(|| std::env::temp_dir().join("tandem-state"))
                    .join("Tandem");
                let shared = dirs::home_dir()
                    .unwrap_or_else(|| state.clone())
                    .join("Tandem");
                Self {
                    state,
                    default_shared: shared.clone(),
                    shared,
                    explicit: false,
                }
            }
        }
    }

    /// Everything under one root, as `TANDEM_HOME` does, without reading the saved setting
    /// (see [`Home::with_settings`]).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let state = root.into();
        let shared = state.join("shared");
        Self {
            state,
            default_shared: shared.clone(),
            shared,
            explicit: true,
        }
    }

    /// This home with the shared folder the saved setting names, if any.
    pub fn with_settings(mut self) -> Result<Self> {
        let settings = self.settings()?;
        self.shared = settings
            .shared_folder
            .unwrap_or_else(|| self.default_shared.clone());
        Ok(self)
    }

    /// The state root (`memory.db`, `logs/`, `backups/`, `hub.token` live here).
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// The shared workspace folder (plans and handoffs).
    pub fn shared_dir(&self) -> &Path {
        &self.shared
    }

    /// The shared folder when no setting moves it.
    pub fn default_shared_dir(&self) -> &Path {
        &self.default_shared
    }

    /// The state folder when it was given explicitly: a process started for this home (the
    /// hub, a client's server, a hook) must get it as `TANDEM_HOME`. `None` for the default,
    /// which every process finds by itself.
    pub fn explicit_root(&self) -> Option<&Path> {
        self.explicit.then_some(self.state.as_path())
    }

    pub fn memory_db(&self) -> PathBuf {
        self.state.join("memory.db")
    }

    /// The password of the team this computer joined (mode 0600).
    pub fn team_password_file(&self) -> PathBuf {
        self.state.join("team-password")
    }

    /// Where memory is for every process of this home: `TANDEM_STORE` when set (a path or a
    /// URL), else the team this computer joined (`tandem team join`, with the password it
    /// saved), else the database file in the state folder. Fails only on a settings file that
    /// is not valid.
    pub fn memory_location(&self) -> Result<StoreLocation> {
        if let Ok(store) = std::env::var(STORE_ENV)
            && !store.trim().is_empty()
        {
            return Ok(StoreLocation::parse(store.trim()));
        }
        Ok(match self.settings()?.team {
            Some(joined) => StoreLocation::Team {
                url: joined.url,
                team: joined.team,
                saved_password: std::fs::read_to_string(self.team_password_file())
                    .ok()
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            },
            None => StoreLocation::File(self.memory_db()),
        })
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.state.join("logs")
    }

    pub fn backups_dir(&self) -> PathBuf {
        self.state.join("backups")
    }

    pub fn hub_token(&self) -> PathBuf {
        self.state.join("hub.token")
    }

    /// The hub's token, once a hub or an install created it.
    pub fn hub_token_value(&self) -> Option<String> {
        std::fs::read_to_string(self.hub_token())
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    pub fn settings_file(&self) -> PathBuf {
        self.state.join(settings::FILE)
    }

    /// The last doctor result (`tandem doctor`, the app's probes).
    pub fn doctor_file(&self) -> PathBuf {
        self.state.join("doctor.json")
    }

    /// The servers shared with `tandem share` (private: it names secrets' variables).
    pub fn shares_file(&self) -> PathBuf {
        self.state.join("shares.json")
    }

    /// What Tandem changed in each client's config file.
    pub fn installs_file(&self) -> PathBuf {
        self.state.join("installs.json")
    }

    /// Present once the app has been started with this state folder.
    pub fn app_welcomed_file(&self) -> PathBuf {
        self.state.join("app-welcomed")
    }

    pub fn settings(&self) -> Result<Settings> {
        Settings::load(&self.settings_file())
    }

    /// Moves the shared folder to `dir` (created if missing; `None`: back to the default) and
    /// saves it for every process. Nothing in the old folder is moved or deleted. Returns the
    /// home as it now resolves.
    pub fn move_shared_dir(&self, dir: Option<&Path>) -> Result<Self> {
        let mut settings = self.settings()?;
        settings.shared_folder = match dir {
            None => None,
            Some(dir) => {
                let absolute = std::path::absolute(dir).map_err(|source| io(dir, source))?;
                std::fs::create_dir_all(&absolute).map_err(|source| io(&absolute, source))?;
                // Links resolved on Unix; on Windows the plain absolute path (a canonical one
                // there is a `\\?\` path that people do not recognise).
                #[cfg(not(windows))]
                let absolute =
                    std::fs::canonicalize(&absolute).map_err(|source| io(&absolute, source))?;
                (absolute != self.default_shared).then_some(absolute)
            }
        };
        settings.save(&self.settings_file())?;
        let mut moved = self.clone();
        moved.shared = settings
            .shared_folder
            .unwrap_or_else(|| self.default_shared.clone());
        Ok(moved)
    }

    /// The folder an earlier Tandem used as the shared folder (`<state>/shared`, which the hub
    /// served while clients used `~/Tandem`) when it is not the shared folder now and holds
    /// more than Tandem seeds there, unless the person dismissed its notice.
    pub fn leftover(&self) -> Option<Leftover> {
        let folder = self.state.join("shared");
        if same_folder(&folder, &self.shared) || !folder.is_dir() {
            return None;
        }
        let settings = self.settings().ok()?;
        if settings.dismissed_leftovers.contains(&folder) {
            return None;
        }
        let files = crate::workspace::files_beyond_seed(&folder);
        (files > 0).then(|| Leftover {
            folder,
            shared_dir: self.shared.clone(),
            files,
        })
    }

    /// Stops showing the notice for `folder` (its files stay where they are).
    pub fn dismiss_leftover(&self, folder: &Path) -> Result<()> {
        let mut settings = self.settings()?;
        if settings.dismissed_leftovers.insert(folder.to_path_buf()) {
            settings.save(&self.settings_file())?;
        }
        Ok(())
    }

    /// What a server started for this home serves, as its `/health` reports it.
    pub fn served(&self) -> Served {
        Served {
            state_dir: self.state.clone(),
            shared_dir: self.shared.clone(),
            store: self
                .memory_location()
                .map(|l| l.shown())
                .unwrap_or_else(|_| self.memory_db().display().to_string()),
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> crate::StoreError {
    crate::StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Two paths name the same folder (compared canonically where they exist).
fn same_folder(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canonical(a) == canonical(b)
}

/// A folder with files that no Tandem process uses any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leftover {
    /// The folder that holds them.
    pub folder: PathBuf,
    /// The shared folder every process uses.
    pub shared_dir: PathBuf,
    /// How many files it holds beyond Tandem's own README and `handoffs/` (counted up to a
    /// bound).
    pub files: usize,
}

impl Leftover {
    /// One sentence for a person: which folder is the shared one, and where the others are.
    pub fn message(&self) -> String {
        format!(
            "Tandem's shared folder is {}. An earlier version also used {}, which still holds \
             {} file{} of yours; nothing was moved or deleted: move what you need into the \
             shared folder.",
            self.shared_dir.display(),
            self.folder.display(),
            self.files,
            if self.files == 1 { "" } else { "s" }
        )
    }
}

/// The folders and store a Tandem server works on (the hub reports it on `/health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub state_dir: PathBuf,
    pub shared_dir: PathBuf,
    pub store: String,
}

impl Served {
    /// The same folders and store (paths compared canonically).
    pub fn same_as(&self, other: &Served) -> bool {
        same_folder(&self.state_dir, &other.state_dir)
            && same_folder(&self.shared_dir, &other.shared_dir)
            && same_folder(Path::new(&self.store), Path::new(&other.store))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_lives_under_an_explicit_root() {
        let home = Home::at("/tmp/t");
        assert_eq!(home.memory_db(), Path::new("/tmp/t/memory.db"));
        assert_eq!(home.shared_dir(), Path::new("/tmp/t/shared"));
        assert_eq!(home.logs_dir(), Path::new("/tmp/t/logs"));
        assert_eq!(home.backups_dir(), Path::new("/tmp/t/backups"));
        assert_eq!(home.hub_token(), Path::new("/tmp/t/hub.token"));
        assert_eq!(home.explicit_root(), Some(Path::new("/tmp/t")));
    }

    #[test]
    fn the_saved_shared_folder_is_what_every_resolution_of_the_home_uses() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("state"));
        let plans = dir.path().join("plans");
        let moved = home.move_shared_dir(Some(&plans)).unwrap();
        let plans = std::fs::canonicalize(&plans).unwrap();
        assert_eq!(moved.shared_dir(), plans);
        let again = Home::at(dir.path().join("state")).with_settings().unwrap();
        assert_eq!(again, moved);
        let back = again.move_shared_dir(None).unwrap();
        assert_eq!(back.shared_dir(), dir.path().join("state/shared"));
        assert_eq!(back.settings().unwrap().shared_folder, None);
    }

    #[test]
    fn a_leftover_folder_is_reported_until_dismissed_and_never_touched() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let home = Home::at(&state)
            .move_shared_dir(Some(&dir.path().join("Tandem")))
            .unwrap();
        // What Tandem seeds there is not worth a notice.
        crate::Workspace::open(state.join("shared")).unwrap();
        assert_eq!(home.leftover(), None);
        std::fs::write(state.join("shared/handoffs/plan.md"), "# plan").unwrap();
        std::fs::write(state.join("shared/notes.md"), "notes").unwrap();
        let leftover = home.leftover().expect("a leftover");
        assert_eq!(leftover.files, 2);
        assert_eq!(leftover.folder, state.join("shared"));
        assert!(
            leftover
                .message()
                .contains(&home.shared_dir().display().to_string())
        );
        home.dismiss_leftover(&leftover.folder).unwrap();
        assert_eq!(home.leftover(), None);
        assert!(state.join("shared/handoffs/plan.md").exists());
        // The folder that is the shared one is never a leftover.
        let back = home.move_shared_dir(None).unwrap();
        assert_eq!(back.leftover(), None);
    }
}
