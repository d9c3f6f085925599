//! Logs go to a daily file under `$TANDEM_HOME/logs` (level from `TANDEM_LOG`, default
//! `info`); stderr gets warnings only, so a client that never drains stderr cannot block us.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

pub const LEVEL_ENV: &str = "TANDEM_LOG";

/// Starts logging for a long-running command; keep the guard alive until exit.
pub fn init(logs_dir: &Path, name: &str) -> Option<WorkerGuard> {
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_filter(EnvFilter::new("warn,rmcp=error"));
    let file = std::fs::create_dir_all(logs_dir).ok().and_then(|()| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(format!("tandem-{name}"))
            .filename_suffix("log")
            .max_log_files(7)
            .build(logs_dir)
            .ok()
    });
    let filter = || EnvFilter::try_from_env(LEVEL_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    match file {
        Some(appender) => {
            // The default queue holds 128 000 lines, allocated up front (4 MB): a server that
            // logs a few lines per call needs far less, and dropping lines beats blocking.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(1024)
                .lossy(true)
                .finish(appender);
            let file_layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr)
                .with(file_layer)
                .try_init()
                .ok();
            Some(guard)
        }
        None => {
            tracing_subscriber::registry().with(stderr).try_init().ok();
            None
        }
    }
}
