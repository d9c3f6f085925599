//! The one window (Handoffs, Memory, Health). It exists only while it is open: closing it
//! destroys the webview, so an idle tray app holds no web content process in memory.

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// The views the window can show, as `#fragment`s of `index.html`.
pub const VIEWS: [&str; 3] = ["handoffs", "memory", "health"];

/// Shows the window (creating it if it is closed), on `view` when given.
pub fn open<R: Runtime>(app: &AppHandle<R>, view: Option<&str>) {
    let view = view.filter(|v| VIEWS.contains(v));
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(view) = view {
            let _ = window.emit_to(MAIN, "navigate", view);
        }
        return;
    }
    let url = WebviewUrl::App(format!("index.html#{}", view.unwrap_or("handoffs")).into());
    let built = WebviewWindowBuilder::new(app, MAIN, url)
        .title("Tandem")
        .inner_size(1000.0, 720.0)
        .min_inner_size(560.0, 420.0)
        // Ctrl +, Ctrl −, Ctrl 0 (and Ctrl + wheel) zoom the page.
        .zoom_hotkeys_enabled(true)
        .focused(true)
        .build();
    if let Err(e) = built {
        log::error!("could not open the window: {e}");
    }
}
