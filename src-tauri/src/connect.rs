//! Connecting clients from the app: Tandem's two entries planned for each client (a diff to
//! show before anything is written), then applied through the installer's safe writer.
//! "Repair" is the same with `force`: an entry under Tandem's name that something else changed
//! is put back, after the person has seen the diff.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tandem_clients::{
    ClientId, ClientStatus, EntryAction, InstallOptions, Installer, NamedEntry, Outcome, Plan,
    Reach, Scope, tandem_entries_for,
};

/// The entries the app writes for a client: the sidecar `tandem` (with `TANDEM_HOME` when the
/// app's home was given one, so that clients and app share the same state), or, for a client
/// on the hub, the hub's entries (Connect and Repair keep the way a client reaches Tandem).
pub fn entries(
    installer: &Installer,
    tandem: &Path,
    id: ClientId,
) -> Result<Vec<NamedEntry>, String> {
    let reach = match installer.status(id, &Scope::User, None) {
        Ok(status) => status.tandem_reach(),
        Err(_) => Reach::Stdio,
    };
    entries_for(installer, tandem, &reach, id)
}

/// The entries the app would write for a client whose files read as `status`.
pub fn entries_as_read(
    installer: &Installer,
    tandem: &Path,
    status: &ClientStatus,
) -> Result<Vec<NamedEntry>, String> {
    entries_for(installer, tandem, &status.tandem_reach(), status.client)
}

fn entries_for(
    installer: &Installer,
    tandem: &Path,
    reach: &Reach,
    id: ClientId,
) -> Result<Vec<NamedEntry>, String> {
    let home = installer.home();
    let token = match reach {
        Reach::Http(_) => home.hub_token_value().ok_or_else(|| {
            format!(
                "{} reaches Tandem through the hub, whose token ({}) is not there yet: wait \
                 until Health shows the hub running, then try again",
                id.client().name,
                home.hub_token().display()
            )
        })?,
        _ => String::new(),
    };
    Ok(tandem_entries_for(
        reach,
        tandem,
        installer.host(),
        home,
        &token,
    ))
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    pub path: PathBuf,
    /// Unified diff; empty when the file stays as it is.
    pub diff: String,
    pub creates: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectPlan {
    pub client: String,
    pub name: String,
    pub files: Vec<FileChange>,
    pub changes: bool,
    /// Entries under Tandem's names that are not Tandem's and stay as they are (without repair).
    pub skipped: Vec<String>,
    /// What the person must do afterwards ("quit Claude Desktop completely and open it again").
    pub restart_note: String,
    pub needs_restart: bool,
    /// Why nothing can be planned (a malformed config file, say), and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectResult {
    pub client: String,
    pub name: String,
    pub ok: bool,
    pub changed: bool,
    pub message: String,
    pub restart_note: String,
    pub needs_restart: bool,
    pub backups: Vec<PathBuf>,
}

fn options(repair: bool) -> InstallOptions {
    InstallOptions {
        force: repair,
        ..InstallOptions::default()
    }
}

fn plan_one(
    installer: &Installer,
    tandem: &Path,
    id: ClientId,
    repair: bool,
) -> Result<Plan, String> {
    installer
        .plan_install(id, &entries(installer, tandem, id)?, &options(repair))
        .map_err(|e| e.to_string())
}

/// The clients to connect when none are named: every one detected on this machine, but not
/// Claude Code when it reaches Tandem through the plugin.
pub fn detected(installer: &Installer) -> Vec<ClientId> {
    ClientId::ALL
        .into_iter()
        .filter(|id| tandem_clients::catalog::detect(*id, installer.host()).detected())
        .filter(|id| {
            installer
                .plugin_in_charge(*id, &InstallOptions::default())
                .is_none()
        })
        .collect()
}

pub fn plan(
    installer: &Installer,
    tandem: &Path,
    ids: &[ClientId],
    repair: bool,
) -> Vec<ConnectPlan> {
    ids.iter()
        .map(|&id| {
            let client = id.client();
            let base = ConnectPlan {
                client: id.as_str().to_string(),
                name: client.name.to_string(),
                files: Vec::new(),
                changes: false,
                skipped: Vec::new(),
                restart_note: client.reload.hint(client),
                needs_restart: client.reload.needs_restart(),
                error: None,
            };
            match plan_one(installer, tandem, id, repair) {
                Ok(plan) => ConnectPlan {
                    changes: plan.changes(),
                    skipped: plan
                        .files
                        .iter()
                        .flat_map(|f| &f.entries)
                        .filter(|e| e.action == EntryAction::SkipForeign)
                        .map(|e| e.name.clone())
                        .collect(),
                    files: plan
                        .files
                        .iter()
                        .map(|f| FileChange {
                            path: f.path.clone(),
                            diff: f.diff.clone(),
                            creates: f.old.is_none() && f.new.is_some(),
                        })
                        .collect(),
                    ..base
                },
                Err(error) => ConnectPlan {
                    error: Some(error),
                    ..base
                },
            }
        })
        .collect()
}

pub fn apply(
    installer: &Installer,
    tandem: &Path,
    ids: &[ClientId],
    repair: bool,
) -> Vec<ConnectResult> {
    ids.iter()
        .map(|&id| {
            let client = id.client();
            let mut result = ConnectResult {
                client: id.as_str().to_string(),
                name: client.name.to_string(),
                ok: false,
                changed: false,
                message: String::new(),
                restart_note: client.reload.hint(client),
                needs_restart: client.reload.needs_restart(),
                backups: Vec::new(),
            };
            let applied = plan_one(installer, tandem, id, repair)
                .and_then(|plan| installer.apply(&plan).map_err(|e| e.to_string()));
            match applied {
                Ok(applied) => {
                    let skipped: Vec<&str> = applied
                        .files
                        .iter()
                        .flat_map(|f| &f.entries)
                        .filter(|e| e.action == EntryAction::SkipForeign)
                        .map(|e| e.name.as_str())
                        .collect();
                    for file in &applied.files {
                        match &file.outcome {
                            Outcome::Unchanged => {}
                            Outcome::Written { backup } | Outcome::Removed { backup } => {
                                result.changed = true;
                                result.backups.extend(backup.clone());
                            }
                        }
                    }
                    result.ok = skipped.is_empty();
                    result.message = if !skipped.is_empty() {
                        format!(
                            "{} left as it is: not written by Tandem; use Repair to replace it",
                            skipped.join(" and ")
                        )
                    } else if result.changed {
                        format!("{} is connected", client.name)
                    } else {
                        format!("{} was already connected", client.name)
                    };
                }
                Err(e) => result.message = e,
            }
            result
        })
        .collect()
}
