//! Tandem MCP servers.
