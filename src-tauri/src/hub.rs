//! The hub, `tandem serve`, as the app runs it: the sidecar binary, its port, the log file, and
//! the `/health` check that tells a started hub from one that answers.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    sync::Arc,
};

use tandem_clients::HubReport;
use tandem_store::Home;

use crate::supervisor::ChildSpec;

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
        // Without the `\\?\` prefix on Windows: client entries name this path.
        .and_then(|exe| dunce::canonicalize(exe).ok())
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

/// `tandem serve --port PORT`, logging to `logs/hub.log` in the state folder, ready once the
/// hub on the port serves this home's folders and store as they resolve at that moment (a hub
/// left running by another installation or an older version answers too, and is not ours).
/// The child is given `TANDEM_HOME` only when this home was given one: it then resolves the
/// same folders from the same saved setting as the app.
pub fn spec(tandem: &Path, home: &Home, port: u16) -> ChildSpec {
    let mut spec = ChildSpec::new(tandem, &["serve", "--port", &port.to_string()]);
    if let Some(root) = home.explicit_root() {
        spec.env = vec![(
            OsString::from(tandem_store::paths::HOME_ENV),
            root.as_os_str().to_owned(),
        )];
    }
    spec.log = Some(home.logs_dir().join("hub.log"));
    let home = home.clone();
    spec.ready = Some(Arc::new(move || {
        let now = home
            .clone()
            .with_settings()
            .unwrap_or_else(|_| home.clone());
        HubReport::check(port).serves(&now)
    }));
    spec
}

#[cfg(test)]
mod tests {
    use std::{net::TcpListener, time::Duration};

    use super::*;

    #[test]
    fn the_hub_is_ready_only_when_the_port_serves_this_home() {
        use std::io::{Read, Write};

        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path().join("state"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let health = |serves: &tandem_store::Served| {
            let body = serde_json::json!({"status": "ok", "version": "0", "serves": serves});
            let body = body.to_string();
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let other = Home::at(dir.path().join("other"));
        let replies = [
            health(&home.served()),
            health(&other.served()),
            "HTTP/1.1 503 Busy\r\n\r\n".to_string(),
        ];
        let server = std::thread::spawn(move || {
            for reply in replies {
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
        let ready = spec(Path::new("/opt/tandem"), &home, port).ready.unwrap();
        assert!(ready(), "a hub serving this home");
        assert!(!ready(), "a hub serving another installation's folders");
        assert!(!ready(), "an error status");
        server.join().unwrap();
        assert!(!ready(), "nothing listens any more");
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
        let mut sup = Supervisor::start(
            spec(&crate::tests::built_tandem(), &home, port),
            backoff,
            move |s| {
                let _ = tx.send(s.clone());
            },
        )
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
            assert!(
                HubReport::check(port).serves(&home),
                "running means /health answers for this home"
            );
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
        assert_eq!(
            HubReport::check(port),
            HubReport::Down,
            "nothing answers after the stop"
        );
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
        // The default home is found by every process alike: the hub gets no variable that
        // would change what it resolves.
        let default = Home::unsaved();
        if default.explicit_root().is_none() {
            assert!(spec_env_is_empty(&default));
        }
    }

    fn spec_env_is_empty(home: &Home) -> bool {
        spec(Path::new("/opt/tandem"), home, 7399).env.is_empty()
    }
}
