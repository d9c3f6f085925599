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

/// The hub's port unless `TANDEM_HUB_PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 7345;
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
    use std::net::TcpListener;

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
                assert!(std::str::from_utf8(&buf[..n]).unwrap().starts_with("GET /health "));
                s.write_all(reply.as_bytes()).unwrap();
            }
        });
        assert!(health_ok(port));
        assert!(!health_ok(port));
        server.join().unwrap();
        assert!(!health_ok(port), "nothing listens any more");
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
