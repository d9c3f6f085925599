//! The window's IPC commands. All are `async` so that Tauri runs them off the main (UI)
//! thread; each is a thin call into the libraries.

use std::{path::PathBuf, sync::Arc};

use tandem_clients::ClientId;
use tandem_store::workspace::{HandoffStatus, HandoffUpdateParams};
use tauri::State;

use crate::{
    connect::{self, ConnectPlan, ConnectResult},
    health::Health,
    tandem::{BY, Tandem, Topic},
    views::{self, HandoffDetail, HandoffItem, MemoryDetail, MemoryList},
};

type App<'a> = State<'a, Arc<Tandem>>;
pub type Reply<T> = Result<T, String>;

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
pub async fn handoff_set_status(app: App<'_>, id: String, status: String) -> Reply<HandoffItem> {
    let status = match status.as_str() {
        "done" => HandoffStatus::Done,
        "dropped" => HandoffStatus::Dropped,
        "open" => HandoffStatus::Open,
        other => {
            return Err(format!(
                "{other:?} is not a status to set; use done or dropped"
            ));
        }
    };
    let ws = app.workspace()?;
    ws.handoff_update(
        &HandoffUpdateParams {
            id: id.clone(),
            status,
            note: Some("from the Tandem window".into()),
        },
        BY,
    )
    .map_err(|e| e.to_string())?;
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

#[tauri::command]
pub async fn memory(app: App<'_>, query: Option<String>) -> Reply<MemoryList> {
    views::memory(app.store()?, query.as_deref())
}

#[tauri::command]
pub async fn memory_entry(app: App<'_>, key: String) -> Reply<MemoryDetail> {
    views::memory_entry(app.store()?, &key)
}

#[tauri::command]
pub async fn memory_restore(app: App<'_>, key: String, version: i64) -> Reply<MemoryDetail> {
    let store = app.store()?;
    store
        .restore(&key, version, BY)
        .map_err(|e| e.to_string())?;
    views::memory_entry(store, &key)
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

fn client_ids(app: &Tandem, clients: Option<Vec<String>>) -> Reply<Vec<ClientId>> {
    match clients {
        None => Ok(connect::detected(&app.installer)),
        Some(names) => names
            .iter()
            .map(|n| n.parse::<ClientId>().map_err(|e| e.to_string()))
            .collect(),
    }
}

/// What connecting (or repairing) the clients would write: one diff per config file. Nothing
/// is written. Without `clients`: every client detected on this machine.
#[tauri::command]
pub async fn connect_plan(
    app: App<'_>,
    clients: Option<Vec<String>>,
    repair: Option<bool>,
) -> Reply<Vec<ConnectPlan>> {
    let ids = client_ids(&app, clients)?;
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
    clients: Option<Vec<String>>,
    repair: Option<bool>,
) -> Reply<Vec<ConnectResult>> {
    let ids = client_ids(&app, clients)?;
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
        return Err(format!(
            "{} is not a full path: give the folder's whole path, e.g. /home/you/Plans",
            d.display()
        ));
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

/// Opens a folder Tandem keeps: `shared` (the workspace), `logs` (Tandem's), `app-logs`.
#[tauri::command]
pub async fn open_folder(app: App<'_>, which: String) -> Reply<()> {
    let dir = match which.as_str() {
        "shared" => app.shared_dir(),
        "leftover" => match app.leftover() {
            Some(l) => l.folder,
            None => return Err("no earlier folder is left to open".into()),
        },
        "logs" => app.launch.home.logs_dir(),
        "app-logs" => PathBuf::from(app.health().logs.app),
        other => return Err(format!("no folder called {other:?}")),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    open(dir)
}

fn open(path: PathBuf) -> Reply<()> {
    tauri_plugin_opener::open_path(&path, None::<&str>)
        .map_err(|e| format!("could not open {}: {e}", path.display()))
}
