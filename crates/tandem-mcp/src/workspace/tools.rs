//! The workspace tools: the reference filesystem server's file tools, `grep`, and the
//! handoff lifecycle.

use rmcp::{
    RoleServer,
    handler::server::{tool::schema_for_output, wrapper::Parameters},
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tandem_store::workspace::{
    AllowedDirectories, CreateDirectoryOutcome, DirectoryListing, DirectoryTree,
    DirectoryTreeParams, EditFileParams, EditOutcome, FileInfo, GrepParams, GrepResult,
    HandoffCreateParams, HandoffCreated, HandoffDoc, HandoffList, HandoffListParams,
    HandoffReadParams, HandoffUpdateParams, HandoffUpdated, MoveFileParams, MoveOutcome,
    MultipleFiles, PathParams, ReadMultipleFilesParams, ReadTextFileParams, SearchFilesParams,
    SearchFilesResult, TextFile, TreeNode, WriteFileParams, WriteOutcome,
};

use crate::{
    caller::caller,
    reply::{Reply, ToolResult},
    skeleton::blocking,
};

use super::WorkspaceServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoParams {}

/// "\n(note)" when there is a note.
fn with_note(text: String, note: &Option<String>) -> String {
    match note {
        Some(note) => format!("{text}\n({note})"),
        None => text,
    }
}

fn render_tree(nodes: &[TreeNode], depth: usize, out: &mut String) {
    for node in nodes {
        let slash = if node.children.is_some() { "/" } else { "" };
        out.push_str(&format!("{}{}{slash}\n", "  ".repeat(depth), node.name));
        if let Some(children) = &node.children {
            render_tree(children, depth + 1, out);
        }
        if node.omitted > 0 {
            out.push_str(&format!(
                "{}… {} more\n",
                "  ".repeat(depth + 1),
                node.omitted
            ));
        }
    }
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl WorkspaceServer {
    #[tool(
        name = "read_text_file",
        description = "Read a text file: head or tail N lines, or offset (from 1) and limit. A read \
            stops at 256 KiB and says how to read on.",
        output_schema = schema_for_output::<TextFile>(),
        annotations(title = "Read text file", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn read_text_file(
        &self,
        Parameters(p): Parameters<ReadTextFileParams>,
    ) -> ToolResult<TextFile> {
        let out = self.shared.ws.read_text_file(&p)?;
        let text = with_note(out.content.clone(), &out.note);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "read_multiple_files",
        description = "Read up to 100 text files at once; a file that cannot be read gets its own \
            error.",
        output_schema = schema_for_output::<MultipleFiles>(),
        annotations(title = "Read multiple files", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn read_multiple_files(
        &self,
        Parameters(p): Parameters<ReadMultipleFilesParams>,
    ) -> ToolResult<MultipleFiles> {
        let out = self.shared.ws.read_multiple_files(&p)?;
        let text = out
            .files
            .iter()
            .map(|f| match (&f.file, &f.error) {
                (Some(file), _) => with_note(format!("{}:\n{}", f.path, file.content), &file.note),
                (None, Some(error)) => format!("{}: Error - {error}", f.path),
                (None, None) => format!("{}: (nothing)", f.path),
            })
            .collect::<Vec<_>>()
            .join("\n---\n");
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "write_file",
        description = "Create a file or replace all of it, atomically, creating missing folders. To \
            change part of a file, use edit_file.",
        output_schema = schema_for_output::<WriteOutcome>(),
        annotations(title = "Write file", read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn write_file(
        &self,
        Parameters(p): Parameters<WriteFileParams>,
    ) -> ToolResult<WriteOutcome> {
        let ws = self.ws();
        let out = blocking(move || ws.write_file_with(&p)).await?;
        let verb = if out.created { "Created" } else { "Wrote" };
        let text = format!("{verb} {} ({} bytes).", out.path, out.bytes);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "edit_file",
        description = "Replace exact text in a file; each oldText must occur once unless replaceAll. \
            Returns a unified diff; dryRun writes nothing.",
        output_schema = schema_for_output::<EditOutcome>(),
        annotations(title = "Edit file", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn edit_file(
        &self,
        Parameters(p): Parameters<EditFileParams>,
    ) -> ToolResult<EditOutcome> {
        let ws = self.ws();
        let out = blocking(move || ws.edit_file(&p)).await?;
        let what = if out.written {
            "Edited"
        } else {
            "Would edit (dry run)"
        };
        let text = if out.diff.is_empty() {
            format!("{} is unchanged.", out.path)
        } else {
            format!("{what} {}:\n```diff\n{}```", out.path, out.diff)
        };
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "create_directory",
        description = "Create a folder (and its missing parents); fine if it already exists.",
        output_schema = schema_for_output::<CreateDirectoryOutcome>(),
        annotations(title = "Create directory", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn create_directory(
        &self,
        Parameters(p): Parameters<PathParams>,
    ) -> ToolResult<CreateDirectoryOutcome> {
        let ws = self.ws();
        let out = blocking(move || ws.create_directory(&p)).await?;
        let text = format!("Folder {} is there.", out.path);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "list_directory",
        description = "A folder's entries (file, dir, symlink) by name; at most 500.",
        output_schema = schema_for_output::<DirectoryListing>(),
        annotations(title = "List directory", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_directory(
        &self,
        Parameters(p): Parameters<PathParams>,
    ) -> ToolResult<DirectoryListing> {
        let out = self.shared.ws.list_directory(&p)?;
        let lines: Vec<String> = out
            .entries
            .iter()
            .map(|e| {
                let tag = match e.kind {
                    tandem_store::workspace::EntryKind::Dir => "[DIR]",
                    tandem_store::workspace::EntryKind::Symlink => "[LINK]",
                    _ => "[FILE]",
                };
                format!("{tag} {}", e.name)
            })
            .collect();
        let text = if lines.is_empty() {
            format!("{} is empty.", out.path)
        } else {
            lines.join("\n")
        };
        let text = with_note(text, &out.note);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "directory_tree",
        description = "Folders and files under path as a nested tree, shallowest first; at most 500 \
            entries.",
        output_schema = schema_for_output::<DirectoryTree>(),
        annotations(title = "Directory tree", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn directory_tree(
        &self,
        Parameters(p): Parameters<DirectoryTreeParams>,
    ) -> ToolResult<DirectoryTree> {
        let ws = self.ws();
        let out = blocking(move || ws.directory_tree(&p)).await?;
        let mut text = String::new();
        render_tree(&out.tree, 0, &mut text);
        let text = with_note(text.trim_end().to_string(), &out.note);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "move_file",
        description = "Move or rename a file or folder. Refuses to overwrite an existing \
            destination.",
        output_schema = schema_for_output::<MoveOutcome>(),
        annotations(title = "Move file", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn move_file(
        &self,
        Parameters(p): Parameters<MoveFileParams>,
    ) -> ToolResult<MoveOutcome> {
        let ws = self.ws();
        let out = blocking(move || ws.move_file(&p)).await?;
        let text = format!("Moved {} to {}.", out.source, out.destination);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "search_files",
        description = "Find files and folders under path whose path matches a glob (\"**/*.md\"); a \
            plain word matches names containing it. At most 500.",
        output_schema = schema_for_output::<SearchFilesResult>(),
        annotations(title = "Search files", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search_files(
        &self,
        Parameters(p): Parameters<SearchFilesParams>,
    ) -> ToolResult<SearchFilesResult> {
        let ws = self.ws();
        let out = blocking(move || ws.search_files(&p)).await?;
        let text = if out.matches.is_empty() {
            "No matches.".to_string()
        } else {
            out.matches.join("\n")
        };
        let text = with_note(text, &out.note);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "get_file_info",
        description = "Size, kind, times (RFC 3339) and permissions of a file or folder.",
        output_schema = schema_for_output::<FileInfo>(),
        annotations(title = "Get file info", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_file_info(&self, Parameters(p): Parameters<PathParams>) -> ToolResult<FileInfo> {
        let out = self.shared.ws.get_file_info(&p)?;
        let text = serde_json::to_value(&out)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}: {}",
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "list_allowed_directories",
        description = "The one folder this server can read and write (the shared folder).",
        output_schema = schema_for_output::<AllowedDirectories>(),
        annotations(title = "List allowed directories", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_allowed_directories(
        &self,
        Parameters(_): Parameters<NoParams>,
    ) -> ToolResult<AllowedDirectories> {
        let out = self.shared.ws.list_allowed_directories();
        let text = format!("Allowed directories:\n{}", out.directories.join("\n"));
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "grep",
        description = "Search file contents by regular expression (ripgrep syntax), line by line, \
            optionally only in files matching glob. Returns file, line number and line.",
        output_schema = schema_for_output::<GrepResult>(),
        annotations(title = "Grep", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn grep(&self, Parameters(p): Parameters<GrepParams>) -> ToolResult<GrepResult> {
        let ws = self.ws();
        let out = blocking(move || ws.grep(&p)).await?;
        let text = if out.matches.is_empty() {
            "No matches.".to_string()
        } else {
            out.matches
                .iter()
                .map(|m| format!("{}:{}: {}", m.file, m.line, m.text))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let text = with_note(text, &out.note);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "handoff_create",
        description = "Hand a plan to the person's other Claude app (e.g. planned in Desktop, built \
            in Code): a Markdown file in handoffs/, status open. Make tasks concrete \
            enough to implement.",
        output_schema = schema_for_output::<HandoffCreated>(),
        annotations(title = "Create handoff", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn handoff_create(
        &self,
        Parameters(p): Parameters<HandoffCreateParams>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult<HandoffCreated> {
        let by = caller(&ctx);
        let ws = self.ws();
        let out = blocking(move || ws.handoff_create(&p, &by)).await?;
        let text = format!("Created handoff {} ({}), status open.", out.id, out.path);
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "handoff_list",
        description = "Handoffs, newest first, with status (open, claimed, done, dropped; invalid if \
            the front matter does not parse); filter by status or project.",
        output_schema = schema_for_output::<HandoffList>(),
        annotations(title = "List handoffs", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn handoff_list(
        &self,
        Parameters(p): Parameters<HandoffListParams>,
    ) -> ToolResult<HandoffList> {
        let out = self.shared.ws.handoff_list(&p)?;
        let text = if out.handoffs.is_empty() {
            "No handoffs.".to_string()
        } else {
            out.handoffs
                .iter()
                .map(|h| {
                    let error = h
                        .error
                        .as_ref()
                        .map(|e| format!(" — {e}"))
                        .unwrap_or_default();
                    let status = serde_json::to_value(h.status)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default();
                    format!(
                        "{} [{status}] {} — by {}, {}{error}",
                        h.id, h.title, h.created_by, h.created_at
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "handoff_read",
        description = "A handoff's front matter and whole Markdown; id \"latest\" is the newest open \
            one.",
        output_schema = schema_for_output::<HandoffDoc>(),
        annotations(title = "Read handoff", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn handoff_read(
        &self,
        Parameters(p): Parameters<HandoffReadParams>,
    ) -> ToolResult<HandoffDoc> {
        let out = self.shared.ws.handoff_read(&p)?;
        let text = out.markdown.clone();
        Ok(Reply::new(out, text))
    }

    #[tool(
        name = "handoff_update",
        description = "Move a handoff along its lifecycle: claimed when you start, done when \
            finished, dropped if abandoned, or open again. The note goes into its Log.",
        output_schema = schema_for_output::<HandoffUpdated>(),
        annotations(title = "Update handoff", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn handoff_update(
        &self,
        Parameters(p): Parameters<HandoffUpdateParams>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult<HandoffUpdated> {
        let by = caller(&ctx);
        let ws = self.ws();
        let out = blocking(move || ws.handoff_update(&p, &by)).await?;
        let text = format!("Handoff {} is now {}.", out.id, out.status.as_str());
        Ok(Reply::new(out, text))
    }
}
