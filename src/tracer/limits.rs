//! limits: the resource limits that shape a creation or refuse it, read from the kernel for a
//! given task (prlimit, `/proc`): RLIMIT_STACK (glibc's default thread stack size), RLIMIT_NPROC
//! and the user's task count (EAGAIN), CAP_SYS_ADMIN (EPERM on namespace flags). Never calls
//! ptrace; every reader tolerates a vanished task.

use super::inspect;
use crate::event::{self, Errno, Pid, RLimit};

/// A task's limit `resource`, or `None` when it vanished.
pub fn read_rlimit(pid: Pid, resource: libc::__rlimit_resource_t) -> Option<RLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit with a NULL new limit only writes the old one into our struct.
    let ret = unsafe { libc::prlimit(pid, resource, std::ptr::null(), &mut limit) };
    if ret == 0 {
        return Some(RLimit::from_raw(limit.rlim_cur, limit.rlim_max));
    }
    // prlimit on another user's process needs CAP_SYS_RESOURCE, which a container's root may
    // lack; /proc/PID/limits says the same to whoever may read it.
    let name = match resource {
        libc::RLIMIT_STACK => "Max stack size",
        libc::RLIMIT_NPROC => "Max processes",
        _ => return None,
    };
    let text = String::from_utf8(inspect::read_proc(&format!("/proc/{pid}/limits"))?).ok()?;
    parse_limit(&text, name)
}

/// A limit's line of `/proc/PID/limits`: `Max processes   4   4   processes`.
fn parse_limit(text: &str, name: &str) -> Option<RLimit> {
    let mut words = text
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace();
    let value = |w: Option<&str>| match w? {
        "unlimited" => Some(None),
        n => n.parse::<u64>().ok().map(Some),
    };
    Some(RLimit {
        soft: value(words.next())?,
        hard: value(words.next())?,
    })
}

/// The namespace flags, each of which needs CAP_SYS_ADMIN (in the creator's user namespace)
/// unless CLONE_NEWUSER comes with them.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// Fills in what refused a failed creation: for EAGAIN the creator's RLIMIT_NPROC and how many
/// tasks its real user has; for EPERM with a namespace flag, whether it had CAP_SYS_ADMIN.
pub fn explain_failure(pid: Pid, failed: &mut event::CreateFailed) {
    match failed.errno {
        Errno(libc::EAGAIN) => {
            failed.rlimit_nproc = read_rlimit(pid, libc::RLIMIT_NPROC);
            failed.user_tasks = real_uid(pid).map(user_tasks);
        }
        Errno(libc::EPERM) if failed.flags.0 & NAMESPACE_FLAGS != 0 => {
            failed.cap_sys_admin = cap_sys_admin(pid);
        }
        _ => {}
    }
}

/// A field of `/proc/PID/status` by name, its first word.
fn status_field(pid: Pid, name: &str) -> Option<String> {
    let text = String::from_utf8(inspect::read_proc(&format!("/proc/{pid}/status"))?).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_string)
}

fn real_uid(pid: Pid) -> Option<u32> {
    status_field(pid, "Uid")?.parse().ok()
}

fn cap_sys_admin(pid: Pid) -> Option<bool> {
    let caps = u64::from_str_radix(&status_field(pid, "CapEff")?, 16).ok()?;
    // CAP_SYS_ADMIN is capability 21.
    Some(caps & (1 << 21) != 0)
}

/// The tasks (threads included) whose real uid is `uid`: what RLIMIT_NPROC is checked against.
/// A scan of /proc, made only when a creation has failed with EAGAIN.
fn user_tasks(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut count = 0;
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<Pid>().ok())
        else {
            continue;
        };
        if real_uid(pid) == Some(uid) {
            count += status_field(pid, "Threads")
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(1);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_limits_lines_parse() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max stack size            8388608              unlimited            bytes     \n\
                    Max processes             4                    4                    processes \n";
        assert_eq!(
            parse_limit(text, "Max stack size"),
            Some(RLimit {
                soft: Some(8 << 20),
                hard: None
            })
        );
        assert_eq!(
            parse_limit(text, "Max processes"),
            Some(RLimit {
                soft: Some(4),
                hard: Some(4)
            })
        );
    }

    #[test]
    fn our_own_limits_and_tasks_are_read() {
        let me = std::process::id() as Pid;
        let stack = read_rlimit(me, libc::RLIMIT_STACK).unwrap();
        let mut ours = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut ours) };
        assert_eq!(stack, RLimit::from_raw(ours.rlim_cur, ours.rlim_max));
        let uid = real_uid(me).unwrap();
        assert_eq!(uid, nix::unistd::getuid().as_raw());
        assert!(user_tasks(uid) >= 1);
    }
}
