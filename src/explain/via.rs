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

/// How much of the creator's stack [`decide_via`] looks at beyond the frame it stopped in, so
/// the engine unwinds no further than the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// None: `here` alone decides.
    None,
    /// None, unless a runtime could be named above the C library ([`may_name_runtime`]): then
    /// every frame.
    NoneUnlessRuntime,
    /// The C library's frames and the first caller outside it, unless a runtime could be named
    /// above the C library: then every frame.
    LibcUnlessRuntime,
}

/// What [`decide_via`] needs of the frames above `here` (the first site) for `create`. Where a
/// runtime cannot be named, the decision on the frames this asks for equals the decision on
/// the whole stack (a test holds the two together).
pub fn callers_needed(create: &Create, here: &Site) -> Callers {
    let flags = create.flags;
    let thread = flags.contains(CloneFlags::THREAD);
    match (here.flavour, create.syscall) {
        // Decided before the runtimes and the C library's frames are looked at.
        (Some(Flavour::Go | Flavour::Other) | None, _) => Callers::None,
        (Some(_), _) if here.function_is(&["syscall"]) => Callers::None,
        (Some(Flavour::Glibc), Syscall::Vfork) => Callers::NoneUnlessRuntime,
        // pthread_create whether or not its frames are named.
        (Some(Flavour::Glibc), Syscall::Clone3)
            if thread && flags.0 & libc::CLONE_SETTLS as u64 != 0 && create.parent_tid != 0 =>
        {
            Callers::NoneUnlessRuntime
        }
        (Some(Flavour::Musl), Syscall::Fork | Syscall::Vfork) => Callers::NoneUnlessRuntime,
        (Some(Flavour::Musl), Syscall::Clone) if thread && flags.contains(DETACHED) => {
            Callers::NoneUnlessRuntime
        }
        _ => Callers::LibcUnlessRuntime,
    }
}

/// Whether a frame in the file at `path` (a mapping's name) could make [`runtime_via`] name a
/// runtime, whatever its function. Matches at least every file name `runtime_via` matches.
pub fn path_may_name_runtime(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    ["libjvm", "libjava", "_posixsubprocess"]
        .iter()
        .any(|p| base.starts_with(p))
}

/// Whether a frame in function `function` could make [`runtime_via`] name a runtime, whatever
/// its file. Matches at least every function name `runtime_via` matches.
pub fn may_name_runtime(function: &str) -> bool {
    ["uv_spawn", "uv__spawn", "std::", "<std::"]
        .iter()
        .any(|p| function.starts_with(p))
        || ["forkAndExec", "subprocess_fork_exec"]
            .iter()
            .any(|p| function.contains(p))
        || function == "os_fork_impl"
        || function == "os_fork"
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, Signo};

    fn site(flavour: Flavour, function: &'static str) -> Site<'static> {
        let path = match flavour {
            Flavour::Glibc => "/usr/lib/x86_64-linux-gnu/libc.so.6",
            _ => "/tmp/program",
        };
        Site {
            flavour: Some(flavour),
            path: Some(path),
            function: (!function.is_empty()).then_some(function),
        }
    }

    fn call(syscall: Syscall, flags: u64, exit_signal: Option<Signo>) -> Create {
        let flags = CloneFlags(flags);
        Create {
            syscall,
            flags,
            exit_signal,
            kind: Kind::of(flags),
            ..Create::default()
        }
    }

    const THREAD_FLAGS: u64 = (libc::CLONE_VM
        | libc::CLONE_FS
        | libc::CLONE_FILES
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_SYSVSEM
        | libc::CLONE_SETTLS
        | libc::CLONE_PARENT_SETTID
        | libc::CLONE_CHILD_CLEARTID) as u64;

    #[test]
    fn glibc_calls_from_their_frames() {
        use Flavour::{Glibc, Other};
        let fork = call(Syscall::Clone, FORK_FLAGS, Some(Signo::SIGCHLD));
        let frames = [
            site(Glibc, "_Fork"),
            site(Glibc, "__libc_fork"),
            site(Other, "main"),
        ];
        assert_eq!(decide_via(&fork, &frames), Some(Via::GlibcFork));
        let spawn = Create {
            stack_size: Some(0x9000),
            stack: 0x7f00_0000_0000,
            ..call(
                Syscall::Clone3,
                CloneFlags::VM | CloneFlags::VFORK,
                Some(Signo::SIGCHLD),
            )
        };
        let inner = [
            site(Glibc, "__clone3"),
            site(Glibc, ""),
            site(Glibc, ""),
            site(Glibc, "posix_spawn"),
        ];
        let with = |outer: &'static str| {
            let mut frames = inner.to_vec();
            if !outer.is_empty() {
                frames.push(site(Glibc, outer));
            }
            frames.push(site(Other, "main"));
            decide_via(&spawn, &frames)
        };
        assert_eq!(with(""), Some(Via::GlibcPosixSpawn));
        assert_eq!(with("do_system"), Some(Via::GlibcSystem));
        assert_eq!(with("popen"), Some(Via::GlibcPopen));
        // Without debug symbols do_system has no name: posix_spawn is what is known.
        let mut unnamed = inner.to_vec();
        unnamed.push(site(Glibc, ""));
        unnamed.push(site(Other, "main"));
        assert_eq!(decide_via(&spawn, &unnamed), Some(Via::GlibcPosixSpawn));
        let thread = Create {
            parent_tid: 0x7f00_0000_1000,
            ..call(Syscall::Clone3, THREAD_FLAGS, None)
        };
        let frames = [site(Glibc, "__clone3"), site(Glibc, "pthread_create")];
        assert_eq!(decide_via(&thread, &frames), Some(Via::GlibcPthreadCreate));
        let vfork = call(Syscall::Vfork, CloneFlags::VM | CloneFlags::VFORK, None);
        assert_eq!(
            decide_via(&vfork, &[site(Glibc, "__vfork"), site(Other, "main")]),
            Some(Via::GlibcVfork)
        );
        let raw = call(Syscall::Clone, 0, Some(Signo::SIGCHLD));
        assert_eq!(
            decide_via(&raw, &[site(Glibc, "syscall"), site(Other, "main")]),
            Some(Via::Syscall)
        );
        assert_eq!(
            decide_via(&raw, &[site(Glibc, "clone"), site(Other, "main")]),
            Some(Via::GlibcClone)
        );
        // The program's own syscall instruction.
        assert_eq!(decide_via(&raw, &[site(Other, "main")]), Some(Via::Syscall));
    }

    /// Where no frame names a runtime, deciding on the frames `callers_needed` asks for gives
    /// what the whole stack gives.
    #[test]
    fn the_frames_callers_needed_asks_for_decide_as_the_whole_stack() {
        use Flavour::{Glibc, Go, Musl, Other};
        let spawn_flags = CloneFlags::VM | CloneFlags::VFORK;
        let calls = [
            call(Syscall::Clone, FORK_FLAGS, Some(Signo::SIGCHLD)),
            call(Syscall::Clone, 0, Some(Signo::SIGCHLD)),
            call(Syscall::Clone, THREAD_FLAGS, None),
            call(Syscall::Clone, THREAD_FLAGS | DETACHED, None),
            call(Syscall::Clone, spawn_flags, Some(Signo::SIGCHLD)),
            call(Syscall::Clone3, THREAD_FLAGS, None),
            Create {
                parent_tid: 0x7f00_0000_1000,
                ..call(Syscall::Clone3, THREAD_FLAGS, None)
            },
            Create {
                stack_size: Some(0x9000),
                stack: 0x7f00_0000_0000,
                ..call(Syscall::Clone3, spawn_flags, Some(Signo::SIGCHLD))
            },
            call(Syscall::Clone3, spawn_flags, Some(Signo::SIGCHLD)),
            call(Syscall::Fork, 0, Some(Signo::SIGCHLD)),
            call(Syscall::Vfork, spawn_flags, None),
        ];
        let heres = [
            site(Glibc, "_Fork"),
            site(Glibc, "__clone3"),
            site(Glibc, "__clone"),
            site(Glibc, "__vfork"),
            site(Glibc, "syscall"),
            site(Glibc, ""),
            site(Musl, "__clone"),
            site(Musl, "vfork"),
            site(Musl, "_Fork"),
            site(Go, "runtime.clone"),
            site(Go, "syscall.rawVforkSyscall"),
            site(Other, "main"),
        ];
        let libc_names = [
            "",
            "__libc_fork",
            "pthread_create",
            "create_thread",
            "__spawni",
            "posix_spawn",
            "do_system",
            "popen",
            "clone",
            "__clone",
            "__libc_start_call_main",
        ];
        let mut stacks: Vec<Vec<Site>> = vec![vec![]];
        for flavour in [Glibc, Musl] {
            for a in libc_names {
                stacks.push(vec![site(flavour, a), site(Other, "main")]);
                for b in libc_names {
                    stacks.push(vec![
                        site(flavour, a),
                        site(flavour, b),
                        site(Other, "main"),
                        site(flavour, "__libc_start_call_main"),
                    ]);
                    stacks.push(vec![site(flavour, a), site(flavour, b)]);
                }
            }
        }
        stacks.push(vec![site(Other, "main"), site(Glibc, "posix_spawn")]);
        for create in &calls {
            for here in heres {
                for above in &stacks {
                    let mut whole = vec![here];
                    whole.extend(above.iter().copied());
                    let inside = whole.iter().take_while(|s| s.libc().is_some()).count();
                    let needed = match callers_needed(create, &here) {
                        Callers::None | Callers::NoneUnlessRuntime => &whole[..1],
                        Callers::LibcUnlessRuntime => &whole[..(inside + 1).min(whole.len())],
                    };
                    assert_eq!(
                        decide_via(create, needed),
                        decide_via(create, &whole),
                        "{create:?} {whole:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_runtime_named_is_one_may_name_runtime_foresees() {
        use Flavour::Other;
        let fork = call(Syscall::Clone, FORK_FLAGS, Some(Signo::SIGCHLD));
        let thread = call(Syscall::Clone, THREAD_FLAGS, None);
        let functions = [
            "uv_spawn",
            "uv__spawn_and_init_child",
            "std::process::Command::spawn",
            "<std::thread::Builder>::spawn",
            "std::thread::lifecycle::spawn_unchecked",
            "Java_java_lang_ProcessImpl_forkAndExec",
            "subprocess_fork_exec",
            "os_fork_impl",
            "os_fork",
            "main",
            "",
        ];
        let paths = [
            "/usr/lib/jvm/lib/server/libjvm.so",
            "/usr/lib/jvm/lib/libjava.so",
            "/usr/lib/python3.11/lib-dynload/_posixsubprocess.cpython-311.so",
            "/tmp/program",
        ];
        for create in [&fork, &thread] {
            for function in functions {
                for path in paths {
                    let caller = Site {
                        flavour: Some(Other),
                        path: Some(path),
                        function: (!function.is_empty()).then_some(function),
                    };
                    if runtime_via(create, &[caller]).is_some() {
                        assert!(
                            may_name_runtime(function) || path_may_name_runtime(path),
                            "{function} in {path}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn runtimes_above_the_c_library_and_unsure_cases() {
        use Flavour::{Glibc, Go, Musl, Other};
        let fork = call(Syscall::Clone, FORK_FLAGS, Some(Signo::SIGCHLD));
        let node = [
            site(Glibc, "_Fork"),
            site(Glibc, "__libc_fork"),
            site(Other, "uv_spawn"),
        ];
        assert_eq!(decide_via(&fork, &node), Some(Via::LibuvSpawn));
        let rust_fork_in_a_thread = [
            site(Glibc, "_Fork"),
            site(Other, "std::thread::lifecycle::spawn_unchecked"),
        ];
        assert_eq!(
            decide_via(&fork, &rust_fork_in_a_thread),
            Some(Via::GlibcFork)
        );
        let go_thread = call(
            Syscall::Clone,
            THREAD_FLAGS & !((libc::CLONE_PARENT_SETTID | libc::CLONE_CHILD_CLEARTID) as u64),
            None,
        );
        assert_eq!(
            decide_via(&go_thread, &[site(Go, "runtime.clone")]),
            Some(Via::GoRuntimeThread)
        );
        let go_exec = call(
            Syscall::Clone,
            CloneFlags::VM | CloneFlags::VFORK,
            Some(Signo::SIGCHLD),
        );
        assert_eq!(
            decide_via(&go_exec, &[site(Go, "syscall.rawVforkSyscall")]),
            Some(Via::GoExec)
        );
        let musl_thread = call(Syscall::Clone, THREAD_FLAGS | DETACHED, None);
        assert_eq!(
            decide_via(
                &musl_thread,
                &[site(Musl, "__clone"), site(Musl, "pthread_create")]
            ),
            Some(Via::MuslPthreadCreate)
        );
        assert_eq!(
            decide_via(
                &call(Syscall::Fork, 0, Some(Signo::SIGCHLD)),
                &[site(Musl, "_Fork")]
            ),
            Some(Via::MuslFork)
        );
        // Anonymous code (a JIT) or nothing readable: unsure.
        let jit = Site {
            flavour: None,
            path: None,
            function: None,
        };
        assert_eq!(decide_via(&fork, &[jit]), None);
        assert_eq!(decide_via(&fork, &[]), None);
    }
}
