//! A started child and whatever it starts, stopped as one. On Unix that is the child's process
//! group (the child leads it; see `orphan_guard`). On Windows it is a Job Object that kills every
//! process in it when its last handle closes: the app holds that handle, so the hub and its
//! children die with the app even when the app itself is killed, and a stop ends the whole tree
//! (Windows has no SIGTERM to ask first).

use std::process::Child;

pub(crate) struct Tree {
    pid: u32,
    #[cfg(windows)]
    job: Option<job::Job>,
}

impl Tree {
    /// The tree `child` leads (on Windows, the child is put in a new job here).
    pub(crate) fn of(child: &Child) -> Self {
        #[cfg(windows)]
        let job = job::Job::holding(child)
            .inspect_err(|e| log::warn!("the child runs outside a job object: {e}"))
            .ok();
        Self {
            pid: child.id(),
            #[cfg(windows)]
            job,
        }
    }

    /// The id of the child that leads the tree (its process group on Unix).
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Asks the tree to end (SIGTERM), or makes it (`kill`: SIGKILL). On Windows both end it at
    /// once.
    pub(crate) fn stop(&self, kill: bool) {
        #[cfg(unix)]
        signal_group(self.pid(), kill);
        #[cfg(windows)]
        {
            let _ = kill;
            match &self.job {
                Some(job) => job.terminate(),
                None => taskkill(self.pid()),
            }
        }
    }
}

/// SIGTERM (or SIGKILL when `kill`) to a process group.
#[cfg(unix)]
pub(crate) fn signal_group(pgid: u32, kill: bool) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let Some(pid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) else {
        return;
    };
    let sig = if kill { Signal::KILL } else { Signal::TERM };
    if let Err(e) = kill_process_group(pid, sig) {
        log::debug!("signalling process group {pid:?}: {e}");
    }
}

/// The fallback when no job could be made: end the process tree by its ids.
#[cfg(windows)]
fn taskkill(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/PID", &pid.to_string(), "/T", "/F"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

#[cfg(windows)]
#[allow(unsafe_code)]
mod job {
    use std::{io, os::windows::io::AsRawHandle, process::Child};

    use windows_sys::Win32::{
        Foundation::{CloseHandle, HANDLE},
        System::JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
            JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
            SetInformationJobObject, TerminateJobObject,
        },
    };

    /// A Job Object that kills its processes when closed.
    pub(super) struct Job(HANDLE);

    // SAFETY: a job handle is a kernel object handle, usable from any thread; Job only passes
    // it to thread-safe kernel calls and closes it once, in Drop.
    unsafe impl Send for Job {}
    // SAFETY: as above; no call through &Job mutates Rust-side state.
    unsafe impl Sync for Job {}

    impl Job {
        /// A new job, closed-means-killed, with `child` in it.
        pub(super) fn holding(child: &Child) -> io::Result<Self> {
            // SAFETY: both arguments may be null (default security, no name).
            let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if handle.is_null() {
                return Err(io::Error::last_os_error());
            }
            let job = Self(handle);
            // SAFETY: an all-zero JOBOBJECT_EXTENDED_LIMIT_INFORMATION is valid (no limits).
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let size = u32::try_from(std::mem::size_of_val(&info)).unwrap_or(u32::MAX);
            // SAFETY: the handle is a live job; `info` is the structure the class names and
            // lives across the call.
            let set = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    std::ptr::from_ref(&info).cast(),
                    size,
                )
            };
            if set == 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: the job is live and the child's process handle is open while `child`
            // is borrowed.
            let assigned = unsafe { AssignProcessToJobObject(job.0, child.as_raw_handle()) };
            if assigned == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(job)
        }

        /// Ends every process in the job.
        pub(super) fn terminate(&self) {
            // SAFETY: the handle is live until Drop.
            if unsafe { TerminateJobObject(self.0, 1) } == 0 {
                log::debug!("ending the job: {}", io::Error::last_os_error());
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is live and closed only here.
            unsafe { CloseHandle(self.0) };
        }
    }
}
