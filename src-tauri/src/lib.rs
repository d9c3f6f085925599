//! The Tandem tray app. `run()` is the real app: plugins, the tray, the window on demand.
//! [`run_app`] is the wiring every build shares — state, commands, background work — so that it
//! also runs under `tauri::test`'s mock runtime. Background work (the memory change feed, the
//! shared folder, the clients' configs, the hub's supervisor, the doctor) reports through one
//! notifier, turned here into window events (`handoffs-changed`, `memory-changed`,
//! `health-changed`) and tray refreshes: nothing polls.

mod commands;
mod config_watch;
mod connect;
pub mod error;
pub mod health;
pub mod hub;
mod launch;
mod markdown;
pub mod supervisor;
mod tandem;
mod tray;
mod views;
mod window;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use tauri::{App, AppHandle, Builder, Context, Emitter, Manager, RunEvent, Runtime};

pub use launch::Launch;
pub use tandem::{Notifier, Tandem, Topic};

/// The app as installed: `tandem-app [--open | --quit]`.
pub fn run() {
    let launch = Launch::from_env();
    let builder = tauri::Builder::default()
        // First: a second launch only opens the first one's window, or quits it.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if args.iter().any(|a| a == crate::launch::QUIT) {
                quit(app);
            } else {
                window::open(app, None);
            }
        }))
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .max_file_size(1024 * 1024)
                .rotation_strategy(tauri_plugin_log::RotationStrategy::KeepSome(3))
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_opener::init());
    match run_app(builder, tauri::generate_context!(), launch) {
        Ok(app) => app.run(on_event),
        Err(e) => {
            eprintln!("tandem-app: {e}");
            std::process::exit(1);
        }
    }
}

/// The shared wiring: state, commands, background work; the tray and the window when the
/// launch asks for them.
pub fn run_app<R: Runtime>(
    builder: Builder<R>,
    context: Context<R>,
    launch: Launch,
) -> tauri::Result<App<R>> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::handoffs,
            commands::handoff,
            commands::handoff_set_status,
            commands::handoff_open,
            commands::memory,
            commands::memory_entry,
            commands::memory_restore,
            commands::health,
            commands::check_now,
            commands::connect_plan,
            commands::connect,
            commands::open_folder,
            commands::move_shared_folder,
            commands::dismiss_notice,
        ])
        .setup(move |app| {
            setup(app, launch);
            Ok(())
        })
        .build(context)
}

fn setup<R: Runtime>(app: &mut App<R>, launch: Launch) {
    if launch.quit {
        // `--quit` with no instance running: nothing to quit, nothing to start.
        app.handle().exit(0);
        return;
    }
    #[cfg(target_os = "macos")]
    app.set_activation_policy(tauri::ActivationPolicy::Accessory);
    let handle = app.handle().clone();
    let (open_window, with_tray) = (launch.open_window, launch.tray);
    let tandem = Arc::new(Tandem::open(launch, notifier(handle.clone())));
    if let Ok(dir) = app.path().app_log_dir() {
        tandem.set_app_log_dir(dir);
    }
    app.manage(tandem.clone());
    // The window first when it is asked for: it is what the person waits for.
    if open_window {
        window::open(&handle, None);
    }
    if with_tray && let Err(e) = tray::create(&handle) {
        log::error!("could not create the tray icon: {e}");
    }
    tandem.start();
    // The first time, show what to connect: a tray icon alone is easy to miss.
    if with_tray && tandem.first_visit() && tandem.health().first_run {
        window::open(&handle, Some("health"));
    }
}

/// Turns the app's notifications into window events and tray refreshes.
fn notifier<R: Runtime>(app: AppHandle<R>) -> Notifier {
    Arc::new(move |topic| match topic {
        Topic::Handoffs => {
            let _ = app.emit("handoffs-changed", ());
            tray::refresh(&app);
        }
        Topic::Memory(changes) => {
            let _ = app.emit("memory-changed", changes);
        }
        Topic::Health => {
            if let Some(tandem) = app.try_state::<Arc<Tandem>>() {
                let _ = app.emit("health-changed", tandem.health());
            }
            tray::refresh(&app);
        }
    })
}

/// Quit (the tray menu's, or `tandem-app --quit`): the exit runs [`on_event`], which stops the
/// hub and the background work before the process ends.
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    log::info!("quitting");
    app.exit(0);
}

/// Keeps the app in the tray when its window closes; stops the hub on Quit.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    match event {
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(tandem) = app.try_state::<Arc<Tandem>>() {
                tandem.shutdown();
            }
        }
        _ => {}
    }
}
