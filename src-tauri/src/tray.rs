//! The tray icon and its menu. Every action lives in the menu (Linux trays deliver no clicks
//! on the icon itself); the icon and the menu are rebuilt from the app's state when it
//! changes. Never built under the mock runtime (it needs GTK).

use std::sync::Arc;

use tauri::{
    AppHandle, Manager, Runtime,
    image::Image,
    menu::{CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu},
    tray::TrayIconBuilder,
};
use tauri_plugin_autostart::ManagerExt;

use crate::{
    health::{Health, Overall},
    tandem::Tandem,
    views::{self, HandoffItem},
    window,
};

pub const TRAY: &str = "tandem";
/// Recent handoffs listed in the menu.
pub const RECENT: usize = 5;

const OK: &[u8] = include_bytes!("../../icons/tray/ok.png");
const DEGRADED: &[u8] = include_bytes!("../../icons/tray/degraded.png");
const DOWN: &[u8] = include_bytes!("../../icons/tray/down.png");

/// What the menu shows, computed without touching GTK (and tested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub overall: Overall,
    pub status_line: String,
    /// "Workspace ● ok", "Memory ● ok", "Hub ● running".
    pub servers: Vec<String>,
    pub handoffs: Vec<(String, String)>,
    /// Notices until dismissed in the window: a line to read and an item that opens the
    /// folder it is about.
    pub notices: Vec<(String, String)>,
    pub autostart: bool,
}

fn dot(state: &str) -> &'static str {
    match state {
        "ok" | "running" => "●",
        "failing" | "unavailable" | "stopped" | "restarting" => "○",
        _ => "◐",
    }
}

pub fn model(health: &Health, handoffs: &[HandoffItem], autostart: bool) -> TrayModel {
    TrayModel {
        overall: health.overall,
        status_line: health.status_line.clone(),
        servers: health
            .servers
            .iter()
            .map(|s| format!("{} {} {}", s.name, dot(&s.state), s.state))
            .collect(),
        handoffs: handoffs
            .iter()
            .take(RECENT)
            .map(|h| {
                let status = serde_json::to_value(h.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                (
                    format!("handoff:{}", h.id),
                    format!("{} — {status}", h.title),
                )
            })
            .collect(),
        notices: health
            .notices
            .iter()
            .flat_map(|n| {
                [
                    (
                        "notice-shared".to_string(),
                        format!("Shared folder: {}", health.home.shared_dir),
                    ),
                    (
                        format!("notice-open:{}", n.folder),
                        format!("Earlier files in {} — open", n.folder),
                    ),
                ]
            })
            .collect(),
        autostart,
    }
}

fn current<R: Runtime>(app: &AppHandle<R>) -> Option<TrayModel> {
    let tandem = app.try_state::<Arc<Tandem>>()?;
    let handoffs = views::handoffs(&tandem.shared_dir(), RECENT).unwrap_or_default();
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    Some(model(&tandem.health(), &handoffs, autostart))
}

fn icon(overall: Overall) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match overall {
        Overall::Ok => OK,
        Overall::Degraded => DEGRADED,
        Overall::Down => DOWN,
    })
}

fn menu<R: Runtime>(app: &AppHandle<R>, m: &TrayModel) -> tauri::Result<Menu<R>> {
    let text = |id: &str, label: &str, enabled: bool| {
        MenuItem::with_id(app, id, label, enabled, None::<&str>)
    };
    let status = text("status", &m.status_line, false)?;
    let servers = m
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| text(&format!("server:{i}"), s, false))
        .collect::<tauri::Result<Vec<_>>>()?;
    let recent = Submenu::with_id(app, "recent", "Recent Handoffs", true)?;
    if m.handoffs.is_empty() {
        recent.append(&text("none", "No handoffs yet", false)?)?;
    }
    for (id, label) in &m.handoffs {
        recent.append(&text(id, label, true)?)?;
    }
    let autostart = CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at Login",
        true,
        m.autostart,
        None::<&str>,
    )?;
    let sep = || PredefinedMenuItem::separator(app);
    let mut items: Vec<Box<dyn IsMenuItem<R>>> = vec![Box::new(status), Box::new(sep()?)];
    for s in servers {
        items.push(Box::new(s));
    }
    if !m.notices.is_empty() {
        items.push(Box::new(sep()?));
        for (id, label) in &m.notices {
            items.push(Box::new(text(id, label, id.starts_with("notice-open:"))?));
        }
    }
    items.push(Box::new(sep()?));
    items.push(Box::new(text("open-folder", "Open Shared Folder", true)?));
    items.push(Box::new(recent));
    items.push(Box::new(sep()?));
    items.push(Box::new(text("open-window", "Open Tandem…", true)?));
    items.push(Box::new(text("connect", "Connect Clients…", true)?));
    items.push(Box::new(autostart));
    items.push(Box::new(sep()?));
    items.push(Box::new(text("quit", "Quit Tandem", true)?));
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(app, &refs)
}

/// Builds the tray icon.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let Some(m) = current(app) else {
        return Ok(());
    };
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .icon(icon(m.overall)?)
        .tooltip(&m.status_line)
        .menu(&menu(app, &m)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu);
    // On Linux the panel reads the icon from a file. By default that is /tmp/tray-icon, which
    // the first user to run a tray app owns: the icon of everyone else's would fail. Ours goes
    // to this user's cache folder.
    if let Ok(dir) = app.path().app_cache_dir().map(|d| d.join("tray-icon"))
        && std::fs::create_dir_all(&dir).is_ok()
    {
        builder = builder.temp_dir_path(dir);
    }
    builder.build(app)?;
    Ok(())
}

/// Rebuilds the icon and the menu from the current state (no-op without a tray).
///
/// Never waits for the main thread: the tray belongs to it, and a background thread that waited
/// for it (the supervisor reporting the hub stopped, say) would deadlock Quit, which joins that
/// thread from the main thread. From the main thread the refresh runs at once.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    if let Err(e) = app.run_on_main_thread(move || refresh_now(&handle)) {
        log::warn!("refreshing the tray: {e}");
    }
}

fn refresh_now<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    let Some(m) = current(app) else { return };
    let result = icon(m.overall)
        .and_then(|i| tray.set_icon(Some(i)))
        .and_then(|_| tray.set_tooltip(Some(&m.status_line)))
        .and_then(|_| menu(app, &m))
        .and_then(|menu| tray.set_menu(Some(menu)));
    if let Err(e) = result {
        log::warn!("refreshing the tray: {e}");
    }
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let id = event.id().as_ref();
    let Some(tandem) = app.try_state::<Arc<Tandem>>() else {
        return;
    };
    let result: Result<(), String> = match id {
        "open-folder" => {
            let dir = tandem.shared_dir();
            tauri_plugin_opener::open_path(dir, None::<&str>).map_err(|e| e.to_string())
        }
        "open-window" => {
            window::open(app, None);
            Ok(())
        }
        "connect" => {
            window::open(app, Some("health"));
            Ok(())
        }
        "autostart" => {
            let auto = app.autolaunch();
            let r = if auto.is_enabled().unwrap_or(false) {
                auto.disable()
            } else {
                auto.enable()
            };
            refresh(app);
            r.map_err(|e| e.to_string())
        }
        "quit" => {
            crate::quit(app);
            Ok(())
        }
        other if other.starts_with("notice-open:") => {
            let dir = other.trim_start_matches("notice-open:");
            tauri_plugin_opener::open_path(dir, None::<&str>).map_err(|e| e.to_string())
        }
        other => match other.strip_prefix("handoff:") {
            Some(hid) => tandem.workspace().and_then(|ws| {
                let detail = views::handoff(&ws, hid).map_err(|e| e.message)?;
                tauri_plugin_opener::open_path(ws.root().join(&detail.item.path), None::<&str>)
                    .map_err(|e| e.to_string())
            }),
            None => Ok(()),
        },
    };
    if let Err(e) = result {
        log::warn!("tray menu {id}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ServerView;

    #[test]
    fn the_menu_model_shows_each_server_and_the_newest_handoffs() {
        let server = |name: &str, state: &str| ServerView {
            id: name.to_lowercase(),
            name: name.into(),
            state: state.into(),
            detail: String::new(),
            latency_ms: None,
            restarts: None,
            port: None,
            pid: None,
        };
        let health = Health {
            overall: Overall::Degraded,
            status_line: "1 problem — open Tandem".into(),
            problems: vec!["x".into()],
            servers: vec![
                server("Workspace", "ok"),
                server("Memory", "unchecked"),
                server("Hub", "restarting"),
            ],
            clients: Vec::new(),
            checks: Vec::new(),
            checked_at: None,
            first_run: false,
            logs: crate::health::Logs {
                app: String::new(),
                tandem: String::new(),
            },
            tandem: String::new(),
            shared_dir: String::new(),
            home: crate::health::HomeView {
                state_dir: String::new(),
                shared_dir: "/h/Tandem".into(),
                default_shared_dir: String::new(),
                store: String::new(),
                settings_file: String::new(),
                problem: None,
            },
            hub_serves: None,
            notices: Vec::new(),
        };
        let m = model(&health, &[], true);
        assert_eq!(
            m.servers,
            ["Workspace ● ok", "Memory ◐ unchecked", "Hub ○ restarting"]
        );
        assert_eq!(m.status_line, "1 problem — open Tandem");
        assert!(m.handoffs.is_empty());
        assert!(m.notices.is_empty());
        assert!(m.autostart);
        let mut noticed = health.clone();
        noticed.notices.push(crate::health::Notice {
            kind: "leftover".into(),
            message: "…".into(),
            folder: "/h/.local/share/Tandem/shared".into(),
        });
        let m = model(&noticed, &[], true);
        assert_eq!(
            m.notices,
            [
                (
                    "notice-shared".to_string(),
                    "Shared folder: /h/Tandem".to_string()
                ),
                (
                    "notice-open:/h/.local/share/Tandem/shared".to_string(),
                    "Earlier files in /h/.local/share/Tandem/shared — open".to_string()
                ),
            ]
        );
    }
}
