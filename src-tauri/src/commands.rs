//! The window's IPC commands. All are `async` so that Tauri runs them off the main (UI)
//! thread; each is a thin call into the libraries. Arguments are typed (a handoff status, a
//! client id, a folder), so a wrong one is refused before anything runs; failures are one
//! [`AppError`] with a kind.

use std::{path::PathBuf, sync::Arc};

use serde::Deserialize;
use tandem_clients::ClientId;
use tandem_store::{
    memory::MemoryStore,
    workspace::{HandoffStatus, HandoffUpdateParams},
};
use tauri::State;

pub use crate::error::Reply;
use crate::{
    connect::{self, ConnectPlan, ConnectResult},
    error::{AppError, ErrorKind},
    health::Health,
    tandem::{BY, Tandem, Topic},
    views::{self, HandoffDetail, HandoffItem, MemoryDetail, MemoryList},
};

type App<'a> = State<'a, Arc<Tandem>>;

/// A status the window sets: done, dropped, or open again (claiming is for the app that works
/// on the handoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetStatus(HandoffStatus);

impl<'de> Deserialize<'de> for SetStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(SetStatus(match name.as_str() {
            "done" => HandoffStatus::Done,
            "dropped" => HandoffStatus::Dropped,
            "open" => HandoffStatus::Open,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "{other:?} is not a status to set; use done or dropped"
                )));
            }
        }))
    }
}

/// A folder the window can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// The shared folder.
    Shared,
    /// Files an earlier version left elsewhere (the notice's folder).
    Leftover,
    /// Tandem's logs.
    Logs,
    /// The app's own log folder.
    AppLogs,
}

impl<'de> Deserialize<'de> for Folder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(match name.as_str() {
            "shared" => Folder::Shared,
            "leftover" => Folder::Leftover,
            "logs" => Folder::Logs,
            "app-logs" => Folder::AppLogs,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "no folder called {other:?}; one of shared, leftover, logs, app-logs"
                )));
            }
        })
    }
}

#[tauri::command]
pub async fn handoffs(app: App<'_>) -> Reply<Vec<HandoffItem>> {
    views::handoffs(&app.shared_dir(), views::HANDOFFS_SHOWN)
}

#[tauri::command]
pub async fn handoff(app: App<'_>, id: String) -> Reply<HandoffDetail> {
    let ws = app.workspace()?;
    views::handoff(&ws, &id)
}

/// Marks a handoff done or drops it (the note goes into its log as from Tandem).
#[tauri::command]
pub async fn handoff_set_status(app: App<'_>, id: String, status: SetStatus) -> Reply<HandoffItem> {
    let status = status.0;
    let ws = app.workspace()?;
    ws.handoff_update(
        &HandoffUpdateParams {
            id: id.clone(),
            status,
            note: Some("from the Tandem window".into()),
        },
        BY,
    )?;
    app.notify(Topic::Handoffs);
    views::handoff(&ws, &id).map(|d| d.item)
}

/// Opens a handoff's file in the person's editor.
#[tauri::command]
pub async fn handoff_open(app: App<'_>, id: String) -> Reply<()> {
    let ws = app.workspace()?;
    let detail = views::handoff(&ws, &id)?;
    open(ws.root().join(&detail.item.path))
}

/// Runs `f` with the memory store on a thread that may block: a team store's every call
/// crosses the network, and its client must not run on the async runtime's threads.
async fn with_store<T: Send + 'static>(
    app: &App<'_>,
    f: impl FnOnce(&MemoryStore) -> Reply<T> + Send + 'static,
) -> Reply<T> {
    let store = app.store()?.clone();
    tauri::async_runtime::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| AppError::from(format!("reading memory stopped: {e}")))?
}

#[tauri::command]
pub async fn memory(app: App<'_>, query: Option<String>) -> Reply<MemoryList> {
    with_store(&app, move |store| views::memory(store, query.as_deref())).await
}

#[tauri::command]
pub async fn memory_entry(app: App<'_>, key: String) -> Reply<MemoryDetail> {
    with_store(&app, move |store| views::memory_entry(store, &key)).await
}

#[tauri::command]
pub async fn memory_restore(app: App<'_>, key: String, version: i64) -> Reply<MemoryDetail> {
    with_store(&app, move |store| {
        store.restore(&key, version, BY)?;
        views::memory_entry(store, &key)
    })
    .await
}

#[tauri::command]
pub async fn health(app: App<'_>) -> Reply<Health> {
    Ok(app.health())
}

/// Re-probes every configured entry now (in the background); the result arrives as a
/// `health-changed` event.
#[tauri::command]
pub async fn check_now(app: App<'_>) -> Reply<()> {
    if app.launch.probe_every.is_some() {
        app.check_soon();
    } else {
        app.run_checks();
    }
    Ok(())
}

fn client_ids(app: &Tandem, clients: Option<Vec<ClientId>>) -> Vec<ClientId> {
    clients.unwrap_or_else(|| connect::detected(&app.installer))
}

/// What connecting (or repairing) the clients would write: one diff per config file. Nothing
/// is written. Without `clients`: every client detected on this machine.
#[tauri::command]
pub async fn connect_plan(
    app: App<'_>,
    clients: Option<Vec<ClientId>>,
    repair: Option<bool>,
) -> Reply<Vec<ConnectPlan>> {
    let ids = client_ids(&app, clients);
    Ok(connect::plan(
        &app.installer,
        &app.launch.tandem,
        &ids,
        repair.unwrap_or(false),
    ))
}

/// Writes Tandem's entries into the clients' configs (backups first), then re-reads their
/// status and probes them.
#[tauri::command]
pub async fn connect(
    app: App<'_>,
    clients: Option<Vec<ClientId>>,
    repair: Option<bool>,
) -> Reply<Vec<ConnectResult>> {
    let ids = client_ids(&app, clients);
    let results = connect::apply(
        &app.installer,
        &app.launch.tandem,
        &ids,
        repair.unwrap_or(false),
    );
    app.refresh_clients();
    if app.launch.watch_configs {
        app.inner().watch_configs();
    }
    app.notify(Topic::Health);
    if app.launch.probe_every.is_some() {
        app.check_soon();
    }
    Ok(results)
}

/// Moves the shared folder to `dir` (`None` or empty: back to the default) for every Tandem
/// process; the window, the tray and the hub follow. Returns the Health that shows it.
#[tauri::command]
pub async fn move_shared_folder(app: App<'_>, dir: Option<String>) -> Reply<Health> {
    let dir = dir.filter(|d| !d.trim().is_empty()).map(PathBuf::from);
    if let Some(d) = &dir
        && !d.is_absolute()
    {
        return Err(AppError::invalid(format!(
            "{} is not a full path: give the folder's whole path, e.g. /home/you/Plans",
            d.display()
        )));
    }
    app.inner().move_shared(dir.as_deref())?;
    Ok(app.health())
}

/// Stops showing the notice about files left in an earlier folder (they stay there).
#[tauri::command]
pub async fn dismiss_notice(app: App<'_>) -> Reply<Health> {
    app.dismiss_leftover()?;
    Ok(app.health())
}

/// Opens a folder Tandem keeps in the person's file manager.
#[tauri::command]
pub async fn open_folder(app: App<'_>, which: Folder) -> Reply<()> {
    let dir = match which {
        Folder::Shared => app.shared_dir(),
        Folder::Leftover => match app.leftover() {
            Some(l) => l.folder,
            None => {
                return Err(AppError::new(
                    ErrorKind::NotFound,
                    "no earlier folder is left to open",
                ));
            }
        },
        Folder::Logs => app.launch.home.logs_dir(),
        Folder::AppLogs => PathBuf::from(app.health().logs.app),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::new(ErrorKind::Io, format!("creating {}: {e}", dir.display())))?;
    open(dir)
}

fn open(path: PathBuf) -> Reply<()> {
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| {
        AppError::new(
            ErrorKind::Io,
            format!("could not open {}: {e}", path.display()),
        )
    })
}
