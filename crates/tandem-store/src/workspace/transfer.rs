//! `tandem team import` / `export` for the workspace: the shared folder's text files (plans,
//! notes, handoffs) into the team's documents, and the team's documents into a folder. A
//! document (or file) the other side has already is kept as it is there, so a second run
//! carries on where an interrupted one stopped. A folder has no history: what moves is each
//! file as it is now (the team's history stays on the team).

use super::{
    Workspace,
    error::WsResult,
    jail::FinalLink,
    listing::FILES_PAGE_MAX,
    team::{Expect, MAX_DOC_BYTES, MAX_PAGE, TeamDocs, doc_path},
};
use crate::StoreError;

/// What a move did: files copied, files the other side had already (kept as they were there),
/// files left out with why (binary, too large, a name the team cannot hold), of `total`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FolderTransfer {
    pub files: usize,
    pub kept: usize,
    pub skipped: Vec<(String, String)>,
    pub total: usize,
}

/// Copies every text file of `ws` (hidden ones aside) into `docs`, as `by`; `progress` is
/// told (done, total) after each file.
pub fn folder_into_team(
    ws: &Workspace,
    docs: &TeamDocs,
    by: &str,
    mut progress: impl FnMut(usize, usize),
) -> WsResult<FolderTransfer> {
    let mut paths = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = ws.list_files(cursor.as_deref(), Some(FILES_PAGE_MAX))?;
        paths.extend(page.files);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut done = FolderTransfer {
        total: paths.len(),
        ..FolderTransfer::default()
    };
    for (n, path) in paths.iter().enumerate() {
        let why = match read_text(ws, path)? {
            Err(why) => Some(why),
            Ok(text) => match docs.put(path, &text, Expect::Absent, by) {
                Ok(_) => {
                    done.files += 1;
                    None
                }
                Err(StoreError::DocConflict(_)) => {
                    done.kept += 1;
                    None
                }
                Err(StoreError::InvalidArgument(why)) => Some(why),
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(why) = why {
            done.skipped.push((path.clone(), why));
        }
        progress(n + 1, done.total);
    }
    Ok(done)
}

/// Writes every document of `docs` that `ws` does not have into it (files it has are kept).
pub fn team_into_folder(
    docs: &TeamDocs,
    ws: &Workspace,
    mut progress: impl FnMut(usize, usize),
) -> WsResult<FolderTransfer> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = docs.list("", after.as_deref(), MAX_PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some(last.path.clone());
        all.extend(page.into_iter().map(|d| d.path));
    }
    let mut done = FolderTransfer {
        total: all.len(),
        ..FolderTransfer::default()
    };
    for (n, path) in all.iter().enumerate() {
        let there = ws
            .jail()
            .resolve(path, FinalLink::Keep)
            .map(|r| r.exists())?;
        if there {
            done.kept += 1;
        } else if let Some(doc) = docs.get(path)? {
            ws.write_file(path, &doc.text)?;
            done.files += 1;
        }
        progress(n + 1, done.total);
    }
    Ok(done)
}

/// A file's text, or why it cannot be a document of the team's workspace.
fn read_text(ws: &Workspace, path: &str) -> WsResult<Result<String, String>> {
    if let Err(e) = doc_path(path) {
        return Ok(Err(e.to_string()));
    }
    let r = ws.jail().resolve(path, FinalLink::Follow)?;
    if r.metadata().is_some_and(|m| m.len() > MAX_DOC_BYTES as u64) {
        return Ok(Err(format!("larger than {MAX_DOC_BYTES} bytes")));
    }
    let bytes = ws
        .jail()
        .dir()
        .read(r.cap_path())
        .map_err(|e| ws.jail().io_error("reading", path, e))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) if text.contains('\0') => Err("binary: it holds NUL bytes".into()),
        Ok(text) => Ok(text),
        Err(_) => Err("not UTF-8 text".into()),
    })
}
