//! The Claude Desktop extension: `tandem-<version>-<os>-<arch>.mcpb` (an MCP Bundle) for each
//! platform whose `tandem` binary the build has, packed by the pinned `mcpb` CLI from
//! `integrations/claude-desktop/manifest.json`, the icon, the licence and the binary. The
//! bundle's one server is `tandem mcp all` (one manifest describes one server; that one offers
//! both tool sets under their own names).

use std::path::{Path, PathBuf};

use crate::{Result, root, shell, target_dir};

const MANIFEST: &str = "integrations/claude-desktop/manifest.json";
/// The manifest lists every platform; each bundle claims only its own.
const ALL_PLATFORMS: &str = r#""platforms": ["darwin", "linux", "win32"]"#;

/// A platform as the manifest and Node name it, and the binary built for it.
struct Platform {
    os: &'static str,
    arch: &'static str,
    binary: PathBuf,
}

/// The platforms whose binary exists for `profile` (`debug` for the tests, `dist` for
/// release): this host's, and Windows' when it was cross-built.
fn platforms(profile: &str) -> Vec<Platform> {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let exe = format!("tandem{}", std::env::consts::EXE_SUFFIX);
    let mut found = vec![Platform {
        os,
        arch,
        binary: target_dir().join(profile).join(exe),
    }];
    if os != "win32" {
        found.push(Platform {
            os: "win32",
            arch: "x64",
            binary: target_dir()
                .join(crate::windows::TARGET)
                .join(profile)
                .join("tandem.exe"),
        });
    }
    found.retain(|p| p.binary.is_file());
    found
}

/// The folder the bundles of `profile` are written to.
pub fn out_dir(profile: &str) -> PathBuf {
    target_dir().join(profile).join("bundle/mcpb")
}

/// Packs one bundle per platform built for `profile`; returns their paths.
pub fn pack(profile: &str) -> Result<Vec<PathBuf>> {
    let manifest = std::fs::read_to_string(root().join(MANIFEST))
        .map_err(|e| format!("reading {MANIFEST}: {e}"))?;
    let version = env!("CARGO_PKG_VERSION");
    if !manifest.contains(&format!(r#""version": "{version}""#)) {
        return Err(format!(
            "{MANIFEST} does not say \"version\": \"{version}\" (the workspace version)"
        ));
    }
    if !manifest.contains(ALL_PLATFORMS) {
        return Err(format!("{MANIFEST} does not list {ALL_PLATFORMS}"));
    }
    let out = out_dir(profile);
    let platforms = platforms(profile);
    if platforms.is_empty() {
        return Err(format!("no tandem binary is built for {profile}"));
    }
    let mut packed = Vec::new();
    for platform in platforms {
        let name = format!("tandem-{version}-{}-{}", platform.os, platform.arch);
        let stage = out.join(&name);
        stage_bundle(&stage, &manifest, &platform)?;
        let file = out.join(format!("{name}.mcpb"));
        let cli = target_dir().join("npm/node_modules/@anthropic-ai/mcpb/dist/cli/cli.js");
        let mut mcpb = shell::command(
            "node",
            &[
                &*cli.to_string_lossy(),
                "pack",
                &*stage.to_string_lossy(),
                &*file.to_string_lossy(),
            ],
        );
        mcpb.current_dir(&stage);
        shell::step(&format!("pack {name}.mcpb (mcpb CLI)"), mcpb)?;
        // The staged copy of the binary is not needed once packed.
        std::fs::remove_dir_all(&stage)
            .map_err(|e| format!("removing {}: {e}", stage.display()))?;
        let size = std::fs::metadata(&file)
            .map_err(|e| format!("reading {}: {e}", file.display()))?
            .len();
        println!(
            "xtask: {} ({:.1} MB)",
            file.display(),
            size as f64 / 1_000_000.0
        );
        packed.push(file);
    }
    Ok(packed)
}

/// What goes into a bundle: the manifest (claiming only this platform), the icon, the
/// licence, and `server/tandem` (or `tandem.exe`), executable.
fn stage_bundle(stage: &Path, manifest: &str, platform: &Platform) -> Result {
    if stage.exists() {
        std::fs::remove_dir_all(stage).map_err(|e| format!("emptying {}: {e}", stage.display()))?;
    }
    let server = stage.join("server");
    std::fs::create_dir_all(&server).map_err(|e| format!("creating {}: {e}", server.display()))?;
    let manifest = manifest.replace(
        ALL_PLATFORMS,
        &format!(r#""platforms": ["{}"]"#, platform.os),
    );
    write(&stage.join("manifest.json"), manifest.as_bytes())?;
    for (from, to) in [
        ("icons/icon.png", "icon.png"),
        ("integrations/claude-code/LICENSE", "LICENSE"),
    ] {
        copy(&root().join(from), &stage.join(to))?;
    }
    let exe = if platform.os == "win32" {
        "tandem.exe"
    } else {
        "tandem"
    };
    let binary = server.join(exe);
    copy(&platform.binary, &binary)?;
    crate::app::set_executable(&binary)
}

fn write(path: &Path, bytes: &[u8]) -> Result {
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

pub(crate) fn copy(from: &Path, to: &Path) -> Result {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
