//! How the app was started: the command line (`--open`), the state folder, the hub it runs and
//! how often it probes. Tests build one by hand around temp folders and stand-in hubs.

use std::{path::PathBuf, time::Duration};

use tandem_clients::{HostEnv, Os};
use tandem_store::Home;

use crate::{
    hub,
    supervisor::{Backoff, ChildSpec},
};

pub const OPEN: &str = "--open";
pub const QUIT: &str = "--quit";

/// Every 5 minutes, every configured entry is started and checked.
pub const PROBE_EVERY: Duration = Duration::from_secs(5 * 60);
/// The team store is checked this often: a database that goes down turns the icon red within
/// this time (and a write fails at once, whatever the check says).
pub const TEAM_CHECK: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Launch {
    pub home: Home,
    /// Why the saved settings could not be read (the home is then the defaults, and the
    /// shared folder is not opened: it may not be the one every other process uses).
    pub home_error: Option<String>,
    /// Where the clients' config files are looked for.
    pub host: HostEnv,
    /// The `tandem` binary written into client configs and run as the hub.
    pub tandem: PathBuf,
    /// Open the window at start (`--open`); otherwise the app starts in the tray only.
    pub open_window: bool,
    /// `--quit`: quit the running instance (as its menu's Quit does); alone, start nothing.
    pub quit: bool,
    /// Build the tray icon (never under the mock runtime: it needs GTK).
    pub tray: bool,
    /// The hub to supervise, and its port; `None` runs none.
    pub hub: Option<(ChildSpec, u16)>,
    pub backoff: Backoff,
    /// `None`: no doctor probes (tests that do not need them).
    pub probe_every: Option<Duration>,
    /// Watch the clients' config files for drift.
    pub watch_configs: bool,
    /// How often the team store (when memory is on one) is checked for Health and the icon.
    pub team_check: Duration,
}

impl Launch {
    /// The real app: state from the environment, the sidecar next to the executable, the hub
    /// on its port.
    pub fn from_env() -> Self {
        let (home, home_error) = match Home::resolve() {
            Ok(home) => (home, None),
            Err(e) => (Home::unsaved(), Some(e.to_string())),
        };
        let appdir = std::env::var_os("APPIMAGE")
            .and(std::env::var_os("APPDIR"))
            .map(PathBuf::from);
        let tandem = hub::outside_appimage(hub::tandem_binary(), &home, appdir.as_deref());
        let port = tandem_store::paths::hub_port_from_env();
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            hub: Some((hub::spec(&tandem, &home, port), port)),
            home,
            home_error,
            host: HostEnv::capture(),
            tandem,
            open_window: args.iter().any(|a| a == OPEN),
            quit: args.iter().any(|a| a == QUIT),
            tray: true,
            backoff: Backoff::HUB,
            probe_every: Some(PROBE_EVERY),
            watch_configs: true,
            team_check: TEAM_CHECK,
        }
    }

    /// State in `root/state`, the person's home in `root/home`, nothing started in the
    /// background but the live watchers: what unit tests start from.
    pub fn for_tests(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let home = Home::at(root.join("state"));
        let mut host = HostEnv::new(Os::current(), root.join("home"));
        host.xdg_config_home = Some(root.join("home").join(".config"));
        Self {
            home,
            home_error: None,
            host,
            tandem: hub::tandem_binary(),
            open_window: false,
            quit: false,
            tray: false,
            hub: None,
            backoff: Backoff::HUB,
            probe_every: None,
            watch_configs: false,
            team_check: Duration::from_millis(200),
        }
    }
}
