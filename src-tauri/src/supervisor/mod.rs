//! Keeps one child process running: starts it, restarts it with exponential backoff when it
//! exits, and stops it — with anything it started — leaving no orphan. Generic over the
//! command, so its logic is tested with any program; `hub.rs` points it at `tandem serve`.

pub mod state;
mod tree;

use std::{
    ffi::OsString,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Condvar, Mutex, MutexGuard, mpsc},
    thread::JoinHandle,
    time::{Duration, Instant},
};

pub use state::{ChildState, Phase};
use tree::Tree;

/// What to run.
#[derive(Clone)]
pub struct ChildSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// Where the child's stdout and stderr go (appended); nowhere when `None`. Never a pipe:
    /// nobody would drain it.
    pub log: Option<PathBuf>,
    /// Tells whether a started child answers yet; asked every 100 ms after each start until
    /// it says yes (then the phase is `Running`) or the child exits. Without one, a spawned
    /// child counts as running.
    pub ready: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl ChildSpec {
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Self {
        Self {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            log: None,
            ready: None,
        }
    }
}

/// How long to wait before each restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first exit.
    pub initial: Duration,
    /// The delay never grows past this.
    pub max: Duration,
    /// A run at least this long counts as stable: the next exit starts over from `initial`.
    pub stable_after: Duration,
}

impl Backoff {
    /// The hub's policy: 0.5 s, doubling, at most 30 s.
    pub const HUB: Backoff = Backoff {
        initial: Duration::from_millis(500),
        max: Duration::from_secs(30),
        stable_after: Duration::from_secs(60),
    };

    /// The delay before the restart that follows `failures` exits in a row (1 = the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// How long a stopped child gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);
const READY_EVERY: Duration = Duration::from_millis(100);

type Listener = Box<dyn Fn(&ChildState) + Send + Sync>;

struct Control {
    stopping: bool,
    pid: Option<u32>,
    /// The running child and what it started, to stop as one.
    tree: Option<Arc<Tree>>,
}

struct Shared {
    control: Mutex<Control>,
    wake: Condvar,
    state: Mutex<ChildState>,
    on_change: Listener,
}

impl Shared {
    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut ChildState)) {
        let snapshot = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut state);
            state.clone()
        };
        (self.on_change)(&snapshot);
    }

    /// Sleeps for `delay` unless a stop is asked for first; true when stopping.
    fn sleep_unless_stopped(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut control = self.control();
        while !control.stopping {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            control = self
                .wake
                .wait_timeout(control, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// A running supervisor. Dropping it stops the child.
pub struct Supervisor {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    done: Option<mpsc::Receiver<()>>,
}

impl Supervisor {
    /// Starts `spec` now and keeps it running. `on_change` hears every change of state, on the
    /// supervisor's thread.
    pub fn start(
        spec: ChildSpec,
        backoff: Backoff,
        on_change: impl Fn(&ChildState) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                stopping: false,
                pid: None,
                tree: None,
            }),
            wake: Condvar::new(),
            state: Mutex::new(ChildState::new()),
            on_change: Box::new(on_change),
        });
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tandem-supervisor".into())
            .spawn({
                let shared = shared.clone();
                move || {
                    supervise(&shared, &spec, backoff);
                    let _ = done_tx.send(());
                }
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
            done: Some(done),
        })
    }

    pub fn state(&self) -> ChildState {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the child (SIGTERM to its process group, SIGKILL after a grace period; on
    /// Windows its job ends) and the supervision; returns once the child is reaped and (on
    /// Linux) nothing of its group runs.
    pub fn stop(&mut self) {
        let tree = {
            let mut control = self.shared.control();
            control.stopping = true;
            control.tree.clone()
        };
        self.shared.wake.notify_all();
        if let Some(tree) = &tree {
            tree.stop(false);
        }
        if let Some(done) = self.done.take()
            && done.recv_timeout(STOP_GRACE).is_err()
        {
            let tree = self.shared.control().tree.clone();
            if let Some(tree) = tree {
                tree.stop(true);
            }
            let _ = done.recv_timeout(STOP_GRACE);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        #[cfg(target_os = "linux")]
        if let Some(tree) = tree {
            wait_group_gone(tree.pid());
        }
    }
}

/// A signal reaches a whole group at once, but its members take a moment to die: returns when
/// none of the group runs any more (or after the grace period).
#[cfg(target_os = "linux")]
fn wait_group_gone(pgid: u32) {
    let deadline = Instant::now() + STOP_GRACE;
    while !running_in_group(pgid).is_empty() && Instant::now() < deadline {
        tree::signal_group(pgid, true);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes of a group that still run. Zombies do not count: a grandchild whose parent died
/// is reparented to PID 1, which reaps when it pleases (in containers, sometimes never).
#[cfg(target_os = "linux")]
pub(crate) fn running_in_group(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state, ppid, pgrp
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            found.push(p);
        }
    }
    found
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn supervise(shared: &Arc<Shared>, spec: &ChildSpec, backoff: Backoff) {
    let mut failures = 0u32;
    loop {
        shared.update(|s| {
            s.enter(Phase::Starting);
            s.pid = None;
        });
        let started = Instant::now();
        // Spawn under the control lock: a stop either comes first (nothing is spawned) or
        // finds the pid to signal.
        let spawned = {
            let mut control = shared.control();
            if control.stopping {
                break;
            }
            let spawned = spawn(spec);
            if let Ok(child) = &spawned {
                control.pid = Some(child.id());
                control.tree = Some(Arc::new(Tree::of(child)));
            }
            spawned
        };
        let exit = match spawned {
            Ok(mut child) => {
                let pid = child.id();
                shared.update(|s| {
                    s.pid = Some(pid);
                    if spec.ready.is_none() {
                        s.enter(Phase::Running);
                    }
                });
                if let Some(ready) = spec.ready.clone() {
                    watch_readiness(shared.clone(), pid, ready);
                }
                let status = child.wait();
                {
                    let mut control = shared.control();
                    control.pid = None;
                    // On Windows, closing the job ends whatever the child left running.
                    control.tree = None;
                }
                match status {
                    Ok(status) => state::describe_exit(&status),
                    Err(e) => format!("could not be waited for: {e}"),
                }
            }
            Err(e) => format!("could not start {}: {e}", spec.program.display()),
        };
        if shared.control().stopping {
            break;
        }
        if started.elapsed() >= backoff.stable_after {
            failures = 0;
        }
        failures += 1;
        let delay = backoff.delay(failures);
        log::warn!("{} {exit}; restarting in {delay:?}", spec.program.display());
        shared.update(|s| {
            s.enter(Phase::Waiting);
            s.pid = None;
            s.failures_in_a_row = failures;
            s.restart_delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
            s.last_exit = Some(exit);
        });
        if shared.sleep_unless_stopped(delay) {
            break;
        }
        shared.update(|s| s.restarts += 1);
    }
    shared.update(|s| {
        s.enter(Phase::Stopped);
        s.pid = None;
    });
}

/// Asks `ready` every 100 ms until it says yes (→ `Running`) or `pid` is no longer the child.
fn watch_readiness(shared: Arc<Shared>, pid: u32, ready: Arc<dyn Fn() -> bool + Send + Sync>) {
    let spawned = std::thread::Builder::new()
        .name("tandem-ready".into())
        .spawn(move || {
            loop {
                let current = shared.control().pid == Some(pid);
                if !current {
                    return;
                }
                if ready() {
                    shared.update(|s| {
                        if s.pid == Some(pid) {
                            s.enter(Phase::Running);
                        }
                    });
                    return;
                }
                std::thread::sleep(READY_EVERY);
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not watch the child's readiness: {e}");
    }
}

fn spawn(spec: &ChildSpec) -> std::io::Result<Child> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    match &spec.log {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            cmd.stdout(file.try_clone()?).stderr(file);
        }
        None => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    orphan_guard(&mut cmd);
    cmd.spawn()
}

/// The child leads its own process group (so a stop reaches whatever it started) and, on
/// Linux, is sent SIGTERM by the kernel if the supervising thread dies with the app (a crash
/// or `kill -9` of the app must not leave the hub running).
#[cfg(unix)]
fn orphan_guard(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and only makes one prctl
    // system call, which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
                .map_err(std::io::Error::from)
        });
    }
}

/// On Windows the child's Job Object does this, once it is started ([`Tree::of`]).
#[cfg(not(unix))]
fn orphan_guard(_cmd: &mut Command) {}

#[cfg(test)]
mod tests;
