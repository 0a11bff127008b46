//! spawn: starts the traced command as a shell would (PATH search, 126/127 on failure), blocked
//! on a pipe until its engine is ready (ptrace seizes it, eBPF registers its pid), so the exec
//! itself is traced, with the tracer's own signal state undone.

use crate::error::Error;
use crate::event::Pid;
use crate::tracer::ptrace;
use crate::tracer::signals::{self, TracerSignals};
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Finds the program as `execvp` would, so a missing or non-executable command is reported before
/// anything runs.
pub fn resolve(program: &OsString) -> Result<PathBuf, Error> {
    let shown = program.to_string_lossy();
    let not_found = || Error {
        message: format!("{shown}: command not found"),
        exit_code: 127,
    };
    let check = |path: &Path| -> Result<PathBuf, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error {
            message: format!("{}: {}", path.display(), describe_io(&e)),
            exit_code: 127,
        })?;
        if meta.is_dir() {
            return Err(Error {
                message: format!("{}: Is a directory", path.display()),
                exit_code: 126,
            });
        }
        let executable = nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
            && meta.permissions().mode() & 0o111 != 0;
        if !executable {
            return Err(Error {
                message: format!("{}: Permission denied", path.display()),
                exit_code: 126,
            });
        }
        Ok(path.to_path_buf())
    };
    if program.is_empty() {
        return Err(not_found());
    }
    if program.as_bytes().contains(&b'/') {
        return check(Path::new(program));
    }
    let path_var =
        std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut denied = None;
    for dir in std::env::split_paths(&path_var) {
        let candidate = dir.join(program);
        if !candidate.exists() {
            continue;
        }
        match check(&candidate) {
            Ok(found) => return Ok(found),
            Err(e) if denied.is_none() => denied = Some(e),
            Err(_) => {}
        }
    }
    Err(denied.unwrap_or_else(not_found))
}

fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => error.to_string(),
    }
}

/// The account `-u USER` names; only root may switch to it.
pub fn lookup_user(name: &str) -> Result<nix::unistd::User, Error> {
    let fail = |message: String| Error {
        message,
        exit_code: 1,
    };
    if !nix::unistd::geteuid().is_root() {
        return Err(fail(format!(
            "-u {name}: running the command as another user needs root"
        )));
    }
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(fail(format!("-u {name}: no such user"))),
        Err(e) => Err(fail(format!("-u {name}: {}", e.desc()))),
    }
}

/// Forks the command, seizes it while it waits on a pipe, then lets it exec. Returns its pid once
/// the exec has happened (or failed: then the error and the shell's exit status).
pub fn spawn(
    path: &Path,
    argv: &[OsString],
    signals: &TracerSignals,
    user: Option<&nix::unistd::User>,
    options: libc::c_int,
    seccomp_filter: Option<&[libc::sock_filter]>,
) -> Result<Pid, Error> {
    let blocked = start(path, argv, signals, user, seccomp_filter)?;
    if let Err(errno) = ptrace::seize(blocked.pid, options) {
        // It has not run anything of the user's yet: let it go without running the command.
        blocked.abandon();
        return Err(Error::new(
            format!(
                "cannot trace the command: ptrace(PTRACE_SEIZE): {}",
                errno.desc()
            ),
            1,
        ));
    }
    // The error pipe is close-on-exec: EOF means the exec happened. The exec event stop comes
    // after the kernel closed it, so this never waits on the tracer.
    blocked.release(path)
}

/// A forked command waiting to exec.
pub struct Blocked {
    pub pid: Pid,
    go: OwnedFd,
    errors: OwnedFd,
}

/// Forks the command as a shell would, with the tracer's own signal state undone; it waits on a
/// pipe until [`Blocked::release`], so an engine can get ready for it (seize it, register its
/// pid) before it runs anything of its own. Under `-u USER` it drops to that user, then installs
/// `seccomp_filter` if one is given, then execs.
pub fn start(
    path: &Path,
    argv: &[OsString],
    signals: &TracerSignals,
    user: Option<&nix::unistd::User>,
    seccomp_filter: Option<&[libc::sock_filter]>,
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
            // Installed after the engine is ready (a seize), so the filter's stops always have a
            // tracer.
            if seccomp_filter.is_none_or(|f| super::seccomp::install(f)) {
                libc::execv(c_path.as_ptr(), argv_ptrs.as_ptr());
            }
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
            // The child _exits at once; collect it so no zombie is left.
            let _ = nix::sys::wait::waitpid(
                nix::unistd::Pid::from_raw(self.pid),
                Some(nix::sys::wait::WaitPidFlag::__WALL),
            );
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
        let _ = nix::sys::wait::waitpid(
            nix::unistd::Pid::from_raw(pid),
            Some(nix::sys::wait::WaitPidFlag::__WALL),
        );
    }
}
