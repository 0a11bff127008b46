//! via: names the library call behind a creation from its signature (syscall, flags, stack,
//! tid pointers) confirmed by the code it was called from (each frame's file flavour and
//! function, innermost first). Returns `None` when the evidence does not settle it: never a
//! guess. Pure.

use crate::event::{CloneFlags, Create, Syscall, Via};

/// Whose code a file holds, as far as it matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Glibc,
    Musl,
    Go,
    Other,
}

/// One frame of the creator's stack, as the decision sees it.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// `None`: anonymous code (a JIT) or no mapping.
    pub flavour: Option<Flavour>,
    pub path: Option<&'a str>,
    pub function: Option<&'a str>,
}

impl Site<'_> {
    fn libc(&self) -> Option<Flavour> {
        self.flavour
            .filter(|f| matches!(f, Flavour::Glibc | Flavour::Musl))
    }

    fn base(&self) -> &str {
        let path = self.path.unwrap_or("");
        path.rsplit('/').next().unwrap_or(path)
    }

    fn function_is(&self, names: &[&str]) -> bool {
        self.function.is_some_and(|f| names.contains(&f))
    }
}

const FORK_FLAGS: u64 = (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u64;
const DETACHED: u64 = 0x0040_0000;

/// The library call behind `create`, from `sites` (innermost first; the first is where the
/// creator stopped, inside the syscall).
pub fn decide_via(create: &Create, sites: &[Site]) -> Option<Via> {
    let here = sites.first()?;
    let flags = create.flags;
    let thread = flags.contains(CloneFlags::THREAD);
    let vfork_like = flags.contains(CloneFlags::VM | CloneFlags::VFORK) && !thread;
    let syscall = create.syscall;
    match here.flavour {
        // Go makes its own system calls.
        Some(Flavour::Go) => {
            let f = here.function.unwrap_or("");
            return if thread && f.starts_with("runtime.") {
                Some(Via::GoRuntimeThread)
            } else if !thread && f.starts_with("syscall.") {
                Some(Via::GoExec)
            } else {
                None
            };
        }
        // The program's own syscall instruction (or a JIT's: unsure).
        Some(Flavour::Other) => return Some(Via::Syscall),
        None => return None,
        Some(_) => {}
    }
    let libc = here.libc()?;
    if here.function_is(&["syscall"]) {
        return Some(Via::Syscall);
    }
    // The frames inside the C library, and the first caller outside it.
    let inside = sites.iter().take_while(|s| s.libc().is_some()).count();
    let libc_frames = &sites[..inside];
    let callers = &sites[inside..];
    if let Some(runtime) = runtime_via(create, callers) {
        return Some(runtime);
    }
    let named = |names: &[&str]| libc_frames.iter().any(|s| s.function_is(names));
    let outermost = libc_frames.last().and_then(|s| s.function);
    match libc {
        Flavour::Glibc => match syscall {
            Syscall::Vfork => Some(Via::GlibcVfork),
            Syscall::Clone3 | Syscall::Clone if thread => {
                // pthread_create (clone3, or clone where clone3 is missing) or the program's
                // own clone(CLONE_THREAD…).
                if named(&["create_thread", "pthread_create", "__pthread_create_2_1"]) {
                    Some(Via::GlibcPthreadCreate)
                } else if syscall == Syscall::Clone3
                    && flags.0 & libc::CLONE_SETTLS as u64 != 0
                    && create.parent_tid != 0
                {
                    // Only pthread_create makes clone3 threads with TLS and parent_tid.
                    Some(Via::GlibcPthreadCreate)
                } else if syscall == Syscall::Clone
                    && outermost_is(libc_frames, &["clone", "__clone"])
                {
                    Some(Via::GlibcClone)
                } else {
                    None
                }
            }
            Syscall::Clone3 | Syscall::Clone
                if vfork_like && syscall == Syscall::Clone3
                    || named(&["__spawni", "__spawnix", "posix_spawn", "__posix_spawn"]) =>
            {
                match outermost {
                    Some("do_system" | "system" | "__libc_system") => Some(Via::GlibcSystem),
                    Some("popen" | "_IO_new_popen" | "_IO_proc_open" | "_IO_new_proc_open") => {
                        Some(Via::GlibcPopen)
                    }
                    Some("posix_spawn" | "__posix_spawn" | "posix_spawnp" | "__posix_spawnp") => {
                        Some(Via::GlibcPosixSpawn)
                    }
                    // A libc function we cannot name called posix_spawn (system's static
                    // do_system without debug symbols): posix_spawn it is, whose caller is
                    // left to the child's exec to tell.
                    _ if named(&["posix_spawn", "__posix_spawn"]) => Some(Via::GlibcPosixSpawn),
                    _ if vfork_like && create.stack_size == Some(0x9000) => {
                        Some(Via::GlibcPosixSpawn)
                    }
                    _ => None,
                }
            }
            Syscall::Clone
                if flags.0 == FORK_FLAGS
                    && create.exit_signal == Some(crate::event::Signo::SIGCHLD)
                    && create.stack == 0 =>
            {
                // _Fork: fork(), or a program calling _Fork itself.
                Some(Via::GlibcFork)
            }
            Syscall::Clone if outermost_is(libc_frames, &["clone", "__clone"]) => {
                Some(Via::GlibcClone)
            }
            _ => None,
        },
        Flavour::Musl => match syscall {
            Syscall::Fork => Some(Via::MuslFork),
            Syscall::Vfork => Some(Via::MuslVfork),
            Syscall::Clone if thread && flags.contains(DETACHED) => Some(Via::MuslPthreadCreate),
            Syscall::Clone if vfork_like && named(&["posix_spawn", "__posix_spawn"]) => {
                Some(Via::MuslPosixSpawn)
            }
            Syscall::Clone if outermost_is(libc_frames, &["clone", "__clone"]) => {
                Some(Via::MuslClone)
            }
            _ => None,
        },
        _ => None,
    }
}

fn outermost_is(libc_frames: &[Site], names: &[&str]) -> bool {
    libc_frames.last().is_some_and(|s| s.function_is(names))
}

/// A runtime above the C library, recognised from the first callers outside it.
fn runtime_via(create: &Create, callers: &[Site]) -> Option<Via> {
    let thread = create.flags.contains(CloneFlags::THREAD);
    for site in callers.iter().take(12) {
        let function = site.function.unwrap_or("");
        let base = site.base();
        if function.starts_with("uv_spawn") || function.starts_with("uv__spawn") {
            return Some(Via::LibuvSpawn);
        }
        // Rust std (demangled; C++'s std:: stays mangled, so it cannot match here).
        if function.starts_with("std::") || function.starts_with("<std::") {
            if !thread && function.contains("process") {
                return Some(Via::RustCommand);
            }
            if thread && function.contains("thread") {
                return Some(Via::RustThread);
            }
        }
        if base.starts_with("libjvm") {
            return Some(if thread {
                Via::JvmThread
            } else {
                Via::JvmProcess
            });
        }
        if !thread && (base.starts_with("libjava") || function.contains("forkAndExec")) {
            return Some(Via::JvmProcess);
        }
        if !thread
            && (base.starts_with("_posixsubprocess") || function.contains("subprocess_fork_exec"))
        {
            return Some(Via::PythonSubprocess);
        }
        if !thread && (function == "os_fork_impl" || function == "os_fork") {
            return Some(Via::PythonFork);
        }
    }
    None
}
