//! Tool results: structured content that matches the tool's `outputSchema` plus a short text
//! rendering, or an `isError` result whose message says what to do next.

use std::fmt::Display;

use rmcp::{
    ErrorData,
    handler::server::tool::IntoCallToolResult,
    model::{CallToolResponse, CallToolResult, ContentBlock},
};
use serde::Serialize;

/// A successful tool result.
pub struct Reply<T> {
    pub data: T,
    pub text: String,
}

impl<T> Reply<T> {
    pub fn new(data: T, text: impl Into<String>) -> Self {
        Self {
            data,
            text: text.into(),
        }
    }
}

impl<T: Serialize> IntoCallToolResult for Reply<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(&self.data)
            .map_err(|e| ErrorData::internal_error(format!("serializing the result: {e}"), None))?;
        let mut result = CallToolResult::success(vec![ContentBlock::text(self.text)]);
        result.structured_content = Some(value);
        Ok(result.into())
    }
}

/// A failed tool call the model should read and act on (`isError: true`).
#[derive(Debug)]
pub struct ToolError(pub String);

impl ToolError {
    pub fn new(message: impl Display) -> Self {
        Self(message.to_string())
    }
}

impl<E: std::error::Error> From<E> for ToolError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(self.0)]).into())
    }
}

pub type ToolResult<T> = Result<Reply<T>, ToolError>;

pub use tandem_store::text::clip;

/// The protocol error for a tool this server does not offer, naming the ones it does.
pub fn unknown_tool<S: Send + Sync + 'static>(
    router: &rmcp::handler::server::router::tool::ToolRouter<S>,
    name: &str,
) -> ErrorData {
    unknown_tool_among(&router.list_all(), name)
}

/// The same error for a server whose tools are `offered`.
pub fn unknown_tool_among(offered: &[rmcp::model::Tool], name: &str) -> ErrorData {
    let offered: Vec<&str> = offered.iter().map(|t| t.name.as_ref()).collect();
    ErrorData::invalid_params(
        format!(
            "unknown tool {name:?}; this server offers: {}",
            offered.join(", ")
        ),
        None,
    )
}
