//! Moving memory between stores with its history (`tandem team import` / `export`): every key,
//! every version in order, with who wrote it and when, into a store that does not have the key
//! yet. One transaction per key, so an interrupted move leaves whole keys, and running it again
//! carries on where it stopped: keys already in the destination are left as they are there.

use super::{HistoryItem, MemoryStore};
use crate::Result;

/// Keys read from the source per round trip.
const PAGE: usize = 500;

/// What a move did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Keys written into the destination, and their versions.
    pub keys: usize,
    pub versions: usize,
    /// Keys the destination had already (an earlier run, or someone else): left as they are.
    pub kept: usize,
    /// Keys in the source.
    pub total: usize,
}

/// Moves every key of `from` that `to` does not have into `to`, with its history; `progress`
/// is told after each key (keys looked at so far, of the total).
pub fn transfer(
    from: &MemoryStore,
    to: &MemoryStore,
    mut progress: impl FnMut(&Transfer, usize),
) -> Result<Transfer> {
    let mut done = Transfer {
        total: from.key_count()?,
        ..Transfer::default()
    };
    let mut seen = 0;
    let mut after: Option<String> = None;
    loop {
        let keys = from.keys_after(after.as_deref(), PAGE)?;
        let Some(last) = keys.last().cloned() else {
            break;
        };
        for key in &keys {
            let versions: Vec<HistoryItem> = from.full_history(key)?;
            if to.import_key(key, &versions)? {
                done.keys += 1;
                done.versions += versions.len();
            } else {
                done.kept += 1;
            }
            seen += 1;
            progress(&done, seen);
        }
        after = Some(last);
    }
    Ok(done)
}
