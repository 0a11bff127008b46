//! creation: turns a creation call's registers and the creator's memory into a `create` event:
//! the clone flags, exit signal, stack, pointers, clone3's struct by size, and the values the
//! kernel wrote back (the tid at parent_tid, the pidfd number).

use super::inspect;
use crate::decode::args::CreationCall;
use crate::decode::clone3::{self, Clone3Args};
use crate::decode::flags::CSIGNAL;
use crate::event::{self, CloneFlags, Pid, Signo, Syscall};

/// The decoded arguments of a creation call, as far as the creator's memory lets us read them.
pub(super) fn describe_creation(creator: Pid, call: Option<CreationCall>) -> event::Create {
    let mut create = event::Create {
        pid: creator,
        tgid: creator,
        syscall: call.map_or(Syscall::Unknown, syscall_of),
        ..Default::default()
    };
    let has = |flags: u64, flag: libc::c_int| flags & flag as u64 != 0;
    // Fields whose value the creator's memory would not give: recorded as such, never as data.
    let mut unreadable: Vec<String> = Vec::new();
    match call {
        None => {}
        Some(CreationCall::Fork) => {
            create.exit_signal = Some(Signo::SIGCHLD);
        }
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
            // Pointers the kernel ignores without their flag are shown only with it, as strace does.
            if has(flags, libc::CLONE_PARENT_SETTID) || has(flags, libc::CLONE_PIDFD) {
                create.parent_tid = parent_tid;
            }
            if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
                create.child_tid = child_tid;
            }
            if has(flags, libc::CLONE_SETTLS) {
                create.tls = tls;
            }
            if has(flags, libc::CLONE_PARENT_SETTID) {
                create.parent_tid_value =
                    read_word(creator, parent_tid, "parent_tid_value", &mut unreadable);
            }
            if has(flags, libc::CLONE_PIDFD) {
                // clone() stores the pidfd where parent_tid points.
                create.pidfd_value = read_word(creator, parent_tid, "pidfd_value", &mut unreadable);
            }
        }
        Some(CreationCall::Clone3 { args: addr, size }) => {
            create.clone3_size = Some(size);
            create.clone3_args = addr;
            let bytes = inspect::read_memory(creator, addr, clone3::read_len(size));
            if bytes.is_none() && size >= clone3::CLONE_ARGS_SIZE_VER0 {
                // NULL or unmapped (the call fails with EFAULT): nothing below is data.
                unreadable.push("clone3_args".to_string());
            }
            let bytes = bytes.unwrap_or_default();
            if let Clone3Args::Decoded {
                args, nonzero_tail, ..
            } = clone3::decode_clone_args(&bytes)
            {
                let flags = args.flags;
                create.flags = CloneFlags(flags);
                create.exit_signal =
                    (args.exit_signal != 0).then_some(Signo(args.exit_signal as i32));
                create.stack = args.stack;
                create.stack_size = Some(args.stack_size);
                create.clone3_tail = nonzero_tail;
                if has(flags, libc::CLONE_PARENT_SETTID) {
                    create.parent_tid = args.parent_tid;
                    create.parent_tid_value = read_word(
                        creator,
                        args.parent_tid,
                        "parent_tid_value",
                        &mut unreadable,
                    );
                }
                if has(flags, libc::CLONE_CHILD_SETTID) || has(flags, libc::CLONE_CHILD_CLEARTID) {
                    create.child_tid = args.child_tid;
                }
                if has(flags, libc::CLONE_SETTLS) {
                    create.tls = args.tls;
                }
                if has(flags, libc::CLONE_PIDFD) {
                    create.pidfd = args.pidfd;
                    create.pidfd_value =
                        read_word(creator, args.pidfd, "pidfd_value", &mut unreadable);
                }
                if args.set_tid_size > 0 {
                    create.set_tid =
                        inspect::read_i32_array(creator, args.set_tid, args.set_tid_size as usize);
                    if create.set_tid.is_none() {
                        unreadable.push("set_tid".to_string());
                    }
                }
                if flags & (1 << 33) != 0 {
                    // CLONE_INTO_CGROUP: the cgroup field is a directory fd.
                    create.cgroup = Some(args.cgroup);
                }
            }
        }
    }
    create.unreadable = unreadable;
    create
}

/// The i32 the kernel wrote at `addr` in the creator, noting `name` as unreadable when it can't
/// be read.
fn read_word(creator: Pid, addr: u64, name: &str, unreadable: &mut Vec<String>) -> Option<i32> {
    let value = inspect::read_i32(creator, addr);
    if value.is_none() {
        unreadable.push(name.to_string());
    }
    value
}

/// The call's identity as the event names it (decode knows only numbers and arguments).
fn syscall_of(call: CreationCall) -> Syscall {
    match call {
        CreationCall::Fork => Syscall::Fork,
        CreationCall::Vfork => Syscall::Vfork,
        CreationCall::Clone { .. } => Syscall::Clone,
        CreationCall::Clone3 { .. } => Syscall::Clone3,
    }
}

/// Argv and paths are bytes; the record holds text. Valid UTF-8 passes unchanged; each invalid byte
/// becomes `\xNN`, so nothing is lost and nothing raw reaches a terminal through the record.
pub(super) fn text_from_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}
