//! decode::clone3: `struct clone_args` from the bytes read out of the tracee, decoded by size as
//! strace does. Pure, no I/O: the caller reads the memory.

/// Sizes of the published `struct clone_args` versions (`include/uapi/linux/sched.h`).
pub const CLONE_ARGS_SIZE_VER0: u64 = 64;
/// VER1 added `set_tid` and `set_tid_size` (Linux 5.5).
pub const CLONE_ARGS_SIZE_VER1: u64 = 80;
/// VER2 added `cgroup` (Linux 5.7).
pub const CLONE_ARGS_SIZE_VER2: u64 = 88;

/// The kernel refuses a larger `size` with E2BIG (`size > PAGE_SIZE`); 4096 is the smallest page
/// size, so reading more would never show anything the kernel accepted.
const MAX_READ: u64 = 4096;

/// `struct clone_args`, fields in kernel order. Fields past the decoded version are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clone3Args {
    /// Fewer than `CLONE_ARGS_SIZE_VER0` bytes: the kernel fails it with EINVAL, and strace shows
    /// only the address.
    TooShort,
    Decoded {
        args: CloneArgs,
        /// The largest published version that fits: 64, 80 or 88.
        known_size: u64,
        /// Some byte past `known_size` is non-zero. The kernel fails such a call with E2BIG (it
        /// would be a field it doesn't know), so this is reported, not ignored.
        nonzero_tail: bool,
    },
}

/// How many bytes to read from the tracee for clone3's `size` argument.
pub fn read_len(size: u64) -> usize {
    // Fits: MAX_READ is far below usize::MAX on every target.
    size.min(MAX_READ) as usize
}

/// Decodes the bytes read from the tracee; their length is what was readable, up to
/// [`read_len`]. Words are native-endian, as the tracee wrote them.
pub fn decode_clone_args(bytes: &[u8]) -> Clone3Args {
    let len = bytes.len() as u64;
    let known_size = if len >= CLONE_ARGS_SIZE_VER2 {
        CLONE_ARGS_SIZE_VER2
    } else if len >= CLONE_ARGS_SIZE_VER1 {
        CLONE_ARGS_SIZE_VER1
    } else if len >= CLONE_ARGS_SIZE_VER0 {
        CLONE_ARGS_SIZE_VER0
    } else {
        return Clone3Args::TooShort;
    };
    let (known, tail) = bytes.split_at(known_size as usize);
    let mut words = [0u64; 11];
    for (word, chunk) in words.iter_mut().zip(known.chunks_exact(8)) {
        *word = u64::from_ne_bytes(chunk.try_into().expect("chunks_exact yields 8 bytes"));
    }
    let [
        flags,
        pidfd,
        child_tid,
        parent_tid,
        exit_signal,
        stack,
        stack_size,
        tls,
        set_tid,
        set_tid_size,
        cgroup,
    ] = words;
    Clone3Args::Decoded {
        args: CloneArgs {
            flags,
            pidfd,
            child_tid,
            parent_tid,
            exit_signal,
            stack,
            stack_size,
            tls,
            set_tid,
            set_tid_size,
            cgroup,
        },
        known_size,
        nonzero_tail: tail.iter().any(|&b| b != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lays out `words` as the tracee would, padded with zeros to `size` bytes.
    fn bytes(words: &[u64], size: usize) -> Vec<u8> {
        let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        out.resize(size, 0);
        out
    }

    const ALL_FIELDS: [u64; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    fn decoded(args: CloneArgs, known_size: u64, nonzero_tail: bool) -> Clone3Args {
        Clone3Args::Decoded {
            args,
            known_size,
            nonzero_tail,
        }
    }

    const VER0_FIELDS: CloneArgs = CloneArgs {
        flags: 1,
        pidfd: 2,
        child_tid: 3,
        parent_tid: 4,
        exit_signal: 5,
        stack: 6,
        stack_size: 7,
        tls: 8,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    };

    #[test]
    fn ver0() {
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS[..8], 64)),
            decoded(VER0_FIELDS, 64, false)
        );
    }

    #[test]
    fn ver1() {
        let args = CloneArgs {
            set_tid: 9,
            set_tid_size: 10,
            ..VER0_FIELDS
        };
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS[..10], 80)),
            decoded(args, 80, false)
        );
    }

    #[test]
    fn ver2() {
        let args = CloneArgs {
            set_tid: 9,
            set_tid_size: 10,
            cgroup: 11,
            ..VER0_FIELDS
        };
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS, 88)),
            decoded(args, 88, false)
        );
    }

    #[test]
    fn between_versions_decodes_the_smaller_and_checks_the_rest() {
        // 72 bytes: VER0 plus half of VER1's fields, which the kernel can't take as set_tid.
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS[..9], 72)),
            decoded(VER0_FIELDS, 64, true)
        );
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS[..8], 72)),
            decoded(VER0_FIELDS, 64, false)
        );
    }

    #[test]
    fn larger_than_known() {
        let args = CloneArgs {
            set_tid: 9,
            set_tid_size: 10,
            cgroup: 11,
            ..VER0_FIELDS
        };
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS, 100)),
            decoded(args, 88, false)
        );
        let mut tail = bytes(&ALL_FIELDS, 100);
        tail[99] = 1;
        assert_eq!(decode_clone_args(&tail), decoded(args, 88, true));
    }

    #[test]
    fn too_short() {
        assert_eq!(
            decode_clone_args(&bytes(&[0x4100], 40)),
            Clone3Args::TooShort
        );
        assert_eq!(decode_clone_args(&[]), Clone3Args::TooShort);
        assert_eq!(
            decode_clone_args(&bytes(&ALL_FIELDS[..8], 63)),
            Clone3Args::TooShort
        );
    }

    #[test]
    fn glibc_posix_spawn() {
        // glibc's posix_spawn: clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD,
        // stack=..., stack_size=0x9000}, 88).
        let stack = 0x7f3a_5c2f_0000;
        let raw = bytes(&[0x4100, 0, 0, 0, 17, stack, 0x9000, 0, 0, 0, 0], 88);
        assert_eq!(
            decode_clone_args(&raw),
            decoded(
                CloneArgs {
                    flags: 0x4100,
                    exit_signal: libc::SIGCHLD as u64,
                    stack,
                    stack_size: 0x9000,
                    ..CloneArgs::default()
                },
                88,
                false
            )
        );
    }

    #[test]
    fn read_len_is_capped_at_a_page() {
        assert_eq!(read_len(0), 0);
        assert_eq!(read_len(40), 40);
        assert_eq!(read_len(88), 88);
        assert_eq!(read_len(4096), 4096);
        assert_eq!(read_len(4097), 4096);
        assert_eq!(read_len(u64::MAX), 4096);
    }

    #[test]
    fn versions_are_the_kernel_struct() {
        assert_eq!(CLONE_ARGS_SIZE_VER0, 8 * 8);
        assert_eq!(CLONE_ARGS_SIZE_VER1, 10 * 8);
        assert_eq!(CLONE_ARGS_SIZE_VER2, 11 * 8);
    }
}
