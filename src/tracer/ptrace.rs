//! ptrace: every raw ptrace request the engine makes, in one small file. Each returns `false` or
//! `None` instead of failing when the task has vanished (ESRCH is normal: a tracee can be killed
//! at any moment), so callers never crash on a race with the kernel.

use crate::event::Pid;
use nix::errno::Errno;

/// Options set at seize; inherited by every auto-attached child.
pub fn options(syscall_stops: bool) -> libc::c_int {
    let mut options = libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC;
    if syscall_stops {
        options |= libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACESECCOMP;
    }
    options
}

fn request(req: libc::c_uint, pid: Pid, addr: usize, data: usize) -> Result<libc::c_long, Errno> {
    // SAFETY: ptrace with integer arguments; the kernel validates pid, addr and data.
    let ret = unsafe { libc::ptrace(req, pid, addr, data) };
    if ret == -1 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// Attaches without stopping the task or sending it any signal it could see.
pub fn seize(pid: Pid, options: libc::c_int) -> Result<(), Errno> {
    request(libc::PTRACE_SEIZE, pid, 0, options as usize).map(drop)
}

/// Changes a stopped task's options (inherited by the tasks it creates from then on).
pub fn set_options(pid: Pid, options: libc::c_int) -> bool {
    request(libc::PTRACE_SETOPTIONS, pid, 0, options as usize).is_ok()
}

/// Resumes a stopped task, delivering `signal` (0 for none). False when the task vanished.
pub fn cont(pid: Pid, signal: i32) -> bool {
    request(libc::PTRACE_CONT, pid, 0, signal as usize).is_ok()
}

/// Resumes a stopped task until the next syscall entry or exit.
pub fn syscall(pid: Pid, signal: i32) -> bool {
    request(libc::PTRACE_SYSCALL, pid, 0, signal as usize).is_ok()
}

/// Lets a task in group-stop stay stopped for job control while the tracer keeps receiving its
/// events: `kill -CONT` then wakes it exactly as it would without a tracer.
pub fn listen(pid: Pid) -> bool {
    request(libc::PTRACE_LISTEN, pid, 0, 0).is_ok()
}

/// Stops a running tracee (reported as a `PTRACE_EVENT_STOP`) without a signal it could see.
pub fn interrupt(pid: Pid) -> bool {
    request(libc::PTRACE_INTERRUPT, pid, 0, 0).is_ok()
}

/// Detaches from a stopped task, delivering `signal` so a pending one is not lost.
pub fn detach(pid: Pid, signal: i32) -> bool {
    request(libc::PTRACE_DETACH, pid, 0, signal as usize).is_ok()
}

/// Which side of a syscall a syscall-stop is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallStop {
    Entry,
    Exit,
}

/// PTRACE_GET_SYSCALL_INFO (Linux 5.3): whether a SIGTRAP|0x80 stop is a syscall entry or exit,
/// which the registers alone do not tell.
pub fn syscall_stop_kind(pid: Pid) -> Option<SyscallStop> {
    const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;
    const OP_ENTRY: u8 = 1;
    const OP_EXIT: u8 = 2;
    // struct ptrace_syscall_info starts with `__u8 op`; the rest is not needed.
    let mut info = [0u8; 88];
    request(
        PTRACE_GET_SYSCALL_INFO,
        pid,
        info.len(),
        info.as_mut_ptr() as usize,
    )
    .ok()?;
    match info[0] {
        OP_ENTRY => Some(SyscallStop::Entry),
        OP_EXIT => Some(SyscallStop::Exit),
        _ => None,
    }
}

/// The event message of the last ptrace event stop: the new tid at fork/clone events, the
/// former tid at an exec event.
pub fn event_message(pid: Pid) -> Option<u64> {
    let mut message: libc::c_ulong = 0;
    request(
        libc::PTRACE_GETEVENTMSG,
        pid,
        0,
        &mut message as *mut libc::c_ulong as usize,
    )
    .ok()
    .map(|_| message as u64)
}

/// The return value of a task at a syscall-exit stop (a negative errno on failure).
#[cfg(target_arch = "x86_64")]
pub fn syscall_return(pid: Pid) -> Option<i64> {
    let regs = nix::sys::ptrace::getregs(nix::unistd::Pid::from_raw(pid)).ok()?;
    Some(regs.rax as i64)
}

/// The return value of a task at a syscall-exit stop (a negative errno on failure).
#[cfg(not(target_arch = "x86_64"))]
pub fn syscall_return(pid: Pid) -> Option<i64> {
    // x0 / a0 holds the return value at syscall exit.
    syscall_registers(pid).map(|(_, args)| args[0] as i64)
}

/// A creator stopped at its creation event: the syscall number and arguments (as
/// [`syscall_registers`]) and the registers its stack is unwound from, from one
/// PTRACE_GETREGS instead of one each.
#[cfg(target_arch = "x86_64")]
pub fn creation_registers(pid: Pid) -> Option<((u64, [u64; 6]), UnwindRegisters)> {
    let regs = nix::sys::ptrace::getregs(nix::unistd::Pid::from_raw(pid)).ok()?;
    Some((
        (
            regs.orig_rax,
            [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
        ),
        Some((regs.rip, regs.rsp, regs.rbp, regs.rdi, regs.rdx)),
    ))
}

/// A creator stopped at its creation event: its syscall registers (unwinding is x86_64 only).
#[cfg(not(target_arch = "x86_64"))]
pub fn creation_registers(pid: Pid) -> Option<((u64, [u64; 6]), UnwindRegisters)> {
    Some((syscall_registers(pid)?, None))
}

/// The registers a stack is unwound from, and the two where a vfork wrapper keeps its return
/// address (glibc: rdi, musl: rdx): `(ip, sp, bp, rdi, rdx)`; `None` where unwinding is not
/// implemented (x86_64 only).
pub type UnwindRegisters = Option<(u64, u64, u64, u64, u64)>;

/// The syscall number and six argument words of a task stopped inside a syscall.
#[cfg(target_arch = "x86_64")]
pub fn syscall_registers(pid: Pid) -> Option<(u64, [u64; 6])> {
    let regs = nix::sys::ptrace::getregs(nix::unistd::Pid::from_raw(pid)).ok()?;
    Some((
        regs.orig_rax,
        [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9],
    ))
}

/// The syscall number and six argument words of a task stopped inside a syscall.
#[cfg(not(target_arch = "x86_64"))]
pub fn syscall_registers(pid: Pid) -> Option<(u64, [u64; 6])> {
    // PTRACE_GET_SYSCALL_INFO (Linux 5.3) gives the number and arguments on every architecture;
    // at an event stop inside fork/clone it reports op SECCOMP or NONE on some kernels, so we use
    // the generic register set: on aarch64 and riscv64 the syscall number is in x8/a7 and the
    // arguments in x0..x5/a0..a5, but x0 is overwritten by the return value only after the stop.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: &mut regs as *mut _ as *mut libc::c_void,
        iov_len: std::mem::size_of::<libc::user_regs_struct>(),
    };
    request(
        libc::PTRACE_GETREGSET,
        pid,
        libc::NT_PRSTATUS as usize,
        &mut iov as *mut libc::iovec as usize,
    )
    .ok()?;
    #[cfg(target_arch = "aarch64")]
    return Some((
        regs.regs[8],
        [
            regs.regs[0],
            regs.regs[1],
            regs.regs[2],
            regs.regs[3],
            regs.regs[4],
            regs.regs[5],
        ],
    ));
    #[cfg(target_arch = "riscv64")]
    return Some((
        regs.a7,
        [regs.a0, regs.a1, regs.a2, regs.a3, regs.a4, regs.a5],
    ));
}
