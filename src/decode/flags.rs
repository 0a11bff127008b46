//! decode::flags: the `CLONE_*` flag table and its strace-style decoding. Pure, no I/O.

/// Low byte of clone(2)'s flags: the signal sent to the parent when the child exits.
pub const CSIGNAL: u64 = 0xff;

/// Every `CLONE_*` flag of Linux 6.x `include/uapi/linux/sched.h`, names verbatim, in bit order.
///
/// The table is data (strace's `src/xlat/clone_flags.in`): decoding iterates it, so a new kernel
/// flag is one line here.
pub const CLONE_FLAGS: &[(u64, &str)] = &[
    // Shares the CSIGNAL byte, so it can only mean a flag where there is no exit signal in the
    // flags word: clone3 (exit_signal is its own field) and unshare.
    (0x80, "CLONE_NEWTIME"),
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x1000, "CLONE_PIDFD"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"),
    (0x40000, "CLONE_SYSVSEM"),
    (0x80000, "CLONE_SETTLS"),
    (0x100000, "CLONE_PARENT_SETTID"),
    (0x200000, "CLONE_CHILD_CLEARTID"),
    // Ignored by the kernel since 2.6, but musl's pthread_create still sets it: name it rather
    // than show an unexplained hex remainder on every musl thread.
    (0x400000, "CLONE_DETACHED"),
    (0x800000, "CLONE_UNTRACED"),
    (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2000000, "CLONE_NEWCGROUP"),
    (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"),
    (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"),
    (0x40000000, "CLONE_NEWNET"),
    (0x80000000, "CLONE_IO"),
    // Above 32 bits: only reachable through clone3's 64-bit flags field.
    (0x100000000, "CLONE_CLEAR_SIGHAND"),
    (0x200000000, "CLONE_INTO_CGROUP"),
];

/// What each `CLONE_*` flag does, one plain sentence each, for readers who have not read clone(2):
/// the same bits as [`CLONE_FLAGS`], in the same order (a test checks both).
pub const CLONE_FLAG_MEANINGS: &[(u64, &str)] = &[
    (
        0x80,
        "New time namespace: the child gets its own offsets for the monotonic and boot-time \
            clocks (clone3 only).",
    ),
    (
        0x100,
        "Shares the caller's memory: what one writes, the other sees (threads, vfork, \
            posix_spawn).",
    ),
    (
        0x200,
        "Shares the current directory, root directory and umask: a chdir by one moves both.",
    ),
    (
        0x400,
        "Shares the table of open files: a file one opens or closes is opened or closed for both.",
    ),
    (
        0x800,
        "Shares the signal handlers: a handler one installs applies to both.",
    ),
    (
        0x1000,
        "Gives the parent a pidfd: a file descriptor that names the child and cannot be confused \
            by pid reuse.",
    ),
    (
        0x2000,
        "If the caller is being traced, the child is traced too.",
    ),
    (
        0x4000,
        "The caller sleeps until the child calls execve or exits (vfork's promise: the child \
            borrows the parent's memory meanwhile).",
    ),
    (
        0x8000,
        "The child's parent is the caller's parent: it becomes the caller's sibling, and that \
            parent reaps it.",
    ),
    (
        0x10000,
        "The child joins the caller's process as a new thread: same pid, a tid of its own; \
            nobody reaps it.",
    ),
    (
        0x20000,
        "New mount namespace: the child starts with a copy of the mounts and can change them \
            alone.",
    ),
    (
        0x40000,
        "Shares System V semaphore undo values: they are undone only when the last sharer ends.",
    ),
    (
        0x80000,
        "Sets the child's thread-local storage pointer (the tls argument): each thread its own \
            errno and locals.",
    ),
    (
        0x100000,
        "The kernel writes the child's tid into the parent's memory (parent_tid) before either \
            runs.",
    ),
    (
        0x200000,
        "When the child ends, the kernel zeroes its tid in its memory (child_tid) and wakes a \
            futex there: how pthread_join learns a thread ended.",
    ),
    (
        0x400000,
        "Ignored by the kernel since Linux 2.6 (musl's pthread_create still sets it).",
    ),
    (0x800000, "A tracer cannot force CLONE_PTRACE on the child."),
    (
        0x1000000,
        "The kernel writes the child's tid into the child's own memory (child_tid): glibc's fork \
            uses it to know its new tid.",
    ),
    (
        0x2000000,
        "New cgroup namespace: the child sees its current cgroup as the root.",
    ),
    (
        0x4000000,
        "New UTS namespace: the child can change its host name and domain name alone.",
    ),
    (
        0x8000000,
        "New IPC namespace: the child has its own System V IPC objects and POSIX message queues.",
    ),
    (
        0x10000000,
        "New user namespace: the child can be root inside it while unprivileged outside.",
    ),
    (
        0x20000000,
        "New PID namespace: the child is pid 1 there, the namespace's init, and has an ordinary \
            pid outside.",
    ),
    (
        0x40000000,
        "New network namespace: the child starts with its own network devices, addresses and \
            ports (only a loopback).",
    ),
    (
        0x80000000,
        "Shares the I/O context: the disk scheduler treats both as one.",
    ),
    (
        0x100000000,
        "Resets the child's signal handlers to their defaults (clone3 only).",
    ),
    (
        0x200000000,
        "Starts the child in the cgroup whose directory clone3's cgroup argument names (clone3 \
            only).",
    ),
];

/// The sentence for one flag bit, `None` for a bit the table does not know.
pub fn flag_meaning(bit: u64) -> Option<&'static str> {
    CLONE_FLAG_MEANINGS
        .iter()
        .find(|&&(known, _)| known == bit)
        .map(|&(_, meaning)| meaning)
}

/// Bits no `CLONE_*` flag names.
pub const UNKNOWN_FLAG_MEANING: &str =
    "Bits no CLONE_ flag of Linux 6.x names: a newer kernel's flag, or a mistake.";

/// A clone or clone3 with no flags at all.
pub const NO_FLAGS_MEANING: &str = "No CLONE_ flags: the child gets its own copy of memory, \
    open files, signal handlers and the rest, as with fork.";

/// fork(2), which takes no arguments.
pub const FORK_MEANING: &str = "fork(2) takes no flags: the child gets its own copy of \
    everything, and the parent gets SIGCHLD when it ends.";

/// vfork(2), which takes no arguments but acts as `CLONE_VM|CLONE_VFORK`.
pub const VFORK_MEANING: &str = "vfork(2) takes no flags but acts as CLONE_VM|CLONE_VFORK: the \
    child borrows the parent's memory, and the parent sleeps until the child execs or exits.";

/// clone3's `stack_size`: the new task runs on a stack its creator mapped for it.
pub const STACK_SIZE_MEANING: &str = "The child starts on a stack of its own, this size, that \
    its creator mapped for it (a thread library's thread stack, or posix_spawn's small one).";

/// Exit signal SIGCHLD: the usual case.
pub const EXIT_SIGCHLD_MEANING: &str = "The parent gets SIGCHLD when the child ends, and a plain \
    wait or waitpid reaps it: the usual case.";

/// No exit signal on a thread: threads are joined, not reaped.
pub const EXIT_NONE_THREAD_MEANING: &str = "A thread has no exit signal: it ends without telling \
    anyone and leaves no zombie; pthread_join learns of its end through CLONE_CHILD_CLEARTID.";

/// No exit signal on a process.
pub const EXIT_NONE_PROCESS_MEANING: &str = "No exit signal: the parent is not told when the \
    child ends, and only a wait with __WALL or __WCLONE reaps it.";

/// An exit signal other than SIGCHLD.
pub const EXIT_OTHER_MEANING: &str = "The parent gets this signal instead of SIGCHLD when the \
    child ends, so the child is a \"clone child\": the parent must wait with __WCLONE (or \
    __WALL) to reap it; a plain waitpid does not see it.";

/// Names of the set flags in table order, then any unknown bits as one hex entry.
///
/// clone(2) callers pass `flags & !CSIGNAL` (its low byte is the exit signal, decoded with
/// `signal_name`); clone3 passes its flags whole, so `CLONE_NEWTIME` decodes there.
pub fn decode_clone_flags(flags: u64) -> Vec<String> {
    clone_flag_names(flags)
        .map(|name| name.to_string())
        .collect()
}

/// The names [`decode_clone_flags`] gives, one at a time and without a string made for each
/// (the live view writes them straight into its line).
pub fn clone_flag_names(flags: u64) -> FlagNames {
    FlagNames {
        rest: flags,
        next: 0,
    }
}

/// One name of [`clone_flag_names`]: the table's, or the unknown bits left over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagName {
    Known(&'static str),
    Unknown(u64),
}

impl std::fmt::Display for FlagName {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            FlagName::Known(name) => f.write_str(name),
            FlagName::Unknown(rest) => write!(f, "{rest:#x}"),
        }
    }
}

/// See [`clone_flag_names`].
pub struct FlagNames {
    /// The bits not named yet.
    rest: u64,
    /// The next entry of [`CLONE_FLAGS`] to look at.
    next: usize,
}

impl Iterator for FlagNames {
    type Item = FlagName;

    fn next(&mut self) -> Option<FlagName> {
        while let Some(&(bit, name)) = CLONE_FLAGS.get(self.next) {
            self.next += 1;
            if self.rest & bit != 0 {
                self.rest &= !bit;
                return Some(FlagName::Known(name));
            }
        }
        // Unknown bits stay visible (strace prints them after `|`) instead of silently
        // vanishing.
        let rest = std::mem::take(&mut self.rest);
        (rest != 0).then_some(FlagName::Unknown(rest))
    }
}

/// Inverse of [`decode_clone_flags`] (so recordings can be replayed): table names or `0x…`
/// remainders. `None` on any unknown name, because guessing would corrupt a replay.
pub fn flags_from_names(names: &[String]) -> Option<u64> {
    names.iter().try_fold(0u64, |acc, name| {
        let bits = if let Some(hex) = name.strip_prefix("0x") {
            // from_str_radix would also take a sign; only what decode_clone_flags writes is valid.
            if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u64::from_str_radix(hex, 16).ok()?
        } else if name == "0" {
            // What join_flags writes for no flags, in case a caller splits that back.
            0
        } else {
            CLONE_FLAGS
                .iter()
                .find(|&&(_, known)| known == name)
                .map(|&(bit, _)| bit)?
        };
        Some(acc | bits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bit(name: &str) -> u64 {
        CLONE_FLAGS
            .iter()
            .find(|&&(_, n)| n == name)
            .unwrap_or_else(|| panic!("{name} missing from CLONE_FLAGS"))
            .0
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table_matches_libc() {
        // libc's constants are c_int; go through u32 so CLONE_IO (negative as i32) doesn't
        // sign-extend.
        let libc_flags: &[(libc::c_int, &str)] = &[
            (libc::CLONE_NEWTIME, "CLONE_NEWTIME"),
            (libc::CLONE_VM, "CLONE_VM"),
            (libc::CLONE_FS, "CLONE_FS"),
            (libc::CLONE_FILES, "CLONE_FILES"),
            (libc::CLONE_SIGHAND, "CLONE_SIGHAND"),
            (libc::CLONE_PIDFD, "CLONE_PIDFD"),
            (libc::CLONE_PTRACE, "CLONE_PTRACE"),
            (libc::CLONE_VFORK, "CLONE_VFORK"),
            (libc::CLONE_PARENT, "CLONE_PARENT"),
            (libc::CLONE_THREAD, "CLONE_THREAD"),
            (libc::CLONE_NEWNS, "CLONE_NEWNS"),
            (libc::CLONE_SYSVSEM, "CLONE_SYSVSEM"),
            (libc::CLONE_SETTLS, "CLONE_SETTLS"),
            (libc::CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"),
            (libc::CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"),
            (libc::CLONE_DETACHED, "CLONE_DETACHED"),
            (libc::CLONE_UNTRACED, "CLONE_UNTRACED"),
            (libc::CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"),
            (libc::CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
            (libc::CLONE_NEWUTS, "CLONE_NEWUTS"),
            (libc::CLONE_NEWIPC, "CLONE_NEWIPC"),
            (libc::CLONE_NEWUSER, "CLONE_NEWUSER"),
            (libc::CLONE_NEWPID, "CLONE_NEWPID"),
            (libc::CLONE_NEWNET, "CLONE_NEWNET"),
            (libc::CLONE_IO, "CLONE_IO"),
        ];
        for &(value, name) in libc_flags {
            assert_eq!(bit(name), u64::from(value as u32), "{name}");
        }
        // libc 0.2.191 (gnu) declares these two as c_int, so they overflow to 0 and are
        // deprecated (rust-lang/libc#3584): check against sched.h's values instead.
        assert_eq!(bit("CLONE_CLEAR_SIGHAND"), 0x1_0000_0000);
        assert_eq!(bit("CLONE_INTO_CGROUP"), 0x2_0000_0000);
        assert_eq!(CSIGNAL, u64::from(libc::CSIGNAL as u32));
        // Every kernel flag is covered: the table is exactly the checked names.
        assert_eq!(CLONE_FLAGS.len(), libc_flags.len() + 2);
    }

    #[test]
    fn bits_are_single_unique_and_sorted() {
        let mut seen = 0u64;
        for &(bit, name) in CLONE_FLAGS {
            assert_eq!(bit.count_ones(), 1, "{name} is not a single bit");
            assert_eq!(seen & bit, 0, "{name} repeats a bit");
            seen |= bit;
            assert!(name.starts_with("CLONE_"), "{name}");
        }
        assert!(CLONE_FLAGS.windows(2).all(|w| w[0].0 < w[1].0));
        let mut names: Vec<_> = CLONE_FLAGS.iter().map(|&(_, n)| n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CLONE_FLAGS.len(), "duplicate name");
    }

    #[test]
    fn every_flag_has_a_sentence() {
        let bits: Vec<u64> = CLONE_FLAGS.iter().map(|&(bit, _)| bit).collect();
        let explained: Vec<u64> = CLONE_FLAG_MEANINGS.iter().map(|&(bit, _)| bit).collect();
        assert_eq!(
            bits, explained,
            "CLONE_FLAG_MEANINGS must follow CLONE_FLAGS"
        );
        for &(bit, name) in CLONE_FLAGS {
            let meaning = flag_meaning(bit).unwrap_or_else(|| panic!("{name} has no sentence"));
            assert!(
                meaning.len() > 20 && meaning.ends_with('.'),
                "{name}: {meaning:?} is not a sentence"
            );
        }
    }

    #[test]
    fn only_newtime_shares_the_signal_byte() {
        let in_csignal: Vec<_> = CLONE_FLAGS
            .iter()
            .filter(|&&(bit, _)| bit & CSIGNAL != 0)
            .map(|&(_, n)| n)
            .collect();
        assert_eq!(in_csignal, ["CLONE_NEWTIME"]);
    }

    #[test]
    fn glibc_fork_flags() {
        // glibc's fork() is clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD, ...).
        assert_eq!(
            decode_clone_flags(0x1200011 & !CSIGNAL),
            ["CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"]
        );
    }

    #[test]
    fn glibc_pthread_create_flags() {
        let flags = 0x3d0f00;
        assert_eq!(
            decode_clone_flags(flags).join("|"),
            "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|\
             CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"
        );
    }

    #[test]
    fn clone3_flags_keep_newtime_and_high_bits() {
        let flags = bit("CLONE_NEWTIME") | bit("CLONE_INTO_CGROUP") | bit("CLONE_VM");
        assert_eq!(
            decode_clone_flags(flags),
            ["CLONE_NEWTIME", "CLONE_VM", "CLONE_INTO_CGROUP"]
        );
    }

    #[test]
    fn unknown_remainder_is_one_hex_entry() {
        assert_eq!(
            decode_clone_flags(0x100 | 0x4_0000_0000 | 0x8000_0000_0000_0000),
            ["CLONE_VM", "0x8000000400000000"]
        );
        assert_eq!(decode_clone_flags(0x11), ["0x11"]);
    }

    #[test]
    fn empty_is_zero() {
        assert!(decode_clone_flags(0).is_empty());
        assert_eq!(flags_from_names(&[]), Some(0));
        assert_eq!(flags_from_names(&strings(&["0"])), Some(0));
    }

    #[test]
    fn round_trip() {
        let samples = [
            0,
            0x1200000,
            0x3d0f00,
            0x4100,
            0x80 | 0x3_0000_0000,
            0x4000_0000_0000_0011,
            u64::MAX,
        ];
        let every_bit = (0..64).map(|i| 1u64 << i);
        for flags in samples.into_iter().chain(every_bit) {
            assert_eq!(
                flags_from_names(&decode_clone_flags(flags)),
                Some(flags),
                "{flags:#x}"
            );
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for bad in ["CLONE_BOGUS", "VM", "0x", "0x+1", "0xzz", "clone_vm", ""] {
            assert_eq!(
                flags_from_names(&strings(&["CLONE_VM", bad])),
                None,
                "{bad}"
            );
        }
    }
}
