//! Tandem's Claude Desktop extension (the `.mcpb` bundle) where Desktop unpacks what it
//! installs: `<Desktop's config folder>/Claude Extensions/<id>/manifest.json`. Neither Desktop's
//! documentation nor the mcpb repository says where that is; it is where current Desktop builds
//! keep extensions, as people who looked report. So finding nothing proves nothing, and what is
//! found is only used to name doubles when both the extension and Tandem's own entries answer.
//! Read only.

use std::path::PathBuf;

use serde_json::Value;

use crate::{
    ServerEntry,
    catalog::{ClientId, config_dirs},
    host::{HostEnv, Os},
    probe::ProbeTarget,
};

/// The extension's name in its manifest.
pub const EXTENSION_NAME: &str = "tandem";
const EXTENSIONS_DIR: &str = "Claude Extensions";

/// The Tandem extension as Desktop has it unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledExtension {
    /// The extension's folder (`${__dirname}`).
    pub dir: PathBuf,
    pub version: Option<String>,
    manifest: Value,
}

impl InstalledExtension {
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    /// Its server as Desktop starts it: the manifest's command and arguments (the `win32`
    /// override on Windows) with `${__dirname}` put in.
    pub fn probe_target(&self, os: Os) -> Option<ProbeTarget> {
        let config = self.manifest.get("server")?.get("mcp_config")?;
        let overrides = (os == Os::Windows)
            .then(|| config.get("platform_overrides")?.get("win32"))
            .flatten();
        let field = |key: &str| {
            overrides
                .and_then(|o| o.get(key))
                .or_else(|| config.get(key))
        };
        let dir = self.dir.to_string_lossy();
        let put_in = |s: &str| s.replace("${__dirname}", &dir);
        let command = put_in(field("command")?.as_str()?);
        let args = field("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(put_in).collect())
            .unwrap_or_default();
        Some(ProbeTarget {
            client: ClientId::ClaudeDesktop,
            config_path: self.manifest_path(),
            name: format!("extension:{EXTENSION_NAME}"),
            entry: ServerEntry::Stdio {
                command,
                args,
                env: Default::default(),
            },
        })
    }
}

/// The Tandem extension, when Desktop has one unpacked.
pub fn desktop_extension(env: &HostEnv) -> Option<InstalledExtension> {
    config_dirs(ClientId::ClaudeDesktop, env)
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir.join(EXTENSIONS_DIR)).ok())
        .flatten()
        .flatten()
        .find_map(|entry| {
            let dir = entry.path();
            let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
            let manifest: Value = serde_json::from_slice(&bytes).ok()?;
            (manifest.get("name")?.as_str()? == EXTENSION_NAME).then(|| InstalledExtension {
                version: manifest
                    .get("version")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                dir,
                manifest,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_is_found_where_desktop_unpacks_it_and_started_as_its_manifest_says() {
        let dir = tempfile::tempdir().unwrap();
        let env = HostEnv::new(Os::Linux, dir.path());
        assert_eq!(desktop_extension(&env), None);
        let extensions = dir.path().join(".config/Claude/Claude Extensions");
        let other = extensions.join("local.mcpb.someone.other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("manifest.json"), r#"{"name": "other"}"#).unwrap();
        let ours = extensions.join("local.mcpb.tandem.tandem");
        std::fs::create_dir_all(&ours).unwrap();
        std::fs::write(
            ours.join("manifest.json"),
            r#"{"name": "tandem", "version": "0.1.0", "server": {"type": "binary",
                "mcp_config": {"command": "${__dirname}/server/tandem", "args": ["mcp", "all"],
                "platform_overrides": {"win32": {"command": "${__dirname}/server/tandem.exe"}}}}}"#,
        )
        .unwrap();
        let found = desktop_extension(&env).unwrap();
        assert_eq!(found.dir, ours);
        assert_eq!(found.version.as_deref(), Some("0.1.0"));
        let target = found.probe_target(Os::Linux).unwrap();
        assert_eq!(target.name, "extension:tandem");
        let ServerEntry::Stdio { command, args, .. } = &target.entry else {
            panic!("{target:?}")
        };
        assert_eq!(command, &format!("{}/server/tandem", ours.display()));
        assert_eq!(args, &["mcp", "all"]);
        let windows = found.probe_target(Os::Windows).unwrap();
        let ServerEntry::Stdio { command, args, .. } = &windows.entry else {
            panic!("{windows:?}")
        };
        assert!(command.ends_with("server/tandem.exe"), "{command}");
        assert_eq!(args, &["mcp", "all"], "arguments not overridden stay");
    }
}
