//! syscalls: `--syscalls` results, read at the syscall-exit stop of a creation or wait call:
//! a failed creation (which makes no fork event) and the child a wait call returned.

use super::{Engine, args, describe_creation, inspect, ptrace};
use crate::decode::wait::{WaitStatus, decode_wait_status};
use crate::event::{self, Errno, Event, IdType, Pid, WaitCall, WaitOptions};

impl Engine<'_> {
    /// `--syscalls`: a creation call failed, or a wait call returned.
    pub(super) fn on_syscall_exit(&mut self, tid: Pid) {
        let Some((nr, args)) = self.in_syscall.remove(&tid) else {
            return;
        };
        let Some(ret) = ptrace::syscall_return(tid) else {
            return;
        };
        let tgid = self.tasks.get(&tid).map_or(tid, |t| t.tgid);
        let time = self.now();
        let name = args::syscall_name(args::Arch::NATIVE, nr).unwrap_or("?");
        if let Some(call) = args::decode_creation_call(args::Arch::NATIVE, nr, &args) {
            // A successful creation was reported at its fork event; -ERESTART* retries.
            if !(-4095..0).contains(&ret) || (-516..=-512).contains(&ret) {
                return;
            }
            let decoded = describe_creation(tid, Some(call));
            self.emit(Event::CreateFailed(event::CreateFailed {
                time,
                pid: tid,
                tgid,
                syscall: decoded.syscall,
                flags: decoded.flags,
                exit_signal: decoded.exit_signal,
                errno: Errno(-ret as i32),
            }));
            return;
        }
        let call = match name {
            "waitid" => WaitCall::Waitid,
            "wait4" => WaitCall::Wait4,
            _ => return,
        };
        let waitid = call == WaitCall::Waitid;
        let (child, reaped) = if waitid {
            if ret != 0 {
                return;
            }
            // waitid returns 0 and fills a siginfo: si_pid at offset 16, si_code at 8.
            let Some(info) = inspect::read_memory(tid, args[2], 24).filter(|b| b.len() == 24)
            else {
                return;
            };
            let code = i32::from_ne_bytes(info[8..12].try_into().unwrap());
            let child = i32::from_ne_bytes(info[16..20].try_into().unwrap());
            let exited = [libc::CLD_EXITED, libc::CLD_KILLED, libc::CLD_DUMPED].contains(&code);
            (child, exited && args[3] & libc::WNOWAIT as u64 == 0)
        } else {
            if ret <= 0 {
                return;
            }
            let status = inspect::read_i32(tid, args[1]);
            let exited = status.is_none_or(|s| {
                matches!(
                    decode_wait_status(s),
                    WaitStatus::Exited(_) | WaitStatus::Signaled { .. }
                )
            });
            (ret as Pid, exited)
        };
        if child <= 0 {
            return;
        }
        let options_arg = if waitid { args[3] } else { args[2] };
        self.emit(Event::Wait(event::Wait {
            time,
            pid: tid,
            tgid,
            syscall: call,
            idtype: waitid.then_some(IdType(args[0] as u32)),
            id: if waitid {
                args[1] as i64
            } else {
                args[0] as i32 as i64
            },
            options: WaitOptions(options_arg & 0xffff_ffff),
            child,
            reaped,
        }));
    }
}
