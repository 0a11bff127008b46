//! ebpf::spawn: starts the command blocked, so the BPF side can be told its pid before it runs
//! anything of its own, then lets it exec. The child waits on a pipe; nothing ever stops it.

use crate::error::Error;
use crate::event::Pid;
use crate::tracer::signals::{self, TracerSignals};
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// A forked command waiting to exec.
pub struct Blocked {
    pub pid: Pid,
    go: OwnedFd,
    errors: OwnedFd,
}

/// Forks the command; it waits on a pipe until `release`.
pub fn start(
    path: &Path,
    argv: &[OsString],
    signals: &TracerSignals,
    user: Option<&nix::unistd::User>,
) -> Result<Blocked, Error> {
    let fail = |what: &str, e: nix::Error| Error::new(format!("{what}: {}", e.desc()), 1);
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(format!("{}: path contains a NUL byte", path.display()), 127))?;
    let c_argv: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.clone().into_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::new("an argument contains a NUL byte", 127))?;
    let mut argv_ptrs: Vec<*const libc::c_char> = c_argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let user_ids = user.map(|u| {
        (
            u.uid.as_raw(),
            u.gid.as_raw(),
            CString::new(u.name.as_bytes()).unwrap_or_default(),
        )
    });
    let (go_read, go_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| fail("pipe", e))?;
    let (err_read, err_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| fail("pipe", e))?;

    // SAFETY: the tracer is single-threaded; the child only calls async-signal-safe functions.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(fail("fork", nix::Error::last()));
    }
    if pid == 0 {
        // Child: the signal state clonetrace was started with, then wait for the go, then exec.
        unsafe {
            libc::signal(libc::SIGPIPE, signals::original_sigpipe());
            for (sig, action) in &signals.original_actions {
                let _ = nix::sys::signal::sigaction(*sig, action);
            }
            libc::sigprocmask(
                libc::SIG_SETMASK,
                signals.original_mask.as_ref() as *const libc::sigset_t,
                std::ptr::null_mut(),
            );
            libc::close(go_write.as_raw_fd());
            libc::close(err_read.as_raw_fd());
            let mut byte = 0u8;
            // EOF without a byte: clonetrace gave up; do not run the command untraced.
            if libc::read(
                go_read.as_raw_fd(),
                &mut byte as *mut u8 as *mut libc::c_void,
                1,
            ) != 1
            {
                libc::_exit(126);
            }
            if let Some((uid, gid, name)) = &user_ids
                && (libc::initgroups(name.as_ptr(), *gid) != 0
                    || libc::setgid(*gid) != 0
                    || libc::setuid(*uid) != 0)
            {
                let errno = *libc::__errno_location();
                libc::write(
                    err_write.as_raw_fd(),
                    &errno as *const i32 as *const libc::c_void,
                    4,
                );
                libc::_exit(126);
            }
            libc::execv(c_path.as_ptr(), argv_ptrs.as_ptr());
            let errno = *libc::__errno_location();
            libc::write(
                err_write.as_raw_fd(),
                &errno as *const i32 as *const libc::c_void,
                4,
            );
            libc::_exit(if errno == libc::ENOENT { 127 } else { 126 });
        }
    }
    drop(go_read);
    drop(err_write);
    Ok(Blocked {
        pid,
        go: go_write,
        errors: err_read,
    })
}

impl Blocked {
    /// Lets the command exec; returns once it has (the error pipe is close-on-exec), or the
    /// error when it could not.
    pub fn release(self, path: &Path) -> Result<Pid, Error> {
        let _ = nix::unistd::write(&self.go, &[1u8]);
        drop(self.go);
        let mut errno_bytes = [0u8; 4];
        let got = nix::unistd::read(&self.errors, &mut errno_bytes).unwrap_or(0);
        if got == 4 {
            let errno = nix::errno::Errno::from_raw(i32::from_ne_bytes(errno_bytes));
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(self.pid), None);
            return Err(Error::new(
                format!("{}: {}", path.display(), errno.desc()),
                if errno == nix::errno::Errno::ENOENT {
                    127
                } else {
                    126
                },
            ));
        }
        Ok(self.pid)
    }

    /// Gives up: the command exits without running (its pipe closes), and is collected.
    pub fn abandon(self) {
        let pid = self.pid;
        drop(self);
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    }
}
