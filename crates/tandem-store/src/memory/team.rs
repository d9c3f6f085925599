//! Memory on PostgreSQL, the team store: the same keys, versions, compare-and-swap, history and
//! change feed as the SQLite file, in one schema per team of a database every member reaches.
//!
//! **How the feed is numbered.** Every write transaction first locks the one row of
//! `feed_counter` (`SELECT … FOR UPDATE`), numbers its changes from it, writes the new number
//! back and commits. Writers therefore commit one at a time, in the order they took that lock,
//! and a change numbered `n` is visible before any change numbered above `n` is: a reader that
//! polls `seq > cursor` never misses a committed change and never sees a gap (a rolled-back
//! write gives its numbers back). A `bigserial` would not do: its numbers are taken at insert,
//! not at commit, so a later number can become visible first.
//!
//! Search is PostgreSQL's own (`english` stemming, `ts_rank`): the same words and fallbacks as
//! on SQLite, so the same entries are found, ranked its way. Not here yet: the write origins
//! (news then shows every change); `tandem` does not open a team store from its commands yet.

use std::{
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use postgres::{Client, NoTls, Transaction, error::SqlState, fallible_iterator::FallibleIterator};
use serde_json::Value;

use super::{
    CHANGES_DEFAULT, CHANGES_MAX, Change, ChangesPage, Current, DeleteOutcome, Entry, EntrySummary,
    GetResult, HISTORY_DEFAULT, HISTORY_MAX, HistoryItem, LIST_DEFAULT, LIST_MAX, ListPage, Op,
    PREVIEW_CHARS, PreparedSet, Replay, RestoreOutcome, SEARCH_DEFAULT, SEARCH_MAX, SearchHit,
    SetOutcome, SetRequest, Stats, Step, changes_page, check_expected, check_keys, clamp_limit,
    decode_cursor, list_page, now_rfc3339, parse_json, parse_tags, prepare_many, preview,
    resolve_set,
    search::{self, query_words},
    validate_key,
};
use crate::{Result, StoreError};

/// Migration `i` moves a team's schema from version `i` to `i + 1`; `{s}` is the schema.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE {s}.feed_counter (
        one  boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq  bigint NOT NULL
    );
    INSERT INTO {s}.feed_counter (seq) VALUES (0);
    CREATE TABLE {s}.entries (
        id          bigserial PRIMARY KEY,
        key         text NOT NULL UNIQUE,
        value       text,
        tags        text NOT NULL DEFAULT '[]',
        version     bigint NOT NULL,
        deleted     boolean NOT NULL DEFAULT false,
        created_at  text NOT NULL,
        updated_at  text NOT NULL,
        updated_by  text NOT NULL,
        body        tsvector
    );
    CREATE INDEX entries_body ON {s}.entries USING gin (body);
    CREATE TABLE {s}.versions (
        seq      bigint PRIMARY KEY,
        key      text NOT NULL,
        version  bigint NOT NULL,
        op       text NOT NULL CHECK (op IN ('set', 'delete', 'restore')),
        value    text,
        tags     text NOT NULL,
        at       text NOT NULL,
        by       text NOT NULL,
        UNIQUE (key, version)
    );
    CREATE TABLE {s}.entry_tags (
        tag       text NOT NULL,
        entry_id  bigint NOT NULL REFERENCES {s}.entries (id),
        PRIMARY KEY (tag, entry_id)
    );
    "#,
    // 2: which client process wrote a change (the prompt hook leaves out its own session's
    // writes), and history retention (the trigger that runs `keep_history` exists only while
    // the team keeps a limited history, so writes pay nothing for it by default). Members may
    // append origins, never remove them (their
    // rights on new tables are given after the migrations, see `member_rights`); old
    // versions are removed by the owner's function, run by a trigger, when the team keeps a
    // limited history (`keep_versions` > 0, set by `tandem team keep-history`).
    r#"
    CREATE TABLE {s}.write_origins (
        seq     bigint PRIMARY KEY,
        origin  text NOT NULL
    );
    INSERT INTO {s}.meta (name, value) VALUES ('keep_versions', 0) ON CONFLICT DO NOTHING;
    CREATE FUNCTION {s}.keep_history() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        keep bigint;
    BEGIN
        SELECT value INTO keep FROM {s}.meta WHERE name = 'keep_versions';
        IF keep > 0 THEN
            DELETE FROM {s}.versions WHERE key = NEW.key AND version <= NEW.version - keep;
        END IF;
        RETURN NULL;
    END $$;
    "#,
    // 3: the workspace as versioned documents (path → text), with a feed of its own
    // (`doc_counter`, numbered in commit order as memory's is) and its own doorbell, so that
    // file writes never wait behind memory writes. See `workspace::team`.
    r#"
    CREATE TABLE {s}.doc_counter (
        one  boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq  bigint NOT NULL
    );
    INSERT INTO {s}.doc_counter (seq) VALUES (0);
    CREATE TABLE {s}.docs (
        path        text PRIMARY KEY,
        text        text,
        version     bigint NOT NULL,
        deleted     boolean NOT NULL DEFAULT false,
        created_at  text NOT NULL,
        created_by  text NOT NULL,
        updated_at  text NOT NULL,
        updated_by  text NOT NULL
    );
    CREATE INDEX docs_path ON {s}.docs (path text_pattern_ops);
    CREATE TABLE {s}.doc_versions (
        seq      bigint PRIMARY KEY,
        path     text NOT NULL,
        version  bigint NOT NULL,
        op       text NOT NULL CHECK (op IN ('put', 'delete')),
        text     text,
        at       text NOT NULL,
        by       text NOT NULL,
        UNIQUE (path, version)
    );
    "#,
];

/// The schema version this build writes.
pub const TEAM_SCHEMA: i64 = MIGRATIONS.len() as i64;

/// Memory in one team's schema of a PostgreSQL database.
pub struct TeamMemory {
    link: Mutex<Link>,
    /// How to connect again (after the server restarted, or the connection broke).
    config: Box<Target>,
    /// The team's name (its schema).
    team: String,
    /// The schema, quoted for SQL.
    schema: String,
    /// Where, for messages: the server and database (never the password).
    shown: String,
    /// The database role this store connects as (`current_user`): the member whose name every
    /// write carries.
    member: String,
    /// An error said the connection is gone (closed, or ended by the server): the next call
    /// connects again.
    lost: AtomicBool,
    /// The client process every write is recorded from (see [`Self::set_origin`]).
    origin: std::sync::OnceLock<String>,
}

/// The connection and when it was last used.
struct Link {
    client: Client,
    used: Instant,
}

/// The store's connection, held for one call.
pub(crate) struct Conn<'a>(MutexGuard<'a, Link>);

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0.client
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.0.client
    }
}

/// A connection unused for longer than this is checked before it is used again: a server
/// that restarted meanwhile gets a new connection, not an error.
const IDLE_CHECK: Duration = Duration::from_secs(2);
/// How long a statement may run, and a session may sit in a transaction its client left, when
/// the address does not say.
const SESSION_LIMIT: Duration = Duration::from_secs(15);
/// How long data sent may go unacknowledged, or the server silent to keepalive probes, before
/// the connection counts as broken, when the address does not say.
const NETWORK_LIMIT: Duration = Duration::from_secs(10);
/// How long a connection (or a check of one) may take when the address does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl std::fmt::Debug for TeamMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamMemory")
            .field("at", &self.shown)
            .field("schema", &self.schema)
            .field("member", &self.member)
            .finish()
    }
}

/// Whether `name` can be a team's schema: lower-case letters, digits and `_`, a letter first,
/// at most 48 characters (PostgreSQL's limit is 63).
pub fn valid_team_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The channel a team's doorbell rings on (see [`TeamListener`]).
fn channel(team: &str) -> String {
    format!("tandem_{team}")
}

impl TeamMemory {
    /// Connects to `url` (a `postgres://` URL or `key=value` settings) and opens the team
    /// `team` (its schema), creating or upgrading it when the role may. Several processes may
    /// start at once: the migrations run under an advisory lock. A schema written by a newer
    /// Tandem is refused. `saved_password` is the one `tandem team join` kept, used when the
    /// URL carries none (see `address`).
    pub fn connect(url: &str, team: &str, saved_password: Option<&str>) -> Result<Self> {
        if !valid_team_name(team) {
            return Err(StoreError::InvalidArgument(format!(
                "{team:?} cannot name a team: use lower-case letters, digits and _, a letter \
                 first, at most 48 characters"
            )));
        }
        let (config, shown) = address(url, team, saved_password)?;
        let mut client = open_client(&config, &shown)?;
        let member: String = client
            .query_one("SELECT current_user::text", &[])
            .map_err(|e| StoreError::team(shown.clone(), &e))?
            .get(0);
        let store = Self {
            link: Mutex::new(Link {
                client,
                used: Instant::now(),
            }),
            config: Box::new(config),
            team: team.to_string(),
            schema: format!("\"{team}\""),
            shown,
            member,
            lost: AtomicBool::new(false),
            origin: std::sync::OnceLock::new(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The team's name.
    pub fn team(&self) -> &str {
        &self.team
    }

    /// The database role this store writes as.
    pub fn member(&self) -> &str {
        &self.member
    }

    /// The server and database, for messages (no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The connection, connected again first when it broke or, after a while unused, no
    /// longer answers (the server restarted, the network changed). A connection that cannot be
    /// made is an error at once; nothing is queued.
    pub(crate) fn client(&self) -> Result<Conn<'_>> {
        // A panic while holding the lock dropped its transaction (rolled back).
        let mut link = self.link.lock().unwrap_or_else(|p| p.into_inner());
        let stale = self.lost.swap(false, Ordering::SeqCst)
            || link.client.is_closed()
            || (link.used.elapsed() > IDLE_CHECK && link.client.is_valid(CONNECT_TIMEOUT).is_err());
        if stale {
            tracing::info!(at = %self.shown, "connecting to the team store again");
            link.client = open_client(&self.config, &self.shown)?;
        }
        link.used = Instant::now();
        Ok(Conn(link))
    }

    pub(crate) fn err(&self, e: postgres::Error) -> StoreError {
        if connection_gone(&e) {
            self.lost.store(true, Ordering::SeqCst);
        }
        StoreError::team(self.shown.clone(), &e)
    }

    /// A failed commit. When the connection broke on the way, the server may have committed
    /// before it went: the write is not reported done, and the person is told to look.
    pub(crate) fn commit_err(&self, e: postgres::Error) -> StoreError {
        if e.as_db_error().is_some() {
            return self.err(e);
        }
        let StoreError::Team { at, reason } = self.err(e) else {
            unreachable!()
        };
        StoreError::Team {
            at,
            reason: format!(
                "{reason}; the connection broke while the change was being committed, so it may \
                 or may not have been saved: read the key back before writing it again (a write \
                 with expectedVersion is never applied twice)"
            ),
        }
    }

    pub(crate) fn sql(&self, text: &str) -> String {
        text.replace("{s}", &self.schema)
    }

    fn internal(&self, what: &str) -> StoreError {
        StoreError::Team {
            at: self.shown.clone(),
            reason: what.to_string(),
        }
    }

    /// Records `origin` (a client process, qualified by its machine: see [`machine_origin`])
    /// with every write from now on, so that a client's own prompt hook can leave out what its
    /// own session wrote. Set once.
    pub fn set_origin(&self, origin: String) {
        let _ = self.origin.set(machine_origin(&origin));
    }

    /// The changes after `since` (up to `until`) written from `origin` (as given to
    /// [`Self::set_origin`] on this machine), by `seq`.
    pub fn changes_from(
        &self,
        origin: &str,
        since: i64,
        until: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        self.again(|| {
            let rows = self
                .client()?
                .query(
                    &self.sql(
                        "SELECT seq FROM {s}.write_origins
                         WHERE seq > $1 AND seq <= $2 AND origin = $3",
                    ),
                    &[&since, &until, &machine_origin(origin)],
                )
                .map_err(|e| self.err(e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// How many versions of each key the team keeps (`None`: every one, the default).
    pub fn kept_versions(&self) -> Result<Option<u32>> {
        self.again(|| {
            let keep: i64 = self
                .client()?
                .query_opt(
                    &self.sql("SELECT value FROM {s}.meta WHERE name = 'keep_versions'"),
                    &[],
                )
                .map_err(|e| self.err(e))?
                .map(|r| r.get(0))
                .unwrap_or(0);
            Ok(u32::try_from(keep).ok().filter(|k| *k > 0))
        })
    }

    /// Keeps the newest `keep` versions of each key from now on, removing older ones at once
    /// (`None`: keep every version). The current version always stays, and with it what
    /// `memory_restore` can go back to within the kept ones. Needs the owner's rights; returns
    /// how many versions were removed now.
    pub fn keep_versions(&self, keep: Option<u32>) -> Result<u64> {
        if keep == Some(0) {
            return Err(StoreError::InvalidArgument(
                "a team keeps at least 1 version of each key (the current one)".into(),
            ));
        }
        let keep = i64::from(keep.unwrap_or(0));
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let owner = |e: postgres::Error| match e.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => StoreError::Team {
                at: self.shown.clone(),
                reason: format!(
                    "the role {} may not change how much history team {} keeps: its owner does",
                    self.member, self.team
                ),
            },
            _ => self.err(e),
        };
        tx.execute(
            &self.sql("UPDATE {s}.meta SET value = $1 WHERE name = 'keep_versions'"),
            &[&keep],
        )
        .map_err(owner)?;
        // The trigger exists only while it has work: a write pays nothing for it otherwise.
        tx.batch_execute(&self.sql(if keep > 0 {
            "CREATE OR REPLACE TRIGGER keep_history AFTER INSERT ON {s}.versions
                 FOR EACH ROW EXECUTE FUNCTION {s}.keep_history()"
        } else {
            "DROP TRIGGER IF EXISTS keep_history ON {s}.versions"
        }))
        .map_err(owner)?;
        let removed = if keep > 0 {
            tx.execute(
                &self.sql(
                    "DELETE FROM {s}.versions v USING {s}.entries e
                     WHERE v.key = e.key AND v.version <= e.version - $1",
                ),
                &[&keep],
            )
            .map_err(owner)?
        } else {
            0
        };
        tx.commit().map_err(|e| self.err(e))?;
        Ok(removed)
    }

    /// `by` as the team records it: the client, then the member (the connection's role).
    pub(crate) fn signed(&self, by: &str) -> String {
        format!("{by} · {}", self.member)
    }

    /// Brings the team's schema to this build's version. A schema already there costs one
    /// read and no lock, and needs no right beyond a member's; creating or upgrading one needs
    /// the owner's.
    fn migrate(&self) -> Result<()> {
        let found = self.schema_version()?;
        if found == TEAM_SCHEMA {
            return Ok(());
        }
        if found > TEAM_SCHEMA {
            return Err(self.newer(found));
        }
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&format!("tandem {}", self.schema)],
        )
        .map_err(|e| self.err(e))?;
        let setup = |e: postgres::Error| match e.code() {
            Some(&SqlState::INSUFFICIENT_PRIVILEGE) => StoreError::Team {
                at: self.shown.clone(),
                reason: format!(
                    "the role {} may not set up the team {} (schema version {found}, this \
                     Tandem writes {TEAM_SCHEMA}): the team's owner runs `tandem team init` \
                     with this version first",
                    self.member, self.team
                ),
            },
            _ => self.err(e),
        };
        tx.batch_execute(&self.sql(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.meta (name text PRIMARY KEY, value bigint NOT NULL);",
        ))
        .map_err(setup)?;
        let found: i64 = tx
            .query_opt(
                &self.sql("SELECT value FROM {s}.meta WHERE name = 'schema'"),
                &[],
            )
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if found > TEAM_SCHEMA {
            return Err(self.newer(found));
        }
        for migration in &MIGRATIONS[found as usize..] {
            tx.batch_execute(&self.sql(migration)).map_err(setup)?;
        }
        if found > 0 {
            // Members added before: their rights on the tables this upgrade made.
            let members: Vec<String> = tx
                .query(
                    "SELECT rolname::text FROM pg_roles
                     WHERE has_schema_privilege(oid, $1, 'USAGE') AND NOT rolsuper
                       AND rolname <> current_user AND rolname NOT LIKE 'pg\\_%'",
                    &[&self.team],
                )
                .map_err(setup)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for member in members.iter().filter(|m| valid_member_name(m)) {
                tx.batch_execute(&self.member_rights(member))
                    .map_err(setup)?;
            }
        }
        tx.execute(
            &self.sql(
                "INSERT INTO {s}.meta (name, value) VALUES ('schema', $1)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ),
            &[&TEAM_SCHEMA],
        )
        .map_err(setup)?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// The team's schema version; 0 when the team does not exist yet.
    fn schema_version(&self) -> Result<i64> {
        let mut client = self.client()?;
        let exists: bool = client
            .query_one(
                "SELECT to_regclass($1) IS NOT NULL",
                &[&format!("{}.meta", self.schema)],
            )
            .map_err(|e| self.err(e))?
            .get(0);
        if !exists {
            return Ok(0);
        }
        Ok(client
            .query_opt(
                &self.sql("SELECT value FROM {s}.meta WHERE name = 'schema'"),
                &[],
            )
            .map_err(|e| self.err(e))?
            .map(|r| r.get(0))
            .unwrap_or(0))
    }

    fn newer(&self, found: i64) -> StoreError {
        StoreError::NewerTeamSchema {
            at: format!("{} ({})", self.shown, self.schema),
            found,
            known: TEAM_SCHEMA,
        }
    }

    /// A second connection that hears the team's doorbell: every write transaction rings it
    /// at commit with the feed's new number (see [`TeamListener`]).
    pub fn listen(&self) -> Result<TeamListener> {
        self.listen_on(&channel(&self.team))
    }

    /// A listener on the doorbell `channel`, on a connection of its own.
    pub(crate) fn listen_on(&self, channel: &str) -> Result<TeamListener> {
        let mut client = open_client(&self.config, &self.shown)?;
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .map_err(|e| self.err(e))?;
        Ok(TeamListener {
            client,
            shown: self.shown.clone(),
            schema: self.schema.clone(),
        })
    }

    /// Runs `f` in a write transaction holding the feed counter (see the module's notes),
    /// waiting for other writers.
    fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Writing<'_, '_>) -> Result<T>,
    {
        let mut f = Some(f);
        self.unsent(&mut f, |store, f| {
            let mut client = store.client()?;
            let mut tx = client.transaction().map_err(|e| store.err(e))?;
            let lock = store.sql("SELECT seq FROM {s}.feed_counter FOR UPDATE");
            let row = tx.query_one(&lock, &[]).map_err(|e| store.err(e))?;
            let f = f
                .take()
                .ok_or_else(|| store.internal("a write ran twice"))?;
            store.finish(tx, row.get(0), f)
        })
    }

    /// [`Self::write`] only if no other writer holds the feed counter now; `Ok(None)` at once
    /// (nothing run) when one does.
    fn write_now<T, F>(&self, f: F) -> Result<Option<T>>
    where
        F: FnOnce(&mut Writing<'_, '_>) -> Result<T>,
    {
        let mut f = Some(f);
        self.unsent(&mut f, |store, f| {
            let mut client = store.client()?;
            let mut tx = client.transaction().map_err(|e| store.err(e))?;
            let lock = store.sql("SELECT seq FROM {s}.feed_counter FOR UPDATE NOWAIT");
            match tx.query_one(&lock, &[]) {
                Ok(row) => {
                    let f = f
                        .take()
                        .ok_or_else(|| store.internal("a write ran twice"))?;
                    store.finish(tx, row.get(0), f).map(Some)
                }
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Ok(None),
                Err(e) => Err(store.err(e)),
            }
        })
    }

    /// Runs `attempt`, and once more on a new connection when it failed because the connection
    /// had broken before the write was handed over (`f` not taken yet: nothing of it reached
    /// the server, so trying again cannot apply it twice).
    fn unsent<T, F>(
        &self,
        f: &mut Option<F>,
        attempt: impl Fn(&Self, &mut Option<F>) -> Result<T>,
    ) -> Result<T> {
        match attempt(self, f) {
            Err(_) if f.is_some() && self.broken() => attempt(self, f),
            done => done,
        }
    }

    /// Whether the connection is known to be gone (the next call connects again).
    pub(crate) fn broken(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
            || self
                .link
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .client
                .is_closed()
    }

    /// Runs a read, and once more on a new connection when it failed because the connection
    /// broke (a read has no effect to repeat).
    pub(crate) fn again<T>(&self, read: impl Fn() -> Result<T>) -> Result<T> {
        match read() {
            Err(_) if self.broken() => read(),
            done => done,
        }
    }

    /// Runs `f` in `tx`, which holds the feed counter at `seq`, then writes the counter back
    /// and commits.
    fn finish<T>(
        &self,
        tx: Transaction<'_>,
        seq: i64,
        f: impl FnOnce(&mut Writing<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let mut writing = Writing {
            store: self,
            tx,
            seq,
        };
        let out = f(&mut writing)?;
        let Writing {
            mut tx, seq: last, ..
        } = writing;
        if last != seq {
            tx.execute(&self.sql("UPDATE {s}.feed_counter SET seq = $1"), &[&last])
                .map_err(|e| self.err(e))?;
            // The doorbell: delivered to every listener when (and only if) this commits.
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&channel(&self.team), &last.to_string()],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.commit_err(e))?;
        Ok(out)
    }

    /// Writes a value (compare-and-swap when `expected_version` is given), waiting for other
    /// writers.
    pub fn set(&self, req: &SetRequest<'_>, by: &str) -> Result<SetOutcome> {
        let prepared = PreparedSet::new(req)?;
        let by = self.signed(by);
        self.write(|w| w.set(req, prepared, &by))
    }

    /// [`Self::set`] if no other writer holds the feed right now; `Ok(None)` otherwise.
    pub fn try_set(&self, req: &SetRequest<'_>, by: &str) -> Result<Option<SetOutcome>> {
        let prepared = PreparedSet::new(req)?;
        let by = self.signed(by);
        self.write_now(|w| w.set(req, prepared, &by))
    }

    /// Deletes a key, leaving a tombstone version in its history.
    pub fn delete(
        &self,
        key: &str,
        expected_version: Option<i64>,
        by: &str,
    ) -> Result<DeleteOutcome> {
        validate_key(key)?;
        let by = self.signed(by);
        self.write(|w| w.delete(key, expected_version, &by))
    }

    /// Reads live entries, in the order asked; keys with no live entry go to `missing`.
    pub fn get(&self, keys: &[String]) -> Result<GetResult> {
        check_keys(keys)?;
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM {s}.entries WHERE key = ANY($1) AND NOT deleted",
                ),
                &[&keys],
            )
            .map_err(|e| self.err(e))?;
        let found: std::collections::HashMap<String, Entry> = rows
            .into_iter()
            .map(|r| {
                let entry = entry(&r);
                (entry.key.clone(), entry)
            })
            .collect();
        let mut entries = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match found.get(key) {
                Some(e) => entries.push(e.clone()),
                None => missing.push(key.clone()),
            }
        }
        Ok(GetResult { entries, missing })
    }

    /// Every version of a key, newest first.
    pub fn history(&self, key: &str, limit: Option<usize>) -> Result<Vec<HistoryItem>> {
        validate_key(key)?;
        let limit = clamp_limit(limit, HISTORY_DEFAULT, HISTORY_MAX)? as i64;
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT version, op, value, tags, at, by FROM {s}.versions
                     WHERE key = $1 ORDER BY version DESC LIMIT $2",
                ),
                &[&key, &limit],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(history_item).collect())
    }

    /// Changes committed after `since` (every member, commit order). Without `since`, the
    /// newest `limit` changes.
    pub fn changes(&self, since: Option<i64>, limit: Option<usize>) -> Result<ChangesPage> {
        let limit = clamp_limit(limit, CHANGES_DEFAULT, CHANGES_MAX)?;
        let mut client = self.client()?;
        read_changes(&mut client, &self.schema, since, limit, &|e| self.err(e))
    }

    /// The sequence number of the newest committed change (0 when there is none).
    pub fn last_seq(&self) -> Result<i64> {
        let mut client = self.client()?;
        last_seq(&mut client, &self.sql("SELECT seq FROM {s}.feed_counter"))
            .map_err(|e| self.err(e))
    }

    /// Writes many values in one transaction (import). Existing keys get a new version.
    pub fn set_many(&self, items: &[(String, Value, Vec<String>)], by: &str) -> Result<usize> {
        let prepared = prepare_many(items)?;
        let by = &self.signed(by);
        self.write(|w| {
            for (key, text, body, tags) in &prepared {
                let existing = w.current(key)?;
                w.put(key, existing.as_ref(), text, body, tags, Op::Set, by)?;
            }
            Ok(prepared.len())
        })
    }

    /// Every key with a history (deleted ones too) after `after`, in key order.
    pub fn keys_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT key FROM {s}.entries WHERE $1::text IS NULL OR key COLLATE \"C\" > $1
                     ORDER BY key COLLATE \"C\" LIMIT $2",
                ),
                &[&after, &(limit as i64)],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// How many keys have a history (deleted ones too).
    pub fn key_count(&self) -> Result<usize> {
        let mut client = self.client()?;
        let n: i64 = client
            .query_one(&self.sql("SELECT count(*) FROM {s}.entries"), &[])
            .map_err(|e| self.err(e))?
            .get(0);
        Ok(n as usize)
    }

    /// Every version of `key`, oldest first, however many.
    pub fn full_history(&self, key: &str) -> Result<Vec<HistoryItem>> {
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT version, op, value, tags, at, by FROM {s}.versions
                     WHERE key = $1 ORDER BY version",
                ),
                &[&key],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(history_item).collect())
    }

    /// Writes `versions` (oldest first, as another store kept them: who and when included) as
    /// the history of `key`, in one transaction; `false`, writing nothing, when the team has
    /// the key already.
    pub fn import_key(&self, key: &str, versions: &[HistoryItem]) -> Result<bool> {
        validate_key(key)?;
        let replay = Replay::new(key, versions)?;
        self.write(|w| {
            if w.current(key)?.is_some() {
                return Ok(false);
            }
            for step in &replay.steps {
                let existing = w.current(key)?;
                match (step, &existing) {
                    (Step::Put { text, body, item }, _) => {
                        w.put_at(
                            key,
                            existing.as_ref(),
                            text,
                            body,
                            &item.tags,
                            item.op,
                            &item.updated_by,
                            &item.updated_at,
                        )?;
                    }
                    (Step::Delete(item), Some(live)) if !live.deleted => {
                        w.tombstone(key, live, &item.updated_by, &item.updated_at)?;
                    }
                    (Step::Delete(_), _) => {}
                }
            }
            Ok(true)
        })
    }

    /// Writes an old version's value and tags as a new version.
    pub fn restore(&self, key: &str, version: i64, by: &str) -> Result<RestoreOutcome> {
        validate_key(key)?;
        let by = &self.signed(by);
        self.write(|w| {
            let sql = w
                .store
                .sql("SELECT op, value, tags FROM {s}.versions WHERE key = $1 AND version = $2");
            let old =
                w.tx.query_opt(&sql, &[&key, &version])
                    .map_err(|e| w.err(e))?;
            let Some(old) = old else {
                return Err(StoreError::NoSuchVersion {
                    key: key.to_string(),
                    version,
                });
            };
            let op = Op::parse(old.get(0));
            let value: Option<String> = old.get(1);
            let Some(text) = value.filter(|_| op != Op::Delete) else {
                return Err(StoreError::RestoreTombstone {
                    key: key.to_string(),
                    version,
                });
            };
            let body = search::value_text(&parse_json(&text));
            let tags = parse_tags(old.get(2));
            let existing = w.current(key)?;
            let new_version =
                w.put(key, existing.as_ref(), &text, &body, &tags, Op::Restore, by)?;
            Ok(RestoreOutcome {
                key: key.to_string(),
                version: new_version,
                restored_from: version,
            })
        })
    }

    /// Lists live entries in key order (bytewise, as on SQLite), optionally under a prefix
    /// and/or with a tag.
    pub fn list(
        &self,
        prefix: Option<&str>,
        tag: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<ListPage> {
        let limit = clamp_limit(limit, LIST_DEFAULT, LIST_MAX)?;
        let after = cursor.map(decode_cursor).transpose()?;
        let prefix = prefix.filter(|p| !p.is_empty()).unwrap_or("");
        let tag = tag.map(str::trim);
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, tags, version, updated_at, updated_by, left(value, $1) FROM {s}.entries e
                     WHERE NOT deleted AND starts_with(key, $2)
                       AND ($3::text IS NULL OR key COLLATE \"C\" > $3)
                       AND ($4::text IS NULL OR id IN
                            (SELECT entry_id FROM {s}.entry_tags WHERE tag = $4))
                     ORDER BY key COLLATE \"C\" LIMIT $5",
                ),
                &[
                    &((PREVIEW_CHARS + 1) as i32),
                    &prefix,
                    &after,
                    &tag,
                    &((limit + 1) as i64),
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(list_page(rows.iter().map(summary).collect(), limit))
    }

    /// Ranked full-text search (PostgreSQL's own: `english` stemming, `ts_rank`), with the
    /// same words, fallbacks and snippets as the SQLite store; rankings may differ.
    pub fn search(
        &self,
        query: &str,
        tag: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<SearchHit>> {
        let limit = clamp_limit(limit, SEARCH_DEFAULT, SEARCH_MAX)?;
        let words = query_words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let tag = tag.map(str::trim);
        let mut client = self.client()?;
        // Whole words first (stemmed as English, or as written: the body holds both), then
        // the last word as a prefix, then any word as a prefix, as on SQLite. The words are
        // letters and digits only, so quoting them is all the escaping needed.
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let last = quoted.len() - 1;
        let mut prefixed = quoted.clone();
        prefixed[last] = format!("{}:*", quoted[last]);
        let any: Vec<String> = quoted.iter().map(|w| format!("{w}:*")).collect();
        let stemmed = "(to_tsquery('english', $1) || to_tsquery('simple', $1))";
        let plain = "to_tsquery('simple', $1)";
        let mut attempts = vec![(stemmed, quoted.join(" & ")), (plain, prefixed.join(" & "))];
        if words.len() > 1 {
            attempts.push((plain, any.join(" | ")));
        }
        for (query, expression) in &attempts {
            let sql = self.sql(&format!(
                "SELECT key, value, tags, version, updated_at, ts_rank(body, t.q) AS score
                 FROM {{s}}.entries, (SELECT {query} AS q) AS t
                 WHERE NOT deleted AND body @@ t.q
                   AND ($2::text IS NULL OR id IN
                        (SELECT entry_id FROM {{s}}.entry_tags WHERE tag = $2))
                 ORDER BY score DESC, key COLLATE \"C\" LIMIT $3"
            ));
            let rows = client
                .query(&sql, &[expression, &tag, &(limit as i64)])
                .map_err(|e| self.err(e))?;
            if rows.is_empty() {
                continue;
            }
            return Ok(rows
                .iter()
                .map(|r| {
                    let key: String = r.get(0);
                    let value: Option<String> = r.get(1);
                    let score: f32 = r.get(5);
                    SearchHit {
                        snippet: search::hit_snippet(
                            &key,
                            value.as_deref().unwrap_or("null"),
                            r.get(2),
                            &words,
                        ),
                        key,
                        score: f64::from(score),
                        version: r.get(3),
                        updated_at: r.get(4),
                    }
                })
                .collect());
        }
        Ok(Vec::new())
    }

    /// Visits every live entry in key order (export).
    pub fn for_each_entry(&self, mut f: impl FnMut(Entry) -> Result<()>) -> Result<()> {
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, value, tags, version, created_at, updated_at, updated_by
                     FROM {s}.entries WHERE NOT deleted ORDER BY key COLLATE \"C\"",
                ),
                &[],
            )
            .map_err(|e| self.err(e))?;
        drop(client);
        for r in &rows {
            f(entry(r))?;
        }
        Ok(())
    }

    /// Live entries, the newest change, and the team's size on the server.
    pub fn stats(&self) -> Result<Stats> {
        let mut client = self.client()?;
        let row = client
            .query_one(
                &self.sql(
                    "SELECT (SELECT count(*) FROM {s}.entries WHERE NOT deleted),
                            (SELECT seq FROM {s}.feed_counter),
                            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = $1 AND c.relkind = 'r')",
                ),
                &[&self.team],
            )
            .map_err(|e| self.err(e))?;
        Ok(Stats {
            entries: row.get(0),
            last_seq: row.get(1),
            file_bytes: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
        })
    }

    /// The server keeps its own files sound; this checks that the team's tables answer.
    pub fn integrity_check(&self) -> Result<String> {
        self.again(|| {
            let mut client = self.client()?;
            let row = client
                .query_one(
                    &self.sql(
                        "SELECT (SELECT seq FROM {s}.feed_counter)
                                  >= coalesce((SELECT max(seq) FROM {s}.versions), 0),
                                (SELECT count(*) FROM {s}.entries e WHERE NOT EXISTS (
                                    SELECT 1 FROM {s}.versions v
                                    WHERE v.key = e.key AND v.version = e.version))",
                    ),
                    &[],
                )
                .map_err(|e| self.err(e))?;
            let (counter_ahead, orphans): (bool, i64) = (row.get(0), row.get(1));
            Ok(match (counter_ahead, orphans) {
                (true, 0) => "ok".to_string(),
                (false, _) => "the feed counter is behind the newest change".to_string(),
                (_, n) => format!("{n} entries have no version in the history"),
            })
        })
    }

    /// Live entries changed at or after `since` (RFC 3339), newest first.
    pub fn changed_since(&self, since: &str, limit: usize) -> Result<Vec<EntrySummary>> {
        let mut client = self.client()?;
        let rows = client
            .query(
                &self.sql(
                    "SELECT key, tags, version, updated_at, updated_by, left(value, $3)
                     FROM {s}.entries WHERE NOT deleted AND updated_at >= $1
                     ORDER BY updated_at DESC LIMIT $2",
                ),
                &[&since, &(limit as i64), &((PREVIEW_CHARS + 1) as i32)],
            )
            .map_err(|e| self.err(e))?;
        Ok(rows.iter().map(summary).collect())
    }
}

/// What `tandem team status` shows of the server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.14 (Debian 15.14-0+deb12u1)`.
    pub version: String,
    /// The median of three round trips.
    pub latency: Duration,
    /// The team's schema version.
    pub schema: i64,
    /// The roles that may use the team (its owner's aside), by name.
    pub members: Vec<String>,
    /// How many versions of each key the team keeps (`None`: every one).
    pub keep_versions: Option<u32>,
}

/// Whether `name` can be a member (a database role Tandem creates): the rule for team names,
/// and not one of PostgreSQL's own (`pg_…`, `postgres`, `public`).
pub fn valid_member_name(name: &str) -> bool {
    valid_team_name(name) && !name.starts_with("pg_") && !matches!(name, "postgres" | "public")
}

impl TeamMemory {
    /// One round trip to the server (on a new connection if the old one broke): how long it
    /// took, or why the team store cannot be reached.
    pub fn ping(&self) -> Result<Duration> {
        self.again(|| {
            let mut client = self.client()?;
            let start = Instant::now();
            client.batch_execute("").map_err(|e| self.err(e))?;
            Ok(start.elapsed())
        })
    }

    /// The server's version, the round-trip time, the schema version and the members.
    pub fn server_info(&self) -> Result<ServerInfo> {
        let mut client = self.client()?;
        let mut trips = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            client.batch_execute("").map_err(|e| self.err(e))?;
            trips.push(start.elapsed());
        }
        trips.sort();
        let version: String = client
            .query_one("SHOW server_version", &[])
            .map_err(|e| self.err(e))?
            .get(0);
        let members = client
            .query(
                "SELECT rolname::text FROM pg_roles
                 WHERE rolcanlogin AND NOT rolsuper AND has_schema_privilege(oid, $1, 'USAGE')
                   AND rolname <> (SELECT nspowner::regrole::text FROM pg_namespace
                                   WHERE nspname = $1)
                 ORDER BY rolname",
                &[&self.team],
            )
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        drop(client);
        Ok(ServerInfo {
            version,
            latency: trips[1],
            schema: self.schema_version()?,
            members,
            keep_versions: self.kept_versions()?,
        })
    }

    /// Makes `name` a member: a database role that may log in, with a new password (returned,
    /// to hand over once), and the rights a member needs on this team's tables — no more:
    /// history is append-only to a member, and nothing outside the team's schema is granted.
    /// A role that exists (a member of another team) gets a new password and this team's
    /// rights. Needs the rights of the team's owner.
    pub fn add_member(&self, name: &str) -> Result<String> {
        self.check_member_name(name)?;
        let mut bytes = [0u8; 18];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Team {
            at: self.shown.clone(),
            reason: format!("no random password: {e}"),
        })?;
        let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let exists = tx
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
            .map_err(|e| self.err(e))?
            .is_some();
        // The name and the password are letters, digits and `_` only: nothing to escape.
        let role = if exists {
            format!("ALTER ROLE \"{name}\" LOGIN PASSWORD '{password}';")
        } else {
            format!("CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}';")
        };
        let grants = self.member_rights(name);
        tx.batch_execute(&format!("{role}\n{grants}"))
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(password)
    }

    /// The rights a member has on the team's tables, for the role `name` (letters, digits and
    /// `_`): history is append-only, nothing outside the team's schema. Given when a member is
    /// added, and to every member again after a migration (new tables).
    fn member_rights(&self, name: &str) -> String {
        self.sql(&format!(
            "GRANT USAGE ON SCHEMA {{s}} TO \"{name}\";
             GRANT SELECT ON {{s}}.meta TO \"{name}\";
             GRANT SELECT, UPDATE ON {{s}}.feed_counter TO \"{name}\";
             GRANT SELECT, INSERT, UPDATE ON {{s}}.entries TO \"{name}\";
             GRANT SELECT, INSERT ON {{s}}.versions TO \"{name}\";
             GRANT SELECT, INSERT, DELETE ON {{s}}.entry_tags TO \"{name}\";
             GRANT SELECT, INSERT ON {{s}}.write_origins TO \"{name}\";
             GRANT SELECT, UPDATE ON {{s}}.doc_counter TO \"{name}\";
             GRANT SELECT, INSERT, UPDATE ON {{s}}.docs TO \"{name}\";
             GRANT SELECT, INSERT ON {{s}}.doc_versions TO \"{name}\";
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA {{s}} TO \"{name}\";"
        ))
    }

    /// Takes the team's rights from `name`, ends its open sessions, and drops the role unless
    /// it still belongs to another team (then `Ok(false)`: the role stays, without this
    /// team's rights).
    pub fn remove_member(&self, name: &str) -> Result<bool> {
        self.check_member_name(name)?;
        if name == self.member {
            return Err(StoreError::InvalidArgument(format!(
                "{name} is the role this computer connects as: remove it from another member's \
                 connection"
            )));
        }
        let mut client = self.client()?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
            .map_err(|e| self.err(e))?
            .is_some();
        if !exists {
            return Err(StoreError::InvalidArgument(format!(
                "there is no member {name} on {}",
                self.shown
            )));
        }
        client
            .batch_execute(&self.sql(&format!(
                "REVOKE ALL ON ALL TABLES IN SCHEMA {{s}} FROM \"{name}\";
                 REVOKE ALL ON ALL SEQUENCES IN SCHEMA {{s}} FROM \"{name}\";
                 REVOKE ALL ON SCHEMA {{s}} FROM \"{name}\";"
            )))
            .map_err(|e| self.err(e))?;
        // Its open sessions end now, not when they next reconnect; allowed to the owner of
        // the role's sessions' database or a superuser, and only tried.
        let _ = client.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&name],
        );
        match client.batch_execute(&format!("DROP ROLE \"{name}\"")) {
            Ok(()) => Ok(true),
            Err(e) if e.code() == Some(&SqlState::DEPENDENT_OBJECTS_STILL_EXIST) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// The URL `name` joins with: this store's server, port and database, their password,
    /// and the team.
    pub fn join_url(&self, name: &str, password: &str) -> String {
        let host = match self.config.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) if h.contains(':') => format!("[{h}]"),
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(path)) => {
                path.display().to_string().replace('/', "%2F")
            }
            None => "localhost".into(),
        };
        let port = self
            .config
            .config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432);
        let db = self.config.config.get_dbname().unwrap_or(name);
        format!(
            "postgres://{name}:{password}@{host}:{port}/{db}?team={}",
            self.team
        )
    }

    fn check_member_name(&self, name: &str) -> Result<()> {
        if valid_member_name(name) {
            return Ok(());
        }
        Err(StoreError::InvalidArgument(format!(
            "{name:?} cannot name a member: use lower-case letters, digits and _, a letter \
             first, at most 48 characters, not pg_… or postgres"
        )))
    }
}

/// A connection that hears a team's doorbell ([`TeamMemory::listen`]). A notification only
/// says that the feed moved (it carries the new number); nothing is replayed to a connection
/// that was not listening, so after every (re)connect the listener reads the feed from its
/// own cursor.
pub struct TeamListener {
    client: Client,
    shown: String,
    schema: String,
}

impl TeamListener {
    /// The feed after `since`, a page at a time, read on the listener's own connection: a
    /// reader catching up never holds up the store's calls, nor waits behind them.
    pub fn changes(&mut self, since: i64) -> Result<ChangesPage> {
        let shown = self.shown.clone();
        read_changes(
            &mut self.client,
            &self.schema,
            Some(since),
            CHANGES_DEFAULT,
            &|e| StoreError::team(shown.clone(), &e),
        )
    }

    /// Runs `read` on the listener's own connection, with the team's schema (quoted) and its
    /// errors as the store's: for another feed read the same way (the workspace's).
    pub(crate) fn read_with<T>(
        &mut self,
        read: impl FnOnce(&mut Client, &str, &dyn Fn(postgres::Error) -> StoreError) -> Result<T>,
    ) -> Result<T> {
        let shown = self.shown.clone();
        read(&mut self.client, &self.schema, &|e| {
            StoreError::team(shown.clone(), &e)
        })
    }

    /// Waits up to `timeout` for the doorbell: the highest number it rang with, or `None` when
    /// it did not ring. An error when the connection broke (listen again, then read from the
    /// cursor).
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<i64>> {
        let err = |e: postgres::Error| StoreError::team(self.shown.clone(), &e);
        let mut notifications = self.client.notifications();
        let first = notifications.timeout_iter(timeout).next().map_err(err)?;
        let Some(first) = first else {
            drop(notifications);
            if self.client.is_closed() {
                return Err(StoreError::Team {
                    at: self.shown.clone(),
                    reason: "the connection closed".into(),
                });
            }
            return Ok(None);
        };
        let mut highest = first.payload().parse().unwrap_or(i64::MAX);
        let mut pending = notifications.iter();
        while let Some(note) = pending.next().map_err(err)? {
            highest = highest.max(note.payload().parse().unwrap_or(i64::MAX));
        }
        Ok(Some(highest))
    }
}

/// The connection settings for `url`, completed as PostgreSQL's own tools complete them: a
/// missing user, host, port or database from `PGUSER`, `PGHOST`, `PGPORT`, `PGDATABASE` (else
/// the login name, `localhost`, 5432, the user's name); the password from the URL, else the
/// one `tandem team join` saved (`saved_password`), else `PGPASSWORD`, else the `.pgpass`
/// file (`PGPASSFILE`, else `~/.pgpass`). Connecting gives up after 5 s unless the URL sets
/// `connect_timeout`. Connections are named `tandem TEAM` (`application_name`, as
/// `pg_stat_activity` shows them) unless the URL names them. Returns the settings and where
/// they point, for messages (no password).
fn address(url: &str, team: &str, saved_password: Option<&str>) -> Result<(Target, String)> {
    let (mut config, root_file, mode) = parse_url(url)?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .or_else(|| env("USERNAME"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_hosts().is_empty() {
        config.host(&env("PGHOST").unwrap_or_else(|| "localhost".into()));
    }
    if config.get_ports().is_empty()
        && let Some(port) = env("PGPORT").and_then(|p| p.parse().ok())
    {
        config.port(port);
    }
    if config.get_dbname().is_none()
        && let Some(db) = env("PGDATABASE")
    {
        config.dbname(&db);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name(&format!("tandem {team}"));
    }
    // A connection that stops answering (the network cut while a reply was on its way) is
    // found out by keepalive probes: the first after 5 s of silence, then every 2 s.
    if !url.contains("keepalives_idle") {
        config.keepalives_idle(Duration::from_secs(5));
    }
    if !url.contains("keepalives_interval") {
        config.keepalives_interval(Duration::from_secs(2));
    }
    if !url.contains("keepalives_retries") {
        config.keepalives_retries(3);
    }
    // Limits, unless the URL sets its own: a network that stops carrying packets breaks the
    // connection (an error, then a new connection) instead of hanging; a server too busy to
    // answer calls the statement off; and a session whose client vanished mid-transaction
    // gives its locks back instead of holding every other writer up.
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(NETWORK_LIMIT);
    }
    let options = config.get_options().unwrap_or("").to_string();
    let mut added = options.clone();
    for setting in ["statement_timeout", "idle_in_transaction_session_timeout"] {
        if !options.contains(setting) {
            added.push_str(&format!(" -c {setting}={}", SESSION_LIMIT.as_millis()));
        }
    }
    config.options(added.trim());
    // TLS: as the URL says (verify-ca and verify-full are what `require` does here: the
    // certificate is always checked); by default off to this machine, required elsewhere.
    let remote = !config.get_hosts().iter().all(loopback);
    config.ssl_mode(match mode.as_deref() {
        Some("disable") => postgres::config::SslMode::Disable,
        Some("prefer" | "allow") => postgres::config::SslMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => postgres::config::SslMode::Require,
        Some(other) => {
            return Err(StoreError::InvalidArgument(format!(
                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
            )));
        }
        None if remote => postgres::config::SslMode::Require,
        None => postgres::config::SslMode::Disable,
    });
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or_default().to_string();
    let dbname = config.get_dbname().unwrap_or(&user).to_string();
    if config.get_password().is_none() {
        let password = saved_password
            .map(str::to_string)
            .or_else(|| env("PGPASSWORD"))
            .or_else(|| pgpass(&host, port, &dbname, &user));
        if let Some(password) = password {
            config.password(password);
        }
    }
    let shown = format!("{user}@{host}:{port}/{dbname}");
    let target = Target::new((config, root_file), &shown)?;
    Ok((target, shown))
}

/// The password the `.pgpass` file gives for a connection (`host:port:database:user:password`
/// lines, `*` matching anything, `\` escaping `:` and `\`).
fn pgpass(host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    let file = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let port = port.to_string();
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            let matches = |field: &str, value: &str| field == "*" || field == value;
            (matches(h, host) && matches(p, &port) && matches(d, dbname) && matches(u, user))
                .then(|| password.clone())
        })
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => field.extend(chars.next()),
            ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Whether `e` means the connection is gone: it closed, or the server ended the session (a
/// fatal error: shut down, restarted, the session terminated).
fn connection_gone(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_some_and(|db| {
            db.parsed_severity() == Some(postgres::error::Severity::Fatal)
                || db.code().code().starts_with("57P")
        })
}

/// Connection settings and, unless TLS is off, the TLS client (rustls) with the roots it
/// trusts: the system's, and the file `sslrootcert` names.
struct Target {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Target {
    fn new(config: (postgres::Config, Option<std::path::PathBuf>), shown: &str) -> Result<Self> {
        let (config, root_file) = config;
        if config.get_ssl_mode() == postgres::config::SslMode::Disable {
            return Ok(Self { config, tls: None });
        }
        let fail = |reason: String| StoreError::Team {
            at: shown.to_string(),
            reason,
        };
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(file) = &root_file {
            use rustls::pki_types::{CertificateDer, pem::PemObject as _};
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| fail(format!("sslrootcert {}: {e}", file.display())))?;
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| fail(format!("sslrootcert {}: {e}", file.display())))?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config,
            tls: Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
        })
    }
}

/// One connection to `target`; `shown` names it in the error.
fn open_client(target: &Target, shown: &str) -> Result<Client> {
    let connected = match &target.tls {
        Some(tls) => target.config.connect(tls.clone()),
        None => target.config.connect(NoTls),
    };
    connected.map_err(|e| {
        let StoreError::Team { at, reason } = StoreError::team(shown.to_string(), &e) else {
            unreachable!()
        };
        let hint = if reason.contains("certificate") {
            ": the server's certificate is not trusted here; give the file of the authority \
             that signed it with sslrootcert=PATH in the URL"
        } else {
            ""
        };
        StoreError::Team {
            at,
            reason: format!("{reason}{hint}"),
        }
    })
}

/// A URL's settings: what the PostgreSQL client reads, and the two Tandem reads itself (the
/// `sslrootcert` file and the `sslmode`, which may be `verify-ca` or `verify-full`).
pub(crate) fn parse_url(
    url: &str,
) -> Result<(postgres::Config, Option<std::path::PathBuf>, Option<String>)> {
    let (url, root_file) = take_query(url, "sslrootcert");
    let (url, mode) = take_query(&url, "sslmode");
    let config = url.parse().map_err(|e| StoreError::team("address", &e))?;
    Ok((config, root_file.map(Into::into), mode))
}

/// Takes `name=VALUE` out of a URL's query: the settings Tandem reads itself (the team, the
/// TLS root file, the TLS mode), which the PostgreSQL client does not know. The last one given
/// wins; the rest of the URL is kept as it was.
pub(crate) fn take_query(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let prefix = format!("{name}=");
    let mut found = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| match p.strip_prefix(&prefix) {
            Some(v) => {
                found = Some(v.to_string());
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
    (url, found)
}

/// A client process (`pid:N`) as the team records it: with the machine it runs on, so that two
/// machines' processes of the same number are not taken for one.
fn machine_origin(origin: &str) -> String {
    static MACHINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let machine = MACHINE.get_or_init(|| {
        ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|f| std::fs::read_to_string(f).ok())
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default()
    });
    format!("{origin}@{machine}")
}

/// Whether `host` is this machine (or a socket folder): nothing sent there crosses a network.
fn loopback(host: &postgres::config::Host) -> bool {
    match host {
        postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        postgres::config::Host::Unix(_) => true,
    }
}

/// A page of the feed of the team in `schema` (quoted), on `client`.
fn read_changes(
    client: &mut Client,
    schema: &str,
    since: Option<i64>,
    limit: usize,
    err: &dyn Fn(postgres::Error) -> StoreError,
) -> Result<ChangesPage> {
    let sql = |text: &str| text.replace("{s}", schema);
    let map = |r: &postgres::Row| Change {
        seq: r.get(0),
        key: r.get(1),
        op: Op::parse(r.get(2)),
        version: r.get(3),
        at: r.get(4),
        by: r.get(5),
    };
    let rows = match since {
        Some(since) => client.query(
            &sql("SELECT seq, key, op, version, at, by FROM {s}.versions
                  WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&since, &((limit + 1) as i64)],
        ),
        None => client.query(
            &sql("SELECT seq, key, op, version, at, by FROM {s}.versions
                  ORDER BY seq DESC LIMIT $1"),
            &[&(limit as i64)],
        ),
    }
    .map_err(err)?;
    let changes = rows.iter().map(map).collect();
    changes_page(changes, since, limit, || {
        last_seq(client, &sql("SELECT seq FROM {s}.feed_counter")).map_err(err)
    })
}

/// A live entry's row: key, value, tags, version, created_at, updated_at, updated_by.
fn entry(r: &postgres::Row) -> Entry {
    let value: Option<String> = r.get(1);
    Entry {
        key: r.get(0),
        value: value.as_deref().map(parse_json).unwrap_or(Value::Null),
        tags: parse_tags(r.get(2)),
        version: r.get(3),
        created_at: r.get(4),
        updated_at: r.get(5),
        updated_by: r.get(6),
    }
}

/// A version's row: version, op, value, tags, at, by.
fn history_item(r: &postgres::Row) -> HistoryItem {
    let op = Op::parse(r.get(1));
    let value: Option<String> = r.get(2);
    HistoryItem {
        version: r.get(0),
        value: value.as_deref().map(parse_json).unwrap_or(Value::Null),
        tags: parse_tags(r.get(3)),
        updated_at: r.get(4),
        updated_by: r.get(5),
        deleted: op == Op::Delete,
        op,
    }
}

/// A summary's row: key, tags, version, updated_at, updated_by, the value's start.
fn summary(r: &postgres::Row) -> EntrySummary {
    let start: Option<String> = r.get(5);
    EntrySummary {
        key: r.get(0),
        tags: parse_tags(r.get(1)),
        version: r.get(2),
        updated_at: r.get(3),
        updated_by: r.get(4),
        preview: preview(start.as_deref().unwrap_or("null")),
    }
}

fn last_seq(client: &mut Client, sql: &str) -> std::result::Result<i64, postgres::Error> {
    Ok(client.query_one(sql, &[])?.get(0))
}

/// A write transaction holding the feed counter; `seq` is the last number taken.
struct Writing<'s, 'c> {
    store: &'s TeamMemory,
    tx: Transaction<'c>,
    seq: i64,
}

impl Writing<'_, '_> {
    fn err(&self, e: postgres::Error) -> StoreError {
        self.store.err(e)
    }

    fn current(&mut self, key: &str) -> Result<Option<Current>> {
        let sql = self.store.sql(
            "SELECT id, version, deleted, tags, created_at FROM {s}.entries WHERE key = $1
             FOR UPDATE",
        );
        let row = self
            .tx
            .query_opt(&sql, &[&key])
            .map_err(|e| self.store.err(e))?;
        Ok(row.map(|r| Current {
            id: r.get(0),
            version: r.get(1),
            deleted: r.get(2),
            tags: parse_tags(r.get(3)),
            created_at: r.get(4),
        }))
    }

    fn set(&mut self, req: &SetRequest<'_>, prepared: PreparedSet, by: &str) -> Result<SetOutcome> {
        let PreparedSet { tags, text, body } = prepared;
        let existing = self.current(req.key)?;
        let (tags, created) = resolve_set(req, tags, existing.as_ref())?;
        let version = self.put(req.key, existing.as_ref(), &text, &body, &tags, Op::Set, by)?;
        Ok(SetOutcome {
            key: req.key.to_string(),
            version,
            created,
        })
    }

    /// Writes a new version of `key` now and logs it.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        key: &str,
        existing: Option<&Current>,
        text: &str,
        body: &str,
        tags: &[String],
        op: Op,
        by: &str,
    ) -> Result<i64> {
        let now = now_rfc3339();
        self.put_at(key, existing, text, body, tags, op, by, &now)
    }

    /// [`Self::put`] as written at `now` (an import keeps each version's own time).
    #[allow(clippy::too_many_arguments)]
    fn put_at(
        &mut self,
        key: &str,
        existing: Option<&Current>,
        text: &str,
        body: &str,
        tags: &[String],
        op: Op,
        by: &str,
        now: &str,
    ) -> Result<i64> {
        let tags_json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
        let document = format!("{key} {} {body}", tags.join(" "));
        let (id, version) = match existing {
            Some(cur) => {
                let version = cur.version + 1;
                let created_at = if cur.deleted {
                    now.to_string()
                } else {
                    cur.created_at.clone()
                };
                let sql = self.store.sql(
                    "UPDATE {s}.entries SET value = $2, tags = $3, version = $4, deleted = false,
                            created_at = $5, updated_at = $6, updated_by = $7,
                            body = to_tsvector('english', $8) || to_tsvector('simple', $8)
                     WHERE id = $1",
                );
                self.tx
                    .execute(
                        &sql,
                        &[
                            &cur.id,
                            &text,
                            &tags_json,
                            &version,
                            &created_at,
                            &now,
                            &by,
                            &document,
                        ],
                    )
                    .map_err(|e| self.store.err(e))?;
                (cur.id, version)
            }
            None => {
                let sql = self.store.sql(
                    "INSERT INTO {s}.entries (key, value, tags, version, created_at, updated_at,
                                              updated_by, body)
                     VALUES ($1, $2, $3, 1, $4, $4, $5,
                             to_tsvector('english', $6) || to_tsvector('simple', $6))
                     RETURNING id",
                );
                let row = self
                    .tx
                    .query_one(&sql, &[&key, &text, &tags_json, &now, &by, &document])
                    .map_err(|e| self.store.err(e))?;
                (row.get(0), 1)
            }
        };
        let old_tags = existing.filter(|c| !c.deleted).map(|c| c.tags.as_slice());
        if old_tags != Some(tags) {
            let sql = self
                .store
                .sql("DELETE FROM {s}.entry_tags WHERE entry_id = $1");
            self.tx
                .execute(&sql, &[&id])
                .map_err(|e| self.store.err(e))?;
            let sql = self.store.sql(
                "INSERT INTO {s}.entry_tags (tag, entry_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            );
            for tag in tags {
                self.tx
                    .execute(&sql, &[tag, &id])
                    .map_err(|e| self.store.err(e))?;
            }
        }
        self.log(key, version, op, Some(text), &tags_json, now, by)?;
        Ok(version)
    }

    fn delete(&mut self, key: &str, expected: Option<i64>, by: &str) -> Result<DeleteOutcome> {
        let existing = self.current(key)?;
        if let Some(expected) = expected {
            check_expected(key, expected, existing.as_ref())?;
        }
        let Some(current) = existing.filter(|e| !e.deleted) else {
            return Ok(DeleteOutcome {
                key: key.to_string(),
                deleted: false,
                version: 0,
            });
        };
        let version = self.tombstone(key, &current, by, &now_rfc3339())?;
        Ok(DeleteOutcome {
            key: key.to_string(),
            deleted: true,
            version,
        })
    }

    /// Writes a deletion of the live entry `current` as its next version, at `at`.
    fn tombstone(&mut self, key: &str, current: &Current, by: &str, at: &str) -> Result<i64> {
        let version = current.version + 1;
        let sql = self.store.sql(
            "UPDATE {s}.entries SET value = NULL, tags = '[]', version = $2, deleted = true,
                    updated_at = $3, updated_by = $4, body = NULL WHERE id = $1",
        );
        self.tx
            .execute(&sql, &[&current.id, &version, &at, &by])
            .map_err(|e| self.err(e))?;
        let sql = self
            .store
            .sql("DELETE FROM {s}.entry_tags WHERE entry_id = $1");
        self.tx
            .execute(&sql, &[&current.id])
            .map_err(|e| self.err(e))?;
        self.log(key, version, Op::Delete, None, "[]", at, by)?;
        Ok(version)
    }

    /// Appends a change to the feed under the next number.
    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        key: &str,
        version: i64,
        op: Op,
        value: Option<&str>,
        tags_json: &str,
        at: &str,
        by: &str,
    ) -> Result<()> {
        self.seq += 1;
        // One round trip: the version, and the process it came from when that is known.
        let sql = self.store.sql(
            "WITH logged AS (
                 INSERT INTO {s}.versions (seq, key, version, op, value, tags, at, by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             )
             INSERT INTO {s}.write_origins (seq, origin)
             SELECT $1, $9::text WHERE $9::text IS NOT NULL",
        );
        let origin = self.store.origin.get();
        self.tx
            .execute(
                &sql,
                &[
                    &self.seq,
                    &key,
                    &version,
                    &op.as_str(),
                    &value,
                    &tags_json,
                    &at,
                    &by,
                    &origin,
                ],
            )
            .map_err(|e| self.store.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod address_tests {
    use postgres::config::SslMode;

    use super::*;
    use crate::memory::StoreLocation;

    fn mode(url: &str) -> SslMode {
        address(url, "t", None).unwrap().0.config.get_ssl_mode()
    }

    #[test]
    fn tls_is_required_off_this_machine_and_off_by_default_on_it() {
        assert_eq!(mode("postgres://u@db.example.com/x"), SslMode::Require);
        assert_eq!(mode("postgres://u@10.0.0.7:5433/x"), SslMode::Require);
        assert_eq!(mode("postgres://u@localhost/x"), SslMode::Disable);
        assert_eq!(mode("postgres://u@127.0.0.1/x"), SslMode::Disable);
        assert_eq!(mode("postgres://u@[::1]/x"), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@localhost/x?sslmode=require"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@db.example.com/x?sslmode=verify-full"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@db.example.com/x?sslmode=disable"),
            SslMode::Disable
        );
        let Err(err) = address("postgres://u@h/x?sslmode=sometimes", "t", None) else {
            panic!("a made-up sslmode is refused")
        };
        assert!(err.to_string().contains("sslmode=sometimes"), "{err}");
        let Err(missing) = address(
            "postgres://u@h/x?sslmode=require&sslrootcert=/nonexistent/ca.pem",
            "t",
            None,
        ) else {
            panic!("a missing root file is an error")
        };
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );
        assert_eq!(
            StoreLocation::url_password("postgres://u:pw@h/x?sslrootcert=/a.pem&team=t").as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn sessions_get_time_limits_unless_the_url_sets_its_own() {
        let (target, _) = address("postgres://u@h/x", "t", None).unwrap();
        let c = &target.config;
        assert_eq!(c.get_tcp_user_timeout(), Some(&NETWORK_LIMIT));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(5));
        assert_eq!(
            c.get_options(),
            Some("-c statement_timeout=15000 -c idle_in_transaction_session_timeout=15000")
        );
        let (target, _) = address(
            "postgres://u@h/x?options=-c%20statement_timeout%3D700&tcp_user_timeout=3&keepalives_idle=60",
            "t",
            None,
        )
        .unwrap();
        let c = &target.config;
        assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(60));
        assert_eq!(
            c.get_options(),
            Some("-c statement_timeout=700 -c idle_in_transaction_session_timeout=15000")
        );
    }
}
