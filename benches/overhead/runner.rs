//! Runs one command and times it: optional pinning to CPU 0, a watchdog, and the top
//! process's peak RSS read at its exit stop.
//!
//! The top process is the tracer (clonetrace, the floor, strace, pete) or, untraced, the
//! workload itself. Pinning is set in the child before exec, so the tracer and every tracee it
//! creates inherit it, exactly like `taskset -c 0 CMD` but without timing taskset's own exec.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How to run one command.
pub struct Spec<'a> {
    pub argv: &'a [OsString],
    /// Restrict the whole process tree to CPU 0.
    pub pinned: bool,
    /// Where the command's stderr goes; `None` is /dev/null (timed runs: a tracer's live
    /// lines then cost their formatting and write, not a file's growth).
    pub stderr: Option<&'a Path>,
    /// Read the top process's VmHWM at its exit (costs a few extra stops: only for untimed runs).
    pub measure_rss: bool,
    pub timeout: Duration,
}

/// What one run gave.
pub struct Outcome {
    pub elapsed: Duration,
    /// `None` when the command exited 0; otherwise how it ended.
    pub failure: Option<String>,
    /// The top process's peak resident set (VmHWM) in KiB, when asked for.
    pub hwm_kib: Option<u64>,
}

/// Runs `spec` to completion (or until its watchdog kills its whole process group).
pub fn run(spec: &Spec) -> std::io::Result<Outcome> {
    let mut command = Command::new(&spec.argv[0]);
    command
        .args(&spec.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match spec.stderr {
        Some(path) => command.stderr(File::create(path)?),
        None => command.stderr(Stdio::null()),
    };
    let pinned = spec.pinned;
    // SAFETY: only async-signal-safe calls (setpgid, sched_setaffinity) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // Its own process group, so that the watchdog can kill tracer and tracees at once.
            libc::setpgid(0, 0);
            if pinned {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }

    let (done, watchdog_rx) = mpsc::channel::<()>();
    let (pid_tx, pid_rx) = mpsc::channel::<libc::pid_t>();
    let timeout = spec.timeout;
    // Started before the clock, so that its creation is not timed.
    let watchdog = std::thread::spawn(move || {
        let Ok(pid) = pid_rx.recv() else { return false };
        if let Err(mpsc::RecvTimeoutError::Timeout) = watchdog_rx.recv_timeout(timeout) {
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            return true;
        }
        false
    });

    let start = Instant::now();
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let _ = pid_tx.send(pid);
    let (status, hwm_kib) = if spec.measure_rss {
        wait_reading_hwm(pid)
    } else {
        (wait_plain(pid), None)
    };
    let elapsed = start.elapsed();
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);

    let failure = if timed_out {
        Some(format!("killed after {} s", timeout.as_secs()))
    } else {
        describe_failure(status)
    };
    Ok(Outcome {
        elapsed,
        failure,
        hwm_kib,
    })
}

fn wait_plain(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    loop {
        let ret = unsafe { libc::waitpid(pid, &mut status, 0) };
        if ret == pid {
            return status;
        }
        if ret < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            panic!("waitpid {pid}: {}", std::io::Error::last_os_error());
        }
    }
}

/// Seizes the (already running) top process with only PTRACE_O_TRACEEXIT and reads its
/// /proc status at the exit stop: the last moment its memory is still there, so VmHWM is the
/// true peak. Unlike `ru_maxrss` of a wait, this counts the tracer alone, not the tracees it
/// reaped. Its children are not followed (no fork options), so the tracer keeps tracing them;
/// a tracee of ours may itself be a tracer.
fn wait_reading_hwm(pid: libc::pid_t) -> (libc::c_int, Option<u64>) {
    let options = libc::PTRACE_O_TRACEEXIT as libc::c_long;
    let seized = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, options) } == 0;
    if !seized {
        return (wait_plain(pid), None);
    }
    let mut hwm = None;
    loop {
        let mut status = 0;
        let ret = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if ret < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            panic!("waitpid {pid}: {}", std::io::Error::last_os_error());
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return (status, hwm);
        }
        let signal = libc::WSTOPSIG(status);
        let (request, data) = match (status >> 16) & 0xff {
            libc::PTRACE_EVENT_EXIT => {
                hwm = read_hwm_kib(pid);
                (libc::PTRACE_CONT, 0)
            }
            libc::PTRACE_EVENT_STOP => (libc::PTRACE_LISTEN, 0),
            // A signal for the tracer itself (SIGCHLD when it does not block it): deliver it.
            _ => (libc::PTRACE_CONT, signal),
        };
        unsafe { libc::ptrace(request, pid, 0, data as libc::c_long) };
    }
}

fn read_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn describe_failure(status: libc::c_int) -> Option<String> {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            code => Some(format!("exit {code}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Some(format!("wait status {status:#x}"))
    }
}
