//! The memory every server role uses, on either engine: the SQLite file on this computer
//! ([`LocalMemory`], the default) or a team's schema on PostgreSQL ([`TeamMemory`]). The same
//! calls, the same results and errors; each engine says how it keeps the contract.

use std::{io::Read, path::Path};

use serde_json::Value;

use super::*;

pub struct MemoryStore {
    engine: Engine,
}

enum Engine {
    Local(LocalMemory),
    Team(TeamMemory),
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.engine {
            Engine::Local(s) => s.fmt(f),
            Engine::Team(s) => s.fmt(f),
        }
    }
}

/// The same call on whichever engine holds the memory.
macro_rules! on_engine {
    ($self:ident, $s:ident => $call:expr) => {
        match &$self.engine {
            Engine::Local($s) => $call,
            Engine::Team($s) => $call,
        }
    };
}

impl MemoryStore {
    /// The SQLite file at `path` (made, with its folders, when missing).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        LocalMemory::open(path).map(|s| Self {
            engine: Engine::Local(s),
        })
    }

    /// The team `team` on the PostgreSQL server at `url`.
    pub fn connect_team(url: &str, team: &str) -> Result<Self> {
        TeamMemory::connect(url, team).map(|s| Self {
            engine: Engine::Team(s),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn engine(&self) -> &'static str {
        match &self.engine {
            Engine::Local(_) => "sqlite",
            Engine::Team(_) => "postgres",
        }
    }

    /// Whether the memory is the SQLite file on this computer (reads there never wait).
    pub fn is_local(&self) -> bool {
        matches!(self.engine, Engine::Local(_))
    }

    /// The SQLite file, for the local engine.
    pub fn path(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Local(s) => Some(s.path()),
            Engine::Team(_) => None,
        }
    }

    /// Records `origin` with every write from now on (see [`LocalMemory::set_origin`]). The
    /// team store records none yet: news then shows every change, never hides one.
    pub fn set_origin(&self, origin: String) -> Result<()> {
        match &self.engine {
            Engine::Local(s) => s.set_origin(origin),
            Engine::Team(_) => Ok(()),
        }
    }

    pub fn set(&self, req: &SetRequest<'_>, by: &str) -> Result<SetOutcome> {
        on_engine!(self, s => s.set(req, by))
    }

    #[cfg(test)]
    pub(crate) fn set_plain(&self, key: &str, value: &Value, by: &str) -> Result<SetOutcome> {
        self.set(
            &SetRequest {
                key,
                value,
                tags: None,
                expected_version: None,
            },
            by,
        )
    }

    /// [`Self::set`] only if it would not wait; `Ok(None)` otherwise. A team write always
    /// crosses the network, so it is never done in place: `Ok(None)`, and the caller writes on
    /// a thread that may block.
    pub fn try_set(&self, req: &SetRequest<'_>, by: &str) -> Result<Option<SetOutcome>> {
        match &self.engine {
            Engine::Local(s) => s.try_set(req, by),
            Engine::Team(_) => Ok(None),
        }
    }

    pub fn set_many(&self, items: &[(String, Value, Vec<String>)], by: &str) -> Result<usize> {
        on_engine!(self, s => s.set_many(items, by))
    }

    pub fn get(&self, keys: &[String]) -> Result<GetResult> {
        on_engine!(self, s => s.get(keys))
    }

    pub fn list(
        &self,
        prefix: Option<&str>,
        tag: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<ListPage> {
        on_engine!(self, s => s.list(prefix, tag, limit, cursor))
    }

    pub fn delete(
        &self,
        key: &str,
        expected_version: Option<i64>,
        by: &str,
    ) -> Result<DeleteOutcome> {
        on_engine!(self, s => s.delete(key, expected_version, by))
    }

    pub fn history(&self, key: &str, limit: Option<usize>) -> Result<Vec<HistoryItem>> {
        on_engine!(self, s => s.history(key, limit))
    }

    pub fn restore(&self, key: &str, version: i64, by: &str) -> Result<RestoreOutcome> {
        on_engine!(self, s => s.restore(key, version, by))
    }

    pub fn for_each_entry(&self, f: impl FnMut(Entry) -> Result<()>) -> Result<()> {
        on_engine!(self, s => s.for_each_entry(f))
    }

    pub fn stats(&self) -> Result<Stats> {
        on_engine!(self, s => s.stats())
    }

    pub fn integrity_check(&self) -> Result<String> {
        on_engine!(self, s => s.integrity_check())
    }

    /// Imports an `@modelcontextprotocol/server-memory` JSONL file.
    pub fn import_server_memory(&self, reader: impl Read, by: &str) -> Result<ImportReport> {
        import::import(self, reader, by)
    }

    pub fn search(
        &self,
        query: &str,
        tag: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<SearchHit>> {
        on_engine!(self, s => s.search(query, tag, limit))
    }

    pub fn changes(&self, since: Option<i64>, limit: Option<usize>) -> Result<ChangesPage> {
        on_engine!(self, s => s.changes(since, limit))
    }

    pub fn last_seq(&self) -> Result<i64> {
        on_engine!(self, s => s.last_seq())
    }

    pub fn changed_since(&self, since: &str, limit: usize) -> Result<Vec<EntrySummary>> {
        on_engine!(self, s => s.changed_since(since, limit))
    }

    /// The changes after `since` (up to `until`) written from `origin`; none on the team store
    /// (it records no origins yet).
    pub fn changes_from(
        &self,
        origin: &str,
        since: i64,
        until: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        match &self.engine {
            Engine::Local(s) => s.changes_from(origin, since, until),
            Engine::Team(_) => Ok(Default::default()),
        }
    }
}

/// Where memory lives: the SQLite file (a path) or a team on a PostgreSQL server (a
/// `postgres://` or `postgresql://` URL; `?team=NAME` chooses the team, `tandem` by default).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    File(std::path::PathBuf),
    Team { url: String, team: String },
}

/// The team a URL names when it names none.
pub const DEFAULT_TEAM: &str = "tandem";

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl StoreLocation {
    /// A path or a URL, as `--store` and `TANDEM_STORE` give it.
    pub fn parse(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            return Self::File(text.into());
        }
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut team = DEFAULT_TEAM.to_string();
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| match p.strip_prefix("team=") {
                Some(name) => {
                    team = name.to_string();
                    false
                }
                None => true,
            })
            .collect();
        let url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Self::Team { url, team }
    }

    /// For messages and logs: a URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Team { url, team } => {
                let redacted = match url.split_once("://") {
                    Some((scheme, rest)) => match rest.split_once('@') {
                        Some((auth, host)) => {
                            let user = auth.split(':').next().unwrap_or("");
                            format!("{scheme}://{user}@{host}")
                        }
                        None => url.clone(),
                    },
                    None => url.clone(),
                };
                format!("{redacted} (team {team})")
            }
        }
    }
}

impl MemoryStore {
    /// The store at `location`.
    pub fn open_at(location: &StoreLocation) -> Result<Self> {
        match location {
            StoreLocation::File(path) => Self::open(path),
            StoreLocation::Team { url, team } => Self::connect_team(url, team),
        }
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn a_url_names_a_team_and_a_path_a_file_and_passwords_are_never_shown() {
        assert_eq!(
            StoreLocation::parse("/tmp/m.db"),
            StoreLocation::File("/tmp/m.db".into())
        );
        let team = StoreLocation::parse(
            "postgres://ann:s3cret@db.example:5433/tandem?team=acme&sslmode=require",
        );
        assert_eq!(
            team,
            StoreLocation::Team {
                url: "postgres://ann:s3cret@db.example:5433/tandem?sslmode=require".into(),
                team: "acme".into()
            }
        );
        assert_eq!(
            team.shown(),
            "postgres://ann@db.example:5433/tandem?sslmode=require (team acme)"
        );
        assert!(!format!("{team:?}").contains("s3cret"));
        assert!(matches!(
            StoreLocation::parse("postgresql://h/db"),
            StoreLocation::Team { team, .. } if team == DEFAULT_TEAM
        ));
    }
}
