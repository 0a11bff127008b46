//! attach: seizes processes that are already running, every thread of each (rescanning
//! `/proc/PID/task` until no new thread appears), without sending anything they could see.
//! Explains refusals in one line: no such process, permission (ptrace_scope, owner), already traced.

use super::inspect;
use super::ptrace;
use crate::event::Pid;
use nix::errno::Errno;
use std::collections::BTreeSet;

/// A task seized at attach time.
#[derive(Debug, Clone, Copy)]
pub struct Seized {
    pub tid: Pid,
    pub tgid: Pid,
    /// The process's parent (tgid).
    pub parent: Pid,
}

/// Seizes every thread of `pid`. Threads created while we attach are caught by scanning again
/// until a scan finds nothing new (a thread created by an already-seized one is auto-attached).
pub fn seize_process(pid: Pid, options: libc::c_int) -> Result<Vec<Seized>, String> {
    let Some(status) = inspect::read_status(pid) else {
        return Err(format!("no such process: {pid}"));
    };
    if status.tgid != pid {
        return Err(format!(
            "{pid} is a thread of process {}: attach to the process",
            status.tgid
        ));
    }
    if status.tracer_pid != 0 {
        return Err(format!(
            "process {pid} is already traced by {} ({})",
            status.tracer_pid,
            command_name(status.tracer_pid)
        ));
    }
    let mut seized: BTreeSet<Pid> = BTreeSet::new();
    loop {
        let tids = thread_ids(pid);
        if tids.is_empty() && seized.is_empty() {
            return Err(format!("no such process: {pid}"));
        }
        let new: Vec<Pid> = tids.into_iter().filter(|t| !seized.contains(t)).collect();
        if new.is_empty() {
            break;
        }
        for tid in new {
            match ptrace::seize(tid, options) {
                Ok(()) => {
                    seized.insert(tid);
                }
                // The thread ended between the scan and the seize.
                Err(Errno::ESRCH) => {}
                Err(Errno::EPERM) if seized.is_empty() => return Err(permission_denied(pid)),
                Err(errno) => {
                    return Err(format!(
                        "cannot trace {pid}: ptrace(PTRACE_SEIZE): {}",
                        errno.desc()
                    ));
                }
            }
        }
    }
    Ok(seized
        .into_iter()
        .map(|tid| Seized {
            tid,
            tgid: pid,
            parent: status.ppid,
        })
        .collect())
}

/// Every process below `pid` (children of each of its threads, recursively), parents first.
pub fn descendants_of(pid: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        for tid in thread_ids(parent) {
            let children = std::fs::read_to_string(format!("/proc/{parent}/task/{tid}/children"))
                .unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if !found.contains(&child) {
                    found.push(child);
                    queue.push(child);
                }
            }
        }
    }
    found
}

fn thread_ids(pid: Pid) -> Vec<Pid> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut tids: Vec<Pid> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    tids
}

fn command_name(pid: Pid) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn permission_denied(pid: Pid) -> String {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(format!("/proc/{pid}"))
        .map(|m| m.uid().to_string())
        .unwrap_or_else(|_| "?".into());
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .map(|s| format!("kernel.yama.ptrace_scope is {}", s.trim()))
        .unwrap_or_else(|_| "no Yama ptrace_scope".into());
    format!(
        "cannot trace {pid} (owned by uid {owner}, we are uid {}): permission denied; {scope}; tracing another user's process needs CAP_SYS_PTRACE",
        nix::unistd::geteuid()
    )
}
