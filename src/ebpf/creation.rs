//! ebpf::creation: a creation call's raw words and bytes, as the BPF side copied them at the
//! syscall's entry, decoded into a `create` with the same `decode` tables the ptrace engine uses.
//! Pure: it reads no memory (the BPF side did), and the values the kernel writes back after the
//! creation tracepoint (`parent_tid_value`, `pidfd_value`) stay unknown (`None`).

use super::record::RawCall;
use crate::decode::args::{self, CreationCall};
use crate::decode::clone3::{self, Clone3Args};
use crate::event;

/// The call's decoded arguments: `syscall`, `flags`, `exit_signal` and the pointers; `Unknown`
/// when no call of the creator's was seen (a kernel thread, an io_uring worker).
pub fn describe(call: &RawCall) -> event::Create {
    let decoded = (call.nr != u32::MAX)
        .then(|| args::decode_creation_call(args::Arch::NATIVE, u64::from(call.nr), &call.args))
        .flatten();
    let mut create = event::call::create_of_call(decoded);
    if let Some(CreationCall::Clone3 { size, .. }) = decoded {
        let copied = (call.clone3_read as usize).min(call.clone3.len());
        if copied == 0 && size >= clone3::CLONE_ARGS_SIZE_VER0 {
            create.unreadable.push("clone3_args".to_string());
        }
        let len = clone3::read_len(size).min(copied);
        if let Clone3Args::Decoded {
            args, nonzero_tail, ..
        } = clone3::decode_clone_args(&call.clone3[..len])
        {
            // Bytes past the 88 the BPF side copies are not seen: a tail there goes unnoticed.
            event::call::clone3_fields(&mut create, &args, nonzero_tail);
            if args.set_tid_size > 0 {
                match call.set_tid_read {
                    n if n as u64 == args.set_tid_size && (n as usize) <= call.set_tid.len() => {
                        create.set_tid = Some(call.set_tid[..n as usize].to_vec());
                    }
                    _ => create.unreadable.push("set_tid".to_string()),
                }
            }
        }
    }
    create
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::flags::CSIGNAL;
    use crate::event::{Signo, Syscall};

    fn raw(nr: u32, args: [u64; 6]) -> RawCall {
        RawCall {
            nr,
            clone3_read: 0,
            args,
            clone3: [0; 88],
            set_tid: [0; 8],
            set_tid_read: 0,
            pad: 0,
        }
    }

    #[test]
    fn glibc_fork_is_clone_with_its_exit_signal_split_off() {
        let flags = (libc::CLONE_CHILD_CLEARTID | libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u64;
        let c = describe(&raw(56, [flags, 0, 0, 0x7f00, 0, 0]));
        assert_eq!(c.syscall, Syscall::Clone);
        assert_eq!(c.exit_signal, Some(Signo::SIGCHLD));
        assert_eq!(c.flags.0, flags & !CSIGNAL);
        assert_eq!(c.child_tid, 0x7f00);
        assert_eq!((c.parent_tid_value, c.pidfd_value), (None, None));
    }

    #[test]
    fn posix_spawn_clone3_struct_is_decoded_from_the_copied_bytes() {
        let mut call = raw(435, [0x7ffc_0000_0010, 88, 0, 0, 0, 0]);
        call.clone3_read = 88;
        let flags = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;
        call.clone3[..8].copy_from_slice(&flags.to_ne_bytes());
        call.clone3[32..40].copy_from_slice(&17u64.to_ne_bytes());
        call.clone3[40..48].copy_from_slice(&0x7f00_0000_1000u64.to_ne_bytes());
        call.clone3[48..56].copy_from_slice(&0x9000u64.to_ne_bytes());
        let c = describe(&call);
        assert_eq!(c.syscall, Syscall::Clone3);
        assert_eq!(c.flags.0, flags);
        assert_eq!(c.exit_signal, Some(Signo::SIGCHLD));
        assert_eq!((c.stack, c.stack_size), (0x7f00_0000_1000, Some(0x9000)));
        assert_eq!(c.clone3_size, Some(88));
        assert!(c.unreadable.is_empty());
    }

    #[test]
    fn an_uncopied_clone3_struct_is_unreadable_not_zero_flags() {
        let c = describe(&raw(435, [0, 88, 0, 0, 0, 0]));
        assert_eq!(c.unreadable, ["clone3_args"]);
    }

    #[test]
    fn no_call_seen_is_unknown() {
        assert_eq!(describe(&raw(u32::MAX, [0; 6])).syscall, Syscall::Unknown);
    }
}
