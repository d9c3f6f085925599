//! What both servers do the same way, written once: running blocking store work off the async
//! threads, and the `ServerHandler` methods that only route — tools (with an unknown tool named
//! against the ones offered), prompts, the server's identity, and resource subscriptions fed by
//! the server's change broadcast. Each server writes only its own resources.

use crate::reply::ToolError;

/// Runs a store or workspace call off the async threads (SQLite may wait for another
/// process's lock; a tree walk may take a while).
pub async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ToolError>
where
    T: Send + 'static,
    E: std::error::Error + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ToolError::from),
        Err(e) => Err(ToolError::new(format!("internal error: {e}"))),
    }
}

/// A whole `ServerHandler`, for a server struct with `tool_router`, `prompt_router`,
/// `subscriptions` and `shared.events`, and three methods of its own for its resources:
/// `resource_page(cursor)`, `resource_templates()` and `resource_read(uri)`. Expands inside
/// `impl ServerHandler for …`.
macro_rules! server_skeleton {
    (name: $name:expr, instructions: $instructions:expr) => {
        fn get_info(&self) -> ::rmcp::model::ServerConfig {
            let capabilities = ::rmcp::model::ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_resources_subscribe()
                .build();
            ::rmcp::model::ServerConfig::new(capabilities)
                .with_server_info(::rmcp::model::Implementation::new(
                    $name,
                    env!("CARGO_PKG_VERSION"),
                ))
                .with_instructions($instructions)
        }

        async fn call_tool(
            &self,
            request: ::rmcp::model::CallToolRequestParams,
            context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::CallToolResponse, ::rmcp::ErrorData> {
            if !self.tool_router.has_route(&request.name) {
                return Err($crate::reply::unknown_tool(
                    &self.tool_router,
                    &request.name,
                ));
            }
            self.tool_router
                .call(::rmcp::handler::server::tool::ToolCallContext::new(
                    self, request, context,
                ))
                .await
        }

        async fn list_tools(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::ListToolsResult, ::rmcp::ErrorData> {
            Ok(::rmcp::model::ListToolsResult::with_all_items(
                self.tool_router.list_all(),
            ))
        }

        fn get_tool(&self, name: &str) -> Option<::rmcp::model::Tool> {
            self.tool_router.get(name).cloned()
        }

        async fn list_prompts(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::ListPromptsResult, ::rmcp::ErrorData> {
            Ok(::rmcp::model::ListPromptsResult::with_all_items(
                self.prompt_router.list_all(),
            ))
        }

        async fn get_prompt(
            &self,
            request: ::rmcp::model::GetPromptRequestParams,
            context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::GetPromptResponse, ::rmcp::ErrorData> {
            let ctx = ::rmcp::handler::server::prompt::PromptContext::new(
                self,
                request.name,
                request.arguments,
                context,
            );
            self.prompt_router.get_prompt(ctx).await
        }

        async fn on_initialized(
            &self,
            context: ::rmcp::service::NotificationContext<::rmcp::RoleServer>,
        ) {
            $crate::push::forward_to_session(
                context.peer,
                &[&self.shared.events],
                self.subscriptions.clone(),
            );
        }

        #[allow(deprecated)]
        async fn subscribe(
            &self,
            request: ::rmcp::model::SubscribeRequestParams,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<(), ::rmcp::ErrorData> {
            self.subscriptions.add(request.uri);
            Ok(())
        }

        #[allow(deprecated)]
        async fn unsubscribe(
            &self,
            request: ::rmcp::model::UnsubscribeRequestParams,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<(), ::rmcp::ErrorData> {
            self.subscriptions.remove(&request.uri);
            Ok(())
        }

        fn accepted_subscription_filter(
            &self,
            requested: &::rmcp::model::SubscriptionFilter,
        ) -> Option<::rmcp::model::SubscriptionFilter> {
            Some($crate::push::accepted_filter(requested))
        }

        async fn listen(
            &self,
            context: ::rmcp::service::SubscriptionContext,
        ) -> Result<(), ::rmcp::ErrorData> {
            $crate::push::listen(context, &[&self.shared.events]).await
        }

        async fn list_resources(
            &self,
            request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::ListResourcesResult, ::rmcp::ErrorData> {
            self.resource_page(request.and_then(|r| r.cursor)).await
        }

        async fn list_resource_templates(
            &self,
            _request: Option<::rmcp::model::PaginatedRequestParams>,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::ListResourceTemplatesResult, ::rmcp::ErrorData> {
            Ok(self.resource_templates())
        }

        async fn read_resource(
            &self,
            request: ::rmcp::model::ReadResourceRequestParams,
            _context: ::rmcp::service::RequestContext<::rmcp::RoleServer>,
        ) -> Result<::rmcp::model::ReadResourceResponse, ::rmcp::ErrorData> {
            self.resource_read(request.uri).await
        }
    };
}

pub(crate) use server_skeleton;

/// What a server that combines this one with another asks of it (see `crate::all`): its
/// change broadcast, its tools, and whether a prompt is its own. Expands inside `impl …`.
macro_rules! session_parts {
    () => {
        pub(crate) fn events(&self) -> &$crate::push::EventSender {
            &self.shared.events
        }

        pub(crate) fn tools(&self) -> Vec<::rmcp::model::Tool> {
            self.tool_router.list_all()
        }

        pub(crate) fn has_prompt(&self, name: &str) -> bool {
            self.prompt_router.has_route(name)
        }

        pub(crate) fn prompt_names(&self) -> Vec<String> {
            self.prompt_router
                .list_all()
                .into_iter()
                .map(|p| p.name)
                .collect()
        }
    };
}

pub(crate) use session_parts;
