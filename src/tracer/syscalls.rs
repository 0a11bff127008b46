//! syscalls: `--syscalls` results, read at the syscall-exit stop of a creation or wait call:
//! a failed creation (which makes no fork event) and the child a wait call returned.

use super::namespaces::{Call, NamespaceWatch};
use super::table::TaskTable;
use super::{args, describe_creation, inspect, limits, ptrace};
use crate::decode::wait::{
    SIGINFO_CHILD_LEN, WaitStatus, decode_siginfo_child, decode_wait_args, decode_wait_status,
    siginfo_child_ended,
};
use crate::event::{self, Errno, Event, IdType, Pid, WaitCall, WaitOptions};

/// `--syscalls`: at a task's syscall-exit stop, the call it was in (noted at entry) has returned.
/// Returns the event it makes: a failed creation, or the child a wait call returned.
pub(super) fn on_syscall_exit(
    table: &mut TaskTable,
    watch: &mut NamespaceWatch,
    tid: Pid,
    time: f64,
) -> Vec<Event> {
    let Some((nr, args)) = table.leave_syscall(tid) else {
        return Vec::new();
    };
    let Some(ret) = ptrace::syscall_return(tid) else {
        return Vec::new();
    };
    let call = match args::syscall_name(args::Arch::NATIVE, nr) {
        Some("unshare") => Some(Call::Unshare { flags: args[0] }),
        Some("setns") => Some(Call::Setns {
            fd: args[0] as i32,
            nstype: args[1],
        }),
        _ => None,
    };
    let mut events = Vec::new();
    match call {
        Some(call) => {
            // A failed call changed nothing.
            if ret == 0
                && let Some(task) = table.task_mut(tid)
            {
                let tgid = task.tgid;
                watch.after_call(tid, tgid, &mut task.ns, call, time, &mut events);
            }
        }
        None => events.extend(creation_or_wait_exit(table, tid, nr, args, ret, time)),
    }
    events
}

/// The result of a creation or wait call.
fn creation_or_wait_exit(
    table: &TaskTable,
    tid: Pid,
    nr: u64,
    args: [u64; 6],
    ret: i64,
    time: f64,
) -> Option<Event> {
    let tgid = table.tgid_of(tid);
    if let Some(call) = args::decode_creation_call(args::Arch::NATIVE, nr, &args) {
        // A successful creation was reported at its fork event; -ERESTART* retries.
        if !(-4095..0).contains(&ret) || (-516..=-512).contains(&ret) {
            return None;
        }
        let decoded = describe_creation(tid, Some(call));
        let mut failed = event::CreateFailed {
            time,
            pid: tid,
            tgid,
            syscall: decoded.syscall,
            flags: decoded.flags,
            exit_signal: decoded.exit_signal,
            errno: Errno(-ret as i32),
            unreadable: decoded.unreadable,
            rlimit_nproc: None,
            user_tasks: None,
            cap_sys_admin: None,
        };
        limits::explain_failure(tid, &mut failed);
        return Some(Event::CreateFailed(failed));
    }
    let call = match args::syscall_name(args::Arch::NATIVE, nr)? {
        "waitid" => WaitCall::Waitid,
        "wait4" => WaitCall::Wait4,
        _ => return None,
    };
    let wait = decode_wait_args(call == WaitCall::Waitid, &args);
    let (child, reaped) = match (wait.infop, wait.status) {
        (Some(infop), _) => {
            // waitid returns 0 and fills a siginfo with the child.
            if ret != 0 {
                return None;
            }
            let info = inspect::read_memory(tid, infop, SIGINFO_CHILD_LEN)?;
            let (code, child) = decode_siginfo_child(&info)?;
            let nowait = wait.options & libc::WNOWAIT as u64 != 0;
            (child, siginfo_child_ended(code) && !nowait)
        }
        (None, status) => {
            if ret <= 0 {
                return None;
            }
            let status = status.and_then(|at| inspect::read_i32(tid, at));
            let exited = status.is_none_or(|s| {
                matches!(
                    decode_wait_status(s),
                    WaitStatus::Exited(_) | WaitStatus::Signaled { .. }
                )
            });
            (ret as Pid, exited)
        }
    };
    if child <= 0 {
        return None;
    }
    Some(Event::Wait(event::Wait {
        time,
        pid: tid,
        tgid,
        syscall: call,
        idtype: wait.idtype.map(IdType),
        id: wait.id,
        options: WaitOptions(wait.options),
        child,
        reaped,
    }))
}
