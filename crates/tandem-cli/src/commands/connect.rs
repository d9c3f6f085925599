//! `tandem connect URL`: the stdio ↔ streamable-HTTP bridge.

use std::process::ExitCode;

use tandem_store::Home;

pub fn run(home: &Home, url: String, headers: &[String]) -> anyhow::Result<ExitCode> {
    let _log = crate::logging::init(&home.logs_dir(), "connect");
    let headers = tandem_mcp::bridge::parse_headers(headers)?;
    tracing::info!(%url, "bridge starting");
    super::runtime()?.block_on(tandem_mcp::bridge::run(url, headers))?;
    Ok(ExitCode::SUCCESS)
}
