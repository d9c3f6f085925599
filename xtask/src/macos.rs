//! macOS, as far as a Linux machine allows: the four crates under the CLI type-checked (and
//! linted) for `aarch64-apple-darwin` on every test run. Their build scripts compile C (bundled
//! SQLite, `ring`), which needs a C compiler for Apple's ABI: Zig's, from the PyPI package
//! `ziglang`, behind a small wrapper that drops the flags cc-rs passes for Apple's own clang
//! (`-arch`, `--target=`, `-mmacosx-version-min=`) and gives Zig its own target. Linking needs
//! Apple's SDK, which no registry carries, so nothing for macOS is built or run here.

use std::path::{Path, PathBuf};

use crate::{Result, prereq, shell, target_dir};

pub const TARGET: &str = "aarch64-apple-darwin";
const ZIGLANG: &str = "ziglang==0.17.1";
const CRATES: &[&str] = &["tandem-store", "tandem-clients", "tandem-mcp", "tandem-cli"];

pub fn check() -> Result {
    prereq::rustup_target(TARGET)?;
    let (cc, ar) = zig()?;
    let leak = |p: PathBuf| -> &'static str {
        Box::leak(p.to_string_lossy().into_owned().into_boxed_str())
    };
    let mut args = vec!["clippy", "--target", TARGET];
    for krate in CRATES {
        args.extend(["-p", krate]);
    }
    args.extend(["--", "-D", "warnings"]);
    let mut cmd = shell::cargo(&args);
    cmd.env("CC_aarch64_apple_darwin", leak(cc))
        .env("AR_aarch64_apple_darwin", leak(ar));
    shell::step("check the CLI's crates for macOS (aarch64)", cmd)
}

/// Zig from PyPI in `target/zig`, and the `cc` and `ar` wrappers that run it.
fn zig() -> Result<(PathBuf, PathBuf)> {
    let dir = target_dir().join("zig");
    let site = dir.join("site");
    let python = python()?;
    if !site.join("ziglang").is_dir() {
        let mut pip = shell::command(
            &python,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                &site.to_string_lossy(),
                ZIGLANG,
            ],
        );
        pip.env("PIP_ROOT_USER_ACTION", "ignore");
        shell::step("fetch Zig (PyPI) as the C compiler for macOS", pip)?;
    }
    let run = format!(
        "ZIG_GLOBAL_CACHE_DIR='{cache}' PYTHONPATH='{site}' exec '{python}' -m ziglang",
        cache = dir.join("cache").display(),
        site = site.display(),
    );
    let cc = dir.join("cc");
    write_script(
        &cc,
        &format!(
            "#!/bin/sh\n\
             # cc for {TARGET} build scripts: Zig's clang, without the flags cc-rs passes for\n\
             # Apple's clang.\n\
             skip=\n\
             for a do\n\
             \x20 shift\n\
             \x20 if [ -n \"$skip\" ]; then skip=; continue; fi\n\
             \x20 case \"$a\" in\n\
             \x20   -arch) skip=1; continue ;;\n\
             \x20   --target=*|-mmacosx-version-min=*) continue ;;\n\
             \x20 esac\n\
             \x20 set -- \"$@\" \"$a\"\n\
             done\n\
             {run} cc -target aarch64-macos \"$@\"\n"
        ),
    )?;
    let ar = dir.join("ar");
    write_script(&ar, &format!("#!/bin/sh\n{run} ar \"$@\"\n"))?;
    Ok((cc, ar))
}

/// Python 3 with pip (installed with apt when missing).
fn python() -> Result<String> {
    let has_pip = |p: &str| shell::succeeds(shell::command(p, &["-m", "pip", "--version"]));
    if !has_pip("python3") {
        prereq::apt_packages(&["python3-pip"])?;
    }
    if has_pip("python3") {
        Ok("python3".to_string())
    } else {
        Err("python3 with pip is needed to fetch Zig for the macOS check".to_string())
    }
}

fn write_script(path: &Path, text: &str) -> Result {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    crate::app::set_executable(path)
}
