//! Provenance: who is calling, from the client's `clientInfo` (sent in `initialize`, or per
//! request in `_meta` on newer protocol versions).

use rmcp::{RoleServer, service::RequestContext};

/// "name version", e.g. "claude-code 2.1.3"; "unknown client" when the client sent nothing.
pub fn caller(ctx: &RequestContext<RoleServer>) -> String {
    match ctx.client_info() {
        Some(info) if !info.name.trim().is_empty() => {
            let name = info.name.trim();
            let version = info.version.trim();
            if version.is_empty() {
                name.to_string()
            } else {
                format!("{name} {version}")
            }
        }
        _ => "unknown client".to_string(),
    }
}
