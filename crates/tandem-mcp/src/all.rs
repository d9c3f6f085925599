//! `tandem mcp all`: the workspace and memory tool sets from one server process, for a client
//! where one entry is one server (a Claude Desktop extension: one manifest, one server). Every
//! tool, prompt and resource keeps its name and URI; each request goes to the server that owns
//! it, and change notifications come from both.

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
        Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ServerConfig, SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams,
    },
    service::{NotificationContext, RequestContext, SubscriptionContext},
};

use crate::{
    memory::{self, MemoryServer},
    push::{self, Subscriptions},
    workspace::WorkspaceServer,
};

pub const NAME: &str = "tandem";

pub const INSTRUCTIONS: &str = "Shared by the person's Claude apps: Claude Desktop and Claude \
Code read and write the same folder and memory. The file tools and handoff_* work on a folder \
of plans: write a ready plan with handoff_create; to start work, handoff_read \"latest\", claim \
it with handoff_update, and mark it done when finished. The memory_* tools keep decisions as \
JSON under per-project keys (`project/topic`): search before deciding, pass expectedVersion to \
avoid overwriting another app's change, and call memory_changes with your last cursor to catch \
up.";

/// Resource pages: the workspace's pages first, then the memory's. The cursor says whose page
/// comes next and carries that server's own cursor.
const WORKSPACE_PAGE: &str = "workspace:";
const MEMORY_PAGE: &str = "memory:";

/// One MCP session offering both servers' tools.
#[derive(Clone)]
pub struct AllServer {
    workspace: WorkspaceServer,
    memory: MemoryServer,
    subscriptions: Subscriptions,
}

impl AllServer {
    pub fn new(workspace: WorkspaceServer, memory: MemoryServer) -> Self {
        Self {
            workspace,
            memory,
            subscriptions: Subscriptions::default(),
        }
    }

    fn tools(&self) -> Vec<Tool> {
        let mut tools = self.workspace.tools();
        tools.extend(self.memory.tools());
        tools
    }
}

impl ServerHandler for AllServer {
    fn get_info(&self) -> ServerConfig {
        self.workspace
            .get_info()
            .with_server_info(Implementation::new(NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.memory.get_tool(&request.name).is_some() {
            self.memory.call_tool(request, context).await
        } else if self.workspace.get_tool(&request.name).is_some() {
            self.workspace.call_tool(request, context).await
        } else {
            Err(crate::reply::unknown_tool_among(
                &self.tools(),
                &request.name,
            ))
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.workspace
            .get_tool(name)
            .or_else(|| self.memory.get_tool(name))
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let mut prompts = self
            .workspace
            .list_prompts(request.clone(), context.clone())
            .await?
            .prompts;
        prompts.extend(self.memory.list_prompts(request, context).await?.prompts);
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if self.memory.has_prompt(&request.name) {
            self.memory.get_prompt(request, context).await
        } else if self.workspace.has_prompt(&request.name) {
            self.workspace.get_prompt(request, context).await
        } else {
            let mut offered = self.workspace.prompt_names();
            offered.extend(self.memory.prompt_names());
            Err(ErrorData::invalid_params(
                format!(
                    "unknown prompt {:?}; this server offers: {}",
                    request.name,
                    offered.join(", ")
                ),
                None,
            ))
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        push::forward_to_session(
            context.peer,
            &[self.workspace.events(), self.memory.events()],
            self.subscriptions.clone(),
        );
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.add(request.uri);
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.remove(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(push::accepted_filter(requested))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        push::listen(context, &[self.workspace.events(), self.memory.events()]).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let cursor = request.as_ref().and_then(|r| r.cursor.clone());
        let (memory_page, inner) = match cursor.as_deref() {
            None => (false, None),
            Some(c) => match (c.strip_prefix(WORKSPACE_PAGE), c.strip_prefix(MEMORY_PAGE)) {
                (Some(w), _) => (false, Some(w.to_string())),
                (_, Some(m)) => (true, (!m.is_empty()).then(|| m.to_string())),
                _ => {
                    return Err(ErrorData::invalid_params(
                        format!("{c:?} is not a cursor this server gave"),
                        None,
                    ));
                }
            },
        };
        let inner_request = Some(PaginatedRequestParams::default().with_cursor(inner));
        if memory_page {
            let mut page = self.memory.list_resources(inner_request, context).await?;
            page.next_cursor = page.next_cursor.map(|c| format!("{MEMORY_PAGE}{c}"));
            return Ok(page);
        }
        let mut page = self
            .workspace
            .list_resources(inner_request, context)
            .await?;
        page.next_cursor = Some(match page.next_cursor {
            Some(c) => format!("{WORKSPACE_PAGE}{c}"),
            None => MEMORY_PAGE.to_string(),
        });
        Ok(page)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let mut templates = self
            .workspace
            .list_resource_templates(request.clone(), context.clone())
            .await?
            .resource_templates;
        templates.extend(
            self.memory
                .list_resource_templates(request, context)
                .await?
                .resource_templates,
        );
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if memory::is_entry_uri(&request.uri) {
            self.memory.read_resource(request, context).await
        } else {
            self.workspace.read_resource(request, context).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_under_a_hundred_words() {
        assert!(INSTRUCTIONS.split_whitespace().count() <= 100);
    }
}
