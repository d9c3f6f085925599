//! `tandem serve`: the HTTP hub, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context as _;
use tandem_mcp::{
    hub::{Hub, HubConfig, load_or_create_token},
    memory::MemoryShared,
    workspace::WorkspaceShared,
};
use tandem_store::Home;

pub fn run(home: &Home, port: u16, no_auth: bool) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "hub");
    let location = home.memory_location()?;
    let memory = MemoryShared::open_at(&location)
        .with_context(|| format!("opening memory at {}", location.shown()))?;
    let root = home.shared_dir();
    let workspace = WorkspaceShared::open(root, false)
        .with_context(|| format!("opening the shared folder at {}", root.display()))?;
    let token = if no_auth {
        None
    } else {
        Some(load_or_create_token(&home.hub_token())?)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let hub = Hub::start(HubConfig {
            port,
            token,
            memory,
            workspace,
            serves: home.served(),
        })
        .await?;
        let urls: Vec<String> = hub.addrs.iter().map(|a| format!("http://{a}")).collect();
        println!(
            "Tandem hub on {} — /memory, /workspace, /health{}",
            urls.join(" and "),
            if no_auth {
                " (no auth: local testing only)".to_string()
            } else {
                format!("; token in {}", home.hub_token().display())
            }
        );
        tracing::info!(?urls, no_auth, "hub started");
        hub.run_until(shutdown_signal()).await?;
        tracing::info!("hub stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM on Unix (what supervisors send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
