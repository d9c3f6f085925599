//! MCP clients: where each keeps its config, and editing those files safely.
