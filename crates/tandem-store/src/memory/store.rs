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

/// A read on whichever engine holds the memory; on the team store, read again on a new
/// connection when the connection had broken (the server restarted, the network changed).
macro_rules! read_on_engine {
    ($self:ident, $s:ident => $call:expr) => {
        match &$self.engine {
            Engine::Local($s) => $call,
            Engine::Team($s) => $s.again(|| $call),
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

    /// The team `team` on the PostgreSQL server at `url` (see [`TeamMemory::connect`] for where the
    /// password comes from).
    pub fn connect_team(url: &str, team: &str, saved_password: Option<&str>) -> Result<Self> {
        TeamMemory::connect(url, team, saved_password).map(Self::from_team)
    }

    /// A team store already connected.
    pub fn from_team(team: TeamMemory) -> Self {
        Self {
            engine: Engine::Team(team),
        }
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

    /// The team store, for the PostgreSQL engine.
    pub fn team(&self) -> Option<&TeamMemory> {
        match &self.engine {
            Engine::Local(_) => None,
            Engine::Team(s) => Some(s),
        }
    }

    /// The SQLite file, for the local engine.
    pub fn path(&self) -> Option<&Path> {
        match &self.engine {
            Engine::Local(s) => Some(s.path()),
            Engine::Team(_) => None,
        }
    }

    /// Records `origin` with every write from now on (see [`LocalMemory::set_origin`] and
    /// [`TeamMemory::set_origin`]).
    pub fn set_origin(&self, origin: String) -> Result<()> {
        match &self.engine {
            Engine::Local(s) => s.set_origin(origin),
            Engine::Team(s) => {
                s.set_origin(origin);
                Ok(())
            }
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
        read_on_engine!(self, s => s.get(keys))
    }

    pub fn list(
        &self,
        prefix: Option<&str>,
        tag: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<ListPage> {
        read_on_engine!(self, s => s.list(prefix, tag, limit, cursor))
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
        read_on_engine!(self, s => s.history(key, limit))
    }

    pub fn restore(&self, key: &str, version: i64, by: &str) -> Result<RestoreOutcome> {
        on_engine!(self, s => s.restore(key, version, by))
    }

    pub fn for_each_entry(&self, f: impl FnMut(Entry) -> Result<()>) -> Result<()> {
        on_engine!(self, s => s.for_each_entry(f))
    }

    pub fn stats(&self) -> Result<Stats> {
        read_on_engine!(self, s => s.stats())
    }

    pub fn integrity_check(&self) -> Result<String> {
        read_on_engine!(self, s => s.integrity_check())
    }

    /// Every key with a history (deleted ones too) after `after`, in key order.
    pub fn keys_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        read_on_engine!(self, s => s.keys_after(after, limit))
    }

    /// How many keys have a history (deleted ones too).
    pub fn key_count(&self) -> Result<usize> {
        read_on_engine!(self, s => s.key_count())
    }

    /// Every version of `key`, oldest first.
    pub fn full_history(&self, key: &str) -> Result<Vec<HistoryItem>> {
        read_on_engine!(self, s => s.full_history(key))
    }

    /// Writes another store's history of `key` here; `false` when this store has the key.
    pub fn import_key(&self, key: &str, versions: &[HistoryItem]) -> Result<bool> {
        on_engine!(self, s => s.import_key(key, versions))
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
        read_on_engine!(self, s => s.search(query, tag, limit))
    }

    pub fn changes(&self, since: Option<i64>, limit: Option<usize>) -> Result<ChangesPage> {
        read_on_engine!(self, s => s.changes(since, limit))
    }

    pub fn last_seq(&self) -> Result<i64> {
        read_on_engine!(self, s => s.last_seq())
    }

    pub fn changed_since(&self, since: &str, limit: usize) -> Result<Vec<EntrySummary>> {
        read_on_engine!(self, s => s.changed_since(since, limit))
    }

    /// The changes after `since` (up to `until`) written from `origin`.
    pub fn changes_from(
        &self,
        origin: &str,
        since: i64,
        until: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        on_engine!(self, s => s.changes_from(origin, since, until))
    }
}

/// Where memory lives: the SQLite file (a path) or a team on a PostgreSQL server (a
/// `postgres://` or `postgresql://` URL; `?team=NAME` chooses the team, `tandem` by default).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    File(std::path::PathBuf),
    Team {
        url: String,
        team: String,
        /// The password `tandem team join` saved in the state folder, used when the URL has
        /// none; never shown.
        saved_password: Option<String>,
    },
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
        let (url, team) = team::take_query(text, "team");
        let team = team.unwrap_or_else(|| DEFAULT_TEAM.to_string());
        Self::Team {
            url,
            team,
            saved_password: None,
        }
    }

    /// Where the URL points, without a password, as it is saved (`tandem team join`).
    pub fn without_password(url: &str) -> String {
        match url.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((auth, host)) => {
                    let user = auth.split(':').next().unwrap_or("");
                    format!("{scheme}://{user}@{host}")
                }
                None => url.to_string(),
            },
            None => url.to_string(),
        }
    }

    /// The password a URL carries, if any (percent-decoded).
    pub fn url_password(url: &str) -> Option<String> {
        let Self::Team { url, .. } = Self::parse(url) else {
            return None;
        };
        let (config, _, _) = team::parse_url(&url).ok()?;
        config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// For messages and logs: a URL without its password.
    pub fn shown(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Team { url, team, .. } => {
                format!("{} (team {team})", Self::without_password(url))
            }
        }
    }
}

impl MemoryStore {
    /// The store where `home`'s processes keep memory ([`crate::Home::memory_location`]), for
    /// a reader that must not create one: `None` when the SQLite file is not there yet or the
    /// store cannot be reached (its error logged).
    pub fn open_for_reading(home: &crate::Home) -> Option<Self> {
        let location = home.memory_location().ok()?;
        if let StoreLocation::File(db) = &location
            && !db.is_file()
        {
            return None;
        }
        Self::open_at(&location)
            .map_err(|e| tracing::warn!("memory at {}: {e}", location.shown()))
            .ok()
    }

    /// The store at `location`.
    pub fn open_at(location: &StoreLocation) -> Result<Self> {
        match location {
            StoreLocation::File(path) => Self::open(path),
            StoreLocation::Team {
                url,
                team,
                saved_password,
            } => Self::connect_team(url, team, saved_password.as_deref()),
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
                team: "acme".into(),
                saved_password: None,
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
