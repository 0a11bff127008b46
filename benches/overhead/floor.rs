//! The bare ptrace floor: the least a follower of every fork, vfork, clone and exec can do.
//!
//! It is the physical reference of the benchmark. Any ptrace design pays at least these stops
//! (unless it asks the kernel for fewer): the creator's event stop, the child's first stop, the
//! exit event, the exit status, and the signal-delivery stop of the parent's SIGCHLD. Nothing is
//! decoded, nothing is written, no memory is allocated in the loop.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

/// Follows every task of `cmd` and exits with the root's status (128+signal if killed).
pub fn main(cmd: &[OsString]) -> ! {
    let argv: Vec<CString> = cmd
        .iter()
        .map(|a| CString::new(a.as_bytes()).expect("argument with a NUL byte"))
        .collect();
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());

    // The child waits on this pipe so that it is seized before it execs: its exec and
    // everything it creates are then followed, with no window.
    let mut fds = [0; 2];
    check(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) },
        "pipe2",
    );
    let root = unsafe { libc::fork() };
    check(root, "fork");
    if root == 0 {
        // Only async-signal-safe calls between fork and exec.
        unsafe {
            libc::close(fds[1]);
            let mut byte = 0u8;
            libc::read(fds[0], (&raw mut byte).cast(), 1);
            libc::execvp(argv_ptrs[0], argv_ptrs.as_ptr());
            libc::_exit(127);
        }
    }
    unsafe { libc::close(fds[0]) };

    let options = libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_TRACEEXIT;
    check(
        unsafe { libc::ptrace(libc::PTRACE_SEIZE, root, 0, options as libc::c_long) },
        "PTRACE_SEIZE",
    );
    // EOF on the pipe releases the child into its exec.
    unsafe { libc::close(fds[1]) };

    let root_status = follow(root);
    let code = if libc::WIFEXITED(root_status) {
        libc::WEXITSTATUS(root_status)
    } else {
        128 + libc::WTERMSIG(root_status)
    };
    std::process::exit(code)
}

/// The event loop: one blocking wait for any tracee, one restart per stop. Returns the
/// root's wait status once the root is gone.
fn follow(root: libc::pid_t) -> libc::c_int {
    loop {
        let mut status = 0;
        let tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if tid < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                _ => panic!("waitpid: {}", std::io::Error::last_os_error()),
            }
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            if tid == root {
                return status;
            }
            continue;
        }
        let signal = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xff;
        let (request, data) = match event {
            // A signal-delivery stop: hand the signal back so the program sees it.
            0 => (libc::PTRACE_CONT, signal),
            // Under PTRACE_SEIZE a group-stop reports as PTRACE_EVENT_STOP with a stop
            // signal; LISTEN keeps the task stopped the way it would be untraced. A new
            // task's first stop is PTRACE_EVENT_STOP with SIGTRAP and just continues.
            libc::PTRACE_EVENT_STOP if is_stop_signal(signal) => (libc::PTRACE_LISTEN, 0),
            // fork/vfork/clone/exec/exit event stops and first stops.
            _ => (libc::PTRACE_CONT, 0),
        };
        // ESRCH only means the task was killed while stopped; its death is reported next.
        unsafe { libc::ptrace(request, tid, 0, data as libc::c_long) };
    }
}

fn is_stop_signal(signal: libc::c_int) -> bool {
    matches!(
        signal,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

fn check<T: Into<i64> + Copy>(ret: T, what: &str) -> T {
    if ret.into() < 0 {
        eprintln!(
            "floor follower: {what}: {}",
            std::io::Error::last_os_error()
        );
        std::process::exit(126);
    }
    ret
}
