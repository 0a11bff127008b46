//! event: the one type that crosses from the tracer to everything else. Its serde form *is* the
//! JSON-lines record (`--json`), so a recording replays through exactly the same model and renderers.
//!
//! # JSON lines format (version 1)
//!
//! One JSON object per line, tagged by `type`. `time` is seconds (float) since the trace started.
//! Pids and tids are integers as seen from the tracer's PID namespace; sizes are integers; addresses
//! are hex strings (`"0x7f…"`), `null` when zero; flags and signals are names.
//!
//! | type | fields |
//! |---|---|
//! | `header` | `format` (1), `version`, `command` (argv), `start` (UTC, RFC 3339), `kernel`, `arch`, `mode` (`default`/`syscalls`), `tracer_pid`, `backend` (the engine: `ptrace` or `ebpf`; absent in recordings made before engines were named, which are ptrace's) |
//! | `attach` | `time`, `pid`, `tgid`, `parent` (its process's parent), `path` and `argv` (for a process: what it runs; `null` for a thread): a task already running when clonetrace attached with `-p` |
//! | `create` | `time`, `pid` (creator tid), `tgid` (creator tgid), `syscall` (`fork`/`vfork`/`clone`/`clone3`; `unknown` when the creator was killed before its call could be seen: then only `child`, `child_tgid`, `parent` and `kind` are known), `flags` (names in kernel bit order; unknown bits as one `"0x…"`; for clone the low exit-signal byte is not a flag), `exit_signal` (name, `null` for 0), `stack`, `stack_size` (clone3 only), `tls`, `parent_tid`, `child_tid`, `pidfd` (clone3's pidfd pointer), `set_tid` (clone3's array, read from the tracee), `cgroup` (clone3 with `CLONE_INTO_CGROUP`), `clone3_size`, `clone3_args` (the struct's address), `clone3_tail` (true when bytes past the known struct are non-zero), `parent_tid_value` (tid the kernel stored at `parent_tid`; `null` with the eBPF engine, which sees the call before the kernel stores it), `pidfd_value` (fd number the kernel stored; `null` with the eBPF engine, likewise), `child` (new tid), `child_tgid`, `parent` (the new task's real parent tgid: differs from `tgid` with `CLONE_PARENT`), `kind` (`thread`/`vm-shared`/`process`), `nspid` (the child's pid in each nested PID namespace, outermost first, when it is in a namespace other than the tracer's), `unreadable` (fields the tracer could not read, e.g. `clone3_args`, `set_tid`, `parent_tid_value` from the creator's memory, or `pid` and `parent` of a task whose creator was killed and that vanished: their values here are not data; omitted when none), `via` (the library call behind it, from its signature and the code it returns to: `glibc_fork`, `glibc_vfork`, `glibc_posix_spawn`, `glibc_system`, `glibc_popen`, `glibc_pthread_create`, `glibc_clone`, `musl_fork`, `musl_vfork`, `musl_posix_spawn`, `musl_pthread_create`, `musl_clone`, `go_runtime_thread`, `go_exec`, `python_subprocess`, `python_fork`, `libuv_spawn`, `rust_command`, `rust_thread`, `jvm_thread`, `jvm_process`, `syscall`; omitted when unsure), `stack_region` (what the child stack lies in: `kind` `mmap`/`bss`/`data`/`heap`/`main_stack`/`file`/`unmapped`, `start`, `end`, `guard` bytes below, `object`, `variable` (the static array, when named)), `rlimit_stack` (thread creations: the creator's RLIMIT_STACK `soft`/`hard`, `null` for unlimited), `backtrace` (`--backtrace`: the creator's stack, innermost first: `address`, `function`, `offset`, `object`), `cgroup_path` (with `CLONE_INTO_CGROUP`: the directory its `cgroup` fd names; omitted otherwise; ptrace engine only) |
//! | `create_failed` | `--syscalls` only: `time`, `pid`, `tgid`, `syscall`, `flags`, `exit_signal` (as in `create`), `errno` (`EAGAIN`, `EINVAL`, `EPERM`, …), `unreadable` (`clone3_args` when the struct could not be read: `flags` and `exit_signal` are then not data), `rlimit_nproc` (EAGAIN: the creator's RLIMIT_NPROC `soft`/`hard`), `user_tasks` (EAGAIN: its real user's tasks then), `cap_sys_admin` (EPERM: whether it had the capability) |
//! | `exec` | `time`, `pid`, `tgid`, `path` (filename as passed to execve), `argv`, `old_pid` (the tid before exec when a non-leader thread exec'd; that thread's tid is now `pid`), `nspid` (as in `create`, when the process is in a PID namespace below the tracer's), `vanished` (tids of the other threads the exec ended; omitted when none), `unreadable` (`path`, `argv` when /proc could not give them), `exe` (what the kernel runs, `/proc/PID/exe`, where it differs from `path`: a symlink's target, the binary behind `/proc/self/exe` or `/dev/fd/N`; omitted otherwise; ptrace engine only) |
//! | `signal` | `time`, `pid`, `tgid`, `signal` (a signal delivered to the task, SIGKILL aside; the ptrace engine re-injects it; the eBPF engine also reports, where they are sent, the signals the task ignores and a fatal one that kills its group at once, which an untraced task never dequeues) |
//! | `exit` | `time`, `pid`, `tgid`, `code` (exit code or `null`), `signal` (killing signal or `null`), `core_dumped`, `stack_used` and `stack_size` (`--stack-usage`: bytes of its stack it had mapped alone at its end, of a stack of that size) |
//! | `leader_exit` | `time`, `pid`, `threads` (a thread-group leader left with pthread_exit while that many other threads run: it stays a zombie holding the pid until they end; its `exit` comes then, with the process's status) |
//! | `wait` | `--syscalls` only: `time`, `pid`, `tgid` (the waiter), `syscall` (`wait4`/`waitid`), `idtype` (waitid's `P_ALL`/`P_PID`/`P_PGID`/`P_PIDFD`, `null` for wait4), `id` (wait4's pid argument or waitid's id), `options` (names), `child` (the pid it returned), `reaped` (it collected an exit rather than a stop) |
//! | `reap` | `time`, `pid`, `reaper` (tgid), `relation` (`parent`/`subreaper`/`init`/`tracer`/`auto`), `zombie_seconds` |
//! | `reparent` | `time`, `pid`, `from`, `to` (tgids), `relation` (what the adopter is: `subreaper` or `init`) |
//! | `namespaces` | `time`, `pid`, `tgid` (a process), `new` (the kinds it holds that its parent does not, as `/proc/PID/ns/` names: `cgroup`, `ipc`, `mnt`, `net`, `pid`, `pid_for_children`, `time`, `time_for_children`, `user`, `uts`), `via` (`clone`: CLONE_NEW* at its creation, or for a child's `pid`, how its creator's `pid_for_children` came; `unshare`; `setns`: entered existing ones; `unknown`: seen by comparing `/proc/PID/ns/` at a creation or exec, without the call), `ids` (each new namespace's inode number), `from_pid` (whose namespaces a setns entered, when known, else `null`), `flags` (`--syscalls`: unshare's flags or setns's nstype; omitted otherwise); ptrace engine only, as are `id_maps` and `cgroup` |
//! | `id_maps` | `time`, `pid`, `tgid`, `uid_map`, `gid_map` (the first process of a new user namespace, once its maps are written: `[inside, outside, count]` ranges) |
//! | `cgroup` | `time`, `pid`, `tgid`, `path` (a process's cgroup, read at exec, where it differs from its parent's: the unified path, or `controllers:path` of the first v1 hierarchy that differs) |
//! | `end` | `time`, `exit_code` (the tracer's own exit status: the command's code, or 128+signal) |
//! | `lost` | `time`, `count` (eBPF engine: records the kernel had no room for in its ring buffer since the previous `lost`; the tasks they were about may be missing or incomplete: the trace is not complete) |
//!
//! Format 1 grows only by addition (new record types, new fields); readers skip what they don't
//! know, with one warning per kind. An incompatible change bumps `format`.
//!
//! A task's events always come after its `create` (or, for the traced command, after the header:
//! its `exec` comes first unless it was killed before its exec completed), and its `exit` before
//! its `reap`. A pid can appear in several `create`s of one trace: each starts a new task.

use serde::{Deserialize, Serialize};

pub mod call;
mod explain;
mod values;
pub use explain::{Frame, RLimit, RegionKind, StackRegion, Via};
pub use values::{
    CloneFlags, Errno, IdType, Mode, NsKind, NsVia, Signo, StartTime, Syscall, WaitCall,
    WaitOptions,
};

/// The JSON-lines format version written in the header.
pub const FORMAT_VERSION: u32 = 1;

/// Process and thread ids, as seen from the tracer's PID namespace.
pub type Pid = i32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Header(Header),
    Attach(Attach),
    Create(Create),
    CreateFailed(CreateFailed),
    Exec(Exec),
    Signal(Signal),
    Exit(Exit),
    LeaderExit(LeaderExit),
    Wait(Wait),
    Reap(Reap),
    Reparent(Reparent),
    Namespaces(Namespaces),
    IdMaps(IdMaps),
    Cgroup(Cgroup),
    End(End),
    Lost(Lost),
}

impl Event {
    /// When it happened, for the records that say.
    pub fn time(&self) -> Option<f64> {
        match self {
            Event::Header(_) => None,
            Event::Attach(e) => Some(e.time),
            Event::Create(e) => Some(e.time),
            Event::CreateFailed(e) => Some(e.time),
            Event::Exec(e) => Some(e.time),
            Event::Signal(e) => Some(e.time),
            Event::Exit(e) => Some(e.time),
            Event::LeaderExit(e) => Some(e.time),
            Event::Wait(e) => Some(e.time),
            Event::Reap(e) => Some(e.time),
            Event::Reparent(e) => Some(e.time),
            Event::Namespaces(e) => Some(e.time),
            Event::IdMaps(e) => Some(e.time),
            Event::Cgroup(e) => Some(e.time),
            Event::End(e) => Some(e.time),
            Event::Lost(e) => Some(e.time),
        }
    }

    /// The record's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Header(_) => "header",
            Event::Attach(_) => "attach",
            Event::Create(_) => "create",
            Event::CreateFailed(_) => "create_failed",
            Event::Exec(_) => "exec",
            Event::Signal(_) => "signal",
            Event::Exit(_) => "exit",
            Event::LeaderExit(_) => "leader_exit",
            Event::Wait(_) => "wait",
            Event::Reap(_) => "reap",
            Event::Reparent(_) => "reparent",
            Event::Namespaces(_) => "namespaces",
            Event::IdMaps(_) => "id_maps",
            Event::Cgroup(_) => "cgroup",
            Event::End(_) => "end",
            Event::Lost(_) => "lost",
        }
    }
}

/// A record type's field names, as serde's derive lists them.
pub type FieldList = fn() -> &'static [&'static str];

/// Each record type with the fields this version reads, taken from serde's own derive (so they
/// cannot drift from the structs): what a reader of a newer recording can tell it skipped.
pub const RECORD_FIELDS: &[(&str, FieldList)] = &[
    ("header", fields_of::<Header>),
    ("attach", fields_of::<Attach>),
    ("create", fields_of::<Create>),
    ("create_failed", fields_of::<CreateFailed>),
    ("exec", fields_of::<Exec>),
    ("signal", fields_of::<Signal>),
    ("exit", fields_of::<Exit>),
    ("leader_exit", fields_of::<LeaderExit>),
    ("wait", fields_of::<Wait>),
    ("reap", fields_of::<Reap>),
    ("reparent", fields_of::<Reparent>),
    ("namespaces", fields_of::<Namespaces>),
    ("id_maps", fields_of::<IdMaps>),
    ("cgroup", fields_of::<Cgroup>),
    ("end", fields_of::<End>),
    ("lost", fields_of::<Lost>),
];

/// The field names a derived `Deserialize` struct asks for, caught by a deserializer that only
/// listens.
fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Catcher<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Catcher<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only the fields are wanted"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the fields are wanted"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Catcher(&mut fields));
    fields
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub version: String,
    pub command: Vec<String>,
    pub start: StartTime,
    pub kernel: String,
    pub arch: String,
    pub mode: Mode,
    pub tracer_pid: Pid,
    /// The engine that made the record; `None` in recordings older than this field (ptrace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<Backend>,
}

/// The engine that traced: ptrace stops the tracee at each event; eBPF copies from kernel
/// tracepoints and never stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Ptrace,
    Ebpf,
}

/// A task that was already running when clonetrace attached (`-p`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attach {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    /// Its process's parent (tgid).
    pub parent: Pid,
    /// For a process: the program it runs (`/proc/PID/exe`) and its argv.
    pub path: Option<String>,
    pub argv: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `CLONE_THREAD`: same thread group, same TGID.
    Thread,
    /// `CLONE_VM` without `CLONE_THREAD`: a process sharing its parent's memory until it execs
    /// (vfork, posix_spawn).
    VmShared,
    /// A process with its own copy-on-write memory.
    #[default]
    Process,
}

impl Kind {
    /// What a creation with these flags makes: `CLONE_THREAD` a thread, `CLONE_VM` alone a
    /// process sharing its creator's memory, anything else a process of its own.
    pub fn of(flags: CloneFlags) -> Kind {
        if flags.contains(CloneFlags::THREAD) {
            Kind::Thread
        } else if flags.contains(CloneFlags::VM) {
            Kind::VmShared
        } else {
            Kind::Process
        }
    }
}

/// Serialises an address as `"0x…"`, and zero (NULL) as `null`.
pub mod addr {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        if *value == 0 {
            s.serialize_none()
        } else {
            s.serialize_str(&format!("{value:#x}"))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(0),
            Some(text) => {
                let digits = text.strip_prefix("0x").unwrap_or(&text);
                u64::from_str_radix(digits, 16).map_err(serde::de::Error::custom)
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Create {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub syscall: Syscall,
    pub flags: CloneFlags,
    pub exit_signal: Option<Signo>,
    #[serde(with = "addr")]
    pub stack: u64,
    pub stack_size: Option<u64>,
    #[serde(with = "addr")]
    pub tls: u64,
    #[serde(with = "addr")]
    pub parent_tid: u64,
    #[serde(with = "addr")]
    pub child_tid: u64,
    #[serde(with = "addr", default)]
    pub pidfd: u64,
    #[serde(default)]
    pub set_tid: Option<Vec<Pid>>,
    #[serde(default)]
    pub cgroup: Option<u64>,
    #[serde(default)]
    pub clone3_size: Option<u64>,
    #[serde(with = "addr", default)]
    pub clone3_args: u64,
    #[serde(default)]
    pub clone3_tail: bool,
    #[serde(default)]
    pub parent_tid_value: Option<Pid>,
    #[serde(default)]
    pub pidfd_value: Option<i32>,
    pub child: Pid,
    pub child_tgid: Pid,
    pub parent: Pid,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nspid: Option<Vec<Pid>>,
    /// Fields the tracer could not read from the tracee: their values here are not data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// `CLONE_INTO_CGROUP`: the cgroup directory its `cgroup` fd names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_path: Option<String>,
    /// The library call behind it, when the evidence settles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// What the child's stack lies in, from the creator's mappings (creations with a stack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_region: Option<Box<StackRegion>>,
    /// The creator's RLIMIT_STACK soft limit (`None` inside: unlimited), for thread creations:
    /// glibc sizes a default thread stack by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rlimit_stack: Option<RLimit>,
    /// `--backtrace`: the creator's user stack at the call, innermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backtrace: Vec<Frame>,
}

/// A creation call that failed (`--syscalls` only: a failure produces no fork event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateFailed {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub syscall: Syscall,
    pub flags: CloneFlags,
    pub exit_signal: Option<Signo>,
    pub errno: Errno,
    /// As in `Create`: `clone3_args` when the struct could not be read (then `flags` and
    /// `exit_signal` are not data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// EAGAIN: the creator's RLIMIT_NPROC when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rlimit_nproc: Option<RLimit>,
    /// EAGAIN: how many tasks (threads included) its real user had then, as RLIMIT_NPROC counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_tasks: Option<u64>,
    /// EPERM: whether the creator had CAP_SYS_ADMIN (which namespace flags need).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_sys_admin: Option<bool>,
}

/// A wait call that returned a child (`--syscalls` only). Its options are named after its call,
/// so its serde form goes through `WaitRecord`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WaitRecord", try_from = "WaitRecord")]
pub struct Wait {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub syscall: WaitCall,
    /// waitid's idtype; `None` for wait4.
    pub idtype: Option<IdType>,
    /// wait4's pid argument, or waitid's id.
    pub id: i64,
    pub options: WaitOptions,
    /// The child it returned.
    pub child: Pid,
    /// Whether the call collected an exit (a reap), not a stop or continue.
    pub reaped: bool,
}

/// The `wait` record as written: `Wait` with its options by name.
#[derive(Serialize, Deserialize)]
struct WaitRecord {
    time: f64,
    pid: Pid,
    tgid: Pid,
    syscall: WaitCall,
    idtype: Option<IdType>,
    id: i64,
    options: Vec<String>,
    child: Pid,
    reaped: bool,
}

impl From<Wait> for WaitRecord {
    fn from(w: Wait) -> Self {
        WaitRecord {
            time: w.time,
            pid: w.pid,
            tgid: w.tgid,
            syscall: w.syscall,
            idtype: w.idtype,
            id: w.id,
            options: w.options.names(w.syscall),
            child: w.child,
            reaped: w.reaped,
        }
    }
}

impl TryFrom<WaitRecord> for Wait {
    type Error = String;

    fn try_from(w: WaitRecord) -> Result<Self, String> {
        Ok(Wait {
            time: w.time,
            pid: w.pid,
            tgid: w.tgid,
            syscall: w.syscall,
            idtype: w.idtype,
            id: w.id,
            options: WaitOptions::from_names(&w.options)
                .ok_or_else(|| format!("unknown wait option in {:?}", w.options))?,
            child: w.child,
            reaped: w.reaped,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exec {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub path: String,
    pub argv: Vec<String>,
    pub old_pid: Option<Pid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nspid: Option<Vec<Pid>>,
    /// Other threads of the process still running when it exec'd: the exec ends them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vanished: Vec<Pid>,
    /// `path` and/or `argv` when /proc could not give them (the task vanished).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// The program the kernel actually runs (`/proc/PID/exe`) where it differs from `path`:
    /// `/proc/self/exe`, `/dev/fd/N`, a memfd, a symlink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub signal: Signo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    pub code: Option<i32>,
    pub signal: Option<Signo>,
    pub core_dumped: bool,
    /// `--stack-usage`: bytes of its stack resident at its end (pages it touched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_used: Option<u64>,
    /// `--stack-usage`: the size of the stack that was measured (a thread's stack, or a
    /// process's RLIMIT_STACK soft limit; `None` inside `stack_used`'s absence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_size: Option<u64>,
}

/// A thread-group leader left on its own (pthread_exit) while `threads` other threads of its
/// process run on: it is a zombie holding the process's pid until the last of them ends, when
/// its `exit` comes with the process's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderExit {
    pub time: f64,
    pub pid: Pid,
    pub threads: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The process's original parent collected it with a wait call.
    Parent,
    /// An ancestor that set `PR_SET_CHILD_SUBREAPER` adopted and reaped it.
    Subreaper,
    /// The PID namespace's init adopted and reaped it.
    Init,
    /// clonetrace itself: the traced command's parent.
    Tracer,
    /// Reaped by the kernel at exit: the parent ignores `SIGCHLD` or set `SA_NOCLDWAIT`.
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reap {
    pub time: f64,
    pub pid: Pid,
    pub reaper: Pid,
    pub relation: Relation,
    pub zombie_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reparent {
    pub time: f64,
    pub pid: Pid,
    pub from: Pid,
    pub to: Pid,
    /// What the adopter is: `subreaper` or `init`.
    pub relation: Relation,
}

/// A task holds namespaces its parent does not (or, for `*_for_children`, its children will be
/// created in new ones), and how it got them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Namespaces {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    /// The kinds that are new to it, in `/proc/PID/ns/` order.
    pub new: Vec<NsKind>,
    pub via: NsVia,
    /// Each new namespace's identity (the inode number of its `/proc/PID/ns/` link).
    pub ids: std::collections::BTreeMap<NsKind, u64>,
    /// Whose namespaces it entered (`setns`), when that can be known.
    pub from_pid: Option<Pid>,
    /// `--syscalls`: the call's own argument (unshare's flags, setns's nstype).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<CloneFlags>,
}

/// The uid and gid mappings of a new user namespace, read from its first process once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdMaps {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    /// `[inside, outside, count]` ranges: `[0, 1000, 1]` is uid 0 inside = 1000 outside.
    pub uid_map: Vec<[u64; 3]>,
    pub gid_map: Vec<[u64; 3]>,
}

/// A process is in a cgroup other than its parent's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cgroup {
    pub time: f64,
    pub pid: Pid,
    pub tgid: Pid,
    /// Its cgroup: the unified (v2) path, or on a v1 or hybrid machine the first hierarchy's
    /// path that differs from its parent's, prefixed with that hierarchy's controllers
    /// (`memory:/docker/…`).
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub time: f64,
    pub exit_code: i32,
}

/// Records the kernel side could not hand over (eBPF: its ring buffer was full): whatever they
/// were about is missing from the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lost {
    pub time: f64,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README mirrors this module's field table; the two must not drift apart.
    #[test]
    fn readme_documents_the_same_fields() {
        let table = |text: &str, prefix: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .filter(|l| l.starts_with('|'))
                .map(str::to_string)
                .collect()
        };
        let ours = table(include_str!("event.rs"), "//! ");
        let readme = include_str!("../README.md");
        let start = readme
            .find("<!-- event-schema:start -->")
            .expect("README schema marker");
        let end = readme
            .find("<!-- event-schema:end -->")
            .expect("README schema end marker");
        assert_eq!(table(&readme[start..end], ""), ours);
    }

    /// The record types `kind` names and those `RECORD_FIELDS` lists are the same set, so a
    /// reader never takes a type of its own for a newer one.
    #[test]
    fn record_kinds_and_field_lists_agree() {
        let exit = Event::Exit(Exit {
            time: 0.0,
            pid: 1,
            tgid: 1,
            code: Some(0),
            signal: None,
            core_dumped: false,
            stack_used: None,
            stack_size: None,
        });
        let text = serde_json::to_value(&exit).unwrap();
        assert_eq!(text["type"], exit.kind());
        let listed: Vec<&str> = RECORD_FIELDS.iter().map(|(k, _)| *k).collect();
        let variants = [
            "header",
            "attach",
            "create",
            "create_failed",
            "exec",
            "signal",
            "exit",
            "leader_exit",
            "wait",
            "reap",
            "reparent",
            "namespaces",
            "id_maps",
            "cgroup",
            "end",
            "lost",
        ];
        assert_eq!(listed, variants);
        for kind in variants {
            let tagged = format!(r#"{{"type":"{kind}"}}"#);
            let error = serde_json::from_str::<Event>(&tagged)
                .unwrap_err()
                .to_string();
            assert!(
                !error.contains("unknown variant"),
                "{kind} is no Event: {error}"
            );
        }
    }

    #[test]
    fn every_record_type_lists_its_fields() {
        let fields: Vec<(&str, &[&str])> = RECORD_FIELDS.iter().map(|(k, f)| (*k, f())).collect();
        assert!(fields.iter().all(|(_, f)| !f.is_empty()), "{fields:?}");
        let wait = fields.iter().find(|(k, _)| *k == "wait").unwrap().1;
        assert!(wait.contains(&"options") && wait.contains(&"idtype"));
        let create = fields.iter().find(|(k, _)| *k == "create").unwrap().1;
        assert!(create.contains(&"clone3_tail") && create.contains(&"nspid"));
    }

    /// Typed in memory, the same bytes on disk: every record a release before the typed core
    /// wrote reads into values and writes back identical.
    #[test]
    fn recordings_of_the_untyped_release_round_trip_byte_for_byte() {
        for text in [
            include_str!("../tests/golden/release-0.1/waitid_pid.jsonl"),
            include_str!("../tests/golden/release-0.1/threads3.jsonl"),
            include_str!("../tests/golden/release-0.1/subreaper_orphan.jsonl"),
        ] {
            for line in text.lines() {
                let event: Event =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(serde_json::to_string(&event).unwrap(), line);
            }
        }
    }

    /// The field names and shapes scripts rely on, pinned.
    #[test]
    fn json_schema_is_pinned() {
        let exit = Event::Exit(Exit {
            time: 0.5,
            pid: 12,
            tgid: 12,
            code: None,
            signal: Some(Signo(libc::SIGKILL)),
            core_dumped: false,
            stack_used: None,
            stack_size: None,
        });
        assert_eq!(
            serde_json::to_string(&exit).unwrap(),
            r#"{"type":"exit","time":0.5,"pid":12,"tgid":12,"code":null,"signal":"SIGKILL","core_dumped":false}"#
        );
        let reap = Event::Reap(Reap {
            time: 1.0,
            pid: 12,
            reaper: 11,
            relation: Relation::Subreaper,
            zombie_seconds: 0.25,
        });
        assert_eq!(
            serde_json::to_string(&reap).unwrap(),
            r#"{"type":"reap","time":1.0,"pid":12,"reaper":11,"relation":"subreaper","zombie_seconds":0.25}"#
        );
        let create: Event = serde_json::from_str(
            r#"{"type":"create","time":0.1,"pid":10,"tgid":10,"syscall":"clone3","flags":["CLONE_VM","CLONE_VFORK"],"exit_signal":"SIGCHLD","stack":"0x7f0000001000","stack_size":36864,"tls":null,"parent_tid":null,"child_tid":null,"pidfd":null,"set_tid":null,"cgroup":null,"clone3_size":88,"clone3_args":"0x7ffc00000010","clone3_tail":false,"parent_tid_value":null,"pidfd_value":null,"child":11,"child_tgid":11,"parent":10,"kind":"vm-shared"}"#,
        )
        .unwrap();
        let Event::Create(c) = &create else {
            panic!("not a create")
        };
        assert_eq!(
            (c.stack, c.stack_size, c.kind, c.syscall),
            (
                0x7f00_0000_1000,
                Some(36864),
                Kind::VmShared,
                Syscall::Clone3
            )
        );
        assert_eq!(c.flags, CloneFlags(CloneFlags::VM | CloneFlags::VFORK));
        assert_eq!(c.exit_signal, Some(Signo::SIGCHLD));
        let round_trip: Event =
            serde_json::from_str(&serde_json::to_string(&create).unwrap()).unwrap();
        assert_eq!(round_trip, create);
    }
}
