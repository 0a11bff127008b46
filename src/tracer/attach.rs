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

/// Why the kernel refused to let us trace `pid`, from what can be read about both sides, and
/// only the remedies that could help. The kernel's checks (ptrace_may_access, Yama, LSMs) say
/// nothing of which one refused, so each is looked at in turn.
fn permission_denied(pid: Pid) -> String {
    let facts = AccessFacts::read(pid);
    let mut found = vec![format!(
        "process owned by uid {}, we are uid {}",
        facts.owner.map_or("?".into(), |u| u.to_string()),
        facts.our_uid
    )];
    found.push(if facts.we_have_cap {
        "we have CAP_SYS_PTRACE".into()
    } else {
        "we lack CAP_SYS_PTRACE".into()
    });
    found.push(match facts.scope {
        Some(scope) => format!("kernel.yama.ptrace_scope is {scope}"),
        None => "no Yama ptrace_scope".into(),
    });
    if facts.kernel_thread {
        found.push("it is a kernel thread".into());
    }
    if facts.dumpable == Some(false) {
        found.push("it is not dumpable (setuid, or prctl PR_SET_DUMPABLE 0)".into());
    }
    if facts.other_user_namespace {
        found.push("it is in another user namespace".into());
    }
    if let Some(label) = facts.lsm_label.as_deref() {
        found.push(format!("its security label is {label:?}"));
    }
    let same_user = facts.owner == Some(facts.our_uid);
    let mut help: Vec<String> = Vec::new();
    if facts.kernel_thread {
        help.push("kernel threads cannot be traced".into());
    } else if facts.scope == Some(3) {
        help.push(
            "ptrace_scope 3 forbids every attach until reboot: start the program under clonetrace instead"
                .into(),
        );
    } else if !facts.we_have_cap {
        if !same_user {
            help.push("run clonetrace as its owner, or as root (CAP_SYS_PTRACE)".into());
        } else if facts.dumpable == Some(false) {
            help.push("a non-dumpable process needs CAP_SYS_PTRACE (run as root)".into());
        } else if facts.scope == Some(2) {
            help.push("ptrace_scope 2 lets only CAP_SYS_PTRACE attach (run as root)".into());
        } else if facts.scope == Some(1) {
            help.push(
                "ptrace_scope 1 lets you attach only to your own descendants: run as root, set \
                 kernel.yama.ptrace_scope=0, or start the program under clonetrace"
                    .into(),
            );
        }
    } else if facts.other_user_namespace {
        help.push(
            "its user namespace is not ours, and our capabilities do not reach into it: attach \
             from inside that namespace (nsenter --user --target PID)"
                .into(),
        );
    } else if facts.lsm_label.is_some() {
        help.push("a security module confines it: its policy must allow ptrace".into());
    } else {
        help.push(format!(
            "none of the usual reasons applies: a security module may refuse it (active: {})",
            facts
                .lsms
                .as_deref()
                .unwrap_or("unknown, /sys/kernel/security/lsm is unreadable")
        ));
    }
    format!(
        "cannot trace {pid} ({}): permission denied; found: {}; {}",
        command_name(pid),
        found.join(", "),
        help.join("; ")
    )
}

/// What decides whether one process may trace another, as far as /proc shows it.
struct AccessFacts {
    /// The target's effective uid.
    owner: Option<u32>,
    our_uid: u32,
    we_have_cap: bool,
    scope: Option<u32>,
    kernel_thread: bool,
    /// /proc/PID belongs to root when the task is not dumpable (the kernel's task_dump_owner),
    /// so an owner of /proc/PID other than the task's uid tells it; `None` when we can't tell.
    dumpable: Option<bool>,
    other_user_namespace: bool,
    /// A confining LSM label (AppArmor/SELinux), when not "unconfined".
    lsm_label: Option<String>,
    lsms: Option<String>,
}

impl AccessFacts {
    fn read(pid: Pid) -> AccessFacts {
        use std::os::unix::fs::MetadataExt;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        // Uid: real, effective, saved, filesystem.
        let owner = field("Uid:").and_then(|u| u.split_whitespace().nth(1)?.parse().ok());
        let kernel_thread = field("Kthread:") == Some("1")
            || std::fs::read_link(format!("/proc/{pid}/exe")).is_err()
                && field("VmSize:").is_none();
        let proc_owner = std::fs::metadata(format!("/proc/{pid}"))
            .map(|m| m.uid())
            .ok();
        let dumpable = match (owner, proc_owner) {
            (Some(uid), Some(dir)) if uid != 0 => Some(uid == dir),
            _ => None,
        };
        let ours = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let cap_eff = ours
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
            .unwrap_or(0);
        let namespace = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/user")).ok();
        let other_user_namespace = match (namespace(&pid.to_string()), namespace("self")) {
            (Some(theirs), Some(ours)) => theirs != ours,
            _ => false,
        };
        let lsm_label = std::fs::read_to_string(format!("/proc/{pid}/attr/current"))
            .ok()
            .map(|l| l.trim_end_matches(['\n', '\0']).to_string())
            .filter(|l| !l.is_empty() && l != "unconfined" && !l.ends_with("unconfined_t"));
        AccessFacts {
            owner,
            our_uid: nix::unistd::geteuid().as_raw(),
            // CAP_SYS_PTRACE is capability 19 (linux/capability.h).
            we_have_cap: cap_eff & (1 << 19) != 0,
            scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                .ok()
                .and_then(|s| s.trim().parse().ok()),
            kernel_thread,
            dumpable,
            other_user_namespace,
            lsm_label,
            lsms: std::fs::read_to_string("/sys/kernel/security/lsm")
                .ok()
                .map(|s| s.trim().to_string()),
        }
    }
}
