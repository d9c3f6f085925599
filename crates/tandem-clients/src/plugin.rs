//! Tandem's Claude Code plugin as Claude Code records it: installed in
//! `~/.claude/plugins/installed_plugins.json` (under `$CLAUDE_CONFIG_DIR` when set) and enabled
//! in `~/.claude/settings.json` (`enabledPlugins["tandem@<marketplace>"]`). When it is installed
//! and enabled, its servers and hooks are Tandem's way into Claude Code, and the installer does
//! not add its own entries beside them. Read only; a file that is missing or does not parse
//! means no plugin.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{
    catalog::{ClientId, claude_code_dir, claude_code_settings_path},
    entry,
    error::{ClientsError, Result},
    host::HostEnv,
    probe::ProbeTarget,
};

/// The plugin's name in its marketplace.
pub const PLUGIN_NAME: &str = "tandem";

/// The Tandem plugin as Claude Code has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPlugin {
    /// `tandem@<marketplace>`.
    pub id: String,
    pub version: Option<String>,
    pub enabled: bool,
    /// The plugin's folder as Claude Code installed it (`${CLAUDE_PLUGIN_ROOT}`).
    pub root: Option<PathBuf>,
}

impl InstalledPlugin {
    /// The plugin's servers, as Claude Code starts them (`plugin:tandem:<name>`), for the
    /// doctor: read from the installed `.mcp.json` with `${CLAUDE_PLUGIN_ROOT}` put in.
    pub fn probe_targets(&self) -> Vec<ProbeTarget> {
        let Some(root) = &self.root else {
            return Vec::new();
        };
        let path = root.join(".mcp.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Vec::new();
        };
        let text = text.replace(
            "${CLAUDE_PLUGIN_ROOT}",
            &root.to_string_lossy().replace('\\', "/"),
        );
        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&text) else {
            return Vec::new();
        };
        let Some(servers) = doc.get("mcpServers").and_then(Value::as_object) else {
            return Vec::new();
        };
        servers
            .iter()
            .filter_map(|(name, value)| {
                Some(ProbeTarget {
                    client: ClientId::ClaudeCode,
                    config_path: path.clone(),
                    name: format!("plugin:{PLUGIN_NAME}:{name}"),
                    entry: entry::parse(value)?,
                })
            })
            .collect()
    }
}

fn read_json(path: &std::path::Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The Tandem plugin, when Claude Code has it installed (enabled or not).
pub fn claude_code_plugin(env: &HostEnv) -> Option<InstalledPlugin> {
    let installed = read_json(&env.os.join(
        &claude_code_dir(env),
        &["plugins", "installed_plugins.json"],
    ))?;
    let (id, installs) = installed
        .get("plugins")?
        .as_object()?
        .iter()
        .find(|(id, installs)| {
            id.split_once('@')
                .is_some_and(|(name, _)| name == PLUGIN_NAME)
                && installs.as_array().is_some_and(|a| !a.is_empty())
        })?;
    let first = installs.as_array().and_then(|a| a.first());
    let field = |key: &str| {
        first
            .and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let version = field("version");
    let root = field("installPath").map(PathBuf::from);
    let enabled = read_json(&claude_code_settings_path(env))
        .and_then(|s| s.get("enabledPlugins")?.get(id)?.as_bool())
        .unwrap_or(false);
    Some(InstalledPlugin {
        id: id.clone(),
        version,
        enabled,
        root,
    })
}

/// The marketplace listing the plugin (`tandem`): a folder with `.claude-plugin/marketplace.json`.
pub const MARKETPLACE_NAME: &str = "tandem";
/// Where Tandem keeps its copy of the marketplace, under the state folder.
const MARKETPLACE_COPY: &str = "claude-plugin";

/// The marketplace this `tandem` carries: where the packages put it beside the binary, else the
/// source tree the binary was built from.
pub fn packaged_marketplace(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    [
        // .deb and AppImage: usr/bin/tandem, usr/lib/Tandem/claude-plugin.
        dir.join("../lib/Tandem/claude-plugin"),
        // Windows: beside tandem.exe.
        dir.join("claude-plugin"),
        // macOS: Tandem.app/Contents/MacOS/tandem, Contents/Resources/claude-plugin.
        dir.join("../Resources/claude-plugin"),
        // A build from a checkout: the repository is the marketplace.
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    ]
    .into_iter()
    .find(|d| d.join(".claude-plugin/marketplace.json").is_file())
}

/// Copies the marketplace at `from` (its manifest and the plugin folders it lists) to
/// `<state>/claude-plugin`, replacing an older copy, and returns the copy. Claude Code loads a
/// local marketplace's plugin in place, so it must be somewhere that stays: an AppImage's files
/// are gone when it exits, and a package's are replaced by the next version.
pub fn copy_marketplace(from: &Path, state_dir: &Path) -> Result<PathBuf> {
    let manifest_path = from.join(".claude-plugin/marketplace.json");
    let manifest =
        std::fs::read(&manifest_path).map_err(|e| ClientsError::io(&manifest_path, e))?;
    let sources: Vec<String> = serde_json::from_slice::<Value>(&manifest)
        .ok()
        .and_then(|m| {
            let plugins = m.get("plugins")?.as_array()?.clone();
            Some(
                plugins
                    .iter()
                    .filter_map(|p| p.get("source")?.as_str().map(str::to_string))
                    .collect(),
            )
        })
        .unwrap_or_default();
    let dest = state_dir.join(MARKETPLACE_COPY);
    let staging = state_dir.join(format!("{MARKETPLACE_COPY}.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(
        &from.join(".claude-plugin"),
        &staging.join(".claude-plugin"),
    )?;
    for source in &sources {
        let Some(rel) = source.strip_prefix("./") else {
            continue;
        };
        if rel.split(['/', '\\']).any(|part| part == "..") {
            continue;
        }
        copy_tree(&from.join(rel), &staging.join(rel))?;
    }
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| ClientsError::io(&dest, e))?;
    }
    std::fs::rename(&staging, &dest).map_err(|e| ClientsError::io(&dest, e))?;
    Ok(dest)
}

/// A folder copied file by file (modes kept: the launcher stays executable).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| ClientsError::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| ClientsError::io(from, e))? {
        let entry = entry.map_err(|e| ClientsError::io(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry
            .file_type()
            .map_err(|e| ClientsError::io(&src, e))?
            .is_dir()
        {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| ClientsError::io(&src, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Os;

    fn write(env: &HostEnv, rel: &[&str], text: &str) {
        let path = env.os.join(&env.home, rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_plugin_is_found_installed_and_enabled_as_claude_code_records_it() {
        let dir = tempfile::tempdir().unwrap();
        let env = HostEnv::new(Os::Linux, dir.path());
        assert_eq!(claude_code_plugin(&env), None);
        write(
            &env,
            &[".claude", "plugins", "installed_plugins.json"],
            r#"{"version": 2, "plugins": {"other@x": [{"version": "1"}],
                "tandem@tandem": [{"scope": "user", "version": "0.1.0"}]}}"#,
        );
        let found = claude_code_plugin(&env).unwrap();
        assert_eq!(found.id, "tandem@tandem");
        assert_eq!(found.version.as_deref(), Some("0.1.0"));
        assert!(!found.enabled, "not enabled until settings say so");
        write(
            &env,
            &[".claude", "settings.json"],
            r#"{"enabledPlugins": {"tandem@tandem": true}}"#,
        );
        assert!(claude_code_plugin(&env).unwrap().enabled);
        write(
            &env,
            &[".claude", "settings.json"],
            r#"{"enabledPlugins": {"tandem@tandem": false}}"#,
        );
        assert!(!claude_code_plugin(&env).unwrap().enabled);
        // Uninstalled: the CLI leaves an empty map.
        write(
            &env,
            &[".claude", "plugins", "installed_plugins.json"],
            r#"{"version": 2, "plugins": {}}"#,
        );
        assert_eq!(claude_code_plugin(&env), None);
        write(
            &env,
            &[".claude", "plugins", "installed_plugins.json"],
            "{not json",
        );
        assert_eq!(claude_code_plugin(&env), None);
    }

    #[test]
    fn the_marketplace_of_this_build_is_found_and_copied_with_its_plugin_only() {
        let found = packaged_marketplace(Path::new("/nowhere/bin/tandem")).unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::write(state.path().join("keep"), "x").unwrap();
        let copy = copy_marketplace(&found, state.path()).unwrap();
        assert_eq!(copy, state.path().join("claude-plugin"));
        assert!(copy.join(".claude-plugin/marketplace.json").is_file());
        let plugin = copy.join("integrations/claude-code");
        assert!(plugin.join(".claude-plugin/plugin.json").is_file());
        assert!(
            !copy.join("crates").exists(),
            "only what the marketplace lists"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(plugin.join("bin/tandem-launch"))
                .unwrap()
                .permissions()
                .mode();
            assert_ne!(mode & 0o111, 0, "the launcher stays executable");
        }
        // Again: the copy is replaced, nothing else in the state folder is touched.
        std::fs::write(copy.join("stale"), "old").unwrap();
        copy_marketplace(&found, state.path()).unwrap();
        assert!(!copy.join("stale").exists());
        assert!(state.path().join("keep").exists());
        let left: Vec<_> = std::fs::read_dir(state.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
