//! `tandem mcp workspace`: the shared folder as MCP tools (the file tools of the reference
//! filesystem server, same names and parameters, plus `grep`), the handoff lifecycle, the
//! `handoff` and `pickup` prompts, and every file as a resource, with change notifications
//! whoever changed the files.

use std::{path::Path, sync::Arc};

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{
        router::{prompt::PromptRouter, tool::ToolRouter},
        tool::schema_for_output,
        wrapper::Parameters,
    },
    model::{
        ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, PromptMessage,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
        ResourceContents, ResourceTemplate, Role,
    },
    prompt, prompt_router,
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tandem_store::{
    watch::FolderWatcher,
    workspace::{
        AllowedDirectories, CreateDirectoryOutcome, DirectoryListing, DirectoryTree,
        DirectoryTreeParams, EditFileParams, EditOutcome, FileInfo, GrepParams, GrepResult,
        HANDOFFS_DIR, HandoffCreateParams, HandoffCreated, HandoffDoc, HandoffList,
        HandoffListParams, HandoffReadParams, HandoffUpdateParams, HandoffUpdated, MoveFileParams,
        MoveOutcome, MultipleFiles, PathParams, ReadMultipleFilesParams, ReadTextFileParams,
        SearchFilesParams, SearchFilesResult, TextFile, TreeNode, Workspace, WorkspaceError,
        WriteFileParams, WriteOutcome,
    },
};

use crate::{
    caller::caller,
    push::{self, EventSender, ResourceEvent, Subscriptions},
    reply::{Reply, ToolResult},
    skeleton::blocking,
    uri,
};

pub const INSTRUCTIONS: &str = "A folder shared by the person's Claude apps: Claude Desktop \
writes plans and handoffs here, Claude Code reads them. Paths are relative to the folder (or \
absolute inside it). Write a ready plan with handoff_create; to start work, handoff_read \
\"latest\", claim it with handoff_update, and mark it done when finished.";

const FILE_PREFIX: &str = "file://";
const HANDOFF_PREFIX: &str = "handoff://";
const RESOURCE_PAGE: usize = 200;

/// Process-wide state shared by every session: the workspace and its change broadcast.
pub struct WorkspaceShared {
    ws: Arc<Workspace>,
    events: EventSender,
    watcher: std::sync::Mutex<Option<FolderWatcher>>,
    read_only: bool,
}

impl WorkspaceShared {
    /// Opens (creating on first use) the shared folder and starts watching it.
    pub fn open(root: &Path, read_only: bool) -> Result<Arc<Self>, WorkspaceError> {
        let ws = Arc::new(if read_only {
            Workspace::open_existing(root)?
        } else {
            Workspace::open(root)?
        });
        let shared = Arc::new(Self {
            ws,
            events: push::channel(),
            watcher: std::sync::Mutex::new(None),
            read_only,
        });
        // Watching a large tree means one watch per folder: set it up off the start-up path
        // so the client's `initialize` is answered at once.
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("tandem-watch-setup".into())
            .spawn(move || {
                let Some(shared) = weak.upgrade() else { return };
                let root = shared.ws.root().to_path_buf();
                let sender = shared.events.clone();
                let watcher = FolderWatcher::spawn(&root.clone(), move |paths| {
                    let uris = paths.iter().flat_map(|p| changed_uris(&root, p)).collect();
                    let _ = sender.send(Arc::new(ResourceEvent { uris }));
                });
                match watcher {
                    Ok(w) => *shared.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(w),
                    Err(e) => tracing::warn!("file change notifications are off: {e}"),
                }
            })
            .map_err(|e| WorkspaceError::Io {
                action: "starting the file watcher",
                path: shared.ws.root().display().to_string(),
                source: e,
            })?;
        Ok(shared)
    }

    pub fn workspace(&self) -> &Arc<Workspace> {
        &self.ws
    }
}

fn file_uri(abs: &Path) -> String {
    uri::encode(FILE_PREFIX, &abs.to_string_lossy())
}

fn handoff_uri(id: &str) -> String {
    uri::encode(HANDOFF_PREFIX, id)
}

/// The resource URIs a changed path stands for: its `file://` URI, and `handoff://{id}` for a
/// handoff file.
fn changed_uris(root: &Path, path: &Path) -> Vec<String> {
    let mut uris = vec![file_uri(path)];
    if let Ok(rel) = path.strip_prefix(root.join(HANDOFFS_DIR))
        && rel.extension().is_some_and(|e| e == "md")
        && rel.components().count() == 1
        && let Some(stem) = rel.file_stem()
    {
        uris.push(handoff_uri(&stem.to_string_lossy()));
    }
    uris
}

/// One MCP session of the workspace server.
#[derive(Clone)]
pub struct WorkspaceServer {
    shared: Arc<WorkspaceShared>,
    subscriptions: Subscriptions,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoParams {}

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

#[tool_router(router = tool_router)]
impl WorkspaceServer {
    pub fn new(shared: Arc<WorkspaceShared>) -> Self {
        let mut tool_router = Self::tool_router();
        crate::definitions::compact(&mut tool_router);
        let mut prompt_router = Self::prompt_router();
        if shared.read_only {
            crate::definitions::keep_read_only(&mut tool_router);
            prompt_router.remove_route("handoff");
        }
        Self {
            shared,
            subscriptions: Subscriptions::default(),
            tool_router,
            prompt_router,
        }
    }

    fn ws(&self) -> Arc<Workspace> {
        self.shared.ws.clone()
    }

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

#[prompt_router(router = "prompt_router")]
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

impl ServerHandler for WorkspaceServer {
    crate::skeleton::server_skeleton!(name: "tandem-workspace", instructions: INSTRUCTIONS);

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let cursor = request.and_then(|r| r.cursor);
        let mut resources = Vec::new();
        // The first page starts with the handoffs, newest first.
        if cursor.is_none() {
            let list = self
                .shared
                .ws
                .handoff_list(&HandoffListParams {
                    limit: Some(50),
                    ..Default::default()
                })
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            resources.extend(list.handoffs.iter().map(|h| {
                Resource::new(handoff_uri(&h.id), format!("handoff: {}", h.title))
                    .with_description(
                        format!("{:?} — by {}", h.status, h.created_by).to_lowercase(),
                    )
                    .with_mime_type("text/markdown")
            }));
        }
        let ws = self.ws();
        let page = tokio::task::spawn_blocking(move || {
            ws.list_files(cursor.as_deref(), Some(RESOURCE_PAGE))
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
        .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let root = self.shared.ws.root().to_path_buf();
        resources.extend(page.files.iter().map(|rel| {
            Resource::new(file_uri(&root.join(rel)), rel.clone()).with_mime_type(mime_of(rel))
        }));
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let root = self.shared.ws.root().to_string_lossy().into_owned();
        let templates = vec![
            ResourceTemplate::new(format!("{HANDOFF_PREFIX}{{id}}"), "handoff")
                .with_description("A handoff by id (the file name in handoffs/ without .md)")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new(
                format!("{}/{{path}}", file_uri(Path::new(&root))),
                "shared file",
            )
            .with_description("A text file in the shared folder by its relative path"),
        ];
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let not_found = |e: WorkspaceError| {
            ErrorData::resource_not_found(e.to_string(), Some(json!({"uri": uri})))
        };
        let (text, mime) = if let Some(id) = uri::decode(HANDOFF_PREFIX, &uri) {
            let doc = self
                .shared
                .ws
                .handoff_read(&HandoffReadParams { id })
                .map_err(not_found)?;
            (doc.markdown, "text/markdown")
        } else if let Some(path) = uri::decode(FILE_PREFIX, &uri) {
            let file = self
                .shared
                .ws
                .read_text_file(&ReadTextFileParams::path(path.clone()))
                .map_err(not_found)?;
            (file.content, mime_of(&path))
        } else {
            return Err(ErrorData::invalid_params(
                format!("{uri} is not a workspace resource; use file:// or handoff:// URIs"),
                None,
            ));
        };
        let contents = ResourceContents::text(text, uri.clone()).with_mime_type(mime);
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

fn mime_of(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("md" | "markdown") => "text/markdown",
        Some("json") => "application/json",
        _ => "text/plain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_files_stand_for_two_resources() {
        let root = Path::new("/ws");
        let uris = changed_uris(root, Path::new("/ws/handoffs/2026-01-01-0000-plan.md"));
        assert_eq!(
            uris,
            [
                "file:///ws/handoffs/2026-01-01-0000-plan.md",
                "handoff://2026-01-01-0000-plan"
            ]
        );
        assert_eq!(
            changed_uris(root, Path::new("/ws/notes/a b.md")),
            ["file:///ws/notes/a%20b.md"]
        );
    }

    #[test]
    fn instructions_stay_short() {
        assert!(INSTRUCTIONS.split_whitespace().count() <= 60);
    }
}
