//! The app's state, shared by commands, the tray and the background threads: the store and the
//! shared folder, the installer, the supervised hub, the last doctor checks and the clients'
//! status. Background work (watchers, hub, probes) reports through one notifier, which the
//! wiring in `lib.rs` turns into window events and tray refreshes.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard, RwLock},
    time::Duration,
};

use tandem_clients::{ChildProbe, ClientId, DoctorRecord, HubReport, Installer, Probe};
use tandem_store::{
    Home, Leftover, Workspace,
    memory::{Change, MemoryStore, StoreLocation},
    watch::{ChangeWatcher, FolderWatcher},
};

use crate::{
    config_watch::{self, ConfigWatcher},
    health::{self, ClientView, Health, Logs},
    launch::Launch,
    supervisor::{ChildState, Supervisor},
};

/// What changed, for whoever shows it.
#[derive(Debug, Clone)]
pub enum Topic {
    Handoffs,
    Memory(Vec<Change>),
    Health,
}

pub type Notifier = Arc<dyn Fn(Topic) + Send + Sync>;

/// Who the app is when it writes (shown as "Tandem" in the views).
pub const BY: &str = concat!("tandem-app ", env!("CARGO_PKG_VERSION"));

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T: Clone>(m: &RwLock<T>) -> T {
    m.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn write<T>(m: &RwLock<T>, value: T) {
    *m.write().unwrap_or_else(|e| e.into_inner()) = value;
}

#[derive(Default)]
struct Background {
    memory: Option<ChangeWatcher>,
    folder: Option<FolderWatcher>,
    configs: Option<ConfigWatcher>,
    settings: Option<ConfigWatcher>,
}

#[derive(Default)]
struct DoctorControl {
    wanted: bool,
    stopping: bool,
}

pub struct Tandem {
    pub launch: Launch,
    pub installer: Installer,
    /// The folders as they resolve now: the shared folder follows the saved setting.
    home: RwLock<Home>,
    /// The memory store, or why it could not be opened. A team store that was down when the
    /// app started is opened when it answers (see [`Tandem::check_team`]).
    store: RwLock<Result<Arc<MemoryStore>, String>>,
    workspace: RwLock<Result<Arc<Workspace>, String>>,
    /// Files an earlier version left in a folder no process uses now (until dismissed).
    leftover: RwLock<Option<Leftover>>,
    /// Held while the app follows a moved shared folder (the window's move and the settings
    /// watcher may both ask).
    moving: Mutex<()>,
    notify: Notifier,
    hub: Mutex<ChildState>,
    /// What answers on the hub's port, as last checked (on the supervisor's thread, at each
    /// change of the hub's state: never on the main thread, which a hung port would block).
    hub_report: Mutex<Option<(u16, HubReport)>>,
    supervisor: Mutex<Option<Supervisor>>,
    clients: Mutex<Vec<ClientView>>,
    was_connected: Mutex<BTreeSet<ClientId>>,
    checks: Mutex<Option<DoctorRecord>>,
    probe: Arc<dyn Probe + Send + Sync>,
    doctor: (Mutex<DoctorControl>, Condvar),
    background: Mutex<Background>,
    app_log_dir: Mutex<Option<PathBuf>>,
    /// The team store's last check (`None` on the SQLite file).
    team: Mutex<Option<health::TeamState>>,
}

impl Tandem {
    /// Opens the store and the shared folder (creating them on first use) and reads the
    /// clients' status. Starts nothing: see [`Tandem::start`].
    pub fn open(launch: Launch, notify: Notifier) -> Self {
        let home = launch.home.clone();
        let store = home
            .memory_location()
            .and_then(|location| MemoryStore::open_at(&location))
            .map(Arc::new)
            .map_err(|e| e.to_string());
        let workspace = match &launch.home_error {
            Some(e) => Err(e.clone()),
            None => open_workspace(&home),
        };
        let installer = Installer::new(home.clone(), launch.host.clone());
        let probe = Arc::new(ChildProbe::new(launch.host.clone()));
        let tandem = Self {
            launch,
            installer,
            leftover: RwLock::new(home.leftover()),
            home: RwLock::new(home.clone()),
            store: RwLock::new(store),
            workspace: RwLock::new(workspace),
            moving: Mutex::new(()),
            notify,
            hub: Mutex::new(ChildState::new()),
            hub_report: Mutex::new(None),
            supervisor: Mutex::new(None),
            clients: Mutex::new(Vec::new()),
            was_connected: Mutex::new(BTreeSet::new()),
            checks: Mutex::new(DoctorRecord::load(&home).ok().flatten()),
            probe,
            doctor: (Mutex::new(DoctorControl::default()), Condvar::new()),
            background: Mutex::new(Background::default()),
            app_log_dir: Mutex::new(None),
            team: Mutex::new(None),
        };
        tandem.refresh_clients();
        tandem
    }

    pub fn store(&self) -> Result<Arc<MemoryStore>, String> {
        read(&self.store)
    }

    pub fn workspace(&self) -> Result<Arc<Workspace>, String> {
        read(&self.workspace)
    }

    /// The folders as every Tandem process resolves them now.
    pub fn home(&self) -> Home {
        read(&self.home)
    }

    pub fn shared_dir(&self) -> PathBuf {
        self.home().shared_dir().to_path_buf()
    }

    pub fn leftover(&self) -> Option<Leftover> {
        read(&self.leftover)
    }

    /// Stops showing the notice about the leftover folder (its files stay).
    pub fn dismiss_leftover(&self) -> Result<(), String> {
        if let Some(leftover) = self.leftover() {
            self.home()
                .dismiss_leftover(&leftover.folder)
                .map_err(|e| e.to_string())?;
        }
        write(&self.leftover, None);
        self.notify(Topic::Health);
        Ok(())
    }

    /// Moves the shared folder to `dir` (`None`: the default), saved for every process, and
    /// follows it: the window, the tray and the hub use the new folder.
    pub fn move_shared(self: &Arc<Self>, dir: Option<&Path>) -> Result<Home, String> {
        if let Some(e) = &self.launch.home_error {
            return Err(e.clone());
        }
        let moved = self
            .home()
            .move_shared_dir(dir)
            .map_err(|e| e.to_string())?;
        self.follow(moved.clone());
        Ok(moved)
    }

    /// Reads the saved setting again (another process may have moved the shared folder) and
    /// follows it.
    fn reload_settings(self: &Arc<Self>) {
        match self.launch.home.clone().with_settings() {
            Ok(home) => self.follow(home),
            Err(e) => log::error!("{e}"),
        }
    }

    /// Uses `home`'s folders from now on, if they differ from the current ones.
    fn follow(self: &Arc<Self>, home: Home) {
        let _moving = lock(&self.moving);
        if self.home() == home {
            return;
        }
        log::info!("the shared folder is now {}", home.shared_dir().display());
        write(&self.workspace, open_workspace(&home));
        write(&self.leftover, home.leftover());
        write(&self.home, home);
        self.watch_folder();
        self.restart_hub();
        self.notify(Topic::Handoffs);
        self.notify(Topic::Health);
    }

    pub fn set_app_log_dir(&self, dir: PathBuf) {
        *lock(&self.app_log_dir) = Some(dir);
    }

    /// Starts the background work the launch asks for: live watchers, the hub, the config
    /// watcher, the doctor.
    pub fn start(self: &Arc<Self>) {
        self.watch_store();
        self.check_team();
        self.watch_folder();
        self.watch_settings();
        if self.launch.watch_configs {
            self.watch_configs();
        }
        self.start_hub();
        if let Some(every) = self.launch.probe_every {
            self.start_doctor(every);
        }
    }

    fn start_hub(self: &Arc<Self>) {
        let Some((spec, port)) = self.launch.hub.clone() else {
            return;
        };
        let me = Arc::downgrade(self);
        let started = Supervisor::start(spec, self.launch.backoff, move |state| {
            if let Some(me) = me.upgrade() {
                *lock(&me.hub) = state.clone();
                *lock(&me.hub_report) = Some((port, HubReport::check(port)));
                (me.notify)(Topic::Health);
            }
        });
        match started {
            Ok(sup) => *lock(&self.supervisor) = Some(sup),
            Err(e) => log::error!("could not start the hub's supervisor: {e}"),
        }
    }

    /// A hub started before the shared folder moved serves the old one: stop it, start anew.
    fn restart_hub(self: &Arc<Self>) {
        let running = lock(&self.supervisor).take();
        if let Some(mut sup) = running {
            sup.stop();
            self.start_hub();
        }
    }

    /// On a team store, checks every `team_check` that the database answers, and tells the
    /// window and the tray when that changes (down: red icon, and Health says why). A team
    /// store that could not be opened when the app started is opened as soon as it answers,
    /// and watched from then on. The thread ends with the app.
    fn check_team(self: &Arc<Self>) {
        let Ok(location @ StoreLocation::Team { .. }) = self.home().memory_location() else {
            return;
        };
        let me = Arc::downgrade(self);
        let every = self.launch.team_check;
        let spawned = std::thread::Builder::new()
            .name("tandem-team-check".into())
            .spawn(move || {
                loop {
                    let Some(me) = me.upgrade() else { return };
                    if lock(&me.doctor.0).stopping {
                        return;
                    }
                    let state = match me.store() {
                        Ok(store) => match store.team() {
                            Some(team) => team_state(team, team.ping()),
                            None => return,
                        },
                        Err(_) => match MemoryStore::open_at(&location) {
                            Ok(store) => {
                                let store = Arc::new(store);
                                let state = match store.team() {
                                    Some(team) => team_state(team, team.ping()),
                                    None => return,
                                };
                                log::info!("the team store answers: memory is open");
                                write(&me.store, Ok(store));
                                me.watch_store();
                                (me.notify)(Topic::Memory(Vec::new()));
                                state
                            }
                            Err(e) => {
                                write(&me.store, Err(e.to_string()));
                                health::TeamState {
                                    up: false,
                                    detail: e.to_string(),
                                    latency_ms: None,
                                }
                            }
                        },
                    };
                    let changed = {
                        let mut last = lock(&me.team);
                        let changed = last.as_ref().map(|s| (s.up, &s.detail))
                            != Some((state.up, &state.detail));
                        *last = Some(state);
                        changed
                    };
                    if changed {
                        (me.notify)(Topic::Health);
                    }
                    drop(me);
                    std::thread::sleep(every);
                }
            });
        if let Err(e) = spawned {
            log::error!("cannot check the team store: {e}");
        }
    }

    fn watch_store(self: &Arc<Self>) {
        let mut bg = lock(&self.background);
        if let Ok(store) = self.store() {
            let notify = self.notify.clone();
            match ChangeWatcher::spawn(store, move |changes| notify(Topic::Memory(changes))) {
                Ok(w) => bg.memory = Some(w),
                Err(e) => log::error!("cannot watch the memory store: {e}"),
            }
        }
    }

    /// (Re)starts the watcher of the shared folder's handoffs.
    fn watch_folder(self: &Arc<Self>) {
        let watched = self.workspace().map(|ws| {
            let notify = self.notify.clone();
            let handoffs = ws.root().join(tandem_store::workspace::HANDOFFS_DIR);
            FolderWatcher::spawn(ws.root(), move |paths| {
                if paths.iter().any(|p| p.starts_with(&handoffs)) {
                    notify(Topic::Handoffs);
                }
            })
        });
        let mut bg = lock(&self.background);
        bg.folder = match watched {
            Ok(Ok(w)) => Some(w),
            Ok(Err(e)) => {
                log::error!("cannot watch the shared folder: {e}");
                None
            }
            Err(_) => None,
        };
    }

    /// Follows the saved settings: `tandem folder set` while the app runs moves the app too.
    fn watch_settings(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        let file = self.launch.home.settings_file();
        match ConfigWatcher::spawn(std::slice::from_ref(&file), move || {
            if let Some(me) = me.upgrade() {
                me.reload_settings();
            }
        }) {
            Ok(w) => lock(&self.background).settings = Some(w),
            Err(e) => log::error!("cannot watch {}: {e}", file.display()),
        }
    }

    /// The clients' config files at user scope.
    fn config_files(&self) -> Vec<PathBuf> {
        ClientId::ALL
            .into_iter()
            .flat_map(|id| {
                self.installer
                    .config_paths(id, &tandem_clients::Scope::User)
                    .unwrap_or_default()
            })
            .collect()
    }

    /// (Re)starts the watcher of the clients' config files. A folder that does not exist yet
    /// is watched through its parent; once it appears (a client installed, or Tandem
    /// connecting it), the watcher is started again on the folder itself.
    pub fn watch_configs(self: &Arc<Self>) {
        let files = self.config_files();
        let me = Arc::downgrade(self);
        match ConfigWatcher::spawn(&files, move || {
            let Some(me) = me.upgrade() else { return };
            if me.refresh_clients() {
                (me.notify)(Topic::Health);
            }
            let moved = {
                let bg = lock(&me.background);
                bg.configs
                    .as_ref()
                    .is_some_and(|w| *w.watched() != config_watch::folders(&me.config_files()))
            };
            if moved {
                me.watch_configs();
            }
        }) {
            Ok(w) => lock(&self.background).configs = Some(w),
            Err(e) => log::error!("cannot watch the clients' config files: {e}"),
        }
    }

    fn start_doctor(self: &Arc<Self>, every: Duration) {
        let me = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("tandem-doctor".into())
            .spawn(move || {
                loop {
                    let Some(tandem) = me.upgrade() else { return };
                    tandem.run_checks();
                    // Sleep until the next round, a "check now", or the end.
                    let (control, wake) = &tandem.doctor;
                    let mut c = lock(control);
                    let deadline = std::time::Instant::now() + every;
                    while !c.wanted && !c.stopping {
                        let Some(left) = deadline.checked_duration_since(std::time::Instant::now())
                        else {
                            break;
                        };
                        c = wake
                            .wait_timeout(c, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    if c.stopping {
                        return;
                    }
                    c.wanted = false;
                }
            });
        if let Err(e) = spawned {
            log::error!("could not start the doctor: {e}");
        }
    }

    /// Probes every configured entry now (on the calling thread) and publishes the result.
    pub fn run_checks(&self) {
        let record = tandem_clients::doctor::run(&self.installer, self.probe.as_ref());
        *lock(&self.checks) = Some(record);
        (self.notify)(Topic::Health);
    }

    /// Asks the doctor thread for a round now.
    pub fn check_soon(&self) {
        lock(&self.doctor.0).wanted = true;
        self.doctor.1.notify_all();
    }

    /// Re-reads every client's config; true when anything changed.
    pub fn refresh_clients(&self) -> bool {
        let views = {
            let was = lock(&self.was_connected).clone();
            health::clients(&self.installer, &self.launch.tandem, &was)
        };
        {
            let mut was = lock(&self.was_connected);
            for v in views.iter().filter(|v| v.connected) {
                if let Ok(id) = v.id.parse() {
                    was.insert(id);
                }
            }
        }
        let mut current = lock(&self.clients);
        let changed = *current != views;
        *current = views;
        changed
    }

    pub fn hub_state(&self) -> ChildState {
        lock(&self.hub).clone()
    }

    pub fn health(&self) -> Health {
        let clients = lock(&self.clients).clone();
        let record = lock(&self.checks).clone();
        let (checks, checked_at) = match &record {
            Some(r) => (r.checks.clone(), Some(r.at.as_str())),
            None => (Vec::new(), None),
        };
        let hub = self.hub_state();
        let home = self.home();
        // What answers on the hub's port: this installation's hub, or one that serves other
        // folders (left by an older version, say), which is flagged and never called ours.
        let hub_report = lock(&self.hub_report).clone();
        let leftover = self.leftover();
        let team = lock(&self.team).clone();
        let store_error = self.store().err();
        health::assemble(health::Inputs {
            clients: &clients,
            checks: &checks,
            checked_at,
            hub: self.launch.hub.as_ref().map(|(_, port)| (&hub, *port)),
            memory_error: store_error.as_deref(),
            team: team.as_ref(),
            logs: Logs {
                app: lock(&self.app_log_dir)
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                tandem: home.logs_dir().display().to_string(),
            },
            tandem: &self.launch.tandem,
            home: &home,
            home_error: self.launch.home_error.as_deref(),
            hub_report: hub_report.as_ref().map(|(port, r)| (*port, r)),
            leftover: leftover.as_ref(),
        })
    }

    /// Stops the hub (no orphan) and the background threads. Called on Quit.
    pub fn shutdown(&self) {
        {
            let mut c = lock(&self.doctor.0);
            c.stopping = true;
        }
        self.doctor.1.notify_all();
        if let Some(mut sup) = lock(&self.supervisor).take() {
            sup.stop();
        }
        *lock(&self.background) = Background::default();
    }

    /// True the first time the app starts with this state folder (remembered in
    /// `$TANDEM_HOME/app-welcomed`).
    pub fn first_visit(&self) -> bool {
        let marker = self.launch.home.app_welcomed_file();
        if marker.exists() {
            return false;
        }
        if let Err(e) = std::fs::write(&marker, b"") {
            log::warn!("writing {}: {e}", marker.display());
        }
        true
    }

    pub fn notify(&self, topic: Topic) {
        (self.notify)(topic);
    }
}

/// What a ping of the team store says, for Health.
fn team_state(
    team: &tandem_store::memory::team::TeamMemory,
    ping: tandem_store::Result<Duration>,
) -> health::TeamState {
    match ping {
        Ok(latency) => health::TeamState {
            up: true,
            detail: format!(
                "team {} on {} as {}",
                team.team(),
                team.shown(),
                team.member()
            ),
            latency_ms: Some(latency.as_millis() as u64),
        },
        Err(e) => health::TeamState {
            up: false,
            detail: e.to_string(),
            latency_ms: None,
        },
    }
}

fn open_workspace(home: &Home) -> Result<Arc<Workspace>, String> {
    Workspace::open(home.shared_dir())
        .map(Arc::new)
        .map_err(|e| e.to_string())
}
