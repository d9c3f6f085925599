//! Listing tools: `list_directory`, `directory_tree` and `search_files`. Each walks once,
//! through the jail's directory handle (never following links), reads entry types from the
//! directory itself (no `stat` per entry), and stops at a cap while counting what it left
//! out. Hidden files are listed; `.gitignore` is not consulted (as in the reference server):
//! use `excludePatterns` to skip things.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Workspace,
    error::{WorkspaceError, WsResult},
    files::{EntryKind, PathParams},
    jail::{FinalLink, Resolved},
};

/// Entries returned by `list_directory`, `directory_tree` and `search_files` by default.
pub const LIST_CAP: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirEntryInfo {
    pub name: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryListing {
    /// Relative to the workspace root (`.` for the root).
    pub path: String,
    /// Sorted by name.
    pub entries: Vec<DirEntryInfo>,
    /// Entries in the folder, listed or not.
    pub total: usize,
    /// Entries left out by the cap of 500.
    pub omitted: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryTreeParams {
    pub path: String,
    /// Globs to leave out, e.g. "node_modules".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_patterns: Vec<String>,
    /// Levels to list (1 = the folder's own entries); all by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    pub name: String,
    pub kind: EntryKind,
    /// A folder's entries; absent for files and links, and for folders below `maxDepth` or
    /// past the cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<TreeNode>>,
    /// Entries of this folder left out by the cap.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryTree {
    /// Relative to the workspace root.
    pub path: String,
    pub tree: Vec<TreeNode>,
    /// Entries in `tree`.
    pub entries: usize,
    /// Entries left out by the cap of 500 (shallow entries come first).
    pub omitted: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilesParams {
    pub path: String,
    /// Glob relative to path; without "/" it matches names at any depth.
    pub pattern: String,
    /// Globs to leave out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFilesResult {
    /// Paths relative to the workspace root, shallow ones first.
    pub matches: Vec<String>,
    /// Matches found, returned or not.
    pub total: usize,
    /// Matches left out by the cap of 500.
    pub omitted: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Globs for names and relative paths. A glob without `/` matches a name at any depth; with
/// `/`, the path relative to where the walk started (`*` does not cross `/`, `**` does).
#[derive(Debug, Clone)]
pub(crate) struct Globs {
    names: GlobSet,
    paths: GlobSet,
    /// Plain words (no glob characters) matched as lowercase substrings of names.
    words: Vec<String>,
}

impl Globs {
    pub(crate) fn new(what: &'static str, patterns: &[String], words: bool) -> WsResult<Self> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        let mut plain = Vec::new();
        for pattern in patterns {
            let pattern = pattern.trim();
            if pattern.is_empty() {
                continue;
            }
            if words && !pattern.contains(['*', '?', '[', '{', '/']) {
                plain.push(pattern.to_lowercase());
                continue;
            }
            let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
            let pattern = pattern.trim_end_matches('/');
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| WorkspaceError::InvalidPattern {
                    what,
                    pattern: pattern.to_string(),
                    reason: e.kind().to_string(),
                })?;
            if pattern.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| WorkspaceError::InvalidPattern {
                what,
                pattern: patterns.join(", "),
                reason: e.to_string(),
            })
        };
        Ok(Self {
            names: build(names)?,
            paths: build(paths)?,
            words: plain,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty() && self.paths.is_empty() && self.words.is_empty()
    }

    /// `rel` is relative to where the walk started, with `/` separators.
    pub(crate) fn is_match(&self, rel: &str, name: &str) -> bool {
        self.names.is_match(name)
            || self.paths.is_match(rel)
            || (!self.words.is_empty() && {
                let lower = name.to_lowercase();
                self.words.iter().any(|w| lower.contains(w.as_str()))
            })
    }
}

/// One entry met by [`walk`].
struct Visit<'a> {
    /// Relative to the walk's start, `/` separators.
    rel: &'a str,
    name: &'a str,
    kind: EntryKind,
    /// 1 for the start folder's own entries.
    depth: usize,
    /// Index of the containing folder's visit (as returned by `visit`), `None` at the top.
    parent: Option<usize>,
}

/// What `visit` decides about an entry.
enum Verdict {
    /// Leave it out entirely (and do not descend).
    Skip,
    /// Keep going; descend into it when it is a folder, under this id.
    Descend(Option<usize>),
}

/// What the listing tools walk: the shared folder (through the jail), or the team's
/// documents (folders are the paths' prefixes).
pub(crate) trait Tree {
    /// The entries of the folder `dir` (relative to the root, `/` separators, empty for the
    /// root), in any order.
    fn entries(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>>;
    /// An error reading `path`, as the tools report it.
    fn error(&self, action: &'static str, path: &str, e: std::io::Error) -> WorkspaceError {
        WorkspaceError::Io {
            action,
            path: path.to_string(),
            source: e,
        }
    }
}

/// The folder: one directory read per folder, entry types from the directory itself, links
/// never followed, nothing that resolves outside the root.
impl Tree for super::jail::Jail {
    fn entries(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        let at = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(dir)
        };
        Ok(self
            .dir()
            .read_dir(at)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let kind = EntryKind::of(e.file_type().ok()?);
                let name = e.file_name().to_string_lossy().into_owned();
                self.really_inside(&Path::new(dir).join(&name))
                    .then_some((name, kind))
            })
            .collect())
    }

    fn error(&self, action: &'static str, path: &str, e: std::io::Error) -> WorkspaceError {
        self.io_error(action, path, e)
    }
}

/// Where a walk starts, relative to the root with `/` separators (empty for the root).
fn start_of(r: &Resolved) -> String {
    if r.rel().as_os_str().is_empty() {
        String::new()
    } else {
        r.display()
    }
}

/// Breadth-first walk of `tree` under `start` (see [`start_of`]), entries sorted by name.
fn walk(
    tree: &impl Tree,
    start: &str,
    shown: &str,
    max_depth: Option<usize>,
    mut visit: impl FnMut(Visit<'_>) -> Verdict,
) -> WsResult<()> {
    // (path relative to the root, path relative to the start, depth, id)
    let mut queue = std::collections::VecDeque::new();
    queue.push_back((start.to_string(), String::new(), 0usize, None));
    while let Some((dir_rel, start_rel, depth, id)) = queue.pop_front() {
        let mut children = match tree.entries(&dir_rel) {
            Ok(entries) => entries,
            // The start must be readable; below it, an unreadable folder is left out.
            Err(e) if depth == 0 => return Err(tree.error("listing", shown, e)),
            Err(_) => continue,
        };
        children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, kind) in children {
            let rel = if start_rel.is_empty() {
                name.clone()
            } else {
                format!("{start_rel}/{name}")
            };
            let verdict = visit(Visit {
                rel: &rel,
                name: &name,
                kind,
                depth: depth + 1,
                parent: id,
            });
            if let Verdict::Descend(child_id) = verdict
                && kind == EntryKind::Dir
                && max_depth.is_none_or(|m| depth + 1 < m)
            {
                let below = if dir_rel.is_empty() {
                    name.clone()
                } else {
                    format!("{dir_rel}/{name}")
                };
                queue.push_back((below, rel, depth + 1, child_id));
            }
        }
    }
    Ok(())
}

impl Workspace {
    fn resolve_dir(&self, path: &str) -> WsResult<Resolved> {
        let r = self.jail().resolve(path, FinalLink::Follow)?;
        match r.metadata() {
            None => Err(WorkspaceError::NotFound {
                path: path.to_string(),
            }),
            Some(m) if !m.is_dir() => Err(WorkspaceError::NotADirectory {
                path: path.to_string(),
            }),
            Some(_) => Ok(r),
        }
    }

    /// `list_directory`: the folder's entries, sorted by name, at most 500.
    pub fn list_directory(&self, p: &PathParams) -> WsResult<DirectoryListing> {
        let r = self.resolve_dir(&p.path)?;
        list_directory_in(self.jail(), &start_of(&r), r.display(), &p.path)
    }

    /// `directory_tree`: nested entries, breadth first so the top levels come first, at most
    /// 500; the rest is counted.
    pub fn directory_tree(&self, p: &DirectoryTreeParams) -> WsResult<DirectoryTree> {
        let r = self.resolve_dir(&p.path)?;
        directory_tree_in(self.jail(), &start_of(&r), r.display(), p)
    }

    /// `search_files`: paths under `path` whose relative path or name matches a glob, at most
    /// 500, shallow ones first.
    pub fn search_files(&self, p: &SearchFilesParams) -> WsResult<SearchFilesResult> {
        let r = self.resolve_dir(&p.path)?;
        search_files_in(self.jail(), &start_of(&r), p)
    }
}

/// `list_directory` on any tree, from `start` (shown as `display`; `path` as given).
pub(crate) fn list_directory_in(
    tree: &impl Tree,
    start: &str,
    display: String,
    path: &str,
) -> WsResult<DirectoryListing> {
    let mut entries = Vec::new();
    walk(tree, start, path, Some(1), |v| {
        entries.push(DirEntryInfo {
            name: v.name.to_string(),
            kind: v.kind,
        });
        Verdict::Descend(None)
    })?;
    let total = entries.len();
    let omitted = total.saturating_sub(LIST_CAP);
    entries.truncate(LIST_CAP);
    let note = (omitted > 0).then(|| {
        format!(
            "{omitted} more entries not listed; narrow with search_files (a pattern) or \
             list a subfolder"
        )
    });
    Ok(DirectoryListing {
        path: display,
        entries,
        total,
        omitted,
        note,
    })
}

/// `directory_tree` on any tree, from `start` (shown as `display`).
pub(crate) fn directory_tree_in(
    tree: &impl Tree,
    start: &str,
    display: String,
    p: &DirectoryTreeParams,
) -> WsResult<DirectoryTree> {
    let exclude = Globs::new("exclude pattern", &p.exclude_patterns, false)?;
    if p.max_depth == Some(0) {
        return Err(WorkspaceError::InvalidArgument(
            "maxDepth is 0; give 1 or more (1 lists only the folder's own entries)".to_string(),
        ));
    }
    // Flat arena: (node, parent index); children are attached at the end.
    let mut flat: Vec<(TreeNode, Option<usize>)> = Vec::new();
    let mut omitted = 0usize;
    let mut omitted_in: Vec<usize> = Vec::new();
    walk(tree, start, &p.path, p.max_depth, |v| {
        if !exclude.is_empty() && exclude.is_match(v.rel, v.name) {
            return Verdict::Skip;
        }
        // A folder whose own node was left out has no index: its entries are counted only.
        if flat.len() >= LIST_CAP || (v.depth > 1 && v.parent.is_none()) {
            omitted += 1;
            if let Some(parent) = v.parent {
                omitted_in[parent] += 1;
            }
            return Verdict::Descend(None);
        }
        let index = flat.len();
        flat.push((
            TreeNode {
                name: v.name.to_string(),
                kind: v.kind,
                children: (v.kind == EntryKind::Dir && p.max_depth.is_none_or(|m| v.depth < m))
                    .then(Vec::new),
                omitted: 0,
            },
            v.parent,
        ));
        omitted_in.push(0);
        Verdict::Descend(Some(index))
    })?;
    let entries = flat.len();
    for (i, n) in omitted_in.iter().enumerate() {
        if *n > 0
            && let Some((node, _)) = flat.get_mut(i)
        {
            node.omitted = *n;
        }
    }
    let tree = nest(flat);
    let note = (omitted > 0).then(|| {
        format!(
            "{omitted} more entries not shown (the cap is {LIST_CAP}); narrow with a \
             subfolder path, maxDepth or excludePatterns"
        )
    });
    Ok(DirectoryTree {
        path: display,
        tree,
        entries,
        omitted,
        note,
    })
}

/// `search_files` on any tree, from `start`.
pub(crate) fn search_files_in(
    tree: &impl Tree,
    start: &str,
    p: &SearchFilesParams,
) -> WsResult<SearchFilesResult> {
    if p.pattern.trim().is_empty() {
        return Err(WorkspaceError::InvalidArgument(
            "pattern is empty; give a glob such as \"**/*.md\"".to_string(),
        ));
    }
    let pattern = Globs::new("pattern", std::slice::from_ref(&p.pattern), true)?;
    let exclude = Globs::new("exclude pattern", &p.exclude_patterns, false)?;
    let mut matches = Vec::new();
    let mut total = 0usize;
    walk(tree, start, &p.path, None, |v| {
        if !exclude.is_empty() && exclude.is_match(v.rel, v.name) {
            return Verdict::Skip;
        }
        if pattern.is_match(v.rel, v.name) {
            total += 1;
            if matches.len() < LIST_CAP {
                matches.push(root_relative(start, v.rel));
            }
        }
        Verdict::Descend(None)
    })?;
    let omitted = total - matches.len();
    let note = (omitted > 0).then(|| {
        format!(
            "{omitted} more matches not listed (the cap is {LIST_CAP}); narrow with a more \
             specific pattern, a subfolder path or excludePatterns"
        )
    });
    Ok(SearchFilesResult {
        matches,
        total,
        omitted,
        note,
    })
}

pub const FILES_PAGE_DEFAULT: usize = 200;
pub const FILES_PAGE_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilePage {
    /// Paths relative to the workspace root, shallow ones first.
    pub files: Vec<String>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl Workspace {
    /// Every regular file in the workspace, a page at a time (for listing files as MCP
    /// resources). Hidden files and folders (names starting with ".") are left out. The
    /// cursor is a position in a stable order (breadth first, names sorted), so a file added
    /// or removed between two pages can shift the next page by one.
    pub fn list_files(&self, cursor: Option<&str>, limit: Option<usize>) -> WsResult<FilePage> {
        let limit = limit.unwrap_or(FILES_PAGE_DEFAULT);
        if limit == 0 || limit > FILES_PAGE_MAX {
            return Err(WorkspaceError::InvalidArgument(format!(
                "limit is {limit}; give 1 to {FILES_PAGE_MAX}"
            )));
        }
        let skip = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                WorkspaceError::InvalidArgument(format!(
                    "cursor {c:?} is not one this server gave; start again without a cursor"
                ))
            })?,
        };
        let mut files = Vec::new();
        let mut seen = 0usize;
        let mut more = false;
        walk(self.jail(), "", ".", None, |v| {
            if v.name.starts_with('.') {
                return Verdict::Skip;
            }
            if v.kind == EntryKind::File {
                if seen >= skip {
                    if files.len() < limit {
                        files.push(v.rel.to_string());
                    } else {
                        more = true;
                    }
                }
                seen += 1;
            }
            Verdict::Descend(None)
        })?;
        Ok(FilePage {
            next_cursor: more.then(|| (skip + files.len()).to_string()),
            files,
        })
    }
}

/// `base` (relative to the root) joined with a walk-relative path, `/` separators.
fn root_relative(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// Builds the nested tree from nodes listed parents-first.
fn nest(flat: Vec<(TreeNode, Option<usize>)>) -> Vec<TreeNode> {
    let mut slots: Vec<Option<TreeNode>> = Vec::with_capacity(flat.len());
    let mut parents = Vec::with_capacity(flat.len());
    for (node, parent) in flat {
        slots.push(Some(node));
        parents.push(parent);
    }
    // Children come after their parents, so attaching from the end moves finished subtrees.
    let mut top = Vec::new();
    for i in (0..slots.len()).rev() {
        let Some(node) = slots[i].take() else {
            continue;
        };
        match parents[i]
            .and_then(|p| slots.get_mut(p))
            .and_then(|s| s.as_mut())
        {
            Some(parent) => parent.children.get_or_insert_with(Vec::new).push(node),
            None => top.push(node),
        }
    }
    top.reverse();
    for node in &mut top {
        reverse_children(node);
    }
    top
}

fn reverse_children(node: &mut TreeNode) {
    if let Some(children) = node.children.as_mut() {
        children.reverse();
        for child in children {
            reverse_children(child);
        }
    }
}

#[cfg(test)]
mod tests;
