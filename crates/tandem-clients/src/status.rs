//! What is installed where: per client, whether it is present on this host, its config files,
//! the Tandem entries in them, and whether each still works as written (its binary exists, its
//! arguments are Tandem's, and it matches what an install would write now).

use std::path::PathBuf;

use crate::{
    catalog::{self, ClientId, Detection, Reload, Scope, client},
    edit::ConfigDoc,
    entry::{self, MEMORY, NamedEntry, ServerEntry, WORKSPACE},
    error::Result,
    install::Installer,
    reach::Reach,
    state::InstallState,
};

/// Health of one entry, as far as can be told without starting it (the doctor starts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Current,
    /// The command is not an existing absolute path: run `tandem install` again.
    BinaryMissing {
        command: String,
    },
    /// The arguments are not the ones this entry name needs.
    UnexpectedArgs {
        args: Vec<String>,
    },
    /// An HTTP entry whose URL is not this entry's endpoint of the hub.
    UnexpectedUrl {
        url: String,
    },
    /// An HTTP entry sends a token that is not the hub's (`hub.token` was replaced), or a
    /// bridge entry reads a token file that is gone: run `tandem install --transport http`.
    StaleToken,
    /// It works as far as can be seen, but differs from what an install would write now.
    Outdated,
    /// An entry with a Tandem name that Tandem did not write.
    Foreign,
}

impl Health {
    /// A stable name for scripts (`tandem status --json`) and the app.
    pub fn code(&self) -> &'static str {
        match self {
            Health::Current => "current",
            Health::BinaryMissing { .. } => "binary-missing",
            Health::UnexpectedArgs { .. } => "unexpected-args",
            Health::UnexpectedUrl { .. } => "unexpected-url",
            Health::StaleToken => "stale-token",
            Health::Outdated => "outdated",
            Health::Foreign => "foreign",
        }
    }

    /// A few words for a view's row.
    pub fn label(&self) -> &'static str {
        match self {
            Health::Current => "current",
            Health::BinaryMissing { .. } => "binary missing",
            Health::UnexpectedArgs { .. } => "unexpected arguments",
            Health::UnexpectedUrl { .. } => "not the hub's address",
            Health::StaleToken => "old hub token",
            Health::Outdated => "outdated",
            Health::Foreign => "changed by something else",
        }
    }

    /// What it means and what to do, for a person.
    pub fn advice(&self) -> String {
        match self {
            Health::Current => "works as written".into(),
            Health::BinaryMissing { command } => {
                format!("the binary at {command} no longer exists: run `tandem install` again")
            }
            Health::UnexpectedArgs { args } => {
                format!("unexpected arguments {args:?}: run `tandem install` again")
            }
            Health::UnexpectedUrl { url } => {
                format!("{url} is not this server's hub endpoint: run `tandem install` again")
            }
            Health::StaleToken => "its hub token is not the hub's current one: run `tandem \
                                   install --transport http` again"
                .into(),
            Health::Outdated => {
                "differs from what `tandem install` writes now: run it again".into()
            }
            Health::Foreign => {
                "not written by Tandem (left alone; `tandem install --force` replaces it)".into()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStatus {
    pub name: String,
    /// The entry as read back (`None` when it has no shape Tandem knows).
    pub entry: Option<ServerEntry>,
    pub ours: bool,
    pub health: Health,
}

#[derive(Debug, Clone)]
pub struct FileStatus {
    pub path: PathBuf,
    pub exists: bool,
    /// Why the file could not be read (malformed, unreadable), for a person.
    pub problem: Option<String>,
    pub entries: Vec<EntryStatus>,
}

#[derive(Debug, Clone)]
pub struct ClientStatus {
    pub client: ClientId,
    pub name: &'static str,
    pub detection: Detection,
    pub reload: Reload,
    pub files: Vec<FileStatus>,
    /// Claude Code, the person's own config: the Tandem plugin when it is installed.
    pub plugin: Option<crate::plugin::InstalledPlugin>,
}

impl ClientStatus {
    /// Whether every Tandem entry found is current, and there is at least one.
    pub fn healthy(&self) -> bool {
        let ours: Vec<&EntryStatus> = self
            .files
            .iter()
            .flat_map(|f| &f.entries)
            .filter(|e| e.ours)
            .collect();
        !ours.is_empty() && ours.iter().all(|e| e.health == Health::Current)
    }
}

fn expected_args(name: &str) -> Option<&'static str> {
    match name {
        WORKSPACE => Some("workspace"),
        MEMORY => Some("memory"),
        _ => None,
    }
}

fn ends_with_role(url: &str, role: &str) -> bool {
    url.trim_end_matches('/').ends_with(&format!("/{role}"))
}

fn health(name: &str, entry: &ServerEntry, hub_token: Option<&str>) -> Health {
    match entry {
        ServerEntry::Stdio { command, args, .. } => {
            if !entry::command_exists(command) {
                return Health::BinaryMissing {
                    command: command.clone(),
                };
            }
            let args_ok = match (expected_args(name), entry.reach()) {
                (Some(role), Reach::Bridge(url)) => ends_with_role(&url, role),
                (Some(role), _) => args.len() == 2 && args[0] == "mcp" && args[1] == role,
                (None, _) => true,
            };
            if !args_ok {
                return Health::UnexpectedArgs { args: args.clone() };
            }
            if expected_args(name).is_some()
                && let Some(file) = entry::bridge_token_file(args)
                && !file.is_file()
            {
                return Health::StaleToken;
            }
            Health::Current
        }
        ServerEntry::Http { url, headers } => {
            let Some(role) = expected_args(name) else {
                return Health::Current;
            };
            if !ends_with_role(url, role) {
                return Health::UnexpectedUrl { url: url.clone() };
            }
            match (entry::bearer_token(headers), hub_token) {
                (Some(sent), Some(hub)) if sent == hub => Health::Current,
                _ => Health::StaleToken,
            }
        }
    }
}

impl Installer {
    /// The status of one client. With `expected` (the entries an install would write now),
    /// an entry that differs from it is reported [`Health::Outdated`].
    pub fn status(
        &self,
        id: ClientId,
        scope: &Scope,
        expected: Option<&[NamedEntry]>,
    ) -> Result<ClientStatus> {
        self.status_with(id, scope, |_| expected.map(<[NamedEntry]>::to_vec))
    }

    /// [`Installer::status`] with the expected entries chosen from what the client's files
    /// hold (a client on the hub is compared with hub entries, say), read once.
    pub fn status_with(
        &self,
        id: ClientId,
        scope: &Scope,
        expected: impl FnOnce(&ClientStatus) -> Option<Vec<NamedEntry>>,
    ) -> Result<ClientStatus> {
        let state = InstallState::new(self.home());
        let hub_token = self.home().hub_token_value();
        let mut files = Vec::new();
        // Each listed entry's value as written, for the comparison with the expected entries.
        let mut values = Vec::new();
        for path in self.config_paths(id, scope)? {
            let target = crate::writer::resolve(&path);
            let record = state.record(&path).ok().flatten();
            let mut status = FileStatus {
                exists: target.is_file(),
                path: path.clone(),
                problem: None,
                entries: Vec::new(),
            };
            let parsed = crate::writer::read_settled(&target, |b| ConfigDoc::parse(id, &path, b));
            let doc = match parsed {
                Ok((_, doc)) => doc,
                Err(e) => {
                    status.problem = Some(e.to_string());
                    files.push(status);
                    continue;
                }
            };
            for (name, value) in doc.entries() {
                let recorded = record
                    .as_ref()
                    .is_some_and(|r| r.entries.contains_key(&name));
                if !name.starts_with("tandem-") && !recorded {
                    continue;
                }
                let parsed = entry::parse(&value);
                let ours = parsed.as_ref().is_some_and(entry::is_tandem_entry)
                    || record
                        .as_ref()
                        .and_then(|r| r.entries.get(&name))
                        .is_some_and(|fp| *fp == entry::fingerprint(&value));
                let h = match (&parsed, ours) {
                    (_, false) => Health::Foreign,
                    (Some(e), true) => health(&name, e, hub_token.as_deref()),
                    (None, true) => Health::Outdated,
                };
                status.entries.push(EntryStatus {
                    name,
                    entry: parsed,
                    ours,
                    health: h,
                });
                values.push(value);
            }
            files.push(status);
        }
        let mut status = ClientStatus {
            client: id,
            name: client(id).name,
            detection: catalog::detect(id, self.host()),
            reload: client(id).reload,
            files,
            plugin: (id == ClientId::ClaudeCode && *scope == Scope::User)
                .then(|| crate::plugin::claude_code_plugin(self.host()))
                .flatten(),
        };
        let Some(expected) = expected(&status) else {
            return Ok(status);
        };
        let listed = status.files.iter_mut().flat_map(|f| &mut f.entries);
        for (listed, value) in listed.zip(&values) {
            // Compared only with an entry of the same kind: a hub entry is not outdated for
            // being HTTP when the expected entries are stdio (or the other way round).
            if listed.health == Health::Current
                && let Some(want) = expected.iter().find(|n| {
                    n.name == listed.name
                        && listed
                            .entry
                            .as_ref()
                            .is_some_and(|p| p.reach().transport() == n.entry.reach().transport())
                })
            {
                let rendered = entry::render(id, &want.entry, self.host()).ok();
                if rendered.is_none_or(|r| r.value != *value) {
                    listed.health = Health::Outdated;
                }
            }
        }
        Ok(status)
    }
}
