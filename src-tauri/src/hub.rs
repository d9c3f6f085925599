//! The hub, `tandem serve`, as the app runs it: the sidecar binary, its port, the log file, and
//! the `/health` check that tells a started hub from one that answers.

use std::{
    ffi::OsString,
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use tandem_store::Home;

use crate::supervisor::ChildSpec;

/// The hub's port unless `TANDEM_HUB_PORT` says otherwise (`tandem serve`'s own default).
pub const DEFAULT_PORT: u16 = 7411;
pub const PORT_ENV: &str = "TANDEM_HUB_PORT";
/// Overrides the `tandem` binary the app runs and writes into client configs (tests, dev).
pub const BIN_ENV: &str = "TANDEM_BIN";

/// The `tandem` binary: `$TANDEM_BIN`, else the sidecar installed next to the app's own
/// executable (where every bundle format puts `bundle.externalBin`, and where `cargo` builds
/// it in development).
pub fn tandem_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os(BIN_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(bin);
    }
    let name = format!("tandem{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.canonicalize().ok())
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// An AppImage runs from a mount that exists only while it runs (`/tmp/.mount_…`): a client
/// config cannot name a binary there. When the app runs from one (`appdir`, the runtime's
/// `APPDIR`), its sidecar is copied to `$TANDEM_HOME/bin/` (again whenever the image brings a
/// different one) and the copy is what configs name and the hub runs.
pub fn outside_appimage(tandem: PathBuf, home: &Home, appdir: Option<&Path>) -> PathBuf {
    let Some(appdir) = appdir else {
        return tandem;
    };
    if !tandem.starts_with(appdir) {
        return tandem;
    }
    let Some(name) = tandem.file_name() else {
        return tandem;
    };
    let dest = home.state_dir().join("bin").join(name);
    match copy_if_changed(&tandem, &dest) {
        Ok(()) => dest,
        Err(e) => {
            log::error!(
                "copying {} to {}: {e}; client configs will name a path that lasts only while the AppImage runs",
                tandem.display(),
                dest.display()
            );
            tandem
        }
    }
}

fn copy_if_changed(from: &Path, to: &Path) -> std::io::Result<()> {
    let new = std::fs::read(from)?;
    if std::fs::read(to).ok().as_deref() == Some(&new[..]) {
        return Ok(());
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Beside it, then renamed over it: a client starting it meanwhile sees one or the other.
    let tmp = to.with_extension("new");
    std::fs::write(&tmp, &new)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    }
    std::fs::rename(&tmp, to)
}

pub fn port_from_env() -> u16 {
    std::env::var(PORT_ENV)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

/// `tandem serve --port PORT`, logging to `$TANDEM_HOME/logs/hub.log`, ready once `/health`
/// answers 200.
pub fn spec(tandem: &Path, home: &Home, port: u16) -> ChildSpec {
    let mut spec = ChildSpec::new(tandem, &["serve", "--port", &port.to_string()]);
    spec.env = vec![(
        OsString::from(tandem_store::paths::HOME_ENV),
        home.state_dir().as_os_str().to_owned(),
    )];
    spec.log = Some(home.logs_dir().join("hub.log"));
    spec.ready = Some(Arc::new(move || health_ok(port)));
    spec
}

/// Whether `GET http://127.0.0.1:PORT/health` answers 200.
pub fn health_ok(port: u16) -> bool {
    get_status(port, "/health").is_some_and(|status| status == 200)
}

fn get_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_millis(500);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::{net::TcpListener, time::Duration};

    use super::*;

    #[test]
    fn health_is_ok_only_when_the_port_answers_200() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for reply in ["HTTP/1.1 200 OK\r\n\r\n{}", "HTTP/1.1 503 Busy\r\n\r\n"] {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 256];
                let n = s.read(&mut buf).unwrap();
                assert!(
                    std::str::from_utf8(&buf[..n])
                        .unwrap()
                        .starts_with("GET /health ")
                );
                s.write_all(reply.as_bytes()).unwrap();
            }
        });
        assert!(health_ok(port));
        assert!(!health_ok(port));
        server.join().unwrap();
        assert!(!health_ok(port), "nothing listens any more");
    }

    /// The `tandem` built next to this test (`cargo xtask test` builds it first).
    fn built_tandem() -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).unwrap();
        let bin = dir.join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "{} is missing: run `cargo xtask test`",
            bin.display()
        );
        bin
    }

    #[test]
    fn the_real_hub_killed_five_times_comes_back_each_time_later_and_stops_without_a_trace() {
        use rustix::process::{Pid, Signal, kill_process, test_kill_process};

        use crate::supervisor::{Backoff, Phase, Supervisor};

        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            stable_after: Duration::from_secs(60),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let mut sup = Supervisor::start(spec(&built_tandem(), &home, port), backoff, move |s| {
            let _ = tx.send(s.clone());
        })
        .unwrap();
        let wait = |what: &dyn Fn(&crate::supervisor::ChildState) -> bool| loop {
            let s = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("no change in 30 s");
            if what(&s) {
                return s;
            }
        };
        let mut delays = Vec::new();
        let mut pids = Vec::new();
        for round in 0..=5 {
            let running = wait(&|s| s.phase == Phase::Running);
            assert!(health_ok(port), "running means /health answers");
            assert_eq!(running.restarts, round);
            let pid = running.pid.unwrap();
            pids.push(pid);
            if round == 5 {
                break;
            }
            let pid = Pid::from_raw(pid as i32).unwrap();
            kill_process(pid, Signal::KILL).unwrap();
            let waiting = wait(&|s| s.phase == Phase::Waiting);
            delays.push(waiting.restart_delay_ms.unwrap());
        }
        assert_eq!(delays, [100, 200, 400, 800, 1600], "growing delays");
        sup.stop();
        for pid in pids {
            assert!(test_kill_process(Pid::from_raw(pid as i32).unwrap()).is_err());
        }
        assert!(!health_ok(port), "nothing answers after the stop");
    }

    #[test]
    fn a_sidecar_inside_an_appimage_is_copied_out_and_the_copy_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let appdir = dir.path().join(".mount_TandemXYZ");
        let sidecar = appdir.join("usr/bin/tandem");
        std::fs::create_dir_all(sidecar.parent().unwrap()).unwrap();
        std::fs::write(&sidecar, b"v1").unwrap();
        let home = Home::at(dir.path().join("state"));
        let used = outside_appimage(sidecar.clone(), &home, Some(&appdir));
        assert_eq!(used, dir.path().join("state/bin/tandem"));
        assert_eq!(std::fs::read(&used).unwrap(), b"v1");
        // A newer image brings another sidecar: the copy follows.
        std::fs::write(&sidecar, b"v2").unwrap();
        assert_eq!(
            outside_appimage(sidecar.clone(), &home, Some(&appdir)),
            used
        );
        assert_eq!(std::fs::read(&used).unwrap(), b"v2");
        // Not from an AppImage (a .deb's /usr/bin/tandem): used where it is.
        assert_eq!(outside_appimage(sidecar.clone(), &home, None), sidecar);
        let elsewhere = dir.path().join("opt/tandem");
        assert_eq!(
            outside_appimage(elsewhere.clone(), &home, Some(&appdir)),
            elsewhere
        );
    }

    #[test]
    fn the_hub_runs_tandem_serve_on_its_port_with_the_same_home() {
        let home = Home::at("/tmp/t");
        let spec = spec(Path::new("/opt/tandem"), &home, 7399);
        assert_eq!(spec.program, Path::new("/opt/tandem"));
        assert_eq!(spec.args, ["serve", "--port", "7399"]);
        assert_eq!(spec.env[0].1, "/tmp/t");
        assert_eq!(spec.log.as_deref(), Some(Path::new("/tmp/t/logs/hub.log")));
    }
}
