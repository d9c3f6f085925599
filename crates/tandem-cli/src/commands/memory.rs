//! `tandem mcp memory` and `tandem memory import|export`.

use std::{io::Write, path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use tandem_mcp::memory::{MemoryServer, MemoryShared};
use tandem_store::{
    Home,
    memory::{MemoryStore, StoreLocation},
};

use crate::cli::MemoryCommand;

/// Where a memory server's memory is: `--store`, else `--db`, else where every process of
/// this home keeps it (`$TANDEM_STORE`, the team joined, the database file).
fn location(
    home: &Home,
    db: Option<PathBuf>,
    store: Option<String>,
) -> anyhow::Result<StoreLocation> {
    if let Some(store) = store {
        return Ok(StoreLocation::parse(&store));
    }
    if let Some(db) = db {
        return Ok(StoreLocation::File(db));
    }
    Ok(home.memory_location()?)
}

pub fn serve(home: &Home, db: Option<PathBuf>, store: Option<String>) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "memory");
    let shared = open(home, db, store)?;
    super::runtime()?.block_on(tandem_mcp::serve_stdio(MemoryServer::new(shared)))?;
    Ok(ExitCode::SUCCESS)
}

/// The memory a stdio server serves: the database, commits from every process noticed, and
/// its own writes marked with its client process.
pub(super) fn open(
    home: &Home,
    db: Option<PathBuf>,
    store: Option<String>,
) -> anyhow::Result<Arc<MemoryShared>> {
    let location = location(home, db, store)?;
    let shared = MemoryShared::open_at(&location)
        .with_context(|| format!("opening memory at {}", location.shown()))?;
    tracing::info!(store = %location.shown(), "memory server starting");
    // A stdio server has one client, the process that started it: its writes carry that
    // process, so the client's own prompt hook can leave them out of its news.
    if let Some(origin) = tandem_store::origin::client_process()
        && let Err(e) = shared.store().set_origin(origin)
    {
        tracing::warn!("writes will carry no origin: {e}");
    }
    Ok(shared)
}

pub fn run(home: &Home, cmd: MemoryCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MemoryCommand::Import { file, db, store } => {
            let location = location(home, db, store)?;
            let store = MemoryStore::open_at(&location)
                .with_context(|| format!("opening memory at {}", location.shown()))?;
            let reader = std::fs::File::open(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = store.import_server_memory(reader, "tandem import")?;
            println!(
                "Imported {} entities ({} relations) into {} keys under entity/.",
                report.entities, report.relations, report.written
            );
            for skipped in &report.skipped {
                eprintln!("skipped: {skipped}");
            }
            Ok(ExitCode::SUCCESS)
        }
        MemoryCommand::Export { db, store } => {
            let location = location(home, db, store)?;
            let store = MemoryStore::open_at(&location)
                .with_context(|| format!("opening memory at {}", location.shown()))?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut first = true;
            out.write_all(b"[")?;
            store.for_each_entry(|entry| {
                let sep: &[u8] = if first { b"\n  " } else { b",\n  " };
                first = false;
                let io = |source| tandem_store::StoreError::Io {
                    path: "<stdout>".into(),
                    source,
                };
                out.write_all(sep).map_err(io)?;
                serde_json::to_writer(&mut out, &entry)
                    .map_err(|e| io(std::io::Error::other(e)))?;
                Ok(())
            })?;
            out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
