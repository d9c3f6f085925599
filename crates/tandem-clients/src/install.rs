//! Plan, show, apply: what an install or uninstall changes in a client's config files is
//! computed first without writing anything (old bytes, new bytes, a unified diff), then
//! applied through the safe writer, redoing the same edit on newer content if the file changed
//! in between.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::Value;
use tandem_store::Home;

use crate::{
    catalog::{self, ClientId, Format, Reload, Scope, client},
    edit::ConfigDoc,
    entry::{
        self, HeaderValue, MEMORY, NamedEntry, ServerEntry, WORKSPACE, fingerprint, is_tandem_entry,
    },
    error::{ClientsError, Result},
    host::HostEnv,
    state::{FileRecord, InstallState},
    writer::{self, Backups, Swap},
};

/// How many times apply redoes an edit because the file changed under it.
const MAX_ATTEMPTS: usize = 20;

/// The person's MCP clients on one host, and Tandem's state folder: the entry point for
/// planning, applying and inspecting changes.
#[derive(Debug, Clone)]
pub struct Installer {
    home: Home,
    host: HostEnv,
}

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Replace same-named entries that Tandem did not write.
    pub force: bool,
    /// Write the project-scoped config in this folder instead of the person's own.
    pub project_dir: Option<PathBuf>,
    /// The `tandem` binary for bridging HTTP entries (`tandem connect`) into clients that only
    /// launch stdio servers; without it such an install is refused.
    pub bridge: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct UninstallOptions {
    /// Also remove same-named entries that Tandem did not write.
    pub force: bool,
    pub project_dir: Option<PathBuf>,
    /// Entry names to remove; empty means Tandem's own two plus every entry Tandem recorded
    /// writing to the file.
    pub names: Vec<String>,
}

/// What happens to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryAction {
    Add,
    /// Tandem's entry is there with other values (a moved binary, say) and is rewritten.
    Update,
    /// Already as asked.
    Keep,
    Remove,
    /// Nothing by that name to remove.
    Absent,
    /// An entry by that name that Tandem did not write: left alone (use `force`).
    SkipForeign,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    pub name: String,
    pub action: EntryAction,
}

/// A secret that ends up in clear in a config file, because the client cannot expand the
/// `env:VAR` it was given as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInFile {
    pub entry: String,
    /// The header (or, for a bridged entry, the variable) holding it.
    pub what: String,
}

/// The change to one config file.
#[derive(Debug, Clone)]
pub struct FilePlan {
    /// The config file, as the client names it.
    pub path: PathBuf,
    /// Its bytes now; `None` when it does not exist.
    pub old: Option<Vec<u8>>,
    /// Its bytes after the change; `None` when the change removes the file (uninstall of a
    /// file Tandem created).
    pub new: Option<Vec<u8>>,
    /// Unified diff from `old` to `new`; empty when nothing changes.
    pub diff: String,
    pub entries: Vec<EntryChange>,
    pub secrets_in_file: Vec<SecretInFile>,
    facts: Facts,
}

impl FilePlan {
    pub fn changes(&self) -> bool {
        self.old != self.new
    }
}

/// The changes for one client; show it (diffs), then [`Installer::apply`] it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub client: ClientId,
    pub files: Vec<FilePlan>,
    op: Op,
}

impl Plan {
    pub fn changes(&self) -> bool {
        self.files.iter().any(FilePlan::changes)
    }

    /// What the person must do for the client to see the change.
    pub fn reload(&self) -> Reload {
        client(self.client).reload
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Install {
        entries: Vec<(String, Value)>,
        force: bool,
    },
    Uninstall {
        names: Vec<String>,
        force: bool,
    },
    /// Claude Code's SessionStart hook running `command`; `None` removes Tandem's hook.
    SessionHook {
        command: Option<String>,
    },
}

impl Op {
    /// Parses a file as this operation edits it: a client's MCP config, or Claude Code's
    /// `settings.json` for hooks.
    fn parse(&self, id: ClientId, path: &Path, bytes: Option<&[u8]>) -> Result<ConfigDoc> {
        match self {
            Op::SessionHook { .. } => ConfigDoc::parse_settings(path, bytes),
            Op::Install { .. } | Op::Uninstall { .. } => ConfigDoc::parse(id, path, bytes),
        }
    }
}

/// Bookkeeping from one edit, folded into the install record once it is written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub created_file: bool,
    pub created_container: bool,
    /// Created `hooks.SessionStart` (hook edits only; the container is then `hooks`).
    pub created_hook_list: bool,
    pub added_final_newline: bool,
    /// Fingerprints of the entries that are Tandem's after the edit.
    pub written: BTreeMap<String, String>,
    pub removed: Vec<String>,
    pub removed_file: bool,
}

pub(crate) struct Edit {
    pub new: Option<Vec<u8>>,
    pub entries: Vec<EntryChange>,
    pub facts: Facts,
}

/// What apply did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Written { backup: Option<PathBuf> },
    Removed { backup: Option<PathBuf> },
}

#[derive(Debug, Clone)]
pub struct AppliedFile {
    pub path: PathBuf,
    pub outcome: Outcome,
    /// The entry changes as finally applied (they differ from the plan's when the file
    /// changed in between).
    pub entries: Vec<EntryChange>,
    /// 1 when the file was as planned; more when the edit was redone on newer content.
    pub attempts: usize,
}

#[derive(Debug, Clone)]
pub struct Applied {
    pub client: ClientId,
    pub files: Vec<AppliedFile>,
}

/// Whether `value`, found under `name`, is Tandem's: Tandem's own shape, or exactly what
/// Tandem recorded writing there.
fn owned(name: &str, value: &Value, record: Option<&FileRecord>) -> bool {
    entry::parse(value).is_some_and(|e| is_tandem_entry(&e))
        || record
            .and_then(|r| r.entries.get(name))
            .is_some_and(|fp| *fp == fingerprint(value))
}

fn validate_name(id: ClientId, name: &str) -> Result<()> {
    let invalid = |reason: &str| ClientsError::InvalidName {
        client: id,
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(invalid("names must be non-empty and printable"));
    }
    if id == ClientId::Codex
        && !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("Codex accepts letters, digits, '-' and '_' only"));
    }
    Ok(())
}

fn compute(
    id: ClientId,
    old: Option<&[u8]>,
    mut doc: ConfigDoc,
    op: &Op,
    record: Option<&FileRecord>,
) -> Result<Edit> {
    if let Op::SessionHook { command } = op {
        return crate::hook::compute(old, doc, op, command.as_deref(), record);
    }
    let mut entries = Vec::new();
    let mut facts = Facts::default();
    let had_container = doc.has_container();
    let mut changed = false;
    match op {
        Op::Install {
            entries: wanted,
            force,
        } => {
            for (name, value) in wanted {
                let action = match doc.get(name) {
                    None => EntryAction::Add,
                    Some(current) if current == *value => EntryAction::Keep,
                    Some(current) if *force || owned(name, &current, record) => EntryAction::Update,
                    Some(_) => EntryAction::SkipForeign,
                };
                if matches!(action, EntryAction::Add | EntryAction::Update) {
                    doc.set(name, value);
                    changed = true;
                }
                if action != EntryAction::SkipForeign {
                    facts.written.insert(name.clone(), fingerprint(value));
                }
                entries.push(EntryChange {
                    name: name.clone(),
                    action,
                });
            }
            facts.created_file = old.is_none() && changed;
            facts.created_container = changed && !had_container && doc.has_container();
        }
        Op::Uninstall { names, force } => {
            let mut wanted: Vec<String> = names.clone();
            if wanted.is_empty() {
                wanted = vec![WORKSPACE.into(), MEMORY.into()];
                wanted.extend(record.into_iter().flat_map(|r| r.entries.keys().cloned()));
            }
            let mut seen = std::collections::BTreeSet::new();
            for name in wanted.into_iter().filter(|n| seen.insert(n.clone())) {
                let action = match doc.get(&name) {
                    None => EntryAction::Absent,
                    Some(current) if *force || owned(&name, &current, record) => {
                        EntryAction::Remove
                    }
                    Some(_) => EntryAction::SkipForeign,
                };
                if action == EntryAction::Remove {
                    doc.remove(&name);
                    facts.removed.push(name.clone());
                    changed = true;
                }
                entries.push(EntryChange { name, action });
            }
            if changed && record.is_some_and(|r| r.created_container) && doc.container_is_empty() {
                doc.remove_container();
            }
        }
        Op::SessionHook { .. } => {}
    }
    if !changed {
        return Ok(Edit {
            new: old.map(<[u8]>::to_vec),
            entries,
            facts,
        });
    }
    finish(id, old, &doc, op, record, entries, facts)
}

/// The new bytes after an edit that changed something: undoes what Tandem added around its
/// entries (a final newline, a whole file) when they go again.
pub(crate) fn finish(
    id: ClientId,
    old: Option<&[u8]>,
    doc: &ConfigDoc,
    op: &Op,
    record: Option<&FileRecord>,
    entries: Vec<EntryChange>,
    mut facts: Facts,
) -> Result<Edit> {
    let blank = doc.is_blank();
    let mut text = doc.text();
    let removing = matches!(op, Op::Uninstall { .. } | Op::SessionHook { command: None });
    if !removing {
        facts.added_final_newline = client(id).format == Format::Toml
            && old.is_some_and(|o| !o.is_empty() && !o.ends_with(b"\n"))
            && text.ends_with('\n');
    } else {
        let record = record.cloned().unwrap_or_default();
        if record.added_final_newline
            && old.is_some_and(|o| o.ends_with(b"\n"))
            && text.ends_with('\n')
        {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if record.created_file && blank {
            facts.removed_file = true;
            return Ok(Edit {
                new: None,
                entries,
                facts,
            });
        }
    }
    Ok(Edit {
        new: Some(text.into_bytes()),
        entries,
        facts,
    })
}

fn unified_diff(path: &Path, old: Option<&[u8]>, new: Option<&[u8]>) -> String {
    if old == new {
        return String::new();
    }
    let shown = path.to_string_lossy();
    let a = if old.is_some() {
        shown.as_ref()
    } else {
        "/dev/null"
    };
    let b = if new.is_some() {
        shown.as_ref()
    } else {
        "/dev/null"
    };
    let old = String::from_utf8_lossy(old.unwrap_or_default());
    let new = String::from_utf8_lossy(new.unwrap_or_default());
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(a, b)
        .to_string()
}

fn pause(attempt: usize) {
    // Spread retries so that a writer rewriting in a loop leaves a gap.
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() % 7)
            .unwrap_or(3),
    );
    std::thread::sleep(Duration::from_millis(2 * attempt as u64 + jitter));
}

impl Installer {
    pub fn new(home: Home, host: HostEnv) -> Self {
        Self { home, host }
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn host(&self) -> &HostEnv {
        &self.host
    }

    /// The backups of config files this installer writes.
    pub fn backups(&self) -> Backups {
        Backups::new(&self.home)
    }

    fn scope(project_dir: &Option<PathBuf>) -> Scope {
        match project_dir {
            Some(dir) => Scope::Project(dir.clone()),
            None => Scope::User,
        }
    }

    /// The config files for a client in a scope.
    pub fn config_paths(&self, id: ClientId, scope: &Scope) -> Result<Vec<PathBuf>> {
        catalog::config_paths(id, &self.host, scope)
    }

    fn read(&self, id: ClientId, path: &Path, op: &Op) -> Result<(Option<Vec<u8>>, ConfigDoc)> {
        let target = writer::resolve(path);
        writer::read_settled(&target, |bytes| op.parse(id, path, bytes))
    }

    fn plan(
        &self,
        id: ClientId,
        scope: &Scope,
        op: Op,
        secrets: Vec<SecretInFile>,
    ) -> Result<Plan> {
        self.plan_files(id, self.config_paths(id, scope)?, op, secrets)
    }

    pub(crate) fn plan_files(
        &self,
        id: ClientId,
        paths: Vec<PathBuf>,
        op: Op,
        secrets: Vec<SecretInFile>,
    ) -> Result<Plan> {
        let state = InstallState::new(&self.home);
        let mut files = Vec::new();
        for path in paths {
            let (old, doc) = self.read(id, &path, &op)?;
            let record = state.record(&path)?;
            let edit = compute(id, old.as_deref(), doc, &op, record.as_ref())?;
            files.push(FilePlan {
                diff: unified_diff(&path, old.as_deref(), edit.new.as_deref()),
                path,
                old,
                new: edit.new,
                entries: edit.entries,
                secrets_in_file: secrets.clone(),
                facts: edit.facts,
            });
        }
        Ok(Plan {
            client: id,
            files,
            op,
        })
    }

    /// Plans adding `entries` to a client's config. Nothing is written.
    /// The Tandem plugin, when Claude Code reaches Tandem through it (installed and enabled)
    /// and an install of Tandem's own entries into `id` would only double it: Claude Code,
    /// the person's own config, no `force`.
    pub fn plugin_in_charge(
        &self,
        id: ClientId,
        options: &InstallOptions,
    ) -> Option<crate::plugin::InstalledPlugin> {
        if id != ClientId::ClaudeCode || options.force || options.project_dir.is_some() {
            return None;
        }
        crate::plugin::claude_code_plugin(&self.host).filter(|p| p.enabled)
    }

    pub fn plan_install(
        &self,
        id: ClientId,
        entries: &[NamedEntry],
        options: &InstallOptions,
    ) -> Result<Plan> {
        let tandems_own = entries
            .iter()
            .any(|n| n.name == entry::WORKSPACE || n.name == entry::MEMORY);
        if tandems_own && let Some(plugin) = self.plugin_in_charge(id, options) {
            return Err(ClientsError::PluginInCharge { plugin: plugin.id });
        }
        let c = client(id);
        let mut rendered = Vec::new();
        let mut secrets = Vec::new();
        for named in entries {
            validate_name(id, &named.name)?;
            let entry = match (&named.entry, &options.bridge) {
                (e, Some(tandem)) if !c.supports(e.transport()) => {
                    // The client will not pass the person's variables to the bridge: each
                    // one a header names must have its value now.
                    if let ServerEntry::Http { headers, .. } = e {
                        for (header, value) in headers {
                            if let HeaderValue::Env { var, .. } = HeaderValue::parse(value)
                                && self.host.var(var).is_none()
                            {
                                return Err(ClientsError::MissingEnvVar {
                                    client: id,
                                    header: header.clone(),
                                    var: var.to_string(),
                                });
                            }
                        }
                    }
                    let (bridged, vars) = e.bridged(tandem, &self.host);
                    secrets.extend(vars.into_iter().map(|what| SecretInFile {
                        entry: named.name.clone(),
                        what,
                    }));
                    bridged
                }
                (e, _) => e.clone(),
            };
            let r = entry::render(id, &entry, &self.host)?;
            secrets.extend(r.secrets_in_file.into_iter().map(|what| SecretInFile {
                entry: named.name.clone(),
                what,
            }));
            rendered.push((named.name.clone(), r.value));
        }
        let op = Op::Install {
            entries: rendered,
            force: options.force,
        };
        self.plan(id, &Self::scope(&options.project_dir), op, secrets)
    }

    /// Plans removing Tandem's entries from a client's config. Nothing is written.
    pub fn plan_uninstall(&self, id: ClientId, options: &UninstallOptions) -> Result<Plan> {
        let op = Op::Uninstall {
            names: options.names.clone(),
            force: options.force,
        };
        self.plan(id, &Self::scope(&options.project_dir), op, Vec::new())
    }

    /// Applies a plan: per file, a backup of what is replaced, then an atomic replace if the
    /// file is still as planned; if it changed, the same edit is redone on the new content
    /// (a bounded number of times).
    pub fn apply(&self, plan: &Plan) -> Result<Applied> {
        let mut files = Vec::new();
        for file in &plan.files {
            files.push(self.apply_file(plan, file)?);
        }
        Ok(Applied {
            client: plan.client,
            files,
        })
    }

    fn apply_file(&self, plan: &Plan, file: &FilePlan) -> Result<AppliedFile> {
        let id = plan.client;
        let target = writer::resolve(&file.path);
        let backups = self.backups();
        let state = InstallState::new(&self.home);
        let mut expected = file.old.clone();
        let mut edit = Edit {
            new: file.new.clone(),
            entries: file.entries.clone(),
            facts: file.facts.clone(),
        };
        let settled = |bytes: &[u8]| plan.op.parse(id, &file.path, Some(bytes)).is_ok();
        for attempt in 1..=MAX_ATTEMPTS {
            if edit.new == expected {
                self.record(&state, id, &file.path, &plan.op, &edit.facts)?;
                return Ok(AppliedFile {
                    path: file.path.clone(),
                    outcome: Outcome::Unchanged,
                    entries: edit.entries,
                    attempts: attempt,
                });
            }
            let swap = writer::swap(
                &target,
                expected.as_deref(),
                edit.new.as_deref(),
                Some(&backups),
                settled,
            )?;
            match swap {
                Swap::Done { backup } => {
                    self.record(&state, id, &file.path, &plan.op, &edit.facts)?;
                    let outcome = match edit.new {
                        Some(_) => Outcome::Written { backup },
                        None => Outcome::Removed { backup },
                    };
                    return Ok(AppliedFile {
                        path: file.path.clone(),
                        outcome,
                        entries: edit.entries,
                        attempts: attempt,
                    });
                }
                Swap::Changed => {
                    pause(attempt);
                    let record = state.record(&file.path)?;
                    let (now, doc) = self.read(id, &file.path, &plan.op)?;
                    edit = compute(id, now.as_deref(), doc, &plan.op, record.as_ref())?;
                    expected = now;
                }
                Swap::Overwritten { theirs } => {
                    // Ours is in place but was based on bytes another writer had already
                    // replaced: merge our edit into theirs, expecting ours to be there now.
                    let record = state.record(&file.path)?;
                    let doc = plan.op.parse(id, &file.path, Some(&theirs))?;
                    let ours = edit.new.take();
                    edit = compute(id, Some(&theirs), doc, &plan.op, record.as_ref())?;
                    if edit.new.is_none() {
                        edit.new = Some(theirs);
                    }
                    expected = ours;
                }
            }
        }
        Err(ClientsError::Contended {
            client: id,
            path: file.path.clone(),
            attempts: MAX_ATTEMPTS,
        })
    }

    fn record(
        &self,
        state: &InstallState,
        id: ClientId,
        path: &Path,
        op: &Op,
        facts: &Facts,
    ) -> Result<()> {
        match op {
            Op::Install { .. } | Op::SessionHook { command: Some(_) } => {
                state.update(path, |record| {
                    let mut r = record.unwrap_or_else(|| FileRecord {
                        client: id.to_string(),
                        ..FileRecord::default()
                    });
                    r.created_file |= facts.created_file;
                    r.created_container |= facts.created_container;
                    r.created_hook_list |= facts.created_hook_list;
                    r.added_final_newline |= facts.added_final_newline;
                    r.entries
                        .extend(facts.written.iter().map(|(k, v)| (k.clone(), v.clone())));
                    let empty = r.entries.is_empty()
                        && !r.created_file
                        && !r.created_container
                        && !r.created_hook_list;
                    (!empty).then_some(r)
                })
            }
            Op::SessionHook { command: None } => state.update(path, |record| {
                // Whatever Tandem created around its hook is gone with it.
                if facts.removed.is_empty() && !facts.removed_file {
                    record
                } else {
                    None
                }
            }),
            Op::Uninstall { .. } => state.update(path, |record| {
                let mut r = record?;
                if facts.removed_file {
                    return None;
                }
                for name in &facts.removed {
                    r.entries.remove(name);
                }
                (!r.entries.is_empty()).then_some(r)
            }),
        }
    }
}
