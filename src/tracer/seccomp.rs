//! seccomp: the filter that makes `--syscalls` cheap in spawn mode. Only the creation, wait and
//! namespace (unshare, setns) syscalls stop (SECCOMP_RET_TRACE); every other syscall runs untouched. The filter is inherited
//! by every descendant and can never be removed: if the tracer goes away, those calls fail with
//! ENOSYS. That is why it is used only when the user asks for syscall-level detail.

use syscalls::Sysno;

/// The syscalls that stop under `--syscalls`.
pub const TRACED: &[Sysno] = &[
    Sysno::clone,
    Sysno::clone3,
    #[cfg(target_arch = "x86_64")]
    Sysno::fork,
    #[cfg(target_arch = "x86_64")]
    Sysno::vfork,
    Sysno::wait4,
    Sysno::waitid,
    Sysno::unshare,
    Sysno::setns,
];

/// Whether `nr` is one of the syscalls `--syscalls` watches.
pub fn is_traced(nr: u64) -> bool {
    TRACED.iter().any(|s| s.id() as u64 == nr)
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
#[cfg(target_arch = "riscv64")]
const AUDIT_ARCH: u32 = 0xc000_00f3; // AUDIT_ARCH_RISCV64

/// The BPF program: a foreign architecture or any other syscall is allowed, ours trace.
pub fn filter() -> Vec<libc::sock_filter> {
    const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let stmt = |code, k| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |k, jt, jf| libc::sock_filter {
        code: JEQ_K,
        jt,
        jf,
        k,
    };
    let traced = TRACED.len() as u8;
    // seccomp_data: nr at offset 0, arch at offset 4.
    let mut program = vec![
        stmt(LD_W_ABS, 4),
        jump(AUDIT_ARCH, 0, traced + 1), // foreign arch: over "ld nr" and the compares to "allow"
        stmt(LD_W_ABS, 0),
    ];
    for (n, sysno) in TRACED.iter().enumerate() {
        // On a match jump over the remaining compares and "allow" to "trace".
        program.push(jump(sysno.id() as u32, traced - n as u8, 0));
    }
    program.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    program.push(stmt(RET_K, libc::SECCOMP_RET_TRACE));
    program
}

/// Installs the filter in the calling process (the child, just before exec). Async-signal-safe:
/// only raw syscalls on memory prepared before fork.
///
/// # Safety
/// `program` must stay alive for the call.
pub unsafe fn install(program: &[libc::sock_filter]) -> bool {
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    unsafe {
        // Without CAP_SYS_ADMIN the kernel wants no_new_privs (setuid programs then run without
        // their privileges, as under any seccomp sandbox).
        if libc::geteuid() != 0 {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        }
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_on_allow_or_trace() {
        let program = filter();
        let allow = program.len() - 2;
        let trace = program.len() - 1;
        assert_eq!(1 + 1 + program[1].jf as usize, allow);
        for (at, insn) in program.iter().enumerate().skip(3).take(TRACED.len()) {
            assert_eq!(at + 1 + insn.jt as usize, trace);
            assert_eq!(insn.jf, 0);
        }
    }
}
