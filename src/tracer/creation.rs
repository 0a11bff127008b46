//! creation: turns a creation call's registers and the creator's memory into a `create` event:
//! the clone flags, exit signal, stack, pointers, clone3's struct by size, and the values the
//! kernel wrote back (the tid at parent_tid, the pidfd number).

use super::inspect;
use crate::decode::args::CreationCall;
use crate::decode::clone3::{self, Clone3Args};
use crate::event::{self, Pid};

/// The decoded arguments of a creation call, as far as the creator's memory lets us read them.
pub(super) fn describe_creation(creator: Pid, call: Option<CreationCall>) -> event::Create {
    let mut create = event::Create {
        pid: creator,
        tgid: creator,
        ..event::call::create_of_call(call)
    };
    let has = |flags: u64, flag: libc::c_int| flags & flag as u64 != 0;
    // Fields whose value the creator's memory would not give: recorded as such, never as data.
    let mut unreadable: Vec<String> = Vec::new();
    match call {
        Some(CreationCall::Clone {
            flags, parent_tid, ..
        }) => {
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
                event::call::clone3_fields(&mut create, &args, nonzero_tail);
                if has(args.flags, libc::CLONE_PARENT_SETTID) {
                    create.parent_tid_value = read_word(
                        creator,
                        args.parent_tid,
                        "parent_tid_value",
                        &mut unreadable,
                    );
                }
                if has(args.flags, libc::CLONE_PIDFD) {
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
            }
        }
        _ => {}
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

/// Argv and paths are bytes; the record holds text. Valid UTF-8 passes unchanged; each invalid byte
/// becomes `\xNN`, so nothing is lost and nothing raw reaches a terminal through the record.
pub(crate) fn text_from_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}
