use std::{sync::mpsc, time::Duration};

use rustix::process::{Pid, Signal, kill_process, test_kill_process};

use super::*;

const FAST: Backoff = Backoff {
    initial: Duration::from_millis(50),
    max: Duration::from_millis(800),
    stable_after: Duration::from_secs(60),
};

fn pid(p: u32) -> Pid {
    Pid::from_raw(i32::try_from(p).unwrap()).unwrap()
}

fn alive(p: u32) -> bool {
    // A zombie still answers; ours are reaped by the supervisor.
    test_kill_process(pid(p)).is_ok()
}

fn start(spec: ChildSpec, backoff: Backoff) -> (Supervisor, mpsc::Receiver<ChildState>) {
    let (tx, rx) = mpsc::channel();
    let sup = Supervisor::start(spec, backoff, move |s| {
        let _ = tx.send(s.clone());
    })
    .unwrap();
    (sup, rx)
}

fn wait_for(rx: &mpsc::Receiver<ChildState>, what: impl Fn(&ChildState) -> bool) -> ChildState {
    loop {
        let s = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("no state change within 10 s");
        if what(&s) {
            return s;
        }
    }
}

#[test]
fn the_delay_doubles_from_the_first_exit_and_stops_at_30_seconds() {
    let b = Backoff::HUB;
    let delays: Vec<u64> = (1..=8).map(|n| b.delay(n).as_millis() as u64).collect();
    assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert_eq!(b.delay(1000), Duration::from_secs(30));
}

#[test]
fn a_child_killed_five_times_in_a_row_is_restarted_each_time_with_a_growing_delay() {
    let (mut sup, rx) = start(ChildSpec::new("sleep", &["600"]), FAST);
    let mut pids = Vec::new();
    let mut delays = Vec::new();
    let mut gaps = Vec::new();
    let mut running = wait_for(&rx, |s| s.phase == Phase::Running);
    for _ in 0..5 {
        let p = running.pid.unwrap();
        assert!(alive(p));
        pids.push(p);
        let killed = Instant::now();
        kill_process(pid(p), Signal::KILL).unwrap();
        let waiting = wait_for(&rx, |s| s.phase == Phase::Waiting);
        assert_eq!(waiting.last_exit.as_deref(), Some("killed by signal 9"));
        delays.push(waiting.restart_delay_ms.unwrap());
        running = wait_for(&rx, |s| s.phase == Phase::Running);
        gaps.push(killed.elapsed());
    }
    assert_eq!(delays, [50, 100, 200, 400, 800]);
    for (gap, delay) in gaps.iter().zip(&delays) {
        assert!(gap.as_millis() as u64 >= *delay, "{gaps:?} vs {delays:?}");
    }
    assert_eq!(running.restarts, 5);
    assert_eq!(running.failures_in_a_row, 5);
    let last = running.pid.unwrap();
    assert!(!pids.contains(&last), "a new process each time");
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "the killed ones are reaped"
    );
    sup.stop();
    assert!(!alive(last));
    assert_eq!(sup.state().phase, Phase::Stopped);
}

#[test]
fn stopping_ends_the_child_and_everything_it_started() {
    // The child starts a grandchild in the background and waits for it.
    let spec = ChildSpec::new("sh", &["-c", "sleep 600 & wait"]);
    let (mut sup, rx) = start(spec, FAST);
    let running = wait_for(&rx, |s| s.phase == Phase::Running);
    let p = running.pid.unwrap();
    // Give the shell time to start its grandchild.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(running_in_group(p).len(), 2, "the shell and its sleep");
    let started = Instant::now();
    sup.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!alive(p));
    assert_eq!(
        running_in_group(p),
        Vec::<u32>::new(),
        "a process of the child's group is left"
    );
    assert_eq!(sup.state().phase, Phase::Stopped);
}

#[test]
fn a_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let spec = ChildSpec::new("sh", &["-c", "trap '' TERM; while :; do sleep 0.1; done"]);
    let (mut sup, rx) = start(spec, FAST);
    let p = wait_for(&rx, |s| s.phase == Phase::Running).pid.unwrap();
    std::thread::sleep(Duration::from_millis(200));
    sup.stop();
    assert!(!alive(p));
    assert_eq!(running_in_group(p), Vec::<u32>::new());
}

#[test]
fn a_program_that_cannot_start_is_retried_with_the_reason() {
    let spec = ChildSpec::new("/nonexistent/tandem", &["serve"]);
    let (mut sup, rx) = start(spec, FAST);
    let first = wait_for(&rx, |s| s.phase == Phase::Waiting);
    assert!(
        first
            .last_exit
            .as_deref()
            .unwrap()
            .starts_with("could not start /nonexistent/tandem"),
        "{first:?}"
    );
    let second = wait_for(&rx, |s| {
        s.phase == Phase::Waiting && s.failures_in_a_row == 2
    });
    assert_eq!(second.restart_delay_ms, Some(100));
    sup.stop();
}

#[test]
fn a_stable_run_starts_the_delay_over() {
    let backoff = Backoff {
        stable_after: Duration::from_millis(100),
        ..FAST
    };
    let spec = ChildSpec::new("sh", &["-c", "sleep 0.3; exit 3"]);
    let (mut sup, rx) = start(spec, backoff);
    for _ in 0..2 {
        let waiting = wait_for(&rx, |s| s.phase == Phase::Waiting);
        assert_eq!(waiting.failures_in_a_row, 1);
        assert_eq!(waiting.restart_delay_ms, Some(50));
        assert_eq!(waiting.last_exit.as_deref(), Some("exited with status 3"));
    }
    sup.stop();
}

#[test]
fn readiness_decides_when_a_started_child_counts_as_running() {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut spec = ChildSpec::new("sleep", &["600"]);
    let ready = flag.clone();
    spec.ready = Some(Arc::new(move || {
        ready.load(std::sync::atomic::Ordering::SeqCst)
    }));
    let (mut sup, rx) = start(spec, FAST);
    let starting = wait_for(&rx, |s| s.pid.is_some());
    assert_eq!(starting.phase, Phase::Starting);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sup.state().phase, Phase::Starting);
    flag.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for(&rx, |s| s.phase == Phase::Running);
    sup.stop();
}

#[test]
fn the_child_writes_to_its_log_file_not_to_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/hub.log");
    let mut spec = ChildSpec::new("sh", &["-c", "echo hello; echo oops >&2; sleep 600"]);
    spec.log = Some(log.clone());
    let (mut sup, rx) = start(spec, FAST);
    wait_for(&rx, |s| s.phase == Phase::Running);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "nothing logged");
        std::thread::sleep(Duration::from_millis(20));
    }
    sup.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("hello") && text.contains("oops"), "{text}");
}
