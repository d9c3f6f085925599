//! The tray app in xtask: its system packages, the `tandem` sidecar copy Tauri bundles, the
//! WebDriver tools for its end-to-end test, `run`, `bundle` (.deb and AppImage) and the check
//! that the .deb installs.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{Result, prereq, root, shell, target_dir};

/// What building a Tauri app needs on Debian/Ubuntu.
pub const BUILD_DEPS: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    "build-essential",
];
/// The WebDriver end-to-end test: WebKitWebDriver, a virtual display, a session bus.
pub const E2E_DEPS: &[&str] = &[
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    "dbus-x11",
    "libglib2.0-bin",
];
/// Packing the AppImage's file system.
pub const BUNDLE_DEPS: &[&str] = &["squashfs-tools", "file"];
/// `tauri-driver` from crates.io, pinned to 2.x.
const TAURI_DRIVER_VERSION: &str = "2.1.0";
/// The AppImage runtime ships inside this crates.io package (no download from elsewhere).
const APPIMAGE_CRATE: &str = "appimage@0.4.0";
const APPIMAGE_RUNTIME_SHA256: &str =
    "328e0d745c5c6817048c27bc3e8314871703f8f47ffa81a37cb06cd95a94b323";

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// The host's target triple, as `bundle.externalBin` names the sidecar.
pub fn host_triple() -> Result<String> {
    let out = shell::command("rustc", &["-vV"])
        .output()
        .map_err(|e| format!("running rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host triple".to_string())
}

/// Builds `tandem` and copies it to `src-tauri/binaries/tandem-<triple>`, where Tauri expects
/// the sidecar before the app builds (and from where it copies it next to the app). The copy is
/// replaced only when it differs, so that an unchanged sidecar rebuilds nothing.
pub fn sidecar(release: bool) -> Result<PathBuf> {
    let mut args = vec!["build", "-p", "tandem-cli"];
    if release {
        args.push("--release");
    }
    shell::step("build tandem (the app's sidecar)", shell::cargo(&args))?;
    let built = target_dir()
        .join(if release { "release" } else { "debug" })
        .join(exe("tandem"));
    place_sidecar(&built, &host_triple()?, std::env::consts::EXE_SUFFIX)
}

/// Copies a built `tandem` to `src-tauri/binaries/tandem-<triple><suffix>` (only when it
/// differs, so that an unchanged sidecar rebuilds nothing).
pub fn place_sidecar(built: &Path, triple: &str, suffix: &str) -> Result<PathBuf> {
    let dir = root().join("src-tauri/binaries");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let dest = dir.join(format!("tandem-{triple}{suffix}"));
    let new = std::fs::read(built).map_err(|e| format!("reading {}: {e}", built.display()))?;
    if std::fs::read(&dest).ok().as_deref() != Some(&new[..]) {
        let tmp = dest.with_extension("tmp");
        std::fs::write(&tmp, &new).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        set_executable(&tmp)?;
        std::fs::rename(&tmp, &dest).map_err(|e| format!("replacing {}: {e}", dest.display()))?;
    }
    Ok(dest)
}

#[cfg(unix)]
pub fn set_executable(path: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

#[cfg(not(unix))]
pub fn set_executable(_path: &Path) -> Result {
    Ok(())
}

/// `tauri-driver` (crates.io, pinned) in `target/tools/bin`, installed once.
pub fn tauri_driver() -> Result<PathBuf> {
    let tools = target_dir().join("tools");
    let bin = tools.join("bin").join(exe("tauri-driver"));
    let stamp = tools.join(format!(".tauri-driver-{TAURI_DRIVER_VERSION}"));
    if bin.exists() && stamp.exists() {
        return Ok(bin);
    }
    let root = tools.to_string_lossy().into_owned();
    let mut install = shell::cargo(&[
        "install",
        "tauri-driver",
        "--version",
        &format!("={TAURI_DRIVER_VERSION}"),
        "--locked",
        "--root",
        &root,
    ]);
    // Its own target folder: the workspace's would be locked by the build that runs us.
    install.env("CARGO_TARGET_DIR", tools.join("build"));
    shell::step("install tauri-driver", install)?;
    std::fs::write(&stamp, b"").map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    Ok(bin)
}

/// System packages and tools the app's tests need.
pub fn test_prereqs() -> Result {
    let mut packages: Vec<&str> = BUILD_DEPS.to_vec();
    packages.extend(E2E_DEPS);
    packages.extend(BUNDLE_DEPS);
    prereq::apt_packages(&packages)?;
    if cfg!(target_os = "linux") {
        tauri_driver()?;
    }
    Ok(())
}

/// `cargo xtask run`: the tray app (release) with its embedded defaults.
pub fn run() -> Result {
    prereq::apt_packages(BUILD_DEPS)?;
    sidecar(true)?;
    shell::step(
        "build the tray app",
        shell::cargo(&["build", "--release", "-p", "tandem-app"]),
    )?;
    let app = target_dir().join("release").join(exe("tandem-app"));
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        return Err(format!(
            "no display to show a tray icon on (DISPLAY is not set); the app is built: {}",
            app.display()
        ));
    }
    println!(
        "\nTandem is starting in the tray ({}).\n\
         Its menu has everything: Open Tandem…, Connect Clients…, Quit.\n",
        app.display()
    );
    let args: Vec<String> = std::env::args().skip(2).collect();
    let mut cmd = Command::new(&app);
    cmd.args(&args);
    shell::step("tray app", cmd)
}

/// `cargo xtask bundle`: the release app as a .deb and an AppImage. Returns the .deb.
/// `cargo xtask test` bundles the debug build instead (`release` false): the same packaging and
/// install checks without a second, release build of the whole Tauri tree (about 18 minutes
/// on two cores).
pub fn bundle(release: bool) -> Result<PathBuf> {
    let mut packages: Vec<&str> = BUILD_DEPS.to_vec();
    packages.extend(BUNDLE_DEPS);
    prereq::apt_packages(&packages)?;
    prereq::npm_packages()?;
    sidecar(release)?;
    let cache = appimage_tools()?;
    let cli = target_dir().join("npm/node_modules/@tauri-apps/cli/tauri.js");
    let cli = cli.to_string_lossy();
    let mut args = vec![&*cli, "build", "--ci", "--bundles", "deb,appimage"];
    if !release {
        args.push("--debug");
    }
    let mut tauri = shell::command("node", &args);
    tauri
        .current_dir(root().join("src-tauri"))
        .env("XDG_CACHE_HOME", &cache)
        .env("CARGO_TARGET_DIR", target_dir());
    let started = std::time::Instant::now();
    let profile = if release { "release" } else { "debug" };
    shell::step(
        &format!("tauri build ({profile}, .deb and AppImage)"),
        tauri,
    )?;
    println!("xtask: bundled in {:.0?}", started.elapsed());
    let bundles = target_dir().join(profile).join("bundle");
    let deb = newest(&bundles.join("deb"), "deb")?;
    let appimage = newest(&bundles.join("appimage"), "AppImage")?;
    println!("xtask: {}\nxtask: {}", deb.display(), appimage.display());
    Ok(deb)
}

fn newest(dir: &Path, ext: &str) -> Result<PathBuf> {
    std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("no .{ext} in {}", dir.display()))
}

/// Installs the .deb with dpkg, checks that the installed sidecar answers `--version` and that
/// the app is where the menu entry points, then removes the package again.
pub fn check_deb(deb: &Path) -> Result {
    let field = |name: &str| -> Result<String> {
        let out = shell::command("dpkg-deb", &["-f", &deb.to_string_lossy(), name])
            .output()
            .map_err(|e| format!("dpkg-deb: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let package = field("Package")?;
    shell::step(
        "install the .deb",
        shell::command("dpkg", &["-i", &deb.to_string_lossy()]),
    )?;
    let result = (|| {
        let out = shell::command("/usr/bin/tandem", &["--version"])
            .output()
            .map_err(|e| format!("running the installed /usr/bin/tandem: {e}"))?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || !version.starts_with("tandem ") {
            return Err(format!(
                "the installed sidecar answered {:?} ({})",
                version, out.status
            ));
        }
        println!("xtask: installed sidecar: {version}");
        for file in [
            "/usr/bin/tandem-app",
            "/usr/share/applications/Tandem.desktop",
            "/usr/lib/Tandem/claude-plugin/.claude-plugin/marketplace.json",
            "/usr/lib/Tandem/claude-plugin/integrations/claude-code/.claude-plugin/plugin.json",
        ] {
            if !Path::new(file).exists() {
                return Err(format!("the .deb installed no {file}"));
            }
        }
        check_packaged_plugin()
    })();
    shell::step(
        "remove the .deb again",
        shell::command("dpkg", &["-r", &package]),
    )?;
    result
}

/// The installed `tandem` finds the plugin marketplace the package carries, and its launcher is
/// executable: `tandem install --client claude-code --plugin --dry-run`, in a home of its own
/// with the pinned `claude` CLI on PATH, says what it would add.
fn check_packaged_plugin() -> Result {
    let launcher =
        Path::new("/usr/lib/Tandem/claude-plugin/integrations/claude-code/bin/tandem-launch");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(launcher)
            .map_err(|e| format!("{}: {e}", launcher.display()))?
            .permissions()
            .mode();
        if mode & 0o111 == 0 {
            return Err(format!(
                "the .deb installed {} not executable",
                launcher.display()
            ));
        }
    }
    let home = target_dir().join("deb-check-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        target_dir().join("npm/node_modules/.bin").display()
    );
    let out = shell::command(
        "/usr/bin/tandem",
        &[
            "install",
            "--client",
            "claude-code",
            "--plugin",
            "--dry-run",
        ],
    )
    .env_clear()
    .env("HOME", &home)
    .env("PATH", path)
    .output()
    .map_err(|e| format!("running the installed /usr/bin/tandem: {e}"))?;
    let _ = std::fs::remove_dir_all(&home);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || !text.contains("would copy the marketplace") {
        return Err(format!(
            "the installed tandem did not find the packaged plugin ({}):\n{text}",
            out.status
        ));
    }
    println!("xtask: the installed tandem finds the packaged Claude Code plugin");
    Ok(())
}

/// A stand-in `linuxdeploy` for Tauri's AppImage step, and the AppImage runtime, in a cache
/// folder of our own (`XDG_CACHE_HOME` for the Tauri CLI): the real tools are downloads from
/// GitHub, which CI cannot reach. Tauri still lays out the AppDir (the app, the sidecar, the
/// .desktop file, icons, WebKit's helper processes); the stand-in packs it with `mksquashfs`
/// behind the runtime from the `appimage` crate on crates.io. What it does not do is copy the
/// GTK and WebKitGTK libraries in: this AppImage uses the system's.
fn appimage_tools() -> Result<PathBuf> {
    let cache = target_dir().join("tauri-cache");
    let tools = cache.join("tauri");
    std::fs::create_dir_all(&tools).map_err(|e| format!("creating {}: {e}", tools.display()))?;
    let runtime = tools.join("appimage-runtime-x86_64");
    if !runtime.exists() {
        shell::step(
            "fetch the AppImage runtime (crates.io)",
            shell::cargo(&["info", APPIMAGE_CRATE, "--quiet"]),
        )?;
        let found = find_crate_file("appimage-0.4.0", "assets/runtime-x86_64")?;
        let bytes =
            std::fs::read(&found).map_err(|e| format!("reading {}: {e}", found.display()))?;
        let digest = sha256(&bytes)?;
        if digest != APPIMAGE_RUNTIME_SHA256 {
            return Err(format!(
                "{} has sha256 {digest}, not the pinned one",
                found.display()
            ));
        }
        std::fs::write(&runtime, bytes)
            .map_err(|e| format!("writing {}: {e}", runtime.display()))?;
    }
    // The stand-in is xtask itself (an ELF: Tauri zeroes bytes 8–10 of the file, harmless
    // there, fatal to a script). Read through /proc: the workspace build of `cargo xtask test`
    // may have replaced the file this process started from.
    let me = Path::new("/proc/self/exe");
    for name in LINUXDEPLOY_NAMES {
        let linuxdeploy = tools.join(name);
        std::fs::copy(me, &linuxdeploy).map_err(|e| format!("copying xtask: {e}"))?;
        set_executable(&linuxdeploy)?;
    }
    let apprun = tools.join("AppRun-x86_64");
    std::fs::write(&apprun, APPRUN).map_err(|e| format!("writing {}: {e}", apprun.display()))?;
    set_executable(&apprun)?;
    for plugin in [
        "linuxdeploy-plugin-gtk.sh",
        "linuxdeploy-plugin-gstreamer.sh",
        "linuxdeploy-plugin-appimage.AppImage",
    ] {
        let path = tools.join(plugin);
        std::fs::write(
            &path,
            "#!/bin/sh\n# unused: the stand-in linuxdeploy packs the AppDir itself\n",
        )
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
        set_executable(&path)?;
    }
    Ok(cache)
}

/// The names the Tauri CLI looks for linuxdeploy under: the release it pins is part of the name
/// (`07333c6` for @tauri-apps/cli 2.12.5, pinned in tests/js/package.json); older CLIs use the
/// bare name.
const LINUXDEPLOY_NAMES: [&str; 2] = [
    "linuxdeploy-07333c6-x86_64.AppImage",
    "linuxdeploy-x86_64.AppImage",
];

const APPRUN: &str = r#"#!/bin/sh
# AppImage entry point: run the app from inside the image.
HERE="$(dirname "$(readlink -f "$0")")"
export PATH="$HERE/usr/bin:$PATH"
exec "$HERE/usr/bin/tandem-app" "$@"
"#;

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

fn find_crate_file(krate: &str, file: &str) -> Result<PathBuf> {
    let src = cargo_home().join("registry/src");
    std::fs::read_dir(&src)
        .map_err(|e| format!("reading {}: {e}", src.display()))?
        .flatten()
        .map(|index| index.path().join(krate).join(file))
        .find(|p| p.exists())
        .ok_or_else(|| format!("{krate}/{file} is not in {}", src.display()))
}

fn sha256(bytes: &[u8]) -> Result<String> {
    let mut child = shell::command("sha256sum", &["-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("sha256sum: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(bytes)
            .map_err(|e| format!("sha256sum: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// When Tauri runs xtask as `linuxdeploy --appimage-extract-and-run … --appdir DIR …` with
/// `OUTPUT=file.AppImage`: packs DIR into an AppImage.
pub fn is_linuxdeploy() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .is_some_and(|n| n.starts_with("linuxdeploy"))
}

pub fn linuxdeploy(args: &[String]) -> Result {
    let appdir = args
        .iter()
        .position(|a| a == "--appdir")
        .and_then(|i| args.get(i + 1))
        .ok_or("linuxdeploy stand-in: no --appdir")?;
    let output = std::env::var_os("OUTPUT").ok_or("linuxdeploy stand-in: no OUTPUT")?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let runtime = me
        .parent()
        .map(|d| d.join("appimage-runtime-x86_64"))
        .ok_or("linuxdeploy stand-in: no folder")?;
    let squashfs = PathBuf::from(&output).with_extension("squashfs");
    let _ = std::fs::remove_file(&squashfs);
    shell::step(
        "mksquashfs (AppDir)",
        shell::command(
            "mksquashfs",
            &[
                appdir,
                &squashfs.to_string_lossy(),
                "-root-owned",
                "-noappend",
                "-no-progress",
                "-comp",
                "gzip",
            ],
        ),
    )?;
    let mut image =
        std::fs::read(&runtime).map_err(|e| format!("reading {}: {e}", runtime.display()))?;
    image.extend(std::fs::read(&squashfs).map_err(|e| format!("reading squashfs: {e}"))?);
    let out = PathBuf::from(&output);
    std::fs::write(&out, image).map_err(|e| format!("writing {}: {e}", out.display()))?;
    set_executable(&out)?;
    let _ = std::fs::remove_file(&squashfs);
    Ok(())
}

/// `cargo xtask bench app`: the release app's idle cost under Xvfb — CPU over 60 s and memory
/// (private `RssAnon`, total RSS) in the tray only, then with its window open (opened the way a
/// second launch opens it).
pub fn bench() -> Result {
    let mut packages: Vec<&str> = BUILD_DEPS.to_vec();
    packages.extend(E2E_DEPS);
    prereq::apt_packages(&packages)?;
    let tandem = sidecar(true)?;
    shell::step(
        "build the tray app (release)",
        shell::cargo(&["build", "--release", "-p", "tandem-app"]),
    )?;
    let app = target_dir().join("release").join(exe("tandem-app"));
    let work = target_dir().join("bench/app");
    let _ = std::fs::remove_dir_all(&work);
    let state = work.join("state");
    let home = work.join("home");
    for dir in [&state, &home] {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(state.join("app-welcomed"), "").map_err(|e| e.to_string())?;
    let display = Xvfb::start()?;
    let env: Vec<(String, String)> = vec![
        ("DISPLAY".into(), display.name.clone()),
        ("TANDEM_HOME".into(), state.display().to_string()),
        ("HOME".into(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME".into(),
            home.join(".local/share").display().to_string(),
        ),
        (
            "XDG_CACHE_HOME".into(),
            home.join(".cache").display().to_string(),
        ),
        ("TANDEM_BIN".into(), tandem.display().to_string()),
        ("TANDEM_HUB_PORT".into(), "17345".into()),
    ];
    let bus = dbus_launch(&display.name)?;
    let run = |args: &[&str]| -> Result<std::process::Child> {
        let mut cmd = Command::new(&app);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .envs(bus.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn()
            .map_err(|e| format!("starting {}: {e}", app.display()))
    };
    let mut child = run(&[])?;
    let pid = child.id();
    let result = (|| -> Result {
        std::thread::sleep(std::time::Duration::from_secs(10));
        let closed = measure(pid, 60)?;
        println!("xtask: window closed: {closed}");
        // A second launch opens the first one's window (single instance).
        let mut second = run(&["--open"])?;
        let _ = second.wait();
        std::thread::sleep(std::time::Duration::from_secs(10));
        let open = measure(pid, 60)?;
        println!("xtask: window open:   {open}");
        Ok(())
    })();
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    if let Some((_, pid)) = bus.iter().find(|(k, _)| k == "DBUS_SESSION_BUS_PID") {
        let _ = Command::new("kill").arg(pid).status();
    }
    drop(display);
    result
}

pub(crate) struct Xvfb {
    child: std::process::Child,
    pub(crate) name: String,
}

impl Xvfb {
    pub(crate) fn start() -> Result<Self> {
        let number = 200 + std::process::id() % 300;
        let child = Command::new("Xvfb")
            .args([
                &format!(":{number}"),
                "-screen",
                "0",
                "1280x860x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting Xvfb: {e}"))?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        for _ in 0..200 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(Self {
            child,
            name: format!(":{number}"),
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dbus_launch(display: &str) -> Result<Vec<(String, String)>> {
    let out = Command::new("dbus-launch")
        .arg("--sh-syntax")
        .env("DISPLAY", display)
        .output()
        .map_err(|e| format!("dbus-launch: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.trim_end_matches(';').trim_matches('\'').to_string(),
            )
        })
        .collect())
}

/// The app and the processes it started (WebKit's), without the hub it supervises.
fn family(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        for child in children
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            let comm = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            if comm.trim() != "tandem" {
                all.push(child);
            }
        }
        i += 1;
    }
    all
}

fn ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the command name.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn measure(pid: u32, seconds: u64) -> Result<String> {
    let clock_ticks = 100.0; // USER_HZ on Linux
    let procs = family(pid);
    let before: u64 = procs.iter().map(|p| ticks(*p)).sum();
    let app_before = ticks(pid);
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    if !PathBuf::from(format!("/proc/{pid}")).exists() {
        return Err("the app exited during the measurement".into());
    }
    let procs = family(pid);
    let after: u64 = procs.iter().map(|p| ticks(*p)).sum();
    let cpu = (after.saturating_sub(before)) as f64 / clock_ticks / seconds as f64 * 100.0;
    let app_cpu =
        (ticks(pid).saturating_sub(app_before)) as f64 / clock_ticks / seconds as f64 * 100.0;
    let mb = |kb: u64| kb as f64 / 1024.0;
    let anon: u64 = procs.iter().map(|p| status_kb(*p, "RssAnon:")).sum();
    let rss: u64 = procs.iter().map(|p| status_kb(*p, "VmRSS:")).sum();
    Ok(format!(
        "CPU {app_cpu:.2} % (app) / {cpu:.2} % (app + {} WebKit processes) over {seconds} s; \
         app RssAnon {:.1} MB, RSS {:.1} MB; all: RssAnon {:.1} MB, RSS {:.1} MB",
        procs.len() - 1,
        mb(status_kb(pid, "RssAnon:")),
        mb(status_kb(pid, "VmRSS:")),
        mb(anon),
        mb(rss),
    ))
}
