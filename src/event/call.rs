//! event::call: a creation call's arguments (its registers, clone3's struct) as the fields of a
//! `create`, the same for both engines. Pure: reading the memory behind the pointers, and the
//! values the kernel wrote back there, is each engine's business.

use super::{CloneFlags, Create, Signo, Syscall};
use crate::decode::args::CreationCall;
use crate::decode::clone3::CloneArgs;
use crate::decode::flags::CSIGNAL;

fn has(flags: u64, flag: libc::c_int) -> bool {
    flags & flag as u64 != 0
}

/// What a creation call's registers say: the syscall, and for fork, vfork and clone their flags,
/// exit signal, stack and pointers; for clone3 the struct's size and address (its contents go
/// through [`clone3_fields`]). `None`: the call was not seen (`unknown`).
pub fn create_of_call(call: Option<CreationCall>) -> Create {
    let mut create = Create {
        syscall: call.map_or(Syscall::Unknown, syscall_of),
        ..Default::default()
    };
    match call {
        None => {}
        Some(CreationCall::Fork) => create.exit_signal = Some(Signo::SIGCHLD),
        Some(CreationCall::Vfork) => {
            // vfork is clone(CLONE_VM|CLONE_VFORK|SIGCHLD) in the kernel.
            create.flags = CloneFlags(CloneFlags::VM | CloneFlags::VFORK);
            create.exit_signal = Some(Signo::SIGCHLD);
        }
        Some(CreationCall::Clone {
            flags,
            stack,
            parent_tid,
            child_tid,
            tls,
        }) => {
            create.flags = CloneFlags(flags & !CSIGNAL);
            let exit_signal = (flags & CSIGNAL) as i32;
            create.exit_signal = (exit_signal != 0).then_some(Signo(exit_signal));
            create.stack = stack;
            // Pointers the kernel ignores without their flag are shown only with it, as strace
            // does.
            if has(flags, libc::CLONE_PARENT_SETTID) || has(flags, libc::CLONE_PIDFD) {
                create.parent_tid = parent_tid;
            }
            if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
                create.child_tid = child_tid;
            }
            if has(flags, libc::CLONE_SETTLS) {
                create.tls = tls;
            }
        }
        Some(CreationCall::Clone3 { args, size }) => {
            create.clone3_size = Some(size);
            create.clone3_args = args;
        }
    }
    create
}

/// What clone3's struct says, pointers shown only with their flag (as strace does);
/// `nonzero_tail`: bytes past the known struct are not zero.
pub fn clone3_fields(create: &mut Create, args: &CloneArgs, nonzero_tail: bool) {
    let flags = args.flags;
    create.flags = CloneFlags(flags);
    create.exit_signal = (args.exit_signal != 0).then_some(Signo(args.exit_signal as i32));
    create.stack = args.stack;
    create.stack_size = Some(args.stack_size);
    create.clone3_tail = nonzero_tail;
    if has(flags, libc::CLONE_PARENT_SETTID) {
        create.parent_tid = args.parent_tid;
    }
    if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
        create.child_tid = args.child_tid;
    }
    if has(flags, libc::CLONE_SETTLS) {
        create.tls = args.tls;
    }
    if has(flags, libc::CLONE_PIDFD) {
        create.pidfd = args.pidfd;
    }
    if flags & CloneFlags::INTO_CGROUP != 0 {
        // CLONE_INTO_CGROUP: the cgroup field is a directory fd.
        create.cgroup = Some(args.cgroup);
    }
}

/// The call's identity as the event names it (decode knows only numbers and arguments).
pub fn syscall_of(call: CreationCall) -> Syscall {
    match call {
        CreationCall::Fork => Syscall::Fork,
        CreationCall::Vfork => Syscall::Vfork,
        CreationCall::Clone { .. } => Syscall::Clone,
        CreationCall::Clone3 { .. } => Syscall::Clone3,
    }
}
