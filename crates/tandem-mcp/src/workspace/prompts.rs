//! The `handoff` and `pickup` prompts.

use rmcp::{
    handler::server::wrapper::Parameters,
    model::{PromptMessage, Role},
    prompt, prompt_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::WorkspaceServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandoffPromptArgs {
    /// What part of the conversation to hand off (default: the plan as it stands).
    #[serde(default)]
    pub focus: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupPromptArgs {
    /// The handoff to pick up (default: the newest open one).
    #[serde(default)]
    pub id: Option<String>,
}

#[prompt_router(router = "prompt_router", vis = "pub(super)")]
impl WorkspaceServer {
    /// Write the plan of this conversation as a handoff that Claude Code can implement.
    #[prompt(name = "handoff")]
    async fn handoff_prompt(
        &self,
        Parameters(args): Parameters<HandoffPromptArgs>,
    ) -> Vec<PromptMessage> {
        let focus = match args
            .focus
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            Some(focus) => format!(" Focus on: {focus}."),
            None => String::new(),
        };
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Turn the plan we have worked out in this conversation into a Tandem handoff so \
                 that Claude Code can implement it without this conversation.{focus} Call \
                 handoff_create with: a one-line title; a summary of the goal, the approach and \
                 why; decisions, each a concrete choice with its reason (libraries, formats, \
                 names, trade-offs settled); tasks, small ordered steps that can each be \
                 checked, naming the files, functions or commands involved; openQuestions, \
                 what is still undecided; files, the paths concerned; and a project name. Do \
                 not invent decisions we did not make: put them under open questions. If the \
                 memory tools are connected, also record each lasting decision with memory_set \
                 under \"<project>/<topic>\". Then tell me the handoff id."
            ),
        )]
    }

    /// Pick up a handoff from Claude Desktop: read it, claim it, look up related decisions, start.
    #[prompt(name = "pickup")]
    async fn pickup_prompt(
        &self,
        Parameters(args): Parameters<PickupPromptArgs>,
    ) -> Vec<PromptMessage> {
        let id = args
            .id
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .unwrap_or("latest");
        let claim = if self.shared.read_only {
            String::new()
        } else {
            "Claim it with handoff_update (status \"claimed\", a note saying what you will do \
             first). "
                .to_string()
        };
        let finish = if self.shared.read_only {
            ""
        } else {
            " When every task is done, call handoff_update with status \"done\" and a note of \
             what was done and anything left over."
        };
        vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Pick up the Tandem handoff \"{id}\": call handoff_read with id \"{id}\" and read \
                 it in full. {claim}If the memory tools are connected, call memory_search with \
                 the main words of its title and summary and follow the decisions you find. \
                 Then start on the first task, in order, and keep to the decisions recorded in \
                 the handoff; ask me about its open questions before guessing.{finish}"
            ),
        )]
    }
}
