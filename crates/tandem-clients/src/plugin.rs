//! Tandem's Claude Code plugin as Claude Code records it: installed in
//! `~/.claude/plugins/installed_plugins.json` (under `$CLAUDE_CONFIG_DIR` when set) and enabled
//! in `~/.claude/settings.json` (`enabledPlugins["tandem@<marketplace>"]`). When it is installed
//! and enabled, its servers and hooks are Tandem's way into Claude Code, and the installer does
//! not add its own entries beside them. Read only; a file that is missing or does not parse
//! means no plugin.

use std::path::PathBuf;

use serde_json::Value;

use crate::{
    catalog::{ClientId, claude_code_dir, claude_code_settings_path},
    entry,
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
}
