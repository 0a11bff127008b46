//! event::explain: the values that explain a creation beyond its arguments — which library call
//! made it (`Via`), what its stack lies in (`StackRegion`), the creator's user stack (`Frame`)
//! and the limits that shaped or refused it (`RLimit`). Values only: words are made in the
//! views' vocabulary; nothing here does I/O.

use serde::{Deserialize, Serialize};

/// The library call (or runtime) behind a creation, decided from its signature and confirmed by
/// the code it returns to in the creator. Absent when the evidence does not settle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// glibc `fork()` (`_Fork`: clone with CHILD_SETTID|CHILD_CLEARTID|SIGCHLD).
    GlibcFork,
    /// glibc `vfork()` (the vfork syscall).
    GlibcVfork,
    /// glibc `posix_spawn()` (clone3 VM|VFORK on a 36 KiB mmap'd stack).
    GlibcPosixSpawn,
    /// glibc `system()` (posix_spawn of `/bin/sh -c`).
    GlibcSystem,
    /// glibc `popen()` (posix_spawn of `/bin/sh -c`).
    GlibcPopen,
    /// glibc `pthread_create()` (clone3 THREAD…).
    GlibcPthreadCreate,
    /// glibc's `clone()` wrapper, called by the program itself.
    GlibcClone,
    /// musl `fork()` (the fork syscall).
    MuslFork,
    /// musl `vfork()`.
    MuslVfork,
    /// musl `posix_spawn()` (clone VM|VFORK on the caller's stack).
    MuslPosixSpawn,
    /// musl `pthread_create()` (clone with CLONE_DETACHED).
    MuslPthreadCreate,
    /// musl's `clone()` wrapper, called by the program itself.
    MuslClone,
    /// A Go runtime thread (`runtime.newosproc` → raw clone, no tid pointers).
    GoRuntimeThread,
    /// Go `os/exec` / `syscall.ForkExec` (`clone(VM|VFORK|SIGCHLD)`, NULL stack).
    GoExec,
    /// CPython `subprocess` (`_posixsubprocess`: vfork, or fork).
    PythonSubprocess,
    /// CPython `os.fork()`.
    PythonFork,
    /// libuv `uv_spawn()` (Node's `child_process`).
    LibuvSpawn,
    /// Rust std `process::Command` spawn.
    RustCommand,
    /// Rust std `thread::spawn` / `thread::Builder`.
    RustThread,
    /// A JVM thread (`os::create_thread`).
    JvmThread,
    /// A JVM child process (`ProcessImpl` → `forkAndExec`).
    JvmProcess,
    /// A raw system call: `syscall(SYS_clone, …)` or the program's own `syscall` instruction.
    Syscall,
}

/// What a creation's child stack lies in, read from the creator's `/proc/PID/maps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// An anonymous private mapping: how thread stacks are made (with a guard page below).
    Mmap,
    /// A binary's `.bss` (a static zero-initialised array, the seeds' `char stack[…]`).
    Bss,
    /// A binary's `.data` (a static initialised array).
    Data,
    /// The heap (`[heap]`, malloc'd memory below the brk).
    Heap,
    /// The creator's main stack (`[stack]`): e.g. musl posix_spawn's child stack.
    MainStack,
    /// Some other file-backed mapping.
    File,
    /// No mapping holds the address (the call fails or the child faults).
    Unmapped,
}

/// The region a stack lies in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackRegion {
    pub kind: RegionKind,
    /// The mapping (or, for `.bss`/`.data`, the section) holding it.
    #[serde(with = "super::addr")]
    pub start: u64,
    #[serde(with = "super::addr")]
    pub end: u64,
    /// Bytes of inaccessible (PROT_NONE) mapping just below it: a guard page, 0 when none.
    #[serde(default)]
    pub guard: u64,
    /// The binary whose section or file mapping it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// In `.bss`/`.data`: the static variable (array) holding it, when the binary names it;
    /// `start` and `end` are then the variable's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
}

/// One frame of a creator's user stack, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    #[serde(with = "super::addr")]
    pub address: u64,
    /// The function (demangled for Rust), `null` when no symbol covers the address.
    pub function: Option<String>,
    /// Bytes past the function's start.
    #[serde(default)]
    pub offset: u64,
    /// The mapped file the address lies in, `null` for anonymous code (a JIT).
    pub object: Option<String>,
}

/// A resource limit: `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RLimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

impl RLimit {
    /// From the kernel's values, where `RLIM_INFINITY` means no limit.
    pub fn from_raw(soft: u64, hard: u64) -> Self {
        let value = |v: u64| (v != libc::RLIM_INFINITY).then_some(v);
        RLimit {
            soft: value(soft),
            hard: value(hard),
        }
    }
}
