//! decode::wait: the raw `int` status that waitpid stores, as a value; where wait4 and waitid keep
//! their arguments, and the child fields of the siginfo waitid fills. Pure, no I/O.
//!
//! Ours rather than nix's `WaitStatus`, which cannot represent a stop by a real-time signal (it
//! returns an error), and which folds ptrace events into its own variants.

/// A waitpid status, with the semantics of libc's `W*` macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// `WIFEXITED`: the `WEXITSTATUS` byte.
    Exited(i32),
    /// `WIFSIGNALED`: `WTERMSIG` and `WCOREDUMP`.
    Signaled { signal: i32, core_dumped: bool },
    /// `WIFSTOPPED`: `WSTOPSIG`, left raw so a syscall-stop under `PTRACE_O_TRACESYSGOOD` reads
    /// `SIGTRAP | 0x80`; `event` is `status >> 16`, the `PTRACE_EVENT_*` number (0 for none,
    /// `PTRACE_EVENT_STOP` for a group-stop under `PTRACE_SEIZE`).
    Stopped { signal: i32, event: i32 },
    /// `WIFCONTINUED`.
    Continued,
}

/// Decodes a status exactly as `WIFEXITED`/`WIFSIGNALED`/`WIFSTOPPED`/`WIFCONTINUED` would.
pub fn decode_wait_status(raw: i32) -> WaitStatus {
    let low = raw & 0x7f;
    if low == 0 {
        WaitStatus::Exited((raw >> 8) & 0xff)
    } else if raw & 0xff == 0x7f {
        WaitStatus::Stopped {
            signal: (raw >> 8) & 0xff,
            event: (raw >> 16) & 0xff,
        }
    } else if low != 0x7f {
        WaitStatus::Signaled {
            signal: low,
            core_dumped: raw & 0x80 != 0,
        }
    } else {
        // Low byte 0xff. The kernel only ever writes 0xffff here (`WIFCONTINUED`); other values
        // satisfy none of the macros, and a total function must say something, so they count as
        // continued too rather than as a death by the non-existent signal 127.
        WaitStatus::Continued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGTRAP: i32 = libc::SIGTRAP;

    fn stop(signal: i32, event: i32) -> i32 {
        (event << 16) | (signal << 8) | 0x7f
    }

    /// Asserts that our decoding agrees with every libc macro on `raw`.
    fn agrees_with_libc(raw: i32) {
        let decoded = decode_wait_status(raw);
        assert_eq!(
            matches!(decoded, WaitStatus::Exited(_)),
            libc::WIFEXITED(raw),
            "{raw:#x}"
        );
        assert_eq!(
            matches!(decoded, WaitStatus::Signaled { .. }),
            libc::WIFSIGNALED(raw),
            "{raw:#x}"
        );
        assert_eq!(
            matches!(decoded, WaitStatus::Stopped { .. }),
            libc::WIFSTOPPED(raw),
            "{raw:#x}"
        );
        assert_eq!(
            decoded == WaitStatus::Continued,
            libc::WIFCONTINUED(raw),
            "{raw:#x}"
        );
        match decoded {
            WaitStatus::Exited(code) => assert_eq!(code, libc::WEXITSTATUS(raw)),
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                assert_eq!(signal, libc::WTERMSIG(raw));
                assert_eq!(core_dumped, libc::WCOREDUMP(raw));
            }
            WaitStatus::Stopped { signal, event } => {
                assert_eq!(signal, libc::WSTOPSIG(raw));
                assert_eq!(event, (raw >> 16) & 0xff);
            }
            WaitStatus::Continued => {}
        }
    }

    #[test]
    fn exits() {
        assert_eq!(decode_wait_status(0), WaitStatus::Exited(0));
        assert_eq!(decode_wait_status(3 << 8), WaitStatus::Exited(3));
        assert_eq!(decode_wait_status(255 << 8), WaitStatus::Exited(255));
    }

    #[test]
    fn deaths_by_signal() {
        assert_eq!(
            decode_wait_status(libc::SIGKILL),
            WaitStatus::Signaled {
                signal: libc::SIGKILL,
                core_dumped: false
            }
        );
        assert_eq!(
            decode_wait_status(libc::SIGSEGV | 0x80),
            WaitStatus::Signaled {
                signal: libc::SIGSEGV,
                core_dumped: true
            }
        );
        assert_eq!(
            decode_wait_status(34),
            WaitStatus::Signaled {
                signal: 34,
                core_dumped: false
            }
        );
    }

    #[test]
    fn real_time_signal_stop() {
        assert_eq!(
            decode_wait_status((34 << 8) | 0x7f),
            WaitStatus::Stopped {
                signal: 34,
                event: 0
            }
        );
        assert_eq!(
            decode_wait_status(stop(64, 0)),
            WaitStatus::Stopped {
                signal: 64,
                event: 0
            }
        );
    }

    #[test]
    fn syscall_stop_keeps_the_0x80_bit() {
        assert_eq!(
            decode_wait_status(stop(SIGTRAP | 0x80, 0)),
            WaitStatus::Stopped {
                signal: 0x85,
                event: 0
            }
        );
    }

    #[test]
    fn ptrace_event_stops() {
        for event in [
            libc::PTRACE_EVENT_FORK,
            libc::PTRACE_EVENT_VFORK,
            libc::PTRACE_EVENT_CLONE,
            libc::PTRACE_EVENT_EXEC,
            libc::PTRACE_EVENT_VFORK_DONE,
            libc::PTRACE_EVENT_EXIT,
        ] {
            let raw = (event << 16) | (libc::SIGTRAP << 8) | 0x7f;
            assert_eq!(
                decode_wait_status(raw),
                WaitStatus::Stopped {
                    signal: SIGTRAP,
                    event
                }
            );
            agrees_with_libc(raw);
        }
        // A group-stop under PTRACE_SEIZE: the stopping signal with PTRACE_EVENT_STOP (128),
        // which must not be lost to sign extension or masking.
        let raw = stop(libc::SIGSTOP, libc::PTRACE_EVENT_STOP);
        assert_eq!(
            decode_wait_status(raw),
            WaitStatus::Stopped {
                signal: libc::SIGSTOP,
                event: libc::PTRACE_EVENT_STOP
            }
        );
        agrees_with_libc(raw);
    }

    #[test]
    fn continued() {
        assert_eq!(decode_wait_status(0xffff), WaitStatus::Continued);
    }

    #[test]
    fn agrees_with_libc_on_every_kernel_status() {
        for code in 0..=255 {
            agrees_with_libc(code << 8);
        }
        for sig in 1..=64 {
            agrees_with_libc(sig);
            agrees_with_libc(sig | 0x80);
            for event in [0, 1, 2, 3, 4, 5, 6, 7, 128] {
                agrees_with_libc(stop(sig, event));
            }
        }
        agrees_with_libc(stop(SIGTRAP | 0x80, 0));
        agrees_with_libc(0xffff);
    }

    #[test]
    fn impossible_low_byte_0xff_is_continued() {
        assert!(!libc::WIFSIGNALED(0x1ff) && !libc::WIFCONTINUED(0x1ff));
        assert_eq!(decode_wait_status(0x1ff), WaitStatus::Continued);
    }
}

/// Where a wait call's arguments are: wait4 is `(pid, int *status, options, rusage)`, waitid is
/// `(idtype, id, siginfo_t *infop, options, rusage)` on every architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitArgs {
    /// waitid's idtype (what `id` means); `None` for wait4.
    pub idtype: Option<u32>,
    /// wait4's pid (sign-extended from its `int`), or waitid's id as passed.
    pub id: i64,
    /// The options word (an `int`: the upper half of the register is not the caller's).
    pub options: u64,
    /// wait4's status pointer.
    pub status: Option<u64>,
    /// waitid's siginfo pointer.
    pub infop: Option<u64>,
}

/// The arguments of a wait4 (`waitid` false) or waitid call from its six raw words.
pub fn decode_wait_args(waitid: bool, args: &[u64; 6]) -> WaitArgs {
    if waitid {
        WaitArgs {
            idtype: Some(args[0] as u32),
            id: args[1] as i64,
            options: args[3] & 0xffff_ffff,
            status: None,
            infop: Some(args[2]),
        }
    } else {
        WaitArgs {
            idtype: None,
            id: args[0] as i32 as i64,
            options: args[2] & 0xffff_ffff,
            status: Some(args[1]),
            infop: None,
        }
    }
}

/// How many bytes of waitid's siginfo [`decode_siginfo_child`] reads.
pub const SIGINFO_CHILD_LEN: usize = 24;

/// The child part of the siginfo waitid fills: `si_code` (offset 8) and `si_pid` (offset 16), the
/// same on every 64-bit architecture. `None` when fewer than [`SIGINFO_CHILD_LEN`] bytes were read.
pub fn decode_siginfo_child(bytes: &[u8]) -> Option<(i32, i32)> {
    let bytes = bytes.get(..SIGINFO_CHILD_LEN)?;
    let word = |at: usize| i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
    Some((word(8), word(16)))
}

/// Whether a child siginfo's `si_code` says the child ended (exited, killed, dumped core), as
/// opposed to stopped, trapped or continued.
pub fn siginfo_child_ended(code: i32) -> bool {
    [libc::CLD_EXITED, libc::CLD_KILLED, libc::CLD_DUMPED].contains(&code)
}

/// Names of the option bits of wait4/waitpid and waitid, in bit order.
const WAIT_OPTIONS: &[(u64, &str)] = &[
    (libc::WNOHANG as u64, "WNOHANG"),
    (libc::WUNTRACED as u64, "WUNTRACED"), // WSTOPPED for waitid: the same bit
    (libc::WEXITED as u64, "WEXITED"),
    (libc::WCONTINUED as u64, "WCONTINUED"),
    (libc::WNOWAIT as u64, "WNOWAIT"),
    (libc::__WNOTHREAD as u32 as u64, "__WNOTHREAD"),
    (libc::__WALL as u32 as u64, "__WALL"),
    (libc::__WCLONE as u32 as u64, "__WCLONE"),
];

/// The options argument of a wait call by name; `waitid` names bit 2 `WSTOPPED`, wait4 `WUNTRACED`.
pub fn decode_wait_options(options: u64, waitid: bool) -> Vec<String> {
    let mut rest = options & 0xffff_ffff;
    let mut names = Vec::new();
    for &(bit, name) in WAIT_OPTIONS {
        if rest & bit != 0 {
            let name = if waitid && bit == libc::WUNTRACED as u64 {
                "WSTOPPED"
            } else {
                name
            };
            names.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("{rest:#x}"));
    }
    names
}

/// Inverse of [`decode_wait_options`] for either call (`WSTOPPED` and `WUNTRACED` are one bit);
/// `None` on an unknown name.
pub fn wait_options_from_names(names: &[String]) -> Option<u64> {
    names.iter().try_fold(0u64, |acc, name| {
        let bit = match name.strip_prefix("0x") {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u64::from_str_radix(hex, 16).ok()?
            }
            Some(_) => return None,
            None if name == "WSTOPPED" => libc::WSTOPPED as u64,
            None => WAIT_OPTIONS.iter().find(|&&(_, n)| n == name)?.0,
        };
        Some(acc | bit)
    })
}

/// waitid's idtype argument: what its id argument means.
pub fn idtype_name(idtype: u64) -> String {
    match idtype as u32 {
        libc::P_ALL => "P_ALL".into(),
        libc::P_PID => "P_PID".into(),
        libc::P_PGID => "P_PGID".into(),
        libc::P_PIDFD => "P_PIDFD".into(),
        other => other.to_string(),
    }
}

/// Inverse of [`idtype_name`].
pub fn idtype_number(name: &str) -> Option<u32> {
    match name {
        "P_ALL" => Some(libc::P_ALL),
        "P_PID" => Some(libc::P_PID),
        "P_PGID" => Some(libc::P_PGID),
        "P_PIDFD" => Some(libc::P_PIDFD),
        other if !other.is_empty() && other.bytes().all(|b| b.is_ascii_digit()) => {
            other.parse().ok()
        }
        _ => None,
    }
}

/// Inverse of [`errno_name`]: a name the kernel's table knows, or a decimal number.
pub fn errno_number(name: &str) -> Option<i32> {
    if let Some(digits) = name.strip_prefix('-').or(Some(name))
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return name.parse().ok();
    }
    // MAX_ERRNO is 4095; every named errno is far below it.
    (1..4096).find(|&n| syscalls::Errno::new(n).name() == Some(name))
}

/// An errno by its name (`EAGAIN`), or its number when unknown.
pub fn errno_name(errno: i64) -> String {
    syscalls::Errno::new(errno as i32)
        .name()
        .map_or_else(|| errno.to_string(), str::to_string)
}

#[cfg(test)]
mod option_tests {
    use super::*;

    #[test]
    fn wait_options_are_named_per_call() {
        assert_eq!(
            decode_wait_options((libc::WNOHANG | libc::__WCLONE) as u32 as u64, false),
            ["WNOHANG", "__WCLONE"]
        );
        assert_eq!(
            decode_wait_options((libc::WEXITED | libc::WSTOPPED) as u64, true),
            ["WSTOPPED", "WEXITED"]
        );
        assert_eq!(
            decode_wait_options(0x4000_0000 | 1 << 20, false),
            ["__WALL", "0x100000"]
        );
        assert_eq!(idtype_name(libc::P_PIDFD as u64), "P_PIDFD");
        assert_eq!(errno_name(libc::EAGAIN as i64), "EAGAIN");
        assert_eq!(errno_number("EAGAIN"), Some(libc::EAGAIN));
        assert_eq!(errno_number("4000"), Some(4000));
        assert_eq!(idtype_number("P_PIDFD"), Some(libc::P_PIDFD));
        let names = decode_wait_options((libc::WEXITED | libc::WSTOPPED | 1 << 20) as u64, true);
        assert_eq!(
            wait_options_from_names(&names),
            Some((libc::WEXITED | libc::WSTOPPED | 1 << 20) as u64)
        );
    }
    #[test]
    fn wait_arguments_by_position() {
        let args = [7, 0x1000, 0x2000, 0x8000_0004, 5, 6];
        assert_eq!(
            decode_wait_args(false, &[u64::MAX, 0x1000, 0xffff_ffff_0000_0001, 0, 0, 0]),
            WaitArgs {
                idtype: None,
                id: -1,
                options: 1,
                status: Some(0x1000),
                infop: None,
            }
        );
        assert_eq!(
            decode_wait_args(true, &args),
            WaitArgs {
                idtype: Some(7),
                id: 0x1000,
                options: 0x8000_0004,
                status: None,
                infop: Some(0x2000),
            }
        );
    }

    #[test]
    fn siginfo_child_fields_match_libc() {
        // A siginfo laid out by libc itself: the offsets are the kernel's.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let raw = &mut info as *mut libc::siginfo_t as *mut u8;
        unsafe {
            *(raw.add(8) as *mut i32) = libc::CLD_KILLED;
            *(raw.add(16) as *mut i32) = 4242;
        }
        assert_eq!(info.si_code, libc::CLD_KILLED);
        assert_eq!(unsafe { info.si_pid() }, 4242);
        let bytes =
            unsafe { std::slice::from_raw_parts(raw, std::mem::size_of::<libc::siginfo_t>()) };
        assert_eq!(decode_siginfo_child(bytes), Some((libc::CLD_KILLED, 4242)));
        assert_eq!(decode_siginfo_child(&bytes[..SIGINFO_CHILD_LEN - 1]), None);
        assert!(siginfo_child_ended(libc::CLD_DUMPED));
        assert!(!siginfo_child_ended(libc::CLD_STOPPED));
        assert!(!siginfo_child_ended(libc::CLD_CONTINUED));
    }
}
