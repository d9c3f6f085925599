//! The `recall` prompt.

use rmcp::{
    handler::server::wrapper::Parameters,
    model::{PromptMessage, Role},
    prompt, prompt_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::MemoryServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecallArgs {
    /// What to recall, e.g. "authentication" or "proj-x database choice".
    pub topic: String,
}

#[prompt_router(router = "prompt_router", vis = "pub(super)")]
impl MemoryServer {
    /// Look up what was decided about a topic in the shared memory and follow it.
    #[prompt(name = "recall")]
    async fn recall(&self, Parameters(args): Parameters<RecallArgs>) -> Vec<PromptMessage> {
        let topic = args.topic.trim();
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Before going on, recall what the shared Tandem memory says about \"{topic}\". \
                 Call memory_search with the main words of the topic (and memory_list with a \
                 project prefix if one fits), then memory_get the entries that matter. Treat \
                 the decisions you find as agreed with me in my other Claude app: follow them, \
                 and name the keys you rely on. If something you are about to do contradicts \
                 them, ask me first. Record any new decision with memory_set under the same \
                 prefix."
            ),
        )]
    }
}
