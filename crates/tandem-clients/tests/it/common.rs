//! A fake home, a fake `tandem` binary and a Tandem state folder, all in one temp folder.

use std::path::{Path, PathBuf};

use tandem_clients::{
    Applied, ClientId, HostEnv, InstallOptions, Installer, NamedEntry, Os, Plan, Scope,
    UninstallOptions, entry,
};
use tandem_store::Home;
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
    pub installer: Installer,
    pub bin: PathBuf,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let bin = dir.path().join("bin").join("tandem");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::write(&bin, "").unwrap();
        let mut host = HostEnv::new(Os::current(), &home);
        host.appdata = Some(home.join("AppData").join("Roaming"));
        host.vars.insert("SEARCH_KEY".into(), "s3cret".into());
        let installer = Installer::new(Home::at(dir.path().join("state")), host);
        Self {
            dir,
            installer,
            bin,
        }
    }

    pub fn entries(&self) -> Vec<NamedEntry> {
        entry::tandem_entries(&self.bin, self.installer.host(), None)
    }

    pub fn path(&self, id: ClientId) -> PathBuf {
        self.installer
            .config_paths(id, &Scope::User)
            .unwrap()
            .remove(0)
    }

    pub fn write(&self, id: ClientId, text: &str) -> PathBuf {
        let path = self.path(id);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn plan_install(&self, id: ClientId) -> Plan {
        self.installer
            .plan_install(id, &self.entries(), &InstallOptions::default())
            .unwrap()
    }

    pub fn install(&self, id: ClientId) -> Applied {
        self.installer.apply(&self.plan_install(id)).unwrap()
    }

    pub fn uninstall(&self, id: ClientId) -> Applied {
        let plan = self
            .installer
            .plan_uninstall(id, &UninstallOptions::default())
            .unwrap();
        self.installer.apply(&plan).unwrap()
    }

    pub fn backups(&self, path: &Path) -> Vec<PathBuf> {
        self.installer.backups().list(path)
    }

    /// Replaces temp-folder paths so snapshots are stable.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.dir.path().to_string_lossy().into_owned(), "[TMP]")
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}
