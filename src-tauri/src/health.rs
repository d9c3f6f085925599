//! The Health view and the tray's status: per client (detected, entries installed and current,
//! last doctor result, needs repair), per server (workspace, memory, hub), and one overall
//! state with a status line.

use std::{collections::BTreeSet, path::Path};

use serde::Serialize;
use tandem_clients::{
    ClientId, DoctorCheck, HubReport, Installer, ProbeOutcome, Scope,
    entry::{MEMORY, WORKSPACE},
};
use tandem_store::{Home, Leftover, Served};

use crate::supervisor::{ChildState, Phase};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Overall {
    Ok,
    Degraded,
    Down,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Ok => "ok",
            Overall::Degraded => "degraded",
            Overall::Down => "down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub name: String,
    /// "current", "outdated", "binary missing", "unexpected arguments", "not the hub's address",
    /// "old hub token", "changed by something else".
    pub health: String,
    pub ours: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub id: String,
    pub name: String,
    pub detected: bool,
    /// Both of Tandem's entries are there and Tandem's.
    pub connected: bool,
    /// … and each is as an install would write it now.
    pub current: bool,
    /// Tandem's entry disappeared or was changed by something else: Repair puts it back.
    pub needs_repair: bool,
    pub entries: Vec<EntryView>,
    /// A config file that cannot be read, and what to do.
    pub problem: Option<String>,
    pub config_paths: Vec<String>,
    pub restart_note: String,
    pub needs_restart: bool,
    /// Claude Code reaches Tandem through the Tandem plugin (its id): no entry is needed.
    pub plugin: Option<String>,
    /// … and Tandem's own entries are there too, so each server starts twice.
    pub doubled: bool,
    /// What the person should do about the row's state, when there is something.
    pub advice: Option<String>,
    /// What the row says: `unreadable`, `doubled`, `plugin`, `needs-repair`, `connected`,
    /// `outdated` or `not-connected`, and its words.
    pub state: &'static str,
    pub state_label: &'static str,
}

impl ClientView {
    fn settle_state(&mut self) {
        (self.state, self.state_label) = if self.problem.is_some() {
            ("unreadable", "config file unreadable")
        } else if self.doubled {
            ("doubled", "connected twice (plugin and entries)")
        } else if self.plugin.is_some() {
            ("plugin", "connected through the Tandem plugin")
        } else if self.needs_repair {
            ("needs-repair", "needs repair")
        } else if self.current {
            ("connected", "connected")
        } else if self.connected {
            ("outdated", "connected (outdated)")
        } else {
            ("not-connected", "not connected")
        };
    }
}

/// Every client in the catalogue, as its config files are now. `was_connected`: clients seen
/// connected before, whose entries are therefore missed when they disappear.
pub fn clients(
    installer: &Installer,
    tandem: &Path,
    was_connected: &BTreeSet<ClientId>,
) -> Vec<ClientView> {
    ClientId::ALL
        .into_iter()
        .map(|id| {
            let client = id.client();
            let mut view = ClientView {
                id: id.as_str().to_string(),
                name: client.name.to_string(),
                detected: tandem_clients::catalog::detect(id, installer.host()).detected(),
                connected: false,
                current: false,
                needs_repair: false,
                entries: Vec::new(),
                problem: None,
                config_paths: Vec::new(),
                restart_note: client.reload.hint(client),
                needs_restart: client.reload.needs_restart(),
                plugin: None,
                doubled: false,
                advice: None,
                state: "",
                state_label: "",
            };
            let expected = |read: &_| crate::connect::entries_as_read(installer, tandem, read).ok();
            let status = match installer.status_with(id, &Scope::User, expected) {
                Ok(status) => status,
                Err(e) => {
                    view.problem = Some(e.to_string());
                    view.settle_state();
                    return view;
                }
            };
            for file in &status.files {
                view.config_paths.push(file.path.display().to_string());
                if let Some(problem) = &file.problem {
                    view.problem = Some(problem.clone());
                }
                for e in &file.entries {
                    view.entries.push(EntryView {
                        name: e.name.clone(),
                        health: e.health.label().to_string(),
                        ours: e.ours,
                    });
                }
            }
            let ours = |name: &str| view.entries.iter().any(|e| e.name == name && e.ours);
            view.connected = ours(WORKSPACE) && ours(MEMORY);
            view.current = view.connected && view.entries.iter().all(|e| e.health == "current");
            let named = |name: &str| view.entries.iter().any(|e| e.name == name);
            let any_tandem = named(WORKSPACE) || named(MEMORY);
            view.needs_repair = view.problem.is_none()
                && ((any_tandem && !view.current) || (!any_tandem && was_connected.contains(&id)));
            if let Some(plugin) = status.through_plugin() {
                // The plugin's servers are Tandem's way in: nothing to connect or repair.
                view.plugin = Some(plugin.id.clone());
                view.doubled = status.doubled();
                view.needs_repair = false;
                view.connected = true;
                view.current = true;
                if view.doubled {
                    view.advice = Some(format!(
                        "The Tandem plugin ({}) and Tandem's own entries are both there, so \
                         Claude Code starts each server twice: `tandem uninstall --client \
                         claude-code` removes the entries.",
                        plugin.id
                    ));
                }
            }
            view.settle_state();
            view
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    pub id: String,
    pub name: String,
    /// workspace and memory: "ok", "failing", "unchecked", "unavailable"; hub: the phase.
    pub state: String,
    pub detail: String,
    pub latency_ms: Option<u64>,
    pub restarts: Option<u32>,
    pub port: Option<u16>,
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    pub app: String,
    pub tandem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub overall: Overall,
    pub status_line: String,
    pub problems: Vec<String>,
    pub servers: Vec<ServerView>,
    pub clients: Vec<ClientView>,
    /// The doctor's last checks (the app's own, or `tandem doctor`'s), and when they ran.
    pub checks: Vec<DoctorCheck>,
    pub checked_at: Option<String>,
    /// No client is connected yet: the window offers to connect them all.
    pub first_run: bool,
    pub logs: Logs,
    pub tandem: String,
    pub shared_dir: String,
    /// Where this installation keeps things, as every Tandem process resolves it.
    pub home: HomeView,
    /// What the hub on the app's port reports it serves (`None`: no hub answers).
    pub hub_serves: Option<Served>,
    /// Things to tell the person once, until dismissed.
    pub notices: Vec<Notice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HomeView {
    pub state_dir: String,
    pub shared_dir: String,
    /// The shared folder when no setting moves it.
    pub default_shared_dir: String,
    pub store: String,
    pub settings_file: String,
    /// The settings file cannot be read: what is wrong and what to do.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// `leftover`: files in a folder an earlier version used.
    pub kind: String,
    pub message: String,
    /// The folder the notice is about (to open it).
    pub folder: String,
}

/// What goes into the overall state, gathered by the app.
pub struct Inputs<'a> {
    pub clients: &'a [ClientView],
    pub checks: &'a [DoctorCheck],
    pub checked_at: Option<&'a str>,
    /// `None` when the app runs no hub.
    pub hub: Option<(&'a ChildState, u16)>,
    /// Why the memory store could not be opened.
    pub memory_error: Option<&'a str>,
    /// The team store's last check, when memory is on one.
    pub team: Option<&'a TeamState>,
    pub logs: Logs,
    pub tandem: &'a Path,
    pub home: &'a Home,
    pub home_error: Option<&'a str>,
    /// What answers on the hub's port.
    pub hub_report: Option<(u16, &'a HubReport)>,
    pub leftover: Option<&'a Leftover>,
}

fn server_from_checks(id: &str, name: &str, entry: &str, checks: &[DoctorCheck]) -> ServerView {
    let mine: Vec<&DoctorCheck> = checks
        .iter()
        .filter(|c| c.name == entry && c.outcome != ProbeOutcome::Skipped)
        .collect();
    let failed: Vec<&&DoctorCheck> = mine.iter().filter(|c| c.failed()).collect();
    let (state, detail) = if mine.is_empty() {
        ("unchecked", "no client has it configured yet".to_string())
    } else if let Some(f) = failed.first() {
        ("failing", format!("{}: {}", f.client, f.detail))
    } else {
        ("ok", format!("answered for {} client(s)", mine.len()))
    };
    ServerView {
        id: id.into(),
        name: name.into(),
        state: state.into(),
        detail,
        latency_ms: mine.iter().map(|c| c.latency_ms).max(),
        restarts: None,
        port: None,
        pid: None,
    }
}

/// How the team store answered the app's last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamState {
    pub up: bool,
    /// Which team, where, as whom; or why it cannot be reached.
    pub detail: String,
    pub latency_ms: Option<u64>,
}

pub fn assemble(i: Inputs<'_>) -> Health {
    let mut problems = Vec::new();
    let workspace = server_from_checks("workspace", "Workspace", WORKSPACE, i.checks);
    let mut memory = server_from_checks("memory", "Memory", MEMORY, i.checks);
    if let Some(e) = i.memory_error {
        memory.state = "unavailable".into();
        memory.detail = e.to_string();
        problems.push(format!("The memory store cannot be opened: {e}"));
    }
    let team_down = i.team.is_some_and(|t| !t.up);
    let team = i.team.map(|t| {
        if !t.up {
            memory.state = "unavailable".into();
            memory.detail = format!("the team store is down: {}", t.detail);
            problems.push(format!("The team store is down: {}", t.detail));
        }
        ServerView {
            id: "team".into(),
            name: "Team store".into(),
            state: if t.up { "ok" } else { "unavailable" }.into(),
            detail: t.detail.clone(),
            latency_ms: t.latency_ms,
            restarts: None,
            port: None,
            pid: None,
        }
    });
    let mut servers = vec![workspace, memory];
    servers.extend(team);
    let mut hub_down = false;
    if let Some((hub, port)) = i.hub {
        let detail = match hub.phase {
            Phase::Running => format!("listening on 127.0.0.1:{port}"),
            Phase::Starting => "starting".to_string(),
            Phase::Waiting => format!(
                "{}; restarting in {:.1} s",
                hub.last_exit.as_deref().unwrap_or("stopped"),
                hub.restart_delay_ms.unwrap_or(0) as f64 / 1000.0
            ),
            Phase::Stopped => "stopped".to_string(),
        };
        hub_down = matches!(hub.phase, Phase::Waiting | Phase::Stopped);
        let stale = i
            .hub_report
            .and_then(|(port, report)| report.stale(i.home, port));
        let (state, detail) = match stale {
            Some(why) => {
                hub_down = true;
                problems.push(format!("The hub's port is taken: {why}"));
                ("stale".to_string(), why)
            }
            None => {
                if hub_down {
                    problems.push(format!("The hub is down: {detail}"));
                }
                (hub.phase.as_str().to_string(), detail)
            }
        };
        servers.push(ServerView {
            id: "hub".into(),
            name: "Hub".into(),
            state,
            detail,
            latency_ms: None,
            restarts: Some(hub.restarts),
            port: Some(port),
            pid: hub.pid,
        });
    }
    for c in i.clients.iter().filter(|c| c.needs_repair) {
        problems.push(format!("{} needs repair", c.name));
    }
    for c in i.checks.iter().filter(|c| c.failed()) {
        problems.push(format!("{} in {}: {}", c.name, c.client, c.detail));
    }
    if let Some(e) = i.home_error {
        problems.push(format!("Tandem's settings cannot be read: {e}"));
    }
    let first_run = !i.clients.iter().any(|c| c.connected || c.needs_repair);
    if first_run {
        problems.push("No client is connected yet".into());
    }
    let probed: Vec<&DoctorCheck> = i
        .checks
        .iter()
        .filter(|c| c.outcome != ProbeOutcome::Skipped)
        .collect();
    let all_checks_failed = !probed.is_empty() && probed.iter().all(|c| c.failed());
    let overall = if i.memory_error.is_some()
        || team_down
        || i.home_error.is_some()
        || all_checks_failed
        || (hub_down && first_run)
    {
        Overall::Down
    } else if problems.is_empty() {
        Overall::Ok
    } else {
        Overall::Degraded
    };
    let status_line = match problems.len() {
        0 => "Tandem — all good".to_string(),
        1 => "1 problem — open Tandem".to_string(),
        n => format!("{n} problems — open Tandem"),
    };
    Health {
        overall,
        status_line,
        problems,
        servers,
        clients: i.clients.to_vec(),
        checks: i.checks.to_vec(),
        checked_at: i.checked_at.map(str::to_string),
        first_run,
        logs: i.logs,
        tandem: i.tandem.display().to_string(),
        shared_dir: i.home.shared_dir().display().to_string(),
        home: HomeView {
            state_dir: i.home.state_dir().display().to_string(),
            shared_dir: i.home.shared_dir().display().to_string(),
            default_shared_dir: i.home.default_shared_dir().display().to_string(),
            store: i.home.served().store,
            settings_file: i.home.settings_file().display().to_string(),
            problem: i.home_error.map(str::to_string),
        },
        hub_serves: match i.hub_report {
            Some((_, HubReport::Up(h))) => h.serves.clone(),
            _ => None,
        },
        notices: i
            .leftover
            .map(|l| Notice {
                kind: "leftover".into(),
                message: l.message(),
                folder: l.folder.display().to_string(),
            })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(connected: bool, needs_repair: bool) -> ClientView {
        ClientView {
            id: "claude-code".into(),
            name: "Claude Code".into(),
            detected: true,
            connected,
            current: connected && !needs_repair,
            needs_repair,
            entries: Vec::new(),
            problem: None,
            config_paths: Vec::new(),
            restart_note: String::new(),
            needs_restart: false,
            plugin: None,
            doubled: false,
            advice: None,
            state: "",
            state_label: "",
        }
    }

    fn inputs<'a>(
        clients: &'a [ClientView],
        hub: Option<(&'a ChildState, u16)>,
        home: &'a Home,
    ) -> Inputs<'a> {
        Inputs {
            clients,
            checks: &[],
            checked_at: None,
            hub,
            memory_error: None,
            team: None,
            logs: Logs {
                app: String::new(),
                tandem: String::new(),
            },
            tandem: Path::new("/t/tandem"),
            home,
            home_error: None,
            hub_report: None,
            leftover: None,
        }
    }

    #[test]
    fn all_good_needs_a_connected_client_and_a_running_hub() {
        let home = Home::at("/t");
        let mut hub = ChildState::new();
        hub.enter(Phase::Running);
        let clients = [client(true, false)];
        let h = assemble(inputs(&clients, Some((&hub, 7345)), &home));
        assert_eq!(h.overall, Overall::Ok);
        assert_eq!(h.status_line, "Tandem — all good");
        assert!(!h.first_run);
    }

    #[test]
    fn problems_are_counted_in_the_status_line() {
        let home = Home::at("/t");
        let mut hub = ChildState::new();
        hub.enter(Phase::Waiting);
        let clients = [client(true, true)];
        let h = assemble(inputs(&clients, Some((&hub, 7345)), &home));
        assert_eq!(h.overall, Overall::Degraded);
        assert_eq!(h.status_line, "2 problems — open Tandem");
        let nothing = assemble(inputs(&[], Some((&hub, 7345)), &home));
        assert_eq!(nothing.overall, Overall::Down);
        assert!(nothing.first_run);
    }

    #[test]
    fn a_hub_serving_other_folders_is_a_problem_and_a_leftover_folder_a_notice() {
        let home = Home::at("/t");
        let mut hub = ChildState::new();
        hub.enter(Phase::Waiting);
        let clients = [client(true, false)];
        let other = tandem_clients::HubReport::Up(tandem_clients::HubHealth {
            status: "ok".into(),
            version: "0.0.9".into(),
            pid: Some(42),
            serves: Some(Home::at("/old").served()),
        });
        let leftover = Leftover {
            folder: "/t/old-shared".into(),
            shared_dir: "/t/shared".into(),
            files: 3,
        };
        let mut i = inputs(&clients, Some((&hub, 7345)), &home);
        i.hub_report = Some((7345, &other));
        i.leftover = Some(&leftover);
        let h = assemble(i);
        let hub_view = h.servers.iter().find(|s| s.id == "hub").unwrap();
        assert_eq!(hub_view.state, "stale");
        assert!(
            hub_view.detail.contains("/old/shared"),
            "{}",
            hub_view.detail
        );
        assert!(
            h.problems.iter().any(|p| p.contains("pid 42")),
            "{:?}",
            h.problems
        );
        assert_eq!(h.overall, Overall::Degraded);
        assert_eq!(h.hub_serves, Some(Home::at("/old").served()));
        assert_eq!(h.notices.len(), 1);
        assert!(h.notices[0].message.contains("/t/old-shared"));
        assert_eq!(h.home.shared_dir, "/t/shared");
    }
}
