//! `grep`: a regex over the text files under a folder, on ripgrep's library crates. The walk
//! never follows symbolic links, and every file is opened through the jail's directory handle,
//! so a link swapped in mid-walk cannot make it read outside the root.
//!
//! Like ripgrep, it skips binary files and honours `.gitignore` and `.ignore` files (anywhere
//! in the workspace, git repository or not; never those above the root nor the global git
//! ignore). Unlike ripgrep's default, hidden files are searched: nothing in the shared folder is
//! hidden from the two clients, except the `.git` folder, which is skipped.

use grep::{
    regex::RegexMatcherBuilder,
    searcher::{BinaryDetection, SearcherBuilder, sinks::Lossy},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Workspace,
    error::{WorkspaceError, WsResult},
    jail::{FinalLink, display_rel},
    listing::Globs,
};

pub const GREP_DEFAULT_RESULTS: usize = 200;
pub const GREP_MAX_RESULTS: usize = 2000;
/// Longest line text returned, in characters; a longer line keeps its start and ends with "…".
pub const GREP_LINE_CHARS: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrepParams {
    pub pattern: String,
    /// File or folder to search; default the whole folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only files matching this glob, e.g. "*.md".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
    #[serde(default)]
    pub case_insensitive: bool,
    /// Default 200, at most 2000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrepMatch {
    /// Relative to the workspace root.
    pub file: String,
    /// Line number, from 1.
    pub line: u64,
    /// The matching line, without its line ending (cut at 500 characters).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrepResult {
    pub matches: Vec<GrepMatch>,
    /// Matching lines found, returned or not.
    pub total: usize,
    /// Matching lines left out by `maxResults`.
    pub omitted: usize,
    pub files_searched: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Workspace {
    /// `grep`: matching lines under `path` (the whole workspace by default).
    pub fn grep(&self, p: &GrepParams) -> WsResult<GrepResult> {
        let jail = self.jail();
        let shown = p.path.as_deref().unwrap_or(".");
        let start = jail.resolve(shown, FinalLink::Follow)?;
        if !start.exists() {
            return Err(WorkspaceError::NotFound {
                path: shown.to_string(),
            });
        }
        let Grep {
            max,
            matcher,
            glob,
            mut searcher,
        } = Grep::new(p)?;

        let root = jail.root();
        let start_abs = root.join(start.rel());
        let mut walker = ignore::WalkBuilder::new(&start_abs);
        walker
            .follow_links(false)
            .hidden(false)
            .parents(false)
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(|e| {
                !(e.file_name() == ".git" && e.file_type().is_some_and(|t| t.is_dir()))
            });

        let mut matches = Vec::new();
        let mut total = 0usize;
        let mut files_searched = 0usize;
        for entry in walker.build() {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue; // folders, links (never followed), devices
            }
            let Ok(rel) = entry.path().strip_prefix(root) else {
                continue;
            };
            if !jail.really_inside(rel) {
                continue;
            }
            if let Some(glob) = &glob {
                let from_start = entry
                    .path()
                    .strip_prefix(&start_abs)
                    .map(display_rel)
                    .unwrap_or_default();
                let name = entry.file_name().to_string_lossy();
                let from_start = if from_start == "." {
                    name.to_string()
                } else {
                    from_start
                };
                if !glob.is_match(&from_start, &name) {
                    continue;
                }
            }
            let Ok(file) = jail.dir().open(rel) else {
                continue;
            };
            let file = file.into_std();
            files_searched += 1;
            let shown_file = display_rel(rel);
            let _ = searcher.search_file(
                &matcher,
                &file,
                Lossy(|line, text| {
                    total += 1;
                    if matches.len() < max {
                        matches.push(GrepMatch {
                            file: shown_file.clone(),
                            line,
                            text: clip(text),
                        });
                    }
                    Ok(true)
                }),
            );
        }
        Ok(result(matches, total, files_searched, max))
    }
}

/// What every engine's `grep` needs from the parameters: the bound, the regex, the glob and
/// a searcher (line numbers; a file with a NUL byte is binary and skipped).
pub(crate) struct Grep {
    pub max: usize,
    pub matcher: grep::regex::RegexMatcher,
    pub glob: Option<Globs>,
    pub searcher: grep::searcher::Searcher,
}

impl Grep {
    pub(crate) fn new(p: &GrepParams) -> WsResult<Self> {
        let max = p.max_results.unwrap_or(GREP_DEFAULT_RESULTS);
        if max == 0 || max > GREP_MAX_RESULTS {
            return Err(WorkspaceError::InvalidArgument(format!(
                "maxResults is {max}; give 1 to {GREP_MAX_RESULTS}"
            )));
        }
        let matcher = RegexMatcherBuilder::new()
            .case_insensitive(p.case_insensitive)
            .line_terminator(Some(b'\n'))
            .build(&p.pattern)
            .map_err(|e| WorkspaceError::InvalidPattern {
                what: "regex",
                pattern: p.pattern.clone(),
                reason: e.to_string(),
            })?;
        let glob = match p.glob.as_deref().filter(|g| !g.trim().is_empty()) {
            Some(g) => Some(Globs::new("glob", &[g.to_string()], false)?),
            None => None,
        };
        let searcher = SearcherBuilder::new()
            .line_number(true)
            .binary_detection(BinaryDetection::quit(0))
            .build();
        Ok(Self {
            max,
            matcher,
            glob,
            searcher,
        })
    }

    /// Searches `text` (the file `file`), adding its matching lines to `matches` (at most
    /// `max` kept) and counting them all in `total`.
    pub(crate) fn search_text(
        &mut self,
        file: &str,
        text: &[u8],
        matches: &mut Vec<GrepMatch>,
        total: &mut usize,
    ) {
        let max = self.max;
        let _ = self.searcher.search_slice(
            &self.matcher,
            text,
            Lossy(|line, found| {
                *total += 1;
                if matches.len() < max {
                    matches.push(GrepMatch {
                        file: file.to_string(),
                        line,
                        text: clip(found),
                    });
                }
                Ok(true)
            }),
        );
    }
}

/// A `grep` answer from what was found.
pub(crate) fn result(
    matches: Vec<GrepMatch>,
    total: usize,
    files_searched: usize,
    max: usize,
) -> GrepResult {
    let omitted = total - matches.len();
    let note = (omitted > 0).then(|| {
        format!(
            "{omitted} more matching lines not shown (maxResults is {max}); narrow with path, \
             glob or a more specific pattern, or raise maxResults (up to {GREP_MAX_RESULTS})"
        )
    });
    GrepResult {
        matches,
        total,
        omitted,
        files_searched,
        note,
    }
}

fn clip(line: &str) -> String {
    let line = line.trim_end_matches(['\n', '\r']);
    match line.char_indices().nth(GREP_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
