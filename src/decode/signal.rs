//! decode::signal: signal numbers ↔ the names strace prints. Pure, no I/O.

/// The classic signals, numbered by libc for the native architecture (the numbers differ on
/// e.g. MIPS, the names do not).
const SIGNALS: &[(i32, &str)] = &[
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGTRAP, "SIGTRAP"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGTERM, "SIGTERM"),
    // MIPS and SPARC have no SIGSTKFLT; leaving it out there keeps the crate building.
    #[cfg(not(any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    )))]
    (libc::SIGSTKFLT, "SIGSTKFLT"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGCONT, "SIGCONT"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGTSTP, "SIGTSTP"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGXCPU, "SIGXCPU"),
    (libc::SIGXFSZ, "SIGXFSZ"),
    (libc::SIGVTALRM, "SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
    (libc::SIGPWR, "SIGPWR"),
    (libc::SIGSYS, "SIGSYS"),
];

/// The kernel's first real-time signal. Not `libc::SIGRTMIN()`: glibc reserves 32 and 33 for
/// itself and reports 34, but a tracer sees the kernel's numbering.
const KERNEL_SIGRTMIN: i32 = 32;
/// The kernel's last real-time signal (`_NSIG` is 64 on x86_64, aarch64 and riscv64).
const KERNEL_SIGRTMAX: i32 = 64;

/// strace's name for `sig`: `SIGCHLD`, `SIGRTMIN` for 32, `SIGRT_2` for 34, else the number.
///
/// strace 6.1 verified: `kill(pid, 32)` prints `SIGRTMIN`, 33 `SIGRT_1`, 64 `SIGRT_32`. glibc
/// itself sends 32 (thread cancellation) and 33 (setxid broadcast), so this shows up for real.
pub fn signal_name(sig: i32) -> String {
    if let Some(&(_, name)) = SIGNALS.iter().find(|&&(n, _)| n == sig) {
        return name.to_string();
    }
    match sig {
        KERNEL_SIGRTMIN => "SIGRTMIN".to_string(),
        33..=KERNEL_SIGRTMAX => format!("SIGRT_{}", sig - KERNEL_SIGRTMIN),
        _ => sig.to_string(),
    }
}

/// Inverse of [`signal_name`]; also takes `SIGRT_0` for 32 and a bare decimal number.
pub fn signal_number(name: &str) -> Option<i32> {
    if let Some(&(sig, _)) = SIGNALS.iter().find(|&&(_, n)| n == name) {
        return Some(sig);
    }
    if name == "SIGRTMIN" {
        return Some(KERNEL_SIGRTMIN);
    }
    if let Some(offset) = name.strip_prefix("SIGRT_") {
        if !all_digits(offset) {
            return None;
        }
        let sig = KERNEL_SIGRTMIN.checked_add(offset.parse().ok()?)?;
        return (sig <= KERNEL_SIGRTMAX).then_some(sig);
    }
    // signal_name writes negative numbers too (it never refuses), so take a leading `-` back.
    if !all_digits(name.strip_prefix('-').unwrap_or(name)) {
        return None;
    }
    name.parse().ok()
}

/// Plain ASCII digits only: `str::parse` alone would also accept a `+` sign.
fn all_digits(digits: &str) -> bool {
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_signals_use_native_numbers() {
        assert_eq!(signal_name(libc::SIGCHLD), "SIGCHLD");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(libc::SIGTRAP), "SIGTRAP");
        assert_eq!(signal_number("SIGSEGV"), Some(libc::SIGSEGV));
        assert_eq!(signal_number("SIGSYS"), Some(libc::SIGSYS));
        assert_eq!(signal_number("SIGIO"), Some(libc::SIGPOLL));
    }

    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    #[test]
    fn every_number_below_32_is_named() {
        // On the supported architectures the table covers 1..=31 with no holes or repeats.
        for sig in 1..=31 {
            assert!(signal_name(sig).starts_with("SIG"), "{sig}");
        }
        assert_eq!(SIGNALS.len(), 31);
        assert_eq!(signal_name(libc::SIGCHLD), signal_name(17));
    }

    #[test]
    fn real_time_signals_as_strace_prints_them() {
        assert_eq!(signal_name(32), "SIGRTMIN");
        assert_eq!(signal_name(33), "SIGRT_1");
        assert_eq!(signal_name(34), "SIGRT_2");
        assert_eq!(signal_name(64), "SIGRT_32");
        assert_eq!(signal_number("SIGRT_0"), Some(32));
        assert_eq!(signal_number("SIGRT_32"), Some(64));
    }

    #[test]
    fn others_are_decimal() {
        assert_eq!(signal_name(0), "0");
        assert_eq!(signal_name(65), "65");
        assert_eq!(signal_name(-1), "-1");
        assert_eq!(signal_name(0x85), "133");
        assert_eq!(signal_number("0"), Some(0));
        assert_eq!(signal_number("65"), Some(65));
        assert_eq!(signal_number("-1"), Some(-1));
    }

    #[test]
    fn round_trip() {
        for sig in -1..=70 {
            let name = signal_name(sig);
            assert_eq!(signal_number(&name), Some(sig), "{sig} {name}");
        }
        assert_eq!(signal_number(&signal_name(i32::MIN)), Some(i32::MIN));
        assert_eq!(signal_number(&signal_name(i32::MAX)), Some(i32::MAX));
    }

    #[test]
    fn bad_names_are_rejected() {
        for bad in [
            "", "SIGFOO", "sigchld", "CHLD", "SIGRT_", "SIGRT_33", "SIGRT_+1", "SIGRT_-1", "+5",
            "--5", "5x", "SIGRTMAX",
        ] {
            assert_eq!(signal_number(bad), None, "{bad:?}");
        }
    }
}
